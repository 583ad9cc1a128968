"""The bridge: lower descriptions (network, model, stimuli, solver) to plain arrays.

Nothing here imports numba; the kernels receive only what :func:`build_problem` returns.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import _validate as V
from ._lazy import LazyModule
from ._problem import MF_FIELDS, MI_FIELDS, Method, Problem, pack
from .errors import ConfigError, ThoughtfieldWarning
from .mechanisms import PLASTICITY_RULES
from .model import TRANSFER_CODES, Model
from .network import ConceptNetwork, coupling_csr
from .protocol import Protocol
from .saving import SaveAt
from .solvers import Solver
from .stimuli import Clamp, Pulse, as_stimuli

sp = LazyModule("scipy.sparse")

_FORM = {"activation": 0, "potential": 1}


@dataclass
class Layout:
    """Where the mechanisms live in the lowered problem, with the names results need.

    ``pools``: ``(name, concept indices, inhibition)`` per competition pool (layer pools
    expanded); ``decisions``: one dict per :class:`~thoughtfield.Choice` (``pool`` name,
    ``pool_index``, ``options`` (concept names), ``on``, ``threshold``, ``onset``,
    ``correct`` (position in the pool or -1)); ``controls``: the Control descriptions;
    ``ideas``: ``(names, patterns (P, N), is_set)`` or None; ``out``: the blocks of a saved
    row after the output ``a``, as ``(variable, rows)`` pairs.
    """

    n: int
    m: int
    nstate: int
    h_off: int = -1
    c_off: int = -1
    e_off: int = -1
    w_off: int = -1
    plastic: dict | None = None
    pools: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    controls: tuple = ()
    ideas: tuple | None = None
    out: list = field(default_factory=list)

    def pool_index(self, name: str, key: str) -> int:
        names = [p[0] for p in self.pools]
        if name not in names:
            raise ConfigError(f"{key}: unknown pool {name!r}" + V.did_you_mean(name, names)
                              + (f"; the pools are {', '.join(names)}" if names else ""), key=key)
        return names.index(name)

    def state_name(self, row: int, concepts) -> str:
        """Human name of state row ``row`` (for error messages)."""
        n = self.n
        if row < n:
            return f"concept {concepts[row]!r}"
        if self.h_off >= 0 and self.h_off <= row < self.h_off + n:
            return f"adaptation of concept {concepts[row - self.h_off]!r}"
        if self.c_off >= 0 and self.c_off <= row < self.c_off + len(self.controls):
            return f"control {self.controls[row - self.c_off].name!r}"
        if self.w_off >= 0 and row >= self.w_off:
            e = row - self.w_off
            ed = self.plastic
            if e < ed["src"].size:
                return (f"weight of the plastic relation {concepts[ed['src'][e]]!r} -> "
                        f"{concepts[ed['tgt'][e]]!r}")
            return f"running average of concept {concepts[e - ed['src'].size]!r}"
        if self.e_off >= 0:
            r = row - self.e_off
            for d in self.decisions:
                k = d["e_rows"]
                if d["e_start"] <= r < d["e_start"] + k:
                    return (f"evidence for {d['options'][r - d['e_start']]!r} in pool "
                            f"{d['pool']!r}")
        return f"state row {row}"


@dataclass
class Built:
    problem: Problem
    y0: np.ndarray          # float64[S*M], member-minor
    stimuli: tuple
    layout: Layout = None
    weights: object = None  # the sparse W used (scipy CSR), relations + sparse Hebbian part


def _per_member(key, values, n, m):
    """Flatten a per-concept parameter for the kernels: ``(N,)`` stays as is (shared by
    all members); ``(M, N)`` becomes member-minor ``a[i * M + k]``."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1:
        return np.ascontiguousarray(a)
    if a.shape != (m, n):
        raise ConfigError(f"{key}: per-member values must have shape (members, concepts) = "
                          f"({m}, {n}) (got {a.shape})", key=key)
    return np.ascontiguousarray(a.T).ravel()


def build_problem(network: ConceptNetwork, model: Model, stimuli, *, t0: float, t_end: float,
                  members: int = 1, initial=None) -> Built:
    """Lower the descriptions to a :class:`~thoughtfield._problem.Problem`."""
    if network.n == 0:
        raise ConfigError("network: has no concepts; add concepts before simulating", key="network")
    n, m = network.n, members
    edges = split_edges(network, model)
    W = coupling_matrix(network, model, edges)
    mech = _lower_mechanisms(network, model, W, m, t0, t_end, edges)
    W = mech.pop("_W")
    indptr = W.indptr.astype(np.uint64)   # unsigned: see _kernels/rhs.py
    indices = W.indices.astype(np.uint32)
    data = W.data.astype(np.float64)

    tau = model.resolve("tau", network)
    params = {k: model.resolve(k, network) for k in ("gain", "threshold", "bias", "sigma")}
    with np.errstate(over="ignore", invalid="ignore"):   # a tiny tau is refused later,
        tau_inv = 1.0 / tau                              # naming it (_numerics.check)
        noise = params["sigma"] * tau_inv

    stims = as_stimuli(stimuli)
    labelled = [(f"stimuli[{k}]", s) for k, s in enumerate(stims)]
    if model.goals is not None:
        labelled += [(f"goals.active[{k}]", s) for k, s in enumerate(model.goals.active)]
    seg_t, seg_ptr, ent = _segments(network, labelled, t0, t_end, m,
                                    extra_bounds=mech.pop("_bounds"))

    layout = mech.pop("_layout")
    y0 = _initial_state(network, model, initial, m)
    y0 = np.concatenate([y0, mech.pop("_y_extra")])
    prob = Problem(
        n=n, m=m, form=_FORM[model.form], ftype=TRANSFER_CODES[model.transfer],
        indptr=indptr, indices=indices, data=data,
        tau_inv=_per_member("tau", tau_inv, n, m),
        gain=_per_member("gain", params["gain"], n, m),
        thr=_per_member("threshold", params["threshold"], n, m),
        bias=_per_member("bias", params["bias"], n, m),
        noise=_per_member("sigma", noise, n, m),
        seg_t=seg_t, seg_ptr=seg_ptr,
        ent_idx=ent[0], ent_member=ent[1], ent_val=ent[2], ent_kind=ent[3],
        **mech,
    )
    return Built(prob, y0, stims, layout, W)


