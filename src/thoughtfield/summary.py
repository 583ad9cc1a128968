"""Plain-text summaries of a result, printed by ``thoughtfield run`` and ``thoughtfield info``.

A summary is a list of named sections; each is a function ``f(ds, top) -> list[str]``
returning lines (an empty list when it has nothing to say about this result).  Later
features register their own (the choice made, conflict, the train of thought) with
:func:`register_summary`, so the command line prints them without changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

#: Registered summary sections, in print order: ``(name, func)``.
SUMMARIES: list[tuple[str, Callable]] = []


def register_summary(name: str, func: Callable, *, before: str | None = None) -> None:
    """Add ``func(ds, top) -> list[str]`` as summary section ``name`` (replacing one of
    the same name), at the end or ``before`` another section."""
    for i, (n, _) in enumerate(SUMMARIES):
        if n == name:
            del SUMMARIES[i]
            break
    if before is not None:
        for i, (n, _) in enumerate(SUMMARIES):
            if n == before:
                SUMMARIES.insert(i, (name, func))
                return
        raise ValueError(f"register_summary: unknown section {before!r}")
    SUMMARIES.append((name, func))


def unregister_summary(name: str) -> None:
    """Remove the summary section ``name``."""
    for i, (n, _) in enumerate(SUMMARIES):
        if n == name:
            del SUMMARIES[i]
            return
    raise ValueError(f"unregister_summary: no summary section {name!r}")


def _attr_json(ds, key):
    v = ds.attrs.get(key)
    if isinstance(v, str):
        try:
            return json.loads(v)
        except (ValueError, RecursionError):
            return None
    return v


def _count(v) -> str:
    """A solver count from a result's attributes (which may be damaged): the integer, or
    the value's short repr."""
    try:
        return str(int(v))
    except (TypeError, ValueError, OverflowError):
        r = repr(v)
        return r if len(r) <= 40 else r[:37] + "..."


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def run_lines(ds, top: int = 5) -> list[str]:
    """Time span, method, steps and solver status."""
    a = ds.attrs
    if "time" not in ds.coords:   # not a run (e.g. an attractor catalogue)
        return []
    t = ds["time"].values
    if t.size == 0:
        return ["no time points saved"]
    steps = a.get("n_steps")
    rhs = a.get("n_rhs")
    parts = [f"simulated t = {_fmt(float(t[0]))} .. {_fmt(float(t[-1]))} ({t.size} saved points)"]
    if a.get("method"):
        s = f"with {a['method']}"
        sweeps = a["method"] == "async"   # single-unit updates: no RHS evaluations
        if steps is not None:
            s += f": {_count(steps)} {'sweeps' if sweeps else 'steps'}"
            rej = a.get("n_rejected")
            if rej:
                s += f" ({_count(rej)} rejected)"
        if rhs is not None and not sweeps:
            s += f", {_count(rhs)} RHS evaluations"
        parts.append(s)
    line = " ".join(parts)
    status = a.get("status")
    extra = []
    if status and status != "success":
        extra.append(str(a.get("message", status)))
    if "member" in ds.dims:
        extra.append(f"{ds.sizes['member']} members")
    if a.get("seed") is not None:
        extra.append(f"seed {a['seed']}")
    return [line] + ([", ".join(extra)] if extra else [])


def activity_lines(ds, top: int = 5) -> list[str]:
    """The most active concepts at the last saved time."""
    if "activation" not in ds or ds.sizes.get("time", 0) == 0:
        return []
    if set(ds["activation"].dims) - {"member", "time", "concept"}:
        return []  # a sweep: its own summary reports per point (thoughtfield.sweeps)
    act = ds["activation"].isel(time=-1)
    note = ""
    if "member" in act.dims:
        m = act.sizes["member"]
        v = act.values
        same = m > 1 and (bool(np.all(v == v[:1])) if v.size else True)
        # members that do not differ in the concepts' activation (noise only elsewhere,
        # e.g. in the evidence accumulators) are not "a mean" over a spread: say so
        note = (f" (all {m} members identical here)" if same else
                f" (mean of {m} members)" if m > 1 else "")
        act = act.mean("member")
    vals = act.values
    names = [str(c) for c in ds["concept"].values]
    layers = [str(x) for x in ds["layer"].values] if "layer" in ds.coords else None
    order = np.argsort(-vals, kind="stable")[:top]
    items = []
    for i in order:
        s = f"{names[i]} {vals[i]:.2f}"
        if layers:
            s += f" ({layers[i]})"
        items.append(s)
    t = float(ds["time"].values[-1])
    return [f"most active at t = {_fmt(t)}{note}: " + ", ".join(items)]


register_summary("run", run_lines)
register_summary("activity", activity_lines)


def summary_lines(ds, top: int = 5) -> list[str]:
    """All registered summary sections, in order."""
    out: list[str] = []
    for _, func in SUMMARIES:
        out.extend(func(ds, top))
    return out


def format_summary(ds, top: int = 5) -> str:
    return "\n".join(summary_lines(ds, top))
