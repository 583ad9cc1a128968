"""Princeton WordNet 3.0 as a concept network (bundled, derived data).

The package ships a compact network derived from the WordNet 3.0 database files (WNDB
format, wndb(5WN)) by ``scripts/build_wordnet.py``; :func:`wordnet` loads it (or parses a
WNDB directory given by ``path``, e.g. Debian's ``/usr/share/wordnet``).  WordNet is
(c) 2006 Princeton University; its licence travels with the data
(``thoughtfield/datasets/data/WORDNET_LICENSE``).

Concepts
--------
One concept per synset, named like NLTK: ``<first lemma, lower case>.<pos>.<NN>`` where
``pos`` is ``n``, ``v``, ``a`` (head adjective), ``s`` (satellite adjective) or ``r``, and
``NN`` is the position (from 1) of the synset in the ``index.<pos>`` entry of that lemma
(adjective markers such as ``(p)`` are removed first; satellites use the ``index.adj``
entry), so ``dog.n.01`` is the first sense of *dog*.  Concept attributes:

``lemmas``   all words of the synset in WNDB order, joined by ``|`` (case kept)
``pos``      ``n``/``v``/``a``/``s``/``r``
``offset``   the synset's byte offset in ``data.<pos>`` (its WordNet id)
``lexname``  its lexicographer file (``noun.animal``...)
``depth``    hypernym depth (below)
``gloss``    the definition and examples (only with ``glosses=True``)

Relation types (source -> target; activation flows forward with weight ``forward`` and
backward with ``reverse``; all weights are 1):

===================  ===================================  =========================
type                 WordNet pointer, e.g.                 sign, forward / reverse
===================  ===================================  =========================
hypernym             ``@``  dog.n.01 -> canine.n.02        +1, 1.0 / 0.5
instance_hypernym    ``@i`` paris.n.01 -> national_capital +1, 1.0 / 0.5
member_holonym       ``#m`` dog.n.01 -> canis.n.01         +1, 1.0 / 0.5
part_holonym         ``#p`` wheel.n.01 -> wheeled_vehicle  +1, 1.0 / 0.5
substance_holonym    ``#s`` flour.n.01 -> bread.n.01 ...   +1, 1.0 / 0.5
contradicts          ``!``  antonyms (lemma-level links    -1, symmetric, gain 1
                     mapped to their synsets, one
                     relation per synset pair)
similar_to           ``&``  (adjectives; one per pair)     +1, symmetric
entailment           ``*``  snore.v.01 -> sleep.v.01       +1, 1.0 / 0.5
cause                ``>``  kill.v.01 -> die.v.01          +1, 1.0 / 0.5
===================  ===================================  =========================

Meronyms are stored once, from the holonym pointers (part -> whole); WordNet's
meronym pointers (``%m %p %s``) are their exact inverses.  Change the defaults with
``net.set_relation_type("hypernym", reverse=0.2)``.

Layers (``level1, level2, level3, level4``: hypernym-depth quarters)
------------------------------------------------------------------
``depth`` is the length of the shortest chain of hypernym / instance-hypernym links up
to a root (``entity.n.01`` for nouns; verbs have many roots).  Deep synsets are
specific, shallow ones abstract.  Per part of speech the depths are cut at their 25%,
50% and 75% quantiles (``Q25 <= Q50 <= Q75``) into four levels, the most specific first:
``depth >= Q75`` -> ``level1``, ``Q50 <= depth < Q75`` -> ``level2``,
``Q25 <= depth < Q50`` -> ``level3``, ``depth < Q25`` -> ``level4``.  The names say only
where a synset lies in the hierarchy; they are not the ``image/idea/structure/goal``
ladder of hand-built networks (a WordNet synset is not a goal because it is shallow).
In WordNet 3.0 the noun cuts are 6, 8, 9 (``poodle.n.01``, depth 9, is ``level1``;
``dog.n.01``, 8, ``level2``; ``animal.n.01``, 6, ``level3``; ``entity.n.01`` ``level4``;
48,521 / 25,560 / 34,494 / 9,084 synsets of all parts of speech per level) and the verb
cuts 1, 2, 3.  Adjectives and adverbs have no hypernyms (``depth = -1``): head
adjectives are ``level2``, satellite adjectives and adverbs ``level1``.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from .. import _validate as V
from ..errors import ConfigError
from ..network import ConceptNetwork, RelationType

#: The WordNet layers: quarters of hypernym depth, the deepest (most specific) first.
LAYERS: tuple[str, ...] = ("level1", "level2", "level3", "level4")

#: Format of the derived arrays (bump when the layout changes).
FORMAT = 1
DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
NETWORK_FILE = os.path.join(DATA_DIR, "wordnet30.npz")
GLOSS_FILE = os.path.join(DATA_DIR, "wordnet30_glosses.npz")
LICENSE_FILE = os.path.join(DATA_DIR, "WORDNET_LICENSE")

#: Parts of speech (the loader's ``pos`` values) and their WNDB file suffixes.
POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_POS_ORDER = ("n", "v", "a", "r")

#: relation type -> WNDB pointer symbols read for it.
POINTERS = {
    "hypernym": ("@",),
    "instance_hypernym": ("@i",),
    "member_holonym": ("#m",),
    "part_holonym": ("#p",),
    "substance_holonym": ("#s",),
    "contradicts": ("!",),
    "similar_to": ("&",),
    "entailment": ("*",),
    "cause": (">",),
}
RELATIONS = tuple(POINTERS)
#: Relation types stored once per unordered synset pair (symmetric types).
_SYMMETRIC = ("contradicts", "similar_to")
#: Other names accepted by ``relations=``.
ALIASES = {
    "antonym": ("contradicts",),
    "meronym": ("member_holonym", "part_holonym", "substance_holonym"),
    "holonym": ("member_holonym", "part_holonym", "substance_holonym"),
    "instance": ("instance_hypernym",),
    "similar": ("similar_to",),
}


def relation_types() -> list[RelationType]:
    """The relation types of WordNet networks with their default signs, gains and directions."""
    out = [RelationType(name, +1, 1.0, symmetric=False, forward=1.0, reverse=0.5)
           for name in ("hypernym", "instance_hypernym", "member_holonym", "part_holonym",
                        "substance_holonym", "entailment", "cause")]
    out.append(RelationType("contradicts", -1, 1.0, symmetric=True))
    out.append(RelationType("similar_to", +1, 1.0, symmetric=True))
    return out


# ----------------------------------------------------------------------------- parsing
def _read_index(path: str) -> dict[str, list[int]]:
    """``lemma -> [synset offsets in sense order]`` from an ``index.<pos>`` file."""
    out: dict[str, list[int]] = {}
    for lineno, raw in enumerate(_read_bytes(path).splitlines(), start=1):
        if raw.startswith(b"  "):
            continue
        tok = raw.split()
        if not tok:
            continue
        try:
            lemma = tok[0].decode("utf-8")
            n_syn = _int(tok[2])
            if not 0 < n_syn <= len(tok) - 4:
                raise ValueError
            out[lemma] = [_int(x) for x in tok[len(tok) - n_syn:]]
        except (IndexError, ValueError, UnicodeDecodeError):
            raise ConfigError(f"malformed index line {_clip(raw)}; expected 'lemma pos "
                              "synset_cnt p_cnt [ptr...] sense_cnt tagsense_cnt offset...'",
                              where=f"{path} line {lineno}", source=str(path),
                              line=lineno) from None
    return out


def _read_bytes(path: str) -> bytes:
    """A WNDB file: a regular file (never a device or FIFO) within the input size limit
    (``THOUGHTFIELD_MAX_INPUT_SIZE``)."""
    from .._inputs import read_bytes
    return read_bytes(path, "input")


def _int(b, base: int = 10) -> int:
    """A WNDB number: ASCII digits only (``int()`` would accept '+1', '1_0' and other
    Unicode digits)."""
    t = b.decode("ascii") if isinstance(b, bytes) else b
    digits = "0123456789abcdef"[:base]
    if not t or any(c not in digits for c in t.lower()):
        raise ValueError(t)
    return int(t, base)


def _clip(raw: bytes) -> str:
    return repr(raw[:60].decode("utf-8", "replace")) + ("..." if len(raw) > 60 else "")


def _strip_marker(word: str) -> str:
    """Remove an adjective position marker: ``galore(ip)`` -> ``galore``."""
    if word.endswith(")"):
        k = word.rfind("(")
        if k > 0:
            return word[:k]
    return word


def _parse_data(path: str, filepos: str):
    """Yield ``(offset, lexfile, ss_type, words, pointers, gloss)`` per synset line, checking
    that each line starts at the byte offset it names (the WNDB invariant)."""
    data = _read_bytes(path)
    pos = 0
    allowed = ("a", "s") if filepos == "a" else (filepos,)
    for raw in data.splitlines(keepends=True):
        here = pos
        pos += len(raw)
        if raw.startswith(b"  ") or not raw.strip():
            continue
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: the synset line at byte {here} is not UTF-8 text "
                              f"(byte 0x{raw[e.start]:02x} at offset {here + e.start})") from None
        bar = line.find(" | ")
        if bar < 0:
            head, gloss = line, ""
        else:
            head, gloss = line[:bar], line[bar + 3:].strip()
        tok = head.split()
        first = tok[0] if tok else ""
        if not first.isascii() or not first.isdigit() or int(first) != here:
            raise ConfigError(f"{path}: the synset line at byte {here} names offset "
                              f"{V.show(first)}; each line must start at the byte "
                              "offset it names (is this a WNDB data file with its original "
                              "line endings?)")
        off = here
        try:
            lexfile = _int(tok[1])
            if lexfile >= 64:
                raise ValueError
            ss_type = tok[2]
            if ss_type not in allowed:
                raise ValueError
            w_cnt = _int(tok[3], 16)
            if w_cnt < 1:
                raise ValueError
            words = [_strip_marker(tok[4 + 2 * k]) for k in range(w_cnt)]
            k = 4 + 2 * w_cnt
            p_cnt = _int(tok[k])
            ptrs = []
            for j in range(p_cnt):
                sym, toff, tpos, st = tok[k + 1 + 4 * j: k + 5 + 4 * j]
                if tpos not in ("n", "v", "a", "s", "r"):
                    raise ValueError
                ptrs.append((sym, _int(toff), tpos, st))
        except (IndexError, ValueError):
            raise ConfigError(f"{path}: malformed synset line at byte {here}: "
                              f"{line[:80]!r}") from None
        yield off, lexfile, ss_type, words, ptrs, gloss


def _filepos(p: str) -> str:
    return "a" if p == "s" else p


def parse_wndb(path, pos=_POS_ORDER) -> dict[str, np.ndarray]:
    """Parse a WNDB directory (``data.noun`` ... ``index.adv``) into the derived arrays that
    :func:`wordnet` loads (the same layout as the shipped file).  ``pos`` limits the parts
    of speech read (every relation kept here links synsets of one part of speech, so the
    result is the corresponding part of the full parse)."""
    path = os.fspath(path)
    order = tuple(p for p in _POS_ORDER if p in pos)
    for suffix in (POS[p] for p in order):
        for kind in ("data", "index"):
            p = os.path.join(path, f"{kind}.{suffix}")
            if not os.path.isfile(p):
                raise ConfigError(f"path: {p} not found; give the folder holding the "
                                  "WNDB files data.noun, index.noun, ... (e.g. /usr/share/wordnet)",
                                  key='path')
    lexnames = _read_lexnames(path)
    keys: list[tuple[str, int]] = []
    pos_c, lexf, lemmas, glosses, ptr_lists = [], [], [], [], []
    for p in order:
        for off, lexfile, ss_type, words, ptrs, gloss in _parse_data(
                os.path.join(path, f"data.{POS[p]}"), p):
            keys.append((p, off))
            pos_c.append(ss_type)
            lexf.append(lexfile)
            lemmas.append(words)
            glosses.append(gloss)
            ptr_lists.append(ptrs)
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)

    # names: first lemma (lower case) + pos + sense number from index.<pos>
    idx_maps = {p: _read_index(os.path.join(path, f"index.{POS[p]}")) for p in order}
    names, senses = [], []
    for i, ((fp, off), ss, words) in enumerate(zip(keys, pos_c, lemmas)):
        imap = idx_maps[fp]
        sn = []
        for w in words:
            offs = imap.get(w.lower())
            sn.append(offs.index(off) + 1 if offs is not None and off in offs else 0)
        if sn[0] == 0:
            raise ConfigError(f"{os.path.join(path, 'index.' + POS[fp])}: synset {off:08d} "
                              f"({words[0]}) of data.{POS[fp]} is missing from it")
        names.append(f"{words[0].lower()}.{ss}.{sn[0]:02d}")
        senses.extend(sn)
    if len(set(names)) != n:
        seen, dup = set(), None
        for nm in names:
            if nm in seen:
                dup = nm
                break
            seen.add(nm)
        raise ConfigError(f"{path}: two synsets are both named {dup!r}")

    # relations
    sym_of = {s: r for r, syms in POINTERS.items() for s in syms}
    rel: dict[str, tuple[list, list]] = {r: ([], []) for r in RELATIONS}
    for i, ptrs in enumerate(ptr_lists):
        for sym, toff, tpos, _st in ptrs:
            r = sym_of.get(sym)
            if r is None:
                continue
            j = index.get((_filepos(tpos), toff))
            if j is None and _filepos(tpos) not in order:
                continue
            if j is None:
                raise ConfigError(f"{path}: pointer {sym} from {names[i]} to missing synset "
                                  f"{toff:08d} {tpos}")
            rel[r][0].append(i)
            rel[r][1].append(j)
    out: dict[str, np.ndarray] = {}
    for r in RELATIONS:
        s = np.asarray(rel[r][0], np.int64)
        t = np.asarray(rel[r][1], np.int64)
        if r in _SYMMETRIC:
            s, t = np.minimum(s, t), np.maximum(s, t)
        st = np.unique(np.stack([s, t], axis=1), axis=0) if s.size else np.zeros((0, 2), np.int64)
        out[f"rel_{r}_src"] = st[:, 0].astype(np.int32)
        out[f"rel_{r}_tgt"] = st[:, 1].astype(np.int32)

    pos_arr = np.frombuffer("".join(pos_c).encode("ascii"), np.uint8).copy()
    depth = _depths(n, out)
    depth[np.isin(pos_arr, np.frombuffer(b"asr", np.uint8))] = -1
    layer = _layers(pos_arr, depth)
    lemma_ptr = np.zeros(n + 1, np.int32)
    lemma_ptr[1:] = np.cumsum([len(w) for w in lemmas])
    out.update(
        format=np.array(FORMAT, np.int32),
        names=_pack(names),
        pos=pos_arr,
        offset=np.array([k[1] for k in keys], np.uint32),
        lexfile=np.asarray(lexf, np.uint8),
        lexnames=_pack(lexnames),
        lemma_text=_pack([w for ws in lemmas for w in ws]),
        lemma_ptr=lemma_ptr,
        lemma_sense=np.asarray(senses, np.uint16),
        depth=depth.astype(np.int16),
        layer=layer.astype(np.int8),
    )
    out["gloss_text"] = _pack(glosses)
    return out


def _read_lexnames(path):
    p = os.path.join(path, "lexnames")
    names = [f"lexfile{i:02d}" for i in range(64)]
    if os.path.isfile(p):
        for lineno, raw in enumerate(_read_bytes(p).splitlines(), start=1):
            tok = raw.split()
            if len(tok) >= 2:
                try:
                    k = _int(tok[0])
                    names[k] = tok[1].decode("utf-8")
                except (ValueError, IndexError, UnicodeDecodeError):
                    raise ConfigError("expected 'NN name' with NN a lexicographer file "
                                      f"number 00..63 (got {_clip(raw)})",
                                      where=f"{p} line {lineno}", source=str(p),
                                      line=lineno) from None
    return names


def _pack(strings: list[str]) -> np.ndarray:
    """Strings joined by newlines as a uint8 array (compact and fast to load)."""
    return np.frombuffer("\n".join(strings).encode("utf-8"), np.uint8).copy()


def _unpack(arr: np.ndarray) -> list[str]:
    if arr.size == 0:
        return [""]
    return arr.tobytes().decode("utf-8").split("\n")


def _depths(n: int, rel: dict) -> np.ndarray:
    """Shortest number of hypernym/instance-hypernym links from each synset up to a root;
    -1 for synsets outside the hierarchy.

    A root is a synset without hypernyms.  WordNet 3.0 has one hypernym cycle (among the
    verbs *restrain* and *inhibit*); the members of a cycle that has no hypernym outside
    itself count as roots (shortest paths in the graph with cycles contracted).
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    s = np.concatenate([rel["rel_hypernym_src"], rel["rel_instance_hypernym_src"]]).astype(np.int64)
    t = np.concatenate([rel["rel_hypernym_tgt"], rel["rel_instance_hypernym_tgt"]]).astype(np.int64)
    up = sp.csr_matrix((np.ones(s.size), (s, t)), shape=(n, n))  # up[child, parent]
    _, comp = connected_components(up, directed=True, connection="strong")
    external = np.zeros(comp.max() + 1, bool)
    external[comp[s[comp[s] != comp[t]]]] = True   # component has a parent outside itself
    depth = np.full(n, -1, np.int64)
    frontier = ~external[comp]
    d = 0
    while frontier.any():
        depth[frontier] = d
        frontier = ((up @ frontier.astype(np.float64)) > 0) & (depth < 0)
        d += 1
    return depth


