"""A small declarative schema for configs: typed fields with defaults, units and docs.

A *kind* checks and normalises one value and knows how to describe itself for the
reference documentation; :class:`Struct` is a table with fixed keys (unknown keys are
rejected with a did-you-mean), :class:`MapOf` a table with user-chosen keys,
:class:`ListOf` an array.  Every check receives the full key path
(``stimuli[2].concept``) and raises :class:`~thoughtfield.errors.ConfigError` whose
message starts with it, so the loader can point at the config line.

Kinds also answer :meth:`Kind.child` for ``--set`` overrides (which key paths exist).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real as _Real

from . import _validate as V
from ._toml import format_value, join_path
from .errors import ConfigError

#: Marks a field without a default: it must be given.
REQUIRED = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


def _typename(v) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, Integral):
        return "integer"
    if isinstance(v, _Real):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "table"
    if isinstance(v, (list, tuple)):
        return "array"
    return type(v).__name__


def _got(v) -> str:
    r = repr(v)
    if len(r) > 60:
        r = r[:57] + "..."
    if isinstance(v, (Mapping, list, tuple)):
        return f"an {_typename(v)}" if _typename(v) == "array" else f"a {_typename(v)}"
    return f"{r} ({_typename(v)})"


class Kind(ABC):
    """Base class: ``check(key, value) -> normalised value``."""

    @abstractmethod
    def describe(self) -> str:
        """Short type description for the reference docs."""

    @abstractmethod
    def check(self, key: str, value):
        """Validate ``value`` found at ``key``; return the normalised value."""

    def child(self, key: str, segment):
        """Kind of the element ``segment`` (a key or an index) for override paths."""
        raise ConfigError(f"{key}: is a {self.describe()}, it has no sub-key {segment!r}", key=key)


class AnyValue(Kind):
    """Any TOML value (e.g. options handed to a dataset loader)."""

    def __init__(self, what: str = "any value"):
        self.what = what

    def describe(self):
        return self.what

    def check(self, key, value):
        return value

    def child(self, key, segment):
        return AnyValue()


@dataclass
class Real(Kind):
    """A float.  ``min``/``max`` bounds; ``allow_inf`` lets ``inf`` through."""
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    allow_inf: bool = False

    def describe(self):
        s = "float"
        if self.min is not None:
            s += f" {'>=' if self.min_inclusive else '>'} {self.min:g}"
        if self.max is not None:
            s += f"{',' if self.min is not None else ''} {'<=' if self.max_inclusive else '<'} {self.max:g}"
        return s

    def check(self, key, value):
        if isinstance(value, bool) or not isinstance(value, _Real):
            raise ConfigError(f"{key}: must be a number (got {_got(value)})", key=key)
        try:
            v = float(value)
        except OverflowError:
            raise ConfigError(f"{key}: must be finite (got an integer with {len(str(value))} "
                              "digits)", key=key) from None
        if self.allow_inf and math.isinf(v) and (self.max is None or v < 0) and (self.min is None or v > 0):
            return v
        # validate the value as written so messages show it (-1, not -1.0)
        return V.real(key, value, min=self.min, max=self.max, min_inclusive=self.min_inclusive,
                      max_inclusive=self.max_inclusive)


@dataclass
class Int(Kind):
    min: int | None = None
    max: int | None = None

    def describe(self):
        s = "integer"
        if self.min is not None:
            s += f" >= {self.min}"
        if self.max is not None and self.max < 2**31:  # larger bounds only catch overflow
            s += f"{',' if self.min is not None else ''} <= {self.max}"
        return s

    def check(self, key, value):
        if isinstance(value, bool) or not isinstance(value, Integral):
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f"{key}: must be an integer (got {_got(value)})", key=key)
        return V.integer(key, value, min=self.min, max=self.max)


class Bool(Kind):
    def describe(self):
        return "boolean"

    def check(self, key, value):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: must be true or false (got {_got(value)})", key=key)
        return value


@dataclass
class Str(Kind):
    """A string; ``name=True`` requires a non-empty name without surrounding spaces."""
    name: bool = False

    def describe(self):
        return "name" if self.name else "string"

    def check(self, key, value):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: must be a string (got {_got(value)})", key=key)
        if self.name:
            V.name(key, value)
        return value


class Choice(Kind):
    """One of a set of strings; ``options`` may be a callable so registries that grow
    later (methods, transfers, plot kinds) are read at check time."""

    def __init__(self, options):
        self._options = options

    @property
    def options(self) -> list[str]:
        o = self._options() if callable(self._options) else self._options
        return list(o)

    def describe(self):
        return "one of " + ", ".join(f"`{o}`" for o in self.options)

    def check(self, key, value):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: must be one of {', '.join(map(repr, self.options))} "
                              f"(got {_got(value)})", key=key)
        return V.choice(key, value, self.options)


class ListOf(Kind):
    def __init__(self, item: Kind, *, min_len: int = 0, unique: bool = False):
        self.item = item
        self.min_len = min_len
        self.unique = unique

    def describe(self):
        return f"array of {self.item.describe()}"

    def check(self, key, value):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: must be an array of {self.item.describe()} "
                              f"(got {_got(value)})", key=key)
        if len(value) < self.min_len:
            raise ConfigError(f"{key}: must have at least {self.min_len} element(s) (got {len(value)})",
                              key=key)
        out = [self.item.check(join_path(key, i), v) for i, v in enumerate(value)]
        if self.unique:
            seen = set()
            for i, v in enumerate(out):
                h = repr(v)
                if h in seen:
                    raise ConfigError(f"{join_path(key, i)}: duplicate value {v!r}",
                                      key=join_path(key, i))
                seen.add(h)
        return out

    def child(self, key, segment):
        if not isinstance(segment, int):
            raise ConfigError(f"{key}: is an array; address its elements as {key}[0], {key}[1], ...",
                              key=key)
        return self.item


class MapOf(Kind):
    """A table whose keys the user chooses (names) and whose values share one kind."""

    def __init__(self, value: Kind, *, key_doc: str = "NAME"):
        self.value = value
        self.key_doc = key_doc

    def describe(self):
        return f"table of {self.key_doc} = {self.value.describe()}"

    def check(self, key, value):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: must be a table (got {_got(value)})", key=key)
        return {k: self.value.check(join_path(key, k), v) for k, v in value.items()}

    def child(self, key, segment):
        if isinstance(segment, int):
            raise ConfigError(f"{key}: is a table, not an array; address entries as {key}.NAME",
                              key=key)
        return self.value


class OneOf(Kind):
    """The first alternative whose ``accepts`` predicate matches the value's type."""

    def __init__(self, *alternatives: tuple[Callable, Kind], what: str | None = None):
        self.alternatives = alternatives
        self.what = what

    def describe(self):
        return self.what or " or ".join(k.describe() for _, k in self.alternatives)

    def check(self, key, value):
        for accepts, kind in self.alternatives:
            if accepts(value):
                return kind.check(key, value)
        raise ConfigError(f"{key}: must be {self.describe()} (got {_got(value)})", key=key)

    def child(self, key, segment):
        for _, kind in self.alternatives:
            try:
                return kind.child(key, segment)
            except ConfigError:
                continue
        return super().child(key, segment)


