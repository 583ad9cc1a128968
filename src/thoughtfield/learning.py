"""Learning across trials: the relations a protocol's trials change.

:class:`RescorlaWagner` is the delta rule of Rescorla & Wagner (1972) on the relations
from cues to an outcome concept.  After every trial of a :class:`~thoughtfield.Protocol`,
with ``V`` the summed weight of the cues present in the trial (the concepts its condition
stimulates that have a relation of the learned ``type`` to the outcome),

    w_cue  +=  alpha_cue * beta * (lambda - V)      for every cue present,

where ``lambda`` is ``lam`` when the condition also stimulates the outcome and 0 when it
does not, and ``beta`` is ``beta`` or ``beta_absent`` accordingly.  The next trial runs on
the new weights, so the dynamics (the outcome's activation, a choice on it) show what was
learned; the result records the weights after every trial (``associative_strength(trial,
cue)``), the prediction ``V`` and the error ``lambda - V``.  Acquisition, extinction,
blocking and overshadowing follow (``simulations/blocking.toml``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from .errors import ConfigError
from .growth import replay

RULES = ("rescorla_wagner",)


@dataclass(frozen=True)
class RescorlaWagner:
    """The Rescorla-Wagner rule on the ``type`` relations from cues to ``outcome``.

    Parameters
    ----------
    outcome : str
        The outcome (unconditioned stimulus) concept.
    type : str
        The relation type learned (cue -> outcome relations of it; give them the starting
        weight, 0 for a novel cue).  A directed type, so that the outcome does not
        predict the cue.
    alpha : float or mapping
        Salience of each cue (``{"*": 0.2, "light": 0.4}``), in (0, 1].
    beta : float
        Learning rate when the outcome is present, in (0, 1].
    beta_absent : float, optional
        Learning rate when it is absent (default: ``beta``).
    lam : float
        The asymptote ``lambda`` the outcome supports (``lambda`` in a config).
    """

    outcome: str
    type: str = "link"
    alpha: object = 0.2
    beta: float = 1.0
    beta_absent: float | None = None
    lam: float = 1.0

    def __post_init__(self):
        V.name("learning.outcome", self.outcome)
        V.name("learning.type", self.type)
        alpha = self.alpha
        if isinstance(alpha, Mapping):
            out = {}
            for k, v in alpha.items():
                if not isinstance(k, str) or not k:
                    raise ConfigError(f"learning.alpha: keys are cue names or '*' (got {k!r})",
                                      key='learning.alpha')
                out[k] = _rate(f"learning.alpha.{k}", v)
            alpha = out
        else:
            alpha = _rate("learning.alpha", alpha)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "beta", _rate("learning.beta", self.beta))
        if self.beta_absent is not None:
            object.__setattr__(self, "beta_absent",
                               _rate("learning.beta_absent", self.beta_absent))
        object.__setattr__(self, "lam", V.real("learning.lambda", self.lam))

    def salience(self, cue: str) -> float:
        """``alpha`` of ``cue``."""
        if isinstance(self.alpha, Mapping):
            if cue in self.alpha:
                return self.alpha[cue]
            return self.alpha.get("*", 0.2)
        return self.alpha

    def to_dict(self) -> dict:
        d = {"rule": "rescorla_wagner", "outcome": self.outcome, "type": self.type,
             "alpha": dict(self.alpha) if isinstance(self.alpha, Mapping) else self.alpha,
             "beta": self.beta, "lambda": self.lam}
        if self.beta_absent is not None:
            d["beta_absent"] = self.beta_absent
        return d


def _rate(key: str, v) -> float:
    v = V.real(key, v)
    if not 0 < v <= 1:
        raise ConfigError(f"{key}: must be in (0, 1] (got {v:g})", key=key)
    return v


class LearningRun:
    """A rule applied trial by trial to a protocol on ``network``: checks the outcome, the
    type and the cues when made; :meth:`update` after each trial, :meth:`network` the
    network with the weights learned so far, :meth:`add_to` the result's variables."""

    def __init__(self, network, protocol, learning):
        if not isinstance(learning, RescorlaWagner):
            raise ConfigError(f"learning: expected a RescorlaWagner rule (got "
                              f"{type(learning).__name__})", key='learning')
        self.base, self.rule = network, learning
        outcome = network.index(learning.outcome, "learning.outcome")
        if learning.type not in network.relation_types:
            raise ConfigError(f"learning.type: unknown relation type {learning.type!r}"
                              + V.did_you_mean(learning.type, list(network.relation_types))
                              + "; define it under [network.relation_types]", key='learning.type')
        r = network.relation_arrays()
        sel = np.flatnonzero((r["type"] == learning.type) & (r["target"] == outcome)
                             & (r["source"] != outcome))
        if sel.size == 0:
            raise ConfigError(f"learning: no {learning.type!r} relation leads to the outcome "
                              f"{learning.outcome!r}; add one from each cue, e.g. "
                              f"[\"light\", \"{learning.outcome}\", \"{learning.type}\", 0.0]",
                              key='learning')
        cues = [network.concepts[i] for i in r["source"][sel]]
        for c in cues:
            if cues.count(c) > 1:
                raise ConfigError(f"learning: {c!r} has two {learning.type!r} relations to "
                                  f"{learning.outcome!r}; keep one", key='learning')
        if isinstance(learning.alpha, Mapping):
            for c in learning.alpha:
                if c != "*" and c not in cues:
                    raise ConfigError(f"learning.alpha.{c}: not a cue"
                                      + V.did_you_mean(c, cues)
                                      + f"; the cues are the sources of {learning.type!r} "
                                      f"relations to {learning.outcome!r}: {', '.join(cues)}",
                                      key=f"learning.alpha.{c}")
        self.sel, self.cues = sel, cues
        self.weights = np.asarray(r["weight"], np.float64)   # every relation's, as given
        self.alpha = np.array([learning.salience(c) for c in cues])
        self.present, self.reinforced = {}, {}
        for cond in protocol.conditions:
            shown = {s.concept for s in cond.stimuli}
            self.present[cond.name] = np.array([c in shown for c in cues])
            self.reinforced[cond.name] = learning.outcome in shown
        self.version = 0
        self.strength, self.prediction, self.error = [], [], []

    def network(self):
        """The network with the weights learned so far."""
        return self.base._derived(rel_weight=self.weights)

    def update(self, k: int, cname: str) -> None:
        """The rule after trial ``k`` (condition ``cname``)."""
        rule, on = self.rule, self.present[cname]
        w = self.weights[self.sel]
        v = float(w[on].sum())
        lam = rule.lam if self.reinforced[cname] else 0.0
        beta = rule.beta if self.reinforced[cname] or rule.beta_absent is None else rule.beta_absent
        err = lam - v
        if on.any() and err != 0.0:
            w = w.copy()
            w[on] += self.alpha[on] * beta * err
            self.weights[self.sel] = w
            self.version += 1
        self.strength.append(w.copy())
        self.prediction.append(v)
        self.error.append(err)

    def add_to(self, ds) -> None:
        ds.coords["cue"] = ("cue", np.array(self.cues, dtype=object))
        strength = np.array(self.strength).reshape(-1, len(self.cues))
        ds["associative_strength"] = (("trial", "cue"), strength,
                                      {"long_name": "weight of the cue's relation to the "
                                                    "outcome after the trial", "units": "1"})
        ds["prediction"] = (("trial",), np.array(self.prediction),
                            {"long_name": "summed weight of the cues present (before the "
                                          "trial's update)", "units": "1"})
        ds["prediction_error"] = (("trial",), np.array(self.error),
                                  {"long_name": "lambda - prediction", "units": "1"})
        ds.attrs["learning"] = json.dumps(self.rule.to_dict())


