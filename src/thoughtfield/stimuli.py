"""External input schedules: pulses (added input) and clamps (activation held fixed).

Inputs are piecewise constant in time.  A pulse adds ``amplitude`` to the net input of
its concept for ``start <= t < stop``; a clamp holds the activation of its concept at
``value`` over the same kind of interval (its derivative is zero and it receives no
noise).  Both may target one ensemble member (``member=k``) or all (``member=None``).
Solvers stop exactly at every start and stop time, so the discontinuities cost no
accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from . import _validate as V
from .errors import ConfigError


@dataclass(frozen=True)
class Pulse:
    """Add ``amplitude`` to the input of ``concept`` for ``start <= t < stop``."""

    concept: str
    start: float = 0.0
    stop: float = math.inf
    amplitude: float = 1.0
    member: int | None = None

    def __post_init__(self):
        _check_common(self, "pulse")
        object.__setattr__(self, "amplitude", V.real("pulse.amplitude", self.amplitude))

    @property
    def kind(self) -> str:
        return "pulse"

    def to_dict(self) -> dict:
        d = {"kind": "pulse", **asdict(self)}
        return _clean(d)


@dataclass(frozen=True)
class Clamp:
    """Hold the activation of ``concept`` at ``value`` for ``start <= t < stop``.

    In the potential form (``Model(form="potential")``) the output ``a`` is held at
    ``value`` while the potential ``u`` is frozen at its value at ``start``; after
    ``stop``, ``u`` resumes from that frozen value (``a`` returns at once to ``f(u)``)."""

    concept: str
    start: float = 0.0
    stop: float = math.inf
    value: float = 1.0
    member: int | None = None

    def __post_init__(self):
        _check_common(self, "clamp")
        object.__setattr__(self, "value", V.real("clamp.value", self.value))

    @property
    def kind(self) -> str:
        return "clamp"

    def to_dict(self) -> dict:
        d = {"kind": "clamp", **asdict(self)}
        return _clean(d)


def _clean(d):
    if d.get("member") is None:
        d.pop("member", None)
    if d.get("stop") == math.inf:
        d.pop("stop")
    return d


def _check_common(s, kind):
    V.name(f"{kind}.concept", s.concept)
    start = V.real(f"{kind}.start", s.start, min=0.0)
    stop = s.stop
    if isinstance(stop, (int, float)) and not isinstance(stop, bool) and stop == math.inf:
        stop = math.inf
    else:
        stop = V.real(f"{kind}.stop", stop)
    if not stop > start:
        raise ConfigError(f"{kind}.stop: must be > start ({start:g}) (got {stop:g})")
    object.__setattr__(s, "start", start)
    object.__setattr__(s, "stop", stop)
    if s.member is not None:
        object.__setattr__(s, "member", V.integer(f"{kind}.member", s.member, min=0))


Stimulus = Pulse | Clamp


def stimulus_from_dict(d: Mapping, key: str = "stimulus") -> Stimulus:
    """Build a :class:`Pulse` or :class:`Clamp` from a mapping with a ``kind`` key."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{key}: expected a table with 'kind' and 'concept' (got {d!r})")
    kind = d.get("kind", "pulse")
    V.choice(f"{key}.kind", kind, ("pulse", "clamp"))
    cls = Pulse if kind == "pulse" else Clamp
    allowed = ["kind", "concept", "start", "stop", "member",
               "amplitude" if kind == "pulse" else "value"]
    for k in d:
        if k not in allowed:
            raise ConfigError(f"{key}: unknown key {k!r} for a {kind}" + V.did_you_mean(k, allowed))
    if "concept" not in d:
        raise ConfigError(f"{key}.concept: missing; name the concept to stimulate")
    args = {k: v for k, v in d.items() if k != "kind"}
    try:
        return cls(**args)
    except ConfigError as e:
        msg = str(e)
        raise ConfigError(key + msg[msg.index("."):] if msg.startswith(kind + ".") else f"{key}: {msg}") from None


def as_stimuli(stimuli) -> tuple[Stimulus, ...]:
    """Normalise ``None``, one stimulus, or an iterable of stimuli/mappings to a tuple."""
    if stimuli is None:
        return ()
    if isinstance(stimuli, (Pulse, Clamp)):
        return (stimuli,)
    if isinstance(stimuli, Mapping):
        return (stimulus_from_dict(stimuli),)
    if not isinstance(stimuli, Iterable):
        raise ConfigError(f"stimuli: expected a list of Pulse/Clamp (got {type(stimuli).__name__})")
    out = []
    for i, s in enumerate(stimuli):
        if isinstance(s, (Pulse, Clamp)):
            out.append(s)
        elif isinstance(s, Mapping):
            out.append(stimulus_from_dict(s, f"stimuli[{i}]"))
        else:
            raise ConfigError(f"stimuli[{i}]: expected a Pulse, a Clamp or a table (got {s!r})")
    return tuple(out)