def is_number(v) -> bool:
    return isinstance(v, _Real) and not isinstance(v, bool)


def is_table(v) -> bool:
    return isinstance(v, Mapping)


def is_array(v) -> bool:
    return isinstance(v, (list, tuple))


def per_concept(number: Real) -> OneOf:
    """A per-concept parameter: a number (all concepts), an array (one per concept) or a
    table of concept names, ``"@layer"`` and ``"*"`` (default) to numbers."""
    return OneOf((is_number, number), (is_array, ListOf(number)),
                 (is_table, MapOf(number, key_doc='concept / "@layer" / "*"')),
                 what=f"per-concept {number.describe()} (number, array or table)")


@dataclass
class Field:
    """One key of a table: its kind, default, unit and documentation.

    ``default=REQUIRED`` makes the key mandatory; ``default=None`` makes it optional and
    absent from the normalised data when not given (``default_doc`` then says what
    happens, e.g. ``"min(tau) / 100"``).
    """
    kind: Kind
    default: object = None
    doc: str = ""
    unit: str = ""
    default_doc: str | None = None
    hint: str = ""  # appended to the "missing" message of a required field

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def default_text(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        if self.default is REQUIRED:
            return "required"
        if self.default is None:
            return "not set"
        try:
            return f"`{format_value(self.default)}`"
        except ConfigError:  # pragma: no cover
            return repr(self.default)


class Struct(Kind):
    """A table with a fixed set of keys.

    ``validate(values, key)`` (optional) runs after the fields, for checks that involve
    several keys; it may return a modified dict.
    """

    def __init__(self, fields: dict[str, Field] | None = None, *, validate: Callable | None = None,
                 doc: str = "", what: str = "table"):
        self.fields: dict[str, Field] = dict(fields or {})
        self.validators: list[Callable] = [validate] if validate else []
        self.doc = doc
        self.what = what

    def describe(self):
        return self.what

    def add_field(self, name: str, fld: Field) -> None:
        if name in self.fields:
            raise ValueError(f"field {name!r} is already defined")
        self.fields[name] = fld

    def unknown(self, key: str, k) -> ConfigError:
        where = f"{key}: " if key else ""
        known = list(self.fields)
        return ConfigError(f"{join_path(key, k)}: unknown key {str(k)!r}"
                           + V.did_you_mean(str(k), known)
                           + (f"; {where}the keys are {', '.join(known)}" if len(known) <= 12 else ""),
                           key=join_path(key, k))

    def check(self, key, value):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: must be a table (got {_got(value)})", key=key)
        for k in value:
            if k not in self.fields:
                raise self.unknown(key, k)
        out = {}
        for name, fld in self.fields.items():
            path = join_path(key, name)
            if name in value:
                out[name] = fld.kind.check(path, value[name])
            elif fld.required:
                raise ConfigError(f"{path}: missing" + (f"; {fld.hint}" if fld.hint else ""),
                                  key=path)
            elif fld.default is not None:
                out[name] = _copy(fld.default)
        for validate in self.validators:
            res = validate(out, key)
            if res is not None:
                out = res
        return out

    def child(self, key, segment):
        if segment not in self.fields:
            raise self.unknown(key, segment)
        return self.fields[segment].kind


def _copy(v):
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_copy(x) for x in v]
    return v


