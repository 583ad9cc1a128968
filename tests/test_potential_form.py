"""The potential form's documented semantics (issue 14; docs/potential.md, the [model]
field docs, thoughtfield.model): ``initial`` is u(0), a clamp holds the output and freezes
u, release resumes from the frozen u, an unclamped sigmoid unit rests at f(0) = 0.5.

Every reference here is independent of the code under test: exact solutions of
``tau du/dt = -u`` or scipy's ``solve_ivp`` (DOP853, rtol 1e-12) on the equations written
out below."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import thoughtfield as tf

ROOT = Path(__file__).resolve().parents[1]
TIGHT = tf.Solver("dopri5", rtol=1e-10, atol=1e-12)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def one(**model):
    return tf.ConceptNetwork(["x"]), tf.Model(form="potential", record_potential=True, **model)


def series(ds, var="activation"):
    return ds[var].sel(concept="x").values.ravel()


def test_initial_is_the_potential_not_the_activation():
    """a(0) = f(gain (u0 + bias - threshold)); u(t) = u0 exp(-t / tau) without input."""
    gain, bias, thr, tau, u0 = 2.0, 0.3, 0.5, 1.5, 1.2
    net, model = one(gain=gain, bias=bias, threshold=thr, tau=tau, initial=u0)
    ds = tf.simulate(net, model, [], t_end=3.0, saveat=tf.SaveAt(dt=0.25), solver=TIGHT)
    t = ds.time.values
    u = u0 * np.exp(-t / tau)
    assert series(ds, "potential")[0] == u0
    assert series(ds)[0] == pytest.approx(sig(gain * (u0 + bias - thr)), abs=1e-15)
    assert series(ds)[0] != pytest.approx(u0)
    np.testing.assert_allclose(series(ds, "potential"), u, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(series(ds), sig(gain * (u + bias - thr)), rtol=1e-8, atol=1e-12)
    # the activation form, for contrast: initial is a(0)
    act = tf.simulate(tf.ConceptNetwork(["x"]), tf.Model(initial=u0), [], t_end=1.0)
    assert series(act)[0] == u0


def test_per_member_initial_values_are_potentials_too():
    net, model = one(gain=1.0)
    ds = tf.simulate(net, model, [], t_end=1.0, saveat=tf.SaveAt(dt=0.5), members=2, solver=TIGHT,
                     member_params={"initial": [0.0, 2.0]})
    a0 = ds.activation.isel(time=0).sel(concept="x").values
    np.testing.assert_allclose(a0, [0.5, sig(2.0)], rtol=1e-15)


def test_a_clamp_freezes_u_and_release_resumes_from_the_frozen_u():
    """u0 = 2 decays until the clamp at t = 1 (u frozen at 2/e while a = 0.9), then
    resumes from 2/e at t = 4: a falls back to f(u) at once, not gliding from 0.9."""
    u0, v, gain, thr = 2.0, 0.9, 1.5, 1.0
    net, model = one(gain=gain, threshold=thr, initial=u0)
    ds = tf.simulate(net, model, [tf.Clamp("x", 1.0, 4.0, v)], t_end=7.0, saveat=tf.SaveAt(dt=0.25),
                     solver=TIGHT)
    t = ds.time.values
    frozen = u0 * math.exp(-1.0)
    u = np.where(t < 1.0, u0 * np.exp(-t), np.where(t < 4.0, frozen, frozen * np.exp(-(t - 4.0))))
    a = np.where((t >= 1.0) & (t < 4.0), v, sig(gain * (u - thr)))
    np.testing.assert_allclose(series(ds, "potential"), u, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(series(ds), a, rtol=1e-8, atol=1e-12)
    # at release the output is f(frozen u), far from the clamp value and from f(f^-1(v))
    at4 = float(ds.activation.sel(time=4.0, concept="x").squeeze())
    assert at4 == pytest.approx(sig(gain * (frozen - thr)), rel=1e-10)
    assert abs(at4 - v) > 0.4


def test_clamped_output_drives_the_targets_while_u_is_held():
    """x clamped at v drives y with w v; y's u obeys du/dt = -u + w v exactly."""
    net = tf.ConceptNetwork(["x", "y"], relations=[("x", "y", "causes", 3.0)])
    model = tf.Model(form="potential", transfer="sigmoid", threshold={"*": 0.0, "y": 2.0},
                     initial={"*": 0.0, "y": 0.0}, record_potential=True)
    ds = tf.simulate(net, model, [tf.Clamp("x", 0.0, math.inf, 0.8)], t_end=4.0,
                     saveat=tf.SaveAt(dt=0.5), solver=TIGHT)
    t = ds.time.values
    uy = 3.0 * 0.8 * (1 - np.exp(-t))
    np.testing.assert_allclose(ds.potential.sel(concept="y").values.ravel(), uy, rtol=1e-8,
                               atol=1e-12)
    np.testing.assert_allclose(ds.potential.sel(concept="x").values.ravel(), 0.0, atol=0)
    np.testing.assert_allclose(ds.activation.sel(concept="x").values.ravel(), 0.8, atol=0)


