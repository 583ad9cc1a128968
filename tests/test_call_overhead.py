"""The per-call caches of ``simulate()`` (issue 18): a run of a description lowered before
reuses its lowered arrays and checked dynamics, bitwise the same as a fresh lowering, and
never after the network or model has changed."""

import importlib

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield import _limits
S = importlib.import_module("thoughtfield.simulate")   # (tf.simulate is the function)

from mech_models import stroop_model, stroop_network, stroop_trial, train_of_thought


def _net():
    net = tf.ConceptNetwork(["a", "b", "c", "d"])
    net.add_relations([("a", "b", "association", 0.8), ("b", "c", "association", 0.6),
                       ("c", "a", "association", -0.4), ("c", "d", "association", 0.5)])
    return net


def _run(net, model, stim=None, **kw):
    kw.setdefault("t_end", 5.0)
    kw.setdefault("seed", 3)
    return tf.simulate(net, model, stim, **kw)


def _same(a, b):
    """Bitwise-equal activations and equal attributes."""
    return (np.array_equal(a.activation.values, b.activation.values)
            and a.attrs == b.attrs)


def _lowered(net):
    return net._cache.get("lowered", {})


def test_second_run_reuses_the_lowering_and_gives_the_same_result():
    net, model = _net(), tf.Model(transfer="tanh", gain=2.0, initial=0.1)
    stim = [tf.Pulse("a", 0.0, 1.0, 1.0)]
    first = _run(net, model, stim)
    assert len(_lowered(net)) == 1
    second = _run(net, model, stim)
    assert len(_lowered(net)) == 1          # a hit, not a second entry
    fresh = _run(_net(), tf.Model(transfer="tanh", gain=2.0, initial=0.1), stim)
    assert _same(first, second) and _same(second, fresh)


@pytest.mark.parametrize("mutate", ["add_relation", "relation_type", "define_type", "concept"])
def test_a_mutated_network_is_lowered_again(mutate):
    net, model = _net(), tf.Model(transfer="tanh", gain=2.0, initial=0.1)
    before = _run(net, model)
    fresh = _net()
    for n in (net, fresh):
        if mutate == "add_relation":
            n.add_relation("d", "a", "association", 0.9)
        elif mutate == "relation_type":
            n.set_relation_type("association", gain=0.5)
        elif mutate == "define_type":
            n.define_relation_type("association", sign=-1)
        else:
            n.add_concept("e")
            n.add_relation("e", "a", "association", 0.7)
    after = _run(net, model, initial=None)
    expected = _run(fresh, model)
    assert _same(after, expected)
    assert not np.array_equal(before.activation.values[-1, :4],
                              after.activation.values[-1, :4])


def test_an_equal_model_hits_and_other_values_miss():
    """A new but equal Model (as a loop that builds one per call makes) reuses the
    lowering; a Model's arrays are read-only (it freezes those it is given), and one with
    other values is another entry."""
    net = _net()
    init = np.array([0.1, 0.2, 0.3, 0.4])
    model = tf.Model(transfer="tanh", gain={"*": 1.5, "b": 3.0}, initial=init)
    before = _run(net, model)
    with pytest.raises(ValueError):
        model.initial[0] = 0.9
    init = np.array([0.9, 0.2, 0.3, 0.4])
    again = _run(net, tf.Model(transfer="tanh", gain={"*": 1.5, "b": 3.0},
                               initial=[0.1, 0.2, 0.3, 0.4]))
    assert len(_lowered(net)) == 1
    assert _same(before, again) and before.activation.values[0, 0] == 0.1
    changed = _run(net, tf.Model(transfer="tanh", gain={"*": 1.5, "b": 3.0}, initial=init))
    assert len(_lowered(net)) == 2 and changed.activation.values[0, 0] == 0.9


