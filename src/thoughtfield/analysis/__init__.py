"""Analysis of the dynamics: fixed points, stability, attractor catalogues, energy and
explanations.

>>> import thoughtfield as tf
>>> net = tf.ConceptNetwork(["left", "right"], [("left", "right", "contradicts", 2.0)])
>>> model = tf.Model(transfer="sigmoid", gain=5.0, bias=1.0)
>>> cat = tf.attractors(net, model, samples=100, seed=0)
>>> sorted(cat.label.values.tolist())
['{left}', '{right}']

* :func:`fixed_point`, :func:`fixed_points`, :func:`steady_state`, :func:`stability` --
  Newton refinement with the analytic sparse Jacobian, linear steady states, eigenvalues.
* :func:`attractors`, :func:`attractor_table` -- the attractor catalogue.
* :func:`energy` -- the Lyapunov energy of a run (see ``docs/analysis.md``
  for the derivation and its conditions).
* :func:`flows`, :func:`explain` -- activation carried along each relation, explaining paths.
* :mod:`thoughtfield.analysis.plots` -- figures.
"""

from . import _config  # noqa: F401  (registers [attractors] and the plot kinds)
from ._config import AttractorSettings
from ._dynamics import Dynamics
from ._attractors import attractor_table, attractors, resolve_patterns, wilson_interval
from ._energy import energy, energy_of
from ._explain import Explanation, Path, explain, flows
from ._fixed_points import (AnalysisError, FixedPoint, FixedPointError, Stability, fixed_point,
                           fixed_points, stability, steady_state)
from .plots import (plot_attractors, plot_energy, plot_explanation, plot_phase_portrait,
                    plot_train_of_thought)

__all__ = [
    "AttractorSettings", "Dynamics", "attractors", "attractor_table", "resolve_patterns", "wilson_interval", "energy",
    "energy_of", "flows", "explain", "Explanation", "Path", "fixed_point", "fixed_points",
    "steady_state", "stability", "FixedPoint", "Stability", "AnalysisError", "FixedPointError",
    "plot_attractors", "plot_energy", "plot_explanation", "plot_phase_portrait",
    "plot_train_of_thought",
]
