"""Where the cached start-up goes: fresh processes, min over repeats.

    python benchmarks/prototypes/startup_parts.py [--repeats 5]

Each child process imports numpy+numba, then thoughtfield, then calls one tiny cached
function of its own (numba's one-off dispatcher/LLVM initialisation), then the kernels in
the order ``simulate`` needs them -- ``apply_segment`` (when a Simulation is built),
``rhs`` (with the threaded ``_rows_parallel`` linked in), ``run_adaptive`` -- and finally
``run_fixed``.  Every step is a cache load (the cache is warmed first).

Note: ``rhs`` is loaded before ``run_adaptive`` on purpose.  Loading ``run_adaptive`` from
a cache that was filled in a *different* order (``rhs`` compiled and cached by an earlier
process than ``run_adaptive``) crashed with a segmentation fault on this machine (numba
0.68.1); see the analysis.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import time, json
T = {}
t = time.perf_counter()
import numpy as np, numba
T["import numpy+numba"] = time.perf_counter() - t
t = time.perf_counter()
import thoughtfield as tf
T["import thoughtfield (xarray, scipy.sparse, ...)"] = time.perf_counter() - t
t = time.perf_counter()
from tiny_cached import tiny
tiny(1.0)
T["first cached numba function (one-off init)"] = time.perf_counter() - t
net = tf.ConceptNetwork({"a": "image", "b": "idea", "c": "idea"}, [("a", "b"), ("b", "c")])
t = time.perf_counter()
sim = tf.Simulation(net, tf.Model(transfer="tanh"), [tf.Pulse("a", 0, 1, 1.0)], t_end=2.0, seed=0)
T["Simulation() incl. apply_segment load"] = time.perf_counter() - t
from thoughtfield._kernels.rhs import rhs
t = time.perf_counter()
rhs(sim.problem, sim.work, 0.0, sim.state.y, np.empty(3))
T["rhs load (+ _rows_parallel)"] = time.perf_counter() - t
import sys
order = ["adaptive", "fixed"] if sys.argv[1] == "adaptive-first" else ["fixed", "adaptive"]
for which in order:
    t = time.perf_counter()
    if which == "adaptive":
        sim.run()
        T["run_adaptive load + tiny run"] = time.perf_counter() - t
    else:
        tf.simulate(net, tf.Model(transfer="tanh"), t_end=2.0, seed=0, solver="rk4")
        T["run_fixed load + tiny simulate"] = time.perf_counter() - t
t = time.perf_counter()
tf.simulate(net, tf.Model(transfer="tanh"), t_end=2.0, seed=0, solver="rk4")
T["warm tiny simulate (no JIT work)"] = time.perf_counter() - t
print("RESULT" + json.dumps(T))
"""

TINY = """
from numba import njit
@njit(cache=True)
def tiny(x):
    return x + 1.0
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--order", choices=["adaptive-first", "fixed-first"], default="adaptive-first",
                    help="which integrator is loaded first (the first pays numba's "
                         "threading-layer start)")
    a = ap.parse_args()
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "tiny_cached.py"), "w") as f:
            f.write(TINY)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([d, src]),
                   NUMBA_CACHE_DIR=os.path.join(d, "cache"))
        runs = []
        for k in range(a.repeats + 1):
            r = subprocess.run([sys.executable, "-c", CHILD, a.order], env=env, capture_output=True,
                               text=True)
            if r.returncode != 0:
                raise SystemExit(r.stderr[-2000:])
            if k:  # the first run fills the cache
                runs.append(json.loads(r.stdout.split("RESULT")[1]))
    print("|step|min|median|")
    print("|---|---|---|")
    for key in runs[0]:
        v = sorted(x[key] for x in runs)
        print(f"|{key}|{v[0] * 1e3:.0f} ms|{v[len(v) // 2] * 1e3:.0f} ms|")


if __name__ == "__main__":
    main()
