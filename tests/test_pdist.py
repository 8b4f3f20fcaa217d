"""The Euclidean distance kernel behind linkage's observation input, against SciPy's pdist."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from threadpoolctl import threadpool_limits

from pixclust import _core


@pytest.mark.parametrize("n,d", [(2, 1), (3, 2), (10, 2), (257, 3), (1000, 8)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bit_identical_to_scipy(rng: np.random.Generator, n: int, d: int, dtype: type) -> None:
    X = (rng.standard_normal((n, d)) * 10 ** rng.uniform(-3, 3)).astype(dtype)
    ours = _core.pdist_euclidean(X)
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(ours, pdist(X, "euclidean"))


def test_tutorial_points() -> None:
    X = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]], float)
    np.testing.assert_array_equal(_core.pdist_euclidean(X), pdist(X))


def test_strided_input_is_not_a_problem(rng: np.random.Generator) -> None:
    X = rng.standard_normal((50, 6))[:, ::2]
    np.testing.assert_array_equal(_core.pdist_euclidean(X), pdist(X))


def test_same_bits_for_any_thread_count(rng: np.random.Generator) -> None:
    X = rng.standard_normal((700, 5))
    results = []
    for threads in (1, 2, 4):
        results.append(_core.pdist_euclidean(X, n_threads=threads))
        with threadpool_limits(limits=threads, user_api="openmp"):
            results.append(_core.pdist_euclidean(X))
    for r in results[1:]:
        assert r.tobytes() == results[0].tobytes()


def test_bad_input_is_refused_not_cast() -> None:
    with pytest.raises(TypeError, match="X: expected dtype float32 or float64, got int64"):
        _core.pdist_euclidean(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="X: expected a 2-D array, got 1-D"):
        _core.pdist_euclidean(np.zeros(3))
    with pytest.raises(ValueError, match="n_threads"):
        _core.pdist_euclidean(np.zeros((3, 2)), n_threads=-1)
    assert _core.pdist_euclidean(np.zeros((1, 2))).shape == (0,)


def test_equal_but_distinct_dtype_objects_are_accepted(rng: np.random.Generator, tmp_path: object) -> None:
    # An unpickled array carries its own float64 dtype object: equal, not identical.
    import pickle

    X = pickle.loads(pickle.dumps(rng.standard_normal((20, 3))))
    np.testing.assert_array_equal(_core.pdist_euclidean(X), pdist(X))
