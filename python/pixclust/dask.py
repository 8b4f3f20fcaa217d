"""``pixclust.dask``: exact k-means on Dask arrays of 8-bit colours (the ``pixclust[dask]`` extra).

Each chunk of rows is reduced by the C++ colour index to its distinct colours and their counts (a sorted
list, not a histogram of every possible colour); the lists are merged pairwise by a C++ kernel in a tree
whose shape depends only on the number of chunks, and the client fits the distinct colours weighted by
their counts with :class:`pixclust.KMeans`. Integer counts merge exactly in any order, so the fit is the
same bits for any chunking, any scheduler and any number of workers.

``import pixclust`` does not import this module or Dask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import dask.array as da
    from dask.base import compute
    from dask.delayed import delayed
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError("pixclust.dask needs Dask: pip install pixclust[dask]") from exc

from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

from pixclust import _core
from pixclust._fit import _DEDUPE_MAX_FEATURES
from pixclust._kmeans import KMeans as _InMemoryKMeans

__all__ = ["KMeans", "color_counts"]

# Chunk indexes merged per task of the reduction tree: a fixed number, so the tree's shape (and the
# order of every merge) depends on the number of chunks only, never on the scheduler.
_SPLIT_EVERY = 8


def _check_dask(X: Any) -> Any:
    """X as a dask array of shape (n, d) with whole rows in every chunk."""
    if not isinstance(X, da.Array):
        raise TypeError(f"X: expected a dask array of shape (n_samples, n_features), got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D dask array of shape (n_samples, n_features), got {X.ndim}-D")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _block_threads(n_threads: Any) -> int:
    # Dask already runs one task per core: one core thread per task unless the user asks for more.
    return 1 if n_threads is None else int(n_threads)


def _index_block(block: np.ndarray, n_threads: int) -> tuple[np.ndarray, np.ndarray]:
    block = np.ascontiguousarray(block)
    if block.shape[0] == 0:
        return np.empty((0, block.shape[1]), dtype=block.dtype), np.empty(0, dtype=np.int64)
    colors, counts, _ = _core.index_colors(block, block.shape[1], n_threads)
    return colors, counts


def _merge_indexes(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    colors, counts = parts[0]
    for other_colors, other_counts in parts[1:]:  # left to right: the order of the chunks
        colors, counts = _core.merge_color_counts(colors, counts, other_colors, other_counts)
    return colors, counts


def _color_counts_task(X: Any, n_threads: int) -> Any:
    """The delayed (colors, counts) of X: chunk indexes merged in a tree ordered by chunk index."""
    parts = [delayed(_index_block, pure=True)(block, n_threads) for block in X.to_delayed().ravel()]
    while len(parts) > 1:
        parts = [
            delayed(_merge_indexes, pure=True)(*parts[i : i + _SPLIT_EVERY])
            for i in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


def _check_colors(X: Any) -> None:
    if X.dtype != np.uint8 or not 1 <= X.shape[1] <= _DEDUPE_MAX_FEATURES:
        raise NotImplementedError(
            f"pixclust.dask: only uint8 colours with 1 to {_DEDUPE_MAX_FEATURES} columns are supported so far, "
            f"got {X.dtype} with {X.shape[1]} columns"
        )


def color_counts(X: Any, n_threads: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a dask array of 8-bit colours and how often each occurs, computed.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features), uint8, n_features <= 4
        Any chunking; chunks of columns are joined first.
    n_threads : int or None, default=None
        Core threads per task; None: one (Dask runs the tasks in parallel).

    Returns
    -------
    colors : ndarray of shape (n_colors, n_features), uint8
        The distinct rows, sorted lexicographically (first column first).
    counts : ndarray of shape (n_colors,), int64
        The rows equal to each colour: ``np.unique(X, axis=0, return_counts=True)``, exactly.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from pixclust.dask import color_counts
    >>> X = da.from_array(np.array([[3, 0, 0], [1, 2, 3], [3, 0, 0]], dtype=np.uint8), chunks=(2, 3))
    >>> colors, counts = color_counts(X)
    >>> colors.tolist(), counts.tolist()
    ([[1, 2, 3], [3, 0, 0]], [1, 2])
    """
    X = _check_dask(X)
    _check_colors(X)
    colors, counts = compute(_color_counts_task(X, _block_threads(n_threads)))[0]
    return colors, counts


def _predict_block(block: np.ndarray, estimator: _InMemoryKMeans) -> np.ndarray:
    if block.shape[0] == 0:
        return np.empty(0, dtype=np.int32)
    return estimator.predict(block)


