"""One path from raw solver output to an :class:`xarray.Dataset`, and result files."""

from __future__ import annotations

import contextlib
import json
import os
import threading

import numpy as np
import xarray as xr

from .errors import ConfigError, ResourceError, ThoughtfieldError
from ._sizes import SAVE_LESS, check_disk, encoded_bytes
from ._version import __version__

#: The CF conventions version of the result files (global attribute ``Conventions``).
CONVENTIONS = "CF-1.10"

#: Attributes of the time coordinate of a continuous run: dimensionless model time, in
#: the units the time constants tau are given in.
TIME_ATTRS = {"long_name": "model time", "units": "1",
              "comment": "time is in the units the time constants tau are given in"}
#: ... of a discrete (spreadr) run: the step number.
STEP_ATTRS = {"long_name": "spreadr step", "units": "1"}
#: ... of the recorded time courses of a trial protocol: time since the trial's start.
TRIAL_TIME_ATTRS = {"long_name": "time in trial", "units": "1",
                    "comment": "time since the start of the trial, in the units the time "
                               "constants tau are given in"}

#: Numeric variables with at least this many values are compressed (zlib level
#: :data:`COMPRESSION_LEVEL` with the shuffle filter) in chunks of about
#: :data:`CHUNK_BYTES`; smaller ones are stored contiguously (a chunk index costs more
#: than compression saves on a few hundred numbers).
COMPRESS_MIN_VALUES = 512
COMPRESSION_LEVEL = 1   # measured: levels 4-9 save < 0.5 % more on activations, 2-10x slower
CHUNK_BYTES = 1 << 20

#: Networks up to this many relations are embedded in full in the result attributes.
EMBED_NETWORK_MAX_RELATIONS = 20_000


def embeds_network(network) -> bool:
    """Whether results describe ``network`` in full (its relations as JSON and as the
    ``relation_*`` coordinates) rather than by a summary."""
    return (network.n_relations <= EMBED_NETWORK_MAX_RELATIONS
            and network.n <= EMBED_NETWORK_MAX_RELATIONS)


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
        if arr is not None and arr.ndim == 1:   # numbers: kept as they are, as a list
            return list(obj)
    if isinstance(obj, (list, tuple)):
        return [compact_description(v) for v in obj]
    return obj


def _version() -> str:
    return __version__


def network_description(network) -> str:
    """JSON text describing the network: in full when small, else a summary.

    Kept with the network until it is edited (building it took most of the time of a
    short run on a 1,000-concept network, and sweeps and trial batteries ask again for
    the same network)."""
    cache = getattr(network, "_cache", None)
    if cache is not None and "description" in cache:
        return cache["description"]
    if embeds_network(network):
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
    coords, indexes = {}, {}
    _time_index(coords, indexes, np.asarray(times, dtype=np.float64))
    coords.update(_concept_coords(network, indexes))
    a_attrs = {"long_name": "activation", "units": "1"}
    if members == 1:
        data_vars = {"activation": _new_variable(("time", "concept"), act[:, :, 0], a_attrs)}
    else:
        _index(coords, indexes, "member", np.arange(M))
        data_vars = {"activation": _new_variable(("member", "time", "concept"),
                                                np.transpose(act, (2, 0, 1)), a_attrs)}
    if variables:
        data_vars.update({k: _variable(v) for k, v in variables.items()})
    if extra_coords:   # (one construction instead of a second merge; same variable order)
        for k, v in extra_coords.items():
            if isinstance(v, tuple) and len(v) >= 2 and v[0] == k and k not in coords:
                _index(coords, indexes, k, *v[1:])   # a dimension coordinate: its index
            else:
                coords[k] = _variable(v)
    coords.update({k: _variable(v) for k, v in stimulus_coords(attrs.get("stimuli")).items()})
    coords.update(relation_coords(network))
    attrs = {"Conventions": CONVENTIONS, **{k: v for k, v in attrs.items() if k != "Conventions"}}
    # the Variables and indexes are built here (the concept names' once per network), so
    # xarray neither converts nor indexes them again: a third of the cost of a small run
    return assemble_dataset(data_vars, coords, indexes, _clean_attrs(attrs))


