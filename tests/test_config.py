"""Configs: loading, normalisation, round trips, overrides, every validation error,
line numbers, the section registry and the generated reference page."""

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield import _toml, config
from thoughtfield.config import Field, Real, Section, Struct

from _configs import TINY, tiny

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "simulations" / "quickstart.toml"

# ------------------------------------------------------------------ loading
def test_quickstart_builds_every_object():
    cfg = tf.load_config(QUICKSTART)
    net = cfg.network
    assert net.n == 21 and net.n_relations == 25
    assert net.layers == ("image", "idea", "structure", "goal")
    assert net.layer("get_things_done") == "goal"
    assert net.relation_types["evokes"].reverse == 0.2
    # built-in types changed in the config keep their other fields
    assert net.relation_types["is_a"].reverse == 0.3 and net.relation_types["is_a"].sign == 1
    np.testing.assert_array_equal(cfg.model.resolve("tau", net)[[net.index("sun"), net.index("relax")]],
                                  [0.5, 4.0])
    assert [s.concept for s in cfg.stimuli] == ["sun", "waves", "email", "clock"]
    assert cfg.solver.method == "dopri5" and cfg.run.t_end == 40.0 and cfg.run.save_dt == 0.1
    assert cfg.seed == 1 and cfg.title == "Beach or inbox?" and cfg.name == "quickstart"
    assert cfg.output.plots == ("overview", "layers", "heatmap", "network")
    assert cfg.path == str(QUICKSTART) and cfg.base_dir == QUICKSTART.parent


def test_sources_path_text_dict_and_config_agree():
    a = tf.load_config(QUICKSTART)
    b = tf.load_config(str(QUICKSTART))
    c = tf.load_config(QUICKSTART.read_text())
    d = tf.load_config(a.to_dict())
    assert a == b == c == d
    assert tf.load_config(a) is a


def test_defaults_are_filled_in():
    cfg = tf.load_config(tiny())
    d = cfg.to_dict()
    assert d["solver"]["method"] == "dopri5" and d["solver"]["atol"] == 1e-9
    assert d["run"] == {"t_end": 5.0, "t0": 0.0, "members": 1}
    assert d["stimuli"][0] == {"kind": "pulse", "concept": "sun", "start": 0.0, "stop": 2.0,
                               "amplitude": 1.0}
    assert d["output"]["plots"] == ["trajectories", "heatmap", "network"]
    assert d["model"]["transfer"] == "sigmoid"


def test_round_trip_load_dump_load():
    for src in (QUICKSTART, tiny()):
        cfg = tf.load_config(src)
        text = cfg.to_toml()
        again = tf.load_config(text, base_dir=cfg.base_dir)
        assert again == cfg
        assert again.to_toml() == text  # the writer is stable


def test_round_trip_keeps_special_values():
    cfg = tf.load_config(tiny(**{"stop = 2.0": "stop = inf",
                                 'title = "tiny"': 'title = "quote \\" backslash \\\\ tab\\t é"'}))
    assert cfg.stimuli[0].stop == math.inf
    again = tf.load_config(cfg.to_toml())
    assert again == cfg and again.title == 'quote " backslash \\ tab\t é'


@pytest.mark.parametrize("concepts", [
    'concepts = ["sun", ["beach", "idea"], {name = "holiday", layer = "structure"}]',
    'concepts = { sun = "image", beach = "idea", holiday = "structure" }',
    'concepts = { image = ["sun"], idea = ["beach"], structure = ["holiday"] }',
])
def test_concept_spellings_build_the_same_network(concepts):
    ref = tf.load_config(tiny()).network
    text = tiny(**{'[network.concepts]\nimage = ["sun"]\nidea = ["beach"]\nstructure = ["holiday"]\n': ""})
    text = text.replace("[network]\n", "[network]\n" + concepts + "\n")
    assert tf.load_config(text).network == ref


def test_relation_spellings_and_defaults():
    text = tiny(**{'relations = [["sun", "beach", "association", 0.8], ["beach", "holiday", "is_a", 1.0]]':
                   'relations = [{source = "sun", target = "beach", weight = 0.8}, '
                   '["beach", "holiday", "is_a"]]'})
    cfg = tf.load_config(text)
    assert cfg.network == tf.load_config(tiny()).network
    assert cfg.to_dict()["network"]["relations"] == [["sun", "beach", "association", 0.8],
                                                     ["beach", "holiday", "is_a", 1.0]]


