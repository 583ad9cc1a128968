"""Import/export round trips: CSV/TSV, GraphML, GEXF, scipy.sparse, spreadr tables."""

import numpy as np
import pandas as pd
import pytest

import thoughtfield as tf


@pytest.fixture
def net():
    """Custom layers, a custom relation type, parallel relations, attributes."""
    n = tf.ConceptNetwork({"sun": "low", "sea": "low", "beach": "mid", "holiday": "high",
                           "rain": "low"},
                          [("sun", "beach", "association", 0.8), ("sea", "beach", "association"),
                           ("beach", "holiday", "is_a", 1.0), ("beach", "holiday", "evokes", 0.25),
                           ("sun", "rain", "contradicts", 0.3)],
                          layers=("low", "mid", "high"),
                          relation_types=[tf.RelationType("evokes", +1, 2.0, forward=1.0,
                                                          reverse=0.1)])
    n.set_attribute("colour", {"sun": "yellow", "sea": "blue"})
    n.set_attribute("rank", [1, 2, 3, 4, 5])
    return n


@pytest.mark.parametrize("ext", ["csv", "tsv"])
def test_csv_round_trip(net, tmp_path, ext):
    paths = [tmp_path / f"{k}.{ext}" for k in ("rel", "con", "types")]
    tf.io.write_csv(net, *paths)
    if ext == "tsv":
        assert "\t" in paths[0].read_text().splitlines()[0]
    back = tf.io.read_csv(*paths, layers=("low", "mid", "high"))
    assert back.concepts == net.concepts and back.concept_layers == net.concept_layers
    assert sorted(back.relations()) == sorted(net.relations())
    assert back.relation_types == net.relation_types
    # the CSV files carry no attributes; the coupling matrix is the same
    assert (back.weight_matrix() != net.weight_matrix()).nnz == 0


def test_csv_types_table_errors(tmp_path):
    (tmp_path / "r.csv").write_text("source,target,type\na,b,evokes\n")
    (tmp_path / "t.csv").write_text("name,sign,gain\nevokes,2,1\n")
    with pytest.raises(tf.NetworkError, match=r"t.csv line 2: relation_types.evokes.sign: must be "
                                              r"\+1 or -1"):
        tf.io.read_csv(tmp_path / "r.csv", types_path=tmp_path / "t.csv")
    (tmp_path / "t.csv").write_text("name,sign,gian\nevokes,1,1\n")
    with pytest.raises(tf.NetworkError, match="unknown column 'gian'.*did you mean 'gain'"):
        tf.io.read_csv(tmp_path / "r.csv", types_path=tmp_path / "t.csv")
    (tmp_path / "t.csv").write_text("name,symmetric\nevokes,maybe\n")
    with pytest.raises(tf.NetworkError, match="symmetric: must be true or false"):
        tf.io.read_csv(tmp_path / "r.csv", types_path=tmp_path / "t.csv")
    with pytest.raises(tf.NetworkError, match="unknown relation type 'evokes'"):
        tf.io.read_csv(tmp_path / "r.csv")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_formats_round_trip(net, tmp_path, fmt):
    path = tmp_path / f"net.{fmt}"
    getattr(tf.io, f"write_{fmt}")(net, path)
    back = getattr(tf.io, f"read_{fmt}")(path)
    assert back == net          # names, layers, ladder, types, relations, attributes
    assert back.layers == ("low", "mid", "high")
    assert back.relation_types["evokes"].reverse == 0.1


def test_graph_formats_round_trip_wordnet_ego(tmp_path):
    ego = tf.datasets.wordnet(pos="n").ego("dog.n.01", 1)
    for fmt in ("graphml", "gexf"):
        getattr(tf.io, f"write_{fmt}")(ego, tmp_path / f"e.{fmt}")
        assert getattr(tf.io, f"read_{fmt}")(tmp_path / f"e.{fmt}") == ego


