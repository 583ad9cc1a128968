"""Explicit Runge-Kutta integration (fixed and adaptive step) and Euler-Maruyama.

One call advances the integrator state until the save slots ``[i_lo, i_hi)`` are filled
(or the run stops early), so a run can be split into chunks that end bit for bit where
the unsplit run would be: the step sequence never depends on the chunking.  A call also
returns once the step count reaches ``ist[I_BUDGET]`` (when positive) with the status
still ``ST_OK``: the driver bounds the time of one call that way (signals act between
calls).  A fixed-step interval cut there keeps its start, step and position in the state
(``F_T0``, ``F_HSUB``, ``I_KSUB``, ``I_NSUB``), so the next call continues it exactly.  ``out`` holds
the rows from ``i_lo`` on; the adaptive method fills every save slot inside its last step
that fits in ``out`` (slots past ``i_hi`` included), so a chunk that ends inside a long
step saves exactly what the unsplit run saves.

Stops: every input-segment boundary is hit exactly.  Fixed-step methods also hit every
save time exactly (the interval between two stops is cut into ``ceil(len / dt)`` equal
steps); the adaptive methods reach save times by dense output.

Adaptive methods are data (``Method``): the stages of a step (``opt_i[1]``, the last one
``f(t + h, y_new)`` for FSAL), extra dense-output stages (rows of ``A`` past those,
computed only for steps that interpolate), one or two error estimators (``e``, ``e3``)
and the controller's constants (``opt_f[O_SAFETY:]``).  When the error estimators do not
use the FSAL stage (DOP853) it is evaluated only for accepted steps.
"""

import math

import numpy as np
from ._numba import njit

from .dense import dense_coef, extra_stages
from .events import detect
from .layout import F_E_NOISE, I_D_POOL, I_E_CMP, I_E_PTR, W_ACCON, W_YOLD
from .mech import project
from .rhs import apply_segment, member_stride, rhs, store
from .rng import normal
from .views import fv, iv, wv

# keep in sync with thoughtfield._problem
F_T, F_H, F_ERRPREV, F_TBAD, F_MAXDY, F_T0, F_HSUB = 0, 1, 2, 3, 4, 5, 6
I_STEPS, I_RHS, I_ACC, I_REJ, I_STATUS, I_BAD, I_SEG, I_NEXT, I_K1, I_REJFLAG = range(10)
I_DENSE, I_KSUB, I_NSUB, I_BUDGET = 10, 11, 12, 13
O_DT, O_RTOL, O_ATOL, O_FIRST, O_MAXSTEP, O_MINSTEP, O_STEADY = range(7)
O_SAFETY, O_ALPHA, O_BETA, O_FACMIN, O_FACMAX = range(8, 13)
ST_OK, ST_STEADY, ST_NONFINITE, ST_STEP_TOO_SMALL, ST_MAX_STEPS, ST_CHOICE = 0, 1, 2, 3, 4, 5


@njit(cache=True, inline="always")
def _combine(dst, y, K, coef, ncoef, h):
    """``dst = y + h * sum_j coef[j] K[j]`` as vectorised passes, skipping zero weights."""
    NM = y.size
    dst[:] = y
    for j in range(ncoef):
        w = h * coef[j]
        if w != 0.0:
            kj = K[j]
            for q in range(NM):
                dst[q] += w * kj[q]


@njit(cache=True, inline="always")
def _fail(S, status, t, bad):
    S.ist[I_STATUS] = status
    S.fst[F_TBAD] = t
    S.ist[I_BAD] = bad


@njit(cache=True, inline="always")
def _save_current(P, W, S, ts, i_lo, i_hi, out):
    """Store the current state into every save slot whose time has been reached."""
    t = S.fst[F_T]
    while S.ist[I_NEXT] < i_hi and ts[S.ist[I_NEXT]] <= t:
        bad = store(P, W, S.y, out[S.ist[I_NEXT] - i_lo])
        if bad >= 0:
            _fail(S, ST_NONFINITE, t, bad)
            return
        S.ist[I_NEXT] += 1


@njit(cache=True, inline="always")
def _maybe_next_segment(P, W, S):
    """At a segment boundary switch to the next segment's inputs."""
    seg = S.ist[I_SEG]
    nseg = P.seg_t.size - 1
    if seg + 1 < nseg and S.fst[F_T] >= P.seg_t[seg + 1]:
        S.ist[I_SEG] = seg + 1
        apply_segment(P, W, seg + 1, S.y)
        S.ist[I_K1] = 0
        return True
    return False


