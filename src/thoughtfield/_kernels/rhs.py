"""The right-hand side of the reference model on flat member-minor arrays.

Performance notes (measured, see benchmarks/core_vs_numpy.py):

* numba wraps negative indices of signed integers; in a CSR product that adds about ten
  instructions per edge.  Row pointers are therefore ``uint64``, column indices
  ``uint32`` and the hot loops run over unsigned counters, so no wrap-around code is
  generated (about 1.6x faster at N = 1e6, 2x faster RHS at N = 1e4).
* Rows are processed in blocks of ``W.block``: the block's net inputs stay in cache
  while the transfer function is applied to the whole block with vectorised code
  (``transfer.phi_block``), then the derivatives are written.
* Mixing ``uint64`` with ``int64`` makes numba produce ``float64``; every counter
  below is kept unsigned on purpose.
* Each row's sum runs in two partial sums -- even and odd edge positions -- which halves
  the floating-point add dependency chain (:func:`_row_dot`; with several members
  :func:`_row_gather`, so a member's result does not depend on the ensemble size).
* The right-hand side is compiled without numba's reference counting
  (:data:`~thoughtfield._kernels._numba.NO_REFCOUNTS`).  With it, a call of a kernel
  increments and decrements the count of every array in the ``Problem`` and ``Work``
  tuples it is given (atomic operations, about 70 per call: 0.92 us of a 2-concept RHS,
  0.20 us without), and the row-sum helpers above, inlined, did the same for their array
  arguments on every row, which its pruning pass did not always remove (one evaluation 4x
  slower at N = 1e3-1e4; the loops were written out in the rows for a while because of
  it).  None of these functions allocates, and neither may anything they call (a callee
  is compiled in its caller's setting); the task loops take their scratch from
  ``Work.wm``.
* Large problems split the rows into ``W.ntask`` row ranges (``*_tasks``): the gathers of
  a CSR product at N = 1e6 are bound by memory latency, and a second core doubles the
  misses in flight (measured 22-48 ms instead of 57-93 ms per product at N = 1e6 on 2
  cores).  The cached task loops here run their ranges one after another; their threaded
  twins (``threads.py``, ``parallel=True``, never cached) run them on numba's threads.
"""

import numpy as np
from ._numba import NO_REFCOUNTS, njit, prange

from .layout import (F_D_ONSET, F_Q_INT, F_Q_VAL, F_W_PAR, I_O_ROWS, I_Q_IPTR, W_ACCON, W_ACT,
                     W_CVAL, W_QVAL, W_TACC, W_TBUF, W_TEBUF, W_TIBUF, W_WON, W_XIN)
from .mech import extras, prepare
from .transfer import phi_block
from .views import fv, iv, wv

_INF = np.inf
_U0 = np.uint64(0)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True)
def apply_segment(P, W, k, y):
    """Load the inputs of segment ``k`` into the workspace and set clamped states.

    In the activation form a clamp sets the state itself; in the potential form it
    overrides the output ``a = f(u)`` (scratch ``cval``) while ``u`` is held.  Decisions
    whose onset has been reached are switched on (scratch ``accon``)."""
    M = P.m
    W.inp[:] = 0.0
    W.clamp[:] = 0
    cval = wv(W.wm, W.wo, W_CVAL)
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
                cval[q] = v
                if P.form == 0:
                    y[q] = v
    d_onset = fv(P.mf, P.mo, F_D_ONSET)
    accon = wv(W.wm, W.wo, W_ACCON)
    for d in range(d_onset.size):
        accon[d] = 1.0 if P.seg_t[k] >= d_onset[d] else 0.0
    if P.w_off >= 0:   # plastic weights learn inside [start, stop) (segment boundaries)
        par = fv(P.mf, P.mo, F_W_PAR)
        wv(W.wm, W.wo, W_WON)[0] = 1.0 if par[4] <= P.seg_t[k] < par[5] else 0.0
    q_val = fv(P.mf, P.mo, F_Q_VAL)
    if q_val.size > 0:   # gates: their value in this segment (interval boundaries cut segments)
        q_iptr = iv(P.mi, P.mo, I_Q_IPTR)
        q_int = fv(P.mf, P.mo, F_Q_INT)
        qval = wv(W.wm, W.wo, W_QVAL)
        t = P.seg_t[k]
        for g in range(q_val.size):
            v = q_val[g]
            for r in range(q_iptr[g], q_iptr[g + 1]):
                if q_int[3 * r] <= t < q_int[3 * r + 1]:
                    v = q_int[3 * r + 2]
            qval[g] = v


