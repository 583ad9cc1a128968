"""Would a schema library serve thoughtfield better than its own field kinds? (issue 15, item 1)

    PYTHONPATH=src python benchmarks/schema_libraries.py [--repeat 7]

Compares thoughtfield's home-made kinds (``_schema.py``: ``Real``, ``Struct``, ...) with
pydantic v2, msgspec and attrs + cattrs on the three things the issue names:

1. import time: a fresh interpreter per measurement, timing ``import X`` inside it (the
   interpreter's own start is not counted), the minimum and median of ``--repeat`` runs;
2. the message a user gets for two typical mistakes in a config file, a bad value
   (``model.tau = -1``) and a misspelt key (``solver.rtoll``), from each library's own
   schema of the same keys, next to thoughtfield's located, did-you-mean message;
3. code size: the lines of thoughtfield's kinds that a library would replace, and the lines
   each library needs to give thoughtfield's messages back (the error adapter written out
   below, per library, counted from this file).

A library that is not installed is reported as missing; the rest still runs.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = {"pydantic": ["pydantic"], "msgspec": ["msgspec"], "attrs+cattrs": ["attrs", "cattrs"]}

#: The config with the two mistakes, each on its own (line numbers as in the file).
NETWORK = '[network]\nconcepts = ["sun", "beach"]\n'
BAD_VALUE = NETWORK + "[model]\ntau = -1.0\n[solver]\nrtol = 1e-6\n"
BAD_KEY = NETWORK + "[model]\ntau = 1.0\n[solver]\nrtoll = 1e-6\n"


def have(lib: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in LIBRARIES[lib])


# ------------------------------------------------------------------------ import time
def import_seconds(statement: str, repeat: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    code = ("import time; t = time.perf_counter(); " + statement
            + "; print(time.perf_counter() - t)")
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env=env, check=True).stdout) for _ in range(repeat)]


def import_times(repeat: int) -> None:
    print("1. import time (fresh interpreter each; min / median of", repeat, "runs)")
    rows = [("numpy (every thoughtfield module loads it)", "import numpy", None),
            ("thoughtfield._schema (the kinds)", "import thoughtfield._schema", None),
            ("thoughtfield.config (kinds + every section)", "import thoughtfield.config", None),
            ("pydantic", "import pydantic", "pydantic"),
            ("pydantic + the example schema", "import pydantic; import schema_pydantic",
             "pydantic"),
            ("msgspec", "import msgspec", "msgspec"),
            ("msgspec + the example schema", "import msgspec; import schema_msgspec", "msgspec"),
            ("attrs + cattrs", "import attrs, cattrs", "attrs+cattrs"),
            ("attrs + cattrs + the example schema", "import schema_attrs", "attrs+cattrs")]
    tmp = write_schemas()
    for label, statement, lib in rows:
        if lib is not None and not have(lib):
            print(f"   {label:48s} missing (pip install {' '.join(LIBRARIES[lib])})")
            continue
        t = import_seconds(f"import sys; sys.path.insert(0, {tmp!r}); {statement}", repeat)
        print(f"   {label:48s} {1e3 * min(t):7.1f} ms / {1e3 * statistics.median(t):7.1f} ms")


# ------------------------------------------------------------------------ the schemas
#: The same keys in each library: model.tau (> 0), model.gain, solver.rtol (> 0), solver.atol,
#: unknown keys refused; the network table is taken as it is.
SCHEMAS = {
    "pydantic": '''
        from typing import Annotated
        from pydantic import BaseModel, ConfigDict, Field

        class Model(BaseModel):
            model_config = ConfigDict(extra="forbid")
            tau: Annotated[float, Field(gt=0)] = 1.0
            gain: float = 1.0

        class Solver(BaseModel):
            model_config = ConfigDict(extra="forbid")
            rtol: Annotated[float, Field(gt=0)] = 1e-6
            atol: Annotated[float, Field(gt=0)] = 1e-9

        class Config(BaseModel):
            model_config = ConfigDict(extra="forbid")
            network: dict
            model: Model = Model()
            solver: Solver = Solver()
    ''',
    "msgspec": '''
        from typing import Annotated
        import msgspec

        Positive = Annotated[float, msgspec.Meta(gt=0)]

        class Model(msgspec.Struct, forbid_unknown_fields=True):
            tau: Positive = 1.0
            gain: float = 1.0

        class Solver(msgspec.Struct, forbid_unknown_fields=True):
            rtol: Positive = 1e-6
            atol: Positive = 1e-9

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            network: dict
            model: Model = msgspec.field(default_factory=Model)
            solver: Solver = msgspec.field(default_factory=Solver)
    ''',
    "attrs": '''
        import attrs
        import cattrs

        positive = attrs.validators.gt(0)

        @attrs.define
        class Model:
            tau: float = attrs.field(default=1.0, validator=positive)
            gain: float = 1.0

        @attrs.define
        class Solver:
            rtol: float = attrs.field(default=1e-6, validator=positive)
            atol: float = attrs.field(default=1e-9, validator=positive)

        @attrs.define
        class Config:
            network: dict
            model: Model = attrs.Factory(Model)
            solver: Solver = attrs.Factory(Solver)

        converter = cattrs.Converter(forbid_extra_keys=True)
    ''',
}


_SCHEMA_DIR = tempfile.TemporaryDirectory()


def write_schemas() -> str:
    """Write the example schemas as modules ``schema_NAME`` into a scratch folder."""
    for name, src in SCHEMAS.items():
        Path(_SCHEMA_DIR.name, f"schema_{name}.py").write_text(textwrap.dedent(src))
    return _SCHEMA_DIR.name


def _schema(name: str) -> dict:
    import importlib
    if write_schemas() not in sys.path:
        sys.path.insert(0, _SCHEMA_DIR.name)
    return vars(importlib.import_module(f"schema_{name}"))


# ------------------------------------------------------------------------ the adapters
# What each library needs to give thoughtfield's message back: the key path of the first
# error (for the line and the did-you-mean), and the did-you-mean for an unknown key.

def pydantic_key(exc) -> tuple[str, str]:
    """(key path, what is wrong) of a pydantic ValidationError's first error."""
    from thoughtfield._toml import join_path
    err = exc.errors()[0]
    key = ""
    for part in err["loc"]:
        key = join_path(key, part)
    return key, ("unknown key" if err["type"] == "extra_forbidden" else err["msg"])


