"""The description of a sweep: its dimensions and points, the seed of each point, and the
hash that identifies its results (for resume).  :mod:`thoughtfield.sweeps` builds one from
a config or arguments; :mod:`thoughtfield.distributed` runs it."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import _toml
from ._version import __version__
from .build import build_method, save_times
from .config import _thaw
from .errors import ConfigError


@dataclass(frozen=True)
class Parameter:
    """One swept config value: its key path and its values."""
    path: str
    values: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))


@dataclass(frozen=True)
class Dimension:
    """A dimension of the sweep: one grid parameter, or zipped parameters of equal length."""
    name: str
    params: tuple
    zipped: bool = False

    @property
    def size(self) -> int:
        return len(self.params[0].values)


@dataclass(frozen=True)
class Readout:
    """What the summary and the ``sweep`` plot report per point (see :func:`readout`)."""
    kind: str = "final"
    concepts: tuple = ()
    threshold: float = 0.5

    def to_dict(self) -> dict:
        return {"kind": self.kind, "concepts": list(self.concepts), "threshold": self.threshold}


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: its dimensions and how to run it.

    Build it from a config's ``[sweep]`` section (``cfg.sweep``) or with
    :func:`make_sweep`.
    """
    dims: tuple
    chunk: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    on_error: str = "stop"
    readout: Readout | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def n_points(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.dims else 1

    @property
    def params(self) -> list[Parameter]:
        return [p for d in self.dims for p in d.params]

    def point_values(self, p: int) -> dict[str, object]:
        """``{path: value}`` of point ``p`` (row-major over the dimensions)."""
        if not 0 <= p < self.n_points:
            raise ConfigError(f"point: {p} is outside the sweep (0..{self.n_points - 1})",
                              key='point')
        idx = np.unravel_index(p, self.shape) if self.dims else ()
        return {q.path: q.values[int(i)] for d, i in zip(self.dims, idx) for q in d.params}

    def spec(self) -> dict:
        """The parameters as plain data (hashed for resume, stored in results)."""
        return {"dims": [{"name": d.name, "zipped": d.zipped,
                          "params": {q.path: list(q.values) for q in d.params}}
                         for d in self.dims]}

    def describe(self) -> str:
        parts = []
        for d in self.dims:
            vals = d.params[0].values
            rng = f"{_fmt(vals[0])} .. {_fmt(vals[-1])}" if len(vals) > 1 else _fmt(vals[0])
            names = " + ".join(q.path for q in d.params)
            label = names if d.name == names else f"{d.name} ({names})"
            parts.append(f"{label} [{len(vals)}: {rng}]")
        return " x ".join(parts) if parts else "a single point"


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def point_seed(seed: int, point: int) -> int:
    """The seed of sweep point ``point`` (< 2**63), derived from ``(seed, point)``."""
    st = np.random.SeedSequence([int(seed), int(point)]).generate_state(1, np.uint64)
    return int(st[0] >> np.uint64(1))


def _base_data(cfg_data: Mapping) -> dict:
    """The config data without the [sweep] section (the base every point overrides)."""
    data = _thaw(cfg_data) if not isinstance(cfg_data, dict) else copy.deepcopy(cfg_data)
    data.pop("sweep", None)
    return data


def sweep_hash(base_data: Mapping, sw: Sweep, seed: int) -> str:
    """Identity of a sweep's results: the config (without [output] and [sweep] settings),
    the parameters, the seed and the package version."""
    data = {k: v for k, v in base_data.items() if k not in ("output", "sweep")}
    run = dict(data.get("run") or {})
    run.pop("threads", None)
    data["run"] = run
    doc = {"config": _toml.dumps(data), "sweep": sw.spec(), "seed": int(seed),
           "version": __version__}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _save_grid(cfg):
    """The save times of a config (None when its solver has no fixed rule for them)."""
    run, solver = cfg.run, cfg.solver
    try:
        dt = None if solver.adaptive else float(
            build_method(solver, cfg.model, cfg.network, run.t0, run.t_end).opt_f[0])
        return save_times(run.t0, run.t_end, run.saveat, dt=dt)
    except (AttributeError, TypeError):  # a solver kind without the continuous settings
        return None
