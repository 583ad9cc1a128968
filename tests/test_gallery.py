"""Every config in simulations/ validates and runs; the quickstart does what its comment
says; the README's figure command works."""

import re
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main

ROOT = Path(__file__).resolve().parents[1]
SIMULATIONS = sorted((ROOT / "simulations").rglob("*.toml"))

#: Overrides that keep slow examples short in the test suite (file name -> ["key=value"]).
#: Add an entry when a new example takes more than a few seconds; keep its stimuli inside
#: the shortened horizon.
TEST_OVERRIDES: dict[str, list[str]] = {
    "choice_sweep.toml": ["run.members=40"],
    "goal_choice_sweep.toml": ["run.members=40"],
    "conflict_adaptation.toml": ["protocol.n_trials=16", "run.members=3"],
    "choice_lca.toml": ["run.members=40"],
    "stroop_control.toml": ["run.members=10"],
}


def test_the_gallery_has_the_quickstart():
    assert ROOT / "simulations" / "quickstart.toml" in SIMULATIONS


@pytest.mark.parametrize("path", SIMULATIONS, ids=[p.name for p in SIMULATIONS])
def test_every_simulation_runs(path, capsys):
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    cfg = tf.load_config(path, overrides=TEST_OVERRIDES.get(path.name))
    ds = cfg.run_simulation()
    if "activation" not in ds:   # a protocol that keeps per-trial readouts only
        assert "trial" in ds.dims and "response_time" in ds and ds.sizes["trial"] > 0
    else:
        act = ds["activation"]
        assert "time" in act.dims and "concept" in act.dims
        if "formed_concept" in ds:   # a grown network: NaN only before a concept was formed
            for name, k in zip(ds.formed_concept.values, ds.formed_trial.values):
                formed = act.sel(concept=name)
                assert np.isnan(formed.isel(trial=slice(0, k + 1))).all()
                assert np.isfinite(formed.isel(trial=slice(k + 1, None))).all()
            act = act.drop_sel(concept=ds.formed_concept.values)
        assert np.isfinite(act.values).all()
    assert ds.attrs["status"] in ("success", "steady_state")
    assert ds.attrs["config_path"] == str(path.resolve())
    assert tf.load_config(ds.attrs["config_resolved"], base_dir=path.parent) == cfg


@pytest.fixture(scope="module")
def quickstart():
    return tf.run_config(ROOT / "simulations" / "quickstart.toml")


def test_quickstart_tells_its_story(quickstart):
    a = quickstart.activation
    at = lambda t, c: float(a.sel(time=t, concept=c))  # noqa: E731
    # the images evoke the beach, which climbs the ladder to the goal "relax"
    assert at(5, "beach") > 0.9 and at(5, "holiday") > 0.5
    assert at(14, "relax") > 0.8 > 0.1 > at(14, "get_things_done")
    # the goal outlasts the images that evoked it
    assert at(14, "sun") < 0.1 and at(14, "beach") < 0.2
    # the email and the clock bring work, which suppresses leisure and takes over the goal
    assert at(40, "work") > 0.9 and at(40, "get_things_done") > 0.8
    assert at(40, "leisure") < 0.1 and at(40, "relax") < 0.1


def test_readme_figure_command(quickstart, tmp_path, capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    cmds = re.findall(r"^thoughtfield plot .*--out docs/img/quickstart\.png.*$", readme, flags=re.M)
    assert len(cmds) == 1
    assert "![" in readme and "(docs/img/quickstart.png)" in readme
    assert (ROOT / "docs" / "img" / "quickstart.png").read_bytes()[:4] == b"\x89PNG"
    # the documented command, on a fresh result, writing into a temporary folder
    tf.save_result(quickstart, tmp_path / "quickstart.nc")
    (tmp_path / "docs" / "img").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    argv = cmds[0].split()[1:]
    assert main(argv) == 0, capsys.readouterr().err
    assert (tmp_path / "docs" / "img" / "quickstart.png").stat().st_size > 50_000
