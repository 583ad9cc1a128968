"""Hardening of ``thoughtfield run`` (issue 13, classes 2, 3, 6, 11, 13, 15): no result is
lost to a kill or a full disk, the disk and memory estimates are not below what a run
really uses, one run at a time per output, no temporary files left behind, and
checkpoints are validated (content and sizes) before anything is allocated."""

import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import thoughtfield as tf
import thoughtfield.results  # noqa: F401  (tf.results: the writer the tests replace)
from thoughtfield import checkpoint as ck
from thoughtfield import _sizes as sizes, resources
from thoughtfield.cli import main

from _configs import TINY
from _fuzz import FAST

ROOT = Path(__file__).resolve().parents[1]
SPREADR = (ROOT / "simulations" / "spreadr_discrete.toml").read_text()


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
                + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")


def _write(path: Path, text: str = TINY) -> Path:
    path.write_text(text)
    return path


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ================================================================== class 2: kill at the write
_KILL_AT_WRITE = """
import os, signal, sys
import thoughtfield.results as R
def killed(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
R.save_result = killed
from thoughtfield.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_between_the_run_and_the_write_keeps_the_checkpoint(tmp_path):
    """The checkpoint goes only after the result is durable: a SIGKILL while the result
    is written leaves the checkpoint, and --resume then writes the same bytes as an
    uninterrupted run."""
    cfg = _write(tmp_path / "tiny.toml", TINY + "save_dt = 0.01\n")
    out = tmp_path / "tiny.nc"
    ckpt = Path(ck.checkpoint_path(out))
    r = subprocess.run([sys.executable, "-c", _KILL_AT_WRITE, "run", str(cfg), "--out", str(out),
                        "--checkpoint-every", "0", "--quiet"], env=_env(), cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert not out.exists()
    assert ckpt.exists(), "the kill during the final write lost the whole run"
    code = main(["run", str(cfg), "--out", str(out), "--resume", "--quiet"])
    assert code == 0 and out.exists() and not ckpt.exists()
    ref = tmp_path / "ref.nc"
    assert main(["run", str(cfg), "--out", str(ref), "--quiet", "--no-checkpoint"]) == 0
    assert out.read_bytes() == ref.read_bytes()


def test_run_keeps_the_checkpoint_when_asked_and_removes_it_by_default(tmp_path):
    cfg = tf.load_config(TINY, overrides=["run.save_dt=0.01"])
    path = tmp_path / "c.ckpt"
    ref = cfg.simulation().run()
    ds = cfg.simulation().run(checkpoint=path, checkpoint_every=0, keep_checkpoint=True)
    assert ds.identical(ref) and path.exists()
    # the kept checkpoint resumes to the same result
    assert cfg.simulation().run(checkpoint=path, resume=True).identical(ref)
    assert not path.exists()


def test_the_result_is_durable_before_the_checkpoint_goes(tmp_path, monkeypatch):
    """Order of the final write: data fsynced, renamed, folder fsynced, then the checkpoint
    removed."""
    events = []
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, os.unlink

    def fsync(fd):
        import stat
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        return real_fsync(fd)

    def replace(a, b, *k, **kw):
        if str(b).endswith(".nc"):
            events.append("rename-result")
        return real_replace(a, b, *k, **kw)

    def unlink(p, *k, **kw):
        if str(p).endswith(".checkpoint"):
            events.append("remove-checkpoint")
        return real_unlink(p, *k, **kw)

    cfg = _write(tmp_path / "tiny.toml", TINY + "save_dt = 0.01\n")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    assert main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--checkpoint-every", "0",
                 "--quiet"]) == 0
    tail = events[events.index("rename-result") - 1:]
    assert tail[:3] == ["fsync-file", "rename-result", "fsync-dir"], events
    assert "remove-checkpoint" in tail[3:], events


# ================================================================== class 3: disk
def _sizes(sim, tmp_path, attrs=None):
    est = resources.estimate(sim, attrs=attrs)
    ds = sim.run()
    if attrs:
        ds.attrs.update(attrs)
    # the estimate is the uncompressed encoding: an upper bound of the compressed file
    packed = os.path.getsize(tf.save_result(ds, tmp_path / "z.nc", overwrite=True))
    path = tf.save_result(ds, tmp_path / "r.nc", overwrite=True, compress=False)
    assert packed <= est.file_bytes, (packed, est.file_bytes)
    return est.file_bytes, os.path.getsize(path)


def _names_net(n, name, layers=tf.DEFAULT_LAYERS, k=3, seed=0):
    rng = np.random.default_rng(seed)
    net = tf.ConceptNetwork(layers=layers)
    for i in range(n):
        net.add_concept(name(i), layers[i % len(layers)])
    src = rng.integers(0, n, n * k)
    tgt = np.repeat(np.arange(n), k)
    keep = src != tgt
    net.add_relation_arrays(src[keep], tgt[keep], rng.normal(0, 0.3, keep.sum()), "association")
    return net


FILE_CASES = {
    "tiny": lambda: tf.load_config(TINY).simulation(),
    "tiny-dense": lambda: tf.load_config(TINY, overrides=["run.save_dt=0.0005"]).simulation(),
    "members": lambda: tf.load_config(TINY, overrides=[
        'solver.method="euler_maruyama"', "model.sigma=0.2", "run.members=7",
        "run.save_dt=0.01"]).simulation(),
    "many-short-names": lambda: tf.Simulation(_names_net(30_000, lambda i: f"c{i}"),
                                              t_end=1.0, saveat=tf.SaveAt(dt=0.5)),
    "long-unicode-names": lambda: tf.Simulation(
        _names_net(3_000, lambda i: f"понятие-{i}-" + "☀" * (i % 40)), t_end=1.0,
        saveat=tf.SaveAt(dt=0.1), members=2, solver=tf.Solver("euler", dt=0.05)),
    "mechanisms": lambda: tf.load_config(ROOT / "simulations" / "stroop_control.toml")
    .simulation(),
    "choice": lambda: tf.load_config(ROOT / "simulations" / "choice_lca.toml").simulation(),
    "spreadr": lambda: tf.load_config(SPREADR).simulation(),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_the_file_estimate_is_the_written_size(tmp_path, case):
    """The result-file estimate comes from the real encoding (variable-length strings,
    attributes, every variable): never below the written size, at most ~10 % above."""
    est, size = _sizes(FILE_CASES[case](), tmp_path)
    assert est >= size, (case, est, size)
    assert est <= 1.10 * size + 48 * 1024, (case, est, size)


def test_the_file_estimate_counts_the_config_attributes(tmp_path):
    text = 'description = "' + "x" * 200_000 + '"\n' + TINY
    cfg = tf.load_config(text)
    attrs = dict(cfg.annotate(xr.Dataset()).attrs)
    est, size = _sizes(cfg.simulation(), tmp_path, attrs=attrs)
    assert size > 400_000 and size <= est <= 1.10 * size + 48 * 1024


def test_a_run_that_fits_without_checkpoints_is_not_refused(tmp_path, monkeypatch, recwarn):
    """The disk check reserves what the run writes for sure (the result), not two
    checkpoints; checkpoints that would not leave room for the result are skipped with a
    warning."""
    cfg = _write(tmp_path / "tiny.toml", TINY + "save_dt = 0.001\n")
    sim = tf.load_config(cfg).simulation()
    est = resources.estimate(sim)
    free = est.file_bytes + 16 * 1024 + est.checkpoint_bytes // 4
    assert est.file_bytes + 2 * est.checkpoint_bytes > free    # what was reserved before
    monkeypatch.setattr(sizes, "free_disk", lambda path: free)
    code = main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--quiet",
                 "--checkpoint-every", "0"])
    assert code == 0
    assert (tmp_path / "r.nc").exists()
    assert any("no checkpoint written" in str(w.message) for w in recwarn.list)


def test_checkpoints_are_skipped_while_they_would_not_leave_room_for_the_result(tmp_path,
                                                                                  monkeypatch):
    cfg = tf.load_config(TINY, overrides=["run.save_dt=0.001"])
    free = [10**12]
    monkeypatch.setattr(sizes, "free_disk", lambda path: free[0])
    sim = cfg.simulation()
    saver = ck.Checkpointer(sim, tmp_path / "c.ckpt", every=0)
    sim.advance(2000)
    free[0] = saver.reserve + 100       # the result fits, a checkpoint as well would not
    with pytest.warns(RuntimeWarning, match=r"c.ckpt: no checkpoint written: it needs about "
                                            r".* free on the disk"):
        saver.after_chunk()
    assert not (tmp_path / "c.ckpt").exists() and saver.enabled
    free[0] = 10**12                     # space again: checkpoints again
    saver.after_chunk()
    assert (tmp_path / "c.ckpt").exists()


def _enospc_writer(monkeypatch):
    def full(self, path, *a, **k):
        Path(path).write_bytes(b"partial" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(tf.results, "_to_netcdf", full)


def test_a_full_disk_at_the_final_write_keeps_the_run_and_the_old_result(tmp_path, monkeypatch,
                                                                         capsys):
    cfg = _write(tmp_path / "tiny.toml", TINY + "save_dt = 0.01\n")
    out = tmp_path / "r.nc"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    old = out.read_bytes()
    capsys.readouterr()
    real = tf.results._to_netcdf
    _enospc_writer(monkeypatch)
    code = main(["run", str(cfg), "--out", str(out), "--force", "--quiet", "--set",
                 "model.gain=4.5"])
    err = _one_line(capsys.readouterr().err)
    assert code == 1, err
    assert err.startswith("thoughtfield run: run failed: ") and "the disk is full" in err
    ckpt = Path(ck.checkpoint_path(out))
    assert "--resume" in err and str(ckpt) in err
    assert out.read_bytes() == old, "the old result must stay"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc", "r.nc.checkpoint",
                                                          "tiny.toml"]
    # space again: --resume writes the result without integrating again
    monkeypatch.setattr(tf.results, "_to_netcdf", real)
    code = main(["run", str(cfg), "--out", str(out), "--force", "--resume", "--quiet", "--set",
                 "model.gain=4.5"])
    assert code == 0 and not ckpt.exists()
    ref = tmp_path / "ref.nc"
    assert main(["run", str(cfg), "--out", str(ref), "--quiet", "--set", "model.gain=4.5"]) == 0
    assert out.read_bytes() == ref.read_bytes()


def _unshare_ok() -> bool:
    if shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                        "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return r.returncode == 0


_NO_DISK_CHECK = """
import sys
import thoughtfield._sizes as r
r.free_disk = lambda path: None       # free space unknown (e.g. a network file system)
from thoughtfield.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.skipif(not _unshare_ok(), reason="needs user namespaces to mount a small tmpfs")
def test_a_real_full_disk_gives_a_clean_failure(tmp_path):
    """A tmpfs too small for the result: before, h5py segfaulted (exit 139) after the
    write failed; now exit 1, one line, no temporary file, the old result kept."""
    cfg = _write(tmp_path / "tiny.toml", TINY + "save_dt = 0.0002\n")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = tmp_path / "no_check.py"
    script.write_text(_NO_DISK_CHECK)
    py = sys.executable
    sh = (f"mount -t tmpfs -o size=300k tmpfs {mnt} && "
          f"{py} -m thoughtfield run {cfg} --out {mnt}/r.nc --quiet --set run.save_dt=0.1 && "
          f"cp {mnt}/r.nc {tmp_path}/old.nc && "
          f"{py} {script} run {cfg} --out {mnt}/r.nc --quiet --force --no-checkpoint; "
          f"echo rc=$?; ls -a {mnt}; cmp {mnt}/r.nc {tmp_path}/old.nc && echo same; "
          f"{py} -m thoughtfield run {cfg} --out {mnt}/q.nc --quiet; echo rc2=$?")
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", sh],
                       env=_env(), capture_output=True, text=True, timeout=180)
    out = r.stdout
    assert "rc=1" in out, (out, r.stderr)
    assert "same" in out, (out, r.stderr)
    listing = out.split("rc=1", 1)[1]
    assert ".tmp-" not in listing, out
    errs = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert any(ln.startswith("thoughtfield run: run failed: ") and "the disk is full" in ln
               for ln in errs), r.stderr
    assert "Traceback" not in r.stderr and "Segmentation" not in r.stderr
    # with the disk check on, the same run is refused before it starts
    assert "rc2=2" in out and "but only" in r.stderr, (out, r.stderr)


