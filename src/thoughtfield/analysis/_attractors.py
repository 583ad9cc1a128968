"""Attractor catalogues: which stable ideas a network holds, how large their basins are.

:func:`attractors` draws initial states (uniform over the range of the transfer function,
or around user-given states), integrates them all as *one* ensemble run of the compiled
solver until they settle (``Solver(steady_tol=...)``), refines each distinct end state with
Newton's method, clusters the members by the fixed point they reached (max-norm
tolerance, in member order: deterministic for a given seed), and describes every
attractor: a label from its most active concepts, the stored idea/pattern it matches
(if patterns are given), its basin fraction with a Wilson confidence interval, its
stability, energy and representative state.

Members that settle on a non-stable fixed point (a measure-zero event: they started on a
stable manifold) are nudged off it and integrated again; members that do not settle within
the time allowed are reported as ``unresolved``.  With ``saddles=True`` the basin boundary
between every pair of attractors is located by bisection along the segment joining them
(ensemble runs), a trajectory from the boundary point is followed to where it moves
slowest, and Newton refines that point to the saddle (the "edge state") between them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace

import numpy as np
import xarray as xr

from .. import _validate as V
from ..errors import ConfigError
from ..model import Model
from ..network import ConceptNetwork
from ..saving import SaveAt
from ..solvers import Solver
from ..stimuli import Clamp, Pulse
from ..transfers import get as get_transfer
from ._dynamics import Dynamics, random_activations
from ._settings import AttractorSettings
from ._fixed_points import KINDS, FixedPoint, FixedPointError, _make_fp, newton

#: Members that never settle: Newton is tried from this many of their end states.
MAX_UNSETTLED_NEWTON = 8

#: Minimum overlap with two or more patterns for a spurious state to count as a mixture.
MIXTURE_MIN = 0.25
#: Members x concepts integrated in one ensemble run (bounds the solver's memory).
BATCH_VALUES = 4_000_000


# --------------------------------------------------------------------------- statistics
def wilson_interval(k, n, level: float = 0.95):
    """Wilson score interval for a binomial proportion ``k / n`` (arrays allowed)."""
    from scipy.special import ndtri
    k = np.asarray(k, dtype=np.float64)
    n = float(n)
    if n <= 0:
        return np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    z = float(ndtri(0.5 + level / 2.0))
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


# --------------------------------------------------------------------------- patterns
def resolve_patterns(network: ConceptNetwork, patterns) -> list[tuple[str, str, np.ndarray]]:
    """Normalise stored ideas/patterns to ``[(name, kind, vector)]``.

    ``patterns`` maps a name to one of: a vector with one value per concept (``kind``
    ``"bipolar"`` when every value is -1 or +1, ``"set"`` when every value is 0 or 1,
    ``"real"`` otherwise); a collection of concept names (an idea as a set of member
    concepts, ``"set"``); or a mapping ``concept -> value`` (others 0).  A sequence of
    ``(name, spec)`` pairs and an ``xarray.DataArray`` with dims ``(pattern, concept)``
    are accepted too.
    """
    if patterns is None:
        return []
    if isinstance(patterns, xr.DataArray):
        if patterns.dims != ("pattern", "concept"):
            raise ConfigError(f"patterns: a DataArray needs dims ('pattern', 'concept') "
                              f"(got {patterns.dims})", key='patterns')
        patterns = {str(p): patterns.sel(pattern=p).sel(concept=list(network.concepts)).values
                    for p in patterns.pattern.values}
    if isinstance(patterns, Mapping):
        items = list(patterns.items())
    elif isinstance(patterns, Sequence) and not isinstance(patterns, str):
        items = []
        for i, p in enumerate(patterns):
            if not (isinstance(p, (tuple, list)) and len(p) == 2 and isinstance(p[0], str)):
                raise ConfigError(f"patterns[{i}]: expected a (name, pattern) pair (got {p!r})",
                                  key=f"patterns[{i}]")
            items.append((p[0], p[1]))
    else:
        raise ConfigError(f"patterns: expected a mapping name -> pattern (got "
                          f"{type(patterns).__name__})", key='patterns')
    out = []
    seen = set()
    for name, spec in items:
        key = f"patterns.{name}"
        V.name("pattern name", name)
        if name in seen:
            raise ConfigError(f"{key}: duplicate pattern name", key=key)
        seen.add(name)
        if isinstance(spec, Mapping):
            vec = np.zeros(network.n)
            for c, v in spec.items():
                vec[network.index(c, f"{key}.{c}")] = V.real(f"{key}.{c}", v)
        elif isinstance(spec, (set, frozenset)) or (
                isinstance(spec, (list, tuple)) and spec and all(isinstance(c, str) for c in spec)):
            vec = np.zeros(network.n)
            for c in spec:
                vec[network.index(c, f"{key}")] = 1.0
        else:
            vec = V.real_array(key, spec, network.n)
        if not np.any(vec):
            raise ConfigError(f"{key}: the pattern is all zeros", key=key)
        if np.all(np.isin(vec, (-1.0, 1.0))):
            kind = "bipolar"
        elif np.all(np.isin(vec, (0.0, 1.0))):
            kind = "set"
        else:
            kind = "real"
        out.append((name, kind, vec))
    return out


def pattern_scores(a: np.ndarray, pats, transfer: str, active: float) -> np.ndarray:
    """Similarity of activations ``a`` (N,) with each pattern, in [-1, 1].

    bipolar: ``mean(xi * sign(a - mid))`` (the Hopfield overlap of the sign state);
    set: Jaccard index of the active concepts (``a >= active``) and the members;
    real: cosine of ``xi`` and ``a - mid``.  ``mid`` is the centre of a saturating
    transfer's range (0.5 for sigmoid/satlin, 0 for tanh), ``active`` for an unbounded one
    (linear, relu, softplus).
    """
    mid = get_transfer(transfer).midpoint
    mid = active if mid is None else mid
    s = a - mid
    on = a >= active
    out = np.zeros(len(pats))
    for k, (_, kind, vec) in enumerate(pats):
        if kind == "bipolar":
            out[k] = float(np.mean(vec * np.sign(s)))
        elif kind == "set":
            mem = vec > 0
            union = np.sum(mem | on)
            out[k] = float(np.sum(mem & on) / union) if union else 0.0
        else:
            den = float(np.linalg.norm(vec) * np.linalg.norm(s))
            out[k] = float(vec @ s / den) if den > 0 else 0.0
    return out


def idea_label(scores: np.ndarray, pats, match: float, any_active: bool = True) -> str:
    """``name`` of the best-matching pattern (score >= match), ``"reversed name"`` for a
    mirror image (score <= -match), ``"rest (no concept active)"`` when nothing is active,
    ``"spurious (mixture of a, b, ...)"`` when it overlaps two or more patterns by at
    least :data:`MIXTURE_MIN`, else ``"spurious"``.  ``""`` without patterns."""
    if not pats:
        return ""
    k = int(np.argmax(scores))
    if scores[k] >= match:
        return pats[k][0]
    kr = int(np.argmin(scores))
    if scores[kr] <= -match and pats[kr][1] != "set":
        return "reversed " + pats[kr][0]
    if not any_active:
        return "rest (no concept active)"
    mix = [pats[i][0] for i in np.argsort(-np.abs(scores), kind="stable")
           if abs(scores[i]) >= MIXTURE_MIN]
    if len(mix) >= 2:
        return f"spurious (mixture of {', '.join(mix)})"
    return "spurious"


def concept_label(a: np.ndarray, concepts, active: float, size: int = 3) -> str:
    """``{sea, sand, sun}``: the most active concepts (``a >= active``), strongest first;
    ``+k more`` when more than ``size`` are active."""
    idx = np.flatnonzero(a >= active)
    if idx.size == 0:
        return "(none active)"
    # strongest first; activations equal to rounding keep the network's order
    idx = idx[np.argsort(-np.round(a[idx], 9), kind="stable")]
    names = [concepts[i] for i in idx[:size]]
    more = idx.size - len(names)
    return "{" + ", ".join(names) + (f", +{more} more" if more > 0 else "") + "}"


def default_active(transfer: str, a_max: float) -> float:
    """0.5 for a saturating transfer, else half the largest activation ``a_max``."""
    if get_transfer(transfer).saturating:
        return 0.5
    return 0.5 * a_max if a_max > 0 else 0.5


# --------------------------------------------------------------------------- integration
def _frozen_stimuli(dyn: Dynamics):
    out = []
    for i in np.flatnonzero(dyn.inp != 0):
        out.append(Pulse(dyn.concepts[i], 0.0, math.inf, float(dyn.inp[i])))
    for i in np.flatnonzero(dyn.clamped):
        out.append(Clamp(dyn.concepts[i], 0.0, math.inf, float(dyn.clamp_value[i])))
    return out


class _Integrator:
    """Ensemble runs of the compiled solver with the inputs frozen."""

    def __init__(self, dyn, network, model, solver, threads):
        self.dyn = dyn
        self.network = network
        self.model = replace(model, sigma=0.0) if model.has_noise else model
        self.stimuli = _frozen_stimuli(dyn)
        self.solver = solver
        self.threads = threads
        self.runs = 0
        self.rhs_evals = 0

    def run(self, Y0: np.ndarray, t_end: float, *, steady: bool = True, save_dt=None):
        """Integrate states ``Y0`` (M, N) in ensemble runs of at most :data:`BATCH_VALUES`
        values each; returns the activation (M, T, N) and the times."""
        M = Y0.shape[0]
        per = max(1, BATCH_VALUES // max(1, Y0.shape[1]))
        if M <= per:
            return self._run(Y0, t_end, steady, save_dt)
        parts = [self._run(Y0[i:i + per], t_end, steady, save_dt) for i in range(0, M, per)]
        if save_dt is None:   # each batch has its own stopping time: keep the end states
            return np.concatenate([p[0][:, -1:, :] for p in parts]), parts[-1][1][-1:]
        return np.concatenate([p[0] for p in parts]), parts[0][1]

    def _run(self, Y0, t_end, steady, save_dt):
        from ..simulate import simulate
        M = Y0.shape[0]
        # the solver takes the concept rows; adaptation and control start at their
        # initial values (the search only needs each run to reach an attractor)
        Y0 = Y0[:, :self.dyn.n]
        solver = self.solver if steady else replace(self.solver, steady_tol=None)
        saveat = SaveAt(times=[0.0, t_end]) if save_dt is None else SaveAt(dt=save_dt)
        ds = simulate(self.network, self.model, self.stimuli, t_end=t_end, members=M,
                      initial=Y0 if M > 1 else Y0[0], solver=solver, seed=0,
                      threads=self.threads, saveat=saveat)
        self.runs += 1
        self.rhs_evals += int(ds.attrs.get("n_rhs", 0))
        act = ds.activation.values
        if M == 1:
            act = act[None]
        return act, ds.time.values


def _residuals(dyn, A):
    """``max |tau da/dt|`` of activations ``A`` (..., N), taking the state that matches."""
    Y = dyn.state_from_activation(A)
    return np.max(np.abs(dyn.residual(Y)), axis=-1), Y


# --------------------------------------------------------------------------- the search
def attractors(network: ConceptNetwork, model: Model | None = None,
               settings: AttractorSettings | None = None, *, seed: int | None = None,
               initial=None, stimuli=None, t: float | None = None, patterns=None,
               threads: int | None = None, **overrides) -> xr.Dataset:
    """The attractor catalogue of ``model`` on ``network``.

    The search's knobs (samples, matching, tolerances, saddles, ...) are the fields of
    :class:`~thoughtfield.analysis.AttractorSettings`, documented there; pass them as
    ``settings`` (the ``[attractors]`` section of a config builds one) and/or as keyword
    ``overrides`` (``attractors(net, model, samples=100, saddles=True)``), each applied to
    a copy of ``settings``.  An unknown keyword raises ``TypeError`` listing the valid ones.

    Parameters
    ----------
    network, model
        The system (noise, if any, is switched off: attractors are those of the
        deterministic flow).
    settings : AttractorSettings, optional
        The search's settings (default ``AttractorSettings()``).
    seed : int, optional
        Seed of the initial states (drawn and recorded when omitted).
    initial : array (K, N) or (N,), optional
        User-given initial activations; member ``m`` starts at ``initial[m % K]`` plus
        Gaussian noise of standard deviation ``settings.jitter``.  Without it, activations
        are uniform over ``settings.box`` (default: the range of the transfer function).
    stimuli, t
        Inputs frozen at time ``t`` (``None``: ``settings.inputs_at``, else after the last
        scheduled change).  Default: no input, the intrinsic attractor landscape.
    patterns : mapping, optional
        Stored ideas/patterns ``name -> vector | set of concepts`` (see
        :func:`resolve_patterns`); each attractor is matched against them.  Default:
        ``settings.ideas`` if any, else the model's stored ideas (``model.ideas``), if any.
    threads : int, optional
        Threads of the integrations (results are the same for any value).
    **overrides
        Fields of :class:`~thoughtfield.analysis.AttractorSettings` replacing those of
        ``settings``.

    Returns
    -------
    xarray.Dataset
        Dims ``attractor`` (stable/marginal attractors by basin size, then saddles) and
        ``concept`` (+ ``pattern``).  Variables: ``activation``, ``label``, ``idea``,
        ``stability``, ``basin_count``, ``basin_fraction``, ``basin_low``, ``basin_high``,
        ``max_real_eig``, ``time_constant``, ``n_unstable``, ``energy``, ``residual``,
        ``overlap`` (with patterns), ``state`` (potential form).  Print it with
        :func:`attractor_table`.
    """
    s = _with_overrides(settings, overrides)
    samples, jitter, box, match, active = s.samples, s.jitter, s.box, s.match, s.active
    label_size, t_end, steady_tol, rtol, atol = s.label_size, s.t_end, s.steady_tol, s.rtol, s.atol
    tol, cluster_tol, max_rounds, saddles, max_pairs = (s.tol, s.cluster_tol, s.max_rounds,
                                                         s.saddles, s.max_pairs)
    ci = s.ci
    if t is None:
        t = s.inputs_at
    if patterns is None and s.ideas:
        patterns = {k: list(v) for k, v in s.ideas.items()}
    model = Model() if model is None else model
    dyn = Dynamics(network, model, stimuli, t=t)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    seed = V.integer("seed", seed, min=0)
    rng = np.random.default_rng(seed)
    jitter = V.nonnegative("jitter", jitter)
    match = V.real("match", match, min=0.0, max=1.0, min_inclusive=False)
    label_size = V.integer("label_size", label_size, min=1)
    ci = V.real("ci", ci, min=0.0, max=1.0, min_inclusive=False, max_inclusive=False)
    cluster_tol = V.positive("cluster_tol", cluster_tol)
    tol = V.positive("tol", tol)
    max_rounds = V.integer("max_rounds", max_rounds, min=1)
    max_pairs = V.integer("max_pairs", max_pairs, min=0)
    if patterns is None and model.ideas is not None:
        # the stored ideas are the patterns to match (by their names)
        patterns = dict(zip(model.ideas.names, model.ideas.patterns(network)))
    pats = resolve_patterns(network, patterns)
    tau_max = float(np.max(dyn.tau))
    # slow adaptation and control rows: at least five of their time constants
    tau_slow = float(np.max(dyn.row_tau[dyn.free])) if dyn.free.size else tau_max
    T = max(50.0 * tau_max, 5.0 * tau_slow) if t_end is None else V.positive("t_end", t_end)
    solver = Solver("dopri5", rtol=rtol, atol=atol, steady_tol=V.positive("steady_tol", steady_tol))

    # ---- initial states
    if initial is not None:
        A_init = np.atleast_2d(np.asarray(initial, dtype=np.float64))
        if A_init.ndim != 2 or A_init.shape[1] != dyn.n:
            raise ConfigError(f"initial: expected shape (K, {dyn.n}) of activations (got "
                              f"{np.shape(initial)})", key='initial')
        if not np.isfinite(A_init).all():
            raise ConfigError("initial: must be finite (found NaN or infinity)", key='initial')
        M = A_init.shape[0] if samples is None else V.integer("samples", samples, min=1)
        A0 = A_init[np.arange(M) % A_init.shape[0]]
        if jitter > 0:
            A0 = A0 + rng.normal(0.0, jitter, A0.shape)
        A0 = dyn._with_clamps(A0)
        origin = "given" + (f" + jitter {jitter:g}" if jitter > 0 else "")
    else:
        M = 200 if samples is None else V.integer("samples", samples, min=1)
        A0 = random_activations(dyn, M, rng, box)
        if jitter > 0:
            A0 = dyn._with_clamps(A0 + rng.normal(0.0, jitter, A0.shape))
        origin = "uniform" if box is None else f"uniform in {tuple(box)}"
    Y = dyn.state_with_activation(A0)

    integ = _Integrator(dyn, network, model, solver, threads)
    attr_fps: list[FixedPoint] = []     # stable or marginal fixed points (attractors)
    other_fps: list[FixedPoint] = []    # saddles etc.
    which = np.full(M, -1, dtype=np.int64)
    conv_tol = 10.0 * steady_tol * tau_max
    pending = np.arange(M)
    rounds = 0
    T_round = T
    newton_failures = 0
    while pending.size and rounds < max_rounds:
        rounds += 1
        act, _ = integ.run(Y[pending], T_round)
        ends = act[:, -1, :]
        res, Ystate = _residuals(dyn, ends)
        still = []
        nudged = []
        for j, m in enumerate(pending):
            if res[j] > conv_tol:
                Y[m] = Ystate[j]
                still.append(m)
                continue
            a = ends[j]
            k = _nearest(attr_fps, a, cluster_tol)
            if k >= 0:
                which[m] = k
                continue
            if _nearest(other_fps, a, cluster_tol) >= 0:
                nudged.append((m, Ystate[j]))
                continue
            try:
                y, r, it = newton(dyn, Ystate[j], tol=tol)
            except FixedPointError:
                newton_failures += 1
                Y[m] = Ystate[j]
                still.append(m)
                continue
            fp = _make_fp(dyn, y, r, it)
            if fp.kind in ("stable", "marginal"):
                k = _nearest(attr_fps, fp.activation, cluster_tol)
                if k < 0:
                    attr_fps.append(fp)
                    k = len(attr_fps) - 1
                which[m] = k
            else:
                if _nearest(other_fps, fp.activation, cluster_tol) < 0:
                    other_fps.append(fp)
                nudged.append((m, Ystate[j]))
        for m, y in nudged:  # sat on a stable manifold: push it off and go on
            scale = max(1e-3, 10 * cluster_tol)
            Y[m] = dyn.state_with_activation(
                dyn._with_clamps(dyn.activation(y) + rng.normal(0.0, scale, dyn.n)))
            still.append(m)
        pending = np.array(sorted(still), dtype=np.int64)
        T_round *= 4.0

    # ---- members that never settled (e.g. a train of thought driven by adaptation):
    # the fixed points near their paths are unstable; find a few so the catalogue says so
    if pending.size:
        for m in pending[:MAX_UNSETTLED_NEWTON]:
            try:
                y, r, it = newton(dyn, Y[m], tol=tol)
            except FixedPointError:
                continue
            fp = _make_fp(dyn, y, r, it)
            near = _nearest(attr_fps, fp.activation, cluster_tol) >= 0 or \
                _nearest(other_fps, fp.activation, cluster_tol) >= 0
            if not near and fp.kind not in ("stable", "marginal"):
                fp._extra["unsettled"] = True
                other_fps.append(fp)

    # ---- saddles between pairs of attractors
    if saddles and len(attr_fps) >= 2 and max_pairs > 0:
        for fp in _find_saddles(dyn, integ, attr_fps, cluster_tol, tol, max_pairs, T):
            if _nearest(other_fps, fp.activation, cluster_tol) < 0:
                other_fps.append(fp)

    return _catalogue(dyn, network, model, attr_fps, other_fps, which, M, pats, match, active,
                      label_size, ci, attrs={
                          "samples": M, "seed": seed, "initial_states": origin,
                          "n_unresolved": int(np.sum(which < 0)), "rounds": rounds,
                          "newton_failures": newton_failures, "ensemble_runs": integ.runs,
                          "rhs_evaluations": integ.rhs_evals, "cluster_tol": cluster_tol,
                          "steady_tol": steady_tol, "newton_tol": tol, "ci_level": ci,
                          "match": match, "saddle_search": int(bool(saddles)),
                          "t_frozen": "after last input change" if t is None else t,
                      })


def _with_overrides(settings, overrides) -> AttractorSettings:
    """``settings`` (default ``AttractorSettings()``) with the keyword ``overrides``."""
    if settings is None:
        settings = AttractorSettings()
    elif not isinstance(settings, AttractorSettings):
        raise TypeError(f"attractors(): settings must be an AttractorSettings (got "
                        f"{type(settings).__name__}); pass options by keyword, e.g. samples=100")
    valid = [f.name for f in fields(AttractorSettings) if f.name != "path"]
    bad = sorted(set(overrides) - set(valid))
    if bad:
        raise TypeError(f"attractors(): unknown keyword {bad[0]!r}; valid options (the fields "
                        f"of AttractorSettings): {', '.join(valid)}")
    return replace(settings, **overrides) if overrides else settings


def _nearest(fps, a, tol):
    best, bd = -1, tol
    for k, fp in enumerate(fps):
        d = float(np.max(np.abs(fp.activation - a)))
        if d <= bd:
            best, bd = k, d
    return best


def _classify_ends(fps, ends, tol):
    return np.array([_nearest(fps, a, 10 * tol) for a in ends], dtype=np.int64)


def _find_saddles(dyn, integ, fps, cluster_tol, tol, max_pairs, T, per_round=16, levels=3):
    """Saddles on the basin boundaries between pairs of attractors (see module doc)."""
    K = len(fps)
    pairs = [(i, j) for i in range(K) for j in range(i + 1, K)]
    pairs.sort(key=lambda p: float(np.max(np.abs(fps[p[0]].activation - fps[p[1]].activation))))
    pairs = pairs[:max_pairs]
    P = len(pairs)
    YA = np.array([fps[i].state for i, _ in pairs])
    YB = np.array([fps[j].state for _, j in pairs])
    lo = np.zeros(P)
    hi = np.ones(P)
    ok = np.ones(P, dtype=bool)
    for _ in range(levels):
        s = lo[:, None] + (hi - lo)[:, None] * np.arange(1, per_round + 1)[None, :] / (per_round + 1)
        Y0 = (1 - s)[..., None] * YA[:, None, :] + s[..., None] * YB[:, None, :]
        act, _ = integ.run(Y0.reshape(P * per_round, dyn.nstate), T)
        cls = _classify_ends(fps, act[:, -1, :], cluster_tol).reshape(P, per_round)
        for p, (i, _) in enumerate(pairs):
            if not ok[p]:
                continue
            out = np.flatnonzero(cls[p] != i)
            if out.size == 0:       # the whole range went to A: the boundary is above it
                lo[p] = s[p, -1]
                continue
            q = out[0]
            lo[p], hi[p] = (s[p, q - 1] if q > 0 else lo[p]), s[p, q]
    sb = 0.5 * (lo + hi)
    Yb = (1 - sb)[:, None] * YA + sb[:, None] * YB
    # follow each boundary point: it slides along the stable manifold towards the saddle
    Tf = 20.0 * float(np.max(dyn.tau))
    act, _ = integ.run(Yb, Tf, steady=False, save_dt=Tf / 400)
    found = []
    for p in range(P):
        res, Ys = _residuals(dyn, act[p])
        for start in (Yb[p], Ys[int(np.argmin(res))]):
            try:
                y, r, it = newton(dyn, start, tol=tol)
            except FixedPointError:
                continue
            fp = _make_fp(dyn, y, r, it)
            if fp.kind not in ("stable", "marginal") and _nearest(found, fp.activation,
                                                                  cluster_tol) < 0:
                fp._extra["between"] = pairs[p]
                found.append(fp)
                break
    return found


# --------------------------------------------------------------------------- dataset
def _catalogue(dyn, network, model, attr_fps, other_fps, which, M, pats, match, active,
               label_size, ci, attrs) -> xr.Dataset:
    counts = np.bincount(which[which >= 0], minlength=len(attr_fps)).astype(np.int64)
    order = sorted(range(len(attr_fps)), key=lambda k: (-counts[k], KINDS.index(attr_fps[k].kind)))
    fps = [attr_fps[k] for k in order] + list(other_fps)
    cnt = np.concatenate([counts[order], np.zeros(len(other_fps), np.int64)])
    K = len(fps)
    A = np.array([fp.activation for fp in fps]).reshape(K, dyn.n)
    if active is None:
        active = default_active(dyn.transfer, float(A.max()) if A.size else 0.0)
    active = V.real("active", active)
    labels, ideas = [], []
    scores = np.zeros((K, len(pats)))
    for k, fp in enumerate(fps):
        labels.append(concept_label(fp.activation, dyn.concepts, active, label_size))
        if pats:
            scores[k] = pattern_scores(fp.activation, pats, dyn.transfer, active)
        idea = idea_label(scores[k], pats, match, bool(np.any(fp.activation >= active)))
        if fp.kind not in ("stable", "marginal"):
            between = fp._extra.get("between")
            if between is not None:
                # attractor indices of the pair in the final order
                ia, ib = (order.index(between[0]), order.index(between[1]))
                idea = (idea + "; " if idea else "") + f"boundary of {ia} and {ib}"
            elif fp._extra.get("unsettled"):
                idea = (idea + "; " if idea else "") + "near the path of unsettled runs"
        ideas.append(idea)
    frac = cnt / M
    lo, hi = wilson_interval(cnt, M, ci)
    is_attr = np.array([k < len(attr_fps) for k in range(K)], dtype=bool)
    lo = np.where(is_attr, lo, np.nan)
    hi = np.where(is_attr, hi, np.nan)
    frac = np.where(is_attr, frac, np.nan)
    st = [fp.stability for fp in fps]
    coords = {
        "attractor": ("attractor", np.arange(K)),
        "concept": ("concept", np.array(dyn.concepts, dtype=object)),
    }
    if network.layered:   # a network without layers: no layer labels
        coords["layer"] = ("concept", np.array(network.concept_layers, dtype=object),
                           {"long_name": "abstraction layer", "ladder": "|".join(network.layers)})
    data = {
        "activation": (("attractor", "concept"), A,
                       {"long_name": "activation at the fixed point", "units": "1"}),
        "label": ("attractor", np.array(labels, dtype=object),
                  {"long_name": f"most active concepts (activation >= {active:g})"}),
        "idea": ("attractor", np.array(ideas, dtype=object),
                 {"long_name": "matching stored idea/pattern"}),
        "stability": ("attractor", np.array([s.kind for s in st], dtype=object)),
        "basin_count": ("attractor", cnt, {"long_name": "initial states ending here"}),
        "basin_fraction": ("attractor", frac, {"long_name": "basin fraction", "units": "1"}),
        "basin_low": ("attractor", lo, {"long_name": f"{ci:.0%} Wilson interval, lower"}),
        "basin_high": ("attractor", hi, {"long_name": f"{ci:.0%} Wilson interval, upper"}),
        "max_real_eig": ("attractor", np.array([s.max_real for s in st]),
                         {"long_name": "largest real part of the Jacobian's eigenvalues",
                          "units": "1 / model time unit"}),
        "time_constant": ("attractor", np.array([s.time_constant for s in st]),
                          {"long_name": "1 / |largest real part| (slowest decay time of a "
                                        "stable point)", "units": "model time units"}),
        "n_unstable": ("attractor", np.array([s.n_unstable for s in st], dtype=np.int64)),
        "energy": ("attractor", np.array([fp.energy for fp in fps]),
                   {"long_name": "Lyapunov energy (NaN: not defined)"}),
        "residual": ("attractor", np.array([fp.residual for fp in fps]),
                     {"long_name": "max |tau dy/dt| at the fixed point"}),
    }
    if dyn.form != "activation":
        data["state"] = (("attractor", "concept"),
                         np.array([fp.state[:dyn.n] for fp in fps]).reshape(K, dyn.n),
                         {"long_name": f"state ({dyn.form} form)"})
    for name, r0, r1 in dyn.extra_rows:
        vals = np.array([fp.state[r0:r1] for fp in fps]).reshape(K, r1 - r0)
        if name == "adaptation":
            data["adaptation"] = (("attractor", "concept"), vals,
                                  {"long_name": "adaptation h at the fixed point"})
        else:
            coords["control"] = ("control", np.array([c.name for c in model.controls],
                                                     dtype=object))
            data["control_value"] = (("attractor", "control"), vals,
                                     {"long_name": "control c at the fixed point"})
    if pats:
        coords["pattern"] = ("pattern", np.array([p[0] for p in pats], dtype=object))
        data["overlap"] = (("attractor", "pattern"), scores,
                           {"long_name": "overlap (bipolar/real: sign overlap or cosine; "
                                         "sets: Jaccard index)"})
    energy_note = dyn.energy_defined()
    from ..results import _clean_attrs, _version
    base = {"title": "thoughtfield attractor catalogue", "thoughtfield_version": _version(),
            "form": dyn.form, "transfer": dyn.transfer, "active_threshold": active,
            "energy_note": energy_note or "Lyapunov energy (see thoughtfield.energy and docs/analysis.md)",
            "model": model.to_dict()}
    from ..results import network_description
    base["network"] = network_description(network)
    return xr.Dataset(data, coords=coords, attrs=_clean_attrs({**base, **attrs}))


def attractor_table(ds: xr.Dataset, max_rows: int = 30) -> str:
    """A printable table of an attractor catalogue."""
    K = ds.sizes.get("attractor", 0)
    lines = [f"{K} fixed point(s) from {ds.attrs.get('samples', '?')} initial states "
             f"(seed {ds.attrs.get('seed', '?')}); unresolved: {ds.attrs.get('n_unresolved', 0)}"]
    head = f"{'#':>3}  {'basin':>6}  {'CI':^15}  {'stability':<9}  {'energy':>10}  {'tau_slow':>8}  label"
    lines.append(head)
    for k in range(min(K, max_rows)):
        f = float(ds.basin_fraction[k])
        if math.isfinite(f):
            b = f"{f:6.3f}"
            c = f"[{float(ds.basin_low[k]):.3f}, {float(ds.basin_high[k]):.3f}]"
        else:
            b, c = f"{'-':>6}", ""
        e = float(ds.energy[k])
        es = f"{e:10.4g}" if math.isfinite(e) else f"{'-':>10}"
        tc = float(ds.time_constant[k])
        ts = f"{tc:8.3g}" if math.isfinite(tc) else f"{'inf':>8}"
        idea = str(ds.idea.values[k])
        lab = str(ds.label.values[k]) + (f"  [{idea}]" if idea else "")
        lines.append(f"{k:>3}  {b}  {c:^15}  {str(ds.stability.values[k]):<9}  {es}  {ts}  {lab}")
    if K > max_rows:
        lines.append(f"... {K - max_rows} more")
    return "\n".join(lines)
