"""The k-means steps that need no scikit-learn: argument checks, the data's variance, and the best of
``n_init`` runs of the core's k-means++ and Lloyd. ``pixclust.KMeans`` (``_kmeans``) and
``pixclust.quantize`` (``_quantize``) share them; keeping scikit-learn out of this module keeps its slow
import out of ``import pixclust`` until the estimator itself is used (tests/test_config.py checks it).
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from pixclust import _core


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value. Both a ValueError and a TypeError, as scikit-learn's
    ``InvalidParameterError`` is, so that code written to catch either catches it."""


# numpy's RandomState takes int seeds in [0, 2**32).
_MAX_SEED = 2**32 - 1


def _check_seed(seed: Any) -> None:
    if seed is None or seed is np.random or isinstance(seed, np.random.RandomState):
        return
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and 0 <= int(seed) <= _MAX_SEED:
        return
    raise InvalidParameterError(
        f"random_state: {seed!r} cannot be used to seed a numpy.random.RandomState instance (expected an int "
        f"in [0, {_MAX_SEED}], a RandomState or None)"
    )


def _random_state(seed: Any) -> np.random.RandomState:
    """A ``RandomState`` from ``random_state`` as scikit-learn's estimators take it: None (numpy's global
    one), an int seed, or a ``RandomState`` used as it is."""
    _check_seed(seed)
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(int(seed))


# dtypes the core takes as they are; anything else becomes float64 as in scikit-learn.
_NATIVE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))
# Distinct-row reduction pays for pixel-like data: few coordinates and many repeated rows.
_DEDUPE_MAX_FEATURES = 4
# Wider data is reduced with numpy's sort-based unique up to this many rows.
_UNIQUE_MAX_SAMPLES = 100_000


# The most threads one may ask for (None, the default, is not bounded by it): OpenMP starts every
# thread asked for, and a large enough team exhausts memory and crashes the process.
_MAX_THREADS = max(1024, os.cpu_count() or 1)


def _threads(n_threads: Optional[int]) -> int:
    if n_threads is None:
        return 0
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise InvalidParameterError(f"n_threads: expected an int or None, got {type(n_threads).__name__}")
    if not 1 <= n_threads <= _MAX_THREADS:
        raise InvalidParameterError(
            f"n_threads: must be from 1 to {_MAX_THREADS} (or None for the default), got {n_threads}"
        )
    return int(n_threads)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{name}: expected an int, got {type(value).__name__}")
    if value < minimum:
        raise InvalidParameterError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def _check_tol(tol: Any) -> float:
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise InvalidParameterError(f"tol: expected a float, got {type(tol).__name__}")
    if not np.isfinite(float(tol)) or tol < 0:
        raise InvalidParameterError(f"tol: must be a finite number >= 0, got {tol}")
    return float(tol)


def _check_lloyd_params(max_iter: Any, tol: Any, n_threads: Any) -> tuple[int, float, int]:
    """The run parameters KMeans and quantize share, checked in one place: (max_iter, tol, threads)."""
    return _check_int(max_iter, "max_iter", 1), _check_tol(tol), _threads(n_threads)


def _local_trials(n_clusters: int) -> int:
    """scikit-learn's number of k-means++ candidates per centre after the first."""
    return 2 + int(np.log(n_clusters))


def _n_init(n_init: Any, init: Any, default: int = 10) -> int:
    """scikit-learn's ``n_init="auto"``: one run for k-means++ and given centres, ``default`` otherwise."""
    if isinstance(n_init, str):
        if n_init != "auto":
            raise InvalidParameterError(f"n_init: expected 'auto' or an int >= 1, got {n_init!r}")
        if isinstance(init, str) and init == "k-means++":
            return 1
        if isinstance(init, str) and init == "random":
            return default
        if callable(init):
            return default
        return 1
    return _check_int(n_init, "n_init", 1)


