"""Choice events: the first member of a decision's pool whose decision variable (its
activation, or its evidence accumulator) reaches the threshold.

Checked after every accepted step, for every member that has not chosen yet.  The
crossing time inside the step is found on the step's interpolant with a safeguarded
regula falsi (Illinois): the solver's dense output (order 4 for ``dopri5``, order 7 for
``dop853``, whose three extra stages are then evaluated); for the
deterministic fixed-step methods the cubic Hermite interpolant through both ends of the
step and their derivatives (one extra right-hand side evaluation per step with a
crossing; interpolation error O(h^4), below the error of rk4 itself); for Euler-Maruyama
the straight line between the ends (noise paths have no derivative).  All three are
exact when the variable is linear in time (an accumulator with constant drift).  At the
crossing the whole state of that member is interpolated the same way to give the margin
(winner minus the best other member of the pool) and the conflict energy of every pool.

The helpers called in the inner loops take arrays, not the Problem/Work tuples (see
views.py).
"""

import math

import numpy as np
from ._numba import NO_REFCOUNTS, njit

from .layout import (F_D_THR, I_D_ON, I_D_POOL, I_D_STOP, I_E_PTR, I_P_IDX, I_P_PTR, W_ACCON,
                     W_ASTAR, W_CVAL, W_DCOEF, W_FEND, W_YSTAR)
from .dense import dense_coef, extra_stages
from .mech import pool_conflict_p
from .rhs import member_stride, rhs
from .transfer import phi_scalar
from .views import fv, iv, wv

_NEG_INF = -np.inf
LINEAR, DENSE, HERMITE = 0, 1, 2
I_RHS = 1  # keep in sync with thoughtfield._problem


@njit(cache=True, inline="always")
def _phi_at(ftype, gain, bias, thr, N, i, m, v):
    """``f(gain * (v + bias - thr))`` of concept ``i``, member ``m`` (potential form)."""
    sg, mg = member_stride(gain, N)
    st, mt = member_stride(thr, N)
    sb, mb = member_stride(bias, N)
    ui = np.uint64(i)
    um = np.uint64(m)
    return phi_scalar(ftype, gain[ui * sg + (um & mg)] * (v + bias[ui * sb + (um & mb)]
                                                         - thr[ui * st + (um & mt)]))


@njit(cache=True)
def output_scalar(P, W, y, i, m):
    """Output ``a`` of concept ``i``, member ``m`` for state ``y`` (scalar libm transfer)."""
    q = i * P.m + m
    if P.form == 0:
        return y[q]
    if W.clamp[q]:
        return wv(W.wm, W.wo, W_CVAL)[q]
    return _phi_at(P.ftype, P.gain, P.bias, P.thr, P.n, i, m, y[q])


@njit(cache=True, inline="always")
def _interp_row(y0, y1, K, f1, coef, h, q, th, mode):
    """Row ``q`` of the interpolant at fraction ``th`` of the step.  ``coef`` holds the
    dense-output weights at ``th`` (mode DENSE); ``K[0]`` and ``f1`` the derivatives at the
    ends (mode HERMITE)."""
    if mode == DENSE:
        v = y0[q]
        for j in range(coef.size):
            v += h * coef[j] * K[j, q]
        return v
    if mode == HERMITE:
        t2 = th * th
        t3 = t2 * th
        return ((2.0 * t3 - 3.0 * t2 + 1.0) * y0[q] + (t3 - 2.0 * t2 + th) * h * K[0, q]
                + (3.0 * t2 - 2.0 * t3) * y1[q] + (t3 - t2) * h * f1[q])
    return y0[q] + th * (y1[q] - y0[q])


@njit(cache=True, inline="always")
def _dvar(form, ftype, gain, bias, thr, clamp, cval, N, is_act, i, m, q, y):
    """Decision variable read from state ``y``: row ``q`` itself (evidence, activation
    form), or the output of concept ``i`` (potential form)."""
    if not is_act or form == 0:
        return y[q]
    if clamp[q]:
        return cval[q]
    return _phi_at(ftype, gain, bias, thr, N, i, m, y[q])


@njit(cache=True, inline="always")
def _root(form, ftype, gain, bias, thr, clamp, cval, N, is_act, i, m, q,
          y0, y1, K, f1, Pd, coef, h, level, g0, g1, mode):
    """Fraction of the step where the interpolant of the decision variable reaches
    ``level`` (``g0 = x(0) - level < 0 <= g1 = x(1) - level``): Illinois regula falsi."""
    lo = 0.0
    hi = 1.0
    glo = g0
    ghi = g1
    side = 0
    for _ in range(100):
        th = (lo * ghi - hi * glo) / (ghi - glo)
        if not (lo <= th <= hi):
            th = 0.5 * (lo + hi)
        if mode == DENSE:
            dense_coef(Pd, th, coef)
        v = _interp_row(y0, y1, K, f1, coef, h, q, th, mode)
        if is_act and form == 1:
            v = cval[q] if clamp[q] else _phi_at(ftype, gain, bias, thr, N, i, m, v)
        g = v - level
        if g >= 0.0:
            hi = th
            ghi = g
            if side == -1:
                glo *= 0.5
            side = -1
        else:
            lo = th
            glo = g
            if side == 1:
                ghi *= 0.5
            side = 1
        if hi - lo <= 1e-15 or abs(g) <= 1e-15 * (1.0 + abs(level)):
            break
    return hi