def _layers(pos: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Layer codes from depth quantiles per part of speech (see the module docstring)."""
    layer = np.zeros(pos.size, np.int64)
    for p in (b"n", b"v"):
        m = pos == p[0]
        if not m.any():
            continue
        q25, q50, q75 = np.quantile(depth[m], [0.25, 0.5, 0.75], method="lower")
        d = depth[m]
        layer[m] = np.where(d >= q75, 0, np.where(d >= q50, 1, np.where(d >= q25, 2, 3)))
    layer[pos == ord("a")] = 1
    layer[pos == ord("s")] = 0
    layer[pos == ord("r")] = 0
    return layer


# ----------------------------------------------------------------------------- loading
_CACHE: dict = {}


def save_arrays(arrays: dict, folder) -> tuple[str, str]:
    """Write the derived arrays as the two package files (network, glosses)."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    net_path = os.path.join(folder, os.path.basename(NETWORK_FILE))
    gloss_path = os.path.join(folder, os.path.basename(GLOSS_FILE))
    main = {k: v for k, v in arrays.items() if k != "gloss_text"}
    main["checksum"] = np.frombuffer(checksum(arrays).encode("ascii"), np.uint8).copy()
    np.savez_compressed(net_path, **main)
    np.savez_compressed(gloss_path, gloss_text=arrays["gloss_text"])
    return net_path, gloss_path


def checksum(arrays: dict) -> str:
    """SHA-256 over the derived arrays (names, dtypes and bytes; glosses excluded)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        if k in ("gloss_text", "checksum"):
            continue
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _arrays(path, glosses: bool, pos=_POS_ORDER) -> dict:
    """The derived arrays: the shipped files (``path=None``) or a parsed WNDB directory
    (the parts of speech ``pos``; cached per directory for this process)."""
    if path is None:
        key = ("shipped",)
        if key not in _CACHE:
            if not os.path.isfile(NETWORK_FILE):
                raise ConfigError(f"wordnet: the bundled file {NETWORK_FILE} is missing; "
                                  "reinstall thoughtfield or run scripts/build_wordnet.py",
                                  key='wordnet')
            with np.load(NETWORK_FILE, allow_pickle=False) as z:
                arr = {k: z[k] for k in z.files}
            if int(arr["format"]) != FORMAT:
                raise ConfigError(f"wordnet: {NETWORK_FILE} has format {int(arr['format'])}, this "
                                  f"thoughtfield reads format {FORMAT}; rebuild it with "
                                  "scripts/build_wordnet.py", key='wordnet')
            _CACHE[key] = arr
        arr = _CACHE[key]
        if glosses and "gloss_text" not in arr:
            with np.load(GLOSS_FILE, allow_pickle=False) as z:
                arr["gloss_text"] = z["gloss_text"]
        return arr
    if not isinstance(path, (str, os.PathLike)) or "\x00" in os.fspath(path):
        raise ConfigError(f"path: expected the path of a folder holding the WNDB files "
                          f"(got {V.show(path)})", key='path')
    p = os.path.realpath(os.fspath(path))
    if not os.path.isdir(p):
        raise ConfigError(f"path: {os.fspath(path)} is not a folder; give the folder "
                          "holding the WNDB files (data.noun, index.noun, ...)", key='path')
    stamp = tuple(os.path.getmtime(os.path.join(p, f"data.{s}")) if os.path.exists(
        os.path.join(p, f"data.{s}")) else 0.0 for s in POS.values())
    order = tuple(q for q in _POS_ORDER if q in pos)
    for key in (("path", p, stamp, _POS_ORDER), ("path", p, stamp, order)):
        if key in _CACHE:
            return _CACHE[key]
    _CACHE[key] = parse_wndb(p, order)
    return _CACHE[key]


def _names_list(key: str, value, what: str) -> list:
    """``value`` (one name or a list of them) as a list; anything else is refused."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConfigError(f"{key}: expected {what} or a list of them (got {V.show(value)})", key=key)


def _check_pos(pos) -> list[str]:
    full = {v: k for k, v in POS.items()} | {"noun": "n", "verb": "v", "adjective": "a",
                                             "adverb": "r", "s": "a"}
    pos = _names_list("pos", pos, "a part of speech ('n', 'v', 'a', 'r')")
    out = []
    for i, p in enumerate(pos):
        if p in POS:
            q = p
        elif p in full:
            q = full[p]
        else:
            raise ConfigError(f"pos[{i}]: unknown part of speech {p!r}; use 'n', 'v', "
                              "'a' (adjectives, satellites included) or 'r'"
                              + V.did_you_mean(str(p), list(POS) + list(full)), key=f"pos[{i}]")
        if q not in out:
            out.append(q)
    if not out:
        raise ConfigError("pos: choose at least one part of speech ('n', 'v', 'a', 'r')", key='pos')
    return out


def _check_relations(relations) -> list[str]:
    if relations is None:
        return list(RELATIONS)
    relations = _names_list("relations", relations, "a relation name, e.g. 'hypernym'")
    out = []
    for i, r in enumerate(relations):
        if r in POINTERS:
            names = (r,)
        elif r in ALIASES:
            names = ALIASES[r]
        else:
            raise ConfigError(f"relations[{i}]: unknown relation {r!r}; choose from "
                              f"{', '.join(RELATIONS)} (or {', '.join(ALIASES)})"
                              + V.did_you_mean(str(r), list(POINTERS) + list(ALIASES)),
                              key=f"relations[{i}]")
        out.extend(x for x in names if x not in out)
    return out


def wordnet(pos=("n", "v", "a", "r"), relations=None, glosses: bool = False, path=None,
            name: str | None = None) -> ConceptNetwork:
    """WordNet 3.0 as a :class:`~thoughtfield.ConceptNetwork` (see the module docstring
    for names, relation types and layers).

    Parameters
    ----------
    pos : str or sequence
        Parts of speech to include: ``"n"``, ``"v"``, ``"a"`` (head and satellite
        adjectives), ``"r"`` (or ``"noun"``...).  Relations to synsets outside are dropped.
    relations : sequence of str, optional
        Relation types to include (default: all of :data:`RELATIONS`); ``"antonym"`` and
        ``"meronym"`` are accepted as aliases.
    glosses : bool
        Load the definitions as the concept attribute ``gloss`` (a separate file).
    path : path, optional
        Parse the WNDB files in this folder (e.g. ``/usr/share/wordnet``) instead of
        loading the bundled network (parsed once per process, a few seconds).
    name : str, optional
        The network's name (default ``"wordnet-3.0"``).

    Examples
    --------
    >>> import thoughtfield as tf
    >>> net = tf.datasets.wordnet(pos="n", relations=["hypernym", "instance_hypernym"])
    >>> net.layer("dog.n.01"), net.attribute("lemmas", "dog.n.01")  # doctest: +SKIP
    ('idea', 'dog|domestic_dog|Canis_familiaris')
    """
    pos = _check_pos(pos)
    rels = _check_relations(relations)
    V.boolean("glosses", glosses)
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"name: must be a string (got {V.show(name)})", key='name')
    arr = _arrays(path, glosses, pos)
    ptag = arr["pos"]
    want = np.frombuffer("".join(pos).encode("ascii") + (b"s" if "a" in pos else b""), np.uint8)
    mask = np.isin(ptag, want)
    keep = np.flatnonzero(mask)
    n_all = ptag.size
    inv = np.full(n_all, -1, np.int64)
    inv[keep] = np.arange(keep.size)
    all_names = _unpack(arr["names"])
    if keep.size == n_all:
        names, kl = all_names, slice(None)
    else:
        kl = keep.tolist()
        names = [all_names[i] for i in kl]
    relmap = {}
    for r in rels:
        s = inv[arr[f"rel_{r}_src"]]
        t = inv[arr[f"rel_{r}_tgt"]]
        ok = (s >= 0) & (t >= 0)
        relmap[r] = (s[ok], t[ok])
    net = ConceptNetwork.from_arrays(
        names, arr["layer"][keep].astype(np.int64), relations=relmap, layers=LAYERS,
        relation_types=relation_types(), name="wordnet-3.0" if name is None else name)
    # attributes
    lem = _unpack(arr["lemma_text"])
    ptr = arr["lemma_ptr"].tolist()
    lemmas = ["|".join(lem[ptr[i]:ptr[i + 1]]) for i in (range(n_all) if kl == slice(None) else kl)]
    lexn = _unpack(arr["lexnames"])
    attrs = {
        "lemmas": lemmas,
        "pos": [chr(c) for c in ptag[keep].tolist()],
        "offset": arr["offset"][keep].tolist(),
        "lexname": [lexn[c] for c in arr["lexfile"][keep].tolist()],
        "depth": arr["depth"][keep].tolist(),
    }
    if glosses:
        g = _unpack(arr["gloss_text"])
        attrs["gloss"] = g if kl == slice(None) else [g[i] for i in kl]
    net._attrs.update(attrs)   # values come from our own arrays: already the right types
    return net


