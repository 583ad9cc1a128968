"""Checkpoint and resume: a run restored from a checkpoint ends bit for bit equal (values,
solver statistics, attributes, file bytes) to the uninterrupted run; bad checkpoints are
refused with a clear message; ``thoughtfield run --resume`` after a SIGKILL."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield import _version, checkpoint as ck
from thoughtfield._problem import State
from thoughtfield.cli import main

from _configs import TINY

ROOT = Path(__file__).resolve().parents[1]
SPREADR = (ROOT / "simulations" / "spreadr_discrete.toml").read_text()

CASES = {
    # dopri5 with save times much denser than its steps: chunks end inside steps
    "dopri5": (TINY, ["run.save_dt=0.01"]),
    "dopri5-steady": (TINY, ["solver.steady_tol=1e-3", "run.t_end=60"]),
    # dop853: its dense output needs three extra stages; the checkpoint holds the FSAL stage
    "dop853": (TINY, ['solver.method="dop853"', "solver.rtol=1e-8", "run.save_dt=0.01"]),
    "dop853-steady": (TINY, ['solver.method="dop853"', "solver.steady_tol=1e-3",
                             "run.t_end=60"]),
    "rk4": (TINY, ['solver.method="rk4"', "solver.dt=0.03"]),
    "heun": (TINY, ['solver.method="heun"']),
    "euler": (TINY, ['solver.method="euler"', "run.save_dt=0.1"]),
    "euler_maruyama": (TINY, ['solver.method="euler_maruyama"', "model.sigma=0.3",
                              "run.members=3"]),
    "spreadr": (SPREADR, ["run.t_end=20", "run.save_every=3"]),
    "spreadr-save_at": (SPREADR, ["run.t_end=20", "run.save_at=[2, 5, 11, 17]"]),
    "spreadr-threshold": (SPREADR, ["run.t_end=400", "solver.threshold_to_stop=0.5",
                                    "run.members=2"]),
}


def _cfg(name):
    text, over = CASES[name]
    return tf.load_config(text, overrides=over + ["seed=12"])


def _points(sim):
    """Where to interrupt: a few chunk ends spread over the run."""
    if isinstance(sim, tf.DiscreteSimulation):
        n = sim.t_stop - sim.t0
        return [1, 2, n // 3, n // 2 + 1]
    n = sim.ts.size
    return [1, 2, n // 3, n // 2 + 1, n - 2]


@pytest.mark.parametrize("name", sorted(CASES))
def test_resume_from_any_chunk_end_equals_the_uninterrupted_run(tmp_path, name):
    cfg = _cfg(name)
    ref = cfg.simulation().run()
    assert ref.attrs["n_steps"] > 3
    for k in _points(cfg.simulation()):
        sim = cfg.simulation()
        sim.advance(k)    # save slots [0, k) (continuous) or k steps (discrete)
        if sim.done:
            continue
        path = sim.save_checkpoint(tmp_path / f"{name}.ckpt")
        back = cfg.simulation()
        info = back.load_checkpoint(path)
        assert info["seed"] == 12 and info["kind"] in ("continuous", "discrete")
        ds = back.run()
        assert ds.identical(ref), (name, k)
        for key in ("n_steps", "n_rhs", "n_accepted", "n_rejected", "status", "message"):
            assert ds.attrs.get(key) == ref.attrs.get(key), (name, k, key)


@pytest.mark.parametrize("name", ["dopri5", "dop853", "euler_maruyama", "spreadr"])
def test_checkpointing_run_equals_plain_run_and_every_checkpoint_resumes(tmp_path, name,
                                                                          monkeypatch):
    """``run(checkpoint=..., checkpoint_every=0)`` writes a checkpoint at every chunk end;
    each of them (a kill at that moment) resumes to the same result."""
    cfg = _cfg(name)
    if name == "spreadr":
        cfg = cfg.with_overrides(["run.t_end=300"])
    ref = cfg.simulation().run()
    snaps = []
    real = ck.save_checkpoint

    def spy(sim, path):
        out = real(sim, path)
        snap = tmp_path / f"snap{len(snaps)}.ckpt"
        shutil.copy(out, snap)
        snaps.append(snap)
        return out

    monkeypatch.setattr(ck, "save_checkpoint", spy)
    path = tmp_path / "run.ckpt"
    ds = cfg.simulation().run(checkpoint=path, checkpoint_every=0)
    assert ds.identical(ref)
    assert not path.exists(), "the checkpoint is removed when the run ends"
    assert len(snaps) >= 3
    for snap in snaps[:: max(1, len(snaps) // 6)]:
        sim = cfg.simulation()
        got = sim.run(checkpoint=snap, resume=True)
        assert got.identical(ref)
        assert not snap.exists()


def test_a_checkpoint_holds_every_state_field(tmp_path):
    sim = _cfg("euler_maruyama").simulation()
    sim.advance(50)
    with np.load(sim.save_checkpoint(tmp_path / "c.ckpt"), allow_pickle=False) as z:
        keys = set(z.files)
    assert {f"state.{f}" for f in State._fields} <= keys
    assert {"K0", "out", "fingerprint", "seed", "version", "format", "kind"} <= keys
    # a State field added later is picked up without touching the checkpoint code
    assert all(f"state.{f}" in keys for f in sim.state._fields)


def test_resume_with_the_checkpoint_seed_when_the_config_has_none(tmp_path):
    cfg = tf.load_config(TINY.replace("seed = 3\n", ""),
                         overrides=['solver.method="euler_maruyama"', "model.sigma=0.2"])
    sim = cfg.simulation()
    sim.advance(80)
    path = sim.save_checkpoint(tmp_path / "c.ckpt")
    ref = cfg.simulation(seed=sim.seed).run()
    ds = cfg.run_simulation(checkpoint=path, resume=True)
    assert ds.attrs["seed"] == sim.seed
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)
    # without the seed the checkpoint is another run
    sim2 = cfg.simulation(seed=sim.seed + 1)
    sim.save_checkpoint(path)
    with pytest.raises(tf.ConfigError, match=r"belongs to a different run .*seed \d+ differ"):
        sim2.load_checkpoint(path)


# ------------------------------------------------------------------ refusals
@pytest.fixture
def checkpoint_file(tmp_path):
    sim = _cfg("euler_maruyama").simulation()
    sim.advance(100)
    return Path(sim.save_checkpoint(tmp_path / "c.ckpt"))


@pytest.mark.parametrize("cut", [0, 10, 100, 1000, -200, -22, -1])
def test_truncated_checkpoint_is_refused(checkpoint_file, cut):
    data = checkpoint_file.read_bytes()
    checkpoint_file.write_bytes(data[:cut] if cut >= 0 else data[:len(data) + cut])
    with pytest.raises(ck.CheckpointError, match=r"c.ckpt: not a readable checkpoint "
                                                 r"\(corrupted or truncated: .*\); delete it"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)


def test_corrupted_checkpoint_is_refused(checkpoint_file):
    data = bytearray(checkpoint_file.read_bytes())
    k = data.find(b"out.npy")
    data[k + 400] ^= 0xFF                      # a flipped byte inside the saved output: CRC

    checkpoint_file.write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError, match=r"corrupted or truncated"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)
    np.save(checkpoint_file.with_suffix(".npy"), np.zeros(3))
    os.replace(checkpoint_file.with_suffix(".npy"), checkpoint_file)
    with pytest.raises(ck.CheckpointError, match=r"not an .npz archive"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)
    checkpoint_file.write_bytes(b"\x80\x04junk that is no zip and no npy")
    with pytest.raises(ck.CheckpointError, match=r"corrupted or truncated"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)


def test_incomplete_or_misfitting_checkpoint_is_refused(checkpoint_file):
    with np.load(checkpoint_file, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    sim = _cfg("euler_maruyama").simulation()
    missing = dict(arrays)
    del missing["state.rng"]
    with open(checkpoint_file, "wb") as f:
        np.savez(f, **missing)
    with pytest.raises(ck.CheckpointError, match=r"incomplete checkpoint \(no 'state.rng'\)"):
        sim.load_checkpoint(checkpoint_file)
    bad = dict(arrays, **{"state.y": arrays["state.y"][:-1]})
    with open(checkpoint_file, "wb") as f:
        np.savez(f, **bad)
    with pytest.raises(ck.CheckpointError, match=r"state.y has shape \(8,\) float64, the run "
                                                 r"needs \(9,\) float64"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)
    header = dict(arrays)
    del header["fingerprint"]
    with open(checkpoint_file, "wb") as f:
        np.savez(f, **header)
    with pytest.raises(ck.CheckpointError, match=r"not a thoughtfield checkpoint"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)


@pytest.mark.parametrize("change", [
    ["model.gain=4.5"], ["run.t_end=6"], ["run.save_dt=0.05"], ["seed=13"], ["run.members=2"],
    ['stimuli[0].amplitude=1.5'], ["model.initial=0.01"], ["solver.dt=0.005"],
])
def test_checkpoint_of_another_run_is_refused(checkpoint_file, change):
    text, over = CASES["euler_maruyama"]
    other = tf.load_config(text, overrides=over + ["seed=12"] + change).simulation()
    with pytest.raises(ck.CheckpointError, match=r"c.ckpt: the checkpoint belongs to a "
                                                 r"different run .*or delete the checkpoint"):
        other.load_checkpoint(checkpoint_file)


def test_checkpoint_of_another_kind_or_version_is_refused(checkpoint_file, monkeypatch):
    with pytest.raises(ck.CheckpointError, match=r"a checkpoint of a continuous run cannot "
                                                 r"resume a discrete run"):
        _cfg("spreadr").simulation().load_checkpoint(checkpoint_file)
    monkeypatch.setattr(_version, "__version__", "99.0")
    with pytest.raises(ck.CheckpointError, match=r"written by thoughtfield 0.1.0, this is 99.0"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file)
    with pytest.raises(ck.CheckpointError, match=r"nope.ckpt: checkpoint not found"):
        _cfg("euler_maruyama").simulation().load_checkpoint(checkpoint_file.with_name("nope.ckpt"))


def test_checkpoint_write_failure_warns_and_the_run_goes_on(tmp_path, monkeypatch):
    def fail(sim, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(ck, "save_checkpoint", fail)
    cfg = _cfg("rk4")
    with pytest.warns(RuntimeWarning, match=r"cannot write the checkpoint .*No space left"):
        ds = cfg.simulation().run(checkpoint=tmp_path / "c.ckpt", checkpoint_every=0)
    assert ds.identical(cfg.simulation().run())


def test_diverging_run_removes_its_checkpoint(tmp_path):
    net = tf.ConceptNetwork(["x"], [("x", "x", "link", 3.0)])
    sim = tf.Simulation(net, tf.Model(transfer="linear", initial=1.0), t_end=2000.0,
                        solver=tf.Solver("euler", dt=0.5), saveat=tf.SaveAt(dt=1.0))
    path = tmp_path / "boom.ckpt"
    with pytest.raises(tf.DivergenceError):
        sim.run(checkpoint=path, checkpoint_every=0)
    assert not path.exists()


# ------------------------------------------------------------------ the command line
def _long_config(path: Path, t_end=600.0):
    n = 200
    rels = ([[f"c{i}", f"c{(i * 7 + 3) % n}", "association", 0.3] for i in range(n)]
            + [[f"c{i}", f"c{(i + 1) % n}", "link", 0.5] for i in range(n)])
    path.write_text(
        "seed = 5\n[network]\nconcepts = " + json.dumps([f"c{i}" for i in range(n)])
        + "\nrelations = " + json.dumps(rels)
        + '\n[model]\ntransfer = "tanh"\ngain = 1.5\nsigma = 0.2\n'
        + '[[stimuli]]\nconcept = "c0"\namplitude = 1.0\nstop = 5.0\n'
        + f'[solver]\nmethod = "euler_maruyama"\ndt = 0.01\n[run]\nt_end = {t_end}\n'
        + "save_dt = 0.2\nmembers = 2\n")
    return path


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
                + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")


def test_sigkill_and_resume_gives_the_same_file(tmp_path, capsys):
    cfg = _long_config(tmp_path / "long.toml")
    out = tmp_path / "long.nc"
    ckpt = Path(ck.checkpoint_path(out))
    proc = subprocess.Popen([sys.executable, "-m", "thoughtfield", "run", str(cfg), "--out",
                             str(out), "--checkpoint-every", "0", "--quiet"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        progress = None
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.exists():
                try:
                    progress = ck.read_info(ckpt)["progress"]
                except ck.CheckpointError:
                    progress = None
                if progress and float(progress.split()[2]) >= 30.0:   # 5 % of the run
                    break
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "a killed run must not leave a result file"
    assert ckpt.exists()
    assert not list(tmp_path.glob(".tmp-*.nc"))
    killed_at = ck.read_info(ckpt)["progress"]

    # without --resume the checkpoint is not silently overwritten
    code = main(["run", str(cfg), "--out", str(out), "--quiet"])
    _, err = capsys.readouterr()
    assert code == 2 and "a checkpoint of an interrupted run exists; pass --resume" in err

    r = subprocess.run([sys.executable, "-m", "thoughtfield", "run", str(cfg), "--out",
                        str(out), "--resume"], cwd=tmp_path, env=_env(), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resuming from {ckpt} ({killed_at})" in r.stderr
    assert out.exists() and not ckpt.exists()

    # the uninterrupted run (in-process, other chunk sizes) writes the same bytes
    ref = tmp_path / "ref.nc"
    code = main(["run", str(cfg), "--out", str(ref), "--quiet", "--no-checkpoint"])
    assert code == 0
    assert out.read_bytes() == ref.read_bytes()
    ds = tf.load_result(out)
    assert ds.attrs["n_steps"] == 60_000 and ds.attrs["status"] == "success"


def test_cli_resume_refusals(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "tiny.nc"
    ckpt = Path(ck.checkpoint_path(out))
    ckpt.write_bytes(b"PK\x03\x04 truncated")
    code = main(["run", str(cfg), "--out", str(out), "--resume"])
    _, err = capsys.readouterr()
    assert code == 2 and "tiny.nc.checkpoint: not a readable checkpoint (corrupted or truncated" in err
    assert not out.exists()
    code = main(["run", str(cfg), "--out", str(out), "--force", "--quiet"])
    assert code == 0 and out.exists() and not ckpt.exists()
    out.unlink()
    code = main(["run", str(cfg), "--out", str(out), "--resume"])
    _, err = capsys.readouterr()
    assert code == 0 and "no checkpoint" in err and "starting from the beginning" in err
    code = main(["run", str(cfg), "--out", str(tmp_path / "x.nc"), "--resume", "--no-checkpoint"])
    _, err = capsys.readouterr()
    assert code == 2 and "--resume: cannot be combined with --no-checkpoint" in err
    code = main(["run", str(cfg), "--out", str(tmp_path / "x.nc"), "--checkpoint-every", "-1"])
    _, err = capsys.readouterr()
    assert code == 2 and "--checkpoint-every: must be >= 0 seconds (got -1.0)" in err
    # a checkpoint of another config is refused by name
    out.unlink()
    other = tmp_path / "other.toml"
    other.write_text(TINY.replace("gain = 4.0", "gain = 5.0"))
    sim = tf.load_config(cfg).simulation()
    sim.advance(20)
    sim.save_checkpoint(ckpt)
    code = main(["run", str(other), "--out", str(out), "--resume"])
    _, err = capsys.readouterr()
    assert code == 2 and "the checkpoint belongs to a different run" in err
