"""Fixed points (Newton with the analytic sparse Jacobian), linear steady states, stability.

A fixed point ``y*`` of the autonomous dynamics (inputs frozen at a time, no noise) solves
``G(y) = tau * dy/dt = 0``.  :func:`fixed_point` refines any state (for instance the end of
a run) with a damped Newton method: each step solves ``G'(y) d = -G(y)`` with the analytic
sparse Jacobian (dense LU for small networks, SuperLU otherwise), and halves the step
until the merit ``|G|^2 / 2`` decreases (Armijo).  It stops when ``max |G| <= tol``
(activation units) and raises :class:`FixedPointError` -- naming the residual and the
iteration count -- otherwise.

For linear dynamics the steady state solves one sparse linear system
(:func:`steady_state`); it is the long-time limit of a run when it is stable.

Stability comes from the eigenvalues of the Jacobian at the fixed point: all of them for
small networks (dense), the leading few (largest real part, ARPACK) for large ones.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .. import _validate as V
from ..errors import ConfigError, SimulationError
from ._dynamics import Dynamics

#: Networks up to this many free concepts use dense linear algebra.
DENSE_MAX = 400
#: Beyond DENSE_MAX, GMRES; a sparse LU is the fallback up to this many (see :func:`_solve`).
DIRECT_MAX = 5000

KINDS = ("stable", "marginal", "saddle", "unstable")


class AnalysisError(SimulationError):
    """An analysis step (Newton, eigenvalues, attractor search) failed."""


class FixedPointError(AnalysisError):
    """Newton's method did not converge.  ``residual`` and ``iterations`` say how far it got;
    ``state`` holds the last iterate.  (The fields have defaults so that pickling -- dask
    sends errors between processes -- rebuilds it from its message and then its fields.)"""

    def __init__(self, message: str, *, residual: float = math.nan, iterations: int = 0,
                 state=None):
        super().__init__(message, status="newton_failed")
        self.residual = residual
        self.iterations = iterations
        self.state = state


# --------------------------------------------------------------------------- results
@dataclass
class Stability:
    """Linear stability of a fixed point.

    Attributes
    ----------
    kind : {"stable", "marginal", "saddle", "unstable"}
        ``stable``: every eigenvalue has real part < -tol; ``marginal``: none > tol but some
        within ``[-tol, tol]``; ``saddle``: some > tol and some <= tol; ``unstable``: all > tol.
    eigenvalues : complex ndarray
        Computed eigenvalues, largest real part first (all of them when ``complete``).
    max_real : float
        Largest real part (the growth rate of the leading mode, 1/time).
    n_unstable : int
        Eigenvalues with real part > tol (a lower bound when not ``complete``).
    time_constant : float
        ``1 / |max_real|``: the decay time of the slowest mode at a stable point (the
        slowest time constant), the growth time of the fastest unstable mode otherwise;
        ``inf`` at a marginal point.
    tol : float
        The marginality tolerance used (1/time).
    complete : bool
        Whether every eigenvalue was computed (dense) or only the leading ones (ARPACK).
    """

    kind: str
    eigenvalues: np.ndarray
    max_real: float
    n_unstable: int
    time_constant: float
    tol: float
    complete: bool
    method: str

    def __str__(self) -> str:
        extra = f", {self.n_unstable} unstable direction(s)" if self.n_unstable else ""
        return (f"{self.kind} (max Re lambda = {self.max_real:.4g}, time constant "
                f"{self.time_constant:.4g}{extra})")


@dataclass
class FixedPoint:
    """A fixed point found by :func:`fixed_point`.

    Attributes
    ----------
    state : ndarray (S,)
        The state (activations in the activation form, potentials ``u`` in the potential form),
        followed by the adaptation ``h`` and the controls ``c`` when the model has them
        (``S = N`` otherwise).
    activation : ndarray (N,)
        Observable activations.
    residual : float
        ``max |tau * dy/dt|`` at ``state`` (activation units).
    iterations : int
        Newton iterations used.
    stability : Stability or None
    energy : float
        Lyapunov energy (NaN when it does not apply, e.g. non-symmetric weights).
    """

    state: np.ndarray
    activation: np.ndarray
    concepts: tuple
    form: str
    residual: float
    iterations: int
    stability: Stability | None = None
    energy: float = math.nan
    t: float | None = None
    _extra: dict = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str | None:
        return None if self.stability is None else self.stability.kind

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most active concepts with their activations."""
        order = np.argsort(-self.activation, kind="stable")[:k]
        return [(self.concepts[i], float(self.activation[i])) for i in order]

    def __str__(self) -> str:
        top = ", ".join(f"{c}={v:.3g}" for c, v in self.top(5))
        st = "" if self.stability is None else f"; {self.stability}"
        en = "" if not math.isfinite(self.energy) else f"; energy {self.energy:.6g}"
        return (f"fixed point (residual {self.residual:.2e} after {self.iterations} Newton "
                f"iteration(s)){st}{en}; most active: {top}")


