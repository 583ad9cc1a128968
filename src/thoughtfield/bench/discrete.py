"""Discrete spreading (spreadr semantics) against SpreadPy, 100 steps.

The same undirected random graph (about 10 edges per concept, unit weights) and the same
start (activation 100 on 1 % of the concepts), retention 0.5, decay 0.1, suppress 0,
every step kept.  SpreadPy's ``BaseSpreading`` spreads uniformly over the neighbours like
spreadr but updates in place, node by node (its result depends on the node order);
thoughtfield's ``solver="spreadr"`` updates synchronously.  Same work per step, so the
times compare; the activations are not expected to be equal.  thoughtfield's time is the
warm ``simulate`` call (the compile or cache load of its first call is reported apart).
When a thoughtfield without the discrete mode is installed the benchmark says so.
"""

from __future__ import annotations

import importlib.util

from ._common import now

STEPS = 100
DEGREE = 10


RETENTION, DECAY, SUPPRESS = 0.5, 0.1, 0.0


def thoughtfield_discrete() -> tuple[bool, str]:
    """Whether this thoughtfield has the discrete (spreadr) mode."""
    from ..solvers import METHODS
    if "spreadr" in METHODS:
        return True, ""
    return False, "the discrete spreading mode is not in this version of thoughtfield"


def _graph(n: int, seed: int = 0):
    import networkx as nx
    import numpy as np
    g = nx.gnm_random_graph(n, n * DEGREE // 2, seed=seed)
    rng = np.random.default_rng(seed)
    start = rng.choice(n, size=max(1, n // 100), replace=False)
    return g, start


def _thoughtfield(n: int, repeats: int = 3, seed: int = 0) -> dict:
    import numpy as np

    from .. import Model, Spreadr, simulate
    from ..network import ConceptNetwork
    g, start = _graph(n, seed)
    e = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    net = ConceptNetwork(layers=("concept",))
    net.add_concepts([f"c{i}" for i in range(n)])
    net.add_relation_arrays(e[:, 0], e[:, 1], 1.0, "association")  # symmetric: both ways
    net.weight_matrix()
    a0 = np.zeros(n)
    a0[start] = 100.0
    model = Model(initial=a0)
    solver = Spreadr(retention=RETENTION, decay=DECAY, suppress=SUPPRESS)

    def go():
        return simulate(net, model, solver=solver, t_end=STEPS, seed=0)

    t0 = now()
    ds = go()
    first = now() - t0
    ts = []
    for _ in range(repeats):
        t0 = now()
        ds = go()
        ts.append(now() - t0)
    act = ds.activation.values
    total0, total1 = float(act[0].sum()), float(act[-1].sum())
    # conservation check: without suppress only decay removes activation
    expect = total0 * (1.0 - DECAY) ** STEPS
    return {"run_s": min(ts), "run_s_all": ts, "first_call_s": first,
            "per_step_s": min(ts) / STEPS, "saved_steps": int(act.shape[0]),
            "total_activation_rel_error": abs(total1 - expect) / expect}


def spreadpy_available() -> tuple[bool, str]:
    if importlib.util.find_spec("SpreadPy") is None:
        return False, "SpreadPy is not installed (pip install spreadpy)"
    return True, ""


def _spreadpy(n: int, seed: int = 0) -> dict:
    from SpreadPy.Models.models import BaseSpreading
    g, start = _graph(n, seed)
    t0 = now()
    model = BaseSpreading(g, retention=RETENTION, decay=DECAY, suppress=SUPPRESS)
    setup = now() - t0
    for node in start:
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
        r["thoughtfield"] = _thoughtfield(n) if ok_tf else {"skipped": why_tf}
        if ok_sp and ok_tf:
            r["speedup_vs_spreadpy"] = r["spreadpy"]["run_s"] / r["thoughtfield"]["run_s"]
        log(f"  discrete N={n}: SpreadPy "
            + (f"{r['spreadpy']['run_s']:.3g} s" if ok_sp else "not available")
            + f" for {STEPS} steps; thoughtfield "
            + (f"{r['thoughtfield']['run_s']:.3g} s" if ok_tf else "not available"))
        rows.append(r)
    return rows
