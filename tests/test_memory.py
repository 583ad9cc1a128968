"""ACT-R declarative memory (thoughtfield.analysis._memory) against the equations written
out here in plain numpy, and against pyactr's implementation where it is installed."""

import math

import numpy as np
import pytest

import thoughtfield as tf


def _net():
    # fan: a-b, a-c, a-d (a has 3 neighbours), b-c; d only with a; e alone
    return tf.ConceptNetwork({"a": "idea", "b": "idea", "c": "idea", "d": "image", "e": "image"},
                             [("a", "b"), ("a", "c"), ("d", "a", "is_a"), ("b", "c")])


PRESENTED = {"a": [0.5, 2.0, 3.5], "b": [1.0], "c": [1.0, 1.5, 4.0], "d": []}
AT = np.array([0.25, 1.0, 2.5, 5.0, 12.0])


def _by_hand(d, S, W, tau, s, F, f, sources):
    names = ["a", "b", "c", "d", "e"]
    neighbours = {"a": {"b", "c", "d"}, "b": {"a", "c"}, "c": {"a", "b"}, "d": {"a"}, "e": set()}
    out = {}
    for t in AT:
        for i in names:
            ts = [x for x in PRESENTED.get(i, []) if x < t]
            B = math.log(sum((t - x) ** -d for x in ts)) if ts else -math.inf
            spread = 0.0
            for j in sources:
                if j == i or i in neighbours[j]:
                    spread += (W / len(sources)) * (S - math.log(1 + len(neighbours[j])))
            A = B + spread
            P = 1 / (1 + math.exp(-(A - tau) / s)) if A > -math.inf else 0.0
            out[(t, i)] = (B, A, P, F * math.exp(-f * A))
    return out


def test_activations_follow_the_actr_equations():
    from thoughtfield.analysis import actr_memory
    kw = dict(d=0.5, S=1.7, W=1.0, tau=-0.5, s=0.3, F=0.8, f=1.1, sources=["a", "d"])
    ref = _by_hand(**kw)
    ds = actr_memory(_net(), PRESENTED, AT, sources=kw["sources"], decay=kw["d"],
                     strength=kw["S"], source_activation=kw["W"], threshold=kw["tau"],
                     noise=kw["s"], latency_factor=kw["F"], latency_exponent=kw["f"])
    for (t, c), (B, A, P, T) in ref.items():
        row = ds.sel(time=t, concept=c)
        assert float(row.base_level) == pytest.approx(B, abs=1e-12) if B > -math.inf \
            else float(row.base_level) == -math.inf
        if A > -math.inf:
            assert float(row.memory_activation) == pytest.approx(A, abs=1e-12)
            assert float(row.retrieval_probability) == pytest.approx(P, abs=1e-12)
            assert float(row.retrieval_latency) == pytest.approx(T, rel=1e-12)
        else:
            assert float(row.retrieval_probability) == 0.0
            assert float(row.retrieval_latency) == math.inf
    assert ds.attrs["failure_latency"] == pytest.approx(0.8 * math.exp(1.1 * 0.5))
    assert ds.presentations.sel(concept="a").item() == 3 and ds.presentations.sel(concept="e").item() == 0


def test_a_larger_fan_spreads_less_and_retrieves_slower():
    """The fan effect: a source related to more concepts gives each of them less."""
    from thoughtfield.analysis import actr_memory
    net = tf.ConceptNetwork(["hub", "x1", "x2", "x3", "solo", "y"],
                            [("hub", "x1"), ("hub", "x2"), ("hub", "x3"), ("solo", "y")])
    same = {c: [0.0] for c in net.concepts}
    hub = actr_memory(net, same, [1.0], sources=["hub"], strength=2.0)
    solo = actr_memory(net, same, [1.0], sources=["solo"], strength=2.0)
    assert float(hub.spreading.sel(concept="x1")) == pytest.approx(2.0 - math.log(4))
    assert float(solo.spreading.sel(concept="y")) == pytest.approx(2.0 - math.log(2))
    assert hub.retrieval_latency.sel(concept="x1").item() > solo.retrieval_latency.sel(concept="y").item()
    assert float(hub.spreading.sel(concept="y")) == 0.0


def test_the_power_law_of_practice():
    """Latency after n equally spaced practices falls as a power of n: the base level of
    n presentations a unit apart, tested a unit after the last, is ln sum_k k^-d, about
    ln(n^(1-d) / (1-d)), so log latency is linear in log n with slope -(1 - d)."""
    from thoughtfield.analysis import actr_memory
    net = tf.ConceptNetwork(["fact"])
    ns = np.array([64, 128, 256, 512, 1024])
    lat = [float(actr_memory(net, {"fact": list(range(n))}, [n]).retrieval_latency[0, 0])
           for n in ns]
    for n, t in zip(ns, lat):
        assert t == pytest.approx(math.exp(-math.log(sum(k ** -0.5 for k in range(1, n + 1)))))
    slope, intercept = np.polyfit(np.log(ns), np.log(lat), 1)
    resid = np.log(lat) - (slope * np.log(ns) + intercept)
    assert slope == pytest.approx(-0.5, abs=0.03) and np.abs(resid).max() < 0.02


