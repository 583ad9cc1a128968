"""WordNet load time and runs; the discrete spreadr mode against numpy/scipy and SpreadPy.

    python benchmarks/wordnet_and_spreadr.py [--repeat 5] [--no-spreadpy]

Everything runs in one process with the candidates interleaved (the machine is shared;
report min and median).  Measured:

1. size of the bundled WordNet files; cold load (a fresh interpreter: import + load of
   the full noun network, in subprocesses) and warm load in this process;
2. a continuous run on the full noun network (82,115 concepts; the priming example:
   degree-normalised, satlin, dopri5 rtol 1e-5, t = 0..20);
3. 100 discrete (spreadr) steps on the full noun network (antonyms left out);
4. 100 discrete steps on a random network of 10,000 concepts with about 7 neighbours
   each: thoughtfield vs a plain numpy/scipy.sparse loop of the same update vs SpreadPy's
   BaseSpreading (uniform spreading on the same undirected graph; its in-place sweep is
   order-dependent, so its numbers differ -- the largest difference is reported).
"""

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

import thoughtfield as tf
from thoughtfield.datasets import _wordnet as wn


def stats(ts):
    return f"min {min(ts):.4g} s, median {statistics.median(ts):.4g} s (n={len(ts)})"


def cold_load(repeat):
    code = ("import time; t=time.perf_counter(); import thoughtfield as tf; t1=time.perf_counter();"
            "net=tf.datasets.wordnet(pos='n'); t2=time.perf_counter(); print(t1-t, t2-t1)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(os.path.dirname(__file__), "..", "src")
    imp, load = [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True).stdout.split()
        imp.append(float(out[0]))
        load.append(float(out[1]))
    return imp, load


def random_graph(n=10_000, k=7, seed=0):
    """Undirected simple graph with about k neighbours per node (n*k/2 edges)."""
    rng = np.random.default_rng(seed)
    m = n * k // 2
    u = rng.integers(0, n, 2 * m)
    v = rng.integers(0, n, 2 * m)
    keep = u != v
    a, b = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    pairs = np.unique(np.stack([a, b], 1), axis=0)[:m]
    return pairs


def numpy_spread(AT, a0, r, d, sup, steps):
    """The same update with numpy/scipy: AT = A^T in CSR (rows = targets)."""
    deg = np.asarray(AT.sum(axis=0)).ravel()
    leaf = deg == 0
    coef = np.where(leaf, 0.0, (1 - r) / np.where(leaf, 1, deg))
    keep = np.where(leaf, 1.0, r)
    a = a0.copy()
    out = np.empty((steps + 1, a.size))
    out[0] = a
    for t in range(1, steps + 1):
        a = (1 - d) * (keep * a + AT @ (coef * a))
        a[a < sup] = 0.0
        out[t] = a
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-spreadpy", action="store_true")
    args = ap.parse_args()
    R = args.repeat

    # 1. WordNet files and load
    size = {os.path.basename(p): os.path.getsize(p) for p in (wn.NETWORK_FILE, wn.GLOSS_FILE)}
    print("bundled WordNet files:", {k: f"{v / 2**20:.2f} MiB" for k, v in size.items()},
          f"total {sum(size.values()) / 2**20:.2f} MiB")
    imp, load = cold_load(R)
    print("fresh process: import thoughtfield", stats(imp), "| load noun network", stats(load))
    warm = []
    for _ in range(R):
        t = time.perf_counter()
        tf.datasets.wordnet(pos="n")
        warm.append(time.perf_counter() - t)
    print("warm load (noun network, arrays cached)", stats(warm))
    t = time.perf_counter()
    full = tf.datasets.wordnet()
    print(f"full network (all parts of speech): {time.perf_counter() - t:.3f} s, {full}")

    # 2 and 3: runs on the noun network
    nouns = tf.datasets.wordnet(pos="n")
    normed = nouns.normalized()
    model = tf.Model(transfer="satlin", gain=1.2, threshold=0.0, tau=1.0)
    stim = [tf.Pulse("dog.n.01", 0.0, 5.0, 1.0)]
    spread_net = nouns.drop_types(["contradicts"])
    cont, disc = [], []
    for _ in range(R):
        t = time.perf_counter()
        ds = tf.simulate(normed, model, stim, t_end=20.0, saveat=tf.SaveAt(dt=0.25), seed=0,
                         solver=tf.Solver("dopri5", rtol=1e-5, atol=1e-8))
        cont.append(time.perf_counter() - t)
        t = time.perf_counter()
        dsim = tf.make_simulation(spread_net, stimuli=[tf.Pulse("dog.n.01", 0, 1, 1.0)], t_end=100,
                                  solver=tf.Spreadr(retention=0.5, decay=0.05))
        dd = dsim.run()
        disc.append(time.perf_counter() - t)
    print(f"continuous run, noun network ({nouns.n} concepts, {normed.weight_matrix().nnz} "
          f"couplings, dopri5: {ds.attrs['n_steps']} steps, {ds.attrs['n_rhs']} RHS):", stats(cont))
    print(f"100 discrete steps, noun network (simulate() total, all 101 states saved; "
          f"kernel {dsim.wall_time:.4f} s):", stats(disc))

    # 4. random 10,000-concept network
    n = 10_000
    pairs = random_graph(n)
    names = [f"c{i}" for i in range(n)]
    net = tf.ConceptNetwork.from_arrays(names, relations={"association": (pairs[:, 0],
                                                                          pairs[:, 1])})
    W = net.weight_matrix()
    print(f"random network: {n} concepts, {pairs.shape[0]} undirected relations, "
          f"{W.nnz} couplings ({W.nnz / n:.1f} per concept)")
    r, d, sup, steps = 0.5, 0.1, 0.0, 100   # spreadr defaults except decay
    start = 0
    a0 = np.zeros(n)
    a0[start] = 100.0
    AT = W.tocsr()
    spreadpy = None
    if not args.no_spreadpy:
        try:
            import networkx as nx
            from SpreadPy.Models.models import BaseSpreading
            g = nx.Graph()
            g.add_nodes_from(range(n))
            g.add_edges_from(map(tuple, pairs.tolist()))

            def spreadpy(k=steps):
                model = BaseSpreading(g, retention=r, decay=d, suppress=sup)
                model.status = {i: (100.0 if i == start else 0.0) for i in g.nodes}
                with contextlib.redirect_stderr(io.StringIO()):   # its tqdm bar
                    model.iteration_bunch(k + 1)                    # the first returns t0
                return model.status
        except ImportError as e:
            print(f"SpreadPy not available ({e})")
    t_tf, t_np, t_sp, t_kernel = [], [], [], []
    for _ in range(R):
        t = time.perf_counter()
        sim = tf.make_simulation(net, stimuli=[tf.Pulse(names[start], 0, 1, 100.0)], t_end=steps,
                                 solver=tf.Spreadr(retention=r, decay=d, suppress=sup))
        ds = sim.run()
        t_tf.append(time.perf_counter() - t)
        t_kernel.append(sim.wall_time)
        t = time.perf_counter()
        ref = numpy_spread(AT, a0, r, d, sup, steps)
        t_np.append(time.perf_counter() - t)
        if spreadpy is not None:
            t = time.perf_counter()
            res = spreadpy()
            t_sp.append(time.perf_counter() - t)
    print("  thoughtfield simulate() (validation, build, run, Dataset):", stats(t_tf))
    print("  thoughtfield kernel only:", stats(t_kernel))
    print("  numpy/scipy.sparse loop:", stats(t_np),
          f"| max |difference| to thoughtfield {np.abs(ds.activation.values - ref).max():.2e}")
    if t_sp:
        for k in (1, 2, 10, steps):
            st = spreadpy(k)
            mine = ds.activation.values[k]
            diff = max(abs(st[i] - mine[i]) for i in range(n))
            print(f"  SpreadPy vs thoughtfield at step {k}: max |difference| {diff:.3g} "
                  f"(largest activation {mine.max():.3g}; SpreadPy sweeps in place in node "
                  "order and suppresses before decaying)")
        print("  SpreadPy BaseSpreading:", stats(t_sp))


if __name__ == "__main__":
    main()
