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
RESULT_KIND.png (RESULT_animation.gif) next to the result.

Default kinds: trajectories heatmap network for a run; sweep for a sweep; trials and
conditions for a trial protocol; basins (the basin fractions) for an attractor catalogue
written by 'thoughtfield attractors'. One point of a sweep is picked with --sel
DIM=VALUE (repeatable, one per sweep dimension; the value must be one of the dimension's
values, up to rounding) or --point N (its index, row-major, as in 'thoughtfield sweep
--point'); one attractor of a catalogue with --sel attractor=K (kind network). The figures then get the selection in their names.

A figure that exists is replaced only when thoughtfield drew it from the same result
(figures carry the program and the result file in their metadata: PNG text, SVG and PDF
document information), e.g. after 'thoughtfield run ... --plot'; any other file (an
animation included) needs --force (or another --out)."""
EXAMPLES = """\
  thoughtfield plot quickstart.nc --kind heatmap --out heatmap.png
  thoughtfield plot quickstart.nc --kind trajectories network --time 12
  thoughtfield plot quickstart.nc --kind overview --dpi 110 --out overview.png
  thoughtfield plot quickstart.nc --kind animation --frames 20 --out spreading.gif
  thoughtfield run simulations/choice_lca.toml --out lca.nc --quiet
  thoughtfield plot lca.nc --kind trajectories --member 3 --top 5
  thoughtfield sweep simulations/choice_sweep.toml --out choice.nc --quiet
  thoughtfield plot choice.nc --sel evidence=1.05 --sel noise=0.1 --kind trajectories
  thoughtfield plot choice.nc --point 7 --kind heatmap
  thoughtfield attractors simulations/switch.toml --out switch_att.nc --quiet
  thoughtfield plot switch_att.nc
  thoughtfield plot switch_att.nc --sel attractor=0 --kind network"""


def _kinds():
    from ..plots import plot_kinds
    return list(plot_kinds())


def add_arguments(p):
    p.add_argument("result", metavar="RESULT", help="result file (.nc)")
    p.add_argument("--kind", "-k", nargs="+", default=None, metavar="KIND",
                   help="figure kinds (default: trajectories heatmap network; sweep for a "
                        "sweep, basins for an attractor catalogue): trajectories, layers, "
                        "heatmap, network, overview, the mechanisms' kinds (see above), "
                        "basins, or animation (a GIF)")
    p.add_argument("--sel", action="append", default=[], metavar="DIM=VALUE",
                   help="plot one point of a sweep (or one attractor of a catalogue): the "
                        "point where DIM equals VALUE (up to rounding); repeatable")
    p.add_argument("--point", type=int, default=None, metavar="N",
                   help="plot sweep point N (row-major index over the sweep dimensions)")
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
    from ._common import figure_paths, own_figure, refuse_existing, save_figure
    ds = None
    if args.kind is None or args.sel or args.point is not None:
        ds = load_result(args.result)
        ds, picked = select(ds, args.sel, args.point)
    else:
        picked = ""
    kinds = args.kind or default_kinds(ds, picked)
    known = _kinds() + ["animation"]
    for k in kinds:
        if k not in known:
            raise ConfigError(f"--kind: unknown plot kind {k!r}; the kinds are {', '.join(known)}"
                              + V.did_you_mean(k, known))
    if ds is None:
        ds = load_result(args.result)
    if "time" not in ds.dims and ds.attrs.get("thoughtfield_result") != "fit":
        # an attractor catalogue, one attractor, or per-trial readouts
        allowed = STATE_KINDS + (TRIAL_KINDS if "trial" in ds.dims else ())
        bad = [k for k in kinds if k not in allowed or (k == "basins" and
                                                        "attractor" not in ds.dims)]
        if bad and "trial" in ds.dims:
            raise ConfigError(f"--kind {bad[0]}: this protocol result keeps per-trial readouts "
                              f"only; plot them with --kind {' or '.join(TRIAL_KINDS)}, or keep "
                              "the time courses ([protocol] record = true)")
        if bad and "attractor" in ds.dims:
            raise ConfigError(f"--kind {bad[0]}: an attractor catalogue has no time course; "
                              "plot it with --kind basins, or one attractor with --sel "
                              "attractor=K --kind network")
        if bad:
            raise ConfigError(f"--kind {bad[0]}: the result is one state without a time "
                              "course (e.g. one attractor of a catalogue); plot it with "
                              "--kind network")
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
    if args.out and len(kinds) == 1:
        targets = [(kinds[0], args.out)]
    else:
        base = args.out or args.result
        if picked and not args.out:
            stem, ext = os.path.splitext(base)
            base = f"{stem}_{picked}{ext}"
        targets = [(k, p if k != "animation" else os.path.splitext(p)[0] + "." + movie)
                   for k, p in figure_paths(base, kinds, fmt)]
    # a figure thoughtfield drew from this result may be drawn again; anything else: --force
    refuse_existing([p for _, p in targets], args.force, replaceable=own_figure(args.result))
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
        save_figure(ds, kind, path, dpi=args.dpi or 150, source=args.result, **opts)
        print(f"wrote {path}")
    return 0


def is_catalogue(ds) -> bool:
    """An attractor catalogue (``thoughtfield attractors``): activation(attractor, concept)."""
    return "attractor" in ds.dims and "basin_fraction" in ds and "time" not in ds.dims


def default_kinds(ds, picked: str = "") -> list[str]:
    from ..sweeps import sweep_dims
    if ds.attrs.get("thoughtfield_result") == "fit":   # thoughtfield fit
        return ["qp", "rt_hist", "fit_trace"]
    if is_catalogue(ds):
        return ["basins"]
    if sweep_dims(ds):
        return ["sweep"]
    if "time" not in ds.dims:   # one attractor picked from a catalogue
        return ["network"]
    if "trial" in ds.dims:      # a trial protocol
        kinds = (["trials"] if "response_time" in ds else []) + (
            ["conditions"] if "activation" in ds and "trial" in ds["activation"].dims else [])
        return kinds or ["trials"]
    return ["trajectories", "heatmap", "network"]


#: The kinds that draw one state rather than a time course (results without time).
STATE_KINDS = ("network", "basins")
#: The kinds that draw per-trial readouts of a protocol (no time course needed).
TRIAL_KINDS = ("trials", "learning", "condition_rt", "trial_course")


def _parse_value(text: str):
    """A number when it looks like one (int, then float), else the text."""
    import contextlib
    t = text.strip()
    for conv in (int, float):
        with contextlib.suppress(ValueError):
            return conv(t)
    return t


def _show(values) -> str:
    vals = [v.item() if hasattr(v, "item") else v for v in values]
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in vals[:20])
    return shown + (f", ... ({len(vals)} values)" if len(vals) > 20 else "")


def _dims_to_pick(ds) -> list[str]:
    from ..sweeps import sweep_dims
    if is_catalogue(ds):
        return ["attractor"]
    return sweep_dims(ds)


def select(ds, sels, point):
    """``(ds at the selected point, a file-name tag)``: ``--sel DIM=VALUE`` (exact values
    of a sweep dimension, or of a coordinate along one) and ``--point N``."""
    import numpy as np

    from .. import _validate as V
    from ..errors import ConfigError
    dims = _dims_to_pick(ds)
    tags = []
    if point is not None:
        if sels:
            raise ConfigError("--point: give either --point or --sel, not both")
        if not dims:
            raise ConfigError(f"--point: the result is not a sweep (its dimensions are "
                              f"{', '.join(ds['activation'].dims) if 'activation' in ds else 'none'})")
        sizes = [ds.sizes[d] for d in dims]
        total = int(np.prod(sizes))
        try:
            n = V.integer("--point", point, min=0, max=total - 1)
        except ConfigError as e:
            raise e.hinted(f"; the sweep has {total} points ("
                           + " x ".join(f"{d} {s}" for d, s in zip(dims, sizes)) + ")") from None
        idx = np.unravel_index(n, sizes)
        ds = ds.isel({d: int(i) for d, i in zip(dims, idx)})
        ds.attrs["selection"] = f"point {n}: " + ", ".join(
            f"{d} = {_show([ds[d].values])}" for d in dims if d in ds.coords)
        return ds, f"point{n}"
    done = []
    for item in sels:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key or not text.strip():
            raise ConfigError(f"--sel {item!r}: expected DIM=VALUE, e.g. --sel "
                              f"{dims[0] if dims else 'noise'}=0.1")
        dim, coord = key, key
        if key not in ds.dims and key in ds.coords and ds[key].ndim == 1:
            dim = ds[key].dims[0]   # a coordinate along a sweep dimension ("model.sigma")
        if dim not in dims:
            have = ", ".join(dims) if dims else "none: the result is not a sweep"
            raise ConfigError(f"--sel {item!r}: {key!r} is not a sweep dimension of the "
                              f"result; its sweep dimensions are {have}"
                              + V.did_you_mean(key, dims))
        if dim in done:
            raise ConfigError(f"--sel {item!r}: {dim!r} is selected twice")
        value = _parse_value(text)
        values = ds[coord].values if coord in ds.coords else np.arange(ds.sizes[dim])
        if values.dtype.kind in "fiu":   # equal up to rounding (linspace gives 0.09999...)
            hit = (np.flatnonzero(np.isclose(values, value, rtol=1e-9, atol=1e-12))
                   if not isinstance(value, str) else [])
        else:
            hit = np.flatnonzero(np.array([str(v) for v in values]) == text.strip())
        if len(hit) != 1:
            why = "no point has" if len(hit) == 0 else f"{len(hit)} points have"
            raise ConfigError(f"--sel {item!r}: {why} {coord} = {text.strip()} (up to rounding); the "
                              f"values of {coord} are {_show(values)}")
        shown = (f"{float(values[hit[0]]):.12g}" if values.dtype.kind in "fiu"
                 else text.strip())   # the value matched, however it was typed
        ds = ds.isel({dim: int(hit[0])})
        done.append(dim)
        tags.append((coord, shown))
    if tags:
        ds.attrs["selection"] = ", ".join(f"{c} = {v}" for c, v in tags)
    tag = "_".join(f"{c}={v}" for c, v in tags)
    import re
    return ds, re.sub(r"[^A-Za-z0-9._=+-]", "-", tag)
