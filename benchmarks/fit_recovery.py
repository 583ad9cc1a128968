"""Parameter recovery of ``thoughtfield fit``: data sets simulated from known parameters
(200 trials per condition, fresh noise each), fitted, and the bootstrap intervals checked
for coverage.  Prints a table (true, mean estimate, SD, coverage of the 95 % intervals --
the basic interval the fit reports and, for comparison, the percentile interval of the
same refits --, wall time per fit and per evaluation) and writes it as JSON.

    PYTHONPATH=src python benchmarks/fit_recovery.py [--sets 10] [--bootstrap 20] [--out fit_recovery.json]

Models
    pool: simulations/fit_choice.toml, a two-choice competition pool (leaky competing
        accumulators), rate and threshold (the README example).
    goal: simulations/fit_goal.toml, a goal-biased race, the goal's gain and threshold.
    accumulator: simulations/fit_accumulator.toml, difference-drift accumulators, rate,
        threshold and a non-decision time ``ndt``.
    lca3: fit_choice.toml with ``ndt`` (true 0.3) as a third parameter.
"""

import argparse
import json
import os
import time

import numpy as np

import thoughtfield as tf

HERE = os.path.dirname(os.path.abspath(__file__))
SIMS = os.path.join(HERE, "..", "simulations")

MODELS = {   # config, true values, bounds
    "pool": ("fit_choice.toml", {"choices[0].rate": 1.5, "choices[0].threshold": 1.0},
             {"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0)}),
    "goal": ("fit_goal.toml", {"goals.gain": 0.15, "choices[0].threshold": 1.0},
             {"goals.gain": (0.0, 0.5), "choices[0].threshold": (0.5, 2.0)}),
    "accumulator": ("fit_accumulator.toml",
                    {"choices[0].rate": 2.0, "choices[0].threshold": 0.8, "ndt": 0.3},
                    {"choices[0].rate": (0.5, 4.0), "choices[0].threshold": (0.4, 2.0),
                     "ndt": (0.0, 0.6)}),
    "lca3": ("fit_choice.toml", {"choices[0].rate": 1.5, "choices[0].threshold": 1.0, "ndt": 0.3},
             {"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0),
              "ndt": (0.0, 0.6)}),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=10)
    ap.add_argument("--first", type=int, default=0, help="the first data set (seed 1000 + it)")
    ap.add_argument("--bootstrap", type=int, default=20)
    ap.add_argument("--n-sim", type=int, default=500)
    ap.add_argument("--maxiter", type=int, default=12)
    ap.add_argument("--popsize", type=int, default=8)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--bootstrap-maxiter", type=int, default=None)
    ap.add_argument("--models", nargs="+", default=["pool", "goal", "accumulator"])
    ap.add_argument("--objective", default="g2")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    report = {"settings": vars(a), "models": {}}
    for name in a.models:
        config, true, bounds = MODELS[name]
        config = os.path.join(SIMS, config)
        rows = []
        for s in range(a.first, a.first + a.sets):
            data = tf.simulate_behaviour(config, true, a.trials, seed=1000 + s)
            t0 = time.perf_counter()
            ds = tf.fit(config, data, bounds, n_sim=a.n_sim, maxiter=a.maxiter,
                        popsize=a.popsize, bootstrap=a.bootstrap, seed=s,
                        objective=a.objective, bootstrap_maxiter=a.bootstrap_maxiter)
            wall = time.perf_counter() - t0
            bs = ds.bootstrap_estimate.values
            lo_b, hi_b = ds.bound_lower.values, ds.bound_upper.values
            rows.append({"estimate": ds.estimate.values.tolist(),
                         "lower": ds.lower.values.tolist(), "upper": ds.upper.values.tolist(),
                         "percentile_lower": np.clip(np.nanpercentile(bs, 2.5, axis=0),
                                                     lo_b, hi_b).tolist(),
                         "percentile_upper": np.clip(np.nanpercentile(bs, 97.5, axis=0),
                                                     lo_b, hi_b).tolist(),
                         "bootstrap_sd": ds.bootstrap_sd.values.tolist(),
                         "wall_s": wall, "evaluations": ds.attrs["n_evaluations"],
                         "all_evaluations": ds.attrs["evaluations_with_bootstrap"],
                         "s_per_eval": ds.attrs["seconds_per_evaluation"],
                         "objective": ds.attrs["objective_value"]})
            print(f"{name} set {s}: " + ", ".join(
                f"{k} {e:.3f} [{lo:.3f}, {hi:.3f}]" for k, e, lo, hi in
                zip(true, rows[-1]["estimate"], rows[-1]["lower"], rows[-1]["upper"]))
                + f"  ({wall:.0f} s, {rows[-1]['s_per_eval'] * 1e3:.0f} ms/eval)", flush=True)
        est = np.array([r["estimate"] for r in rows])
        lo = np.array([r["lower"] for r in rows])
        hi = np.array([r["upper"] for r in rows])
        tv = np.array(list(true.values()))
        cover = ((lo <= tv) & (tv <= hi)).sum(axis=0)
        plo = np.array([r["percentile_lower"] for r in rows])
        phi = np.array([r["percentile_upper"] for r in rows])
        pcover = ((plo <= tv) & (tv <= phi)).sum(axis=0)
        bsd = np.array([r["bootstrap_sd"] for r in rows])
        summary = {k: {"true": float(tv[j]), "mean_estimate": float(est[:, j].mean()),
                       "sd_estimate": float(est[:, j].std(ddof=1)) if len(rows) > 1 else None,
                       "mean_bootstrap_sd": float(bsd[:, j].mean()),
                       "mean_interval_width": float((hi - lo)[:, j].mean()),
                       "covered": int(cover[j]), "covered_percentile": int(pcover[j]),
                       "sets": len(rows)} for j, k in enumerate(true)}
        summary["wall_s_per_fit"] = float(np.mean([r["wall_s"] for r in rows]))
        summary["s_per_eval"] = float(np.mean([r["s_per_eval"] for r in rows]))
        summary["evaluations_per_fit"] = float(np.mean([r["evaluations"] for r in rows]))
        summary["evaluations_with_bootstrap"] = float(np.mean([r["all_evaluations"] for r in rows]))
        report["models"][name] = {"summary": summary, "fits": rows}
        print(f"\n{name}: {a.sets} data sets x {a.trials} trials per condition, "
              f"{a.bootstrap} bootstrap refits, n_sim {a.n_sim}")
        print(f"{'parameter':<22} {'true':>6} {'mean est':>9} {'sd':>7} {'boot sd':>8} "
              f"{'CI width':>9} {'basic':>6} {'pctl':>6}")
        for k in true:
            r = summary[k]
            print(f"{k:<22} {r['true']:>6.3f} {r['mean_estimate']:>9.3f} "
                  f"{(r['sd_estimate'] or float('nan')):>7.3f} {r['mean_bootstrap_sd']:>8.3f} "
                  f"{r['mean_interval_width']:>9.3f} {r['covered']:>3}/{len(rows)} "
                  f"{r['covered_percentile']:>3}/{len(rows)}")
        print(f"wall time per fit {summary['wall_s_per_fit']:.0f} s, "
              f"{summary['s_per_eval'] * 1e3:.0f} ms per evaluation, "
              f"{summary['evaluations_per_fit']:.0f} evaluations + bootstrap "
              f"({summary['evaluations_with_bootstrap']:.0f} in all)\n", flush=True)
        if a.out:   # after every model, so a long run keeps what it finished
            with open(a.out, "w") as f:
                json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
