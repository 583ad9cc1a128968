"""Figures from results: activation trajectories, a concept x time heatmap, and network
snapshots.

Every function takes ``ax=None`` (a new figure is made when omitted), returns the Axes it
drew on (an array of Axes for multi-panel figures) and imports matplotlib only when
called.  Ensembles (a ``member`` dimension) are shown as the mean over members (with a
10-90 % band for trajectories) unless ``member=k`` picks one.

Plot kinds are registered in :data:`PLOTS` by name, so configs (``[output] plots``) and
the command line (``thoughtfield plot --kind``) can name them; a later feature adds its
own with :func:`register_plot`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from .errors import ConfigError

#: The time-axis labels: continuous runs, discrete (spreadr) runs, trial protocols.
TIME_CONTINUOUS = "time (model time units)"
TIME_STEP = "step"
TIME_TRIAL = "time in trial (model time units)"
TIME_LABEL = TIME_CONTINUOUS   # kept for code that imported it

# ``time.attrs["long_name"]`` of result files -> axis label (older files: "time", "step")
_TIME_NAMES = {"model time": TIME_CONTINUOUS, "spreadr step": TIME_STEP,
               "time in trial": TIME_TRIAL, "step": TIME_STEP}


def time_label(ds) -> str:
    """The label of a result's time axis: ``time (model time units)`` for continuous runs,
    ``step`` for discrete (spreadr) runs, ``time in trial (model time units)`` for trial
    protocols.  Taken from ``ds["time"].attrs["long_name"]`` when it names the kind
    (``model time``, ``spreadr step``, ``time in trial``); otherwise the kind is detected
    (a ``trial`` dimension, the ``spreadr`` method).  ``ds`` may be a Dataset or a
    DataArray with a time coordinate."""
    tc = ds.coords.get("time") if hasattr(ds, "coords") else None
    name = str(tc.attrs.get("long_name", "")).strip().lower() if tc is not None else ""
    if "trial" in ds.dims and name != "spreadr step":   # time restarts in every trial
        return TIME_TRIAL
    if name in _TIME_NAMES:
        return _TIME_NAMES[name]
    attrs = getattr(ds, "attrs", {}) or {}
    method = str(attrs.get("method", "")).lower()
    if not method and isinstance(attrs.get("solver"), str):
        try:
            method = str(json.loads(attrs["solver"]).get("method", "")).lower()
        except (ValueError, AttributeError, RecursionError):
            method = ""
    if method == "spreadr" or (tc is not None and str(tc.attrs.get("units", "")) == "steps"):
        return TIME_STEP
    return TIME_CONTINUOUS


def time_point(ds, t: float) -> str:
    """``t = 12`` (or ``step 12`` for a discrete run) for titles and colour-bar labels."""
    return f"step {t:g}" if time_label(ds) == TIME_STEP else f"t = {t:g}"


@dataclass(frozen=True)
class PlotKind:
    """A named figure: ``func(ds, ax=None, **options)`` -> Axes (or array of Axes)."""
    name: str
    func: Callable
    doc: str = ""
    module: str = ""   # the module that registered it (orders the kinds)


#: Registered plot kinds by name.
PLOTS: dict[str, PlotKind] = {}


def register_plot(name: str, func: Callable, doc: str = "") -> PlotKind:
    """Make ``func(ds, ax=None, **options)`` available as plot kind ``name``."""
    V.name("plot kind", name)
    import sys
    module = sys._getframe(1).f_globals.get("__name__", "")
    PLOTS[name] = PlotKind(name, func, doc, module)
    return PLOTS[name]


def unregister_plot(name: str) -> None:
    """Remove the plot kind ``name`` added by :func:`register_plot` outside thoughtfield (the
    built-in kinds stay)."""
    kind = PLOTS.get(name)
    if kind is None:
        raise ValueError(f"unregister_plot: no plot kind {name!r}")
    if kind.module.startswith("thoughtfield."):
        raise ValueError(f"unregister_plot: {name!r} is a built-in plot kind")
    del PLOTS[name]


def plot_kinds() -> dict[str, PlotKind]:
    """The registered plot kinds by name, the extension modules' included, in a fixed order
    whatever was imported first: this module's kinds, then each extension module's
    (``_extensions.MODULES``), then any others in the order they were registered."""
    from . import _extensions
    _extensions.load()
    order = (__name__, *_extensions.MODULES)

    def rank(item):
        mod = getattr(item[1], "module", None)
        return order.index(mod) if mod in order else len(order)

    ranked = dict(sorted(PLOTS.items(), key=rank))   # sorted() is stable
    if list(ranked) != list(PLOTS):
        PLOTS.clear()
        PLOTS.update(ranked)
    return PLOTS


def _pyplot():
    import matplotlib.pyplot as plt
    return plt


# ------------------------------------------------------------------ data access
def _activation(ds, member=None, var="activation"):
    """``(values (T, N), lo, hi, note)``: the member mean (and 10-90 % band) or one member."""
    if var not in ds:
        raise ConfigError(f"the result has no variable {var!r}" + V.did_you_mean(var, list(ds.data_vars)))
    da = ds[var]
    extra = [d for d in da.dims if d not in ("member", "time", "concept")]
    if extra == ["attractor"] and "basin_fraction" in ds:
        raise ConfigError("the result is an attractor catalogue ('thoughtfield attractors'): use "
                          "the plot kind 'basins', or pick one attractor: thoughtfield plot "
                          "RESULT --sel attractor=K --kind network (in Python "
                          "ds.isel(attractor=K))")
    if "trial" in extra:
        raise ConfigError("the result is a trial protocol: use the plot kinds 'trials' "
                          "(response time and accuracy per condition) or 'conditions' (the "
                          "options over trial time); in Python select one trial first: "
                          "ds.isel(trial=K)")
    if "time" not in da.dims:
        raise ConfigError("the result has no time course (one state, e.g. one attractor of a "
                          "catalogue): use the plot kind 'network'")
    if extra:
        raise ConfigError(f"the result is a sweep over {', '.join(extra)}: use the plot kind "
                          f"'sweep' (e.g. [output] plots = [\"sweep\"]), or select one point "
                          f"first: thoughtfield plot RESULT --sel {extra[0]}=VALUE (or "
                          f"--point N), in Python ds.isel({{{extra[0]!r}: 0}})")
    if "member" in da.dims:
        m = da.sizes["member"]
        if member is not None:
            k = V.integer("member", member, min=0, max=m - 1)
            return da.isel(member=k).transpose("time", "concept").values, None, None, f"member {k}"
        vals = da.transpose("member", "time", "concept").values
        if m > 1 and np.all(vals == vals[:1]):   # no spread to show: identical members
            return vals[0], None, None, f"all {m} members identical here"
        lo, hi = np.quantile(vals, [0.1, 0.9], axis=0)
        return vals.mean(axis=0), lo, hi, f"mean of {m} members"
    if member is not None and member != 0:
        raise ConfigError(f"member: the result has no ensemble (got member = {member})",
                          key='member')
    return da.transpose("time", "concept").values, None, None, ""


def _ladder(ds) -> list[str]:
    lad = ds["layer"].attrs.get("ladder") if "layer" in ds.coords else None
    if lad:
        return str(lad).split("|")
    seen = []
    for x in ds["layer"].values if "layer" in ds.coords else []:
        if x not in seen:
            seen.append(str(x))
    return seen


def _layer_codes(ds, ladder):
    if "layer" not in ds.coords:
        return np.zeros(ds.sizes["concept"], dtype=int)
    idx = {l: i for i, l in enumerate(ladder)}
    return np.array([idx.get(str(l), 0) for l in ds["layer"].values], dtype=int)


def _concept_indices(ds, concepts):
    names = [str(c) for c in ds["concept"].values]
    index = {n: i for i, n in enumerate(names)}
    out = []
    for i, c in enumerate(concepts):
        if c not in index:
            raise ConfigError(f"concepts[{i}]: unknown concept {c!r}" + V.did_you_mean(str(c), names),
                              key=f"concepts[{i}]")
        out.append(index[c])
    return np.array(out, dtype=int)


def _top_by_peak(values, k, among=None):
    peak = np.nanmax(np.abs(values), axis=0) if values.size else np.zeros(values.shape[1])
    idx = np.arange(values.shape[1]) if among is None else np.asarray(among)
    order = idx[np.argsort(-peak[idx], kind="stable")]
    return order[:k]


def _title(ds, what):
    t = ds.attrs.get("title")
    return f"{t} \u2014 {what}" if t and t != "thoughtfield simulation" else what


def _stimuli(ds):
    raw = ds.attrs.get("stimuli")
    try:
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
    except (ValueError, RecursionError):
        return []
    if not isinstance(items, list):
        return []
    return [s for s in items if isinstance(s, dict) and isinstance(s.get("concept"), str)
            and all(_number(s.get(k, 0.0)) for k in ("start", "stop"))]


def _number(v) -> bool:
    """A stimulus time from a result file (which may be damaged) that float() takes."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return False
    try:
        float(v)
    except (ValueError, OverflowError):
        return False
    return True


