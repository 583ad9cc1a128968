"""Which directions of a goal relation form the goal bias (``Goals.direction``, issue 20):
with a symmetric goal type, ``"both"`` takes the relation out of W in both directions (a
control on the goals then scales the target -> goal feedback too), ``"goal_to_target"``
only the goal -> target one.  Checked against a numpy right-hand side integrated by
scipy's DOP853, against the numpy coupling with layer gains, and against the
asynchronous update written out."""

import dataclasses

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from thoughtfield.build import coupling_matrix

from mech_models import kernel_rhs

NAMES = ["g", "t1", "t2", "x", "y"]


def _network():
    net = tf.ConceptNetwork(
        NAMES, [("g", "t1", "serves", 1.2), ("g", "t2", "serves", 0.4),
                ("t1", "x", "link", 0.5), ("x", "g", "link", 0.3),
                ("t2", "y", "association", 0.6), ("t1", "t2", "contradicts", 0.5)],
        relation_types=[tf.RelationType("serves", +1, symmetric=True)])
    return net


def _goal_parts(net):
    """``B_f[t, g]``: the goal -> target direction of the 'serves' relations, written out."""
    Bf = np.zeros((5, 5))
    Bf[NAMES.index("t1"), 0] = 1.2
    Bf[NAMES.index("t2"), 0] = 0.4
    W_rest = net.weight_matrix(types=["link", "association", "contradicts"]).toarray()
    return Bf, Bf.T.copy(), W_rest


def _model(direction, **kw):
    return tf.Model(transfer="tanh", tau=[1.0, 0.8, 1.2, 0.9, 1.1], gain=1.5, threshold=0.1,
                    initial={"g": 0.1, "t1": -0.2, "t2": 0.3},
                    goals=tf.Goals(types=["serves"], gain=0.9, direction=direction),
                    pools=[tf.Pool("resp", ["t1", "t2"], inhibition=0.3)], **kw)


@pytest.mark.parametrize("direction", ["both", "goal_to_target"])
def test_the_goal_term_equals_its_numpy_reference(direction):
    net = _network()
    model = _model(direction, controls=[tf.Control(monitor=["resp"], target="goals", tau=2.0,
                                                   baseline=1.0, sensitivity=0.5)])
    stim = [tf.Pulse("g", 0.0, 100.0, 0.8), tf.Pulse("x", 1.0, 3.0, 0.5)]
    Bf, Br, W_rest = _goal_parts(net)
    if direction == "both":
        B, W = Bf + Br, W_rest               # control scales the feedback t -> g as well
    else:
        B, W = Bf, W_rest + Br               # the feedback is an ordinary coupling
    tau = np.array([1.0, 0.8, 1.2, 0.9, 1.1])
    p = [1, 2]

    def conflict(a):   # pool inhibition plus the contradicts coupling inside the pool
        ap = a[p]
        return 0.3 * (ap.sum() ** 2 - (ap ** 2).sum()) + 2 * 0.5 * ap[0] * ap[1]

    def f(t, y):
        a, c = y[:5], y[5]
        I = np.zeros(5)
        I[0] = 0.8
        if 1.0 <= t < 3.0:
            I[3] = 0.5
        x = c * 0.9 * (B @ a)
        x[p] -= 0.3 * (a[p].sum() - a[p])
        da = (-a + np.tanh(1.5 * (W @ a + I + x - 0.1))) / tau
        return np.concatenate([da, [(1.0 - c + 0.5 * conflict(a)) / 2.0]])

    y0 = np.array([0.1, -0.2, 0.3, 0.0, 0.0, 1.0])
    ts = np.linspace(0, 6, 13)
    # integrate piecewise over the input changes (exact restarts at t = 1 and t = 3)
    rows, y = [], y0
    for lo, hi in ((0.0, 1.0), (1.0, 3.0), (3.0, 6.0)):
        sel = ts[(ts >= lo) & ((ts < hi) | (hi == 6.0))]
        sol = solve_ivp(f, (lo, hi), y, method="DOP853", rtol=1e-12, atol=1e-13,
                        t_eval=sel, dense_output=True)
        rows.append(sol.y.T)
        y = sol.sol(hi)
    ref = np.concatenate(rows)
    ds = tf.simulate(net, model, stim, t_end=6.0, saveat=tf.SaveAt(times=ts),
                     solver=tf.Solver("dop853", rtol=1e-11, atol=1e-13))
    assert np.abs(ds.activation.values - ref[:, :5]).max() < 1e-8
    assert np.abs(ds.control.values[:, 0] - ref[:, 5]).max() < 1e-8
    assert np.ptp(ds.control.values) > 0.3   # the control moves: it scales something


