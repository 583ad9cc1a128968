"""Property-based fuzzing of the config loader: mutated config dicts and mutated TOML text.

Each case starts from a valid config and breaks it: a value replaced by junk (wrong types,
NaN/inf, huge and negative numbers, empty and unicode strings, dates, bytes), a key
deleted, renamed or added, a list element duplicated, a reference left dangling, a
container made to contain itself; or, for TOML text, truncated, with a line deleted or
duplicated, a token replaced, junk inserted.  Every case must end in a valid config or in
a ``ThoughtfieldError`` whose message names a key of the config, a line of the file or
the offending value -- never in another exception.  Valid configs are built and run
(bounded), so a mutation that slips through validation cannot crash the run either.
"""

import copy
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import thoughtfield as tf
from thoughtfield import _toml
from thoughtfield.config import ROOT, sections

from _configs import TINY
from _fuzz import FAST, STATS, junk, keys, mentions, outcome

ROOT_DIR = Path(__file__).resolve().parents[1]

FEATURES = """
seed = 11
title = "features"
[network]
layers = ["image", "idea", "goal"]
concepts = [["a", "image"], ["b", "idea"], {name = "c", layer = "goal"}, "d"]
relations = [["a", "b", "evokes", 0.5], {source = "b", target = "c", type = "is_a"},
             ["c", "a", "contradicts", 0.3], ["d", "d"]]
keep_types = ["evokes", "is_a", "contradicts", "association"]
drop_types = ["contradicts"]
normalize = true
[network.relation_types.evokes]
sign = 1
gain = 1.5
reverse = 0.2
[network.ego]
concepts = ["a"]
hops = 2
direction = "both"
[model]
tau = { a = 0.5, "@goal" = 2.0, "*" = 1.0 }
transfer = "tanh"
gain = { "*" = 1.0, "@goal" = 2.0, b = 0.5 }
sigma = 0.05
initial = { a = 0.2 }
[[stimuli]]
kind = "clamp"
concept = "a"
start = 0.5
stop = 1.5
value = 0.8
member = 1
[[stimuli]]
concept = "b"
amplitude = -0.5
[solver]
method = "euler_maruyama"
dt = 0.01
max_steps = 100000
[run]
t_end = 3.0
save_at = [0.5, 1.0, 2.5]
members = 2
[output]
plots = ["heatmap"]
dpi = 100
"""

BASES = {
    "tiny": TINY,
    "quickstart": (ROOT_DIR / "simulations" / "quickstart.toml").read_text(),
    "spreadr": (ROOT_DIR / "simulations" / "spreadr_discrete.toml").read_text(),
    "features": FEATURES,
    # sections added by other features: [sweep], [members], [attractors]
    "sweep": (ROOT_DIR / "simulations" / "choice_sweep.toml").read_text(),
    "attractors": (ROOT_DIR / "simulations" / "holiday_ideas.toml").read_text(),
}
BASE_DATA = {k: _toml.loads(v) for k, v in BASES.items()}
for _name, _text in BASES.items():   # the bases themselves are valid
    tf.load_config(_text)

KNOWN = set(ROOT.fields) | {s.name for s in sections()} | {"config"}


# ------------------------------------------------------------------ tree helpers
def _paths(node, prefix=()):
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _label(path) -> str:
    s = ""
    for p in path:
        s = _toml.join_path(s, p)
    return s


