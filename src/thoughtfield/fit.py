"""Fitting a config's parameters to behavioural data: choices and response times.

:func:`fit` estimates the config values named in ``params`` (addressed like ``--set``
keys, each with bounds) from a tidy table of trials -- one row per trial with the trial's
condition, the ``choice`` (an option of the response pool; empty for no response) and the
response time ``rt`` (from the choice's onset, in the model's time units).

Conditions
    A config with a ``[protocol]`` has named conditions: the data's ``condition`` column
    names them.  Other condition columns are config keys (``stimuli[0].value``,
    ``model.gain``): each distinct combination of their values is a condition, run with
    those values set.  Without condition columns the data form one condition (the config
    as it is).  Each trial is simulated from the start (nothing carries over between
    trials; protocols with ``carry`` are refused).

Simulation
    Every evaluation of the objective simulates ``n_sim`` trials per condition with the
    same seed (common random numbers: member ``m`` draws the same noise at every
    evaluation), so the objective changes smoothly with the parameters instead of jumping
    with fresh noise.  Each condition is one ensemble of ``n_sim`` members in one kernel
    call, and the choice stops the integration once every member has responded.  (All
    conditions in one call, with member-indexed stimuli, was measured slower: lowering
    K x n_sim clamps checks every pair for overlaps, about 1 s per evaluation for
    2 x 1000 members.)

Objectives (``objective=``)
    ``"g2"`` (default) and ``"qp_chi2"``: the quantile bins of diffusion-model
    fitting (Ratcliff & Tuerlinckx 2002).  Per condition and response with at least
    ``min_rt_trials`` (default 30) observed responses, the observed RT quantiles
    (``quantiles``, default .1 .3 .5 .7 .9) cut the RT axis into bins; a response with
    10 to ``min_rt_trials`` trials is split at its median only, rarer responses and the
    non-responses are one bin each.  ``X2 = sum_c N_c sum_b (o_cb - p_cb)^2 / p_cb`` with
    observed proportions ``o`` and simulated ones ``p`` (floored at ``0.5 / n_sim``).
    ``"g2"`` is their multinomial likelihood (quantile maximum likelihood, Heathcote,
    Brown & Mewhort 2002) as the deviance ``G2 = 2 sum n_cb log(o_cb / p_cb)``.  The
    chi-square divides by the simulated proportions, so their Monte Carlo error in rare
    bins biases it: over six data sets of the example (n_sim = 300) the chi-square
    estimates averaged 1.43 and 0.96 for a rate of 1.5 and a threshold of 1.0, G2's 1.50
    and 1.00 -- hence G2 is the default.  ``"kde"``: ``-2 log L`` of every observed
    trial under a Gaussian kernel density of the simulated RTs of its response (Silverman
    bandwidth) times the simulated response probability (probability density
    approximation, Turner & Sederberg 2014).  With ``smoothing > 0`` a simulated RT
    counts in a bin with a Gaussian weight of width ``smoothing`` x the condition's
    observed RT standard deviation, so the bin proportions are continuous in the
    parameters.

Optimisation
    :func:`scipy.optimize.differential_evolution`'s solver over the bounds (in the unit
    cube), one generation at a time with ``updating="deferred"``: each generation's
    population goes to a map -- this process, or dask workers (``workers=``,
    ``scheduler=``), recorded in the order given, so the result does not depend on the
    number of workers -- then a bounded Nelder-Mead polish from its best point.  The
    pseudo-parameter ``"ndt"`` is a non-decision time added to every simulated response
    time.  An optional normal prior per parameter adds ``((x - mean) / sd)^2`` to the
    objective.  ``checkpoint=`` keeps the progress in a JSON file (the population, its
    values and the random-number state after every generation, the polish, the finished
    bootstrap refits, the trace), from which a rerun resumes with the same result.

Uncertainty
    A parametric bootstrap: ``bootstrap`` data sets of the observed size are simulated
    from the estimate (fresh noise), each refitted by the whole fit again (differential
    evolution from its own seed, ``bootstrap_maxiter`` generations, then the polish) with
    fresh simulation noise (its own common random numbers), so the refits vary as the
    estimate does: with the sampling error of the data, the Monte Carlo error of the
    simulated objective and the optimiser's error.  (A short Nelder-Mead from the
    estimate, as refits were once made, stays near its start: its intervals were 30 to
    70 % as wide as the estimates' spread over repeated data sets called for.  With as
    few simulated as observed trials the objective's Monte Carlo noise can still make
    them too narrow: see the README's recovery table.)  The 95 % interval is the basic
    bootstrap interval ``[2 est - q97.5, 2 est - q2.5]`` of the refitted values ``q`` (it
    corrects for a bias of the estimator instead of doubling it, as the percentile
    interval would), clipped to the bounds.

The result is an :class:`xarray.Dataset` (:func:`fit` documents its variables) that
``thoughtfield plot`` draws with the kinds ``qp``, ``rt_hist`` and ``fit_trace``.
"""

from __future__ import annotations

import math
import os
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from . import _validate as V
from .config import OverrideKeyError
from .errors import ConfigError, SimulationError
from .saving import SaveAt

#: The default RT quantiles of the quantile-probability objectives.
QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)
#: Responses with fewer observed trials than ``min_rt_trials`` but at least this many are
#: split at their median only; fewer still are one bin.
MEDIAN_TRIALS = 10
#: Trials per condition simulated at the estimate for the fitted quantities (at least).
PREDICT_TRIALS = 2000
#: Objective names.
OBJECTIVES = ("qp_chi2", "g2", "kde")
#: The pseudo-parameter for a non-decision time added to every simulated response time.
NDT = "ndt"
#: Data columns with a fixed meaning.
CHOICE, RT, CONDITION = "choice", "rt", "condition"
_NONE = "none"   # the response label of trials without a response


# ===================================================================== parameters
@dataclass(frozen=True)
class FitParam:
    """A fitted parameter: a config key (or ``"ndt"``), its bounds and an optional normal
    prior ``(mean, sd)``."""

    key: str
    lower: float
    upper: float
    prior: tuple[float, float] | None = None

    def __post_init__(self):
        lo = V.real(f"params[{self.key!r}] lower bound", self.lower)
        hi = V.real(f"params[{self.key!r}] upper bound", self.upper)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"parameter {self.key}: bounds must be finite (got {lo:g}:{hi:g})")
        if not lo < hi:
            raise ConfigError(f"parameter {self.key}: the lower bound must be below the upper "
                              f"(got {lo:g}:{hi:g}); write {self.key}=LOW:HIGH")
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        if self.prior is not None:
            try:
                mu, sd = (float(v) for v in self.prior)
            except (TypeError, ValueError):
                raise ConfigError(f"parameter {self.key}: prior must be (mean, sd) of a normal "
                                  f"distribution (got {self.prior!r})") from None
            if not (math.isfinite(mu) and sd > 0 and math.isfinite(sd)):
                raise ConfigError(f"parameter {self.key}: prior sd must be > 0 and finite "
                                  f"(got mean {mu:g}, sd {sd:g})")
            object.__setattr__(self, "prior", (mu, sd))


