"""Every validation error of the mechanism descriptions, protocols and their config
sections names the key and says what to do."""

import textwrap

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main


@pytest.fixture
def net():
    return tf.ConceptNetwork({"sun": "image", "sea": "image", "beach": "idea", "relax": "goal"},
                             [("sun", "beach"), ("relax", "beach", "favours", 1.0)])


@pytest.mark.parametrize("make,match", [
    (lambda: tf.Adaptation(tau=-1), r"adaptation.tau: must be > 0 \(got -1\)"),
    (lambda: tf.Adaptation(strength={"sun": -0.5}), r"adaptation.strength.sun: must be >= 0"),
    (lambda: tf.Adaptation.from_dict({"tua": 1}), r"adaptation: unknown key 'tua' \(did you mean 'tau'\?\)"),
    (lambda: tf.Goals(types="favours"), r"goals.types: expected a list of names"),
    (lambda: tf.Goals(gain="high"), r"goals.gain: must be a number"),
    (lambda: tf.Goals(active=5), r"goals.active: expected a table of concept = value"),
    (lambda: tf.Goals(active=[{"concept": "relax", "valu": 1}]), r"goals.active\[0\]: unknown key 'valu'"),
    (lambda: tf.LayerProjection("image", "image"), r"projection.upper: must differ from lower"),
    (lambda: tf.LayerProjection("image", "idea", up=-1), r"projection.up: must be >= 0"),
    (lambda: tf.Layers(projections=[{"lower": "image"}]), r"layers.projections\[0\].upper: missing"),
    (lambda: tf.Layers(lateral={"idea": -2}), r"layers.lateral.idea: must be >= 0"),
    (lambda: tf.Pool("p"), r"pool 'p': give either concepts or layer"),
    (lambda: tf.Pool("p", ["a"], layer="idea"), r"pool 'p': give either concepts or layer"),
    (lambda: tf.Pool("p", ["a", "a"]), r"pool 'p'.concepts: 'a' is listed twice"),
    (lambda: tf.Pool("p", ["a"], inhibition=-1), r"pool 'p'.inhibition: must be >= 0 \(got -1\)"),
    (lambda: tf.Pool.from_dict({"concepts": ["a"]}, "pools[1]"), r"pools\[1\].name: missing"),
    (lambda: tf.Choice("p", on="evidense"), r"choice.on: must be one of .*did you mean 'evidence'"),
    (lambda: tf.Choice("p", leak=0.1), r"choice.leak: applies to evidence accumulators only"),
    (lambda: tf.Choice("p", on="evidence", floor=1.0, threshold=0.5), r"choice.threshold: must be > floor"),
    (lambda: tf.Choice("p", on="evidence", compare="median"), r"choice.compare: must be one of"),
    (lambda: tf.Choice("p", onset=-1), r"choice.onset: must be >= 0"),
    (lambda: tf.Choice.from_dict({"pool": "p", "treshold": 1}, "choices[0]"),
     r"choices\[0\]: unknown key 'treshold' \(did you mean 'threshold'\?\)"),
    (lambda: tf.Control(monitor=[]), r"control.monitor: must list at least one name"),
    (lambda: tf.Control(monitor=["p"], target="goal"), r"control.target: must be 'goals', 'gates' .*did you mean 'goals'"),
    (lambda: tf.Control(monitor=["p"], target={}), r"control.target: the table of concepts is empty"),
    (lambda: tf.Control(monitor=["p"], mode="trials"), r"control.mode: must be one of .*did you mean 'trial'"),
    (lambda: tf.Control(monitor=["p"], persistence=1.5), r"control.persistence: must be <= 1"),
    (lambda: tf.Control(monitor=["p"], tau=0), r"control.tau: must be > 0"),
    (lambda: tf.Idea("x"), r"idea 'x': give either concepts \(a set\) or pattern"),
    (lambda: tf.Idea("x", pattern=[1.0, np.nan]), r"idea 'x'.pattern\[1\]: must be finite"),
    (lambda: tf.Ideas([]), r"ideas: must list at least one idea"),
    (lambda: tf.Ideas([tf.Idea("a", ["x"]), tf.Idea("a", ["y"])]), r"ideas: duplicate idea name 'a'"),
    (lambda: tf.Ideas([tf.Idea("a", ["x"])], rule="oja"), r"ideas.rule: must be one of"),
    (lambda: tf.Ideas([tf.Idea("a", ["x"])], representation="low_rank", restrict_to_edges=True),
     r"'low_rank' cannot be restricted to existing edges"),
    (lambda: tf.Model(form="potentiel"), r"form: must be one of .*did you mean 'potential'"),
    (lambda: tf.Model(pools=["p"]), r"pools\[0\]: expected a Pool or a table"),
    (lambda: tf.Model(choices=[tf.Choice("resp")]), r"choices\[0\].pool: unknown pool 'resp'; define it under pools"),
    (lambda: tf.Model(pools=[tf.Pool("p", ["a"]), tf.Pool("p", ["b"])]), r"pools\[1\].name: duplicate pool name 'p'"),
    (lambda: tf.Model(pools=[tf.Pool("resp", ["a"])], choices=[tf.Choice("resp"), tf.Choice("resp")]),
     r"choices\[1\].pool: pool 'resp' already has a choice"),
    (lambda: tf.Model(pools=[tf.Pool("resp", ["a"])], controls=[tf.Control(["rsp"])]),
     r"controls\[0\].monitor: unknown pool 'rsp' \(did you mean 'resp'\?\)"),
    (lambda: tf.Model(pools=[tf.Pool("p", ["a"])], controls=[tf.Control(["p"])]),
     r"controls\[0\].target: 'goals' but the model has no goals"),
    (lambda: tf.Model(record_potential="yes"), r"record_potential: must be true or false"),
    (lambda: tf.Model.from_dict({"pool": []}), r"model: unknown key 'pool' \(did you mean 'pools'\?\)"),
])
def test_description_errors(make, match):
    with pytest.raises(tf.ConfigError, match=match):
        make()


