"""Asynchronous updates (issue 20): ``Solver("async", order=...)`` updates one unit at a
time, each reading the values written before it.  Checked against the update written out
here (integer arithmetic for the Hopfield network, numpy for graded units with pools and
inputs) with the same order -- the random order from xoshiro256** and Fisher-Yates
written out below from their definitions -- against Hopfield's (1982) energy argument
(never increases, so no cycles; the synchronous update shows a 2-cycle), and against the
storage capacity of Amit, Gutfreund & Sompolinsky (1985)."""

import numpy as np
import pytest
import scipy.sparse as sp

import thoughtfield as tf
from thoughtfield.datasets import blank

N = 1000
NET = blank(N, prefix="n")
M64 = (1 << 64) - 1


# ---------------------------------------------------------------- the references
def _xoshiro_uniforms(seed: int, member: int):
    """Doubles in [0, 1) from xoshiro256** (Blackman & Vigna 2018) seeded as documented:
    ``SeedSequence([seed, member]).generate_state(4, uint64)``."""
    s = [int(v) for v in np.random.SeedSequence([seed, member]).generate_state(4, np.uint64)]

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    while True:
        out = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield (out >> 11) * 2.0**-53


def _random_orders(seed, member, n, sweeps):
    """One Fisher-Yates permutation per sweep from the member's stream."""
    u = _xoshiro_uniforms(seed, member)
    orders = []
    for _ in range(sweeps):
        p = list(range(n))
        for k in range(n - 1, 0, -1):
            j = int(next(u) * (k + 1))
            p[k], p[j] = p[j], p[k]
        orders.append(p)
    return orders


def _hopfield_async(W, s, orders):
    """Integer asynchronous update: ``s_i <- sign(W_i . s)`` in the given order (sign 0
    -> +1, as the sign transfer)."""
    s = s.copy()
    rows = [s.copy()]
    for order in orders:
        for i in order:
            s[i] = 1 if W[i] @ s >= 0 else -1
        rows.append(s.copy())
    return np.array(rows, dtype=np.float64)


def _store(P, seed):
    ideas = tf.Ideas.random(NET, P, kind="pm1", seed=seed, normalize=True)
    X = ideas.patterns(NET).astype(np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    return ideas, W


def _run(model, sweeps, order=None, net=NET, stimuli=None, **kw):
    return tf.simulate(net, model, stimuli, t_end=sweeps, solver=tf.Solver("async", order=order),
                       saveat=tf.SaveAt(dt=1.0), **kw)


# ---------------------------------------------------------------- the tests
def test_sequential_order_equals_the_integer_reference():
    """P (N - 1) odd: every local field is an odd multiple of 1/N, never 0, so the update
    is exact and the trajectories agree to the last bit."""
    ideas, W = _store(101, seed=5)
    x0 = ideas.cue(NET, "pattern0", 0.2, seed=105, mode="flip")
    model = tf.Model(transfer="sign", tau=1.0, ideas=ideas, initial=x0)
    ds = _run(model, 6, order="sequential")
    ref = _hopfield_async(W, x0.astype(np.int64), [range(N)] * 6)
    np.testing.assert_array_equal(ds.activation.values, ref)
    assert not np.array_equal(ref[0], ref[-1])   # the cue was repaired on the way
    assert ds.attrs["method"] == "async" and ds.attrs["n_steps"] == 6


def test_random_order_equals_the_reference_for_every_member():
    """Each member draws its own permutation per sweep from its own stream: member k of an
    ensemble of 3 follows the order written out from SeedSequence([seed, k]), and runs
    alone as it runs in the ensemble."""
    n, P = 200, 21
    net = blank(n, prefix="n")
    ideas = tf.Ideas.random(net, P, kind="pm1", seed=2, normalize=True)
    X = ideas.patterns(net).astype(np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    x0 = ideas.cue(net, "pattern0", 0.3, seed=9, mode="flip")
    model = tf.Model(transfer="sign", tau=1.0, ideas=ideas, initial=x0)
    ds = _run(model, 4, net=net, members=3, seed=11)
    act = ds.activation.transpose("time", "concept", "member").values
    for k in range(3):
        ref = _hopfield_async(W, x0.astype(np.int64), _random_orders(11, k, n, 4))
        np.testing.assert_array_equal(act[:, :, k], ref)
    assert not np.array_equal(act[:, :, 0], act[:, :, 1])   # the orders differ
    seq = _run(model, 4, order="sequential", net=net).activation.values
    assert not np.array_equal(seq, act[:, :, 0])
    again = _run(model, 4, net=net, members=3, seed=11)
    np.testing.assert_array_equal(again.activation.values, ds.activation.values)


def _sk_network(n, seed):
    """Symmetric Gaussian couplings with zero self-coupling (a spin glass)."""
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(n, n))
    J = np.triu(J, 1)
    J = J + J.T
    net = tf.ConceptNetwork.from_scipy(sp.csr_matrix(J), [f"n{i}" for i in range(n)], "link")
    return net, J


def _energy(J, a):
    return -0.5 * np.einsum("ti,ij,tj->t", a, J, a)


def test_the_energy_never_increases_and_the_synchronous_update_cycles():
    """Hopfield (1982): with symmetric weights and no self-coupling an asynchronous flip
    never raises E = -a.W.a / 2, so the run ends in a fixed point.  The synchronous update
    of the same network from the same start falls into a 2-cycle (a(t+2) = a(t) != a(t+1)),
    which the asynchronous one cannot show."""
    n = 80
    net, J = _sk_network(n, seed=4)
    np.testing.assert_array_equal(net.weight_matrix().toarray(), J)
    a0 = np.where(np.random.default_rng(1).random(n) < 0.5, -1.0, 1.0)
    model = tf.Model(transfer="sign", tau=1.0, initial=a0)
    for order in ("random", "sequential"):
        act = _run(model, 30, order=order, net=net, seed=3).activation.values
        E = _energy(J, act)
        assert np.all(np.diff(E) <= 1e-9 * np.abs(E[:-1]).max())
        assert E[-1] < E[0]
        assert np.array_equal(act[-1], act[-2])   # a fixed point: no unit flips any more
    # the same order written out: no single flip raises the energy (not only per sweep)
    s = a0.copy()
    for _ in range(30):
        for i in range(n):
            e_before = _energy(J, s[None])[0]
            s[i] = 1.0 if J[i] @ s >= 0 else -1.0
            assert _energy(J, s[None])[0] <= e_before + 1e-9
    seq = _run(model, 30, order="sequential", net=net).activation.values
    np.testing.assert_array_equal(seq[-1], s)
    sync = tf.simulate(net, model, t_end=30, solver=tf.Solver("euler", dt=1.0),
                       saveat=tf.SaveAt(dt=1.0)).activation.values
    assert np.array_equal(sync[-1], sync[-3]) and not np.array_equal(sync[-1], sync[-2])


def test_two_units_cycle_synchronously_and_settle_asynchronously():
    """The smallest case: two units excite each other; from (+1, -1) the synchronous update
    swaps them for ever, the asynchronous one aligns them in one sweep."""
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "association", 1.0)])
    model = tf.Model(transfer="sign", tau=1.0, initial={"x": 1.0, "y": -1.0})
    sync = tf.simulate(net, model, t_end=4, solver=tf.Solver("euler", dt=1.0),
                       saveat=tf.SaveAt(dt=1.0)).activation.values
    np.testing.assert_array_equal(sync, [[1, -1], [-1, 1], [1, -1], [-1, 1], [1, -1]])
    seq = _run(model, 4, order="sequential", net=net).activation.values
    np.testing.assert_array_equal(seq, [[1, -1]] + [[-1, -1]] * 4)   # x reads y = -1 first


