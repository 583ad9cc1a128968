"""When a run saves its state: :class:`SaveAt`, one object for the three ways of choosing
the save times (in the style of diffrax's ``SaveAt``).

The constructor checks everything that does not depend on the run; what does (times
inside ``[t0, t_end]``, ``every`` needing a fixed step, integer steps in the discrete
mode) is checked where the run is prepared.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from .errors import ConfigError, ThoughtfieldDeprecationWarning


@dataclass(frozen=True)
class SaveAt:
    """Exactly one of:

    ``dt``
        save every ``dt`` time units from ``t0`` (and at ``t_end``); must be > 0.
    ``times``
        save at these times (``t0`` and ``t_end`` are always added; in the discrete mode,
        at these steps); strictly increasing, at least one.
    ``every``
        save every ``every``-th fixed step (an integer >= 1; fixed-step solvers and the
        discrete mode).

    ``SaveAt()`` with none of them is refused; leave ``saveat`` out of a call for the
    default (200 intervals over the run; every step in the discrete mode; with the
    ``async`` solver every sweep, or every k-th sweep so that a run saves about 200).
    """
    dt: float | None = None
    times: tuple[float, ...] | None = None
    every: int | None = None

    def __post_init__(self):
        given = [k for k in ("dt", "times", "every") if getattr(self, k) is not None]
        if len(given) != 1:
            got = ", ".join(f"{k}=" for k in given) or "none"
            raise ConfigError(f"SaveAt: give exactly one of dt=, times= and every= (got {got}); "
                              "e.g. SaveAt(dt=0.1), SaveAt(times=[1, 2, 5]) or SaveAt(every=10)",
                              key='SaveAt')
        if self.dt is not None:
            object.__setattr__(self, "dt", V.positive("SaveAt(dt=...)", self.dt))
        if self.every is not None:
            object.__setattr__(self, "every", V.integer("SaveAt(every=...)", self.every, min=1))
        if self.times is not None:
            ts = V.real_array("SaveAt(times=...)", self.times)
            if ts.size == 0:
                raise ConfigError("SaveAt(times=...): must list at least one time")
            step = np.diff(ts)
            if (step <= 0).any():
                i = int(np.flatnonzero(step <= 0)[0])
                what = ("is repeated" if step[i] == 0 else f"comes after {ts[i]:g}")
                raise ConfigError(f"SaveAt(times=...): must be strictly increasing ({ts[i + 1]:g} "
                                  f"{what}); sort them and drop repeats, e.g. with "
                                  "numpy.unique(times)")
            object.__setattr__(self, "times", tuple(float(t) for t in ts))

    @property
    def kind(self) -> str:
        """Which form this is: ``"dt"``, ``"times"`` or ``"every"``."""
        return next(k for k in ("dt", "times", "every") if getattr(self, k) is not None)


def from_keywords(save_dt=None, save_at=None, save_every=None, *, where: str = "") -> SaveAt | None:
    """The :class:`SaveAt` of the old ``save_dt`` / ``save_at`` / ``save_every`` settings
    (``None`` when none is given); errors name those keywords, prefixed by ``where``
    (``"run."`` for the config).  ``save_at`` keeps its old leniency: the times are
    sorted and repeats dropped."""
    given = [k for k, v in (("save_dt", save_dt), ("save_at", save_at), ("save_every", save_every))
             if v is not None]
    if len(given) > 1:
        raise ConfigError(f"{where}{given[1]}: give only one of save_dt, save_at and save_every",
                          key=f"{where}{given[1]}")
    # checked here, so that errors name the keyword given (SaveAt's name its arguments)
    if save_dt is not None:
        return SaveAt(dt=V.positive(f"{where}save_dt", save_dt))
    if save_every is not None:
        return SaveAt(every=V.integer(f"{where}save_every", save_every, min=1))
    if save_at is not None:
        times = np.unique(V.real_array(f"{where}save_at", save_at))
        if times.size == 0:
            raise ConfigError(f"{where}save_at: must list at least one time",
                              key=f"{where}save_at")
        return SaveAt(times=times)
    return None


def resolve(saveat, save_dt=None, save_at=None, save_every=None, *, stacklevel: int = 3):
    """The ``saveat`` argument of an entry point, or the :class:`SaveAt` built from its
    deprecated ``save_dt`` / ``save_at`` / ``save_every`` keywords (with a
    :class:`~thoughtfield.errors.ThoughtfieldDeprecationWarning`, a
    ``DeprecationWarning``, naming the replacement)."""
    old = from_keywords(save_dt, save_at, save_every)
    if old is not None:
        name, value = {"dt": ("save_dt", "dt=..."), "times": ("save_at", "times=[...]"),
                       "every": ("save_every", "every=...")}[old.kind]
        if saveat is not None:
            raise ConfigError(f"{name}: give only saveat (the {name} keyword is deprecated)",
                              key=name)
        warnings.warn(f"{name}= is deprecated; use saveat=thoughtfield.SaveAt({value})",
                      ThoughtfieldDeprecationWarning, stacklevel=stacklevel)
        return old
    if saveat is not None and not isinstance(saveat, SaveAt):
        raise ConfigError(f"saveat: expected a thoughtfield.SaveAt (got {type(saveat).__name__}); "
                          "e.g. saveat=thoughtfield.SaveAt(dt=0.1)", key='saveat')
    return saveat