@njit(cache=True, inline="always")
def run_fixed(P, W, Mt, S, K, ytmp, ts, i_lo, i_hi, out):
    """Fixed-step explicit RK (or Euler-Maruyama when ``Mt.stochastic``)."""
    A = Mt.A
    b = Mt.b
    c = Mt.c
    ns = b.size
    y = S.y
    NM = y.size
    N = P.n
    M = P.m
    dt = Mt.opt_f[O_DT]
    steady = Mt.opt_f[O_STEADY]
    max_steps = Mt.opt_i[0]
    nseg = P.seg_t.size - 1
    sn, mn = member_stride(P.noise, N)
    has_ev = iv(P.mi, P.mo, I_D_POOL).size > 0
    yold = wv(W.wm, W.wo, W_YOLD)
    ev_mode = np.int64(0 if Mt.stochastic else 2)  # events: linear (noise) or cubic Hermite
    # concepts without any noise (e.g. only the evidence accumulators are noisy) draw no
    # random numbers
    cnoise = False
    for q in range(P.noise.size):
        if P.noise[q] != 0.0:
            cnoise = True
    budget = S.ist[I_BUDGET]
    _save_current(P, W, S, ts, i_lo, i_hi, out)
    while S.ist[I_NEXT] < i_hi and S.ist[I_STATUS] == ST_OK:
        seg = S.ist[I_SEG]
        t_stop = min(ts[S.ist[I_NEXT]], P.seg_t[seg + 1])
        n = 0
        k0 = 0
        h = 0.0
        if S.ist[I_NSUB] > 0:
            # an interval cut by the step budget: continue it with its own start and step
            # (t_stop is the same: neither the segment nor the next save slot has changed)
            t = S.fst[F_T0]
            h = S.fst[F_HSUB]
            n = S.ist[I_NSUB]
            k0 = S.ist[I_KSUB]
        else:
            if budget > 0 and S.ist[I_STEPS] >= budget:
                return   # back to Python between two intervals
            t = S.fst[F_T]
            if t_stop > t:
                n = int(math.ceil((t_stop - t) / dt - 1e-9))
                if n < 1:
                    n = 1
                h = (t_stop - t) / n
        if n > 0:
            sqh = math.sqrt(h)
            for k in range(k0, n):
                tk = t + k * h
                mx, bad = rhs(P, W, tk, y, K[0])
                S.ist[I_RHS] += 1
                if bad >= 0:
                    S.fst[F_T] = tk
                    _fail(S, ST_NONFINITE, tk, bad)
                    return
                S.fst[F_MAXDY] = mx
                if steady > 0.0 and seg == nseg - 1 and mx < steady:
                    S.fst[F_T] = tk
                    S.ist[I_STATUS] = ST_STEADY
                    return
                for st in range(1, ns):
                    _combine(ytmp, y, K, A[st], st, h)
                    mx2, bad = rhs(P, W, tk + c[st] * h, ytmp, K[st])
                    S.ist[I_RHS] += 1
                    if bad >= 0:
                        S.fst[F_T] = tk
                        _fail(S, ST_NONFINITE, tk, bad)
                        return
                if has_ev:
                    yold[:] = y
                _combine(y, y, K, b, ns, h)
                if Mt.stochastic and cnoise:
                    for i in range(np.uint64(N)):
                        for m in range(np.uint64(M)):
                            z = normal(S.rng, S.spare, S.has_spare, np.int64(m))
                            q = i * np.uint64(M) + m
                            if not W.clamp[q]:
                                y[q] += sqh * P.noise[i * sn + (m & mn)] * z
                if Mt.stochastic and P.e_off >= 0:
                    _evidence_noise(P, W, S, y, sqh)
                if P.e_off >= 0 or P.w_off >= 0:
                    project(P, y)
                S.ist[I_STEPS] += 1
                S.ist[I_ACC] += 1
                if has_ev and detect(P, W, Mt, S, yold, y, K, tk, h, ev_mode):
                    S.fst[F_T] = tk + h
                    S.ist[I_STATUS] = ST_CHOICE
                    return
                if S.ist[I_STEPS] >= max_steps:
                    S.fst[F_T] = tk + h
                    S.ist[I_STATUS] = ST_MAX_STEPS
                    return
                if budget > 0 and S.ist[I_STEPS] >= budget and k + 1 < n:
                    # back to Python; the next call continues this interval exactly (after
                    # its last step the interval ends as usual, and the loop returns below)
                    S.fst[F_T] = tk + h
                    S.fst[F_T0] = t
                    S.fst[F_HSUB] = h
                    S.ist[I_NSUB] = n
                    S.ist[I_KSUB] = k + 1
                    return
            S.ist[I_NSUB] = 0
            S.ist[I_KSUB] = 0
            S.fst[F_T] = t_stop
        _maybe_next_segment(P, W, S)
        _save_current(P, W, S, ts, i_lo, i_hi, out)


