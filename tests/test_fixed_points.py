"""Fixed points, the analytic Jacobian and stability against independent references."""

import math

import numpy as np
import pytest

import thoughtfield as tf
from conftest import random_network
from thoughtfield.analysis import Dynamics, fixed_point, fixed_points, stability, steady_state
from thoughtfield.analysis import _fixed_points as fpmod
from thoughtfield.model import FORMS as ENGINE_FORMS
from thoughtfield.transfers import get as get_transfer

TRANSFERS = list(tf.TRANSFERS)
#: The continuous ones (the binary units jump: no derivative to compare there).
SMOOTH = [n for n in TRANSFERS if math.isfinite(get_transfer(n).slope)]


def _model(net, transfer, seed=0, form="activation"):
    rng = np.random.default_rng(seed)
    n = net.n
    kw = dict(tau=rng.uniform(0.3, 3.0, n), gain=rng.uniform(0.5, 3.0, n),
              threshold=rng.normal(0, 0.3, n), bias=rng.normal(0, 0.4, n), transfer=transfer)
    if form != "activation":
        kw["form"] = form
    return tf.Model(**kw)


@pytest.mark.parametrize("form", [f for f in ("activation", "potential") if f in ENGINE_FORMS])
@pytest.mark.parametrize("transfer", TRANSFERS)
def test_numpy_rhs_equals_the_numba_kernel(transfer, form):
    from thoughtfield._kernels.rhs import rhs
    net = random_network(70, k=5, seed=1, scale=1.2)
    model = _model(net, transfer, seed=2, form=form)
    stim = [tf.Pulse("c3", 0, 5, 0.8), tf.Pulse("c10", 0, 5, -0.5), tf.Clamp("c5", 0, 5, 0.3)]
    sim = tf.Simulation(net, model, stim, t_end=5.0)
    dyn = Dynamics(net, model, stim, t=0.0)
    rng = np.random.default_rng(3)
    y = rng.uniform(-0.5, 1.2, net.n)
    y[net.index("c5")] = 0.3
    dy = np.empty(net.n)
    rhs(sim.problem, sim.work, 0.0, y.copy(), dy)
    ref = dyn.rhs(y)
    assert np.max(np.abs(ref - dy)) < 1e-12 * max(1.0, np.max(np.abs(dy)))
    assert dy[net.index("c5")] == 0.0 and ref[net.index("c5")] == 0.0


def _kink_distance(dyn, y):
    x = dyn.net_argument(y)
    return float(np.min(np.minimum(np.abs(x), np.abs(x - 1.0))))


@pytest.mark.parametrize("form", ["activation", "potential"])
@pytest.mark.parametrize("transfer", SMOOTH)
def test_jacobian_matches_finite_differences(transfer, form):
    net = random_network(40, k=5, seed=4, scale=1.0)
    model = _model(net, transfer, seed=5)
    stim = [tf.Pulse("c2", 0, math.inf, 0.6), tf.Clamp("c7", 0, math.inf, 0.4)]
    dyn = Dynamics(net, model, stim, form=form)
    rng = np.random.default_rng(6)
    y = rng.uniform(0.05, 0.95, net.n)
    if transfer in ("satlin", "relu"):
        # central differences are exact on the linear pieces away from the kinks
        assert _kink_distance(dyn, y) > 1e-4
    J = dyn.jacobian(y).toarray()
    free = dyn.free
    assert J.shape == (net.n - 1, net.n - 1)
    h = 1e-6
    Jfd = np.empty_like(J)
    for c, j in enumerate(free):
        e = np.zeros(net.n)
        e[j] = h
        Jfd[:, c] = (dyn.rhs(y + e) - dyn.rhs(y - e))[free] / (2 * h)
    assert np.max(np.abs(J - Jfd)) < 1e-7 * max(1.0, np.max(np.abs(J)))


