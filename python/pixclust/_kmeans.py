"""``pixclust.KMeans``: scikit-learn's ``KMeans``, exact, deterministic and fast on pixel data.

The estimator keeps scikit-learn's conventions (greedy k-means++ with ``2 + int(log k)`` local trials,
``n_init="auto"``, ``tol`` relative to the data's mean variance, the same stopping rule and the same
re-seeding of empty clusters) and runs every step in the C++ core. Data with few coordinates (pixels) is
first reduced to its distinct rows, weighted by their counts: the same objective on far fewer points.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import numpy as np
from sklearn.base import (  # type: ignore[import-untyped]
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.utils import check_random_state  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

from pixclust import _core

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator: Any, X: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(X, **kwargs)

__all__ = ["KMeans"]

# dtypes the core takes as they are; anything else becomes float64 as in scikit-learn.
_NATIVE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))
# Distinct-row reduction pays for pixel-like data: few coordinates and many repeated rows.
_DEDUPE_MAX_FEATURES = 4
# Wider data is reduced with numpy's sort-based unique up to this many rows.
_UNIQUE_MAX_SAMPLES = 100_000


def _threads(n_threads: Optional[int]) -> int:
    if n_threads is None:
        return 0
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads: expected an int or None, got {type(n_threads).__name__}")
    if n_threads < 1:
        raise ValueError(f"n_threads: must be >= 1 (or None for the default), got {n_threads}")
    return int(n_threads)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def _check_tol(tol: Any) -> float:
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol: expected a float, got {type(tol).__name__}")
    if not np.isfinite(float(tol)) or tol < 0:
        raise ValueError(f"tol: must be a finite number >= 0, got {tol}")
    return float(tol)


def _n_init(n_init: Any, init: Any, default: int = 10) -> int:
    """scikit-learn's ``n_init="auto"``: one run for k-means++ and given centres, ``default`` otherwise."""
    if isinstance(n_init, str):
        if n_init != "auto":
            raise ValueError(f"n_init: expected 'auto' or an int >= 1, got {n_init!r}")
        if isinstance(init, str) and init == "k-means++":
            return 1
        if isinstance(init, str) and init == "random":
            return default
        if callable(init):
            return default
        return 1
    return _check_int(n_init, "n_init", 1)


def _mean_variance(points: np.ndarray, weights: Optional[np.ndarray]) -> float:
    """Mean over the coordinates of the (weighted) variance: scikit-learn's ``_tolerance`` divided by tol.

    With weights it is the variance of the data in which point i occurs weights[i] times, so that the
    distinct-row path and a weighted fit stop where the plain fit on the repeated points stops.
    """
    if weights is None:
        return float(np.mean(np.var(points, axis=0, dtype=np.float64)))
    total = weights.sum()
    if total <= 0:
        return 0.0
    if (
        points.dtype.kind == "u"
        and total * float(np.iinfo(points.dtype).max) ** 2 < 2.0**62  # the moments fit int64
        and bool(np.all(weights == np.floor(weights)))
    ):
        # Integer points (distinct colours) with integer weights (their counts): the moments are exact
        # integers (int64 in the core: the guard above bounds total * max^2 below 2^62), and the
        # variance (W*S2 - S1^2) / W^2 is computed exactly in Python integers, then rounded once.
        W, S1, S2 = _core.integer_moments(
            np.ascontiguousarray(points), np.ascontiguousarray(weights, dtype=np.float64)
        )
        var_sum = sum((Fraction(W * s2 - s1 * s1, W * W) for s1, s2 in zip(S1, S2)), Fraction(0))
        return float(var_sum / points.shape[1])
    # No BLAS here: its worker threads keep spinning after a call and take the CPUs our kernels need.
    pts = points.astype(np.float64, copy=False)
    mean = np.add.reduce(pts * weights[:, None], axis=0) / total
    var = np.add.reduce(np.square(pts - mean) * weights[:, None], axis=0) / total
    return float(np.mean(var))


@dataclass
class _Run:
    centers: np.ndarray  # (k, d) float64
    labels: np.ndarray  # (n_points,) int32, of the points the run saw
    inertia: float
    n_iter: int


