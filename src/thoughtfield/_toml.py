"""TOML helpers for configs: parse with line-located errors, write, and locate keys.

``tomllib`` (``tomli`` before Python 3.11) parses; it has no writer and forgets where
keys were, so this module adds

- :func:`loads` -- parse, turning syntax errors into :class:`ConfigError` with the line
  and column;
- :func:`key_lines` -- map every key path (``solver.rtol``, ``stimuli[2].concept``,
  ``network.relations[4]``) to the line it is written on, so validation errors can point
  at the config line;
- :func:`dumps` -- write plain data (str, int, float, bool, lists, dicts) as TOML;
- :func:`parse_value` -- read the value of a ``--set key=value`` override.

Configs are data: nothing here evaluates code.
"""

from __future__ import annotations

import math
import re
import sys

from ._inputs import MAX_DEPTH, check_depth
from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError

_LINECOL = re.compile(r"\(at line (\d+), column (\d+)\)")
_LINE_ONLY = re.compile(r"\(at line (\d+)")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def loads(text: str, source: str = "<config>") -> dict:
    """Parse TOML ``text``; a syntax error becomes a ConfigError with ``source``, ``line``
    and ``where`` (``source:line:col``) set, shown as ``source:line:col: invalid TOML: ...``."""
    if not isinstance(text, str):
        raise ConfigError(f"expected TOML text (got {type(text).__name__})", where=source,
                          source=source)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ConfigError("invalid TOML: arrays or inline tables are nested too "
                          f"deeply (more than {MAX_DEPTH} levels are never needed)",
                          where=source, source=source) from None
    except TOMLDecodeError as e:
        # Python 3.11's tomllib gives the position only inside its message: read it there
        msg = str(e)
        m = _LINECOL.search(msg)
        where = source
        if m:
            where = f"{source}:{m.group(1)}:{m.group(2)}"
            msg = msg[:m.start()].rstrip()
        else:
            m = _LINE_ONLY.search(msg)
            if m:
                where = f"{source}:{m.group(1)}"
                msg = msg[:m.start()].rstrip()
        line = int(m.group(1)) if m else None
        if m is None and "(at end of document)" in msg:   # e.g. a truncated file
            lines = text.split("\n")
            line = len(lines)
            where = f"{source}:{line}:{len(lines[-1]) + 1}"
            msg = msg.replace("(at end of document)", "(at the end of the text; is it "
                              "truncated?)")
        raise ConfigError(f"invalid TOML: {msg}", where=where, source=source,
                          line=line) from None
    except ValueError:   # an integer longer than Python converts (4300 digits)
        raise _long_number(text, source) from None
    check_depth(data, source)
    return data


_LONG_INT = re.compile(r"[0-9][0-9_]{999,}")


def _long_number(text: str, source: str) -> ConfigError:
    m = _LONG_INT.search(text)
    line = None
    if m:
        line = text.count(chr(10), 0, m.start()) + 1
        digits = len(m.group().replace("_", ""))
        what = f"an integer with {digits} digits"
    else:
        what = "a number too long to convert"
    return ConfigError(f"invalid TOML: {what}; write large or precise values as floats "
                       "(e.g. 1e300)", where=source if line is None else f"{source}:{line}",
                       source=source, line=line)


# ---------------------------------------------------------------- key -> line
_PLAIN_KEY = re.compile(r"^[^\s.\[\]\"'=#:\\]+$")


def key_text(key) -> str:
    """A key as it appears in a key path: as is when plain, else TOML-quoted (so a key
    with dots, spaces, quotes or control characters stays one readable segment)."""
    k = str(key)
    return k if _PLAIN_KEY.match(k) and k.isprintable() else _string(k)


