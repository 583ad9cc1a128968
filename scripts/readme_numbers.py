#!/usr/bin/env python
"""The numbers README.md quotes, recomputed from the shipped configs in ``simulations/``.

    python scripts/readme_numbers.py            # check: exit 1 and list what drifted
    python scripts/readme_numbers.py --write    # put the computed numbers into README.md

Two kinds of claim:

- a *sentence*: a template of a README sentence with ``{placeholders}``; the function
  next to it runs the shipped config(s) and returns the values, formatted as the README
  prints them. The README must contain the sentence with exactly these values (line breaks
  and spaces do not matter); ``--write`` replaces the old values in place.
- a *block*: a ```text block of the README that quotes what a documented command prints.
  The command runs (in a temporary folder holding a copy of ``simulations/``) and the
  block must be the same lines, except wall-clock times (``wall time ...``), which no run
  reproduces; ``--write`` puts the new output there, times included.

Benchmark figures are not here: ``benchmarks/run_bench.py`` writes those (between the
``bench:start``/``bench:end`` markers). ``tests/test_readme_numbers.py`` runs the check.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

SENTENCES: list[tuple[str, str, callable]] = []   # (name, template, compute)
BLOCKS: list[tuple[str, str, str, callable]] = []  # (name, text in the first line, command, select)
WILDCARD = re.compile(r"^wall time ")              # lines that differ from run to run


def sentence(template: str):
    def register(fn):
        SENTENCES.append((fn.__name__, template, fn))
        return fn
    return register


def block(first: str, command: str):
    def register(fn):
        BLOCKS.append((fn.__name__, first, command, fn))
        return fn
    return register


# --- formatting ---------------------------------------------------------------------------

def pct(x) -> str:
    """A proportion as a whole percentage."""
    return f"{100 * float(x):.0f}"


def g3(x) -> str:
    x = float(x)
    return f"{x:.0e}" if 0 < abs(x) < 1e-3 else f"{x:.3g}"


def f2(x) -> str:
    return f"{float(x):.2f}"


def up2(x) -> str:
    """An upper bound with two decimals (rounded up)."""
    return f"{math.ceil(float(x) * 100 - 1e-9) / 100:.2f}"


def listing(values, fmt) -> str:
    return ", ".join(fmt(v) for v in values)


# --- running the shipped configs ----------------------------------------------------------

def sim(name: str) -> Path:
    return ROOT / "simulations" / name


def run(name: str, **overrides):
    import thoughtfield as tf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tf.run_config(tf.load_config(sim(name), overrides=overrides or None))


def config(name: str, **overrides):
    import thoughtfield as tf
    return tf.load_config(sim(name), overrides=overrides or None)


# --- the sentences ------------------------------------------------------------------------

@sentence("With {members} trials per point and noise {noise} the favoured option's "
          "probability climbs {probs} over goal gains {gains}, and its mean response time "
          "falls from {rt0} to {rt1}.")
def goal_choice_sweep():
    import thoughtfield as tf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = tf.sweep(str(sim("goal_choice_sweep.toml")))
    r = tf.readout(ds)
    noise = float(r.noise[0])
    p = r.probability.sel(noise=noise, option="left")
    rt = r.mean_rt.sel(noise=noise)
    return dict(members=config("goal_choice_sweep.toml").run.members, noise=f"{noise:g}",
                probs=listing(p.values, f2), gains=listing(r.goal_gain.values, lambda v: f"{v:g}"),
                rt0=f"{float(rt[0]):.1f}", rt1=f"{float(rt[-1]):.1f}")


@sentence("With the goal *relax* held on the cue ends in *beach* ({beach} vs {sailing}), "
          "with *sport* in *sailing*; without a goal (`goals.gain = 0`) the two stay tied at "
          "{tie} (difference {diff}).")
def goals():
    end = run("goals.toml").activation.isel(time=-1)
    relax = end.sel(trial=0)
    assert str(run("goals.toml").condition.values[0]) == "relax"
    off = run("goals.toml", **{"goals.gain": 0.0}).activation.isel(time=-1).sel(trial=0)
    b, s = float(off.sel(concept="beach")), float(off.sel(concept="sailing"))
    return dict(beach=g3(relax.sel(concept="beach")), sailing=g3(relax.sel(concept="sailing")),
                tie=f2(b), diff=f"{abs(b - s):.1g}")


@sentence("The example is Usher & McClelland's (2001) leaky competing accumulator with inputs "
          "{inputs}: of {n} noisy runs {p0} % choose the strongest option, {p1} % and {p2} % "
          "the others, mean response time {rt}.")
def choice_lca():
    cfg = config("choice_lca.toml")
    ds = run("choice_lca.toml")
    p = ds.choice_probability.isel(decision=0).values
    values = [s.value for s in cfg.stimuli]
    inputs = ", ".join(f"{v:g}" for v in values[:-1]) + f" and {values[-1]:g}"
    return dict(inputs=inputs, n=cfg.run.members, p0=pct(p[0]), p1=pct(p[1]), p2=pct(p[2]),
                rt=f2(ds.mean_rt.values.ravel()[0]))


@sentence("green ink with the word RED activates both responses, conflict peaks at {peak} "
          "({congruent} on a congruent trial) and control rises from {c0} to {c1}. Over {n} "
          "noisy trials with the monitor on, {acc_on} % of the responses are correct with mean "
          "response time {rt_on}; with it off (`--set controls[0].sensitivity=0`) {acc_off} % "
          "are correct, {none_off} % give no response within {window:g} time units, and the mean "
          "response time is {rt_off}.")
def stroop():
    cfg = config("stroop_control.toml")
    on = run("stroop_control.toml")
    cong = run("stroop_control.toml", **{"stimuli[1].concept": "word_green"})
    off = run("stroop_control.toml", **{"controls[0].sensitivity": 0.0})
    conflict = on.conflict.mean("member").sel(pool="response")
    control = on.control.mean("member").isel(controller=0)
    return dict(peak=g3(conflict.max()),
                congruent=g3(cong.conflict.mean("member").sel(pool="response").max()),
                c0=f"{float(control.isel(time=0)):.3g}", c1=f"{float(control.max()):.3g}",
                n=cfg.run.members, acc_on=pct(on.accuracy.values.ravel()[0]),
                rt_on=f2(on.mean_rt.values.ravel()[0]),
                acc_off=pct(off.accuracy.values.ravel()[0]),
                none_off=pct(off.undecided_fraction.values.ravel()[0]),
                window=cfg.run.t_end - cfg.section_object("choices")[0].onset,
                rt_off=f2(off.mean_rt.values.ravel()[0]))


def _cdm():
    """Mean response times of simulations/stroop_cdm.toml in cycles (0.1 time units) per
    (task, level), and the least-squares line onto Dunbar & MacLeod's (1984) means."""
    import numpy as np
    import thoughtfield as tf
    s = tf.trial_summary(run("stroop_cdm.toml"))
    levels = ("congruent", "control", "conflict")
    cyc = np.array([float(s.mean_rt.sel(condition=f"{t}/{lev}")) / 0.1
                    for t in ("colour", "word") for lev in levels])
    human = np.array([590.0, 656.0, 856.0, 500.0, 496.0, 518.0])
    slope, icpt = np.polyfit(cyc, human, 1)
    pred = icpt + slope * cyc
    r2 = 1 - ((human - pred) ** 2).sum() / ((human - human.mean()) ** 2).sum()
    return cyc, slope, icpt, r2, pred


