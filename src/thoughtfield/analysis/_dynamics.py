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
from .. import transfers as _transfers
from ..build import build_problem
from ..errors import ConfigError
from ..model import Model
from ..network import ConceptNetwork

FORMS = ("activation", "potential")

#: Model fields the analysis models (a field added to Model later must be at its default
#: until the analysis includes it).  Evidence accumulators (``choices`` with
#: ``on = "evidence"``) are refused by :class:`Dynamics` itself.
MODELLED_FIELDS = frozenset({"tau", "transfer", "gain", "threshold", "bias", "sigma", "initial",
                             "form", "record_potential", "adaptation", "goals", "layers",
                             "pools", "choices", "controls", "ideas"})


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
                              f"without {f.name!r}", key=f"model.{f.name}")

# --------------------------------------------------------------------------- transfer
# numpy versions of f, f', f^-1 and the energy integral: thoughtfield.transfers.REGISTRY
def transfer(name: str, x: np.ndarray) -> np.ndarray:
    """``f(x)`` in numpy (reference for the kernels' block version)."""
    return _transfers.get(name).f(x)


def transfer_prime(name: str, x: np.ndarray) -> np.ndarray:
    """``f'(x)``; for the piecewise-linear ``satlin``/``relu`` the derivative at a kink is
    taken as 0 (the value of the flat side)."""
    return _transfers.get(name).df(x)


def transfer_inverse(name: str, a: np.ndarray) -> np.ndarray:
    """A right inverse of ``f`` on its range (values on the range's boundary map to the
    kink; open ends, as for sigmoid/tanh/softplus, are moved 1e-12 inside)."""
    inv = _transfers.get(name).inverse
    if inv is None:  # pragma: no cover - every registered transfer has one today
        raise ConfigError(f"transfer: {name!r} has no inverse; the analysis needs one",
                          key='transfer')
    return inv(a)