# --------------------------------------------------------------------------- linear algebra
def _solve(J, rhs, rtol: float = 1e-12):
    """Solve ``J x = rhs``; returns None when ``J`` is singular (or no solver makes progress).

    Dense LU up to :data:`DENSE_MAX` unknowns; beyond, restarted GMRES with a Jacobi
    preconditioner (the sparse LU of a large random graph fills in catastrophically: about
    1 s per factorisation at N = 2000 and out of memory at N = 20000), falling back to a
    sparse LU (SuperLU) up to :data:`DIRECT_MAX` unknowns when GMRES stalls (near-singular
    Jacobians).  Newton only needs the iterative solve to ``rtol`` relative accuracy
    (inexact Newton; the line search guards the step).
    """
    import scipy.linalg
    import scipy.sparse.linalg as spla
    n = J.shape[0]
    if n == 0:
        return np.zeros(0)
    x = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if n <= DENSE_MAX:
                x = scipy.linalg.solve(J.toarray(), rhs, check_finite=False)
            else:
                d = J.diagonal()
                d = np.where(np.abs(d) > 1e-12, d, 1.0)
                Minv = spla.LinearOperator(J.shape, matvec=lambda v: v / d, dtype=np.float64)
                x, info = spla.gmres(J, rhs, rtol=rtol, atol=0.0, restart=60, maxiter=20, M=Minv)
                if info != 0:
                    r = np.linalg.norm(J @ x - rhs)
                    if n <= DIRECT_MAX:
                        x = spla.splu(J.tocsc()).solve(rhs)
                    elif not r < 0.5 * np.linalg.norm(rhs):
                        x = None
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError, RuntimeError, ValueError):
            return None
    if x is None or not np.all(np.isfinite(x)):
        return None
    return x


def _lm_step(J, G, mu):
    """A Levenberg-Marquardt step ``(J^T J + mu 1) d = -J^T G`` (for singular Jacobians)."""
    n = J.shape[0]
    A = (J.T @ J + mu * sp.identity(n, format="csr")).tocsr()
    return _solve(A, -(J.T @ G), rtol=1e-8)


def newton(dyn: Dynamics, y0, *, tol: float = 1e-10, max_iter: int = 50):
    """Damped Newton iteration on ``G(y) = tau * dy/dt`` over the free concepts.

    Returns ``(state, residual, iterations)``; raises :class:`FixedPointError`.
    """
    y = np.array(y0, dtype=np.float64, copy=True)
    if y.shape != (dyn.nstate,):
        extra = "" if dyn.nstate == dyn.n else \
            f" ({dyn.n} concepts, then " + ", ".join(
                f"{b - a} {nm}" for nm, a, b in dyn.extra_rows) + ")"
        raise ConfigError(f"initial: expected {dyn.nstate} values{extra}, one per "
                          f"{'concept' if not extra else 'state row'} (got shape {y.shape})",
                          key='initial')
    if not np.isfinite(y).all():
        i = int(np.argmax(~np.isfinite(y)))
        what = f"activation of {dyn.concepts[i]!r}" if i < dyn.n else f"state row {i}"
        raise ConfigError(f"initial: {what} is not finite ({y[i]!r})", key='initial')
    free = dyn.free
    if dyn.form == "activation" and dyn.clamped.any():
        y[:dyn.n][dyn.clamped] = dyn.clamp_value[dyn.clamped]
    tau_f = dyn.row_tau[free]

    def G_of(yy):
        return dyn.residual(yy)[free]

    G = G_of(y)
    res = float(np.max(np.abs(G))) if G.size else 0.0
    it = 0
    while res > tol:
        if it >= max_iter:
            raise FixedPointError(
                f"Newton's method did not converge: residual max|tau da/dt| = {res:.3g} after "
                f"{it} iterations (tol = {tol:g}); start closer to a fixed point (e.g. run the "
                f"simulation longer) or raise max_iter", residual=res, iterations=it, state=y)
        it += 1
        J = sp.diags(tau_f) @ dyn.jacobian(y)
        d = _solve(J.tocsr(), -G, rtol=min(1e-3, max(res, 1e-12)))
        phi = 0.5 * float(G @ G)
        accepted = False
        for attempt in range(2):
            if d is not None:
                lam = 1.0
                slope = float(G @ (J @ d))  # directional derivative of phi
                if slope >= 0:  # not a descent direction (LM steps always are)
                    slope = -2.0 * phi
                while lam >= 1.0 / 4096:
                    yt = y.copy()
                    yt[free] += lam * d
                    Gt = G_of(yt)
                    if np.all(np.isfinite(Gt)) and 0.5 * float(Gt @ Gt) <= phi + 1e-4 * lam * slope:
                        y, G = yt, Gt
                        accepted = True
                        break
                    lam *= 0.5
            if accepted:
                break
            # singular Jacobian or no decrease: a regularised (Levenberg-Marquardt) step
            mu = 1e-6 * max(1.0, float(abs(J).max()) ** 2) * (1.0 + phi)
            d = _lm_step(J.tocsr(), G, mu)
        if not accepted:
            raise FixedPointError(
                f"Newton's method stalled: no step reduces the residual max|tau da/dt| = {res:.3g} "
                f"at iteration {it} (tol = {tol:g}); the state may be near a turning point of the "
                "dynamics -- start from another state", residual=res, iterations=it, state=y)
        res = float(np.max(np.abs(G))) if G.size else 0.0
    return y, res, it


