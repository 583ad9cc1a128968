"""Hardening of sweeps (issue 13, classes 1, 10, 11 and 12): a config cannot choose a dask
scheduler, scheduler addresses are checked and connections bounded, ``--force`` removes
only thoughtfield's own parts, failed/interrupted sweeps leave nothing that blocks the
next run, one sweep per output at a time, and the bytes of a sweep do not depend on how
it ran."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thoughtfield as tf
from thoughtfield import distributed
from thoughtfield.cli import main

from _configs import tiny
from _fuzz import FAST

ROOT = Path(__file__).resolve().parents[1]

SWEEP = tiny() + """
[sweep.grid]
"model.gain" = [2.0, 4.0, 8.0, 16.0]
"""


def _one_line(err: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err


# ===================================================================== class 1: scheduler
class _Server:
    """A tiny TCP server in a thread: ``answer(conn)`` handles each connection; counts them."""

    def __init__(self, answer):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.connections = 0
        self.answer = answer
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(conn)
            try:
                self.answer(conn)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def _http(conn):  # a plain HTTP server: waits for a request line that never comes
    conn.settimeout(60)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1024)
        if not chunk:
            return
        data += chunk
    conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")


def _http_answers(conn):  # an HTTP server that answers whatever it is sent
    conn.settimeout(60)
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")


def _huge(conn):  # claims a 3 EiB message
    conn.sendall(struct.pack("<Q", 3 * 2**60) + b"x" * 64)


def _silent(conn):
    pass


def _closes(conn):
    conn.close()


def _pickle(conn):  # a "handshake" that is a pickle (what a hostile scheduler would send)
    import pickle
    body = pickle.dumps({"compression": None, "python": (3, 11, 0), "pickle-protocol": 5})
    frames = struct.pack("<QQ", 1, len(body)) + body
    conn.sendall(struct.pack("<Q", len(frames)) + frames)


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", 1.5)


def _sweep_in_thread(**kw):
    """tf.sweep in a thread, so a hang fails the test instead of stalling it."""
    box = {}

    def target():
        try:
            box["result"] = tf.sweep(SWEEP, **kw)
        except BaseException as e:  # noqa: BLE001 - reported below
            box["error"] = e

    th = threading.Thread(target=target, daemon=True)
    t0 = time.monotonic()
    th.start()
    th.join(25)
    assert not th.is_alive(), f"sweep(scheduler=...) still running after 25 s: {kw}"
    return box, time.monotonic() - t0


@pytest.mark.parametrize("answer, match", [
    (_http, r"is not a dask scheduler \(it sent nothing within 1.5 s"),
    (_http_answers, r"is not a dask scheduler \(it answered like an HTTP server\)"),
    (_silent, r"is not a dask scheduler \(it sent nothing within 1.5 s"),
    (_huge, r"is not a dask scheduler \(it announced a message of 3458764513820540928 bytes"),
    (_closes, r"is not a dask scheduler \(it closed the connection"),
    (_pickle, r"is not a dask scheduler \(its greeting is not dask's handshake"),
], ids=["http", "http-answers", "silent", "3EiB", "closes", "pickle"])
def test_a_server_that_is_not_dask_gives_a_one_line_error_in_time(answer, match, short_timeout):
    srv = _Server(answer)
    try:
        box, took = _sweep_in_thread(scheduler=srv.address)
    finally:
        srv.close()
    e = box.get("error")
    assert isinstance(e, tf.ConfigError), repr(e)
    assert str(e).startswith(f"scheduler: {srv.address!r} ") and "\n" not in str(e), str(e)
    import re
    assert re.search(match, str(e)), str(e)
    assert took < 10


def test_an_unreachable_scheduler_is_a_quick_clear_error(short_timeout):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nobody listens there
    box, took = _sweep_in_thread(scheduler=f"tcp://127.0.0.1:{port}")
    e = box.get("error")
    assert isinstance(e, tf.ConfigError), repr(e)
    assert str(e).startswith(f"scheduler: cannot connect to the dask scheduler at "
                             f"'tcp://127.0.0.1:{port}' (connection refused)"), str(e)
    assert took < 5


BAD_ADDRESSES = ["garbage://", "garbage://x:1", "http://127.0.0.1:80", "tcp://", "tcp://:8786",
                 "tcp://host:0", "tcp://host:99999", "tcp://host:port", "tcp://h o st:1",
                 "\x1b[31mred:1", "tcp://127.0.0.1:1/path", "", "   ", "x" * 5000, "tcp://[::1",
                 "file:///etc/passwd", "inproc://", "tcp://a:1\x00"]


@pytest.mark.parametrize("addr", BAD_ADDRESSES, ids=range(len(BAD_ADDRESSES)))
def test_malformed_scheduler_addresses_are_refused_before_connecting(addr):
    box, took = _sweep_in_thread(scheduler=addr)
    e = box.get("error")
    assert isinstance(e, tf.ConfigError), repr(e)
    msg = str(e)
    assert msg.startswith("scheduler: ") and len(msg) < 400, msg
    assert msg.isprintable(), msg                   # no raw control characters reach a terminal
    assert took < 5


@FAST
@given(st.text(max_size=40))
def test_any_scheduler_text_is_an_address_or_a_clear_error(text):
    try:
        addr = distributed.scheduler_address(text, "--scheduler")
    except tf.ConfigError as e:
        assert str(e).startswith("--scheduler: ") and str(e).isprintable() and len(str(e)) < 400
    else:
        import re
        assert re.fullmatch(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}|"
                            r"inproc://\S+", addr), addr


@FAST
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                 st.lists(st.integers(), max_size=2)))
def test_a_config_may_never_choose_a_scheduler(value):
    """Whatever [sweep] scheduler holds, the config is refused before any connection."""
    import tomllib
    data = tomllib.loads(SWEEP)
    data["sweep"]["scheduler"] = value
    with pytest.raises(tf.ConfigError) as ei:
        tf.load_config(data)
    msg = str(ei.value)
    assert msg.startswith("sweep.scheduler: a config may not choose a dask scheduler"), msg
    assert "--scheduler" in msg and "THOUGHTFIELD_SCHEDULER" in msg


def test_a_config_file_with_a_scheduler_never_connects(tmp_path, capsys, monkeypatch):
    srv = _Server(_silent)
    try:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "s.toml").write_text(SWEEP.replace(
            "[sweep.grid]", f'[sweep]\nscheduler = "{srv.address}"\n\n[sweep.grid]'))
        for cmd in (["sweep", "s.toml", "--out", "o.nc"], ["run", "s.toml", "--out", "r.nc"],
                    ["validate", "s.toml"]):
            code = main(cmd)
            err = capsys.readouterr().err
            assert code == 2, (cmd, err)
            _one_line(err)
            assert "sweep.scheduler: a config may not choose a dask scheduler" in err, err
        # nor through --set
        code = main(["sweep", "s.toml", "--set", "sweep.scheduler=tcp://127.0.0.1:1"])
        assert code == 2
        assert srv.connections == 0
    finally:
        srv.close()


def test_scheduler_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SWEEP)
    monkeypatch.setenv("THOUGHTFIELD_SCHEDULER", "garbage://x")
    code = main(["sweep", "s.toml", "--out", "o.nc", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "THOUGHTFIELD_SCHEDULER: 'garbage://x' is not a dask scheduler address" in err
    _one_line(err)
    # --scheduler on the command line wins over the environment
    code = main(["sweep", "s.toml", "--out", "o.nc", "--scheduler", "ftp://y:1"])
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler: 'ftp://y:1' is not a dask scheduler address" in err
    # and --workers (a local cluster or this process) ignores the environment
    code = main(["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "o.nc").exists()


def test_a_real_dask_scheduler_passes_the_check(tmp_path):
    pytest.importorskip("distributed")
    import logging
    from distributed import LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=":0", silence_logs=logging.ERROR) as cl:
        assert cl.scheduler_address.startswith("tcp://")
        report = {}
        tf.sweep(SWEEP, scheduler=cl.scheduler_address, out=tmp_path / "d.nc", report=report)
    assert report["executor"].startswith("dask scheduler")
    tf.sweep(SWEEP, workers=1, out=tmp_path / "s.nc")
    assert _digest(tmp_path / "d.nc") == _digest(tmp_path / "s.nc")


# ===================================================================== class 10: --force
def _interrupted(tmp_path, name="r.nc", n_parts=2, text=SWEEP):
    """An interrupted sweep: ``n_parts`` parts of one point written, then a crash."""
    out = tmp_path / name
    real = distributed.PartStore.write
    calls = {"n": 0}

    class Crash(Exception):
        pass

    def crash(self, ds, key):
        if calls["n"] == n_parts:
            raise Crash()
        calls["n"] += 1
        return real(self, ds, key)

    distributed.PartStore.write = crash
    try:
        with pytest.raises(Crash):
            tf.sweep(text, workers=1, chunk=1, out=out)
    finally:
        distributed.PartStore.write = real
    return out, Path(str(out) + ".parts")


@pytest.mark.parametrize("content", [
    None,                                      # no sweep.json at all
    b"not json",
    b'{"hash": "x"}',                           # JSON, but not a manifest
    b'[1, 2, 3]',
    b'{"hash": "' + b"0" * 64 + b'", "seed": "abc"}',
], ids=["none", "junk", "nohash", "list", "badseed"])
def test_force_never_deletes_a_folder_that_is_not_a_sweeps_parts(tmp_path, capsys, monkeypatch,
                                                                  content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SWEEP)
    parts = tmp_path / "o.nc.parts"
    parts.mkdir()
    (parts / "thesis.tex").write_text("years of work")
    (parts / "part-000000000-000000000.nc").write_text("not ours either")
    if content is not None:
        (parts / "sweep.json").write_bytes(content)
    code = main(["sweep", "s.toml", "--out", "o.nc", "--force", "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    _one_line(err)
    assert "o.nc.parts: is not the parts folder of a thoughtfield sweep" in err, err
    assert (parts / "thesis.tex").read_text() == "years of work"
    assert (parts / "part-000000000-000000000.nc").exists()
    assert (content is None) == (not (parts / "sweep.json").exists())


def test_force_removes_only_its_own_files(tmp_path):
    out, parts = _interrupted(tmp_path)
    assert len(list(parts.glob("part-*.nc"))) == 2
    (parts / "notes.txt").write_text("mine")
    (parts / "sub").mkdir()
    tf.sweep(SWEEP, workers=1, out=out, force=True)
    assert out.exists()
    assert sorted(p.name for p in parts.iterdir()) == ["notes.txt", "sub"]


def test_odd_parts_paths_are_refused(tmp_path):
    # a symbolic link to a folder that looks like parts: never followed, never emptied
    other = tmp_path / "other"
    other.mkdir()
    _, real_parts = _interrupted(other)
    link = tmp_path / "l.nc.parts"
    link.symlink_to(real_parts)
    before = sorted(p.name for p in real_parts.iterdir())
    for kw in ({"force": True}, {"resume": True}, {}):
        with pytest.raises(tf.ConfigError, match=r"l.nc.parts: is a symbolic link"):
            tf.sweep(SWEEP, workers=1, out=tmp_path / "l.nc", **kw)
    assert sorted(p.name for p in real_parts.iterdir()) == before
    # a file where the folder should be
    (tmp_path / "f.nc.parts").write_text("x")
    with pytest.raises(tf.ConfigError, match=r"f.nc.parts: exists and is not a folder"):
        tf.sweep(SWEEP, workers=1, out=tmp_path / "f.nc", force=True)
    assert (tmp_path / "f.nc.parts").read_text() == "x"
    # a FIFO as the manifest: refused, not waited on
    fifo = tmp_path / "p.nc.parts"
    fifo.mkdir()
    os.mkfifo(fifo / "sweep.json")
    box = {}

    def target():
        try:
            tf.sweep(SWEEP, workers=1, out=tmp_path / "p.nc", resume=True)
        except BaseException as e:  # noqa: BLE001
            box["e"] = e

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(20)
    if th.is_alive():  # unblock the reader before failing
        with open(fifo / "sweep.json", "w"):
            pass
        pytest.fail("a FIFO sweep.json blocked the sweep")
    assert isinstance(box.get("e"), tf.ConfigError) and "not a regular file" in str(box["e"])


def test_part_names_outside_the_sweep_are_refused_quickly(tmp_path):
    out, parts = _interrupted(tmp_path, n_parts=1)
    (parts / "part-000000000-999999999.nc").write_bytes(
        (parts / "part-000000000-000000000.nc").read_bytes())
    t0 = time.monotonic()
    with pytest.raises(tf.ConfigError, match=r"part-000000000-999999999.nc: holds points 0 to "
                                             r"999999999 but the sweep has 4 points"):
        tf.sweep(SWEEP, workers=1, out=out, resume=True)
    assert time.monotonic() - t0 < 5
    (parts / "part-000000000-999999999.nc").unlink()
    (parts / "part-000000000-000000001.nc").write_bytes(
        (parts / "part-000000000-000000000.nc").read_bytes())
    with pytest.raises(tf.ConfigError, match=r"part-000000000-000000000.nc and "
                                             r"part-000000000-000000001.nc both hold point 0"):
        tf.sweep(SWEEP, workers=1, out=out, resume=True)


@settings(FAST, max_examples=30)
@given(st.binary(max_size=200), st.lists(st.sampled_from(
    ["sweep.json", "part-000000001-000000000.nc", "part-x.nc", ".tmp-abc.nc", "a", "part-"]),
    max_size=3, unique=True))
def test_junk_parts_folders_give_clear_errors(tmp_path_factory, manifest, names):
    tmp = tmp_path_factory.mktemp("junk")
    parts = tmp / "o.nc.parts"
    parts.mkdir()
    for n in names:
        (parts / n).write_bytes(manifest)
    for kw in ({"resume": True}, {"force": True}, {}):
        try:
            tf.sweep(SWEEP, workers=1, out=tmp / "o.nc", **kw)
        except tf.ConfigError as e:
            assert str(e).isprintable() and "\n" not in str(e)
        else:   # accepted only when the folder held nothing at all
            assert not names, (names, kw)
        (tmp / "o.nc").unlink(missing_ok=True)
    # a folder without thoughtfield's marker is never touched
    for n in names:
        assert (parts / n).read_bytes() == manifest, n


# ===================================================================== class 11: leftovers
FAILING = SWEEP.replace('"model.gain" = [2.0, 4.0, 8.0, 16.0]',
                        '"solver.max_steps" = [100000, 100000, 3]')


def test_a_failed_sweep_leaves_nothing_that_blocks_the_next_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.toml").write_text(FAILING)
    code = main(["sweep", "f.toml", "--out", "o.nc", "--workers", "1", "--chunk", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "sweep point 2" in err and "max_steps" in err, err
    assert sorted(os.listdir(tmp_path)) == ["f.toml"]      # no parts, no temp files, no lock
    (tmp_path / "f.toml").write_text(FAILING.replace("3]", "100000]"))
    code = main(["sweep", "f.toml", "--out", "o.nc", "--workers", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["f.toml", "o.nc"]


def test_stale_temp_files_are_removed_on_the_next_run(tmp_path):
    out, parts = _interrupted(tmp_path)
    (parts / ".tmp-k1ll3d.nc").write_bytes(b"\x89HDF half written")
    (parts / "sweep.json.tmp-12345").write_text("{")
    (parts / "keep.me").write_text("not ours")
    tf.sweep(SWEEP, workers=1, out=out, resume=True)
    assert sorted(p.name for p in parts.iterdir()) == ["keep.me"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc", "r.nc.parts"]


def test_an_interrupted_sweep_keeps_its_parts_and_says_how_to_resume(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SWEEP)
    real = distributed.run_points
    calls = {"n": 0}

    def interrupt(payload, points):
        if calls["n"] == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(payload, points)

    monkeypatch.setattr(distributed, "run_points", interrupt)
    code = main(["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--chunk", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 130, err
    assert ("2 finished point(s) are kept in o.nc.parts/; run the same command with --resume "
            "to continue: thoughtfield sweep s.toml --out o.nc --workers 1 --chunk 1 --quiet "
            "--resume") in err, err
    assert sorted(os.listdir(tmp_path / "o.nc.parts")) == [
        "part-000000000-000000000.nc", "part-000000001-000000001.nc", "sweep.json"]
    assert sorted(os.listdir(tmp_path)) == ["o.nc.parts", "s.toml"]     # no lock, no temp
    # interrupted before any point finished: nothing to keep, nothing blocks the next run
    calls["n"] = 2
    code = main(["sweep", "s.toml", "--out", "n.nc", "--workers", "1", "--quiet"])
    assert code == 130 and not (tmp_path / "n.nc.parts").exists()
    monkeypatch.setattr(distributed, "run_points", real)
    assert main(["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--resume", "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["o.nc", "s.toml"]


def test_the_resume_command_of_a_forced_sweep_keeps_the_finished_points(tmp_path, capsys,
                                                                       monkeypatch):
    """Issue 14: the printed command repeats the original one (--force included) with
    --resume; --resume now wins over --force for the finished points of the same sweep,
    so that command continues the sweep (it used to discard them and start over)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SWEEP)
    (tmp_path / "o.nc").write_bytes(b"an older result")       # hence --force
    real = distributed.run_points
    calls = {"n": 0, "points": 0}

    def interrupt(payload, points):
        if calls["n"] == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(payload, points)

    monkeypatch.setattr(distributed, "run_points", interrupt)
    argv = ["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--chunk", "1", "--quiet",
            "--force"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    command = "thoughtfield sweep s.toml --out o.nc --workers 1 --chunk 1 --quiet --force --resume"
    assert f"2 finished point(s) are kept in o.nc.parts/; run the same command with --resume " \
           f"to continue: {command}" in err, err

    def counting(payload, points):
        calls["points"] += len(points)
        return real(payload, points)

    monkeypatch.setattr(distributed, "run_points", counting)
    assert main(command.split()[1:]) == 0
    assert calls["points"] == 4 - 2        # only the points that had not finished
    assert sorted(os.listdir(tmp_path)) == ["o.nc", "s.toml"]
    ref = tf.sweep((tmp_path / "s.toml").read_text(), workers=1)
    np.testing.assert_array_equal(tf.load_result("o.nc").activation.values,
                                  ref.activation.values)


def test_two_sweeps_on_one_output_are_refused(tmp_path, capsys, monkeypatch):
    """The second sweep (or run) on one --out is refused while the first holds the lock."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SWEEP)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    holder = subprocess.Popen(   # another process on o.nc, as a running sweep would be
        [sys.executable, "-c", "import sys, time; from thoughtfield._files import OutputLock; "
         "OutputLock('o.nc').acquire(); print('locked', flush=True); sys.stdin.read()"],
        cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for extra in ([], ["--force"], ["--resume"]):
            code = main(["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--quiet", *extra])
            err = capsys.readouterr().err
            assert code == 2, err
            _one_line(err)
            assert f"o.nc: another thoughtfield run (pid {holder.pid}) is writing this result" \
                in err, err
        assert sorted(os.listdir(tmp_path)) == ["o.nc.lock", "s.toml"]   # nothing started
    finally:
        holder.stdin.close()
        holder.wait(30)
    # the holder is gone (its lock file may stay; the kernel dropped the lock): not blocked
    assert main(["sweep", "s.toml", "--out", "o.nc", "--workers", "1", "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["o.nc", "s.toml"]


def test_sigterm_stops_a_sweep_and_keeps_its_parts(tmp_path):
    text = SWEEP.replace("rtol = 1e-6", 'method = "rk4"\ndt = 2e-5')
    (tmp_path / "s.toml").write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
               + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "thoughtfield", "sweep", "s.toml", "--out", "o.nc",
           "--workers", "1", "--chunk", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    parts = tmp_path / "o.nc.parts"
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 50 and proc.poll() is None:
            if parts.is_dir() and any(parts.glob("part-*.nc")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "run the same command with --resume to continue" in err and "Traceback" not in err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["o.nc.parts", "s.toml"], names
    assert not [p for p in parts.iterdir() if ".tmp" in p.name]


# ===================================================================== class 12: same bytes
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    tf.sweep(SWEEP, workers=1, out=d / "ref.nc")
    return _digest(d / "ref.nc")


def _digest(path):
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@settings(FAST, max_examples=25)
@given(st.data())
def test_bytes_do_not_depend_on_chunks_or_arrival_order(reference, tmp_path_factory, data):
    """However the points are grouped into parts and in whatever order the parts arrive
    (dask workers finish in any order), the file is byte-identical."""
    n = 4
    cuts = data.draw(st.sets(st.integers(1, n - 1)))
    bounds = [0, *sorted(cuts), n]
    chunks = [list(range(a, b)) for a, b in zip(bounds, bounds[1:])]
    order = data.draw(st.permutations(chunks))
    real = distributed._execute

    def shuffled(payload, sw, todo, on_chunk, bar, cfg, **kw):
        for ch in order:
            on_chunk(distributed.run_points(payload, ch))
        return {"executor": "test", "workers": 2}

    distributed._execute = shuffled
    try:
        out = tmp_path_factory.mktemp("perm") / "p.nc"
        ds = tf.sweep(SWEEP, out=out)
    finally:
        distributed._execute = real
    assert _digest(out) == reference, order
    assert int(ds.attrs["n_accepted"]) == int(ds["n_accepted"].sum())


def test_resume_in_any_order_writes_the_same_bytes(reference, tmp_path):
    """The later points finished first (as dask may deliver them); the resumed file is
    byte-identical to an uninterrupted one."""
    real = distributed._execute
    out = tmp_path / "r.nc"

    def late_points_only(payload, sw, todo, on_chunk, bar, cfg, **kw):
        on_chunk(distributed.run_points(payload, [2, 3]))
        raise KeyboardInterrupt

    distributed._execute = late_points_only
    try:
        with pytest.raises(KeyboardInterrupt):
            tf.sweep(SWEEP, out=out)
    finally:
        distributed._execute = real
    tf.sweep(SWEEP, workers=1, out=out, resume=True)
    assert _digest(out) == reference


def test_workers_1_and_2_write_identical_bytes(tmp_path):
    """--workers 2: point 0 is slow, so the other worker's part arrives first."""
    pytest.importorskip("distributed")
    text = tiny(**{"rtol = 1e-6": 'method = "rk4"\ndt = 0.05'}) + \
        '[sweep.grid]\n"solver.dt" = [2e-5, 0.05, 0.025]\n'
    (tmp_path / "s.toml").write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
               + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    for w in ("1", "2"):
        r = subprocess.run([sys.executable, "-m", "thoughtfield", "sweep", "s.toml", "--out",
                            f"w{w}.nc", "--workers", w, "--chunk", "1"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    assert "dask LocalCluster (2 workers)" in r.stdout
    assert _digest(tmp_path / "w1.nc") == _digest(tmp_path / "w2.nc")
