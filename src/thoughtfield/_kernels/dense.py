"""Dense output: the stage weights at a point inside a step, and the extra stages
some methods need (DOP853: stages 14..16).

The extra stages are evaluated once per accepted step, and only for steps that interpolate (a save time
inside the step, or a choice event to locate); ``S.ist[I_DENSE]`` says whether they are
current.  Shared by the integrator and the event detection.
"""

from ._numba import njit

from .rhs import rhs

# keep in sync with thoughtfield._problem
I_RHS, I_DENSE = 1, 10


@njit(cache=True, inline="always")
def dense_coef(Pd, th, coef):
    """Weights of the stages in the dense output at ``theta = th`` of a step:
    ``coef[j] = sum_r Pd[j, r] * th**(r + 1)`` for every row of ``Pd``."""
    ns = Pd.shape[0]
    nd = Pd.shape[1]
    for j in range(ns):
        v = 0.0
        p = 1.0
        for r in range(nd):
            p *= th
            v += Pd[j, r] * p
        coef[j] = v


@njit(cache=True, inline="always")
def extra_stages(P, W, Mt, S, y, K, tmp, t, h):
    """Fill the rows of ``K`` past the step's stages (``Mt.opt_i[1]``) for the step
    ``[t, t + h]`` from ``y`` (all the step's stages, the FSAL one included, must be in
    ``K``); ``tmp`` is scratch of the size of ``y``.  Returns the first non-finite row or -1."""
    if S.ist[I_DENSE] != 0:
        return -1
    A = Mt.A
    c = Mt.c
    NM = y.size
    first_bad = -1
    for st in range(Mt.opt_i[1], c.size):
        for q in range(NM):   # (a loop: a slice copy needs numba's runtime)
            tmp[q] = y[q]
        for j in range(st):
            w = h * A[st, j]
            if w != 0.0:
                kj = K[j]
                for q in range(NM):
                    tmp[q] += w * kj[q]
        _, bad = rhs(P, W, t + c[st] * h, tmp, K[st])
        S.ist[I_RHS] += 1
        if bad >= 0 and first_bad < 0:
            first_bad = bad
    S.ist[I_DENSE] = 1
    return first_bad