def _get(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def _typo(k):
    k = str(k)
    return (k[:-1] if len(k) > 2 else k + k) + ("x" if len(k) <= 2 else "")


@st.composite
def mutated_config(draw):
    base = draw(st.sampled_from(sorted(BASE_DATA)))
    data = copy.deepcopy(BASE_DATA[base])
    paths = _paths(data)
    path = draw(st.sampled_from(paths))
    op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "rename",
                               "duplicate", "dangle", "cycle", "empty"]))
    parent = _get(data, path[:-1])
    last = path[-1]
    value = None
    names = [_label(path[:k]) for k in range(len(path), 0, -1)]
    if op == "replace":
        value = draw(junk)
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "add":
        node = _get(data, path)
        target = node if isinstance(node, dict) else (parent if isinstance(parent, dict) else data)
        k = draw(keys)
        value = draw(junk)
        target[k] = value
        names.append(str(k))
    elif op == "rename":
        if isinstance(parent, dict):
            new = _typo(last)
            parent[new] = parent.pop(last)
            names.append(new)
        else:
            parent[last] = copy.deepcopy(parent[last - 1] if last else parent[last])
    elif op == "duplicate":
        node = parent
        if isinstance(node, list):
            node.insert(last, copy.deepcopy(node[last]))
        else:
            parent[last] = [parent[last], parent[last]]
    elif op == "dangle":
        value = draw(st.sampled_from(["sunn", "nowhere", "x" * 40, "dog ", "@nolayer", "*"]))
        parent[last] = value
    elif op == "cycle":
        anc = _get(data, path[:max(0, len(path) - 2)])
        parent[last] = anc            # a container that contains itself
        value = None
    elif op == "empty":
        node = parent[last]
        parent[last] = type(node)() if isinstance(node, (dict, list, str)) else 0
    return base, op, path, data, names, value


def _leading_key(msg: str) -> str | None:
    """The key path a loader message starts with (after its location prefix)."""
    head = msg
    while True:   # strip "file:line: ", "<config>: ", "--set ...: "
        k = head.find(": ")
        if k < 0:
            break
        first = head[:k]
        if first.startswith(("<config>", "--set ", "override ")) or \
                first.split(":")[0].endswith(".toml"):
            head = head[k + 2:]
            continue
        break
    tok = head.split(":")[0].split(" ")[0]
    return tok or None


def _check_names_a_key(err, names, value, extra_keys=()):
    msg = str(err)
    if mentions(msg, names, value):
        return
    key = _leading_key(msg)
    parts = _toml.split_path(key) if key else []
    head = parts[0] if parts else None
    assert head in KNOWN or head in extra_keys, (
        f"message does not start with a config key nor name the value {value!r}:\n  {msg}")


def _bounded_run(cfg):
    """Run an accepted config with limits, so no mutation makes the test slow."""
    over = {}
    if isinstance(cfg.solver, tf.Solver):
        over["solver.max_steps"] = 20_000
    elif cfg.solver.max_steps > 2_000:
        over["solver.max_steps"] = 2_000
    if over:
        cfg = cfg.with_overrides(over)
    if cfg.network.n * cfg.run.members > 10_000:
        return
    if getattr(cfg.solver, "discrete", False) and cfg.run.t_end - cfg.run.t0 > 5_000:
        return
    sim = cfg.simulation(max_memory=2**26)
    sim.run()


@settings(FAST, max_examples=500)
@given(case=mutated_config())
def _config_dict_cases(case):
    base, op, path, data, names, value = case
    res = outcome(lambda: tf.load_config(data), "config_dict")
    if isinstance(res, tf.ThoughtfieldError):
        added = [n for n in names if "." not in n and "[" not in n]
        _check_names_a_key(res, names, value, added)
        return
    # accepted: it must build and run (bounded) or fail with a ThoughtfieldError
    outcome(lambda: _bounded_run(res), "config_dict_run")


def test_config_dict_fuzz():
    before = STATS.malformed["config_dict"]
    _config_dict_cases()
    assert STATS.malformed["config_dict"] - before >= 300


# ------------------------------------------------------------------ TOML text
_TOKENS = st.sampled_from([
    "=", "==", "[", "]", "[[", "{", "}", ",", "\"", "'", "\"\"\"", "#", "nan", "inf", "-inf",
    "1e999", "0x", "1979-05-27", "1979-05-27T07:32:00Z", "true", "tru", "[]", "{}", "\n",
    "\x00", "\ufeff", "☀️", "\\u00", "a.b.c = 1", "[network]", "[[stimuli]]", "[run]\nt_end = 1",
    "t_end = 2", "seed = -1", "seed = 1e3", "\t", "𝔰𝔲𝔫",
])


