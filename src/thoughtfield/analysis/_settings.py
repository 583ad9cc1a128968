"""The options of an attractor analysis, as one object (the ``[attractors]`` section of a
config builds one; :func:`~thoughtfield.attractors` takes it as ``settings``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class AttractorSettings:
    """The options of :func:`~thoughtfield.attractors` (the ``[attractors]`` section of a
    config builds one).

    samples
        Number of initial states (``None``: 200 random ones, or one per given state).
    inputs_at
        Freeze the stimuli at this time (``None``: after the last scheduled change).
    ideas
        Named sets of concepts matched against each attractor (used when no ``patterns``
        are given).
    match
        Overlap (bipolar/real patterns) or Jaccard index (sets) needed to match.
    active
        Activation at which a concept counts as active for labels (default 0.5 for the
        bounded transfers, half the largest activation otherwise).
    label_size
        Concepts named in a label.
    saddles, max_pairs
        Also locate the saddles on the basin boundaries between pairs of attractors (at
        most ``max_pairs`` pairs, closest first).
    box
        ``(low, high)`` range of the random initial activations (default: the range of
        the transfer function).
    jitter
        Standard deviation of the Gaussian noise added to given initial states.
    t_end
        Integration time of the first round (default ``50 * max(tau)``, at least five
        time constants of the adaptation and controls; each further round for unsettled
        members is four times longer).
    steady_tol, rtol, atol
        Solver settings: runs stop when every member has ``max |da/dt| < steady_tol``.
        The integration only has to bring each member into its attractor's neighbourhood
        (Newton does the rest), so moderate tolerances suffice; tighten them to resolve
        starts very close to a basin boundary.
    tol
        Newton residual tolerance.
    cluster_tol
        End states within this max-norm distance (activation units) of an attractor
        belong to it.
    max_rounds
        Integration rounds before a member counts as unresolved.
    ci
        Confidence level of the basin-fraction intervals (Wilson).
    path
        The catalogue file ``thoughtfield attractors`` writes (not an option of the
        function).
    """
    samples: int | None = None
    inputs_at: float | None = None
    ideas: Mapping = field(default_factory=lambda: MappingProxyType({}))
    match: float = 0.9
    active: float | None = None
    label_size: int = 3
    saddles: bool = False
    max_pairs: int = 10
    box: tuple | None = None
    jitter: float = 0.0
    t_end: float | None = None
    steady_tol: float = 1e-5
    rtol: float = 1e-6
    atol: float = 1e-8
    tol: float = 1e-10
    cluster_tol: float = 1e-3
    max_rounds: int = 4
    ci: float = 0.95
    path: str | None = None
