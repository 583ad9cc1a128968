"""Reproduces a crash of cached kernels that depends on the order the cache was filled.

    python benchmarks/prototypes/cache_segfault_repro.py

Three fresh processes share one new, empty NUMBA_CACHE_DIR:

1. builds a Simulation and calls ``_kernels.rhs.rhs`` directly (compiles and caches
   ``rhs`` and the threaded ``_rows_parallel`` it calls);
2. runs ``simulate`` (compiles ``run_adaptive``, loading ``rhs`` from the cache) -- works;
3. runs ``simulate`` again, now loading ``run_adaptive`` from the cache -- on this machine
   (numba 0.68.1, Linux x86-64) the process dies with a segmentation fault.

A process that loads ``rhs`` before ``run_adaptive`` survives.  This matches numba's open
issues on cached functions that call a ``parallel=True`` function (numba#8578) and on
native names differing between the processes that wrote the caches (numba#10128).  The
cure belongs in the kernels: do not link a parfor function into cached callers.

Fixed (2026-11-30): no cached kernel contains or calls parallel code any more; the
threaded right-hand side lives in uncached twins (``thoughtfield/_kernels/threads.py``),
and ``tests/test_kernel_cache.py`` checks the rule on every compiled function of the
package.  This script now prints exit code 0 three times.
"""

import os
import subprocess
import sys
import tempfile

CHILD = r"""
import sys, numpy as np, thoughtfield as tf
from thoughtfield._kernels.rhs import rhs
net = tf.ConceptNetwork({'a': 'image', 'b': 'idea', 'c': 'idea'}, [('a', 'b'), ('b', 'c')])
if sys.argv[1] == "rhs-only":
    sim = tf.Simulation(net, tf.Model(transfer='tanh'), t_end=2.0, seed=0)
    rhs(sim.problem, sim.work, 0.0, sim.state.y, np.empty(3))
    print("rhs compiled and cached")
else:
    print("simulate ->", tf.simulate(net, tf.Model(transfer='tanh'), t_end=2.0, seed=0)
          .activation.values[-1])
"""


def main():
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache,
                   PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
        for step in ("rhs-only", "simulate", "simulate"):
            r = subprocess.run([sys.executable, "-c", CHILD, step], env=env, capture_output=True,
                               text=True)
            print(f"{step:9s} exit code {r.returncode}"
                  + (" (SIGSEGV)" if r.returncode == -11 else "") + ": " + r.stdout.strip())


if __name__ == "__main__":
    main()
