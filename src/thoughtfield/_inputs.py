"""Guards for files and data that may come from strangers.

Configs, network files and result files are data, never code, and they may be hostile:
this module keeps reading them bounded and their contents printable.

- :func:`open_regular` opens a file only when it is a regular file (never a device such
  as ``/dev/zero``, a FIFO that would block forever, or a socket; the check is made on the
  opened descriptor, so swapping the file for a FIFO after a check cannot block us) and
  not larger than a size limit;
- :func:`read_bytes` / :func:`read_text` read such a file whole, up to the limit;
- :func:`size_limit` is the limit of a kind of file: ``THOUGHTFIELD_MAX_CONFIG_SIZE``
  (default 16 MiB) for configs, ``THOUGHTFIELD_MAX_INPUT_SIZE`` (default 4 GiB) for
  network and data files (bytes, or with a K/M/G suffix);
- :func:`check_depth` refuses data nested deeper than :data:`MAX_DEPTH` levels (or
  containing itself) before recursive code meets it;
- :func:`check_declared` compares the sizes that a NetCDF/HDF5 file *declares* with the
  memory guard before anything is allocated;
- :func:`printable` escapes control characters (ANSI escapes, NUL, bidi overrides) in
  text that goes to a terminal.
"""

from __future__ import annotations

import os
import stat

from .errors import ConfigError, ResourceError

#: Default size limits, bytes.
DEFAULT_CONFIG_SIZE = 16 * 2**20
DEFAULT_INPUT_SIZE = 4 * 2**30

_LIMITS = {"config": ("THOUGHTFIELD_MAX_CONFIG_SIZE", DEFAULT_CONFIG_SIZE),
           "input": ("THOUGHTFIELD_MAX_INPUT_SIZE", DEFAULT_INPUT_SIZE)}

#: Deepest nesting of tables/arrays accepted in configs and JSON network files.
MAX_DEPTH = 64


def _bytes_of(text: str) -> int:
    t = text.strip()
    mult = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}.get(t[-1:].lower(), 1)
    v = float(t[:-1] if mult > 1 else t)
    if not v > 0 or v != v or v == float("inf"):
        raise ValueError(t)
    return int(v * mult)


def size_limit(kind: str) -> tuple[int, str]:
    """``(bytes, environment variable)`` for ``kind`` ``"config"`` or ``"input"``."""
    env, default = _LIMITS[kind]
    raw = os.environ.get(env)
    if raw:
        try:
            return _bytes_of(raw), env
        except ValueError:
            raise ConfigError(f"{env}: must be a number of bytes > 0, optionally with K/M/G "
                              f"(got {raw!r})") from None
    return default, env


def human(b: float) -> str:
    b = float(b)
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse(p: str, mode: int, error, where: str):
    kind = _kind_of(mode)
    if kind == "a folder":
        raise error(f"{where}{p}: is a folder, not a file")
    raise error(f"{where}{p}: is {kind}, not a regular file; thoughtfield reads inputs "
                "only from regular files (save the data to a file first)")


