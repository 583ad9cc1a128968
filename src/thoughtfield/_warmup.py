"""Compiling the kernels once per installation.

numba compiles a kernel the first time it is called with a new signature and caches the
machine code on disk (``cache=True``; ``_kernels/__init__.py`` says where).  The kernels
are few entry points with type-stable signatures: every continuous run -- any method,
mechanism, ensemble size or config -- calls the one :func:`~thoughtfield._kernels.integrate.integrate`
with the same argument types, and the discrete (spreadr) mode its four kernels.

A path loads only its own kernels (:func:`ensure`).  When loading finds one not yet in the
cache, one line on stderr says so, and *every* path is compiled then, so that the first
run of the installation pays the whole compile once and no later config of another kind
compiles again.  ``thoughtfield compile`` (:func:`compile_kernels`) does the same ahead of
time, for cluster nodes, container images and CI.

The threaded twins of large problems (``_kernels/threads.py``) cannot be cached; they are
compiled once per process, with their own one-line notice.
"""

from __future__ import annotations

import importlib
import sys
import time

#: Wall time of a cold compile of every kernel on an idle 2-core machine (measured; the
#: notice quotes it so that a silent minute is not mistaken for a hang).
COLD_COMPILE_S = 45
#: The same for the threaded twins of the continuous integrator.
THREADED_COMPILE_S = 40

_checked: set = set()   # paths whose kernels are loaded (or compiled) in this process


class CompileWatch:
    """Counts numba compilations of this package's kernels while installed (``with``);
    ``notice`` (a string) is written to stderr once, when the first compilation starts."""

    def __init__(self, notice: str | None = None, stream=None):
        self.notice = notice
        self.stream = stream
        self.compiled: list[str] = []   # qualified names of the kernels compiled
        self.all_events = 0             # numba compilations of anything (numba's helpers too)
        self._started = None
        self._cm = None

    # numba.core.event.Listener interface
    def notify(self, event):
        if event.is_start:
            if self.all_events == 0:
                self._started = time.perf_counter()
                if self.notice:
                    stream = self.stream or sys.stderr
                    print(self.notice, file=stream, flush=True)
            self.all_events += 1
            disp = event.data.get("dispatcher")
            func = getattr(disp, "py_func", None)
            if func is not None and func.__module__.startswith("thoughtfield."):
                self.compiled.append(f"{func.__module__}.{func.__qualname__}")

    @property
    def seconds(self) -> float:
        return 0.0 if self._started is None else time.perf_counter() - self._started

    def __enter__(self):
        from numba.core import event as ev
        self._cm = ev.install_listener("numba:compile", _Listener(self))
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        return False


def _Listener(watch):
    from numba.core import event as ev

    class L(ev.Listener):
        def on_start(self, event):
            watch.notify(event)

        def on_end(self, event):
            """(nothing to count when a compilation ends)"""

    return L()


def tiny_network():
    """A two-concept network built by the real classes, so that the argument types of the
    kernels loaded on it are those of every run."""
    from .network import ConceptNetwork
    return ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b", "association", 0.5)])


#: The kernels of each path, loaded (or compiled) by a function of a tiny problem; the
#: engines register their own (``register_path``) when imported.
PATHS: dict = {}
#: The modules that register the paths, imported when every path must be compiled.
PATH_MODULES = ("thoughtfield.simulate", "thoughtfield.discrete")


def register_path(name: str, load) -> None:
    """Register ``load(full: bool)``, which loads (or compiles) the kernels of path ``name``
    by running a tiny problem; ``full`` also loads those only some runs call."""
    PATHS[name] = load


def _every_path() -> dict:
    for name in PATH_MODULES:
        importlib.import_module(name)
    return PATHS


def _notice() -> str:
    return (f"thoughtfield: compiling kernels once for this installation (about "
            f"{COLD_COMPILE_S} s on an idle 2-core machine; later runs load them from the "
            "cache)...")


def ensure(path: str) -> None:
    """Load the kernels of ``path`` (``"continuous"`` or ``"discrete"``) once per process;
    if that compiles anything, compile every path's kernels now, with one notice."""
    if path in _checked:
        return
    _checked.add(path)   # before loading: the tiny problems call back into ensure()
    with CompileWatch(_notice()) as watch:
        PATHS[path](full=False)   # a warm cache: load what every run of the path needs
        if watch.all_events:      # a cold one: compile everything, every path
            for other, load in _every_path().items():
                _checked.add(other)
                load(full=True)
    if watch.all_events:
        print(f"thoughtfield: kernels compiled in {watch.seconds:.0f} s and cached",
              file=sys.stderr, flush=True)


def compile_kernels(*, verbose: bool = False) -> dict:
    """Compile (or load from the on-disk cache) every kernel of every path, ahead of time.

    Returns ``{"seconds": wall time, "compiled": [kernel names compiled], "paths": [...]}``;
    an empty ``compiled`` means the cache was complete.  With ``verbose``, the notice of a
    cold compile is printed to stderr.
    """
    t = time.perf_counter()
    with CompileWatch(_notice() if verbose else None) as watch:
        for path, load in _every_path().items():
            _checked.add(path)
            load()
    return {"seconds": time.perf_counter() - t, "compiled": sorted(set(watch.compiled)),
            "paths": list(PATHS)}


def cache_dir() -> str | None:
    """The folder numba caches this package's kernels in (None if it cannot tell)."""
    try:
        from numba.core.caching import FunctionCache
        from ._kernels.integrate import integrate
        return FunctionCache(integrate.py_func)._cache_path
    except Exception:  # pragma: no cover - numba internals moved
        return None
