"""Write simulations/data/fit_ddm.csv: 200 trials per condition of the drift-diffusion
model of simulations/fit_ddm.toml, simulated by pyddm (not by thoughtfield): drift
d * coh with d = 2 (coh 0.3 "weak", 0.6 "strong"), noise 1, bounds +/-1, start 0,
non-decision time 0.3, no mixture.  The upper bound is "left"; a trial that pyddm leaves
undecided (no bound within T_dur = 5) has no choice and no rt (1 of the 400).

    PYTHONPATH=src python scripts/make_ddm_data.py
"""

import os

import numpy as np
import pyddm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "simulations", "data", "fit_ddm.csv")
COH = {"weak": 0.3, "strong": 0.6}


def main():
    model = pyddm.gddm(drift=lambda coh: 2.0 * coh, noise=1.0, bound=1.0, nondecision=0.3,
                       conditions=["coh"], mixture_coef=0, T_dur=5.0)
    rng = np.random.default_rng(17)
    rows = []
    for k, (name, coh) in enumerate(COH.items()):
        s = model.solve(conditions={"coh": coh}).sample(200, seed=100 + k)
        df = s.to_pandas_dataframe(choice_column_name="choice", rt_column_name="rt")
        # pyddm's undecided trials (no bound by T_dur = 5) are rows without choice and rt
        rows += [(name, "" if not rt == rt else "left" if c == 1 else "right", rt)
                 for c, rt in zip(df["choice"], df["rt"])]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("condition,choice,rt\n")
        for name, c, rt in rows:
            f.write(f"{name},{c},{'' if not rt == rt else f'{rt:.4f}'}\n")
    print(f"wrote {OUT}: {len(rows)} trials")


if __name__ == "__main__":
    main()