def check_regular(path, *, error=ConfigError, key: str | None = None) -> os.stat_result:
    """``os.stat(path)`` when it is a regular file, else ``error`` (the stat call does not
    open the file, so a FIFO or a device is never touched)."""
    where = f"{key}: " if key else ""
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"{where}{p}: file not found") from None
    except NotADirectoryError:
        raise error(f"{where}{p}: file not found (a part of the path is not a folder)") from None
    except (OSError, ValueError) as e:
        raise error(f"{where}{p}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if not stat.S_ISREG(st.st_mode):
        _refuse(p, st.st_mode, error, where)
    return st


_KIND_NAMES = {"config": "configs", "input": "network and data files"}


def _too_big(p, size, limit, env, error, where):
    kind = next((k for k, (e, _) in _LIMITS.items() if e == env), "input")
    raise error(f"{where}{p}: the file is {human(size)}, larger than the {human(limit)} limit "
                f"for {_KIND_NAMES[kind]}; if it is the right file, raise the limit with the "
                f"environment variable {env} (e.g. {env}={_suggest(size)})")


def _suggest(size: int) -> str:
    g = size / 2**30
    return f"{int(g) + 1}G" if g >= 1 else f"{int(size / 2**20) + 1}M"


def open_regular(path, kind: str = "input", *, error=ConfigError, key: str | None = None):
    """A binary file object for ``path``: a regular file of at most ``size_limit(kind)``
    bytes, else ``error`` naming the file.  ``kind=None``: no size limit."""
    where = f"{key}: " if key else ""
    p = os.fspath(path)
    st = check_regular(p, error=error, key=key)   # before opening: never open a FIFO
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise error(f"{where}{p}: cannot read ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)   # the file actually opened (it may have been swapped)
        if not stat.S_ISREG(st.st_mode):
            _refuse(p, st.st_mode, error, where)
        if kind is not None:
            limit, source = size_limit(kind)
            if st.st_size > limit:
                _too_big(p, st.st_size, limit, source, error, where)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path, kind: str = "input", *, error=ConfigError, key: str | None = None) -> bytes:
    """The bytes of a regular file, at most the size limit of ``kind`` (also when the file
    grows while it is read)."""
    where = f"{key}: " if key else ""
    p = os.fspath(path)
    limit, source = size_limit(kind)
    with open_regular(p, kind, error=error, key=key) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise error(f"{where}{p}: cannot read ({e.strerror or e})") from None
    if len(data) > limit:
        _too_big(p, len(data), limit, source, error, where)
    return data


def decode(p: str, data: bytes, error=ConfigError) -> str:
    """UTF-8 text (a byte-order mark dropped); invalid bytes name the line and offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise error(f"{p} line {line}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                    f"{e.start}); save the file as UTF-8") from None


def read_text(path, kind: str = "input", *, error=ConfigError, key: str | None = None) -> str:
    """:func:`read_bytes` decoded as UTF-8."""
    return decode(os.fspath(path), read_bytes(path, kind, error=error, key=key), error)


# ------------------------------------------------------------------ nesting
def check_depth(data, source: str, *, limit: int = MAX_DEPTH, error=ConfigError) -> None:
    """Refuse ``data`` (parsed TOML/JSON, or a dict given in Python) nested deeper than
    ``limit`` tables/arrays (data that contains itself is infinitely deep); iterative, so
    it cannot overflow the stack itself."""
    stack = [(data, 1, None)]
    while stack:
        obj, depth, trail = stack.pop()
        if isinstance(obj, dict):
            children = obj.items()
        elif isinstance(obj, (list, tuple)):
            children = enumerate(obj)
        else:
            continue
        if depth > limit:
            parts, ids = [], []
            while trail is not None:
                trail, k, i = trail
                parts.append(f"[{k}]" if isinstance(k, int) else f".{k}")
                ids.append(i)
            parts, ids = parts[::-1], ids[::-1]   # from the top down
            seen: set = set()
            for j, i in enumerate(ids):
                if i in seen:   # an object met again below itself
                    first = ids.index(i)
                    cut = "".join(parts[:first + 1]).lstrip(".")
                    again = "".join(parts[:j + 1]).lstrip(".")
                    raise error(f"{_short_path(cut)}: contains itself ({_short_path(again)} "
                                f"is {_short_path(cut)}); give plain nested tables and arrays")
                seen.add(i)
            where = "".join(parts).lstrip(".") or "the top level"
            raise error(f"{source}: tables and arrays are nested more than {limit} levels deep "
                        f"(at {_short_path(where)}); a config or network file needs only a "
                        "few levels")
        for k, v in children:
            if isinstance(v, (dict, list, tuple)):
                stack.append((v, depth + 1, (trail, k, id(v))))


def _short_path(path: str) -> str:
    path = printable(path)
    return path if len(path) <= 80 else path[:40] + "..." + path[-37:]


# ------------------------------------------------------------------ declared sizes
def check_declared(ds, p: str, *, error=ResourceError) -> int:
    """Bytes that loading the (lazily opened) Dataset ``ds`` would allocate, compared with
    the memory guard (``THOUGHTFIELD_MAX_MEMORY`` or 80 % of the available memory) before
    anything is read.  Returns the byte count."""
    from ._limits import memory_limit
    total = 0
    for name, var in ds.variables.items():
        n = 1
        for s in var.shape:
            n *= int(s)
        total += n * max(int(var.dtype.itemsize), 8 if var.dtype.kind == "O" else 1)
    limit, source = memory_limit(None)
    if limit is not None and total > limit:
        big = max(ds.variables.items(), key=lambda kv: kv[1].size * kv[1].dtype.itemsize)
        raise error(f"{p}: reading it needs {human(total)} of memory (the variable "
                    f"{printable(str(big[0]))!r} declares shape {tuple(big[1].shape)}), more than "
                    f"the limit {human(limit)} ({source}); set THOUGHTFIELD_MAX_MEMORY to allow "
                    "more if the file is genuine")
    return total


# ------------------------------------------------------------------ terminal text
def _escape_char(c: str) -> str:
    o = ord(c)
    if c == "\n":
        return "\\n"
    if c == "\t":
        return "\\t"
    if c == "\r":
        return "\\r"
    if o <= 0xFF:
        return f"\\x{o:02x}"
    if o <= 0xFFFF:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def printable(text: str) -> str:
    """``text`` with every non-printable character (control characters, ANSI escape
    sequences' ESC, NUL, bidi overrides, line breaks) written as a Python escape, so
    text from a file cannot drive the terminal or split a one-line message."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else _escape_char(c) for c in s)


# ------------------------------------------------------------------ result contents
def check_result(ds, p: str) -> None:
    """A loaded result holds numbers where thoughtfield computes with numbers: the
    activation (and other data variables along ``time``) and the ``time`` coordinate;
    else a :class:`ConfigError` naming the file and the variable."""
    for name in ["time", *[k for k, v in ds.data_vars.items() if "time" in v.dims]]:
        if name not in ds.variables:
            continue
        var = ds.variables[name]
        if var.dtype.kind not in "fiub":
            raise ConfigError(f"{p}: the variable {printable(str(name))!r} holds "
                              f"{var.dtype} values, not numbers; the file is damaged or "
                              "was not written by thoughtfield")
