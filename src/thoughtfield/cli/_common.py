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


def refuse_existing(paths, force: bool, replaceable=None, flags=None) -> None:
    """Exit-2 error when an output exists (unless ``force``, or ``replaceable(path)`` says
    it may be replaced) or its folder is not writable.  ``flags`` maps a path to the option
    that names it (``--out`` when it is not listed), for the advice."""
    for path in paths:
        if os.path.isdir(path):
            raise ConfigError(f"{path}: is a folder; give a file name")
        if os.path.exists(path) and not force and not (replaceable and replaceable(path)):
            flag = (flags or {}).get(path, "--out")
            raise ConfigError(f"{path}: exists; pass --force to overwrite it, or {flag} to "
                              "write elsewhere")
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


# ------------------------------------------------------------------ figure provenance
#: What thoughtfield writes into the figures it draws (PNG text chunks, SVG Dublin Core,
#: PDF document information): the program and the result file the figure was drawn from,
#: relative to the figure's folder.  ``thoughtfield plot`` replaces a figure that carries
#: both for the same result (it can draw it again); any other file needs --force.
SOFTWARE = "thoughtfield"
_MAX_SNIFF = 64 * 1024 * 1024


def figure_source(result_path, figure_path) -> str:
    """The result file as recorded in a figure: relative to the figure's folder."""
    folder = os.path.dirname(os.path.abspath(figure_path))
    try:
        rel = os.path.relpath(os.path.abspath(result_path), folder)
    except ValueError:   # another drive (Windows)
        rel = os.path.abspath(result_path)
    return rel.replace(os.sep, "/")


def figure_metadata(path: str, source: str | None) -> dict | None:
    """``savefig(metadata=...)`` naming thoughtfield and ``source`` for ``path``'s format."""
    if source is None:
        return None
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    if ext == "png":
        return {"Software": SOFTWARE, "Source": source}
    if ext == "svg":
        return {"Creator": SOFTWARE, "Source": source}
    if ext == "pdf":
        return {"Creator": SOFTWARE, "Subject": f"Source: {source}"}
    return None


def figure_provenance(path: str) -> dict:
    """``{"software": ..., "source": ...}`` read back from a figure written by
    :func:`write_figure` (empty for any other file, or one that cannot be read)."""
    from xml.sax.saxutils import unescape
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > _MAX_SNIFF:
            return {}
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_text(data)
    if data.startswith(b"%PDF"):
        import re
        cre = re.search(rb"/Creator \(([^)]*)\)", data)
        sub = re.search(rb"/Subject \(Source: ((?:[^)\\]|\\.)*)\)", data)
        out = {}
        if cre:
            out["software"] = cre.group(1).decode("latin-1")
        if sub:
            out["source"] = re.sub(rb"\\(.)", rb"\1", sub.group(1)).decode("latin-1")
        return out
    head = data[:16384].decode("utf-8", "replace")
    if "<svg" in head:
        import re
        out = {}
        for key, tag in (("software", "creator"), ("source", "source")):
            m = re.search(rf"<dc:{tag}>(?:\s*<cc:Agent>\s*<dc:title>)?([^<]*)<", head)
            if m:
                out[key] = unescape(m.group(1).strip())
        return out
    return {}


def _png_text(data: bytes) -> dict:
    import struct
    out = {}
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"tEXt" and b"\0" in body:
            key, _, value = body.partition(b"\0")
            if key in (b"Software", b"Source"):
                out[key.decode().lower()] = value.decode("latin-1")
    return out


def own_figure(result_path):
    """``replaceable(path)`` for :func:`refuse_existing`: true for a figure thoughtfield
    drew from ``result_path`` (it can be drawn again from the result)."""
    def replaceable(path) -> bool:
        info = figure_provenance(path)
        return info.get("software", "").startswith(SOFTWARE) and \
            info.get("source") == figure_source(result_path, path)
    return replaceable


def save_figure(ds, kind: str, path: str, *, dpi: int = 150, source: str | None = None,
                **options) -> str:
    """Draw plot ``kind`` of ``ds`` and write it atomically to ``path`` (recording that
    thoughtfield drew it from the result file ``source``, when given)."""
    import numpy as np

    from ..plots import plot_kinds
    use_agg()
    import matplotlib.pyplot as plt
    axes = plot_kinds()[kind].func(ds, **options)
    fig = np.atleast_1d(np.asarray(axes, dtype=object))[0].figure
    try:
        write_figure(fig, path, dpi=dpi,
                     source=figure_source(source, path) if source is not None else None)
    finally:
        plt.close(fig)
    return path


def write_figure(fig, path: str, *, dpi: int = 150, source: str | None = None) -> str:
    """Write ``fig`` to ``path`` atomically (a temporary file renamed into place; the
    folder is created); a path that cannot be written is a one-line error naming it."""
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1]
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        os.makedirs(folder, exist_ok=True)
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=ext.lstrip(".") or "png",
                    metadata=figure_metadata(path, source))
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
