"""Write simulations/data/fit_choice.csv: 200 trials per condition of
simulations/fit_choice.toml, simulated by 'thoughtfield run' (the trial protocol's own
runner, not the fitting code) with the config's parameters (choices[0].rate = 1.5,
choices[0].threshold = 1.0, noise 0.3, leak 0.2, inhibition 0.2).

    PYTHONPATH=src python scripts/make_fit_data.py
"""

import os

import numpy as np

import thoughtfield as tf

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "simulations", "fit_choice.toml")
OUT = os.path.join(HERE, "..", "simulations", "data", "fit_choice.csv")


def main():
    ds = tf.run_config(CONFIG)       # 400 trials, 200 per condition, in a shuffled order
    cond = ds.condition.values
    choice = ds.choice.values
    rt = ds.response_time.values
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("condition,choice,rt\n")
        for k in range(cond.size):
            r = "" if not np.isfinite(rt[k]) else f"{rt[k]:.4f}"
            f.write(f"{cond[k]},{choice[k]},{r}\n")
    print(f"wrote {OUT}: {cond.size} trials")


if __name__ == "__main__":
    main()
