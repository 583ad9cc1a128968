"""Structured fields of thoughtfield errors (location, within()) and their travel between
processes: dask workers send errors back pickled, so every error class of the package
survives a pickle round trip with its class, message and fields."""

import pickle

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.analysis import AnalysisError, FixedPointError
from thoughtfield.errors import ConfigError, DivergenceError, NetworkError


def test_fields_and_str():
    e = ConfigError("model.tau: must be > 0 (got -1)", key="model.tau")
    assert e.message == "model.tau: must be > 0 (got -1)"
    assert e.key == "model.tau" and e.source is None and e.line is None
    assert str(e) == "model.tau: must be > 0 (got -1)"


def test_within_adds_location_without_touching_the_original():
    e = NetworkError("network.concepts[3].name: duplicate concept 'a'")
    located = e.within(where="net.toml:7", source="net.toml", line=7)
    assert type(located) is NetworkError
    assert str(located) == "net.toml:7: network.concepts[3].name: duplicate concept 'a'"
    assert (located.source, located.line, located.where) == ("net.toml", 7, "net.toml:7")
    assert str(e) == "network.concepts[3].name: duplicate concept 'a'"
    again = located.within(key="network.concepts[3].name")
    assert again.line == 7 and again.key == "network.concepts[3].name"


@pytest.mark.parametrize("err", [
    ConfigError("model.tau: bad", key="model.tau").within(where="a.toml:2", source="a.toml",
                                                         line=2),
    DivergenceError("blew up", time=1.5, concept="x", status="nan"),
])
def test_pickle_round_trip(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert vars(back) == vars(err)


def test_config_file_error_is_located(tmp_path):
    from thoughtfield.config import load_config
    path = tmp_path / "run.toml"
    path.write_text('[network]\nconcepts = ["a", "b"]\n\n[model]\ntau = -1\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert (err.key, err.line, err.where) == ("model.tau", 5, f"{path}:5")
    assert err.message == "model.tau: must be > 0 (got -1)"
    assert str(err) == f"{path}:5: model.tau: must be > 0 (got -1)"


CASES = [
    tf.ConfigError("model.tau: must be > 0 (got -1)"),
    tf.NetworkError("duplicate concept 'a'"),
    tf.ResourceError("needs 9 GB"),
    tf.CheckpointError("truncated"),
    tf.SimulationError("failed", time=1.5, concept="a", status="x"),
    tf.DivergenceError("non-finite", time=2.0, concept="b", status="diverged"),
    tf.SolverError("step size collapsed", time=0.1, status="step_size"),
    AnalysisError("no attractor"),
    FixedPointError("Newton did not converge", residual=0.25, iterations=7,
                    state=np.array([0.1, 0.2])),
    tf.Interrupted("interrupted at t = 3", checkpoint="run.checkpoint", signum=2, time=3.0),
]


@pytest.mark.parametrize("err", CASES, ids=[type(e).__name__ for e in CASES])
def test_errors_survive_pickling(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    for k, v in vars(err).items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(back, k), v)
        else:
            assert getattr(back, k) == v, k


def test_under_shows_the_error_under_an_outer_key():
    e = ConfigError("tau: must be > 0 (got -1)", key="tau")
    m = e.under("model")
    assert str(m) == "model.tau: must be > 0 (got -1)" and m.key == "model.tau"
    assert m.message == e.message == "tau: must be > 0 (got -1)"   # the text is kept
    assert str(m.under("model")) == str(m)                          # already under it
    el = ConfigError("[2].rate: must be > 0", key="[2].rate").under("model.choices")
    assert str(el) == "model.choices[2].rate: must be > 0" and el.key == "model.choices[2].rate"
    assert ConfigError("gain: bad").under("model").key is None     # no key given, none made up


def test_at_and_hinted_compose_locations_and_advice():
    e = ConfigError("not a TOML value: [1, (nested)", hint="; quote strings")
    a = e.at("--set x=[1,").at("sweep point 3")
    assert str(a) == "sweep point 3: --set x=[1,: not a TOML value: [1, (nested); quote strings"
    b = NetworkError("bad row").at("edges.csv line 4", source="edges.csv", line=4)
    assert (b.where, b.source, b.line) == ("edges.csv line 4", "edges.csv", 4)
    c = ConfigError("w: must be finite").at("edges.csv line 2", cls=NetworkError)
    assert type(c) is NetworkError and str(c) == "edges.csv line 2: w: must be finite"
    h = e.hinted("; or drop it")
    assert h.hint == "; quote strings; or drop it" and e.hint == "; quote strings"
    back = pickle.loads(pickle.dumps(a.under("run")))
    assert str(back) == str(a.under("run")) and vars(back) == vars(a.under("run"))


def test_simulation_error_keeps_its_fields_when_located():
    e = DivergenceError("non-finite at t = 2", time=2.0, concept="b", status="diverged")
    a = e.at("sweep point 1 (x = 2)")
    assert type(a) is DivergenceError and (a.time, a.concept, a.status) == (2.0, "b", "diverged")
    assert str(a) == "sweep point 1 (x = 2): non-finite at t = 2"


def test_edge_list_errors_name_the_file_line_as_fields(tmp_path):
    (tmp_path / "concepts.csv").write_text("name\na\n")
    (tmp_path / "edges.csv").write_text("source,target\na,a\na,zz\n")
    with pytest.raises(NetworkError) as info:
        tf.ConceptNetwork.from_csv(tmp_path / "edges.csv", tmp_path / "concepts.csv")
    err = info.value
    assert (err.source, err.line) == (str(tmp_path / "edges.csv"), 3)
    assert str(err) == (f"{tmp_path / 'edges.csv'} line 3: ('a' -> 'zz'): unknown concept "
                        f"'zz'; add it to {tmp_path / 'concepts.csv'} first")


def test_toml_syntax_errors_carry_the_line(tmp_path):
    from thoughtfield.config import load_config
    path = tmp_path / "bad.toml"
    path.write_text('[run]\nt_end = 5\nseed = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert (err.source, err.line) == (str(path), 3)
    assert err.where.startswith(f"{path}:3:") and err.message.startswith("invalid TOML: ")
    assert str(err) == f"{err.where}: {err.message}"


def test_an_override_of_a_missing_key_is_an_override_key_error():
    from thoughtfield.config import OverrideKeyError, load_config
    cfg = load_config('[network]\nconcepts = ["a", "b"]\n[run]\nt_end = 1.0\n')
    with pytest.raises(OverrideKeyError) as info:
        cfg.with_overrides(["model.gian=2"])
    err = info.value
    assert isinstance(err, ConfigError) and err.where == "--set model.gian=2"
    assert str(err).startswith("--set model.gian=2: model.gian: unknown key 'gian'")
    with pytest.raises(ConfigError) as info:      # a bad value is not a key error
        cfg.with_overrides(["model.tau=-1"])
    assert not isinstance(info.value, OverrideKeyError)


def test_a_bad_row_of_a_network_file_is_located_by_fields(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("source,target,weight\na,b,1\nb,c,heavy\n")
    with pytest.raises(NetworkError) as info:
        tf.ConceptNetwork.from_csv(path)
    err = info.value
    assert (err.where, err.source, err.line) == (f"{path} line 3", str(path), 3)
    assert err.message == "weight: must be a number (got 'heavy')"
    assert str(err) == f"{path} line 3: weight: must be a number (got 'heavy')"
