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
import tempfile
import time as _time
import warnings
import zipfile
import zlib

import numpy as np

from .errors import CheckpointError, ThoughtfieldError

#: Layout version of checkpoint files.
FORMAT = 1
#: File name suffix of the checkpoints the command line writes next to the result.
SUFFIX = ".checkpoint"


def checkpoint_path(result_path) -> str:
    """Where the command line keeps the checkpoint of ``result_path``."""
    return os.fspath(result_path) + SUFFIX


def _version() -> str:
    from . import __version__
    return __version__


def _kind(sim) -> str:
    from .discrete import DiscreteSimulation
    return "discrete" if isinstance(sim, DiscreteSimulation) else "continuous"


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
    """Write a checkpoint of ``sim`` to ``path`` atomically; returns the path."""
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
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".checkpoint", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **header, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _progress(sim) -> str:
    if _kind(sim) == "continuous":
        from ._problem import F_T
        return f"t = {float(sim.state.fst[F_T]):.6g} ({sim.n_saved} of {sim.ts.size} save times)"
    return f"step {sim.step}"


def _load(path) -> dict[str, np.ndarray]:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupted or truncated: "
                              f"{e}); delete it to start the run over") from None


def _info(z, path) -> dict:
    try:
        return {"format": int(z["format"]), "kind": str(z["kind"]), "version": str(z["version"]),
                "fingerprint": str(z["fingerprint"]), "seed": int(z["seed"]),
                "progress": str(z["progress"])}
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{os.fspath(path)}: not a thoughtfield checkpoint (missing or "
                              f"bad {e}); delete it to start the run over") from None


def read_info(path) -> dict:
    """The header of a checkpoint: ``format``, ``kind``, ``version``, ``fingerprint``,
    ``seed``, ``progress``."""
    return _info(_load(path), path)


def load_checkpoint(sim, path) -> dict:
    """Restore ``sim`` (freshly built, not yet run) from the checkpoint at ``path``.

    Raises :class:`CheckpointError` when the file is corrupted or truncated, or when it
    belongs to another run (another config, seed, thoughtfield version...).  Returns the
    checkpoint's header (see :func:`read_info`).
    """
    path = os.fspath(path)
    z = _load(path)
    info = _info(z, path)
    if info["format"] != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {info['format']}, this thoughtfield "
                              f"reads format {FORMAT}; delete it to start the run over")
    if info["version"] != _version():
        raise CheckpointError(f"{path}: written by thoughtfield {info['version']}, this is "
                              f"{_version()}; a run can only be resumed by the version that "
                              "started it (delete the checkpoint to start over)")
    kind = _kind(sim)
    if info["kind"] != kind:
        raise CheckpointError(f"{path}: a checkpoint of a {info['kind']} run cannot resume a "
                              f"{kind} run")
    if info["fingerprint"] != fingerprint(sim):
        raise CheckpointError(
            f"{path}: the checkpoint belongs to a different run (its network, model, stimuli, "
            f"solver, time span, save times, initial state or seed {info['seed']} differ from "
            f"this one's, seed {sim.seed}); resume with the same config and seed, or delete "
            "the checkpoint to start over")
    try:
        if kind == "continuous":
            _restore_continuous(sim, z, path)
        else:
            _restore_discrete(sim, z, path)
    except KeyError as e:
        raise CheckpointError(f"{path}: incomplete checkpoint (no {e}); delete it to start "
                              "the run over") from None
    sim.wall_time = float(z.get("wall_time", 0.0))
    return info


def _put(path, name, dst: np.ndarray, src: np.ndarray) -> None:
    if src.shape != dst.shape or src.dtype != dst.dtype:
        raise CheckpointError(f"{path}: {name} has shape {src.shape} {src.dtype}, the run "
                              f"needs {dst.shape} {dst.dtype}; the checkpoint does not fit "
                              "this run")
    dst[...] = src


def _restore_continuous(sim, z, path):
    from ._kernels.rhs import apply_segment
    from ._problem import I_NEXT, I_SEG
    st = sim.state
    for f in st._fields:
        _put(path, f"state.{f}", np.asarray(getattr(st, f)), z[f"state.{f}"])
    _put(path, "K0", sim._K[0], z["K0"])
    n = int(st.ist[I_NEXT])
    out = z["out"]
    if not 0 <= n <= sim.ts.size or out.shape[0] != n:
        raise CheckpointError(f"{path}: holds {out.shape[0]} saved rows but its state says "
                              f"{n}; the checkpoint is inconsistent")
    _put(path, "out", sim.out[:n], out)
    # the inputs of the current segment (and its clamps) live in the workspace
    apply_segment(sim.problem, sim.work, int(st.ist[I_SEG]), st.y)


def _restore_discrete(sim, z, path):
    _put(path, "state.a", sim.a, z["state.a"])
    _put(path, "state.ist", sim.ist, z["state.ist"])
    rows, steps = z["rows"], z["steps"]
    if rows.ndim != 2 or rows.shape[0] != steps.shape[0] or rows.shape[1] != sim.a.size:
        raise CheckpointError(f"{path}: saved rows {rows.shape} and steps {steps.shape} do "
                              "not fit this run")
    sim._rows = [rows]
    sim._steps = [steps.astype(np.int64)]


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
        self.sim = sim
        self.path = os.fspath(path)
        self.every = V.nonnegative("checkpoint_every", every)
        self.last = _time.monotonic()
        self.cost = 0.0
        self.written = 0
        self.enabled = True
        self.chunk_target = min(5.0, max(0.05, self.every / 4))
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
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
