"""Concept networks: named concepts in abstraction layers joined by typed, signed relations.

A :class:`ConceptNetwork` is a *description*: it stores names, layers and relations and
checks them; it never runs anything.  :meth:`ConceptNetwork.weight_matrix` lowers it to
the sparse matrix the solvers use.

Direction convention
--------------------
A relation ``(source, target, type, weight)`` lets activation flow from ``source`` to
``target``: it contributes ``gain * sign * forward * weight`` to ``W[target, source]``.
A *symmetric* type (``association``, ``contradicts``) contributes the same to
``W[source, target]``.  A *directed* type (``is_a``, ``part_of``, ``causes``...)
contributes ``gain * sign * reverse * weight`` to ``W[source, target]``, so e.g.
``is_a`` can spread upwards (dog -> animal, weight ``forward``) and, more weakly,
downwards (animal -> dog, weight ``reverse``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from . import _validate as V
from ._lazy import LazyModule
from .errors import ConfigError, NetworkError, ThoughtfieldError

sp = LazyModule("scipy.sparse")   # imported when a matrix is built, not to validate

DEFAULT_LAYERS: tuple[str, ...] = ("image", "idea", "structure", "goal")
_ATTR_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class RelationType:
    """How one kind of relation acts on the dynamics.

    Parameters
    ----------
    name : str
        The type's name, as used in relations.
    sign : {+1, -1}
        +1 excitatory, -1 inhibitory.
    gain : float
        Multiplies every weight of this type (>= 0).
    symmetric : bool
        Whether activation flows both ways with the same weight.
    forward : float
        Factor for the source -> target direction (>= 0).
    reverse : float
        Factor for the target -> source direction of a directed type (>= 0;
        ignored for symmetric types).
    """

    name: str
    sign: int = 1
    gain: float = 1.0
    symmetric: bool = False
    forward: float = 1.0
    reverse: float = 0.0

    def __post_init__(self):
        key = f"relation_types.{self.name}"
        V.name("relation type name", self.name, error=NetworkError)
        if self.sign not in (1, -1) or isinstance(self.sign, bool):
            raise NetworkError(f"{key}.sign: must be +1 or -1 (got {self.sign!r})",
                               key=f"{key}.sign")
        object.__setattr__(self, "gain", V.nonnegative(f"{key}.gain", self.gain, error=NetworkError))
        object.__setattr__(self, "symmetric", V.boolean(f"{key}.symmetric", self.symmetric,
                                                         error=NetworkError))
        object.__setattr__(self, "forward", V.nonnegative(f"{key}.forward", self.forward,
                                                           error=NetworkError))
        object.__setattr__(self, "reverse", V.nonnegative(f"{key}.reverse", self.reverse,
                                                           error=NetworkError))

    def factors(self) -> tuple[float, float]:
        """Signed multipliers of a weight for (source->target, target->source)."""
        s = self.sign * self.gain
        fwd = s * self.forward
        rev = fwd if self.symmetric else s * self.reverse
        return fwd, rev

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("name")
        return d


def default_relation_types() -> dict[str, RelationType]:
    """The relation types every network starts with (a fresh copy)."""
    types = [
        RelationType("association", +1, symmetric=True),
        RelationType("contradicts", -1, symmetric=True),
        RelationType("is_a", +1, symmetric=False, forward=1.0, reverse=0.0),
        RelationType("part_of", +1, symmetric=False, forward=1.0, reverse=0.0),
        RelationType("causes", +1, symmetric=False),
        RelationType("favours", +1, symmetric=False),
        RelationType("inhibits", -1, symmetric=False),
        RelationType("link", +1, symmetric=False),
    ]
    return {t.name: t for t in types}


def _index_array(key, values) -> np.ndarray:
    """A flat int64 array of concept indices (integers only)."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise NetworkError(f"{key}: expected an array of concept indices", key=key) from None
    if arr.size and arr.dtype.kind not in "iu":
        raise NetworkError(f"{key}: expected integer concept indices (got {arr.dtype} values "
                           f"such as {V.show(arr.ravel()[0])})", key=key)
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise NetworkError(f"{key}: index {arr.max()} is too large", key=key)
    return arr.astype(np.int64).ravel()


_TYPE_KEYS = ("sign", "gain", "symmetric", "forward", "reverse")


def relation_types_from(spec, key: str = "relation_types") -> list[RelationType]:
    """Relation types from ``{name: {sign, gain, symmetric, forward, reverse}}`` -- a
    mapping or its JSON text (as stored in GraphML/GEXF files)."""
    if isinstance(spec, str):
        import json
        try:
            spec = json.loads(spec)
        except RecursionError:
            raise NetworkError(f"{key}: not valid JSON (nested too deeply)", key=key) from None
        except ValueError as e:
            raise NetworkError(f"{key}: not valid JSON ({e})", key=key) from None
    if not isinstance(spec, Mapping):
        raise NetworkError(f"{key}: expected a table name -> fields (got {V.show(spec)})", key=key)
    out = []
    for k, v in spec.items():
        if not isinstance(v, Mapping):
            raise NetworkError(f"{key}.{k}: expected a table of fields (got {V.show(v)})",
                               key=f"{key}.{k}")
        bad = [b for b in v if b not in _TYPE_KEYS]
        if bad:
            b = str(bad[0])
            raise NetworkError(f"{key}.{k}: unknown field {b!r}" + V.did_you_mean(b, _TYPE_KEYS),
                               key=f"{key}.{k}")
        out.append(RelationType(k, **v))
    return out


def coupling_csr(n: int, source, target, forward, reverse) -> sp.csr_matrix:
    """``W`` (rows = targets) from relations ``source -> target`` acting with weight
    ``forward`` on the target and ``reverse`` back on the source: duplicates summed,
    exact zeros dropped, indices sorted."""
    # the zero entries are dropped from each half before joining them (the same entries in
    # the same order as joining first, without two full-size intermediate copies)
    source, target, forward, reverse = (np.asarray(a) for a in (source, target, forward, reverse))
    f = forward != 0
    r = reverse != 0
    rows = np.concatenate([target[f], source[r]])
    cols = np.concatenate([source[f], target[r]])
    vals = np.concatenate([forward[f], reverse[r]])
    del f, r
    W = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    del rows, cols, vals
    W.sum_duplicates()
    W.eliminate_zeros()
    W.sort_indices()
    return W