def join_path(prefix: str, key) -> str:
    """``join_path('a', 'b') == 'a.b'``, ``join_path('a', 3) == 'a[3]'``,
    ``join_path('a', 'b c') == 'a."b c"'``."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{prefix}[{key}]"
    k = key_text(key)
    return f"{prefix}.{k}" if prefix else k


class _Scanner:
    """A lenient scanner over TOML that tomllib has already accepted."""

    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[str, int] = {}
        self.aot: dict[str, int] = {}  # array-of-tables path -> number seen

    # low level
    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def adv(self, k=1):
        for _ in range(k):
            if self.i < len(self.s):
                if self.s[self.i] == "\n":
                    self.line += 1
                self.i += 1

    def skip_ws(self, newlines=False):
        while True:
            c = self.peek()
            if c in (" ", "\t", "\r") or (newlines and c == "\n"):
                self.adv()
            elif c == "#":
                while self.peek() not in ("", "\n"):
                    self.adv()
            else:
                return

    def string(self) -> str:
        q = self.peek()
        if self.s.startswith(q * 3, self.i):
            self.adv(3)
            end = self.s.find(q * 3, self.i)
            while end != -1 and q == '"' and _escaped(self.s, end):
                end = self.s.find(q * 3, end + 1)
            if end == -1:
                end = len(self.s)
            # closing quotes may be followed by up to two more quote characters
            while self.s.startswith(q, end + 3):
                end += 1
            body = self.s[self.i:end]
            self.adv(end + 3 - self.i)
            return body
        self.adv()
        out = []
        while self.peek() not in ("", "\n"):
            c = self.peek()
            if c == "\\" and q == '"':
                out.append(c + self.peek(1))
                self.adv(2)
                continue
            self.adv()
            if c == q:
                break
            out.append(c)
        raw = "".join(out)
        if q == '"':
            try:
                return tomllib.loads(f'k = "{raw}"')["k"]
            except TOMLDecodeError:
                return raw
        return raw

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip_ws()
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.string())
            else:
                j = self.i
                while self.peek() and (self.peek().isalnum() or self.peek() in "_-"):
                    self.adv()
                parts.append(self.s[j:self.i])
            self.skip_ws()
            if self.peek() == ".":
                self.adv()
                continue
            return parts

    def record(self, path: str):
        self.lines.setdefault(path, self.line)

    # grammar
    def value(self, path: str):
        self.skip_ws()
        c = self.peek()
        self.record(path)
        if c == "[":
            self.adv()
            k = 0
            while True:
                self.skip_ws(newlines=True)
                if self.peek() in ("]", ""):
                    self.adv()
                    return
                self.value(join_path(path, k))
                k += 1
                self.skip_ws(newlines=True)
                if self.peek() == ",":
                    self.adv()
        elif c == "{":
            self.adv()
            while True:
                self.skip_ws()
                if self.peek() in ("}", "", "\n"):
                    self.adv()
                    return
                parts = self.key()
                self._record_dotted(path, parts)
                if self.peek() == "=":
                    self.adv()
                self.value(_joined(path, parts))
                self.skip_ws()
                if self.peek() == ",":
                    self.adv()
        elif c in ('"', "'"):
            self.string()
        else:
            while self.peek() not in ("", "\n", ",", "]", "}", "#"):
                self.adv()

    def _record_dotted(self, prefix, parts):
        p = prefix
        for part in parts:
            p = join_path(p, part)
            self.record(p)

    def header(self, array: bool) -> str:
        self.adv(2 if array else 1)
        parts = self.key()
        self.adv(2 if array else 1)
        p = ""
        for j, part in enumerate(parts):
            p = join_path(p, part)
            last = j == len(parts) - 1
            if array and last:
                n = self.aot.get(p, 0)
                self.aot[p] = n + 1
                self.record(p)
                p = join_path(p, n)
            elif p in self.aot:
                p = join_path(p, self.aot[p] - 1)
            self.record(p)
        return p

    def run(self) -> dict[str, int]:
        table = ""
        while self.i < len(self.s):
            self.skip_ws(newlines=True)
            c = self.peek()
            if c == "":
                break
            if c == "[":
                table = self.header(array=self.peek(1) == "[")
            else:
                parts = self.key()
                self._record_dotted(table, parts)
                if self.peek() == "=":
                    self.adv()
                self.value(_joined(table, parts))
            # rest of the line
            self.skip_ws()
            while self.peek() not in ("", "\n"):
                self.adv()
        return self.lines


def _escaped(s: str, j: int) -> bool:
    n = 0
    while j - 1 - n >= 0 and s[j - 1 - n] == "\\":
        n += 1
    return n % 2 == 1


def _joined(prefix, parts):
    p = prefix
    for part in parts:
        p = join_path(p, part)
    return p


def key_lines(text: str) -> dict[str, int]:
    """Map key paths to 1-based line numbers (best effort; never raises)."""
    sc = _Scanner(text)
    try:
        return sc.run()
    except Exception:  # pragma: no cover - a locator must never mask the real error
        return sc.lines


_SEG = re.compile(r"""\[(\d+)\]|\.?((?:"(?:[^"\\]|\\.)*")|(?:'[^']*')|[^.\[\]]+)""")


