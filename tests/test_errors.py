"""Errors travel between processes (dask workers send them back pickled): every error
class of the package survives a pickle round trip with its class, message and fields."""

import pickle

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.analysis import AnalysisError, FixedPointError

CASES = [
    tf.ConfigError("model.tau: must be > 0 (got -1)"),
    tf.NetworkError("duplicate concept 'a'"),
    tf.ResourceError("needs 9 GB"),
    tf.CheckpointError("truncated"),
    tf.SimulationError("failed", time=1.5, concept="a", status="x"),
    tf.DivergenceError("non-finite", time=2.0, concept="b", status="diverged"),
    tf.SolverError("step size collapsed", time=0.1, status="step_size"),
    AnalysisError("no attractor"),
    FixedPointError("Newton did not converge", residual=0.25, iterations=7,
                    state=np.array([0.1, 0.2])),
    tf.Interrupted("interrupted at t = 3", checkpoint="run.checkpoint", signum=2, time=3.0),
]


@pytest.mark.parametrize("err", CASES, ids=[type(e).__name__ for e in CASES])
def test_errors_survive_pickling(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    for k, v in vars(err).items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(back, k), v)
        else:
            assert getattr(back, k) == v, k
