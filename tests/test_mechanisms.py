"""Each mechanism's claim, with numbers: goals steer, layers project, pools compete,
conflict is higher on conflicting input, control resolves it, ideas complete, thought
trains move on, and every solver keeps the extra state (chunking, ensembles)."""

import numpy as np
import pytest

import thoughtfield as tf
from conftest import random_network
from mech_models import (STROOP_THRESHOLDS, TRAIN_IDEAS, stroop_conditions, stroop_model,
                         stroop_network, stroop_trial, train_of_thought)


# ------------------------------------------------------------------ goals
def _goal_net():
    return tf.ConceptNetwork(
        {"sea": "image", "beach": "idea", "sailing": "idea", "relax": "goal", "sport": "goal"},
        [("sea", "beach", "association", 1.0), ("sea", "sailing", "association", 1.0),
         ("relax", "beach", "favours", 1.0), ("sport", "sailing", "favours", 1.0)])


def _goal_model(goal, gain=0.5):
    return tf.Model(transfer="sigmoid", gain=6.0, threshold=0.6,
                    pools=[tf.Pool("ideas", layer="idea", inhibition=2.0)],
                    goals=tf.Goals(gain=gain, active={goal: 1.0} if goal else {}),
                    choices=[tf.Choice("ideas", threshold=0.8)])


def test_same_cue_settles_into_different_ideas_under_different_goals():
    net = _goal_net()
    cue = [tf.Pulse("sea", 1.0, 20.0, 1.0)]
    end = {}
    for goal in ("relax", "sport"):
        ds = tf.simulate(net, _goal_model(goal), cue, t_end=20)
        end[goal] = ds.activation.isel(time=-1)
        assert ds.attrs["status"] == "success"
        assert str(ds.choice.sel(decision="ideas").values) == {"relax": "beach", "sport": "sailing"}[goal]
    assert float(end["relax"].sel(concept="beach")) > 0.95
    assert float(end["relax"].sel(concept="sailing")) < 0.05
    assert float(end["sport"].sel(concept="sailing")) > 0.95
    assert float(end["sport"].sel(concept="beach")) < 0.05
    # the goal bias is kept out of W: favours relations do not appear among the couplings
    sim = tf.Simulation(net, _goal_model("relax"), cue, t_end=2)
    W = sim.weights.toarray()
    i = {c: k for k, c in enumerate(net.concepts)}
    assert W[i["beach"], i["relax"]] == 0.0
    # and without any goal the symmetric cue leaves the two ideas tied
    ds = tf.simulate(net, _goal_model(None), cue, t_end=20)
    b, s = (float(ds.activation.isel(time=-1).sel(concept=c)) for c in ("beach", "sailing"))
    assert abs(b - s) < 1e-9


def test_goal_gain_scales_the_bias_and_goals_can_be_clamped_for_an_interval():
    net = tf.ConceptNetwork({"beach": "idea", "relax": "goal"}, [("relax", "beach", "favours", 1.0)])
    model = tf.Model(transfer="linear",
                     goals=tf.Goals(gain=0.25, active=[tf.Clamp("relax", 2.0, 4.0, 2.0)]))
    ds = tf.simulate(net, model, t_end=6, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12),
                     saveat=tf.SaveAt(times=[2.0, 3.0, 4.0, 6.0]))
    assert list(ds.time.values) == [0.0, 2.0, 3.0, 4.0, 6.0]  # t0 is always saved
    beach = ds.activation.sel(concept="beach").values[1:]
    relax = ds.activation.sel(concept="relax").values[1:]
    np.testing.assert_array_equal(relax[:3], [2.0, 2.0, 2.0])
    # during the clamp beach relaxes towards gain * value = 0.5
    np.testing.assert_allclose(beach[:3], [0.0, 0.5 * (1 - np.exp(-1.0)), 0.5 * (1 - np.exp(-2.0))],
                               atol=1e-9)
    # after the clamp, relax decays freely (2 e^-(t-4)) and beach follows
    assert abs(relax[3] - 2.0 * np.exp(-2.0)) < 1e-9
    b4 = 0.5 * (1 - np.exp(-2.0))
    want = b4 * np.exp(-2.0) + 0.25 * 2.0 * 2.0 * np.exp(-2.0)  # linear ODE solution
    assert abs(beach[3] - want) < 1e-9


