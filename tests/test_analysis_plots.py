"""The analysis figures: each returns its Axes with the expected content."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import thoughtfield as tf  # noqa: E402
from thoughtfield.analysis import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _switch():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    return net, tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)


def test_attractor_catalogue_plot(tmp_path):
    net, model = _switch()
    cat = tf.attractors(net, model, samples=100, seed=0, saddles=True)
    ax = plots.plot_attractors(cat)
    assert len(ax.patches) == 2                          # one bar per attractor, not the saddle
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any("{x}" in s for s in labels) and any("{y}" in s for s in labels)
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == pytest.approx(sorted(cat.basin_fraction.values[:2].tolist()))
    ax.figure.savefig(tmp_path / "cat.png")


def test_phase_portrait_marks_the_fixed_points():
    net, model = _switch()
    fig, ax = plt.subplots()
    out = plots.plot_phase_portrait(net, model, "x", "y", trajectories=[(0.2, 0.3), (0.9, 0.8)], ax=ax)
    assert out is ax
    marks = [ln for ln in ax.lines if ln.get_marker() in ("o", "X") and ln.get_markersize() == 9]
    kinds = sorted(ln.get_marker() for ln in marks)
    assert kinds == ["X", "o", "o"]                     # one saddle, two stable points
    saddle = next(ln for ln in marks if ln.get_marker() == "X")
    assert np.allclose([saddle.get_xdata()[0], saddle.get_ydata()[0]], [0.5, 0.5], atol=1e-8)
    traj = [ln for ln in ax.lines if len(ln.get_xdata()) > 10]
    assert len(traj) == 2
    # x starts below y in the first trajectory -> ends at the y attractor
    assert traj[0].get_ydata()[-1] > 0.9 and traj[0].get_xdata()[-1] < 0.1
    assert ax.get_xlabel() == "activation of x"


def test_phase_portrait_of_two_concepts_in_a_larger_network_holds_the_others():
    net = tf.ConceptNetwork(["x", "y", "z"], [("x", "y", "contradicts", 2.0), ("z", "x", "causes", 1.0)])
    model = tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)
    ax = plots.plot_phase_portrait(net, model, "x", "y", state=[0, 0, 1.0], trajectories=0,
                                   nullclines=False)
    assert "others held fixed" in ax.get_title()
    marks = [ln for ln in ax.lines if ln.get_markersize() == 9]
    # z = 1 drives x: only the x-state survives
    assert len(marks) == 1 and marks[0].get_xdata()[0] > 0.9


def test_energy_plot_from_a_result():
    net, model = _switch()
    ds = tf.simulate(net, tf.Model(transfer="sigmoid", gain=5.0, bias=1.0, initial=[0.6, 0.5]),
                     t_end=8, saveat=tf.SaveAt(dt=0.1))
    ax = plots.plot_energy(ds)
    y = ax.lines[0].get_ydata()
    assert np.array_equal(y, tf.energy(ds).values)
    assert ax.get_ylabel() == "energy E"


def test_energy_plot_marks_the_input_changes():
    net, model = _switch()
    ds = tf.simulate(net, tf.Model(transfer="sigmoid", gain=5.0, bias=1.0, initial=[0.6, 0.5]),
                     [tf.Pulse("x", 2.0, 5.0, 1.0)], t_end=8, saveat=tf.SaveAt(dt=0.1))
    ax = plots.plot_energy(ds)
    marks = sorted(ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":")
    assert marks == [2.0, 5.0]
    assert any("input switched on/off" in tx.get_text() for tx in ax.texts)


def test_explanation_plot_draws_the_paths():
    net = tf.ConceptNetwork(["a", "b", "c", "d"], [("a", "b", "causes", 1.0), ("b", "c", "is_a", 1.0),
                                                   ("a", "d", "causes", 0.5), ("d", "c", "causes", 0.5)])
    ds = tf.simulate(net, tf.Model(gain=4.0, threshold=0.5), [tf.Pulse("a", 0, 4, 1.0)], t_end=6,
                     saveat=tf.SaveAt(dt=0.05))
    ex = tf.explain(ds, target="c")
    ax = plots.plot_explanation(ex)
    names = sorted(t.get_text() for t in ax.texts if t.get_text() in ("a", "b", "c", "d"))
    assert names == ["a", "b", "c", "d"]
    assert len(ax.patches) == 4                          # four arrows, one per hop
    empty = plots.plot_explanation(tf.explain(ds, target="c", sources=["c"]))
    assert "no path" in empty.texts[0].get_text()


def test_train_of_thought_timeline():
    seq = [("beach", 0.0, 3.0), {"idea": "holiday", "entry": 3.0, "dwell": 2.5},
           ("flight", 5.5, 4.0), ("airport", 9.5, 3.0), ("beach", 12.5, 2.0)]
    ax = plots.plot_train_of_thought(seq)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["beach", "holiday", "flight", "airport"]
    assert "beach → holiday → flight → airport → beach" in ax.get_title()
    assert len(ax.collections) == 5
    assert ax.get_xlim() == (0.0, 14.5)


@pytest.mark.parametrize("call,match", [
    (lambda: plots.plot_train_of_thought([("a", 0.0)]), r"sequence\[0\]: expected \(idea, entry time, dwell time\)"),
    (lambda: plots.plot_train_of_thought([("a", 0.0, -1.0)]), r"sequence\[0\].dwell: must be >= 0"),
    (lambda: plots.plot_train_of_thought([{"idea": "a", "entry": 0}]), r"sequence\[0\]: expected keys"),
    (lambda: plots.plot_phase_portrait(*_switch(), "x", "x"), r"y: must differ from x"),
    (lambda: plots.plot_phase_portrait(*_switch(), "x", "yy"), r"unknown concept 'yy' \(did you mean 'y'\?\)"),
    (lambda: plots.plot_phase_portrait(*_switch(), "x", "y", stimuli=[tf.Clamp("y", 0, math.inf, 0.5)]),
     r"y: 'y' is clamped"),
    (lambda: plots.plot_attractors(tf.simulate(*_switch(), t_end=1)), r"catalogue: expected the Dataset"),
    (lambda: plots.plot_energy(np.zeros(3)), r"source: expected a run result"),
])
def test_plot_errors(call, match):
    with pytest.raises(tf.ConfigError, match=match):
        call()