def test_foreign_gexf_without_metadata(tmp_path):
    import networkx as nx
    g = nx.DiGraph()
    g.add_edge("a", "b", weight=2.0)
    nx.write_gexf(g, tmp_path / "g.gexf")
    back = tf.io.read_gexf(tmp_path / "g.gexf")
    # a directed graph's untyped edge stays directed (issue 14)
    assert back.relations() == [("a", "b", "link", 2.0)]


def test_graph_format_errors(tmp_path):
    (tmp_path / "bad.graphml").write_text("<not xml")
    with pytest.raises(tf.NetworkError, match="not a readable GraphML file"):
        tf.io.read_graphml(tmp_path / "bad.graphml")
    with pytest.raises(tf.NetworkError, match="not a readable GEXF file"):
        tf.io.read_gexf(tmp_path / "bad.graphml")
    with pytest.raises(tf.NetworkError, match="file not found"):
        tf.io.read_gexf(tmp_path / "missing.gexf")


def test_scipy_round_trip_keeps_dynamics(net):
    A, names = net.to_scipy()
    back = tf.ConceptNetwork.from_scipy(A, names, relation="link",
                                        layers_of=net.concept_layers, layers=net.layers)
    assert back.concepts == net.concepts
    assert abs(back.weight_matrix() - net.weight_matrix()).max() == 0
    m = tf.Model(transfer="tanh")
    st = [tf.Pulse("sun", 0, 1, 1.0)]
    a = tf.simulate(net, m, st, t_end=3, seed=0)
    b = tf.simulate(back, m, st, t_end=3, seed=0)
    np.testing.assert_array_equal(a.activation.values, b.activation.values)


def test_spreadr_network_round_trip(net, tmp_path):
    pos = net.drop_types(["contradicts"])
    tf.io.write_spreadr_network(pos, tmp_path / "adj.csv")
    header = (tmp_path / "adj.csv").read_text().splitlines()[0]
    assert header == ",sun,sea,beach,holiday,rain"
    back = tf.io.read_spreadr_network(tmp_path / "adj.csv")
    assert back.concepts == pos.concepts
    assert abs(back.weight_matrix() - pos.weight_matrix()).max() < 1e-15
    st = [tf.Pulse("sun", 0, 1, 10.0)]
    a = tf.simulate(pos, stimuli=st, solver="spreadr", t_end=5)
    b = tf.simulate(back, stimuli=st, solver="spreadr", t_end=5)
    np.testing.assert_allclose(a.activation.values, b.activation.values, rtol=0, atol=1e-13)


def test_read_r_written_matrix(tmp_path):
    # what R's write.csv(mat) produces: quoted names, a quoted empty corner cell
    (tmp_path / "m.csv").write_text('"","a","b","c"\n"a",0,1,9\n"b",1,0,0\n"c",9,0,NA\n')
    net = tf.io.read_spreadr_network(tmp_path / "m.csv")
    assert net.concepts == ("a", "b", "c")
    assert sorted(net.relations()) == [("a", "b", "link", 1.0), ("a", "c", "link", 9.0),
                                       ("b", "a", "link", 1.0), ("c", "a", "link", 9.0)]
    (tmp_path / "n.csv").write_text("a,b\n0,2\n0,0\n")    # no row names
    assert tf.io.read_spreadr_network(tmp_path / "n.csv").relations() == [("a", "b", "link", 2.0)]


