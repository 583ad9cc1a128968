"""``thoughtfield run``: run a config, write the result (and figures), print a summary."""

from __future__ import annotations

import os
import sys
import time

from ._common import add_set_argument, figure_paths, human_size, progress_options, refuse_existing

HELP = "run a simulation config and write the result (NetCDF)"
DESCRIPTION = """\
Run the simulation described by CONFIG (a TOML file, see docs/config.md), write the
result as NetCDF (activation(time, concept) plus provenance) and print a summary: the
simulated time, wall time, solver steps and the most active concepts at the end.

The result goes to --out, else to [output] path, else to CONFIG_NAME.nc in the current
folder. With --plot the figures listed in [output] plots are written next to it as
RESULT_KIND.png. Existing files are never overwritten without --force. Everything is
checked before the run starts; a bad config exits with status 2, a failed run with 1."""
EXAMPLES = """\
  thoughtfield run simulations/quickstart.toml --out quickstart.nc --plot
  thoughtfield run simulations/quickstart.toml --set run.t_end=5 --set model.gain=6 --force
  thoughtfield run my.toml --out results/my.nc --quiet"""


def add_arguments(p):
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML)")
    p.add_argument("--out", "-o", metavar="PATH", help="result file (.nc)")
    p.add_argument("--plot", action="store_true",
                   help="also write the figures listed in [output] plots next to the result")
    add_set_argument(p)
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no summary (errors are still printed)")
    p.add_argument("--force", "-f", action="store_true", help="overwrite existing output files")


def main(args) -> int:
    t_start = time.perf_counter()
    from ..config import load_config
    from ..results import save_result
    from ..summary import summary_lines
    cfg = load_config(args.config, overrides=args.sets)
    out = args.out or cfg.output.path or f"{cfg.name}.nc"
    figures = figure_paths(out, cfg.output.plots, cfg.output.plot_format) if args.plot else []
    refuse_existing([out] + [p for _, p in figures], args.force)

    ds = cfg.run_simulation(progress=progress_options(args.quiet))
    save_result(ds, out, overwrite=args.force)
    written = []
    if figures:
        from ._common import save_figure
        for kind, path in figures:
            save_figure(ds, kind, path, dpi=cfg.output.dpi)
            written.append(path)
    wall = time.perf_counter() - t_start
    if not args.quiet:
        net = cfg.network
        lines = [f"{cfg.name}: {net.n} concepts, {net.n_relations} relations, "
                 f"layers {'/'.join(net.layers)}"]
        lines += summary_lines(ds)
        lines.append(f"wall time {wall:.2f} s (integration {float(ds.attrs.get('wall_time_s', 0)):.3g} s)")
        lines.append(f"wrote {out} ({human_size(os.path.getsize(out))})")
        if written:
            lines.append("wrote " + ", ".join(written))
        print("\n".join(lines), file=sys.stdout)
    return 0
