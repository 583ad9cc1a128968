"""Explanations of a run: the activation carried along each relation, and the strongest
paths from the stimulated concepts to the concept that won.

The *flow* along a relation from ``j`` to ``i`` over a window ``[t0, t1]`` is

    flow_ij = integral_{t0}^{t1} W_ij a_j(t) dt

with ``W_ij`` the relation's effective (signed, gain-scaled) weight in that direction: a
symmetric relation carries flow both ways, a directed one forward (and backward with its
``reverse`` factor).  The flows into a concept sum to the time integral of its recurrent
input ``(W a)_i``.  Integrals use the trapezoidal rule on the saved time grid (save
densely for accurate flows).

A path ``s -> ... -> target`` is scored by the product of its hops' *shares*: the share
of hop ``j -> i`` is its flow divided by the total excitatory flow into ``i``, so the
product is the fraction of the target's excitatory input that the path accounts for, if
every concept passed its input on in proportion ("share" method; the k best simple paths
by Yen's algorithm).  The "widest" method instead maximises the smallest flow along the
path (the bottleneck).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .. import _validate as V
from ..errors import ConfigError
from ..stimuli import Clamp, Pulse, as_stimuli
from ._result import activation_array, run_context

METHODS = ("share", "widest")


def _window(times, t0, t1):
    tmin, tmax = float(times[0]), float(times[-1])
    t0 = tmin if t0 is None else V.real("window[0]", t0)
    t1 = tmax if t1 is None else V.real("window[1]", t1)
    if not t1 > t0:
        raise ConfigError(f"window: the end must be after the start (got ({t0:g}, {t1:g}))",
                          key='window')
    if t0 < tmin - 1e-12 or t1 > tmax + 1e-12:
        raise ConfigError(f"window: ({t0:g}, {t1:g}) is outside the run [{tmin:g}, {tmax:g}]",
                          key='window')
    return t0, t1


def value_at(times, values, t):
    """``values`` (T, ...) linearly interpolated at time ``t``."""
    k = int(np.searchsorted(times, t, side="left"))
    if k < times.size and times[k] == t:
        return values[k]
    k = min(max(k, 1), times.size - 1)
    w = (t - times[k - 1]) / (times[k] - times[k - 1])
    return (1 - w) * values[k - 1] + w * values[k]


def integrate_window(times, values, t0, t1):
    """Trapezoidal integral of ``values`` (T, ...) over ``[t0, t1]`` with linear
    interpolation at the window's ends."""
    times = np.asarray(times, dtype=np.float64)
    inner = (times > t0) & (times < t1)
    ts = np.concatenate([[t0], times[inner], [t1]])
    vs = np.concatenate([value_at(times, values, t0)[None], values[inner],
                         value_at(times, values, t1)[None]])
    return np.trapezoid(vs, ts, axis=0) if hasattr(np, "trapezoid") else np.trapz(vs, ts, axis=0)


def _window_arg(window):
    if window is None:
        return None, None
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise ConfigError(f"window: expected (start, end) (got {window!r})", key='window')
    return window[0], window[1]


def flows(result: xr.Dataset, *, network=None, window=None, member=None) -> xr.Dataset:
    """The activation carried along every relation (and direction) of a run.

    Returns a Dataset with dim ``relation`` (sorted by ``|flow|``, largest first) and variables
    ``source``, ``target``, ``type``, ``direction`` (``forward``: as declared,
    ``reverse``: back along a symmetric or reverse-weighted relation), ``weight`` (the
    effective signed weight), ``flow`` (``weight * integral a_source dt``) and
    ``mean_activation`` of the source over the window.  Ensembles: the member mean unless
    ``member`` is given.
    """
    network, _, _ = run_context(result, network, stimuli=(), need_model=False)
    t0, t1 = _window(result.time.values, *_window_arg(window))
    times, act, _ = activation_array(result, member)
    A = integrate_window(times, act.mean(axis=0), t0, t1)     # integral of a_j, (N,)
    rel = network.relation_arrays()
    types = network.relation_types
    s, t, ty, w = rel["source"], rel["target"], rel["type"], rel["weight"]
    fwd = np.array([types[x].factors()[0] for x in ty]) if ty.size else np.zeros(0)
    rev = np.array([types[x].factors()[1] for x in ty]) if ty.size else np.zeros(0)
    src = np.concatenate([s, t])
    tgt = np.concatenate([t, s])
    weff = np.concatenate([w * fwd, w * rev])
    dirs = np.array(["forward"] * s.size + ["reverse"] * s.size, dtype=object)
    typ = np.concatenate([ty, ty]).astype(object)
    keep = weff != 0
    src, tgt, weff, dirs, typ = src[keep], tgt[keep], weff[keep], dirs[keep], typ[keep]
    fl = weff * A[src]
    order = np.lexsort((tgt, src, -np.abs(fl)))
    names = np.array(network.concepts, dtype=object)
    dur = t1 - t0
    return xr.Dataset(
        {"source": ("relation", names[src[order]]), "target": ("relation", names[tgt[order]]),
         "type": ("relation", typ[order]), "direction": ("relation", dirs[order]),
         "weight": ("relation", weff[order], {"long_name": "effective signed weight"}),
         "flow": ("relation", fl[order], {"long_name": "integral of weight * a_source dt",
                                      "units": "activation x model time"}),
         "mean_activation": ("relation", A[src[order]] / dur,
                             {"long_name": "mean activation of the source over the window"})},
        coords={"relation": np.arange(order.size)},
        attrs={"window_start": t0, "window_end": t1, "member": "mean" if member is None else member},
    )