def assemble_dataset(data_vars: dict, coords: dict, indexes: dict, attrs: dict,
                     direct: bool = True) -> xr.Dataset:
    """``xr.Dataset(data_vars, coords=xr.Coordinates(coords, indexes=indexes), attrs=attrs)``
    for :class:`xarray.Variable` values whose dimension coordinates and indexes are already
    made (:func:`_index`), without xarray's merge.

    The public constructor merges the two mappings again, copying and comparing every
    variable: 0.4 ms of a 1.5 ms ``simulate()`` call at N = 21.  Here the variables are
    checked for consistent dimension sizes and handed to ``Dataset._construct_direct``
    (the constructor xarray's own operations use) in the order the public constructor
    gives them (data variables, then coordinates).  ``direct=False``, or an xarray without
    that constructor, takes the public path; ``tests/test_result_files.py`` checks the two
    give identical Datasets."""
    construct = getattr(xr.Dataset, "_construct_direct", None) if direct else None
    if construct is None:
        return xr.Dataset(data_vars, coords=xr.Coordinates(coords, indexes=indexes), attrs=attrs)
    variables = {**data_vars, **coords}
    dims: dict = {}
    for name, var in variables.items():
        for d, size in zip(var.dims, var.shape):
            if dims.setdefault(d, size) != size:
                raise ValueError(f"result variable {name!r}: dimension {d!r} has size {size}, "
                                 f"{dims[d]} elsewhere")
    for d, index in indexes.items():
        if d not in coords or coords[d].dims != (d,):
            raise ValueError(f"result index {d!r} without its dimension coordinate")
    return construct(variables, set(coords), dims=dims, attrs=dict(attrs) if attrs else None,
                     indexes=dict(indexes))


def _variable(v) -> xr.Variable:
    """``(dims, data[, attrs])`` (or a Variable) as an :class:`xarray.Variable`."""
    return v if isinstance(v, xr.Variable) else _new_variable(*v)


def _new_variable(dims, data, attrs=None) -> xr.Variable:
    """An :class:`xarray.Variable`; a numpy array that needs no conversion (anything but
    datetimes) is taken as it is.  Without ``fastpath``, xarray's check of whether the data
    is a dask array imports ``dask.array`` (0.1-0.3 s) where dask is installed, although no
    result of this module is ever one: a :func:`~thoughtfield.simulate` call that writes no
    file then never loads dask (writing NetCDF still does, inside xarray's encoder)."""
    if type(data) is np.ndarray and data.dtype.kind not in "mM":
        return xr.Variable(dims, data, attrs, fastpath=True)
    return xr.Variable(dims, data, attrs)


def _index(coords: dict, indexes: dict, dim: str, values, attrs=None) -> None:
    """The dimension coordinate ``dim`` and its index, as xarray would make them."""
    import pandas as pd
    from xarray.indexes import PandasIndex
    index = PandasIndex(pd.Index(values), dim)
    var = index.create_variables()[dim]
    if attrs:
        var.attrs.update(attrs)
    coords[dim] = var
    indexes[dim] = index


#: The ``time`` coordinates (with their indexes) of the last few results, by their save
#: times: a loop of runs over the same span builds each once (a pandas Index and its
#: variable: 60 us of a 0.6 ms run at N = 21).  Only short time axes are kept.
_TIME_CACHE: dict = {}
_TIME_CACHE_ENTRIES = 8
_TIME_CACHE_MAX = 4096
_TIME_LOCK = threading.Lock()


