"""tf.SaveAt: the three forms, their validation, and the deprecated keywords."""

import numpy as np
import pytest

import thoughtfield as tf


def _net():
    net = tf.ConceptNetwork()
    net.add_concepts(["a", "b", "c"])
    net.add_relation("a", "b", weight=1.0)
    net.add_relation("b", "c", weight=0.5)
    return net


@pytest.mark.parametrize("kw, kind", [({"dt": 0.5}, "dt"), ({"times": [1, 2.5]}, "times"),
                                      ({"every": 3}, "every")])
def test_forms(kw, kind):
    s = tf.SaveAt(**kw)
    assert s.kind == kind
    assert s == tf.SaveAt(**kw) and hash(s) == hash(tf.SaveAt(**kw))


def test_save_grids():
    net, st = _net(), [tf.Pulse("a", 0.0, 1.0, 1.0)]
    ds = tf.simulate(net, stimuli=st, t_end=2.0, saveat=tf.SaveAt(dt=0.5), seed=0)
    np.testing.assert_allclose(ds.time.values, [0, 0.5, 1, 1.5, 2])
    ds = tf.simulate(net, stimuli=st, t_end=2.0, saveat=tf.SaveAt(times=[0.3, 1.7]), seed=0)
    np.testing.assert_allclose(ds.time.values, [0, 0.3, 1.7, 2])
    ds = tf.simulate(net, stimuli=st, t_end=1.0, solver=tf.Solver("rk4", dt=0.1),
                     saveat=tf.SaveAt(every=5), seed=0)
    np.testing.assert_allclose(ds.time.values, [0, 0.5, 1])
    ds = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1, 1.0)], solver="spreadr", t_end=6,
                     saveat=tf.SaveAt(every=2))
    assert list(ds.time.values) == [0, 2, 4, 6]


@pytest.mark.parametrize("kw, match", [
    ({}, r"SaveAt: give exactly one of dt=, times= and every= \(got none\)"),
    ({"dt": 0.1, "every": 2}, r"give exactly one .* \(got dt=, every=\)"),
    ({"dt": -1.0}, r"SaveAt\(dt=\.\.\.\): must be > 0"),
    ({"dt": 0.0}, r"SaveAt\(dt=\.\.\.\): must be > 0"),
    ({"times": [2.0, 1.0]}, r"SaveAt\(times=\.\.\.\): must be strictly increasing \(1 comes "
                            r"after 2\); sort them"),
    ({"times": [1.0, 1.0]}, r"SaveAt\(times=\.\.\.\): must be strictly increasing \(1 is repeated\)"),
    ({"times": []}, r"SaveAt\(times=\.\.\.\): must list at least one time"),
    ({"times": [0.0, float("nan")]}, r"SaveAt\(times=\.\.\.\)"),
    ({"every": 0}, r"SaveAt\(every=\.\.\.\): must be >= 1"),
    ({"every": 1.5}, r"SaveAt\(every=\.\.\.\): must be an integer"),
])
def test_invalid(kw, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.SaveAt(**kw)


def test_run_dependent_errors():
    net = _net()
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(times=\.\.\.\): time 5 is outside the run"):
        tf.Simulation(net, t_end=2.0, saveat=tf.SaveAt(times=[5.0]))
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(every=\.\.\.\): needs a fixed-step solver"):
        tf.Simulation(net, t_end=2.0, saveat=tf.SaveAt(every=2))
    with pytest.raises(tf.ConfigError, match=r"saveat: expected a thoughtfield.SaveAt \(got float\)"):
        tf.Simulation(net, t_end=2.0, saveat=0.1)


@pytest.mark.parametrize("old, new", [
    ({"save_dt": 0.25}, tf.SaveAt(dt=0.25)),
    ({"save_at": [1.5, 0.5, 1.5]}, tf.SaveAt(times=[0.5, 1.5])),   # the old keyword sorted
    ({"save_every": 4}, tf.SaveAt(every=4)),
])
def test_deprecated_keywords(old, new):
    net, st = _net(), [tf.Pulse("a", 0.0, 1.0, 1.0)]
    kw = dict(stimuli=st, t_end=2.0, solver=tf.Solver("rk4", dt=0.05), seed=1, members=2)
    name = next(iter(old))
    with pytest.warns(DeprecationWarning, match=rf"{name}= is deprecated; use "
                                                r"saveat=thoughtfield.SaveAt\("):
        a = tf.simulate(net, **kw, **old)
    b = tf.simulate(net, **kw, saveat=new)
    assert a.activation.values.tobytes() == b.activation.values.tobytes()
    assert a.time.values.tobytes() == b.time.values.tobytes()
    with pytest.warns(DeprecationWarning):
        sim = tf.Simulation(net, **kw, **old)
    np.testing.assert_array_equal(sim.ts, tf.Simulation(net, **kw, saveat=new).ts)
    with pytest.raises(tf.ConfigError, match=rf"{name}: give only saveat"):
        tf.simulate(net, **kw, **old, saveat=new)


def test_deprecated_discrete():
    net, st = _net(), [tf.Pulse("a", 0, 1, 1.0)]
    with pytest.warns(DeprecationWarning, match="save_at= is deprecated"):
        a = tf.simulate(net, stimuli=st, solver="spreadr", t_end=6, save_at=[4, 2])
    b = tf.simulate(net, stimuli=st, solver="spreadr", t_end=6, saveat=tf.SaveAt(times=[2, 4]))
    assert a.activation.values.tobytes() == b.activation.values.tobytes()
    with pytest.raises(tf.ConfigError, match="save_at: give only one of save_dt, save_at and "
                                             "save_every"):
        tf.simulate(net, t_end=2.0, save_at=[1.0], save_dt=0.1)
    with pytest.raises(tf.ConfigError, match=r"^save_dt: must be > 0 \(got -1\)$"):
        tf.simulate(net, t_end=2.0, save_dt=-1)   # refused before any warning, by its name
    with pytest.raises(tf.ConfigError, match=r"^save_at: must list at least one time$"):
        tf.simulate(net, t_end=2.0, save_at=[])


def test_make_simulation_warns_at_the_callers_line():
    import warnings
    net = _net()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim = tf.make_simulation(net, t_end=2.0, save_dt=0.5)
    assert [w.filename for w in caught] == [__file__]
    assert issubclass(caught[0].category, tf.errors.ThoughtfieldDeprecationWarning)
    np.testing.assert_array_equal(sim.ts, tf.make_simulation(net, t_end=2.0,
                                                             saveat=tf.SaveAt(dt=0.5)).ts)


@pytest.mark.parametrize("line, message", [
    ("save_every = 2", "run.save_every: needs a fixed-step solver with dt; use save_dt for dopri5"),
    ("save_at = [1.0, 9.0]", "run.save_at: time 9 is outside the run [0, 5]"),
])
def test_config_errors_name_the_run_keys(line, message):
    from thoughtfield.config import load_config
    with pytest.raises(tf.ConfigError) as info:
        load_config(f'[network]\nconcepts = ["a"]\n\n[run]\nt_end = 5.0\n{line}\n')
    err = info.value
    assert str(err) == f"<config>:6: {message}"
    assert (err.key, err.line) == ("run." + line.split(" ")[0], 6)
