"""Figures of the analysis: attractor catalogue, phase portrait, energy, explanations, trains
of thought.  Every function takes ``ax=None`` (a new figure) and returns the Axes;
matplotlib is imported lazily (use a headless backend such as ``MPLBACKEND=Agg``)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .. import _validate as V
from ..errors import ConfigError
from ..saving import SaveAt

_KIND_COLOURS = {"stable": "C0", "marginal": "C1", "saddle": "C3", "unstable": "C7"}


def _axes(ax, figsize=(6.4, 4.0)):
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# --------------------------------------------------------------------------- attractors
def plot_attractors(catalogue, ax=None, *, max_bars: int = 20):
    """Basin fractions of an attractor catalogue (:func:`attractors`) as horizontal bars
    with their confidence intervals, labelled by idea (or most active concepts)."""
    ds = catalogue
    if "basin_fraction" not in ds:
        raise ConfigError("catalogue: expected the Dataset returned by attractors()",
                          key='catalogue')
    frac = ds.basin_fraction.values
    idx = [k for k in range(frac.size) if math.isfinite(frac[k])][:max_bars]
    ax = _axes(ax, figsize=(6.4, 0.45 * max(len(idx), 3) + 1.2))
    if not idx:
        ax.text(0.5, 0.5, "no attractor found", ha="center", va="center", transform=ax.transAxes)
        return ax
    y = np.arange(len(idx))[::-1]
    f = frac[idx]
    lo = ds.basin_low.values[idx]
    hi = ds.basin_high.values[idx]
    kinds = [str(ds.stability.values[k]) for k in idx]
    ax.barh(y, f, color=[_KIND_COLOURS.get(kd, "C7") for kd in kinds], alpha=0.85)
    ax.errorbar(f, y, xerr=np.vstack([f - lo, hi - f]), fmt="none", ecolor="k", capsize=3, lw=1)
    labels = []
    for k in idx:
        idea = str(ds.idea.values[k])
        lab = str(ds.label.values[k])
        if idea and lab == "(none active)":
            labels.append(f"{k}: {idea}")
        else:
            labels.append(f"{k}: {idea}  {lab}" if idea else f"{k}: {lab}")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(f"basin fraction ({float(ds.attrs.get('ci_level', 0.95)):.0%} Wilson interval)")
    ax.set_xlim(0, min(1.0, float(np.nanmax(hi)) * 1.15 + 0.02))
    n = ds.attrs.get("samples", "?")
    ax.set_title(f"Attractors ({len(idx)} of {ds.sizes['attractor']} fixed points, {n} samples)")
    from matplotlib.patches import Patch
    present = sorted(set(kinds), key=list(_KIND_COLOURS).index)
    ax.legend(handles=[Patch(color=_KIND_COLOURS[kd], label=kd) for kd in present],
              loc="lower right", fontsize=8, frameon=False)
    return ax


# --------------------------------------------------------------------------- phase portrait
def plot_phase_portrait(network, model, x: str, y: str, *, state=None, stimuli=None, t=None,
                        xlim=None, ylim=None, grid: int = 21, trajectories: int | list = 8,
                        t_end: float | None = None, seed: int = 0, fixed_points: bool = True,
                        nullclines: bool = True, ax=None):
    """Phase portrait of concepts ``x`` and ``y``: the vector field, nullclines, trajectories
    and fixed points of the dynamics in which every other concept is held at ``state``
    (default: the model's initial activations).  For a two-concept network this is the
    exact phase plane.  Trajectories come from the solver (the other concepts clamped).

    ``trajectories`` is a number of random starts in the window or a list of ``(x0, y0)``.
    """
    from ..simulate import simulate
    from ..stimuli import Clamp
    from ..transfers import get as get_transfer
    from ._dynamics import Dynamics
    from ._attractors import _frozen_stimuli
    from ._fixed_points import FixedPointError, _make_fp, newton

    full = Dynamics(network, model, stimuli, t=t)
    ix = network.index(x, "x")
    iy = network.index(y, "y")
    if ix == iy:
        raise ConfigError(f"y: must differ from x (both {x!r})", key='y')
    for name, i in (("x", ix), ("y", iy)):
        if full.clamped[i]:
            raise ConfigError(f"{name}: {network.concepts[i]!r} is clamped at this time; choose "
                              "a free concept", key=name)
    if full.form != "activation":
        raise ConfigError("form: the phase portrait is drawn in activations (activation form)",
                          key='form')
    if full.nstate > full.n:
        names = ", ".join(nm for nm, _, _ in full.extra_rows)
        raise ConfigError(f"model: the model has state variables besides the concepts ({names}); "
                          "a plane of two concepts is not a phase plane of the system -- use "
                          "fixed_point()/attractors() or analyse the model without them",
                          key='model')
    base = full.initial_activation.copy() if state is None else \
        np.asarray(state, dtype=np.float64).copy()
    if base.shape != (full.n,):
        raise ConfigError(f"state: expected {full.n} activations (got shape {base.shape})",
                          key='state')
    stims = _frozen_stimuli(full)
    for i in range(full.n):
        if i not in (ix, iy) and not full.clamped[i]:
            stims.append(Clamp(network.concepts[i], 0.0, math.inf, float(base[i])))
    red = Dynamics(network, model, stims)
    lo, hi = get_transfer(red.transfer).range
    lo = 0.0 if not math.isfinite(lo) else lo
    hi = 1.0 if not math.isfinite(hi) else hi
    pad = 0.05 * (hi - lo)
    xlim = (lo - pad, hi + pad) if xlim is None else tuple(xlim)
    ylim = (lo - pad, hi + pad) if ylim is None else tuple(ylim)
    grid = V.integer("grid", grid, min=3)
    gx = np.linspace(*xlim, grid)
    gy = np.linspace(*ylim, grid)
    X, Y = np.meshgrid(gx, gy)
    S = np.repeat(red._with_clamps(base)[None], X.size, axis=0)
    S[:, ix] = X.ravel()
    S[:, iy] = Y.ravel()
    D = red.rhs(S)
    U = D[:, ix].reshape(X.shape)
    Vv = D[:, iy].reshape(X.shape)
    ax = _axes(ax, figsize=(5.6, 5.0))
    speed = np.hypot(U, Vv)
    norm = np.where(speed > 0, speed, 1.0)
    ax.quiver(X, Y, U / norm, Vv / norm, np.log10(speed + 1e-12), cmap="Greys", alpha=0.6,
              angles="xy", pivot="mid", width=0.003)
    if nullclines:
        fx = np.linspace(*xlim, 161)
        fy = np.linspace(*ylim, 161)
        FX, FY = np.meshgrid(fx, fy)
        Sf = np.repeat(red._with_clamps(base)[None], FX.size, axis=0)
        Sf[:, ix] = FX.ravel()
        Sf[:, iy] = FY.ravel()
        Df = red.rhs(Sf)
        ax.contour(FX, FY, Df[:, ix].reshape(FX.shape), levels=[0.0], colors="C2",
                   linewidths=1.0, linestyles="--")
        ax.contour(FX, FY, Df[:, iy].reshape(FX.shape), levels=[0.0], colors="C4",
                   linewidths=1.0, linestyles="--")
        ax.plot([], [], "C2--", lw=1, label=f"d{x}/dt = 0")
        ax.plot([], [], "C4--", lw=1, label=f"d{y}/dt = 0")
    # trajectories (solver runs with the others clamped)
    if isinstance(trajectories, (int, np.integer)):
        ntraj = V.integer("trajectories", trajectories, min=0)
        rng = np.random.default_rng(seed)
        starts = np.column_stack([rng.uniform(*xlim, ntraj), rng.uniform(*ylim, ntraj)])
    else:
        starts = np.asarray(trajectories, dtype=np.float64).reshape(-1, 2)
    if len(starts):
        T = 10.0 * float(np.max(red.tau)) if t_end is None else V.positive("t_end", t_end)
        A0 = np.repeat(red._with_clamps(base)[None], len(starts), axis=0)
        A0[:, ix] = starts[:, 0]
        A0[:, iy] = starts[:, 1]
        M = len(starts)
        ds = simulate(network, model, stims, t_end=T, members=M,
                      initial=A0 if M > 1 else A0[0], saveat=SaveAt(dt=T / 300), seed=seed)
        act = ds.activation.values if M > 1 else ds.activation.values[None]
        for m in range(M):
            ax.plot(act[m, :, ix], act[m, :, iy], color="C0", lw=1.1, alpha=0.8)
            ax.plot(act[m, 0, ix], act[m, 0, iy], "o", color="C0", ms=3)
        ax.plot([], [], color="C0", lw=1.1, label="trajectories")
    if fixed_points:
        found = []
        starts = np.repeat(red._with_clamps(base)[None], 49, axis=0)
        sx, sy = np.meshgrid(np.linspace(*xlim, 7), np.linspace(*ylim, 7))
        starts[:, ix] = sx.ravel()
        starts[:, iy] = sy.ravel()
        for s0 in starts:
            try:
                yv, r, it = newton(red, s0, tol=1e-10)
            except FixedPointError:
                continue
            if any(np.max(np.abs(yv - f.state)) < 1e-6 for f in found):
                continue
            found.append(_make_fp(red, yv, r, it))
        done = set()
        for f in found:
            kind = f.kind
            style = {"stable": dict(marker="o", mfc=_KIND_COLOURS["stable"]),
                     "saddle": dict(marker="X", mfc=_KIND_COLOURS["saddle"]),
                     "unstable": dict(marker="o", mfc="white"),
                     "marginal": dict(marker="s", mfc=_KIND_COLOURS["marginal"])}[kind]
            ax.plot(f.activation[ix], f.activation[iy], ls="none", ms=9, mec="k", zorder=5,
                    label=kind if kind not in done else None, **style)
            done.add(kind)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(f"activation of {x}")
    ax.set_ylabel(f"activation of {y}")
    others = "" if network.n == 2 else " (others held fixed)"
    ax.set_title(f"Phase portrait: {x} vs {y}{others}")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return ax


# --------------------------------------------------------------------------- energy
def plot_energy(source, ax=None, **energy_kw):
    """Energy over time: ``source`` is the DataArray of :func:`energy` or a run result
    (its energy is computed; keyword arguments go to :func:`energy`)."""
    import xarray as xr
    run = None
    if isinstance(source, xr.Dataset):
        from ._energy import energy
        run = source
        source = energy(source, **energy_kw)
    if not isinstance(source, xr.DataArray) or "time" not in source.dims:
        raise ConfigError("source: expected a run result or the DataArray from energy()",
                          key='source')
    ax = _axes(ax)
    t = source.time.values
    if "member" in source.dims:
        for m in source.member.values:
            ax.plot(t, source.sel(member=m).values, lw=1, alpha=0.7)
    else:
        ax.plot(t, source.values, lw=1.5, color="C0")
    from ..plots import time_label
    ax.set_xlabel(time_label(run if run is not None else source))
    ax.set_ylabel("energy E")
    ax.set_title("Lyapunov energy over time")
    ax.grid(alpha=0.3)
    if run is not None:
        _mark_input_changes(ax, run, t)
    return ax


def _mark_input_changes(ax, run, t):
    """Dotted vertical lines at every time an input switches on or off, with a note: the
    energy of the input-free system decreases only while the inputs are constant."""
    from ..plots import _stimuli
    if len(t) == 0:
        return
    t0, t1 = float(t[0]), float(t[-1])
    changes = sorted({float(s.get(k)) for s in _stimuli(run) for k in ("start", "stop")
                      if s.get(k) is not None and t0 < float(s.get(k)) < t1})
    for c in changes:
        ax.axvline(c, color="0.4", ls=":", lw=1, label="_input change")
    if changes:
        ax.text(0.99, 0.98, "dotted: input switched on/off\n(E decreases only while inputs are constant)",
                transform=ax.transAxes, ha="right", va="top", fontsize=7, color="0.35")


# --------------------------------------------------------------------------- explanation
def plot_explanation(explanation, ax=None, *, max_paths: int | None = None):
    """The explaining subgraph: the concepts and relations of the strongest paths, in
    columns by their longest distance from the sources (sources left, target right); edge
    width by flow, colour by relation type."""
    from matplotlib.patches import FancyArrowPatch
    paths = explanation.paths if max_paths is None else explanation.paths[:max_paths]
    ax = _axes(ax, figsize=(7.0, 4.0))
    ax.set_axis_off()
    if not paths:
        ax.text(0.5, 0.5, f"no path from {', '.join(explanation.sources)} to "
                f"{explanation.target}", ha="center", va="center", transform=ax.transAxes)
        return ax
    # columns: the longest distance from a source along the paths (target rightmost);
    # rows: ordered by the mean row of each node's predecessors (fewer crossings)
    depth: dict = {}
    preds: dict = {}
    for p in paths:
        for d, c in enumerate(p.concepts):
            depth[c] = max(depth.get(c, 0), d)
        for a, b in zip(p.concepts[:-1], p.concepts[1:]):
            preds.setdefault(b, set()).add(a)
    tgt = explanation.target
    depth[tgt] = max(depth.values())
    for c in list(depth):
        if c != tgt and depth[c] >= depth[tgt]:
            depth[tgt] = depth[c] + 1
    cols: dict = {}
    for c, d in depth.items():
        cols.setdefault(d, []).append(c)
    pos = {}
    for d in sorted(cols):
        cs = sorted(cols[d])
        def key(c):
            ys = [pos[q][1] for q in preds.get(c, ()) if q in pos]
            return (-(sum(ys) / len(ys)) if ys else 0.0, c)
        if d > 0:
            cs.sort(key=key)
        for k, c in enumerate(cs):
            pos[c] = (d, (len(cs) - 1) / 2.0 - k)
    edges: dict = {}
    for p in paths:
        for (a, b), ty, f in zip(zip(p.concepts[:-1], p.concepts[1:]), p.types, p.flows):
            edges[(a, b)] = (ty, f)
    types = sorted({ty for ty, _ in edges.values()})
    colour = {ty: f"C{k % 10}" for k, ty in enumerate(types)}
    fmax = max(f for _, f in edges.values())
    def shrink(name, other):
        # points from the node centre to its label box edge along the edge's direction
        dx = abs(pos[other][0] - pos[name][0])
        return (2.7 * len(name) + 6) if dx > 0 else 12

    for (a, b), (ty, f) in edges.items():
        arr = FancyArrowPatch(pos[a], pos[b], arrowstyle="-|>", mutation_scale=14,
                              lw=0.8 + 4.0 * f / fmax, color=colour[ty], alpha=0.8,
                              shrinkA=shrink(a, b), shrinkB=shrink(b, a),
                              connectionstyle="arc3,rad=0.08")
        ax.add_patch(arr)
        mx, my = 0.45 * pos[a][0] + 0.55 * pos[b][0], 0.45 * pos[a][1] + 0.55 * pos[b][1]
        ax.text(mx, my + 0.1, f"{f:.3g}", fontsize=7, ha="center", color=colour[ty])
    srcs = set(explanation.sources)
    for c, (px, py) in pos.items():
        fc = "#ffd27f" if c in srcs else "#9fd39b" if c == tgt else "white"
        ax.text(px, py, c, ha="center", va="center", fontsize=9, zorder=5,
                bbox=dict(boxstyle="round,pad=0.3", fc=fc, ec="k", lw=0.8))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.plot([], [], color="w", label="edge width: flow")
    for ty in types:
        ax.plot([], [], color=colour[ty], lw=2, label=ty)
    ax.legend(loc="lower center", ncol=min(len(types) + 1, 5), fontsize=8, frameon=False,
              bbox_to_anchor=(0.5, -0.12))
    ax.set_title(f"Why {tgt}: paths from {', '.join(explanation.sources)} "
                 f"(t = {explanation.window[0]:g}..{explanation.window[1]:g})")
    return ax


# --------------------------------------------------------------------------- train of thought
def _visits(sequence):
    out = []
    for k, v in enumerate(sequence):
        key = f"sequence[{k}]"
        if isinstance(v, Mapping):
            extra = set(v) - {"idea", "entry", "dwell"}
            if extra or not {"idea", "entry", "dwell"} <= set(v):
                raise ConfigError(f"{key}: expected keys 'idea', 'entry', 'dwell' (got {sorted(v)})",
                                  key=key)
            idea, entry, dwell = v["idea"], v["entry"], v["dwell"]
        elif isinstance(v, (tuple, list)) and len(v) == 3:
            idea, entry, dwell = v
        else:
            raise ConfigError(f"{key}: expected (idea, entry time, dwell time) (got {v!r})",
                              key=key)
        out.append((str(idea), V.real(f"{key}.entry", entry), V.nonnegative(f"{key}.dwell", dwell)))
    return out


def plot_train_of_thought(sequence, ax=None, *, t_end: float | None = None):
    """Timeline of a train of thought: ``sequence`` of ``(idea, entry time, dwell time)``
    (tuples or mappings), one row per idea in order of first visit, the visited order
    written above (``beach -> holiday -> flight``)."""
    visits = _visits(sequence)
    ax = _axes(ax, figsize=(7.0, 0.45 * max(len({v[0] for v in visits}), 3) + 1.4))
    if not visits:
        ax.text(0.5, 0.5, "no idea visited", ha="center", va="center", transform=ax.transAxes)
        return ax
    order = []
    for idea, _, _ in visits:
        if idea not in order:
            order.append(idea)
    row = {idea: len(order) - 1 - k for k, idea in enumerate(order)}
    for k, (idea, entry, dwell) in enumerate(sorted(visits, key=lambda v: v[1])):
        c = f"C{order.index(idea) % 10}"
        ax.broken_barh([(entry, dwell)], (row[idea] - 0.35, 0.7), facecolors=c, alpha=0.85)
    ax.set_yticks([row[i] for i in order])
    ax.set_yticklabels(order)
    end = max(e + d for _, e, d in visits) if t_end is None else V.real("t_end", t_end)
    start = min(e for _, e, _ in visits)
    ax.set_xlim(min(0.0, start), end)
    from ..plots import TIME_CONTINUOUS
    ax.set_xlabel(TIME_CONTINUOUS)
    chain = " → ".join(v[0] for v in sorted(visits, key=lambda v: v[1]))
    if len(chain) > 90:
        chain = chain[:87] + "..."
    ax.set_title(f"Train of thought: {chain}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_memory(ds, ax=None, member=None, top: int = 6):
    """ACT-R memory of a run with ``[memory]`` (or :func:`~thoughtfield.analysis.add_memory`):
    the retrieval latency of the presented concepts over time (log scale; it drops at
    every presentation or retrieval and rises as the memory decays; the failure latency
    dashed).  ``top`` concepts, the most available at the end first."""
    if "retrieval_latency" not in ds:
        raise ConfigError("memory plot: the result has no retrieval_latency; add a [memory] "
                          "section to the config (or call thoughtfield.analysis.add_memory)")
    lat = ds["retrieval_latency"]
    if "member" in lat.dims:
        lat = lat.isel(member=0 if member is None else member)
    shown = [c for c in lat.concept.values if np.isfinite(lat.sel(concept=c).values).any()]
    if not shown:
        raise ConfigError("memory plot: no concept was presented or retrieved in this run")
    end = {c: float(lat.sel(concept=c).values[-1]) for c in shown}
    shown = sorted(shown, key=lambda c: end[c])[:top]
    ax = _axes(ax)
    t = lat.time.values
    for k, c in enumerate(shown):
        ax.plot(t, lat.sel(concept=c).values, lw=1.5, color=f"C{k}", label=str(c))
    f_lat = ds.attrs.get("memory_failure_latency")
    if f_lat is not None:
        ax.axhline(f_lat, color="0.4", lw=1, ls="--", label="failure latency")
    ax.set_yscale("log")
    from ..plots import time_label
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel("retrieval latency F exp(-f A)")
    ax.set_title("ACT-R memory: retrieval latency")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", loc="upper right")
    return ax
