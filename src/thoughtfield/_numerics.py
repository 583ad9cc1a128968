"""Numerical guards of a continuous run (issue 13: no silently wrong numbers, no unbounded
runs, hints that fit the case).

Everything here reads the lowered problem of a :class:`~thoughtfield.simulate.Simulation`
before it runs (or after it failed) and is plain numpy.

Criteria
--------
*Stability of an explicit Runge-Kutta step.*  For ``y' = lambda y`` a step multiplies
``y`` by the stability polynomial ``R(z) = 1 + sum_k z^k b^T A^(k-1) 1`` of the tableau
at ``z = h lambda``.  On the negative real axis ``|R(-x)| <= 1`` up to the *stability
limit* ``x_s`` (Euler and Heun 2, RK4 2.785, DOPRI5 3.307, DOP853 about 6.07), and
``R(-x) >= 0`` -- no overshoot of the target -- up to the *monotonicity limit* ``x_m``
(Euler 1; Heun, RK4: ``x_m = x_s``).  Computed from the tableau (:func:`stability_limit`).

*Rates of the dynamics.*  Without coupling, concept ``i`` relaxes to its target at rate
``1 / tau_i`` (an exact eigenvalue ``-1/tau_i`` of the Jacobian for a concept whose
input does not depend on the state, or whose transfer saturates).  With coupling every
eigenvalue of the Jacobian ``(-I + diag(gain f') W) / tau`` lies, by Gershgorin's theorem,
in the discs around ``-1/tau_i`` of radius ``gain_i L sum_j |W_ij| / tau_i`` (``L``: the
largest slope of the transfer, 1/4 for the sigmoid, else 1): the *rate bound*
``(1 + gain_i L sum_j |W_ij|) / tau_i`` bounds ``|lambda|`` and the *growth bound*
``(-1 + L max(gain_i W_ii, 0) + gain_i L sum_(j != i) |W_ij|) / tau_i`` bounds its real
part (<= 0: the linearised dynamics cannot grow).  The mechanisms' own decay rates (adaptation, control, evidence
leak) count as rates too.

*A fixed step* ``h`` (the largest step the run takes: ``dt`` shortened to hit the save
times and input changes) is refused when ``h / tau_min > x_s`` for a concept that is not
clamped for the whole run: that mode is amplified at every step, the run diverges.  It is
warned about when ``h / tau_min > x_m`` (the activations overshoot and oscillate) or
when ``h`` times the rate bound exceeds ``x_s`` (the coupled dynamics may be unstable:
a bound, not a certainty).

*Steps of a run.*  Fixed-step methods take exactly ``sum ceil(len / dt)`` steps over the
intervals between consecutive save times and input changes (as the kernel counts them).
Explicit adaptive methods cannot take steps much beyond ``x_s tau_min`` once the fastest
concept has settled (the error estimate of an unstable step grows), so
``(t_end - t0) / (x_s tau_min)`` is a lower bound of their step count.  A run whose count
exceeds ``max_steps`` is refused before it starts (a warning instead when it may stop
early: ``steady_tol``, decisions that stop the run); a run estimated to take more than
:data:`LONG_RUN_S` seconds gets a warning with the number.

*Range.*  In the activation form ``tau da/dt = -a + f(...)`` with a saturating ``f``
(sigmoid, tanh, satlin) the exact solution never leaves the hull of ``f``'s range, the
initial state and the clamp values.  A saved state (or the current state) beyond that
hull by more than a margin -- 5 % of the range width; for the adaptive methods at least
3 (atol + rtol max|f|); plus ten stationary standard deviations of the noise for
Euler-Maruyama -- is numerical garbage and stops the run as a divergence.  (Not checked:
the potential form, whose state ``u`` has no fixed range, and the unbounded transfers.)

*Tolerances.*  ``rtol >= 1`` bounds nothing (refused by :class:`~thoughtfield.Solver`);
for a saturating transfer ``atol + rtol max|f| >= 10 %`` of the range width lets the
error control accept nonsense and is refused.

*Overflow.*  With ``A`` the largest activation the run can start from (the range of a
saturating transfer, else the initial and clamp values, at least 1), the net input of
concept ``i`` is at most ``gain_i (A sum_j |W_ij| + sum |inputs_i| + |bias_i| +
|threshold_i|)`` and, for an unbounded transfer, its derivative that over ``tau_i``;
values from :data:`OVERFLOW` on are refused naming the key (weights, gain, bias,
threshold, stimuli, tau).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, ThoughtfieldWarning
from .transfers import get as get_transfer
from .transfers import names as transfer_names

#: Net inputs and derivatives from here on are refused as overflowing (double precision
#: ends at 1.8e308; the kernels add a few such terms).
OVERFLOW = 1e300
#: Rough cost of one right-hand side evaluation: a fixed part plus a part per edge and
#: state row of each member (measured on the reference machine: 1-1.5 us for a handful of
#: concepts, 7-25 ns per element at 300-3000 concepts).
RHS_FIXED_S, RHS_ELEMENT_S = 1e-6, 1e-8
#: Estimated seconds above which a run gets a "this will take long" warning.
LONG_RUN_S = 30.0


def _round_down(x: float) -> str:
    """``x`` with three significant digits, rounded down (a safe limit to print)."""
    if not (x > 0 and math.isfinite(x)):
        return f"{x:g}"
    e = math.floor(math.log10(x)) - 2
    return f"{math.floor(x / 10.0 ** e) * 10.0 ** e:.3g}"


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} minutes"
    if s < 48 * 3600:
        return f"{s / 3600:.0f} hours"
    return f"{s / 86400:.2g} days"


# ------------------------------------------------------------------ stability
def _stability_poly(method: str) -> np.ndarray:
    from .solvers import TABLEAUS
    tab = TABLEAUS[method]
    s = tab.n_step_stages
    A = np.asarray(tab.A, float)[:s, :s]
    b = np.asarray(tab.b, float)[:s]
    coef = [1.0]
    v = np.ones(s)
    for _ in range(s):
        coef.append(float(b @ v))
        v = A @ v
    return np.array(coef)   # R(z) = sum_k coef[k] z^k


def _first_crossing(f, hi: float = 50.0) -> float:
    """The smallest ``x`` in (0, hi] with ``f(x)`` true (bisection after a scan)."""
    xs = np.linspace(0.0, hi, 200_001)[1:]
    bad = f(xs)
    if not bad.any():
        return math.inf
    k = int(np.argmax(bad))
    lo, up = (xs[k - 1] if k else 0.0), xs[k]
    for _ in range(60):
        mid = 0.5 * (lo + up)
        if f(np.array([mid]))[0]:
            up = mid
        else:
            lo = mid
    return lo


@functools.lru_cache(maxsize=None)
def stability_limit(method: str) -> float:
    """``x_s``: ``|R(-x)| <= 1`` for ``0 <= x <= x_s`` (the stability interval on the
    negative real axis of the explicit method ``method``)."""
    c = _stability_poly(method)[::-1]
    return _first_crossing(lambda x: np.abs(np.polyval(c, -x)) > 1.0 + 1e-12)


@functools.lru_cache(maxsize=None)
def monotonicity_limit(method: str) -> float:
    """``x_m``: ``R(-x) >= 0`` (no overshoot of a relaxation) for ``0 <= x <= x_m``,
    at most :func:`stability_limit`."""
    c = _stability_poly(method)[::-1]
    return min(stability_limit(method), _first_crossing(lambda x: np.polyval(c, -x) < 0.0))


# ------------------------------------------------------------------ the dynamics
def _per_concept(a: np.ndarray, n: int, how=np.max) -> np.ndarray:
    a = np.abs(np.asarray(a, float))
    if a.size == n:   # one value per concept (shared by the members)
        return a
    return how(a.reshape(n, -1), axis=1) if a.size else np.zeros(n)


def _per_concept_signed_max(a: np.ndarray, n: int) -> np.ndarray:
    """Per concept, the member value of largest magnitude, with its sign."""
    a = np.asarray(a, float)
    if a.size == n:
        return a.copy()
    a = a.reshape(n, -1)
    return a[np.arange(n), np.argmax(np.abs(a), axis=1)]


def _row_stats(net, W, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(sum_j |W_ij|, W_ii)`` per concept; kept in the network's cache (cleared by every
    edit) when ``W`` is the network's own cached matrix, so repeated runs of a network
    (protocols, fits, benchmarks) compute them once."""
    cache = getattr(net, "_cache", None)
    own = cache is not None and any(v is W for v in cache.values())
    if own:
        hit = cache.get("row_stats")
        if hit is not None and hit[0] is W:
            return hit[1], hit[2]
    Wc = W.tocsr()
    rows = np.repeat(np.arange(Wc.shape[0]), np.diff(Wc.indptr))
    rowsum = np.bincount(rows, weights=np.abs(Wc.data), minlength=n)[:n]
    diag = np.asarray(Wc.diagonal(), float)[:n]
    if own:
        cache["row_stats"] = (W, rowsum, diag)
    return rowsum, diag


