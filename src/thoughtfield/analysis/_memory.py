"""ACT-R declarative memory over the concept network (Anderson & Lebiere 1998; Anderson
et al. 2004), computed from when concepts were presented or retrieved.

Every concept is a chunk; two concepts joined by a relation (of any type, either
direction) are in each other's slots.  At time ``t`` a chunk ``i`` has the activation

    A_i(t) = B_i(t) + sum_j W_j S_ji

* base-level learning ``B_i(t) = ln sum_k (t - t_k)^(-d)`` over the times ``t_k < t`` the
  concept was presented or retrieved (``-inf`` before the first: the chunk is not yet in
  memory);
* spreading from the sources in focus ``j`` (each with ``W_j = W / n_sources``) to the
  chunks associated with them: ``S_ji = S - ln(fan_j)`` with ``fan_j = 1 + (number of
  concepts related to j)``; a source is associated with itself too.  ``S = None``
  switches spreading off.

Retrieval of ``i`` succeeds when ``A_i >= tau`` (with activation noise of scale ``s > 0``:
with probability ``1 / (1 + exp(-(A_i - tau) / s))``) after the latency ``F e^(-f A_i)``;
a failed retrieval takes ``F e^(-f tau)``.  These are ACT-R's equations as pyactr
implements them (``pyactr.utilities``; ``tests/test_memory.py`` compares the two).

The presentations come from a run (:func:`presentations`): the onsets of its stimuli and,
with ``retrieved_at``, the moments the dynamics themselves bring a concept above that
activation (its visits in the train of thought) -- so thinking about a concept
strengthens its memory, as a retrieval does in ACT-R.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import xarray as xr

from .. import _validate as V
from ..errors import ConfigError


def presentations(ds: xr.Dataset, *, retrieved_at: float | None = None,
                  member: int | None = None) -> dict[str, list[float]]:
    """When each concept of a result was presented or retrieved: the start of every
    stimulus on it and, with ``retrieved_at``, every moment its activation rose to
    ``retrieved_at`` or above (entries of the train of thought, the first saved time
    included when it starts there).  ``member`` picks one member of an ensemble (member
    stimuli for other members are left out)."""
    if "activation" not in ds or "concept" not in ds.dims:
        raise ConfigError("memory: the result has no activation(time, concept)", key='memory')
    out: dict[str, list[float]] = {str(c): [] for c in ds["concept"].values}
    if "stimulus_concept" in ds.coords:
        members = (ds["stimulus_member"].values if "stimulus_member" in ds.coords
                   else np.full(ds.sizes.get("stimulus", 0), -1))
        for c, start, mem in zip(ds["stimulus_concept"].values, ds["stimulus_start"].values,
                                 members):
            if mem >= 0 and member is not None and mem != member:
                continue
            if str(c) in out:
                out[str(c)].append(float(start))
    if retrieved_at is not None:
        V.real("retrieved_at", retrieved_at)
        act = ds["activation"]
        if "member" in act.dims:
            if member is None:
                raise ConfigError("memory: the result is an ensemble; give member=K", key='memory')
            act = act.isel(member=member)
        a = act.transpose("time", "concept").values
        t = ds["time"].values
        above = a >= retrieved_at
        rising = above.copy()
        rising[1:] &= ~above[:-1]
        for k, c in enumerate(ds["concept"].values):
            out[str(c)].extend(float(x) for x in t[rising[:, k]])
    return {c: sorted(v) for c, v in out.items()}


def _fans(network) -> np.ndarray:
    """``fan_j = 1 + (number of distinct concepts related to j)``."""
    r = network.relation_arrays()
    n = network.n
    src, tgt = np.asarray(r["source"], np.int64), np.asarray(r["target"], np.int64)
    keep = src != tgt
    pairs = np.unique(np.concatenate([src[keep] * n + tgt[keep], tgt[keep] * n + src[keep]]))
    deg = np.bincount(pairs // n, minlength=n)
    return 1.0 + deg, pairs


def actr_memory(network, presented: Mapping, at, *, sources=(), decay: float = 0.5,
                strength: float | None = None, source_activation: float = 1.0,
                threshold: float = 0.0, noise: float = 0.0, latency_factor: float = 1.0,
                latency_exponent: float = 1.0) -> xr.Dataset:
    """ACT-R activations of every concept of ``network`` at the times ``at``.

    Parameters
    ----------
    presented : mapping
        ``{concept: [times]}`` when each was presented or retrieved (e.g.
        :func:`presentations` of a run); concepts left out were never presented.
    at : array
        The times to evaluate at.
    sources : list of concepts
        The concepts in focus that spread activation (``W / len(sources)`` each).
    decay : float
        ``d`` of base-level learning (ACT-R's ``:bll``, 0.5).
    strength : float, optional
        ``S``, the maximum associative strength (``:mas``); None: no spreading.
    source_activation : float
        ``W`` (ACT-R's goal source activation, 1).
    threshold, noise : float
        Retrieval threshold ``tau`` (``:rt``) and activation noise scale ``s``
        (``:ans``; 0: retrieval succeeds exactly when ``A >= tau``).
    latency_factor, latency_exponent : float
        ``F`` and ``f`` of the latency ``F e^(-f A)`` (``:lf``, ``:le``).

    Returns
    -------
    xarray.Dataset
        ``base_level(time, concept)``, ``spreading(concept)``,
        ``memory_activation(time, concept)``, ``retrieval_probability(time, concept)``,
        ``retrieval_latency(time, concept)`` (``inf`` before the first presentation) and
        ``presentations(concept)`` (how many before the last time); the failure latency
        ``F e^(-f tau)`` is the attribute ``failure_latency``.
    """
    decay = V.positive("memory.decay", decay)
    if decay >= 1:
        raise ConfigError(f"memory.decay: must be < 1 (got {decay:g}); ACT-R's usual value is 0.5",
                          key='memory.decay')
    source_activation = V.nonnegative("memory.source_activation", source_activation)
    threshold = V.real("memory.threshold", threshold)
    noise = V.nonnegative("memory.noise", noise)
    latency_factor = V.positive("memory.latency_factor", latency_factor)
    latency_exponent = V.positive("memory.latency_exponent", latency_exponent)
    if strength is not None:
        strength = V.real("memory.strength", strength)
    at = V.real_array("memory.at", at).ravel()
    if not isinstance(presented, Mapping):
        raise ConfigError("memory.presented: expected {concept: [times]} (got "
                          f"{type(presented).__name__})", key='memory.presented')
    n = network.n
    times = []
    for c, ts in presented.items():
        i = network.index(c, f"memory.presented.{c}")
        arr = V.real_array(f"memory.presented.{c}", list(ts)).ravel()
        times.append((i, np.sort(arr)))
    B = np.full((at.size, n), -np.inf)
    count = np.zeros(n, np.int64)
    for i, ts in times:
        if ts.size == 0:
            continue
        age = at[:, None] - ts[None, :]
        with np.errstate(divide="ignore"):
            contrib = np.where(age > 0, np.abs(age) ** -decay, 0.0)   # only t_k < t counts
        total = contrib.sum(axis=1)
        with np.errstate(divide="ignore"):
            B[:, i] = np.where(total > 0, np.log(total), -np.inf)
        count[i] = int((ts < at.max()).sum()) if at.size else 0
    spread = np.zeros(n)
    src = [network.index(c, f"memory.sources[{k}]") for k, c in enumerate(sources)]
    if strength is not None and src:
        fan, pairs = _fans(network)             # sorted codes j * n + i of related pairs
        w = source_activation / len(src)
        for j in src:
            lo, hi = np.searchsorted(pairs, [j * n, (j + 1) * n])
            related = np.concatenate([[j], pairs[lo:hi] - j * n])   # j spreads to itself too
            spread[related] += w * (strength - math.log(fan[j]))
    A = B + spread[None, :]
    with np.errstate(over="ignore"):
        if noise > 0:
            prob = 1.0 / (1.0 + np.exp(-(A - threshold) / noise))
        else:
            prob = (A >= threshold).astype(np.float64)
        latency = latency_factor * np.exp(-latency_exponent * A)
    concept = ("concept", np.array(network.concepts, dtype=object))
    ds = xr.Dataset(
        {"base_level": (("time", "concept"), B, {"long_name": "base-level activation "
                                                "ln sum (t - t_k)^-d (-inf: never presented)"}),
         "spreading": ("concept", spread, {"long_name": "activation spread from the sources"}),
         "memory_activation": (("time", "concept"), A,
                               {"long_name": "ACT-R activation (base level + spreading)"}),
         "retrieval_probability": (("time", "concept"), prob,
                                   {"long_name": "probability that a retrieval succeeds"}),
         "retrieval_latency": (("time", "concept"), latency,
                               {"long_name": "retrieval latency F exp(-f A)", "units": "1"}),
         "presentations": ("concept", count, {"long_name": "presentations and retrievals"})},
        coords={"time": ("time", at), "concept": concept},
        attrs={"failure_latency": latency_factor * math.exp(-latency_exponent * threshold),
               "decay": decay, "strength": "none" if strength is None else strength,
               "source_activation": source_activation, "threshold": threshold,
               "noise": noise, "latency_factor": latency_factor,
               "latency_exponent": latency_exponent,
               "sources": ",".join(network.concepts[j] for j in src)})
    return ds


#: The variables :func:`add_memory` adds to a result.
MEMORY_VARIABLES = ("base_level", "spreading", "memory_activation", "retrieval_probability",
                    "retrieval_latency", "presentations")


def add_memory(ds: xr.Dataset, network, *, retrieved_at: float | None = 0.5, sources=(),
               **params) -> xr.Dataset:
    """Add the ACT-R memory of every concept at the result's save times to ``ds`` (in
    place; returns it): the variables of :func:`actr_memory` (with a leading ``member``
    dimension for ensembles, each member with its own retrievals), from
    :func:`presentations` with ``retrieved_at``.  ``params`` are those of
    :func:`actr_memory`."""
    at = ds["time"].values
    members = ds.sizes.get("member", 0) if "member" in ds["activation"].dims else 0
    parts = []
    for k in range(max(members, 1)):
        pres = presentations(ds, retrieved_at=retrieved_at, member=k if members else None)
        parts.append(actr_memory(network, pres, at, sources=sources, **params))
    for name in MEMORY_VARIABLES:
        first = parts[0][name]
        if members and name != "spreading":     # spreading is the same for every member
            ds[name] = (("member",) + first.dims, np.stack([p[name].values for p in parts]),
                        first.attrs)
        else:
            ds[name] = first.variable
    settings = dict(parts[0].attrs, retrieved_at="none" if retrieved_at is None else retrieved_at)
    ds.attrs["memory"] = "; ".join(f"{k} = {settings[k]}" for k in ("retrieved_at",
        "decay", "strength", "source_activation", "sources", "threshold", "noise",
        "latency_factor", "latency_exponent", "failure_latency"))
    ds.attrs["memory_failure_latency"] = settings["failure_latency"]
    return ds
