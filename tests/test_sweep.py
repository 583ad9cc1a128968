"""Parameter sweeps: the [sweep] section and its errors, results against independent
runs, seeds, readouts, part files and resume (in-process; the dask cluster tests are in
test_distributed.py)."""

import json
import math

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield import distributed, sweeps
from thoughtfield.cli import main

from _configs import tiny

SWEEP = tiny(**{"rtol = 1e-6": 'method = "rk4"\ndt = 0.05'}) + """
[sweep.grid]
"model.gain" = [2.0, 4.0, 8.0]
"stimuli[0].amplitude" = { start = 0.5, stop = 1.0, num = 2 }
"""

NOISY = tiny(**{"rtol = 1e-6": 'method = "euler_maruyama"\ndt = 0.01',
                "threshold = 0.5": "threshold = 0.5\nsigma = 0.2",
                "t_end = 5.0": "t_end = 3.0\nmembers = 3"}) + """
[sweep.zip.pair]
"model.gain" = [2.0, 4.0, 4.0]
"model.tau.beach" = [0.5, 1.0, 1.0]
"""


def test_grid_points_equal_independent_runs_bitwise():
    """Each point equals simulate() on objects built by hand (not from the config)."""
    ds = tf.sweep(SWEEP, workers=1)
    assert ds.activation.dims == ("model.gain", "stimuli[0].amplitude", "member", "time", "concept")
    assert list(ds["model.gain"].values) == [2.0, 4.0, 8.0]
    assert list(ds["stimuli[0].amplitude"].values) == [0.5, 1.0]
    net = tf.ConceptNetwork({"sun": "image", "beach": "idea", "holiday": "structure"},
                            [("sun", "beach", "association", 0.8), ("beach", "holiday", "is_a", 1.0)])
    for g in (2.0, 4.0, 8.0):
        for a in (0.5, 1.0):
            ref = tf.simulate(net, tf.Model(tau=1.0, gain=g, threshold=0.5),
                              [tf.Pulse("sun", 0.0, 2.0, a)], t_end=5.0,
                              solver=tf.Solver("rk4", dt=0.05))
            got = ds.activation.sel({"model.gain": g, "stimuli[0].amplitude": a}).isel(member=0)
            np.testing.assert_array_equal(got.values, ref.activation.values)
    assert (ds["status"].values == "success").all()
    assert ds.attrs["status"] == "success" and ds.attrs["sweep_points"] == 6
    assert ds.attrs["n_steps"] == int(ds["n_steps"].sum())


def test_noisy_zip_sweep_seeds_and_single_point_rerun():
    cfg = tf.load_config(NOISY)
    ds = tf.sweep(cfg, workers=1, chunk=2)
    assert ds.activation.dims == ("pair", "member", "time", "concept")
    assert list(ds["model.gain"].values) == [2.0, 4.0, 4.0]
    assert ds["model.tau.beach"].dims == ("pair",)
    seeds = ds["seed"].values
    assert [int(s) for s in seeds] == [tf.point_seed(3, p) for p in range(3)]
    assert len(set(seeds.tolist())) == 3
    # points 1 and 2 have the same parameters but their own noise
    assert np.abs(ds.activation.values[1] - ds.activation.values[2]).max() > 1e-3
    # a point re-run alone is bitwise the same: its config is the base config (no [sweep])
    # with the point's values and seed
    pc = tf.point_config(cfg, 2)
    assert "sweep" not in pc.data and pc.seed == int(seeds[2]) and pc.model.gain == 4.0
    np.testing.assert_array_equal(ds.activation.values[2], pc.run_simulation().activation.values)
    # chunking does not change a bit
    again = tf.sweep(cfg, workers=1, chunk=1)
    np.testing.assert_array_equal(again.activation.values, ds.activation.values)


def test_python_grid_is_added_to_the_configs_sweep_and_result_round_trips(tmp_path):
    ds = tf.sweep(SWEEP, grid={"solver.dt": [0.05, 0.025]}, workers=1)
    assert ds.activation.dims[:3] == ("model.gain", "stimuli[0].amplitude", "solver.dt")
    # finer dt, same answer to RK4 accuracy
    d = ds.activation.isel({"solver.dt": 0}) - ds.activation.isel({"solver.dt": 1})
    assert float(abs(d).max()) < 1e-5
    path = tf.save_result(ds, tmp_path / "s.nc")
    back = tf.load_result(path)
    np.testing.assert_array_equal(back.activation.values, ds.activation.values)
    assert json.loads(back.attrs["sweep"])["dims"][2]["params"] == {"solver.dt": [0.05, 0.025]}


