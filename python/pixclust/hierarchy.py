"""Hierarchical clustering with SciPy's answers: :func:`linkage`, and :func:`linkage_vector` from
observations without the distance matrix.

The result is the very ``(n-1, 4)`` matrix :func:`scipy.cluster.hierarchy.linkage` returns, so everything
in :mod:`scipy.cluster.hierarchy` (``fcluster``, ``dendrogram``, ``cophenet``, ``leaves_list``, ...)
works on it unchanged.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any, Callable, Union

import numpy as np
import numpy.typing as npt

from pixclust import _core

__all__ = ["linkage", "linkage_vector"]

# SciPy's method table (a dict, so that an unhashable method raises SciPy's TypeError).
_LINKAGE_METHODS = {
    "single": 0,
    "complete": 1,
    "average": 2,
    "centroid": 3,
    "median": 4,
    "ward": 5,
    "weighted": 6,
}
_EUCLIDEAN_METHODS = ("centroid", "median", "ward")
# What linkage_vector computes without the matrix.
_VECTOR_METHODS = ("single", "ward", "centroid", "median")
_VECTOR_METRICS = ("euclidean", "sqeuclidean", "cityblock", "chebyshev", "cosine")
# Whole-number weights up to this sum add exactly in float64.
_MAX_WEIGHT_SUM = 2**53

Metric = Union[str, Callable[..., float]]

_SQUARE_WARNING = (
    "The symmetric non-negative hollow observation matrix looks suspiciously like an uncondensed distance matrix"
)


# SciPy is imported where it is used, not with pixclust: its import was most of `import pixclust`'s time,
# which every command-line run pays.
def _scipy_distance() -> Any:
    from scipy.spatial import distance  # type: ignore[import-untyped]

    return distance


def _scipy_hierarchy() -> Any:
    from scipy.cluster import hierarchy  # type: ignore[import-untyped]

    return hierarchy


def _as_float_array(y: npt.ArrayLike) -> tuple[npt.NDArray[Any], bool]:
    """``y`` as a C-ordered float32 or float64 array, and whether that array is our own copy.

    float32 stays float32 (half the memory; computed in float32, see :func:`linkage`); everything else
    is converted to float64 as SciPy converts it.
    """
    if isinstance(y, np.ndarray) and y.dtype in (np.float32, np.float64):
        arr = np.ascontiguousarray(y)
    else:
        arr = np.asarray(y, order="C", dtype=np.float64)
    if isinstance(y, np.ndarray):
        own = not np.may_share_memory(arr, y)
    else:
        own = isinstance(y, (list, tuple))
    return arr, own


def _is_condensed_length(m: int) -> bool:
    """Whether ``m`` is n*(n-1)/2 for some n >= 2, in exact integer arithmetic."""
    n = (1 + math.isqrt(1 + 8 * m)) // 2
    return m > 0 and n * (n - 1) // 2 == m


def _looks_like_square_distances(y: npt.NDArray[Any]) -> bool:
    # SciPy's test, with the same tolerances (numpy's isclose defaults).
    return bool(
        y.shape[0] == y.shape[1]
        and np.all(np.isclose(np.diagonal(y), 0))
        and np.all(y >= 0)
        and np.all(np.isclose(y, y.T))
    )


def linkage(
    y: npt.ArrayLike,
    method: str = "single",
    metric: Metric = "euclidean",
    optimal_ordering: bool = False,
    *,
    overwrite_input: bool = False,
) -> npt.NDArray[np.float64]:
    """Agglomerative hierarchical clustering, with the result of :func:`scipy.cluster.hierarchy.linkage`.

    The same signature, the same errors and warnings, and the same ``(n-1, 4)`` matrix: row ``i``
    merges clusters ``Z[i, 0] < Z[i, 1]`` at height ``Z[i, 2]`` into cluster ``n + i`` of ``Z[i, 3]``
    observations. On float64 input every entry equals SciPy's to the bit (the same algorithms, search
    order, tie rules and arithmetic), computed faster and in less memory: one copy of the condensed
    matrix at most, none with ``overwrite_input=True``, and no matrix for single linkage of finite
    observations in a metric of :func:`linkage_vector` (its minimum spanning tree: the same bits).

    Parameters
    ----------
    y : array_like
        A condensed distance vector (``n*(n-1)/2`` values, as :func:`scipy.spatial.distance.pdist`
        returns) or an ``n x d`` matrix of observations. A float32 condensed vector is kept as float32
        (half the memory): the distance updates are computed in double and stored in float32, so the
        heights match SciPy's to float32 precision (unless 'ward' heights could pass float32's range:
        then it is clustered in float64, SciPy's bits). Other dtypes are converted to float64, as SciPy
        does.
    method : {'single', 'complete', 'average', 'weighted', 'centroid', 'median', 'ward'}
        The linkage criterion, as in SciPy.
    metric : str or callable
        For observation input: any metric :func:`scipy.spatial.distance.pdist` accepts. Euclidean
        distances are computed by pixclust's own parallel kernel (SciPy's bits). 'centroid', 'median'
        and 'ward' need 'euclidean'.
    optimal_ordering : bool
        Reorder the leaves so that neighbouring leaves are close
        (:func:`scipy.cluster.hierarchy.optimal_leaf_ordering`), as SciPy does.
    overwrite_input : bool
        Keyword only, not in SciPy. Let the algorithm work in ``y`` itself (a C-contiguous, writeable
        float32 or float64 condensed vector), which it leaves scrambled: no copy of the matrix is made.

    Returns
    -------
    Z : ndarray of shape (n-1, 4), float64
        The linkage matrix.

    Raises
    ------
    ValueError
        SciPy's errors: an unknown method, 'centroid'/'median'/'ward' with a non-Euclidean metric, a
        condensed length that is not a binomial coefficient, fewer than 2 observations, non-finite
        distances, ``y`` of more than 2 dimensions. And when the distance updates overflow: distances so
        large that an update can pass the largest float (float64: from about 1e150 for 'ward',
        'centroid' and 'median'), or negative ones for those three, are clustered by SciPy's own steps
        in float64, so that an infinite or NaN working distance plays out as in SciPy. The result is
        then SciPy's matrix when SciPy's is a valid tree with finite heights; where SciPy raises
        (``find_min_dist cannot find any neighbors ...``), the same error; where SciPy's result would
        be invalid (a cluster merged twice, an infinite or NaN height), a ValueError saying that the
        updates overflow. Dividing the distances by a constant gives the same tree, heights divided.
    MemoryError
        When the working copy does not fit; the message says how many bytes it needs. Observations whose
        condensed matrix would not fit in available memory go to :func:`linkage_vector` where it can
        compute them (see Warns); elsewhere this is raised before any allocation.

    Warns
    -----
    RuntimeWarning
        When observations were clustered by :func:`linkage_vector`, without the matrix.
    scipy.cluster.hierarchy.ClusterWarning
        When observations look like a square distance matrix (as SciPy warns).

    Examples
    --------
    The ten points of the tutorial, Ward's method:

    >>> import numpy as np
    >>> import pixclust
    >>> from scipy.cluster import hierarchy
    >>> X = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5],
    ...               [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]], dtype=float)
    >>> Z = pixclust.linkage(X, "ward")
    >>> Z.shape
    (9, 4)
    >>> np.array_equal(Z, hierarchy.linkage(X, "ward"))
    True
    >>> hierarchy.fcluster(Z, 2, criterion="maxclust")
    array([1, 2, 1, 1, 1, 2, 2, 2, 2, 1], dtype=int32)
    """
    if method not in _LINKAGE_METHODS:
        raise ValueError(f"Invalid method: {method}")
    arr, own = _as_float_array(y)
    if method in _EUCLIDEAN_METHODS and metric != "euclidean" and arr.ndim == 2:
        raise ValueError(f"`method={method}` requires the distance metric to be Euclidean")

    if arr.ndim == 1:
        condensed = arr
    elif arr.ndim == 2:
        if _looks_like_square_distances(arr):
            warnings.warn(_SQUARE_WARNING, _scipy_hierarchy().ClusterWarning, stacklevel=2)
        if (vector_Z := _without_matrix(arr, method, metric, optimal_ordering)) is not None:
            return vector_Z
        if metric == "euclidean":
            # float32 too gives SciPy's float64 distances: the kernel widens before it subtracts, as SciPy
            condensed = _core.pdist_euclidean(arr)
        else:
            condensed = _scipy_distance().pdist(np.asarray(arr, dtype=np.float64), metric)
        own = True
    else:
        raise ValueError("`y` must be 1 or 2 dimensional.")

    if not _is_condensed_length(condensed.shape[0]):
        # SciPy's own checks raise SciPy's messages (run only on failure: they cost more than a small
        # linkage). The kernel checks finiteness without an n^2 mask, with SciPy's message.
        _scipy_distance().is_valid_y(condensed, throw=True, name="y")
        _scipy_distance().num_obs_y(condensed)

    # optimal_leaf_ordering needs the distances afterwards, so they are not overwritten then.
    overwrite = (own or overwrite_input) and not optimal_ordering
    Z: npt.NDArray[np.float64] = _core.linkage(condensed, method, overwrite_input=overwrite)
    if optimal_ordering:
        return np.asarray(_scipy_hierarchy().optimal_leaf_ordering(Z, condensed), dtype=np.float64)
    return Z


def _available_memory() -> int:
    """Bytes of memory available now: Linux's MemAvailable (free memory plus the page cache it can
    reclaim), else ``os.sysconf`` SC_AVPHYS_PAGES * SC_PAGE_SIZE (free memory alone).

    Where the system says neither, a number larger than any matrix (the matrix path then runs and
    raises its own MemoryError if it must). Module-level so that tests can replace it.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2**63