def _mark_stimuli(ax, ds, text=True):
    stims = _stimuli(ds)
    if not stims:
        return
    t0, t1 = float(ds.time.values[0]), float(ds.time.values[-1])
    for s in stims:
        a = max(float(s.get("start", 0.0)), t0)
        b = min(float(s.get("stop", np.inf)), t1)
        if b <= a:
            continue
        ax.axvspan(a, b, color="0.5", alpha=0.08, lw=0, zorder=0)
    if text and len(stims) <= 12:
        import matplotlib.transforms as mtransforms
        trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        starts: list[tuple[float, list[str]]] = []
        close = 0.06 * (t1 - t0)  # labels closer than this share one text
        for s in sorted(stims, key=lambda s: float(s.get("start", 0.0))):
            a = max(float(s.get("start", 0.0)), t0)
            if a >= t1:
                continue
            label = s["concept"]
            if s.get("kind") == "clamp":   # a clamp names the value it holds
                v = s.get("value")
                label += f" held at {float(v):g}" if isinstance(v, (int, float)) else " (clamp)"
            if starts and a - starts[-1][0] < close:
                if label not in starts[-1][1]:
                    starts[-1][1].append(label)
            else:
                starts.append((a, [label]))
        for a, labels in starts:
            ax.text(a, 1.0, " " + ", ".join(labels), transform=trans, fontsize=7, color="0.35",
                    va="bottom", ha="left", clip_on=False)


def _colors(k):
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(k)]