# The core's integer_moments refuses sum(w) * max(dtype)^2 from 2^63 (color_index.hpp), past which its
# int64 sums would overflow; this guard keeps such data on the float path instead. Rounding the float
# product up never lets a larger one pass.
_INT64_MOMENTS_BOUND = 2.0**63


def _mean_variance(points: np.ndarray, weights: Optional[np.ndarray]) -> float:
    """Mean over the coordinates of the (weighted) variance: scikit-learn's ``_tolerance`` divided by tol.

    With weights it is the variance of the data in which point i occurs weights[i] times, so that the
    distinct-row path and a weighted fit stop where the plain fit on the repeated points stops. Integer
    weights are counts (the distinct colours' multiplicities): whole numbers without a test.
    """
    if weights is None:
        return float(np.mean(np.var(points, axis=0, dtype=np.float64)))
    counts = weights.dtype.kind in "iu"
    total = float(weights.sum(dtype=np.float64))
    if total <= 0:
        return 0.0
    if (
        points.dtype.kind == "u"
        and total * float(np.iinfo(points.dtype).max) ** 2 < _INT64_MOMENTS_BOUND
        and (counts or bool(np.all(weights == np.floor(weights))))
    ):
        # Integer points (distinct colours) with integer weights (their counts): the moments are exact
        # integers (int64 in the core, bounded by the guard above), and the variance
        # (W*S2 - S1^2) / W^2 is computed exactly in Python integers, then rounded once.
        W, S1, S2 = _core.integer_moments(np.ascontiguousarray(points), np.ascontiguousarray(weights, dtype=np.int64))
        var_sum = sum((Fraction(W * s2 - s1 * s1, W * W) for s1, s2 in zip(S1, S2)), Fraction(0))
        return float(var_sum / points.shape[1])
    weights = weights.astype(np.float64, copy=False)
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


def _running_sums_of_constant(p: float, at: Sequence[int]) -> "list[float]":
    """The float64 running sums of p, s[i] = fl(s[i-1] + p) with s[0] = p, at the given indices.

    What numpy's sequential ``cumsum`` gives, in O(log) steps instead of len: within a binade every
    addition of p rounds by the same amount (ulp is fixed and the sum stays on its grid; on a tie, the
    first addition lands on the even grid and the later ones stay there), so the sums advance by a
    constant step q until the exact sum would reach the next power of two. Each binade is crossed with
    one float addition at a time, then jumped with the constant step (exact: the sums are multiples of
    the ulp below the power of two).
    """
    want = sorted(set(int(i) for i in at))
    out: "dict[int, float]" = {}
    s, i, w = p, 0, 0  # s = s[i]; want[w] is the next index to record

    def record() -> bool:  # records s if wanted; whether any index is still wanted
        nonlocal w
        while w < len(want) and want[w] == i:
            out[want[w]] = s
            w += 1
        return w < len(want)

    while record():
        # one step by float addition (lands on the binade's grid), then the constant step
        s, i = s + p, i + 1
        if not record():
            break
        q = (s + p) - s  # exact (Sterbenz): the step from here on within this binade
        top = Fraction(2) ** math.frexp(s)[1]  # s < top, the next power of two
        # steps from s + j*q (j = 0, 1, ...) while the exact s + j*q + p stays below top, less one
        room = (top - Fraction(s) - Fraction(p)) / Fraction(q)
        jump = max(0, int(room) - 1)
        if jump == 0:
            continue
        upto = i + jump
        while w < len(want) and want[w] <= upto:
            out[want[w]] = float(Fraction(s) + (want[w] - i) * Fraction(q))
            w += 1
        s, i = float(Fraction(s) + jump * Fraction(q)), upto
    return [out[int(j)] for j in at]


# float64's unit roundoff: one rounding moves a value by at most this much, relatively.
_UNIT_ROUNDOFF = 2.0**-53


