"""The analysis in configs and figures: the ``[attractors]`` section (read by
``thoughtfield attractors``) and the plot kinds ``energy`` and ``explanation``."""

from __future__ import annotations

from types import MappingProxyType

from ._schema import Bool, Field, Int, ListOf, MapOf, Real, Section, Str, Struct
from .analysis._settings import AttractorSettings
from .config import TIME, register_section
from .errors import ConfigError
from .plots import register_plot
from .summary import register_summary
from .transfers import names as transfer_names


def _validate(d, key):
    box = d.get("box")
    if box is not None:
        if len(box) != 2:
            raise ConfigError(f"{key}.box: must be [low, high] (got {len(box)} values)",
                              key=f"{key}.box")
        if not box[1] > box[0]:
            raise ConfigError(f"{key}.box: high must be > low (got [{box[0]:g}, {box[1]:g}])",
                              key=f"{key}.box")
    return d


_ATTRACTORS = Struct({
    "samples": Field(Int(min=1, max=10_000_000), 200, "Random initial states (uniform over `box`)."),
    "inputs_at": Field(Real(min=0), None, "Freeze the config's stimuli at this time and analyse "
                       "the dynamics with those inputs.", unit="time",
                       default_doc="no input (the network's own attractors)"),
    "ideas": Field(MapOf(ListOf(Str(name=True), min_len=1), key_doc="IDEA"), None,
                   "Named sets of concepts; every attractor is matched against them (Jaccard "
                   "index of the active concepts >= `match`).", default_doc="none"),
    "match": Field(Real(min=0, max=1, min_inclusive=False), 0.9,
                   "Similarity needed to call an attractor by an idea's name.", unit="1"),
    "active": Field(Real(), None, "Activation at which a concept counts as active in labels.",
                    unit="activation",
                    default_doc=f"0.5 ({'/'.join(transfer_names(saturating=True))}), "
                                "else half the peak"),
    "label_size": Field(Int(min=1, max=100), 3, "Concepts named in an attractor's label."),
    "saddles": Field(Bool(), False, "Also locate the saddles on the basin boundaries between "
                     "pairs of attractors."),
    "max_pairs": Field(Int(min=0, max=10_000), 10, "Attractor pairs searched for saddles "
                       "(closest first)."),
    "box": Field(ListOf(Real()), None, "[low, high] range of the random initial activations.",
                 unit="activation", default_doc="the range of the transfer function"),
    "t_end": Field(Real(min=0, min_inclusive=False), None, "Integration time of the first round "
                   "(later rounds are four times longer).", unit="time",
                   default_doc="50 * max(tau)"),
    "steady_tol": Field(Real(min=0, min_inclusive=False), 1e-5, "A run stops once every "
                        "member has max |da/dt| below this.", unit="activation/time"),
    "cluster_tol": Field(Real(min=0, min_inclusive=False), 1e-3, "End states closer than this "
                         "(max-norm) belong to the same attractor.", unit="activation"),
    "max_rounds": Field(Int(min=1, max=100), 4, "Integration rounds before a member counts as "
                        "unresolved."),
    "ci": Field(Real(min=0, max=1, min_inclusive=False, max_inclusive=False), 0.95,
                "Confidence level of the basin-fraction intervals (Wilson).", unit="1"),
    "path": Field(Str(), None, "Catalogue file written by `thoughtfield attractors` (its "
                  "--out wins).", default_doc="CONFIG_NAME_attractors.nc"),
}, validate=_validate)


def _build(d, ctx):
    if d is None:
        return None
    d = dict(d)
    if "ideas" in d:
        d["ideas"] = MappingProxyType({k: tuple(v) for k, v in d["ideas"].items()})
    if "box" in d:
        d["box"] = tuple(d["box"])
    return AttractorSettings(**d)


def _check(settings, ctx):
    if settings is None:
        return
    net = ctx.network
    for name, members in settings.ideas.items():
        for i, c in enumerate(members):
            net.index(c, f"attractors.ideas.{name}[{i}]")
    run = ctx["run"]
    if settings.inputs_at is not None and not (run.t0 <= settings.inputs_at <= run.t_end):
        raise ConfigError(f"attractors.inputs_at: {settings.inputs_at:g} is outside the run "
                          f"[{run.t0:g}, {run.t_end:g}]", key='attractors.inputs_at')


register_section(Section(
    "attractors", _ATTRACTORS,
    doc="Settings of `thoughtfield attractors CONFIG`: the attractor catalogue of the "
        "configured network and model (random initial states integrated to convergence, "
        "refined by Newton's method, clustered, labelled). It does not change `thoughtfield "
        "run`.",
    build=_build, check=_check))


