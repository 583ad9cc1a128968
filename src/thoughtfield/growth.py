"""Concepts formed by thinking: the network grows between the trials of a protocol.

:class:`Growth` describes two rules applied after every trial of a
:class:`~thoughtfield.Protocol` to the state the trial settled in -- the concepts whose
output at the trial's end is at least ``threshold`` (the *settled set*; concepts the rule
formed itself are left out of it):

* **chunking** -- when the same settled set (of ``min_size`` to ``max_size`` concepts) has
  come up ``repeats`` times, a new concept is made for it: named from its members
  (``"bird+feathers+wings"``), in the layer above its highest member (or ``layer``), and
  joined to every member by a ``relation`` of weight ``weight`` (``association``, a
  symmetric type, by default: the members evoke the new concept and it evokes them back,
  so it completes the pattern from a partial cue).  The aggregation of concepts into a
  new one of the ontology, made by the dynamics instead of declared.
* **structural plasticity** -- with ``link_weight > 0``, two concepts of a settled set
  that share no relation (in either direction, of any type) and have settled together
  ``link_repeats`` times gain a ``link_type`` relation of weight ``link_weight``.

The next trial runs on the grown network (a new concept starts at rest; the carried state
of the others carries over).  The result records how the network grew
(``formed_concept(formed)`` with the trial, layer and members of each new concept,
``linked_source(linked)``/``linked_target`` with the trial of each new relation, and
``n_concepts(trial)``); :func:`thoughtfield.learning.learned_network` rebuilds the grown
network from it and ``thoughtfield run --save-network`` writes it, so the next run starts
from what this one formed.  Deterministic: the same config and seed grow the same network.
"""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np

from . import _validate as V
from ._params import described, param
from ._schema import Int, Real, Str
from .errors import ConfigError

__all__ = ["Growth", "GrowthRun", "replay"]


@described("growth")
class Growth:
    """Chunking and structural plasticity between the trials of a protocol.

    Parameters
    ----------
    threshold : float
        A concept is in the settled set of a trial when its output at the trial's end is at
        least this.
    repeats : int
        Trials a settled set must come up in before it becomes a concept.
    min_size, max_size : int
        Sizes of the settled sets that count (a set of everything active is no pattern).
    layer : str, optional
        Layer of the new concepts (default: the layer above the highest member's; the top
        layer for members in it).
    relation : str
        Relation type joining each member to the new concept.
    weight : float
        Weight of those relations.
    link_weight : float
        Weight of the relations structural plasticity adds (0: none added).
    link_type : str
        Their relation type.
    link_repeats : int, optional
        Trials two unlinked concepts must settle together in before they are linked
        (default: ``repeats``).
    """

    threshold: float = param(Real(), 0.5, "Output at the trial's end from which a concept "
                             "is in the trial's settled set.", unit="1")
    repeats: int = param(Int(min=1, max=1_000_000), 3, "Trials the same settled set must "
                         "come up in before it becomes a new concept.")
    min_size: int = param(Int(min=2, max=100_000), 2, "Smallest settled set that counts.")
    max_size: int = param(Int(min=2, max=100_000), 8, "Largest settled set that counts (a "
                          "state where everything is active is no pattern).")
    layer: str | None = param(Str(name=True), None, "Layer of the new concepts.",
                              default_doc="the layer above the highest member's")
    relation: str = param(Str(name=True), "association", "Relation type joining each member "
                          "to its new concept (a symmetric type lets the new concept evoke its "
                          "members: pattern completion).")
    weight: float = param(Real(), 1.0, "Weight of the member relations.", unit="1")
    link_weight: float = param(Real(min=0), 0.0, "Weight of the relations added between "
                               "concepts that settle together but share none (0: off).",
                               unit="1")
    link_type: str = param(Str(name=True), "association", "Relation type of those relations.")
    link_repeats: int | None = param(Int(min=1, max=1_000_000), None, "Trials two unlinked "
                                     "concepts must settle together in before they are linked.",
                                     default_doc="repeats")

    def _validate(self, key):
        if self.max_size < self.min_size:
            raise ConfigError(f"{key or 'growth'}.max_size: must be >= min_size "
                              f"({self.min_size}) (got {self.max_size})",
                              key=f"{key or 'growth'}.max_size")

    def check(self, network) -> None:
        """Check the layer and the relation types against ``network`` (before any run)."""
        if self.layer is not None and self.layer not in network.layers:
            raise ConfigError(f"growth.layer: unknown layer {self.layer!r}"
                              + V.did_you_mean(self.layer, network.layers)
                              + f"; the layers are {', '.join(network.layers)}", key='growth.layer')
        for key, t in (("relation", self.relation), ("link_type", self.link_type)):
            if t not in network.relation_types:
                raise ConfigError(f"growth.{key}: unknown relation type {t!r}"
                                  + V.did_you_mean(t, list(network.relation_types))
                                  + "; define it under [network.relation_types]",
                                  key=f"growth.{key}")