class ConceptNetwork:
    """Named concepts, each in a layer of an ordered ladder, joined by typed relations.

    Parameters
    ----------
    concepts : iterable, optional
        Concept names, ``(name, layer)`` pairs, or a mapping ``name -> layer``.
    relations : iterable, optional
        ``(source, target)``, ``(source, target, type)`` or ``(source, target, type, weight)``
        tuples, or mappings with those keys.
    layers : sequence of str, optional
        The abstraction ladder, lowest first.  Without it, and without concepts placed in
        a layer, the network has no layers (:attr:`layered` is false): results, summaries
        and plots then show no layer labels.  Concepts may still be placed in the default
        ladder ``image, idea, structure, goal`` (which makes the network layered).
    relation_types : mapping or iterable of RelationType, optional
        Types added to (or replacing) the defaults.
    default_layer : str, optional
        Layer of concepts added without one (default: the lowest layer).
    add_missing : bool
        If true, concepts named in ``relations`` but not in ``concepts`` are added
        (in ``default_layer``); otherwise they are an error.

    Examples
    --------
    >>> net = ConceptNetwork(
    ...     {"sun": "image", "sea": "image", "beach": "idea"},
    ...     [("sun", "beach", "association", 0.8), ("sea", "beach")],
    ... )
    >>> net.n
    3
    """

    def __init__(self, concepts=None, relations=None, *, layers: Sequence[str] | None = None,
                 relation_types=None, default_layer: str | None = None,
                 add_missing: bool = False, name: str | None = None):
        # layered: the user asked for layers (a ladder, a default layer, or a concept
        # placed in a layer); otherwise every concept sits unlabelled in the lowest layer
        self._layered = layers is not None or default_layer is not None
        if layers is None:
            layers = DEFAULT_LAYERS
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
            raise NetworkError(f"layers: expected a list of layer names (got {layers!r})",
                               key='layers')
        layers = tuple(layers)
        if not layers:
            raise NetworkError("layers: must name at least one layer", key='layers')
        for i, lay in enumerate(layers):
            V.name(f"layers[{i}]", lay, error=NetworkError)
        if len(set(layers)) != len(layers):
            dup = next(x for x in layers if layers.count(x) > 1)
            raise NetworkError(f"layers: duplicate layer {dup!r}", key='layers')
        self._layers = layers
        self._layer_index = {lay: i for i, lay in enumerate(layers)}
        self._default_layer = self._check_layer("default_layer",
                                                layers[0] if default_layer is None else default_layer)
        self.name = name
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._layer_of: list[int] = []
        self._types: dict[str, RelationType] = default_relation_types()
        if relation_types is not None:
            items = relation_types.values() if isinstance(relation_types, Mapping) else relation_types
            for t in items:
                if not isinstance(t, RelationType):
                    raise NetworkError(f"relation_types: expected RelationType objects (got {t!r})",
                                       key='relation_types')
                self._types[t.name] = t
        # relations stored in chunks of arrays, consolidated lazily
        self._rel_chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._type_codes: dict[str, int] = {}
        self._type_names: list[str] = []
        self._attrs: dict[str, list] = {}
        self._cache: dict = {}
        if concepts is not None:
            self._add_concept_spec(concepts)
        if relations is not None:
            self.add_relations(relations, add_missing=add_missing)

    # ------------------------------------------------------------------ concepts
    def _check_layer(self, key: str, layer) -> str:
        if not isinstance(layer, str) or layer not in self._layer_index:
            raise NetworkError(f"{key}: unknown layer {layer!r}; the layers are "
                               f"{', '.join(self._layers)}" + V.did_you_mean(str(layer), self._layers),
                               key=key)
        return layer

    def _add_concept_spec(self, concepts):
        if isinstance(concepts, Mapping):
            for name, layer in concepts.items():
                self.add_concept(name, layer)
            return
        if isinstance(concepts, str):
            raise NetworkError("concepts: expected a list of names, not a single string "
                               f"({concepts!r}); wrap it in a list", key='concepts')
        if isinstance(concepts, bytes) or not isinstance(concepts, Iterable):
            raise NetworkError(f"concepts: expected a list of names or a table name -> layer "
                               f"(got {concepts!r})", key='concepts')
        for i, c in enumerate(concepts):
            if isinstance(c, str):
                self.add_concept(c)
            elif isinstance(c, Mapping):
                extra = set(c) - {"name", "layer"}
                if extra or "name" not in c:
                    raise NetworkError(f"concepts[{i}]: expected keys 'name' and optional 'layer' "
                                       f"(got {sorted(c)})", key=f"concepts[{i}]")
                self.add_concept(c["name"], c.get("layer"))
            elif isinstance(c, (tuple, list)) and len(c) == 2:
                self.add_concept(c[0], c[1])
            else:
                raise NetworkError(f"concepts[{i}]: expected a name or a (name, layer) pair (got {c!r})",
                                   key=f"concepts[{i}]")

    def add_concept(self, name: str, layer: str | None = None) -> int:
        """Add one concept; returns its index."""
        V.name("concept name", name, error=NetworkError)
        if name in self._index:
            raise NetworkError(f"duplicate concept {name!r}: every concept name must be unique")
        lay = self._default_layer if layer is None else self._check_layer(f"concept {name!r}: layer",
                                                                          layer)
        if layer is not None:
            self._layered = True
        self._index[name] = len(self._names)
        self._names.append(name)
        self._layer_of.append(self._layer_index[lay])
        for values in self._attrs.values():
            values.append(None)
        self._cache.clear()
        return self._index[name]

    def add_concepts(self, names: Iterable[str], layer: str | None = None) -> None:
        """Add several concepts, all in ``layer`` (or the default layer)."""
        if isinstance(names, str):
            raise NetworkError(f"add_concepts: expected a list of names, not the string {names!r}",
                               key='add_concepts')
        for name in names:
            self.add_concept(name, layer)

    def index(self, name: str, key: str = "concept") -> int:
        """Index of a concept, with a did-you-mean error for unknown names."""
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise NetworkError(f"{key}: unknown concept {name!r}"
                               + V.did_you_mean(str(name), self._index), key=key) from None

    def indices(self, names: Iterable[str], key: str = "concepts") -> np.ndarray:
        return np.array([self.index(n, f"{key}[{i}]") for i, n in enumerate(names)], dtype=np.int64)

    def __contains__(self, name) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self._names)

    @property
    def n(self) -> int:
        """Number of concepts."""
        return len(self._names)

    @property
    def concepts(self) -> tuple[str, ...]:
        return tuple(self._names)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layer ladder, lowest (most concrete) first (for a network without layers,
        the default ladder, with every concept in its lowest layer)."""
        return self._layers

    @property
    def layered(self) -> bool:
        """Whether the network has abstraction layers: a ladder or a default layer was
        given, or a concept was placed in a layer.  Results of a network without layers
        carry no ``layer`` coordinate, and summaries and plots show no layer labels."""
        return self._layered

    @property
    def layer_codes(self) -> np.ndarray:
        """Layer of every concept as an index into :attr:`layers`."""
        return np.asarray(self._layer_of, dtype=np.int16)

    @property
    def concept_layers(self) -> tuple[str, ...]:
        """Layer name of every concept."""
        if "concept_layers" not in self._cache:   # (3 ms at N = 1e4, asked for every run)
            self._cache["concept_layers"] = tuple(self._layers[i] for i in self._layer_of)
        return self._cache["concept_layers"]

    def layer(self, name: str) -> str:
        return self._layers[self._layer_of[self.index(name)]]

    def in_layer(self, layer: str) -> tuple[str, ...]:
        code = self._layer_index[self._check_layer("layer", layer)]
        return tuple(n for n, l in zip(self._names, self._layer_of) if l == code)

    # -------------------------------------------------------------- attributes
    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Names of the per-concept attributes (e.g. ``gloss`` for WordNet)."""
        return tuple(self._attrs)

    def attribute(self, name: str, concept: str | None = None):
        """The values of attribute ``name`` for all concepts (a list, ``None`` where
        unset), or its value for one ``concept``."""
        try:
            values = self._attrs[name]
        except (KeyError, TypeError):
            known = ", ".join(self._attrs) or "none"
            raise NetworkError(f"unknown attribute {name!r}; this network has {known}"
                               + V.did_you_mean(str(name), self._attrs)) from None
        if concept is None:
            return list(values)
        return values[self.index(concept)]

    def set_attribute(self, name: str, values) -> None:
        """Set a per-concept attribute from a sequence (one value per concept) or a mapping
        ``concept -> value`` (other concepts keep their value, ``None`` if new).  Values
        are ``str``, ``int``, ``float``, ``bool`` or ``None`` so that every file format
        can store them."""
        V.name("attribute name", name, error=NetworkError)
        if name in ("layer", "name"):
            raise NetworkError(f"attribute name {name!r} is reserved; choose another name")
        if isinstance(values, Mapping):
            out = list(self._attrs.get(name, [None] * self.n))
            for k, v in values.items():
                out[self.index(k, f"attribute {name!r}")] = v
        else:
            if isinstance(values, str):
                raise NetworkError(f"attribute {name!r}: expected one value per concept, not "
                                   "a single string")
            out = values.tolist() if isinstance(values, np.ndarray) else list(values)
            if len(out) != self.n:
                raise NetworkError(f"attribute {name!r}: {len(out)} values for {self.n} concepts")
        out = [v.item() if isinstance(v, np.generic) else v for v in out]
        bad = [i for i, v in enumerate(out) if not isinstance(v, _ATTR_TYPES)]
        if bad:
            i = bad[0]
            raise NetworkError(f"attribute {name!r} of {self._names[i]!r}: values must be str, "
                               f"int, float, bool or None (got {type(out[i]).__name__})")
        self._attrs[name] = out
        self._cache.clear()

    def drop_attribute(self, name: str) -> None:
        self.attribute(name)
        del self._attrs[name]
        self._cache.clear()

    # ------------------------------------------------------------ bulk building
    @classmethod
    def from_arrays(cls, names: Sequence[str], concept_layers=None, *, relations=None,
                    attributes: Mapping | None = None, **kwargs) -> "ConceptNetwork":
        """Fast constructor for large networks.

        Parameters
        ----------
        names : sequence of str
            Unique concept names.
        concept_layers : sequence of str or int, optional
            Each concept's layer, by name or as an index into the ladder (default: the
            default layer).
        relations : mapping, optional
            ``type -> (source, target)`` or ``(source, target, weight)`` with index arrays
            (see :meth:`add_relation_arrays`).
        attributes : mapping, optional
            ``name -> values`` (see :meth:`set_attribute`).
        **kwargs
            ``layers``, ``relation_types``, ``default_layer``, ``name`` as for the
            constructor.
        """
        net = cls(**kwargs)
        if isinstance(names, str):
            raise NetworkError(f"from_arrays: names must be a sequence of names, not the string "
                               f"{names!r}")
        if isinstance(names, np.ndarray):
            names = names.tolist()
        elif isinstance(names, (bytes, Mapping)) or not isinstance(names, Iterable):
            raise NetworkError(f"from_arrays: names must be a sequence of names (got "
                               f"{V.show(names)})")
        else:
            names = list(names)
        bad = [i for i, x in enumerate(names)
               if not isinstance(x, str) or not x or x.strip() != x or not x.isprintable()]
        if bad:
            V.name(f"from_arrays: names[{bad[0]}]", names[bad[0]], error=NetworkError)
        index = {nm: i for i, nm in enumerate(names)}
        if len(index) != len(names):
            seen = set()
            dup = next(x for x in names if x in seen or seen.add(x))
            raise NetworkError(f"from_arrays: duplicate concept {dup!r}: every concept name "
                               "must be unique")
        n = len(names)
        if concept_layers is None:
            codes = np.full(n, net._layer_index[net._default_layer], np.int64)
        else:
            net._layered = True
            arr = np.asarray(concept_layers)
            if arr.shape != (n,):
                raise NetworkError(f"from_arrays: concept_layers has shape {arr.shape}; "
                                   f"expected one layer per concept ({n},)")
            if arr.dtype.kind in "iu":
                codes = arr.astype(np.int64)
                badl = (codes < 0) | (codes >= len(net._layers))
                if badl.any():
                    i = int(np.argmax(badl))
                    raise NetworkError(f"from_arrays: concept_layers[{i}] = {codes[i]} is not a "
                                       f"layer index (0..{len(net._layers) - 1})")
            else:
                uniq, inv = np.unique(arr.astype(str), return_inverse=True)
                lut = np.array([net._layer_index[net._check_layer(
                    f"from_arrays: layer of concept {names[int(np.argmax(inv == k))]!r}", u)]
                    for k, u in enumerate(uniq.tolist())], dtype=np.int64)
                codes = lut[inv] if n else np.zeros(0, np.int64)
        net._names = names
        net._index = index
        net._layer_of = codes.tolist()
        net._cache.clear()
        if relations is not None:
            if not isinstance(relations, Mapping):
                raise NetworkError("from_arrays: relations must map a relation type to "
                                   "(source, target[, weight]) index arrays")
            for ty, arrs in relations.items():
                if not isinstance(arrs, (tuple, list)) or len(arrs) not in (2, 3):
                    raise NetworkError(f"from_arrays: relations[{ty!r}] must be (source, target"
                                       "[, weight]) index arrays")
                net.add_relation_arrays(arrs[0], arrs[1], arrs[2] if len(arrs) == 3 else 1.0, ty)
        for k, v in (attributes or {}).items():
            net.set_attribute(k, v)
        return net

    # ---------------------------------------------------------- relation types
    @property
    def relation_types(self) -> dict[str, RelationType]:
        """The known relation types (a copy; use :meth:`define_relation_type` to change)."""
        return dict(self._types)

    def define_relation_type(self, name: str, sign: int = 1, gain: float = 1.0,
                             symmetric: bool = False, forward: float = 1.0,
                             reverse: float = 0.0) -> RelationType:
        """Add a relation type or replace an existing one."""
        t = RelationType(name, sign, gain, symmetric, forward, reverse)
        self._types[name] = t
        self._cache.clear()
        return t

    def set_relation_type(self, name: str, **changes) -> RelationType:
        """Change fields (``gain``, ``forward``, ``reverse``...) of an existing type."""
        t = self._relation_type(name, "relation type")
        bad = set(changes) - {"sign", "gain", "symmetric", "forward", "reverse"}
        if bad:
            b = sorted(bad)[0]
            raise NetworkError(f"relation_types.{name}: unknown field {b!r}"
                               + V.did_you_mean(b, ["sign", "gain", "symmetric", "forward", "reverse"]),
                               key=f"relation_types.{name}")
        t = replace(t, **changes)
        self._types[name] = t
        self._cache.clear()
        return t

    def _relation_type(self, name, key) -> RelationType:
        try:
            return self._types[name]
        except (KeyError, TypeError):
            raise NetworkError(f"{key}: unknown relation type {name!r}; known types are "
                               f"{', '.join(sorted(self._types))}"
                               + V.did_you_mean(str(name), self._types), key=key,
                               hint="; define new ones with define_relation_type()") from None

    def _type_code(self, name: str) -> int:
        code = self._type_codes.get(name)
        if code is None:
            code = len(self._type_names)
            self._type_codes[name] = code
            self._type_names.append(name)
        return code

    # --------------------------------------------------------------- relations
    def add_relation(self, source: str, target: str, type: str = "association",
                     weight: float = 1.0) -> None:
        """Add one relation; activation flows from ``source`` to ``target``."""
        self.add_relations([(source, target, type, weight)])

    def add_relations(self, relations, *, add_missing: bool = False,
                      default_type: str = "association") -> None:
        """Add relations given as tuples ``(source, target[, type[, weight]])`` or mappings;
        those without a type get ``default_type``."""
        src, tgt, typ, wts = [], [], [], []
        if isinstance(relations, (str, bytes, Mapping)) or not isinstance(relations, Iterable):
            raise NetworkError("relations: expected a list of relations (got "
                               f"{type(relations).__name__} {relations!r})", key='relations')
        for i, r in enumerate(relations):
            key = f"relations[{i}]"
            if isinstance(r, Mapping):
                extra = set(r) - {"source", "target", "type", "weight"}
                if extra:
                    b = sorted(extra)[0]
                    raise NetworkError(f"{key}: unknown key {b!r}"
                                       + V.did_you_mean(b, ["source", "target", "type", "weight"]),
                                       key=key)
                if "source" not in r or "target" not in r:
                    raise NetworkError(f"{key}: needs 'source' and 'target'", key=key)
                s, t, ty, w = r["source"], r["target"], r.get("type", default_type), r.get("weight", 1.0)
            elif isinstance(r, (tuple, list)) and 2 <= len(r) <= 4:
                s, t = r[0], r[1]
                ty = r[2] if len(r) > 2 else default_type
                w = r[3] if len(r) > 3 else 1.0
            else:
                raise NetworkError(f"{key}: expected (source, target[, type[, weight]]) (got {r!r})",
                                   key=key)
            desc = f"{key} ({s!r} -> {t!r})"
            for endpoint in (s, t):
                if not isinstance(endpoint, str):
                    raise NetworkError(f"{key}: concept names are text (got {V.show(endpoint)} "
                                       f"in {V.show(r)})", key=key)
                if endpoint not in self._index:
                    if add_missing and isinstance(endpoint, str):
                        self.add_concept(endpoint)
                    else:
                        raise NetworkError(f"{desc}: unknown concept {endpoint!r}"
                                           + V.did_you_mean(str(endpoint), self._index),
                                           key=key, hint=None if add_missing else
                                           "; add it to the concepts first")
            try:
                self._relation_type(ty, f"{desc}: type")
                w = V.real(f"{desc}: weight", w, error=NetworkError)
            except ConfigError as e:   # the label describes the relation; the key is its entry
                raise e.within(key=key) from None
            src.append(self._index[s])
            tgt.append(self._index[t])
            typ.append(self._type_code(ty))
            wts.append(w)
        if src:
            self._rel_chunks.append((np.asarray(src, np.int64), np.asarray(tgt, np.int64),
                                     np.asarray(typ, np.int32), np.asarray(wts, np.float64)))
            self._cache.clear()

    def add_relation_arrays(self, source, target, weight=1.0, type: str = "association") -> None:
        """Fast path: add many relations of one type from integer index arrays."""
        src = _index_array("add_relation_arrays: source", source)
        tgt = _index_array("add_relation_arrays: target", target)
        if src.shape != tgt.shape:
            raise NetworkError(f"add_relation_arrays: source and target differ in length "
                               f"({src.size} vs {tgt.size})")
        try:
            w = np.broadcast_to(np.asarray(weight, dtype=np.float64), src.shape).copy()
        except (TypeError, ValueError):
            raise NetworkError(f"add_relation_arrays: weight must be a number or one number "
                               f"per relation ({src.size}) (got {V.show(weight)})") from None
        n = self.n
        for key, arr in (("source", src), ("target", tgt)):
            bad = (arr < 0) | (arr >= n)
            if bad.any():
                i = int(np.argmax(bad))
                raise NetworkError(f"add_relation_arrays: {key}[{i}] = {arr[i]} is not a concept "
                                   f"index (0..{n - 1})")
        if not np.isfinite(w).all():
            i = int(np.argmax(~np.isfinite(w)))
            raise NetworkError(f"add_relation_arrays: weight[{i}]: must be finite (got {w[i]!r})")
        self._relation_type(type, "add_relation_arrays: type")
        code = self._type_code(type)
        self._rel_chunks.append((src, tgt, np.full(src.size, code, np.int32), w))
        self._cache.clear()

    def _relation_arrays(self):
        if "rel" not in self._cache:
            if self._rel_chunks:
                parts = list(zip(*self._rel_chunks))
                arrs = tuple(np.concatenate(p) for p in parts)
                self._rel_chunks = [arrs]
            else:
                arrs = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32),
                        np.zeros(0, np.float64))
            self._cache["rel"] = arrs
        return self._cache["rel"]

    @property
    def n_relations(self) -> int:
        return int(self._relation_arrays()[0].size)

    def relation_arrays(self) -> dict[str, np.ndarray]:
        """Relations as arrays: ``source``, ``target`` (indices), ``type`` (names), ``weight``."""
        s, t, c, w = self._relation_arrays()
        names = np.array(self._type_names + [""], dtype=object)[c] if c.size else np.zeros(0, object)
        return {"source": s.copy(), "target": t.copy(), "type": names, "weight": w.copy()}

    def relations(self) -> list[tuple[str, str, str, float]]:
        """All relations as ``(source, target, type, weight)`` tuples, in insertion order."""
        s, t, c, w = self._relation_arrays()
        nm, tn = self._names, self._type_names
        return [(nm[a], nm[b], tn[k], float(x)) for a, b, k, x in zip(s.tolist(), t.tolist(),
                                                                       c.tolist(), w.tolist())]

    # ---------------------------------------------------------------- lowering
    def weight_matrix(self, types: Iterable[str] | None = None, dtype=np.float64) -> sp.csr_matrix:
        """The effective coupling matrix ``W`` (rows = targets, columns = sources).

        ``u = W @ a`` is the recurrent input of every concept.  Gains and signs are folded
        in, duplicate relations summed, exact zeros dropped.  ``types`` restricts the
        relation types used.
        """
        key = ("W", None if types is None else tuple(sorted(types)), np.dtype(dtype).str)
        if key in self._cache:
            return self._cache[key]
        s, t, c, w = self._relation_arrays()
        n = self.n
        fwd = np.zeros(len(self._type_names))
        rev = np.zeros(len(self._type_names))
        wanted = None if types is None else set(types)
        if wanted is not None:
            for ty in wanted:
                self._relation_type(ty, "weight_matrix: types")
        for name, code in self._type_codes.items():
            if wanted is None or name in wanted:
                fwd[code], rev[code] = self._types[name].factors()
        wf = w * fwd[c] if c.size else w
        wr = w * rev[c] if c.size else w
        W = coupling_csr(n, s, t, wf, wr).astype(dtype, copy=False)
        W.sort_indices()
        self._cache[key] = W
        return W

    # ------------------------------------------------------------- transforms
    def _derived(self, keep=None, rel_keep=None, rel_weight=None, *, name=None) -> "ConceptNetwork":
        """A new network with the concepts ``keep`` (indices, in that order; default all) and
        the relations selected by the boolean mask ``rel_keep`` whose endpoints are both
        kept, with weights ``rel_weight`` (default unchanged).  Vectorised; the concept
        names are known to be unique, so no per-concept validation is repeated."""
        n = self.n
        keep = np.arange(n) if keep is None else np.asarray(keep, dtype=np.int64)
        new = ConceptNetwork(layers=self._layers, relation_types=self._types.values(),
                             default_layer=self._default_layer,
                             name=self.name if name is None else name)
        new._layered = self._layered
        names = self._names
        new._names = [names[i] for i in keep.tolist()]
        new._index = {nm: i for i, nm in enumerate(new._names)}
        lay = self._layer_of
        new._layer_of = [lay[i] for i in keep.tolist()]
        new._attrs = {k: [v[i] for i in keep.tolist()] for k, v in self._attrs.items()}
        s, t, c, w = self._relation_arrays()
        if rel_weight is not None:
            w = np.asarray(rel_weight, dtype=np.float64)
        inv = np.full(n, -1, np.int64)
        inv[keep] = np.arange(keep.size)
        m = (inv[s] >= 0) & (inv[t] >= 0)
        if rel_keep is not None:
            m &= rel_keep
        new._type_names = list(self._type_names)
        new._type_codes = dict(self._type_codes)
        if m.any():
            new._rel_chunks = [(inv[s[m]], inv[t[m]], c[m].copy(), w[m].copy())]
        return new

    def _in_ladder(self, layers) -> "ConceptNetwork":
        """This network without layers placed, unlabelled, in the lowest layer of
        ``layers`` (for :meth:`merge`); its concepts then match any layer of a shared
        concept in the other network."""
        new = self._derived()
        new._layers = tuple(layers)
        new._layer_index = {lay: i for i, lay in enumerate(new._layers)}
        new._default_layer = new._layers[0]
        new._layer_of = [0] * new.n
        new._layered = False
        new._cache.clear()
        return new

    def permuted(self, order: Sequence) -> "ConceptNetwork":
        """The same network with concepts in a new order (names or indices)."""
        order = list(order)
        if len(order) != self.n:
            raise NetworkError(f"permuted: order must list all {self.n} concepts (got {len(order)})",
                               key='permuted')
        idx = np.array([self.index(o, "permuted: order") if isinstance(o, str) else int(o)
                        for o in order], dtype=np.int64)
        if sorted(idx.tolist()) != list(range(self.n)):
            raise NetworkError("permuted: order must be a permutation of the concepts",
                               key='permuted')
        return self._derived(idx)

    def copy(self) -> "ConceptNetwork":
        return self._derived()

    # ------------------------------------------------------ subnetworks, edits
    def _concept_mask(self, concepts, key: str) -> np.ndarray:
        if isinstance(concepts, str):
            concepts = [concepts]
        mask = np.zeros(self.n, bool)
        for i, c in enumerate(concepts):
            mask[self.index(c, f"{key}[{i}]")] = True
        return mask

    def _check_types(self, types, key: str) -> list[str]:
        if isinstance(types, str):
            types = [types]
        types = list(types)
        for i, ty in enumerate(types):
            self._relation_type(ty, f"{key}[{i}]")
        return types

    def _type_mask(self, types) -> np.ndarray:
        """Boolean mask over the relations whose type is one of ``types`` (checked names)."""
        _, _, c, _ = self._relation_arrays()
        codes = [self._type_codes[ty] for ty in types if ty in self._type_codes]
        return np.isin(c, np.asarray(codes, dtype=c.dtype))

    def subnetwork(self, concepts) -> "ConceptNetwork":
        """The network induced by ``concepts`` (names or a boolean mask over the concepts):
        those concepts, in this network's order, and every relation between two of them."""
        if isinstance(concepts, np.ndarray) and concepts.dtype == bool:
            if concepts.shape != (self.n,):
                raise NetworkError(f"subnetwork: a boolean mask needs {self.n} entries "
                                   f"(got shape {concepts.shape})", key='subnetwork')
            mask = concepts
        else:
            mask = self._concept_mask(concepts, "subnetwork: concepts")
        return self._derived(np.flatnonzero(mask))

    def neighbourhood(self, concepts, hops: int = 1, *, types=None,
                      direction: str = "both") -> np.ndarray:
        """Boolean mask of the concepts at most ``hops`` relations away from ``concepts``.

        ``types`` restricts the relation types followed (default: all); ``direction`` is
        ``"out"`` (from source to target, as the relations are declared), ``"in"``
        (target to source) or ``"both"``.
        """
        hops = V.integer("hops", hops, min=0, error=NetworkError)
        V.choice("direction", direction, ("both", "out", "in"), error=NetworkError)
        mask = self._concept_mask(concepts, "concepts")
        s, t, _, _ = self._relation_arrays()
        sel = np.ones(s.size, bool) if types is None else self._type_mask(
            self._check_types(types, "types"))
        if direction == "out":
            rows, cols = t[sel], s[sel]
        elif direction == "in":
            rows, cols = s[sel], t[sel]
        else:
            rows, cols = np.concatenate([t[sel], s[sel]]), np.concatenate([s[sel], t[sel]])
        # step[r, c] = 1: c reaches r in one hop
        step = sp.csr_matrix((np.ones(rows.size, np.float64), (rows, cols)), shape=(self.n, self.n))
        frontier = mask.copy()
        for _ in range(hops):
            nxt = (step @ frontier.astype(np.float64)) > 0
            frontier = nxt & ~mask
            if not frontier.any():
                break
            mask |= frontier
        return mask

    def ego(self, concepts, hops: int = 1, *, types=None, direction: str = "both",
            induced: bool = True) -> "ConceptNetwork":
        """The ego network of ``concepts``: every concept at most ``hops`` relations away
        (see :meth:`neighbourhood` for ``types`` and ``direction``) and the relations among
        them -- all of them with ``induced=True``, else only those of ``types``."""
        mask = self.neighbourhood(concepts, hops, types=types, direction=direction)
        V.boolean("induced", induced, error=NetworkError)
        rel_keep = None
        if not induced and types is not None:
            rel_keep = self._type_mask(self._check_types(types, "types"))
        return self._derived(np.flatnonzero(mask), rel_keep)

    def keep_types(self, types) -> "ConceptNetwork":
        """A copy with only the relations of ``types`` (all concepts stay)."""
        return self._derived(rel_keep=self._type_mask(self._check_types(types, "keep_types")))

    def drop_types(self, types) -> "ConceptNetwork":
        """A copy without the relations of ``types`` (all concepts stay)."""
        return self._derived(rel_keep=~self._type_mask(self._check_types(types, "drop_types")))

    def _relation_mask(self, relations, key: str) -> np.ndarray:
        """Mask of the relations matching ``(source, target[, type])`` tuples."""
        s, t, c, _ = self._relation_arrays()
        pair = s * np.int64(self.n) + t
        order = np.argsort(pair, kind="stable")
        spair = pair[order]
        mask = np.zeros(s.size, bool)
        for i, r in enumerate(relations):
            if not isinstance(r, (tuple, list)) or len(r) not in (2, 3):
                raise NetworkError(f"{key}[{i}]: expected (source, target[, type]) (got {r!r})",
                                   key=f"{key}[{i}]")
            a = self.index(r[0], f"{key}[{i}]")
            b = self.index(r[1], f"{key}[{i}]")
            p = a * self.n + b
            lo, hi = np.searchsorted(spair, [p, p + 1])
            hit = order[lo:hi]
            if len(r) == 3:
                self._relation_type(r[2], f"{key}[{i}]: type")
                code = self._type_codes.get(r[2], -1)
                hit = hit[c[hit] == code]
            if hit.size == 0:
                what = f"{r[0]!r} -> {r[1]!r}" + (f" of type {r[2]!r}" if len(r) == 3 else "")
                raise NetworkError(f"{key}[{i}]: there is no relation {what}", key=f"{key}[{i}]")
            mask[hit] = True
        return mask

    def lesion(self, concepts=None, *, relations=None, types=None, fraction=None,
               scale: float = 0.0, remove: bool = False, seed=None) -> "ConceptNetwork":
        """A lesioned copy (for aphasia-style experiments).

        The relations hit are those touching any of ``concepts``, those listed in
        ``relations`` (``(source, target[, type])``) and those of ``types`` (the union of
        what is given; all relations if none is given).  With ``fraction`` only that
        fraction of them, drawn at random (``seed``), is hit.  Their weights are multiplied
        by ``scale`` (default 0: the relations are removed).  ``remove=True`` deletes the
        ``concepts`` themselves (with all their relations) instead.
        """
        scale = V.nonnegative("lesion.scale", scale, error=NetworkError)
        V.boolean("lesion.remove", remove, error=NetworkError)
        s, t, c, w = self._relation_arrays()
        if remove:
            if concepts is None:
                raise NetworkError("lesion: remove=True needs the concepts to remove", key='lesion')
            if relations is not None or types is not None or fraction is not None:
                raise NetworkError("lesion: remove=True deletes concepts; give only concepts "
                                   "(relations, types and fraction belong to scaling lesions)",
                                   key='lesion')
            gone = self._concept_mask(concepts, "lesion.concepts")
            return self._derived(np.flatnonzero(~gone))
        hit = None
        if concepts is not None:
            cm = self._concept_mask(concepts, "lesion.concepts")
            hit = cm[s] | cm[t]
        if relations is not None:
            if isinstance(relations, (str, Mapping)):
                raise NetworkError("lesion.relations: expected a list of (source, target[, type])",
                                   key='lesion.relations')
            rm = self._relation_mask(relations, "lesion.relations")
            hit = rm if hit is None else hit | rm
        if types is not None:
            tm = self._type_mask(self._check_types(types, "lesion.types"))
            hit = tm if hit is None else hit | tm
        if hit is None:
            hit = np.ones(s.size, bool)
        if fraction is not None:
            fraction = V.real("lesion.fraction", fraction, min=0.0, max=1.0, error=NetworkError)
            idx = np.flatnonzero(hit)
            k = int(round(fraction * idx.size))
            chosen = np.random.default_rng(seed).choice(idx, size=k, replace=False)
            hit = np.zeros(s.size, bool)
            hit[chosen] = True
        if scale == 0.0:
            return self._derived(rel_keep=~hit)
        return self._derived(rel_weight=np.where(hit, w * scale, w))

    def normalized(self) -> "ConceptNetwork":
        """A copy with symmetrically degree-normalised weights, for large irregular networks.

        Every relation weight ``w`` between ``s`` and ``t`` becomes ``w / sqrt(d_s d_t)``,
        where ``d_i`` is the sum of ``|w|`` over all relations at concept ``i`` (of any type
        and direction; a self-relation counts twice).  Then the spectral radius of the
        coupling matrix is at most ``max over types of gain * max(forward, reverse)``
        (since ``|W| <= c D^-1/2 U D^-1/2`` entrywise, and that matrix is similar to the
        row-stochastic ``D^-1 U``): hubs with hundreds of relations (WordNet's *person*,
        *genus*) no longer sum their neighbours into runaway activation, and with a model
        gain below ``1 / c`` the linear part of the dynamics is contracting.
        """
        s, t, _, w = self._relation_arrays()
        aw = np.abs(w)
        d = np.bincount(s, weights=aw, minlength=self.n) + np.bincount(t, weights=aw,
                                                                        minlength=self.n)
        scale = np.sqrt(np.where(d > 0, d, 1.0))
        return self._derived(rel_weight=w / (scale[s] * scale[t]) if w.size else w)

    def merge(self, other: "ConceptNetwork", *, name: str | None = None) -> "ConceptNetwork":
        """Multiplex union with ``other``: concepts matched by name (this network's first,
        then the new ones of ``other``), relations of both, relation types of both.

        The layer ladders must be equal, a concept present in both must sit in the same
        layer, and a relation type defined in both must have the same definition.  A
        network without layers (:attr:`layered` false) takes the other's ladder: its new
        concepts go to the lowest layer.  Attributes are united; for a concept in both,
        this network's value wins unless it is missing.
        """
        if not isinstance(other, ConceptNetwork):
            raise NetworkError(f"merge: expected a ConceptNetwork (got {type(other).__name__})")
        # a network without layers adopts the other's ladder: its concepts take the layer
        # of the same concept in the other network, else the lowest layer
        base, adopt = self, None
        if self._layered and not other._layered:
            other, adopt = other._in_ladder(self._layers), "other"
        elif other._layered and not self._layered:
            base, adopt = self._in_ladder(other._layers), "self"
        return base._merge(other, name, adopt)

    def _merge(self, other, name, adopt) -> "ConceptNetwork":
        if other._layers != self._layers:
            raise NetworkError(f"merge: the layer ladders differ ({'/'.join(self._layers)} vs "
                               f"{'/'.join(other._layers)}); both networks need the same layers")
        for tname, ty in other._types.items():
            mine = self._types.get(tname)
            if mine is not None and mine != ty:
                raise NetworkError(f"merge: relation type {tname!r} is defined differently "
                                   f"({mine.to_dict()} vs {ty.to_dict()}); make them agree with "
                                   "set_relation_type() or rename one")
        # map other's concepts into the merged index
        oidx = np.array([self._index.get(nm, -1) for nm in other._names], dtype=np.int64)
        shared = np.flatnonzero(oidx >= 0)
        if shared.size and adopt is None:
            mine = np.asarray(self._layer_of, np.int64)[oidx[shared]]
            theirs = np.asarray(other._layer_of, np.int64)[shared]
            bad = np.flatnonzero(mine != theirs)
            if bad.size:
                j = shared[bad[0]]
                raise NetworkError(f"merge: concept {other._names[j]!r} is in layer "
                                   f"{self._layers[mine[bad[0]]]!r} in the first network but "
                                   f"{self._layers[theirs[bad[0]]]!r} in the second")
        new_c = np.flatnonzero(oidx < 0)
        oidx[new_c] = self.n + np.arange(new_c.size)
        merged = self._derived(name=self.name if name is None else name)
        merged._types.update(other._types)
        merged._layered = self._layered or other._layered or adopt is not None
        if adopt == "self":
            for j in shared.tolist():
                merged._layer_of[int(oidx[j])] = other._layer_of[j]
        extra = [other._names[j] for j in new_c.tolist()]
        merged._names.extend(extra)
        merged._index.update({nm: self.n + k for k, nm in enumerate(extra)})
        merged._layer_of.extend(other._layer_of[j] for j in new_c.tolist())
        for key in set(self._attrs) | set(other._attrs):
            vals = list(self._attrs.get(key, [None] * self.n)) + [None] * new_c.size
            ov = other._attrs.get(key)
            if ov is not None:
                for j, v in enumerate(ov):
                    k = int(oidx[j])
                    if vals[k] is None:
                        vals[k] = v
            merged._attrs[key] = vals
        s, t, c, w = other._relation_arrays()
        for code, tname in enumerate(other._type_names):
            m = c == code
            if m.any():
                merged.add_relation_arrays(oidx[s[m]], oidx[t[m]], w[m], tname)
        return merged

    # ------------------------------------------------------- dict round trip
    def to_dict(self) -> dict:
        """A JSON/TOML-friendly description (concepts, layers, relation types, relations);
        a network without layers has no ``layers`` and lists its concepts by name."""
        if not self._layered:
            concepts = list(self._names)
        else:
            concepts = [[n, self._layers[l]] for n, l in zip(self._names, self._layer_of)]
        return {
            **({"layers": list(self._layers)} if self._layered else {}),
            "concepts": concepts,
            "relation_types": {k: v.to_dict() for k, v in self._types.items()},
            "relations": [list(r) for r in self.relations()],
            **({"attributes": {k: list(v) for k, v in self._attrs.items()}} if self._attrs else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping, *, default_type: str = "association") -> "ConceptNetwork":
        """From :meth:`to_dict`'s description; relations without a type get
        ``default_type``."""
        allowed = {"layers", "concepts", "relation_types", "relations", "name", "attributes"}
        extra = set(d) - allowed
        if extra:
            b = sorted(extra)[0]
            raise NetworkError(f"network: unknown key {b!r}" + V.did_you_mean(b, allowed),
                               key='network')
        types = relation_types_from(d.get("relation_types") or {}, "relation_types")
        net = cls(d.get("concepts", []), layers=d.get("layers"),
                  relation_types=types, name=d.get("name"))
        net.add_relations(d.get("relations", []), default_type=default_type)
        attrs = d.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise NetworkError(f"attributes: expected a table name -> values (got {attrs!r})",
                               key='attributes')
        for k, v in attrs.items():
            net.set_attribute(k, v)
        return net

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_edges(cls, edges, concepts=None, **kwargs) -> "ConceptNetwork":
        """From ``(source, target[, type[, weight]])`` tuples; concepts are added as met
        unless ``concepts`` lists them."""
        net = cls(concepts, **kwargs)
        net.add_relations(edges, add_missing=concepts is None)
        return net

    @classmethod
    def from_scipy(cls, matrix, names: Sequence[str], relation: str = "link",
                   layers_of: Sequence[str] | None = None, **kwargs) -> "ConceptNetwork":
        """From a sparse (or dense) matrix ``A`` with ``A[i, j]`` the weight of ``i -> j``.

        With a symmetric relation type (e.g. ``association``) the matrix must be
        symmetric and each pair is read once (upper triangle).
        """
        A = sp.coo_matrix(matrix)
        names = list(names)
        if A.shape[0] != A.shape[1]:
            raise NetworkError(f"from_scipy: matrix must be square (got shape {A.shape})")
        if len(names) != A.shape[0]:
            raise NetworkError(f"from_scipy: {len(names)} names for a {A.shape[0]}x{A.shape[0]} matrix")
        net = cls(**kwargs)
        if layers_of is not None:
            if len(layers_of) != len(names):
                raise NetworkError(f"from_scipy: {len(layers_of)} layers for {len(names)} names")
            for nm, lay in zip(names, layers_of):
                net.add_concept(nm, lay)
        else:
            net.add_concepts(names)
        rt = net._relation_type(relation, "from_scipy: relation")
        data = np.asarray(A.data, dtype=np.float64)
        if not np.isfinite(data).all():
            k = int(np.argmax(~np.isfinite(data)))
            raise NetworkError(f"from_scipy: weight of {names[A.row[k]]!r} -> {names[A.col[k]]!r} "
                               f"must be finite (got {data[k]!r})")
        r, c = A.row.astype(np.int64), A.col.astype(np.int64)
        if rt.symmetric:
            Acsr = sp.csr_matrix(A)
            if abs(Acsr - Acsr.T).max() > 0 if Acsr.nnz else False:
                raise NetworkError(f"from_scipy: the matrix is not symmetric but relation type "
                                   f"{relation!r} is symmetric; use a directed type such as 'link'")
            keep = r <= c
            r, c, data = r[keep], c[keep], data[keep]
        keep = data != 0
        net.add_relation_arrays(r[keep], c[keep], data[keep], relation)
        return net

    def to_scipy(self) -> tuple[sp.csr_matrix, list[str]]:
        """``(A, names)`` with ``A[i, j]`` the effective weight of the influence ``i -> j``
        (that is ``W.T``); ``from_scipy(A, names, 'link')`` rebuilds the same dynamics."""
        return self.weight_matrix().T.tocsr(), list(self._names)

    @classmethod
    def from_networkx(cls, graph, *, type_attr: str = "type", weight_attr: str = "weight",
                      layer_attr: str = "layer", default_type: str | None = None,
                      **kwargs) -> "ConceptNetwork":
        """From a networkx graph: node attribute ``layer``; edge attributes ``type`` and
        ``weight``.  Graph attributes ``layers`` and ``relation_types`` (as written by
        :meth:`to_networkx`) are honoured; ``relation_types`` given here are added to (or
        replace) those of the graph.  Other node attributes (except ``label`` and ``id``)
        become concept attributes.  Node names are converted with ``str``.

        An edge without a ``type`` attribute gets ``default_type``; by default the directed
        type ``link`` for a directed graph (``DiGraph``, ``MultiDiGraph``: an edge ``a -> b``
        spreads from ``a`` to ``b`` only) and the symmetric ``association`` for an
        undirected one (``Graph``, ``MultiGraph``)."""
        gattr = getattr(graph, "graph", {}) or {}
        if "layers" in gattr and "layers" not in kwargs:
            layers = gattr["layers"]
            if isinstance(layers, str):
                layers = layers.split("|")
            elif not isinstance(layers, (list, tuple)):
                raise NetworkError(f"graph attribute 'layers': expected layer names joined by "
                                   f"'|' (got {V.show(layers)})")
            kwargs["layers"] = tuple(layers)
        if "relation_types" in gattr:
            kwargs["relation_types"] = _merged_types(
                relation_types_from(gattr["relation_types"], "graph attribute 'relation_types'"),
                kwargs.get("relation_types"))
        net = cls(**kwargs)
        if default_type is None:
            default_type = "link" if graph.is_directed() else "association"
        net._relation_type(default_type, "default_type")
        extra: dict[str, dict] = {}
        for node, data in graph.nodes(data=True):
            net.add_concept(str(node), data.get(layer_attr))
            for k, v in data.items():
                if k != layer_attr and k not in ("label", "id"):
                    extra.setdefault(str(k), {})[str(node)] = v
        for k, vals in extra.items():
            net.set_attribute(k, vals)
        rels = []
        if graph.is_multigraph():
            edge_iter = graph.edges(keys=False, data=True)
        else:
            edge_iter = graph.edges(data=True)
        for u, v, data in edge_iter:
            rels.append((str(u), str(v), data.get(type_attr, default_type), data.get(weight_attr, 1.0)))
        net.add_relations(rels)
        return net

    def to_networkx(self):
        """A ``networkx.MultiDiGraph``: one edge per relation (as declared, source -> target)
        with ``type`` and ``weight``; node attribute ``layer`` and the concept attributes
        that are set; graph attributes ``layers``
        and ``relation_types`` (as strings, so GraphML/GEXF can store them)."""
        import json

        import networkx as nx
        g = nx.MultiDiGraph()
        if self._layered:
            g.graph["layers"] = "|".join(self._layers)
        g.graph["relation_types"] = json.dumps({k: v.to_dict() for k, v in self._types.items()})
        if self.name:
            g.graph["name"] = self.name
        attrs = list(self._attrs.items())
        for i, (n, l) in enumerate(zip(self._names, self._layer_of)):
            lay = {"layer": self._layers[l]} if self._layered else {}
            g.add_node(n, **lay, **{k: v[i] for k, v in attrs if v[i] is not None})
        for s, t, ty, w in self.relations():
            g.add_edge(s, t, type=ty, weight=w)
        return g

    @classmethod
    def from_csv(cls, path, concepts_path=None, *, types_path=None, delimiter: str | None = None,
                 default_type: str = "link", **kwargs) -> "ConceptNetwork":
        """From an edge list with a header row: ``source, target[, type][, weight]``.

        An edge list is directed: a row ``a, b`` lets activation flow from ``a`` to ``b``.
        A row without a type (no ``type`` column, or an empty cell) gets ``default_type``,
        by default the directed type ``link``; pass ``default_type="association"`` to read
        the untyped rows of an undirected list as symmetric relations.

        ``concepts_path`` optionally lists concepts with ``name[, layer]`` (then relations may
        only use those); otherwise concepts are added as they appear. ``types_path``
        optionally defines relation types with ``name, sign, gain, symmetric, forward,
        reverse`` (as written by :meth:`to_csv`). The delimiter is a tab for
        ``.tsv``/``.tab`` files and a comma otherwise, unless given.
        """
        if types_path is not None:
            types = list(kwargs.pop("relation_types", None) or [])
            if isinstance(types, Mapping):
                types = list(types.values())
            for lineno, row in _read_table(types_path, delimiter, required=("name",),
                                           optional=_TYPE_FIELDS):
                try:
                    types.append(_type_from_row(row))
                except ThoughtfieldError as e:
                    raise e.at(f"{os.fspath(types_path)} line {lineno}",
                               source=os.fspath(types_path), line=lineno,
                               cls=NetworkError) from None
                except ValueError as e:   # a message of Python's, read as is
                    raise NetworkError(str(e), where=f"{os.fspath(types_path)} line {lineno}",
                                       source=os.fspath(types_path), line=lineno) from None
            kwargs["relation_types"] = types
        net = cls(**kwargs)
        net._relation_type(default_type, "default_type")
        if concepts_path is not None:
            for lineno, row in _read_table(concepts_path, delimiter, required=("name",),
                                           optional=("layer",)):
                try:
                    net.add_concept(row["name"], row.get("layer") or None)
                except NetworkError as e:
                    raise e.at(f"{os.fspath(concepts_path)} line {lineno}",
                               source=os.fspath(concepts_path), line=lineno) from None
        # the edge list is read as a stream and added in batches, so memory holds the
        # relation arrays, not the file's text nor one Python tuple per edge
        rels: list = []
        lines: list = []
        for lineno, row in _read_table(path, delimiter, required=("source", "target"),
                                       optional=("type", "weight")):
            w = row.get("weight")
            if w is None or w == "":
                wv = 1.0
            else:
                try:
                    wv = float(w)
                except ValueError:
                    raise NetworkError(f"weight: must be a number (got {V.show(w)})",
                                       where=f"{os.fspath(path)} line {lineno}",
                                       source=os.fspath(path), line=lineno) from None
            rels.append((row["source"], row["target"], row.get("type") or default_type, wv))
            lines.append(lineno)
            if len(rels) >= _CSV_BATCH:
                _add_csv_batch(net, rels, lines, path, concepts_path, types_path)
                rels, lines = [], []
        _add_csv_batch(net, rels, lines, path, concepts_path, types_path)
        return net

    def to_csv(self, path, concepts_path=None, *, types_path=None,
               delimiter: str | None = None) -> None:
        """Write the relations (and optionally the concepts with layers and the relation
        types) as CSV/TSV."""
        if types_path is not None:
            d = _delimiter(types_path, delimiter)
            with open(types_path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f, delimiter=d)
                w.writerow(["name", *_TYPE_FIELDS])
                for name, t in self._types.items():
                    w.writerow([name, t.sign, repr(t.gain), str(t.symmetric).lower(),
                                repr(t.forward), repr(t.reverse)])
        d = _delimiter(path, delimiter)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter=d)
            w.writerow(["source", "target", "type", "weight"])
            for s, t, ty, wt in self.relations():
                w.writerow([s, t, ty, repr(wt)])
        if concepts_path is not None:
            d = _delimiter(concepts_path, delimiter)
            with open(concepts_path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f, delimiter=d)
                if self._layered:
                    w.writerow(["name", "layer"])
                    for n, l in zip(self._names, self._layer_of):
                        w.writerow([n, self._layers[l]])
                else:
                    w.writerow(["name"])
                    for n in self._names:
                        w.writerow([n])

    # ------------------------------------------------------------------ misc
    def summary(self) -> dict:
        counts = {}
        _, _, c, _ = self._relation_arrays()
        for code, name in enumerate(self._type_names):
            k = int((c == code).sum())
            if k:
                counts[name] = k
        per_layer = ({lay: int((self.layer_codes == i).sum()) for i, lay in enumerate(self._layers)}
                     if self._layered else {})
        return {"concepts": self.n, "relations": self.n_relations, "relations_by_type": counts,
                "concepts_by_layer": per_layer}

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        lay = f", layers {'/'.join(self._layers)}" if self._layered else ""
        return f"<ConceptNetwork{nm}: {self.n} concepts, {self.n_relations} relations{lay}>"

    def __eq__(self, other) -> bool:
        if not isinstance(other, ConceptNetwork):
            return NotImplemented
        return (self._names == other._names and self.concept_layers == other.concept_layers
                and self._layers == other._layers and self._layered == other._layered and self._types == other._types
                and sorted(self.relations()) == sorted(other.relations())
                and self._attrs == other._attrs)

    __hash__ = None


