"""Running sweeps: in this process, on an embedded dask ``LocalCluster``, or on an
existing dask cluster; finished points kept on disk so a crash loses nothing finished.

The points of a sweep are cut into chunks; a chunk is one task (:func:`run_points`),
which builds each point's config, runs it and returns the points' results.  The client
(this process) writes every finished chunk at once, atomically, as a NetCDF file in
``<out>.parts/`` and combines the parts into ``<out>`` at the end.

- **Resume**: ``<out>.parts/sweep.json`` records the sweep's identity (a hash of the
  config, the parameters, the seed and the package version) and its seed; a resumed
  sweep checks it, skips the points found in the parts and runs the rest (chunked anew).
- **Determinism**: a point's numbers depend only on (base seed, point index, member)
  -- see :func:`thoughtfield.sweep.point_seed` -- so chunk sizes, the number of workers,
  worker failures and resuming do not change a single bit of the result.
- **Failures**: a worker process that dies is replaced by its nanny and its task runs
  again elsewhere (dask's ``allowed-failures``, default 3).  A point whose simulation
  fails stops the sweep (``on_error = "stop"``) or is recorded (``"record"``).

Why dask.distributed (the ``distributed`` extra): it gives the same program a local
process pool and a cluster (``--scheduler ADDRESS``), replaces dead workers and retries
their tasks, and is what xarray users already run.  It is optional: without it every
sweep runs in-process, with the same results.

Safety (configs and part folders may come from strangers):

- **The scheduler is never chosen by a config.**  dask trusts its scheduler (it unpickles
  what the scheduler sends), so the address comes only from the caller: ``--scheduler``,
  the ``THOUGHTFIELD_SCHEDULER`` environment variable, or the Python argument.  It is
  checked (:func:`scheduler_address`) and, for ``tcp://``, probed with a plain socket
  before dask connects (:func:`probe_scheduler`): an unreachable address, a server that
  is not dask (an HTTP server, one announcing a 3 EiB message, one sending a pickle) or a
  silent one is a one-line error within ``connect_timeout`` seconds.
- **One sweep per output**: the output's :class:`~thoughtfield._files.OutputLock` is held
  from the first check of ``<out>.parts/`` until the result is written.
- **Only thoughtfield's own files are removed**: a parts folder counts as ours only when
  its ``sweep.json`` is a thoughtfield manifest; ``--force`` then removes the manifest,
  part files and temporary files, never anything else, and never follows a link.
- **Leftovers**: a sweep whose point fails removes its parts (rerunning it would fail the
  same way); an interrupted one keeps them for ``--resume``; temporary files a killed
  sweep left are removed by the next one (under the lock).
- **Same bytes however it ran**: the parts are combined in point order, so the result's
  attributes come from point 0 and the solver counts are sums over all points, whatever
  the chunking, the number of workers or the order in which parts arrived.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import stat
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, SimulationError, ThoughtfieldError
from .results import compact_description
from ._sweep import Sweep, _base_data, _save_grid, point_seed, sweep_hash

#: A sweep whose remaining points are estimated to take longer than this (seconds) moves
#: to an embedded LocalCluster when neither workers nor scheduler is given.
AUTO_CLUSTER_SECONDS = 20.0
#: How long (seconds) to try to reach an existing dask scheduler (``--connect-timeout``).
CONNECT_TIMEOUT = 20.0
#: The environment variable ``thoughtfield sweep`` reads the scheduler address from
#: (a config file may not name one).
SCHEDULER_ENV = "THOUGHTFIELD_SCHEDULER"
#: Address schemes accepted for a scheduler (``inproc://`` only reaches this process).
SCHEDULER_SCHEMES = ("tcp", "tls", "inproc")
#: Largest first message accepted from a scheduler (dask's handshake is about 60 bytes).
HANDSHAKE_BYTES = 64 * 2**10
#: Largest ``sweep.json`` read from a parts folder.
MANIFEST_BYTES = 2**20
#: The mark of a parts folder written by thoughtfield (in ``sweep.json``).
PARTS_FORMAT = "thoughtfield-sweep-parts/1"
#: Largest part file (bytes of activations) written for one chunk.
PART_BYTES = 64 * 2**20
#: Tasks per worker when chunking automatically (load balance vs. per-task overhead).
TASKS_PER_WORKER = 4
#: An in-process sweep writes a part once its unwritten points took this long (seconds):
#: an interruption loses at most about this much work; each part costs a file write.
PART_SECONDS = 10.0



# ===================================================================== tasks
@dataclass
class Payload:
    """Everything a worker needs to run points of a sweep (plain data + the network)."""
    data: dict            # the config without [sweep]
    path: str | None
    base_dir: str
    network: object       # the ConceptNetwork, built once by the client
    seed: int
    sweep: Sweep
    threads: int | None   # run.threads override in worker processes
    key: str              # the sweep hash


_BASES: dict[str, object] = {}

#: Solver statistics kept per point (variables) and summed over the points (attributes).
SOLVER_COUNTS = ("n_steps", "n_rhs", "n_accepted", "n_rejected")


def _base_config(payload: Payload):
    """The point-independent config, built once per process."""
    cfg = _BASES.get(payload.key)
    if cfg is None:
        from .config import _load_data
        cfg = _load_data(payload.data, text=None, path=payload.path,
                         base_dir=Path(payload.base_dir),
                         reuse={"network": (payload.data.get("network"), payload.network)})
        if len(_BASES) > 4:
            _BASES.clear()
        _BASES[payload.key] = cfg
    return cfg


def run_points(payload: Payload, points) -> "xr.Dataset":  # noqa: F821
    """Run the sweep points ``points`` and return their results stacked along ``point``
    (the function a dask task calls; pure given its arguments)."""
    base = _base_config(payload)
    out = []
    for p in points:
        out.append(_run_point(base, payload, int(p)))
    return _concat(out)


def _run_point(base, payload: Payload, p: int):
    from .config import sections
    sw = payload.sweep
    values = sw.point_values(p)
    seed = point_seed(payload.seed, p)
    ov = dict(values)
    ov["seed"] = seed
    if payload.threads is not None and base.run.threads is None:
        ov["run.threads"] = payload.threads
    what = ", ".join(f"{k} = {v:g}" for k, v in values.items())
    try:
        pcfg = base.with_overrides(ov, keep_network=True)
    except ConfigError as e:
        new = e.at(f"sweep point {p} ({what})")
        new.sweep_point = p   # the point's own failure: rerunning it fails the same way
        raise new from None
    runner = next(((s, pcfg.section_object(s.name)) for s in sections()
                   if s.runner is not None and s.name != "sweep"
                   and pcfg.section_object(s.name) is not None), None)
    status, message = "success", ""
    try:
        if runner is not None:
            ds = runner[0].runner(runner[1], pcfg, False)
        else:
            sim = pcfg.simulation()
            try:
                ds = sim.run()
            except SimulationError as e:
                if sw.on_error != "record" or getattr(e, "partial", None) is None:
                    raise
                ds = _pad(e.partial, sim.ts)
                status, message = e.status or type(e).__name__, str(e)
    except SimulationError as e:
        new = e.at(f"sweep point {p} ({what})")   # keeps time, concept, status
        vars(new).pop("partial", None)   # not sent back from a worker
        new.sweep_point = p
        raise new from None
    if status == "success" and ds.attrs.get("status") not in (None, "success"):
        status = str(ds.attrs["status"])
    return _point_record(ds, p, seed, status, message)


def _point_record(ds, p: int, seed: int, status: str, message: str):
    """The point's result with a leading ``point`` dimension (and ``member`` always),
    plus its seed, status and solver counts; built in one go (``ds[k] = ...`` realigns
    the whole Dataset each time, about 2 ms apiece)."""
    import xarray as xr
    a = ds.attrs
    single = "member" not in ds["activation"].dims
    data = {}
    for name, v in ds.data_vars.items():
        dims, vals = v.dims, v.values
        if single and "time" in dims:
            dims, vals = ("member",) + dims, vals[None]
        data[name] = (("point",) + dims, vals[None], v.attrs)
    data["seed"] = (("point",), np.array([seed], np.int64))
    data["status"] = (("point",), np.array([status], dtype=object))
    for k in SOLVER_COUNTS:
        if k in a:
            data[k] = (("point",), np.array([int(a[k])], np.int64))
    coords = {k: (c.dims, c.values, c.attrs) for k, c in ds.coords.items()}
    coords["point"] = ("point", np.array([p], np.int64))
    if single:
        coords["member"] = ("member", np.array([0], np.int64))
    attrs = {k: v for k, v in a.items() if k not in ("message", "status")}
    if message:
        attrs["failure"] = message
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _pad(partial, ts):
    """A failed point's partial result on the full save grid (NaN after the failure)."""
    full = partial.reindex(time=np.asarray(ts, np.float64))
    return full


