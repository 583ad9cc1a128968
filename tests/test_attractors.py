"""The attractor catalogue: a bistable switch and a Hebbian (Hopfield) memory."""

import math

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.analysis import AttractorSettings, fixed_point, resolve_patterns, wilson_interval


def _switch():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    return net, tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)


def _hebbian(n=100, p=3, seed=0):
    rng = np.random.default_rng(seed)
    xi = rng.choice([-1.0, 1.0], size=(p, n))
    W = xi.T @ xi / n
    np.fill_diagonal(W, 0.0)
    net = tf.ConceptNetwork.from_scipy(W, [f"c{i}" for i in range(n)], relation="association")
    return net, tf.Model(transfer="tanh", gain=4.0), {f"p{k}": xi[k] for k in range(p)}


def test_symmetric_switch_two_attractors_one_saddle_equal_basins():
    net, model = _switch()
    rng = np.random.default_rng(1)
    starts = rng.uniform(0, 1, (400, 2))
    cat = tf.attractors(net, model, initial=starts, seed=0, saddles=True)
    assert cat.sizes["attractor"] == 3
    kinds = cat.stability.values.tolist()
    assert sorted(kinds) == ["saddle", "stable", "stable"]
    assert cat.attrs["n_unresolved"] == 0
    stable = cat.where(cat.stability == "stable", drop=True)
    assert sorted(stable.label.values.tolist()) == ["{x}", "{y}"]
    assert int(stable.basin_count.sum()) == 400
    # by symmetry the diagonal is the saddle's stable manifold: x wins iff it starts higher
    x_row = int(np.flatnonzero(cat.label.values == "{x}")[0])
    assert int(cat.basin_count[x_row]) == int(np.sum(starts[:, 0] > starts[:, 1]))
    for k in np.flatnonzero(cat.stability.values == "stable"):
        f = float(cat.basin_fraction[k])
        assert abs(f - 0.5) < 0.08
        assert cat.basin_low[k] < 0.5 < cat.basin_high[k]
    e = cat.energy.values[cat.stability.values == "stable"]
    assert abs(e[0] - e[1]) < 1e-12                       # mirror images
    s = int(np.flatnonzero(cat.stability.values == "saddle")[0])
    assert np.allclose(cat.activation.values[s], [0.5, 0.5], atol=1e-9)
    assert int(cat.n_unstable[s]) == 1
    assert math.isnan(float(cat.basin_fraction[s]))
    assert "boundary of 0 and 1" in str(cat.idea.values[s])
    assert float(cat.energy[s]) > e.max()                 # the saddle sits higher


def test_asymmetric_switch_basins_follow_the_bias():
    net, _ = _switch()
    model = tf.Model(transfer="sigmoid", gain=5.0, bias={"x": 1.2, "y": 1.0})
    cat = tf.attractors(net, model, samples=300, seed=3)
    frac = dict(zip(cat.label.values.tolist(), cat.basin_fraction.values.tolist()))
    assert frac["{x}"] > 0.6 and frac["{y}"] < 0.4


def test_hebbian_memory_finds_every_stored_pattern_with_its_label():
    net, model, pats = _hebbian()
    cat = tf.attractors(net, model, samples=200, seed=2, patterns=pats)
    assert cat.attrs["n_unresolved"] == 0
    ideas = cat.idea.values.tolist()
    for name, xi in pats.items():
        assert name in ideas
        k = ideas.index(name)
        assert cat.stability.values[k] == "stable"
        assert float(cat.overlap.sel(attractor=k, pattern=name)) == 1.0
        assert np.array_equal(np.sign(cat.activation.values[k]), xi)
    for k, idea in enumerate(ideas):
        ov = cat.overlap.values[k]
        if ov.max() >= 0.9:
            assert idea == f"p{int(np.argmax(ov))}"
        elif ov.min() <= -0.9:
            assert idea == f"reversed p{int(np.argmin(ov))}"
        else:
            assert idea.startswith("spurious"), idea
    spurious = [k for k, i in enumerate(ideas) if i.startswith("spurious")]
    assert spurious, "with this seed the 3-pattern mixture states are found"
    for k in spurious:
        assert ideas[k].startswith("spurious (mixture of")
        assert np.all(np.abs(np.abs(cat.overlap.values[k]) - 0.5) < 0.15)
        # mixtures lie higher in energy than the stored patterns (Amit et al. 1985)
        assert float(cat.energy[k]) > max(float(cat.energy[ideas.index(n)]) for n in pats)


