"""The corpus: interesting malformed inputs the fuzz tests found (each one escaped as a
non-thoughtfield exception, or gave a poor message, before it was fixed), kept as plain
regression tests with the message they must give."""

import copy
import os

import pytest

import thoughtfield as tf
from thoughtfield import io as tfio

from _configs import TINY
from test_wordnet import TINY as WN_TINY
from test_wordnet import _write_wndb

try:
    import tomllib
except ImportError:  # pragma: no cover
    import tomli as tomllib


# ------------------------------------------------------------------ configs
def _cyclic():
    d = tomllib.loads(TINY)
    d["model"]["tau"] = d["model"]          # a table that contains itself
    return d


def _odd_key():
    d = tomllib.loads(TINY)
    d["solver"]["rt\nol"] = 1.0
    return d


CONFIGS = [
    ("empty text is an empty config", "", r"^run: missing section \[run\]|^network: missing"),
    ("a comment only", "# nothing", r"missing section"),
    ("truncated inside an array", TINY[:TINY.index("[\"beach\", \"holiday\"") + 5],
     r"^<config>:\d+:\d+: invalid TOML: .*\(at the end of the text; is it truncated\?\)"),
    ("huge integer", TINY.replace("seed = 3", "seed = " + "9" * 400),
     r"<config>:2: seed: must be <= \d+ \(got an integer with 400 digits\)"),
    ("a key with a newline is quoted", _odd_key(),
     r'^solver\."rt\\nol": unknown key \'rt\\nol\''),
    ("a table that contains itself", _cyclic(),
     r"^model: contains itself \(model\.tau is model\)"),
    ("unknown relation type in keep_types names the config table",
     TINY.replace("[network]", "[network]\nkeep_types = [\"is-a\"]"),
     r"network.keep_types\[0\]: unknown relation type 'is-a'.*"
     r"define new ones in \[network.relation_types.NAME\]"),
    ("string list where a table of types is expected",
     TINY.replace("[model]", "[network.relation_types]\nis_a = [1]\n[model]"),
     r"network.relation_types.is_a: must be a table \(got an array\)"),
]