@njit(cache=True, inline="always")
def _record(P, W, Mt, S, d, m, br, th, y0, y1, K, f1, t0, h, mode, coef):
    """Store the choice of member ``m`` (pool position ``br`` at fraction ``th``)."""
    M = P.m
    ystar = wv(W.wm, W.wo, W_YSTAR)
    if mode == DENSE:
        dense_coef(Mt.P, th, coef)
    for row in range(P.nstate):
        q = row * M + m
        ystar[q] = _interp_row(y0, y1, K, f1, coef, h, q, th, mode)
    p_ptr = iv(P.mi, P.mo, I_P_PTR)
    p_idx = iv(P.mi, P.mo, I_P_IDX)
    p = iv(P.mi, P.mo, I_D_POOL)[d]
    k = p_ptr[p + 1] - p_ptr[p]
    evid = iv(P.mi, P.mo, I_D_ON)[d] == 1
    eb = P.e_off + iv(P.mi, P.mo, I_E_PTR)[d]
    xw = 0.0
    xo = _NEG_INF
    for r in range(k):
        i = p_idx[p_ptr[p] + r]
        v = ystar[(eb + r) * M + m] if evid else output_scalar(P, W, ystar, i, m)
        if r == br:
            xw = v
        elif v > xo:
            xo = v
    margin = xw - xo if k > 1 else math.nan
    if P.form == 0:
        astar = ystar
    else:
        astar = wv(W.wm, W.wo, W_ASTAR)
        for i in range(P.n):
            astar[i * M + m] = output_scalar(P, W, ystar, i, m)
    for pp in range(p_ptr.size - 1):
        S.ev_f[d, m, 2 + pp] = pool_conflict_p(P, astar, pp, m)
    S.ev_f[d, m, 0] = t0 + th * h
    S.ev_f[d, m, 1] = margin
    S.ev_i[d, m] = br


@njit(cache=True, **NO_REFCOUNTS)
def detect(P, W, Mt, S, y0, y1, K, t0, h, mode):
    """Look for choices in the step ``[t0, t0 + h]`` from ``y0`` to ``y1`` and record them
    in ``S.ev_i`` / ``S.ev_f``.  ``mode``: LINEAR, DENSE (``K`` holds the stages) or
    HERMITE (``K[0]`` holds ``f(t0, y0)``).  Returns True when every decision that stops
    the run has been made by every member."""
    d_pool = iv(P.mi, P.mo, I_D_POOL)
    d_stop = iv(P.mi, P.mo, I_D_STOP)
    d_on = iv(P.mi, P.mo, I_D_ON)
    e_ptr = iv(P.mi, P.mo, I_E_PTR)
    d_thr = fv(P.mf, P.mo, F_D_THR)
    p_ptr = iv(P.mi, P.mo, I_P_PTR)
    p_idx = iv(P.mi, P.mo, I_P_IDX)
    accon = wv(W.wm, W.wo, W_ACCON)
    cval = wv(W.wm, W.wo, W_CVAL)
    f1 = wv(W.wm, W.wo, W_FEND)
    clamp = W.clamp
    gain = P.gain
    bias = P.bias
    thr = P.thr
    Pd = Mt.P
    form = P.form
    ftype = P.ftype
    N = P.n
    M = P.m
    e_off = P.e_off
    Q = d_pool.size
    coef = wv(W.wm, W.wo, W_DCOEF)   # (at least K.shape[0] values: no allocation here)
    have_f1 = False
    any_stop = False
    all_done = True
    for d in range(Q):
        if accon[d] != 0.0:
            p = d_pool[d]
            k = p_ptr[p + 1] - p_ptr[p]
            level = d_thr[d]
            is_act = d_on[d] == 0
            for m in range(M):
                if S.ev_i[d, m] >= 0:
                    continue
                best = 2.0
                br = np.int64(-1)
                for r in range(k):
                    i = p_idx[p_ptr[p] + r]
                    q = i * M + m if is_act else (e_off + e_ptr[d] + r) * M + m
                    x0 = _dvar(form, ftype, gain, bias, thr, clamp, cval, N, is_act, i, m, q, y0)
                    if x0 >= level:
                        th = 0.0
                    else:
                        x1 = _dvar(form, ftype, gain, bias, thr, clamp, cval, N, is_act, i, m, q,
                                   y1)
                        if not x1 >= level:
                            continue
                        if mode == LINEAR:
                            th = (level - x0) / (x1 - x0)
                        else:
                            if mode == DENSE and K.shape[0] > Mt.opt_i[1]:
                                extra_stages(P, W, Mt, S, y0, K, wv(W.wm, W.wo, W_YSTAR), t0, h)
                            if mode == HERMITE and not have_f1:
                                rhs(P, W, t0 + h, y1, f1)
                                S.ist[I_RHS] += 1
                                have_f1 = True
                            th = _root(form, ftype, gain, bias, thr, clamp, cval, N, is_act, i, m,
                                       q, y0, y1, K, f1, Pd, coef, h, level, x0 - level,
                                       x1 - level, mode)
                    if th < best:
                        best = th
                        br = r
                if br >= 0:
                    if mode == DENSE and K.shape[0] > Mt.opt_i[1]:
                        extra_stages(P, W, Mt, S, y0, K, wv(W.wm, W.wo, W_YSTAR), t0, h)
                    if mode == HERMITE and not have_f1 and best > 0.0:
                        rhs(P, W, t0 + h, y1, f1)
                        S.ist[I_RHS] += 1
                        have_f1 = True
                    _record(P, W, Mt, S, d, m, br, best, y0, y1, K, f1, t0, h, mode, coef)
        if d_stop[d] != 0:
            any_stop = True
            for m in range(M):
                if S.ev_i[d, m] < 0:
                    all_done = False
    return any_stop and all_done
