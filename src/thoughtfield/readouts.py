"""Readouts of the mechanisms: the Dataset variables a run gains, and functions that
summarise them (choices, trains of thought).

Variables (``member`` comes first for ensembles, as for ``activation``):

=============================  ===============================================================
``layer_mean(time, level)``    mean activation of each (non-empty) layer of the ladder
``layer_max(time, level)``     largest activation in each layer -- both derived from
                               ``activation``, so not stored by default: computed by
                               :func:`layer_summaries` (kept in the file with
                               ``[output] layer_summaries = true``)
``conflict(time, pool)``       conflict energy ``E = -sum_{i != j} w_ij a_i a_j`` of each pool
``potential(time, concept)``   the state ``u`` (potential form with ``record_potential``)
``adaptation(time, concept)``  ``h`` (with ``Adaptation(record=True)``)
``control(time, controller)``  control variables
``evidence(time, accumulator)``  evidence accumulators (``Choice(on="evidence")``)
``weight(time, edge)``         weights of the plastic relations (:class:`~thoughtfield.Plasticity`)
``idea_overlap(time, idea)``   ``x^mu . a / N``
``idea_activation(time, idea)``  mean activation of the idea's members (set-membership variant)
``choice(decision)``           chosen concept ('' when none) -- ``decision`` = the pool's name
``choice_time(decision)``      time of the choice (NaN when none)
``response_time(decision)``    ``choice_time - onset`` (NaN when none)
``choice_margin(decision)``    winner minus the best other option at the choice (NaN for one option)
``correct(decision)``          chosen == declared correct option (False when none or undeclared)
``conflict_at_choice(decision, pool)``  every pool's conflict at the choice
ensembles only:
``choice_probability(decision, option)``  fraction of members choosing each option
``undecided_fraction(decision)``  fraction of members without a choice
``accuracy(decision)``         fraction of members choosing the correct option (NaN if undeclared)
``mean_rt(decision)``, ``rt_quantile(decision, quantile)``  over members that chose
=============================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import _validate as V
from .errors import ConfigError

RT_QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)


# ------------------------------------------------------------------ formulas (numpy)
def pool_conflict(act: np.ndarray, idx: np.ndarray, inhibition: float, edges=None) -> np.ndarray:
    """Conflict energy of one pool over the last-but-one axis layout ``act[..., concept, member]``:
    ``E = inh * ((sum a)^2 - sum a^2) - sum_{W_ij < 0 in pool} W_ij a_i a_j``
    (``edges = (i, j, w)`` global indices of the pool's inhibitory couplings)."""
    A = act[..., idx, :]
    s = A.sum(axis=-2)
    sq = (A * A).sum(axis=-2)
    e = inhibition * (s * s - sq)
    if edges is not None and len(edges[0]):
        ei, ej, ew = edges
        e = e - np.einsum("k,...km->...m", ew, act[..., ei, :] * act[..., ej, :])
    return e


def edge_coords(net, plastic) -> dict:
    """Coordinates of the ``edge`` dimension of plastic relations: ``edge`` named
    ``"source->target"`` (with ``" (type)"`` where two types join the same pair),
    ``edge_source``, ``edge_target``, ``edge_relation`` and ``edge_scale`` (what the
    relation type and the layers put on a relation of weight 1: the relation weight is
    ``weight / edge_scale``)."""
    names = net.concepts
    src = [names[j] for j in plastic["src"]]
    tgt = [names[i] for i in plastic["tgt"]]
    label = [f"{a}->{b}" for a, b in zip(src, tgt)]
    if len(set(label)) < len(label):
        label = [f"{lb} ({ty})" for lb, ty in zip(label, plastic["types"])]
    obj = dict(dtype=object)
    return {"edge": ("edge", np.array(label, **obj)),
            "edge_source": ("edge", np.array(src, **obj)),
            "edge_target": ("edge", np.array(tgt, **obj)),
            "edge_relation": ("edge", np.array(plastic["types"], **obj)),
            "edge_scale": ("edge", np.asarray(plastic["factor"], np.float64))}


def _pool_edges(P, p):
    from ._problem import mechanism_arrays
    X = mechanism_arrays(P)
    lo, hi = int(X.p_eptr[p]), int(X.p_eptr[p + 1])
    return X.p_ei[lo:hi], X.p_ej[lo:hi], X.p_ew[lo:hi]


# ------------------------------------------------------------------ dataset assembly
def derived_width(sim) -> int:
    """Values per saved time that :func:`assemble` derives from the saved rows (conflict
    per pool, overlap and activation per stored idea), over all
    members -- for the size estimate of the result file."""
    lay = getattr(sim, "layout", None)
    if lay is None:
        return 0
    per = len(lay.pools)
    if lay.ideas is not None:
        per += 2 * len(lay.ideas[0])
    return per * sim.members


def assemble(sim, ts, out, attrs) -> xr.Dataset:
    """Build the result Dataset of a :class:`~thoughtfield.Simulation` (called by
    ``Simulation.result``)."""
    from .results import make_dataset
    net = sim.network
    lay = sim.layout
    P = sim.problem
    n, M = net.n, sim.members
    T = ts.size
    act = out[:, :n * M].reshape(T, n, M)
    lead = ("member",) if M > 1 else ()

    def var(name, dims, arr, attrs_=None):
        """``arr`` has the member axis last (or no member axis when ``dims`` lacks it)."""
        arr = np.asarray(arr)
        if M > 1:
            arr = np.moveaxis(arr, -1, 0)
        else:
            arr = arr[..., 0]
        variables[name] = (lead + dims, arr, attrs_ or {})

    variables: dict = {}
    coords: dict = {}
    off = n * M
    for name, rows in lay.out:
        blk = out[:, off:off + rows * M].reshape(T, rows, M)
        off += rows * M
        if name == "potential":
            var("potential", ("time", "concept"), blk, {"long_name": "potential u (state)"})
        elif name == "adaptation":
            var("adaptation", ("time", "concept"), blk, {"long_name": "adaptation h"})
        elif name == "control":
            var("control", ("time", "controller"), blk, {"long_name": "control c"})
            coords["controller"] = ("controller", np.array([c.name for c in lay.controls], dtype=object))
        elif name == "evidence":
            var("evidence", ("time", "accumulator"), blk, {"long_name": "evidence accumulator e"})
            ap, ac = [], []
            for d in lay.decisions:
                if d["e_rows"]:
                    ap += [d["pool"]] * d["e_rows"]
                    ac += list(d["options"])
            coords["accumulator"] = ("accumulator", np.array([f"{p}:{c}" for p, c in zip(ap, ac)],
                                                             dtype=object))
            coords["accumulator_pool"] = ("accumulator", np.array(ap, dtype=object))
            coords["accumulator_concept"] = ("accumulator", np.array(ac, dtype=object))
        elif name == "weight":
            var("weight", ("time", "edge"), blk, {"long_name": "weight of the plastic relation"})
            coords.update(edge_coords(net, lay.plastic))

    # layers of the ladder: layer_mean / layer_max are derived on demand (layer_summaries)

    # pools: conflict over time
    if lay.pools:
        coords["pool"] = ("pool", np.array([p[0] for p in lay.pools], dtype=object))
        E = np.stack([pool_conflict(act, idx, inh, _pool_edges(P, k))
                      for k, (_, idx, inh) in enumerate(lay.pools)], axis=1)
        var("conflict", ("time", "pool"), E,
            {"long_name": "conflict energy -sum_{i!=j} w_ij a_i a_j over the pool's inhibitory weights"})

    # ideas
    if lay.ideas is not None:
        names, X, is_set = lay.ideas
        coords["idea"] = ("idea", np.array(names, dtype=object))
        coords["idea_kind"] = ("idea", np.array(["set" if s else "pattern" for s in is_set],
                                                dtype=object))
        ov = np.einsum("pn,tnm->tpm", X, act) / n
        var("idea_overlap", ("time", "idea"), ov, {"long_name": "overlap x . a / N"})
        ia = np.stack([act[:, X[k] > 0, :].mean(axis=1) for k in range(len(names))], axis=1) \
            if T else np.zeros((0, len(names), M))
        var("idea_activation", ("time", "idea"), ia,
            {"long_name": "mean activation of the idea's members"})

    # choices
    if lay.decisions:
        _choice_variables(sim, var, variables, coords)

    from .results import model_coords
    coords.update(model_coords(sim.model, net, skip=sim.member_params or ()))
    return make_dataset(ts, act, net, members=M, attrs=attrs, variables=variables,
                        extra_coords=coords)


LAYER_SUMMARIES = ("layer_mean", "layer_max")


def layer_summaries(ds: xr.Dataset, var: str = "activation") -> xr.Dataset:
    """``layer_mean(..., time, level)`` and ``layer_max(..., time, level)``: the mean and
    the largest activation of each non-empty layer of the ladder (in ladder order), over
    every other dimension of ``ds[var]`` (members, trials, sweep dimensions).

    Result files do not store them (they are derived from ``activation``; in a sweep they
    took half of the file) unless the config says ``[output] layer_summaries = true``;
    files that have them (and files written before) give them back as stored::

        lay = thoughtfield.layer_summaries(ds)
        lay.layer_mean.sel(level="goal").plot()
    """
    if all(v in ds for v in LAYER_SUMMARIES):
        return ds[list(LAYER_SUMMARIES)]
    if var not in ds or "concept" not in ds[var].dims:
        raise ConfigError(f"layer_summaries: the result has no {var!r}(..., concept) variable "
                          "to summarise" + V.did_you_mean(var, list(ds.data_vars)),
                          key='layer_summaries')
    da = ds[var]
    layers = ([str(x) for x in ds["layer"].values] if "layer" in ds.coords
              else ["layer"] * da.sizes["concept"])
    ladder = str(ds["layer"].attrs.get("ladder", "")) if "layer" in ds.coords else ""
    order = [x for x in ladder.split("|") if x] if ladder else []
    order += [x for x in dict.fromkeys(layers) if x not in order]
    levels = [lv for lv in order if lv in layers]
    codes = np.array(layers, dtype=object)
    dims = tuple(d for d in da.dims if d != "concept")
    vals = da.transpose(*dims, "concept").values
    shape = vals.shape[:-1] + (len(levels),)
    lm, lx = np.zeros(shape), np.zeros(shape)
    for k, lv in enumerate(levels):
        sub = vals[..., codes == lv]
        if sub.size:
            lm[..., k] = sub.mean(axis=-1)
            lx[..., k] = sub.max(axis=-1)
    coords = {"level": ("level", np.array(levels, dtype=object))}
    for d in dims:
        if d in ds.coords:
            coords[d] = ds[d]
    out = xr.Dataset({
        "layer_mean": (dims + ("level",), lm, {"long_name": "mean activation of the layer"}),
        "layer_max": (dims + ("level",), lx, {"long_name": "largest activation in the layer"}),
    }, coords=coords)
    return out


def add_layer_summaries(ds: xr.Dataset) -> xr.Dataset:
    """Store :func:`layer_summaries` in ``ds`` (in place; returns ``ds``); a result that
    has them already is left as it is."""
    if not all(v in ds for v in LAYER_SUMMARIES) and "activation" in ds:
        lay = layer_summaries(ds)
        ds.coords["level"] = lay["level"]
        for v in LAYER_SUMMARIES:
            ds[v] = lay[v]
    return ds


def _choice_variables(sim, var, variables, coords):
    lay = sim.layout
    S = sim.state
    M = sim.members
    Q = len(lay.decisions)
    npool = len(lay.pools)
    coords["decision"] = ("decision", np.array([d["pool"] for d in lay.decisions], dtype=object))
    coords["correct_option"] = ("decision", np.array(
        [d["options"][d["correct"]] if d["correct"] >= 0 else "" for d in lay.decisions], dtype=object))
    choice = np.empty((Q, M), dtype=object)
    ok = np.zeros((Q, M), bool)
    for d, dec in enumerate(lay.decisions):
        for m in range(M):
            k = int(S.ev_i[d, m])
            choice[d, m] = dec["options"][k] if k >= 0 else ""
            ok[d, m] = k >= 0 and k == dec["correct"]
    tch = S.ev_f[:, :, 0].copy()
    onset = np.array([d["onset"] for d in lay.decisions])[:, None]
    var("choice", ("decision",), choice, {"long_name": "chosen concept ('' = none)"})
    var("choice_time", ("decision",), tch, {"long_name": "time of the choice (NaN = none)"})
    var("response_time", ("decision",), tch - onset,
        {"long_name": "response time from the choice onset (NaN = none)"})
    var("choice_margin", ("decision",), S.ev_f[:, :, 1].copy(),
        {"long_name": "winner minus best other decision variable at the choice"})
    var("correct", ("decision",), ok, {"long_name": "chosen == correct_option"})
    if npool:
        var("conflict_at_choice", ("decision", "pool"), np.transpose(S.ev_f[:, :, 2:], (0, 2, 1)),
            {"long_name": "conflict energy of each pool at the choice"})
    if M > 1:
        options = []
        for dec in lay.decisions:
            for o in dec["options"]:
                if o not in options:
                    options.append(o)
        coords["option"] = ("option", np.array(options, dtype=object))
        prob = np.zeros((Q, len(options)))
        for d in range(Q):
            for j, o in enumerate(options):
                prob[d, j] = np.mean(choice[d] == o)
        variables["choice_probability"] = (("decision", "option"), prob,
                                           {"long_name": "fraction of members choosing the option"})
        variables["undecided_fraction"] = (("decision",), np.mean(choice == "", axis=1), {})
        acc = np.array([ok[d].mean() if dec["correct"] >= 0 else np.nan
                        for d, dec in enumerate(lay.decisions)])
        variables["accuracy"] = (("decision",), acc,
                                 {"long_name": "fraction of members choosing correct_option "
                                               "(NaN: no correct option declared)"})
        rt = tch - onset
        mean_rt = np.full(Q, np.nan)
        q = np.full((Q, len(RT_QUANTILES)), np.nan)
        for d in range(Q):
            r = rt[d][np.isfinite(rt[d])]
            if r.size:
                mean_rt[d] = r.mean()
                q[d] = np.quantile(r, RT_QUANTILES)
        coords["quantile"] = ("quantile", np.array(RT_QUANTILES))
        variables["mean_rt"] = (("decision",), mean_rt,
                                {"long_name": "mean response time of members that chose (NaN: none)"})
        variables["rt_quantile"] = (("decision", "quantile"), q,
                                    {"long_name": "response-time quantiles of members that chose"})


# ------------------------------------------------------------------ summaries
@dataclass(frozen=True)
class Visit:
    """One stay of the trajectory in an idea."""

    idea: str
    entry: float
    dwell: float

    @property
    def exit(self) -> float:
        return self.entry + self.dwell


def train_of_thought(ds: xr.Dataset, *, threshold: float = 0.5, measure: str = "auto",
                     min_dwell: float = 0.0, member: int | None = None) -> list[Visit]:
    """The sequence of ideas visited by a run, read from the idea readouts.

    At every saved time the current idea is the one with the largest score, provided that
    score exceeds ``threshold`` (otherwise the state is between ideas).  The score is
    ``idea_activation`` (mean activation of the members) for ideas given as sets and
    ``idea_overlap`` for patterns (``measure = "auto"``), or the named variable.  Stays
    shorter than ``min_dwell`` are dropped (and neighbouring stays in the same idea merged).
    Returns :class:`Visit` records ``(idea, entry, dwell)`` in order.
    """
    if "idea" not in ds.dims:
        raise ConfigError("train_of_thought: the result has no ideas; store ideas in the model "
                          "(Model(ideas=Ideas([...])))", key='train_of_thought')
    threshold = V.real("threshold", threshold)
    min_dwell = V.nonnegative("min_dwell", min_dwell)
    V.choice("measure", measure, ("auto", "idea_activation", "idea_overlap"))
    if measure == "auto":
        sets = np.asarray(ds["idea_kind"].values == "set") if "idea_kind" in ds.coords else \
            np.ones(ds.sizes["idea"], bool)
        score = np.where(sets[None, :], _sel(ds["idea_activation"], member),
                         _sel(ds["idea_overlap"], member))
    else:
        score = _sel(ds[measure], member)
    t = ds.time.values
    names = list(ds.idea.values)
    best = np.argmax(score, axis=1)
    on = score[np.arange(t.size), best] > threshold
    cur = np.where(on, best, -1)
    visits: list[list] = []
    k = 0
    while k < t.size:
        j = k
        while j + 1 < t.size and cur[j + 1] == cur[k]:
            j += 1
        if cur[k] >= 0:
            end = t[j + 1] if j + 1 < t.size else t[j]
            visits.append([int(cur[k]), float(t[k]), float(end - t[k])])
        k = j + 1
    visits = [v for v in visits if v[2] >= min_dwell]
    merged: list[list] = []
    for v in visits:
        if merged and merged[-1][0] == v[0]:
            merged[-1][2] = v[1] + v[2] - merged[-1][1]
        else:
            merged.append(v)
    return [Visit(names[i], e, d) for i, e, d in merged]


def _sel(da, member):
    if "member" in da.dims:
        if member is None:
            raise ConfigError("train_of_thought: the result is an ensemble; pass member=k",
                              key='train_of_thought')
        da = da.isel(member=member)
    return np.asarray(da.transpose("time", "idea").values)


def format_train(visits) -> str:
    """``beach → holiday → flight → airport``."""
    return " → ".join(v.idea for v in visits)


def choice_summary(ds: xr.Dataset) -> list[dict]:
    """One dict per decision: options chosen (with probabilities for ensembles), mean
    response time, accuracy -- what ``thoughtfield run`` prints."""
    if "decision" not in ds.dims:
        return []
    out = []
    for d in ds.decision.values:
        row = {"decision": str(d)}
        if "member" in ds.dims:
            p = ds.choice_probability.sel(decision=d)
            row["probabilities"] = {str(o): float(v) for o, v in zip(p.option.values, p.values) if v > 0}
            row["undecided"] = float(ds.undecided_fraction.sel(decision=d))
            row["mean_rt"] = float(ds.mean_rt.sel(decision=d))
            row["accuracy"] = float(ds.accuracy.sel(decision=d))
        else:
            row["choice"] = str(ds.choice.sel(decision=d).values)
            row["response_time"] = float(ds.response_time.sel(decision=d))
            row["margin"] = float(ds.choice_margin.sel(decision=d))
            corr = str(ds.correct_option.sel(decision=d).values)
            if corr:
                row["correct"] = bool(ds.correct.sel(decision=d))
        out.append(row)
    return out


# ------------------------------------------------------------------ run summaries
def _swept(da, known) -> bool:
    """A sweep result (extra dimensions): the sweep's own summary reports per point."""
    return bool(set(da.dims) - set(known))


def _choice_lines(ds, top=5) -> list[str]:
    if "decision" not in ds.dims or "trial" in ds.dims or _swept(ds["choice"], ("member", "decision")):
        return []
    out = []
    for row in choice_summary(ds):
        if "probabilities" in row:
            probs = ", ".join(f"{o} {p:.2f}" for o, p in
                              sorted(row["probabilities"].items(), key=lambda kv: -kv[1]))
            s = f"choice in {row['decision']}: {probs or 'none'}"
            if row["undecided"]:
                s += f", undecided {row['undecided']:.2f}"
            if np.isfinite(row["mean_rt"]):
                s += f"; mean RT {row['mean_rt']:.3g}"
            if np.isfinite(row["accuracy"]):
                s += f"; accuracy {row['accuracy']:.3f}"
        elif row["choice"]:
            s = (f"choice in {row['decision']}: {row['choice']} after {row['response_time']:.4g} "
                 f"(margin {row['margin']:.3g})")
            if "correct" in row:
                s += " correct" if row["correct"] else " wrong"
        else:
            s = f"choice in {row['decision']}: none"
        out.append(s)
    return out


def _conflict_lines(ds, top=5) -> list[str]:
    if "conflict" not in ds or "trial" in ds.dims or ds.sizes.get("time", 0) == 0 or \
            _swept(ds["conflict"], ("member", "time", "pool")):
        return []
    E = ds["conflict"]
    if "member" in E.dims:
        E = E.mean("member")
    if not np.any(E.values != 0):
        return []  # pools without inhibitory weights have no conflict to report
    parts = []
    for p in E.pool.values:
        e = E.sel(pool=p)
        k = int(np.argmax(e.values))
        parts.append(f"{p} peak {float(e.values[k]):.3g} at t = {float(ds.time.values[k]):.3g}")
    lines = ["conflict: " + "; ".join(parts)]
    if "control" in ds:
        C = ds["control"]
        if "member" in C.dims:
            C = C.mean("member")
        lines.append("control: " + "; ".join(
            f"{c} {float(C.sel(controller=c)[0]):.3g} -> max {float(C.sel(controller=c).max()):.3g}"
            for c in C.controller.values))
    return lines


def _train_lines(ds, top=5) -> list[str]:
    if "idea" not in ds.dims or "member" in ds.dims or "trial" in ds.dims or \
            _swept(ds["idea_activation"], ("time", "idea")):
        return []
    visits = train_of_thought(ds)
    if not visits:
        return ["train of thought: no idea reached (threshold 0.5)"]
    lines = ["train of thought: " + format_train(visits)]
    lines.append("  " + ", ".join(f"{v.idea} {v.entry:.3g}+{v.dwell:.3g}" for v in visits[:12])
                 + (" ..." if len(visits) > 12 else ""))
    return lines


def _trial_lines(ds, top=5) -> list[str]:
    if "trial" not in ds.dims or "condition" not in ds:
        return []
    return [f"{ds.sizes['trial']} trials" + (f" x {ds.sizes['member']} members"
                                             if "member" in ds.dims else "")] + \
        format_trial_summary(ds).splitlines()


def trial_summary(ds: xr.Dataset, *, by_previous: bool = False, pools=None) -> xr.Dataset:
    """Per-condition summary of a protocol result: ``n`` (trials x members), ``accuracy``,
    ``mean_rt`` (correct responses), ``mean_rt_error``, ``no_response`` (fraction),
    (a condition without a correct option: ``accuracy`` and ``mean_rt_error`` NaN,
    ``mean_rt`` over every response),
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
        raise ConfigError("trial_summary: not a protocol result (no 'trial' dimension)",
                          key='trial_summary')
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
                              f"those, or pools=None for the monitored ones", key='trial_summary')
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

    declared = (np.asarray(ds["correct_option"].values) != "" if "correct_option" in ds
                else np.ones(cond.size, bool))

    def summarise(sel):
        c, o, r = choice[sel], ok[sel], rt[sel]
        out = {"n": float(o.size), "no_response": float((c == "").mean()) if c.size else np.nan}
        if declared[sel].all():
            out["accuracy"] = float(o.mean()) if o.size else np.nan
            rc = r[o & np.isfinite(r)]
            re = r[~o & np.isfinite(r)]
        else:   # no correct option: every response is just a response
            out["accuracy"] = np.nan
            rc, re = r[np.isfinite(r)], r[:0]
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


def _register_summaries():
    from .summary import register_summary
    register_summary("choice", _choice_lines, before="activity")
    register_summary("train", _train_lines, before="activity")
    register_summary("conflict", _conflict_lines, before="activity")
    register_summary("trials", _trial_lines, before="activity")


_register_summaries()