def _time_index(coords: dict, indexes: dict, times: np.ndarray) -> None:
    """``_index(coords, indexes, "time", times, TIME_ATTRS)``, reusing the read-only
    coordinate and index of earlier results with the same save times (bitwise)."""
    if times.size > _TIME_CACHE_MAX:
        _index(coords, indexes, "time", times, dict(TIME_ATTRS))
        return
    key = times.tobytes()
    hit = _TIME_CACHE.get(key)
    if hit is None:
        own = times.copy()
        own.setflags(write=False)
        c, ix = {}, {}
        _index(c, ix, "time", own, dict(TIME_ATTRS))
        hit = (c["time"], ix["time"])
        with _TIME_LOCK:   # (sweep workers may be threads)
            while _TIME_CACHE and len(_TIME_CACHE) >= _TIME_CACHE_ENTRIES:
                _TIME_CACHE.pop(next(iter(_TIME_CACHE)), None)
            _TIME_CACHE[key] = hit
    coords["time"] = hit[0].copy(deep=False)   # attributes of its own
    indexes["time"] = hit[1]


def _concept_coords(network, indexes: dict) -> dict:
    """``concept`` (with its index) and ``layer`` (on a layered network), built once per
    network: the same read-only objects in every result of it."""
    cache = getattr(network, "_cache", None)
    if cache is not None and "concept_coords" in cache:
        coords, index = cache["concept_coords"]
    else:
        coords, ix = {}, {}
        names = np.array(network.concepts, dtype=object)
        names.setflags(write=False)
        _index(coords, ix, "concept", names)
        index = ix["concept"]
        if getattr(network, "layered", True):   # a network without layers: no layer labels
            layers = np.array(network.concept_layers, dtype=object)
            layers.setflags(write=False)
            coords["layer"] = _new_variable("concept", layers,
                                           {"long_name": "abstraction layer",
                                            "ladder": "|".join(network.layers)})
        if cache is not None:
            cache["concept_coords"] = (coords, index)
    indexes["concept"] = index
    return {k: v.copy(deep=False) for k, v in coords.items()}   # own attrs per result


def stimulus_coords(stimuli) -> dict:
    """The stimuli as structured coordinates on a ``stimulus`` dimension (the JSON
    attribute ``stimuli`` stays the round-trip form): ``stimulus_kind`` (pulse/clamp),
    ``stimulus_concept``, ``stimulus_start``, ``stimulus_stop`` (inf: never ends),
    ``stimulus_amplitude`` (a pulse's amplitude or a clamp's value) and, when any
    stimulus is for one ensemble member, ``stimulus_member`` (-1: every member).
    Empty for no stimuli or a form it does not know."""
    if isinstance(stimuli, str):
        try:
            stimuli = json.loads(stimuli)
        except ValueError:
            return {}
    if not isinstance(stimuli, (list, tuple)) or not stimuli:
        return {}
    if not all(isinstance(s, dict) and "concept" in s for s in stimuli):
        return {}
    import math

    def num(s, key, default):
        v = s.get(key, default)
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.nan
    dim = "stimulus"
    out = {
        "stimulus_kind": (dim, np.array([str(s.get("kind", "pulse")) for s in stimuli],
                                        dtype=object), {"long_name": "stimulus kind"}),
        "stimulus_concept": (dim, np.array([str(s["concept"]) for s in stimuli], dtype=object),
                             {"long_name": "stimulated concept"}),
        "stimulus_start": (dim, np.array([num(s, "start", 0.0) for s in stimuli]),
                           {"long_name": "stimulus start", "units": "1"}),
        "stimulus_stop": (dim, np.array([num(s, "stop", math.inf) for s in stimuli]),
                          {"long_name": "stimulus stop (inf: never ends)", "units": "1"}),
        "stimulus_amplitude": (dim, np.array(
            [num(s, "value" if s.get("kind") == "clamp" else "amplitude", math.nan)
             for s in stimuli]), {"long_name": "pulse amplitude or clamp value", "units": "1"}),
    }
    if any(s.get("member") is not None for s in stimuli):
        out["stimulus_member"] = (dim, np.array(
            [int(s["member"]) if s.get("member") is not None else -1 for s in stimuli],
            dtype=np.int64), {"long_name": "ensemble member (-1: every member)"})
    return out