# ------------------------------------------------------------------ couplings
def coupling_matrix(network: ConceptNetwork, model: Model, edges: dict | None = None):
    """The sparse coupling ``W`` of the relations as the model uses it: relation types
    of the goal bias taken out (:class:`~thoughtfield.Goals`; with ``direction =
    "goal_to_target"`` their target -> goal direction stays), layer gains applied
    (:class:`~thoughtfield.Layers`), plastic (:class:`~thoughtfield.Plasticity`) and gated
    (:class:`~thoughtfield.Gate`) relations taken out -- the kernels add those as terms
    of their own (``edges``: the model's :func:`split_edges`, when already computed).
    Without any of these it is ``network.weight_matrix()``."""
    goal_types = ()
    if model.goals is not None:
        goal_types = model.goals.types
        for ty in goal_types:
            network._relation_type(ty, "goals.types")
    if model.gates or model.plasticity is not None:
        return _ungated_matrix(network, edges if edges is not None else
                               split_edges(network, model))
    if goal_types and model.goals.direction == "goal_to_target":
        # only the goal -> target direction forms the goal bias: the feedback stays in W
        if model.layers is None:
            return _goal_split(network, goal_types, keep="rest")
        return _layered_matrix(network, model.layers, set(goal_types), goal_feedback=True)
    skip = set(goal_types)
    if model.layers is None:
        if not skip:
            return network.weight_matrix()
        keep = [t for t in network._type_names if t not in skip]
        if not keep:
            return sp.csr_matrix((network.n, network.n), dtype=np.float64)
        return network.weight_matrix(types=keep)
    return _layered_matrix(network, model.layers, skip)


def _plastic_types(network, model) -> tuple:
    """The relation types of the plastic relations (checked against the network)."""
    pl = model.plasticity
    if pl is None:
        return ()
    goal_types = model.goals.types if model.goals is not None else ()
    for k, ty in enumerate(pl.relations):
        if ty not in network.relation_types:
            raise ConfigError(f"plasticity.relations[{k}]: unknown relation type {ty!r}"
                              + V.did_you_mean(ty, list(network.relation_types))
                              + "; define it under [network.relation_types]",
                              key=f"plasticity.relations[{k}]")
        if ty in goal_types:
            raise ConfigError(f"plasticity.relations[{k}]: {ty!r} forms the goal bias "
                              "(goals.types), which is not part of W; choose another type",
                              key=f"plasticity.relations[{k}]")
    return pl.relations


def _goal_split(network, goal_types, keep):
    """``W`` of the relations with the goal types acting only in one direction: ``keep =
    "rest"``: every other type, plus the goal types' target -> goal direction (the
    coupling that stays in ``W``); ``keep = "bias"``: the goal types' goal -> target
    direction alone (``B`` of :class:`~thoughtfield.Goals` with ``direction =
    "goal_to_target"``)."""
    s, t, c, w = network._relation_arrays()
    fwd = np.zeros(len(network._type_names))
    rev = np.zeros(len(network._type_names))
    for name, code in network._type_codes.items():
        f, r = network._types[name].factors()
        if name in goal_types:
            fwd[code], rev[code] = (f, 0.0) if keep == "bias" else (0.0, r)
        elif keep == "rest":
            fwd[code], rev[code] = f, r
    wf = w * fwd[c] if c.size else w
    wr = w * rev[c] if c.size else w
    return coupling_csr(network.n, s, t, wf, wr)


def _layered_matrix(network, layers, goal_types, goal_feedback=False):
    s, t, _, wf, wr = _layered_weights(network, layers, goal_types, goal_feedback=goal_feedback)
    return coupling_csr(network.n, s, t, wf, wr)


def _layered_weights(network, layers, goal_types, *, unit: bool = False,
                     goal_feedback: bool = False):
    """Per relation: ``(source, target, type code, forward, reverse)`` weights with the
    layer gains applied; relations of ``goal_types`` weigh 0, or with ``goal_feedback``
    keep their target -> goal direction (with the layer gains of their layers) and lose
    the goal -> target one (``direction = "goal_to_target"``).  ``unit``: as if every
    relation weighed 1 (the factors the layers and the type put on a relation)."""
    s, t, c, w = network._relation_arrays()
    if unit:
        w = np.ones_like(w)
    tnames = list(network._type_names)
    ntype = len(tnames)
    sg = np.zeros(ntype)
    fwd = np.zeros(ntype)
    rev = np.zeros(ntype)
    for code, name in enumerate(tnames):
        rt = network._types[name]
        if name in goal_types and not goal_feedback:
            continue
        sg[code] = rt.sign * rt.gain
        fwd[code], rev[code] = rt.factors()
    wf = w * fwd[c] if c.size else w.copy()
    wr = w * rev[c] if c.size else w.copy()
    L = network.layer_codes.astype(np.int64)
    ls, lt = L[s], L[t]
    ladder = network.layers
    lat = np.ones(len(ladder))
    if isinstance(layers.lateral, Mapping):
        for k, v in layers.lateral.items():
            lat[_layer_index(network, k, f"layers.lateral.{k}")] = v
    else:
        lat[:] = layers.lateral
    same = ls == lt
    wf[same] *= lat[ls[same]]
    wr[same] *= lat[ls[same]]
    claimed = np.full(s.size, -1, np.int64)
    for k, pj in enumerate(layers.projections):
        key = f"layers.projections[{k}]"
        lo = _layer_index(network, pj.lower, f"{key}.lower")
        hi = _layer_index(network, pj.upper, f"{key}.upper")
        if lo > hi:
            raise ConfigError(f"{key}.lower: {pj.lower!r} is above {pj.upper!r} in the ladder "
                              f"({' -> '.join(ladder)}); swap lower and upper", key=f"{key}.lower")
        if pj.types is None:
            tmask = np.ones(ntype, bool)
        else:
            tmask = np.zeros(ntype, bool)
            for ty in pj.types:
                network._relation_type(ty, f"{key}.types")
                if ty in goal_types and not goal_feedback:
                    raise ConfigError(f"{key}.types: {ty!r} forms the goal bias (goals.types) and "
                                      "is not part of W; remove it here (or set goals.direction "
                                      "= 'goal_to_target' to keep its feedback in W)",
                                      key=f"{key}.types")
                if ty in network._type_codes:
                    tmask[network._type_codes[ty]] = True
        sel = tmask[c] & (((ls == lo) & (lt == hi)) | ((ls == hi) & (lt == lo))) if c.size else \
            np.zeros(0, bool)
        twice = sel & (claimed >= 0)
        if twice.any():
            r = int(np.argmax(twice))
            raise ConfigError(f"{key}: relation {network.concepts[s[r]]!r} -> "
                              f"{network.concepts[t[r]]!r} ({tnames[c[r]]}) is also covered by "
                              f"layers.projections[{claimed[r]}]; give each relation type to one "
                              "projection per layer pair", key=key)
        claimed[sel] = k
        up_src = sel & (ls == lo)      # source in the lower layer: forward flow goes up
        dn_src = sel & (ls == hi)
        base = w * sg[c] if c.size else w
        wf[up_src] = base[up_src] * pj.up
        wr[up_src] = base[up_src] * pj.down
        wf[dn_src] = base[dn_src] * pj.down
        wr[dn_src] = base[dn_src] * pj.up
    if goal_feedback and c.size:
        gcode = [network._type_codes[g] for g in goal_types if g in network._type_codes]
        wf[np.isin(c, gcode)] = 0.0   # goal -> target: the goal bias, not W
    return s, t, c, wf, wr