@njit(cache=True, inline="always")
def _evidence_noise(P, W, S, y, sqh):
    """Diffusion of the evidence accumulators (after the concepts' noise, so adding
    accumulators leaves the concepts' random numbers unchanged)."""
    M = P.m
    e_noise = fv(P.mf, P.mo, F_E_NOISE)
    e_ptr = iv(P.mi, P.mo, I_E_PTR)
    e_cmp = iv(P.mi, P.mo, I_E_CMP)
    accon = wv(W.wm, W.wo, W_ACCON)
    for d in range(e_noise.size):
        sd = e_noise[d]
        if sd > 0.0 and accon[d] != 0.0 and e_cmp[d] == 3:
            r = P.e_off + e_ptr[d]   # diffusion: one noise, mirrored (e_2 = -e_1 stays exact)
            for m in range(M):
                z = sqh * sd * normal(S.rng, S.spare, S.has_spare, m)
                y[r * M + m] += z
                y[(r + 1) * M + m] -= z
        elif sd > 0.0 and accon[d] != 0.0:
            for r in range(P.e_off + e_ptr[d], P.e_off + e_ptr[d + 1]):
                for m in range(M):
                    z = normal(S.rng, S.spare, S.has_spare, m)
                    y[r * M + m] += sqh * sd * z


@njit(cache=True, inline="always")
def _err_norm(P, Mt, y, ynew, K, h, errm):
    """Largest over members of the RMS over concepts of the scaled error estimate
    (``errm``: scratch of 2 M)."""
    if Mt.e3.size > 0:
        return _err_norm2(P, Mt, y, ynew, K, h, errm)
    M = P.m
    NM = y.size
    S_rows = NM // M
    e = Mt.e
    ns = e.size
    rtol = Mt.opt_f[O_RTOL]
    atol = Mt.opt_f[O_ATOL]
    errm[:] = 0.0
    for i in range(S_rows):
        for m in range(M):
            q = i * M + m
            a = 0.0
            for j in range(ns):
                a += e[j] * K[j, q]
            sc = atol + rtol * max(abs(y[q]), abs(ynew[q]))
            r = h * a / sc
            errm[m] += r * r
    worst = 0.0
    for m in range(M):
        v = math.sqrt(errm[m] / S_rows)
        if not v <= worst:  # also propagates NaN
            worst = v
    return worst


@njit(cache=True, inline="always")
def _err_norm2(P, Mt, y, ynew, K, h, errm):
    """DOP853's error (Hairer & Wanner): with ``E5``, ``E3`` the RMS over concepts of the
    scaled 5th- and 3rd-order estimates, ``|h| E5^2 / sqrt(E5^2 + 0.01 E3^2)``; the largest
    over members."""
    M = P.m
    NM = y.size
    S_rows = NM // M
    e = Mt.e
    e3 = Mt.e3
    n5 = e.size
    n3 = e3.size
    rtol = Mt.opt_f[O_RTOL]
    atol = Mt.opt_f[O_ATOL]
    errm[:] = 0.0
    for i in range(S_rows):
        for m in range(M):
            q = i * M + m
            a5 = 0.0
            for j in range(n5):
                a5 += e[j] * K[j, q]
            a3 = 0.0
            for j in range(n3):
                a3 += e3[j] * K[j, q]
            sc = atol + rtol * max(abs(y[q]), abs(ynew[q]))
            r5 = a5 / sc
            r3 = a3 / sc
            errm[m] += r5 * r5
            errm[M + m] += r3 * r3
    worst = 0.0
    for m in range(M):
        s5 = errm[m]
        den = s5 + 0.01 * errm[M + m]
        if den <= 0.0:
            den = 1.0
        v = abs(h) * s5 / math.sqrt(den * S_rows)
        if not v <= worst:  # also propagates NaN
            worst = v
    return worst


