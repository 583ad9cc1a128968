"""Gated projections (issue 20): relations that act with a gate's value over time or a
gating concept's output.  References: the hand-written two-phase integration (without the
gated relations, then with them from where the first phase ended) and scipy
``solve_ivp(DOP853)`` on the system written out in numpy."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from thoughtfield.errors import ConfigError

RK4 = tf.Solver(method="rk4", dt=0.01)
EVERY = tf.SaveAt(dt=0.5)


def _stroopish():
    net = tf.ConceptNetwork(layers=("stimulus", "task", "response"))
    for c, layer in (("red", "stimulus"), ("green", "stimulus"), ("colour", "task"),
                     ("say_red", "response"), ("say_green", "response")):
        net.add_concept(c, layer)
    net.add_relation("red", "say_red", "causes", 1.5)
    net.add_relation("green", "say_green", "causes", 1.5)
    net.add_relation("say_red", "say_green", "contradicts", 1.0)
    return net


def test_a_gate_closed_while_the_task_settles_equals_the_two_phase_integration():
    net = _stroopish()
    gate = tf.Gate("respond", source_layer="stimulus", target_layer="response",
                   intervals=[{"start": 0, "stop": 2, "value": 0.0}])
    stims = [tf.Pulse("red", 0, 6, 1.0), tf.Pulse("green", 0, 6, 0.4)]
    ds = tf.simulate(net, tf.Model(gates=[gate]), stimuli=stims, t_end=6.0, solver=RK4,
                     saveat=EVERY)
    # by hand: the first phase without the stimulus -> response relations, the second with
    # them, starting from where the first ended
    p1 = tf.simulate(net.drop_types(["causes"]), tf.Model(), stimuli=stims, t_end=2.0,
                     solver=RK4, saveat=EVERY)
    p2 = tf.simulate(net, tf.Model(initial=p1.activation.isel(time=-1).values),
                     stimuli=[tf.Pulse("red", 2, 6, 1.0), tf.Pulse("green", 2, 6, 0.4)],
                     t0=2.0, t_end=6.0, solver=RK4, saveat=EVERY)
    ref = np.concatenate([p1.activation.values, p2.activation.values[1:]])
    assert np.abs(ds.activation.values - ref).max() < 1e-14
    # the responses were at rest while the gate was closed, and separate once it opened
    r = ds.activation.sel(concept=["say_red", "say_green"])
    assert abs(float(r.sel(time=2.0, concept="say_red") - r.sel(time=2.0, concept="say_green"))) \
        < 1e-14
    assert float(r.sel(time=6.0, concept="say_red") - r.sel(time=6.0, concept="say_green")) > 0.05


def _reference(net, gain_c, t_end, t_eval):
    """u = W_static a + [a_colour]+ * W_gated a + I, tau = 1, sigmoid."""
    names = list(net.concepts)
    i = {c: k for k, c in enumerate(names)}
    n = len(names)
    Ws, Wg = np.zeros((n, n)), np.zeros((n, n))
    Wg[i["say_red"], i["red"]] = 1.5
    Wg[i["say_green"], i["green"]] = 1.5
    Ws[i["say_red"], i["say_green"]] = Ws[i["say_green"], i["say_red"]] = -1.0
    I = np.zeros(n)
    I[i["red"]], I[i["green"]], I[i["colour"]] = 1.0, 0.4, gain_c
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731

    def rhs(t, a):
        g = max(a[i["colour"]], 0.0)
        return sig(Ws @ a + g * (Wg @ a) + I) - a
    return solve_ivp(rhs, (0, t_end), np.zeros(n), method="DOP853", rtol=1e-12, atol=1e-14,
                     t_eval=t_eval).y.T


@pytest.mark.parametrize("drive", [-2.0, 0.5, 3.0])
def test_a_gating_concept_scales_the_pathway_like_the_numpy_reference(drive):
    net = _stroopish()
    gate = tf.Gate("colour_naming", types=["causes"], concept="colour")
    stims = [tf.Pulse("red", 0, 8, 1.0), tf.Pulse("green", 0, 8, 0.4),
             tf.Pulse("colour", 0, 8, drive)]
    ds = tf.simulate(net, tf.Model(gates=[gate]), stimuli=stims, t_end=8.0, solver=tf.Solver(
        method="dop853", rtol=1e-11, atol=1e-13), saveat=EVERY)
    ref = _reference(net, drive, 8.0, ds.time.values)
    assert np.abs(ds.activation.values - ref).max() < 1e-8


def test_gate_intervals_restart_with_every_trial():
    net = _stroopish()
    gate = tf.Gate("respond", types=["causes"], value=0.5,
                   intervals=[{"start": 1, "stop": 3, "value": 2.0}])
    proto = tf.Protocol(conditions=[tf.Condition("red", stimuli=[tf.Pulse("red", 0, 4, 1.0)])],
                        trials=["red", "red"], duration=4.0, carry=[], record=True)
    model = tf.Model(gates=[gate], pools=[tf.Pool("resp", concepts=["say_red", "say_green"])],
                     choices=[tf.Choice("resp", threshold=0.99)])
    ds = tf.run_protocol(net, model, proto, solver=RK4)
    one = tf.simulate(net, model, stimuli=[tf.Pulse("red", 0, 4, 1.0)], t_end=4.0, solver=RK4,
                      saveat=tf.SaveAt(times=ds.time.values))
    for k in range(2):   # the intervals restart with every trial
        assert np.array_equal(ds.activation.isel(trial=k).values, one.activation.values)


@pytest.mark.parametrize("kw,match", [
    (dict(), "selects nothing"),
    (dict(types=["causes"], intervals=[{"start": 0, "stop": 2}, {"start": 1, "stop": 3}]),
     r"overlaps intervals\[0\]"),
    (dict(types=["causes"], intervals=[{"start": 3, "stop": 1}]), r"intervals\[0\]\.stop"),
])
def test_inconsistent_gates_are_refused_when_made(kw, match):
    with pytest.raises(ConfigError, match=match):
        tf.Gate("g", **kw)


@pytest.mark.parametrize("gates,match", [
    ([dict(source_layer="nowhere")], r"gates\[0\].source_layer: unknown layer 'nowhere'"),
    ([dict(types=["is_a"])], r"gates\[0\]: selects no relation"),
    ([dict(types=["causes"]), dict(sources=["red"])], r"gates\[1\]: .* selected by gates\[0\]"),
    ([dict(targets=["say_blue"])], r"gates\[0\].targets\[0\]: unknown concept 'say_blue'"),
    ([dict(types=["causes"], concept="blue")], r"gates\[0\].concept"),
])
def test_gates_that_do_not_fit_the_network_are_refused(gates, match):
    model = tf.Model(gates=[tf.Gate(f"g{k}", **g) for k, g in enumerate(gates)])
    with pytest.raises(ConfigError, match=match):
        tf.simulate(_stroopish(), model, t_end=1.0)


def test_a_plastic_relation_cannot_be_gated():
    model = tf.Model(gates=[tf.Gate("g", types=["causes"])],
                     plasticity=tf.Plasticity(relations=["causes"]))
    with pytest.raises(ConfigError, match="plastic relations cannot be gated"):
        tf.simulate(_stroopish(), model, t_end=1.0)


def test_a_config_declares_gates_as_an_array_of_tables():
    text = """