# --------------------------------------------------------------------------- stability
def _classify(re, tol, complete):
    nu = int(np.sum(re > tol))
    nm = int(np.sum(np.abs(re) <= tol))
    ns = int(np.sum(re < -tol))
    if nu == 0:
        return ("marginal" if nm else "stable"), nu
    if ns or nm or not complete:
        return "saddle", nu
    return "unstable", nu


def stability_of(dyn: Dynamics, y, *, k: int = 6, marginal_tol: float = 1e-8,
                 dense_max: int = DENSE_MAX) -> Stability:
    """Eigenvalue analysis of the Jacobian of ``dyn`` at state ``y``."""
    import scipy.sparse.linalg as spla
    J = dyn.jacobian(y)
    n = J.shape[0]
    tol = marginal_tol * float(np.max(1.0 / dyn.tau))
    if n == 0:
        return Stability("stable", np.zeros(0, complex), -math.inf, 0, math.nan, tol, True, "none")
    if n <= dense_max:
        ev = np.linalg.eigvals(J.toarray())
        complete = True
        method = "dense"
    else:
        k = int(min(max(k, 1), n - 2))
        try:
            # ncv = 20: fastest measured on random-graph Jacobians, whose rightmost
            # eigenvalues crowd the edge of a disk (no gap: slow for any setting)
            ev = spla.eigs(J, k=k, which="LR", tol=1e-8, ncv=min(n - 1, max(2 * k + 1, 20)),
                           maxiter=max(1000, 20 * n), return_eigenvectors=False)
        except spla.ArpackNoConvergence as e:
            ev = e.eigenvalues
            if ev is None or len(ev) == 0:
                raise AnalysisError(
                    f"ARPACK found no eigenvalue of the {n}x{n} Jacobian (largest real part); "
                    "pass dense_max >= the number of concepts to use dense eigenvalues") from None
        complete = False
        method = "arpack"
        if np.max(ev.real) > tol:
            # is it a saddle (some decaying direction) or a repeller?
            try:
                sr = spla.eigs(J, k=1, which="SR", tol=1e-8, maxiter=max(1000, 20 * n),
                               return_eigenvectors=False)
                ev = np.concatenate([ev, sr])
            except spla.ArpackNoConvergence:
                pass
    ev = np.asarray(ev, dtype=complex)
    ev = ev[np.lexsort((-ev.imag, -ev.real))]
    re = ev.real
    kind, nu = _classify(re, tol, complete)
    mr = float(re.max())
    tc = math.inf if abs(mr) <= tol else 1.0 / abs(mr)
    return Stability(kind, ev, mr, nu, tc, tol, complete, method)


def _dynamics(network, model, stimuli, t, form):
    if isinstance(network, Dynamics):
        return network
    return Dynamics(network, model, stimuli, t=t, form=form)


