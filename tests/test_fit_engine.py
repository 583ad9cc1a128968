"""The fitting engine (thoughtfield.fit): the same result with 1 or N dask workers, a
checkpointed fit resumed after an interruption equals the uninterrupted fit, the progress
bar ends at its total, and the three recovery models (competition pool, goal bias,
evidence accumulators) behave as the trial protocol's own runner says and recover their
parameters."""

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main

F = importlib.import_module("thoughtfield.fit")

ROOT = Path(__file__).resolve().parents[1]
SIMS = ROOT / "simulations"
CONFIG = SIMS / "fit_choice.toml"
DATA = SIMS / "data" / "fit_choice.csv"
PARAMS = {"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0)}
TINY = dict(n_sim=40, maxiter=2, popsize=3, bootstrap=2, bootstrap_maxiter=1,
            polish_maxfev=12, seed=3)
SAME = ("estimate", "lower", "upper", "trace_objective", "trace_value", "trace_stage",
        "bootstrap_estimate", "bootstrap_objective", "fitted_p", "sim_rt")


def differences(a, b):
    """The variables (and evaluation counts) in which two fits differ, bit for bit."""
    out = [v for v in SAME if not np.array_equal(a[v].values, b[v].values, equal_nan=True)]
    for k in ("n_evaluations", "evaluations_with_bootstrap", "objective_value"):
        if a.attrs[k] != b.attrs[k]:
            out.append(k)
    return out


@pytest.fixture(scope="module")
def plain():
    return tf.fit(CONFIG, DATA, PARAMS, **TINY)


# ------------------------------------------------------------------ dask workers
def test_two_dask_workers_give_the_same_fit_bit_for_bit(plain):
    pytest.importorskip("distributed")
    par = tf.fit(CONFIG, DATA, PARAMS, workers=2, **TINY)
    assert differences(plain, par) == []
    # the trace is in the order scipy asked for the points: differential evolution, then
    # the polish
    stages = par.trace_stage.values
    assert stages[0] == 0 and stages[-1] == 1 and np.all(np.diff(stages) >= 0)


def test_workers_and_scheduler_are_exclusive():
    with pytest.raises(tf.ConfigError, match=r"either workers .* or scheduler"):
        tf.fit(CONFIG, DATA, PARAMS, workers=2, scheduler="tcp://127.0.0.1:1", n_sim=20,
               maxiter=0, polish=False)
    with pytest.raises(tf.ConfigError, match=r"workers"):
        tf.fit(CONFIG, DATA, PARAMS, workers=0, n_sim=20, maxiter=0, polish=False)


# ------------------------------------------------------------------ checkpoints
class Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_after", [5, 20, 30, 60])
def test_a_resumed_fit_equals_the_uninterrupted_one(plain, tmp_path, monkeypatch, stop_after):
    # stop_after evaluations: 5 in the initial population (8 points: nothing saved yet),
    # 20 in differential evolution (3 x 8 points), 30 in the polish, 60 in the bootstrap
    ck = tmp_path / "fit.ckpt.json"
    real = F._evaluate
    calls = [0]

    def flaky(task, theta):
        calls[0] += 1
        if calls[0] > stop_after:
            raise Interrupt
        return real(task, theta)

    monkeypatch.setattr(F, "_evaluate", flaky)
    with pytest.raises(Interrupt):
        tf.fit(CONFIG, DATA, PARAMS, checkpoint=ck, **TINY)
    if stop_after < 8:
        assert not ck.exists()
    else:
        saved = json.loads(ck.read_text())            # JSON, no pickle
        assert saved["format"] == "thoughtfield-fit-checkpoint"
        assert 8 <= saved["trace"]["count"] <= stop_after
    monkeypatch.setattr(F, "_evaluate", real)
    resumed = tf.fit(CONFIG, DATA, PARAMS, checkpoint=ck, **TINY)
    assert differences(plain, resumed) == []
    assert plain.attrs["evaluations_with_bootstrap"] > 60   # the interruptions were inside


def test_a_checkpoint_of_another_fit_is_refused(tmp_path):
    ck = tmp_path / "c.json"
    tf.fit(CONFIG, DATA, PARAMS, n_sim=20, maxiter=1, popsize=3, polish=False, checkpoint=ck)
    with pytest.raises(tf.ConfigError, match=r"c.json: belongs to a different fit .* delete it"):
        tf.fit(CONFIG, DATA, PARAMS, n_sim=20, maxiter=1, popsize=3, polish=False,
               checkpoint=ck, seed=99)
    ck.write_text("{not json")
    with pytest.raises(tf.ConfigError, match=r"c.json: not a readable fit checkpoint"):
        tf.fit(CONFIG, DATA, PARAMS, n_sim=20, maxiter=1, popsize=3, polish=False,
               checkpoint=ck)


def test_cli_checkpoint_and_workers_flags(tmp_path, capsys):
    out, ck = tmp_path / "f.nc", tmp_path / "f.json"
    argv = ["fit", str(CONFIG), "--data", str(DATA), "--param", "choices[0].rate=0.5:3",
            "--n-sim", "30", "--maxiter", "1", "--popsize", "3", "--no-polish", "--quiet",
            "--checkpoint", str(ck), "--workers", "1", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    first = tf.load_result(out)
    assert json.loads(ck.read_text())["de"]["done"] is True
    assert main(argv + ["--force"]) == 0, capsys.readouterr().err   # resumed: all done
    assert differences(first, tf.load_result(out)) == []
    code = main(argv[:-2] + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1",
                             "--out", str(tmp_path / "g.nc")])
    assert code == 2
    assert "give either --workers" in capsys.readouterr().err


# ------------------------------------------------------------------ progress bar
def test_the_progress_bar_ends_at_its_total(monkeypatch):
    import tqdm.auto
    bars = []

    class Bar:
        def __init__(self, total=0, initial=0, **kw):
            self.total, self.n, self.closed, self.over = total, initial, False, 0
            bars.append(self)

        def update(self, k=1):
            self.n += k
            self.over = max(self.over, self.n - self.total)

        def refresh(self):
            pass

        set_postfix_str = set_description = lambda self, *a, **k: None

        def close(self):
            self.closed = True

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    ds = tf.fit(CONFIG, DATA, PARAMS, progress=True, **TINY)
    (bar,) = bars
    assert bar.closed and bar.n == bar.total == ds.attrs["evaluations_with_bootstrap"]
    assert bar.over == 0   # never past its total on the way


# ------------------------------------------------------------------ the three models
MODELS = {
    "pool": ("fit_choice.toml", {"choices[0].rate": 1.5, "choices[0].threshold": 1.0},
             {"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0)}),
    "goal": ("fit_goal.toml", {"goals.gain": 0.15, "choices[0].threshold": 1.0},
             {"goals.gain": (0.0, 0.5), "choices[0].threshold": (0.5, 2.0)}),
    "accumulator": ("fit_accumulator.toml",
                    {"choices[0].rate": 2.0, "choices[0].threshold": 0.8},
                    {"choices[0].rate": (0.5, 4.0), "choices[0].threshold": (0.4, 2.0)}),
}


@pytest.mark.parametrize("name", ["goal", "accumulator"])
def test_model_configs_match_the_protocol_runner(name):
    from scipy.stats import ks_2samp
    # the config's own values, trial by trial in 'thoughtfield run' (run_protocol) against
    # the fitting simulator's ensembles
    config = SIMS / MODELS[name][0]
    ds = tf.run_config(config)
    sim = tf.simulate_behaviour(config, {}, 1500, seed=5)
    for cond in np.unique(ds.condition.values):
        m = ds.condition.values == cond
        po = np.mean(ds.choice.values[m] == "left")
        s = sim[sim.condition == cond]
        ps = np.mean(s.choice == "left")
        se = math.sqrt(max(ps * (1 - ps), 1e-3) / m.sum())
        assert abs(po - ps) < 4 * se, (cond, po, ps)
        # the response times: one distribution (two-sample Kolmogorov-Smirnov)
        rt = ds.response_time.values[m]
        p = ks_2samp(rt[np.isfinite(rt)], s.rt.dropna()).pvalue
        assert p > 1e-3, (cond, p)


@pytest.mark.parametrize("name", list(MODELS))
def test_each_model_recovers_its_parameters(name):
    config, true, bounds = MODELS[name]
    data = tf.simulate_behaviour(SIMS / config, true, 500, seed=21)
    ds = tf.fit(SIMS / config, data, bounds, n_sim=300, maxiter=4, popsize=5, seed=2)
    for j, key in enumerate(ds.param.values):
        est = float(ds.estimate[j])
        assert abs(est - true[key]) < 0.2 * true[key] + 0.03, (key, est, true[key])