@dataclass
class Dynamics:
    """Rates and scales of a prepared run (see the module docstring)."""
    transfer: str
    form: int
    L: float
    rowsum: np.ndarray        # sum_j |W_ij| per concept
    gain: np.ndarray          # |gain| per concept (largest over members)
    tau_inv: np.ndarray       # 1/tau per concept (largest over members)
    free: np.ndarray          # concepts not clamped for the whole run
    rate_fast: float          # fastest decay rate of a free concept or mechanism
    fast_what: str            # what it belongs to, for messages
    fast_tau: float
    rate_max: float           # Gershgorin bound of |lambda|
    growth: float             # Gershgorin bound of Re(lambda)
    hull: tuple[float, float]  # transfer range joined with the initial and clamp values
    amp: float                # largest activation at the start (>= 1)


def _mechanisms(sim):
    """``mechanism_arrays(sim.problem)``, made once per problem of ``sim``."""
    from ._problem import mechanism_arrays
    P = sim.problem
    got = sim.__dict__.get("_mech")
    if got is None or got[0] is not P:
        got = (P, mechanism_arrays(P))
        sim.__dict__["_mech"] = got
    return got[1]


def dynamics(sim) -> Dynamics:
    cached = sim.__dict__.get("_dynamics")
    if cached is not None:
        return cached
    P = sim.problem
    n, m = P.n, P.m
    net = sim.network
    transfer = sim.model.transfer
    T = get_transfer(transfer)
    L = T.slope
    W = getattr(sim, "weights", None)
    with np.errstate(over="ignore", invalid="ignore"):
        if W is not None and getattr(W, "nnz", 0):
            rowsum, diag = _row_stats(net, W, n)
        else:
            rowsum = np.zeros(n)
            diag = np.zeros(n)
        gain = _per_concept(P.gain, n)
        tau_inv = _per_concept(P.tau_inv, n)
        # concepts clamped (for every member) in every input segment do not move
        K = P.seg_t.size - 1
        seg_of = np.repeat(np.arange(K), np.diff(P.seg_ptr))
        sel = (P.ent_kind == 1) & (P.ent_member < 0)
        pairs = np.unique(np.stack([P.ent_idx[sel], seg_of[sel]]), axis=1) if sel.any() \
            else np.zeros((2, 0), np.int64)
        free = np.bincount(pairs[0], minlength=n)[:n] < K
        gmax = float(gain.max()) if gain.size else 0.0
        g_row = gain if P.form == 0 else np.full(n, gmax)
        def times_L(x):   # L x for x >= 0, with 0 (not NaN) where x = 0 and L = inf
            return np.where(x > 0.0, L * x, 0.0)

        rate_i = tau_inv * (1.0 + times_L(g_row * rowsum))
        # a self-link counts with its sign (self-inhibition only adds decay)
        sgain = _per_concept_signed_max(P.gain, n) if P.form == 0 else np.full(n, gmax)
        grow_i = tau_inv * (-1.0 + times_L(np.maximum(sgain * diag, 0.0))
                            + times_L(g_row * (rowsum - np.abs(diag))))
    rate_fast, fast_what, fast_tau = 0.0, "", math.inf
    if free.any():
        i = int(np.argmax(np.where(free, tau_inv, -1.0)))
        rate_fast = float(tau_inv[i])
        fast_tau = float(1.0 / rate_fast) if rate_fast > 0 else math.inf
        fast_what = f"model.tau = {fast_tau:g} of concept {net.concepts[i]!r}"
    mech = _mechanisms(sim)
    for name, arr in (("adaptation", mech.h_tau_inv), ("control", mech.c_tau_inv),
                      ("evidence leak", mech.e_leak)):
        a = np.abs(np.asarray(arr, float))
        if a.size and float(a.max()) > rate_fast:
            rate_fast = float(a.max())
            fast_tau = 1.0 / rate_fast
            fast_what = f"the {name} time constant {fast_tau:g}"
    rate_max = max(rate_fast, float(np.max(np.where(free, rate_i, 0.0))) if n else 0.0)
    growth = float(np.max(np.where(free, grow_i, -np.inf))) if free.any() else -math.inf
    lo, hi = T.range
    y0 = np.asarray(sim.y0[:n * m], float)
    clamps = P.ent_val[P.ent_kind == 1]
    starts = np.concatenate([y0, clamps]) if clamps.size else y0
    finite_starts = starts[np.isfinite(starts)]
    if finite_starts.size:
        lo = min(lo, float(finite_starts.min()))
        hi = max(hi, float(finite_starts.max()))
    amp = max(1.0, float(np.abs(finite_starts).max()) if finite_starts.size else 0.0)
    if T.saturating:
        amp = max(amp, abs(lo), abs(hi))
    d = Dynamics(transfer=transfer, form=int(P.form), L=L, rowsum=rowsum, gain=gain,
                 tau_inv=tau_inv, free=free, rate_fast=rate_fast, fast_what=fast_what,
                 fast_tau=fast_tau, rate_max=rate_max, growth=growth, hull=(lo, hi), amp=amp)
    sim.__dict__["_dynamics"] = d
    return d


