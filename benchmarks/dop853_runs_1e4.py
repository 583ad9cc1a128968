"""Re-measure the whole-runs section at one size (default N = 1e4) with the suite's own
functions, then time ``thoughtfield dop853`` against ``scipy DOP853`` once more, many
repeats interleaved (the machine is shared and noisy).

    PYTHONPATH=src python benchmarks/dop853_runs_1e4.py [--n 10000] [--repeats 7]
        [--duel 21] [--out benchmarks/results/dop853_runs_1e4.json]

The first part is exactly ``thoughtfield.bench.runs.measure_one`` (ladder of settings,
loosest one within 1e-6 of the DOP853 reference, interleaved repeats); it does not touch
``benchmarks/results/latest.*``.
"""

import argparse
import json
import os

from thoughtfield.bench._common import interleaved
from thoughtfield.bench.runs import Problem, candidates, measure_one


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--duel", type=int, default=21)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                 "dop853_runs_1e4.json"))
    a = p.parse_args()
    res = measure_one("random", a.n, repeats=a.repeats)
    print(f"random graph, N = {a.n}: reference {res['reference']['n_rhs']} RHS evaluations")
    print(f"{'solver':24s} {'setting':>14s} {'RHS':>6s} {'min':>9s} {'median':>9s} {'error':>8s}")
    for name, s in res["solvers"].items():
        if "min_s" in s:
            print(f"{name:24s} {s['setting']} = {s['value']:<8g} {s.get('n_rhs', '-'):>6} "
                  f"{1e3 * s['min_s']:8.1f}ms {1e3 * s['median_s']:8.1f}ms {s['error']:8.1e}")
    print(f"best thoughtfield: {res['thoughtfield_best']}; fastest peer: {res['fastest_peer']}; "
          f"speedup {res['speedup_vs_fastest_peer']:.2f}x")
    # the duel: the two DOP853s at their chosen settings, many interleaved repeats
    prob = Problem("random", a.n)
    cands = candidates(prob, include_lsoda=False)
    duel = {}
    for name in ("thoughtfield dop853", "scipy DOP853"):
        s = res["solvers"][name]["value"]
        duel[name] = (lambda fn, s: (lambda: fn(s)))(cands[name][3], s)
    timing = interleaved(duel, a.duel)
    print(f"duel ({a.duel} interleaved repeats):")
    for name, t in timing.items():
        print(f"  {name:22s} min {1e3 * t['min_s']:.1f} ms, median {1e3 * t['median_s']:.1f} ms")
    ratio_min = timing["scipy DOP853"]["min_s"] / timing["thoughtfield dop853"]["min_s"]
    ratio_med = timing["scipy DOP853"]["median_s"] / timing["thoughtfield dop853"]["median_s"]
    print(f"  speed of thoughtfield dop853 vs scipy DOP853: {ratio_min:.2f}x (min), "
          f"{ratio_med:.2f}x (median)")
    res["duel"] = {"repeats": a.duel, "timing": timing, "speedup_min": ratio_min,
                   "speedup_median": ratio_med}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, default=float)
    print("written", a.out)


if __name__ == "__main__":
    main()
