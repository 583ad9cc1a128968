"""``thoughtfield fit``: estimate config parameters from behavioural data."""

from __future__ import annotations

import os
import sys

from ._common import add_set_argument, figure_paths, progress_options, refuse_existing

HELP = "fit config parameters to choices and response times (a CSV of trials)"
DESCRIPTION = """\
Estimate the config values given with --param (addressed like --set keys, each with
bounds LOW:HIGH; 'ndt' is a non-decision time added to every simulated response time)
from behavioural data: a CSV with one row per trial, the columns choice (an option of
the response pool; empty for no response), rt (from the choice's onset, in model time
units) and the condition columns -- 'condition' naming the conditions of the config's
[protocol], and/or config keys (e.g. stimuli[0].value) whose values the trial ran with.

Every evaluation simulates --n-sim trials per condition with the same seed (common
random numbers), so the objective is smooth in the parameters. The objective (--objective)
is the multinomial likelihood (g2, default) of bins cut at the observed RT quantiles of
each response, the quantile-probability chi-square of the same bins (qp_chi2; biased by
the simulation's noise in rare bins), or a kernel-density likelihood of every trial's RT
(kde). Differential evolution (--maxiter
generations of --popsize x parameters) is followed by a Nelder-Mead polish; --bootstrap B
refits B data sets simulated from the estimate (each by the whole fit again: differential
evolution of --bootstrap-maxiter generations, then the polish) for 95 % intervals.

--workers N evaluates each generation's population on an embedded dask LocalCluster of N
processes, --scheduler ADDRESS (or $THOUGHTFIELD_SCHEDULER) on an existing dask cluster;
the result is the same with any number of workers. --checkpoint PATH keeps the fit's
progress in a JSON file (the population after every generation, the polish, each
finished bootstrap refit); running the same command again resumes it, with the result of
an uninterrupted fit.

The result (NetCDF) holds the estimates, intervals, the objective trace and observed vs
fitted choice probabilities and RT quantiles per condition; 'thoughtfield plot' draws it
(--kind qp, rt_hist, fit_trace). A table of the estimates is printed.

Exit status: 0 done, 2 bad input (config, data, parameters; one line naming the column,
row or key), 1 the fit failed."""
EXAMPLES = """\
  thoughtfield fit simulations/fit_choice.toml --data simulations/data/fit_choice.csv --param 'choices[0].rate=0.5:3' --param 'choices[0].threshold=0.5:2' --n-sim 200 --maxiter 4 --popsize 5 --out fit.nc
  thoughtfield plot fit.nc --kind qp --out fit_qp.png
  thoughtfield fit simulations/fit_choice.toml --data simulations/data/fit_choice.csv --param 'choices[0].rate=0.5:3' --n-sim 60 --maxiter 2 --popsize 3 --no-polish --workers 2 --checkpoint fit_ckpt.json --out fit_w.nc --quiet
  thoughtfield fit simulations/fit_choice.toml --data simulations/data/fit_choice.csv --param 'choices[0].rate=0.5:3:normal(1.5,0.5)' --param ndt=0:0.5 --objective qp_chi2 --n-sim 200 --maxiter 3 --popsize 5 --no-polish --out fit_g2.nc --quiet"""


def add_arguments(p):
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML) with a choice")
    p.add_argument("--data", "-d", required=True, metavar="CSV",
                   help="the observed trials (CSV, or TSV with a .tsv name): choice, rt and "
                        "condition columns")
    p.add_argument("--param", "-p", dest="params", action="append", default=[],
                   metavar="KEY=LOW:HIGH",
                   help="a parameter to fit with its bounds, e.g. --param model.gain=2:10, "
                        "optionally with a normal prior: model.gain=2:10:normal(5,1); 'ndt' is "
                        "a non-decision time (repeatable)")
    p.add_argument("--out", "-o", metavar="PATH",
                   help="result file (.nc); default: CONFIG_NAME_fit.nc")
    p.add_argument("--objective", choices=["g2", "qp_chi2", "kde"], default="g2",
                   help="g2 (default: the multinomial likelihood of the quantile bins), "
                        "qp_chi2 (the quantile-probability chi-square of the same bins) or kde "
                        "(kernel-density likelihood of every RT)")
    p.add_argument("--quantiles", metavar="Q,Q,...", default=None,
                   help="RT quantiles cutting the bins (default 0.1,0.3,0.5,0.7,0.9)")
    p.add_argument("--n-sim", type=int, default=1000, metavar="N",
                   help="simulated trials per condition and evaluation (default 1000)")
    p.add_argument("--maxiter", type=int, default=40, metavar="G",
                   help="differential-evolution generations (default 40; 0: Nelder-Mead from "
                        "the middle of the bounds)")
    p.add_argument("--popsize", type=int, default=10, metavar="K",
                   help="population: K x the number of parameters (default 10)")
    p.add_argument("--no-polish", action="store_true", help="no Nelder-Mead polish")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="parametric-bootstrap refits for 95 %% intervals (default 0: none)")
    p.add_argument("--bootstrap-maxiter", type=int, default=None, metavar="G",
                   help="differential-evolution generations of each bootstrap refit "
                        "(default: --maxiter)")
    p.add_argument("--workers", "-w", type=int, default=None, metavar="N",
                   help="evaluate the population on an embedded dask LocalCluster of N "
                        "processes (default: in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="evaluate on an existing dask scheduler (default "
                        "$THOUGHTFIELD_SCHEDULER unless --workers is given)")
    p.add_argument("--connect-timeout", type=float, default=None, metavar="SECONDS",
                   help="how long to wait for the scheduler (default 20)")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="keep the fit's progress in this JSON file and resume from it")
    p.add_argument("--seed", type=int, default=None,
                   help="common random numbers and optimiser seed (default: the config's seed)")
    p.add_argument("--ignore", action="append", default=[], metavar="COLUMN",
                   help="a data column to ignore (e.g. subject); repeatable")
    add_set_argument(p)
    p.add_argument("--plot", action="store_true",
                   help="also write the figures qp, rt_hist and fit_trace next to the result")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no summary (errors are still printed)")
    p.add_argument("--force", "-f", action="store_true", help="overwrite existing files")


