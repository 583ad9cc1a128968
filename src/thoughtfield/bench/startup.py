"""What a user feels: start-up, compile and per-call overhead, as whole processes and as
calls, side by side with what the user would write instead.

* ``commands``: ``thoughtfield --help``, ``validate`` and a warm ``run`` of the
  quickstart, each a new process (median of the repeats), against an equivalent plain
  scipy script (a 21-node ``scipy.sparse`` network, ``solve_ivp`` over the same span,
  an ``.npy`` written) -- the ratio is the felt speed.
* ``cold`` (full mode): an empty kernel cache (its own ``NUMBA_CACHE_DIR``), then
  ``thoughtfield run simulations/quickstart.toml``; after that one cold run, every other
  shipped config in a new process, with the number of kernels it compiled (numba's
  compile events) and its wall time.
* ``calls``: one ``simulate()`` call at matched accuracy (the ``runs`` section's ladder:
  the loosest tolerance whose final state is within 1e-6 of DOP853 at rtol 1e-10) at
  N = 21, 1e3 (1e4 in full mode) against ``solve_ivp(DOP853)``; the compiled peers CyRK
  and diffrax are reported as not installed when they are not.
* ``repeated``: 100 runs of a 20-concept model (different initial states) as one
  100-member ensemble against 100 separate ``solve_ivp`` calls.

The warm figures use this installation's kernel cache (``thoughtfield compile`` fills
it); only ``cold`` uses an empty one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

from ._common import now

#: The plain script a user would write instead of ``thoughtfield run`` for the quickstart:
#: the same size (21 concepts), span (0..40), saves (401 points) and an output file.
PLAIN_SCRIPT = r"""
import numpy as np, scipy.sparse as sp
from scipy.integrate import solve_ivp
rng = np.random.default_rng(0); N = 21
W = sp.random(N, N, density=0.1, random_state=rng, format="csr")
def f(t, a): return -a + 1 / (1 + np.exp(-6 * (W @ a + (t < 6) * 1.5 * (np.arange(N) == 0) - 0.6)))
r = solve_ivp(f, (0, 40), np.zeros(N), t_eval=np.linspace(0, 40, 401))
np.save("plain.npy", r.y)
"""

_COUNT_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from thoughtfield._warmup import CompileWatch
from thoughtfield.cli import main
with CompileWatch() as w:
    code = main(["run", sys.argv[1], "--out", sys.argv[2], "--force", "--quiet"])
print("RESULT" + json.dumps({"code": code, "compiled": len(set(w.compiled)),
                             "numba_events": w.all_events, "wall_s": time.perf_counter() - t0}))
"""


def _env(cache_dir=None):
    import thoughtfield
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(thoughtfield.__file__)))
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def simulations_dir() -> str | None:
    """``simulations/`` in the working directory or the source checkout."""
    import thoughtfield
    here = os.path.dirname(os.path.abspath(thoughtfield.__file__))
    for base in (os.getcwd(), os.path.dirname(os.path.dirname(here))):
        p = os.path.join(base, "simulations")
        if os.path.isfile(os.path.join(p, "quickstart.toml")):
            return p
    return None


def quickstart_path() -> str | None:
    d = simulations_dir()
    return None if d is None else os.path.join(d, "quickstart.toml")


def cli_available() -> tuple[bool, str]:
    import importlib.util
    if importlib.util.find_spec("thoughtfield.cli") is None:
        return False, "the command line (thoughtfield.cli) is not in this version"
    if quickstart_path() is None:
        return False, "simulations/quickstart.toml not found"
    return True, ""


def _process(argv, cwd, env, timeout=900) -> float:
    t0 = now()
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = now() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}...: exit {r.returncode}: {r.stderr.strip()[-800:]}")
    return wall


def _tf(*args):
    return [sys.executable, "-m", "thoughtfield.cli", *args]


