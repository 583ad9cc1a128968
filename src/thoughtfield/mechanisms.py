"""Descriptions of the cognitive mechanisms (DESIGN §1): adaptation, goals, layers,
competition pools, choices, conflict monitoring and control, stored ideas.

Each class is a frozen, validated description with ``to_dict``/``from_dict`` (unknown keys
are rejected with a did-you-mean).  They are attached to a :class:`~thoughtfield.Model`
(``Model(adaptation=..., goals=..., layers=..., pools=[...], choices=[...],
controls=[...], ideas=...)``) and lowered to arrays by :mod:`thoughtfield.build`.

The full model, in the activation form (``Model.form = "activation"``)::

    tau   da/dt = -a + f(gain * (u - threshold)) + sigma xi(t)
    u     = W a + I(t) + bias + x
    x     = c_g * g_gain * (B a)                      goal bias (``favours`` relations)
          - sum_pools inh_p * (sum_{j in p} a_j - a_i)  lateral inhibition
          - h                                        adaptation
          + sum_k gain_k c_k  (for targeted concepts) control acting on a task concept
          + s (Xi^T (Xi a) - diag) a                  stored ideas, low-rank part
    tau_h dh/dt = -h + kappa a
    tau_c dc/dt = -(c - c0) + lambda * sum_{monitored p} E_p
    E_p   = -sum_{i != j in p} w_ij a_i a_j           over the pool's inhibitory weights

and in the potential form (``"potential"``) ``tau du/dt = -u + W a + I + x``,
``a = f(gain * (u + bias - threshold))``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from . import _validate as V
from ._params import described, param, per_concept
from ._schema import Choice as OneOfNames
from ._schema import (REQUIRED, Bool, Field, ListOf, MapOf, OneOf, Real, Str, Struct,
                      is_array, is_number, is_table)
from .errors import ConfigError


# ------------------------------------------------------------------ helpers
def _names(key: str, values, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigError(f"{key}: expected a list of names (got {values!r})", key=key)
    out = tuple(V.name(f"{key}[{i}]", v) for i, v in enumerate(values))
    if not out and not allow_empty:
        raise ConfigError(f"{key}: must list at least one name", key=key)
    seen = set()
    for v in out:
        if v in seen:
            raise ConfigError(f"{key}: {v!r} is listed twice", key=key)
        seen.add(v)
    return out


class Names(ListOf):
    """A list of distinct names: an array of names in TOML, a tuple in Python."""

    def __init__(self):
        super().__init__(Str(name=True), min_len=1, unique=True)

    def coerce(self, key, value):
        return _names(key, value)


_NAMES = Names()
_TIME = "time"


# ------------------------------------------------------------------ adaptation
@described("adaptation")
class Adaptation:
    """Slow adaptation (fatigue): ``tau_h dh/dt = -h + strength * a``, ``h`` subtracted
    from the input of the concept.  Destabilises whatever is active, so the state moves on
    (trains of thought).

    Parameters
    ----------
    tau : per-concept, > 0
        Time constant ``tau_h`` (model time units), usually much slower than ``tau``.
    strength : per-concept, >= 0
        ``kappa``: the adaptation a fully active concept builds up.
    record : bool
        Save ``adaptation(time, concept)`` in the result.
    """

    tau: object = param(per_concept(Real(min=0, min_inclusive=False)), 10.0,
                        "Time constant tau_h of the adaptation.", unit=_TIME)
    strength: object = param(per_concept(Real(min=0)), 1.0, "kappa: adaptation built by a "
                             "fully active concept.", unit="1")
    record: bool = param(Bool(), False, "Save `adaptation(time, concept)`.")


# ------------------------------------------------------------------ goals
_CLAMP = Struct({
    "concept": Field(Str(name=True), REQUIRED, "The goal concept."),
    "value": Field(Real(), 1.0, "Activation held.", unit="activation"),
    "start": Field(Real(min=0), 0.0, "Onset.", unit=_TIME),
    "stop": Field(Real(allow_inf=True), math.inf, "Offset (exclusive).", unit=_TIME),
})


#: Directions of the goal relations that form the goal bias (``Goals.direction``).
GOAL_DIRECTIONS = ("both", "goal_to_target")


@described("goals")
class Goals:
    """Intentionality: goal concepts bias the concepts they favour.

    The relations of the ``types`` (default ``favours``) are taken out of ``W`` and form a
    separate matrix ``B``; the goal bias ``c * gain * (B a)`` is added to the input, where
    ``a`` holds the goal concepts' activations and ``c`` is 1, or the value of a
    :class:`Control` whose ``target`` is ``"goals"``.  Goals are ordinary concepts: clamp
    them for an interval (``active``), or let them be driven by the dynamics.

    The source of a goal relation is the goal, its target the concept favoured.  A
    relation type acts in one direction (``favours``: goal -> target) or in both
    (symmetric types such as ``association``, or a ``reverse`` factor): ``direction``
    says which of them form ``B``.  ``"both"`` (the default) takes the relation out of
    ``W`` in both directions, so a control on the goals also scales the feedback from the
    target to the goal; ``"goal_to_target"`` takes out only the goal -> target direction,
    and the target -> goal direction stays in ``W`` as an ordinary, unscaled coupling.
    The two agree for one-way types such as ``favours``.

    Parameters
    ----------
    types : list of str
        Relation types forming the goal bias (must exist in the network).
    gain : float
        Strength of the bias (``g_gain``).
    direction : {"both", "goal_to_target"}, optional
        Which directions of the goal relations form the goal bias (see above; default,
        ``None``, is ``"both"``).
    active : mapping or list, optional
        Goals held on: ``{"relax": 1.0}`` clamps ``relax`` at 1 for the whole run; a list of
        :class:`~thoughtfield.Clamp` (or tables ``{concept, value, start, stop}``) clamps
        them over intervals.
    """

    types: tuple = param(_NAMES, ("favours",), "Relation types forming the goal bias; they "
                         "are taken out of W.")
    gain: float = param(Real(), 1.0, "Strength of the goal bias (scaled by a control whose "
                        "target is `goals`).", unit="1")
    # (None is "both": results and resolved configs made before the option stay as they were)
    direction: str | None = param(OneOfNames(list(GOAL_DIRECTIONS)), None, "Which directions of "
                                  "the goal relations (source = goal) form the goal bias: "
                                  "`both` takes them out of W both ways (a control on the goals "
                                  "then also scales the target -> goal feedback of a symmetric "
                                  "type), `goal_to_target` only goal -> target, leaving the "
                                  "feedback in W.", default_doc='"both"')
    active: object = param(
        OneOf((is_table, MapOf(Real(), key_doc="GOAL")), (is_array, ListOf(_CLAMP)),
              what="table goal = value, or array of {concept, value, start, stop}"),
        (), "Goals held on: `{ relax = 1.0 }` for the whole run, or clamps over intervals.",
        config_default=None, default_doc="none (goals are dynamic concepts)",
        check=lambda key, value: _active(key, value), dump=lambda v: _active_out(v))


def _active(key, act) -> tuple:
    from .stimuli import Clamp, stimulus_from_dict
    clamps = []
    if isinstance(act, Mapping):
        for k, v in act.items():
            clamps.append(Clamp(V.name(key, k), value=V.real(f"{key}.{k}", v)))
    elif isinstance(act, (str, bytes)) or not isinstance(act, Iterable):
        raise ConfigError(f"{key}: expected a table of concept = value or a list of "
                          f"clamps (got {act!r})", key=key)
    else:
        for i, c in enumerate(act):
            if isinstance(c, Clamp):
                clamps.append(c)
            elif isinstance(c, Mapping):
                clamps.append(stimulus_from_dict({"kind": "clamp", **c}, f"{key}[{i}]"))
            else:
                raise ConfigError(f"{key}[{i}]: expected a Clamp or a table "
                                  f"{{concept, value, start, stop}} (got {c!r})", key=f"{key}[{i}]")
    return tuple(clamps)


def _active_out(clamps) -> list:
    out = []
    for c in clamps:
        d = c.to_dict()
        d.pop("kind")
        out.append(d)
    return out


# ------------------------------------------------------------------ layers
@described("projection")
class LayerProjection:
    """Bottom-up (abstraction) and top-down (grounding / feedback) gains between two
    layers, declared once for both directions.

    Every relation joining a concept of ``lower`` and a concept of ``upper`` (of the listed
    ``types``; all types when omitted) acts upwards with weight ``w * sign * type_gain * up``
    and downwards with ``w * sign * type_gain * down`` -- whichever endpoint is its source,
    and replacing the relation type's own ``forward``/``reverse`` factors.
    """

    lower: str = param(Str(name=True), REQUIRED, "The lower (more concrete) layer.",
                       hint="name the lower layer")
    upper: str = param(Str(name=True), REQUIRED, "The upper (more abstract) layer.",
                       hint="name the upper layer")
    up: float = param(Real(min=0), 1.0, "Bottom-up (abstraction) gain.", unit="1")
    down: float = param(Real(min=0), 0.0, "Top-down (grounding, feedback) gain.", unit="1")
    types: tuple | None = param(_NAMES, None, "Relation types (families) it covers.",
                                default_doc="all")

    def _validate(self, key):
        if self.lower == self.upper:
            raise ConfigError(f"{key}.upper: must differ from lower (both {self.lower!r}); "
                              "use Layers.lateral for gains inside a layer", key=f"{key}.upper")


@described("layers")
class Layers:
    """Gains of the abstraction ladder.

    Parameters
    ----------
    projections : list of LayerProjection
        Bottom-up/top-down gains per layer pair (and per relation family via ``types``).
    lateral : float or mapping layer -> float
        Gain of relations inside a layer (default 1).
    """

    projections: tuple = param(
        ListOf(LayerProjection.struct()), (), "Gains between layer pairs, declared once for "
        "both directions: a relation joining the two layers acts upwards with `w * up` and "
        "downwards with `w * down`, whichever end is its source.",
        check=lambda key, value: _projections(key, value))
    lateral: object = param(
        OneOf((is_number, Real(min=0)), (is_table, MapOf(Real(min=0), key_doc="LAYER")),
              what="float >= 0, or table layer = gain"), 1.0,
        "Gain of relations inside a layer.", unit="1", check=lambda key, value: _lateral(key, value))


def _projections(key, value) -> tuple:
    return tuple(list_of(LayerProjection, value, key, what="a list"))


def _lateral(key, lat):
    if isinstance(lat, Mapping):
        return {V.name(key, k): V.nonnegative(f"{key}.{k}", v) for k, v in lat.items()}
    return V.nonnegative(key, lat)


# ------------------------------------------------------------------ pools and choices
@described("pool", label_by="name", dict_order=("name", "inhibition", "concepts", "layer"))
class Pool:
    """A competition pool: a named set of concepts that inhibit each other.

    Every member receives ``-inhibition * (sum of the other members' activations)``.
    ``contradicts`` (and any negative) relations between members add to the competition;
    the pool's conflict energy ``E = -sum_{i != j} w_ij a_i a_j`` runs over both.

    Give ``concepts`` (an explicit set) or ``layer`` (every concept of a layer; ``"*"``
    makes one pool per non-empty layer, named ``"<name>:<layer>"``).
    """

    name: str = param(Str(name=True), REQUIRED, "Name of the pool (choices and controls "
                      "refer to it).", hint="name the pool")
    concepts: tuple | None = param(_NAMES, None, "The competing concepts.")
    layer: str | None = param(Str(name=True), None, 'Every concept of this layer; `"*"` makes '
                              'one pool per non-empty layer, named `NAME:LAYER`.')
    inhibition: float = param(Real(min=0), 0.0, "Lateral inhibition: each member receives "
                              "`-inhibition * (sum of the other members' activations)`.",
                              unit="1")

    def _validate(self, key):
        if (self.concepts is None) == (self.layer is None):
            raise ConfigError(f"{key}: give either concepts or layer", key=key)


_ON = ("activation", "evidence", "diffusion")
_COMPARE = {"none": 0, "mean": 1, "max": 2}


@described("choice", dict_order=("pool", "threshold", "on", "onset", "stop", "correct", "rate",
                                 "leak", "inhibition", "compare", "noise", "floor", "start"))
class Choice:
    """A choice readout on a pool: the first member whose decision variable reaches
    ``threshold`` after ``onset``.

    Parameters
    ----------
    pool : str
        The pool whose members are the options.
    threshold : float
        Decision threshold.
    on : {"activation", "evidence", "diffusion"}
        Threshold the members' activations, or an evidence accumulator per member::

            de_i/dt = rate * (a_i - cmp_i) - leak * e_i - inhibition * sum_{j != i} e_j
                      + noise * xi(t),     e_i >= floor

        with ``cmp_i`` the mean (``compare = "mean"``) or the largest (``"max"``) of the
        other members' activations, or 0 (``"none"``: an independent race).  ``leak = 0``,
        ``inhibition = 0`` and ``compare = "mean"`` with two options is a race of two
        diffusions with opposite drifts and independent noise (``"diffusion"`` below is
        the drift-diffusion model); ``compare = "none"`` with ``leak``, ``inhibition`` and
        ``floor = 0`` is the leaky competing accumulator of Usher & McClelland (2001).

        ``"diffusion"`` (a pool of exactly two options): one signed accumulator, the
        drift-diffusion model (Ratcliff 1978) with two bounds::

            dx/dt = rate * (a_1 - a_2) + noise * xi(t),     x(onset) = start

        the first option is chosen when ``x`` reaches ``+threshold``, the second when it
        reaches ``-threshold``.  It is stored as two accumulators ``e_1 = x`` and
        ``e_2 = -x`` (one noise for both, mirrored), so readouts and plots of evidence
        work as for ``"evidence"``.  Euler-Maruyama sees a crossing only at its steps, so
        the bounds act as if wider by about ``0.5826 * noise * sqrt(dt)`` (Broadie,
        Glasserman & Kou 1997): 0.041 at ``noise = 1``, ``dt = 0.005``.
    onset : float
        Detection (and accumulation) starts here, e.g. the stimulus onset after a
        settling phase; response times are measured from it.
    stop : bool
        End the run once every ensemble member has chosen.
    correct : str, optional
        The correct option, for accuracy readouts.
    rate, leak, inhibition, compare, floor, noise
        Accumulator parameters (``on = "evidence"``; ``rate`` and ``noise`` also for
        ``"diffusion"``).
    start : float, optional
        ``on = "diffusion"`` only: the starting point ``x(onset)``, in
        ``(-threshold, threshold)`` (default 0).
    """

    pool: str = param(Str(name=True), REQUIRED, "The pool whose members are the options.",
                      hint="name a pool from [[pools]]")
    threshold: float = param(Real(), 0.5, "Decision threshold.", unit="activation")
    on: str = param(OneOfNames(list(_ON)), "activation", "Threshold the members' activations, or an "
                    "evidence accumulator per member, or (`diffusion`, two options) one signed "
                    "accumulator of rate * (a_1 - a_2) with bounds +/-threshold.")
    onset: float = param(Real(min=0), 0.0, "Detection (and accumulation) starts here; response "
                         "times are measured from it.", unit=_TIME)
    stop: bool = param(Bool(), False, "End the run once every member has chosen.")
    correct: str | None = param(Str(name=True), None, "The correct option (accuracy readouts).")
    rate: float = param(Real(), 1.0, "Evidence: drift per unit of activation difference.",
                        unit="1/time", omit=lambda c, v: not c._evidence and v == 1.0)
    leak: float = param(Real(min=0), 0.0, "Evidence: leak.", unit="1/time",
                        omit=lambda c, v: c.on != "evidence")
    inhibition: float = param(Real(min=0), 0.0, "Evidence: inhibition from the other "
                              "accumulators.", unit="1/time",
                              omit=lambda c, v: c.on != "evidence")
    compare: str = param(OneOfNames(["mean", "max", "none"]), "mean", "Evidence: drift is "
                         "`rate * (a_i - mean or max of the others)`, or `rate * a_i` (race).",
                         omit=lambda c, v: c.on != "evidence")
    floor: float | None = param(Real(), None, "Evidence: lower bound (0 for Usher & "
                                "McClelland's LCA).", default_doc="none",
                                omit=lambda c, v: c.on != "evidence")
    noise: float = param(Real(min=0), 0.0, "Evidence: noise (needs euler_maruyama).",
                         unit="1/time^1/2", omit=lambda c, v: not c._evidence)
    # None (not 0.0) as the default keeps it out of the resolved config of other choices
    start: float | None = param(Real(), None, "Diffusion: starting point x(onset), between "
                                "-threshold and threshold.", unit="activation",
                                default_doc="0", omit=lambda c, v: v is None)

    def _validate(self, key):
        if self.on == "activation":
            for k, default in (("leak", 0.0), ("inhibition", 0.0), ("noise", 0.0)):
                if getattr(self, k) != default:
                    raise ConfigError(f"{key}.{k}: applies to evidence accumulators only; set "
                                      f"on = 'evidence' or remove {k}", key=f"{key}.{k}")
            if self.floor is not None:
                raise ConfigError(f"{key}.floor: applies to evidence accumulators only; set "
                                  "on = 'evidence' or remove floor", key=f"{key}.floor")
        if self.on == "diffusion":
            for k, default in (("leak", 0.0), ("inhibition", 0.0), ("compare", "mean")):
                if getattr(self, k) != default:
                    raise ConfigError(f"{key}.{k}: does not apply to on = 'diffusion' (one "
                                      "accumulator of rate * (a_1 - a_2) with bounds "
                                      f"+/-threshold); remove {k} or set on = 'evidence'",
                                      key=f"{key}.{k}")
            if self.floor is not None:
                raise ConfigError(f"{key}.floor: does not apply to on = 'diffusion' (its lower "
                                  "bound is -threshold); remove floor", key=f"{key}.floor")
            if self.threshold <= 0:
                raise ConfigError(f"{key}.threshold: must be > 0 with on = 'diffusion' (the "
                                  f"bounds are +/-threshold) (got {self.threshold:g})",
                                  key=f"{key}.threshold")
            if self.start is not None and abs(self.start) >= self.threshold:
                raise ConfigError(f"{key}.start: must lie between -threshold and threshold "
                                  f"(+/-{self.threshold:g}) (got {self.start:g})", key=f"{key}.start")
        elif self.start is not None:
            raise ConfigError(f"{key}.start: applies to on = 'diffusion' only; set "
                              "on = 'diffusion' or remove start", key=f"{key}.start")
        if self.floor is not None and self.threshold <= self.floor:
            raise ConfigError(f"{key}.threshold: must be > floor ({self.floor:g}) "
                              f"(got {self.threshold:g})", key=f"{key}.threshold")

    @property
    def _evidence(self) -> bool:
        return self.on in ("evidence", "diffusion")

    @property
    def has_noise(self) -> bool:
        return self._evidence and self.noise > 0


# ------------------------------------------------------------------ control
_MODES = ("continuous", "trial")


def _target(key, tgt):
    if isinstance(tgt, str):
        if tgt not in ("goals", "gates"):
            raise ConfigError(f"{key}: must be 'goals', 'gates' or a table concept = gain "
                              f"(got {tgt!r})" + V.did_you_mean(tgt, ["goals", "gates"]), key=key)
        return tgt
    if isinstance(tgt, Mapping):
        if not tgt:
            raise ConfigError(f"{key}: the table of concepts is empty", key=key)
        return {V.name(key, k): V.real(f"{key}.{k}", v) for k, v in tgt.items()}
    raise ConfigError(f"{key}: must be 'goals', 'gates' or a table concept = gain (got {tgt!r})",
                      key=key)


@described("control", dict_order=("name", "monitor", "target", "mode", "baseline", "tau",
                                  "sensitivity", "persistence", "alpha", "beta"))
class Control:
    """Conflict monitoring and control (Botvinick, Braver, Barch, Carter & Cohen 2001).

    The control variable ``c`` responds to the conflict energy ``E`` of the monitored
    pools and raises the goal-bias gain (``target = "goals"``: the bias becomes
    ``c * goals.gain * B a``), the input of task concepts (``target = {concept: gain}``:
    input ``gain * c``), or the gated projections that name it (``target = "gates"``: a
    :class:`Gate` with ``control = name`` is multiplied by ``c``, so control acts on a
    pathway).  ``goals = [...]`` with ``target = "goals"`` scales only the goal
    relations whose source is one of those goal concepts: the bias of target ``i`` becomes
    ``goals.gain * sum_j c_(j) B_ij a_j`` with ``c_(j)`` the value of the control of goal
    ``j`` (1 for goals no such control names).  At most one control scales the whole goal
    bias (it multiplies the per-goal ones); the per-goal controls name disjoint goals.

    * ``mode = "continuous"``: ``tau dc/dt = -(c - baseline) + sensitivity * E(t)``.
    * ``mode = "trial"``: ``c`` is constant within a trial and updated between trials of a
      :class:`~thoughtfield.Protocol`: ``c_next = persistence * c + (1 - persistence) *
      (alpha * E_trial + beta)`` with ``E_trial`` the conflict at the response.

    ``c`` starts at ``baseline``.
    """

    monitor: tuple = param(_NAMES, REQUIRED, "Pools whose conflict drives the control.",
                           hint="list the pools whose conflict drives the control")
    target: object = param(
        OneOf((lambda v: isinstance(v, str), OneOfNames(["goals", "gates"])),
              (is_table, MapOf(Real(), key_doc="CONCEPT")),
              what='"goals", "gates", or table concept = gain'),
        "goals", 'Raise the goal-bias gain (`"goals"`), scale the gates that name this control '
        '(`"gates"`), or add `gain * c` to the input of task concepts.',
        check=lambda key, value: _target(key, value))
    goals: tuple | None = param(_NAMES, None, 'With `target = "goals"`: scale only the goal '
                                "relations of these goal concepts (their sources), not the "
                                "whole goal bias; several controls may then scale disjoint "
                                "sets of goals.", default_doc="all goals")
    name: str = param(Str(name=True), "control", "Name (the `controller` coordinate).")
    mode: str = param(OneOfNames(list(_MODES)), "continuous", "`continuous`: tau dc/dt = -(c - "
                      "baseline) + sensitivity E; `trial`: updated between the trials of a "
                      "[protocol].")
    tau: float = param(Real(min=0, min_inclusive=False), 1.0, "Time constant (continuous).",
                       unit=_TIME, omit=lambda c, v: c.mode != "continuous")
    baseline: float = param(Real(), 1.0, "c0, also the initial value.", unit="1")
    sensitivity: float = param(Real(), 1.0, "lambda (continuous).", unit="1/energy",
                               omit=lambda c, v: c.mode != "continuous")
    persistence: float = param(Real(min=0, max=1), 0.5, "l in c_next = l c + (1 - l)(alpha E + "
                               "beta) (trial).", unit="1", omit=lambda c, v: c.mode == "continuous")
    alpha: float = param(Real(), 1.0, "alpha (trial).", unit="1/energy",
                         omit=lambda c, v: c.mode == "continuous")
    beta: float = param(Real(), 0.0, "beta (trial).", unit="1",
                        omit=lambda c, v: c.mode == "continuous")

    def _validate(self, key):
        if self.goals is not None and self.target != "goals":
            raise ConfigError(f"{key}.goals: names goal concepts whose relations the control "
                              "scales, which needs target = 'goals'; remove goals or set "
                              "target = 'goals'", key=f"{key}.goals")
        if self.goals is not None and not self.goals:
            raise ConfigError(f"{key}.goals: the list is empty; name goal concepts, or remove "
                              "goals to scale the whole goal bias", key=f"{key}.goals")

    def update(self, c: np.ndarray, conflict: np.ndarray) -> np.ndarray:
        """Trial-to-trial rule ``persistence * c + (1 - persistence) * (alpha * E + beta)``."""
        lam = self.persistence
        return lam * c + (1.0 - lam) * (self.alpha * conflict + self.beta)


# ------------------------------------------------------------------ ideas
@described("idea", label_by="name")
class Idea:
    """A stored idea: a named set of concepts (``concepts``), or a pattern over all
    concepts (``pattern``: an array with one value per concept, e.g. +-1 or 0/1, or a table
    concept -> value with the others 0)."""

    name: str = param(Str(name=True), REQUIRED, "Name of the idea.",
                      hint="every idea needs a name")
    concepts: tuple | None = param(_NAMES, None, "The idea as a set of concepts.")
    pattern: object = param(None, None, "The idea as a pattern over the concepts.",
                            check=lambda key, value: _pattern(key, value))

    def _validate(self, key):
        if (self.concepts is None) == (self.pattern is None):
            raise ConfigError(f"{key}: give either concepts (a set) or pattern", key=key)

    def vector(self, network) -> np.ndarray:
        """The pattern over the concepts of ``network``."""
        n = network.n
        key = f"idea {self.name!r}"
        v = np.zeros(n)
        if self.concepts is not None:
            v[network.indices(self.concepts, f"{key}.concepts")] = 1.0
        elif isinstance(self.pattern, Mapping):
            for k, x in self.pattern.items():
                v[network.index(k, f"{key}.pattern.{k}")] = x
        else:
            if self.pattern.size != n:
                raise ConfigError(f"{key}.pattern: has {self.pattern.size} values but the network "
                                  f"has {n} concepts", key=f"{key}.pattern")
            v[:] = self.pattern
        return v

    @property
    def is_set(self) -> bool:
        return self.concepts is not None


def _pattern(key, p):
    if isinstance(p, Mapping):
        return {V.name(key, k): V.real(f"{key}.{k}", v) for k, v in p.items()}
    arr = V.real_array(key, p)
    if arr.size == 0:
        raise ConfigError(f"{key}: is empty", key=key)
    arr.setflags(write=False)
    return arr


_RULES = ("hebb", "covariance")
_REPR = ("auto", "sparse", "low_rank")


#: How :meth:`Ideas.cue` degrades a pattern.
CUE_MODES = ("partial", "flip")


@described("ideas")
class Ideas:
    """Ideas stored as attractors by a Hebbian outer-product rule.

    ``w_ij += strength * sum_mu x_i^mu x_j^mu`` (``/ N`` with ``normalize``) for ``i != j``,
    where ``x^mu`` is the pattern of idea ``mu`` (``rule = "hebb"``) or the pattern minus
    its mean (``"covariance"``, for sparse 0/1 patterns).  Self-connections are zero.
    With ``restrict_to_edges`` only pairs already joined by a relation (either direction)
    get a weight; otherwise every pair of co-members does.

    Representation: ``"sparse"`` adds the weights to the sparse matrix ``W`` (fine for
    set ideas: ``k^2`` entries per idea of ``k`` concepts); ``"low_rank"`` never forms the
    ``N x N`` matrix and computes ``s (Xi^T (Xi a) - diag(d) a)`` in ``O(N * P)`` per
    evaluation -- the only sensible choice for dense patterns over many concepts (storing
    10 patterns over 100,000 concepts takes 8 MB instead of 80 GB).  ``"auto"`` picks
    sparse when the outer products have at most ``max(4 * nnz(W), 10**5)`` entries (or
    with ``restrict_to_edges``), else low rank.

    ``strength = 0`` keeps the ideas as readouts only (overlaps, trains of thought).

    Readouts: ``idea_overlap(time, idea) = x^mu . a / N`` and the set-membership variant
    ``idea_activation(time, idea)`` = the mean activation of the idea's members (concepts
    with a positive pattern value).
    """

    ideas: tuple = param(None, REQUIRED, "The stored ideas.", hint="list the ideas to store",
                         config=False, check=lambda key, value: _ideas(value))
    strength: float = param(Real(), 1.0, "Hebbian strength s (0: readouts only).", unit="1")
    normalize: bool = param(Bool(), True, "Divide the weights by the number of concepts N.")
    rule: str = param(OneOfNames(list(_RULES)), "hebb", "`hebb`: s x_i x_j; `covariance`: patterns "
                      "minus their mean (sparse 0/1 patterns).")
    restrict_to_edges: bool = param(Bool(), False, "Only pairs already joined by a relation get "
                                    "a weight.")
    representation: str = param(OneOfNames(list(_REPR)), "auto", "Sparse weights added to W, or a "
                                "low-rank term computed in O(N P) (dense patterns over many "
                                "concepts).")

    def _validate(self, key):
        if self.restrict_to_edges and self.representation == "low_rank":
            raise ConfigError(f"{key}.representation: 'low_rank' cannot be restricted to existing "
                              "edges; use 'sparse' or set restrict_to_edges = false",
                              key=f"{key}.representation")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(it.name for it in self.ideas)

    def patterns(self, network) -> np.ndarray:
        """``(P, N)`` array of the ideas' patterns over ``network``."""
        return np.array([it.vector(network) for it in self.ideas], dtype=np.float64).reshape(
            len(self.ideas), network.n)

    @classmethod
    def random(cls, network, count: int, *, kind: str = "pm1", sparsity: float = 0.5,
               seed: int = 0, prefix: str = "pattern", **kwargs) -> "Ideas":
        """``count`` random patterns over every concept of ``network``: +-1 with equal
        probability (``kind = "pm1"``) or 0/1 with ``P(1) = sparsity`` (``"binary"``)."""
        count = V.integer("ideas.random: count", count, min=1)
        V.choice("ideas.random: kind", kind, ("pm1", "binary"))
        sparsity = V.real("ideas.random: sparsity", sparsity, min=0.0, max=1.0)
        rng = np.random.default_rng(V.integer("ideas.random: seed", seed, min=0))
        if kind == "pm1":
            X = rng.choice(np.array([-1.0, 1.0]), size=(count, network.n))
        else:
            X = (rng.random((count, network.n)) < sparsity).astype(np.float64)
        return cls(tuple(Idea(f"{prefix}{k}", pattern=X[k]) for k in range(count)), **kwargs)

    def cue(self, network, idea: str, fraction: float = 0.4, *, seed: int = 0,
            mode: str = "partial") -> np.ndarray:
        """A cue of idea ``idea`` -- e.g. an initial state
        (``Model(initial=ideas.cue(net, "pattern0", 0.4))``).

        ``mode = "partial"``: its pattern values on a random ``fraction`` of its concepts
        (members, for a set), 0 elsewhere.  ``mode = "flip"``: the whole pattern with a
        random ``fraction`` of all concepts flipped -- the sign of a +-1 pattern's values,
        0 <-> 1 for a 0/1 pattern or a set (members left out, others let in) -- the noisy
        cue of a binary Hopfield network
        (Amit, Gutfreund & Sompolinsky 1985), overlap ``1 - 2 fraction`` with a +-1 pattern.
        """
        names = self.names
        if idea not in names:
            raise ConfigError(f"ideas.cue.idea: unknown idea {idea!r}" + V.did_you_mean(idea, names)
                              + f"; the ideas are {', '.join(names)}", key="ideas.cue.idea")
        fraction = V.real("ideas.cue.fraction", fraction, min=0.0, max=1.0)
        mode = V.choice("ideas.cue.mode", mode, CUE_MODES)
        rng = np.random.default_rng(V.integer("ideas.cue.seed", seed, min=0))
        x = self.ideas[names.index(idea)].vector(network)
        if mode == "flip":
            k = int(round(fraction * x.size))
            chosen = rng.choice(x.size, size=k, replace=False) if k else np.zeros(0, np.int64)
            out = x.copy()
            pm1 = np.any(x < 0)   # a +-1 pattern (else 0/1 values or a set's members)
            out[chosen] = -x[chosen] if pm1 else np.where(x[chosen] > 0, 0.0, 1.0)
            return out
        support = np.flatnonzero(x != 0)
        k = int(round(fraction * support.size))
        chosen = rng.choice(support, size=k, replace=False) if k else np.zeros(0, np.int64)
        out = np.zeros(network.n)
        out[chosen] = x[chosen]
        return out