def _same_bits_without_matrix(X: npt.NDArray[Any], method: str, metric: Metric, optimal_ordering: bool) -> bool:
    """Whether :func:`linkage_vector` gives SciPy's matrix for ``X`` bit for bit, errors included (single
    linkage of finite points in its metrics: tests/test_linkage_vector.py), without the O(n^2) matrix
    and faster (benchmarks/bench_linkage_vector.py)."""
    return (method == "single" and not optimal_ordering and isinstance(metric, str) and metric in _VECTOR_METRICS
            and X.shape[0] >= 2 and X.shape[1] >= 1 and bool(np.isfinite(X).all()))


def _without_matrix(
    X: npt.NDArray[Any], method: str, metric: Metric, optimal_ordering: bool
) -> npt.NDArray[np.float64] | None:
    """:func:`linkage_vector`'s result where it is SciPy's bit for bit, or where the matrix would not fit."""
    if _same_bits_without_matrix(X, method, metric, optimal_ordering):
        return linkage_vector(X, "single", metric)  # type: ignore[arg-type]  # a str, checked
    return _without_matrix_if_needed(X, method, metric, optimal_ordering)


def _without_matrix_if_needed(
    X: npt.NDArray[Any], method: str, metric: Metric, optimal_ordering: bool
) -> npt.NDArray[np.float64] | None:
    """:func:`linkage_vector`'s result when the condensed matrix of ``X`` would not fit, else None.

    The matrix path needs the float64 condensed matrix (``8 n(n-1)/2`` bytes, overwritten in place by
    the clustering) and, with ``optimal_ordering``, a working copy of it for every method but
    'single'. Raises MemoryError, before anything is allocated, where no path without it exists.
    """
    n = X.shape[0]
    condensed = 8 * (n * (n - 1) // 2)
    needed = condensed * (2 if optimal_ordering and method != "single" else 1)
    available = _available_memory()
    if needed <= available:
        return None
    vector_ok = method in _VECTOR_METHODS and not optimal_ordering
    if not vector_ok or not isinstance(metric, str) or not (
        metric == "euclidean" or (method == "single" and metric in _VECTOR_METRICS)
    ):
        raise MemoryError(
            f"pixclust.linkage: the condensed distance matrix of {n} observations needs {needed} bytes "
            f"and {available} bytes are available; method={method!r} with metric={metric!r}"
            f"{' and optimal_ordering' if optimal_ordering else ''} cannot be computed without it "
            f"(pixclust.linkage_vector computes {', '.join(_VECTOR_METHODS)} without the matrix)"
        )
    warnings.warn(
        f"pixclust.linkage: the condensed distance matrix of {n} observations needs {needed} bytes and "
        f"{available} bytes are available: computed by pixclust.linkage_vector instead, without the matrix",
        RuntimeWarning,  # not ResourceWarning: Python hides that one by default
        stacklevel=3,
    )
    return linkage_vector(X, method, metric)


def _observations(X: npt.ArrayLike) -> npt.NDArray[Any]:
    """``X`` as a C-ordered (n, d) float32 or float64 array of finite values, or the error naming X."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X: expected an array of real numbers, got dtype {arr.dtype}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    arr = np.ascontiguousarray(arr)
    if arr.ndim != 2:
        raise ValueError(f"X: expected a 2-D array of observations (n, d), got {arr.ndim}-D")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"X: needs at least 1 observation of at least 1 coordinate, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("The observation matrix X must contain only finite values.")
    return arr


def _sample_weight(sample_weight: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """The weights as float64 whole numbers >= 0 with a positive sum, or the error naming them."""
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight: expected an array of numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), one weight per observation, got {w.shape}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not (np.isfinite(w).all() and (w >= 0).all() and (w == np.floor(w)).all()):
        raise ValueError("sample_weight: expected whole numbers >= 0 (the number of copies of each point)")
    total = float(w.sum())
    if not 0 < total <= _MAX_WEIGHT_SUM:
        raise ValueError(f"sample_weight: the weights must have a positive sum of at most 2**53, got {total}")
    return w


def linkage_vector(
    X: npt.ArrayLike,
    method: str = "single",
    metric: str = "euclidean",
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Hierarchical clustering of observations without the distance matrix, in O(n d) memory.

    fastcluster's ``linkage_vector`` under the same name and signature: the distances are computed as
    they are needed, never stored, so ``n = 10**6`` points need megabytes where the condensed matrix of
    :func:`linkage` would need 4 TB. The result is SciPy's ``(n-1, 4)`` linkage matrix.

    Exactness, on float64 input:

    - 'single': :func:`scipy.cluster.hierarchy.linkage` ``(X, "single", metric)`` to the bit, ties
      included, each distance computed as :func:`scipy.spatial.distance.pdist` computes it. In up to
      8 dimensions and from a few thousand points (metrics other than cosine), Borůvka's rounds over a
      kd-tree find the minimum spanning tree in about O(n log n) time; its matrix is SciPy's whenever
      the heights are all different, and where two are equal Prim's tree, grown as SciPy grows it,
      is computed instead (O(n^2) time).
    - 'ward', 'centroid', 'median': SciPy's merges whenever no two candidate distances tie, and heights
      within about 1e-12 relative: they are computed from cluster centroids, which round differently
      from SciPy's updates of stored distances (as fastcluster's ``linkage_vector`` does).

    float32 input gives the result of the same values in float64 (every distance is computed in
    double). The result does not depend on the number of threads.

    Parameters
    ----------
    X : array_like of shape (n, d)
        The observations, finite real numbers. float32 and float64 are used as they are, other real
        dtypes converted to float64.
    method : {'single', 'ward', 'centroid', 'median'}
        The linkage criterion. 'complete', 'average' and 'weighted' need the distance matrix: use
        :func:`linkage`.
    metric : {'euclidean', 'sqeuclidean', 'cityblock', 'chebyshev', 'cosine'}
        The distance between observations, as :func:`scipy.spatial.distance.pdist` defines it.
        'ward', 'centroid' and 'median' need 'euclidean'.
    sample_weight : array_like of shape (n,), optional
        Keyword only. Whole numbers >= 0, at least one positive: how many copies of each observation
        there are. The tree above the zero-height merges of the copies is that of the repeated points
        ('ward' and 'centroid' use the weights as the cluster sizes); ``Z[:, 3]`` still counts the
        observations in each cluster, as SciPy's ``fcluster`` and ``dendrogram`` require.

    Returns
    -------
    Z : ndarray of shape (n-1, 4), float64
        The linkage matrix, as :func:`scipy.cluster.hierarchy.linkage` returns it.

    Raises
    ------
    ValueError
        An unknown method or metric, a method that needs the matrix, a non-Euclidean metric with
        'ward', 'centroid' or 'median', ``X`` not 2-D, empty or not finite, bad weights, or distances
        that are not finite (a cosine distance to an all-zero row; coordinates so far apart that the
        distances overflow).
    TypeError
        ``X`` or ``sample_weight`` not real numbers.

    Examples
    --------
    >>> import numpy as np
    >>> import pixclust
    >>> from scipy.cluster import hierarchy
    >>> X = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5],
    ...               [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]], dtype=float)
    >>> np.array_equal(pixclust.linkage_vector(X, "single"), hierarchy.linkage(X, "single"))
    True
    >>> Z = pixclust.linkage_vector(X, "ward")
    >>> hierarchy.fcluster(Z, 2, criterion="maxclust")
    array([1, 2, 1, 1, 1, 2, 2, 2, 2, 1], dtype=int32)
    """
    if not isinstance(method, str) or method not in _VECTOR_METHODS:
        needs_matrix = isinstance(method, str) and method in _LINKAGE_METHODS
        hint = "; it needs the distance matrix: use pixclust.linkage" if needs_matrix else ""
        raise ValueError(f"method: expected one of {', '.join(_VECTOR_METHODS)}, got {method!r}{hint}")
    if not isinstance(metric, str) or metric not in _VECTOR_METRICS:
        raise ValueError(f"metric: expected one of {', '.join(_VECTOR_METRICS)}, got {metric!r}")
    if method in _EUCLIDEAN_METHODS and metric != "euclidean":
        raise ValueError(f"`method={method}` requires the distance metric to be Euclidean")
    arr = _observations(X)
    w = None if sample_weight is None else _sample_weight(sample_weight, arr.shape[0])
    Z: npt.NDArray[np.float64] = _core.linkage_vector(arr, method, metric, w)
    return Z


def _cut_leaves(Z: np.ndarray, m: int, k: int) -> np.ndarray:
    """Labels of the m leaves after the first m - k merges of Z (SciPy's form: row i forms cluster m + i)."""
    owner = np.arange(2 * m - 1)
    merged = Z[: m - k, :2].astype(np.int64)
    # top down: a cluster formed within the cut passes its root to both children; the rows run backwards,
    # so a parent is always resolved before its children
    for i in range(m - k - 1, -1, -1):
        owner[merged[i]] = owner[m + i]
    _, first, which = np.unique(owner[:m], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # clusters numbered by their lowest colour
    return rank[which.reshape(-1)].astype(np.int64)


def _cluster_means(labels: np.ndarray, weights: np.ndarray, points: np.ndarray,
                   k: int) -> tuple[np.ndarray, np.ndarray]:
    """The weighted means (k, d) and total weights (k,) of the points in each of k clusters."""
    totals = np.bincount(labels, weights=weights, minlength=k)
    means = np.stack([np.bincount(labels, weights=weights * points[:, t], minlength=k) / totals
                      for t in range(points.shape[1])], axis=1)
    return means, totals
