"""Concepts formed by thinking (``[growth]``): a settled set that comes up ``repeats``
times becomes a concept joined to its members, unlinked co-active concepts gain a
relation; checked against networks grown by hand, the probes' pattern completion, the
carried state across a growth, determinism and the recorded history (replay)."""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import thoughtfield as tf
from thoughtfield.growth import Growth, replay
from thoughtfield.learning import RescorlaWagner, learned_network

ROOT = Path(__file__).resolve().parents[1]
MODEL = tf.Model(gain=6.0, threshold=0.7, tau=0.2,
                 pools=[tf.Pool("completion", ["beak", "tail"], inhibition=0.0)],
                 choices=[tf.Choice("completion", threshold=0.8)])
FEATURES = ("feathers", "wings", "beak", "fur", "whiskers", "tail")


def _net(relations=()):
    return tf.ConceptNetwork({c: "image" for c in FEATURES}, list(relations))


def _cond(name, cues, correct=None):
    return tf.Condition(name, stimuli=[tf.Pulse(c, 0.0, 2.0, 2.0) for c in cues],
                        correct=correct)


CONDS = [_cond("bird", ["feathers", "wings", "beak"]), _cond("cat", ["fur", "whiskers", "tail"]),
         _cond("probe", ["feathers", "wings"], correct="beak")]


def _run(trials, growth, net=None, record=False, carry=("control",), learning=None):
    protocol = tf.Protocol(conditions=CONDS, duration=2.0, trials=trials, record=record,
                           carry=carry)
    return tf.run_protocol(net or _net(), MODEL, protocol, seed=3, growth=growth,
                           learning=learning)


def test_a_repeated_settled_set_becomes_a_concept_joined_to_its_members():
    ds = _run(["probe", "bird", "bird", "cat", "bird", "probe"], Growth(repeats=3, weight=1.5))
    # formed after the third bird trial (index 4), once, in the layer above its members
    assert list(ds.formed_concept.values) == ["feathers+wings+beak"]
    assert list(ds.formed_trial.values) == [4] and list(ds.formed_layer.values) == ["idea"]
    assert json.loads(str(ds.formed_members.values[0])) == ["feathers", "wings", "beak"]
    assert list(ds.n_concepts.values) == [6, 6, 6, 6, 7, 7]
    assert ds.sizes["linked"] == 0
    # the grown network, written out by hand
    expected = _net()
    expected.add_concept("feathers+wings+beak", "idea")
    for m in ("feathers", "wings", "beak"):
        expected.add_relation(m, "feathers+wings+beak", "association", 1.5)
    grown = replay(_net(), ds)
    assert grown.concepts == expected.concepts
    assert grown.concept_layers == expected.concept_layers
    assert grown.relations() == expected.relations()
    # the probe before and after: only the grown network completes the pattern
    assert list(ds.choice.values) == ["", "beak", "beak", "tail", "beak", "beak"]
    assert list(ds.correct.values[[0, 5]]) == [False, True]


def test_no_concept_before_the_repeats_and_none_twice():
    ds = _run(["bird", "bird", "cat", "cat"], Growth(repeats=3))
    assert ds.sizes["formed"] == 0 and list(ds.n_concepts.values) == [6] * 4
    ds = _run(["bird"] * 7, Growth(repeats=2))
    assert list(ds.formed_trial.values) == [1]   # the set with its concept is the same set


def test_sizes_outside_the_bounds_do_not_count():
    ds = _run(["bird"] * 3, Growth(repeats=3, max_size=2))
    assert ds.sizes["formed"] == 0
    ds = _run(["probe"] * 3, Growth(repeats=3, min_size=3))
    assert ds.sizes["formed"] == 0
    ds = _run(["probe"] * 3, Growth(repeats=3))
    assert list(ds.formed_concept.values) == ["feathers+wings"]


def test_unlinked_concepts_that_settle_together_gain_a_relation():
    net = _net([("feathers", "wings", "link", 0.3)])   # already related: not linked again
    ds = _run(["bird", "cat", "bird"], Growth(repeats=99, link_weight=0.4, link_repeats=2,
                                              link_type="causes"), net=net)
    assert list(ds.linked_trial.values) == [2, 2]
    pairs = list(zip(ds.linked_source.values, ds.linked_target.values))
    assert pairs == [("feathers", "beak"), ("wings", "beak")]
    expected = _net([("feathers", "wings", "link", 0.3)])
    expected.add_relation("feathers", "beak", "causes", 0.4)
    expected.add_relation("wings", "beak", "causes", 0.4)
    assert replay(net, ds).relations() == expected.relations()