def _directed_edges(network, model):
    """Every relation's entries in ``W`` as directed edges: ``(src, tgt, code, w, factor)``
    arrays (forward entries, then reverse ones), with the types' signs and gains and the
    layers' gains applied, goal types left out (all but their target -> goal direction
    with ``goals.direction = "goal_to_target"``); ``factor`` is the entry of a relation of
    weight 1."""
    goal_types = set(model.goals.types) if model.goals is not None else set()
    feedback = bool(goal_types) and model.goals.direction == "goal_to_target"
    if model.layers is None:
        s, t, c, w = network._relation_arrays()
        fwd = np.zeros(len(network._type_names))
        rev = np.zeros(len(network._type_names))
        for name, code in network._type_codes.items():
            f, r = network._types[name].factors()
            if name not in goal_types:
                fwd[code], rev[code] = f, r
            elif feedback:      # the target -> goal direction stays in W
                rev[code] = r
        ff, fr = fwd[c], rev[c]
        wf, wr = w * ff, w * fr
    else:
        s, t, c, wf, wr = _layered_weights(network, model.layers, goal_types,
                                           goal_feedback=feedback)
        _, _, _, ff, fr = _layered_weights(network, model.layers, goal_types, unit=True,
                                           goal_feedback=feedback)
    f = ff != 0
    r = fr != 0
    return (np.concatenate([s[f], t[r]]).astype(np.int64),
            np.concatenate([t[f], s[r]]).astype(np.int64),
            np.concatenate([c[f], c[r]]).astype(np.int64),
            np.concatenate([wf[f], wr[r]]).astype(np.float64),
            np.concatenate([ff[f], fr[r]]).astype(np.float64))


def _plastic_mask(network, model, code):
    types = _plastic_types(network, model)
    codes = [network._type_codes[ty] for ty in types if ty in network._type_codes]
    return np.isin(code, np.array(codes, np.int64))


def _gate_of_edges(network, model, src, tgt, code) -> np.ndarray:
    """The gate (index into ``model.gates``) of every directed edge, -1 for ungated ones."""
    gid = np.full(src.size, -1, np.int64)
    L = network.layer_codes.astype(np.int64) if model.gates else None
    for g, gate in enumerate(model.gates):
        key = f"gates[{g}]"
        sel = np.ones(src.size, bool)
        if gate.types is not None:
            for k, ty in enumerate(gate.types):
                network._relation_type(ty, f"{key}.types[{k}]")
            sel &= np.isin(code, [network._type_codes[ty] for ty in gate.types
                                  if ty in network._type_codes])
        for side, ends, layer, names in (("source", src, gate.source_layer, gate.sources),
                                         ("target", tgt, gate.target_layer, gate.targets)):
            if layer is not None:
                sel &= L[ends] == _layer_index(network, layer, f"{key}.{side}_layer")
            if names is not None:
                idx = [network.index(nm, f"{key}.{side}s[{k}]") for k, nm in enumerate(names)]
                sel &= np.isin(ends, idx)
        twice = sel & (gid >= 0)
        if twice.any():
            e = int(np.argmax(twice))
            raise ConfigError(f"{key}: the relation {network.concepts[src[e]]!r} -> "
                              f"{network.concepts[tgt[e]]!r} is selected by gates[{gid[e]}] "
                              "too; a relation has one gate", key=key)
        if not sel.any():
            raise ConfigError(f"{key}: selects no relation of the network; check its types, "
                              "layers and concepts", key=key)
        gid[sel] = g
    return gid


def split_edges(network, model) -> dict | None:
    """For a model with gates or plastic relations: every relation's directed entries of
    ``W`` (:func:`_directed_edges`: ``src``, ``tgt``, ``code``, ``w``, ``factor``) with
    the ``gate`` of each (-1: none) and whether it is ``plastic`` -- computed once per
    lowering and shared by the coupling matrix and the lowerers; None for other models."""
    if not model.gates and model.plasticity is None:
        return None
    src, tgt, code, w, factor = _directed_edges(network, model)
    gate = _gate_of_edges(network, model, src, tgt, code)
    plastic = _plastic_mask(network, model, code)
    both = (gate >= 0) & plastic
    if both.any():
        e = int(np.argmax(both))
        raise ConfigError(f"gates[{gate[e]}]: the relation {network.concepts[src[e]]!r} -> "
                          f"{network.concepts[tgt[e]]!r} is plastic too ([plasticity]); "
                          "plastic relations cannot be gated yet", key=f"gates[{gate[e]}]")
    return {"src": src, "tgt": tgt, "code": code, "w": w, "factor": factor, "gate": gate,
            "plastic": plastic}


def gated_edges(edges: dict) -> dict:
    """The gated edges of :func:`split_edges`: ``src``, ``tgt``, ``w``, ``gate`` arrays, in
    relation order."""
    sel = edges["gate"] >= 0
    return {k: edges[k][sel] for k in ("src", "tgt", "w", "gate")}


def _ungated_matrix(network, edges: dict):
    """``W`` of the relations no gate selects (and that are not plastic)."""
    keep = (edges["gate"] < 0) & ~edges["plastic"]
    return coupling_csr(network.n, edges["src"][keep], edges["tgt"][keep], edges["w"][keep],
                        np.zeros(int(keep.sum())))


def plastic_edges(network, model, edges: dict) -> dict:
    """The plastic edges of ``model.plasticity`` on ``network`` (``edges``: its
    :func:`split_edges`), sorted by (target, source, type): arrays ``src``, ``tgt``, ``code`` (relation type code), ``w0`` (starting weight:
    the entry the relation puts in ``W``, or ``initial`` for the ``between`` pairs) and
    ``factor`` (what the type's sign and gain and the layers put on a relation of weight 1,
    to turn a learned weight back into a relation weight)."""
    pl = model.plasticity
    types = _plastic_types(network, model)
    sel = edges["plastic"]
    src, tgt, code, w0, factor = (edges[k][sel] for k in ("src", "tgt", "code", "w", "factor"))
    if pl.between:
        idx = [network.index(nm, f"plasticity.between[{k}]") for k, nm in enumerate(pl.between)]
        have = set(zip(src.tolist(), tgt.tolist()))
        ty = types[0]
        f1, _ = network._types[ty].factors()
        pairs = [(j, i) for i in idx for j in idx if i != j and (j, i) not in have]
        if pairs:
            pj = np.array(pairs, np.int64)
            src = np.concatenate([src, pj[:, 0]])
            tgt = np.concatenate([tgt, pj[:, 1]])
            code = np.concatenate([code, np.full(len(pairs), network._type_codes.get(ty, -1))])
            w0 = np.concatenate([w0, np.full(len(pairs), pl.initial)])
            factor = np.concatenate([factor, np.full(len(pairs), f1 if f1 != 0 else 1.0)])
    order = np.lexsort((code, src, tgt))
    return {"src": src[order], "tgt": tgt[order], "code": code[order], "w0": w0[order],
            "factor": factor[order]}


def _layer_index(network, layer, key):
    if not getattr(network, "layered", True):
        raise ConfigError(f"{key}: the network has no layers (none was given in the config or "
                          f"the network file), so layer {layer!r} names nothing; place the "
                          "concepts in layers, or name the concepts instead", key=key)
    if layer not in network.layers:
        raise ConfigError(f"{key}: unknown layer {layer!r}; the layers are "
                          f"{', '.join(network.layers)}" + V.did_you_mean(str(layer), network.layers),
                          key=key)
    return network.layers.index(layer)


