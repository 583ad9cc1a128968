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


def _package_dispatchers():
    """Every compiled function defined at module level anywhere in the package."""
    import thoughtfield
    seen = set()
    for info in pkgutil.walk_packages(thoughtfield.__path__, "thoughtfield."):
        if info.name.startswith("thoughtfield.cli") or info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == mod.__name__ \
                    and id(obj) not in seen:
                seen.add(id(obj))
                yield obj


def test_no_cached_function_calls_parallel_code():
    # numba#8578: a cached function that calls a parallel=True function can crash a later
    # process that loads it from the cache (benchmarks/prototypes/cache_segfault_repro.py
    # crashed this way).  Parallel code exists only in the uncached threaded twins.
    from thoughtfield._kernels.threads import _callees
    found = 0
    for disp in _package_dispatchers():
        if type(getattr(disp, "_cache", None)).__name__ in ("NullCache", "NoneType"):
            continue
        found += 1
        # parallel code is allowed only in functions called from Python (the STREAM
        # kernels of the benchmark); none of the simulation kernels is parallel
        if disp.__module__.startswith("thoughtfield._kernels"):
            assert not disp.targetoptions.get("parallel"), disp.py_func.__qualname__
        for name, callee in _callees(disp):
            assert not callee.targetoptions.get("parallel"), (disp.py_func.__qualname__, name)
    assert found >= 30


def test_threaded_twins_replace_exactly_the_callers_of_task_loops():
    from thoughtfield._kernels import integrate, mech, rhs, threads
    twin = threads.threaded(integrate.run_fixed)
    assert twin is not integrate.run_fixed
    assert not twin.targetoptions.get("parallel")
    glb = twin.py_func.__globals__
    assert glb["rhs"] is threads.threaded(rhs.rhs) and glb["rhs"] is not rhs.rhs
    loops = threads.threaded(rhs.rhs).py_func.__globals__
    assert loops["_rows_tasks"].targetoptions.get("parallel") is True
    # kernels that never reach a task loop stay the cached originals
    assert threads.threaded(mech.prepare) is mech.prepare
    assert threads.threaded(rhs.rhs).py_func.__globals__["prepare"] is mech.prepare
    # the originals are untouched
    assert rhs.rhs.py_func.__globals__["_rows_tasks"] is rhs._rows_tasks
    assert not rhs._rows_tasks.targetoptions.get("parallel")


def test_automatic_threads_only_for_runs_that_repay_the_threaded_compile(monkeypatch):
    """threads=None: a problem above PARALLEL_MIN_WORK runs serially while the threaded
    twins are not compiled in this process and the estimated serial time is shorter than
    their compile would take back; a long estimate, or an explicit ``threads``, splits it."""
    import numba
    import thoughtfield as tf
    S = importlib.import_module("thoughtfield.simulate")
    if numba.get_num_threads() < 2:
        import pytest
        pytest.skip("numba has one thread here")
    monkeypatch.setattr(S, "PARALLEL_MIN_WORK", 1)   # (so a tiny problem counts as large)
    monkeypatch.setattr(S, "threaded_compiled", lambda: False)
    net = tf.ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b", "association", 0.5)])

    def ntask(**kw):
        return tf.Simulation(net, tf.Model(), t_end=1.0, seed=0, **kw).work.ntask

    assert ntask() == 1                   # estimated microseconds: a compile never pays
    assert ntask(threads=1) == 1
    assert ntask(threads=2) == 8          # asked for: 4 row ranges per thread
    monkeypatch.setattr(S, "THREADED_COMPILE_S", -1.0)   # as if compiling cost nothing
    assert ntask() == 4 * numba.get_num_threads()
    monkeypatch.setattr(S, "THREADED_COMPILE_S", 40.0)
    monkeypatch.setattr(S, "threaded_compiled", lambda: True)   # already paid in this process
    assert ntask() == 4 * numba.get_num_threads()


def test_cached_callers_of_kernels_outside_the_package_carry_the_kernel_stamp():
    """numba links a kernel's code into a caller's cache entry: the benchmark's compiled
    loop must go stale when any kernel changes, not only when its own file does."""
    from thoughtfield.bench.rhs import rhs_loop
    locator = rhs_loop._cache._impl.locator
    assert type(locator).__name__ == "_KernelPackageLocator"
    stamp = locator.get_source_stamp()
    assert stamp[:2] == ("thoughtfield-kernels", K._sources_hash())
    assert stamp[2] == locator._inner.get_source_stamp()   # and its own file's


def _fresh_ir(disp, *args):
    """The LLVM IR of ``disp`` compiled again, uncached, with its own options, for ``args``
    (its callees come from the cache as they are)."""
    from numba import njit
    opts = {k: v for k, v in disp.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = njit(**opts)(disp.py_func)
    fresh(*args)
    return fresh.inspect_llvm(fresh.signatures[0])


def _refcount_calls(ir: str) -> int:
    return ir.count("call void @NRT_incref") + ir.count("call void @NRT_decref")


def test_the_right_hand_side_counts_no_references():
    """Every function of the right-hand side (and the event search) compiles without numba's
    reference counting: with it, each call counted references on every array of the Problem
    and Work tuples (and an inlined row-sum helper on every row), most of a small model's
    RHS time.  The
    check is structural (the IR holds no NRT_incref/NRT_decref call), not a timing; the
    same row loop compiled with the runtime shows that it can fail.  The kernels'
    signatures do not depend on the model, so one model with mechanisms compiles them all."""
    import numpy as np
    import thoughtfield as tf
    from numba import njit
    from thoughtfield._kernels import events, mech, rhs as R
    from mech_models import stroop_model, stroop_network, stroop_trial
    sim = tf.Simulation(stroop_network(), stroop_model(), stroop_trial("red", "green"),
                        t_end=2.0, seed=0, solver=tf.Solver("euler_maruyama", dt=0.01))
    P, W = sim.problem, sim.work
    assert P.xmode and P.nstate > P.n   # (prepare and extras have work to do)
    y = sim.state.y.copy()
    dy = np.empty_like(y)
    a = y[:P.n * P.m].copy()
    rows = (P, W, y, dy, 0, P.n, W.buf, W.ebuf, W.ibuf, W.fview, W.acc)
    irs = {"rhs": _fresh_ir(R.rhs, P, W, 0.0, y, dy),
           "outputs": _fresh_ir(R.outputs, P, W, y, a),
           "_rows": _fresh_ir(R._rows, *rows),
           "_rows_pot": _fresh_ir(R._rows_pot, P, W, y, a, dy, 0, P.n, W.acc),
           "prepare": _fresh_ir(mech.prepare, P, W, y, a),
           "extras": _fresh_ir(mech.extras, P, W, y, a, dy),
           # the event search of every step of a model with decisions (LINEAR mode: 0)
           "detect": _fresh_ir(events.detect, P, W, sim.method, sim.state, y, y.copy(),
                               sim._K, 0.0, 0.01, 0)}
    for name, ir in irs.items():
        assert _refcount_calls(ir) == 0, name
    counted = njit(R._rows.py_func)   # with the runtime: references counted
    counted(*rows)
    assert _refcount_calls(counted.inspect_llvm(counted.signatures[0])) > 0