def measure_commands(repeats: int = 3) -> dict:
    """Whole processes, warm cache: medians of ``repeats`` (interleaved)."""
    q = quickstart_path()
    env = _env()
    cmds = {
        "help": _tf("--help"),
        "validate": _tf("validate", q),
        "run_quickstart": _tf("run", q, "--out", "q.nc", "--force", "--quiet"),
        "plain_scipy_script": [sys.executable, "plain.py"],
        "import_numpy_scipy": [sys.executable, "-c", "import numpy, scipy.sparse, scipy.integrate"],
    }
    times = {k: [] for k in cmds}
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "plain.py"), "w") as f:
            f.write(PLAIN_SCRIPT)
        _process(cmds["run_quickstart"], d, env)   # loads (or compiles) the kernels first
        for _ in range(repeats):
            for k, argv in cmds.items():
                times[k].append(_process(argv, d, env))
    out = {k: {"median_s": statistics.median(v), "all_s": v} for k, v in times.items()}
    out["run_vs_plain_script"] = (out["run_quickstart"]["median_s"]
                                  / out["plain_scipy_script"]["median_s"])
    return out


def measure_cold() -> dict:
    """An empty cache, then the quickstart, then every other shipped config."""
    sims = simulations_dir()
    out = {"configs": []}
    with tempfile.TemporaryDirectory(prefix="tf-numba-cache-") as cache, \
            tempfile.TemporaryDirectory() as d:
        env = _env(cache)
        out["quickstart_cold_s"] = _process(_tf("run", quickstart_path(), "--out", "q.nc",
                                                "--quiet"), d, env)
        for name in sorted(os.listdir(sims)):
            if not name.endswith(".toml") or name == "quickstart.toml":
                continue
            r = subprocess.run([sys.executable, "-c", _COUNT_CHILD, os.path.join(sims, name),
                                os.path.join(d, "r.nc")], cwd=d, env=env, capture_output=True,
                               text=True, timeout=900)
            lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT")]
            if not lines:
                out["configs"].append({"config": name, "error": r.stderr.strip()[-300:]})
                continue
            res = json.loads(lines[-1][6:])
            res["config"] = name
            out["configs"].append(res)
    ok = [c for c in out["configs"] if "compiled" in c]
    out["kernels_compiled_after_cold_run"] = sum(c["compiled"] for c in ok)
    return out


def _matched(n: int, repeats: int) -> dict:
    """One ``simulate()`` call (whole: validation, lowering, integration, Dataset) against
    ``solve_ivp(DOP853)``, each at its loosest tolerance within 1e-6 of the reference."""
    from . import runs
    from ._common import interleaved
    prob = runs.Problem("random", n)
    from scipy.integrate import solve_ivp
    ref = solve_ivp(prob.f, (0.0, runs.T_END), prob.y0, method="DOP853", rtol=1e-10,
                    atol=1e-12, t_eval=[runs.T_END]).y[:, -1]

    def loosest(fn):
        for s in runs.RTOLS:
            y, _ = fn(s)
            err = float(np.max(np.abs(y - ref)))
            if err <= runs.TARGET_ERROR:
                return s, err
        return None, None

    tf_rtol, tf_err = loosest(lambda s: runs.run_thoughtfield(prob, "dop853", s))
    sp_rtol, sp_err = loosest(lambda s: runs.run_scipy(prob, "DOP853", s))
    # one call takes about a millisecond: at least 30 interleaved repeats even with --quick
    t = interleaved({"thoughtfield": lambda: runs.run_thoughtfield(prob, "dop853", tf_rtol),
                     "scipy": lambda: runs.run_scipy(prob, "DOP853", sp_rtol)}, max(repeats, 30),
                    budget_s=20.0)
    return {"n": n, "thoughtfield_dop853": {"rtol": tf_rtol, "error": tf_err, **t["thoughtfield"]},
            "scipy_DOP853": {"rtol": sp_rtol, "error": sp_err, **t["scipy"]},
            "speedup_vs_scipy": t["scipy"]["median_s"] / t["thoughtfield"]["median_s"]}


