"""The right-hand side of the reference model on flat member-minor arrays."""

import numpy as np
from numba import njit

from .transfer import phi_block

_INF = np.inf


@njit(cache=True)
def apply_segment(P, W, k, y):
    """Load the inputs of segment ``k`` into the workspace and set clamped states."""
    M = P.m
    W.inp[:] = 0.0
    W.clamp[:] = 0
    for e in range(P.seg_ptr[k], P.seg_ptr[k + 1]):
        i = P.ent_idx[e]
        mem = P.ent_member[e]
        lo = 0 if mem < 0 else mem
        hi = M if mem < 0 else mem + 1
        v = P.ent_val[e]
        for m in range(lo, hi):
            q = i * M + m
            if P.ent_kind[e] == 0:
                W.inp[q] += v
            else:
                W.clamp[q] = 1
                y[q] = v


@njit(cache=True)
def rhs(P, W, t, y, dy):
    """``dy = f(t, y)``.  Returns ``(max |dy|, index of the first non-finite dy or -1)``."""
    N = P.n
    M = P.m
    B = W.block
    indptr = P.indptr
    indices = P.indices
    data = P.data
    buf = W.buf
    acc = W.acc
    inp = W.inp
    mk_g = 0 if P.gain.shape[1] == 1 else -1
    mk_t = 0 if P.thr.shape[1] == 1 else -1
    mk_b = 0 if P.bias.shape[1] == 1 else -1
    mk_tau = 0 if P.tau_inv.shape[1] == 1 else -1
    mx = 0.0
    chk = 0.0
    for s0 in range(0, N, B):
        s1 = min(s0 + B, N)
        if M == 1:
            for i in range(s0, s1):
                a = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    a += data[k] * y[indices[k]]
                buf[i - s0] = P.gain[i, 0] * (a + inp[i] + P.bias[i, 0] - P.thr[i, 0])
        else:
            for i in range(s0, s1):
                for m in range(M):
                    acc[m] = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    w = data[k]
                    jb = indices[k] * M
                    for m in range(M):
                        acc[m] += w * y[jb + m]
                qb = (i - s0) * M
                ib = i * M
                for m in range(M):
                    buf[qb + m] = P.gain[i, m & mk_g] * (acc[m] + inp[ib + m] + P.bias[i, m & mk_b]
                                                          - P.thr[i, m & mk_t])
        nq = (s1 - s0) * M
        phi_block(P.ftype, buf, nq, W.ebuf, W.ibuf, W.fview)
        for i in range(s0, s1):
            qb = (i - s0) * M
            ib = i * M
            for m in range(M):
                q = ib + m
                d = (buf[qb + m] - y[q]) * P.tau_inv[i, m & mk_tau]
                if W.clamp[q]:
                    d = 0.0
                dy[q] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
    bad = -1
    if chk != 0.0:  # NaN: some derivative is NaN or infinite
        for q in range(N * M):
            if not abs(dy[q]) < _INF:
                bad = q
                break
    return mx, bad


@njit(cache=True)
def store(P, W, y, out_row):
    """Copy the observable activation of state ``y`` into ``out_row``; return the index of
    the first non-finite value or -1."""
    NM = P.n * P.m
    chk = 0.0
    for q in range(NM):
        v = y[q]
        out_row[q] = v
        chk += v - v
    if chk != 0.0:
        for q in range(NM):
            if not abs(out_row[q]) < _INF:
                return q
    return -1
