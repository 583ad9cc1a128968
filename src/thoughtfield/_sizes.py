"""Sizes of what a run writes, and the disk check before it writes.

The file sizes follow NetCDF-4/HDF5 as h5netcdf writes it (numbers contiguous, every
string a variable-length string of ``32 + len`` bytes rounded up to 8, text attributes at
their length, about 1 KiB of headers per variable); :mod:`thoughtfield.resources` builds
the estimate of a whole run on them, :func:`thoughtfield.save_result` checks the disk.
"""

from __future__ import annotations

import json
import os
import shutil

from .errors import ResourceError

#: How to save less often, named for the Python API and for a config (hints of the
#: memory and disk checks).
SAVE_LESS = ("save less often (a larger dt in saveat=tf.SaveAt(dt=...) or every in "
             "SaveAt(every=...), or fewer SaveAt(times=...); in a config, [run] save_dt, "
             "save_every or save_at)")
#: The same for the discrete mode, which counts steps.
SAVE_LESS_STEPS = ("save less often (a larger every in saveat=tf.SaveAt(every=...) or fewer "
                   "SaveAt(times=...); in a config, [run] save_every or save_at)")

#: Fixed part of a NetCDF result (HDF5 superblock, root group, the ``_NCProperties``
#: attribute, dimension scales), bytes; a one-variable file is about 6 kB.
FILE_OVERHEAD = 16 * 1024
#: Headers of one variable (object header, dimension list, netCDF attributes), bytes.
VAR_OVERHEAD = 1024
#: Headers of one attribute, bytes.
ATTR_OVERHEAD = 96


def human_bytes(b: float) -> str:
    """``1.5 GiB``, ``12.3 MiB``, ``800 B``."""
    b = float(b)
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


# ------------------------------------------------------------------ file encoding
def _pad8(k: int) -> int:
    return -(-int(k) // 8) * 8


def string_bytes(strings) -> int:
    """Bytes of variable-length strings in HDF5: a 16-byte reference in the dataset, a
    16-byte global-heap object header and the UTF-8 text rounded up to 8 bytes each, plus
    the unused end of the last heap collections."""
    body = 0
    for s in strings:
        body += 32 + _pad8(len(str(s).encode("utf-8", "surrogatepass")))
    return _heap_slack(body)


def _heap_slack(body: int) -> int:
    """``body`` bytes of heap objects as stored: heap collections are filled in blocks
    (measured: at most ~40 % extra below 100 kB, ~1 % beyond)."""
    return int(body * 1.02) + min(48 * 1024, int(0.6 * body))


def _attr_bytes(value) -> int:
    if isinstance(value, str):
        return ATTR_OVERHEAD + len(value.encode("utf-8", "surrogatepass"))
    nbytes = getattr(value, "nbytes", None)
    if nbytes is not None:
        return ATTR_OVERHEAD + int(nbytes)
    if isinstance(value, (list, tuple, dict)):
        return ATTR_OVERHEAD + len(json.dumps(value, default=str))
    return ATTR_OVERHEAD + 8


def attrs_bytes(attrs: dict) -> int:
    """Bytes of result attributes as written (dicts and lists become JSON text)."""
    return sum(_attr_bytes(v) for v in attrs.values() if v is not None)


def encoded_bytes(ds) -> int:
    """The size of ``ds`` written by :func:`~thoughtfield.save_result` (an upper bound
    within a few percent): numeric variables at their size, strings as HDF5
    variable-length strings, attributes at their length, headers per variable."""
    total = FILE_OVERHEAD + attrs_bytes(ds.attrs)
    for var in ds.variables.values():
        total += VAR_OVERHEAD + attrs_bytes(var.attrs)
        if var.dtype.kind in "OUS":
            total += string_bytes(var.values.ravel())
        else:
            total += int(var.dtype.itemsize) * int(var.size)
    return total

def checkpoint_bytes(arrays: dict) -> int:
    """The size of a checkpoint holding ``arrays`` (an uncompressed ``.npz``: the data, a
    ``.npy`` header and zip entries per array)."""
    return sum(int(a.nbytes) + 320 for a in arrays.values()) + 4096


# ------------------------------------------------------------------ disk
def free_disk(path) -> int | None:
    """Free bytes on the disk that would hold ``path`` (its nearest existing folder), or
    ``None`` when unknown."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path))) or "."
    while folder and not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    try:
        return int(shutil.disk_usage(folder).free)
    except (OSError, ValueError):
        return None


def check_disk(path, need: int, what: str = "the result file") -> None:
    """Refuse (:class:`~thoughtfield.ResourceError`) when ``need`` bytes would not fit on
    the disk that holds ``path``."""
    free = free_disk(path)
    if free is None or need <= free:
        return
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    raise ResourceError(
        f"{os.fspath(path)}: {what} needs about {human_bytes(need)} but only "
        f"{human_bytes(free)} is free on the disk of {folder}; {SAVE_LESS}, use fewer "
        "members, or write to another disk")
