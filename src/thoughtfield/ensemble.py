"""Batched ensembles: per-member parameters, and the ``[members]`` config section.

An ensemble of ``M`` members runs inside one compiled kernel.  The state is stored
member-minor, ``y[i * M + m]`` (concept ``i``, member ``m``), so one pass over the CSR
matrix of the network serves every member: each edge ``j -> i`` is read once and applied
to the ``M`` contiguous values ``y[j * M : (j + 1) * M]`` (a short vectorised loop instead
of ``M`` random gathers), and the transfer function runs over whole blocks of ``rows x M``
values.  Members differ by

- their noise streams (member ``m`` of a run with base seed ``s`` draws from
  ``SeedSequence([s, *key, m])``; sweeps put the point index in ``key``);
- their initial states (``initial=(M, N)`` or ``member_params={"initial": ...}``);
- their stimuli (``Pulse(..., member=k)``, ``Clamp(..., member=k)``);
- their per-concept parameters (``member_params``, this module): ``tau``, ``gain``,
  ``threshold``, ``bias``, ``sigma``.

The adaptive methods (``dopri5``, ``dop853``) take one shared step for all members; the
error norm is the largest over members of the RMS over concepts, so every member meets
the tolerance (the step
suits the hardest member; easy members take smaller steps than they would alone).  The
benchmark ``benchmarks/ensembles.py`` measures what that costs and gains.  Fixed-step
methods take the same steps either way, and a member's trajectory is then bitwise the
same as a single run with the same settings and seed key -- provided the run has the
same input changes: steps stop at every member's stimulus onsets and offsets, so a
``Pulse(..., member=k)`` also cuts the steps of the other members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import _validate as V
from ._problem import Problem
from .errors import ConfigError
from ._params import params
from .model import PER_CONCEPT, Model, resolve_per_concept

#: Per-concept parameters of the mechanisms that may take one value per member:
#: ``name -> (mechanism field of Model, its parameter, default per concept)``.
MECHANISM_MEMBER_PARAMS = {
    "adaptation.tau": ("adaptation", "tau", 10.0),
    "adaptation.strength": ("adaptation", "strength", 1.0),
}
#: Parameters that may take one value per member (the per-concept model parameters and
#: those of the mechanisms).
MEMBER_PARAMS = PER_CONCEPT + tuple(MECHANISM_MEMBER_PARAMS)


def _kind(name):
    """The per-concept kind of parameter ``name`` (its bounds)."""
    if name in MECHANISM_MEMBER_PARAMS:
        from . import mechanisms
        field, par, _ = MECHANISM_MEMBER_PARAMS[name]
        return params(getattr(mechanisms, field.capitalize()))[par].kind
    return params(Model)[name].kind


def _base(name, network, model, key):
    """The model's per-concept values of parameter ``name`` (those members start from)."""
    if name not in MECHANISM_MEMBER_PARAMS:
        return model.resolve(name, network)
    field, par, default = MECHANISM_MEMBER_PARAMS[name]
    mech = getattr(model, field)
    if mech is None:
        raise ConfigError(f"{key}: the model has no {field}; add [{field}] (or "
                          f"Model({field}=...)) or remove {name}", key=key)
    return resolve_per_concept(name, getattr(mech, par), network, default)


def resolve_member_params(member_params, network, model, members: int) -> dict[str, np.ndarray]:
    """Check ``member_params`` and expand each entry to a ``(members, concepts)`` array.

    ``member_params`` maps a parameter name (:data:`MEMBER_PARAMS`) to either

    - an array of shape ``(M,)`` (one value per member, every concept) or ``(M, N)``;
    - a sequence of ``M`` per-concept specs, each a number, a sequence with one value per
      concept, or a mapping of concept names / ``"@layer"`` / ``"*"`` to numbers.  In a
      mapping, concepts it does not name keep the model's value.
    """
    if member_params is None:
        return {}
    if not isinstance(member_params, Mapping):
        raise ConfigError(f"member_params: expected a mapping of parameter names to one value "
                          f"per member (got {type(member_params).__name__})", key='member_params')
    n, m = network.n, members
    out = {}
    for name, spec in member_params.items():
        if name not in MEMBER_PARAMS:
            raise ConfigError(f"member_params: unknown parameter {name!r}"
                              + V.did_you_mean(str(name), MEMBER_PARAMS)
                              + f"; per-member values exist for {', '.join(MEMBER_PARAMS)}",
                              key='member_params')
        key = f"member_params.{name}"
        kind = _kind(name)
        base = _base(name, network, model, key)
        if isinstance(spec, np.ndarray) and spec.dtype != object:
            arr = np.asarray(spec, dtype=np.float64)
            if arr.shape == (m,):
                arr = np.repeat(arr[:, None], n, axis=1)
            elif arr.shape != (m, n):
                raise ConfigError(f"{key}: expected shape (members,) = ({m},) or (members, "
                                  f"concepts) = ({m}, {n}) (got {arr.shape})", key=key)
            for k in range(m):
                kind.coerce(f"{key}[{k}]", arr[k])
            out[name] = np.ascontiguousarray(arr)
            continue
        if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
            raise ConfigError(f"{key}: expected one value per member ({m}), as a list or an "
                              f"array (got {type(spec).__name__})", key=key)
        if len(spec) != m:
            raise ConfigError(f"{key}: has {len(spec)} value(s) but the ensemble has {m} "
                              f"member(s); give one per member", key=key)
        arr = np.empty((m, n))
        for k, item in enumerate(spec):
            arr[k] = _resolve_one(f"{key}[{k}]", item, kind, base, network)
        out[name] = arr
    return out


