"""The discrete spreadr-compatible mode: hand-computed cases, spreadr's published test
expectations, an independent dense reference, invariances and validation."""

import numpy as np
import pytest

import thoughtfield as tf

TOL = 1e-12


def spreadr_net(adj, names=None):
    """A network from a spreadr adjacency matrix (``adj[i, j]``: weight of ``i -> j``)."""
    adj = np.asarray(adj, dtype=float)
    names = names or [str(i + 1) for i in range(adj.shape[0])]
    return tf.ConceptNetwork.from_scipy(adj, names, relation="link")


def act(ds):
    return ds.activation.transpose("time", "concept").values


def reference(A, r, d, sup, inj, T):
    """Plain dense implementation of DESIGN §1 (written independently of the kernel):
    ``inj[t]`` is the injection vector of step t."""
    n = A.shape[0]
    D = A.sum(axis=1)
    a = np.zeros(n) + inj[0]
    out = [a.copy()]
    for t in range(1, T + 1):
        new = np.zeros(n)
        for j in range(n):
            new[j] = a[j] if D[j] == 0 else r[j] * a[j]
            for i in range(n):
                if D[i] > 0 and A[i, j] != 0:
                    new[j] += A[i, j] * (1 - r[i]) * a[i] / D[i]
        new *= 1 - d
        new[new < sup] = 0.0
        new += inj[t]
        a = new
        out.append(a.copy())
    return np.array(out)


# ----------------------------------------------------------------- hand-computed
def chain_net():
    # a -> b (1), a -> c (3), b -> c (2); c has no out-edges
    return tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link", 1.0), ("a", "c", "link", 3.0),
                                               ("b", "c", "link", 2.0)])


RET = {"a": 0.2, "b": 0.5, "c": 0.9}


def test_per_node_retention_and_leaf_by_hand():
    ds = tf.simulate(chain_net(), stimuli=[tf.Pulse("a", 0, 1, 10.0)],
                     solver=tf.Spreadr(retention=RET), t_end=2)
    # t1: a keeps 0.2*10 = 2, spreads 8 as 1:3 -> b 2, c 6
    # t2: a keeps 0.4, spreads 1.6 -> b 0.4, c 1.2; b keeps 1, spreads 1 -> c; c (leaf) keeps 6
    expected = [[10, 0, 0], [2, 2, 6], [0.4, 1.0 + 0.4, 6 + 1.2 + 1.0]]
    np.testing.assert_allclose(act(ds), expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(act(ds).sum(axis=1), 10.0, rtol=0, atol=TOL)  # conserved


def test_decay_by_hand():
    ds = tf.simulate(chain_net(), stimuli=[tf.Pulse("a", 0, 1, 10.0)],
                     solver=tf.Spreadr(retention=RET, decay=0.1), t_end=2)
    t1 = [0.9 * 2, 0.9 * 2, 0.9 * 6]
    t2 = [0.9 * (0.2 * 1.8), 0.9 * (0.5 * 1.8 + 1.44 / 4), 0.9 * (5.4 + 1.44 * 3 / 4 + 0.9)]
    np.testing.assert_allclose(act(ds), [[10, 0, 0], t1, t2], rtol=0, atol=TOL)


def test_suppress_and_later_injection_by_hand():
    stim = [tf.Pulse("a", 0, 1, 10.0), tf.Pulse("b", 3, 4, 5.0)]
    ds = tf.simulate(chain_net(), stimuli=stim, solver=tf.Spreadr(retention=RET, suppress=1.5),
                     t_end=4)
    expected = [
        [10, 0, 0],
        [2, 2, 6],
        [0, 0, 8.2],          # 0.4 and 1.4 are below suppress = 1.5
        [0, 5, 8.2],          # injection at step 3 comes after suppression
        [0, 2.5, 10.7],       # b keeps half, spreads 2.5 to c
    ]
    np.testing.assert_allclose(act(ds), expected, rtol=0, atol=TOL)
    assert ds.time.values.tolist() == [0, 1, 2, 3, 4]
    assert ds.time.attrs["units"] == "1" and ds.time.attrs["long_name"] == "spreadr step"


def test_injection_is_not_suppressed_or_decayed_in_its_step():
    # a pulse of 1 with suppress 2: present at its step, suppressed one step later
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("x", 2, 3, 1.0)],
                     solver=tf.Spreadr(suppress=2.0, decay=0.5), t_end=3)
    np.testing.assert_allclose(act(ds), [[0, 0], [0, 0], [1, 0], [0, 0]], atol=TOL)