def _concat(items):
    import xarray as xr
    if len(items) == 1:
        return items[0]
    # coords="different": coordinates that vary between points (per-member parameters
    # that are swept) gain the point dimension instead of being taken from the first
    out = xr.concat(items, dim="point", data_vars="minimal", coords="different",
                    compat="equals", join="exact", combine_attrs="override")
    return out


# ===================================================================== part files
_PART_RE = re.compile(r"^part-(\d+)-(\d+)\.nc$")


class PartStore:
    """Finished chunks of one sweep in ``<out>.parts/`` (one NetCDF file each).

    The folder is thoughtfield's only when its ``sweep.json`` is a manifest written by
    :meth:`start` (:meth:`check`); only then is anything in it removed, and only the files
    thoughtfield writes there (:meth:`own_files`).  Use it while holding the output's lock.
    """

    MANIFEST = "sweep.json"

    def __init__(self, out: str):
        self.out = os.fspath(out)
        self.folder = self.out + ".parts"

    def exists(self) -> bool:
        return os.path.isdir(self.folder) and not os.path.islink(self.folder)

    def _not_ours(self, why: str) -> ConfigError:
        return ConfigError(f"{self.folder}: is not the parts folder of a thoughtfield sweep "
                           f"({why}); thoughtfield removes nothing it did not write there: "
                           f"move the folder away or choose another --out")

    def check(self) -> dict | None:
        """What is at the parts path: ``None`` (nothing), ``{}`` (an empty folder) or the
        manifest of a thoughtfield sweep; anything else is a :class:`ConfigError` (a link,
        a file, a folder of someone else's)."""
        try:
            st = os.lstat(self.folder)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ConfigError(f"{self.folder}: cannot be read ({e.strerror or e})") from None
        if stat.S_ISLNK(st.st_mode):
            raise ConfigError(f"{self.folder}: is a symbolic link; a sweep keeps its finished "
                              f"points only in a real folder next to the result: remove the "
                              f"link or choose another --out")
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{self.folder}: exists and is not a folder; a sweep keeps its "
                              f"finished points there: move it away or choose another --out")
        try:
            names = os.listdir(self.folder)
        except OSError as e:
            raise ConfigError(f"{self.folder}: cannot be read ({e.strerror or e})") from None
        if not names:
            return {}
        return self.manifest()

    def manifest(self) -> dict:
        """The manifest (``sweep.json``), checked: a regular file of at most
        ``MANIFEST_BYTES`` holding a thoughtfield manifest (the sweep's hash and seed)."""
        p = os.path.join(self.folder, self.MANIFEST)
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            raise self._not_ours(f"it has no {self.MANIFEST}") from None
        except OSError as e:
            raise self._not_ours(f"{self.MANIFEST}: {e.strerror or e}") from None
        if not stat.S_ISREG(st.st_mode):
            raise self._not_ours(f"{self.MANIFEST} is not a regular file")
        if st.st_size > MANIFEST_BYTES:
            raise self._not_ours(f"{self.MANIFEST} has {st.st_size} bytes, more than a "
                                 f"manifest's {MANIFEST_BYTES}")
        try:
            fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as f:
                raw = f.read(MANIFEST_BYTES + 1)
            d = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            why = getattr(e, "strerror", None) or type(e).__name__
            raise self._not_ours(f"{self.MANIFEST} is not a thoughtfield manifest: {why}") \
                from None
        why = _manifest_problem(d)
        if why:
            raise self._not_ours(f"{self.MANIFEST}: {why}")
        return d

    def start(self, manifest: dict) -> None:
        os.makedirs(self.folder, exist_ok=True)
        _atomic_text(os.path.join(self.folder, self.MANIFEST),
                     json.dumps({"format": PARTS_FORMAT, **manifest}, indent=1))

    def own_files(self) -> list[str]:
        """The files thoughtfield writes in the folder: the manifest, part files, their
        locks and temporary files (never folders; links are removed, not followed)."""
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return []
        out = []
        for e in entries:
            n = e.name
            if not (n == self.MANIFEST or n.startswith(self.MANIFEST + ".tmp-")
                    or n.startswith(".tmp-") or _PART_RE.match(n)
                    or (n.endswith(".lock") and _PART_RE.match(n[:-5]))):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            out.append(e.path)
        return sorted(out)

    def remove_temps(self) -> list[str]:
        """Remove temporary files and part locks a killed sweep left (call it under the
        output's lock, on a folder :meth:`check` found to be ours)."""
        gone = []
        for f in self.own_files():
            n = os.path.basename(f)
            if n.startswith((".tmp-", self.MANIFEST + ".tmp-")) or n.endswith(".lock"):
                _unlink(f)
                gone.append(f)
        return gone

    def clear(self) -> None:
        """Remove thoughtfield's files from the folder, then the folder if it is empty."""
        if not self.exists():
            return
        for f in self.own_files():
            _unlink(f)
        try:
            os.rmdir(self.folder)
        except OSError:   # something that is not ours is left in it
            pass

    def part_files(self) -> list[str]:
        if not self.exists():
            return []
        return [f for f in self.own_files() if _PART_RE.match(os.path.basename(f))]

    def finished(self, n: int | None = None) -> dict[int, str]:
        """``{point: part file}`` of the finished points.  A part holds consecutive points
        and is named by them (``part-FIRST-LAST.nc``), so nothing needs to be opened;
        names outside the sweep's ``n`` points or overlapping parts are refused."""
        done: dict[int, str] = {}
        for f in self.part_files():
            m = _PART_RE.match(os.path.basename(f))
            first, last = int(m.group(1)), int(m.group(2))
            if first > last:
                raise ConfigError(f"{f}: names points {first} to {last}, backwards; delete that "
                                  f"file (or pass --force to start over)")
            if n is not None and not last < n:
                raise ConfigError(f"{f}: holds points {first} to {last} but the sweep has {n} "
                                  f"points; delete that file (or pass --force to start over)")
            if not os.path.isfile(f) or os.path.islink(f):
                raise ConfigError(f"{f}: is not a regular file; delete it (or pass --force "
                                  f"to start over)")
            for p in range(first, last + 1):
                if p in done:
                    raise ConfigError(f"{os.path.basename(done[p])} and {os.path.basename(f)} "
                                      f"both hold point {p} (in {self.folder}); delete one of "
                                      f"them (or pass --force to start over)")
                done[p] = f
        return done

    def kept_points(self) -> int:
        """How many finished points the part files hold (from their names)."""
        k = 0
        for f in self.part_files():
            m = _PART_RE.match(os.path.basename(f))
            k += max(0, int(m.group(2)) - int(m.group(1)) + 1)
        return k

    def write(self, ds, key: str) -> str:
        from .results import save_result
        pts = ds["point"].values
        first, last = int(pts[0]), int(pts[-1])
        if last - first + 1 != pts.size:  # pragma: no cover - chunks are consecutive runs
            raise ValueError("a part must hold consecutive points")
        ds = ds.copy()
        ds.attrs["sweep_hash"] = key
        return save_result(ds, os.path.join(self.folder, f"part-{first:09d}-{last:09d}.nc"),
                           overwrite=True)

    def load(self, files, key: str) -> list:
        """Read parts (of a resumed sweep); each must carry this sweep's hash."""
        from .results import load_result
        out = []
        for f in sorted(set(files)):
            try:
                ds = load_result(f)
            except ConfigError as e:
                raise e.hinted("; delete that part to run its points again") from None
            if ds.attrs.get("sweep_hash") != key:
                raise ConfigError(f"{f}: belongs to a different sweep (the config, the swept "
                                  f"values, the seed or the thoughtfield version changed); "
                                  f"pass --force to start over")
            out.append(ds)
        return out


