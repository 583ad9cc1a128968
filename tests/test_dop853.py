"""DOP853 (Dormand-Prince 8(5,3) with 7th-order dense output): the coefficients against the
order conditions, the tableau driven with a fixed step, and the compiled adaptive kernel
against scipy's DOP853 (same method and controller: same accuracy, similar step counts)."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from conftest import nonlinear_setup, random_network
from thoughtfield.solvers import TABLEAUS

TAB = TABLEAUS["dop853"]
NS = TAB.n_step_stages          # 12 stages + the FSAL stage


# ------------------------------------------------------------------ coefficients
def test_tableau_shape_and_consistency():
    assert TAB.order == 8 and TAB.fsal and TAB.adaptive
    assert TAB.A.shape == (16, 16) and NS == 13 and TAB.P.shape == (16, 7)
    assert np.all(np.triu(TAB.A) == 0)                      # explicit
    # the published a_ij sum to the abscissae entered in closed form
    np.testing.assert_allclose(TAB.A.sum(axis=1), TAB.c, rtol=0, atol=2e-15)
    # the FSAL stage is f(t + h, y_new)
    assert TAB.c[12] == 1.0
    np.testing.assert_array_equal(TAB.A[12, :12], TAB.b[:12])
    assert np.all(TAB.b[12:] == 0)


def test_order_conditions_up_to_eight():
    A, b, c = TAB.A[:12, :12], TAB.b[:12], TAB.c[:12]
    for k in range(1, 9):                                   # bushy trees
        assert abs(b @ c ** (k - 1) - 1 / k) < 1e-14, k
    # a few other trees: sum b_i c_i^k a_ij c_j^l = 1 / ((k + l + 2)(l + 1))
    for k, l in [(0, 1), (1, 1), (0, 2), (2, 3), (0, 6), (3, 3), (5, 1)]:
        v = b @ (c ** k * (A @ c ** l))
        assert abs(v - 1 / ((k + l + 2) * (l + 1))) < 1e-14, (k, l)
    # the tall trees b A^(p-2) c = 1/p!
    v = c.copy()
    for p in range(3, 9):
        v = A @ v
        assert abs(b @ v - 1 / math.factorial(p)) < 1e-14, p
    # trees with two branches: sum b_i (A c^k)_i (A c^l)_i = 1 / ((k + l + 3)(k + 1)(l + 1))
    for k, l in [(1, 2), (2, 3), (1, 4)]:
        v = b @ ((A @ c ** k) * (A @ c ** l))
        assert abs(v - 1 / ((k + l + 3) * (k + 1) * (l + 1))) < 1e-14, (k, l)


def test_error_estimators_are_of_orders_five_and_three():
    """``e5``: the difference to a 5th-order solution (kills c^0..c^4); ``e3`` to a
    3rd-order one (kills c^0..c^2) -- and neither is identically zero."""
    e5, e3, c = TAB.e, TAB.e3, TAB.c
    for k in range(1, 6):
        assert abs(e5 @ c ** (k - 1)) < 1e-14, k
    for k in range(1, 4):
        assert abs(e3 @ c ** (k - 1)) < 1e-14, k
    assert abs(e5 @ c ** 5) > 1e-4 and abs(e3 @ c ** 3) > 1e-3


def test_dense_output_matches_the_step_ends_and_its_order_conditions():
    P = TAB.P
    # theta = 1 gives y_new (weights b), theta = 0 gives y (no constant term)
    np.testing.assert_allclose(P.sum(axis=1), TAB.b, rtol=0, atol=1e-13)
    # derivative at 0 is k1, at 1 is the FSAL stage f(t + h, y_new)
    d1 = P @ np.arange(1, 8)
    np.testing.assert_allclose(P[:, 0], np.eye(16)[0], atol=1e-13)
    np.testing.assert_allclose(d1, np.eye(16)[12], atol=1e-11)
    # continuous bushy conditions: sum_j b_j(th) c_j^(k-1) = th^k / k, k = 1..7
    for th in (0.2, 0.5, 0.9):
        bt = P @ th ** np.arange(1, 8)
        for k in range(1, 8):
            assert abs(bt @ TAB.c ** (k - 1) - th ** k / k) < 1e-13, (th, k)


# ------------------------------------------------------------------ fixed-step drive
def _stages(f, t, y, h, n):
    """Stages 1..n of the tableau at (t, y) with step h (numpy, independent of the kernel)."""
    K = np.zeros((n,) + np.shape(y))
    for i in range(n):
        K[i] = f(t + TAB.c[i] * h, y + h * np.tensordot(TAB.A[i, :i], K[:i], 1))
    return K


def _f(t, y):                      # y' = -2 t y^2, y(0) = 1: y = 1 / (1 + t^2)
    return -2.0 * t * y * y


def _exact(t):
    return 1.0 / (1.0 + t * t)


def test_fixed_step_convergence_order_is_eight():
    errs = []
    ns = np.array([4, 5, 6, 8, 10, 12, 16])   # the last error is about 1e-13
    for n in ns:
        h = 2.0 / n
        y, t = np.array(1.0), 0.0
        for _ in range(n):
            y = y + h * TAB.b[:NS] @ _stages(_f, t, y, h, NS)
            t += h
        errs.append(abs(float(y) - _exact(2.0)))
    slope = -np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert 7.5 < slope < 8.8, (slope, errs)


def test_dense_output_has_local_order_eight():
    """One step from the exact state: the interpolant's error at interior points falls
    like h^8 (a 7th-order continuous extension)."""
    t0 = 0.3
    for th in (0.3, 0.7):
        errs = []
        hs = np.array([0.4, 0.2, 0.1])
        for h in hs:
            K = _stages(_f, t0, np.array(_exact(t0)), h, 16)
            coef = TAB.P @ th ** np.arange(1, 8)
            errs.append(abs(_exact(t0) + h * coef @ K - _exact(t0 + th * h)))
        slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
        assert 7.6 < slope < 9.0, (th, slope, errs)


# ------------------------------------------------------------------ the kernel


@pytest.fixture(scope="module")
def problem():
    net, model, f, a0 = nonlinear_setup()
    ref = solve_ivp(f, (0, 8), a0, method="DOP853", rtol=1e-13, atol=1e-14, t_eval=[8.0]).y[:, -1]
    return net, model, f, a0, ref


def test_matches_reference_and_scipy_dop853_step_for_step(problem):
    """Same method, same error norm and controller exponent as scipy's DOP853: the same
    accuracy and (within 20 %) the same number of right-hand side evaluations."""
    net, model, f, a0, ref = problem
    for rtol in (1e-6, 1e-8, 1e-10):
        ds = tf.simulate(net, model, t_end=8.0, saveat=tf.SaveAt(times=[8.0]),
                         solver=tf.Solver("dop853", rtol=rtol, atol=rtol * 1e-2))
        err = np.abs(ds.activation.values[-1] - ref).max()
        sp = solve_ivp(f, (0, 8), a0, method="DOP853", rtol=rtol, atol=rtol * 1e-2)
        err_sp = np.abs(sp.y[:, -1] - ref).max()
        assert err < 10 * rtol, (rtol, err)
        assert err < 3 * err_sp + 1e-13, (rtol, err, err_sp)
        assert abs(ds.attrs["n_rhs"] - sp.nfev) <= 0.2 * sp.nfev, (rtol, ds.attrs["n_rhs"], sp.nfev)


def test_needs_fewer_evaluations_than_dopri5_at_tight_tolerance(problem):
    net, model, f, a0, ref = problem
    n = {}
    for m in ("dopri5", "dop853"):
        ds = tf.simulate(net, model, t_end=8.0, saveat=tf.SaveAt(times=[8.0]),
                         solver=tf.Solver(m, rtol=1e-8, atol=1e-10))
        assert np.abs(ds.activation.values[-1] - ref).max() < 1e-7
        n[m] = ds.attrs["n_rhs"]
    assert n["dop853"] < 0.7 * n["dopri5"], n


def test_dense_output_at_save_times_between_steps():
    """Save times far denser than the steps: the 7th-order interpolant (three extra stages
    per step that holds save times) is accurate to a few rtol, as accurate as scipy's
    DOP853 dense output on the same problem."""
    net, model, f, a0 = nonlinear_setup(30)
    ts = np.linspace(0, 5, 401)
    ref = solve_ivp(f, (0, 5), a0, method="DOP853", rtol=1e-13, atol=1e-14, t_eval=ts).y.T
    sp = solve_ivp(f, (0, 5), a0, method="DOP853", rtol=1e-10, atol=1e-12, t_eval=ts).y.T
    err_sp = np.abs(sp - ref).max()
    ds = tf.simulate(net, model, t_end=5.0, solver=tf.Solver("dop853", rtol=1e-10, atol=1e-12),
                     saveat=tf.SaveAt(times=ts))
    steps = ds.attrs["n_steps"]
    assert steps < 60   # far fewer steps than save times
    end = tf.simulate(net, model, t_end=5.0, saveat=tf.SaveAt(times=[5.0]),
                      solver=tf.Solver("dop853", rtol=1e-10, atol=1e-12))
    err_end = np.abs(end.activation.values[-1] - ref[-1]).max()
    err_all = np.abs(ds.activation.values - ref).max()
    assert err_all < 1e-9 and err_end < 1e-10, (err_all, err_end)
    assert err_all < 1.5 * err_sp + 1e-12, (err_all, err_sp)
    # the step sequence does not depend on the save times; the extra stages are counted
    assert end.attrs["n_steps"] == steps
    assert end.attrs["n_rhs"] < ds.attrs["n_rhs"] <= end.attrs["n_rhs"] + 3 * steps


def test_ensemble_members_match_single_runs():
    net = random_network(25, k=4, seed=8)
    m = 4
    gains = np.linspace(0.5, 3.0, m)
    y0 = np.random.default_rng(3).uniform(-0.5, 0.5, (m, net.n))
    ts = np.linspace(0, 4.0, 9)
    sol = tf.Solver("dop853", rtol=1e-9, atol=1e-11)
    ds = tf.simulate(net, tf.Model(transfer="tanh"), members=m, t_end=4.0,
                     saveat=tf.SaveAt(times=ts),
                     solver=sol, member_params={"gain": gains, "initial": y0})
    for k in range(m):
        one = tf.simulate(net, tf.Model(transfer="tanh", gain=gains[k]), initial=y0[k],
                          t_end=4.0, saveat=tf.SaveAt(times=ts), solver=sol)
        assert np.abs(ds.activation.values[k] - one.activation.values).max() < 1e-8
        assert ds.attrs["n_rhs"] >= 0.8 * one.attrs["n_rhs"]


def test_steady_state_stop_and_limits():
    net = random_network(30, k=4, seed=6, scale=0.5)
    model = tf.Model(transfer="sigmoid")
    stim = [tf.Pulse("c0", 0, 1, 1.0)]
    ds = tf.simulate(net, model, stim, t_end=100.0,
                     solver=tf.Solver("dop853", rtol=1e-9, atol=1e-12, steady_tol=1e-6))
    assert ds.attrs["status"] == "steady_state" and 1.0 < ds.attrs["stopped_at"] < 100.0
    long = tf.simulate(net, model, stim, t_end=100.0, saveat=tf.SaveAt(times=[100.0]),
                       solver=tf.Solver("dop853", rtol=1e-9, atol=1e-12))
    assert np.abs(ds.activation.values[-1] - long.activation.values[-1]).max() < 1e-5
    with pytest.raises(tf.SolverError, match=r"max_steps") as e:
        tf.simulate(net, model, stim, t_end=20.0,   # over 100: refused up front (>= 16)
                    solver=tf.Solver("dop853", rtol=1e-9, atol=1e-12, max_steps=5))
    assert e.value.partial.attrs["n_steps"] + e.value.partial.attrs["n_rejected"] == 5
    one = tf.ConceptNetwork(["x"])
    with pytest.raises(tf.SolverError, match=r"dop853 could not meet rtol = 1e-13, atol = "
                                             r"1e-300 at t = .*fell below min_step = 0.001"):
        tf.simulate(one, tf.Model(tau=1e-9, transfer="tanh", gain=1e9), [tf.Pulse("x", 0, 1, 1)],
                    t_end=1.0, solver=tf.Solver("dop853", rtol=1e-13, atol=1e-300, min_step=1e-3))


def test_config_and_memory_estimate_count_the_extra_stages():
    from _configs import TINY
    cfg = tf.load_config(TINY, overrides=['solver.method="dop853"'])
    sim = cfg.simulation()
    assert sim.method.c.size == 16 and sim._K.shape[0] == 16
    five = tf.load_config(TINY).simulation()
    assert sim.memory_estimate - five.memory_estimate == 8 * 3 * (16 - 7)
    ds = sim.run()
    assert ds.attrs["status"] == "success"
    with pytest.raises(tf.ConfigError, match=r"solver.rtol: must be > 0 \(got -0.001\)"):
        tf.Solver("dop853", rtol=-1e-3)
    with pytest.raises(tf.ConfigError, match=r"solver.method: .*'dop835'.*did you mean 'dop853'"):
        tf.Solver("dop835")
