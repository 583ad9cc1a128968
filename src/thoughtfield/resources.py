"""Resource estimates and guards: how much memory, output and disk a run needs.

:func:`estimate` sizes a prepared run (:class:`~thoughtfield.Simulation` or
:class:`~thoughtfield.discrete.DiscreteSimulation`) before it integrates anything;
:func:`check_disk` refuses to start when the result file would not fit on the
destination's disk.  The memory guard itself runs inside the simulation constructors
(:func:`thoughtfield._limits.memory_limit`), before the output array is allocated, with
the itemised count of :func:`continuous_memory` / :func:`discrete_memory`.  Sweeps and
other drivers that write many results reuse these functions::

    est = estimate(sim)
    print("\\n".join(est.lines()))
    check_disk("out.nc", est.file_bytes)

The sizes follow what really happens, and tests compare them with measurements:

- the result file (:func:`encoded_bytes`): NetCDF-4/HDF5 as h5netcdf writes it -- numbers
  contiguous, every string (concept and layer names...) a variable-length string of
  ``32 + len`` bytes rounded up to 8 (a heap reference and a heap object header), text
  attributes at their length, about 1 KiB of headers per variable;
- the memory (:func:`continuous_memory`): lowering the network (relation arrays, the
  coupling entries, the compressed-row matrix the network keeps and the kernel's copy),
  per-concept parameters, the solver's stages and scratch, the saved output, and the
  Dataset assembly and write (strings, indexes, the contiguous copy h5py needs of a
  transposed ensemble, the extra row of a run that stops early).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# the file sizes and the disk check (public here too: callers size and check together)
from ._sizes import (ATTR_OVERHEAD, FILE_OVERHEAD, VAR_OVERHEAD, _heap_slack, _pad8,  # noqa: F401
                     attrs_bytes, check_disk, checkpoint_bytes, encoded_bytes, free_disk, human_bytes,
                     string_bytes)


# ------------------------------------------------------------------ estimates
@dataclass(frozen=True)
class RunEstimate:
    """The sizes of one run (bytes)."""
    save_times: int        #: saved time points (an upper bound for open-ended runs)
    concepts: int
    members: int
    row_values: int        #: values saved per time point (concepts x members, + readouts)
    output_bytes: int      #: the saved output array (8 bytes per value)
    memory_bytes: int      #: everything the run allocates at its peak (see memory_items)
    file_bytes: int        #: the NetCDF result file (output, coordinates, attributes)
    checkpoint_bytes: int  #: one checkpoint file (state + output so far, at most)
    memory_items: tuple = field(default=())   #: ((what, bytes), ...) summing to memory_bytes

    def lines(self) -> list[str]:
        """Human-readable description, one line per item."""
        extra = self.row_values - self.concepts * self.members
        row = (f"{self.save_times} save times x {self.concepts} concepts x {self.members} "
               f"member(s)" + (f" (+ {extra} readout values per time)" if extra > 0 else "")
               + " x 8 bytes")
        parts = ", ".join(f"{k} {human_bytes(v)}" for k, v in self.memory_items if v)
        return [f"output: {human_bytes(self.output_bytes)} ({row})",
                f"memory: about {human_bytes(self.memory_bytes)}"
                + (f" ({parts})" if parts else " (output + solver state)"),
                f"result file: about {human_bytes(self.file_bytes)}; checkpoint up to "
                f"{human_bytes(self.checkpoint_bytes)}"]


def coupling_entries(network) -> tuple[int, int]:
    """``(relations, entries)``: the network's relations and an upper bound of the entries
    of its coupling matrix (a relation acts on its target and, for symmetric types, back on
    its source), counted without building the matrix."""
    import numpy as np
    cache = getattr(network, "_cache", None)   # (cleared by every edit of the network)
    if cache is not None and "coupling_entries" in cache:
        return cache["coupling_entries"]
    s, t, c, w = network._relation_arrays()
    r = int(s.size)
    entries = 0
    if r:
        counts = np.bincount(c, minlength=len(network._type_names))
        for name, code in network._type_codes.items():
            fwd, rev = network._types[name].factors()
            entries += int(counts[code]) * (int(fwd != 0) + int(rev != 0))
    if cache is not None:
        cache["coupling_entries"] = (r, entries)
    return r, entries


def _network_bytes(n: int, relations: int, entries: int, chunked: bool) -> int:
    """Lowering the relations: joining added relation arrays (28 bytes a relation), the
    weighted forward/reverse values and their temporaries (32), the coupling entries as
    coordinates, values and masks (26 an entry) and the compressed-row matrix scipy builds
    from them (index conversion and result: 20 an entry) -- the peak while lowering."""
    b = 32 * relations + 46 * entries + 8 * (n + 1)
    if chunked:
        b += 28 * relations
    return b


def continuous_memory(*, n: int, members: int, nstate: int, times: int, extra_rows: int,
                      stages: int, relations: int, entries: int, chunked: bool = True,
                      problem_bytes: int | None = None, stops_early: bool = False,
                      derived: int = 0, strings: int = 0) -> dict[str, int]:
    """The memory one :class:`~thoughtfield.Simulation` allocates, by item (bytes).

    ``problem_bytes``: the size of the lowered problem when known (after lowering), else
    it is estimated from the relations; ``stops_early``: the run may end at a steady state
    or a choice (the result then gains a row, a copy of the output); ``derived``: values
    per saved time derived from the rows (layer summaries...); ``strings``: bytes of the
    concept and layer names."""
    m = members
    out = 8 * times * (n + extra_rows) * m
    net = _network_bytes(n, relations, entries, chunked)
    cache = 12 * entries + 4 * (n + 1)             # the matrix the network keeps
    if problem_bytes is None:                        # kernel CSR copy + per-concept params
        problem_bytes = 12 * entries + 8 * (n + 1) + 8 * 6 * n * m
    lowering = max(net, problem_bytes) + cache
    solver = 8 * nstate * m * (stages + 10) + 8 * n * m * 2 + 8 * 4 * 256 * m
    act = 8 * times * n * m
    result = 8 * times * max(derived, 0) * 2 + 160 * n + strings
    if m > 1 or extra_rows:
        result += act          # h5py writes a contiguous copy of the (transposed) activation
    if extra_rows:
        result += 8 * times * extra_rows * m
    if stops_early:
        result += out          # the stopping row is appended to a copy of the output
    return {"output": out, "network": lowering, "solver": solver, "result": result}


def discrete_memory(*, n: int, members: int, saves: int, relations: int, entries: int,
                    chunked: bool = True, strings: int = 0) -> dict[str, int]:
    """The memory one :class:`~thoughtfield.discrete.DiscreteSimulation` allocates, by item
    (the saved rows are joined into one array for the result: twice the output)."""
    m = members
    out = 8 * saves * n * m
    net = _network_bytes(n, relations, entries, chunked) + 24 * entries + 16 * (n + 1)
    solver = 8 * n * m * 8
    result = out + 160 * n + strings + (8 * saves * n * m if m > 1 else 0)
    return {"output": out, "network": net, "solver": solver, "result": result}


def structure_bytes(network) -> int:
    """Bytes of the relation coordinates (source, target and type names, weight, directed;
    :func:`~thoughtfield.results.relation_coords`) and the model's per-concept
    coordinates (:func:`~thoughtfield.results.model_coords`) as written."""
    from .results import MODEL_COORDS, embeds_network
    n = network.n
    b = len(MODEL_COORDS) * (VAR_OVERHEAD + 8 * n)
    n_rel = network.n_relations
    if n_rel > 0 and embeds_network(network):
        cache = getattr(network, "_cache", None)
        if cache is not None and "structure_bytes" in cache:
            return b + cache["structure_bytes"]
        r = network.relation_arrays()
        size = [_pad8(len(c.encode("utf-8", "surrogatepass"))) for c in network.concepts]
        body = sum(64 + size[i] + size[j] for i, j in zip(r["source"].tolist(),
                                                          r["target"].tolist()))
        rel = (_heap_slack(body) + string_bytes(r["type"]) + 9 * n_rel + 5 * VAR_OVERHEAD)
        if cache is not None:
            cache["structure_bytes"] = rel
        b += rel
    return b


def names_bytes(network) -> int:
    """Bytes of the concept and layer names as written (variable-length strings); kept
    with the network until it is edited."""
    cache = getattr(network, "_cache", None)
    if cache is not None and "names_bytes" in cache:
        return cache["names_bytes"]
    body = 0
    layers = [len(x.encode("utf-8", "surrogatepass")) for x in network.layers]
    for c, code in zip(network.concepts, network.layer_codes.tolist()):
        body += 64 + _pad8(len(c.encode("utf-8", "surrogatepass"))) + _pad8(layers[code])
    b = _heap_slack(body)
    if cache is not None:
        cache["names_bytes"] = b
    return b


def _description_bytes(sim) -> int:
    """Bytes of the descriptions a result carries in its attributes."""
    from .results import compact_description, network_description
    b = len(network_description(sim.network).encode("utf-8"))
    try:
        model = sim.model.to_dict() if hasattr(sim, "layout") else \
            {"initial": sim.model.to_dict()["initial"]}
        b += len(json.dumps(compact_description(model), default=str))
        b += len(json.dumps([s.to_dict() for s in sim.stimuli], default=str))
        b += len(json.dumps(sim.solver.to_dict(), default=str))
    except (TypeError, ValueError, AttributeError):   # pragma: no cover - descriptions are JSON
        b += 64 * 1024
    if getattr(sim, "member_params", None):
        b += 64 * 1024 + 16 * sim.network.n * len(sim.member_params)
    return b + 24 * ATTR_OVERHEAD + 4096


def estimate(sim, attrs: dict | None = None, *, layer_summaries: bool = False) -> RunEstimate:
    """Sizes of a prepared (not yet run) simulation; ``attrs``: attributes the caller adds
    to the result before writing it (the config text, for the command line);
    ``layer_summaries``: ``layer_mean``/``layer_max`` are stored too
    (``[output] layer_summaries``).  The file size is that of the uncompressed encoding, an
    upper bound of the compressed file :func:`~thoughtfield.save_result` writes."""
    n, m = sim.network.n, sim.members
    discrete = not hasattr(sim, "out")
    if not discrete:                              # continuous: the output is preallocated
        times, width = int(sim.out.shape[0]), int(sim.out.shape[1])
    else:                                         # discrete: rows are saved as they come
        width = n * m
        if sim.save_at is not None:
            times = int(sim.save_at.size) + 2
        else:
            times = (sim.t_stop - sim.t0) // sim.save_every + 2
    out_b = 8 * times * width
    from .readouts import derived_width
    dw = derived_width(sim)
    names = names_bytes(sim.network)
    lay = getattr(sim, "layout", None)
    nvars = 12 + (4 * len(lay.pools) + 6 * len(lay.out) + 6 if lay is not None else 0)
    file_b = (FILE_OVERHEAD + out_b + 8 * times * dw + 8 * times + 8 * m + names
              + structure_bytes(sim.network)
              + nvars * VAR_OVERHEAD + _description_bytes(sim)
              + (attrs_bytes(attrs) if attrs else 0))
    if layer_summaries:                             # layer_mean, layer_max (time, level)
        import numpy as np
        codes = sim.network.layer_codes
        levels = int(np.unique(codes).size) if codes.size else 0
        file_b += 2 * (VAR_OVERHEAD + 8 * times * levels * m) + VAR_OVERHEAD \
            + string_bytes(sim.network.layers)
    if lay is not None and lay.decisions:           # choice variables and their summaries
        file_b += 16 * VAR_OVERHEAD + 96 * m * len(lay.decisions) * (2 + len(lay.pools))
    ckpt = out_b + 8 * 16 * width + 8 * 16 * n * m + 64 * 1024   # output so far + state
    items = getattr(sim, "memory_items", None) or {"output": out_b}
    mem = int(sum(items.values()))
    return RunEstimate(save_times=times, concepts=n, members=m, row_values=width,
                       output_bytes=out_b, memory_bytes=max(mem, out_b), file_bytes=int(file_b),
                       checkpoint_bytes=int(ckpt), memory_items=tuple(items.items()))