def _manifest_problem(d) -> str | None:
    """Why ``d`` is not a thoughtfield sweep manifest (None when it is one)."""
    if not isinstance(d, dict):
        return f"a JSON {type(d).__name__}, not a table"
    if d.get("format") != PARTS_FORMAT and "thoughtfield_version" not in d:
        return "no thoughtfield mark"
    h = d.get("hash")
    if not (isinstance(h, str) and re.fullmatch(r"[0-9a-f]{64}", h)):
        return "no sweep hash"
    seed = d.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        return "no valid seed"
    return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _atomic_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


# ===================================================================== the scheduler
_HOST_RE = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
                      r"(?::(\d{1,5}))?")


def _shown(text: str, limit: int = 60) -> str:
    """``text`` quoted with every control character escaped, cut to ``limit`` characters."""
    t = text if len(text) <= limit else text[:limit] + "..."
    return ascii(t) if not t.isprintable() or not t.isascii() else repr(t)


def scheduler_address(value, source: str = "scheduler") -> str:
    """Check a dask scheduler address given by ``source`` (``--scheduler``, the
    ``THOUGHTFIELD_SCHEDULER`` variable, the ``scheduler`` argument) and return it in the
    form ``tcp://HOST:PORT`` (``tls://...``; ``inproc://...`` for a cluster in this
    process).  Nothing is contacted here."""
    if not isinstance(value, str):
        raise ConfigError(f"{source}: expected an address like 'tcp://host:8786', a "
                          f"dask.distributed Client or a cluster (got {type(value).__name__})")
    text = value.strip()
    fix = "give tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://10.0.0.5:8786"

    def bad(why):
        return ConfigError(f"{source}: {_shown(value)} is not a dask scheduler address "
                           f"({why}); {fix}")

    if not text:
        raise bad("it is empty")
    if len(text) > 300:
        raise bad(f"{len(text)} characters")
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise bad("it contains spaces, control or non-ASCII characters")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    scheme = scheme.lower()
    if scheme not in SCHEDULER_SCHEMES:
        raise bad(f"unknown scheme {scheme!r}")
    if scheme == "inproc":
        if source != "scheduler":
            raise bad("inproc:// reaches only a scheduler inside this same process")
        if not re.fullmatch(r"[A-Za-z0-9._/:-]+", rest):
            raise bad("an inproc address needs the name of a scheduler in this process")
        return f"inproc://{rest}"
    m = _HOST_RE.fullmatch(rest)
    if m is None:
        raise bad("expected HOST:PORT after the scheme")
    port = int(m.group(2)) if m.group(2) is not None else 8786
    if not 1 <= port <= 65535:
        raise bad(f"port {port} is not between 1 and 65535")
    return f"{scheme}://{m.group(1)}:{port}"