_TYPE_FIELDS = ("sign", "gain", "symmetric", "forward", "reverse")


def _merged_types(base, extra) -> list:
    """Relation types ``base`` with ``extra`` (a mapping or iterable, or None) added or
    replacing those of the same name."""
    out = {t.name: t for t in base}
    if extra is not None:
        items = extra.values() if isinstance(extra, Mapping) else extra
        for t in items:
            out[getattr(t, "name", None)] = t
    return list(out.values())

#: Relations of an edge-list file added at a time.
_CSV_BATCH = 4_096


def _add_csv_batch(net, rels, lines, path, concepts_path, types_path) -> None:
    """Add one batch of edge-list rows; errors name the file and line."""
    if not rels:
        return
    try:
        net.add_relations(rels, add_missing=concepts_path is None)
    except NetworkError as e:
        m = re.match(r"relations\[(\d+)\]", e.key or "")
        if m and e.message.startswith(m.group()):   # the row's key becomes its file line
            line = lines[int(m.group(1))]
            e = NetworkError(e.message[m.end():].lstrip(), key=e.key, hint=e.hint,
                             where=f"{os.fspath(path)} line {line}", source=os.fspath(path),
                             line=line)
        if concepts_path is not None and e.hint == "; add it to the concepts first":
            e.hint = f"; add it to {os.fspath(concepts_path)} first"
        if types_path is not None and e.hint == "; define new ones with define_relation_type()":
            e.hint = f"; define new ones in {os.fspath(types_path)}"
        raise e from None


