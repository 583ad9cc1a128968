"""The numbers README.md quotes are the ones the shipped configs give
(``scripts/readme_numbers.py``; ``--write`` updates the README)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("readme_numbers", ROOT / "scripts" / "readme_numbers.py")
rn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rn)


@pytest.fixture(scope="module")
def expected():
    return rn.compute()


def test_every_readme_number_comes_from_the_shipped_configs(expected):
    assert len(expected) == len(rn.SENTENCES) + len(rn.BLOCKS) >= 10
    problems = rn.check((ROOT / "README.md").read_text(), expected)
    assert not problems, ("README numbers drifted; run `python scripts/readme_numbers.py "
                          "--write`:\n" + "\n".join(problems))


def test_a_drifted_number_is_found_and_rewritten(expected):
    text = (ROOT / "README.md").read_text()
    name, (kind, template, values) = next((k, v) for k, v in expected.items() if k == "stroop")
    good = " ".join(template.format(**values).split())
    assert good in " ".join(text.split())
    # the stale numbers: 300 trials, 99.7 %
    stale = text.replace(f"Over {values['n']} noisy", "Over 300 noisy").replace(
        f"monitor on, {values['acc_on']} % of", "monitor on, 99.7 % of")
    assert stale != text
    problems = rn.check(stale, {name: expected[name]})
    assert len(problems) == 1 and "Over 300 noisy trials" in problems[0]
    assert rn.write(stale, {name: expected[name]}) == text


def test_a_block_must_match_line_for_line_except_wall_times(expected):
    text = (ROOT / "README.md").read_text()
    lines = expected["quickstart_summary"][2]
    assert any(rn.WILDCARD.match(line) for line in lines)
    retimed = [("wall time 99.9 s (run 9 s)" if rn.WILDCARD.match(x) else x) for x in lines]
    assert rn._same_lines(retimed, lines)
    sized = [x.replace("wrote quickstart.nc (", "wrote quickstart.nc (1") for x in lines]
    assert not rn._same_lines(sized, lines)
    assert not rn.check(text, {"quickstart_summary": expected["quickstart_summary"]})
