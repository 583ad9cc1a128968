"""Config sections of the mechanisms (registered when ``thoughtfield`` is imported).

``[[pools]]``, ``[goals]``, ``[layers]``, ``[adaptation]``, ``[ideas]``, ``[[choices]]``,
``[[controls]]`` become fields of the run's :class:`~thoughtfield.Model` (so
``config.model`` is the complete model); ``[protocol]`` takes over the run (a sequence of
trials).  ``[model]`` gains ``record_potential``.  Sections are registered in dependency
order (pools before the choices and controls that name them, goals before controls that
scale them).
"""

from __future__ import annotations

from dataclasses import replace

from . import mechanisms as M
from ._schema import (REQUIRED, Choice, Field, Int, ListOf, MapOf, OneOf, Real, Section,
                      Str, Struct, is_array, is_number, is_table)
from ._toml import join_path
from .config import (_SECTIONS, _STIMULUS, _build_stimuli, register_section, rekeyed,
                     section)
from .ensemble import MEMBER_PARAMS, _kind, resolve_member_params
from .errors import ConfigError
from .growth import Growth, GrowthRun
from .learning import RULES, LearningRun, RescorlaWagner
from .protocol import Condition, Protocol
from .build import check_protocol

_NAMES = M.Names()


def _set_model(ctx, **fields):
    """Attach a mechanism to the model built by [model]."""
    try:
        ctx.objects["model"] = replace(ctx.objects["model"], **fields)
    except ConfigError as e:
        raise e from None


def _attach(cls, name, field_name=None, array=False):
    """A build hook: table(s) -> description object(s), attached to the model."""
    field_name = field_name or name

    def build(data, ctx):
        if data is None or (array and not data):
            return None
        if array:
            obj = tuple(cls.from_dict(d, f"{name}[{i}]") for i, d in enumerate(data))
        else:
            obj = cls.from_dict(data, name)
        _set_model(ctx, **{field_name: obj})
        return obj
    return build


# ------------------------------------------------------------------ [[pools]]
register_section(Section(
    "pools", M.Pool.struct(validate=lambda d, key: _one_of(d, key, ("concepts", "layer"))),
    array=True,
    doc="Competition pools: named sets of concepts that inhibit each other. `contradicts` "
        "(and any negative) relations between members add to the competition. The pool's "
        "conflict energy `E = -sum_{i != j} w_ij a_i a_j` over its inhibitory weights is "
        "reported as `conflict(time, pool)`.",
    build=_attach(M.Pool, "pools", array=True)), after="stimuli")


def _one_of(d, key, names):
    given = [k for k in names if k in d]
    if len(given) != 1:
        raise ConfigError(f"{key}: give exactly one of {' and '.join(names)}"
                          + (f" (found {' and '.join(given)})" if given else ""), key=key)
    return d


# ------------------------------------------------------------------ [goals]
register_section(Section(
    "goals", M.Goals.struct(),
    doc="Intentionality: goal concepts add a top-down bias `c * gain * (B a)` to the concepts "
        "they favour (`B`: the goal relations).",
    build=_attach(M.Goals, "goals")), after="pools")

# ------------------------------------------------------------------ [layers]
register_section(Section(
    "layers", M.Layers.struct(),
    doc="The abstraction ladder's gains: bottom-up and top-down projections between layers, "
        "and gains inside layers. `thoughtfield.layer_summaries(ds)` gives "
        "`layer_mean(time, level)` and `layer_max(time, level)` of any result "
        "(`[output] layer_summaries = true` stores them).",
    build=_attach(M.Layers, "layers")), after="goals")

# ------------------------------------------------------------------ [adaptation]
register_section(Section(
    "adaptation", M.Adaptation.struct(),
    doc="Slow adaptation (fatigue) `tau_h dh/dt = -h + strength * a`, subtracted from each "
        "concept's input: it destabilises the current idea so the state moves on.",
    build=_attach(M.Adaptation, "adaptation")), after="layers")