def stability(network, model=None, state=None, *, stimuli=None, t=None, form=None, k: int = 6,
              marginal_tol: float = 1e-8, dense_max: int = DENSE_MAX) -> Stability:
    """Linear stability of ``state`` (normally a fixed point) of the autonomous dynamics.

    Parameters
    ----------
    network : ConceptNetwork (or a :class:`Dynamics`)
    model : Model
    state : array (N,) or FixedPoint
        The state (potentials ``u`` in the potential form).
    k : int
        Eigenvalues computed by ARPACK for networks with more than ``dense_max`` free
        concepts (largest real part first).
    marginal_tol : float
        Real parts within ``marginal_tol * max(1/tau)`` of zero count as marginal.
    """
    dyn = _dynamics(network, model, stimuli, t, form)
    if isinstance(state, FixedPoint):
        state = state.state
    if state is None:
        raise ConfigError("state: give the state to analyse (e.g. fixed_point(...).state)",
                          key='state')
    y = np.asarray(state, dtype=np.float64)
    if y.shape != (dyn.nstate,):
        raise ConfigError(f"state: expected {dyn.nstate} values, one per "
                          f"{'concept' if dyn.nstate == dyn.n else 'state row'} (got shape {y.shape})",
                          key='state')
    V.real("marginal_tol", marginal_tol, min=0.0)
    return stability_of(dyn, y, k=V.integer("k", k, min=1), marginal_tol=marginal_tol,
                        dense_max=dense_max)


# --------------------------------------------------------------------------- fixed points
def _energy(dyn, a):
    if dyn.energy_defined() is not None:
        return math.nan
    return float(dyn.energy(a))


def start_state(dyn: Dynamics, initial, member=None):
    """The Newton start for ``initial``: None (the model's initial activations), an array
    of activations (N,), a mapping ``concept -> activation`` or a result Dataset (its last
    saved activations)."""
    from collections.abc import Mapping

    import xarray as xr
    if initial is None:
        return dyn.initial_state.copy()
    if isinstance(initial, FixedPoint):
        return np.array(initial.state, dtype=np.float64)
    if isinstance(initial, xr.Dataset):
        act = initial["activation"]
        if "member" in act.dims:
            if member is None:
                raise ConfigError("member: the result is an ensemble; choose the member whose "
                                  "end state to refine (member=0, ...)", key='member')
            act = act.sel(member=member)
        names = [str(c) for c in act.concept.values]
        if names != list(dyn.concepts):
            raise ConfigError("initial: the result's concepts differ from the network's",
                              key='initial')
        return dyn.state_from_activation(np.asarray(act.isel(time=-1).values, dtype=np.float64))
    if isinstance(initial, Mapping):
        from ..model import resolve_per_concept
        base = dict(initial)
        a = resolve_per_concept("initial", base, dyn.network, 0.0) if "*" in base else \
            dyn.initial_activation.copy()
        for kk, v in base.items():
            if kk != "*" and not kk.startswith("@"):
                a[dyn.network.index(kk, f"initial.{kk}")] = V.real(f"initial.{kk}", v)
        return dyn.state_from_activation(a)
    a = np.asarray(initial, dtype=np.float64)
    if dyn.nstate != dyn.n and a.shape == (dyn.nstate,):
        return a.copy()             # a full state (concepts, adaptation, controls)
    if a.shape != (dyn.n,):
        full = "" if dyn.nstate == dyn.n else \
            f", or a full state of {dyn.nstate} values ({dyn.n} concepts, then " + ", ".join(
                f"{b - a_} {nm}" for nm, a_, b in dyn.extra_rows) + ")"
        raise ConfigError(f"initial: expected {dyn.n} activations, one per concept{full} "
                          f"(got shape {a.shape})", key='initial')
    return dyn.state_from_activation(a)


def _result_inputs(initial, stimuli, t):
    """A result Dataset brings its own stimuli and end time when none are given."""
    import xarray as xr
    if isinstance(initial, xr.Dataset):
        if stimuli is None and "stimuli" in initial.attrs:
            from ..results import description
            stimuli = description(initial, "stimuli")
        if t is None:
            t = float(initial.time.values[-1])
    return stimuli, t


def fixed_point(network, model=None, initial=None, *, stimuli=None, t=None, form=None,
                tol: float = 1e-10, max_iter: int = 50, stability: bool = True,
                member=None) -> FixedPoint:
    """Refine ``initial`` to a fixed point of the autonomous dynamics with Newton's method.

    Parameters
    ----------
    network : ConceptNetwork
    model : Model
    initial : None, array (N,), mapping, FixedPoint or result Dataset
        Where Newton starts (activations; for a Dataset its last saved state, and unless
        given, its stimuli frozen at its last time).
    stimuli, t
        Inputs frozen at time ``t`` (``None``: after the last scheduled change).
    form : {"activation", "potential"}, optional
        Default ``model.form``.
    tol : float
        Residual tolerance on ``max |tau dy/dt|`` (activation units).
    max_iter : int
    stability : bool
        Also classify the fixed point (eigenvalues of the Jacobian).

    Raises
    ------
    FixedPointError
        Newton did not converge (message names the residual and iteration count).
    """
    stimuli, t = _result_inputs(initial, stimuli, t)
    dyn = _dynamics(network, model, stimuli, t, form)
    tol = V.positive("tol", tol)
    max_iter = V.integer("max_iter", max_iter, min=1)
    y0 = start_state(dyn, initial, member)
    y, res, it = newton(dyn, y0, tol=tol, max_iter=max_iter)
    return _make_fp(dyn, y, res, it, stability)


