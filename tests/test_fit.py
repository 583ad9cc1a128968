"""Fitting parameters to behavioural data (thoughtfield.fit, ``thoughtfield fit``).

References independent of the fitting code: the quantile-probability chi-square, the
multinomial deviance and the kernel-density likelihood computed by hand on tiny
examples; the shipped data set, simulated by the trial protocol's runner
(``thoughtfield run``, not the fitting code) from known parameters, which the fit must
recover within its bootstrap intervals."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import thoughtfield as tf
from thoughtfield.cli import main
from thoughtfield.fit import Objective, _Cell, parse_param

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "simulations" / "fit_choice.toml"
DATA = ROOT / "simulations" / "data" / "fit_choice.csv"
TRUE = {"choices[0].rate": 1.5, "choices[0].threshold": 1.0}   # the config's values
PARAMS = {"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0)}


def cell(choice, rt):
    choice = np.asarray(choice, np.int64)
    return _Cell("c", (), None, choice, np.asarray(rt, float), np.arange(choice.size))


# ------------------------------------------------------------------ objectives by hand
def tiny_case():
    # observed: option 0 at 1, 2, 3, 4 (median 2.5: two bins), option 1 once (too few for
    # quantiles: one bin), one trial without a response -> N = 6
    obs = cell([0, 0, 0, 0, 1, -1], [1, 2, 3, 4, 5, np.nan])
    # simulated: option 0 at 1, 2 (<= 2.5) and 3, 3, 3; option 1 twice; one none -> n = 8
    ch = np.array([[0, 0, 0, 0, 0, 1, 1, -1]])
    rt = np.array([[1, 2, 3, 3, 3, 6, 7, np.nan]])
    return obs, ch, rt


def test_qp_chi2_by_hand():
    obs, ch, rt = tiny_case()
    obj = Objective([obs], 2, kind="qp_chi2", quantiles=(0.5,), min_rt_trials=2,
                    smoothing=0.0, n_sim=8)
    o = np.array([2, 2, 1, 1]) / 6
    p = np.array([2, 3, 2, 1]) / 8
    # 6 * (1/36 + 1/216 + 1/36 + 1/72) = 4/9
    assert obj.value(ch, rt) == pytest.approx(4 / 9, rel=1e-12)
    assert obj.value(ch, rt) == pytest.approx(6 * np.sum((o - p) ** 2 / p), rel=1e-12)


def test_g2_by_hand():
    obs, ch, rt = tiny_case()
    obj = Objective([obs], 2, kind="g2", quantiles=(0.5,), min_rt_trials=2,
                    smoothing=0.0, n_sim=8)
    want = 2 * (2 * math.log(4 / 3) + 2 * math.log(8 / 9) + math.log(2 / 3) + math.log(4 / 3))
    assert obj.value(ch, rt) == pytest.approx(want, rel=1e-12)


def test_kde_by_hand():
    from scipy.stats import norm
    obs = cell([0, 0], [2.0, 2.5])
    ch = np.array([[0, 0, 0, -1]])
    rt = np.array([[1.0, 2.0, 3.0, np.nan]])
    obj = Objective([obs], 1, kind="kde", n_sim=4)
    s = min(np.std([1, 2, 3]), 1.0 / 1.349)          # Silverman: min(sd, IQR / 1.349)
    h = 0.9 * s * 3 ** -0.2
    dens = [sum(norm.pdf(t, loc=m, scale=h) for m in (1, 2, 3)) / 4 for t in (2.0, 2.5)]
    assert obj.value(ch, rt) == pytest.approx(-2 * sum(np.log(dens)), rel=1e-10)


def test_smoothing_is_continuous_and_zero_width_is_counting():
    obs, ch, rt = tiny_case()
    sharp = Objective([obs], 2, quantiles=(0.5,), min_rt_trials=2, smoothing=0.0, n_sim=8)
    tiny = Objective([obs], 2, quantiles=(0.5,), min_rt_trials=2, smoothing=1e-9, n_sim=8)
    assert tiny.value(ch, rt) == pytest.approx(sharp.value(ch, rt), rel=1e-9)
    wide = Objective([obs], 2, quantiles=(0.5,), min_rt_trials=2, smoothing=0.05, n_sim=8)
    a = wide.value(ch, rt)
    b = wide.value(ch, rt + np.array([[0, 1e-4, 0, 0, 0, 0, 0, 0]]))
    assert a != b and abs(a - b) < 1e-2   # a tiny move of one simulated RT: a tiny change


# ------------------------------------------------------------------ the simulator
def test_simulator_matches_the_protocol_runner():
    # the shipped data come from 'thoughtfield run' (run_protocol, trial by trial); the
    # fitting simulator (one ensemble per condition) must describe the same process
    df = pd.read_csv(DATA)
    sim = tf.simulate_behaviour(CONFIG, TRUE, 1500, seed=5)
    for cond in ("easy", "hard"):
        o = df[df.condition == cond]
        s = sim[sim.condition == cond]
        po, ps = (o.choice == "left").mean(), (s.choice == "left").mean()
        se = math.sqrt(ps * (1 - ps) / len(o))
        assert abs(po - ps) < 4 * se, (cond, po, ps)
        mo, ms = o.rt.median(), s.rt.median()
        assert abs(mo - ms) < 0.1, (cond, mo, ms)


def test_common_random_numbers():
    a = tf.simulate_behaviour(CONFIG, TRUE, 50, seed=2)
    b = tf.simulate_behaviour(CONFIG, TRUE, 50, seed=2)
    c = tf.simulate_behaviour(CONFIG, TRUE, 50, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    # ndt shifts every response time and changes no choice
    d = tf.simulate_behaviour(CONFIG, {**TRUE, "ndt": 0.25}, 50, seed=2)
    assert (d.choice == a.choice).all()
    np.testing.assert_allclose(d.rt - a.rt, 0.25, atol=2e-6)


# ------------------------------------------------------------------ recovery
def test_recovers_known_parameters_within_bootstrap_intervals():
    # every bootstrap refit repeats the fit (a short differential evolution, the polish)
    ds = tf.fit(CONFIG, DATA, PARAMS, n_sim=300, maxiter=5, popsize=4, bootstrap=8,
                bootstrap_maxiter=3, polish_maxfev=40, seed=1)
    for j, key in enumerate(ds.param.values):
        est, lo, hi = (float(ds[v][j]) for v in ("estimate", "lower", "upper"))
        assert lo <= TRUE[key] <= hi, (key, est, lo, hi)
        assert lo < est < hi
        assert abs(est - TRUE[key]) < 0.15 * TRUE[key], (key, est)
        # the two intervals from the 8 refits, written out (linear interpolation between
        # order statistics: 2.5 % lies at 0.175 of the way from the 1st to the 2nd)
        q = np.sort(ds.bootstrap_estimate.values[:, j])
        q025, q975 = (q[0] + 0.175 * (q[1] - q[0]), q[-2] + 0.825 * (q[-1] - q[-2]))
        assert ds.percentile_lower[j] == pytest.approx(q025, abs=1e-12)
        assert ds.percentile_upper[j] == pytest.approx(q975, abs=1e-12)
        assert lo == pytest.approx(2 * est - q975, abs=1e-12)
        assert hi == pytest.approx(2 * est - q025, abs=1e-12)
    # the observed proportions are the data's own
    df = pd.read_csv(DATA)
    p_easy = (df[df.condition == "easy"].choice == "left").mean()
    assert float(ds.observed_p.sel(condition="easy", response="left")) == pytest.approx(p_easy)
    assert ds.attrs["objective_value"] == pytest.approx(float(ds.trace_objective.min()))
    assert set(np.unique(ds.trace_stage.values)) == {0, 1}
    assert ds.attrs["kernel_calls_per_evaluation"] == 2


# ------------------------------------------------------------------ bad input
def trials(rows):
    return pd.DataFrame(rows, columns=["condition", "choice", "rt"])


GOOD = [("easy", "left", 1.0), ("hard", "right", 1.2)]


@pytest.mark.parametrize("data, params, match", [
    (trials(GOOD + [("medium", "left", 1.0)]), PARAMS,
     r"data row 2: condition 'medium' is not a condition of the protocol; the conditions are easy, hard"),
    (trials(GOOD + [("easy", "left", -0.2)]), PARAMS, r"data row 2: rt = -0.2 is negative"),
    (trials(GOOD + [("easy", "up", 1.0)]), PARAMS,
     r"data row 2: choice 'up' is not an option of the response pool \(left, right\)"),
    (trials(GOOD + [("easy", "left", float("nan"))]), PARAMS, r"data row 2: rt is missing"),
    (trials([("easy", "left", 1.0)]), PARAMS, r"no trials in condition 'hard'"),
    (trials(GOOD), ["choices[0].rate"], r"choices\[0\].rate.*no bounds; write choices\[0\].rate=LOW:HIGH"),
    (trials(GOOD), {"choices[0].rate": None}, r"choices\[0\].rate: no bounds"),
    (trials(GOOD), {"choices[0].rat": (1, 2)}, r"parameter choices\[0\].rat: not a config key.*did you mean 'rate'"),
    (trials(GOOD), {"choices[0].rate": (2, 1)}, r"lower bound must be below the upper"),
    (trials(GOOD), {"choices[0].threshold": (-1, 1)}, r"parameter choices\[0\].threshold: the bound -1 is not a valid value"),
    (trials(GOOD).drop(columns="rt"), PARAMS, r"missing column 'rt'"),
    (trials(GOOD).assign(subject=1), PARAMS, r"column 'subject' is neither choice, rt, condition nor a config key"),
    (trials(GOOD + [("easy", "left", "fast")]), PARAMS, r"data row 2: rt = 'fast' is not a number"),
    (trials([]), PARAMS, r"data: has no trials"),
    (trials(GOOD).drop(columns="condition"), PARAMS, r"add a column 'condition'"),
])
def test_bad_input_is_one_clear_error(data, params, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.fit(CONFIG, data, params, n_sim=20, maxiter=0, polish=False)


def test_data_file_lines_and_ignored_columns(tmp_path):
    p = tmp_path / "obs.csv"
    p.write_text("subject,condition,choice,rt\n1,easy,left,1.0\n1,hard,left,-3\n")
    with pytest.raises(tf.ConfigError, match=r"obs.csv line 3: rt = -3 is negative"):
        tf.fit(CONFIG, p, PARAMS, n_sim=20, maxiter=0, polish=False, ignore=["subject"])


def test_key_columns_and_no_protocol():
    # conditions given by a config key: the stimulus value of a config without a protocol
    cfg = tf.load_config(ROOT / "simulations" / "choice_lca.toml", overrides={"run.members": 1})
    df = pd.DataFrame({"stimuli[0].value": [0.6, 0.6, 0.9],
                       "choice": ["option_a", "option_b", "option_a"], "rt": [1.0, 2.0, 0.8]})
    ds = tf.fit(cfg, df, {"choices[0].threshold": (0.5, 1.5)}, n_sim=30, maxiter=0,
                polish=False)
    assert list(ds.condition.values) == ["stimuli[0].value=0.6", "stimuli[0].value=0.9"]
    assert list(ds.n_trials.values) == [2, 1]
    with pytest.raises(tf.ConfigError, match=r"column 'condition': the config has no \[protocol\]"):
        tf.fit(cfg, df.assign(condition="x"), {"choices[0].threshold": (0.5, 1.5)}, n_sim=30)


def test_parse_param():
    p = parse_param("model.gain=2:10:normal(5, 1)")
    assert (p.key, p.lower, p.upper, p.prior) == ("model.gain", 2.0, 10.0, (5.0, 1.0))
    with pytest.raises(tf.ConfigError, match=r"the bounds must be numbers"):
        parse_param("model.gain=a:b")
    with pytest.raises(tf.ConfigError, match=r"normal\(MEAN,SD\)"):
        parse_param("model.gain=1:2:gamma(1,2)")


# ------------------------------------------------------------------ command line
def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, match", [
    (["--param", "choices[0].rate"], "no bounds; write choices[0].rate=LOW:HIGH"),
    (["--param", "model.nope=1:2"], "parameter model.nope: not a config key"),
    ([], "--param: give at least one parameter"),
])
def test_cli_errors(capsys, argv, match):
    code, _out, err = cli(capsys, "fit", CONFIG, "--data", DATA, *argv)
    assert code == 2
    assert err.startswith("thoughtfield fit: error: ") and match in err
    assert "Traceback" not in err and err.count("\n") <= 2


def test_cli_bad_data_row(capsys, tmp_path):
    p = tmp_path / "obs.csv"
    p.write_text("condition,choice,rt\neasy,left,1.0\neasy,left,1.1\nhard,left,-0.5\n")
    code, _out, err = cli(capsys, "fit", CONFIG, "--data", p, "--param", "choices[0].rate=0.5:3")
    assert code == 2
    assert "thoughtfield fit: error: obs.csv line 4: rt = -0.5 is negative" in err


def test_cli_fit_and_plot(capsys, tmp_path):
    out = tmp_path / "f.nc"
    code, text, err = cli(capsys, "fit", CONFIG, "--data", DATA, "--param",
                          "choices[0].rate=0.5:3", "--param", "ndt=0:0.3", "--n-sim", 60,
                          "--maxiter", 1, "--popsize", 3, "--no-polish", "--out", out, "--plot")
    assert code == 0, err
    assert "choices[0].rate" in text and "easy: 200" in text
    ds = tf.load_result(out)
    assert ds.attrs["thoughtfield_result"] == "fit"
    assert list(ds.param.values) == ["choices[0].rate", "ndt"]
    for kind in ("qp", "rt_hist", "fit_trace"):
        assert (tmp_path / f"f_{kind}.png").stat().st_size > 10_000
    code, text, err = cli(capsys, "plot", out, "--kind", "qp", "--out", tmp_path / "qp.svg")
    assert code == 0, err
    assert (tmp_path / "qp.svg").exists()