class GrowthRun:
    """:class:`Growth` applied trial by trial: :meth:`observe` after each trial (returns
    whether the network grew), :attr:`network` the grown network, :meth:`add_to` the
    result's record of the growth."""

    def __init__(self, network, growth: Growth, members: int = 1):
        if not isinstance(growth, Growth):
            raise ConfigError(f"growth: expected a Growth (got {type(growth).__name__})",
                              key='growth')
        if members != 1:
            raise ConfigError(f"growth: members = {members}: the network grows from one "
                              "participant's settled states; run the protocol with members = 1",
                              key='growth')
        growth.check(network)
        self.rule, self.base, self.network = growth, network, network
        self.n0 = network.n
        self.version = 0
        self.sets: dict = {}        # settled set -> trials it came up in
        self.pairs: dict = {}       # unlinked pair -> trials they settled together in
        self.formed = []            # (trial, name, layer, member names)
        self.linked = []            # (trial, source, target)
        self.n_concepts = []
        self._link_repeats = growth.link_repeats or growth.repeats
        # pairs of the first n0 concepts already related (either way, any type): a settled
        # set holds no formed concept, so only the links this run adds change it
        if growth.link_weight > 0:
            r = network.relation_arrays()
            s, t = r["source"], r["target"]
            self._linked = set(zip(np.minimum(s, t).tolist(), np.maximum(s, t).tolist()))

    def observe(self, k: int, output: np.ndarray) -> bool:
        """The rules after trial ``k``, whose end state has the outputs ``output`` ``(N,)``
        (of the network the trial ran on); returns whether the network grew."""
        rule, net = self.rule, self.network
        on = np.flatnonzero(np.asarray(output[:self.n0]) >= rule.threshold)
        grew = False
        if rule.min_size <= on.size <= rule.max_size:
            key = tuple(on.tolist())
            seen = self.sets.get(key, 0) + 1
            self.sets[key] = seen
            if seen == rule.repeats:
                net = self._chunk(k, net, key)
                grew = True
            if rule.link_weight > 0:
                for pair in combinations(key, 2):
                    if pair in self._linked:
                        continue
                    seen = self.pairs.get(pair, 0) + 1
                    self.pairs[pair] = seen
                    if seen == self._link_repeats:
                        net = net.copy() if not grew else net
                        names = net.concepts
                        net.add_relation(names[pair[0]], names[pair[1]], rule.link_type,
                                         rule.link_weight)
                        self.linked.append((k, names[pair[0]], names[pair[1]]))
                        self._linked.add(pair)
                        grew = True
        if grew:
            self.network = net
            self.version += 1
        self.n_concepts.append(self.network.n)
        return grew

    def _chunk(self, k, net, members):
        rule = self.rule
        names = net.concepts
        member_names = [names[i] for i in members]
        layer = rule.layer
        if layer is None and net.layered:
            top = max(int(net.layer_codes[i]) for i in members)
            layer = net.layers[min(top + 1, len(net.layers) - 1)]
        name = base = "+".join(member_names)
        extra = 2
        while name in net._index:
            name, extra = f"{base}#{extra}", extra + 1
        net = net.copy()
        net.add_concept(name, layer)
        for m in member_names:
            net.add_relation(m, name, rule.relation, rule.weight)
        self.formed.append((k, name, layer or "", member_names))
        return net

    def add_to(self, ds) -> None:
        """Record the growth in the result ``ds``."""
        obj = np.array
        ds["n_concepts"] = (("trial",), obj(self.n_concepts, dtype=np.int64),
                            {"long_name": "concepts in the network after the trial's growth"})
        f = self.formed
        ds["formed_concept"] = (("formed",), obj([x[1] for x in f], dtype=object),
                                {"long_name": "concept formed from a repeated settled set"})
        ds["formed_trial"] = (("formed",), obj([x[0] for x in f], dtype=np.int64),
                              {"long_name": "trial after which it was formed"})
        ds["formed_layer"] = (("formed",), obj([x[2] for x in f], dtype=object))
        ds["formed_members"] = (("formed",), obj([json.dumps(x[3]) for x in f], dtype=object),
                                {"long_name": "its members (a JSON list)"})
        li = self.linked
        ds["linked_source"] = (("linked",), obj([x[1] for x in li], dtype=object),
                               {"long_name": "source of a relation added between concepts "
                                             "that settled together"})
        ds["linked_target"] = (("linked",), obj([x[2] for x in li], dtype=object))
        ds["linked_trial"] = (("linked",), obj([x[0] for x in li], dtype=np.int64),
                              {"long_name": "trial after which it was added"})
        ds.attrs["growth"] = json.dumps(self.rule.to_dict())


def replay(network, ds):
    """``network`` grown as the result ``ds`` records (:meth:`GrowthRun.add_to`): the same
    concepts and relations, added in the same order, as the run that made ``ds``."""
    if "formed_concept" not in ds or "growth" not in ds.attrs:
        return network
    rule = Growth.from_dict(json.loads(ds.attrs["growth"]))
    events = [(int(k), 0, i) for i, k in enumerate(ds["formed_trial"].values)]
    events += [(int(k), 1, i) for i, k in enumerate(ds["linked_trial"].values)]
    if not events:
        return network
    net = network.copy()
    for _, kind, i in sorted(events):
        if kind == 0:
            name = str(ds["formed_concept"].values[i])
            layer = str(ds["formed_layer"].values[i]) or None
            net.add_concept(name, layer)
            for m in json.loads(str(ds["formed_members"].values[i])):
                net.add_relation(m, name, rule.relation, rule.weight)
        else:
            net.add_relation(str(ds["linked_source"].values[i]),
                             str(ds["linked_target"].values[i]), rule.link_type,
                             rule.link_weight)
    return net
