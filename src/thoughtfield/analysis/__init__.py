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
* :func:`actr_memory`, :func:`presentations` -- ACT-R declarative memory (base-level
  learning, spreading, retrieval probability and latency) of the concepts of a run.
* :mod:`thoughtfield.analysis.plots` -- figures.
"""


_EXPORTS = {
    "AttractorSettings": "_settings", "Dynamics": "_dynamics",
    "attractor_table": "_attractors", "attractors": "_attractors",
    "resolve_patterns": "_attractors", "wilson_interval": "_attractors",
    "energy": "_energy", "energy_of": "_energy",
    "Explanation": "_explain", "Path": "_explain", "explain": "_explain", "flows": "_explain",
    "AnalysisError": "_fixed_points", "FixedPoint": "_fixed_points",
    "FixedPointError": "_fixed_points", "Stability": "_fixed_points",
    "fixed_point": "_fixed_points", "fixed_points": "_fixed_points",
    "stability": "_fixed_points", "steady_state": "_fixed_points",
    "actr_memory": "_memory", "presentations": "_memory",
    "plot_attractors": "plots", "plot_energy": "plots", "plot_explanation": "plots",
    "plot_phase_portrait": "plots", "plot_train_of_thought": "plots",
}


def __getattr__(name):   # PEP 562: the submodules load on first use
    import importlib
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "AttractorSettings", "Dynamics", "attractors", "attractor_table", "resolve_patterns", "wilson_interval", "energy",
    "energy_of", "flows", "explain", "Explanation", "Path", "fixed_point", "fixed_points",
    "steady_state", "stability", "FixedPoint", "Stability", "AnalysisError", "FixedPointError",
    "actr_memory", "presentations",
    "plot_attractors", "plot_energy", "plot_explanation", "plot_phase_portrait",
    "plot_train_of_thought",
]