def _first_draw(u: float, n: int) -> float:
    """The uniform that makes k-means++'s first draw among n unit-weight samples pick what numpy picks.

    scikit-learn draws the first centre with ``RandomState.choice(n, p=w / w.sum())``: numpy takes the
    first index whose running sum of p = fl(1/n), divided by the last running sum, exceeds u. Rounding
    moves those boundaries by up to about n^2 * 2^-53 of a sample (0.016 at 12 MP), so the core's
    floor(u * n) differs from numpy's pick for about one draw in ten thousand at 12 MP. Near a boundary,
    numpy's running sums around floor(u * n) (two samples either side, far beyond that drift) and the last
    one are computed exactly as numpy computes them (in O(log n) steps), and the returned uniform is
    the middle of numpy's pick.
    """
    x = u * n
    i = min(int(x), n - 1)
    # Farther from a boundary than the drift can reach (the running sum's n^2 * 2^-53, its division by
    # the last sum, the rounding of u * n: a bound with room to spare), numpy picks floor(u * n) too.
    if min(x - i, i + 1 - x) > 4.0 * float(n) * float(n) * _UNIT_ROUNDOFF + 1e-6:
        return u
    lo, hi = max(0, i - 2), min(n, i + 3)
    sums = _running_sums_of_constant(1.0 / float(n), list(range(lo, hi)) + [n - 1])
    last = sums[-1]
    pick = lo + sum(1 for s in sums[:-1] if s / last <= u)  # searchsorted(side="right") near floor(u*n)
    return (pick + 0.5) / n


def _unit_choice_picks(us: np.ndarray, m: int, p: float) -> "list[int]":
    """For each uniform u, the first j in [0, m) with fl(s[j] / s[m-1]) > u, s the float64 running sums
    of p: where numpy's ``searchsorted(cumsum(p) / cumsum(p)[-1], u, side="right")`` lands on m equal
    probabilities. The answer is within a few indices of floor(u * m) (the sums drift by about
    m^2 * 2^-53 of a step); a window around it is checked to bracket the answer, and widened if not.
    """
    guesses = [min(int(u * m), m - 1) for u in us.tolist()]
    picks: "list[Optional[int]]" = [None] * len(guesses)
    reach = 4
    while any(pick is None for pick in picks):
        todo = [i for i, pick in enumerate(picks) if pick is None]
        windows = {i: range(max(0, guesses[i] - reach), min(m, guesses[i] + reach + 1)) for i in todo}
        at = sorted({j for w in windows.values() for j in w} | {m - 1})
        sums = dict(zip(at, _running_sums_of_constant(p, at)))
        last = sums[m - 1]
        for i in todo:
            above = [j for j in windows[i] if sums[j] / last > us[i]]
            # bracketed: the window starts at 0 or at an index that is not above u
            if above and (windows[i].start == 0 or above[0] > windows[i].start):
                picks[i] = above[0]
        reach *= 4
    return [int(pick) for pick in picks if pick is not None]


# float32 holds every integer up to 2^24 (its 24-bit significand), so partial sums of ones are exact.
_FLOAT32_EXACT_INTEGERS = 2**24


