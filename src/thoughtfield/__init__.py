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

__version__ = "0.1.0"

from . import datasets, plots
from .config import SimulationConfig, load_config, run_config
from .errors import (ConfigError, DivergenceError, NetworkError, ResourceError, SimulationError,
                     SolverError, ThoughtfieldError)
from .model import TRANSFERS, Model
from .network import DEFAULT_LAYERS, ConceptNetwork, RelationType
from .plots import plot_heatmap, plot_network, plot_overview, plot_trajectories
from .results import load_result, save_result
from .simulate import Simulation, simulate
from .solvers import METHODS, Solver
from .stimuli import Clamp, Pulse

__all__ = [
    "__version__", "datasets", "ConceptNetwork", "RelationType", "DEFAULT_LAYERS", "Model", "TRANSFERS",
    "Pulse", "Clamp", "Solver", "METHODS", "simulate", "Simulation", "save_result", "load_result",
    "ThoughtfieldError", "ConfigError", "NetworkError", "ResourceError", "SimulationError",
    "DivergenceError", "SolverError", "load_config", "run_config", "SimulationConfig", "plots",
    "plot_trajectories", "plot_heatmap", "plot_network", "plot_overview",
]