# ================================================================== class 6: one run per output
def test_a_second_run_on_a_locked_output_is_refused(tmp_path, capsys):
    import fcntl
    cfg = _write(tmp_path / "tiny.toml")
    out = tmp_path / "r.nc"
    lock = tmp_path / "r.nc.lock"
    with open(lock, "w") as f:
        f.write("424242\n")
        f.flush()
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code = main(["run", str(cfg), "--out", str(out), "--force"])
        err = _one_line(capsys.readouterr().err)
    assert code == 2, err
    assert "r.nc: another thoughtfield run (pid 424242) is writing this result" in err
    assert not out.exists()
    # the lock is free again: the run goes, and leaves no lock file behind
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    assert out.exists() and not lock.exists()


def test_two_concurrent_runs_on_one_output(tmp_path, capsys):
    """A real second process on the same --out (even with --force) is refused while the
    first runs; the first one's checkpoint and result are untouched."""
    from test_checkpoint import _long_config
    cfg = _long_config(tmp_path / "long.toml", t_end=200.0)
    out = tmp_path / "long.nc"
    ckpt = Path(ck.checkpoint_path(out))
    proc = subprocess.Popen([sys.executable, "-m", "thoughtfield", "run", str(cfg), "--out",
                             str(out), "--checkpoint-every", "0", "--quiet"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None and ckpt.exists(), "the first run ended too early"
        code = main(["run", str(cfg), "--out", str(out), "--force", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and "another thoughtfield run (pid " in err, err
        assert f"(pid {proc.pid})" in err
        _, perr = proc.communicate(timeout=120)
        assert proc.returncode == 0, perr
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.exists() and not ckpt.exists()


# ================================================================== class 11: temp files
def test_stale_temporary_files_of_the_output_are_swept_under_the_lock(tmp_path):
    cfg = _write(tmp_path / "tiny.toml")
    old = time.time() - 3600
    stale = [tmp_path / ".tmp-r.nc-k2j4h5.nc", tmp_path / ".tmp-r.nc.checkpoint-x7x7x7.checkpoint"]
    keep = [tmp_path / ".tmp-other.nc-abcdef.nc", tmp_path / ".tmp-zzzz.nc",
            tmp_path / ".tmp-r.nc.checkpoint-new.checkpoint"]
    for p in stale + keep:
        p.write_bytes(b"\0" * 1000)
    for p in stale + keep[:2]:
        os.utime(p, (old, old))
    future = time.time() + 3600          # newer than the lock: not stale
    os.utime(keep[2], (future, future))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--quiet"]) == 0
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in keep)
    # the figures' temporary files too, when the figures are written again
    fig = tmp_path / ".tmp-123456-r_heatmap.png"
    other = tmp_path / ".tmp-123456-x_heatmap.png"
    for p in (fig, other):
        p.write_bytes(b"\x89PNG half")
        os.utime(p, (old, old))
    assert main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--quiet", "--force",
                 "--plot"]) == 0
    assert not fig.exists() and other.exists()


def test_no_temporary_file_is_left_by_an_interrupted_or_failed_write(tmp_path, monkeypatch):
    ds = tf.run_config(TINY)

    def interrupted(self, path, *a, **k):
        Path(path).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(tf.results, "_to_netcdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tf.save_result(ds, tmp_path / "r.nc")
    assert os.listdir(tmp_path) == []
    sim = tf.load_config(TINY).simulation()
    sim.advance(50)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError):
        sim.save_checkpoint(tmp_path / "c.ckpt")
    assert os.listdir(tmp_path) == []


def test_temporary_files_are_named_after_their_target(tmp_path, monkeypatch):
    seen = []
    real = tf.results._to_netcdf

    def spy(self, path, *a, **k):
        seen.append(os.path.basename(path))
        return real(self, path, *a, **k)

    monkeypatch.setattr(tf.results, "_to_netcdf", spy)
    tf.save_result(tf.run_config(TINY), tmp_path / "res.nc")
    assert seen and seen[0].startswith(".tmp-res.nc-") and seen[0].endswith(".nc")


# ================================================================== class 13: memory
def _random_net(n, k, seed=0, type_="link", positive=False):
    rng = np.random.default_rng(seed)
    net = tf.ConceptNetwork(layers=tf.DEFAULT_LAYERS)
    for i in range(n):
        net.add_concept(f"c{i}", tf.DEFAULT_LAYERS[i % 4])
    src = rng.integers(0, n, n * k)
    tgt = np.repeat(np.arange(n), k)
    keep = src != tgt
    w = rng.normal(0, 0.5 / np.sqrt(k), keep.sum())
    net.add_relation_arrays(src[keep], tgt[keep], np.abs(w) if positive else w, type_)
    return net


MEMORY_CASES = {
    # the network dominates (1e5 concepts, 8e5 relations, three save times)
    "network": dict(net=(100_000, 8, "link"), saveat=tf.SaveAt(dt=1.0)),
    "symmetric-relations": dict(net=(50_000, 8, "association"), saveat=tf.SaveAt(dt=1.0)),
    # the output dominates; an ensemble is transposed for the file
    "ensemble": dict(net=(10_000, 4, "link"), saveat=tf.SaveAt(dt=0.05), members=6,
                     solver=tf.Solver("euler_maruyama", dt=0.01), sigma=0.1),
    # a run that stops at a steady state: its last row is appended to a copy of the output
    "steady": dict(net=(2_000, 4, "link"), saveat=tf.SaveAt(dt=0.02), t_end=50.0,
                   solver=tf.Solver("dopri5", steady_tol=1e-2)),
    # the discrete mode joins its saved rows for the result
    "spreadr": dict(net=(50_000, 4, "association"), t_end=60, saveat=tf.SaveAt(every=1),
                    solver=tf.Spreadr(retention=0.5, decay=0.1)),
}


@pytest.mark.parametrize("case", sorted(MEMORY_CASES))
def test_the_memory_estimate_covers_the_measured_peak(tmp_path, case):
    """Every allocation of a run (lowering the network, the kernel's copies, solver stages,
    output, Dataset assembly and the write) is counted: the estimate is not below the
    traced peak, and not far above it."""
    c = MEMORY_CASES[case]
    n, k, type_ = c["net"]
    net = _random_net(n, k, type_=type_, positive=case == "spreadr")
    model = tf.Model(transfer="tanh", sigma=c.get("sigma", 0.0))
    tf.save_result(tf.run_config(TINY), tmp_path / "warm.nc")   # imports are not the run's
    tracemalloc.start()
    try:
        sim = tf.make_simulation(net, model, [tf.Pulse("c0", amplitude=1.0, start=0, stop=1)],
                                 t_end=c.get("t_end", 2.0), members=c.get("members", 1),
                                 solver=c.get("solver"), seed=1, saveat=c["saveat"])
        ds = sim.run()
        tf.save_result(ds, tmp_path / "r.nc")
        del ds
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    est = resources.estimate(sim).memory_bytes
    assert est >= peak, (case, est / 2**20, peak / 2**20)
    assert est <= 2.5 * peak + 16 * 2**20, (case, est / 2**20, peak / 2**20)
    assert sim.memory_estimate == est


def test_the_memory_guard_counts_the_network():
    """1e5 concepts and 8e5 relations need far more than the output and the stages: a
    limit between the old estimate and the real need refuses the run, naming the network."""
    net = _random_net(100_000, 8)
    with pytest.raises(tf.ResourceError, match=r"network .*relations"):
        tf.Simulation(net, t_end=1.0, saveat=tf.SaveAt(dt=1.0), max_memory=40 * 2**20)


# ================================================================== class 15: checkpoint content
def _ckpt_arrays(name="em"):
    if name == "spreadr":
        cfg = tf.load_config(SPREADR, overrides=["run.t_end=20", "seed=12"])
        sim = cfg.simulation()
        sim.advance(7)
    else:
        cfg = tf.load_config(TINY, overrides=['solver.method="euler_maruyama"', "model.sigma=0.3",
                                              "run.members=3", "seed=12"])
        sim = cfg.simulation()
        sim.advance(100)
    return cfg, sim


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    out = {}
    for name in ("em", "spreadr"):
        cfg, sim = _ckpt_arrays(name)
        path = Path(sim.save_checkpoint(d / f"{name}.ckpt"))
        with np.load(path, allow_pickle=False) as z:
            out[name] = (cfg, {k: z[k] for k in z.files})
    return out


POISON_KEYS = {"em": ["state.y", "K0", "out", "state.spare", "state.fst"],
               "spreadr": ["state.a", "rows"]}


@FAST
@given(data=st.data())
def test_a_poisoned_checkpoint_with_a_valid_header_is_refused(tmp_path, checkpoints, data):
    """Non-finite values anywhere in the state, output or stages, or counters out of range,
    are refused with a CheckpointError naming the array -- never resumed."""
    name = data.draw(st.sampled_from(sorted(POISON_KEYS)))
    cfg, arrays = checkpoints[name]
    arrays = {k: v.copy() for k, v in arrays.items()}
    kind = data.draw(st.sampled_from(["nonfinite", "counter"]))
    if kind == "nonfinite":
        key = data.draw(st.sampled_from(POISON_KEYS[name]))
        a = arrays[key]
        if key == "state.fst":
            i = data.draw(st.integers(0, 2))       # time, step, error history
        else:
            i = data.draw(st.integers(0, a.size - 1))
        a.reshape(-1)[i] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        what = key
    else:
        if name == "em":
            from thoughtfield._problem import I_NEXT, I_SEG, I_STATUS, I_STEPS
            idx = data.draw(st.sampled_from([I_NEXT, I_SEG, I_STATUS, I_STEPS]))
            val = data.draw(st.sampled_from([-1, -(2**62), 2**62, 10**6]))
            arrays["state.ist"][idx] = val
            what = "state.ist"
        else:
            arrays["state.ist"][0] = data.draw(st.sampled_from([-5, 10**9, -(2**62)]))
            what = "state.ist"
    path = tmp_path / "p.ckpt"
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ck.CheckpointError, match=r"p.ckpt: ") as e:
        cfg.simulation().load_checkpoint(path)
    msg = str(e.value)
    assert "\n" not in msg and ("delete it" in msg or "start" in msg), msg
    assert what.split(".")[0] in msg or what in msg or "inconsistent" in msg, (what, msg)