def compiled_peers() -> dict:
    """CyRK and diffrax: reported (not measured) when missing."""
    import importlib.util
    out = {}
    for name, mod in (("CyRK", "CyRK"), ("diffrax", "diffrax")):
        out[name] = ("installed (not yet measured here)" if importlib.util.find_spec(mod)
                     else "not installed")
    return out


def measure_repeated(runs_: int = 100, n: int = 20, repeats: int = 3) -> dict:
    """``runs_`` runs of an ``n``-concept model from different initial states: one ensemble
    of ``runs_`` members against ``runs_`` separate ``solve_ivp`` calls (both DOP853,
    rtol 1e-6, the same 101 save times)."""
    from scipy.integrate import solve_ivp
    from ..model import Model
    from ..saving import SaveAt
    from ..simulate import simulate
    from ._common import BIAS, GAIN, TAU, interleaved, make_graph
    net = make_graph("random", n).network()
    W = net.weight_matrix()
    a0 = np.random.default_rng(5).uniform(-0.5, 0.5, (runs_, n))
    ts = np.linspace(0.0, 10.0, 101)

    def f(t, y):
        return (-y + np.tanh(GAIN * (W @ y + BIAS))) / TAU

    def ensemble():
        return simulate(net, Model(transfer="tanh", gain=GAIN, bias=BIAS, tau=TAU), t_end=10.0,
                        solver={"method": "dop853", "rtol": 1e-6, "atol": 1e-6},
                        saveat=SaveAt(times=ts), members=runs_, initial=a0, seed=0)

    def separate():
        return [solve_ivp(f, (0.0, 10.0), a0[k], method="DOP853", rtol=1e-6, atol=1e-6,
                          t_eval=ts).y for k in range(runs_)]

    ds = ensemble()
    ys = separate()
    diff = max(float(np.max(np.abs(ds.activation.values[k].T - ys[k]))) for k in range(runs_))
    t = interleaved({"ensemble": ensemble, "separate": separate}, repeats, budget_s=30.0)
    return {"runs": runs_, "n": n, "ensemble": t["ensemble"], "separate_solve_ivp": t["separate"],
            "speedup": t["separate"]["median_s"] / t["ensemble"]["median_s"],
            "max_abs_diff": diff}


def measure(cold: bool = True, repeats: int = 3, sizes=(21, 1000, 10000), log=print) -> dict:
    out = {}
    ok, why = cli_available()
    if ok:
        out["commands"] = measure_commands(repeats)
        c = out["commands"]
        log(f"  start-up: --help {c['help']['median_s']:.2f} s, validate "
            f"{c['validate']['median_s']:.2f} s, warm quickstart run "
            f"{c['run_quickstart']['median_s']:.2f} s vs plain scipy script "
            f"{c['plain_scipy_script']['median_s']:.2f} s")
        if cold:
            out["cold"] = measure_cold()
            log(f"  start-up cold: quickstart {out['cold']['quickstart_cold_s']:.1f} s, then "
                f"{out['cold']['kernels_compiled_after_cold_run']} kernels compiled by the "
                "other configs")
        else:
            out["cold"] = {"skipped": "not measured with --quick"}
    else:
        out["commands"] = {"skipped": f"not available: {why}"}
        out["cold"] = {"skipped": f"not available: {why}"}
    out["calls"] = [_matched(int(n), repeats) for n in sizes]
    for r in out["calls"]:
        log(f"  simulate() N = {r['n']}: {r['thoughtfield_dop853']['median_s'] * 1e3:.2f} ms vs "
            f"solve_ivp {r['scipy_DOP853']['median_s'] * 1e3:.2f} ms")
    out["compiled_peers"] = compiled_peers()
    out["repeated"] = measure_repeated(repeats=repeats)
    log(f"  100 runs of 20 concepts: ensemble {out['repeated']['ensemble']['median_s']:.3f} s vs "
        f"100 solve_ivp {out['repeated']['separate_solve_ivp']['median_s']:.3f} s")
    return out
