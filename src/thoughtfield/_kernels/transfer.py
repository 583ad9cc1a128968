"""Transfer functions evaluated on blocks, vectorisable by LLVM.

``math.tanh``/``math.exp`` in a numba loop are scalar libm calls (20-28 ns per element on
the reference machine, DESIGN §3).  Here ``exp`` is computed on a block with Cody-Waite
range reduction ``x = k ln2 + r`` (|r| <= ln2/2), a degree-11 Taylor polynomial for
``exp(r)`` (truncation error < 0.35**12/12! ~ 6e-15 relative) and ``2**k`` assembled in the
exponent bits of an int64 buffer viewed as float64; all loops vectorise.  Measured
relative error against numpy: < 1e-14; the logistic and tanh built on it are accurate to
about 4e-15 absolute (tested in ``tests/test_kernels.py``).

The codes below are the ``code`` of each entry of ``thoughtfield.transfers.REGISTRY``
(which holds everything else about a transfer function); a new transfer function is a
registry entry plus a branch here, in both :func:`phi_block` and :func:`phi_scalar`
(``tests/test_transfers.py`` checks them against the registry's numpy ``f``).  A code
without a branch gives NaN, so a run with it stops as non-finite instead of silently
running a linear ``f``.
"""

import math

import numpy as np
from ._numba import njit

LINEAR = 0
SIGMOID = 1
TANH = 2
SATLIN = 3
RELU = 4
SOFTPLUS = 5
SIGN = 6
STEP = 7
#: The codes that have a branch in :func:`phi_block` and :func:`phi_scalar` (a run refuses a
#: registered transfer function whose code is not here, naming what to add).
BRANCHES = frozenset((LINEAR, SIGMOID, TANH, SATLIN, RELU, SOFTPLUS, SIGN, STEP))

_LOG2E = 1.4426950408889634
_LN2HI = 6.93147180369123816490e-01
_LN2LO = 1.90821492927058770002e-10
_XMAX = 708.0


@njit(cache=True, fastmath={"contract"})
def _exp_parts(x, n, scale, pbuf, ibuf):
    """First half of ``exp(scale * x)``: ``pbuf = exp(r)`` and ``ibuf`` = bits of ``2**k``.

    The argument is clipped to [-708, 708].  ``pbuf`` must not overlap ``x``: LLVM's
    run-time alias check would send the loop down its scalar path, 4x slower.
    """
    for q in range(n):
        xi = min(max(scale * x[q], -_XMAX), _XMAX)
        k = math.floor(xi * _LOG2E + 0.5)
        r = (xi - k * _LN2HI) - k * _LN2LO
        pbuf[q] = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (
            1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (1.0 / 40320.0 + r * (
                1.0 / 362880.0 + r * (1.0 / 3628800.0 + r * (1.0 / 39916800.0)))))))))))
        ibuf[q] = (np.int64(k) + 1023) << 52


@njit(cache=True)
def exp_block(x, n, out, ibuf, fview, scale):
    """``out[:n] = exp(scale * x[:n])`` (argument clipped to [-708, 708]).

    ``fview`` must be ``ibuf.view(np.float64)``; ``out`` must not be ``x``.
    """
    _exp_parts(x, n, scale, out, ibuf)
    for q in range(n):
        out[q] = out[q] * fview[q]


@njit(cache=True)
def phi_block(kind, x, n, ebuf, ibuf, fview):
    """Apply the transfer function ``kind`` to ``x[:n]`` in place (``ebuf``, ``ibuf`` are
    scratch of at least ``n`` elements, ``fview = ibuf.view(np.float64)``)."""
    if kind == LINEAR:
        return
    if kind == SIGMOID:
        _exp_parts(x, n, -1.0, ebuf, ibuf)
        for q in range(n):
            x[q] = 1.0 / (1.0 + ebuf[q] * fview[q])
    elif kind == TANH:
        _exp_parts(x, n, 2.0, ebuf, ibuf)
        for q in range(n):
            x[q] = 1.0 - 2.0 / (1.0 + ebuf[q] * fview[q])
    elif kind == SATLIN:
        for q in range(n):
            x[q] = min(max(x[q], 0.0), 1.0)
    elif kind == RELU:
        for q in range(n):
            x[q] = max(x[q], 0.0)
    elif kind == SOFTPLUS:
        # log(1 + e^x) = x + log1p(e^-x) for x > 0, log1p(e^x) otherwise (no overflow:
        # e^x is clipped at e^708, and 1 / e^708 is far below an ulp of x)
        _exp_parts(x, n, 1.0, ebuf, ibuf)
        for q in range(n):
            e = ebuf[q] * fview[q]
            xq = x[q]
            x[q] = xq + math.log1p(1.0 / e) if xq > 0.0 else math.log1p(e)
    elif kind == SIGN:   # (NaN stays NaN: a diverged input is not hidden)
        for q in range(n):
            xq = x[q]
            x[q] = 1.0 if xq >= 0.0 else (-1.0 if xq < 0.0 else xq)
    elif kind == STEP:
        for q in range(n):
            xq = x[q]
            x[q] = 1.0 if xq >= 0.0 else (0.0 if xq < 0.0 else xq)
    else:
        for q in range(n):
            x[q] = math.nan


@njit(cache=True)
def phi_scalar(kind, x):
    """Scalar reference version (libm) of :func:`phi_block`."""
    if kind == SIGMOID:
        return 1.0 / (1.0 + math.exp(-x))
    if kind == TANH:
        return math.tanh(x)
    if kind == SATLIN:
        return min(max(x, 0.0), 1.0)
    if kind == RELU:
        return max(x, 0.0)
    if kind == SOFTPLUS:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    if kind == SIGN:
        return 1.0 if x >= 0.0 else (-1.0 if x < 0.0 else x)
    if kind == STEP:
        return 1.0 if x >= 0.0 else (0.0 if x < 0.0 else x)
    if kind == LINEAR:
        return x
    return math.nan
