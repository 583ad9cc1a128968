"""Asynchronous single-unit updates (solver method ``"async"``; issue 20).

A sweep updates every concept once, one at a time, each reading the current state (the
values its predecessors in the sweep have just written)::

    a_i <- f(gain_i * (sum_j W_ij a_j + I_i + x_i + bias_i - threshold_i))

``x_i`` are the mechanism terms of :func:`mech.prepare` that depend on the activations
only -- lateral inhibition in pools, static goal bias, low-rank stored ideas -- evaluated
for the one concept from running aggregates (pool sums, pattern overlaps) that every
update keeps current: O(row + pools of i + patterns) per update instead of a whole
right-hand side.  The aggregates are recomputed from the state at the start of every
sweep, so a sweep never depends on where a kernel call began.

Order: ``sequential`` updates concepts ``0, 1, ..., N - 1``; ``random`` draws a fresh
permutation per sweep and member by Fisher-Yates (``for k = N-1 .. 1: j = floor(u *
(k + 1)); swap(k, j)``, ``u`` a double from the member's own xoshiro256** stream, the
noise stream of the continuous solvers), so every member has its own order and its result
does not depend on the ensemble size.  Clamped concepts keep their value; the inputs of a
sweep are those of the segment containing its start.
"""

import numpy as np
from ._numba import njit

from .integrate import (F_T, I_ACC, I_BUDGET, I_NEXT, I_SEG, I_STATUS, I_STEPS, ST_NONFINITE,
                        ST_OK, _fail)
from .layout import F_P_INH, F_XI_DIAG, I_G_IDX, I_G_PTR, I_P_IDX, I_P_PTR, W_OVL, W_PSUM
from .layout import F_G_W
from .rhs import apply_segment, member_stride, store
from .rng import uniform
from .transfer import phi_scalar
from .views import fv, iv, wv


@njit(cache=True)
def _aggregates(P, W, y, m):
    """Pool sums and pattern overlaps of member ``m`` from the state (as prepare sums)."""
    M = P.m
    p_ptr = iv(P.mi, P.mo, I_P_PTR)
    p_idx = iv(P.mi, P.mo, I_P_IDX)
    psum = wv(W.wm, W.wo, W_PSUM)
    for p in range(p_ptr.size - 1):
        s = 0.0
        for k in range(p_ptr[p], p_ptr[p + 1]):
            s += y[p_idx[k] * M + m]
        psum[p * M + m] = s
    xi = P.xi
    NPat = xi.shape[1]
    if NPat > 0:
        ovl = wv(W.wm, W.wo, W_OVL)
        for mu in range(NPat):
            ovl[mu * M + m] = 0.0
        for i in range(P.n):
            ai = y[i * M + m]
            for mu in range(NPat):
                ovl[mu * M + m] += xi[i, mu] * ai