# ------------------------------------------------------------------ step counts
@dataclass
class StepEstimate:
    steps: float          # exact (fixed step) or a lower bound (adaptive)
    exact: bool
    h_max: float | None   # the largest fixed step the run takes
    n_max: float          # the most steps of one interval (fixed step)
    seconds: float        # a rough estimate of the run time (RHS_FIXED_S, RHS_ELEMENT_S)


def _early_stop(sim) -> str:
    if sim.solver.steady_tol is not None:
        return "steady_tol"
    if np.any(_mechanisms(sim).d_stop != 0):
        return "a decision that stops the run"
    return ""


def estimate_steps(sim) -> StepEstimate:
    """The step count of ``sim``'s run (see the module docstring)."""
    P = sim.problem
    stages = sim.solver.tableau.n_step_stages
    per_step = stages * (RHS_FIXED_S + RHS_ELEMENT_S * float(P.data.size * P.m + P.nstate * P.m))
    if not sim.solver.adaptive:
        dt = float(sim.method.opt_f[0])
        pts = np.unique(np.concatenate([sim.ts, P.seg_t]))
        pts = pts[(pts >= sim.t0) & (pts <= sim.t_end)]
        lens = np.diff(pts)
        with np.errstate(over="ignore"):
            n = np.maximum(1.0, np.ceil(lens / dt - 1e-9))
        steps = float(n.sum()) if n.size else 0.0
        h_max = float(np.max(lens / n)) if n.size else dt
        return StepEstimate(steps, not _early_stop(sim), h_max,
                            float(n.max()) if n.size else 0.0, steps * per_step)
    d = dynamics(sim)
    R = stability_limit(sim.solver.method)
    lens = np.diff(P.seg_t)
    # steps can be neither longer than the stability limit allows nor (without failing)
    # shorter than min_step: where min_step is the larger one, the run fails by step
    # collapse, after at most len / min_step steps
    # ... and never longer than max_step
    rate = max(min(d.rate_fast / R, 1.0 / float(sim.method.opt_f[5])),
               1.0 / float(sim.method.opt_f[4]))
    with np.errstate(over="ignore", invalid="ignore"):
        steps = float(np.sum(np.maximum(1.0, np.floor(lens * rate))))
    return StepEstimate(steps, False, None, steps, steps * per_step)


