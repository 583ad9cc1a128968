"""Checkpoints: save a running simulation at a chunk boundary, resume it bit for bit.

A run is integrated in chunks (:meth:`Simulation.advance`); the kernels' step sequence
never depends on where the chunks end, so a run restored from a checkpoint continues
exactly as the uninterrupted run would have -- same activations, same solver statistics.

A checkpoint is one ``.npz`` file (numpy arrays only; read with ``allow_pickle=False``)
holding

- every array of the integrator state (the fields of
  :class:`thoughtfield._problem.State`, taken generically, so fields added later are
  checkpointed too): time, step size, error history, counters, segment, RNG states,
  Box-Muller spares, ...;
- the first Runge-Kutta stage (FSAL) of the adaptive method;
- the output saved so far;
- a fingerprint (SHA-256) of everything that defines the run: the lowered problem and
  method arrays, the save times, the initial state, seed, members and the thoughtfield
  version.  A checkpoint is never applied to a different run.

Files are written atomically (a temporary file in the same folder, flushed and renamed
over the old checkpoint), so a kill at any moment leaves either the previous checkpoint
or the new one.  The discrete mode (:class:`~thoughtfield.discrete.DiscreteSimulation`)
is checkpointed the same way (its activation vector, counters and saved rows).

Python::

    sim = tf.Simulation(net, model, stimuli, t_end=1e4, seed=1)
    ds = sim.run(checkpoint="run.ckpt", checkpoint_every=60, resume=True)

Command line: ``thoughtfield run CONFIG`` checkpoints to ``RESULT.checkpoint`` every
minute (``--checkpoint-every``); ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import hashlib
import os
import time as _time
import warnings
import zipfile

import numpy as np

from .errors import CheckpointError, ThoughtfieldError
from . import _sizes, _version as _package

#: Layout version of checkpoint files.
FORMAT = 1
#: File name suffix of the checkpoints the command line writes next to the result.
SUFFIX = ".checkpoint"


def checkpoint_path(result_path) -> str:
    """Where the command line keeps the checkpoint of ``result_path``."""
    return os.fspath(result_path) + SUFFIX


def _version() -> str:
    return _package.__version__


def _kind(sim) -> str:
    return sim.mode


# ------------------------------------------------------------------ fingerprint
def _feed(h, name: str, value) -> None:
    """Hash ``value`` (arrays, numbers, strings, nested tuples/namedtuples) under ``name``."""
    h.update(name.encode() + b"=")
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    elif hasattr(value, "_fields"):
        for f in value._fields:
            _feed(h, f"{name}.{f}", getattr(value, f))
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _feed(h, f"{name}[{i}]", v)
    else:
        h.update(repr(value).encode())
    h.update(b";")


def fingerprint(sim) -> str:
    """SHA-256 of everything that defines ``sim``'s run (not its progress)."""
    cached = sim.__dict__.get("_checkpoint_fingerprint")
    if cached is not None:
        return cached
    h = hashlib.sha256()
    kind = _kind(sim)
    _feed(h, "format", FORMAT)
    _feed(h, "kind", kind)
    _feed(h, "version", _version())
    _feed(h, "problem", sim.problem)
    _feed(h, "members", sim.members)
    _feed(h, "seed", sim.seed)
    _feed(h, "t0", sim.t0)
    _feed(h, "t_end", sim.t_end)
    if kind == "continuous":
        _feed(h, "seed_key", tuple(sim.seed_key))
        _feed(h, "method", sim.method)
        _feed(h, "ts", sim.ts)
        _feed(h, "y0", sim.y0)
        _feed(h, "row", sim.out.shape[1])
    else:
        _feed(h, "t_stop", sim.t_stop)
        _feed(h, "save_every", sim.save_every)
        _feed(h, "save_at", sim.save_at if sim.save_at is not None else "none")
        _feed(h, "a0", sim._rows[0])
        _feed(h, "step0", sim._steps[0])
    fp = h.hexdigest()
    sim.__dict__["_checkpoint_fingerprint"] = fp
    return fp


