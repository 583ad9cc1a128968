"""Plots: what is drawn (lines, order, colours, positions), not just that it runs."""

import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import thoughtfield as tf  # noqa: E402
from thoughtfield.plots import PLOTS, heatmap_order, layered_layout  # noqa: E402
from thoughtfield.results import make_dataset, network_description  # noqa: E402

NAMES = ["a_img", "b_img", "c_idea", "d_idea", "e_goal"]
LAYERS = ["image", "image", "idea", "idea", "goal"]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def net():
    return tf.ConceptNetwork(dict(zip(NAMES, LAYERS)),
                             [("a_img", "d_idea", "association", 1.0), ("b_img", "c_idea", "association", 0.5),
                              ("c_idea", "e_goal", "is_a", 1.0), ("c_idea", "d_idea", "contradicts", 0.7)])


def dataset(members=1, seed=0):
    """Bumps with known peak heights and times: concept i peaks at t = peak_t[i]."""
    t = np.linspace(0, 10, 101)
    peak_t = np.array([1.0, 3.0, 6.0, 2.0, 8.0])
    height = np.array([0.9, 0.2, 0.8, 0.5, 0.7])
    act = height * np.exp(-((t[:, None] - peak_t) ** 2))
    rng = np.random.default_rng(seed)
    act = np.repeat(act[:, :, None], members, axis=2)
    if members > 1:
        act = act + rng.normal(0, 0.05, size=act.shape)
    n = net()
    attrs = {"title": "bumps", "network": network_description(n),
             "stimuli": [{"kind": "pulse", "concept": "a_img", "start": 0.5, "stop": 1.5},
                         {"kind": "clamp", "concept": "b_img", "start": 2.0, "stop": 20.0}]}
    return make_dataset(t, act, n, members=members, attrs=attrs), act


def test_trajectories_show_the_top_concepts_by_peak():
    ds, act = dataset()
    ax = tf.plot_trajectories(ds, top=3)
    labels = [line.get_label() for line in ax.get_lines()]
    # a_img (0.9) and b_img are stimulated: left out of the default ranking
    assert labels == ["c_idea (idea)", "e_goal (goal)", "d_idea (idea)"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), act[:, 2, 0])
    assert ax.get_xlabel() == "time (model time units)" and ax.get_ylabel() == "activation"
    assert ax.get_title().startswith("bumps \u2014 activation of the 3 concepts with the highest peak")
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1
    assert len(ax.patches) == 2  # both stimulus windows shaded (the clamp clipped to t_end)
    texts = [t.get_text() for t in ax.texts]
    assert " a_img" in texts and " b_img (clamp)" in texts   # (this clamp names no value)


def test_trajectories_on_a_given_axes_and_chosen_concepts():
    ds, act = dataset()
    fig, ax = plt.subplots()
    out = tf.plot_trajectories(ds, concepts=["d_idea", "b_img"], ax=ax, stimuli=False)
    assert out is ax and [l.get_label() for l in ax.get_lines()] == ["d_idea (idea)", "b_img (image)"]
    assert not ax.patches
    with pytest.raises(tf.ConfigError, match=r"concepts\[0\]: unknown concept 'd_ide' \(did you mean 'd_idea'\?\)"):
        tf.plot_trajectories(ds, concepts=["d_ide"])
    with pytest.raises(tf.ConfigError, match="top: must be >= 1"):
        tf.plot_trajectories(ds, top=0)


def test_trajectories_by_layer_one_panel_per_layer_top_down():
    ds, _ = dataset()
    axes = tf.plot_trajectories(ds, top=1, by_layer=True)
    assert len(axes) == 3  # the empty "structure" layer is left out
    assert [a.get_ylabel().split("\n")[0] for a in axes] == ["goal", "idea", "image"]
    assert [[l.get_label() for l in a.get_lines()] for a in axes] == [["e_goal"], ["c_idea"], ["a_img"]]
    with pytest.raises(tf.ConfigError, match="by_layer needs 3 Axes"):
        tf.plot_trajectories(ds, by_layer=True, ax=plt.subplots(2)[1])


