"""Failure behaviour as a tested property: numerical guards for every solver, resource
guards (memory, output size, disk), atomic result files, byte-identical results, and
configs that are data only."""

import ast
import errno
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import thoughtfield as tf
import thoughtfield.results  # noqa: F401  (tf.results: the writer the tests replace)
from thoughtfield import _sizes, resources
from thoughtfield.cli import main

from _configs import TINY

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "thoughtfield"


# ------------------------------------------------------------------ divergence
TABLEAUS = {   # textbook explicit Runge-Kutta tableaus (A, b), written out independently
    "euler": ([[]], [1.0]),
    "euler_maruyama": ([[]], [1.0]),
    "heun": ([[], [1.0]], [0.5, 0.5]),
    "rk4": ([[], [0.5], [0.0, 0.5], [0.0, 0.0, 1.0]], [1 / 6, 1 / 3, 1 / 3, 1 / 6]),
}


def first_bad_step(method, h, gain=3.0, a0=1.0):
    """For da/dt = -a + gain * a (a linear unit with a self-link): the start time of the
    first step whose stages meet a non-finite value, by plain Python floats."""
    A, b = TABLEAUS[method]
    a, t = a0, 0.0
    for _ in range(100_000):
        ks = []
        for s in range(len(b)):
            x = a + h * sum(A[s][j] * ks[j] for j in range(s)) if s else a
            k = -x + gain * x
            if not math.isfinite(k):
                return t
            ks.append(k)
        a = a + h * sum(bj * kj for bj, kj in zip(b, ks))
        t += h
    raise AssertionError("no overflow")


def _runaway():
    return tf.ConceptNetwork(["calm", "runaway"], [("runaway", "runaway", "link", 3.0)])


@pytest.mark.parametrize("method", sorted(TABLEAUS))
def test_fixed_step_divergence_stops_at_the_first_bad_step(method):
    h = 0.5
    model = tf.Model(transfer="linear", initial={"runaway": 1.0, "calm": 0.0})
    with pytest.raises(tf.DivergenceError) as e:
        tf.simulate(_runaway(), model, t_end=5000.0, solver=tf.Solver(method, dt=h),
                    saveat=tf.SaveAt(dt=50),
                    seed=1)
    err = e.value
    assert err.time == first_bad_step(method, h)
    assert err.concept == "runaway" and err.status == "nonfinite"
    # a self-link of 3 with a linear transfer grows like e^{2t}: the dynamics diverge (the
    # step, 0.5, is within every method's stability limit for the rates 1 .. 4 here)
    assert str(err).startswith(f"activation of concept 'runaway' became non-finite at "
                               f"t = {err.time:.6g} ({method}); the dynamics diverge: with the "
                               "unbounded transfer 'linear'")
    part = err.partial
    assert part.attrs["status"] == "nonfinite"
    assert np.isfinite(part.activation.values).all()
    assert part.time.values[-1] <= err.time < part.time.values[-1] + 50


def test_stochastic_divergence_names_the_member():
    net = tf.ConceptNetwork(["a", "b"], [("b", "b", "link", 3.0)])
    model = tf.Model(transfer="linear", sigma=0.1, initial={"b": 1.0})
    with pytest.raises(tf.DivergenceError, match=r"activation of concept 'b' \(member [01]\) "
                                                 r"became non-finite at t = [\d.]+ "
                                                 r"\(euler_maruyama\)"):
        tf.simulate(net, model, t_end=5000.0, solver=tf.Solver("euler_maruyama", dt=0.5),
                    members=2, seed=4, saveat=tf.SaveAt(dt=100))


@pytest.mark.parametrize("method", ["dopri5", "dop853"])
def test_adaptive_divergence_goes_through_rejected_steps(method):
    """The exact solution e^{2t} overflows 3 a when 2t > ln(max_float / 3): the adaptive
    method rejects the steps whose stages overflow, shrinks the step below min_step and
    then stops with the concept and a hint."""
    model = tf.Model(transfer="linear", initial={"runaway": 1.0})
    with pytest.raises(tf.DivergenceError, match=r"'runaway' became non-finite at t = .* "
                                                 rf"\({method}\); the dynamics diverge") as e:
        tf.simulate(_runaway(), model, t_end=1000.0, saveat=tf.SaveAt(dt=10), solver=method)
    t_overflow = math.log(np.finfo(float).max / 3) / 2
    assert abs(e.value.time - t_overflow) < 1.0
    assert e.value.partial.attrs["n_rejected"] >= 5


