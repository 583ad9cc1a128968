"""Result files (issue 14): compressed by default, derived layer summaries computed on
demand, the same bytes wherever the config's folder lies, CF attributes and structured
stimuli."""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

import thoughtfield as tf
import thoughtfield.results  # noqa: F401  (tf.results)
from thoughtfield.cli import main
from thoughtfield.results import chunk_sizes

from _configs import TINY, tiny

ROOT = Path(__file__).resolve().parents[1]

ENSEMBLE = ["run.members=20", "run.save_dt=0.01", 'solver.method="euler_maruyama"',
            "model.sigma=0.05"]


def _layered():
    """A run with the [layers] mechanism (results used to carry layer_mean/layer_max)."""
    return tiny(**{"[solver]": "[layers]\nprojections = [{lower = \"image\", upper = \"idea\", "
                                "up = 1.0}]\n\n[solver]"})


# ------------------------------------------------------------------ compression
def test_results_are_compressed_by_default_and_read_back_exactly(tmp_path):
    ds = tf.run_config(TINY, overrides=ENSEMBLE)
    packed = tf.save_result(ds, tmp_path / "z.nc")
    plain = tf.save_result(ds, tmp_path / "p.nc", compress=False)
    with h5py.File(packed) as f:
        act = f["activation"]
        assert act.compression == "gzip" and act.shuffle
        assert act.chunks is not None and act.chunks[-2:] == act.shape[-2:]
        assert f["concept"].compression is None          # strings stay as they are
    with h5py.File(plain) as f:
        assert f["activation"].compression is None and f["activation"].chunks is None
    assert Path(packed).stat().st_size < Path(plain).stat().st_size
    for p in (packed, plain):
        back = tf.load_result(p)
        np.testing.assert_array_equal(back.activation.values, ds.activation.values)


def test_chunks_keep_time_courses_together_and_stay_near_a_mebibyte():
    assert chunk_sizes((5, 4, 200, 401, 4), 8) == (1, 1, 81, 401, 4)
    assert chunk_sizes((401, 21), 8) == (401, 21)
    assert chunk_sizes((10, 1_000_000), 8) == (1, 131072)


def test_compressed_results_are_deterministic(tmp_path):
    ds = tf.run_config(TINY, overrides=ENSEMBLE)
    a = tf.save_result(ds, tmp_path / "a.nc")
    b = tf.save_result(tf.run_config(TINY, overrides=ENSEMBLE), tmp_path / "b.nc")
    assert Path(a).read_bytes() == Path(b).read_bytes()


# ------------------------------------------------------------------ layer summaries
def test_layer_summaries_are_not_stored_by_default_but_computed_on_demand(tmp_path):
    ds = tf.run_config(_layered(), overrides=ENSEMBLE[:1] + ENSEMBLE[2:])
    assert "layer_mean" not in ds and "layer_max" not in ds
    lay = tf.layer_summaries(ds)
    assert lay.layer_mean.dims == ("member", "time", "level")
    assert list(lay.level.values) == ["image", "idea", "structure"]
    idea = ds.activation.sel(concept="beach")
    np.testing.assert_array_equal(lay.layer_mean.sel(level="idea").values, idea.values)
    np.testing.assert_array_equal(lay.layer_max.sel(level="idea").values, idea.values)
    path = tf.save_result(ds, tmp_path / "r.nc")
    with h5py.File(path) as f:
        assert "layer_mean" not in f and "layer_max" not in f


def test_layer_summaries_can_be_kept_in_the_file(tmp_path, capsys):
    cfg = tmp_path / "lay.toml"
    cfg.write_text(_layered())
    assert main(["run", str(cfg), "--out", str(tmp_path / "keep.nc"), "--quiet",
                 "--set", "output.layer_summaries=true"]) == 0
    assert main(["run", str(cfg), "--out", str(tmp_path / "drop.nc"), "--quiet"]) == 0
    keep, drop = tf.load_result(tmp_path / "keep.nc"), tf.load_result(tmp_path / "drop.nc")
    assert "layer_mean" in keep and "layer_max" in keep and "layer_mean" not in drop
    computed = tf.layer_summaries(drop)
    xr.testing.assert_identical(keep.layer_mean.reset_coords(drop=True),
                                computed.layer_mean.reset_coords(drop=True))
    np.testing.assert_array_equal(keep.layer_max.values, computed.layer_max.values)


