"""The classic conflict models of simulations/: Cohen, Dunbar & McClelland's (1990) Stroop
model (stroop_cdm.toml) and Botvinick et al.'s (2001) conflict-monitoring model
(botvinick2001.toml).  Each config holds the parameters of the sources its header names
(re-implementations, since the papers themselves could not be read; what is chosen is said
there); its dynamics equal the model's update rule written out in numpy; its results show
the published pattern and the numbers the README quotes."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main
from thoughtfield.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CDM = ROOT / "simulations" / "stroop_cdm.toml"
BBBCC = ROOT / "simulations" / "botvinick2001.toml"
TASKS = ("colour", "word")
LEVELS = ("congruent", "control", "conflict")
#: Dunbar & MacLeod (1984), the data CDM fit, as listed in PsyNeuLink's
#: psyneulink/library/models/Cohen_Huston1994.py: (colour, word) x (congruent, control,
#: conflict), in ms
HUMAN_MS = {"colour": (590.0, 656.0, 856.0), "word": (500.0, 496.0, 518.0)}


def _toml(path):
    return tomllib.loads(path.read_text())


def _weights(doc):
    return {(s, t): w for s, t, _, w in doc["network"]["relations"]}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- Cohen, Dunbar & McClelland

def test_the_cdm_config_holds_the_published_parameters():
    doc = _toml(CDM)
    w = _weights(doc)
    for colour in ("red", "green"):
        other = "green" if colour == "red" else "red"
        assert w[(f"ink_{colour}", f"col_{colour}")] == 2.2
        assert w[(f"ink_{colour}", f"col_{other}")] == -2.2
        assert w[(f"word_{colour}", f"wrd_{colour}")] == 2.6
        assert w[(f"word_{colour}", f"wrd_{other}")] == -2.6
        assert w[(f"col_{colour}", f"say_{colour}")] == 1.3
        assert w[(f"col_{colour}", f"say_{other}")] == -1.3
        assert w[(f"wrd_{colour}", f"say_{colour}")] == 2.5
        assert w[(f"wrd_{colour}", f"say_{other}")] == -2.5
        assert w[("task_colour", f"col_{colour}")] == 4.0
        assert w[("task_word", f"wrd_{colour}")] == 4.0
    assert len(w) == 20                                   # nothing else joins the units
    m = doc["model"]
    assert m["bias"]["@hidden"] == -4.0 and m["form"] == "potential"
    assert doc["solver"]["dt"] / m["tau"] == pytest.approx(0.1)   # cascade rate 0.1
    ch = doc["choices"][0]
    assert ch["compare"] == "max" and ch["threshold"] == 1.0
    assert ch["rate"] * doc["solver"]["dt"] == pytest.approx(0.1)   # alpha = 0.1 per cycle
    # accumulator noise sd 0.1 per cycle (PsyNeuLink's CDM test): Wiener sd * sqrt(dt)
    assert ch["noise"] * np.sqrt(doc["solver"]["dt"]) == pytest.approx(0.1, abs=1e-6)
    assert "inhibition" not in doc["pools"][0]            # CDM's responses do not compete


def _cdm_reference_rt(doc, condition):
    """One noise-free CDM trial written out: the cascade update
    ``net(t+1) = net(t) + r (sum_i w_ij a_i(t) - net(t))`` with ``a = logistic(net + bias)``,
    clamped input and task units, and the accumulators
    ``e_i += r alpha' (a_i - max_{j != i} a_j)`` from the stimulus onset; the response
    time is where the first accumulator reaches the threshold, linear within the cycle."""
    names = [c for layer in doc["network"]["concepts"].values() for c in layer]
    idx = {c: k for k, c in enumerate(names)}
    n = len(names)
    W = np.zeros((n, n))
    for (s, t), wt in _weights(doc).items():
        W[idx[t], idx[s]] += wt
    bias = np.zeros(n)
    for layer, value in doc["model"]["bias"].items():
        for c in doc["network"]["concepts"][layer[1:]]:
            bias[idx[c]] = value
    dt = doc["solver"]["dt"]
    ch = doc["choices"][0]
    resp = [idx["say_red"], idx["say_green"]]
    clamps = [(idx[s["concept"]], s.get("start", 0.0), s.get("value", 1.0))
              for s in condition["stimuli"]]
    u, e = np.zeros(n), np.zeros(2)
    for step in range(int(round(doc["protocol"]["duration"] / dt))):
        t = step * dt
        a = _sigmoid(u + bias)
        for k, start, value in clamps:
            if t >= start - 1e-12:
                a[k] = value
        if t >= ch["onset"] - 1e-12:
            r = a[resp]
            new = e + dt * ch["rate"] * (r - r[::-1])
            if (new >= ch["threshold"]).any():
                k = int(np.argmax(new))
                frac = (ch["threshold"] - e[k]) / (new[k] - e[k])
                return t + frac * dt - ch["onset"], ("say_red", "say_green")[k]
            e = new
        u = u + dt * (W @ a - u)
    return np.nan, ""


@pytest.fixture(scope="module")
def cdm():
    return tf.run_config(CDM)


def test_the_noise_free_cdm_model_is_the_cascade_written_out():
    doc = _toml(CDM)
    ds = tf.run_config(CDM, overrides=["choices[0].noise=0.0", "run.members=1"])
    for k, cond in enumerate(doc["protocol"]["conditions"]):
        rt, choice = _cdm_reference_rt(doc, cond)
        assert str(ds.condition.values[k]) == cond["name"]
        assert str(ds.choice.values[k]) == choice == "say_green"
        assert abs(float(ds.response_time.values[k]) - rt) < 1e-9, cond["name"]


def _cycles(ds):
    s = tf.trial_summary(ds)
    return {task: np.array([float(s.mean_rt.sel(condition=f"{task}/{lev}")) / 0.1
                            for lev in LEVELS]) for task in TASKS}


def test_the_cdm_model_shows_the_published_stroop_pattern(cdm):
    s = tf.trial_summary(cdm)
    assert (s.no_response.values == 0).all()
    acc = {str(c): float(a) for c, a in zip(s.condition.values, s.accuracy.values)}
    assert min(acc.values()) == acc["colour/conflict"] == pytest.approx(0.989)   # README
    assert acc["colour/conflict"] < acc["colour/congruent"]
    cyc = _cycles(cdm)
    col, wrd = cyc["colour"], cyc["word"]
    assert (wrd < col).all()                              # word reading is faster
    interference, facilitation = col[2] - col[1], col[1] - col[0]
    assert interference > 2 * facilitation > 0            # interference > facilitation
    assert wrd[2] - wrd[1] < 0.1 * interference           # little interference on reading
    # the numbers the README quotes (cycles, simulations/stroop_cdm.toml as it is)
    assert np.allclose(col, [32.16, 38.01, 50.46], atol=0.005)
    assert np.allclose(wrd, [25.06, 25.65, 25.86], atol=0.005)


def test_the_cdm_cycles_map_linearly_onto_dunbar_and_macleod(cdm):
    cyc = _cycles(cdm)
    x = np.concatenate([cyc[t] for t in TASKS])
    y = np.concatenate([HUMAN_MS[t] for t in TASKS])
    slope, intercept = np.polyfit(x, y, 1)
    pred = intercept + slope * x
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert slope == pytest.approx(13.85, abs=0.005)
    assert intercept == pytest.approx(147.5, abs=0.05)
    assert r2 > 0.993
    assert np.allclose(np.round(pred), [593, 674, 846, 495, 503, 506])
    assert np.abs(pred - y).max() < 20                    # every condition within 20 ms


def test_the_condition_rt_figure_draws_one_line_per_task(cdm, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from thoughtfield.plots_mechanisms import plot_condition_rt
    ax = plot_condition_rt(cdm)
    lines = [ln for ln in ax.get_lines() if ln.get_marker() in ("o", "s")]   # not the caps
    assert len(lines) == 2
    cyc = _cycles(cdm)
    for ln, task in zip(lines, TASKS):
        assert np.allclose(ln.get_ydata(), cyc[task] * 0.1)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(LEVELS)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(TASKS)
    matplotlib.pyplot.close("all")
    out = tmp_path / "cdm.png"
    res = tmp_path / "cdm.nc"
    cdm.to_netcdf(res)
    assert main(["plot", str(res), "--kind", "condition_rt", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    with pytest.raises(ConfigError, match="needs a protocol result"):
        plot_condition_rt(tf.run_config(ROOT / "simulations" / "quickstart.toml"))


# ---------------------------------------------------------------- Botvinick et al. (2001)

def test_the_botvinick_config_holds_the_published_parameters():
    doc = _toml(BBBCC)
    w = _weights(doc)
    for colour in ("red", "green", "neutral"):
        assert w[("task_colour", f"col_{colour}")] == 4.0     # task <-> hidden, both ways
        assert w[("task_word", f"wrd_{colour}")] == 4.0
    for colour in ("red", "green"):
        assert w[(f"col_{colour}", f"say_{colour}")] == 1.5   # hidden <-> response
        assert w[(f"wrd_{colour}", f"say_{colour}")] == 2.5
    assert len(w) == 10
    assert doc["network"]["relation_types"]["pathway"]["symmetric"] is True
    assert doc["model"]["bias"] == {"@hidden": -4.0} and doc["model"]["form"] == "potential"
    assert doc["solver"]["dt"] / doc["model"]["tau"] == pytest.approx(0.01)
    pools = {p["name"]: p for p in doc["pools"]}
    assert {p["inhibition"] for p in pools.values()} == {2.0}   # mutual inhibition -2
    assert len(pools["response"]["concepts"]) == 2
    gate = doc["gates"][0]
    assert gate["types"] == ["pathway"]
    assert gate["intervals"] == [{"start": 0.0, "stop": 5.0, "value": 0.0}]   # 500 cycles
    ctl = doc["controls"][0]
    assert ctl["mode"] == "trial" and ctl["monitor"] == ["response"]
    assert ctl["target"] == {"task_colour": 1.0}
    assert ctl["persistence"] == 0.5                      # chosen, not BBBCC's (the header)
    assert doc["choices"][0]["threshold"] == 0.6          # PsyNeuLink's threshold


def _bbbcc_reference(doc, sequence):
    """The trial sequence written out: the Cohen & Huston (1994) network integrated at rate
    0.01 per cycle (``net += r (W a + input - net)``, ``a = logistic(net + bias)``), the
    response projections shut for the settling cycles, the response where a response unit
    first reaches the threshold (within the cycle on the cubic Hermite interpolant of the
    net inputs, as thoughtfield's fixed-step solvers locate a crossing), conflict
    ``E = 4 a_red a_green`` there and ``C <- l C + (1 - l)(alpha E + beta)``."""
    from scipy.optimize import brentq
    names = [c for layer in doc["network"]["concepts"].values() for c in layer]
    idx = {c: k for k, c in enumerate(names)}
    n = len(names)
    fixed, gated = np.zeros((n, n)), np.zeros((n, n))
    for s, t, kind, wt in doc["network"]["relations"]:    # symmetric: both directions
        M = gated if kind == "pathway" else fixed
        M[idx[t], idx[s]] += wt
        M[idx[s], idx[t]] += wt
    for p in doc["pools"]:
        ks = [idx[c] for c in p["concepts"]]
        for i in ks:
            for j in ks:
                if i != j:
                    fixed[i, j] -= p["inhibition"]
    bias = np.array([-4.0 if c in doc["network"]["concepts"]["hidden"] else 0.0 for c in names])
    dt, ch, ctl = doc["solver"]["dt"], doc["choices"][0], doc["controls"][0]
    conds = {c["name"]: c for c in doc["protocol"]["conditions"]}
    r, g = idx["say_red"], idx["say_green"]
    u_star = np.log(ch["threshold"] / (1 - ch["threshold"]))    # logistic^-1 (no bias)
    c = ctl["baseline"]
    out = []
    for name in sequence:
        u = np.zeros(n)
        ext = np.zeros(n)
        ext[idx["task_colour"]] = c
        result = (np.nan, "", np.nan, c)
        for step in range(int(round(doc["protocol"]["duration"] / dt))):
            t = step * dt
            inp = ext.copy()
            if t >= ch["onset"] - 1e-12:
                for s in conds[name]["stimuli"]:
                    inp[idx[s["concept"]]] += s.get("amplitude", 1.0)
            W = fixed + (gated if t >= 5.0 - 1e-12 else 0.0)

            def f(v):
                return W @ _sigmoid(v + bias) + inp - v
            f0 = f(u)
            new = u + dt * f0
            if t >= ch["onset"] - 1e-12 and max(new[r], new[g]) >= u_star:
                f1 = f(new)

                def hermite(th):
                    h00, h10 = 2 * th**3 - 3 * th**2 + 1, th**3 - 2 * th**2 + th
                    h01, h11 = -2 * th**3 + 3 * th**2, th**3 - th**2
                    return h00 * u + h10 * dt * f0 + h01 * new + h11 * dt * f1
                k = r if new[r] >= new[g] else g
                th = brentq(lambda x: hermite(x)[k] - u_star, 0.0, 1.0, xtol=1e-15)
                at = _sigmoid(hermite(th) + bias)
                result = (t + th * dt - ch["onset"], names[k], 4.0 * at[r] * at[g], c)
                break
            u = new
        out.append(result)
        lam = ctl["persistence"]
        c = lam * c + (1 - lam) * (ctl["alpha"] * result[2] + ctl["beta"])
    return out


@pytest.fixture(scope="module")
def bbbcc():
    return tf.run_config(BBBCC)


def test_the_botvinick_sequence_is_the_model_written_out(bbbcc):
    doc = _toml(BBBCC)
    seq = [str(c) for c in bbbcc.condition.values[:12]]
    assert set(seq) == {"congruent", "incongruent"}
    ref = _bbbcc_reference(doc, seq)
    for k, (rt, choice, E, c) in enumerate(ref):
        assert str(bbbcc.choice.values[k]) == choice == "say_green"
        assert float(bbbcc.control.values[k, 0]) == pytest.approx(c, abs=1e-9)
        assert float(bbbcc.conflict_at_response.sel(pool="response").values[k]) == \
            pytest.approx(E, abs=1e-9)
        # the response unit approaches the threshold slowly on incongruent trials, so the
        # rounding of the net inputs (summed in another order) moves the crossing by ~1e-9
        assert float(bbbcc.response_time.values[k]) == pytest.approx(rt, abs=1e-8)


def test_botvinick_control_produces_the_gratton_effect(bbbcc):
    s = tf.trial_summary(bbbcc, by_previous=True)
    rt = s.mean_rt.to_pandas() / 0.01                      # cycles
    ctl = s.control.to_pandas()
    assert (s.accuracy.values[np.isfinite(s.accuracy.values)] == 1.0).all()
    # conflict raises control: the trial after an incongruent one starts with more of it
    assert (ctl.loc["incongruent"] > ctl.loc["congruent"] + 0.1).all()
    # incongruent after incongruent is faster than after congruent (Gratton et al. 1992) ...
    iI, cI = rt.loc["incongruent", "incongruent"], rt.loc["congruent", "incongruent"]
    cC, iC = rt.loc["congruent", "congruent"], rt.loc["incongruent", "congruent"]
    assert iI < cI - 10
    # ... and the interference shrinks after an incongruent trial
    assert iI - iC < cI - cC - 20
    # the numbers the README quotes
    assert np.allclose([cC, iC, cI, iI], [247.4, 250.9, 555.8, 531.9], atol=0.05)
    assert np.allclose([ctl.loc["congruent"].mean(), ctl.loc["incongruent"].mean()],
                       [0.93, 1.36], atol=0.005)
    # without control (alpha = 0, C fixed at beta = baseline = 1) the effect is gone
    flat = tf.run_config(BBBCC, overrides=["controls[0].alpha=0.0", "controls[0].beta=1.0"])
    f = tf.trial_summary(flat, by_previous=True).mean_rt.to_pandas()
    assert abs(f.loc["incongruent", "incongruent"] - f.loc["congruent", "incongruent"]) < 1e-9


def test_the_trial_course_figure_follows_conflict_and_control(bbbcc, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from thoughtfield.plots_mechanisms import plot_trial_course
    ax = plot_trial_course(bbbcc)
    pts = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_marker() == "o"}
    assert set(pts) == {"congruent", "incongruent"}
    E = bbbcc.conflict_at_response.sel(pool="response").values
    inc = bbbcc.condition.values == "incongruent"
    assert np.array_equal(pts["incongruent"].get_xdata(), np.flatnonzero(inc) + 1)
    assert np.allclose(pts["incongruent"].get_ydata(), E[inc])
    step = [ln for ln in ax.figure.axes[1].get_lines()][0]
    assert np.allclose(step.get_ydata(), bbbcc.control.values[:, 0])
    matplotlib.pyplot.close("all")
    res, out = tmp_path / "b.nc", tmp_path / "b.png"
    bbbcc.to_netcdf(res)
    assert main(["plot", str(res), "--kind", "trial_course", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    with pytest.raises(ConfigError, match="needs a protocol result"):
        plot_trial_course(tf.run_config(ROOT / "simulations" / "quickstart.toml"))
