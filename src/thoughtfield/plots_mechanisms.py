"""Figures of the mechanisms, registered as plot kinds (``thoughtfield plot --kind``):

``conflict`` (conflict per pool and control over time), ``ideas`` (ideas over time with
the train of thought), ``layer_summary`` (mean and largest activation per layer), ``evidence``
(accumulators, threshold, choices), ``conditions`` (a protocol's decision options over
trial time, one line per condition), ``trials`` (response time and accuracy per
condition of a protocol, split by the previous trial's condition), ``learning`` (the
cue weights of a protocol with [learning]), ``growth`` (a protocol whose network grew),
``condition_rt`` (mean response time per condition, one line per task: Cohen, Dunbar &
McClelland's Figure 3), ``trial_course`` (conflict and control trial by trial).

Every function takes ``ax=None`` and returns the Axes; matplotlib is imported lazily.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from .errors import ConfigError
from .plots import register_plot, time_label


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _axes(ax, figsize=(7.5, 4.2)):
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize, layout="constrained")
    return ax


def _need(ds, var, what):
    if var not in ds.data_vars:   # (a sweep dimension may share the name: not the variable)
        raise ConfigError(f"plot {what!r}: the result has no {var!r}; " + {
            "conflict": "define competition pools ([[pools]])",
            "idea_activation": "store ideas ([ideas])",
            "activation": "it is not a simulation result",
            "evidence": "add a choice with on = \"evidence\" ([[choices]])",
            "response_time": "it is not a run with choices",
            "weight": "make relations plastic ([plasticity]) with record = true",
        }.get(var, ""))


def _mean_member(da, member):
    if "member" in da.dims:
        if member is None:
            m = da.sizes["member"]
            if m > 1 and _identical_members(da):
                return da.isel(member=0), f" ({m} members, all identical here)"
            return da.mean("member"), f" (mean of {m} members; band: 95 % CI of the mean)"
        return da.isel(member=V.integer("member", member, min=0, max=da.sizes["member"] - 1)), \
            f" (member {member})"
    return da, ""


def _identical_members(da) -> bool:
    """Whether every member has the same values (noise elsewhere, e.g. only in the
    evidence accumulators): a mean and a band over them would suggest a spread there is
    not."""
    v = np.asarray(da.transpose("member", ...).values, dtype=float)
    scale = max(1.0, float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 1.0)
    with np.errstate(invalid="ignore"):
        return bool(np.nanmax(np.abs(v - v[:1])) <= 1e-9 * scale) if v.size else True


def _band(ax, t, da, member, color, **sel):
    """The 95 % t band of the mean over the members of ``da.sel(**sel)`` (nothing for one
    member or a single run)."""
    if member is not None or "member" not in da.dims or da.sizes["member"] < 2 \
            or _identical_members(da):
        return
    from ._stats import mean_ci
    y = da.sel(**sel).transpose("member", ...).values
    m, half = mean_ci(y, axis=0)
    if np.isfinite(half).any():
        ax.fill_between(t, m - half, m + half, color=color, alpha=0.2, lw=0)


def _last_trial(da):
    return da.isel(trial=-1) if "trial" in da.dims else da


def plot_conflict(ds, ax=None, *, member=None):
    """Conflict energy of each pool over time, with the control variables on a second
    axis."""
    _need(ds, "conflict", "conflict")
    ax = _axes(ax)
    E, note = _mean_member(_last_trial(ds["conflict"]), member)
    t = ds.time.values
    raw = _last_trial(ds["conflict"])
    for k, p in enumerate(E.pool.values):
        ax.plot(t, E.sel(pool=p).values, lw=2, color=f"C{k}", label=f"conflict {p}")
        _band(ax, t, raw, member, f"C{k}", pool=p)
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel("conflict energy  -Σ w_ij a_i a_j")
    lines, labels = ax.get_legend_handles_labels()
    if "control" in ds:
        C, _ = _mean_member(_last_trial(ds["control"]), member)
        ax2 = ax.twinx()
        rawc = _last_trial(ds["control"])
        for k, c in enumerate(C.controller.values):
            ax2.plot(t, C.sel(controller=c).values, ls="--", color=f"C{3 + k}", lw=1.8,
                     label=f"control {c}")
            _band(ax2, t, rawc, member, f"C{3 + k}", controller=c)
        ax2.set_ylabel("control c")
        l2, b2 = ax2.get_legend_handles_labels()
        lines, labels = lines + l2, labels + b2
    if "choice_time" in ds and "decision" in ds.dims:
        ct = ds["choice_time"]
        if "member" not in ct.dims:
            for d in ct.decision.values:
                tc = float(ct.sel(decision=d))
                if np.isfinite(tc):
                    ax.axvline(tc, color="0.4", lw=1, ls=":")
    ax.legend(lines, labels, loc="upper right", fontsize=8, frameon=False)
    ax.set_title(ds.attrs.get("title", "Conflict and control") + note, fontsize=10)
    return ax


def plot_ideas(ds, ax=None, *, member=None, threshold: float = 0.5, measure: str = "auto",
               top: int = 8):
    """Each stored idea's score over time (mean activation of its members for sets, the
    overlap for patterns), with the visited sequence written on top.  Of more than
    ``top`` ideas, the ``top - 1`` that score highest at some time are drawn in colour
    and named, the others as thin grey lines."""
    _need(ds, "idea_activation", "ideas")
    from .readouts import format_train, train_of_thought
    ax = _axes(ax)
    kind = ds["idea_kind"].values if "idea_kind" in ds.coords else np.array(["set"] * ds.sizes["idea"])
    act, note = _mean_member(_last_trial(ds["idea_activation"]), member)
    ovl, _ = _mean_member(_last_trial(ds["idea_overlap"]), member)
    t = ds.time.values
    names = list(ds.idea.values)
    use = [measure == "idea_activation" or (measure == "auto" and kind[k] == "set")
           for k in range(len(names))]
    ys = [(act if use[k] else ovl).sel(idea=name).values for k, name in enumerate(names)]
    shown = range(len(names))
    if len(names) > top:
        peak = [np.nanmax(y) if np.isfinite(y).any() else -np.inf for y in ys]
        shown = sorted(np.argsort(peak, kind="stable")[::-1][:top - 1])
        rest = sorted(set(range(len(names))) - set(shown))
        for j, k in enumerate(rest):
            ax.plot(t, ys[k], lw=0.6, color="0.7", zorder=1,
                    label=f"{len(rest)} other ideas" if j == 0 else None)
    for c, k in enumerate(shown):
        ax.plot(t, ys[k], lw=2, color=f"C{c % 10}", label=str(names[k]), zorder=2)
        _band(ax, t, _last_trial(ds["idea_activation" if use[k] else "idea_overlap"]), member,
              f"C{c % 10}", idea=names[k])
    ax.axhline(threshold, color="0.6", lw=1, ls=":")
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel("idea activation / overlap")
    ax.legend(loc="center right", fontsize=8, frameon=False, ncol=1)
    title = ds.attrs.get("title", "Ideas over time")
    if "member" not in ds["idea_activation"].dims and "trial" not in ds.dims:
        visits = train_of_thought(ds, threshold=threshold, measure=measure)
        if visits:
            title += "\n" + format_train(visits)
            for v in visits:
                ax.axvspan(v.entry, v.exit, color="0.92", zorder=0)
    ax.set_title(title + note, fontsize=10)
    return ax


def plot_layers(ds, ax=None, *, member=None):
    """Mean (solid) and largest (dotted) activation of each layer over time."""
    from .readouts import layer_summaries
    _need(ds, "activation", "layer_summary")
    lay = layer_summaries(ds)   # stored ones, else computed from the activation
    ax = _axes(ax)
    mean, note = _mean_member(_last_trial(lay["layer_mean"]), member)
    mx, _ = _mean_member(_last_trial(lay["layer_max"]), member)
    t = ds.time.values
    for k, lev in enumerate(lay.level.values):
        ax.plot(t, mean.sel(level=lev).values, lw=2, color=f"C{k}", label=f"{lev} (mean)")
        _band(ax, t, _last_trial(lay["layer_mean"]), member, f"C{k}", level=lev)
        ax.plot(t, mx.sel(level=lev).values, lw=1.2, ls=":", color=f"C{k}", label=f"{lev} (max)")
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel("activation")
    ax.legend(loc="best", fontsize=8, frameon=False, ncol=2)
    ax.set_title(ds.attrs.get("title", "Layers of the ladder") + note, fontsize=10)
    return ax


def plot_evidence(ds, ax=None, *, member=None, members: int = 20):
    """Evidence accumulators over time with the threshold (an ensemble shows the first
    ``members`` members, thin lines, one colour per option)."""
    _need(ds, "evidence", "evidence")
    ax = _axes(ax)
    ev = _last_trial(ds["evidence"])
    t = ds.time.values
    opts = list(ev.accumulator.values)
    pools = list(ev["accumulator_pool"].values) if "accumulator_pool" in ev.coords else [None] * len(opts)
    ct = ds["choice_time"] if "choice_time" in ds else None

    def until_choice(y, pool, m=None):
        """The trace up to the member's choice (later evidence no longer matters)."""
        if ct is None or pool is None or "decision" not in ct.dims:
            return t, y
        c = ct.sel(decision=pool)
        tc = float(c if m is None else c.isel(member=m))
        if not np.isfinite(tc):
            return t, y
        keep = t <= tc
        return np.append(t[keep], tc), np.append(y[keep], np.interp(tc, t, y))

    if "member" in ev.dims:
        sel = range(min(members, ev.sizes["member"])) if member is None else [member]
        for k, o in enumerate(opts):
            for j, m in enumerate(sel):
                tt, yy = until_choice(ev.isel(member=m).sel(accumulator=o).values, pools[k], m)
                ax.plot(tt, yy, color=f"C{k}", lw=0.8, alpha=0.7, label=str(o) if j == 0 else None)
        note = f" ({len(sel)} of {ev.sizes['member']} members, each up to its choice)"
    else:
        for k, o in enumerate(opts):
            tt, yy = until_choice(ev.sel(accumulator=o).values, pools[k])
            ax.plot(tt, yy, color=f"C{k}", lw=2, label=str(o))
        note = ""
    model = _attr_json(ds, "model") or {}
    for ch in model.get("choices", []):
        if ch.get("on") in ("evidence", "diffusion"):
            ax.axhline(ch["threshold"], color="0.3", lw=1, ls="--")
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel("evidence")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              borderaxespad=0.0)   # outside: the traces fill the axes
    title = ds.attrs.get("title", "Evidence accumulation") + note
    if "mean_rt" in ds:
        d = ds.decision.values[0]
        probs = ds.choice_probability.sel(decision=d)
        best = str(probs.option.values[int(np.argmax(probs.values))])
        pmax, mrt = float(probs.max()), float(ds.mean_rt.sel(decision=d))
        title += f"\nP({best}) = {pmax:.2f}"
        rt = ds["response_time"].sel(decision=d) if "response_time" in ds else None
        if rt is not None and "member" in rt.dims and rt.sizes["member"] > 1:
            from ._stats import mean_ci, wilson
            m = rt.sizes["member"]
            lo, hi = wilson(round(pmax * m), m)
            _, half = mean_ci(np.asarray(rt.values, dtype=float))
            title += f" [{float(lo):.2f}, {float(hi):.2f}]"
            title += f", mean RT = {mrt:.3g}" + (f" ± {float(half):.2g}" if np.isfinite(half) else "")
            title += f" (95 % CI over {m} members: Wilson; t)"
        else:
            title += f", mean RT = {mrt:.3g}"
    ax.set_title(title, fontsize=10)
    return ax