def test_discrete_mode_stops_at_the_first_non_finite_step():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link", 1.0), ("b", "c", "link", 1.0),
                                              ("c", "a", "link", 1.0)])
    stims = [tf.Pulse("a", 0, 10, 1e308), tf.Pulse("b", 0, 10, 1e308)]
    with pytest.raises(tf.DivergenceError, match=r"activation of concept 'a' became non-finite "
                                                 r"at step 1 \(spreadr\); .*lower the injected") as e:
        tf.simulate(net, stimuli=stims, solver=tf.Spreadr(retention=0.9), t_end=20)
    # step 1: a = 0.9 * 1e308 + 1e308 overflows; b gets 0.1 * 1e308 from a
    assert e.value.time == 1.0 and e.value.concept == "a"
    assert e.value.partial.time.values.tolist() == [0.0]
    assert e.value.partial.attrs["status"] == "nonfinite"
    with pytest.raises(tf.DivergenceError, match=r"non-finite at step 0"):
        tf.simulate(net, tf.Model(initial=1e308), stimuli=[tf.Pulse("a", 0, 1, 1e308)],
                    solver="spreadr", t_end=5)


def test_step_size_collapse_stops_with_time_status_and_partial_result():
    net = tf.ConceptNetwork(["x"])
    with pytest.raises(tf.SolverError, match=r"dopri5 could not meet rtol = 1e-13, atol = "
                                             r"1e-300 at t = .*fell below min_step = 0.001") as e:
        tf.simulate(net, tf.Model(tau=1e-9, transfer="tanh", gain=1e9), [tf.Pulse("x", 0, 1, 1)],
                    t_end=1.0, solver=tf.Solver("dopri5", rtol=1e-13, atol=1e-300, min_step=1e-3))
    assert e.value.status == "step_size_too_small" and 0 <= e.value.time < 1
    assert e.value.partial is not None and np.isfinite(e.value.partial.activation.values).all()


# ------------------------------------------------------------------ resources
def test_estimate_sizes_match_the_run(tmp_path):
    cfg = tf.load_config(TINY, overrides=["run.members=4", "run.save_dt=0.005",
                                          'solver.method="euler_maruyama"', "model.sigma=0.1"])
    sim = cfg.simulation()
    est = resources.estimate(sim)
    assert est.save_times == 1001 and est.concepts == 3 and est.members == 4
    assert est.output_bytes == 8 * 1001 * 3 * 4 == sim.out.nbytes
    assert est.memory_bytes >= est.output_bytes
    ds = cfg.annotate(sim.run())
    path = tf.save_result(ds, tmp_path / "r.nc", compress=False)
    size = os.path.getsize(path)
    assert est.file_bytes >= size and est.file_bytes <= size + 2 * resources.FILE_OVERHEAD
    # compressed (the default) stays below the estimate, an upper bound
    assert os.path.getsize(tf.save_result(ds, tmp_path / "z.nc")) <= size
    lines = est.lines()
    assert lines[0] == ("output: 93.8 KiB (1001 save times x 3 concepts x 4 member(s) x 8 bytes)")
    disc = resources.estimate(tf.load_config((ROOT / "simulations" / "spreadr_discrete.toml")
                                             .read_text()).simulation())
    assert disc.save_times == 12 and disc.output_bytes == 8 * 12 * 8   # 8 concepts


