"""``thoughtfield attractors`` and ``thoughtfield explain``, and the [attractors] section."""

from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOLIDAY = ROOT / "simulations" / "holiday_ideas.toml"

SWITCH = """\
seed = 1
[network]
concepts = ["left", "right"]
relations = [["left", "right", "contradicts", 2.0]]
[model]
transfer = "sigmoid"
gain = 5.0
bias = 1.0
[run]
t_end = 10.0
"""


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_attractors_command_prints_the_table_and_writes_the_catalogue(tmp_path, capsys):
    out = tmp_path / "cat.nc"
    code, text, err = cli(capsys, "attractors", HOLIDAY, "--samples", 80, "--out", out, "--plot")
    assert code == 0, err
    assert "[summer]" in text and "[winter]" in text and "saddle" in text
    ds = tf.load_result(out)
    assert set(ds.idea.values.tolist()) >= {"summer", "winter"}
    assert ds.attrs["samples"] == 80 and ds.attrs["seed"] == 3          # the config's seed
    assert "config" in ds.attrs and ds.sizes["concept"] == 10
    assert (tmp_path / "cat_basins.png").stat().st_size > 1000
    # the same catalogue from Python
    cfg = tf.load_config(HOLIDAY)
    py = tf.attractors(cfg.network, cfg.model, cfg.attractors, seed=3, samples=80)
    assert np.array_equal(py.basin_count.values, ds.basin_count.values)
    # thoughtfield info describes a catalogue
    code, info, err = cli(capsys, "info", out)
    assert code == 0, err
    assert "dims: attractor" in info and "[summer]" in info and "seed 3" in info
    # a named figure file
    code, _, err = cli(capsys, "attractors", HOLIDAY, "--samples", 10, "--out", tmp_path / "c2.nc",
                       "--plot", tmp_path / "b.svg")
    assert code == 0 and (tmp_path / "b.svg").exists()
    code, _, err = cli(capsys, "attractors", HOLIDAY, "--samples", 10, "--out", tmp_path / "c3.nc",
                       "--plot", tmp_path / "b.txt")
    assert code == 2 and "--plot: " in err
    # an existing file is kept without --force
    code, _, err = cli(capsys, "attractors", HOLIDAY, "--samples", 10, "--out", out)
    assert code == 2 and "exists; pass --force" in err


def test_attractors_of_a_config_without_the_section(tmp_path, capsys):
    cfg = tmp_path / "switch.toml"
    cfg.write_text(SWITCH)
    code, text, err = cli(capsys, "attractors", cfg, "--samples", 40, "--saddles",
                          "--out", tmp_path / "s.nc")
    assert code == 0, err
    ds = tf.load_result(tmp_path / "s.nc")
    assert sorted(ds.stability.values.tolist()) == ["saddle", "stable", "stable"]
    assert "{left}" in text and "{right}" in text


def test_attractors_with_inputs_frozen_at_a_time(tmp_path, capsys):
    cfg = tmp_path / "switch.toml"
    cfg.write_text(SWITCH + '[[stimuli]]\nkind = "pulse"\nconcept = "left"\nstart = 2.0\n'
                            'stop = 4.0\namplitude = 3.0\n')
    code, text, err = cli(capsys, "attractors", cfg, "--samples", 30, "--inputs-at", 3.0,
                          "--out", tmp_path / "a.nc")
    assert code == 0, err
    assert tf.load_result(tmp_path / "a.nc").label.values.tolist() == ["{left}"]
    code, text, err = cli(capsys, "attractors", cfg, "--samples", 30, "--out", tmp_path / "b.nc")
    assert code == 0 and len(tf.load_result(tmp_path / "b.nc").label) == 2


@pytest.mark.parametrize("extra,argv,match", [
    ("[attractors]\nsamples = 0\n", [], r"switch.toml:\d+: attractors.samples: must be >= 1"),
    ("[attractors]\nideas = { a = [\"lefft\"] }\n", [],
     r"attractors.ideas.a\[0\]: unknown concept 'lefft' \(did you mean 'left'\?\)"),
    ("[attractors]\nbox = [1.0, 0.0]\n", [], r"attractors.box: high must be > low"),
    ("[attractors]\nsamles = 5\n", [], r"attractors.samles: unknown key 'samles' \(did you mean 'samples'\?\)"),
    ("[attractors]\ninputs_at = 50.0\n", [], r"attractors.inputs_at: 50 is outside the run \[0, 10\]"),
    ("", ["--samples", "0"], r"--samples: must be >= 1"),
    ("", ["--set", "attractors.match=2.0"], r"attractors.match: must be <= 1"),
])
def test_attractors_command_errors(tmp_path, capsys, extra, argv, match):
    cfg = tmp_path / "switch.toml"
    cfg.write_text(SWITCH + extra)
    code, _, err = cli(capsys, "attractors", cfg, "--out", tmp_path / "x.nc", *argv)
    assert code == 2
    import re
    assert re.search(match, err), err
    assert "Traceback" not in err


def test_attractors_refuses_the_discrete_mode(tmp_path, capsys):
    cfg = tmp_path / "d.toml"
    cfg.write_text(SWITCH.replace("contradicts", "association").replace("[run]", '[solver]\nmethod = "spreadr"\n[run]'))
    code, _, err = cli(capsys, "attractors", cfg, "--out", tmp_path / "x.nc")
    assert code == 2 and "attractors analyse the continuous dynamics" in err


def test_explain_command_on_a_config_and_on_a_result(tmp_path, capsys):
    code, text, err = cli(capsys, "explain", HOLIDAY, "--target", "summer_holiday",
                          "--plot", tmp_path / "why.png")
    assert code == 0, err
    assert "sun -[association" in text and "-> summer_holiday" in text
    assert (tmp_path / "why.png").stat().st_size > 1000
    res = tmp_path / "h.nc"
    assert cli(capsys, "run", HOLIDAY, "--out", res, "--quiet")[0] == 0
    code, text2, err = cli(capsys, "explain", res, "--target", "summer_holiday", "--method", "widest",
                           "--flows", 3)
    assert code == 0, err
    assert "bottleneck flow" in text2 and text2.count("\n") < text.count("\n")
    code, _, err = cli(capsys, "explain", res, "--target", "sumer_holiday")
    assert code == 2 and "did you mean 'summer_holiday'" in err
    code, _, err = cli(capsys, "explain", res, "--set", "run.t_end=3")
    assert code == 2 and "--set: applies to configs" in err
    code, _, err = cli(capsys, "explain", res, "--plot", tmp_path / "why.txt")
    assert code == 2 and "--plot: " in err


def test_energy_and_explanation_plot_kinds(tmp_path, capsys):
    res = tmp_path / "h.nc"
    assert cli(capsys, "run", HOLIDAY, "--out", res, "--quiet")[0] == 0
    code, _, err = cli(capsys, "plot", res, "--kind", "energy", "explanation", "--out", tmp_path / "f.png")
    assert code == 0, err
    assert (tmp_path / "f_energy.png").exists() and (tmp_path / "f_explanation.png").exists()
