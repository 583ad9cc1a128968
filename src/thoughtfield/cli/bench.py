"""``thoughtfield bench``: the benchmark suite (:mod:`thoughtfield.bench`)."""

HELP = "benchmark thoughtfield against its peers on this machine"
DESCRIPTION = """\
Measure, in one run on this machine: the memory-bandwidth bound (STREAM-like copy and
triad), one right-hand-side evaluation at N = 1e3..1e6 (random and scale-free graphs) as
time and fraction of the bound, whole runs at matched accuracy (final state within 1e-6 of
a DOP853 reference) against scipy's solve_ivp (RK45, DOP853, LSODA), a numpy/scipy.sparse
RK4 loop and Brian2 C++ standalone (when installed), discrete spreading against SpreadPy
(when installed), JIT start-up and ensembles.  Writes bench.json (machine description,
versions, every figure) and bench.md (tables) to --out.  The full suite takes about
15-30 minutes; --quick under two.  Speeds depend on what else the machine is doing: the
load average is recorded.  Brian2 may live in another interpreter: set
THOUGHTFIELD_BENCH_BRIAN2_PYTHON to its python."""
EXAMPLES = """\
  thoughtfield bench --quick
  thoughtfield bench --out bench-results
  thoughtfield bench --only bandwidth rhs"""


def add_arguments(p):
    from ..bench import SECTIONS
    p.add_argument("--quick", action="store_true",
                   help="small sizes only (under two minutes)")
    p.add_argument("--out", "-o", default="bench-results", metavar="DIR",
                   help="directory for bench.json and bench.md (default: bench-results)")
    p.add_argument("--only", nargs="+", metavar="SECTION", choices=SECTIONS,
                   help=f"run only these sections ({', '.join(SECTIONS)})")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print progress or tables")


def main(args) -> int:
    from ..bench import run_suite, write
    from ..bench.report import markdown

    def log(msg):
        if not args.quiet:
            print(msg, flush=True)

    res = run_suite(quick=args.quick, only=args.only, log=log,
                    on_section=lambda r: write(r, args.out))
    pj, pm = write(res, args.out)
    log(markdown(res))
    log(f"wrote {pj} and {pm} ({res['wall_s']:.0f} s)")
    return 0