@pytest.mark.parametrize("model,match", [
    (tf.Model(pools=[tf.Pool("p", ["sun", "sunn"])]), r"pools\[0\].concepts\[1\]: unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    (tf.Model(pools=[tf.Pool("p", layer="goals")]), r"pools\[0\].layer: unknown layer 'goals'.*did you mean 'goal'"),
    (tf.Model(pools=[tf.Pool("p", layer="structure")]), r"pools\[0\].layer: layer 'structure' has no concepts"),
    (tf.Model(goals=tf.Goals(types=["favors"])), r"goals.types: unknown relation type 'favors'.*did you mean 'favours'"),
    (tf.Model(goals=tf.Goals(active={"relaks": 1.0})), r"goals.active\[0\].concept: unknown concept 'relaks'"),
    (tf.Model(layers=tf.Layers([tf.LayerProjection("idea", "image")])), r"layers.projections\[0\].lower: 'idea' is above 'image'"),
    (tf.Model(layers=tf.Layers([tf.LayerProjection("image", "ideas")])), r"layers.projections\[0\].upper: unknown layer 'ideas'"),
    (tf.Model(layers=tf.Layers([tf.LayerProjection("image", "idea", types=["association"]),
                                tf.LayerProjection("image", "idea", types=["is_a", "association"])])),
     r"layers.projections\[1\]: relation .* is also covered by layers.projections\[0\]"),
    (tf.Model(layers=tf.Layers([tf.LayerProjection("image", "idea", types=["asociation"])])),
     r"layers.projections\[0\].types: unknown relation type 'asociation'"),
    (tf.Model(pools=[tf.Pool("p", ["sun", "sea"])], choices=[tf.Choice("p", correct="beach")]),
     r"choices\[0\].correct: 'beach' is not in pool 'p' \(options: sun, sea\)"),
    (tf.Model(pools=[tf.Pool("p", ["sun", "sea"])], choices=[tf.Choice("p", onset=50)]),
     r"choices\[0\].onset: 50 is at or after the end of the run"),
    (tf.Model(pools=[tf.Pool("p", ["sun"])], controls=[tf.Control(["p"], target={"beech": 1.0})]),
     r"controls\[0\].target.beech: unknown concept 'beech' \(did you mean 'beach'\?\)"),
    (tf.Model(ideas=tf.Ideas([tf.Idea("i", ["sun", "moon"])])), r"idea 'i'.concepts\[1\]: unknown concept 'moon'"),
    (tf.Model(ideas=tf.Ideas([tf.Idea("i", pattern=[1.0, -1.0])])), r"idea 'i'.pattern: has 2 values but the network has 4"),
    (tf.Model(adaptation=tf.Adaptation(tau={"sn": 2.0})), r"adaptation.tau.sn: unknown concept 'sn'"),
])
def test_errors_found_when_lowered(net, model, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.simulate(net, model, t_end=10)


def test_ideas_cue_and_random_validate(net):
    ideas = tf.Ideas([tf.Idea("i", ["sun", "sea"])])
    with pytest.raises(tf.ConfigError, match=r"ideas.cue.idea: unknown idea 'j'"):
        ideas.cue(net, "j")
    with pytest.raises(tf.ConfigError, match=r"ideas.cue.fraction: must be <= 1"):
        ideas.cue(net, "i", 2.0)
    with pytest.raises(tf.ConfigError, match=r"ideas.random: kind: must be one of"):
        tf.Ideas.random(net, 2, kind="gauss")
    cue = ideas.cue(net, "i", 0.5, seed=1)
    assert cue.sum() == 1.0 and set(np.flatnonzero(cue)) <= {0, 1}


@pytest.mark.parametrize("make,match", [
    (lambda: tf.Protocol([], duration=1, n_trials=2), r"protocol.conditions: must list at least one condition"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=0, n_trials=2), r"protocol.duration: must be > 0"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=1), r"protocol: give either trials .* or n_trials"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=1, trials=["a"], n_trials=3), r"protocol: give either trials"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=1, trials=["b"]), r"protocol.trials\[0\]: unknown condition 'b'"),
    (lambda: tf.Protocol([tf.Condition("a"), tf.Condition("a")], duration=1, n_trials=2), r"duplicate condition name 'a'"),
    (lambda: tf.Protocol([tf.Condition("a", weight=0)], duration=1, n_trials=2), r"the weights sum to 0"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=1, n_trials=2, carry=["controls"]),
     r"protocol.carry: unknown state 'controls' \(did you mean 'control'\?\)"),
    (lambda: tf.Protocol([tf.Condition("a", [tf.Pulse("x", 5, 6)])], duration=2, n_trials=1),
     r"condition 'a': stimuli\[0\].start = 5 is at or after the end of the trial"),
    (lambda: tf.Protocol([tf.Condition("a")], duration=1, n_trials=2, order="blocked"), r"protocol.order: must be one of"),
    (lambda: tf.Condition("a", stimuli=[{"concept": "x", "amp": 1}]), r"condition 'a': stimuli\[0\]: unknown key 'amp'"),
    (lambda: tf.Protocol.from_dict({"conditions": [{"name": "a"}], "duraton": 1}),
     r"protocol: unknown key 'duraton' \(did you mean 'duration'\?\)"),
])
def test_protocol_errors(make, match):
    with pytest.raises(tf.ConfigError, match=match):
        make()


