"""Batched ensembles: cost per member, and dopri5's shared step.

    python benchmarks/ensembles.py [--sizes 1e3 1e5] [--members 64] [--repeats 3] [--json out.json]

1. Per-member cost: one run of M = 64 members versus 64 separate runs (fixed-step RK4,
   dt = 0.1, T = 10 at N = 1e3 and T = 1 at N = 1e5; random networks with 10 in-edges per
   concept, tanh units, members from their own random initial states).  Goal: <= 0.3x per
   member.  The members must equal the single runs bit for bit (checked).
2. dopri5's shared step at N = 1e3, M = 64: RHS passes and wall time of the ensemble versus
   the sum over 64 single runs, and each member's error against scipy DOP853 at rtol 1e-11
   (ensemble vs single run), for members that differ only in their initial state and for
   members whose gains range from 0.5 to 3.

The measurements are functions of ``thoughtfield._ensemble_bench`` so a benchmark suite
can call them.  Timings on a shared machine are noisy: runs are interleaved and repeated,
min and median reported.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from thoughtfield._ensemble_bench import per_member_cost, shared_step  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e5])
    ap.add_argument("--members", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-shared-step", action="store_true")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    a = ap.parse_args(argv)
    res = {"per_member": [], "shared_step": []}
    print(f"per-member cost: {a.members} members in one run vs {a.members} single runs (RK4)")
    for n in a.sizes:
        r = per_member_cost(int(n), members=a.members, repeats=a.repeats, log=print)
        res["per_member"].append(r)
        print(f"N = {r['n']:>7} ({r['edges']} edges), {r['steps']} steps: "
              f"{r['per_member_batched_ms']:.3g} ms per member batched vs "
              f"{r['per_single_run_ms']:.3g} ms per single run -> ratio "
              f"{r['per_member_ratio_min']:.3f} (min), {r['per_member_ratio_median']:.3f} (median); "
              f"integration alone {r['integration_ratio_min']:.3f}; "
              f"max |batched - single| = {r['max_abs_diff']:.1e}")
    if not a.skip_shared_step:
        print(f"\ndopri5 shared step, N = 1000, {a.members} members, rtol 1e-6:")
        for spread in (False, True):
            res["shared_step"].append(shared_step(1000, a.members, spread=spread, log=print))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == "__main__":
    main()