def _ideas(items) -> tuple:
    out = list_of(Idea, items, "ideas.ideas", item_key="ideas", what="a list of ideas")
    if not out:
        raise ConfigError("ideas: must list at least one idea", key="ideas")
    names = [it.name for it in out]
    for nm in names:
        if names.count(nm) > 1:
            raise ConfigError(f"ideas: duplicate idea name {nm!r}", key="ideas")
    return tuple(out)


# ------------------------------------------------------------------ gated projections
_INTERVAL = Struct({
    "start": Field(Real(min=0), 0.0, "Start of the interval.", unit=_TIME),
    "stop": Field(Real(allow_inf=True), math.inf, "End of the interval (exclusive).",
                  unit=_TIME),
    "value": Field(Real(), 0.0, "The gate's value inside it.", unit="1"),
})


@described("gate", label_by="name", dict_order=("name", "types", "source_layer", "target_layer",
                                                "sources", "targets", "value", "intervals",
                                                "concept", "control"))
class Gate:
    """A gated projection: the relations it selects act with their weight times the gate's
    value ``q(t)`` (times the output of the gating ``concept``, clipped at 0, and the value
    of a ``control``, when they are named), instead of being fixed parts of ``W``::

        u_i += q(t) * [a_c]+ * c * sum_{gated j -> i} W_ij a_j

    ``q(t)`` is ``value`` outside the ``intervals`` and their ``value`` inside them (in a
    protocol, times are those of the trial).  A relation is selected when it matches every
    criterion given: its type is in ``types``, its source is in ``source_layer`` (or
    ``sources``), its target in ``target_layer`` (or ``targets``); each direction of a
    symmetric relation is matched on its own.

    Parameters
    ----------
    name : str
    types : list of str, optional
    source_layer, target_layer : str, optional
    sources, targets : list of str, optional
    value : float
        The gate's value outside the intervals (1: open).
    intervals : list of {start, stop, value}
        E.g. ``[{"start": 0, "stop": 2, "value": 0}]``: closed while the task settles
        (kept as ``(start, stop, value)`` tuples).
    concept : str, optional
        A gating concept whose output multiplies the gate (Cohen, Dunbar & McClelland's
        task units gating a pathway).
    control : str, optional
        A :class:`Control` (``target = "gates"``) whose value multiplies the gate.
    """

    name: str = param(Str(name=True), REQUIRED, "Name of the gate.")
    types: tuple | None = param(_NAMES, None, "Relation types it selects (default: any).")
    source_layer: str | None = param(Str(name=True), None, "Layer of the sources it selects.")
    target_layer: str | None = param(Str(name=True), None, "Layer of the targets it selects.")
    sources: tuple | None = param(_NAMES, None, "Source concepts it selects.")
    targets: tuple | None = param(_NAMES, None, "Target concepts it selects.")
    value: float = param(Real(), 1.0, "The gate's value outside the intervals (1: open, "
                         "0: closed).", unit="1")
    intervals: tuple = param(ListOf(_INTERVAL), (), "Intervals with another value: "
                             "`[{ start = 0, stop = 2, value = 0 }]`.",
                             check=lambda key, v: tuple(_interval(iv) for iv in v),
                             dump=lambda v: [dict(zip(("start", "stop", "value"), iv))
                                             for iv in v],
                             omit=lambda g, v: not v)
    concept: str | None = param(Str(name=True), None, "A gating concept whose output (clipped "
                                "at 0) multiplies the gate.")
    control: str | None = param(Str(name=True), None, "A control (with target = \"gates\") "
                                "whose value multiplies the gate: control acting on a pathway.")

    def _validate(self, key):
        if all(getattr(self, k) is None for k in _SELECTORS):
            raise ConfigError(f"{key}: selects nothing; give at least one of "
                              f"{', '.join(_SELECTORS)}", key=key)
        spans = sorted((start, stop, k) for k, (start, stop, _) in enumerate(self.intervals))
        for k, (a, b, i) in enumerate(spans):
            if not a < b:
                raise ConfigError(f"{key}.intervals[{i}].stop: must be after start ({a:g}) "
                                  f"(got {b:g})", key=f"{key}.intervals[{i}].stop")
            if k and a < spans[k - 1][1]:
                raise ConfigError(f"{key}.intervals[{i}]: overlaps intervals[{spans[k - 1][2]}] "
                                  f"(t = {a:g}..{min(b, spans[k - 1][1]):g}); a gate has one "
                                  "value at a time", key=f"{key}.intervals[{i}]")


