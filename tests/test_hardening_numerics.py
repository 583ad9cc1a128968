"""Issue 13, classes 4, 5 and 14: no silently wrong numbers, bounded and interruptible
runs, hints that fit the case.

- class 4: meaningless tolerances, fixed steps beyond the stability limit, states outside
  the range of the transfer function, overflowing weights/taus;
- class 5: the step count is estimated before a run; the kernel returns to Python about
  every second (bitwise the same result); SIGINT/SIGTERM write a checkpoint;
- class 14: every hint of the solver/divergence errors fits its case.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import thoughtfield as tf
from thoughtfield import _numerics as NUM
from thoughtfield import checkpoint as ck
from thoughtfield.simulate import Simulation

from _fuzz import FAST
from conftest import random_network

ROOT = Path(__file__).resolve().parents[1]


def _chain(weight=0.8):
    return tf.ConceptNetwork({"a": "image", "b": "idea", "c": "idea"},
                             [("a", "b", "association", weight), ("b", "c", "association", 1.0)])


def _stim():
    return [tf.Pulse("a", 0.0, 2.0, 1.0)]


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tf.ThoughtfieldWarning)
        return fn(*a, **kw)


# ================================================================== class 4: tolerances
@pytest.mark.parametrize("rtol, atol", [(1.0, 1e-9), (1e300, 1e300), (5.0, 1e-9)])
def test_meaningless_rtol_is_refused(rtol, atol):
    with pytest.raises(tf.ConfigError, match=r"^solver\.rtol: must be < 1 .*got"):
        tf.Solver("dopri5", rtol=rtol, atol=atol)


@given(rtol=st.floats(1.0, 1e308))
@FAST
def test_any_rtol_of_one_or_more_is_refused(rtol):
    with pytest.raises(tf.ConfigError, match=r"solver\.rtol"):
        tf.Solver("dopri5", rtol=rtol)


def test_tolerances_loose_for_the_transfer_range_are_refused():
    """rtol = atol = 1e300 gave activations of 1.46 and -0.41 for a sigmoid model started
    at 0; atol = 0.5 lets the error estimate accept anything inside a range of width 1."""
    for solver in ({"rtol": 0.5, "atol": 1e-9}, {"rtol": 1e-6, "atol": 0.5},
                   {"rtol": 0.09, "atol": 0.02}):
        with pytest.raises(tf.ConfigError, match=r"^solver\.(rtol|atol): .*range .*sigmoid"):
            tf.simulate(_chain(), tf.Model(), _stim(), t_end=10, solver=solver, seed=1)
    # a linear model has no range: only rtol < 1 applies
    tf.simulate(_chain(), tf.Model(transfer="linear"), _stim(), t_end=1,
                solver={"rtol": 0.5, "atol": 0.5}, seed=1)


# ================================================================== class 4: stability
def test_stability_limits_of_the_tableaus():
    lim = {k: NUM.stability_limit(k) for k in ("euler", "heun", "rk4", "dopri5", "dop853",
                                                "euler_maruyama")}
    assert lim["euler"] == pytest.approx(2.0, abs=1e-6)
    assert lim["heun"] == pytest.approx(2.0, abs=1e-6)
    assert lim["rk4"] == pytest.approx(2.785293563, abs=1e-6)
    assert lim["dopri5"] == pytest.approx(3.3066, abs=1e-3)
    assert 5.5 < lim["dop853"] < 6.5
    assert lim["euler_maruyama"] == lim["euler"]


def test_rk4_step_far_beyond_the_stability_limit_is_refused():
    """rk4, dt = 5, tau = 0.01 wrote activations of -1.4e227 for a sigmoid model."""
    with pytest.raises(tf.ConfigError, match=r"^solver\.dt: .*stability limit of rk4.*"
                                             r"tau = 0\.01.*use dt <= 0\.0278"):
        tf.simulate(_chain(), tf.Model(tau=0.01), _stim(), t_end=10,
                    solver={"method": "rk4", "dt": 5.0}, saveat=tf.SaveAt(dt=5.0), seed=1)


@pytest.mark.parametrize("method", ["euler", "heun", "rk4"])
@given(ratio=st.floats(0.05, 8.0), tau=st.floats(1e-3, 10.0))
@FAST
def test_fixed_step_stability_criterion(method, ratio, tau):
    """The effective step h (dt, shortened to hit save times) over the smallest tau:
    beyond the method's stability limit refused; beyond its overshoot limit a warning (and
    a run that overshoots stops as a divergence); below both the run stays in range."""
    lim, mono = NUM.stability_limit(method), NUM.monotonicity_limit(method)
    assume(abs(ratio - lim) > 0.02 and abs(ratio - mono) > 0.02)
    dt = ratio * tau
    kw = dict(t_end=40 * dt, saveat=tf.SaveAt(times=[40 * dt]), seed=1)
    model = tf.Model(tau=tau, transfer="sigmoid", gain=2.0)
    one = tf.ConceptNetwork(["a"])
    stims = [tf.Pulse("a", 0.0, 10 * dt, 1.0)]
    if ratio > lim:
        with pytest.raises(tf.ConfigError, match=r"^solver\.dt: .*stability limit"):
            Simulation(one, model, stims, solver={"method": method, "dt": dt}, **kw)
        return
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sim = Simulation(one, model, stims, solver={"method": method, "dt": dt}, **kw)
    overshoot = [x for x in w if "overshoot" in str(x.message)]
    assert bool(overshoot) == (ratio > mono)
    try:
        a = sim.run().activation.values
    except tf.DivergenceError as e:
        assert ratio > mono and "overshoots the targets" in str(e)
        return
    assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0 if ratio <= mono else True


def test_coupling_beyond_the_stability_limit_warns():
    """The decay alone is stable but gain x row sum / tau puts the Gershgorin bound of the
    Jacobian beyond the limit: a warning with the numbers."""
    net = random_network(30, k=6, seed=1, scale=3.0)
    with pytest.warns(tf.ThoughtfieldWarning, match=r"solver\.dt: .*may be beyond the "
                                                    r"stability limit of euler") as rec:
        Simulation(net, tf.Model(transfer="tanh", gain=4.0), solver={"method": "euler", "dt": 0.5},
                   t_end=10, saveat=tf.SaveAt(dt=1.0), seed=1)
    assert any("use dt <=" in str(w.message) for w in rec)   # and it says how to fix it


# ================================================================== class 4: range
def test_state_outside_the_transfer_range_is_divergence():
    """dop853 over the kinks of satlin at rtol = 1e-3 wrote activations of 1.6 (and -0.6)
    with exit 0: the exact dynamics never leave [0, 1]."""
    net = random_network(40, k=6, seed=1, scale=3.0)
    with pytest.raises(tf.DivergenceError, match=r"left the range \[0, 1\] of the transfer "
                                                 r"'satlin'.*tighten rtol") as e:
        tf.simulate(net, tf.Model(transfer="satlin", gain=30.0),
                    [tf.Pulse("c0", 0, 3, 2.0), tf.Pulse("c5", 5, 7, -2.0)], t_end=20,
                    solver=tf.Solver("dop853", rtol=1e-3, atol=1e-6), seed=1)
    err = e.value
    assert err.status == "out_of_range" and err.concept.startswith("c")
    part = err.partial.activation.values
    assert part.min() >= -0.06 and part.max() <= 1.06, "the partial result stops before"


def test_range_check_allows_initial_states_and_clamps_outside_the_range():
    model = tf.Model(transfer="sigmoid", initial={"a": 3.0, "b": -2.0})
    ds = tf.simulate(_chain(), model, [tf.Clamp("c", 0.0, 1.0, 4.0)], t_end=10, seed=1)
    a = ds.activation.values
    assert a.max() == 4.0 and a.min() < -1.0


def test_noise_widens_the_range_margin():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 0.5)])
    ds = tf.simulate(net, tf.Model(transfer="sigmoid", sigma=0.5, tau=0.5), t_end=50,
                     solver={"method": "euler_maruyama", "dt": 0.01}, members=4, seed=3)
    a = ds.activation.values
    assert a.min() < -0.06 or a.max() > 1.06   # noise legitimately leaves [0, 1]


# ================================================================== class 4: overflow
@pytest.mark.parametrize("tau, solver", [(1e-310, "dopri5"), (1e-300, "dopri5"),
                                         (1e-300, "rk4"), (1e-300, {"method": "rk4", "dt": 0.01})])
def test_overflowing_taus_are_refused_naming_the_key(tau, solver):
    with pytest.raises(tf.ConfigError, match=r"model\.tau.*'a'"):
        tf.simulate(_chain(), tf.Model(tau={"a": tau, "b": 1.0, "c": 1.0}), _stim(),
                    t_end=10, solver=solver, seed=1)


def test_overflowing_weights_are_refused_naming_the_relation():
    net = tf.ConceptNetwork({"a": "image", "b": "idea", "c": "idea"},
                            [("a", "b", "association", 1e308), ("c", "b", "association", 1e308)])
    for transfer in ("tanh", "linear"):
        with pytest.raises(tf.ConfigError, match=r"^network: .*'b'.*1e\+308.*overflow"):
            tf.simulate(net, tf.Model(transfer=transfer, initial=1.0), t_end=10, seed=1)


def test_the_checks_see_a_network_edited_after_a_run():
    """The row sums of |W| and the coupling entries are kept in the network's cache between
    runs; an edit must drop them, so the next run is checked against the edited weights."""
    from thoughtfield.resources import coupling_entries
    net = tf.ConceptNetwork({"a": "image", "b": "idea", "c": "idea"},
                            [("a", "b", "association", 1.0)])
    tf.simulate(net, tf.Model(initial=1.0), t_end=1, seed=1)
    assert coupling_entries(net) == (1, 2)   # a symmetric type acts both ways
    net.add_relation("c", "b", "association", 1e308)
    net.add_relation("a", "c", "association", 1e308)
    assert coupling_entries(net) == (3, 6)
    with pytest.raises(tf.ConfigError, match=r"^network: the weights into concept '[bc]' .*1e\+308"):
        tf.simulate(net, tf.Model(initial=1.0), t_end=1, seed=1)


def test_member_seed_states_are_fresh_arrays_equal_to_a_new_derivation():
    from thoughtfield._seeds import _seed_states, seed_states
    a = seed_states(7, 3, (2,))
    a[:] = 0   # the caller may write into its array (the noise streams advance in place)
    b = seed_states(7, 3, (2,))
    np.testing.assert_array_equal(b, _seed_states(7, 3, (2,)))
    assert b.any() and not np.shares_memory(a, b)
    ss = np.random.SeedSequence([7, 2, 1]).generate_state(4, np.uint64)
    np.testing.assert_array_equal(b[1], ss)


def test_overflowing_gain_bias_and_inputs_are_refused():
    cases = [(tf.Model(gain=1e300, bias=1e10), [], r"model\.gain"),
             (tf.Model(bias=1e308, threshold=-1e308), [], r"model\.(bias|threshold)"),
             (tf.Model(), [tf.Pulse("a", 0, 1, 1e308), tf.Pulse("a", 0.5, 2, 1e308)],
              r"stimuli")]
    for model, stims, key in cases:
        with pytest.raises(tf.ConfigError, match=key + r".*'a'.*overflow"):
            tf.simulate(_chain(), model, stims, t_end=10, seed=1)


@given(tau=st.floats(1e-320, 1e-6), weight=st.floats(-1e308, 1e308),
       method=st.sampled_from(["dopri5", "rk4", "euler"]))
@FAST
def test_extreme_parameters_give_an_error_or_a_finite_in_range_result(tau, weight, method):
    net = _chain(weight)
    model = tf.Model(tau={"a": tau, "b": 1.0, "c": 1.0}, transfer="sigmoid")
    try:
        sim = _quiet(Simulation, net, model, _stim(), t_end=1.0, solver=method, seed=1)
    except tf.ConfigError as e:
        assert "model.tau" in str(e) or "network" in str(e) or "max_steps" in str(e)
        return
    assume(NUM.estimate_steps(sim).steps < 2e5)
    ds = sim.run()
    a = ds.activation.values
    assert np.isfinite(a).all() and a.min() > -0.06 and a.max() < 1.06


# ================================================================== class 5: step count
@pytest.mark.parametrize("solver", ["rk4", "dopri5", "dop853", {"method": "euler", "dt": 0.1}])
def test_astronomical_step_counts_are_refused_before_running(solver):
    t = time.perf_counter()
    with pytest.raises(tf.ConfigError, match=r"solver\.max_steps: this run needs "
                                             r"(at least )?[\d.]+e\+\d+ steps.*more than "
                                             r"max_steps = 50000000.*raise solver\.max_steps"):
        tf.simulate(_chain(), tf.Model(), _stim(), t_end=1e300, solver=solver, seed=1)
    with pytest.raises(tf.ConfigError, match=r"solver\.max_steps: this run needs"):
        tf.simulate(_chain(), tf.Model(tau=1e-7), _stim(), t_end=10, solver="rk4", seed=1)
    assert time.perf_counter() - t < 5


def test_a_tiny_max_step_is_counted():
    with pytest.raises(tf.ConfigError, match=r"solver\.max_steps: this run needs at least "
                                             r"1e\+300 steps .*max_step = 1e-300"):
        tf.simulate(_chain(), tf.Model(), _stim(), t_end=1, seed=1,
                    solver={"method": "dopri5", "max_step": 1e-300})


@pytest.mark.parametrize("method", ["euler", "heun", "rk4", "euler_maruyama"])
@given(dt=st.floats(1e-3, 0.5), t_end=st.floats(0.5, 30.0),
       save=st.sampled_from(["dt", "at", "every"]), data=st.data())
@FAST
def test_fixed_step_count_is_exact(method, dt, t_end, save, data):
    kw = {}
    if save == "dt":
        kw["saveat"] = tf.SaveAt(dt=data.draw(st.floats(t_end / 300, t_end)))
    elif save == "at":
        kw["saveat"] = tf.SaveAt(times=np.unique(data.draw(st.lists(st.floats(0, t_end),
                                                                   min_size=1, max_size=8))))
    else:
        kw["saveat"] = tf.SaveAt(every=data.draw(st.integers(1, 50)))
    stims = [tf.Pulse("a", *sorted(data.draw(st.lists(st.floats(0, t_end), min_size=2,
                                                           max_size=2, unique=True))), 0.5)]
    model = tf.Model(tau=1.0, sigma=0.1 if method == "euler_maruyama" else 0.0)
    sim = _quiet(Simulation, _chain(0.3), model, stims, t_end=t_end,
                 solver={"method": method, "dt": dt}, seed=1, **kw)
    est = NUM.estimate_steps(sim)
    assert est.exact
    ds = sim.run()
    assert ds.attrs["n_steps"] == est.steps


@pytest.mark.parametrize("method", ["dopri5", "dop853"])
def test_adaptive_step_estimate_is_a_lower_bound(method):
    """Fast decays limit explicit methods to about R tau per step (R: the stability
    limit on the negative real axis); the estimate is (t_end - t0) / (R tau_min)."""
    for tau in (1e-3, 1e-2):
        sim = Simulation(_chain(), tf.Model(tau={"a": tau, "b": 1.0, "c": 1.0}), _stim(),
                         t_end=20, solver=method, seed=1)
        est = NUM.estimate_steps(sim)
        assert not est.exact
        n = sim.run().attrs["n_steps"]
        assert est.steps <= n < 2 * est.steps, (tau, est.steps, n)


def test_long_runs_warn_with_the_step_count():
    with pytest.warns(tf.ThoughtfieldWarning, match=r"needs at least [\d.]+e\+07 steps") as rec:
        Simulation(_chain(), tf.Model(tau=1e-7), _stim(), t_end=10, solver="dopri5", seed=1)
    assert any("Ctrl-C stops it" in str(w.message) for w in rec)


def test_early_stop_turns_the_refusal_into_a_warning():
    with pytest.warns(tf.ThoughtfieldWarning, match=r"more than max_steps.*steady_tol") as rec:
        sim = Simulation(_chain(), tf.Model(tau=1e-3), _stim(), t_end=1e6,
                         solver={"method": "dopri5", "steady_tol": 1e-6}, seed=1)
    assert rec and sim.solver.steady_tol == 1e-6   # prepared, not refused


# ================================================================== class 5: step budget
BUDGET_CASES = {
    "rk4-segments": (dict(solver={"method": "rk4", "dt": 0.013}, saveat=tf.SaveAt(dt=0.7)), None),
    "euler_maruyama": (dict(solver={"method": "euler_maruyama", "dt": 0.01}, members=3,
                            saveat=tf.SaveAt(dt=0.5)), dict(sigma=0.3)),
    "dopri5": (dict(solver="dopri5", saveat=tf.SaveAt(dt=0.3)), None),
    "dop853": (dict(solver={"method": "dop853", "rtol": 1e-9, "atol": 1e-12},
                    saveat=tf.SaveAt(dt=0.3)),
               None),
    "dopri5-steady": (dict(solver={"method": "dopri5", "steady_tol": 1e-4},
                           saveat=tf.SaveAt(dt=0.3)), None),
}


def _budget_sim(name):
    kw, extra = BUDGET_CASES[name]
    net = random_network(25, k=4, seed=2, scale=1.0)
    model = tf.Model(transfer="tanh", gain=1.5, **(extra or {}))
    stims = [tf.Pulse("c0", 0.0, 2.0, 1.0), tf.Pulse("c3", 3.0, 3.5, -1.0)]
    return Simulation(net, model, stims, t_end=12.0, seed=7, **kw)


@pytest.mark.parametrize("name", sorted(BUDGET_CASES))
@pytest.mark.parametrize("budget", [1, 3, 17])
def test_a_step_budget_per_call_changes_nothing(name, budget, monkeypatch):
    ref = _budget_sim(name)
    ref_ds = ref.run()
    calls = []
    sim = _budget_sim(name)
    real = Simulation.call_kernel

    def counting(self, i_hi):
        calls.append(i_hi)
        return real(self, i_hi)

    monkeypatch.setattr(Simulation, "call_kernel", counting)
    sim.step_budget = lambda: budget      # steps per kernel call
    ds = sim.run()
    assert ds.identical(ref_ds)
    assert np.array_equal(sim.state.y, ref.state.y)
    for key in ("n_steps", "n_rhs", "n_accepted", "n_rejected", "status"):
        assert ds.attrs[key] == ref_ds.attrs[key]
    assert len(calls) >= ref_ds.attrs["n_steps"] // budget


@pytest.mark.parametrize("name", ["rk4-segments", "euler_maruyama", "dop853"])
def test_checkpoint_between_budgeted_calls_resumes_bitwise(name, tmp_path):
    """A checkpoint written after any budgeted call (inside an interval between save
    times) resumes to the uninterrupted result."""
    ref = _budget_sim(name).run()
    for stop_after in (1, 5, 23):
        sim = _budget_sim(name)
        sim.step_budget = lambda: 7
        for _ in range(stop_after):
            sim.call_kernel(sim.ts.size)
        path = sim.save_checkpoint(tmp_path / f"{name}.ckpt")
        back = _budget_sim(name)
        back.load_checkpoint(path)
        assert back.run().identical(ref), (name, stop_after)


@pytest.mark.parametrize("field, value", [("I_NSUB", 2**62 + 5), ("I_KSUB", -3),
                                          ("F_HSUB", float("nan")), ("F_T0", 1e9)])
def test_a_checkpoint_with_a_bad_cut_interval_is_refused(tmp_path, field, value):
    import thoughtfield._problem as PR
    sim = _budget_sim("rk4-segments")
    sim.step_budget = lambda: 7
    sim.call_kernel(sim.ts.size)
    assert sim.state.ist[PR.I_NSUB] > 0
    arr = sim.state.ist if field.startswith("I_") else sim.state.fst
    arr[getattr(PR, field)] = value
    path = sim.save_checkpoint(tmp_path / "bad.ckpt")
    with pytest.raises(tf.CheckpointError, match=r"interrupted step interval out of range"):
        _budget_sim("rk4-segments").load_checkpoint(path)


def test_the_budget_bounds_the_time_of_one_kernel_call(monkeypatch):
    sim = Simulation(random_network(400, k=8, seed=1), tf.Model(transfer="tanh", tau=0.05), [],
                     t_end=2000.0,
                     saveat=tf.SaveAt(times=[2000.0]), solver={"method": "rk4", "dt": 0.005},
                     seed=1)
    real = Simulation.call_kernel
    times = []

    def timed(self, i_hi):
        t = time.perf_counter()
        real(self, i_hi)
        times.append(time.perf_counter() - t)
        if sum(times) > 3.0:
            raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "call_kernel", timed)
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    assert len(times) >= 4 and max(times[1:]) < 1.0


# ================================================================== class 5: interrupts
def _interrupt_after(monkeypatch, calls):
    real = Simulation.call_kernel
    n = [0]

    def interrupting(self, i_hi):
        real(self, i_hi)
        n[0] += 1
        if n[0] == calls:
            raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "call_kernel", interrupting)


@pytest.mark.parametrize("name", ["rk4-segments", "dop853"])
def test_interrupt_writes_a_checkpoint_that_resumes_bitwise(name, tmp_path, monkeypatch):
    ref = _budget_sim(name).run()
    path = tmp_path / "run.ckpt"
    sim = _budget_sim(name)
    sim.step_budget = lambda: 5
    _interrupt_after(monkeypatch, 9)
    with pytest.raises(KeyboardInterrupt) as e:
        sim.run(checkpoint=path, checkpoint_every=3600)
    assert isinstance(e.value, tf.Interrupted)
    assert e.value.checkpoint == str(path) and path.exists()
    assert "checkpoint written to" in str(e.value)
    assert e.value.partial is not None
    monkeypatch.undo()
    back = _budget_sim(name)
    assert back.run(checkpoint=path, resume=True).identical(ref)
    assert not path.exists()


def test_interrupt_without_checkpointing_keeps_the_partial_result(monkeypatch):
    sim = _budget_sim("dopri5")
    sim.step_budget = lambda: 2
    _interrupt_after(monkeypatch, 4)
    with pytest.raises(tf.Interrupted, match=r"interrupted at t = [\d.]+.*no checkpoint") as e:
        sim.run()
    assert e.value.checkpoint is None and e.value.partial.time.size >= 1


def test_the_partial_result_is_the_state_at_the_interruption_even_after_running_on(monkeypatch):
    """The partial result is assembled lazily (a stopped command line run exits without
    importing xarray); running the same simulation on first freezes it."""
    ref = _budget_sim("dopri5").run()
    sim = _budget_sim("dopri5")
    sim.step_budget = lambda: 2
    _interrupt_after(monkeypatch, 4)
    with pytest.raises(tf.Interrupted) as e:
        sim.run()
    k, t_stop = sim.n_saved, e.value.time
    monkeypatch.undo()
    assert sim.run().time.size == ref.time.size            # it goes on to the end
    part = e.value.partial                                  # read only now
    assert part.time.size == k < ref.time.size and "partial result up to" in part.attrs["message"]
    np.testing.assert_array_equal(part.activation.values, ref.activation.values[:k])
    assert float(part.time[-1]) <= t_stop


def _slow_config(path: Path):
    n = 300
    rels = ", ".join(f'["c{i}", "c{(i * 7 + 3) % n}", "association", 0.3]' for i in range(n))
    names = ", ".join(f'"c{i}"' for i in range(n))
    path.write_text(
        f"seed = 5\n[network]\nconcepts = [{names}]\nrelations = [{rels}]\n"
        '[model]\ntransfer = "tanh"\ngain = 1.5\ntau = 0.05\n'
        '[[stimuli]]\nconcept = "c0"\namplitude = 1.0\nstop = 5.0\n'
        '[solver]\nmethod = "rk4"\ndt = 0.0005\nmax_steps = 100000000\n'
        "[run]\nt_end = 20000.0\nsave_dt = 10000.0\n")
    return path


def _slowdown() -> float:
    """How much slower than its CPU time a CPU-bound piece of work runs now (>= 1; about
    the number of runnable processes per core on a loaded machine)."""
    w, c = time.perf_counter(), time.process_time()
    x = 0
    while time.process_time() - c < 0.2:
        x += 1
    return max(1.0, (time.perf_counter() - w) / max(time.process_time() - c, 1e-3))


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep
                + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_a_long_kernel_within_a_second_and_keeps_a_checkpoint(tmp_path, sig, code):
    """One kernel call used to cover the whole run (two save times): SIGINT acted only
    after it, and wrote no checkpoint; SIGTERM killed the process without one."""
    cfg = _slow_config(tmp_path / "slow.toml")
    out = tmp_path / "slow.nc"
    ckpt = Path(ck.checkpoint_path(out))
    proc = subprocess.Popen([sys.executable, "-m", "thoughtfield", "run", str(cfg), "--out",
                             str(out), "--quiet"], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    started = threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if "steps" in line:
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(60), "".join(lines)
        time.sleep(2.0)        # the kernel is running
        assert proc.poll() is None, "".join(lines)
        t = time.monotonic()
        proc.send_signal(sig)
        proc.wait(20)
        took = time.monotonic() - t
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    err = "".join(lines)
    assert proc.returncode == code, err
    assert took < 3.0 * _slowdown(), took   # about a second on an idle machine
    assert "Traceback" not in err
    word = "interrupted" if sig == signal.SIGINT else "terminated (SIGTERM)"
    assert f"{word} at t = " in err and "--resume" in err and str(ckpt) in err
    # issue 14: the message names the checkpoint file and the exact command to continue
    import shlex
    resume = shlex.join(["thoughtfield", "run", str(cfg), "--out", str(out), "--quiet",
                         "--resume"])
    assert f"checkpoint written to {ckpt}; run the same command with --resume to " \
           f"continue: {resume}" in err, err
    info = ck.read_info(ckpt)
    assert float(info["progress"].split()[2]) > 0
    assert not out.exists()


# ================================================================== class 14: hints
def _poison(sim, concept_row=0):
    """Make the state non-finite before the first step (drives the NaN detection)."""
    sim.state.y[concept_row] = np.nan


def _nonfinite_message(net, model, solver, **kw):
    sim = _quiet(Simulation, net, model, [], t_end=5.0, seed=1, solver=solver, **kw)
    _poison(sim)
    with pytest.raises(tf.DivergenceError) as e:
        sim.run()
    return str(e.value)


SATURATING = "use a saturating transfer"


@pytest.mark.parametrize("transfer", ["sigmoid", "tanh", "satlin"])
@pytest.mark.parametrize("solver", ["dopri5", {"method": "rk4", "dt": 0.01}])
def test_saturating_models_are_never_told_to_use_a_saturating_transfer(transfer, solver):
    msg = _nonfinite_message(_chain(), tf.Model(transfer=transfer), solver)
    assert SATURATING not in msg
    assert f"the transfer {transfer!r} keeps activations within" in msg
    assert "overflow" in msg


def test_unstable_linear_dynamics_get_the_gain_hint():
    net = tf.ConceptNetwork(["runaway", "calm"], [("runaway", "runaway", "link", 3.0)])
    with pytest.raises(tf.DivergenceError) as e:
        tf.simulate(net, tf.Model(transfer="linear", initial=1.0), t_end=2000.0)
    msg = str(e.value)
    assert "the dynamics diverge" in msg and SATURATING in msg
    assert "gain x row sum" in msg and "stability limit" not in msg


def test_stable_linear_dynamics_are_not_told_they_diverge():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 0.5)])
    msg = _nonfinite_message(net, tf.Model(transfer="linear"), "dopri5")
    assert "the dynamics diverge" not in msg and SATURATING not in msg
    assert "overflow" in msg


def test_unstable_linear_dynamics_with_a_small_step_are_not_blamed_on_the_step():
    """A self-link of 3 with a linear transfer grows like e^{2t}: the fixed step (0.5,
    well inside the stability limit of the decay) is not the cause."""
    net = tf.ConceptNetwork(["runaway", "calm"], [("runaway", "runaway", "link", 3.0)])
    with pytest.raises(tf.DivergenceError) as e:
        _quiet(tf.simulate, net, tf.Model(transfer="linear", initial=1.0), t_end=2000.0,
               solver=tf.Solver("euler", dt=0.05), saveat=tf.SaveAt(dt=100))
    msg = str(e.value)
    assert "the dynamics diverge" in msg and "dt = 0.05 is too large" not in msg


def test_coupling_beyond_the_stability_limit_is_blamed_on_the_step():
    """A self-inhibition of 3 makes the decay 4 times faster: stable dynamics, but Euler's
    steps of 0.6 give |1 - 0.6 x 4| > 1."""
    net = tf.ConceptNetwork(["x"], [("x", "x", "link", -3.0)])
    with pytest.raises(tf.DivergenceError) as e:
        _quiet(tf.simulate, net, tf.Model(transfer="linear", initial=1.0),
               solver={"method": "euler", "dt": 0.6}, t_end=3000,
               saveat=tf.SaveAt(dt=100.0), seed=1)
    msg = str(e.value)
    assert "stability limit of euler" in msg and "use dt <= 0.5" in msg
    assert SATURATING not in msg and "the dynamics diverge" not in msg


def test_max_steps_hints():
    net = _chain()
    # fixed step well below the stability limit: a larger dt helps
    with pytest.raises(tf.SolverError) as e:
        run = Simulation(net, tf.Model(), _stim(), t_end=10, seed=1,
                         solver={"method": "rk4", "dt": 0.01, "max_steps": 10**9})
        run.solver = tf.Solver("rk4", dt=0.01, max_steps=5)
        run.method.opt_i[0] = 5
        run.run()
    assert "use a larger dt (up to about 2.7" in str(e.value)
    # fixed step at the stability limit: no "larger dt"
    with pytest.raises(tf.SolverError) as e:
        run = Simulation(net, tf.Model(tau=0.01), _stim(), t_end=10, seed=1,
                         solver={"method": "euler", "dt": 0.0099, "max_steps": 10**9})
        run.solver = tf.Solver("euler", dt=0.0099, max_steps=5)
        run.method.opt_i[0] = 5
        run.run()
    assert "larger dt" not in str(e.value) and "stability limit" in str(e.value)
    # adaptive: no dt to change
    with pytest.raises(tf.SolverError) as e:
        tf.simulate(net, tf.Model(), _stim(), t_end=2, seed=1,
                    solver={"method": "dopri5", "max_steps": 5})
    assert "dt" not in str(e.value).split("after max_steps")[1]


def test_step_size_collapse_hints():
    one = tf.ConceptNetwork(["x"])
    with pytest.raises(tf.SolverError) as e:   # stiff: needs steps far below min_step
        tf.simulate(one, tf.Model(tau=1e-9, transfer="tanh", gain=1e9), [tf.Pulse("x", 0, 1, 1)],
                    t_end=1.0, solver=tf.Solver("dopri5", rtol=1e-13, atol=1e-300, min_step=1e-3))
    msg = str(e.value)
    assert "stability limit" in msg and "min_step" in msg and "loosen the tolerances" not in msg


# ================================================================== class 5: the discrete mode
def _spreadr_sim(**kw):
    net = random_network(30, k=4, seed=3, scale=0.5, signed=False)
    args = dict(stimuli=[tf.Pulse("c0", 0, 3, 1.0), tf.Pulse("c4", 40, 45, 0.5)],
                solver=tf.Spreadr(retention=0.6, decay=0.01), t_end=300,
                saveat=tf.SaveAt(every=7), seed=2)
    args.update(kw)
    return tf.make_simulation(net, **args)


@pytest.mark.parametrize("budget", [1, 5, 64])
def test_spreadr_step_budget_changes_nothing(budget):
    ref = _spreadr_sim().run()
    sim = _spreadr_sim()
    sim._steps_per_call = lambda: budget
    ds = sim.run()
    assert ds.identical(ref)
    assert sim.step == 300


def test_spreadr_interrupt_writes_a_checkpoint_that_resumes(tmp_path, monkeypatch):
    import thoughtfield.discrete as D
    ref = _spreadr_sim().run()
    real = D._run
    n = [0]

    def interrupting(*a):
        k = real(*a)
        n[0] += 1
        if n[0] == 7:
            raise KeyboardInterrupt
        return k

    monkeypatch.setattr(D, "_run", interrupting)
    sim = _spreadr_sim()
    sim._steps_per_call = lambda: 4
    path = tmp_path / "s.ckpt"
    with pytest.raises(tf.Interrupted, match=r"interrupted at step \d+ \(spreadr\); checkpoint "
                                             r"written to") as e:
        sim.run(checkpoint=path, checkpoint_every=3600)
    assert e.value.checkpoint == str(path)
    monkeypatch.undo()
    assert _spreadr_sim().run(checkpoint=path, resume=True).identical(ref)
    sim = _spreadr_sim()
    sim._steps_per_call = lambda: 4
    monkeypatch.setattr(D, "_run", interrupting)
    n[0] = 0
    with pytest.raises(tf.Interrupted, match="no checkpoint"):
        sim.run()


def test_spreadr_step_counts_are_bounded():
    with pytest.raises(tf.ConfigError, match=r"^t_end: must be <= 4611686018427387904"):
        _spreadr_sim(t_end=10**30, saveat=tf.SaveAt(every=10**29))
    with pytest.warns(tf.ThoughtfieldWarning, match=r"this run takes 1e\+12 steps \(spreadr"):
        _spreadr_sim(t_end=10**12, saveat=tf.SaveAt(every=10**11))


def test_interrupted_cli_run_prints_the_checkpoint_and_a_resume_command_that_works(
        tmp_path, monkeypatch, capsys):
    """Issue 14: Ctrl-C during `thoughtfield run` names the checkpoint file and the exact
    command that continues the run; running that command finishes it (same result)."""
    import shlex

    from thoughtfield.cli import main
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "my run.toml"        # a space: the command must quote it
    cfg.write_text(
        "seed = 5\n[network]\nconcepts = [\"a\", \"b\", \"c\"]\n"
        "relations = [[\"a\", \"b\", \"association\", 0.5], [\"b\", \"c\", \"association\", 0.5]]\n"
        "[model]\ntransfer = \"tanh\"\n[[stimuli]]\nconcept = \"a\"\namplitude = 1.0\nstop = 2.0\n"
        "[solver]\nmethod = \"rk4\"\ndt = 0.01\n[run]\nt_end = 8.0\nsave_dt = 0.5\n")
    assert main(["run", str(cfg), "--out", "ref.nc", "--quiet"]) == 0
    monkeypatch.setattr(Simulation, "step_budget", lambda self: 50)
    _interrupt_after(monkeypatch, 3)
    argv = ["run", "my run.toml", "-o", "o.nc", "--quiet", "--force"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    ckpt = ck.checkpoint_path("o.nc")
    assert os.path.exists(ckpt) and not os.path.exists("o.nc")
    command = "thoughtfield run 'my run.toml' -o o.nc --quiet --force --resume"
    assert err.strip().endswith(f"checkpoint written to {ckpt}; run the same command with "
                                f"--resume to continue: {command}"), err
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    words = shlex.split(command)
    assert words[0] == "thoughtfield" and main(words[1:]) == 0
    assert not os.path.exists(ckpt)
    assert tf.load_result("o.nc").activation.identical(tf.load_result("ref.nc").activation)
