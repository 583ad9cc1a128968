"""Config support for the discrete spreadr mode, WordNet and network edits/files."""

import numpy as np
import pytest

import thoughtfield as tf

SMALL = """
[network]
relations = [["x", "y", "link", 1.0], ["y", "z", "link", 3.0], ["x", "z", "association", 1.0]]
concepts = ["x", "y", "z"]

[[stimuli]]
concept = "x"
start = 0
stop = 1
amplitude = 10.0

[[stimuli]]
concept = "y"
start = 4
stop = 5
amplitude = 2.0

[solver]
method = "spreadr"
retention = { "*" = 0.5, "y" = 0.2 }
decay = 0.1
suppress = 0.001

[run]
t_end = 4
"""


def test_spreadr_config_equals_python():
    cfg = tf.load_config(SMALL)
    assert isinstance(cfg.solver, tf.Spreadr)
    assert cfg.data["solver"] == {"method": "spreadr", "retention": {"*": 0.5, "y": 0.2},
                                  "decay": 0.1, "suppress": 0.001}
    ds = cfg.run_simulation()
    net = tf.ConceptNetwork(["x", "y", "z"], [("x", "y", "link", 1.0), ("y", "z", "link", 3.0),
                                              ("x", "z", "association", 1.0)])
    ref = tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 10.0), tf.Pulse("y", 4, 5, 2.0)],
                      solver=tf.Spreadr(retention={"*": 0.5, "y": 0.2}, decay=0.1,
                                        suppress=0.001), t_end=4)
    np.testing.assert_array_equal(ds.activation.values, ref.activation.values)
    assert ds.attrs["method"] == "spreadr" and ds.time.values.tolist() == [0, 1, 2, 3, 4]
    # the normalised config loads back to the same config
    assert tf.load_config(cfg.to_toml()) == cfg
    # overrides reach the spreadr settings
    more = tf.load_config(SMALL, overrides=["solver.decay=0.5", "run.t_end=6"])
    assert more.solver.decay == 0.5 and more.run.t_end == 6


