"""Resource estimates and guards: how much memory, output and disk a run needs.

:func:`estimate` sizes a prepared run (:class:`~thoughtfield.Simulation` or
:class:`~thoughtfield.discrete.DiscreteSimulation`) before it integrates anything;
:func:`check_disk` refuses to start when the result file (and its checkpoints) would not
fit on the destination's disk.  The memory guard itself runs inside the simulation
constructors (:func:`thoughtfield.simulate.memory_limit`), before the output array is
allocated.  Sweeps and other drivers that write many results reuse these functions::

    est = estimate(sim)
    print("\\n".join(est.lines()))
    check_disk("out.nc", est.file_bytes + est.checkpoint_bytes)
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from .errors import ResourceError

#: Fixed part of a NetCDF result (HDF5 superblock, headers, coordinate and attribute
#: metadata), bytes; measured about 15-20 kB for a three-concept result.
FILE_OVERHEAD = 64 * 1024


def human_bytes(b: float) -> str:
    """``1.5 GiB``, ``12.3 MiB``, ``800 B``."""
    b = float(b)
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


@dataclass(frozen=True)
class RunEstimate:
    """The sizes of one run (bytes)."""
    save_times: int        #: saved time points (an upper bound for open-ended runs)
    concepts: int
    members: int
    row_values: int        #: values saved per time point (concepts x members, + readouts)
    output_bytes: int      #: the saved output array (8 bytes per value)
    memory_bytes: int      #: output + solver state and scratch
    file_bytes: int        #: the NetCDF result file (output, coordinates, attributes)
    checkpoint_bytes: int  #: one checkpoint file (state + output so far, at most)

    def lines(self) -> list[str]:
        """Human-readable description, one line per item."""
        extra = self.row_values - self.concepts * self.members
        row = (f"{self.save_times} save times x {self.concepts} concepts x {self.members} "
               f"member(s)" + (f" (+ {extra} readout values per time)" if extra > 0 else "")
               + " x 8 bytes")
        return [f"output: {human_bytes(self.output_bytes)} ({row})",
                f"memory: about {human_bytes(self.memory_bytes)} (output + solver state)",
                f"result file: about {human_bytes(self.file_bytes)}; checkpoint up to "
                f"{human_bytes(self.checkpoint_bytes)}"]


def estimate(sim) -> RunEstimate:
    """Sizes of a prepared (not yet run) simulation."""
    from .results import network_description
    n, m = sim.network.n, sim.members
    if hasattr(sim, "out"):                       # continuous: the output is preallocated
        times, width = int(sim.out.shape[0]), int(sim.out.shape[1])
    else:                                         # discrete: rows are saved as they come
        width = n * m
        if sim.save_at is not None:
            times = int(sim.save_at.size) + 2
        else:
            times = (sim.t_stop - sim.t0) // sim.save_every + 2
    out_b = 8 * times * width
    from .readouts import derived_width
    derived_b = 8 * times * derived_width(sim)   # layer summaries, conflict, overlaps
    mem = int(getattr(sim, "memory_estimate", out_b))
    names = sum(len(c.encode("utf-8")) + 8 for c in sim.network.concepts)
    desc = len(network_description(sim.network).encode("utf-8"))
    file_b = out_b + derived_b + 8 * times + 2 * names + desc + FILE_OVERHEAD
    ckpt = out_b + 8 * 16 * width + FILE_OVERHEAD   # output so far + state arrays
    return RunEstimate(save_times=times, concepts=n, members=m, row_values=width,
                       output_bytes=out_b, memory_bytes=max(mem, out_b), file_bytes=file_b,
                       checkpoint_bytes=ckpt)


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
        f"{human_bytes(free)} is free on the disk of {folder}; save less often (a larger "
        "save_dt or save_every, or fewer save_at times), use fewer members, or write to "
        "another disk")