def _type_from_row(row: dict) -> RelationType:
    kw = {}
    for k in _TYPE_FIELDS:
        v = row.get(k)
        if v is None or v == "":
            continue
        if k == "symmetric":
            if v.lower() not in ("true", "false", "1", "0"):
                raise NetworkError(f"symmetric: must be true or false (got {v!r})", key='symmetric')
            kw[k] = v.lower() in ("true", "1")
        elif k == "sign":
            try:
                kw[k] = int(v)
            except ValueError:
                raise NetworkError(f"sign: must be +1 or -1 (got {v!r})", key='sign') from None
        else:
            try:
                kw[k] = float(v)
            except ValueError:
                raise NetworkError(f"{k}: must be a number (got {v!r})", key=k) from None
    return RelationType(row["name"], **kw)


def _delimiter(path, delimiter):
    if delimiter is not None:
        return delimiter
    p = os.fspath(path).lower()
    return "\t" if p.endswith((".tsv", ".tab", ".tsv.gz")) else ","


def check_input_file(path, error=NetworkError, key: str | None = None) -> str:
    """``path`` as a string, or ``error`` naming it when it cannot be an input file
    (missing, a folder, a device or FIFO, an impossible name)."""
    from ._inputs import check_regular
    where = f"{key}: " if key else ""
    try:
        p = os.fspath(path)
    except TypeError:
        raise error(f"{where}expected a file path (got {type(path).__name__})") from None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if "\x00" in p:
        raise error(f"{where}{p!r}: a file name cannot contain a NUL character")
    check_regular(p, error=error, key=key)
    return p