# ------------------------------------------------------------------ save / load
def _arrays(sim) -> dict[str, np.ndarray]:
    """What a checkpoint of ``sim`` holds (besides its header)."""
    out: dict[str, np.ndarray] = {}
    if _kind(sim) == "continuous":
        st = sim.state
        for f in st._fields:
            out[f"state.{f}"] = np.asarray(getattr(st, f))
        out["K0"] = sim._K[0]
        out["out"] = sim.out[:sim.n_saved]
    else:
        out["state.a"] = sim.a
        out["state.ist"] = sim.ist
        out["rows"] = np.concatenate(sim._rows, axis=0)
        out["steps"] = np.concatenate(sim._steps)
    out["wall_time"] = np.array(float(sim.wall_time))
    return out


def save_checkpoint(sim, path) -> str:
    """Write a checkpoint of ``sim`` to ``path`` atomically and durably (a temporary
    ``.tmp-NAME-*.checkpoint`` file, fsynced, renamed, the folder fsynced); returns the
    path."""
    from ._files import make_temp, remove_quietly, replace_durably
    path = os.fspath(path)
    fp = fingerprint(sim)
    arrays = _arrays(sim)
    header = {
        "format": np.array(FORMAT, np.int64),
        "kind": np.array(_kind(sim)),
        "version": np.array(_version()),
        "fingerprint": np.array(fp),
        "seed": np.array(sim.seed, np.int64),
        "progress": np.array(_progress(sim)),
    }
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = make_temp(path, ".checkpoint")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **header, **arrays)
            f.flush()
            os.fsync(f.fileno())
        replace_durably(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    return path


def remove_checkpoint(path) -> None:
    """Delete the checkpoint at ``path`` (when it exists) and flush its folder.  Call it
    once the result it would recompute is safely written."""
    from ._files import fsync_dir
    path = os.fspath(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(os.path.dirname(os.path.abspath(path)))


def _progress(sim) -> str:
    if _kind(sim) == "continuous":
        from ._problem import F_T
        return f"t = {float(sim.state.fst[F_T]):.6g} ({sim.n_saved} of {sim.ts.size} save times)"
    return f"step {sim.step}"


#: Header entries (format, kind, version, fingerprint, seed, progress) are small; larger
#: ones are refused before they are read.
HEADER_MAX_BYTES = 64 * 1024
_HEADER = ("format", "kind", "version", "fingerprint", "seed", "progress")


#: The hint of an entry whose shape or type is not the run's.
_DOES_NOT_FIT = "; the checkpoint does not fit this run (delete it to start over)"


def _one_line(e) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


class _Archive:
    """A checkpoint opened without reading it: every array is read on request, after its
    declared type and shape were checked against what the run expects, and never more
    bytes than that shape holds (a zip bomb or a header declaring terabytes is refused
    before anything is decompressed or allocated)."""

    def __init__(self, path):
        import stat
        self.path = os.fspath(path)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise CheckpointError(f"{self.path}: checkpoint not found") from None
        except OSError as e:
            raise CheckpointError(f"{self.path}: cannot read the checkpoint "
                                  f"({e.strerror or e})") from None
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{self.path}: not a regular file (a checkpoint is a file "
                                  "written by thoughtfield run); remove it or give another "
                                  "--out")
        try:
            self.zf = zipfile.ZipFile(self.path)
            self.members = {i.filename[:-4]: i for i in self.zf.infolist()
                            if i.filename.endswith(".npy")}
        except zipfile.BadZipFile as e:
            raise self._broken(f"not an .npz archive: {_one_line(e)}") from None
        except Exception as e:   # noqa: BLE001 - any parse failure of foreign bytes
            raise self._broken(e) from None
        if not self.members:
            raise self._broken(ValueError("not an .npz archive"))

    def _broken(self, e) -> CheckpointError:
        return CheckpointError(f"{self.path}: not a readable checkpoint (corrupted or "
                               f"truncated: {_one_line(e)}); delete it to start the run over")

    def close(self):
        self.zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __contains__(self, key):
        return key in self.members

    def read(self, key, *, shape=None, dtype=None, max_bytes=None, into=None) -> np.ndarray:
        """The array ``key``; ``shape``/``dtype``: what it must be (else refused by name);
        ``max_bytes``: a size limit; ``into``: a C-contiguous array to read into."""
        info = self.members.get(key)
        if info is None:
            raise CheckpointError(f"{self.path}: incomplete checkpoint (no {key!r}); delete "
                                  "it to start the run over")
        try:
            with self.zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    hshape, fortran, hdtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    hshape, fortran, hdtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                if hdtype.hasobject or fortran:
                    what = "a Fortran-ordered array" if fortran else \
                        f"an array of Python objects ({hdtype})"
                    raise CheckpointError(f"{self.path}: {key} is {what}, not one "
                                          "thoughtfield writes; the checkpoint was not written "
                                          "by thoughtfield -- delete it")
                count = 1
                for d in hshape:
                    count *= int(d)
                nbytes = count * hdtype.itemsize
                if shape is not None and (tuple(hshape) != tuple(shape)
                                          or (dtype is not None and hdtype != np.dtype(dtype))):
                    raise CheckpointError(
                        f"{key} has shape {tuple(hshape)} {hdtype}, the run needs "
                        f"{tuple(shape)} {np.dtype(dtype) if dtype is not None else hdtype}",
                        where=str(self.path), key=key, hint=_DOES_NOT_FIT)
                if max_bytes is not None and nbytes > max_bytes:
                    raise CheckpointError(f"{self.path}: {key} declares {nbytes} bytes, too "
                                          f"large for a checkpoint entry (at most {max_bytes}); "
                                          "delete the checkpoint to start the run over")
                if into is not None:
                    view = memoryview(into.reshape(-1).view(np.uint8))
                    got = f.readinto(view) if nbytes else 0
                    arr = into
                else:
                    data = f.read(nbytes)
                    got = len(data)
                    arr = np.frombuffer(data, dtype=hdtype, count=count).reshape(hshape).copy()
                if got != nbytes or f.read(1):   # (reading to the end checks the CRC)
                    raise ValueError(f"{key}: the data does not match its declared shape")
                return arr
        except CheckpointError:
            raise
        except Exception as e:   # noqa: BLE001 - any parse failure of foreign bytes
            raise self._broken(e) from None


def _info(arch) -> dict:
    missing = next((repr(k) for k in _HEADER if k not in arch), None)
    if missing is None:
        try:
            vals = {k: arch.read(k, max_bytes=HEADER_MAX_BYTES) for k in _HEADER}
            return {"format": int(vals["format"]), "kind": str(vals["kind"]),
                    "version": str(vals["version"]), "fingerprint": str(vals["fingerprint"]),
                    "seed": int(vals["seed"]), "progress": str(vals["progress"])[:200]}
        except (ValueError, TypeError, OverflowError) as e:
            if isinstance(e, CheckpointError):
                raise
            missing = _one_line(e)   # a message of numpy's, read as is
    raise CheckpointError(f"{arch.path}: not a thoughtfield checkpoint (missing or bad "
                          f"{missing}); delete it to start the run over")


def read_info(path) -> dict:
    """The header of a checkpoint: ``format``, ``kind``, ``version``, ``fingerprint``,
    ``seed``, ``progress`` (only the header is read)."""
    with _Archive(path) as arch:
        return _info(arch)


def load_checkpoint(sim, path) -> dict:
    """Restore ``sim`` (freshly built, not yet run) from the checkpoint at ``path``.

    Raises :class:`CheckpointError` when the file is corrupted or truncated, when it
    belongs to another run (another config, seed, thoughtfield version...), or when its
    content is not a state this run can continue from (non-finite values, counters out of
    range, sizes that do not fit).  Every array is checked against the run's own sizes
    before it is read.  Returns the checkpoint's header (see :func:`read_info`).
    """
    path = os.fspath(path)
    with _Archive(path) as arch:
        info = _info(arch)
        if info["format"] != FORMAT:
            raise CheckpointError(f"{path}: checkpoint format {info['format']}, this "
                                  f"thoughtfield reads format {FORMAT}; delete it to start the "
                                  "run over")
        if info["version"] != _version():
            raise CheckpointError(f"{path}: written by thoughtfield {info['version']}, this is "
                                  f"{_version()}; a run can only be resumed by the version that "
                                  "started it (delete the checkpoint to start over)")
        kind = _kind(sim)
        if info["kind"] != kind:
            raise CheckpointError(f"{path}: a checkpoint of a {info['kind']} run cannot resume "
                                  f"a {kind} run")
        if info["fingerprint"] != fingerprint(sim):
            raise CheckpointError(
                f"{path}: the checkpoint belongs to a different run (its network, model, "
                f"stimuli, solver, time span, save times, initial state or seed {info['seed']} "
                f"differ from this one's, seed {sim.seed}); resume with the same config and "
                "seed, or delete the checkpoint to start over")
        if kind == "continuous":
            _restore_continuous(sim, arch, path)
        else:
            _restore_discrete(sim, arch, path)
        wall = arch.read("wall_time", shape=(), dtype=np.float64) if "wall_time" in arch \
            else np.array(0.0)
        sim.wall_time = float(wall) if np.isfinite(wall) and wall >= 0 else 0.0
    return info


def _like(arch, name, dst: np.ndarray) -> np.ndarray:
    return arch.read(name, shape=dst.shape, dtype=dst.dtype)


def _bad(path, what: str) -> CheckpointError:
    return CheckpointError(f"{path}: {what}; the checkpoint is damaged or was not written "
                           "by this run -- delete it to start the run over")


def _finite(path, name, a) -> None:
    if a.size and not np.isfinite(a).all():
        raise _bad(path, f"{name} holds values that are not finite (NaN or infinity)")


def _check_cut_interval(path, sim, fst, ist) -> None:
    """A fixed-step interval cut by the kernel's step budget (``I_NSUB > 0``): its step
    count, position, start and step must describe a piece of this run."""
    from ._problem import F_HSUB, F_T, F_T0, I_KSUB, I_NSUB
    n, k = int(ist[I_NSUB]), int(ist[I_KSUB])
    if n == 0 and k == 0:
        return
    t0, h = float(fst[F_T0]), float(fst[F_HSUB])
    span = sim.t_end - sim.t0
    if (sim.solver.adaptive or not 0 <= k < n <= 2**62 or not 0 < h <= span
            or not sim.t0 <= t0 <= float(fst[F_T]) <= sim.t_end
            or not abs(t0 + k * h - float(fst[F_T])) <= 1e-6 * max(1.0, abs(sim.t_end))):
        raise _bad(path, f"state.ist/fst: an interrupted step interval out of range (step {k} "
                         f"of {n}, start {t0:g}, step {h:g})")


def _restore_continuous(sim, arch, path):
    from ._kernels.rhs import apply_segment
    from ._problem import (F_ERRPREV, F_H, F_T, I_ACC, I_NEXT, I_REJ, I_RHS, I_SEG, I_STATUS,
                           I_STEPS, ST_CHOICE, ST_OK, ST_STEADY)
    st = sim.state
    got = {f: _like(arch, f"state.{f}", np.asarray(getattr(st, f))) for f in st._fields}
    K0 = _like(arch, "K0", sim._K[0])
    # content: what the kernels index or compute with must be finite and in range
    _finite(path, "state.y", got["y"])
    _finite(path, "K0", K0)
    _finite(path, "state.spare", got["spare"])
    fst, ist = got["fst"], got["ist"]
    _finite(path, "state.fst (time, step, error)", fst[[F_T, F_H, F_ERRPREV]])
    slack = 1e-9 * max(1.0, abs(sim.t_end), abs(sim.t0))
    if not (sim.t0 - slack <= fst[F_T] <= sim.t_end + slack) or fst[F_H] < 0:
        raise _bad(path, f"state.fst: time {fst[F_T]:g} outside the run [{sim.t0:g}, "
                         f"{sim.t_end:g}] or a negative step {fst[F_H]:g}")
    n = int(ist[I_NEXT])
    nseg = int(sim.problem.seg_ptr.size) - 1
    steps, acc, rej, rhs = (int(ist[k]) for k in (I_STEPS, I_ACC, I_REJ, I_RHS))
    cap = int(sim.solver.max_steps) if getattr(sim.solver, "max_steps", None) else 2**62
    stages = int(sim.method.c.size) + 1
    if not (0 <= acc == steps and steps + rej <= cap and 0 <= rej
            and 0 <= rhs <= stages * (steps + rej + 2) + 16):
        raise _bad(path, f"state.ist: solver counters out of range (steps {steps}, accepted "
                         f"{acc}, rejected {rej}, right-hand sides {rhs}; max_steps {cap})")
    if (min(int(ist[k]) for k in (I_STEPS, I_RHS, I_ACC, I_REJ)) < 0
            or int(ist[I_STATUS]) not in (ST_OK, ST_STEADY, ST_CHOICE)
            or not 0 <= int(ist[I_SEG]) < max(nseg, 1) or not 0 <= n <= sim.ts.size):
        raise _bad(path, "state.ist: counters, status, segment or saved rows out of range "
                         f"(saved rows {n} of {sim.ts.size}, segment {int(ist[I_SEG])} of "
                         f"{nseg}, status {int(ist[I_STATUS])}); the checkpoint is inconsistent")
    _check_cut_interval(path, sim, fst, ist)
    if not np.isin(got["has_spare"], (0, 1)).all():
        raise _bad(path, "state.has_spare: flags other than 0 and 1")
    ev = got["ev_i"]
    for d, dec in enumerate(getattr(sim.layout, "decisions", ()) or ()):
        if ev.shape[0] > d and ((ev[d] < -1) | (ev[d] >= len(dec["options"]))).any():
            raise _bad(path, f"state.ev_i: a choice out of the {len(dec['options'])} options "
                             f"of decision {dec['pool']!r}")
    # the saved output, read straight into the run's buffer
    dst = sim.out[:n]
    if "out" not in arch:
        raise CheckpointError(f"{path}: incomplete checkpoint (no 'out'); delete it to start "
                              "the run over")
    try:
        arch.read("out", shape=dst.shape, dtype=np.float64, into=dst)
    except CheckpointError as e:
        if e.hint == _DOES_NOT_FIT:
            raise CheckpointError(f"{path}: out holds a different number of saved rows or "
                                  f"values than its state says ({n} rows of "
                                  f"{sim.out.shape[1]}; {e.message}); the "
                                  "checkpoint is inconsistent") from None
        raise
    _finite(path, "out", dst)
    for f in st._fields:
        np.asarray(getattr(st, f))[...] = got[f]
    sim._K[0][...] = K0
    # the inputs of the current segment (and its clamps) live in the workspace
    apply_segment(sim.problem, sim.work, int(st.ist[I_SEG]), st.y)


def _restore_discrete(sim, arch, path):
    from ._kernels.discrete import J_STATUS, J_STEPS, J_T, ST_OK, ST_THRESHOLD
    a = _like(arch, "state.a", sim.a)
    ist = _like(arch, "state.ist", sim.ist)
    _finite(path, "state.a", a)
    t = int(ist[J_T])
    if not sim.t0 <= t <= sim.t_stop or int(ist[J_STEPS]) < 0 \
            or int(ist[J_STATUS]) not in (ST_OK, ST_THRESHOLD):
        raise _bad(path, f"state.ist: step {t} outside the run [{sim.t0}, {sim.t_stop}], or a "
                         "bad counter or status; the checkpoint is inconsistent")
    every = 1 if sim.save_at is not None else sim.save_every
    most = (int(sim.save_at.size) if sim.save_at is not None else (t - sim.t0) // every) + 2
    for key in ("rows", "steps"):
        if key not in arch:
            raise CheckpointError(f"{path}: incomplete checkpoint (no {key!r}); delete it to "
                                  "start the run over")
    steps = arch.read("steps", max_bytes=8 * most)
    if steps.ndim != 1 or steps.dtype.kind not in "iu":
        raise _bad(path, f"steps has shape {steps.shape} {steps.dtype}")
    k = steps.size
    rows = arch.read("rows", shape=(k, sim.a.size), dtype=np.float64)
    _finite(path, "rows", rows)
    steps = steps.astype(np.int64)
    if k == 0 or steps[0] != sim.t0 or (np.diff(steps) <= 0).any() or steps[-1] > t:
        raise _bad(path, f"steps: saved steps must rise from {sim.t0} to at most {t}; the "
                         "checkpoint is inconsistent")
    sim.a[...] = a
    sim.ist[...] = ist
    sim._rows = [rows]
    sim._steps = [steps]


# ------------------------------------------------------------------ the driver hook
class Checkpointer:
    """Writes checkpoints of one simulation while it runs (used by ``run(checkpoint=)``).

    ``every``: seconds between checkpoints (0: at every chunk).  A positive interval is
    also at least ten times the time the last checkpoint took to write, so writing them
    never costs more than about 10 % of the run.  A checkpoint that cannot be written (disk
    full...) gives a warning and the run goes on without further checkpoints.
    """

    def __init__(self, sim, path, *, every: float = 60.0):
        from . import _validate as V
        from .resources import estimate
        self.sim = sim
        self.path = os.fspath(path)
        self.every = V.nonnegative("checkpoint_every", every)
        self.last = _time.monotonic()
        self.cost = 0.0
        self.written = 0
        self.enabled = True
        self.skipped = 0
        self.chunk_target = min(5.0, max(0.05, self.every / 4))
        #: disk space kept free for the result file: a checkpoint that would not leave it
        #: is skipped (the run writes its result for sure, checkpoints only where they fit)
        self.reserve = int(estimate(sim).file_bytes)
        fingerprint(sim)   # before the state moves

    def restore(self) -> dict | None:
        """Resume from the checkpoint file when it exists; its header, else None."""
        if not os.path.exists(self.path):
            return None
        return load_checkpoint(self.sim, self.path)

    def due(self) -> bool:
        if not self.enabled:
            return False
        if self.every == 0:
            return True
        return _time.monotonic() - self.last >= max(self.every, 10 * self.cost)

    def after_chunk(self) -> None:
        if self.sim.done or not self.due():
            return
        if not self._fits():
            return
        t = _time.perf_counter()
        try:
            save_checkpoint(self.sim, self.path)
        except (OSError, ThoughtfieldError) as e:
            self.enabled = False
            warnings.warn(f"{self.path}: cannot write the checkpoint ({e}); the run goes on "
                          "without checkpoints", RuntimeWarning, stacklevel=3)
            return
        self.cost = _time.perf_counter() - t
        self.last = _time.monotonic()
        self.written += 1

    def _fits(self) -> bool:
        """Whether a checkpoint now leaves room on the disk for the result; else warn (once)
        and skip it (the previous checkpoint stays; the next one is tried later)."""
        free = _sizes.free_disk(self.path)
        if free is None:
            return True
        need = _sizes.checkpoint_bytes(_arrays(self.sim))
        if need + self.reserve <= free:
            return True
        if not self.skipped:
            warnings.warn(
                f"{self.path}: no checkpoint written: it needs about "
                f"{_sizes.human_bytes(need)} but only {_sizes.human_bytes(free)} is free "
                f"on the disk, and {_sizes.human_bytes(self.reserve)} is kept for the "
                "result; the run goes on and checkpoints again once there is room",
                RuntimeWarning, stacklevel=3)
        self.skipped += 1
        self.last = _time.monotonic()
        return False

    def next_chunk(self, step: int, seconds: float, cap: int, multiple: int = 1) -> int:
        """The size of the next chunk: chunks are kept near a fraction of the checkpoint
        interval (results do not depend on it), in multiples of ``multiple``."""
        if seconds > self.chunk_target and step > multiple:
            step //= 2
        elif seconds < self.chunk_target / 4:
            step *= 2
        step = max(multiple, min(step, cap))
        return step - step % multiple

    def remove(self) -> None:
        """Delete the checkpoint (the run has finished)."""
        remove_checkpoint(self.path)
