"""Higher-order adaptive methods at matched accuracy, with the kernels unchanged.

    python benchmarks/prototypes/solver_choices.py [--sizes 1e4] [--repeats 3]

thoughtfield's adaptive kernel (``run_adaptive``) takes any embedded explicit RK tableau
whose last stage is evaluated at the new state (FSAL) and one error-weight vector ``e``.
Dormand & Prince's 8(5,3) (DOP853, Hairer/Norsett/Wanner) fits as data: its 12 stages
plus the FSAL stage (13 rows of A with row 13 = b), with the 5th-order error weights
``E5`` as ``e`` (published coefficients, read here from scipy's coefficient table).
DOP853 proper combines E5 with a 3rd-order estimate E3
(``err = err5^2 / sqrt(err5^2 + 0.01 err3^2)``, never larger than err5), so E5 alone is
the conservative half: any gain measured here is a lower bound of what the full
estimator gives.  No dense output is attached (only the end state is saved), and the
step controller keeps the kernel's dopri5 exponents -- both would be data/kernel changes
for a real method.

The matched-accuracy ladder is the benchmark suite's (thoughtfield.bench.runs).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

from scipy.integrate import solve_ivp  # noqa: E402
from scipy.integrate._ivp import dop853_coefficients as D  # noqa: E402

from thoughtfield import Model, Simulation, Solver  # noqa: E402
from thoughtfield._problem import Method  # noqa: E402
from thoughtfield.bench._common import BIAS, GAIN, T_END, TAU, preload_kernels  # noqa: E402
from thoughtfield.bench.runs import RTOLS, TARGET_ERROR, Problem  # noqa: E402

NS = 13
DOP853 = dict(A=np.ascontiguousarray(D.A[:NS, :NS]), b=np.r_[D.B, 0.0],
              c=np.ascontiguousarray(D.C[:NS]), e=np.ascontiguousarray(D.E5), order=8)


def run(prob, method, rtol):
    model = Model(transfer="tanh", gain=GAIN, bias=BIAS, tau=TAU, initial=prob.y0)
    sim = Simulation(prob.net, model, t_end=T_END, solver=Solver("dopri5", rtol=rtol, atol=rtol),
                     saveat=tf.SaveAt(times=[T_END]), seed=0)
    if method == "dop853-e5":
        m = sim.method
        sim.method = Method(A=DOP853["A"], b=DOP853["b"], c=DOP853["c"], e=DOP853["e"],
                            P=np.zeros((NS, 0)), order=8, stochastic=0, opt_f=m.opt_f,
                            opt_i=m.opt_i)
        sim._K = np.zeros((NS, prob.n))
    ds = sim.run()
    return ds.activation.values[-1], sim.stats(), sim.wall_time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    preload_kernels()
    for n in a.sizes:
        prob = Problem("random", int(n))
        ref = solve_ivp(prob.f, (0, T_END), prob.y0, method="DOP853", rtol=1e-10, atol=1e-12,
                        t_eval=[T_END]).y[:, -1]
        print(f"\n### random graph, N = {int(n):.0e}, target max-abs error {TARGET_ERROR:g}")
        print("|method|rtol (loosest meeting target)|error|RHS evals|steps (rejected)|kernel time (min of repeats)|")
        print("|---|---|---|---|---|---|")
        for method in ("dopri5", "dop853-e5"):
            ladder = []
            for rtol in RTOLS:
                y, st, kt = run(prob, method, rtol)
                err = float(np.max(np.abs(y - ref)))
                ladder.append(f"{rtol:g}:{err:.1e}")
                if err <= TARGET_ERROR:
                    ts = [kt]
                    for _ in range(a.repeats - 1):
                        ts.append(run(prob, method, rtol)[2])
                    print(f"|{method}|{rtol:g}|{err:.1e}|{st['n_rhs']}|{st['n_steps']} "
                          f"({st['n_rejected']})|{min(ts) * 1e3:.4g} ms|")
                    break
            print(f"<!-- ladder {method}: {' '.join(ladder)} -->")


if __name__ == "__main__":
    main()