def test_protocol_needs_a_choice_and_a_known_decision(net):
    proto = tf.Protocol([tf.Condition("a", correct="sun")], duration=2, n_trials=2)
    with pytest.raises(tf.ConfigError, match=r"protocol: the model has no choice"):
        tf.run_protocol(net, tf.Model(), proto)
    m = tf.Model(pools=[tf.Pool("p", ["sun", "sea"]), tf.Pool("q", ["beach", "relax"])],
                 choices=[tf.Choice("p"), tf.Choice("q")])
    with pytest.raises(tf.ConfigError, match=r"protocol.decision: the model has 2 choices \(p, q\); name the response pool"):
        tf.run_protocol(net, m, proto)
    with pytest.raises(tf.ConfigError, match=r"protocol.decision: no choice on pool 'r'"):
        tf.run_protocol(net, m, tf.Protocol([tf.Condition("a")], duration=2, n_trials=1, decision="r"))
    with pytest.raises(tf.ConfigError, match=r"condition 'a': choices\[1\].correct: 'sun' is not in pool 'q'"):
        tf.run_protocol(net, m, tf.Protocol([tf.Condition("a", correct="sun")], duration=2,
                                            n_trials=1, decision="q"))


# ------------------------------------------------------------------ config sections
BASE = """
[network]
relations = [["sun", "beach"], ["relax", "beach", "favours", 1.0], ["sea", "beach"]]
[network.concepts]
image = ["sun", "sea"]
idea = ["beach"]
goal = ["relax"]
[run]
t_end = 5.0
"""


