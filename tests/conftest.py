import numpy as np
import pytest

import thoughtfield as tf


def random_network(n, k=6, seed=0, scale=1.0, signed=True, layers=tf.DEFAULT_LAYERS):
    """A random directed network with about ``k`` in-edges per concept and signed weights."""
    rng = np.random.default_rng(seed)
    net = tf.ConceptNetwork(layers=layers)
    for i in range(n):
        net.add_concept(f"c{i}", layers[i % len(layers)])
    src = rng.integers(0, n, size=n * k)
    tgt = np.repeat(np.arange(n), k)
    keep = src != tgt
    w = rng.normal(0, scale / np.sqrt(k), size=keep.sum())
    if not signed:
        w = np.abs(w)
    net.add_relation_arrays(src[keep], tgt[keep], w, "link")
    return net


@pytest.fixture
def small_net():
    return tf.ConceptNetwork(
        {"sun": "image", "sea": "image", "sand": "image", "beach": "idea", "holiday": "structure"},
        [("sun", "beach", "association", 0.8), ("sea", "beach", "association", 0.9),
         ("sand", "beach", "association", 0.7), ("beach", "holiday", "is_a", 1.0),
         ("sun", "sea", "contradicts", 0.3)],
    )
