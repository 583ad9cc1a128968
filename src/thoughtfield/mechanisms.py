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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from . import _validate as V
from .errors import ConfigError


# ------------------------------------------------------------------ helpers
def _check_keys(key: str, d, cls_or_names) -> None:
    if not isinstance(d, Mapping):
        raise ConfigError(f"{key}: expected a table (got {d!r})")
    names = ([f.name for f in fields(cls_or_names)] if isinstance(cls_or_names, type)
             else list(cls_or_names))
    for k in d:
        if k not in names:
            raise ConfigError(f"{key}: unknown key {k!r}" + V.did_you_mean(str(k), names)
                              + f"; allowed: {', '.join(names)}")


def _rekey(cls, d, key: str, prefix: str, **extra):
    """``cls(**d)`` with errors re-labelled from ``prefix.`` to ``key.``."""
    try:
        return cls(**{**dict(d), **extra})
    except ConfigError as e:
        msg = str(e)
        if msg.startswith(prefix + ".") or msg.startswith(prefix + ":"):
            msg = key + msg[len(prefix):]
        elif not msg.startswith(key):
            msg = f"{key}: {msg}"
        raise ConfigError(msg) from None


def _names(key: str, values, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigError(f"{key}: expected a list of names (got {values!r})")
    out = tuple(V.name(f"{key}[{i}]", v) for i, v in enumerate(values))
    if not out and not allow_empty:
        raise ConfigError(f"{key}: must list at least one name")
    seen = set()
    for v in out:
        if v in seen:
            raise ConfigError(f"{key}: {v!r} is listed twice")
        seen.add(v)
    return out


def _per_concept(key: str, value, kind: str):
    from .model import _check_per_concept
    return _check_per_concept(key, value, kind)


def _per_concept_out(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Mapping):
        return dict(v)
    return v


def _opt_float(v):
    return None if v is None else float(v)


# ------------------------------------------------------------------ adaptation
@dataclass(frozen=True)
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

    tau: object = 10.0
    strength: object = 1.0
    record: bool = False

    def __post_init__(self):
        object.__setattr__(self, "tau", _per_concept("adaptation.tau", self.tau, "positive"))
        object.__setattr__(self, "strength", _per_concept("adaptation.strength", self.strength,
                                                          "nonnegative"))
        object.__setattr__(self, "record", V.boolean("adaptation.record", self.record))

    def to_dict(self) -> dict:
        return {"tau": _per_concept_out(self.tau), "strength": _per_concept_out(self.strength),
                "record": self.record}

    @classmethod
    def from_dict(cls, d, key: str = "adaptation") -> "Adaptation":
        _check_keys(key, d, cls)
        return _rekey(cls, d, key, "adaptation")


# ------------------------------------------------------------------ goals
@dataclass(frozen=True)
class Goals:
    """Intentionality: goal concepts bias the concepts they favour.

    The relations of the ``types`` (default ``favours``) are taken out of ``W`` and form a
    separate matrix ``B``; the goal bias ``c * gain * (B a)`` is added to the input, where
    ``a`` holds the goal concepts' activations and ``c`` is 1, or the value of a
    :class:`Control` whose ``target`` is ``"goals"``.  Goals are ordinary concepts: clamp
    them for an interval (``active``), or let them be driven by the dynamics.

    Parameters
    ----------
    types : list of str
        Relation types forming the goal bias (must exist in the network).
    gain : float
        Strength of the bias (``g_gain``).
    active : mapping or list, optional
        Goals held on: ``{"relax": 1.0}`` clamps ``relax`` at 1 for the whole run; a list of
        :class:`~thoughtfield.Clamp` (or tables ``{concept, value, start, stop}``) clamps
        them over intervals.
    """

    types: tuple = ("favours",)
    gain: float = 1.0
    active: object = ()

    def __post_init__(self):
        from .stimuli import Clamp, stimulus_from_dict
        object.__setattr__(self, "types", _names("goals.types", self.types))
        object.__setattr__(self, "gain", V.real("goals.gain", self.gain))
        act = self.active
        clamps = []
        if isinstance(act, Mapping):
            for k, v in act.items():
                clamps.append(Clamp(V.name("goals.active", k), value=V.real(f"goals.active.{k}", v)))
        elif isinstance(act, (str, bytes)) or not isinstance(act, Iterable):
            raise ConfigError(f"goals.active: expected a table of concept = value or a list of "
                              f"clamps (got {act!r})")
        else:
            for i, c in enumerate(act):
                if isinstance(c, Clamp):
                    clamps.append(c)
                elif isinstance(c, Mapping):
                    clamps.append(stimulus_from_dict({"kind": "clamp", **c}, f"goals.active[{i}]"))
                else:
                    raise ConfigError(f"goals.active[{i}]: expected a Clamp or a table "
                                      f"{{concept, value, start, stop}} (got {c!r})")
        object.__setattr__(self, "active", tuple(clamps))

    def to_dict(self) -> dict:
        act = []
        for c in self.active:
            d = c.to_dict()
            d.pop("kind")
            act.append(d)
        return {"types": list(self.types), "gain": self.gain, "active": act}

    @classmethod
    def from_dict(cls, d, key: str = "goals") -> "Goals":
        _check_keys(key, d, cls)
        return _rekey(cls, d, key, "goals")


# ------------------------------------------------------------------ layers
@dataclass(frozen=True)
class LayerProjection:
    """Bottom-up (abstraction) and top-down (grounding / feedback) gains between two
    layers, declared once for both directions.

    Every relation joining a concept of ``lower`` and a concept of ``upper`` (of the listed
    ``types``; all types when omitted) acts upwards with weight ``w * sign * type_gain * up``
    and downwards with ``w * sign * type_gain * down`` -- whichever endpoint is its source,
    and replacing the relation type's own ``forward``/``reverse`` factors.
    """

    lower: str
    upper: str
    up: float = 1.0
    down: float = 0.0
    types: tuple | None = None

    def __post_init__(self):
        V.name("projection.lower", self.lower)
        V.name("projection.upper", self.upper)
        if self.lower == self.upper:
            raise ConfigError(f"projection.upper: must differ from lower (both {self.lower!r}); "
                              "use Layers.lateral for gains inside a layer")
        object.__setattr__(self, "up", V.nonnegative("projection.up", self.up))
        object.__setattr__(self, "down", V.nonnegative("projection.down", self.down))
        if self.types is not None:
            object.__setattr__(self, "types", _names("projection.types", self.types))

    def to_dict(self) -> dict:
        d = {"lower": self.lower, "upper": self.upper, "up": self.up, "down": self.down}
        if self.types is not None:
            d["types"] = list(self.types)
        return d

    @classmethod
    def from_dict(cls, d, key: str = "projection") -> "LayerProjection":
        _check_keys(key, d, cls)
        for req in ("lower", "upper"):
            if req not in d:
                raise ConfigError(f"{key}.{req}: missing; name the {req} layer")
        return _rekey(cls, d, key, "projection")


@dataclass(frozen=True)
class Layers:
    """Gains of the abstraction ladder.

    Parameters
    ----------
    projections : list of LayerProjection
        Bottom-up/top-down gains per layer pair (and per relation family via ``types``).
    lateral : float or mapping layer -> float
        Gain of relations inside a layer (default 1).
    """

    projections: tuple = ()
    lateral: object = 1.0

    def __post_init__(self):
        projs = []
        if isinstance(self.projections, (str, Mapping)) or not isinstance(self.projections, Iterable):
            raise ConfigError(f"layers.projections: expected a list (got {self.projections!r})")
        for i, p in enumerate(self.projections):
            if isinstance(p, Mapping):
                p = LayerProjection.from_dict(p, f"layers.projections[{i}]")
            elif not isinstance(p, LayerProjection):
                raise ConfigError(f"layers.projections[{i}]: expected a LayerProjection or a "
                                  f"table (got {p!r})")
            projs.append(p)
        object.__setattr__(self, "projections", tuple(projs))
        lat = self.lateral
        if isinstance(lat, Mapping):
            object.__setattr__(self, "lateral", {V.name("layers.lateral", k):
                                                 V.nonnegative(f"layers.lateral.{k}", v)
                                                 for k, v in lat.items()})
        else:
            object.__setattr__(self, "lateral", V.nonnegative("layers.lateral", lat))

    def to_dict(self) -> dict:
        return {"projections": [p.to_dict() for p in self.projections],
                "lateral": dict(self.lateral) if isinstance(self.lateral, Mapping) else self.lateral}

    @classmethod
    def from_dict(cls, d, key: str = "layers") -> "Layers":
        _check_keys(key, d, cls)
        return _rekey(cls, d, key, "layers")


# ------------------------------------------------------------------ pools and choices
@dataclass(frozen=True)
class Pool:
    """A competition pool: a named set of concepts that inhibit each other.

    Every member receives ``-inhibition * (sum of the other members' activations)``.
    ``contradicts`` (and any negative) relations between members add to the competition;
    the pool's conflict energy ``E = -sum_{i != j} w_ij a_i a_j`` runs over both.

    Give ``concepts`` (an explicit set) or ``layer`` (every concept of a layer; ``"*"``
    makes one pool per non-empty layer, named ``"<name>:<layer>"``).
    """

    name: str
    concepts: tuple | None = None
    layer: str | None = None
    inhibition: float = 0.0

    def __post_init__(self):
        V.name("pool.name", self.name)
        if (self.concepts is None) == (self.layer is None):
            raise ConfigError(f"pool {self.name!r}: give either concepts or layer")
        if self.concepts is not None:
            object.__setattr__(self, "concepts", _names(f"pool {self.name!r}.concepts", self.concepts))
        if self.layer is not None:
            V.name(f"pool {self.name!r}.layer", self.layer)
        object.__setattr__(self, "inhibition", V.nonnegative("pool.inhibition", self.inhibition))

    def to_dict(self) -> dict:
        d = {"name": self.name, "inhibition": self.inhibition}
        if self.concepts is not None:
            d["concepts"] = list(self.concepts)
        else:
            d["layer"] = self.layer
        return d

    @classmethod
    def from_dict(cls, d, key: str = "pool") -> "Pool":
        _check_keys(key, d, cls)
        if "name" not in d:
            raise ConfigError(f"{key}.name: missing; every pool needs a name")
        return _rekey(cls, d, key, "pool")


_ON = ("activation", "evidence")
_COMPARE = {"none": 0, "mean": 1, "max": 2}


@dataclass(frozen=True)
class Choice:
    """A choice readout on a pool: the first member whose decision variable reaches
    ``threshold`` after ``onset``.

    Parameters
    ----------
    pool : str
        The pool whose members are the options.
    threshold : float
        Decision threshold.
    on : {"activation", "evidence"}
        Threshold the members' activations, or an evidence accumulator per member::

            de_i/dt = rate * (a_i - cmp_i) - leak * e_i - inhibition * sum_{j != i} e_j
                      + noise * xi(t),     e_i >= floor

        with ``cmp_i`` the mean (``compare = "mean"``) or the largest (``"max"``) of the
        other members' activations, or 0 (``"none"``: an independent race).  ``leak = 0``,
        ``inhibition = 0`` and ``compare = "mean"`` with two options is the drift-diffusion
        model; ``compare = "none"`` with ``leak``, ``inhibition`` and ``floor = 0`` is the
        leaky competing accumulator of Usher & McClelland (2001).
    onset : float
        Detection (and accumulation) starts here, e.g. the stimulus onset after a
        settling phase; response times are measured from it.
    stop : bool
        End the run once every ensemble member has chosen.
    correct : str, optional
        The correct option, for accuracy readouts.
    rate, leak, inhibition, compare, floor, noise
        Accumulator parameters (``on = "evidence"`` only).
    """

    pool: str
    threshold: float = 0.5
    on: str = "activation"
    onset: float = 0.0
    stop: bool = False
    correct: str | None = None
    rate: float = 1.0
    leak: float = 0.0
    inhibition: float = 0.0
    compare: str = "mean"
    floor: float | None = None
    noise: float = 0.0

    def __post_init__(self):
        V.name("choice.pool", self.pool)
        object.__setattr__(self, "threshold", V.real("choice.threshold", self.threshold))
        V.choice("choice.on", self.on, _ON)
        object.__setattr__(self, "onset", V.real("choice.onset", self.onset, min=0.0))
        object.__setattr__(self, "stop", V.boolean("choice.stop", self.stop))
        if self.correct is not None:
            V.name("choice.correct", self.correct)
        object.__setattr__(self, "rate", V.real("choice.rate", self.rate))
        object.__setattr__(self, "leak", V.nonnegative("choice.leak", self.leak))
        object.__setattr__(self, "inhibition", V.nonnegative("choice.inhibition", self.inhibition))
        V.choice("choice.compare", self.compare, _COMPARE)
        if self.floor is not None:
            object.__setattr__(self, "floor", V.real("choice.floor", self.floor))
        object.__setattr__(self, "noise", V.nonnegative("choice.noise", self.noise))
        if self.on == "activation":
            for k, default in (("leak", 0.0), ("inhibition", 0.0), ("noise", 0.0)):
                if getattr(self, k) != default:
                    raise ConfigError(f"choice.{k}: applies to evidence accumulators only; set "
                                      f"on = 'evidence' or remove {k}")
            if self.floor is not None:
                raise ConfigError("choice.floor: applies to evidence accumulators only; set "
                                  "on = 'evidence' or remove floor")
        if self.floor is not None and self.threshold <= self.floor:
            raise ConfigError(f"choice.threshold: must be > floor ({self.floor:g}) "
                              f"(got {self.threshold:g})")

    @property
    def has_noise(self) -> bool:
        return self.on == "evidence" and self.noise > 0

    def to_dict(self) -> dict:
        d = {"pool": self.pool, "threshold": self.threshold, "on": self.on,
             "onset": self.onset, "stop": self.stop}
        if self.correct is not None:
            d["correct"] = self.correct
        if self.on == "evidence":
            d.update(rate=self.rate, leak=self.leak, inhibition=self.inhibition,
                     compare=self.compare, noise=self.noise)
            if self.floor is not None:
                d["floor"] = self.floor
        elif self.rate != 1.0:
            d["rate"] = self.rate
        return d

    @classmethod
    def from_dict(cls, d, key: str = "choice") -> "Choice":
        _check_keys(key, d, cls)
        if "pool" not in d:
            raise ConfigError(f"{key}.pool: missing; name the competition pool to choose from")
        return _rekey(cls, d, key, "choice")


# ------------------------------------------------------------------ control
_MODES = ("continuous", "trial")


@dataclass(frozen=True)
class Control:
    """Conflict monitoring and control (Botvinick, Braver, Barch, Carter & Cohen 2001).

    The control variable ``c`` responds to the conflict energy ``E`` of the monitored
    pools and raises the goal-bias gain (``target = "goals"``: the bias becomes
    ``c * goals.gain * B a``) or the input of task concepts (``target = {concept: gain}``:
    input ``gain * c``).

    * ``mode = "continuous"``: ``tau dc/dt = -(c - baseline) + sensitivity * E(t)``.
    * ``mode = "trial"``: ``c`` is constant within a trial and updated between trials of a
      :class:`~thoughtfield.Protocol`: ``c_next = persistence * c + (1 - persistence) *
      (alpha * E_trial + beta)`` with ``E_trial`` the conflict at the response.

    ``c`` starts at ``baseline``.
    """

    monitor: tuple
    target: object = "goals"
    name: str = "control"
    mode: str = "continuous"
    tau: float = 1.0
    baseline: float = 1.0
    sensitivity: float = 1.0
    persistence: float = 0.5
    alpha: float = 1.0
    beta: float = 0.0

    def __post_init__(self):
        V.name("control.name", self.name)
        object.__setattr__(self, "monitor", _names("control.monitor", self.monitor))
        tgt = self.target
        if isinstance(tgt, str):
            if tgt != "goals":
                raise ConfigError(f"control.target: must be 'goals' or a table concept = gain "
                                  f"(got {tgt!r})" + V.did_you_mean(tgt, ["goals"]))
        elif isinstance(tgt, Mapping):
            if not tgt:
                raise ConfigError("control.target: the table of concepts is empty")
            tgt = {V.name("control.target", k): V.real(f"control.target.{k}", v) for k, v in tgt.items()}
        else:
            raise ConfigError(f"control.target: must be 'goals' or a table concept = gain (got {tgt!r})")
        object.__setattr__(self, "target", tgt)
        V.choice("control.mode", self.mode, _MODES)
        object.__setattr__(self, "tau", V.positive("control.tau", self.tau))
        object.__setattr__(self, "baseline", V.real("control.baseline", self.baseline))
        object.__setattr__(self, "sensitivity", V.real("control.sensitivity", self.sensitivity))
        object.__setattr__(self, "persistence", V.real("control.persistence", self.persistence,
                                                       min=0.0, max=1.0))
        object.__setattr__(self, "alpha", V.real("control.alpha", self.alpha))
        object.__setattr__(self, "beta", V.real("control.beta", self.beta))

    def update(self, c: np.ndarray, conflict: np.ndarray) -> np.ndarray:
        """Trial-to-trial rule ``persistence * c + (1 - persistence) * (alpha * E + beta)``."""
        lam = self.persistence
        return lam * c + (1.0 - lam) * (self.alpha * conflict + self.beta)

    def to_dict(self) -> dict:
        d = {"name": self.name, "monitor": list(self.monitor),
             "target": dict(self.target) if isinstance(self.target, Mapping) else self.target,
             "mode": self.mode, "baseline": self.baseline}
        if self.mode == "continuous":
            d.update(tau=self.tau, sensitivity=self.sensitivity)
        else:
            d.update(persistence=self.persistence, alpha=self.alpha, beta=self.beta)
        return d

    @classmethod
    def from_dict(cls, d, key: str = "control") -> "Control":
        _check_keys(key, d, cls)
        if "monitor" not in d:
            raise ConfigError(f"{key}.monitor: missing; list the pools whose conflict drives control")
        return _rekey(cls, d, key, "control")


# ------------------------------------------------------------------ ideas
@dataclass(frozen=True)
class Idea:
    """A stored idea: a named set of concepts (``concepts``), or a pattern over all
    concepts (``pattern``: an array with one value per concept, e.g. +-1 or 0/1, or a table
    concept -> value with the others 0)."""

    name: str
    concepts: tuple | None = None
    pattern: object = None

    def __post_init__(self):
        V.name("idea.name", self.name)
        if (self.concepts is None) == (self.pattern is None):
            raise ConfigError(f"idea {self.name!r}: give either concepts (a set) or pattern")
        if self.concepts is not None:
            object.__setattr__(self, "concepts", _names(f"idea {self.name!r}.concepts", self.concepts))
        else:
            p = self.pattern
            if isinstance(p, Mapping):
                object.__setattr__(self, "pattern", {V.name(f"idea {self.name!r}.pattern", k):
                                                     V.real(f"idea {self.name!r}.pattern.{k}", v)
                                                     for k, v in p.items()})
            else:
                arr = V.real_array(f"idea {self.name!r}.pattern", p)
                if arr.size == 0:
                    raise ConfigError(f"idea {self.name!r}.pattern: is empty")
                arr.setflags(write=False)
                object.__setattr__(self, "pattern", arr)

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
                                  f"has {n} concepts")
            v[:] = self.pattern
        return v

    @property
    def is_set(self) -> bool:
        return self.concepts is not None

    def to_dict(self) -> dict:
        if self.concepts is not None:
            return {"name": self.name, "concepts": list(self.concepts)}
        p = self.pattern
        return {"name": self.name, "pattern": dict(p) if isinstance(p, Mapping) else p.tolist()}

    @classmethod
    def from_dict(cls, d, key: str = "idea") -> "Idea":
        _check_keys(key, d, cls)
        if "name" not in d:
            raise ConfigError(f"{key}.name: missing; every idea needs a name")
        return _rekey(cls, d, key, "idea")


