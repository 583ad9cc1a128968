"""The transfer functions ``f``: one :class:`Transfer` object per function (issue 15).

Everything the package knows about a transfer function lives in its entry of
:data:`REGISTRY`: the name a config uses, the integer code of its branch in the compiled
kernels (``_kernels/transfer.py``: ``phi_block`` and ``phi_scalar``), the formula the docs
show, numpy versions of ``f``, ``f'`` and ``f^-1`` (the analysis: Jacobians, fixed points,
attractors, energy), the range of ``f`` (the run's range check, the numerical guards, the
random starts of the analysis) and the integral of ``f^-1`` (the Lyapunov energy).

Adding a transfer function is one entry here plus one branch in the kernels (both
``phi_block`` and ``phi_scalar``, on the entry's code); ``tests/test_transfers.py`` checks
that the kernels and the numpy functions agree for every entry, and that a code without a
kernel branch does not silently act as ``linear``.

This module imports numpy only (no numba, no xarray): the description side (config
checks, docs) imports it cheaply.  scipy is imported lazily by the one function that
needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

__all__ = ["REGISTRY", "Transfer", "get", "names", "register", "unregister"]


@dataclass(frozen=True)
class Transfer:
    """One transfer function ``f``, applied to ``x = gain * (u - threshold)``.

    Attributes
    ----------
    name : str
        The name a config and :class:`~thoughtfield.Model` use.
    code : int
        The kernels' branch (``_kernels/transfer.py``); unique, never reused.
    doc : str
        The formula, as the docs show it (``model.TRANSFERS``, ``docs/config.md``).
    f, df : callable
        numpy ``f(x)`` and ``f'(x)`` (float64 arrays).  At the kink of a piecewise-linear
        ``f`` the derivative is the flat side's value, 0.
    inverse : callable or None
        A right inverse of ``f`` on its closed range: values on an open end of the range are
        moved 1e-12 inside (an end of a kink maps to the kink); ``None`` where ``f`` has no
        inverse.
    range : (float, float)
        The closed hull ``[lo, hi]`` of the values of ``f`` (infinite ends: unbounded).
    slope : float
        ``sup f'`` (the numerical guards bound the rates of the dynamics with it); ``inf``
        for a discontinuous ``f`` (``sign``, ``step``), whose jump no step-size bound
        resolves: with ``euler`` and ``dt = tau`` the dynamics are the synchronous discrete
        update ``a <- f(g (W a + I - theta))`` of binary units.
    inverse_integral : callable or None
        ``G(a) = integral from f(0) to a of f^-1(s) ds`` (>= 0) on the closed range, ``+inf``
        outside it: the per-concept term of the Lyapunov energy.  ``None``: the energy is
        not defined for this ``f`` (the analysis refuses it with a message).
    kinks : bool
        ``f`` is piecewise linear: its derivative jumps (high-order error estimates suffer).
    """

    name: str
    code: int
    doc: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray] | None
    range: tuple[float, float]
    slope: float
    inverse_integral: Callable[[np.ndarray], np.ndarray] | None
    kinks: bool = False

    @property
    def saturating(self) -> bool:
        """Both ends of the range are finite: the activation form cannot leave it."""
        return math.isfinite(self.range[0]) and math.isfinite(self.range[1])

    @property
    def midpoint(self) -> float | None:
        """The centre of a saturating ``f``'s range (None for an unbounded one)."""
        return 0.5 * (self.range[0] + self.range[1]) if self.saturating else None

    def energy_integral(self, a) -> np.ndarray:
        """:attr:`inverse_integral` on ``a`` with ``+inf`` outside the closed range."""
        if self.inverse_integral is None:
            raise ConfigError(f"transfer: the energy is not defined for the transfer "
                              f"{self.name!r} (no integral of its inverse)", key='transfer')
        a = np.asarray(a, dtype=np.float64)
        lo, hi = self.range
        out = np.full(a.shape, np.inf)
        ok = (a >= lo) & (a <= hi)
        out[ok] = self.inverse_integral(a[ok])
        return out


