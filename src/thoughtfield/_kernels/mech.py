"""Mechanism terms of the right-hand side (issue 4): extra input ``x`` computed before the
rows, and the derivatives of the extra state blocks (adaptation, control, evidence).

Nothing here runs for the reference model: :func:`prepare` is skipped when
``P.xmode == 0``, :func:`extras` when the state has only the activation block.
Every loop is O(pool members), O(goal edges), O(N) or O(N * patterns) per evaluation.
The arrays come packed (layout.py); ``iv``/``fv``/``wv`` give named views.
"""

import numpy as np
from ._numba import NO_REFCOUNTS, njit

from .layout import (F_C_C0, F_C_LAM, F_C_TAU_INV, F_C_TGAIN, F_E_FLOOR, F_E_INH, F_E_LEAK,
                     F_E_RATE, F_G_W, F_H_KAPPA, F_H_TAU_INV, F_P_EW, F_P_INH, F_XI_DIAG,
                     I_C_MPOOL, I_C_MPTR, I_C_TIDX, I_C_TPTR, I_D_POOL, I_E_CMP, I_E_PTR,
                     I_G_IDX, I_G_PTR, I_G_ROWS, I_P_EI, I_P_EJ, I_P_EPTR, I_P_IDX, I_P_PTR,
                     F_Q_W, F_W_PAR, F_W_RATE, I_G_CIX, I_Q_CPT, I_Q_CTL, I_Q_GID, I_Q_SRC,
                     I_Q_TGT, I_W_OPT, I_W_SRC, I_W_TGT, W_ACCON, W_OVL, W_PSUM, W_QVAL,
                     W_WON, W_XIN)
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


@njit(cache=True, **NO_REFCOUNTS)
def pool_conflict_p(P, a, p, m):
    """:func:`pool_conflict` with the arrays taken from ``P`` (for rare calls)."""
    return pool_conflict(iv(P.mi, P.mo, I_P_PTR), iv(P.mi, P.mo, I_P_IDX),
                         iv(P.mi, P.mo, I_P_EPTR), iv(P.mi, P.mo, I_P_EI),
                         iv(P.mi, P.mo, I_P_EJ), fv(P.mf, P.mo, F_P_EW),
                         fv(P.mf, P.mo, F_P_INH), a, p, m, P.m)


@njit(cache=True, **NO_REFCOUNTS)
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
    inp = W.inp
    for q in range(inp.size):   # (a loop: a slice copy needs numba's runtime)
        x[q] = inp[q]
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
    # plastic relations: x_i += w_e a_j for every plastic edge e = (j -> i), w_e from the state
    if P.w_off >= 0:
        w_src = iv(P.mi, P.mo, I_W_SRC)
        w_tgt = iv(P.mi, P.mo, I_W_TGT)
        wb = P.w_off * M
        for e in range(w_src.size):
            jb = w_src[e] * M
            ib = w_tgt[e] * M
            eb = wb + e * M
            for m in range(M):
                x[ib + m] += y[eb + m] * a[jb + m]
    # gated projections: x_i += q_g * w_e * a_j, q_g the gate's value in this segment (times
    # the output of its gating concept, clipped at 0, and its control's value, when named)
    q_src = iv(P.mi, P.mo, I_Q_SRC)
    if q_src.size > 0:
        q_tgt = iv(P.mi, P.mo, I_Q_TGT)
        q_gid = iv(P.mi, P.mo, I_Q_GID)
        q_cpt = iv(P.mi, P.mo, I_Q_CPT)
        q_ctl = iv(P.mi, P.mo, I_Q_CTL)
        q_w = fv(P.mf, P.mo, F_Q_W)
        qval = wv(W.wm, W.wo, W_QVAL)
        for e in range(q_src.size):
            g = q_gid[e]
            base = qval[g] * q_w[e]
            c = q_cpt[g]
            r = q_ctl[g]
            jb = q_src[e] * M
            ib = q_tgt[e] * M
            for m in range(M):
                v = base
                if c >= 0:
                    ac = a[c * M + m]
                    v = v * ac if ac > 0.0 else 0.0
                if r >= 0:
                    v = v * y[r * M + m]
                x[ib + m] += v * a[jb + m]
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


