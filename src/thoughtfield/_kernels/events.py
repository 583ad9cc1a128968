"""Choice events: the first member of a decision's pool whose decision variable (its
activation, or its evidence accumulator) reaches the threshold.

Checked after every accepted step, for every member that has not chosen yet.  The
crossing time inside the step is found on the step's interpolant: the solver's dense
output (order 4 for ``dopri5``) with a safeguarded regula falsi (Illinois), or the
straight line between the two ends of the step for the fixed-step methods (exact when the
variable is linear in time, e.g. an accumulator with constant drift).  At the crossing the
whole state of that member is interpolated the same way to give the margin (winner minus
the best other member of the pool) and the conflict energy of every pool.
"""

import math

import numpy as np
from numba import njit

from .mech import pool_conflict
from .rhs import member_stride
from .transfer import phi_scalar

_NEG_INF = -np.inf


@njit(cache=True)
def output_scalar(P, W, y, i, m):
    """Output ``a`` of concept ``i``, member ``m`` for state ``y`` (scalar libm transfer)."""
    M = P.m
    q = i * M + m
    if P.form == 0:
        return y[q]
    if W.clamp[q]:
        return W.cval[q]
    N = P.n
    sg, mg = member_stride(P.gain, N)
    st, mt = member_stride(P.thr, N)
    sb, mb = member_stride(P.bias, N)
    ui = np.uint64(i)
    um = np.uint64(m)
    g = P.gain[ui * sg + (um & mg)]
    b = P.bias[ui * sb + (um & mb)]
    th = P.thr[ui * st + (um & mt)]
    return phi_scalar(P.ftype, g * (y[q] + b - th))


@njit(cache=True)
def dvalue(P, W, d, r, m, y):
    """The decision variable of pool position ``r`` of decision ``d``, member ``m``."""
    if P.d_on[d] == 1:
        return y[(P.e_off + P.e_ptr[d] + r) * P.m + m]
    i = P.p_idx[P.p_ptr[P.d_pool[d]] + r]
    return output_scalar(P, W, y, i, m)


@njit(cache=True)
def _dense_coef(Pd, th, coef):
    ns = Pd.shape[0]
    nd = Pd.shape[1]
    for j in range(ns):
        v = 0.0
        p = 1.0
        for r in range(nd):
            p *= th
            v += Pd[j, r] * p
        coef[j] = v


@njit(cache=True)
def _interp_row(y0, y1, K, coef, h, q, th, dense):
    if dense:
        v = y0[q]
        for j in range(coef.size):
            v += h * coef[j] * K[j, q]
        return v
    return y0[q] + th * (y1[q] - y0[q])


@njit(cache=True)
def _dvalue_at(P, W, Mt, d, r, m, y0, y1, K, h, th, dense, coef):
    """Decision variable at fraction ``th`` of the step (one row interpolated)."""
    M = P.m
    if dense:
        _dense_coef(Mt.P, th, coef)
    if P.d_on[d] == 1:
        q = (P.e_off + P.e_ptr[d] + r) * M + m
        return _interp_row(y0, y1, K, coef, h, q, th, dense)
    i = P.p_idx[P.p_ptr[P.d_pool[d]] + r]
    q = i * M + m
    v = _interp_row(y0, y1, K, coef, h, q, th, dense)
    if P.form == 0:
        return v
    if W.clamp[q]:
        return W.cval[q]
    N = P.n
    sg, mg = member_stride(P.gain, N)
    st, mt = member_stride(P.thr, N)
    sb, mb = member_stride(P.bias, N)
    ui = np.uint64(i)
    um = np.uint64(m)
    return phi_scalar(P.ftype, P.gain[ui * sg + (um & mg)] * (v + P.bias[ui * sb + (um & mb)]
                                                             - P.thr[ui * st + (um & mt)]))


@njit(cache=True)
def _root(P, W, Mt, d, r, m, y0, y1, K, h, thr, g0, g1, coef):
    """Fraction of the step where the dense interpolant of the decision variable reaches
    ``thr`` (``g0 = x(0) - thr < 0 <= g1 = x(1) - thr``): Illinois regula falsi."""
    lo = 0.0
    hi = 1.0
    glo = g0
    ghi = g1
    side = 0
    th = 1.0
    for _ in range(100):
        th = (lo * ghi - hi * glo) / (ghi - glo)
        if not (lo <= th <= hi):
            th = 0.5 * (lo + hi)
        g = _dvalue_at(P, W, Mt, d, r, m, y0, y1, K, h, th, True, coef) - thr
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
        if hi - lo <= 1e-15 or abs(g) <= 1e-15 * (1.0 + abs(thr)):
            break
    return hi


@njit(cache=True)
def _record(P, W, Mt, S, d, m, br, th, y0, y1, K, t0, h, dense, coef):
    M = P.m
    ystar = W.ystar
    if dense:
        _dense_coef(Mt.P, th, coef)
    for row in range(P.nstate):
        q = row * M + m
        ystar[q] = _interp_row(y0, y1, K, coef, h, q, th, dense)
    p = P.d_pool[d]
    k = P.p_ptr[p + 1] - P.p_ptr[p]
    xw = dvalue(P, W, d, br, m, ystar)
    xo = _NEG_INF
    for r in range(k):
        if r != br:
            v = dvalue(P, W, d, r, m, ystar)
            if v > xo:
                xo = v
    margin = xw - xo if k > 1 else math.nan
    if P.form == 0:
        astar = ystar
    else:
        astar = W.astar
        for i in range(P.n):
            astar[i * M + m] = output_scalar(P, W, ystar, i, m)
    for pp in range(P.p_ptr.size - 1):
        S.ev_f[d, m, 2 + pp] = pool_conflict(P, astar, pp, m)
    S.ev_f[d, m, 0] = t0 + th * h
    S.ev_f[d, m, 1] = margin
    S.ev_i[d, m] = br


@njit(cache=True)
def detect(P, W, Mt, S, y0, y1, K, t0, h, dense):
    """Look for choices in the step ``[t0, t0 + h]`` from ``y0`` to ``y1`` and record them
    in ``S.ev_i`` / ``S.ev_f``.  Returns True when every decision that stops the run has
    been made by every member."""
    Q = P.d_pool.size
    M = P.m
    coef = np.empty(max(1, K.shape[0]))
    any_stop = False
    all_done = True
    for d in range(Q):
        if W.accon[d] != 0:
            p = P.d_pool[d]
            k = P.p_ptr[p + 1] - P.p_ptr[p]
            thr = P.d_thr[d]
            for m in range(M):
                if S.ev_i[d, m] >= 0:
                    continue
                best = 2.0
                br = -1
                for r in range(k):
                    x0 = dvalue(P, W, d, r, m, y0)
                    if x0 >= thr:
                        th = 0.0
                    else:
                        x1 = dvalue(P, W, d, r, m, y1)
                        if not x1 >= thr:
                            continue
                        if dense:
                            th = _root(P, W, Mt, d, r, m, y0, y1, K, h, thr, x0 - thr,
                                       x1 - thr, coef)
                        else:
                            th = (thr - x0) / (x1 - x0)
                    if th < best:
                        best = th
                        br = r
                if br >= 0:
                    _record(P, W, Mt, S, d, m, br, best, y0, y1, K, t0, h, dense, coef)
        if P.d_stop[d] != 0:
            any_stop = True
            for m in range(M):
                if S.ev_i[d, m] < 0:
                    all_done = False
    return any_stop and all_done
