"""The transfer-function registry (``thoughtfield.transfers``, issue 15) against the compiled
kernels and against textbook numpy/scipy formulas written here, and ``softplus`` end to end.

Every test loops over the whole registry, so a new entry is checked as soon as it exists
(and :data:`REFERENCE` must get its formula, see ``test_every_transfer_has_a_reference``).
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.special import expit

import thoughtfield as tf
from conftest import phi_kernel
from thoughtfield import transfers as T
from thoughtfield.model import TRANSFER_CODES, TRANSFERS

NAMES = list(T.REGISTRY)
#: The invertible ones (not the binary units, sign and step).
INVERTIBLE = [n for n in NAMES if T.REGISTRY[n].inverse is not None]

#: Independent formulas of f (textbook numpy/scipy; not the registry's code).
REFERENCE = {
    "linear": lambda x: x,
    "sigmoid": expit,
    "tanh": np.tanh,
    "satlin": lambda x: np.minimum(np.maximum(x, 0.0), 1.0),
    "relu": lambda x: np.where(x > 0.0, x, 0.0),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "sign": lambda x: np.where(x < 0.0, -1.0, 1.0),
    "step": lambda x: np.heaviside(x, 1.0),
}

#: x from far below to far above where exp overflows, dense near 0.
GRID = np.unique(np.concatenate([
    -np.logspace(-300, 3, 400), np.logspace(-300, 3, 400), [0.0, -0.0],
    np.linspace(-40, 40, 2001), [-745.2, -709.9, -708.5, -708.0, 708.0, 709.8, 710.5, 1e4, -1e4],
]))


def _kernel_scalar(code, x):
    from thoughtfield._kernels.transfer import phi_scalar
    return np.array([phi_scalar(code, float(v)) for v in x])


def _mismatch(got, ref, rel=1e-14) -> str:
    """Where ``got`` and ``ref`` disagree by more than ``rel`` relative to max(1, |ref|)
    (absolute near 0): a description of the worst place, empty when they agree."""
    err = np.abs(got - ref)
    bad = ~(err <= rel * np.maximum(1.0, np.abs(ref)))
    if not bad.any():
        return ""
    return (f"{int(bad.sum())} values differ, worst at x = "
            f"{GRID[np.argmax(np.where(bad, err, -1))]!r}: {got[bad][:3]} vs {ref[bad][:3]}")


# ------------------------------------------------------------------------ the registry
def test_every_transfer_has_a_reference():
    assert set(NAMES) == set(REFERENCE)


def test_codes_are_unique_and_model_exposes_the_registry():
    codes = [t.code for t in T.REGISTRY.values()]
    assert len(set(codes)) == len(codes)
    assert all(isinstance(c, int) and c >= 0 for c in codes)
    assert TRANSFER_CODES == {t.name: t.code for t in T.REGISTRY.values()}
    assert list(TRANSFERS) == NAMES == sorted(NAMES, key=TRANSFER_CODES.get)
    assert all(TRANSFERS[n] == T.REGISTRY[n].doc and TRANSFERS[n].startswith("f(x) = ")
               for n in NAMES)
    assert list(tf.TRANSFERS) == NAMES
    # the codes the kernels name are the registry's
    from thoughtfield._kernels import transfer as K
    for t in T.REGISTRY.values():
        assert getattr(K, t.name.upper()) == t.code


@pytest.mark.parametrize("name", ["sign", "step"])
def test_binary_units_keep_nan_and_have_no_inverse(name):
    t = T.REGISTRY[name]
    x = np.array([np.nan, -0.0, 0.0, -1e-300, 1e-300])
    want = [np.nan, 1.0, 1.0, t.range[0], 1.0]
    np.testing.assert_array_equal(t.f(x), want)
    np.testing.assert_array_equal(phi_kernel(t.code, x), want)
    np.testing.assert_array_equal(_kernel_scalar(t.code, x), want)
    assert t.slope == math.inf and t.inverse is None and t.inverse_integral is None
    with pytest.raises(tf.ConfigError, match=f"energy is not defined for the transfer '{name}'"):
        t.energy_integral(np.array([0.5]))


def test_unknown_name_is_a_config_error_with_a_suggestion():
    with pytest.raises(tf.ConfigError, match=r"transfer: must be one of .*did you mean 'softplus'"):
        T.get("softplsu")
    with pytest.raises(tf.ConfigError, match="did you mean 'softplus'"):
        tf.Model(transfer="softplsu")


@pytest.mark.parametrize("name", NAMES)
def test_numpy_f_matches_the_textbook_formula(name):
    t = T.REGISTRY[name]
    with np.errstate(over="ignore"):
        diff = _mismatch(t.f(GRID), REFERENCE[name](GRID), rel=4e-16)
    assert not diff, diff


@pytest.mark.parametrize("name", NAMES)
def test_block_kernel_matches_numpy(name):
    """``phi_block`` (the vectorised exp of the kernels) on x up to +-1e4, beyond where exp
    overflows, against the textbook formula."""
    t = T.REGISTRY[name]
    with np.errstate(over="ignore"):
        ref = REFERENCE[name](GRID)
    got = phi_kernel(t.code, GRID)
    assert np.all(np.isfinite(got))
    diff = _mismatch(got, ref, rel=1e-14)
    assert not diff, diff
    if name == "softplus":
        # relative accuracy in the tail too, down to where exp(x) is still normal
        tail = (GRID < 0) & (GRID > -700)
        assert np.max(np.abs(got[tail] / ref[tail] - 1.0)) < 1e-13


@pytest.mark.parametrize("name", NAMES)
def test_scalar_kernel_matches_numpy(name):
    """``phi_scalar`` (libm; the event root finder's) against the textbook formula."""
    t = T.REGISTRY[name]
    with np.errstate(over="ignore"):
        ref = REFERENCE[name](GRID)
    diff = _mismatch(_kernel_scalar(t.code, GRID), ref, rel=4e-16)
    assert not diff, diff


@pytest.mark.parametrize("code", [max(TRANSFER_CODES.values()) + 1, 99, -1])
def test_a_code_without_a_kernel_branch_is_nan_not_linear(code):
    x = np.linspace(-2.0, 2.0, 9)
    assert np.all(np.isnan(phi_kernel(code, x)))
    assert np.all(np.isnan(_kernel_scalar(code, x)))


@pytest.mark.parametrize("name", NAMES)
def test_values_lie_in_the_range(name):
    t = T.REGISTRY[name]
    lo, hi = t.range
    for a in (t.f(GRID), phi_kernel(t.code, GRID)):
        assert np.all((a >= lo) & (a <= hi))
    # the range is the hull: its finite ends are approached
    a = REFERENCE[name](np.array([-1e3, 1e3]))
    for end, v in ((lo, a[0]), (hi, a[1])):
        assert (v == end) if math.isfinite(end) else (abs(v) >= 1e3)
    assert t.saturating == (math.isfinite(lo) and math.isfinite(hi))


def _smooth_points(t, x):
    """Points at least 1e-3 from a kink (where a central difference is exact)."""
    if not t.kinks:
        return x
    return x[np.min(np.abs(x[:, None] - np.array([0.0, 1.0])[None, :]), axis=1) > 1e-3]


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name):
    t = T.REGISTRY[name]
    x = _smooth_points(t, np.linspace(-30.0, 30.0, 6001))
    h = 1e-5
    fd = (REFERENCE[name](x + h) - REFERENCE[name](x - h)) / (2 * h)
    assert np.max(np.abs(t.df(x) - fd)) < 1e-9
    # the slope the numerical guards use is sup f' (a jump of a discontinuous f: inf)
    assert np.max(t.df(x)) <= t.slope
    if math.isfinite(t.slope):
        assert np.max(t.df(x)) == pytest.approx(t.slope, rel=1e-6)


