"""Learning between trials: the Rescorla-Wagner rule against its closed forms and the
recursion written out here; blocking and overshadowing; the dynamics run on what was
learned; bad input."""

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.learning import RescorlaWagner


def _net(cues=("light", "tone", "bell", "click"), w0=0.0):
    concepts = {c: "image" for c in cues}
    concepts.update(food="idea", salivate="structure")
    rel = [(c, "food", "link", w0) for c in cues] + [("food", "salivate", "link", 3.0)]
    return tf.ConceptNetwork(concepts, rel)


MODEL = tf.Model(gain=4.0, threshold=0.5, tau=0.2,
                 pools=[tf.Pool("response", ["salivate"])],
                 choices=[tf.Choice("response", threshold=0.8)])


def _cond(name, cues, food):
    stim = [tf.Pulse(c, 0.0, 1.0, 2.0) for c in cues]
    if food:
        stim.append(tf.Pulse("food", 0.5, 1.0, 2.0))
    return tf.Condition(name, stimuli=stim)


def _run(conditions, trials, rule, net=None, **kw):
    protocol = tf.Protocol(conditions=conditions, duration=1.5, trials=trials, **kw)
    return tf.run_protocol(net or _net(), MODEL, protocol, seed=1, learning=rule)


def test_acquisition_and_extinction_follow_the_closed_form():
    """One cue: V_n = lambda (1 - (1 - alpha beta)^n) while reinforced, then
    V_{n+m} = V_n (1 - alpha beta_absent)^m."""
    rule = RescorlaWagner("food", alpha=0.3, beta=0.5, beta_absent=0.25, lam=1.0)
    ds = _run([_cond("L+", ["light"], True), _cond("L-", ["light"], False)],
              ["L+"] * 12 + ["L-"] * 9, rule)
    v = ds.associative_strength.sel(cue="light").values
    n = np.arange(1, 13)
    assert np.allclose(v[:12], 1 - (1 - 0.15) ** n, rtol=0, atol=1e-12)
    m = np.arange(1, 10)
    assert np.allclose(v[12:], v[11] * (1 - 0.075) ** m, rtol=0, atol=1e-12)
    assert np.allclose(ds.prediction_error.values, np.where(np.arange(21) < 12, 1.0, 0.0)
                       - ds.prediction.values, atol=0)
    assert float(ds.associative_strength.sel(cue="tone")[-1]) == 0.0   # never presented


def _recursion(seq, present, reinforced, alpha, beta, lam=1.0):
    w = dict.fromkeys(alpha, 0.0)
    out = []
    for c in seq:
        v = sum(w[k] for k in present[c])
        err = (lam if reinforced[c] else 0.0) - v
        for k in present[c]:
            w[k] += alpha[k] * beta * err
        out.append(dict(w))
    return out


def test_blocking_within_subjects():
    """A+ first, then AB+ and CD+: B, whose compound's outcome A already predicts, learns
    almost nothing; D, trained in the same compound phase, learns half."""
    conds = [_cond("A+", ["light"], True), _cond("AB+", ["light", "tone"], True),
             _cond("CD+", ["bell", "click"], True)]
    seq = ["A+"] * 20 + ["AB+", "CD+"] * 20
    ds = _run(conds, seq, RescorlaWagner("food", alpha=0.25, beta=1.0))
    ref = _recursion(seq, {"A+": ["light"], "AB+": ["light", "tone"], "CD+": ["bell", "click"]},
                     {"A+": True, "AB+": True, "CD+": True},
                     dict.fromkeys(["light", "tone", "bell", "click"], 0.25), 1.0)
    for k, w in enumerate(ref):
        for cue, value in w.items():
            assert float(ds.associative_strength.sel(cue=cue)[k]) == pytest.approx(value, abs=1e-12)
    end = ds.associative_strength.isel(trial=-1)
    assert float(end.sel(cue="tone")) < 0.01 < 0.45 < float(end.sel(cue="click"))


def test_overshadowing_splits_by_salience():
    """AB+ with saliences 0.5 and 0.1: every update is proportional to the salience, so
    V_A / V_B = 5 on every trial and V_A + V_B approaches lambda."""
    rule = RescorlaWagner("food", alpha={"light": 0.5, "tone": 0.1}, beta=0.8, lam=2.0)
    ds = _run([_cond("AB+", ["light", "tone"], True)], ["AB+"] * 30, rule)
    a = ds.associative_strength.sel(cue="light").values
    b = ds.associative_strength.sel(cue="tone").values
    assert np.allclose(a / b, 5.0, rtol=1e-12)
    assert a[-1] + b[-1] == pytest.approx(2.0, abs=1e-6)


