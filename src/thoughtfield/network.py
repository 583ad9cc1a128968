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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import scipy.sparse as sp

from . import _validate as V
from .errors import NetworkError

DEFAULT_LAYERS: tuple[str, ...] = ("image", "idea", "structure", "goal")


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
            raise NetworkError(f"{key}.sign: must be +1 or -1 (got {self.sign!r})")
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


class ConceptNetwork:
    """Named concepts, each in a layer of an ordered ladder, joined by typed relations.

    Parameters
    ----------
    concepts : iterable, optional
        Concept names, ``(name, layer)`` pairs, or a mapping ``name -> layer``.
    relations : iterable, optional
        ``(source, target)``, ``(source, target, type)`` or ``(source, target, type, weight)``
        tuples, or mappings with those keys.
    layers : sequence of str
        The abstraction ladder, lowest first (default ``image, idea, structure, goal``).
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

    def __init__(self, concepts=None, relations=None, *, layers: Sequence[str] = DEFAULT_LAYERS,
                 relation_types=None, default_layer: str | None = None,
                 add_missing: bool = False, name: str | None = None):
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
            raise NetworkError(f"layers: expected a list of layer names (got {layers!r})")
        layers = tuple(layers)
        if not layers:
            raise NetworkError("layers: must name at least one layer")
        for i, lay in enumerate(layers):
            V.name(f"layers[{i}]", lay, error=NetworkError)
        if len(set(layers)) != len(layers):
            dup = next(x for x in layers if layers.count(x) > 1)
            raise NetworkError(f"layers: duplicate layer {dup!r}")
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
                    raise NetworkError(f"relation_types: expected RelationType objects (got {t!r})")
                self._types[t.name] = t
        # relations stored in chunks of arrays, consolidated lazily
        self._rel_chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._type_codes: dict[str, int] = {}
        self._type_names: list[str] = []
        self._cache: dict = {}
        if concepts is not None:
            self._add_concept_spec(concepts)
        if relations is not None:
            self.add_relations(relations, add_missing=add_missing)

    # ------------------------------------------------------------------ concepts
    def _check_layer(self, key: str, layer) -> str:
        if not isinstance(layer, str) or layer not in self._layer_index:
            raise NetworkError(f"{key}: unknown layer {layer!r}; the layers are "
                               f"{', '.join(self._layers)}" + V.did_you_mean(str(layer), self._layers))
        return layer

    def _add_concept_spec(self, concepts):
        if isinstance(concepts, Mapping):
            for name, layer in concepts.items():
                self.add_concept(name, layer)
            return
        if isinstance(concepts, str):
            raise NetworkError("concepts: expected a list of names, not a single string "
                               f"({concepts!r}); wrap it in a list")
        if isinstance(concepts, bytes) or not isinstance(concepts, Iterable):
            raise NetworkError(f"concepts: expected a list of names or a table name -> layer "
                               f"(got {concepts!r})")
        for i, c in enumerate(concepts):
            if isinstance(c, str):
                self.add_concept(c)
            elif isinstance(c, Mapping):
                extra = set(c) - {"name", "layer"}
                if extra or "name" not in c:
                    raise NetworkError(f"concepts[{i}]: expected keys 'name' and optional 'layer' "
                                       f"(got {sorted(c)})")
                self.add_concept(c["name"], c.get("layer"))
            elif isinstance(c, (tuple, list)) and len(c) == 2:
                self.add_concept(c[0], c[1])
            else:
                raise NetworkError(f"concepts[{i}]: expected a name or a (name, layer) pair (got {c!r})")

    def add_concept(self, name: str, layer: str | None = None) -> int:
        """Add one concept; returns its index."""
        V.name("concept name", name, error=NetworkError)
        if name in self._index:
            raise NetworkError(f"duplicate concept {name!r}: every concept name must be unique")
        lay = self._default_layer if layer is None else self._check_layer(f"concept {name!r}: layer",
                                                                          layer)
        self._index[name] = len(self._names)
        self._names.append(name)
        self._layer_of.append(self._layer_index[lay])
        self._cache.clear()
        return self._index[name]

    def add_concepts(self, names: Iterable[str], layer: str | None = None) -> None:
        """Add several concepts, all in ``layer`` (or the default layer)."""
        if isinstance(names, str):
            raise NetworkError(f"add_concepts: expected a list of names, not the string {names!r}")
        for name in names:
            self.add_concept(name, layer)

    def index(self, name: str, key: str = "concept") -> int:
        """Index of a concept, with a did-you-mean error for unknown names."""
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise NetworkError(f"{key}: unknown concept {name!r}"
                               + V.did_you_mean(str(name), self._index)) from None

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
        """The layer ladder, lowest (most concrete) first."""
        return self._layers

    @property
    def layer_codes(self) -> np.ndarray:
        """Layer of every concept as an index into :attr:`layers`."""
        return np.asarray(self._layer_of, dtype=np.int16)

    @property
    def concept_layers(self) -> tuple[str, ...]:
        """Layer name of every concept."""
        return tuple(self._layers[i] for i in self._layer_of)

    def layer(self, name: str) -> str:
        return self._layers[self._layer_of[self.index(name)]]

    def in_layer(self, layer: str) -> tuple[str, ...]:
        code = self._layer_index[self._check_layer("layer", layer)]
        return tuple(n for n, l in zip(self._names, self._layer_of) if l == code)

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
                               + V.did_you_mean(b, ["sign", "gain", "symmetric", "forward", "reverse"]))
        t = replace(t, **changes)
        self._types[name] = t
        self._cache.clear()
        return t

    def _relation_type(self, name, key) -> RelationType:
        try:
            return self._types[name]
        except (KeyError, TypeError):
            raise NetworkError(f"{key}: unknown relation type {name!r}; known types are "
                               f"{', '.join(sorted(self._types))}" + V.did_you_mean(str(name), self._types)
                               + "; define new ones with define_relation_type()") from None

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

    def add_relations(self, relations, *, add_missing: bool = False) -> None:
        """Add relations given as tuples ``(source, target[, type[, weight]])`` or mappings."""
        src, tgt, typ, wts = [], [], [], []
        if isinstance(relations, (str, bytes, Mapping)) or not isinstance(relations, Iterable):
            raise NetworkError("relations: expected a list of relations (got "
                               f"{type(relations).__name__} {relations!r})")
        for i, r in enumerate(relations):
            key = f"relations[{i}]"
            if isinstance(r, Mapping):
                extra = set(r) - {"source", "target", "type", "weight"}
                if extra:
                    b = sorted(extra)[0]
                    raise NetworkError(f"{key}: unknown key {b!r}"
                                       + V.did_you_mean(b, ["source", "target", "type", "weight"]))
                if "source" not in r or "target" not in r:
                    raise NetworkError(f"{key}: needs 'source' and 'target'")
                s, t, ty, w = r["source"], r["target"], r.get("type", "association"), r.get("weight", 1.0)
            elif isinstance(r, (tuple, list)) and 2 <= len(r) <= 4:
                s, t = r[0], r[1]
                ty = r[2] if len(r) > 2 else "association"
                w = r[3] if len(r) > 3 else 1.0
            else:
                raise NetworkError(f"{key}: expected (source, target[, type[, weight]]) (got {r!r})")
            desc = f"{key} ({s!r} -> {t!r})"
            for endpoint in (s, t):
                if endpoint not in self._index:
                    if add_missing and isinstance(endpoint, str):
                        self.add_concept(endpoint)
                    else:
                        raise NetworkError(f"{desc}: unknown concept {endpoint!r}"
                                           + V.did_you_mean(str(endpoint), self._index)
                                           + ("" if add_missing else "; add it to the concepts first"))
            self._relation_type(ty, f"{desc}: type")
            w = V.real(f"{desc}: weight", w, error=NetworkError)
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
        src = np.asarray(source, dtype=np.int64).ravel()
        tgt = np.asarray(target, dtype=np.int64).ravel()
        if src.shape != tgt.shape:
            raise NetworkError(f"add_relation_arrays: source and target differ in length "
                               f"({src.size} vs {tgt.size})")
        w = np.broadcast_to(np.asarray(weight, dtype=np.float64), src.shape).copy()
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
        rows = np.concatenate([t, s])
        cols = np.concatenate([s, t])
        vals = np.concatenate([wf, wr])
        keep = vals != 0
        W = sp.coo_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n)).tocsr()
        W.sum_duplicates()
        W.eliminate_zeros()
        W = W.astype(dtype)
        W.sort_indices()
        self._cache[key] = W
        return W

    # ------------------------------------------------------------- transforms
    def permuted(self, order: Sequence) -> "ConceptNetwork":
        """The same network with concepts in a new order (names or indices)."""
        order = list(order)
        if len(order) != self.n:
            raise NetworkError(f"permuted: order must list all {self.n} concepts (got {len(order)})")
        idx = np.array([self.index(o, "permuted: order") if isinstance(o, str) else int(o)
                        for o in order], dtype=np.int64)
        if sorted(idx.tolist()) != list(range(self.n)):
            raise NetworkError("permuted: order must be a permutation of the concepts")
        new = ConceptNetwork(layers=self._layers, relation_types=self._types.values(),
                             default_layer=self._default_layer, name=self.name)
        for i in idx:
            new.add_concept(self._names[i], self._layers[self._layer_of[i]])
        inv = np.empty(self.n, np.int64)
        inv[idx] = np.arange(self.n)
        s, t, c, w = self._relation_arrays()
        for code, tname in enumerate(self._type_names):
            m = c == code
            if m.any():
                new.add_relation_arrays(inv[s[m]], inv[t[m]], w[m], tname)
        return new

    def copy(self) -> "ConceptNetwork":
        return self.permuted(range(self.n))

    # ------------------------------------------------------- dict round trip
    def to_dict(self) -> dict:
        """A JSON/TOML-friendly description (concepts, layers, relation types, relations)."""
        return {
            "layers": list(self._layers),
            "concepts": [[n, self._layers[l]] for n, l in zip(self._names, self._layer_of)],
            "relation_types": {k: v.to_dict() for k, v in self._types.items()},
            "relations": [list(r) for r in self.relations()],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "ConceptNetwork":
        allowed = {"layers", "concepts", "relation_types", "relations", "name"}
        extra = set(d) - allowed
        if extra:
            b = sorted(extra)[0]
            raise NetworkError(f"network: unknown key {b!r}" + V.did_you_mean(b, allowed))
        types = []
        for k, v in (d.get("relation_types") or {}).items():
            if not isinstance(v, Mapping):
                raise NetworkError(f"relation_types.{k}: expected a table of fields (got {v!r})")
            bad = set(v) - {"sign", "gain", "symmetric", "forward", "reverse"}
            if bad:
                b = sorted(bad)[0]
                raise NetworkError(f"relation_types.{k}: unknown field {b!r}"
                                   + V.did_you_mean(b, ["sign", "gain", "symmetric", "forward", "reverse"]))
            types.append(RelationType(k, **v))
        return cls(d.get("concepts", []), d.get("relations", []),
                   layers=d.get("layers", DEFAULT_LAYERS), relation_types=types, name=d.get("name"))

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
                      layer_attr: str = "layer", default_type: str = "association",
                      **kwargs) -> "ConceptNetwork":
        """From a networkx graph: node attribute ``layer``; edge attributes ``type`` and
        ``weight``.  Graph attributes ``layers`` and ``relation_types`` (as written by
        :meth:`to_networkx`) are honoured.  Node names are converted with ``str``."""
        gattr = getattr(graph, "graph", {}) or {}
        if "layers" in gattr and "layers" not in kwargs:
            layers = gattr["layers"]
            kwargs["layers"] = layers.split("|") if isinstance(layers, str) else tuple(layers)
        if "relation_types" in gattr and "relation_types" not in kwargs:
            rts = gattr["relation_types"]
            if isinstance(rts, str):
                import json
                rts = json.loads(rts)
            kwargs["relation_types"] = [RelationType(k, **v) for k, v in rts.items()]
        net = cls(**kwargs)
        for node, data in graph.nodes(data=True):
            net.add_concept(str(node), data.get(layer_attr))
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
        with ``type`` and ``weight``; node attribute ``layer``; graph attributes ``layers``
        and ``relation_types`` (as strings, so GraphML/GEXF can store them)."""
        import json

        import networkx as nx
        g = nx.MultiDiGraph()
        g.graph["layers"] = "|".join(self._layers)
        g.graph["relation_types"] = json.dumps({k: v.to_dict() for k, v in self._types.items()})
        if self.name:
            g.graph["name"] = self.name
        for n, l in zip(self._names, self._layer_of):
            g.add_node(n, layer=self._layers[l])
        for s, t, ty, w in self.relations():
            g.add_edge(s, t, type=ty, weight=w)
        return g

    @classmethod
    def from_csv(cls, path, concepts_path=None, *, delimiter: str | None = None,
                 **kwargs) -> "ConceptNetwork":
        """From an edge list with a header row: ``source, target[, type][, weight]``.

        ``concepts_path`` optionally lists concepts with ``name[, layer]`` (then relations may
        only use those); otherwise concepts are added as they appear. The delimiter is
        a tab for ``.tsv``/``.tab`` files and a comma otherwise, unless given.
        """
        net = cls(**kwargs)
        if concepts_path is not None:
            for lineno, row in _read_table(concepts_path, delimiter, required=("name",),
                                           optional=("layer",)):
                try:
                    net.add_concept(row["name"], row.get("layer") or None)
                except NetworkError as e:
                    raise NetworkError(f"{os.fspath(concepts_path)} line {lineno}: {e}") from None
        rels = []
        lines = []
        for lineno, row in _read_table(path, delimiter, required=("source", "target"),
                                       optional=("type", "weight")):
            w = row.get("weight")
            if w is None or w == "":
                wv = 1.0
            else:
                try:
                    wv = float(w)
                except ValueError:
                    raise NetworkError(f"{os.fspath(path)} line {lineno}: weight: must be a number "
                                       f"(got {w!r})") from None
            rels.append((row["source"], row["target"], row.get("type") or "association", wv))
            lines.append(lineno)
        try:
            net.add_relations(rels, add_missing=concepts_path is None)
        except NetworkError as e:
            msg = str(e)
            if msg.startswith("relations["):
                k = int(msg[len("relations["):msg.index("]")])
                msg = f"{os.fspath(path)} line {lines[k]}: " + msg[msg.index("]") + 1:].lstrip()
            raise NetworkError(msg) from None
        return net

    def to_csv(self, path, concepts_path=None, *, delimiter: str | None = None) -> None:
        """Write the relations (and optionally the concepts with layers) as CSV/TSV."""
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
                w.writerow(["name", "layer"])
                for n, l in zip(self._names, self._layer_of):
                    w.writerow([n, self._layers[l]])

    # ------------------------------------------------------------------ misc
    def summary(self) -> dict:
        counts = {}
        _, _, c, _ = self._relation_arrays()
        for code, name in enumerate(self._type_names):
            k = int((c == code).sum())
            if k:
                counts[name] = k
        per_layer = {lay: int((self.layer_codes == i).sum()) for i, lay in enumerate(self._layers)}
        return {"concepts": self.n, "relations": self.n_relations, "relations_by_type": counts,
                "concepts_by_layer": per_layer}

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        return f"<ConceptNetwork{nm}: {self.n} concepts, {self.n_relations} relations, layers {'/'.join(self._layers)}>"

    def __eq__(self, other) -> bool:
        if not isinstance(other, ConceptNetwork):
            return NotImplemented
        return (self._names == other._names and self.concept_layers == other.concept_layers
                and self._layers == other._layers and self._types == other._types
                and sorted(self.relations()) == sorted(other.relations()))

    __hash__ = None