PAD = 64


@njit(cache=True)
def _padded(n):
    """``n`` rounded up to a multiple of ``PAD``.  The transfer function runs over the padded
    length so that every element takes the vectorised path (the scalar remainder loop
    rounds differently with FMA contraction); a concept's transfer value then does not
    depend on its position in the block (permuted networks, ensemble sizes).  Scratch
    buffers are sized for it."""
    return (n + PAD - 1) // PAD * PAD


@njit(cache=True)
def member_stride(a, n):
    """``(stride, mask)`` to read a per-concept parameter stored as ``a[i * Mp + m]`` with
    ``Mp`` 1 (shared by all members) or ``M``: index ``i * stride + (m & mask)``."""
    if a.size == n:
        return np.uint64(1), _U0
    return np.uint64(a.size // n), _ALL


_U1 = np.uint64(1)
_U2 = np.uint64(2)


@njit(cache=True, inline="always", **NO_REFCOUNTS)
def _row_dot(indptr, indices, data, x, i):
    """``sum_k data[k] * x[indices[k]]`` over the edges of row ``i`` (one member), in two
    partial sums -- even and odd edge positions -- which halves the floating-point add
    dependency chain."""
    lo = indptr[i]
    hi = indptr[i + _U1]
    a0 = 0.0
    a1 = 0.0
    k = lo
    while k + _U2 <= hi:
        a0 += data[k] * x[indices[k]]
        a1 += data[k + _U1] * x[indices[k + _U1]]
        k += _U2
    if k < hi:
        a0 += data[k] * x[indices[k]]
    return a0 + a1


@njit(cache=True, inline="always", **NO_REFCOUNTS)
def _row_gather(indptr, indices, data, x, i, Mu, acc):
    """The same sum for ``Mu`` members of member-minor ``x``: member ``m``'s even edge
    positions in ``acc[m]``, odd ones in ``acc[Mu + m]`` (the same two partial sums as
    :func:`_row_dot`, so a member's result does not depend on the ensemble size)."""
    for m in range(Mu + Mu):
        acc[m] = 0.0
    lo = indptr[i]
    hi = indptr[i + _U1]
    for k in range(lo, hi):
        w = data[k]
        jb = np.uint64(indices[k]) * Mu
        ab = ((k - lo) & _U1) * Mu
        for m in range(Mu):
            acc[ab + m] += w * x[jb + m]


@njit(cache=True, **NO_REFCOUNTS)
def _rows(P, W, y, dy, r0, r1, buf, ebuf, ibuf, fview, acc):
    """Derivatives of rows ``[r0, r1)``, processed in blocks of ``W.block`` rows with the
    given scratch buffers.  Returns ``(max |dy|, chk)`` where ``chk`` is NaN if some
    derivative is not finite."""
    M = P.m
    Mu = np.uint64(M)
    N = P.n
    B = W.block
    indptr = P.indptr
    indices = P.indices
    data = P.data
    gain = P.gain
    thr = P.thr
    bias = P.bias
    tau_inv = P.tau_inv
    # the input: external only, or external + mechanism terms (prepare() writes the sum
    # into xin); chosen once, so the reference model's rows run exactly as before
    inp = wv(W.wm, W.wo, W_XIN) if P.xmode != 0 else W.inp
    clamp = W.clamp
    mx = 0.0
    chk = 0.0
    for s0 in range(r0, r1, B):
        s1 = min(s0 + B, r1)
        u0 = np.uint64(s0)
        u1 = np.uint64(s1)
        if M == 1:
            for i in range(u0, u1):
                buf[i - u0] = gain[i] * (_row_dot(indptr, indices, data, y, i) + inp[i]
                                         + bias[i] - thr[i])
            phi_block(P.ftype, buf, _padded(s1 - s0), ebuf, ibuf, fview)
            for i in range(u0, u1):
                d = (buf[i - u0] - y[i]) * tau_inv[i]
                if clamp[i]:
                    d = 0.0
                dy[i] = d
                ad = abs(d)
                mx = ad if ad > mx else mx
                chk += d - d
        else:
            sg, mg = member_stride(gain, N)
            st, mt = member_stride(thr, N)
            sb, mb = member_stride(bias, N)
            stau, mtau = member_stride(tau_inv, N)
            for i in range(u0, u1):
                _row_gather(indptr, indices, data, y, i, Mu, acc)
                qb = (i - u0) * Mu
                ib = i * Mu
                for m in range(Mu):
                    buf[qb + m] = gain[i * sg + (m & mg)] * (
                        (acc[m] + acc[Mu + m]) + inp[ib + m] + bias[i * sb + (m & mb)]
                        - thr[i * st + (m & mt)])
            phi_block(P.ftype, buf, _padded((s1 - s0) * M), ebuf, ibuf, fview)
            for i in range(u0, u1):
                qb = (i - u0) * Mu
                ib = i * Mu
                ti = i * stau
                for m in range(Mu):
                    q = ib + m
                    d = (buf[qb + m] - y[q]) * tau_inv[ti + (m & mtau)]
                    if clamp[q]:
                        d = 0.0
                    dy[q] = d
                    ad = abs(d)
                    mx = ad if ad > mx else mx
                    chk += d - d
    return mx, chk


@njit(cache=True, **NO_REFCOUNTS)
def _rows_tasks(P, W, y, dy, ntask, mxs, chks):
    """Rows in ``ntask`` ranges, each task with its own scratch (one after another here, in
    parallel in the threaded twin, ``threads.py``).  Every row is computed by the same
    arithmetic as in the single-range path, so results are bitwise identical."""
    N = P.n
    BM = W.buf.size
    A = 2 * P.m
    tb = wv(W.wm, W.wo, W_TBUF)
    te = wv(W.wm, W.wo, W_TEBUF)
    ti = wv(W.wm, W.wo, W_TIBUF)
    ta = wv(W.wm, W.wo, W_TACC)
    rows = (N + ntask - 1) // ntask
    for t in prange(ntask):
        r0 = min(N, t * rows)
        r1 = min(N, r0 + rows)
        fview = ti[t * BM:(t + 1) * BM]
        mx, chk = _rows(P, W, y, dy, r0, r1, tb[t * BM:(t + 1) * BM],
                        te[t * BM:(t + 1) * BM], fview.view(np.int64), fview,
                        ta[t * A:(t + 1) * A])
        mxs[t] = mx
        chks[t] = chk


# ---------------------------------------------------------------- potential form
@njit(cache=True, **NO_REFCOUNTS)
def _outputs(P, W, y, out, r0, r1, buf, ebuf, ibuf, fview):
    """Outputs ``a = f(gain * (u + bias - threshold))`` of rows ``[r0, r1)`` (clamped
    concepts output their clamp value), transfer evaluated on blocks as in :func:`_rows`."""
    M = P.m
    Mu = np.uint64(M)
    N = P.n
    B = W.block
    sg, mg = member_stride(P.gain, N)
    st, mt = member_stride(P.thr, N)
    sb, mb = member_stride(P.bias, N)
    gain = P.gain
    thr = P.thr
    bias = P.bias
    clamp = W.clamp
    cval = wv(W.wm, W.wo, W_CVAL)
    for s0 in range(r0, r1, B):
        s1 = min(s0 + B, r1)
        u0 = np.uint64(s0)
        u1 = np.uint64(s1)
        if M == 1:
            for i in range(u0, u1):
                buf[i - u0] = gain[i] * (y[i] + bias[i] - thr[i])
            phi_block(P.ftype, buf, _padded(s1 - s0), ebuf, ibuf, fview)
            for i in range(u0, u1):
                out[i] = cval[i] if clamp[i] else buf[i - u0]
            continue
        for i in range(u0, u1):
            qb = (i - u0) * Mu
            ib = i * Mu
            for m in range(Mu):
                buf[qb + m] = gain[i * sg + (m & mg)] * (y[ib + m] + bias[i * sb + (m & mb)]
                                                         - thr[i * st + (m & mt)])
        phi_block(P.ftype, buf, _padded((s1 - s0) * M), ebuf, ibuf, fview)
        for i in range(u0, u1):
            qb = (i - u0) * Mu
            ib = i * Mu
            for m in range(Mu):
                q = ib + m
                out[q] = cval[q] if clamp[q] else buf[qb + m]


@njit(cache=True, **NO_REFCOUNTS)
def _outputs_tasks(P, W, y, out, ntask):
    N = P.n
    BM = W.buf.size
    tb = wv(W.wm, W.wo, W_TBUF)
    te = wv(W.wm, W.wo, W_TEBUF)
    ti = wv(W.wm, W.wo, W_TIBUF)
    rows = (N + ntask - 1) // ntask
    for t in prange(ntask):
        r0 = min(N, t * rows)
        r1 = min(N, r0 + rows)
        fview = ti[t * BM:(t + 1) * BM]
        _outputs(P, W, y, out, r0, r1, tb[t * BM:(t + 1) * BM], te[t * BM:(t + 1) * BM],
                 fview.view(np.int64), fview)


@njit(cache=True, **NO_REFCOUNTS)
def outputs(P, W, y, out):
    """``out[:N*M] = a`` for state ``y``: the state itself in the activation form, ``f(u)``
    in the potential form."""
    NM = P.n * P.m
    if P.form == 0:
        for q in range(NM):
            out[q] = y[q]
    elif W.ntask > 1:
        _outputs_tasks(P, W, y, out, W.ntask)
    else:
        _outputs(P, W, y, out, np.int64(0), P.n, W.buf, W.ebuf, W.ibuf, W.fview)


@njit(cache=True, **NO_REFCOUNTS)
def _rows_pot(P, W, y, a, dy, r0, r1, acc):
    """Potential form: ``tau du/dt = -u + W a + I + x`` for rows ``[r0, r1)`` (the same
    two partial sums per row as :func:`_rows`)."""
    M = P.m
    Mu = np.uint64(M)
    N = P.n
    indptr = P.indptr
    indices = P.indices
    data = P.data
    inp = wv(W.wm, W.wo, W_XIN) if P.xmode != 0 else W.inp  # see _rows
    clamp = W.clamp
    tau_inv = P.tau_inv
    mx = 0.0
    chk = 0.0
    if M == 1:
        for i in range(np.uint64(r0), np.uint64(r1)):
            d = (_row_dot(indptr, indices, data, a, i) + inp[i] - y[i]) * tau_inv[i]
            if clamp[i]:
                d = 0.0
            dy[i] = d
            ad = abs(d)
            mx = ad if ad > mx else mx
            chk += d - d
        return mx, chk
    stau, mtau = member_stride(tau_inv, N)
    for i in range(np.uint64(r0), np.uint64(r1)):
        _row_gather(indptr, indices, data, a, i, Mu, acc)
        ib = i * Mu
        ti = i * stau
        for m in range(Mu):
            q = ib + m
            d = ((acc[m] + acc[Mu + m]) + inp[q] - y[q]) * tau_inv[ti + (m & mtau)]
            if clamp[q]:
                d = 0.0
            dy[q] = d
            ad = abs(d)
            mx = ad if ad > mx else mx
            chk += d - d
    return mx, chk


@njit(cache=True, **NO_REFCOUNTS)
def _rows_pot_tasks(P, W, y, a, dy, ntask, mxs, chks):
    N = P.n
    A = 2 * P.m
    ta = wv(W.wm, W.wo, W_TACC)
    rows = (N + ntask - 1) // ntask
    for t in prange(ntask):
        r0 = min(N, t * rows)
        r1 = min(N, r0 + rows)
        mx, chk = _rows_pot(P, W, y, a, dy, r0, r1, ta[t * A:(t + 1) * A])
        mxs[t] = mx
        chks[t] = chk


# ---------------------------------------------------------------- the right-hand side
@njit(cache=True, **NO_REFCOUNTS)
def rhs(P, W, t, y, dy):
    """``dy = f(t, y)``.  Returns ``(max |dy|, index of the first non-finite dy or -1)``."""
    N = P.n
    if P.form == 1:
        a = wv(W.wm, W.wo, W_ACT)
        outputs(P, W, y, a)
    else:
        a = y
    if P.xmode != 0:
        prepare(P, W, y, a)
    if P.form == 0:
        if W.ntask > 1:
            _rows_tasks(P, W, y, dy, W.ntask, W.mxs, W.chks)
            mx = 0.0
            chk = 0.0
            for k in range(W.ntask):
                mx = max(mx, W.mxs[k])
                chk += W.chks[k]
        else:
            mx, chk = _rows(P, W, y, dy, np.int64(0), N, W.buf, W.ebuf, W.ibuf, W.fview, W.acc)
    else:
        if W.ntask > 1:
            _rows_pot_tasks(P, W, y, a, dy, W.ntask, W.mxs, W.chks)
            mx = 0.0
            chk = 0.0
            for k in range(W.ntask):
                mx = max(mx, W.mxs[k])
                chk += W.chks[k]
        else:
            mx, chk = _rows_pot(P, W, y, a, dy, np.int64(0), N, W.acc)
    if P.nstate > N:
        mx2, chk2 = extras(P, W, y, a, dy)
        mx = max(mx, mx2)
        chk += chk2
    bad = -1
    if chk != 0.0:  # NaN: some derivative is NaN or infinite
        for q in range(P.nstate * P.m):
            if not abs(dy[q]) < _INF:
                bad = q
                break
    return mx, bad


@njit(cache=True)
def store(P, W, y, out_row):
    """Copy the observables of state ``y`` into ``out_row``: the output ``a`` (and ``u`` in
    the potential form when ``P.o_u``), then the state row ranges listed in ``o_rows``.
    Returns the state index (``row * M + member``) of the first non-finite value or -1."""
    M = P.m
    NM = P.n * M
    chk = 0.0
    if P.form == 0:
        for q in range(NM):
            v = y[q]
            out_row[q] = v
            chk += v - v
    else:
        act = wv(W.wm, W.wo, W_ACT)
        outputs(P, W, y, act)
        for q in range(NM):
            v = act[q]
            out_row[q] = v
            chk += v - v
    off = NM
    if P.form == 1 and P.o_u != 0:
        for q in range(NM):
            v = y[q]
            out_row[off + q] = v
            chk += v - v
        off += NM
    o_rows = iv(P.mi, P.mo, I_O_ROWS)
    for k in range(o_rows.size // 2):
        for q in range(o_rows[2 * k] * M, o_rows[2 * k + 1] * M):
            v = y[q]
            out_row[off] = v
            chk += v - v
            off += 1
    if chk != 0.0:
        for q in range(NM):
            if not abs(out_row[q]) < _INF:
                return q
        for q in range(P.nstate * M):
            if not abs(y[q]) < _INF:
                return q
        return 0
    return -1
