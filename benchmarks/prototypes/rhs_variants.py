"""Where one right-hand-side evaluation spends its time, and what would make it faster.

    python benchmarks/prototypes/rhs_variants.py [--sizes 1e4 1e6] [--repeats 7]

Prototype kernels only (nothing here is used by thoughtfield).  For each graph (random,
scale-free) and size, interleaved and repeated (min and median reported):

  full            thoughtfield's RHS kernel as simulate() runs it (serial / threaded)
  spmv_pairs      only the CSR product, written like the kernel (two partial sums, unsigned
                  indices) -> the gather part of the kernel
  transfer        only phi_block (tanh) over N values in blocks of 256 -> the transfer part
  spmv_fast       CSR product as a plain reduction with fastmath (LLVM vectorises it with
                  AVX-512 gathers; summation order differs from the kernel's)
  spmv_f32w       float32 weights, float64 state
  spmv_f32w_f32y  float32 weights and a float32 copy of the state (cost of the copy included)
  spmv_*_par      the same over two threads (prange over row blocks)
  reordered       the product after renumbering the concepts (RCM, degree/hub-first,
                  BFS) -- locality of the gathered state vector

"rest" = full - spmv_pairs - transfer (parameters, derivative, clamp, max |dy|, NaN check).
"""

import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from scipy.sparse.csgraph import breadth_first_order, reverse_cuthill_mckee

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

from thoughtfield._kernels.transfer import TANH, phi_block  # noqa: E402
from thoughtfield.bench._common import (BIAS, GAIN, initial_state, make_graph,  # noqa: E402
                                        rhs_bytes)
from thoughtfield.bench.bandwidth import measure as bandwidth  # noqa: E402
from thoughtfield.bench.rhs import rhs_loop, simulation  # noqa: E402

ONE = np.uint64(1)
TWO = np.uint64(2)


@njit(cache=True)
def spmv_pairs(indptr, indices, data, y, out, k):
    for _ in range(k):
        for i in range(np.uint64(out.size)):
            lo = indptr[i]
            hi = indptr[i + ONE]
            a0 = 0.0
            a1 = 0.0
            j = lo
            while j + TWO <= hi:
                a0 += data[j] * y[indices[j]]
                a1 += data[j + ONE] * y[indices[j + ONE]]
                j += TWO
            if j < hi:
                a0 += data[j] * y[indices[j]]
            out[i] = a0 + a1


@njit(cache=True, fastmath=True)
def spmv_fast(indptr, indices, data, y, out, k):
    for _ in range(k):
        for i in range(np.uint64(out.size)):
            s = 0.0
            for j in range(indptr[i], indptr[i + ONE]):
                s += data[j] * y[indices[j]]
            out[i] = s


@njit(cache=True, fastmath=True, parallel=True)
def spmv_fast_par(indptr, indices, data, y, out, k):
    n = out.size
    nb = 64
    rows = (n + nb - 1) // nb
    for _ in range(k):
        for b in prange(nb):
            r0 = np.uint64(min(n, b * rows))
            r1 = np.uint64(min(n, b * rows + rows))
            for i in range(r0, r1):
                s = 0.0
                for j in range(indptr[i], indptr[i + ONE]):
                    s += data[j] * y[indices[j]]
                out[i] = s


@njit(cache=True, fastmath=True)
def spmv_f32w(indptr, indices, data32, y, out, k):
    for _ in range(k):
        for i in range(np.uint64(out.size)):
            s = 0.0
            for j in range(indptr[i], indptr[i + ONE]):
                s += np.float64(data32[j]) * y[indices[j]]
            out[i] = s


@njit(cache=True, fastmath=True)
def spmv_f32w_f32y(indptr, indices, data32, y, y32, out, k):
    for _ in range(k):
        for q in range(y.size):
            y32[q] = np.float32(y[q])
        for i in range(np.uint64(out.size)):
            s = np.float32(0.0)
            for j in range(indptr[i], indptr[i + ONE]):
                s += data32[j] * y32[indices[j]]
            out[i] = np.float64(s)