def plot_conditions(ds, ax=None, *, concepts=None):
    """Protocol with recorded time courses: the decision's options (or ``concepts``) over
    trial time, averaged over the trials (and members) of each condition -- one panel per
    condition (or all on ``ax``, one line style per condition).  The band is the 95 %
    confidence interval of the mean (t interval) across the members, or, without an
    ensemble, across the trials of the condition; a condition with one trial has none.
    Returns the Axes."""
    if "trial" not in ds.dims or "activation" not in ds:
        raise ConfigError("plot 'conditions': needs a protocol result with recorded time "
                          "courses ([protocol] record = true)")
    from ._stats import mean_ci
    act = ds["activation"]
    members = act.sizes.get("member", 1)
    if concepts is None:
        concepts = _attr_json(ds, "options") or list(act.concept.values[:4])
    conds = list(dict.fromkeys(ds.condition.values.tolist()))
    if ax is None:
        _, axes = _plt().subplots(1, len(conds), figsize=(4.2 * len(conds) + 1, 3.6),
                                  sharey=True, layout="constrained", squeeze=False)
        axes = axes[0]
    else:
        axes = [ax] * len(conds)
    styles = ["-", "--", ":", "-."]
    t = ds.time.values
    one = axes[0] is axes[-1] and len(conds) > 1
    units = set()
    for j, c in enumerate(conds):
        a = axes[j]
        sel = act.isel(trial=np.flatnonzero(ds.condition.values == c))
        # one curve per unit: the members (each averaged over its trials), else the trials
        per = sel.mean("trial") if members > 1 else sel
        udim = "member" if members > 1 else "trial"
        units.add((udim, per.sizes[udim]))
        for k, nm in enumerate(concepts):
            y = per.sel(concept=nm).transpose(udim, "time").values
            m, half = mean_ci(y, axis=0)
            a.plot(t, m, color=f"C{k}", lw=2, ls=styles[j % 4] if one else "-",
                   label=f"{nm}" + (f" | {c}" if one else ""))
            if np.isfinite(half).any():
                a.fill_between(t, m - half, m + half, color=f"C{k}", alpha=0.2, lw=0)
        a.set_xlabel(time_label(ds))
        if not one and axes[0] is not axes[-1]:
            n = int((ds.condition.values == c).sum())
            a.set_title(f"{c} ({n} trial{'s' if n != 1 else ''})", fontsize=10)
        a.legend(loc="best", fontsize=8, frameon=False)
    axes[0].set_ylabel("activation")
    counts = sorted(n for _, n in units)
    udim = next(iter(units))[0]
    if counts and counts[-1] >= 2:
        n = f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
        band = f"mean; band: 95 % CI of the mean across {n} {udim}s"
    else:
        band = f"one {udim} per condition: no confidence band"
    fig = axes[0].figure
    if axes[0] is not axes[-1]:
        fig.suptitle(ds.attrs.get("title", "Conditions") + f"\n({band})", fontsize=11)
        return np.asarray(axes, dtype=object)
    axes[0].set_title(ds.attrs.get("title", "Conditions") + f"\n({band})", fontsize=10)
    return axes[0]