def test_pulse_over_several_steps_injects_every_step():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("x", 1, 3, 4.0)], solver=tf.Spreadr(retention=0.5),
                     t_end=3)
    # t1: x = 4; t2: x = 2 + 4, y = 2; t3: x = 3, y = 2 + 3
    np.testing.assert_allclose(act(ds), [[0, 0], [4, 0], [6, 2], [3, 5]], atol=TOL)


def test_clamp_holds_value_after_update():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, stimuli=[tf.Clamp("x", 0, 2, 1.0)], solver=tf.Spreadr(retention=0.5),
                     t_end=3)
    # steps 0, 1: x held at 1; y gets 0.5 at step 1 and 2; step 3: x keeps half of 0.5
    np.testing.assert_allclose(act(ds), [[1, 0], [1, 0.5], [0.5, 1.0], [0.25, 1.25]], atol=TOL)


# --------------------------------------------- spreadr's own published expectations
def test_spreadr_terminal_nodes_case():
    # spreadr tests/testthat/test-terminal-nodes.r (GitHub issue 1)
    adj = np.zeros((5, 5))
    for i, j in [(1, 2), (1, 5), (2, 4), (2, 5), (4, 1), (4, 2), (4, 3)]:
        adj[i - 1, j - 1] = 1
    ds = tf.simulate(spreadr_net(adj), stimuli=[tf.Pulse("1", 0, 1, 20)],
                     solver=tf.Spreadr(retention=0), t_end=3)
    table = tf.to_spreadr_table(ds)
    expected = [0, 10, 0, 0, 10, 0, 0, 0, 5, 15, 5 / 3, 5 / 3, 5 / 3, 0, 15]
    np.testing.assert_allclose(table["activation"], expected, atol=TOL)
    assert table["node"].tolist() == [str(i) for i in range(1, 6)] * 3
    assert table["time"].tolist() == [1] * 5 + [2] * 5 + [3] * 5


def test_spreadr_stop_conditions_cases():
    net = spreadr_net([[0, 1], [0, 0]])
    start = [tf.Pulse("1", 0, 1, 20)]
    # threshold only (time = NULL), decay 0.5
    ds = tf.simulate(net, stimuli=start, t_end=None,
                     solver=tf.Spreadr(threshold_to_stop=2.5, decay=0.5))
    exp = [20 / 4, 20 / 2 / 2,
           20 / 4 / 4, (20 / 2 / 2 + 20 / 4 / 2) / 2,
           20 / 4 / 4 / 4, ((20 / 2 / 2 + 20 / 4 / 2) / 2 + 20 / 4 / 4 / 2) / 2]
    np.testing.assert_allclose(tf.to_spreadr_table(ds)["activation"], exp, atol=TOL)
    assert ds.attrs["status"] == "threshold_reached" and ds.attrs["stopped_at"] == 3
    # both, threshold first
    ds = tf.simulate(net, stimuli=start, t_end=6,
                     solver=tf.Spreadr(threshold_to_stop=2.5, decay=0.5))
    np.testing.assert_allclose(tf.to_spreadr_table(ds)["activation"], exp, atol=TOL)
    # both, time first
    ds = tf.simulate(net, stimuli=start, t_end=4, solver=tf.Spreadr(threshold_to_stop=1))
    np.testing.assert_allclose(tf.to_spreadr_table(ds)["activation"],
                               [10, 10, 5, 15, 2.5, 17.5, 1.25, 18.75], atol=TOL)
    assert ds.attrs["status"] == "success"


