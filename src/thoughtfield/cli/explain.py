"""``thoughtfield explain``: why a run ended where it did (flows and paths)."""

from __future__ import annotations

HELP = "explain a run: activation carried along each relation and the strongest paths"
DESCRIPTION = """\
Explain a run: for each relation the activation it carried over the run (or a window),
flow = integral of W_ij a_j dt, and the strongest paths from the stimulated concepts to
the target (default: the most active concept at the end that was not stimulated), each
hop with its relation type. Paths are ranked by the product of each hop's share of the
excitatory input of its target ('share') or by their smallest flow ('widest').
RESULT_OR_CONFIG is a result file (.nc) or a config, which is run first (nothing is
written)."""
EXAMPLES = """\
  thoughtfield explain quickstart.nc
  thoughtfield explain simulations/quickstart.toml --target holiday --paths 5
  thoughtfield explain quickstart.nc --window 0 5 --method widest --plot why.png"""


def add_arguments(p):
    from ._common import add_set_argument
    p.add_argument("source", metavar="RESULT_OR_CONFIG", help="result file (.nc) or config (.toml)")
    p.add_argument("--target", "-t", metavar="CONCEPT", default=None,
                   help="the concept to explain (default: the most active non-stimulated one)")
    p.add_argument("--sources", nargs="+", metavar="CONCEPT", default=None,
                   help="where the paths start (default: the stimulated concepts)")
    p.add_argument("--window", nargs=2, type=float, metavar=("START", "END"), default=None,
                   help="time window of the flows (default: the whole run)")
    p.add_argument("--paths", "-k", type=int, default=3, help="number of paths (default 3)")
    p.add_argument("--method", choices=["share", "widest"], default="share",
                   help="path score (default: share)")
    p.add_argument("--flows", type=int, default=10, help="largest flows listed (default 10)")
    p.add_argument("--member", type=int, default=None,
                   help="ensemble member (default: the mean over members)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="also draw the explaining subgraph into FILE (.png, .svg or .pdf)")
    add_set_argument(p)
    p.add_argument("--force", "-f", action="store_true", help="overwrite an existing figure")


def main(args) -> int:
    import os

    from .. import _validate as V
    from ..analysis import explain
    from ..errors import ConfigError
    from ._common import progress_options, refuse_existing
    from .info import _is_result
    n_flows = V.integer("--flows", args.flows, min=0)
    if args.plot:
        ext = os.path.splitext(args.plot)[1].lower().lstrip(".")
        if ext not in ("png", "svg", "pdf"):
            raise ConfigError(f"--plot: {args.plot!r} must end in .png, .svg or .pdf")
        refuse_existing([args.plot], args.force, flags={args.plot: "--plot"})
    if _is_result(args.source):
        if args.sets:
            raise ConfigError("--set: applies to configs; RESULT is an existing result")
        from ..results import load_result
        ds = load_result(args.source)
    else:
        from ..config import load_config
        cfg = load_config(args.source, overrides=args.sets)
        ds = cfg.run_simulation(progress=progress_options(False))
    ex = explain(ds, args.target, sources=args.sources, window=args.window, member=args.member,
                 k=args.paths, method=args.method)
    from .._inputs import printable
    # concept names come from the result file: escape what could drive the terminal
    print("\n".join(printable(line) for line in ex.table(n_flows).split("\n")))
    if args.plot:
        from ._common import use_agg
        use_agg()
        import matplotlib.pyplot as plt

        from ..analysis.plots import plot_explanation
        from ._common import write_figure
        ax = plot_explanation(ex)
        try:
            write_figure(ax.figure, args.plot, dpi=150)
        finally:
            plt.close(ax.figure)
        print(f"wrote {args.plot}")
    return 0