def test_stored_patterns_are_stable_fixed_points_in_both_forms():
    net, model, pats = _hebbian(n=80, p=3, seed=5)
    for xi in pats.values():
        fa = fixed_point(net, model, 0.9 * xi)
        fu = fixed_point(net, model, 0.9 * xi, form="potential")
        assert fa.stability.kind == "stable" and fu.stability.kind == "stable"
        assert np.array_equal(np.sign(fa.activation), xi)
        assert np.max(np.abs(fa.activation - fu.activation)) < 1e-9


def test_catalogue_is_deterministic_for_a_seed():
    net, model, pats = _hebbian(n=60, p=2, seed=1)
    a = tf.attractors(net, model, samples=60, seed=7, patterns=pats)
    b = tf.attractors(net, model, samples=60, seed=7, patterns=pats)
    assert np.array_equal(a.activation.values, b.activation.values)
    assert a.idea.values.tolist() == b.idea.values.tolist()
    assert np.array_equal(a.basin_count.values, b.basin_count.values)


def test_given_initial_state_with_jitter_stays_in_its_basin():
    net, model, pats = _hebbian(n=60, p=2, seed=1)
    cat = tf.attractors(net, model, samples=40, seed=1, initial=0.8 * pats["p1"], jitter=0.05,
                        patterns=pats)
    assert cat.sizes["attractor"] == 1
    assert cat.idea.values[0] == "p1" and float(cat.basin_fraction[0]) == 1.0
    assert "jitter" in cat.attrs["initial_states"]


def test_frozen_input_removes_the_other_attractor():
    net, model = _switch()
    cat = tf.attractors(net, model, samples=50, seed=0, stimuli=[tf.Pulse("x", 0, math.inf, 2.0)])
    assert cat.label.values.tolist() == ["{x}"]
    assert float(cat.basin_fraction[0]) == 1.0


def test_sets_as_ideas_and_layer_labels():
    net = tf.ConceptNetwork(["sea", "sand", "sun", "snow", "ski", "cold"])
    beach, winter = ["sea", "sand", "sun"], ["snow", "ski", "cold"]
    for group in (beach, winter):
        for i in range(3):
            for j in range(i + 1, 3):
                net.add_relation(group[i], group[j], "association", 2.0)
    for a in beach:
        for b in winter:
            net.add_relation(a, b, "contradicts", 1.0)
    model = tf.Model(transfer="sigmoid", gain=4.0, threshold=1.0)
    cat = tf.attractors(net, model, samples=100, seed=0,
                        patterns={"beach": set(beach), "winter": winter})
    ideas = set(cat.idea.values.tolist())
    assert {"beach", "winter"} <= ideas
    k = cat.idea.values.tolist().index("beach")
    assert cat.label.values[k] == "{sea, sand, sun}"
    assert float(cat.overlap.sel(attractor=k, pattern="beach")) == 1.0
    # the quiet state matches no idea and is not called spurious
    quiet = [i for i, lab in enumerate(cat.label.values) if lab == "(none active)"]
    assert quiet and all(cat.idea.values[i] == "rest (no concept active)" for i in quiet)


def test_unresolved_members_are_reported():
    net, model = _switch()
    cat = tf.attractors(net, model, initial=[[0.5, 0.5 + 1e-12], [0.9, 0.1]], samples=2, seed=0,
                        t_end=0.5, max_rounds=1)
    assert cat.attrs["n_unresolved"] >= 1
    assert float(cat.basin_fraction.sum()) < 1.0


def test_catalogue_round_trips_through_netcdf_and_prints(tmp_path):
    net, model = _switch()
    cat = tf.attractors(net, model, samples=40, seed=0)
    path = tf.save_result(cat, tmp_path / "cat.nc")
    back = tf.load_result(path)
    assert back.label.values.tolist() == cat.label.values.tolist()
    text = tf.attractor_table(back)
    assert "{x}" in text and "{y}" in text and "stable" in text


