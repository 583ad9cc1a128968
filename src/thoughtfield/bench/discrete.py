"""Discrete spreading (spreadr semantics) against SpreadPy, 100 steps.

thoughtfield's discrete mode is developed separately; until it is part of the installed
version this benchmark says so ("not available") and reports SpreadPy's own time only.
"""

from __future__ import annotations

import importlib.util

from ._common import now

STEPS = 100
DEGREE = 10


def thoughtfield_discrete() -> tuple[bool, str]:
    """Whether this thoughtfield has a discrete (spreadr) mode the benchmark can drive."""
    from ..solvers import METHODS
    for name in ("discrete", "spreadr"):
        if name in METHODS:
            return False, (f"method {name!r} exists but this benchmark does not drive it yet; "
                           "wire it in thoughtfield/bench/discrete.py")
    return False, "the discrete spreading mode is not in this version of thoughtfield"


def spreadpy_available() -> tuple[bool, str]:
    if importlib.util.find_spec("SpreadPy") is None:
        return False, "SpreadPy is not installed (pip install spreadpy)"
    return True, ""


def _spreadpy(n: int, seed: int = 0) -> dict:
    import networkx as nx
    import numpy as np
    from SpreadPy.Models.models import BaseSpreading
    g = nx.gnm_random_graph(n, n * DEGREE // 2, seed=seed)
    t0 = now()
    model = BaseSpreading(g, retention=0.5, decay=0.1, suppress=0.0)
    setup = now() - t0
    rng = np.random.default_rng(seed)
    for node in rng.choice(n, size=max(1, n // 100), replace=False):
        model.status[int(node)] = 100.0
    t0 = now()
    for _ in range(STEPS):
        model.iteration()
    run = now() - t0
    return {"setup_s": setup, "run_s": run, "per_step_s": run / STEPS}


def measure(sizes, log=print) -> list:
    ok_tf, why_tf = thoughtfield_discrete()
    ok_sp, why_sp = spreadpy_available()
    rows = []
    for n in sizes:
        n = int(n)
        r = {"n": n, "edges_per_concept": DEGREE, "steps": STEPS}
        r["spreadpy"] = _spreadpy(n) if ok_sp else {"skipped": why_sp}
        r["thoughtfield"] = {"skipped": why_tf} if not ok_tf else {}
        if ok_sp:
            log(f"  discrete N={n}: SpreadPy {r['spreadpy']['run_s']:.3g} s for {STEPS} steps; "
                f"thoughtfield: {'not available' if not ok_tf else ''}")
        rows.append(r)
    return rows
