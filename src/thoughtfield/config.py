"""Simulation configs: TOML files (or dicts) describing a whole run, validated up front.

A config is data, never code.  Its layout (see ``docs/config.md``, generated from the
schema below)::

    seed = 7                      # top-level keys: seed, title, description
    title = "..."

    [network]                     # inline concepts/relations, a file, or a dataset
    [model]                       # dynamics parameters
    [[stimuli]]                   # pulses and clamps, one table each
    [solver]                      # integration method and tolerances
    [run]                         # time span, save grid, ensemble members
    [output]                      # result path, format, figures

:func:`load_config` parses and checks *everything* (types, unknown keys with a
did-you-mean, concept names in stimuli and per-concept tables, stimuli inside the time
span, solver/model compatibility) before any compiled code runs; errors name the full
key path and the config line, e.g.
``quickstart.toml:14: solver.rtol: must be > 0 (got -0.001)``.

Extending the format
--------------------
The schema is a registry of :class:`~thoughtfield._schema.Section` objects; a feature
adds its own section without touching the loader::

    from thoughtfield.config import Field, Section, Struct, Real, register_section

    register_section(Section(
        "priming",
        Struct({"amplitude": Field(Real(min=0), 0.5, "input of the pulse", unit="1")}),
        doc="A short pulse on some concepts at the start of the run.",
        build=lambda data, ctx: data,
        check=lambda p, ctx: None,
        apply=lambda p, kwargs, ctx: kwargs.update(stimuli=[...]),
    ), after="stimuli")

and a new key in an existing section is ``section("solver").struct.add_field(...)``.
See ``docs/extending.md`` for the whole recipe (sections, commands, plots, summaries).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from types import MappingProxyType

from . import _inputs, _toml
from . import _validate as V
from ._schema import (REQUIRED, AnyValue, Bool, Choice, Field, Int, ListOf, MapOf, OneOf, Real,
                      Section, Str, Struct, is_array, is_table, per_concept, struct_markdown)
from ._toml import join_path
from .errors import ConfigError, NetworkError
from ._params import described, param, params
from .model import PER_CONCEPT, Model
from .network import DEFAULT_LAYERS, ConceptNetwork, default_relation_types
from .saving import SaveAt
from .saving import from_keywords as saveat_from_keywords
from .solvers import DISCRETE_METHODS, Solver, SpreadrSettings
from .stimuli import Clamp, Pulse

__all__ = [
    "SimulationConfig", "load_config", "run_config", "register_section", "unregister_section",
    "section", "sections",
    "Section", "Struct", "Field", "Real", "Int", "Bool", "Str", "Choice", "ListOf", "MapOf",
    "OneOf", "AnyValue", "per_concept", "REQUIRED", "NETWORK_READERS", "reference_markdown",
    "parse_override", "RunSettings", "OutputSettings", "TIME",
]

#: Unit string of times in the reference docs.
TIME = "time"

# ===================================================================== registry
_SECTIONS: dict[str, Section] = {}
_SECTION_MODULES: dict[str, str] = {}   # section -> the module that registered it


def _registry() -> dict[str, Section]:
    """The registered sections, the extension modules' included (imported on first use)."""
    from . import _extensions
    _extensions.load()
    return _SECTIONS

#: Top-level scalar keys (outside every section).
ROOT = Struct({
    "seed": Field(Int(min=0, max=2**63 - 1), None, "Base seed of every random number (noise, and later random "
                  "trial orders or patterns); drawn and recorded in the result when not set.",
                  default_doc="drawn at random"),
    "title": Field(Str(), None, "A short title, used in figures and the result's attributes."),
    "description": Field(Str(), None, "Free text describing the simulation."),
})


def register_section(sec: Section, *, after: str | None = None) -> Section:
    """Add a config section to the schema (``after`` an existing one, else at the end).

    Registering a name twice replaces the old section (so a module can be reloaded).
    """
    if not isinstance(sec, Section):
        raise TypeError(f"register_section: expected a Section (got {type(sec).__name__})")
    import sys
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller != __name__:
        # a section from another module: the built-in extension modules register theirs
        # first, in their fixed order, whichever of them was imported first
        from . import _extensions
        _extensions.load()
    if sec.name in ROOT.fields:
        raise ValueError(f"{sec.name!r} is a top-level key, not a section")
    _SECTIONS.pop(sec.name, None)
    _SECTION_MODULES.setdefault(sec.name, caller)   # a built-in replaced stays built-in
    if after is None:
        _SECTIONS[sec.name] = sec
    else:
        if after not in _SECTIONS:
            raise ValueError(f"register_section: unknown section {after!r}")
        items = list(_SECTIONS.items())
        k = [n for n, _ in items].index(after) + 1
        items.insert(k, (sec.name, sec))
        _SECTIONS.clear()
        _SECTIONS.update(items)
    return sec


def unregister_section(name: str) -> None:
    """Remove the section ``name`` added by :func:`register_section` (e.g. at the end of a
    test); the built-in sections and those of the extension modules stay."""
    from . import _extensions
    _extensions.load()
    sec = _SECTIONS.get(name)
    if sec is None:
        raise ValueError(f"unregister_section: no section {name!r}")
    if _SECTION_MODULES.get(name, "").startswith("thoughtfield."):
        raise ValueError(f"unregister_section: {name!r} is a built-in section")
    del _SECTIONS[name]
    _SECTION_MODULES.pop(name, None)


def section(name: str) -> Section:
    """The registered section ``name`` (e.g. to add fields to its ``struct``)."""
    try:
        return _registry()[name]
    except KeyError:
        raise ConfigError(f"unknown config section {name!r}" + V.did_you_mean(name, _registry())) from None


def sections() -> list[Section]:
    """The registered sections, in order."""
    return list(_registry().values())


class ConfigContext:
    """What section hooks see: the checked data, the objects built so far, and where
    relative paths point."""

    def __init__(self, data: dict, base_dir: Path, source: str, allow_files=None):
        self.data = data
        self.base_dir = base_dir
        self.source = source
        self.allow_files = allow_files
        self.objects: dict[str, object] = {}

    def __getitem__(self, name: str):
        return self.objects[name]

    def get(self, name: str, default=None):
        return self.objects.get(name, default)

    @property
    def network(self) -> ConceptNetwork:
        return self.objects["network"]

    @property
    def seed(self):
        return self.data.get("seed")

    def path(self, p: str) -> Path:
        """Resolve a path written in the config (relative to the config's folder)."""
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else (self.base_dir / q)

    def allowed(self, key: str, p: str, what: str = "file") -> Path:
        """:meth:`path` of a file (or folder) the config may read: under the config's own
        folder (symbolic links resolved) or under a folder allowed by ``allow_files``
        (see :func:`load_config`); else a :class:`ConfigError` naming ``key``.  Checked
        before the path is looked at, so a refused path reveals nothing about the file."""
        path = self.path(p)
        shown = V.show(str(path), 200).strip("'\"")
        if "\x00" in str(path):
            raise ConfigError(f"{key}: cannot use the path {shown!r} (a file name cannot "
                              "contain a NUL character)", key=key)
        anything, roots = allowed_roots(self.allow_files)
        if anything:
            return path
        real = _real(path)
        base = _real(self.base_dir)
        if any(_under(real, r) for r in (base, *roots)):
            return path
        given = V.show(str(p), 120)
        lexical = Path(os.path.abspath(path))
        inside = _under(lexical, Path(os.path.abspath(self.base_dir))) or _under(lexical, base)
        how = f"is a link to a {what} outside" if inside else "is outside"
        raise ConfigError(f"{key}: {given} {how} the config's folder {base}; a config may only "
                          f"read {what}s under its own folder -- move the {what} there, or allow "
                          f"its folder with --allow-files FOLDER (or {ALLOW_FILES_ENV}, or "
                          "allow_files= in Python)", key=key)

    def input_file(self, key: str, p: str) -> Path:
        """:meth:`allowed` path of an input file that must exist; errors name ``key``."""
        path = self.allowed(key, p)
        shown = V.show(str(path), 200).strip("'\"")
        try:
            ok = path.exists()
            is_dir = ok and path.is_dir()
        except (OSError, ValueError) as e:   # NUL characters, names too long...
            raise ConfigError(f"{key}: cannot use the path {shown!r} "
                              f"({getattr(e, 'strerror', None) or e})", key=key) from None
        if not ok:
            raise ConfigError(f"{key}: file not found: {shown} (paths are relative to the "
                              f"config's folder {self.base_dir})", key=key)
        if is_dir:
            raise ConfigError(f"{key}: {shown} is a folder, not a file", key=key)
        return path