def test_transfer_prime_at_kinks_takes_the_flat_side():
    from thoughtfield.analysis._dynamics import transfer_prime
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert transfer_prime("satlin", x).tolist() == [0, 0, 1, 0, 0]
    assert transfer_prime("relu", x).tolist() == [0, 0, 1, 1, 1]


def test_linear_steady_state_equals_a_long_run_and_a_dense_solve():
    net = random_network(60, k=5, seed=7, scale=0.6)
    rng = np.random.default_rng(8)
    n = net.n
    tau = rng.uniform(0.5, 2.0, n)
    gain = rng.uniform(0.5, 1.2, n)
    bias = rng.normal(0, 0.5, n)
    thr = rng.normal(0, 0.2, n)
    model = tf.Model(transfer="linear", tau=tau, gain=gain, bias=bias, threshold=thr)
    stim = [tf.Pulse("c1", 0, math.inf, 1.5), tf.Pulse("c4", 1.0, 2.0, 3.0), tf.Clamp("c9", 0, math.inf, 0.7)]
    fp = steady_state(net, model, stim)
    assert fp.stability.kind == "stable"
    # independent: dense solve of (1 - G W) a = G (I + b - thr) with the clamp substituted
    W = net.weight_matrix().toarray()
    inp = np.zeros(n)
    inp[net.index("c1")] = 1.5
    free = np.array([i for i in range(n) if i != net.index("c9")])
    c = net.index("c9")
    rhs = gain * (inp + bias - thr + W[:, c] * 0.7)
    A = np.eye(n) - gain[:, None] * W
    ref = np.zeros(n)
    ref[c] = 0.7
    ref[free] = np.linalg.solve(A[np.ix_(free, free)], rhs[free])
    assert np.max(np.abs(fp.activation - ref)) < 1e-12
    # the long-time limit of a run at tight tolerance
    slowest = fp.stability.time_constant
    T = 40.0 * slowest
    ds = tf.simulate(net, model, stim, t_end=T, saveat=tf.SaveAt(times=[T]),
                     solver=tf.Solver("dopri5", rtol=1e-12, atol=1e-14))
    assert np.max(np.abs(ds.activation.values[-1] - fp.activation)) < 1e-8


def test_linear_steady_state_potential_form_corresponds_to_activation_form():
    net = random_network(30, k=4, seed=9, scale=0.6)
    rng = np.random.default_rng(10)
    model = tf.Model(transfer="linear", gain=rng.uniform(0.5, 1.0, net.n), bias=rng.normal(0, 0.5, net.n))
    stim = [tf.Pulse("c2", 0, math.inf, 1.0)]
    fa = steady_state(net, model, stim)
    fu = steady_state(net, model, stim, form="potential")
    # u* = W a* + I and a* = g (u* + b - thr)
    W = net.weight_matrix()
    inp = np.zeros(net.n)
    inp[net.index("c2")] = 1.0
    assert np.max(np.abs(fu.state - (W @ fa.activation + inp))) < 1e-12
    assert np.max(np.abs(fu.activation - fa.activation)) < 1e-12


def test_singular_linear_system_is_reported():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "association", 1.0)])
    model = tf.Model(transfer="linear")
    with pytest.raises(tf.FixedPointError, match="singular"):
        steady_state(net, model)
    st = stability(net, model, np.zeros(2))
    assert st.kind == "marginal" and st.time_constant == math.inf


def test_steady_state_needs_linear_dynamics():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b")])
    with pytest.raises(tf.ConfigError, match="transfer: steady_state needs linear dynamics"):
        steady_state(net, tf.Model(transfer="tanh"))


