"""``thoughtfield plot``: figures from a saved result."""

from __future__ import annotations

HELP = "draw figures from a saved result"
DESCRIPTION = """\
Draw figures from RESULT (a NetCDF file written by 'thoughtfield run'). Kinds:
trajectories (the most active concepts over time), layers (one panel per abstraction
layer), heatmap (concept x time, ordered by layer then peak time), network (a snapshot
coloured by activation at --time, default the end) and overview (all in one figure);
the mechanisms add conflict, ideas, layer_summary, evidence, conditions, trials, sweep,
energy and explanation. animation writes a GIF of the activation spreading over the
network, layer by layer, over time (at most --frames frames, default 60; .mp4 only
when ffmpeg is installed). With one kind, --out is the figure file; with several,
--out names the first part and each file gets _KIND appended. Default:
RESULT_KIND.png (RESULT_animation.gif) next to the result."""
EXAMPLES = """\
  thoughtfield plot quickstart.nc --kind heatmap --out heatmap.png
  thoughtfield plot quickstart.nc --kind trajectories network --time 12
  thoughtfield plot quickstart.nc --kind overview --dpi 110 --out overview.png
  thoughtfield plot quickstart.nc --kind animation --frames 20 --out spreading.gif
  thoughtfield run simulations/choice_lca.toml --out lca.nc --quiet
  thoughtfield plot lca.nc --kind trajectories --member 3 --top 5"""


def _kinds():
    from ..plots import plot_kinds
    return list(plot_kinds())


def add_arguments(p):
    p.add_argument("result", metavar="RESULT", help="result file (.nc)")
    p.add_argument("--kind", "-k", nargs="+", default=None, metavar="KIND",
                   help="figure kinds (default: trajectories heatmap network): trajectories, "
                        "layers, heatmap, network, overview, the mechanisms' kinds (see "
                        "above), or animation (a GIF)")
    p.add_argument("--out", "-o", metavar="FILE",
                   help="figure file (.png, .svg or .pdf; .gif, or .mp4 with ffmpeg, for "
                        "--kind animation)")
    p.add_argument("--frames", type=int, default=None,
                   help="animation: the most frames, evenly spread over the saved times "
                        "(default 60, at most 300)")
    p.add_argument("--time", type=float, default=None,
                   help="time of the network snapshot (default: the last saved time)")
    p.add_argument("--member", type=int, default=None,
                   help="ensemble member to show (default: the mean over members)")
    p.add_argument("--top", type=int, default=None,
                   help="number of concepts in trajectory plots (default 8)")
    p.add_argument("--dpi", type=int, default=None,
                   help="resolution of raster figures (default 150; animations 80)")
    p.add_argument("--force", "-f", action="store_true", help="overwrite existing figure files")


def main(args) -> int:
    import os

    from .. import _validate as V
    from ..errors import ConfigError
    from ..results import load_result
    from ._common import figure_paths, refuse_existing, save_figure
    kinds = args.kind or ["trajectories", "heatmap", "network"]
    known = _kinds() + ["animation"]
    for k in kinds:
        if k not in known:
            raise ConfigError(f"--kind: unknown plot kind {k!r}; the kinds are {', '.join(known)}"
                              + V.did_you_mean(k, known))
    if args.dpi is not None:
        V.integer("--dpi", args.dpi, min=20, max=1200)
    if args.frames is not None:
        if "animation" not in kinds:
            raise ConfigError("--frames: only for --kind animation")
        from ..plots import MAX_FRAMES
        V.integer("--frames", args.frames, min=2, max=MAX_FRAMES)
    fmt, movie = "png", "gif"
    if args.out:
        ext = os.path.splitext(args.out)[1].lower().lstrip(".")
        if kinds == ["animation"] or (ext in ("gif", "mp4") and "animation" in kinds):
            from ..plots import animation_format
            movie = animation_format(args.out)        # a clear error for anything else
        elif ext not in ("png", "svg", "pdf"):
            raise ConfigError(f"--out: {args.out!r} must end in .png, .svg or .pdf"
                              + (" (.gif or .mp4 for --kind animation)" if ext in ("gif", "mp4")
                                 else ""))
        else:
            fmt = ext
    ds = load_result(args.result)
    if args.out and len(kinds) == 1:
        targets = [(kinds[0], args.out)]
    else:
        targets = [(k, p if k != "animation" else os.path.splitext(p)[0] + "." + movie)
                   for k, p in figure_paths(args.out or args.result, kinds, fmt)]
    refuse_existing([p for _, p in targets], args.force)
    for kind, path in targets:
        opts = {}
        if args.member is not None:
            opts["member"] = args.member
        if kind == "animation":
            from ..plots import animate_network
            from ._common import use_agg
            use_agg()
            animate_network(ds, path, frames=args.frames or 60, dpi=args.dpi or 80, **opts)
            print(f"wrote {path}")
            continue
        if args.time is not None and kind in ("network", "overview"):
            opts["time"] = args.time
        if args.top is not None and kind in ("trajectories", "layers", "overview"):
            opts["top"] = args.top
        save_figure(ds, kind, path, dpi=args.dpi or 150, **opts)
        print(f"wrote {path}")
    return 0