def test_spreadr_start_run_cases():
    net = spreadr_net([[0, 1], [0, 0]])
    ds = tf.simulate(net, stimuli=[tf.Pulse("1", 0, 1, 10), tf.Pulse("2", 0, 1, 10)],
                     solver="spreadr", t_end=3)
    np.testing.assert_allclose(tf.to_spreadr_table(ds)["activation"],
                               [5, 15, 2.5, 17.5, 1.25, 18.75], atol=TOL)
    ds = tf.simulate(net, stimuli=[tf.Pulse("1", 1, 2, 10), tf.Pulse("1", 2, 3, 10)],
                     solver="spreadr", t_end=3)
    np.testing.assert_allclose(tf.to_spreadr_table(ds)["activation"],
                               [10, 0, 15, 5, 7.5, 12.5], atol=TOL)


def test_spreadr_weighted_matrix_case():
    net = spreadr_net([[0, 1, 9], [1, 0, 0], [9, 0, 0]], ["a", "b", "c"])
    ds = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1, 10)], solver=tf.Spreadr(retention=0),
                     t_end=1)
    table = tf.to_spreadr_table(ds, include_t0=True)
    np.testing.assert_allclose(table["activation"], [10, 0, 0, 0, 1, 9], atol=TOL)
    assert table["time"].tolist() == [0, 0, 0, 1, 1, 1]


def test_threshold_checked_at_t0():
    net = spreadr_net([[0, 1], [0, 0]])
    ds = tf.simulate(net, stimuli=[tf.Pulse("1", 0, 1, 0.5)], t_end=None,
                     solver=tf.Spreadr(threshold_to_stop=1.0))
    assert ds.sizes["time"] == 1 and ds.attrs["n_steps"] == 0


# ------------------------------------------------------------ independent reference
def random_case(n=25, seed=0):
    rng = np.random.default_rng(seed)
    A = (rng.random((n, n)) < 0.15) * rng.uniform(0.1, 2.0, (n, n))
    np.fill_diagonal(A, 0)
    A[:, :3] = 0                     # a few concepts nobody spreads to
    A[-2:, :] = 0                    # and two leaves
    names = [f"k{i}" for i in range(n)]
    r = rng.uniform(0, 1, n)
    inj = np.zeros((16, n))
    stim = []
    for (t, i, v) in [(0, 0, 5.0), (0, 7, 2.0), (3, 4, 1.5), (9, 0, 3.0), (15, 20, 1.0)]:
        inj[t, i] += v
        stim.append(tf.Pulse(names[i], t, t + 1, v))
    return A, names, r, inj, stim


@pytest.mark.parametrize("decay, suppress", [(0.0, 0.0), (0.2, 0.0), (0.05, 0.01)])
def test_matches_dense_reference(decay, suppress):
    A, names, r, inj, stim = random_case()
    net = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    ds = tf.simulate(net, stimuli=stim, t_end=15,
                     solver=tf.Spreadr(retention=r, decay=decay, suppress=suppress))
    ref = reference(A, r, decay, suppress, inj, 15)
    np.testing.assert_allclose(act(ds), ref, rtol=0, atol=TOL)


def test_independent_of_concept_order():
    A, names, r, inj, stim = random_case(seed=3)
    net = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    ret = dict(zip(names, r.tolist()))
    solver = tf.Spreadr(retention=ret, decay=0.1, suppress=0.001)
    ds = tf.simulate(net, stimuli=stim, t_end=15, solver=solver)
    order = np.random.default_rng(7).permutation(len(names))
    perm = net.permuted([names[i] for i in order])
    dp = tf.simulate(perm, stimuli=stim, t_end=15, solver=solver)
    np.testing.assert_allclose(dp.activation.sel(concept=list(names)).values,
                               ds.activation.values, rtol=0, atol=TOL)


def test_symmetric_and_directed_types_spread_as_weight_matrix():
    # association is symmetric, is_a with reverse 0.5 spreads both ways with different weights
    net = tf.ConceptNetwork(["dog", "animal", "cat"],
                            [("dog", "animal", "is_a"), ("cat", "animal", "is_a"),
                             ("dog", "cat", "association", 2.0)])
    net.set_relation_type("is_a", reverse=0.5)
    A = net.weight_matrix().T.toarray()
    ds = tf.simulate(net, stimuli=[tf.Pulse("dog", 0, 1, 1.0)], solver=tf.Spreadr(retention=0.3),
                     t_end=6)
    inj = np.zeros((7, 3))
    inj[0, 0] = 1.0
    np.testing.assert_allclose(act(ds), reference(A, np.full(3, 0.3), 0, 0, inj, 6), atol=TOL)


