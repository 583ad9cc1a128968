"""Plastic relations (issue 16, part 1): weights that learn during a run.

References: the analytic solution of the Hebbian rule with clamped activations, scipy
``solve_ivp(DOP853)`` on the augmented system (activations and weights) written out here
in numpy, Oja's principal component, BCM selectivity; and the guarantees of every state
block (checkpoints, ensembles).
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf
from thoughtfield.errors import ConfigError

TIGHT = tf.Solver(method="dopri5", rtol=1e-11, atol=1e-13)


def _pair(w0=0.1, **kw):
    net = tf.ConceptNetwork()
    for c in ("a", "b", "c"):
        net.add_concept(c)
    net.add_relation("a", "b", "association", w0)
    return net, tf.Model(transfer="linear", plasticity=tf.Plasticity(**kw))


# ------------------------------------------------------------------ analytic
def test_hebb_with_clamped_activations_follows_the_exponential_approach():
    eta, tau_w, ai, aj, w0 = 0.5, 2.0, 0.8, 0.5, 0.1
    net, model = _pair(w0, rate=eta, tau=tau_w)
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 10, ai), tf.Clamp("b", 0, 10, aj)],
                     t_end=10.0, solver=TIGHT)
    t = ds.time.values
    w_inf = eta * tau_w * ai * aj
    ref = w_inf + (w0 - w_inf) * np.exp(-t / tau_w)
    for edge in ("a->b", "b->a"):     # a symmetric relation: one plastic edge per direction
        assert np.abs(ds.weight.sel(edge=edge).values - ref).max() < 1e-8


def test_hebb_without_decay_grows_linearly_and_stops_at_the_bound():
    net, model = _pair(0.0, rate=0.25, w_max=0.5)
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 8, 1.0), tf.Clamp("b", 0, 8, 1.0)],
                     t_end=8.0, solver=TIGHT)
    w = ds.weight.sel(edge="a->b")
    t = ds.time.values
    early = t <= 1.9
    assert np.abs(w.values[early] - 0.25 * t[early]).max() < 1e-9
    assert w.values.max() == 0.5 and w.values[-1] == 0.5


def test_learning_interval_freezes_the_weights_outside_it():
    net, model = _pair(0.1, rate=1.0, tau=4.0, start=2.0, stop=5.0)
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 9, 1.0), tf.Clamp("b", 0, 9, 0.5)],
                     t_end=9.0, solver=TIGHT)
    t = ds.time.values
    w = ds.weight.sel(edge="a->b").values
    w_inf = 1.0 * 4.0 * 0.5
    w5 = w_inf + (0.1 - w_inf) * np.exp(-3.0 / 4.0)
    ref = np.where(t < 2.0, 0.1, np.where(t < 5.0, w_inf + (0.1 - w_inf) * np.exp(-(t - 2) / 4),
                                           w5))
    assert np.abs(w - ref).max() < 1e-8


# ------------------------------------------------------------------ solve_ivp reference
def _random_case(seed, rule, form, gate):
    rng = np.random.default_rng(seed)
    n = 6
    names = [f"c{i}" for i in range(n)]
    net = tf.ConceptNetwork()
    for nm in names:
        net.add_concept(nm)
    rel = []   # (source, target, type, weight)
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.6:
                ty = "association" if rng.random() < 0.7 else "causes"
                w = float(rng.uniform(-0.6, 0.8))
                net.add_relation(names[i], names[j], ty, w)
                rel.append((i, j, ty, w))
    tau = rng.uniform(0.5, 1.5, n)
    gain = rng.uniform(0.8, 2.0, n)
    pl = tf.Plasticity(rule=rule, relations=["association"], rate=0.7, tau=3.0,
                       average_tau=2.0, gate="c5" if gate else None,
                       start=1.0 if gate else 0.0, stop=7.0 if gate else np.inf)
    model = tf.Model(tau=dict(zip(names, tau)), gain=dict(zip(names, gain)), threshold=0.3,
                     form=form, plasticity=pl)
    stims = [tf.Pulse("c0", 0.0, 4.0, 1.2), tf.Pulse("c3", 2.0, 8.0, 0.9),
             tf.Pulse("c5", 0.0, 10.0, 0.6)]
    # the reference: static W from the causes relations, plastic edges of the associations
    Ws = np.zeros((n, n))
    edges = []
    for i, j, ty, w in rel:
        if ty == "causes":
            Ws[j, i] += w
        else:
            edges += [(i, j, w), (j, i, w)]          # (source, target, starting weight)
    src = np.array([e[0] for e in edges])
    tgt = np.array([e[1] for e in edges])
    w0 = np.array([e[2] for e in edges])
    return net, model, stims, (n, tau, gain, Ws, src, tgt, w0)


def _reference(case, rule, form, gate, stims, t_eval):
    n, tau, gain, Ws, src, tgt, w0 = case
    E = src.size
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731

    def inp(t):
        x = np.zeros(n)
        for s in stims:
            if s.start <= t < s.stop:
                x[int(s.concept[1:])] += s.amplitude
        return x

    def rhs(t, y, on):
        s = y[:n]
        w = y[n:n + E]
        m = y[n + E:]
        a = s if form == "activation" else sig(gain * (s - 0.3))
        u = Ws @ a + inp(t)
        np.add.at(u, tgt, w * a[src])
        if form == "activation":
            ds = (sig(gain * (u - 0.3)) - s) / tau
        else:
            ds = (u - s) / tau
        ai, aj = a[tgt], a[src]
        H = {"hebb": ai * aj, "covariance": (ai - m[tgt]) * (aj - m[src]),
             "oja": ai * (aj - ai * w), "bcm": ai * (ai - m[tgt]) * aj}[rule]
        g = on * (max(a[5], 0.0) if gate else 1.0)
        dw = g * (0.7 * H - w / 3.0)
        dm = ((a if rule == "covariance" else a * a) - m) / 2.0
        return np.concatenate([ds, dw, dm])

    y = np.concatenate([np.zeros(n), w0, np.zeros(n)])
    cuts = sorted({0.0, 2.0, 4.0, 8.0, 10.0} | ({1.0, 7.0} if gate else set()))
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        on = 1.0 if (not gate or 1.0 <= lo < 7.0) else 0.0
        te = t_eval[(t_eval >= lo) & (t_eval < hi)]
        sol = solve_ivp(rhs, (lo, hi), y, method="DOP853", rtol=1e-12, atol=1e-14,
                        t_eval=te, args=(on,))
        out.append(sol.y.T)
        y = solve_ivp(rhs, (lo, hi), y, method="DOP853", rtol=1e-12, atol=1e-14,
                      args=(on,)).y[:, -1]
    out.append(y[None])
    return np.concatenate(out)


@pytest.mark.parametrize("rule,form,gate", [
    ("hebb", "activation", False), ("covariance", "activation", True),
    ("oja", "potential", False), ("bcm", "potential", True)])
def test_every_rule_matches_solve_ivp_on_the_augmented_system(rule, form, gate):
    net, model, stims, case = _random_case(3, rule, form, gate)
    ds = tf.simulate(net, model, stimuli=stims, t_end=10.0, solver=tf.Solver(
        method="dop853", rtol=1e-11, atol=1e-13), saveat=tf.SaveAt(dt=0.5))
    t = ds.time.values
    ref = _reference(case, rule, form, gate, stims, t)
    n, src, tgt = case[0], case[4], case[5]
    names = list(net.concepts)
    got_w = np.stack([ds.weight.sel(edge=f"{names[j]}->{names[i]}").values
                      for j, i in zip(src, tgt)], axis=1)
    state = ds.activation.values if form == "activation" else None
    if form == "activation":
        assert np.abs(state - ref[:, :n]).max() < 1e-7
    assert np.abs(got_w - ref[:, n:n + src.size]).max() < 1e-7
    assert np.abs(got_w[-1] - got_w[0]).max() > 0.05       # the weights did learn


# ------------------------------------------------------------------ Oja and BCM
def _present(net_inputs, patterns, dt):
    """Clamps presenting ``patterns`` (rows) one after another, ``dt`` each."""
    return [tf.Clamp(c, k * dt, (k + 1) * dt, float(v))
            for k, p in enumerate(patterns) for c, v in zip(net_inputs, p)]


def test_oja_converges_to_the_principal_eigenvector_of_the_inputs():
    # ten zero-mean patterns drawn from a 3-d Gaussian, presented again and again (one time
    # unit each) to a fast linear output: w -> the principal eigenvector of their covariance
    rng = np.random.default_rng(7)
    C = np.array([[3.0, 1.0, 0.4], [1.0, 1.5, 0.2], [0.4, 0.2, 0.6]])
    X = rng.multivariate_normal(np.zeros(3), C, size=10) * 0.5
    X -= X.mean(axis=0)
    net = tf.ConceptNetwork()
    for c in ("x0", "x1", "x2", "y"):
        net.add_concept(c)
    for c in ("x0", "x1", "x2"):
        net.add_relation(c, "y", "link", 0.3)
    model = tf.Model(transfer="linear", tau={"*": 1.0, "y": 0.02},
                     plasticity=tf.Plasticity(rule="oja", relations=["link"], rate=0.02))
    ds = tf.simulate(net, model, stimuli=_present(["x0", "x1", "x2"], np.tile(X, (100, 1)), 1.0),
                     t_end=1000.0, solver=tf.Solver(method="dopri5", rtol=1e-6, atol=1e-9),
                     saveat=tf.SaveAt(dt=100.0))
    w = ds.weight.isel(time=-1).sel(edge=["x0->y", "x1->y", "x2->y"]).values
    v = np.linalg.eigh(X.T @ X / len(X))[1][:, -1]
    angle = np.degrees(np.arccos(min(1.0, abs(w @ v) / np.linalg.norm(w))))
    assert angle < 2.0
    assert abs(np.linalg.norm(w) - 1.0) < 0.01      # Oja's rule normalises the weights
    w0 = ds.weight.isel(time=0).sel(edge=["x0->y", "x1->y", "x2->y"]).values
    assert np.degrees(np.arccos(abs(w0 @ v) / np.linalg.norm(w0))) > 10.0   # it had to move


def test_bcm_develops_selectivity_to_one_of_two_patterns():
    # two overlapping patterns in random order; with a sliding threshold the output keeps
    # the weight of one input and loses the other's (Bienenstock, Cooper & Munro 1982)
    rng = np.random.default_rng(1)
    P = np.array([[1.0, 0.2], [0.2, 1.0]])
    order = rng.integers(0, 2, size=1000)
    net = tf.ConceptNetwork()
    for c in ("x0", "x1", "y"):
        net.add_concept(c)
    for c in ("x0", "x1"):
        net.add_relation(c, "y", "link", 0.5)
    model = tf.Model(transfer="linear", tau={"*": 1.0, "y": 0.05},
                     plasticity=tf.Plasticity(rule="bcm", relations=["link"], rate=0.2,
                                              average_tau=2.0, w_min=0.0))
    ds = tf.simulate(net, model, stimuli=_present(["x0", "x1"], P[order], 1.0), t_end=1000.0,
                     solver=tf.Solver(method="dopri5", rtol=1e-6, atol=1e-9),
                     saveat=tf.SaveAt(dt=100.0))
    w = ds.weight.isel(time=-1).sel(edge=["x0->y", "x1->y"]).values
    assert w.min() < 0.05 * w.max()          # one input lost its weight, the other kept it
    resp = P @ w                             # responses to the two patterns
    assert resp.max() > 4 * resp.min()       # as selective as the overlap of 0.2 allows
    w0 = ds.weight.isel(time=0).sel(edge=["x0->y", "x1->y"]).values
    assert w0[0] == w0[1]                    # it started unselective


# ------------------------------------------------------------------ guarantees
def test_checkpoint_resume_is_bitwise_with_learning_on(tmp_path):
    net, model, stims, _ = _random_case(5, "bcm", "activation", True)
    kw = dict(stimuli=stims, t_end=10.0, solver=tf.Solver(method="dopri5"),
              saveat=tf.SaveAt(dt=0.05), seed=4)
    whole = tf.simulate(net, model, **kw)
    for k in (1, 37, 120):
        sim = tf.Simulation(net, model, **kw)
        sim.advance(k)
        path = sim.save_checkpoint(tmp_path / "ck.ckpt")
        back = tf.Simulation(net, model, **kw)
        back.load_checkpoint(path)
        res = back.run()
        assert res.identical(whole), k
        assert res.attrs["n_steps"] == whole.attrs["n_steps"]


def test_ensemble_members_learn_their_own_weights_and_equal_single_runs():
    net, model = _pair(0.0, rate=0.5, tau=3.0)
    amps = [0.2, 0.6, 1.0]
    stims = [tf.Clamp("a", 0, 6, 0.9)] + [tf.Pulse("b", 0, 6, v, member=k)
                                          for k, v in enumerate(amps)]
    rk4 = tf.Solver(method="rk4", dt=0.01)   # fixed steps: a member's steps are its own
    ens = tf.simulate(net, model, stimuli=stims, t_end=6.0, members=3, solver=rk4)
    assert ens.weight.dims == ("member", "time", "edge")
    for k, v in enumerate(amps):
        one = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 6, 0.9), tf.Pulse("b", 0, 6, v)],
                          t_end=6.0, solver=rk4)
        assert np.array_equal(ens.weight.isel(member=k).values, one.weight.values)
    final = ens.weight.isel(time=-1).sel(edge="a->b").values
    assert final[0] < final[1] < final[2]


def test_euler_maruyama_learns_with_noise_and_is_reproducible():
    net, _ = _pair(0.0)
    model = tf.Model(sigma=0.05, plasticity=tf.Plasticity(rate=0.5, tau=5.0))
    kw = dict(stimuli=[tf.Pulse("a", 0, 5, 2.0)], t_end=5.0,
              solver=tf.Solver(method="euler_maruyama", dt=0.01), seed=3)
    one, two = tf.simulate(net, model, **kw), tf.simulate(net, model, **kw)
    assert np.array_equal(one.weight.values, two.weight.values)
    assert one.weight.sel(edge="a->b").values[-1] > 0.05


def test_between_creates_plastic_edges_that_learn_a_new_association():
    net = tf.ConceptNetwork()
    for c in ("bell", "food", "light"):
        net.add_concept(c)
    model = tf.Model(gain=4.0, threshold=1.5,   # at rest a concept is nearly silent
                     plasticity=tf.Plasticity(between=["bell", "food", "light"], rate=0.2,
                                              tau=5.0))
    ds = tf.simulate(net, model, stimuli=[tf.Pulse("bell", 0, 5, 3.0), tf.Pulse("food", 0, 5, 3.0)],
                     t_end=5.0)
    assert ds.sizes["edge"] == 6
    w = ds.weight.isel(time=-1)
    assert w.sel(edge="bell->food") > 3 * w.sel(edge="bell->light")
    assert set(ds.edge_relation.values) == {"association"}


@pytest.mark.parametrize("carry,expected", [(["weights"], [1.0, 2.0, 3.0]),
                                            ([], [1.0, 1.0, 1.0])])
def test_trials_carry_the_weights_when_asked(carry, expected):
    net, model = _pair(0.0, rate=0.5, tau=np.inf)
    proto = tf.Protocol(conditions=[tf.Condition("pair", stimuli=[tf.Clamp("a", 0, 2, 1.0),
                                                                 tf.Clamp("b", 0, 2, 1.0)])],
                        trials=["pair"] * 3, duration=2.0, carry=carry, record=True)
    model = tf.Model(transfer="linear", plasticity=model.plasticity,
                     pools=[tf.Pool("p", concepts=["a", "b"])],
                     choices=[tf.Choice("p", threshold=5.0)])
    ds = tf.run_protocol(net, model, proto)
    assert ds.weight.dims == ("trial", "time", "edge")
    final = ds.weight.sel(edge="a->b").isel(time=-1).values
    assert np.allclose(final, expected, rtol=0, atol=1e-9)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kw,match", [
    (dict(relations=["friend"]), r"plasticity.relations\[0\]: unknown relation type 'friend'"),
    (dict(relations=["causes"]), "nothing can learn"),
    (dict(gate="nobody"), "plasticity.gate"),
    (dict(between=["a", "zz"]), r"plasticity.between\[1\]"),
    (dict(w_max=0.05), "outside \\[w_min, w_max\\]"),
])
def test_bad_plasticity_is_refused_naming_the_key(kw, match):
    net, model = _pair(0.1, **kw)
    with pytest.raises(ConfigError, match=match):
        tf.simulate(net, model, t_end=1.0)


@pytest.mark.parametrize("kw,match", [
    (dict(w_min=1.0, w_max=0.0), "w_max: must be >= w_min"),
    (dict(start=3.0, stop=1.0), "stop: must be after start"),
    (dict(rule="stdp"), "rule"),
    (dict(rates={"is_a": 0.1}), "rates.is_a"),
])
def test_inconsistent_plasticity_is_refused_when_made(kw, match):
    with pytest.raises(ConfigError, match=match):
        tf.Plasticity(**kw)


def test_the_analysis_refuses_plastic_relations():
    net, model = _pair(0.1)
    with pytest.raises(ConfigError, match="model.plasticity: the analysis .* does not include"):
        tf.analysis.attractors(net, model)


# ------------------------------------------------------------------ the learned network
def test_learned_network_holds_the_final_weights_as_relation_weights():
    net = tf.ConceptNetwork()
    for c in ("a", "b", "c"):
        net.add_concept(c)
    net.add_relation("a", "b", "association", 0.2)
    net.add_relation("b", "c", "contradicts", 0.5)          # sign -1: W holds -0.5
    model = tf.Model(transfer="linear", plasticity=tf.Plasticity(
        relations=["association", "contradicts"], between=["a", "c"], rate=0.5, tau=4.0))
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 5, 1.0), tf.Clamp("b", 0, 5, 0.6),
                                          tf.Clamp("c", 0, 5, 0.3)], t_end=5.0)
    learned = tf.learned_network(net, ds)
    rel = {(s, t, ty): w for s, t, ty, w in learned.relations()}
    end = ds.weight.isel(time=-1)
    assert rel[("a", "b", "association")] == float(end.sel(edge="a->b"))
    # the effective weight of a contradicts relation is -w: the relation keeps +w
    assert rel[("b", "c", "contradicts")] == -float(end.sel(edge="b->c"))
    # a `between` pair without a relation becomes one of the first plastic type
    assert rel[("a", "c", "association")] == float(end.sel(edge="a->c"))
    assert len(rel) == 3
    # what was learned acts in the next run exactly as the plastic weights did at the end
    W = learned.weight_matrix().toarray()
    i = {c: k for k, c in enumerate(learned.concepts)}
    assert W[i["b"], i["a"]] == float(end.sel(edge="a->b"))
    assert W[i["c"], i["b"]] == float(end.sel(edge="b->c"))


def test_learned_network_refuses_a_symmetric_relation_that_learned_two_weights():
    net, model = _pair(0.3, rule="oja", rate=1.0)
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 3, 1.0), tf.Clamp("b", 0, 3, 0.2)],
                     t_end=3.0)
    assert ds.weight.sel(edge="a->b")[-1] != ds.weight.sel(edge="b->a")[-1]
    with pytest.raises(ConfigError, match="learned different weights"):
        tf.learned_network(net, ds)


# ------------------------------------------------------------------ configs
_CONFIG = """
[network]
relations = [["bell", "food", "association", 0.0]]
[network.concepts]
image = ["bell", "food"]
[model]
transfer = "linear"
[plasticity]
rate = 0.5
tau = 4.0
[run]
t_end = 4.0
[[stimuli]]
concept = "bell"
kind = "clamp"
value = 1.0
start = 0.0
stop = 4.0
"""


def test_a_config_section_runs_the_same_as_the_python_description():
    ds = tf.run_config(tf.load_config(_CONFIG))
    assert ds.attrs["model"].count('"plasticity"') == 1
    assert float(ds.weight.sel(edge="bell->food")[-1]) == 0.0     # food silent: nothing learned
    with_food = tf.run_config(tf.load_config(_CONFIG + """
