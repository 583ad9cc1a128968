"""``thoughtfield attractors``: the attractor catalogue of a config's network and model."""

from __future__ import annotations

HELP = "find the attractors (stable ideas) of a config's network, with basins and labels"
DESCRIPTION = """\
Catalogue the attractors of the network and model in CONFIG: random initial states
(uniform over the range of the transfer function) are integrated to convergence in one
ensemble run, refined to fixed points by Newton's method and clustered. Each attractor is
printed with its basin fraction and 95 % Wilson interval, its stability and slowest time
constant, its Lyapunov energy (symmetric weights) and a label: its most active concepts
and the idea it matches ([attractors] ideas). The catalogue is written as NetCDF
(dims attractor x concept). Settings come from the config's [attractors] section; the
options below override them. Without --inputs-at the stimuli are ignored: the network's
own attractors. Noise (model.sigma) is switched off."""
EXAMPLES = """\
  thoughtfield attractors simulations/switch.toml
  thoughtfield attractors simulations/switch.toml --samples 1000 --saddles --out switch_att.nc
  thoughtfield attractors simulations/switch.toml --inputs-at 0.5 --plot --force
  thoughtfield attractors simulations/holiday_ideas.toml --plot basins.png"""


def add_arguments(p):
    from ._common import add_set_argument
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML)")
    p.add_argument("--samples", "-n", type=int, default=None,
                   help="number of random initial states (default: [attractors] samples, 200)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the initial states (default: the config's seed, else random)")
    p.add_argument("--saddles", action="store_true",
                   help="also locate the saddles between pairs of attractors")
    p.add_argument("--inputs-at", type=float, default=None, metavar="TIME",
                   help="analyse with the config's stimuli frozen at TIME (default: no input)")
    p.add_argument("--out", "-o", metavar="PATH",
                   help="catalogue file (.nc; default: [attractors] path, else "
                        "CONFIG_NAME_attractors.nc)")
    p.add_argument("--plot", nargs="?", const=True, default=None, metavar="FILE",
                   help="also draw the basin fractions, into FILE (.png, .svg or .pdf) or "
                        "next to the catalogue as OUT_basins.png")
    add_set_argument(p)
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the table")
    p.add_argument("--force", "-f", action="store_true", help="overwrite existing output files")


def main(args) -> int:
    import os
    import time

    from .. import _validate as V
    from ..analysis import AttractorSettings, attractor_table, attractors
    from ..config import load_config
    from ..errors import ConfigError
    from ..results import save_result
    from ._common import figure_paths, refuse_existing
    t_start = time.perf_counter()
    cfg = load_config(args.config, overrides=args.sets)
    if getattr(cfg.solver, "discrete", False):
        raise ConfigError("solver.method: attractors analyse the continuous dynamics; this config "
                          f"uses the discrete method {cfg.solver.method!r}", key='solver.method')
    settings = cfg.section_object("attractors") or AttractorSettings()
    kw = {}
    if args.samples is not None:
        kw["samples"] = V.integer("--samples", args.samples, min=1)
    if args.saddles:
        kw["saddles"] = True
    inputs_at = settings.inputs_at if args.inputs_at is None else \
        V.real("--inputs-at", args.inputs_at, min=0.0)
    seed = args.seed if args.seed is not None else cfg.seed
    if seed is not None:
        seed = V.integer("--seed", seed, min=0)
    out = args.out or settings.path or f"{cfg.name}_attractors.nc"
    figures = []
    if isinstance(args.plot, str):
        ext = os.path.splitext(args.plot)[1].lower().lstrip(".")
        if ext not in ("png", "svg", "pdf"):
            raise ConfigError(f"--plot: {args.plot!r} must end in .png, .svg or .pdf")
        figures = [("basins", args.plot)]
    elif args.plot:
        figures = figure_paths(out, ["basins"], "png")
    refuse_existing([out] + [p for _, p in figures], args.force)
    stimuli = cfg.stimuli if inputs_at is not None else None
    ds = attractors(cfg.network, cfg.model, settings, seed=seed, stimuli=stimuli, t=inputs_at,
                    threads=cfg.run.threads, **kw)
    cfg.annotate(ds)
    ds.attrs["title"] = f"attractors of {cfg.name}"
    save_result(ds, out, overwrite=args.force)
    for kind, path in figures:
        from ._common import save_figure
        save_figure(ds, kind, path, dpi=150, source=out)
    if not args.quiet:
        print(attractor_table(ds))
        print(f"wrote {out}" + "".join(f", {p}" for _, p in figures)
              + f" ({time.perf_counter() - t_start:.1f} s)")
    elif not os.path.exists(out):  # pragma: no cover - save_result raises instead
        return 1
    return 0