def test_a_different_initial_state_stimulus_or_span_is_a_different_entry():
    net, model = _net(), tf.Model(transfer="tanh", gain=2.0)
    runs = [_run(net, model), _run(net, model, initial=[0.5, 0, 0, 0]),
            _run(net, model, [tf.Pulse("b", 0.0, 1.0, 1.0)]), _run(net, model, t_end=3.0)]
    assert len(_lowered(net)) == 4
    fresh = [_run(_net(), model), _run(_net(), model, initial=[0.5, 0, 0, 0]),
             _run(_net(), model, [tf.Pulse("b", 0.0, 1.0, 1.0)]),
             _run(_net(), model, t_end=3.0)]
    assert all(_same(a, b) for a, b in zip(runs, fresh))


def test_mechanism_models_repeat_bitwise_and_leave_the_shared_arrays_alone():
    """The kernels only read the lowered problem: after a run of models with adaptation,
    ideas, pools, controls, goals and choices (and a stochastic one), the cached arrays
    are unchanged, and the next run is bitwise the first."""
    cases = [train_of_thought(),
             (stroop_network(), stroop_model(), stroop_trial("red", "green"))]
    for net, model, stim in cases:
        kw = dict(t_end=4.0, seed=7)
        if model.choices:
            kw["solver"] = "euler_maruyama"
        first = _run(net, model, stim, **kw)
        (entry,) = _lowered(net).values()
        snapshot = [np.array(a, copy=True) for a in entry[0].problem]
        second = _run(net, model, stim, **kw)
        assert all(np.array_equal(a, b, equal_nan=True)
                   for a, b in zip(snapshot, entry[0].problem))
        assert _same(first, second)


def test_plastic_relations_repeat_bitwise():
    def pair():
        net = tf.ConceptNetwork(["a", "b", "c"])
        net.add_relation("a", "b", "association", 0.1)
        return net
    model = tf.Model(transfer="linear", plasticity=tf.Plasticity(rate=0.5, tau=2.0))
    stim = [tf.Clamp("a", 0.0, 4.0, 0.8), tf.Clamp("b", 0.0, 4.0, 0.5)]
    net = pair()
    first, second = _run(net, model, stim), _run(net, model, stim)
    assert _same(first, second) and _same(second, _run(pair(), model, stim))


def test_member_params_are_not_cached():
    net, model = _net(), tf.Model(transfer="tanh")
    _run(net, model, members=2, member_params={"gain": [1.0, 2.0]})
    assert len(_lowered(net)) == 0


def test_uncacheable_descriptions_run_uncached(monkeypatch):
    net, model = _net(), tf.Model(transfer="tanh")

    class Odd:   # a value the fingerprint does not know
        pass
    with pytest.raises(S._Uncacheable):
        S._fingerprint([1.0, Odd()])
    monkeypatch.setattr(S, "LOWERED_CACHE_ENTRIES", 0)
    a = _run(net, model)
    assert len(_lowered(net)) == 0
    monkeypatch.setattr(S, "LOWERED_CACHE_ENTRIES", 8)
    assert _same(a, _run(net, model))


def test_fingerprint_tells_float_bits_types_and_arrays_apart():
    fp = S._fingerprint
    assert fp(0.0) != fp(-0.0) and fp(1) != fp(1.0) and fp(True) != fp(1)
    assert fp(np.zeros(2)) != fp(np.zeros(2, np.float32)) != fp(np.zeros((1, 2)))
    assert fp({"a": 1.0}) == fp({"a": 1.0}) and fp({"a": 1.0}) != fp({"a": 2.0})


def test_cache_keeps_at_most_the_configured_number_of_entries(monkeypatch):
    monkeypatch.setattr(S, "LOWERED_CACHE_ENTRIES", 2)
    net, model = _net(), tf.Model(transfer="tanh")
    for t in (2.0, 3.0, 4.0):
        _run(net, model, t_end=t)
    keys = list(_lowered(net))
    assert len(keys) == 2 and [k[4] for k in keys] == [(3.0).hex(), (4.0).hex()]


