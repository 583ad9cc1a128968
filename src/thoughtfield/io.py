"""Reading and writing concept networks and discrete-mode tables.

=====================  ==========================================  ==========================
format                 read                                        write
=====================  ==========================================  ==========================
CSV/TSV edge list      :func:`read_csv` (``source, target[, type]  :func:`write_csv`
                       [, weight]``; optional concepts and
                       relation-type tables)
GraphML (networkx)     :func:`read_graphml`                        :func:`write_graphml`
GEXF (networkx)        :func:`read_gexf`                           :func:`write_gexf`
JSON (``to_dict``)     ``[network] file`` in a config               :func:`write_network`
scipy.sparse + names   :meth:`ConceptNetwork.from_scipy`           :meth:`ConceptNetwork.to_scipy`
spreadr adjacency      :func:`read_spreadr_network`                :func:`write_spreadr_network`
spreadr start_run      :func:`read_start_run` (-> pulses)          :func:`write_start_run`
spreadr output table   --                                          :func:`write_spreadr_table`
=====================  ==========================================  ==========================

GraphML keeps everything (layer ladder, relation-type definitions as graph attributes,
concept layers and attributes as node attributes, relation ``type`` and ``weight`` as
edge attributes).  GEXF reserves the edge attribute ``type``, so the relation type is
stored as ``relation``; the ladder and the relation-type definitions travel as JSON in
the file's ``<meta><description>``.
"""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np

from . import _validate as V
from ._files import make_temp, remove_quietly, replace_durably
from .errors import ConfigError, NetworkError
from .network import (ConceptNetwork, _csv_file_rows, _delimiter, _merged_types,
                      check_input_file, relation_types_from)
from .stimuli import Clamp, Pulse, as_stimuli

__all__ = ["read_csv", "write_csv", "read_graphml", "write_graphml", "read_gexf", "write_gexf",
           "write_network", "read_spreadr_network", "write_spreadr_network", "read_start_run",
           "write_start_run", "write_spreadr_table"]


def _exists(path) -> str:
    return check_input_file(path)


# ------------------------------------------------------------------------ CSV / TSV
def read_csv(path, concepts_path=None, types_path=None, **kwargs) -> ConceptNetwork:
    """Edge list (``source, target[, type][, weight]``), optionally with a concepts table
    (``name[, layer]``) and a relation-type table (``name, sign, gain, symmetric, forward,
    reverse``); see :meth:`ConceptNetwork.from_csv`.  Rows without a type are directed
    ``link`` relations unless ``default_type`` says otherwise."""
    return ConceptNetwork.from_csv(path, concepts_path, types_path=types_path, **kwargs)


def write_csv(network: ConceptNetwork, path, concepts_path=None, types_path=None,
              **kwargs) -> None:
    """Write the relations (and optionally the concepts and the relation types)."""
    network.to_csv(path, concepts_path, types_path=types_path, **kwargs)


# ------------------------------------------------------- any format a config reads
#: The formats :func:`write_network` writes, by file suffix (each one a config reads back
#: with ``[network] file = ...``; JSON and GraphML keep everything).
NETWORK_WRITERS = {".json": "json", ".graphml": "graphml", ".gexf": "gexf"}


