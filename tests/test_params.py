"""The parameter helper (thoughtfield._params): a class declares each parameter once and
gets its checks, to_dict/from_dict and config table from that declaration."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield._params import described, param, params, per_concept
from thoughtfield._schema import REQUIRED, Bool, Choice, Int, Real, Str, Struct
from thoughtfield.errors import ConfigError


@described("widget")
class Widget:
    name: str = param(Str(name=True), REQUIRED, "Name.", hint="name the widget")
    size: float = param(Real(min=0, min_inclusive=False), 1.0, "Size.", unit="time")
    count: int = param(Int(min=1), 3, "How many.")
    on: bool = param(Bool(), False, "Switch.", omit=lambda w, v: not v)
    mode: str = param(Choice(["a", "b"]), "a", "Mode.")
    weight: object = param(per_concept(Real(min=0)), 0.0, "Per-concept weight.", unit="1")
    limit: float | None = param(Real(), None, "Optional limit.", default_doc="none")

    def _validate(self, key):
        if self.limit is not None and self.limit < self.size:
            raise ConfigError(f"{key}.limit: must be >= size ({self.size:g}) (got {self.limit:g})")


def test_declared_class_is_a_frozen_dataclass_with_the_declared_defaults():
    w = Widget("w")
    assert dataclasses.is_dataclass(w)
    assert (w.size, w.count, w.on, w.mode, w.weight, w.limit) == (1.0, 3, False, "a", 0.0, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.size = 2.0
    assert dataclasses.replace(w, size=2.0).size == 2.0
    assert list(params(Widget)) == ["name", "size", "count", "on", "mode", "weight", "limit"]


@pytest.mark.parametrize("kwargs, message", [
    ({"size": -1}, "widget.size: must be > 0 (got -1)"),
    ({"count": 0}, "widget.count: must be >= 1 (got 0)"),
    ({"on": "yes"}, "widget.on: must be true or false (got 'yes')"),
    ({"mode": "c"}, "widget.mode: must be one of 'a', 'b' (got 'c')"),
    ({"weight": {"x": -2}}, "widget.weight.x: must be >= 0 (got -2)"),
    ({"weight": [1.0, -0.5]}, r"widget.weight[1]: must be >= 0 (got -0.5)"),
    ({"name": " w"}, "widget.name: must be a non-empty name"),
    ({"limit": 0.5}, r"widget.limit: must be >= size (1) (got 0.5)"),   # the _validate hook
])
def test_constructor_checks_name_the_key(kwargs, message):
    with pytest.raises(ConfigError) as e:
        Widget(**{"name": "w", **kwargs})
    assert str(e.value).startswith(message)


def test_values_are_normalised():
    w = Widget("w", size=2, count=4.0, on=np.bool_(True), weight=[1, 2])
    assert isinstance(w.size, float) and w.count == 4 and w.on is True
    assert isinstance(w.weight, np.ndarray) and not w.weight.flags.writeable


def test_to_dict_from_dict_round_trip():
    w = Widget("w", size=2.0, weight={"*": 1.0, "x": 2.0}, limit=5.0)
    d = w.to_dict()
    assert d == {"name": "w", "size": 2.0, "count": 3, "mode": "a",
                 "weight": {"*": 1.0, "x": 2.0}, "limit": 5.0}   # `on` omitted while False
    assert list(d) == ["name", "size", "count", "mode", "weight", "limit"]
    assert Widget.from_dict(d) == w
    arr = Widget("w", weight=np.array([1.0, 2.0])).to_dict()
    assert arr["weight"] == [1.0, 2.0] and "limit" not in arr


@pytest.mark.parametrize("data, message", [
    ({"name": "w", "sise": 1.0}, "widgets[2]: unknown key 'sise' (did you mean 'size'?); allowed: "
                                 "name, size, count, on, mode, weight, limit"),
    ({"size": 1.0}, "widgets[2].name: missing; name the widget"),
    ({"name": "w", "size": 0}, "widgets[2].size: must be > 0 (got 0)"),
    ({"name": "w", "limit": 0.0}, "widgets[2].limit: must be >= size"),
    ([1, 2], "widgets[2]: expected a table"),
])
def test_from_dict_errors_name_the_full_key(data, message):
    with pytest.raises(ConfigError) as e:
        Widget.from_dict(data, "widgets[2]")
    assert str(e.value).startswith(message)


def test_struct_is_derived_from_the_declarations():
    s = Widget.struct(doc="Widgets.")
    assert isinstance(s, Struct) and s.doc == "Widgets."
    assert list(s.fields) == list(params(Widget))
    f = s.fields["size"]
    assert (f.default, f.unit, f.doc) == (1.0, "time", "Size.")
    assert s.fields["name"].required and s.fields["name"].hint == "name the widget"
    assert s.fields["limit"].default_text() == "none"
    assert s.check("widget", {"name": "w"}) == {"name": "w", "size": 1.0, "count": 3,
                                                "on": False, "mode": "a", "weight": 0.0}
    with pytest.raises(ConfigError, match=r"^widget.sise: unknown key 'sise' \(did you mean 'size'\?\)"):
        s.check("widget", {"name": "w", "sise": 2})
    with pytest.raises(ConfigError, match=r"^widget.size: must be > 0 \(got -1\)"):
        s.check("widget", {"name": "w", "size": -1})


def test_nested_constructions_keep_their_own_key():
    """A key given to from_dict is not inherited by objects built inside the constructor."""
    m = tf.Model.from_dict({"pools": [{"name": "p", "concepts": ["a", "b"]}]})
    assert m.pools[0].name == "p"
    with pytest.raises(ConfigError, match=r"^pools\[0\]"):
        tf.Model.from_dict({"pools": [{"name": "p", "concepts": ["a"], "inhibition": -1}]})
    # after an error the key does not leak into the next construction
    with pytest.raises(ConfigError, match=r"^solver.rtol: must be > 0"):
        tf.Solver(rtol=-1)


def test_model_and_solver_are_declared_once():
    """The [model] / [solver] tables, the per-member parameters and the classes agree."""
    from thoughtfield import config
    from thoughtfield.ensemble import MEMBER_PARAMS, _kind
    from thoughtfield.model import PER_CONCEPT
    model = params(tf.Model)
    assert PER_CONCEPT == ("tau", "gain", "threshold", "bias", "sigma", "initial")
    assert MEMBER_PARAMS == PER_CONCEPT + ("adaptation.tau", "adaptation.strength")
    # the mechanism parameters members may vary are declared once, on their class
    assert _kind("adaptation.tau") is params(tf.Adaptation)["tau"].kind
    assert [k for k, p in model.items() if p.config] == list(config.section("model").struct.fields)
    for k, f in config.section("model").struct.fields.items():
        assert f.kind is model[k].kind and f.default == model[k].default
    solver = params(tf.Solver)
    assert list(config.section("solver").struct.fields)[:len(solver)] == list(solver)
    assert tf.Solver(max_step=math.inf).to_dict() == {"method": "dopri5", "rtol": 1e-6,
                                                      "atol": 1e-9, "max_steps": 50_000_000}


def test_model_to_dict_is_unchanged():
    m = tf.Model(tau={"*": 1, "@image": 2}, gain=np.array([1.0, 2.0]), record_potential=True,
                 form="potential")
    d = m.to_dict()
    assert list(d) == ["tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form",
                       "record_potential"]
    assert d["tau"] == {"*": 1.0, "@image": 2.0} and d["gain"] == [1.0, 2.0]
    assert tf.Model.from_dict(d).to_dict() == d
    assert "record_potential" not in tf.Model().to_dict()


def test_a_post_init_of_its_own_is_refused():
    with pytest.raises(TypeError, match="_validate"):
        @described("x")
        class Bad:
            a: float = param(Real(), 1.0)

            def __post_init__(self):  # pragma: no cover
                """A hand-written check: refused, _validate is the hook."""


def test_per_concept_tables_resolve_once_per_network():
    """A table of concept names / layers is resolved once per network (build, checks and
    the result description all ask); callers get a copy, and editing the network resets it."""
    net = tf.ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b")])
    m = tf.Model(tau={"*": 1, "@idea": 2})
    first = m.resolve("tau", net)
    first[0] = 99.0
    assert m.resolve("tau", net).tolist() == [1.0, 2.0]
    assert sum(1 for k in net._cache if k[0] == "per_concept") == 1
    net.add_concept("c", "idea")
    assert m.resolve("tau", net).tolist() == [1.0, 2.0, 2.0]
    with pytest.raises(ConfigError, match=r"^tau.@z: unknown layer 'z'"):
        tf.Model(tau={"@z": 2}).resolve("tau", net)


@pytest.mark.parametrize("section, cls", [
    ("model", "Model"), ("solver", "Solver"), ("solver", "SpreadrSettings"), ("run", "RunSettings"),
    ("output", "OutputSettings"), ("stimuli", "Pulse"), ("stimuli", "Clamp"),
    ("adaptation", "Adaptation"), ("goals", "Goals"), ("layers", "Layers"), ("pools", "Pool"),
    ("choices", "Choice"), ("controls", "Control"), ("ideas", "Ideas"), ("protocol", "Protocol"),
])
def test_config_tables_come_from_the_classes(section, cls):
    """Each key of a converted section is the class's declaration (same kind object, doc,
    unit), not a second copy of it."""
    import thoughtfield.config as config
    import thoughtfield.mechanisms as M
    import thoughtfield.protocol as P
    import thoughtfield.solvers as S
    import thoughtfield.stimuli as ST
    klass = next(getattr(m, cls) for m in (M, P, S, ST, config) if hasattr(m, cls))
    fields = config.section(section).struct.fields
    shared = [k for k, p in params(klass).items() if p.config and k in fields]
    if cls == "Clamp":   # the keys it shares with Pulse come from Pulse's declarations
        shared = [k for k in shared if k not in params(tf.Pulse)]
    assert shared
    for k in shared:
        p = params(klass)[k]
        if k == "conditions":   # the condition table adds its [[stimuli]] key
            continue
        if section == "solver" and cls == "SpreadrSettings" and k in params(tf.Solver):
            continue            # method / max_steps: [solver] documents the continuous ones
        assert fields[k].kind is p.kind, k
        assert (fields[k].doc, fields[k].unit) == (p.doc, p.unit), k


def test_spreadr_stimuli_protocol_round_trip():
    sp = tf.Spreadr(retention={"*": 0.4, "a": 0.2}, threshold_to_stop=0.1)
    assert list(sp.to_dict()) == ["method", "retention", "decay", "suppress", "max_steps",
                                  "negative", "threshold_to_stop"]
    assert tf.Spreadr.from_dict(sp.to_dict()) == sp
    assert tf.Clamp("a", 1, member=2).to_dict() == {"kind": "clamp", "concept": "a", "start": 1.0,
                                                    "value": 1.0, "member": 2}
    p = tf.Protocol([tf.Condition("a", [tf.Pulse("x", 1, 2)], correct="x")], duration=5,
                    trials=["a", "a"])
    d = p.to_dict()
    assert list(d) == ["conditions", "duration", "order", "seed", "carry", "record", "trials"]
    assert list(d["conditions"][0]) == ["name", "stimuli", "weight", "correct"]
    assert tf.Protocol.from_dict(d) == p
    with pytest.raises(ConfigError, match=r"^protocol.conditions\[0\].weight: must be >= 0"):
        tf.Protocol.from_dict({**d, "conditions": [{"name": "a", "weight": -1}]})