def _overlap_groups(values, idx, rel: float = 0.01, span=None):
    """``idx`` split into groups of near-identical trajectories (every point within
    ``rel`` of the y range ``span`` -- about a line width -- of the group's first one), in
    the order of ``idx``: a line drawn over another hides it, so such lines share one
    legend entry."""
    idx = list(idx)
    if not idx:
        return []
    if span is None:
        sub = values[:, idx]
        span = float(np.nanmax(sub) - np.nanmin(sub)) if sub.size else 0.0
    tol = rel * span if span > 0 else 1e-12
    groups: list[list[int]] = []
    for i in idx:
        for g in groups:
            d = np.abs(values[:, i] - values[:, g[0]])
            if not d.size or np.nanmax(d) <= tol:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def _lines(ax, t, values, lo, hi, idx, labels, span=None):
    """One line per concept; near-identical trajectories (a line hidden under another) are
    drawn once with one legend entry naming them all: ``a, b (overlap)``."""
    label_of = dict(zip(idx, labels))
    groups = _overlap_groups(values, idx, span=span)
    for c, g in zip(_colors(len(groups)), groups):
        lab = label_of[g[0]] if len(g) == 1 else ", ".join(label_of[i] for i in g) + " (overlap)"
        ax.plot(t, values[:, g[0]], color=c, lw=1.6, label=lab)
        if lo is not None:
            ax.fill_between(t, lo[:, g[0]], hi[:, g[0]], color=c, alpha=0.18, lw=0)
    ax.set_xlim(t[0], t[-1])
    ax.grid(alpha=0.25, lw=0.5)
    if len(idx):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
                  borderaxespad=0.0)


# ------------------------------------------------------------------ trajectories
def _layer_groups(values, ladder, codes, top, chosen=None, leave_out=()):
    """``[(layer, concept indices)]`` from the highest layer down, empty layers left out;
    a result without layers is one group ``(None, indices)``.  The top concepts of a layer
    are ranked without the concepts in ``leave_out`` (the stimulated ones) unless the
    layer has no others."""
    if not ladder:
        if chosen is not None:
            return [(None, np.asarray(chosen, dtype=int))]
        rest = np.array([i for i in range(values.shape[1]) if i not in leave_out], dtype=int)
        return [(None, _top_by_peak(values, top, rest if rest.size else None))]
    groups = []
    for code in reversed(range(len(ladder))):
        among = np.flatnonzero(codes == code)
        if chosen is not None:
            among = np.array([i for i in chosen if codes[i] == code], dtype=int)
        if among.size:
            if chosen is None:
                rest = np.array([i for i in among if i not in leave_out], dtype=int)
                among = _top_by_peak(values, top, rest if rest.size else among)
            groups.append((ladder[code], among))
    return groups


def _stimulated_indices(ds, names) -> set[int]:
    stimulated = {s["concept"] for s in _stimuli(ds)}
    return {i for i, n in enumerate(names) if n in stimulated}


def plot_trajectories(ds, top: int = 8, by_layer: bool = False, ax=None, *, concepts=None,
                      member=None, stimuli: bool = True):
    """Activation over time of the ``top`` concepts with the highest peak (or of the given
    ``concepts``), labelled in a legend outside the data.

    ``by_layer=True`` draws one panel per abstraction layer (highest layer on top), each
    with its own top concepts, and returns the array of Axes (``ax`` may then be a
    sequence with one Axes per non-empty layer).  Stimulus windows are shaded and named
    along the top edge.
    """
    plt = _pyplot()
    top = V.integer("top", top, min=1)
    values, lo, hi, note = _activation(ds, member)
    t = ds["time"].values
    names = [str(c) for c in ds["concept"].values]
    ladder = _ladder(ds)
    codes = _layer_codes(ds, ladder)
    chosen = None if concepts is None else _concept_indices(ds, list(concepts))
    suffix = f" ({note}; band: 10-90 %)" if lo is not None else (f" ({note})" if note else "")
    if not by_layer:
        stimulated = {s["concept"] for s in _stimuli(ds)}
        rest = [i for i, n in enumerate(names) if n not in stimulated]
        excluded = chosen is None and bool(stimulated) and bool(rest)
        idx = chosen if chosen is not None else _top_by_peak(values, top, rest if excluded else None)
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        labels = [f"{names[i]} ({ladder[codes[i]]})" if ladder else names[i] for i in idx]
        _lines(ax, t, values, lo, hi, idx, labels)
        ax.set_xlabel(time_label(ds))
        ax.set_ylabel("activation")
        what = ("activation" if chosen is not None else
                f"activation of the {len(idx)} concepts with the highest peak"
                + (" (stimulated concepts left out)" if excluded else ""))
        ax.set_title(_title(ds, what) + suffix, fontsize=10, pad=14 if stimuli else 6)
        if stimuli:
            _mark_stimuli(ax, ds)
        return ax
    leave_out = _stimulated_indices(ds, names) if chosen is None else set()
    groups = _layer_groups(values, ladder, codes, top, chosen, leave_out)
    if ax is None:
        fig, axes = plt.subplots(len(groups), 1, sharex=True, squeeze=False, layout="constrained",
                                 figsize=(9, 1.2 + 1.9 * len(groups)))
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if axes.size != len(groups):
            raise ConfigError(f"ax: by_layer needs {len(groups)} Axes, one per non-empty layer "
                              f"({', '.join(str(g[0]) for g in groups)}); got {axes.size}")
    ymin = float(np.nanmin(values)) if values.size else 0.0
    ymax = float(np.nanmax(values)) if values.size else 1.0
    if lo is not None:
        ymin, ymax = min(ymin, float(np.nanmin(lo))), max(ymax, float(np.nanmax(hi)))
    pad = 0.05 * max(ymax - ymin, 1e-9)
    for j, (a, (layer, idx)) in enumerate(zip(axes, groups)):
        _lines(a, t, values, lo, hi, idx, [names[i] for i in idx], span=ymax - ymin)
        a.set_ylim(ymin - pad, ymax + pad)
        a.set_ylabel("activation" if layer is None else f"{layer}\nactivation", fontsize=9)
        if stimuli:
            _mark_stimuli(a, ds, text=j == 0)
    axes[-1].set_xlabel(time_label(ds))
    codes_shown = {int(codes[i]) for _, g in groups for i in g}
    left_out = [i for i in leave_out          # stimulated in a layer ranked without them
                if any(codes[j] == codes[i] and j not in leave_out for j in range(len(names)))
                and int(codes[i]) in codes_shown]
    what = ("activation by abstraction layer" if ladder else "activation") + suffix + (
        ("\nthe {} concepts with the highest peak".format(top)
         + (" per layer" if ladder else "")) if chosen is None else "") + (
        "; stimulated concepts (shaded) left out" if left_out else "")
    axes[0].set_title(_title(ds, what), fontsize=10,
                      pad=14 if stimuli else 6)
    return axes