@sentence("In {members} noisy trials per condition, colour naming takes {cc} / {cn} / {cx} "
          "cycles (congruent / control / conflict) and word reading {wc} / {wn} / {wx}. A "
          "least-squares line through the six means and Dunbar & MacLeod's (1984) data, "
          "`RT = {slope} ms x cycles + {icpt} ms` (R^2 = {r2}), gives")
def stroop_cdm():
    cyc, slope, icpt, r2, _ = _cdm()
    f1 = [f"{c:.1f}" for c in cyc]
    return dict(members=config("stroop_cdm.toml").run.members, cc=f1[0], cn=f1[1], cx=f1[2],
                wc=f1[3], wn=f1[4], wx=f1[5], slope=f"{slope:.1f}", icpt=f"{icpt:.0f}",
                r2=f"{r2:.3f}")


@sentence("| model | {pc} | {pn} | {px} | {qc} | {qn} | {qx} |")
def stroop_cdm_ms():
    _, _, _, _, pred = _cdm()
    p = [f"{v:.0f}" for v in pred]
    return dict(pc=p[0], pn=p[1], px=p[2], qc=p[3], qn=p[4], qx=p[5])


@sentence("interference on colour naming ({int_ms} ms) is larger than facilitation ({fac_ms} ms; "
          "data 200 and 66), and the word suffers little from the colour ({wint_ms} ms; data 22).")
def stroop_cdm_effects():
    cyc, slope, _, _, _ = _cdm()
    return dict(int_ms=f"{slope * (cyc[2] - cyc[1]):.0f}",
                fac_ms=f"{slope * (cyc[1] - cyc[0]):.0f}",
                wint_ms=f"{slope * (cyc[5] - cyc[4]):.0f}")


@sentence("Over {n} colour-naming trials, congruent and incongruent in a seeded order, control "
          "starts at {c_cong} on average after a congruent trial and {c_inc} after an "
          "incongruent one, and an incongruent trial takes {ii} cycles after an incongruent "
          "trial and {ci} after a congruent one (congruent: {ic} and {cc2}): the Gratton "
          "effect, interference shrinking from {int_c} to {int_i} cycles after conflict.")