def test_the_carried_state_follows_its_concepts_into_the_grown_network():
    ds = _run(["bird", "bird", "cat", "probe"], Growth(repeats=2), record=True,
              carry=("activation",))
    a = ds.activation
    assert ds.n_concepts.values.tolist() == [6, 7, 7, 7]
    # trial 2 starts where trial 1 ended (the old concepts), the new one from rest
    end1 = a.isel(trial=1).dropna("time", how="all").isel(time=-1)
    start2 = a.isel(trial=2, time=0)
    old = list(FEATURES)
    np.testing.assert_array_equal(start2.sel(concept=old).values, end1.sel(concept=old).values)
    assert float(start2.sel(concept="feathers+wings+beak")) == 0.0
    # recorded time courses span the grown network, in its order; NaN before the concept was
    assert list(a.concept.values) == old + ["feathers+wings+beak"]
    assert np.isnan(a.isel(trial=0).sel(concept="feathers+wings+beak")).all()
    assert list(ds.layer.values) == ["image"] * 6 + ["idea"]


def test_growth_is_deterministic_and_combines_with_learning():
    rule = RescorlaWagner("beak", type="causes", alpha=0.5)
    net = _net([("feathers", "beak", "causes", 0.0), ("fur", "tail", "link", 0.2)])
    args = (["bird", "bird", "probe"], Growth(repeats=2))
    ds1 = _run(*args, net=net, learning=rule)
    ds2 = _run(*args, net=net, learning=rule)
    xr.testing.assert_identical(ds1, ds2)
    grown = learned_network(net, ds1)
    rel = {(s, t): w for s, t, _, w in grown.relations()}
    # two reinforced trials (0.5, then 0.75), then the probe without the outcome: 0.375
    assert rel[("feathers", "beak")] == pytest.approx(0.375, abs=1e-12)
    assert rel[("fur", "tail")] == 0.2
    assert rel[("beak", "feathers+wings+beak")] == 1.0


def test_bad_growth_input_is_named():
    with pytest.raises(tf.ConfigError, match=r"growth.max_size: must be >= min_size \(4\)"):
        Growth(min_size=4, max_size=3)
    with pytest.raises(tf.ConfigError, match="growth.repeats"):
        Growth(repeats=0)
    protocol = tf.Protocol(conditions=CONDS, duration=2.0, trials=["bird"])
    with pytest.raises(tf.ConfigError, match="growth.layer: unknown layer 'ideas'.*did you mean"):
        tf.run_protocol(_net(), MODEL, protocol, growth=Growth(layer="ideas"))
    with pytest.raises(tf.ConfigError, match="growth.link_type: unknown relation type 'cause'"):
        tf.run_protocol(_net(), MODEL, protocol, growth=Growth(link_type="cause"))
    with pytest.raises(tf.ConfigError, match="growth: members = 2"):
        tf.run_protocol(_net(), MODEL, protocol, members=2, growth=Growth())


def test_the_concept_formation_config(tmp_path, capsys):
    """simulations/concept_formation.toml: both feature sets become ideas, and the probes
    complete the pattern only after; [growth] needs a [protocol]; --save-network writes the
    grown network, which a config then reads."""
    from thoughtfield.cli import main
    path = ROOT / "simulations" / "concept_formation.toml"
    out, grown = tmp_path / "f.nc", tmp_path / "grown.json"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--save-network",
                 str(grown)]) == 0
    with xr.open_dataset(out) as ds:
        assert list(ds.formed_concept.values) == ["feathers+wings+beak", "fur+whiskers+tail"]
        assert list(ds.choice.values[:2]) == ["", ""]
        assert list(ds.choice.values[-2:]) == ["beak", "tail"]
    cfg = tmp_path / "next.toml"
    cfg.write_text(f'[network]\nfile = "{grown.name}"\n[run]\nt_end = 1\n'
                   '[[stimuli]]\nconcept = "feathers"\nstart = 0\nstop = 1\namplitude = 2\n')
    net = tf.load_config(cfg).network
    assert net.n == 8 and net.layer("fur+whiskers+tail") == "idea"
    text = path.read_text()
    bare = text[:text.index("\n[protocol]")] + text[text.index("\n[growth]"):]
    (tmp_path / "bare.toml").write_text(bare)
    assert main(["validate", str(tmp_path / "bare.toml")]) == 2
    assert "growth: needs a [protocol]" in capsys.readouterr().err