def test_ensembles_mean_with_band_or_one_member():
    ds, act = dataset(members=4)
    ax = tf.plot_trajectories(ds, concepts=["c_idea"])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), act[:, 2, :].mean(axis=1))
    assert len(ax.collections) == 1  # the 10-90 % band
    assert "mean of 4 members; band: 10-90 %" in ax.get_title()
    ax = tf.plot_trajectories(ds, concepts=["c_idea"], member=2)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), act[:, 2, 2])
    assert not ax.collections and "member 2" in ax.get_title()
    with pytest.raises(tf.ConfigError, match=r"member: must be <= 3 \(got 9\)"):
        tf.plot_heatmap(ds, member=9)
    with pytest.raises(tf.ConfigError, match="member: the result has no ensemble"):
        tf.plot_heatmap(dataset()[0], member=1)


def test_heatmap_orders_by_layer_then_peak_time():
    ds, act = dataset()
    # image: a (peak t=1), b (t=3); idea: d (t=2), c (t=6); goal: e
    order = heatmap_order(ds)
    assert [NAMES[i] for i in order] == ["a_img", "b_img", "d_idea", "c_idea", "e_goal"]
    ax = tf.plot_heatmap(ds)
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(5, -1), act[:, order, 0].T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a_img", "b_img", "d_idea", "c_idea", "e_goal"]
    assert [t.get_text() for t in ax.texts] == ["image", "idea", "goal"]  # layer names beside
    assert ax.get_xlabel() == "time (model time units)"
    cbar = ax.figure.axes[-1]
    assert cbar.get_ylabel() == "activation"
    # large networks: only the concepts with the highest peaks
    top = heatmap_order(ds, max_concepts=2)
    assert [NAMES[i] for i in top] == ["a_img", "c_idea"]


def test_network_snapshot_colours_and_layout():
    ds, act = dataset()
    ax = tf.plot_network(ds, time=6.02)
    nodes = ax.collections[-1]
    np.testing.assert_array_equal(nodes.get_array(), act[60, :, 0])  # nearest saved time t = 6
    offsets = nodes.get_offsets()
    pos = layered_layout(net())
    np.testing.assert_array_equal(offsets, np.array([pos[n] for n in NAMES]))
    assert sorted({y for _, y in pos.values()}) == [0.0, 1.0, 2.0]  # image, idea, goal rows
    assert [t.get_text() for t in ax.get_yticklabels()] == ["image", "idea", "goal"]
    assert "network at t = 6" in ax.get_title()
    assert ax.figure.axes[-1].get_ylabel() == "activation at t = 6"
    # one excitatory and one inhibitory line collection
    assert len(ax.collections) == 3 and ax.get_legend() is not None
    with pytest.raises(tf.ConfigError, match=r"time: 11 is outside the result \[0, 10\]"):
        tf.plot_network(ds, time=11)
    with pytest.raises(tf.ConfigError, match="its concepts differ from the result's"):
        tf.plot_network(ds, network=tf.ConceptNetwork(["x"]))


def test_layout_is_deterministic_and_keeps_neighbours_aligned():
    n = tf.ConceptNetwork({"x1": "image", "x2": "image", "y2": "idea", "y1": "idea"},
                          [("x1", "y1"), ("x2", "y2")])
    pos = layered_layout(n)
    assert pos == layered_layout(n)
    assert pos["y1"][0] == pos["x1"][0] and pos["y2"][0] == pos["x2"][0]