def test_newton_refines_the_end_of_a_run_to_the_long_time_limit():
    net = random_network(80, k=6, seed=11, scale=0.8)
    rng = np.random.default_rng(12)
    model = tf.Model(transfer="tanh", gain=rng.uniform(0.5, 1.0, net.n), tau=rng.uniform(0.5, 2, net.n),
                     bias=rng.normal(0, 0.5, net.n))
    ds = tf.simulate(net, model, [tf.Pulse("c0", 0, math.inf, 1.0)], t_end=8.0)
    fp = fixed_point(net, model, ds)     # stimuli and time taken from the result
    assert fp.residual <= 1e-10 and fp.iterations <= 8
    assert fp.stability.kind == "stable"
    T = 40 * fp.stability.time_constant
    long = tf.simulate(net, model, [tf.Pulse("c0", 0, math.inf, 1.0)], t_end=T,
                       saveat=tf.SaveAt(times=[T]),
                       solver=tf.Solver(rtol=1e-12, atol=1e-14))
    assert np.max(np.abs(long.activation.values[-1] - fp.activation)) < 1e-8
    # the end of the short run was not yet there; Newton got the rest
    assert np.max(np.abs(ds.activation.values[-1] - fp.activation)) > 1e-6


def test_newton_uses_the_sparse_path_for_large_networks(monkeypatch):
    monkeypatch.setattr(fpmod, "DENSE_MAX", 20)
    net = random_network(300, k=6, seed=13, scale=1.5)
    model = tf.Model(transfer="sigmoid", gain=2.0, threshold=0.3)
    fp = fixed_point(net, model, stability=False)
    dyn = Dynamics(net, model)
    assert np.max(np.abs(dyn.residual(fp.state))) <= 1e-10
    # ARPACK leading eigenvalues agree with the dense spectrum
    st_sparse = stability(net, model, fp.state, dense_max=20, k=4)
    st_dense = stability(net, model, fp.state, dense_max=1000)
    assert st_sparse.method == "arpack" and not st_sparse.complete
    assert abs(st_sparse.max_real - st_dense.max_real) < 1e-8
    assert st_sparse.kind == st_dense.kind


def test_switch_has_two_stable_points_and_one_saddle():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    model = tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)
    grid = np.array([(a, b) for a in np.linspace(0, 1, 9) for b in np.linspace(0, 1, 9)])
    fps = fixed_points(net, model, grid)
    kinds = sorted(f.kind for f in fps)
    assert kinds == ["saddle", "stable", "stable"]
    saddle = next(f for f in fps if f.kind == "saddle")
    assert np.allclose(saddle.activation, [0.5, 0.5], atol=1e-10)
    # at (1/2, 1/2): J = -1 + g f'(0) W = -1 + 5/4 [[0, -2], [-2, 0]] -> eigenvalues 1.5, -3.5
    assert np.allclose(sorted(saddle.stability.eigenvalues.real), [-3.5, 1.5], atol=1e-10)
    assert saddle.stability.n_unstable == 1
    assert math.isclose(saddle.stability.time_constant, 1 / 1.5, rel_tol=1e-9)
    stable = [f for f in fps if f.kind == "stable"]
    assert {f.top(1)[0][0] for f in stable} == {"x", "y"}
    # the potential form has the same fixed points (mapped by a = f(u)) and stabilities
    fpu = fixed_points(net, model, grid, form="potential")
    assert sorted(f.kind for f in fpu) == kinds
    for f in fps:
        assert min(np.max(np.abs(f.activation - g.activation)) for g in fpu) < 1e-9


def test_self_excitation_gives_a_repeller():
    net = tf.ConceptNetwork(["a", "b"])
    net.add_relation_arrays([0, 1], [0, 1], 3.0, "link")
    st = stability(net, tf.Model(transfer="tanh"), np.zeros(2))
    assert st.kind == "unstable" and st.n_unstable == 2
    assert np.allclose(st.eigenvalues.real, [2.0, 2.0])


def test_clamped_concepts_are_not_unknowns():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "causes", 1.0), ("b", "c", "causes", 1.0)])
    model = tf.Model(transfer="linear", tau=[1.0, 2.0, 0.5])
    fp = fixed_point(net, model, stimuli=[tf.Clamp("a", 0, math.inf, 0.8)])
    assert np.allclose(fp.activation, [0.8, 0.8, 0.8], atol=1e-12)
    assert fp.stability.eigenvalues.size == 2
    assert np.allclose(sorted(fp.stability.eigenvalues.real), [-2.0, -0.5])
    assert math.isclose(fp.stability.time_constant, 2.0)