# ----------------------------------------------------------------------- [memory]
_MEMORY = Struct({
    "decay": Field(Real(min=0, max=1, min_inclusive=False, max_inclusive=False), 0.5,
                   "`d` of base-level learning `B = ln sum (t - t_k)^-d` (ACT-R's :bll).",
                   unit="1"),
    "strength": Field(Real(), None, "`S`, the maximum associative strength (ACT-R's :mas): "
                      "a source spreads `S - ln(fan)` to each concept related to it.",
                      unit="1", default_doc="no spreading"),
    "source_activation": Field(Real(min=0), 1.0, "`W`, shared equally by the sources.",
                               unit="1"),
    "sources": Field(ListOf(Str(name=True)), [], "The concepts in focus that spread "
                     "activation."),
    "threshold": Field(Real(), 0.0, "Retrieval threshold `tau` (ACT-R's :rt).", unit="1"),
    "noise": Field(Real(min=0), 0.0, "Activation noise scale `s` (ACT-R's :ans): a retrieval "
                   "succeeds with probability `1 / (1 + exp(-(A - tau) / s))`; 0: exactly "
                   "when `A >= tau`.", unit="1"),
    "latency_factor": Field(Real(min=0, min_inclusive=False), 1.0, "`F` of the retrieval "
                            "latency `F exp(-f A)` (ACT-R's :lf).", unit=TIME),
    "latency_exponent": Field(Real(min=0, min_inclusive=False), 1.0, "`f` of the retrieval "
                              "latency (ACT-R's :le).", unit="1"),
    "retrieved_at": Field(Real(), 0.5, "Activation at which the dynamics count as a "
                          "retrieval of a concept (each rise to it adds a presentation, as "
                          "a stimulus onset does); above the transfer's range, only stimuli "
                          "count.", unit="activation"),
})


def _check_memory(settings, ctx):
    for i, c in enumerate(settings["sources"]):
        ctx.network.index(c, f"memory.sources[{i}]")


def _memory_result(settings, ds, cfg):
    from .analysis._memory import add_memory
    if "activation" in ds and "time" in ds.dims and "concept" in ds.dims:
        add_memory(ds, cfg.network, **settings)


register_section(Section(
    "memory", _MEMORY,
    doc="ACT-R declarative memory of the concepts, computed from the run: base-level "
        "learning from when each concept was presented (a stimulus onset) or retrieved "
        "(its activation rose to `retrieved_at`), spreading from the sources in focus, "
        "retrieval probability and latency at every save time. The result gains "
        "`base_level`, `memory_activation`, `retrieval_probability`, `retrieval_latency` "
        "(time, concept), `spreading` and `presentations` (concept).",
    build=lambda d, ctx: None if d is None else dict(d, sources=tuple(d.get("sources", ()))),
    check=_check_memory, result=_memory_result))


# ----------------------------------------------------------------------- plot kinds
# (the analysis and its figures load numba, xarray and matplotlib: imported when drawn)
def _plot_energy(ds, ax=None, member=None):
    from .analysis.plots import plot_energy
    return plot_energy(ds, ax=ax, member=member)


def _plot_explanation(ds, ax=None, member=None, target=None):
    from .analysis._explain import explain
    from .analysis.plots import plot_explanation
    return plot_explanation(explain(ds, target, member=member), ax=ax)


def _plot_basins(ds, ax=None):
    from .analysis.plots import plot_attractors
    return plot_attractors(ds, ax=ax)


def _plot_memory(ds, ax=None, member=None):
    from .analysis.plots import plot_memory
    return plot_memory(ds, ax=ax, member=member)


register_plot("memory", _plot_memory, "ACT-R retrieval latency of the presented concepts "
              "over time (a [memory] section)")
register_plot("basins", _plot_basins,
              "an attractor catalogue's basin fractions ('thoughtfield attractors' output)")
register_plot("energy", _plot_energy, "Lyapunov energy over time (symmetric weights)")
register_plot("explanation", _plot_explanation,
              "strongest paths from the stimulated concepts to the most active one")


# ----------------------------------------------------------------------- summary
def _catalogue_lines(ds, top: int = 5) -> list[str]:
    """The attractor table of a catalogue written by ``thoughtfield attractors``."""
    if "basin_fraction" not in ds or "attractor" not in ds.dims:
        return []
    from .analysis._attractors import attractor_table
    return attractor_table(ds).splitlines()


register_summary("attractors", _catalogue_lines)


def _memory_lines(ds, top: int = 5) -> list[str]:
    """The most available concepts at the end of a run with ``[memory]``."""
    if "retrieval_latency" not in ds or "time" not in ds.dims:
        return []
    lat = ds["retrieval_latency"].isel(time=-1)
    prob = ds["retrieval_probability"].isel(time=-1)
    if "member" in lat.dims:
        lat, prob = lat.mean("member"), prob.mean("member")
    finite = [c for c in lat.concept.values if float(lat.sel(concept=c)) < float("inf")]
    if not finite:
        return ["memory: no concept was presented or retrieved"]
    best = sorted(finite, key=lambda c: float(lat.sel(concept=c)))[:top]
    t_end = float(ds["time"].values[-1])
    members = (f", mean of {ds.sizes['member']} members"
               if "member" in ds["retrieval_latency"].dims else "")
    return [f"memory at t = {t_end:g} (ACT-R{members}): " + ", ".join(
        f"{c} latency {float(lat.sel(concept=c)):.3g} p {float(prob.sel(concept=c)):.2f}"
        for c in best)]


register_summary("memory", _memory_lines, before="activity")
