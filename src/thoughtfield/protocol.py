"""Trial protocols: sequences of trials run like an experiment.

A :class:`Protocol` lists :class:`Condition` s (stimuli with onsets relative to the trial
start, e.g. a settling phase then the stimulus, and the correct answer) and a sequence
of trials -- explicit, or generated from the conditions' proportions in a seeded random
order.  Between trials every state block is reset to its initial value except the ones
named in ``carry`` (e.g. ``control``): the state of a participant that carries over.
Controls in ``mode = "trial"`` are updated between trials from the conflict at the
response (Botvinick et al. 2001)::

    c_next = persistence * c + (1 - persistence) * (alpha * E_trial + beta)

:func:`run_protocol` returns a Dataset with a ``trial`` dimension; :func:`trial_summary`
summarises it per condition (optionally split by the previous trial's condition, for
sequential effects such as conflict adaptation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np

from . import _validate as V
from ._lazy import LazyModule
from .errors import ConfigError
from ._params import described, param
from ._schema import REQUIRED, Bool, Choice, Int, ListOf, Real, Str
from .mechanisms import _names
from .stimuli import as_stimuli

xr = LazyModule("xarray")

CARRY = ("activation", "adaptation", "control", "evidence")


@described("condition", label_by="name", dict_order=("name", "stimuli", "weight", "correct"))
class Condition:
    """One kind of trial.

    Parameters
    ----------
    name : str
    stimuli : list of Pulse/Clamp (or tables)
        Times relative to the start of the trial.
    correct : str, optional
        The correct option of the protocol's decision.
    weight : float
        Relative frequency when the trial sequence is generated (``n_trials``).
    """

    name: str = param(Str(name=True), REQUIRED, "Name of the condition.",
                      hint="every condition needs a name")
    # (its config key lists [[stimuli]] tables: declared with the [protocol] section)
    stimuli: tuple = param(None, (), check=lambda key, value: _stimuli(key, value),
                           config=False)
    correct: str | None = param(Str(name=True), None, "The correct option.")
    weight: float = param(Real(min=0), 1.0, "Relative frequency (with n_trials).", unit="1")


def _stimuli(key, value):
    try:
        return as_stimuli(value)
    except ConfigError as e:
        raise ConfigError(f"{key.rpartition('.stimuli')[0]}: {e}") from None


_ORDERS = ("shuffled", "random")


def _conditions(conds) -> tuple:
    if isinstance(conds, (str, Mapping)) or not isinstance(conds, Iterable):
        raise ConfigError(f"protocol.conditions: expected a list of conditions (got {conds!r})")
    out = []
    for i, c in enumerate(conds):
        if isinstance(c, Mapping):
            c = Condition.from_dict(c, f"protocol.conditions[{i}]")
        elif not isinstance(c, Condition):
            raise ConfigError(f"protocol.conditions[{i}]: expected a Condition or a table "
                              f"(got {c!r})")
        out.append(c)
    if not out:
        raise ConfigError("protocol.conditions: must list at least one condition")
    names = [c.name for c in out]
    for nm in names:
        if names.count(nm) > 1:
            raise ConfigError(f"protocol.conditions: duplicate condition name {nm!r}")
    return tuple(out)


def _trials(key, tr) -> tuple:
    if isinstance(tr, str) or not isinstance(tr, Iterable):
        raise ConfigError(f"{key}: expected a list of condition names (got {tr!r})")
    tr = tuple(tr)
    if not tr:
        raise ConfigError(f"{key}: is empty")
    return tr


def _carry(key, value) -> tuple:
    carry = _names(key, value, allow_empty=True)
    for c in carry:
        if c not in CARRY:
            raise ConfigError(f"{key}: unknown state {c!r}" + V.did_you_mean(c, CARRY)
                              + f"; choose from {', '.join(CARRY)}")
    return carry


@described("protocol", dict_order=("conditions", "duration", "order", "seed", "carry", "record",
                                   "trials", "n_trials", "decision", "save_dt"))
class Protocol:
    """A sequence of trials.

    Parameters
    ----------
    conditions : list of Condition
    duration : float
        Length of every trial (model time units).
    trials : list of str, optional
        The explicit sequence of condition names.
    n_trials : int, optional
        Generate this many trials from the conditions' weights: ``order = "shuffled"``
        makes the counts match the proportions (largest remainder) and shuffles them;
        ``"random"`` draws every trial independently.  Seeded by ``seed``.
    carry : list of str
        State carried from one trial to the next (``activation``, ``adaptation``,
        ``control``, ``evidence``); everything else is reset to its initial value.
    decision : str, optional
        Pool of the choice that is the response (default: the model's only choice).
    record : bool
        Keep every trial's time course (``activation(trial, time, concept)`` etc.,
        NaN after a trial that stopped at its choice).
    save_dt : float, optional
        Save interval of the recorded time courses.
    """

    conditions: tuple = param(ListOf(Condition.struct(), min_len=1), REQUIRED,
                              "The kinds of trial.", check=lambda key, v: _conditions(v))
    duration: float = param(Real(min=0, min_inclusive=False), REQUIRED, "Length of each trial.",
                            unit="time", config_default=None, default_doc="run.t_end - run.t0")
    trials: tuple | None = param(ListOf(Str(name=True), min_len=1), None,
                                 "The explicit sequence of condition names.",
                                 check=lambda key, v: _trials(key, v))
    n_trials: int | None = param(Int(min=1, max=10_000_000), None, "Generate this many trials "
                                 "from the conditions' weights.")
    order: str = param(Choice(list(_ORDERS)), "shuffled", "`shuffled`: counts match the weights "
                       "exactly, in a seeded random order; `random`: independent draws.")
    seed: int = param(Int(min=0, max=2**63 - 1), 0, "Seed of the trial order.",
                      config_default=None, default_doc="the config's seed, else 0")
    carry: tuple = param(ListOf(Choice(list(CARRY)), unique=True), ("control",),
                         "State carried from trial to trial; everything else is reset.",
                         check=lambda key, v: _carry(key, v))
    decision: str | None = param(Str(name=True), None, "Pool of the response choice.",
                                 default_doc="the only [[choices]] entry")
    record: bool = param(Bool(), False, "Keep every trial's time course.")
    save_dt: float | None = param(Real(min=0, min_inclusive=False), None, "Save interval of the "
                                  "time courses.", unit="time", default_doc="duration / 100")

    def _validate(self, key):
        names = [c.name for c in self.conditions]
        for c in self.conditions:
            for k, s in enumerate(c.stimuli):
                if s.start >= self.duration:
                    raise ConfigError(f"condition {c.name!r}: stimuli[{k}].start = {s.start:g} is at "
                                      f"or after the end of the trial (duration = {self.duration:g})")
        if (self.trials is None) == (self.n_trials is None):
            raise ConfigError("protocol: give either trials (an explicit list of condition names) "
                              "or n_trials (generated from the conditions' weights)")
        if self.trials is not None:
            for i, t in enumerate(self.trials):
                if t not in names:
                    raise ConfigError(f"protocol.trials[{i}]: unknown condition {t!r}"
                                      + V.did_you_mean(str(t), names)
                                      + f"; the conditions are {', '.join(names)}")
        elif sum(c.weight for c in self.conditions) <= 0:
            raise ConfigError("protocol.conditions: the weights sum to 0; give at least one "
                              "condition a positive weight")

    def sequence(self) -> list[str]:
        """The condition of every trial, in order."""
        if self.trials is not None:
            return list(self.trials)
        rng = np.random.default_rng(self.seed)
        w = np.array([c.weight for c in self.conditions], dtype=float)
        p = w / w.sum()
        names = [c.name for c in self.conditions]
        n = self.n_trials
        if self.order == "random":
            return [names[k] for k in rng.choice(len(names), size=n, p=p)]
        exact = p * n
        counts = np.floor(exact).astype(int)
        rest = n - counts.sum()
        if rest:
            counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
        seq = np.repeat(np.arange(len(names)), counts)
        rng.shuffle(seq)
        return [names[k] for k in seq]


def _response_choice(model, protocol):
    if not model.choices:
        raise ConfigError("protocol: the model has no choice; add a Choice on the response pool "
                          "(Model(choices=[Choice('responses', ...)]))")
    pools = [c.pool for c in model.choices]
    if protocol.decision is None:
        if len(pools) > 1:
            raise ConfigError(f"protocol.decision: the model has {len(pools)} choices "
                              f"({', '.join(pools)}); name the response pool")
        return 0
    if protocol.decision not in pools:
        raise ConfigError(f"protocol.decision: no choice on pool {protocol.decision!r}"
                          + V.did_you_mean(protocol.decision, pools)
                          + f"; the choices are on {', '.join(pools)}")
    return pools.index(protocol.decision)


def check_protocol(network, model, protocol: Protocol, *, key: str = "protocol") -> None:
    """Check a protocol against a network and model without running it: the response
    decision exists, every condition's stimuli name concepts of the network, and its
    correct answer is an option of the decision's pool."""
    from .build import resolve_pools
    d = _response_choice(model, protocol)
    pool = model.choices[d].pool
    pools = {name: idx for name, idx, _ in resolve_pools(network, model)}
    if pool not in pools:
        raise ConfigError(f"choices[{d}].pool: unknown pool {pool!r}" + V.did_you_mean(pool, pools))
    options = [network.concepts[i] for i in pools[pool]]
    for i, c in enumerate(protocol.conditions):
        ck = f"{key}.conditions[{i}]"
        for k, st in enumerate(c.stimuli):
            network.index(st.concept, f"{ck}.stimuli[{k}].concept")
        if c.correct is not None and c.correct not in options:
            raise ConfigError(f"{ck}.correct: {c.correct!r} is not an option of pool {pool!r} "
                              f"(options: {', '.join(options)})" + V.did_you_mean(c.correct, options))