def test_the_practice_config_shows_the_power_law_from_a_run():
    """simulations/practice.toml: a fact studied once a second; at t = n (a unit after the
    n-th presentation) the run's latency is 1 / sum_{k=1..n} k^-d, written out here, and
    its log-log slope flattens towards -(1 - d) as practice grows."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "simulations" / "practice.toml"
    ds = tf.run_config(path)
    lat = ds.retrieval_latency.sel(concept="fact")
    ns = np.arange(1, 32)
    at = np.array([float(lat.sel(time=float(n), method="nearest")) for n in ns])
    ref = np.array([1.0 / np.sum(np.arange(1, n + 1) ** -0.5) for n in ns])
    np.testing.assert_allclose(at, ref, rtol=1e-12)
    slopes = np.diff(np.log(at[[3, 7, 15, 30]])) / np.diff(np.log(ns[[3, 7, 15, 30]]))
    assert np.all(np.diff(slopes) > 0) and -0.75 < slopes[0] < slopes[-1] < -0.5


def test_presentations_of_a_run_are_its_stimuli_and_its_retrievals():
    net = tf.ConceptNetwork({"sun": "image", "beach": "idea"}, [("sun", "beach", "association", 3.0)])
    ds = tf.simulate(net, tf.Model(gain=4.0, threshold=0.5), [tf.Pulse("sun", 1.0, 3.0, 2.0)],
                     t_end=10, saveat=tf.SaveAt(dt=0.05), seed=0)
    from thoughtfield.analysis import presentations
    only = presentations(ds)
    assert only == {"sun": [1.0], "beach": []}
    both = presentations(ds, retrieved_at=0.5)
    a = ds.activation.sel(concept="beach").values
    first = float(ds.time.values[np.argmax(a >= 0.5)])
    assert both["beach"][0] == first and both["sun"][0] == 1.0
    assert len(both["sun"]) >= 2            # presented at 1, then above 0.5 a little later


def test_bad_memory_input_names_the_key():
    from thoughtfield.analysis import actr_memory
    net = _net()
    with pytest.raises(tf.ConfigError, match=r"memory.decay: must be < 1"):
        actr_memory(net, PRESENTED, AT, decay=1.5)
    with pytest.raises(tf.ConfigError, match=r"memory.presented.zz: unknown concept"):
        actr_memory(net, {"zz": [1.0]}, AT)
    with pytest.raises(tf.ConfigError, match=r"memory.sources\[0\]: unknown concept"):
        actr_memory(net, PRESENTED, AT, sources=["nope"], strength=1.0)


def test_agrees_with_pyactr():
    """pyactr's own functions for base-level learning, retrieval latency and success on
    the same presentations give the same numbers."""
    u = pytest.importorskip("pyactr.utilities", reason="pyactr (a peer) is not installed")
    from thoughtfield.analysis import actr_memory
    ds = actr_memory(_net(), PRESENTED, AT, decay=0.5, threshold=-0.2, latency_factor=0.4,
                     latency_exponent=1.0)
    for t in AT[1:]:
        for c, ts in PRESENTED.items():
            past = np.array([x for x in ts if x < t])
            if past.size == 0:
                continue
            B = u.baselevel_learning(t, past, True, 0.5)
            assert float(ds.base_level.sel(time=t, concept=c)) == pytest.approx(B, abs=1e-12)
            assert float(ds.retrieval_latency.sel(time=t, concept=c)) == pytest.approx(
                u.retrieval_latency(B, 0.4, 1.0), rel=1e-12)
            assert (float(ds.retrieval_probability.sel(time=t, concept=c)) == 1.0) == \
                u.retrieval_success(B, -0.2)


MEMORY_CONFIG = """
title = "practice"
seed = 1
[network]
relations = [["sun", "beach", "association", 3.0]]
[network.concepts]
image = ["sun"]
idea = ["beach"]
[model]
gain = 4.0
threshold = 0.5
[run]
t_end = 12
save_dt = 0.5
[[stimuli]]
concept = "sun"
start = 1
stop = 2
amplitude = 2.0
[[stimuli]]
concept = "sun"
start = 6
stop = 7
amplitude = 2.0
[memory]
strength = 1.5
sources = ["sun"]
noise = 0.25
"""


def test_a_memory_section_adds_the_readouts_of_the_run(tmp_path, capsys):
    """[memory] computes the same as actr_memory on the run's presentations; the result
    file keeps it, the summary names the most available concept, the plot kind draws it."""
    from thoughtfield.analysis import actr_memory, presentations
    from thoughtfield.cli import main
    ds = tf.run_config(MEMORY_CONFIG)
    pres = presentations(ds, retrieved_at=0.5)
    assert pres["sun"][:2] == [1.0, 1.5] and 6.0 in pres["sun"]
    ref = actr_memory(tf.load_config(MEMORY_CONFIG).network, pres, ds.time.values,
                      sources=["sun"], strength=1.5, noise=0.25)
    for name in ("base_level", "memory_activation", "retrieval_probability",
                 "retrieval_latency", "spreading", "presentations"):
        assert np.array_equal(ds[name].values, ref[name].values), name
    cfg = tmp_path / "mem.toml"
    cfg.write_text(MEMORY_CONFIG)
    assert main(["run", str(cfg), "--out", str(tmp_path / "m.nc")]) == 0
    out = capsys.readouterr().out
    assert "memory at t = 12 (ACT-R): sun latency" in out
    back = tf.load_result(tmp_path / "m.nc")
    assert np.array_equal(back.retrieval_latency.values, ds.retrieval_latency.values)
    assert main(["plot", str(tmp_path / "m.nc"), "--kind", "memory", "--out",
                 str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").stat().st_size > 10_000


def test_a_memory_section_checks_its_sources(tmp_path, capsys):
    from thoughtfield.cli import main
    cfg = tmp_path / "bad.toml"
    cfg.write_text(MEMORY_CONFIG.replace('sources = ["sun"]', 'sources = ["son"]'))
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "memory.sources[0]: unknown concept 'son'" in err and "did you mean 'sun'" in err
