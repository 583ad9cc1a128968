"""``thoughtfield plot`` (issue 14): one sweep point (--sel, --point), attractor
catalogues, and replacing only the figures thoughtfield drew from the same result."""

from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main
from thoughtfield.cli._common import figure_provenance, figure_source, own_figure
from thoughtfield.cli.plot import select

from _configs import TINY

ROOT = Path(__file__).resolve().parents[1]
SIMS = ROOT / "simulations"
QUICKSTART = ROOT / "simulations" / "quickstart.toml"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sweep_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    (d / "tiny.toml").write_text(TINY)
    out = d / "sw.nc"
    assert main(["sweep", str(d / "tiny.toml"), "--out", str(out), "--grid", "model.gain=[2,4,8]",
                 "--grid", "model.threshold=[0.4,0.5]", "--workers", "1", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    out = tmp_path_factory.mktemp("att") / "switch_att.nc"
    assert main(["attractors", str(ROOT / "simulations" / "switch.toml"), "--samples", "40",
                 "--out", str(out), "--quiet"]) == 0
    return out


# ------------------------------------------------------------------ the documented sequence
def test_run_plot_then_plot_replaces_only_its_own_figures(tmp_path, capsys, monkeypatch):
    """README set-up command, then 'thoughtfield plot quickstart.nc' (exited 2 before)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", QUICKSTART, "--out", "quickstart.nc", "--plot", "--quiet")
    assert code == 0, err
    before = (tmp_path / "quickstart_heatmap.png").read_bytes()
    overview = (tmp_path / "quickstart_overview.png").read_bytes()
    assert figure_provenance(str(tmp_path / "quickstart_heatmap.png")) == {
        "software": "thoughtfield", "source": "quickstart.nc"}
    code, out, err = cli(capsys, "plot", "quickstart.nc")
    assert code == 0, err
    assert "wrote quickstart_trajectories.png" in out and "wrote quickstart_heatmap.png" in out
    assert (tmp_path / "quickstart_heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "quickstart_heatmap.png").read_bytes() == before   # drawn again, same
    assert (tmp_path / "quickstart_overview.png").read_bytes() == overview  # not touched
    # a file thoughtfield did not draw is kept; the message says --force and --out
    (tmp_path / "quickstart_network.png").write_bytes(b"my own drawing")
    code, _, err = cli(capsys, "plot", "quickstart.nc")
    assert code == 2
    assert "quickstart_network.png: exists; pass --force to overwrite it, or --out" in err
    assert (tmp_path / "quickstart_network.png").read_bytes() == b"my own drawing"
    # ... and so is a figure drawn from another result
    (tmp_path / "quickstart_network.png").unlink()
    (tmp_path / "other.nc").write_bytes((tmp_path / "quickstart.nc").read_bytes())
    code, _, err = cli(capsys, "plot", "other.nc", "--kind", "heatmap", "--out",
                       "quickstart_heatmap.png")
    assert code == 2 and "--force" in err and "--out" in err
    code, _, err = cli(capsys, "plot", "other.nc", "--kind", "heatmap", "--out",
                       "quickstart_heatmap.png", "--force")
    assert code == 0, err
    assert figure_provenance("quickstart_heatmap.png")["source"] == "other.nc"


def test_run_still_refuses_existing_figures_with_a_hint_naming_out(tmp_path, capsys):
    cfg = tmp_path / "t.toml"
    cfg.write_text(TINY)
    (tmp_path / "r_heatmap.png").write_bytes(b"x")
    code, _, err = cli(capsys, "run", cfg, "--out", tmp_path / "r.nc", "--plot")
    assert code == 2 and "pass --force to overwrite it, or --out" in err


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_figures_carry_their_provenance(tmp_path, capsys, ext):
    ds = tf.run_config(TINY)
    res = tmp_path / "res" / "r.nc"
    tf.save_result(ds, res)
    fig = tmp_path / "figs" / f"h.{ext}"
    code, _, err = cli(capsys, "plot", res, "--kind", "heatmap", "--out", fig)
    assert code == 0, err
    info = figure_provenance(str(fig))
    assert info["software"].startswith("thoughtfield") and info["source"] == "../res/r.nc"
    assert own_figure(str(res))(str(fig))
    assert not own_figure(str(tmp_path / "r.nc"))(str(fig))
    code, _, err = cli(capsys, "plot", res, "--kind", "heatmap", "--out", fig)
    assert code == 0, err          # its own figure: drawn again


def test_figure_source_is_relative_to_the_figure():
    assert figure_source("/a/b/r.nc", "/a/b/r_heatmap.png") == "r.nc"
    assert figure_source("/a/r.nc", "/a/figs/x.png") == "../r.nc"
    assert figure_provenance("/nonexistent.png") == {}


# ------------------------------------------------------------------ sweep points
def test_sel_picks_one_sweep_point_exactly(sweep_result):
    ds = tf.load_result(sweep_result)
    dims = [d for d in ds.activation.dims if d not in ("member", "time", "concept")]
    assert len(dims) == 2
    gain, thr = dims
    one, tag = select(ds, [f"{gain}=4", f"{thr}=0.5"], None)
    np.testing.assert_array_equal(one.activation.values,
                                  ds.activation.sel({gain: 4.0, thr: 0.5}).values)
    assert tag == f"{gain}=4_{thr}=0.5"
    # values equal up to rounding select the same point, with the same file-name tag
    again, tag2 = select(ds, [f"{gain}=4.000", f"{thr}=0.49999999999999994"], None)
    np.testing.assert_array_equal(again.activation.values, one.activation.values)
    assert tag2 == tag
    # the swept key works too (a coordinate along the dimension)
    same, _ = select(ds, ["model.gain=4", "model.threshold=0.5"], None)
    np.testing.assert_array_equal(same.activation.values, one.activation.values)
    # --point N: row-major over the sweep dimensions, as 'sweep --point'
    p, tag = select(ds, [], 3)
    np.testing.assert_array_equal(p.activation.values,
                                  ds.activation.isel({gain: 1, thr: 1}).values)
    assert tag == "point3"


@pytest.mark.parametrize("sel, point, message", [
    (["model.gain=3"], None, r"no point has model.gain = 3 \(up to rounding\); the values of model.gain "
                             r"are 2, 4, 8"),
    (["model.gian=4"], None, r"'model.gian' is not a sweep dimension of the result; its "
                             r"sweep dimensions are .*did you mean 'model.gain'"),
    (["model.gain"], None, r"expected DIM=VALUE"),
    (["model.gain=4", "model.gain=8"], None, r"selected twice"),
    ([], 6, r"--point: must be <= 5 \(got 6\); the sweep has 6 points"),
    (["model.gain=4"], 1, r"either --point or --sel"),
])
def test_sel_and_point_errors_name_the_dimension_and_its_values(sweep_result, sel, point,
                                                                message):
    ds = tf.load_result(sweep_result)
    with pytest.raises(tf.ConfigError, match=message):
        select(ds, sel, point)


def test_plot_sel_and_point_on_the_command_line(sweep_result, tmp_path, capsys):
    res = tmp_path / "sw.nc"
    res.write_bytes(Path(sweep_result).read_bytes())
    code, out, err = cli(capsys, "plot", res, "--sel", "model.gain=4", "--sel",
                         "model.threshold=0.5", "--kind", "trajectories")
    assert code == 0, err
    assert (tmp_path / "sw_model.gain=4_model.threshold=0.5_trajectories.png").exists()
    code, out, err = cli(capsys, "plot", res, "--point", "2", "--kind", "heatmap", "--out",
                         tmp_path / "p2.png")
    assert code == 0, err
    assert (tmp_path / "p2.png").exists()
    code, out, err = cli(capsys, "plot", res)          # a sweep: the sweep figure
    assert code == 0, err
    assert (tmp_path / "sw_sweep.png").exists()
    code, _, err = cli(capsys, "plot", res, "--sel", "model.gain=5")
    assert code == 2 and "the values of model.gain are 2, 4, 8" in err
    code, _, err = cli(capsys, "plot", res, "--kind", "trajectories")
    assert code == 2 and "--sel" in err and "--point" in err


def test_sel_on_a_result_that_is_not_a_sweep(tmp_path):
    ds = tf.run_config(TINY)
    with pytest.raises(tf.ConfigError, match="its sweep dimensions are none"):
        select(ds, ["model.gain=4"], None)
    with pytest.raises(tf.ConfigError, match="--point: the result is not a sweep"):
        select(ds, [], 0)


# ------------------------------------------------------------------ attractor catalogues
def test_plot_an_attractor_catalogue(catalogue, tmp_path, capsys):
    res = tmp_path / "switch_att.nc"
    res.write_bytes(Path(catalogue).read_bytes())
    code, out, err = cli(capsys, "plot", res)     # was: "the result is a sweep over attractor"
    assert code == 0, err
    assert (tmp_path / "switch_att_basins.png").exists()
    code, out, err = cli(capsys, "plot", res, "--sel", "attractor=0")
    assert code == 0, err
    assert (tmp_path / "switch_att_attractor=0_network.png").exists()
    code, _, err = cli(capsys, "plot", res, "--kind", "trajectories")
    assert code == 2 and "attractor catalogue" in err and "--sel attractor=K" in err
    n = tf.load_result(res).sizes["attractor"]
    code, _, err = cli(capsys, "plot", res, "--sel", f"attractor={n}")
    assert code == 2 and "the values of attractor are 0" in err


def test_results_without_time_or_with_trials_get_their_own_kinds(tmp_path, capsys):
    """Kinds that need a time course end in a one-line error naming the kinds that fit
    (they were internal errors); a protocol result plots as trials and conditions."""
    from thoughtfield.cli import main
    sw = tmp_path / "sw.nc"
    assert main(["attractors", str(SIMS / "switch.toml"), "--out", str(sw), "--quiet"]) == 0
    capsys.readouterr()
    for argv, says in [(["--kind", "trajectories"], "--plot it with --kind basins"),
                       (["--kind", "layer_summary"], "--kind basins"),
                       (["--sel", "attractor=0", "--kind", "heatmap"], "plot it with --kind network"),
                       (["--sel", "attractor=0", "--kind", "basins"], "plot it with --kind network")]:
        says = says.lstrip("-")
        assert main(["plot", str(sw), *argv, "--out", str(tmp_path / "x.png")]) == 2, argv
        err = capsys.readouterr().err
        assert says in err and "internal error" not in err, (argv, err)
    ca = tmp_path / "ca.nc"
    assert main(["run", str(SIMS / "conflict_adaptation.toml"), "--out", str(ca), "--quiet"]) == 0
    assert main(["plot", str(ca)]) == 0
    assert (tmp_path / "ca_trials.png").exists() and (tmp_path / "ca_conditions.png").exists()
