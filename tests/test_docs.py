"""The documentation runs as written.

Every ```bash and ```python block of README.md and docs/*.md, and every example line of
``thoughtfield --help`` and ``thoughtfield COMMAND --help``, is run here, in a temporary
folder that holds a fresh copy of ``simulations/`` and of ``docs/img/`` (so figures are
written there, never over the repository's, and a command that would refuse to replace a
figure of the checkout fails here too).

- A document's blocks run in order, in one folder, as a reader would type them: the
  Python blocks of one document share one namespace (a later snippet may use ``net`` from
  an earlier one), and ``thoughtfield ...`` commands run through the CLI's ``main`` in
  this process (the same parser and code as the console script, without paying the
  import once per command). A bash line is split on ``&&`` and stops at the first failure,
  like the shell.
- The examples of each ``--help`` text run in order in a folder of their own that starts
  with the result of the README's set-up command (``quickstart.nc``) unless the examples
  write it themselves.
- Commands that cannot run inside a test are listed in ``NOT_RUN`` with the reason and
  the test that covers them instead; the list is checked to hold only lines that exist.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: The README's set-up commands: what precedes ``thoughtfield`` installs the package (CI
#: runs both commands verbatim: tests/test_readme.py); the test command is this suite.
SETUP_PREFIX = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
TEST_COMMAND = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" '
                "&& python -m pytest")

#: Documented commands not run here: the command (as written) -> why, and what covers it.
NOT_RUN = {
    TEST_COMMAND: "the test suite itself (CI runs it verbatim: tests/test_readme.py)",
    "thoughtfield bench --quick": "runs for minutes; tests/test_bench.py runs it (its fixture)",
    "thoughtfield bench --out bench-results": "the full benchmark runs for about an hour; "
                                              "tests/test_bench.py runs --quick",
    "thoughtfield bench --only bandwidth rhs": "runs for minutes; the sections are checked "
                                               "in test_bench_sections_exist below",
    "thoughtfield sweep simulations/choice_sweep.toml --out big.nc --scheduler tcp://10.0.0.5:8786":
        "needs a running dask scheduler at that address; tests/test_distributed.py runs "
        "sweeps on a real scheduler",
    "thoughtfield compile": "the suite compiles once in conftest.compiled_kernels (the same "
                            "function); tests/test_compile_once.py runs the command",
    "thoughtfield compile --quiet": "as above",
}


# --- extraction -----------------------------------------------------------------------

def blocks(path: Path):
    """``(line, language, text)`` of each ```bash / ```python block of a Markdown file."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if m:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            if m.group(1) in ("bash", "python"):
                out.append((i + 1, m.group(1), "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def shell_lines(text: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, comments dropped."""
    text = text.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = _strip_comment(line).strip()
        if line:
            out.append(line)
    return out


def _strip_comment(line: str) -> str:
    """The line without a trailing ``  # comment`` (documented commands quote no ``#``)."""
    cut = line.find(" #")
    return line[:cut] if cut >= 0 else line


def help_examples() -> dict[str, list[str]]:
    """Example command lines of every ``--help`` text (top level and each command)."""
    from thoughtfield.cli import COMMANDS, EXAMPLES, _module
    out = {"thoughtfield": _example_lines(EXAMPLES)}
    for name in COMMANDS:
        out[name] = _example_lines(_module(name).EXAMPLES)
    return out


def _example_lines(text: str) -> list[str]:
    return [_strip_comment(line).strip() for line in text.splitlines()
            if line.strip().startswith("thoughtfield ")]


# --- running --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A folder with a fresh copy of the examples and of the figures."""
    d = tmp_path_factory.mktemp("docs-base")
    shutil.copytree(ROOT / "simulations", d / "simulations")
    # the figures a checkout has: commands must overwrite them on purpose (--force);
    # dated 1970 so that the test can tell which ones a command wrote
    shutil.copytree(ROOT / "docs" / "img", d / "docs" / "img")
    for f in (d / "docs" / "img").iterdir():
        os.utime(f, (0, 0))
    return d


def run_line(line: str, cwd: Path) -> tuple[int, str]:
    """Run one documented command line in ``cwd``: ``thoughtfield`` parts in-process,
    split on ``&&``; returns (exit status, output)."""
    from thoughtfield.cli import main
    if line.startswith(SETUP_PREFIX):
        line = line[len(SETUP_PREFIX):]
    out = io.StringIO()
    for part in line.split("&&"):
        argv = shlex.split(part)
        assert argv[0] == "thoughtfield", f"not a thoughtfield command: {part!r}"
        old = os.getcwd(), os.environ.copy()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = main(argv[1:])
        finally:
            os.chdir(old[0])
            os.environ.clear()
            os.environ.update(old[1])
        if code != 0:
            return code, out.getvalue()
    return 0, out.getvalue()


def run_python(text: str, namespace: dict, cwd: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    old = os.getcwd()
    os.chdir(cwd)
    try:
        # dont_inherit: a snippet runs as a reader types it, without this file's
        # ``from __future__ import annotations`` (which made a dataclass in a snippet fail)
        exec(compile(text, "<snippet>", "exec", dont_inherit=True), namespace)
    finally:
        os.chdir(old)
        plt.close("all")


#: A Python block that starts with this line quotes a file of the repository, abridged with
#: ``...`` lines: its other lines must be the file's own lines, in the same order.
EXCERPT = "# excerpt of "


def check_excerpt(text: str, where: str) -> None:
    first, *lines = text.splitlines()
    path = ROOT / first[len(EXCERPT):].strip()
    assert path.is_file(), f"{where}: the excerpt quotes {path}, which does not exist"
    source = path.read_text().splitlines()
    k = 0
    for line in lines:
        if line.strip() in ("", "..."):
            continue
        while k < len(source) and source[k] != line:
            k += 1
        assert k < len(source), (f"{where}: the excerpt's line {line!r} is not in "
                                 f"{path.relative_to(ROOT)} (or not in this order)")
        k += 1


@contextlib.contextmanager
def registry_restored():
    """Snippets may register config sections, transfers, lowerers, commands, plot kinds and
    summaries (docs/extending.md): undo it afterwards (should a snippet fail before it
    removes its entries).  The built-in extension modules are loaded
    first: loaded lazily inside a snippet (once per process), their sections would be undone
    with it and never come back (the help examples that run after then failed with
    "unknown section 'sweep'" whenever README.md's blocks, which happened to load them
    first, were deselected)."""
    from thoughtfield import _extensions, build, cli, config, plots, summary, transfers
    _extensions.load()
    saved = dict(config._SECTIONS)
    kinds, lines, lowerers = dict(plots.PLOTS), list(summary.SUMMARIES), list(build.LOWERERS)
    fs, commands, added = dict(transfers.REGISTRY), list(cli.COMMANDS), dict(cli._ADDED)
    try:
        yield
    finally:
        transfers.REGISTRY.clear()
        transfers.REGISTRY.update(fs)
        cli.COMMANDS[:] = commands
        cli._ADDED.clear()
        cli._ADDED.update(added)
        config._SECTIONS.clear()
        config._SECTIONS.update(saved)
        plots.PLOTS.clear()
        plots.PLOTS.update(kinds)
        summary.SUMMARIES[:] = lines
        build.LOWERERS[:] = lowerers


def _doc_ids():
    return [p.relative_to(ROOT).as_posix() for p in DOCS]


#: The slowest cases (tens of seconds each): ``pytest -m "not slow"`` skips them.
SLOW_DOCS = ("README.md",)
SLOW_HELP = ("sweep", "plot")


def _slow_if(value, slow: bool):
    return pytest.param(value, marks=pytest.mark.slow) if slow else value


@pytest.mark.parametrize("doc", [_slow_if(d, d.name in SLOW_DOCS and d.parent == ROOT)
                                 for d in DOCS], ids=_doc_ids())
def test_every_block_of_the_document_runs(doc, base, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(base, work)
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for lineno, lang, text in blocks(doc):
        where = f"{doc.name}:{lineno}"
        if lang == "python" and text.startswith(EXCERPT):
            check_excerpt(text, where)
            ran += 1
            continue
        if lang == "python":
            with registry_restored():
                try:
                    run_python(text, namespace, work)
                except Exception as e:  # noqa: BLE001 - reported with the block's place
                    pytest.fail(f"{where}: the Python block raised {type(e).__name__}: {e}")
            ran += 1
            continue
        for line in shell_lines(text):
            if line in NOT_RUN:
                continue
            code, out = run_line(line, work)
            assert code == 0, f"{where}: `{line}` exited {code}:\n{out[-3000:]}"
            ran += 1
    if doc.name == "README.md":
        # the figures the README shows were written by its commands
        shown = set(re.findall(r"\]\((docs/img/[^)]+\.png)\)", doc.read_text()))
        missing = sorted(p for p in shown if (work / p).stat().st_mtime == 0)
        assert not missing, f"README figures no command wrote: {missing}"
        assert ran >= 15


HELP_COMMANDS = ["thoughtfield", "run", "sweep", "validate", "plot", "info", "attractors",
                 "explain", "fit", "bench", "compile"]


@pytest.mark.parametrize("command", [_slow_if(c, c in SLOW_HELP) for c in HELP_COMMANDS])
def test_every_help_example_runs(command, base, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(base, work)
    lines = help_examples()[command]
    assert lines, f"`{command} --help` has no examples"
    if not any("--out quickstart.nc" in line for line in lines):
        code, out = run_line("thoughtfield run simulations/quickstart.toml --out quickstart.nc "
                             "--quiet", work)
        assert code == 0, out
    for line in lines:
        if line in NOT_RUN:
            continue
        code, out = run_line(line, work)
        assert code == 0, f"`{command} --help`: `{line}` exited {code}:\n{out[-3000:]}"


def test_the_help_commands_cover_every_command():
    from thoughtfield.cli import COMMANDS
    assert set(HELP_COMMANDS) == {"thoughtfield", *COMMANDS}


def test_not_run_lists_only_documented_commands():
    documented = set()
    for doc in DOCS:
        for _, lang, text in blocks(doc):
            if lang == "bash":
                documented.update(shell_lines(text))
    for lines in help_examples().values():
        documented.update(lines)
    stale = [c for c in NOT_RUN if c not in documented]
    assert not stale, f"NOT_RUN lists commands no document shows: {stale}"


def test_bench_sections_exist():
    from thoughtfield.bench import SECTIONS
    for line in [c for c in NOT_RUN if c.startswith("thoughtfield bench --only")]:
        for section in shlex.split(line)[3:]:
            assert section in SECTIONS


def test_the_extraction_sees_the_blocks():
    readme = blocks(ROOT / "README.md")
    langs = [lang for _, lang, _ in readme]
    assert langs.count("bash") >= 12 and langs.count("python") >= 6
    assert shell_lines("thoughtfield run a.toml \\\n  --quiet   # a comment\n\n") == [
        "thoughtfield run a.toml    --quiet"]
    assert _example_lines("  thoughtfield plot x.nc --out y.png   # why\n  other\n") == [
        "thoughtfield plot x.nc --out y.png"]


def test_an_excerpt_that_drifted_from_its_file_fails():
    good = EXCERPT + "tests/test_docs.py\nimport contextlib\n...\nimport shlex\n"
    check_excerpt(good, "here")
    with pytest.raises(AssertionError, match="not in this order"):
        check_excerpt(EXCERPT + "tests/test_docs.py\nimport shlex\nimport contextlib\n", "here")
    with pytest.raises(AssertionError, match="does not exist"):
        check_excerpt(EXCERPT + "tests/nothing.py\nx = 1\n", "here")