# ------------------------------------------------------------------ layers
def _layered_net():
    return tf.ConceptNetwork(
        {"dog_img": "image", "cat_img": "image", "dog": "idea", "cat": "idea", "animal": "structure"},
        [("dog_img", "dog", "is_a", 1.0), ("cat_img", "cat", "is_a", 1.0),
         ("dog", "animal", "is_a", 2.0), ("cat", "animal", "association", 0.5),
         ("dog", "cat", "association", 0.4)])


def test_layer_projections_set_bottom_up_and_top_down_weights_declared_once():
    net = _layered_net()
    net.set_relation_type("is_a", gain=1.5)
    layers = tf.Layers(projections=[tf.LayerProjection("image", "idea", up=1.0, down=0.5),
                                    tf.LayerProjection("idea", "structure", up=0.8, down=0.3,
                                                       types=["is_a"])],
                       lateral={"idea": 0.5})
    sim = tf.Simulation(net, tf.Model(layers=layers), t_end=1)
    W = sim.weights.toarray()
    i = {c: k for k, c in enumerate(net.concepts)}
    # image <-> idea: is_a (gain 1.5) up 1.0 and, declared by the same projection, down 0.5
    assert W[i["dog"], i["dog_img"]] == pytest.approx(1.5 * 1.0)
    assert W[i["dog_img"], i["dog"]] == pytest.approx(1.5 * 0.5)
    # idea <-> structure: the projection covers is_a only
    assert W[i["animal"], i["dog"]] == pytest.approx(1.5 * 2.0 * 0.8)
    assert W[i["dog"], i["animal"]] == pytest.approx(1.5 * 2.0 * 0.3)
    # the association cat -> animal keeps its own symmetric weight (no projection for it)
    assert W[i["animal"], i["cat"]] == pytest.approx(0.5)
    assert W[i["cat"], i["animal"]] == pytest.approx(0.5)
    # inside a layer the lateral gain applies
    assert W[i["dog"], i["cat"]] == pytest.approx(0.4 * 0.5)
    # without layers, is_a only flows upwards
    W0 = net.weight_matrix().toarray()
    assert W0[i["dog_img"], i["dog"]] == 0.0


def test_top_down_grounding_activates_lower_layers_only_with_a_down_gain():
    net = _layered_net()
    res = {}
    for down in (0.0, 1.0):
        layers = tf.Layers(projections=[tf.LayerProjection("image", "idea", up=1.0, down=down),
                                        tf.LayerProjection("idea", "structure", up=1.0, down=down)])
        model = tf.Model(transfer="sigmoid", gain=6.0, threshold=0.5, layers=layers)
        res[down] = tf.simulate(net, model, [tf.Clamp("animal", 0, 20, 1.0)], t_end=20)
    low = res[0.0].activation.isel(time=-1)
    high = res[1.0].activation.isel(time=-1)
    # sigmoid(6 * (0 - 0.5)) = 0.047 is the resting level (a little more where it adds up)
    assert float(low.sel(concept="dog")) < 0.1 and float(low.sel(concept="dog_img")) < 0.06
    assert float(high.sel(concept="dog")) > 0.9 and float(high.sel(concept="dog_img")) > 0.9
    # per-layer summaries are the mean and max over each layer's concepts
    # (derived on demand: not stored in the result by default, issue 14)
    ds = res[1.0]
    assert "layer_mean" not in ds and "layer_max" not in ds
    lay = tf.layer_summaries(ds)
    img = ds.activation.sel(concept=["dog_img", "cat_img"]).values
    np.testing.assert_allclose(lay.layer_mean.sel(level="image").values, img.mean(axis=1), rtol=1e-15)
    np.testing.assert_allclose(lay.layer_max.sel(level="image").values, img.max(axis=1), rtol=0)
    assert list(lay.level.values) == ["image", "idea", "structure"]
    assert float(lay.layer_mean.sel(level="structure")[-1]) == 1.0