_SELECTORS = ("types", "source_layer", "target_layer", "sources", "targets")


def _interval(iv) -> tuple:
    """``(start, stop, value)`` of an interval table (checked by ``_INTERVAL``), its
    defaults filled in."""
    if isinstance(iv, tuple):
        return tuple(float(x) for x in iv)
    return tuple(float(iv.get(k, f.default)) for k, f in _INTERVAL.fields.items())


# ------------------------------------------------------------------ plastic relations
#: Learning rules of plastic relations (kernel codes in this order).
PLASTICITY_RULES = ("hebb", "covariance", "oja", "bcm")


@described("plasticity", dict_order=("rule", "relations", "between", "initial", "rate", "rates",
                                     "tau", "w_min", "w_max", "average_tau", "gate", "start",
                                     "stop", "record"))
class Plasticity:
    """Plastic relations: the weights of chosen relation types become state variables that
    learn while the dynamics run.  For every plastic edge ``j -> i`` (source ``j``, target
    ``i``, weight ``w`` in the place of ``W_ij``)::

        dw/dt = g * (eta * H - w / tau)

        H = a_i a_j                      hebb        (Hebb 1949, with decay)
            (a_i - m_i) (a_j - m_j)      covariance  (Sejnowski 1977; m: running means)
            a_i (a_j - a_i w)            oja         (Oja 1982: normalised Hebb)
            a_i (a_i - m_i) a_j          bcm         (Bienenstock, Cooper & Munro 1982;
                                                      m_i: running mean of a_i**2)
        average_tau dm_i/dt = s(a_i) - m_i           (s(a) = a, or a**2 for bcm)

    ``g`` is 1 during ``[start, stop)`` and 0 outside, times the output of the ``gate``
    concept (clipped at 0) when one is named: outside the interval or with the gate at 0
    the weights are frozen (decay included).  Weights are kept in ``[w_min, w_max]``.
    With clamped activations the Hebbian weight approaches ``eta * tau * a_i * a_j``.
    Plastic relations between members of a pool are not part of its conflict energy
    (computed from the fixed weights).

    Parameters
    ----------
    rule : {"hebb", "covariance", "oja", "bcm"}
    relations : list of str
        Relation types whose relations are plastic (each direction of a symmetric relation
        is its own plastic edge, starting at its weight in ``W``).
    between : list of str
        Concepts among which every ordered pair gains a plastic edge (of the first type in
        ``relations``) starting at ``initial``, unless it is plastic already: associations
        that do not exist yet can be learned.
    initial : float
        Starting weight of the ``between`` edges.
    rate : float
        ``eta``; ``rates`` overrides it per relation type (``{"isa": 0.1}``).
    tau : float
        Time constant of the weight decay (``inf``: none).
    w_min, w_max : float
        Bounds of the weights (hard: applied after every accepted step).
    average_tau : float
        Time constant of the running means (``covariance``) and of the sliding threshold
        (``bcm``); they start at 0.
    gate : str, optional
        A concept whose output scales learning (a goal or a "reward" concept).
    start, stop : float
        The learning interval.
    record : bool
        Save ``weight(time, edge)``.
    """

    rule: str = param(OneOfNames(list(PLASTICITY_RULES)), "hebb", "The learning rule (see the "
                      "section text).")
    relations: tuple = param(_NAMES, ("association",), "Relation types whose relations are "
                             "plastic (each direction its own edge).")
    between: tuple = param(ListOf(Str(name=True), unique=True), (), "Concepts among which every "
                           "ordered pair gains a plastic edge (of the first type in `relations`) "
                           "starting at `initial`, unless plastic already.",
                           check=lambda key, v: tuple(v), omit=lambda p, v: not v)
    initial: float = param(Real(), 0.0, "Starting weight of the `between` edges.",
                           unit="1", omit=lambda p, v: not p.between and v == 0.0)
    rate: float = param(Real(min=0), 1.0, "Learning rate eta.", unit="1/time")
    rates: object = param(MapOf(Real(min=0), key_doc="TYPE"), None, "Learning rate per relation "
                          "type, overriding `rate`: `{ isa = 0.1 }`.", unit="1/time")
    tau: float = param(Real(min=0, min_inclusive=False, allow_inf=True), math.inf,
                       "Time constant of the weight decay (inf: none).", unit=_TIME)
    w_min: float = param(Real(allow_inf=True), -math.inf, "Lower bound of the weights.",
                         unit="1")
    w_max: float = param(Real(allow_inf=True), math.inf, "Upper bound of the weights.",
                         unit="1")
    average_tau: float = param(Real(min=0, min_inclusive=False), 10.0, "Time constant of the "
                               "running means (`covariance`) and of the sliding threshold "
                               "(`bcm`).", unit=_TIME,
                               omit=lambda p, v: p.rule not in ("covariance", "bcm"))
    gate: str | None = param(Str(name=True), None, "A concept whose output (clipped at 0) "
                             "scales learning: a goal or a reward concept.")
    start: float = param(Real(min=0), 0.0, "Learning starts here.", unit=_TIME)
    stop: float = param(Real(allow_inf=True), math.inf, "Learning stops here (weights frozen "
                        "from then on).", unit=_TIME)
    record: bool = param(Bool(), True, "Save `weight(time, edge)`.")

    def _validate(self, key):
        if not self.w_min <= self.w_max:
            raise ConfigError(f"{key}.w_max: must be >= w_min ({self.w_min:g}) "
                              f"(got {self.w_max:g})", key=f"{key}.w_max")
        if not self.start < self.stop:
            raise ConfigError(f"{key}.stop: must be after start ({self.start:g}) "
                              f"(got {self.stop:g})", key=f"{key}.stop")
        if not self.w_min <= self.initial <= self.w_max and self.between:
            raise ConfigError(f"{key}.initial: {self.initial:g} is outside [w_min, w_max] = "
                              f"[{self.w_min:g}, {self.w_max:g}]", key=f"{key}.initial")
        if len(self.between) == 1:
            raise ConfigError(f"{key}.between: name at least two concepts (got "
                              f"{self.between[0]!r})", key=f"{key}.between")
        for ty in self.rates or {}:
            if ty not in self.relations:
                raise ConfigError(f"{key}.rates.{ty}: {ty!r} is not one of the plastic "
                                  f"relations ({', '.join(self.relations)}); add it to "
                                  "relations or remove it here", key=f"{key}.rates.{ty}")

    def rate_of(self, relation_type: str) -> float:
        """``eta`` of the relations of ``relation_type``."""
        return float((self.rates or {}).get(relation_type, self.rate))