def split_path(path: str) -> list:
    """``'stimuli[2].concept'`` -> ``['stimuli', 2, 'concept']`` (quoted keys kept whole)."""
    out = []
    for m in _SEG.finditer(path):
        if m.group(1) is not None:
            out.append(int(m.group(1)))
        else:
            k = m.group(2)
            if len(k) >= 2 and k[0] == k[-1] == '"':
                try:
                    k = tomllib.loads(f"k = {k}")["k"]
                except TOMLDecodeError:
                    k = k[1:-1]
            elif len(k) >= 2 and k[0] == k[-1] == "'":
                k = k[1:-1]
            out.append(k)
    return out


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` or of its nearest enclosing key."""
    parts = split_path(path)
    while parts:
        p = ""
        for x in parts:
            p = join_path(p, x)
        if p in lines:
            return lines[p]
        parts = parts[:-1]
    return None


# -------------------------------------------------------------------- writing
def _key(k: str) -> str:
    return k if _BARE.match(k) else _string(k)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_value(v) -> str:
    """One TOML value (inline form)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        r = repr(v)
        return r if ("." in r or "e" in r or "n" in r) else r + ".0"
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_key(str(k))} = {format_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write {v!r} of type {type(v).__name__} as TOML")


def _array(v, indent="") -> str:
    one = format_value(v)
    if len(one) <= 88 and not any(isinstance(x, (list, tuple, dict)) for x in v):
        return one
    if any(isinstance(x, (list, tuple, dict)) for x in v) or len(one) > 88:
        inner = ",\n".join(f"{indent}    {format_value(x)}" for x in v)
        return "[\n" + inner + f",\n{indent}]"
    return one


def _is_aot(v) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def dumps(data: dict) -> str:
    """Write nested plain data as TOML text (tables as ``[a.b]``, lists of tables as
    ``[[a]]``), keeping the order of the keys."""
    lines: list[str] = []
    _emit_table(lines, [], data)
    return "\n".join(lines).strip() + "\n"


def _emit_table(lines, path, d):
    """Scalars and inline arrays first, then sub-tables and arrays of tables in order."""
    for k, v in d.items():
        if not isinstance(v, dict) and not _is_aot(v):
            val = _array(v) if isinstance(v, (list, tuple)) else format_value(v)
            lines.append(f"{_key(str(k))} = {val}")
    for k, v in d.items():
        sub = path + [str(k)]
        if isinstance(v, dict):
            has_scalars = any(not isinstance(x, dict) and not _is_aot(x) for x in v.values())
            if has_scalars or not v:
                lines.append("")
                lines.append("[" + ".".join(_key(p) for p in sub) + "]")
            _emit_table(lines, sub, v)
        elif _is_aot(v):
            for item in v:
                lines.append("")
                lines.append("[[" + ".".join(_key(p) for p in sub) + "]]")
                _emit_table(lines, sub, item)


def parse_value(text: str):
    """Parse the value of ``--set key=value`` as a TOML value; a bare word that is not
    TOML (``rk4``, ``sigmoid``) is taken as a string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except RecursionError:
        raise ConfigError(f"not a TOML value: {_clip(text)} (nested too deeply; more than "
                          f"{MAX_DEPTH} levels are never needed)") from None
    except TOMLDecodeError as e:
        if re.fullmatch(r"[A-Za-z_][\w.\-@*]*", text.strip()):
            return text.strip()
        msg = _LINECOL.sub("", str(e)).strip()
        raise ConfigError(f"not a TOML value: {_clip(text)} ({msg}); quote strings, e.g. "
                          f"'\"text\"', and write lists as [1, 2]") from None
    except ValueError:
        raise ConfigError(f"not a TOML value: {_clip(text)} (an integer with more than 4300 "
                          "digits); write large values as floats (e.g. 1e300)") from None
    try:
        check_depth(value, "value")
    except ConfigError:
        raise ConfigError(f"not a TOML value: {_clip(text)} (nested too deeply; more than "
                          f"{MAX_DEPTH} levels are never needed)") from None
    return value


def _clip(text: str) -> str:
    r = repr(text)
    return r if len(r) <= 80 else r[:60] + "..." + r[-17:]
