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

from collections.abc import Iterable

import numpy as np

from . import _validate as V
from ._lazy import LazyModule
from .errors import ConfigError
from ._params import described, param
from ._schema import REQUIRED, Bool, Choice, Int, ListOf, Real, Str
from .mechanisms import _names, list_of
from .stimuli import as_stimuli

xr = LazyModule("xarray")

CARRY = ("activation", "adaptation", "control", "evidence", "weights")


@described("condition", label_by="name", dict_order=("name", "stimuli", "weight", "correct"))
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

    name: str = param(Str(name=True), REQUIRED, "Name of the condition.",
                      hint="every condition needs a name")
    # (its config key lists [[stimuli]] tables: declared with the [protocol] section)
    stimuli: tuple = param(None, (), check=lambda key, value: _stimuli(key, value),
                           config=False)
    correct: str | None = param(Str(name=True), None, "The correct option.")
    weight: float = param(Real(min=0), 1.0, "Relative frequency (with n_trials).", unit="1")


def _stimuli(key, value):
    try:
        return as_stimuli(value)
    except ConfigError as e:
        owner = key.rpartition(".stimuli")[0]   # a key path, or "condition 'a'" in Python
        raise e.at(owner).within(key=owner) from None


_ORDERS = ("shuffled", "random")


def _conditions(conds) -> tuple:
    out = list_of(Condition, conds, "protocol.conditions", what="a list of conditions")
    if not out:
        raise ConfigError("protocol.conditions: must list at least one condition",
                          key='protocol.conditions')
    names = [c.name for c in out]
    for nm in names:
        if names.count(nm) > 1:
            raise ConfigError(f"protocol.conditions: duplicate condition name {nm!r}",
                              key='protocol.conditions')
    return tuple(out)


def _trials(key, tr) -> tuple:
    if isinstance(tr, str) or not isinstance(tr, Iterable):
        raise ConfigError(f"{key}: expected a list of condition names (got {tr!r})", key=key)
    tr = tuple(tr)
    if not tr:
        raise ConfigError(f"{key}: is empty", key=key)
    return tr


def _carry(key, value) -> tuple:
    carry = _names(key, value, allow_empty=True)
    for c in carry:
        if c not in CARRY:
            raise ConfigError(f"{key}: unknown state {c!r}" + V.did_you_mean(c, CARRY)
                              + f"; choose from {', '.join(CARRY)}", key=key)
    return carry


@described("protocol", dict_order=("conditions", "duration", "order", "seed", "carry", "record",
                                   "trials", "n_trials", "decision", "save_dt"))
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

    conditions: tuple = param(ListOf(Condition.struct(), min_len=1), REQUIRED,
                              "The kinds of trial.", check=lambda key, v: _conditions(v))
    duration: float = param(Real(min=0, min_inclusive=False), REQUIRED, "Length of each trial.",
                            unit="time", config_default=None, default_doc="run.t_end - run.t0")
    trials: tuple | None = param(ListOf(Str(name=True), min_len=1), None,
                                 "The explicit sequence of condition names.",
                                 check=lambda key, v: _trials(key, v))
    n_trials: int | None = param(Int(min=1, max=10_000_000), None, "Generate this many trials "
                                 "from the conditions' weights.")
    order: str = param(Choice(list(_ORDERS)), "shuffled", "`shuffled`: counts match the weights "
                       "exactly, in a seeded random order; `random`: independent draws.")
    seed: int = param(Int(min=0, max=2**63 - 1), 0, "Seed of the trial order.",
                      config_default=None, default_doc="the config's seed, else 0")
    carry: tuple = param(ListOf(Choice(list(CARRY)), unique=True), ("control",),
                         "State carried from trial to trial; everything else is reset.",
                         check=lambda key, v: _carry(key, v))
    decision: str | None = param(Str(name=True), None, "Pool of the response choice.",
                                 default_doc="the only [[choices]] entry")
    record: bool = param(Bool(), False, "Keep every trial's time course.")
    save_dt: float | None = param(Real(min=0, min_inclusive=False), None, "Save interval of the "
                                  "time courses.", unit="time", default_doc="duration / 100")

    def _validate(self, key):
        names = [c.name for c in self.conditions]
        for c in self.conditions:
            for k, s in enumerate(c.stimuli):
                if s.start >= self.duration:
                    raise ConfigError(f"condition {c.name!r}: stimuli[{k}].start = {s.start:g} is at "
                                      f"or after the end of the trial (duration = {self.duration:g})",
                                      key=key)
        if (self.trials is None) == (self.n_trials is None):
            raise ConfigError("protocol: give either trials (an explicit list of condition names) "
                              "or n_trials (generated from the conditions' weights)",
                              key='protocol')
        if self.trials is not None:
            for i, t in enumerate(self.trials):
                if t not in names:
                    raise ConfigError(f"protocol.trials[{i}]: unknown condition {t!r}"
                                      + V.did_you_mean(str(t), names)
                                      + f"; the conditions are {', '.join(names)}",
                                      key=f"protocol.trials[{i}]")
        elif sum(c.weight for c in self.conditions) <= 0:
            raise ConfigError("protocol.conditions: the weights sum to 0; give at least one "
                              "condition a positive weight", key='protocol.conditions')

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

