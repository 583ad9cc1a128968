#!/usr/bin/env python
"""Build the bundled WordNet 3.0 network from the WNDB database files.

Usage::

    python scripts/build_wordnet.py [WNDB_DIR] [--out src/thoughtfield/datasets/data]

``WNDB_DIR`` holds ``data.noun`` ... ``index.adv`` and ``lexnames`` (default: the
Princeton WordNet 3.0 files in ``../shared/data/wordnet-3.0/dict``); its parent folder (or
the folder itself) must hold the WordNet ``LICENSE``, which is copied beside the output as
``WORDNET_LICENSE``.  The parsing lives in :mod:`thoughtfield.datasets._wordnet`
(``parse_wndb``) so that ``thoughtfield.datasets.wordnet(path=...)`` reads any WNDB
folder the same way; see that module for names, relation types and layers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "src"))

from thoughtfield.datasets import _wordnet as wn  # noqa: E402

DEFAULT_SRC = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "wordnet-3.0", "dict"))
if not os.path.isdir(DEFAULT_SRC):
    DEFAULT_SRC = "/work/shared/data/wordnet-3.0/dict"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wndb", nargs="?", default=DEFAULT_SRC, help="folder with the WNDB files")
    ap.add_argument("--out", default=wn.DATA_DIR, help="output folder (default: package data)")
    args = ap.parse_args(argv)
    lic = None
    for cand in (os.path.join(args.wndb, "LICENSE"), os.path.join(args.wndb, "..", "LICENSE")):
        if os.path.isfile(cand):
            lic = cand
            break
    if lic is None:
        print(f"error: no WordNet LICENSE next to {args.wndb}; the licence must travel with "
              "the derived files", file=sys.stderr)
        return 2
    t = time.perf_counter()
    arrays = wn.parse_wndb(args.wndb)
    net_path, gloss_path = wn.save_arrays(arrays, args.out)
    shutil.copyfile(lic, os.path.join(args.out, "WORDNET_LICENSE"))
    print(f"parsed {args.wndb} in {time.perf_counter() - t:.1f} s")
    print(f"synsets: {arrays['pos'].size}")
    for r in wn.RELATIONS:
        print(f"  {r:20s} {arrays[f'rel_{r}_src'].size:7d}")
    for p in (net_path, gloss_path):
        print(f"wrote {p} ({os.path.getsize(p) / 2**20:.2f} MiB)")
    print(f"checksum {wn.checksum(arrays)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
