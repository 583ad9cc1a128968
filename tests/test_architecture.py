"""The package's layering (docs/architecture.md) is a contract, checked here with
import-linter: each layer imports only the layers below it, and no module takes part in an
import cycle (imports inside functions count).  The contracts are in pyproject.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "thoughtfield"

importlinter = pytest.importorskip("importlinter", reason="import-linter (the test extra) is "
                                   "needed to check the layering")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_are_kept(capsys):
    from importlinter.cli import lint_imports
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                            no_logo=True)
    finally:
        os.chdir(old)
    out = capsys.readouterr().out
    assert code == 0, "an import breaks the layering:\n" + out[out.find("Broken contracts"):]


def test_every_module_is_in_a_layer():
    """A new top-level module must be placed in a layer, or the contract would not see it."""
    layers = next(c for c in _contracts() if c["id"] == "layers")["layers"]
    named = {m.strip() for line in layers for part in line.split("|") for m in part.split(":")}
    top = {f"thoughtfield.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    top |= {f"thoughtfield.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert top - named == set(), "place these modules in a layer of pyproject.toml"
    assert named - top == set(), "these layers name modules that do not exist"


def test_the_check_is_not_vacuous(tmp_path, capsys):
    """The same checker on this package with two layers swapped (errors above the
    validators, which raise them) reports the import as broken."""
    from importlinter.cli import lint_imports
    cfg = tmp_path / "swapped.toml"
    cfg.write_text('[tool.importlinter]\nroot_package = "thoughtfield"\n\n'
                   '[[tool.importlinter.contracts]]\nname = "swapped"\ntype = "layers"\n'
                   'layers = ["thoughtfield.errors", "thoughtfield._validate"]\n')
    assert lint_imports(config_filename=str(cfg), no_cache=True, no_logo=True) == 1
    out = capsys.readouterr().out
    assert "thoughtfield._validate is not allowed to import thoughtfield.errors" in out