def test_available_memory_is_read_once_per_interval(monkeypatch):
    reads = []
    monkeypatch.setattr(_limits, "_read_available_memory", lambda: reads.append(1) or 2**33)
    monkeypatch.setattr(_limits, "_available", (-1e300, None))
    assert _limits.available_memory() == 2**33 and _limits.available_memory() == 2**33
    assert len(reads) == 1
    monkeypatch.setattr(_limits, "_available", (-1e300, None))   # the interval passed
    _limits.available_memory()
    assert len(reads) == 2


def test_a_lowerer_registered_after_a_run_is_applied_to_the_next():
    from thoughtfield import build
    net, model = _net(), tf.Model(transfer="tanh", gain=2.0, initial=0.1)
    plain = _run(net, model)

    def double(lw):
        lw.W = (2.0 * lw.W).tocsr()
    build.register_lowerer("test_double", double)
    try:
        doubled = _run(net, model)
        expected = _run(_net(), model)
    finally:
        build.LOWERERS[:] = [(k, f) for k, f in build.LOWERERS if k != "test_double"]
    assert _same(doubled, expected) and not _same(doubled, plain)
    assert _same(_run(net, model), plain)


def test_the_model_attribute_of_a_cached_run_is_the_model_s_own_json():
    from thoughtfield.results import attr_json, compact_description
    net = tf.ConceptNetwork([f"c{i}" for i in range(40)])
    net.add_relation("c0", "c1", "association", 0.5)
    for init in (np.linspace(0.0, 0.5, 40), np.linspace(0.1, 0.6, 40)):
        model = tf.Model(transfer="tanh", initial=init)
        a, b = _run(net, model), _run(net, model)
        want = attr_json(compact_description(model.to_dict()))
        assert a.attrs["model"] == b.attrs["model"] == want
        assert repr(float(init[1])) in want


def test_writing_a_result_does_not_import_dask_and_restores_xarray(tmp_path):
    """The NetCDF write tells xarray dask is absent while dask is not imported (it would
    import dask.array to ask); the file reads back the same and xarray's probes are
    restored afterwards."""
    import subprocess
    import sys
    code = (
        "import sys, numpy as np, thoughtfield as tf, xarray as xr\n"
        "from xarray.namedarray import utils, pycompat\n"
        "net = tf.ConceptNetwork(['a', 'b']); net.add_relation('a', 'b', 'association', 1.0)\n"
        "ds = tf.simulate(net, tf.Model(), t_end=2.0, seed=1)\n"
        "probe = utils.is_dask_collection\n"
        f"tf.save_result(ds, {str(tmp_path / 'r.nc')!r})\n"
        "print('dask' in sys.modules, utils.is_dask_collection is probe,\n"
        "      'dask' in pycompat._cached_duck_array_modules)\n"
        f"back = xr.load_dataset({str(tmp_path / 'r.nc')!r})\n"
        "print(np.array_equal(back.activation.values, ds.activation.values),\n"
        "      back.attrs['model'] == ds.attrs['model'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "False", "True", "True"]


def test_a_dask_backed_result_is_still_written(tmp_path):
    pytest.importorskip("dask.array")
    import xarray as xr
    net = _net()
    ds = _run(net, tf.Model(transfer="tanh", gain=2.0, initial=0.1))
    tf.save_result(ds, tmp_path / "a.nc")
    lazy = xr.open_dataset(tmp_path / "a.nc", chunks={})
    tf.save_result(lazy, tmp_path / "b.nc")
    b = xr.load_dataset(tmp_path / "b.nc")
    assert np.array_equal(b.activation.values, ds.activation.values)


def test_threads_sharing_a_network_get_the_serial_results(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(S, "LOWERED_CACHE_ENTRIES", 2)   # evictions while others insert
    net, model = _net(), tf.Model(transfer="tanh", gain=2.0, initial=0.1)
    spans = [2.0 + 0.5 * (k % 5) for k in range(40)]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda t: _run(net, model, t_end=t), spans))
    want = {t: _run(_net(), model, t_end=t) for t in set(spans)}
    assert all(_same(g, want[t]) for g, t in zip(got, spans))
    assert len(_lowered(net)) <= 2
