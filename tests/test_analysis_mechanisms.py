"""The analysis with the cognitive mechanisms (pools, goal bias, control, adaptation, stored
ideas) against independent references: the compiled kernel's right-hand side, finite
differences of it, long runs of the solver and hand-computed eigenvalues."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import thoughtfield as tf
from thoughtfield.analysis import Dynamics, fixed_point, fixed_points

from mech_models import kernel_rhs


# --------------------------------------------------------------------------- a model with all
def _network():
    names = ["g", "a1", "a2", "b1", "b2", "c", "d", "e", "f", "h"]
    rel = [("g", "a1", "favours", 1.2), ("g", "b2", "favours", 0.7),
           ("a1", "c", "association", 0.8), ("a2", "d", "association", 0.6),
           ("c", "e", "link", 0.9), ("d", "f", "link", -0.5), ("e", "h", "association", 0.4),
           ("b1", "b2", "contradicts", 0.6), ("f", "g", "link", 0.5)]
    return tf.ConceptNetwork(names, rel)


def _model(form="activation", transfer="sigmoid", control_goals=True, adaptation=True):
    ideas = tf.Ideas([tf.Idea("one", ["a1", "c", "e"]), tf.Idea("two", ["a2", "d", "f", "h"])],
                     strength=0.8, representation="low_rank")
    controls = [tf.Control(name="ctl_concepts", monitor=["pa"], target={"c": 0.7, "h": -0.4},
                           tau=3.0, sensitivity=1.5, baseline=0.2)]
    if control_goals:
        controls.append(tf.Control(name="ctl_goals", monitor=["pa", "pb"], target="goals", tau=2.0,
                                   sensitivity=0.9, baseline=1.1))
    rng = np.random.default_rng(0)
    return tf.Model(transfer=transfer, form=form, gain=rng.uniform(1.0, 3.0, 10),
                    tau=rng.uniform(0.5, 2.0, 10), threshold=rng.normal(0, 0.3, 10),
                    bias=rng.normal(0, 0.3, 10),
                    pools=[tf.Pool("pa", ["a1", "a2", "c"], inhibition=0.9),
                           tf.Pool("pb", ["b1", "b2"], inhibition=0.4)],
                    goals=tf.Goals(gain=1.3),
                    controls=controls, ideas=ideas,
                    adaptation=tf.Adaptation(tau=rng.uniform(5, 15, 10),
                                             strength=rng.uniform(0.2, 1.5, 10), record=True)
                    if adaptation else None)


STIM = [tf.Pulse("b1", 0, math.inf, 0.5), tf.Clamp("d", 0, math.inf, 0.3)]



def _random_state(dyn, rng):
    y = dyn.state_with_activation(rng.uniform(0.1, 0.9, dyn.n))
    y[dyn.n:] += rng.normal(0.0, 0.3, dyn.nstate - dyn.n)
    if dyn.form == "activation":
        y[:dyn.n] = dyn._with_clamps(y[:dyn.n])
    return y


@pytest.mark.parametrize("form", ["activation", "potential"])
@pytest.mark.parametrize("transfer", ["sigmoid", "tanh"])
def test_rhs_equals_the_compiled_kernel_with_every_mechanism(form, transfer):
    net = _network()
    model = _model(form, transfer)
    dyn = Dynamics(net, model, STIM)
    kern, P = kernel_rhs(net, model, STIM)
    assert dyn.nstate == P.nstate == 10 + 10 + 2
    rng = np.random.default_rng(1)
    for _ in range(5):
        y = _random_state(dyn, rng)
        ref = kern(y)
        got = dyn.rhs(y)
        assert np.max(np.abs(got - ref)) < 1e-12 * max(1.0, np.max(np.abs(ref)))


@pytest.mark.parametrize("control_goals", [True, False])
@pytest.mark.parametrize("form", ["activation", "potential"])
def test_augmented_jacobian_matches_finite_differences_of_the_kernel(form, control_goals):
    net = _network()
    model = _model(form, "sigmoid", control_goals=control_goals)
    dyn = Dynamics(net, model, STIM)
    kern, _ = kernel_rhs(net, model, STIM)
    rng = np.random.default_rng(2)
    y = _random_state(dyn, rng)
    J = dyn.jacobian(y).toarray()
    free = dyn.free
    assert J.shape == (free.size, free.size) and free.size == dyn.nstate - 1  # 'd' clamped
    h = 1e-6
    Jfd = np.empty_like(J)
    for c, j in enumerate(free):
        e = np.zeros(dyn.nstate)
        e[j] = h
        Jfd[:, c] = (kern(y + e) - kern(y - e))[free] / (2 * h)
    assert np.max(np.abs(J - Jfd)) < 1e-7 * max(1.0, np.max(np.abs(J)))
    # every mechanism shows up: adaptation and control columns/rows are not empty
    n = dyn.n
    hcols = [k for k, j in enumerate(free) if dyn.h_off <= j < dyn.h_off + n]
    ccols = [k for k, j in enumerate(free) if j >= dyn.c_off]
    assert np.count_nonzero(J[:, hcols]) >= 2 * (n - 1)
    assert all(np.count_nonzero(J[:, k]) > 1 for k in ccols)


def test_newton_fixed_points_are_kernel_zeros_and_the_limit_of_a_run():
    net = _network()
    model = _model("activation", "sigmoid")
    kern, _ = kernel_rhs(net, model, STIM)
    res = tf.simulate(net, model, STIM, t_end=400.0, saveat=tf.SaveAt(times=[0.0, 400.0]),
                      solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    fp = fixed_point(net, model, res, tol=1e-12)
    assert fp.state.shape == (22,)
    free = Dynamics(net, model, STIM).free
    assert np.max(np.abs(kern(fp.state)[free])) < 1e-10
    assert fp.kind == "stable"
    end = res.isel(time=-1)
    assert np.max(np.abs(fp.activation - end.activation.values)) < 1e-7
    assert np.max(np.abs(fp.state[10:20] - end.adaptation.values)) < 1e-7
    assert np.max(np.abs(fp.state[20:] - end.control.values)) < 1e-7
    # the adaptation sits at kappa a*, the control at c0 + lambda E(a*) (exact at the point)
    dyn = Dynamics(net, model, STIM)
    assert np.allclose(fp.state[10:20], dyn.h_kappa * fp.activation, atol=1e-12)


def test_potential_form_fixed_point_is_a_kernel_zero():
    net = _network()
    model = _model("potential", "tanh")
    kern, _ = kernel_rhs(net, model, STIM)
    res = tf.simulate(net, model, STIM, t_end=400.0, saveat=tf.SaveAt(times=[0.0, 400.0]),
                      solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    fp = fixed_point(net, model, res, tol=1e-12)
    dyn = Dynamics(net, model, STIM)
    assert np.max(np.abs(kern(fp.state)[dyn.free])) < 1e-10
    if fp.kind == "stable":
        assert np.max(np.abs(fp.activation - res.activation.values[-1])) < 1e-7


# --------------------------------------------------------------------------- pools
def _switch(inhibition=3.0):
    net = tf.ConceptNetwork(["left", "right"])
    model = tf.Model(transfer="sigmoid", gain=6.0, bias=0.5, tau=1.0,
                     pools=[tf.Pool("options", ["left", "right"], inhibition=inhibition)])
    return net, model


def test_a_two_option_pool_has_two_stable_attractors_and_a_saddle():
    net, model = _switch()
    cat = tf.attractors(net, model, samples=40, seed=3, saddles=True)
    kinds = list(cat.stability.values)
    assert kinds.count("stable") == 2 and kinds.count("saddle") == 1
    A = cat.activation.values
    st = [k for k in range(len(kinds)) if kinds[k] == "stable"]
    winners = sorted(str(cat.label.values[k]) for k in st)
    assert winners == ["{left}", "{right}"]
    for k in st:
        assert max(A[k]) > 0.9 and min(A[k]) < 0.1
    sad = A[kinds.index("saddle")]
    assert abs(sad[0] - sad[1]) < 1e-8
    # the symmetric saddle by hand: a = f(6 (0.5 - 3 a)) and the antisymmetric growth rate
    a = brentq(lambda v: v - 1 / (1 + math.exp(-6 * (0.5 - 3 * v))), 0.0, 1.0)
    assert abs(sad[0] - a) < 1e-9
    D = 6 * a * (1 - a)
    k = kinds.index("saddle")
    assert abs(float(cat.max_real_eig.values[k]) - (-1 + 3 * D)) < 1e-8
    # symmetric weights: the energy is defined and the saddle lies above both attractors
    E = cat.energy.values
    assert np.all(np.isfinite(E)) and E[k] > max(E[st])


def test_weak_inhibition_leaves_one_shared_attractor():
    net, model = _switch(inhibition=0.2)
    fps = fixed_points(net, model, samples=10, seed=0)
    assert [f.kind for f in fps] == ["stable"]


# --------------------------------------------------------------------------- adaptation
def _alternation(kappa, b):
    net = tf.ConceptNetwork(["A", "B"])
    model = tf.Model(transfer="sigmoid", gain=4.0, bias=b, tau=1.0,
                     pools=[tf.Pool("pool", ["A", "B"], inhibition=2.0)],
                     adaptation=tf.Adaptation(tau=10.0, strength=kappa) if kappa else None)
    return net, model


def _two_by_two(D, beta, kappa, sign):
    """Eigenvalues of the (anti)symmetric mode: v = da1 = sign * da2, z = dh1 = sign * dh2."""
    M = np.array([[-1.0 - sign * D * beta, -D], [kappa / 10.0, -0.1]])
    return np.linalg.eigvals(M)


def test_adaptation_destabilises_the_ideas_and_the_state_moves_on():
    # Without adaptation (bias 1): two stable winners ("ideas") and a symmetric saddle.
    net, m0 = _alternation(0.0, 1.0)
    fps0 = fixed_points(net, m0, initial_states=[[0.95, 0.05], [0.05, 0.95], [0.5, 0.5]])
    assert sorted(f.kind for f in fps0) == ["saddle", "stable", "stable"]
    # With strong adaptation (kappa = 4, bias 3 puts the symmetric point at a = 1/2):
    # the winners are gone and the only fixed point is the symmetric one, now a repeller
    # whose unstable antisymmetric mode is oscillatory -- the state alternates A, B, A, ...
    net, m3 = _alternation(4.0, 3.0)
    fps = fixed_points(net, m3, initial_states=[[0.95, 0.05], [0.05, 0.95], [0.5, 0.5],
                                                [0.8, 0.3]])
    assert len(fps) == 1
    fp = fps[0]
    assert np.allclose(fp.activation, [0.5, 0.5], atol=1e-10)
    assert np.allclose(fp.state[2:], [2.0, 2.0], atol=1e-10)     # h* = kappa a*
    D = 4 * 0.25
    ref = np.concatenate([_two_by_two(D, 2.0, 4.0, -1), _two_by_two(D, 2.0, 4.0, +1)])
    ev = fp.stability.eigenvalues
    assert ev.size == 4
    for lam in ref:
        assert np.min(np.abs(ev - lam)) < 1e-10
    assert fp.kind == "saddle" and fp.stability.n_unstable == 2
    assert np.all(np.abs(ev[:2].imag) > 0)            # an unstable spiral: alternation
    # the run alternates between the ideas instead of settling
    res = tf.simulate(net, m3, [tf.Pulse("A", 0, 1, 0.5)], t_end=200.0, saveat=tf.SaveAt(dt=0.5))
    lead = np.argmax(res.activation.values, axis=1)
    assert np.count_nonzero(np.diff(lead[40:])) >= 4
    # the energy is not defined with adaptation: it says why
    with pytest.raises(tf.ConfigError, match=r"energy: the model has state variables besides "
                                             r"the concepts: adaptation \(model.adaptation\)"):
        tf.analysis.energy_of(net, m3, [0.5, 0.5])


# --------------------------------------------------------------------------- energy
def test_energy_does_not_increase_with_pools_and_stored_ideas():
    net = tf.ConceptNetwork([f"c{i}" for i in range(12)],
                            [("c0", "c1", "association", 0.5), ("c3", "c7", "contradicts", 0.4)])
    ideas = tf.Ideas([tf.Idea("x", ["c0", "c1", "c2", "c3"]), tf.Idea("y", ["c4", "c5", "c6"]),
                      tf.Idea("z", ["c7", "c8", "c9", "c10"])], strength=1.5,
                     representation="low_rank")
    model = tf.Model(transfer="sigmoid", gain=5.0, threshold=0.4, tau=1.0, ideas=ideas,
                     pools=[tf.Pool("p", ["c0", "c4", "c8"], inhibition=0.8),
                            tf.Pool("q", ["c2", "c11"], inhibition=0.3)],
                     initial=np.random.default_rng(0).uniform(0, 1, 12).tolist())
    dyn = Dynamics(net, model)
    assert dyn.energy_defined() is None
    res = tf.simulate(net, model, t_end=30.0, saveat=tf.SaveAt(dt=0.05),
                      solver=tf.Solver("dopri5", rtol=1e-9, atol=1e-11))
    E = tf.energy(res).values
    assert np.all(np.diff(E) <= 1e-9 * max(1.0, abs(E[0])))
    assert E[0] - E[-1] > 0.1
    # dE/dt <= 0 at random states, and equals the derivative along the flow
    rng = np.random.default_rng(4)
    A = rng.uniform(0.02, 0.98, (50, 12))
    rate = dyn.energy_rate(A)
    assert np.all(rate <= 1e-12)
    h = 1e-6
    for a in A[:5]:
        da = dyn.rhs(a)
        fd = (dyn.energy(a + h * da) - dyn.energy(a - h * da)) / (2 * h)
        assert abs(fd - dyn.energy_rate(a)) < 1e-6 * max(1.0, abs(fd))


def test_goal_bias_breaks_the_symmetry_of_the_energy():
    net = tf.ConceptNetwork(["goal", "x", "y"], [("goal", "x", "favours", 1.0),
                                                 ("x", "y", "association", 0.5)])
    model = tf.Model(transfer="sigmoid", goals=tf.Goals(gain=2.0))
    with pytest.raises(tf.ConfigError, match=r"energy: the effective weights \(relations \+ goal "
                                             r"bias\) are not symmetric"):
        tf.analysis.energy_of(net, model, [0.5, 0.5, 0.5])


# --------------------------------------------------------------------------- stored ideas
def test_hopfield_attractors_are_the_stored_patterns():
    net = tf.ConceptNetwork([f"n{i}" for i in range(60)])
    ideas = tf.Ideas.random(net, 3, seed=1, representation="low_rank")
    model = tf.Model(form="potential", transfer="tanh", gain=4.0, ideas=ideas)
    cat = tf.attractors(net, model, samples=30, seed=2)
    stored = ideas.patterns(net)
    found = set()
    for k in range(cat.sizes["attractor"]):
        if cat.stability.values[k] != "stable":
            continue
        ov = stored @ np.sign(cat.activation.values[k]) / 60
        mu = int(np.argmax(np.abs(ov)))
        if abs(ov[mu]) > 0.9:
            name = ("" if ov[mu] > 0 else "reversed ") + ideas.names[mu]
            assert cat.idea.values[k] == name
            found.add(ideas.names[mu])
    assert found == set(ideas.names)


def test_hopfield_completion_config_attractors_cli(tmp_path, capsys):
    from thoughtfield.cli import main
    out = tmp_path / "hop.nc"
    main(["attractors", "simulations/hopfield_completion.toml", "--samples", "12", "--seed", "1",
          "--out", str(out), "--quiet"])
    import xarray as xr
    cat = xr.open_dataset(out)
    from thoughtfield.config import load_config
    cfg = load_config("simulations/hopfield_completion.toml")
    stored = cfg.model.ideas.patterns(cfg.network)
    names = cfg.model.ideas.names
    for mu, name in enumerate(names):
        hits = [k for k in range(cat.sizes["attractor"])
                if abs(stored[mu] @ np.sign(cat.activation.values[k])) / stored.shape[1] > 0.9]
        assert hits, f"pattern {name} not found"
        for k in hits:
            assert str(cat.stability.values[k]) == "stable"
            assert str(cat.idea.values[k]) in (name, "reversed " + name)


# --------------------------------------------------------------------------- refusals
def test_evidence_accumulators_are_refused():
    net, model = _switch()
    from dataclasses import replace
    m = replace(model, choices=[tf.Choice("options", on="evidence", threshold=1.0)])
    with pytest.raises(tf.ConfigError, match=r"model.choices\[0\].on: evidence accumulators"):
        Dynamics(net, m)
    m2 = replace(model, choices=[tf.Choice("options", threshold=0.8)])
    assert Dynamics(net, m2).nstate == 2            # an activation threshold adds no state


def test_phase_portrait_and_steady_state_refuse_extra_state():
    net, model = _alternation(3.0, 2.5)
    with pytest.raises(tf.ConfigError, match=r"model: the model has state variables besides the "
                                             r"concepts \(adaptation\)"):
        tf.analysis.plot_phase_portrait(net, model, "A", "B")
    netc = _network()
    lin = _model("activation", "linear")
    with pytest.raises(tf.ConfigError, match=r"model.controls: steady_state needs linear"):
        tf.steady_state(netc, lin)


def test_large_stored_ideas_are_refused_with_the_limit(monkeypatch):
    net = tf.ConceptNetwork([f"n{i}" for i in range(30)])
    model = tf.Model(form="potential", transfer="tanh", gain=4.0,
                     ideas=tf.Ideas.random(net, 2, seed=1, representation="low_rank"))
    monkeypatch.setattr(Dynamics, "DENSE_IDEAS_MAX", 100)
    dyn = Dynamics(net, model)
    with pytest.raises(tf.ConfigError, match=r"model.ideas: the analysis makes the stored ideas' "
                                             r"low-rank coupling explicit .*30 x 30"):
        dyn.jacobian(dyn.initial_state)


def test_state_shape_names_the_extra_rows():
    net, model = _alternation(3.0, 2.5)
    with pytest.raises(tf.ConfigError, match=r"initial: expected 2 activations, one per concept, or "
                                             r"a full state of 4 values \(2 concepts, then "
                                             r"2 adaptation\)"):
        fixed_point(net, model, np.array([0.5, 0.5, 0.1]))


# --------------------------------------------------------------------------- the goal sweep
def test_goal_choice_sweep_example_tells_its_story():
    """simulations/goal_choice_sweep.toml: a bigger goal gain -> more choices of the
    favoured option and faster responses; no goal -> chance; noise costs accuracy."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "simulations" / "goal_choice_sweep.toml"
    ds = tf.sweep(path, overrides=["run.members=100"], workers=1)
    p = ds["choice_probability"].sel(option="left").squeeze(drop=True)
    assert p.dims == ("goal_gain", "noise")
    # measured (seed 5, 100 trials per point): noise 0.05: 0.45 0.61 0.86 0.97 1.00
    assert (p.sel(goal_gain=0.2) > p.sel(goal_gain=0.0) + 0.25).all()
    assert (abs(p.sel(goal_gain=0.0) - 0.5) < 0.15).all()          # no goal: chance
    assert (p.sel(noise=0.05).diff("goal_gain") >= 0).all()         # monotone in the gain
    assert (p.sel(noise=0.1).diff("goal_gain") >= 0).all()
    assert (p.sel(goal_gain=0.2).diff("noise") <= 0).all()          # noise costs accuracy
    rt = ds["mean_rt"].squeeze(drop=True)
    assert float(rt.sel(goal_gain=0.2, noise=0.05)) < float(rt.sel(goal_gain=0.0, noise=0.05)) - 1.0
    assert float(ds["undecided_fraction"].max()) < 0.05


def test_large_pools_are_refused_with_the_limit(monkeypatch):
    net = tf.ConceptNetwork([f"n{i}" for i in range(12)])
    model = tf.Model(pools=[tf.Pool("big", [f"n{i}" for i in range(12)], inhibition=0.5)])
    monkeypatch.setattr(Dynamics, "DENSE_IDEAS_MAX", 100)
    dyn = Dynamics(net, model)
    with pytest.raises(tf.ConfigError, match=r"model.pools: the analysis makes the lateral "
                                             r"inhibition explicit .*144 entries, the largest "
                                             r"pool #0 has 12 members"):
        dyn.jacobian(dyn.initial_state)