@dataclass
class Path:
    """One explaining path."""

    concepts: tuple
    types: tuple          # relation type(s) of each hop ("a+b" when several relations)
    flows: tuple          # flow of each hop
    shares: tuple         # share of each hop in the excitatory input of its target
    strength: float       # product of shares ("share") or smallest flow ("widest")

    def __str__(self) -> str:
        parts = [self.concepts[0]]
        for c, ty, f in zip(self.concepts[1:], self.types, self.flows):
            parts.append(f"-[{ty} {f:.3g}]-> {c}")
        return " ".join(parts)


@dataclass
class Explanation:
    """The flows of a run and the strongest paths from its sources to its target."""

    sources: tuple
    target: str
    window: tuple
    method: str
    paths: list
    flows: xr.Dataset
    target_activation: float = math.nan
    notes: list = field(default_factory=list)

    def table(self, n_flows: int = 10) -> str:
        lines = [f"why {self.target!r} (activation {self.target_activation:.3g} at t = "
                 f"{self.window[1]:g}): sources {', '.join(self.sources)}; window "
                 f"[{self.window[0]:g}, {self.window[1]:g}]"]
        if self.paths:
            score = "share of the target's excitatory input" if self.method == "share" \
                else "bottleneck flow"
            lines.append(f"strongest paths ({score}):")
            for k, p in enumerate(self.paths):
                lines.append(f"  {k + 1}. {p.strength:.3g}  {p}")
        else:
            lines.append("no excitatory path from the sources reaches the target")
        lines.extend(self.notes)
        fl = self.flows
        n = min(n_flows, fl.sizes["relation"])
        if n:
            lines.append(f"largest flows (integral of W_ij a_j dt, top {n} of {fl.sizes['relation']}):")
            for k in range(n):
                lines.append(f"  {str(fl.source.values[k]):>14} -> {str(fl.target.values[k]):<14} "
                             f"{str(fl.type.values[k]):<12} {str(fl.direction.values[k]):<8} "
                             f"{float(fl.flow.values[k]):10.4g}")
        return "\n".join(lines)

    __str__ = table


def _sources_of(stimuli, network, t0, t1):
    out = []
    for s in as_stimuli(stimuli):
        val = s.amplitude if isinstance(s, Pulse) else s.value if isinstance(s, Clamp) else 0
        if val > 0 and s.start < t1 and s.stop > t0 and s.concept not in out:
            out.append(s.concept)
    return out


