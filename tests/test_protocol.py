"""Trial protocols: sequences, what resets and what carries over, per-trial readouts,
summaries; and the README's mechanism figures."""

import re
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_generated_sequences_follow_the_proportions_and_the_seed():
    conds = [tf.Condition("a", weight=3), tf.Condition("b", weight=1), tf.Condition("c", weight=0)]
    p = tf.Protocol(conds, duration=1, n_trials=40, seed=7)
    seq = p.sequence()
    assert seq.count("a") == 30 and seq.count("b") == 10 and "c" not in seq
    assert seq == tf.Protocol(conds, duration=1, n_trials=40, seed=7).sequence()
    assert seq != tf.Protocol(conds, duration=1, n_trials=40, seed=8).sequence()
    assert seq[:30] != ["a"] * 30  # shuffled, not blocked
    # largest remainder: 7 trials at 3:1 -> 5 a (5.25) and 2 b (1.75)
    seq7 = tf.Protocol(conds, duration=1, n_trials=7, seed=1).sequence()
    assert seq7.count("a") == 5 and seq7.count("b") == 2
    # independent draws: proportions only on average
    rnd = tf.Protocol(conds, duration=1, n_trials=4000, seed=2, order="random").sequence()
    assert abs(rnd.count("a") / 4000 - 0.75) < 0.03
    # explicit lists are kept as given
    assert tf.Protocol(conds, duration=1, trials=["b", "b", "a"]).sequence() == ["b", "b", "a"]


def _counter_net():
    return tf.ConceptNetwork(["x", "y"])


def _counter_model(**kw):
    """x integrates its input (linear, no leak from a huge tau is not available, so use
    tau = 1 and read the value): the activation at the trial's end tells what carried."""
    return tf.Model(transfer="linear", pools=[tf.Pool("p", ["x", "y"])],
                    choices=[tf.Choice("p", threshold=10.0)], **kw)


