"""The Lyapunov energy: never increases along trajectories; its derivation checked numerically."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from thoughtfield.analysis import Dynamics, energy_of, fixed_point
from thoughtfield.transfers import get as get_transfer

#: The transfers with an energy (the binary units, sign and step, have none: their
#: inverse is not a function; the analysis refuses them, tests/test_binary_units.py).
WITH_ENERGY = [n for n in tf.TRANSFERS if get_transfer(n).inverse_integral is not None]


def _symmetric_net(n=40, seed=0):
    """Hebbian patterns plus a few inhibitory 'contradicts' pairs: symmetric W."""
    rng = np.random.default_rng(seed)
    xi = rng.choice([-1.0, 1.0], size=(3, n))
    W = xi.T @ xi / n
    np.fill_diagonal(W, 0.0)
    net = tf.ConceptNetwork.from_scipy(W, [f"c{i}" for i in range(n)], relation="association")
    for i in range(0, n - 1, 7):
        net.add_relation(f"c{i}", f"c{i + 1}", "contradicts", 0.5)
    return net


def _model(net, transfer, seed):
    rng = np.random.default_rng(seed)
    n = net.n
    lo, hi = (-0.9, 0.9) if transfer == "tanh" else (0.05, 0.95)
    return tf.Model(transfer=transfer, tau=rng.uniform(0.3, 3.0, n),
                    gain=rng.uniform(0.5, 4.0, n) if transfer != "linear" else rng.uniform(0.3, 0.6, n),
                    bias=rng.normal(0, 0.3, n), threshold=rng.normal(0, 0.2, n),
                    initial=rng.uniform(lo, hi, n))


@pytest.mark.parametrize("transfer", WITH_ENERGY)
def test_energy_never_increases_along_a_run(transfer):
    net = _symmetric_net()
    model = _model(net, transfer, seed=1)
    stim = [tf.Pulse("c3", 0, math.inf, 0.4), tf.Clamp("c5", 0, math.inf, 0.6)]
    ds = tf.simulate(net, model, stim, t_end=15.0, saveat=tf.SaveAt(dt=0.02),
                     solver=tf.Solver("dopri5", rtol=1e-11, atol=1e-13))
    E = tf.energy(ds).values
    assert np.all(np.isfinite(E))
    dE = np.diff(E)
    slack = 1e-12 * max(1.0, np.max(np.abs(E)))      # rounding only
    assert dE.max() <= slack, (dE.max(), slack)
    assert E[-1] < E[0] - 1e-3                       # and it does decrease


def test_energy_jumps_only_where_the_input_changes():
    net = _symmetric_net(seed=2)
    model = _model(net, "sigmoid", seed=3)
    ds = tf.simulate(net, model, [tf.Pulse("c1", 2.0, 4.0, 1.0)], t_end=8.0,
                     saveat=tf.SaveAt(dt=0.05),
                     solver=tf.Solver("dopri5", rtol=1e-11, atol=1e-13))
    E = tf.energy(ds).values
    t = ds.time.values
    up = np.flatnonzero(np.diff(E) > 1e-12 * np.max(np.abs(E)))
    # the only increase: when the input switches off at t = 4 (its -I a term disappears)
    assert [float(t[k + 1]) for k in up] == [4.0]


@pytest.mark.parametrize("form", ["activation", "potential"])
@pytest.mark.parametrize("transfer", WITH_ENERGY)
def test_energy_rate_is_the_derivative_along_the_flow_and_nonpositive(transfer, form):
    net = _symmetric_net(n=30, seed=4)
    model = _model(net, transfer, seed=5)
    dyn = Dynamics(net, model, [tf.Pulse("c2", 0, math.inf, 0.3)], form=form)
    rng = np.random.default_rng(6)
    lo, hi = (-0.95, 0.95) if transfer == "tanh" else (0.02, 0.98)
    for _ in range(5):
        y = dyn.state_with_activation(rng.uniform(lo, hi, net.n))
        rate = float(dyn.energy_rate(y))
        assert rate <= 1e-12
        h = 1e-6
        F = dyn.rhs(y)
        num = (dyn.energy(dyn.activation(y + h * F)) - dyn.energy(dyn.activation(y - h * F))) / (2 * h)
        assert abs(num - rate) < 1e-5 * max(1.0, abs(rate))


def test_potential_form_energy_decreases_along_an_independent_integration():
    """Hopfield (1984): the potential form with per-concept tau, integrated by scipy's DOP853."""
    net = _symmetric_net(n=30, seed=7)
    model = _model(net, "sigmoid", seed=8)
    dyn = Dynamics(net, model, form="potential")
    rng = np.random.default_rng(9)
    u0 = dyn.state_with_activation(rng.uniform(0.05, 0.95, net.n))
    sol = solve_ivp(lambda t, u: dyn.rhs(u), (0, 20), u0, method="DOP853", rtol=1e-11, atol=1e-13,
                    t_eval=np.linspace(0, 20, 801))
    E = dyn.energy(dyn.activation(sol.y.T))
    assert np.diff(E).max() <= 1e-12 * np.max(np.abs(E))
    assert E[-1] < E[0] - 1e-3


