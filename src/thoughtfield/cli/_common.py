"""Helpers shared by the command modules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ConfigError


def resume_command(args) -> str | None:
    """The command that continues an interrupted ``run`` or ``sweep``: the command line as
    given (quoted for a POSIX shell) with ``--resume`` added; None when unknown."""
    import shlex
    argv = getattr(args, "_argv", None)
    if argv is None:
        return None
    words = [str(w) for w in argv]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(["thoughtfield", *words])


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"  # pragma: no cover


def add_set_argument(parser) -> None:
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="change a config value by its key path, e.g. --set run.t_end=5 "
                             "--set model.tau.sun=0.5 (TOML value; repeatable)")


def figure_paths(result_path: str, kinds, fmt: str) -> list[tuple[str, str]]:
    """``[(kind, path)]``: figures next to the result, named RESULT_KIND.FMT."""
    p = Path(result_path)
    stem = p.with_suffix("") if p.suffix else p
    return [(k, f"{stem}_{k}.{fmt}") for k in kinds]


def refuse_existing(paths, force: bool) -> None:
    """Exit-2 error when an output exists (unless ``force``) or its folder is not writable."""
    for path in paths:
        if os.path.isdir(path):
            raise ConfigError(f"{path}: is a folder; give a file name")
        if os.path.exists(path) and not force:
            raise ConfigError(f"{path}: exists; pass --force to overwrite it")
        folder = os.path.dirname(os.path.abspath(path))
        probe = folder
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
            raise ConfigError(f"{path}: cannot write in {probe}")


def use_agg() -> None:
    """Figures are only written to files: use the non-interactive backend."""
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


def save_figure(ds, kind: str, path: str, *, dpi: int = 150, **options) -> str:
    """Draw plot ``kind`` of ``ds`` and write it atomically to ``path``."""
    import numpy as np

    from ..plots import plot_kinds
    use_agg()
    import matplotlib.pyplot as plt
    axes = plot_kinds()[kind].func(ds, **options)
    fig = np.atleast_1d(np.asarray(axes, dtype=object))[0].figure
    try:
        write_figure(fig, path, dpi=dpi)
    finally:
        plt.close(fig)
    return path


def write_figure(fig, path: str, *, dpi: int = 150) -> str:
    """Write ``fig`` to ``path`` atomically (a temporary file renamed into place; the
    folder is created); a path that cannot be written is a one-line error naming it."""
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1]
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        os.makedirs(folder, exist_ok=True)
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=ext.lstrip(".") or "png")
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot write the figure ({e.strerror or e}); choose a "
                          "path in a folder you can write to") from None
    finally:
        try:
            if os.path.exists(tmp):
                os.unlink(tmp)
        except OSError:
            pass
    return path


def progress_options(quiet: bool):
    """tqdm options for a run: off with --quiet or when stderr is not a terminal; shown
    only once a run has taken more than a second."""
    if quiet or not sys.stderr.isatty():
        return False
    return {"delay": 1.0, "file": sys.stderr}
