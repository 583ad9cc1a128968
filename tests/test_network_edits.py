"""Subnetworks, edits, bulk construction and attributes of ConceptNetwork."""

import numpy as np
import pytest

import thoughtfield as tf


@pytest.fixture
def chain():
    # a -> b -> c -> d -> e (is_a), b -- x (association), c -| y (contradicts)
    net = tf.ConceptNetwork(list("abcdexy"),
                            [("a", "b", "is_a"), ("b", "c", "is_a"), ("c", "d", "is_a"),
                             ("d", "e", "is_a"), ("b", "x", "association", 0.5),
                             ("c", "y", "contradicts", 0.7)])
    net.set_attribute("note", {"a": "first", "e": "last"})
    return net


def test_ego_hops_and_directions(chain):
    assert chain.ego("c", 0).concepts == ("c",)
    assert chain.ego("c", 1).concepts == ("b", "c", "d", "y")
    assert chain.ego("c", 2).concepts == ("a", "b", "c", "d", "e", "x", "y")
    assert chain.ego("c", 2, direction="out").concepts == ("c", "d", "e", "y")
    assert chain.ego("c", 2, direction="in").concepts == ("a", "b", "c")
    assert chain.ego("c", 5, types=["is_a"]).concepts == tuple("abcde")
    assert chain.ego(["a", "y"], 1).concepts == ("a", "b", "c", "y")
    sub = chain.ego("c", 1)
    assert sorted(sub.relations()) == [("b", "c", "is_a", 1.0), ("c", "d", "is_a", 1.0),
                                       ("c", "y", "contradicts", 0.7)]
    only = chain.ego("b", 1, types="is_a", induced=False)
    assert only.concepts == ("a", "b", "c") and only.n_relations == 2
    assert chain.ego("c", 1).attribute("note") == [None] * 4
    assert chain.ego("a", 1).attribute("note") == ["first", None]


def test_ego_on_wordnet_is_vectorised_and_right():
    net = tf.datasets.wordnet(pos="n")
    up = net.ego("dog.n.01", 1, types="hypernym", direction="out")
    assert set(up.concepts) == {"dog.n.01", "canine.n.02", "domestic_animal.n.01"}
    two = net.neighbourhood(["dog.n.01"], 2, types=["hypernym"], direction="in")
    hypo = net.keep_types("hypernym").relation_arrays()
    i = net.index("dog.n.01")
    kids = set(hypo["source"][hypo["target"] == i].tolist())
    grandkids = set(hypo["source"][np.isin(hypo["target"], list(kids))].tolist())
    assert set(np.flatnonzero(two).tolist()) == {i} | kids | grandkids


def test_subnetwork_keeps_order_and_internal_relations(chain):
    sub = chain.subnetwork(["d", "b", "c"])
    assert sub.concepts == ("b", "c", "d")
    assert sorted(sub.relations()) == [("b", "c", "is_a", 1.0), ("c", "d", "is_a", 1.0)]
    mask = np.array([c in "ae" for c in chain.concepts])
    assert chain.subnetwork(mask).concepts == ("a", "e")
    assert chain.subnetwork(mask).n_relations == 0
    assert chain.subnetwork(mask).attribute("note") == ["first", "last"]


def test_keep_and_drop_types(chain):
    assert {r[2] for r in chain.keep_types(["is_a"]).relations()} == {"is_a"}
    kept = chain.drop_types(["contradicts", "association"])
    assert kept.n == chain.n and kept.n_relations == 4
    assert kept.relation_types == chain.relation_types
    # nothing inhibitory left: every coupling is >= 0
    assert kept.weight_matrix().data.min() >= 0


def test_lesions(chain):
    gone = chain.lesion("c")
    assert gone.n == chain.n and gone.n_relations == 3
    assert all("c" not in r[:2] for r in gone.relations())
    half = chain.lesion(["c"], scale=0.5)
    assert sorted(half.relations()) == sorted(
        [("a", "b", "is_a", 1.0), ("b", "c", "is_a", 0.5), ("c", "d", "is_a", 0.5),
         ("d", "e", "is_a", 1.0), ("b", "x", "association", 0.5), ("c", "y", "contradicts", 0.35)])
    one = chain.lesion(relations=[("b", "x"), ("c", "d", "is_a")])
    assert one.n_relations == 4
    typed = chain.lesion(types="is_a", scale=0.1)
    np.testing.assert_allclose(typed.weight_matrix().toarray(),
                               chain.weight_matrix().toarray()
                               * np.where(chain.weight_matrix().toarray() > 0.9, 0.1, 1.0))
    removed = chain.lesion(["c", "x"], remove=True)
    assert removed.concepts == ("a", "b", "d", "e", "y") and removed.n_relations == 2
    # random lesions: reproducible with a seed, hit the requested share
    big = tf.datasets.wordnet(pos="v", relations=["hypernym"])
    r1 = big.lesion(fraction=0.25, seed=3)
    r2 = big.lesion(fraction=0.25, seed=3)
    assert r1 == r2 and r1.n_relations == big.n_relations - round(0.25 * big.n_relations)
    assert big.lesion(fraction=0.25, seed=4) != r1
    # lesioning does not touch the original
    assert chain.n_relations == 6