def resolve_pools(network, model) -> list:
    """``(name, concept indices, inhibition)`` of every competition pool (layer pools
    ``layer = "*"`` expanded to one pool per non-empty layer, named ``name:layer``)."""
    pools = []
    for k, p in enumerate(model.pools):
        key = f"pools[{k}]"
        if p.concepts is not None:
            pools.append((p.name, network.indices(p.concepts, f"{key}.concepts"), p.inhibition))
        elif p.layer == "*" and not getattr(network, "layered", True):
            # no layers: one pool of every concept, under the pool's own name
            pools.append((p.name, np.arange(network.n, dtype=np.int64), p.inhibition))
        elif p.layer == "*":
            codes = network.layer_codes
            for li, lay in enumerate(network.layers):
                idx = np.flatnonzero(codes == li).astype(np.int64)
                if idx.size:
                    pools.append((f"{p.name}:{lay}", idx, p.inhibition))
        else:
            li = _layer_index(network, p.layer, f"{key}.layer")
            idx = np.flatnonzero(network.layer_codes == li).astype(np.int64)
            if idx.size == 0:
                raise ConfigError(f"{key}.layer: layer {p.layer!r} has no concepts; the pool "
                                  f"{p.name!r} would be empty", key=f"{key}.layer")
            pools.append((p.name, idx, p.inhibition))
    return pools


def check_mechanisms(network, model, *, t0: float = 0.0, t_end: float = np.inf,
                     members: int = 1) -> Layout:
    """Lower the model's mechanisms against ``network`` without preparing a run: every
    reference (concepts, layers, pools, relation types, correct options) is checked and
    the :class:`Layout` returned.  Raises :class:`ConfigError` naming the key."""
    edges = split_edges(network, model)
    W = coupling_matrix(network, model, edges)
    mech = _lower_mechanisms(network, model, W, members, t0, t_end, edges)
    if model.goals is not None and model.goals.active:
        labelled = [(f"goals.active[{k}]", s) for k, s in enumerate(model.goals.active)]
        _segments(network, labelled, t0, t_end if np.isfinite(t_end) else 1e300, members)
    return mech["_layout"]


def _hebbian(network, ideas, W):
    """Lower stored ideas: a sparse matrix to add to ``W``, or low-rank factors."""
    n = network.n
    X = ideas.patterns(network)
    if ideas.rule == "covariance":
        X = X - X.mean(axis=1, keepdims=True)
    scale = ideas.strength / n if ideas.normalize else ideas.strength
    empty = (None, np.zeros((n, 0)), 0.0, np.zeros(n))
    if ideas.strength == 0.0:
        return empty
    rep = ideas.representation
    if ideas.restrict_to_edges:
        s, t, _, _ = network._relation_arrays()
        r = np.concatenate([s, t])
        c = np.concatenate([t, s])
        off = r != c
        pairs = np.unique(np.stack([r[off], c[off]]), axis=1) if off.any() else np.zeros((2, 0), np.int64)
        vals = scale * np.einsum("pk,pk->k", X[:, pairs[0]], X[:, pairs[1]]) if pairs.size else np.zeros(0)
        H = sp.csr_matrix((vals, (pairs[0], pairs[1])), shape=(n, n))
        H.eliminate_zeros()
        return (H, *empty[1:])
    nz = np.count_nonzero(X, axis=1).astype(np.float64)
    est = float((nz ** 2).sum())
    if rep == "auto":
        rep = "sparse" if est <= max(4.0 * W.nnz, 1e5) else "low_rank"
    if rep == "sparse":
        if est > 5e7:
            raise ConfigError(f"ideas.representation: 'sparse' would form about {est:.3g} weights "
                              "(dense patterns); use 'low_rank' or 'auto'",
                              key="ideas.representation")
        Xs = sp.csr_matrix(X)
        H = (Xs.T @ Xs).tocsr() * scale
        H.setdiag(0.0)
        H.eliminate_zeros()
        return (H, *empty[1:])
    xi = np.ascontiguousarray(X.T)
    return None, xi, float(scale), np.ascontiguousarray((X ** 2).sum(axis=0))


def _empty_i(k=0):
    return np.zeros(k, np.int64)


def _empty_f(k=0):
    return np.zeros(k, np.float64)


# ------------------------------------------------------------------ mechanism lowerers
class Lowering:
    """What the mechanism lowerers build together: each adds its arrays (named as in
    ``MI_FIELDS`` / ``MF_FIELDS``; absent mechanisms keep the empty defaults), claims
    state rows (:meth:`rows`), adds saved outputs, segment boundaries and scalars."""

    def __init__(self, network, model, W, m, t0, t_end, edges=None):
        n = network.n
        self.network, self.model, self.W, self.m, self.t0, self.t_end = \
            network, model, W, m, t0, t_end
        self.edges = edges   # split_edges(): the relations gates and plasticity take out of W
        self.layout = Layout(n=n, m=m, nstate=n)
        self.nstate = n
        self.bounds: list[float] = []
        self.o_rows: list[tuple[int, int]] = []
        self.y_extra: dict = {}   # state row -> initial value (all members), or an array of
                                  # the initial values of the rows from there on
        self.needs_input = False                 # the kernel's extra-input pass (xmode)
        self.xi, self.xi_scale = np.zeros((n, 0)), 0.0
        self.scalars = {"g_gain": 0.0, "g_ctrl": -1}
        self.ints = {k: _empty_i() for k in MI_FIELDS}
        self.ints.update(g_ptr=np.zeros(1, np.int64), p_ptr=np.zeros(1, np.int64),
                         p_eptr=np.zeros(1, np.int64), c_mptr=np.zeros(1, np.int64),
                         c_tptr=np.zeros(1, np.int64), e_ptr=np.zeros(1, np.int64))
        self.floats = {k: _empty_f() for k in MF_FIELDS}

    def rows(self, count: int) -> int:
        """Claim ``count`` state rows after the concepts' (and earlier claims); their offset."""
        off = self.nstate
        self.nstate += count
        return off

    def output(self, name: str, lo: int, hi: int) -> None:
        """Save state rows ``[lo, hi)`` as variable ``name`` after the output ``a``."""
        self.o_rows.append((lo, hi))
        self.layout.out.append((name, hi - lo))


#: The lowerers, in the order they run (later ones read what earlier ones built: pools
#: before the choices and controls that name them; state rows in the order adaptation,
#: control, evidence).  ``register_lowerer`` adds one.
LOWERERS: list[tuple[str, object]] = []


def register_lowerer(name: str, lower, *, before: str | None = None) -> None:
    """Run ``lower(lw: Lowering)`` for every problem, before the lowerer ``before`` (or
    last)."""
    if any(k == name for k, _ in LOWERERS):
        raise ValueError(f"a lowerer named {name!r} is registered already")
    i = len(LOWERERS) if before is None else [k for k, _ in LOWERERS].index(before)
    LOWERERS.insert(i, (name, lower))