def read_text(path, error=NetworkError) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped); unreadable files, files
    that are not regular files or exceed the input size limit
    (``THOUGHTFIELD_MAX_INPUT_SIZE``) and invalid UTF-8 become ``error`` naming the file
    (and the position)."""
    from ._inputs import read_text as _read
    return _read(check_input_file(path, error), "input", error=error)


class _Limited(io.RawIOBase):
    """A binary reader that refuses to go past ``limit`` bytes (a file that keeps growing
    while it is read)."""

    def __init__(self, f, p, limit, env):
        self._f, self._p, self._limit, self._env, self._n = f, p, limit, env, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = self._f.readinto(b)
        self._n += n or 0
        if self._n > self._limit:
            from ._inputs import _too_big
            _too_big(self._p, self._n, self._limit, self._env, NetworkError, "")
        return n

    def close(self):
        self._f.close()
        super().close()


def _utf8_error(p, f) -> NetworkError:
    """The exact line and byte offset of the first invalid UTF-8 byte of ``f``."""
    import codecs
    f.seek(0)
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = newlines = 0
    while True:
        block = f.read(1 << 20)
        if not block:
            return NetworkError(f"{p}: not UTF-8 text; save the file as UTF-8")
        pending = dec.getstate()[0]
        try:
            dec.decode(block)
        except UnicodeDecodeError as e:
            buf = pending + block
            pos = offset - len(pending) + e.start
            line = newlines + buf[:e.start].count(b"\n") + 1
            return NetworkError(f"not UTF-8 text (byte 0x{buf[e.start]:02x} at "
                                f"offset {pos}); save the file as UTF-8",
                                where=f"{p} line {line}", source=str(p), line=line)
        offset += len(block)
        newlines += block.count(b"\n")


def _csv_file_rows(p, delimiter):
    """``(line_number, row)`` read from the CSV file ``p`` as a stream (memory does not
    grow with the file); the file must be a regular file within the input size limit."""
    from ._inputs import open_regular, size_limit
    limit, env = size_limit("input")
    f = open_regular(p, "input", error=NetworkError)
    try:
        text = io.TextIOWrapper(io.BufferedReader(_Limited(f, p, limit, env), 1 << 16),
                                encoding="utf-8-sig", newline="")
        try:
            yield from _csv_rows(p, text, delimiter)
        except UnicodeDecodeError:
            raise _utf8_error(p, f) from None
    finally:
        f.close()


def _read_table(path, delimiter, required, optional):
    """Yield ``(line_number, row_dict)`` from a CSV/TSV with a header, checking columns."""
    p = check_input_file(path)
    d = _delimiter(p, delimiter)
    rows = _csv_file_rows(p, d)
    try:
        lineno, header = next(rows)
    except StopIteration:
        raise NetworkError(f"{p}: empty file; expected a header row with "
                           f"{', '.join(required + optional)}") from None
    header = [h.strip().lower() for h in header]
    for col in required:
        if col not in header:
            raise NetworkError(f"{p}: missing column {col!r} in header {V.show(header, 80)}"
                               + V.did_you_mean(col, header))
    for h in header:
        if h not in required + optional:
            raise NetworkError(f"{p}: unknown column {V.show(h)}; expected "
                               f"{', '.join(required + optional)}"
                               + V.did_you_mean(h, required + optional))
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise NetworkError(f"{p}: column {dup!r} appears twice in the header")
    for lineno, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise NetworkError(f"expected {len(header)} fields, got {len(row)}",
                               where=f"{p} line {lineno}", source=str(p), line=lineno)
        yield lineno, {h: c.strip() for h, c in zip(header, row)}


def _csv_rows(p, text, delimiter):
    """``(line_number, row)`` from CSV text (a string or a text stream opened with
    ``newline=""``); csv module errors name the file and line."""
    if isinstance(text, str):
        text = io.StringIO(text, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise NetworkError(f"not valid CSV ({e})", where=f"{p} line {reader.line_num}",
                               source=str(p), line=reader.line_num) from None
        yield reader.line_num, row