def test_lesion_errors(chain):
    with pytest.raises(tf.NetworkError, match=r"lesion.relations\[0\]: there is no relation "
                                              r"'a' -> 'c'"):
        chain.lesion(relations=[("a", "c")])
    with pytest.raises(tf.NetworkError, match=r"there is no relation 'a' -> 'b' of type "
                                              r"'association'"):
        chain.lesion(relations=[("a", "b", "association")])
    with pytest.raises(tf.NetworkError, match=r"lesion.concepts\[0\]: unknown concept 'q'"):
        chain.lesion("q")
    with pytest.raises(tf.NetworkError, match="lesion.scale: must be >= 0"):
        chain.lesion("a", scale=-1)
    with pytest.raises(tf.NetworkError, match="lesion.fraction: must be <= 1"):
        chain.lesion(fraction=1.5)
    with pytest.raises(tf.NetworkError, match="remove=True needs the concepts"):
        chain.lesion(remove=True)
    with pytest.raises(tf.NetworkError, match="remove=True deletes concepts; give only concepts"):
        chain.lesion("a", remove=True, types=["is_a"])
    with pytest.raises(tf.NetworkError, match=r"lesion.types\[0\]: unknown relation type "
                                              r"'isa'.*did you mean 'is_a'"):
        chain.lesion(types=["isa"])


def test_merge_multiplex(chain):
    other = tf.ConceptNetwork({"a": "image", "z": "goal"},
                              [("a", "z", "causes", 2.0), ("a", "b", "association", 0.1)],
                              add_missing=True)
    other.set_attribute("note", {"a": "other", "z": "zed"})
    m = chain.merge(other)
    assert m.concepts == tuple("abcdexy") + ("z",)
    assert m.layer("z") == "goal" and m.n_relations == 8
    assert m.attribute("note", "a") == "first" and m.attribute("note", "z") == "zed"
    W = m.weight_matrix()
    assert W[m.index("b"), m.index("a")] == pytest.approx(1.1)   # is_a + association
    # merging a WordNet network (layers level1..level4) with a user network
    wn = tf.datasets.wordnet(pos="n").ego("dog.n.01", 1)
    user = tf.ConceptNetwork({"dog.n.01": "level2", "bone": "level1"},
                             [("dog.n.01", "bone", "association")], layers=wn.layers)
    both = wn.merge(user)
    assert both.n == wn.n + 1 and "hypernym" in both.relation_types
    # a user network without layers takes WordNet's ladder, in either order (issue 14)
    plain = tf.ConceptNetwork(["dog.n.01", "bone"], [("dog.n.01", "bone", "association")])
    assert not plain.layered
    for m in (wn.merge(plain), plain.merge(wn)):
        assert m.layered and m.layers == ("level1", "level2", "level3", "level4")
        assert m.layer("dog.n.01") == "level2" and m.layer("bone") == "level1", m
        assert m.n == wn.n + 1 and m.n_relations == wn.n_relations + 1
    with pytest.raises(tf.NetworkError, match="merge: the layer ladders differ"):
        wn.merge(tf.ConceptNetwork({"bone": "image"}))


def test_merge_errors(chain):
    layered = tf.ConceptNetwork({"a": "image"})   # chain has no layers: it takes any ladder
    with pytest.raises(tf.NetworkError, match="merge: concept 'a' is in layer 'image' in the "
                                              "first network but 'goal' in the second"):
        layered.merge(tf.ConceptNetwork({"a": "goal"}))
    other = tf.ConceptNetwork(["a"])
    other.set_relation_type("is_a", reverse=0.3)
    with pytest.raises(tf.NetworkError, match="merge: relation type 'is_a' is defined differently"):
        chain.merge(other)
    with pytest.raises(tf.NetworkError, match="merge: the layer ladders differ"):
        layered.merge(tf.ConceptNetwork(["a"], layers=["low", "high"]))
    with pytest.raises(tf.NetworkError, match="merge: expected a ConceptNetwork"):
        chain.merge("other")