def test_the_next_trial_runs_on_what_was_learned():
    """A probe (light alone) drives the food concept, and through it the response, only
    once light has been paired with food; without learning the probes stay silent."""
    conds = [_cond("L+", ["light"], True), _cond("probe", ["light"], False)]
    seq = ["probe"] + ["L+"] * 15 + ["probe"]
    rule = RescorlaWagner("food", alpha=0.5, beta=0.5, beta_absent=0.01, lam=3.0)
    learned = _run(conds, seq, rule, record=True, save_dt=0.05)
    food = learned.activation.sel(concept="food").isel(time=-1).values
    assert food[-1] > food[0] + 0.3
    assert learned.choice.values[0] == "" and learned.choice.values[-1] == "salivate"
    plain = tf.run_protocol(_net(), MODEL, tf.Protocol(conditions=conds, duration=1.5,
                                                       trials=seq), seed=1)
    assert plain.choice.values[-1] == "" and "associative_strength" not in plain


def test_bad_learning_input_is_named():
    conds = [_cond("L+", ["light"], True)]
    with pytest.raises(tf.ConfigError, match=r"learning.outcome: unknown concept 'fod'"):
        _run(conds, ["L+"], RescorlaWagner("fod"))
    with pytest.raises(tf.ConfigError, match=r"learning: no 'association' relation leads to the "
                                             r"outcome 'food'"):
        _run(conds, ["L+"], RescorlaWagner("food", type="association"))
    with pytest.raises(tf.ConfigError, match=r"learning.alpha.lite: not a cue \(did you mean "
                                             r"'light'\?\); the cues are .*: light, tone"):
        _run(conds, ["L+"], RescorlaWagner("food", alpha={"lite": 0.3}))
    with pytest.raises(tf.ConfigError, match=r"learning.beta: must be in \(0, 1\] \(got 1.5\)"):
        RescorlaWagner("food", beta=1.5)
    with pytest.raises(tf.ConfigError, match=r"learning.type: unknown relation type 'predict'"):
        _run(conds, ["L+"], RescorlaWagner("food", type="predict"))


def test_the_blocking_config_blocks_and_needs_a_protocol(tmp_path, capsys):
    """simulations/blocking.toml: the tone (blocked) ends far below the click (trained in
    a compound from scratch), and the probes show it in the responses; [learning]
    without a [protocol] is refused with one line."""
    from pathlib import Path
    from thoughtfield.cli import main
    path = Path(__file__).resolve().parents[1] / "simulations" / "blocking.toml"
    ds = tf.run_config(path)
    end = ds.associative_strength.isel(trial=-3)          # before the two probes
    assert float(end.sel(cue="tone")) < 0.05 * float(end.sel(cue="click"))
    assert list(ds.choice.values[-2:]) == ["", "salivate"]
    text = path.read_text()
    bare = text[:text.index("[protocol]")] + text[text.index("[run]"):]
    cfg = tmp_path / "bare.toml"
    cfg.write_text(bare)
    assert main(["validate", str(cfg)]) == 2
    assert "learning: needs a [protocol]" in capsys.readouterr().err


def test_a_learned_network_is_saved_and_the_next_run_starts_from_it(tmp_path, capsys):
    """``run --save-network``: the file holds the weights after the last trial (exactly,
    as the result records them) and every other relation unchanged; a config that reads
    it runs on what the first one learned, so a reinforced cue drives the outcome at once."""
    import json
    from pathlib import Path

    from thoughtfield.cli import main
    from thoughtfield.io import write_network
    from thoughtfield.learning import learned_network
    conds = [_cond("L+", ["light"], True), _cond("L?", ["light"], False)]
    rule = RescorlaWagner("food", alpha=0.3)
    ds = _run(conds, ["L+"] * 8, rule)
    learned = learned_network(_net(), ds)
    w = {(s, t): x for s, t, _, x in learned.relations()}
    assert w[("light", "food")] == float(ds.associative_strength.sel(cue="light")[-1])
    assert w[("light", "food")] == pytest.approx(1 - 0.7 ** 8, abs=1e-12)
    assert w[("tone", "food")] == 0.0 and w[("food", "salivate")] == 3.0
    # through a file and a config: the probe alone now evokes the response
    write_network(learned, tmp_path / "learned.json")
    again = tf.ConceptNetwork.from_dict(json.loads((tmp_path / "learned.json").read_text()))
    assert again.relations() == learned.relations()
    naive = _run(conds, ["L?"], None)
    primed = _run(conds, ["L?"], None, net=again)
    assert list(naive.choice.values) == [""] and list(primed.choice.values) == ["salivate"]
    # the command line: written beside the result, refused up front where nothing is learned
    root = Path(__file__).resolve().parents[1] / "simulations"
    out = tmp_path / "net.graphml"
    assert main(["run", str(root / "blocking.toml"), "--out", str(tmp_path / "b.nc"),
                 "--quiet", "--save-network", str(out)]) == 0
    assert tf.io.read_graphml(out).n_relations == 5
    assert main(["run", str(root / "quickstart.toml"), "--out", str(tmp_path / "q.nc"),
                 "--save-network", str(tmp_path / "q.json")]) == 2
    err = capsys.readouterr().err
    assert "learns nothing (no [learning], [plasticity] or [growth] section)" in err
    assert not (tmp_path / "q.nc").exists()
    with pytest.raises(tf.ConfigError, match="records no learning"):
        learned_network(_net(), naive)