def run_protocol(network, model, protocol: Protocol, *, solver=None, members: int = 1,
                 seed: int | None = None, threads: int | None = None,
                 progress: bool = False) -> xr.Dataset:
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
        courses (``activation(trial, time, concept)``...).
    """
    from ._problem import F_ERRPREV, F_H, F_T
    from ._kernels.rhs import apply_segment
    from .model import Model
    from .network import ConceptNetwork
    from .readouts import pool_conflict, _pool_edges
    from .simulate import Simulation

    if not isinstance(network, ConceptNetwork):
        raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})")
    if not isinstance(model, Model):
        raise ConfigError(f"model: expected a Model (got {type(model).__name__})")
    if not isinstance(protocol, Protocol):
        if isinstance(protocol, Mapping):
            protocol = Protocol.from_dict(protocol)
        else:
            raise ConfigError(f"protocol: expected a Protocol (got {type(protocol).__name__})")
    members = V.integer("members", members, min=1)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    seed = V.integer("seed", seed, min=0)
    d_resp = _response_choice(model, protocol)
    seq = protocol.sequence()
    T = protocol.duration
    # one prepared simulation per condition (lowered once)
    sims = {}
    for ci, cond in enumerate(protocol.conditions):
        ch = list(model.choices)
        if cond.correct is not None:
            ch[d_resp] = replace(ch[d_resp], correct=cond.correct)
        mc = replace(model, choices=tuple(ch))
        kw = dict(t_end=T, solver=solver, members=members, seed=seed, threads=threads)
        if protocol.record:
            kw["save_dt"] = protocol.save_dt if protocol.save_dt is not None else T / 100
        else:
            kw["save_at"] = [T]
        try:
            sims[cond.name] = Simulation(network, mc, cond.stimuli, **kw)
        except ConfigError as e:
            raise ConfigError(f"condition {cond.name!r}: {e}") from None
    first = sims[seq[0]]
    lay = first.layout
    n, M, S = network.n, members, first.problem.nstate
    y_init = {k: s.state.y.copy() for k, s in sims.items()}
    rng = first.state.rng.copy()
    spare = first.state.spare.copy()
    has_spare = first.state.has_spare.copy()
    blocks = {"activation": (0, n)}
    if lay.h_off >= 0:
        blocks["adaptation"] = (lay.h_off, lay.h_off + n)
    if lay.c_off >= 0:
        blocks["control"] = (lay.c_off, lay.c_off + len(lay.controls))
    if lay.e_off >= 0:
        blocks["evidence"] = (lay.e_off, S)
    carried = None
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
            sim = sims[cname]
            y = y_init[cname].copy()
            if carried is not None:
                for b in protocol.carry:
                    if b in blocks:
                        lo, hi = blocks[b]
                        y[lo * M:hi * M] = carried[lo * M:hi * M]
            st = sim.state
            st.y[:] = y
            st.fst[:] = 0.0
            st.fst[F_T] = sim.t0
            st.fst[F_H] = 0.0
            st.fst[F_ERRPREV] = 1e-4
            st.ist[:] = 0
            st.ev_i[:] = -1
            st.ev_f[:] = np.nan
            st.rng[:] = rng
            st.spare[:] = spare
            st.has_spare[:] = has_spare
            apply_segment(sim.problem, sim.work, 0, st.y)
            if C:
                ctrl[k] = st.y[lay.c_off * M:(lay.c_off + C) * M].reshape(C, M)
            ds_k = sim.run()
            for key in stats:
                stats[key] += int(ds_k.attrs[key])
            rng, spare, has_spare = st.rng.copy(), st.spare.copy(), st.has_spare.copy()
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
            carried = st.y.copy()
            # trial-to-trial control
            for ci, ct in enumerate(lay.controls):
                rows = slice((lay.c_off + ci) * M, (lay.c_off + ci + 1) * M)
                if ct.mode == "trial":
                    pidx = [lay.pool_index(nm, "controls.monitor") for nm in ct.monitor]
                    e_trial = conf[k, pidx, :].sum(axis=0)
                    carried[rows] = ct.update(carried[rows], e_trial)
                ctrl_end[k, ci] = carried[rows]
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    # (no wall time in the attributes: the same config and seed give the same bytes)
    return _protocol_dataset(network, model, protocol, first, seq, ch_name, ok, rt, conf, ctrl,
                             ctrl_end, records, stats, seed, dec)


def _final_output(sim):
    """Output ``a`` of the current state as ``(N, M)``."""
    from ._kernels.rhs import outputs
    a = np.empty(sim.network.n * sim.members)
    outputs(sim.problem, sim.work, sim.state.y, a)
    return a.reshape(sim.network.n, sim.members)


def _protocol_dataset(network, model, protocol, sim, seq, ch_name, ok, rt, conf, ctrl, ctrl_end,
                      records, stats, seed, dec):
    from .results import _clean_attrs, _version, compact_description, network_description
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
                  "accumulator", "accumulator_pool", "accumulator_concept", "member")
        parts = []
        for r in records:
            r = r[keep]
            r = r.drop_vars([c for c in r.coords if c not in shared])
            parts.append(r.reindex(time=full_t))
        stacked = xr.concat(parts, dim="trial", coords="minimal", compat="override",
                            join="outer")
        stacked = stacked.assign_coords(trial=np.arange(len(seq)))
        ds = xr.merge([ds, stacked], compat="override", combine_attrs="drop")
        from .results import TRIAL_TIME_ATTRS
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


def trial_summary(ds: xr.Dataset, *, by_previous: bool = False, pools=None) -> xr.Dataset:
    """Per-condition summary of a protocol result: ``n`` (trials x members), ``accuracy``,
    ``mean_rt`` (correct responses), ``mean_rt_error``, ``no_response`` (fraction),
    ``conflict`` (mean conflict at the response) and ``control`` (mean at trial start).
    With ``by_previous`` the first trial is dropped and the summary has dimensions
    ``(previous, condition)`` -- sequential effects such as the conflict adaptation
    (Gratton) effect.

    ``conflict`` is the conflict the monitor sees, not a sum over every pool: the conflict
    energy at the response (at the end of the trial without one) summed over the pools
    the controller monitors (what drives it; each pool's ``E = -sum_{i != j} w_ij a_i a_j``
    is in ``conflict_at_response(trial, pool)``).  With several controllers it has a
    ``controller`` dimension, one value per controller; with none, it sums every pool.
    ``pools=`` (a name or a list) sums those pools instead, without a ``controller``
    dimension.  ``conflict.attrs["pools"]`` names the pools used (``"a,b"``; per
    controller ``"c1: a; c2: a,b"``)."""
    if "trial" not in ds.dims or "condition" not in ds:
        raise ConfigError("trial_summary: not a protocol result (no 'trial' dimension)")
    pool_names = [str(p) for p in ds["pool"].values] if "pool" in ds.coords else []
    groups = None           # per controller: (name, pools)
    if pools is None:
        if "monitor" in ds and ds["monitor"].sizes.get("controller", 0) > 1:
            mon = ds["monitor"].transpose("controller", "pool").values
            groups = [(str(c), [p for p, m in zip(pool_names, row) if m])
                      for c, row in zip(ds["controller"].values, mon)]
            pools = sorted({p for _, ps in groups for p in ps}, key=pool_names.index)
        else:
            mon = ds["pool_monitored"].values if "pool_monitored" in ds else np.zeros(0, bool)
            pools = [p for p, m in zip(pool_names, mon) if m] or pool_names
    else:
        pools = [pools] if isinstance(pools, str) else list(pools)
        bad = [p for p in pools if p not in pool_names]
        if bad:
            raise ConfigError(f"trial_summary: pools: unknown pool {bad[0]!r}; the result has "
                              f"{', '.join(map(repr, pool_names)) or 'no pools'}; pass some of "
                              f"those, or pools=None for the monitored ones")
    cond = ds.condition.values
    names = list(dict.fromkeys(cond.tolist()))

    def stack(v):
        a = ds[v]
        if "member" in a.dims:
            a = a.transpose("trial", "member", ...)
        else:
            a = a.expand_dims("member", axis=1)
        return np.asarray(a.values)

    choice = stack("choice")
    ok = stack("correct").astype(bool)
    rt = stack("response_time")
    conf = None
    if "conflict_at_response" in ds and pools:
        per_pool = stack("conflict_at_response")
        if groups is None:
            sel_pools = np.array([pool_names.index(p) for p in pools])
            conf = per_pool[:, :, sel_pools].sum(axis=2)
        else:   # (trial, member, controller)
            conf = np.stack([per_pool[:, :, [pool_names.index(p) for p in ps]].sum(axis=2)
                             for _, ps in groups], axis=2)
    ctl = stack("control").mean(axis=2) if "control" in ds else None

    def summarise(sel):
        c, o, r = choice[sel], ok[sel], rt[sel]
        out = {"n": float(o.size), "accuracy": float(o.mean()) if o.size else np.nan,
               "no_response": float((c == "").mean()) if c.size else np.nan}
        rc = r[o & np.isfinite(r)]
        re = r[~o & np.isfinite(r)]
        out["mean_rt"] = float(rc.mean()) if rc.size else np.nan
        out["mean_rt_error"] = float(re.mean()) if re.size else np.nan
        if groups is None:
            out["conflict"] = float(conf[sel].mean()) if conf is not None and o.size else np.nan
        else:
            out["conflict"] = (conf[sel].mean(axis=(0, 1)) if o.size
                               else np.full(len(groups), np.nan))
        out["control"] = float(ctl[sel].mean()) if ctl is not None and o.size else np.nan
        return out

    keys = ("n", "accuracy", "mean_rt", "mean_rt_error", "no_response", "conflict", "control")
    extra = {} if groups is None else {"conflict": ("controller",)}
    ctrl_coord = {} if groups is None else {
        "controller": np.array([g[0] for g in groups], dtype=object)}
    used = (",".join(pools) if groups is None else
            "; ".join(f"{c}: {','.join(ps)}" for c, ps in groups))
    if not by_previous:
        rows = [summarise(cond == nm) for nm in names]
        res = xr.Dataset({k: (("condition",) + extra.get(k, ()), np.array([r[k] for r in rows]))
                          for k in keys},
                         coords={"condition": np.array(names, dtype=object), **ctrl_coord})
        res["conflict"].attrs["pools"] = used
        return res
    prev = np.concatenate([[None], cond[:-1]])
    width = {"conflict": (len(groups),)} if groups is not None else {}
    out = {k: np.full((len(names), len(names)) + width.get(k, ()), np.nan) for k in keys}
    for i, pn in enumerate(names):
        for j, nm in enumerate(names):
            sel = (prev == pn) & (cond == nm)
            if sel.any():
                r = summarise(sel)
                for k in keys:
                    out[k][i, j] = r[k]
    res = xr.Dataset({k: (("previous", "condition") + extra.get(k, ()), v) for k, v in out.items()},
                     coords={"previous": np.array(names, dtype=object),
                             "condition": np.array(names, dtype=object), **ctrl_coord})
    res["conflict"].attrs["pools"] = used
    return res


def format_trial_summary(ds: xr.Dataset) -> str:
    """A plain-text table of :func:`trial_summary` (what ``thoughtfield run`` prints), with
    the most frequent choice of each condition."""
    s = trial_summary(ds)
    choice = ds["choice"]
    per = [str(c) for c in s["controller"].values] if "controller" in s["conflict"].dims else []
    heads = [f"conflict {c}" for c in per] or ["conflict"]
    width = max([10] + [len(h) + 2 for h in heads])
    lines = [f"{'condition':<16}{'trials':>8}{'accuracy':>10}{'mean RT':>10}{'RT err':>10}"
             f"{'no resp':>9}" + "".join(f"{h:>{width}}" for h in heads) + "  most chosen"]
    for c in s.condition.values:
        r = s.sel(condition=c)
        confs = [float(v) for v in np.atleast_1d(r.conflict.values)]
        ch = np.asarray(choice.isel(trial=np.flatnonzero(ds.condition.values == c)).values).ravel()
        names, counts = np.unique(ch.astype(str), return_counts=True)
        k = int(np.argmax(counts))
        top = f"{names[k] or '(none)'} {counts[k] / ch.size:.2f}"
        lines.append(f"{str(c):<16}{int(r.n):>8d}{float(r.accuracy):>10.3f}{float(r.mean_rt):>10.3f}"
                     f"{float(r.mean_rt_error):>10.3f}{float(r.no_response):>9.3f}"
                     + "".join(f"{v:>{width}.4f}" for v in confs) + f"  {top}")
    return "\n".join(lines)