def _lower_ideas(lw: Lowering) -> None:
    """Stored ideas: the sparse Hebbian part joins W, a dense part stays as patterns."""
    model, network = lw.model, lw.network
    if model.ideas is None:
        return
    H, xi, xi_scale, xi_diag = _hebbian(network, model.ideas, lw.W)
    if H is not None and H.nnz:
        W = (lw.W + H).tocsr()
        W.sum_duplicates()
        W.eliminate_zeros()
        W.sort_indices()
        lw.W = W
    lw.xi, lw.xi_scale = xi, xi_scale
    if xi.shape[1]:
        lw.floats["xi_diag"] = xi_diag
        lw.needs_input = True
    lw.layout.ideas = (model.ideas.names, model.ideas.patterns(network),
                       tuple(it.is_set for it in model.ideas.ideas))


def _lower_pools(lw: Lowering) -> None:
    """Competition pools and the inhibitory couplings inside each (conflict energy)."""
    pools = resolve_pools(lw.network, lw.model)
    p_ptr = np.zeros(len(pools) + 1, np.int64)
    for k, (_, idx, _) in enumerate(pools):
        p_ptr[k + 1] = p_ptr[k] + idx.size
    eptr = [0]
    ei, ej, ew = [], [], []
    for _, idx, _ in pools:
        sub = lw.W[idx][:, idx].tocoo()
        neg = (sub.data < 0) & (sub.row != sub.col)
        ei.append(idx[sub.row[neg]])
        ej.append(idx[sub.col[neg]])
        ew.append(sub.data[neg])
        eptr.append(eptr[-1] + int(neg.sum()))
    p_inh = np.array([inh for _, _, inh in pools], np.float64)
    lw.ints.update(p_ptr=p_ptr,
                   p_idx=np.concatenate([idx for _, idx, _ in pools]) if pools else _empty_i(),
                   p_eptr=np.asarray(eptr, np.int64),
                   p_ei=np.concatenate(ei).astype(np.int64) if ei else _empty_i(),
                   p_ej=np.concatenate(ej).astype(np.int64) if ej else _empty_i())
    lw.floats.update(p_inh=p_inh, p_ew=np.concatenate(ew).astype(np.float64) if ew else _empty_f())
    lw.layout.pools = pools
    lw.needs_input |= bool((p_inh > 0).any())


def _lower_adaptation_rows(lw: Lowering) -> None:
    """Adaptation: one state row ``h`` per concept."""
    ad = lw.model.adaptation
    if ad is None:
        return
    n = lw.network.n
    lw.layout.h_off = lw.rows(n)
    if ad.record:
        lw.output("adaptation", lw.layout.h_off, lw.layout.h_off + n)


def _lower_control_rows(lw: Lowering) -> None:
    """Controls: one state row each, starting at its baseline."""
    C = len(lw.model.controls)
    if not C:
        return
    lw.layout.c_off = lw.rows(C)
    for k, ct in enumerate(lw.model.controls):
        lw.y_extra[lw.layout.c_off + k] = ct.baseline
    lw.output("control", lw.layout.c_off, lw.layout.c_off + C)


def _lower_choices(lw: Lowering) -> None:
    """Choices on pools; those on evidence get accumulator rows (after the other rows)."""
    network, layout, t0, t_end = lw.network, lw.layout, lw.t0, lw.t_end
    pools = layout.pools
    Q = len(lw.model.choices)
    d_pool, d_on, d_thr, d_onset, d_stop = (np.zeros(Q, np.int64), np.zeros(Q, np.int64),
                                            np.zeros(Q), np.zeros(Q), np.zeros(Q, np.int64))
    e_ptr = np.zeros(Q + 1, np.int64)
    e_rate, e_leak, e_inh, e_floor, e_noise = (np.zeros(Q) for _ in range(5))
    e_cmp = np.zeros(Q, np.int64)
    starts = []   # (accumulator row, start) of on = "diffusion": rows start, -start
    for d, ch in enumerate(lw.model.choices):
        key = f"choices[{d}]"
        pi = layout.pool_index(ch.pool, f"{key}.pool")
        idx = pools[pi][1]
        options = [network.concepts[i] for i in idx]
        corr = -1
        if ch.correct is not None:
            if ch.correct not in options:
                raise ConfigError(f"{key}.correct: {ch.correct!r} is not in pool {ch.pool!r} "
                                  f"(options: {', '.join(options)})"
                                  + V.did_you_mean(ch.correct, options), key=f"{key}.correct")
            corr = options.index(ch.correct)
        if ch.on == "diffusion" and len(options) != 2:
            raise ConfigError(f"{key}.on: 'diffusion' needs a pool of two options; pool "
                              f"{ch.pool!r} has {len(options)} ({', '.join(options)}); use "
                              "on = 'evidence' for more options")
        if ch.onset >= t_end:
            raise ConfigError(f"{key}.onset: {ch.onset:g} is at or after the end of the run "
                              f"(t_end = {t_end:g})", key=f"{key}.onset")
        if ch.onset > t0:
            lw.bounds.append(float(ch.onset))
        d_pool[d] = pi
        d_on[d] = 0 if ch.on == "activation" else 1
        d_thr[d] = ch.threshold
        d_onset[d] = ch.onset
        d_stop[d] = int(ch.stop)
        k = 0 if ch.on == "activation" else idx.size
        e_ptr[d + 1] = e_ptr[d] + k
        e_rate[d] = ch.rate
        e_leak[d] = ch.leak
        e_inh[d] = ch.inhibition
        # 3: diffusion, two accumulators x and -x (the other's input, mirrored noise)
        e_cmp[d] = 3 if ch.on == "diffusion" else {"none": 0, "mean": 1, "max": 2}[ch.compare]
        if ch.on == "diffusion" and ch.start:
            starts.append((int(e_ptr[d]), float(ch.start)))
        e_floor[d] = -np.inf if ch.floor is None else ch.floor
        e_noise[d] = ch.noise
        layout.decisions.append({"pool": pools[pi][0], "pool_index": pi, "options": options,
                                 "on": ch.on, "threshold": ch.threshold, "onset": ch.onset,
                                 "correct": corr, "stop": ch.stop, "e_start": int(e_ptr[d]),
                                 "e_rows": int(k)})
    A = int(e_ptr[-1])
    if A:
        layout.e_off = lw.rows(A)
        lw.output("evidence", layout.e_off, layout.e_off + A)
        for r, x0 in starts:
            lw.y_extra[layout.e_off + r] = x0
            lw.y_extra[layout.e_off + r + 1] = -x0
    lw.ints.update(d_pool=d_pool, d_on=d_on, d_stop=d_stop, e_ptr=e_ptr, e_cmp=e_cmp)
    lw.floats.update(d_thr=d_thr, d_onset=d_onset, e_rate=e_rate, e_leak=e_leak, e_inh=e_inh,
                     e_floor=e_floor, e_noise=e_noise)