def test_ensemble_members_equal_single_runs():
    A, names, r, inj, stim = random_case(seed=5)
    net = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    rets = np.random.default_rng(1).uniform(0, 1, (3, len(names)))
    pulses = [tf.Pulse(names[0], 0, 1, 1.0, member=0), tf.Pulse(names[5], 0, 1, 2.0, member=1),
              tf.Pulse(names[9], 2, 3, 3.0, member=2), tf.Pulse(names[1], 0, 1, 1.0)]
    ens = tf.simulate(net, stimuli=pulses, t_end=12, members=3,
                      solver=tf.Spreadr(retention=rets, decay=0.05))
    assert ens.activation.dims == ("member", "time", "concept")
    for k in range(3):
        mine = [tf.Pulse(p.concept, p.start, p.stop, p.amplitude) for p in pulses
                if p.member in (None, k)]
        one = tf.simulate(net, stimuli=mine, t_end=12,
                          solver=tf.Spreadr(retention=rets[k], decay=0.05))
        assert np.array_equal(ens.activation.isel(member=k).values, one.activation.values)
    table = tf.to_spreadr_table(ens)
    assert set(table["member"]) == {0, 1, 2} and len(table) == 3 * 12 * len(names)


def test_conservation_without_decay():
    net = tf.datasets.wordnet(pos="n", relations=["hypernym", "instance_hypernym", "meronym"])
    ds = tf.simulate(net, stimuli=[tf.Pulse("dog.n.01", 0, 1, 1.0)], t_end=100,
                     solver=tf.Spreadr(retention=0.5), saveat=tf.SaveAt(every=10))
    total = ds.activation.sum("concept").values
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    assert ds.time.values.tolist() == list(range(0, 101, 10))
    assert (ds.activation.values >= 0).all()


def test_self_loop_keeps_its_share():
    net = tf.ConceptNetwork(["x", "y"], [("x", "x", "link", 1.0), ("x", "y", "link", 1.0)])
    ds = tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 4.0)], solver=tf.Spreadr(retention=0.5),
                     t_end=1)
    # x keeps 2, spreads 2 over out-degree 2: 1 back to itself, 1 to y
    np.testing.assert_allclose(act(ds)[1], [3.0, 1.0], atol=TOL)


def test_initial_state_and_t0():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, initial={"x": 2.0}, stimuli=[tf.Pulse("x", 5, 6, 1.0)],
                     solver=tf.Spreadr(retention=0.0), t0=5, t_end=6)
    np.testing.assert_allclose(act(ds), [[3.0, 0.0], [0.0, 3.0]], atol=TOL)
    assert ds.time.values.tolist() == [5, 6]


# ------------------------------------------------------------- saving and dispatch
def test_save_every_and_save_at_keep_the_same_values():
    A, names, r, inj, stim = random_case(seed=2)
    net = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    full = tf.simulate(net, stimuli=stim, t_end=15, solver=tf.Spreadr(retention=r))
    every = tf.simulate(net, stimuli=stim, t_end=15, solver=tf.Spreadr(retention=r),
                        saveat=tf.SaveAt(every=4))
    assert every.time.values.tolist() == [0, 4, 8, 12, 15]
    np.testing.assert_array_equal(every.activation.values,
                                  full.activation.sel(time=[0, 4, 8, 12, 15]).values)
    at = tf.simulate(net, stimuli=stim, t_end=15, solver=tf.Spreadr(retention=r),
                     saveat=tf.SaveAt(times=[3, 7]))
    assert at.time.values.tolist() == [0, 3, 7, 15]
    np.testing.assert_array_equal(at.activation.values,
                                  full.activation.sel(time=[0, 3, 7, 15]).values)


