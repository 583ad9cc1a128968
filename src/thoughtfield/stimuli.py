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
from . import _validate as V
from ._params import described, param
from ._schema import REQUIRED, Int, Real, Str
from .errors import ConfigError


# the keys pulses and clamps share (a function each: a declaration serves one class)
def _concept():
    return param(Str(name=True), REQUIRED, "The stimulated concept.",
                 hint="name the concept to stimulate", config_default=None,
                 default_doc="required (unless `file`)")


def _start():
    return param(Real(min=0), 0.0, "Onset.", unit="time")


def _stop():
    return param(Real(allow_inf=True), math.inf, "Offset (exclusive); `inf` = until the end.",
                 unit="time", omit=lambda s, v: v == math.inf)


def _member():
    return param(Int(min=0, max=2**31), None, "Only this ensemble member.",
                 default_doc="all members")


def _check_times(s, key):
    if not s.stop > s.start:
        raise ConfigError(f"{key}.stop: must be > start ({s.start:g}) (got {s.stop:g})",
                          key=f"{key}.stop")


@described("pulse")
class Pulse:
    """Add ``amplitude`` to the input of ``concept`` for ``start <= t < stop``."""

    concept: str = _concept()
    start: float = _start()
    stop: float = _stop()
    amplitude: float = param(Real(), 1.0, "Input added by a pulse.", unit="activation",
                             config_default=None, default_doc="`1.0` (pulses only)")
    member: int | None = _member()

    _validate = _check_times

    @property
    def kind(self) -> str:
        return "pulse"

    def to_dict(self) -> dict:
        return {"kind": "pulse", **self._params_to_dict()}


@described("clamp")
class Clamp:
    """Hold the activation of ``concept`` at ``value`` for ``start <= t < stop``.

    In the potential form (``Model(form="potential")``) the output ``a`` is held at
    ``value`` while the potential ``u`` is frozen at its value at ``start``; after
    ``stop``, ``u`` resumes from that frozen value (``a`` returns at once to ``f(u)``)."""

    concept: str = _concept()
    start: float = _start()
    stop: float = _stop()
    value: float = param(Real(), 1.0, "Activation held by a clamp.", unit="activation",
                         config_default=None, default_doc="`1.0` (clamps only)")
    member: int | None = _member()

    _validate = _check_times

    @property
    def kind(self) -> str:
        return "clamp"

    def to_dict(self) -> dict:
        return {"kind": "clamp", **self._params_to_dict()}


Stimulus = Pulse | Clamp


def stimulus_from_dict(d: Mapping, key: str = "stimulus") -> Stimulus:
    """Build a :class:`Pulse` or :class:`Clamp` from a mapping with a ``kind`` key."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{key}: expected a table with 'kind' and 'concept' (got {d!r})", key=key)
    kind = d.get("kind", "pulse")
    V.choice(f"{key}.kind", kind, ("pulse", "clamp"))
    cls = Pulse if kind == "pulse" else Clamp
    allowed = ["kind", "concept", "start", "stop", "member",
               "amplitude" if kind == "pulse" else "value"]
    for k in d:
        if k not in allowed:
            raise ConfigError(f"{key}: unknown key {k!r} for a {kind}" + V.did_you_mean(k, allowed),
                              key=key)
    return cls.from_dict({k: v for k, v in d.items() if k != "kind"}, key)


def as_stimuli(stimuli) -> tuple[Stimulus, ...]:
    """Normalise ``None``, one stimulus, or an iterable of stimuli/mappings to a tuple."""
    if stimuli is None:
        return ()
    if isinstance(stimuli, (Pulse, Clamp)):
        return (stimuli,)
    if isinstance(stimuli, Mapping):
        return (stimulus_from_dict(stimuli),)
    if not isinstance(stimuli, Iterable):
        raise ConfigError(f"stimuli: expected a list of Pulse/Clamp (got {type(stimuli).__name__})",
                          key='stimuli')
    out = []
    for i, s in enumerate(stimuli):
        if isinstance(s, (Pulse, Clamp)):
            out.append(s)
        elif isinstance(s, Mapping):
            out.append(stimulus_from_dict(s, f"stimuli[{i}]"))
        else:
            raise ConfigError(f"stimuli[{i}]: expected a Pulse, a Clamp or a table (got {s!r})",
                              key=f"stimuli[{i}]")
    return tuple(out)
