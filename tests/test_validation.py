"""Every validation error of the model, stimuli, solver and simulate() arguments."""

import math

import numpy as np
import pytest

import thoughtfield as tf


@pytest.fixture
def net():   # in layers, so that per-layer keys ("@image") mean something
    return tf.ConceptNetwork([("sun", "image"), ("sea", "idea")], [("sun", "sea")])


@pytest.mark.parametrize("kwargs,match", [
    ({"tau": -1}, r"tau: must be > 0 \(got -1\)"),
    ({"tau": 0}, r"tau: must be > 0 \(got 0\)"),
    ({"tau": "slow"}, r"tau: must be a number \(got 'slow'"),
    ({"tau": [1.0, -2.0]}, r"tau\[1\]: must be > 0 \(got -2\)"),
    ({"tau": {"sun": -3}}, r"tau.sun: must be > 0 \(got -3\)"),
    ({"transfer": "sigmoidd"}, r"transfer: must be one of .*\(got 'sigmoidd'\) \(did you mean 'sigmoid'\?\)"),
    ({"gain": float("nan")}, r"gain: must be finite"),
    ({"bias": [0.0, float("inf")]}, r"bias\[1\]: must be finite"),
    ({"sigma": -0.1}, r"sigma: must be >= 0 \(got -0.1\)"),
    ({"initial": True}, r"initial: must be a number"),
    ({"form": "potentiall"}, r"form: must be one of"),
])
def test_model_errors(kwargs, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.Model(**kwargs)


def test_model_per_concept_names_checked_at_build(net):
    with pytest.raises(tf.ConfigError, match=r"tau.sunn: unknown concept 'sunn' \(did you mean 'sun'\?\)"):
        tf.simulate(net, tf.Model(tau={"sunn": 2.0}), t_end=1)
    with pytest.raises(tf.ConfigError, match=r"bias.@goals: unknown layer 'goals'.*did you mean 'goal'"):
        tf.simulate(net, tf.Model(bias={"@goals": 1.0}), t_end=1)
    with pytest.raises(tf.ConfigError, match="tau: has 3 values but the network has 2 concepts"):
        tf.simulate(net, tf.Model(tau=[1.0, 1.0, 1.0]), t_end=1)


def test_per_concept_precedence(net):
    m = tf.Model(tau={"*": 2.0, "@image": 3.0, "sea": 5.0})
    np.testing.assert_array_equal(m.resolve("tau", net), [3.0, 5.0])


@pytest.mark.parametrize("make,match", [
    (lambda: tf.Pulse("sun", start=2, stop=1), r"pulse.stop: must be > start \(2\) \(got 1\)"),
    (lambda: tf.Pulse("sun", start=-1), r"pulse.start: must be >= 0 \(got -1\)"),
    (lambda: tf.Pulse("sun", amplitude=math.nan), "pulse.amplitude: must be finite"),
    (lambda: tf.Clamp("sun", value="high"), r"clamp.value: must be a number"),
    (lambda: tf.Pulse("", 0, 1), "pulse.concept: must be a non-empty name"),
    (lambda: tf.Pulse("sun", member=-1), r"pulse.member: must be >= 0"),
    (lambda: tf.stimuli.stimulus_from_dict({"kind": "flash", "concept": "sun"}, "stimuli[2]"), r"stimuli\[2\].kind: must be one of"),
    (lambda: tf.stimuli.stimulus_from_dict({"concept": "sun", "amp": 1}, "stimuli[0]"), r"stimuli\[0\]: unknown key 'amp' for a pulse \(did you mean 'amplitude'\?\)"),
    (lambda: tf.stimuli.stimulus_from_dict({"start": 1}, "stimuli[1]"), r"stimuli\[1\].concept: missing"),
])
def test_stimulus_errors(make, match):
    with pytest.raises(tf.ConfigError, match=match):
        make()


@pytest.mark.parametrize("stim,match", [
    (tf.Pulse("sunn", 0, 1), r"stimuli\[0\].concept: unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    (tf.Pulse("sun", 0, 1, member=3), r"stimuli\[0\].member: 3 but the run has 1 member"),
])
def test_stimulus_errors_at_build(net, stim, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.simulate(net, stimuli=[stim], t_end=10)


def test_a_stimulus_after_the_end_is_ignored_with_a_warning(net):
    """A shortened run (``--set run.t_end=5``) ends before a late stimulus: a warning names
    it, and the run is the run without it (bit for bit)."""
    early = tf.Pulse("sun", 0, 2, 1.0)
    with pytest.warns(tf.ThoughtfieldWarning,
                      match=r"stimuli\[1\].start: the pulse on 'sea' starts at t = 12, at or "
                            r"after the end of the run \(t_end = 10\); it has no effect"):
        with_late = tf.simulate(net, stimuli=[early, tf.Pulse("sea", 12, 13)], t_end=10)
    without = tf.simulate(net, stimuli=[early], t_end=10)
    assert (with_late.activation.values == without.activation.values).all()


def test_overlapping_clamps_rejected(net):
    with pytest.raises(tf.ConfigError, match=r"stimuli\[1\]: clamp on 'sun' overlaps stimuli\[0\]"):
        tf.simulate(net, stimuli=[tf.Clamp("sun", 0, 2, 1.0), tf.Clamp("sun", 1, 3, 0.0)], t_end=5)


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "rk54"}, r"solver.method: must be one of .*\(got 'rk54'\)"),
    ({"rtol": -1e-3}, r"solver.rtol: must be > 0 \(got -0.001\)"),
    ({"atol": 0}, r"solver.atol: must be > 0"),
    ({"rtol": 1e-20}, r"solver.rtol: must be >= 1e-13"),
    ({"dt": 0}, r"solver.dt: must be > 0 \(got 0\)"),
    ({"max_steps": 0}, r"solver.max_steps: must be >= 1"),
    ({"max_steps": 2**70}, r"solver.max_steps: must be <= 4611686018427387904"),
    ({"steady_tol": -1}, r"solver.steady_tol: must be > 0"),
    ({"first_step": "x"}, r"solver.first_step: must be a number"),
])
def test_solver_errors(kwargs, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.Solver(**kwargs)


def test_solver_from_dict_rejects_unknown_key():
    with pytest.raises(tf.ConfigError, match=r"solver: unknown key 'rtoll' \(did you mean 'rtol'\?\)"):
        tf.Solver.from_dict({"rtoll": 1e-3})


@pytest.mark.parametrize("kwargs,match", [
    ({"t_end": 0}, r"t_end: must be > t0 \(0\) \(got 0\)"),
    ({"t_end": "long"}, r"t_end: must be a number"),
    ({"members": 0}, r"members: must be >= 1 \(got 0\)"),
    ({"seed": -5}, r"seed: must be >= 0"),
    ({"saveat": tf.SaveAt(times=[20])}, r"SaveAt\(times=\.\.\.\): time 20 is outside the run \[0, 10\]"),
    ({"saveat": tf.SaveAt(every=2)}, r"SaveAt\(every=\.\.\.\): needs a fixed-step solver"),
    ({"initial": [1, 2, 3]}, r"initial: expected shape \(2,\)"),
    ({"solver": "euler_maruyama", "model": tf.Model(), "seed": 1, "threads": 0}, r"threads: must be >= 1"),
    ({"model": tf.Model(sigma=0.1)}, r"solver.method: 'dopri5' is deterministic but the model has noise"),
    ({"solver": tf.Solver("euler_maruyama", steady_tol=1e-3)}, r"steady_tol: an early stop at steady state is not defined"),
    ({"model": "fast"}, r"model: expected a Model"),
    ({"solver": 5}, r"solver: expected a method name"),
])
def test_simulate_argument_errors(net, kwargs, match):
    kw = {"t_end": 10.0, **kwargs}
    with pytest.raises(tf.ConfigError, match=match):
        tf.simulate(net, **kw)


def test_empty_network_rejected():
    with pytest.raises(tf.ConfigError, match="network: has no concepts"):
        tf.simulate(tf.ConceptNetwork(), t_end=1)
    with pytest.raises(tf.ConfigError, match="network: expected a ConceptNetwork"):
        tf.simulate({"a": 1}, t_end=1)


def test_divergence_names_time_and_concept_and_keeps_partial_result():
    net = tf.ConceptNetwork(["runaway", "calm"], [("runaway", "runaway", "link", 3.0)])
    with pytest.raises(tf.DivergenceError, match=r"activation of concept 'runaway' became non-finite at t = .*the dynamics diverge") as e:
        tf.simulate(net, tf.Model(transfer="linear", initial=1.0), t_end=2000.0,
                    solver=tf.Solver("euler", dt=0.5), saveat=tf.SaveAt(dt=100))
    assert e.value.concept == "runaway" and e.value.time > 0
    assert e.value.partial is not None and e.value.partial.time.size >= 1
    assert np.isfinite(e.value.partial.activation.values).all()
    with pytest.raises(tf.DivergenceError, match=r"'runaway' became non-finite.*the dynamics diverge"):
        tf.simulate(net, tf.Model(transfer="linear", initial=1.0), t_end=2000.0)


def test_step_size_collapse_and_max_steps_are_reported():
    net = tf.ConceptNetwork(["x"])
    # the step count is known before the run: refused up front
    with pytest.raises(tf.ConfigError, match=r"solver.max_steps: this run needs 1e\+03 steps"):
        tf.simulate(net, t_end=10, solver=tf.Solver("rk4", dt=0.01, max_steps=5))
    # unless the run may stop earlier: then it stops at max_steps
    with pytest.warns(tf.ThoughtfieldWarning, match="it may stop earlier: steady_tol"), \
            pytest.raises(tf.SolverError, match=r"stopped at t = .* after max_steps = 5 steps"):
        tf.simulate(net, t_end=10, solver=tf.Solver("rk4", dt=0.01, max_steps=5,
                                                    steady_tol=1e-30))
    # a very stiff unit with a tiny min_step: the adaptive step cannot shrink enough
    with pytest.raises(tf.SolverError, match="step size fell below min_step"):
        tf.simulate(net, tf.Model(tau=1e-9, transfer="tanh", gain=1e9), [tf.Pulse("x", 0, 1, 1)],
                    t_end=1.0, solver=tf.Solver("dopri5", rtol=1e-13, atol=1e-300, min_step=1e-3))


def test_resource_guard_refuses_oversized_runs(net, monkeypatch):
    with pytest.raises(tf.ResourceError, match=r"needs about .* \(saved output .* = 201 save times x 2 concepts x 1000000000 members x 8 bytes.*use fewer members"):
        tf.simulate(net, t_end=1.0, members=10**9)
    with pytest.raises(tf.ResourceError, match=r"limit is 1 MiB \(max_memory\)"):
        tf.Simulation(net, t_end=1.0, saveat=tf.SaveAt(dt=1e-5), max_memory=2**20)
    monkeypatch.setenv("THOUGHTFIELD_MAX_MEMORY", "1K")
    with pytest.raises(tf.ResourceError, match=r"\(THOUGHTFIELD_MAX_MEMORY\)"):
        tf.Simulation(net, t_end=1.0)
    monkeypatch.setenv("THOUGHTFIELD_MAX_MEMORY", "lots")
    with pytest.raises(tf.ConfigError, match="THOUGHTFIELD_MAX_MEMORY: must be a number"):
        tf.Simulation(net, t_end=1.0)
    with pytest.raises(tf.ConfigError, match=r"SaveAt\(dt=\.\.\.\): 1e-30 gives .* save times"):
        tf.Simulation(net, t_end=1.0, saveat=tf.SaveAt(dt=1e-30), max_memory=2**40)