def inverse_integral(name: str, a: np.ndarray) -> np.ndarray:
    """``G(a) = integral from f(0) to a of f^-1(s) ds`` (>= 0, zero at ``a = f(0)``);
    ``+inf`` outside the closed range of ``f`` (closed forms: the registry's
    ``inverse_integral``; e.g. ``a**2 / 2`` for linear/relu/satlin)."""
    return _transfers.get(name).energy_integral(a)


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
        The coupling matrix of the relations (rows = targets), exactly as the solvers use
        it (layer gains applied, goal relations taken out).
    tau, gain, thr, bias, inp : ndarray (N,)
    clamped : bool ndarray (N,), clamp_value : ndarray (N,)
    nstate : int
        Length of a state: the ``N`` concept rows, then the adaptation ``h`` (``N`` rows)
        and the controls ``c`` (one row each) -- the kernel's state layout.
    row_tau : ndarray (nstate,)
        Time constant of every state row (``tau``, ``tau_h``, ``tau_c``; 1 for the fixed
        rows of trial-mode controls).
    fixed : bool ndarray (nstate,)
        Rows that are not unknowns: clamped concepts, trial-mode controls.
    free : int ndarray
        Indices of the unknowns (rows of the state that are not fixed).
    """

    def __init__(self, network: ConceptNetwork, model: Model | None = None, stimuli=None, *,
                 t: float | None = None, form: str | None = None):
        if not isinstance(network, ConceptNetwork):
            raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})",
                              key='network')
        model = Model() if model is None else model
        if not isinstance(model, Model):
            raise ConfigError(f"model: expected a Model (got {type(model).__name__})", key='model')
        check_modelled(model)
        if t is not None:
            t = V.real("t", t, min=0.0)
        form = getattr(model, "form", "activation") if form is None else form
        self.form = V.choice("form", form, FORMS)
        from ..stimuli import as_stimuli
        stims = as_stimuli(stimuli)
        t0, t_end = _freeze_time(stims, t)
        for ch in model.choices:
            t_end = max(t_end, float(ch.onset) + 1.0)
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
        self.problem = P
        self._mechanisms(P, model)
        # the model's initial values are its own form's state (u(0) in the potential form)
        y0 = built.y0.copy()
        n = self.n
        model_form = getattr(model, "form", "activation")
        if model_form == self.form:
            init = y0.copy()
            if self.form == "activation":
                init[:n] = self._with_clamps(y0[:n])
        elif self.form == "potential":          # activations given, potentials wanted
            init = y0.copy()
            init[:n] = self.state_with_activation(y0[:n])[:n]
        else:                                    # potentials given, activations wanted
            init = y0.copy()
            init[:n] = self._with_clamps(transfer(
                self.transfer, self.gain * (y0[:n] + self.bias - self.thr)))
        self.initial_state = init
        self._sym = None

    def inputs_at(self, t: float | None):
        """``(inp, clamped, clamp_value)`` of the input schedule at time ``t``."""
        return frozen_inputs(self.problem, t)

    # ------------------------------------------------------------------ mechanisms
    def _mechanisms(self, P, model):
        """Read the mechanism terms from the packed arrays the kernels integrate."""
        from .._problem import mechanism_arrays
        n = self.n
        mech = mechanism_arrays(P)
        self.mech = mech
        if P.e_off >= 0:
            d = next(k for k, ch in enumerate(model.choices) if ch.on != "activation")
            raise ConfigError(
                f"model.choices[{d}].on: evidence accumulators ({model.choices[d].on!r}) are "
                "not part of the "
                "analysis: an accumulator integrates evidence without settling (no fixed point "
                "when it has no leak) and its floor is a projection, which is not smooth; "
                "analyse the model with on = 'activation' or without the choice (it does not "
                "act back on the concepts)", key=f"model.choices[{d}].on")
        self.nstate = S = int(P.nstate)
        # goal bias B (rows = targets)
        rows = np.repeat(mech.g_rows, np.diff(mech.g_ptr))
        self.B = sp.csr_matrix((mech.g_w, (rows, mech.g_idx)), shape=(n, n))
        self.g_gain = float(P.g_gain)
        self.g_ctrl = int(P.g_ctrl)
        # per-goal controls: B split by the state row of the control of each edge (-1 none)
        self.B_parts = []
        for r in np.unique(mech.g_cix):
            sel = mech.g_cix == r
            self.B_parts.append((sp.csr_matrix((mech.g_w[sel], (rows[sel], mech.g_idx[sel])),
                                               shape=(n, n)), int(r)))
        # pools: (members, inhibition) for the lateral inhibition; all pools for conflict
        self.pools = []
        for p in range(mech.p_ptr.size - 1):
            idx = mech.p_idx[mech.p_ptr[p]:mech.p_ptr[p + 1]].astype(np.int64)
            e = slice(mech.p_eptr[p], mech.p_eptr[p + 1])
            self.pools.append((idx, float(mech.p_inh[p]), mech.p_ei[e].astype(np.int64),
                               mech.p_ej[e].astype(np.int64), mech.p_ew[e].copy()))
        # stored ideas (low rank)
        self.xi = np.asarray(P.xi, dtype=np.float64)
        self.xi_scale = float(P.xi_scale)
        self.xi_diag = mech.xi_diag.copy() if self.xi.shape[1] else np.zeros(n)
        # adaptation
        self.h_off = int(P.h_off)
        self.h_tau_inv = mech.h_tau_inv.copy()
        self.h_kappa = mech.h_kappa.copy()
        # controls
        self.c_off = int(P.c_off)
        C = mech.c_tau_inv.size
        self.n_controls = C
        self.c_tau_inv = mech.c_tau_inv.copy()
        self.c_c0 = mech.c_c0.copy()
        self.c_lam = mech.c_lam.copy()
        self.c_monitor = [mech.c_mpool[mech.c_mptr[k]:mech.c_mptr[k + 1]].astype(np.int64)
                          for k in range(C)]
        self.c_targets = [(mech.c_tidx[mech.c_tptr[k]:mech.c_tptr[k + 1]].astype(np.int64),
                           mech.c_tgain[mech.c_tptr[k]:mech.c_tptr[k + 1]].copy())
                          for k in range(C)]
        # rows: time constants, fixed rows
        row_tau = np.ones(S)
        row_tau[:n] = self.tau
        fixed = np.zeros(S, dtype=bool)
        fixed[:n] = self.clamped
        if self.h_off >= 0:
            row_tau[self.h_off:self.h_off + n] = 1.0 / self.h_tau_inv
        for k in range(C):
            if self.c_tau_inv[k] != 0.0:
                row_tau[self.c_off + k] = 1.0 / self.c_tau_inv[k]
            else:                      # trial mode: constant within a trial
                fixed[self.c_off + k] = True
        self.row_tau = row_tau
        self.fixed = fixed
        self.free = np.flatnonzero(~fixed)
        self.has_mechanisms = bool(P.xmode != 0 or S > n)

    @property
    def extra_rows(self) -> list[tuple[str, int, int]]:
        """``[(name, start, stop)]`` of the state blocks after the concepts."""
        out = []
        if self.h_off >= 0:
            out.append(("adaptation", self.h_off, self.h_off + self.n))
        if self.c_off >= 0:
            out.append(("control", self.c_off, self.c_off + self.n_controls))
        return out

    def conflict(self, A: np.ndarray, p: int) -> np.ndarray:
        """Conflict energy ``E_p`` of pool ``p`` for activations ``A`` (K, N)."""
        idx, inh, ei, ej, ew = self.pools[p]
        sub = A[:, idx]
        s = sub.sum(axis=1)
        e = inh * (s * s - np.sum(sub * sub, axis=1))
        if ew.size:
            e = e - np.sum(ew * A[:, ei] * A[:, ej], axis=1)
        return e

    def _conflict_grad(self, a: np.ndarray, p: int) -> np.ndarray:
        """``dE_p/da`` at activations ``a`` (N,)."""
        idx, inh, ei, ej, ew = self.pools[p]
        g = np.zeros(self.n)
        s = float(a[idx].sum())
        np.add.at(g, idx, 2.0 * inh * (s - a[idx]))
        np.add.at(g, ei, -ew * a[ej])
        np.add.at(g, ej, -ew * a[ei])
        return g

    def mechanism_input(self, Y: np.ndarray, A: np.ndarray) -> np.ndarray:
        """The mechanism terms added to the input (``prepare`` of the kernels) for states
        ``Y`` (K, S) with activations ``A`` (K, N): lateral inhibition, goal bias, control
        on concepts, adaptation, stored ideas."""
        x = np.zeros_like(A)
        for idx, inh, *_ in self.pools:
            if inh != 0.0:
                s = A[:, idx].sum(axis=1)
                x[:, idx] -= inh * (s[:, None] - A[:, idx])
        if self.B.nnz:
            cg = self.g_gain * (Y[:, self.g_ctrl] if self.g_ctrl >= 0 else np.ones(A.shape[0]))
            if not self.B_parts:
                x += cg[:, None] * (self.B @ A.T).T
            for Bk, r in self.B_parts:
                ck = cg * Y[:, r] if r >= 0 else cg
                x += ck[:, None] * (Bk @ A.T).T
        for k, (tidx, tg) in enumerate(self.c_targets):
            for i, g in zip(tidx, tg):
                x[:, i] += g * Y[:, self.c_off + k]
        if self.h_off >= 0:
            x -= Y[:, self.h_off:self.h_off + self.n]
        if self.xi.shape[1]:
            x += self.xi_scale * ((A @ self.xi) @ self.xi.T - self.xi_diag * A)
        return x

    def _input(self, Y, A):
        """Total input ``I + x`` (without ``W a`` and bias) for states (K, S)."""
        x = np.broadcast_to(self.inp, A.shape).copy()
        if self.has_mechanisms:
            x += self.mechanism_input(Y, A)
        return x

    # ------------------------------------------------------------------ states
    def _flat(self, y, what="state"):
        y = np.asarray(y, dtype=np.float64)
        if y.shape[-1] != self.nstate:
            raise ConfigError(f"{what}: expected {self.nstate} values per state (the "
                              f"{self.n} concepts" + "".join(
                                  f", {b - a} {nm}" for nm, a, b in self.extra_rows)
                              + f") (got shape {y.shape})")
        return y.reshape(-1, self.nstate)

    @property
    def initial_activation(self) -> np.ndarray:
        """Activations of the model's initial state."""
        return self.activation(self.initial_state)

    def net_argument(self, y: np.ndarray) -> np.ndarray:
        """The argument ``g (x - thr)`` of ``f`` for states ``y`` (shape ``(..., S)``)."""
        y = np.asarray(y, dtype=np.float64)
        Y = self._flat(y)
        n = self.n
        if self.form == "activation":
            A = self._with_clamps(Y[:, :n])
            x = (self.W @ A.T).T + self._input(Y, A) + self.bias
        else:
            x = Y[:, :n] + self.bias
        return (self.gain * (x - self.thr)).reshape(y.shape[:-1] + (n,))

    def _with_clamps(self, a):
        if self.clamped.any():
            a = np.array(a, dtype=np.float64, copy=True)
            a[..., self.clamped] = self.clamp_value[self.clamped]
        return a

    def activation(self, y: np.ndarray) -> np.ndarray:
        """Observable activation of states ``y`` (shape ``(..., S)`` -> ``(..., N)``)."""
        y = np.asarray(y, dtype=np.float64)
        Y = self._flat(y)
        n = self.n
        if self.form == "activation":
            A = self._with_clamps(Y[:, :n])
        else:
            A = self._with_clamps(transfer(self.transfer,
                                           self.gain * (Y[:, :n] + self.bias - self.thr)))
        return A.reshape(y.shape[:-1] + (n,))

    def _extras_at(self, A):
        """States (K, S) whose concept rows are zero and whose extra rows sit on their
        nullclines for activations ``A`` (K, N): ``h = kappa a``, ``c = c0 + lambda E(a)``
        (trial-mode controls: their initial value)."""
        Y = np.zeros((A.shape[0], self.nstate))
        n = self.n
        if self.h_off >= 0:
            Y[:, self.h_off:self.h_off + n] = self.h_kappa * A
        for k in range(self.n_controls):
            r = self.c_off + k
            if self.fixed[r]:
                Y[:, r] = self.initial_state[r] if hasattr(self, "initial_state") else self.c_c0[k]
            else:
                e = sum(self.conflict(A, int(p)) for p in self.c_monitor[k]) \
                    if self.c_monitor[k].size else np.zeros(A.shape[0])
                Y[:, r] = self.c_c0[k] + self.c_lam[k] * e
        return Y

    def state_from_activation(self, a: np.ndarray) -> np.ndarray:
        """A state whose activation is ``a`` (``(..., N)`` -> ``(..., S)``).  The extra rows
        are put on their nullclines (``h = kappa a``, ``c = c0 + lambda E(a)``); in the
        potential form ``u = W a + I + x`` -- exact at fixed points, which makes it the
        right Newton start from a converged run."""
        a = self._with_clamps(np.asarray(a, dtype=np.float64))
        n = self.n
        A = a.reshape(-1, n)
        Y = self._extras_at(A)
        if self.form == "activation":
            Y[:, :n] = A
        else:
            Y[:, :n] = (self.W @ A.T).T + self._input(Y, A)
        return Y.reshape(a.shape[:-1] + (self.nstate,))

    def state_with_activation(self, a: np.ndarray) -> np.ndarray:
        """A state whose activation is exactly ``a`` (potential form: inverse transfer,
        clipped into the open range; extra rows on their nullclines).  Used to place
        random initial states."""
        a = np.asarray(a, dtype=np.float64)
        n = self.n
        A = self._with_clamps(a.reshape(-1, n))
        Y = self._extras_at(A)
        if self.form == "activation":
            Y[:, :n] = A
        else:
            Y[:, :n] = transfer_inverse(self.transfer, A) / self.gain - self.bias + self.thr
        return Y.reshape(a.shape[:-1] + (self.nstate,))

    # ------------------------------------------------------------------ rhs / jacobian
    def rhs(self, y: np.ndarray) -> np.ndarray:
        """``dy/dt`` for states ``y`` of shape ``(S,)`` or ``(M, S)`` (zero on fixed rows)."""
        y = np.asarray(y, dtype=np.float64)
        Y = self._flat(y)
        n = self.n
        A = self.activation(Y)
        x = self._input(Y, A)
        D = np.zeros_like(Y)
        if self.form == "activation":
            arg = self.gain * ((self.W @ A.T).T + x + self.bias - self.thr)
            D[:, :n] = (transfer(self.transfer, arg) - A) / self.tau
        else:
            D[:, :n] = ((self.W @ A.T).T + x - Y[:, :n]) / self.tau
        if self.h_off >= 0:
            H = Y[:, self.h_off:self.h_off + n]
            D[:, self.h_off:self.h_off + n] = (self.h_kappa * A - H) * self.h_tau_inv
        for k in range(self.n_controls):
            r = self.c_off + k
            if self.c_tau_inv[k] != 0.0:
                e = sum(self.conflict(A, int(p)) for p in self.c_monitor[k]) \
                    if self.c_monitor[k].size else 0.0
                D[:, r] = (self.c_c0[k] - Y[:, r] + self.c_lam[k] * e) * self.c_tau_inv[k]
        D[:, self.fixed] = 0.0
        return D.reshape(y.shape)

    def residual(self, y: np.ndarray) -> np.ndarray:
        """``tau * dy/dt`` (row by row with the row's own time constant), the quantity
        Newton drives to zero."""
        return self.rhs(y) * self.row_tau

    #: Largest number of entries the dense stored-ideas block (or the pools' blocks) may
    #: add to a Jacobian.
    DENSE_IDEAS_MAX = 4_000_000

    def coupling(self, y: np.ndarray | None = None) -> sp.csr_matrix:
        """The effective coupling ``d(W a + x)/da`` (N, N): relations, goal bias (scaled
        by its control at ``y``), lateral inhibition of the pools and the stored ideas'
        low-rank term (made explicit: dense, ``N^2`` entries)."""
        n = self.n
        Weff = self.W
        if self.B.nnz:
            cg = self.g_gain * (float(y[self.g_ctrl]) if self.g_ctrl >= 0 else 1.0)
            if not self.B_parts:
                Weff = Weff + cg * self.B
            for Bk, r in self.B_parts:
                Weff = Weff + (cg * (float(y[r]) if r >= 0 else 1.0)) * Bk
        rows, cols, vals = [], [], []
        dense = sum(p[0].size ** 2 for p in self.pools if p[1] != 0.0)
        if dense > self.DENSE_IDEAS_MAX:
            big = max((p for p in self.pools if p[1] != 0.0), key=lambda p: p[0].size)
            k = [i for i, p in enumerate(self.pools) if p is big][0]
            raise ConfigError(
                f"model.pools: the analysis makes the lateral inhibition explicit in the "
                f"Jacobian (one k x k block per pool: {dense:,} entries, the largest pool "
                f"#{k} has {big[0].size} members), above the limit of "
                f"{self.DENSE_IDEAS_MAX:,}; analyse a network with smaller pools",
                key='model.pools')
        for idx, inh, *_ in self.pools:
            if inh != 0.0:
                k = idx.size
                rows.append(np.repeat(idx, k))
                cols.append(np.tile(idx, k))
                blk = np.full((k, k), -inh)
                np.fill_diagonal(blk, 0.0)
                vals.append(blk.ravel())
        if rows:
            Weff = Weff + sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                                np.concatenate(cols))),
                                        shape=(n, n))
        if self.xi.shape[1]:
            if n * n > self.DENSE_IDEAS_MAX:
                raise ConfigError(
                    f"model.ideas: the analysis makes the stored ideas' low-rank coupling "
                    f"explicit in the Jacobian ({n} x {n} = {n * n:,} entries), above the "
                    f"limit of {self.DENSE_IDEAS_MAX:,} (N <= {int(math.isqrt(self.DENSE_IDEAS_MAX))}); "
                    "analyse a smaller network, or store the ideas on the network's edges "
                    "(ideas.restrict_to_edges = true)", key='model.ideas')
            L = self.xi_scale * (self.xi @ self.xi.T - np.diag(self.xi_diag))
            Weff = Weff + sp.csr_matrix(L)
        return sp.csr_matrix(Weff)

    def jacobian(self, y: np.ndarray, *, free_only: bool = True) -> sp.csr_matrix:
        """The analytic Jacobian ``d(dy/dt)/dy`` at ``y`` (sparse CSR, ``S x S`` with the
        adaptation and control rows).  With ``free_only`` it is restricted to the free
        rows (unclamped concepts, continuous controls)."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.nstate,):
            self._flat(y)
            raise ConfigError(f"state: expected one state of {self.nstate} values "
                              f"(got shape {y.shape})", key='state')
        n, S = self.n, self.nstate
        a = self.activation(y)
        dvec = self.gain * transfer_prime(self.transfer, self.net_argument(y))
        inv_tau = 1.0 / self.tau
        Weff = self.coupling(y)
        # derivative of the mechanism input x w.r.t. the extra rows (N, S - N)
        E = S - n
        xr, xc, xv = [], [], []
        if self.h_off >= 0:
            xr.append(np.arange(n))
            xc.append(np.arange(n) + self.h_off - n)
            xv.append(-np.ones(n))
        for k, (tidx, tg) in enumerate(self.c_targets):
            xr.append(tidx)
            xc.append(np.full(tidx.size, self.c_off + k - n))
            xv.append(tg)
        if self.g_ctrl >= 0 and self.B.nnz:
            ba = self.B @ a if not self.B_parts else sum(
                (float(y[r]) if r >= 0 else 1.0) * (Bk @ a) for Bk, r in self.B_parts)
            nz = np.flatnonzero(ba)
            xr.append(nz)
            xc.append(np.full(nz.size, self.g_ctrl - n))
            xv.append(self.g_gain * ba[nz])
        for Bk, r in self.B_parts:   # per-goal controls: d x / d c_r = g_gain c_g B_r a
            if r >= 0:
                ba = Bk @ a
                nz = np.flatnonzero(ba)
                xr.append(nz)
                xc.append(np.full(nz.size, r - n))
                xv.append(self.g_gain * (float(y[self.g_ctrl]) if self.g_ctrl >= 0 else 1.0)
                          * ba[nz])
        Xc = sp.csr_matrix((np.concatenate(xv) if xv else np.zeros(0),
                            (np.concatenate(xr) if xr else np.zeros(0, np.int64),
                             np.concatenate(xc) if xc else np.zeros(0, np.int64))), shape=(n, E))
        # derivatives of the extra rows w.r.t. a (E, N) and themselves (E, E)
        ar, ac, av = [], [], []
        er, ec, ev = [], [], []
        if self.h_off >= 0:
            r = np.arange(n) + self.h_off - n
            ar.append(r)
            ac.append(np.arange(n))
            av.append(self.h_kappa * self.h_tau_inv)
            er.append(r)
            ec.append(r)
            ev.append(-self.h_tau_inv)
        for k in range(self.n_controls):
            r = self.c_off + k - n
            if self.c_tau_inv[k] == 0.0:
                continue
            g = np.zeros(n)
            for p in self.c_monitor[k]:
                g += self._conflict_grad(a, int(p))
            nz = np.flatnonzero(g)
            ar.append(np.full(nz.size, r))
            ac.append(nz)
            av.append(self.c_tau_inv[k] * self.c_lam[k] * g[nz])
            er.append(np.array([r]))
            ec.append(np.array([r]))
            ev.append(np.array([-self.c_tau_inv[k]]))

        def _m(r, c, v, shape):
            if not r:
                return sp.csr_matrix(shape)
            return sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                                 shape=shape)

        Ja = _m(ar, ac, av, (E, n))
        Je = _m(er, ec, ev, (E, E))
        if self.form == "activation":
            Jaa = sp.diags(dvec * inv_tau) @ Weff
            Jax = sp.diags(dvec * inv_tau) @ Xc
            Jxa = Ja
        else:
            d = dvec.copy()
            d[self.clamped] = 0.0   # clamped outputs do not depend on u
            Jaa = sp.diags(inv_tau) @ Weff @ sp.diags(d)
            Jax = sp.diags(inv_tau) @ Xc
            Jxa = Ja @ sp.diags(d)
        Jaa = Jaa - sp.diags(inv_tau, shape=(n, n))
        if E:
            J = sp.bmat([[Jaa, Jax], [Jxa, Je]], format="csr")
        else:
            J = sp.csr_matrix(Jaa)
        if free_only and self.fixed.any():
            f = self.free
            J = J[f][:, f].tocsr()
        J.sort_indices()
        return J

    # ------------------------------------------------------------------ energy
    def _energy_matrix(self) -> sp.csr_matrix:
        """The sparse part of the effective coupling (relations + goal bias)."""
        return sp.csr_matrix(self.W + self.g_gain * self.B) if self.B.nnz else self.W

    def symmetry_defect(self) -> float:
        """``max |W - W^T| / max |W|`` (0 for symmetric weights) of the relations plus the
        goal bias (the pools' and stored ideas' couplings are symmetric by construction)."""
        if self._sym is None:
            W = self._energy_matrix()
            if W.nnz == 0:
                self._sym = 0.0
            else:
                d = abs(W - W.T)
                self._sym = float(d.max() / abs(W).max()) if d.nnz else 0.0
        return self._sym

    def energy_defined(self, tol: float = 1e-12) -> str | None:
        """``None`` when the Lyapunov energy applies, else the reason why not."""
        if _transfers.get(self.transfer).inverse_integral is None:
            return (f"the transfer {self.transfer!r} has no integral of its inverse in the "
                    "registry (thoughtfield.transfers), so its energy term G is not defined; "
                    "use a transfer with one (" + ", ".join(
                        t.name for t in _transfers.REGISTRY.values()
                        if t.inverse_integral is not None) + ")")
        if self.nstate > self.n:
            names = ", ".join(f"{nm} ({'model.adaptation' if nm == 'adaptation' else 'model.controls'})"
                              for nm, _, _ in self.extra_rows)
            return (f"the model has state variables besides the concepts: {names}; the energy "
                    "is a Lyapunov function only for the concepts' own gradient dynamics "
                    "(adaptation and control are not part of a gradient flow)")
        if self.symmetry_defect() > tol:
            W = self._energy_matrix()
            D = (W - W.T).tocoo()
            k = int(np.argmax(np.abs(D.data)))
            i, j = int(D.row[k]), int(D.col[k])
            c = self.concepts
            what = "weights" if not self.B.nnz else "effective weights (relations + goal bias)"
            return (f"the {what} are not symmetric (W[{c[i]!r}, {c[j]!r}] = {W[i, j]:g} "
                    f"but W[{c[j]!r}, {c[i]!r}] = {W[j, i]:g}); the energy is a Lyapunov "
                    "function only for symmetric weights (use symmetric relation types such as "
                    "'association'/'contradicts')")
        if (self.gain <= 0).any():
            i = int(np.argmax(self.gain <= 0))
            return (f"gain of {self.concepts[i]!r} is {self.gain[i]:g}; the energy needs "
                    "gain > 0 for every concept")
        return None

    def energy(self, a: np.ndarray) -> np.ndarray:
        """The Lyapunov energy of activations ``a`` (shape ``(..., N)``)::

            E(a) = -1/2 a.W_eff a - (I + b - thr).a + sum_i G(a_i) / g_i

        with ``W_eff`` the effective coupling (relations, goal bias, lateral inhibition,
        stored ideas) and ``G(a) = integral_{f(0)}^{a} f^-1(s) ds``
        (:func:`inverse_integral`).  ``+inf`` where an activation lies outside the range
        of ``f``.
        """
        a = np.asarray(a, dtype=np.float64)
        flat = a.reshape(-1, self.n)
        Wa = (self._energy_matrix() @ flat.T).T
        quad = -0.5 * np.einsum("ij,ij->i", flat, Wa)
        for idx, inh, *_ in self.pools:
            if inh != 0.0:
                sub = flat[:, idx]
                s = sub.sum(axis=1)
                quad += 0.5 * inh * (s * s - np.sum(sub * sub, axis=1))
        if self.xi.shape[1]:
            ov = flat @ self.xi
            quad -= 0.5 * self.xi_scale * (np.sum(ov * ov, axis=1)
                                           - np.sum(self.xi_diag * flat * flat, axis=1))
        lin = -flat @ (self.inp + self.bias - self.thr)
        integ = (inverse_integral(self.transfer, flat) / self.gain).sum(axis=1)
        return (quad + lin + integ).reshape(a.shape[:-1])

    def energy_rate(self, y: np.ndarray) -> np.ndarray:
        """``dE/dt`` along the flow at states ``y`` (analytic; <= 0 when the energy applies)."""
        y = np.asarray(y, dtype=np.float64)
        a = self.activation(y)
        A = a.reshape(-1, self.n)
        Y = self._flat(y)
        field_ = (self.W @ A.T).T + self._input(Y, A)     # W_eff a + I
        grad = (-field_ - (self.bias - self.thr)
                + transfer_inverse(self.transfer, A) / self.gain).reshape(a.shape)
        rate = self.rhs(y)[..., :self.n]
        if self.form == "activation":
            da = rate
        else:
            dv = self.gain * transfer_prime(self.transfer, self.net_argument(y))
            da = dv * rate
        if self.clamped.any():
            da[..., self.clamped] = 0.0
        return np.sum(grad * da, axis=-1)


def random_activations(dyn: Dynamics, m: int, rng, box=None) -> np.ndarray:
    """``m`` random activation vectors, uniform over ``box = (low, high)`` (default: the
    range of the transfer function, an infinite low end replaced by 0 and an infinite high end
    by 1, e.g. ``[0, 1]`` for ``linear`` and ``relu``).
    Clamped concepts hold their clamp values."""
    if box is None:
        lo, hi = _transfers.get(dyn.transfer).range
        lo = 0.0 if not math.isfinite(lo) else lo
        hi = 1.0 if not math.isfinite(hi) else hi
    else:
        if not isinstance(box, (tuple, list)) or len(box) != 2:
            raise ConfigError(f"box: expected (low, high) (got {box!r})", key='box')
        lo = V.real("box[0]", box[0])
        hi = V.real("box[1]", box[1])
        if not hi > lo:
            raise ConfigError(f"box: high must be > low (got {box!r})", key='box')
    A = rng.uniform(lo, hi, size=(m, dyn.n))
    return dyn._with_clamps(A)
