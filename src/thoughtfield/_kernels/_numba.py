"""numba's decorators for the kernel modules, with the package's cache locator installed
first (``_kernels/__init__.py``: one stamp for all kernel sources).  Importing the
``_kernels`` package alone (its constants, ``layout.py``) does not import numba."""

from numba import njit, prange  # noqa: F401

from . import _install_locator

_install_locator()
