"""Property-based fuzzing of the network importers with corrupted files.

Valid files written by thoughtfield itself (CSV edge/concept/type tables, GraphML, GEXF,
spreadr adjacency matrices and start_run tables, JSON, a WordNet WNDB folder) are broken
byte by byte: truncated, bytes flipped (invalid UTF-8 included), lines deleted, duplicated
or swapped, cells and XML values replaced by junk.  Reading them directly, through a config
(``[network] file = ...``, also with missing and dangling file references) or through
``datasets.wordnet(path=...)`` must give a network (with finite weights) or a
``ThoughtfieldError`` naming the file -- never another exception.
"""

import json
import re
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import thoughtfield as tf
from thoughtfield import io as tfio

from _fuzz import FAST, STATS, outcome
from test_wordnet import TINY as WN_TINY
from test_wordnet import _write_wndb

WORK = Path(tempfile.mkdtemp(prefix="tf-fuzz-files-"))


def _network():
    net = tf.ConceptNetwork(
        {"sun": "image", "sea": "image", "beach": "idea", "holiday": "structure",
         "été 😀": "goal"},
        [("sun", "beach", "association", 0.8), ("sea", "beach", "association", 0.5),
         ("beach", "holiday", "is_a", 1.0), ("holiday", "été 😀", "causes", 2.0),
         ("sun", "sea", "contradicts", 0.3)])
    net.define_relation_type("evokes", 1, 1.5, False, 1.0, 0.25)
    net.add_relation("sea", "holiday", "evokes", 0.7)
    net.set_attribute("gloss", ["hot", "wet", None, "free", "summer"])
    return net


NET = _network()
POSITIVE = NET.drop_types(["contradicts"])


def _write(name, writer) -> bytes:
    p = WORK / name
    writer(p)
    return p.read_bytes()


ORIGINALS = {
    "edges.csv": _write("edges.csv", lambda p: NET.to_csv(p, WORK / "concepts.csv",
                                                          types_path=WORK / "types.csv")),
    "concepts.csv": (WORK / "concepts.csv").read_bytes(),
    "types.csv": (WORK / "types.csv").read_bytes(),
    "net.graphml": _write("net.graphml", lambda p: tfio.write_graphml(NET, p)),
    "net.gexf": _write("net.gexf", lambda p: tfio.write_gexf(NET, p)),
    "adjacency.csv": _write("adjacency.csv", lambda p: tfio.write_spreadr_network(POSITIVE, p)),
    "start_run.csv": _write("start_run.csv", lambda p: tfio.write_start_run(
        [tf.Pulse("sun", 0, 2, 10.0), tf.Pulse("sea", 3, 4, 1.5)], p)),
    "net.json": json.dumps(NET.to_dict(), ensure_ascii=False).encode("utf-8"),
}
(WORK / "net.json").write_bytes(ORIGINALS["net.json"])


def _read_csv(folder, files):
    return tf.ConceptNetwork.from_csv(folder / "edges.csv", folder / "concepts.csv",
                                      types_path=folder / "types.csv")


READERS = {
    "edges.csv": _read_csv,
    "concepts.csv": _read_csv,
    "types.csv": _read_csv,
    "net.graphml": lambda folder, f: tfio.read_graphml(folder / "net.graphml"),
    "net.gexf": lambda folder, f: tfio.read_gexf(folder / "net.gexf"),
    "adjacency.csv": lambda folder, f: tfio.read_spreadr_network(folder / "adjacency.csv"),
    "start_run.csv": lambda folder, f: tfio.read_start_run(folder / "start_run.csv"),
    "net.json": lambda folder, f: tf.load_config(
        {"network": {"file": "net.json"}, "run": {"t_end": 1.0}}, base_dir=folder).network,
}
for _name, _read in READERS.items():   # the originals read back
    _read(WORK, None)


# ------------------------------------------------------------------ byte mutations
_JUNK_BYTES = [b"\xff", b"\xfe\xff", b"\x00", b"\n", b"\r\n", b",", b"\t", b'"', b"<", b">",
               b"&", b"]]>", b"nan", b"-inf", b"1e999", b"-1", b"", b" ", b"\xc3", b"\xe2\x82",
               b"\xf0\x9f\x98", b"<!--", b"<x>", b"</node>", b"NA", b"true", b"sun", b"{",
               "é".encode(), b"\\", b"\x1a"]
_JUNK_TOKEN = [b"nan", b"inf", b"-inf", b"1e999", b"-1", b"", b" ", b"sun", b"beach", b"x" * 300,
               b"0", b"-0", b"1e-320", b"abc", b"\xff\xfe", b"&amp;", b"&bogus;", b"\"", b"1,2",
               b"true", b"2", b"image", b"nowhere", b"association", b"{}", b"[]", b"null"]
