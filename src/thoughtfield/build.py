"""The bridge: lower descriptions (network, model, stimuli, solver) to plain arrays.

Nothing here imports numba; the kernels receive only what :func:`build_problem` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from ._problem import Method, Problem
from .errors import ConfigError
from .model import TRANSFER_CODES, Model
from .network import ConceptNetwork
from .solvers import Solver
from .stimuli import Clamp, Pulse, as_stimuli

_FORM = {"activation": 0}


@dataclass
class Built:
    problem: Problem
    y0: np.ndarray          # float64[N*M], member-minor
    stimuli: tuple


def _per_member(key, values, n, m):
    """Flatten a per-concept parameter for the kernels: ``(N,)`` stays as is (shared by
    all members); ``(M, N)`` becomes member-minor ``a[i * M + k]``."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1:
        return np.ascontiguousarray(a)
    if a.shape != (m, n):
        raise ConfigError(f"{key}: per-member values must have shape (members, concepts) = "
                          f"({m}, {n}) (got {a.shape})")
    return np.ascontiguousarray(a.T).ravel()


def build_problem(network: ConceptNetwork, model: Model, stimuli, *, t0: float, t_end: float,
                  members: int = 1, initial=None) -> Built:
    """Lower the descriptions to a :class:`~thoughtfield._problem.Problem`."""
    if network.n == 0:
        raise ConfigError("network: has no concepts; add concepts before simulating")
    n, m = network.n, members
    W = network.weight_matrix()
    indptr = W.indptr.astype(np.uint64)   # unsigned: see _kernels/rhs.py
    indices = W.indices.astype(np.uint32)
    data = W.data.astype(np.float64)

    tau = model.resolve("tau", network)
    params = {k: model.resolve(k, network) for k in ("gain", "threshold", "bias", "sigma")}
    tau_inv = 1.0 / tau
    noise = params["sigma"] * tau_inv

    stims = as_stimuli(stimuli)
    seg_t, seg_ptr, ent = _segments(network, stims, t0, t_end, m)

    y0 = _initial_state(network, model, initial, m)
    prob = Problem(
        n=n, m=m, form=_FORM[model.form], ftype=TRANSFER_CODES[model.transfer],
        indptr=indptr, indices=indices, data=data,
        tau_inv=_per_member("tau", tau_inv, n, m),
        gain=_per_member("gain", params["gain"], n, m),
        thr=_per_member("threshold", params["threshold"], n, m),
        bias=_per_member("bias", params["bias"], n, m),
        noise=_per_member("sigma", noise, n, m),
        seg_t=seg_t, seg_ptr=seg_ptr,
        ent_idx=ent[0], ent_member=ent[1], ent_val=ent[2], ent_kind=ent[3],
    )
    return Built(prob, y0, stims)


def _initial_state(network, model, initial, m):
    n = network.n
    if initial is None:
        a0 = model.resolve("initial", network)
        return np.repeat(a0, m)
    if isinstance(initial, dict):
        from .model import resolve_per_concept
        a0 = resolve_per_concept("initial", initial, network, 0.0)
        return np.repeat(a0, m)
    a = np.asarray(initial, dtype=np.float64)
    if a.shape == (n,):
        out = np.repeat(a, m)
    elif a.shape == (m, n):
        out = np.ascontiguousarray(a.T).ravel()
    else:
        raise ConfigError(f"initial: expected shape ({n},) or (members, concepts) = ({m}, {n}) "
                          f"(got {a.shape})")
    if not np.isfinite(out).all():
        raise ConfigError("initial: must be finite (found NaN or infinity)")
    return out


def _segments(network, stims, t0, t_end, m):
    """Cut [t0, t_end] at every input change; list the active entries of each segment."""
    bounds = {t0, t_end}
    resolved = []
    for k, s in enumerate(stims):
        key = f"stimuli[{k}]"
        i = network.index(s.concept, f"{key}.concept")
        if s.start >= t_end:
            raise ConfigError(f"{key}.start: the {s.kind} on {s.concept!r} starts at t = {s.start:g}, "
                              f"at or after the end of the run (t_end = {t_end:g}); "
                              f"move it or lengthen the run")
        if s.stop <= t0:
            raise ConfigError(f"{key}.stop: the {s.kind} on {s.concept!r} ends at t = {s.stop:g}, "
                              f"before the run starts (t0 = {t0:g})")
        if s.member is not None and s.member >= m:
            raise ConfigError(f"{key}.member: {s.member} but the run has {m} member(s) "
                              f"(0..{m - 1})")
        for b in (s.start, s.stop):
            if t0 < b < t_end:
                bounds.add(float(b))
        resolved.append((i, -1 if s.member is None else s.member, s))
    # overlapping clamps of the same concept and member
    clamps = [(i, mem, s, k) for k, (i, mem, s) in enumerate(resolved) if isinstance(s, Clamp)]
    for a in range(len(clamps)):
        for b in range(a + 1, len(clamps)):
            ia, ma, sa, ka = clamps[a]
            ib, mb, sb, kb = clamps[b]
            if ia == ib and (ma == mb or ma < 0 or mb < 0) and sa.start < sb.stop and sb.start < sa.stop:
                raise ConfigError(f"stimuli[{kb}]: clamp on {sb.concept!r} overlaps stimuli[{ka}] "
                                  f"(t = {max(sa.start, sb.start):g}..{min(sa.stop, sb.stop):g}); "
                                  f"a concept can be clamped to one value at a time")
    seg_t = np.array(sorted(bounds), dtype=np.float64)
    ptr = [0]
    idx, mem, val, kind = [], [], [], []
    for a in seg_t[:-1]:
        for i, mm, s in resolved:
            if s.start <= a < s.stop:
                idx.append(i)
                mem.append(mm)
                if isinstance(s, Pulse):
                    val.append(s.amplitude)
                    kind.append(0)
                else:
                    val.append(s.value)
                    kind.append(1)
        ptr.append(len(idx))
    ent = (np.asarray(idx, np.int64), np.asarray(mem, np.int64), np.asarray(val, np.float64),
           np.asarray(kind, np.int64))
    return seg_t, np.asarray(ptr, np.int64), ent