def _lower_goals(lw: Lowering) -> None:
    """Goal bias: the rows and weights of the goal relations, scaled by the goal gain."""
    goals, network = lw.model.goals, lw.network
    if goals is None:
        return
    n = network.n
    keep = [t for t in goals.types if t in network._type_codes]
    if keep and goals.direction == "goal_to_target":
        B = _goal_split(network, set(keep), keep="bias")
    else:
        B = network.weight_matrix(types=keep) if keep else sp.csr_matrix((n, n))
    B = B.tocsr()
    counts = np.diff(B.indptr)
    g_rows = np.flatnonzero(counts).astype(np.int64)
    lw.ints.update(g_rows=g_rows,
                   g_ptr=np.concatenate([[0], np.cumsum(counts[g_rows])]).astype(np.int64),
                   g_idx=B.indices.astype(np.int64))
    lw.floats["g_w"] = B.data.astype(np.float64)
    lw.scalars["g_gain"] = float(goals.gain)
    lw.needs_input |= bool(g_rows.size)


def _lower_controls(lw: Lowering) -> None:
    """Controls: time constant, baseline, sensitivity, monitored pools and targets."""
    model, layout, network = lw.model, lw.layout, lw.network
    C = len(model.controls)
    c_tau_inv, c_c0, c_lam = np.zeros(C), np.zeros(C), np.zeros(C)
    c_mptr, c_tptr = np.zeros(C + 1, np.int64), np.zeros(C + 1, np.int64)
    c_mpool, c_tidx, c_tgain = [], [], []
    for k, ct in enumerate(model.controls):
        key = f"controls[{k}]"
        c_tau_inv[k] = 1.0 / ct.tau if ct.mode == "continuous" else 0.0
        c_c0[k] = ct.baseline
        c_lam[k] = ct.sensitivity
        for nm in ct.monitor:
            c_mpool.append(layout.pool_index(nm, f"{key}.monitor"))
        c_mptr[k + 1] = len(c_mpool)
        # (target "gates": the gates that name the control read its row, _lower_gates)
        if ct.target == "goals":
            if ct.goals is None:   # the whole goal bias (per-goal ones: _lower_goal_controls)
                lw.scalars["g_ctrl"] = layout.c_off + k
        elif isinstance(ct.target, Mapping):   # concepts: input gain * c
            for cn, g in ct.target.items():
                c_tidx.append(network.index(cn, f"{key}.target.{cn}"))
                c_tgain.append(g)
        c_tptr[k + 1] = len(c_tidx)
    layout.controls = tuple(model.controls)
    lw.ints.update(c_mptr=c_mptr, c_mpool=np.asarray(c_mpool, np.int64), c_tptr=c_tptr,
                   c_tidx=np.asarray(c_tidx, np.int64))
    lw.floats.update(c_tau_inv=c_tau_inv, c_c0=c_c0, c_lam=c_lam,
                     c_tgain=np.asarray(c_tgain, np.float64))
    lw.needs_input |= bool(len(c_tidx))


def _lower_goal_controls(lw: Lowering) -> None:
    """Per-goal controls (``Control(target="goals", goals=[...])``): the state row of the
    control scaling each goal edge (by the edge's source, the goal), -1 for the others."""
    model, network = lw.model, lw.network
    per = [(k, ct) for k, ct in enumerate(model.controls)
           if ct.target == "goals" and ct.goals is not None]
    if not per:
        return
    g_idx = lw.ints["g_idx"]
    cix = np.full(g_idx.size, -1, np.int64)
    for k, ct in per:
        for g in ct.goals:
            j = network.index(g, f"controls[{k}].goals")
            mine = g_idx == j
            if not mine.any():
                raise ConfigError(f"controls[{k}].goals: {g!r} is the source of no goal relation "
                                  f"(goals.types = {list(model.goals.types)}); name a goal "
                                  "concept that has goal relations", key=f"controls[{k}].goals")
            cix[mine] = lw.layout.c_off + k
    lw.ints["g_cix"] = cix


def _lower_adaptation(lw: Lowering) -> None:
    """Adaptation: per-concept time constant and strength."""
    ad, network = lw.model.adaptation, lw.network
    if ad is None:
        return
    from .model import resolve_per_concept
    lw.floats["h_tau_inv"] = 1.0 / resolve_per_concept("adaptation.tau", ad.tau, network, 10.0)
    lw.floats["h_kappa"] = resolve_per_concept("adaptation.strength", ad.strength, network, 1.0)
    lw.needs_input = True


def _lower_plasticity(lw: Lowering) -> None:
    """Plastic relations: one state row per plastic edge (its weight), then N rows of
    running averages for the rules that use them."""
    pl, network = lw.model.plasticity, lw.network
    if pl is None:
        return
    ed = plastic_edges(network, lw.model, lw.edges)
    E = ed["src"].size
    if E == 0:
        raise ConfigError(f"plasticity.relations: the network has no relations of type "
                          f"{', '.join(map(repr, pl.relations))} and `between` names no "
                          "concepts, so nothing can learn; add such relations or list concepts "
                          "under plasticity.between", key="plasticity.relations")
    bad = np.flatnonzero((ed["w0"] < pl.w_min) | (ed["w0"] > pl.w_max))
    if bad.size:
        e = int(bad[0])
        raise ConfigError(f"plasticity.w_min: the relation {network.concepts[ed['src'][e]]!r} -> "
                          f"{network.concepts[ed['tgt'][e]]!r} starts at {ed['w0'][e]:g}, outside "
                          f"[w_min, w_max] = [{pl.w_min:g}, {pl.w_max:g}]; widen the bounds",
                          key="plasticity.w_min")
    rule = PLASTICITY_RULES.index(pl.rule)
    n = network.n
    aux = n if pl.rule in ("covariance", "bcm") else 0
    off = lw.rows(E + aux)
    lw.layout.w_off = off
    lw.y_extra[off] = ed["w0"]
    tnames = list(network._type_names)
    types = [tnames[k] if k >= 0 else pl.relations[0] for k in ed["code"]]
    lw.layout.plastic = dict(ed, types=types)
    if pl.record:
        lw.output("weight", off, off + E)
    gate = -1 if pl.gate is None else network.index(pl.gate, "plasticity.gate")
    lw.ints.update(w_src=ed["src"], w_tgt=ed["tgt"], w_opt=np.array([rule, gate], np.int64))
    lw.floats.update(
        w_rate=np.array([pl.rate_of(ty) for ty in types], np.float64),
        w_par=np.array([0.0 if math.isinf(pl.tau) else 1.0 / pl.tau, pl.w_min, pl.w_max,
                        1.0 / pl.average_tau, pl.start, pl.stop], np.float64))
    lw.bounds += [pl.start, pl.stop]
    lw.needs_input = True