# ------------------------------------------------------------------ checks before a run
def check(sim, overflow: bool = True) -> StepEstimate:
    """Refuse (``ConfigError``) or warn (:class:`ThoughtfieldWarning`) about a prepared
    run; returns its step estimate.  Order: overflow, tolerances, fixed-step stability,
    step count.  ``overflow=False`` skips the overflow check, which depends on the lowered
    problem only (the driver skips it for a problem that passed it before)."""
    if overflow:
        check_overflow(sim)
    d = dynamics(sim)
    solver = sim.solver
    method = solver.method
    if solver.adaptive and get_transfer(d.transfer).saturating:
        lo, hi = get_transfer(d.transfer).range
        width = hi - lo
        amax = max(abs(lo), abs(hi))
        err = solver.atol + solver.rtol * amax
        if err >= 0.1 * width:
            key = "atol" if solver.atol >= solver.rtol * amax else "rtol"
            raise ConfigError(
                f"solver.{key}: rtol = {solver.rtol:g}, atol = {solver.atol:g} allow an error "
                f"of {err:.3g} per step, {100 * err / width:.0f} % of the range [{lo:g}, "
                f"{hi:g}] of the transfer {d.transfer!r}: the error control would accept "
                f"nonsense; use atol + rtol x {amax:g} well below {0.1 * width:g} (defaults "
                "rtol = 1e-6, atol = 1e-9)", key=f"solver.{key}")
    est = estimate_steps(sim)
    R = stability_limit(method)
    # (the asynchronous update is no integrator: no stability limit applies)
    if (not solver.adaptive and method != "async" and est.h_max is not None
            and d.rate_fast > 0):
        h = est.h_max
        Rm = monotonicity_limit(method)
        z = h * d.rate_fast
        dt_txt = f"{float(sim.method.opt_f[0]):g}"
        if z > R * (1 + 1e-9):
            raise ConfigError(
                f"solver.dt: {dt_txt} is beyond the stability limit of {method} for the "
                f"fastest time constant ({d.fast_what}): steps of up to h = {h:g} give "
                f"h / tau = {z:.3g} > {R:.4g}, so the run would diverge; use dt <= "
                f"{_round_down(R / d.rate_fast)} (or leave dt unset: tau / 100), or an "
                "adaptive method ('dopri5')", key='solver.dt')
        if z > Rm * (1 + 1e-9):
            warnings.warn(
                f"solver.dt: steps of up to h = {h:g} over the fastest time constant "
                f"({d.fast_what}) give h / tau = {z:.3g}, beyond the limit {Rm:.4g} below "
                f"which {method} does not overshoot: activations will oscillate around "
                f"their targets; use dt <= {_round_down(Rm / d.rate_fast)} for faithful "
                "results", ThoughtfieldWarning, stacklevel=4)
        elif h * d.rate_max > R * (1 + 1e-9) and math.isfinite(d.L):
            # (a discontinuous f, sign or step, has no such bound: with euler and
            # dt = tau it is the discrete update of binary units, stable by construction)
            warnings.warn(
                f"solver.dt: steps of up to h = {h:g} may be beyond the stability limit of "
                f"{method} for the coupled dynamics: h x the largest rate (1 + gain x "
                f"{d.L:g} x row sum of |W|) / tau = {h * d.rate_max:.3g} > {R:.4g} (a bound, "
                f"not a certainty); if the run diverges, use dt <= "
                f"{_round_down(R / d.rate_max)}", ThoughtfieldWarning, stacklevel=4)
    cap = int(solver.max_steps)
    why = _early_stop(sim)
    if est.steps > cap or est.n_max >= 2.0 ** 62:
        at_least = "" if est.exact or not solver.adaptive else "at least "
        if solver.adaptive and (sim.t_end - sim.t0) / solver.max_step >= est.steps:
            how = f"{method} over [{sim.t0:g}, {sim.t_end:g}] with max_step = {solver.max_step:g}"
            fix = "raise solver.max_step, shorten t_end, or raise solver.max_steps"
        elif solver.adaptive:
            how = (f"{method} over [{sim.t0:g}, {sim.t_end:g}] with steps of at most about "
                   f"{R:.3g} x the fastest time constant ({d.fast_what}): its stability "
                   "limit")
            fix = ("shorten t_end, slow the fastest concept down (a larger tau), or raise "
                   "solver.max_steps")
        if not solver.adaptive:
            how = (f"{method} with dt = {float(sim.method.opt_f[0]):g} over [{sim.t0:g}, "
                   f"{sim.t_end:g}]" + (f"; the fastest time constant is {d.fast_what}"
                                        if d.fast_what else ""))
            fix = "shorten t_end, use a larger dt, or raise solver.max_steps"
        msg = (f"solver.max_steps: this run needs {at_least}{est.steps:.3g} steps ({how}), "
               f"more than max_steps = {cap}; {fix}")
        if est.n_max >= 2.0 ** 62 or not why:
            raise ConfigError(msg, key="solver.max_steps")
        warnings.warn(msg + f" (it may stop earlier: {why})", ThoughtfieldWarning, stacklevel=4)
    elif est.seconds > LONG_RUN_S:
        warnings.warn(
            f"this run needs {'' if est.exact else 'at least '}{est.steps:.3g} steps "
            f"({method}; roughly {_duration(est.seconds)} or more on one core): Ctrl-C stops "
            "it (keeping a checkpoint when checkpointing is on)",
            ThoughtfieldWarning, stacklevel=4)
    return est


