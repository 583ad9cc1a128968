"""Instruction counts (valgrind --tool=callgrind) of the RHS parts at N = 1e4: stable on a
noisy machine, unlike times.  Run:

    valgrind --tool=callgrind --callgrind-out-file=cg.out python benchmarks/prototypes/callgrind_rhs.py
    callgrind_annotate cg.out | grep -E 'spmv|transfer_only|rhs_loop|_rows|phi_block|_exp_parts'

Each part runs REPS times on a random graph (N = 1e4, about 1e5 edges); divide the
self/inclusive counts by REPS (and by the edges or concepts) for per-edge costs.
Compile the kernels first (run rhs_variants.py once) so valgrind only loads caches.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))

from rhs_variants import (lowered, spmv_f32w, spmv_f32w_f32y, spmv_fast, spmv_pairs,  # noqa: E402
                          transfer_only)

from thoughtfield.bench._common import BIAS, GAIN, initial_state, make_graph  # noqa: E402
from thoughtfield.bench.rhs import rhs_loop, simulation  # noqa: E402

REPS = 100
kind = sys.argv[1] if len(sys.argv) > 1 else "random"
n = 10**4
net = make_graph(kind, n).network()
W = net.weight_matrix()
y = initial_state(n)
ip, ix, d = lowered(W)
out = np.empty(n)
sim = simulation(net, n, threads=1)
dy = np.empty(n)
x = GAIN * (W @ y + BIAS)
buf, ebuf = np.empty(256), np.empty(256)
ibuf = np.empty(256, np.int64)
rhs_loop(sim.problem, sim.work, y, dy, REPS)
spmv_pairs(ip, ix, d, y, out, REPS)
spmv_fast(ip, ix, d, y, out, REPS)
spmv_f32w(ip, ix, d.astype(np.float32), y, out, REPS)
spmv_f32w_f32y(ip, ix, d.astype(np.float32), y, np.empty(n, np.float32), out, REPS)
transfer_only(x, buf, ebuf, ibuf, ibuf.view(np.float64), REPS)
print("nnz", W.nnz, "n", n, "reps", REPS)
