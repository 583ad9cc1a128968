"""The benchmark suite: thoughtfield against its peers, side by side, in one run.

    python -m thoughtfield.bench [--quick] [--out DIR] [--only SECTION ...]

Sections (each a module of this package):

``bandwidth``  this machine's memory bandwidth (STREAM-like copy and triad) -- the bound;
``rhs``        one right-hand-side evaluation at N = 1e3..1e6, random and scale-free
               graphs: time, effective GB/s, fraction of the bound;
``runs``       whole runs at matched accuracy (final state within 1e-6 of a DOP853
               reference at rtol 1e-10) against scipy's solve_ivp (RK45, DOP853, LSODA),
               a numpy/scipy.sparse RK4 loop and Brian2 C++ standalone when installed;
``discrete``   discrete spreading against SpreadPy;
``startup``    what a user feels: --help, validate and a warm run against a plain scipy
               script, the cold compile, per-call overhead against solve_ivp, 100 runs;
``ensembles``  per-member cost of a 64-member ensemble against 64 single runs.

Writes ``bench.json`` (machine description, versions, every figure) and ``bench.md``
(the tables) into ``--out``.  Speeds are reported, never asserted; the accuracy checks
of the ``runs`` section are part of the result (``meets_target``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os

from ._common import machine, now

SECTIONS = ("bandwidth", "rhs", "runs", "discrete", "startup", "ensembles", "learning")

#: What each mode measures.
PLANS = {
    "quick": {
        "bandwidth": {"n_elems": 2**24, "repeats": 3},
        "rhs": {"sizes": [1e3, 1e4], "kinds": ["random", "scale_free"], "repeats": 3},
        "runs": {"sizes": [1e3], "repeats": 2, "brian2_sizes": []},
        "discrete": {"sizes": [1e3]},
        "startup": {"cold": False, "repeats": 1, "sizes": [21, 1000]},
        "ensembles": {"sizes": [1e3]},
        "learning": {"sizes": [1e3], "repeats": 3},
    },
    "full": {
        "bandwidth": {"n_elems": 2**25, "repeats": 7},
        "rhs": {"sizes": [1e3, 1e4, 1e5, 1e6], "kinds": ["random", "scale_free"], "repeats": 7},
        "runs": {"sizes": [1e4, 1e6], "repeats": 3, "brian2_sizes": [1e4, 1e6]},
        "discrete": {"sizes": [1e3, 1e4]},
        "startup": {"cold": True, "repeats": 5, "sizes": [21, 1000, 10000]},
        "ensembles": {"sizes": [1e3, 1e5]},
        "learning": {"sizes": [1e4, 1e5], "repeats": 7},
    },
}

#: The performance targets (reported, not asserted).
TARGETS = {
    "rhs_fraction_of_bound_1e6": 0.5,
    # one RHS evaluation of a cache-sized problem no slower than numpy/scipy.sparse's: it
    # flags a kernel that lost its edge to call overhead (2026-12-05: 0.26x at N = 1e4 after
    # a helper's array arguments made numba count references on every row)
    "rhs_speedup_vs_numpy_1e3_1e4": 1.0,
    "runs_speedup_vs_fastest_peer": 5.0,
    "discrete_speedup_vs_spreadpy_1e4": 100.0,
    "quickstart_run_vs_plain_script": 1.0,
    "help_s": 0.3,
    "validate_s": 0.3,
    "cold_quickstart_s": 30.0,
    "kernels_compiled_after_cold_run": 0,
    "simulate_speedup_vs_solve_ivp": 1.5,
    "repeated_runs_speedup": 10.0,
    "ensemble_per_member_ratio": 0.3,
}


def run_suite(quick: bool = False, only=None, log=print, on_section=None) -> dict:
    """Run the suite and return the result dictionary (see :func:`write`).

    ``on_section(res)`` is called after every section with the results so far (to write
    partial results of a long run)."""
    plan = PLANS["quick" if quick else "full"]
    only = list(SECTIONS if not only else only)
    for s in only:
        if s not in SECTIONS:
            from .._validate import did_you_mean
            from ..errors import ConfigError
            raise ConfigError(f"bench: unknown section {s!r}; the sections are "
                              f"{', '.join(SECTIONS)}" + did_you_mean(s, SECTIONS), key='bench')
    t_start = now()
    res = {"suite": "thoughtfield-bench", "schema": 1, "quick": bool(quick),
           "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "plan": {k: plan[k] for k in only}, "sections_s": {}}
    bound = None
    for sec in only:
        log(f"[{sec}]")
        t0 = now()
        p = plan[sec]
        if sec == "bandwidth":
            from . import bandwidth
            res["bandwidth"] = bandwidth.measure(p["n_elems"], p["repeats"])
            bound = res["bandwidth"]["bound_GBs"]
            log(f"  bound (best triad) {bound:.1f} GB/s")
        elif sec == "rhs":
            from . import rhs
            if bound is None:
                from . import bandwidth
                res["bandwidth"] = bandwidth.measure(2**24, 3)
                bound = res["bandwidth"]["bound_GBs"]
            res["rhs"] = rhs.measure(p["sizes"], p["kinds"], bound, repeats=p["repeats"], log=log)
        elif sec == "runs":
            from . import runs
            res["runs"] = runs.measure(p["sizes"], repeats=p["repeats"],
                                       brian2_sizes=p["brian2_sizes"], log=log)
        elif sec == "discrete":
            from . import discrete
            res["discrete"] = discrete.measure(p["sizes"], log=log)
        elif sec == "startup":
            from . import startup
            res["startup"] = startup.measure(cold=p["cold"], repeats=p["repeats"],
                                             sizes=p["sizes"], log=log)
        elif sec == "ensembles":
            from . import ensembles
            res["ensembles"] = ensembles.measure(p["sizes"], log=log)
        elif sec == "learning":
            from . import learning
            res["learning"] = learning.measure(p["sizes"], repeats=p["repeats"], log=log)
        res["sections_s"][sec] = now() - t0
        if on_section is not None:
            res["wall_s"] = now() - t_start
            res["targets"] = targets(res)
            on_section(res)
    res["wall_s"] = now() - t_start
    try:
        res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        res["machine"]["load_average_at_end"] = None
    res["targets"] = targets(res)
    return res


def targets(res: dict) -> list:
    """Every target with the measured value (None where not measured)."""
    out = []

    def _n(n):
        from .report import _n as f
        return f(n)

    def add(name, goal, value, better, where):
        met = None if value is None else (value >= goal if better == "higher" else value <= goal)
        out.append({"target": name, "goal": goal, "measured": value, "met": met, "where": where})

    for r in res.get("rhs", []):
        if r["n"] == 10**6:
            add("rhs_fraction_of_bound_1e6", TARGETS["rhs_fraction_of_bound_1e6"],
                r["fraction_of_bound"], "higher", f"{r['graph']} graph, N = 1e6")
    for r in res.get("rhs", []):
        if r["n"] in (10**3, 10**4):
            add("rhs_speedup_vs_numpy_1e3_1e4", TARGETS["rhs_speedup_vs_numpy_1e3_1e4"],
                r.get("speedup_vs_numpy_scipy"), "higher",
                f"{r['graph']} graph, N = {_n(r['n'])}, one RHS vs numpy/scipy.sparse")
    for r in res.get("runs", []):
        if r["n"] in (10**4, 10**6):
            add("runs_speedup_vs_fastest_peer", TARGETS["runs_speedup_vs_fastest_peer"],
                r.get("speedup_vs_fastest_peer"), "higher",
                f"{r['graph']} graph, N = {_n(r['n'])}, vs {r.get('fastest_peer')}")
    for r in res.get("discrete", []):
        if r["n"] == 10**4:
            add("discrete_speedup_vs_spreadpy_1e4", TARGETS["discrete_speedup_vs_spreadpy_1e4"],
                r.get("speedup_vs_spreadpy"), "higher", "N = 1e4, 100 steps")
    st = res.get("startup", {})
    c = st.get("commands", {})
    if "run_quickstart" in c:
        add("quickstart_run_vs_plain_script", TARGETS["quickstart_run_vs_plain_script"],
            c["run_vs_plain_script"], "lower",
            "warm `thoughtfield run simulations/quickstart.toml --quiet` / a plain scipy script "
            "of the same size, whole processes")
        add("help_s", TARGETS["help_s"], c["help"]["median_s"], "lower", "`thoughtfield --help`")
        add("validate_s", TARGETS["validate_s"], c["validate"]["median_s"], "lower",
            "`thoughtfield validate simulations/quickstart.toml`")
    cold = st.get("cold", {})
    if "quickstart_cold_s" in cold:
        add("cold_quickstart_s", TARGETS["cold_quickstart_s"], cold["quickstart_cold_s"], "lower",
            "empty kernel cache, `thoughtfield run simulations/quickstart.toml`")
        add("kernels_compiled_after_cold_run", TARGETS["kernels_compiled_after_cold_run"],
            cold["kernels_compiled_after_cold_run"], "lower",
            "every other shipped config after that cold run")
    for r in st.get("calls", []):
        add("simulate_speedup_vs_solve_ivp", TARGETS["simulate_speedup_vs_solve_ivp"],
            r["speedup_vs_scipy"], "higher", f"N = {_n(r['n'])}, matched accuracy")
    if "repeated" in st:
        add("repeated_runs_speedup", TARGETS["repeated_runs_speedup"], st["repeated"]["speedup"],
            "higher", "100-member ensemble of 20 concepts vs 100 solve_ivp calls")
    for r in res.get("ensembles", []):
        add("ensemble_per_member_ratio", TARGETS["ensemble_per_member_ratio"],
            r["per_member_ratio"], "lower", f"N = {_n(r['n'])}, M = {r['members']}")
    return out


def write(res: dict, out_dir: str, stem: str = "bench") -> tuple[str, str]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir`` (created if needed)."""
    from .report import markdown
    os.makedirs(out_dir, exist_ok=True)
    pj = os.path.join(out_dir, f"{stem}.json")
    pm = os.path.join(out_dir, f"{stem}.md")
    for path, text in ((pj, json.dumps(res, indent=1, default=_jsonable) + "\n"),
                       (pm, markdown(res))):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return pj, pm


def _jsonable(x):
    import numpy as np
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(
        prog="python -m thoughtfield.bench",
        description="Benchmark thoughtfield against its peers (scipy, numpy, Brian2, SpreadPy) "
                    "on this machine, in one run, and report ratios and fractions of the "
                    "measured memory bandwidth.",
        epilog="examples:\n  python -m thoughtfield.bench --quick --out bench-results\n"
               "  python -m thoughtfield.bench --only bandwidth rhs\n\n"
               "Brian2 may live in another interpreter: set THOUGHTFIELD_BENCH_BRIAN2_PYTHON.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes only (under two minutes; used by the test suite)")
    ap.add_argument("--out", default="bench-results", metavar="DIR",
                    help="directory for bench.json and bench.md (default: bench-results)")
    ap.add_argument("--only", nargs="+", metavar="SECTION", choices=SECTIONS,
                    help=f"run only these sections ({', '.join(SECTIONS)})")
    a = ap.parse_args(argv)
    res = run_suite(quick=a.quick, only=a.only, on_section=lambda r: write(r, a.out))
    pj, pm = write(res, a.out)
    from .report import markdown
    print(markdown(res))
    print(f"wrote {pj} and {pm} ({res['wall_s']:.0f} s)")
    return 0
