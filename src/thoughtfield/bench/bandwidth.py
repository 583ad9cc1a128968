"""The bound: this machine's memory bandwidth, STREAM-like copy and triad in numba.

Counting as STREAM does: copy ``a = b`` moves 16 bytes per element, triad
``a = b + s * c`` 24 bytes (write-allocate traffic not counted).  Each array is several
times larger than the last-level cache.  One thread and all of numba's threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import interleaved


@njit(cache=True)
def copy1(a, b):
    for i in range(a.size):
        a[i] = b[i]


@njit(cache=True)
def triad1(a, b, c, s):
    for i in range(a.size):
        a[i] = b[i] + s * c[i]


@njit(cache=True, parallel=True)
def copy_par(a, b):
    for i in prange(a.size):
        a[i] = b[i]


@njit(cache=True, parallel=True)
def triad_par(a, b, c, s):
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


@njit(cache=True, parallel=True)
def _fill(a, v):
    for i in prange(a.size):
        a[i] = v


def measure(n_elems: int = 2**25, repeats: int = 7) -> dict:
    """Copy and triad bandwidth (GB/s, 1e9 bytes) with one thread and with all threads."""
    import numba
    a = np.empty(n_elems)
    b = np.empty(n_elems)
    c = np.empty(n_elems)
    for x, v in ((a, 0.0), (b, 1.0), (c, 2.0)):
        _fill(x, v)  # touch the pages (first-touch allocation is not bandwidth)
    copy1(a, b)
    triad1(a, b, c, 3.0)
    copy_par(a, b)
    triad_par(a, b, c, 3.0)
    t = interleaved({
        "copy_1t": lambda: copy1(a, b),
        "triad_1t": lambda: triad1(a, b, c, 3.0),
        "copy_all": lambda: copy_par(a, b),
        "triad_all": lambda: triad_par(a, b, c, 3.0),
    }, repeats)
    per = {"copy_1t": 16, "triad_1t": 24, "copy_all": 16, "triad_all": 24}
    out = {"array_bytes": 8 * n_elems, "threads_all": numba.get_num_threads()}
    for k, s in t.items():
        nbytes = per[k] * n_elems
        out[k] = {**s, "best_GBs": nbytes / s["min_s"] / 1e9,
                  "median_GBs": nbytes / s["median_s"] / 1e9}
    out["bound_GBs"] = max(out[k]["best_GBs"] for k in ("triad_1t", "triad_all"))
    return out
