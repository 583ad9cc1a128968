"""The autonomous dynamics in numpy: right-hand side, analytic sparse Jacobian, energy.

Parameters come from the same lowering the solvers use
(:func:`thoughtfield.build.build_problem`), so the analysis sees exactly the per-concept
``tau``, ``gain``, ``threshold``, ``bias``, the coupling matrix ``W`` and the inputs of a
run.  Inputs are *frozen* at a chosen time: pulses active then are constant inputs,
clamps hold their concept fixed.

Two state forms (``form``):

``"activation"`` (state ``y = a``)::

    tau_i da_i/dt = -a_i + f(g_i (x_i - thr_i)),     x = W a + I + b
    J = T^-1 (-1 + D W),      D = diag(g_i f'(g_i (x_i - thr_i)))

``"potential"`` (state ``y = u``, output ``a = f(g (u + b - thr))``)::

    tau_i du_i/dt = -u_i + sum_j W_ij a_j + I_i
    J = T^-1 (-1 + W D),      D = diag(g_j f'(g_j (u_j + b_j - thr_j)))

Clamped concepts are not unknowns: their activation is held at the clamp value (in the
potential form their output ``a``), and the Jacobian, Newton's method and the eigenvalues
act on the free concepts only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .. import _validate as V
from ..build import build_problem
from ..errors import ConfigError
from ..model import Model
from ..network import ConceptNetwork

FORMS = ("activation", "potential")

#: Model fields the analysis models (others -- mechanisms added later, such as pools,
#: stored ideas in the dynamics, goal bias, adaptation -- must be at their defaults).
MODELLED_FIELDS = frozenset({"tau", "transfer", "gain", "threshold", "bias", "sigma", "initial",
                             "form", "record_potential"})


def _unset(value, default) -> bool:
    if value is default:
        return True
    empty = (None, (), [], {})
    if any(value is e or (type(value) is type(e) and not value) for e in empty) and \
            any(default is e or (type(default) is type(e) and not default) for e in empty):
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def check_modelled(model) -> None:
    """Refuse models with terms the analysis does not include (it would be silently wrong)."""
    import dataclasses
    for f in dataclasses.fields(model):
        if f.name in MODELLED_FIELDS:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        if not _unset(getattr(model, f.name), default):
            raise ConfigError(f"model.{f.name}: the analysis (fixed points, stability, attractors, "
                              "energy) does not include this mechanism yet; analyse the model "
                              f"without {f.name!r}")

#: Closed range of each transfer function (energy is finite on it).
RANGES = {
    "linear": (-math.inf, math.inf),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "satlin": (0.0, 1.0),
    "relu": (0.0, math.inf),
}


# --------------------------------------------------------------------------- transfer
def _expit(x):
    """The logistic ``1 / (1 + exp(-x))`` without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _xlogx(x):
    """``x ln x`` with ``0 ln 0 = 0``."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)


def transfer(name: str, x: np.ndarray) -> np.ndarray:
    """``f(x)`` in numpy (reference for the kernels' block version)."""
    if name == "linear":
        return np.array(x, dtype=np.float64, copy=True)
    if name == "sigmoid":
        return _expit(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "satlin":
        return np.clip(x, 0.0, 1.0)
    if name == "relu":
        return np.maximum(x, 0.0)
    raise ConfigError(f"transfer: unknown transfer function {name!r}")  # pragma: no cover


def transfer_prime(name: str, x: np.ndarray) -> np.ndarray:
    """``f'(x)``; for the piecewise-linear ``satlin``/``relu`` the derivative at a kink is
    taken as 0 (the value of the flat side)."""
    if name == "linear":
        return np.ones_like(x, dtype=np.float64)
    if name == "sigmoid":
        s = _expit(x)
        return s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(x)
        return 1.0 - t * t
    if name == "satlin":
        return ((x > 0.0) & (x < 1.0)).astype(np.float64)
    if name == "relu":
        return (x > 0.0).astype(np.float64)
    raise ConfigError(f"transfer: unknown transfer function {name!r}")  # pragma: no cover


def transfer_inverse(name: str, a: np.ndarray) -> np.ndarray:
    """A right inverse of ``f`` on its range (values on the range's boundary map to the
    kink; sigmoid/tanh are clipped 1e-12 inside their open range)."""
    a = np.asarray(a, dtype=np.float64)
    if name == "linear":
        return a.copy()
    if name == "sigmoid":
        p = np.clip(a, 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)
    if name == "tanh":
        return np.arctanh(np.clip(a, -1 + 1e-12, 1 - 1e-12))
    if name == "satlin":
        return np.clip(a, 0.0, 1.0)
    if name == "relu":
        return np.maximum(a, 0.0)
    raise ConfigError(f"transfer: unknown transfer function {name!r}")  # pragma: no cover


def inverse_integral(name: str, a: np.ndarray) -> np.ndarray:
    """``G(a) = integral from f(0) to a of f^-1(s) ds`` (>= 0, zero at ``a = f(0)``);
    ``+inf`` outside the closed range of ``f``.

    linear/relu/satlin: ``a**2 / 2``; sigmoid: ``a ln a + (1-a) ln(1-a) + ln 2``;
    tanh: ``((1+a) ln(1+a) + (1-a) ln(1-a)) / 2``.
    """
    a = np.asarray(a, dtype=np.float64)
    lo, hi = RANGES[name]
    out = np.full(a.shape, np.inf)
    ok = (a >= lo) & (a <= hi)
    x = a[ok]
    if name in ("linear", "relu", "satlin"):
        out[ok] = 0.5 * x * x
    elif name == "sigmoid":
        out[ok] = _xlogx(x) + _xlogx(1.0 - x) + math.log(2.0)
    elif name == "tanh":
        out[ok] = 0.5 * (_xlogx(1.0 + x) + _xlogx(1.0 - x))
    return out


def activity_midpoint(name: str) -> float:
    """``f(0)``-like centre of the transfer's range, used to centre activations."""
    return {"sigmoid": 0.5, "satlin": 0.5}.get(name, 0.0)


# --------------------------------------------------------------------------- frozen inputs
def _freeze_time(stims, t):
    """``(t0, t_end)`` for a lowering whose segments contain the time ``t``."""
    ends = [0.0 if t is None else float(t)]
    for s in stims:
        ends.append(float(s.start))
        if math.isfinite(s.stop):
            ends.append(float(s.stop))
    return 0.0, max(ends) + 1.0


def frozen_inputs(problem, t: float | None):
    """Inputs ``I`` and clamps of the segment that contains ``t`` (``None``: the last
    segment, after every scheduled change).  Returns ``(inp, clamped, clamp_value)``."""
    n = problem.n
    seg_t = problem.seg_t
    nseg = seg_t.size - 1
    if t is None:
        k = nseg - 1
    else:
        k = int(np.searchsorted(seg_t, t, side="right")) - 1
        k = min(max(k, 0), nseg - 1)
    inp = np.zeros(n)
    clamped = np.zeros(n, dtype=bool)
    cval = np.zeros(n)
    for e in range(problem.seg_ptr[k], problem.seg_ptr[k + 1]):
        i = int(problem.ent_idx[e])
        if problem.ent_kind[e] == 0:
            inp[i] += problem.ent_val[e]
        else:
            clamped[i] = True
            cval[i] = problem.ent_val[e]
    return inp, clamped, cval


# --------------------------------------------------------------------------- dynamics
class Dynamics:
    """The autonomous dynamics of ``model`` on ``network`` with inputs frozen at ``t``.

    Parameters
    ----------
    network, model
        As for :func:`thoughtfield.simulate`.
    stimuli : list of Pulse/Clamp, optional
        The run's input schedule.
    t : float, optional
        Time at which the inputs are frozen (``None``: after the last scheduled change, i.e.
        the long-time limit of the schedule).
    form : {"activation", "potential"}, optional
        State form (default: ``model.form``).

    Attributes
    ----------
    W : scipy.sparse.csr_matrix
        The coupling matrix (rows = targets), exactly as the solvers use it.
    tau, gain, thr, bias, inp : ndarray (N,)
    clamped : bool ndarray (N,), clamp_value : ndarray (N,)
    free : int ndarray
        Indices of the unknowns (the concepts that are not clamped).
    """

    def __init__(self, network: ConceptNetwork, model: Model | None = None, stimuli=None, *,
                 t: float | None = None, form: str | None = None):
        if not isinstance(network, ConceptNetwork):
            raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})")
        model = Model() if model is None else model
        if not isinstance(model, Model):
            raise ConfigError(f"model: expected a Model (got {type(model).__name__})")
        check_modelled(model)
        if t is not None:
            t = V.real("t", t, min=0.0)
        form = getattr(model, "form", "activation") if form is None else form
        self.form = V.choice("form", form, FORMS)
        from ..stimuli import as_stimuli
        stims = as_stimuli(stimuli)
        t0, t_end = _freeze_time(stims, t)
        built = build_problem(network, model, stims, t0=t0, t_end=t_end, members=1)
        P = built.problem
        self.network = network
        self.model = model
        self.stimuli = built.stimuli
        self.t = t
        self.n = network.n
        self.concepts = network.concepts
        self.transfer = model.transfer
        self.W = sp.csr_matrix((P.data, P.indices.astype(np.int64), P.indptr.astype(np.int64)),
                               shape=(P.n, P.n))
        self.tau = 1.0 / P.tau_inv
        self.gain = P.gain.copy()
        self.thr = P.thr.copy()
        self.bias = P.bias.copy()
        self.inp, self.clamped, self.clamp_value = frozen_inputs(P, t)
        self.free = np.flatnonzero(~self.clamped)
        self.problem = P
        # the model's initial values are its own form's state (u(0) in the potential form)
        y0 = built.y0.copy()
        model_form = getattr(model, "form", "activation")
        if model_form == self.form:
            self.initial_state = self._with_clamps(y0) if self.form == "activation" else y0
        elif self.form == "potential":          # activations given, potentials wanted
            self.initial_state = self.state_with_activation(y0)
        else:                                    # potentials given, activations wanted
            self.initial_state = self._with_clamps(transfer(
                self.transfer, self.gain * (y0 + self.bias - self.thr)))
        self._sym = None

    def inputs_at(self, t: float | None):
        """``(inp, clamped, clamp_value)`` of the input schedule at time ``t``."""
        return frozen_inputs(self.problem, t)

    # ------------------------------------------------------------------ states
    @property
    def initial_activation(self) -> np.ndarray:
        """Activations of the model's initial state."""
        return self.activation(self.initial_state)

    def net_argument(self, y: np.ndarray) -> np.ndarray:
        """The argument ``g (x - thr)`` of ``f`` for states ``y`` (shape ``(..., N)``)."""
        y = np.asarray(y, dtype=np.float64)
        if self.form == "activation":
            a = self._with_clamps(y)
            x = (self.W @ a.reshape(-1, self.n).T).T.reshape(y.shape) + self.inp + self.bias
        else:
            x = y + self.bias
        return self.gain * (x - self.thr)

    def _with_clamps(self, a):
        if self.clamped.any():
            a = np.array(a, dtype=np.float64, copy=True)
            a[..., self.clamped] = self.clamp_value[self.clamped]
        return a

    def activation(self, y: np.ndarray) -> np.ndarray:
        """Observable activation of states ``y``."""
        y = np.asarray(y, dtype=np.float64)
        if self.form == "activation":
            return self._with_clamps(y)
        return self._with_clamps(transfer(self.transfer, self.net_argument(y)))

    def state_from_activation(self, a: np.ndarray) -> np.ndarray:
        """A state whose activation is ``a``.  Activation form: ``a`` itself.  Potential
        form: ``u = W a + I`` -- exact at fixed points (``u* = W a* + I``), which makes it
        the right Newton start from a converged run."""
        a = self._with_clamps(np.asarray(a, dtype=np.float64))
        if self.form == "activation":
            return a
        return (self.W @ a.reshape(-1, self.n).T).T.reshape(a.shape) + self.inp

    def state_with_activation(self, a: np.ndarray) -> np.ndarray:
        """A state whose activation is exactly ``a`` (potential form: inverse transfer,
        clipped into the open range).  Used to place random initial states."""
        a = np.asarray(a, dtype=np.float64)
        if self.form == "activation":
            return self._with_clamps(a)
        return transfer_inverse(self.transfer, a) / self.gain - self.bias + self.thr

    # ------------------------------------------------------------------ rhs / jacobian
    def rhs(self, y: np.ndarray) -> np.ndarray:
        """``dy/dt`` for states ``y`` of shape ``(N,)`` or ``(M, N)`` (zero on clamps)."""
        y = np.asarray(y, dtype=np.float64)
        if self.form == "activation":
            a = self._with_clamps(y)
            d = (transfer(self.transfer, self.net_argument(a)) - a) / self.tau
        else:
            out = self.activation(y)
            rec = (self.W @ out.reshape(-1, self.n).T).T.reshape(y.shape)
            d = (rec + self.inp - y) / self.tau
        if self.clamped.any():
            d[..., self.clamped] = 0.0
        return d

    def residual(self, y: np.ndarray) -> np.ndarray:
        """``tau * dy/dt`` (activation units), the quantity Newton drives to zero."""
        return self.rhs(y) * self.tau

    def jacobian(self, y: np.ndarray, *, free_only: bool = True) -> sp.csr_matrix:
        """The analytic Jacobian ``d(dy/dt)/dy`` at ``y`` (sparse CSR).  With ``free_only``
        it is restricted to the free (unclamped) concepts."""
        y = np.asarray(y, dtype=np.float64)
        dvec = self.gain * transfer_prime(self.transfer, self.net_argument(y))
        inv_tau = 1.0 / self.tau
        n = self.n
        if self.form == "activation":
            J = sp.diags(dvec * inv_tau) @ self.W
        else:
            d = dvec.copy()
            d[self.clamped] = 0.0   # clamped outputs do not depend on u
            J = sp.diags(inv_tau) @ self.W @ sp.diags(d)
        J = (J - sp.diags(inv_tau, shape=(n, n))).tocsr()
        if free_only and self.clamped.any():
            f = self.free
            J = J[f][:, f].tocsr()
        J.sort_indices()
        return J

    # ------------------------------------------------------------------ energy
    def symmetry_defect(self) -> float:
        """``max |W - W^T| / max |W|`` (0 for symmetric weights)."""
        if self._sym is None:
            W = self.W
            if W.nnz == 0:
                self._sym = 0.0
            else:
                d = abs(W - W.T)
                self._sym = float(d.max() / abs(W).max()) if d.nnz else 0.0
        return self._sym

    def energy_defined(self, tol: float = 1e-12) -> str | None:
        """``None`` when the Lyapunov energy applies, else the reason why not."""
        if self.symmetry_defect() > tol:
            D = (self.W - self.W.T).tocoo()
            k = int(np.argmax(np.abs(D.data)))
            i, j = int(D.row[k]), int(D.col[k])
            c = self.concepts
            return (f"the weights are not symmetric (W[{c[i]!r}, {c[j]!r}] = {self.W[i, j]:g} "
                    f"but W[{c[j]!r}, {c[i]!r}] = {self.W[j, i]:g}); the energy is a Lyapunov "
                    "function only for symmetric weights (use symmetric relation types such as "
                    "'association'/'contradicts')")
        if (self.gain <= 0).any():
            i = int(np.argmax(self.gain <= 0))
            return (f"gain of {self.concepts[i]!r} is {self.gain[i]:g}; the energy needs "
                    "gain > 0 for every concept")
        return None

    def energy(self, a: np.ndarray) -> np.ndarray:
        """The Lyapunov energy of activations ``a`` (shape ``(..., N)``)::

            E(a) = -1/2 a.W a - (I + b - thr).a + sum_i G(a_i) / g_i

        with ``G(a) = integral_{f(0)}^{a} f^-1(s) ds`` (:func:`inverse_integral`).
        ``+inf`` where an activation lies outside the range of ``f``.
        """
        a = np.asarray(a, dtype=np.float64)
        flat = a.reshape(-1, self.n)
        Wa = (self.W @ flat.T).T
        quad = -0.5 * np.einsum("ij,ij->i", flat, Wa)
        lin = -flat @ (self.inp + self.bias - self.thr)
        integ = (inverse_integral(self.transfer, flat) / self.gain).sum(axis=1)
        return (quad + lin + integ).reshape(a.shape[:-1])

    def energy_rate(self, y: np.ndarray) -> np.ndarray:
        """``dE/dt`` along the flow at states ``y`` (analytic; <= 0 when the energy applies)."""
        y = np.asarray(y, dtype=np.float64)
        a = self.activation(y)
        grad = -(self.W @ a.reshape(-1, self.n).T).T.reshape(a.shape) \
            - (self.inp + self.bias - self.thr) \
            + transfer_inverse(self.transfer, a) / self.gain
        if self.form == "activation":
            da = self.rhs(y)
        else:
            dv = self.gain * transfer_prime(self.transfer, self.net_argument(y))
            da = dv * self.rhs(y)
        if self.clamped.any():
            da[..., self.clamped] = 0.0
        return np.sum(grad * da, axis=-1)


def random_activations(dyn: Dynamics, m: int, rng, box=None) -> np.ndarray:
    """``m`` random activation vectors, uniform over ``box = (low, high)`` (default: the
    range of the transfer function; ``[0, 1]`` for the unbounded ``linear``/``relu``).
    Clamped concepts hold their clamp values."""
    if box is None:
        lo, hi = RANGES[dyn.transfer]
        lo = 0.0 if not math.isfinite(lo) else lo
        hi = 1.0 if not math.isfinite(hi) else hi
    else:
        if not isinstance(box, (tuple, list)) or len(box) != 2:
            raise ConfigError(f"box: expected (low, high) (got {box!r})")
        lo = V.real("box[0]", box[0])
        hi = V.real("box[1]", box[1])
        if not hi > lo:
            raise ConfigError(f"box: high must be > low (got {box!r})")
    A = rng.uniform(lo, hi, size=(m, dyn.n))
    return dyn._with_clamps(A)