def _trial_units(ds):
    """``(rt, ok, unit)``: response times and correctness as ``(trial, member)`` arrays and
    what the bootstrap resamples: the members when there are several (independent runs of
    the whole sequence), else the trials."""
    def stack(v):
        a = ds[v]
        a = a.transpose("trial", "member", ...) if "member" in a.dims else a.expand_dims("member", axis=1)
        return np.asarray(a.values)
    rt = stack("response_time").astype(float)
    ok = stack("correct").astype(bool)
    return rt, ok, "members" if rt.shape[1] > 1 else "trials"


def _cell_ci(rt, ok, sel, unit):
    """95 % bootstrap intervals of the mean RT of the correct trials and of the accuracy
    of the trials ``sel``, resampling ``unit`` (members or trials)."""
    from ._stats import bootstrap_ratio
    r, o = rt[sel], ok[sel]                       # (trials in the cell, members)
    good = o & np.isfinite(r)
    axis = 0 if unit == "members" else 1          # sum over the other axis -> one row per unit
    rt_sum = np.where(good, r, 0.0).sum(axis=axis)
    rt_n = good.sum(axis=axis)
    acc_sum = o.sum(axis=axis)
    acc_n = np.full(acc_sum.shape, o.shape[axis], dtype=float)
    acc = bootstrap_ratio(acc_sum, acc_n)
    k, n = float(acc_sum.sum()), float(acc_n.sum())
    wilson_used = False
    if n > 0 and k in (0.0, n) and not acc[1] > acc[0]:
        # every unit at 0 or 100 %: resampling them cannot vary, so the bootstrap interval
        # has no width; the Wilson interval of all the trials in the cell says how sure
        from ._stats import wilson
        lo, hi = wilson(k, n)
        acc, wilson_used = (float(lo), float(hi)), True
    return bootstrap_ratio(rt_sum, rt_n), acc, wilson_used


