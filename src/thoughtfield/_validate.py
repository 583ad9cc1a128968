"""Small validation helpers shared by the description modules (no numba here)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np

from .errors import ConfigError


def show(value, limit: int = 60) -> str:
    """``repr(value)``, shortened for messages (huge integers, long strings and lists)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"an integer with {len(str(abs(value)))} digits"
    try:
        r = repr(value)
    except Exception:  # pragma: no cover - a broken __repr__ must not hide the error
        r = f"<{type(value).__name__}>"
    return r if len(r) <= limit else r[:limit - 3] + "..."


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if not close and len(str(name)) >= 2:  # abbreviations: 'amp' -> 'amplitude'
        close = [c for c in choices if c.startswith(str(name))][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def real(key: str, value, *, min=None, max=None, min_inclusive=True,
         max_inclusive=True, error=ConfigError) -> float:
    """Validate a finite real number and return it as ``float``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise error(f"{key}: must be a number (got {show(value)} of type {type(value).__name__})",
                    key=key)
    v = float(value)
    if not math.isfinite(v):
        raise error(f"{key}: must be finite (got {show(value)})", key=key)
    if min is not None:
        if min_inclusive and v < min:
            raise error(f"{key}: must be >= {min:g} (got {show(value)})", key=key)
        if not min_inclusive and v <= min:
            raise error(f"{key}: must be > {min:g} (got {show(value)})", key=key)
    if max is not None:
        if max_inclusive and v > max:
            raise error(f"{key}: must be <= {max:g} (got {show(value)})", key=key)
        if not max_inclusive and v >= max:
            raise error(f"{key}: must be < {max:g} (got {show(value)})", key=key)
    return v


def positive(key: str, value, error=ConfigError) -> float:
    return real(key, value, min=0.0, min_inclusive=False, error=error)


def nonnegative(key: str, value, error=ConfigError) -> float:
    return real(key, value, min=0.0, error=error)


def integer(key: str, value, *, min=None, max=None, error=ConfigError) -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise error(f"{key}: must be an integer (got {show(value)})", key=key)
    v = int(value)
    if min is not None and v < min:
        raise error(f"{key}: must be >= {min} (got {show(v)})", key=key)
    if max is not None and v > max:
        raise error(f"{key}: must be <= {max} (got {show(v)})", key=key)
    return v


def choice(key: str, value, choices: Iterable[str], error=ConfigError) -> str:
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise error(f"{key}: must be one of {', '.join(map(repr, choices))} (got {show(value)})"
                    + (did_you_mean(value, choices) if isinstance(value, str) else ""), key=key)
    return value


def boolean(key: str, value, error=ConfigError) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{key}: must be true or false (got {show(value)})", key=key)
    return bool(value)


def name(key: str, value, error=ConfigError) -> str:
    """A concept/relation/layer name: a non-empty string without surrounding spaces."""
    if not isinstance(value, str):
        raise error(f"{key}: must be a string (got {show(value)} of type {type(value).__name__})",
                    key=key)
    if not value or value.strip() != value:
        raise error(f"{key}: must be a non-empty name without leading/trailing spaces (got {show(value)})",
                    key=key)
    if not value.isprintable():
        c = next(ch for ch in value if not ch.isprintable())
        raise error(f"{key}: must be printable text, without control characters (got "
                    f"{show(value)}, which contains {unicode_name(c)}); remove the character",
                    key=key)
    return value


def unicode_name(c: str) -> str:
    """``U+001B (ESCAPE)``: a character named for messages."""
    import unicodedata
    names = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x0A: "a line break", 0x0D: "a carriage return",
             0x09: "a tab"}
    nm = names.get(ord(c)) or unicodedata.name(c, "") or unicodedata.category(c)
    return f"U+{ord(c):04X} ({nm})"


def real_array(key: str, values, n: int | None = None, *, min=None, positive_only=False,
               error=ConfigError) -> np.ndarray:
    """A 1-D finite float array (optionally of length ``n`` and bounded below)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise error(f"{key}: must be an array of numbers (got {type(values).__name__})",
                    key=key) from None
    if arr.ndim != 1:
        raise error(f"{key}: must be one-dimensional (got shape {arr.shape})", key=key)
    if n is not None and arr.size != n:
        raise error(f"{key}: must have length {n} (got {arr.size})", key=key)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise error(f"{key}[{i}]: must be finite (got {arr[i]!r})", key=f"{key}[{i}]")
    if positive_only and (arr <= 0).any():
        i = int(np.argmax(arr <= 0))
        raise error(f"{key}[{i}]: must be > 0 (got {arr[i]:g})", key=f"{key}[{i}]")
    if min is not None and (arr < min).any():
        i = int(np.argmax(arr < min))
        raise error(f"{key}[{i}]: must be >= {min:g} (got {arr[i]:g})", key=f"{key}[{i}]")
    return arr
