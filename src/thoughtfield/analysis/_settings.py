"""The options of an attractor analysis, as one object (the ``[attractors]`` section of a
config builds one; :func:`~thoughtfield.attractors` takes its :meth:`~AttractorSettings.kwargs`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class AttractorSettings:
    """The checked ``[attractors]`` section: arguments of :func:`~thoughtfield.attractors`."""
    samples: int = 200
    inputs_at: float | None = None
    ideas: Mapping = field(default_factory=lambda: MappingProxyType({}))
    match: float = 0.9
    active: float | None = None
    label_size: int = 3
    saddles: bool = False
    max_pairs: int = 10
    box: tuple | None = None
    t_end: float | None = None
    steady_tol: float = 1e-5
    cluster_tol: float = 1e-3
    max_rounds: int = 4
    ci: float = 0.95
    path: str | None = None

    def kwargs(self) -> dict:
        """Keyword arguments of :func:`~thoughtfield.attractors` (without the system)."""
        kw = {"samples": self.samples, "match": self.match, "label_size": self.label_size,
              "saddles": self.saddles, "max_pairs": self.max_pairs, "steady_tol": self.steady_tol,
              "cluster_tol": self.cluster_tol, "max_rounds": self.max_rounds, "ci": self.ci}
        for k in ("active", "t_end"):
            if getattr(self, k) is not None:
                kw[k] = getattr(self, k)
        if self.box is not None:
            kw["box"] = tuple(self.box)
        if self.ideas:
            kw["patterns"] = {k: list(v) for k, v in self.ideas.items()}
        return kw