def _transform_block(block: np.ndarray, estimator: _InMemoryKMeans, dtype: np.dtype) -> np.ndarray:
    if block.shape[0] == 0:
        return np.empty((0, estimator.cluster_centers_.shape[0]), dtype=dtype)
    return estimator.transform(block)


class KMeans(_InMemoryKMeans):  # type: ignore[misc]
    """K-means on a Dask array of 8-bit colours: :class:`pixclust.KMeans`'s exact fit, out of core.

    The parameters, attributes and results are those of :class:`pixclust.KMeans`. ``fit`` reduces every
    chunk of rows to its distinct colours and counts with the C++ colour index, merges them in a tree
    ordered by chunk index, and fits the distinct colours weighted by their counts on the client. The
    contract: ``cluster_centers_``, ``inertia_`` and ``n_iter_`` are bit for bit those of
    ``pixclust.KMeans(same parameters).fit(colors, sample_weight=counts)`` with
    ``colors, counts = np.unique(X, axis=0, return_counts=True)``, for any chunking and any scheduler
    (threads, processes, a distributed cluster). ``labels_``, ``predict`` and ``transform`` are lazy
    dask arrays, computed chunk by chunk with the fitted centres.

    So far only uint8 data with 1 to 4 columns (colours) can be fitted; other dtypes raise
    NotImplementedError. ``n_threads`` sets the core threads of each Dask task (None: one, since Dask
    runs the tasks in parallel) and of the client's fit (None: OpenMP's default).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from pixclust.dask import KMeans
    >>> rgb = np.array([[0, 0, 0], [0, 0, 2], [200, 200, 200], [200, 200, 202]], dtype=np.uint8)
    >>> km = KMeans(n_clusters=2, random_state=0).fit(da.from_array(rgb, chunks=(3, 3)))
    >>> sorted(km.cluster_centers_.tolist())
    [[0.0, 0.0, 1.0], [200.0, 200.0, 201.0]]
    >>> float(km.inertia_)
    4.0
    >>> km.labels_.compute().tolist() == km.predict(da.from_array(rgb)).compute().tolist()
    True
    """

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "KMeans":
        """Compute k-means on the distinct colours of X (computes the colour counts, not the labels).

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features), uint8, n_features <= 4
            Training data, any chunking.
        y : Ignored
        sample_weight : None
            Not supported yet on dask arrays.

        Returns
        -------
        self : KMeans
            The fitted estimator; ``labels_`` is a lazy dask array.
        """
        self._validate_params()  # before any data is read, as scikit-learn's fit
        X = _check_dask(X)
        if sample_weight is not None:
            raise NotImplementedError("sample_weight: not supported on dask arrays yet")
        _check_colors(X)
        colors, counts = color_counts(X, self.n_threads)
        fitted = _InMemoryKMeans(**self.get_params()).fit(colors, sample_weight=counts)
        del fitted.labels_  # the labels of the distinct colours: the tasks need only the centres
        fitted.set_params(n_threads=_block_threads(self.n_threads))
        self._fitted = fitted
        self._centers64 = fitted._centers64
        self.cluster_centers_ = fitted.cluster_centers_
        self.inertia_ = fitted.inertia_
        self.n_iter_ = fitted.n_iter_
        self.n_features_in_ = fitted.n_features_in_
        self._n_features_out = fitted._n_features_out
        self.labels_ = self.predict(X)
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit and return ``labels_``, a lazy dask array (see :meth:`fit`)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit and return the lazy distances of X to the centres (see :meth:`fit` and :meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def predict(self, X: Any) -> Any:
        """Index of the nearest centre of every row, a lazy int32 dask array of shape (n_samples,)."""
        check_is_fitted(self)
        X = _check_dask(X)
        return X.map_blocks(_predict_block, self._fitted, dtype=np.int32, drop_axis=1, meta=np.empty(0, np.int32))

    def transform(self, X: Any) -> Any:
        """Euclidean distances of every row to every centre, a lazy dask array of shape (n_samples, k)."""
        check_is_fitted(self)
        X = _check_dask(X)
        k = self.cluster_centers_.shape[0]
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        return X.map_blocks(
            _transform_block, self._fitted, dtype, dtype=dtype, chunks=(X.chunks[0], (k,)),
            meta=np.empty((0, 0), dtype),
        )

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Not supported yet on dask arrays."""
        raise NotImplementedError("score: not supported on dask arrays yet")
