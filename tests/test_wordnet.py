"""The bundled WordNet 3.0 network, its loader and the WNDB parser."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.datasets import _wordnet as wn

SHARED = "/work/shared/data/wordnet-3.0/dict"
HERE = os.path.dirname(os.path.abspath(__file__))
for cand in (os.path.join(HERE, "..", "..", "shared", "data", "wordnet-3.0", "dict"), SHARED):
    if os.path.isdir(cand):
        SHARED = cand
        break
needs_wndb = pytest.mark.skipif(not os.path.isdir(SHARED),
                                reason="the Princeton WNDB files are not on this machine")


@pytest.fixture(scope="module")
def full():
    return tf.datasets.wordnet()


def test_counts_match_wordnet_30(full):
    # DESIGN §5: 117,659 synsets; hypernym 89,089; instance 8,577; meronyms ~22,000;
    # antonyms ~4,000 pairs (lemma level; fewer once mapped to synset pairs)
    s = full.summary()
    assert s["concepts"] == 117_659
    by = s["relations_by_type"]
    assert by["hypernym"] == 89_089
    assert by["instance_hypernym"] == 8_577
    mero = by["member_holonym"] + by["part_holonym"] + by["substance_holonym"]
    assert mero == 12_293 + 9_097 + 797 == 22_187
    assert 3_500 <= by["contradicts"] <= 4_100
    assert by["similar_to"] == 10_693 and by["entailment"] == 408 and by["cause"] == 220
    # data-file line counts of WordNet 3.0 per part of speech
    pos = full.attribute("pos")
    assert pos.count("n") == 82_115 and pos.count("v") == 13_767
    assert pos.count("a") + pos.count("s") == 18_156 and pos.count("r") == 3_621


def test_names_follow_nltk_sense_order():
    # published NLTK outputs for wn.synsets(...)
    assert tf.datasets.wordnet_synsets("dog") == [
        "dog.n.01", "frump.n.01", "dog.n.03", "cad.n.01", "frank.n.02", "pawl.n.01",
        "andiron.n.01", "chase.v.01"]
    assert tf.datasets.wordnet_synsets("good")[:8] == [
        "good.n.01", "good.n.02", "good.n.03", "commodity.n.01", "good.a.01", "full.s.06",
        "good.a.03", "estimable.s.02"]
    assert tf.datasets.wordnet_synsets("Automobile") == ["car.n.01", "automobile.v.01"]
    assert tf.datasets.wordnet_synsets("domestic dog", pos="n") == ["dog.n.01"]
    assert tf.datasets.wordnet_synsets("zzzzqx") == []


def test_concepts_relations_and_attributes(full):
    assert "abstraction.n.06" in full and "thing.n.12" in full and "entity.n.01" in full
    assert full.attribute("offset", "dog.n.01") == 2084071
    assert full.attribute("lemmas", "dog.n.01") == "dog|domestic_dog|Canis_familiaris"
    assert full.attribute("lexname", "dog.n.01") == "noun.animal"
    rel = set(full.ego("dog.n.01", 1, direction="out", induced=False,
                       types=list(wn.RELATIONS)).relations())
    assert {("dog.n.01", "canine.n.02", "hypernym", 1.0),
            ("dog.n.01", "domestic_animal.n.01", "hypernym", 1.0),
            ("dog.n.01", "canis.n.01", "member_holonym", 1.0)} <= rel
    def has(s, t, ty):
        i, j = full.index(s), full.index(t)
        r = full.relation_arrays()
        m = (r["type"] == ty) & (((r["source"] == i) & (r["target"] == j))
                                 | ((r["source"] == j) & (r["target"] == i)))
        return bool(m.any())
    assert has("paris.n.01", "national_capital.n.01", "instance_hypernym")
    assert has("paris.n.01", "france.n.01", "part_holonym")
    assert has("good.a.01", "bad.a.01", "contradicts")
    assert has("good.a.01", "solid.s.01", "similar_to")
    assert has("snore.v.01", "sleep.v.01", "entailment")
    assert has("kill.v.01", "die.v.01", "cause")
    types = full.relation_types
    assert types["contradicts"].sign == -1 and types["contradicts"].symmetric
    assert types["hypernym"].forward == 1.0 and types["hypernym"].reverse == 0.5


def test_depths_and_layers(full):
    # NLTK: dog.n.01.min_depth() == 8
    assert full.attribute("depth", "entity.n.01") == 0
    assert full.attribute("depth", "animal.n.01") == 6
    assert full.attribute("depth", "dog.n.01") == 8
    assert full.attribute("depth", "good.a.01") == -1
    assert [full.layer(c) for c in ("poodle.n.01", "dog.n.01", "animal.n.01", "entity.n.01")] == \
        ["level1", "level2", "level3", "level4"]
    assert full.layer("good.a.01") == "level2" and full.layer("solid.s.01") == "level1"
    # neutral names for depth quarters, not the image/idea/structure/goal ladder (issue 14)
    assert full.layers == ("level1", "level2", "level3", "level4") and full.layered
    # the verb hypernym cycle (restrain/inhibit) gets finite depths
    depth = np.array(full.attribute("depth"))
    pos = np.array(full.attribute("pos"))
    assert (depth[(pos == "n") | (pos == "v")] >= 0).all()
    # depth of a synset with a hypernym is at most 1 + the depth of that hypernym
    r = full.keep_types(["hypernym", "instance_hypernym"]).relation_arrays()
    assert (depth[r["source"]] <= depth[r["target"]] + 1).all()


def test_parts_of_speech_and_relation_selection():
    nouns = tf.datasets.wordnet(pos="n", relations=["hypernym", "antonym"])
    assert nouns.n == 82_115
    assert set(nouns.summary()["relations_by_type"]) == {"hypernym", "contradicts"}
    assert nouns.summary()["relations_by_type"]["hypernym"] == 75_850
    adj = tf.datasets.wordnet(pos=["adjective"], relations="similar_to")
    assert adj.n == 18_156 and adj.n_relations == 10_693
    both = tf.datasets.wordnet(pos=("n", "v"), relations="meronym")
    assert set(both.summary()["relations_by_type"]) == {"member_holonym", "part_holonym",
                                                        "substance_holonym"}
    via_registry = tf.datasets.load("wordnet", pos="r", relations=["antonym"])
    assert via_registry.n == 3_621 and "wordnet" in tf.datasets.names()


def test_glosses_are_optional():
    net = tf.datasets.wordnet(pos="v", relations=[])
    assert "gloss" not in net.attribute_names
    g = tf.datasets.wordnet(pos="v", relations=[], glosses=True)
    assert g.attribute("gloss", "snore.v.01").startswith("breathe noisily during one's sleep")


def test_shipped_files_and_licence():
    size = sum(os.path.getsize(p) for p in (wn.NETWORK_FILE, wn.GLOSS_FILE))
    assert size <= 10 * 2**20
    with open(wn.LICENSE_FILE) as f:
        text = f.read()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in text


@needs_wndb
def test_loader_parses_a_wndb_folder_like_the_shipped_file():
    # path= parses the WNDB files directly (here only the verb and adverb files)
    parsed = tf.datasets.wordnet(pos=("v", "r"), path=SHARED, glosses=True)
    assert parsed == tf.datasets.wordnet(pos=("v", "r"), glosses=True)
    assert parsed.summary()["relations_by_type"]["hypernym"] == 13_239
    assert tf.datasets.wordnet_synsets("dog", path=SHARED, pos="v") == ["chase.v.01"]


# ------------------------------------------------------------------ tiny WNDB folder
def _write_wndb(folder, data):
    """Write a WNDB folder from ``data[pos] = [(key, lexfile, ss_type, [words],
    [(symbol, target_key, target_pos, source_target)], gloss)]``; offsets are computed."""
    suffix = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
    header = "  1 This is a test licence header line.  \n"
    offsets = {}
    for p, rows in data.items():
        pos = len(header.encode())
        for key, lexfile, ss, words, ptrs, gloss in rows:
            offsets[key] = pos
            pos += len(_line(0, lexfile, ss, words, [(s, 0, tp, st) for s, _, tp, st in ptrs],
                             gloss).encode())
    index = {p: {} for p in suffix}
    for p in suffix:
        rows = data.get(p, [])
        with open(os.path.join(folder, f"data.{suffix[p]}"), "w", newline="\n") as f:
            f.write(header)
            for key, lexfile, ss, words, ptrs, gloss in rows:
                f.write(_line(offsets[key], lexfile, ss, words,
                              [(s, offsets[t], tp, st) for s, t, tp, st in ptrs], gloss))
                for w in words:
                    index[p].setdefault(w.split("(")[0].lower(), []).append(offsets[key])
        with open(os.path.join(folder, f"index.{suffix[p]}"), "w") as f:
            f.write(header)
            for lemma in sorted(index[p]):
                offs = index[p][lemma]
                f.write(f"{lemma} {p} {len(offs)} 0 {len(offs)} 0 "
                        + " ".join(f"{o:08d}" for o in offs) + "  \n")
    with open(os.path.join(folder, "lexnames"), "w") as f:
        f.write("00\tadj.all\t3\n03\tnoun.Tops\t1\n29\tverb.body\t2\n")
    return offsets


def _line(off, lexfile, ss, words, ptrs, gloss):
    w = " ".join(f"{x} 0" for x in words)
    p = " ".join(f"{s} {o:08d} {tp} {st}" for s, o, tp, st in ptrs)
    return (f"{off:08d} {lexfile:02d} {ss} {len(words):02x} {w} {len(ptrs):03d}"
            + (f" {p}" if p else "") + f" | {gloss}  \n")


TINY = {
    "n": [
        ("entity", 3, "n", ["entity"], [], "that which exists"),
        ("animal", 3, "n", ["animal", "beast"], [("@", "entity", "n", "0000")], "a creature"),
        ("dog", 3, "n", ["dog", "Canis_familiaris"], [("@", "animal", "n", "0000")], "a dog"),
        ("frump", 3, "n", ["frump", "dog"], [("@", "entity", "n", "0000")], "a dull woman"),
        ("tail", 3, "n", ["tail"], [("#p", "dog", "n", "0000"), ("@", "entity", "n", "0000")],
         "the end"),
        ("rex", 3, "n", ["Rex"], [("@i", "dog", "n", "0000")], "a famous dog"),
    ],
    "v": [
        ("restrain", 29, "v", ["restrain"], [("@", "inhibit", "v", "0000")], "hold back"),
        ("inhibit", 29, "v", ["inhibit"], [("@", "restrain", "v", "0000")], "limit"),
        ("curb", 29, "v", ["curb"], [("@", "restrain", "v", "0000")], "lessen"),
        ("snore", 29, "v", ["snore"], [("*", "sleep", "v", "0000")], "breathe noisily"),
        ("sleep", 29, "v", ["sleep"], [], "be asleep"),
        ("kill", 29, "v", ["kill"], [(">", "die", "v", "0000")], "cause to die"),
        ("die", 29, "v", ["die"], [], "stop living"),
    ],
    "a": [
        ("good", 0, "a", ["good"], [("!", "bad", "a", "0101"), ("&", "fine", "s", "0000")],
         "having desirable qualities"),
        ("bad", 0, "a", ["bad"], [("!", "good", "a", "0101")], "not good"),
        ("fine", 0, "s", ["fine(p)"], [("&", "good", "a", "0000")], "very good"),
    ],
    "r": [("well", 2, "r", ["well"], [], "in a good way")],
}


def test_parse_tiny_wndb_folder(tmp_path):
    _write_wndb(tmp_path, TINY)
    net = tf.datasets.wordnet(path=tmp_path, glosses=True)
    assert net.concepts == ("entity.n.01", "animal.n.01", "dog.n.01", "frump.n.01", "tail.n.01",
                            "rex.n.01", "restrain.v.01", "inhibit.v.01", "curb.v.01",
                            "snore.v.01", "sleep.v.01", "kill.v.01", "die.v.01", "good.a.01",
                            "bad.a.01", "fine.s.01", "well.r.01")
    assert tf.datasets.wordnet_synsets("dog", path=tmp_path) == ["dog.n.01", "frump.n.01"]
    assert net.attribute("lemmas", "fine.s.01") == "fine"           # marker (p) removed
    assert net.attribute("lemmas", "rex.n.01") == "Rex"
    assert net.attribute("gloss", "tail.n.01") == "the end"
    assert net.attribute("lexname", "snore.v.01") == "verb.body"
    got = sorted(net.relations())
    assert got == sorted([
        ("animal.n.01", "entity.n.01", "hypernym", 1.0),
        ("dog.n.01", "animal.n.01", "hypernym", 1.0),
        ("frump.n.01", "entity.n.01", "hypernym", 1.0),
        ("tail.n.01", "entity.n.01", "hypernym", 1.0),
        ("tail.n.01", "dog.n.01", "part_holonym", 1.0),
        ("rex.n.01", "dog.n.01", "instance_hypernym", 1.0),
        ("restrain.v.01", "inhibit.v.01", "hypernym", 1.0),
        ("inhibit.v.01", "restrain.v.01", "hypernym", 1.0),
        ("curb.v.01", "restrain.v.01", "hypernym", 1.0),
        ("snore.v.01", "sleep.v.01", "entailment", 1.0),
        ("kill.v.01", "die.v.01", "cause", 1.0),
        ("good.a.01", "bad.a.01", "contradicts", 1.0),      # one relation per pair
        ("good.a.01", "fine.s.01", "similar_to", 1.0),
    ])
    depth = dict(zip(net.concepts, net.attribute("depth")))
    assert [depth[c] for c in ("entity.n.01", "animal.n.01", "dog.n.01", "rex.n.01",
                               "tail.n.01", "frump.n.01")] == [0, 1, 2, 3, 1, 1]
    # a hypernym cycle without outside hypernyms counts as a root
    assert [depth[c] for c in ("restrain.v.01", "inhibit.v.01", "curb.v.01")] == [0, 0, 1]
    assert depth["good.a.01"] == -1 and net.layer("good.a.01") == "level2"
    assert net.layer("fine.s.01") == "level1" and net.layer("well.r.01") == "level1"


def test_bad_wndb_folders(tmp_path):
    with pytest.raises(tf.ConfigError, match="is not a folder"):
        tf.datasets.wordnet(path=tmp_path / "nope")
    with pytest.raises(tf.ConfigError, match=r"data.noun not found"):
        tf.datasets.wordnet(path=tmp_path)
    offsets = _write_wndb(tmp_path, TINY)
    p = tmp_path / "data.noun"
    text = p.read_text()
    p.write_text(text.replace(f"{offsets['dog']:08d} 03", f"{offsets['dog'] + 1:08d} 03", 1))
    with pytest.raises(tf.ConfigError, match="names offset .*each line must start at the byte"):
        wn.parse_wndb(tmp_path)
    p.write_text(text.replace(f"{offsets['dog']:08d} 03 n 02", f"{offsets['dog']:08d} 03 n zz",
                              1))
    with pytest.raises(tf.ConfigError, match="malformed synset line"):
        wn.parse_wndb(tmp_path)


@pytest.mark.parametrize("kwargs, match", [
    ({"pos": "x"}, r"^pos\[0\]: unknown part of speech 'x'"),
    ({"pos": "nouns"}, r"did you mean 'noun'"),
    ({"pos": []}, r"^pos: choose at least one"),
    ({"relations": ["hypernyms"]}, r"^relations\[0\]: unknown relation 'hypernyms'.*"
                                   r"did you mean 'hypernym'"),
    ({"glosses": "yes"}, r"^glosses: must be true or false"),
    ({"pos": 0}, r"^pos: expected a part of speech .* or a list of them \(got 0\)"),
    ({"relations": 3}, r"^relations: expected a relation name.* or a list of them"),
    ({"name": 3}, r"^name: must be a string \(got 3\)"),
])
def test_loader_validation(kwargs, match):
    with pytest.raises(tf.ConfigError, match=match):
        tf.datasets.wordnet(**kwargs)


def test_a_bad_option_of_a_config_is_an_error_not_a_traceback(capsys):
    """Every wordnet option set to a value of the wrong kind from the command line ends
    in one line naming the key (the loader's own ``name`` option included)."""
    from thoughtfield.cli import main
    cfg = str(Path(__file__).resolve().parents[1] / "simulations" / "wordnet_priming.toml")
    for key in ("pos", "relations", "name", "glosses", "path"):
        assert main(["validate", cfg, "--set", f"network.options.{key}=0"]) == 2
        err = capsys.readouterr().err
        assert f"network.options.{key}: " in err and "internal error" not in err, err


def test_synsets_lists_each_synset_once():
    # "Earth" and "earth" are two lemmas of earth.n.04: one synset (NLTK: 7 nouns, 2 verbs)
    assert tf.datasets.wordnet_synsets("earth") == [
        "earth.n.01", "earth.n.02", "land.n.04", "earth.n.04", "earth.n.05",
        "worldly_concern.n.01", "ground.n.09", "earth.v.01", "earth.v.02"]
    for w in ("a", "b", "earth", "sun", "mars", "world"):
        hits = tf.datasets.wordnet_synsets(w)
        assert len(hits) == len(set(hits)), w


@needs_wndb
def test_synset_counts_match_the_wndb_index_files():
    # the index files list, for every lemma and part of speech, its synset count
    # (field 3); a deterministic sample of lemmas of every part of speech
    rng = np.random.default_rng(0)
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(SHARED, f"index.{pos}")) as f:
            rows = [ln.split() for ln in f if not ln.startswith(" ")]
        pick = rng.choice(len(rows), size=min(400, len(rows)), replace=False)
        for i in sorted(pick):
            lemma, p, cnt = rows[i][0], rows[i][1], int(rows[i][2])
            got = tf.datasets.wordnet_synsets(lemma, pos="a" if p == "a" else p)
            assert len(got) == len(set(got)) == cnt, (lemma, p, got)