def network_format(path) -> str:
    """The format :func:`write_network` writes ``path`` in (from its suffix)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in NETWORK_WRITERS:
        raise ConfigError(f"{path}: cannot tell the network format from the suffix "
                          f"{suffix or '(none)'!r}; use one of "
                          + ", ".join(NETWORK_WRITERS) + " (.json keeps everything)")
    return NETWORK_WRITERS[suffix]


def write_network(network: ConceptNetwork, path) -> None:
    """Write ``network`` in the format its suffix names (``.json``: the description of
    :meth:`ConceptNetwork.to_dict`; ``.graphml``, ``.gexf``), atomically: the file appears
    whole or not at all, so a config that reads it (``[network] file``) never sees half."""
    fmt = network_format(path)
    fd, tmp = make_temp(path, os.path.splitext(os.fspath(path))[1])
    os.close(fd)
    try:
        if fmt == "json":
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(network.to_dict(), f)
                f.write("\n")
        else:
            (write_graphml if fmt == "graphml" else write_gexf)(network, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        replace_durably(tmp, os.fspath(path))
    except BaseException:
        remove_quietly(tmp)
        raise


# ---------------------------------------------------------------- GraphML and GEXF
def write_graphml(network: ConceptNetwork, path) -> None:
    """GraphML through networkx (:meth:`ConceptNetwork.to_networkx`)."""
    import networkx as nx
    nx.write_graphml(network.to_networkx(), os.fspath(path))


def read_graphml(path, **kwargs) -> ConceptNetwork:
    """A network written by :func:`write_graphml` or any GraphML graph (edge attributes
    ``type``/``weight``, node attribute ``layer``; see :meth:`ConceptNetwork.from_networkx`).
    Edges without a type get ``default_type``: by default ``link`` (directed) when the file
    says ``edgedefault="directed"``, ``association`` (symmetric) when it is undirected."""
    import networkx as nx
    p = _exists(path)
    with _open(p) as f:
        try:
            g = nx.read_graphml(f, force_multigraph=True)
        except Exception as e:  # networkx raises several types for malformed XML
            raise NetworkError(f"{p}: not a readable GraphML file ({_short(e)})") from None
    return _from_graph(p, g, kwargs)


def _open(p):
    """The regular file ``p`` opened for reading (never a device or a FIFO), within the
    input size limit (``THOUGHTFIELD_MAX_INPUT_SIZE``)."""
    from ._inputs import open_regular
    return open_regular(p, "input", error=NetworkError)


def _short(e: Exception) -> str:
    from ._inputs import printable
    if isinstance(e, RecursionError):
        return "elements nested too deeply"
    if isinstance(e, MemoryError):
        return "not enough memory"
    msg = printable(str(e) or type(e).__name__)
    return msg if len(msg) <= 200 else msg[:197] + "..."


def _from_graph(p, g, kwargs) -> ConceptNetwork:
    """``ConceptNetwork.from_networkx`` with errors naming the file."""
    try:
        return ConceptNetwork.from_networkx(g, **kwargs)
    except NetworkError as e:
        raise e.at(str(p), source=str(p)) from None


_GEXF_NS = "http://www.gexf.net/1.2draft"


def write_gexf(network: ConceptNetwork, path) -> None:
    """GEXF 1.2 through networkx; relation types in the edge attribute ``relation``."""
    import xml.etree.ElementTree as ET

    import networkx as nx
    g = network.to_networkx()
    layers, types = g.graph.pop("layers", None), g.graph.pop("relation_types")
    for _, _, d in g.edges(data=True):
        d["relation"] = d.pop("type")
    p = os.fspath(path)
    nx.write_gexf(g, p)
    ET.register_namespace("", _GEXF_NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    tree = ET.parse(p)
    meta = tree.getroot().find(f"{{{_GEXF_NS}}}meta")
    desc = ET.SubElement(meta, f"{{{_GEXF_NS}}}description")
    info = {"layers": layers.split("|")} if layers is not None else {}   # none: no layers
    desc.text = json.dumps({"thoughtfield": {**info, "relation_types": json.loads(types)}})
    tree.write(p, encoding="utf-8", xml_declaration=True)


def read_gexf(path, **kwargs) -> ConceptNetwork:
    """A network written by :func:`write_gexf` or any GEXF graph (edge attribute
    ``relation`` for the type).  Edges without one get ``default_type``: by default
    ``link`` (directed) when the file says ``defaultedgetype="directed"``, ``association``
    (symmetric) when it is undirected."""
    import xml.etree.ElementTree as ET

    import networkx as nx
    p = _exists(path)
    with _open(p) as f:
        try:
            root = ET.parse(f).getroot()
            f.seek(0)
            g = nx.read_gexf(f)
        except Exception as e:
            raise NetworkError(f"{p}: not a readable GEXF file ({_short(e)})") from None
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    desc = root.find(f"{ns}meta/{ns}description")
    if desc is not None and desc.text:
        try:
            info = json.loads(desc.text)
        except (ValueError, RecursionError):
            info = None   # a plain-text description written by another program
        info = info.get("thoughtfield") if isinstance(info, dict) else None
        if isinstance(info, dict):
            try:
                if "layers" in info and "layers" not in kwargs:
                    layers = info["layers"]
                    if not isinstance(layers, list):
                        raise NetworkError(f"<meta><description> layers: expected a list of "
                                           f"names (got {V.show(layers)})")
                    kwargs["layers"] = tuple(layers)
                if "relation_types" in info:
                    kwargs["relation_types"] = _merged_types(relation_types_from(
                        info["relation_types"], "<meta><description> relation_types"),
                        kwargs.get("relation_types"))
            except NetworkError as e:
                raise e.at(str(p), source=str(p)) from None
    kwargs.setdefault("type_attr", "relation")
    return _from_graph(p, g, kwargs)


# -------------------------------------------------------------------------- spreadr
def write_spreadr_network(network: ConceptNetwork, path, *, max_concepts: int = 20_000) -> None:
    """spreadr's network input: a square CSV adjacency matrix with a header row of names and
    the names as row labels (R: ``read.csv(path, row.names = 1, check.names = FALSE)``).

    Entry ``[i, j]`` is the weight with which ``i`` spreads to ``j`` (the effective
    coupling ``W[j, i]``, see :meth:`ConceptNetwork.to_scipy`).  spreadr rejects negative
    weights, so inhibitory couplings are an error here; drop those relation types first.
    The matrix is dense, as in spreadr: at most ``max_concepts`` concepts.
    """
    if network.n > max_concepts:
        raise NetworkError(f"write_spreadr_network: {network.n} concepts would make a dense "
                           f"{network.n}x{network.n} matrix; raise max_concepts (now "
                           f"{max_concepts}) if you really want it, or take a subnetwork")
    A, names = network.to_scipy()
    if A.nnz and A.data.min() < 0:
        k = int(np.argmax(A.data < 0))
        coo = A.tocoo()
        raise NetworkError(f"write_spreadr_network: the coupling {names[coo.row[k]]!r} -> "
                           f"{names[coo.col[k]]!r} is negative ({coo.data[k]:g}); spreadr "
                           "needs non-negative weights -- drop the inhibitory relation types "
                           "with network.drop_types([...]) first")
    dense = A.toarray()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=_delimiter(path, None))
        w.writerow([""] + names)
        for nm, row in zip(names, dense):
            w.writerow([nm] + [_num(x) for x in row])


def _num(x: float) -> str:
    return "0" if x == 0 else repr(float(x))


def read_spreadr_network(path, *, relation: str = "link", **kwargs) -> ConceptNetwork:
    """Read an adjacency matrix with a header row of names and row names (as written by R's
    ``write.csv(mat)`` or :func:`write_spreadr_network`); ``[i, j]`` is the weight of
    ``i -> j``.  Every non-zero entry becomes one relation of type ``relation`` (default
    ``link``: directed, the exact spreadr semantics).  A matrix without row names is
    accepted when it is square with the header's names."""
    p = _exists(path)
    rows = ((ln, r) for ln, r in _csv_file_rows(p, _delimiter(p, None)) if r)
    try:
        _, header = next(rows)
    except StopIteration:
        raise NetworkError(f"{p}: empty file; expected a header row of concept names") from None
    width = len(header)
    _check_dense(p, width)
    # read as a stream: each row becomes numbers at once (memory: the matrix, not the text);
    # row[0] is a row name or the first column, which the row count decides at the end
    vals = np.zeros((width, max(width - 1, 0)))
    first: list[str] = []
    lines: list[int] = []
    n = 0
    for ln, r in rows:
        if len(r) != width:
            raise NetworkError(f"expected {width} fields, got {len(r)}",
                               where=f"{p} line {ln}", source=str(p), line=ln)
        if n < width:
            vals[n] = _row_numbers(p, ln, r[1:], header[1:])
            first.append(r[0])
            lines.append(ln)
        n += 1
    if width == n + 1:
        names, labels = header[1:], first
        vals = vals[:n]
    elif width == n:
        names, labels = header, None
        col0 = _row_numbers(p, None, first, [header[0]] * n, lines)
        vals = np.concatenate([col0[:, None], vals[:n]], axis=1)
    else:
        raise NetworkError(f"{p}: {width} header fields for {n} rows; expected a square "
                           "matrix with a header row of names (and the names as row labels)")
    names = [x.strip() for x in names]
    if labels is not None:
        labels = [x.strip() for x in labels]
        if labels != names:
            k = next(i for i, (a, b) in enumerate(zip(labels, names)) if a != b)
            raise NetworkError(f"row name {V.show(labels[k])} differs from "
                               f"column name {V.show(names[k])}; rows and columns must list the "
                               "concepts in the same order",
                               where=f"{p} line {lines[k]}", source=str(p), line=lines[k])
    try:
        return ConceptNetwork.from_scipy(vals, names, relation=relation, **kwargs)
    except NetworkError as e:
        raise e.at(str(p), source=str(p)) from None