#: The model's per-concept parameters stored as coordinates along ``concept``.
MODEL_COORDS = {"tau": "time constant", "gain": "gain of the transfer function",
                "threshold": "threshold of the transfer function", "bias": "constant input",
                "sigma": "noise amplitude"}


def model_coords(model, network, *, skip=()) -> dict:
    """The model's per-concept parameters as coordinates along ``concept``: ``model_tau``,
    ``model_gain``, ``model_threshold``, ``model_bias``, ``model_sigma`` (the values each
    concept gets after the ``*``, ``@layer`` and concept keys are resolved; the JSON
    attribute ``model`` stays the round-trip form).  Parameters in ``skip`` (those that
    vary over ensemble members: they are the ``NAME(member[, concept])`` coordinates)
    are left out."""
    out = {}
    for name, what in MODEL_COORDS.items():
        if name in skip:
            continue
        try:
            values = model.resolve(name, network)
        except (AttributeError, KeyError):   # a model without this parameter
            continue
        attrs = {"long_name": f"{what} of each concept"}
        if name == "tau":
            attrs["units"] = "1"
        out[f"model_{name}"] = ("concept", np.asarray(values, dtype=np.float64), attrs)
    return out


def relation_coords(network) -> dict:
    """The relations as structured coordinates on a ``relation`` dimension (the JSON
    attribute ``network`` stays the round-trip form): ``relation_source``,
    ``relation_target`` (concept names), ``relation_type``, ``relation_weight`` (the
    weight given, before the type's gain and sign) and ``relation_directed`` (1: a
    directed type, whose forward and reverse factors may differ; 0: symmetric).  Only for networks of at most
    :data:`EMBED_NETWORK_MAX_RELATIONS` relations and concepts, like the JSON form;
    larger ones (WordNet) store a summary, and a Dataset without relations has none."""
    if not hasattr(network, "relation_arrays"):
        return {}
    if network.n_relations == 0 or not embeds_network(network):
        return {}
    cache = getattr(network, "_cache", None)
    if cache is not None and "relation_coords" in cache:
        # the same read-only data every run, with attributes of its own
        return {k: v.copy(deep=False) for k, v in cache["relation_coords"].items()}
    r = network.relation_arrays()
    names = np.array(network.concepts, dtype=object)
    types = network.relation_types
    directed = np.array([0 if getattr(types.get(str(k)), "symmetric", False) else 1
                         for k in r["type"]], dtype=np.int8)
    dim = "relation"
    out = {
        "relation_source": (dim, names[r["source"]], {"long_name": "source concept"}),
        "relation_target": (dim, names[r["target"]], {"long_name": "target concept"}),
        "relation_type": (dim, np.asarray(r["type"], dtype=object),
                          {"long_name": "relation type"}),
        "relation_weight": (dim, np.asarray(r["weight"], dtype=np.float64),
                            {"long_name": "relation weight as given (before the type's gain "
                                          "and sign)", "units": "1"}),
        "relation_directed": (dim, directed, {"long_name": "1: a directed type (forward and "
                                                           "reverse factors may differ); 0: "
                                                           "symmetric"}),
    }
    # built once per network as read-only Variables: a Dataset takes them without
    # converting the string arrays again (0.4 ms of a 3 ms run of a 21-concept model)
    for key, (d, arr, at) in out.items():
        arr = np.asarray(arr)
        arr.setflags(write=False)
        out[key] = _new_variable(d, arr, at)
    if cache is not None:
        cache["relation_coords"] = out
    return {k: v.copy(deep=False) for k, v in out.items()}