# ------------------------------------------------------------------ [ideas]
def _idea_keyed(e: ConfigError, ideas, data) -> ConfigError:
    """``e`` keyed where the config defines the idea it is about: an idea's errors are
    labelled ``idea 'NAME'`` (``Idea.vector``), its key is ``ideas.sets.NAME``,
    ``ideas.patterns.NAME`` or ``ideas.random``."""
    if ideas is None:
        return e
    data = data or {}
    names = [it.name for it in ideas.ideas]
    keys = [join_path("ideas.sets", nm) if nm in (data.get("sets") or {}) else
            join_path("ideas.patterns", nm) if nm in (data.get("patterns") or {}) else
            "ideas.random" for nm in names]
    return rekeyed(e, [f"idea {nm!r}" for nm in names], keys)


def _build_ideas(data, ctx):
    if data is None:
        return None
    items = []
    for nm, members in (data.get("sets") or {}).items():
        items.append(M.Idea(nm, concepts=members))
    for nm, pat in (data.get("patterns") or {}).items():
        items.append(M.Idea(nm, pattern=pat))
    kw = {k: data[k] for k in M.Ideas.struct().fields if k in data}
    if "random" in data:
        r = dict(data["random"])
        rnd = M.Ideas.random(ctx.network, r.pop("count"), **r)
        items += list(rnd.ideas)
    if not items:
        raise ConfigError("ideas: no ideas; give sets = { name = [concepts] }, patterns or random",
                          key='ideas')
    try:
        ideas = M.Ideas(tuple(items), **kw)
    except ConfigError as e:
        raise e.under("ideas") from None
    fields = {"ideas": ideas}
    if "cue" in data:
        model = ctx["model"]
        if not _is_default(model.initial):
            raise ConfigError("ideas.cue: sets the initial state, but model.initial is set too; "
                              "remove one of them", key='ideas.cue')
        c = data["cue"]
        try:
            fields["initial"] = ideas.cue(ctx.network, c["idea"], c["fraction"],
                                          seed=c["seed"], mode=c["mode"])
        except ConfigError as e:
            raise _idea_keyed(e, ideas, data) from None
    _set_model(ctx, **fields)
    return ideas


def _is_default(v):
    return isinstance(v, (int, float)) and v == 0.0


register_section(Section(
    "ideas", Struct({
        "sets": Field(MapOf(_NAMES, key_doc="IDEA"), None, "Ideas as named sets of concepts: "
                      '`{ beach = ["sun", "sea", "sand"] }`.'),
        "patterns": Field(MapOf(OneOf((is_array, ListOf(Real())), (is_table, MapOf(Real())),
                                      what="array of one value per concept, or table concept = value"),
                                key_doc="IDEA"), None,
                          "Ideas as patterns over all concepts (e.g. +-1 or 0/1 values)."),
        "random": Field(Struct({
            "count": Field(Int(min=1, max=100_000), REQUIRED, "How many patterns."),
            "kind": Field(Choice(["pm1", "binary"]), "pm1", "+-1 with equal probability, or 0/1."),
            "sparsity": Field(Real(min=0, max=1), 0.5, "P(1) of binary patterns.", unit="1"),
            "seed": Field(Int(min=0, max=2**63 - 1), 0, "Seed of the patterns."),
            "prefix": Field(Str(name=True), "pattern", "Names: PREFIX0, PREFIX1, ..."),
        }), None, "Random patterns over every concept."),
        **{k: f for k, f in M.Ideas.struct().fields.items()},
        "cue": Field(Struct({
            "idea": Field(Str(name=True), REQUIRED, "The cued idea."),
            "fraction": Field(Real(min=0, max=1), 0.4, "Share of its concepts cued "
                              "(`partial`) or flipped (`flip`).", unit="1"),
            "seed": Field(Int(min=0, max=2**63 - 1), 0, "Which concepts are cued."),
            "mode": Field(Choice(list(M.CUE_MODES)), "partial", "`partial`: the pattern on "
                          "`fraction` of its concepts, 0 elsewhere; `flip`: the whole pattern "
                          "with `fraction` of all concepts flipped (sign of +-1 values, 0 <-> 1 "
                          "otherwise): a noisy cue."),
        }), None, "Start from a cue of an idea (sets the initial state)."),
    }),
    doc="Ideas stored as attractors by a Hebbian outer-product rule "
        "`w_ij += s sum_mu x_i^mu x_j^mu` (`/ N`), zero self-connections. Results gain "
        "`idea_overlap(time, idea)` = x . a / N and `idea_activation(time, idea)` (mean "
        "activation of the members); `thoughtfield run` prints the train of thought.",
    build=_build_ideas), after="adaptation")

