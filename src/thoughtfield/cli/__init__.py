"""The ``thoughtfield`` command line.

One module per command under :mod:`thoughtfield.cli`; :data:`COMMANDS` lists them in
help order.  A command module defines

- ``HELP``: one line for the command list;
- ``DESCRIPTION``: the paragraph at the top of ``thoughtfield CMD --help``;
- ``EXAMPLES``: example invocations shown at the end of the help;
- ``add_arguments(parser)``: its argparse arguments;
- ``main(args) -> int``: run it and return the exit code.

Command modules import heavy dependencies inside ``main`` so ``--help`` stays fast.

Exit codes: 0 success; 2 bad input (a :class:`~thoughtfield.errors.ThoughtfieldError`
that is not a run failure, or bad arguments) with a one-line message and no traceback;
1 a run failure (:class:`~thoughtfield.errors.SimulationError`) with its message;
130 interrupted (SIGINT), 143 terminated (SIGTERM) -- a run writes its checkpoint first
and says how to ``--resume``.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import warnings

#: Command modules, in the order ``thoughtfield --help`` lists them.
COMMANDS = ["run", "sweep", "validate", "plot", "info", "attractors", "explain", "bench",
            "compile"]

EXAMPLES = """\
examples:
  thoughtfield run simulations/quickstart.toml --out quickstart.nc --plot
  thoughtfield sweep simulations/choice_sweep.toml --out choice.nc --plot
  thoughtfield validate simulations/quickstart.toml
  thoughtfield plot quickstart.nc --kind heatmap --out heatmap.png
  thoughtfield info quickstart.nc
  thoughtfield bench --quick
  thoughtfield compile

Run 'thoughtfield COMMAND --help' for the options of a command.
The config format is described in docs/config.md."""

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"(run '{self.prog} --help' for usage)\n")


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = _Parser(prog="thoughtfield",
                     description="Simulate thinking as continuous activation dynamics over a "
                                 "network of concepts.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"thoughtfield {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        mod = _module(name)
        p = sub.add_parser(name, help=mod.HELP, description=mod.DESCRIPTION,
                           epilog="examples:\n" + mod.EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def _catch_signals():
    """SIGTERM raises :class:`~thoughtfield.errors.Interrupted` (a KeyboardInterrupt) like
    SIGINT does, so a run stopped either way ends through the same path: a checkpoint, its
    temporary files removed, one line, exit status 128 + the signal (143).  Returns the
    function that puts the previous handler back."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def terminate(signum, frame):
        from ..errors import Interrupted
        raise Interrupted("terminated (SIGTERM)", signum=signum)

    try:
        old = signal.signal(signal.SIGTERM, terminate)
    except (ValueError, OSError):   # pragma: no cover - no signals here
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, old)


def _warning_printer(prog: str, fallback):
    """Warnings of thoughtfield (:class:`~thoughtfield.errors.ThoughtfieldWarning`) as one
    line ``thoughtfield CMD: warning: ...``; others as Python prints them."""
    def show(message, category, filename, lineno, file=None, line=None):
        from ..errors import ThoughtfieldWarning
        if issubclass(category, ThoughtfieldWarning):
            print(f"{prog}: warning: {message}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)
    return show


def main(argv=None) -> int:
    """Entry point of the ``thoughtfield`` console script; returns the exit code."""
    from ..errors import SimulationError, ThoughtfieldError
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    prog = f"thoughtfield {args.command}"
    restore_signals = _catch_signals()
    old_show = warnings.showwarning
    warnings.showwarning = _warning_printer(prog, old_show)
    try:
        return int(args._module.main(args) or 0)
    except SimulationError as e:
        print(f"{prog}: run failed: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except ThoughtfieldError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:   # SIGINT, or SIGTERM (see _catch_signals)
        signum = int(getattr(e, "signum", None) or signal.SIGINT)
        msg = str(e) or "interrupted"
        if getattr(e, "checkpoint", None) and args.command == "run":
            msg += "; run the same command with --resume to continue"
        print(f"{prog}: {msg}", file=sys.stderr)
        return EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
    finally:
        restore_signals()
        warnings.showwarning = old_show