def test_network_from_a_concept_network_and_large_networks():
    ax = tf.plot_network(net())
    assert "network: 5 concepts" in ax.get_title()
    big = tf.ConceptNetwork([f"c{i}" for i in range(100)], [(f"c{i}", f"c{i + 1}") for i in range(99)])
    act = np.zeros((2, 100, 1))
    act[1, :, 0] = np.linspace(0, 1, 100)
    ds = make_dataset(np.array([0.0, 1.0]), act, big, members=1,
                      attrs={"network": network_description(big)})
    ax = tf.plot_network(ds, top=10)
    assert len(ax.collections[-1].get_offsets()) == 10
    np.testing.assert_array_equal(ax.collections[-1].get_array(), act[1, 90:, 0])
    assert "10 most active of 100 concepts" in ax.get_title()
    ds.attrs["network"] = '{"summary": {}}'
    with pytest.raises(tf.ConfigError, match="does not embed its network"):
        tf.plot_network(ds)


def test_overview_and_registry():
    ds, _ = dataset()
    axes = tf.plot_overview(ds)
    assert len(axes) == 5 and len({a.figure for a in axes}) == 1
    assert set(PLOTS) >= {"trajectories", "layers", "heatmap", "network", "overview"}
    assert len(PLOTS["layers"].func(ds)) == 3


def test_matplotlib_is_imported_lazily():
    code = "import sys, thoughtfield; print('matplotlib' in sys.modules)"
    src = Path(__file__).resolve().parents[1] / "src"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(src), "PATH": ""}, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


def test_trajectories_leave_the_stimulated_concepts_out_of_the_default_ranking():
    import thoughtfield as tf
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "causes", 0.5), ("b", "c", "causes", 0.5)])
    ds = tf.simulate(net, tf.Model(tau=1.0), [tf.Pulse("a", 0, 2, 1.0)], t_end=5)
    from thoughtfield import plots
    ax = plots.plot_trajectories(ds, top=2)
    labels = [ln.get_label().split(" (")[0] for ln in ax.lines if not ln.get_label().startswith("_")]
    assert sorted(labels) == ["b", "c"]  # "a", stimulated, has the highest peak but is left out
    assert "stimulated concepts left out" in ax.get_title()


# ------------------------------------------------------------------ time axes (issue 14)
def test_time_label_from_the_attribute_or_the_kind_of_result():
    from thoughtfield.plots import time_label
    ds, _ = dataset()
    assert time_label(ds) == "time (model time units)"           # long_name "time": detected
    for name, label in [("model time", "time (model time units)"), ("spreadr step", "step"),
                        ("time in trial", "time in trial (model time units)")]:
        d = ds.copy()
        d["time"].attrs["long_name"] = name
        assert time_label(d) == label and time_label(d["activation"]) == label
    d = ds.copy()
    d["time"].attrs.clear()
    assert time_label(d) == "time (model time units)"
    d.attrs["method"] = "spreadr"
    assert time_label(d) == "step"
    d = ds.copy()
    d["time"].attrs.clear()
    d.attrs["solver"] = '{"method": "spreadr"}'
    assert time_label(d) == "step"
    assert time_label(ds.expand_dims(trial=2)) == "time in trial (model time units)"


def test_every_time_axis_uses_the_convention():
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "causes", 0.5), ("b", "c", "causes", 0.5)])
    cont = tf.simulate(net, tf.Model(tau=1.0), [tf.Pulse("a", 0, 2, 1.0)], t_end=5)
    disc = tf.simulate(net, tf.Model(), [tf.Pulse("a", 0, 1, 1.0)], t_end=5,
                       solver=tf.Spreadr(retention=0.5))
    for ds, label in [(cont, "time (model time units)"), (disc, "step")]:
        assert tf.plot_trajectories(ds).get_xlabel() == label
        assert tf.plot_trajectories(ds, by_layer=True)[-1].get_xlabel() == label
        assert tf.plot_heatmap(ds).get_xlabel() == label
    assert "step 5" in tf.plot_network(disc).get_title()
    from thoughtfield.analysis.plots import plot_energy
    sym = tf.ConceptNetwork(["a", "b"], [("a", "b", "association", 0.5)])
    run = tf.simulate(sym, tf.Model(tau=1.0), [tf.Pulse("a", 0, 2, 1.0)], t_end=5)
    assert plot_energy(run).get_xlabel() == "time (model time units)"