def test_disk_guard_refuses_before_running(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    monkeypatch.setattr(_sizes, "free_disk", lambda path: 10_000)
    code = main(["run", str(cfg), "--out", str(tmp_path / "r.nc")])
    _, err = capsys.readouterr()
    assert code == 2
    assert ("r.nc: the result needs about " in err
            and "but only 9.77 KiB is free on the disk of" in err
            and "save less often (a larger dt in saveat=tf.SaveAt(dt=...) or every in "
                "SaveAt(every=...), or fewer SaveAt(times=...); in a config, [run] save_dt, "
                "save_every or save_at), use fewer members" in err
            and "use fewer members" in err)
    assert not list(tmp_path.glob("*.nc*"))
    ds = tf.run_config(TINY)
    with pytest.raises(tf.ResourceError, match=r"r.nc: the result file needs about .* but only "
                                               r"9.77 KiB is free"):
        tf.save_result(ds, tmp_path / "r.nc")
    assert not list(tmp_path.glob("*.nc*"))


def test_verbose_run_prints_the_estimate(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    code = main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--verbose"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "estimate: output: 4.71 KiB (201 save times x 3 concepts x 1 member(s) x 8 bytes)" in err
    assert "estimate: memory: about" in err and "estimate: result file: about" in err
    assert "estimate: free disk at " in err
    assert main(["run", "--help"]) == 0
    out, _ = capsys.readouterr()
    assert "output size (save times x concepts x members x 8 bytes)" in out
    assert "--resume" in out and "--checkpoint-every" in out


def test_memory_guard_names_the_sizes_and_the_way_out():
    net = tf.ConceptNetwork(["a", "b"])
    with pytest.raises(tf.ResourceError, match=r"needs about .* \(saved output .* = 100001 save "
                                               r"times x 2 concepts x 3 members x 8 bytes.*save "
                                               r"less often .*use fewer members"):
        tf.Simulation(net, t_end=1.0, saveat=tf.SaveAt(dt=1e-5), members=3, max_memory=2**20)


def test_write_errors_become_thoughtfield_errors(tmp_path, monkeypatch):
    ds = tf.run_config(TINY)

    def full(self, *a, **k):
        Path(a[0]).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tf.results, "_to_netcdf", full)
    with pytest.raises(tf.ResourceError, match=r"r.nc: the disk is full \(No space left on "
                                               r"device\); free space or save less often"):
        tf.save_result(ds, tmp_path / "r.nc")
    assert os.listdir(tmp_path) == []     # no result and no temporary file left

    def denied(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tf.results, "_to_netcdf", denied)
    with pytest.raises(tf.ConfigError, match=r"r.nc: cannot write the result \(Permission denied"):
        tf.save_result(ds, tmp_path / "r.nc")
    with pytest.raises(tf.ConfigError, match=r"is a folder; give a file name"):
        tf.save_result(ds, tmp_path, overwrite=True)


_WRITER = """
import sys, thoughtfield as tf
ds = tf.load_result(sys.argv[1])
print("ready", flush=True)
while True:
    tf.save_result(ds, sys.argv[2], overwrite=True)
"""


def test_a_killed_writer_never_leaves_a_half_written_result(tmp_path):
    """SIGKILL a process that rewrites a result in a loop, at random moments: the file is
    always the complete old or new one."""
    cfg = tf.load_config(TINY, overrides=["run.save_dt=0.0005", "run.members=20",
                                          'solver.method="euler_maruyama"', "model.sigma=0.1"])
    ds = cfg.annotate(cfg.simulation().run())
    src = tf.save_result(ds, tmp_path / "src.nc")
    assert os.path.getsize(src) > 1_000_000
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    target = tmp_path / "target.nc"
    rng = np.random.default_rng(0)
    for trial in range(3):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(src), str(target)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert p.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 60
            while not target.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(float(rng.uniform(0.05, 0.6)))
            os.kill(p.pid, signal.SIGKILL)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
        back = tf.load_result(target)          # complete and readable
        assert back.identical(tf.load_result(src))
    # (a kill during a write can leave a hidden .tmp-*.nc next to it, never a broken target)


# ------------------------------------------------------------------ determinism
def _bytes(ds, path) -> bytes:
    return Path(tf.save_result(ds, path, overwrite=True)).read_bytes()


@pytest.mark.parametrize("overrides", [
    ['solver.method="euler_maruyama"', "model.sigma=0.2", "run.members=3", "run.save_dt=0.01"],
    ["run.save_dt=0.002"],                                  # dopri5, dense output
])
def test_same_config_and_seed_give_identical_bytes(tmp_path, monkeypatch, overrides):
    import importlib
    simulate = importlib.import_module("thoughtfield.simulate")
    cfg = tf.load_config(TINY, overrides=overrides)
    ref = _bytes(cfg.annotate(cfg.simulation().run()), tmp_path / "a.nc")
    time.sleep(1.1)   # no time stamps: a later run writes the same bytes
    assert _bytes(cfg.annotate(cfg.simulation().run()), tmp_path / "b.nc") == ref
    monkeypatch.setattr(simulate, "CHUNK_BYTES", 7 * 8 * 3 * cfg.run.members)  # 7-row chunks
    assert cfg.simulation().chunk_points() == 7
    assert _bytes(cfg.annotate(cfg.simulation().run()), tmp_path / "c.nc") == ref
    assert _bytes(cfg.annotate(cfg.simulation().run(progress={"disable": True})),
                  tmp_path / "d.nc") == ref
    assert _bytes(cfg.annotate(cfg.simulation().run(checkpoint=tmp_path / "k", checkpoint_every=0)),
                  tmp_path / "e.nc") == ref
    assert _bytes(cfg.annotate(cfg.simulation(threads=2).run()), tmp_path / "f.nc") == ref
    ds = tf.load_result(tmp_path / "a.nc")
    assert not any("wall" in k or "time_s" in k for k in ds.attrs)


def test_discrete_results_do_not_depend_on_chunks(tmp_path, monkeypatch):
    import importlib
    discrete = importlib.import_module("thoughtfield.discrete")
    cfg = tf.load_config((ROOT / "simulations" / "spreadr_discrete.toml").read_text(),
                         overrides=["run.t_end=50", "run.save_every=4", "seed=2"])
    ref = _bytes(cfg.annotate(cfg.simulation().run()), tmp_path / "a.nc")
    monkeypatch.setattr(discrete, "CHUNK_BYTES", 3 * 8 * 9)
    assert _bytes(cfg.annotate(cfg.simulation().run()), tmp_path / "b.nc") == ref
    sim = cfg.simulation()
    for k in (1, 2, 3, 5, 7, 11, 13):
        sim.advance(k)
    sim.advance()
    assert _bytes(cfg.annotate(sim.result()), tmp_path / "c.nc") == ref


@pytest.mark.parametrize("method", ["dopri5", "dop853"])
def test_adaptive_chunks_ending_inside_a_step_save_what_the_unsplit_run_saves(method):
    cfg = tf.load_config(TINY, overrides=["run.save_dt=0.001", f'solver.method="{method}"'])
    full = cfg.simulation().run()
    sim = cfg.simulation()
    assert full.attrs["n_steps"] * 20 < sim.ts.size   # many save times per step
    for i_hi in (1, 2, 3, 50, 51, 52, 777, 2000, 4001, 4999, 5001):
        sim.advance(i_hi)
    assert sim.result().identical(full)


# ------------------------------------------------------------------ safety
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}


