#!/usr/bin/env python
"""SHA-256 digests of the result files every shipped config produces, to show that a change
that must not change results (a restructuring, a refactoring) did not.

    python scripts/result_digests.py            # compare with scripts/result_digests.json
    python scripts/result_digests.py --write    # record the current digests there
    python scripts/result_digests.py quickstart switch   # only these configs

Each config in ``simulations/`` runs through the command a user types: ``thoughtfield run``
(``thoughtfield sweep`` for a config with a ``[sweep]`` section, on one local worker),
writing ``NAME.nc`` in a temporary folder holding a copy of ``simulations/``; the digest is
of the file's bytes (saving is deterministic: no time stamps, a relative ``config_path``); a config without a
``seed`` runs with ``--set seed=0``, as an unseeded result records the seed it drew.
Exit status 1 lists the configs whose bytes changed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_suffix(".json")


def digest(name: str, folder: Path) -> str:
    from thoughtfield.cli import main
    cfg = folder / "simulations" / f"{name}.toml"
    data = tomllib.loads(cfg.read_text())
    command = "sweep" if "sweep" in data else "run"
    argv = [command, str(cfg.relative_to(folder)), "--out", f"{name}.nc", "--quiet"]
    if "seed" not in data:        # the result records the seed drawn: fix one
        argv += ["--set", "seed=0"]
    if command == "sweep":
        argv += ["--workers", "1"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"thoughtfield {' '.join(argv)} exited {code}:\n{err.getvalue()}")
    return hashlib.sha256((folder / f"{name}.nc").read_bytes()).hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="*", help="config names (default: every shipped config)")
    ap.add_argument("--write", action="store_true", help="record the digests")
    args = ap.parse_args(argv)
    names = args.configs or sorted(p.stem for p in (ROOT / "simulations").glob("*.toml"))
    recorded = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "simulations", folder / "simulations")
        old = os.getcwd()
        os.chdir(folder)
        try:
            for name in names:
                found[name] = digest(name, folder)
                mark = "same" if recorded.get(name) == found[name] else (
                    "new" if name not in recorded else "CHANGED")
                print(f"{name:24s} {found[name][:16]}  {mark}", flush=True)
        finally:
            os.chdir(old)
    if args.write:
        RECORD.write_text(json.dumps({**recorded, **found}, indent=1, sort_keys=True) + "\n")
        return 0
    changed = [n for n in names if recorded.get(n) != found[n]]
    if changed:
        print("changed: " + ", ".join(changed), file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
