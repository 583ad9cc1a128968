"""Mechanism terms of the right-hand side (issue 4): extra input ``x`` computed before the
rows, and the derivatives of the extra state blocks (adaptation, control, evidence).

Nothing here runs for the reference model: :func:`prepare` is skipped when
``P.xmode == 0``, :func:`extras` when the state has only the activation block.
Every loop is O(pool members), O(goal edges), O(N) or O(N * patterns) per evaluation.
The arrays come packed (layout.py); ``iv``/``fv``/``wv`` give named views.
"""

import numpy as np
from ._numba import njit

from .layout import (F_C_C0, F_C_LAM, F_C_TAU_INV, F_C_TGAIN, F_E_FLOOR, F_E_INH, F_E_LEAK,
                     F_E_RATE, F_G_W, F_H_KAPPA, F_H_TAU_INV, F_P_EW, F_P_INH, F_XI_DIAG,
                     I_C_MPOOL, I_C_MPTR, I_C_TIDX, I_C_TPTR, I_D_POOL, I_E_CMP, I_E_PTR,
                     I_G_IDX, I_G_PTR, I_G_ROWS, I_P_EI, I_P_EJ, I_P_EPTR, I_P_IDX, I_P_PTR,
                     W_ACCON, W_OVL, W_PSUM, W_XIN)
from .layout import I_G_CIX
from .views import fv, iv, wv

_NEG_INF = -np.inf


@njit(cache=True, inline="always")
def pool_conflict(p_ptr, p_idx, p_eptr, p_ei, p_ej, p_ew, p_inh, a, p, m, M):
    """Conflict energy of pool ``p`` for member ``m`` (Hopfield energy of the pool's
    inhibitory couplings)::

        E_p = -sum_{i != j in p} w_ij a_i a_j
            = inh_p * ((sum_i a_i)**2 - sum_i a_i**2) - sum_{W_ij < 0, i, j in p} W_ij a_i a_j
    """
    s = 0.0
    sq = 0.0
    for k in range(p_ptr[p], p_ptr[p + 1]):
        v = a[p_idx[k] * M + m]
        s += v
        sq += v * v
    e = p_inh[p] * (s * s - sq)
    for k in range(p_eptr[p], p_eptr[p + 1]):
        e -= p_ew[k] * a[p_ei[k] * M + m] * a[p_ej[k] * M + m]
    return e


@njit(cache=True)
def pool_conflict_p(P, a, p, m):
    """:func:`pool_conflict` with the arrays taken from ``P`` (for rare calls)."""
    return pool_conflict(iv(P.mi, P.mo, I_P_PTR), iv(P.mi, P.mo, I_P_IDX),
                         iv(P.mi, P.mo, I_P_EPTR), iv(P.mi, P.mo, I_P_EI),
                         iv(P.mi, P.mo, I_P_EJ), fv(P.mf, P.mo, F_P_EW),
                         fv(P.mf, P.mo, F_P_INH), a, p, m, P.m)