_RULES = ("hebb", "covariance")
_REPR = ("auto", "sparse", "low_rank")


@dataclass(frozen=True)
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

    ideas: tuple
    strength: float = 1.0
    normalize: bool = True
    rule: str = "hebb"
    restrict_to_edges: bool = False
    representation: str = "auto"

    def __post_init__(self):
        items = self.ideas
        if isinstance(items, (str, Mapping)) or not isinstance(items, Iterable):
            raise ConfigError(f"ideas.ideas: expected a list of ideas (got {items!r})")
        out = []
        for i, it in enumerate(items):
            if isinstance(it, Mapping):
                it = Idea.from_dict(it, f"ideas[{i}]")
            elif not isinstance(it, Idea):
                raise ConfigError(f"ideas[{i}]: expected an Idea or a table (got {it!r})")
            out.append(it)
        if not out:
            raise ConfigError("ideas: must list at least one idea")
        names = [it.name for it in out]
        for nm in names:
            if names.count(nm) > 1:
                raise ConfigError(f"ideas: duplicate idea name {nm!r}")
        object.__setattr__(self, "ideas", tuple(out))
        object.__setattr__(self, "strength", V.real("ideas.strength", self.strength))
        object.__setattr__(self, "normalize", V.boolean("ideas.normalize", self.normalize))
        V.choice("ideas.rule", self.rule, _RULES)
        object.__setattr__(self, "restrict_to_edges", V.boolean("ideas.restrict_to_edges",
                                                                self.restrict_to_edges))
        V.choice("ideas.representation", self.representation, _REPR)
        if self.restrict_to_edges and self.representation == "low_rank":
            raise ConfigError("ideas.representation: 'low_rank' cannot be restricted to existing "
                              "edges; use 'sparse' or set restrict_to_edges = false")

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

    def cue(self, network, idea: str, fraction: float = 0.4, *, seed: int = 0) -> np.ndarray:
        """A partial cue of idea ``idea``: its pattern values on a random ``fraction`` of
        its concepts (members, for a set), 0 elsewhere -- e.g. an initial state
        (``Model(initial=ideas.cue(net, "pattern0", 0.4))``)."""
        names = self.names
        if idea not in names:
            raise ConfigError(f"ideas.cue.idea: unknown idea {idea!r}" + V.did_you_mean(idea, names)
                              + f"; the ideas are {', '.join(names)}")
        fraction = V.real("ideas.cue.fraction", fraction, min=0.0, max=1.0)
        rng = np.random.default_rng(V.integer("ideas.cue.seed", seed, min=0))
        x = self.ideas[names.index(idea)].vector(network)
        support = np.flatnonzero(x != 0)
        k = int(round(fraction * support.size))
        chosen = rng.choice(support, size=k, replace=False) if k else np.zeros(0, np.int64)
        out = np.zeros(network.n)
        out[chosen] = x[chosen]
        return out

    def to_dict(self) -> dict:
        return {"ideas": [it.to_dict() for it in self.ideas], "strength": self.strength,
                "normalize": self.normalize, "rule": self.rule,
                "restrict_to_edges": self.restrict_to_edges,
                "representation": self.representation}

    @classmethod
    def from_dict(cls, d, key: str = "ideas") -> "Ideas":
        _check_keys(key, d, cls)
        if "ideas" not in d:
            raise ConfigError(f"{key}.ideas: missing; list the ideas to store")
        return _rekey(cls, d, key, "ideas")


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
        raise ConfigError(f"{key}: expected a list of {cls.__name__} (got {value!r})")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, cls):
            out.append(v)
        elif isinstance(v, Mapping):
            out.append(cls.from_dict(v, f"{key}[{i}]"))
        else:
            raise ConfigError(f"{key}[{i}]: expected a {cls.__name__} or a table (got {v!r})")
    return tuple(out)


def as_one(cls, key: str, value):
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value, key)
    raise ConfigError(f"{key}: expected a {cls.__name__} or a table (got {value!r})")


__all__ = ["Adaptation", "Goals", "LayerProjection", "Layers", "Pool", "Choice", "Control",
           "Idea", "Ideas"]