# ------------------------------------------------------------------ pools and conflict
def test_lateral_inhibition_makes_a_pool_winner_take_all_and_contradicts_is_symmetric():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "c", "contradicts", 0.7)])
    W = net.weight_matrix().toarray()
    assert W[0, 2] == W[2, 0] == -0.7
    stim = [tf.Pulse("a", 0, 30, 1.0), tf.Pulse("b", 0, 30, 0.9)]
    ends = {}
    for inh in (0.0, 3.0):
        model = tf.Model(transfer="sigmoid", gain=5.0, threshold=0.5,
                         pools=[tf.Pool("p", ["a", "b"], inhibition=inh)])
        ends[inh] = tf.simulate(net, model, stim, t_end=30).activation.isel(time=-1)
    assert float(ends[0.0].sel(concept="b")) > 0.85  # both active without competition
    assert float(ends[3.0].sel(concept="a")) > 0.9 and float(ends[3.0].sel(concept="b")) < 0.1


def test_conflict_is_higher_on_incongruent_than_on_congruent_stroop_trials():
    net = stroop_network()
    model = stroop_model(sensitivity=0.0, noise=0.0)
    E = {}
    for name, (ink, word) in {"congruent": ("green", "green"),
                              "incongruent": ("green", "red")}.items():
        ds = tf.simulate(net, model, stroop_trial(ink, word), t_end=4.0, saveat=tf.SaveAt(dt=0.05))
        E[name] = ds.conflict.sel(pool="response")
        assert str(ds.choice.values[0]) == "say_green"
    late = dict(time=slice(1.5, None))
    assert float(E["incongruent"].sel(**late).mean()) > 4 * float(E["congruent"].sel(**late).mean())
    # E = inh * 2 a_red a_green for a two-member pool with lateral inhibition 1
    ds = tf.simulate(net, model, stroop_trial("green", "red"), t_end=2.0,
                     saveat=tf.SaveAt(times=[2.0]))
    a = ds.activation.isel(time=-1)
    want = 2.0 * float(a.sel(concept="say_red")) * float(a.sel(concept="say_green"))
    assert float(ds.conflict.sel(pool="response")[-1]) == pytest.approx(want, rel=1e-12)


def test_conflict_monitoring_resolves_conflict_faster_and_cuts_errors():
    """Continuous control (tau_c dc/dt = -(c - c0) + lambda E) on noisy Stroop trials:
    with the monitor on, incongruent responses are faster and more accurate."""
    net = stroop_network()
    out = {}
    for lam in (0.0, 20.0):
        model = stroop_model(sensitivity=lam, noise=0.5)
        ds = tf.simulate(net, model, stroop_trial("green", "red"), t_end=6.0, members=300,
                         seed=1, solver=tf.Solver("euler_maruyama", dt=0.002),
                         saveat=tf.SaveAt(dt=0.05))
        corr = ds.choice.sel(decision="response").values == "say_green"
        out[lam] = dict(acc=corr.mean(), rt=float(ds.mean_rt.sel(decision="response")),
                        ctrl=float(ds.control.max()),
                        undecided=float(ds.undecided_fraction.sel(decision="response")))
    off, on = out[0.0], out[20.0]
    assert off["ctrl"] == 1.5  # the monitor off: control stays at baseline
    assert on["ctrl"] > 1.8
    assert on["rt"] < 0.75 * off["rt"]
    assert on["acc"] > off["acc"] + 0.02
    assert on["undecided"] <= off["undecided"]