def botvinick2001():
    import thoughtfield as tf
    cfg = config("botvinick2001.toml")
    s = tf.trial_summary(run("botvinick2001.toml"), by_previous=True)
    rt = s.mean_rt.to_pandas() / 0.01
    ctl = s.control.to_pandas()
    ii, ci = rt.loc["incongruent", "incongruent"], rt.loc["congruent", "incongruent"]
    ic, cc = rt.loc["incongruent", "congruent"], rt.loc["congruent", "congruent"]
    return dict(n=cfg.section_object("protocol").n_trials,
                c_cong=f2(ctl.loc["congruent"].mean()), c_inc=f2(ctl.loc["incongruent"].mean()),
                ii=f"{ii:.1f}", ci=f"{ci:.1f}", ic=f"{ic:.1f}", cc2=f"{cc:.1f}",
                int_c=f"{ci - cc:.1f}", int_i=f"{ii - ic:.1f}")


@sentence("In the example ({trials} trials, {members} simulated participants) an incongruent "
          "trial after an incongruent one takes {rt_ii} and is right {acc_ii} % of the time; "
          "after a congruent one it takes {rt_ci} and is right {acc_ci} % of the time")
def conflict_adaptation():
    import thoughtfield as tf
    cfg = config("conflict_adaptation.toml")
    s = tf.trial_summary(run("conflict_adaptation.toml"), by_previous=True)
    ii = s.sel(previous="incongruent", condition="incongruent")
    ci = s.sel(previous="congruent", condition="incongruent")
    return dict(trials=cfg.section_object("protocol").n_trials, members=cfg.run.members,
                rt_ii=f2(ii.mean_rt), acc_ii=pct(ii.accuracy),
                rt_ci=f2(ci.mean_rt), acc_ci=pct(ci.accuracy))


@sentence("The example stores {count} random ±1 patterns in {n} concepts and starts from "
          "{cue} % of pattern 0: the overlap climbs from {o0} to {o1} while the others stay "
          "below {others}.")
def hopfield():
    import numpy as np
    cfg = config("hopfield_completion.toml")
    ds = run("hopfield_completion.toml")
    ov = ds.idea_overlap
    target = ov.sel(idea="pattern0")
    others = ov.drop_sel(idea="pattern0")
    ideas = cfg.data["ideas"]
    return dict(count=ideas["random"]["count"], n=f"{ds.sizes['concept']:,}",
                cue=pct(ideas["cue"]["fraction"]), o0=f2(target.isel(time=0)),
                o1=f"{float(target.isel(time=-1)):.3f}",
                others=up2(np.abs(others.values).max()))


@sentence("In the example, thunder and lightning are stimulated together until t = {stop}, when "
          "learning stops: their association grows from 0 towards `rate * tau` = {limit} ({w} at "
          "t = {stop}), and the unused sun -- beach association fades from {sb0} to {sb1}.")
def learn_association():
    pl = config("learn_association.toml").model.plasticity
    w = run("learn_association.toml").weight
    pair = w.sel(edge="thunder->lightning", time=pl.stop)
    sb = w.sel(edge="sun->beach")
    return dict(stop=f"{pl.stop:g}", limit=f"{pl.rate * pl.tau:g}", w=f2(pair),
                sb0=f"{float(sb.isel(time=0)):g}", sb1=f2(sb.sel(time=pl.stop)))


# --- the blocks ---------------------------------------------------------------------------

@block("quickstart: ", "thoughtfield run simulations/quickstart.toml --out quickstart.nc --plot")
def quickstart_summary(lines):
    return lines


@block("train of thought: ", "thoughtfield run simulations/train_of_thought.toml --out train.nc")
def train_of_thought(lines):
    k = next(i for i, line in enumerate(lines) if line.startswith("train of thought: "))
    return lines[k:k + 2]


@block("fixed point(s) from", "thoughtfield attractors simulations/holiday_ideas.toml --out "
       "holiday_attractors.nc")
def holiday_attractors(lines):
    return [line for line in lines if not line.startswith("wrote ")]


@block("why 'relax'", "thoughtfield explain simulations/quickstart.toml --target relax --window "
       "0 15 --paths 4 --flows 0")
def explain_relax(lines):
    return lines


# --- checking and writing -----------------------------------------------------------------