def test_synsets_validation():
    with pytest.raises(tf.ConfigError, match="word must be a non-empty string"):
        tf.datasets.wordnet_synsets("  ")


@needs_wndb
def test_build_script_reproduces_the_shipped_files(tmp_path):
    import subprocess
    import sys
    root = os.path.dirname(HERE)
    out = subprocess.run([sys.executable, os.path.join(root, "scripts", "build_wordnet.py"),
                          SHARED, "--out", str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout
    assert re.search(r"hypernym +89089", out) and "synsets: 117659" in out
    for name in ("wordnet30.npz", "wordnet30_glosses.npz"):
        with np.load(tmp_path / name) as new, np.load(os.path.join(wn.DATA_DIR, name)) as old:
            assert sorted(new.files) == sorted(old.files)
            for k in new.files:
                assert np.array_equal(new[k], old[k]), (name, k)
    assert (tmp_path / "WORDNET_LICENSE").read_bytes() == open(wn.LICENSE_FILE, "rb").read()


@needs_wndb
def test_earth_lists_its_seven_noun_synsets_once(full):
    # issue 14: "Earth" and "earth" (two lemmas of one synset) gave 9 names for 7 noun synsets.
    # The WNDB index line of "earth" is read here directly: its synset offsets, in sense order.
    with open(os.path.join(SHARED, "index.noun")) as f:
        row = next(ln.split() for ln in f if ln.startswith("earth "))
    count = int(row[2])
    offsets = [int(x) for x in row[-count:]]
    assert count == 7 and len(set(offsets)) == 7
    for word in ("earth", "Earth", "EARTH"):
        got = tf.datasets.wordnet_synsets(word, pos="n")
        assert len(got) == len(set(got)) == 7, (word, got)
        assert [full.attribute("offset", s) for s in got] == offsets, word