@dataclass
class Section:
    """A top-level config section (a registered part of the config schema).

    Parameters
    ----------
    name : str
        The TOML table name (``[name]``, or ``[[name]]`` when ``array``).
    struct : Struct
        The fields of the table (of each element when ``array``).
    doc : str
        Plain-words description for the reference page.
    array : bool
        An array of tables (``[[stimuli]]``).
    required : bool
        Whether a config must contain the section.
    build : callable, optional
        ``build(data, ctx) -> object``: turn the checked data into a Python object
        (``data`` is the normalised table, or the list of tables, or ``None`` when the
        section is absent and not required).  Runs in registration order; ``ctx`` gives
        access to the sections built before.  Default: the data itself.
    check : callable, optional
        ``check(obj, ctx)``: cross-section validation after every section is built
        (e.g. concept names against the network, times against the horizon).  Not
        called when ``build`` returned ``None``.
    apply : callable, optional
        ``apply(obj, kwargs, ctx)``: add keyword arguments for
        :class:`~thoughtfield.Simulation` (``kwargs`` is a dict to update).  Not called
        when ``build`` returned ``None``.
    runner : callable, optional
        ``runner(obj, config, progress) -> xarray.Dataset``: take over the whole run
        (a trial protocol, a sweep...).  The first section present in a config that has
        a runner is used instead of a single :class:`~thoughtfield.Simulation`; the
        result is then annotated with the config as usual.
    result : callable, optional
        ``result(obj, ds, config)``: add readouts computed from the finished run to its
        Dataset ``ds`` (in place), when the config annotates it (``[memory]``).
    hint : str
        Appended to the error when a required section is missing.
    fill : bool
        When the section is absent, store its defaults in the normalised data as if an
        empty table had been given (for core sections such as ``[solver]``, so the
        resolved config records every setting).  Leave it off for optional features
        whose absence means "off".
    """
    name: str
    struct: Struct
    doc: str = ""
    array: bool = False
    required: bool = False
    build: Callable | None = None
    check: Callable | None = None
    apply: Callable | None = None
    runner: Callable | None = None
    result: Callable | None = None
    hint: str = ""
    fill: bool = False
    kind: Kind = field(init=False)

    def __post_init__(self):
        self.kind = ListOf(self.struct) if self.array else self.struct

    def check_data(self, value):
        if self.array:
            if isinstance(value, Mapping):
                raise ConfigError(f"{self.name}: must be an array of tables, written [[{self.name}]] "
                                  f"(got a single table [{self.name}])", key=self.name)
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"{self.name}: must be an array of tables, written [[{self.name}]] "
                                  f"(got {_got(value)})", key=self.name)
        elif not isinstance(value, Mapping):
            raise ConfigError(f"{self.name}: must be a table, written [{self.name}] (got {_got(value)})",
                              key=self.name)
        return self.kind.check(self.name, value)


# ---------------------------------------------------------------- reference docs
def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def struct_markdown(struct: Struct, title: str, level: int = 2) -> list[str]:
    """Markdown table of a struct's fields (nested structs get their own subsection)."""
    out = [f"{'#' * level} {title}", ""]
    if struct.doc:
        out += [struct.doc, ""]
    if struct.fields:
        out += ["| key | type | default | unit | description |", "|---|---|---|---|---|"]
        for name, f in struct.fields.items():
            out.append(f"| `{name}` | {_md(f.kind.describe())} | {_md(f.default_text())} | "
                       f"{_md(f.unit) or '–'} | {_md(f.doc)} |")
        out.append("")
    for name, f in struct.fields.items():
        sub = _nested_struct(f.kind)
        if sub is not None:
            inner, suffix = sub
            base = title.strip("[]")
            out += struct_markdown(inner, f"[{base}.{name}{suffix}]", level + 1)
    return out


def _nested_struct(kind):
    if isinstance(kind, Struct):
        return kind, ""
    if isinstance(kind, MapOf) and isinstance(kind.value, Struct):
        return kind.value, "." + kind.key_doc
    if isinstance(kind, ListOf) and isinstance(kind.item, Struct):
        return kind.item, "[]"
    return None
