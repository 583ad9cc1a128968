"""Invariances and behaviour of the driver: chunking, permutation, stimuli, early stop."""

import numpy as np
import pytest
import xarray as xr

import thoughtfield as tf
from conftest import random_network


@pytest.mark.parametrize("method", ["dopri5", "dop853", "rk4", "euler_maruyama"])
def test_chunked_run_equals_unsplit_run(method):
    net = random_network(80, k=5, seed=1)
    model = tf.Model(tau=1.0, transfer="tanh", gain=2.0, sigma=0.1 if method == "euler_maruyama" else 0)
    stim = [tf.Pulse("c3", 0.5, 2.5, 1.0), tf.Clamp("c7", 1.0, 3.0, 0.5)]
    kw = dict(t_end=6.0, solver=tf.Solver(method, dt=0.01),
              saveat=tf.SaveAt(dt=0.1), seed=3, members=2)
    full = tf.simulate(net, model, stim, **kw)
    sim = tf.Simulation(net, model, stim, **kw)
    for i_hi in (1, 2, 7, 8, 30, 31, 45, 1000):
        sim.advance(i_hi)
    chunked = sim.result()
    assert np.array_equal(full.activation.values, chunked.activation.values)
    for k in ("n_steps", "n_accepted", "n_rejected"):
        assert full.attrs[k] == chunked.attrs[k]