[[stimuli]]
concept = "food"
kind = "clamp"
value = 0.5
start = 0.0
stop = 4.0
"""))
    w = with_food.weight.sel(edge="bell->food").values
    t = with_food.time.values
    assert np.abs(w - 0.5 * 4.0 * 0.5 * (1 - np.exp(-t / 4.0))).max() < 1e-6


@pytest.mark.parametrize("extra,match", [
    ("[plasticity]\nrule = 'stdp'", r":\d+: plasticity.rule"),
    ("[plasticity]\nrat = 0.5", r":\d+: plasticity.rat: unknown key 'rat'.*rate"),
    ("[plasticity]\nw_min = 2.0\nw_max = 1.0", "plasticity.w_max: must be >= w_min"),
])
def test_bad_config_sections_name_the_key(extra, match):
    text = _CONFIG.replace("[plasticity]\nrate = 0.5\ntau = 4.0\n", extra + "\n")
    with pytest.raises(ConfigError, match=match):
        tf.load_config(text)


@pytest.mark.parametrize("solver", ["async", "spreadr"])
def test_discrete_updates_refuse_plastic_relations(solver):
    net, model = _pair(0.1)
    with pytest.raises(ConfigError, match="model.plasticity"):
        tf.simulate(net, model, t_end=4.0, solver=solver)


def test_the_weights_plot_draws_matrices_lines_and_activations():
    import matplotlib
    matplotlib.use("Agg")
    from thoughtfield.plots import plot_kinds
    net, model = _pair(0.1, rate=0.5, tau=4.0, stop=3.0)
    ds = tf.simulate(net, model, stimuli=[tf.Clamp("a", 0, 6, 1.0), tf.Clamp("b", 0, 6, 0.5)],
                     t_end=6.0)
    ax = plot_kinds()["weights"].func(ds)
    fig = ax.figure
    assert len(fig.axes) == 4 + 1 + 2                 # four matrices, the colour bar, two panels
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["b <-> a", "learning on"]       # one line for the symmetric pair
    with pytest.raises(ConfigError, match="plot 'weights': the result has no 'weight'"):
        plot_kinds()["weights"].func(tf.simulate(net, tf.Model(), t_end=1.0))


def test_save_network_writes_the_learned_weights_and_names_its_flag_when_the_file_exists(
        tmp_path, capsys):
    from thoughtfield.cli import main
    cfg = tmp_path / "bell.toml"
    cfg.write_text(_CONFIG)
    out, net = tmp_path / "r.nc", tmp_path / "learned.json"
    net.write_text("{}")
    assert main(["run", str(cfg), "--out", str(out), "--save-network", str(net)]) == 2
    assert "learned.json: exists; pass --force to overwrite it, or --save-network to write " \
           "elsewhere" in capsys.readouterr().err
    net.unlink()
    assert main(["run", str(cfg), "--out", str(out), "--save-network", str(net)]) == 0
    import json
    learned = tf.ConceptNetwork.from_dict(json.loads(net.read_text()))
    assert learned.relations() == [("bell", "food", "association", 0.0)]  # food never active