@pytest.mark.parametrize("extra,match", [
    ('[[pools]]\nname = "p"\nconcept = ["sun"]\n', r"pools\[0\].concept: unknown key 'concept' \(did you mean 'concepts'\?\)"),
    ('[[pools]]\nname = "p"\n', r"pools\[0\]: give exactly one of concepts and layer"),
    ('[[pools]]\nconcepts = ["sun"]\n', r"pools\[0\].name: missing"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun", "moon"]\n', r"pools\[0\].concepts\[1\]: unknown concept 'moon'"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun"]\ninhibition = -1\n', r"pools\[0\].inhibition: must be >= 0"),
    ('[pools]\nname = "p"\n', r"pools: must be an array of tables, written \[\[pools\]\]"),
    ('[[choices]]\npool = "resp"\n', r"choices\[0\].pool: unknown pool 'resp'"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun", "sea"]\n[[choices]]\npool = "p"\non = "evidence"\nnoise = 0.1\n',
     r"solver.method: 'dopri5' is deterministic but the model has noise"),
    ('[goals]\ntypes = ["favors"]\n', r"goals.types: unknown relation type 'favors'"),
    ('[goals]\nactive = { relaks = 1.0 }\n', r"goals.active\[0\].concept: unknown concept 'relaks'"),
    ('[layers]\nprojections = [{ lower = "idea", upper = "image" }]\n', r"layers.projections\[0\].lower: 'idea' is above 'image'"),
    ('[layers]\nprojections = [{ lower = "image", uper = "idea" }]\n', r"layers.projections\[0\].uper: unknown key 'uper' \(did you mean 'upper'\?\)"),
    ('[adaptation]\ntau = 0\n', r"adaptation.tau: must be > 0"),
    ('[ideas]\nstrength = 1.0\n', r"ideas: no ideas"),
    ('[ideas]\nsets = { i = ["sun", "moon"] }\n', r"idea 'i'.concepts\[1\]: unknown concept 'moon'"),
    ('[ideas]\nsets = { i = ["sun"] }\ncue = { idea = "j" }\n', r"ideas.cue.idea: unknown idea 'j'"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun"]\n[[controls]]\nmonitor = ["p"]\n', r"controls\[0\].target: 'goals' but the model has no goals"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun"]\n[[controls]]\nmonitor = ["p"]\ntarget = 3\n', r"controls\[0\].target: must be \"goals\", \"gates\", or table concept = gain"),
    ('[protocol]\nn_trials = 2\n[[protocol.conditions]]\nname = "a"\n', r"protocol: the model has no choice"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun", "sea"]\n[[choices]]\npool = "p"\n[protocol]\ntrials = ["a", "b"]\n'
     '[[protocol.conditions]]\nname = "a"\n', r"protocol.trials\[1\]: unknown condition 'b'"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun", "sea"]\n[[choices]]\npool = "p"\n[protocol]\nn_trials = 2\n'
     '[[protocol.conditions]]\nname = "a"\ncorrect = "beach"\n', r"protocol.conditions\[0\].correct: 'beach' is not an option of pool 'p'"),
    ('[[pools]]\nname = "p"\nconcepts = ["sun", "sea"]\n[[choices]]\npool = "p"\n[protocol]\nn_trials = 2\n'
     '[[protocol.conditions]]\nname = "a"\nstimuli = [{ concept = "moon" }]\n', r"protocol.conditions\[0\].stimuli\[0\].concept: unknown concept 'moon'"),
])
def test_config_section_errors(tmp_path, capsys, extra, match):
    path = tmp_path / "c.toml"
    path.write_text(textwrap.dedent(BASE) + extra)
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(path)
    # the command line exits 2 with the message (and its line), no traceback
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "c.toml" in err


def test_config_sections_build_the_model_and_overrides_work():
    cfg = tf.load_config("simulations/stroop_control.toml")
    m = cfg.model
    assert m.controls[0].sensitivity == 20.0 and m.goals.types == ("favours", "inhibits")
    assert m.pools[0].name == "response" and m.choices[0].on == "evidence"
    off = cfg.with_overrides(["controls[0].sensitivity=0", "run.members=4", "run.t_end=2"])
    assert off.model.controls[0].sensitivity == 0.0
    ds = off.run_simulation()
    assert float(ds.control.max()) == 1.5
    # the resolved config rebuilds the same model
    again = tf.load_config(cfg.to_toml(), base_dir="simulations")
    assert again.model.to_dict() == m.to_dict()


def test_protocol_config_runs_with_common_stimuli(tmp_path):
    text = textwrap.dedent(BASE) + textwrap.dedent("""
        [[pools]]
        name = "p"
        concepts = ["sun", "sea"]
        inhibition = 1.0
        [[choices]]
        pool = "p"
        threshold = 0.6
        [[stimuli]]
        kind = "clamp"
        concept = "relax"
        [protocol]
        trials = ["s", "w", "s"]
        [[protocol.conditions]]
        name = "s"
        correct = "sun"
        stimuli = [{ concept = "sun", start = 1.0, amplitude = 2.0 }]
        [[protocol.conditions]]
        name = "w"
        correct = "sea"
        stimuli = [{ concept = "sea", start = 1.0, amplitude = 2.0 }]
        """)
    ds = tf.run_config(text)
    assert list(ds.condition.values) == ["s", "w", "s"]
    assert list(ds.choice.values) == ["sun", "sea", "sun"] and ds.correct.values.all()
    assert ds.attrs["config"] == text
    # the common [[stimuli]] clamp held the goal on in every trial
    prot = tf.load_config(text).protocol
    assert all(c.stimuli[0].concept == "relax" for c in prot.conditions)
    np.testing.assert_allclose(ds.response_time.values, ds.response_time.values[0])


def test_the_discrete_mode_refuses_mechanisms(net):
    with pytest.raises(tf.ConfigError, match=r"model.pools: the discrete 'spreadr' mode does not include"):
        tf.simulate(net, tf.Model(pools=[tf.Pool("p", ["sun"])]), solver="spreadr", t_end=3)
    with pytest.raises(tf.ConfigError, match=r"model.form: the discrete 'spreadr' mode has no state forms"):
        tf.simulate(net, tf.Model(form="potential"), solver="spreadr", t_end=3)