def parse_param(text: str) -> FitParam:
    """``"model.gain=2:10"`` (optionally ``"model.gain=2:10:normal(5,1)"``) -> FitParam."""
    shown = V.show(text, 80)
    if not isinstance(text, str):
        raise ConfigError(f"--param {shown}: expected KEY=LOW:HIGH, e.g. --param model.gain=2:10")
    if "=" not in text:
        raise ConfigError(f"--param {shown}: no bounds; write {text.strip()}=LOW:HIGH "
                          "(e.g. --param model.gain=2:10)")
    key, _, rest = text.partition("=")
    key = key.strip()
    if not key:
        raise ConfigError(f"--param {shown}: the key before '=' is empty")
    parts = rest.split(":", 2)
    if len(parts) < 2:
        raise ConfigError(f"--param {shown}: {key} has no bounds; write {key}=LOW:HIGH "
                          f"(e.g. {key}=0.5:3)")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--param {shown}: the bounds must be numbers; write {key}=LOW:HIGH") \
            from None
    prior = None
    if len(parts) == 3:
        p = parts[2].strip().replace(" ", "")
        if not (p.startswith("normal(") and p.endswith(")")):
            raise ConfigError(f"--param {shown}: a prior is written normal(MEAN,SD), e.g. "
                              f"{key}={parts[0]}:{parts[1]}:normal(1,0.5)")
        try:
            prior = tuple(float(v) for v in p[len("normal("):-1].split(","))
        except ValueError:
            prior = p
        if len(prior) != 2:
            raise ConfigError(f"--param {shown}: normal() takes a mean and an sd")
    return FitParam(key, lo, hi, prior)


def as_params(params) -> tuple[FitParam, ...]:
    """Normalise ``params``: a mapping of keys to ``(low, high)``, ``"low:high"`` or
    ``{"bounds": (low, high), "prior": (mean, sd)}``; or a list of ``"key=low:high"``
    strings or :class:`FitParam` objects."""
    if params is None or (not isinstance(params, (Mapping, str)) and not isinstance(params, Iterable)):
        raise ConfigError("params: give the parameters to fit with their bounds, e.g. "
                          "{'choices[0].rate': (0.5, 3)} (or --param choices[0].rate=0.5:3)",
                          key='params')
    out = []
    if isinstance(params, str):
        params = [params]
    if isinstance(params, Mapping):
        for key, spec in params.items():
            key = str(key)
            prior = None
            if isinstance(spec, Mapping):
                unknown = set(spec) - {"bounds", "prior"}
                if unknown:
                    raise ConfigError(f"parameter {key}: unknown entry {min(unknown)!r}; "
                                      "give bounds and optionally prior")
                prior = spec.get("prior")
                spec = spec.get("bounds")
            if spec is None:
                raise ConfigError(f"parameter {key}: no bounds; give (LOW, HIGH), e.g. "
                                  f"{{{key!r}: (0.5, 3)}}")
            if isinstance(spec, str):
                out.append(replace(parse_param(f"{key}={spec}"), prior=prior) if prior
                           else parse_param(f"{key}={spec}"))
                continue
            try:
                lo, hi = spec
            except (TypeError, ValueError):
                raise ConfigError(f"parameter {key}: bounds must be (LOW, HIGH) (got "
                                  f"{V.show(spec)})") from None
            out.append(FitParam(key, lo, hi, prior))
    else:
        for p in params:
            out.append(p if isinstance(p, FitParam) else parse_param(p))
    if not out:
        raise ConfigError("params: no parameters to fit; give at least one with its bounds",
                          key='params')
    keys = [p.key for p in out]
    for k in keys:
        if keys.count(k) > 1:
            raise ConfigError(f"parameter {k}: given twice")
    return tuple(out)


# ===================================================================== data
@dataclass
class _Cell:
    """One condition of the data: its label, the config values it sets, its protocol
    condition (or None) and its observed trials."""

    label: str
    overrides: tuple          # ((key, value), ...)
    condition: object | None  # protocol Condition
    choice: np.ndarray        # option index per trial, -1 = no response
    rt: np.ndarray            # NaN for no response
    rows: np.ndarray          # the data rows (0-based)


def read_data(data, *, name: str | None = None):
    """The data as a pandas DataFrame, from a CSV/TSV path, a DataFrame or a mapping of
    columns; ``name`` is used in messages (default: the file name or ``data``)."""
    import pandas as pd
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if not os.path.exists(path):
            raise ConfigError(f"{path}: data file not found")
        if os.path.isdir(path):
            raise ConfigError(f"{path}: is a folder, not a data file")
        sep = "\t" if path.endswith((".tsv", ".tab")) else ","
        try:
            df = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=["", "NA", "NaN", "nan"])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not a readable CSV table ({str(e).splitlines()[0]})") from None
        df.attrs["name"] = name or os.path.basename(path)
        df.attrs["header_lines"] = 1
        return df
    if isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, Mapping):
        try:
            df = pd.DataFrame(dict(data))
        except ValueError as e:
            raise ConfigError(f"data: the columns must have equal lengths ({e})",
                              key='data') from None
    else:
        raise ConfigError(f"data: expected a CSV path, a pandas DataFrame or a mapping of "
                          f"columns (got {type(data).__name__})", key='data')
    df.attrs["name"] = name or "data"
    df.attrs["header_lines"] = 0
    return df


def _where(df, i: int) -> str:
    """``obs.csv line 14`` for a file (the header is line 1), else ``data row 12``."""
    name = df.attrs.get("name", "data")
    if df.attrs.get("header_lines"):
        return f"{name} line {i + 2}"
    return f"{name} row {i}"


def _protocol(cfg):
    try:
        return cfg.section_object("protocol")
    except ConfigError:
        return None


def _decision(cfg, decision=None) -> int:
    model = cfg.model
    if not model.choices:
        raise ConfigError("fit: the config has no [[choices]]; fitting needs a choice (the "
                          "response and its time); add one on the response pool", key='fit')
    pools = [c.pool for c in model.choices]
    prot = _protocol(cfg)
    if decision is None and prot is not None:
        decision = prot.decision
    if decision is None:
        if len(pools) > 1:
            raise ConfigError(f"fit: the config has {len(pools)} choices ({', '.join(pools)}); "
                              "name the response pool with decision=", key='fit')
        return 0
    if decision not in pools:
        raise ConfigError(f"fit: no choice on pool {decision!r}" + V.did_you_mean(decision, pools),
                          key='fit')
    return pools.index(decision)


def _options(cfg, d: int) -> list[str]:
    from .build import resolve_pools
    pool = cfg.model.choices[d].pool
    for name, idx, _ in resolve_pools(cfg.network, cfg.model):
        if name == pool:
            return [cfg.network.concepts[i] for i in idx]
    raise ConfigError(f"choices[{d}].pool: unknown pool {pool!r}",
                      key=f"choices[{d}].pool")  # pragma: no cover