#: Environment variable with folders (separated by ``os.pathsep``) that configs may read
#: files from besides their own folder; ``*`` allows any file.
ALLOW_FILES_ENV = "THOUGHTFIELD_ALLOW_FILES"


def allowed_roots(allow_files=None) -> tuple[bool, tuple[Path, ...]]:
    """``(any file allowed, extra folders)`` from ``allow_files`` (``True``: any file; a
    folder or a list of folders) or, when it is None, the environment variable
    ``THOUGHTFIELD_ALLOW_FILES``."""
    if allow_files is None:
        env = os.environ.get(ALLOW_FILES_ENV, "").strip()
        if not env:
            return False, ()
        if env == "*":
            return True, ()
        allow_files = [x for x in env.split(os.pathsep) if x.strip()]
    if allow_files is True:
        return True, ()
    if allow_files is False:
        return False, ()
    if isinstance(allow_files, (str, os.PathLike)):
        allow_files = [allow_files]
    try:
        items = list(allow_files)
    except TypeError:
        raise ConfigError(f"allow_files: expected True, a folder or a list of folders (got "
                          f"{V.show(allow_files)})", key='allow_files') from None
    roots = []
    for i, r in enumerate(items):
        if not isinstance(r, (str, os.PathLike)) or "\x00" in os.fspath(r) or not os.fspath(r):
            raise ConfigError(f"allow_files[{i}]: expected a folder (got {V.show(r)})",
                              key=f"allow_files[{i}]")
        roots.append(_real(Path(os.path.expanduser(os.fspath(r)))))
    return False, tuple(roots)


def _real(p: Path) -> Path:
    try:
        return Path(os.path.realpath(p))
    except (OSError, ValueError):
        return Path(os.path.abspath(p))


