"""Figures of a fit (:func:`thoughtfield.fit.fit`), registered as plot kinds:

``qp`` (quantile-probability plot: the RT quantiles of each response against its
probability, observed and fitted), ``rt_hist`` (observed RT histograms against the fitted
distributions, one panel per condition) and ``fit_trace`` (the objective and the
parameters over the evaluations of the optimiser).

Every function takes ``ax=None`` and returns the Axes; matplotlib is imported lazily.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .plots import register_plot

_RT_LABEL = "response time (model time units)"


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _need_fit(ds, kind):
    if ds.attrs.get("thoughtfield_result") != "fit":
        raise ConfigError(f"plot {kind!r}: the result is not a fit (write one with "
                          "'thoughtfield fit CONFIG --data DATA --param KEY=LOW:HIGH')")


def _options(ds):
    return [str(r) for r in ds.response.values if str(r) != "none"]


def plot_qp(ds, ax=None):
    """Quantile-probability plot: for every condition and response, the RT quantiles
    (y) at the response's probability (x); observed as circles, fitted as crosses joined
    per quantile.  Responses with fewer than ``min_rt_trials`` observed trials show only
    their probability (along the bottom)."""
    _need_fit(ds, "qp")
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.6), layout="constrained")
    q = ds["quantile"].values
    n = ds.n_trials.values
    minrt = int(ds.attrs.get("min_rt_trials", 10))
    colors = plt.get_cmap("viridis")(np.linspace(0.05, 0.85, q.size))
    pts = []   # (p_obs, q_obs, p_fit, q_fit, label)
    for k, cond in enumerate(ds.condition.values):
        for r in _options(ds):
            po = float(ds.observed_p.sel(response=r)[k])
            pf = float(ds.fitted_p.sel(response=r)[k])
            n_r = po * n[k]
            qo = ds.observed_q.sel(response=r)[k].values
            qf = ds.fitted_q.sel(response=r)[k].values
            pts.append((po, qo if n_r >= minrt else np.full(q.size, np.nan), pf, qf,
                        f"{cond}: {r}"))
    for j in range(q.size):
        fit = sorted((p[2], p[3][j]) for p in pts if np.isfinite(p[3][j]))
        if fit:
            ax.plot([a for a, _ in fit], [b for _, b in fit], "-x", color=colors[j], lw=1.2,
                    ms=6, label="fitted (simulated at the estimate)" if j == 0 else None)
            ax.annotate(f"{q[j]:g}", fit[-1], textcoords="offset points", xytext=(8, -3),
                        fontsize=7, color=colors[j])
        obs = [(p[0], p[1][j]) for p in pts if np.isfinite(p[1][j])]
        if obs:
            ax.plot([a for a, _ in obs], [b for _, b in obs], "o", mfc="none", color=colors[j],
                    ms=7, mew=1.4, label="observed" if j == 0 else None)
    ylo = ax.get_ylim()[0]
    for po, qo, pf, qf, label in pts:
        top = qo[-1] if np.isfinite(qo).any() else (qf[-1] if np.isfinite(qf).any() else None)
        bottom = qo[0] if np.isfinite(qo).any() else (qf[0] if np.isfinite(qf).any() else None)
        if top is not None and np.isfinite(top):
            ax.annotate(label, (po, min(bottom, qf[0]) if np.isfinite(qf[0]) else bottom),
                        textcoords="offset points", xytext=(0, -14), ha="center", fontsize=7,
                        color="0.3")
        elif po > 0:
            ax.plot([po], [ylo], "|", color="0.3", ms=10)
    ax.set_xlim(-0.03, 1.07)
    ax.set_xlabel("response probability")
    ax.set_ylabel(_RT_LABEL + "\nat quantiles " + ", ".join(f"{v:g}" for v in q))
    ax.margins(y=0.08)
    ax.set_title(f"Quantile-probability plot ({ds.attrs.get('objective', '')} = "
                 f"{float(ds.attrs.get('objective_value', np.nan)):.4g}; fitted: "
                 f"{ds.sizes.get('sim', 0)} simulated trials per condition)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return ax


def plot_rt_hist(ds, ax=None, *, bins: int = 30):
    """Observed RT histograms (bars) against the fitted distributions (lines), one panel
    per condition; each response is a defective density (its area is its probability),
    the first option above the axis, the others below."""
    _need_fit(ds, "rt_hist")
    plt = _plt()
    conds = [str(c) for c in ds.condition.values]
    K = len(conds)
    if ax is None:
        cols = min(K, 3)
        rows = -(-K // cols)
        _, axes = plt.subplots(rows, cols, figsize=(3.6 * cols + 0.6, 3.2 * rows),
                               layout="constrained", squeeze=False, sharex=True)
        axes = axes.ravel()
        for a in axes[K:]:
            a.set_visible(False)
        axes = axes[:K]
    else:
        axes = np.atleast_1d(ax)
        if axes.size != K:
            raise ConfigError(f"plot 'rt_hist': needs {K} axes, one per condition (got {axes.size})")
    opts = _options(ds)
    colors = plt.get_cmap("tab10")(np.arange(len(opts)))
    t_cond = ds.trial_condition.values.astype(str)
    t_ch = ds.trial_choice.values.astype(str)
    t_rt = ds.trial_rt.values
    all_rt = np.concatenate([t_rt[np.isfinite(t_rt)], ds.sim_rt.values[np.isfinite(ds.sim_rt.values)]])
    hi = float(np.quantile(all_rt, 0.995)) if all_rt.size else 1.0
    edges = np.linspace(0.0, hi, bins + 1)
    w = np.diff(edges)
    for k, (a, cond) in enumerate(zip(axes, conds)):
        m = t_cond == cond
        N = int(m.sum())
        s_ch = ds.sim_choice.values[k].astype(str)
        s_rt = ds.sim_rt.values[k]
        for j, r in enumerate(opts):
            sign = 1.0 if j == 0 else -1.0
            obs = t_rt[m & (t_ch == r)]
            h, _ = np.histogram(obs, edges)
            a.bar(edges[:-1], sign * h / max(N, 1) / w, width=w, align="edge", color=colors[j],
                  alpha=0.35, lw=0, label=f"{r}: observed ({obs.size}/{N})")
            sim = s_rt[s_ch == r]
            hs, _ = np.histogram(sim, edges)
            a.step(edges, sign * np.append(hs, hs[-1:]) / max(s_rt.size, 1) / np.append(w, w[-1:]),
                   where="post", color=colors[j], lw=1.4,
                   label=f"{r}: fitted (p = {sim.size / max(s_rt.size, 1):.2f})")
        a.axhline(0, color="0.4", lw=0.6)
        a.set_title(cond, fontsize=9)
        a.set_xlabel(_RT_LABEL, fontsize=8)
        a.legend(fontsize=6.5, frameon=False)
    axes[0].set_ylabel(f"density ({opts[0]} up, " + ", ".join(opts[1:]) + " down)"
                       if len(opts) > 1 else "density")
    return axes


def plot_fit_trace(ds, ax=None):
    """The optimisation: the objective of every evaluation (differential evolution, then
    the Nelder-Mead polish) with the best so far, and each parameter's values with the
    estimate and its bootstrap interval."""
    _need_fit(ds, "fit_trace")
    plt = _plt()
    params = [str(p) for p in ds.param.values]
    P = len(params)
    if ax is None:
        _, axes = plt.subplots(P + 1, 1, figsize=(7.0, 1.9 * (P + 1) + 0.4), sharex=True,
                               layout="constrained")
    else:
        axes = np.atleast_1d(ax)
        if axes.size != P + 1:
            raise ConfigError(f"plot 'fit_trace': needs {P + 1} axes (got {axes.size})")
    f = ds.trace_objective.values
    stage = ds.trace_stage.values
    e = np.arange(f.size)
    ok = f < 1e11
    a0 = axes[0]
    for s, (name, c) in enumerate((("differential evolution", "tab:blue"),
                                   ("Nelder-Mead polish", "tab:orange"))):
        m = (stage == s) & ok
        if m.any():
            a0.plot(e[m], f[m], ".", ms=3, color=c, alpha=0.6, label=name)
    best = np.minimum.accumulate(np.where(ok, f, np.inf)) if f.size else f
    a0.plot(e, best, "-", color="k", lw=1.2, label="best so far")
    if ok.any() and np.nanmin(f[ok]) > 0:
        a0.set_yscale("log")
    a0.set_ylabel(ds.trace_objective.attrs.get("long_name", "objective"), fontsize=8)
    a0.legend(fontsize=7, frameon=False, loc="upper right")
    nb = int(ds.attrs.get("bootstrap", 0))
    for j, (a, p) in enumerate(zip(axes[1:], params)):
        v = ds.trace_value.values[:, j]
        a.plot(e[ok], v[ok], ".", ms=2.5, color="0.5")
        est = float(ds.estimate.values[j])
        a.axhline(est, color="tab:red", lw=1.2, label=f"estimate {est:.4g}")
        lo, hi = float(ds.lower.values[j]), float(ds.upper.values[j])
        if np.isfinite(lo) and np.isfinite(hi):
            a.axhspan(lo, hi, color="tab:red", alpha=0.15,
                      label=f"95 % bootstrap interval [{lo:.4g}, {hi:.4g}] ({nb} refits)")
        a.set_ylim(float(ds.bound_lower.values[j]), float(ds.bound_upper.values[j]))
        a.set_ylabel(p, fontsize=8)
        a.legend(fontsize=7, frameon=False, loc="upper right")
    axes[-1].set_xlabel("evaluation")
    return axes


register_plot("qp", plot_qp, "a fit: RT quantiles against response probability, observed and fitted")
register_plot("rt_hist", plot_rt_hist, "a fit: observed RT histograms against the fitted distributions")
register_plot("fit_trace", plot_fit_trace, "a fit: the objective and parameters over the evaluations")