def plot_trials(ds, ax=None, *, by_previous: bool = True):
    """Mean response time (bars) and accuracy (dots) per condition of a protocol; with
    ``by_previous`` one bar per previous condition (sequential effects).  Error bars: 95 %
    percentile-bootstrap intervals (1000 resamples) of the members -- independent runs of
    the whole trial sequence -- or, without an ensemble, of the trials."""
    if "trial" not in ds.dims or "response_time" not in ds:
        raise ConfigError("plot 'trials': needs a protocol result")
    from .readouts import trial_summary
    ax = _axes(ax)
    s = trial_summary(ds, by_previous=by_previous)
    conds = [str(c) for c in s.condition.values]
    x = np.arange(len(conds))
    rt, ok, unit = _trial_units(ds)
    cond = np.asarray(ds.condition.values)
    prev_of = np.concatenate([[None], cond[:-1]])
    prevs = [str(p) for p in s.previous.values] if by_previous else [None]
    w = 0.8 / len(prevs) if by_previous else 0.6
    ax2 = ax.twinx()
    wilson_used = False
    for k, p in enumerate(prevs):
        xs = x + (k - (len(prevs) - 1) / 2) * w if by_previous else x
        sub = s.sel(previous=p) if by_previous else s
        mrt, acc = sub.mean_rt.values, sub.accuracy.values
        cis = [_cell_ci(rt, ok, (cond == c) & ((prev_of == p) if by_previous else True), unit)
               for c in conds]
        rlo = np.array([c[0][0] for c in cis]); rhi = np.array([c[0][1] for c in cis])
        alo = np.array([c[1][0] for c in cis]); ahi = np.array([c[1][1] for c in cis])
        wilson_used = wilson_used or any(c[2] for c in cis)
        ax.bar(xs, mrt, w, color=f"C{k}", alpha=0.8,
               label=f"after {p}" if by_previous else "mean RT (correct)")
        ax.errorbar(xs, mrt, yerr=np.vstack([np.clip(mrt - rlo, 0, None), np.clip(rhi - mrt, 0, None)]),
                    fmt="none", ecolor="0.15", capsize=3, lw=1)
        # the accuracy dot beside the RT error bar, so that the two bars do not coincide
        ax2.errorbar(xs + 0.28 * w, acc,
                     yerr=np.vstack([np.clip(acc - alo, 0, None), np.clip(ahi - acc, 0, None)]),
                     fmt="o", color="k", ms=4 if by_previous else 5, capsize=2, lw=0.8)
    ax.set_xticks(x, conds, rotation=15, fontsize=8)
    ax.set_ylabel("mean response time (correct trials)")
    ax2.set_ylabel("accuracy (dots)")
    ax2.set_ylim(0, 1.05)
    n = rt.shape[1] if unit == "members" else rt.shape[0]
    ax.legend(loc="upper left", fontsize=7, frameon=False,
              title=f"error bars: 95 % bootstrap CI\n(resampling the {n} {unit})"
                    + ("\naccuracy at 0 or 100 %: Wilson CI\nover the trials" if wilson_used else ""),
              title_fontsize=7, alignment="left")
    ax.set_title(ds.attrs.get("title", "Trials"), fontsize=10)
    return ax


