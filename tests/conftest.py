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


def phi_kernel(code, x):
    """The compiled block transfer ``phi_block`` applied to a copy of ``x``."""
    from thoughtfield._kernels.transfer import phi_block
    n = x.size
    buf = np.array(x, dtype=np.float64)
    ebuf = np.empty(n)
    ibuf = np.empty(n, dtype=np.int64)
    phi_block(code, buf, n, ebuf, ibuf, ibuf.view(np.float64))
    return buf


def nonlinear_setup(n=60):
    """A random tanh network with per-concept parameters and its numpy right-hand side
    ``f(t, a)`` (the reference problem of the solver tests)."""
    net = random_network(n, k=6, seed=3, scale=1.5)
    rng = np.random.default_rng(4)
    tau = rng.uniform(0.5, 2.0, n)
    gain = rng.uniform(1.0, 3.0, n)
    thr = rng.normal(0, 0.3, n)
    bias = rng.normal(0, 0.5, n)
    a0 = rng.uniform(0, 1, n)
    model = tf.Model(tau=tau, transfer="tanh", gain=gain, threshold=thr, bias=bias, initial=a0)
    W = net.weight_matrix()

    def f(t, a):
        return (-a + np.tanh(gain * (W @ a + bias - thr))) / tau

    return net, model, f, a0


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load) every kernel once for the whole session, before any test: tests
    that start subprocesses then find a complete on-disk cache, and no test pays a cold
    compile inside its own timeout."""
    return tf.compile_kernels(verbose=True)


@pytest.fixture
def small_net():
    return tf.ConceptNetwork(
        {"sun": "image", "sea": "image", "sand": "image", "beach": "idea", "holiday": "structure"},
        [("sun", "beach", "association", 0.8), ("sea", "beach", "association", 0.9),
         ("sand", "beach", "association", 0.7), ("beach", "holiday", "is_a", 1.0),
         ("sun", "sea", "contradicts", 0.3)],
    )


def pytest_terminal_summary(terminalreporter):
    """Counts of the fuzz tests (tests/_fuzz.py), when any ran."""
    import sys
    mod = sys.modules.get("_fuzz")
    if mod is None or not (mod.STATS.malformed or mod.STATS.accepted):
        return
    s = mod.STATS
    tr = terminalreporter
    tr.section("fuzz")
    tr.write_line(f"{s.total()} malformed inputs ended in a ThoughtfieldError "
                  f"({len(s.templates)} distinct message templates); "
                  f"{sum(s.accepted.values())} generated inputs were valid")
    for name in sorted(set(s.malformed) | set(s.accepted)):
        tr.write_line(f"  {name}: {s.malformed[name]} malformed, {s.accepted[name]} valid")
    tr.write_line("  error types: " + ", ".join(f"{k} {v}" for k, v in s.types.most_common()))
    import os
    dump = os.environ.get("THOUGHTFIELD_FUZZ_DUMP")
    if dump:   # one example message per template, for reviewing the messages
        with open(dump, "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(s.templates.values())) + "\n")
