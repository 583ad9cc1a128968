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
    ``model.tau``), ``source`` (the file it came from), ``line`` (its line there),
    ``locations`` (the location labels printed before the message, outermost first, e.g.
    ``("sweep point 3", "run.toml:3")``; ``where`` is them joined, ``"sweep point 3:
    run.toml:3"``, or None), ``prefix`` (the outer key path the message is shown under, e.g. ``model.``) and
    ``hint`` (advice shown after it, starting with its separator).  ``str(err)`` is
    ``"{where}: {prefix}{message}{hint}"`` (leaving out what is unset).  Context is added
    with :meth:`within`, :meth:`under`, :meth:`at` and :meth:`hinted`, each returning a
    copy; the text is never rewritten.
    """

    def __init__(self, message: str = "", *, key: str | None = None,
                 source: str | None = None, line: int | None = None,
                 where: str | tuple | list | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.source = source
        self.line = line
        self.locations: tuple[str, ...] = ()
        self.where = where
        self.prefix = ""
        self.hint = hint

    @property
    def where(self) -> str | None:
        """The location labels joined as printed (``"sweep point 3: run.toml:3"``), or None."""
        return ": ".join(self.locations) or None

    @where.setter
    def where(self, value) -> None:
        """One label (a string), the labels outermost first (a list or tuple), or None."""
        if value is None:
            self.locations = ()
        elif isinstance(value, str):
            self.locations = (value,) if value else ()
        else:
            self.locations = tuple(str(v) for v in value)

    def __str__(self) -> str:
        text = self.prefix + self.message + (self.hint or "")
        return f"{self.where}: {text}" if self.where else text

    def _fields(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "message"}

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self._fields()))

    def _copy(self, cls=None) -> ThoughtfieldError:
        new = _rebuild(cls or type(self), self.message, self._fields())
        new.__cause__ = self.__cause__
        return new

    def within(self, *, where: str | None = None, key: str | None = None,
               source: str | None = None, line: int | None = None) -> ThoughtfieldError:
        """A copy of this error (same class and fields) with the given location fields set
        (those passed as None are kept)."""
        new = self._copy()
        for name, value in (("where", where), ("key", key), ("source", source),
                            ("line", line)):
            if value is not None:
                setattr(new, name, value)
        return new

    def under(self, prefix: str) -> ThoughtfieldError:
        """A copy shown under the outer key path ``prefix``: the error of ``tau`` from the
        ``Model`` constructor, under ``"model"``, reads ``model.tau: ...`` and has the key
        ``model.tau``.  An error already shown under ``prefix`` is returned as is."""
        shown = self.prefix + self.message
        if shown.startswith((prefix + ".", prefix + ":", prefix + "[")):
            return self
        new = self._copy()
        new.prefix = prefix + ("" if shown.startswith("[") else ".") + self.prefix
        if self.key is not None:
            new.key = prefix + ("" if self.key.startswith("[") else ".") + self.key
        return new

    def at(self, label: str, *, source: str | None = None, line: int | None = None,
           cls: type | None = None) -> ThoughtfieldError:
        """A copy located at ``label`` (a file, ``--set KEY=VALUE``, a condition...) outside
        the location it already has: ``str`` reads ``"{label}: {where}: ..."``.  ``source``
        and ``line`` set those fields; ``cls`` (a subclass of ThoughtfieldError) changes the
        class, e.g. a ConfigError of a row becomes a NetworkError of the file."""
        new = self._copy(cls)
        new.locations = (label, *self.locations)
        for name, value in (("source", source), ("line", line)):
            if value is not None:
                setattr(new, name, value)
        return new

    def hinted(self, hint: str) -> ThoughtfieldError:
        """A copy with ``hint`` (text starting with its separator, e.g. ``"; do X"``) shown
        after the message, after any hint it already has."""
        new = self._copy()
        new.hint = (self.hint or "") + hint
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


class ThoughtfieldDeprecationWarning(DeprecationWarning):
    """A deprecated spelling of thoughtfield's (e.g. ``save_dt=`` instead of
    ``saveat=SaveAt(dt=...)``); its own class, so that a test suite can turn exactly these
    into errors."""


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