# ------------------------------------------------------------------ coercion for Model
def as_list_of(cls, key: str, value) -> tuple:
    """``None``, one object/table, or a list of objects/tables -> tuple of ``cls``."""
    if value is None:
        return ()
    if isinstance(value, cls):
        return (value,)
    if isinstance(value, Mapping):
        return (cls.from_dict(value, key),)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) and not isinstance(value, Iterable):
        raise ConfigError(f"{key}: expected a list of {cls.__name__} (got {value!r})", key=key)
    return tuple(_items(cls, value, key))


def _items(cls, items, key: str) -> list:
    """Each element of ``items`` as a ``cls``: itself, or built from its table (named
    ``key[i]`` in errors)."""
    out = []
    for i, it in enumerate(items):
        if isinstance(it, Mapping):
            it = cls.from_dict(it, f"{key}[{i}]")
        elif not isinstance(it, cls):
            article = "an" if cls.__name__[0] in "AEIOU" else "a"
            raise ConfigError(f"{key}[{i}]: expected {article} {cls.__name__} or a table "
                              f"(got {it!r})", key=f"{key}[{i}]")
        out.append(it)
    return out


def list_of(cls, items, key: str, *, item_key: str | None = None, what: str = "a list") -> list:
    """A list (not one object or table) of ``cls`` objects or tables -> list of ``cls``;
    ``key`` names the list in errors, ``item_key`` (default ``key``) its elements."""
    if isinstance(items, (str, Mapping)) or not isinstance(items, Iterable):
        raise ConfigError(f"{key}: expected {what} (got {items!r})", key=key)
    return _items(cls, items, item_key or key)


def as_one(cls, key: str, value):
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value, key)
    raise ConfigError(f"{key}: expected a {cls.__name__} or a table (got {value!r})", key=key)


__all__ = ["Adaptation", "Goals", "LayerProjection", "Layers", "Pool", "Choice", "Control",
           "Idea", "Ideas", "Plasticity", "Gate"]