def test_a_zip_bomb_checkpoint_is_refused_before_decompression(tmp_path, checkpoints):
    cfg, arrays = checkpoints["em"]
    path = tmp_path / "bomb.ckpt"
    zeros = bytes(2**20)
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in arrays.items():
            if k == "out":
                continue
            with zf.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v, allow_pickle=False)
        # "out" declares 300 MB and holds them, deflated to a few hundred kB
        hdr = io.BytesIO()
        np.lib.format.write_array_header_1_0(hdr, {"descr": "<f8", "fortran_order": False,
                                                    "shape": (300 * 2**20 // 8,)})
        info = zipfile.ZipInfo("out.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            f.write(hdr.getvalue())
            for _ in range(300):
                f.write(zeros)
    assert os.path.getsize(path) < 2 * 2**20
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        with pytest.raises(ck.CheckpointError, match=r"bomb.ckpt: out .*(shape|size)"):
            cfg.simulation().load_checkpoint(path)
        _, peak = tracemalloc.get_traced_memory()
        info = ck.read_info(path)        # the header alone is read without touching "out"
        _, peak2 = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20 and peak2 < 32 * 2**20, (peak, peak2)
    assert time.perf_counter() - t0 < 10
    assert info["kind"] == "continuous"


def test_oversized_header_members_and_non_regular_files_are_refused(tmp_path, checkpoints):
    cfg, arrays = checkpoints["em"]
    path = tmp_path / "big.ckpt"
    with open(path, "wb") as f:
        np.savez(f, **dict(arrays, progress=np.array("x" * 2_000_000)))
    with pytest.raises(ck.CheckpointError, match=r"big.ckpt: .*progress.* too large"):
        ck.read_info(path)
    fifo = tmp_path / "fifo.ckpt"
    os.mkfifo(fifo)
    with pytest.raises(ck.CheckpointError, match=r"fifo.ckpt: not a regular file"):
        ck.read_info(fifo)
    with pytest.raises(ck.CheckpointError, match=r"fifo.ckpt: not a regular file"):
        cfg.simulation().load_checkpoint(fifo)


def test_a_poisoned_checkpoint_is_refused_by_the_command_line(tmp_path, capsys, checkpoints):
    cfg_path = _write(tmp_path / "tiny.toml", TINY)
    out = tmp_path / "r.nc"
    sim = tf.load_config(cfg_path).simulation()
    sim.advance(30)
    ckpt = Path(sim.save_checkpoint(ck.checkpoint_path(out)))
    with np.load(ckpt, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["state.y"][1] = np.nan
    with open(ckpt, "wb") as f:
        np.savez(f, **arrays)
    code = main(["run", str(cfg_path), "--out", str(out), "--resume", "--quiet"])
    err = _one_line(capsys.readouterr().err)
    assert code == 2 and "state.y" in err and "not finite" in err, err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink", "stale", "garbage"])
def test_odd_lock_files(tmp_path, capsys, kind):
    """A lock file left by a killed run (any content) is taken over; one that is not a
    regular file is refused by name, never followed, never blocking."""
    cfg = _write(tmp_path / "tiny.toml")
    lock = tmp_path / "r.nc.lock"
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    elif kind == "symlink":
        lock.symlink_to("/dev/zero")
    elif kind == "stale":
        lock.write_text("99999999\n")
    else:
        lock.write_bytes(os.urandom(3000))
    code = main(["run", str(cfg), "--out", str(tmp_path / "r.nc"), "--quiet"])
    err = capsys.readouterr().err
    if kind in ("stale", "garbage"):
        assert code == 0 and not lock.exists(), err
    else:
        assert code == 2 and "r.nc.lock" in _one_line(err), err
        assert not (tmp_path / "r.nc").exists()