def _seconds(timeout) -> float:
    if timeout is None:
        timeout = CONNECT_TIMEOUT
    if isinstance(timeout, str):   # "20s" as dask writes it
        timeout = float(timeout.strip().rstrip("s") or "nan")
    t = float(timeout)
    if not 0 < t <= 3600:
        raise ConfigError(f"connect timeout: must be > 0 and <= 3600 seconds (got {timeout!r})")
    return t


def _in_thread(fn, timeout: float):
    """``fn()`` in a daemon thread; ``(done, value, error)`` after at most ``timeout``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e

    th = threading.Thread(target=target, daemon=True, name="thoughtfield-connect")
    th.start()
    th.join(timeout)
    return not th.is_alive(), box.get("value"), box.get("error")


def probe_scheduler(address: str, timeout: float | None = None) -> None:
    """Check that a ``tcp://`` address answers like a dask scheduler, with a plain socket
    and nothing unpickled: dask's first message (its handshake, about 60 bytes of msgpack)
    must arrive within ``timeout`` seconds, be small, and decode to the handshake's
    table.  Raises a one-line :class:`ConfigError` otherwise (connection refused, unknown
    host, an HTTP server, a silent or garbage answer, a huge announced size)."""
    t = _seconds(timeout)
    deadline = time.monotonic() + t
    host, _, port = address.partition("://")[2].rpartition(":")
    host = host.strip("[]")
    cannot = f"scheduler: cannot connect to the dask scheduler at {address!r}"
    done, infos, err = _in_thread(
        lambda: socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM), t)
    if not done:
        raise ConfigError(f"{cannot} (the host name did not resolve within {t:g} s); check "
                          f"the address")
    if err is not None:
        why = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise ConfigError(f"{cannot} (unknown host: {why}); check the address")
    sock, last = None, None
    for family, type_, proto, _, addr in infos:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            sock = socket.socket(family, type_, proto)
            sock.settimeout(left)
            sock.connect(addr)
            break
        except OSError as e:
            last = e
            if sock is not None:
                sock.close()
            sock = None
    if sock is None:
        if isinstance(last, ConnectionRefusedError):
            why = "connection refused"
        elif isinstance(last, (socket.timeout, TimeoutError)) or last is None:
            why = f"no answer within {t:g} s"
        else:
            why = (last.strerror or str(last)).lower()
        raise ConfigError(f"{cannot} ({why}); is it running and reachable?")
    not_dask = f"scheduler: {address!r} is not a dask scheduler"
    try:
        try:   # greet like dask does (a server that waits for the client then answers)
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            sock.sendall(_HELLO)
        except OSError:
            pass   # what it sent (or not) before closing tells more
        head = _recv(sock, 8, deadline)
        if head is None:
            raise ConfigError(f"{not_dask} (it sent nothing within {t:g} s of connecting); "
                              f"check the address and port")
        if head.startswith(b"HTTP/"):
            raise ConfigError(f"{not_dask} (it answered like an HTTP server); check the "
                              f"address and port (dask's scheduler port is usually 8786)")
        (total,) = struct.unpack("<Q", head)
        if total > HANDSHAKE_BYTES:
            raise ConfigError(f"{not_dask} (it announced a message of {total} bytes; dask's "
                              f"handshake has under {HANDSHAKE_BYTES}); check the address "
                              f"and port")
        body = _recv(sock, total, deadline) if total else b""
        if body is None:
            raise ConfigError(f"{not_dask} (its greeting was incomplete after {t:g} s); "
                              f"check the address and port")
        if not _is_handshake(body):
            raise ConfigError(f"{not_dask} (its greeting is not dask's handshake); check the "
                              f"address and port")
    except (EOFError, ConnectionResetError, BrokenPipeError):
        raise ConfigError(f"{not_dask} (it closed the connection without a dask "
                          f"handshake); check the address and port") from None
    except OSError as e:
        raise ConfigError(f"{not_dask} (reading its greeting failed: "
                          f"{(e.strerror or type(e).__name__).lower()}); check the address "
                          f"and port") from None
    finally:
        sock.close()


def _hello() -> bytes:
    """dask's connection handshake, framed as dask frames it (what its client sends)."""
    import sys
    # pickle protocol 5 is the highest of every supported Python (3.8+); the pickle module
    # itself is never imported here (tests/test_reliability.py)
    body = (b"\x83\xabcompression\xc0\xa6python\x93"
            + bytes(sys.version_info[:3]) + b"\xafpickle-protocol"
            + bytes([5]))
    frames = struct.pack("<QQ", 1, len(body)) + body
    return struct.pack("<Q", len(frames)) + frames


