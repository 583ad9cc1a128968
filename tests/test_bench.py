"""Smoke test of the benchmark suite (``--quick``): it runs, writes the expected files and
keys, and its accuracy checks pass.  Speeds are never asserted."""

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest

import thoughtfield
from thoughtfield.bench import SECTIONS, run_suite
from thoughtfield.bench._common import random_graph, rhs_bytes, scale_free_graph
from thoughtfield.cli import main as cli_main
from thoughtfield.errors import ConfigError


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    # In this process, through the registered command.  Not in a subprocess: kernels cached
    # partly by this process and partly by another can crash later processes that load
    # them (numba; see benchmarks/prototypes/cache_segfault_repro.py).
    out = tmp_path_factory.mktemp("bench")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli_main(["bench", "--quick", "--out", str(out)])
    assert code == 0, buf.getvalue()[-3000:]
    with open(out / "bench.json") as f:
        res = json.load(f)
    return res, (out / "bench.md").read_text(), buf.getvalue()


def test_quick_writes_every_section(quick):
    res, md, stdout = quick
    for key in ("machine", "targets", "wall_s", *SECTIONS):
        assert key in res
    for key in ("cpu", "logical_cpus", "memory_bytes", "os", "python", "numpy", "scipy", "numba"):
        assert res["machine"][key]
    assert res["quick"] is True
    for title in ("## Memory bandwidth", "## One right-hand-side evaluation",
                  "## Whole runs at matched accuracy", "## Discrete spreading", "## Start-up",
                  "## Ensembles", "## Targets"):
        assert title in md
    assert "wrote" in stdout


def test_quick_bandwidth_and_rhs_figures_are_consistent(quick):
    res, _, _ = quick
    b = res["bandwidth"]
    assert b["bound_GBs"] == max(b["triad_1t"]["best_GBs"], b["triad_all"]["best_GBs"]) > 0
    kinds = {(r["graph"], r["n"]) for r in res["rhs"]}
    assert kinds == {(g, n) for g in ("random", "scale_free") for n in (1000, 10000)}
    for r in res["rhs"]:
        # the kernel computes the same derivative as the scipy.sparse expression
        assert r["max_abs_diff_vs_scipy"] < 1e-12
        assert r["bytes"] == rhs_bytes(r["n"], r["nnz"])
        t = r[r["thoughtfield_best"]]
        assert t["GBs"] == pytest.approx(r["bytes"] / t["min_s"] / 1e9)
        assert r["fraction_of_bound"] == pytest.approx(t["GBs"] / b["bound_GBs"])


def test_quick_runs_meet_the_accuracy_target(quick):
    res, _, _ = quick
    (run,) = res["runs"]
    assert run["target_error"] == 1e-6
    assert run["reference"]["method"] == "scipy DOP853" and run["reference"]["rtol"] == 1e-10
    for name in ("thoughtfield dopri5", "thoughtfield dop853", "thoughtfield rk4", "scipy RK45",
                 "scipy DOP853", "scipy LSODA", "numpy RK4 loop"):
        s = run["solvers"][name]
        assert s["meets_target"], (name, s)
        assert s["error"] <= 1e-6
        # the chosen setting is the first of the ladder that meets the target
        assert [t["error"] is not None and t["error"] <= 1e-6 for t in s["ladder"]][-1]
        assert all(t["error"] is None or t["error"] > 1e-6 for t in s["ladder"][:-1])
    # the same fixed-step RK4 on the same problem: thoughtfield and the numpy loop agree
    rk_tf, rk_np = run["solvers"]["thoughtfield rk4"], run["solvers"]["numpy RK4 loop"]
    assert rk_tf["value"] == rk_np["value"]
    assert rk_tf["error"] == pytest.approx(rk_np["error"], rel=1e-3, abs=1e-12)
    # the same method as scipy's DOP853 (same controller exponent): same rung of the ladder
    d8, sp = run["solvers"]["thoughtfield dop853"], run["solvers"]["scipy DOP853"]
    assert d8["value"] == sp["value"] and d8["n_rhs"] <= 1.2 * sp["n_rhs"]
    assert run["fastest_peer"] in run["solvers"]
    assert run["speedup_vs_fastest_peer"] > 0


def test_quick_ensemble_members_equal_single_runs(quick):
    res, _, _ = quick
    (e,) = res["ensembles"]
    assert e["members"] == 64
    assert e["max_abs_diff_batched_vs_single"] <= 1e-12


def test_quick_startup_and_unavailable_peers_are_reported(quick):
    res, _, _ = quick
    s = res["startup"]
    c = s["commands"]
    for key in ("help", "validate", "run_quickstart", "plain_scipy_script"):
        assert c[key]["median_s"] > 0
    assert c["run_vs_plain_script"] == c["run_quickstart"]["median_s"] / c["plain_scipy_script"]["median_s"]
    assert "--quick" in s["cold"]["skipped"]
    # per-call figures at matched accuracy: both within the 1e-6 target of the reference
    assert [r["n"] for r in s["calls"]] == [21, 1000]
    for r in s["calls"]:
        assert r["thoughtfield_dop853"]["error"] <= 1e-6 and r["scipy_DOP853"]["error"] <= 1e-6
    assert set(s["compiled_peers"]) == {"CyRK", "diffrax"}
    # the ensemble computes what the 100 separate solve_ivp calls compute
    assert s["repeated"]["runs"] == 100 and s["repeated"]["max_abs_diff"] < 1e-4
    from thoughtfield.bench.startup import cli_available
    assert cli_available() == (True, "")  # the suite times `thoughtfield run` quickstart
    (d,) = res["discrete"]
    # the discrete mode is part of thoughtfield: it must have run; with suppress = 0 only
    # the decay removes activation (independent check of the run it timed)
    assert d["thoughtfield"]["run_s"] > 0 and d["thoughtfield"]["saved_steps"] == 101
    assert d["thoughtfield"]["total_activation_rel_error"] < 1e-12
    assert ("run_s" in d["spreadpy"]) == ("speedup_vs_spreadpy" in d)


def test_targets_list_goal_and_measured_value(quick):
    res, _, _ = quick
    names = {t["target"] for t in res["targets"]}
    assert {"quickstart_run_vs_plain_script", "help_s", "validate_s",
            "simulate_speedup_vs_solve_ivp", "repeated_runs_speedup",
            "ensemble_per_member_ratio"} <= names
    for t in res["targets"]:
        assert t["goal"] >= 0 and "where" in t


def test_unknown_section_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown section 'rhz'.*did you mean 'rhs'"):
        run_suite(quick=True, only=["rhz"])


def test_benchmark_graphs():
    g = random_graph(500, seed=3)
    W = g.csr()
    assert W.shape == (500, 500) and W.diagonal().sum() == 0
    assert (abs(W.getnnz(axis=1) - 10) <= 10).all() and W.nnz > 4500
    s = scale_free_graph(2000, seed=3)
    indeg = s.csr().getnnz(axis=1)
    assert indeg.max() > 20 * indeg.mean()  # hubs
    assert s.csr().diagonal().sum() == 0


def test_module_entry_point_has_help():
    r = subprocess.run([sys.executable, "-m", "thoughtfield.bench", "--help"], capture_output=True,
                       text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
                           os.path.abspath(thoughtfield.__file__)))))
    assert r.returncode == 0 and "--quick" in r.stdout and "examples:" in r.stdout