def _make_fp(dyn, y, res, it, with_stability=True, **stab_kw):
    a = dyn.activation(y)
    st = stability_of(dyn, y, **stab_kw) if with_stability else None
    return FixedPoint(state=y, activation=a, concepts=dyn.concepts, form=dyn.form, residual=res,
                      iterations=it, stability=st, energy=_energy(dyn, a), t=dyn.t)


def fixed_points(network, model=None, initial_states=None, *, stimuli=None, t=None, form=None,
                 tol: float = 1e-10, max_iter: int = 50, distinct_tol: float = 1e-6,
                 samples: int | None = None, seed: int | None = None) -> list[FixedPoint]:
    """Every distinct fixed point Newton reaches from a set of starts.

    ``initial_states`` is an ``(K, N)`` array of activations; without it ``samples``
    random activations are drawn uniformly over the range of the transfer function.
    Starts from which Newton fails are skipped.  Fixed points closer than
    ``distinct_tol`` (max-norm on the state) count as one.  Sorted by stability
    (stable first), then by energy/activation.
    """
    dyn = _dynamics(network, model, stimuli, t, form)
    if initial_states is None:
        if samples is None:
            raise ConfigError("fixed_points: give initial_states or samples", key='fixed_points')
        samples = V.integer("samples", samples, min=1)
        from ._dynamics import random_activations
        rng = np.random.default_rng(seed)
        A0 = random_activations(dyn, samples, rng)
    else:
        A0 = np.atleast_2d(np.asarray(initial_states, dtype=np.float64))
        if A0.ndim != 2 or A0.shape[1] != dyn.n:
            raise ConfigError(f"initial_states: expected shape (K, {dyn.n}) (got "
                              f"{np.shape(initial_states)})", key='initial_states')
    found: list[FixedPoint] = []
    for a0 in A0:
        try:
            y, res, it = newton(dyn, dyn.state_from_activation(a0), tol=tol, max_iter=max_iter)
        except FixedPointError:
            continue
        if any(np.max(np.abs(y - f.state)) <= distinct_tol for f in found):
            continue
        found.append(_make_fp(dyn, y, res, it))
    order = {k: i for i, k in enumerate(KINDS)}
    found.sort(key=lambda f: (order[f.kind], tuple(-np.round(f.activation, 9))))
    return found


def steady_state(network, model=None, stimuli=None, *, t=None, form=None) -> FixedPoint:
    """The steady state of *linear* dynamics by one sparse solve.

    Activation form: ``(1 - G W) a = G (I + b - thr)``; potential form:
    ``(1 - W G) u = W G (b - thr) + I`` (``G = diag(gain)``).  It is the long-time limit
    of a run when its ``stability.kind`` is ``"stable"``.

    Raises
    ------
    ConfigError
        The transfer function is not ``"linear"``.
    FixedPointError
        The system matrix is singular (no unique steady state).
    """
    dyn = _dynamics(network, model, stimuli, t, form)
    if any(dyn.c_tau_inv != 0.0):
        raise ConfigError("model.controls: steady_state needs linear dynamics, and a continuous "
                          "control responds to the (quadratic) conflict energy; use "
                          "fixed_point() instead", key='model.controls')
    if dyn.transfer != "linear":
        raise ConfigError(f"transfer: steady_state needs linear dynamics (transfer 'linear', "
                          f"got {dyn.transfer!r}); use fixed_point() for nonlinear dynamics",
                          key='transfer')
    y = dyn.state_from_activation(np.where(dyn.clamped, dyn.clamp_value, 0.0))
    G = dyn.residual(y)[dyn.free]
    J = sp.diags(dyn.tau[dyn.free]) @ dyn.jacobian(y)
    d = _solve(J.tocsr(), -G)
    if d is None:
        raise FixedPointError(
            "steady_state: the linear system (1 - gain W) is singular, so the steady state is "
            "not unique (an eigenvalue of gain*W equals 1); change the weights or gains",
            residual=float(np.max(np.abs(G))) if G.size else 0.0, iterations=0, state=y)
    y[dyn.free] += d
    res = float(np.max(np.abs(dyn.residual(y)[dyn.free]))) if dyn.free.size else 0.0
    return _make_fp(dyn, y, res, 1)