[network]
layers = ["stimulus", "task", "response"]
relations = [["red", "say_red", "causes", 1.5], ["say_red", "say_green", "contradicts", 1.0]]
[network.concepts]
stimulus = ["red"]
task = ["colour"]
response = ["say_red", "say_green"]
[[gates]]
name = "respond"
source_layer = "stimulus"
target_layer = "response"
intervals = [{ start = 0, stop = 2, value = 0.0 }]
[[stimuli]]
concept = "red"
amplitude = 1.0
[run]
t_end = 4.0
[solver]
method = "rk4"
dt = 0.01
"""
    ds = tf.run_config(tf.load_config(text))
    gate = tf.Gate("respond", source_layer="stimulus", target_layer="response",
                   intervals=[{"start": 0, "stop": 2, "value": 0.0}])
    cfg = tf.load_config(text)
    same = tf.simulate(cfg.network, tf.Model(gates=[gate]), stimuli=[tf.Pulse("red", 0, 4, 1.0)],
                       t_end=4.0, solver=RK4, saveat=tf.SaveAt(times=ds.time.values))
    assert np.array_equal(ds.activation.values, same.activation.values)
    with pytest.raises(ConfigError, match=r":\d+: gates\[0\]\.interval: unknown key"):
        tf.load_config(text.replace("intervals =", "interval ="))


def test_the_analysis_refuses_gated_models():
    model = tf.Model(gates=[tf.Gate("g", types=["causes"])])
    with pytest.raises(ConfigError, match="model.gates: the analysis"):
        tf.analysis.attractors(_stroopish(), model)


def test_control_acting_on_a_pathway_matches_the_numpy_reference():
    # conflict in the response pool raises control c, which scales the gated pathway:
    # u = W_static a + c W_gated a + I,  tau_c dc/dt = -(c - c0) + lambda E,
    # E = -sum_{i != j} W_ij a_i a_j over the pool's inhibitory weights = 2 a_r a_g here
    net = _stroopish()
    model = tf.Model(
        gates=[tf.Gate("colour_naming", types=["causes"], control="ctl")],
        pools=[tf.Pool("resp", concepts=["say_red", "say_green"])],
        controls=[tf.Control(monitor=["resp"], target="gates", name="ctl", tau=2.0,
                             baseline=0.5, sensitivity=3.0)])
    stims = [tf.Pulse("red", 0, 8, 1.0), tf.Pulse("green", 0, 8, 0.4)]
    ds = tf.simulate(net, model, stimuli=stims, t_end=8.0, solver=tf.Solver(
        method="dop853", rtol=1e-11, atol=1e-13), saveat=EVERY)
    names = list(net.concepts)
    i = {c: k for k, c in enumerate(names)}
    n = len(names)
    Ws, Wg = np.zeros((n, n)), np.zeros((n, n))
    Wg[i["say_red"], i["red"]] = Wg[i["say_green"], i["green"]] = 1.5
    Ws[i["say_red"], i["say_green"]] = Ws[i["say_green"], i["say_red"]] = -1.0
    I = np.zeros(n)
    I[i["red"]], I[i["green"]] = 1.0, 0.4

    def rhs(t, y):
        a, c = y[:n], y[n]
        E = 2.0 * a[i["say_red"]] * a[i["say_green"]]
        da = 1.0 / (1.0 + np.exp(-(Ws @ a + c * (Wg @ a) + I))) - a
        return np.append(da, (-(c - 0.5) + 3.0 * E) / 2.0)
    ref = solve_ivp(rhs, (0, 8), np.append(np.zeros(n), 0.5), method="DOP853", rtol=1e-12,
                    atol=1e-14, t_eval=ds.time.values).y.T
    assert np.abs(ds.activation.values - ref[:, :n]).max() < 1e-8
    assert np.abs(ds.control.sel(controller="ctl").values - ref[:, n]).max() < 1e-8
    assert ref[-1, n] > 0.6                 # conflict did raise control above its baseline


@pytest.mark.parametrize("gate_ctl,target,match", [
    ("nobody", "gates", r"gates\[0\].control: no control 'nobody'"),
    (None, "gates", r"controls\[0\].target: 'gates' but no gate names control 'ctl'"),
    ("ctl", "goals", r"gates\[0\].control: no control 'ctl' with target = 'gates'"),
])
def test_gate_controls_must_name_each_other(gate_ctl, target, match):
    kw = {} if gate_ctl is None else {"control": gate_ctl}
    with pytest.raises(ConfigError, match=match):
        tf.Model(gates=[tf.Gate("g", types=["causes"], **kw)],
                 pools=[tf.Pool("resp", concepts=["say_red", "say_green"])],
                 goals=tf.Goals() if target == "goals" else None,
                 controls=[tf.Control(monitor=["resp"], target=target, name="ctl")])


@pytest.mark.parametrize("solver", ["async", "spreadr"])
def test_discrete_updates_refuse_gates(solver):
    model = tf.Model(gates=[tf.Gate("g", types=["causes"])])
    with pytest.raises(ConfigError, match="model.gates"):
        tf.simulate(_stroopish(), model, t_end=4.0, solver=solver)