def test_the_directions_differ_for_a_symmetric_type_and_agree_for_a_directed_one():
    net = _network()
    ctl = [tf.Control(monitor=["resp"], target="goals", tau=2.0, baseline=1.0, sensitivity=0.5)]
    stim = [tf.Pulse("g", 0.0, 100.0, 0.8)]
    run = {d: tf.simulate(net, _model(d, controls=ctl), stim, t_end=6.0).activation.values
           for d in ("both", "goal_to_target")}
    assert np.abs(run["both"] - run["goal_to_target"]).max() > 1e-2
    # a one-way type (favours) has no feedback to keep: bit for bit the same run
    fav = tf.ConceptNetwork(NAMES, [("g", "t1", "favours", 1.2), ("g", "t2", "favours", 0.4),
                                    ("t1", "x", "link", 0.5), ("x", "g", "link", 0.3)])
    one = {}
    for d in ("both", "goal_to_target"):
        m = dataclasses.replace(_model(d, controls=ctl), goals=tf.Goals(gain=0.9, direction=d))
        one[d] = tf.simulate(fav, m, stim, t_end=6.0).activation.values
    np.testing.assert_array_equal(one["both"], one["goal_to_target"])


def test_with_layers_the_feedback_keeps_its_layer_gains():
    """The goal in an upper layer, its targets below: the feedback t -> g flows up and
    takes the projection's up gain; the goal -> target direction leaves W."""
    net = tf.ConceptNetwork({"g": "task", "t1": "resp", "t2": "resp", "x": "resp",
                             "y": "resp"},
                            [("g", "t1", "serves", 1.2), ("g", "t2", "serves", 0.4),
                             ("t1", "x", "link", 0.5), ("t2", "y", "association", 0.6)],
                            layers=["resp", "task"],
                            relation_types=[tf.RelationType("serves", +1, symmetric=True)])
    layers = tf.Layers(projections=[tf.LayerProjection("resp", "task", up=0.7, down=0.2)],
                       lateral=0.5)
    model = tf.Model(goals=tf.Goals(types=["serves"], direction="goal_to_target"),
                     layers=layers)
    W = coupling_matrix(net, model).toarray()
    i = {n: k for k, n in enumerate(net.concepts)}
    ref = np.zeros((5, 5))
    ref[i["g"], i["t1"]] = 1.2 * 0.7          # feedback t1 -> g, upwards
    ref[i["g"], i["t2"]] = 0.4 * 0.7
    ref[i["x"], i["t1"]] = 0.5 * 0.5          # lateral, inside resp
    ref[i["y"], i["t2"]] = ref[i["t2"], i["y"]] = 0.6 * 0.5
    np.testing.assert_array_equal(W, ref)
    # a projection may name the goal type when its feedback stays in W
    named = tf.Layers(projections=[tf.LayerProjection("resp", "task", up=0.7, down=0.2,
                                                      types=["serves", "link", "association"])],
                      lateral=0.5)
    np.testing.assert_array_equal(
        coupling_matrix(net, dataclasses.replace(model, layers=named)).toarray(), ref)
    with pytest.raises(tf.ConfigError, match="forms the goal bias .*goal_to_target"):
        coupling_matrix(net, dataclasses.replace(model, layers=named,
                                                 goals=tf.Goals(types=["serves"])))
    both = coupling_matrix(net, dataclasses.replace(model, goals=tf.Goals(types=["serves"])))
    both = both.toarray()
    ref[i["g"], i["t1"]] = ref[i["g"], i["t2"]] = 0.0   # "both": no goal relation in W
    np.testing.assert_array_equal(both, ref)


def test_the_asynchronous_update_adds_the_static_goal_term():
    """Sequential updates with direction = goal_to_target and no control: the goal term is
    0.9 B_f a, the feedback part of W."""
    net = _network()
    model = _model("goal_to_target")
    Bf, Br, W_rest = _goal_parts(net)
    W = W_rest + Br
    ds = tf.simulate(net, model, [tf.Clamp("g", 0, 4, 1.0)], t_end=4,
                     solver=tf.Solver("async", order="sequential", dt=1.0),
                     saveat=tf.SaveAt(dt=1.0))
    a = np.array([1.0, -0.2, 0.3, 0.0, 0.0])
    rows = [a.copy()]
    for _ in range(4):
        for i in range(1, 5):   # g is clamped
            x = 0.9 * (Bf[i] @ a) - (0.3 * (a[[1, 2]].sum() - a[i]) if i in (1, 2) else 0.0)
            a[i] = np.tanh(1.5 * (W[i] @ a + x - 0.1))
        rows.append(a.copy())
    np.testing.assert_allclose(ds.activation.values, np.array(rows), rtol=0, atol=1e-14)