def _split_condition(name: str):
    """``"TASK/LEVEL"`` -> ``("TASK", "LEVEL")``; a name without ``/`` is its own level of
    one unnamed series."""
    head, sep, tail = name.partition("/")
    return (head, tail) if sep else ("", name)


def plot_condition_rt(ds, ax=None):
    """Mean response time of the correct responses per condition of a protocol, as lines:
    conditions named ``"SERIES/LEVEL"`` (e.g. ``"colour/conflict"``) give one line per
    series over the levels in the order they first appear -- reaction time by condition
    and task, as in Cohen, Dunbar & McClelland's (1990) Figure 3.  Error bars: 95 %
    percentile-bootstrap intervals of the members (else of the trials); the accuracy of a
    condition below 100 % is written beside its point."""
    if "trial" not in ds.dims or "response_time" not in ds:
        raise ConfigError("plot 'condition_rt': needs a protocol result with a [[choices]] "
                          "readout (response_time per trial)")
    from .readouts import trial_summary
    ax = _axes(ax, figsize=(6.0, 4.2))
    s = trial_summary(ds)
    conds = [str(c) for c in s.condition.values]
    parts = [_split_condition(c) for c in conds]
    series = list(dict.fromkeys(p[0] for p in parts))
    levels = list(dict.fromkeys(p[1] for p in parts))
    rt, ok, unit = _trial_units(ds)
    cond = np.asarray(ds.condition.values)
    markers = "osD^v"
    for k, ser in enumerate(series):
        xs, ys, lo, hi = [], [], [], []
        for c, (sname, lev) in zip(conds, parts):
            if sname != ser:
                continue
            (rlo, rhi), _, _ = _cell_ci(rt, ok, cond == c, unit)
            m = float(s.mean_rt.sel(condition=c))
            xs.append(levels.index(lev))
            ys.append(m)
            lo.append(np.clip(m - rlo, 0, None) if np.isfinite(rlo) else 0.0)
            hi.append(np.clip(rhi - m, 0, None) if np.isfinite(rhi) else 0.0)
            acc = float(s.accuracy.sel(condition=c))
            if np.isfinite(acc) and acc < 1.0:
                ax.annotate(f"{100 * acc:.0f} % correct", (xs[-1], m), fontsize=7,
                            xytext=(6, -10), textcoords="offset points")
        ax.errorbar(xs, ys, yerr=np.vstack([lo, hi]), color=f"C{k}", lw=1.8, capsize=3,
                    marker=markers[k % len(markers)], ms=6, label=ser or None)
    ax.set_xticks(np.arange(len(levels)), levels)
    ax.set_xlim(-0.4, len(levels) - 0.6)
    ax.set_xlabel("condition")
    ax.set_ylabel("mean response time of the correct responses")
    n = rt.shape[1] if unit == "members" else rt.shape[0]
    if any(series):
        ax.legend(loc="upper left", fontsize=8, frameon=False,
                  title=f"error bars: 95 % bootstrap CI ({n} {unit})", title_fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(ds.attrs.get("title", "Response time by condition"), fontsize=10)
    return ax


def plot_trial_course(ds, ax=None):
    """Conflict at the response (summed over the pools the controllers monitor) and the
    control at the start of every trial of a protocol, trial by trial, each trial's point
    coloured by its condition: how control follows conflict from trial to trial (Botvinick
    et al. 2001).  With an ensemble, the means over the members."""
    if "trial" not in ds.dims or "conflict_at_response" not in ds:
        raise ConfigError("plot 'trial_course': needs a protocol result with competition "
                          "pools ([[pools]]) and a choice")
    plt = _plt()
    if ax is None:
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(8.0, 5.0), sharex=True,
                                     layout="constrained")
    else:
        a1, a2 = ax, ax.twinx()
    pools = [str(p) for p in ds["pool"].values]
    mon = (np.asarray(ds["pool_monitored"].values, bool) if "pool_monitored" in ds
           else np.zeros(len(pools), bool))
    use = [p for p, m in zip(pools, mon) if m] or pools
    E = ds["conflict_at_response"].sel(pool=use).sum("pool")
    if "member" in E.dims:
        E = E.mean("member")
    trial = ds["trial"].values + 1
    cond = np.asarray(ds.condition.values).astype(str)
    names = list(dict.fromkeys(cond.tolist()))
    a1.plot(trial, E.values, color="0.6", lw=0.8)
    for j, nm in enumerate(names):
        sel = cond == nm
        a1.plot(trial[sel], E.values[sel], "o", ms=4, color=f"C{j}", label=nm)
    a1.set_ylabel("conflict at the response")
    a1.legend(loc="center right", fontsize=8, frameon=False, ncol=len(names))
    a1.set_title(ds.attrs.get("title", "Conflict and control over trials")
                 + f"\n(conflict: {', '.join(use)})", fontsize=10)
    if "control" in ds:
        C = ds["control"]
        if "member" in C.dims:
            C = C.mean("member")
        for k, c in enumerate(C.controller.values):
            a2.step(trial, C.sel(controller=c).values, where="mid", color=f"C{len(names) + k}",
                    lw=1.6, label=("control" if str(c) == "control" else f"control {c}")
                    + " at the trial's start")
        a2.set_ylabel("control")
        lo, hi = float(np.nanmin(C.values)), float(np.nanmax(C.values))
        a2.set_ylim(lo - 0.05 * (hi - lo or 1.0), hi + 0.3 * (hi - lo or 1.0))
        a2.legend(loc="upper right", fontsize=8, frameon=False)
    a2.set_xlabel("trial")
    a1.grid(alpha=0.3)
    a2.grid(alpha=0.3)
    return a1