def test_trial_to_trial_control_shows_conflict_adaptation():
    """Botvinick et al. (2001): control updated from the conflict at each response makes
    incongruent trials after incongruent ones faster and more accurate than after
    congruent ones (the Gratton effect)."""
    net = stroop_network()
    model = stroop_model(mode="trial", persistence=0.5, alpha=20.0, beta=1.0, onset=0.5)
    proto = tf.Protocol(stroop_conditions(), duration=4.0, n_trials=120, seed=3)
    ds = tf.run_protocol(net, model, proto, solver=tf.Solver("euler_maruyama", dt=0.002),
                         members=10, seed=1)
    assert ds.sizes["trial"] == 120 and ds.sizes["member"] == 10
    # the update rule, checked by hand on the readouts
    c = ds.control.sel(controller="control").values
    after = ds.control_after.sel(controller="control").values
    E = ds.conflict_at_response.sel(pool="response").values
    np.testing.assert_allclose(after, 0.5 * c + 0.5 * (20.0 * E + 1.0), rtol=1e-12)
    np.testing.assert_allclose(c[:, 1:], after[:, :-1], rtol=0)  # carried to the next trial
    assert (c[:, 0] == 1.5).all()
    s = tf.trial_summary(ds, by_previous=True)
    inc = ["incongruent_red", "incongruent_green"]
    con = ["congruent_red", "congruent_green"]
    rt_ii = float(s.mean_rt.sel(previous=inc, condition=inc).mean())
    rt_ci = float(s.mean_rt.sel(previous=con, condition=inc).mean())
    acc_ii = float(s.accuracy.sel(previous=inc, condition=inc).mean())
    acc_ci = float(s.accuracy.sel(previous=con, condition=inc).mean())
    assert rt_ii < rt_ci - 0.1
    assert acc_ii > acc_ci + 0.1
    # congruent trials are easy either way
    flat = tf.trial_summary(ds)
    assert float(flat.accuracy.sel(condition=con).min()) > 0.99
    assert float(flat.mean_rt.sel(condition=con).max()) < float(flat.mean_rt.sel(condition=inc).min())


# ------------------------------------------------------------------ ideas as attractors
@pytest.mark.parametrize("form", ["activation", "potential"])
def test_pattern_completion_from_a_40_percent_cue(form):
    """Hopfield network of 1,000 concepts storing 5 dense +-1 patterns (low-rank term, no
    N x N matrix): a cue of 40 % of a pattern completes it."""
    N = 1000
    net = tf.ConceptNetwork([f"n{i}" for i in range(N)])
    ideas = tf.Ideas.random(net, 5, seed=1)
    X = ideas.patterns(net)
    rng = np.random.default_rng(2)
    cued = rng.random(N) < 0.4
    cue = np.where(cued, X[0], 0.0)
    model = tf.Model(form=form, transfer="tanh", gain=4.0, ideas=ideas, initial=cue)
    sim = tf.Simulation(net, model, t_end=20)
    assert sim.problem.xi.shape == (N, 5) and sim.weights.nnz == 0  # low rank, W untouched
    ds = sim.run()
    m = ds.idea_overlap.isel(time=-1).values
    assert abs(float(ds.idea_overlap.isel(time=0).sel(idea="pattern0")) - 0.4) < 0.05
    assert m[0] > 0.9
    assert np.abs(m[1:]).max() < 0.15
    a = ds.activation.isel(time=-1).values
    # the uncued 60 % filled in with the right signs
    assert np.mean(np.sign(a[~cued]) == X[0, ~cued]) > 0.99


def test_set_idea_completes_and_non_members_stay_low():
    rng = np.random.default_rng(0)
    net = random_network(60, k=3, seed=3, scale=0.2, signed=False)
    members = [f"c{i}" for i in rng.choice(60, 10, replace=False)]
    idea = tf.Ideas([tf.Idea("cluster", members)], strength=1.2, normalize=False)
    model = tf.Model(transfer="sigmoid", gain=8.0, threshold=0.6, ideas=idea,
                     pools=[tf.Pool("all", layer="*", inhibition=0.02)])
    cue = [tf.Pulse(c, 0, 3, 1.0) for c in members[:4]]  # 40 % of the set
    ds = tf.simulate(net, model, cue, t_end=30)
    end = ds.activation.isel(time=-1)
    rest = [c for c in net.concepts if c not in members]
    assert float(end.sel(concept=members[4:]).min()) > 0.9
    assert float(end.sel(concept=rest).max()) < 0.1
    assert float(ds.idea_activation.sel(idea="cluster")[-1]) > 0.9
    # without the stored idea the cue fades
    plain = tf.simulate(net, tf.Model(transfer="sigmoid", gain=8.0, threshold=0.6), cue, t_end=30)
    assert float(plain.activation.isel(time=-1).sel(concept=members[4:]).max()) < 0.1


