"""One path from raw solver output to an :class:`xarray.Dataset`, and result files."""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import xarray as xr

from .errors import ConfigError, ResourceError, ThoughtfieldError

#: Networks up to this many relations are embedded in full in the result attributes.
EMBED_NETWORK_MAX_RELATIONS = 20_000


#: Numeric lists longer than this (per-concept initial states, taus, biases, stored patterns)
#: are summarised in the ``model`` attribute rather than written out: encoding 1e6 floats as
#: JSON text took about 1 s per run -- a third of a whole run at N = 1e6 -- and put ~20 MB of
#: text into the file's attributes.
EMBED_ARRAY_MAX = 1_000


def compact_description(obj):
    """``obj`` (a ``to_dict()`` description) with every long numeric list replaced by
    ``{"summarised": n, "shape", "min", "max", "mean", "sha256"}`` -- the SHA-256 of the
    values as little-endian float64 bytes, so a user can check an array they hold against
    the run.  Short lists, strings and mappings are kept as they are."""
    if isinstance(obj, dict):
        return {k: compact_description(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray) or (isinstance(obj, (list, tuple)) and len(obj) > 8):
        try:
            arr = np.asarray(obj, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.size > EMBED_ARRAY_MAX:
            import hashlib
            fin = arr[np.isfinite(arr)]
            return {"summarised": int(arr.size), "shape": list(arr.shape),
                    "min": float(fin.min()) if fin.size else None,
                    "max": float(fin.max()) if fin.size else None,
                    "mean": float(fin.mean()) if fin.size else None,
                    "sha256": hashlib.sha256(np.ascontiguousarray(arr, "<f8").tobytes()).hexdigest()}
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [compact_description(v) for v in obj]
    return obj


def _version() -> str:
    from . import __version__
    return __version__


def network_description(network) -> str:
    """JSON text describing the network: in full when small, else a summary.

    Kept with the network until it is edited (building it took most of the time of a
    short run on a 1,000-concept network, and sweeps and trial batteries ask again for
    the same network)."""
    cache = getattr(network, "_cache", None)
    if cache is not None and "description" in cache:
        return cache["description"]
    if network.n_relations <= EMBED_NETWORK_MAX_RELATIONS and network.n <= EMBED_NETWORK_MAX_RELATIONS:
        text = json.dumps(network.to_dict(), separators=(",", ":"))
    else:
        text = json.dumps({"summary": network.summary(),
                           "layers": list(network.layers) if network.layered else []})
    if cache is not None:
        cache["description"] = text
    return text


def make_dataset(times: np.ndarray, act: np.ndarray, network, *, members: int,
                 attrs: dict, variables: dict | None = None,
                 extra_coords: dict | None = None) -> xr.Dataset:
    """Assemble the result.

    ``act`` has shape ``(T, N, M)``.  Without an ensemble (``members == 1``) the member
    dimension is dropped: ``activation(time, concept)``; otherwise
    ``activation(member, time, concept)``.
    """
    T, N, M = act.shape
    coords = {
        "time": ("time", np.asarray(times, dtype=np.float64),
                 {"long_name": "time", "units": "model time units (same unit as tau)"}),
        "concept": ("concept", np.array(network.concepts, dtype=object)),
    }
    if getattr(network, "layered", True):   # a network without layers: no layer labels
        coords["layer"] = ("concept", np.array(network.concept_layers, dtype=object),
                           {"long_name": "abstraction layer", "ladder": "|".join(network.layers)})
    a_attrs = {"long_name": "activation", "units": "1"}
    if members == 1:
        data_vars = {"activation": (("time", "concept"), act[:, :, 0], a_attrs)}
    else:
        coords["member"] = ("member", np.arange(M))
        data_vars = {"activation": (("member", "time", "concept"), np.transpose(act, (2, 0, 1)),
                                    a_attrs)}
    if variables:
        data_vars.update(variables)
    if extra_coords:   # (one construction instead of a second merge; same variable order)
        coords.update(extra_coords)
    return xr.Dataset(data_vars, coords=coords, attrs=_clean_attrs(attrs))


def _clean_attrs(attrs: dict) -> dict:
    """NetCDF attributes must be str, numbers or 1-D arrays; dicts become JSON, bools ints."""
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool) or isinstance(v, np.bool_):
            out[k] = int(v)
        elif isinstance(v, (dict, list, tuple)):
            out[k] = json.dumps(v, separators=(",", ":"), default=_json_default)
        elif isinstance(v, (np.integer,)):
            out[k] = int(v)
        elif isinstance(v, (np.floating,)):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def save_result(ds: xr.Dataset, path, *, overwrite: bool = False) -> str:
    """Write ``ds`` to NetCDF4 (h5netcdf) atomically and durably: a temporary file in the
    same folder (``.tmp-NAME-*.nc``) is written, flushed to the disk and renamed into
    place, then the folder is flushed; the target is either the old file or the complete
    new one, and the new one survives a crash once this returns.

    The output is locked while it is written (``NAME.lock``, see
    :class:`thoughtfield._files.OutputLock`): another process writing the same file is
    refused.  The same Dataset always gives the same bytes (no time stamps are stored).  A
    result that would not fit on the disk is refused before writing, and a disk that fills
    up while writing is reported (:class:`~thoughtfield.ResourceError`; the temporary file
    is removed, an old result is left as it was); other write failures become a
    :class:`~thoughtfield.ConfigError` naming the file.
    """
    from ._files import OutputLock
    from .resources import check_disk, encoded_bytes
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a folder; give a file name")
    with OutputLock(path):
        if os.path.exists(path) and not overwrite:
            raise ConfigError(f"{path}: exists; pass overwrite=True (or --force) to replace it")
        check_disk(path, encoded_bytes(ds), "the result file")
        _write_netcdf(ds, path)
    return path


def _write_netcdf(ds: xr.Dataset, path: str) -> None:
    from ._files import make_temp, remove_quietly, replace_durably
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = make_temp(path, ".nc")
    except OSError as e:
        raise ConfigError(f"{path}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    try:
        enc = {}
        for name, var in ds.variables.items():
            if var.dtype == object:
                enc[name] = {"dtype": str}
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=enc)
        with open(tmp, "rb+") as f:   # on the disk before it replaces the old file
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        replace_durably(tmp, path)
    except BaseException as e:
        _forget_broken_files(tmp)
        remove_quietly(tmp)
        if isinstance(e, OSError):
            import errno
            code = e.errno
            if code is None:   # h5py reports the errno inside its message
                text = str(e)
                code = next((c for c in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
                             if f"errno = {c}," in text), None)
            if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise ResourceError(f"{path}: the disk is full ({os.strerror(code)}); free "
                                    "space or save less often (save_dt / save_every, fewer "
                                    "members)") from None
            reason = os.strerror(code) if code else str(e).splitlines()[0][:200]
            raise ConfigError(f"{path}: cannot write the result ({reason})") from None
        raise


def _forget_broken_files(tmp: str) -> None:
    """After a failed write, mark the h5netcdf file objects of ``tmp`` closed.  When HDF5
    could not close the file (a full disk), h5netcdf's finaliser would flush it again later
    -- a segmentation fault at the next garbage collection or at exit."""
    import gc
    try:
        import h5netcdf
    except ImportError:   # pragma: no cover - h5netcdf is a dependency
        return
    target = os.path.abspath(tmp)
    for obj in gc.get_objects():
        if isinstance(obj, h5netcdf.File) and not getattr(obj, "_closed", True):
            try:
                name = os.path.abspath(obj._filename)
            except (AttributeError, TypeError):
                continue
            if name == target:
                obj._closed = True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_result(path) -> xr.Dataset:
    """Read a result written by :func:`save_result` (fully into memory)."""
    from ._inputs import check_declared, check_regular, check_result, printable
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: result file not found")
    check_regular(path)   # never a device or a FIFO
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            check_declared(ds, path)   # before allocating what the file declares
            ds = ds.load()
    except ThoughtfieldError:
        raise
    except MemoryError:
        raise ResourceError(f"{path}: not enough memory to read the result") from None
    except Exception as e:   # a foreign or damaged file: h5py/xarray raise many types
        msg = printable(str(e) or type(e).__name__)
        msg = msg if len(msg) <= 200 else msg[:197] + "..."
        raise ConfigError(f"{path}: not a readable NetCDF result ({msg})") from None
    check_result(ds, path)
    return ds


def description(ds: xr.Dataset, key: str):
    """Decode a JSON attribute (``network``, ``model``, ``stimuli``, ``solver``...); a
    damaged attribute is a :class:`ConfigError` naming it."""
    v = ds.attrs.get(key)
    if not isinstance(v, str):
        return v
    from ._inputs import check_depth
    try:
        d = json.loads(v)
    except (ValueError, RecursionError) as e:
        what = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise ConfigError(f"result attribute {key!r}: not valid JSON ({what}); the file is "
                          "damaged or was not written by thoughtfield") from None
    check_depth(d, f"result attribute {key!r}")
    return d
