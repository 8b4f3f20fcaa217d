"""``pixclust.dask``: k-means on Dask arrays (the ``pixclust[dask]`` extra).

Each chunk of rows is reduced by the C++ colour index to its distinct colours and their counts (a sorted
list, not a histogram of every possible colour); the lists are merged pairwise by a C++ kernel in a tree
whose shape depends only on the number of chunks, and the client fits the distinct colours weighted by
their counts with :class:`pixclust.KMeans`. Integer counts merge exactly in any order, so the fit is the
same bits for any chunking, any scheduler and any number of workers.

Other data (float32, float64, uint16, uint8 with more than four columns) runs Lloyd's iterations on the
dask array: the rows are first cut into leaves of a fixed number of rows, each leaf computes its
per-centre sums, counts and inertia, and the leaves are reduced in a tree ordered by leaf index. The
tree's shape depends only on the number of rows, so the fit is the same bits for any chunking, any
scheduler and any number of workers.

:func:`quantize` gives a collection of images (a dask array of frames, or image files read by the tasks)
one shared palette the same way, and paints every block with it on the workers.

Memory: a task holds its chunk and the chunk's colour list; a merge task two lists; the client the
merged list (at most 2^24 colours for 8-bit RGB) and the fit on it, never the pixels
(``benchmarks/bench_dask.py`` measures it).

``import pixclust`` does not import this module or Dask.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np

try:
    import dask.array as da
    from dask.base import compute
    from dask.delayed import Delayed, delayed
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError("pixclust.dask needs Dask: pip install pixclust[dask]") from exc

from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

import warnings

from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.utils import check_random_state  # type: ignore[import-untyped]

from pixclust import _core
from pixclust._fit import _DEDUPE_MAX_FEATURES, InvalidParameterError, _check_int, _first_draw, _local_trials, _native
from pixclust._kmeans import KMeans as _InMemoryKMeans

__all__ = ["KMeans", "SharedQuantizeResult", "color_counts", "quantize"]

# Chunk indexes merged per task of the reduction tree: a fixed number, so the tree's shape (and the
# order of every merge) depends on the number of chunks only, never on the scheduler.
_SPLIT_EVERY = 8

# Rows per leaf of Lloyd's reduction: the data is rechunked to leaves of this many rows, so the leaves,
# and with them every partial sum and the tree that adds them, are the same whatever the user's chunking.
_LEAF_ROWS = 65_536

# Rows of the uniform sample on which k-means++ chooses the initial centres.
_INIT_SAMPLE_ROWS = 65_536

# The dtypes the core's assignment takes as they are; other data becomes float64, as in pixclust.KMeans.
_LLOYD_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))


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


def _tree(parts: list[Any], combine: Any) -> Any:
    """The delayed reduction of parts by combine, in groups of _SPLIT_EVERY ordered by index."""
    while len(parts) > 1:
        parts = [
            delayed(combine, pure=True)(*parts[i : i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)
        ]
    return parts[0]


def _color_counts_task(X: Any, n_threads: int) -> Any:
    """The delayed (colors, counts) of X: chunk indexes merged in a tree ordered by chunk index."""
    parts = [delayed(_index_block, pure=True)(block, n_threads) for block in X.to_delayed().ravel()]
    return _tree(parts, _merge_indexes)


def _moments_block(block: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Rows, column sums and column sums of squared deviations from the leaf's mean, float64."""
    x = np.asarray(block, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("X: contains NaN or infinity")
    n = x.shape[0]
    if n == 0:
        return 0, np.zeros(x.shape[1]), np.zeros(x.shape[1])
    total = np.add.reduce(x, axis=0)
    return n, total, np.add.reduce(np.square(x - total / n), axis=0)


def _merge_moments(*parts: tuple[int, np.ndarray, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray]:
    n, total, m2 = parts[0]
    for n_b, total_b, m2_b in parts[1:]:  # left to right: the order of the leaves
        if n_b == 0:
            continue
        if n == 0:
            n, total, m2 = n_b, total_b, m2_b
            continue
        # Chan, Golub and LeVeque's pairwise update of the sum of squared deviations
        delta = total_b / n_b - total / n
        m2 = m2 + m2_b + np.square(delta) * (n * n_b / (n + n_b))
        total = total + total_b
        n += n_b
    return n, total, m2


def _lloyd_block(block: np.ndarray, centers: np.ndarray, n_threads: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-centre sums of the leaf's rows (float64, in row order), counts and inertia, nearest centres."""
    k, d = centers.shape
    if block.shape[0] == 0:
        return np.zeros((k, d)), np.zeros(k, dtype=np.int64), 0.0
    block = _native(block)
    labels, inertia = _core.kmeans_assign(block, None, centers, n_threads)
    labels = np.asarray(labels)
    sums = np.empty((k, d))
    for t in range(d):
        sums[:, t] = np.bincount(labels, weights=block[:, t], minlength=k)
    return sums, np.bincount(labels, minlength=k).astype(np.int64), float(inertia)


def _merge_sums(*parts: tuple[np.ndarray, np.ndarray, float]) -> tuple[np.ndarray, np.ndarray, float]:
    sums, counts, inertia = parts[0]
    for sums_b, counts_b, inertia_b in parts[1:]:  # left to right: the order of the leaves
        sums, counts, inertia = sums + sums_b, counts + counts_b, inertia + inertia_b
    return sums, counts, inertia


def _lloyd_pass(leaves: list[Any], centers: np.ndarray, n_threads: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(sums, counts, inertia) of every row assigned to its nearest centre, reduced in leaf order."""
    parts = [delayed(_lloyd_block, pure=True)(leaf, centers, n_threads) for leaf in leaves]
    sums, counts, inertia = compute(_tree(parts, _merge_sums))[0]
    return sums, counts, float(inertia)


def _lloyd(
    leaves: list[Any], centers: np.ndarray, max_iter: int, tol: float, n_threads: int
) -> tuple[np.ndarray, float, int, np.ndarray]:
    """Lloyd's iterations from centers: (centers, inertia, n_iter, counts); empty clusters keep their centre."""
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        sums, counts, _ = _lloyd_pass(leaves, centers, n_threads)
        moved = centers.copy()
        filled = counts > 0
        moved[filled] = sums[filled] / counts[filled, None].astype(np.float64)
        shift = float(np.sum(np.square(moved - centers)))
        centers = moved
        if shift <= tol:  # scikit-learn's rule; unchanged labels give a shift of 0 too
            break
    # the centres moved after the last assignment: the inertia (and labels_) of the final centres
    _, counts, inertia = _lloyd_pass(leaves, centers, n_threads)
    return centers, inertia, n_iter, counts


def _init_sample(X: Any, random_state: np.random.RandomState, n_clusters: int) -> np.ndarray:
    """A uniform sample of the rows of X, drawn from the row indices: independent of the chunking."""
    n = X.shape[0]
    m = min(n, max(_INIT_SAMPLE_ROWS, n_clusters))
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    rows = np.sort(rng.choice(n, size=m, replace=False))
    return _native(np.asarray(X[rows].compute()))


def _ward_start(X: Any, n_clusters: int, n_threads: int) -> np.ndarray:
    """init="ward" on evenly strided rows of X: no random state, independent of the chunking."""
    from pixclust._ward_init import WardSeeds

    n = X.shape[0]
    rows = np.linspace(0, n - 1, min(n, max(_INIT_SAMPLE_ROWS, n_clusters))).astype(np.int64)
    sample = _native(np.asarray(X[rows].compute()))
    return WardSeeds(sample, None, n_clusters, n_threads).centers(n_clusters)


def _plusplus(sample: np.ndarray, n_clusters: int, random_state: np.random.RandomState, n_threads: int) -> np.ndarray:
    """pixclust's greedy k-means++ on the sample's rows."""
    trials = _local_trials(n_clusters)
    uniforms = random_state.random_sample(1 + (n_clusters - 1) * trials)
    uniforms[0] = _first_draw(uniforms[0], sample.shape[0])
    centers, _, chosen = _core.kmeans_plusplus(sample, None, n_clusters, trials, uniforms, None, None, n_threads)
    centers = np.array(centers, dtype=np.float64)
    centers[chosen:] = centers[0]
    return centers


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
    """K-means on a Dask array, out of core, with the same bits for any chunking and any scheduler.

    The parameters and attributes are those of :class:`pixclust.KMeans`. ``labels_``, ``predict`` and
    ``transform`` are lazy dask arrays, computed chunk by chunk with the fitted centres. ``n_threads``
    sets the core threads of each Dask task (None: one, since Dask runs the tasks in parallel) and of
    the client's fit of 8-bit colours (None: OpenMP's default). ``sample_weight`` is not supported yet.

    **uint8 data with 1 to 4 columns (colours)**: ``fit`` reduces every chunk of rows to its distinct
    colours and counts with the C++ colour index, merges them in a tree ordered by chunk index, and fits
    the distinct colours weighted by their counts on the client. ``cluster_centers_``, ``inertia_`` and
    ``n_iter_`` are bit for bit those of ``pixclust.KMeans(same parameters).fit(colors,
    sample_weight=counts)`` with ``colors, counts = np.unique(X, axis=0, return_counts=True)``.

    **Other data** (float32, float64, uint16, uint8 with more than four columns; other dtypes become
    float64): Lloyd's iterations on the dask array, persisted once and rechunked to leaves of 65,536 rows.
    Each iteration assigns every row to its nearest centre (the C++ assignment), each leaf sums its rows
    per centre in row order (float64), and the leaves' sums, counts and inertias are added in a tree
    ordered by leaf index whose shape depends only on the number of rows; the client moves the centres
    and stops as scikit-learn does, when the sum of squared centre shifts is at most ``tol`` times the
    mean variance of the data (itself reduced in the same tree), or after ``max_iter`` iterations. A
    final assignment gives the inertia of the final centres. The result is the same bits for any chunking
    and any scheduler (threads, processes, a distributed cluster). Given the same initial centres it
    matches the in-memory fit to rounding (1e-9 relative inertia), except that an **empty cluster keeps
    its previous centre** here (the in-memory fit re-seeds it with the farthest point), and a
    ConvergenceWarning says so when a cluster is empty at the end.

    Initialisation: given centres (``init=array``) are used as they are. ``init="k-means++"`` runs
    pixclust's greedy k-means++ on a uniform sample of 65,536 rows (all rows if fewer), drawn from the row
    indices with ``random_state`` (so independent of the chunking); the sample is drawn once, and each of
    the ``n_init`` runs draws its own k-means++ centres on it; the run with the lowest inertia is kept.
    ``init="ward"`` cuts Ward's tree (as ``pixclust.KMeans(init="ward")``) over 65,536 evenly strided
    rows: deterministic, one run. ``init="random"`` and callables are not supported yet on this path.

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
        """Compute k-means on X (computes the centres, not the labels).

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features)
            Training data, any chunking. uint8 with at most four columns: the exact fit of the distinct
            colours; other data: Lloyd's iterations on the dask array (see the class docstring).
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
        if X.dtype == np.uint8 and 1 <= X.shape[1] <= _DEDUPE_MAX_FEATURES:
            colors, counts = color_counts(X, self.n_threads)
            fitted = _InMemoryKMeans(**self.get_params()).fit(colors, sample_weight=counts)
            del fitted.labels_  # the labels of the distinct colours: the tasks need only the centres
        else:
            fitted = self._fit_lloyd(X)
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

    def _fit_lloyd(self, X: Any) -> _InMemoryKMeans:
        """Lloyd's iterations on the leaves of X: an in-memory estimator holding the best run's centres."""
        if X.dtype not in _LLOYD_DTYPES:
            X = X.astype(np.float64)
        self._check_params(X)
        if (isinstance(self.init, str) and self.init == "random") or callable(self.init):
            raise NotImplementedError("init: only 'k-means++' and given centres are supported on dask arrays so far")
        k, d = int(self.n_clusters), X.shape[1]
        threads = _block_threads(self.n_threads)
        X = X.rechunk({0: _LEAF_ROWS, 1: -1}).persist()  # read once, iterated on many times
        leaves = list(X.to_delayed().ravel())
        n, _, m2 = compute(_tree([delayed(_moments_block, pure=True)(leaf) for leaf in leaves], _merge_moments))[0]
        tol = self._tol * float(np.mean(m2 / n))
        random_state = check_random_state(self.random_state)
        ward = isinstance(self.init, str) and self.init == "ward"
        sample = _init_sample(X, random_state, k) if isinstance(self.init, str) and not ward else None
        best: Any = None
        for _ in range(1 if ward else self._n_init):
            if ward:
                start = _ward_start(X, k, threads)
            elif sample is not None:
                start = _plusplus(sample, k, random_state, threads)
            else:
                start = np.array(self.init, dtype=np.float64, order="C", copy=True)
            run = _lloyd(leaves, start, self._max_iter, tol, threads)
            if best is None or run[1] < best[1]:
                best = run
        centers, inertia, n_iter, counts = best
        distinct = int(np.count_nonzero(counts))
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                "Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=3,
            )
        fitted = _InMemoryKMeans(**self.get_params())
        fitted._centers64 = centers
        fitted.cluster_centers_ = centers.astype(np.float32 if X.dtype == np.float32 else np.float64)
        fitted.inertia_, fitted.n_iter_ = inertia, n_iter
        fitted.n_features_in_, fitted._n_features_out = d, k
        return fitted

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


# -- quantize: one palette for many images ------------------------------------------------------------

# The image dtypes whose colour lists the merge kernel takes (exact integer colours).
_IMAGE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


@dataclass(frozen=True)
class SharedQuantizeResult:
    """Images quantized with one shared palette (what :func:`quantize` returns).

    Attributes
    ----------
    images : dask array, or list of dask.delayed
        The quantized images, lazy: a dask array of the input's shape and dtype for a dask array in, a
        list of delayed arrays (one per path, each as :func:`pixclust._io.read_image` reads it) for paths.
        Pixels left out of the clustering (fully transparent, ``alpha="exclude"``) are transparent black
        with their own alpha, as in :func:`pixclust.quantize`.
    labels : dask array, or list of dask.delayed
        The palette index of every pixel (int32, the images' shape without the channel axis), -1 for a
        pixel left out, lazy in the same way.
    palette : ndarray of shape (n_colors, C)
        The shared colours, in the images' dtype.
    centers : ndarray of shape (n_colors, C), float64
        The exact k-means centres (CIELAB for ``space="lab"``).
    counts : ndarray of shape (n_colors,), int64
        Clustered pixels per palette colour, over all the images.
    inertia : float
        Sum over the clustered pixels of the squared distance to their centre.
    n_colors : int
        The number of colours asked for.
    """

    images: Any
    labels: Any
    palette: np.ndarray
    centers: np.ndarray
    counts: np.ndarray
    inertia: float
    n_colors: int

    def __repr__(self) -> str:
        """One short line: the colour count, how many images, the inertia."""
        n = len(self.images) if isinstance(self.images, list) else "a dask array of"
        return f"SharedQuantizeResult(n_colors={self.n_colors}, images={n} images, inertia={self.inertia:.6g})"


@dataclass(frozen=True)
class _Painter:
    """What a task needs to paint its block: every clustered colour's key (sorted) and palette row."""

    keys: np.ndarray
    color_palette: np.ndarray
    color_labels: np.ndarray
    palette: np.ndarray
    clustered_alpha: bool
    alpha: str
    threads: int
    strength: float = 1.0  # of the dithering, where the images are dithered


def _color_keys(colors: np.ndarray) -> np.ndarray:
    """Each colour row as one uint64, in the same order as the rows' lexicographic order."""
    keys = np.zeros(colors.shape[0], dtype=np.uint64)
    bits = np.uint64(8 * colors.dtype.itemsize)
    for t in range(colors.shape[1]):  # first column most significant: sorted rows give sorted keys
        keys = (keys << bits) | colors[:, t].astype(np.uint64)
    return keys


def _channels(image: np.ndarray) -> int:
    return 1 if image.ndim == 2 else int(image.shape[-1])


def _clustered(channels: int, cluster_alpha: bool) -> int:
    return channels - 1 if channels in (2, 4) and not cluster_alpha else channels


def _visible_rows(image: np.ndarray, alpha: str, cluster_alpha: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """The image's pixels as rows (n, C) and the mask of the clustered ones (None: all)."""
    c = _channels(image)
    rows = np.ascontiguousarray(image).reshape(-1, c)
    if alpha == "keep" or c not in (2, 4):
        return rows, None
    visible = rows[:, -1] > 0
    return rows, (None if visible.all() else visible)


def _image_colors(image: np.ndarray, alpha: str, cluster_alpha: bool, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's clustered colours and their counts (the fully transparent pixels left out)."""
    if image.dtype not in _IMAGE_DTYPES:
        raise TypeError(f"images: expected uint8 or uint16 images, got {image.dtype}")
    rows, visible = _visible_rows(image, alpha, cluster_alpha)
    rows = rows if visible is None else rows[visible]
    clustered = _clustered(_channels(image), cluster_alpha)
    if rows.shape[0] == 0:
        return np.empty((0, clustered), dtype=image.dtype), np.empty(0, dtype=np.int64)
    colors, counts, _ = _core.index_colors(np.ascontiguousarray(rows), clustered, threads)
    return colors, counts


def _merge_image_colors(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    widths = {p[0].shape[1] for p in parts}
    if len(widths) > 1:
        raise ValueError(f"images: every image needs the same clustered channels, got {sorted(widths)}")
    return _merge_indexes(*parts)


def _paint_rows(rows: np.ndarray, painter: _Painter, want_labels: bool) -> np.ndarray:
    """The clustered rows painted with the palette (or their labels), each colour as the fit labelled it."""
    width = painter.palette.shape[1]
    colors, _, pixel_color = _core.index_colors(np.ascontiguousarray(rows), width, painter.threads)
    where = np.searchsorted(painter.keys, _color_keys(colors))
    if want_labels:
        labels: np.ndarray = np.asarray(pixel_color, dtype=np.int32).copy()
        _core.remap_labels(labels, np.ascontiguousarray(painter.color_labels[where]), painter.threads)
        return labels
    return np.asarray(_core.paint_pixels(pixel_color, painter.color_palette[where], rows, painter.threads))


def _paint_block(image: np.ndarray, painter: _Painter, want_labels: bool = False) -> np.ndarray:
    """One block of an image quantized with the shared palette (want_labels: its labels, int32)."""
    rows, visible = _visible_rows(image, painter.alpha, painter.clustered_alpha)
    label_shape = image.shape if image.ndim == 2 else image.shape[:-1]
    if rows.shape[0] == 0:
        return np.empty(label_shape if want_labels else image.shape, np.int32 if want_labels else image.dtype)
    if visible is None:
        out = _paint_rows(rows, painter, want_labels)
    elif want_labels:
        out = np.full(rows.shape[0], -1, dtype=np.int32)
        out[visible] = _paint_rows(rows[visible], painter, True)
    else:
        # a hidden pixel is transparent black and keeps its alpha, as in pixclust.quantize
        out = np.zeros_like(rows)
        out[visible] = _paint_rows(rows[visible], painter, False)
        out[~visible, -1] = rows[~visible, -1]
    return out.reshape(label_shape if want_labels else image.shape)


def _dither_one(image: np.ndarray, painter: _Painter) -> tuple[np.ndarray, np.ndarray]:
    """One whole image dithered onto the palette, hidden pixels then cleared (as the command line does)."""
    from pixclust._dither import dither

    if image.ndim == 3 and image.shape[2] == 1:
        out, labels = dither(image[:, :, 0], painter.palette, strength=painter.strength, return_labels=True)
        out = out[:, :, None]
    else:
        out, labels = dither(image, painter.palette, strength=painter.strength, return_labels=True)
    _, visible = _visible_rows(image, painter.alpha, painter.clustered_alpha)
    if visible is not None:
        hidden = ~visible.reshape(image.shape[:2])
        out, labels = out.copy(), labels.copy()
        out[hidden] = 0
        out[hidden, -1] = image[hidden, -1]
        labels[hidden] = -1
    return out, labels


def _dither_whole(image: np.ndarray, painter: _Painter, want_labels: bool = False) -> np.ndarray:
    out: np.ndarray = _dither_one(image, painter)[1 if want_labels else 0]
    return out


def _dither_block(block: np.ndarray, painter: _Painter, want_labels: bool = False) -> np.ndarray:
    """Every whole image of a block of shape (..., H, W, C) dithered (error diffusion needs the whole image)."""
    frames = block.reshape((-1,) + block.shape[-3:])
    outs = [_dither_one(f, painter)[1 if want_labels else 0] for f in frames]
    shape = block.shape[:-1] if want_labels else block.shape
    if not outs:
        return np.empty(shape, np.int32 if want_labels else block.dtype)
    return np.stack(outs).reshape(shape)


def _read_path(path: str) -> np.ndarray:
    from pixclust import _io

    image = _io.read_image(path)
    if image.dtype not in _IMAGE_DTYPES:
        raise TypeError(f"images: {path}: expected an 8- or 16-bit image, got {image.dtype}")
    return image


def _check_images(images: Any) -> tuple[Any, list[Any]]:
    """(the dask array, or the list of delayed reads) and its blocks, as delayed arrays in order."""
    if isinstance(images, da.Array):
        if images.ndim < 3 or not 1 <= images.shape[-1] <= 4:
            raise ValueError(f"images: expected a dask array of shape (..., H, W, C), C in 1-4, got shape {images.shape}")
        if images.dtype not in _IMAGE_DTYPES:
            raise TypeError(f"images: expected uint8 or uint16, got {images.dtype}")
        if any(s == 0 for s in images.shape):
            raise ValueError(f"images: empty (shape {images.shape})")
        images = images.rechunk({images.ndim - 1: -1})
        return images, list(images.to_delayed().ravel())
    if isinstance(images, (str, os.PathLike)) or not isinstance(images, (list, tuple)) or not images:
        raise TypeError("images: expected a dask array of shape (..., H, W, C) or a non-empty list of paths or "
                        "dask.delayed arrays")
    reads = []
    for p in images:
        if isinstance(p, Delayed):
            reads.append(p)
        elif isinstance(p, (str, os.PathLike)):
            # absolute: the tasks may run in another directory, on another machine sharing the files
            reads.append(delayed(_read_path, pure=True)(os.path.abspath(os.fspath(p))))
        else:
            raise TypeError(f"images: expected paths or dask.delayed arrays, got a {type(p).__name__}")
    return reads, reads


def _compute(*objs: Any, progress: bool = False) -> tuple[Any, ...]:
    """compute(*objs), with Dask's own progress bar when asked: the local scheduler's or distributed's."""
    if not progress:
        return tuple(compute(*objs))
    from dask.base import get_scheduler

    client = getattr(get_scheduler(), "__self__", None)
    if client is None or "Client" not in type(client).__name__:
        from dask.diagnostics.progress import ProgressBar

        with ProgressBar():
            return tuple(compute(*objs))
    import distributed

    futures = client.compute(list(objs))
    distributed.progress(futures, scheduler=client.scheduler.address)
    return tuple(client.gather(futures))


class _PixelOrderDraws:
    """A RandomState whose k-means++ first uniform is adjusted as pixclust.quantize adjusts its draw among
    the pixels (``_first_draw``): the fit of the distinct colours then draws the colours that the fit of
    all the pixels, gathered in colour order, draws."""

    def __init__(self, random_state: np.random.RandomState, n_pixels: int) -> None:
        self._random_state = random_state
        self._n_pixels = n_pixels

    def random_sample(self, size: int) -> np.ndarray:
        u = self._random_state.random_sample(size)
        u[0] = _first_draw(u[0], self._n_pixels)
        return u


def _fit_colors(colors: np.ndarray, counts: np.ndarray, k: int, dtype: np.dtype, options: dict[str, Any]) -> Any:
    """The weighted k-means of the distinct colours as pixclust.quantize runs it: (run, palette, counts)."""
    from pixclust._fit import _fit_points, _mean_variance, _random_state
    from pixclust._quantize import _palette_values, _value_max

    if k > colors.shape[0]:
        raise ValueError(f"n_colors={k} is larger than the number of distinct colours in the images ({colors.shape[0]})")
    points = colors
    if options["space"] == "lab":
        points = np.asarray(_core.srgb_to_lab(colors.astype(np.float64) / _value_max(dtype)))
    seed = options["random_state"]
    seeded = isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_))
    rs = np.random.RandomState(int(seed)) if seeded else _random_state(seed)
    run = _fit_points(points, counts.astype(np.float64), k, init=options["init"], n_init=options["runs"],
                      max_iter=options["max_iter"], tol=options["tol"] * _mean_variance(points, counts),
                      random_state=_PixelOrderDraws(rs, int(counts.sum())),  # type: ignore[arg-type]
                      n_threads=options["threads"],
                      sample_counts=True)
    palette = _palette_values(run.centers, dtype, options["space"])
    shared_counts = np.bincount(run.labels, weights=counts, minlength=k).astype(np.int64)
    used = int(np.count_nonzero(shared_counts))
    if used < k:  # as pixclust.quantize warns
        warnings.warn(f"n_colors={k}: only {used} palette colours have pixels; the images' colours are too close "
                      "together to tell apart (their squared distances underflow to 0)", RuntimeWarning, stacklevel=3)
    return run, palette, shared_counts


def _lazy_outputs(images: Any, blocks: list[Any], painter: Any, dtype: np.dtype, dither: bool) -> tuple[Any, Any]:
    """The lazy quantized images and labels, in the input's structure."""
    paint = _dither_block if dither else _paint_block
    if isinstance(images, da.Array):
        if dither:  # error diffusion runs along whole images: one image per block
            images = images.rechunk({images.ndim - 3: -1, images.ndim - 2: -1})
        out = images.map_blocks(paint, painter, dtype=dtype, meta=np.empty((0,) * images.ndim, dtype))
        labels = images.map_blocks(paint, painter, True, dtype=np.int32, drop_axis=images.ndim - 1,
                                   meta=np.empty((0,) * (images.ndim - 1), np.int32))
        return out, labels
    paint_whole = _dither_whole if dither else _paint_block
    return ([delayed(paint_whole, pure=True)(b, painter) for b in blocks],
            [delayed(paint_whole, pure=True)(b, painter, True) for b in blocks])


def quantize(
    images: Any,
    n_colors: int,
    *,
    space: str = "rgb",
    init: str = "k-means++",
    random_state: Any = None,
    n_init: Union[str, int] = "auto",
    max_iter: int = 300,
    tol: float = 1e-4,
    cluster_alpha: bool = False,
    alpha: str = "exclude",
    dither: Union[bool, float] = False,
    n_threads: Optional[int] = None,
    progress: bool = False,
) -> SharedQuantizeResult:
    """Quantize a collection of images with one shared palette, out of core on Dask.

    Each block (or each image read from a path) is reduced by a task to its clustered colours and their
    counts (a sorted list from the C++ colour index); the lists are merged by the C++ merge kernel in a
    tree ordered by block, and the client fits the distinct colours weighted by their counts as
    :func:`pixclust.quantize` fits them. The quantized images are lazy: each block is painted by a task
    with the C++ kernel, every colour taking the palette entry the fit gave it.

    **Exactness.** On 8-bit images in RGB, the palette, centres, counts and inertia are bit for bit those
    of ``pixclust.quantize(pixels, n_colors, same options)`` on all the images' clustered pixels gathered in
    colour order (``np.repeat(colors, counts, axis=0)[None]``), for any chunking and any number of
    workers; each quantized image is that palette painted in memory as ``pixclust.quantize`` paints it.
    (The objective does not depend on the order of the pixels, but k-means++ draws pixels along their
    order: ``pixclust.quantize`` on the pixels in another order draws other seeds, a local optimum of the
    same objective. In CIELAB the draws add floats, so the seeds may differ in the last bits.)

    **Memory.** A task holds one block (or one image) and its colour list; a merge task two lists; the
    client the merged list (at most 2^24 colours for RGB, 2^32 for RGBA: 16 bytes or less per colour with
    its count) and the fit on it, never the pixels. A painting task holds its block and the lookup table of
    the merged colours (8 bytes per colour and its palette row).

    Parameters
    ----------
    images : dask array of shape (..., H, W, C), C in 1-4, or list of paths or of dask.delayed arrays
        uint8 or uint16: one image, or a stack of frames (any leading axes, any chunking); or image files,
        read lazily with Pillow (:func:`pixclust._io.read_image`), one task each; or delayed arrays of
        shape (H, W) or (H, W, C), one task each. Sizes may differ, the clustered channels may not. With
        2 or 4 channels the last is alpha.
    n_colors : int
        Colours in the shared palette.
    space, init, random_state, n_init, max_iter, tol, cluster_alpha, n_threads
        As in :func:`pixclust.quantize` (``init="ward"``: Ward's tree over the merged colours); ``n_threads`` are the core threads of each task (None: one, since
        Dask runs the tasks in parallel) and of the client's fit (None: OpenMP's default).
    alpha : {"exclude", "keep"}, default="exclude"
        As in :func:`pixclust.quantize` ("weight" is not supported: opacity sums are not exact in every order).
    dither : bool or float, default=False
        Floyd-Steinberg error diffusion onto the palette (:func:`pixclust.dither`), one task per whole image,
        since the error runs along the image; fully transparent pixels are then cleared. True diffuses the
        whole error, a number in [0, 1] that share of it (``strength``).
    progress : bool, default=False
        Show Dask's progress bar while the colours are counted (``dask.diagnostics.ProgressBar`` on the local
        scheduler, ``distributed.progress`` on a distributed client).

    Returns
    -------
    SharedQuantizeResult
        ``images`` and ``labels`` lazy (compute them, or write them block by block); the rest computed.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> import pixclust.dask
    >>> frames = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    >>> frames[:, :, 2:] = [200, 100, 50]
    >>> frames[2, 0, 0] = [0, 0, 10]
    >>> res = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 4, 4, 3)), 2, random_state=0)
    >>> sorted(res.palette.tolist()), res.counts.sum()
    ([[0, 0, 0], [200, 100, 50]], np.int64(48))
    >>> res.images.compute()[2, 0, 0].tolist()
    [0, 0, 0]
    """
    from pixclust._dither import _dither_option
    from pixclust._quantize import _check_options

    k = _check_int(n_colors, "n_colors", 1)
    strength = _dither_option(dither)
    max_iter, tol, runs, threads = _check_options(space, cluster_alpha, max_iter, tol, n_init, n_threads, random_state)
    if alpha not in ("exclude", "keep"):
        raise (NotImplementedError if alpha == "weight" else InvalidParameterError)(
            f"alpha: expected 'exclude' or 'keep' on Dask, got {alpha!r}")
    if not isinstance(init, str) or init not in ("k-means++", "ward"):
        raise InvalidParameterError(f"init: expected 'k-means++' or 'ward', got {init!r}")
    images, blocks = _check_images(images)
    task_threads = _block_threads(n_threads)
    if isinstance(images, da.Array) and space == "lab" and _clustered(images.shape[-1], cluster_alpha) != 3:
        raise ValueError("space='lab' needs RGB images (3 colour channels)")
    parts = [delayed(_image_colors, pure=True)(b, alpha, cluster_alpha, task_threads) for b in blocks]
    colors, counts = _compute(_tree(parts, _merge_image_colors), progress=progress)[0]
    if counts.size == 0:
        raise ValueError("images: every pixel is fully transparent (alpha 0): nothing to cluster "
                         "(alpha='keep' clusters them anyway)")
    options = dict(space=space, init=init, random_state=random_state, runs=runs, max_iter=max_iter, tol=tol,
                   threads=threads)
    run, palette, shared_counts = _fit_colors(colors, counts, k, colors.dtype, options)
    labels = np.ascontiguousarray(run.labels, dtype=np.int32)
    painter = _Painter(_color_keys(colors), np.take(palette, labels, axis=0), labels, palette, cluster_alpha,
                       alpha, task_threads, 1.0 if strength is None else strength)
    out, out_labels = _lazy_outputs(images, blocks, delayed(painter, traverse=False), colors.dtype,
                                    strength is not None)
    return SharedQuantizeResult(out, out_labels, palette, run.centers, shared_counts, float(run.inertia), k)
