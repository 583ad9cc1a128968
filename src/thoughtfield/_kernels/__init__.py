"""Numba kernels.  Only numpy and numba are imported here; every function is a
module-level ``@njit(cache=True)`` function calling the others as globals, so that the
on-disk cache works (DESIGN §3).  Arrays are flat: the state of concept ``i`` in ensemble
member ``m`` lives at ``i * M + m`` (member-minor), so one pass over the edges serves
every member.

Cache freshness
---------------
numba decides whether a cached function is stale from the modification stamp of the file
that defines it, not of the files of the functions it calls and inlines.  After an edit
to ``rhs.py`` a cached ``run_fixed`` (in ``integrate.py``) would keep running the *old*
right-hand side (this happened: results off by one ulp until the cache was deleted).  The
locator below gives every kernel of this package one stamp, a hash of all kernel sources,
so any edit to any kernel file invalidates them all.  It wraps whichever locator numba
would have chosen (``__pycache__``, ``NUMBA_CACHE_DIR``...), so cache placement is
unchanged.  If numba's (internal) caching API changes, the wrapper is skipped and numba's
own per-file stamps apply.
"""

import hashlib
import os

_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))
#: Files outside this package whose cached functions call kernels (``stamp_kernel_callers``).
_CALLER_FILES: set = set()


def _sources_hash() -> str:
    h = hashlib.sha1()
    for name in sorted(os.listdir(_KERNEL_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(_KERNEL_DIR, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


def stamp_kernel_callers(py_file: str) -> None:
    """Give the cached functions of ``py_file`` (a module outside this package whose compiled
    functions call kernels, e.g. the benchmark's loops) the kernels' stamp as well as their
    own: numba links a callee's machine code into its caller's cache entry, so after an
    edit of a kernel such a caller would otherwise keep running the old kernel (this
    happened: the benchmark timed a stale right-hand side, 3x slower than the current one).
    Call it before the module's first ``@njit(cache=True)``."""
    _CALLER_FILES.add(os.path.abspath(py_file))


def _install_locator():
    try:
        from numba.core.caching import CacheImpl, _CacheLocator
    except ImportError:  # pragma: no cover - other numba versions
        return
    stamp = ("thoughtfield-kernels", _sources_hash())

    class _KernelPackageLocator(_CacheLocator):
        def __init__(self, inner):
            self._inner = inner
            # numba's warnings about uncachable functions name the source file
            self._py_file = getattr(inner, "_py_file", None)

        def ensure_cache_path(self):
            return self._inner.ensure_cache_path()

        def get_cache_path(self):
            return self._inner.get_cache_path()

        def get_source_stamp(self):
            if self._py_file is not None and os.path.abspath(self._py_file) in _CALLER_FILES:
                return stamp + (self._inner.get_source_stamp(),)   # the kernels' and its own
            return stamp

        def get_disambiguator(self):
            return self._inner.get_disambiguator()

        @classmethod
        def from_function(cls, py_func, py_file):
            path = os.path.abspath(py_file)
            if os.path.dirname(path) != _KERNEL_DIR and path not in _CALLER_FILES:
                return None
            for other in CacheImpl._locator_classes:
                if other is cls:
                    continue
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
            return None

    if not any(k.__name__ == "_KernelPackageLocator" for k in CacheImpl._locator_classes):
        CacheImpl._locator_classes.insert(0, _KernelPackageLocator)

# installed by ``_numba.py``, which every kernel module imports its decorators from (so that
# the constants in ``layout.py`` can be imported without numba)