# ------------------------------------------------------------------ [[choices]]
register_section(Section(
    "choices", M.Choice.struct(), array=True,
    doc="Choice readouts: the first member of a pool to reach the threshold (on activation or "
        "on an evidence accumulator `de_i/dt = rate (a_i - cmp_i) - leak e_i - inhibition "
        "sum_{j!=i} e_j + noise`). Results gain `choice`, `response_time`, `choice_margin`, "
        "`correct`, `conflict_at_choice` per decision, and for ensembles "
        "`choice_probability`, `accuracy`, `mean_rt`, `rt_quantile`.",
    build=_attach(M.Choice, "choices", array=True)), after="ideas")

# ------------------------------------------------------------------ [[controls]]
register_section(Section(
    "controls", M.Control.struct(), array=True,
    doc="Conflict monitoring and control (Botvinick et al. 2001): the conflict of the monitored "
        "pools raises a control variable that scales the goal bias or drives task concepts. "
        "Results gain `control(time, controller)`.",
    build=_attach(M.Control, "controls", array=True)), after="choices")


# ------------------------------------------------------------------ [[gates]]
register_section(Section(
    "gates", M.Gate.struct(), array=True,
    doc="Gated projections: the relations a gate selects (by type, source and target layer "
        "or concepts) act with their weight times the gate's value -- `value`, or another in "
        "its `intervals` (e.g. closed while a task settles) -- times the output of a gating "
        "`concept` when one is named: `u_i += q(t) [a_c]+ sum_gated W_ij a_j`.",
    build=_attach(M.Gate, "gates", array=True)), after="controls")


# ------------------------------------------------------------------ [plasticity]
register_section(Section(
    "plasticity", M.Plasticity.struct(),
    doc="Plastic relations: the weights of the chosen relation types learn while the dynamics "
        "run, `dw/dt = g * (rate * H - w / tau)` per edge `j -> i`, with `H = a_i a_j` (`hebb`), "
        "`(a_i - m_i)(a_j - m_j)` (`covariance`, running means `m`), `a_i (a_j - a_i w)` "
        "(`oja`) or `a_i (a_i - m_i) a_j` (`bcm`, sliding threshold `m_i` = running mean of "
        "`a_i^2`); `g` is 1 during `[start, stop)` times the `gate` concept's output. Every "
        "solver integrates the weights with the activations; results gain "
        "`weight(time, edge)`.",
    build=_attach(M.Plasticity, "plasticity")), after="gates")


# ------------------------------------------------------------------ checks on the model
def _check_mechanisms(model, ctx):
    if not model.has_mechanisms:
        return
    from .build import check_mechanisms
    run = ctx["run"]
    try:
        check_mechanisms(ctx.network, model, t0=run.t0, t_end=run.t_end, members=run.members)
    except ConfigError as e:
        raise _idea_keyed(e, model.ideas, ctx.data.get("ideas")) from None


_model_section = section("model")
_model_check = _model_section.check


def _check_model_and_mechanisms(model, ctx):
    if _model_check is not None:
        _model_check(model, ctx)
    _check_mechanisms(model, ctx)


_model_section.check = _check_model_and_mechanisms


# ------------------------------------------------------------------ [protocol]
def _build_protocol(data, ctx):
    if data is None:
        return None
    d = dict(data)
    conds = []
    for i, c in enumerate(d.pop("conditions")):
        c = dict(c)
        c["stimuli"] = _build_stimuli(c.get("stimuli") or [], ctx)
        try:
            conds.append(Condition(**c))
        except ConfigError as e:
            raise e.under(f"protocol.conditions[{i}]") from None
    run = ctx["run"]
    if "duration" not in d:
        d["duration"] = run.t_end - run.t0
    if "seed" not in d:
        d["seed"] = ctx.seed if ctx.seed is not None else 0
    common = tuple(ctx.get("stimuli") or ())
    if common:
        conds = [replace(c, stimuli=common + c.stimuli) for c in conds]
    try:
        return Protocol(tuple(conds), **d)
    except ConfigError as e:
        raise e.under("protocol") from None


