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
1 a run failure (:class:`~thoughtfield.errors.SimulationError`) with its message, or an
unexpected internal error (one line asking for a report; the traceback only with
``--debug`` or ``THOUGHTFIELD_DEBUG=1``); 130 interrupted (SIGINT), 143 terminated
(SIGTERM) -- a run writes its checkpoint first and says how to ``--resume``.  Messages
are printed with control characters escaped (text from a file cannot drive the
terminal), and a closed standard output (``thoughtfield info RESULT | head``) ends
nothing but the printing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import warnings

#: Command modules, in the order ``thoughtfield --help`` lists them.
COMMANDS = ["run", "sweep", "validate", "plot", "info", "attractors", "explain", "fit", "bench",
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

#: Commands that read configs (they take --allow-files / --allow-any-file).
CONFIG_COMMANDS = ("run", "sweep", "validate", "info", "attractors", "explain", "fit")

#: Set to show the traceback of unexpected errors (as --debug does).
DEBUG_ENV = "THOUGHTFIELD_DEBUG"


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"(run '{self.prog} --help' for usage)\n")


#: Commands added by :func:`register_command`: name -> (module, reads configs).
_ADDED: dict = {}

#: What a command module defines.
_COMMAND_PARTS = ("HELP", "DESCRIPTION", "EXAMPLES", "add_arguments", "main")


def register_command(name: str, module, *, config: bool = False) -> None:
    """Add the command ``thoughtfield NAME`` from ``module`` (a module, or any object with
    ``HELP``, ``DESCRIPTION``, ``EXAMPLES``, ``add_arguments(parser)`` and
    ``main(args) -> int``); ``config=True`` gives it the ``--allow-files`` options of the
    commands that read configs.  It is listed after the built-in commands."""
    missing = [a for a in _COMMAND_PARTS if not hasattr(module, a)]
    if missing:
        raise TypeError(f"register_command: {name!r} lacks {', '.join(missing)} (a command "
                        f"defines {', '.join(_COMMAND_PARTS)})")
    if name in COMMANDS:
        raise ValueError(f"register_command: a command named {name!r} exists already")
    COMMANDS.append(name)
    _ADDED[name] = (module, bool(config))


def unregister_command(name: str) -> None:
    """Remove a command added by :func:`register_command` (built-in commands stay)."""
    if name not in _ADDED:
        raise ValueError(f"unregister_command: {name!r} was not added by register_command")
    del _ADDED[name]
    COMMANDS.remove(name)


def _module(name: str):
    if name in _ADDED:
        return _ADDED[name][0]
    return importlib.import_module(f"{__name__}.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of command ``only`` alone (enough to parse its
    arguments, and a command module's imports are then paid only for the command run:
    ``thoughtfield run`` does not load the benchmark suite)."""
    from .._version import __version__
    parser = _Parser(prog="thoughtfield",
                     description="Simulate thinking as continuous activation dynamics over a "
                                 "network of concepts.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"thoughtfield {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in ([only] if only in COMMANDS else COMMANDS):
        mod = _module(name)
        p = sub.add_parser(name, help=mod.HELP, description=mod.DESCRIPTION,
                           epilog="examples:\n" + mod.EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        if name in CONFIG_COMMANDS or _ADDED.get(name, (None, False))[1]:
            _add_file_arguments(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an unexpected error (also "
                            f"{DEBUG_ENV}=1)")
        p.set_defaults(_module=mod)
    return parser


def _add_file_arguments(p) -> None:
    g = p.add_argument_group("files a config may read")
    g.add_argument("--allow-files", dest="allow_files", action="append", default=[],
                   metavar="FOLDER",
                   help="also let the config read files under FOLDER (repeatable); by default "
                        "a config reads only files under its own folder, symbolic links "
                        "resolved (also THOUGHTFIELD_ALLOW_FILES)")
    g.add_argument("--allow-any-file", dest="allow_any_file", action="store_true",
                   help="let the config read any file (only for configs you trust)")


class _QuietPipe:
    """A text stream that stops writing, silently, once its reader has gone away
    (``BrokenPipeError``), so ``thoughtfield info RESULT | head`` neither prints a
    traceback nor stops the command before its own work (such as writing a result) is
    done."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def _gone(self):
        self.broken = True
        if self._stream is getattr(sys, "__stdout__", None) or \
                self._stream is getattr(sys, "__stderr__", None):
            try:   # the interpreter's last flush must not fail either
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass

    def write(self, text):
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _one_line(message: str) -> str:
    from .._inputs import printable
    return printable(str(message))


def _debug(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


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
    line ``thoughtfield CMD: warning: ...`` (each once: checking a config and building its
    run may both notice the same thing); others as Python prints them."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        from ..errors import ThoughtfieldWarning
        if issubclass(category, ThoughtfieldWarning):
            text = f"{prog}: warning: {_one_line(message)}"
            if text not in seen:
                seen.add(text)
                print(text, file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)
    return show


def main(argv=None) -> int:
    """Entry point of the ``thoughtfield`` console script; returns the exit code."""
    from ..errors import SimulationError, ThoughtfieldError
    tokens = sys.argv[1:] if argv is None else argv
    parser = build_parser(next((a for a in tokens if not a.startswith("-")), None))
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    prog = f"thoughtfield {args.command}"
    args._argv = list(tokens)   # for the --resume hint
    old_streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _QuietPipe(sys.stdout), _QuietPipe(sys.stderr)
    old_env = os.environ.get("THOUGHTFIELD_ALLOW_FILES")
    restore_signals = _catch_signals()
    old_show = warnings.showwarning
    warnings.showwarning = _warning_printer(prog, old_show)
    try:
        if getattr(args, "allow_any_file", False):
            os.environ["THOUGHTFIELD_ALLOW_FILES"] = "*"
        elif getattr(args, "allow_files", None):
            os.environ["THOUGHTFIELD_ALLOW_FILES"] = os.pathsep.join(
                [os.path.abspath(os.path.expanduser(f)) for f in args.allow_files]
                + ([old_env] if old_env and old_env != "*" else []))
        return int(args._module.main(args) or 0)
    except SimulationError as e:
        print(f"{prog}: run failed: {_one_line(e)}", file=sys.stderr)
        return EXIT_FAILURE
    except ThoughtfieldError as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:   # SIGINT, or SIGTERM (see _catch_signals)
        signum = int(getattr(e, "signum", None) or signal.SIGINT)
        msg = str(e) or "interrupted"
        if getattr(e, "checkpoint", None) and args.command == "run":
            from ._common import resume_command
            cmd = resume_command(args)
            msg += "; run the same command with --resume to continue" + (f": {cmd}" if cmd else "")
        print(f"{prog}: {_one_line(msg)}", file=sys.stderr)
        return EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
    except BrokenPipeError:   # a pipe other than stdout/stderr; nothing left to tell
        return EXIT_FAILURE
    except MemoryError:
        if _debug(args):
            raise
        print(f"{prog}: error: out of memory; make the run or file smaller, or lower "
              "THOUGHTFIELD_MAX_MEMORY so that thoughtfield refuses such inputs up front",
              file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:   # the last resort: a bug, reported in one line
        if _debug(args):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {_one_line(e)[:300]} (this is a "
              f"bug in thoughtfield; please report it with the command line; rerun with "
              f"--debug or {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        restore_signals()
        warnings.showwarning = old_show
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = old_streams
        if old_env is None:
            os.environ.pop("THOUGHTFIELD_ALLOW_FILES", None)
        else:
            os.environ["THOUGHTFIELD_ALLOW_FILES"] = old_env
