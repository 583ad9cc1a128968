"""Discrete-time spreading activation (spreadr semantics), batched over ensemble members.

One step, synchronous (every concept reads the activations of the previous step)::

    s_i      = coef_i * a_i                    coef_i = (1 - r_i) / D_i  (0 if D_i = 0)
    b_j      = keep_j * a_j + sum_i W[j, i] s_i keep_j = r_j             (1 if D_j = 0)
    a'_j     = (1 - d) * b_j, set to 0 where a'_j < suppress
    a'_j    += injections of the new step (pulses add; clamps set the value)

``W`` is the CSR coupling matrix with rows = targets (``W[j, i]`` the weight of the
influence ``i -> j``) and ``D_i = sum_j W[j, i]`` the weighted out-degree.  Cost O(edges)
per step.  State arrays are flat and member-minor (``a[i * M + m]``); per-concept
parameters have length ``N`` (shared) or ``N * M`` (per member).  Indices are unsigned as
in :mod:`rhs` (no wrap-around code).  A member's result does not depend on the ensemble
size: every member runs the same arithmetic in the same order.
"""

from collections import namedtuple

import numpy as np
from ._numba import njit

from .rhs import member_stride

#: Arrays describing one discrete run (fixed dtypes: one compiled kernel serves every run).
Spread = namedtuple("Spread", [
    "n",           # int: concepts
    "m",           # int: members
    "indptr",      # uint64[N+1]: CSR of W, rows = targets
    "indices",     # uint32[nnz]
    "data",        # float64[nnz] (>= 0)
    "coef",        # float64[N or N*M]: (1 - r) / D, 0 for concepts without out-edges
    "keep",        # float64[N or N*M]: r, 1 for concepts without out-edges
    "dfac",        # float: 1 - decay
    "suppress",    # float
    "threshold",   # float: stop when every activation < threshold (<= 0: never)
    "seg_t",       # float64[K+1]: input segment boundaries (in steps)
    "seg_ptr",     # int64[K+1]
    "ent_idx",     # int64[E]
    "ent_member",  # int64[E]: -1 = all members
    "ent_val",     # float64[E]
    "ent_kind",    # int64[E]: 0 pulse (added every step of the segment), 1 clamp (value set)
])

# indices into the int64 status array ``ist`` (length 5)
J_T, J_STATUS, J_SEG, J_STEPS, J_BAD = 0, 1, 2, 3, 4
# status codes (match thoughtfield._problem: 0 ok, 1 stopped early, 2 non-finite)
ST_OK, ST_THRESHOLD, ST_NONFINITE = 0, 1, 2


@njit(cache=True)
def inject(P, a, t, ist):
    """Add the pulses / set the clamps active at step ``t``; advances the segment pointer."""
    M = P.m
    K = P.seg_t.size - 1
    k = ist[J_SEG]
    while k + 1 < K and P.seg_t[k + 1] <= t:
        k += 1
    ist[J_SEG] = k
    if not (P.seg_t[k] <= t < P.seg_t[k + 1]):
        return
    for e in range(P.seg_ptr[k], P.seg_ptr[k + 1]):
        i = P.ent_idx[e]
        mem = P.ent_member[e]
        lo = 0 if mem < 0 else mem
        hi = M if mem < 0 else mem + 1
        v = P.ent_val[e]
        for m in range(lo, hi):
            if P.ent_kind[e] == 0:
                a[i * M + m] += v
            else:
                a[i * M + m] = v


@njit(cache=True)
def below(P, a):
    """Whether every activation is below the stopping threshold."""
    thr = P.threshold
    for q in range(a.size):
        if not a[q] < thr:
            return False
    return True


@njit(cache=True)
def first_bad(a):
    """Index of the first non-finite entry of ``a``, or -1."""
    for q in range(a.size):
        v = a[q]
        if v - v != 0.0:   # NaN for NaN and +-inf
            return q
    return -1


@njit(cache=True)
def step(P, a, s, anew):
    """One synchronous spreading step ``a -> anew`` (before injections)."""
    N = P.n
    M = P.m
    Mu = np.uint64(M)
    one = np.uint64(1)
    indptr = P.indptr
    indices = P.indices
    data = P.data
    dfac = P.dfac
    sup = P.suppress
    sc, mc = member_stride(P.coef, N)
    sk, mk = member_stride(P.keep, N)
    coef = P.coef
    keep = P.keep
    if M == 1:
        for i in range(np.uint64(N)):
            s[i] = coef[i * sc] * a[i]
        for j in range(np.uint64(N)):
            acc = keep[j * sk] * a[j]
            for e in range(indptr[j], indptr[j + one]):
                acc += data[e] * s[indices[e]]
            v = dfac * acc
            if v < sup:
                v = 0.0
            anew[j] = v
        return
    for i in range(np.uint64(N)):
        ib = i * Mu
        for m in range(Mu):
            s[ib + m] = coef[i * sc + (m & mc)] * a[ib + m]
    for j in range(np.uint64(N)):
        jb = j * Mu
        for m in range(Mu):
            anew[jb + m] = keep[j * sk + (m & mk)] * a[jb + m]
        for e in range(indptr[j], indptr[j + one]):
            w = data[e]
            ib = np.uint64(indices[e]) * Mu
            for m in range(Mu):
                anew[jb + m] += w * s[ib + m]
        for m in range(Mu):
            v = dfac * anew[jb + m]
            if v < sup:
                v = 0.0
            anew[jb + m] = v


@njit(cache=True)
def run(P, a, s, anew, ist, t_stop, save_every, t0, out, tout):
    """Advance from step ``ist[J_T]`` until ``out`` is full, step ``t_stop`` is reached or
    the threshold stops the run (or an activation becomes non-finite: status
    ``ST_NONFINITE``, the concept in ``ist[J_BAD]``, that step is not saved).  Saves the
    state after every step ``t`` with ``(t - t0) % save_every == 0`` and after the last
    step.  Returns the rows written
    (their steps in ``tout``).  ``a`` holds the current state on return."""
    rows = out.shape[0]
    r = 0
    cur = a
    nxt = anew
    odd = False
    t = ist[J_T]
    while r < rows and t < t_stop and ist[J_STATUS] == ST_OK:
        step(P, cur, s, nxt)
        t += 1
        inject(P, nxt, t, ist)
        tmp = cur
        cur = nxt
        nxt = tmp
        odd = not odd
        ist[J_STEPS] += 1
        bad = first_bad(cur)
        if bad >= 0:   # overflow (inputs are finite): stop at the first bad step, unsaved
            ist[J_STATUS] = ST_NONFINITE
            ist[J_BAD] = bad
            break
        last = t >= t_stop
        if P.threshold > 0.0 and below(P, cur):
            ist[J_STATUS] = ST_THRESHOLD
            last = True
        if last or (t - t0) % save_every == 0:
            out[r, :] = cur
            tout[r] = t
            r += 1
    ist[J_T] = t
    if odd:
        a[:] = cur
    return r
