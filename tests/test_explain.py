"""Explanations: flows per relation and the strongest paths, on networks with known answers."""

import math

import numpy as np
import pytest

import thoughtfield as tf


def _chain():
    """sun -> beach -> holiday -> travel is the strong route; sun ~ heat -> thirst -> travel
    a weak detour; 'snow' is unconnected."""
    net = tf.ConceptNetwork(
        {"sun": "image", "heat": "image", "beach": "idea", "thirst": "idea", "holiday": "structure",
         "travel": "goal", "snow": "image"},
        [("sun", "beach", "causes", 1.0), ("beach", "holiday", "is_a", 1.0),
         ("holiday", "travel", "part_of", 1.0), ("sun", "heat", "association", 0.3),
         ("heat", "thirst", "causes", 0.5), ("thirst", "travel", "causes", 0.2)])
    model = tf.Model(transfer="sigmoid", gain=5.0, threshold=0.5)
    ds = tf.simulate(net, model, [tf.Pulse("sun", 0, 5, 1.0)], t_end=10.0,
                     saveat=tf.SaveAt(dt=0.01))
    return net, model, ds


def _trapz(y, x):
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def test_explanation_path_on_a_known_chain():
    net, _, ds = _chain()
    ex = tf.explain(ds, target="travel", k=3)
    assert ex.sources == ("sun",)
    best = ex.paths[0]
    assert best.concepts == ("sun", "beach", "holiday", "travel")
    assert best.types == ("causes", "is_a", "part_of")
    assert ex.paths[1].concepts == ("sun", "heat", "thirst", "travel")
    assert ex.paths[1].types == ("association", "causes", "causes")
    assert len(ex.paths) == 2                  # there are no other routes
    assert best.strength > 0.9 > ex.paths[1].strength
    # shares: every hop's flow over the excitatory inflow of its target
    a = ds.activation
    t = ds.time.values
    into_travel = _trapz(a.sel(concept="holiday").values, t) + 0.2 * _trapz(a.sel(concept="thirst").values, t)
    assert best.shares[-1] == pytest.approx(_trapz(a.sel(concept="holiday").values, t) / into_travel, rel=1e-12)
    assert best.strength == pytest.approx(np.prod(best.shares), rel=1e-12)
    widest = tf.explain(ds, target="travel", method="widest")
    assert widest.paths[0].concepts == best.concepts
    assert widest.paths[0].strength == pytest.approx(min(best.flows), rel=1e-12)
    text = ex.table()
    assert "sun -[causes" in text and "-> travel" in text


def test_flows_equal_independent_integrals_and_sum_to_the_recurrent_input():
    net, _, ds = _chain()
    fl = tf.flows(ds)
    t = ds.time.values
    A = np.array([_trapz(ds.activation.values[:, i], t) for i in range(net.n)])
    for k in range(fl.sizes["relation"]):
        s = net.index(str(fl.source.values[k]))
        assert float(fl.flow[k]) == pytest.approx(float(fl.weight[k]) * A[s], rel=1e-12)
    # flows into each concept add up to the integral of its recurrent input (W a)_i
    W = net.weight_matrix()
    rec = np.array([_trapz((ds.activation.values @ W.T.toarray())[:, i], t) for i in range(net.n)])
    for i, c in enumerate(net.concepts):
        got = float(fl.flow.where(fl.target == c).sum())
        assert got == pytest.approx(rec[i], abs=1e-12)
    # the symmetric association carries flow back as well
    back = fl.where((fl.source == "heat") & (fl.target == "sun"), drop=True)
    assert back.direction.values.tolist() == ["reverse"] and back.type.values.tolist() == ["association"]
    assert np.all(np.diff(np.abs(fl.flow.values)) <= 0)          # sorted, largest first


def test_flows_over_a_window():
    net, _, ds = _chain()
    fl = tf.flows(ds, window=(2.0, 4.0))
    sel = ds.sel(time=slice(2.0, 4.0))
    ref = _trapz(sel.activation.sel(concept="beach").values, sel.time.values)
    row = fl.where((fl.source == "beach") & (fl.target == "holiday"), drop=True)
    assert float(row.flow[0]) == pytest.approx(ref, rel=1e-12)
    # a window edge between saved times is interpolated linearly
    fl2 = tf.flows(ds, window=(2.005, 4.0))
    row2 = fl2.where((fl2.source == "beach") & (fl2.target == "holiday"), drop=True)
    a = sel.activation.sel(concept="beach").values
    t = sel.time.values
    a_mid = 0.5 * (a[0] + a[1])
    expect = ref - 0.5 * (a[0] + a_mid) * 0.005
    assert float(row2.flow[0]) == pytest.approx(expect, rel=1e-12)


def test_default_target_is_the_most_active_non_source_at_the_end():
    net, _, ds = _chain()
    ex = tf.explain(ds)
    end = ds.activation.isel(time=-1).drop_sel(concept="sun")
    assert ex.target == str(end.concept.values[int(np.argmax(end.values))])


def test_unreachable_target_has_no_path():
    net, _, ds = _chain()
    ex = tf.explain(ds, target="snow")
    assert ex.paths == []
    assert "no excitatory path" in ex.table()


def test_explain_an_ensemble_and_a_saved_result(tmp_path):
    net, model, _ = _chain()
    ds = tf.simulate(net, model, [tf.Pulse("sun", 0, 5, 1.0)], t_end=10.0, members=2,
                     saveat=tf.SaveAt(dt=0.05))
    back = tf.load_result(tf.save_result(ds, tmp_path / "e.nc"))
    ex = tf.explain(back, target="travel")
    assert ex.paths[0].concepts == ("sun", "beach", "holiday", "travel")
    assert ex.flows.attrs["member"] == "mean"


@pytest.mark.parametrize("kw,match", [
    ({"target": "travle"}, r"target: unknown concept 'travle' \(did you mean 'travel'\?\)"),
    ({"window": (4.0, 2.0)}, r"window: the end must be after the start"),
    ({"window": (0.0, 50.0)}, r"window: \(0, 50\) is outside the run \[0, 10\]"),
    ({"window": 3}, r"window: expected \(start, end\)"),
    ({"method": "longest"}, r"method: must be one of 'share', 'widest'"),
    ({"sources": ["sunn"]}, r"unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ({"k": 0}, r"k: must be >= 1"),
])
def test_explain_errors(kw, match):
    _, _, ds = _chain()
    with pytest.raises(tf.ConfigError, match=match):
        tf.explain(ds, **kw)


def test_explain_needs_sources_when_nothing_was_stimulated():
    net, model, _ = _chain()
    ds = tf.simulate(net, model, t_end=1.0)
    with pytest.raises(tf.ConfigError, match=r"sources: the run has no positive stimuli"):
        tf.explain(ds)
    ex = tf.explain(ds, sources=["sun"], target="travel")
    assert ex.sources == ("sun",) and math.isfinite(ex.target_activation)
