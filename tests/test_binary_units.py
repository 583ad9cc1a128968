"""Binary units (issue 20): the ``sign`` and ``step`` transfers with ``euler`` at
``dt = tau`` are the synchronous discrete update ``a <- f(g (W a + I - theta))``; checked
against the update written out here in integer arithmetic, against the storage capacity
of the binary Hopfield network (Amit, Gutfreund & Sompolinsky 1985: alpha_c = 0.138),
against McCulloch-Pitts logic, and the noisy ("flip") cue."""

import warnings

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.datasets import blank

N = 1000
NET = blank(N, prefix="n")


def _hopfield(P, seed, flip=0.1, steps=30):
    ideas = tf.Ideas.random(NET, P, kind="pm1", seed=seed, normalize=True)
    x0 = ideas.cue(NET, "pattern0", flip, seed=seed + 100, mode="flip")
    model = tf.Model(transfer="sign", gain=1.0, threshold=0.0, tau=1.0, ideas=ideas,
                     initial=x0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # dt = tau is the discrete update: no warning
        ds = tf.simulate(NET, model, t_end=steps, solver=tf.Solver("euler", dt=1.0),
                         saveat=tf.SaveAt(dt=1.0))
    return ideas, x0, ds


def test_the_synchronous_update_equals_the_integer_reference():
    """P (N - 1) odd: every local field is an odd multiple of 1/N, never 0, so the update
    is exact and the trajectories agree to the last bit."""
    ideas, x0, ds = _hopfield(101, seed=5, flip=0.2, steps=12)
    X = ideas.patterns(NET).astype(np.int64)
    W = X.T @ X
    np.fill_diagonal(W, 0)
    s = x0.astype(np.int64)
    ref = [s]
    for _ in range(12):
        s = np.where(W @ s >= 0, 1, -1)
        ref.append(s)
    np.testing.assert_array_equal(ds.activation.values, np.array(ref, dtype=np.float64))
    assert not np.array_equal(ref[0], ref[-1])   # the cue was repaired on the way


def test_retrieval_succeeds_below_the_capacity_and_fails_above():
    """N = 1000 from a cue with 10 % of the bits flipped: at alpha = 0.10 every pattern
    is retrieved (overlap about 0.998, AGS: 1 - 2 x 0.1 % errors); at alpha = 0.16, above
    alpha_c = 0.138, retrieval breaks down in a large share of the trials (finite N blurs
    the transition; the failed ones end near an overlap of 0.4)."""
    low = [float(_hopfield(101, s)[2].idea_overlap.sel(idea="pattern0")[-1]) for s in range(8)]
    high = [float(_hopfield(161, s)[2].idea_overlap.sel(idea="pattern0")[-1]) for s in range(8)]
    assert min(low) > 0.98 and np.mean(low) > 0.99
    assert np.mean(high) < 0.85 and sum(m < 0.7 for m in high) >= 3


def test_step_units_compute_mcculloch_pitts_logic():
    """A step unit fires when its weighted input reaches the threshold: with weights 1,
    threshold 1.5 is AND and 0.5 is OR (inputs clamped)."""
    net = tf.ConceptNetwork(["x", "y", "and", "or"],
                            [("x", "and", "link", 1.0), ("y", "and", "link", 1.0),
                             ("x", "or", "link", 1.0), ("y", "or", "link", 1.0)])
    model = tf.Model(transfer="step", gain=1.0, tau=1.0,
                     threshold={"*": 0.5, "and": 1.5})
    for x in (0.0, 1.0):
        for y in (0.0, 1.0):
            ds = tf.simulate(net, model, [tf.Clamp("x", 0, 3, x), tf.Clamp("y", 0, 3, y)],
                             t_end=3, solver=tf.Solver("euler", dt=1.0),
                             saveat=tf.SaveAt(dt=1.0))
            end = ds.activation.isel(time=-1)
            assert float(end.sel(concept="and")) == float(x and y)
            assert float(end.sel(concept="or")) == float(x or y)


def test_the_flip_cue_flips_the_share_asked_for():
    ideas = tf.Ideas.random(NET, 3, kind="pm1", seed=1)
    x = ideas.patterns(NET)[0]
    cue = ideas.cue(NET, "pattern0", 0.15, seed=2, mode="flip")
    assert np.count_nonzero(cue != x) == 150 and set(np.unique(cue)) == {-1.0, 1.0}
    assert float(cue @ x) / N == pytest.approx(1 - 2 * 0.15)
    sets = tf.Ideas([tf.Idea("s", concepts=["n0", "n1", "n2"])])
    flipped = sets.cue(NET, "s", 0.01, seed=0, mode="flip")
    assert set(np.unique(flipped)) <= {0.0, 1.0}
    assert np.count_nonzero(flipped != sets.patterns(NET)[0]) == 10
    partial = ideas.cue(NET, "pattern0", 0.4, seed=2)   # the default mode: zeros elsewhere
    assert np.count_nonzero(partial) == 400 and np.all(partial[partial != 0] ==
                                                       x[partial != 0])
    with pytest.raises(tf.ConfigError, match="ideas.cue.mode: must be one of"):
        ideas.cue(NET, "pattern0", 0.1, mode="flipp")


def test_the_energy_refuses_binary_units():
    _, _, ds = _hopfield(11, seed=0, steps=2)
    with pytest.raises(tf.ConfigError, match="transfer 'sign' has no integral of its inverse"):
        tf.energy(ds)