# --------------------------------------------------------------------------- helpers
_OPEN = 1e-12   # how far inside an open end of the range an inverse moves its argument


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _expit(x):
    """The logistic ``1 / (1 + exp(-x))`` without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * _f64(x)))


def _xlogx(x):
    """``x ln x`` with ``0 ln 0 = 0``."""
    x = _f64(x)
    return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)


# --------------------------------------------------------------------------- linear
def _linear(x):
    return np.array(x, dtype=np.float64, copy=True)


def _linear_df(x):
    return np.ones_like(x, dtype=np.float64)


def _half_square(a):
    return 0.5 * a * a


# --------------------------------------------------------------------------- sigmoid
def _sigmoid_df(x):
    s = _expit(x)
    return s * (1.0 - s)


def _logit(a):
    p = np.clip(_f64(a), _OPEN, 1 - _OPEN)
    return np.log(p) - np.log1p(-p)


def _sigmoid_G(a):
    return _xlogx(a) + _xlogx(1.0 - a) + math.log(2.0)


# --------------------------------------------------------------------------- tanh
def _tanh(x):
    return np.tanh(_f64(x))


def _tanh_df(x):
    t = np.tanh(_f64(x))
    return 1.0 - t * t


def _arctanh(a):
    return np.arctanh(np.clip(_f64(a), -1 + _OPEN, 1 - _OPEN))


def _tanh_G(a):
    return 0.5 * (_xlogx(1.0 + a) + _xlogx(1.0 - a))


# --------------------------------------------------------------------------- satlin, relu
def _satlin(x):
    return np.clip(_f64(x), 0.0, 1.0)


def _satlin_df(x):
    x = _f64(x)
    return ((x > 0.0) & (x < 1.0)).astype(np.float64)


def _relu(x):
    return np.maximum(_f64(x), 0.0)


def _relu_df(x):
    return (_f64(x) > 0.0).astype(np.float64)


# --------------------------------------------------------------------------- softplus
def _softplus(x):
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    x = _f64(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _softplus_inverse(a):
    """``log(expm1(a))`` for ``a > 0`` (``a + log(-expm1(-a))`` for ``a > 1``, which does
    not overflow); ``a`` is moved to at least 1e-12."""
    a = np.maximum(_f64(a), _OPEN)
    small = a <= 1.0
    with np.errstate(over="ignore"):
        return np.where(small, np.log(np.expm1(np.where(small, a, 1.0))),
                        a + np.log(-np.expm1(-np.where(small, 1.0, a))))


def _softplus_G(a):
    """``integral from ln 2 to a of log(expm1(s)) ds = a^2/2 + Li2(exp(-a)) - pi^2/12``
    (``d/ds Li2(e^-s) = ln(1 - e^-s)``; ``Li2(z) = spence(1 - z)`` in scipy); ``pi^2/12`` at
    ``a = 0``."""
    from scipy.special import spence
    a = _f64(a)
    return 0.5 * a * a + spence(-np.expm1(-a)) - math.pi ** 2 / 12.0


# --------------------------------------------------------------------------- sign, step
def _sign(x):
    """``+1`` for ``x >= 0``, ``-1`` below (a binary unit never rests at 0; NaN stays NaN)."""
    x = _f64(x)
    return np.where(x >= 0.0, 1.0, np.where(x < 0.0, -1.0, x))


def _step(x):
    """``1`` for ``x >= 0``, ``0`` below (a McCulloch-Pitts unit fires at its threshold)."""
    x = _f64(x)
    return np.where(x >= 0.0, 1.0, np.where(x < 0.0, 0.0, x))


def _flat(x):
    return np.zeros_like(_f64(x))


# --------------------------------------------------------------------------- the registry
#: Every transfer function by name, in the order of their codes.
REGISTRY: dict[str, Transfer] = {t.name: t for t in (
    Transfer("linear", 0, "f(x) = x", _linear, _linear_df, _linear,
             (-math.inf, math.inf), 1.0, _half_square),
    Transfer("sigmoid", 1, "f(x) = 1 / (1 + exp(-x))  (logistic, range 0..1)", _expit,
             _sigmoid_df, _logit, (0.0, 1.0), 0.25, _sigmoid_G),
    Transfer("tanh", 2, "f(x) = tanh(x)  (range -1..1)", _tanh, _tanh_df, _arctanh,
             (-1.0, 1.0), 1.0, _tanh_G),
    Transfer("satlin", 3, "f(x) = min(max(x, 0), 1)  (saturating ReLU)", _satlin, _satlin_df,
             _satlin, (0.0, 1.0), 1.0, _half_square, kinks=True),
    Transfer("relu", 4, "f(x) = max(x, 0)", _relu, _relu_df, _relu, (0.0, math.inf), 1.0,
             _half_square, kinks=True),
    Transfer("softplus", 5, "f(x) = log(1 + exp(x))  (smooth ReLU, range 0..inf)", _softplus,
             _expit, _softplus_inverse, (0.0, math.inf), 1.0, _softplus_G),
    Transfer("sign", 6, "f(x) = 1 if x >= 0 else -1  (binary unit, the gain -> inf limit of "
             "tanh)", _sign, _flat, None, (-1.0, 1.0), math.inf, None, kinks=True),
    Transfer("step", 7, "f(x) = 1 if x >= 0 else 0  (McCulloch-Pitts unit, the gain -> inf "
             "limit of sigmoid)", _step, _flat, None, (0.0, 1.0), math.inf, None, kinks=True),
)}


#: The names of the built-in transfers (never unregistered).
BUILTIN = frozenset(REGISTRY)


def register(t: Transfer) -> Transfer:
    """Add the transfer ``t``: a :class:`~thoughtfield.Model` accepts its name at once, and the
    analysis uses its numpy functions.  A run needs a branch on ``t.code`` in the kernels
    (``_kernels/transfer.py``: ``phi_block`` and ``phi_scalar``); without one the run stops
    as non-finite.  A name or code already in use is refused."""
    if not isinstance(t, Transfer):
        raise TypeError(f"register: expected a Transfer (got {type(t).__name__})")
    if t.name in REGISTRY:
        raise ValueError(f"a transfer named {t.name!r} is registered already")
    used = {u.code: u.name for u in REGISTRY.values()}
    if t.code in used:
        raise ValueError(f"transfer {t.name!r}: code {t.code} is taken by {used[t.code]!r}; "
                         f"use {max(used) + 1}")
    REGISTRY[t.name] = t
    return t


def unregister(name: str) -> None:
    """Remove the transfer ``name`` added by :func:`register` (built-ins stay)."""
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in transfer; it cannot be removed")
    REGISTRY.pop(name, None)


def get(name: str) -> Transfer:
    """The :class:`Transfer` called ``name`` (``ConfigError`` for an unknown name)."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        from . import _validate as V
        V.choice("transfer", name, REGISTRY)
        raise   # pragma: no cover - choice() raised


def names(**where) -> tuple[str, ...]:
    """Names of the transfers whose attributes equal ``where`` (``names(saturating=True)``),
    in the order of their codes."""
    return tuple(t.name for t in REGISTRY.values()
                 if all(getattr(t, k) == v for k, v in where.items()))