def test_layer_summaries_of_sweeps_and_protocols_cover_every_dimension():
    ds = tf.run_config(TINY, overrides=["run.save_dt=0.5"])
    sweep = xr.concat([ds, ds * 2], dim=xr.DataArray([1.0, 2.0], dims="gain", name="gain"))
    lay = tf.layer_summaries(sweep)
    assert lay.layer_mean.dims == ("gain", "time", "level")
    np.testing.assert_array_equal(lay.layer_mean.sel(gain=2.0).values,
                                  2 * lay.layer_mean.sel(gain=1.0).values)


def test_the_file_estimate_counts_kept_layer_summaries(tmp_path):
    cfg = tf.load_config(_layered(), overrides=ENSEMBLE + ["output.layer_summaries=true"])
    sim = cfg.simulation()
    est = tf.resources.estimate(sim, layer_summaries=True).file_bytes
    plain = tf.resources.estimate(sim).file_bytes
    ds = cfg.annotate(sim.run())
    assert "layer_mean" in ds
    size = Path(tf.save_result(ds, tmp_path / "r.nc", compress=False)).stat().st_size
    assert plain < size <= est


def test_old_files_with_stored_layer_summaries_still_read_and_plot(tmp_path, capsys):
    """Files written before issue 14 carry layer_mean/layer_max: they are used as stored."""
    ds = tf.run_config(_layered())
    old = ds.copy()
    tf.readouts.add_layer_summaries(old)
    old["layer_mean"] = old.layer_mean + 0.0   # (the stored values are the ones returned)
    old.time.attrs = {"long_name": "time", "units": "model time units (same unit as tau)"}
    path = tf.save_result(old, tmp_path / "old.nc", compress=False)
    back = tf.load_result(path)
    lay = tf.layer_summaries(back)
    np.testing.assert_array_equal(lay.layer_mean.values, back.layer_mean.values)
    for res in (path, tf.save_result(ds, tmp_path / "new.nc")):
        code = main(["plot", str(res), "--kind", "layer_summary", "--out",
                     str(Path(res).with_suffix(".png"))])
        assert code == 0, capsys.readouterr().err


def test_layer_summaries_without_activation_is_a_clear_error():
    with pytest.raises(tf.ConfigError, match="layer_summaries: the result has no 'activation'"):
        tf.layer_summaries(xr.Dataset({"x": ("time", [1.0])}))


# ------------------------------------------------------------------ the same bytes anywhere
def _copy_and_run(src: Path, dest: Path, name: str) -> bytes:
    shutil.copytree(src, dest)
    out = dest / "result.nc"
    assert main(["run", str(dest / name), "--out", str(out), "--quiet"]) == 0
    return out.read_bytes()


