"""The issue-6 example configs do what their comments say:
``simulations/wordnet_priming.toml`` and ``simulations/spreadr_discrete.toml``."""

from pathlib import Path

import numpy as np

import thoughtfield as tf

SIM = Path(__file__).resolve().parents[1] / "simulations"


def test_wordnet_priming_tells_its_story(tmp_path):
    cfg = tf.load_config(SIM / "wordnet_priming.toml")
    net = cfg.network
    assert net.n == 82_115 and net == tf.datasets.wordnet(pos="n").normalized()
    ds = cfg.run_simulation()
    word = "dog.n.01"
    a = ds.activation.values
    t = ds.time.values
    top = lambda time: [str(c) for c in ds.concept.values[np.argsort(-a[np.searchsorted(t, time)])[:6]]]  # noqa: E731
    assert top(1.0)[0] == word
    assert {"pack.n.06", "domestic_animal.n.01", "canis.n.01"} <= set(top(5.0))
    # activation arrives later the further a concept is from the stimulated word
    rings = [net.neighbourhood(word, h) for h in range(4)]
    first = np.where((a > 1e-3).any(axis=0), np.argmax(a > 1e-3, axis=0), a.shape[0] - 1)
    mean_first = [t[first[rings[h] & ~rings[h - 1]]].mean() for h in (1, 2, 3)]
    assert mean_first[0] < mean_first[1] < mean_first[2]
    # the normalised network is contracting: the activity fades after the pulse
    total = a.sum(axis=1)
    assert total[-1] < 0.2 * total.max()
    assert np.isfinite(a).all() and a.min() > -1e-7     # >= 0 up to the solver tolerance
    ax = tf.plot_trajectories(ds)
    ax.figure.savefig(tmp_path / "priming.png")
    assert (tmp_path / "priming.png").stat().st_size > 0


def test_spreadr_discrete_tells_its_story(tmp_path):
    cfg = tf.load_config(SIM / "spreadr_discrete.toml")
    ds = cfg.run_simulation()
    net = cfg.network
    a = ds.activation.sel(concept=list(net.concepts)).values
    # the same run from Python
    py = tf.simulate(net, stimuli=[tf.Pulse("dog", 0, 1, 20.0), tf.Pulse("cheese", 5, 6, 10.0)],
                     solver=tf.Spreadr(retention={"*": 0.5, "pet": 0.8}, decay=0.1,
                                       suppress=0.01), t_end=10)
    np.testing.assert_array_equal(py.activation.values, ds.activation.values)
    # activation travels at most one relation per step (before the second injection)
    for step in range(5):
        reach = net.neighbourhood("dog", step)
        assert (a[step][~reach] == 0).all() and (a[step][reach] > 0).any()
    # nothing was suppressed before step 5: decay removes exactly 10 % per step
    np.testing.assert_allclose(a[:5].sum(axis=1), 20.0 * 0.9 ** np.arange(5), rtol=1e-12)
    assert a[5][net.index("cheese")] >= 10.0
    # skeleton has no out-going coupling: it only gains (up to the decay)
    sk = a[:, net.index("skeleton")]
    assert (sk[1:] >= 0.9 * sk[:-1] - 1e-12).all()
    tf.io.write_spreadr_table(ds, tmp_path / "dog.csv")
    lines = (tmp_path / "dog.csv").read_text().splitlines()
    assert lines[0] == "node,activation,time" and len(lines) == 1 + 10 * net.n
