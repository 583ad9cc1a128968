"""Property-based fuzzing of the network builders and description classes: malformed input
always ends in a ThoughtfieldError whose message names the culprit -- never another
exception type."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thoughtfield as tf

SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.text(max_size=3)), st.binary(max_size=4),
)
names = st.one_of(st.text(max_size=8), junk)


def _outcome(fn):
    """``(value, None)``, or ``(None, error)`` for a ThoughtfieldError; any other exception
    propagates (and fails the test)."""
    try:
        return fn(), None
    except tf.ThoughtfieldError as e:
        return None, e


@SETTINGS
@given(concepts=st.one_of(junk, st.lists(st.one_of(names, st.tuples(names, names)), max_size=6),
                          st.dictionaries(st.text(max_size=5), names, max_size=4)),
       relations=st.one_of(junk, st.lists(st.one_of(
           st.tuples(names, names), st.tuples(names, names, names),
           st.tuples(names, names, names, junk), junk,
           st.dictionaries(st.sampled_from(["source", "target", "type", "weight", "wieght"]),
                           names, max_size=4)), max_size=6)),
       layers=st.one_of(st.just(tf.DEFAULT_LAYERS), st.lists(names, max_size=4)))
def test_network_constructor_fuzz(concepts, relations, layers):
    net, err = _outcome(lambda: tf.ConceptNetwork(concepts, relations, layers=layers))
    assert err is None or str(err), "error without a message"
    if net is not None:  # whatever was accepted must lower to a finite matrix
        W = net.weight_matrix()
        assert np.isfinite(W.data).all()


@SETTINGS
@given(rows=st.lists(st.lists(st.one_of(st.text(max_size=5), st.floats().map(repr)), max_size=5),
                     max_size=6),
       header=st.lists(st.sampled_from(["source", "target", "type", "weight", "wieght", "x", ""]),
                       max_size=5))
def test_csv_reader_fuzz(tmp_path_factory, rows, header):
    p = tmp_path_factory.mktemp("csv") / "edges.csv"
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows)
    p.write_text(text, encoding="utf-8")
    net, err = _outcome(lambda: tf.ConceptNetwork.from_csv(p))
    assert (net is None) != (err is None) and (err is None or str(err))


@SETTINGS
@given(data=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=9),
       n=st.integers(1, 3), names_=st.lists(st.text(max_size=3), max_size=4),
       relation=st.sampled_from(["link", "association", "nope", "contradicts"]))
def test_from_scipy_fuzz(data, n, names_, relation):
    k = min(len(data), n * n)
    A = np.zeros((n, n))
    A.flat[:k] = data[:k]
    net, err = _outcome(lambda: tf.ConceptNetwork.from_scipy(sp.csr_matrix(A), names_,
                                                             relation=relation))
    assert (net is None) != (err is None) and (err is None or str(err))


@SETTINGS
@given(kwargs=st.dictionaries(
    st.sampled_from(["tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form"]),
    st.one_of(junk, st.lists(st.floats(allow_nan=True), max_size=3),
              st.dictionaries(st.text(max_size=4), junk, max_size=3)), max_size=4))
def test_model_fuzz(kwargs):
    net = tf.ConceptNetwork(["a", "b"], [("a", "b")])
    model, err = _outcome(lambda: tf.Model(**kwargs))
    assert (model is None) != (err is None) and (err is None or str(err))
    if model is not None:
        built, err = _outcome(lambda: tf.build.build_problem(net, model, (), t0=0.0, t_end=1.0))
        assert (built is None) != (err is None) and (err is None or str(err))


@SETTINGS
@given(spec=st.dictionaries(st.sampled_from(["kind", "concept", "start", "stop", "amplitude",
                                             "value", "member", "amp"]), junk, max_size=5))
def test_stimulus_fuzz(spec):
    stim, err = _outcome(lambda: tf.stimuli.stimulus_from_dict(spec, "stimuli[0]"))
    assert (stim is None) != (err is None) and (err is None or str(err))


@SETTINGS
@given(kwargs=st.dictionaries(st.sampled_from(["method", "dt", "rtol", "atol", "first_step",
                                               "max_step", "min_step", "max_steps", "steady_tol"]),
                              junk, max_size=4))
def test_solver_fuzz(kwargs):
    solver, err = _outcome(lambda: tf.Solver(**kwargs))
    assert (solver is None) != (err is None) and (err is None or str(err))


@SETTINGS
@given(t_end=junk, members=junk, seed=junk, save_dt=junk)
def test_simulate_argument_fuzz(t_end, members, seed, save_dt):
    net = tf.ConceptNetwork(["a"])
    kw = dict(t_end=t_end, members=members, seed=seed)
    try:
        tf.Simulation(net, **kw, saveat=None if save_dt is None else tf.SaveAt(dt=save_dt))
    except tf.ThoughtfieldError as e:
        assert str(e)
