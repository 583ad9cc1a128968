"""Confidence intervals for the figures: Wilson intervals for proportions, t intervals for
means, and a bootstrap over independent units (members, or trials) for ratios such as a
mean response time pooled over the trials of several members."""

from __future__ import annotations

import numpy as np

LEVEL = 0.95
BOOTSTRAP = 1000


def wilson(k, n, level: float = LEVEL):
    """Wilson score interval of a proportion ``k / n`` (arrays allowed; NaN where n = 0)."""
    from scipy.special import ndtri
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z = float(ndtri(0.5 + level / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z / den * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def mean_ci(x, axis: int = 0, level: float = LEVEL):
    """``(mean, half width)`` of the t interval of the mean along ``axis`` (NaNs left out;
    the half width is NaN with fewer than two values)."""
    import warnings

    from scipy.stats import t as student
    x = np.asarray(x, dtype=np.float64)
    n = np.sum(np.isfinite(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN / single-value slices
        m = np.nanmean(x, axis=axis) if x.size else np.full(np.shape(n), np.nan)
        sd = np.nanstd(x, axis=axis, ddof=1) if x.size else np.full(np.shape(n), np.nan)
        q = student.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
        half = np.where(n >= 2, q * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return m, half


def bootstrap_ratio(num, den, *, level: float = LEVEL, resamples: int = BOOTSTRAP, seed: int = 0):
    """Percentile bootstrap interval of ``sum(num) / sum(den)`` resampling the units (the
    entries of ``num``/``den``, e.g. one per member); ``(nan, nan)`` with fewer than two
    units with ``den > 0``."""
    num = np.asarray(num, dtype=np.float64).ravel()
    den = np.asarray(den, dtype=np.float64).ravel()
    if num.size < 2 or np.count_nonzero(den > 0) < 2:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(resamples, num.size))
    d = den[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num[idx].sum(axis=1) / d
    r = r[d > 0]
    if r.size < 2:
        return np.nan, np.nan
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(r, [a, 1.0 - a])
    return float(lo), float(hi)
