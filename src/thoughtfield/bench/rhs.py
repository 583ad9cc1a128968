"""One right-hand-side evaluation: time, effective bandwidth, fraction of the bound.

The kernel is called from a compiled loop (``rhs_loop``) so that the time is the
kernel's, not the cost of handing the problem's arrays from Python to numba (which
dominates below N = 1e4).  The scipy.sparse/numpy evaluation of the same function is
timed beside it, interleaved, and the two results are compared.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._kernels import stamp_kernel_callers
from .._kernels.rhs import rhs
from ._common import (BIAS, GAIN, T_END, batch_size, initial_state, interleaved, make_graph,
                      rhs_bytes)

stamp_kernel_callers(__file__)   # rhs_loop's cache entry holds rhs's code: stale on any edit


@njit(cache=True)
def rhs_loop(P, W, y, dy, k):
    """``k`` evaluations of the right-hand side; returns the last ``max |dy|``."""
    mx = 0.0
    for _ in range(k):
        mx, bad = rhs(P, W, 0.0, y, dy)
    return mx


def simulation(net, n, threads=None):
    """A prepared :class:`~thoughtfield.Simulation` of the reference problem."""
    from ..model import Model
    from ..saving import SaveAt
    from ..simulate import Simulation
    from ..solvers import Solver
    model = Model(transfer="tanh", gain=GAIN, bias=BIAS, initial=initial_state(n))
    return Simulation(net, model, t_end=T_END, solver=Solver("dopri5"), saveat=SaveAt(times=[T_END]),
                      threads=threads, seed=0)


def measure_one(kind: str, n: int, bound_GBs: float, repeats: int = 7,
                budget_s: float = 20.0) -> dict:
    import numba
    g = make_graph(kind, n)
    net = g.network()
    W = net.weight_matrix()
    y = initial_state(n)
    dy = np.empty(n)
    from ..simulate import PARALLEL_MIN_WORK
    # threads where simulate() would use them for a long run (its automatic choice also
    # weighs the one-off compile of the threaded kernels against the run's length)
    big = int(W.nnz) + n >= PARALLEL_MIN_WORK
    sim = simulation(net, n, threads=numba.get_num_threads() if big else None)
    sim1 = simulation(net, n, threads=1)
    if sim.work.ntask > 1:   # the threaded twin, compiled here, outside the timings
        from .._kernels.threads import threaded
        loop_default = threaded(rhs_loop)
    else:
        loop_default = rhs_loop
    loop_default(sim.problem, sim.work, y, dy, 1)
    nnz = int(W.nnz)
    # batch so that one sample takes about 5 ms or more
    k = batch_size(lambda j: rhs_loop(sim1.problem, sim1.work, y, dy, j))

    def f_np():
        return -y + np.tanh(GAIN * (W @ y + BIAS))

    ref = f_np()
    loop_default(sim.problem, sim.work, y, dy, 1)
    err_default = float(np.max(np.abs(dy - ref)))
    rhs_loop(sim1.problem, sim1.work, y, dy, 1)
    err_serial = float(np.max(np.abs(dy - ref)))
    cands = {"serial": lambda: rhs_loop(sim1.problem, sim1.work, y, dy, k),
             "numpy_scipy": lambda: [f_np() for _ in range(k)]}
    if sim.work.ntask > 1:
        cands["threaded"] = lambda: loop_default(sim.problem, sim.work, y, dy, k)
    res = interleaved(cands, repeats, budget_s=budget_s)
    nbytes = rhs_bytes(n, nnz)
    out = {"graph": kind, "n": n, "nnz": nnz, "bytes": nbytes, "batch": k,
           "default_path": "threaded" if sim.work.ntask > 1 else "serial",
           "threads": numba.get_num_threads() if sim.work.ntask > 1 else 1,
           "max_abs_diff_vs_scipy": max(err_default, err_serial)}
    for name, s in res.items():
        t_min = s["min_s"] / k
        t_med = s["median_s"] / k
        out[name] = {"min_s": t_min, "median_s": t_med, "repeats": s["repeats"],
                     "GBs": nbytes / t_min / 1e9, "fraction_of_bound": nbytes / t_min / 1e9 / bound_GBs}
    best = min((out[c]["min_s"], c) for c in ("serial", "threaded") if c in out)
    out["thoughtfield_best"] = best[1]
    out["fraction_of_bound"] = out[best[1]]["fraction_of_bound"]
    out["speedup_vs_numpy_scipy"] = out["numpy_scipy"]["min_s"] / best[0]
    return out


def measure(sizes, kinds, bound_GBs: float, repeats: int = 7, log=print) -> list:
    rows = []
    for n in sizes:
        for kind in kinds:
            r = measure_one(kind, int(n), bound_GBs, repeats=repeats)
            log(f"  rhs {kind:10s} N={int(n):>8d}: {r[r['thoughtfield_best']]['min_s'] * 1e3:.4g} ms "
                f"({r['fraction_of_bound'] * 100:.1f} % of bound), numpy/scipy "
                f"{r['numpy_scipy']['min_s'] * 1e3:.4g} ms")
            rows.append(r)
    return rows