# ------------------------------------------------------------------ honest legends (issue 14)
def _twins_dataset():
    """d_idea and c_idea identical (one line hides the other); a_img stimulated."""
    ds, act = dataset()
    act = act.copy()
    act[:, 3, 0] = act[:, 2, 0] + 1e-4
    return make_dataset(ds.time.values, act, net(), members=1, attrs=dict(ds.attrs)), act


def test_lines_hidden_under_others_share_one_legend_entry():
    ds, _ = _twins_dataset()
    ax = tf.plot_trajectories(ds, top=3)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["d_idea (idea), c_idea (idea) (overlap)", "e_goal (goal)"]
    assert len(ax.get_lines()) == 2
    axes = tf.plot_trajectories(ds, top=3, by_layer=True)
    idea = [a for a in axes if a.get_ylabel().startswith("idea")][0]
    assert [t.get_text() for t in idea.get_legend().get_texts()] == ["d_idea, c_idea (overlap)"]


def test_layers_and_overview_leave_the_stimulated_concepts_out_of_the_ranking():
    ds, _ = dataset()   # a_img (highest peak) and b_img stimulated; the image layer has only them
    ds2 = ds.copy()
    ds2.attrs["stimuli"] = '[{"kind": "pulse", "concept": "c_idea", "start": 0.5, "stop": 1.5}]'
    axes = tf.plot_trajectories(ds2, top=1, by_layer=True)
    assert [[l.get_label() for l in a.get_lines()] for a in axes] == [["e_goal"], ["d_idea"], ["a_img"]]
    assert "stimulated concepts (shaded) left out" in axes[0].get_title()
    # a layer with only stimulated concepts still shows them; nothing was left out
    axes = tf.plot_trajectories(ds, top=1, by_layer=True)
    assert [[l.get_label() for l in a.get_lines()] for a in axes] == [["e_goal"], ["c_idea"], ["a_img"]]
    assert "left out" not in axes[0].get_title()
    over = tf.plot_overview(ds2, top=1)
    assert [l.get_label() for l in over[1].get_lines()] == ["d_idea"]