def _same_clustering(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    """Whether two labelings are the same partition up to a permutation of the labels."""
    mapping = np.full(k, -1, dtype=np.int64)
    first = np.unique(a, return_index=True)[1]
    mapping[a[first]] = b[first]
    return bool(np.array_equal(mapping[a], b))


def _fit_points(
    points: np.ndarray,
    weights: Optional[np.ndarray],
    n_clusters: int,
    *,
    init: Union[str, np.ndarray, Callable[..., Any]],
    n_init: int,
    max_iter: int,
    tol: float,
    random_state: np.random.RandomState,
    n_threads: int,
    init_points: Optional[np.ndarray] = None,
    n_distinct: Optional[int] = None,
    few_distinct: str = "raise",
    sample_point: Optional[np.ndarray] = None,
    sample_point_weight: Optional[np.ndarray] = None,
) -> _Run:
    """The best of ``n_init`` weighted k-means runs on ``points`` (rows as the core takes them).

    ``tol`` is absolute (already scaled by the mean variance). ``init_points`` is what a callable init
    receives (the caller's data), ``n_distinct`` the number of distinct points when known.
    With fewer distinct points than clusters, k-means++ raises ValueError (``few_distinct="raise"``) or,
    as scikit-learn does, repeats a centre and leaves the rest to the empty-cluster rule ("repeat").
    ``sample_point`` maps the caller's samples (pixels) to ``points``: k-means++ then draws along the
    samples, as scikit-learn does on them, and the same seed picks the same centres.
    """
    n = points.shape[0]
    trials = 2 + int(np.log(n_clusters))
    best: Optional[_Run] = None
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            uniforms = random_state.random_sample(1 + (n_clusters - 1) * trials)
            centers, _, chosen = _core.kmeans_plusplus(
                points, weights, n_clusters, trials, uniforms, sample_point, sample_point_weight, n_threads
            )
            if chosen < n_clusters and few_distinct == "repeat":
                centers[chosen:] = centers[0]
            elif chosen < n_clusters:
                raise ValueError(
                    f"n_clusters={n_clusters} is larger than the number of distinct points "
                    f"({chosen if n_distinct is None else n_distinct})"
                )
        elif isinstance(init, str) and init == "random":
            w = np.ones(n) if weights is None else weights
            if np.count_nonzero(w) < n_clusters and few_distinct == "repeat":
                seeds = np.concatenate([np.flatnonzero(w), np.zeros(n_clusters, dtype=np.intp)])[:n_clusters]
            elif np.count_nonzero(w) < n_clusters:
                raise ValueError(
                    f"n_clusters={n_clusters} is larger than the number of points with positive weight "
                    f"({np.count_nonzero(w)})"
                )
            else:
                seeds = random_state.choice(n, size=n_clusters, replace=False, p=w / w.sum())
            centers = points[seeds].astype(np.float64)
        elif callable(init):
            data = points if init_points is None else init_points
            centers = np.asarray(init(data, n_clusters, random_state=random_state), dtype=np.float64)
            _check_centers_shape(centers, n_clusters, points.shape[1])
        else:
            centers = np.array(init, dtype=np.float64, order="C", copy=True)
        if not np.all(np.isfinite(centers)):
            raise ValueError("init: the initial centres contain NaN or infinity")
        centers, labels, inertia, n_iter, _ = _core.kmeans_lloyd(
            points, weights, centers, max_iter, tol, "hamerly", n_threads
        )
        if best is None or (inertia < best.inertia and not _same_clustering(labels, best.labels, n_clusters)):
            best = _Run(centers, labels, float(inertia), int(n_iter))
    assert best is not None  # n_init >= 1
    return best


def _check_centers_shape(centers: np.ndarray, n_clusters: int, n_features: int) -> None:
    if centers.ndim != 2 or centers.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number of clusters {n_clusters}."
        )
    if centers.shape[1] != n_features:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number of features of the "
            f"data {n_features}."
        )


