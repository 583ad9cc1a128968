"""The cost of plastic relations: one right-hand-side evaluation with every relation
plastic (Hebbian rule with decay, weights as state) against the same network with fixed
weights, on random graphs with 10 in-edges per concept.

Both are called from the compiled loop of the ``rhs`` section, interleaved.  With every
weight at its starting value the activation derivatives of the two must agree up to the
order of summation (the plastic term is summed edge by edge, the fixed matrix row by row).
"""

from __future__ import annotations

import numpy as np

from ._common import batch_size, interleaved, make_graph
from .rhs import rhs_loop, simulation


def measure_one(n: int, repeats: int = 5, budget_s: float = 20.0) -> dict:
    from ..mechanisms import Plasticity
    from ..model import Model
    from ..saving import SaveAt
    from ..simulate import Simulation
    from ..solvers import Solver
    from ._common import BIAS, GAIN, T_END, initial_state
    g = make_graph("random", n)
    net = g.network()
    fixed = simulation(net, n, threads=1)
    model = Model(transfer="tanh", gain=GAIN, bias=BIAS, initial=initial_state(n),
                  plasticity=Plasticity(relations=["link"], rate=0.1, tau=10.0, record=False))
    plastic = Simulation(net, model, t_end=T_END, solver=Solver("dopri5"),
                         saveat=SaveAt(times=[T_END]), threads=1, seed=0)
    y1 = fixed.state.y.copy()
    y2 = plastic.state.y.copy()
    d1, d2 = np.empty_like(y1), np.empty_like(y2)
    rhs_loop(fixed.problem, fixed.work, y1, d1, 1)
    rhs_loop(plastic.problem, plastic.work, y2, d2, 1)
    diff = float(np.max(np.abs(d1 - d2[:n])))
    k = batch_size(lambda j: rhs_loop(plastic.problem, plastic.work, y2, d2, j))
    res = interleaved({"fixed": lambda: rhs_loop(fixed.problem, fixed.work, y1, d1, k),
                       "plastic": lambda: rhs_loop(plastic.problem, plastic.work, y2, d2, k)},
                      repeats, budget_s=budget_s)
    out = {"n": n, "edges": int(g.src.size), "batch": k,
           "max_abs_diff_activation_derivative": diff}
    for name, s in res.items():
        out[name] = {"min_s": s["min_s"] / k, "median_s": s["median_s"] / k,
                     "repeats": s["repeats"]}
    out["ratio"] = out["plastic"]["min_s"] / out["fixed"]["min_s"]
    out["ns_per_plastic_edge"] = (out["plastic"]["min_s"] - out["fixed"]["min_s"]) \
        / out["edges"] * 1e9
    return out


def measure(sizes, repeats: int = 5, log=print) -> list:
    rows = []
    for n in sizes:
        r = measure_one(int(n), repeats=repeats)
        log(f"  learning N={int(n):>8d} ({r['edges']:,} plastic edges): fixed "
            f"{r['fixed']['min_s'] * 1e3:.4g} ms, plastic {r['plastic']['min_s'] * 1e3:.4g} ms "
            f"({r['ratio']:.2f}x)")
        rows.append(r)
    return rows