@st.composite
def mutated_text(draw):
    base = draw(st.sampled_from(sorted(BASES)))
    text = BASES[base]
    lines = text.split("\n")
    op = draw(st.sampled_from(["truncate", "delete_line", "duplicate_line", "token",
                               "replace_value", "swap_lines", "flip_char"]))
    if op == "truncate":
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k]
    elif op == "delete_line":
        k = draw(st.integers(0, len(lines) - 1))
        text = "\n".join(lines[:k] + lines[k + 1:])
    elif op == "duplicate_line":
        k = draw(st.integers(0, len(lines) - 1))
        text = "\n".join(lines[:k + 1] + lines[k:])
    elif op == "token":
        k = draw(st.integers(0, len(text)))
        text = text[:k] + draw(_TOKENS) + text[k:]
    elif op == "replace_value":
        cand = [i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
        i = draw(st.sampled_from(cand))
        key = lines[i].split("=")[0]
        val = draw(st.one_of(_TOKENS, st.sampled_from(["-1", "0", "1e308", "\"\"", "[1, \"a\"]",
                                                       "{ x = nan }", "2e-308", "1_000",
                                                       "99999999999999999999999"])))
        lines[i] = f"{key}= {val}"
        text = "\n".join(lines)
    elif op == "swap_lines":
        a = draw(st.integers(0, len(lines) - 1))
        b = draw(st.integers(0, len(lines) - 1))
        lines[a], lines[b] = lines[b], lines[a]
        text = "\n".join(lines)
    else:
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k] + draw(st.sampled_from(["\x00", "é", "\\", "\"", "]", "=", " "])) + text[k + 1:]
    return base, op, text


_LINE = __import__("re").compile(r"^<config>:\d+(:\d+)?: ")


@settings(FAST, max_examples=350)
@given(case=mutated_text())
def _config_text_cases(case):
    base, op, text = case
    res = outcome(lambda: tf.load_config(text), "config_text")
    if isinstance(res, tf.ThoughtfieldError):
        msg = str(res)
        if not _LINE.match(msg):
            _check_names_a_key(res, (), text)
        return
    outcome(lambda: _bounded_run(res), "config_text_run")


def test_config_text_fuzz():
    before = STATS.malformed["config_text"]
    _config_text_cases()
    # about 200 of the 350 texts are malformed (the rest stay valid TOML configs): the
    # count varies from run to run by about +-10, so the floor sits well below it
    assert STATS.malformed["config_text"] - before >= 150


# ------------------------------------------------------------------ --set overrides
@st.composite
def override(draw):
    base = draw(st.sampled_from(sorted(BASES)))
    paths = [_label(p) for p in _paths(BASE_DATA[base])]
    key = draw(st.one_of(st.sampled_from(paths), keys, st.sampled_from(
        ["run.t_end", "model.tau.sun", "solver.rtol", "stimuli[9].concept", "network.ego.hops",
         "run..t_end", "[0]", "model.tau[0]", "stimuli.concept", "seed.x", "a.b.c.d"])))
    val = draw(st.one_of(_TOKENS, st.sampled_from(["-1", "0", "nan", "inf", "\"\"", "[",
                                                   "1e400", "rk45", "{ a = 1 }", "[1, 2]"])))
    return base, f"{key}={val}"


@settings(FAST, max_examples=150)
@given(case=override())
def _override_cases(case):
    base, item = case
    res = outcome(lambda: tf.load_config(BASES[base], overrides=[item]), "config_override")
    if isinstance(res, tf.ThoughtfieldError):
        msg = str(res)
        assert "--set" in msg or _LINE.match(msg) or mentions(msg, [item.split("=")[0]]), msg


def test_config_override_fuzz():
    before = STATS.malformed["config_override"]
    _override_cases()
    assert STATS.malformed["config_override"] - before >= 100
