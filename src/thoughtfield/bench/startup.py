"""JIT start-up: cold compile and cached load of the kernels, each in a fresh process,
(first the right-hand side alone -- ``rhs_s`` -- then the integrators),
and the wall time of ``thoughtfield run simulations/quickstart.toml``.

Cold: a new, empty ``NUMBA_CACHE_DIR``; cached: the same directory again.  The child
process reports the time to import thoughtfield and the time of its first small
``simulate`` call per method (compile or cache load plus a tiny run); a second call
in the same process gives the run cost without any JIT work, which is subtracted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from ._common import now

_CHILD = r"""
import json, time
t0 = time.perf_counter()
import thoughtfield as tf
t1 = time.perf_counter()
from thoughtfield.bench._common import load_rhs_kernel
t = time.perf_counter()
load_rhs_kernel()
rhs_s = time.perf_counter() - t
net = tf.ConceptNetwork({"a": "image", "b": "idea", "c": "idea"}, [("a", "b"), ("b", "c")])
out = {"import_s": t1 - t0, "rhs_s": rhs_s}
for method in ("dopri5", "rk4"):
    t = time.perf_counter()
    tf.simulate(net, tf.Model(transfer="tanh"), [tf.Pulse("a", 0, 1, 1.0)], t_end=2.0,
                solver=method, seed=0)
    first = time.perf_counter() - t
    t = time.perf_counter()
    tf.simulate(net, tf.Model(transfer="tanh"), [tf.Pulse("a", 0, 1, 1.0)], t_end=2.0,
                solver=method, seed=0)
    out[method] = {"first_call_s": first, "warm_call_s": time.perf_counter() - t}
print("RESULT" + json.dumps(out))
"""


def _env(cache_dir):
    import thoughtfield
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache_dir
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(thoughtfield.__file__)))
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _child(cache_dir) -> dict:
    t0 = now()
    r = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       env=_env(cache_dir), timeout=900)
    wall = now() - t0
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip()[-2000:])
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1]
    d = json.loads(line[6:])
    d["process_wall_s"] = wall
    jit = d["rhs_s"]
    for m in ("dopri5", "rk4"):
        d[m]["jit_s"] = max(0.0, d[m]["first_call_s"] - d[m]["warm_call_s"])
        jit += d[m]["jit_s"]
    d["kernels_s"] = jit
    return d


def quickstart_path() -> str | None:
    """``simulations/quickstart.toml`` in the working directory or the source checkout."""
    import thoughtfield
    here = os.path.dirname(os.path.abspath(thoughtfield.__file__))
    for base in (os.getcwd(), os.path.dirname(os.path.dirname(here))):
        p = os.path.join(base, "simulations", "quickstart.toml")
        if os.path.isfile(p):
            return p
    return None


def cli_available() -> tuple[bool, str]:
    import importlib.util
    if importlib.util.find_spec("thoughtfield.cli") is None:
        return False, "the command line (thoughtfield.cli) is not in this version"
    if quickstart_path() is None:
        return False, "simulations/quickstart.toml not found"
    return True, ""


def measure(cold: bool = True, cached_repeats: int = 3, quickstart: bool = True,
            log=print) -> dict:
    out = {}
    with tempfile.TemporaryDirectory(prefix="tf-numba-cache-") as cache:
        if cold:
            out["cold"] = _child(cache)
            log(f"  start-up cold: kernels {out['cold']['kernels_s']:.2f} s, "
                f"process {out['cold']['process_wall_s']:.2f} s")
        else:
            _child(cache)  # fill the cache (not reported: --quick skips the cold figure)
            out["cold"] = {"skipped": "not measured with --quick"}
        runs = [_child(cache) for _ in range(cached_repeats)]
        best = min(runs, key=lambda d: d["kernels_s"])
        out["cached"] = {**best,
                         "kernels_s_all": [r["kernels_s"] for r in runs],
                         "import_s_all": [r["import_s"] for r in runs],
                         "process_wall_s_all": [r["process_wall_s"] for r in runs]}
        out["cached_startup_s"] = min(r["kernels_s"] + r["import_s"] for r in runs)
        log(f"  start-up cached: import {best['import_s']:.2f} s + kernels "
            f"{best['kernels_s']:.2f} s")
        ok, why = cli_available()
        if not quickstart:
            out["quickstart"] = {"skipped": "not measured with --quick (it needs its own cold "
                                            "compile)"}
        elif not ok:
            out["quickstart"] = {"skipped": f"not available: {why}"}
        else:
            # its own cache directory, filled by the first run alone
            with tempfile.TemporaryDirectory() as d, \
                    tempfile.TemporaryDirectory(prefix="tf-numba-cache-") as qcache:
                walls = []
                for k in range(2):
                    res = os.path.join(d, f"q{k}.nc")
                    t0 = now()
                    r = subprocess.run([sys.executable, "-m", "thoughtfield.cli", "run",
                                        quickstart_path(), "--out", res, "--quiet"],
                                       capture_output=True, text=True, env=_env(qcache),
                                       timeout=900)
                    walls.append(now() - t0)
                    if r.returncode != 0:
                        out["quickstart"] = {"skipped": f"failed (exit {r.returncode}): "
                                                        + r.stderr.strip()[-500:]}
                        break
                else:
                    out["quickstart"] = {"wall_s": walls[1], "cold_cache_wall_s": walls[0]}
                    log(f"  quickstart run: {walls[1]:.2f} s (cold cache {walls[0]:.2f} s)")
    return out