def test_a_bad_direction_is_refused():
    with pytest.raises(tf.ConfigError, match="goals.direction: must be one of"):
        tf.Goals(direction="target_to_goal")


# ---------------------------------------------------------------- per-goal control targets
def _two_goal_setup():
    names = ["g1", "g2", "t1", "t2", "x"]
    net = tf.ConceptNetwork(names, [("g1", "t1", "favours", 1.1), ("g1", "x", "favours", 0.4),
                                    ("g2", "t2", "favours", 0.9), ("t1", "x", "link", 0.5),
                                    ("x", "t2", "link", -0.3)])
    ctl = [tf.Control(monitor=["resp"], target="goals", goals=["g1"], name="c1", tau=2.0,
                      baseline=1.0, sensitivity=0.8),
           tf.Control(monitor=["resp"], target="goals", goals=["g2"], name="c2", tau=0.7,
                      baseline=0.5, sensitivity=-0.4)]
    model = tf.Model(transfer="tanh", tau=1.0, gain=1.3, threshold=0.05,
                     initial={"t1": 0.2, "t2": 0.1},
                     goals=tf.Goals(gain=0.7), pools=[tf.Pool("resp", ["t1", "t2"],
                                                               inhibition=0.5)], controls=ctl)
    return names, net, model


def test_each_control_scales_only_its_goals_relations():
    """Two controls with their own time constants and sensitivities, one per goal: the
    goal term is 0.7 (c1 B[:, g1] a_g1 + c2 B[:, g2] a_g2), written out in numpy and
    integrated by scipy's DOP853."""
    names, net, model = _two_goal_setup()
    B = net.weight_matrix(types=["favours"]).toarray()
    W = net.weight_matrix(types=["link"]).toarray()
    i = {n: k for k, n in enumerate(names)}
    B1, B2 = np.zeros_like(B), np.zeros_like(B)
    B1[:, i["g1"]] = B[:, i["g1"]]
    B2[:, i["g2"]] = B[:, i["g2"]]
    p = [i["t1"], i["t2"]]
    I = np.zeros(5)
    I[i["g1"]], I[i["g2"]] = 0.9, 0.6

    def f(t, y):
        a, c1, c2 = y[:5], y[5], y[6]
        E = 0.5 * 2 * a[p[0]] * a[p[1]]          # inh ((sum)^2 - sum of squares)
        x = 0.7 * (c1 * (B1 @ a) + c2 * (B2 @ a))
        x[p] -= 0.5 * (a[p].sum() - a[p])
        da = -a + np.tanh(1.3 * (W @ a + I + x - 0.05))
        return np.concatenate([da, [(1.0 - c1 + 0.8 * E) / 2.0, (0.5 - c2 - 0.4 * E) / 0.7]])

    ts = np.linspace(0, 8, 17)
    y0 = np.array([0, 0, 0.2, 0.1, 0, 1.0, 0.5])
    ref = solve_ivp(f, (0, 8), y0, method="DOP853", rtol=1e-12, atol=1e-13, t_eval=ts).y.T
    stim = [tf.Pulse("g1", 0, 100, 0.9), tf.Pulse("g2", 0, 100, 0.6)]
    ds = tf.simulate(net, model, stim, t_end=8.0, saveat=tf.SaveAt(times=ts),
                     solver=tf.Solver("dop853", rtol=1e-11, atol=1e-13))
    assert np.abs(ds.activation.values - ref[:, :5]).max() < 1e-8
    assert np.abs(ds.control.values - ref[:, 5:]).max() < 1e-8
    # the controls part ways, so scaling all goals with either one would differ
    assert np.abs(ds.control.values[-1, 0] - ds.control.values[-1, 1]) > 0.15


def test_a_control_of_every_goal_equals_the_control_of_the_whole_bias():
    names, net, model = _two_goal_setup()
    one = dataclasses.replace(model, controls=[dataclasses.replace(
        model.controls[0], goals=["g1", "g2"])])
    whole = dataclasses.replace(model, controls=[dataclasses.replace(
        model.controls[0], goals=None)])
    stim = [tf.Pulse("g1", 0, 100, 0.9), tf.Pulse("g2", 0, 100, 0.6)]
    a = tf.simulate(net, one, stim, t_end=8.0).activation.values
    b = tf.simulate(net, whole, stim, t_end=8.0).activation.values
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)   # (c sum) vs (sum c): rounding
    assert np.abs(a[-1] - a[0]).max() > 0.1


