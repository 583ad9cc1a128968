"""Threaded twins of the kernels, compiled on first use and never cached.

Why twins
---------
Every kernel of this package is cached on disk (``cache=True``) so a new process starts in
about a second instead of a minute.  numba cannot safely cache a function that calls a
``parallel=True`` function: loading such a caller from a cache written by another process
crashed with a segmentation fault (numba#8578; reproduced by
``benchmarks/prototypes/cache_segfault_repro.py`` and guarded by
``tests/test_kernel_cache.py``).  So the cached kernels contain no parallel code at all:
the row loops that may run in parallel (``*_tasks`` in ``rhs.py``) are ordinary cached
functions that run their tasks one after the other.

:func:`threaded` builds, for any kernel, a twin whose task loops really run on numba's
threads: the twin of a task loop is the same Python function compiled with
``parallel=True``; the twin of any other kernel is the same function compiled again with
its globals pointing at the twins of the callees that (transitively) reach a task loop.
Kernels that reach none are shared as they are (and keep coming from the cache).  The
arithmetic of every row is the same in both, so results are bitwise identical; only the
order in which rows are computed differs.

Twins are compiled once per process, on first use (tens of seconds for an integrator);
:data:`thoughtfield.simulate.PARALLEL_MIN_WORK` keeps them to problems large enough to
repay that.
"""

import types

from ._numba import njit
from numba.core.registry import CPUDispatcher

from . import rhs as _rhs

#: The loops over row ranges whose twins run in parallel (``prange`` in their bodies).
TASK_LOOPS = (_rhs._rows_tasks, _rhs._rows_pot_tasks, _rhs._outputs_tasks)

_twins: dict = {}
_reaches: dict = {}


def _names(code) -> set:
    """Global names used by ``code`` and the code objects nested in it."""
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _callees(disp):
    """``(name, dispatcher)`` of the compiled functions ``disp`` refers to as globals."""
    f = disp.py_func
    for name in sorted(_names(f.__code__)):
        obj = f.__globals__.get(name)
        if isinstance(obj, CPUDispatcher):
            yield name, obj


def reaches_task_loop(disp) -> bool:
    """Whether ``disp`` calls a task loop, directly or through other kernels."""
    key = id(disp)
    if key not in _reaches:
        _reaches[key] = False  # (no recursion among the kernels; guards a cycle anyway)
        _reaches[key] = any(disp is t for t in TASK_LOOPS) or any(
            reaches_task_loop(c) for _, c in _callees(disp))
    return _reaches[key]


def _options(disp) -> dict:
    opts = dict(disp.targetoptions)
    opts.pop("cache", None)
    opts.pop("nopython", None)
    opts.pop("_nrt", None)   # a parallel region needs numba's runtime, and so its callers
    return opts


def compiled(disp) -> bool:
    """Whether the threaded twin of ``disp`` has been compiled in this process."""
    twin = _twins.get(id(disp))
    return bool(twin is not None and twin.signatures)


def threaded(disp):
    """The threaded twin of kernel ``disp`` (``disp`` itself when it runs no task loop)."""
    key = id(disp)
    if key in _twins:
        return _twins[key]
    if any(disp is t for t in TASK_LOOPS):
        twin = njit(parallel=True, **_options(disp))(disp.py_func)
    elif not reaches_task_loop(disp):
        twin = disp
    else:
        f = disp.py_func
        glb = dict(f.__globals__)
        for name, callee in _callees(disp):
            if reaches_task_loop(callee):
                glb[name] = threaded(callee)
        g = types.FunctionType(f.__code__, glb, f.__name__, f.__defaults__, f.__closure__)
        g.__qualname__ = f.__qualname__ + "_threaded"
        g.__doc__ = f.__doc__
        twin = njit(**_options(disp))(g)
    _twins[key] = twin
    return twin