@njit(cache=True, inline="always")
def _first_overflow(Mt, K, ynew):
    """The row whose error estimate is not finite (else the largest ``|y_new|``)."""
    e = Mt.e
    big = 0
    for q in range(ynew.size):
        a = 0.0
        for j in range(e.size):
            a += e[j] * K[j, q]
        if not abs(a) < np.inf:
            return q
        if abs(ynew[q]) > abs(ynew[big]):
            big = q
    return big


@njit(cache=True, inline="always")
def _initial_step(P, W, Mt, S, K, ytmp, t, t_stop):
    """Hairer, Norsett & Wanner (1993) II.4 starting step selection."""
    y = S.y
    NM = y.size
    rtol = Mt.opt_f[O_RTOL]
    atol = Mt.opt_f[O_ATOL]
    d0 = 0.0
    d1 = 0.0
    for q in range(NM):
        sc = atol + abs(y[q]) * rtol
        d0 += (y[q] / sc) ** 2
        d1 += (K[0, q] / sc) ** 2
    d0 = math.sqrt(d0 / NM)
    d1 = math.sqrt(d1 / NM)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = min(h0, t_stop - t)
    for q in range(NM):
        ytmp[q] = y[q] + h0 * K[0, q]
    rhs(P, W, t + h0, ytmp, K[1])
    S.ist[I_RHS] += 1
    d2 = 0.0
    for q in range(NM):
        sc = atol + abs(y[q]) * rtol
        d2 += ((K[1, q] - K[0, q]) / sc) ** 2
    d2 = math.sqrt(d2 / NM) / h0
    if not (d2 < np.inf):
        return h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / Mt.order)
    return min(100.0 * h0, h1)


