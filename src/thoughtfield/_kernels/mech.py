"""Mechanism terms of the right-hand side (issue 4): extra input ``x`` computed before the
rows, and the derivatives of the extra state blocks (adaptation, control, evidence).

Nothing here runs for the reference model: :func:`prepare` is skipped when
``P.xmode == 0``, :func:`extras` when the state has only the activation block.
Every loop is O(pool members), O(goal edges), O(N) or O(N * patterns) per evaluation.
"""

import numpy as np
from numba import njit

_NEG_INF = -np.inf


@njit(cache=True)
def pool_conflict(P, a, p, m):
    """Conflict energy of pool ``p`` for member ``m`` (Hopfield energy of the pool's
    inhibitory couplings)::

        E_p = -sum_{i != j in p} w_ij a_i a_j
            = inh_p * ((sum_i a_i)**2 - sum_i a_i**2) - sum_{W_ij < 0, i, j in p} W_ij a_i a_j
    """
    M = P.m
    s = 0.0
    sq = 0.0
    for k in range(P.p_ptr[p], P.p_ptr[p + 1]):
        v = a[P.p_idx[k] * M + m]
        s += v
        sq += v * v
    e = P.p_inh[p] * (s * s - sq)
    for k in range(P.p_eptr[p], P.p_eptr[p + 1]):
        e -= P.p_ew[k] * a[P.p_ei[k] * M + m] * a[P.p_ej[k] * M + m]
    return e


@njit(cache=True)
def prepare(P, W, y, a):
    """The extra input ``W.xin``: lateral inhibition in pools, goal bias, control acting
    on concepts, adaptation, low-rank stored ideas (nothing when ``P.xmode == 0``)."""
    N = P.n
    M = P.m
    if P.xmode == 0:
        return
    x = W.xin
    x[:] = 0.0
    # lateral inhibition: x_i -= inh * (sum of the pool - a_i)
    for p in range(P.p_ptr.size - 1):
        inh = P.p_inh[p]
        if inh != 0.0:
            for m in range(M):
                s = 0.0
                for k in range(P.p_ptr[p], P.p_ptr[p + 1]):
                    s += a[P.p_idx[k] * M + m]
                W.psum[p * M + m] = s
            for k in range(P.p_ptr[p], P.p_ptr[p + 1]):
                ib = P.p_idx[k] * M
                for m in range(M):
                    x[ib + m] -= inh * (W.psum[p * M + m] - a[ib + m])
    # goal bias: x_i += g_gain * c * sum_j B_ij a_j
    R = P.g_rows.size
    for r in range(R):
        ib = P.g_rows[r] * M
        for m in range(M):
            s = 0.0
            for k in range(P.g_ptr[r], P.g_ptr[r + 1]):
                s += P.g_w[k] * a[P.g_idx[k] * M + m]
            cg = P.g_gain
            if P.g_ctrl >= 0:
                cg *= y[P.g_ctrl * M + m]
            x[ib + m] += cg * s
    # control acting on concepts: x_i += gain * c
    if P.c_off >= 0:
        for k in range(P.c_tau_inv.size):
            cb = (P.c_off + k) * M
            for t in range(P.c_tptr[k], P.c_tptr[k + 1]):
                ib = P.c_tidx[t] * M
                g = P.c_tgain[t]
                for m in range(M):
                    x[ib + m] += g * y[cb + m]
    # adaptation: x -= h
    if P.h_off >= 0:
        hb = P.h_off * M
        for q in range(N * M):
            x[q] -= y[hb + q]
    # stored ideas as a low-rank term: x_i += s * (sum_mu xi_i^mu (xi^mu . a) - d_i a_i)
    NPat = P.xi.shape[1]
    if NPat > 0:
        ovl = W.ovl
        ovl[:] = 0.0
        for i in range(N):
            ib = i * M
            for mu in range(NPat):
                xv = P.xi[i, mu]
                if xv != 0.0:
                    for m in range(M):
                        ovl[mu * M + m] += xv * a[ib + m]
        sc = P.xi_scale
        for i in range(N):
            ib = i * M
            di = P.xi_diag[i]
            for m in range(M):
                s = 0.0
                for mu in range(NPat):
                    s += P.xi[i, mu] * ovl[mu * M + m]
                x[ib + m] += sc * (s - di * a[ib + m])


@njit(cache=True)
def extras(P, W, y, a, dy):
    """Derivatives of the adaptation, control and evidence rows.  Returns
    ``(max |dy|, chk)`` over those rows (``chk`` is NaN when one is not finite)."""
    N = P.n
    M = P.m
    mx = 0.0
    chk = 0.0
    if P.h_off >= 0:
        hb = P.h_off * M
        for i in range(N):
            ti = P.h_tau_inv[i]
            ka = P.h_kappa[i]
            ib = i * M
            for m in range(M):
                q = hb + ib + m
                d = (ka * a[ib + m] - y[q]) * ti
                dy[q] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
    if P.c_off >= 0:
        for k in range(P.c_tau_inv.size):
            ti = P.c_tau_inv[k]
            cb = (P.c_off + k) * M
            for m in range(M):
                q = cb + m
                d = 0.0
                if ti != 0.0:
                    e = 0.0
                    for r in range(P.c_mptr[k], P.c_mptr[k + 1]):
                        e += pool_conflict(P, a, P.c_mpool[r], m)
                    d = (P.c_c0[k] - y[q] + P.c_lam[k] * e) * ti
                dy[q] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
    if P.e_off >= 0:
        for d_ in range(P.d_pool.size):
            r0 = P.e_ptr[d_]
            r1 = P.e_ptr[d_ + 1]
            k = r1 - r0
            if k == 0:
                continue
            p = P.d_pool[d_]
            pb = P.p_ptr[p]
            gate = W.accon[d_] != 0
            rate = P.e_rate[d_]
            leak = P.e_leak[d_]
            inh = P.e_inh[d_]
            cmp = P.e_cmp[d_]
            eb = P.e_off + r0
            for m in range(M):
                sa = 0.0
                se = 0.0
                top1 = _NEG_INF
                top2 = _NEG_INF
                for r in range(k):
                    v = a[P.p_idx[pb + r] * M + m]
                    sa += v
                    if v > top1:
                        top2 = top1
                        top1 = v
                    elif v > top2:
                        top2 = v
                    se += y[(eb + r) * M + m]
                for r in range(k):
                    v = a[P.p_idx[pb + r] * M + m]
                    q = (eb + r) * M + m
                    e = y[q]
                    drive = 0.0
                    if gate:
                        c = 0.0
                        if cmp == 1 and k > 1:
                            c = (sa - v) / (k - 1)
                        elif cmp == 2 and k > 1:
                            c = top2 if v == top1 else top1
                        drive = rate * (v - c)
                    d = drive - leak * e - inh * (se - e)
                    dy[q] = d
                    ad = abs(d)
                    mx = ad if ad > mx else mx
                    chk += d - d
    return mx, chk


@njit(cache=True)
def project(P, y):
    """Lower bounds of the evidence accumulators (e.g. Usher & McClelland's truncation
    at zero), applied after every accepted step.  Returns True if a value changed."""
    if P.e_off < 0:
        return False
    M = P.m
    changed = False
    for d in range(P.d_pool.size):
        fl = P.e_floor[d]
        if fl > _NEG_INF:
            for q in range((P.e_off + P.e_ptr[d]) * M, (P.e_off + P.e_ptr[d + 1]) * M):
                if y[q] < fl:
                    y[q] = fl
                    changed = True
    return changed
