"""The ``runs`` benchmark section asks for threads where a user of a network that large
gets them (issue 18): from ``PARALLEL_MIN_WORK`` edges on, numba's thread count."""

from types import SimpleNamespace

import numba

from thoughtfield.bench import runs
from thoughtfield.simulate import PARALLEL_MIN_WORK


def _prob(nnz, n):
    return SimpleNamespace(W=SimpleNamespace(nnz=nnz), n=n)


def test_runs_ask_for_threads_from_the_automatic_threshold_on():
    assert runs.run_threads(_prob(PARALLEL_MIN_WORK - 11, 10)) is None
    assert runs.run_threads(_prob(PARALLEL_MIN_WORK - 10, 10)) == numba.get_num_threads()
    assert runs.run_threads(runs.Problem("random", 100)) is None
