"""``thoughtfield info``: what is inside a result or a config."""

from __future__ import annotations

import json
import os

HELP = "describe a result file or a config (dims, concepts, layers, solver, provenance)"
DESCRIPTION = """\
Describe PATH. For a result (.nc): dimensions, variables, concepts per layer, time span,
solver statistics, provenance (thoughtfield version, seed, config path and overrides)
and the run summary. For a config (.toml): the validated network, model, stimuli,
solver, time span and the expected result size."""
EXAMPLES = """\
  thoughtfield info quickstart.nc
  thoughtfield info simulations/quickstart.toml"""


def add_arguments(p):
    p.add_argument("path", metavar="RESULT|CONFIG", help="result file (.nc) or config (.toml)")
    p.add_argument("--concepts", action="store_true", help="list every concept with its layer")


def _is_result(path: str) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".nc", ".nc4", ".h5", ".hdf5", ".netcdf"):
        return True
    if ext == ".toml":
        return False
    from .._inputs import open_regular
    from ..errors import ConfigError
    try:
        with open_regular(path, None) as f:   # never opens a FIFO or a device
            head = f.read(8)
    except (OSError, ConfigError):
        return False
    return head.startswith(b"\x89HDF") or head.startswith(b"CDF")


def _counts(values, order=None) -> str:
    c: dict[str, int] = {}
    for v in values:
        c[str(v)] = c.get(str(v), 0) + 1
    keys = [k for k in (order or []) if k in c] + [k for k in c if k not in (order or [])]
    return ", ".join(f"{k} {c[k]}" for k in keys)


def _result_info(path, show_concepts) -> list[str]:
    from ..results import description, load_result
    from ..summary import summary_lines
    from ._common import human_size
    ds = load_result(path)
    a = ds.attrs
    lines = [f"result: {path} ({human_size(os.path.getsize(path))})"]
    if a.get("title"):
        lines.append(f"  title: {a['title']}")
    lines.append("  dims: " + ", ".join(f"{d} {n}" for d, n in ds.sizes.items()))
    for name, var in ds.data_vars.items():
        lines.append(f"  variable: {name}({', '.join(var.dims)}) {var.dtype}"
                     + (f" [{var.attrs['units']}]" if var.attrs.get("units") else ""))
    ladder = str(ds["layer"].attrs.get("ladder", "")).split("|") if "layer" in ds.coords else []
    if "layer" in ds.coords:
        lines.append(f"  concepts: {ds.sizes['concept']} in layers {'/'.join(ladder)}: "
                     + _counts(ds["layer"].values, ladder))
    elif "concept" in ds.coords:
        lines.append(f"  concepts: {ds.sizes['concept']} (no layers)")
    if show_concepts and "concept" in ds.coords:
        lays = ds["layer"].values if "layer" in ds.coords else [None] * ds.sizes["concept"]
        for c, lay in zip(ds["concept"].values, lays):
            lines.append(f"    {c} ({lay})" if lay is not None else f"    {c}")
    t = ds["time"].values if "time" in ds.coords else []
    if len(t):
        lines.append(f"  time: {_g(t[0])} .. {_g(t[-1])} ({t.size} saved points)")
    try:
        solver = description(ds, "solver") or {}
    except ValueError:   # a damaged attribute: describe the rest
        solver = {}
    if not isinstance(solver, dict):
        solver = {}
    if a.get("method"):
        s = f"  solver: {a['method']}"
        if solver.get("rtol") is not None and a["method"] in ("dopri5", "dop853"):
            s += f" (rtol {_g(solver['rtol'])}, atol {_g(solver.get('atol', 0))})"
        elif a.get("dt") not in (None, "adaptive"):
            s += f" (dt {_g(a['dt'])})"
        sweeps = a["method"] == "async"   # single-unit updates: no RHS evaluations
        s += f", status {a.get('status')}, {a.get('n_steps')} {'sweeps' if sweeps else 'steps'}"
        if a.get("n_rhs") is not None and not sweeps:
            s += f", {a.get('n_rhs')} RHS evaluations"
        lines.append(s)
    prov = [f"thoughtfield {a.get('thoughtfield_version', '?')}"]
    if a.get("seed") is not None:
        prov.append(f"seed {a['seed']}")
    if a.get("config_path"):
        from ..results import config_path_of   # stored relative to the result's folder
        prov.append(f"config {_short(config_path_of(ds, path))}")
    ov = a.get("config_overrides")
    if ov:
        try:
            ov = json.loads(ov)
        except (TypeError, ValueError, RecursionError):
            ov = [ov]
        if not isinstance(ov, list):   # a damaged attribute: show it as it is
            ov = [ov]
        prov.append("overrides " + " ".join(f"--set {_short(o)}" for o in ov))
    lines.append("  provenance: " + ", ".join(prov))
    lines += ["  " + s for s in summary_lines(ds)]
    return lines