def _attr_json(ds, key):
    from .results import description
    try:
        return description(ds, key)
    except ValueError:
        return None


def plot_learning(ds, ax=None):
    """Associative strength of every cue after each trial of a protocol with learning
    (``[learning]``), the trial's condition shaded along the bottom."""
    if "associative_strength" not in ds or "trial" not in ds.dims:
        raise ConfigError("plot 'learning': needs a protocol result with learning (a "
                          "[learning] section)")
    ax = _axes(ax)
    trial = ds["trial"].values + 1
    styles = ("-", "--", "-.", ":")          # cues that learn alike stay visible
    for k, cue in enumerate(ds["cue"].values):
        ax.plot(trial, ds["associative_strength"].sel(cue=cue).values, lw=1.8,
                ls=styles[k % len(styles)], color=f"C{k}", marker="o", ms=2.5, label=str(cue))
    cond = [str(c) for c in ds["condition"].values]
    names = list(dict.fromkeys(cond))
    lo, hi = ax.get_ylim()
    band = 0.06 * (hi - lo)
    for j, name in enumerate(names):
        xs = trial[[c == name for c in cond]]
        ax.bar(xs, band, width=1.0, bottom=lo - band, color=f"C{len(ds['cue']) + j}",
               alpha=0.5, label=f"trial: {name}")
    ax.set_ylim(lo - band, hi)
    ax.set_xlabel("trial")
    ax.set_ylabel("associative strength (weight to the outcome)")
    import json
    try:
        rule = json.loads(ds.attrs.get("learning", "{}"))
    except ValueError:
        rule = {}
    outcome = rule.get("outcome", "the outcome")
    ax.set_title(f"Rescorla-Wagner learning of cues -> {outcome}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def plot_growth(ds, ax=None):
    """A protocol whose network grew (``[growth]``): every concept's output at the end of
    each trial (rows: trials, labelled with their condition; columns: the concepts of the
    grown network, the formed ones last, hatched before they existed), and a line under
    the trial after which each concept was formed."""
    if "formed_concept" not in ds or "trial" not in ds.dims:
        raise ConfigError("plot 'growth': needs a protocol result with a [growth] section")
    if "activation" not in ds.data_vars or "time" not in ds["activation"].dims:
        raise ConfigError("plot 'growth': the result keeps no time courses; set "
                          "record = true in [protocol]")
    a = ds["activation"].transpose("trial", "time", "concept").values
    if a.ndim != 3:
        raise ConfigError("plot 'growth': one member only (the network grows from one "
                          "participant's trials)")
    # the state each trial ended in: its last saved time (a trial may stop at its choice)
    seen = np.isfinite(a).any(axis=2)
    last = a.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
    end = a[np.arange(a.shape[0]), last]
    concepts = [str(c) for c in ds["concept"].values]
    trials = [f"{k + 1}: {c}" for k, c in enumerate(ds["condition"].values)]
    ax = _axes(ax, figsize=(4.6 + 0.6 * len(concepts), 2.6 + 0.32 * len(trials)))
    plt = _plt()
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    im = ax.imshow(np.ma.masked_invalid(end), aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0,
                   interpolation="nearest")
    for k, j in zip(*np.nonzero(~np.isfinite(end))):
        ax.add_patch(plt.Rectangle((j - 0.5, k - 0.5), 1, 1, fill=False, hatch="///",
                                   ec="0.75", lw=0))
    for name, k in zip(ds["formed_concept"].values, ds["formed_trial"].values):
        ax.axhline(int(k) + 0.5, color="C3", lw=1.5)
        ax.text(len(concepts) - 0.45, int(k) + 0.5, f" formed: {name}", color="C3",
                va="center", ha="left", fontsize="small", clip_on=False)
    ax.set_xticks(range(len(concepts)), concepts, rotation=50, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(range(len(trials)), trials)
    ax.set_xlabel("concept")
    ax.set_ylabel("trial: condition")
    ax.set_title("Concepts formed by thinking", loc="left")
    ax.figure.colorbar(im, ax=ax, label="output at the end of the trial", location="top",
                       shrink=0.6, aspect=30)
    return ax


def plot_weights(ds, ax=None, *, member=None, times=None, top: int = 8):
    """Plastic relations (``[plasticity]``): the weight matrix at a few times (rows:
    targets, columns: sources, grey: no plastic relation; ``times``, default four spread
    over the run); below, the weights of the ``top`` relations that changed most over
    time (the two directions of a relation drawn once when they learned the same) with
    the learning interval shaded, and the activation of their concepts."""
    _need(ds, "weight", "weights")
    if ax is not None:
        raise ConfigError("plot 'weights': draws a figure of its own (no ax)")
    w = ds["weight"]
    if "trial" in w.dims:
        raise ConfigError("plot 'weights': a protocol result has one run per trial; plot one "
                          "trial with ds.isel(trial=k)")
    w, note = _mean_member(w, member)
    W = w.transpose("time", "edge").values
    t = ds["time"].values
    src = [str(v) for v in ds["edge_source"].values]
    tgt = [str(v) for v in ds["edge_target"].values]
    names = [str(c) for c in ds["concept"].values if str(c) in set(src) | set(tgt)]
    pos = {c: k for k, c in enumerate(names)}
    if times is None:
        times = np.linspace(t[0], t[-1], 4)
    idx = [int(np.argmin(np.abs(t - float(x)))) for x in times]
    plt = _plt()
    fig = plt.figure(figsize=(2.3 * len(idx) + 1.2, 8.6), layout="constrained")
    gs = fig.add_gridspec(3, len(idx), height_ratios=(1.0, 0.9, 0.7))
    lo, hi = float(np.nanmin(W)), float(np.nanmax(W))
    span = max(abs(lo), abs(hi), 1e-12)
    norm = dict(vmin=-span, vmax=span) if lo < 0 else dict(vmin=0.0, vmax=span)
    cm = plt.get_cmap("RdBu_r" if lo < 0 else "viridis").with_extremes(bad="0.9")
    im = None
    for k, i in enumerate(idx):
        a = fig.add_subplot(gs[0, k])
        M = np.full((len(names), len(names)), np.nan)
        for e in range(W.shape[1]):
            r, c = pos[tgt[e]], pos[src[e]]
            M[r, c] = W[i, e] if np.isnan(M[r, c]) else M[r, c] + W[i, e]
        im = a.imshow(np.ma.masked_invalid(M), cmap=cm, interpolation="nearest", **norm)
        a.set_title(f"t = {t[i]:g}", fontsize="medium")
        a.set_xticks(range(len(names)), names, rotation=60, ha="right", rotation_mode="anchor",
                     fontsize="small")
        a.set_yticks(range(len(names)), names if k == 0 else [], fontsize="small")
        if k == 0:
            a.set_ylabel("target")
        a.set_xlabel("source", fontsize="small")
    fig.colorbar(im, ax=fig.axes, location="right", shrink=0.8, label="weight")
    # one line per relation: a reverse edge that learned the same values joins its pair
    labels = [str(v) for v in ds["edge"].values]
    seen, lines = set(), []
    key = {(src[e], tgt[e]): e for e in range(len(src))}
    for e in range(len(src)):
        if e in seen:
            continue
        back = key.get((tgt[e], src[e]))
        if back is not None and back not in seen and np.array_equal(W[:, e], W[:, back],
                                                                    equal_nan=True):
            seen.update((e, back))
            lines.append((e, f"{src[e]} <-> {tgt[e]}"))
        else:
            seen.add(e)
            lines.append((e, labels[e]))
    change = np.array([np.nanmax(np.abs(W[:, e] - W[0, e])) for e, _ in lines])
    keep = [k for k in np.argsort(-change, kind="stable")[:top]
            if change[k] > 0.01 * change.max()]
    b = fig.add_subplot(gs[1, :])
    for k in keep:
        e, lab = lines[k]
        b.plot(t, W[:, e], lw=1.8, label=lab)
    on = _learning_interval(ds.attrs.get("model"), t)
    c = fig.add_subplot(gs[2, :], sharex=b)
    for axis in (b, c):
        if on is not None:
            axis.axvspan(*on, color="0.92", zorder=0, label="learning on" if axis is b else None)
        for i in idx:
            axis.axvline(t[i], color="0.6", lw=0.8, ls=":")
    b.set_ylabel("weight")
    b.set_title(f"Plastic relations: the {len(keep)} that changed most{note}", loc="left")
    b.legend(fontsize="small", ncol=2, loc="best", frameon=False)
    b.tick_params(labelbottom=False)
    act, anote = _mean_member(ds["activation"], member)
    shown = list(dict.fromkeys(n for k in keep for n in (src[lines[k][0]], tgt[lines[k][0]])))
    for nm in shown:
        c.plot(t, act.sel(concept=nm).values, lw=1.5, label=nm)
    c.set_xlabel(time_label(ds))
    c.set_ylabel("activation")
    c.set_title(f"Their concepts{anote}", loc="left")
    c.legend(fontsize="small", ncol=max(1, len(shown) // 3), loc="best", frameon=False)
    return b


def _learning_interval(model_json, t):
    """``(start, stop)`` of the learning interval within the run, from the result's model
    description (None when it covers the whole run)."""
    import json
    try:
        pl = json.loads(model_json).get("plasticity") or {}
    except (TypeError, ValueError):
        return None
    start = float(pl.get("start", 0.0))
    stop = pl.get("stop", "inf")
    stop = float(stop) if stop is not None else np.inf
    lo, hi = max(start, float(t[0])), min(stop, float(t[-1]))
    if lo <= t[0] and hi >= t[-1]:
        return None
    return lo, hi


register_plot("conflict", plot_conflict, "conflict energy per pool and control over time")
register_plot("ideas", plot_ideas, "stored ideas over time and the train of thought")
register_plot("layer_summary", plot_layers, "mean and largest activation per layer over time")
register_plot("evidence", plot_evidence, "evidence accumulators, threshold and choice")
register_plot("conditions", plot_conditions, "a protocol's options over trial time per condition")
register_plot("trials", plot_trials, "response time and accuracy per condition of a protocol")
register_plot("condition_rt", plot_condition_rt, "mean response time per condition of a "
              "protocol, one line per SERIES of conditions named SERIES/LEVEL")
register_plot("trial_course", plot_trial_course, "conflict at the response and control, "
              "trial by trial, of a protocol")
register_plot("growth", plot_growth, "output of every concept at the end of each trial of a "
              "protocol whose network grew ([growth]), with the trials concepts were formed")
register_plot("learning", plot_learning, "associative strength of the cues over the trials of "
              "a protocol with [learning]")
register_plot("weights", plot_weights, "plastic relations ([plasticity]): the weight matrix at "
              "a few times and the weights that changed most over time")