def explain(result: xr.Dataset, target: str | None = None, *, network=None, sources=None,
            window=None, member=None, k: int = 3, method: str = "share",
            min_share: float = 1e-4, max_hops: int = 8) -> Explanation:
    """Why did the run end where it did?  Flows per relation and the strongest paths from
    the stimulated concepts to ``target``.

    Parameters
    ----------
    result : Dataset
        A run result (its network and stimuli are read from its attributes unless given).
    target : str, optional
        The concept to explain (default: the most active concept at the end of the window
        that is not a source).
    sources : list of str, optional
        Where paths start (default: the concepts stimulated with positive pulses/clamps
        during the window).
    window : (start, end), optional
        Time window of the flows (default: the whole run).
    k : int
        Paths reported ("share": the k best; "widest": the widest path from each of the k
        best sources).
    method : {"share", "widest"}
    min_share : float
        Hops carrying less than this share of their target's excitatory input are ignored.
    max_hops : int
        Longest path considered.
    """
    import networkx as nx
    network, _, stimuli = run_context(result, network, need_model=False)
    V.choice("method", method, METHODS)
    k = V.integer("k", k, min=1)
    max_hops = V.integer("max_hops", max_hops, min=1)
    min_share = V.real("min_share", min_share, min=0.0, max=1.0)
    fl = flows(result, network=network, window=window, member=member)
    t0, t1 = float(fl.attrs["window_start"]), float(fl.attrs["window_end"])
    if sources is None:
        sources = _sources_of(stimuli, network, t0, t1)
        if not sources:
            raise ConfigError("sources: the run has no positive stimuli in the window; name the "
                              "concepts the explanation starts from (sources=[...])", key='sources')
    else:
        if isinstance(sources, str):
            sources = [sources]
        sources = list(sources)
        for c in sources:
            network.index(c, "sources")
    times, act, _ = activation_array(result, member)
    a_end = value_at(times, act.mean(axis=0), t1)
    if target is None:
        cand = np.ones(network.n, dtype=bool)
        cand[network.indices(sources)] = False
        if not cand.any():
            raise ConfigError("target: every concept is a source; name the target concept",
                              key='target')
        i = int(np.flatnonzero(cand)[np.argmax(a_end[cand])])
        target = network.concepts[i]
    else:
        network.index(target, "target")
    # aggregate the flows per directed pair
    pos = fl.flow.values > 0
    pair_flow: dict = {}
    pair_types: dict = {}
    for s, t, ty, f in zip(fl.source.values[pos], fl.target.values[pos], fl.type.values[pos],
                           fl.flow.values[pos]):
        pair_flow[(s, t)] = pair_flow.get((s, t), 0.0) + float(f)
        pair_types.setdefault((s, t), [])
        if ty not in pair_types[(s, t)]:
            pair_types[(s, t)].append(str(ty))
    inflow: dict = {}
    for (s, t), f in pair_flow.items():
        inflow[t] = inflow.get(t, 0.0) + f
    G = nx.DiGraph()
    for (s, t), f in pair_flow.items():
        share = f / inflow[t]
        if share >= min_share and t not in sources:
            G.add_edge(s, t, flow=f, share=share, cost=-math.log(share))
    paths: list[Path] = []
    notes = []
    if target in sources:
        notes.append(f"note: the target {target!r} is itself a source")
    srcs = [s for s in sources if s in G]

    def make(nodes, strength):
        hops = list(zip(nodes[:-1], nodes[1:]))
        return Path(tuple(nodes), tuple("+".join(pair_types[h]) for h in hops),
                    tuple(G.edges[h]["flow"] for h in hops),
                    tuple(G.edges[h]["share"] for h in hops), strength)

    if target in G and srcs:
        if method == "share":
            root = ("__root__",)
            for s in srcs:
                G.add_edge(root, s, cost=0.0)
            try:
                for p in nx.shortest_simple_paths(G, root, target, weight="cost"):
                    nodes = p[1:]
                    if len(nodes) - 1 > max_hops:
                        continue
                    paths.append(make(nodes, float(np.prod([G.edges[h]["share"] for h in
                                                            zip(nodes[:-1], nodes[1:])]))))
                    if len(paths) >= k:
                        break
            except nx.NetworkXNoPath:
                pass
            G.remove_node(root)
        else:
            best = []
            for s in srcs:
                p = _widest_path(G, s, target, max_hops)
                if p is not None:
                    best.append(p)
            best.sort(key=lambda x: -x[0])
            paths = [make(nodes, w) for w, nodes in best[:k]]
    ti = network.index(target)
    return Explanation(sources=tuple(sources), target=target, window=(t0, t1), method=method,
                       paths=paths, flows=fl, target_activation=float(a_end[ti]), notes=notes)


def _widest_path(G, s, t, max_hops):
    """Path from ``s`` to ``t`` maximising the smallest edge flow (modified Dijkstra)."""
    import heapq
    best = {s: math.inf}
    prev = {}
    hops = {s: 0}
    heap = [(-math.inf, 0, s)]
    count = 1
    while heap:
        negw, _, u = heapq.heappop(heap)
        w = -negw
        if w < best.get(u, -1.0):
            continue
        if u == t:
            break
        if hops[u] >= max_hops:
            continue
        for v in G.successors(u):
            c = min(w, G.edges[u, v]["flow"])
            if c > best.get(v, -1.0) and v != s:
                best[v] = c
                prev[v] = u
                hops[v] = hops[u] + 1
                heapq.heappush(heap, (-c, count, v))
                count += 1
    if t not in best or t == s:
        return None
    nodes = [t]
    while nodes[-1] != s:
        nodes.append(prev[nodes[-1]])
    return best[t], nodes[::-1]