def test_no_code_execution_or_pickle_in_the_package():
    """Configs are data: nothing in the package evaluates text or unpickles."""
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if isinstance(f, ast.Name) and name in FORBIDDEN_CALLS:
                    problems.append(f"{where}: {name}()")
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                    if f.value.id in FORBIDDEN_MODULES:
                        problems.append(f"{where}: {f.value.id}.{f.attr}()")
                    if f.value.id == "yaml" and f.attr in ("load", "unsafe_load", "full_load"):
                        problems.append(f"{where}: yaml.{f.attr}()")
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant)
                                                         and kw.value.value is False):
                        problems.append(f"{where}: allow_pickle not False")
                # (np.load without allow_pickle is safe: numpy's default is False)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""])
                for m in mods:
                    if m.split(".")[0] in FORBIDDEN_MODULES:
                        problems.append(f"{where}: import {m}")
    assert not problems, "\n".join(problems)
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    for needle in ("allow_pickle=True", "yaml.load(", "pickle.load", "marshal.load"):
        assert needle not in text


def test_config_paths_are_relative_to_the_config_and_reported_when_missing(tmp_path,
                                                                          monkeypatch):
    sub = tmp_path / "configs"
    sub.mkdir()
    (sub / "edges.csv").write_text("source,target\nsun,beach\n")
    (sub / "net.toml").write_text('[network]\nfile = "edges.csv"\n[run]\nt_end = 1.0\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert tf.load_config(sub / "net.toml").network.concepts == ("sun", "beach")
    (sub / "net.toml").write_text('[network]\nfile = "data/edges.csv"\n[run]\nt_end = 1.0\n')
    with pytest.raises(tf.ConfigError, match=r"net.toml:2: network.file: file not found: "
                                             r".*configs/data/edges.csv \(paths are relative "
                                             r"to the config's folder .*configs\)"):
        tf.load_config(sub / "net.toml")


def test_cleanup_after_a_failed_write_survives_dead_weak_proxies(tmp_path):
    """_forget_broken_files walks every object the garbage collector tracks; a weak proxy
    whose object is gone raises ReferenceError on isinstance (this failed a suite run)."""
    import gc
    import weakref
    from thoughtfield.results import _forget_broken_files

    class Gone:
        """Something to take a weak proxy of."""
    obj = Gone()
    proxies = [weakref.proxy(obj)]
    del obj
    gc.collect()
    assert any(type(o) is weakref.ProxyType for o in gc.get_objects())
    with pytest.raises(ReferenceError):
        isinstance(proxies[0], int)
    _forget_broken_files(str(tmp_path / "r.nc.tmp"))   # must not raise
    assert proxies
