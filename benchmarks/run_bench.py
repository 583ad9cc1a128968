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
from thoughtfield.bench.report import markdown

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="+", choices=SECTIONS)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--stem", default="latest")
    a = ap.parse_args()
    res = run_suite(quick=a.quick, only=a.only)
    pj, pm = write(res, a.out, stem=a.stem)
    print(markdown(res))
    print(f"wrote {pj} and {pm}")


if __name__ == "__main__":
    main()