def test_from_arrays():
    net = tf.ConceptNetwork.from_arrays(["a", "b", "c"], ["idea", "image", "goal"],
                                        relations={"link": ([0, 1], [1, 2], [0.5, 2.0]),
                                                   "association": ([2], [0])},
                                        attributes={"n": [1, 2, 3]}, name="demo")
    ref = tf.ConceptNetwork({"a": "idea", "b": "image", "c": "goal"},
                            [("a", "b", "link", 0.5), ("b", "c", "link", 2.0),
                             ("c", "a", "association", 1.0)])
    ref.set_attribute("n", [1, 2, 3])
    assert net == ref and net.name == "demo"
    codes = tf.ConceptNetwork.from_arrays(np.array(["a", "b"]), np.array([3, 0]))
    assert codes.concept_layers == ("goal", "image")
    assert tf.ConceptNetwork.from_arrays(["a"]).concept_layers == ("image",)


@pytest.mark.parametrize("args, kwargs, match", [
    ((["a", "b", "a"],), {}, "from_arrays: duplicate concept 'a'"),
    ((["a", " b"],), {}, r"from_arrays: names\[1\]: must be a non-empty name"),
    ((["a", 3],), {}, r"from_arrays: names\[1\]: must be a string"),
    (("ab",), {}, "names must be a sequence of names, not the string 'ab'"),
    ((["a", "b"], ["image"]), {}, r"concept_layers has shape \(1,\); expected"),
    ((["a", "b"], [0, 7]), {}, r"concept_layers\[1\] = 7 is not a layer index"),
    ((["a", "b"], ["image", "idee"]), {}, "layer of concept 'b'.*unknown layer 'idee'.*'idea'"),
    ((["a"],), {"relations": {"link": ([0],)}}, r"relations\['link'\] must be"),
    ((["a"],), {"relations": {"link": ([0], [1])}}, r"target\[0\] = 1 is not a concept index"),
    ((["a"],), {"relations": {"lnk": ([0], [0])}}, "unknown relation type 'lnk'"),
])
def test_from_arrays_errors(args, kwargs, match):
    with pytest.raises(tf.NetworkError, match=match):
        tf.ConceptNetwork.from_arrays(*args, **kwargs)


def test_attributes(chain):
    assert chain.attribute_names == ("note",)
    assert chain.attribute("note", "a") == "first"
    chain.set_attribute("weight", np.arange(chain.n))
    assert chain.attribute("weight") == list(range(chain.n))
    chain.add_concept("new")
    assert chain.attribute("note", "new") is None and chain.attribute("weight", "new") is None
    back = tf.ConceptNetwork.from_dict(chain.to_dict())
    assert back == chain
    chain.drop_attribute("weight")
    assert chain.attribute_names == ("note",)
    with pytest.raises(tf.NetworkError, match="unknown attribute 'nte'.*did you mean 'note'"):
        chain.attribute("nte")
    with pytest.raises(tf.NetworkError, match="attribute 'x': 2 values for 8 concepts"):
        chain.set_attribute("x", [1, 2])
    with pytest.raises(tf.NetworkError, match="attribute 'x' of 'a': values must be str"):
        chain.set_attribute("x", {"a": [1]})
    with pytest.raises(tf.NetworkError, match="attribute name 'layer' is reserved"):
        chain.set_attribute("layer", {"a": 1})
    with pytest.raises(tf.NetworkError, match="unknown concept 'qq'"):
        chain.set_attribute("x", {"qq": 1})


def test_permuted_and_copy_keep_everything(chain):
    order = list(reversed(chain.concepts))
    p = chain.permuted(order)
    assert p.concepts == tuple(order)
    assert p.attribute("note", "a") == "first"
    assert sorted(p.relations()) == sorted(chain.relations())
    c = chain.copy()
    assert c == chain and c is not chain
    c.add_relation("a", "e")
    assert chain.n_relations == 6


def test_normalized_weights_by_hand():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "association", 2.0),
                                              ("b", "c", "is_a", -1.0)])
    norm = net.normalized()
    # d_a = 2, d_b = 3, d_c = 1 (sums of |w| over incident relations)
    assert norm.relations() == [("a", "b", "association", pytest.approx(2 / np.sqrt(6))),
                                ("b", "c", "is_a", pytest.approx(-1 / np.sqrt(3)))]


def test_normalized_bounds_the_spectral_radius():
    from conftest import random_network
    net = random_network(90, k=8, seed=2)
    net.add_relation_arrays(np.arange(0, 90, 3), np.arange(1, 90, 3), 2.5, "is_a")
    net.add_relation_arrays(np.arange(0, 90, 5), np.arange(0, 90, 5), 1.0, "association")
    net.set_relation_type("is_a", gain=0.8, reverse=0.6)
    c = max(t.gain * max(t.forward, t.reverse if not t.symmetric else t.forward)
            for name, t in net.relation_types.items() if name in ("link", "is_a", "association"))
    W = net.normalized().weight_matrix().toarray()
    assert np.abs(np.linalg.eigvals(W)).max() <= c + 1e-12
    assert np.abs(np.linalg.eigvals(net.weight_matrix().toarray())).max() > c  # it did bind
