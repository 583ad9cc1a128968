"""Shared machinery of the fuzz tests: junk values, the outcome check and the counters.

Every fuzz case is classified by :func:`outcome`: the input was accepted, or it ended in a
:class:`~thoughtfield.ThoughtfieldError` whose message names something the user can find
(a key path, a file, a line, the offending value).  Any other exception escapes and fails
the test -- that is the point.  ``STATS`` counts the cases and the distinct message
templates; ``tests/conftest.py`` prints them at the end of the session.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import thoughtfield as tf


class _Stats:
    def __init__(self):
        self.malformed = Counter()   # test name -> inputs that ended in a ThoughtfieldError
        self.accepted = Counter()    # test name -> inputs that were valid after all
        self.templates: dict[str, str] = {}   # template -> first full message
        self.types = Counter()

    def total(self) -> int:
        return sum(self.malformed.values())


STATS = _Stats()

FAST = settings(deadline=None, derandomize=False, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)", re.I)
_PATHLIKE = re.compile(r"(?:/[^\s:,;)]+)+")


def template(msg: str) -> str:
    """A message with names, numbers and paths replaced, so messages that differ only in
    the value they quote count once."""
    s = _PATHLIKE.sub("<path>", msg)
    s = _QUOTED.sub("<v>", s)
    s = _NUMBER.sub("#", s)
    s = re.sub(r"\[[^\]]*\]", "[]", s)
    s = re.sub(r"\(got [^)]*\)", "(got <v>)", s)
    return re.sub(r"\s+", " ", s)[:160]


# ------------------------------------------------------------------ junk values
_weird_text = st.sampled_from([
    "", " ", "  x", "x ", "\t", "\n", "\x00", "nan", "inf", "-1", "1e999", "sun ", "ｓｕｎ",
    "зонце", "☀️", "\u202e", "a" * 300, "../../etc/passwd", "[]", "{}", "*", "@", "@image",
    "@nolayer", "=", "\"", "'", "\\", "null", "None", "true",
])
_floats = st.sampled_from([math.nan, math.inf, -math.inf, -1.0, -0.0, 0.0, 1e308, -1e308,
                           5e-324, 1e-300, 1e30, 0.5, 2.0, 1e9])
_ints = st.sampled_from([0, -1, 1, 2, 3, 10**6, 2**31, 2**53 + 1, 2**63, -2**63, 10**30,
                         10**400])

junk = st.one_of(
    _weird_text, _floats, _ints, st.booleans(), st.none(),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**25, 10**25),
    st.text(max_size=8),
    st.lists(st.one_of(_weird_text, _floats, _ints), max_size=3),
    st.dictionaries(_weird_text, st.one_of(_floats, _ints, _weird_text), max_size=2),
    st.just(_dt.date(2024, 1, 1)), st.just(_dt.time(12, 0)), st.just(b"\xff\xfe"),
    st.just([[1, 2], [3]]), st.just({"": {}}), st.just([{}]),
)

#: Strings that could be keys (typos, unicode, empty, dotted).
keys = st.one_of(_weird_text, st.text(min_size=0, max_size=6),
                 st.sampled_from(["rtoll", "t_ned", "concept", "amp", "tau ", "Tau", "a.b",
                                  "seed", "title", "network", "run", "stimuli"]))


# ------------------------------------------------------------------ outcome check
_LOCATION = re.compile(r"^(?:<config>|[^\s:]+(?::\d+){1,2}|--set [^:]+|override [^:]+|[^\s]+\.toml)"
                       r": ")


def outcome(fn, test: str, *, names=(), value=None, allow=(tf.ThoughtfieldError,)):
    """Run ``fn``; count it as accepted or malformed.  A malformed case must end in a
    ThoughtfieldError whose message contains one of ``names`` (key paths, file names,
    ``line N``...) or the offending ``value``.  Returns the result or the error."""
    try:
        res = fn()
    except allow as e:
        msg = str(e)
        assert msg and "Traceback" not in msg, f"bad message {msg!r}"
        assert isinstance(e, tf.ThoughtfieldError), type(e)
        assert isinstance(e, (ValueError, RuntimeError, OSError)), \
            f"{type(e).__name__} does not subclass a builtin"
        if names or value is not None:
            assert mentions(msg, names, value), (
                f"the message does not name any of {list(names)!r} nor the value "
                f"{value!r}:\n  {msg}")
        STATS.malformed[test] += 1
        STATS.types[type(e).__name__] += 1
        STATS.templates.setdefault(template(msg), f"[{test}] {type(e).__name__}: {msg}")
        return e
    STATS.accepted[test] += 1
    return res


def mentions(msg: str, names, value=None) -> bool:
    for n in names:
        if n and str(n) in msg:
            return True
    if value is not None and not isinstance(value, (dict, list, tuple)):
        for form in (repr(value), str(value)):
            if form and len(form) <= 80 and form in msg:
                return True
        if isinstance(value, float) and not math.isfinite(value) and ("finite" in msg
                                                                      or "inf" in msg):
            return True
    return False