def _clean_attrs(attrs: dict) -> dict:
    """NetCDF attributes must be str, numbers or 1-D arrays; dicts become JSON, bools ints."""
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool) or isinstance(v, np.bool_):
            out[k] = int(v)
        elif isinstance(v, (dict, list, tuple)):
            out[k] = attr_json(v)
        elif isinstance(v, (np.integer,)):
            out[k] = int(v)
        elif isinstance(v, (np.floating,)):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def attr_json(v) -> str:
    """The JSON text an attribute that is a dict, list or tuple is stored as."""
    return json.dumps(v, separators=(",", ":"), default=_json_default)


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def save_result(ds: xr.Dataset, path, *, overwrite: bool = False, compress: bool = True) -> str:
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

    Numeric variables of :data:`COMPRESS_MIN_VALUES` values or more are compressed
    (zlib with the shuffle filter, chunks of about 1 MiB that keep whole time courses:
    one run's or one member's ``(time, concept)`` block is split only when it alone is
    larger) unless ``compress=False``; any NetCDF-4 reader decompresses them.
    The file carries ``Conventions = "CF-1.10"``, and an absolute ``config_path``
    attribute is stored relative to the result file's folder (so the same config run in
    a copied folder gives the same bytes).
    """
    from ._files import OutputLock
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a folder; give a file name")
    with OutputLock(path):
        if os.path.exists(path) and not overwrite:
            raise ConfigError(f"{path}: exists; pass overwrite=True (or --force) to replace it")
        _check_attrs(ds, path)
        check_disk(path, encoded_bytes(ds), "the result file")
        _write_netcdf(file_dataset(ds, path), path, compress=compress)
    return path


def file_dataset(ds: xr.Dataset, path) -> xr.Dataset:
    """``ds`` as it is written to ``path`` (a shallow copy): ``Conventions`` first among
    the attributes, and an absolute ``config_path`` made relative to the file's folder."""
    attrs = {"Conventions": CONVENTIONS}
    attrs.update((k, v) for k, v in ds.attrs.items() if k != "Conventions")
    cp = attrs.get("config_path")
    if isinstance(cp, str) and os.path.isabs(cp):
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        with contextlib.suppress(ValueError):   # another drive (Windows): kept absolute
            attrs["config_path"] = os.path.relpath(cp, folder).replace(os.sep, "/")
    out = ds.copy(deep=False)
    out.attrs = attrs
    for var in out.variables.values():   # how a file read back was stored does not matter:
        var.encoding = {}                # the same data is written the same way
    return out


def config_path_of(ds: xr.Dataset, result_path) -> str | None:
    """The absolute path of the config a result file was run from (its ``config_path``
    attribute is relative to the result file's folder), or None."""
    cp = ds.attrs.get("config_path")
    if not isinstance(cp, str) or not cp:
        return None
    folder = os.path.dirname(os.path.abspath(os.fspath(result_path)))
    return os.path.normpath(os.path.join(folder, cp))