def _config_info(path, show_concepts) -> list[str]:
    from ..config import load_config, sections
    from ._common import human_size
    cfg = load_config(path)
    net = cfg.network
    summ = net.summary()
    lines = [f"config: {path} (valid)"]
    if cfg.title:
        lines.append(f"  title: {cfg.title}")
    lines.append(f"  network: {net.n} concepts, {net.n_relations} relations")
    lines.append("  layers: " + (", ".join(f"{k} {v}" for k, v in summ["concepts_by_layer"].items())
                                 or "none"))
    if summ["relations_by_type"]:
        lines.append("  relations: " + ", ".join(f"{k} {v}" for k, v in summ["relations_by_type"].items()))
    if show_concepts:
        for c, lay in zip(net.concepts, net.concept_layers):
            lines.append(f"    {c} ({lay})" if net.layered else f"    {c}")
    m = cfg.model.to_dict()
    lines.append("  model: " + ", ".join(f"{k} {_short(v)}" for k, v in m.items()))
    for i, s in enumerate(cfg.stimuli):
        d = s.to_dict()
        amp = d.get("amplitude", d.get("value"))
        stop = d.get("stop", float("inf"))
        lines.append(f"  stimuli[{i}]: {d['kind']} {d['concept']} = {amp:g} for t = "
                     f"{d['start']:g} .. {stop:g}" + (f" (member {d['member']})" if "member" in d else ""))
    sv = cfg.solver.to_dict()
    lines.append("  solver: " + ", ".join(f"{k} {_short(v)}" for k, v in sv.items()))
    sim_kwargs = cfg.run.simulation_kwargs()
    from ..build import save_times
    dt = None
    if not cfg.solver.adaptive:
        from ..build import build_method
        dt = float(build_method(cfg.solver, cfg.model, net, cfg.run.t0, cfg.run.t_end).opt_f[0])
    ts = save_times(cfg.run.t0, cfg.run.t_end, cfg.run.saveat, dt=dt)
    size = ts.size * net.n * cfg.run.members * 8
    protocol = cfg.section_object("protocol")
    if protocol is not None:   # the trials set the span, not [run]
        n = len(protocol.trials) if protocol.trials is not None else protocol.n_trials
        names = ", ".join(c.name for c in protocol.conditions)
        lines.append(f"  protocol: {n} trials of {protocol.duration:g} time units each "
                     f"(conditions {names}), {sim_kwargs['members']} member(s)"
                     + ("; every trial's time course is kept" if protocol.record else ""))
    else:
        lines.append(f"  run: t = {cfg.run.t0:g} .. {cfg.run.t_end:g}, {ts.size} saved points, "
                     f"{sim_kwargs['members']} member(s); activation output about "
                     f"{human_size(size)}")
    lines.append(f"  seed: {cfg.seed if cfg.seed is not None else 'drawn at run time'}")
    o = cfg.output
    lines.append(f"  output: {o.path or cfg.name + '.nc'} ({o.format}); plots with --plot: "
                 + (", ".join(o.plots) or "none"))
    extra = [s.name for s in sections()
             if s.name not in ("network", "model", "stimuli", "solver", "run", "output")
             and s.name in cfg.data]
    if extra:
        lines.append("  other sections: " + ", ".join(extra))
    return lines


def _g(v) -> str:
    """A number as ``%g``; anything else (a damaged attribute) as its short repr."""
    try:
        return f"{float(v):g}"
    except (TypeError, ValueError, OverflowError):
        from .. import _validate as V
        return V.show(v, 40)


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list) and len(v) > 6:
        return f"[{len(v)} values]"
    return str(v)


def main(args) -> int:
    from .._inputs import check_regular, printable
    check_regular(args.path)   # a missing file, a folder, a device or a FIFO: one line
    lines = (_result_info(args.path, args.concepts) if _is_result(args.path)
             else _config_info(args.path, args.concepts))
    # names, titles and paths come from the file: escape what could drive the terminal
    print("\n".join(printable(line) for line in lines))
    return 0