_HELLO = _hello()


def _recv(sock, n: int, deadline: float):
    """Exactly ``n`` bytes, None when the deadline passes first; EOFError when closed."""
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(n - len(buf), 65536))
        except (socket.timeout, TimeoutError):
            return None
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _is_handshake(body: bytes) -> bool:
    """Whether ``body`` is dask's framed handshake: frame count and lengths that add up,
    and a first frame that is msgpack for ``{compression, python, pickle-protocol}``."""
    if len(body) < 16:
        return False
    (nf,) = struct.unpack_from("<Q", body)
    if not 1 <= nf <= 16 or 8 * (1 + nf) > len(body):
        return False
    lengths = struct.unpack_from(f"<{nf}Q", body, 8)
    if 8 * (1 + nf) + sum(lengths) != len(body):
        return False
    start = 8 * (1 + nf)
    try:
        import msgpack
        msg = msgpack.unpackb(body[start:start + lengths[0]], raw=False, strict_map_key=False)
    except Exception:  # noqa: BLE001 - any decoding failure means "not a handshake"
        return False
    return isinstance(msg, dict) and {"compression", "python", "pickle-protocol"} <= set(msg)


def connect_scheduler(address: str, timeout: float | None = None):
    """A ``distributed.Client`` on the scheduler at ``address`` (checked by
    :func:`scheduler_address`; ``tcp://`` probed by :func:`probe_scheduler` first), or a
    one-line :class:`ConfigError` within about ``timeout`` seconds.

    dask trusts its scheduler -- a hostile one can run code in this process -- which is
    why the address may come only from the person running the sweep, never a config."""
    from distributed import Client
    t = _seconds(timeout)
    address = scheduler_address(address)
    if address.startswith("tcp://"):
        probe_scheduler(address, t)
    done, client, err = _in_thread(lambda: Client(address, timeout=f"{t}s"), t + 10)
    if not done:
        raise ConfigError(f"scheduler: the dask scheduler at {address!r} did not finish "
                          f"connecting within {t:g} s; check that it is a dask scheduler and "
                          f"reachable", key='scheduler')
    if isinstance(err, (OSError, TimeoutError)):
        why = " ".join(str(err).split())[:160] or type(err).__name__
        raise ConfigError(f"scheduler: cannot connect to the dask scheduler at {address!r} "
                          f"({_shown(why, 160)[1:-1]}); is it running and reachable?",
                          key='scheduler') from None
    if err is not None:
        if isinstance(err, KeyboardInterrupt):
            raise err
        why = " ".join(str(err).split())[:160]
        raise ConfigError(f"scheduler: {address!r} did not answer like a dask scheduler "
                          f"({type(err).__name__}: {_shown(why, 160)[1:-1]}); check the "
                          f"address", key='scheduler') from None
    return client


