"""``Choice(on="diffusion")``: one signed accumulator with bounds +/-threshold, the
drift-diffusion model, against its analytic choice probability and mean decision time.

References (bounds +/-a, start z, drift v, noise s; Cox & Miller 1965, ch. 5): with the
lower bound at 0, the upper at A = 2a and the start at x0 = z + a,

    P(upper) = (1 - exp(-2 v x0 / s^2)) / (1 - exp(-2 v A / s^2))
    E[T]     = (A P(upper) - x0) / v

(for z = 0: 1 / (1 + exp(-2 v a / s^2)) and (a / v) tanh(a v / s^2)).  Euler-Maruyama sees
a crossing only at the steps, so its bounds act as if they were wider by
beta s sqrt(dt), beta = -zeta(1/2) / sqrt(2 pi) = 0.5826 (Broadie, Glasserman & Kou 1997);
the reference uses those bounds.  At dt = 0.001 the shift is 0.018 (1.8 % of a = 1), which
moves E[T] by 0.022, about 3.5 standard errors of 10,000 trials: the test would see it.
"""

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.errors import ConfigError

BETA = 0.5826


def _config(*, rate=1.0, noise=1.0, threshold=1.0, start=0.0, dt=0.001, members=10000,
            left=1.0, right=0.0, pool=("left", "right"), extra=""):
    concepts = ", ".join(f'"{c}"' for c in pool)
    return f"""
seed = 3
[network]
concepts = [{concepts}]
[model]
transfer = "linear"
[[pools]]
name = "options"
concepts = [{concepts}]
[[choices]]
pool = "options"
on = "diffusion"
rate = {rate}
noise = {noise}
threshold = {threshold}
start = {start}
stop = true
{extra}
[[stimuli]]
kind = "clamp"
concept = "left"
value = {left}
[[stimuli]]
kind = "clamp"
concept = "right"
value = {right}
[solver]
method = "euler_maruyama"
dt = {dt}
[run]
t_end = 20.0
members = {members}
"""


def _reference(v, a, s, z):
    A, x0 = 2 * a, z + a
    p = (1 - np.exp(-2 * v * x0 / s**2)) / (1 - np.exp(-2 * v * A / s**2))
    return p, (A * p - x0) / v


@pytest.mark.parametrize("v, a, s, z, left, right", [
    (1.0, 1.0, 1.0, 0.0, 1.0, 0.0),      # drift rate * (1 - 0)
    (-0.8, 0.6, 0.5, 0.2, 0.3, 0.7),     # rate 2 * (0.3 - 0.7) < 0: mostly the lower bound
])
def test_choice_probability_and_mean_time_match_the_analytic_ddm(v, a, s, z, left, right):
    dt, M = 0.001, 10000
    rate = v / (left - right)
    ds = tf.run_config(tf.load_config(_config(rate=rate, noise=s, threshold=a, start=z,
                                              dt=dt, members=M, left=left, right=right)))
    ch = ds.choice.values[:, 0]
    rt = ds.response_time.values[:, 0].astype(float)
    assert float(ds.undecided_fraction.values[0]) == 0.0
    p_sim = np.mean(ch == "left")
    p_ref, t_ref = _reference(v, a + BETA * s * np.sqrt(dt), s, z)
    # 4 standard errors of M trials (the Bernoulli SD of P, the SD of T over the trials)
    assert abs(p_sim - p_ref) < 4 * np.sqrt(p_ref * (1 - p_ref) / M), (p_sim, p_ref)
    assert abs(rt.mean() - t_ref) < 4 * rt.std() / np.sqrt(M), (rt.mean(), t_ref)
    # the uncorrected continuous-time reference is further off than the corrected one
    p0, t0 = _reference(v, a, s, z)
    assert abs(rt.mean() - t0) > abs(rt.mean() - t_ref)


def test_accumulators_are_exact_mirrors_and_start_at_start():
    ds = tf.run_config(tf.load_config(_config(start=0.25, members=50, extra="onset = 0.5")))
    ev = ds.evidence.values          # (member, time, accumulator)
    assert np.array_equal(ev[..., 0], -ev[..., 1])
    before = ds.time.values < 0.5
    assert np.all(ev[:, before, 0] == 0.25)                     # held until the onset
    assert np.ptp(ev[:, ~before, 0]) > 0.5                       # then it diffuses
    # the upper bound chooses left, the lower right, at +/- threshold
    ch = ds.choice.values[:, 0]
    assert set(ch) == {"left", "right"}


@pytest.mark.parametrize("extra, match", [
    ("leak = 0.1", r"choices\[0\]\.leak: does not apply to on = 'diffusion'"),
    ("inhibition = 0.1", r"choices\[0\]\.inhibition: does not apply"),
    ('compare = "none"', r"choices\[0\]\.compare: does not apply"),
    ("floor = 0.0", r"choices\[0\]\.floor: does not apply to on = 'diffusion'"),
])
def test_accumulator_keys_of_evidence_are_refused(extra, match):
    with pytest.raises(ConfigError, match=match):
        tf.load_config(_config(members=2, extra=extra))


def test_bad_start_threshold_and_pool_are_one_clear_error():
    with pytest.raises(ConfigError, match=r"choices\[0\]\.start: must lie between -threshold"):
        tf.load_config(_config(start=1.0, threshold=1.0))
    with pytest.raises(ConfigError, match=r"choices\[0\]\.threshold: must be > 0"):
        tf.load_config(_config(threshold=-0.5, start=0.0))
    with pytest.raises(ConfigError, match=r"choices\[0\]\.on: 'diffusion' needs a pool of two"):
        tf.run_config(tf.load_config(_config(pool=("left", "right", "other"), members=2)))
    text = _config(members=2, start=0.5).replace('on = "diffusion"', 'on = "evidence"')
    with pytest.raises(ConfigError, match=r"choices\[0\]\.start: applies to on = 'diffusion'"):
        tf.load_config(text)