def build_method(solver: Solver, model: Model, network: ConceptNetwork, t0: float,
                 t_end: float) -> Method:
    """Lower the solver settings; checks that the method suits the model."""
    tab = solver.tableau
    if model.has_noise and not tab.stochastic:
        raise ConfigError(f"solver.method: {solver.method!r} is deterministic but the model has "
                          f"noise (sigma > 0); use method = 'euler_maruyama' or set sigma = 0")
    if tab.stochastic and solver.steady_tol is not None:
        raise ConfigError("solver.steady_tol: an early stop at steady state is not defined for the "
                          "stochastic solver 'euler_maruyama'; remove steady_tol")
    dt = solver.dt
    if dt is None:
        dt = float(np.min(model.resolve("tau", network))) / 100.0
    if not tab.adaptive and dt > (t_end - t0):
        dt = t_end - t0
    min_step = solver.min_step if solver.min_step is not None else 1e-12 * max(1.0, abs(t_end))
    opt_f = np.zeros(8)
    opt_f[:7] = [dt, solver.rtol, solver.atol, solver.first_step or 0.0,
                 solver.max_step if math.isfinite(solver.max_step) else np.inf, min_step,
                 solver.steady_tol or 0.0]
    e = tab.e if tab.e is not None else np.zeros(0)
    P = tab.P if tab.P is not None else np.zeros((0, 0))
    return Method(A=tab.A, b=tab.b, c=tab.c, e=e, P=P, order=tab.order,
                  stochastic=int(tab.stochastic), opt_f=opt_f,
                  opt_i=np.array([solver.max_steps, 0, 0, 0], np.int64))


#: Upper bound on the number of save times of one run (a guard against typos like 1e-30).
MAX_SAVES = 10**8


def save_times(t0: float, t_end: float, *, save_dt=None, save_at=None, save_every=None,
               dt=None, default_points: int = 200) -> np.ndarray:
    """The save grid; always contains ``t0`` and ``t_end``."""
    given = [k for k, v in (("save_dt", save_dt), ("save_at", save_at), ("save_every", save_every))
             if v is not None]
    if len(given) > 1:
        raise ConfigError(f"{given[1]}: give only one of save_dt, save_at and save_every")
    if save_at is not None:
        ts = V.real_array("save_at", save_at)
        if ts.size == 0:
            raise ConfigError("save_at: must list at least one time")
        if (ts < t0).any() or (ts > t_end).any():
            bad = ts[(ts < t0) | (ts > t_end)][0]
            raise ConfigError(f"save_at: time {bad:g} is outside the run [{t0:g}, {t_end:g}]")
        ts = np.unique(np.concatenate([ts, [t0, t_end]]))
        return ts
    if save_every is not None:
        k = V.integer("save_every", save_every, min=1)
        if dt is None:
            raise ConfigError("save_every: needs a fixed-step solver with dt; use save_dt for dopri5")
        save_dt = k * dt
    if save_dt is None:
        save_dt = (t_end - t0) / default_points
    save_dt = V.positive("save_dt", save_dt)
    count = (t_end - t0) / save_dt
    if count > MAX_SAVES:
        raise ConfigError(f"save_dt: {save_dt:g} gives {count:.3g} save times over "
                          f"[{t0:g}, {t_end:g}], more than {MAX_SAVES:.0e}; save less often")
    n = int(math.floor(count * (1 + 1e-12) + 1e-9))
    ts = t0 + save_dt * np.arange(n + 1)
    ts = ts[ts < t_end - 1e-9 * max(1.0, abs(t_end))]
    return np.concatenate([ts, [t_end]])