def check_overflow(sim) -> None:
    """Refuse parameters whose net input or derivative overflows (module docstring)."""
    P = sim.problem
    n = P.n
    net = sim.network
    tau_inv = _per_concept(P.tau_inv, n)
    bad = ~np.isfinite(tau_inv)
    if bad.any():
        i = int(np.argmax(bad))
        try:
            tau = f"{float(np.min(np.abs(sim.model.resolve('tau', net)[i]))):g} "
        except Exception:   # per-member taus: the value is in member_params
            tau = ""
        raise ConfigError(f"model.tau: {tau}for concept {net.concepts[i]!r} is too small: 1/tau overflows "
                          "double precision; use a tau that is at least a small fraction of "
                          "the time span (e.g. >= 1e-6)", key='model.tau')
    d = dynamics(sim)
    with np.errstate(over="ignore", invalid="ignore"):
        inputs = np.bincount(P.ent_idx[P.ent_kind == 0],
                             weights=np.abs(P.ent_val[P.ent_kind == 0]), minlength=n)[:n]
        bias = _per_concept(P.bias, n)
        thr = _per_concept(P.thr, n)
        coupled = d.rowsum * d.amp
        terms = np.stack([coupled, inputs, bias, thr])
        total = terms.sum(axis=0)
        net_in = d.gain * total if d.form == 0 else total
        deriv = (np.where(np.isfinite(net_in), net_in, np.inf) + d.amp) * tau_inv
        bounded = get_transfer(d.transfer).saturating
        over_in = ~(np.abs(net_in) < OVERFLOW)
        over_d = ~(deriv < OVERFLOW) & (~bounded | (d.form == 1))
        if bounded and d.form == 0:
            deriv = (max(abs(d.hull[0]), abs(d.hull[1])) + d.amp) * tau_inv
            over_d = ~(deriv < OVERFLOW)
    if not (over_in.any() or over_d.any()):
        return
    # the worst concept first (the one whose own terms overflow, not a neighbour's)
    worst = np.where(np.isnan(net_in), np.inf, np.abs(net_in))
    i = int(np.argmax(np.where(over_in, worst, -1.0))) if over_in.any() \
        else int(np.argmax(np.where(over_d, deriv, -1.0)))
    c = net.concepts[i]
    if over_in[i]:
        k = int(np.argmax(np.where(np.isfinite(terms[:, i]), terms[:, i], np.inf)))
        if not total[i] < OVERFLOW or d.gain[i] <= 1.0 or d.form == 1:
            if k == 0:
                W = sim.weights.tocsr()
                lo, hi = W.indptr[i], W.indptr[i + 1]
                j = lo + int(np.argmax(np.abs(W.data[lo:hi])))
                raise ConfigError(
                    f"network: the weights into concept {c!r} (the largest {W.data[j]:g}, from "
                    f"{net.concepts[int(W.indices[j])]!r}) sum to {d.rowsum[i]:.3g} in absolute "
                    f"value: with activations up to {d.amp:g} the net input would overflow "
                    f"double precision (limit {OVERFLOW:g}); use weights of a sensible scale",
                    key='network')
            what = {1: "stimuli: the inputs to", 2: "model.bias: the bias of",
                    3: "model.threshold: the threshold of"}[k]
            raise ConfigError(f"{what} concept {c!r} ({terms[k, i]:.3g}) makes the net input "
                              f"overflow double precision (limit {OVERFLOW:g}); use values of a "
                              "sensible scale")
        raise ConfigError(f"model.gain: {d.gain[i]:g} for concept {c!r} makes the net input "
                          f"gain x ({total[i]:.3g}) overflow double precision (limit "
                          f"{OVERFLOW:g}); use a smaller gain", key='model.gain')
    raise ConfigError(f"model.tau: {1.0 / tau_inv[i]:g} for concept {c!r} is too small: the "
                      f"derivative (target - activation) / tau could reach {deriv[i]:.3g}, "
                      f"beyond what double precision carries (limit {OVERFLOW:g}); use a tau "
                      "that is at least a small fraction of the time span (e.g. >= 1e-6)",
                      key='model.tau')