@pytest.mark.parametrize("override, match", [
    ("solver.rtol=1e-3", r"solver.rtol: not used by method = 'spreadr'"),
    ("solver.dt=0.1", r"solver.dt: not used by method = 'spreadr'"),
    ("solver.retention=1.5", r"solver.retention: must be <= 1"),
    ("solver.retention.q=0.5", r"solver.retention.q: unknown concept 'q'"),
    ("solver.negative='drop'", r"solver.negative: must be one of"),
    ("run.t_end=4.5", r"run.t_end: must be an integer"),
    ("run.save_dt=1", r"run.save_dt: the 'spreadr' method counts steps"),
    ("run.save_at=[1.5]", r"run.save_at\[0\]: must be an integer"),
    ("solver.threshold_to_stop=0", r"solver.threshold_to_stop: must be > 0"),
])
def test_spreadr_config_errors(override, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(SMALL, overrides=[override])


def test_spreadr_keys_need_the_spreadr_method():
    with pytest.raises(tf.ConfigError, match=r"solver.retention: only with method = 'spreadr' "
                                             r"\(got method = 'dopri5'\)"):
        tf.load_config(SMALL, overrides=["solver.method='dopri5'"])


def test_spreadr_config_rejects_negative_couplings_at_load_time():
    text = SMALL.replace('["x", "z", "association", 1.0]', '["x", "z", "contradicts", 1.0]')
    with pytest.raises(tf.ConfigError, match="coupling .* is negative"):
        tf.load_config(text)
    cfg = tf.load_config(text, overrides=["solver.negative='ignore'"])
    assert cfg.run_simulation().attrs["status"] == "success"
    cfg = tf.load_config(text, overrides=['network.drop_types=["contradicts"]'])
    assert cfg.network.n_relations == 2


def test_injection_at_the_last_step_is_allowed():
    cfg = tf.load_config(SMALL, overrides=["stimuli[1].start=4", "stimuli[1].stop=5"])
    ds = cfg.run_simulation()
    assert float(ds.activation.sel(time=4, concept="y")) > 2.0
    # a pulse that starts at t_end has no effect: a warning naming it, not an error
    with pytest.warns(tf.ThoughtfieldWarning, match=r"stimuli\[1\].start: .* starts at step 5, after the last step \(4\)"):
        tf.load_config(SMALL, overrides=["stimuli[1].start=5", "stimuli[1].stop=6"])


WORDNET = """
[network]
dataset = "wordnet"
options = { pos = ["n"], relations = ["hypernym", "meronym"] }
ego = { concepts = ["dog.n.01"], hops = 2 }
normalize = true

[[stimuli]]
concept = "dog.n.01"
stop = 2.0

[run]
t_end = 4.0
"""


def test_wordnet_dataset_with_edits():
    cfg = tf.load_config(WORDNET)
    net = tf.datasets.wordnet(pos="n", relations=["hypernym", "meronym"]).ego(
        "dog.n.01", 2).normalized()
    assert cfg.network == net
    ds = cfg.run_simulation()
    assert ds.sizes["concept"] == net.n and np.isfinite(ds.activation.values).all()


@pytest.mark.parametrize("override, match", [
    ('network.ego.concepts=["dgo.n.01"]', r"network.ego.concepts\[0\]: unknown concept "
                                          r"'dgo.n.01'"),
    ("network.ego.hops=-1", r"network.ego.hops: must be >= 0"),
    ("network.ego.direction='up'", r"network.ego.direction: must be one of"),
    ('network.drop_types=["hypernyms"]', r"network.drop_types\[0\]: unknown relation type "
                                         r"'hypernyms'.*did you mean 'hypernym'"),
    ('network.keep_types=["part"]', r"network.keep_types\[0\]: unknown relation type 'part'"),
    ("network.options.pos=['x']", r"network.options.pos\[0\]: unknown part of speech 'x'"),
    ("network.options.glosess=true", r"network.options.glosess: unknown option 'glosess'.*"
                                     r"'glosses'"),
    ("network.normalize=1", r"network.normalize: must be true or false"),
])
def test_network_edit_errors(override, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(WORDNET, overrides=[override])


def test_keep_types_and_files(tmp_path):
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link", 2.0), ("b", "c", "evokes", 1.0)],
                            relation_types=[tf.RelationType("evokes", reverse=0.3)])
    tf.io.write_gexf(net, tmp_path / "n.gexf")
    tf.io.write_graphml(net, tmp_path / "n.graphml")
    tf.io.write_spreadr_network(net, tmp_path / "adj.csv")
    base = '[[stimuli]]\nconcept = "a"\nstop = 1\n[run]\nt_end = 2\n'
    for f in ("n.gexf", "n.graphml"):
        cfg = tf.load_config(f'[network]\nfile = "{f}"\n' + base, base_dir=tmp_path)
        assert cfg.network == net
        kept = tf.load_config(f'[network]\nfile = "{f}"\nkeep_types = ["evokes"]\n' + base,
                              base_dir=tmp_path)
        assert kept.network.relations() == [("b", "c", "evokes", 1.0)]
    cfg = tf.load_config('[network]\nfile = "adj.csv"\nformat = "spreadr"\n' + base
                         + '[solver]\nmethod = "spreadr"\n', base_dir=tmp_path)
    assert abs(cfg.network.weight_matrix() - net.weight_matrix()).max() == 0
    assert cfg.run_simulation().attrs["method"] == "spreadr"


# ------------------------------------- [network] default_type: untyped file edges (issue 14)
def test_default_type_of_a_network_file(tmp_path):
    (tmp_path / "e.csv").write_text("source,target,weight\na,b,2\n")
    run = "[run]\nt_end = 1\n"
    # W[target, source]: a -> b only, unless the config says the list is undirected
    for extra, expected in (("", [[0, 0], [2, 0]]),
                            ('default_type = "link"\n', [[0, 0], [2, 0]]),
                            ('default_type = "association"\n', [[0, 2], [2, 0]]),
                            ('default_type = "evokes"\n[network.relation_types.evokes]\n'
                             'reverse = 0.25\n', [[0, 0.5], [2, 0]])):
        cfg = tf.load_config('[network]\nfile = "e.csv"\n' + extra + run, base_dir=tmp_path)
        np.testing.assert_array_equal(cfg.network.weight_matrix().toarray(), expected,
                                      err_msg=extra)


@pytest.mark.parametrize("network, match", [
    ('file = "e.csv"\ndefault_type = "asociation"',
     r"network.default_type: unknown relation type 'asociation'; known types are association, "
     r"causes, contradicts, favours, inhibits, is_a, link, part_of \(did you mean "
     r"'association'\?\); define new ones in \[network.relation_types.NAME\]"),
    ('concepts = ["a", "b"]\ndefault_type = "link"',
     r"network.default_type: only together with network.file"),
    ('file = "e.csv"\ndefault_type = 3', r"network.default_type: must be"),
])
def test_default_type_errors(tmp_path, network, match):
    (tmp_path / "e.csv").write_text("source,target\na,b\n")
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(f"[network]\n{network}\n[run]\nt_end = 1\n", base_dir=tmp_path)


# -------------- spreadr from files in a config: an edge list + a start_run table (issue 14)
def _spreadr_files(tmp_path, edges, start, extra=""):
    (tmp_path / "edges.csv").write_text(edges)
    (tmp_path / "start.csv").write_text(start)
    return tf.load_config('[network]\nfile = "edges.csv"\n[[stimuli]]\nfile = "start.csv"\n'
                          '[solver]\nmethod = "spreadr"\n' + extra, base_dir=tmp_path)


def test_spreadr_config_from_edge_list_and_start_table_matches_spreadr(tmp_path):
    # spreadr tests/testthat/test-terminal-nodes.r: the published expectations (spreadr's
    # own numbers, as in test_discrete.test_spreadr_terminal_nodes_case), here from files
    edges = "source,target\n1,2\n1,5\n2,4\n2,5\n4,1\n4,2\n4,3\n"
    cfg = _spreadr_files(tmp_path, edges, "node,activation\n1,20\n",
                         "retention = 0\n[run]\nt_end = 3\n")
    # concepts come in the order of the edge list (1, 2, 5, 4, 3); spreadr's table is by node
    table = tf.to_spreadr_table(cfg.run_simulation()).sort_values(["time", "node"])
    expected = [0, 10, 0, 0, 10, 0, 0, 0, 5, 15, 5 / 3, 5 / 3, 5 / 3, 0, 15]
    np.testing.assert_allclose(table["activation"], expected, atol=1e-12)
    assert table["node"].tolist() == ["1", "2", "3", "4", "5"] * 3
    # spreadr's start_run cases (a time column; tests/testthat/test-start-run.r)
    cfg = _spreadr_files(tmp_path, "source,target,weight\n1,2,1\n",
                         "node,activation,time\n1,10,1\n1,10,2\n", "[run]\nt_end = 3\n")
    np.testing.assert_allclose(tf.to_spreadr_table(cfg.run_simulation())["activation"],
                               [10, 0, 15, 5, 7.5, 12.5], atol=1e-12)


def test_spreadr_config_from_files_matches_the_dense_reference(tmp_path):
    # a held-out random case against the independent dense implementation of test_discrete
    from test_discrete import random_case, reference
    A, names, r, inj, stim = random_case(seed=5)
    rows = [f"{names[i]},{names[j]},{float(A[i, j])!r}" for i, j in zip(*np.nonzero(A))]
    starts = [f"{s.concept},{float(s.amplitude)!r},{int(s.start)}" for s in stim]
    ret = ", ".join(f'"{n}" = {float(v)!r}' for n, v in zip(names, r))
    cfg = _spreadr_files(tmp_path, "source,target,weight\n" + "\n".join(rows) + "\n",
                         "node,activation,time\n" + "\n".join(starts) + "\n",
                         f"retention = {{ {ret} }}\ndecay = 0.05\nsuppress = 0.01\n"
                         "[run]\nt_end = 15\n")
    ds = cfg.run_simulation()
    got = ds.activation.sel(concept=names).transpose("time", "concept").values
    np.testing.assert_allclose(got, reference(A, r, 0.05, 0.01, inj, 15), rtol=0, atol=1e-12)


@pytest.mark.parametrize("stim, match", [
    ('file = "start.csv"\nconcept = "a"',
     r"stimuli\[0\].concept: not together with stimuli\[0\].file"),
    ('file = "start.csv"\nstart = 2', r"stimuli\[0\].start: not together with stimuli\[0\].file"),
    ('file = "start.csv"\nkind = "clamp"', r"stimuli\[0\].kind: not together with stimuli\[0\].file"),
    ('file = "nope.csv"', r"stimuli\[0\].file: file not found"),
    ('file = "bad.csv"', r"stimuli\[0\].file: .*bad.csv line 2: activation and time must be numbers"),
    ('file = "unknown.csv"',
     r"stimuli\[0\].file \(unknown.csv row 1\).concept: unknown concept 'zz'"),
    ('start = 1', r"stimuli\[0\].concept: missing; name the concept to stimulate \(or give file"),
])
def test_start_run_file_errors(tmp_path, stim, match):
    (tmp_path / "edges.csv").write_text("source,target\na,b\n")
    (tmp_path / "start.csv").write_text("node,activation\na,1\n")
    (tmp_path / "bad.csv").write_text("node,activation\na,lots\n")
    (tmp_path / "unknown.csv").write_text("node,activation\nzz,1\n")
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(f'[network]\nfile = "edges.csv"\n[[stimuli]]\n{stim}\n'
                       '[solver]\nmethod = "spreadr"\n[run]\nt_end = 2\n', base_dir=tmp_path)


def test_a_start_table_row_after_the_last_step_is_a_warning_naming_the_row(tmp_path):
    """It was a warning with the wrong last step ('t_end = 11') and then an error naming a
    stimuli[1] the config does not have."""
    with pytest.warns(tf.ThoughtfieldWarning,
                      match=r"stimuli\[0\]\.file \(start\.csv row 2\)\.start: the pulse on '1' "
                            r"starts at step 30, after the last step \(10\)") as rec:
        cfg = _spreadr_files(tmp_path, "source,target\n1,2\n",
                             "node,activation,time\n1,20,1\n1,5,30\n", "[run]\nt_end = 10\n")
        ds = cfg.run_simulation()
    assert all("stimuli[1]" not in str(w.message) for w in rec)
    assert float(ds.activation.sel(concept="1").max()) == 20.0