def test_retrieval_succeeds_below_the_capacity_and_fails_above():
    """N = 1000, random order, from a cue with 10 % of the bits flipped: at alpha = 0.10
    every pattern is retrieved, at alpha = 0.16 (above alpha_c = 0.138) retrieval breaks
    down in a large share of the trials (5 of 8 end below an overlap of 0.7; the descent
    to those spurious states takes up to 38 sweeps, against 2-6 for a retrieval)."""
    def final(P, seed):
        ideas = tf.Ideas.random(NET, P, kind="pm1", seed=seed, normalize=True)
        x0 = ideas.cue(NET, "pattern0", 0.1, seed=seed + 100, mode="flip")
        model = tf.Model(transfer="sign", tau=1.0, ideas=ideas, initial=x0)
        ds = _run(model, 60, seed=seed)
        assert np.array_equal(ds.activation.values[-1], ds.activation.values[-2])  # settled
        return float(ds.idea_overlap.sel(idea="pattern0")[-1])
    low = [final(101, s) for s in range(8)]
    high = [final(161, s) for s in range(8)]
    assert min(low) > 0.98 and np.mean(low) > 0.99
    assert np.mean(high) < 0.85 and sum(m < 0.7 for m in high) >= 3


def test_graded_units_with_pools_and_inputs_equal_the_numpy_update():
    """tanh units, a pool with lateral inhibition, a pulse and a clamp: the sequential
    update written out with the pool term x_i = -inh (sum of the pool - a_i)."""
    names = ["a", "b", "c", "d", "e"]
    rels = [("a", "b", "link", 0.8), ("b", "c", "link", 0.5), ("c", "a", "link", -0.4),
            ("d", "e", "association", 0.7), ("e", "b", "link", 0.3)]
    net = tf.ConceptNetwork(names, rels)
    Wm = net.weight_matrix().toarray()
    inh = 0.6
    model = tf.Model(transfer="tanh", gain=1.5, threshold=0.1, tau=1.0,
                     initial={"a": 0.2, "b": -0.1, "c": 0.4, "d": 0.0, "e": 0.3},
                     pools=[tf.Pool("p", ["a", "b", "c"], inhibition=inh)])
    stims = [tf.Pulse("d", 2, 5, 0.9), tf.Clamp("e", 3, 6, -0.5)]
    ds = _run(model, 8, order="sequential", net=net, stimuli=stims)
    pool = [0, 1, 2]
    a = np.array([0.2, -0.1, 0.4, 0.0, 0.3])
    rows = [a.copy()]
    for k in range(8):
        I = np.zeros(5)
        if 2 <= k < 5:
            I[3] = 0.9
        clamped = 3 <= k < 6
        if clamped:
            a[4] = -0.5
        for i in range(5):
            if clamped and i == 4:
                continue
            x = I[i] - (inh * (a[pool].sum() - a[i]) if i in pool else 0.0)
            a[i] = np.tanh(1.5 * (Wm[i] @ a + x - 0.1))
        rows.append(a.copy())
    np.testing.assert_allclose(ds.activation.values, np.array(rows), rtol=0, atol=1e-14)


