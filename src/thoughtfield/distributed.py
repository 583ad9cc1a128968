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
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, SimulationError
from .results import compact_description
from .sweeps import Sweep, _base_data, point_seed, sweep_hash

#: A sweep whose remaining points are estimated to take longer than this (seconds) moves
#: to an embedded LocalCluster when neither workers nor scheduler is given.
AUTO_CLUSTER_SECONDS = 20.0
#: How long to try to reach an existing dask scheduler.
CONNECT_TIMEOUT = "20s"
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
        raise type(e)(f"sweep point {p} ({what}): {e}") from None
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
        new = type(e)(f"sweep point {p} ({what}): {e}")
        for a in ("time", "concept", "status"):
            setattr(new, a, getattr(e, a, None))
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
    for k in ("n_steps", "n_rhs", "n_rejected"):
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
    """Finished chunks of one sweep in ``<out>.parts/`` (one NetCDF file each)."""

    MANIFEST = "sweep.json"

    def __init__(self, out: str):
        self.out = os.fspath(out)
        self.folder = self.out + ".parts"

    def exists(self) -> bool:
        return os.path.isdir(self.folder)

    def manifest(self) -> dict:
        p = os.path.join(self.folder, self.MANIFEST)
        try:
            with open(p, encoding="utf-8") as f:
                d = json.load(f)
            if not isinstance(d, dict) or "hash" not in d or "seed" not in d:
                raise ValueError("missing keys")
            return d
        except (OSError, ValueError) as e:
            raise ConfigError(f"{self.folder}: not the parts folder of a thoughtfield sweep "
                              f"({os.path.basename(p)}: {e}); remove it or pass --force") from None

    def start(self, manifest: dict) -> None:
        os.makedirs(self.folder, exist_ok=True)
        _atomic_text(os.path.join(self.folder, self.MANIFEST), json.dumps(manifest, indent=1))

    def clear(self) -> None:
        if os.path.isdir(self.folder):
            shutil.rmtree(self.folder)

    def part_files(self) -> list[str]:
        if not self.exists():
            return []
        return sorted(os.path.join(self.folder, f) for f in os.listdir(self.folder)
                      if f.startswith("part-") and f.endswith(".nc"))

    def finished(self) -> dict[int, str]:
        """``{point: part file}`` of the finished points.  A part holds consecutive points
        and is named by them (``part-FIRST-LAST.nc``), so nothing needs to be opened."""
        done: dict[int, str] = {}
        for f in self.part_files():
            m = _PART_RE.match(os.path.basename(f))
            if m is None:
                continue
            for p in range(int(m.group(1)), int(m.group(2)) + 1):
                done[p] = f
        return done

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
                raise ConfigError(f"{e}; delete that part to run its points again") from None
            if ds.attrs.get("sweep_hash") != key:
                raise ConfigError(f"{f}: belongs to a different sweep (the config, the swept "
                                  f"values, the seed or the thoughtfield version changed); "
                                  f"pass --force to start over")
            out.append(ds)
        return out


def _atomic_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ===================================================================== driver
def run_sweep(cfg, sw: Sweep, *, out=None, resume: bool = False, force: bool = False,
              progress=False, annotate: bool = True, report: dict | None = None):
    """Run the sweep ``sw`` of config ``cfg`` (see :func:`thoughtfield.sweep.sweep`).

    How it ran (executor, workers, resumed points, wall time) goes to ``report`` (a dict),
    not into the result: the same sweep gives the same bytes however it ran."""
    base = _base_data(cfg.data)
    n = sw.n_points
    _check_memory(cfg, sw)
    seed = cfg.seed
    store = None
    done: dict[int, str] = {}
    if out is not None:
        out = os.fspath(out)
        if os.path.isdir(out):
            raise ConfigError(f"{out}: is a folder; give a file name for the result")
        if os.path.exists(out) and not force:
            raise ConfigError(f"{out}: exists; pass --force (force=True) to overwrite it")
        store = PartStore(out)
        if store.exists():
            if force:
                store.clear()
            elif not resume:
                raise ConfigError(f"{store.folder}: holds finished points of an earlier sweep "
                                  f"that did not complete; pass --resume to continue it or "
                                  f"--force to start over")
            else:
                man = store.manifest()
                if seed is None:
                    seed = int(man["seed"])
                key = sweep_hash(base, sw, seed)
                if man.get("hash") != key:
                    raise ConfigError(
                        f"{store.folder}: the finished points belong to a different sweep (the "
                        f"config, the swept values, the seed or the thoughtfield version "
                        f"changed since); pass --force to start over")
                done = store.finished()
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    key = sweep_hash(base, sw, seed)
    if store is not None and not store.exists():
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
        if todo:
            info = _execute(payload, sw, todo, on_chunk, bar, cfg)
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
        save_result(result, out, overwrite=True)
        store.clear()
    return result


def _check_memory(cfg, sw) -> None:
    """The combined result is held in memory (and written) at the end: refuse sweeps
    whose activations would not fit, before running anything."""
    from .errors import ResourceError
    from .simulate import _gib, memory_limit
    per = _bytes_per_point(cfg, sw)
    need = sw.n_points * per
    limit, source = memory_limit(None)
    if limit is not None and need > limit:
        raise ResourceError(
            f"sweep: the result needs about {_gib(need)} ({sw.n_points} points x {_gib(per)} "
            f"of activations each) but the limit is {_gib(limit)} ({source}); sweep fewer "
            f"points, save less often ([run] save_dt / save_at), or use fewer members")


def _progress(progress, total, initial):
    if not progress:
        return None
    from tqdm.auto import tqdm
    opts = dict(total=total, initial=initial, unit="point", desc="sweep", leave=False)
    if isinstance(progress, dict):
        opts.update(progress)
    return tqdm(**opts)


def _bytes_per_point(cfg, sw) -> int:
    from .sweeps import _save_grid
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


def _execute(payload, sw, todo, on_chunk, bar, cfg) -> dict:
    per_point = _bytes_per_point(cfg, sw)
    if sw.scheduler is not None:
        _need_distributed("scheduler")
        from distributed import Client
        try:
            client = Client(sw.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"scheduler: cannot connect to the dask scheduler at "
                              f"{sw.scheduler!r} ({e}); is it running and reachable?") from None
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
        raise ConfigError("sweep: no finished points to combine")
    ds = _concat(list(parts)) if len(parts) > 1 else parts[0]
    ds = ds.sortby("point")
    pts = ds["point"].values
    n = sw.n_points
    if pts.size != n or not np.array_equal(pts, np.arange(n)):
        missing = sorted(set(range(n)) - set(int(p) for p in pts))
        raise ConfigError(f"sweep: points missing from the result: {missing[:10]}"
                          + (" ..." if len(missing) > 10 else ""))
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
    for k in ("n_steps", "n_rhs", "n_rejected"):
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