@pytest.mark.parametrize("u0", [0.0, -3.0, 2.5])
def test_an_unclamped_sigmoid_unit_rests_at_one_half(u0):
    net, model = one(initial=u0)
    ds = tf.simulate(net, model, [], t_end=30.0, saveat=tf.SaveAt(dt=5.0), solver=TIGHT)
    a = series(ds)
    np.testing.assert_allclose(a, sig(u0 * np.exp(-ds.time.values)), rtol=1e-8, atol=1e-12)
    assert a[-1] == pytest.approx(0.5, abs=1e-12)
    if u0 == 0.0:
        assert np.all(a == 0.5)
    # and it drives its targets with 0.5 w, stimulus or not
    net2 = tf.ConceptNetwork(["x", "y"], relations=[("x", "y", "causes", 2.0)])
    ds2 = tf.simulate(net2, tf.Model(form="potential", record_potential=True), [], t_end=30.0,
                      solver=TIGHT)
    assert float(ds2.potential.sel(concept="y").isel(time=-1).squeeze()) == pytest.approx(
        1.0, abs=1e-10)


# ------------------------------------------------------------ the worked cascade example
def _doc_snippet_and_output():
    text = (ROOT / "docs" / "potential.md").read_text()
    m = re.search(r"## A worked cascade.*?```python\n(.*?)```\s*\nprints\s*\n\s*```text\n(.*?)```",
                  text, re.S)
    assert m, "docs/potential.md: the cascade snippet and its printed output"
    return m.group(1), m.group(2)


def _cascade_reference(times):
    """The doc's cascade written out: tau = 1, sigmoid, gain 1, threshold 4, bias 0,
    letter -> word -> meaning with weight 8, u(0) = (2, 0, 0); the letter's output is
    clamped at 1 for 1 <= t < 4 with its potential frozen."""
    w, thr = 8.0, 4.0

    def f(u):
        return sig(u - thr)

    def rhs(clamped):
        def g(t, u):
            a_letter = 1.0 if clamped else f(u[0])
            return [0.0 if clamped else -u[0],
                    -u[1] + w * a_letter,
                    -u[2] + w * f(u[1])]
        return g

    u = np.array([2.0, 0.0, 0.0])
    rows = {}
    for lo, hi, clamped in ((0.0, 1.0, False), (1.0, 4.0, True), (4.0, 10.0, False)):
        sol = solve_ivp(rhs(clamped), (lo, hi), u, method="DOP853", rtol=1e-12, atol=1e-14,
                        dense_output=True)
        assert sol.success
        for t in times:
            if lo <= t < hi or t == hi == 10.0:
                uu = sol.sol(t)
                rows[t] = (1.0 if clamped else f(uu[0]), f(uu[1]), f(uu[2]), uu[0])
        u = sol.y[:, -1]
    return rows


def test_the_documented_cascade_prints_what_the_docs_show_and_matches_scipy(tmp_path,
                                                                           monkeypatch):
    code, shown = _doc_snippet_and_output()
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/potential.md", "exec"), {"__name__": "__doc__"})
    printed = out.getvalue()
    assert printed == shown, "docs/potential.md shows other numbers than the snippet prints"
    lines = printed.splitlines()
    assert lines[-1] == "at rest: a = 0.5000"
    table = [[float(x) for x in ln.split()] for ln in lines[1:-1]]
    ref = _cascade_reference([r[0] for r in table])
    for t, *vals in table:
        for got, want in zip(vals, ref[t]):
            # 4 decimals printed; the snippet runs at the default tolerance (rtol 1e-6)
            assert abs(got - want) <= 0.5e-4 + 1e-5, (t, vals, ref[t])
    # the rules the example illustrates, on the reference itself
    assert ref[0.0][0] == pytest.approx(sig(2.0 - 4.0))            # initial is u(0)
    assert ref[3.5][3] == pytest.approx(2.0 * math.exp(-1.0))      # u frozen by the clamp
    assert ref[5.0][3] == pytest.approx(2.0 * math.exp(-2.0))      # resumed from it
