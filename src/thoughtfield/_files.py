"""Files a run writes: one writer per output (a lock), temporary files named after their
target (so the next run can remove what a killed one left), durable atomic replacement.

- :class:`OutputLock`: an exclusive ``fcntl.flock`` on ``OUTPUT.lock`` next to the output,
  held while a result (and its checkpoint) is produced; a second process asking for the
  same output is refused with the first one's pid.  The kernel drops the lock when its
  holder dies, so a killed run never blocks the next one.
- :func:`make_temp`: ``.tmp-NAME-XXXXXXXX.SUFFIX`` in the target's folder.  Every exit path
  this package controls removes it; a SIGKILL cannot, so :func:`remove_stale_temps`
  removes those of an output that are older than the lock the caller now holds.
- :func:`replace_durably`: fsync the data, rename over the target, fsync the folder -- the
  new file survives a power cut once this returns.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import time
import warnings

from .errors import ConfigError

#: Lock files: ``OUTPUT`` + this suffix.
LOCK_SUFFIX = ".lock"

# outputs whose lock this process holds (so save_result inside a locked run does not lock
# again: flock locks belong to open files, a second open in the same process would conflict)
_HELD: dict[str, "OutputLock"] = {}


def _key(path) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def temp_prefix(path) -> str:
    """The prefix of the temporary files written for ``path`` (its name, shortened to a hash
    when too long for a file name)."""
    name = os.path.basename(os.fspath(path))
    if len(name.encode("utf-8", "surrogateescape")) > 120:
        name = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f".tmp-{name}-"


def make_temp(path, suffix: str) -> tuple[int, str]:
    """``(fd, temp_path)``: a new temporary file for ``path`` in its folder."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    return tempfile.mkstemp(prefix=temp_prefix(path), suffix=suffix, dir=folder)


def fsync_dir(folder) -> None:
    """Flush a folder's entries (a rename in it) to the disk; a no-op where folders cannot
    be opened (not POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:   # some file systems refuse fsync on folders: nothing to flush
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def replace_durably(tmp: str, path: str) -> None:
    """Rename the (already fsynced) ``tmp`` over ``path`` and flush the folder."""
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(os.path.abspath(path)))


def remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove_stale_temps(path, before: float, suffixes=(".nc", ".checkpoint"),
                       figures=()) -> list[str]:
    """Remove the temporary files of ``path`` and of its checkpoint (``path.checkpoint``)
    last modified before ``before`` (a time stamp): files a killed run left.  ``figures``:
    figure paths written with the result (their temporary files are
    ``.tmp-PID-NAME``).  Call it only while holding ``path``'s :class:`OutputLock`.
    Returns the removed paths."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    prefixes = (temp_prefix(path), temp_prefix(os.fspath(path) + ".checkpoint"))
    figs = {os.path.basename(os.fspath(f)) for f in figures
            if os.path.dirname(os.path.abspath(os.fspath(f))) == folder}
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        ours = e.name.startswith(prefixes) and e.name.endswith(tuple(suffixes))
        if not ours and figs and e.name.startswith(".tmp-"):
            pid, _, rest = e.name[5:].partition("-")
            ours = pid.isdigit() and rest in figs
        if not ours:
            continue
        try:
            if not e.is_file(follow_symlinks=False) or e.stat(follow_symlinks=False).st_mtime >= before:
                continue
            os.unlink(e.path)
            removed.append(e.path)
        except OSError:
            continue
    return removed


class OutputLock:
    """An exclusive lock on an output file, held from :meth:`acquire` to :meth:`release`
    (or as a context manager).  ``acquired_at``: when it was taken (temporary files of the
    output older than that are stale).

    Raises :class:`~thoughtfield.ConfigError` when another process holds it.  Where the
    file system does not support locks the output is written without one (a warning).
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.lock_path = self.path + LOCK_SUFFIX
        self.fd: int | None = None
        self.acquired_at = 0.0
        self.nested = False

    def acquire(self) -> "OutputLock":
        import fcntl
        key = _key(self.path)
        if key in _HELD:                       # this process holds it already
            self.nested = True
            self.acquired_at = _HELD[key].acquired_at
            return self
        folder = os.path.dirname(os.path.abspath(self.lock_path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"{self.path}: cannot create the folder {folder} "
                              f"({e.strerror or e})") from None
        for _ in range(100):
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK
                             | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as e:
                if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
                    raise ConfigError(f"{self.path}: cannot write in {folder} "
                                      f"({e.strerror or e})") from None
                raise ConfigError(f"{self.lock_path}: cannot create the lock file of "
                                  f"{self.path} ({e.strerror or e}); remove it if it is not "
                                  "a regular file") from None
            import stat
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise ConfigError(f"{self.lock_path}: the lock file of {self.path} is not a "
                                  "regular file; remove it")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    pid = _read_pid(fd)
                    os.close(fd)
                    who = f"another thoughtfield run (pid {pid})" if pid else \
                        "another thoughtfield run"
                    raise ConfigError(
                        f"{self.path}: {who} is writing this result (lock file "
                        f"{self.lock_path}); wait for it to finish, or write to another "
                        "file") from None
                os.close(fd)
                warnings.warn(f"{self.lock_path}: cannot lock the output ({e.strerror}); "
                              "writing without a lock", RuntimeWarning, stacklevel=2)
                self.acquired_at = time.time()
                return self
            # the file may have been removed (and re-created) by the holder we waited for
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path,
                                                              follow_symlinks=False))
            except OSError:
                same = False
            if not same:
                os.close(fd)
                continue
            try:   # the pid, for the message of a refused second run (best effort)
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass
            self.fd = fd
            self.acquired_at = time.time()
            _HELD[key] = self
            return self
        raise ConfigError(f"{self.lock_path}: the lock file keeps changing; is another "
                          "program removing it?")  # pragma: no cover - needs a racing remover

    def release(self) -> None:
        if self.nested or self.fd is None:
            return
        _HELD.pop(_key(self.path), None)
        try:
            remove_quietly(self.lock_path)   # while still locked: see acquire()
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except (OSError, ValueError):
        return None