def test_inputs_frozen_at_a_chosen_time():
    net = tf.ConceptNetwork(["a"])
    model = tf.Model(transfer="linear")
    stim = [tf.Pulse("a", 1.0, 3.0, 2.0), tf.Pulse("a", 2.0, math.inf, 0.5)]
    assert fixed_point(net, model, stimuli=stim, t=0.5).activation[0] == pytest.approx(0.0)
    assert fixed_point(net, model, stimuli=stim, t=2.5).activation[0] == pytest.approx(2.5)
    assert fixed_point(net, model, stimuli=stim).activation[0] == pytest.approx(0.5)


def test_newton_failure_names_residual_and_iterations():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    model = tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)
    with pytest.raises(tf.FixedPointError, match=r"residual max\|tau da/dt\| = \S+ after 1 iterations") as e:
        fixed_point(net, model, [0.9, 0.3], max_iter=1)
    assert e.value.iterations == 1 and e.value.residual > 1e-10
    assert isinstance(e.value, tf.ThoughtfieldError) and isinstance(e.value, RuntimeError)


@pytest.mark.parametrize("call,match", [
    (lambda n, m: Dynamics(n, m, form="bogus"), r"form: must be one of 'activation', 'potential'"),
    (lambda n, m: fixed_point(n, m, tol=-1), r"tol: must be > 0"),
    (lambda n, m: fixed_point(n, m, max_iter=0), r"max_iter: must be >= 1"),
    (lambda n, m: fixed_point(n, m, [0.1, 0.2, 0.3]), r"initial: expected 2 activations"),
    (lambda n, m: fixed_point(n, m, [0.1, float("nan")]), r"initial: activation of 'y' is not finite"),
    (lambda n, m: fixed_point(n, m, {"xx": 0.3}), r"unknown concept 'xx' \(did you mean 'x'\?\)"),
    (lambda n, m: fixed_point(n, m, t=-1.0), r"t: must be >= 0"),
    (lambda n, m: stability(n, m), r"state: give the state"),
    (lambda n, m: stability(n, m, [0.1]), r"state: expected 2 values"),
    (lambda n, m: fixed_points(n, m), r"fixed_points: give initial_states or samples"),
    (lambda n, m: fixed_points(n, m, np.zeros((3, 5))), r"initial_states: expected shape \(K, 2\)"),
    (lambda n, m: Dynamics("net", m), r"network: expected a ConceptNetwork"),
])
def test_validation_errors(call, match):
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    model = tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)
    with pytest.raises(tf.ConfigError, match=match):
        call(net, model)


def test_models_with_mechanisms_the_analysis_does_not_include_are_refused():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class ModelWithPools(tf.Model):
        control_gain: float = 0.0

    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "contradicts", 2.0)])
    ok = ModelWithPools(transfer="sigmoid", gain=5.0, bias=1.0)
    assert Dynamics(net, ok).n == 2          # mechanisms at their defaults are fine
    with pytest.raises(tf.ConfigError, match=r"model.control_gain: the analysis"):
        tf.attractors(net, ModelWithPools(control_gain=1.0), samples=4, seed=0)


def test_the_models_initial_values_are_its_forms_state():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "association", 0.5)])
    model = tf.Model(transfer="tanh", gain=2.0, bias=0.1, initial=[0.3, -0.2])
    act = Dynamics(net, model)
    assert np.allclose(act.initial_state, [0.3, -0.2])
    # read as activations, the potential form starts where the output equals them
    pot = Dynamics(net, model, form="potential")
    assert np.allclose(pot.initial_activation, [0.3, -0.2], atol=1e-12)
