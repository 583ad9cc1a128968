"""The ``thoughtfield`` command line: exit codes, messages, files written.

Most tests call ``main(argv)`` in-process (fast); a few run the real command in a
subprocess to check what a user sees (no traceback, exit status)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import COMMANDS, main

from _configs import TINY, tiny

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "simulations" / "quickstart.toml"
SRC = ROOT / "src"



def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_cmd(*argv, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "thoughtfield", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------ malformed configs -> 2
MALFORMED = [
    # (name, config text, extra argv, key the message must name)
    ("wrong type", tiny(**{"t_end = 5.0": 't_end = "five"'}), [], "run.t_end"),
    ("unknown key", tiny(**{"rtol = 1e-6": "rtoll = 1e-6"}), [], "solver.rtoll"),
    ("unknown section", tiny(**{"[solver]": "[sovler]"}), [], "sovler"),
    ("unknown concept in a stimulus", tiny(**{'concept = "sun"': 'concept = "sunn"'}), [], "stimuli[0].concept"),
    ("negative time constant", tiny(**{"tau = 1.0": "tau = -2.0"}), [], "model.tau"),
    ("unknown concept in a per-concept table", tiny(**{"tau = 1.0": "tau = { sunn = 2.0 }"}), [], "model.tau.sunn"),
    ("missing [run]", tiny(**{"[run]\nt_end = 5.0\n": ""}), [], "run"),
    ("missing [network]", "[run]\nt_end = 5.0\n", [], "network"),
    ("bad TOML syntax", tiny(**{"rtol = 1e-6": "rtol = = 1e-6"}), [], "invalid TOML"),
    ("empty network", "[network]\nconcepts = []\n[run]\nt_end = 1.0\n", [], "network.concepts"),
    ("stimulus before the start", tiny(**{"t_end = 5.0": "t0 = 3.0\nt_end = 5.0"}), [],
     "stimuli[0].stop"),
    ("missing network file", '[network]\nfile = "missing.csv"\n[run]\nt_end = 1.0\n', [], "network.file"),
    ("relation to an unknown concept", tiny(**{'["beach", "holiday", "is_a", 1.0]': '["beach", "holliday", "is_a", 1.0]'}),
     [], "network.relations[1]"),
    ("unknown layer", tiny(**{'idea = ["beach"]': 'ideas = ["beach"]'}), [], "network.concepts.ideas[0]"),
    ("noise with a deterministic solver", tiny(**{"tau = 1.0": "sigma = 0.2"}), [], "solver.method"),
    ("stimuli written as a table", tiny(**{"[[stimuli]]": "[stimuli]"}), [], "stimuli"),
    ("zero members", tiny(**{"t_end = 5.0": "t_end = 5.0\nmembers = 0"}), [], "run.members"),
    ("bad --set path", tiny(), ["--set", "solver.rtoll=1e-3"], "solver.rtoll"),
    ("bad --set value", tiny(), ["--set", "model.gain=[1,"], "--set model.gain"),
    ("--set breaks the horizon", tiny(), ["--set", "run.t_end=-1"], "run.t_end"),
    ("unknown plot kind", tiny(**{"[solver]": '[output]\nplots = ["heatmapp"]\n[solver]'}), [], "output.plots[0]"),
    ("duplicate concept", tiny(**{'idea = ["beach"]': 'idea = ["beach", "sun"]'}), [], "network.concepts.idea[1]"),
]


@pytest.mark.parametrize("name,text,extra,key", MALFORMED, ids=[m[0] for m in MALFORMED])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_malformed_config_exits_2_naming_the_key(tmp_path, capsys, name, text, extra, key, command):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    argv = [command, cfg, *extra] + (["--out", tmp_path / "r.nc"] if command == "run" else [])
    code, out, err = cli(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert lines[0].startswith(f"thoughtfield {command}: error: ")
    assert key in lines[0]
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "r.nc").exists()


def test_a_shortened_run_warns_once_about_a_later_stimulus(tmp_path, capsys):
    """``--set run.t_end=...`` before a stimulus starts: the run is the shortened run, with
    one warning line per stimulus that has no effect (not an error, not repeated)."""
    cfg = tmp_path / "late.toml"
    cfg.write_text(tiny(**{"start = 0.0": "start = 6.0", "stop = 2.0": "stop = 7.0"}))
    code, out, err = cli(capsys, "run", cfg, "--out", tmp_path / "r.nc", "--quiet")
    assert code == 0, err
    assert err.strip().splitlines() == [
        "thoughtfield run: warning: stimuli[0].start: the pulse on 'sun' starts at t = 6, at or "
        "after the end of the run (t_end = 5); it has no effect in this run"]
    assert (tmp_path / "r.nc").exists()


def test_missing_config_file_and_usage_errors(tmp_path, capsys):
    code, _, err = cli(capsys, "run", tmp_path / "nope.toml")
    assert code == 2 and "nope.toml: config file not found" in err
    code, _, err = cli(capsys, "run")
    assert code == 2 and "the following arguments are required: CONFIG" in err
    code, _, err = cli(capsys, "frobnicate")
    assert code == 2 and "invalid choice: 'frobnicate'" in err
    code, _, err = cli(capsys)
    assert code == 2 and "COMMAND" in err


# ------------------------------------------------------------------ help
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(capsys, command):
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0
    assert "examples:" in out and f"thoughtfield {command}" in out


def test_top_level_help_lists_the_commands(capsys):
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and all(c in out for c in COMMANDS) and "examples:" in out
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and tf.__version__ in out


# ------------------------------------------------------------------ run / plot / info
def test_run_writes_result_and_figures_and_refuses_to_overwrite(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "res" / "tiny.nc"
    code, stdout, err = cli(capsys, "run", cfg, "--out", out, "--plot", "--set", "run.save_dt=0.5")
    assert code == 0, err
    assert "simulated t = 0 .. 5 (11 saved points) with dopri5" in stdout
    assert "most active at t = 5: " in stdout and "wrote " + str(out) in stdout
    ds = tf.load_result(out)
    assert ds.activation.dims == ("time", "concept") and ds.sizes["time"] == 11
    assert list(ds.concept.values) == ["sun", "beach", "holiday"]
    assert ds.attrs["config"] == TINY and '["run.save_dt=0.5"]' == ds.attrs["config_overrides"]
    for kind in ("trajectories", "heatmap", "network"):
        png = tmp_path / "res" / f"tiny_{kind}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the file's permissions follow the umask (not mkstemp's 0600)
    assert os.stat(out).st_mode & 0o044
    # refuse to overwrite, before running
    before = out.stat().st_mtime_ns
    code, stdout, err = cli(capsys, "run", cfg, "--out", out)
    assert code == 2 and "tiny.nc: exists; pass --force to overwrite it" in err
    assert out.stat().st_mtime_ns == before
    code, stdout, err = cli(capsys, "run", cfg, "--out", out, "--force", "--quiet")
    assert code == 0 and stdout == "" and err == ""
    assert out.stat().st_mtime_ns != before
    # figures are protected as well
    (tmp_path / "other_heatmap.png").write_bytes(b"x")
    code, _, err = cli(capsys, "run", cfg, "--out", tmp_path / "other.nc", "--plot")
    assert code == 2 and "other_heatmap.png: exists" in err
    assert not (tmp_path / "other.nc").exists()


def test_run_default_output_name_and_config_path(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "named.toml"
    cfg.write_text(tiny(**{"[solver]": '[output]\npath = "sub/custom.nc"\n[solver]'}))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", cfg, "--quiet")
    assert code == 0, err
    assert (tmp_path / "sub" / "custom.nc").exists()
    cfg.write_text(TINY)
    code, _, err = cli(capsys, "run", cfg, "--quiet")
    assert code == 0 and (tmp_path / "named.nc").exists()


def test_plot_and_info_on_a_result(tmp_path, capsys):
    ds = tf.run_config(tiny(), overrides=["run.members=3", "model.sigma=0.05",
                                          'solver.method="euler_maruyama"'])
    res = tmp_path / "ens.nc"
    tf.save_result(ds, res)
    code, out, err = cli(capsys, "plot", res, "--kind", "heatmap", "--out", tmp_path / "h.png")
    assert code == 0, err
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    code, out, err = cli(capsys, "plot", res, "--kind", "trajectories", "network", "--member", "1",
                         "--time", "2.5", "--out", tmp_path / "f.svg")
    assert code == 0, err
    assert "<svg" in (tmp_path / "f_trajectories.svg").read_text()
    assert (tmp_path / "f_network.svg").exists()
    # its own figure of this result is drawn again; any other file needs --force (issue 14)
    code, _, err = cli(capsys, "plot", res, "--kind", "heatmap", "--out", tmp_path / "h.png")
    assert code == 0, err
    (tmp_path / "h.png").write_bytes(b"not thoughtfield's")
    code, _, err = cli(capsys, "plot", res, "--kind", "heatmap", "--out", tmp_path / "h.png")
    assert code == 2 and "h.png: exists; pass --force to overwrite it, or --out" in err
    code, _, err = cli(capsys, "plot", res, "--kind", "heatmapp")
    assert code == 2 and "--kind: unknown plot kind 'heatmapp'" in err and "did you mean 'heatmap'" in err
    code, _, err = cli(capsys, "plot", res, "--kind", "network", "--time", "99", "--out", tmp_path / "n.png")
    assert code == 2 and "time: 99 is outside the result [0, 5]" in err
    code, _, err = cli(capsys, "plot", res, "--member", "7", "--kind", "heatmap", "--out", tmp_path / "m.png")
    assert code == 2 and "member: must be <= 2 (got 7)" in err
    code, _, err = cli(capsys, "plot", tmp_path / "none.nc")
    assert code == 2 and "none.nc: result file not found" in err
    code, _, err = cli(capsys, "plot", res, "--out", tmp_path / "x.jpg", "--kind", "heatmap")
    assert code == 2 and "must end in .png, .svg or .pdf" in err

    code, out, err = cli(capsys, "info", res)
    assert code == 0, err
    assert "dims: member 3, time 201, concept 3" in out
    assert "variable: activation(member, time, concept) float64" in out
    assert "concepts: 3 in layers image/idea/structure/goal: image 1, idea 1, structure 1" in out
    assert "solver: euler_maruyama (dt 0.01), status success, 600 steps" in out  # 3 steps per 0.025 save interval
    assert "seed 3" in out and "overrides --set run.members=3" in out
    assert "most active at t = 5 (mean of 3 members)" in out


def test_info_and_validate_on_a_config(capsys):
    code, out, err = cli(capsys, "info", QUICKSTART)
    assert code == 0, err
    assert "network: 21 concepts, 25 relations" in out
    assert "layers: image 9, idea 6, structure 4, goal 2" in out
    assert "stimuli[2]: pulse email = 1.5 for t = 15 .. 24" in out
    assert "run: t = 0 .. 40, 401 saved points, 1 member(s); activation output about 67.4 kB" in out
    code, out, _ = cli(capsys, "validate", QUICKSTART)
    assert code == 0 and "quickstart.toml: valid (21 concepts, 25 relations, 4 stimuli, t = 0 .. 40)" in out
    code, _, err = cli(capsys, "info", "no/such/file.nc")
    assert code == 2 and "file not found" in err


def test_diverging_run_exits_1_in_process(tmp_path, capsys):
    cfg = tmp_path / "boom.toml"
    cfg.write_text('[network]\nconcepts = ["runaway"]\nrelations = [["runaway", "runaway", "link", 3.0]]\n'
                   '[model]\ntransfer = "linear"\ninitial = 1.0\n[run]\nt_end = 2000.0\n')
    code, out, err = cli(capsys, "run", cfg, "--out", tmp_path / "boom.nc")
    assert code == 1
    assert err.startswith("thoughtfield run: run failed: activation of concept 'runaway' became non-finite")
    assert "Traceback" not in err and not (tmp_path / "boom.nc").exists()


# ------------------------------------------------------------------ the real command
def test_subprocess_quickstart_run_plot_and_heatmap(tmp_path, capsys, monkeypatch):
    r = run_cmd("run", QUICKSTART, "--out", "X.nc", "--plot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "most active at t = 40: work" in r.stdout
    ds = tf.load_result(tmp_path / "X.nc")
    assert ds.activation.dims == ("time", "concept") and ds.sizes["concept"] == 21
    assert np.isfinite(ds.activation.values).all()
    for kind in ("overview", "layers", "heatmap", "network"):
        assert (tmp_path / f"X_{kind}.png").stat().st_size > 10_000
    monkeypatch.chdir(tmp_path)  # the follow-up command in-process (saves a start-up)
    code, out, err = cli(capsys, "plot", "X.nc", "--kind", "heatmap", "--out", "h.png")
    assert code == 0 and out == "wrote h.png\n", err
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_subprocess_bad_input_and_divergence_exit_codes(tmp_path):
    (tmp_path / "bad.toml").write_text(tiny(**{"rtol = 1e-6": "rtol = -0.001"}))
    r = run_cmd("run", "bad.toml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == "thoughtfield run: error: bad.toml:24: solver.rtol: must be > 0 (got -0.001)\n"
    (tmp_path / "boom.toml").write_text(
        '[network]\nconcepts = ["x"]\nrelations = [["x", "x", "link", 3.0]]\n'
        '[model]\ntransfer = "linear"\ninitial = 1.0\n[solver]\nmethod = "euler"\ndt = 0.5\n'
        '[run]\nt_end = 2000.0\n')
    r = run_cmd("run", "boom.toml", "--quiet", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "run failed: activation of concept 'x' became non-finite" in r.stderr


# ------------------------------------------------------------------ progress
def test_progress_bar_follows_simulated_time():
    import io
    # the bar moves once per chunk, and a chunk never ends inside a step (a dopri5 step that
    # spans several save times fills them all): max_step keeps the steps shorter than the
    # save interval so that there are ~100 chunks
    sim = tf.load_config(tiny(), overrides=["solver.max_step=0.02"]).simulation()
    buf = io.StringIO()
    ds = sim.run(progress={"file": buf, "delay": 0, "mininterval": 0})
    text = buf.getvalue()
    assert "simulating:" in text and "t = 5/5" in text and "100%" in text
    assert text.count("\r") >= 50  # about 100 updates over the run, not one at the end
    assert ds.time.values[-1] == 5.0


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(monkeypatch):
    from thoughtfield.cli._common import progress_options
    assert progress_options(quiet=True) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_options(quiet=False) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    opts = progress_options(quiet=False)
    assert opts["delay"] == 1.0 and opts["file"] is sys.stderr


def test_run_plot_writes_an_animation_listed_in_the_output_plots(tmp_path, capsys):
    from PIL import Image
    cfg = tmp_path / "anim.toml"
    cfg.write_text(TINY + '\n[output]\nplots = ["trajectories", "animation"]\n'
                   'plot_format = "svg"\n')
    out = tmp_path / "anim.nc"
    code, stdout, err = cli(capsys, "run", cfg, "--out", out, "--plot", "--quiet")
    assert code == 0, err
    gif = tmp_path / "anim_animation.gif"            # a GIF whatever the figure format
    assert (tmp_path / "anim_trajectories.svg").exists() and gif.exists()
    with Image.open(gif) as im:
        assert 2 <= im.n_frames <= 60
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY + '\n[output]\nplots = ["animaton"]\n')
    code, _, err = cli(capsys, "validate", bad)
    assert code == 2 and "output.plots" in err and "animation" in err
