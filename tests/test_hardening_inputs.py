"""Issue 13, classes 7, 8 and 9: hostile inputs end in one clear line, never in a hang, an
unbounded read, a traceback, terminal escapes, or a read outside the config's folder.

- class 7 (unbounded reads): devices and FIFOs are refused before they are opened, files
  are capped (``THOUGHTFIELD_MAX_CONFIG_SIZE``, ``THOUGHTFIELD_MAX_INPUT_SIZE``), sizes a
  file declares are checked against the memory guard before allocating, edge lists are
  streamed;
- class 8 (tracebacks): deep nesting, huge integers, control characters in names, damaged
  result attributes, unwritable figure paths, non-numeric results, a closed pipe, and a
  last-resort handler for everything else;
- class 9 (file references): a config reads files only under its own folder unless
  ``--allow-files``/``--allow-any-file``/``THOUGHTFIELD_ALLOW_FILES``/``allow_files=``
  says otherwise, and messages never show a refused file's contents.

Cases that would hang or exhaust memory on a broken implementation run in a child process
with a timeout and an address-space limit, so this file fails instead of hanging.
"""

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thoughtfield as tf
from thoughtfield import _toml
from thoughtfield import io as tfio
from thoughtfield.cli import main

from _configs import TINY, tiny
from _fuzz import FAST

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(tf.__file__).resolve().parents[1]   # child processes run the package under test
SECRET = "TOPSECRET-hunter2"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    env.pop("THOUGHTFIELD_ALLOW_FILES", None)
    env.update(extra)
    return env


def _limit_memory():   # runs in the child: a runaway read fails fast instead of swapping
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))


def run_child(code: str, timeout: float = 45, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=_env(**env),
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory)


def run_cmd(*argv, timeout: float = 45, cwd=None, **env):
    return subprocess.run([sys.executable, "-m", "thoughtfield", *map(str, argv)], cwd=cwd,
                          env=_env(**env), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, preexec_fn=_limit_memory)


def one_line_error(code, err, status=2, *needles):
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


