"""Hierarchical clustering with SciPy's answers: :func:`linkage`.

The result is the very ``(n-1, 4)`` matrix :func:`scipy.cluster.hierarchy.linkage` returns, so everything
in :mod:`scipy.cluster.hierarchy` (``fcluster``, ``dendrogram``, ``cophenet``, ``leaves_list``, ...)
works on it unchanged.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Union

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import ClusterWarning, optimal_leaf_ordering  # type: ignore[import-untyped]
from scipy.spatial import distance  # type: ignore[import-untyped]

from pixclust import _core

__all__ = ["linkage"]

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

Metric = Union[str, Callable[..., float]]


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
    matrix at most, none with ``overwrite_input=True`` or observation input.

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
        When the working copy does not fit; the message says how many bytes it needs.

    Warns
    -----
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
            warnings.warn(
                "The symmetric non-negative hollow observation matrix looks suspiciously like an "
                "uncondensed distance matrix",
                ClusterWarning,
                stacklevel=2,
            )
        if metric == "euclidean":
            # float32 observations give SciPy's float64 distances too: the kernel widens before it
            # subtracts, exactly as SciPy's float64 conversion does.
            condensed = _core.pdist_euclidean(arr)
        else:
            condensed = distance.pdist(np.asarray(arr, dtype=np.float64), metric)
        own = True
    else:
        raise ValueError("`y` must be 1 or 2 dimensional.")

    if not _is_condensed_length(condensed.shape[0]):
        # SciPy's own checks raise SciPy's messages (run only on failure: they cost more than a small
        # linkage). The kernel checks finiteness without an n^2 mask, with SciPy's message.
        distance.is_valid_y(condensed, throw=True, name="y")
        distance.num_obs_y(condensed)

    # optimal_leaf_ordering needs the distances afterwards, so they are not overwritten then.
    overwrite = (own or overwrite_input) and not optimal_ordering
    Z: npt.NDArray[np.float64] = _core.linkage(condensed, method, overwrite_input=overwrite)
    if optimal_ordering:
        return np.asarray(optimal_leaf_ordering(Z, condensed), dtype=np.float64)
    return Z
