"""numba's decorators for the kernel modules, with the package's cache locator installed
first (``_kernels/__init__.py``: one stamp for all kernel sources).  Importing the
``_kernels`` package alone (its constants, ``layout.py``) does not import numba."""

from numba import njit, prange  # noqa: F401

from . import _install_locator

_install_locator()


def _no_refcount_options() -> dict:
    """numba's option to compile a function without its runtime's reference counting
    (``_nrt=False``, an option numba's own tests use; not public API, hence the check).
    Only for functions that allocate no arrays -- and call none that do: their callees are
    compiled in the same context."""
    try:
        from numba.core.cpu import CPUTargetOptions
    except ImportError:  # pragma: no cover - other numba versions
        return {}
    return {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}


#: ``@njit(cache=True, **NO_REFCOUNTS)`` for hot kernels that allocate nothing.
NO_REFCOUNTS = _no_refcount_options()
