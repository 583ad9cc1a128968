"""The solvers against independent references: matrix exponential, DOP853, analytic OU."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.integrate import solve_ivp

import thoughtfield as tf
from conftest import nonlinear_setup, random_network


def _linear_reference(net, tau, bias, a0, ts):
    """Exact solution of tau da/dt = -a + W a + b via the matrix exponential."""
    W = net.weight_matrix().toarray()
    n = W.shape[0]
    A = (W - np.eye(n)) / tau
    c = bias / tau
    # augmented system d/dt [a; 1] = [[A, c], [0, 0]] [a; 1]
    Aug = np.zeros((n + 1, n + 1))
    Aug[:n, :n] = A
    Aug[:n, n] = c
    x0 = np.append(a0, 1.0)
    return np.array([(scipy.linalg.expm(Aug * t) @ x0)[:n] for t in ts])


@pytest.mark.parametrize("method,opts,tol", [
    ("dopri5", {"rtol": 1e-10, "atol": 1e-12}, 1e-8),
    ("rk4", {"dt": 0.005}, 1e-8),
])
def test_linear_matches_matrix_exponential(method, opts, tol):
    net = random_network(40, k=5, seed=1, scale=0.8)
    rng = np.random.default_rng(2)
    bias = rng.normal(0, 0.5, net.n)
    a0 = rng.normal(0, 1, net.n)
    model = tf.Model(tau=0.7, transfer="linear", bias=bias, initial=a0)
    ds = tf.simulate(net, model, t_end=3.0, solver=tf.Solver(method, **opts),
                     saveat=tf.SaveAt(dt=0.5))
    ref = _linear_reference(net, 0.7, bias, a0, ds.time.values)
    assert np.max(np.abs(ds.activation.values - ref)) < tol


def test_nonlinear_matches_dop853():
    net, model, f, a0 = nonlinear_setup()
    ts = np.linspace(0, 8, 17)
    ref = solve_ivp(f, (0, 8), a0, method="DOP853", rtol=1e-10, atol=1e-12, t_eval=ts).y.T
    ds = tf.simulate(net, model, t_end=8.0, solver=tf.Solver("dopri5", rtol=1e-8, atol=1e-10),
                     saveat=tf.SaveAt(times=ts))
    assert np.max(np.abs(ds.activation.values - ref)) < 1e-6
    ds4 = tf.simulate(net, model, t_end=8.0, solver=tf.Solver("rk4", dt=0.01),
                      saveat=tf.SaveAt(times=ts))
    assert np.max(np.abs(ds4.activation.values - ref)) < 1e-6
    # the adaptive solver needs far fewer right-hand-side evaluations than rk4
    assert ds.attrs["n_rhs"] < ds4.attrs["n_rhs"] / 3


@pytest.mark.parametrize("transfer", ["sigmoid", "satlin", "relu", "linear", "softplus"])
def test_every_transfer_matches_dop853(transfer):
    net = random_network(50, k=5, seed=5, scale=0.6)
    rng = np.random.default_rng(6)
    a0 = rng.uniform(0, 1, net.n)
    bias = rng.normal(0, 0.5, net.n)
    W = net.weight_matrix()
    phi = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "satlin": lambda x: np.clip(x, 0, 1),
           "relu": lambda x: np.maximum(x, 0), "linear": lambda x: x,
           "softplus": lambda x: np.logaddexp(0, x)}[transfer]
    gain = 2.0

    def f(t, a):
        return -a + phi(gain * (W @ a + bias - 0.1))

    ref = solve_ivp(f, (0, 4), a0, method="DOP853", rtol=1e-11, atol=1e-12, t_eval=[4.0]).y[:, -1]
    model = tf.Model(transfer=transfer, gain=gain, threshold=0.1, bias=bias, initial=a0)
    ds = tf.simulate(net, model, t_end=4.0, solver=tf.Solver("dopri5", rtol=1e-9, atol=1e-11))
    # satlin/relu have kinks: accuracy is limited by the kink crossings, still well below 1e-6
    assert np.max(np.abs(ds.activation.values[-1] - ref)) < 1e-6


def test_dense_output_matches_dop853_between_steps():
    """Save times fall inside steps: the order-4 interpolant must be accurate."""
    net, model, f, a0 = nonlinear_setup(30)
    ts = np.linspace(0, 5, 401)
    ref = solve_ivp(f, (0, 5), a0, method="DOP853", rtol=1e-11, atol=1e-12, t_eval=ts).y.T
    ds = tf.simulate(net, model, t_end=5.0, solver=tf.Solver("dopri5", rtol=1e-9, atol=1e-11),
                     saveat=tf.SaveAt(times=ts))
    assert ds.attrs["n_steps"] < 200  # far fewer steps than save times
    assert np.max(np.abs(ds.activation.values - ref)) < 1e-7


def test_dopri5_coefficients_agree_with_published_values():
    """The tableau (fractions from Dormand & Prince 1980; dense output from Shampine 1986)
    reproduces the decimal values published with scipy's RK45."""
    from scipy.integrate._ivp.rk import RK45
    tab = tf.solvers.TABLEAUS["dopri5"]
    np.testing.assert_allclose(tab.P, RK45.P, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tab.A[:6, :5], RK45.A, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tab.b[:6], RK45.B, rtol=1e-15)
    np.testing.assert_allclose(-tab.e, RK45.E, rtol=1e-14, atol=1e-16)
    # consistency conditions: rows of A sum to c, weights sum to 1
    np.testing.assert_allclose(tab.A.sum(axis=1), tab.c, atol=1e-15)
    assert abs(tab.b.sum() - 1) < 1e-15 and abs(tab.e.sum()) < 1e-15


