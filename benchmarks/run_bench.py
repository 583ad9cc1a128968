"""Run the benchmark suite and keep its result in benchmarks/results/latest.{json,md}.

    python benchmarks/run_bench.py            # full suite (about 15-30 minutes)
    python benchmarks/run_bench.py --quick    # under two minutes

The suite itself lives in the package (``python -m thoughtfield.bench``) so that it runs
from an installed copy; this script only chooses where the result goes.  Brian2 may live
in another interpreter (``THOUGHTFIELD_BENCH_BRIAN2_PYTHON=/path/to/python``).
"""

import argparse
import os

from thoughtfield.bench import SECTIONS, run_suite, write
from thoughtfield.bench.report import markdown, summary_block

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(res):
    """Replace the block between the bench markers in README.md with the summary."""
    with open(README) as f:
        text = f.read()
    if START not in text or END not in text:
        print("README.md has no bench markers; not updated")
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(README, "w") as f:
        f.write(head + START + "\n" + summary_block(res) + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="+", choices=SECTIONS)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--stem", default="latest")
    ap.add_argument("--no-readme", action="store_true",
                    help="do not update the summary block in README.md")
    a = ap.parse_args()
    res = run_suite(quick=a.quick, only=a.only,
                    on_section=lambda r: write(r, a.out, stem=a.stem + ".partial"))
    pj, pm = write(res, a.out, stem=a.stem)
    print(markdown(res))
    print(f"wrote {pj} and {pm}")
    if not a.no_readme and not a.quick and a.only is None:
        update_readme(res)


if __name__ == "__main__":
    main()
