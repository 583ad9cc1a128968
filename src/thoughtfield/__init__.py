"""thoughtfield: thinking as continuous activation dynamics over a network of concepts.

Concepts are nodes of an ontology in abstraction layers, joined by typed, signed
relations; thinking is the trajectory of their activations, integrated as an ODE/SDE by
compiled solvers; results are ``xarray`` Datasets.

>>> import thoughtfield as tf
>>> net = tf.ConceptNetwork({"sun": "image", "sea": "image", "beach": "idea"},
...                         [("sun", "beach"), ("sea", "beach")])
>>> ds = tf.simulate(net, tf.Model(tau=1.0), [tf.Pulse("sun", 0, 2, 1.0)], t_end=5)
>>> ds.activation.dims
('time', 'concept')
"""

import copyreg as _copyreg
import sys as _sys
import types as _types

from ._version import __version__

# The public names, each with the module that defines it.  They are imported on first use
# (PEP 562), so ``import thoughtfield`` -- and ``thoughtfield --help`` or ``validate`` --
# load neither numba nor xarray; a name costs only the modules it needs.
_EXPORTS = {
    # submodules
    "checkpoint": None, "datasets": None, "io": None, "plots": None, "resources": None,
    "ensemble": None, "analysis": None,
    # descriptions
    "ConceptNetwork": "network", "RelationType": "network", "DEFAULT_LAYERS": "network",
    "Model": "model", "TRANSFERS": "model", "Pulse": "stimuli", "Clamp": "stimuli",
    "Solver": "solvers", "METHODS": "solvers", "SaveAt": "saving",
    "Adaptation": "mechanisms", "Goals": "mechanisms", "Layers": "mechanisms",
    "LayerProjection": "mechanisms", "Pool": "mechanisms", "Choice": "mechanisms",
    "Control": "mechanisms", "Idea": "mechanisms", "Ideas": "mechanisms",
    "Plasticity": "mechanisms", "Gate": "mechanisms",
    # configs
    "SimulationConfig": "config", "load_config": "config", "run_config": "config",
    # running
    "simulate": "simulate", "Simulation": "simulate", "make_simulation": "simulate", "compile_kernels": "_warmup",
    "Spreadr": "discrete", "DiscreteSimulation": "discrete", "to_spreadr_table": "io",
    "Condition": "protocol", "Protocol": "protocol", "run_protocol": "trials",
    "RescorlaWagner": "learning", "Growth": "growth", "learned_network": "learning",
    "trial_summary": "readouts", "format_trial_summary": "readouts",
    "sweep": "sweeps", "Sweep": "sweeps", "readout": "sweeps", "point_seed": "sweeps",
    "point_config": "sweeps", "plot_sweep": "sweeps",
    "fit": "fit", "simulate_behaviour": "fit", "read_data": "fit", "FitParam": "fit",
    # results
    "save_result": "results", "load_result": "results",
    "train_of_thought": "readouts", "format_train": "readouts", "Visit": "readouts",
    "choice_summary": "readouts", "layer_summaries": "readouts",
    "plot_trajectories": "plots", "plot_heatmap": "plots", "plot_network": "plots",
    "plot_overview": "plots", "animate_network": "plots",
    # errors
    "ThoughtfieldError": "errors", "ConfigError": "errors", "NetworkError": "errors",
    "ResourceError": "errors", "SimulationError": "errors", "DivergenceError": "errors",
    "SolverError": "errors", "CheckpointError": "errors", "ThoughtfieldWarning": "errors",
    "Interrupted": "errors",
    # analysis of the dynamics: fixed points, stability, attractors, energy, explanations
    "fixed_point": "analysis", "fixed_points": "analysis", "steady_state": "analysis",
    "stability": "analysis", "attractors": "analysis", "attractor_table": "analysis",
    "energy": "analysis", "flows": "analysis", "explain": "analysis",
    "AnalysisError": "analysis", "FixedPointError": "analysis",
}

__all__ = ["__version__", *(k for k in _EXPORTS if k not in ("ensemble",))]


class _Package(_types.ModuleType):
    """The package module.  ``simulate`` (and ``fit``) is both a function and the
    submodule that defines it; importing the submodule would make the package attribute the module (the import
    system sets it), so that assignment is refused: ``thoughtfield.simulate`` stays the
    function (``sys.modules["thoughtfield.simulate"]`` is the module)."""

    def __setattr__(self, name, value):
        if name in ("simulate", "fit") and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


def _reduce_package(module):
    """Pickle the package by reference, as pickle and cloudpickle do plain modules (dask
    ships functions that refer to ``thoughtfield`` to its workers)."""
    import importlib
    return importlib.import_module, (module.__name__,)


_sys.modules[__name__].__class__ = _Package
_copyreg.pickle(_Package, _reduce_package)


def __getattr__(name):
    import importlib
    if name not in _EXPORTS:
        raise AttributeError(f"module 'thoughtfield' has no attribute {name!r}")
    mod = _EXPORTS[name]
    if mod is None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