def test_permuting_concepts_permutes_the_result():
    net = random_network(50, k=5, seed=2)
    rng = np.random.default_rng(0)
    bias = dict(zip(net.concepts, rng.normal(0, 0.5, net.n)))
    model = tf.Model(tau={"*": 1.0, "c1": 0.5}, transfer="sigmoid", gain=3.0, bias=bias)
    stim = [tf.Pulse("c4", 0, 1, 2.0)]
    a = tf.simulate(net, model, stim, t_end=5, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    order = list(rng.permutation(net.concepts))
    b = tf.simulate(net.permuted(order), model, stim, t_end=5,
                    solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    assert list(b.concept.values) == order
    diff = np.abs(a.activation.sel(concept=order).values - b.activation.values).max()
    assert diff < 1e-9


def test_disconnected_components_evolve_independently():
    a = random_network(20, k=4, seed=3)
    b = random_network(15, k=4, seed=4)
    union = tf.ConceptNetwork()
    for nm in a.concepts:
        union.add_concept("a_" + nm)
    for nm in b.concepts:
        union.add_concept("b_" + nm)
    for s, t, ty, w in a.relations():
        union.add_relation("a_" + s, "a_" + t, ty, w)
    for s, t, ty, w in b.relations():
        union.add_relation("b_" + s, "b_" + t, ty, w)
    model = tf.Model(transfer="tanh", gain=2.0, initial=0.3)
    sol = tf.Solver("rk4", dt=0.01)
    ra = tf.simulate(a, model, [tf.Pulse("c1", 0, 1, 1.0)], t_end=3, solver=sol)
    ru = tf.simulate(union, model, [tf.Pulse("a_c1", 0, 1, 1.0)], t_end=3, solver=sol)
    got = ru.activation.sel(concept=["a_" + c for c in a.concepts]).values
    assert np.abs(got - ra.activation.values).max() < 1e-13


def test_member_result_does_not_depend_on_ensemble_size():
    net = random_network(25, k=4, seed=5)
    model = tf.Model(sigma=0.3)
    sol = tf.Solver("euler_maruyama", dt=0.01)
    one = tf.simulate(net, model, t_end=1, solver=sol, members=1, seed=9)
    four = tf.simulate(net, model, t_end=1, solver=sol, members=4, seed=9)
    # same noise stream; arithmetic may differ in the last bit (compiler scheduling)
    np.testing.assert_allclose(one.activation.values, four.activation.isel(member=0).values,
                               rtol=1e-12, atol=1e-14)


def test_pulse_drives_and_clamp_holds():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link", 1.0)])
    model = tf.Model(transfer="linear", tau=1.0)
    ds = tf.simulate(net, model, [tf.Pulse("x", 1.0, 2.0, 1.0), tf.Clamp("y", 3.0, 4.0, 0.25)],
                     t_end=5.0, solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12),
                     saveat=tf.SaveAt(dt=0.5))
    x = ds.activation.sel(concept="x")
    # x(t) = 1 - exp(-(t-1)) during the pulse, decays after
    assert abs(float(x.sel(time=2.0)) - (1 - np.exp(-1))) < 1e-8
    assert abs(float(x.sel(time=1.0))) < 1e-12
    assert abs(float(x.sel(time=3.0)) - (1 - np.exp(-1)) * np.exp(-1)) < 1e-8
    y = ds.activation.sel(concept="y")
    np.testing.assert_allclose(y.sel(time=[3.0, 3.5]).values, 0.25, atol=1e-14)
    # after the clamp ends, y is free again and relaxes towards x
    assert float(y.sel(time=5.0)) < 0.25


def test_per_member_stimuli_and_initial_state():
    net = tf.ConceptNetwork(["x"])
    model = tf.Model(transfer="linear")
    ds = tf.simulate(net, model, [tf.Pulse("x", 0, 10, 1.0, member=1)], t_end=10, members=3,
                     initial=np.array([[0.5], [0.0], [-0.5]]), solver="rk4",
                     saveat=tf.SaveAt(times=[10.0]))
    end = ds.activation.isel(time=-1).sel(concept="x").values
    np.testing.assert_allclose(end, [0.5 * np.exp(-10), 1 - np.exp(-10), -0.5 * np.exp(-10)],
                               atol=1e-9)


def test_steady_state_early_stop_is_recorded():
    net = random_network(30, k=4, seed=6, scale=0.5)
    model = tf.Model(transfer="sigmoid")
    ds = tf.simulate(net, model, [tf.Pulse("c0", 0, 1, 1.0)], t_end=100.0,
                     solver=tf.Solver("dopri5", rtol=1e-9, atol=1e-12, steady_tol=1e-8))
    assert ds.attrs["status"] == "steady_state"
    assert 1.0 < ds.attrs["stopped_at"] < 100.0
    assert float(ds.time[-1]) == ds.attrs["stopped_at"]
    # truly stationary: a long run ends at the same state
    long = tf.simulate(net, model, [tf.Pulse("c0", 0, 1, 1.0)], t_end=100.0,
                       saveat=tf.SaveAt(times=[100.0]),
                       solver=tf.Solver("dopri5", rtol=1e-9, atol=1e-12))
    assert np.abs(ds.activation.values[-1] - long.activation.values[-1]).max() < 1e-7
    # the stop never happens before the last input change
    ds2 = tf.simulate(net, model, [tf.Pulse("c0", 50, 51, 1.0)], t_end=100.0,
                      solver=tf.Solver("rk4", dt=0.05, steady_tol=1e-8))
    assert ds2.attrs["stopped_at"] > 51


def test_save_grid_contains_ends_and_respects_save_every():
    net = tf.ConceptNetwork(["x"])
    ds = tf.simulate(net, t_end=1.0, solver=tf.Solver("euler", dt=0.01), saveat=tf.SaveAt(every=7))
    t = ds.time.values
    assert t[0] == 0.0 and t[-1] == 1.0
    np.testing.assert_allclose(np.diff(t[:-1]), 0.07)
    assert ds.attrs["n_steps"] == 14 * 7 + 2  # 14 intervals of 7 steps, then 0.98 -> 1.0 in 2


def test_netcdf_round_trip(tmp_path):
    net = random_network(10, k=3, seed=8)
    ds = tf.simulate(net, tf.Model(), [tf.Pulse("c1", 0, 1)], t_end=2.0, members=2, seed=1)
    path = tmp_path / "r.nc"
    tf.save_result(ds, path)
    back = tf.load_result(path)
    xr.testing.assert_identical(ds, back)
    with pytest.raises(tf.ConfigError, match="exists"):
        tf.save_result(ds, path)
    tf.save_result(ds, path, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_dataset_layout_and_provenance():
    net = tf.ConceptNetwork({"a": "image", "b": "goal"}, [("a", "b")])
    ds = tf.simulate(net, t_end=1.0, seed=4)
    assert ds.activation.dims == ("time", "concept")
    assert list(ds.layer.values) == ["image", "goal"]
    for key in ("thoughtfield_version", "seed", "n_steps", "n_rhs", "n_accepted", "n_rejected",
                "status", "message", "model", "network", "solver", "method"):
        assert key in ds.attrs, key
    assert ds.attrs["seed"] == 4 and ds.attrs["status"] == "success"
    rebuilt = tf.ConceptNetwork.from_dict(tf.results.description(ds, "network"))
    assert rebuilt == net


def test_long_model_arrays_are_summarised_in_the_result_attributes():
    import hashlib
    import json
    n = 1500
    net = tf.ConceptNetwork([f"c{i}" for i in range(n)])
    y0 = np.linspace(-1.0, 1.0, n)
    small = tf.simulate(tf.ConceptNetwork(["a", "b"]), tf.Model(initial=[0.1, 0.2]), t_end=1.0)
    assert json.loads(small.attrs["model"])["initial"] == [0.1, 0.2]   # short: kept
    ds = tf.simulate(net, tf.Model(transfer="tanh", initial=y0, bias=0.5), t_end=1.0,
                     saveat=tf.SaveAt(times=[1.0]))
    d = json.loads(ds.attrs["model"])
    init = d["initial"]
    assert init["summarised"] == n and init["shape"] == [n]
    assert init["min"] == -1.0 and init["max"] == 1.0 and abs(init["mean"]) < 1e-12
    assert init["sha256"] == hashlib.sha256(y0.astype("<f8").tobytes()).hexdigest()
    assert d["bias"] == 0.5 and d["transfer"] == "tanh"


@pytest.mark.parametrize("method", ["dopri5", "euler_maruyama"])
def test_reset_runs_the_same_problem_again(method):
    """``Simulation.reset`` returns to t0: with the noise streams of the first run the
    second run is bitwise the first; without, a stochastic run draws new noise; a given
    state is the new start."""
    net = random_network(40, k=4, seed=5)
    model = tf.Model(transfer="tanh", gain=2.0, sigma=0.2 if method == "euler_maruyama" else 0)
    stim = [tf.Pulse("c1", 0.5, 2.0, 1.0), tf.Clamp("c2", 0.0, 1.0, 0.3)]
    sim = tf.Simulation(net, model, stim, t_end=4.0, solver=tf.Solver(method, dt=0.01),
                        saveat=tf.SaveAt(dt=0.5), seed=2, members=3)
    noise = sim.random_state()
    first = sim.run().copy(deep=True)
    sim.reset(random_state=noise)
    again = sim.run()
    assert np.array_equal(first.activation.values, again.activation.values)
    assert first.attrs["n_steps"] == again.attrs["n_steps"]
    sim.reset()
    fresh = sim.run()
    assert np.array_equal(first.activation.values, fresh.activation.values) == (method == "dopri5")
    y = sim.y0.copy()
    y[:net.n * 3] = 0.25                   # every concept of every member starts at 0.25
    sim.reset(y, random_state=noise)
    moved = sim.run()
    start = moved.activation.isel(time=0).values
    assert np.allclose(np.delete(start, 2, axis=-1), 0.25)   # c2 is clamped at 0.3 from t = 0
    assert np.allclose(start[..., 2], 0.3)


def test_run_without_assembling_integrates_the_same_and_result_assembles_later():
    import thoughtfield as tf
    net = tf.ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b", "association", 0.8)])
    kw = dict(t_end=3.0, seed=4, saveat=tf.SaveAt(dt=0.5),
              solver=tf.Solver("euler_maruyama", dt=0.01))
    whole = tf.Simulation(net, tf.Model(sigma=0.1), **kw).run()
    sim = tf.Simulation(net, tf.Model(sigma=0.1), **kw)
    assert sim.run(assemble=False) is None
    assert sim.done and sim.stats()["n_steps"] == whole.attrs["n_steps"]
    later = sim.result()
    np.testing.assert_array_equal(later.activation.values, whole.activation.values)