def test_energy_of_a_single_linear_unit_by_hand():
    net = tf.ConceptNetwork(["a"])
    model = tf.Model(transfer="linear", gain=2.0, bias=0.5, threshold=0.1)
    a = np.array([[0.3], [-1.0]])
    # E = -(I + b - thr) a + a^2 / (2 g)
    expect = -(0.5 - 0.1) * a[:, 0] + a[:, 0] ** 2 / 4.0
    assert np.allclose(energy_of(net, model, a), expect, atol=1e-15)


def test_closed_form_integrals_of_the_inverse_transfer():
    from scipy.integrate import quad

    from thoughtfield.analysis._dynamics import inverse_integral, transfer_inverse
    for name, a in (("sigmoid", 0.83), ("sigmoid", 0.1), ("tanh", -0.7), ("tanh", 0.95),
                    ("linear", -1.3), ("relu", 2.0), ("satlin", 0.4)):
        f0 = 0.5 if name == "sigmoid" else 0.0
        ref, _ = quad(lambda s: float(transfer_inverse(name, np.array(s))), f0, a)
        assert float(inverse_integral(name, np.array([a]))[0]) == pytest.approx(ref, abs=1e-10)
    assert math.isinf(float(inverse_integral("sigmoid", np.array([1.2]))[0]))
    assert float(inverse_integral("tanh", np.array([1.0]))[0]) == pytest.approx(math.log(2.0))


def test_stable_fixed_points_are_local_minima_of_the_energy():
    net = _symmetric_net(n=40, seed=10)
    model = tf.Model(transfer="tanh", gain=3.0)
    rng = np.random.default_rng(11)
    ds = tf.simulate(net, model, t_end=30.0, initial=rng.uniform(-1, 1, net.n))
    fp = fixed_point(net, model, ds)
    assert fp.stability.kind == "stable"
    for _ in range(20):
        a = np.clip(fp.activation + rng.normal(0, 1e-3, net.n), -0.999, 0.999)
        assert energy_of(net, model, a) > fp.energy


def test_energy_of_an_ensemble_and_of_a_saved_result(tmp_path):
    net = _symmetric_net(n=20, seed=12)
    model = tf.Model(transfer="tanh", gain=2.0)
    rng = np.random.default_rng(13)
    ds = tf.simulate(net, model, t_end=3.0, members=3, initial=rng.uniform(-1, 1, (3, net.n)))
    E = tf.energy(ds)
    assert E.dims == ("member", "time") and E.shape == (3, ds.sizes["time"])
    back = tf.load_result(tf.save_result(ds, tmp_path / "r.nc"))
    assert np.array_equal(tf.energy(back).values, E.values)
    E1 = tf.energy(ds, member=1)
    assert np.array_equal(E1.values[0], E.values[1])


def test_energy_errors():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "causes", 1.0)])
    ds = tf.simulate(net, tf.Model(), t_end=1.0)
    with pytest.raises(tf.ConfigError, match=r"energy: the weights are not symmetric \(W\['a', 'b'\] = 0 but W\['b', 'a'\] = 1\)"):
        tf.energy(ds)
    sym = tf.ConceptNetwork(["a", "b"], [("a", "b", "association", 1.0)])
    with pytest.raises(tf.ConfigError, match=r"energy: gain of 'a' is -1; the energy needs gain > 0"):
        energy_of(sym, tf.Model(gain={"a": -1.0}), np.zeros(2))
    with pytest.raises(tf.ConfigError, match=r"activation: last axis must have 2 values"):
        energy_of(sym, tf.Model(), np.zeros(3))
    with pytest.raises(tf.ConfigError, match=r"result: expected a thoughtfield result Dataset"):
        tf.energy(ds.drop_vars("activation"))
    big = ds.copy()
    big.attrs["network"] = '{"summary": {}}'
    with pytest.raises(tf.ConfigError, match=r"network: the result does not embed its network"):
        tf.energy(big)
    with pytest.raises(tf.ConfigError, match=r"member: the result has no ensemble"):
        tf.energy(ds, network=sym, member=2)