def test_wilson_interval_matches_published_values():
    # Newcombe (1998), Table I: 81 of 263 -> 0.2553 to 0.3662; 15 of 148 -> 0.0624 to 0.1605
    lo, hi = wilson_interval(np.array([81, 15]), 263)
    assert lo[0] == pytest.approx(0.2553, abs=1e-4) and hi[0] == pytest.approx(0.3662, abs=1e-4)
    lo, hi = wilson_interval(np.array([15]), 148)
    assert lo[0] == pytest.approx(0.0624, abs=1e-4) and hi[0] == pytest.approx(0.1605, abs=1e-4)
    lo, hi = wilson_interval(np.array([0]), 10)
    assert lo[0] == 0.0 and 0.0 < hi[0] < 0.35


@pytest.mark.parametrize("kw,match", [
    ({"samples": 0}, r"samples: must be >= 1"),
    ({"match": 1.5}, r"match: must be <= 1"),
    ({"cluster_tol": 0}, r"cluster_tol: must be > 0"),
    ({"initial": np.zeros((3, 5))}, r"initial: expected shape \(K, 2\)"),
    ({"box": (1, 0)}, r"box: high must be > low"),
    ({"patterns": {"p": [1, 2, 3]}}, r"patterns.p: must have length 2"),
    ({"patterns": {"p": ["x", "yy"]}}, r"unknown concept 'yy' \(did you mean 'y'\?\)"),
    ({"patterns": {"p": [0, 0]}}, r"patterns.p: the pattern is all zeros"),
    ({"patterns": 5}, r"patterns: expected a mapping"),
    ({"jitter": -1}, r"jitter: must be >= 0"),
    ({"ci": 1.0}, r"ci: must be < 1"),
])
def test_validation_errors(kw, match):
    net, model = _switch()
    with pytest.raises(tf.ConfigError, match=match):
        tf.attractors(net, model, **{"samples": 4, "seed": 0, **kw})


def test_resolve_patterns_kinds():
    net = tf.ConceptNetwork(["a", "b", "c"])
    out = resolve_patterns(net, [("pm", [1, -1, 1]), ("set", {"a", "c"}), ("w", {"b": 0.5})])
    assert [(n, k) for n, k, _ in out] == [("pm", "bipolar"), ("set", "set"), ("w", "real")]
    assert out[1][2].tolist() == [1, 0, 1]


def test_large_ensembles_run_in_batches_with_the_same_catalogue(monkeypatch):
    from thoughtfield.analysis import _attractors
    net, model = _switch()
    whole = tf.attractors(net, model, samples=60, seed=4, saddles=True)
    runs_whole = whole.attrs["ensemble_runs"]
    monkeypatch.setattr(_attractors, "BATCH_VALUES", 2 * 16)      # 16 members per run
    batched = tf.attractors(net, model, samples=60, seed=4, saddles=True)
    assert batched.attrs["ensemble_runs"] > runs_whole
    assert batched.label.values.tolist() == whole.label.values.tolist()
    assert np.array_equal(batched.basin_count.values, whole.basin_count.values)
    assert np.allclose(batched.activation.values, whole.activation.values, atol=1e-9)


def test_settings_object_and_keywords_agree():
    net, model = _switch()
    settings = AttractorSettings(samples=30, saddles=True, cluster_tol=2e-3, ci=0.9)
    a = tf.attractors(net, model, settings, seed=5)
    b = tf.attractors(net, model, seed=5, samples=30, saddles=True, cluster_tol=2e-3, ci=0.9)
    c = tf.attractors(net, model, AttractorSettings(samples=10), seed=5, samples=30,
                      saddles=True, cluster_tol=2e-3, ci=0.9)    # keywords override settings
    for other in (b, c):
        assert a.activation.values.tobytes() == other.activation.values.tobytes()
        assert a.basin_count.values.tobytes() == other.basin_count.values.tobytes()
        assert a.attrs == other.attrs
    assert settings.samples == 30   # the overrides apply to a copy


def test_unknown_option_and_bad_settings():
    net, model = _switch()
    with pytest.raises(TypeError, match=r"unknown keyword 'sample'; valid options .*samples, "):
        tf.attractors(net, model, sample=10)
    with pytest.raises(TypeError, match=r"settings must be an AttractorSettings \(got int\)"):
        tf.attractors(net, model, 10)