def _under(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


# ===================================================================== [network]
#: Readers of network files by format name: ``reader(path, ctx, data) -> ConceptNetwork``.
NETWORK_READERS: dict[str, object] = {}
#: File name endings -> format name.
NETWORK_SUFFIXES: dict[str, str] = {}


def register_network_reader(fmt: str, reader, suffixes=()) -> None:
    """Register ``reader(path, data, ctx) -> ConceptNetwork`` for ``[network] file``."""
    NETWORK_READERS[fmt] = reader
    for s in suffixes:
        NETWORK_SUFFIXES[s.lower()] = fmt


def _reader_kwargs(data, default_key="default_type"):
    """Keyword arguments of the built-in readers from ``[network]``: ``layers``, the
    relation types defined in the config (so that ``default_type`` may name one) and
    ``default_type`` (under the reader's name for it)."""
    kw = {}
    if "layers" in data:
        kw["layers"] = data["layers"]
    types = _relation_type_objects(data)
    if types:
        kw["relation_types"] = types
    if "default_type" in data:
        kw[default_key] = data["default_type"]
    return kw


def _read_csv(path, data, ctx):
    concepts_path = None
    if "concepts_file" in data:
        concepts_path = ctx.input_file("network.concepts_file", data["concepts_file"])
    return ConceptNetwork.from_csv(path, concepts_path, **_reader_kwargs(data))


def _read_networkx(path, data, ctx):
    from . import io
    fmt = data.get("format") or NETWORK_SUFFIXES.get(path.suffix.lower())
    return (io.read_gexf if fmt == "gexf" else io.read_graphml)(path, **_reader_kwargs(data))


def _read_spreadr(path, data, ctx):
    from . import io
    return io.read_spreadr_network(path, **_reader_kwargs(data, "relation"))


def _read_json(path, data, ctx):
    import json

    from .network import read_text
    try:
        d = json.loads(read_text(path))
    except RecursionError:
        raise NetworkError(f"{path}: not valid JSON (arrays or objects nested more deeply than "
                           "a network file ever needs)") from None
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        msg = str(e)
        if "integer string conversion" in msg:   # Python's 4300-digit limit
            msg = "an integer with more than 4300 digits; write large values as floats"
        raise NetworkError(f"{path}: not valid JSON ({msg})") from None
    _inputs.check_depth(d, str(path), error=NetworkError)
    if not isinstance(d, Mapping):
        raise NetworkError(f"{path}: expected a JSON object as written by ConceptNetwork.to_dict()")
    if "layers" in data:
        d = {**d, "layers": data["layers"]}
    types = _relation_type_objects(data)
    if types:
        d = {**d, "relation_types": {**(d.get("relation_types") or {}),
                                     **{t.name: t.to_dict() for t in types}}}
    try:
        return ConceptNetwork.from_dict(d, default_type=data.get("default_type", "association"))
    except NetworkError as e:
        raise e.at(str(path)) from None


register_network_reader("csv", _read_csv, (".csv", ".tsv", ".tab", ".txt"))
register_network_reader("graphml", _read_networkx, (".graphml",))
register_network_reader("gexf", _read_networkx, (".gexf",))
register_network_reader("json", _read_json, (".json",))
register_network_reader("spreadr", _read_spreadr)


class _ConceptSpec(OneOf):
    """Concepts: an array (names, ``[name, layer]`` pairs, ``{name, layer}`` tables), a
    table ``layer = [names]``, or a table ``name = "layer"``."""

    def __init__(self):
        super().__init__(what='array of names / [name, layer] pairs, or a table layer = [names] '
                              'or name = "layer"')

    def check(self, key, value):
        if is_array(value):
            out = []
            for i, c in enumerate(value):
                k = join_path(key, i)
                if isinstance(c, str):
                    out.append(V.name(k, c))
                elif is_array(c) and len(c) == 2:
                    out.append([V.name(k + "[0]", c[0]), V.name(k + "[1]", c[1])])
                elif is_table(c):
                    bad = set(c) - {"name", "layer"}
                    if bad:
                        b = sorted(map(str, bad))[0]
                        raise ConfigError(f"{join_path(k, b)}: unknown key {b!r}"
                                          + V.did_you_mean(b, ["name", "layer"]),
                                          key=join_path(k, b))
                    if "name" not in c:
                        raise ConfigError(f"{k}.name: missing", key=f"{k}.name")
                    nm = V.name(k + ".name", c["name"])
                    out.append([nm, V.name(k + ".layer", c["layer"])] if "layer" in c else nm)
                else:
                    raise ConfigError(f"{k}: expected a concept name or a [name, layer] pair "
                                      f"(got {c!r})", key=k)
            return out
        if is_table(value):
            vals = list(value.values())
            if all(isinstance(v, str) for v in vals):
                return {V.name(join_path(key, k), k): V.name(join_path(key, k), v)
                        for k, v in value.items()}
            if all(is_array(v) for v in vals):
                out = {}
                for lay, names in value.items():
                    out[lay] = [V.name(join_path(join_path(key, lay), i), n) for i, n in enumerate(names)]
                return out
            raise ConfigError(f"{key}: a table of concepts maps either layer = [names] or "
                              'name = "layer", not a mix', key=key)
        raise ConfigError(f"{key}: must be {self.describe()} (got {type(value).__name__})", key=key)

    def child(self, key, segment):
        return AnyValue()


class _RelationSpec(ListOf):
    """Relations: ``[source, target, type?, weight?]`` arrays or tables; normalised to
    full ``[source, target, type, weight]`` arrays."""

    def __init__(self):
        super().__init__(AnyValue())

    def describe(self):
        return "array of [source, target, type, weight] (type and weight optional)"

    def check(self, key, value):
        if not is_array(value):
            raise ConfigError(f"{key}: must be {self.describe()} (got {type(value).__name__})",
                              key=key)
        out = []
        for i, r in enumerate(value):
            k = join_path(key, i)
            if is_table(r):
                allowed = ["source", "target", "type", "weight"]
                for b in r:
                    if b not in allowed:
                        raise ConfigError(f"{join_path(k, b)}: unknown key {b!r}" + V.did_you_mean(str(b), allowed),
                                          key=join_path(k, b))
                for need in ("source", "target"):
                    if need not in r:
                        raise ConfigError(f"{k}.{need}: missing", key=f"{k}.{need}")
                r = [r["source"], r["target"], r.get("type", "association"), r.get("weight", 1.0)]
            elif not is_array(r) or not 2 <= len(r) <= 4:
                raise ConfigError(f"{k}: expected [source, target, type, weight] with type and "
                                  f"weight optional (got {r!r})", key=k)
            r = list(r) + ["association", 1.0][len(r) - 2:]
            checks = ((V.name, "source"), (V.name, "target"), (V.name, "type"),
                      (Real().check, "weight"))
            for j, (check, what) in enumerate(checks):
                try:   # the label names the column; the key is the element
                    r[j] = check(f"{k}[{j}] ({what})", r[j])
                except ConfigError as e:
                    raise e.within(key=f"{k}[{j}]") from None
            s, t, ty, w = r
            out.append([s, t, ty, w])
        return out


class _Sign(Int):
    def describe(self):
        return "+1 or -1"

    def check(self, key, value):
        if isinstance(value, bool) or value not in (1, -1):
            raise ConfigError(f"{key}: must be +1 or -1 (got {value!r})", key=key)
        return int(value)


_RELATION_TYPE = Struct({
    "sign": Field(_Sign(), None, "+1 excitatory, -1 inhibitory.",
                  default_doc="inherited, else +1"),
    "gain": Field(Real(min=0), None, "Multiplies every weight of the type.", unit="1",
                  default_doc="inherited, else 1"),
    "symmetric": Field(Bool(), None, "Activation flows both ways with the same weight.",
                       default_doc="inherited, else false"),
    "forward": Field(Real(min=0), None, "Factor of the source -> target direction.", unit="1",
                     default_doc="inherited, else 1"),
    "reverse": Field(Real(min=0), None, "Factor of the target -> source direction (directed "
                     "types; e.g. top-down feedback along is_a).", unit="1",
                     default_doc="inherited, else 0"),
}, doc="Define a relation type, or change a built-in one (association, contradicts, is_a, "
       "part_of, causes, favours, inhibits, link). Keys not given keep the built-in "
       "type's values.")


def _network_validate(d, key):
    srcs = [k for k in ("concepts", "file", "dataset") if k in d]
    if not srcs:
        if "relations" in d:
            raise ConfigError("network.concepts: missing; list the concepts (with their layers) "
                              "used by network.relations", key='network.concepts')
        raise ConfigError("network: no concepts; give concepts = [...] (with relations = [...]), "
                          'file = "edges.csv" or dataset = "name"', key='network')
    if len(srcs) > 1:
        raise ConfigError(f"network.{srcs[1]}: give only one of concepts, file and dataset "
                          f"(found {' and '.join(srcs)})", key=f"network.{srcs[1]}")
    src = srcs[0]
    if "relations" in d and src != "concepts":
        raise ConfigError(f"network.relations: only with inline concepts; the relations come "
                          f"from network.{src}", key='network.relations')
    if "concepts_file" in d and src != "file":
        raise ConfigError("network.concepts_file: only together with network.file",
                          key='network.concepts_file')
    if "format" in d and src != "file":
        raise ConfigError("network.format: only together with network.file", key='network.format')
    if "default_type" in d:
        if src != "file":
            raise ConfigError("network.default_type: only together with network.file (inline "
                              "relations name their type: [source, target, type, weight])",
                              key='network.default_type')
        known = sorted({*default_relation_types(), *(d.get("relation_types") or {})})
        if d["default_type"] not in known:
            raise ConfigError(f"network.default_type: unknown relation type "
                              f"{d['default_type']!r}; known types are {', '.join(known)}"
                              + V.did_you_mean(d["default_type"], known)
                              + "; define new ones in [network.relation_types.NAME]",
                              key='network.default_type')
    if "options" in d and src != "dataset":
        raise ConfigError("network.options: only together with network.dataset",
                          key='network.options')
    if "layers" in d and src == "dataset":
        raise ConfigError("network.layers: a dataset brings its own layers; remove network.layers",
                          key='network.layers')
    return d


_NETWORK = Struct({
    "concepts": Field(_ConceptSpec(), None,
                      'The concepts and their layers: `["sun", "sea"]` (no layers), '
                      '`[["sun", "image"], ["beach", "idea"]]`, or a table `image = ["sun", "sea"]`'
                      ' / `sun = "image"`.'),
    "relations": Field(_RelationSpec(), None,
                       'Typed, weighted relations `[source, target, type, weight]` (type defaults '
                       'to `association`, weight to 1); activation flows from source to target '
                       '(both ways for symmetric types).'),
    "layers": Field(ListOf(Str(name=True), min_len=1, unique=True), None,
                    "The abstraction ladder, lowest (most concrete) first. Without it, and "
                    "without a concept placed in a layer, the network has no layers: results, "
                    "summaries and plots show no layer labels.",
                    default_doc='no layers; concepts placed in a layer use '
                                '`["image", "idea", "structure", "goal"]`'),
    "relation_types": Field(MapOf(_RELATION_TYPE, key_doc="TYPE"), None,
                            "New relation types, or changes to built-in ones."),
    "file": Field(Str(), None, "A network file, relative to the config's folder: CSV/TSV edge "
                  "list with a header `source,target[,type][,weight]` (directed: rows without "
                  "a type are `link` relations, see `default_type`), GraphML, GEXF, or JSON "
                  "as written by `ConceptNetwork.to_dict()`. It must lie under the config's "
                  "folder (links resolved) unless `--allow-files FOLDER` allows another."),
    "concepts_file": Field(Str(), None, "CSV/TSV with `name[,layer]` listing the concepts of an "
                           "edge-list `file` (relative to the config's folder); without it "
                           "concepts are added as they appear, without layers."),
    "format": Field(Choice(lambda: sorted(NETWORK_READERS)), None,
                    "Format of `file`.", default_doc="from the file name"),
    "default_type": Field(Str(name=True), None,
                          "Relation type of the edges of `file` that have none (a CSV/TSV "
                          "row without a type, a GraphML/GEXF edge without a type attribute). "
                          "A built-in type or one defined in `relation_types`. Use "
                          '`"association"` to read an undirected edge list as symmetric '
                          "relations.",
                          default_doc='`"link"` (directed: a row `a,b` spreads from a to b only) '
                                      'for CSV/TSV edge lists, directed GraphML/GEXF files and '
                                      'spreadr matrices; `"association"` (symmetric) for '
                                      'undirected GraphML/GEXF files and JSON'),
    "dataset": Field(Str(name=True), None, "A registered dataset (`thoughtfield.datasets.names()`)."),
    "options": Field(MapOf(AnyValue(), key_doc="OPTION"), None,
                     "Keyword options passed to the dataset's loader; a folder or file option "
                     "(`path`, `file`, ...) is relative to the config's folder and must lie "
                     "under it, like `file`."),
    "name": Field(Str(), None, "A name for the network."),
    # edits applied to the network from any source, in this order
    "keep_types": Field(ListOf(Str(name=True), min_len=1, unique=True), None,
                        "Keep only the relations of these types (edit 1)."),
    "drop_types": Field(ListOf(Str(name=True), min_len=1, unique=True), None,
                        "Remove the relations of these types, e.g. `[\"contradicts\"]` for the "
                        "`spreadr` method (edit 2)."),
    "ego": Field(Struct({
        "concepts": Field(ListOf(Str(name=True), min_len=1), REQUIRED,
                          "The concepts at the centre."),
        "hops": Field(Int(min=0, max=10_000), 1, "How many relations away to go."),
        "types": Field(ListOf(Str(name=True), min_len=1), None,
                       "Relation types followed.", default_doc="all"),
        "direction": Field(Choice(["both", "out", "in"]), "both",
                           "Follow relations from source to target (`out`), back (`in`) or both."),
    }), None, "Keep only the ego network of some concepts: those within `hops` relations and "
              "the relations among them (edit 3)."),
    "normalize": Field(Bool(), None, "Divide every weight by sqrt(d_source d_target), d the summed "
                       "|weight| at a concept, so that hubs do not sum their neighbours into "
                       "runaway activation (`ConceptNetwork.normalized`; edit 4).",
                       default_doc="false"),
}, validate=_network_validate)


_API_HINT = "; define new ones with define_relation_type()"
_CONFIG_HINT = "; define new ones in [network.relation_types.NAME]"


def _network_error(e: ConfigError, prefix: str) -> ConfigError:
    """A network error from the Python API, keyed for the config."""
    e = e.under(prefix)
    if e.hint == _API_HINT:
        e = e.within()
        e.hint = _CONFIG_HINT
    return e


def _edit_network(net, d):
    """The ``[network]`` edits, in order: keep_types, drop_types, ego, normalize."""
    try:
        if "keep_types" in d:
            net = net.keep_types(d["keep_types"])
        if "drop_types" in d:
            net = net.drop_types(d["drop_types"])
    except ConfigError as e:
        raise _network_error(e, "network") from None
    if "ego" in d:
        ego = d["ego"]
        try:
            net = net.ego(ego["concepts"], ego["hops"], types=ego.get("types"),
                          direction=ego["direction"])
        except ConfigError as e:
            raise _network_error(e, "network.ego") from None
    if d.get("normalize"):
        net = net.normalized()
    return net


def _concept_entries(spec, default_layer):
    """Yield ``(path, name, layer)`` from a normalised concept spec."""
    if isinstance(spec, list):
        for i, c in enumerate(spec):
            if isinstance(c, list):
                yield f"network.concepts[{i}]", c[0], c[1]
            else:
                yield f"network.concepts[{i}]", c, default_layer
    else:
        for k, v in spec.items():
            if isinstance(v, list):
                for i, n in enumerate(v):
                    yield f"network.concepts.{k}[{i}]", n, k
            else:
                yield f"network.concepts.{k}", k, v


def _relation_type_objects(d):
    from .network import RelationType
    defaults = default_relation_types()
    out = []
    for name, fields in (d.get("relation_types") or {}).items():
        V.name(f"network.relation_types.{name}", name)
        base = defaults.get(name)
        kw = {} if base is None else base.to_dict()
        kw.update(fields)
        out.append(RelationType(name, **kw))
    return out


def _build_network(d, ctx) -> ConceptNetwork:
    if "dataset" in d:
        net = _load_dataset(d["dataset"], d.get("options") or {}, ctx)
        where = f"dataset {d['dataset']!r}"
    elif "file" in d:
        path = ctx.path(d["file"])
        fmt = d.get("format") or NETWORK_SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"network.file: cannot tell the format of {path.name!r} from its "
                              f"name; set network.format to one of {', '.join(sorted(NETWORK_READERS))}",
                              key='network.file')
        path = ctx.input_file("network.file", d["file"])
        try:
            net = NETWORK_READERS[fmt](path, d, ctx)
        except ConfigError as e:
            if not (e.key or "").startswith("network."):   # about the file, not a key
                e = e.at("network.file").within(key="network.file")
            raise e from None
        where = f"file {d['file']!r}"
    else:
        # without network.layers and without a layer named, the network has no layers
        layers = tuple(d.get("layers", DEFAULT_LAYERS))
        net = ConceptNetwork(layers=d.get("layers"), relation_types=_relation_type_objects(d),
                             name=d.get("name"))
        where = None
        first: dict[str, str] = {}
        for path, name, layer in _concept_entries(d["concepts"], None):
            if layer is not None and layer not in layers:
                raise ConfigError(f"{path}: unknown layer {layer!r}; the layers are "
                                  f"{', '.join(layers)}" + V.did_you_mean(layer, layers),
                                  key=path, hint=None if "layers" in d else
                                  "; declare others in network.layers")
            if name in first:
                raise ConfigError(f"{path}: duplicate concept {name!r} (already listed as "
                                  f"{first[name]}); every concept name must be unique", key=path)
            first[name] = path
            net.add_concept(name, layer)
        try:
            net.add_relations(d.get("relations", []))
        except ConfigError as e:
            raise _network_error(e, "network") from None
        if net.n == 0:
            raise ConfigError("network.concepts: the network has no concepts; list at least one",
                              key='network.concepts')
    if where is not None:
        if not isinstance(net, ConceptNetwork):
            raise ConfigError(f"network: {where} did not produce a ConceptNetwork "
                              f"(got {type(net).__name__})", key='network')
        for rt in _relation_type_objects(d):
            if rt.name in net.relation_types:
                net.set_relation_type(rt.name, **rt.to_dict())
            else:
                net.define_relation_type(rt.name, **rt.to_dict())
        if d.get("name"):
            net.name = d["name"]
        if net.n == 0:
            raise ConfigError(f"network: the network from {where} has no concepts", key='network')
    return _edit_network(net, d)