def test_the_same_config_in_two_folders_gives_the_same_bytes(tmp_path):
    """config_path is stored relative to the result file's folder (it was absolute)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "edges.csv").write_text("source,target,type,weight\nsun,beach,association,0.8\n"
                                   "beach,holiday,is_a,1\n")
    (src / "concepts.csv").write_text("name,layer\nsun,image\nbeach,idea\nholiday,structure\n")
    text = TINY.replace(
        'relations = [["sun", "beach", "association", 0.8], ["beach", "holiday", "is_a", 1.0]]',
        'file = "edges.csv"\nconcepts_file = "concepts.csv"')
    (src / "sim.toml").write_text(text[:text.index("[network.concepts]")]
                                  + text[text.index("[model]"):])
    a = _copy_and_run(src, tmp_path / "one", "sim.toml")
    b = _copy_and_run(src, tmp_path / "deeper" / "elsewhere" / "two", "sim.toml")
    assert a == b
    ds = tf.load_result(tmp_path / "one" / "result.nc")
    assert ds.attrs["config_path"] == "sim.toml"
    assert tf.results.config_path_of(ds, tmp_path / "one" / "result.nc") == \
        str(tmp_path / "one" / "sim.toml")


def test_config_path_is_relative_to_the_result_folder(tmp_path):
    cfg = tmp_path / "configs" / "c.toml"
    cfg.parent.mkdir()
    cfg.write_text(TINY)
    ds = tf.run_config(cfg)
    assert ds.attrs["config_path"] == str(cfg.resolve())       # in memory: absolute
    out = tf.save_result(ds, tmp_path / "results" / "r.nc")
    back = tf.load_result(out)
    assert back.attrs["config_path"] == "../configs/c.toml"
    assert tf.results.config_path_of(back, out) == str(cfg.resolve())


# ------------------------------------------------------------------ CF attributes, stimuli
def test_files_declare_cf_conventions_and_time_attributes(tmp_path):
    ds = tf.load_result(tf.save_result(tf.run_config(TINY), tmp_path / "r.nc"))
    assert ds.attrs["Conventions"] == "CF-1.10"
    assert list(ds.attrs)[0] == "Conventions"
    t = ds.time.attrs
    assert t["long_name"] == "model time" and t["units"] == "1"
    assert "tau" in t["comment"]


def test_discrete_and_protocol_time_attributes():
    disc = tf.run_config(ROOT / "simulations" / "spreadr_discrete.toml")
    assert disc.time.attrs == {"long_name": "spreadr step", "units": "1"}
    trials = tf.run_config(ROOT / "simulations" / "conflict_adaptation.toml",
                           overrides=["protocol.n_trials=4"])
    assert "trial" in trials.activation.dims
    assert trials.time.attrs["long_name"] == "time in trial"
    assert trials.time.attrs["units"] == "1"


def test_stimuli_are_stored_as_variables_and_as_json(tmp_path):
    text = TINY + '\n[[stimuli]]\nkind = "clamp"\nconcept = "holiday"\nstart = 1.0\nvalue = 0.5\n'
    ds = tf.load_result(tf.save_result(tf.run_config(text), tmp_path / "r.nc"))
    assert ds.sizes["stimulus"] == 2
    assert list(ds.stimulus_kind.values) == ["pulse", "clamp"]
    assert list(ds.stimulus_concept.values) == ["sun", "holiday"]
    np.testing.assert_array_equal(ds.stimulus_start.values, [0.0, 1.0])
    np.testing.assert_array_equal(ds.stimulus_stop.values, [2.0, np.inf])
    np.testing.assert_array_equal(ds.stimulus_amplitude.values, [1.0, 0.5])
    assert "stimulus_member" not in ds
    # the JSON stays the round-trip form
    stim = json.loads(ds.attrs["stimuli"])
    assert tf.Clamp(**{k: v for k, v in stim[1].items() if k != "kind"}) \
        == tf.Clamp("holiday", 1.0, value=0.5)


def test_relations_are_stored_as_structured_coordinates(tmp_path):
    given = [("sun", "beach", "association", 0.8), ("beach", "holiday", "part_of", 1.5),
             ("rain", "beach", "contradicts", 2.0)]
    net = tf.ConceptNetwork(["sun", "beach", "holiday", "rain"], given)
    ds = tf.simulate(net, stimuli=[tf.Pulse("sun", 0, 1)], t_end=2.0)
    back = tf.load_result(tf.save_result(ds, tmp_path / "r.nc"))
    for d in (ds, back):
        rows = list(zip(d.relation_source.values.tolist(), d.relation_target.values.tolist(),
                        d.relation_type.values.tolist(), d.relation_weight.values.tolist()))
        assert rows == given
        # association and contradicts are symmetric, part_of acts upwards only
        assert d.relation_directed.values.tolist() == [0, 1, 0]
    assert ds.attrs["Conventions"] == back.attrs["Conventions"] == "CF-1.10"


def test_the_model_per_concept_is_stored_as_coordinates(tmp_path):
    net = tf.ConceptNetwork([("sun", "image"), ("beach", "idea"), ("relax", "goal")],
                            [("sun", "beach", "association", 1.0)])
    model = tf.Model(tau={"*": 2.0, "@image": 0.5, "relax": 4.0}, gain=3.0, bias={"beach": 0.1})
    ds = tf.simulate(net, model, stimuli=[tf.Pulse("sun", 0, 1)], t_end=1.0)
    back = tf.load_result(tf.save_result(ds, tmp_path / "r.nc"))
    for d in (ds, back):
        assert d.model_tau.values.tolist() == [0.5, 2.0, 4.0]
        assert d.model_gain.values.tolist() == [3.0, 3.0, 3.0]
        assert d.model_bias.values.tolist() == [0.0, 0.1, 0.0]
        assert d.model_tau.dims == ("concept",)
    # a parameter that varies over the members is the member coordinate instead
    ens = tf.simulate(net, model, t_end=1.0, members=2, member_params={"gain": [1.0, 2.0]})
    assert "model_gain" not in ens.coords and ens.gain.values.tolist() == [1.0, 2.0]
    assert ens.model_tau.values.tolist() == [0.5, 2.0, 4.0]


def test_dask_backed_results_are_written_with_their_values(tmp_path):
    pytest.importorskip("dask")
    ds = tf.simulate(tf.ConceptNetwork(["a", "b"], [("a", "b", "link", 1.0)]),
                     stimuli=[tf.Pulse("a", 0, 1)], t_end=2.0)
    path = tf.save_result(ds, tmp_path / "r.nc")
    with xr.open_dataset(path, chunks={"time": 5}) as lazy:
        assert lazy.activation.chunks is not None
        again = tf.save_result(lazy, tmp_path / "again.nc")
    back = tf.load_result(again)
    np.testing.assert_array_equal(back.activation.values, ds.activation.values)


def test_an_attribute_netcdf_cannot_store_is_named(tmp_path):
    ds = tf.simulate(tf.ConceptNetwork(["a"]), t_end=1.0)
    ds.attrs["nothing"] = None
    with pytest.raises(tf.ConfigError, match=r"attribute nothing = NoneType cannot be stored"):
        tf.save_result(ds, tmp_path / "r.nc")
    ds.attrs.pop("nothing")
    ds.activation.attrs["odd"] = {"a": 1}
    with pytest.raises(tf.ConfigError, match=r"attribute activation.odd = dict"):
        tf.save_result(ds, tmp_path / "r.nc")
    assert not (tmp_path / "r.nc").exists()


def test_results_of_one_network_share_no_attributes_and_equal_a_fresh_network_s():
    """The concept, layer and relation coordinates are built once per network and reused:
    a result of the cached objects is identical to one of a freshly built network, and
    changing one result's attributes leaves the others alone."""
    cfg = tf.load_config(ROOT / "simulations" / "quickstart.toml")
    first, second = tf.run_config(cfg), tf.run_config(cfg)
    fresh = tf.run_config(tf.load_config(ROOT / "simulations" / "quickstart.toml"))
    assert first.identical(fresh) and second.identical(fresh)
    assert list(first.variables) == list(fresh.variables)
    for name in ("concept", "layer", "relation_source", "time"):
        first[name].attrs["changed"] = 1
        assert "changed" not in second[name].attrs, name
    assert first.indexes["concept"].equals(fresh.indexes["concept"])