def _check_protocol(protocol, ctx):
    check_protocol(ctx.network, ctx["model"], protocol)


def _run_protocol(protocol, cfg, progress):
    from .trials import run_protocol   # the engine: numba and xarray, only to run
    run = cfg.run
    return run_protocol(cfg.network, cfg.model, protocol, solver=cfg.solver, members=run.members,
                        seed=cfg.seed, threads=run.threads, progress=progress,
                        learning=cfg.section_object("learning"),
                        growth=cfg.section_object("growth"))


def _protocol_struct() -> Struct:
    """The Protocol's keys; a condition's `stimuli` are [[stimuli]] tables."""
    cond = Condition.struct().fields
    conditions = Struct({"name": cond["name"],
                         "stimuli": Field(ListOf(_STIMULUS), [], "Stimuli, times relative to the "
                                          "trial start (e.g. a settling phase, then the "
                                          "stimulus); [[stimuli]] outside the protocol apply to "
                                          "every trial."),
                         **{k: f for k, f in cond.items() if k != "name"}})
    struct = Protocol.struct()
    f = struct.fields["conditions"]
    struct.fields["conditions"] = Field(ListOf(conditions, min_len=1), f.default, f.doc)
    return struct


register_section(Section(
    "protocol", _protocol_struct(),
    doc="A trial protocol (an experiment): conditions, a trial sequence, what carries over. "
        "It takes over the run; the result has a `trial` dimension (`condition`, `choice`, "
        "`correct`, `response_time`, `conflict_at_response`, `control`), and "
        "`thoughtfield run` prints a summary per condition.",
    build=_build_protocol, check=_check_protocol, runner=_run_protocol),
    # after [members] (which goes right after [run]) whichever registers first
    after="members" if "members" in _SECTIONS else "run")


# ===================================================================== [learning]
_RATE = Real(min=0, max=1, min_inclusive=False)

_LEARNING = Struct({
    "rule": Field(Choice(list(RULES)), "rescorla_wagner", "The learning rule: "
                  "`rescorla_wagner`, the delta rule on the relations from cues to an "
                  "outcome, after every trial."),
    "outcome": Field(Str(name=True), REQUIRED, "The outcome concept (the unconditioned "
                     "stimulus); a trial whose condition stimulates it is reinforced."),
    "type": Field(Str(name=True), "link", "The relation type learned: the relations of "
                  "this type from cues to the outcome (give each its starting weight, 0 "
                  "for a novel cue)."),
    "alpha": Field(OneOf((is_number, _RATE), (is_table, MapOf(_RATE, key_doc='cue / "*"')),
                         what="a number in (0, 1] or a table of cues to numbers"),
                   0.2, "Salience of the cues (a table: per cue, `*` for the others).",
                   unit="1"),
    "beta": Field(_RATE, 1.0, "Learning rate on reinforced trials.", unit="1"),
    "beta_absent": Field(_RATE, None, "Learning rate on trials without the outcome.",
                         unit="1", default_doc="beta"),
    "lambda": Field(Real(), 1.0, "The asymptote the outcome supports.", unit="1"),
})


def _build_learning(d, ctx):
    if d is None:
        return None
    kw = {k: v for k, v in d.items() if k not in ("rule", "lambda")}
    if "lambda" in d:
        kw["lam"] = d["lambda"]
    return RescorlaWagner(**kw)


def _check_learning(rule, ctx):
    protocol = ctx.get("protocol")
    if protocol is None:
        raise ConfigError("learning: needs a [protocol]; the weights change between its "
                          "trials", key='learning')
    LearningRun(ctx.network, protocol, rule)   # checks the outcome, the type, the cues
    plastic = ctx["model"].plasticity
    if plastic is not None and rule.type in plastic.relations:
        raise ConfigError(f"learning.type: {rule.type!r} relations are plastic too "
                          "([plasticity] relations); two rules cannot own one weight -- learn "
                          "them with one of the two", key="learning.type")


