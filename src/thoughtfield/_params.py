"""Declare a description's parameters once, on the class.

A parameter is declared with :func:`param`: its kind (a :mod:`._schema` kind), default,
unit and doc.  :func:`described` turns the class into a frozen dataclass and derives from
the declarations everything that used to be written by hand for each class:

* the dataclass fields (``Model(tau=...)``, ``dataclasses.replace`` keep working);
* validation in ``__post_init__``: every value is checked (and normalised) by its kind --
  or by the parameter's ``check`` where the Python API accepts more than TOML (numpy
  arrays, objects) -- under its full key; then the class's ``_validate(self, key)`` hook
  runs the checks that involve several parameters;
* ``to_dict()``: the parameters in declaration order (or the class's ``_dict_order``),
  ``None`` left out, numpy arrays / tuples as lists, nested descriptions as tables;
  a parameter's ``omit(obj, value)`` leaves out more (defaults a result need not record);
* ``from_dict(d, key)``: unknown keys refused with a did-you-mean, required keys named
  with a hint, errors naming ``key.param``;
* ``struct()``: the config section's :class:`~._schema.Struct` (kinds, defaults, units,
  docs: the reference page docs/config.md is generated from it).

Messages carry the full key: ``from_dict(d, "pools[2]")`` makes every check of that object
say ``pools[2].inhibition: ...``; the key travels to ``__post_init__`` in a context
variable (a frozen dataclass's constructor has no room for it).
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from . import _validate as V
from ._schema import (REQUIRED, Bool, Choice, Field, Int, ListOf, MapOf, OneOf, Real, Str, Struct,
                      is_array, is_number, is_table)
from .errors import ConfigError

__all__ = ["param", "described", "params", "PerConcept", "per_concept", "REQUIRED"]

#: The key of the object being built by ``from_dict`` (read once by ``__post_init__``).
_KEY: contextvars.ContextVar = contextvars.ContextVar("thoughtfield_param_key", default=None)


_SAME = type("Same", (), {"__repr__": lambda self: "the Python default"})()


class Param:
    """One declared parameter (the metadata of its dataclass field).  A plain class, not
    a dataclass: creating a dataclass costs about a millisecond of import time."""
    __slots__ = ("kind", "default", "doc", "unit", "default_doc", "hint", "check", "omit",
                 "dump", "config", "config_default")

    def __init__(self, kind, default, doc="", unit="", default_doc=None, hint="", check=None,
                 omit=None, dump=None, config=True, config_default=_SAME):
        self.kind = kind                      # a _schema kind (config check, docs)
        self.default = default
        self.doc = doc
        self.unit = unit
        self.default_doc = default_doc
        self.hint = hint
        self.check = check                    # (key, value) -> value, for the Python API
        self.omit = omit                      # (obj, value) -> bool, left out of to_dict
        self.dump = dump                      # value -> plain value for to_dict
        self.config = config                  # a key of the config section's table
        self.config_default = config_default  # the config key's default, if not `default`

    def __repr__(self):
        return f"Param({self.kind!r}, {self.default!r})"

    def field(self) -> Field:
        """The :class:`~._schema.Field` of the config section."""
        default = self.default if self.config_default is _SAME else self.config_default
        return Field(self.kind, default, self.doc, unit=self.unit, default_doc=self.default_doc,
                     hint=self.hint)

    def validate(self, key: str, value):
        return (self.check or checker(self.kind))(key, value)


def python_check(kind, key: str, value):
    """Check a value given through the Python API: as the kind checks TOML, but numpy
    scalars (and, for per-concept kinds, arrays) are welcome too."""
    return checker(kind)(key, value)


def checker(kind) -> Callable:
    """``check(key, value)`` of a kind for the Python API (chosen once per parameter)."""
    coerce = getattr(kind, "coerce", None)
    if coerce is not None:
        return coerce
    if isinstance(kind, Real):
        lo, hi, lo_in, hi_in, inf = (kind.min, kind.max, kind.min_inclusive, kind.max_inclusive,
                                     kind.allow_inf)

        def real(key, value):
            if (inf and isinstance(value, (float, np.floating)) and np.isinf(value)
                    and (hi is None or value < 0) and (lo is None or value > 0)):
                return float(value)
            return V.real(key, value, min=lo, max=hi, min_inclusive=lo_in, max_inclusive=hi_in)
        return real
    if isinstance(kind, Int):
        lo, hi = kind.min, kind.max
        return lambda key, value: V.integer(key, value, min=lo, max=hi)
    if isinstance(kind, Bool):
        return V.boolean
    if isinstance(kind, Choice):
        return lambda key, value: V.choice(key, value, kind.options)
    if isinstance(kind, Str) and kind.name:
        return V.name
    return kind.check


def param(kind, default=REQUIRED, doc: str = "", *, unit: str = "", default_doc=None,
          hint: str = "", check=None, omit=None, dump=None, config: bool = True,
          config_default=...):
    """Declare a parameter (use as the default of a class attribute under :func:`described`).

    ``default=REQUIRED`` makes it a required (positional) field; ``None`` an optional one
    that is left out of ``to_dict`` and of the config's normalised data when not given.
    ``config_default`` is the default of the config key when it differs from the Python
    one (e.g. ``None`` there, ``()`` here).
    """
    p = Param(kind, default, doc, unit, default_doc, hint, check, omit, dump, config,
              _SAME if config_default is ... else config_default)
    meta = {"param": p}
    if default is REQUIRED:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def params(cls) -> dict[str, Param]:
    """The declared parameters of a described class, in declaration order."""
    return cls.__params__


def join_key(key: str, name) -> str:
    return f"{key}.{name}" if key else str(name)


def _plain(v):
    """A value as ``to_dict`` writes it."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if hasattr(v, "to_dict"):
        return v.to_dict()
    if isinstance(v, Mapping):
        return dict(v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def described(key: str = "", *, label: str | None = None, dict_order: Sequence[str] | None = None,
              label_by: str | None = None):
    """Class decorator: a frozen dataclass whose parameters are declared with :func:`param`.

    ``key`` prefixes the messages of the constructor (``"solver"`` -> ``solver.rtol: ...``);
    ``label`` (default ``key``) is the default key of ``from_dict``.  ``dict_order`` lists
    the parameters in the order ``to_dict`` writes them (default: declaration order).
    ``label_by`` names a parameter that identifies an object built without a key (by the
    constructor): once it is checked, messages say ``pool 'p'.inhibition`` instead of
    ``pool.inhibition``.
    """
    def wrap(cls):
        user_post = cls.__dict__.get("__post_init__")
        if user_post is not None:
            raise TypeError(f"{cls.__name__}: declare checks in _validate(self, key), not "
                            "__post_init__")
        ps: dict[str, Param] = {}   # filled once the dataclass exists
        checks: list = []           # (name, check, optional, key) per parameter

        def __post_init__(self):
            given = _KEY.get()
            if given is None:       # built directly: the class's own key
                _check(self, key, True)
                return
            token = _KEY.set(None)  # nested constructions take their own key
            try:
                _check(self, given, False)
            finally:
                _KEY.reset(token)

        def _check(self, k, own):
            setattr_ = object.__setattr__
            for name, check, optional, own_key in checks:
                v = getattr(self, name)
                if v is None and optional:
                    continue
                setattr_(self, name, check(own_key if own else join_key(k, name), v))
                if own and name == label_by:
                    k, own = f"{key} {getattr(self, name)!r}", False
            if hook is not None:
                hook(self, k)

        hook = getattr(cls, "_validate", None)
        cls.__post_init__ = __post_init__   # before dataclass(): its __init__ calls it
        cls = dataclasses.dataclass(frozen=True)(cls)
        ps.update((f.name, f.metadata["param"]) for f in dataclasses.fields(cls)
                  if "param" in f.metadata)
        cls.__params__ = ps
        checks.extend((name, p.check or checker(p.kind), p.default is None, join_key(key, name))
                      for name, p in ps.items())
        cls.__param_key__ = key
        order = tuple(dict_order) if dict_order is not None else tuple(ps)
        unknown = [k for k in order if k not in ps]
        if unknown:
            raise TypeError(f"{cls.__name__}: dict_order names unknown parameters {unknown}")

        def to_dict(self) -> dict:
            out = {}
            for name in order:
                p = ps[name]
                v = getattr(self, name)
                if v is None or (p.omit is not None and p.omit(self, v)):
                    continue
                out[name] = p.dump(v) if p.dump is not None else _plain(v)
            return out

        def from_dict(c, d, key: str | None = None):
            lab = (label if label is not None else key_default) if key is None else key
            if not isinstance(d, Mapping):
                raise ConfigError(f"{lab}: expected a table (got {V.show(d)})", key=lab)
            names = list(ps)
            for k in d:
                if k not in names:
                    raise ConfigError(f"{lab}: unknown key {k!r}" + V.did_you_mean(str(k), names)
                                      + f"; allowed: {', '.join(names)}", key=lab)
            for name, p in ps.items():
                if p.default is REQUIRED and name not in d:
                    raise ConfigError(f"{join_key(lab, name)}: missing"
                                      + (f"; {p.hint}" if p.hint else ""), key=join_key(lab, name))
            token = _KEY.set(key)
            try:
                return c(**dict(d))
            finally:
                _KEY.reset(token)

        def struct(c, *, doc: str = "", validate=None, exclude=()) -> Struct:
            return Struct({name: p.field() for name, p in ps.items()
                           if p.config and name not in exclude}, validate=validate, doc=doc)

        key_default = key
        cls._params_to_dict = to_dict   # for a to_dict of its own that adds to it
        if "to_dict" not in cls.__dict__:
            cls.to_dict = to_dict
        if "from_dict" not in cls.__dict__:
            cls.from_dict = classmethod(from_dict)
        cls.struct = classmethod(struct)
        return cls
    return wrap


# ------------------------------------------------------------------ per-concept values
class PerConcept(OneOf):
    """A per-concept parameter: a number (all concepts), an array (one per concept) or a
    table of concept names, ``"@layer"`` and ``"*"`` (default) to numbers.

    ``check`` (config) returns what TOML gave; ``coerce`` (Python API) also takes numpy
    arrays and returns a read-only float array for a sequence."""

    def __init__(self, number: Real):
        super().__init__((is_number, number), (is_array, ListOf(number)),
                         (is_table, MapOf(number, key_doc='concept / "@layer" / "*"')),
                         what=f"per-concept {number.describe()} (number, array or table)")
        self.number = number

    def coerce(self, key: str, value):
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str) or not k:
                    raise ConfigError(f"{key}: keys must be concept names, '@layer' or '*' "
                                      f"(got {k!r})", key=key)
                out[k] = self._value(f"{key}.{k}", v)
            return out
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            arr = V.real_array(key, value)
            for bad, op, bound in self._violations(arr):
                if bad.any():
                    i = int(np.argmax(bad))
                    raise ConfigError(f"{key}[{i}]: must be {op} {bound:g} (got {arr[i]:g})",
                                      key=f"{key}[{i}]")
            arr.setflags(write=False)
            return arr
        return self._value(key, value)

    def _value(self, key, v):
        n = self.number
        return V.real(key, v, min=n.min, max=n.max, min_inclusive=n.min_inclusive,
                      max_inclusive=n.max_inclusive)

    def _violations(self, arr):
        n = self.number
        if n.min is not None:
            yield ((arr < n.min) if n.min_inclusive else (arr <= n.min),
                   ">=" if n.min_inclusive else ">", n.min)
        if n.max is not None:
            yield ((arr > n.max) if n.max_inclusive else (arr >= n.max),
                   "<=" if n.max_inclusive else "<", n.max)


def per_concept(number: Real | None = None) -> PerConcept:
    return PerConcept(number if number is not None else Real())
