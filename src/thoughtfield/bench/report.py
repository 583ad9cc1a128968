"""The Markdown report of a benchmark result (see :func:`thoughtfield.bench.run_suite`)."""

from __future__ import annotations

from ._common import fmt_s


def _n(n) -> str:
    n = int(n)
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else f"{n:,}"


def _table(head, rows) -> list:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out + [""]


def _err(x) -> str:
    return "–" if x is None else f"{x:.1e}"


def markdown(res: dict) -> str:
    m = res["machine"]
    L = [f"# thoughtfield benchmark ({'quick' if res['quick'] else 'full'})", "",
         f"{res['created']} · {m['cpu']} · {m['logical_cpus']} logical CPUs "
         f"({m['numba_threads']} numba threads) · "
         f"{(m['memory_bytes'] or 0) / 2**30:.1f} GiB · caches "
         + ", ".join(f"{k} {v}" for k, v in m["caches"].items())
         + f" · {m['os']}{' (virtual machine)' if m['virtualised'] else ''} · Python {m['python']}, "
         f"numpy {m['numpy']}, scipy {m['scipy']}, numba {m['numba']}, thoughtfield "
         f"{m['thoughtfield']} · load average at start {m['load_average_at_start']}, at end "
         f"{m.get('load_average_at_end')} (1, 5, 15 min) · "
         f"suite wall time {res['wall_s']:.0f} s", "",
         "Times are the minimum over interleaved repeats (median in brackets).", ""]

    if "targets" in res and res["targets"]:
        L += ["## Targets", ""]
        rows = []
        for t in res["targets"]:
            v = t["measured"]
            val = "–" if v is None else (f"{v:.3g}" if not t["target"].endswith("_s") else fmt_s(v))
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            goal = fmt_s(t["goal"]) if t["target"].endswith("_s") else f"{t['goal']:g}"
            rows.append([t["target"], goal, val, met, t["where"]])
        L += _table(["target", "goal", "measured", "met", "where"], rows)

    if "bandwidth" in res:
        b = res["bandwidth"]
        L += ["## Memory bandwidth (the bound)", "",
              f"STREAM-like kernels in numba, arrays of {b['array_bytes'] / 2**20:.0f} MiB; "
              f"bound = best triad = **{b['bound_GBs']:.1f} GB/s**.", ""]
        rows = [[k.replace("_1t", ", 1 thread").replace("_all", f", {b['threads_all']} threads"),
                 f"{b[k]['best_GBs']:.1f}", f"{b[k]['median_GBs']:.1f}"]
                for k in ("copy_1t", "triad_1t", "copy_all", "triad_all")]
        L += _table(["kernel", "GB/s (best)", "GB/s (median)"], rows)

    if "rhs" in res:
        L += ["## One right-hand-side evaluation", "",
              "`tau da/dt = -a + tanh(gain (W a + bias))`, about 10 in-edges per concept. "
              "Bytes = CSR data + indices + row pointers + state read once + derivative "
              "written once.  thoughtfield = the kernel `simulate` uses (threaded from "
              "1e7 edges x members on, as `simulate` does for runs long enough to repay "
              "compiling the threaded twin: `threaded`, the twin compiled outside the "
              "timing), called from a compiled loop; `serial` = one thread.", ""]
        rows = []
        for r in res["rhs"]:
            best = r[r["thoughtfield_best"]]
            ser = r["serial"]
            thr = r.get("threaded")
            rows.append([r["graph"], _n(r["n"]), f"{r['nnz']:,}", f"{r['bytes'] / 1e6:.3g}",
                         f"{fmt_s(ser['min_s'])} ({fmt_s(ser['median_s'])})",
                         f"{fmt_s(thr['min_s'])} ({fmt_s(thr['median_s'])})" if thr else "–",
                         f"{best['GBs']:.2f}", f"{r['fraction_of_bound'] * 100:.1f} %",
                         f"{fmt_s(r['numpy_scipy']['min_s'])}",
                         f"{r['speedup_vs_numpy_scipy']:.2f}x",
                         _err(r["max_abs_diff_vs_scipy"])])
        L += _table(["graph", "N", "edges", "MB moved", "serial", "threaded", "GB/s",
                     "of bound", "numpy/scipy", "speed-up", "max diff"], rows)

    if "runs" in res:
        L += ["## Whole runs at matched accuracy", "",
              "t = 0..10 tau, random initial state; every solver takes the loosest setting of "
              "its ladder (rtol with atol = rtol, or dt) whose final state is within 1e-6 "
              "(max-abs) of scipy DOP853 at rtol 1e-10, atol 1e-12.  Ratio = time / fastest "
              "peer that meets the target.", ""]
        for r in res["runs"]:
            ref = r["reference"]
            thr = ""
            if r.get("threads"):
                thr = (f"; thoughtfield asks for {r['threads']} threads, as a user of a network "
                       "this large does (`threads=`; `simulate` takes them by itself for runs "
                       "long enough to repay their compile), which took "
                       f"{fmt_s(r['threaded_compile_s'])} once, outside the timings")
            L += [f"**{r['graph']} graph, N = {_n(r['n'])}** ({r['nnz']:,} edges; reference "
                  f"{ref['n_rhs']} RHS evaluations, {fmt_s(ref['wall_s'])}{thr})", ""]
            rows = []
            for name, v in r["solvers"].items():
                if "skipped" in v:
                    rows.append([name, "–", "–", "–", "–", "–", v["skipped"]])
                    continue
                if "min_s" not in v:
                    tried = ", ".join(f"{list(t.values())[0]:g}: "
                                      f"{_err(t['error']) if t.get('error') is not None else t.get('failed', '')}"
                                      for t in v.get("ladder", []))
                    rows.append([name, "–", "–", "–", "–", "–", f"target not met ({tried})"])
                    continue
                note = ""
                if name.startswith("Brian2"):
                    note = (f"run time only (with compile {fmt_s(v['wall_incl_compile_s'])}); "
                            "input held fixed within a step")
                elif "kernel_s" in v:
                    note = f"kernel {fmt_s(v['kernel_s'])} of the total"
                    if v.get("threads", 1) > 1:
                        note += f", {v['threads']} threads"
                ratio = v.get("ratio_to_fastest_peer")
                rows.append([name + ("" if v["meets_target"] else " (target not met)"),
                             f"{v['setting']} = {v['value']:g}", str(v.get("n_rhs", "–")),
                             f"{fmt_s(v['min_s'])} ({fmt_s(v['median_s'])})", _err(v["error"]),
                             "–" if ratio is None else f"{ratio:.2f}", note])
            L += _table(["solver", "setting", "RHS evals", "time", "error", "ratio", "note"],
                        rows)
            if "speedup_vs_fastest_peer" in r:
                L += [f"thoughtfield's best ({r['thoughtfield_best']}) is "
                      f"**{r['speedup_vs_fastest_peer']:.2f}x** the speed of the fastest peer "
                      f"({r['fastest_peer']}).", ""]

    if "discrete" in res:
        L += ["## Discrete spreading (100 steps)", "",
              "Undirected random graph, 10 edges per concept, retention 0.5, decay 0.1; every "
              "step kept.  SpreadPy updates in place node by node, thoughtfield synchronously "
              "(spreadr's semantics): same work per step, different results.", ""]
        if "discrete" in res.get("rerun", {}):
            rr = res["rerun"]["discrete"]
            L += [f"(This section was measured again on its own at {rr['created']}, load "
                  f"average {rr['load_average_at_start']}: {rr['why']}.)", ""]
        rows = []
        for r in res["discrete"]:
            sp = r["spreadpy"]
            tf_ = r["thoughtfield"]
            rows.append([_n(r["n"]), fmt_s(sp.get("run_s")) if "run_s" in sp else sp["skipped"],
                         fmt_s(tf_.get("run_s")) if "run_s" in tf_ else tf_.get("skipped", "–"),
                         f"{r['speedup_vs_spreadpy']:.0f}x" if "speedup_vs_spreadpy" in r else "–"])
        L += _table(["N", "SpreadPy", "thoughtfield", "speed-up"], rows)

    if "startup" in res:
        s = res["startup"]
        L += ["## Start-up", ""]
        c = s.get("commands", {})
        if "skipped" in c:
            L += [f"Commands: {c['skipped']}", ""]
        elif c:
            L += ["Whole processes, warm kernel cache, medians:", ""]
            rows = [[f"`{k}`", fmt_s(c[key]["median_s"])] for k, key in (
                ("thoughtfield --help", "help"),
                ("thoughtfield validate simulations/quickstart.toml", "validate"),
                ("thoughtfield run simulations/quickstart.toml --quiet", "run_quickstart"),
                ("python plain.py (the scipy script a user would write)", "plain_scipy_script"),
                ("python -c 'import numpy, scipy.sparse, scipy.integrate'", "import_numpy_scipy"))]
            L += _table(["command", "wall"], rows)
            L += [f"Warm quickstart run / plain scipy script: {c['run_vs_plain_script']:.2f}", ""]
        cold = s.get("cold", {})
        if "quickstart_cold_s" in cold:
            L += [f"Cold (empty kernel cache): `thoughtfield run simulations/quickstart.toml` "
                  f"{fmt_s(cold['quickstart_cold_s'])}; then every other config:", ""]
            rows = [[r["config"], r.get("compiled", "–"), fmt_s(r.get("wall_s"))]
                    for r in cold["configs"]]
            L += _table(["config", "kernels compiled", "process wall"], rows)
        elif cold:
            L += [f"Cold compile: {cold.get('skipped', '–')}", ""]
        if s.get("calls"):
            L += ["One `simulate()` call (validation, lowering, integration, Dataset) against "
                  "`solve_ivp(DOP853)`, each at its loosest rtol within 1e-6 of the reference:", ""]
            rows = [[_n(r["n"]), f"{r['thoughtfield_dop853']['rtol']:g}",
                     fmt_s(r["thoughtfield_dop853"]["median_s"]),
                     f"{r['scipy_DOP853']['rtol']:g}", fmt_s(r["scipy_DOP853"]["median_s"]),
                     f"{r['speedup_vs_scipy']:.2f}"] for r in s["calls"]]
            L += _table(["N", "thoughtfield rtol", "thoughtfield", "scipy rtol", "scipy DOP853",
                         "speed-up"], rows)
            L += ["Compiled peers: " + ", ".join(f"{k} {v}" for k, v in
                                                 s.get("compiled_peers", {}).items()), ""]
        r = s.get("repeated")
        if r:
            L += [f"{r['runs']} runs of a {r['n']}-concept model: one {r['runs']}-member ensemble "
                  f"{fmt_s(r['ensemble']['median_s'])} against {r['runs']} `solve_ivp` calls "
                  f"{fmt_s(r['separate_solve_ivp']['median_s'])}: {r['speedup']:.1f}x "
                  f"(largest difference {r['max_abs_diff']:.1e}).", ""]

    if "ensembles" in res:
        L += ["## Ensembles", "",
              "One batched run of M members (each its own initial state) against M single "
              "runs; fixed-step RK4, dt = 0.1.", ""]
        rows = [[_n(r["n"]), r["members"], f"{r['t_end']:g}", fmt_s(r["batched_s"]),
                 fmt_s(r["singles_s"]), fmt_s(r["per_member_s"]), fmt_s(r["per_single_run_s"]),
                 f"{r['per_member_ratio']:.2f}", _err(r["max_abs_diff_batched_vs_single"])]
                for r in res["ensembles"]]
        L += _table(["N", "M", "t_end", "batched", "M singles", "per member", "per single run",
                     "ratio", "max diff"], rows)
    if "learning" in res:
        L += ["", "## Plastic relations", "",
              "One right-hand-side evaluation with every relation plastic (Hebbian rule with "
              "decay; the weights are state) against the same network with fixed weights; "
              "random graphs, 10 in-edges per concept, one thread.", ""]
        rows = [[_n(r["n"]), f"{r['edges']:,}", fmt_s(r["fixed"]["min_s"]),
                 fmt_s(r["plastic"]["min_s"]), f"{r['ratio']:.2f}",
                 f"{r['ns_per_plastic_edge']:.2g}", _err(r["max_abs_diff_activation_derivative"])]
                for r in res["learning"]]
        L += _table(["N", "plastic edges", "fixed", "plastic", "ratio", "ns per plastic edge",
                     "max diff of da/dt"], rows)
    return "\n".join(L).rstrip() + "\n"


