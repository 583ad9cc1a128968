"""Sweeps on a real dask LocalCluster (2 worker processes), a worker killed mid-sweep,
and a ``thoughtfield sweep`` process killed and resumed.  One cluster serves the module
(starting it costs seconds)."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf

distributed = pytest.importorskip("distributed")  # the 'distributed' extra (in the test extra)

ROOT = Path(__file__).resolve().parents[1]

# a noisy ensemble swept over two parameters: 12 points x 4 members
SWEEP = """
seed = 21

[network]
relations = [["left_cue", "left", "association", 1.0], ["right_cue", "right", "association", 1.0],
             ["left", "right", "contradicts", 1.5]]
[network.concepts]
image = ["left_cue", "right_cue"]
idea = ["left", "right"]

[model]
gain = 8.0
threshold = 0.5
sigma = 0.1

[[stimuli]]
concept = "left_cue"
amplitude = 0.9
[[stimuli]]
concept = "right_cue"
amplitude = 0.8

[solver]
method = "euler_maruyama"
dt = 0.01

[run]
t_end = T_END
save_dt = 0.1
members = 4

[sweep.grid]
"stimuli[0].amplitude" = [0.8, 0.9, 1.0, 1.1]
"model.sigma" = [0.05, 0.1, 0.2]
"""


def config(t_end=4.0):
    return SWEEP.replace("T_END", str(t_end))


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster
    cl = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR)
    client = Client(cl)
    # load the package in the workers once (imports and compiled kernels)
    client.run(lambda: tf.simulate(tf.ConceptNetwork({"a": "image"}), t_end=1.0) is not None)
    yield cl, client
    client.close()
    cl.close()


@pytest.fixture(scope="module")
def serial():
    return tf.sweep(config(), workers=1)


def test_cluster_sweep_equals_the_in_process_sweep_bitwise(cluster, serial, tmp_path):
    from distributed import get_task_stream
    cl, client = cluster
    report = {}
    with get_task_stream(client) as stream:
        ds = tf.sweep(config(), scheduler=cl.scheduler_address, chunk=2, out=tmp_path / "d.nc",
                      report=report)
    assert report["executor"].startswith("dask scheduler") and report["workers"] == 2
    # six tasks of two points ran in the worker processes
    tasks = [t for t in stream.data if str(t["key"]).startswith("thoughtfield-sweep-")]
    assert len(tasks) == 6 and {t["worker"] for t in tasks} <= set(cl.scheduler_info["workers"])
    np.testing.assert_array_equal(ds.activation.values, serial.activation.values)
    np.testing.assert_array_equal(ds["seed"].values, serial["seed"].values)
    for name in ("stimuli[0].amplitude", "model.sigma", "time", "concept", "member"):
        np.testing.assert_array_equal(ds[name].values, serial[name].values)
    # a Client object works as scheduler too; another chunking, same bits
    again = tf.sweep(config(), scheduler=client, chunk=5)
    np.testing.assert_array_equal(again.activation.values, serial.activation.values)
    # the file does not depend on how the sweep ran: in this process, one point per chunk,
    # gives the same bytes as the cluster's two workers
    report = {}
    tf.sweep(config(), workers=1, chunk=1, out=tmp_path / "s.nc", report=report)
    assert report["executor"] == "in-process" and report["workers"] == 1
    assert (tmp_path / "s.nc").read_bytes() == (tmp_path / "d.nc").read_bytes()


def test_a_killed_worker_is_replaced_and_the_sweep_completes(cluster, tmp_path):
    """SIGKILL one worker process while tasks run: its task reruns elsewhere, every point
    is present and equal to the serial result."""
    cl, client = cluster
    text = config(t_end=12.0)
    ref = tf.sweep(text, workers=1)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    out = tmp_path / "k.nc"
    parts = Path(str(out) + ".parts")
    state = {}

    def killer():
        t0 = time.time()
        while time.time() - t0 < 120:
            if parts.is_dir() and any(parts.glob("part-*.nc")):
                state["parts_at_kill"] = len(list(parts.glob("part-*.nc")))
                os.kill(victim, signal.SIGKILL)
                state["killed"] = True
                return
            time.sleep(0.01)

    th = threading.Thread(target=killer)
    th.start()
    ds = tf.sweep(text, scheduler=cl.scheduler_address, chunk=1, out=out)
    th.join()
    assert state.get("killed") and state["parts_at_kill"] < 12  # killed mid-sweep
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)
    assert (ds["status"].values == "success").all()
    # the nanny started a new worker process
    deadline = time.time() + 60
    while time.time() < deadline:
        now = client.run(os.getpid)
        if len(now) == 2 and victim not in now.values():
            break
        time.sleep(0.2)
    assert victim not in client.run(os.getpid).values()


@pytest.mark.slow
def test_killed_sweep_command_resumes_to_the_same_result(tmp_path):
    """SIGKILL a running ``thoughtfield sweep`` after some parts are written; ``--resume``
    finishes it; the result equals an uninterrupted sweep."""
    text = config(t_end=10.0)
    (tmp_path / "s.toml").write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "thoughtfield", "sweep", "s.toml", "--out", "r.nc", "--workers", "1",
           "--chunk", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parts = tmp_path / "r.nc.parts"
    t0 = time.time()
    try:
        while time.time() - t0 < 240 and proc.poll() is None:
            if parts.is_dir() and len(list(parts.glob("part-*.nc"))) >= 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = len(list(parts.glob("part-*.nc")))
    assert proc.returncode == -signal.SIGKILL and 3 <= done < 12 and not (tmp_path / "r.nc").exists()
    r = subprocess.run(cmd[:-1] + ["--resume"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"ran {12 - done} point(s) in-process, {done} resumed from parts" in r.stdout
    ds = tf.load_result(tmp_path / "r.nc")
    ref = tf.sweep(text, workers=1)
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)
    assert not parts.exists()


def test_bad_scheduler_address_is_a_clear_error(monkeypatch):
    from thoughtfield import distributed as tfd
    monkeypatch.setattr(tfd, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(tf.ConfigError, match=r"scheduler: cannot connect to the dask scheduler at "
                                             r"'tcp://127.0.0.1:9'"):
        tf.sweep(config(), scheduler="tcp://127.0.0.1:9")


def test_a_long_sweep_moves_to_an_embedded_local_cluster(serial, monkeypatch):
    """Automatic mode: the first points run here; when the rest looks long, a LocalCluster
    with one worker per CPU takes over -- same bits."""
    from thoughtfield import distributed as tfd
    monkeypatch.setattr(tfd, "AUTO_CLUSTER_SECONDS", 0.0)
    monkeypatch.setattr(tfd, "_cpus", lambda: 2)
    report = {}
    ds = tf.sweep(config(), report=report)
    assert report["executor"] == "dask LocalCluster" and report["workers"] == 2
    np.testing.assert_array_equal(ds.activation.values, serial.activation.values)
    # without dask.distributed the same sweep stays in this process
    monkeypatch.setattr(tfd, "have_distributed", lambda: False)
    ds = tf.sweep(config(), report=report)
    assert report["executor"] == "in-process"
    with pytest.raises(tf.ConfigError, match=r"workers: needs dask.distributed, which is not "
                                             r"installed; pip install 'thoughtfield\[distributed\]'"):
        tf.sweep(config(), workers=2)
