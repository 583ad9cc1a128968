"""numba's on-disk cache must never serve a kernel compiled from older kernel sources.

numba stamps a cached function with its own file only; the package installs a locator that
stamps every kernel with a hash of all kernel sources (see thoughtfield/_kernels/__init__.py).
"""

import importlib
import pkgutil
from pathlib import Path

from numba.core.registry import CPUDispatcher

import thoughtfield._kernels as K


def _dispatchers():
    for info in pkgutil.iter_modules(K.__path__):
        mod = importlib.import_module(f"thoughtfield._kernels.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__:
                yield obj


def test_every_cached_kernel_is_stamped_with_all_kernel_sources():
    found = 0
    for disp in _dispatchers():
        cache = getattr(disp, "_cache", None)
        if cache is None or type(cache).__name__ == "NullCache":
            continue
        locator = cache._impl.locator
        assert type(locator).__name__ == "_KernelPackageLocator", disp.py_func.__qualname__
        assert locator.get_source_stamp() == ("thoughtfield-kernels", K._sources_hash())
        found += 1
    assert found >= 10


def test_stamp_changes_when_any_kernel_file_changes(tmp_path, monkeypatch):
    src = Path(K._KERNEL_DIR)
    for p in src.glob("*.py"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.setattr(K, "_KERNEL_DIR", str(tmp_path))
    before = K._sources_hash()
    assert before == K._sources_hash()
    rhs = tmp_path / "rhs.py"
    rhs.write_text(rhs.read_text() + "\n# edited\n")
    assert K._sources_hash() != before