@njit(cache=True)
def prepare(P, W, y, a):
    """The input of every concept into scratch ``xin``: the external input plus the
    mechanism terms -- lateral inhibition in pools, goal bias, control acting on concepts,
    adaptation, low-rank stored ideas (nothing when ``P.xmode == 0``: the rows then read
    the external input directly)."""
    N = P.n
    M = P.m
    if P.xmode == 0:
        return
    x = wv(W.wm, W.wo, W_XIN)
    x[:] = W.inp
    # lateral inhibition: x_i -= inh * (sum of the pool - a_i)
    p_ptr = iv(P.mi, P.mo, I_P_PTR)
    p_idx = iv(P.mi, P.mo, I_P_IDX)
    p_inh = fv(P.mf, P.mo, F_P_INH)
    psum = wv(W.wm, W.wo, W_PSUM)
    for p in range(p_ptr.size - 1):
        inh = p_inh[p]
        if inh != 0.0:
            for m in range(M):
                s = 0.0
                for k in range(p_ptr[p], p_ptr[p + 1]):
                    s += a[p_idx[k] * M + m]
                psum[p * M + m] = s
            for k in range(p_ptr[p], p_ptr[p + 1]):
                ib = p_idx[k] * M
                for m in range(M):
                    x[ib + m] -= inh * (psum[p * M + m] - a[ib + m])
    # goal bias: x_i += g_gain * c * sum_j B_ij a_j
    g_rows = iv(P.mi, P.mo, I_G_ROWS)
    if g_rows.size > 0:
        g_ptr = iv(P.mi, P.mo, I_G_PTR)
        g_idx = iv(P.mi, P.mo, I_G_IDX)
        g_w = fv(P.mf, P.mo, F_G_W)
        g_cix = iv(P.mi, P.mo, I_G_CIX)   # per-goal controls (empty: none)
        for r in range(g_rows.size):
            ib = g_rows[r] * M
            for m in range(M):
                s = 0.0
                if g_cix.size > 0:
                    for k in range(g_ptr[r], g_ptr[r + 1]):
                        v = g_w[k] * a[g_idx[k] * M + m]
                        if g_cix[k] >= 0:
                            v *= y[g_cix[k] * M + m]
                        s += v
                else:
                    for k in range(g_ptr[r], g_ptr[r + 1]):
                        s += g_w[k] * a[g_idx[k] * M + m]
                cg = P.g_gain
                if P.g_ctrl >= 0:
                    cg *= y[P.g_ctrl * M + m]
                x[ib + m] += cg * s
    # control acting on concepts: x_i += gain * c
    if P.c_off >= 0:
        c_tptr = iv(P.mi, P.mo, I_C_TPTR)
        c_tidx = iv(P.mi, P.mo, I_C_TIDX)
        c_tgain = fv(P.mf, P.mo, F_C_TGAIN)
        for k in range(c_tptr.size - 1):
            cb = (P.c_off + k) * M
            for t in range(c_tptr[k], c_tptr[k + 1]):
                ib = c_tidx[t] * M
                g = c_tgain[t]
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
        xi = P.xi
        ovl = wv(W.wm, W.wo, W_OVL)
        ovl[:] = 0.0
        sc = P.xi_scale
        xi_diag = fv(P.mf, P.mo, F_XI_DIAG)
        if M == 1:
            for i in range(N):
                ai = a[i]
                for mu in range(NPat):
                    ovl[mu] += xi[i, mu] * ai
            for i in range(N):
                s = 0.0
                for mu in range(NPat):
                    s += xi[i, mu] * ovl[mu]
                x[i] += sc * (s - xi_diag[i] * a[i])
            return
        for i in range(N):
            ib = i * M
            for mu in range(NPat):
                xv = xi[i, mu]
                for m in range(M):
                    ovl[mu * M + m] += xv * a[ib + m]
        for i in range(N):
            ib = i * M
            di = xi_diag[i]
            for m in range(M):
                s = 0.0
                for mu in range(NPat):
                    s += xi[i, mu] * ovl[mu * M + m]
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
        h_tau_inv = fv(P.mf, P.mo, F_H_TAU_INV)
        h_kappa = fv(P.mf, P.mo, F_H_KAPPA)
        for i in range(N):
            ti = h_tau_inv[i]
            ka = h_kappa[i]
            ib = i * M
            for m in range(M):
                q = hb + ib + m
                d = (ka * a[ib + m] - y[q]) * ti
                dy[q] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
    if P.c_off >= 0:
        c_tau_inv = fv(P.mf, P.mo, F_C_TAU_INV)
        c_c0 = fv(P.mf, P.mo, F_C_C0)
        c_lam = fv(P.mf, P.mo, F_C_LAM)
        c_mptr = iv(P.mi, P.mo, I_C_MPTR)
        c_mpool = iv(P.mi, P.mo, I_C_MPOOL)
        p_ptr = iv(P.mi, P.mo, I_P_PTR)
        p_idx = iv(P.mi, P.mo, I_P_IDX)
        p_eptr = iv(P.mi, P.mo, I_P_EPTR)
        p_ei = iv(P.mi, P.mo, I_P_EI)
        p_ej = iv(P.mi, P.mo, I_P_EJ)
        p_ew = fv(P.mf, P.mo, F_P_EW)
        p_inh = fv(P.mf, P.mo, F_P_INH)
        for k in range(c_tau_inv.size):
            ti = c_tau_inv[k]
            cb = (P.c_off + k) * M
            for m in range(M):
                q = cb + m
                d = 0.0
                if ti != 0.0:
                    e = 0.0
                    for r in range(c_mptr[k], c_mptr[k + 1]):
                        e += pool_conflict(p_ptr, p_idx, p_eptr, p_ei, p_ej, p_ew, p_inh, a,
                                           c_mpool[r], m, M)
                    d = (c_c0[k] - y[q] + c_lam[k] * e) * ti
                dy[q] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
    if P.e_off >= 0:
        d_pool = iv(P.mi, P.mo, I_D_POOL)
        e_ptr = iv(P.mi, P.mo, I_E_PTR)
        e_cmp = iv(P.mi, P.mo, I_E_CMP)
        e_rate = fv(P.mf, P.mo, F_E_RATE)
        e_leak = fv(P.mf, P.mo, F_E_LEAK)
        e_inh = fv(P.mf, P.mo, F_E_INH)
        p_ptr = iv(P.mi, P.mo, I_P_PTR)
        p_idx = iv(P.mi, P.mo, I_P_IDX)
        accon = wv(W.wm, W.wo, W_ACCON)
        for d_ in range(d_pool.size):
            r0 = e_ptr[d_]
            r1 = e_ptr[d_ + 1]
            k = r1 - r0
            if k == 0:
                continue
            pb = p_ptr[d_pool[d_]]
            gate = accon[d_] != 0.0
            rate = e_rate[d_]
            leak = e_leak[d_]
            inh = e_inh[d_]
            cmp = e_cmp[d_]
            eb = P.e_off + r0
            for m in range(M):
                sa = 0.0
                se = 0.0
                top1 = _NEG_INF
                top2 = _NEG_INF
                for r in range(k):
                    v = a[p_idx[pb + r] * M + m]
                    sa += v
                    if v > top1:
                        top2 = top1
                        top1 = v
                    elif v > top2:
                        top2 = v
                    se += y[(eb + r) * M + m]
                for r in range(k):
                    v = a[p_idx[pb + r] * M + m]
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
    e_ptr = iv(P.mi, P.mo, I_E_PTR)
    e_floor = fv(P.mf, P.mo, F_E_FLOOR)
    changed = False
    for d in range(e_floor.size):
        fl = e_floor[d]
        if fl > _NEG_INF:
            for q in range((P.e_off + e_ptr[d]) * M, (P.e_off + e_ptr[d + 1]) * M):
                if y[q] < fl:
                    y[q] = fl
                    changed = True
    return changed