def test_hebbian_representations_agree_and_follow_the_rule():
    n = 40
    net = random_network(n, k=3, seed=4)
    rng = np.random.default_rng(1)
    X = rng.choice([-1.0, 1.0], size=(3, n))
    items = tuple(tf.Idea(f"p{k}", pattern=X[k]) for k in range(3))
    cue = np.where(rng.random(n) < 0.5, X[0], 0.0)
    runs = {}
    for rep in ("sparse", "low_rank"):
        model = tf.Model(transfer="tanh", gain=3.0, initial=cue,
                         ideas=tf.Ideas(items, strength=2.0, representation=rep))
        runs[rep] = tf.simulate(net, model, t_end=4, solver=tf.Solver("rk4", dt=0.01))
    assert np.abs(runs["sparse"].activation.values - runs["low_rank"].activation.values).max() < 1e-12
    # the sparse weights are the outer-product rule with 1/N and a zero diagonal
    sim = tf.Simulation(net, tf.Model(ideas=tf.Ideas(items, strength=2.0, representation="sparse")), t_end=1)
    H = 2.0 / n * (X.T @ X)
    np.fill_diagonal(H, 0.0)
    np.testing.assert_allclose(sim.weights.toarray(), net.weight_matrix().toarray() + H, atol=1e-14)
    # restricted to existing edges: only pairs joined by a relation get a weight
    sim = tf.Simulation(net, tf.Model(ideas=tf.Ideas(items, strength=2.0, restrict_to_edges=True)),
                        t_end=1)
    A = net.weight_matrix().toarray() != 0
    mask = (A | A.T) & ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(sim.weights.toarray(), net.weight_matrix().toarray() + H * mask,
                               atol=1e-14)


def test_covariance_rule_for_sparse_binary_patterns():
    n = 50
    net = tf.ConceptNetwork([f"n{i}" for i in range(n)])
    kw = dict(kind="binary", sparsity=0.2, seed=3, rule="covariance", strength=1.0, normalize=False)
    low = tf.Ideas.random(net, 2, representation="low_rank", **kw)
    X = low.patterns(net)
    Xc = X - X.mean(axis=1, keepdims=True)
    sim = tf.Simulation(net, tf.Model(ideas=low), t_end=1)
    assert sim.problem.xi.shape == (n, 2)
    np.testing.assert_allclose(sim.problem.xi, Xc.T)
    np.testing.assert_allclose(tf._problem.mechanism_arrays(sim.problem).xi_diag,
                               (Xc ** 2).sum(axis=0))
    # small networks get the explicit sparse matrix ("auto"): the same rule
    sim = tf.Simulation(net, tf.Model(ideas=tf.Ideas.random(net, 2, **kw)), t_end=1)
    assert sim.problem.xi.shape == (n, 0)
    H = Xc.T @ Xc
    np.fill_diagonal(H, 0.0)
    np.testing.assert_allclose(sim.weights.toarray(), H, atol=1e-14)


