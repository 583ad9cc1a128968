"""Batched ensembles: per-member parameters, the member layout, dopri5's shared step."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from conftest import random_network

from _configs import tiny


@pytest.fixture(scope="module")
def net():
    return random_network(60, k=5, seed=4)


def test_fixed_step_members_equal_single_runs_bitwise(net):
    """Every per-member parameter, lowered member-minor, gives each member exactly the
    trajectory of a single run with that member's parameters (independent path: Model)."""
    m = 5
    rng = np.random.default_rng(1)
    gains = np.linspace(0.5, 3.0, m)
    taus = [0.5, 1.0, 1.5, 2.0, 0.75]
    thr = rng.normal(0, 0.2, (m, net.n))
    bias = [0.1 * k for k in range(m)]
    y0 = rng.uniform(-0.5, 0.5, (m, net.n))
    stims = [tf.Pulse("c3", 0.0, 1.0, 0.8), tf.Pulse("c7", 0.5, 2.0, -0.4, member=2)]
    for method in ("rk4", "heun"):
        solver = tf.Solver(method, dt=0.05)
        ds = tf.simulate(net, tf.Model(transfer="tanh"), stims, members=m, solver=solver,
                         t_end=3.0, seed=0, member_params={
                             "gain": gains, "tau": taus, "threshold": thr, "bias": bias,
                             "initial": y0})
        assert ds.activation.dims == ("member", "time", "concept")
        for k in range(m):
            single = tf.simulate(
                net, tf.Model(transfer="tanh", gain=gains[k], tau=taus[k], threshold=thr[k],
                              bias=bias[k]),
                # the ensemble's steps stop at every member's input changes: a zero pulse
                # gives the single run the same stops (and adds exactly nothing)
                [tf.Pulse("c3", 0.0, 1.0, 0.8), tf.Pulse("c7", 0.5, 2.0, -0.4 if k == 2 else 0.0)],
                initial=y0[k], solver=solver, t_end=3.0, seed=0)
            np.testing.assert_array_equal(ds.activation.values[k], single.activation.values)
    # the values are coordinates along member (per concept where they vary over concepts)
    assert ds["gain"].dims == ("member",) and np.array_equal(ds["gain"].values, gains)
    assert ds["threshold"].dims == ("member", "concept")
    assert ds.attrs["member_params"]


def test_mapping_entries_keep_the_model_value_for_other_concepts(small_net):
    model = tf.Model(tau=1.5)
    ds = tf.simulate(small_net, model, members=2, t_end=1.0, seed=0,
                     member_params={"tau": [{"sun": 0.5, "@idea": 3.0}, 2.0]})
    tau = ds["tau"].sel(member=0)
    assert float(tau.sel(concept="sun")) == 0.5 and float(tau.sel(concept="beach")) == 3.0
    assert float(tau.sel(concept="sea")) == 1.5  # not named: the model's value
    assert (ds["tau"].sel(member=1).values == 2.0).all()


def test_per_member_noise_is_an_ou_process_with_each_members_variance():
    """Linear unit, no input: stationary variance sigma^2 / (2 tau) for each member."""
    net = tf.ConceptNetwork({"x": "image"})
    sigma = np.array([0.1, 0.2, 0.4, 0.4])
    tau = np.array([1.0, 1.0, 1.0, 4.0])
    ds = tf.simulate(net, tf.Model(transfer="linear"), members=4, t_end=400.0,
                     saveat=tf.SaveAt(dt=0.5),
                     solver=tf.Solver("euler_maruyama", dt=0.01), seed=11,
                     member_params={"sigma": sigma, "tau": tau})
    x = ds.activation.sel(concept="x").values[:, 100:]  # drop the transient
    expected = sigma**2 / (2 * tau)
    np.testing.assert_allclose(x.var(axis=1), expected, rtol=0.25)


def test_a_member_without_noise_follows_the_deterministic_euler_path(small_net):
    stims = [tf.Pulse("sun", 0, 2, 1.0)]
    ds = tf.simulate(small_net, tf.Model(gain=4.0), stims, members=3, t_end=3.0,
                     solver=tf.Solver("euler_maruyama", dt=0.01), seed=2,
                     member_params={"sigma": [0.0, 0.3, 0.0]})
    det = tf.simulate(small_net, tf.Model(gain=4.0), stims, t_end=3.0,
                      solver=tf.Solver("euler", dt=0.01))
    np.testing.assert_array_equal(ds.activation.values[0], det.activation.values)
    np.testing.assert_array_equal(ds.activation.values[2], det.activation.values)
    assert np.abs(ds.activation.values[1] - det.activation.values).max() > 1e-3


def _reference(net, gain, y0, t_end, ts):
    """scipy DOP853 at rtol 1e-11 on the same equations (tanh units), written with numpy."""
    W = net.weight_matrix().tocsr()

    def f(t, a):
        return -a + np.tanh(gain * (W @ a))
    sol = solve_ivp(f, (0, t_end), y0, method="DOP853", rtol=1e-11, atol=1e-13, t_eval=ts)
    return sol.y.T


