"""Layers only when asked for (issue 14): a network given without layers has no layer
labels in its results, run summaries, `info` output and plots; a layered one keeps them;
WordNet's depth levels have neutral names."""

import json

import matplotlib
import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.cli import main

matplotlib.use("Agg")

LAYERLESS = """
title = "plain"
[network]
concepts = ["sun", "beach", "sea"]
relations = [["sun", "beach", "association", 0.8], ["sea", "beach", "association", 0.9]]

[[stimuli]]
concept = "sun"
stop = 2.0
amplitude = 1.0

[run]
t_end = 4.0
"""

# the same network with a ladder the user asked for
LAYERED = LAYERLESS.replace('concepts = ["sun", "beach", "sea"]',
                            'concepts = [["sun", "image"], ["beach", "idea"], ["sea", "image"]]')


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_which_networks_have_layers():
    assert not tf.ConceptNetwork(["a", "b"], [("a", "b", "link")]).layered
    assert not tf.ConceptNetwork.from_scipy(np.eye(2)[::-1], ["a", "b"]).layered
    assert tf.ConceptNetwork({"a": "image", "b": "goal"}).layered
    assert tf.ConceptNetwork(["a"], layers=("low", "high")).layered
    net = tf.ConceptNetwork(["a"])
    net.add_concept("b", "idea")   # placing a concept in a layer asks for layers
    assert net.layered
    assert not tf.load_config(LAYERLESS).network.layered
    assert tf.load_config(LAYERED).network.layered
    assert tf.load_config(LAYERLESS.replace("[network]\n", '[network]\nlayers = ["x", "y"]\n')
                          ).network.layered


def test_round_trips_keep_a_network_without_layers(tmp_path):
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link", 2.0), ("b", "c", "is_a")])
    d = net.to_dict()
    assert "layers" not in d and d["concepts"] == ["a", "b", "c"]
    assert not tf.ConceptNetwork.from_dict(json.loads(json.dumps(d))).layered
    tf.io.write_graphml(net, tmp_path / "n.graphml")
    tf.io.write_gexf(net, tmp_path / "n.gexf")
    tf.io.write_csv(net, tmp_path / "r.csv", tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text().splitlines() == ["name", "a", "b", "c"]
    for back in (tf.io.read_graphml(tmp_path / "n.graphml"), tf.io.read_gexf(tmp_path / "n.gexf"),
                 tf.io.read_csv(tmp_path / "r.csv", tmp_path / "c.csv"), net.copy(),
                 net.subnetwork(["a", "b"])):
        assert not back.layered, back
    assert "layers" not in repr(net)
    assert net.summary()["concepts_by_layer"] == {}
    layered = tf.ConceptNetwork({"a": "image"})
    assert tf.ConceptNetwork.from_dict(layered.to_dict()).layered
    assert tf.io.read_graphml(_graphml(layered, tmp_path)).layered
    assert layered != tf.ConceptNetwork(["a"])   # same placement, but only one asked for layers


def _graphml(net, tmp_path):
    tf.io.write_graphml(net, tmp_path / "l.graphml")
    return tmp_path / "l.graphml"


def test_results_have_a_layer_coordinate_only_with_layers():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1)], t_end=2.0)
    assert "layer" not in ds.coords
    lines = tf.summary.summary_lines(ds)
    assert not any("(image)" in ln for ln in lines), lines
    assert any(ln.startswith("most active at t = 2: ") for ln in lines), lines
    ds = tf.simulate(tf.ConceptNetwork({"a": "image", "b": "goal"}, [("a", "b", "link")]),
                     stimuli=[tf.Pulse("a", 0, 1)], t_end=2.0)
    assert list(ds["layer"].values) == ["image", "goal"]
    assert any("(goal)" in ln for ln in tf.summary.summary_lines(ds))