def _design(cfg, df, options, ignore=()) -> list[_Cell]:
    """Check the data table against the config and split it into conditions."""
    name = df.attrs.get("name", "data")
    cols = [str(c) for c in df.columns]
    for req in (CHOICE, RT):
        if req not in cols:
            raise ConfigError(f"{name}: missing column {req!r}" + V.did_you_mean(req, cols)
                              + f"; the data need the columns {CHOICE}, {RT} and the condition "
                              "columns (the columns are " + ", ".join(cols) + ")", key=name)
    if len(df) == 0:
        raise ConfigError(f"{name}: has no trials", key=name)
    for c in ignore:
        if c not in cols:
            raise ConfigError(f"ignore: no column {c!r} in {name}" + V.did_you_mean(c, cols),
                              key='ignore')
    prot = _protocol(cfg)
    if prot is not None:
        present = {"activation", "evidence"}
        if cfg.model.controls:
            present.add("control")
        if cfg.model.adaptation is not None:
            present.add("adaptation")
        carried = [c for c in prot.carry if c in present]
        if carried:
            raise ConfigError(f"fit: protocol.carry = {list(prot.carry)}: fitting simulates every "
                              f"trial from the start, so the {', '.join(carried)} carried between "
                              "trials cannot be fitted; drop it with --set protocol.carry=[] to "
                              "fit independent trials", key='fit')
    key_cols = [c for c in cols if c not in (CHOICE, RT, CONDITION) and c not in ignore]
    if CONDITION in cols and CONDITION not in ignore and prot is None:
        raise ConfigError(f"{name}: column 'condition': the config has no [protocol] with named "
                          "conditions; add one, or name the condition columns by the config "
                          "keys they set (e.g. stimuli[0].value)", key=name)
    # condition columns that are config keys: every value must be accepted by the config
    for c in key_cols:
        vals = df[c].tolist()
        for i, v in enumerate(vals):
            if isinstance(v, float) and math.isnan(v):
                raise ConfigError(f"{_where(df, i)}: column {c!r} is empty; give every trial "
                                  "its condition value")
        for v in dict.fromkeys(_plain(v) for v in vals):
            try:
                cfg.with_overrides({c: v})
            except OverrideKeyError as e:   # quoted as the reason of a new error
                raise ConfigError(f"{name}: column {c!r} is neither {CHOICE}, {RT}, "
                                  f"{CONDITION} nor a config key ({e}); remove it or pass "
                                  f"it to ignore (--ignore {c})", key=name) from None
            except ConfigError as e:
                i = vals.index(v) if v in vals else 0
                raise e.at(f"{_where(df, i)}: column {c!r} = {V.show(v)}") from None
    conds = {c.name: c for c in prot.conditions} if prot is not None else {}
    use_cond = prot is not None and CONDITION in cols and CONDITION not in ignore
    if prot is not None and not use_cond:
        raise ConfigError(f"{name}: the config's [protocol] has conditions "
                          f"({', '.join(conds)}); add a column 'condition' naming each trial's",
                          key=name)
    # per trial: choice, rt, condition
    choices = df[CHOICE].tolist()
    rts = df[RT].tolist()
    cvals = df[CONDITION].tolist() if use_cond else [None] * len(df)
    opt_index = {o: k for k, o in enumerate(options)}
    ch = np.empty(len(df), np.int64)
    rt = np.empty(len(df))
    for i in range(len(df)):
        c = choices[i]
        if c is None or (isinstance(c, float) and math.isnan(c)) or str(c).strip() in ("", _NONE):
            ch[i] = -1
        else:
            c = str(c).strip()
            if c not in opt_index:
                raise ConfigError(f"{_where(df, i)}: choice {V.show(c)} is not an option of the "
                                  f"response pool ({', '.join(options)})"
                                  + V.did_you_mean(c, options)
                                  + "; leave it empty for no response")
            ch[i] = opt_index[c]
        r = rts[i]
        try:
            r = float(r)
        except (TypeError, ValueError):
            raise ConfigError(f"{_where(df, i)}: rt = {V.show(r)} is not a number") from None
        if ch[i] >= 0:
            if not math.isfinite(r):
                raise ConfigError(f"{_where(df, i)}: rt is missing for the choice "
                                  f"{choices[i]!r}; give its response time (or leave the "
                                  "choice empty for no response)")
            if r < 0:
                raise ConfigError(f"{_where(df, i)}: rt = {r:g} is negative; response times "
                                  "are >= 0, measured from the choice's onset in the model's "
                                  "time units")
        else:
            r = float("nan")
        rt[i] = r
        if use_cond:
            cv = cvals[i]
            if str(cv) not in conds:
                raise ConfigError(f"{_where(df, i)}: condition {V.show(cv)} is not a condition "
                                  "of the protocol" + V.did_you_mean(str(cv), conds)
                                  + f"; the conditions are {', '.join(conds)}")
    # group the trials
    keys = []
    for i in range(len(df)):
        ov = tuple((c, _plain(df[c].iat[i])) for c in key_cols)
        keys.append((str(cvals[i]) if use_cond else None, ov))
    groups: dict = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    cells = []
    # protocol order first, then order of appearance
    order = list(groups)
    if use_cond:
        rank = {n: j for j, n in enumerate(conds)}
        order.sort(key=lambda k: (rank[k[0]], keys.index(k)))
    for k in order:
        idx = np.array(groups[k])
        cname, ov = k
        parts = ([cname] if cname is not None else []) + [f"{c}={_fmt(v)}" for c, v in ov]
        cells.append(_Cell(", ".join(parts) or "all", ov,
                           conds.get(cname) if cname is not None else None,
                           ch[idx], rt[idx], idx))
    if use_cond:
        seen = {k[0] for k in groups}
        for n in conds:
            if n not in seen:
                raise ConfigError(f"{name}: no trials in condition {n!r}; add its trials, or "
                                  "remove the condition from the config's [protocol]", key=name)
    return cells


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return v
    return v


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# ===================================================================== simulator
class Simulator:
    """Simulates ``n_sim`` trials of every condition at given parameter values, with
    common random numbers: the same seed (and so the same noise per member) at every
    call with the same ``stream``."""

    def __init__(self, cfg, cells, params, *, n_sim: int, seed: int, decision: int):
        self.cfg = cfg
        self.cells = cells
        self.params = params
        self.n_sim = n_sim
        self.seed = seed
        self.d = decision
        groups: dict = {}
        for k, c in enumerate(cells):
            groups.setdefault(c.overrides, []).append(k)
        self.groups = list(groups.items())
        self.kernel_calls = 0

    def __getstate__(self):
        # for dask workers: a config is rebuilt from its data (as a sweep's is), with the
        # network built here
        from ._sweep import _thaw
        s = self.__dict__.copy()
        cfg = s.pop("cfg")
        data = _thaw(cfg.data) if not isinstance(cfg.data, dict) else dict(cfg.data)
        s["_cfg"] = (data, cfg.path, str(cfg.base_dir), cfg.network)
        return s

    def __setstate__(self, s):
        from pathlib import Path

        from .config import _load_data
        data, path, base_dir, network = s.pop("_cfg")
        s["cfg"] = _load_data(data, text=None, path=path, base_dir=Path(base_dir),
                              reuse={"network": (data.get("network"), network)})
        self.__dict__.update(s)

    def config(self, theta, overrides=()):
        ov = {p.key: float(v) for p, v in zip(self.params, theta) if p.key != NDT}
        ov.update(dict(overrides))
        return self.cfg.with_overrides(ov) if ov else self.cfg

    def simulate(self, theta, *, stream: int = 0, n: int | None = None):
        """``(choice (K, n), rt (K, n))``: option index (-1 none) and response time of
        ``n`` (default ``n_sim``) simulated trials per condition."""
        from .simulate import Simulation
        n = self.n_sim if n is None else n
        K = len(self.cells)
        ch = np.full((K, n), -1, np.int64)
        rt = np.full((K, n), np.nan)
        ndt = 0.0
        for p, v in zip(self.params, theta):
            if p.key == NDT:
                ndt = float(v)
        prot = _protocol(self.cfg)
        for g, (ov, ks) in enumerate(self.groups):
            cfg = self.config(theta, ov)
            kw = cfg.simulation_kwargs()
            model = kw["model"]
            chs = list(model.choices)
            chs[self.d] = replace(chs[self.d], stop=True)   # no need to run past the last choice
            model = replace(model, choices=tuple(chs))
            t_end = prot.duration if prot is not None else kw["t_end"]
            # one kernel call per condition: member-indexed stimuli would run every
            # condition in one call, but lowering n x K clamps costs O((n K)^2) in the
            # clamp-overlap check (about 1 s for 2 x 1000 members)
            for j, k in enumerate(ks):
                stims = self.cells[k].condition.stimuli if prot is not None else kw.get("stimuli")
                sim = Simulation(kw["network"], model, stims, t_end=t_end, t0=kw.get("t0", 0.0),
                                 solver=kw.get("solver"), saveat=SaveAt(times=[t_end]), members=n,
                                 seed=self.seed, seed_key=(stream, g, j),
                                 initial=kw.get("initial"), member_params=kw.get("member_params"))
                sim.advance(sim.ts.size)
                self.kernel_calls += 1
                st = sim.state
                onset = sim.layout.decisions[self.d]["onset"]
                ev_i = st.ev_i[self.d]
                ch[k] = ev_i
                rt[k] = np.where(ev_i >= 0, st.ev_f[self.d, :, 0] - onset + ndt, np.nan)
        return ch, rt


