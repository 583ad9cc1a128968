"""A hostile corpus: bad inputs, faults and loads against the ``thoughtfield`` command line.

Run it as a script (not collected by pytest; the per-class regression tests are in
``tests/test_hardening_*.py``)::

    python tests/hostile_corpus.py            # every case, a table and the counts
    python tests/hostile_corpus.py -k sweep   # the cases whose name contains "sweep"
    python tests/hostile_corpus.py --json out.json

Each case runs ``thoughtfield`` as a whole process in a fresh temporary folder, with a
time limit, and is classified:

- ``clear``: the expected refusal -- exit status 1, 2 or 130, a one-line
  ``thoughtfield ...: error``/``run failed`` message, no traceback;
- ``ok``: accepted, exit 0, where the case expects acceptance (e.g. a harmless input);
- ``traceback``: a Python traceback, a crash (negative exit status: a signal), or an
  internal-error message;
- ``hang``: still running at the time limit;
- ``wrong``: exit 0 where a refusal was expected (silently accepted garbage);
- ``data-loss``: the case's own check found a result or checkpoint lost or overwritten;
- ``code-exec``: the case's own check found that the input ran code.

The goal is ``clear``/``ok`` everywhere and zero of the rest.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIMS = os.path.join(ROOT, "simulations")
TF = [sys.executable, "-m", "thoughtfield"]

SMALL = """\
title = "small"
seed = 1
[network]
relations = [["a", "b", "association", 0.5], ["b", "c", "contradicts", 0.4]]
[network.concepts]
image = ["a"]
idea = ["b", "c"]
[model]
transfer = "sigmoid"
gain = 4.0
[[stimuli]]
kind = "clamp"
concept = "a"
value = 1.0
[run]
t_end = 2.0
"""

CASES: list[tuple[str, str, str, object]] = []


def case(cls: str, expect: str = "error"):
    def deco(fn):
        CASES.append((fn.__name__, cls, expect, fn))
        return fn
    return deco


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)
    return path


def small(tmp, extra="", name="c.toml", base=SMALL):
    return write(os.path.join(tmp, name), base + extra)


def run(argv, cwd, timeout=60, env=None, stdin=None):
    e = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    e.update(env or {})
    t0 = time.perf_counter()
    try:
        p = subprocess.run(TF + argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           env=e, stdin=stdin)
        return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0
    except subprocess.TimeoutExpired as ex:
        out = ex.stdout.decode() if isinstance(ex.stdout, bytes) else (ex.stdout or "")
        err = ex.stderr.decode() if isinstance(ex.stderr, bytes) else (ex.stderr or "")
        return None, out, err, time.perf_counter() - t0


# ---------------------------------------------------------------- 1. code from configs
@case("1 code from configs")
def sweep_scheduler_in_config(tmp):
    text = open(os.path.join(SIMS, "choice_sweep.toml")).read()
    assert "[sweep.grid]" in text
    cfg = write(os.path.join(tmp, "s.toml"),
                text.replace("[sweep.grid]", '[sweep]\nscheduler = "tcp://127.0.0.1:9"\n\n[sweep.grid]', 1))
    return ["sweep", cfg, "--out", "s.nc"]


def _serve(handler_bytes: bytes):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            try:
                c.recv(4096)
                c.sendall(handler_bytes)
            except OSError:
                pass
            # keep the connection open (a silent server): the client must time out

    threading.Thread(target=loop, daemon=True).start()
    return srv, srv.getsockname()[1]


@case("1 code from configs")
def sweep_scheduler_http_server(tmp):
    srv, port = _serve(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    cfg = os.path.join(SIMS, "choice_sweep.toml")
    return ["sweep", cfg, "--out", "s.nc", "--scheduler", f"tcp://127.0.0.1:{port}"], srv


@case("1 code from configs")
def sweep_scheduler_silent_server(tmp):
    srv, port = _serve(b"")
    cfg = os.path.join(SIMS, "choice_sweep.toml")
    return ["sweep", cfg, "--out", "s.nc", "--scheduler", f"tcp://127.0.0.1:{port}"], srv


@case("1 code from configs")
def sweep_scheduler_huge_frame(tmp):
    srv, port = _serve(b"\xff" * 64)
    cfg = os.path.join(SIMS, "choice_sweep.toml")
    return ["sweep", cfg, "--out", "s.nc", "--scheduler", f"tcp://127.0.0.1:{port}"], srv


@case("1 code from configs")
def sweep_scheduler_garbage(tmp):
    return ["sweep", os.path.join(SIMS, "choice_sweep.toml"), "--out", "s.nc",
            "--scheduler", "garbage://x"]


@case("1 code from configs")
def sweep_scheduler_unreachable(tmp):
    return ["sweep", os.path.join(SIMS, "choice_sweep.toml"), "--out", "s.nc",
            "--scheduler", "tcp://127.0.0.1:9"]


@case("1 code from configs", expect="any")
def config_python_expression(tmp):
    return ["run", small(tmp, '\n[output]\npath = "__import__(\'os\').system(\'touch PWNED\')"\n')]


# ---------------------------------------------------------------- 4. silent garbage
@case("4 silent garbage")
def rk4_huge_step(tmp):
    base = SMALL.replace("gain = 4.0", "gain = 4.0\ntau = 0.01").replace("t_end = 2.0", "t_end = 20.0")
    return ["run", small(tmp, '[solver]\nmethod = "rk4"\ndt = 5.0\n', base=base), "--out", "r.nc"]


@case("4 silent garbage")
def tolerances_1e300(tmp):
    return ["run", small(tmp, '[solver]\nrtol = 1e300\natol = 1e300\n'), "--out", "r.nc"]


@case("4 silent garbage")
def rtol_one(tmp):
    return ["run", small(tmp, '[solver]\nrtol = 1.0\n'), "--out", "r.nc"]


@case("4 silent garbage")
def weight_1e308(tmp):
    return ["run", small(tmp, base=SMALL.replace("0.5]", "1e308]")), "--out", "r.nc"]


@case("4 silent garbage")
def tau_1e_300(tmp):
    return ["run", small(tmp, base=SMALL.replace("gain = 4.0", "gain = 4.0\ntau = 1e-300")),
            "--out", "r.nc"]


@case("4 silent garbage")
def gain_1e308(tmp):
    return ["run", small(tmp, base=SMALL.replace("gain = 4.0", "gain = 1e308")), "--out", "r.nc"]


# ---------------------------------------------------------------- 5. unbounded runs
@case("5 unbounded runs")
def t_end_1e300(tmp):
    return ["run", small(tmp, base=SMALL.replace("t_end = 2.0", "t_end = 1e300")), "--out", "r.nc"]


@case("5 unbounded runs", expect="ok")
def tau_1e_7(tmp):
    return ["run", small(tmp, base=SMALL.replace("gain = 4.0", "gain = 4.0\ntau = 1e-7")),
            "--out", "r.nc"]


@case("5 unbounded runs")
def fixed_step_count_huge(tmp):
    return ["run", small(tmp, '[solver]\nmethod = "euler"\ndt = 1e-9\n'), "--out", "r.nc"]


# ---------------------------------------------------------------- 7. unbounded reads
@case("7 unbounded reads")
def dev_zero_config(tmp):
    return ["run", "/dev/zero"]


@case("7 unbounded reads")
def dev_zero_validate(tmp):
    return ["validate", "/dev/zero"]


@case("7 unbounded reads")
def dev_zero_info(tmp):
    return ["info", "/dev/zero"]


@case("7 unbounded reads")
def dev_zero_network_file(tmp):
    os.symlink("/dev/zero", os.path.join(tmp, "net.csv"))
    return ["validate", write(os.path.join(tmp, "c.toml"), '[network]\nfile = "net.csv"\n[run]\nt_end = 1.0\n')]


@case("7 unbounded reads")
def fifo_config(tmp):
    p = os.path.join(tmp, "fifo.toml")
    os.mkfifo(p)
    return ["validate", p]


@case("7 unbounded reads")
def fifo_network_file(tmp):
    os.mkfifo(os.path.join(tmp, "net.csv"))
    return ["validate", write(os.path.join(tmp, "c.toml"), '[network]\nfile = "net.csv"\n[run]\nt_end = 1.0\n')]


@case("7 unbounded reads")
def big_config_file(tmp):
    p = os.path.join(tmp, "big.toml")
    with open(p, "w") as f:
        f.write('title = "big"\n')
        f.write("#" * 1000 + "\n")
        f.truncate(200 * 2**20)  # a sparse 200 MiB file
    return ["validate", p]


@case("7 unbounded reads")
def big_csv_over_cap(tmp):
    p = os.path.join(tmp, "net.csv")
    with open(p, "w") as f:
        f.write("source,target,weight\n")
        f.write("a,b,1\n" * 200_000)
    cfg = write(os.path.join(tmp, "c.toml"), '[network]\nfile = "net.csv"\n[run]\nt_end = 1.0\n')
    return ["validate", cfg], None, {"THOUGHTFIELD_MAX_INPUT_SIZE": "100000"}


@case("7 unbounded reads")
def netcdf_declares_huge_array(tmp):
    import h5py
    import numpy as np
    p = os.path.join(tmp, "huge.nc")
    with h5py.File(p, "w") as f:
        d = f.create_dataset("activation", shape=(2**20, 2**20), dtype="f8", chunks=(1024, 1024))
        d[0, 0] = np.nan
    return ["info", p]


@case("7 unbounded reads")
def checkpoint_zip_bomb(tmp):
    import zipfile
    out = os.path.join(tmp, "r.nc")
    ck = out + ".checkpoint"
    with zipfile.ZipFile(ck, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("y.npy", b"\0" * (300 * 2**20))
    return ["run", small(tmp), "--out", out, "--resume"]


# ---------------------------------------------------------------- 8. tracebacks
@case("8 tracebacks")
def nested_toml(tmp):
    return ["validate", write(os.path.join(tmp, "n.toml"), "x = " + "[" * 100_000 + "]" * 100_000 + "\n")]


@case("8 tracebacks")
def nested_json_network(tmp):
    write(os.path.join(tmp, "net.json"), "[" * 100_000 + "]" * 100_000)
    return ["validate", write(os.path.join(tmp, "c.toml"), '[network]\nfile = "net.json"\n[run]\nt_end = 1.0\n')]


@case("8 tracebacks")
def huge_integer(tmp):
    return ["validate", small(tmp, base=SMALL.replace("seed = 1", "seed = " + "9" * 5000))]


@case("8 tracebacks")
def huge_integer_set(tmp):
    return ["validate", small(tmp), "--set", "run.t_end=" + "9" * 5000]


@case("8 tracebacks")
def nul_in_concept(tmp):
    return ["run", small(tmp, base=SMALL.replace('"c"]', '"c\\u0000x"]').replace(
        '"b", "c",', '"b", "c\\u0000x",')), "--out", "r.nc"]


@case("8 tracebacks")
def ansi_in_concept(tmp):
    return ["validate", small(tmp, base=SMALL.replace('"c"]', '"c\\u001b[31mred"]').replace(
        '"b", "c",', '"b", "c\\u001b[31mred",'))]


@case("8 tracebacks")
def newline_in_concept(tmp):
    return ["validate", small(tmp, base=SMALL.replace('"c"]', '"c\\nd"]').replace(
        '"b", "c",', '"b", "c\\nd",'))]


def _result(tmp):
    rc, _, err, _ = run(["run", small(tmp), "--out", "r.nc", "--quiet"], tmp)
    if rc != 0:
        raise RuntimeError(f"could not make a result: {err}")
    return os.path.join(tmp, "r.nc")


@case("8 tracebacks")
def explain_malformed_attribute(tmp):
    import h5py
    p = _result(tmp)
    with h5py.File(p, "a") as f:
        f.attrs["network"] = "{not json"
    return ["explain", p]


@case("8 tracebacks")
def explain_plot_unwritable(tmp):
    p = _result(tmp)
    return ["explain", p, "--plot", "/proc/nope/x.png"]


@case("8 tracebacks")
def plot_non_numeric_activation(tmp):
    import xarray as xr
    p = _result(tmp)
    ds = xr.load_dataset(p)
    ds["activation"] = ds["activation"].astype(str)
    os.unlink(p)
    ds.to_netcdf(p, engine="h5netcdf")
    return ["plot", p, "--out", "x.png"]


@case("8 tracebacks")
def info_broken_pipe(tmp):
    p = _result(tmp)
    return f"{' '.join(TF)} info {p} | head -1"


@case("8 tracebacks")
def info_not_netcdf(tmp):
    return ["info", write(os.path.join(tmp, "x.nc"), "not a netcdf file\n")]


@case("8 tracebacks")
def plot_garbage_file(tmp):
    return ["plot", write(os.path.join(tmp, "x.nc"), b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "wb")]


# ---------------------------------------------------------------- 9. file references
@case("9 file references")
def file_etc_passwd(tmp):
    return ["validate", write(os.path.join(tmp, "c.toml"), '[network]\nfile = "/etc/passwd"\nformat = "csv"\n[run]\nt_end = 1.0\n')]


@case("9 file references")
def file_dotdot(tmp):
    os.makedirs(os.path.join(tmp, "sub"))
    write(os.path.join(tmp, "secret.csv"), "source,target\nTOPSECRET,b\n")
    return ["validate", write(os.path.join(tmp, "sub", "c.toml"), '[network]\nfile = "../secret.csv"\n[run]\nt_end = 1.0\n')]


@case("9 file references")
def file_home(tmp):
    return ["validate", write(os.path.join(tmp, "c.toml"), '[network]\nfile = "~/.bashrc"\nformat = "csv"\n[run]\nt_end = 1.0\n')]


@case("9 file references")
def file_symlink_out(tmp):
    os.makedirs(os.path.join(tmp, "sub"))
    write(os.path.join(tmp, "secret.csv"), "TOPSECRET line\n")
    os.symlink(os.path.join(tmp, "secret.csv"), os.path.join(tmp, "sub", "net.csv"))
    return ["validate", write(os.path.join(tmp, "sub", "c.toml"), '[network]\nfile = "net.csv"\n[run]\nt_end = 1.0\n')]


def _no_secret(tmp, rc, out, err):
    return "code-exec" if "TOPSECRET" in out + err else None


# ---------------------------------------------------------------- 2/3/6/11. lost results
@case("6 two runs one --out")
def two_runs_one_out(tmp):
    cfg = small(tmp, base=SMALL.replace("t_end = 2.0", "t_end = 4000.0\nsave_dt = 10.0")
                .replace("gain = 4.0", "gain = 4.0\nsigma = 0.05") + '[solver]\nmethod = "euler_maruyama"\ndt = 0.0005\n')
    first = subprocess.Popen(TF + ["run", cfg, "--out", "r.nc", "--quiet"], cwd=tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(tmp, "r.nc.lock")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    return ["run", cfg, "--out", "r.nc", "--quiet", "--force"], first


@case("10 sweep --force")
def sweep_force_foreign_parts(tmp):
    os.makedirs(os.path.join(tmp, "s.nc.parts"))
    write(os.path.join(tmp, "s.nc.parts", "precious.txt"), "mine\n")
    return ["sweep", os.path.join(SIMS, "choice_sweep.toml"), "--out", "s.nc", "--force",
            "--set", "run.members=2"], None, None, "ok"


def _parts_kept(tmp, rc, out, err):
    return None if os.path.exists(os.path.join(tmp, "s.nc.parts", "precious.txt")) else "data-loss"


@case("15 checkpoint content")
def nan_checkpoint(tmp):
    import numpy as np
    cfg = small(tmp, base=SMALL.replace("t_end = 2.0", "t_end = 50.0"))
    code = textwrap.dedent(f"""
        import numpy as np, thoughtfield as tf
        from thoughtfield.config import load_config
        sim = load_config({cfg!r}).simulation()
        sim.advance(3)
        sim.save_checkpoint({os.path.join(tmp, 'r.nc.checkpoint')!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp, capture_output=True)
    ck = os.path.join(tmp, "r.nc.checkpoint")
    # a well-formed checkpoint whose state is NaN (the header stays valid)
    with np.load(ck) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["state.y"] = np.full_like(arrays["state.y"], np.nan)
    with open(ck, "wb") as f:
        np.savez(f, **arrays)
    return ["run", cfg, "--out", "r.nc", "--resume"]


POST = {"file_dotdot": _no_secret, "file_symlink_out": _no_secret,
        "sweep_force_foreign_parts": _parts_kept}


def _warned(tmp, rc, out, err):
    return None if rc != 0 or "needs at least" in err else "wrong"


POST["tau_1e_7"] = _warned


def _first_run_kept(tmp, rc, out, err):
    return None   # checked after the first run ends (see main)


POST["two_runs_one_out"] = _first_run_kept


def _code_exec(tmp, rc, out, err):
    return "code-exec" if os.path.exists(os.path.join(tmp, "PWNED")) else None


POST["config_python_expression"] = _code_exec


def classify(name, expect, rc, out, err):
    if rc is None:
        return "hang"
    if "Traceback (most recent call last)" in err or rc < 0 or "internal error" in err.lower():
        return "traceback"
    if expect == "ok":
        return "ok" if rc == 0 else "clear" if rc in (1, 2) else "traceback"
    if expect == "any":   # harmless either way; a post-check looks for the harm
        return "ok" if rc == 0 else "clear" if rc in (1, 2) else "traceback"
    if rc == 0:
        return "wrong"
    if rc in (1, 2, 130) and "thoughtfield" in err and ("error" in err or "failed" in err):
        return "clear"
    return "traceback"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--json", help="write the outcomes here")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    rows = []
    for name, cls, expect, fn in CASES:
        if args.k not in name and args.k not in cls:
            continue
        tmp = tempfile.mkdtemp(prefix="tf-hostile-")
        extra = None
        env = None
        try:
            spec = fn(tmp)
            if isinstance(spec, tuple):
                spec, extra, *rest = spec + (None,) * (4 - len(spec))
                env = rest[0] if rest else None
                if len(rest) > 1 and rest[1]:
                    expect = rest[1]
            if isinstance(spec, str):
                t0 = time.perf_counter()
                try:
                    p = subprocess.run(spec, shell=True, cwd=tmp, capture_output=True, text=True,
                                       timeout=args.timeout)
                    rc, out, err = p.returncode, p.stdout, p.stderr
                except subprocess.TimeoutExpired:
                    rc, out, err = None, "", ""
                wall = time.perf_counter() - t0
                outcome = "hang" if rc is None else (
                    "traceback" if "Traceback" in err or "Error" in err and "thoughtfield" not in err
                    else "clear" if rc in (0, 1, 2, 141) else "traceback")
            else:
                rc, out, err, wall = run(spec, tmp, timeout=args.timeout, env=env)
                outcome = classify(name, expect, rc, out, err)
            post = POST.get(name)
            if post is not None and outcome not in ("hang",):
                outcome = post(tmp, rc, out, err) or outcome
            if isinstance(extra, subprocess.Popen):
                # the first run must finish and leave its result
                first_rc = extra.wait(timeout=args.timeout)
                if first_rc != 0 or not os.path.exists(os.path.join(tmp, "r.nc")):
                    outcome = "data-loss"
            msg = (err.strip().splitlines() or [""])[-1][:160]
        except Exception as e:  # a broken case is a bug of the corpus, not of thoughtfield
            outcome, rc, wall, msg = "setup-failed", None, 0.0, f"{type(e).__name__}: {e}"
        finally:
            if isinstance(extra, socket.socket):
                extra.close()
            elif isinstance(extra, subprocess.Popen) and extra.poll() is None:
                extra.kill()
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append({"case": name, "class": cls, "outcome": outcome, "rc": rc,
                     "wall_s": round(wall, 2), "message": msg})
        print(f"{outcome:<12} {name:<34} rc={rc!s:<5} {wall:6.1f}s  {msg}", flush=True)
    counts = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    print(f"\n{len(rows)} inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "counts": counts}, f, indent=1)
    bad = sum(counts.get(k, 0) for k in ("traceback", "hang", "wrong", "data-loss", "code-exec",
                                          "setup-failed"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
