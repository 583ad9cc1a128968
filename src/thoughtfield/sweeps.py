"""Parameter sweeps: run a config over grids and lists of parameter values.

Any numeric config value can be swept, addressed by the same key path as ``--set``:
``model.gain``, ``model.tau.sun``, ``stimuli[0].amplitude``, ``solver.rtol``,
``network.relation_types.contradicts.gain``, ``network.relations[3][3]`` (a weight)...

- **grid**: every parameter is a dimension of its own; the points are the product.
- **zip**: parameters listed together share one dimension (equal lengths).

Each point runs the whole config (an ensemble when ``[run] members > 1``); the result is
one Dataset ``activation(<sweep dims>..., member, time, concept)`` whose coordinates hold
the parameter values, plus per-point ``seed``, ``status`` and solver statistics.

Seeds: point ``p`` (row-major index over the sweep dimensions) runs with the seed
``point_seed(seed, p)``; member ``m`` of it then draws from ``SeedSequence([point seed,
m])``.  Every number therefore depends only on (base seed, point, member) -- never on
how points were grouped into tasks or which worker ran them -- and a single point can be
re-run alone: :func:`point_config` (or ``thoughtfield sweep CONFIG --point P``) gives
its config -- the config without ``[sweep]``, with the point's values and seed (the
``seed`` variable of the result).

Execution (:mod:`thoughtfield.distributed`): in-process, on an embedded dask
``LocalCluster``, or on an existing dask cluster; finished points are written to
``<out>.parts/`` as they arrive so an interrupted sweep can be resumed.

Python::

    ds = tf.sweep("choice.toml", grid={"stimuli[0].amplitude": [0.0, 0.1, 0.2],
                                       "model.sigma": [0.1, 0.2]})

Config::

    [sweep.grid]
    "stimuli[0].amplitude" = [0.0, 0.1, 0.2]
    "model.sigma" = { start = 0.1, stop = 0.3, num = 3 }

    [sweep.zip.pair]                 # one dimension "pair" shared by both parameters
    "model.gain" = [4.0, 6.0, 8.0]
    "model.threshold" = [0.4, 0.5, 0.6]
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from numbers import Integral, Real as _Real

import numpy as np

from . import _toml
from . import _validate as V
# the description of a sweep (its names are this module's public ones too)
from ._sweep import (Dimension, Parameter, Readout, Sweep, _base_data, _fmt,  # noqa: F401
                     _save_grid, point_seed, sweep_hash)
from .errors import ConfigError

#: Names a sweep dimension may not take (they are dimensions or variables of the result).
RESERVED = ("time", "concept", "member", "layer", "point", "activation", "seed", "status",
            "n_steps", "n_rhs", "n_accepted", "n_rejected", "option")
#: Config keys that cannot be swept, with the reason.
NOT_SWEEPABLE = {
    "seed": "every point gets its own seed derived from (seed, point); for repeated noisy "
            "trials use [run] members",
    "run.members": "members is a dimension of its own; set [run] members instead",
    "run.threads": "the number of threads does not change results",
}
#: Readout kinds (see :func:`readout`).
READOUTS = {
    "final": "activation at the end of the run (mean and sd over members)",
    "peak": "largest activation over the run (mean and sd over members)",
    "crossing": "first time each concept reaches the threshold: probability and mean time",
    "choice": "which of the concepts reaches the threshold first: probability of each and "
              "the mean response time",
}


# ----------------------------------------------------------------- value lists
def _number(key, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (_Real, np.integer, np.floating)):
        raise ConfigError(f"{key}: must be a number (got {v!r}); sweeps vary numeric values",
                          key=key)
    if isinstance(v, (Integral, np.integer)):
        return int(v)
    x = float(v)
    if not math.isfinite(x):
        raise ConfigError(f"{key}: must be finite (got {v!r})", key=key)
    return x


def parse_values(key: str, spec, *, allow_dim: bool = True) -> tuple[tuple, str | None]:
    """Normalise a value list: an array of numbers, or a table ``{values = [...]}`` or
    ``{start, stop, num, log = false}`` (evenly spaced, both ends included), optionally
    with ``dim`` naming the dimension.  Returns ``(values, dim)``."""
    dim = None
    if isinstance(spec, Mapping):
        allowed = ["values", "start", "stop", "num", "log"] + (["dim"] if allow_dim else [])
        for k in spec:
            if k not in allowed:
                raise ConfigError(f"{key}.{k}: unknown key {str(k)!r}" + V.did_you_mean(str(k), allowed)
                                  + f"; a value list has {', '.join(allowed)}", key=f"{key}.{k}")
        if "dim" in spec:
            dim = V.name(f"{key}.dim", spec["dim"])
        if "values" in spec:
            extra = [k for k in ("start", "stop", "num", "log") if k in spec]
            if extra:
                raise ConfigError(f"{key}.{extra[0]}: give either values = [...] or start/stop/num",
                                  key=f"{key}.{extra[0]}")
            return parse_values(key + ".values", spec["values"], allow_dim=False)[0], dim
        missing = [k for k in ("start", "stop", "num") if k not in spec]
        if missing:
            raise ConfigError(f"{key}.{missing[0]}: missing; give values = [...] or start, stop "
                              f"and num", key=f"{key}.{missing[0]}")
        start = V.real(f"{key}.start", spec["start"])
        stop = V.real(f"{key}.stop", spec["stop"])
        num = V.integer(f"{key}.num", spec["num"], min=1, max=10_000_000)
        log = V.boolean(f"{key}.log", spec.get("log", False))
        if log:
            if start <= 0 or stop <= 0:
                raise ConfigError(f"{key}: log spacing needs start > 0 and stop > 0 (got "
                                  f"{start:g} .. {stop:g})", key=key)
            vals = np.geomspace(start, stop, num)
        else:
            vals = np.linspace(start, stop, num)
        return tuple(float(x) for x in vals), dim
    if isinstance(spec, np.ndarray):
        if spec.ndim != 1:
            raise ConfigError(f"{key}: must be a one-dimensional list of numbers (got shape {spec.shape})",
                              key=key)
        spec = spec.tolist()
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise ConfigError(f"{key}: must be an array of numbers or a table with values / "
                          f"start, stop, num (got {spec!r})", key=key)
    if len(spec) == 0:
        raise ConfigError(f"{key}: the list of values is empty; give at least one value", key=key)
    return tuple(_number(f"{key}[{i}]", v) for i, v in enumerate(spec)), dim


def _qkey(prefix: str, path: str) -> str:
    return f'{prefix}."{path}"'


def make_sweep(grid=None, zip=None, *, chunk=None, workers=None, scheduler=None,
               on_error="stop", readout=None, prefix: str = "sweep") -> Sweep:
    """Build a :class:`Sweep` from plain data (the ``[sweep]`` table or Python arguments).

    ``grid``: ``{path: values}``; ``zip``: ``{dim: {path: values}}`` (or a list of
    ``{path: values}`` mappings, named ``zip0``, ``zip1``, ...).  Values: an array of
    numbers or ``{start, stop, num[, log]}`` / ``{values}``; grid entries may add ``dim``.
    Paths are checked against a config by :func:`check_sweep`.
    """
    dims = []
    if grid is not None:
        if not isinstance(grid, Mapping):
            raise ConfigError(f"{prefix}.grid: must be a table of KEY.PATH = [values] (got "
                              f"{type(grid).__name__})", key=f"{prefix}.grid")
        for path, spec in grid.items():
            path = _path(f"{prefix}.grid", path)
            vals, dim = parse_values(_qkey(f"{prefix}.grid", path), spec)
            dims.append(Dimension(dim or path, (Parameter(path, vals),)))
    if zip is not None:
        groups = zip
        if isinstance(zip, (list, tuple)):
            groups = {f"zip{i}": g for i, g in enumerate(zip)}
        if not isinstance(groups, Mapping):
            raise ConfigError(f"{prefix}.zip: must be a table of DIM = {{ KEY.PATH = [values] }} "
                              f"(got {type(zip).__name__})", key=f"{prefix}.zip")
        for name, params in groups.items():
            name = V.name(f"{prefix}.zip", name)
            key = f"{prefix}.zip.{name}"
            if not isinstance(params, Mapping) or not params:
                raise ConfigError(f"{key}: must be a non-empty table of KEY.PATH = [values] "
                                  f"sharing the dimension {name!r}", key=key)
            ps = []
            for path, spec in params.items():
                path = _path(key, path)
                vals, _ = parse_values(_qkey(key, path), spec, allow_dim=False)
                ps.append(Parameter(path, vals))
            n0 = len(ps[0].values)
            for q in ps[1:]:
                if len(q.values) != n0:
                    raise ConfigError(f"{_qkey(key, q.path)}: has {len(q.values)} values but "
                                      f"{ps[0].path!r} has {n0}; zipped parameters share one "
                                      f"dimension and need the same number of values",
                                      key=_qkey(key, q.path))
            dims.append(Dimension(name, tuple(ps), zipped=True))
    seen_paths: dict[str, str] = {}
    seen_dims: set[str] = set()
    for d in dims:
        for q in d.params:
            norm = _toml_path(_toml.split_path(q.path))
            if norm in NOT_SWEEPABLE:
                key = _qkey(f"{prefix}.zip.{d.name}" if d.zipped else f"{prefix}.grid", q.path)
                raise ConfigError(f"{key}: {norm} cannot be swept: {NOT_SWEEPABLE[norm]}", key=key)
        if d.name in RESERVED:
            raise ConfigError(f"{prefix}: dimension name {d.name!r} is reserved (the result has "
                              f"a {d.name!r} already); choose another dim name", key=prefix)
        if d.name in seen_dims:
            raise ConfigError(f"{prefix}: two dimensions are named {d.name!r}; give each its own dim",
                              key=prefix)
        seen_dims.add(d.name)
        for q in d.params:
            if q.path in seen_paths:
                raise ConfigError(f"{prefix}: {q.path!r} is swept twice (in {seen_paths[q.path]} "
                                  f"and {d.name}); sweep each parameter once", key=prefix)
            seen_paths[q.path] = d.name
    if chunk is not None:
        chunk = V.integer(f"{prefix}.chunk", chunk, min=1)
    if workers is not None:
        workers = V.integer(f"{prefix}.workers", workers, min=1)
    if scheduler is not None:
        scheduler = _scheduler(scheduler)
    on_error = V.choice(f"{prefix}.on_error", on_error, ("stop", "record"))
    ro = None
    if readout is not None:
        ro = readout if isinstance(readout, Readout) else _readout(f"{prefix}.readout", readout)
    return Sweep(tuple(dims), chunk=chunk, workers=workers, scheduler=scheduler,
                 on_error=on_error, readout=ro)


def _scheduler(value) -> str:
    """The checked address of a scheduler given by the caller (an address, a dask Client
    or cluster) -- never read from a config (see :mod:`thoughtfield.distributed`)."""
    from .distributed import scheduler_address
    if not isinstance(value, str):
        value = _client_address(value)
    return scheduler_address(value, "scheduler")


def _client_address(obj) -> str:
    addr = getattr(obj, "scheduler_address", None) or getattr(getattr(obj, "scheduler", None),
                                                              "address", None)
    if not isinstance(addr, str):
        raise ConfigError(f"scheduler: expected an address like 'tcp://host:8786', a "
                          f"dask.distributed Client or a cluster (got {type(obj).__name__})",
                          key='scheduler')
    return addr


def _path(key, path):
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{key}: parameter keys must be key paths like \"model.gain\" (got {path!r})",
                          key=key)
    return path.strip()


def _readout(key, d) -> Readout:
    if not isinstance(d, Mapping):
        raise ConfigError(f"{key}: must be a table with kind, concepts, threshold (got {d!r})",
                          key=key)
    allowed = ("kind", "concepts", "threshold")
    for k in d:
        if k not in allowed:
            raise ConfigError(f"{key}.{k}: unknown key {str(k)!r}" + V.did_you_mean(str(k), allowed),
                              key=f"{key}.{k}")
    kind = V.choice(f"{key}.kind", d.get("kind", "final"), READOUTS)
    concepts = d.get("concepts", [])
    if isinstance(concepts, str):
        concepts = [concepts]
    if not isinstance(concepts, (list, tuple)):
        raise ConfigError(f"{key}.concepts: must be an array of concept names (got {concepts!r})",
                          key=f"{key}.concepts")
    concepts = tuple(V.name(f"{key}.concepts[{i}]", c) for i, c in enumerate(concepts))
    if kind == "choice" and len(concepts) < 2:
        raise ConfigError(f"{key}.concepts: a choice readout needs at least two competing "
                          f"concepts (got {len(concepts)})", key=f"{key}.concepts")
    thr = V.real(f"{key}.threshold", d.get("threshold", 0.5))
    return Readout(kind, concepts, thr)


# ----------------------------------------------------------------- checks against a config
def _numeric_kind(kind) -> bool:
    from ._schema import AnyValue, Int, OneOf, Real
    if isinstance(kind, (Real, Int, AnyValue)):
        return True
    if isinstance(kind, OneOf):
        return any(_numeric_kind(k) for _, k in kind.alternatives)
    return False


def _load_point(base: dict, values: Mapping, *, base_dir, network_data, network, path=None):
    """Load the config ``base`` with ``values`` applied (plain errors, no file location)."""
    from .config import _apply_override, _load_data
    raw = copy.deepcopy(base)
    for p, v in values.items():
        _apply_override(raw, p, v, p)
    return _load_data(raw, text=None, path=path, base_dir=base_dir,
                      reuse={"network": (network_data, network)})


def _dim_key(d: Dimension, q: Parameter) -> str:
    return _qkey("sweep.zip." + d.name if d.zipped else "sweep.grid", q.path)


def check_sweep(sweep: Sweep, data: Mapping, network, base_dir) -> None:
    """Check every parameter path against the schema and every value against the config
    (each value of each dimension is applied alone and the config validated)."""
    from ._toml import split_path
    from .config import _override_kinds
    for d in sweep.dims:
        for q in d.params:
            key = _dim_key(d, q)
            parts = split_path(q.path)
            if not parts or not isinstance(parts[0], str):
                raise ConfigError(f"{key}: not a key path (write it like --set keys, e.g. "
                                  f"\"model.gain\" or \"stimuli[0].amplitude\")", key=key)
            if parts[0] in ("sweep", "output", "title", "description"):
                raise ConfigError(f"{key}: [{parts[0]}] settings cannot be swept (they do not "
                                  f"change the dynamics)", key=key)
            try:
                kinds = _override_kinds(parts, key)
            except ConfigError as e:
                raise e from None
            if not _numeric_kind(kinds[-1]):
                raise ConfigError(f"{key}: {q.path} is a {kinds[-1].describe()}, not a number; "
                                  f"sweeps vary numeric values (run one sweep per setting)",
                                  key=key)
    base = _base_data(data)
    if (base.get("solver") or {}).get("steady_tol") is not None:
        raise ConfigError("solver.steady_tol: a sweep needs the same saved times at every point "
                          "but steady_tol stops each point at its own time; remove it",
                          key='solver.steady_tol')
    net_data = base.get("network")
    ref_times = None
    for d in sweep.dims:
        for j in range(d.size):
            values = {q.path: q.values[j] for q in d.params}
            try:
                pcfg = _load_point(base, values, base_dir=base_dir, network_data=net_data,
                                   network=network)
            except ConfigError as e:
                what = ", ".join(f"{p} = {_fmt(v)}" for p, v in values.items())
                at = f"{_dim_key(d, d.params[0])}[{j}]"
                raise e.at(f"{at}: with {what}").within(key=at) from None
            if any(q.path.startswith(("run.", "solver.")) for q in d.params):
                if ref_times is None:
                    ref_times = _save_grid(_load_point(base, {}, base_dir=base_dir,
                                                       network_data=net_data, network=network))
                ts = _save_grid(pcfg)
                if ts is not None and ref_times is not None and (
                        ts.shape != ref_times.shape or not np.array_equal(ts, ref_times)):
                    raise ConfigError(
                        f"{_dim_key(d, d.params[0])}[{j}]: changes the saved times "
                        f"({ts.size} instead of {ref_times.size} points over "
                        f"{ts[0]:g} .. {ts[-1]:g}); every point of a sweep must save at the "
                        f"same times -- use [run] save_at or save_dt rather than save_every, "
                        f"and keep t0 and t_end fixed", key=f"{_dim_key(d, d.params[0])}[{j}]")


def _toml_path(parts) -> str:
    out = ""
    for p in parts:
        out = _toml.join_path(out, p)
    return out


# ===================================================================== [sweep] section
def _register_section():
    from ._schema import AnyValue, Choice, Field, Int, Kind, ListOf, MapOf, Real, Section, Str, Struct
    from .config import register_section

    class _Values(Kind):
        def __init__(self, allow_dim):
            self.allow_dim = allow_dim

        def describe(self):
            return "array of numbers, or a table {start, stop, num, log}" + (
                " (+ dim)" if self.allow_dim else "")

        def check(self, key, value):
            vals, dim = parse_values(key, value, allow_dim=self.allow_dim)
            if isinstance(value, Mapping):
                out = {"values": list(vals)}
                if dim is not None:
                    out["dim"] = dim
                return out
            return list(vals)

        def child(self, key, segment):
            return AnyValue()

    class _Params(MapOf):
        """``KEY.PATH = values``; messages quote the path: ``sweep.grid."model.gain"[1]``."""

        def check(self, key, value):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key}: must be a table of \"KEY.PATH\" = [values] (got "
                                  f"{type(value).__name__})", key=key)
            return {k: self.value.check(_qkey(key, k), v) for k, v in value.items()}

    def zip_check(key, value):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: must be a table of DIM = {{ \"KEY.PATH\" = [values] }}",
                              key=key)
        return {name: _Params(_Values(False)).check(f"{key}.{name}", v) for name, v in value.items()}

    class _Zip(MapOf):
        def check(self, key, value):
            return zip_check(key, value)

    def _struct_validate(d, key):
        if not d.get("grid") and not d.get("zip"):
            raise ConfigError("sweep: no parameters; add [sweep.grid] \"KEY.PATH\" = [values] "
                              "(e.g. \"model.gain\" = [2.0, 4.0]) or [sweep.zip.NAME]", key='sweep')
        make_sweep(d.get("grid"), d.get("zip"), readout=d.get("readout"))  # names, lengths
        return d

    readout = Struct({
        "kind": Field(Choice(list(READOUTS)), "final", "What to report per point: "
                      + "; ".join(f"`{k}` {v}" for k, v in READOUTS.items()) + "."),
        "concepts": Field(ListOf(Str(name=True), min_len=1, unique=True), None, "Concepts to report (`choice`: the competing "
                          "options).", default_doc="the most active concept"),
        "threshold": Field(Real(), 0.5, "Threshold of `crossing` and `choice`.",
                           unit="activation"),
    })
    class _SweepStruct(Struct):
        """The [sweep] table; ``scheduler`` gets its own message: a config may not send a
        sweep to a machine (dask trusts its scheduler, which can run code here)."""

        def unknown(self, key, k):
            if str(k) == "scheduler":
                return ConfigError(
                    f"{_toml.join_path(key, 'scheduler') if key else 'sweep.scheduler'}: a "
                    f"config may not choose a dask scheduler (dask trusts its scheduler, so a "
                    f"shared config could run code on this machine); remove the key and pass "
                    f"--scheduler ADDRESS to 'thoughtfield sweep' or set THOUGHTFIELD_SCHEDULER",
                    key=_toml.join_path(key, 'scheduler') if key else 'sweep.scheduler')
            return super().unknown(key, k)

    struct = _SweepStruct({
        "grid": Field(_Params(_Values(True), key_doc='"KEY.PATH"'), None,
                      'Parameters varied independently (one dimension each, all combinations): '
                      '`"model.gain" = [2.0, 4.0]`, `"model.sigma" = { start = 0.0, stop = 0.3, '
                      'num = 4 }` (`log = true` for geometric spacing; `dim = "name"` renames the '
                      'dimension). Keys are the paths of `--set`.'),
        "zip": Field(_Zip(_Params(_Values(False), key_doc='"KEY.PATH"'), key_doc="DIM"), None,
                     "Parameters varied together: `[sweep.zip.NAME]` lists paths with equal "
                     "numbers of values that share the dimension NAME."),
        "chunk": Field(Int(min=1, max=10_000_000), None, "Points per task (and per part file).",
                       default_doc="automatic"),
        "workers": Field(Int(min=1, max=4096), None, "Worker processes of an embedded dask "
                         "LocalCluster (1 = in this process).",
                         default_doc="in-process for short sweeps, else one per CPU"),
        "on_error": Field(Choice(["stop", "record"]), "stop", "A point whose run fails: "
                          "`stop` the sweep, or `record` its status (activations NaN after the "
                          "failure) and go on."),
        "readout": Field(readout, None, "What the summary and the `sweep` plot show per point."),
    }, validate=_struct_validate)

    def build(d, ctx):
        if d is None:
            return None
        return make_sweep(d.get("grid"), d.get("zip"), chunk=d.get("chunk"),
                          workers=d.get("workers"),
                          on_error=d.get("on_error", "stop"), readout=d.get("readout"))

    def check(sw, ctx):
        if sw.readout is not None:
            for i, c in enumerate(sw.readout.concepts):
                ctx.network.index(c, f"sweep.readout.concepts[{i}]")
        check_sweep(sw, ctx.data, ctx.network, ctx.base_dir)

    def runner(sw, cfg, progress):
        from .distributed import run_sweep
        return run_sweep(cfg, sw, progress=progress, annotate=False)

    register_section(Section(
        "sweep", struct,
        doc="Run the config over grids and lists of parameter values; every point is a whole "
            "run (an ensemble with [run] members). `thoughtfield sweep CONFIG` runs it on a "
            "dask cluster or in-process and can resume; `thoughtfield run` runs it in-process.",
        build=build, check=check, runner=runner), after="output")


_register_section()


# ===================================================================== Python API
def sweep(config, grid=None, zip=None, *, overrides=None, workers=None, scheduler=None,
          out=None, resume: bool = False, force: bool = False, chunk=None, on_error=None,
          readout=None, progress=False, report=None, connect_timeout=None):
    """Run ``config`` over a parameter sweep and return one ``xarray.Dataset``.

    Parameters
    ----------
    config : path, TOML text, mapping or SimulationConfig
        The config; its ``[sweep]`` section (if any) gives the parameters and defaults.
    grid : mapping, optional
        ``{"model.gain": [2, 4, 8], "model.sigma": {"start": 0, "stop": 0.3, "num": 4}}``:
        one dimension per parameter, all combinations.  Added to the config's sweep.
    zip : mapping, optional
        ``{"pair": {"model.gain": [...], "model.threshold": [...]}}``: parameters that
        share a dimension.
    overrides : mapping or list of str, optional
        Changes applied to the config first (like ``--set``).
    workers : int, optional
        ``1``: run in this process; ``N > 1``: an embedded dask ``LocalCluster`` with N
        worker processes.  Default: in-process unless the sweep looks long (then one
        worker per CPU).
    scheduler : str or dask Client/cluster, optional
        Run on an existing dask cluster instead (``tcp://HOST:PORT``).  Only from the
        caller: a config's ``[sweep]`` may not name a scheduler, since dask trusts its
        scheduler with this process.  The address is probed before dask connects.
    connect_timeout : float, optional
        Seconds to wait for the scheduler (default
        :data:`thoughtfield.distributed.CONNECT_TIMEOUT`, 20).
    out : path, optional
        Write the result there (NetCDF).  Finished points go to ``<out>.parts/`` as they
        arrive; ``resume=True`` continues an interrupted sweep from them.
    force : bool
        Overwrite ``out`` and discard old parts (with ``resume=True`` the finished parts
        of this same sweep are kept and only ``out`` is overwritten).
    chunk : int, optional
        Points per task and part file (default: automatic).
    on_error : "stop" or "record"
        What to do when a point's run fails.
    readout : mapping, optional
        ``{"kind": "choice", "concepts": [...], "threshold": 0.7}`` for the summary and plot.
    progress : bool or dict
        A tqdm progress bar over points.
    report : dict, optional
        Filled with how the sweep ran: ``executor`` (``"in-process"``, ``"dask
        LocalCluster"``...), ``workers``, ``resumed_points`` and ``wall_time_s``.  These are
        not in the result, so the same sweep gives the same bytes however it ran.

    Returns
    -------
    xarray.Dataset
        ``activation(<sweep dims>, member, time, concept)``, coordinates with the
        parameter values, per-point ``seed``, ``status``, ``n_steps``, ``n_rhs``.
    """
    from .config import SimulationConfig, load_config
    from .distributed import run_sweep
    cfg = config if isinstance(config, SimulationConfig) and not overrides else \
        load_config(config, overrides=overrides)
    sw = sweep_of(cfg, grid=grid, zip=zip, chunk=chunk, workers=workers, scheduler=scheduler,
                  on_error=on_error, readout=readout)
    return run_sweep(cfg, sw, out=out, resume=resume, force=force, progress=progress,
                     report=report, connect_timeout=connect_timeout)


def sweep_of(cfg, *, grid=None, zip=None, **settings) -> Sweep:
    """The config's sweep with extra ``grid``/``zip`` parameters and settings applied
    (checked against the config)."""
    base = cfg.section_object("sweep") if "sweep" in cfg.data else None
    extra = make_sweep(grid, zip, prefix="sweep") if (grid or zip) else None
    if base is None and extra is None:
        raise ConfigError("sweep: no parameters to sweep; add a [sweep] section to the config "
                          "or pass grid={...} / --grid KEY.PATH=[values]", key='sweep')
    dims = (base.dims if base else ()) + (extra.dims if extra else ())
    sw = base or Sweep(())
    sw = replace(sw, dims=dims)
    kw = {k: v for k, v in settings.items() if v is not None}
    if "scheduler" in kw:
        kw["scheduler"] = _scheduler(kw["scheduler"])
    if "readout" in kw and not isinstance(kw["readout"], Readout):
        kw["readout"] = _readout("readout", kw["readout"])
    if kw.get("workers") is not None:
        kw["workers"] = V.integer("workers", kw["workers"], min=1)
    if kw.get("chunk") is not None:
        kw["chunk"] = V.integer("chunk", kw["chunk"], min=1)
    if "on_error" in kw:
        kw["on_error"] = V.choice("on_error", kw["on_error"], ("stop", "record"))
    sw = replace(sw, **kw)
    if extra is not None:
        # names and paths must stay unique across the config's and the extra dimensions
        names = [d.name for d in sw.dims]
        paths = [q.path for q in sw.params]
        dup = sorted({n for n in names if names.count(n) > 1} | {q for q in paths if paths.count(q) > 1})
        if dup:
            raise ConfigError(f"sweep: {dup[0]!r} is swept twice (in the config's [sweep] and in "
                              f"the extra parameters); sweep each parameter once", key='sweep')
        check_sweep(replace(sw, dims=extra.dims), cfg.data, cfg.network, cfg.base_dir)
    if sw.readout is not None:
        for i, c in enumerate(sw.readout.concepts):
            cfg.network.index(c, f"sweep.readout.concepts[{i}]")
    return sw


def point_config(config, point: int, *, seed: int | None = None, grid=None, zip=None):
    """The config of one sweep point: the config without ``[sweep]``, with the point's
    values and its seed (:func:`point_seed`).  ``.run_simulation()`` on it reproduces
    that point of the sweep bit for bit.  ``seed``: the sweep's base seed when the config
    sets none (it is the ``seed`` attribute of the sweep's result)."""
    from .config import SimulationConfig, _load_data, load_config
    cfg = config if isinstance(config, SimulationConfig) else load_config(config)
    sw = sweep_of(cfg, grid=grid, zip=zip)
    point = V.integer("point", point, min=0, max=sw.n_points - 1)
    if seed is None:
        seed = cfg.seed
    if seed is None:
        raise ConfigError("seed: the config sets no seed; pass the sweep's seed (the 'seed' "
                          "attribute of its result)", key='seed')
    seed = V.integer("seed", seed, min=0)
    base = _load_data(_base_data(cfg.data), text=None, path=cfg.path, base_dir=cfg.base_dir,
                      reuse={"network": (cfg.data.get("network"), cfg.network)})
    return base.with_overrides({**sw.point_values(point), "seed": point_seed(seed, point)},
                               keep_network=True)


# ===================================================================== readouts
def crossing_times(act: np.ndarray, times: np.ndarray, threshold: float) -> np.ndarray:
    """First time each trajectory reaches ``threshold`` (time is axis -2 of ``act``),
    linearly interpolated between saved times; ``t0`` when it starts above; NaN if never.
    Returns ``act`` without the time axis."""
    a = np.moveaxis(np.asarray(act, dtype=np.float64), -2, -1)  # (..., concept, time)
    above = a >= threshold
    hit = above.any(axis=-1)
    k = np.argmax(above, axis=-1)
    t = np.asarray(times, dtype=np.float64)
    k0 = np.maximum(k - 1, 0)
    a1 = np.take_along_axis(a, k[..., None], -1)[..., 0]
    a0 = np.take_along_axis(a, k0[..., None], -1)[..., 0]
    t1, t0 = t[k], t[k0]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(a1 > a0, (threshold - a0) / (a1 - a0), 1.0)
    out = np.where(k == 0, t[0], t0 + np.clip(frac, 0.0, 1.0) * (t1 - t0))
    return np.where(hit, out, np.nan)


def readout(ds, kind: str | None = None, concepts=None, threshold: float | None = None):
    """Per-point summary statistics of a sweep result (or of any run with members).

    ``kind`` (default: the result's ``[sweep] readout``, else ``"final"``):

    - ``"final"`` / ``"peak"``: ``mean`` and ``sd`` over members of the final / largest
      activation of each concept (``concept`` dimension);
    - ``"crossing"``: ``probability`` that each concept reaches ``threshold`` and the
      ``mean_time`` of the first crossing among members that reach it;
    - ``"choice"``: the first of ``concepts`` to reach ``threshold`` is the member's
      choice; ``probability(option)`` of each option, ``undecided`` (no option crossed)
      and ``mean_rt`` (mean choice time of the decided members).

    ``concepts`` defaults to the concept most active at the end (mean over everything).
    Returns an ``xarray.Dataset`` over the sweep dimensions.
    """
    return _readout_stats(ds, kind, concepts, threshold)


def _readout_stats(ds, kind=None, concepts=None, threshold=None, ci: bool = False):
    """:func:`readout`; with ``ci`` also the 95 % interval of each statistic over the members
    (``<stat>_lo``, ``<stat>_hi``: Wilson for probabilities, t for means) for the sweep plot."""
    import xarray as xr
    cfg = _attr_readout(ds)
    kind = kind or (cfg.kind if cfg else "final")
    V.choice("readout.kind", kind, READOUTS)
    if threshold is None:
        threshold = cfg.threshold if cfg else 0.5
    threshold = V.real("readout.threshold", threshold)
    if concepts is None:
        concepts = list(cfg.concepts) if cfg and cfg.concepts else None
    if isinstance(concepts, str):
        concepts = [concepts]
    act = ds["activation"]
    if "member" not in act.dims:
        act = act.expand_dims("member", axis=-3) if act.dims[-2:] == ("time", "concept") \
            else act.expand_dims("member")
    names = [str(c) for c in ds["concept"].values]
    if concepts is None:
        last = act.isel(time=-1).mean([d for d in act.dims if d not in ("concept", "time")])
        concepts = [names[int(np.argmax(last.values))]]
    for i, c in enumerate(concepts):
        if c not in names:
            raise ConfigError(f"readout.concepts[{i}]: unknown concept {c!r}" + V.did_you_mean(c, names),
                              key=f"readout.concepts[{i}]")
    if kind == "choice" and len(concepts) < 2:
        raise ConfigError("readout.concepts: a choice readout needs at least two concepts",
                          key='readout.concepts')
    sel = act.sel(concept=list(concepts)).transpose(..., "member", "time", "concept")
    dims = [d for d in sel.dims if d not in ("member", "time", "concept")]
    coords = {k: v for k, v in sel.coords.items() if all(x in dims for x in v.dims)}
    vals = sel.values
    out = {}
    attrs = {"readout": kind, "threshold": threshold}
    M = vals.shape[-3]

    def add_ci(name, dims_, lo, hi):
        if ci:
            out[f"{name}_lo"] = (dims_, lo)
            out[f"{name}_hi"] = (dims_, hi)

    def t_ci(x, axis):
        from ._stats import mean_ci
        m, half = mean_ci(x, axis=axis)
        return m - half, m + half

    if kind in ("final", "peak"):
        x = vals[..., -1, :] if kind == "final" else np.nanmax(vals, axis=-2)
        out["mean"] = ((*dims, "concept"), x.mean(axis=-2))
        out["sd"] = ((*dims, "concept"), x.std(axis=-2))
        add_ci("mean", (*dims, "concept"), *(t_ci(x, -2) if ci else (None, None)))
        coords["concept"] = list(concepts)
    else:
        from ._stats import wilson
        ct = crossing_times(vals, ds["time"].values, threshold)  # (..., member, concept)
        if kind == "crossing":
            hit = np.isfinite(ct)
            out["probability"] = ((*dims, "concept"), hit.mean(axis=-2))
            add_ci("probability", (*dims, "concept"), *(wilson(hit.sum(axis=-2), M) if ci else (None, None)))
            with np.errstate(invalid="ignore"):
                out["mean_time"] = ((*dims, "concept"), _nanmean(ct, axis=-2))
            add_ci("mean_time", (*dims, "concept"),
                   *(t_ci(np.where(hit, ct, np.nan), -2) if ci else (None, None)))
            coords["concept"] = list(concepts)
        else:
            first = np.where(np.isfinite(ct), ct, np.inf)
            rt = first.min(axis=-1)
            choice = np.argmin(first, axis=-1)
            decided = np.isfinite(rt)
            counts = np.stack([((choice == j) & decided).sum(axis=-1)
                               for j in range(len(concepts))], axis=-1)
            out["probability"] = ((*dims, "option"), counts / M)
            add_ci("probability", (*dims, "option"), *(wilson(counts, M) if ci else (None, None)))
            out["undecided"] = (tuple(dims), (~decided).mean(axis=-1))
            out["mean_rt"] = (tuple(dims), _nanmean(np.where(decided, rt, np.nan), axis=-1))
            add_ci("mean_rt", tuple(dims),
                   *(t_ci(np.where(decided, rt, np.nan), -1) if ci else (None, None)))
            coords["option"] = list(concepts)
    if ci:
        attrs["members"] = M
    return xr.Dataset(out, coords=coords, attrs=attrs)


def _nanmean(x, axis):
    n = np.isfinite(x).sum(axis=axis)
    s = np.where(np.isfinite(x), x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _attr_readout(ds) -> Readout | None:
    v = ds.attrs.get("sweep_readout")
    if not v:
        return None
    try:
        d = json.loads(v) if isinstance(v, str) else dict(v)
        return Readout(d.get("kind", "final"), tuple(d.get("concepts") or ()),
                       float(d.get("threshold", 0.5)))
    except (ValueError, TypeError):
        return None


def sweep_dims(ds) -> list[str]:
    """The sweep dimensions of a result (every dimension of ``activation`` except member,
    time and concept)."""
    if "activation" not in ds or "time" not in ds["activation"].dims:
        return []  # not a run result (e.g. an attractor catalogue)
    # a trial protocol's recorded time courses have a "trial" dimension that is not swept
    return [d for d in ds["activation"].dims if d not in ("member", "time", "concept", "trial")]


# ===================================================================== summary and plot
MAX_SUMMARY_ROWS = 12


def summary_lines(ds, top: int = 5) -> list[str]:
    """The sweep, and a table of the readout per point (first rows)."""
    dims = sweep_dims(ds)
    if not dims:
        return []
    a = ds.attrs
    npts = int(np.prod([ds.sizes[d] for d in dims]))
    m = ds.sizes.get("member", 1)
    lines = [f"sweep: {a.get('sweep_description', ' x '.join(dims))} = {npts} points x "
             f"{m} member(s)"]
    if "status" in ds:
        st = np.asarray(ds["status"].values).astype(str).ravel()
        bad = int((st != "success").sum())
        if bad:
            lines.append(f"{bad} point(s) failed (see the status variable): "
                         + ", ".join(sorted(set(st[st != 'success']))))
    try:
        ro = readout(ds)
    except ConfigError:
        return lines
    kind = ro.attrs["readout"]
    cols = []
    if kind in ("final", "peak"):
        for c in ro["concept"].values[:3]:
            cols.append((f"{kind} {c}", ro["mean"].sel(concept=c)))
    elif kind == "crossing":
        for c in ro["concept"].values[:2]:
            cols.append((f"P({c})", ro["probability"].sel(concept=c)))
            cols.append((f"t({c})", ro["mean_time"].sel(concept=c)))
    else:
        for c in ro["option"].values[:4]:
            cols.append((f"P({c})", ro["probability"].sel(option=c)))
        cols.append(("undecided", ro["undecided"]))
        cols.append(("mean RT", ro["mean_rt"]))
    note = f" at threshold {ro.attrs['threshold']:g}" if kind in ("crossing", "choice") else ""
    lines.append(f"readout: {kind}{note} (over members)")
    header = [d for d in dims] + [c for c, _ in cols]
    rows = []
    shape = [ds.sizes[d] for d in dims]
    for p in range(min(npts, MAX_SUMMARY_ROWS)):
        idx = np.unravel_index(p, shape)
        row = [_fmt(_py(ds[d].values[i])) if d in ds.coords else str(i) for d, i in zip(dims, idx)]
        sel = dict(zip(dims, idx))
        for _, da in cols:
            v = float(da.isel(sel).values)
            row.append("nan" if not math.isfinite(v) else f"{v:.3g}")
        rows.append(row)
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    lines.append("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths)))
    lines += ["  " + "  ".join(x.rjust(w) for x, w in zip(r, widths)) for r in rows]
    if npts > MAX_SUMMARY_ROWS:
        lines.append(f"  ... {npts - MAX_SUMMARY_ROWS} more point(s); thoughtfield.readout(ds) "
                     f"gives all of them")
    return lines


def _py(v):
    return v.item() if hasattr(v, "item") else v


def plot_sweep(ds, ax=None, *, kind=None, concepts=None, threshold=None, stat=None,
               cmap="viridis"):
    """The readout over the sweep: lines over one sweep dimension, a heatmap over two
    (further dimensions are averaged).  ``stat`` picks the variable (default: the first
    concept's mean / probability; for ``choice`` the probability of the first option,
    and a second panel with the mean response time when ``ax`` is not given).
    With members, each point shows its 95 % confidence interval over the members
    (Wilson for probabilities, t for means): error bars on lines, ``[lo, hi]`` in the
    cells of a heatmap (up to 64 cells).  Returns the Axes (an array of two for the choice
    readout)."""
    import matplotlib.pyplot as plt
    ro = _readout_stats(ds, kind, concepts, threshold, ci=True)
    dims = sweep_dims(ds)
    if not dims:
        raise ConfigError("plot sweep: the result has no sweep dimensions; run a sweep "
                          "(thoughtfield sweep) or use another plot kind")
    k = ro.attrs["readout"]

    def panel(var, sel, label, how):
        da = ro[var] if sel is None else ro[var].isel(sel)
        lo = ro[f"{var}_lo"] if sel is None else ro[f"{var}_lo"].isel(sel)
        hi = ro[f"{var}_hi"] if sel is None else ro[f"{var}_hi"].isel(sel)
        return da, label, lo, hi, how

    if k in ("final", "peak"):
        panels = [panel("mean", {"concept": 0}, f"{k} activation of {ro['concept'].values[0]}", "t")]
    elif k == "crossing":
        c = ro["concept"].values[0]
        panels = [panel("probability", {"concept": 0}, f"P({c} reaches {ro.attrs['threshold']:g})",
                        "Wilson"),
                  panel("mean_time", {"concept": 0}, f"mean crossing time of {c}", "t")]
    else:
        c = ro["option"].values[0]
        panels = [panel("probability", {"option": 0}, f"P(choose {c})", "Wilson"),
                  panel("mean_rt", None, "mean response time", "t")]
    if stat is not None:
        names = {"mean": 0, "probability": 0, "mean_time": 1, "mean_rt": 1}
        if stat not in names or names[stat] >= len(panels):
            raise ConfigError(f"stat: {stat!r} is not a statistic of the {k} readout"
                              + V.did_you_mean(str(stat), [v for v in ro.data_vars
                                                           if not v.endswith(("_lo", "_hi"))]),
                              key='stat')
        panels = [panels[names[stat]]]
    if ax is not None:
        panels = panels[:1]
        axes = [ax]
    else:
        fig, axs = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0),
                                squeeze=False, constrained_layout=True)
        axes = list(axs[0])
    members = int(ro.attrs.get("members", 1))
    for (da, label, lo, hi, how), a in zip(panels, axes):
        extra = [d for d in da.dims if d not in dims[:2]]
        if extra:   # averaged over further dimensions: the intervals no longer apply
            da, lo, hi = da.mean(extra), None, None
        if members < 2:
            lo = hi = None
        _draw(a, da, dims[:2], label, cmap, lo, hi,
              f"95 % CI over {members} members ({how})" if lo is not None else "")
    title = ds.attrs.get("title")
    if title and ax is None:
        axes[0].figure.suptitle(str(title))
    return axes[0] if len(axes) == 1 else np.array(axes, dtype=object)


def _coord(da, d):
    return np.asarray(da[d].values) if d in da.coords else np.arange(da.sizes[d])


def _label(da, d):
    path = da[d].attrs.get("long_name") if d in da.coords else None
    return f"{d} ({path})" if path and path != d else d


def _draw(ax, da, dims, label, cmap, lo=None, hi=None, ci_note=""):
    if len(dims) == 1:
        x = _coord(da, dims[0])
        y = da.values
        if lo is not None:
            err = np.vstack([np.clip(y - lo.values, 0, None), np.clip(hi.values - y, 0, None)])
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"mean, error bars: {ci_note}")
            ax.legend(loc="best", fontsize=7, frameon=False)
        else:
            ax.plot(x, y, marker="o")
        ax.set_xlabel(_label(da, dims[0]))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        return
    d0, d1 = dims
    v = da.transpose(d1, d0).values
    im = ax.imshow(v, origin="lower", aspect="auto", cmap=cmap, interpolation="nearest")
    x, y = _coord(da, d0), _coord(da, d1)
    ax.set_xticks(range(len(x)), [_fmt(_py(t)) for t in x], rotation=45 if len(x) > 6 else 0)
    ax.set_yticks(range(len(y)), [_fmt(_py(t)) for t in y])
    ax.set_xlabel(_label(da, d0))
    ax.set_ylabel(_label(da, d1))
    vl = lo.transpose(d1, d0).values if lo is not None else None
    vh = hi.transpose(d1, d0).values if hi is not None else None
    shown = v.size <= 64
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            if shown and np.isfinite(v[i, j]):
                colour = "w" if v[i, j] < np.nanmean(v) else "k"
                has_ci = vl is not None and np.isfinite(vl[i, j]) and np.isfinite(vh[i, j])
                ax.text(j, i + (0.12 if has_ci else 0.0), f"{v[i, j]:.2g}", ha="center",
                        va="center", fontsize=7, color=colour)
                if has_ci:
                    ax.text(j, i - 0.2, f"[{vl[i, j]:.2g}, {vh[i, j]:.2g}]", ha="center",
                            va="center", fontsize=5.5, color=colour)
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_title(label + (f"\ncells: value [{ci_note}]" if shown and vl is not None else ""),
                 fontsize=10 if shown and vl is not None else None)


def _register_views():
    from .plots import register_plot
    from .summary import register_summary
    register_plot("sweep", plot_sweep, "a sweep's readout over its parameters (lines or heatmap)")
    register_summary("sweep", summary_lines, before="run")


_register_views()