# ===================================================================== driver
def run_sweep(cfg, sw: Sweep, *, out=None, resume: bool = False, force: bool = False,
              progress=False, annotate: bool = True, report: dict | None = None,
              connect_timeout: float | None = None):
    """Run the sweep ``sw`` of config ``cfg`` (see :func:`thoughtfield.sweep.sweep`).

    How it ran (executor, workers, resumed points, wall time) goes to ``report`` (a dict),
    not into the result: the same sweep gives the same bytes however it ran.  With ``out``
    the output's lock is held throughout (a second sweep or run on it is refused)."""
    _check_memory(cfg, sw)
    if out is None:
        return _run_sweep(cfg, sw, None, resume, force, progress, annotate, report,
                          connect_timeout)
    from ._files import OutputLock, remove_stale_temps
    out = os.fspath(out)
    if os.path.isdir(out):
        raise ConfigError(f"{out}: is a folder; give a file name for the result")
    with OutputLock(out) as lock:
        # temporary files of the result a killed sweep left (we hold the lock)
        remove_stale_temps(out, before=lock.acquired_at, suffixes=(".nc",))
        return _run_sweep(cfg, sw, out, resume, force, progress, annotate, report,
                          connect_timeout)


def _run_sweep(cfg, sw, out, resume, force, progress, annotate, report, connect_timeout):
    base = _base_data(cfg.data)
    n = sw.n_points
    seed = cfg.seed
    store = None
    done: dict[int, str] = {}
    if out is not None:
        if os.path.exists(out) and not force:
            raise ConfigError(f"{out}: exists; pass --force (force=True) to overwrite it")
        store = PartStore(out)
        man = store.check()          # refuses links, files and folders that are not ours
        if man:
            store.remove_temps()
            # --resume wins over --force for the finished points (as a run's checkpoint
            # does): an interrupted `sweep ... --force` continues with `... --force --resume`
            if (force and not resume) or not store.part_files():   # nothing to keep
                store.clear()
            elif not resume:
                raise ConfigError(f"{store.folder}: holds finished points of an earlier sweep "
                                  f"that did not complete; pass --resume to continue it or "
                                  f"--force to start over")
            else:
                if seed is None:
                    seed = int(man["seed"])
                key = sweep_hash(base, sw, seed)
                if man.get("hash") != key:
                    raise ConfigError(
                        f"{store.folder}: the finished points belong to a different sweep (the "
                        f"config, the swept values, the seed or the thoughtfield version "
                        f"changed since); pass --force "
                        + ("without --resume " if force else "") + "to start over")
                done = store.finished(n)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    key = sweep_hash(base, sw, seed)
    if store is not None and not done:
        from . import __version__
        store.start({"hash": key, "seed": seed, "points": n, "thoughtfield_version": __version__,
                     "config": os.path.abspath(cfg.path) if cfg.path else None,
                     "parameters": sw.spec()})
    payload = Payload(data=base, path=cfg.path, base_dir=str(cfg.base_dir), network=cfg.network,
                      seed=seed, sweep=sw, threads=None, key=key)
    todo = [p for p in range(n) if p not in done]
    kept: list = []          # chunk results held in memory (no store)
    t_start = time.perf_counter()

    def on_chunk(ds):
        if store is not None:
            store.write(ds, key)
        kept.append(ds)

    bar = _progress(progress, n, len(done))
    info = {"executor": "in-process", "workers": 1}
    try:
        try:
            if todo:
                info = _execute(payload, sw, todo, on_chunk, bar, cfg,
                                connect_timeout=connect_timeout)
        finally:
            if bar is not None:
                bar.close()
        parts = kept
        if done:
            parts = store.load(done.values(), key) + kept
        result = combine(parts, sw, cfg, seed=seed, key=key)
        if report is not None:
            report.update(executor=info["executor"], workers=info["workers"],
                          resumed_points=len(done), wall_time_s=time.perf_counter() - t_start)
        if annotate:
            cfg.annotate(result)
        if store is not None:
            from .results import save_result
            save_result(result, out, overwrite=True)   # durable before the parts go
    except BaseException as e:
        if store is not None:
            _after_failure(store, e)
        raise
    if store is not None:
        store.clear()
    return result


