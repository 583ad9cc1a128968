"""Running a trial protocol (:class:`~thoughtfield.Protocol`): every trial integrated in
turn on one prepared simulation per condition, the state reset between trials except the
blocks the protocol carries, controls updated between trials from the conflict at the
response; the result has a ``trial`` dimension (:func:`thoughtfield.readouts.trial_summary`
summarises it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import xarray as xr

from . import _validate as V
from ._kernels.rhs import outputs
from .build import _response_choice
from .errors import ConfigError
from .model import Model
from .network import ConceptNetwork
from .growth import GrowthRun
from .learning import LearningRun
from .protocol import Protocol
from .readouts import _pool_edges, pool_conflict
from .saving import SaveAt
from .results import (TRIAL_TIME_ATTRS, _clean_attrs, _version, compact_description,
                      network_description)
from .simulate import Simulation


def run_protocol(network, model, protocol: Protocol, *, solver=None, members: int = 1,
                 seed: int | None = None, threads: int | None = None,
                 progress: bool = False, learning=None, growth=None) -> xr.Dataset:
    """Run every trial of ``protocol`` and return the per-trial readouts.

    Each trial integrates ``[0, protocol.duration]`` (or up to the choice when the choice
    has ``stop = True``) with the condition's stimuli.  Members are independent
    participants (own noise, own carried state).

    Returns
    -------
    xarray.Dataset
        ``condition(trial)``; ``choice``, ``correct``, ``response_time`` (NaN when no
        choice), ``conflict_at_response(trial, pool)`` (at the response, or at the end of
        the trial without one), ``control(trial, controller)`` (value at the trial's start),
        with a leading ``member`` dimension for ensembles; with ``record`` also the time
        courses (``activation(trial, time, concept)``...).  With ``learning`` (a
        :class:`~thoughtfield.learning.RescorlaWagner`) the cue weights change after every
        trial and the next runs on them: ``associative_strength(trial, cue)`` (after the
        trial), ``prediction(trial)`` and ``prediction_error(trial)``.  With ``growth`` (a
        :class:`~thoughtfield.growth.Growth`) the network grows after the trials (new
        concepts from repeated settled sets, new relations between concepts that settle
        together): ``formed_concept(formed)``, ``linked_source(linked)``...,
        ``n_concepts(trial)``; recorded time courses then span every concept of the grown
        network, NaN for a concept in the trials before it was formed.
    """

    if not isinstance(network, ConceptNetwork):
        raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})",
                          key='network')
    if not isinstance(model, Model):
        raise ConfigError(f"model: expected a Model (got {type(model).__name__})", key='model')
    if not isinstance(protocol, Protocol):
        if isinstance(protocol, Mapping):
            protocol = Protocol.from_dict(protocol)
        else:
            raise ConfigError(f"protocol: expected a Protocol (got {type(protocol).__name__})",
                              key='protocol')
    members = V.integer("members", members, min=1)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    seed = V.integer("seed", seed, min=0)
    d_resp = _response_choice(model, protocol)
    seq = protocol.sequence()
    T = protocol.duration
    # one prepared simulation per condition (lowered once)
    conditions = {c.name: c for c in protocol.conditions}

    def prepare(cond, net):
        ch = list(model.choices)
        if cond.correct is not None:
            ch[d_resp] = replace(ch[d_resp], correct=cond.correct)
        mc = replace(model, choices=tuple(ch))
        kw = dict(t_end=T, solver=solver, members=members, seed=seed, threads=threads)
        if protocol.record:
            dt = protocol.save_dt if protocol.save_dt is not None else T / 100
            kw["saveat"] = SaveAt(dt=dt)
        else:
            kw["saveat"] = SaveAt(times=[T])
        try:
            return Simulation(net, mc, cond.stimuli, **kw)
        except ConfigError as e:
            raise e.at(f"condition {cond.name!r}") from None

    sims = {c.name: prepare(c, network) for c in protocol.conditions}
    rw = LearningRun(network, protocol, learning) if learning is not None else None
    gr = GrowthRun(network, growth, members) if growth is not None else None
    built_with = {name: (0, 0) for name in sims}   # the versions each was prepared with

    def learned():
        """The network the next trial runs on: grown, with the weights learned so far."""
        if gr is None:
            return rw.network()
        net = gr.network
        if rw is not None:   # the learned relations come first, the grown ones after them
            w = net.relation_arrays()["weight"]
            w[:rw.weights.size] = rw.weights
            net = net._derived(rel_weight=w)
        return net

    first = sims[seq[0]]
    lay = first.layout
    M = members
    y_init = {k: s.state.y.copy() for k, s in sims.items()}
    noise = first.random_state()
    carried, carried_from = None, first
    K = len(seq)
    npool = len(lay.pools)
    C = len(lay.controls)
    dec = lay.decisions[d_resp]
    ch_name = np.empty((K, M), dtype=object)
    ok = np.zeros((K, M), bool)
    rt = np.full((K, M), np.nan)
    conf = np.full((K, npool, M), np.nan)
    ctrl = np.zeros((K, C, M))
    ctrl_end = np.zeros((K, C, M))
    records = []
    stats = {"n_steps": 0, "n_rhs": 0, "n_accepted": 0, "n_rejected": 0}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=K, unit="trial", desc="thoughtfield", leave=False)
    try:
        for k, cname in enumerate(seq):
            version = (rw.version if rw else 0, gr.version if gr else 0)
            if built_with[cname] != version:   # learned or grown since
                sims[cname] = prepare(conditions[cname], learned())
                built_with[cname] = version
                if sims[cname].state.y.size != y_init[cname].size:   # new concepts, at rest
                    y_init[cname] = sims[cname].state.y.copy()
            sim = sims[cname]
            y = y_init[cname].copy()
            if carried is not None:
                old, new = _blocks(carried_from), _blocks(sim)
                for b in protocol.carry:
                    if b in old:
                        (lo, hi), (lo2, _) = old[b], new[b]
                        y[lo2 * M:(lo2 + hi - lo) * M] = carried[lo * M:hi * M]
            sim.reset(y, random_state=noise)
            lay = sim.layout
            st = sim.state
            if C:
                ctrl[k] = st.y[lay.c_off * M:(lay.c_off + C) * M].reshape(C, M)
            ds_k = sim.run(assemble=protocol.record)   # (a Dataset only to record)
            for key, value in sim.stats().items():
                if key in stats:
                    stats[key] += int(value)
            noise = sim.random_state()
            if protocol.record:
                records.append(ds_k.copy(deep=True))  # the simulation's buffers are reused
            # readouts of the response
            for m in range(M):
                j = int(st.ev_i[d_resp, m])
                ch_name[k, m] = dec["options"][j] if j >= 0 else ""
                ok[k, m] = j >= 0 and j == sims[cname].layout.decisions[d_resp]["correct"]
                if j >= 0:
                    rt[k, m] = st.ev_f[d_resp, m, 0] - dec["onset"]
                    conf[k, :, m] = st.ev_f[d_resp, m, 2:]
            # conflict at the end of the trial for members without a response
            undecided = st.ev_i[d_resp] < 0
            if undecided.any() and npool:
                a_end = _final_output(sim)
                for p, (_, idx, inh) in enumerate(lay.pools):
                    e = pool_conflict(a_end[None], idx, inh, _pool_edges(sim.problem, p))[0]
                    conf[k, p, undecided] = e[undecided]
            carried, carried_from = st.y.copy(), sim
            # trial-to-trial control
            for ci, ct in enumerate(lay.controls):
                rows = slice((lay.c_off + ci) * M, (lay.c_off + ci + 1) * M)
                if ct.mode == "trial":
                    pidx = [lay.pool_index(nm, "controls.monitor") for nm in ct.monitor]
                    e_trial = conf[k, pidx, :].sum(axis=0)
                    carried[rows] = ct.update(carried[rows], e_trial)
                ctrl_end[k, ci] = carried[rows]
            if rw is not None:
                rw.update(k, cname)
            if gr is not None:
                gr.observe(k, _final_output(sim)[:, 0])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    # (no wall time in the attributes: the same config and seed give the same bytes)
    ds = _protocol_dataset(network, model, protocol, first, seq, ch_name, ok, rt, conf, ctrl,
                           ctrl_end, records, stats, seed, dec)
    if rw is not None:
        rw.add_to(ds)
    if gr is not None:
        gr.add_to(ds)
    return ds


def _blocks(sim) -> dict:
    """The state blocks a protocol may carry, as row ranges ``(lo, hi)`` (per member) of
    ``sim``'s state; a grown network moves them, so each simulation has its own."""
    lay, n = sim.layout, sim.network.n
    blocks = {"activation": (0, n)}
    if lay.h_off >= 0:
        blocks["adaptation"] = (lay.h_off, lay.h_off + n)
    if lay.c_off >= 0:
        blocks["control"] = (lay.c_off, lay.c_off + len(lay.controls))
    if lay.e_off >= 0:
        blocks["evidence"] = (lay.e_off, lay.e_off + sum(d["e_rows"] for d in lay.decisions))
    if lay.w_off >= 0:
        blocks["weights"] = (lay.w_off, sim.problem.nstate)
    return blocks


def _final_output(sim):
    """Output ``a`` of the current state as ``(N, M)``."""
    a = np.empty(sim.network.n * sim.members)
    outputs(sim.problem, sim.work, sim.state.y, a)
    return a.reshape(sim.network.n, sim.members)


def _protocol_dataset(network, model, protocol, sim, seq, ch_name, ok, rt, conf, ctrl, ctrl_end,
                      records, stats, seed, dec):
    lay = sim.layout
    M = sim.members
    lead = ("member",) if M > 1 else ()

    def mv(a):
        a = np.asarray(a)
        return np.moveaxis(a, -1, 0) if M > 1 else a[..., 0]

    data = {
        "condition": (("trial",), np.array(seq, dtype=object)),
        "choice": (lead + ("trial",), mv(ch_name), {"long_name": "chosen option ('' = none)"}),
        "correct": (lead + ("trial",), mv(ok), {"long_name": "choice == the condition's correct option"}),
        "response_time": (lead + ("trial",), mv(rt),
                          {"long_name": "response time from the choice onset (NaN = no choice)"}),
    }
    corr = {c.name: (c.correct or "") for c in protocol.conditions}
    data["correct_option"] = (("trial",), np.array([corr[c] for c in seq], dtype=object))
    coords = {"trial": ("trial", np.arange(len(seq)))}
    if lay.pools:
        coords["pool"] = ("pool", np.array([p[0] for p in lay.pools], dtype=object))
        data["conflict_at_response"] = (lead + ("trial", "pool"), mv(conf),
                                        {"long_name": "conflict energy at the response (at the "
                                                      "end of the trial without one)"})
        watched = {nm for c in lay.controls for nm in c.monitor}
        data["pool_monitored"] = (("pool",), np.array([p[0] in watched for p in lay.pools]),
                                  {"long_name": "the pool's conflict drives a controller"})
    if lay.controls:
        coords["controller"] = ("controller", np.array([c.name for c in lay.controls], dtype=object))
        if lay.pools:
            data["monitor"] = (("controller", "pool"),
                               np.array([[p[0] in c.monitor for p in lay.pools]
                                         for c in lay.controls]),
                               {"long_name": "the controller monitors the pool (its conflict "
                                             "is the sum over these pools)"})
        data["control"] = (lead + ("trial", "controller"), mv(ctrl),
                           {"long_name": "control at the start of the trial"})
        data["control_after"] = (lead + ("trial", "controller"), mv(ctrl_end),
                                 {"long_name": "control carried to the next trial"})
    ds = xr.Dataset(data, coords=coords)
    if records:
        full_t = sim.ts
        keep = [v for v in records[0].data_vars if "time" in records[0][v].dims]
        shared = ("time", "concept", "layer", "level", "pool", "idea", "idea_kind", "controller",
                  "accumulator", "accumulator_pool", "accumulator_concept", "member", "edge",
                  "edge_source", "edge_target", "edge_relation", "edge_scale")
        parts = []
        last = records[-1]   # a grown network only gains concepts: the last has them all
        grown = last.sizes.get("concept", 0) != records[0].sizes.get("concept", 0)
        for r in records:
            r = r[keep]
            r = r.drop_vars([c for c in r.coords if c not in shared])
            # (in the grown network's order: an outer join would sort the names)
            parts.append(r.reindex(time=full_t, concept=last.concept.values) if grown
                         else r.reindex(time=full_t))
        stacked = xr.concat(parts, dim="trial", coords="minimal", compat="override",
                            join="outer")
        if grown and "layer" in last.coords:
            stacked = stacked.assign_coords(layer=last.coords["layer"])
        stacked = stacked.assign_coords(trial=np.arange(len(seq)))
        ds = xr.merge([ds, stacked], compat="override", combine_attrs="drop")
        ds["time"].attrs = dict(TRIAL_TIME_ATTRS)
    ds.attrs = _clean_attrs({
        "title": "thoughtfield trial protocol",
        "thoughtfield_version": _version(),
        "seed": seed,
        "members": M,
        "method": sim.solver.method,
        "solver": sim.solver.to_dict(),
        "decision": dec["pool"],
        "options": list(dec["options"]),
        "protocol": protocol.to_dict(),
        "model": compact_description(model.to_dict()),
        "network": network_description(network),
        "status": "success",
        "message": f"{len(seq)} trials",
        **stats,
    })
    return ds
