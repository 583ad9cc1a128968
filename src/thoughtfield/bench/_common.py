"""Shared pieces of the benchmark suite: machine description, timing, test problems.

Timing protocol (the machine may be shared and noisy): the candidates of one comparison
are run *interleaved* -- one repeat of every candidate, then the next repeat -- and the
minimum and the median over the repeats are reported.  The minimum is the best estimate
of what the code costs; the median shows how much the machine's load disturbed it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

#: The reference problem: tau da/dt = -a + tanh(GAIN * (W a + BIAS)), T_END = 10 tau.
GAIN = 0.9
BIAS = 0.1
TAU = 1.0
T_END = 10.0
#: Mean number of in-edges per concept.
DEGREE = 10


def now() -> float:
    return time.perf_counter()


def summary(times) -> dict:
    """``{"min_s", "median_s", "repeats"}`` of a list of durations."""
    ts = [float(t) for t in times]
    return {"min_s": min(ts), "median_s": statistics.median(ts), "repeats": len(ts)}


def batch_size(call, target_s: float = 5e-3) -> int:
    """How many repetitions of ``call(k)`` make one timing sample of about ``target_s``
    (from the best of three single calls)."""
    t = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        call(1)
        t = min(t, time.perf_counter() - t0)
    return max(1, int(target_s / max(t, 1e-7)))


def interleaved(cands: dict, repeats: int, budget_s: float | None = None) -> dict:
    """Time every callable of ``cands`` ``repeats`` times, interleaved.

    Returns ``{name: summary}``.  With ``budget_s`` the repeats stop early (after at least
    one full round) once the total time exceeds the budget.
    """
    out = {k: [] for k in cands}
    t_start = now()
    for r in range(repeats):
        for k, f in cands.items():
            t = now()
            f()
            out[k].append(now() - t)
        if budget_s is not None and now() - t_start > budget_s:
            break
    return {k: summary(v) for k, v in out.items()}


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def machine() -> dict:
    """CPU model, cores, memory, OS, caches and library versions."""
    import numba
    import scipy

    cpu = platform.processor() or platform.machine()
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = None
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * 1024
    caches = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    if os.path.isdir(base):
        for d in sorted(os.listdir(base)):
            lvl = _read(f"{base}/{d}/level").strip()
            typ = _read(f"{base}/{d}/type").strip()
            size = _read(f"{base}/{d}/size").strip()
            if lvl and size and typ != "Instruction":
                caches[f"L{lvl}"] = size
    flags = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            flags = line
            break
    simd = [f for f in ("avx512f", "avx2", "fma") if f" {f}" in flags]
    hyper = "hypervisor" in flags
    from .. import __version__

    load = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "memory_bytes": mem,
        "caches": caches,
        "simd": simd,
        "virtualised": hyper,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "thoughtfield": __version__,
        "load_average_at_start": load,
        "executable": sys.executable,
    }


# ---------------------------------------------------------------- test problems
@dataclass
class Graph:
    """A benchmark graph: edges ``src -> tgt`` with weights, and its CSR matrix W
    (rows = targets), as thoughtfield lowers it."""
    kind: str
    n: int
    src: np.ndarray
    tgt: np.ndarray
    w: np.ndarray
    seed: int

    def network(self):
        """The :class:`~thoughtfield.ConceptNetwork` (bulk construction, no loop per
        relation)."""
        from ..network import ConceptNetwork
        net = ConceptNetwork(layers=("concept",))
        net.add_concepts([f"c{i}" for i in range(self.n)])
        net.add_relation_arrays(self.src, self.tgt, self.w, "link")
        return net

    def csr(self):
        import scipy.sparse as sp
        W = sp.coo_matrix((self.w, (self.tgt, self.src)), shape=(self.n, self.n)).tocsr()
        W.sum_duplicates()
        W.eliminate_zeros()
        W.sort_indices()
        return W


def random_graph(n: int, k: int = DEGREE, seed: int = 0) -> Graph:
    """Every concept gets ``k`` in-edges from uniformly random sources (no self-loops);
    weights N(0, 1/k), so the spectral radius of W is about 1."""
    rng = np.random.default_rng(seed)
    tgt = np.repeat(np.arange(n, dtype=np.int64), k)
    src = rng.integers(0, n - 1, size=n * k)
    src = src + (src >= tgt)  # skip the diagonal
    w = rng.normal(0.0, 1.0 / np.sqrt(k), size=n * k)
    return Graph("random", n, src, tgt, w, seed)


def scale_free_graph(n: int, k: int = DEGREE, seed: int = 0, gamma: float = 2.5) -> Graph:
    """Chung-Lu graph with power-law in- and out-degrees (exponent ``gamma``), mean degree
    about ``k``; hubs sit at random positions (node order carries no locality).  Weights
    N(0, 1/in-degree of the target)."""
    rng = np.random.default_rng(seed)
    p = (np.arange(1, n + 1, dtype=np.float64)) ** (-1.0 / (gamma - 1.0))
    p /= p.sum()
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    m = n * k
    src = np.searchsorted(cdf, rng.random(m), side="right")
    tgt = np.searchsorted(cdf, rng.random(m), side="right")
    src = rng.permutation(n)[src]
    tgt = rng.permutation(n)[tgt]
    keep = src != tgt
    src, tgt = src[keep].astype(np.int64), tgt[keep].astype(np.int64)
    indeg = np.bincount(tgt, minlength=n)
    w = rng.normal(0.0, 1.0, size=src.size) / np.sqrt(np.maximum(indeg[tgt], 1))
    return Graph("scale_free", n, src, tgt, w, seed)


def make_graph(kind: str, n: int, seed: int = 0) -> Graph:
    if kind == "random":
        return random_graph(n, seed=seed)
    if kind == "scale_free":
        return scale_free_graph(n, seed=seed)
    raise ValueError(f"graph kind: expected 'random' or 'scale_free' (got {kind!r})")


def initial_state(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, n)


def rhs_bytes(n: int, nnz: int) -> int:
    """Bytes one right-hand-side evaluation must move at least: the CSR matrix (float64
    data, uint32 indices, uint64 row pointers), the gathered state vector read once, and
    the derivative written once."""
    return nnz * (8 + 4) + (n + 1) * 8 + n * 8 + n * 8


def fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def load_rhs_kernel() -> None:
    """Load (or compile) the right-hand-side kernel alone, by one call on a tiny network
    (the start-up benchmark times it separately from the integrators)."""
    from .._kernels.rhs import rhs
    from ..model import Model
    from ..network import ConceptNetwork
    from ..simulate import Simulation
    net = ConceptNetwork({"a": "image", "b": "image"}, [("a", "b")])
    sim = Simulation(net, Model(), t_end=1.0, seed=0)
    rhs(sim.problem, sim.work, 0.0, sim.state.y, np.empty(2))
