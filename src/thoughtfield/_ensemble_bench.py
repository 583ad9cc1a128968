"""Measurements of batched ensembles (called by ``benchmarks/ensembles.py``; a benchmark
suite can call the functions directly).  Not imported by the package.

- :func:`per_member_cost`: wall time per member of one run with ``M`` members versus
  ``M`` separate runs (fixed-step RK4: the same steps either way, so the ratio is the
  pure cost of the layout), with a bitwise check that the members equal the single runs.
- :func:`shared_step`: what dopri5's one shared step for all members costs and gains:
  right-hand-side passes and wall time of the ensemble against the sum over single
  runs, and each member's error against scipy's DOP853 at rtol 1e-11, ensemble versus
  single run.
"""

from __future__ import annotations

import time

import numpy as np


def random_network(n: int, k: int = 10, seed: int = 0):
    """A random directed network: ``k`` in-edges per concept, signed weights ~ N(0, 1/k)."""
    from .network import ConceptNetwork
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(n)]
    net = ConceptNetwork(layers=("image",))
    for nm in names:
        net.add_concept(nm, "image")
    src = rng.integers(0, n, size=n * k)
    tgt = np.repeat(np.arange(n), k)
    keep = src != tgt
    net.add_relation_arrays(src[keep], tgt[keep], rng.normal(0, 1 / np.sqrt(k), keep.sum()), "link")
    net.weight_matrix()
    return net


def _now():
    return time.perf_counter()


def per_member_cost(n: int, members: int = 64, t_end: float | None = None, dt: float = 0.1,
                    repeats: int = 3, seed: int = 0, log=None) -> dict:
    """Time one ``members``-member RK4 run against ``members`` single runs (interleaved,
    ``repeats`` times; min and median reported).  Members start from their own random
    initial states."""
    from .model import Model
    from .saving import SaveAt
    from .simulate import Simulation, simulate
    from .solvers import Solver
    if t_end is None:
        t_end = 10.0 if n <= 10**4 else 1.0
    net = random_network(n, seed=seed)
    y0 = np.random.default_rng(seed + 1).uniform(-0.5, 0.5, (members, n))
    model = Model(transfer="tanh", gain=1.5, bias=0.1)
    solver = Solver("rk4", dt=dt)
    kw = dict(t_end=t_end, solver=solver, saveat=SaveAt(times=[t_end]), seed=0, threads=1)
    simulate(net, model, initial=y0[0], **kw)  # load the kernels
    tb, ts, ib, is_ = [], [], [], []
    yb = ys = None
    for r in range(repeats):
        t = _now()
        sim = Simulation(net, model, members=members, initial=y0, **kw)
        ds = sim.run()
        tb.append(_now() - t)
        ib.append(sim.wall_time)  # integration only (no set-up, no Dataset)
        yb = ds.activation.values[:, -1, :]
        t = _now()
        sims = [Simulation(net, model, initial=y0[k], **kw) for k in range(members)]
        singles = [s.run() for s in sims]
        ts.append(_now() - t)
        is_.append(sum(s.wall_time for s in sims))
        ys = np.stack([d.activation.values[-1] for d in singles])
        if log:
            log(f"  N={n} repeat {r}: batched {tb[-1]:.3f} s, {members} singles {ts[-1]:.3f} s")
    out = {
        "n": n, "edges": int(net.weight_matrix().nnz), "members": members, "method": "rk4",
        "dt": dt, "t_end": t_end, "steps": int(round(t_end / dt)),
        "batched_s": tb, "singles_s": ts,
        "batched_min_s": min(tb), "singles_min_s": min(ts),
        "per_member_ratio_min": min(tb) / min(ts),
        "per_member_ratio_median": float(np.median(tb) / np.median(ts)),
        "integration_batched_s": ib, "integration_singles_s": is_,
        "integration_ratio_min": min(ib) / min(is_),
        "per_member_batched_ms": 1e3 * min(tb) / members,
        "per_single_run_ms": 1e3 * min(ts) / members,
        "max_abs_diff": float(np.max(np.abs(yb - ys))),
    }
    return out


