"""Every error located in a config carries its key as a field (``err.key``), given where it
was raised: the loader finds the key's line from that field alone, never by reading the key
back out of the message text (there is no such fallback any more).

The cases are the invalid configs of the config tests themselves (tests/test_config.py,
tests/test_mechanisms_validation.py), whose messages those tests check; here every error
that reaches the locating step is recorded and its key checked, and a few cases whose
message describes rather than names the key (a relation's column, a row of a start-run
file, an idea) are checked for the exact key.
"""

from __future__ import annotations

import textwrap

import pytest

import test_config
import test_mechanisms_validation
import thoughtfield as tf
from _configs import tiny
from thoughtfield import _toml, config


def _cases_of(test) -> list:
    """The parameter sets of a parametrized test function."""
    return [m for m in test.pytestmark if m.name == "parametrize"][0].args[1]


def _recording(monkeypatch) -> list:
    """Record every error that reaches the loader's locating step (``config._located``)."""
    seen = []
    real = config._located

    def spy(e, lines, source, overridden):
        located = real(e, lines, source, overridden)
        seen.append((e, located, lines))
        return located

    monkeypatch.setattr(config, "_located", spy)
    return seen


def _is_key_path(key) -> bool:
    """``key`` is a plain key path (``a.b[2]."c d"``), with no description after it."""
    if not isinstance(key, str) or not key:
        return False
    parts = _toml.split_path(key)
    joined = ""
    for p in parts:
        joined = _toml.join_path(joined, p)
    return joined == key


def test_every_located_config_error_carries_its_key(monkeypatch, tmp_path):
    assert not hasattr(config, "_key_path")   # the text-parsing fallback is gone
    seen = _recording(monkeypatch)
    loads = [(tiny(**repl), None) for repl, _ in test_config.ERRORS]
    loads += [(tiny(), [ov]) for ov, _ in _cases_of(test_config.test_override_errors)]
    base = textwrap.dedent(test_mechanisms_validation.BASE)
    loads += [(base + extra, None)
              for extra, _ in _cases_of(test_mechanisms_validation.test_config_section_errors)]
    before = 0   # errors raised before the data is checked: parsing, applying a --set
    for text, overrides in loads:
        n = len(seen)
        with pytest.raises(tf.ConfigError) as info:
            tf.load_config(text, overrides=overrides)
        if len(seen) == n:
            err = info.value
            assert "invalid TOML" in str(err) or str(err).startswith("--set "), str(err)
            before += 1
        else:
            assert str(seen[-1][1]) == str(info.value)   # the located error is the one raised
    assert len(seen) + before == len(loads) and len(seen) >= 75
    for raised, located, lines in seen:
        assert _is_key_path(raised.key), (raised.key, str(raised))
        assert located.key == raised.key
        if located.line is not None:   # the line is the key's, found from the field
            assert located.line == _toml.line_of(lines, raised.key)


@pytest.mark.parametrize("text, key, message", [
    # a relation's column is described in the message, its key is the array element
    ('[network]\nrelations = [["a", "b", "association", "heavy"]]\n',
     "network.relations[0][3]", "network.relations[0][3] (weight): must be a number"),
    ('[network]\nconcepts = ["a", "b"]\nrelations = [["a", "b", "assocation"]]\n',
     "network.relations[0]", "network.relations[0] ('a' -> 'b'): type: unknown relation type"),
    # an idea is named in the message; its key is where the config defines it
    ('[network]\nconcepts = ["a", "b"]\n[ideas]\nsets = { i = ["a", "moon"] }\n',
     "ideas.sets.i", "idea 'i'.concepts[1]: unknown concept 'moon'"),
    ('[network]\nconcepts = ["a", "b"]\n[ideas]\nsets = { i = ["a", "moon"] }\n'
     'cue = { idea = "i" }\n', "ideas.sets.i", "idea 'i'.concepts[1]: unknown concept 'moon'"),
    ('[network]\nconcepts = ["a", "b"]\n[ideas]\npatterns = { p = [1.0, 0.5, 1.0] }\n',
     "ideas.patterns.p", "idea 'p'.pattern: has 3 values but the network has 2 concepts"),
])
def test_described_keys_are_the_config_keys(text, key, message):
    with pytest.raises(tf.ConfigError) as info:
        tf.load_config(text + "[run]\nt_end = 2\n")
    err = info.value
    assert err.key == key and message in str(err)
    lines = _toml.key_lines(text)
    assert err.line == _toml.line_of(lines, key) and err.line is not None


def test_a_start_run_row_is_keyed_by_its_file(tmp_path):
    (tmp_path / "edges.csv").write_text("source,target\na,b\n")
    (tmp_path / "unknown.csv").write_text("node,activation\nzz,1\n")
    text = ('[network]\nfile = "edges.csv"\n[[stimuli]]\nfile = "unknown.csv"\n'
            '[solver]\nmethod = "spreadr"\n[run]\nt_end = 2\n')
    with pytest.raises(tf.ConfigError) as info:
        tf.load_config(text, base_dir=tmp_path)
    err = info.value
    assert "stimuli[0].file (unknown.csv row 1).concept: unknown concept 'zz'" in str(err)
    assert err.key == "stimuli[0].file" and err.line == 4


def test_locations_are_parts_not_a_composed_string(tmp_path):
    from thoughtfield.errors import ConfigError
    e = ConfigError("x: must be > 0", key="x").at("--set x=-1").at("sweep point 3")
    assert e.locations == ("sweep point 3", "--set x=-1")
    assert e.where == "sweep point 3: --set x=-1"
    assert str(e) == "sweep point 3: --set x=-1: x: must be > 0"
    assert ConfigError("m").where is None
    assert ConfigError("m", where="f.csv line 2").locations == ("f.csv line 2",)
    # a config error of a relation located in its file: the file's line, then nothing more
    path = tmp_path / "c.toml"
    path.write_text('[network]\nconcepts = ["a", "b"]\n'
                    'relations = [["a", "b", "association", "x"]]\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError) as info:
        tf.load_config(path)
    assert info.value.locations == (f"{path}:3",) and info.value.line == 3
    with pytest.raises(tf.ConfigError) as info:
        tf.load_config(path, overrides=["network.relations[0][3]=2", "model.tau=-1"])
    assert info.value.locations == ("--set model.tau=-1",)
    assert str(info.value) == "--set model.tau=-1: model.tau: must be > 0 (got -1)"