def _check_dense(p, width: int) -> None:
    """A dense ``width x width`` matrix must fit the memory guard before it is allocated."""
    from ._inputs import human
    from .errors import ResourceError
    from ._limits import memory_limit
    need = 8 * width * width
    limit, source = memory_limit(None)
    if limit is not None and need > limit:
        raise ResourceError(f"{p}: a {width}x{width} adjacency matrix needs {human(need)} of "
                            f"memory, more than the limit {human(limit)} ({source}); give the "
                            "network as an edge list (CSV source,target,weight) instead")


def _row_numbers(p, ln, cells, columns, lines=None) -> np.ndarray:
    """One matrix row (or column, with ``lines``) as floats: empty and NA are 0; other text
    and non-finite values are errors naming the line and column."""
    try:
        out = np.array(cells, dtype=np.float64)
        if np.isfinite(out).all():
            return out
    except ValueError:
        pass
    out = np.zeros(len(cells))
    for j, c in enumerate(cells):
        c = c.strip()
        where = f"{p} line {ln if lines is None else lines[j]}, column {V.show(columns[j].strip())}"
        try:
            v = float(c) if c not in ("", "NA") else 0.0
        except ValueError:
            raise NetworkError(f"{where}: not a number ({V.show(c)})") from None
        if not math.isfinite(v):
            raise NetworkError(f"{where}: must be finite (got {V.show(c)})")
        out[j] = v
    return out