# ------------------------------------------------------------------ heatmap
def _edges(t):
    t = np.asarray(t, dtype=float)
    if t.size == 1:
        return np.array([t[0] - 0.5, t[0] + 0.5])
    mid = 0.5 * (t[1:] + t[:-1])
    return np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])


def heatmap_order(ds, member=None, max_concepts: int | None = None) -> np.ndarray:
    """Concept indices in heatmap order: by layer (lowest first), then by the time of the
    peak, then by name; at most ``max_concepts`` (those with the highest peak)."""
    values, _, _, _ = _activation(ds, member)
    ladder = _ladder(ds)
    codes = _layer_codes(ds, ladder)
    n = values.shape[1]
    idx = np.arange(n)
    if max_concepts is not None and n > max_concepts:
        idx = np.sort(_top_by_peak(values, max_concepts))
    peak_t = np.argmax(values[:, idx], axis=0) if values.shape[0] else np.zeros(idx.size, int)
    names = np.array([str(c) for c in ds["concept"].values], dtype=object)[idx]
    order = sorted(range(idx.size), key=lambda j: (codes[idx[j]], peak_t[j], names[j]))
    return idx[order]


def _robust_limits(z, stim_rows, vmin, vmax, swamp: float = 1.5):
    """``(vmin, vmax, note)``: colour limits from the rows that are not stimulated when the
    stimulated rows would swamp the scale (their largest |activation| is more than
    ``swamp`` times the others'); limits given by the caller are kept."""
    if vmin is not None and vmax is not None or not stim_rows.any() or stim_rows.all():
        return vmin, vmax, ""
    rest, stim = z[~stim_rows], z[stim_rows]
    if not np.isfinite(rest).any() or not np.isfinite(stim).any():
        return vmin, vmax, ""
    r_lo, r_hi = float(np.nanmin(rest)), float(np.nanmax(rest))
    s_lo, s_hi = float(np.nanmin(stim)), float(np.nanmax(stim))
    big = max(abs(r_lo), abs(r_hi), 1e-12)
    if max(abs(s_lo), abs(s_hi)) <= swamp * big:
        return vmin, vmax, ""
    lo = vmin if vmin is not None else min(r_lo, 0.0) if r_lo >= 0 or s_lo >= 0 else r_lo
    hi = vmax if vmax is not None else r_hi
    if hi <= lo:
        return vmin, vmax, ""
    return lo, hi, "colour scale: concepts not stimulated"


def _label_rows(n, row_pt, ranked, font_pt: float = 6.5):
    """The rows to label when not all fit: the best ``ranked`` first, skipping a row
    closer than one label height to a labelled one."""
    gap = max(1, int(np.ceil(font_pt / max(row_pt, 1e-6))))
    taken: list[int] = []
    for r in ranked:
        if all(abs(r - q) >= gap for q in taken):
            taken.append(int(r))
    return sorted(taken)