def test_per_member_parameters_reach_the_single_unit_updates():
    """Two members with their own gains and thresholds (member_params), sequential order:
    each equals the numpy update with its own values."""
    rng = np.random.default_rng(7)
    n = 12
    net, J = _sk_network(n, seed=9)
    gains = rng.uniform(0.5, 2.0, (2, n))
    thr = rng.normal(0, 0.3, (2, n))
    a0 = rng.uniform(-0.5, 0.5, n)
    model = tf.Model(transfer="tanh", tau=1.0, initial=a0)
    ds = _run(model, 5, order="sequential", net=net, members=2,
              member_params={"gain": gains, "threshold": thr})
    act = ds.activation.transpose("time", "concept", "member").values
    for k in range(2):
        a = a0.copy()
        rows = [a.copy()]
        for _ in range(5):
            for i in range(n):
                a[i] = np.tanh(gains[k, i] * (J[i] @ a - thr[k, i]))
            rows.append(a.copy())
        np.testing.assert_allclose(act[:, :, k], np.array(rows), rtol=0, atol=1e-13)
    assert np.abs(act[-1, :, 0] - act[-1, :, 1]).max() > 0.1


def test_chunked_and_checkpointed_runs_equal_the_whole_run(tmp_path):
    ideas, _ = _store(51, seed=1)
    x0 = ideas.cue(NET, "pattern0", 0.3, seed=3, mode="flip")
    model = tf.Model(transfer="sign", tau=1.0, ideas=ideas, initial=x0)
    whole = _run(model, 6, members=2, seed=8)
    sim = tf.Simulation(NET, model, t_end=6, solver=tf.Solver("async"), saveat=tf.SaveAt(dt=1.0),
                        members=2, seed=8)
    for i in range(1, sim.ts.size + 1):
        sim.advance(i)
        if i == 3:
            sim.save_checkpoint(tmp_path / "c.ckpt")
    np.testing.assert_array_equal(sim.result().activation.values, whole.activation.values)
    sim2 = tf.Simulation(NET, model, t_end=6, solver=tf.Solver("async"),
                         saveat=tf.SaveAt(dt=1.0), members=2, seed=8)
    sim2.load_checkpoint(tmp_path / "c.ckpt")
    sim2.advance(sim2.ts.size)
    np.testing.assert_array_equal(sim2.result().activation.values[3:],
                                  whole.activation.values[3:])


def test_the_default_save_grid_is_on_the_sweeps():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "association", 1.0)])
    model = tf.Model(transfer="sign", tau=2.0, initial={"x": 1.0, "y": -1.0})
    short = tf.simulate(net, model, t_end=30, solver="async", seed=0)   # dt = tau = 2
    np.testing.assert_array_equal(short.time.values, np.arange(0, 31, 2.0))
    long = tf.simulate(net, model, t_end=1002, solver="async", seed=0)  # 501 sweeps
    np.testing.assert_array_equal(long.time.values,
                                  np.r_[np.arange(0, 1002, 6.0), 1002.0])


def test_what_the_asynchronous_update_refuses():
    model = tf.Model(transfer="sign", tau=1.0)
    with pytest.raises(tf.ConfigError, match="solver.order: only the method 'async'"):
        tf.Solver("euler", order="random")
    with pytest.raises(tf.ConfigError, match="solver.order: must be one of"):
        tf.Solver("async", order="backwards")
    with pytest.raises(tf.ConfigError, match=r"model.adaptation: .* asynchronous update"):
        _run(tf.Model(transfer="sign", tau=1.0, adaptation=tf.Adaptation(tau=5.0)), 3)
    with pytest.raises(tf.ConfigError, match="solver.dt: the asynchronous update sweeps"):
        tf.simulate(NET, model, t_end=3, solver=tf.Solver("async"),
                    saveat=tf.SaveAt(dt=0.5))
    with pytest.raises(tf.ConfigError, match="input change at 1.5 is not on that grid"):
        _run(model, 3, stimuli=[tf.Pulse("n0", 1.5, 2, 1.0)])
    with pytest.raises(tf.ConfigError, match="model.sigma: the asynchronous update"):
        _run(tf.Model(transfer="sign", tau=1.0, sigma=0.1), 3)