# ------------------------------------------------------------------ arrows (issue 14)
def test_network_draws_arrows_for_directed_relations_only():
    from matplotlib.patches import FancyArrowPatch
    ds, _ = dataset()   # association x2, contradicts (symmetric), is_a c_idea -> e_goal (directed)
    ax = tf.plot_network(ds)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 1
    pos = layered_layout(net())
    start, end = arrows[0]._posA_posB
    assert tuple(end) == pos["e_goal"]      # the head at the target
    assert "directed relation" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    sym = tf.ConceptNetwork(["x", "y"], [("x", "y", "association", 1.0)])
    ax = tf.plot_network(sym)
    assert not [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert "directed" not in " ".join(t.get_text() for t in ax.get_legend().get_texts())


# ------------------------------------------------------------------ heatmap scale and labels (issue 14)
def test_heatmap_colour_scale_is_not_swamped_by_the_stimulus():
    ds, act = dataset()
    act = act.copy()
    act[:, 0, 0] *= 10          # the stimulated a_img peaks at 9, the others at <= 0.8
    big = make_dataset(ds.time.values, act, net(), members=1, attrs=dict(ds.attrs))
    ax = tf.plot_heatmap(big)
    mesh = ax.collections[0]
    assert mesh.norm.vmax == pytest.approx(0.8, rel=1e-3) and mesh.norm.vmin == 0.0
    cbar = ax.figure.axes[-1]
    assert "concepts not stimulated" in cbar.get_ylabel()
    assert mesh.colorbar.extend == "max"
    assert "a_img (stimulated)" in [t.get_text() for t in ax.get_yticklabels()]
    # not swamped (a_img 0.9 vs 0.8): the full range, no arrow
    ax = tf.plot_heatmap(ds)
    assert ax.collections[0].norm.vmax == pytest.approx(0.9, rel=1e-3)
    assert ax.collections[0].colorbar.extend == "neither"
    # limits given by the caller are kept
    ax = tf.plot_heatmap(big, vmin=0, vmax=2)
    assert ax.collections[0].norm.vmax == 2 and ax.collections[0].colorbar.extend == "max"


def test_heatmap_labels_the_most_active_rows_when_not_all_fit():
    n = 300
    big = tf.ConceptNetwork([f"c{i:03d}" for i in range(n)])
    t = np.linspace(0, 1, 5)
    act = np.zeros((5, n, 1))
    act[:, :, 0] = np.linspace(0, 1, n)[None, :] * t[:, None]
    ds = make_dataset(t, act, big, members=1, attrs={"network": network_description(big)})
    ax = tf.plot_heatmap(ds, max_concepts=n)
    labels = [tl.get_text() for tl in ax.get_yticklabels()]
    assert 10 < len(labels) < n and "c299" in labels       # the most active is labelled
    assert "of the most active" in ax.get_ylabel()
    ticks = ax.get_yticks()
    assert np.min(np.diff(np.sort(ticks))) >= 2               # no two labels on neighbouring rows


# ------------------------------------------------------------------ uncertainty (issue 14)
def _protocol(members=4, n_trials=8):
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", threshold=1.0, noise=1.0, stop=True)])
    proto = tf.Protocol([tf.Condition("x", [tf.Clamp("a", 0, 3, 0.6), tf.Clamp("b", 0, 3, 0.4)],
                                      correct="a"),
                         tf.Condition("y", [tf.Clamp("a", 0, 3, 0.4), tf.Clamp("b", 0, 3, 0.6)],
                                      correct="b")],
                        duration=3, n_trials=n_trials, record=True)
    return tf.run_protocol(net, model, proto, members=members,
                           solver=tf.Solver("euler_maruyama", dt=0.01), seed=3)


def test_trials_plot_has_bootstrap_error_bars():
    from matplotlib.container import ErrorbarContainer
    from thoughtfield.plots_mechanisms import plot_trials
    ds = _protocol()
    for by_previous, n in [(True, 2), (False, 1)]:
        ax = plot_trials(ds, by_previous=by_previous)
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == n   # RT
        ax2 = [a for a in ax.figure.axes if a is not ax][0]
        assert sum(isinstance(c, ErrorbarContainer) for c in ax2.containers) == n  # accuracy
        assert "95 % bootstrap CI" in ax.get_legend().get_title().get_text()
        assert "4 members" in ax.get_legend().get_title().get_text()


def test_conditions_plot_has_confidence_bands():
    from matplotlib.collections import PolyCollection
    from thoughtfield.plots_mechanisms import plot_conditions
    ds = _protocol()
    axes = plot_conditions(ds)
    for a in axes:
        assert sum(isinstance(c, PolyCollection) for c in a.collections) == 2   # one per option
        assert a.get_xlabel() == "time in trial (model time units)"
    assert "95 % CI of the mean across 4 members" in axes[0].figure._suptitle.get_text()
    one = _protocol(members=1, n_trials=2)   # one trial per condition: no band, said so
    axes = plot_conditions(one)
    assert not any(isinstance(c, PolyCollection) for a in axes for c in a.collections)
    assert "no confidence band" in axes[0].figure._suptitle.get_text()


def test_sweep_plot_shows_intervals_over_members():
    import xarray as xr
    from matplotlib.container import ErrorbarContainer
    t = np.linspace(0, 4, 41)
    rng = np.random.default_rng(0)
    act = rng.uniform(0, 1, (3, 20, t.size, 2)) * t[None, None, :, None] / 4
    ds = xr.Dataset({"activation": (("g", "member", "time", "concept"), act)},
                    coords={"g": [0.0, 1.0, 2.0], "time": t, "concept": ["a", "b"]})
    ax = tf.plot_sweep(ds, kind="final", concepts=["a"])
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 1
    assert "95 % CI over 20 members" in ax.get_legend().get_texts()[0].get_text()
    two = ds.expand_dims(h=[0, 1]).transpose("g", "h", ...)
    axes = tf.plot_sweep(two, kind="choice", concepts=["a", "b"], threshold=0.3)
    texts = [tx.get_text() for tx in axes[0].texts]
    assert any(tx.startswith("[") for tx in texts) and "Wilson" in axes[0].get_title()


def test_evidence_title_gives_confidence_intervals():
    from thoughtfield.plots_mechanisms import plot_evidence
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", threshold=1.0, noise=1.0)])
    ds = tf.simulate(net, model, [tf.Clamp("a", 0, 3, 0.6), tf.Clamp("b", 0, 3, 0.4)], t_end=3,
                     members=30, solver=tf.Solver("euler_maruyama", dt=0.01), seed=1)
    title = plot_evidence(ds).get_title()
    assert "95 % CI over 30 members" in title and "±" in title


# ------------------------------------------------------------------ animation (issue 14)
def test_animation_writes_a_gif_with_the_expected_frames(tmp_path):
    from PIL import Image
    from thoughtfield.plots import animate_network, animation_times
    ds, _ = dataset()                       # 101 saved times
    out = animate_network(ds, str(tmp_path / "a.gif"), frames=7, dpi=40)
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 7
    assert animation_times(ds, 7).tolist() == [0, 17, 33, 50, 67, 83, 100]
    assert len(animation_times(ds.isel(time=slice(0, 5)), 60)) == 5   # never more than saved
    for bad, match in [("a.png", r"an animation is written as a \.gif file"),
                       ("a", r"an animation is written as a \.gif file")]:
        with pytest.raises(tf.ConfigError, match=match):
            animate_network(ds, str(tmp_path / bad))
    with pytest.raises(tf.ConfigError, match="frames: must be <= 300"):
        animate_network(ds, str(tmp_path / "b.gif"), frames=1000)
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "b.gif").exists()