def test_relation_type_changes_inherit_builtin_fields():
    text = tiny(**{"[model]": '[network.relation_types.contradicts]\ngain = 2.0\n\n'
                              '[network.relation_types.evokes]\nreverse = 0.25\n\n[model]'})
    types = tf.load_config(text).network.relation_types
    assert types["contradicts"].sign == -1 and types["contradicts"].symmetric and types["contradicts"].gain == 2.0
    assert types["evokes"] == tf.RelationType("evokes", reverse=0.25)


# ------------------------------------------------------------------ network sources
def test_network_from_csv_files_relative_to_the_config(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "edges.csv").write_text("source,target,type,weight\nsun,beach,,0.8\n"
                                                 "beach,holiday,is_a,1\n")
    (tmp_path / "data" / "concepts.csv").write_text("name,layer\nsun,image\nbeach,idea\n"
                                                    "holiday,structure\n")
    p = tmp_path / "sim.toml"
    # the untyped row sun,beach is read as the symmetric association of tiny() on request
    p.write_text('[network]\nfile = "data/edges.csv"\nconcepts_file = "data/concepts.csv"\n'
                 'default_type = "association"\n[run]\nt_end = 1\n')
    assert tf.load_config(p).network == tf.load_config(tiny()).network
    # without default_type an edge list is directed: the untyped row is a link sun -> beach
    p.write_text('[network]\nfile = "data/edges.csv"\nconcepts_file = "data/concepts.csv"\n'
                 '[run]\nt_end = 1\n')
    assert tf.load_config(p).network.relations()[0] == ("sun", "beach", "link", 0.8)
    # without concepts_file the concepts are added as they appear
    p.write_text('[network]\nfile = "data/edges.csv"\n[run]\nt_end = 1\n')
    assert tf.load_config(p).network.concepts == ("sun", "beach", "holiday")


def test_network_from_json_and_graphml(tmp_path):
    net = tf.load_config(QUICKSTART).network
    (tmp_path / "net.json").write_text(json.dumps(net.to_dict()))
    nx.write_graphml(net.to_networkx(), tmp_path / "net.graphml")
    for name in ("net.json", "net.graphml"):
        p = tmp_path / f"{name}.toml"
        p.write_text(f'[network]\nfile = "{name}"\n[run]\nt_end = 1\n')
        assert tf.load_config(p).network == net