def test_per_goal_controls_refuse_what_they_cannot_mean():
    names, net, model = _two_goal_setup()
    c1, c2 = model.controls
    with pytest.raises(tf.ConfigError, match=r"controls\[1\].goals: goal 'g1' is already"):
        dataclasses.replace(model, controls=[c1, dataclasses.replace(c2, goals=["g2", "g1"])])
    with pytest.raises(tf.ConfigError, match="control.goals: names goal concepts .* target"):
        tf.Control(monitor=["resp"], target={"t1": 1.0}, goals=["g1"])
    bad = dataclasses.replace(model, controls=[dataclasses.replace(c1, goals=["t1"])])
    with pytest.raises(tf.ConfigError, match=r"controls\[0\].goals: 't1' is the source of no"):
        tf.simulate(net, bad, t_end=1.0)


CONFIG = """
seed = 1
[network]
relations = [["g1", "t1", "favours", 1.1], ["g1", "x", "favours", 0.4],
             ["g2", "t2", "serves", 0.9], ["t1", "x", "link", 0.5]]
concepts = ["g1", "g2", "t1", "t2", "x"]
[network.relation_types.serves]
symmetric = true
[model]
transfer = "tanh"
[goals]
types = ["favours", "serves"]
gain = 0.7
direction = "goal_to_target"
[[pools]]
name = "resp"
concepts = ["t1", "t2"]
inhibition = 0.5
[[controls]]
name = "c1"
monitor = ["resp"]
target = "goals"
goals = ["g1"]
sensitivity = 0.8
[[controls]]
name = "c2"
monitor = ["resp"]
target = "goals"
goals = ["g2"]
tau = 0.7
baseline = 0.5
[[stimuli]]
concept = "g1"
amplitude = 0.9
[[stimuli]]
concept = "g2"
amplitude = 0.6
[run]
t_end = 5.0
"""


def test_a_config_sets_the_direction_and_the_per_goal_controls():
    cfg = tf.load_config(CONFIG)
    model = cfg.model
    assert model.goals.direction == "goal_to_target"
    assert [c.goals for c in model.controls] == [("g1",), ("g2",)]
    ds = cfg.run_simulation()
    again = tf.load_config(ds.attrs["config_resolved"])   # the result records both
    assert again.model.goals.direction == "goal_to_target"
    assert [c.goals for c in again.model.controls] == [("g1",), ("g2",)]
    ref = tf.simulate(cfg.network, model, cfg.stimuli, t_end=5.0, seed=1,
                      saveat=tf.SaveAt(times=ds.time.values))
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)
    assert np.abs(np.diff(ds.control.values[-1])) > 0.05   # the two controls differ




@pytest.mark.parametrize("whole", [False, True])
def test_the_analysis_takes_per_goal_controls(whole):
    """Dynamics.rhs equals the compiled kernel, its Jacobian finite differences of the
    kernel (with and without a control of the whole bias beside the per-goal ones), and a
    fixed point Newton finds is a zero of the kernel."""
    from thoughtfield.analysis import Dynamics
    names, net, model = _two_goal_setup()
    ctl = list(model.controls)
    if whole:
        ctl.append(tf.Control(monitor=["resp"], target="goals", name="all", tau=1.5,
                              baseline=0.8, sensitivity=0.3))
    model = dataclasses.replace(model, controls=ctl)
    stim = [tf.Pulse("g1", 0, np.inf, 0.9), tf.Pulse("g2", 0, np.inf, 0.6)]
    dyn = Dynamics(net, model, stim)
    kern, _ = kernel_rhs(net, model, stim)
    rng = np.random.default_rng(3)
    for _ in range(4):
        y = np.concatenate([rng.uniform(-0.8, 0.8, 5), rng.uniform(0.3, 2.0, len(ctl))])
        ref = kern(y)
        assert np.max(np.abs(dyn.rhs(y) - ref)) < 1e-12 * max(1.0, np.max(np.abs(ref)))
    J = dyn.jacobian(y).toarray()
    h = 1e-6
    Jfd = np.empty_like(J)
    for j in range(y.size):
        e = np.zeros(y.size)
        e[j] = h
        Jfd[:, j] = (kern(y + e) - kern(y - e)) / (2 * h)
    assert np.max(np.abs(J - Jfd)) < 1e-7 * max(1.0, np.max(np.abs(J)))
    for k in range(5, 5 + len(ctl)):   # every control acts on the concepts
        assert np.count_nonzero(J[:5, k]) >= 1
    fp = tf.fixed_point(net, model, stimuli=stim)
    assert np.max(np.abs(kern(fp.state))) < 1e-9