@njit(cache=True, fastmath=True, parallel=True)
def spmv_f32w_par(indptr, indices, data32, y, out, k):
    n = out.size
    nb = 64
    rows = (n + nb - 1) // nb
    for _ in range(k):
        for b in prange(nb):
            r0 = np.uint64(min(n, b * rows))
            r1 = np.uint64(min(n, b * rows + rows))
            for i in range(r0, r1):
                s = 0.0
                for j in range(indptr[i], indptr[i + ONE]):
                    s += np.float64(data32[j]) * y[indices[j]]
                out[i] = s


@njit(cache=True)
def transfer_only(x, buf, ebuf, ibuf, fview, k):
    n = x.size
    B = 256
    for _ in range(k):
        for s0 in range(0, n, B):
            s1 = min(s0 + B, n)
            m = s1 - s0
            for q in range(m):
                buf[q] = x[s0 + q]
            phi_block(TANH, buf, (m + 63) // 64 * 64, ebuf, ibuf, fview)


def lowered(W):
    return (W.indptr.astype(np.uint64), W.indices.astype(np.uint32), W.data.astype(np.float64))


def orderings(W):
    """Permutations ``p`` (new -> old) that may improve the locality of the gathers."""
    S = (abs(W) + abs(W).T).tocsr()
    out = {}
    t = time.perf_counter()
    out["rcm"] = (np.asarray(reverse_cuthill_mckee(S, symmetric_mode=True)), time.perf_counter() - t)
    t = time.perf_counter()
    deg = S.getnnz(axis=1)
    out["degree"] = (np.argsort(-deg, kind="stable"), time.perf_counter() - t)
    t = time.perf_counter()
    start = int(np.argmax(deg))
    bfs = breadth_first_order(S, start, directed=False, return_predecessors=False)
    seen = np.zeros(W.shape[0], bool)
    seen[bfs] = True
    out["bfs"] = (np.concatenate([bfs, np.flatnonzero(~seen)]), time.perf_counter() - t)
    return out


def timed(cands, repeats):
    res = {k: [] for k in cands}
    for _ in range(repeats):
        for k, f in cands.items():
            t = time.perf_counter()
            f()
            res[k].append(time.perf_counter() - t)
    return {k: (min(v), float(np.median(v))) for k, v in res.items()}


def bandwidth_of(W):
    """Mean |i - j| of the edges relative to N (0 = perfectly local)."""
    C = W.tocoo()
    return float(np.mean(np.abs(C.row.astype(np.int64) - C.col)) / W.shape[0])


def run(kind, n, repeats, bound):
    g = make_graph(kind, n)
    net = g.network()
    W = net.weight_matrix()
    y = initial_state(n)
    out = np.empty(n)
    ip, ix, d = lowered(W)
    d32 = d.astype(np.float32)
    y32 = np.empty(n, np.float32)
    nb = rhs_bytes(n, W.nnz)
    nb32 = nb - 4 * W.nnz
    sim1 = simulation(net, n, threads=1)
    simT = simulation(net, n, threads=2)
    dy = np.empty(n)
    x = GAIN * (W @ y + BIAS)
    buf = np.empty(256)
    ebuf = np.empty(256)
    ibuf = np.empty(256, np.int64)
    fv = ibuf.view(np.float64)
    # calibrate a batch so a sample is >= ~5 ms
    rhs_loop(sim1.problem, sim1.work, y, dy, 1)
    t = time.perf_counter()
    rhs_loop(sim1.problem, sim1.work, y, dy, 1)
    k = max(1, int(5e-3 / (time.perf_counter() - t)))
    orders = orderings(W)
    perm = {}
    for name, (p, cost) in orders.items():
        Wp = W[p][:, p].tocsr()
        Wp.sort_indices()
        perm[name] = (lowered(Wp), y[p].copy(), cost, bandwidth_of(Wp))
    cands = {
        "full serial": lambda: rhs_loop(sim1.problem, sim1.work, y, dy, k),
        "full threaded": lambda: rhs_loop(simT.problem, simT.work, y, dy, k),
        "spmv_pairs": lambda: spmv_pairs(ip, ix, d, y, out, k),
        "transfer": lambda: transfer_only(x, buf, ebuf, ibuf, fv, k),
        "spmv_fast": lambda: spmv_fast(ip, ix, d, y, out, k),
        "spmv_fast_par": lambda: spmv_fast_par(ip, ix, d, y, out, k),
        "spmv_f32w": lambda: spmv_f32w(ip, ix, d32, y, out, k),
        "spmv_f32w_f32y": lambda: spmv_f32w_f32y(ip, ix, d32, y, y32, out, k),
        "spmv_f32w_par": lambda: spmv_f32w_par(ip, ix, d32, y, out, k),
    }
    for name, ((pip, pix, pd), yp, _, _) in perm.items():
        cands[f"spmv_pairs {name}"] = (lambda a=pip, b=pix, c=pd, v=yp: spmv_pairs(a, b, c, v, out, k))
        cands[f"spmv_fast_par {name}"] = (lambda a=pip, b=pix, c=pd, v=yp: spmv_fast_par(a, b, c, v, out, k))
        cands[f"spmv_f32w_par {name}"] = (lambda a=pip, b=pix, c=pd.astype(np.float32), v=yp:
                                         spmv_f32w_par(a, b, c, v, out, k))
    for f in cands.values():  # compile / warm
        f()
    # accuracy of the float32 variants (relative to the float64 product)
    ref = W @ y
    spmv_f32w(ip, ix, d32, y, out, 1)
    e32w = float(np.max(np.abs(out - ref)))
    spmv_f32w_f32y(ip, ix, d32, y, y32, out, 1)
    e32 = float(np.max(np.abs(out - ref)))
    spmv_fast(ip, ix, d, y, out, 1)
    efast = float(np.max(np.abs(out - ref)))
    res = timed(cands, repeats)
    print(f"\n### {kind}, N = {n:.0e}, nnz = {W.nnz:,}, batch {k}; bound {bound:.1f} GB/s; "
          f"min-bytes {nb / 1e6:.1f} MB (f32 weights {nb32 / 1e6:.1f} MB)")
    print(f"|variant|time (min)|median|GB/s|of bound|")
    print("|---|---|---|---|---|")
    for name, (tmin, tmed) in res.items():
        tmin /= k
        tmed /= k
        b = nb32 if "f32" in name else nb
        if name == "transfer":
            b = 16 * n
        print(f"|{name}|{tmin * 1e3:.4g} ms|{tmed * 1e3:.4g} ms|{b / tmin / 1e9:.2f}|"
              f"{b / tmin / 1e9 / bound * 100:.1f} %|")
    full = res["full serial"][0] / k
    sp_ = res["spmv_pairs"][0] / k
    tr = res["transfer"][0] / k
    print(f"\nprofile (serial, min): spmv {sp_ / full * 100:.0f} %, transfer {tr / full * 100:.0f} %, "
          f"rest {(full - sp_ - tr) / full * 100:.0f} % of {full * 1e3:.4g} ms; transfer "
          f"{tr / n * 1e9:.2f} ns/element, spmv {sp_ / W.nnz * 1e9:.2f} ns/edge")
    print(f"max |error| of the product: fastmath f64 {efast:.1e}, f32 weights {e32w:.1e}, "
          f"f32 weights+state {e32:.1e}  (|W y| max {np.max(np.abs(ref)):.2g})")
    print("orderings: " + ", ".join(f"{k} (cost {v[2]:.2f} s, mean |i-j|/N {v[3]:.3f})"
                                    for k, v in perm.items())
          + f"; original mean |i-j|/N {bandwidth_of(W):.3f}")
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e6])
    ap.add_argument("--kinds", nargs="+", default=["random", "scale_free"])
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    bw = bandwidth(2**25, 5)
    print(f"bandwidth: triad 1t {bw['triad_1t']['best_GBs']:.1f}, 2t {bw['triad_all']['best_GBs']:.1f}, "
          f"copy 1t {bw['copy_1t']['best_GBs']:.1f}, 2t {bw['copy_all']['best_GBs']:.1f} GB/s")
    for n in a.sizes:
        for kind in a.kinds:
            run(kind, int(n), a.repeats, bw["bound_GBs"])


if __name__ == "__main__":
    main()