def test_network_from_a_registered_dataset(monkeypatch):
    calls = []

    def toy(size=3, layer="idea"):
        calls.append((size, layer))
        return tf.ConceptNetwork([(f"c{i}", layer) for i in range(size)],
                                 [(f"c{i}", f"c{i + 1}") for i in range(size - 1)])

    monkeypatch.setitem(tf.datasets._REGISTRY, "toy", (toy, "a chain"))
    cfg = tf.load_config('[network]\ndataset = "toy"\noptions = { size = 5 }\n'
                         '[network.relation_types.association]\ngain = 0.5\n[run]\nt_end = 1\n')
    assert calls == [(5, "idea")]
    assert cfg.network.n == 5 and cfg.network.relation_types["association"].gain == 0.5
    with pytest.raises(tf.ConfigError, match=r"network.options.sise: unknown option 'sise' of dataset "
                                             r"'toy' \(did you mean 'size'\?\); its options are size, layer"):
        tf.load_config('[network]\ndataset = "toy"\noptions = { sise = 5 }\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError, match=r"network.dataset: unknown dataset 'toi'.*did you mean 'toy'"):
        tf.load_config('[network]\ndataset = "toi"\n[run]\nt_end = 1\n')
    monkeypatch.setitem(tf.datasets._REGISTRY, "broken", (lambda: {"a": 1}, ""))
    with pytest.raises(tf.ConfigError, match="network: dataset 'broken' did not produce a ConceptNetwork"):
        tf.load_config('[network]\ndataset = "broken"\n[run]\nt_end = 1\n')
    monkeypatch.setitem(tf.datasets._REGISTRY, "empty", (lambda: tf.ConceptNetwork(), ""))
    with pytest.raises(tf.ConfigError, match="network: the network from dataset 'empty' has no concepts"):
        tf.load_config('[network]\ndataset = "empty"\n[run]\nt_end = 1\n')


# ------------------------------------------------------------------ validation errors
ERRORS = [
    # (replacements, message regex)
    ({"t_end = 5.0": 't_end = "five"'}, r"<config>:27: run.t_end: must be a number \(got 'five' \(string\)\)"),
    ({"rtol = 1e-6": "rtol = -0.001"}, r"<config>:24: solver.rtol: must be > 0 \(got -0.001\)"),
    ({"rtol = 1e-6": "rtoll = 1e-6"}, r"<config>:24: solver.rtoll: unknown key 'rtoll' \(did you mean 'rtol'\?\)"),
    ({"[solver]": "[sovler]"}, r"<config>:23: sovler: unknown section 'sovler' \(did you mean 'solver'\?\)"),
    ({'title = "tiny"': 'titel = "tiny"'}, r"<config>:1: titel: unknown key 'titel' \(did you mean 'title'\?\)"),
    ({'concept = "sun"': 'concept = "sunn"'}, r"<config>:18: stimuli\[0\].concept: unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ({"tau = 1.0": "tau = -1.0"}, r"<config>:13: model.tau: must be > 0 \(got -1.0\)"),
    ({"tau = 1.0": "tau = { sunn = 2.0 }"}, r"<config>:13: model.tau.sunn: unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    ({"tau = 1.0": 'tau = { "@goals" = 2.0 }'}, r"model.tau.@goals: unknown layer 'goals'.*did you mean 'goal'"),
    ({"tau = 1.0": "tau = [1.0, 2.0]"}, r"model.tau: has 2 values but the network has 3 concepts"),
    ({"tau = 1.0": "tau = [1.0, 0.0, 2.0]"}, r"model.tau\[1\]: must be > 0 \(got 0.0\)"),
    ({"gain = 4.0": 'gain = "high"'}, r"<config>:14: model.gain: must be per-concept float"),
    ({"tau = 1.0": 'transfer = "sigmod"'}, r"model.transfer: must be one of .*\(did you mean 'sigmoid'\?\)"),
    ({"tau = 1.0": "sigma = 0.1"}, r"<config>:23: solver.method: 'dopri5' is deterministic but the model has noise"),
    ({"stop = 2.0": "stop = 0.0"}, r"<config>:20: stimuli\[0\].stop: must be > start \(0\) \(got 0\)"),
    ({"start = 0.0": "start = -1.0"}, r"stimuli\[0\].start: must be >= 0 \(got -1.0\)"),
    ({"amplitude = 1.0": "value = 1.0"}, r"<config>:21: stimuli\[0\].value: not a key of a pulse \(use amplitude, or kind = \"clamp\"\)"),
    ({"amplitude = 1.0": "amplitud = 1.0"}, r"stimuli\[0\].amplitud: unknown key 'amplitud' \(did you mean 'amplitude'\?\)"),
    ({"[[stimuli]]": "[stimuli]"}, r"<config>:17: stimuli: must be an array of tables, written \[\[stimuli\]\]"),
    ({"amplitude = 1.0": "amplitude = 1.0\nmember = 1"}, r"stimuli\[0\].member: 1 but the run has 1 member"),
    ({'concept = "sun"': "concept = 5"}, r"stimuli\[0\].concept: must be a string \(got 5 \(integer\)\)"),
    ({"[run]\nt_end = 5.0\n": ""}, r"^run: missing section \[run\]; add a \[run\] table with t_end"),
    ({"t_end = 5.0": "t0 = 1.0"}, r"<config>:26: run.t_end: missing; set the end of the simulated time span"),
    ({"t_end = 5.0": "t_end = 5.0\nt0 = 6.0"}, r"run.t_end: must be > t0 \(6\) \(got 5\)"),
    ({"t_end = 5.0": "t_end = 5.0\nmembers = 0"}, r"run.members: must be >= 1 \(got 0\)"),
    ({"t_end = 5.0": "t_end = 5.0\nmembers = 2.5"}, r"run.members: must be an integer \(got 2.5 \(float\)\)"),
    ({"t_end = 5.0": "t_end = 5.0\nsave_dt = 1.0\nsave_every = 2"}, r"run.save_every: give only one of save_dt, save_at and save_every"),
    ({"t_end = 5.0": "t_end = 5.0\nsave_at = [9.0]"}, r"run.save_at: time 9 is outside the run \[0, 5\]"),
    ({"t_end = 5.0": "t_end = 5.0\nsave_dt = 1e-12"}, r"run.save_dt: 1e-12 would save 5e\+12 time points"),
    ({"t_end = 5.0": "t_end = 5.0\nsave_every = 2"}, r"run.save_every: needs a fixed-step solver"),
    ({"t_end = 5.0": "t_end = 5.0\nseed = 4"}, r"<config>:28: run.seed: 'seed' is a top-level key; move it above the first \[section\]"),
    ({"t_end = 5.0": "t_end = 1" + "0" * 400}, r"run.t_end: must be finite \(got an integer with 401 digits\)"),
    ({"rtol = 1e-6": 'method = "rk5"'}, r"solver.method: must be one of .*\(got 'rk5'\) \(did you mean 'rk4'\?\)"),
    ({"rtol = 1e-6": 'method = "RK23"'}, r"<config>:\d+: solver.method: 'RK23' is a scipy solve_ivp method that thoughtfield does not have: .*no Bogacki-Shampine.*; use method = 'dopri5'"),
    ({"rtol = 1e-6": "rtol = 1e-20"}, r"solver.rtol: must be >= 1e-13"),
    ({"rtol = 1e-6": 'method = "euler_maruyama"\nsteady_tol = 1e-3'}, r"solver.steady_tol: an early stop at steady state is not defined"),
    ({'image = ["sun"]': 'image = ["sun", "beach"]'}, r"<config>:9: network.concepts.idea\[0\]: duplicate concept 'beach' \(already listed as network.concepts.image\[1\]\)"),
    ({'image = ["sun"]': 'imag = ["sun"]'}, r"<config>:8: network.concepts.imag\[0\]: unknown layer 'imag'; the layers are image, idea, structure, goal \(did you mean 'image'\?\)"),
    ({'image = ["sun"]': 'image = ["sun", ""]'}, r"network.concepts.image\[1\]: must be a non-empty name"),
    ({'image = ["sun"]': 'image = "sun"'}, r"network.concepts: a table of concepts maps either layer = \[names\] or name = \"layer\""),
    ({'["sun", "beach", "association", 0.8]': '["sun", "beech", "association", 0.8]'},
     r"<config>:5: network.relations\[0\] \('sun' -> 'beech'\): unknown concept 'beech' \(did you mean 'beach'\?\)"),
    ({'["sun", "beach", "association", 0.8]': '["sun", "beach", "asociation", 0.8]'},
     r"network.relations\[0\] \('sun' -> 'beach'\): type: unknown relation type 'asociation'.*did you mean 'association'.*\[network.relation_types.NAME\]"),
    ({'["sun", "beach", "association", 0.8]': '["sun", "beach", "association", "strong"]'},
     r"network.relations\[0\]\[3\] \(weight\): must be a number \(got 'strong' \(string\)\)"),
    ({'["sun", "beach", "association", 0.8]': '["sun"]'}, r"network.relations\[0\]: expected \[source, target, type, weight\]"),
    ({'["sun", "beach", "association", 0.8]': '{source = "sun", target = "beach", wieght = 1}'},
     r"network.relations\[0\].wieght: unknown key 'wieght' \(did you mean 'weight'\?\)"),
    ({"[model]": "[network.relation_types.evokes]\nsign = 0\n[model]"}, r"network.relation_types.evokes.sign: must be \+1 or -1 \(got 0\)"),
    ({"[model]": "[network.relation_types.evokes]\nsing = 1\n[model]"}, r"network.relation_types.evokes.sing: unknown key 'sing' \(did you mean 'sign'\?\)"),
    ({"[network]": '[network]\nfile = "edges.csv"'}, r"<config>:5: network.file: give only one of concepts, file and dataset"),
    ({"[network]": '[network]\noptions = { size = 2 }'}, r"network.options: only together with network.dataset"),
    ({'[network.concepts]\nimage = ["sun"]\nidea = ["beach"]\nstructure = ["holiday"]\n': ""},
     r"network.concepts: missing; list the concepts \(with their layers\) used by network.relations"),
    ({'relations = [["sun", "beach", "association", 0.8], ["beach", "holiday", "is_a", 1.0]]\n': "",
      'image = ["sun"]\nidea = ["beach"]\nstructure = ["holiday"]\n': ""},
     r"network.concepts: the network has no concepts; list at least one"),
    ({"[network]": '[network]\nlayers = []'}, r"network.layers: must have at least 1 element"),
    ({"[network]": '[network]\nlayers = ["image", "image"]'}, r"network.layers\[1\]: duplicate value 'image'"),
    ({"[solver]": "[output]\nplots = [\"heatmapp\"]\n[solver]"}, r"output.plots\[0\]: must be one of .*\(did you mean 'heatmap'\?\)"),
    ({"[solver]": "[output]\nformat = \"csv\"\n[solver]"}, r"output.format: must be one of 'netcdf'"),
    ({"seed = 3": "seed = -1"}, r"<config>:2: seed: must be >= 0 \(got -1\)"),
    ({"rtol = 1e-6": "rtol = = 1"}, r"<config>:24:8: invalid TOML"),
]


@pytest.mark.parametrize("repl,match", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_validation_errors(repl, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(tiny(**repl))


def test_missing_network_section_and_wrong_top_level_types():
    with pytest.raises(tf.ConfigError, match=r"^network: missing section \[network\]; add a \[network\] table"):
        tf.load_config("[run]\nt_end = 1\n")
    with pytest.raises(tf.ConfigError, match=r"network: no concepts; give concepts"):
        tf.load_config("[network]\n[run]\nt_end = 1\n")
    with pytest.raises(tf.ConfigError, match=r"run: must be a table, written \[run\] \(got 5 \(integer\)\)"):
        tf.load_config('run = 5\n[network]\nconcepts = ["a"]\n')
    with pytest.raises(tf.ConfigError, match="config: expected a path, TOML text or a dict"):
        tf.load_config(42)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(tf.ConfigError, match=r"nope.toml: config file not found"):
        tf.load_config(tmp_path / "nope.toml")
    with pytest.raises(tf.ConfigError, match="is a folder, not a config file"):
        tf.load_config(tmp_path)
    p = tmp_path / "sim.toml"
    p.write_bytes(b"title = \"\xff\"\n")
    with pytest.raises(tf.ConfigError, match="sim.toml: not a UTF-8 text file"):
        tf.load_config(p)
    p.write_text('[network]\nfile = "edges.csv"\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError, match=r"sim.toml:2: network.file: file not found: .*edges.csv "
                                             r"\(paths are relative to the config's folder"):
        tf.load_config(p)
    (tmp_path / "edges.csv").write_text("source,target\na,b\n")
    p.write_text('[network]\nfile = "edges.csv"\nconcepts_file = "c.csv"\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError, match=r"sim.toml:3: network.concepts_file: file not found: .*c.csv"):
        tf.load_config(p)
    (tmp_path / "edges.csv").write_text("source,target,wieght\na,b,1\n")
    p.write_text('[network]\nfile = "edges.csv"\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError, match=r"sim.toml:2: network.file: .*edges.csv: unknown column 'wieght'"):
        tf.load_config(p)
    p.write_text('[network]\nfile = "edges.xyz"\n[run]\nt_end = 1\n')
    with pytest.raises(tf.ConfigError, match=r"network.file: cannot tell the format of 'edges.xyz'"):
        tf.load_config(p)


def test_error_carries_key_and_line():
    with pytest.raises(tf.ConfigError) as e:
        tf.load_config(tiny(**{"rtol = 1e-6": "rtol = -1.0"}))
    assert e.value.key == "solver.rtol" and e.value.line == 24


# ------------------------------------------------------------------ overrides
def test_overrides_by_dotted_path():
    cfg = tf.load_config(tiny(), overrides=["solver.method=rk4", "solver.dt=0.01", "model.tau.sun=0.5",
                                            "stimuli[0].amplitude=2", "run.members=2", 'title="t"'])
    assert cfg.solver.method == "rk4" and cfg.solver.dt == 0.01
    # a number becomes a table when one concept is changed: tau = { "*" = 4.0, sun = 0.5 }
    np.testing.assert_array_equal(cfg.model.resolve("tau", cfg.network), [0.5, 1.0, 1.0])
    assert cfg.stimuli[0].amplitude == 2.0 and cfg.run.members == 2 and cfg.title == "t"
    assert cfg.overrides == ("solver.method=rk4", "solver.dt=0.01", "model.tau.sun=0.5",
                             "stimuli[0].amplitude=2", "run.members=2", 'title="t"')


def test_override_values_and_new_sections():
    text = tiny(**{"[solver]\nrtol = 1e-6\n": "", "tau = 1.0": 'tau = { "*" = 1.0 }'})
    cfg = tf.load_config(text, overrides={"solver.rtol": 1e-8, "model.tau.beach": 3.0,
                                          "network.relations[0][3]": 0.5})
    assert cfg.solver.rtol == 1e-8
    np.testing.assert_array_equal(cfg.model.resolve("tau", cfg.network), [1.0, 3.0, 1.0])
    assert cfg.network.relations()[0] == ("sun", "beach", "association", 0.5)
    # a whole table as a TOML value, and an inline array
    cfg = tf.load_config(text, overrides=['model.tau={ "*" = 2.0, sun = 1.0 }', "run.save_at=[1, 2]"])
    np.testing.assert_array_equal(cfg.model.resolve("tau", cfg.network), [1.0, 2.0, 2.0])
    assert cfg.run.save_at == (1.0, 2.0)


def test_with_overrides_is_a_new_frozen_config():
    cfg = tf.load_config(tiny())
    short = cfg.with_overrides(["run.t_end=3"])
    assert short.run.t_end == 3.0 and cfg.run.t_end == 5.0
    assert short.overrides == ("run.t_end=3",)
    assert short.with_overrides({"seed": 9}).overrides == ("run.t_end=3", "seed=9")
    with pytest.raises(AttributeError, match="frozen"):
        cfg.seed = 4
    with pytest.raises(TypeError):
        cfg.data["seed"] = 4
    # an override that breaks another section is reported at the line it breaks
    with pytest.raises(tf.ConfigError, match=r"<config>:22: stimuli\[0\].member: 1 but the run has 1 member"):
        tf.load_config(tiny(**{"amplitude = 1.0": "amplitude = 1.0\nmember = 1",
                               "t_end = 5.0": "t_end = 5.0\nmembers = 2"}),
                       overrides=["run.members=1"])


@pytest.mark.parametrize("override,match", [
    ("solver.rtoll=1e-3", r"--set solver.rtoll=1e-3: solver.rtoll: unknown key 'rtoll' \(did you mean 'rtol'\?\)"),
    ("sovler.rtol=1e-3", r"--set sovler.rtol=1e-3: unknown key 'sovler' \(did you mean 'solver'\?\)"),
    ("solver.rtol=-1", r"--set solver.rtol=-1: solver.rtol: must be > 0 \(got -1\)"),
    ("run.t_end", r"--set run.t_end: expected KEY=VALUE"),
    ("=3", r"--set =3: the key before '=' is empty"),
    ("model.tau=[1,", r"--set model.tau=\[1,: not a TOML value"),
    ("stimuli[3].start=1", r"--set stimuli\[3\].start=1: stimuli\[3\]: index 3 out of range \(1 element\(s\)\)"),
    ("stimuli.start=1", r"stimuli: is an array; address its elements as stimuli\[0\]"),
    ("model.tau.sun.x=1", r"--set model.tau.sun.x=1: model.tau.sun: is a float > 0, it has no sub-key 'x'"),
    ("network.relations[0].x=1", r"--set network.relations\[0\].x=1: network.relations\[0\]: is \[\"sun\", .*\], not a table"),
    ("model.tau[0]=1", r"--set model.tau\[0\]=1: model.tau: is 1.0, not an array"),
    ("run.t_end.x=1", r"run.t_end: is a float, it has no sub-key 'x'"),
    ("model.gain=x y", r"not a TOML value: 'x y'"),
])
def test_override_errors(override, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(tiny(), overrides=[override])


def test_override_value_parsing():
    assert config.parse_override("a.b=rk4")[:2] == ("a.b", "rk4")
    assert config.parse_override("a=1e-3")[1] == 1e-3
    assert config.parse_override("a=true")[1] is True
    assert config.parse_override("a=inf")[1] == math.inf
    assert config.parse_override('a="x=y"')[1] == "x=y"
    assert config.parse_override("a=[1, 2]")[1] == [1, 2]


# ------------------------------------------------------------------ running
def test_run_config_records_the_config():
    ds = tf.run_config(tiny(), overrides=["run.t_end=3"])
    assert ds.activation.dims == ("time", "concept") and ds.time.values[-1] == 3.0
    assert ds.attrs["config"] == tiny()
    assert json.loads(ds.attrs["config_overrides"]) == ["run.t_end=3"]
    assert tf.load_config(ds.attrs["config_resolved"]) == tf.load_config(tiny(), overrides=["run.t_end=3"])
    assert ds.attrs["title"] == "tiny" and ds.attrs["seed"] == 3
    # the same run in Python gives the same numbers
    net = tf.load_config(tiny()).network
    ref = tf.simulate(net, tf.Model(gain=4.0, threshold=0.5), [tf.Pulse("sun", 0, 2, 1.0)], t_end=3, seed=3)
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)


def test_simulation_kwargs_from_sections():
    cfg = tf.load_config(tiny(**{"t_end = 5.0": "t_end = 5.0\nmembers = 2\nsave_dt = 0.5"}))
    kw = cfg.simulation_kwargs()
    assert kw["network"] is cfg.network and kw["model"] is cfg.model and kw["solver"] is cfg.solver
    assert kw["stimuli"] == cfg.stimuli and kw["seed"] == 3
    assert (kw["t_end"], kw["t0"], kw["members"], kw["saveat"]) == (5.0, 0.0, 2, tf.SaveAt(dt=0.5))


# ------------------------------------------------------------------ registry
@pytest.fixture
def goals_section():
    """A section registered the way later features register theirs (replacing the real
    [goals] section for the test; the registry is restored afterwards)."""
    applied = []
    saved = list(config._SECTIONS.items())

    def check(obj, ctx):
        for i, c in enumerate(obj["concepts"]):
            ctx.network.index(c, f"goals.concepts[{i}]")

    sec = config.register_section(Section(
        "goals",
        Struct({"concepts": Field(config.ListOf(config.Str(name=True)), [], "goal concepts"),
                "gain": Field(Real(min=0), 1.0, "bias strength", unit="1")}),
        doc="Goal bias (test section).",
        build=lambda d, ctx: d, check=check,
        apply=lambda obj, kw, ctx: applied.append(obj)), after="stimuli")
    yield applied
    config._SECTIONS.clear()
    config._SECTIONS.update(saved)


def test_a_registered_section_is_loaded_checked_and_applied(goals_section):
    names = [s.name for s in config.sections()]
    assert names.index("goals") == names.index("stimuli") + 1
    cfg = tf.load_config(tiny(**{"[solver]": '[goals]\nconcepts = ["holiday"]\ngain = 2.0\n\n[solver]'}))
    assert cfg.goals == {"concepts": ["holiday"], "gain": 2.0}
    assert cfg.section_object("goals") == cfg.goals
    cfg.simulation_kwargs()
    assert goals_section == [{"concepts": ["holiday"], "gain": 2.0}]
    with pytest.raises(tf.ConfigError, match=r"<config>:24: goals.gian: unknown key 'gian' \(did you mean 'gain'\?\)"):
        tf.load_config(tiny(**{"[solver]": '[goals]\ngian = 2.0\n\n[solver]'}))
    with pytest.raises(tf.ConfigError, match=r"<config>:24: goals.concepts\[0\]: unknown concept 'holliday'"):
        tf.load_config(tiny(**{"[solver]": '[goals]\nconcepts = ["holliday"]\n\n[solver]'}))
    cfg = tf.load_config(tiny(), overrides=["goals.gain=3"])
    assert cfg.goals["gain"] == 3.0
    assert "## [goals]" in config.reference_markdown()


def test_a_section_with_a_runner_takes_over_the_run():
    def twice(obj, cfg, progress):
        first = cfg.simulation().run()
        second = cfg.with_overrides({"model.gain": obj["gain"]}).simulation().run()
        first["activation_b"] = second["activation"]
        return first

    config.register_section(Section("compare", Struct({"gain": Field(Real(), 1.0, "second gain")}),
                                    runner=twice))
    try:
        ds = tf.run_config(tiny(**{"[solver]": "[compare]\ngain = 8.0\n\n[solver]"}))
        assert ds.attrs["config"].count("[compare]") == 1  # annotated as usual
        a, b = ds["activation"].values, ds["activation_b"].values
        assert a.shape == b.shape and not np.allclose(a, b)
        # absent section: the ordinary run
        assert "activation_b" not in tf.run_config(tiny())
    finally:
        config._SECTIONS.pop("compare")


def test_a_field_added_to_an_existing_section(monkeypatch):
    sec = config.section("run")
    monkeypatch.setitem(sec.struct.fields, "chunk", Field(config.Int(min=1), None, "test field"))
    assert tf.load_config(tiny(**{"t_end = 5.0": "t_end = 5.0\nchunk = 4"})).to_dict()["run"]["chunk"] == 4
    with pytest.raises(tf.ConfigError, match=r"run.chunk: must be >= 1"):
        tf.load_config(tiny(**{"t_end = 5.0": "t_end = 5.0\nchunk = 0"}))
    with pytest.raises(tf.ConfigError, match="unknown config section 'rn' \\(did you mean 'run'\\?\\)"):
        config.section("rn")


# ------------------------------------------------------------------ TOML helpers
def test_key_lines_cover_headers_dotted_inline_and_arrays():
    text = """\
a = 1
b.c = "x # not a comment"   # comment
[t]
s = '''multi
line'''
arr = [
  [1, 2],   # first
  { k = 3 },
]
inl = { x = 1, "quoted key" = 2 }

[[aot]]
v = 1

[[aot]]
v = 2
[aot.sub]
w = 3
"""
    lines = _toml.key_lines(text)
    assert lines["a"] == 1 and lines["b.c"] == 2 and lines["t"] == 3
    assert lines["t.s"] == 4 and lines["t.arr"] == 6
    assert lines["t.arr[0]"] == 7 and lines["t.arr[1]"] == 8 and lines["t.arr[1].k"] == 8
    assert lines['t.inl."quoted key"'] == 10   # keys with spaces are quoted in paths
    assert _toml.line_of(lines, 't.inl."quoted key"') == 10
    assert lines["aot[0].v"] == 13 and lines["aot[1].v"] == 16 and lines["aot[1].sub.w"] == 18
    assert _toml.line_of(lines, "t.arr[1].k.deeper") == 8
    assert _toml.line_of(lines, "nowhere") is None


def test_dumps_round_trips_through_tomllib():
    data = {"x": 1, "y": -0.0, "z": [1.5, math.inf, -math.inf], "s": 'a"b\\c\n\x7f é',
            "t": {"k": True, "sub": {"q": "r"}}, "arr": [[1, "a"], {"p": 1}],
            "aot": [{"a": 1}, {"a": 2, "deep": {"b": 3}}], "empty": {}, "odd key": 1}
    back = _toml.tomllib.loads(_toml.dumps(data))
    assert back == data


# ------------------------------------------------------------------ reference docs
def test_reference_page_is_up_to_date():
    committed = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert committed == config.reference_markdown(), (
        "docs/config.md is out of date: regenerate it with "
        "`PYTHONPATH=src python -m thoughtfield._docs docs/config.md`")


def test_reference_page_documents_every_field_with_units():
    text = config.reference_markdown()
    for sec in config.sections():
        assert (f"## [{sec.name}]" in text) or (f"## [[{sec.name}]]" in text)
        for name in sec.struct.fields:
            assert f"| `{name}` |" in text
    assert "| `tau` | per-concept float > 0 (number, array or table) | `1.0` | time |" in text


@pytest.mark.parametrize("name, canonical", [("RK45", "dopri5"), ("rk45", "dopri5"),
                                             ("DOP853", "dop853"), ("Dopri5", "dopri5"),
                                             ("RK4", "rk4"), ("Euler_Maruyama", "euler_maruyama")])
def test_scipy_method_names_are_aliases(name, canonical):
    """Issue 14: scipy's solve_ivp names (and thoughtfield's in any case) name the same
    methods; 'rk45' used to be refused with "did you mean 'rk4'" (a different method)."""
    assert tf.Solver(name).method == canonical
    assert tf.Solver.from_dict({"method": name}).method == canonical
    cfg = tf.load_config(TINY, overrides=[f'solver.method="{name}"'])
    assert cfg.solver.method == canonical
    text = tiny(**{"rtol = 1e-6": f'method = "{name}"'})
    assert tf.load_config(text).solver.method == canonical
    if canonical == "dopri5":
        ds = tf.simulate(tf.ConceptNetwork(["x"]), tf.Model(transfer="linear"),
                         [tf.Pulse("x", 0, 1, 1.0)], t_end=1.0, solver=name)
        assert ds.attrs["method"] == "dopri5"
        assert float(ds.activation.isel(time=-1).squeeze()) == pytest.approx(1 - math.exp(-1), rel=1e-5)


@pytest.mark.parametrize("name, why", [("RK23", "no Bogacki-Shampine 3\\(2\\) pair"),
                                       ("LSODA", "no LSODA"), ("bdf", "no implicit \\(stiff\\) solver"),
                                       ("Radau", "no implicit \\(stiff\\) solver")])
def test_scipy_methods_without_an_equivalent_name_the_closest(name, why):
    with pytest.raises(tf.ConfigError, match=rf"solver.method: '{name}' is a scipy solve_ivp "
                       rf"method that thoughtfield does not have: thoughtfield has {why}.*; use "
                       r"method = 'dopri5' \(scipy names accepted: RK45 = 'dopri5'"):
        tf.Solver(name)
    with pytest.raises(tf.ConfigError, match=rf"solver.method: '{name}' is a scipy"):
        tf.load_config(TINY, overrides=[f'solver.method="{name}"'])