@njit(cache=True, **NO_REFCOUNTS)
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
        st = h_tau_inv.size // N        # 1: shared by the members, M: one value per member
        sk = h_kappa.size // N
        mt = 1 if st > 1 else 0
        mk = 1 if sk > 1 else 0
        for i in range(N):
            ib = i * M
            for m in range(M):
                q = hb + ib + m
                d = (h_kappa[i * sk + m * mk] * a[ib + m] - y[q]) * h_tau_inv[i * st + m * mt]
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
                        elif cmp == 3:   # diffusion: the other option (drifts exact mirrors)
                            c = a[p_idx[pb + 1 - r] * M + m]
                        elif cmp == 2 and k > 1:
                            c = top2 if v == top1 else top1
                        drive = rate * (v - c)
                    d = drive - leak * e - inh * (se - e)
                    dy[q] = d
                    ad = abs(d)
                    mx = ad if ad > mx else mx
                    chk += d - d
    if P.w_off >= 0:
        mx2, chk2 = _plastic(P, W, y, a, dy)
        mx = max(mx, mx2)
        chk += chk2
    return mx, chk


@njit(cache=True, **NO_REFCOUNTS)
def _plastic(P, W, y, a, dy):
    """Derivatives of the plastic weights (and of the running averages some rules use)::

        dw/dt = g * (eta * H - w / tau_w)      H = a_i a_j                  hebb
                                                 (a_i - m_i)(a_j - m_j)     covariance
                                                 a_i (a_j - a_i w)          oja
                                                 a_i (a_i - m_i) a_j        bcm
        dm_i/dt = (s(a_i) - m_i) / tau_m        s(a) = a (covariance), a**2 (bcm)

    for edge ``j -> i``; ``g`` is 1 inside the learning interval (0 outside) times the
    gate concept's output (clipped at 0) when there is one."""
    N = P.n
    M = P.m
    w_src = iv(P.mi, P.mo, I_W_SRC)
    w_tgt = iv(P.mi, P.mo, I_W_TGT)
    opt = iv(P.mi, P.mo, I_W_OPT)
    rule = opt[0]
    gate = opt[1]
    w_rate = fv(P.mf, P.mo, F_W_RATE)
    par = fv(P.mf, P.mo, F_W_PAR)
    dinv = par[0]
    on = wv(W.wm, W.wo, W_WON)[0]
    E = w_src.size
    wb = P.w_off * M
    mb = (P.w_off + E) * M
    mx = 0.0
    chk = 0.0
    for e in range(E):
        ib = w_tgt[e] * M
        jb = w_src[e] * M
        eta = w_rate[e]
        for m in range(M):
            q = wb + e * M + m
            g = on
            if gate >= 0:
                gv = a[gate * M + m]
                g = g * gv if gv > 0.0 else 0.0
            ai = a[ib + m]
            aj = a[jb + m]
            w = y[q]
            if rule == 0:
                h = ai * aj
            elif rule == 1:
                h = (ai - y[mb + ib + m]) * (aj - y[mb + jb + m])
            elif rule == 2:
                h = ai * (aj - ai * w)
            else:
                h = ai * (ai - y[mb + ib + m]) * aj
            d = g * (eta * h - w * dinv)
            dy[q] = d
            ad = abs(d)
            mx = ad if ad > mx else mx
            chk += d - d
    if rule == 1 or rule == 3:
        ainv = par[3]
        for q in range(N * M):
            v = a[q]
            s = v if rule == 1 else v * v
            d = (s - y[mb + q]) * ainv
            dy[mb + q] = d
            ad = abs(d)
            mx = ad if ad > mx else mx
            chk += d - d
    return mx, chk


@njit(cache=True)
def project(P, y):
    """Lower bounds of the evidence accumulators (e.g. Usher & McClelland's truncation
    at zero) and the bounds of plastic weights, applied after every accepted step (callers
    test ``P.e_off >= 0 or P.w_off >= 0`` first).  Returns True if a value changed."""
    M = P.m
    changed = False
    if P.w_off >= 0:
        par = fv(P.mf, P.mo, F_W_PAR)
        lo = par[1]
        hi = par[2]
        if lo > _NEG_INF or hi < np.inf:
            for q in range(P.w_off * M, (P.w_off + iv(P.mi, P.mo, I_W_SRC).size) * M):
                v = y[q]
                if v < lo:
                    y[q] = lo
                    changed = True
                elif v > hi:
                    y[q] = hi
                    changed = True
    if P.e_off < 0:
        return changed
    e_ptr = iv(P.mi, P.mo, I_E_PTR)
    e_floor = fv(P.mf, P.mo, F_E_FLOOR)
    for d in range(e_floor.size):
        fl = e_floor[d]
        if fl > _NEG_INF:
            for q in range((P.e_off + e_ptr[d]) * M, (P.e_off + e_ptr[d + 1]) * M):
                if y[q] < fl:
                    y[q] = fl
                    changed = True
    return changed