# ------------------------------------------------------------------ train of thought
def test_train_of_thought_visits_at_least_four_ideas_in_order():
    net, model, stim = train_of_thought()
    ds = tf.simulate(net, model, stim, t_end=60, saveat=tf.SaveAt(dt=0.25))
    visits = tf.train_of_thought(ds, threshold=0.6, min_dwell=1.0)
    names = [v.idea for v in visits]
    assert names[:5] == ["beach", "holiday", "flight", "airport", "border"]
    assert tf.format_train(visits[:4]) == "beach → holiday → flight → airport"
    for v, w in zip(visits, visits[1:]):
        assert w.entry >= v.entry + v.dwell - 1e-9  # consecutive, non-overlapping stays
        assert v.dwell > 2.0
    # adaptation is what moves the state on: without it the first idea persists
    frozen = tf.Model(**{**model.__dict__, "adaptation": None})
    still = tf.train_of_thought(tf.simulate(net, frozen, stim, t_end=60,
                                            saveat=tf.SaveAt(dt=0.25)), threshold=0.6)
    assert [v.idea for v in still] == ["beach"]
    # adaptation of the first idea's members has built up by the time it is left
    h = ds.adaptation.sel(concept=TRAIN_IDEAS["beach"]).sel(time=visits[0].exit, method="nearest")
    assert float(h.min()) > 1.0


# ------------------------------------------------------------------ solvers, chunks, members
def _everything():
    net, model, stim = train_of_thought()
    model = tf.Model(**{**model.__dict__,
                        "pools": (tf.Pool("all", concepts=list(net.concepts), inhibition=0.5),
                                  tf.Pool("pair", ["beach", "flight"], inhibition=0.1)),
                        "choices": (tf.Choice("pair", threshold=0.9, on="evidence", rate=1.0,
                                              leak=0.1, floor=0.0, noise=0.0),),
                        "controls": (tf.Control(monitor=["pair"], target={"holiday": 0.3},
                                                tau=2.0, baseline=0.0),)})
    return net, model, stim


@pytest.mark.parametrize("method", ["euler", "heun", "rk4", "dopri5", "euler_maruyama"])
def test_chunked_runs_with_mechanisms_equal_unsplit_runs(method):
    net, model, stim = _everything()
    if method == "euler_maruyama":
        model = tf.Model(**{**model.__dict__, "sigma": 0.05})
    kw = dict(t_end=25.0, solver=tf.Solver(method, dt=0.02),
              saveat=tf.SaveAt(dt=0.5), seed=3, members=2)
    full = tf.simulate(net, model, stim, **kw)
    sim = tf.Simulation(net, model, stim, **kw)
    for i_hi in (1, 2, 7, 8, 30, 31, 45, 1000):
        sim.advance(i_hi)
    chunked = sim.result()
    for v in ("activation", "adaptation", "control", "evidence", "choice_time", "choice_margin",
              "conflict_at_choice"):
        assert np.array_equal(full[v].values, chunked[v].values, equal_nan=True), v
    assert np.array_equal(full.choice.values, chunked.choice.values)
    assert full.attrs["n_rhs"] == chunked.attrs["n_rhs"]
    assert (full.choice.values != "").any()  # a choice happened inside the run


@pytest.mark.parametrize("form", ["activation", "potential"])
def test_ensemble_members_match_single_runs_with_mechanisms(form):
    net, model, stim = _everything()
    model = tf.Model(**{**model.__dict__, "sigma": 0.05, "form": form})
    sol = tf.Solver("euler_maruyama", dt=0.02)
    one = tf.simulate(net, model, stim, t_end=10, solver=sol, members=1, seed=9)
    three = tf.simulate(net, model, stim, t_end=10, solver=sol, members=3, seed=9)
    for v in ("activation", "control", "evidence"):
        np.testing.assert_allclose(one[v].values, three[v].isel(member=0).values, rtol=1e-11,
                                   atol=1e-13)
    assert not np.allclose(three.activation.isel(member=0).values, three.activation.isel(member=1).values)


def test_noise_on_evidence_needs_the_stochastic_solver():
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", noise=0.1)])
    assert model.has_noise
    with pytest.raises(tf.ConfigError, match="deterministic but the model has noise"):
        tf.simulate(net, model, t_end=1)


def test_evidence_floor_projects_after_every_step():
    """LCA truncation: an accumulator pushed down stays at the floor (0)."""
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", compare="mean", rate=1.0, floor=0.0,
                                        threshold=5.0)])
    for method in ("rk4", "dopri5"):
        ds = tf.simulate(net, model, [tf.Clamp("a", 0, 5, 1.0)], t_end=5, solver=method)
        ev = ds.evidence.sel(accumulator="p:b").values
        assert (ev >= 0).all() and ev.max() == 0.0
        # the other grows linearly at rate * (1 - 0) = 1
        assert float(ds.evidence.sel(accumulator="p:a")[-1]) == pytest.approx(5.0, rel=1e-9)