def _random_init_samples(
    random_state: np.random.RandomState,
    n_samples: int,
    n_clusters: int,
    sample_weight: Optional[np.ndarray],
    dtype: np.dtype,
) -> np.ndarray:
    """The samples scikit-learn's ``init="random"`` draws with the same random state:
    ``random_state.choice(n_samples, n_clusters, replace=False, p=w / w.sum())``, w the sample weights in
    X's float dtype (ones without weights).

    Unit weights need no n-long array: p is one constant, and numpy's algorithm (draw, zero the drawn
    entries' p, draw again for the repeats) is followed on the running sums of that constant.
    """
    if sample_weight is not None:
        w = sample_weight.astype(dtype)
        with np.errstate(over="ignore"):
            total = w.sum()
        if not np.finfo(dtype).tiny <= total < np.inf:
            # scikit-learn refuses (all weights underflow in X's dtype) or its p is imprecise (a subnormal
            # sum) or zero (an infinite one): draw on the float64 weights scaled by a power of two, which
            # is exact and leaves p as it is (tests/test_kmeans_errors.py::test_random_init_extreme_weights)
            w = sample_weight.astype(np.float64)
            w = np.ldexp(w, -int(np.frexp(w.max())[1]))
            total = w.sum()
        positive = np.flatnonzero(w)
        if positive.size < n_clusters:
            # numpy refuses; as k-means++ does, repeat a sample and leave the rest to the empty-cluster rule
            return np.concatenate([positive, np.full(n_clusters - positive.size, positive[0])])
        return np.asarray(random_state.choice(n_samples, size=n_clusters, replace=False, p=w / total))
    # ones(n).sum() is n exactly, in float32 too up to _FLOAT32_EXACT_INTEGERS
    total = (dtype.type(n_samples) if dtype == np.float64 or n_samples <= _FLOAT32_EXACT_INTEGERS
             else np.ones(n_samples, dtype).sum())
    p = float(dtype.type(1) / total)
    found: "list[int]" = []
    while len(found) < n_clusters:
        us = random_state.random_sample(n_clusters - len(found))
        drawn = sorted(found)  # their p is zero now: the running sums skip them
        picks = []
        for j in _unit_choice_picks(us, n_samples - len(drawn), p):
            for d in drawn:  # the j-th sample among those not drawn yet
                if d <= j:
                    j += 1
            picks.append(j)
        for j in dict.fromkeys(picks):  # numpy keeps each pick once, in the order first drawn
            found.append(j)
    return np.asarray(found, dtype=np.intp)


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
    sample_point: Optional[np.ndarray] = None,
    sample_point_weight: Optional[np.ndarray] = None,
    sample_counts: bool = False,
) -> _Run:
    """The best of ``n_init`` weighted k-means runs on ``points`` (rows as the core takes them).

    ``tol`` is absolute (already scaled by the mean variance). ``init_points`` is what a callable init
    receives (the caller's data). When k-means++ runs out of points at a positive squared distance from
    the chosen centres (fewer distinct points than clusters, or points so close that their squared
    distance underflows to 0), it repeats a centre and leaves the rest to the empty-cluster rule, as
    scikit-learn's draw does; a caller that wants an error for too few distinct points checks first.
    ``sample_point`` maps the caller's samples (pixels) to ``points``: k-means++ then draws along the
    samples, as scikit-learn does on them, and the same seed picks the same centres.
    ``sample_counts``: the weights count unit samples (distinct points' multiplicities), and an empty
    cluster is re-seeded with one of them, as scikit-learn re-seeds on the samples.
    """
    n = points.shape[0]
    trials = _local_trials(n_clusters)
    # scikit-learn's sample weights have X's dtype: float32 for float32 data, else float64
    data_dtype = (points if init_points is None else init_points).dtype
    p_dtype = np.dtype(np.float32 if data_dtype == np.float32 else np.float64)
    best: Optional[_Run] = None
    if isinstance(init, str) and init == "ward":
        from pixclust._ward_init import WardSeeds

        # deterministic: one tree, one run, whatever n_init says
        init, n_init = WardSeeds(points, weights, n_clusters, n_threads).centers(n_clusters), 1
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            uniforms = random_state.random_sample(1 + (n_clusters - 1) * trials)
            if sample_point is not None and sample_point_weight is None:
                uniforms[0] = _first_draw(uniforms[0], len(sample_point))
            elif sample_point is None and weights is None:
                uniforms[0] = _first_draw(uniforms[0], n)
            centers, _, chosen = _core.kmeans_plusplus(
                points, weights, n_clusters, trials, uniforms, sample_point, sample_point_weight, n_threads
            )
            centers[chosen:] = centers[0]
        elif isinstance(init, str) and init == "random":
            # scikit-learn's draw over the caller's samples, then each drawn sample's point
            if sample_point is None:
                seeds = _random_init_samples(random_state, n, n_clusters, weights, p_dtype)
            else:
                seeds = sample_point[
                    _random_init_samples(random_state, len(sample_point), n_clusters, sample_point_weight, p_dtype)
                ]
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
            points, weights, centers, max_iter, tol, "hamerly", n_threads, sample_counts
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