def test_run_command_and_run_config_run_a_sweep_section(tmp_path, capsys):
    ds = tf.run_config(SWEEP)
    assert "model.gain" in ds.dims and ds.attrs["config_resolved"].count("[sweep.grid]") == 1
    (tmp_path / "s.toml").write_text(SWEEP)
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "s.nc")]) == 0
    out = capsys.readouterr().out
    assert "sweep: model.gain [3: 2 .. 8] x stimuli[0].amplitude [2: 0.5 .. 1] = 6 points" in out
    assert "final holiday" in out or "final beach" in out


# ------------------------------------------------------------------ validation
BAD = [
    ('"model.gian" = [1.0]', r's.toml:\d+: sweep.grid."model.gian": .*unknown key \'gian\' '
                             r'\(did you mean \'gain\'\?\)'),
    ('"modle.gain" = [1.0]', r"unknown key 'modle' \(did you mean 'model'\?\)"),
    ('"model.gain" = [1.0, "x"]', r's.toml:\d+: sweep.grid."model.gain"\[1\]: must be a number '
                                  r"\(got 'x'\)"),
    ('"model.gain" = [1.0, true]', r'sweep.grid."model.gain"\[1\]: must be a number'),
    ('"model.gain" = []', r'sweep.grid."model.gain": the list of values is empty'),
    ('"model.gain" = { start = 1.0, num = 3 }', r'sweep.grid."model.gain".stop: missing'),
    ('"model.gain" = { start = -1.0, stop = 1.0, num = 3, log = true }',
     r'sweep.grid."model.gain": log spacing needs start > 0'),
    ('"model.gain" = { values = [1.0], stride = 2 }', r'sweep.grid."model.gain".stride: unknown key'),
    ('"solver.method" = [1.0]', r'sweep.grid."solver.method": solver.method is a one of .*not a '
                                r'number'),
    ('"seed" = [1, 2]', r'sweep.grid."seed": seed cannot be swept'),
    ('"run.members" = [1, 2]', r'sweep.grid."run.members": run.members cannot be swept'),
    ('"model.tau" = [1.0, -1.0]', r'sweep.grid."model.tau"\[1\]: with model.tau = -1: model.tau: '
                                  r'must be > 0'),
    ('"model.tau.sunn" = [1.0]', r"unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ('"stimuli[3].amplitude" = [1.0]', r"stimuli\[3\]: index 3 out of range"),
    ('"run.t_end" = [5.0, 6.0]', r'sweep.grid."run.t_end"\[1\]: changes the saved times'),
    ('"stimuli[0].start" = [0.0, 2.5]', r'sweep.grid."stimuli\[0\].start"\[1\]: with '
                                        r'stimuli\[0\].start = 2.5: stimuli\[0\].stop: must be > '
                                        r'start \(2.5\) \(got 2\)'),
    ('"model.gain" = { values = [1.0], dim = "time" }', r"dimension name 'time' is reserved"),
]


@pytest.mark.parametrize("line, match", BAD, ids=[b[0][:30] for b in BAD])
def test_sweep_grid_errors(tmp_path, line, match):
    (tmp_path / "s.toml").write_text(tiny() + "\n[sweep.grid]\n" + line + "\n")
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(tmp_path / "s.toml")


@pytest.mark.parametrize("extra, match", [
    ('[sweep.zip.pair]\n"model.gain" = [1.0, 2.0, 3.0]\n"model.threshold" = [0.1, 0.2]\n',
     r'sweep.zip.pair."model.threshold": has 2 values but \'model.gain\' has 3; zipped parameters'),
    ('[sweep]\nchunk = 2\n', r"sweep: no parameters; add \[sweep.grid\]"),
    ('[sweep]\nscheduler = "tcp://x:1"\n[sweep.grid]\n"model.gain" = [1.0]\n',
     r"sweep.scheduler: a config may not choose a dask scheduler .* pass --scheduler ADDRESS"),
    ('[sweep.grid]\n"model.gain" = [1.0]\n[sweep.zip.z]\n"model.gain" = [2.0]\n',
     r"'model.gain' is swept twice"),
    ('[sweep.grid]\n"model.gain" = [1.0]\n[sweep.readout]\nkind = "choice"\nconcepts = ["sun"]\n',
     r"sweep.readout.concepts: a choice readout needs at least two"),
    ('[sweep.grid]\n"model.gain" = [1.0]\n[sweep.readout]\nconcepts = ["sunn"]\n',
     r"sweep.readout.concepts\[0\]: unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ('[sweep]\non_error = "ignore"\n[sweep.grid]\n"model.gain" = [1.0]\n',
     r"sweep.on_error: must be one of 'stop', 'record'"),
])
def test_sweep_section_errors(extra, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(tiny() + "\n" + extra)


def test_steady_tol_and_api_errors():
    with pytest.raises(tf.ConfigError, match=r"solver.steady_tol: a sweep needs the same saved times"):
        tf.load_config(tiny(**{"rtol = 1e-6": "steady_tol = 1e-3"}) + '[sweep.grid]\n"model.gain" = [1.0]\n')
    with pytest.raises(tf.ConfigError, match=r"sweep: no parameters to sweep; add a \[sweep\]"):
        tf.sweep(tiny())
    with pytest.raises(tf.ConfigError, match=r"'model.gain' is swept twice"):
        tf.sweep(SWEEP, grid={"model.gain": [1.0]})
    with pytest.raises(tf.ConfigError, match=r"sweep.grid: must be a table"):
        tf.sweep(tiny(), grid=[("model.gain", [1.0])])
    with pytest.raises(tf.ConfigError, match=r"workers: must be >= 1 \(got 0\)"):
        tf.sweep(SWEEP, workers=0)
    with pytest.raises(tf.ConfigError, match=r"sweep.zip.zip0.\"model.gain\"\[0\]: must be a number"):
        tf.sweep(tiny(), zip=[{"model.gain": ["a"]}])
    with pytest.raises(tf.ConfigError, match=r"scheduler: expected an address"):
        tf.sweep(SWEEP, scheduler=3.5)


# ------------------------------------------------------------------ failures
DIVERGE = """
[network]
concepts = ["x"]
relations = [["x", "x", "link", 1.0]]
[model]
transfer = "linear"
initial = 1.0
[solver]
method = "euler"
dt = 0.1
[run]
t_end = 200.0
save_dt = 10.0
[sweep.grid]
"network.relations[0][3]" = [0.5, 6.0, 0.9]
"""


def test_failed_points_stop_the_sweep_or_are_recorded():
    with pytest.raises(tf.DivergenceError, match=r"sweep point 1 \(network.relations\[0\]\[3\] = 6\): "
                                                 r"activation of concept 'x' became non-finite"):
        tf.sweep(DIVERGE, workers=1)
    ds = tf.sweep(DIVERGE, workers=1, on_error="record")
    assert list(ds["status"].values) == ["success", "nonfinite", "success"]
    assert ds.attrs["status"] == "failed_points"
    bad = ds.activation.isel({"network.relations[0][3]": 1}).values
    assert np.isfinite(bad[0, :2]).all() and np.isnan(bad[0, -1]).all()
    # the swept weight acted: decay rate 1 - w
    good = ds.activation.isel({"network.relations[0][3]": 0}).sel(concept="x").values[0]
    np.testing.assert_allclose(good[1], (1 - 0.1 * 0.5) ** 100, rtol=1e-12)
    lines = sweeps.summary_lines(ds)
    assert any("1 point(s) failed" in x and "nonfinite" in x for x in lines)


# ------------------------------------------------------------------ readouts
def test_crossing_times_are_interpolated_between_saves():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    act = np.array([[0.0, 0.2, 0.6, 1.0],     # crosses 0.5 between t=1 and 2: 1.75
                    [0.7, 0.8, 0.9, 1.0],     # above from the start: 0
                    [0.0, 0.1, 0.2, 0.3]]).T[None]  # never: NaN; shape (1, time, concept)
    ct = sweeps.crossing_times(act, t, 0.5)
    np.testing.assert_allclose(ct[0], [1.75, 0.0, np.nan])


def _synthetic(choices, rts, t_end=4.0):
    """A result with two options racing: option j rises linearly to cross 0.5 at rt."""
    import xarray as xr
    t = np.linspace(0, t_end, 401)
    m = len(choices[0])
    act = np.zeros((2, m, t.size, 2))  # (g, member, time, concept)
    for g in range(2):
        for k, (c, rt) in enumerate(zip(choices[g], rts[g])):
            if c >= 0:
                act[g, k, :, c] = 0.5 * t / rt
    return xr.Dataset({"activation": (("g", "member", "time", "concept"), act)},
                      coords={"g": [0, 1], "time": t, "concept": ["a", "b"]})


def test_choice_readout_counts_first_crossings():
    ds = _synthetic([[0, 0, 1, -1], [1, 1, 1, 1]], [[1.0, 2.0, 3.0, 1.0], [0.5, 0.5, 0.5, 1.5]])
    ro = tf.readout(ds, "choice", ["a", "b"], 0.5)
    np.testing.assert_allclose(ro["probability"].sel(option="a").values, [0.5, 0.0])
    np.testing.assert_allclose(ro["probability"].sel(option="b").values, [0.25, 1.0])
    np.testing.assert_allclose(ro["undecided"].values, [0.25, 0.0])
    np.testing.assert_allclose(ro["mean_rt"].values, [2.0, 0.75], atol=1e-9)
    fin = tf.readout(ds, "final", ["a"])
    assert fin["mean"].dims == ("g", "concept")
    cr = tf.readout(ds, "crossing", ["b"], 0.5)
    np.testing.assert_allclose(cr["probability"].values[:, 0], [0.25, 1.0])
    with pytest.raises(tf.ConfigError, match=r"readout.concepts\[0\]: unknown concept 'c'"):
        tf.readout(ds, "final", ["c"])
    with pytest.raises(tf.ConfigError, match=r"readout.kind: must be one of"):
        tf.readout(ds, "mean")


def test_sweep_plots(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    ds = tf.sweep(SWEEP, workers=1)
    ax = tf.plot_sweep(ds)
    assert ax.get_xlabel() == "model.gain" and ax.get_ylabel() == "stimuli[0].amplitude"
    one = ds.isel({"stimuli[0].amplitude": [0]}).squeeze("stimuli[0].amplitude", drop=True)
    ax = tf.plot_sweep(one, concepts=["holiday"])
    assert ax.get_xlabel() == "model.gain" and len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               one.activation.isel(time=-1, member=0).sel(concept="holiday").values)
    axes = tf.plot_sweep(ds, kind="crossing", concepts=["beach"], threshold=0.5)
    assert len(axes) == 2
    with pytest.raises(tf.ConfigError, match="no sweep dimensions"):
        tf.plot_sweep(tf.simulate(tf.ConceptNetwork({"x": "image"}), t_end=1.0))


# ------------------------------------------------------------------ parts and resume
class _Crash(Exception):
    pass


def test_interrupted_sweep_resumes_from_its_parts(tmp_path, monkeypatch):
    full = tf.sweep(NOISY, workers=1)
    out = tmp_path / "r.nc"
    real_write = distributed.PartStore.write
    calls = {"n": 0}

    def crash_after_two(self, ds, key):
        if calls["n"] == 2:
            raise _Crash()
        calls["n"] += 1
        return real_write(self, ds, key)

    monkeypatch.setattr(distributed.PartStore, "write", crash_after_two)
    with pytest.raises(_Crash):
        tf.sweep(NOISY, workers=1, chunk=1, out=out)
    monkeypatch.setattr(distributed.PartStore, "write", real_write)
    parts = sorted((tmp_path / "r.nc.parts").glob("part-*.nc"))
    assert len(parts) == 2 and not out.exists()
    # without --resume the parts are not silently overwritten
    with pytest.raises(tf.ConfigError, match=r"r.nc.parts: holds finished points of an earlier "
                                             r"sweep .* pass --resume"):
        tf.sweep(NOISY, workers=1, out=out)
    # parts of another config are refused
    with pytest.raises(tf.ConfigError, match=r"belong to a different sweep"):
        tf.sweep(NOISY.replace("sigma = 0.2", "sigma = 0.3"), workers=1, out=out, resume=True)
    report = {}
    ds = tf.sweep(NOISY, workers=1, out=out, resume=True, report=report)
    assert report["resumed_points"] == 2
    np.testing.assert_array_equal(ds.activation.values, full.activation.values)
    np.testing.assert_array_equal(tf.load_result(out).activation.values, full.activation.values)
    assert not (tmp_path / "r.nc.parts").exists()
    # the resumed sweep writes the same bytes as an uninterrupted one
    tf.sweep(NOISY, workers=1, out=tmp_path / "full.nc")
    assert out.read_bytes() == (tmp_path / "full.nc").read_bytes()
    with pytest.raises(tf.ConfigError, match=r"r.nc: exists; pass --force"):
        tf.sweep(NOISY, workers=1, out=out)


def test_resume_without_a_seed_reuses_the_recorded_seed(tmp_path, monkeypatch):
    text = NOISY.replace("seed = 3\n", "")
    out = tmp_path / "u.nc"
    real_write = distributed.PartStore.write

    def crash(self, ds, key):
        real_write(self, ds, key)
        raise _Crash()

    monkeypatch.setattr(distributed.PartStore, "write", crash)
    with pytest.raises(_Crash):
        tf.sweep(text, workers=1, chunk=1, out=out)
    monkeypatch.setattr(distributed.PartStore, "write", real_write)
    man = json.loads((tmp_path / "u.nc.parts" / "sweep.json").read_text())
    report = {}
    ds = tf.sweep(text, workers=1, out=out, resume=True, report=report)
    assert ds.attrs["seed"] == man["seed"] and report["resumed_points"] == 1
    ref = tf.sweep(text, workers=1, overrides={"seed": man["seed"]})
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)


def test_force_discards_old_parts(tmp_path):
    out = tmp_path / "f.nc"
    (tmp_path / "f.nc.parts").mkdir()
    (tmp_path / "f.nc.parts" / "sweep.json").write_text("not json")
    # a sweep.json that is not thoughtfield's: the folder is not ours, never removed
    for kw in ({"resume": True}, {"force": True}):
        with pytest.raises(tf.ConfigError, match=r"f.nc.parts: is not the parts folder of a "
                                                 r"thoughtfield sweep"):
            tf.sweep(SWEEP, workers=1, out=out, **kw)
    assert (tmp_path / "f.nc.parts" / "sweep.json").read_text() == "not json"
    (tmp_path / "f.nc.parts" / "sweep.json").unlink()
    # parts of an earlier sweep of ours: --force discards them
    text = SWEEP.replace("[2.0, 4.0, 8.0]", "[2.0, 4.0, 9.0]")
    real_write = distributed.PartStore.write

    def crash(self, ds, key):
        real_write(self, ds, key)
        raise _Crash()

    distributed.PartStore.write = crash
    try:
        with pytest.raises(_Crash):
            tf.sweep(text, workers=1, chunk=1, out=out)
    finally:
        distributed.PartStore.write = real_write
    assert len(list((tmp_path / "f.nc.parts").glob("part-*.nc"))) == 1
    ds = tf.sweep(SWEEP, workers=1, out=out, force=True)
    assert out.exists() and not (tmp_path / "f.nc.parts").exists()
    assert math.isfinite(float(ds.activation.max()))


# ------------------------------------------------------------------ command line
def test_sweep_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.toml").write_text(tiny())
    code = main(["sweep", "t.toml", "--grid", "model.gain=[2.0, 6.0]", "--grid",
                 "model.threshold={start=0.4, stop=0.6, num=2}", "--workers", "1", "--plot"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "sweep: model.gain [2: 2 .. 6] x model.threshold [2: 0.4 .. 0.6] = 4 points x 1 member" in out
    assert "ran 4 point(s) in-process" in out and "wrote t_sweep.nc" in out
    assert (tmp_path / "t_sweep_sweep.png").read_bytes()[:4] == b"\x89PNG"
    ds = tf.load_result(tmp_path / "t_sweep.nc")
    assert ds.activation.shape[:2] == (2, 2)
    code = main(["sweep", "t.toml", "--grid", "model.gain=[2.0]", "--workers", "1"])
    assert code == 2 and "t_sweep.nc: exists; pass --force" in capsys.readouterr().err
    for argv, msg in [
        (["--grid", "model.gian=[1.0]"], "unknown key 'gian' (did you mean 'gain'?)"),
        (["--grid", "model.gain"], "--grid model.gain: expected KEY.PATH=[values]"),
        (["--grid", "model.gain=[1.0", "--force"], "--grid model.gain=[1.0:"),
        (["--workers", "0", "--grid", "model.gain=[1.0]"], "--workers: must be >= 1"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--grid", "model.gain=[1.0]"],
         "give either --workers"),
        ([], "sweep: no parameters to sweep"),
    ]:
        code = main(["sweep", "t.toml", "--out", "x.nc", *argv])
        err = capsys.readouterr().err
        assert code == 2 and msg in err and "Traceback" not in err, (argv, err)


def test_sweep_command_runs_one_point(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.toml").write_text(NOISY)
    assert main(["sweep", "n.toml", "--point", "1", "--quiet"]) == 0
    one = tf.load_result(tmp_path / "n_point1.nc")
    ds = tf.sweep(NOISY, workers=1)
    np.testing.assert_array_equal(one.activation.values, ds.activation.values[1])
    assert main(["sweep", "n.toml", "--point", "3", "--out", "p.nc"]) == 2
    assert "point: must be <= 2 (got 3)" in capsys.readouterr().err


def test_choice_sweep_example_tells_its_story():
    """simulations/choice_sweep.toml: more evidence -> more 'left' choices and faster
    responses; more noise -> choices nearer chance."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "simulations" / "choice_sweep.toml"
    ds = tf.sweep(path, overrides=["run.members=100"], workers=1)
    ro = tf.readout(ds)
    p = ro["probability"].sel(option="left")
    assert (p.sel(evidence=1.2) > p.sel(evidence=1.0) + 0.25).all()
    assert (abs(p.sel(evidence=1.0) - 0.5) < 0.15).all()          # no evidence: chance
    assert float(p.sel(evidence=1.2, noise=0.02)) == 1.0
    assert (p.sel(evidence=1.2).diff("noise") <= 0).all()         # noise costs accuracy
    rt = ro["mean_rt"]
    assert float(rt.sel(evidence=1.2, noise=0.02)) < float(rt.sel(evidence=1.0, noise=0.02)) - 1.0
    assert float(ro["undecided"].max()) < 0.1


def test_progress_bar_counts_points():
    import io
    buf = io.StringIO()
    tf.sweep(SWEEP, workers=1, progress={"file": buf, "mininterval": 0})
    assert "6/6" in buf.getvalue() and "point" in buf.getvalue()


def test_points_reuse_the_compiled_kernels():
    """Every point's arrays have the same types: no kernel is compiled again per point,
    whatever is swept (model, stimuli, solver settings, per-member parameters)."""
    from thoughtfield._kernels import integrate, rhs
    text = SWEEP + '[members]\ngain = [1.0, 2.0]\n'
    text = text.replace("t_end = 5.0", "t_end = 5.0\nmembers = 2")
    tf.sweep(text, workers=1, grid={"members.gain[1]": [3.0, 4.0]})
    kernels = (integrate.integrate, rhs.rhs, rhs.apply_segment)
    before = [len(k.signatures) for k in kernels]
    ds = tf.sweep(text, workers=1, grid={"members.gain[1]": [5.0, 6.0], "solver.dt": [0.05, 0.02]})
    assert [len(k.signatures) for k in kernels] == before
    assert ds["gain"].dims == ("model.gain", "stimuli[0].amplitude", "members.gain[1]", "solver.dt",
                               "member")
    assert float(ds["gain"].isel({"members.gain[1]": 1}).values[0, 0, 0, 1]) == 6.0


def test_a_sweep_too_large_for_memory_is_refused_up_front(monkeypatch):
    monkeypatch.setenv("THOUGHTFIELD_MAX_MEMORY", "20K")
    with pytest.raises(tf.ResourceError, match=r"sweep: the result needs about .* \(6 points x "
                                               r".* each\) but the limit is .*THOUGHTFIELD_MAX_MEMORY"):
        tf.sweep(SWEEP, workers=1)
