"""Numba kernels.  Only numpy and numba are imported here; every function is a
module-level ``@njit(cache=True)`` function calling the others as globals, so that the
on-disk cache works (DESIGN §3).  Arrays are flat: the state of concept ``i`` in ensemble
member ``m`` lives at ``i * M + m`` (member-minor), so one pass over the edges serves
every member."""