def test_spreadr_network_errors(net, tmp_path):
    with pytest.raises(tf.NetworkError, match="coupling 'sun' -> 'rain' is negative.*drop_types"):
        tf.io.write_spreadr_network(net, tmp_path / "x.csv")
    with pytest.raises(tf.NetworkError, match="dense 5x5 matrix; raise max_concepts"):
        tf.io.write_spreadr_network(net, tmp_path / "x.csv", max_concepts=3)
    (tmp_path / "m.csv").write_text(",a,b\na,0,1\nc,0,0\n")
    with pytest.raises(tf.NetworkError, match="line 3: row name 'c' differs from column name 'b'"):
        tf.io.read_spreadr_network(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text(",a,b\na,0,x\nb,0,0\n")
    with pytest.raises(tf.NetworkError, match="line 2, column 'b': not a number"):
        tf.io.read_spreadr_network(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text(",a,b\na,0,1\n")
    with pytest.raises(tf.NetworkError, match="3 header fields for 1 rows"):
        tf.io.read_spreadr_network(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text(",a,b\na,0,1\nb,0\n")
    with pytest.raises(tf.NetworkError, match="line 3: expected 3 fields, got 2"):
        tf.io.read_spreadr_network(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text(",a,b\na,0,inf\nb,0,0\n")
    with pytest.raises(tf.NetworkError, match="must be finite"):
        tf.io.read_spreadr_network(tmp_path / "m.csv")


def test_start_run_round_trip(tmp_path):
    pulses = [tf.Pulse("sun", 0, 1, 20.0), tf.Pulse("sea", 2, 4, 5.0)]
    tf.io.write_start_run(pulses, tmp_path / "start.csv")
    assert (tmp_path / "start.csv").read_text().splitlines() == [
        "node,activation,time", "sun,20.0,0", "sea,5.0,2", "sea,5.0,3"]
    back = tf.io.read_start_run(tmp_path / "start.csv")
    assert back == [tf.Pulse("sun", 0, 1, 20.0), tf.Pulse("sea", 2, 3, 5.0),
                    tf.Pulse("sea", 3, 4, 5.0)]
    tf.io.write_start_run(back, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "start.csv").read_text()
    (tmp_path / "notime.csv").write_text("node,activation\nsun,3\n")
    assert tf.io.read_start_run(tmp_path / "notime.csv") == [tf.Pulse("sun", 0, 1, 3.0)]


def test_start_run_errors(tmp_path):
    with pytest.raises(tf.ConfigError, match="spreadr has no clamps"):
        tf.io.write_start_run([tf.Clamp("a", 0, 1)], tmp_path / "s.csv")
    with pytest.raises(tf.ConfigError, match=r"stimuli\[0\].stop: the pulse on 'a' never ends"):
        tf.io.write_start_run([tf.Pulse("a", 0)], tmp_path / "s.csv")
    with pytest.raises(tf.ConfigError, match=r"stimuli\[0\].member: spreadr has no ensembles"):
        tf.io.write_start_run([tf.Pulse("a", 0, 1, member=1)], tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("node,activation,time\na,1,1.5\n")
    with pytest.raises(tf.NetworkError, match="line 2: time must be a whole number >= 0"):
        tf.io.read_start_run(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("node,activation,time\na,lots,1\n")
    with pytest.raises(tf.NetworkError, match="line 2: activation and time must be numbers"):
        tf.io.read_start_run(tmp_path / "s.csv")
    (tmp_path / "s.csv").write_text("node,activaton\na,1\n")
    with pytest.raises(tf.NetworkError, match="missing column 'activation'"):
        tf.io.read_start_run(tmp_path / "s.csv")


def test_spreadr_output_table(tmp_path):
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("x", 0, 1, 1.0)], solver="spreadr", t_end=3)
    tf.io.write_spreadr_table(ds, tmp_path / "out.csv")
    table = pd.read_csv(tmp_path / "out.csv")
    assert list(table.columns) == ["node", "activation", "time"]
    mine = tf.to_spreadr_table(ds)
    assert table["node"].tolist() == mine["node"].tolist() == ["x", "y"] * 3
    assert table["time"].tolist() == mine["time"].tolist() == [1, 1, 2, 2, 3, 3]
    np.testing.assert_array_equal(table["activation"],
                                  ds.activation.transpose("time", "concept").values[1:].ravel())
    tf.io.write_spreadr_table(ds, tmp_path / "t0.tsv", include_t0=True)
    assert len(pd.read_csv(tmp_path / "t0.tsv", sep="\t")) == 8


# ------------------------------------------ untyped edges of directed inputs (issue 14)
# W[target, source] is the coupling source -> target; a -> b with weight 2 and nothing back
DIRECTED = np.array([[0.0, 0.0], [2.0, 0.0]])
SYMMETRIC = np.array([[0.0, 2.0], [2.0, 0.0]])


def dense(net):
    return net.weight_matrix().toarray()


@pytest.mark.parametrize("text", ["source,target,weight\na,b,2\n",
                                  "source,target,type,weight\na,b,,2\n",
                                  "source\ttarget\tweight\na\tb\t2\n"])
def test_untyped_edge_list_rows_stay_directed(tmp_path, text):
    p = tmp_path / ("e.tsv" if "\t" in text else "e.csv")
    p.write_text(text)
    net = tf.io.read_csv(p)
    assert net.relations() == [("a", "b", "link", 2.0)]
    np.testing.assert_array_equal(dense(net), DIRECTED)
    # an undirected list, read as such on request
    sym = tf.io.read_csv(p, default_type="association")
    assert sym.relations() == [("a", "b", "association", 2.0)]
    np.testing.assert_array_equal(dense(sym), SYMMETRIC)


def test_untyped_networkx_edges_follow_the_graph_direction():
    nx = pytest.importorskip("networkx")
    for cls in (nx.DiGraph, nx.MultiDiGraph):
        g = cls()
        g.add_edge("a", "b", weight=2.0)
        net = tf.ConceptNetwork.from_networkx(g)
        assert net.relations() == [("a", "b", "link", 2.0)], cls
        np.testing.assert_array_equal(dense(net), DIRECTED)
    for cls in (nx.Graph, nx.MultiGraph):
        g = cls()
        g.add_edge("a", "b", weight=2.0)
        net = tf.ConceptNetwork.from_networkx(g)
        assert net.relations() == [("a", "b", "association", 2.0)], cls
        np.testing.assert_array_equal(dense(net), SYMMETRIC)
    g = nx.DiGraph()
    g.add_edge("a", "b", weight=2.0, type="association")   # an explicit type wins
    np.testing.assert_array_equal(dense(tf.ConceptNetwork.from_networkx(g)), SYMMETRIC)


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_untyped_graphml_and_gexf_edges_follow_the_file_direction(tmp_path, fmt):
    nx = pytest.importorskip("networkx")
    write = nx.write_graphml if fmt == "graphml" else nx.write_gexf
    read = tf.io.read_graphml if fmt == "graphml" else tf.io.read_gexf
    for cls, expected in ((nx.DiGraph, DIRECTED), (nx.Graph, SYMMETRIC)):
        g = cls()
        g.add_nodes_from(["a", "b"])
        g.add_edge("a", "b", weight=2.0)
        p = tmp_path / f"{cls.__name__}.{fmt}"
        write(g, p)
        np.testing.assert_array_equal(dense(read(p)), expected, err_msg=f"{cls.__name__}")
    # the files' untyped edges can be given any known type
    assert read(p, default_type="causes").relations() == [("a", "b", "causes", 2.0)]


def test_default_type_must_be_known(tmp_path):
    nx = pytest.importorskip("networkx")
    (tmp_path / "e.csv").write_text("source,target\na,b\n")
    msg = (r"default_type: unknown relation type 'asociation'; known types are association, "
           r"causes, .*link, part_of \(did you mean 'association'\?\)")
    with pytest.raises(tf.NetworkError, match=msg):
        tf.io.read_csv(tmp_path / "e.csv", default_type="asociation")
    with pytest.raises(tf.NetworkError, match=msg):
        tf.ConceptNetwork.from_networkx(nx.DiGraph([("a", "b")]), default_type="asociation")