@pytest.mark.parametrize("name,source,match", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_config_corpus(name, source, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(copy.deepcopy(source) if isinstance(source, dict) else source)


# ------------------------------------------------------------------ files
def _edges(tmp_path, body: bytes, name="edges.csv"):
    p = tmp_path / name
    p.write_bytes(body)
    return p


FILES = [
    ("invalid UTF-8 in an edge list", "edges.csv",
     b"source,target\nsun,beach\nsea,b\xe9ach\n",
     lambda p: tf.ConceptNetwork.from_csv(p),
     r"edges.csv line 3: not UTF-8 text \(byte 0xe9 at offset 29\); save the file as UTF-8"),
    ("duplicate column", "edges.csv", b"source,target,weight,weight\na,b,1,2\n",
     lambda p: tf.ConceptNetwork.from_csv(p), r"edges.csv: column 'weight' appears twice"),
    ("start_run time infinite", "start.csv", b"node,activation,time\nsun,1,inf\n",
     tfio.read_start_run, r"start.csv line 2: time must be a whole number >= 0 \(got 'inf'\)"),
    ("start_run time NaN", "start.csv", b"node,activation,time\nsun,1,nan\n",
     tfio.read_start_run, r"line 2: time must be a whole number >= 0 \(got 'nan'\)"),
    ("spreadr matrix with an empty name", "adj.csv", b",a,\na,0,1\n,1,0\n",
     tfio.read_spreadr_network, r"adj.csv: concept name: must be a non-empty name"),
    ("spreadr matrix not UTF-8", "adj.csv", b",a\xff\na\xff,0\n",
     tfio.read_spreadr_network, r"adj.csv line 1: not UTF-8 text"),
    ("GEXF with junk relation types in its description", "net.gexf",
     b'<?xml version="1.0"?><gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
     b'<meta><description>{"thoughtfield": {"relation_types": {"x": {"sign": 2}}}}'
     b'</description></meta><graph defaultedgetype="directed"><nodes><node id="a" label="a"/>'
     b'</nodes><edges/></graph></gexf>',
     tfio.read_gexf, r"net.gexf: relation_types.x.sign: must be \+1 or -1 \(got 2\)"),
    ("GraphML with relation types that are not JSON", "net.graphml",
     b'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
     b'<key id="g0" for="graph" attr.name="relation_types" attr.type="string"/>'
     b'<graph edgedefault="directed"><data key="g0">{oops</data><node id="a"/></graph>'
     b'</graphml>',
     tfio.read_graphml, r"net.graphml: graph attribute 'relation_types': not valid JSON"),
    ("a CSV with a byte-order mark reads fine", "edges.csv",
     b"\xef\xbb\xbfsource,target\nsun,beach\n", lambda p: tf.ConceptNetwork.from_csv(p), None),
]


@pytest.mark.parametrize("name,fname,data,read,match", FILES, ids=[f[0] for f in FILES])
def test_file_corpus(tmp_path, name, fname, data, read, match):
    p = _edges(tmp_path, data, fname)
    if match is None:
        net = read(p)
        assert net.concepts == ("sun", "beach")
        return
    with pytest.raises(tf.NetworkError, match=match):
        read(p)


def test_types_file_missing_a_type_names_the_types_file(tmp_path):
    (tmp_path / "types.csv").write_text("name,sign\nassociation,1\n")
    (tmp_path / "edges.csv").write_text("source,target,type\na,b,evokes\n")
    with pytest.raises(tf.NetworkError, match=r"edges.csv line 2: .*unknown relation type "
                                              r"'evokes'.*define new ones in .*types.csv"):
        tf.ConceptNetwork.from_csv(tmp_path / "edges.csv", types_path=tmp_path / "types.csv")
    (tmp_path / "concepts.csv").write_text("name\na\n")
    with pytest.raises(tf.NetworkError, match=r"unknown concept 'b'; add it to .*concepts.csv"):
        tf.ConceptNetwork.from_csv(tmp_path / "edges.csv", tmp_path / "concepts.csv")


@pytest.mark.parametrize("ref,match", [
    ("", r"network.file: .* is a folder, not a file"),
    ("a" * 5000 + ".csv", r"network.file: cannot use the path '.*\.\.\.' \(File name too long\)"),
    ("x\x00.csv", r"network.file: cannot use the path .* \(a file name cannot contain a NUL"),
    ("missing.csv", r"network.file: file not found: .*missing.csv \(paths are relative to the "
                    r"config's folder"),
])
def test_config_file_references(tmp_path, ref, match):
    cfg = {"network": {"file": ref, "format": "csv"}, "run": {"t_end": 1.0}}
    with pytest.raises(tf.ConfigError, match=match):
        tf.load_config(cfg, base_dir=tmp_path)


@pytest.mark.parametrize("make,match", [
    (lambda: tf.ConceptNetwork.from_arrays(0), r"from_arrays: names must be a sequence of names"),
    (lambda: tf.ConceptNetwork.from_arrays(["a", "b"], relations={"link": ([0.5], [1])}),
     r"add_relation_arrays: source: expected integer concept indices"),
    (lambda: tf.ConceptNetwork.from_arrays(["a", "b"], relations={"link": ([0], [1], [1, 2])}),
     r"add_relation_arrays: weight must be a number or one number per relation"),
    (lambda: tf.ConceptNetwork.from_dict({"concepts": ["a"], "relation_types": {"t": {"sgn": 1}}}),
     r"relation_types.t: unknown field 'sgn' \(did you mean 'sign'\?\)"),
])
def test_constructor_corpus(make, match):
    with pytest.raises(tf.NetworkError, match=match):
        make()


def test_networkx_graph_attributes_corpus():
    import networkx as nx
    g = nx.MultiDiGraph(layers=5)
    g.add_node("a")
    with pytest.raises(tf.NetworkError, match=r"graph attribute 'layers': expected layer names"):
        tf.ConceptNetwork.from_networkx(g)
    g = nx.MultiDiGraph(relation_types="[1, 2]")
    g.add_node("a")
    with pytest.raises(tf.NetworkError, match=r"graph attribute 'relation_types': expected a "
                                              r"table name -> fields \(got \[1, 2\]\)"):
        tf.ConceptNetwork.from_networkx(g)


# ------------------------------------------------------------------ WordNet folders
WNDB_CASES = [
    ("index count not a number", "index.noun", lambda t: t.replace(b"dog n 2", b"dog n x"),
     r"index.noun line \d+: malformed index line 'dog n x"),
    ("index count larger than the line", "index.noun", lambda t: t.replace(b"dog n 2", b"dog n 9"),
     r"index.noun line \d+: malformed index line"),
    ("lexnames number out of range", "lexnames", lambda t: t.replace(b"03\tnoun", b"99\tnoun"),
     r"lexnames line 2: expected 'NN name' with NN a lexicographer file number"),
    ("data line not UTF-8", "data.verb", lambda t: t.replace(b"hold back", b"hold b\xffck"),
     r"data.verb: the synset line at byte \d+ is not UTF-8 text \(byte 0xff"),
    ("unicode digits in an offset", "data.adv", lambda t: t.replace(b"00000042", "0000004²".encode()),
     r"data.adv: the synset line at byte 42 names offset '0000004²'"),
    ("zero words", "data.adv", lambda t: t.replace(b" r 01 well 0 ", b" r 00 well 0 "),
     r"data.adv: malformed synset line at byte 42"),
    ("pointer to an unknown part of speech", "data.verb", lambda t: t.replace(b" v 0000", b" q 0000", 1),
     r"data.verb: malformed synset line"),
    ("satellite in the noun file", "data.noun", lambda t: t.replace(b" 03 n 01 entity", b" 03 s 01 entity"),
     r"data.noun: malformed synset line at byte 42"),
]


@pytest.mark.parametrize("name,fname,edit,match", WNDB_CASES, ids=[c[0] for c in WNDB_CASES])
def test_wndb_corpus(tmp_path, name, fname, edit, match):
    _write_wndb(tmp_path, WN_TINY)
    p = tmp_path / fname
    data = p.read_bytes()
    new = edit(data)
    assert new != data, "the corpus edit no longer applies"
    p.write_bytes(new)
    with pytest.raises(tf.ConfigError, match=match):
        tf.datasets.wordnet(path=tmp_path)


def test_wordnet_path_must_be_a_path():
    with pytest.raises(tf.ConfigError, match=r"path: expected the path of a folder holding the "
                                             r"WNDB files \(got 5\)"):
        tf.datasets.wordnet(path=5)
    with pytest.raises(tf.ConfigError, match=r"path: expected the path of a folder"):
        tf.datasets.wordnet(path="a\x00b")
    assert os.sep  # (paths with a NUL cannot exist on any platform)