register_section(Section(
    "learning", _LEARNING,
    doc="Learning between the trials of a [protocol]: after every trial the weights of the "
        "relations from the cues present to the outcome change by the Rescorla-Wagner rule "
        "`w += alpha * beta * (lambda - V)` (V: the summed weight of the cues present; "
        "lambda: 0 on trials without the outcome), and the next trial runs on them. The "
        "result gains `associative_strength(trial, cue)`, `prediction(trial)` and "
        "`prediction_error(trial)`.",
    build=_build_learning, check=_check_learning), after="protocol")


# ===================================================================== [growth]
def _build_growth(d, ctx):
    return None if d is None else Growth.from_dict(d, "growth")


def _check_growth(growth, ctx):
    if ctx.get("protocol") is None:
        raise ConfigError("growth: needs a [protocol]; the network grows between its trials",
                          key='growth')
    GrowthRun(ctx.network, growth, ctx["run"].members)   # the layer, the types, members
    if ctx["model"].plasticity is not None:
        raise ConfigError("growth: cannot be combined with [plasticity] yet: a grown network "
                          "has other plastic relations than the one the weights were carried "
                          "from; use one of the two", key="growth")


register_section(Section(
    "growth", Growth.struct(),
    doc="Concepts formed by thinking, between the trials of a [protocol]: a set of concepts "
        "that settles together (output >= `threshold` at the trial's end) in `repeats` "
        "trials becomes a new concept, named from its members, in the layer above them and "
        "joined to each; with `link_weight > 0`, concepts that settle together but share no "
        "relation gain one. The next trial runs on the grown network; the result records "
        "what was added and when (`formed_concept(formed)`, `linked_source(linked)`, "
        "`n_concepts(trial)`), and `thoughtfield run --save-network` writes the grown "
        "network.",
    build=_build_growth, check=_check_growth), after="learning")


# ===================================================================== [members]
def _register_members():

    def one(name):
        return Field(ListOf(_kind(name), min_len=1), None,
                     f"One `{name}` per member (each a number, an array with one value per "
                     f"concept, or a table like [{name.rpartition('.')[0] or 'model'}] "
                     f"{name.rpartition('.')[2]}; concepts a table leaves out keep that value).",
                     unit="")

    fields = {name: one(name) for name in MEMBER_PARAMS if "." not in name}
    nested: dict = {}
    for name in MEMBER_PARAMS:
        if "." in name:
            sec, _, par = name.partition(".")
            nested.setdefault(sec, {})[par] = one(name)
    for sec, sub in nested.items():
        fields[sec] = Field(Struct(sub), None, f"Per-member values of [{sec}] parameters: "
                            f"`{sec}.{next(iter(sub))} = [...]`.")

    def build(data, ctx):
        if not data:
            return None
        out = {}
        for k, v in data.items():
            if k in nested:
                out.update({f"{k}.{par}": vals for par, vals in (v or {}).items()
                            if vals is not None})
            elif v is not None:
                out[k] = v
        return out or None

    def check(params, ctx):
        m = ctx["run"].members
        for name, vals in params.items():
            if len(vals) != m:
                raise ConfigError(f"members.{name}: has {len(vals)} value(s) but run.members = "
                                  f"{m}; give one per member", key=f"members.{name}")
        resolved = resolve_member_params(params, ctx.network, ctx["model"], m)
        sol = ctx["solver"]
        stochastic = getattr(sol, "tableau", None) is not None and sol.tableau.stochastic
        if "sigma" in resolved and (resolved["sigma"] > 0).any() and not stochastic:
            raise ConfigError("members.sigma: some members have noise but solver.method = "
                              f"{sol.method!r} is deterministic; use method = \"euler_maruyama\"",
                              key='members.sigma')

    register_section(Section(
        "members", Struct(fields),
        doc="Per-member parameters of an ensemble (`[run] members`): each key lists one "
            "value per member, e.g. `gain = [4.0, 5.0, 6.0, 7.0]` or "
            "`initial = [{ sun = 1.0 }, { sea = 1.0 }]`. Members also differ by their noise "
            "and by stimuli with `member = k`.",
        build=build, check=check,
        apply=lambda params, kw, ctx: kw.update(member_params=params)), after="run")


_register_members()
