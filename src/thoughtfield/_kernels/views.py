"""Named views into the packed mechanism arrays (see layout.py).

They take the packed arrays, not the ``Problem``/``Work`` tuples: binding a namedtuple to
a new variable (which inlining and calls do) increments the reference count of every
array inside it, about 30 atomic operations per call -- measurable in inner loops.
Call them as ``iv(P.mi, P.mo, I_P_PTR)``.
"""

from ._numba import njit

from .layout import NI


@njit(cache=True, inline="always")
def iv(mi, mo, k):
    """Integer array ``k`` (``layout.I_*``) of the problem."""
    return mi[mo[k]:mo[k + 1]]


@njit(cache=True, inline="always")
def fv(mf, mo, k):
    """Float array ``k`` (``layout.F_*``) of the problem."""
    j = NI + 1 + k
    return mf[mo[j]:mo[j + 1]]


@njit(cache=True, inline="always")
def wv(wm, wo, k):
    """Scratch buffer ``k`` (``layout.W_*``) of the workspace."""
    return wm[wo[k]:wo[k + 1]]