def test_run_summary_and_info_of_a_config_without_layers(tmp_path, capsys):
    (tmp_path / "plain.toml").write_text(LAYERLESS)
    code, out, err = cli(capsys, "run", tmp_path / "plain.toml", "--out", tmp_path / "p.nc")
    assert code == 0, err
    first = out.splitlines()[0]
    assert first == "plain: 3 concepts, 2 relations", out
    assert "layers" not in out and "(image)" not in out and "most active at t = 4: " in out
    code, out, err = cli(capsys, "info", tmp_path / "p.nc", "--concepts")
    assert code == 0, err
    assert "concepts: 3 (no layers)" in out and "(image)" not in out and "    sun\n" in out
    code, out, err = cli(capsys, "info", tmp_path / "plain.toml", "--concepts")
    assert code == 0, err
    assert "  layers: none" in out and "(image)" not in out
    # with layers the user asked for, the labels are there
    (tmp_path / "layered.toml").write_text(LAYERED)
    code, out, err = cli(capsys, "run", tmp_path / "layered.toml", "--out", tmp_path / "l.nc")
    assert code == 0, err
    assert out.splitlines()[0] == "layered: 3 concepts, 2 relations, layers image/idea/structure/goal"
    assert "(idea)" in out


def test_plots_of_a_result_without_layers():
    import matplotlib.pyplot as plt
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link"), ("b", "c", "link")])
    ds = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1)], t_end=3.0)
    ax = tf.plot_trajectories(ds, top=3)   # the stimulated 'a' is left out of the ranking
    assert sorted(line.get_label() for line in ax.get_lines()) == ["b", "c"]
    ax = tf.plot_trajectories(ds, concepts=["a", "b", "c"])
    assert sorted(line.get_label() for line in ax.get_lines()) == ["a", "b", "c"]
    axes = tf.plot_trajectories(ds, top=3, by_layer=True)   # one panel, no layer name
    assert len(axes) == 1 and axes[0].get_ylabel() == "activation"
    assert "layer" not in axes[0].get_title()
    ax = tf.plot_heatmap(ds)
    assert ax.get_ylabel() == "concept (by time of peak)" and not ax.texts
    ax = tf.plot_network(ds)
    assert [t.get_text() for t in ax.get_yticklabels()] == [] and ax.get_ylabel() == ""
    assert len(tf.plot_overview(ds)) == 3
    plt.close("all")


def test_wordnet_levels_have_neutral_names():
    wn = tf.datasets.wordnet(pos="n").ego("dog.n.01", 1)
    assert wn.layers == ("level1", "level2", "level3", "level4")
    ds = tf.simulate(wn, stimuli=[tf.Pulse("dog.n.01", 0, 1)], t_end=1.0)
    assert set(ds["layer"].values) <= set(wn.layers)
    line = [ln for ln in tf.summary.summary_lines(ds) if ln.startswith("most active")][0]
    assert "dog.n.01 " in line and "(level2)" in line
    for old in ("(image)", "(idea)", "(structure)", "(goal)"):
        assert old not in line


def test_layer_keys_on_a_network_without_layers_are_refused():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link")])
    assert not net.layered
    with pytest.raises(tf.ConfigError, match=r"tau\.@image: the network has no layers"):
        tf.simulate(net, tf.Model(tau={"@image": 0.5}), t_end=1.0)
    layered = tf.ConceptNetwork([("a", "image"), ("b", "idea")], [("a", "b", "link")])
    assert layered.layered   # the same key works once the concepts are in layers
    ds = tf.simulate(layered, tf.Model(tau={"@image": 0.5}), stimuli=[tf.Pulse("a", 0, 1)],
                     t_end=1.0)
    assert ds.attrs["status"] == "success"


def test_layer_names_in_pools_and_projections_are_refused_without_layers():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "link")])
    with pytest.raises(tf.ConfigError, match=r"pools\[0\].layer: the network has no layers"):
        tf.simulate(net, tf.Model(pools=[tf.Pool("p", layer="image")]), t_end=1.0)
    # layer = "*" (one pool per layer) is one pool of every concept, named as the pool
    ds = tf.simulate(net, tf.Model(pools=[tf.Pool("p", layer="*")]), t_end=1.0)
    assert [str(p) for p in ds.pool.values] == ["p"]