def learned_network(network, ds):
    """``network`` as a run left it: the weights after the last trial of a protocol run
    with a :class:`RescorlaWagner` rule (the result's ``associative_strength``) or at the
    end of a run with plastic relations (:class:`~thoughtfield.Plasticity`: the last
    ``weight``, and a relation for every ``between`` pair that learned a weight) in place
    of the starting ones, and the concepts and relations a :class:`~thoughtfield.Growth` formed
    (:func:`thoughtfield.growth.replay`); every other relation as it is.  Write it with
    :func:`thoughtfield.io.write_network` (``thoughtfield run --save-network``) and start
    the next run from it (``[network] file``): what one session learned, the next knows."""
    learned = "associative_strength" in ds and "learning" in ds.attrs
    plastic = "weight" in ds.data_vars and "edge_scale" in ds.coords
    if not learned and not plastic and "growth" not in ds.attrs:
        raise ConfigError("learned_network: the result records no learning (no "
                          "associative_strength, no weight, no growth); run a config with a "
                          "[learning], [plasticity] (record = true) or [growth] section",
                          key="learned_network")
    if plastic:
        network = _plastic_network(network, ds)
    if learned:
        rule = json.loads(ds.attrs["learning"])
        outcome = network.index(rule["outcome"], "learning.outcome")
        r = network.relation_arrays()
        final = dict(zip(ds["cue"].values.tolist(),
                         np.asarray(ds["associative_strength"].values[-1], np.float64)))
        weights = np.asarray(r["weight"], np.float64).copy()
        for k in np.flatnonzero((r["type"] == rule["type"]) & (r["target"] == outcome)
                                & (r["source"] != outcome)):
            cue = network.concepts[r["source"][k]]
            if cue not in final:
                raise ConfigError(f"learned_network: the result has no weight for the cue "
                                  f"{cue!r}; give the network the result was run on",
                                  key='learned_network')
            weights[k] = final[cue]
        network = network._derived(rel_weight=weights)
    return replay(network, ds)