def _lower_gates(lw: Lowering) -> None:
    """Gated projections: their edges (out of W), the gates' values and intervals."""
    model, network = lw.model, lw.network
    if not model.gates:
        return
    ed = gated_edges(lw.edges)
    G = len(model.gates)
    iptr = np.zeros(G + 1, np.int64)
    ints = []
    for g, gate in enumerate(model.gates):
        for start, stop, value in gate.intervals:
            ints += [start, stop, value]
            lw.bounds += [start, stop]
        iptr[g + 1] = iptr[g] + len(gate.intervals)
    cpt = [-1 if gate.concept is None else network.index(gate.concept, f"gates[{g}].concept")
           for g, gate in enumerate(model.gates)]
    cnames = [c.name for c in model.controls]
    ctl = [-1 if gate.control is None else lw.layout.c_off + cnames.index(gate.control)
           for gate in model.gates]
    lw.ints.update(q_src=ed["src"], q_tgt=ed["tgt"], q_gid=ed["gate"],
                   q_cpt=np.asarray(cpt, np.int64), q_ctl=np.asarray(ctl, np.int64), q_iptr=iptr)
    lw.floats.update(q_w=ed["w"], q_val=np.array([gate.value for gate in model.gates]),
                     q_int=np.asarray(ints, np.float64))
    lw.needs_input = True


register_lowerer("ideas", _lower_ideas)
register_lowerer("pools", _lower_pools)
register_lowerer("adaptation_rows", _lower_adaptation_rows)
register_lowerer("control_rows", _lower_control_rows)
register_lowerer("choices", _lower_choices)
register_lowerer("goals", _lower_goals)
register_lowerer("controls", _lower_controls)
register_lowerer("goal_controls", _lower_goal_controls)
register_lowerer("adaptation", _lower_adaptation)
register_lowerer("plasticity", _lower_plasticity)
register_lowerer("gates", _lower_gates)


def _lower_mechanisms(network, model, W, m, t0, t_end, edges=None):
    """Arrays of the mechanism fields of :class:`Problem` (every lowerer of
    :data:`LOWERERS` in turn) plus ``_W`` (W with the sparse Hebbian part), ``_layout``,
    ``_bounds`` (extra segment boundaries) and ``_y_extra`` (initial values of the extra
    state rows, member-minor)."""
    lw = Lowering(network, model, W, m, t0, t_end, edges)
    o_u = int(model.form == "potential" and model.record_potential)
    if o_u:                                      # the state u, saved first after a
        lw.layout.out.append(("potential", network.n))
    for _, lower in LOWERERS:
        lower(lw)
    n, S, layout = network.n, lw.nstate, lw.layout
    layout.nstate = S
    y_extra = np.zeros((S - n) * m)
    for row, value in lw.y_extra.items():
        r = row - n
        if np.ndim(value):   # a block of rows starting at ``row``
            y_extra[r * m:(r + len(value)) * m] = np.repeat(value, m)
        else:
            y_extra[r * m:(r + 1) * m] = value
    lw.ints["o_rows"] = np.asarray(lw.o_rows, np.int64).reshape(-1)
    mi, mf, mo = pack(lw.ints, lw.floats)
    return dict(
        nstate=S, xmode=int(lw.needs_input), g_gain=float(lw.scalars["g_gain"]),
        g_ctrl=int(lw.scalars["g_ctrl"]), h_off=int(layout.h_off), c_off=int(layout.c_off),
        e_off=int(layout.e_off), w_off=int(layout.w_off), xi_scale=float(lw.xi_scale), o_u=o_u, mi=mi, mf=mf, mo=mo,
        xi=np.ascontiguousarray(lw.xi, np.float64), _W=lw.W, _layout=layout,
        _bounds=lw.bounds, _y_extra=y_extra,
    )


def _initial_state(network, model, initial, m):
    n = network.n
    if initial is None:
        a0 = model.resolve("initial", network)
        return np.repeat(a0, m)
    if isinstance(initial, dict):
        from .model import resolve_per_concept
        a0 = resolve_per_concept("initial", initial, network, 0.0)
        return np.repeat(a0, m)
    a = np.asarray(initial, dtype=np.float64)
    if a.shape == (n,):
        out = np.repeat(a, m)
    elif a.shape == (m, n):
        out = np.ascontiguousarray(a.T).ravel()
    else:
        raise ConfigError(f"initial: expected shape ({n},) or (members, concepts) = ({m}, {n}) "
                          f"(got {a.shape})", key="initial")
    if not np.isfinite(out).all():
        raise ConfigError("initial: must be finite (found NaN or infinity)", key="initial")
    return out


def _segments(network, labelled, t0, t_end, m, extra_bounds=(), *, steps: bool = False):
    """Cut [t0, t_end] at every input change; list the active entries of each segment.

    ``labelled``: stimuli, or ``(key, stimulus)`` pairs whose key names them in errors
    (plain stimuli are ``stimuli[k]``).  ``steps``: a discrete run whose last step is
    ``t_end - 1`` (the messages count steps)."""
    labelled = [item if isinstance(item, tuple) else (f"stimuli[{k}]", item)
                for k, item in enumerate(labelled)]
    bounds = {t0, t_end}
    for b in extra_bounds:
        if t0 < b < t_end:
            bounds.add(float(b))
    resolved = []
    for key, s in labelled:
        i = network.index(s.concept, f"{key}.concept")
        if s.stop <= t0:
            raise ConfigError(f"{key}.stop: the {s.kind} on {s.concept!r} ends at t = {s.stop:g}, "
                              f"before the run starts (t0 = {t0:g})", key=f"{key}.stop")
        if s.member is not None and s.member >= m:
            raise ConfigError(f"{key}.member: {s.member} but the run has {m} member(s) "
                              f"(0..{m - 1})", key=f"{key}.member")
        if s.start >= t_end:
            # a shortened run (--set run.t_end=5) simply ends before this input: say so
            warnings.warn(ThoughtfieldWarning(
                f"{key}.start: the {s.kind} on {s.concept!r} starts at step {s.start:g}, after "
                f"the last step ({t_end - 1:g}); it has no effect in this run" if steps else
                f"{key}.start: the {s.kind} on {s.concept!r} starts at t = {s.start:g}, at or "
                f"after the end of the run (t_end = {t_end:g}); it has no effect in this run"),
                stacklevel=2)
            continue
        for b in (s.start, s.stop):
            if t0 < b < t_end:
                bounds.add(float(b))
        resolved.append((i, -1 if s.member is None else s.member, s, key))
    # overlapping clamps of the same concept and member
    clamps = [(i, mem, s, key) for (i, mem, s, key) in resolved if isinstance(s, Clamp)]
    for a in range(len(clamps)):
        for b in range(a + 1, len(clamps)):
            ia, ma, sa, ka = clamps[a]
            ib, mb, sb, kb = clamps[b]
            if ia == ib and (ma == mb or ma < 0 or mb < 0) and sa.start < sb.stop and sb.start < sa.stop:
                raise ConfigError(f"{kb}: clamp on {sb.concept!r} overlaps {ka} "
                                  f"(t = {max(sa.start, sb.start):g}..{min(sa.stop, sb.stop):g}); "
                                  f"a concept can be clamped to one value at a time", key=kb)
    seg_t = np.array(sorted(bounds), dtype=np.float64)
    ptr = [0]
    idx, mem, val, kind = [], [], [], []
    for a in seg_t[:-1]:
        for i, mm, s, _ in resolved:
            if s.start <= a < s.stop:
                idx.append(i)
                mem.append(mm)
                if isinstance(s, Pulse):
                    val.append(s.amplitude)
                    kind.append(0)
                else:
                    val.append(s.value)
                    kind.append(1)
        ptr.append(len(idx))
    ent = (np.asarray(idx, np.int64), np.asarray(mem, np.int64), np.asarray(val, np.float64),
           np.asarray(kind, np.int64))
    return seg_t, np.asarray(ptr, np.int64), ent