def msgspec_key(exc) -> tuple[str, str]:
    """(key path, what is wrong) of a msgspec ValidationError: the path is only in the
    message text (``... - at `$.model.tau```), so it is parsed back out of it."""
    import re
    text = str(exc)
    m = re.search(r" - at `\$((?:\.[^.\[`]+|\[\d+\])*)`$", text)
    path = m.group(1).lstrip(".") if m else ""
    what = text[:m.start()] if m else text
    unknown = re.match(r"Object contains unknown field `(.+)`$", what)
    if unknown:
        path, what = f"{path}.{unknown.group(1)}".lstrip("."), "unknown key"
    return path, what


def cattrs_key(exc) -> tuple[str, str]:
    """(key path, what is wrong) of a cattrs ClassValidationError: ``transform_error`` gives
    ``"message @ $.model.tau"`` strings, parsed back out of the text."""
    import cattrs
    first = cattrs.transform_error(exc)[0]
    what, _, path = first.rpartition(" @ $")
    path = path.lstrip(".")
    if what.startswith("extra fields found"):
        names = what.split("(")[1].rstrip(")").split(", ")
        path, what = f"{path}.{names[0]}".lstrip("."), "unknown key"
    return path, what


ADAPTERS = {"pydantic": pydantic_key, "msgspec": msgspec_key, "attrs": cattrs_key}


def located(text: str, key: str, what: str, known: dict) -> str:
    """thoughtfield's message built from a library's (key, what): the line of the key and,
    for an unknown key, the did-you-mean (``known``: section -> its keys)."""
    from thoughtfield import _toml
    from thoughtfield import _validate as V
    line = _toml.line_of(_toml.key_lines(text), key)
    hint = ""
    if what == "unknown key":
        section, _, name = key.rpartition(".")
        hint = V.did_you_mean(name, known.get(section, []))
    return f"config.toml:{line}: {key}: {what}{hint}"