def test_dopri5_shared_step_meets_the_tolerance_for_every_member(net):
    """One shared step, error norm = max over members: every member is as accurate as
    the tolerance asks, and the ensemble needs far fewer RHS passes than the members
    would separately (each pass serves all members)."""
    m = 6
    gains = np.linspace(0.5, 3.5, m)
    y0 = np.random.default_rng(3).uniform(-0.5, 0.5, (m, net.n))
    ts = np.linspace(0, 4.0, 9)
    ds = tf.simulate(net, tf.Model(transfer="tanh"), members=m, t_end=4.0,
                     saveat=tf.SaveAt(times=ts),
                     solver=tf.Solver("dopri5", rtol=1e-7, atol=1e-10), seed=0,
                     member_params={"gain": gains, "initial": y0})
    singles = 0
    for k in range(m):
        ref = _reference(net, gains[k], y0[k], 4.0, ts)
        err = np.abs(ds.activation.values[k] - ref).max()
        assert err < 2e-6, (k, err)
        one = tf.simulate(net, tf.Model(transfer="tanh", gain=gains[k]), initial=y0[k], t_end=4.0,
                          saveat=tf.SaveAt(times=ts),
                          solver=tf.Solver("dopri5", rtol=1e-7, atol=1e-10))
        singles += one.attrs["n_rhs"]
        # the shared step is never coarser than what the member needs alone
        assert ds.attrs["n_rhs"] >= 0.8 * one.attrs["n_rhs"]
    assert ds.attrs["n_rhs"] < singles / 2


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("params, match", [
    ({"gian": [1, 2]}, r"member_params: unknown parameter 'gian' \(did you mean 'gain'\?\)"),
    ({"gain": [1, 2, 3]}, r"member_params.gain: has 3 value\(s\) but the ensemble has 2 member"),
    ({"gain": np.ones((2, 4))}, r"member_params.gain: expected shape \(members,\) = \(2,\) or "
                                r"\(members, concepts\) = \(2, 5\) \(got \(2, 4\)\)"),
    ({"tau": [1.0, -1.0]}, r"member_params.tau\[1\]: must be > 0 \(got -1"),
    ({"sigma": [0.0, -0.1]}, r"member_params.sigma\[1\]: must be >= 0"),
    ({"gain": [1.0, float("nan")]}, r"member_params.gain\[1\]: must be finite"),
    ({"tau": [{"sunn": 2.0}, 1.0]}, r"unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ({"gain": "big"}, r"member_params.gain: expected one value per member"),
    ({"sigma": [0.0, 0.2]}, r"member_params.sigma\[1\]: member 1 has noise .* but the solver is "
                            r"deterministic; use method = 'euler_maruyama'"),
    ({"initial": [0.1, 0.2]}, r"member_params.initial: initial states are also given"),
    ([1, 2], r"member_params: expected a mapping"),
])
def test_member_params_errors(small_net, params, match):
    kw = {"initial": np.zeros(5)} if isinstance(params, dict) and "initial" in params else {}
    with pytest.raises(tf.ConfigError, match=match):
        tf.simulate(small_net, members=2, t_end=1.0, member_params=params, **kw)


MEMBERS_CFG = tiny(**{"t_end = 5.0": "t_end = 5.0\nmembers = 3"}) + """
[members]
gain = [2.0, 4.0, 8.0]
initial = [0.0, { beach = 0.5 }, 0.0]
"""


def test_members_config_section_runs_and_checks_lengths(tmp_path):
    cfg = tf.load_config(MEMBERS_CFG)
    ds = cfg.run_simulation()
    assert list(ds["gain"].values) == [2.0, 4.0, 8.0]
    assert float(ds.activation.sel(member=1, concept="beach").isel(time=0)) == 0.5
    # member 1 matches a single run with gain 4 and that initial state (dopri5 takes one
    # shared step for the ensemble, so within the tolerance rather than bitwise)
    one = tf.load_config(tiny(), overrides={"model.initial.beach": 0.5}).run_simulation()
    np.testing.assert_allclose(ds.activation.sel(member=1).values, one.activation.values, atol=1e-5)
    bad = MEMBERS_CFG.replace("gain = [2.0, 4.0, 8.0]", "gain = [2.0, 4.0]")
    (tmp_path / "m.toml").write_text(bad)
    with pytest.raises(tf.ConfigError, match=r"m.toml:\d+: members.gain: has 2 value\(s\) but "
                                             r"run.members = 3"):
        tf.load_config(tmp_path / "m.toml")
    with pytest.raises(tf.ConfigError, match=r"members.tau\[1\]: must be > 0"):
        tf.load_config(MEMBERS_CFG + "tau = [1.0, -1.0, 1.0]\n")
    with pytest.raises(tf.ConfigError, match=r"members.sigma: some members have noise but "
                                             r"solver.method = 'dopri5'"):
        tf.load_config(MEMBERS_CFG + "sigma = [0.0, 0.1, 0.0]\n")
    with pytest.raises(tf.ConfigError, match=r"members.gian: unknown key 'gian' \(did you mean 'gain'"):
        tf.load_config(MEMBERS_CFG + "gian = [1.0, 1.0, 1.0]\n")


@pytest.mark.parametrize("seed, key", [(0, ()), (1, ()), (2**40 + 7, ()), (123, (5,)),
                                       (2**63 - 1, (3, 2**35)), (7, (0,))])
def test_member_seeds_equal_numpys_seed_sequence(seed, key):
    """The vectorised seeding gives exactly SeedSequence([seed, *key, k]) for each member."""
    from thoughtfield.simulate import member_seeds
    m = 70
    ref = np.stack([np.random.SeedSequence([seed, *key, k]).generate_state(4, np.uint64)
                    for k in range(m)])
    np.testing.assert_array_equal(member_seeds(seed, m, key), ref)