@pytest.mark.parametrize("method,order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_convergence_order(method, order):
    net, model, f, a0 = nonlinear_setup(20)
    T = 2.0
    ref = solve_ivp(f, (0, T), a0, method="DOP853", rtol=1e-12, atol=1e-13, t_eval=[T]).y[:, -1]
    dts = np.array([0.1, 0.05, 0.025, 0.0125]) if order < 4 else np.array([0.2, 0.1, 0.05, 0.025])
    errs = []
    for dt in dts:
        ds = tf.simulate(net, model, t_end=T, solver=tf.Solver(method, dt=dt),
                         saveat=tf.SaveAt(times=[T]))
        errs.append(np.max(np.abs(ds.activation.values[-1] - ref)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.3, (slope, errs)


def test_dopri5_error_scales_with_tolerance():
    net, model, f, a0 = nonlinear_setup(20)
    ref = solve_ivp(f, (0, 3), a0, method="DOP853", rtol=1e-12, atol=1e-13, t_eval=[3]).y[:, -1]
    errs = []
    for rtol in (1e-4, 1e-6, 1e-8):
        ds = tf.simulate(net, model, t_end=3, solver=tf.Solver("dopri5", rtol=rtol, atol=rtol * 1e-2))
        errs.append(np.max(np.abs(ds.activation.values[-1] - ref)))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-7


def test_ornstein_uhlenbeck_stationary_moments():
    """tau da = -a dt + sigma dW: stationary mean 0 (+bias) and variance sigma^2 / (2 tau)."""
    tau, sigma, mu = 0.5, 0.8, 0.3
    net = tf.ConceptNetwork(["x"])
    model = tf.Model(tau=tau, transfer="linear", bias=mu, sigma=sigma, initial=mu)
    M = 400
    ds = tf.simulate(net, model, t_end=20.0, solver=tf.Solver("euler_maruyama", dt=0.002),
                     saveat=tf.SaveAt(dt=0.5), members=M, seed=11)
    x = ds.activation.sel(concept="x").values[:, 8:]  # drop t < 4 (8 tau) transient
    # samples 0.5 apart are correlated with rho = exp(-0.5 / tau) = 0.37 -> effective count
    n_eff = x.size * (1 - np.exp(-1.0)) / (1 + np.exp(-1.0))
    var_exact = sigma**2 / (2 * tau)
    # Euler-Maruyama's stationary variance for this linear SDE is var * 2/(2 - dt/tau)
    var_em = var_exact * 2 / (2 - 0.002 / tau)
    se_mean = np.sqrt(var_exact / n_eff)
    se_var = var_exact * np.sqrt(2 / n_eff)
    assert abs(x.mean() - mu) < 4 * se_mean
    assert abs(x.var() - var_em) < 4 * se_var
    assert abs(var_em - var_exact) < 0.01 * var_exact


def test_same_seed_same_output_and_different_seed_differs():
    net = random_network(30, k=4, seed=7)
    model = tf.Model(sigma=0.2, tau=1.0)
    kw = dict(t_end=2.0, solver=tf.Solver("euler_maruyama", dt=0.01), members=3)
    a = tf.simulate(net, model, seed=5, **kw).activation.values
    b = tf.simulate(net, model, seed=5, **kw).activation.values
    c = tf.simulate(net, model, seed=6, **kw).activation.values
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    # members get different noise
    assert not np.allclose(a[0], a[1])