def synsets(word: str, pos=None, path=None) -> list[str]:
    """Names of the synsets containing ``word`` (case-insensitive; spaces or underscores),
    ordered by part of speech (n, v, a/s, r) and then by WordNet's sense order.

    >>> synsets("automobile")  # doctest: +SKIP
    ['car.n.01', 'automobile.v.01']
    """
    if not isinstance(word, str) or not word.strip():
        raise ConfigError(f"wordnet.synsets: word must be a non-empty string (got {word!r})",
                          key='wordnet.synsets')
    pos = _check_pos(pos if pos is not None else list(POS))
    arr = _arrays(path, False, pos)
    key = ("lemma_index", id(arr))
    if key not in _CACHE:
        lem = _unpack(arr["lemma_text"])
        ptr = arr["lemma_ptr"]
        owner = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        idx: dict[str, list[tuple[int, int]]] = {}
        for w, o, sn in zip(lem, owner.tolist(), arr["lemma_sense"].tolist()):
            idx.setdefault(w.lower(), []).append((o, sn))
        _CACHE[key] = idx, _unpack(arr["names"])
    index, names = _CACHE[key]
    hits = index.get(word.strip().lower().replace(" ", "_"), [])
    order = {"n": 0, "v": 1, "a": 2, "s": 2, "r": 3}
    ptag = arr["pos"]
    # a synset with two lemmas that differ only in case ("Earth", "earth") is one synset:
    # keep it once, at its best sense number
    best: dict[int, int] = {}
    for o, sn in hits:
        if _filepos(chr(ptag[o])) in pos:
            best[o] = min(sn, best.get(o, sn))
    return [nm for _, _, nm in sorted((order[chr(ptag[o])], sn, names[o]) for o, sn in best.items())]
