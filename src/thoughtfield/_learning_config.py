"""The ``[learning]`` section: a learning rule applied between the trials of a
``[protocol]`` (:mod:`thoughtfield.learning`)."""

from __future__ import annotations

from ._schema import (REQUIRED, Choice, Field, MapOf, OneOf, Real, Section, Str, Struct,
                      is_number, is_table)
from .config import register_section
from .errors import ConfigError
from .learning import RULES, LearningRun, RescorlaWagner

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


def _build(d, ctx):
    if d is None:
        return None
    kw = {k: v for k, v in d.items() if k not in ("rule", "lambda")}
    if "lambda" in d:
        kw["lam"] = d["lambda"]
    return RescorlaWagner(**kw)


def _check(rule, ctx):
    protocol = ctx.get("protocol")
    if protocol is None:
        raise ConfigError("learning: needs a [protocol]; the weights change between its "
                          "trials")
    LearningRun(ctx.network, protocol, rule)   # checks the outcome, the type, the cues


register_section(Section(
    "learning", _LEARNING,
    doc="Learning between the trials of a [protocol]: after every trial the weights of the "
        "relations from the cues present to the outcome change by the Rescorla-Wagner rule "
        "`w += alpha * beta * (lambda - V)` (V: the summed weight of the cues present; "
        "lambda: 0 on trials without the outcome), and the next trial runs on them. The "
        "result gains `associative_strength(trial, cue)`, `prediction(trial)` and "
        "`prediction_error(trial)`.",
    build=_build, check=_check))