def read_start_run(path) -> list[Pulse]:
    """spreadr's ``start_run`` table (columns ``node``, ``activation`` and optional
    ``time``, default 0) as a list of :class:`~thoughtfield.Pulse` injections: row
    ``(node, activation, time)`` becomes ``Pulse(node, time, time + 1, activation)``."""
    p = _exists(path)
    from .network import _read_table
    out = []
    for lineno, row in _read_table(p, None, required=("node", "activation"),
                                   optional=("time",)):
        try:
            act = float(row["activation"])
            t = float(row.get("time") or 0)
        except ValueError:
            raise NetworkError("activation and time must be numbers "
                               f"(got {row.get('activation')!r}, {row.get('time')!r})",
                               where=f"{p} line {lineno}", source=str(p), line=lineno) from None
        if not math.isfinite(t) or t < 0 or t != int(t):
            raise NetworkError(f"time must be a whole number >= 0 (got {row.get('time')!r})",
                               where=f"{p} line {lineno}", source=str(p), line=lineno)
        try:
            out.append(Pulse(row["node"], t, t + 1, act))
        except ConfigError as e:
            raise e.at(f"{p} line {lineno}", source=str(p), line=lineno,
                       cls=NetworkError) from None
    return out


def write_start_run(stimuli, path) -> None:
    """Write pulses as a spreadr ``start_run`` table (``node, activation, time``): a pulse
    over several steps becomes one row per step; clamps and open-ended pulses have no
    spreadr equivalent and are errors."""
    rows = []
    for k, s in enumerate(as_stimuli(stimuli)):
        if isinstance(s, Clamp):
            raise ConfigError(f"stimuli[{k}]: spreadr has no clamps; only pulses can be written",
                              key=f"stimuli[{k}]")
        if s.member is not None:
            raise ConfigError(f"stimuli[{k}].member: spreadr has no ensembles; write one member's "
                              "pulses without member", key=f"stimuli[{k}].member")
        if not math.isfinite(s.stop):
            raise ConfigError(f"stimuli[{k}].stop: the pulse on {s.concept!r} never ends; give a "
                              "finite stop (steps start <= t < stop get the activation)",
                              key=f"stimuli[{k}].stop")
        first = math.ceil(s.start)
        for t in range(first, math.ceil(s.stop)):
            rows.append((s.concept, s.amplitude, t))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=_delimiter(path, None))
        w.writerow(["node", "activation", "time"])
        for nm, a, t in rows:
            w.writerow([nm, repr(float(a)), t])


def to_spreadr_table(ds, include_t0: bool = False):
    """A result as spreadr's long table: a :class:`pandas.DataFrame` with columns
    ``node``, ``activation``, ``time`` (and ``member`` for ensembles), ordered by time and
    then by concept as spreadr orders its output.  ``include_t0`` keeps the state at the
    first saved step (spreadr drops it by default)."""
    import pandas as pd
    act = ds["activation"]
    if "member" in act.dims:
        frames = [to_spreadr_table(ds.isel(member=k), include_t0).assign(member=k)
                  for k in range(ds.sizes["member"])]
        return pd.concat(frames, ignore_index=True)
    times = ds["time"].values
    vals = act.transpose("time", "concept").values
    if not include_t0 and times.size:
        times, vals = times[1:], vals[1:]
    n = ds.sizes["concept"]
    t = np.repeat(times, n)
    tint = t.astype(np.int64)
    return pd.DataFrame({
        "node": np.tile(np.asarray(ds["concept"].values, dtype=object), times.size),
        "activation": vals.ravel(),
        "time": tint if np.array_equal(tint, t) else t,
    })


def write_spreadr_table(ds, path, include_t0: bool = False) -> None:
    """Write a discrete-mode result as spreadr's long output table (``node, activation,
    time``; see :func:`thoughtfield.to_spreadr_table`)."""
    V.boolean("include_t0", include_t0)
    to_spreadr_table(ds, include_t0).to_csv(os.fspath(path), index=False,
                                             sep=_delimiter(path, None), float_format="%.17g")