def chunk_sizes(shape, itemsize: int, target: int = CHUNK_BYTES) -> tuple:
    """Chunks of about ``target`` bytes: the trailing dimensions whole (a point's or a
    member's time course stays together), the leading ones cut down to fit."""
    chunks = list(shape)
    size = itemsize
    for k in range(len(shape) - 1, -1, -1):
        if size * shape[k] <= target:
            size *= shape[k]
            continue
        chunks[k] = max(1, target // size)
        for j in range(k):
            chunks[j] = 1
        break
    return tuple(int(max(1, c)) for c in chunks)


def _encoding(ds: xr.Dataset, compress: bool) -> dict:
    enc = {}
    for name, var in ds.variables.items():
        if var.dtype == object:
            enc[name] = {"dtype": str}
        elif (compress and var.dtype.kind in "fiub" and var.size >= COMPRESS_MIN_VALUES
              and 0 not in var.shape):
            enc[name] = {"zlib": True, "complevel": COMPRESSION_LEVEL, "shuffle": True,
                         "chunksizes": chunk_sizes(var.shape, var.dtype.itemsize)}
    return enc


def _write_netcdf(ds: xr.Dataset, path: str, compress: bool = True) -> None:
    from ._files import make_temp, remove_quietly, replace_durably
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = make_temp(path, ".nc")
    except OSError as e:
        raise ConfigError(f"{path}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    try:
        _to_netcdf(ds, tmp, _encoding(ds, compress))
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
                                    f"space or {SAVE_LESS}, or use fewer members") from None
            reason = os.strerror(code) if code else str(e).splitlines()[0][:200]
            raise ConfigError(f"{path}: cannot write the result ({reason})") from None
        raise


def _to_netcdf(ds: xr.Dataset, tmp: str, encoding: dict) -> None:
    """``ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)`` without HDF5's chunk
    cache: every compressed chunk is written while its variable is written, so a write
    that fails (a full disk) raises there.  With the cache, chunks were flushed when
    h5py released a dataset, where the failure is swallowed and the next HDF5 call
    crashed the process (a segmentation fault)."""
    import h5netcdf
    from xarray.backends import H5NetCDFStore
    if any(v.chunks is not None for v in ds.variables.values()):
        # dask-backed data (xr.open_dataset(..., chunks=...), .chunk()): computed here,
        # into a copy -- dump_to_store would only queue it, and the file would hold fill
        # values
        ds = ds.copy(deep=False).load()
    f = h5netcdf.File(tmp, "w", invalid_netcdf=False, rdcc_nbytes=0)
    store = H5NetCDFStore(f, mode="w")
    try:
        with _no_dask_probe():
            ds.dump_to_store(store, encoding=encoding)
    finally:
        store.close()


@contextlib.contextmanager
def _no_dask_probe():
    """While a Dataset is written in a process that has not imported dask, xarray's
    encoders are told dask is absent instead of importing ``dask.array`` (and ``dask.base``)
    to ask whether a variable is a dask array (``-X importtime``: dask 50 ms, dask.array
    80 ms of a 1.5 s command-line run of the quickstart, where dask is installed).  Without
    dask imported no variable can be one.  xarray's answers are withdrawn afterwards, so
    later uses in the process find dask as before."""
    import sys
    cache = None
    if "dask" not in sys.modules:
        try:
            from xarray.namedarray import pycompat, utils
            cache = pycompat._cached_duck_array_modules
            absent = object.__new__(pycompat.DuckArrayModule)
            absent.module, absent.type, absent.available = None, (), False
            absent.version = pycompat.Version("0.0.0")
            probe = utils.is_dask_collection
        except (ImportError, AttributeError, TypeError):   # another xarray: probe as usual
            cache = None
    if cache is None or "dask" in cache:
        yield
        return

    def is_dask_collection(x):   # (imports dask.base to ask, where dask is installed)
        return "dask" in sys.modules and probe(x)
    cache["dask"] = absent
    utils.is_dask_collection = is_dask_collection
    try:
        yield
    finally:
        if cache.get("dask") is absent:
            del cache["dask"]
        if utils.is_dask_collection is is_dask_collection:
            utils.is_dask_collection = probe


def _check_attrs(ds: xr.Dataset, path) -> None:
    """NetCDF attributes are text, numbers or 1-D arrays of them: anything else is an
    error naming the attribute (xarray's own check is skipped by the writer above)."""
    def ok(v) -> bool:
        if isinstance(v, (str, bytes, int, float, np.number)):
            return True
        if isinstance(v, np.ndarray):
            return v.ndim <= 1 and v.dtype.kind in "biufSU"
        if isinstance(v, (list, tuple)):
            return all(isinstance(x, (str, bytes, int, float, np.number)) for x in v)
        return False
    places = [("", ds.attrs)] + [(f"{name}.", v.attrs) for name, v in ds.variables.items()]
    for where, attrs in places:
        for key, value in attrs.items():
            if not isinstance(key, str) or not key:
                raise ConfigError(f"{path}: attribute name {key!r} of {where or 'the result'} "
                                  "must be a non-empty string")
            if not ok(value):
                raise ConfigError(f"{path}: attribute {where}{key} = {type(value).__name__} "
                                  "cannot be stored in NetCDF (attributes are text, numbers "
                                  "or 1-D arrays of them); convert it or delete it")


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
        try:   # (a weak proxy whose object is gone raises ReferenceError on any access)
            if not isinstance(obj, h5netcdf.File) or getattr(obj, "_closed", True):
                continue
            name = os.path.abspath(obj._filename)
        except (AttributeError, TypeError, ReferenceError):
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