def test_results_round_trip_with_mechanism_variables(tmp_path):
    net, model, stim = _everything()
    ds = tf.simulate(net, model, stim, t_end=10, members=2, seed=1, solver="rk4")
    path = tmp_path / "m.nc"
    tf.save_result(ds, path)
    back = tf.load_result(path)
    for v in ("activation", "conflict", "control", "evidence", "idea_overlap",
              "choice_time"):
        np.testing.assert_array_equal(back[v].values, ds[v].values)
    assert list(back.choice.values.ravel()) == list(ds.choice.values.ravel())
    rebuilt = tf.Model.from_dict(tf.results.description(ds, "model"))
    assert rebuilt.to_dict() == model.to_dict()


def test_choice_summary_lists_decisions():
    net = tf.ConceptNetwork(["x", "y"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["x", "y"])],
                     choices=[tf.Choice("p", threshold=0.5, correct="x")])
    ds = tf.simulate(net, model, [tf.Pulse("x", 0, 5, 1.0)], t_end=5)
    row = tf.choice_summary(ds)[0]
    assert row["choice"] == "x" and row["correct"] is True
    assert row["response_time"] == pytest.approx(np.log(2), abs=1e-6)


def test_a_sweep_over_a_mechanism_parameter_returns_choice_readouts_per_point():
    """Sweeps (thoughtfield.sweeps) address mechanism keys like any config key: a larger
    evidence rate makes the stronger option win more often and sooner."""
    text = """
        seed = 1
        [network]
        concepts = ["a", "b"]
        [model]
        transfer = "linear"
        [[pools]]
        name = "p"
        concepts = ["a", "b"]
        [[choices]]
        pool = "p"
        on = "evidence"
        noise = 0.5
        threshold = 1.0
        [[stimuli]]
        kind = "clamp"
        concept = "a"
        value = 0.6
        [[stimuli]]
        kind = "clamp"
        concept = "b"
        value = 0.4
        [solver]
        method = "euler_maruyama"
        dt = 0.01
        [run]
        t_end = 5.0
        members = 100
        """
    import textwrap
    ds = tf.sweep(textwrap.dedent(text), grid={"choices[0].rate": [0.5, 2.0]}, workers=1)
    p = ds.choice_probability.sel(decision="p", option="a").values.ravel()
    rt = ds.mean_rt.sel(decision="p").values.ravel()
    assert p[1] > p[0] + 0.15 and rt[1] < rt[0]


def test_mechanism_lowerers_are_registered_in_order_and_one_can_be_added():
    """Each mechanism is lowered by its own registered function; a registered lowerer runs
    for every problem, after the ones it reads (state rows claimed in order)."""
    from thoughtfield import build
    names = [k for k, _ in build.LOWERERS]
    assert names.index("pools") < names.index("choices") < names.index("controls")
    assert names.index("adaptation_rows") < names.index("control_rows") < names.index("choices")
    seen = []

    def spy(lw):
        seen.append((lw.layout.h_off, lw.layout.c_off, lw.nstate))

    build.register_lowerer("spy", spy)
    try:
        with pytest.raises(ValueError, match="registered already"):
            build.register_lowerer("spy", spy)
        net = tf.ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b")])
        model = tf.Model(adaptation=tf.Adaptation(strength=0.5, tau=5.0),
                         pools=[tf.Pool("p", ["a", "b"], inhibition=1.0)],
                         controls=[tf.Control(monitor=["p"], target={"a": 1.0})])
        tf.Simulation(net, model, t_end=1.0)
        assert seen == [(2, 4, 5)]          # h rows 2..3, control row 4: five state rows
    finally:
        build.LOWERERS[:] = [(k, f) for k, f in build.LOWERERS if k != "spy"]
