"""Cost of the mechanism terms per right-hand-side evaluation.

    python benchmarks/mechanisms_overhead.py [--sizes 1e4 1e5] [--repeat 7]

A random network (10 edges per concept, tanh units) is evaluated with the reference model
and with each mechanism added on its own, then with all of them; every variant's RHS is
called in a compiled loop (no Python per call) and timed alternately with the reference,
so machine load affects both alike.  Reported: the minimum and median time per
evaluation and the median ratio to the reference.
"""

import argparse
import time

import numpy as np
from numba import njit

import thoughtfield as tf
from thoughtfield._kernels.rhs import rhs


@njit
def _loop(P, W, y, dy, n):
    s = 0.0
    for _ in range(n):
        mx, bad = rhs(P, W, 0.0, y, dy)
        s += mx
    return s


def network(n, k=10, seed=0):
    rng = np.random.default_rng(seed)
    net = tf.ConceptNetwork()
    layers = tf.DEFAULT_LAYERS
    for i in range(n):
        net.add_concept(f"c{i}", layers[i % 4])
    src = rng.integers(0, n, n * k)
    tgt = np.repeat(np.arange(n), k)
    net.add_relation_arrays(src, tgt, rng.normal(0, 1 / np.sqrt(k), n * k), "link")
    goals = rng.integers(0, n, n // 100)
    net.add_relation_arrays(goals, rng.integers(0, n, goals.size), 1.0, "favours")
    return net


def variants(net):
    n = net.n
    base = dict(transfer="tanh", gain=1.5, bias=0.1, initial=0.1)
    pool3 = tf.Pool("resp", [f"c{i}" for i in range(3)], inhibition=1.0)
    return {
        "reference": tf.Model(**base),
        "potential form": tf.Model(**base, form="potential"),
        "goal bias (favours, 1% of concepts)": tf.Model(**base, goals=tf.Goals(gain=0.5)),
        "pool over every concept": tf.Model(**base, pools=[tf.Pool("all", layer="*", inhibition=0.01)]),
        "adaptation": tf.Model(**base, adaptation=tf.Adaptation(tau=10.0, strength=0.5)),
        "10 dense patterns (low rank)": tf.Model(**base, ideas=tf.Ideas.random(net, 10, seed=1, strength=0.5)),
        "choice + evidence + control (3-concept pool)": tf.Model(
            **base, pools=[pool3], goals=tf.Goals(gain=0.5),
            choices=[tf.Choice("resp", on="evidence", threshold=1e9)],
            controls=[tf.Control(["resp"], tau=1.0)]),
        "all of the above": tf.Model(
            **base, pools=[tf.Pool("all", layer="*", inhibition=0.01), pool3],
            goals=tf.Goals(gain=0.5), adaptation=tf.Adaptation(tau=10.0, strength=0.5),
            ideas=tf.Ideas.random(net, 10, seed=1, strength=0.5),
            choices=[tf.Choice("resp", on="evidence", threshold=1e9)],
            controls=[tf.Control(["resp"], tau=1.0)]),
    }


def prepared(net, model):
    sim = tf.Simulation(net, model, t_end=1.0, solver=tf.Solver("rk4", dt=0.01), saveat=tf.SaveAt(times=[1.0]),
                        threads=1)
    y = sim.state.y.copy()
    return sim.problem, sim.work, y, np.zeros_like(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5])
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    for nf in a.sizes:
        n = int(nf)
        net = network(n)
        reps = max(5, 2 * 10**6 // (n * 10))
        ref = prepared(net, variants(net)["reference"])
        _loop(*ref, 2)
        print(f"N = {n:.0e} ({net.n_relations} relations), {reps} evaluations per timing:")
        for name, model in variants(net).items():
            v = prepared(net, model)
            _loop(*v, 2)
            tr, tv = [], []
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                _loop(*ref, reps)
                tr.append((time.perf_counter() - t0) / reps)
                t0 = time.perf_counter()
                _loop(*v, reps)
                tv.append((time.perf_counter() - t0) / reps)
            ratio = float(np.median(np.array(tv) / np.array(tr)))
            print(f"  {name:<46} min {min(tv) * 1e3:8.3f} ms  median {np.median(tv) * 1e3:8.3f} ms"
                  f"  x{ratio:5.2f} of the reference")


if __name__ == "__main__":
    main()