def _pattern(template: str) -> re.Pattern:
    """The template as a regex: placeholders are groups, any whitespace matches any."""
    parts = re.split(r"(\{\w+(?::[^}]*)?\})", template)
    out = []
    for p in parts:
        if re.fullmatch(r"\{\w+(?::[^}]*)?\}", p):
            out.append(r"([^`]{1,60}?)")        # a value: short, never across a code span
        else:
            lit = r"\s+".join(re.escape(w) for w in p.split()) if p.strip() else ""
            if lit.startswith(r"\."):           # "... to {rt}." must not stop at "4.1"
                lit = r"\.(?!\d)" + lit[2:]
            out.append(lit)
            if p[:1].isspace():
                out[-1] = r"\s+" + out[-1]
            if p[-1:].isspace() and p.strip():
                out[-1] += r"\s+"
    return re.compile("".join(out), re.S)


def _values(template: str, values: dict) -> list[str]:
    return [format(values[m.group(1)], m.group(2) or "")
            for m in re.finditer(r"\{(\w+)(?::([^}]*))?\}", template)]


def _text_blocks(text: str):
    """(start, end, lines) of every ```text block."""
    for m in re.finditer(r"^```text\n(.*?)^```", text, flags=re.S | re.M):
        yield m.start(1), m.end(1), m.group(1).rstrip("\n").split("\n")


def _run_command(command: str, work: Path) -> list[str]:
    """Run a documented command as a user does (a new process), return its stdout lines."""
    import subprocess
    argv = [sys.executable, "-m", "thoughtfield", *shlex.split(command)[1:]]
    # this checkout's code, whatever is installed (a relative PYTHONPATH=src would not
    # reach it from the temporary folder)
    path = os.environ.get("PYTHONPATH", "")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + (os.pathsep + path if path else ""))
    r = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=600, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"`{command}` exited {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout.rstrip("\n").split("\n")


def compute(only=None) -> dict:
    """Every claim's expected text: name -> (kind, template or prefix, values or lines)."""
    out = {}
    for name, template, fn in SENTENCES:
        if only is None or name in only:
            out[name] = ("sentence", template, fn())
    work = Path(tempfile.mkdtemp(prefix="readme-numbers-"))
    try:
        shutil.copytree(ROOT / "simulations", work / "simulations")
        for name, first, command, select in BLOCKS:
            if only is None or name in only:
                out[name] = ("block", first, select(_run_command(command, work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def check(text: str, expected: dict) -> list[str]:
    """What in ``text`` differs from the computed claims (empty when all agree)."""
    problems = []
    flat = " ".join(text.split())
    for name, (kind, key, got) in expected.items():
        if kind == "sentence":
            want = " ".join(key.format(**got).split())
            if want not in flat:
                m = _pattern(key).search(text)
                now = " ".join(m.group(0).split()) if m else "(no such sentence)"
                problems.append(f"{name}: README says\n    {now}\n  the configs give\n    {want}")
        else:
            found = [lines for _, _, lines in _text_blocks(text) if key in lines[0]]
            if len(found) != 1:
                problems.append(f"{name}: expected one text block starting {key!r}, "
                                f"found {len(found)}")
                continue
            if not _same_lines(found[0], got):
                problems.append(f"{name}: README block\n    " + "\n    ".join(found[0])
                                + "\n  the command prints\n    " + "\n    ".join(got))
    return problems


def _same_lines(readme: list[str], output: list[str]) -> bool:
    return len(readme) == len(output) and all(
        a == b or (WILDCARD.match(a) and WILDCARD.match(b)) for a, b in zip(readme, output))


def write(text: str, expected: dict) -> str:
    for name, (kind, key, got) in expected.items():
        if kind == "sentence":
            m = _pattern(key).search(text)
            if m is None:
                raise SystemExit(f"{name}: the README has no sentence like {key!r}")
            new = _values(key, got)
            for k in range(len(new), 0, -1):     # right to left: spans stay valid
                if " ".join(m.group(k).split()) != new[k - 1]:   # keep line breaks if equal
                    text = text[:m.start(k)] + new[k - 1] + text[m.end(k):]
        else:
            for start, end, lines in _text_blocks(text):
                if key in lines[0]:
                    text = text[:start] + "\n".join(got) + "\n" + text[end:]
                    break
            else:
                raise SystemExit(f"{name}: the README has no text block starting {key!r}")
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--write", action="store_true", help="rewrite the numbers in README.md")
    p.add_argument("--only", nargs="+", metavar="CLAIM", help="only these claims")
    args = p.parse_args(argv)
    expected = compute(args.only)
    text = README.read_text()
    if args.write:
        new = write(text, expected)
        README.write_text(new)
        print(f"README.md: {len(expected)} claims written" + (" (changed)" if new != text else ""))
        return 0
    problems = check(text, expected)
    for prob in problems:
        print(prob, file=sys.stderr)
    print(f"{len(expected) - len(problems)} of {len(expected)} README claims agree with the "
          "shipped configs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
