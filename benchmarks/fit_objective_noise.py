"""How noisy is the simulated objective?  The G2 objective of one data set (200 trials per
condition of simulations/fit_choice.toml at rate 1.5, threshold 1.0; the recovery
benchmark's first data set, seed 1000) at a few parameter values, simulated with
n_sim = 200 trials per condition under four noise streams (common random numbers) and
with n_sim = 3000 under one.

    PYTHONPATH=src python benchmarks/fit_objective_noise.py
"""

import importlib
import os

import numpy as np

import thoughtfield as tf

F = importlib.import_module("thoughtfield.fit")
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulations",
                      "fit_choice.toml")
POINTS = [(1.5, 1.0), (1.69, 1.13), (2.03, 1.275), (1.2, 0.85)]


def main():
    params = F.as_params({"choices[0].rate": (0.5, 3.0), "choices[0].threshold": (0.5, 2.0)})
    cfg = tf.load_config(CONFIG)
    data = tf.simulate_behaviour(CONFIG, {"choices[0].rate": 1.5, "choices[0].threshold": 1.0},
                                 200, seed=1000)
    options = F._options(cfg, 0)
    cells = F._design(cfg, F.read_data(data), options)
    print("rate, threshold: G2 per noise stream")
    for n, streams in ((200, range(4)), (3000, range(1))):
        sim = F.Simulator(cfg, cells, params, n_sim=n, seed=0, decision=0)
        obj = F.Objective(cells, len(options), n_sim=n)
        for th in POINTS:
            vals = [obj.value(*sim.simulate(np.array(th), stream=s)) for s in streams]
            print(f"n_sim {n:>4}  {th[0]:.3f}, {th[1]:.3f}: "
                  + "  ".join(f"{v:6.2f}" for v in vals))


if __name__ == "__main__":
    main()
