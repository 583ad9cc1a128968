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

from . import checkpoint, datasets, io, plots, resources
from .config import SimulationConfig, load_config, run_config
from . import _mechanism_config, plots_mechanisms  # noqa: F401  (register sections, plots)
from .errors import (CheckpointError, ConfigError, DivergenceError, NetworkError, ResourceError,
                     SimulationError, SolverError, ThoughtfieldError)
from .mechanisms import (Adaptation, Choice, Control, Goals, Idea, Ideas, LayerProjection, Layers,
                         Pool)
from .model import TRANSFERS, Model
from .network import DEFAULT_LAYERS, ConceptNetwork, RelationType
from .plots import plot_heatmap, plot_network, plot_overview, plot_trajectories
from .protocol import Condition, Protocol, format_trial_summary, run_protocol, trial_summary
from .readouts import Visit, choice_summary, format_train, train_of_thought
from .results import load_result, save_result
from .discrete import DiscreteSimulation, Spreadr, to_spreadr_table
from .simulate import Simulation, simulate
from .solvers import METHODS, Solver
from .stimuli import Clamp, Pulse
from . import ensemble  # noqa: E402,F401 - registers the [members] config section
from .sweeps import Sweep, plot_sweep, point_config, point_seed, readout, sweep  # noqa: E402 - [sweep] section

__all__ = [
    "__version__", "datasets", "io", "ConceptNetwork", "RelationType", "DEFAULT_LAYERS", "Model", "TRANSFERS",
    "Pulse", "Clamp", "Solver", "METHODS", "simulate", "Simulation", "save_result", "load_result",
    "Spreadr", "DiscreteSimulation", "to_spreadr_table",
    "checkpoint", "resources", "CheckpointError",
    "ThoughtfieldError", "ConfigError", "NetworkError", "ResourceError", "SimulationError",
    "DivergenceError", "SolverError", "load_config", "run_config", "SimulationConfig", "plots",
    "plot_trajectories", "plot_heatmap", "plot_network", "plot_overview",
    "sweep", "Sweep", "readout", "point_seed", "point_config", "plot_sweep",
    # mechanisms
    "Adaptation", "Goals", "Layers", "LayerProjection", "Pool", "Choice", "Control", "Idea", "Ideas",
    "train_of_thought", "format_train", "Visit", "choice_summary",
    "Condition", "Protocol", "run_protocol", "trial_summary", "format_trial_summary",
]

# analysis of the dynamics: fixed points, stability, attractors, energy, explanations
from . import analysis  # noqa: E402
from .analysis import (AnalysisError, FixedPointError, attractor_table, attractors,  # noqa: E402
                       energy, explain, fixed_point, fixed_points, flows, stability, steady_state)

__all__ += [
    "analysis", "fixed_point", "fixed_points", "steady_state", "stability", "attractors",
    "attractor_table", "energy", "flows", "explain", "AnalysisError", "FixedPointError",
]
