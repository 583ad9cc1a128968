"""The issue-6 examples as Python (the config loader that would run them as
``simulations/wordnet_priming.toml`` and ``simulations/spreadr_discrete.toml`` is being
written separately; these are their exact equivalents).

1. WordNet priming: stimulate *dog* on the full WordNet noun network (continuous
   dynamics) and see which concepts become active over time.
2. The discrete spreadr mode on a small network (a WordNet ego network), exported as
   spreadr's long table.
"""

import numpy as np

import thoughtfield as tf


def wordnet_priming(word="dog.n.01", t_end=20.0):
    """``[network] dataset = "wordnet", options = {pos = ["n"], normalize = true}``,
    ``[model] transfer = "satlin", gain = 1.2``, one pulse on ``word`` for 5 time units,
    ``[solver] method = "dopri5", rtol = 1e-5``."""
    net = tf.datasets.wordnet(pos="n").normalized()
    model = tf.Model(transfer="satlin", gain=1.2, threshold=0.0, tau=1.0)
    ds = tf.simulate(net, model, [tf.Pulse(word, 0.0, 5.0, 1.0)], t_end=t_end, save_dt=0.25,
                     solver=tf.Solver("dopri5", rtol=1e-5, atol=1e-8), seed=0)
    return net, ds


def active_over_time(ds, level=0.01, top=5):
    """``{time: [(concept, activation), ...]}`` for the most active concepts above ``level``."""
    out = {}
    a = ds.activation.values
    names = ds.concept.values
    for k, t in enumerate(ds.time.values):
        order = np.argsort(-a[k])[:top]
        out[float(t)] = [(str(names[i]), float(a[k, i])) for i in order if a[k, i] > level]
    return out


def plot_top_traces(ds, k=8, ax=None):
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    peak = ds.activation.max("time").values
    for i in np.argsort(-peak)[:k]:
        ax.plot(ds.time.values, ds.activation.values[:, i], label=str(ds.concept.values[i]))
    ax.set_xlabel("time")
    ax.set_ylabel("activation")
    ax.legend(fontsize=7)
    return ax


def test_wordnet_priming_example(tmp_path):
    net, ds = wordnet_priming()
    word = "dog.n.01"
    a = ds.activation.values
    seen = active_over_time(ds)
    assert seen[1.0][0][0] == word
    assert {c for c, _ in seen[5.0]} & {"pack.n.06", "domestic_animal.n.01", "canis.n.01"}
    # activation arrives later the further a concept is from the stimulated word
    rings = [net.neighbourhood(word, h) for h in range(4)]
    first = np.where((a > 1e-3).any(axis=0), np.argmax(a > 1e-3, axis=0), a.shape[0])
    mean_first = [ds.time.values[np.minimum(first[rings[h] & ~rings[h - 1]],
                                            a.shape[0] - 1)].mean() for h in (1, 2, 3)]
    assert mean_first[0] < mean_first[1] < mean_first[2]
    # the normalised network keeps the dynamics contracting: activity fades after the pulse
    total = a.sum(axis=1)
    assert total[-1] < 0.2 * total.max()
    assert np.isfinite(a).all() and a.min() > -1e-7   # >= 0 up to the solver tolerance
    import matplotlib
    matplotlib.use("Agg")
    ax = plot_top_traces(ds)
    ax.figure.savefig(tmp_path / "priming.png")
    assert (tmp_path / "priming.png").stat().st_size > 0


def spreadr_discrete_example():
    """``[network] dataset = "wordnet"`` reduced to the 2-hop ego network of *dog* without
    antonyms; ``[solver] method = "spreadr", retention = 0.5, decay = 0.1``;
    ``[[stimuli]] concept = "dog.n.01", start = 0, stop = 1, amplitude = 20``;
    ``[run] t_end = 10``."""
    net = tf.datasets.wordnet(pos="n", relations=["hypernym", "instance_hypernym", "meronym"])
    ego = net.ego("dog.n.01", 2)
    ds = tf.simulate(ego, stimuli=[tf.Pulse("dog.n.01", 0, 1, 20.0)], t_end=10,
                     solver=tf.Spreadr(retention=0.5, decay=0.1))
    return ego, ds


def test_spreadr_discrete_example(tmp_path):
    ego, ds = spreadr_discrete_example()
    a = ds.activation.values
    # without suppress, decay removes exactly 10 % of all activation per step
    np.testing.assert_allclose(a.sum(axis=1), 20.0 * 0.9 ** np.arange(11), rtol=1e-12)
    # activation travels at most one relation per step
    for t in range(4):
        reach = ego.neighbourhood("dog.n.01", t)
        assert (a[t][~reach] == 0).all() and (a[t][reach] > 0).any()
    tf.io.write_spreadr_table(ds, tmp_path / "dog_spread.csv")
    lines = (tmp_path / "dog_spread.csv").read_text().splitlines()
    assert lines[0] == "node,activation,time" and len(lines) == 1 + 10 * ego.n