# ========================================================== class 7: unbounded reads
def test_devices_and_fifos_are_refused_by_every_reader_without_blocking(tmp_path):
    """/dev/zero (endless), a FIFO (blocks forever on open) and a link to /dev/zero, given to
    each reader: one ThoughtfieldError naming the kind of file, at once."""
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero")
    script = f"""
    import json, os, sys
    import thoughtfield as tf
    from thoughtfield import io as tfio
    from thoughtfield.results import load_result
    folder = {str(tmp_path)!r}
    readers = {{
        "load_config": lambda p: tf.load_config(p),
        "read_csv": lambda p: tfio.read_csv(p),
        "concepts_file": lambda p: tf.ConceptNetwork.from_csv({str(ROOT / 'README.md')!r}, p),
        "read_graphml": lambda p: tfio.read_graphml(p),
        "read_gexf": lambda p: tfio.read_gexf(p),
        "read_spreadr_network": lambda p: tfio.read_spreadr_network(p),
        "read_start_run": lambda p: tfio.read_start_run(p),
        "json via config": lambda p: tf.load_config(
            {{"network": {{"file": p, "format": "json"}}, "run": {{"t_end": 1.0}}}},
            base_dir=folder, allow_files=True),
        "load_result": lambda p: load_result(p),
    }}
    out = {{}}
    for kind, p in (("fifo", folder + "/fifo"), ("device", "/dev/zero"),
                    ("link", folder + "/zero")):
        for name, read in readers.items():
            try:
                read(p)
                out[kind + " " + name] = "accepted"
            except tf.ThoughtfieldError as e:
                out[kind + " " + name] = str(e)
    print(json.dumps(out))
    """
    r = run_child(script)
    assert r.returncode == 0, r.stderr[-2000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(results) == 27
    for case, msg in results.items():
        kind = "FIFO" if case.startswith("fifo") else "character device"
        assert f"is a {kind}" in msg and "not a regular file" in msg, (case, msg)


@pytest.mark.parametrize("argv", [
    ["validate", "/dev/zero"], ["run", "/dev/zero"], ["info", "/dev/zero"],
    ["info", "/dev/urandom"], ["plot", "/dev/zero"], ["explain", "/dev/zero"],
    ["info", "FIFO"], ["validate", "FIFO"], ["sweep", "FIFO"],
])
def test_commands_refuse_devices_and_fifos_in_one_line(tmp_path, argv):
    os.mkfifo(tmp_path / "FIFO")
    argv = [a.replace("FIFO", str(tmp_path / "FIFO")) for a in argv]
    if argv[0] in ("run", "sweep"):
        argv += ["--out", tmp_path / "r.nc"]
    r = run_cmd(*argv, cwd=tmp_path)
    one_line_error(r.returncode, r.stderr, 2, "not a regular file")


def test_network_file_fifo_in_the_config_folder_is_refused(tmp_path):
    os.mkfifo(tmp_path / "edges.csv")
    (tmp_path / "c.toml").write_text('[network]\nfile = "edges.csv"\n[run]\nt_end = 1.0\n')
    r = run_cmd("validate", tmp_path / "c.toml")
    one_line_error(r.returncode, r.stderr, 2, "network.file", "FIFO", "not a regular file")


def test_size_limits_are_enforced_and_name_their_variable(tmp_path, monkeypatch):
    (tmp_path / "big.toml").write_text(TINY + "#" * 3000 + "\n")
    monkeypatch.setenv("THOUGHTFIELD_MAX_CONFIG_SIZE", "2K")
    with pytest.raises(tf.ConfigError, match=r"big.toml: the file is [\d.]+ KiB, larger than the "
                                             r"2 KiB limit for configs.*THOUGHTFIELD_MAX_CONFIG_SIZE"):
        tf.load_config(tmp_path / "big.toml")
    monkeypatch.setenv("THOUGHTFIELD_MAX_CONFIG_SIZE", "lots")
    with pytest.raises(tf.ConfigError, match=r"THOUGHTFIELD_MAX_CONFIG_SIZE: must be a number "
                                             r"of bytes.*\(got 'lots'\)"):
        tf.load_config(tmp_path / "big.toml")
    monkeypatch.delenv("THOUGHTFIELD_MAX_CONFIG_SIZE")
    assert tf.load_config(tmp_path / "big.toml").network.n == 3

    net = tf.ConceptNetwork.from_edges([(f"c{i}", f"c{i + 1}") for i in range(200)])
    net.to_csv(tmp_path / "edges.csv")
    tfio.write_graphml(net, tmp_path / "net.graphml")
    tfio.write_gexf(net, tmp_path / "net.gexf")
    tfio.write_spreadr_network(net, tmp_path / "adj.csv")
    (tmp_path / "net.json").write_text(json.dumps(net.to_dict()))
    monkeypatch.setenv("THOUGHTFIELD_MAX_INPUT_SIZE", "1k")
    for name, read in [("edges.csv", tfio.read_csv), ("net.graphml", tfio.read_graphml),
                       ("net.gexf", tfio.read_gexf), ("adj.csv", tfio.read_spreadr_network),
                       ("net.json", lambda p: tf.load_config(
                           {"network": {"file": "net.json"}, "run": {"t_end": 1.0}},
                           base_dir=tmp_path).network)]:
        with pytest.raises(tf.ConfigError, match=rf"{name}: the file is .*, larger than the "
                                                 r"1 KiB limit for network and data files.*"
                                                 r"THOUGHTFIELD_MAX_INPUT_SIZE="):
            read(tmp_path / name)
    monkeypatch.delenv("THOUGHTFIELD_MAX_INPUT_SIZE")
    assert tfio.read_csv(tmp_path / "edges.csv") == net


def _declaring(path, shape):
    """A small HDF5/NetCDF file that declares a huge (unwritten, chunked) activation."""
    import h5py
    with h5py.File(path, "w") as f:
        dims = []
        for name, n in zip(("time", "concept"), shape):
            d = f.create_dataset(name, shape=(n,), dtype="f8", chunks=(min(n, 1024),))
            d.make_scale(name)
            dims.append(d)
        a = f.create_dataset("activation", shape=shape, dtype="f8", chunks=(64, 64))
        for k, d in enumerate(dims):
            a.dims[k].attach_scale(d)


def test_declared_array_sizes_are_checked_before_allocating(tmp_path, capsys):
    _declaring(tmp_path / "huge.nc", (2**20, 2**20))   # 8 TiB declared in a few kB
    assert (tmp_path / "huge.nc").stat().st_size < 100_000
    from thoughtfield.results import load_result
    with pytest.raises(tf.ResourceError, match=r"huge.nc: reading it needs 8 TiB of memory "
                                               r"\(the variable 'activation' declares shape "
                                               r"\(1048576, 1048576\)\).*THOUGHTFIELD_MAX_MEMORY"):
        load_result(tmp_path / "huge.nc")
    for command in ("info", "plot", "explain"):
        code, out, err = cli(capsys, command, tmp_path / "huge.nc")
        one_line_error(code, err, 2, "declares shape")


def test_dense_matrix_is_checked_against_the_memory_guard_before_allocating(tmp_path,
                                                                           monkeypatch):
    names = [f"c{i}" for i in range(5000)]
    (tmp_path / "adj.csv").write_text("," + ",".join(names) + "\n")
    monkeypatch.setenv("THOUGHTFIELD_MAX_MEMORY", "64M")
    with pytest.raises(tf.ResourceError, match=r"adj.csv: a 5001x5001 adjacency matrix needs "
                                               r"[\d.]+ MiB of memory, more than the limit 64 MiB "
                                               r"\(THOUGHTFIELD_MAX_MEMORY\); give the network "
                                               r"as an edge list"):
        tfio.read_spreadr_network(tmp_path / "adj.csv")


def test_edge_lists_are_streamed(tmp_path):
    """Reading an edge list needs memory for the relation arrays, not for the text and one
    Python tuple per edge (it needed about 15x the file size; now about 2x)."""
    rng = np.random.default_rng(0)
    s, t = rng.integers(0, 500, 40_000), rng.integers(0, 500, 40_000)
    p = tmp_path / "edges.csv"
    p.write_text("source,target,weight\n"
                 + "".join(f"concept{a},concept{b},0.5\n" for a, b in zip(s, t)))
    tracemalloc.start()
    try:
        net = tfio.read_csv(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert net.n_relations == 40_000
    assert peak < 3 * p.stat().st_size, (peak, p.stat().st_size)


def test_streamed_csv_keeps_its_messages(tmp_path):
    p = tmp_path / "e.csv"
    p.write_bytes(b"source,target\n" + b"a,b\n" * 70_000 + b"c,\xff\n")
    with pytest.raises(tf.NetworkError, match=r"e.csv line 70002: not UTF-8 text \(byte 0xff "
                                              r"at offset 280016\)"):
        tfio.read_csv(p)
    p.write_text("source,target,weight\n" + "a,b,1\n" * 70_000 + "a,b,x\n")
    with pytest.raises(tf.NetworkError, match=r"e.csv line 70002: weight: must be a number "
                                              r"\(got 'x'\)"):
        tfio.read_csv(p)
    (tmp_path / "c.csv").write_text("name\na\nb\n")
    p.write_text("source,target\n" + "a,b\n" * 70_000 + "a,z\n")
    with pytest.raises(tf.NetworkError, match=r"e.csv line 70002: \('a' -> 'z'\): unknown concept 'z'; add it "
                                              r"to .*c.csv first"):
        tf.ConceptNetwork.from_csv(p, tmp_path / "c.csv")


# ========================================================== class 8: tracebacks
@settings(FAST, max_examples=40)
@given(depth=st.integers(65, 3000), kind=st.sampled_from(["[]", "{}", "mixed"]),
       where=st.sampled_from(["file", "set", "dict", "json"]))
def test_deep_nesting_is_a_clear_error(tmp_path_factory, depth, kind, where):
    folder = tmp_path_factory.mktemp("deep")
    if kind == "[]":
        value = "[" * depth + "]" * depth
    elif kind == "{}":
        value = "{a = " * depth + "1" + "}" * depth
    else:
        value = "[{a = " * ((depth + 1) // 2) + "1" + "}]" * ((depth + 1) // 2)
    if where == "file":
        (folder / "c.toml").write_text(TINY.replace("seed = 3", "seed = 3\nx = " + value))
        with pytest.raises(tf.ConfigError, match=r"c.toml: .*nested"):
            tf.load_config(folder / "c.toml")
    elif where == "set":
        with pytest.raises(tf.ConfigError, match=r"--set model.gain=.{1,80}: not a TOML value: "
                                                 r".*nested too deeply"):
            tf.load_config(TINY, overrides=["model.gain=" + value])
    elif where == "dict":
        nested: object = 1.0
        for _ in range(depth):
            nested = [nested]
        with pytest.raises(tf.ConfigError, match=r"^config: tables and arrays are nested more "
                                                 r"than 64 levels deep \(at model.gain\[0\]"):
            tf.load_config({"network": {"concepts": ["a"]}, "model": {"gain": nested},
                            "run": {"t_end": 1.0}})
    else:
        (folder / "n.json").write_text('{"concepts": ["a"], "relations": '
                                       + "[" * depth + "]" * depth + "}")
        with pytest.raises(tf.NetworkError, match=r"network.file: .*n.json: (not valid JSON "
                                                  r"\(.*nested|tables and arrays are nested)"):
            tf.load_config({"network": {"file": "n.json"}, "run": {"t_end": 1.0}},
                           base_dir=folder)


@settings(FAST, max_examples=30)
@given(digits=st.integers(4301, 20000), key=st.sampled_from(["seed", "run.t_end", "model.gain"]))
def test_huge_integers_are_a_clear_error(digits, key):
    old = {"seed": "seed = 3", "run.t_end": "t_end = 5.0", "model.gain": "gain = 4.0"}[key]
    text = TINY.replace(old, old.split(" = ")[0] + " = " + "7" * digits)
    with pytest.raises(tf.ConfigError, match=rf"^<config>:\d+: invalid TOML: an integer with "
                                             rf"{digits} digits; write large or precise values "
                                             r"as floats"):
        tf.load_config(text)
    with pytest.raises(tf.ConfigError, match=rf"^--set {key}=7+\.\.\.7+: not a TOML value: "
                                             r".*more than 4300 digits"):
        tf.load_config(TINY, overrides=[f"{key}={'7' * digits}"])


_bad_char = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co"])


@settings(FAST, max_examples=60)
@given(prefix=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=4),
       bad=_bad_char,
       suffix=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=4),
       route=st.sampled_from(["config", "csv", "add_concept", "from_arrays", "layer",
                              "relation type", "graphml"]))
def test_names_with_control_characters_are_refused_up_front(tmp_path_factory, prefix, bad,
                                                            suffix, route):
    name = prefix + bad + suffix
    folder = tmp_path_factory.mktemp("names")
    msg = r"must be printable text, without control characters \(got .*, which contains U\+"
    with pytest.raises(tf.ConfigError, match=msg) as info:
        if route == "config":
            tf.load_config({"network": {"concepts": ["ok", name]}, "run": {"t_end": 1.0}})
        elif route == "csv":
            with open(folder / "e.csv", "w", encoding="utf-8", newline="") as f:
                f.write(f"source,target\nok,\"{name}\"\n")
            tfio.read_csv(folder / "e.csv")
        elif route == "add_concept":
            tf.ConceptNetwork().add_concept(name)
        elif route == "from_arrays":
            tf.ConceptNetwork.from_arrays(["ok", name])
        elif route == "layer":
            tf.ConceptNetwork(layers=["ok", name])
        elif route == "relation type":
            tf.load_config({"network": {"concepts": ["a", "b"], "relations": [["a", "b", name]]},
                            "run": {"t_end": 1.0}})
        else:
            import networkx as nx
            g = nx.DiGraph()
            g.add_edge("ok", name)
            tf.ConceptNetwork.from_networkx(g)
    assert info.value.args[0].isprintable()


def test_control_characters_in_a_config_stop_the_run_before_it_starts(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(tiny(**{'image = ["sun"]': 'image = ["sun", "red\\u001b[31m", "nul\\u0000"]'}))
    code, out, err = cli(capsys, "run", cfg, "--out", tmp_path / "r.nc")
    line = one_line_error(code, err, 2, "network.concepts.image[1]", "U+001B (ESC)")
    assert "\x1b" not in line and not (tmp_path / "r.nc").exists()


@pytest.fixture(scope="module")
def result_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("result")
    cfg = tf.load_config(TINY)
    ds = cfg.run_simulation()
    from thoughtfield.results import save_result
    save_result(ds, folder / "good.nc")
    return folder / "good.nc"


def _variant(src, dst, change):
    import xarray as xr
    ds = xr.load_dataset(src, engine="h5netcdf")
    ds = change(ds)
    ds.to_netcdf(dst, engine="h5netcdf")
    return dst


_junk_attr = st.one_of(
    st.sampled_from(["{not json", "[", "null", "5", '"text"', "[1, 2]", '{"concepts": 5}',
                     '{"concepts": ["a"]}', "[" * 5000 + "]" * 5000, '{"kind": "pulse"}',
                     '[{"concept": 3, "start": "x"}]', '[{"concept": "sun", "start": "soon"}]',
                     '{"tau": "x"}', '{"rtol": "x", "atol": []}', "1" * 5000, "\x1b[31m"]),
    # a NetCDF attribute is UTF-8: lone surrogates cannot be written at all, so they cannot
    # be in a file either
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=20))


@settings(FAST, max_examples=25)
@given(attr=st.sampled_from(["network", "stimuli", "model", "solver", "dt", "method", "title",
                             "n_steps", "seed", "config_overrides"]),
       value=_junk_attr, command=st.sampled_from(["info", "explain", "plot"]))
def test_damaged_result_attributes_never_end_in_a_traceback(result_file, tmp_path_factory,
                                                            attr, value, command):
    folder = tmp_path_factory.mktemp("attrs")

    def damage(ds):
        ds.attrs[attr] = value
        return ds
    p = _variant(result_file, folder / "bad.nc", damage)
    argv = [command, p] + (["--kind", "network", "trajectories", "--out", folder / "f.png"]
                           if command == "plot" else [])
    code = main([str(a) for a in argv])
    assert code in (0, 2)   # 1 would be an internal error: the last-resort handler


def test_explain_names_a_damaged_attribute(result_file, tmp_path, capsys):
    for attr in ("network", "stimuli"):
        p = _variant(result_file, tmp_path / f"{attr}.nc",
                     lambda ds: ds.assign_attrs({attr: "{not json"}))
        code, out, err = cli(capsys, "explain", p)
        one_line_error(code, err, 2, f"result attribute {attr!r}: not valid JSON",
                       "the file is damaged or was not written by thoughtfield")


def test_explain_plot_to_an_unwritable_path_is_a_clear_error(result_file, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    for target in (tmp_path / "a_file" / "why.png", Path("/proc/no/such/why.png")):
        code, out, err = cli(capsys, "explain", result_file, "--plot", target)
        one_line_error(code, err, 2, str(target), "cannot write")
    code, out, err = cli(capsys, "explain", result_file, "--plot", tmp_path / "new" / "w.png")
    assert code == 0 and (tmp_path / "new" / "w.png").exists(), err


def test_plot_to_an_unwritable_path_is_a_clear_error(result_file, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    for target in (tmp_path / "a_file" / "h.png", Path("/proc/no/such/h.png")):
        code, out, err = cli(capsys, "plot", result_file, "--kind", "heatmap", "--out", target)
        one_line_error(code, err, 2, str(target), "cannot write")


def test_non_numeric_results_are_refused_by_name(result_file, tmp_path, capsys):
    p = _variant(result_file, tmp_path / "s.nc",
                 lambda ds: ds.assign(activation=ds.activation.astype(str)))
    for command in ("plot", "explain", "info"):
        code, out, err = cli(capsys, command, p)
        one_line_error(code, err, 2, "s.nc: the variable 'activation' holds <U", "not numbers")


def test_names_from_a_result_cannot_drive_the_terminal(result_file, tmp_path, capsys):
    def escape(ds):
        names = [f"c\x1b[31m{i}\x07" for i in range(ds.sizes["concept"])]
        net = json.loads(ds.attrs["network"])
        old = [c[0] for c in net["concepts"]]
        ren = dict(zip(old, names))
        net["concepts"] = [[ren[c[0]], c[1]] for c in net["concepts"]]
        net["relations"] = [[ren[r[0]], ren[r[1]], *r[2:]] for r in net["relations"]]
        st_ = json.loads(ds.attrs["stimuli"])
        for s in st_:
            s["concept"] = ren[s["concept"]]
        return ds.assign_coords(concept=names).assign_attrs(
            network=json.dumps(net), stimuli=json.dumps(st_), title="t\x1b]0;owned\x07")
    p = _variant(result_file, tmp_path / "esc.nc", escape)
    code, out, err = cli(capsys, "info", p, "--concepts")
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "c\\x1b[31m0\\x07 (image)" in out and "t\\x1b]0;owned\\x07" in out
    code, out, err = cli(capsys, "explain", p)   # its names are refused, in one clean line
    one_line_error(code, err, 2, "must be printable text")
    assert "\x1b" not in out + err and "\x07" not in out + err


def test_a_closed_pipe_ends_the_output_quietly(tmp_path):
    (tmp_path / "c.toml").write_text('[network]\ndataset = "blank"\noptions = { n = 20000 }\n'
                                     '[run]\nt_end = 1.0\n')
    p = subprocess.Popen([sys.executable, "-m", "thoughtfield", "info", str(tmp_path / "c.toml"),
                          "--concepts"], env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()            # `| head -1`
    err = p.stderr.read().decode()
    code = p.wait(timeout=60)
    assert first.startswith(b"config: ")
    assert err == "" and code == 0, err


def test_the_last_resort_handler_prints_one_line(monkeypatch, capsys):
    from thoughtfield.cli import validate

    def boom(args):
        raise KeyError("unexpected \x1b[31m")
    monkeypatch.setattr(validate, "main", boom)
    code, out, err = cli(capsys, "validate", "x.toml")
    line = one_line_error(code, err, 1, "thoughtfield validate: internal error: KeyError:",
                          "please report it", "--debug", "THOUGHTFIELD_DEBUG=1")
    assert "\x1b" not in line
    with pytest.raises(KeyError):
        main(["validate", "x.toml", "--debug"])
    monkeypatch.setenv("THOUGHTFIELD_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["validate", "x.toml"])


def test_error_messages_are_printed_without_control_characters(tmp_path, capsys):
    cfg = tmp_path / "c\x1b]0;t\x07.toml"
    code, out, err = cli(capsys, "validate", cfg)
    line = one_line_error(code, err, 2, "config file not found")
    assert "\x1b" not in line and "\\x1b]0;t\\x07.toml" in line


# ========================================================== class 9: file references
@pytest.fixture
def folders(tmp_path):
    cfg = tmp_path / "cfg"
    (cfg / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(f"{SECRET}\nline2\n")
    (outside / "edges.csv").write_text("source,target\nsun,beach\n")
    (cfg / "edges.csv").write_text("source,target\nsun,beach\n")
    (cfg / "sub" / "edges.csv").write_text("source,target\nsun,beach\n")
    os.symlink(outside / "secret.csv", cfg / "link.csv")
    os.symlink(outside, cfg / "dirlink")
    os.symlink(cfg / "edges.csv", cfg / "inner_link.csv")
    return cfg, outside


REFUSED = [
    ("/etc/passwd", "is outside"), ("{outside}/secret.csv", "is outside"),
    ("../outside/secret.csv", "is outside"), ("sub/../../outside/secret.csv", "is outside"),
    ("~/.bashrc", "is outside"), ("link.csv", "is a link to a file outside"),
    ("dirlink/secret.csv", "is a link to a file outside"),
]


@pytest.mark.parametrize("ref,how", REFUSED)
@pytest.mark.parametrize("key", ["file", "concepts_file"])
def test_config_file_references_stay_in_the_config_folder(folders, ref, how, key):
    cfg, outside = folders
    ref = ref.format(outside=outside)
    net = {"file": ref, "format": "csv"} if key == "file" else \
        {"file": "edges.csv", "concepts_file": ref}
    (cfg / "c.toml").write_text(_toml.dumps({"network": net, "run": {"t_end": 1.0}}))
    with pytest.raises(tf.ConfigError) as info:
        tf.load_config(cfg / "c.toml")
    msg = str(info.value)
    assert f"network.{key}: " in msg and how in msg and "--allow-files FOLDER" in msg, msg
    assert SECRET not in msg


def test_references_inside_the_folder_still_work(folders):
    cfg, _ = folders
    for ref in ("edges.csv", "sub/edges.csv", "./sub/../edges.csv", "inner_link.csv",
                str(cfg / "edges.csv")):
        c = tf.load_config({"network": {"file": ref}, "run": {"t_end": 1.0}}, base_dir=cfg)
        assert c.network.concepts == ("sun", "beach")


def test_allowing_other_folders(folders, monkeypatch, capsys):
    cfg, outside = folders
    data = {"network": {"file": str(outside / "edges.csv")}, "run": {"t_end": 1.0}}
    for allow in ([outside], str(outside), True):
        assert tf.load_config(data, base_dir=cfg, allow_files=allow).network.n == 2
    # the permission survives overrides
    c = tf.load_config(data, base_dir=cfg, allow_files=[outside])
    assert c.with_overrides({"run.t_end": 2.0}).network.n == 2
    with pytest.raises(tf.ConfigError, match=r"allow_files\[0\]: expected a folder"):
        tf.load_config(data, base_dir=cfg, allow_files=[3])
    monkeypatch.setenv("THOUGHTFIELD_ALLOW_FILES", str(outside))
    assert tf.load_config(data, base_dir=cfg).network.n == 2
    monkeypatch.setenv("THOUGHTFIELD_ALLOW_FILES", "*")
    assert tf.load_config(data, base_dir=cfg).network.n == 2
    monkeypatch.delenv("THOUGHTFIELD_ALLOW_FILES")
    # a folder allowed is not the secret's content being shown: only short escaped excerpts
    data["network"]["file"] = str(outside / "secret.csv")
    with pytest.raises(tf.NetworkError, match=r"secret.csv: missing column 'source' in header"):
        tf.load_config(data, base_dir=cfg, allow_files=True)
    # the command line
    (cfg / "c.toml").write_text(_toml.dumps({"network": {"file": str(outside / "edges.csv")},
                                                "run": {"t_end": 1.0}}))
    code, out, err = cli(capsys, "validate", cfg / "c.toml")
    one_line_error(code, err, 2, "network.file:", "is outside the config's folder")
    for flags in (["--allow-files", outside], ["--allow-any-file"]):
        code, out, err = cli(capsys, "validate", cfg / "c.toml", *flags)
        assert code == 0, err
    assert "THOUGHTFIELD_ALLOW_FILES" not in os.environ   # the flag does not leak


def test_dataset_folders_follow_the_same_rule(folders):
    cfg, outside = folders
    data = {"network": {"dataset": "wordnet", "options": {"path": str(outside)}},
            "run": {"t_end": 1.0}}
    with pytest.raises(tf.ConfigError, match=r"network.options.path: '.*outside' is outside "
                                             r"the config's folder"):
        tf.load_config(data, base_dir=cfg)
    with pytest.raises(tf.ConfigError, match=r"network.options.path: .*data.noun not found"):
        tf.load_config(data, base_dir=cfg, allow_files=[outside])
    # the bundled data is no file reference
    ok = tf.load_config({"network": {"dataset": "wordnet", "options": {"pos": "v"}},
                         "run": {"t_end": 1.0}}, base_dir=cfg)
    assert ok.network.n > 10_000


@settings(FAST, max_examples=80)
@given(parts=st.lists(st.sampled_from(["..", ".", "sub", "dirlink", "link.csv", "edges.csv",
                                       "secret.csv", "~", "outside", "/"]),
                      min_size=1, max_size=5))
def test_file_references_property(tmp_path_factory, parts):
    """Whatever path a config writes: it is read only when it resolves inside the config's
    folder, and a refused path's message never shows the file's content."""
    base = tmp_path_factory.mktemp("prop")
    cfg = base / "cfg"
    (cfg / "sub").mkdir(parents=True)
    (base / "outside").mkdir()
    (base / "outside" / "secret.csv").write_text(f"{SECRET}\n")
    (cfg / "edges.csv").write_text("source,target\nsun,beach\n")
    (cfg / "sub" / "edges.csv").write_text("source,target\nsun,beach\n")
    os.symlink(base / "outside" / "secret.csv", cfg / "link.csv")
    os.symlink(base / "outside", cfg / "dirlink")
    ref = "/".join(parts).replace("//", "/")
    full = Path(os.path.expanduser(ref))
    full = full if full.is_absolute() else cfg / full
    inside = Path(os.path.realpath(full)).is_relative_to(os.path.realpath(cfg))
    try:
        tf.load_config({"network": {"file": ref, "format": "csv"}, "run": {"t_end": 1.0}},
                       base_dir=cfg)
        assert inside
    except tf.ConfigError as e:
        msg = str(e)
        assert SECRET not in msg
        assert msg.startswith("network.file: ")
        assert inside != ("outside the config's folder" in msg), msg