def _after_failure(store: PartStore, e: BaseException) -> None:
    """Leave nothing that blocks the next run: a point's own failure (it would fail again)
    and a sweep with no finished point remove the parts; otherwise they are kept for
    ``--resume`` and a thoughtfield error says so."""
    try:
        store.remove_temps()
        if getattr(e, "sweep_point", None) is not None or not store.part_files():
            store.clear()
            return
        k = store.kept_points()
    except OSError:   # pragma: no cover - the original error matters more
        return
    if isinstance(e, ThoughtfieldError):   # the error being raised, told where its points are
        e.hint = (e.hint or "") + (f"; {k} finished point(s) are kept in {store.folder}/: run "
                                   "the same command with --resume to continue")


def _check_memory(cfg, sw) -> None:
    """The combined result is held in memory (and written) at the end: refuse sweeps
    whose activations would not fit, before running anything."""
    from .errors import ResourceError
    from ._limits import gib as _gib, memory_limit
    per = _bytes_per_point(cfg, sw)
    need = sw.n_points * per
    limit, source = memory_limit(None)
    if limit is not None and need > limit:
        raise ResourceError(
            f"sweep: the result needs about {_gib(need)} ({sw.n_points} points x {_gib(per)} "
            f"of activations each) but the limit is {_gib(limit)} ({source}); sweep fewer "
            f"points, save less often ([run] save_dt / save_at), or use fewer members", key='sweep')


def _progress(progress, total, initial):
    if not progress:
        return None
    from tqdm.auto import tqdm
    opts = dict(total=total, initial=initial, unit="point", desc="sweep", leave=False)
    if isinstance(progress, dict):
        opts.update(progress)
    return tqdm(**opts)


def _bytes_per_point(cfg, sw) -> int:
    ts = _save_grid(cfg)
    t = ts.size if ts is not None else 200
    return 8 * t * cfg.network.n * cfg.run.members