# ===================================================================== objective
class Objective:
    """The objective for one data set: ``value(choice, rt)`` of simulated trials."""

    def __init__(self, cells, n_options: int, *, kind: str = "g2", quantiles=QUANTILES,
                 min_rt_trials: int = 30, smoothing: float = 0.05, n_sim: int = 1000):
        self.kind = V.choice("objective", kind, OBJECTIVES)
        q = np.asarray(quantiles, float)
        if q.ndim != 1 or q.size == 0 or np.any(q <= 0) or np.any(q >= 1) or np.any(np.diff(q) <= 0):
            raise ConfigError(f"quantiles: must be increasing values strictly between 0 and 1 "
                              f"(got {list(np.atleast_1d(q))})", key='quantiles')
        self.quantiles = q
        self.R = n_options
        self.min_rt_trials = V.integer("min_rt_trials", min_rt_trials, min=1)
        self.smoothing = V.real("smoothing", smoothing, min=0.0)
        self.floor = 0.5 / n_sim
        self.cells = []
        for c in cells:
            N = c.choice.size
            sd = float(np.nanstd(c.rt)) if np.isfinite(c.rt).sum() > 1 else 0.0
            resp = []
            for r in range(n_options):
                t = np.sort(c.rt[c.choice == r])
                if t.size >= self.min_rt_trials or t.size >= MEDIAN_TRIALS:
                    # few trials: only the median splits them (their quantiles are noise)
                    qq = q if t.size >= self.min_rt_trials else np.array([0.5])
                    edges = np.quantile(t, qq)
                    cnt = np.diff(np.concatenate([[0], np.searchsorted(t, edges, "right"), [t.size]]))
                else:
                    edges = None
                    cnt = np.array([t.size])
                resp.append((edges, cnt.astype(float), t))
            n_none = float(np.sum(c.choice < 0))
            self.cells.append({"N": N, "resp": resp, "none": n_none, "h": self.smoothing * sd})

    def bin_probs(self, k: int, ch, rt):
        """Simulated proportions of condition ``k``'s bins (concatenated over responses,
        then no response) and the observed counts."""
        from scipy.special import ndtr
        cell = self.cells[k]
        n = ch.size
        ps, os_ = [], []
        for r, (edges, cnt, _) in enumerate(cell["resp"]):
            t = rt[ch == r]
            if edges is None:
                ps.append(np.array([t.size / n]))
            elif cell["h"] > 0 and t.size:
                cdf = ndtr((edges[None, :] - t[:, None]) / cell["h"]).sum(axis=0)
                full = np.concatenate([[0.0], cdf, [float(t.size)]])
                ps.append(np.diff(full) / n)
            else:
                t = np.sort(t)
                c = np.diff(np.concatenate([[0], np.searchsorted(t, edges, "right"), [t.size]]))
                ps.append(c / n)
            os_.append(cnt)
        ps.append(np.array([np.sum(ch < 0) / n]))
        os_.append(np.array([cell["none"]]))
        return np.concatenate(ps), np.concatenate(os_)

    def value(self, ch, rt) -> float:
        total = 0.0
        for k, cell in enumerate(self.cells):
            if self.kind == "kde":
                total += self._kde(cell, ch[k], rt[k])
                continue
            p, o = self.bin_probs(k, ch[k], rt[k])
            p = np.maximum(p, self.floor)
            N = cell["N"]
            if self.kind == "qp_chi2":
                total += N * float(np.sum((o / N - p) ** 2 / p))
            else:
                m = o > 0
                total += 2.0 * float(np.sum(o[m] * np.log((o[m] / N) / p[m])))
        return total

    def _kde(self, cell, ch, rt) -> float:
        n = ch.size
        ll = 0.0
        for r, (_, _, t_obs) in enumerate(cell["resp"]):
            if not t_obs.size:
                continue
            t = rt[ch == r]
            if t.size < 2:
                ll += t_obs.size * math.log(self.floor * 1e-3)
                continue
            sd = float(np.std(t))
            iqr = float(np.subtract(*np.percentile(t, [75, 25])))
            s = min(sd, iqr / 1.349) if iqr > 0 else sd
            h = max(0.9 * s * t.size ** -0.2, 1e-6)
            z = (t_obs[:, None] - t[None, :]) / h
            dens = np.exp(-0.5 * z * z).sum(axis=1) / (n * h * math.sqrt(2 * math.pi))
            ll += float(np.sum(np.log(np.maximum(dens, 1e-10))))
        if cell["none"]:
            ll += cell["none"] * math.log(max(np.sum(ch < 0) / n, self.floor))
        return -2.0 * ll


# ===================================================================== fitting
def _penalty(params, theta) -> float:
    out = 0.0
    for p, v in zip(params, theta):
        if p.prior is not None:
            out += ((v - p.prior[0]) / p.prior[1]) ** 2
    return out


_REFIT_STREAM = 1_000_000   # noise streams: 0 the fit, 1 + b bootstrap data, this + b refits
_BAD = 1e12                 # the objective of a point the config or the solver refuses


def _evaluate(task, theta):
    """``(objective, seconds, failure message or None)`` at ``theta``; ``task`` is
    ``(simulator, objective, params, stream)``.  Runs here or on a dask worker."""
    sim, obj, params, stream = task
    t0 = _time.perf_counter()
    try:
        ch, rt = sim.simulate(theta, stream=stream)
        f, why = obj.value(ch, rt) + _penalty(params, theta), None
    except (SimulationError, ConfigError) as e:
        # a value inside the bounds the config or the solver refuses: a bad point
        f, why = _BAD, f"{dict(zip([p.key for p in params], theta.tolist()))}: {e}"
    return float(f), _time.perf_counter() - t0, why


class _Evaluator:
    """The objective at unit-cube points, with a trace of every evaluation.  ``map``
    evaluates a list of points here or on dask workers (``client``) and records them in
    the order given, so the trace and the results do not depend on where they ran."""

    BAD = _BAD

    def __init__(self, sim, objective, params, *, record=True, stream=0, client=None):
        self.sim, self.obj, self.params = sim, objective, params
        self.lo = np.array([p.lower for p in params])
        self.hi = np.array([p.upper for p in params])
        self.trace_x, self.trace_f, self.trace_stage = [], [], []
        self.stage = 0
        self.record = record
        self.failures = 0
        self.first_failure = None
        self.seconds = 0.0
        self.count = 0
        self.stream = stream   # the common random numbers (0: the fit's)
        self.bar = None
        self.client = client
        self._task = None

    def theta(self, u):
        return self.lo + np.clip(np.asarray(u, float), 0.0, 1.0) * (self.hi - self.lo)

    def _note(self, th, f, seconds, why):
        if why is not None:
            self.failures += 1
            if self.first_failure is None:
                self.first_failure = why
        self.seconds += seconds
        self.count += 1
        if self.record:
            self.trace_x.append(th)
            self.trace_f.append(f)
            self.trace_stage.append(self.stage)
        if self.bar is not None:
            self.bar.update(1)
            if self.trace_f:
                self.bar.set_postfix_str(f"best {min(self.trace_f):.4g}", refresh=False)
        return f

    def __call__(self, u):
        th = self.theta(u)
        return self._note(th, *_evaluate((self.sim, self.obj, self.params, self.stream), th))

    def map(self, func, points):
        """scipy's map-like ``workers``: ``func`` is scipy's wrapper of this evaluator (in
        the unit cube), so the points are evaluated by ``_evaluate`` directly."""
        points = [np.asarray(u, float) for u in points]
        if self.client is None or len(points) < 2:
            return [self(u) for u in points]
        if self._task is None:
            self._task = self.client.scatter((self.sim, self.obj, self.params, self.stream),
                                             broadcast=True, hash=False)
        thetas = [self.theta(u) for u in points]
        futures = self.client.map(_evaluate, [self._task] * len(thetas), thetas, pure=False)
        out = []
        try:
            for th, fut in zip(thetas, futures):
                out.append(self._note(th, *fut.result()))
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()
        return out

    # ---- checkpoints
    def state(self) -> dict:
        return {"x": [list(map(float, x)) for x in self.trace_x], "f": list(self.trace_f),
                "stage": list(self.trace_stage), "failures": self.failures,
                "first_failure": self.first_failure, "seconds": self.seconds,
                "count": self.count}

    def restore(self, s: dict):
        self.trace_x = [np.array(x, float) for x in s["x"]]
        self.trace_f = [float(f) for f in s["f"]]
        self.trace_stage = [int(v) for v in s["stage"]]
        self.failures, self.first_failure = int(s["failures"]), s["first_failure"]
        self.seconds, self.count = float(s["seconds"]), int(s["count"])