def plot_heatmap(ds, ax=None, *, member=None, max_concepts: int = 80, cmap: str = "viridis",
                 vmin=None, vmax=None):
    """A concept x time raster of activation, concepts ordered by layer (lowest at the
    top) then by the time of their peak, with layer boundaries and a colour bar.  Large
    networks show the ``max_concepts`` concepts with the highest peak.

    When the stimulated (or clamped) concepts would swamp the colour scale, the limits
    come from the other concepts, the stimulated rows saturate (an arrow on the colour
    bar) and the colour bar says so.  Rows are labelled with the concept names when they
    fit, otherwise the most active concepts are labelled (the y label says so)."""
    plt = _pyplot()
    values, _, _, note = _activation(ds, member)
    t = ds["time"].values
    order = heatmap_order(ds, member, max_concepts)
    names = [str(c) for c in ds["concept"].values]
    ladder = _ladder(ds)
    codes = _layer_codes(ds, ladder)
    if ax is None:
        n = order.size
        _, ax = plt.subplots(figsize=(9, min(11, 1.6 + 0.17 * max(n, 8))), layout="constrained")
    z = values[:, order].T
    stimulated = _stimulated_indices(ds, names)
    stim_rows = np.array([i in stimulated for i in order], dtype=bool)
    lo, hi, scale_note = _robust_limits(z, stim_rows, vmin, vmax)
    mesh = ax.pcolormesh(_edges(t), np.arange(order.size + 1), z, cmap=cmap, vmin=lo, vmax=hi,
                         shading="flat", rasterized=True)
    ax.set_ylim(order.size, 0)
    fig = ax.figure
    row_pt = ax.get_position().height * fig.get_figheight() * 72 * 0.9 / max(order.size, 1)
    labels = [names[i] + (" (stimulated)" if scale_note and i in stimulated else "") for i in order]
    ylabel = "concept (by layer, then time of peak)" if ladder else "concept (by time of peak)"
    if row_pt >= 6.0 or order.size <= 30:
        rows = list(range(order.size))
        size = 8 if row_pt >= 9 else 7 if row_pt >= 7.5 else 6
    else:
        peak = np.nanmax(np.abs(z), axis=1) if z.size else np.zeros(order.size)
        rows = _label_rows(order.size, row_pt, np.argsort(-peak, kind="stable"))
        size = 6
        ylabel = (f"concept (by {'layer, then ' if ladder else ''}time of peak; labelled: "
                  f"{len(rows)} of the most active)")
    ax.set_yticks(np.asarray(rows) + 0.5)
    ax.set_yticklabels([labels[r] for r in rows], fontsize=size)
    import matplotlib.transforms as mtransforms
    trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    lay = codes[order]
    start = 0
    for j in range(1, order.size + 1):
        if j == order.size or lay[j] != lay[start]:
            if start > 0:
                ax.axhline(start, color="white", lw=1.2)
            if ladder:
                ax.text(1.01, (start + j) / 2, ladder[lay[start]], transform=trans, rotation=-90,
                        va="center", ha="left", fontsize=8, clip_on=False)
            start = j
    ax.set_xlabel(time_label(ds))
    ax.set_ylabel(ylabel)
    shown = ("" if order.size == len(names) else
             f" ({order.size} of {len(names)} concepts with the highest peak)")
    ax.set_title(_title(ds, "activation") + shown + (f" ({note})" if note else ""), fontsize=10)
    zmin = float(np.nanmin(z)) if np.isfinite(z).any() else 0.0
    zmax = float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
    under = mesh.norm.vmin is not None and zmin < mesh.norm.vmin - 1e-12
    over = mesh.norm.vmax is not None and zmax > mesh.norm.vmax + 1e-12
    extend = "both" if under and over else "min" if under else "max" if over else "neither"
    cb = fig.colorbar(mesh, ax=ax, pad=0.06, fraction=0.04, extend=extend)
    if scale_note:
        cb.set_label(f"activation ({scale_note};\nstimulated rows saturate, max {zmax:.3g})")
    else:
        cb.set_label("activation")
    return ax


# ------------------------------------------------------------------ network
def network_from_result(ds):
    """The :class:`~thoughtfield.ConceptNetwork` embedded in a result's attributes."""
    from .network import ConceptNetwork
    from .results import description
    d = description(ds, "network")   # a damaged attribute is an error naming it
    if not isinstance(d, dict) or "concepts" not in d:
        raise ConfigError("the result does not embed its network (large networks are stored as a "
                          "summary only); pass network=ConceptNetwork")
    return ConceptNetwork.from_dict(d)


def layered_layout(network, concepts=None, sweeps: int = 6) -> dict[str, tuple[float, float]]:
    """Deterministic positions: ``y`` = layer index, ``x`` spread evenly within a layer and
    ordered by the barycentre of each concept's neighbours (a few up/down sweeps), which
    keeps related concepts of neighbouring layers above each other."""
    names = list(network.concepts) if concepts is None else list(concepts)
    idx = network.indices(names, "concepts")
    codes = network.layer_codes[idx]
    pos_of = {int(g): k for k, g in enumerate(idx)}
    W = network.weight_matrix()
    A = (abs(W) + abs(W.T)).tocsr()
    nbrs = []
    for g in idx:
        row = A.indices[A.indptr[g]:A.indptr[g + 1]]
        nbrs.append([pos_of[int(j)] for j in row if int(j) in pos_of and int(j) != int(g)])
    layers = sorted(set(codes.tolist()))
    members = {L: [k for k in range(len(idx)) if codes[k] == L] for L in layers}
    x = np.zeros(len(idx))

    def place():
        for L in layers:
            m = members[L]
            for r, k in enumerate(m):
                x[k] = (r + 0.5) / len(m)

    place()
    for s in range(sweeps):
        seq = layers if s % 2 == 0 else list(reversed(layers))
        for L in seq:
            m = members[L]
            bary = []
            for k in m:
                other = [x[j] for j in nbrs[k] if codes[j] != L]
                bary.append(float(np.mean(other)) if other else x[k])
            members[L] = [k for _, k in sorted(zip(bary, m), key=lambda p: (p[0], x[p[1]]))]
            for r, k in enumerate(members[L]):
                x[k] = (r + 0.5) / len(m)
    rank = {L: r for r, L in enumerate(layers)}
    return {names[k]: (float(x[k]), float(rank[int(codes[k])])) for k in range(len(idx))}