_TOKEN_RE = re.compile(rb'(?<=>)[^<>]+(?=<)|(?<==")[^"]*(?=")|[^,\t\r\n<>"]+')


@st.composite
def mutated_bytes(draw, data: bytes):
    op = draw(st.sampled_from(["truncate", "flip", "insert", "delete_line", "duplicate_line",
                               "swap_lines", "token", "token", "token", "empty"]))
    if op == "truncate":
        return op, data[:draw(st.integers(0, max(0, len(data) - 1)))]
    if op == "flip":
        k = draw(st.integers(0, len(data) - 1))
        return op, data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
    if op == "insert":
        k = draw(st.integers(0, len(data)))
        return op, data[:k] + draw(st.sampled_from(_JUNK_BYTES)) + data[k:]
    if op == "empty":
        return op, draw(st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b" \n \n"]))
    lines = data.split(b"\n")
    a = draw(st.integers(0, len(lines) - 1))
    if op == "delete_line":
        return op, b"\n".join(lines[:a] + lines[a + 1:])
    if op == "duplicate_line":
        return op, b"\n".join(lines[:a + 1] + lines[a:])
    if op == "swap_lines":
        b = draw(st.integers(0, len(lines) - 1))
        lines[a], lines[b] = lines[b], lines[a]
        return op, b"\n".join(lines)
    spans = [m.span() for m in _TOKEN_RE.finditer(data)]
    if not spans:
        return op, data
    i, j = spans[draw(st.integers(0, len(spans) - 1))]
    return op, data[:i] + draw(st.sampled_from(_JUNK_TOKEN)) + data[j:]


_COUNTER = [0]


def _fresh_folder() -> Path:
    _COUNTER[0] += 1
    d = WORK / f"case{_COUNTER[0]}"
    d.mkdir()
    for name, data in ORIGINALS.items():
        (d / name).write_bytes(data)
    return d


def _check_network(res):
    if isinstance(res, tf.ConceptNetwork):
        W = res.weight_matrix()
        assert np.isfinite(W.data).all(), "an importer let a non-finite weight through"
        assert all(isinstance(c, str) and c for c in res.concepts)
    elif isinstance(res, list):   # start_run -> pulses
        assert all(isinstance(p, tf.Pulse) for p in res)


@st.composite
def file_case(draw):
    name = draw(st.sampled_from(sorted(ORIGINALS)))
    op, data = draw(mutated_bytes(ORIGINALS[name]))
    return name, op, data


@settings(FAST, max_examples=500)
@given(case=file_case())
def _file_cases(case):
    name, op, data = case
    folder = _fresh_folder()
    (folder / name).write_bytes(data)
    res = outcome(lambda: READERS[name](folder, None), "file_read", names=[name])
    _check_network(res)


def test_network_file_fuzz():
    before = STATS.malformed["file_read"]
    _file_cases()
    assert STATS.malformed["file_read"] - before >= 250


# ------------------------------------------------------------------ through a config
_REFS = st.sampled_from([
    "missing.csv", "missing.graphml", "sub/none.gexf", "", " ", ".", "..", "/", "\x00",
    "edges.csv\x00.txt", "a" * 5000, "~nouser/x.csv", "net", "net.xlsx", "edges.CSV",
    "concepts.csv", "types.csv", "start_run.csv", "net.graphml/", "./net.gexf",
    "../" * 40 + "x.csv", "ｎｅｔ.json", "net.json", "edges.csv",
])


@st.composite
def config_file_case(draw):
    kind = draw(st.sampled_from(["corrupt", "reference"]))
    fmt = draw(st.sampled_from(["edges.csv", "net.graphml", "net.gexf", "adjacency.csv",
                                "net.json"]))
    net = {"file": fmt}
    if fmt == "edges.csv":
        net["concepts_file"] = "concepts.csv"
    if fmt == "adjacency.csv":
        net["format"] = "spreadr"
    data = None
    if kind == "corrupt":
        target = "concepts.csv" if fmt == "edges.csv" and draw(st.booleans()) else fmt
        op, data = draw(mutated_bytes(ORIGINALS[target]))
        return kind, net, target, data
    key = draw(st.sampled_from(["file", "concepts_file", "format"]))
    if key == "format":
        net["format"] = draw(st.sampled_from(["csv", "graphml", "gexf", "json", "spreadr",
                                              "xml", "", "CSV"]))
    else:
        net[key] = draw(_REFS)
    return kind, net, key, None


@settings(FAST, max_examples=300)
@given(case=config_file_case())
def _config_file_cases(case):
    kind, net, target, data = case
    folder = _fresh_folder()
    if data is not None:
        (folder / target).write_bytes(data)
    cfg = {"network": net, "run": {"t_end": 1.0}}
    names = ["network.file", "network.concepts_file", "network.format", "network"]
    res = outcome(lambda: tf.load_config(cfg, base_dir=folder), "config_file", names=names)
    if isinstance(res, tf.SimulationConfig):
        _check_network(res.network)