def summary_block(res: dict) -> str:
    """A compact summary (targets, matched-accuracy runs) for the README."""
    m = res["machine"]
    L = [f"Measured with `python benchmarks/run_bench.py` on {m['cpu']} ({m['logical_cpus']} "
         f"logical CPUs{', virtual machine' if m['virtualised'] else ''}, load average "
         f"{m['load_average_at_start']} at start), {res['created'][:10]}; full tables in "
         "[benchmarks/results/latest.md](benchmarks/results/latest.md).", ""]
    if res.get("runs"):
        rows = []
        for r in res["runs"]:
            s = r["solvers"]
            fp, tb = r.get("fastest_peer"), r.get("thoughtfield_best")
            rows.append([f"{r['graph']}, N = {_n(r['n'])}",
                         f"{fp} {fmt_s(s[fp]['min_s'])}" if fp else "–",
                         f"{tb} {fmt_s(s[tb]['min_s'])}" if tb else "–",
                         f"{r['speedup_vs_fastest_peer']:.2f}x" if fp and tb else "–"])
        L += ["Whole runs (t = 0..10 tau) at matched accuracy (final state within 1e-6 of a "
              "DOP853 reference at rtol 1e-10):", ""]
        L += _table(["problem", "fastest peer", "thoughtfield", "speed-up"], rows)
    if res.get("targets"):
        rows = []
        for t in res["targets"]:
            v = t["measured"]
            val = "–" if v is None else (fmt_s(v) if t["target"].endswith("_s") else f"{v:.3g}")
            goal = fmt_s(t["goal"]) if t["target"].endswith("_s") else f"{t['goal']:g}"
            rows.append([t["target"], goal, val,
                         {True: "yes", False: "no", None: "not measured"}[t["met"]], t["where"]])
        L += _table(["target", "goal", "measured", "met", "where"], rows)
    return "\n".join(L).rstrip() + "\n"