def _edge_path(p, q, bend: float = 0.22, points: int = 24):
    """A straight segment between layers; an arc above the row within a layer (so edges
    between neighbours of one row do not run through the nodes between them)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if abs(p[1] - q[1]) > 1e-9:
        return np.array([p, q])
    d = abs(q[0] - p[0])
    s = np.linspace(0.0, 1.0, points)
    x = p[0] + (q[0] - p[0]) * s
    y = p[1] + bend * min(1.0, 2.5 * d) * 4 * s * (1 - s)
    return np.column_stack([x, y])


def plot_network(ds_or_network, time=None, ax=None, *, member=None, network=None, top: int = 40,
                 max_nodes: int = 60, labels: bool = True, cmap: str = "viridis", vmin=None,
                 vmax=None, concepts=None):
    """A snapshot of the network at ``time`` (default: the last saved time): nodes in rows
    by abstraction layer (a deterministic layered layout), coloured by activation,
    excitatory relations grey, inhibitory ones red and dashed.

    Given a :class:`~thoughtfield.ConceptNetwork` instead of a result, nodes are coloured
    by layer.  Directed relation types have an arrowhead at the target; symmetric ones
    (``association``, ``contradicts``) none.  Networks larger than ``max_nodes`` show the
    ``top`` most active concepts (``concepts`` names the ones to show instead).
    """
    from .network import ConceptNetwork
    plt = _pyplot()
    if isinstance(ds_or_network, ConceptNetwork):
        net, ds, values, t_shown = ds_or_network, None, None, None
    else:
        ds = ds_or_network
        net = network if network is not None else network_from_result(ds)
        if "activation" in ds and ds["activation"].dims == ("concept",):
            # one state without time (an attractor picked from a catalogue)
            vals, note = ds["activation"].values[None, :], ""
            ts = np.array([np.nan])
            if time is not None:
                raise ConfigError("time: the result is a single state without time (e.g. one "
                                  "attractor of a catalogue); leave --time out", key='time')
        else:
            vals, _, _, note = _activation(ds, member)
            ts = ds["time"].values
        if np.isnan(ts[-1]):
            k = 0
        elif time is None:
            k = ts.size - 1
        else:
            tv = V.real("time", time)
            if not ts[0] - 1e-9 <= tv <= ts[-1] + 1e-9:
                raise ConfigError(f"time: {tv:g} is outside the result [{ts[0]:g}, {ts[-1]:g}]",
                                  key='time')
            k = int(np.argmin(np.abs(ts - tv)))
        t_shown = float(ts[k])
        names_ds = [str(c) for c in ds["concept"].values]
        if names_ds != list(net.concepts):
            raise ConfigError("network: its concepts differ from the result's; pass the network "
                              "the result was computed on", key='network')
        values = vals[k]
    n = net.n
    if concepts is not None:
        keep = np.sort(net.indices(list(concepts), "concepts"))
    elif n > max_nodes:
        score = np.abs(values) if values is not None else np.asarray(
            abs(net.weight_matrix()).sum(axis=0)).ravel()
        keep = np.sort(np.argsort(-score, kind="stable")[:top])
    else:
        keep = np.arange(n)
    names = [net.concepts[i] for i in keep]
    pos = layered_layout(net, names)
    if ax is None:
        rows = len(set(net.layer_codes[keep].tolist()))
        widest = max(np.bincount(net.layer_codes[keep]).max(), 1)
        _, ax = plt.subplots(figsize=(min(16, max(7, 1.1 * widest + 2)), 1.5 + 1.5 * rows),
                             layout="constrained")
    xy = np.array([pos[nm] for nm in names])
    kept = {int(g): j for j, g in enumerate(keep)}
    rel = net.relation_arrays()
    types = net.relation_types
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    segs = {+1: [], -1: []}
    widths = {+1: [], -1: []}
    heads = []   # (path, sign, width) of the directed relations: an arrowhead at the target
    wmax = float(np.max(np.abs(rel["weight"]))) if rel["weight"].size else 1.0
    for s, tg, ty, w in zip(rel["source"], rel["target"], rel["type"], rel["weight"]):
        if int(s) in kept and int(tg) in kept and s != tg:
            rt = types.get(ty)
            sign = (rt.sign if rt is not None else 1) * (1 if w >= 0 else -1)
            path = _edge_path(xy[kept[int(s)]], xy[kept[int(tg)]])
            segs[sign].append(path)
            widths[sign].append(0.6 + 2.0 * abs(w) / (wmax or 1.0))
            if rt is not None and not rt.symmetric:
                heads.append((path, sign, widths[sign][-1]))
    if segs[1]:
        ax.add_collection(LineCollection(segs[1], colors="0.55", linewidths=widths[1], alpha=0.6,
                                         zorder=1))
    if segs[-1]:
        ax.add_collection(LineCollection(segs[-1], colors="tab:red", linewidths=widths[-1],
                                         linestyles="--", alpha=0.7, zorder=1))
    from matplotlib.patches import FancyArrowPatch
    for path, sign, lw in heads:
        # the last stretch of the edge again, ending at the rim of the target node
        a = path[0] + 0.6 * (path[-1] - path[0]) if len(path) == 2 else path[-5]
        ax.add_patch(FancyArrowPatch(tuple(a), tuple(path[-1]), arrowstyle="-|>",
                                     mutation_scale=11 + 2 * lw, lw=0, shrinkA=0, shrinkB=9.5,
                                     color="0.4" if sign > 0 else "tab:red", alpha=0.9,
                                     zorder=2))
    if values is not None:
        c = values[keep]
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=c, cmap=cmap, vmin=vmin, vmax=vmax, s=260,
                        edgecolors="0.2", linewidths=0.8, zorder=3)
        cb = ax.figure.colorbar(sc, ax=ax, pad=0.02, fraction=0.04)
        cb.set_label("activation" if np.isnan(t_shown) else
                     f"activation at {time_point(ds, t_shown)}")
    else:
        layer_colors = _colors(len(net.layers))
        ax.scatter(xy[:, 0], xy[:, 1], c=[layer_colors[net.layer_codes[i]] for i in keep], s=260,
                   edgecolors="0.2", linewidths=0.8, zorder=3)
    if labels and len(names) <= 120:
        for (x, y), nm in zip(xy, names):
            ax.text(x, y - 0.16, nm, ha="center", va="top", fontsize=7 if len(names) > 40 else 8,
                    zorder=4)
    used = sorted(set(net.layer_codes[keep].tolist()))
    if net.layered:
        ax.set_yticks(range(len(used)))
        ax.set_yticklabels([net.layers[c] for c in used])
    else:   # a network without layers: one row, no layer labels
        ax.set_yticks([])
    ax.set_ylim(-0.6, len(used) - 0.4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_ylabel("abstraction layer" if net.layered else "")
    handles = []
    if segs[1]:
        handles.append(Line2D([], [], color="0.55", lw=1.5, label="excitatory"))
    if segs[-1]:
        handles.append(Line2D([], [], color="tab:red", lw=1.5, ls="--", label="inhibitory"))
    if heads:
        handles.append(Line2D([], [], color="0.4", lw=0, marker=r"$\rightarrow$", ms=14,
                              label="directed relation (arrow at its target; no arrow: symmetric)"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=len(handles),
                  frameon=False, fontsize=8)
    shown = "" if keep.size == n else f", {keep.size} most active of {n} concepts"
    if ds is not None:
        at = (ds.attrs.get("selection", "state") if np.isnan(t_shown) else
              time_point(ds, t_shown))
        what = f"network at {at}{shown}" + (f" ({note})" if note else "")
        ax.set_title(_title(ds, what), fontsize=10)
    else:
        ax.set_title(f"network{' ' + repr(net.name) if net.name else ''}: {n} concepts{shown}",
                     fontsize=10)
    return ax


# ------------------------------------------------------------------ overview
def plot_overview(ds, ax=None, *, member=None, top: int = 6, time=None):
    """One figure with the activation of each abstraction layer over time (left), the
    network snapshot (top right) and the heatmap (bottom right).  Returns the Axes: one
    per non-empty layer, then the network and the heatmap (``ax`` may be such a
    sequence)."""
    plt = _pyplot()
    values, _, _, _ = _activation(ds, member)
    ladder = _ladder(ds)
    k = max(1, len(_layer_groups(values, ladder, _layer_codes(ds, ladder), top)))
    if ax is None:
        fig = plt.figure(figsize=(16, max(8.5, 2.3 * k)), layout="constrained")
        outer = fig.add_gridspec(1, 2, width_ratios=[1, 1.1])
        left = outer[0].subgridspec(k, 1)
        right = outer[1].subgridspec(2, 1, height_ratios=[1, 1.1])
        first = fig.add_subplot(left[0])
        axes = [first] + [fig.add_subplot(left[i], sharex=first) for i in range(1, k)]
        axes += [fig.add_subplot(right[0]), fig.add_subplot(right[1])]
        axes = np.array(axes, dtype=object)
        for a in axes[:k - 1]:
            a.tick_params(labelbottom=False)
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if axes.size != k + 2:
            raise ConfigError(f"ax: the overview needs {k + 2} Axes ({k} layer panels, the "
                              f"network and the heatmap); got {axes.size}")
    plot_trajectories(ds, top=top, by_layer=True, ax=axes[:k], member=member)
    plot_network(ds, time=time, ax=axes[k], member=member)
    plot_heatmap(ds, ax=axes[k + 1], member=member)
    return axes


# ------------------------------------------------------------------ animation
#: The largest number of frames of an animation (keeps writing it fast and the file small).
MAX_FRAMES = 300
ANIMATION_FORMATS = ("gif", "mp4")


def animation_format(path: str) -> str:
    """``"gif"`` or ``"mp4"`` from ``path``; anything else (or MP4 without ffmpeg) is a
    one-line error saying what to use."""
    import os
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext not in ANIMATION_FORMATS:
        raise ConfigError(f"--out: {path!r}: an animation is written as a .gif file (or .mp4 "
                          "when ffmpeg is installed); give a file name ending in .gif")
    if ext == "mp4":
        from matplotlib import animation
        if not animation.writers.is_available("ffmpeg"):
            raise ConfigError(f"--out: {path!r}: writing MP4 needs ffmpeg, which is not "
                              "installed; use a .gif file name instead")
    return ext


def animation_times(ds, frames: int = 60) -> np.ndarray:
    """The indices of the saved times shown as frames: at most ``frames``, evenly spread
    from the first to the last saved time."""
    frames = V.integer("frames", frames, min=2, max=MAX_FRAMES)
    n = ds.sizes["time"]
    return np.unique(np.round(np.linspace(0, n - 1, min(frames, n))).astype(int))


def _write_gif(fig, path, moving, draw, idx, fps, dpi):
    """Frames by blitting: the still parts of the figure are drawn once, each frame redraws
    only the ``moving`` artists (much faster than redrawing the whole figure), then Pillow
    writes the GIF (one palette per frame, looping)."""
    from PIL import Image
    fig.set_dpi(dpi)
    for a in moving:
        a.set_animated(True)
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for k in idx:
        canvas.restore_region(background)
        draw(k)
        for a in moving:
            a.axes.draw_artist(a)
        frames.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    # one palette for all frames (from a few of them): Pillow then stores only what changes
    sample = np.concatenate([frames[i] for i in sorted({0, len(frames) // 2, len(frames) - 1})])
    palette = Image.fromarray(sample).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
              for f in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0)


def animate_network(ds, path: str, *, frames: int = 60, fps: int = 10, dpi: int = 80,
                    member=None, network=None, top: int = 40, max_nodes: int = 60,
                    cmap: str = "viridis") -> str:
    """Write an animation of the activation spreading over the network: the layered
    network (rows = abstraction layers, as :func:`plot_network`) coloured by activation
    at each frame's time, beside the mean activation of each layer over time with a
    cursor.  At most ``frames`` frames (evenly spread over the saved times), one colour
    scale for all frames.  ``path`` ends in ``.gif`` (Pillow) or ``.mp4`` (needs
    ffmpeg).  Returns ``path``."""
    import os

    from matplotlib import animation
    plt = _pyplot()
    fmt = animation_format(path)
    fps = V.integer("fps", fps, min=1, max=60)
    idx = animation_times(ds, frames)
    values, _, _, note = _activation(ds, member)
    net = network if network is not None else network_from_result(ds)
    names = [str(c) for c in ds["concept"].values]
    if net.n > max_nodes:   # one set of concepts for every frame: the highest peaks
        keep = np.sort(_top_by_peak(values, top))
    else:
        keep = np.arange(net.n)
    shown = values[:, keep]
    vmin = float(np.nanmin(shown)) if shown.size else 0.0
    vmax = float(np.nanmax(shown)) if shown.size else 1.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    t = ds["time"].values
    fig = plt.figure(figsize=(12, 5.2), layout="constrained")
    gs = fig.add_gridspec(1, 2, width_ratios=[1.7, 1])
    ax_net, ax_lay = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
    plot_network(ds, time=float(t[idx[0]]), ax=ax_net, member=member, network=net, cmap=cmap,
                 vmin=vmin, vmax=vmax, concepts=[names[i] for i in keep])
    nodes = ax_net.collections[-1]
    if nodes.colorbar is not None:
        nodes.colorbar.set_label("activation")
    ladder = _ladder(ds)
    codes = _layer_codes(ds, ladder)
    for c in range(len(ladder)):
        members = np.flatnonzero(codes == c)
        if members.size:
            ax_lay.plot(t, values[:, members].mean(axis=1), lw=1.6, color=f"C{c % 10}",
                        label=ladder[c])
    if not ladder:
        ax_lay.plot(t, values.mean(axis=1), lw=1.6, label="all concepts")
    cursor = ax_lay.axvline(t[idx[0]], color="0.2", lw=1)
    ax_lay.set_xlim(t[0], t[-1])
    ax_lay.set_xlabel(time_label(ds))
    ax_lay.set_ylabel("mean activation of the layer")
    ax_lay.grid(alpha=0.25, lw=0.5)
    handles, labels = ax_lay.get_legend_handles_labels()
    ax_lay.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=8, frameon=False)
    _mark_stimuli(ax_lay, ds, text=False)
    extra = f" ({note})" if note else ""
    subset = "" if keep.size == net.n else f", {keep.size} of {net.n} concepts with the highest peak"

    def draw(k):
        nodes.set_array(values[k, keep])
        cursor.set_xdata([t[k], t[k]])
        ax_net.set_title(_title(ds, f"activation at {time_point(ds, float(t[k]))}{subset}") + extra,
                         fontsize=10)
        return nodes, cursor

    draw(idx[-1])                     # the longest title: lay the figure out once, then
    fig.canvas.draw()                 # freeze the layout (re-laying out every frame is slow)
    fig.set_layout_engine("none")
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        os.makedirs(folder, exist_ok=True)
        if fmt == "gif":
            _write_gif(fig, tmp, [nodes, cursor, ax_net.title], draw, idx, fps, dpi)
        else:
            writer = animation.FFMpegWriter(fps=fps)
            with writer.saving(fig, tmp, dpi):
                for k in idx:
                    draw(k)
                    writer.grab_frame()
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot write the animation ({e.strerror or e}); choose a "
                          "path in a folder you can write to") from None
    finally:
        plt.close(fig)
        with contextlib.suppress(OSError):   # nothing left behind (gone after the rename)
            os.unlink(tmp)
    return path


register_plot("trajectories", plot_trajectories, "activation over time of the most active concepts")
register_plot("layers", lambda ds, ax=None, **kw: plot_trajectories(ds, by_layer=True, ax=ax, **kw),
              "trajectories with one panel per abstraction layer")
register_plot("heatmap", plot_heatmap, "concept x time raster, ordered by layer then peak time")
register_plot("network", plot_network, "network snapshot coloured by activation (default: last time)")
register_plot("overview", plot_overview, "activation per layer, network snapshot and heatmap in one figure")
