"""Numba kernels.  Only numpy and numba are imported here; every function is a
module-level ``@njit(cache=True)`` function calling the others as globals, so that the
on-disk cache works (DESIGN §3).  Arrays are flat: the state of concept ``i`` in ensemble
member ``m`` lives at ``i * M + m`` (member-minor), so one pass over the edges serves
every member.

Numba invalidates a cached kernel only when *its own* source file changes, not when a
kernel it calls (in another file) changes; a stale cache then runs old machine code
against new data layouts (seen as segmentation faults during development).  On import we
therefore hash the kernel sources and drop every cached kernel of this folder when the
hash differs from the one recorded with the cache (about 1 ms).
"""

import hashlib
import os


def _drop_stale_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("NUMBA_DISABLE_JIT"):
        return  # a user-managed cache location
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, "__pycache__")
    try:
        h = hashlib.sha1()
        for name in sorted(os.listdir(here)):
            if name.endswith(".py"):
                h.update(name.encode())
                with open(os.path.join(here, name), "rb") as f:
                    h.update(f.read())
        stamp = h.hexdigest()
        path = os.path.join(cache, "kernels.stamp")
        try:
            with open(path) as f:
                if f.read() == stamp:
                    return
        except OSError:
            pass
        if os.path.isdir(cache):
            for name in os.listdir(cache):
                if name.endswith((".nbi", ".nbc")):
                    try:
                        os.remove(os.path.join(cache, name))
                    except OSError:
                        pass
        os.makedirs(cache, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(stamp)
        os.replace(tmp, path)
    except OSError:  # read-only installation: numba falls back to its own cache rules
        return


_drop_stale_cache()