def test_chunked_advance_equals_full_run():
    A, names, r, inj, stim = random_case(seed=4)
    net = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    full = tf.simulate(net, stimuli=stim, t_end=15, solver=tf.Spreadr(retention=r, decay=0.1))
    sim = tf.make_simulation(net, stimuli=stim, t_end=15,
                             solver={"method": "spreadr", "retention": r, "decay": 0.1})
    assert isinstance(sim, tf.DiscreteSimulation)
    for _ in range(4):
        sim.advance(4)
    np.testing.assert_array_equal(sim.result().activation.values, full.activation.values)


def test_solver_selection_forms():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    st = [tf.Pulse("x", 0, 1, 1.0)]
    a = tf.simulate(net, stimuli=st, solver="spreadr", t_end=2)
    b = tf.simulate(net, stimuli=st, solver={"method": "spreadr", "retention": 0.5}, t_end=2)
    c = tf.simulate(net, stimuli=st, solver=tf.Spreadr(), t_end=2)
    assert np.array_equal(a.activation.values, b.activation.values)
    assert np.array_equal(a.activation.values, c.activation.values)
    assert a.attrs["method"] == "spreadr" and "spreadr" in tf.METHODS
    with pytest.raises(tf.ConfigError, match=r"solver: 'spreadr' is the discrete mode.*"
                                             r"tf\.make_simulation"):
        tf.solvers.as_solver("spreadr")     # the continuous solvers do not take it
    assert tf.Spreadr.from_dict(tf.results.description(c, "solver")) == tf.Spreadr()


def test_max_steps_without_threshold_is_an_error_with_partial_result():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link"), ("y", "x", "link")])
    with pytest.raises(tf.SolverError, match="max_steps = 50") as e:
        tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 1.0)], t_end=None,
                    solver=tf.Spreadr(threshold_to_stop=0.1, max_steps=50))
    assert e.value.partial.time.values[-1] == 50
    np.testing.assert_allclose(e.value.partial.activation.values[-1].sum(), 1.0)


def test_negative_couplings():
    net = tf.ConceptNetwork(["x", "y", "z"], [("x", "y", "association"),
                                              ("x", "z", "contradicts")])
    with pytest.raises(tf.ConfigError, match="coupling .* is negative.*contradicts"):
        tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 1.0)], solver="spreadr", t_end=2)
    ign = tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 1.0)], t_end=2,
                      solver=tf.Spreadr(negative="ignore"))
    dropped = tf.simulate(net.drop_types("contradicts"), stimuli=[tf.Pulse("x", 0, 1, 1.0)],
                          solver="spreadr", t_end=2)
    assert np.array_equal(ign.activation.values, dropped.activation.values)