@pytest.mark.parametrize("carry", [(), ("activation",)])
def test_activation_resets_between_trials_unless_carried(carry):
    net = _counter_net()
    model = _counter_model()
    cond = tf.Condition("push", [tf.Pulse("x", 0.0, 1.0, 1.0)])
    proto = tf.Protocol([cond], duration=1.0, trials=["push"] * 3, carry=carry, record=True,
                        save_dt=0.5)
    ds = tf.run_protocol(net, model, proto, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    end = ds.activation.sel(concept="x").isel(time=-1).values
    one = 1 - np.exp(-1.0)  # a pulse of 1 for one time unit from 0
    if not carry:
        np.testing.assert_allclose(end, [one] * 3, atol=1e-9)
        np.testing.assert_allclose(ds.activation.sel(concept="x").isel(time=0).values, 0.0)
    else:
        # x(T) = 1 + (x0 - 1) e^-1 starting from the previous trial's end
        want, x = [], 0.0
        for _ in range(3):
            x = 1 + (x - 1) * np.exp(-1.0)
            want.append(x)
        np.testing.assert_allclose(end, want, atol=1e-9)


def test_continuous_control_carries_over_and_adaptation_resets():
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"], inhibition=1.0)],
                     choices=[tf.Choice("p", threshold=10.0)],
                     controls=[tf.Control(["p"], target={"a": 0.0}, tau=1.0, baseline=0.0,
                                          sensitivity=1.0)],
                     adaptation=tf.Adaptation(tau=1.0, strength=1.0, record=True))
    cond = tf.Condition("both", [tf.Clamp("a", 0, 2, 1.0), tf.Clamp("b", 0, 2, 1.0)])
    proto = tf.Protocol([cond], duration=2.0, trials=["both"] * 3, carry=["control"], record=True)
    ds = tf.run_protocol(net, model, proto, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    # conflict E = inh * 2 a b = 2 throughout; dc/dt = -c + 2: c(t) = 2 + (c0 - 2) e^-t
    c, want = 0.0, []
    for _ in range(3):
        want.append(c)
        c = 2 + (c - 2) * np.exp(-2.0)
    np.testing.assert_allclose(ds.control.sel(controller="control").values, want, atol=1e-8)
    np.testing.assert_allclose(ds.control_after.sel(controller="control").values[:-1], want[1:], atol=1e-8)
    # adaptation starts from 0 in every trial: h(T) = 1 - e^-2 each time
    h_end = ds.adaptation.sel(concept="a").isel(time=-1).values
    np.testing.assert_allclose(h_end, 1 - np.exp(-2.0), atol=1e-8)
    np.testing.assert_allclose(ds.adaptation.sel(concept="a").isel(time=0).values, 0.0)


def test_per_trial_readouts_and_the_summary_table():
    net = tf.ConceptNetwork(["left", "right"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("resp", ["left", "right"])],
                     choices=[tf.Choice("resp", threshold=0.5, onset=1.0, stop=True)])
    conds = [tf.Condition("L", [tf.Pulse("left", 1.0, 10, 1.0)], correct="left"),
             tf.Condition("R", [tf.Pulse("right", 1.0, 10, 1.0)], correct="left"),  # always wrong
             tf.Condition("none", [], correct="left")]
    proto = tf.Protocol(conds, duration=5.0, trials=["L", "R", "none", "L"])
    ds = tf.run_protocol(net, model, proto, solver="rk4")
    assert list(ds.choice.values) == ["left", "right", "", "left"]
    assert list(ds.correct.values) == [True, False, False, True]
    assert list(ds.correct_option.values) == ["left"] * 4
    rt = ds.response_time.values
    assert np.isnan(rt[2]) and abs(rt[0] - np.log(2)) < 1e-8 and rt[0] == pytest.approx(rt[3])
    # without a response the conflict is taken at the end of the trial (both at rest: 0)
    assert ds.conflict_at_response.sel(pool="resp").values[2] == 0.0
    s = tf.trial_summary(ds)
    assert list(s.condition.values) == ["L", "R", "none"]
    assert s.accuracy.sel(condition="L") == 1.0 and s.accuracy.sel(condition="R") == 0.0
    assert s.no_response.sel(condition="none") == 1.0 and np.isnan(s.mean_rt.sel(condition="none"))
    assert float(s.n.sel(condition="L")) == 2
    table = tf.format_trial_summary(ds)
    assert "L" in table and "left 1.00" in table and "(none) 1.00" in table
    by = tf.trial_summary(ds, by_previous=True)
    assert float(by.n.sel(previous="none", condition="L")) == 1
    with pytest.raises(tf.ConfigError, match="trial_summary: not a protocol result"):
        tf.trial_summary(tf.simulate(net, model, t_end=2))


def test_protocol_members_are_independent_participants():
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", threshold=1.0, noise=1.0, stop=True)])
    proto = tf.Protocol([tf.Condition("c", [tf.Clamp("a", 0, 5, 0.6), tf.Clamp("b", 0, 5, 0.4)],
                                      correct="a")], duration=5, n_trials=6)
    kw = dict(solver=tf.Solver("euler_maruyama", dt=0.01), seed=3)
    ds = tf.run_protocol(net, model, proto, members=5, **kw)
    assert ds.response_time.dims == ("member", "trial")
    rt = ds.response_time.values
    assert np.isfinite(rt).mean() > 0.8 and len(np.unique(rt[np.isfinite(rt)])) > 20
    again = tf.run_protocol(net, model, proto, members=5, **kw)
    np.testing.assert_array_equal(again.response_time.values, rt)


MECHANISM_FIGURES = {
    "goals": "conditions", "layers": "trajectories", "choice_lca": "evidence",
    "stroop_control": "conflict", "conflict_adaptation": "trials",
    "hopfield_completion": "ideas", "train_of_thought": "ideas",
}


def test_readme_documents_each_mechanism_figure_with_its_command():
    readme = (ROOT / "README.md").read_text()
    for cfg, kind in MECHANISM_FIGURES.items():
        png = f"docs/img/{cfg}.png"
        cmd = re.search(rf"^thoughtfield run simulations/{cfg}\.toml --out (\S+) && "
                        rf"thoughtfield plot \1 --kind {kind} .*--out {re.escape(png)}( --force)?$",
                        readme, re.M)
        assert cmd, cfg
        assert f"]({png})" in readme, cfg
        assert (ROOT / png).read_bytes()[:4] == b"\x89PNG", cfg


def test_the_train_of_thought_command_prints_the_sequence(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs" / "img").mkdir(parents=True)
    cfg = ROOT / "simulations" / "train_of_thought.toml"
    assert main(["run", str(cfg), "--out", "train.nc"]) == 0
    out = capsys.readouterr().out
    assert "train of thought: beach → holiday → flight → airport → border" in out
    assert main(["plot", "train.nc", "--kind", "ideas", "--out", "docs/img/t.png"]) == 0
    assert (tmp_path / "docs" / "img" / "t.png").stat().st_size > 20_000


def test_summary_conflict_is_that_of_the_monitored_pool():
    # two pools, both in conflict; the controller watches only "resp"
    net = tf.ConceptNetwork(["l", "r", "x", "y", "task"])
    model = tf.Model(transfer="linear",
                     pools=[tf.Pool("resp", ["l", "r"], inhibition=1.0),
                            tf.Pool("other", ["x", "y"], inhibition=3.0)],
                     controls=[tf.Control(monitor=["resp"], target={"task": 0.5}, mode="trial")],
                     choices=[tf.Choice("resp", threshold=10.0)])   # never reached
    both = [tf.Clamp(c, 0, 3, 0.5) for c in ("l", "r", "x", "y")]
    proto = tf.Protocol([tf.Condition("c", both)], duration=3.0, n_trials=2)
    ds = tf.run_protocol(net, model, proto, solver="rk4")
    E = ds.conflict_at_response
    assert (E.sel(pool="other") > 2 * E.sel(pool="resp")).all() and (E.sel(pool="resp") > 0).all()
    assert list(ds.pool_monitored.values) == [True, False]
    s = tf.trial_summary(ds)
    assert float(s.conflict.sel(condition="c")) == pytest.approx(float(E.sel(pool="resp").mean()))
    assert s.conflict.attrs["pools"] == "resp"
    both_pools = tf.trial_summary(ds, pools=["resp", "other"])
    assert float(both_pools.conflict.sel(condition="c")) == pytest.approx(float(E.sum("pool").mean()))
    with pytest.raises(tf.ConfigError, match="unknown pool 'nope'"):
        tf.trial_summary(ds, pools="nope")


def _conflict_by_hand(a, members, inhibition, negative=()):
    """Botvinick's conflict as the docs define it: the Hopfield energy of the pool's
    co-activation, ``E = -sum_{i != j} w_ij a_i a_j`` over ordered pairs of members, with
    ``w_ij = -inhibition`` (lateral inhibition) plus the negative relations between them."""
    E = 0.0
    for i in members:
        for j in members:
            if i != j:
                w = -inhibition + sum(wn for (p, q, wn) in negative if {p, q} == {i, j})
                E -= w * a[i] * a[j]
    return E


def _two_pool_protocol(controls):
    net = tf.ConceptNetwork(["l", "r", "x", "y", "task", "task2"],
                            relations=[("l", "r", "contradicts", 0.5)])
    model = tf.Model(transfer="sigmoid", gain=2.0,
                     pools=[tf.Pool("resp", ["l", "r"], inhibition=1.0),
                            tf.Pool("other", ["x", "y"], inhibition=3.0)],
                     controls=controls,
                     choices=[tf.Choice("resp", threshold=10.0)])   # never reached
    stim = [tf.Pulse("l", amplitude=1.0), tf.Pulse("r", amplitude=0.6),
            tf.Pulse("x", amplitude=2.0), tf.Pulse("y", amplitude=1.5)]
    proto = tf.Protocol([tf.Condition("c", stim)], duration=3.0, n_trials=2, record=True,
                        save_dt=0.5)
    return tf.run_protocol(net, model, proto, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))


def _end_activation(ds, trial):
    act = ds.activation.isel(trial=trial).sel(time=3.0)
    return {str(c): float(v) for c, v in zip(act.concept.values, act.values)}


def test_summary_conflict_is_the_monitored_pools_conflict_computed_by_hand():
    """Issue 14: trial_summary().conflict used to sum every pool; it is the conflict of
    the pool the monitor watches, checked against the documented formula applied to the
    recorded activations (no response: the conflict at the trial's end)."""
    ds = _two_pool_protocol([tf.Control(monitor=["resp"], target={"task": 0.5}, mode="trial")])
    hand_resp, hand_other = [], []
    for k in range(2):
        a = _end_activation(ds, k)
        hand_resp.append(_conflict_by_hand(a, ["l", "r"], 1.0, [("l", "r", -0.5)]))
        hand_other.append(_conflict_by_hand(a, ["x", "y"], 3.0))
    assert np.mean(hand_other) > np.mean(hand_resp) > 0.1   # the sum would be far off
    s = tf.trial_summary(ds)
    assert s.conflict.dims == ("condition",)
    assert float(s.conflict.sel(condition="c")) == pytest.approx(np.mean(hand_resp), rel=1e-6)
    assert s.conflict.attrs["pools"] == "resp"
    assert "conflict" in tf.format_trial_summary(ds).splitlines()[0]


def test_summary_conflict_is_per_monitor_with_several_controllers():
    """Two controllers watching different pools: one conflict per controller, each the
    conflict that drives it (the sum over the pools it monitors)."""
    ds = _two_pool_protocol([
        tf.Control(monitor=["resp"], target={"task": 0.5}, mode="trial", name="c_resp"),
        tf.Control(monitor=["resp", "other"], target={"task2": 0.5}, mode="trial",
                   name="c_both")])
    assert ds.monitor.sel(controller="c_resp").values.tolist() == [True, False]
    assert ds.monitor.sel(controller="c_both").values.tolist() == [True, True]
    hand = {"c_resp": [], "c_both": []}
    for k in range(2):
        a = _end_activation(ds, k)
        e_resp = _conflict_by_hand(a, ["l", "r"], 1.0, [("l", "r", -0.5)])
        e_other = _conflict_by_hand(a, ["x", "y"], 3.0)
        hand["c_resp"].append(e_resp)
        hand["c_both"].append(e_resp + e_other)
    s = tf.trial_summary(ds)
    assert s.conflict.dims == ("condition", "controller")
    for c in ("c_resp", "c_both"):
        assert float(s.conflict.sel(condition="c", controller=c)) == pytest.approx(
            np.mean(hand[c]), rel=1e-6)
    by = tf.trial_summary(ds, by_previous=True)
    assert by.conflict.dims == ("previous", "condition", "controller")
    head = tf.format_trial_summary(ds).splitlines()[0]
    assert "conflict c_resp" in head and "conflict c_both" in head
    # pools= still sums the pools asked for
    one = tf.trial_summary(ds, pools="other")
    assert float(one.conflict.sel(condition="c")) == pytest.approx(
        np.mean(np.array(hand["c_both"]) - np.array(hand["c_resp"])), rel=1e-6)


def test_a_protocol_result_file_is_the_same_bytes_every_time(tmp_path):
    """Protocol results stored their wall time (wall_time_s), so two runs of one config
    gave different files; the README promises the same bytes."""
    from thoughtfield.cli import main
    files = []
    for k in range(2):
        out = tmp_path / f"p{k}.nc"
        assert main(["run", str(ROOT / "simulations" / "conflict_adaptation.toml"), "--out",
                     str(out), "--quiet", "--set", "protocol.n_trials=10",
                     "--set", "run.members=2"]) == 0
        files.append(out.read_bytes())
    assert files[0] == files[1]


def test_info_of_a_protocol_config_reports_its_trials_not_the_run_span(capsys):
    cfg = Path(__file__).resolve().parents[1] / "simulations" / "concept_formation.toml"
    assert main(["info", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "protocol: 10 trials of 2 time units each (conditions bird, cat, feathers+wings?, " \
           "fur+whiskers?), 1 member(s); every trial's time course is kept" in out
    assert "  run: t =" not in out
