"""``thoughtfield sweep``: run a config over a parameter sweep, locally or on a dask cluster."""

from __future__ import annotations

import os
import sys
import time

from ._common import add_set_argument, human_size, progress_options, refuse_existing

HELP = "run a config over a parameter sweep (in-process or on a dask cluster; resumable)"
DESCRIPTION = """\
Run CONFIG at every point of its [sweep] (grids and zipped lists of any numeric config
value, addressed like --set keys) plus any --grid given here, and write one NetCDF result
with a dimension per swept parameter plus member, time and concept.

Short sweeps run in this process; longer ones start a dask LocalCluster with one worker
process per CPU (--workers N sets the number, --workers 1 stays in-process), and
--scheduler ADDRESS (or the THOUGHTFIELD_SCHEDULER environment variable) runs on an
existing dask cluster; a config file cannot choose a scheduler (dask trusts its
scheduler with this process). Finished points are written to OUT.parts/ as they arrive;
after an interruption (Ctrl-C, SIGTERM, a kill), the same command with --resume runs
only the missing points (the parts must come from the same config, values and seed).
Every point's seed derives from (seed, point), so the result is bit for bit the same
however the points were scheduled. One sweep per OUT at a time (OUT.lock); --force
removes only thoughtfield's own files from OUT.parts/ (with --resume it keeps the finished
points of the same sweep and only overwrites OUT). An interrupted sweep prints the exact
command that continues it.

Exit status: 0 done, 2 bad input (config, arguments, existing files, an unusable
scheduler), 1 a point's run failed (with [sweep] on_error = "stop"; its parts are
removed), 130 interrupted / 143 terminated (finished points are kept for --resume)."""
EXAMPLES = """\
  thoughtfield sweep simulations/choice_sweep.toml --out choice.nc
  thoughtfield sweep simulations/choice_sweep.toml --out gain.nc --grid model.gain=[4,8] --grid 'model.threshold=[0.5,0.6]' --workers 2
  thoughtfield sweep simulations/choice_sweep.toml --out big.nc --scheduler tcp://10.0.0.5:8786
  thoughtfield sweep simulations/choice_sweep.toml --out big.nc --resume   # after an interruption
  thoughtfield plot choice.nc --kind sweep --out choice.png"""


def add_arguments(p):
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML) with a [sweep] "
                   "section, or any config with --grid")
    p.add_argument("--out", "-o", metavar="PATH", help="result file (.nc); default: [output] "
                   "path, else CONFIG_NAME_sweep.nc")
    p.add_argument("--grid", "-g", action="append", default=[], metavar="KEY.PATH=[VALUES]",
                   help="add a swept parameter, e.g. --grid model.gain=[2,4,8] (a TOML array, or "
                        "'{start=0, stop=1, num=5}'); repeatable, one dimension each")
    p.add_argument("--workers", "-w", type=int, default=None, metavar="N",
                   help="worker processes of an embedded dask LocalCluster (1 = in this "
                        "process; default: automatic)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing dask cluster, e.g. tcp://10.0.0.5:8786 (default: "
                        "$THOUGHTFIELD_SCHEDULER unless --workers is given); never read from "
                        "the config")
    p.add_argument("--connect-timeout", type=float, default=None, metavar="SECONDS",
                   help="how long to wait for the scheduler (default 20)")
    p.add_argument("--chunk", type=int, default=None, metavar="K",
                   help="points per task and per part file (default: automatic)")
    p.add_argument("--point", type=int, default=None, metavar="P",
                   help="run only point P (its index in the result, row-major) as a single run "
                        "with the point's values and seed, and write it like 'thoughtfield run'")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep from OUT.parts/ (skips finished points)")
    add_set_argument(p)
    p.add_argument("--plot", action="store_true",
                   help="also write the sweep figure next to the result (RESULT_sweep.png)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no summary (errors are still printed)")
    p.add_argument("--force", "-f", action="store_true",
                   help="overwrite the result and discard the parts of an earlier sweep")


def _scheduler(args):
    """The scheduler address: --scheduler, else $THOUGHTFIELD_SCHEDULER (unless --workers
    is given), checked; never from the config."""
    from ..distributed import SCHEDULER_ENV, scheduler_address
    if args.scheduler is not None:
        return scheduler_address(args.scheduler, "--scheduler")
    env = os.environ.get(SCHEDULER_ENV, "")
    if env.strip() and args.workers is None:
        return scheduler_address(env, SCHEDULER_ENV)
    return None


