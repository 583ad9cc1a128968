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
    both = coupling_matrix(net, dataclasses.replace(model, goals=tf.Goals(types=["serves"]))).toarray()
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
