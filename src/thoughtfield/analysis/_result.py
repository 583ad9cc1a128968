"""Rebuild the descriptions of a run (network, model, stimuli) from a result Dataset."""

from __future__ import annotations

import xarray as xr

from ..errors import ConfigError
from ..model import Model
from ..network import ConceptNetwork
from ..results import description


def run_context(ds, network=None, model=None, stimuli=None, *, need_model: bool = True):
    """``(network, model, stimuli)`` for the result ``ds``; arguments given win over the
    descriptions stored in its attributes."""
    if not isinstance(ds, xr.Dataset) or "activation" not in ds:
        raise ConfigError("result: expected a thoughtfield result Dataset with an "
                          "'activation' variable", key='result')
    if network is None:
        desc = description(ds, "network")
        if not isinstance(desc, dict) or "concepts" not in desc:
            raise ConfigError("network: the result does not embed its network (it is too large "
                              "to store in the file); pass network=...", key='network')
        network = ConceptNetwork.from_dict(desc)
    elif not isinstance(network, ConceptNetwork):
        raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})",
                          key='network')
    names = [str(c) for c in ds.concept.values]
    if names != list(network.concepts):
        raise ConfigError(f"network: its {network.n} concepts do not match the result's "
                          f"{len(names)} concepts (same names in the same order are needed)",
                          key='network')
    if model is None and need_model:
        desc = description(ds, "model")
        if not isinstance(desc, dict):
            raise ConfigError("model: the result does not record its model; pass model=...",
                              key='model')
        model = Model.from_dict(desc)
    if stimuli is None:
        stimuli = description(ds, "stimuli") or []
    return network, model, stimuli


def activation_array(ds, member=None):
    """``(times, activation (M, T, N), members)`` of a result; ``member`` selects one."""
    act = ds["activation"]
    if "member" in act.dims:
        if member is not None:
            act = act.sel(member=member).expand_dims("member")
        act = act.transpose("member", "time", "concept")
        vals = act.values
        members = act.member.values
    else:
        if member not in (None, 0):
            raise ConfigError(f"member: the result has no ensemble (got member={member!r})",
                              key='member')
        vals = act.transpose("time", "concept").values[None]
        members = None
    return ds.time.values, vals, members
