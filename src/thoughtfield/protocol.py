"""Trial protocols: sequences of trials run like an experiment.

A :class:`Protocol` lists :class:`Condition` s (stimuli with onsets relative to the trial
start, e.g. a settling phase then the stimulus, and the correct answer) and a sequence
of trials -- explicit, or generated from the conditions' proportions in a seeded random
order.  Between trials every state block is reset to its initial value except the ones
named in ``carry`` (e.g. ``control``): the state of a participant that carries over.
Controls in ``mode = "trial"`` are updated between trials from the conflict at the
response (Botvinick et al. 2001)::

    c_next = persistence * c + (1 - persistence) * (alpha * E_trial + beta)

This module describes a protocol; :func:`thoughtfield.trials.run_protocol` runs one and
returns a Dataset with a ``trial`` dimension, which
:func:`thoughtfield.readouts.trial_summary` summarises per condition (optionally split by
the previous trial's condition, for sequential effects such as conflict adaptation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from ._lazy import LazyModule
from .errors import ConfigError
from .mechanisms import _check_keys, _names, _rekey
from .stimuli import as_stimuli

xr = LazyModule("xarray")

CARRY = ("activation", "adaptation", "control", "evidence")


@dataclass(frozen=True)
class Condition:
    """One kind of trial.

    Parameters
    ----------
    name : str
    stimuli : list of Pulse/Clamp (or tables)
        Times relative to the start of the trial.
    correct : str, optional
        The correct option of the protocol's decision.
    weight : float
        Relative frequency when the trial sequence is generated (``n_trials``).
    """

    name: str
    stimuli: tuple = ()
    correct: str | None = None
    weight: float = 1.0

    def __post_init__(self):
        V.name("condition.name", self.name)
        try:
            object.__setattr__(self, "stimuli", as_stimuli(self.stimuli))
        except ConfigError as e:
            raise ConfigError(f"condition {self.name!r}: {e}") from None
        if self.correct is not None:
            V.name("condition.correct", self.correct)
        object.__setattr__(self, "weight", V.nonnegative("condition.weight", self.weight))

    def to_dict(self) -> dict:
        d = {"name": self.name, "stimuli": [s.to_dict() for s in self.stimuli],
             "weight": self.weight}
        if self.correct is not None:
            d["correct"] = self.correct
        return d

    @classmethod
    def from_dict(cls, d, key: str = "condition") -> "Condition":
        _check_keys(key, d, cls)
        if "name" not in d:
            raise ConfigError(f"{key}.name: missing; every condition needs a name")
        return _rekey(cls, d, key, "condition")


_ORDERS = ("shuffled", "random")


@dataclass(frozen=True)
class Protocol:
    """A sequence of trials.

    Parameters
    ----------
    conditions : list of Condition
    duration : float
        Length of every trial (model time units).
    trials : list of str, optional
        The explicit sequence of condition names.
    n_trials : int, optional
        Generate this many trials from the conditions' weights: ``order = "shuffled"``
        makes the counts match the proportions (largest remainder) and shuffles them;
        ``"random"`` draws every trial independently.  Seeded by ``seed``.
    carry : list of str
        State carried from one trial to the next (``activation``, ``adaptation``,
        ``control``, ``evidence``); everything else is reset to its initial value.
    decision : str, optional
        Pool of the choice that is the response (default: the model's only choice).
    record : bool
        Keep every trial's time course (``activation(trial, time, concept)`` etc.,
        NaN after a trial that stopped at its choice).
    save_dt : float, optional
        Save interval of the recorded time courses.
    """

    conditions: tuple
    duration: float
    trials: tuple | None = None
    n_trials: int | None = None
    order: str = "shuffled"
    seed: int = 0
    carry: tuple = ("control",)
    decision: str | None = None
    record: bool = False
    save_dt: float | None = None

    def __post_init__(self):
        conds = self.conditions
        if isinstance(conds, (str, Mapping)) or not isinstance(conds, Iterable):
            raise ConfigError(f"protocol.conditions: expected a list of conditions (got {conds!r})")
        out = []
        for i, c in enumerate(conds):
            if isinstance(c, Mapping):
                c = Condition.from_dict(c, f"protocol.conditions[{i}]")
            elif not isinstance(c, Condition):
                raise ConfigError(f"protocol.conditions[{i}]: expected a Condition or a table "
                                  f"(got {c!r})")
            out.append(c)
        if not out:
            raise ConfigError("protocol.conditions: must list at least one condition")
        names = [c.name for c in out]
        for nm in names:
            if names.count(nm) > 1:
                raise ConfigError(f"protocol.conditions: duplicate condition name {nm!r}")
        object.__setattr__(self, "conditions", tuple(out))
        object.__setattr__(self, "duration", V.positive("protocol.duration", self.duration))
        for c in out:
            for k, s in enumerate(c.stimuli):
                if s.start >= self.duration:
                    raise ConfigError(f"condition {c.name!r}: stimuli[{k}].start = {s.start:g} is at "
                                      f"or after the end of the trial (duration = {self.duration:g})")
        if (self.trials is None) == (self.n_trials is None):
            raise ConfigError("protocol: give either trials (an explicit list of condition names) "
                              "or n_trials (generated from the conditions' weights)")
        if self.trials is not None:
            tr = self.trials
            if isinstance(tr, str) or not isinstance(tr, Iterable):
                raise ConfigError(f"protocol.trials: expected a list of condition names (got {tr!r})")
            tr = tuple(tr)
            if not tr:
                raise ConfigError("protocol.trials: is empty")
            for i, t in enumerate(tr):
                if t not in names:
                    raise ConfigError(f"protocol.trials[{i}]: unknown condition {t!r}"
                                      + V.did_you_mean(str(t), names)
                                      + f"; the conditions are {', '.join(names)}")
            object.__setattr__(self, "trials", tr)
        else:
            object.__setattr__(self, "n_trials", V.integer("protocol.n_trials", self.n_trials, min=1))
            if sum(c.weight for c in out) <= 0:
                raise ConfigError("protocol.conditions: the weights sum to 0; give at least one "
                                  "condition a positive weight")
        V.choice("protocol.order", self.order, _ORDERS)
        object.__setattr__(self, "seed", V.integer("protocol.seed", self.seed, min=0))
        carry = _names("protocol.carry", self.carry, allow_empty=True)
        for c in carry:
            if c not in CARRY:
                raise ConfigError(f"protocol.carry: unknown state {c!r}" + V.did_you_mean(c, CARRY)
                                  + f"; choose from {', '.join(CARRY)}")
        object.__setattr__(self, "carry", carry)
        if self.decision is not None:
            V.name("protocol.decision", self.decision)
        object.__setattr__(self, "record", V.boolean("protocol.record", self.record))
        if self.save_dt is not None:
            object.__setattr__(self, "save_dt", V.positive("protocol.save_dt", self.save_dt))

    def sequence(self) -> list[str]:
        """The condition of every trial, in order."""
        if self.trials is not None:
            return list(self.trials)
        rng = np.random.default_rng(self.seed)
        w = np.array([c.weight for c in self.conditions], dtype=float)
        p = w / w.sum()
        names = [c.name for c in self.conditions]
        n = self.n_trials
        if self.order == "random":
            return [names[k] for k in rng.choice(len(names), size=n, p=p)]
        exact = p * n
        counts = np.floor(exact).astype(int)
        rest = n - counts.sum()
        if rest:
            counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
        seq = np.repeat(np.arange(len(names)), counts)
        rng.shuffle(seq)
        return [names[k] for k in seq]

    def to_dict(self) -> dict:
        d = {"conditions": [c.to_dict() for c in self.conditions], "duration": self.duration,
             "order": self.order, "seed": self.seed, "carry": list(self.carry),
             "record": self.record}
        if self.trials is not None:
            d["trials"] = list(self.trials)
        else:
            d["n_trials"] = self.n_trials
        if self.decision is not None:
            d["decision"] = self.decision
        if self.save_dt is not None:
            d["save_dt"] = self.save_dt
        return d

    @classmethod
    def from_dict(cls, d, key: str = "protocol") -> "Protocol":
        _check_keys(key, d, cls)
        for req in ("conditions", "duration"):
            if req not in d:
                raise ConfigError(f"{key}.{req}: missing")
        return _rekey(cls, d, key, "protocol")