def test_animation_from_the_command_line(tmp_path, capsys):
    from PIL import Image
    from thoughtfield.cli import main
    ds, _ = dataset()
    tf.save_result(ds, tmp_path / "r.nc")
    gif = tmp_path / "s.gif"
    assert main(["plot", str(tmp_path / "r.nc"), "--kind", "animation", "--frames", "5",
                 "--dpi", "40", "--out", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 5
    assert main(["plot", str(tmp_path / "r.nc"), "--kind", "animation", "--out",
                 str(tmp_path / "s.png")]) == 2
    assert "an animation is written as a .gif file" in capsys.readouterr().err
    from matplotlib import animation
    if not animation.writers.is_available("ffmpeg"):
        assert main(["plot", str(tmp_path / "r.nc"), "--kind", "animation", "--out",
                     str(tmp_path / "s.mp4")]) == 2
        assert "writing MP4 needs ffmpeg" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "r.nc"), "--kind", "heatmap", "--frames", "3"]) == 2
    assert "--frames: only for --kind animation" in capsys.readouterr().err


def test_member_summaries_have_bands_unless_the_members_are_identical():
    from matplotlib.collections import PolyCollection
    from thoughtfield.plots_mechanisms import plot_conflict, plot_layers
    net = tf.ConceptNetwork({"a": "image", "b": "image"}, [("a", "b", "contradicts", 1.0)])
    stim = [tf.Clamp("a", 0, 2, 0.6)]
    kw = dict(t_end=2, members=10, solver=tf.Solver("euler_maruyama", dt=0.01), seed=1)
    noisy = tf.simulate(net, tf.Model(sigma=0.2, pools=[tf.Pool("p", ["a", "b"])]), stim, **kw)
    ax = plot_conflict(noisy)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    assert "band: 95 % CI of the mean" in ax.get_title()
    ax = plot_layers(noisy)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    same = tf.simulate(net, tf.Model(pools=[tf.Pool("p", ["a", "b"])]), stim, **kw)
    ax = plot_conflict(same)
    assert not any(isinstance(c, PolyCollection) for c in ax.collections)
    assert "10 members, all identical here" in ax.get_title()