# ------------------------------------------------------------------ range check
def range_bounds(sim, est: StepEstimate | None = None) -> tuple[float, float] | None:
    """``(lo, hi)`` that the concept rows of ``sim``'s state must stay within, or None
    when the run has no such range (module docstring)."""
    d = dynamics(sim)
    if not get_transfer(d.transfer).saturating or d.form != 0:
        return None
    lo, hi = get_transfer(d.transfer).range
    width = hi - lo
    margin = 0.05 * width
    solver = sim.solver
    if solver.adaptive:
        margin = max(margin, 3.0 * (solver.atol + solver.rtol * max(abs(lo), abs(hi))))
    noise = np.asarray(sim.problem.noise, float)
    if noise.size and np.any(noise != 0.0):
        h = est.h_max if est is not None and est.h_max else float(sim.method.opt_f[0])
        n = sim.problem.n
        ti = np.asarray(sim.problem.tau_inv, float)
        ti = np.broadcast_to(ti.reshape(n, -1), (n, max(noise.size // n, ti.size // n)))
        nz = np.broadcast_to(np.abs(noise).reshape(n, -1), ti.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = 1.0 - h * ti
            var = nz ** 2 * h / (1.0 - r * r)
        var = np.where(1.0 - r * r > 0, var, np.inf)
        margin += 10.0 * float(np.sqrt(var.max()))
    if not math.isfinite(margin):
        return None
    return d.hull[0] - margin, d.hull[1] + margin


# ------------------------------------------------------------------ hints
def _step_limits(sim):
    d = dynamics(sim)
    est = sim.__dict__.get("step_estimate")
    h = est.h_max if est is not None and est.h_max else float(sim.method.opt_f[0])
    return d, h, stability_limit(sim.solver.method), monotonicity_limit(sim.solver.method)


def _stability_hint(sim, d, h, R) -> str:
    return (f"the step is likely beyond the stability limit of {sim.solver.method}: steps of "
            f"up to h = {h:g} times the largest rate of the dynamics ((1 + gain x {d.L:g} x "
            f"row sum of |W|) / tau = {d.rate_max:.3g}) give {h * d.rate_max:.3g} > {R:.4g}; "
            f"use dt <= {_round_down(R / d.rate_max)} or an adaptive method ('dopri5')")


def _scale_text(sim, d) -> str:
    i = int(np.argmax(d.rowsum)) if d.rowsum.size else 0
    return (f"largest row sum of |W| {float(d.rowsum.max()) if d.rowsum.size else 0:.3g} "
            f"(into {sim.network.concepts[i]!r}), largest gain {float(d.gain.max()):.3g}, "
            f"smallest tau {1.0 / float(d.tau_inv.max()):.3g}")


def nonfinite_hint(sim, flat: int) -> str:
    """The hint of a non-finite state at state index ``flat``."""
    d, h, R, _ = _step_limits(sim)
    fixed = not sim.solver.adaptive
    unstable_step = fixed and h * d.rate_max > R * (1 + 1e-9)
    tr = d.transfer
    if flat >= sim.network.n * sim.members:
        hint = ("a mechanism variable overflowed: check the parameters of that mechanism "
                "(its rates, gains and time constants) and the inputs it integrates")
        return _stability_hint(sim, d, h, R) + "; or " + hint if unstable_step else hint
    if get_transfer(tr).saturating:
        lo, hi = get_transfer(tr).range
        hint = (f"the transfer {tr!r} keeps activations within [{lo:g}, {hi:g}], so a "
                f"non-finite value comes from an overflow: look for huge weights, gains, "
                f"biases, inputs or initial values, or a tiny tau ({_scale_text(sim, d)})")
        return _stability_hint(sim, d, h, R) + "; otherwise " + hint if unstable_step else hint
    if d.growth > 0:
        g = float(d.gain.max())
        r = float(d.rowsum.max())
        hint = (f"the dynamics diverge: with the unbounded transfer {tr!r}, gain x row sum of "
                f"|W| up to {g:g} x {r:.3g} exceeds 1 (the decay"
                + (f" times {1 / d.L:g}" if d.L != 1 else "") + "), so activation can grow "
                "without bound; lower the weights or gains (gain x row sum < 1 keeps it "
                "bounded) or use a saturating transfer ("
                + ", ".join(map(repr, transfer_names(saturating=True))) + ")")
        return _stability_hint(sim, d, h, R) + "; or " + hint if unstable_step else hint
    if unstable_step:
        return _stability_hint(sim, d, h, R)
    return (f"with the transfer {tr!r} the linearised dynamics decay (gain x row sum of |W| "
            f"<= 1), so a non-finite value comes from an overflow: look for huge inputs, "
            f"biases or initial values ({_scale_text(sim, d)})")


def range_hint(sim) -> str:
    """The hint of a state that left the range of its saturating transfer."""
    d, h, R, Rm = _step_limits(sim)
    s = sim.solver
    if not s.adaptive:
        if h * d.rate_fast > Rm * (1 + 1e-9):
            return (f"steps of up to h = {h:g} over the fastest time constant "
                    f"({d.fast_what}) give h / tau = {h * d.rate_fast:.3g} > {Rm:.4g}, where "
                    f"{s.method} overshoots the targets; use dt <= "
                    f"{_round_down(Rm / d.rate_fast)}")
        if h * d.rate_max > R * (1 + 1e-9):
            return _stability_hint(sim, d, h, R)
        return (f"the step dt = {float(sim.method.opt_f[0]):g} is too coarse for these "
                "dynamics: use a smaller dt or an adaptive method ('dopri5')")
    hint = (f"the exact dynamics cannot leave this range, so the integration error is far "
            f"beyond what rtol = {s.rtol:g}, atol = {s.atol:g} promise; tighten rtol (e.g. "
            f"rtol = {max(1e-10, s.rtol / 100):g})")
    if s.method == "dop853" and get_transfer(d.transfer).kinks:
        hint += (f" or use method = 'dopri5' (the kinks of {d.transfer!r} defeat dop853's "
                 "error estimate)")
    return hint


def step_too_small_hint(sim) -> str:
    d = dynamics(sim)
    s = sim.solver
    R = stability_limit(s.method)
    min_step = float(sim.method.opt_f[5])
    if d.rate_fast > 0 and R / d.rate_fast < 10 * min_step:
        return (f"the fastest time constant ({d.fast_what}) lets {s.method} take stable steps "
                f"of only about {R / d.rate_fast:.3g} (its stability limit), below or near "
                f"min_step = {min_step:g}: lower solver.min_step (and expect many steps) or "
                "slow the fastest concept down (a larger tau)")
    if d.rate_max > 0 and R / d.rate_max < 10 * min_step:
        return (f"the coupled dynamics may be too fast for steps above min_step = "
                f"{min_step:g} (rate bound (1 + gain x {d.L:g} x row sum of |W|) / tau = "
                f"{d.rate_max:.3g}, so stable steps of {s.method} may need to be as small as "
                f"{R / d.rate_max:.3g} by its stability limit): lower solver.min_step, or lower "
                "the gains/weights")
    if s.rtol <= 1e-10:
        return (f"rtol = {s.rtol:g} is near the limit of double precision: loosen rtol (e.g. "
                "1e-8)")
    return ("the dynamics change abruptly there (a discontinuity, a very large input or a "
            "kink of " + "/".join(map(repr, transfer_names(kinks=True)))
            + "): check the inputs near that time, loosen the tolerances, "
            "or lower solver.min_step")


def max_steps_hint(sim) -> str:
    d = dynamics(sim)
    s = sim.solver
    R = stability_limit(s.method)
    if not s.adaptive:
        est = sim.__dict__.get("step_estimate")
        h = est.h_max if est is not None and est.h_max else float(sim.method.opt_f[0])
        Rm = monotonicity_limit(s.method)
        parts = ["raise solver.max_steps", "shorten t_end"]
        if d.rate_fast > 0:
            limit = Rm / d.rate_fast
            if h < 0.5 * limit:
                parts.append(f"use a larger dt (up to about {_round_down(limit)}, "
                             + ("the stability limit" if Rm == R else "the overshoot limit")
                             + f" of {s.method} for the fastest time constant, "
                             f"{d.fast_what})")
                return "; ".join(parts[:2]) + " or " + parts[2]
            return (f"{parts[0]} or {parts[1]}: dt = {float(sim.method.opt_f[0]):g} is already "
                    f"near the stability limit of {s.method} for the fastest time constant "
                    f"({d.fast_what}; no overshoot up to dt = {_round_down(Rm / d.rate_fast)}, "
                    f"stable up to {_round_down(R / d.rate_fast)})")
        return f"{parts[0]} or use a larger step"
    need = (sim.t_end - sim.t0) * d.rate_fast / R
    if need > 0.5 * s.max_steps:
        return (f"the fastest time constant ({d.fast_what}) limits {s.method} to steps of about "
                f"{R / d.rate_fast:.3g} (its stability limit), about {need:.3g} steps over the "
                "run: raise solver.max_steps, shorten t_end, or slow the fastest concept down")
    return ("raise solver.max_steps or shorten t_end"
            + (f", or loosen rtol (now {s.rtol:g})" if s.rtol < 1e-8 else ""))
