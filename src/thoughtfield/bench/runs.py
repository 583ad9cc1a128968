"""Whole runs at matched accuracy: thoughtfield against scipy, a numpy RK4 loop and Brian2.

Problem: ``tau da/dt = -a + tanh(gain (W a + bias))`` on a benchmark graph, random
initial state, ``t`` from 0 to ``T_END``; only the final state is kept.

Reference: ``scipy.integrate.solve_ivp(method="DOP853", rtol=1e-10, atol=1e-12)``.

Matched accuracy: every solver walks a ladder of settings from loose to tight (rtol for
adaptive methods, with atol = rtol for all of them; dt for fixed-step RK4) and the first
setting whose final state is within ``TARGET_ERROR`` (max-abs) of the reference is the
one timed.  The check is done in the benchmark at every size and reported.  Brian2 holds
its summed synaptic input fixed within a step (first order in the coupling), so it runs
at a practical dt and its error is reported as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np

from ._common import BIAS, GAIN, T_END, TAU, initial_state, make_graph, now, summary

TARGET_ERROR = 1e-6
RTOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
DTS = (0.5, 0.25, 0.1, 0.05, 0.025, 0.01, 0.005)
#: scipy's LSODA keeps a dense N x N Jacobian work array (DESIGN §3): skipped above this.
LSODA_MAX_N = 20_000
#: Brian2 time step (in units of tau).
BRIAN2_DT = 0.01

PEERS = ("scipy RK45", "scipy DOP853", "scipy LSODA", "numpy RK4 loop", "Brian2 standalone")


class Problem:
    def __init__(self, kind, n):
        self.kind = kind
        self.n = n
        self.graph = make_graph(kind, n)
        self.net = self.graph.network()
        self.W = self.net.weight_matrix()   # the same CSR matrix for every solver
        self.y0 = initial_state(n)

    def f(self, t, y):
        return (-y + np.tanh(GAIN * (self.W @ y + BIAS))) / TAU


# ----------------------------------------------------------------- the solvers
def run_scipy(prob, method, rtol):
    from scipy.integrate import solve_ivp
    r = solve_ivp(prob.f, (0.0, T_END), prob.y0, method=method, rtol=rtol, atol=rtol,
                  t_eval=[T_END])
    if not r.success:
        raise RuntimeError(r.message)
    return r.y[:, -1], {"n_rhs": int(r.nfev)}


def run_numpy_rk4(prob, dt):
    f = prob.f
    n = int(np.ceil(T_END / dt - 1e-9))
    h = T_END / n
    a = prob.y0.copy()
    t = 0.0
    for _ in range(n):
        k1 = f(t, a)
        k2 = f(t + h / 2, a + (h / 2) * k1)
        k3 = f(t + h / 2, a + (h / 2) * k2)
        k4 = f(t + h, a + h * k3)
        a = a + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        t += h
    return a, {"n_rhs": 4 * n}


def run_thoughtfield(prob, method, setting, threads=None):
    from ..model import Model
    from ..saving import SaveAt
    from ..simulate import Simulation
    from ..solvers import Solver
    model = Model(transfer="tanh", gain=GAIN, bias=BIAS, tau=TAU, initial=prob.y0)
    if method in ("dopri5", "dop853"):
        solver = Solver(method, rtol=setting, atol=setting)
    else:
        solver = Solver(method, dt=setting)
    sim = Simulation(prob.net, model, t_end=T_END, solver=solver, saveat=SaveAt(times=[T_END]), seed=0,
                     threads=threads)
    ds = sim.run()
    st = sim.stats()
    return ds.activation.values[-1], {"n_rhs": st["n_rhs"], "kernel_s": sim.wall_time,
                                      "threads": sim.work.ntask > 1 and _threads() or 1}


def _threads() -> int:
    import numba
    return numba.get_num_threads()


def run_threads(prob) -> int | None:
    """The ``threads=`` thoughtfield's runs get: numba's thread count from
    ``PARALLEL_MIN_WORK`` edges on (where ``simulate`` uses threads for runs long enough to
    repay compiling the threaded twins, and a user of a network that large asks for them),
    else the automatic choice (serial).  The twins' compile, once per process, falls in
    the untimed calibrating run of the ladder."""
    from ..simulate import PARALLEL_MIN_WORK
    return _threads() if prob.W.nnz + prob.n >= PARALLEL_MIN_WORK else None


def candidates(prob, include_lsoda=True):
    """``{name: (kind, ladder, run(setting))}``; kind is 'thoughtfield' or 'peer'."""
    th = run_threads(prob)
    c = {
        "thoughtfield dopri5": ("thoughtfield", "rtol", RTOLS,
                                lambda s: run_thoughtfield(prob, "dopri5", s, th)),
        "thoughtfield dop853": ("thoughtfield", "rtol", RTOLS,
                                lambda s: run_thoughtfield(prob, "dop853", s, th)),
        "thoughtfield rk4": ("thoughtfield", "dt", DTS,
                             lambda s: run_thoughtfield(prob, "rk4", s, th)),
        "scipy RK45": ("peer", "rtol", RTOLS, lambda s: run_scipy(prob, "RK45", s)),
        "scipy DOP853": ("peer", "rtol", RTOLS, lambda s: run_scipy(prob, "DOP853", s)),
    }
    if include_lsoda:
        c["scipy LSODA"] = ("peer", "rtol", RTOLS, lambda s: run_scipy(prob, "LSODA", s))
    c["numpy RK4 loop"] = ("peer", "dt", DTS, lambda s: run_numpy_rk4(prob, s))
    return c


# ----------------------------------------------------------------- Brian2
def brian2_python() -> str | None:
    """The interpreter that has Brian2: ``THOUGHTFIELD_BENCH_BRIAN2_PYTHON`` or this one."""
    return os.environ.get("THOUGHTFIELD_BENCH_BRIAN2_PYTHON") or sys.executable


def brian2_available(python: str | None) -> tuple[bool, str]:
    if not python:
        return False, "no interpreter"
    try:
        r = subprocess.run([python, "-c", "import brian2; print(brian2.__version__)"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"{python}: {e}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["import failed"])[-1]
        return False, f"import brian2 failed under {python}: {last}"
    return True, r.stdout.strip()


def run_brian2(prob, python, dt, threads):
    script = os.path.join(os.path.dirname(__file__), "_brian2_script.py")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "problem.npz")
        out = os.path.join(d, "result.npz")
        g = prob.graph
        np.savez(src, n=prob.n, dt=dt, t_end=T_END, tau=TAU, gain=GAIN, bias=BIAS,
                 threads=threads, y0=prob.y0, src=g.src, tgt=g.tgt, w=g.w)
        t0 = now()
        r = subprocess.run([python, script, src, out], capture_output=True, text=True,
                           timeout=3600)
        wall = now() - t0
        if r.returncode != 0:
            raise RuntimeError((r.stderr.strip().splitlines() or ["failed"])[-1])
        o = np.load(out)
        return np.array(o["v"]), {"wall_incl_compile_s": wall, "run_s": float(o["run_s"]),
                                  "version": str(o["version"])}


# ----------------------------------------------------------------- driver
def measure_one(kind, n, repeats=3, brian2=None, log=print, hints=None) -> dict:
    """One size.  ``hints`` maps solver names to the ladder index that passed at a smaller
    size; the ladder then starts one rung looser than that (errors grow with N, so the
    loosest passing setting is not looser than that) -- saves the cheap-but-many loose
    runs at N = 1e6.  Updated in place with this size's passing indices."""
    import numba
    prob = Problem(kind, n)
    from scipy.integrate import solve_ivp
    t0 = now()
    ref = solve_ivp(prob.f, (0.0, T_END), prob.y0, method="DOP853", rtol=1e-10, atol=1e-12,
                    t_eval=[T_END])
    ref_s = now() - t0
    y_ref = ref.y[:, -1]
    out = {"graph": kind, "n": n, "nnz": int(prob.W.nnz), "t_end": T_END,
           "target_error": TARGET_ERROR,
           "reference": {"method": "scipy DOP853", "rtol": 1e-10, "atol": 1e-12,
                         "n_rhs": int(ref.nfev), "wall_s": ref_s},
           "solvers": {}}
    th = run_threads(prob)
    if th is not None:   # the threaded twins, compiled here: outside every timing
        from .._warmup import tiny_network
        from ..simulate import Simulation
        t0 = now()
        Simulation(tiny_network(), t_end=1.0, solver="dop853", seed=0, threads=th).run()
        out["threads"] = th
        out["threaded_compile_s"] = now() - t0
    cands = candidates(prob, include_lsoda=n <= LSODA_MAX_N)
    chosen = {}
    hints = {} if hints is None else hints
    for name, (who, key, ladder, fn) in cands.items():
        tried = []
        first = max(0, hints.get(name, 0) - 1)
        for idx, s in enumerate(ladder):
            if idx < first:
                continue
            t0 = now()
            try:
                y, st = fn(s)
            except Exception as e:  # a solver failure is a result, not a crash
                tried.append({key: s, "error": None, "failed": f"{type(e).__name__}: {e}"})
                continue
            wall = now() - t0
            err = float(np.max(np.abs(y - y_ref)))
            tried.append({key: s, "error": err})
            if err <= TARGET_ERROR:
                chosen[name] = (s, [wall], st, err)
                hints[name] = idx
                break
        entry = {"who": who, "setting": key, "ladder": tried, "ladder_start": ladder[first]}
        if name in chosen:
            s, _, st, err = chosen[name]
            entry.update({"value": s, "error": err, "meets_target": True, **st})
        else:
            entry.update({"value": None, "meets_target": False})
        out["solvers"][name] = entry
    if n > LSODA_MAX_N:
        out["solvers"]["scipy LSODA"] = {
            "who": "peer", "meets_target": False,
            "skipped": f"not run above N = {LSODA_MAX_N}: LSODA allocates a dense N x N "
                       f"Jacobian work array ({8 * n * n / 2**30:.3g} GiB here)"}
    # interleaved repeats of the chosen settings (none above 1e5 concepts: there one run
    # takes seconds to minutes and the calibrating run is the timed one)
    if n > 10**5:
        repeats = 1
    for _ in range(repeats - 1):
        for name, (s, walls, st, err) in chosen.items():
            t0 = now()
            cands[name][3](s)
            walls.append(now() - t0)
    for name, (s, walls, st, err) in chosen.items():
        out["solvers"][name].update(summary(walls))
    # Brian2
    if brian2 is not None:
        python, ok, why = brian2
        if ok:
            threads = numba.get_num_threads() if prob.W.nnz >= 1_000_000 else 1
            try:
                y, st = run_brian2(prob, python, BRIAN2_DT, threads)
                err = float(np.max(np.abs(y - y_ref)))
                out["solvers"]["Brian2 standalone"] = {
                    "who": "peer", "setting": "dt", "value": BRIAN2_DT, "error": err,
                    "meets_target": err <= TARGET_ERROR, "threads": threads,
                    "min_s": st["run_s"], "median_s": st["run_s"], "repeats": 1,
                    "wall_incl_compile_s": st["wall_incl_compile_s"], "version": st["version"],
                    "note": "summed synaptic input held fixed within a step (not true RK4); "
                            "time = Brian2's own run time, compile excluded"}
            except Exception as e:
                out["solvers"]["Brian2 standalone"] = {"who": "peer", "meets_target": False,
                                                       "skipped": f"failed: {e}"}
        else:
            out["solvers"]["Brian2 standalone"] = {"who": "peer", "meets_target": False,
                                                   "skipped": f"not available ({why})"}
    # ratios
    ok = {k: v for k, v in out["solvers"].items() if v.get("meets_target")}
    peers = {k: v["min_s"] for k, v in ok.items() if v["who"] == "peer"}
    mine = {k: v["min_s"] for k, v in ok.items() if v["who"] == "thoughtfield"}
    if peers and mine:
        fp = min(peers, key=peers.get)
        tb = min(mine, key=mine.get)
        out["fastest_peer"] = fp
        out["thoughtfield_best"] = tb
        out["speedup_vs_fastest_peer"] = peers[fp] / mine[tb]
        for k, v in out["solvers"].items():
            if "min_s" in v:
                v["ratio_to_fastest_peer"] = v["min_s"] / peers[fp]
    log(f"  runs {kind} N={n}: " + ", ".join(
        f"{k} {v['min_s']:.3g}s (err {v['error']:.1e})" for k, v in out["solvers"].items()
        if "min_s" in v))
    return out


def measure(sizes, kind="random", repeats=3, brian2_sizes=(), log=print) -> list:
    b2 = None
    if brian2_sizes:
        python = brian2_python()
        ok, why = brian2_available(python)
        b2 = (python, ok, why)
    hints = {}
    return [measure_one(kind, int(n), repeats=repeats,
                        brian2=b2 if int(n) in {int(x) for x in brian2_sizes} else None, log=log,
                        hints=hints)
            for n in sorted(sizes)]
