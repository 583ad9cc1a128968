"""Limits shared by every engine: the memory one run may use, and how long one kernel call runs.

The limit is ``max_memory`` (bytes) when given, else the environment variable
``THOUGHTFIELD_MAX_MEMORY``, else 80 % of the memory available now; runs, network files
and result files are checked against it before anything large is allocated.
"""

from __future__ import annotations

import contextlib
import os
import time

from . import _validate as V
from .errors import ConfigError

#: Seconds one kernel call aims at: the kernel returns after a step budget calibrated to
#: this (results do not depend on it), so that SIGINT/SIGTERM, progress and checkpoints
#: act within about a second however long the stretch between two save times.
KERNEL_CALL_S = 0.25


#: Seconds a reading of the available memory is reused (a loop of small runs reads
#: ``/proc/meminfo`` once, not twice per run: 40 us of a 0.7 ms run at N = 21).
AVAILABLE_MEMORY_TTL_S = 1.0
_available = (-1e300, None)   # (monotonic time of the reading, bytes)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None;
    read at most every :data:`AVAILABLE_MEMORY_TTL_S` seconds."""
    global _available
    now = time.monotonic()
    t, value = _available
    if 0.0 <= now - t < AVAILABLE_MEMORY_TTL_S:
        return value
    value = _read_available_memory()
    _available = (now, value)
    return value


def _read_available_memory() -> int | None:
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit(max_memory: float | None) -> tuple[int | None, str]:
    """The byte limit for one run and where it comes from: ``max_memory`` (bytes), else the
    environment variable ``THOUGHTFIELD_MAX_MEMORY`` (bytes, or with a K/M/G suffix), else
    80 % of the available memory."""
    if max_memory is not None:
        return int(V.positive("max_memory", max_memory)), "max_memory"
    env = os.environ.get("THOUGHTFIELD_MAX_MEMORY")
    if env:
        mult = {"k": 2**10, "m": 2**20, "g": 2**30}.get(env[-1].lower(), 1)
        try:
            return int(float(env[:-1] if mult > 1 else env) * mult), "THOUGHTFIELD_MAX_MEMORY"
        except ValueError:
            raise ConfigError(f"THOUGHTFIELD_MAX_MEMORY: must be a number of bytes, optionally "
                              f"with K/M/G (got {env!r})", key='THOUGHTFIELD_MAX_MEMORY') from None
    avail = available_memory()
    return (None, "") if avail is None else (int(0.8 * avail), "80% of available memory")


def gib(b: float) -> str:
    return f"{b / 2**30:.3g} GiB" if b >= 2**27 else f"{b / 2**20:.3g} MiB"
