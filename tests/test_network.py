"""ConceptNetwork: construction, lowering to W, conversions (round trips), errors."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import thoughtfield as tf


def test_weights_signs_gains_and_directions():
    net = tf.ConceptNetwork(
        {"dog": "image", "animal": "idea", "cat": "image", "wheel": "image", "car": "idea"},
        [("dog", "animal", "is_a", 2.0), ("dog", "cat", "association", 0.5),
         ("dog", "cat", "contradicts", 0.25), ("wheel", "car", "part_of", 1.0)],
    )
    net.set_relation_type("is_a", reverse=0.5, gain=1.5)
    W = net.weight_matrix().toarray()
    i = {c: k for k, c in enumerate(net.concepts)}
    # is_a: up (dog -> animal) gain * forward * w, down (animal -> dog) gain * reverse * w
    assert W[i["animal"], i["dog"]] == pytest.approx(1.5 * 2.0)
    assert W[i["dog"], i["animal"]] == pytest.approx(1.5 * 0.5 * 2.0)
    # association (symmetric, +) and contradicts (symmetric, -) are summed
    assert W[i["cat"], i["dog"]] == pytest.approx(0.5 - 0.25)
    assert W[i["dog"], i["cat"]] == pytest.approx(0.5 - 0.25)
    # part_of is directed by default: no reverse flow
    assert W[i["car"], i["wheel"]] == 1.0 and W[i["wheel"], i["car"]] == 0.0
    assert net.weight_matrix().indices.dtype == np.int32 or net.weight_matrix().nnz >= 0


def test_weight_matrix_restricted_to_types_and_user_types():
    net = tf.ConceptNetwork(["a", "b", "c"])
    net.define_relation_type("evokes", sign=1, gain=2.0, symmetric=False, reverse=0.1)
    net.add_relation("a", "b", "evokes", 1.0)
    net.add_relation("b", "c", "contradicts", 1.0)
    W = net.weight_matrix(types=["evokes"]).toarray()
    assert W[1, 0] == 2.0 and W[0, 1] == pytest.approx(0.2) and W[2, 1] == 0.0
    assert net.weight_matrix().toarray()[2, 1] == -1.0


def test_layers_and_user_ladder():
    net = tf.ConceptNetwork([("red", "percept"), ("colour", "category")],
                            layers=("percept", "category"))
    assert net.layers == ("percept", "category")
    assert net.concept_layers == ("percept", "category")
    assert net.in_layer("category") == ("colour",)


def test_csv_round_trip(tmp_path):
    net = tf.ConceptNetwork({"a": "image", "b": "idea", "c": "goal"},
                            [("a", "b", "association", 0.5), ("b", "c", "is_a", 2.0),
                             ("c", "a", "contradicts", 0.125)])
    for suffix in (".csv", ".tsv"):
        e, c = tmp_path / f"edges{suffix}", tmp_path / f"concepts{suffix}"
        net.to_csv(e, c)
        assert tf.ConceptNetwork.from_csv(e, c) == net
    # without a concepts file, concepts come from the edges (default layer)
    back = tf.ConceptNetwork.from_csv(tmp_path / "edges.csv")
    assert set(back.concepts) == {"a", "b", "c"}


def test_scipy_round_trip():
    net = tf.ConceptNetwork(["x", "y", "z"], [("x", "y", "link", 0.3), ("y", "z", "inhibits", 2.0)])
    A, names = net.to_scipy()
    back = tf.ConceptNetwork.from_scipy(A, names, relation="link")
    assert (back.weight_matrix() != net.weight_matrix()).nnz == 0
    # symmetric relation from a symmetric matrix: each pair once
    S = sp.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, 2.0], [0, 2.0, 0]]))
    sym = tf.ConceptNetwork.from_scipy(S, ["a", "b", "c"], relation="association")
    assert sym.n_relations == 2
    np.testing.assert_array_equal(sym.weight_matrix().toarray(), S.toarray())


def test_networkx_round_trip_both_directions():
    net = tf.ConceptNetwork({"a": "image", "b": "structure"}, [("a", "b", "causes", 0.7),
                                                              ("a", "b", "association", 0.2)])
    net.set_relation_type("causes", gain=3.0)
    g = net.to_networkx()
    assert isinstance(g, nx.MultiDiGraph) and g.number_of_edges() == 2
    assert tf.ConceptNetwork.from_networkx(g) == net
    # a plain networkx graph with attributes
    h = nx.Graph()
    h.add_node("u", layer="goal")
    h.add_edge("u", "v", weight=0.4)
    n2 = tf.ConceptNetwork.from_networkx(h)
    assert n2.layer("u") == "goal" and n2.relations() == [("u", "v", "association", 0.4)]


def test_permuted_and_copy():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b"), ("b", "c", "is_a", 2.0)])
    p = net.permuted(["c", "a", "b"])
    assert p.concepts == ("c", "a", "b")
    assert sorted(p.relations()) == sorted(net.relations())
    assert net.copy() == net


@pytest.mark.parametrize("build,match", [
    (lambda: tf.ConceptNetwork(["a", "a"]), "duplicate concept 'a'"),
    (lambda: tf.ConceptNetwork(["sun"], [("sunn", "sun")]), r"unknown concept 'sunn' \(did you mean 'sun'\?\)"),
    (lambda: tf.ConceptNetwork(["a", "b"], [("a", "b", "association", float("nan"))]), "weight: must be finite"),
    (lambda: tf.ConceptNetwork(["a", "b"], [("a", "b", "association", "heavy")]), "weight: must be a number"),
    (lambda: tf.ConceptNetwork([("a", "imagee")]), r"unknown layer 'imagee'.*did you mean 'image'"),
    (lambda: tf.ConceptNetwork(["a", "b"], [("a", "b", "assocation")]), r"unknown relation type 'assocation'.*did you mean 'association'"),
    (lambda: tf.ConceptNetwork([""]), "non-empty name"),
    (lambda: tf.ConceptNetwork([" a"]), "leading/trailing spaces"),
    (lambda: tf.ConceptNetwork([3]), "expected a name"),
    (lambda: tf.ConceptNetwork(layers=()), "at least one layer"),
    (lambda: tf.ConceptNetwork(layers=("x", "x")), "duplicate layer 'x'"),
    (lambda: tf.ConceptNetwork("abc"), "not a single string"),
    (lambda: tf.ConceptNetwork(["a"], [("a",)]), r"relations\[0\]: expected \(source, target"),
    (lambda: tf.ConceptNetwork(["a", "b"], [{"source": "a", "target": "b", "wieght": 1}]), r"unknown key 'wieght' \(did you mean 'weight'\?\)"),
    (lambda: tf.RelationType("x", sign=2), r"sign: must be \+1 or -1"),
    (lambda: tf.RelationType("x", gain=-1), r"gain: must be >= 0 \(got -1\)"),
    (lambda: tf.ConceptNetwork(["a"]).set_relation_type("is_a", gian=2), r"unknown field 'gian' \(did you mean 'gain'\?\)"),
    (lambda: tf.ConceptNetwork.from_scipy(sp.eye(2), ["a"]), "1 names for a 2x2 matrix"),
    (lambda: tf.ConceptNetwork.from_scipy(sp.csr_matrix(np.array([[0, 1.0], [0, 0]])), ["a", "b"], relation="association"), "not symmetric"),
    (lambda: tf.ConceptNetwork(["a"]).add_relation_arrays([0], [1]), r"target\[0\] = 1 is not a concept index"),
    (lambda: tf.ConceptNetwork(["a", "b"]).permuted(["a"]), "must list all 2 concepts"),
])
def test_network_errors_name_the_culprit(build, match):
    with pytest.raises(tf.NetworkError, match=match):
        build()


def test_csv_errors_name_file_and_line(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("source,target,weight\na,b,1\nb,c,heavy\n")
    with pytest.raises(tf.NetworkError, match=r"e.csv line 3: weight: must be a number \(got 'heavy'\)"):
        tf.ConceptNetwork.from_csv(p)
    p.write_text("source,targte\na,b\n")
    with pytest.raises(tf.NetworkError, match=r"missing column 'target'.*did you mean 'targte'|unknown column"):
        tf.ConceptNetwork.from_csv(p)
    c = tmp_path / "c.csv"
    c.write_text("name,layer\na,image\nb,image\n")
    p.write_text("source,target\na,b\nb,zz\n")
    with pytest.raises(tf.NetworkError, match=r"e.csv line 3: \('b' -> 'zz'\): unknown concept 'zz'"):
        tf.ConceptNetwork.from_csv(p, c)
    with pytest.raises(tf.NetworkError, match="file not found"):
        tf.ConceptNetwork.from_csv(tmp_path / "missing.csv")


def test_dataset_registry():
    tf.datasets.register("tiny_test_set", lambda k=2: tf.ConceptNetwork([f"c{i}" for i in range(k)]),
                         "k concepts")
    try:
        assert "tiny_test_set" in tf.datasets.names()
        assert tf.datasets.load("tiny_test_set", k=3).n == 3
        with pytest.raises(tf.ConfigError, match=r"unknown dataset 'tiny_test_sett'.*did you mean 'tiny_test_set'"):
            tf.datasets.load("tiny_test_sett")
    finally:
        tf.datasets._REGISTRY.pop("tiny_test_set")


@pytest.mark.parametrize("relation", [([], None), ("a", 3), (None, "a"), (("a",), "b")])
def test_relation_endpoints_must_be_names(relation):
    # found by the fuzz suite: an unhashable endpoint escaped as a TypeError
    with pytest.raises(tf.NetworkError, match=r"relations\[0\]: concept names are text \(got "):
        tf.ConceptNetwork(["a", "b"], [relation])