@njit(cache=True)
def _update(P, W, y, i, m, up_ptr, up_pool, g_row):
    """Update concept ``i`` of member ``m``; keeps the aggregates current.  Returns False
    when the new value is not finite."""
    M = P.m
    N = P.n
    q = i * M + m
    # the same terms, in the same order, as prepare() and rhs._rows
    x = W.inp[q]
    p_inh = fv(P.mf, P.mo, F_P_INH)
    psum = wv(W.wm, W.wo, W_PSUM)
    for k in range(up_ptr[i], up_ptr[i + 1]):
        p = up_pool[k]
        x -= p_inh[p] * (psum[p * M + m] - y[q])
    r = g_row[i]
    if r >= 0:
        g_ptr = iv(P.mi, P.mo, I_G_PTR)
        g_idx = iv(P.mi, P.mo, I_G_IDX)
        g_w = fv(P.mf, P.mo, F_G_W)
        s = 0.0
        for k in range(g_ptr[r], g_ptr[r + 1]):
            s += g_w[k] * y[g_idx[k] * M + m]
        x += P.g_gain * s
    xi = P.xi
    NPat = xi.shape[1]
    ovl = wv(W.wm, W.wo, W_OVL)
    if NPat > 0:
        s = 0.0
        for mu in range(NPat):
            s += xi[i, mu] * ovl[mu * M + m]
        x += P.xi_scale * (s - fv(P.mf, P.mo, F_XI_DIAG)[i] * y[q])
    acc = 0.0
    for e in range(P.indptr[i], P.indptr[i + 1]):
        acc += P.data[e] * y[np.int64(P.indices[e]) * M + m]
    sg, mg = member_stride(P.gain, N)
    st, mt = member_stride(P.thr, N)
    sb, mb = member_stride(P.bias, N)
    v = phi_scalar(P.ftype, P.gain[i * sg + (m & mg)] * (
        acc + x + P.bias[i * sb + (m & mb)] - P.thr[i * st + (m & mt)]))
    if not abs(v) < np.inf:
        return False
    d = v - y[q]
    if d != 0.0:
        y[q] = v
        for k in range(up_ptr[i], up_ptr[i + 1]):
            p = up_pool[k]
            psum[p * M + m] += d
        for mu in range(NPat):
            ovl[mu * M + m] += xi[i, mu] * d
    return True


@njit(cache=True)
def _save(P, W, S, save_k, i_lo, i_hi, out):
    k = S.ist[I_STEPS]
    while S.ist[I_NEXT] < i_hi and save_k[S.ist[I_NEXT]] <= k:
        bad = store(P, W, S.y, out[S.ist[I_NEXT] - i_lo])
        if bad >= 0:
            _fail(S, ST_NONFINITE, S.fst[F_T], bad)
            return
        S.ist[I_NEXT] += 1


@njit(cache=True)
def run_async(P, W, S, save_k, seg_k, i_lo, i_hi, out, order, up_ptr, up_pool, g_row, perm,
              t0, dt):
    """Sweeps until the save slots ``[i_lo, i_hi)`` are filled (slot ``i`` holds the state
    after ``save_k[i]`` sweeps), the run fails, or the sweep count reaches
    ``ist[I_BUDGET]`` (when positive).  ``ist[I_STEPS]`` counts the sweeps; the sweep
    ``k`` takes the inputs of segment ``s`` with ``seg_k[s] <= k < seg_k[s + 1]``."""
    N = P.n
    M = P.m
    y = S.y
    nseg = seg_k.size - 1
    budget = S.ist[I_BUDGET]
    _save(P, W, S, save_k, i_lo, i_hi, out)
    while S.ist[I_NEXT] < i_hi and S.ist[I_STATUS] == ST_OK:
        if budget > 0 and S.ist[I_STEPS] >= budget:
            return
        k = S.ist[I_STEPS]
        seg = S.ist[I_SEG]
        while seg + 1 < nseg and seg_k[seg + 1] <= k:
            seg += 1
            S.ist[I_SEG] = seg
            apply_segment(P, W, seg, y)
        for m in range(M):
            _aggregates(P, W, y, m)
            if order == 0:
                for r in range(N):
                    perm[r] = r
                for r in range(N - 1, 0, -1):
                    j = np.int64(uniform(S.rng, m) * (r + 1))
                    tmp = perm[r]
                    perm[r] = perm[j]
                    perm[j] = tmp
            for r in range(N):
                i = perm[r] if order == 0 else r
                if W.clamp[i * M + m]:
                    continue
                if not _update(P, W, y, i, m, up_ptr, up_pool, g_row):
                    S.fst[F_T] = t0 + k * dt
                    _fail(S, ST_NONFINITE, t0 + k * dt, i * M + m)
                    return
        S.ist[I_STEPS] = k + 1
        S.ist[I_ACC] = k + 1
        S.fst[F_T] = t0 + (k + 1) * dt
        _save(P, W, S, save_k, i_lo, i_hi, out)
