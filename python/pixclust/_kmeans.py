"""``pixclust.KMeans``: scikit-learn's ``KMeans``, exact, deterministic and fast on pixel data.

The estimator keeps scikit-learn's conventions (greedy k-means++ with ``2 + int(log k)`` local trials,
``n_init="auto"``, ``tol`` relative to the data's mean variance, the same stopping rule and the same
re-seeding of empty clusters) and runs every step in the C++ core. Data with few coordinates (pixels) is
first reduced to its distinct rows, weighted by their counts: the same objective on far fewer points.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, Optional

import numpy as np
from sklearn import get_config  # type: ignore[import-untyped]
from sklearn.base import (  # type: ignore[import-untyped]
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.utils import check_random_state  # type: ignore[import-untyped]
from sklearn.utils._param_validation import Interval, StrOptions  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped]

from pixclust import _core

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator: Any, X: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(X, **kwargs)

__all__ = ["KMeans"]

from pixclust._fit import (
    _DEDUPE_MAX_FEATURES,
    _MAX_THREADS,
    _UNIQUE_MAX_SAMPLES,
    InvalidParameterError,
    _as_points,
    _check_centers_shape,
    _check_int,
    _check_lloyd_params,
    _fit_points,
    _mean_variance,
    _n_init,
    _native,
    _threads,
)


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
    init : {"k-means++", "random", "ward"}, callable or array-like of shape (n_clusters, n_features)
        How to choose the initial centres, as in scikit-learn: with the same ``random_state``, both
        "k-means++" and "random" draw the samples scikit-learn draws (on the distinct rows too).
        "ward" (pixclust's own) takes the weighted means of the clusters of Ward's tree cut at
        ``n_clusters``, built over the distinct rows (over the weighted cells of a grid when there
        are more than ``max(8192, 4 * n_clusters)``): deterministic, no random state.
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the best (lowest inertia) is kept. "auto": 1 for
        "k-means++", "ward" and given centres, 10 for "random" and callables.
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
        Threads for the core, 1 to ``max(1024, os.cpu_count())``; None uses OpenMP's default
        (``threadpoolctl`` limits it).
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

    # scikit-learn's KMeans constraints, checked by scikit-learn's validator: the same
    # InvalidParameterError (a ValueError and a TypeError) with the same messages.
    _parameter_constraints: dict[str, list[Any]] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random", "ward"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
        "n_threads": [Interval(Integral, 1, _MAX_THREADS, closed="both"), None],
        "dedupe": [StrOptions({"auto"}), "boolean"],
    }

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
        self._max_iter, self._tol, self._n_threads = _check_lloyd_params(self.max_iter, self.tol, self.n_threads)
        if not isinstance(self.algorithm, str) or self.algorithm not in ("lloyd", "elkan"):
            raise InvalidParameterError(f"algorithm: expected 'lloyd' or 'elkan', got {self.algorithm!r}")
        if not (isinstance(self.dedupe, (bool, np.bool_)) or (isinstance(self.dedupe, str) and self.dedupe == "auto")):
            raise InvalidParameterError(f"dedupe: expected 'auto', True or False, got {self.dedupe!r}")
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random", "ward"):
                raise InvalidParameterError(
                    f"init: expected 'k-means++', 'random', 'ward', a callable or an array, got {init!r}"
                )
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
        if isinstance(self.init, str) and self.init == "ward" and self._n_init != 1:
            warnings.warn(
                f"init='ward' is deterministic: performing only one init in KMeans instead of n_init={self._n_init}.",
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
        if not get_config().get("skip_parameter_validation", False):
            self._validate_params()  # before the data, as scikit-learn's fit
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
            weights = counts.astype(np.float64) if w is None else np.bincount(pixel_color, weights=w, minlength=len(counts))
            variance = _mean_variance(points, counts if w is None else weights)
        else:
            points = X
            weights = w
            variance = _mean_variance(points, w)
        tol = self._tol * variance
        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = np.asarray(init, dtype=np.float64)
        run = _fit_points(
            points,
            weights,
            k,
            init=init,
            n_init=self._n_init,
            max_iter=self._max_iter,
            tol=tol,
            random_state=random_state,
            n_threads=threads,
            init_points=X,
            sample_point=pixel_color,
            sample_point_weight=w if pixel_color is not None else None,
            sample_counts=pixel_color is not None and w is None,
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