def _reference(W, gain, bias, y0, t_end, ts):
    from scipy.integrate import solve_ivp

    def f(t, a):
        return -a + np.tanh(gain * (W @ a + bias))
    return solve_ivp(f, (0.0, t_end), y0, method="DOP853", rtol=1e-11, atol=1e-13, t_eval=ts).y.T


def shared_step(n: int = 1000, members: int = 64, t_end: float = 10.0, rtol: float = 1e-6,
                atol: float = 1e-9, spread: bool = True, seed: int = 0, log=None) -> dict:
    """dopri5 with one shared step: ensemble vs single runs.

    ``spread=True``: members differ in gain (0.5 .. 3.0, i.e. easy to stiff-ish) and initial
    state; ``False``: only the initial state differs.
    """
    from .model import Model
    from .saving import SaveAt
    from .simulate import simulate
    from .solvers import Solver
    net = random_network(n, seed=seed)
    W = net.weight_matrix().tocsr()
    rng = np.random.default_rng(seed + 2)
    y0 = rng.uniform(-0.5, 0.5, (members, n))
    gains = np.linspace(0.5, 3.0, members) if spread else np.full(members, 1.5)
    ts = np.linspace(0.0, t_end, 11)
    solver = Solver("dopri5", rtol=rtol, atol=atol)
    kw = dict(t_end=t_end, saveat=SaveAt(times=ts), solver=solver, seed=0, threads=1)
    model = Model(transfer="tanh", bias=0.1)
    simulate(net, model, initial=y0[0], **kw)  # load the kernels
    t = _now()
    ens = simulate(net, model, members=members, initial=y0, member_params={"gain": gains}, **kw)
    t_ens = _now() - t
    rhs_single, steps_single, t_single = [], [], 0.0
    err_ens, err_single = [], []
    for k in range(members):
        t = _now()
        one = simulate(net, Model(transfer="tanh", bias=0.1, gain=gains[k]), initial=y0[k], **kw)
        t_single += _now() - t
        rhs_single.append(int(one.attrs["n_rhs"]))
        steps_single.append(int(one.attrs["n_steps"]))
        ref = _reference(W, gains[k], 0.1, y0[k], t_end, ts)
        err_ens.append(float(np.abs(ens.activation.values[k] - ref).max()))
        err_single.append(float(np.abs(one.activation.values - ref).max()))
    err_ens, err_single = np.array(err_ens), np.array(err_single)
    out = {
        "n": n, "members": members, "rtol": rtol, "atol": atol, "t_end": t_end,
        "members_differ_in": "gain 0.5..3 and initial state" if spread else "initial state",
        "ensemble_rhs_passes": int(ens.attrs["n_rhs"]),
        "ensemble_steps": int(ens.attrs["n_steps"]),
        "ensemble_rejected": int(ens.attrs["n_rejected"]),
        "ensemble_member_rhs": int(ens.attrs["n_rhs"]) * members,
        "singles_rhs_sum": int(sum(rhs_single)), "singles_rhs_min": min(rhs_single),
        "singles_rhs_max": max(rhs_single), "singles_steps_max": max(steps_single),
        "ensemble_s": t_ens, "singles_s": t_single, "time_ratio": t_ens / t_single,
        "err_ensemble_max": float(err_ens.max()), "err_ensemble_median": float(np.median(err_ens)),
        "err_single_max": float(err_single.max()), "err_single_median": float(np.median(err_single)),
        "err_ratio_median": float(np.median(err_ens / np.maximum(err_single, 1e-300))),
    }
    if log:
        log(f"  dopri5 N={n} M={members} ({out['members_differ_in']}): ensemble "
            f"{out['ensemble_rhs_passes']} RHS passes ({out['ensemble_member_rhs']} member-RHS) vs "
            f"{out['singles_rhs_sum']} summed over single runs (each {out['singles_rhs_min']}.."
            f"{out['singles_rhs_max']}); time {t_ens:.3f} s vs {t_single:.3f} s; max error "
            f"{out['err_ensemble_max']:.2e} vs {out['err_single_max']:.2e}")
    return out