def _quantiles(text):
    from ..errors import ConfigError
    from ..fit import QUANTILES
    if text is None:
        return QUANTILES
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--quantiles {text}: expected numbers separated by commas, e.g. "
                          "0.1,0.3,0.5,0.7,0.9") from None


def main(args) -> int:
    import time
    t0 = time.perf_counter()
    from ..config import load_config
    from ..errors import ConfigError
    from ..fit import as_params, fit
    cfg = load_config(args.config, overrides=args.sets)
    if not args.params:
        raise ConfigError("--param: give at least one parameter to fit with its bounds, e.g. "
                          "--param 'choices[0].rate=0.5:3'")
    params = as_params(args.params)
    out = args.out or f"{cfg.name}_fit.nc"
    kinds = ["qp", "rt_hist", "fit_trace"]
    figures = figure_paths(out, kinds, "png") if args.plot else []
    refuse_existing([out] + [p for _, p in figures], args.force)
    from .. import _validate as V
    from .sweep import _scheduler
    if args.workers is not None:
        V.integer("--workers", args.workers, min=1)
    if args.workers is not None and args.scheduler:
        raise ConfigError("--scheduler: give either --workers (a local cluster) or --scheduler "
                          "(an existing one), not both")
    if args.connect_timeout is not None:
        V.real("--connect-timeout", args.connect_timeout, min=0, min_inclusive=False, max=3600)
    ds = fit(cfg, args.data, params, objective=args.objective,
             quantiles=_quantiles(args.quantiles), n_sim=args.n_sim, seed=args.seed,
             maxiter=args.maxiter, popsize=args.popsize, polish=not args.no_polish,
             bootstrap=args.bootstrap, bootstrap_maxiter=args.bootstrap_maxiter,
             workers=args.workers, scheduler=_scheduler(args), checkpoint=args.checkpoint,
             connect_timeout=args.connect_timeout, ignore=args.ignore,
             progress=bool(progress_options(args.quiet)))
    ds.attrs["data"] = os.path.relpath(os.path.abspath(args.data),
                                       os.path.dirname(os.path.abspath(out)))
    from ..results import save_result
    save_result(ds, out, overwrite=args.force)
    written = []
    if figures:
        from ._common import save_figure
        for kind, path in figures:
            save_figure(ds, kind, path, dpi=150, source=out)
            written.append(path)
    if not args.quiet:
        for line in summary(ds):
            print(line)
        print(f"wall time {time.perf_counter() - t0:.1f} s")
        print(f"wrote {out}" + (f", {', '.join(written)}" if written else ""))
    sys.stdout.flush()
    return 0


def summary(ds) -> list[str]:
    """The estimates table and the fit per condition, as printed by the command."""
    import numpy as np
    a = ds.attrs
    lines = [(f"{a['objective']} = {a['objective_value']:.4g} after {a['n_evaluations']} "
             f"evaluations ({a['seconds_per_evaluation'] * 1e3:.0f} ms each, "
             f"{a['n_sim']} simulated trials per condition)")]
    w = max(9, *(len(str(p)) for p in ds.param.values))
    lines.append(f"{'parameter':<{w}}  {'estimate':>9}  {'95 % interval':>21}  {'bounds':>15}")
    for j, p in enumerate(ds.param.values):
        lo, hi = float(ds.lower[j]), float(ds.upper[j])
        ci = f"[{lo:.4g}, {hi:.4g}]" if np.isfinite(lo) else "(--bootstrap B)"
        b = f"{float(ds.bound_lower[j]):g}:{float(ds.bound_upper[j]):g}"
        lines.append(f"{p!s:<{w}}  {float(ds.estimate[j]):>9.4g}  {ci:>21}  {b:>15}")
    opts = [str(r) for r in ds.response.values]
    lines.append("condition: trials, P(" + "/".join(opts) + ") observed -> fitted, median RT "
                 "of " + opts[0] + " observed -> fitted")
    for k, c in enumerate(ds.condition.values):
        po = "/".join(f"{v:.2f}" for v in ds.observed_p.values[k])
        pf = "/".join(f"{v:.2f}" for v in ds.fitted_p.values[k])
        qi = int(np.argmin(np.abs(ds["quantile"].values - 0.5)))
        mo, mf = ds.observed_q.values[k, 0, qi], ds.fitted_q.values[k, 0, qi]
        lines.append(f"  {c}: {int(ds.n_trials[k])}, {po} -> {pf}, {mo:.3g} -> {mf:.3g}")
    return lines