def _tell_resume(out, args=None) -> None:
    from ..distributed import PartStore
    from ._common import resume_command
    try:
        k = PartStore(out).kept_points()
    except OSError:  # pragma: no cover
        return
    if k:
        cmd = resume_command(args)
        print(f"thoughtfield sweep: {k} finished point(s) are kept in {out}.parts/; run the "
              f"same command with --resume to continue" + (f": {cmd}" if cmd else ""),
              file=sys.stderr)


def _grid(items):
    from .. import _toml
    from ..errors import ConfigError
    grid = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--grid {item}: expected KEY.PATH=[values], e.g. --grid model.gain=[2,4,8]")
        key, _, text = item.partition("=")
        key = key.strip()
        try:
            value = _toml.parse_value(text.strip())
        except ConfigError as e:
            raise e.at(f"--grid {item}") from None
        if key in grid:
            raise ConfigError(f"--grid {item}: {key!r} is given twice")
        grid[key] = value
    return grid


def main(args) -> int:
    t_start = time.perf_counter()
    from .. import _validate as V
    from ..config import load_config
    from ..distributed import run_sweep
    from ..errors import ConfigError
    from ..sweeps import sweep_of
    if args.workers is not None:
        V.integer("--workers", args.workers, min=1)
    if args.chunk is not None:
        V.integer("--chunk", args.chunk, min=1)
    if args.workers is not None and args.scheduler:
        raise ConfigError("--scheduler: give either --workers (a local cluster) or --scheduler "
                          "(an existing one), not both")
    scheduler = _scheduler(args)
    if args.connect_timeout is not None:
        V.real("--connect-timeout", args.connect_timeout, min=0, min_inclusive=False, max=3600)
    cfg = load_config(args.config, overrides=args.sets)
    grid = _grid(args.grid)
    if args.point is not None:
        return _one_point(cfg, grid, args, t_start)
    sw = sweep_of(cfg, grid=grid or None, workers=args.workers, scheduler=scheduler,
                  chunk=args.chunk)
    out = args.out or cfg.output.path or f"{cfg.name}_sweep.nc"
    figure = None
    if args.plot:
        from ._common import figure_paths
        figure = figure_paths(out, ["sweep"], cfg.output.plot_format)[0][1]
    refuse_existing([out] + ([figure] if figure else []), args.force)
    bar = progress_options(args.quiet)
    report: dict = {}
    try:
        ds = run_sweep(cfg, sw, out=out, resume=args.resume, force=args.force, progress=bar,
                       report=report, connect_timeout=args.connect_timeout)
    except KeyboardInterrupt:   # Ctrl-C, or SIGTERM (the command line turns it into one)
        _tell_resume(out, args)
        raise
    if figure:
        from ._common import save_figure
        save_figure(ds, "sweep", figure, dpi=cfg.output.dpi, source=out)
    if not args.quiet:
        from ..summary import summary_lines
        net = cfg.network
        lines = [f"{cfg.name}: {net.n} concepts, {net.n_relations} relations"]
        lines += summary_lines(ds)
        a = ds.attrs
        resumed = int(report.get("resumed_points", 0))
        how = str(report.get("executor", ""))
        if how.startswith("dask"):
            how += f" ({report.get('workers')} workers)"
        lines.append(f"ran {a.get('sweep_points', 0) - resumed} point(s) {how}"
                     + (f", {resumed} resumed from parts" if resumed else "")
                     + f"; wall time {time.perf_counter() - t_start:.2f} s")
        lines.append(f"wrote {out} ({human_size(os.path.getsize(out))})")
        if figure:
            lines.append(f"wrote {figure}")
        print("\n".join(lines), file=sys.stdout)
    return 0


def _one_point(cfg, grid, args, t_start) -> int:
    from ..results import save_result
    from ..summary import summary_lines
    from ..sweeps import point_config
    pcfg = point_config(cfg, args.point, grid=grid or None)
    out = args.out or f"{cfg.name}_point{args.point}.nc"
    refuse_existing([out], args.force)
    ds = pcfg.run_simulation(progress=progress_options(args.quiet))
    save_result(ds, out, overwrite=args.force)
    if not args.quiet:
        lines = [f"{cfg.name}: point {args.point} ({', '.join(pcfg.overrides)})"]
        lines += summary_lines(ds)
        lines.append(f"wall time {time.perf_counter() - t_start:.2f} s")
        lines.append(f"wrote {out} ({human_size(os.path.getsize(out))})")
        print("\n".join(lines), file=sys.stdout)
    return 0