def test_config_network_file_fuzz():
    before = STATS.malformed["config_file"]
    _config_file_cases()
    assert STATS.malformed["config_file"] - before >= 150


# ------------------------------------------------------------------ WordNet WNDB folders
WNDB = WORK / "wndb"
WNDB.mkdir()
_write_wndb(WNDB, WN_TINY)
WN_FILES = {p.name: p.read_bytes() for p in sorted(WNDB.iterdir())}
tf.datasets.wordnet(path=WNDB)


@st.composite
def wndb_case(draw):
    name = draw(st.sampled_from(sorted(WN_FILES)))
    op = draw(st.sampled_from(["mutate", "mutate", "mutate", "remove"]))
    if op == "remove":
        return name, op, None
    _, data = draw(mutated_bytes(WN_FILES[name]))
    return name, op, data


@settings(FAST, max_examples=250)
@given(case=wndb_case())
def _wndb_cases(case):
    name, op, data = case
    _COUNTER[0] += 1
    folder = WORK / f"wn{_COUNTER[0]}"
    folder.mkdir()
    for n, d in WN_FILES.items():
        if not (n == name and op == "remove"):
            (folder / n).write_bytes(d if n != name else data)
    res = outcome(lambda: tf.datasets.wordnet(path=folder), "wordnet_path",
                  names=[name, str(folder), "path"])
    _check_network(res)


def test_wordnet_folder_fuzz():
    before = STATS.malformed["wordnet_path"]
    _wndb_cases()
    assert STATS.malformed["wordnet_path"] - before >= 100


# ------------------------------------------------------------------ structured importers
junk_attr = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                      st.text(max_size=5), st.lists(st.integers(), max_size=2),
                      st.just("a|b"), st.just("{}"), st.just("{\"x\": {\"sign\": 2}}"),
                      st.just("[1, 2]"), st.just("not json"))


@settings(FAST, max_examples=200)
@given(graph_attrs=st.dictionaries(st.sampled_from(["layers", "relation_types", "name"]),
                                   junk_attr, max_size=2),
       node_attrs=st.dictionaries(st.sampled_from(["layer", "gloss", "label", "id", "w"]),
                                  junk_attr, max_size=3),
       edge_attrs=st.dictionaries(st.sampled_from(["type", "weight", "relation"]), junk_attr,
                                  max_size=2),
       nodes=st.lists(st.one_of(st.text(max_size=4), st.integers(-3, 3),
                                st.tuples(st.integers(0, 2))), min_size=1, max_size=4))
def _networkx_cases(graph_attrs, node_attrs, edge_attrs, nodes):
    import networkx as nx
    g = nx.MultiDiGraph(**graph_attrs)
    for k, n in enumerate(nodes):
        g.add_node(n, **(node_attrs if k == 0 else {}))
    g.add_edge(nodes[0], nodes[-1], **edge_attrs)
    res = outcome(lambda: tf.ConceptNetwork.from_networkx(g), "from_networkx")
    _check_network(res)


def test_from_networkx_fuzz():
    before = STATS.malformed["from_networkx"]
    _networkx_cases()
    assert STATS.malformed["from_networkx"] - before >= 50


@settings(FAST, max_examples=150)
@given(names=st.one_of(st.lists(st.one_of(st.text(max_size=3), st.integers(), st.none()),
                                max_size=4), st.text(max_size=3), st.integers()),
       layers=st.one_of(st.none(), st.lists(st.one_of(st.integers(-2, 5), st.text(max_size=5)),
                                           max_size=4), st.text(max_size=3)),
       rel=st.one_of(st.none(), st.integers(), st.dictionaries(
           st.sampled_from(["link", "association", "nope", ""]),
           st.one_of(st.tuples(st.lists(st.integers(-2, 5), max_size=3),
                               st.lists(st.integers(-2, 5), max_size=3)),
                     st.tuples(st.lists(st.integers(0, 2), min_size=1, max_size=1),
                               st.lists(st.integers(0, 2), min_size=1, max_size=1),
                               st.floats(allow_nan=True, allow_infinity=True)),
                     st.integers(), st.text(max_size=2)), max_size=2)))
def _from_arrays_cases(names, layers, rel):
    res = outcome(lambda: tf.ConceptNetwork.from_arrays(names, layers, relations=rel),
                  "from_arrays")
    _check_network(res)


def test_from_arrays_fuzz():
    before = STATS.malformed["from_arrays"]
    _from_arrays_cases()
    assert STATS.malformed["from_arrays"] - before >= 50
