"""Exception hierarchy.

Every error thoughtfield raises on purpose derives from :class:`ThoughtfieldError`
and from the builtin that fits it, so ``except ValueError`` keeps working for
callers who do not know this package.  Messages name the offending key,
concept or value and say how to fix it, e.g. ``tau: must be > 0 (got -1)``.
"""

from __future__ import annotations


class ThoughtfieldError(Exception):
    """Base class of every error raised by thoughtfield.

    Besides the text, an error carries structured fields: ``message`` (the text as
    raised, naming the key), ``key`` (the dotted config key it is about, e.g.
    ``model.tau``), ``source`` (the file it came from), ``line`` (its line there) and
    ``where`` (the location label printed before the message, e.g. ``run.toml:3``).
    ``str(err)`` is ``"{where}: {message}"`` (just the message when ``where`` is unset).
    Context is added with :meth:`within`, never by rewriting the text.
    """

    def __init__(self, message: str = "", *, key: str | None = None,
                 source: str | None = None, line: int | None = None,
                 where: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.source = source
        self.line = line
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def _fields(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "message"}

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self._fields()))

    def within(self, *, where: str | None = None, key: str | None = None,
               source: str | None = None, line: int | None = None) -> ThoughtfieldError:
        """A copy of this error (same class and fields) with the given location fields set
        (those passed as None are kept)."""
        new = _rebuild(type(self), self.message, self._fields())
        for name, value in (("where", where), ("key", key), ("source", source),
                            ("line", line)):
            if value is not None:
                setattr(new, name, value)
        new.__cause__ = self.__cause__
        return new


def _rebuild(cls, message: str, fields: dict) -> ThoughtfieldError:
    """Re-create an error of class ``cls`` with its fields (pickling, :meth:`within`)."""
    err = cls.__new__(cls)
    ThoughtfieldError.__init__(err, message)
    vars(err).update(fields)
    return err


class ConfigError(ThoughtfieldError, ValueError):
    """A parameter, config entry or argument is invalid."""


class NetworkError(ConfigError):
    """The concept network is malformed (unknown or duplicate concept, bad weight...)."""


class ResourceError(ConfigError):
    """A run would need more memory (or disk) than allowed or available."""


class CheckpointError(ConfigError):
    """A checkpoint cannot be used: corrupted, truncated, or written by another run."""


class SimulationError(ThoughtfieldError, RuntimeError):
    """A run failed after it started (see the subclasses)."""

    def __init__(self, message: str, *, time: float | None = None,
                 concept: str | None = None, status: str | None = None):
        super().__init__(message)
        self.time = time
        self.concept = concept
        self.status = status


class DivergenceError(SimulationError):
    """Activations became non-finite (NaN or infinity)."""


class SolverError(SimulationError):
    """The solver could not continue (step size collapsed, too many steps)."""


class ThoughtfieldWarning(UserWarning):
    """Something is probably wrong but the run can go on (a very long run, a step size near
    the stability limit...); the command line prints it as ``thoughtfield CMD: warning:``."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT (Ctrl-C) or, from the command line, SIGTERM.

    A :class:`KeyboardInterrupt` (so ``except KeyboardInterrupt`` keeps working) with a
    message saying where the run stopped; ``checkpoint`` is the checkpoint written at the
    interruption (None when checkpointing is off), ``partial`` the result up to the
    interruption (an xarray Dataset, assembled when first read, so that a stopped command
    line run exits without importing xarray), ``signum`` the signal."""

    def __init__(self, message: str = "interrupted", *, checkpoint: str | None = None,
                 partial=None, signum: int | None = None, time: float | None = None):
        super().__init__(message)
        self.checkpoint = checkpoint
        self.partial = partial   # a Dataset, None, or a function that assembles it once
        self.signum = signum
        self.time = time

    @property
    def partial(self):
        if callable(self._partial):
            make, self._partial = self._partial, None
            try:
                self._partial = make()
            except Exception:  # pragma: no cover - never mask the interruption
                self._partial = None
        return self._partial

    @partial.setter
    def partial(self, value) -> None:
        self._partial = value
