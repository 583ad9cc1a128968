"""Core engine versus a plain numpy/scipy.sparse RK4 loop, in one process.

    python benchmarks/core_vs_numpy.py [--sizes 1e4 1e6] [--transfer tanh]

Reports, per size: time of one right-hand-side evaluation (thoughtfield kernel vs
numpy/scipy.sparse), RHS evaluations per second, and whole fixed-step RK4 runs over
T = 10 tau with dt = 0.01 tau (1000 steps; fewer at 1e6, see --steps), plus the largest
difference between the two final states.
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp

import thoughtfield as tf
from thoughtfield._kernels.rhs import rhs


def make(n, k=10, seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, n * k)
    tgt = np.repeat(np.arange(n), k)
    w = rng.normal(0, 1 / np.sqrt(k), n * k)
    net = tf.ConceptNetwork()
    net._names = [f"c{i}" for i in range(n)]  # fast bulk construction for benchmarks
    net._index = {nm: i for i, nm in enumerate(net._names)}
    net._layer_of = [0] * n
    net.add_relation_arrays(src, tgt, w, "link")
    return net


def best(f, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e6])
    ap.add_argument("--transfer", default="tanh")
    ap.add_argument("--steps", type=int, default=None, help="RK4 steps (default 1000, 100 at N>=1e6)")
    a = ap.parse_args()
    for nf in a.sizes:
        n = int(nf)
        net = make(n)
        W = net.weight_matrix()
        bias = 0.1
        model = tf.Model(transfer=a.transfer, gain=1.5, bias=bias, initial=0.1)
        steps = a.steps or (100 if n >= 10**6 else 1000)
        dt = 0.01
        T = steps * dt
        sim = tf.Simulation(net, model, t_end=T, solver=tf.Solver("rk4", dt=dt), saveat=tf.SaveAt(times=[T]))
        y = np.full(n, 0.1)
        dy = np.empty(n)
        rhs(sim.problem, sim.work, 0.0, y, dy)
        phi = {"tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "linear": lambda x: x}[a.transfer]

        def f_np(a_):
            return -a_ + phi(1.5 * (W @ a_ + bias))

        rep = 20 if n <= 10**5 else 5
        t_k = best(lambda: rhs(sim.problem, sim.work, 0.0, y, dy), rep)
        t_n = best(lambda: f_np(y), rep)
        assert np.allclose(dy, f_np(y), atol=1e-12)
        nnz = W.nnz
        bytes_ = nnz * 12 + n * 8 * 3
        print(f"N={n:.0e} nnz={nnz}: RHS thoughtfield {t_k * 1e3:.3f} ms ({1 / t_k:.0f}/s, "
              f"{bytes_ / t_k / 1e9:.1f} GB/s eff.)  numpy/scipy {t_n * 1e3:.3f} ms ({1 / t_n:.0f}/s)"
              f"  ratio {t_n / t_k:.2f}x")

        def rk4_numpy():
            a_ = np.full(n, 0.1)
            for _ in range(steps):
                k1 = f_np(a_)
                k2 = f_np(a_ + 0.5 * dt * k1)
                k3 = f_np(a_ + 0.5 * dt * k2)
                k4 = f_np(a_ + dt * k3)
                a_ = a_ + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            return a_

        t0 = time.perf_counter()
        ref = rk4_numpy()
        t_np = time.perf_counter() - t0
        t0 = time.perf_counter()
        sim = tf.Simulation(net, model, t_end=T, solver=tf.Solver("rk4", dt=dt), saveat=tf.SaveAt(times=[T]))
        ds = sim.run()
        t_tf = time.perf_counter() - t0
        err = np.abs(ds.activation.values[-1] - ref).max()
        print(f"   RK4 {steps} steps: thoughtfield {t_tf:.3f} s (kernel {sim.wall_time:.3f} s)  "
              f"numpy loop {t_np:.3f} s  ratio {t_np / t_tf:.2f}x  max|diff| {err:.1e}")


if __name__ == "__main__":
    main()