@njit(cache=True, inline="always")
def run_adaptive(P, W, Mt, S, K, ytmp, ynew, errm, ts, i_lo, i_hi, out):
    """Embedded explicit RK with PI step control, FSAL and dense output."""
    A = Mt.A
    c = Mt.c
    Pd = Mt.P
    ns = Mt.opt_i[1]     # stages of a step, the last one f(t + h, y_new) (FSAL)
    nk = c.size          # K rows: the step's stages and the extra dense-output stages
    y = S.y
    NM = y.size
    # the FSAL stage is needed by the error estimate (dopri5) or only by the next step
    # (dop853): then it is evaluated for accepted steps only
    defer = Mt.e.size < ns and Mt.e3.size < ns
    safety = Mt.opt_f[O_SAFETY]
    alpha = Mt.opt_f[O_ALPHA]
    beta = Mt.opt_f[O_BETA]
    facmin = Mt.opt_f[O_FACMIN]
    facmax = Mt.opt_f[O_FACMAX]
    steady = Mt.opt_f[O_STEADY]
    max_step = Mt.opt_f[O_MAXSTEP]
    min_step = Mt.opt_f[O_MINSTEP]
    max_steps = Mt.opt_i[0]
    nseg = P.seg_t.size - 1
    coef = np.empty(nk)
    budget = S.ist[I_BUDGET]
    _save_current(P, W, S, ts, i_lo, i_hi, out)
    while S.ist[I_NEXT] < i_hi and S.ist[I_STATUS] == ST_OK:
        seg = S.ist[I_SEG]
        t = S.fst[F_T]
        t_stop = P.seg_t[seg + 1]
        if t >= t_stop:  # at a boundary (only possible at the very end)
            if not _maybe_next_segment(P, W, S):
                break
            continue
        if S.ist[I_K1] == 0:
            mx, bad = rhs(P, W, t, y, K[0])
            S.ist[I_RHS] += 1
            if bad >= 0:
                _fail(S, ST_NONFINITE, t, bad)
                return
            S.fst[F_MAXDY] = mx
            S.ist[I_K1] = 1
        if steady > 0.0 and seg == nseg - 1 and S.fst[F_MAXDY] < steady:
            S.ist[I_STATUS] = ST_STEADY
            return
        h = S.fst[F_H]
        if h <= 0.0:
            h = Mt.opt_f[O_FIRST]
            if h <= 0.0:
                h = _initial_step(P, W, Mt, S, K, ytmp, t, t_stop)
        h = min(h, max_step)
        last = False
        if t + h >= t_stop:
            h = t_stop - t
            last = True
        # stages 2..ns; the last stage input is y_new (FSAL)
        finite = True
        bad = -1
        mx = 0.0
        for st in range(1, ns):
            dst = ynew if st == ns - 1 else ytmp
            _combine(dst, y, K, A[st], st, h)
            if defer and st == ns - 1:
                break
            mx, bad = rhs(P, W, t + c[st] * h, dst, K[st])
            S.ist[I_RHS] += 1
            if bad >= 0:
                finite = False
                break
        err = _err_norm(P, Mt, y, ynew, K, h, errm) if finite else np.inf
        if finite and not err < np.inf:
            # finite stages but the error estimate overflows: the state is about to
            # become non-finite; treated like a non-finite stage
            finite = False
            bad = _first_overflow(Mt, K, ynew)
        if defer and finite and err <= 1.0:
            mx, bad = rhs(P, W, t + c[ns - 1] * h, ynew, K[ns - 1])
            S.ist[I_RHS] += 1
            if bad >= 0:
                finite = False
        if finite and err <= 1.0:
            t_new = t_stop if last else t + h
            S.ist[I_DENSE] = 0
            # dense output for every save time inside the step -- also those at or past
            # i_hi when ``out`` has room for them, so that where a chunk ends never changes
            # what is saved (the caller passes the whole rest of the output)
            while S.ist[I_NEXT] < i_lo + out.shape[0] and ts[S.ist[I_NEXT]] < t_new:
                if nk > ns:
                    extra_stages(P, W, Mt, S, y, K, ytmp, t, h)
                dense_coef(Pd, (ts[S.ist[I_NEXT]] - t) / h, coef)   # Pd has nk rows
                _combine(ytmp, y, K, coef, nk, h)
                if P.e_off >= 0 or P.w_off >= 0:
                    project(P, ytmp)  # the interpolant may dip below an accumulator's floor
                bad = store(P, W, ytmp, out[S.ist[I_NEXT] - i_lo])
                if bad >= 0:
                    _fail(S, ST_NONFINITE, ts[S.ist[I_NEXT]], bad)
                    return
                S.ist[I_NEXT] += 1
            stop = False
            if iv(P.mi, P.mo, I_D_POOL).size > 0:
                stop = detect(P, W, Mt, S, y, ynew, K, t, h, np.int64(1))
            S.ist[I_DENSE] = 0
            y[:] = ynew
            K[0, :] = K[ns - 1, :]
            if (P.e_off >= 0 or P.w_off >= 0) and project(P, y):
                S.ist[I_K1] = 0  # the FSAL derivative belongs to the unprojected state
            S.fst[F_MAXDY] = mx
            S.fst[F_T] = t_new
            S.ist[I_STEPS] += 1
            S.ist[I_ACC] += 1
            if stop:
                S.ist[I_STATUS] = ST_CHOICE
                return
            if err == 0.0:
                fac = facmax
            else:
                fac = safety * err ** (-alpha) * S.fst[F_ERRPREV] ** beta
                fac = min(facmax, max(facmin, fac))
            if S.ist[I_REJFLAG]:
                fac = min(fac, 1.0)
            S.ist[I_REJFLAG] = 0
            S.fst[F_ERRPREV] = max(err, 1e-4)
            S.fst[F_H] = h * fac
            _maybe_next_segment(P, W, S)
            _save_current(P, W, S, ts, i_lo, i_hi, out)
        else:
            S.ist[I_REJ] += 1
            S.ist[I_REJFLAG] = 1
            if finite:
                fac = max(facmin, safety * err ** (-alpha))
            else:
                fac = 0.25
            h_new = h * fac
            S.fst[F_H] = h_new
            if h_new < min_step:
                if finite:
                    _fail(S, ST_STEP_TOO_SMALL, t, -1)
                else:
                    _fail(S, ST_NONFINITE, t, bad)
                return
        if S.ist[I_STEPS] + S.ist[I_REJ] >= max_steps:
            S.ist[I_STATUS] = ST_MAX_STEPS
            return
        if budget > 0 and S.ist[I_STEPS] + S.ist[I_REJ] >= budget:
            return   # back to Python: the state is complete between steps


@njit(cache=True)
def integrate(P, W, Mt, S, K, ytmp, ynew, errm, ts, i_lo, i_hi, out):
    """The one entry point of the continuous integrators: :func:`run_adaptive` for embedded
    methods (``Mt.e`` not empty), else :func:`run_fixed`.  Both are inlined here, so every
    method, mechanism and ensemble size runs the same compiled (and cached) function: one
    compile per installation, not one per kind of config."""
    if Mt.e.size > 0:
        run_adaptive(P, W, Mt, S, K, ytmp, ynew, errm, ts, i_lo, i_hi, out)
    else:
        run_fixed(P, W, Mt, S, K, ytmp, ts, i_lo, i_hi, out)