def _chunk_size(sw, n_todo, n_workers, per_point_bytes) -> int:
    """Points per dask task: about TASKS_PER_WORKER tasks per worker, parts of at most
    PART_BYTES."""
    if sw.chunk is not None:
        return sw.chunk
    cap = max(1, PART_BYTES // max(1, per_point_bytes))
    want = -(-n_todo // (TASKS_PER_WORKER * n_workers))
    return max(1, min(cap, want))


def _chunks(points, size):
    """Split ``points`` into chunks of at most ``size`` consecutive points."""
    runs, run = [], []
    for p in points:
        if run and p != run[-1] + 1:
            runs.append(run)
            run = []
        run.append(p)
    if run:
        runs.append(run)
    return [r[i:i + size] for r in runs for i in range(0, len(r), size)]


def have_distributed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _need_distributed(what: str):
    if not have_distributed():
        raise ConfigError(f"{what}: needs dask.distributed, which is not installed; "
                          f"pip install 'thoughtfield[distributed]' (or run in-process with "
                          f"--workers 1)")


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _execute(payload, sw, todo, on_chunk, bar, cfg, connect_timeout=None) -> dict:
    per_point = _bytes_per_point(cfg, sw)
    if sw.scheduler is not None:
        _need_distributed("scheduler")
        client = connect_scheduler(sw.scheduler, timeout=connect_timeout)
        try:
            nw = max(1, len(client.scheduler_info().get("workers", {})))
            payload.threads = 1
            _run_dask(client, payload, _chunks(todo, _chunk_size(sw, len(todo), nw, per_point)),
                      on_chunk, bar)
        finally:
            client.close()
        return {"executor": f"dask scheduler {sw.scheduler}", "workers": nw}
    if sw.workers is not None and sw.workers > 1:
        _need_distributed("workers")
        _local_cluster(payload, sw, todo, on_chunk, bar, sw.workers, per_point)
        return {"executor": "dask LocalCluster", "workers": sw.workers}
    cap = max(1, PART_BYTES // max(1, per_point))
    if sw.workers == 1 or len(todo) == 1:
        _in_process(payload, todo, on_chunk, bar, sw.chunk, cap)
        return {"executor": "in-process", "workers": 1}
    # automatic: time the first points here; move to a local cluster if the rest is long
    ncpu = _cpus()
    k = min(len(todo), 2)
    times = _in_process(payload, todo[:k], on_chunk, bar, sw.chunk, cap)
    rest = todo[k:]
    per = times[-1]  # the first point also loads the compiled kernels
    if rest and ncpu > 1 and per * len(rest) > AUTO_CLUSTER_SECONDS and have_distributed():
        _local_cluster(payload, sw, rest, on_chunk, bar, ncpu, per_point)
        return {"executor": "dask LocalCluster", "workers": ncpu}
    if rest:
        _in_process(payload, rest, on_chunk, bar, sw.chunk, cap)
    return {"executor": "in-process", "workers": 1}


def _in_process(payload, todo, on_chunk, bar, chunk, cap) -> list[float]:
    """Run ``todo`` here, one point at a time; a part is written every ``chunk`` points,
    else when the points held took ``PART_SECONDS`` (or reach ``cap`` points), and at a
    gap in the point numbers.  Returns each point's wall time."""
    times: list[float] = []
    held: list = []
    spent = 0.0

    def flush():
        nonlocal spent
        if held:
            on_chunk(_concat(held))
            held.clear()
            spent = 0.0

    for p in todo:
        if held and int(held[-1]["point"].values[-1]) != p - 1:
            flush()
        t = time.perf_counter()
        held.append(run_points(payload, [p]))
        times.append(time.perf_counter() - t)
        spent += times[-1]
        if bar is not None:
            bar.update(1)
        if len(held) >= (chunk or cap) or (chunk is None and spent >= PART_SECONDS):
            flush()
    flush()
    return times


def _local_cluster(payload, sw, todo, on_chunk, bar, n_workers, per_point):
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        payload.threads = 1
        _run_dask(client, payload, _chunks(todo, _chunk_size(sw, len(todo), n_workers, per_point)),
                  on_chunk, bar)
    finally:
        client.close()
        cluster.close()


def _run_dask(client, payload, chunks, on_chunk, bar):
    from distributed import as_completed
    tag = f"thoughtfield-sweep-{payload.key[:10]}-{uuid.uuid4().hex[:6]}"
    futures = [client.submit(run_points, payload, ch, key=f"{tag}-{ch[0]}", pure=False)
               for ch in chunks]
    size = {f.key: len(ch) for f, ch in zip(futures, chunks)}
    try:
        for fut in as_completed(futures):
            if fut.status == "error":
                exc = fut.exception()
                if type(exc).__name__ == "KilledWorker":
                    raise SimulationError(
                        f"sweep: the task with points from {fut.key.rsplit('-', 1)[-1]} killed "
                        f"its worker process several times (out of memory?); use fewer members, "
                        f"save less often, or give the workers more memory") from None
                raise exc
            on_chunk(fut.result())
            if bar is not None:
                bar.update(size[fut.key])
            fut.release()
    finally:
        for f in futures:
            if not f.done():
                f.cancel()


# ===================================================================== combining
def combine(parts, sw: Sweep, cfg, *, seed: int, key: str):
    """Stack chunk results along ``point`` and reshape them to the sweep dimensions."""
    import xarray as xr
    if not parts:
        raise ConfigError("sweep: no finished points to combine", key='sweep')
    # in point order, whatever order the parts arrived or were read in: the attributes
    # then come from point 0 (a part's come from its first point) and the same sweep
    # writes the same bytes with any chunking, any number of workers, resumed or not
    parts = sorted(parts, key=lambda d: int(np.asarray(d["point"].values).min()))
    ds = _concat(list(parts)) if len(parts) > 1 else parts[0]
    ds = ds.sortby("point")
    pts = ds["point"].values
    n = sw.n_points
    if pts.size != n or not np.array_equal(pts, np.arange(n)):
        missing = sorted(set(range(n)) - set(int(p) for p in pts))
        raise ConfigError(f"sweep: points missing from the result: {missing[:10]}"
                          + (" ..." if len(missing) > 10 else ""), key='sweep')
    shape = sw.shape
    names = [d.name for d in sw.dims]
    data_vars, coords = {}, {}
    for name, var in ds.variables.items():
        if name == "point":
            continue
        if "point" in var.dims:
            v = var.transpose("point", ...)
            vals = v.values.reshape(shape + v.shape[1:])
            item = (tuple(names) + v.dims[1:], vals, v.attrs)
        else:
            item = (var.dims, var.values, var.attrs)
        if name in ds.coords:
            coords[name] = item
        else:
            data_vars[name] = item
    for d in sw.dims:
        for q in d.params:
            vals = np.array(q.values, dtype=np.int64 if all(isinstance(v, int) for v in q.values)
                            else np.float64)
            if not d.zipped:  # the dimension's own coordinate (an index for .sel)
                coords[d.name] = (d.name, vals, {"long_name": q.path, "swept": 1})
            if d.zipped or q.path != d.name:  # the values under the parameter's key path
                coords[q.path] = (d.name, vals, {"long_name": q.path, "swept": 1})
    if "status" in data_vars:
        data_vars["status"] = (data_vars["status"][0], data_vars["status"][1].astype(str),
                               data_vars["status"][2])
    # the same attributes in the same order whether the parts were run here or read back
    # from part files (which carry sweep_hash): the same sweep writes the same bytes
    attrs = {k: v for k, v in ds.attrs.items() if k != "sweep_hash"}
    st = np.asarray(data_vars["status"][1]).ravel() if "status" in data_vars else np.array([])
    bad = int((st != "success").sum())
    attrs.update({
        "title": cfg.title or attrs.get("title", "thoughtfield sweep"),
        "seed": int(seed),
        "sweep": json.dumps(sw.spec(), separators=(",", ":")),
        "sweep_description": sw.describe(),
        "sweep_points": n,
        "sweep_hash": key,
        "status": "success" if bad == 0 else "failed_points",
        "message": (f"sweep of {n} points finished" if bad == 0 else
                    f"sweep of {n} points finished; {bad} point(s) failed (see status)"),
        "model": json.dumps(compact_description(cfg.model.to_dict()), separators=(",", ":"),
                            default=_jsonable),
        "stimuli": json.dumps([s.to_dict() for s in cfg.stimuli], separators=(",", ":"),
                              default=_jsonable),
    })
    for k in SOLVER_COUNTS:   # sums over every point, not one part's counts
        if k in data_vars:
            attrs[k] = int(np.asarray(data_vars[k][1]).sum())
    if sw.readout is not None:
        attrs["sweep_readout"] = json.dumps(sw.readout.to_dict())
    attrs.pop("failure", None)
    out = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    return out


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    return str(o)