@pytest.mark.parametrize("kwargs, match", [
    ({"retention": 1.5}, r"solver.retention: must be between 0 and 1 \(got 1.5\)"),
    ({"retention": {"x": -0.1}}, r"solver.retention.x: must be between 0 and 1"),
    ({"retention": [0.5, 2.0]}, r"solver.retention\[1\]: must be between 0 and 1"),
    ({"decay": 2}, r"solver.decay: must be <= 1"),
    ({"threshold_to_stop": 0}, r"solver.threshold_to_stop: must be > 0"),
    ({"max_steps": 0}, r"solver.max_steps: must be >= 1"),
    ({"negative": "drop"}, r"solver.negative: must be one of 'error', 'ignore'"),
    ({"method": "spreader"}, r"solver.method: must be one of 'spreadr'"),
])
def test_spreadr_settings_validation(kwargs, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.Spreadr(**kwargs)


def test_run_validation():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    st = [tf.Pulse("x", 0, 1, 1.0)]
    with pytest.raises(tf.ConfigError, match="solver: unknown key 'retension'.*'retention'"):
        tf.simulate(net, stimuli=st, solver={"method": "spreadr", "retension": 0.5})
    with pytest.raises(tf.ConfigError, match="t_end: needs|t_end: the run needs"):
        tf.simulate(net, stimuli=st, solver="spreadr", t_end=None)
    with pytest.raises(tf.ConfigError, match=r"t_end: must be > t0 \(0\)"):
        tf.simulate(net, stimuli=st, solver="spreadr", t_end=0)
    with pytest.raises(tf.ConfigError, match="t_end: must be an integer"):
        tf.simulate(net, stimuli=st, solver="spreadr", t_end=2.5)
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(dt=\.\.\.\): the discrete mode counts steps"):
        tf.simulate(net, stimuli=st, solver="spreadr", saveat=tf.SaveAt(dt=1))
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(times=\.\.\.\): steps must be integers"):
        tf.simulate(net, stimuli=st, solver="spreadr", saveat=tf.SaveAt(times=[1.5]))
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(times=\.\.\.\): step 20 is outside the run"):
        tf.simulate(net, stimuli=st, solver="spreadr", saveat=tf.SaveAt(times=[20]))
    with pytest.raises(tf.ConfigError, match="model.sigma: the discrete 'spreadr' mode has no noise"):
        tf.simulate(net, tf.Model(sigma=0.1), stimuli=st, solver="spreadr")
    # an input after the last step has no effect: a warning, as in the continuous mode
    with pytest.warns(tf.ThoughtfieldWarning,
                      match=r"stimuli\[0\].start: .* starts at step 12, after the last step \(10\)"):
        ds = tf.simulate(net, stimuli=[tf.Pulse("x", 12, 13, 1.0)], solver="spreadr", t_end=10)
    assert float(abs(ds.activation).max()) == 0.0
    with pytest.raises(tf.ConfigError, match="unknown concept 'xx'"):
        tf.simulate(net, stimuli=[tf.Pulse("xx", 0, 1, 1.0)], solver="spreadr")
    with pytest.raises(tf.ConfigError, match=r"per-member values must have shape \(members, "
                                             r"concepts\) = \(2, 2\)"):
        tf.simulate(net, stimuli=st, members=2, solver=tf.Spreadr(retention=np.ones((3, 2)) / 2))
    with pytest.raises(tf.ConfigError, match="'spreadr' is the discrete mode"):
        tf.Solver(method="spreadr")


def test_memory_limit():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    with pytest.raises(tf.ResourceError, match=r"this run may need about .* \(max_memory\); "
                                               "save less often"):
        tf.make_simulation(net, solver="spreadr", t_end=10**6, max_memory=1e6)
    with pytest.raises(tf.ConfigError, match="max_memory: must be > 0"):
        tf.make_simulation(net, solver="spreadr", t_end=10, max_memory=-1)
    tf.make_simulation(net, solver="spreadr", t_end=10**6,
                       saveat=tf.SaveAt(every=10**5), max_memory=1e6)


def test_result_file_round_trip(tmp_path):
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 1.0)], t_end=None,
                     solver=tf.Spreadr(threshold_to_stop=0.3, decay=0.5))
    tf.save_result(ds, tmp_path / "r.nc")
    back = tf.load_result(tmp_path / "r.nc")
    np.testing.assert_array_equal(back.activation.values, ds.activation.values)
    assert back.attrs["method"] == "spreadr" and back.attrs["stopped_at"] == ds.attrs["stopped_at"]
    assert tf.to_spreadr_table(back).equals(tf.to_spreadr_table(ds))


def test_the_spreadr_method_name_is_case_insensitive_like_the_solver_names():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 1.0)])
    ref = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1, amplitude=10)], t_end=3, solver="spreadr")
    for name in ("Spreadr", " SPREADR", {"method": "SpreadR"}):
        ds = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1, amplitude=10)], t_end=3, solver=name)
        np.testing.assert_array_equal(ds.activation.values, ref.activation.values)


def test_simulation_is_the_continuous_mode_and_make_simulation_chooses():
    net = tf.ConceptNetwork({"a": "image", "b": "idea"}, [("a", "b")])
    with pytest.raises(tf.ConfigError, match=r"solver: 'spreadr' is the discrete mode.*"
                                             r"tf\.make_simulation"):
        tf.Simulation(net, solver="spreadr", t_end=3)
    assert type(tf.make_simulation(net, solver="spreadr", t_end=3)) is tf.DiscreteSimulation
    assert type(tf.make_simulation(net, solver=tf.Spreadr(), t_end=3)) is tf.DiscreteSimulation
    assert type(tf.make_simulation(net, t_end=3)) is tf.Simulation