def test_derivative_at_a_kink_is_the_flat_side():
    assert T.get("satlin").df(np.array([0.0, 1.0, 0.5])).tolist() == [0.0, 0.0, 1.0]
    assert T.get("relu").df(np.array([0.0, 2.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_undoes_f_on_the_range(name):
    t = T.REGISTRY[name]
    assert t.inverse is not None
    x = np.linspace(-30.0, 30.0, 1201)
    y = REFERENCE[name](x)
    d = t.df(x)
    lo, hi = t.range
    # where f is strictly increasing and f(x) is not within 1e-9 of an open end
    ok = (d > 0) & (y > lo + 1e-9) & (y < hi - 1e-9)
    assert ok.sum() >= 10
    back = t.inverse(y[ok])
    # the rounding of f(x) (an ulp of y) is amplified by 1 / f'(x)
    tol = 1e-13 * (1 + np.abs(x[ok])) + 4e-16 * np.maximum(1.0, np.abs(y[ok])) / d[ok]
    assert np.all(np.abs(back - x[ok]) <= tol)
    # and it is a right inverse everywhere on the closed range
    a = np.linspace(max(lo, -50.0), min(hi, 50.0), 401)[1:-1]
    np.testing.assert_allclose(REFERENCE[name](t.inverse(a)), a, rtol=1e-12, atol=1e-13)


def test_softplus_inverse_does_not_overflow_and_clips_its_open_end():
    t = T.get("softplus")
    assert t.inverse(np.array([800.0]))[0] == 800.0
    assert t.inverse(np.array([1e-300]))[0] == pytest.approx(math.log(1e-12), rel=1e-9)
    assert np.isfinite(t.inverse(np.array([0.0]))[0])


@pytest.mark.parametrize("name", INVERTIBLE)
def test_energy_integral_is_the_integral_of_the_inverse(name):
    t = T.REGISTRY[name]
    assert t.inverse_integral is not None
    f0 = float(REFERENCE[name](np.array(0.0)))
    lo, hi = t.range
    pts = [p for p in (-1.3, -0.7, 0.05, 0.4, 0.83, 0.95, 2.0, 7.0) if lo < p < hi]
    for a in pts:
        ref, _ = quad(lambda s: float(t.inverse(np.array(s))), f0, a, limit=200)
        assert float(t.energy_integral(np.array([a]))[0]) == pytest.approx(ref, abs=1e-9)
    assert float(t.energy_integral(np.array([f0]))[0]) == pytest.approx(0.0, abs=1e-15)
    outside = [v for v in (lo - 0.1, hi + 0.1) if math.isfinite(v)]
    assert np.all(np.isinf(t.energy_integral(np.array(outside))))


def test_softplus_energy_integral_at_the_closed_end():
    # int_{ln 2}^{0} log(expm1(s)) ds = pi^2 / 12
    # (Li2(1) = pi^2 / 6, Li2(1/2) = pi^2 / 12 - ln^2 2 / 2)
    ref, _ = quad(lambda s: math.log(math.expm1(s)), 0.0, math.log(2.0), limit=200)
    G0 = float(T.get("softplus").energy_integral(np.array([0.0]))[0])
    assert G0 == pytest.approx(math.pi ** 2 / 12, rel=1e-14)
    assert G0 == pytest.approx(-ref, rel=1e-9)


def test_the_module_imports_no_numba_or_xarray():
    import subprocess
    import sys
    code = ("import sys; import thoughtfield.transfers; "
            "bad = [m for m in ('numba', 'xarray', 'scipy') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------ softplus end to end
def _softplus(x):
    return np.logaddexp(0.0, x)


def _two_units():
    net = tf.ConceptNetwork(["x", "y"], [("x", "y", "association", 0.8)])
    W = np.array([[0.0, 0.8], [0.8, 0.0]])
    assert np.array_equal(net.weight_matrix().toarray(), W)
    tau = np.array([1.0, 0.5])
    gain = np.array([1.5, 0.7])
    thr = np.array([0.3, -0.2])
    bias = np.array([-0.4, 0.1])
    return net, W, tau, gain, thr, bias


@pytest.mark.parametrize("form", ["activation", "potential"])
def test_softplus_run_matches_scipy_dop853(form):
    net, W, tau, gain, thr, bias = _two_units()
    y0 = np.array([0.2, -0.5]) if form == "potential" else np.array([0.2, 0.9])
    model = tf.Model(transfer="softplus", tau=tau, gain=gain, threshold=thr, bias=bias,
                     initial=y0, form=form)
    I = np.array([0.6, 0.0])
    stim = [tf.Pulse("x", 0.0, math.inf, 0.6)]

    def rhs(t, y):
        if form == "activation":
            return (-y + _softplus(gain * (W @ y + I + bias - thr))) / tau
        a = _softplus(gain * (y + bias - thr))
        return (-y + W @ a + I) / tau

    ts = np.linspace(0.0, 6.0, 13)
    ref = solve_ivp(rhs, (0, 6), y0, method="DOP853", rtol=1e-10, atol=1e-12, t_eval=ts).y.T
    ds = tf.simulate(net, model, stim, t_end=6.0, saveat=tf.SaveAt(times=ts),
                     solver=tf.Solver("dop853", rtol=1e-10, atol=1e-12))
    act = ds.activation.transpose("time", "concept").values
    if form == "potential":
        ref = _softplus(gain * (ref + bias - thr))
    np.testing.assert_allclose(act, ref, rtol=1e-8, atol=1e-10)
    # a fixed-step method reaches the same trajectory
    ds4 = tf.simulate(net, model, stim, t_end=6.0,
                      saveat=tf.SaveAt(times=ts), solver=tf.Solver("rk4", dt=0.005))
    np.testing.assert_allclose(ds4.activation.transpose("time", "concept").values, ref,
                               rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("form", ["activation", "potential"])
def test_softplus_fixed_point_satisfies_its_equation(form):
    from thoughtfield.analysis import fixed_point
    net, W, tau, gain, thr, bias = _two_units()
    model = tf.Model(transfer="softplus", tau=tau, gain=gain, threshold=thr, bias=bias, form=form)
    stim = [tf.Pulse("x", 0.0, math.inf, 0.6)]
    I = np.array([0.6, 0.0])
    fp = fixed_point(net, model, np.array([0.5, 0.5]), stimuli=stim)
    a = np.asarray(fp.activation)
    # a = softplus(g (W a + I + b - thr)) in both forms (potential form: u = W a + I)
    np.testing.assert_allclose(a, _softplus(gain * (W @ a + I + bias - thr)), rtol=0, atol=1e-10)
    assert np.all(a > 0)
    # stability from an independent Jacobian: J = T^-1 (-1 + D W) (activation form)
    x = gain * (W @ a + I + bias - thr)
    D = np.diag(gain * expit(x))
    ev = np.linalg.eigvals((-np.eye(2) + D @ W) / tau[:, None])
    assert (fp.kind == "stable") == bool(np.all(ev.real < 0))
    # and a long run ends there
    ds = tf.simulate(net, model, stim, t_end=60.0, saveat=tf.SaveAt(times=[60.0]),
                     solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    np.testing.assert_allclose(ds.activation.isel(time=-1).values, a, atol=1e-8)


def test_softplus_energy_decreases_along_a_run():
    from thoughtfield.analysis import energy
    net, W, tau, gain, thr, bias = _two_units()
    model = tf.Model(transfer="softplus", tau=tau, gain=gain, threshold=thr, bias=bias,
                     initial=[0.1, 1.5])
    ds = tf.simulate(net, model, [tf.Pulse("x", 0.0, math.inf, 0.6)], t_end=10.0,
                     saveat=tf.SaveAt(dt=0.1),
                     solver=tf.Solver("dopri5", rtol=1e-10, atol=1e-12))
    E = energy(ds).values
    assert np.all(np.diff(E) <= 1e-12)
    assert E[0] - E[-1] > 1e-3
    # the energy's value, written out: E = -a.W a/2 - (I + b - thr).a + sum G(a) / g
    a = ds.activation.isel(time=-1).values
    G = [quad(lambda s: math.log(math.expm1(s)), math.log(2.0), v)[0] for v in a]
    ref = -0.5 * a @ W @ a - (np.array([0.6, 0.0]) + bias - thr) @ a + np.sum(np.array(G) / gain)
    assert E[-1] == pytest.approx(ref, abs=1e-9)


def test_every_registered_code_has_a_kernel_branch_and_only_those_are_listed():
    """``BRANCHES`` (what a run accepts) is exactly the set of codes the kernels handle:
    every built-in entry is in it and gives finite values; a code outside it is NaN."""
    from thoughtfield._kernels.transfer import BRANCHES
    assert BRANCHES == set(TRANSFER_CODES.values())
    x = np.linspace(-2.0, 2.0, 9)
    for code in BRANCHES:
        assert np.all(np.isfinite(phi_kernel(code, x)))
    assert np.all(np.isnan(phi_kernel(max(BRANCHES) + 1, x)))