# ------------------------------------------------------------------------ messages
def library_errors(name: str, data: dict):
    ns = _schema(name)
    try:
        if name == "pydantic":
            ns["Config"].model_validate(data)
        elif name == "msgspec":
            import msgspec
            msgspec.convert(data, ns["Config"])
        else:
            ns["converter"].structure(data, ns["Config"])
    except Exception as exc:   # noqa: BLE001 - every library has its own error class
        return exc
    raise AssertionError(f"{name} accepted the bad config")


def messages() -> None:
    import thoughtfield as tf
    print("\n2. the message for a typical mistake in a config file")
    known = {"model": ["tau", "gain"], "solver": ["rtol", "atol"]}
    for title, text in (("a bad value: model.tau = -1.0", BAD_VALUE),
                        ("a misspelt key: solver.rtoll", BAD_KEY)):
        print(f"\n   {title}")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "config.toml")
            path.write_text(text)
            try:
                tf.load_config(path)
            except tf.ConfigError as e:
                print(f"   thoughtfield: {str(e).replace(str(path), 'config.toml')}")
        data = tomllib.loads(text)
        for lib, name in (("pydantic", "pydantic"), ("msgspec", "msgspec"),
                          ("attrs+cattrs", "attrs")):
            if not have(lib):
                print(f"   {lib}: missing (pip install {' '.join(LIBRARIES[lib])})")
                continue
            exc = library_errors(name, data)
            shown = str(exc)
            if name == "attrs":
                import cattrs
                shown += "\n   | transform_error: " + "; ".join(cattrs.transform_error(exc))
            print(f"   {lib} ({type(exc).__name__}):")
            print(textwrap.indent(shown.strip(), "   | "))
            key, what = ADAPTERS[name](exc)
            print(f"   {lib} + adapter: {located(text, key, what, known)}")


# ------------------------------------------------------------------------ code size
def _lines(node) -> int:
    return node.end_lineno - node.lineno + 1


def code_size() -> None:
    print("\n3. code size (lines, counted from the source)")
    src = (ROOT / "src/thoughtfield/_schema.py").read_text()
    tree = ast.parse(src)
    kinds = [n for n in tree.body if isinstance(n, ast.ClassDef)
             and (n.name == "Kind" or any(getattr(b, "id", "") == "Kind" for b in n.bases))]
    total = sum(_lines(k) for k in kinds)
    checks = sum(_lines(f) for k in kinds for f in k.body
                 if isinstance(f, ast.FunctionDef) and f.name in ("check", "__init__"))
    docs = sum(_lines(f) for k in kinds for f in k.body
               if isinstance(f, ast.FunctionDef) and f.name in ("describe", "child"))
    helpers = sum(_lines(n) for n in tree.body if isinstance(n, ast.FunctionDef)
                  and n.name in ("_typename", "_got", "is_number", "is_table", "is_array",
                                 "per_concept"))
    print(f"   _schema.py kinds ({', '.join(k.name for k in kinds)}): {total} lines")
    print(f"     checking (check, __init__) a library would replace: {checks}")
    print(f"     docs and --set paths (describe, child) a library would not: {docs}")
    print(f"     value helpers (_got, is_*, per_concept): {helpers}")
    for rel, what in (("src/thoughtfield/_params.py", "param(): the one declaration each "
                       "parameter has, validation, to_dict/from_dict and docs derived from it"),
                      ("src/thoughtfield/_validate.py", "value checks of the Python API, "
                       "did-you-mean")):
        n = len((ROOT / rel).read_text().splitlines())
        print(f"   {rel}: {n} lines ({what}; kept with any library)")
    for name, fn in ADAPTERS.items():
        schema = len([ln for ln in textwrap.dedent(SCHEMAS[name]).splitlines() if ln.strip()])
        print(f"   {name}: error adapter {len(inspect.getsource(fn).splitlines())} lines "
              f"(+ located(): {len(inspect.getsource(located).splitlines())}); the example "
              f"schema of 4 keys: {schema} lines (thoughtfield: one param()/Field per key)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7, help="runs per import time (default 7)")
    args = p.parse_args(argv)
    print("python", sys.version.split()[0], "| versions:", ", ".join(
        f"{m} {_version(m)}" for lib in LIBRARIES for m in LIBRARIES[lib]))
    import_times(args.repeat)
    messages()
    code_size()
    return 0


def _version(module: str) -> str:
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:   # noqa: BLE001 - not installed
        return "missing"


if __name__ == "__main__":
    sys.exit(main())
