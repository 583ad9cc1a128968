"""The mechanism terms against independent references: a hand-written numpy right-hand
side integrated by scipy's DOP853, the cascade recursion, analytic crossing times."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from conftest import random_network


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _full_setup(form):
    """A network with every mechanism that acts on the dynamics, and its numpy RHS."""
    n = 24
    net = random_network(n, k=4, seed=11, scale=0.8)
    names = net.concepts
    # goal concepts favour a few others (kept out of W, scaled by the control)
    net.add_relation("c20", "c3", "favours", 1.5)
    net.add_relation("c20", "c4", "favours", 0.7)
    net.add_relation("c21", "c5", "favours", 1.0)
    net.add_relation("c4", "c5", "contradicts", 0.6)
    pool = ["c3", "c4", "c5", "c6"]
    rng = np.random.default_rng(5)
    X = rng.choice([-1.0, 1.0], size=(3, n))
    ideas = tf.Ideas([tf.Idea(f"p{k}", pattern=X[k]) for k in range(3)], strength=0.6,
                     representation="low_rank")
    tau = rng.uniform(0.5, 1.5, n)
    gain = rng.uniform(1.0, 2.0, n)
    bias = rng.normal(0, 0.3, n)
    thr = rng.normal(0, 0.2, n)
    init = rng.uniform(-0.5, 0.5, n)
    tau_h = rng.uniform(3, 6, n)
    kappa = rng.uniform(0.2, 0.8, n)
    model = tf.Model(form=form, transfer="tanh", tau=tau, gain=gain, bias=bias, threshold=thr,
                     initial=init,
                     adaptation=tf.Adaptation(tau=tau_h, strength=kappa),
                     goals=tf.Goals(gain=0.8),
                     pools=[tf.Pool("resp", pool, inhibition=0.4)],
                     controls=[tf.Control(monitor=["resp"], target="goals", tau=2.0, baseline=1.0,
                                          sensitivity=0.5),
                               tf.Control(monitor=["resp"], target={"c7": 0.9, "c8": -0.4},
                                          name="task", tau=1.0, baseline=0.2, sensitivity=0.3)],
                     choices=[tf.Choice("resp", threshold=1e9, on="evidence", rate=0.7, leak=0.2,
                                        inhibition=0.1, compare="mean")],
                     ideas=ideas)
    stim = [tf.Pulse("c1", 0.0, 100.0, 0.8), tf.Pulse("c20", 0.0, 100.0, 1.0)]
    I = np.zeros(n)
    I[names.index("c1")] = 0.8
    I[names.index("c20")] = 1.0
    W = net.weight_matrix(types=[t for t in net.relation_types if t != "favours"]).toarray()
    B = net.weight_matrix(types=["favours"]).toarray()
    pidx = [names.index(c) for c in pool]
    Wp = W[np.ix_(pidx, pidx)]
    negp = np.where((Wp < 0) & ~np.eye(len(pidx), dtype=bool), Wp, 0.0)
    H = 0.6 / n * (X.T @ X)
    np.fill_diagonal(H, 0.0)
    t7, t8 = names.index("c7"), names.index("c8")
    k = len(pidx)

    def conflict(a):
        ap = a[pidx]
        return 0.4 * (ap.sum() ** 2 - (ap ** 2).sum()) - ap @ negp @ ap

    def f(t, y):
        s = y[:n]
        h = y[n:2 * n]
        c1, c2 = y[2 * n], y[2 * n + 1]
        e = y[2 * n + 2:]
        a = np.tanh(gain * (s + bias - thr)) if form == "potential" else s
        x = c1 * 0.8 * (B @ a) - h + H @ a
        ap = a[pidx]
        x[pidx] -= 0.4 * (ap.sum() - ap)
        x[t7] += 0.9 * c2
        x[t8] += -0.4 * c2
        if form == "potential":
            ds = (-s + W @ a + I + x) / tau
        else:
            ds = (-s + np.tanh(gain * (W @ a + I + bias + x - thr))) / tau
        dh = (kappa * a - h) / tau_h
        E = conflict(a)
        dc1 = (1.0 - c1 + 0.5 * E) / 2.0
        dc2 = (0.2 - c2 + 0.3 * E) / 1.0
        others = (ap.sum() - ap) / (k - 1)
        de = 0.7 * (ap - others) - 0.2 * e - 0.1 * (e.sum() - e)
        return np.concatenate([ds, dh, [dc1, dc2], de])

    y0 = np.concatenate([init, np.zeros(n), [1.0, 0.2], np.zeros(k)])
    return net, model, stim, f, y0, n, k, conflict, (lambda s: np.tanh(gain * (s + bias - thr)))


@pytest.mark.parametrize("form", ["activation", "potential"])
def test_every_mechanism_matches_a_numpy_rhs_under_dop853(form):
    net, model, stim, f, y0, n, k, conflict, out = _full_setup(form)
    ts = np.linspace(0, 6, 13)
    ref = solve_ivp(f, (0, 6), y0, method="DOP853", rtol=1e-11, atol=1e-12, t_eval=ts).y.T
    ds = tf.simulate(net, model, stim, t_end=6.0, saveat=tf.SaveAt(times=ts),
                     solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    a_ref = ref[:, :n] if form == "activation" else out(ref[:, :n])
    assert np.abs(ds.activation.values - a_ref).max() < 1e-7
    np.testing.assert_allclose(ds.control.values, ref[:, 2 * n:2 * n + 2], atol=1e-7)
    np.testing.assert_allclose(ds.evidence.values, ref[:, 2 * n + 2:], atol=1e-7)
    # the conflict readout is the numpy energy of the saved activations
    E = np.array([conflict(a) for a in ds.activation.values])
    np.testing.assert_allclose(ds.conflict.sel(pool="resp").values, E, rtol=1e-12, atol=1e-14)
    # the mechanisms do something: without them the trajectory differs by far more
    plain = tf.simulate(net, tf.Model(form=form, transfer="tanh", tau=model.tau, gain=model.gain,
                                      bias=model.bias, threshold=model.threshold,
                                      initial=model.initial),
                        stim, t_end=6.0, saveat=tf.SaveAt(times=ts),
                        solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    assert np.abs(plain.activation.values - ds.activation.values).max() > 1e-2


@pytest.mark.parametrize("form", ["activation", "potential"])
@pytest.mark.parametrize("method,tol", [("rk4", 1e-6), ("heun", 2e-3), ("euler", 2e-2)])
def test_fixed_step_solvers_integrate_the_extra_state(method, tol, form):
    net, model, stim, f, y0, n, k, _, out = _full_setup(form)
    ref = solve_ivp(f, (0, 3), y0, method="DOP853", rtol=1e-11, atol=1e-12, t_eval=[3.0]).y[:, -1]
    ds = tf.simulate(net, model, stim, t_end=3.0,
                     saveat=tf.SaveAt(times=[3.0]), solver=tf.Solver(method, dt=0.01))
    a_ref = ref[:n] if form == "activation" else out(ref[:n])
    got = np.concatenate([ds.activation.values[-1], ds.control.values[-1], ds.evidence.values[-1]])
    want = np.concatenate([a_ref, ref[2 * n:2 * n + 2], ref[2 * n + 2:]])
    assert np.abs(got - want).max() < tol


def test_cascade_recursion_equals_potential_form_under_euler():
    """McClelland's (1979) cascade update net(t) = r * (sum w a + I) + (1 - r) * net(t-1),
    a = f(net + bias), is the potential form integrated by Euler with dt = r * tau."""
    net = random_network(30, k=4, seed=1)
    W = net.weight_matrix().toarray()
    rng = np.random.default_rng(0)
    bias = rng.normal(0, 0.5, 30)
    tau, r, steps = 2.0, 0.1, 60
    model = tf.Model(form="potential", transfer="sigmoid", tau=tau, bias=bias, gain=1.5,
                     record_potential=True)
    ds = tf.simulate(net, model, [tf.Pulse("c3", 0, 100, 1.0), tf.Pulse("c9", 2.0, 4.0, -0.5)],
                     t_end=steps * r * tau, solver=tf.Solver("euler", dt=r * tau),
                     saveat=tf.SaveAt(every=1))
    # the recursion, written out
    netin = np.zeros(30)
    outs, nets = [], [netin.copy()]
    outs.append(_sigmoid(1.5 * (netin + bias)))
    for k in range(steps):
        t = k * r * tau
        I = np.zeros(30)
        I[3] = 1.0
        if 2.0 <= t < 4.0:
            I[9] = -0.5
        a = _sigmoid(1.5 * (netin + bias))
        netin = r * (W @ a + I) + (1 - r) * netin
        outs.append(_sigmoid(1.5 * (netin + bias)))
        nets.append(netin.copy())
    assert ds.time.size == steps + 1
    assert np.abs(ds.activation.values - np.array(outs)).max() < 1e-13
    assert np.abs(ds.potential.values - np.array(nets)).max() < 1e-13


@pytest.mark.parametrize("method", ["euler", "heun", "rk4", "dopri5", "dop853", "euler_maruyama"])
def test_single_accumulator_with_constant_drift_crosses_at_threshold_over_drift(method):
    net = tf.ConceptNetwork(["x"])
    drift, thr, onset = 0.7, 1.5, 1.0
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["x"])],
                     choices=[tf.Choice("p", threshold=thr, on="evidence", compare="none",
                                        rate=drift, onset=onset)])
    ds = tf.simulate(net, model, [tf.Clamp("x", 0, 10, 1.0)], t_end=10,
                     solver=tf.Solver(method, dt=0.013), seed=1)
    assert str(ds.choice.values[0]) == "x"
    assert abs(float(ds.response_time[0]) - thr / drift) < 1e-12
    assert abs(float(ds.choice_time[0]) - (onset + thr / drift)) < 1e-12


@pytest.mark.parametrize("method,tol", [("dopri5", 1e-9), ("dop853", 1e-9), ("rk4", 1e-8),
                                        ("euler_maruyama", 5e-3)])
def test_activation_threshold_crossing_time_is_interpolated(method, tol):
    """a(t) = 1 - exp(-t) under a unit pulse crosses 0.5 at ln 2 (exact, not the next step;
    Euler-Maruyama's tolerance is the error of Euler's method itself, about dt/2)."""
    net = tf.ConceptNetwork(["x", "y"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["x", "y"])],
                     choices=[tf.Choice("p", threshold=0.5, stop=True)])
    sol = (tf.Solver(method, rtol=1e-11, atol=1e-13) if method in ("dopri5", "dop853")
           else tf.Solver(method, dt=0.01))
    ds = tf.simulate(net, model, [tf.Pulse("x", 0, 10, 1.0)], t_end=10, solver=sol, seed=2)
    assert str(ds.choice.values[0]) == "x"
    assert abs(float(ds.response_time[0]) - np.log(2)) < tol
    # margin: x minus y (y stays 0) at the crossing
    assert abs(float(ds.choice_margin[0]) - 0.5) < 10 * tol
    assert ds.attrs["status"] == "choice_made"
    # the run ends with the step that contains the choice (dop853's steps are longer)
    assert float(ds.choice_time[0]) <= ds.attrs["stopped_at"] < (0.9 if method == "dop853"
                                                                  else 0.75)
    assert float(ds.time[-1]) == ds.attrs["stopped_at"]


def test_potential_form_choice_on_output_and_conflict_at_choice():
    """Potential form: the decision variable is the output a = f(u); the conflict at the
    choice is the pool energy at that instant."""
    net = tf.ConceptNetwork(["x", "y"])
    model = tf.Model(form="potential", transfer="sigmoid", gain=1.0,
                     pools=[tf.Pool("p", ["x", "y"], inhibition=0.5)],
                     choices=[tf.Choice("p", threshold=0.7)])
    # inhibition couples them; integrate with tight tolerance and compare with the numpy
    # solution's crossing time found by dense root finding of solve_ivp
    def f(t, u):
        a = _sigmoid(u)
        inp = np.array([1.5, 0.5])
        return -u + inp - 0.5 * (a.sum() - a)

    def event(t, u):
        return _sigmoid(u[0]) - 0.7
    event.terminal = True
    ref = solve_ivp(f, (0, 20), np.zeros(2), method="DOP853", rtol=1e-12, atol=1e-13,
                    events=event, dense_output=True)
    t_star = ref.t_events[0][0]
    ds = tf.simulate(net, model, [tf.Pulse("x", 0, 20, 1.5), tf.Pulse("y", 0, 20, 0.5)], t_end=20,
                     solver=tf.Solver("dopri5", rtol=1e-11, atol=1e-13))
    assert str(ds.choice.values[0]) == "x"
    assert abs(float(ds.choice_time[0]) - t_star) < 1e-8
    a_star = _sigmoid(ref.sol(t_star))
    E = 0.5 * 2 * a_star[0] * a_star[1]
    assert abs(float(ds.conflict_at_choice.sel(pool="p")[0]) - E) < 1e-8
    assert abs(float(ds.choice_margin[0]) - (a_star[0] - a_star[1])) < 1e-8


def test_first_passage_times_of_a_noisy_accumulator_follow_the_inverse_gaussian():
    """de = v dt + s dW from 0 to threshold A: mean A / v, variance A s^2 / v^3."""
    net = tf.ConceptNetwork(["x"])
    v, s, A = 1.0, 0.5, 1.0
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["x"])],
                     choices=[tf.Choice("p", threshold=A, on="evidence", compare="none", rate=v,
                                        noise=s, stop=True)])
    M = 2000
    ds = tf.simulate(net, model, [tf.Clamp("x", 0, 6, 1.0)], t_end=6, members=M, seed=4,
                     solver=tf.Solver("euler_maruyama", dt=0.001), saveat=tf.SaveAt(times=[6.0]))
    rt = ds.response_time.sel(decision="p").values
    assert np.isfinite(rt).all()
    mean, var = A / v, A * s ** 2 / v ** 3
    se_mean = np.sqrt(var / M)
    # + the discretisation bias of a discretely monitored crossing, about 0.58 s sqrt(dt) / v
    assert abs(rt.mean() - mean) < 4 * se_mean + 0.58 * s * np.sqrt(0.001) / v
    se_var = var * np.sqrt((2 + 15 * s ** 2 / v / A) / M)  # var of sample variance (IG kurtosis)
    assert abs(rt.var() - var) < 4 * se_var
    # the ensemble readouts summarise the same samples
    assert float(ds.mean_rt.sel(decision="p")) == pytest.approx(rt.mean(), rel=1e-12)
    np.testing.assert_allclose(ds.rt_quantile.sel(decision="p").values,
                               np.quantile(rt, tf.readouts.RT_QUANTILES), rtol=1e-12)
    assert float(ds.choice_probability.sel(decision="p", option="x")) == 1.0


def test_choice_probabilities_match_an_independent_monte_carlo():
    """Two accumulators comparing against each other (drift difference 0.3, noise 1):
    the choice probability of thoughtfield's ensemble equals a plain numpy simulation of
    the same race within sampling error."""
    net = tf.ConceptNetwork(["a", "b"])
    rate, s, A = 1.0, 1.0, 1.0
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", threshold=A, on="evidence", compare="mean", rate=rate,
                                        noise=s, stop=True, correct="a")])
    M = 2000
    dt = 0.005
    ds = tf.simulate(net, model, [tf.Clamp("a", 0, 20, 0.65), tf.Clamp("b", 0, 20, 0.35)],
                     t_end=20, members=M, seed=8, solver=tf.Solver("euler_maruyama", dt=dt),
                     saveat=tf.SaveAt(times=[20.0]))
    p_tf = float(ds.choice_probability.sel(decision="p", option="a"))
    assert float(ds.accuracy.sel(decision="p")) == p_tf
    # the same race in numpy
    rng = np.random.default_rng(123)
    e = np.zeros((M, 2))
    drift = rate * np.array([0.65 - 0.35, 0.35 - 0.65])
    winner = np.full(M, -1)
    for _ in range(4000):
        live = winner < 0
        if not live.any():
            break
        e[live] += drift * dt + s * np.sqrt(dt) * rng.standard_normal((live.sum(), 2))
        hit = live & (e.max(axis=1) >= A)
        winner[hit] = np.argmax(e[hit], axis=1)
    p_np = np.mean(winner == 0)
    se = np.sqrt(2 * p_np * (1 - p_np) / M)
    assert 0.6 < p_np < 0.95
    assert abs(p_tf - p_np) < 4 * se
