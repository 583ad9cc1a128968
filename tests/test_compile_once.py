"""One compile per installation: every shipped config runs on the kernels that
``compile_kernels()`` builds, with type-stable signatures; start-up imports only what a
command needs.  (Timings are measured by ``thoughtfield bench``, not asserted here.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import thoughtfield

from test_gallery import SIMULATIONS, TEST_OVERRIDES

ROOT = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.abspath(thoughtfield.__file__)))
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


_EVERY_CONFIG = r"""
import json, sys
import thoughtfield as tf
from numba.core.registry import CPUDispatcher
from thoughtfield._warmup import CompileWatch
import thoughtfield._kernels.discrete, thoughtfield._kernels.integrate
tf.compile_kernels()                      # a complete cache: loads only
runs = json.loads(sys.argv[1])
with CompileWatch() as watch:
    for path, overrides in runs:
        cfg = tf.load_config(path, overrides=overrides)
        cfg.run_simulation()
sigs = {}
for name, mod in list(sys.modules.items()):
    if name.startswith("thoughtfield._kernels.") and mod is not None:
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == name:
                sigs[f"{name}.{obj.py_func.__name__}"] = [str(s) for s in obj.signatures]
print("RESULT" + json.dumps({"compiled": watch.compiled, "events": watch.all_events,
                             "signatures": sigs}))
"""


def test_every_shipped_config_runs_without_compiling_and_signatures_are_stable():
    runs = [[str(p), TEST_OVERRIDES.get(p.name, [])] for p in SIMULATIONS]
    r = subprocess.run([sys.executable, "-c", _EVERY_CONFIG, json.dumps(runs)], env=_env(),
                       capture_output=True, text=True, timeout=500, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads([x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1][6:])
    # nothing at all was compiled: not a kernel, not one of numba's own helpers
    assert res["compiled"] == [] and res["events"] == 0, res["compiled"]
    # one specialisation per kernel, no literal (value-specialised) argument types: a call
    # site that passed a constant would compile a kernel again for every other value
    sigs = res["signatures"]
    assert "thoughtfield._kernels.integrate.integrate" in sigs
    for name, s in sigs.items():
        assert len(s) <= 1, (name, s)
        assert not any("Literal" in x for x in s), (name, s)
    # the cold compile did not leak into stderr beyond its one-line notice
    assert "compiling kernels once" not in r.stderr


_IMPORTS = r"""
import sys
import {what}
heavy = sorted(m for m in ("numba", "xarray", "scipy.sparse", "matplotlib", "pandas",
                           "llvmlite", "dask", "h5py") if m in sys.modules)
print("RESULT" + ",".join(heavy))
"""


def _heavy_after(code: str, *args) -> list:
    r = subprocess.run([sys.executable, "-c", code, *args], env=_env(), capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1][6:]
    return [x for x in line.split(",") if x]


def test_import_thoughtfield_loads_no_heavy_dependency():
    assert _heavy_after(_IMPORTS.format(what="thoughtfield")) == []


_CLI = r"""
import sys, contextlib, io
from thoughtfield.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
assert code == 0, code
heavy = sorted(m for m in ("numba", "xarray", "scipy.sparse", "matplotlib", "pandas",
                           "llvmlite", "dask", "h5py") if m in sys.modules)
print("RESULT" + ",".join(heavy))
"""


def test_help_validate_and_config_info_load_neither_numba_nor_xarray():
    quick = str(ROOT / "simulations" / "quickstart.toml")
    for argv in (["--help"], ["run", "--help"], ["validate", quick], ["info", quick]):
        heavy = _heavy_after(_CLI, *argv)
        assert "numba" not in heavy and "xarray" not in heavy, (argv, heavy)


_RUN = r"""
import sys, contextlib, io
import thoughtfield as tf
{body}
heavy = sorted(m for m in ("thoughtfield.bench", "dask.array", "matplotlib") if m in sys.modules)
print("RESULT" + ",".join(heavy))
"""


def test_a_run_loads_neither_the_benchmarks_nor_dask_array(tmp_path):
    # ``thoughtfield run`` builds the parser of its own command only (the benchmark suite
    # is another command's import), and a simulate() call that writes no file assembles
    # its Dataset without xarray's dask check
    quick = str(ROOT / "simulations" / "quickstart.toml")
    cli = ("from thoughtfield.cli import main\n"
           "with contextlib.redirect_stdout(io.StringIO()), "
           "contextlib.redirect_stderr(io.StringIO()):\n"
           "    assert main(['run', sys.argv[1], '--quiet', '--out', sys.argv[2]]) == 0")
    assert "thoughtfield.bench" not in _heavy_after(_RUN.format(body=cli), quick,
                                                    str(tmp_path / "q.nc"))
    api = "ds = tf.run_config(sys.argv[1])\nassert ds.activation.size"
    assert _heavy_after(_RUN.format(body=api), quick) == []


def test_lazy_names_resolve_and_simulate_stays_the_function():
    import importlib
    import thoughtfield as tf
    importlib.import_module("thoughtfield.simulate")
    assert callable(tf.simulate) and tf.simulate.__module__ == "thoughtfield.simulate"
    for name in tf.__all__:
        assert getattr(tf, name) is not None, name
    assert set(tf.__all__) <= set(dir(tf))


_ORDER = r"""
import {first}
from thoughtfield.config import sections
from thoughtfield.plots import plot_kinds
print("RESULT" + ",".join(s.name for s in sections()) + ";" + ",".join(plot_kinds()))
"""


def test_sections_and_plot_kinds_keep_one_order_whatever_is_imported_first():
    # the registries fill on first use (lazy imports); their order is that of resolved
    # configs and of docs/config.md, so it must not depend on what a program imported first
    seen = set()
    for first in ("thoughtfield", "thoughtfield.analysis", "thoughtfield.sweeps",
                  "thoughtfield.ensemble", "thoughtfield._mechanism_config"):
        r = subprocess.run([sys.executable, "-c", _ORDER.format(first=first)], env=_env(),
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert r.returncode == 0, r.stderr[-2000:]
        seen.add([x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1])
    assert len(seen) == 1, seen
    sections_, kinds = seen.pop()[6:].split(";")
    assert sections_.split(",")[-8:] == ["members", "protocol", "learning", "growth", "output",
                                         "sweep", "attractors", "memory"]
    assert kinds.split(",")[:5] == ["trajectories", "layers", "heatmap", "network", "overview"]