def _native(a: np.ndarray) -> np.ndarray:
    """a in native byte order and C order (the core reads native values only)."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return np.ascontiguousarray(a)


def _as_points(X: Any) -> bool:
    """Whether X is already an array the core takes without conversion (uint8/uint16 kept as they are)."""
    return isinstance(X, np.ndarray) and X.dtype.newbyteorder("=") in _NATIVE_DTYPES


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """K-means clustering: scikit-learn's ``KMeans``, exact, deterministic and fast on images.

    A drop-in for :class:`sklearn.cluster.KMeans` with the same parameters, attributes and results
    (greedy k-means++, ``n_init="auto"``, ``tol`` relative to the mean variance, empty clusters re-seeded
    with the farthest points). uint8 and uint16 data (pixels) are used as they are, never copied to
    float64; data with at most four columns is reduced to its distinct rows, weighted by their counts,
    which is the same objective on far fewer points. Results are the same bits for any thread count.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters (colours).
    init : {"k-means++", "random"}, callable or array-like of shape (n_clusters, n_features)
        How to choose the initial centres, as in scikit-learn.
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the best (lowest inertia) is kept. "auto": 1 for
        "k-means++" and given centres, 10 for "random" and callables.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        Stop when the sum of squared centre shifts is at most ``tol`` times the mean variance of the
        data (of the weighted data when ``sample_weight`` is given).
    verbose : int, default=0
        Accepted for compatibility; pixclust prints nothing.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation.
    copy_x : bool, default=True
        Accepted for compatibility; pixclust never modifies X.
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        Accepted for compatibility: both run Lloyd's iterations with Hamerly's bounds (for 8-bit RGB
        pixels, whole cells of nearby colours instead), which give the labels and centres of plain
        Lloyd exactly.
    n_threads : int or None, default=None
        Threads for the core; None uses OpenMP's default (``threadpoolctl`` limits it).
    dedupe : {"auto", True, False}, default="auto"
        Cluster the distinct rows (sorted) weighted by their counts: the same objective, on fewer points,
        and a fit that does not depend on the order of the rows or on whether a point is repeated or
        weighted. "auto": for data with at most four columns (a pass of the C++ colour index) or at most
        100,000 rows (numpy's unique).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        The centres, float64 (float32 for float32 data).
    labels_ : ndarray of shape (n_samples,), int32
        The label of every sample: its nearest final centre.
    inertia_ : float
        Sum of the (weighted) squared distances of the samples to their centres.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> float(km.inertia_)
    16.0
    >>> bool(km.predict([[0, 0]])[0] == km.predict([[1, 1]])[0])
    True
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: Any = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: Any = None,
        copy_x: bool = True,
        algorithm: str = "lloyd",
        n_threads: Optional[int] = None,
        dedupe: Any = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.n_threads = n_threads
        self.dedupe = dedupe

    # -- validation -------------------------------------------------------------------------------

    def _check_X(self, X: Any, reset: bool) -> np.ndarray:
        if _as_points(X) and X.dtype.kind == "u":
            X = _validate_data(self, X, reset=reset, dtype=None, order="C", accept_sparse=False)
        else:
            X = _validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], order="C", accept_sparse=False
            )
        return _native(np.asarray(X))

    def _check_params(self, X: np.ndarray) -> None:
        k = _check_int(self.n_clusters, "n_clusters", 1)
        _check_int(self.max_iter, "max_iter", 1)
        _check_tol(self.tol)
        self._n_threads = _threads(self.n_threads)
        if self.algorithm not in ("lloyd", "elkan"):
            raise ValueError(f"algorithm: expected 'lloyd' or 'elkan', got {self.algorithm!r}")
        if not (isinstance(self.dedupe, (bool, np.bool_)) or self.dedupe == "auto"):
            raise ValueError(f"dedupe: expected 'auto', True or False, got {self.dedupe!r}")
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(f"init: expected 'k-means++', 'random', a callable or an array, got {init!r}")
        elif not callable(init):
            init = np.asarray(init)
            if init.dtype.kind not in "biuf":
                raise TypeError(f"init: expected a numeric array, got dtype {init.dtype}")
            _check_centers_shape(init, k, X.shape[1])
            if not np.all(np.isfinite(init)):
                raise ValueError("init: the initial centres contain NaN or infinity")
        if X.shape[0] < k:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}.")
        self._n_init = _n_init(self.n_init, self.init)
        if not isinstance(self.init, str) and not callable(self.init) and self._n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in KMeans instead of "
                f"n_init={self._n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            self._n_init = 1

    @staticmethod
    def _check_weight(sample_weight: Any, n: int) -> Optional[np.ndarray]:
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(n, float(w))
        if w.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {w.ndim}D array")
        if w.shape[0] != n:
            raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
        if not np.all(np.isfinite(w)):
            raise ValueError("sample_weight: contains NaN or infinity")
        if np.any(w < 0):
            raise ValueError("sample_weight: weights must be >= 0")
        if not np.any(w > 0):
            raise ValueError("sample_weight: all weights are zero; at least one must be > 0")
        return np.ascontiguousarray(w)

    # -- fitting ----------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "KMeans":
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. uint8 and uint16 arrays are used as they are; other data becomes float64
            (float32 stays float32), as in scikit-learn.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of w counts as w copies of the sample.

        Returns
        -------
        self : KMeans
            The fitted estimator.
        """
        X = self._check_X(X, reset=True)
        self._check_params(X)
        n, d = X.shape
        k = int(self.n_clusters)
        w = self._check_weight(sample_weight, n)
        random_state = check_random_state(self.random_state)
        threads = self._n_threads

        pixel_color = None
        dedupe = self.dedupe
        if dedupe == "auto":
            dedupe = d <= _DEDUPE_MAX_FEATURES or n <= _UNIQUE_MAX_SAMPLES
        if dedupe:
            # The distinct rows come sorted: the fit depends neither on the row order nor on whether a
            # point is repeated or weighted.
            if d <= _DEDUPE_MAX_FEATURES:
                colors, counts, pixel_color = _core.index_colors(X, d, threads)
            else:
                colors, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
                pixel_color = np.ascontiguousarray(inverse.reshape(-1), dtype=np.int32)
        if pixel_color is not None:
            points = colors
            multiplicity = counts.astype(np.float64)
            weights = multiplicity if w is None else np.bincount(pixel_color, weights=w, minlength=len(counts))
            variance = _mean_variance(points, multiplicity if w is None else weights)
            n_distinct: Optional[int] = int(colors.shape[0])
        else:
            points = X
            weights = w
            variance = _mean_variance(points, w)
            n_distinct = None
        tol = _check_tol(self.tol) * variance
        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = np.asarray(init, dtype=np.float64)
        run = _fit_points(
            points,
            weights,
            k,
            init=init,
            n_init=self._n_init,
            max_iter=int(self.max_iter),
            tol=tol,
            random_state=random_state,
            n_threads=threads,
            init_points=X,
            n_distinct=n_distinct,
            few_distinct="repeat",
            sample_point=pixel_color,
            sample_point_weight=w if pixel_color is not None else None,
        )
        if pixel_color is not None:
            # clusters with a point: counted on the distinct points (each is there at least once), not
            # on every sample
            distinct = np.count_nonzero(np.bincount(run.labels, minlength=k))
            _core.remap_labels(pixel_color, run.labels, threads)
            labels = pixel_color
        else:
            labels = run.labels
            distinct = np.count_nonzero(np.bincount(labels, minlength=k))
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                "Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._centers64 = run.centers
        out_dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        self.cluster_centers_ = run.centers.astype(out_dtype)
        self._n_features_out = k
        self.labels_ = labels
        self.inertia_ = run.inertia
        self.n_iter_ = run.n_iter
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit and return ``labels_`` (see :meth:`fit`)."""
        labels: np.ndarray = self.fit(X, sample_weight=sample_weight).labels_
        return labels

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit and return the distances of X to the centres (see :meth:`fit` and :meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight)._transform(self._check_X(X, reset=False))

    # -- using the fit ----------------------------------------------------------------------------

    def _centers(self) -> np.ndarray:
        """The centres in float64: the exact ones of the fit while cluster_centers_ still holds them
        (float32 data keeps rounded centres there), else whatever the user put in cluster_centers_."""
        public = np.asarray(self.cluster_centers_)
        exact = getattr(self, "_centers64", None)
        if (
            exact is not None
            and exact.shape == public.shape
            and np.array_equal(exact.astype(public.dtype), public)
        ):
            return np.ascontiguousarray(exact)
        return np.ascontiguousarray(public, dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centre of every sample (lowest index on ties).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        labels, _ = _core.kmeans_assign(X, None, self._centers(), _threads(self.n_threads))
        return np.asarray(labels)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        out = np.asarray(_core.kmeans_distances(X, self._centers(), _threads(self.n_threads)))
        return out.astype(X.dtype, copy=False) if X.dtype.kind == "f" else out

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distances of every sample to every centre, shape (n_samples, n_clusters)."""
        check_is_fitted(self)
        return self._transform(self._check_X(X, reset=False))

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the (weighted) inertia of X to the fitted centres."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        w = self._check_weight(sample_weight, X.shape[0])
        _, inertia = _core.kmeans_assign(X, w, self._centers(), _threads(self.n_threads))
        return -float(inertia)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64, np.float32]}