_PATH_OPTION = re.compile(r"^(?:path|file|folder|dir|directory)$|_(?:path|file|folder|dir)$")


def _load_dataset(name, options, ctx=None):
    from . import datasets
    loader, _ = datasets._lookup(name)
    if ctx is not None:
        # options naming files or folders (wordnet's ``path``) follow the rules of
        # network.file: relative to the config's folder, and only where it may read
        options = dict(options)
        for k, v in options.items():
            if _PATH_OPTION.search(str(k)) and isinstance(v, str):
                options[k] = str(ctx.allowed(f"network.options.{k}", v,
                                             "folder" if "file" not in k else "file"))
    try:
        sig = inspect.signature(loader)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        allowed = [p.name for p in sig.parameters.values()
                   if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for k in options:
            if k not in allowed:
                raise ConfigError(f"network.options.{k}: unknown option {k!r} of dataset {name!r}"
                                  + V.did_you_mean(k, allowed)
                                  + (f"; its options are {', '.join(allowed)}" if allowed else
                                     "; it takes no options"), key=f"network.options.{k}")
    try:
        return datasets.load(name, **options)
    except ConfigError as e:
        raise e.under("network.options") from None


register_section(Section(
    "network", _NETWORK, required=True,
    doc="The concept network, from exactly one source: inline `concepts` (+ `relations`), "
        "a `file`, or a registered `dataset`. `relation_types` and `name` apply to every "
        "source; `layers` to inline concepts and files.",
    hint='add a [network] table with concepts = [...] and relations = [...], file = "..." '
         'or dataset = "..."',
    build=_build_network,
    apply=lambda net, kw, ctx: kw.update(network=net),
))


# ===================================================================== [model]
_MODEL = Model.struct(doc='Leaky-rate dynamics `tau da/dt = -a + f(gain * (u - threshold)) + noise`, '
       '`u = W a + input + bias` (or, with `form = "potential"`, `tau du/dt = -u + W a + '
       'input + noise`, `a = f(gain * (u + bias - threshold))`: see '
       '[potential.md](potential.md)). Per-concept parameters take a number, an array with one '
       'value per concept, or a table of concept names, `"@layer"` keys (every concept of the '
       'layer) and `"*"` (the rest): `tau = { "*" = 1.0, "@goal" = 4.0, sun = 0.5 }`.')

def _check_model(model, ctx):
    for k in PER_CONCEPT:
        if hasattr(model, k):
            try:
                model.resolve(k, ctx.network)
            except ConfigError as e:
                raise e.under("model") from None


def _build_model(d, ctx):
    try:
        return Model(**(d or {}))
    except ConfigError as e:
        raise e.under("model") from None


register_section(Section(
    "model", _MODEL, doc=_MODEL.doc, fill=True, build=_build_model, check=_check_model,
    apply=lambda m, kw, ctx: kw.update(model=m)))


# ===================================================================== [[stimuli]]
_START_RUN_ONLY = ("concept", "amplitude", "value", "member")


def _stimulus_validate(d, key):
    if "file" in d:
        for k in _START_RUN_ONLY:
            if k in d:
                raise ConfigError(f"{key}.{k}: not together with {key}.file (the start_run "
                                  "table gives node, activation and time on every row); use a "
                                  "separate [[stimuli]] table", key=f"{key}.{k}")
        if d["kind"] != "pulse" or d["start"] != 0 or d["stop"] != math.inf:
            k = "kind" if d["kind"] != "pulse" else ("start" if d["start"] != 0 else "stop")
            raise ConfigError(f"{key}.{k}: not together with {key}.file (every row of a "
                              "start_run table is a pulse at its step `time`); remove it",
                              key=f"{key}.{k}")
        return {"file": d["file"]}
    if "concept" not in d:
        raise ConfigError(f"{key}.concept: missing; name the concept to stimulate (or give "
                          'file = "start_run.csv", a table of node,activation[,time])',
                          key=f"{key}.concept")
    kind = d["kind"]
    if not d["stop"] > d["start"]:
        raise ConfigError(f"{key}.stop: must be > start ({d['start']:g}) (got {d['stop']:g})",
                          key=f"{key}.stop")
    wrong, right = ("value", "amplitude") if kind == "pulse" else ("amplitude", "value")
    if wrong in d:
        raise ConfigError(f"{key}.{wrong}: not a key of a {kind} (use {right}"
                          + (", or kind = \"clamp\")" if kind == "pulse" else ", or kind = \"pulse\")"),
                          key=f"{key}.{wrong}")
    d.setdefault(right, 1.0)
    order = ["kind", "concept", "start", "stop", right, "member"]
    return {k: d[k] for k in order if k in d}


_STIMULUS = Struct({
    "kind": Field(Choice(["pulse", "clamp"]), "pulse",
                  "`pulse`: add `amplitude` to the concept's input; `clamp`: hold its activation "
                  "at `value` (in the potential form: hold the output a at `value` and freeze "
                  "the potential u, which resumes from its frozen value on release)."),
    **{k: f for k, f in Pulse.struct().fields.items() if k != "member"},
    "value": Clamp.struct().fields["value"],
    "member": Pulse.struct().fields["member"],
    "file": Field(Str(), None, "Instead of the keys above: a spreadr `start_run` table (CSV/TSV "
                  "with a header `node,activation[,time]`, relative to the config's folder): "
                  "each row adds `activation` to `node` at step `time` (default 0), i.e. a "
                  "pulse from `time` to `time + 1`. The table of spreadr's `start_run` "
                  "argument, for `method = \"spreadr\"`."),
}, validate=_stimulus_validate)


def _read_start_run(key, d, ctx):
    from . import io
    path = ctx.input_file(key, d["file"])
    try:
        return io.read_start_run(path)
    except ConfigError as e:   # about the file's contents: located at the key naming it
        raise e.at(key).within(key=key) from None


class _Stimuli(tuple):
    """The built stimuli, with ``labels``: where each one comes from, for errors
    (``stimuli[2]``, or ``stimuli[0].file (start.csv row 3)`` for a start_run table), and
    ``keys``: the config key of each (``stimuli[0].file`` for a row of that table)."""
    labels: tuple = ()
    keys: tuple = ()


def rekeyed(e: ConfigError, labels, keys) -> ConfigError:
    """``e`` with the config key of the entry whose label its key is, or is under: an error
    of the row ``stimuli[0].file (start.csv row 2)`` is about the key ``stimuli[0].file``.
    ``labels`` describe entries in messages, ``keys`` are their config keys."""
    for label, key in zip(labels, keys):
        if label != key and e.key is not None \
                and (e.key == label or e.key.startswith((label + ".", label + "["))):
            return e.within(key=key)
    return e


def _build_stimuli(items, ctx):
    out, labels, keys = [], [], []
    for i, d in enumerate(items or []):
        if "file" in d:
            rows = _read_start_run(f"stimuli[{i}].file", d, ctx)
            out.extend(rows)
            name = Path(d["file"]).name
            labels += [f"stimuli[{i}].file ({name} row {r})" for r in range(1, len(rows) + 1)]
            keys += [f"stimuli[{i}].file"] * len(rows)
            continue
        labels.append(f"stimuli[{i}]")
        keys.append(f"stimuli[{i}]")
        cls = Pulse if d["kind"] == "pulse" else Clamp
        kw = {k: v for k, v in d.items() if k != "kind"}
        out.append(cls(**kw))
    res = _Stimuli(out)
    res.labels = tuple(labels)
    res.keys = tuple(keys)
    return res


def _check_stimuli(stims, ctx):
    if not stims:
        return
    from .build import _segments
    run = ctx["run"]
    last = run.t_end + 1 if _discrete(ctx["solver"]) else run.t_end   # steps t0..t_end
    labels = getattr(stims, "labels", ()) or [f"stimuli[{k}]" for k in range(len(stims))]
    try:
        _segments(ctx.network, list(zip(labels, stims)), run.t0, last, run.members,
                  steps=_discrete(ctx["solver"]))
    except ConfigError as e:
        raise rekeyed(e, labels, getattr(stims, "keys", ())) from None


register_section(Section(
    "stimuli", _STIMULUS, array=True,
    doc="External input, one `[[stimuli]]` table per pulse or clamp. Inputs are piecewise "
        "constant; the solvers stop exactly at every onset and offset.",
    build=_build_stimuli, check=_check_stimuli,
    apply=lambda s, kw, ctx: kw.update(stimuli=s)))


# ===================================================================== [solver]
_SOLVER = Solver.struct(validate=lambda d, key: _solver_validate(d, key))
# the discrete spreadr mode (method = "spreadr"; thoughtfield.Spreadr)
for _name, _field in SpreadrSettings.struct().fields.items():
    if _name not in _SOLVER.fields:
        _SOLVER.add_field(_name, _field)

_SPREADR_KEYS = tuple(k for k in SpreadrSettings.struct().fields if k not in params(Solver))


def _discrete(solver) -> bool:
    return bool(getattr(solver, "discrete", False))


def _solver_validate(d, key):
    """The discrete method takes the spreadr keys (and max_steps); the continuous ones the
    others.  Keys left at their defaults do not count."""
    method = d.get("method")
    if method in DISCRETE_METHODS:
        for k, f in _SOLVER.fields.items():
            if k != "method" and k not in _SPREADR_KEYS and k in d and d[k] != f.default:
                raise ConfigError(f"solver.{k}: not used by method = {method!r} (it counts "
                                  "steps); remove it", key=f"solver.{k}")
        out = {k: v for k, v in d.items() if k == "method" or k in _SPREADR_KEYS}
        if d.get("max_steps", _SOLVER.fields["max_steps"].default) != \
                _SOLVER.fields["max_steps"].default:
            out["max_steps"] = d["max_steps"]
        return out
    for k in _SPREADR_KEYS:
        if k in d:
            raise ConfigError(f"solver.{k}: only with method = 'spreadr' (got method = "
                              f"{method!r})", key=f"solver.{k}")
    return d


def _build_solver(d, ctx):
    try:
        if (d or {}).get("method") in DISCRETE_METHODS:
            from .discrete import Spreadr
            return Spreadr.from_dict(d)
        return Solver(**(d or {}))
    except ConfigError as e:
        raise e.under("solver") from None


def _check_solver(solver, ctx):
    run = ctx["run"]
    if _discrete(solver):
        solver.check(ctx.network, ctx["model"], run.members)
        return
    from .build import build_method
    build_method(solver, ctx["model"], ctx.network, run.t0, run.t_end)


register_section(Section(
    "solver", _SOLVER, doc="How to integrate. Every method stops exactly at input changes.", fill=True,
    build=_build_solver, check=_check_solver, apply=lambda s, kw, ctx: kw.update(solver=s)))


# ===================================================================== [run]
@described("run")
class RunSettings:
    """The checked ``[run]`` section."""
    t_end: float = param(Real(), REQUIRED, "End of the simulated time span (the number of "
                         "steps for method `spreadr`).", unit=TIME,
                         hint="set the end of the simulated time span, e.g. t_end = 20.0")
    t0: float = param(Real(), 0.0, "Start time.", unit=TIME)
    save_dt: float | None = param(Real(min=0, min_inclusive=False), None, "Save every save_dt.",
                                  unit=TIME, default_doc="(t_end - t0) / 200")
    save_at: tuple | None = param(ListOf(Real(), min_len=1), None, "Save at these times (t0 and "
                                  "t_end are always saved).", unit=TIME,
                                  check=lambda key, v: tuple(ListOf(Real(), min_len=1).check(key, v)))
    save_every: int | None = param(Int(min=1, max=2**62), None, "Save every k-th step "
                                   "(fixed-step methods).")
    members: int = param(Int(min=1, max=10_000_000), 1, "Ensemble size: members differ by their "
                         "noise, per-member stimuli and initial states.")
    threads: int | None = param(Int(min=1, max=4096), None, "Threads for the right-hand side "
                                "(results are the same for any value). Automatic: numba's thread "
                                "count from 1e7 edges x members on when the run is estimated to "
                                "repay compiling the threaded kernels (on first use in each "
                                "process, tens of seconds), else 1; set it to ask for threads "
                                "anyway.", default_doc="automatic")
    #: fields that later features added to [run] (read by their own hooks)
    extra: Mapping = field(default_factory=lambda: MappingProxyType({}))

    @property
    def saveat(self) -> SaveAt | None:
        """The :class:`~thoughtfield.SaveAt` of the ``save_dt`` / ``save_at`` /
        ``save_every`` keys (``None`` when none is set)."""
        return saveat_from_keywords(self.save_dt, self.save_at, self.save_every, where="run.")

    def simulation_kwargs(self) -> dict:
        kw = {"t_end": self.t_end, "t0": self.t0, "members": self.members, "saveat": self.saveat}
        if self.threads is not None:
            kw["threads"] = self.threads
        return kw


#: Most time points a run may save (a guard against typos such as save_dt = 1e-9).
MAX_SAVE_POINTS = 100_000_000


def _run_validate(d, key):
    if not d["t_end"] > d["t0"]:
        raise ConfigError(f"run.t_end: must be > t0 ({d['t0']:g}) (got {d['t_end']:g})",
                          key='run.t_end')
    given = [k for k in ("save_dt", "save_at", "save_every") if k in d]
    if len(given) > 1:
        raise ConfigError(f"run.{given[1]}: give only one of save_dt, save_at and save_every",
                          key=f"run.{given[1]}")
    if "save_dt" in d and (d["t_end"] - d["t0"]) / d["save_dt"] > MAX_SAVE_POINTS:
        raise ConfigError(f"run.save_dt: {d['save_dt']:g} would save "
                          f"{(d['t_end'] - d['t0']) / d['save_dt']:.3g} time points (limit "
                          f"{MAX_SAVE_POINTS:.0e}); use a larger save_dt", key='run.save_dt')
    return d


_RUN = RunSettings.struct(validate=_run_validate)


def _split_extra(cls, d):
    known = set(cls.__dataclass_fields__) - {"extra"}
    return ({k: v for k, v in d.items() if k in known},
            MappingProxyType({k: v for k, v in d.items() if k not in known}))


def _build_run(d, ctx):
    d, extra = _split_extra(RunSettings, d)
    return RunSettings(**d, extra=extra)


def _check_run(run, ctx):
    from .build import save_times
    solver = ctx["solver"]
    if _discrete(solver):
        V.integer("run.t0", run.t0)
        V.integer("run.t_end", run.t_end)
        if run.save_dt is not None:
            raise ConfigError("run.save_dt: the 'spreadr' method counts steps; use save_every "
                              "(every k-th step) or save_at (a list of steps)", key='run.save_dt')
        for i, t in enumerate(run.save_at or ()):
            V.integer(f"run.save_at[{i}]", t)
        return
    dt = None
    if not solver.adaptive:
        from .build import build_method
        dt = float(build_method(solver, ctx["model"], ctx.network, run.t0, run.t_end).opt_f[0])
    if run.save_every is not None and dt is not None:
        n = (run.t_end - run.t0) / (run.save_every * dt)
        if n > MAX_SAVE_POINTS:
            raise ConfigError(f"run.save_every: would save {n:.3g} time points (limit "
                              f"{MAX_SAVE_POINTS:.0e}); use a larger save_every",
                              key='run.save_every')
    # what save_times checks against the run, in the config's keys
    bad = [t for t in run.saveat.times if not run.t0 <= t <= run.t_end] \
        if run.saveat is not None and run.saveat.times is not None else []
    if bad:
        raise ConfigError(f"run.save_at: time {bad[0]:g} is outside the run [{run.t0:g}, "
                          f"{run.t_end:g}]", key="run.save_at")
    if run.save_every is not None and dt is None:
        raise ConfigError("run.save_every: needs a fixed-step solver with dt; use save_dt for "
                          f"{solver.method}", key="run.save_every")
    # (too many save_dt points are refused by _run_validate, save_every ones above)
    save_times(run.t0, run.t_end, run.saveat, dt=dt)   # passes after the checks above


register_section(Section(
    "run", _RUN, required=True, doc="The time span, what to save, and the ensemble.",
    hint="add a [run] table with t_end = ... (the simulated time span)",
    build=_build_run, check=_check_run,
    apply=lambda r, kw, ctx: kw.update(r.simulation_kwargs())))


# ===================================================================== [output]
def _plot_kinds():
    from .plots import plot_kinds
    return list(plot_kinds()) + ["animation"]


@described("output")
class OutputSettings:
    """The checked ``[output]`` section."""
    path: str | None = param(Str(), None, "Result file, relative to the current directory (the "
                             "command line's --out wins).", default_doc="CONFIG_NAME.nc")
    format: str = param(Choice(["netcdf"]), "netcdf", "Result file format (NetCDF4 via "
                        "h5netcdf).")
    plots: tuple = param(ListOf(Choice(_plot_kinds), unique=True),
                         ("trajectories", "heatmap", "network"),
                         "Figures written by `thoughtfield run --plot`, next to the result as "
                         "RESULT_KIND.png (`animation`: RESULT_animation.gif, the activation "
                         "spreading over the network, at most 60 frames).",
                         # checked by [output]'s table; not here, which would import the
                         # plotting registry (matplotlib) for every run
                         check=lambda key, v: tuple(v))
    plot_format: str = param(Choice(["png", "svg", "pdf"]), "png", "Figure file format.")
    dpi: int = param(Int(min=20, max=1200), 150, "Figure resolution (raster formats).",
                     unit="1/inch")
    layer_summaries: bool = param(Bool(), False, "Also store `layer_mean(time, level)` and "
                                  "`layer_max(time, level)` (mean and largest activation per "
                                  "layer) in the result file. They are derived from "
                                  "`activation`, so by default they are left out and computed "
                                  "when needed (`thoughtfield.layer_summaries(ds)`, the "
                                  "`layer_summary` plot).")
    #: fields that later features added to [output] (read by their own hooks)
    extra: Mapping = field(default_factory=lambda: MappingProxyType({}))


_OUTPUT = OutputSettings.struct()


def _build_output(d, ctx):
    d, extra = _split_extra(OutputSettings, d or {})
    return OutputSettings(**d, extra=extra)


register_section(Section(
    "output", _OUTPUT, doc="Where results and figures go.", fill=True, build=_build_output))


# ===================================================================== the config object
def _freeze(v):
    if isinstance(v, Mapping):
        return MappingProxyType({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    return v


def _thaw(v):
    if isinstance(v, Mapping):
        return {k: _thaw(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return [_thaw(x) for x in v]
    return v


class SimulationConfig:
    """A validated, frozen simulation config.

    Build it with :func:`load_config`.  ``data`` is the normalised config (defaults filled
    in); the attributes ``network``, ``model``, ``stimuli``, ``solver``, ``run`` and
    ``output`` hold the built objects (``config.section_object(name)`` or attribute access
    for sections registered later).  Treat the network as read-only.
    """

    __slots__ = ("_data", "_objects", "text", "path", "base_dir", "overrides", "_lines",
                 "allow_files")

    def __init__(self, data, objects, *, text, path, base_dir, overrides, lines,
                 allow_files=None):
        object.__setattr__(self, "_data", _freeze(data))
        object.__setattr__(self, "_objects", dict(objects))
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "base_dir", base_dir)
        object.__setattr__(self, "overrides", tuple(overrides))
        object.__setattr__(self, "_lines", lines)
        object.__setattr__(self, "allow_files", allow_files)

    def __setattr__(self, name, value):
        raise AttributeError("SimulationConfig is frozen; use with_overrides() for a changed copy")

    def __delattr__(self, name):
        raise AttributeError("SimulationConfig is frozen")

    def __getattr__(self, name):
        objects = object.__getattribute__(self, "_objects")
        if name in objects:
            return objects[name]
        raise AttributeError(f"SimulationConfig has no attribute or section {name!r}"
                             + V.did_you_mean(name, list(objects) + ["data", "seed", "title"]))

    # data
    @property
    def data(self) -> Mapping:
        """The normalised config as a read-only mapping."""
        return self._data

    def to_dict(self) -> dict:
        """The normalised config as plain, TOML-ready data (a fresh copy)."""
        return _thaw(self._data)

    def to_toml(self) -> str:
        """The normalised config as TOML text (``load_config`` of it gives an equal config)."""
        return _toml.dumps(self.to_dict())

    def section_object(self, name: str):
        """The object built for section ``name`` (``None`` for an absent optional section)."""
        if name not in self._objects:
            raise ConfigError(f"unknown config section {name!r}" + V.did_you_mean(name, self._objects))
        return self._objects[name]

    @property
    def seed(self) -> int | None:
        return self._data.get("seed")

    @property
    def title(self) -> str | None:
        return self._data.get("title")

    @property
    def name(self) -> str:
        """A short name: the config file's stem, else the title, else ``"config"``."""
        if self.path is not None:
            return Path(self.path).stem
        return self.title or "config"

    def __eq__(self, other):
        if not isinstance(other, SimulationConfig):
            return NotImplemented
        return self.to_dict() == other.to_dict() and self.network == other.network

    __hash__ = None

    def __repr__(self):
        src = f" from {self.path}" if self.path else ""
        net = self._objects.get("network")
        return f"<SimulationConfig{src}: {net!r}, t_end = {self.run.t_end:g}>"

    # derived
    def with_overrides(self, overrides, *, keep_network: bool = False) -> "SimulationConfig":
        """A new config with ``overrides`` (``{"solver.rtol": 1e-8}`` or ``["run.t_end=5"]``)
        applied and everything validated again.

        ``keep_network=True`` reuses this config's network object (instead of building
        or reading it again) when the overrides leave ``[network]`` unchanged; sweeps use
        it so a large network is loaded once."""
        reuse = {"network": (self._data.get("network"), self.network)} if keep_network else None
        return _load_data(self.to_dict(), text=self.text, path=self.path, base_dir=self.base_dir,
                          overrides=overrides, previous=self.overrides, lines=self._lines,
                          reuse=reuse, allow_files=self.allow_files)

    def simulation_kwargs(self) -> dict:
        """Keyword arguments of :class:`~thoughtfield.Simulation` for this config."""
        kwargs: dict = {}
        ctx = ConfigContext(self.to_dict(), self.base_dir, self.path or "<config>",
                            self.allow_files)
        ctx.objects = dict(self._objects)
        for sec in sections():
            if sec.apply is not None and self._objects.get(sec.name) is not None:
                sec.apply(self._objects[sec.name], kwargs, ctx)
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    def simulation(self, **extra):
        """A prepared :class:`~thoughtfield.Simulation` (a
        :class:`~thoughtfield.DiscreteSimulation` for the spreadr mode; compiled kernels
        run only on ``.run()``/``.advance()``)."""
        from .simulate import make_simulation
        kwargs = self.simulation_kwargs()
        kwargs.update(extra)
        return make_simulation(**kwargs)

    def annotate(self, ds):
        """Add the config's provenance to a result's attributes (in place; returns ``ds``)."""
        attrs = {
            "config": self.text if self.text is not None else self.to_toml(),
            "config_resolved": self.to_toml(),
            "config_path": os.path.abspath(self.path) if self.path else None,
            "config_overrides": json.dumps(list(self.overrides)) if self.overrides else None,
        }
        if self.output.layer_summaries and "activation" in ds:
            from .readouts import add_layer_summaries
            add_layer_summaries(ds)
        for sec in sections():   # readouts of the finished run ([memory])
            obj = self._objects.get(sec.name)
            if sec.result is not None and obj is not None:
                sec.result(obj, ds, self)
        if self.title:
            attrs["title"] = self.title
        if self._data.get("description"):
            attrs["description"] = self._data["description"]
        ds.attrs.update({k: v for k, v in attrs.items() if v is not None})
        return ds

    def runner_section(self) -> str | None:
        """The name of the section whose runner takes over the run (None: one
        :class:`~thoughtfield.Simulation`)."""
        for sec in sections():
            if sec.runner is not None and self._objects.get(sec.name) is not None:
                return sec.name
        return None

    def run_simulation(self, progress=False, *, checkpoint=None, checkpoint_every: float = 60.0,
                       resume: bool = False):
        """Run the simulation and return the annotated result Dataset.

        A registered section with a ``runner`` (e.g. a trial protocol) takes over the run
        when present; otherwise one :class:`~thoughtfield.Simulation` runs, checkpointed
        to ``checkpoint`` when given (see :meth:`Simulation.run`).  With ``resume`` and a
        config without a seed, the seed recorded in the checkpoint is used."""
        name = self.runner_section()
        if name is not None:
            if resume:
                raise ConfigError(f"{name}: runs driven by [{name}] cannot be resumed from a "
                                  "checkpoint; run them again without --resume", key=name)
            return self.annotate(_registry()[name].runner(self._objects[name], self, progress))
        extra = {}
        if resume and checkpoint is not None and self.seed is None and os.path.exists(checkpoint):
            from .checkpoint import read_info
            extra["seed"] = read_info(checkpoint)["seed"]
        sim = self.simulation(**extra)
        return self.annotate(sim.run(progress=progress, checkpoint=checkpoint,
                                     checkpoint_every=checkpoint_every, resume=resume))


# ===================================================================== loading
def _source(source, base_dir):
    """``(raw_dict, text, path, base_dir)`` from a path, TOML text or a mapping."""
    if isinstance(source, Mapping):
        _inputs.check_depth(source, "config")
        raw = copy.deepcopy(dict(source))
        return raw, None, None, Path(base_dir) if base_dir else Path.cwd()
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        p = Path(os.fspath(source))
        try:
            exists = p.exists()
        except (OSError, ValueError) as e:
            raise ConfigError(f"{V.show(str(p), 200)}: not a usable config path "
                              f"({getattr(e, 'strerror', None) or e})") from None
        if not exists:
            raise ConfigError(f"{p}: config file not found")
        if p.is_dir():
            raise ConfigError(f"{p}: is a folder, not a config file")
        data = _inputs.read_bytes(p, "config")   # a regular file, within the size limit
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{p}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
        if "\r" in text:   # universal newlines, as text-mode reading did
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        raw = _toml.loads(text, str(p))
        return raw, text, str(p), Path(base_dir) if base_dir else p.resolve().parent
    if isinstance(source, str):
        return _toml.loads(source), source, None, Path(base_dir) if base_dir else Path.cwd()
    raise ConfigError(f"config: expected a path, TOML text or a dict (got {type(source).__name__})")


def _looks_like_path(s: str) -> bool:
    if not s.strip() or s.lstrip().startswith("#"):
        return False   # empty text or a comment is config text, not the current folder
    if "\n" in s or "=" in s or "[" in s:
        return os.path.exists(s)
    return True


def parse_override(item) -> tuple[str, object, str]:
    """``"solver.rtol=1e-8"`` -> ``("solver.rtol", 1e-8, "--set solver.rtol=1e-8")``."""
    shown = _clipped(item)
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(f"--set {shown}: expected KEY=VALUE, e.g. --set run.t_end=5")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--set {shown}: the key before '=' is empty")
    try:
        value = _toml.parse_value(text.strip())
    except ConfigError as e:
        raise e.at(f"--set {shown}") from None
    return key, value, f"--set {shown}"


def _clipped(item) -> str:
    """An override as shown in messages: at most 80 characters, control characters escaped."""
    s = _inputs.printable(str(item))
    return s if len(s) <= 80 else s[:60] + "..." + s[-17:]


def _normalise_overrides(overrides) -> list[tuple[str, object, str]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [(str(k), v, f"override {k}") for k, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    return [parse_override(o) for o in overrides]


class OverrideKeyError(ConfigError):
    """An override (``--set``, a sweep or fit parameter, a data column) names a key path
    that the config's schema or data does not have (its value was not looked at)."""


def _override_kinds(parts, label):
    """Check an override path against the schema; return the kind at each step."""
    head = parts[0]
    if head in ROOT.fields:
        kind = ROOT.fields[head].kind
    elif head in _registry():
        kind = _registry()[head].kind
    else:
        known = list(ROOT.fields) + list(_registry())
        raise OverrideKeyError(f"unknown key {head!r}" + V.did_you_mean(head, known)
                               + f"; the top-level keys are {', '.join(known)}", where=label,
                               key=label)   # a sweep's key is located at its line
    kinds = [kind]
    key = head
    for seg in parts[1:]:
        try:
            kind = kind.child(key, seg)
        except ConfigError as e:
            raise e.at(label, cls=OverrideKeyError).within(key=label) from None
        key = join_path(key, seg)
        kinds.append(kind)
    return kinds


def _accepts_table(kind) -> bool:
    return isinstance(kind, OneOf) and any(isinstance(k, MapOf) for _, k in kind.alternatives)


def _apply_override(raw: dict, path: str, value, label: str) -> None:
    """Set ``path`` (``a.b[2].c``) in the raw config to ``value``, creating missing tables;
    a per-concept number becomes ``{ "*" = number }`` when one concept is set."""
    parts = _toml.split_path(path)
    if not parts or not isinstance(parts[0], str):
        raise OverrideKeyError(f"bad key path {path!r}", where=label)
    kinds = _override_kinds(parts, label)
    node = raw
    key = ""
    for j, seg in enumerate(parts):
        here = join_path(key, seg)
        if isinstance(seg, int):
            if not isinstance(node, list):
                raise OverrideKeyError(f"{key}: is {_toml.format_value(node)}, not an array",
                                       key=key, where=label)
            if seg >= len(node):
                raise OverrideKeyError(f"{here}: index {seg} out of range ({len(node)} "
                                       "element(s))", key=here, where=label)
        elif not isinstance(node, dict):
            raise OverrideKeyError(f"{key}: is {_toml.format_value(node)}, not a table",
                                   key=key, where=label)
        if j == len(parts) - 1:
            node[seg] = value
            return
        nxt = parts[j + 1]
        if isinstance(seg, str) and seg not in node:
            if isinstance(nxt, int):
                raise OverrideKeyError(f"{here}: not set in the config, so it has no element "
                                       f"[{nxt}]", key=here, where=label)
            node[seg] = {}
        child = node[seg]
        if isinstance(nxt, str) and not isinstance(child, dict) and _accepts_table(kinds[j]) \
                and isinstance(child, (int, float)) and not isinstance(child, bool):
            child = node[seg] = {"*": child}
        node = child
        key = here


def _located(e: ConfigError, lines, source, overridden: dict[str, str]) -> ConfigError:
    """``e`` located in the config: at the ``--set`` override or the line of its key."""
    key = e.key   # every error of a config key carries it (key=), never parsed from text
    where = None
    line = None
    if key:
        for p, label in overridden.items():
            if key == p or key.startswith((p + ".", p + "[")):
                where = label
                break
        if where is None and lines:
            line = _toml.line_of(lines, key)
            if line is not None:
                where = f"{source}:{line}"
        if where is None and source != "<config>":
            where = source
    elif source != "<config>":
        where = source
    new = e.within(source=source)
    if where:   # the config's location, outside any the error already has
        new.locations = (where, *e.locations)
    new.line = line
    return new


def _check_root(raw) -> dict:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config: must be a table of sections (got {type(raw).__name__})")
    for k in raw:
        if k not in ROOT.fields and k not in _registry():
            known = list(ROOT.fields) + list(_registry())
            what = "section" if isinstance(raw[k], (Mapping, list)) else "key"
            raise ConfigError(f"{_toml.key_text(k)}: unknown {what} {str(k)!r}"
                              + V.did_you_mean(str(k), known)
                              + f"; the top-level keys are {', '.join(known)}",
                              key=_toml.key_text(k))
    data = ROOT.check("", {k: v for k, v in raw.items() if k in ROOT.fields})
    for name, sec in _registry().items():
        if name in raw:
            # a top-level key written after a [section] header lands inside the section
            v = raw[name]
            if isinstance(v, Mapping):
                for k in v:
                    if k in ROOT.fields and k not in sec.struct.fields:
                        raise ConfigError(f"{name}.{k}: {k!r} is a top-level key; move it above "
                                          f"the first [section] header", key=f"{name}.{k}")
            data[name] = sec.check_data(v)
        elif sec.required:
            raise ConfigError(f"{name}: missing section [{name}]" + (f"; {sec.hint}" if sec.hint else ""),
                              key=name)
        elif sec.fill:
            data[name] = sec.check_data([] if sec.array else {})
    return data


def _load_data(raw, *, text, path, base_dir, overrides=None, previous=(), lines=None, reuse=None,
               allow_files=None):
    """Check ``raw`` and build every section.  ``reuse`` maps section names to
    ``(checked data, object)``: a section whose checked data equals that data takes the
    object instead of being built again (e.g. a large network shared by sweep points)."""
    source = path or "<config>"
    if lines is None:
        lines = _toml.key_lines(text) if text else {}
    ovs = _normalise_overrides(overrides)
    overridden = {}
    if ovs:
        raw = copy.deepcopy(raw)
        for p, v, label in ovs:
            _apply_override(raw, p, v, label)
            overridden[p] = label
    try:
        data = _check_root(raw)
        ctx = ConfigContext(data, Path(base_dir), source, allow_files)
        for name, sec in _registry().items():
            value = data.get(name)
            if reuse and name in reuse and _freeze(value) == _freeze(reuse[name][0]):
                ctx.objects[name] = reuse[name][1]
                continue
            ctx.objects[name] = sec.build(value, ctx) if sec.build is not None else value
        for name, sec in _registry().items():
            if sec.check is not None and ctx.objects.get(name) is not None:
                sec.check(ctx.objects[name], ctx)
    except ConfigError as e:
        raise _located(e, lines, source, overridden) from None
    labels = list(previous) + [label[len("--set "):] if label.startswith("--set ") else
                               f"{p}={_toml.format_value(v)}" for p, v, label in ovs]
    return SimulationConfig(data, ctx.objects, text=text, path=path, base_dir=Path(base_dir),
                            overrides=labels, lines=lines, allow_files=allow_files)


def load_config(source, *, overrides=None, base_dir=None, allow_files=None) -> SimulationConfig:
    """Load and validate a simulation config.

    Parameters
    ----------
    source : path, str or mapping
        A TOML file path, TOML text, a dict with the same structure, or a
        :class:`SimulationConfig` (then only ``overrides`` apply).
    overrides : mapping or list of str, optional
        Changes by dotted key path, applied before validation: ``{"solver.rtol": 1e-8}``
        or ``["solver.rtol=1e-8", "model.tau.sun=0.5"]`` (values are TOML values; bare
        words are strings).
    base_dir : path, optional
        Folder that relative paths in the config (``network.file``) are resolved against
        (default: the config file's folder, else the current directory).
    allow_files : True, path or list of paths, optional
        Folders besides ``base_dir`` that the config may read files from (``True``: any
        file).  By default a config reads only files under its own folder, symbolic links
        resolved, since configs may come from strangers; the default is taken from the
        environment variable ``THOUGHTFIELD_ALLOW_FILES`` (folders separated by
        ``os.pathsep``, or ``*``).

    Raises
    ------
    ConfigError
        The first problem found, as ``FILE:LINE: key.path: what is wrong (got ...)``.
    """
    if isinstance(source, SimulationConfig):
        return source.with_overrides(overrides) if overrides else source
    allowed_roots(allow_files)   # a bad allow_files is an error even if nothing is read
    raw, text, path, bdir = _source(source, base_dir)
    return _load_data(raw, text=text, path=path, base_dir=bdir, overrides=overrides,
                      allow_files=allow_files)


def run_config(config, overrides=None, *, progress=False):
    """Load (if needed) and run a config; returns the result ``xarray.Dataset`` whose
    attributes carry the config text (``config``), the resolved config with defaults and
    overrides (``config_resolved``), its path and the overrides.

    Raises ``ConfigError`` for bad input and :class:`~thoughtfield.SimulationError`
    subclasses when the run fails.
    """
    cfg = load_config(config, overrides=overrides)
    return cfg.run_simulation(progress=progress)


# ===================================================================== reference docs
_INTRO = """\
# Configuration reference

*Generated from the schema in `src/thoughtfield/config.py` by
`python -m thoughtfield._docs docs/config.md`; do not edit by hand.*

A simulation config is a TOML file. Top-level keys come first, then one table per
section. `[network]` and `[run]` are required; everything else has defaults. Paths in
the config (`network.file`, `network.concepts_file`, a dataset's `path`) are relative to
the config file's folder, and a config reads only files under its own folder (symbolic
links resolved): configs may come from strangers. `--allow-files FOLDER` (or the
environment variable `THOUGHTFIELD_ALLOW_FILES`) allows other folders, `--allow-any-file`
any file. Unknown keys are errors (with a did-you-mean), and every error names the key
path and the line, e.g. `quickstart.toml:31: solver.rtol: must be > 0 (got -0.001)`.

```toml
seed = 7
title = "Beach or office"

[network]
layers = ["image", "idea", "structure", "goal"]
relations = [["sun", "beach", "association", 0.8], ["beach", "holiday", "is_a", 1.0]]

[network.concepts]
image = ["sun"]
idea = ["beach"]
structure = ["holiday"]

[model]
tau = { "*" = 1.0, "@structure" = 2.0 }
transfer = "sigmoid"
gain = 5.0
threshold = 0.5

[[stimuli]]
concept = "sun"
start = 0.0
stop = 5.0
amplitude = 1.0

[run]
t_end = 20.0
```

Any key can be changed from the command line without editing the file:
`thoughtfield run CONFIG --set solver.rtol=1e-8 --set model.tau.sun=0.5 --set run.t_end=5`
(the value is read as a TOML value; a bare word such as `rk4` is a string).

Units: `time` is the model's time unit (the unit of `tau`; results use the same unit);
activations are dimensionless.
"""


def reference_markdown() -> str:
    """The field-by-field reference of every registered section (``docs/config.md``)."""
    out = [_INTRO]
    out += struct_markdown(ROOT, "Top-level keys")
    for sec in sections():
        title = f"[[{sec.name}]]" if sec.array else f"[{sec.name}]"
        req = " (required)" if sec.required else ""
        st = Struct(sec.struct.fields, doc=sec.doc or sec.struct.doc)
        lines = struct_markdown(st, title)
        lines[0] += req
        out += lines
    return "\n".join(out).rstrip() + "\n"