def _resolve_one(key, item, kind, base, network):
    checked = kind.coerce(key, item)
    if isinstance(checked, Mapping):
        vals = resolve_per_concept(key, checked, network, np.nan)
        return np.where(np.isnan(vals), base, vals)
    return resolve_per_concept(key, checked, network, 0.0)


def lower_member_params(problem: Problem, y0: np.ndarray, resolved: dict, *, network, model,
                        stochastic: bool, initial_given: bool) -> tuple[Problem, np.ndarray]:
    """Replace the shared per-concept arrays of ``problem`` by member-minor ones
    (``a[i * M + m]``, the layout the kernels read, see ``build._per_member``)."""
    from .build import _per_member
    if not resolved:
        return problem, y0
    n, m = problem.n, problem.m
    if "sigma" in resolved and (resolved["sigma"] > 0).any() and not stochastic:
        k, i = np.argwhere(resolved["sigma"] > 0)[0]
        raise ConfigError(f"member_params.sigma[{k}]: member {k} has noise (sigma = "
                          f"{resolved['sigma'][k, i]:g} on {network.concepts[i]!r}) but the "
                          f"solver is deterministic; use method = 'euler_maruyama' or sigma = 0",
                          key=f"member_params.sigma[{k}]")
    rep = {}
    full = lambda name: resolved.get(name, np.broadcast_to(model.resolve(name, network), (m, n)))  # noqa: E731
    if "tau" in resolved or "sigma" in resolved:
        tau_inv = 1.0 / full("tau")
        rep["tau_inv"] = _per_member("tau", tau_inv, n, m)
        rep["noise"] = _per_member("sigma", full("sigma") * tau_inv, n, m)
    for name, field in (("gain", "gain"), ("threshold", "thr"), ("bias", "bias")):
        if name in resolved:
            rep[field] = _per_member(name, resolved[name], n, m)
    if any(name in resolved for name in MECHANISM_MEMBER_PARAMS):
        from ._problem import mechanism_arrays, pack
        from ._kernels.layout import MF_FIELDS, MI_FIELDS
        X = mechanism_arrays(problem)._asdict()
        X["o_rows"] = X["o_rows"].reshape(-1)
        if "adaptation.tau" in resolved:
            X["h_tau_inv"] = _per_member("adaptation.tau", 1.0 / resolved["adaptation.tau"], n, m)
        if "adaptation.strength" in resolved:
            X["h_kappa"] = _per_member("adaptation.strength", resolved["adaptation.strength"],
                                       n, m)
        rep["mi"], rep["mf"], rep["mo"] = pack({k: X[k] for k in MI_FIELDS},
                                               {k: X[k] for k in MF_FIELDS})
    if "initial" in resolved:
        if initial_given:
            raise ConfigError("member_params.initial: initial states are also given as "
                              "initial=...; give them one way only", key='member_params.initial')
        y0 = y0.copy()  # rows beyond the concepts (mechanism state) keep their values
        y0[:n * m] = _per_member("initial", resolved["initial"], n, m)
    return problem._replace(**rep), y0


def member_coords(resolved: dict, network) -> dict:
    """Coordinates for a result: ``name(member)`` when a parameter is uniform over the
    concepts of every member, else ``name(member, concept)``."""
    out = {}
    for name, arr in resolved.items():
        var = name.replace(".", "_")    # adaptation.tau -> adaptation_tau
        if arr.shape[1] == 0 or (arr == arr[:, :1]).all():
            out[var] = ("member", arr[:, 0].copy(), {"long_name": f"{name} of each member"})
        else:
            out[var] = (("member", "concept"), arr.copy(),
                        {"long_name": f"{name} per member and concept"})
    return out


def member_params_description(resolved: dict) -> dict:
    """JSON-ready description for the result's attributes."""
    return {k: (v[:, 0].tolist() if (v == v[:, :1]).all() else v.tolist()) for k, v in resolved.items()}
