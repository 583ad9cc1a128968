"""Ensembles: cost per member of one batched run of M members versus M single runs.

Every member starts from its own random initial state; fixed-step RK4 (same work per
member either way).  The batched members must equal the single runs (checked, max-abs
difference reported).
"""

from __future__ import annotations

import numpy as np

from ._common import BIAS, GAIN, TAU, make_graph, now

DT = 0.1


def measure_one(n: int, members: int = 64, t_end: float = 10.0, kind: str = "random",
                repeats: int = 2) -> dict:
    from ..model import Model
    from ..saving import SaveAt
    from ..simulate import simulate
    from ..solvers import Solver
    g = make_graph(kind, n)
    net = g.network()
    net.weight_matrix()
    y0 = np.random.default_rng(7).uniform(-0.5, 0.5, (members, n))
    model = Model(transfer="tanh", gain=GAIN, bias=BIAS, tau=TAU)
    solver = Solver("rk4", dt=DT)

    def batched():
        ds = simulate(net, model, t_end=t_end, solver=solver, saveat=SaveAt(times=[t_end]), members=members,
                      initial=y0, seed=0)
        return ds.activation.values[:, -1, :]

    def singles():
        return np.stack([simulate(net, model, t_end=t_end, solver=solver, saveat=SaveAt(times=[t_end]),
                                  initial=y0[k], seed=0).activation.values[-1]
                         for k in range(members)])

    tb, ts = [], []
    yb = ys = None
    for _ in range(repeats):
        t = now()
        yb = batched()
        tb.append(now() - t)
        t = now()
        ys = singles()
        ts.append(now() - t)
    per_member = min(tb) / members
    per_single = min(ts) / members
    return {"graph": kind, "n": n, "nnz": int(net.weight_matrix().nnz), "members": members,
            "t_end": t_end, "method": "rk4", "dt": DT,
            "batched_s": min(tb), "batched_s_all": tb, "singles_s": min(ts), "singles_s_all": ts,
            "per_member_s": per_member, "per_single_run_s": per_single,
            "per_member_ratio": per_member / per_single,
            "max_abs_diff_batched_vs_single": float(np.max(np.abs(yb - ys)))}


def measure(sizes, members=64, log=print) -> list:
    rows = []
    for n in sizes:
        n = int(n)
        # keep a size's two runs near a few seconds: shorter horizon for large networks
        t_end = 10.0 if n <= 10**4 else 1.0
        r = measure_one(n, members=members, t_end=t_end)
        log(f"  ensemble N={n} M={members}: {r['per_member_s'] * 1e3:.3g} ms per member vs "
            f"{r['per_single_run_s'] * 1e3:.3g} ms per single run "
            f"(ratio {r['per_member_ratio']:.2f})")
        rows.append(r)
    return rows