def _plastic_network(network, ds):
    """``network`` with the plastic relations' final weights (``ds.weight``)."""
    w = ds["weight"]
    if "member" in w.dims:
        raise ConfigError(f"learned_network: the result has {w.sizes['member']} members, each "
                          "with its own learned weights; pick one with ds.isel(member=k)")
    if "trial" in w.dims:
        w = w.isel(trial=-1)
    vals = np.asarray(w.transpose("time", "edge").values, np.float64)
    ok = np.flatnonzero(np.isfinite(vals).all(axis=1))
    if not ok.size:
        raise ConfigError("learned_network: the result's weights are not finite at any time")
    final = vals[ok[-1]] / np.asarray(ds["edge_scale"].values, np.float64)
    src = [str(v) for v in ds["edge_source"].values]
    tgt = [str(v) for v in ds["edge_target"].values]
    typ = [str(v) for v in ds["edge_relation"].values]
    learned = {}
    for a, b, ty, v in zip(src, tgt, typ, final.tolist()):
        learned[(a, b, ty)] = v
    r = network.relation_arrays()
    names = network.concepts
    weights = np.asarray(r["weight"], np.float64).copy()
    used = set()
    for k in range(weights.size):
        a, b, ty = names[r["source"][k]], names[r["target"][k]], str(r["type"][k])
        keys = [key for key in ((a, b, ty), (b, a, ty)) if key in learned]
        if keys:
            weights[k] = _one_weight(learned, keys)
            used.update(keys)
    net = network._derived(rel_weight=weights)
    added = set()
    for key, v in learned.items():   # the `between` pairs that had no relation
        if key in used or key in added:
            continue
        a, b, ty = key
        rt = network.relation_types[ty]
        keys = [key] + ([(b, a, ty)] if rt.symmetric and (b, a, ty) in learned else [])
        added.update(keys)
        v = _one_weight(learned, keys)
        if rt.symmetric and network.index(a) > network.index(b):
            a, b = b, a       # a symmetric pair is written in the network's order
        if v != 0.0:
            net.add_relation(a, b, ty, v)
    return net


def _one_weight(learned, keys) -> float:
    """The relation weight both directions of a symmetric relation learned."""
    vals = [learned[k] for k in keys]
    if len(vals) == 2 and abs(vals[0] - vals[1]) > 1e-9 * max(1.0, abs(vals[0])):
        a, b, ty = keys[0]
        raise ConfigError(f"learned_network: the two directions of the symmetric {ty!r} "
                          f"relation {a!r} -- {b!r} learned different weights ({vals[0]:g} and "
                          f"{vals[1]:g}: the rule is not symmetric), and a relation holds one; "
                          "make a directed relation type plastic to save what was learned")
    return vals[0]
