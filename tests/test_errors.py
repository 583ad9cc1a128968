"""Structured fields of thoughtfield errors: location, pickling, within()."""

import pickle

import pytest

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