def test_a_clamp_is_named_with_the_value_it_holds():
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 1.0)])
    ds = tf.simulate(net, stimuli=[tf.Clamp("a", 1, 3, value=0.7)], t_end=4.0)
    ax = tf.plot_trajectories(ds)
    texts = [t.get_text().strip() for t in ax.texts]
    assert "a held at 0.7" in texts, texts
    plt.close("all")


def test_trials_accuracy_at_100_percent_has_a_wilson_interval_not_a_zero_width_one():
    from matplotlib.container import ErrorbarContainer
    from thoughtfield.plots_mechanisms import plot_trials
    net = tf.ConceptNetwork(["a", "b"])
    model = tf.Model(transfer="linear", pools=[tf.Pool("p", ["a", "b"])],
                     choices=[tf.Choice("p", on="evidence", threshold=1.0, noise=0.05, stop=True)])
    proto = tf.Protocol([tf.Condition("x", [tf.Clamp("a", 0, 3, 0.9), tf.Clamp("b", 0, 3, 0.1)],
                                      correct="a")], duration=3, n_trials=6, record=True)
    ds = tf.run_protocol(net, model, proto, members=5,
                         solver=tf.Solver("euler_maruyama", dt=0.01), seed=3)
    assert float(ds.correct.mean()) == 1.0
    ax = plot_trials(ds, by_previous=False)
    ax2 = [a for a in ax.figure.axes if a is not ax][0]
    bars = [c for c in ax2.containers if isinstance(c, ErrorbarContainer)][0]
    (seg,) = bars.lines[2][0].get_segments()
    lo, hi = sorted(seg[:, 1])
    n = 5 * 6                                  # every trial of every member in the cell
    z = 1.959963984540054                      # the 97.5 % normal quantile
    assert hi == pytest.approx(1.0) and lo == pytest.approx(n / (n + z * z), rel=1e-9)
    assert "Wilson" in ax.get_legend().get_title().get_text()


def test_identical_members_are_not_called_a_mean():
    from thoughtfield.summary import activity_lines
    net = tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 1.0)])
    same = tf.simulate(net, stimuli=[tf.Pulse("a", 0, 1)], t_end=2.0, members=3)
    ax = tf.plot_trajectories(same)
    assert "all 3 members identical here" in ax.get_title() and "mean of" not in ax.get_title()
    assert "(all 3 members identical here)" in activity_lines(same)[0]
    noisy = tf.simulate(net, tf.Model(sigma=0.3), stimuli=[tf.Pulse("a", 0, 1)], t_end=2.0,
                        members=3, seed=1, solver=tf.Solver("euler_maruyama", dt=0.01))
    assert "mean of 3 members" in tf.plot_trajectories(noisy).get_title()
    assert "(mean of 3 members)" in activity_lines(noisy)[0]
    plt.close("all")


def test_a_sweep_dimension_named_like_a_variable_is_not_taken_for_it():
    from thoughtfield.plots_mechanisms import plot_evidence
    ds = tf.simulate(tf.ConceptNetwork(["a"]), t_end=1.0).expand_dims(evidence=[1.0, 2.0])
    with pytest.raises(tf.ConfigError, match=r"plot 'evidence': the result has no 'evidence'"):
        plot_evidence(ds)