@pytest.mark.parametrize("name", ["quickstart", "choice_lca", "hopfield_binary",
                                  "conflict_adaptation", "spreadr_discrete", "learn_association"])
def test_results_assembled_directly_equal_xarrays_public_constructor(name, monkeypatch):
    """make_dataset hands its variables to ``Dataset._construct_direct``; the same inputs
    through the public constructor must give the identical Dataset: the same variables in
    the same order, coordinates, indexes, dimension order and attributes."""
    import thoughtfield.results as R
    pairs = []
    real = R.assemble_dataset

    def both(data_vars, coords, indexes, attrs, direct=True):
        fast = real(data_vars, coords, indexes, attrs)
        public = real(data_vars, coords, indexes, attrs, direct=False)
        pairs.append((fast.copy(), public))   # (compared as made: the caller adds attributes)
        return fast

    monkeypatch.setattr(R, "assemble_dataset", both)
    cfg = tf.load_config(Path(__file__).parent.parent / "simulations" / f"{name}.toml")
    tf.run_config(cfg)
    assert pairs, "the run assembled no result"
    for fast, public in pairs:
        xr.testing.assert_identical(fast, public)
        assert list(fast.variables) == list(public.variables)
        assert list(fast.coords) == list(public.coords)
        assert dict(fast.sizes) == dict(public.sizes)
        assert list(fast.dims) == list(public.dims)
        assert set(fast.xindexes) == set(public.xindexes)
        for k in public.xindexes:
            assert fast.xindexes[k].equals(public.xindexes[k])
        assert fast.attrs == public.attrs


def test_direct_assembly_refuses_inconsistent_sizes():
    import thoughtfield.results as R
    a = xr.Variable(("time",), np.zeros(3))
    b = xr.Variable(("time",), np.zeros(4))
    with pytest.raises(ValueError, match="dimension 'time' has size 4, 3 elsewhere"):
        R.assemble_dataset({"a": a}, {"b": b}, {}, {})