def _delimiter(path, delimiter):
    if delimiter is not None:
        return delimiter
    p = os.fspath(path).lower()
    return "\t" if p.endswith((".tsv", ".tab", ".tsv.gz")) else ","


def _read_table(path, delimiter, required, optional):
    """Yield ``(line_number, row_dict)`` from a CSV/TSV with a header, checking columns."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise NetworkError(f"{p}: file not found")
    d = _delimiter(p, delimiter)
    with open(p, newline="", encoding="utf-8") as f:
        text = f.read()
    reader = csv.reader(io.StringIO(text), delimiter=d)
    try:
        header = next(reader)
    except StopIteration:
        raise NetworkError(f"{p}: empty file; expected a header row with "
                           f"{', '.join(required + optional)}") from None
    header = [h.strip().lower() for h in header]
    for col in required:
        if col not in header:
            raise NetworkError(f"{p}: missing column {col!r} in header {header}"
                               + V.did_you_mean(col, header))
    for h in header:
        if h not in required + optional:
            raise NetworkError(f"{p}: unknown column {h!r}; expected {', '.join(required + optional)}"
                               + V.did_you_mean(h, required + optional))
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise NetworkError(f"{p} line {lineno}: expected {len(header)} fields, got {len(row)}")
        yield lineno, {h: c.strip() for h, c in zip(header, row)}