def build_method(solver: Solver, model: Model, network: ConceptNetwork, t0: float,
                 t_end: float) -> Method:
    """Lower the solver settings; checks that the method suits the model."""
    tab = solver.tableau
    if tab.name == "async":
        if model.has_noise:
            raise ConfigError("model.sigma: the asynchronous update ('async') has no noise; "
                              "set sigma = 0 or use method = 'euler_maruyama'", key="model.sigma")
        if solver.steady_tol is not None:
            raise ConfigError("solver.steady_tol: the asynchronous update ('async') has no "
                              "derivative to test; remove steady_tol", key="solver.steady_tol")
    if model.has_noise and not tab.stochastic:
        raise ConfigError(f"solver.method: {solver.method!r} is deterministic but the model has "
                          f"noise (sigma > 0); use method = 'euler_maruyama' or set sigma = 0",
                          key="solver.method")
    if tab.stochastic and solver.steady_tol is not None:
        raise ConfigError("solver.steady_tol: an early stop at steady state is not defined for the "
                          "stochastic solver 'euler_maruyama'; remove steady_tol",
                          key="solver.steady_tol")
    dt = solver.dt
    if dt is None:   # async: a sweep per time constant (euler at dt = tau is synchronous)
        dt = float(np.min(model.resolve("tau", network))) / (1.0 if tab.name == "async"
                                                              else 100.0)
    if not tab.adaptive and dt > (t_end - t0):
        dt = t_end - t0
    min_step = solver.min_step if solver.min_step is not None else 1e-12 * max(1.0, abs(t_end))
    opt_f = np.zeros(16)
    opt_f[:7] = [dt, solver.rtol, solver.atol, solver.first_step or 0.0,
                 solver.max_step if math.isfinite(solver.max_step) else np.inf, min_step,
                 solver.steady_tol or 0.0]
    if tab.controller is not None:
        ctl = tab.controller
        opt_f[8:13] = [ctl.safety, ctl.alpha, ctl.beta, ctl.facmin, ctl.facmax]
    e = _trim(tab.e) if tab.e is not None else np.zeros(0)
    e3 = _trim(tab.e3) if tab.e3 is not None else np.zeros(0)
    P = tab.P if tab.P is not None else np.zeros((0, 0))
    return Method(A=tab.A, b=tab.b, c=tab.c, e=e, P=P, e3=e3, order=tab.order,
                  stochastic=int(tab.stochastic), opt_f=opt_f,
                  opt_i=np.array([solver.max_steps, tab.n_step_stages, 0, 0], np.int64))


def _trim(w: np.ndarray) -> np.ndarray:
    """Error weights without trailing zeros (the kernel sums only over these stages)."""
    nz = np.flatnonzero(w)
    return np.ascontiguousarray(w[:nz[-1] + 1] if nz.size else w[:0], dtype=np.float64)


#: Upper bound on the number of save times of one run (a guard against typos like 1e-30).
MAX_SAVES = 10**8


def save_times(t0: float, t_end: float, saveat: SaveAt | None = None, *, dt=None,
               default_points: int = 200) -> np.ndarray:
    """The save grid of :class:`~thoughtfield.SaveAt` ``saveat`` (``None``:
    ``default_points`` intervals); always contains ``t0`` and ``t_end``."""
    if saveat is not None and saveat.times is not None:
        ts = np.asarray(saveat.times, dtype=np.float64)
        if (ts < t0).any() or (ts > t_end).any():
            bad = ts[(ts < t0) | (ts > t_end)][0]
            raise ConfigError(f"SaveAt(times=...): time {bad:g} is outside the run "
                              f"[{t0:g}, {t_end:g}]")
        ts = np.unique(np.concatenate([ts, [t0, t_end]]))
        return ts
    if saveat is None:
        save_dt = (t_end - t0) / default_points
    elif saveat.every is not None:
        if dt is None:
            raise ConfigError("SaveAt(every=...): needs a fixed-step solver with dt; use "
                              "SaveAt(dt=...) for dopri5")
        save_dt = saveat.every * dt
    else:
        save_dt = saveat.dt
    count = (t_end - t0) / save_dt
    if count > MAX_SAVES:
        form = "every" if saveat is not None and saveat.every is not None else "dt"
        raise ConfigError(f"SaveAt({form}=...): {save_dt:g} gives {count:.3g} save times over "
                          f"[{t0:g}, {t_end:g}], more than {MAX_SAVES:.0e}; save less often")
    n = int(math.floor(count * (1 + 1e-12) + 1e-9))
    ts = t0 + save_dt * np.arange(n + 1)
    ts = ts[ts < t_end - 1e-9 * max(1.0, abs(t_end))]
    return np.concatenate([ts, [t_end]])


# ------------------------------------------------------------------ trial protocols
def _response_choice(model, protocol):
    if not model.choices:
        raise ConfigError("protocol: the model has no choice; add a Choice on the response pool "
                          "(Model(choices=[Choice('responses', ...)]))", key="protocol")
    pools = [c.pool for c in model.choices]
    if protocol.decision is None:
        if len(pools) > 1:
            raise ConfigError(f"protocol.decision: the model has {len(pools)} choices "
                              f"({', '.join(pools)}); name the response pool",
                              key="protocol.decision")
        return 0
    if protocol.decision not in pools:
        raise ConfigError(f"protocol.decision: no choice on pool {protocol.decision!r}"
                          + V.did_you_mean(protocol.decision, pools)
                          + f"; the choices are on {', '.join(pools)}", key="protocol.decision")
    return pools.index(protocol.decision)


def check_protocol(network, model, protocol: Protocol, *, key: str = "protocol") -> None:
    """Check a protocol against a network and model without running it: the response
    decision exists, every condition's stimuli name concepts of the network, and its
    correct answer is an option of the decision's pool."""
    d = _response_choice(model, protocol)
    pool = model.choices[d].pool
    pools = {name: idx for name, idx, _ in resolve_pools(network, model)}
    if pool not in pools:
        raise ConfigError(f"choices[{d}].pool: unknown pool {pool!r}" + V.did_you_mean(pool, pools),
                          key=f"choices[{d}].pool")
    options = [network.concepts[i] for i in pools[pool]]
    for i, c in enumerate(protocol.conditions):
        ck = f"{key}.conditions[{i}]"
        for k, st in enumerate(c.stimuli):
            network.index(st.concept, f"{ck}.stimuli[{k}].concept")
        if c.correct is not None and c.correct not in options:
            raise ConfigError(f"{ck}.correct: {c.correct!r} is not an option of pool {pool!r} "
                              f"(options: {', '.join(options)})" + V.did_you_mean(c.correct, options),
                              key=f"{ck}.correct")