def _nelder_mead(fun, u0, maxfev: int, f0: float | None = None, step: float = 0.05):
    """Bounded Nelder-Mead in the unit cube from ``u0``: stops when the simplex is within
    1e-3 of the range and its values within 1e-4 of ``f0`` (the objective near the
    start, so the tolerance suits the objective's scale) or 1e-3."""
    from scipy.optimize import minimize
    P = len(u0)
    fatol = max(1e-3, 1e-4 * abs(f0)) if f0 is not None and math.isfinite(f0) else 1e-3
    res = minimize(fun, np.clip(u0, 0, 1), method="Nelder-Mead", bounds=[(0.0, 1.0)] * P,
                   options={"maxfev": maxfev, "xatol": 1e-3, "fatol": fatol,
                            "initial_simplex": _simplex(np.clip(u0, 0, 1), step)})
    return res.x, float(res.fun)


def _simplex(u0, step):
    P = u0.size
    s = np.tile(u0, (P + 1, 1))
    for j in range(P):
        s[j + 1, j] = u0[j] + step if u0[j] + step <= 1 else u0[j] - step
    return s


# ----------------------------------------------------------------- checkpoints (JSON)
_CHECKPOINT_FORMAT = "thoughtfield-fit-checkpoint"


def _jsonable(v):
    """RNG states (nested dicts with integer arrays) as JSON: arrays become
    ``{"__array__": [...], "dtype": ...}``."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return {"__array__": v.tolist(), "dtype": str(v.dtype)}
    if isinstance(v, np.generic):
        return v.item()
    return v


def _from_json(v):
    if isinstance(v, dict):
        if "__array__" in v:
            return np.array(v["__array__"], dtype=np.dtype(v["dtype"]))
        return {k: _from_json(x) for k, x in v.items()}
    return v


def _rng_state(rng):
    if isinstance(rng, np.random.RandomState):
        return {"legacy": True, "state": _jsonable(rng.get_state(legacy=False))}
    return {"legacy": False, "state": _jsonable(rng.bit_generator.state)}


def _set_rng_state(rng, s):
    if s["legacy"]:
        rng.set_state(_from_json(s["state"]))
    else:
        rng.bit_generator.state = _from_json(s["state"])


def _floats(a):
    return [None if not math.isfinite(v) else float(v) for v in np.ravel(a)]


def _unfloats(a, shape=None):
    out = np.array([np.nan if v is None else v for v in a], float)
    return out.reshape(shape) if shape is not None else out


class _Checkpoint:
    """A fit's progress in a JSON file (no pickle): the differential-evolution population,
    its objective values and random-number state after every generation, the polish's
    result, every finished bootstrap refit and the objective trace.  Written atomically;
    refused for a different fit (its fingerprint: the config, the data, the parameters
    and the settings)."""

    def __init__(self, path, fingerprint: str):
        self.path = os.fspath(path) if path is not None else None
        self.fingerprint = fingerprint
        self.data: dict = {}
        if self.path is None:
            return
        if os.path.isdir(self.path):
            raise ConfigError(f"checkpoint {self.path}: is a folder; give a file name")
        if os.path.exists(self.path):
            import json
            try:
                with open(self.path, encoding="utf-8") as f:
                    d = json.load(f)
            except (OSError, ValueError, UnicodeDecodeError) as e:
                raise ConfigError(f"checkpoint {self.path}: not a readable fit checkpoint "
                                  f"({str(e).splitlines()[0][:80]}); delete it to start "
                                  "over") from None
            if not isinstance(d, dict) or d.get("format") != _CHECKPOINT_FORMAT:
                raise ConfigError(f"checkpoint {self.path}: not a thoughtfield fit checkpoint; "
                                  "give another path")
            if d.get("fingerprint") != fingerprint:
                raise ConfigError(f"checkpoint {self.path}: belongs to a different fit (the "
                                  "config, the data, the parameters or the settings changed); "
                                  "delete it or give another --checkpoint path")
            self.data = d

    def save(self, ev, **parts):
        if self.path is None:
            return
        import json

        from .distributed import _atomic_text
        self.data.update(parts)
        self.data.update(format=_CHECKPOINT_FORMAT, fingerprint=self.fingerprint,
                         trace=ev.state())
        _atomic_text(self.path, json.dumps(self.data, allow_nan=False))


def _fingerprint(cfg, cells, params, settings: dict) -> str:
    import hashlib
    import json
    h = hashlib.sha256()
    h.update(cfg.to_toml().encode())
    for c in cells:
        h.update(repr((c.label, c.overrides)).encode())
        h.update(np.ascontiguousarray(c.choice).tobytes())
        h.update(np.ascontiguousarray(c.rt).tobytes())
    h.update(repr([(p.key, p.lower, p.upper, p.prior) for p in params]).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


# ----------------------------------------------------------------- optimisers
def _differential_evolution(ev, P, *, maxiter, popsize, seed, state=None, on_generation=None):
    """scipy's differential evolution in the unit cube, one generation at a time
    (``updating="deferred"``: every generation's trial population is evaluated through
    ``ev.map``, in parallel where ``ev`` has a dask client, with the same results).

    ``state`` (from ``on_generation(state)``, called after the initial population and
    after every generation) resumes the search where it stopped.  Returns ``(u, f,
    state)``."""
    import warnings

    from scipy.optimize._differentialevolution import DifferentialEvolutionSolver
    with warnings.catch_warnings():
        # a Sobol sample whose size is not a power of 2 loses its balance properties
        warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
        solver = DifferentialEvolutionSolver(ev, [(0.0, 1.0)] * P, maxiter=maxiter,
                                             popsize=popsize, rng=seed, polish=False,
                                             init="sobol", tol=1e-3, updating="deferred",
                                             workers=ev.map)
    with solver:
        if state is not None:
            solver.population = np.array(state["population"], float)
            solver.population_energies = np.array(state["energies"], float)
            _set_rng_state(solver.random_number_generator, state["rng"])
            solver._nfev = int(state["nfev"])
            if state.get("index") is not None:
                # scipy shuffles this index in place to pick the mutation's members
                solver._random_population_index = np.array(state["index"], np.int64)
            gen, done = int(state["generation"]), bool(state["done"])
        else:
            gen, done = 0, False
            # the initial population (as DifferentialEvolutionSolver.solve does)
            solver.feasible, solver.constraint_violation = (
                solver._calculate_population_feasibilities(solver.population))
            solver.population_energies[solver.feasible] = (
                solver._calculate_population_energies(solver.population[solver.feasible]))
            solver._promote_lowest_energy()

        def snapshot():
            return {"generation": gen, "done": bool(done),
                    "population": solver.population.tolist(),
                    "energies": solver.population_energies.tolist(),
                    "rng": _rng_state(solver.random_number_generator),
                    "nfev": int(solver._nfev),
                    "index": (solver._random_population_index.tolist()
                              if hasattr(solver, "_random_population_index") else None)}

        if state is None and on_generation is not None:
            done = maxiter == 0 or solver.converged()
            on_generation(snapshot())
        while not done and gen < maxiter:
            gen += 1
            try:
                next(solver)
            except StopIteration:   # pragma: no cover - maxfun is not set
                done = True
            done = done or gen >= maxiter or solver.converged()
            if on_generation is not None:
                on_generation(snapshot())
        return np.array(solver.population[0]), float(solver.population_energies[0])


def _budget_de(maxiter, popsize, P):
    return (maxiter + 1) * popsize * P


class _Progress:
    """The progress bar in evaluations: before each stage its total becomes the
    evaluations done plus the most the stage and the later ones can take, so it ends at
    exactly 100 % however early the optimisers stop."""

    def __init__(self, bar):
        self.bar = bar

    def plan(self, *budgets):
        if self.bar is not None:
            self.bar.total = self.bar.n + int(sum(budgets))
            self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.plan()
            self.bar.close()


def _client(workers, scheduler, connect_timeout):
    """``(client, cluster)``: a dask client on ``scheduler``, on an embedded LocalCluster
    of ``workers`` processes, or ``(None, None)`` to evaluate in this process."""
    if scheduler is None and (workers is None or workers == 1):
        return None, None
    from .distributed import _need_distributed, connect_scheduler
    if scheduler is not None:
        if workers is not None:
            raise ConfigError("fit: give either workers (a local cluster) or scheduler (an "
                              "existing dask cluster), not both")
        _need_distributed("scheduler")
        return connect_scheduler(scheduler, timeout=connect_timeout), None
    import logging
    _need_distributed("workers")
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def fit(config, data, params, *, objective: str = "g2", quantiles=QUANTILES,
        n_sim: int = 1000, seed: int | None = None, maxiter: int = 40, popsize: int = 10,
        polish: bool = True, bootstrap: int = 0, bootstrap_maxiter: int | None = None,
        min_rt_trials: int = 30, smoothing: float = 0.05, decision: str | None = None,
        ignore=(), overrides=None, progress: bool = False, polish_maxfev: int | None = None,
        workers: int | None = None, scheduler: str | None = None, checkpoint=None,
        connect_timeout: float | None = None):
    """Fit the config values ``params`` to behavioural ``data``.

    Parameters
    ----------
    config : path, TOML text or SimulationConfig
        A config with a choice (``[[choices]]``); a ``[protocol]`` names the conditions.
    data : path (CSV/TSV), pandas DataFrame or mapping of columns
        One row per trial: ``choice`` (an option of the response pool; empty for no
        response), ``rt`` (from the choice's onset, model time units) and the condition
        columns: ``condition`` (the protocol's condition names) and/or config keys
        (``stimuli[0].value``...), see the module documentation.
    params : mapping or list
        ``{"choices[0].rate": (0.5, 3), "ndt": (0, 0.5)}``, ``["model.gain=2:10"]``, or
        ``{"key": {"bounds": (lo, hi), "prior": (mean, sd)}}`` (a normal prior).
    objective : "g2" (default), "qp_chi2" or "kde"
    n_sim : int
        Simulated trials per condition and evaluation.
    seed : int
        The common random numbers of every evaluation and the optimiser's seed (default:
        the config's seed, else 0).
    maxiter, popsize : differential evolution's generations and population (x parameters).
    polish : a Nelder-Mead polish from differential evolution's best point.
    polish_maxfev : the most evaluations of each polish (default 200 x parameters).
    bootstrap : int
        Parametric-bootstrap refits for the 95 % intervals (0: none).
    bootstrap_maxiter : differential-evolution generations of each bootstrap refit
        (default ``maxiter``: every refit repeats the whole fit, global search and polish).
    workers : evaluate each generation's population on an embedded dask LocalCluster of
        this many processes (default: in this process).
    scheduler : the address of an existing dask scheduler to evaluate on instead.
        The results are the same with any number of workers (bit for bit).
    checkpoint : path of a JSON file holding the fit's progress (the population of every
        generation, the polish, each finished bootstrap refit, the trace); an existing
        one of the same fit is resumed, giving the result of an uninterrupted fit.
    overrides : config changes applied before fitting (``--set``).

    Returns
    -------
    xarray.Dataset
        ``estimate``, ``lower``/``upper`` (bootstrap 95 % interval, basic; NaN without
        bootstrap), ``percentile_lower``/``percentile_upper`` (the percentile interval),
        ``bootstrap_estimate(bootstrap, param)``, ``bound_lower``/``bound_upper``;
        ``trace_objective``/``trace_value``/``trace_stage`` over ``evaluation`` (stage 0
        differential evolution, 1 Nelder-Mead); per ``condition``: ``n_trials``,
        ``observed_p``/``fitted_p`` (``response``: the options and ``none``),
        ``observed_q``/``fitted_q`` (``response``, ``quantile``); the trials
        (``trial_condition``, ``trial_choice``, ``trial_rt``) and the simulated trials
        at the estimate (``sim_choice``, ``sim_rt`` over ``condition``, ``sim``: at least
        2000 per condition, as are the fitted proportions and quantiles).
        Attributes: ``objective``, ``objective_value``, ``n_evaluations``, ``wall_time``,
        ``seconds_per_evaluation``, the config text, the seed.
    """
    from .config import load_config
    t_start = _time.perf_counter()
    cfg = load_config(config, overrides=overrides) if not hasattr(config, "with_overrides") \
        else (config.with_overrides(overrides) if overrides else config)
    params = as_params(params)
    n_sim = V.integer("n_sim", n_sim, min=10)
    maxiter = V.integer("maxiter", maxiter, min=0)
    popsize = V.integer("popsize", popsize, min=2)
    bootstrap = V.integer("bootstrap", bootstrap, min=0)
    bmaxiter = maxiter if bootstrap_maxiter is None else \
        V.integer("bootstrap_maxiter", bootstrap_maxiter, min=0)
    if workers is not None:
        workers = V.integer("workers", workers, min=1)
    if seed is None:
        seed = cfg.seed if cfg.seed is not None else 0
    seed = V.integer("seed", seed, min=0)
    d = _decision(cfg, decision)
    options = _options(cfg, d)
    _check_keys(cfg, params)
    df = read_data(data)
    cells = _design(cfg, df, options, ignore=tuple(ignore))
    sim = Simulator(cfg, cells, params, n_sim=n_sim, seed=seed, decision=d)
    obj = Objective(cells, len(options), kind=objective, quantiles=quantiles,
                    min_rt_trials=min_rt_trials, smoothing=smoothing, n_sim=n_sim)
    P = len(params)
    pmax = V.integer("polish_maxfev", polish_maxfev, min=1) if polish_maxfev is not None \
        else 200 * P
    settings = {"objective": obj.kind, "quantiles": obj.quantiles.tolist(), "n_sim": n_sim,
                "seed": seed, "maxiter": maxiter, "popsize": popsize, "polish": bool(polish),
                "polish_maxfev": pmax, "bootstrap_maxiter": bmaxiter,
                "min_rt_trials": obj.min_rt_trials, "smoothing": obj.smoothing, "decision": d}
    ck = _Checkpoint(checkpoint, _fingerprint(cfg, cells, params, settings))
    st = ck.data
    client, cluster = _client(workers, scheduler, connect_timeout)
    ev = _Evaluator(sim, obj, params, client=client)
    if "trace" in st:
        ev.restore(st["trace"])
    # scipy's population: popsize x parameters, at least 5, up to a power of 2 (Sobol)
    n_pop = 1 << math.ceil(math.log2(max(5, popsize * P)))
    de_budget = (maxiter + 1) * n_pop if maxiter > 0 else 1
    refit_budget = ((bmaxiter + 1) * n_pop if bmaxiter > 0 else 1) + (pmax if polish else 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=0, initial=ev.count, unit="eval", desc="fitting", leave=False,
                   **({"disable": None} if progress == "auto" else {}))
        ev.bar = bar
    prog = _Progress(bar)
    boot = np.full((bootstrap, P), np.nan)
    boot_f = np.full(bootstrap, np.nan)
    done_refits = {int(k): v for k, v in st.get("boot", {}).items()}
    try:
        if "start" in st:
            u_best, f_best = np.array(st["start"]["u"], float), float(st["start"]["f"])
        else:
            de = st.get("de")
            prog.plan(de_budget - (de["nfev"] if de else 0), pmax if polish else 0,
                      refit_budget * bootstrap)
            if maxiter > 0:
                u_best, f_best = _differential_evolution(
                    ev, P, maxiter=maxiter, popsize=popsize, seed=seed, state=de,
                    on_generation=lambda s: ck.save(ev, de=s))
            else:
                u_best = np.full(P, 0.5)
                f_best = ev(u_best)
            ck.save(ev, start={"u": u_best.tolist(), "f": float(f_best)})
        if polish and "polished" not in st:
            prog.plan(pmax, refit_budget * bootstrap)
            ev.stage = 1
            u_nm, f_nm = _nelder_mead(ev, u_best, pmax, f_best)
            if f_nm <= f_best:
                u_best, f_best = u_nm, f_nm
            ck.save(ev, polished={"u": u_best.tolist(), "f": float(f_best)})
        elif polish:
            u_best, f_best = np.array(st["polished"]["u"], float), float(st["polished"]["f"])
        theta_hat = ev.theta(u_best)
        if f_best >= _Evaluator.BAD:
            raise ConfigError("fit: every evaluation failed; the first: " + str(ev.first_failure),
                              key='fit')
        if bootstrap:
            n_obs = max(c.choice.size for c in cells)
            bsim = Simulator(cfg, cells, params, n_sim=n_obs, seed=seed, decision=d)
            if bar is not None:
                bar.set_description("bootstrap")
            for b in range(bootstrap):
                if b in done_refits:
                    boot[b] = done_refits[b]["theta"]
                    boot_f[b] = done_refits[b]["f"]
                    continue
                prog.plan(refit_budget * (bootstrap - len(done_refits)))
                boot[b], boot_f[b], bev = _refit(
                    b, bsim, sim, cells, theta_hat, params, options, obj, seed=seed,
                    maxiter=bmaxiter, popsize=popsize, polish=polish, maxfev=pmax,
                    client=client, bar=bar)
                ev.seconds += bev.seconds
                ev.count += bev.count
                ev.failures += bev.failures
                done_refits[b] = {"theta": boot[b].tolist(), "f": float(boot_f[b])}
                ck.save(ev, boot={str(k): v for k, v in done_refits.items()})
    finally:
        prog.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    # the model at the estimate, for the fitted proportions, quantiles and figures: at
    # least 2000 trials per condition (one more evaluation), so they show the model
    # rather than the simulation's noise
    n_pred = max(n_sim, PREDICT_TRIALS)
    ch_hat, rt_hat = sim.simulate(theta_hat, n=n_pred)
    wall = _time.perf_counter() - t_start
    ds = _result(cfg, params, cells, options, obj, ev, theta_hat, f_best, boot, boot_f,
                 ch_hat, rt_hat, wall=wall, seed=seed, n_sim=n_sim, maxiter=maxiter,
                 popsize=popsize, df=df, n_pred=n_pred)
    ds.attrs["bootstrap_maxiter"] = bmaxiter
    return ds


def _refit(b, bsim, sim, cells, theta_hat, params, options, obj, *, seed, maxiter, popsize,
           polish, maxfev, client, bar):
    """Bootstrap refit ``b``: a data set of the observed size simulated at the estimate
    (noise stream ``1 + b``), fitted as the data were (differential evolution from its own
    seed, then the polish) with its own common random numbers (stream
    ``_REFIT_STREAM + b``), so its spread holds the sampling error of the data, the Monte
    Carlo error of the simulated objective and the optimiser's."""
    ch_b, rt_b = bsim.simulate(theta_hat, stream=1 + b)
    bcells = [replace(c, choice=ch_b[k, :c.choice.size], rt=rt_b[k, :c.choice.size])
              for k, c in enumerate(cells)]
    bobj = Objective(bcells, len(options), kind=obj.kind, quantiles=obj.quantiles,
                     min_rt_trials=obj.min_rt_trials, smoothing=obj.smoothing,
                     n_sim=sim.n_sim)
    bev = _Evaluator(sim, bobj, params, record=False, stream=_REFIT_STREAM + b, client=client)
    bev.bar = bar
    P = len(params)
    if maxiter > 0:
        u_b, f_b = _differential_evolution(bev, P, maxiter=maxiter, popsize=popsize,
                                           seed=seed + 1 + b)
    else:
        u_b = np.full(P, 0.5)
        f_b = bev(u_b)
    if polish:
        u_nm, f_nm = _nelder_mead(bev, u_b, maxfev, f_b)
        if f_nm <= f_b:
            u_b, f_b = u_nm, f_nm
    return bev.theta(u_b), f_b, bev


def _check_keys(cfg, params):
    """Every parameter key must be a numeric config value that accepts its bounds."""
    for p in params:
        if p.key == NDT:
            if p.lower < 0:
                raise ConfigError(f"parameter ndt: the non-decision time must be >= 0 "
                                  f"(got lower bound {p.lower:g})")
            continue
        for v in (p.lower, p.upper):
            try:
                cfg.with_overrides({p.key: float(v)})
            except OverrideKeyError as e:   # quoted as the reason of a new error
                raise ConfigError(f"parameter {p.key}: not a config key ({e}); parameters "
                                  "are addressed like --set keys (e.g. choices[0].rate, "
                                  f"model.gain) or are {NDT!r}") from None
            except ConfigError as e:   # quoted as the reason of a new error
                raise ConfigError(f"parameter {p.key}: the bound {v:g} is not a valid value "
                                  f"({e}); narrow the bounds") from None


def _quantiles_of(ch, rt, R, q):
    out = np.full((R + 1, q.size), np.nan)
    for r in range(R):
        t = rt[ch == r]
        if t.size:
            out[r] = np.quantile(t, q)
    return out


def _result(cfg, params, cells, options, obj, ev, theta, f_best, boot, boot_f, ch_hat, rt_hat,
            *, wall, seed, n_sim, maxiter, popsize, df, n_pred):
    import xarray as xr

    from ._version import __version__
    names = [p.key for p in params]
    K, R = len(cells), len(options)
    resp = list(options) + [_NONE]
    q = obj.quantiles
    obs_p = np.zeros((K, R + 1))
    fit_p = np.zeros((K, R + 1))
    obs_q = np.full((K, R + 1, q.size), np.nan)
    fit_q = np.full((K, R + 1, q.size), np.nan)
    for k, c in enumerate(cells):
        for r in range(R):
            obs_p[k, r] = np.mean(c.choice == r)
            fit_p[k, r] = np.mean(ch_hat[k] == r)
        obs_p[k, R] = np.mean(c.choice < 0)
        fit_p[k, R] = np.mean(ch_hat[k] < 0)
        obs_q[k] = _quantiles_of(c.choice, c.rt, R, q)
        fit_q[k] = _quantiles_of(ch_hat[k], rt_hat[k], R, q)
    if boot.shape[0]:
        # the basic bootstrap interval [2 est - q97.5, 2 est - q2.5]: it corrects for a bias
        # of the estimator (that of a finite simulation included), which the percentile
        # interval would double; clipped to the bounds
        lower = np.clip(2 * theta - np.nanpercentile(boot, 97.5, axis=0),
                        [p.lower for p in params], [p.upper for p in params])
        upper = np.clip(2 * theta - np.nanpercentile(boot, 2.5, axis=0),
                        [p.lower for p in params], [p.upper for p in params])
        sd = np.nanstd(boot, axis=0, ddof=1) if boot.shape[0] > 1 else np.full(len(params), np.nan)
        p_lower = np.clip(np.nanpercentile(boot, 2.5, axis=0),
                          [p.lower for p in params], [p.upper for p in params])
        p_upper = np.clip(np.nanpercentile(boot, 97.5, axis=0),
                          [p.lower for p in params], [p.upper for p in params])
    else:
        lower = upper = sd = p_lower = p_upper = np.full(len(params), np.nan)
    n_trial = sum(c.choice.size for c in cells)
    t_cond = np.empty(n_trial, dtype=object)
    t_ch = np.empty(n_trial, dtype=object)
    t_rt = np.empty(n_trial)
    t_row = np.empty(n_trial, np.int64)
    i = 0
    for c in cells:
        m = c.choice.size
        t_cond[i:i + m] = c.label
        t_ch[i:i + m] = [resp[j] for j in c.choice]
        t_rt[i:i + m] = c.rt
        t_row[i:i + m] = c.rows
        i += m
    order = np.argsort(t_row, kind="stable")
    labels = np.array([c.label for c in cells], dtype=object)
    sim_ch = np.array([[resp[j] for j in row] for row in ch_hat], dtype=object)
    tr_x = np.array(ev.trace_x) if ev.trace_x else np.zeros((0, len(params)))
    ds = xr.Dataset(
        {
            "estimate": ("param", theta, {"long_name": "estimate"}),
            "lower": ("param", lower, {"long_name": "parametric-bootstrap 95 % interval (basic), lower end"}),
            "upper": ("param", upper, {"long_name": "parametric-bootstrap 95 % interval (basic), upper end"}),
            "percentile_lower": ("param", p_lower, {"long_name": "parametric-bootstrap 95 % interval (percentile), lower end"}),
            "percentile_upper": ("param", p_upper, {"long_name": "parametric-bootstrap 95 % interval (percentile), upper end"}),
            "bootstrap_sd": ("param", sd, {"long_name": "standard deviation of the bootstrap estimates"}),
            "bound_lower": ("param", [p.lower for p in params]),
            "bound_upper": ("param", [p.upper for p in params]),
            "bootstrap_estimate": (("bootstrap", "param"), boot),
            "bootstrap_objective": (("bootstrap",), boot_f),
            "trace_objective": (("evaluation",), np.array(ev.trace_f, float),
                                {"long_name": f"objective ({obj.kind})"}),
            "trace_value": (("evaluation", "param"), tr_x),
            "trace_stage": (("evaluation",), np.array(ev.trace_stage, np.int8),
                            {"long_name": "0 differential evolution, 1 Nelder-Mead polish"}),
            "n_trials": (("condition",), [c.choice.size for c in cells]),
            "observed_p": (("condition", "response"), obs_p, {"long_name": "observed response proportion"}),
            "fitted_p": (("condition", "response"), fit_p, {"long_name": "simulated response proportion at the estimate"}),
            "observed_q": (("condition", "response", "quantile"), obs_q, {"long_name": "observed RT quantile"}),
            "fitted_q": (("condition", "response", "quantile"), fit_q, {"long_name": "simulated RT quantile at the estimate"}),
            "trial_condition": (("trial",), t_cond[order]),
            "trial_choice": (("trial",), t_ch[order]),
            "trial_rt": (("trial",), t_rt[order], {"long_name": "observed response time (NaN = none)"}),
            "sim_choice": (("condition", "sim"), sim_ch),
            "sim_rt": (("condition", "sim"), rt_hat, {"long_name": "simulated response time at the estimate"}),
        },
        coords={"param": ("param", np.array(names, dtype=object)),
                "condition": ("condition", labels),
                "response": ("response", np.array(resp, dtype=object)),
                "quantile": ("quantile", q),
                "evaluation": ("evaluation", np.arange(len(ev.trace_f))),
                "bootstrap": ("bootstrap", np.arange(boot.shape[0])),
                "trial": ("trial", np.arange(n_trial)),
                "sim": ("sim", np.arange(n_pred))},
    )
    n_eval = len(ev.trace_f)
    ds.attrs = {
        "title": "thoughtfield fit",
        "thoughtfield_result": "fit",
        "thoughtfield_version": __version__,
        "objective": obj.kind,
        "objective_value": float(f_best),
        "n_evaluations": n_eval,
        "failed_evaluations": ev.failures,
        "n_sim": n_sim,
        "seed": seed,
        "maxiter": maxiter,
        "popsize": popsize,
        "smoothing": obj.smoothing,
        "min_rt_trials": obj.min_rt_trials,
        "bootstrap": int(boot.shape[0]),
        "wall_time": round(wall, 3),
        "evaluations_with_bootstrap": ev.count,
        "seconds_per_evaluation": round(ev.seconds / max(1, ev.count), 5),
        "kernel_calls_per_evaluation": len(cells),
        "data": df.attrs.get("name", "data"),
        "config": cfg.text if cfg.text is not None else cfg.to_toml(),
        "config_resolved": cfg.to_toml(),
    }
    if cfg.path:
        ds.attrs["config_path"] = os.path.abspath(cfg.path)
    return ds


# ===================================================================== synthetic data
def simulate_behaviour(config, values=None, n_trials: int = 200, *, seed: int = 0,
                       conditions=None, overrides=None, decision: str | None = None):
    """A synthetic data set (a pandas DataFrame with ``condition``/key columns,
    ``choice`` and ``rt``) of ``n_trials`` per condition, simulated from the config with
    ``values`` (``{"choices[0].rate": 1.5, "ndt": 0.3}``) set.

    ``conditions``: for a protocol, the condition names (default all); otherwise a list of
    ``{key: value}`` mappings (default: the config as it is, one condition)."""
    import pandas as pd

    from .config import load_config
    cfg = load_config(config, overrides=overrides)
    values = dict(values or {})
    params = tuple(FitParam(k, float(v) - 1, float(v) + 1) for k, v in values.items())
    n_trials = V.integer("n_trials", n_trials, min=1)
    d = _decision(cfg, decision)
    options = _options(cfg, d)
    prot = _protocol(cfg)
    empty = np.zeros(0, np.int64)
    if prot is not None:
        names = [c.name for c in prot.conditions] if conditions is None else list(conditions)
        by = {c.name: c for c in prot.conditions}
        for nm in names:
            if nm not in by:
                raise ConfigError(f"conditions: unknown condition {nm!r}" + V.did_you_mean(nm, by),
                                  key='conditions')
        cells = [_Cell(nm, (), by[nm], empty, empty, empty) for nm in names]
    else:
        conditions = [{}] if conditions is None else list(conditions)
        cells = [_Cell(str(k), tuple((str(a), _plain(b)) for a, b in dict(c).items()), None,
                       empty, empty, empty) for k, c in enumerate(conditions)]
    sim = Simulator(cfg, cells, params, n_sim=n_trials, seed=V.integer("seed", seed, min=0),
                    decision=d)
    ch, rt = sim.simulate(np.array(list(values.values()), float))
    rows = []
    for k, c in enumerate(cells):
        for m in range(n_trials):
            row = {}
            if prot is not None:
                row[CONDITION] = c.label
            row.update(dict(c.overrides))
            row[CHOICE] = options[ch[k, m]] if ch[k, m] >= 0 else ""
            row[RT] = round(float(rt[k, m]), 6) if ch[k, m] >= 0 else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)
