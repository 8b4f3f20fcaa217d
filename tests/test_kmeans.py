"""pixclust.KMeans against scikit-learn's KMeans: same answers, exact inertia, determinism, bad input."""

from __future__ import annotations

import pickle
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SKKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pixclust import KMeans

DATA = Path(__file__).resolve().parents[1] / "python" / "pixclust" / "data"


def _photo(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(DATA / name).convert("RGB"))


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return _photo("chelsea.png").reshape(-1, 3)


@pytest.fixture(scope="module")
def rocket() -> np.ndarray:
    return _photo("rocket.jpg").reshape(-1, 3)


def _inertia(X: np.ndarray, centers: np.ndarray, labels: np.ndarray, w: np.ndarray | None = None) -> float:
    diff = X.astype(np.float64) - np.asarray(centers, dtype=np.float64)[labels]
    d2 = np.einsum("ij,ij->i", diff, diff)
    return float(d2.sum() if w is None else d2 @ w)


def _nearest(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d = ((X.astype(np.float64)[:, None, :] - np.asarray(centers, np.float64)[None]) ** 2).sum(-1)
    return d.argmin(1)


def _blobs(n: int, d: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(k, d))
    return centers[rng.integers(0, k, n)] + rng.normal(size=(n, d))


# -- the same answers as scikit-learn ---------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 3, 7])
def test_same_init_same_result_random_data(d: int) -> None:
    X = _blobs(3000, d, 5, seed=d)
    init = X[np.random.default_rng(1).choice(len(X), 6, replace=False)]
    sk = SKKMeans(6, init=init, n_init=1).fit(X)
    for dedupe in (False, True):
        ours = KMeans(6, init=init, n_init=1, dedupe=dedupe).fit(X)
        assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
        np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-6, atol=1e-9)
        assert ours.n_iter_ == sk.n_iter_
        np.testing.assert_array_equal(ours.labels_, sk.labels_)


def test_same_init_same_result_with_weights() -> None:
    X = _blobs(2000, 3, 4, seed=5)
    w = np.random.default_rng(2).uniform(0.1, 3.0, len(X))
    init = X[:5].copy()
    # tol=0 (run to a fixed point): scikit-learn scales tol by the unweighted variance, pixclust by the
    # weighted one, so only the tolerance-free runs are comparable.
    sk = SKKMeans(5, init=init, n_init=1, tol=0).fit(X, sample_weight=w)
    ours = KMeans(5, init=init, n_init=1, tol=0).fit(X, sample_weight=w)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-6)


def test_same_init_same_result_photo(chelsea: np.ndarray) -> None:
    # Initial centres between pixels (no exact ties, where scikit-learn's rounding picks a side).
    init = _blobs(8, 3, 8, seed=0) * 5 + 128
    sk = SKKMeans(8, init=init, n_init=1).fit(chelsea.astype(np.float64))
    ours = KMeans(8, init=init, n_init=1).fit(chelsea)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-6)


def test_float32_same_as_float64_reference(chelsea: np.ndarray) -> None:
    X32 = (chelsea / 255.0).astype(np.float32)
    init = (_blobs(5, 3, 5, seed=3) * 0.02 + 0.5).astype(np.float32)
    sk = SKKMeans(5, init=init.astype(np.float64), n_init=1).fit(X32.astype(np.float64))
    ours = KMeans(5, init=init, n_init=1).fit(X32)
    assert ours.cluster_centers_.dtype == np.float32
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg"])
@pytest.mark.parametrize("k", [4, 8, 16])
def test_seeded_inertia_no_worse_than_sklearn(name: str, k: int) -> None:
    X = _photo(name)[::2, ::2].reshape(-1, 3)  # every other row and column: the test-time budget
    sk = np.array([SKKMeans(k, random_state=s, n_init="auto").fit(X).inertia_ for s in range(20)])
    ours = np.array([KMeans(k, random_state=s).fit(X).inertia_ for s in range(20)])
    # k-means++ draws along the pixels with scikit-learn's random numbers, so most seeds give the very
    # same clustering; where a pixel is exactly equidistant from two centres scikit-learn's rounding
    # picks a side and the runs part. The bound on the median is 1.002.
    assert np.median(ours) <= np.median(sk) * 1.002
    assert ours.max() <= sk.max() * 1.002
    assert np.mean(np.isclose(ours, sk, rtol=1e-9)) >= 0.5


def test_same_seed_same_init_as_sklearn(rocket: np.ndarray) -> None:
    # k-means++ on the distinct colours, drawing along the pixels with scikit-learn's random stream,
    # picks the centres scikit-learn's k-means++ picks on the pixels.
    from sklearn.cluster import kmeans_plusplus

    from pixclust import _core

    X = rocket.astype(np.float64)
    colors, counts, pixel_color = _core.index_colors(rocket, 3, 0)
    for seed, k in [(0, 8), (1, 10), (2, 16)]:
        sk_init, sk_idx = kmeans_plusplus(X - X.mean(0), k, random_state=seed)
        trials = 2 + int(np.log(k))
        uniforms = np.random.RandomState(seed).random_sample(1 + (k - 1) * trials)
        centers, idx, chosen = _core.kmeans_plusplus(colors, counts.astype(np.float64), k, trials, uniforms, pixel_color)
        assert chosen == k
        np.testing.assert_array_equal(centers, X[sk_idx])


def _greedy_on_samples(
    Xs: np.ndarray, sample_point: np.ndarray, k: int, trials: int, uniforms: np.ndarray, exact_at: "int | None" = None
) -> tuple:
    """scikit-learn's greedy k-means++ on the samples Xs themselves, in exact integers: the points chosen
    and the uniforms used. With exact_at, every draw targets the running sum at sample exact_at (or the
    next sample with mass), where side="left" and side="right" part."""
    n_samples = len(Xs)
    uniforms = uniforms.copy()
    first = int(uniforms[0] * n_samples)
    closest = ((Xs - Xs[first]) ** 2).sum(1)
    chosen = [int(sample_point[first])]
    for slot in range(1, k):
        at = 1 + (slot - 1) * trials
        cum = np.cumsum(closest)
        pot = float(closest.sum())
        if exact_at is not None:
            u = None
            for j in range(exact_at, n_samples):
                if closest[j] == 0:  # a sample with mass: a running sum all its own
                    continue
                near = cum[j] / pot + np.arange(-8, 9) * np.spacing(cum[j] / pot)
                hits = near[near * pot == cum[j]]
                if len(hits):
                    u = hits[0]
                    break
            uniforms[at : at + trials] = u
            assert np.searchsorted(cum, u * pot, side="left") != np.searchsorted(cum, u * pot, side="right")
        cand = np.searchsorted(cum, uniforms[at : at + trials] * pot)
        pots, dists = [], []
        for c in cand:
            dist = np.minimum(closest, ((Xs - Xs[c]) ** 2).sum(1))
            pots.append(int(dist.sum()))
            dists.append(dist)
        best = int(np.argmin(pots))
        closest = dists[best]
        chosen.append(int(sample_point[cand[best]]))
    return chosen, uniforms


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_draws_along_samples_land_where_a_full_cumulative_sum_puts_them(dtype: type) -> None:
    # The draws along the samples sum the samples' masses a slice at a time, and on 8-bit points find
    # each target from the nearer end (the running sum before a chunk is the total less the chunks
    # after it). Wherever the targets fall (all in the first slice, spread out, some near each end, all
    # at the very end, exactly on a running sum), each draw must pick the sample scikit-learn picks:
    # numpy's searchsorted (side="left") on a cumulative sum over every sample.
    from pixclust import _core

    rng = np.random.default_rng(11)
    m, n_samples, k, trials = 3000, 2_000_000, 4, 3  # 489 chunks of 4096 samples: eight slices
    colors = rng.integers(0, 256, size=(m, 3), dtype=np.uint8)
    sample_point = rng.integers(0, m, size=n_samples).astype(np.int32)
    counts = np.bincount(sample_point, minlength=m).astype(np.float64)
    Xs = colors[sample_point].astype(np.int64)

    X = colors.astype(dtype)
    spread = np.random.RandomState(0).random_sample(1 + (k - 1) * trials)
    ends = [np.full_like(spread, u) for u in (1e-9, 0.26, 0.51, 0.76, 1 - 1e-9)]  # just past slice ends
    both = np.tile([0.03, 0.97, 0.5], k)[: len(spread)]  # the widest gaps are in between: some from each end
    high = np.tile([0.9, 0.95, 0.999], k)[: len(spread)]  # all from the end
    cases = [(u, None) for u in ends + [spread, 1 - spread * 1e-3, both, high]]
    # exactly on the running sum inside a chunk and at a chunk's end (one from the start, two from the end)
    cases += [(spread, at) for at in (200_000, 1_200_000, 1_940_000, 48 * 4096 - 1, 300 * 4096 - 1, 474 * 4096 - 1)]
    for uniforms, exact_at in cases:
        expected, uniforms = _greedy_on_samples(Xs, sample_point, k, trials, uniforms, exact_at)
        _, idx, chosen = _core.kmeans_plusplus(X, counts, k, trials, uniforms, sample_point)
        assert chosen == k
        assert list(idx) == expected


@pytest.mark.parametrize("exact_at", [None, 0, 20 * 4096 - 1, 33 * 4096, 47 * 4096 - 1, "zero"])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_kept_sample_sums_draw_where_a_full_cumulative_sum_puts_them(
    exact_at: "int | str | None", n_threads: int
) -> None:
    # From 32 centres the 8-bit kernel keeps every chunk's sum along the samples and finds a draw's chunk
    # by a binary search over their running sums, the candidates' draws in parallel. Exactly on a
    # running sum (inside a chunk, at a chunk's end, at the start of one), or at 0 (u = 0: the first
    # sample), each draw must pick the sample numpy's searchsorted (side="left") picks on a cumulative
    # sum over every sample, as scikit-learn's seeding does.
    from pixclust import _core

    rng = np.random.default_rng(13)
    m, n_samples, k, trials = 2000, 48 * 4096, 33, 3
    colors = rng.integers(0, 256, size=(m, 3), dtype=np.uint8)
    sample_point = np.repeat(rng.integers(0, m, size=n_samples // 2), 2).astype(np.int32)
    counts = np.bincount(sample_point, minlength=m).astype(np.float64)
    uniforms = np.random.RandomState(3).random_sample(1 + (k - 1) * trials)
    if exact_at == "zero":
        uniforms[1:] = 0.0
    at = exact_at if isinstance(exact_at, int) else None
    Xs = colors[sample_point].astype(np.int64)
    expected, uniforms = _greedy_on_samples(Xs, sample_point, k, trials, uniforms, at)
    _, idx, chosen = _core.kmeans_plusplus(colors, counts, k, trials, uniforms, sample_point, None, n_threads)
    assert chosen == k
    assert list(idx) == expected


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("along_samples", [False, True])
def test_integer_seeding_equals_double_seeding(d: int, weighted: bool, along_samples: bool) -> None:
    # 8-bit points with integer weights are seeded in integer arithmetic (a separate kernel); the same
    # points as float64 take the double kernel. Every quantity is an exact integer either way, so the two
    # must choose the very same centres.
    from pixclust import _core

    rng = np.random.default_rng(d * 4 + weighted * 2 + along_samples)
    n = 20_000
    X8 = rng.integers(0, 256, size=(n, d), dtype=np.uint8)
    X8[: n // 4] = X8[0]  # one heavy point, as a photo's dominant colour
    w = rng.integers(0, 40, size=n).astype(np.float64) if weighted else None
    sample_point = rng.integers(0, n, size=3 * n).astype(np.int32) if along_samples else None
    if along_samples:
        # k-means++ along samples expects the points' weights to be the samples' counts
        w = np.bincount(sample_point, minlength=n).astype(np.float64)
    for seed, k in [(0, 2), (1, 8), (2, 17)]:
        trials = 2 + int(np.log(k))
        uniforms = np.random.RandomState(seed).random_sample(1 + (k - 1) * trials)
        c8, i8, n8 = _core.kmeans_plusplus(X8, w, k, trials, uniforms, sample_point)
        c64, i64, n64 = _core.kmeans_plusplus(X8.astype(np.float64), w, k, trials, uniforms, sample_point)
        assert n8 == n64 == k
        np.testing.assert_array_equal(i8, i64)
        np.testing.assert_array_equal(c8, c64)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 4])
def test_integer_seeding_with_kept_sample_sums_equals_double_seeding(n_threads: int) -> None:
    # From 32 centres the 8-bit kernel keeps the per-chunk sums along the samples up to date from each
    # point's runs of samples, built and lowered in up to 4 parts of chunks (as many as threads); the
    # double kernel sums every chunk afresh. Both exact: they must choose the very same centres for any
    # part count, here over 25 chunks that no count from 2 to 4 divides.
    from pixclust import _core

    rng = np.random.default_rng(32)
    n, k = 6000, 40
    X8 = rng.integers(0, 256, size=(n, 3), dtype=np.uint8)
    # runs of repeated points along the samples, as neighbouring pixels repeat colours
    sample_point = np.repeat(rng.integers(0, n, size=25 * 4096 // 3), 3)[: 25 * 4096 - 5].astype(np.int32)
    w = np.bincount(sample_point, minlength=n).astype(np.float64)
    trials = 2 + int(np.log(k))
    uniforms = np.random.RandomState(7).random_sample(1 + (k - 1) * trials)
    c8, i8, n8 = _core.kmeans_plusplus(X8, w, k, trials, uniforms, sample_point, None, n_threads)
    c64, i64, n64 = _core.kmeans_plusplus(X8.astype(np.float64), w, k, trials, uniforms, sample_point, None, 1)
    assert n8 == n64 == k
    np.testing.assert_array_equal(i8, i64)
    np.testing.assert_array_equal(c8, c64)


@pytest.mark.parametrize("n_threads", [3, 4])
def test_kept_sample_sums_falls_from_several_threads_equal_double_seeding(n_threads: int) -> None:
    # Each pass of the 8-bit kernel adds the falls of its points' samples into its thread's row (a
    # thread per 16 chunks of points at most, so 4 threads only from 262,144 points), then takes
    # the rows off the chunks' sums. Sample orders whose last chunk holds 1 sample or 65 (a word of the
    # stretch bitmask and one more), with a point filling a whole chunk: the very centres the double
    # kernel chooses from sums afresh.
    from pixclust import _core

    rng = np.random.default_rng(33)
    n, k = 270_000, 36
    X8 = rng.integers(0, 256, size=(n, 3), dtype=np.uint8)
    trials = 2 + int(np.log(k))
    uniforms = np.random.RandomState(9).random_sample(1 + (k - 1) * trials)
    for size in (60 * 4096 + 1, 60 * 4096 + 65):
        sample_point = np.repeat(rng.integers(0, n, size=size // 2 + 1), 2)[:size].astype(np.int32)
        sample_point[5 * 4096 : 6 * 4096] = 7
        w = np.bincount(sample_point, minlength=n).astype(np.float64)
        c8, i8, n8 = _core.kmeans_plusplus(X8, w, k, trials, uniforms, sample_point, None, n_threads)
        c64, i64, n64 = _core.kmeans_plusplus(X8.astype(np.float64), w, k, trials, uniforms, sample_point, None, 1)
        assert n8 == n64 == k
        np.testing.assert_array_equal(i8, i64)
        np.testing.assert_array_equal(c8, c64)


@pytest.mark.parametrize("bad", [-1, 3])
def test_seeding_refuses_a_sampling_order_outside_the_points(bad: int) -> None:
    from pixclust import _core

    X = np.array([[0, 0, 0], [9, 9, 9], [200, 0, 0]], dtype=np.uint8)
    order = np.array([0, 1, 2, bad, 1], dtype=np.int32)
    with pytest.raises(ValueError, match="sampling order names a point that does not exist"):
        _core.kmeans_plusplus(X, None, 2, 2, np.full(3, 0.5), order)


def test_integer_seeding_few_distinct_points() -> None:
    # Fewer distinct weighted points than k: both kernels stop at the same count.
    from pixclust import _core

    X8 = np.array([[0, 0, 0]] * 5 + [[255, 255, 255]] * 3 + [[9, 9, 9]], dtype=np.uint8)
    w = np.array([1, 1, 1, 1, 1, 2, 2, 2, 0], dtype=np.float64)
    uniforms = np.random.RandomState(0).random_sample(1 + 4 * 3)
    c8, i8, n8 = _core.kmeans_plusplus(X8, w, 5, 3, uniforms)
    c64, i64, n64 = _core.kmeans_plusplus(X8.astype(np.float64), w, 5, 3, uniforms)
    assert n8 == n64 == 2
    np.testing.assert_array_equal(c8[:2], c64[:2])



@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_nearest_centre_on_exact_ties(d: int, dtype: type) -> None:
    # Integer points and centres on integer and half-integer positions: many points are exactly
    # equidistant from two or more centres, and must go to the lowest index, as the reference's argmin
    # does. (Pixel dimensions 1-4 take the vectorised search, 5 the scalar one.)
    rng = np.random.default_rng(d)
    X = rng.integers(0, 7, size=(3000, d)).astype(dtype)
    centers = rng.integers(0, 13, size=(9, d)) / 2.0
    centers[3] = centers[1]  # a duplicated centre: index 1 must win every time
    with warnings.catch_warnings():  # the fit only makes an estimator to predict with
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(9, init=centers, n_init=1, max_iter=1).fit(X)
    km.cluster_centers_ = centers.astype(km.cluster_centers_.dtype)
    km._centers64 = centers
    expected = _nearest(X, centers)
    ties = ((X.astype(np.float64)[:, None, :] - centers[None]) ** 2).sum(-1)
    assert np.sum((ties == ties.min(1, keepdims=True)).sum(1) > 1) > 100  # the data really is tie-heavy
    np.testing.assert_array_equal(km.predict(X), expected)
    assert -km.score(X) == _inertia(X, centers, expected)


# -- exactness --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_labels_nearest_and_inertia_exact(chelsea: np.ndarray, dtype: type) -> None:
    X = chelsea[::3]
    X = X.astype(dtype) * (257 if dtype == np.uint16 else 1)
    km = KMeans(7, random_state=0).fit(X)
    centers = km._centers64
    np.testing.assert_array_equal(km.labels_, _nearest(X, centers))
    assert km.inertia_ == pytest.approx(_inertia(X, centers, km.labels_), rel=1e-12)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert -km.score(X) == pytest.approx(km.inertia_, rel=1e-12)


def test_weighted_equals_repeated() -> None:
    # w copies of a row laid out in its place: the same k-means++ draws, the same exact weighted sums
    rng = np.random.default_rng(0)
    for d in (2, 6):
        X = rng.normal(size=(300, d))
        w = rng.integers(0, 4, size=300)
        w[0] = 1
        rep = np.repeat(X, w, axis=0)
        for init in ("k-means++", "random"):
            a = KMeans(5, init=init, random_state=1, n_init=3).fit(X, sample_weight=w.astype(float))
            b = KMeans(5, init=init, random_state=1, n_init=3).fit(rep)
            np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
            assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)
            assert a.n_iter_ == b.n_iter_


def test_row_order_does_not_matter_for_given_centres() -> None:
    X = np.random.default_rng(3).integers(0, 4, size=(5000, 3)).astype(np.uint8)
    perm = np.random.default_rng(4).permutation(len(X))
    init = np.array([[0.5, 0.5, 0.5], [3.0, 0.0, 1.0], [1.0, 3.0, 2.5], [2.5, 2.0, 0.0]])
    a = KMeans(4, init=init, n_init=1).fit(X)
    b = KMeans(4, init=init, n_init=1).fit(X[perm])
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_[perm], b.labels_)


def test_distinct_path_equals_plain_path(rocket: np.ndarray) -> None:
    init = rocket[[10, 5000, 100000, 200000, 250000]].astype(np.float64) + 0.25
    a = KMeans(5, init=init, n_init=1, dedupe=True).fit(rocket)
    b = KMeans(5, init=init, n_init=1, dedupe=False).fit(rocket)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-13)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
def test_incremental_sums_in_thread_rows_equal_one_thread(algorithm: str) -> None:
    # With integer points and weights a pass adds the moves of its chunks into its thread's row (a
    # thread per 16 chunks at most: 4 threads only from 262,144 points), reduced after the pass. The
    # grid (hamerly on 8-bit colours) and the plain kernel on 3 and 4 threads must give the bits of the
    # plain kernel on one.
    from pixclust import _core

    rng = np.random.default_rng(44)
    X = rng.integers(0, 256, size=(270_000, 3), dtype=np.uint8)
    w = rng.integers(1, 6, size=len(X)).astype(np.float64)
    init = X[rng.choice(len(X), 48, replace=False)].astype(np.float64)
    ref = _core.kmeans_lloyd(X, w, init.copy(), 12, 0.0, "lloyd", 1, False)
    for n_threads in (3, 4):
        got = _core.kmeans_lloyd(X, w, init.copy(), 12, 0.0, algorithm, n_threads, False)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        assert got[2] == ref[2] and got[3] == ref[3]


def _far_mover(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Colours that make centres move unevenly on the 8-bit colour grid: a full 16^3 block held by one
    centre that hardly moves, and a chain of heavier colours out to a random far end, whose centres
    creep along it and, some steps in, reach the block's cells (distinct colours, integer weights)."""
    rng = np.random.default_rng(seed)
    block = np.stack(np.meshgrid(*[np.arange(16)] * 3, indexing="ij"), -1).reshape(-1, 3)
    end = rng.integers(60, 256, 3)
    chain = np.round(16 + np.linspace(0, 1, 600)[:, None] * (end - 16)).astype(int)
    extra = rng.integers(0, 256, (rng.integers(0, 300), 3))
    X = np.unique(np.concatenate([block, chain, extra]).clip(0, 255), axis=0).astype(np.uint8)
    w = rng.integers(1, 4, len(X)).astype(np.float64)
    in_chain = X.max(axis=1) >= 16
    w[in_chain] *= rng.integers(1, 30)
    k = int(rng.integers(2, 8))
    movers = X[rng.choice(np.flatnonzero(in_chain), k - 1, replace=False)] + rng.uniform(-0.4, 0.4, (k - 1, 3))
    return X, w, np.concatenate([[[7.3, 7.6, 7.1]], movers])


@pytest.mark.parametrize("seed", [0, 20, 25, 35, 46, 54])
def test_grid_bounds_follow_centres_that_move_unevenly(seed: int) -> None:
    # The colour grid decays a block's bounds by the largest move among the block's own candidate
    # centres; a centre that joins them after moving far must not find bounds that ignore its moves.
    X, w, init = _far_mover(seed)
    sk = SKKMeans(len(init), init=init, n_init=1, tol=0).fit(X.astype(np.float64), sample_weight=w)
    ours = KMeans(len(init), init=init, n_init=1, tol=0).fit(X, sample_weight=w)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_array_equal(ours.labels_, sk.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-12)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-9)
    np.testing.assert_array_equal(ours.labels_, _nearest(X, ours._centers64))


@pytest.mark.parametrize("dedupe", [True, False])
def test_same_bits_for_1_2_4_threads(chelsea: np.ndarray, dedupe: bool) -> None:
    from threadpoolctl import threadpool_limits

    Xf = _blobs(60000, 3, 6, seed=9)  # floats: the chunked sums decide the bits
    for X in (chelsea, Xf):
        fits = [KMeans(6, random_state=0, n_threads=t, dedupe=dedupe).fit(X) for t in (1, 2, 4)]
        with threadpool_limits(limits=1):
            fits.append(KMeans(6, random_state=0, dedupe=dedupe).fit(X))
        for f in fits[1:]:
            np.testing.assert_array_equal(f.cluster_centers_, fits[0].cluster_centers_)
            np.testing.assert_array_equal(f.labels_, fits[0].labels_)
            assert f.inertia_ == fits[0].inertia_


# -- the estimator API ------------------------------------------------------------------------------


def test_api_transform_pipeline_pickle(chelsea: np.ndarray) -> None:
    X = chelsea[::5].astype(np.float64)
    km = KMeans(4, random_state=0).fit(X)
    D = km.transform(X)
    np.testing.assert_allclose(D, np.sqrt(((X[:, None] - km.cluster_centers_[None]) ** 2).sum(-1)), rtol=1e-12)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)
    np.testing.assert_allclose(km.fit_transform(X), D)
    assert km.get_feature_names_out().tolist() == [f"kmeans{i}" for i in range(4)]
    again = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(again.predict(X), km.predict(X))
    assert clone(km).get_params() == km.get_params()
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    assert pipe.predict(X).shape == (len(X),)


def test_n_init_auto_semantics() -> None:
    X = _blobs(500, 2, 3, seed=0)
    assert KMeans(3, random_state=0).fit(X)._n_init == 1
    assert KMeans(3, init="random", random_state=0).fit(X)._n_init == 10
    assert KMeans(3, init=lambda X, k, random_state: X[:k], random_state=0).fit(X)._n_init == 10
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(3, init=X[:3], n_init=4).fit(X)


def test_tutorial_drop_in_uint8_jpeg_and_float32_png() -> None:
    from matplotlib.image import imread

    for path in (DATA / "rocket.jpg", DATA / "chelsea.png"):
        image = imread(str(path))[::2, ::2]
        assert image.dtype in (np.uint8, np.float32)
        data = image.reshape(-1, 3)
        kmeans = KMeans(n_clusters=3, random_state=42, n_init="auto")
        kmeans.fit(data)
        segmented = kmeans.cluster_centers_[kmeans.labels_]
        if image.dtype == np.uint8:
            segmented = segmented / 255
        assert segmented.reshape(image.shape).shape == image.shape
        sk = SKKMeans(n_clusters=3, random_state=42, n_init="auto").fit(data)
        assert kmeans.inertia_ <= sk.inertia_ * 1.002
        for color in [10, 8, 6, 4, 2]:
            km = KMeans(n_clusters=color, random_state=42, n_init="auto").fit(data)
            img = km.cluster_centers_[km.labels_].astype(int).reshape(image.shape)
            assert img.shape == image.shape


def test_fewer_distinct_points_than_clusters_warns_like_sklearn() -> None:
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(2\) found smaller than n_clusters \(3\)"):
        km = KMeans(3, random_state=0).fit(X)
    assert km.inertia_ == 0.0


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "params", "exc", "match"),
    [
        (np.zeros((5, 2, 2)), {}, ValueError, "3"),
        (np.zeros((0, 2)), {"n_clusters": 1}, ValueError, "0 sample"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), {"n_clusters": 1}, ValueError, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), {"n_clusters": 1}, ValueError, "infinity"),
        (np.array([["a", "b"]]), {"n_clusters": 1}, ValueError, "string|convert"),
        (np.zeros((5, 2)), {"n_clusters": 6}, ValueError, r"n_samples=5 should be >= n_clusters=6"),
        (np.zeros((5, 2)), {"n_clusters": 2, "max_iter": 0}, ValueError, "max_iter"),
        (np.zeros((5, 2)), {"n_clusters": 2, "tol": -1.0}, ValueError, "tol"),
        (np.zeros((5, 2)), {"n_clusters": 2, "n_init": 0}, ValueError, "n_init"),
        (np.zeros((5, 2)), {"n_clusters": 2, "init": "kmeans"}, ValueError, "init"),
        (np.zeros((5, 2)), {"n_clusters": 2, "init": np.zeros((3, 2))}, ValueError, "initial centers"),
        (np.zeros((5, 2)), {"n_clusters": 2, "algorithm": "fast"}, ValueError, "algorithm"),
        (np.zeros((5, 2)), {"n_clusters": 2, "n_threads": -1}, ValueError, "n_threads"),
    ],
)
def test_bad_input(X: np.ndarray, params: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        KMeans(**params).fit(X)


@pytest.mark.parametrize("n_threads", [2**31, 2**40, "limit+1"])
def test_thread_counts_beyond_reason_are_one_line_value_errors(n_threads: object) -> None:
    # Past C's int, pybind11 raised a TypeError that printed the whole array; below it, OpenMP starts
    # every thread asked for (enough of them crash the process). Every entry point says it in one line.
    from pixclust._fit import _MAX_THREADS

    n = _MAX_THREADS + 1 if n_threads == "limit+1" else n_threads
    X = np.arange(10.0).reshape(5, 2)
    fitted = KMeans(2, random_state=0).fit(X)
    calls = [lambda: KMeans(2, n_threads=n).fit(X)]
    for method in ("predict", "transform", "score"):
        calls.append(lambda method=method: getattr(fitted.set_params(n_threads=n), method)(X))
    for call in calls:
        with pytest.raises(ValueError, match="n_threads") as info:
            call()
        assert "\n" not in str(info.value) and len(str(info.value)) < 200
        fitted.set_params(n_threads=None)


_BAD_PARAMETERS = [
    ("n_clusters", 0), ("n_clusters", -1), ("n_clusters", 2.0), ("n_clusters", "3"), ("n_clusters", None),
    ("max_iter", 0), ("max_iter", 1.5), ("max_iter", "10"), ("tol", -1.0), ("tol", "x"), ("tol", np.inf),
    ("tol", np.nan), ("n_init", 0), ("n_init", "x"), ("n_init", 1.5), ("init", "kmeans"), ("init", 3),
    ("algorithm", "full"), ("algorithm", None), ("copy_x", "yes"), ("verbose", -1), ("random_state", -1),
    ("random_state", "x"), ("random_state", 2**32),
]


@pytest.mark.parametrize(("name", "value"), _BAD_PARAMETERS)
def test_bad_parameters_raise_scikit_learns_error(name: str, value: object) -> None:
    # scikit-learn raises InvalidParameterError, a ValueError and a TypeError: code written for it
    # (except ValueError) must catch ours. Same class, same message.
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.arange(20.0).reshape(10, 2)
    params = {"n_clusters": 2, name: value}
    with pytest.raises(InvalidParameterError) as expected:
        SKKMeans(**params).fit(X)
    with pytest.raises(InvalidParameterError) as got:
        KMeans(**params).fit(X)
    assert type(got.value) is type(expected.value)
    assert isinstance(got.value, ValueError) and isinstance(got.value, TypeError)
    want = _sorted_options(str(expected.value))
    if name == "init":  # pixclust adds init="ward"
        want = want.replace("{'k-means++', 'random'}", "{'k-means++', 'random', 'ward'}")
    assert _sorted_options(str(got.value)) == want


def _sorted_options(message: str) -> str:
    """The message with the options of its ``{...}`` set sorted: a set prints in hash order."""
    head, brace, rest = message.partition("{")
    if not brace:
        return message
    options, _, tail = rest.partition("}")
    return head + "{" + ", ".join(sorted(options.split(", "))) + "}" + tail


@pytest.mark.parametrize(
    ("name", "value"),
    [("n_threads", 0), ("n_threads", 2.0), ("n_threads", "2"), ("dedupe", "yes"), ("dedupe", 2)],
)
@pytest.mark.parametrize("skip_validation", [False, True])
def test_bad_pixclust_parameters_are_value_and_type_errors(name: str, value: object, skip_validation: bool) -> None:
    # Ours (n_threads, dedupe) are checked the same way; with scikit-learn's validation switched off,
    # pixclust's own checks still raise an error of both kinds.
    import sklearn

    X = np.arange(20.0).reshape(10, 2)
    with sklearn.config_context(skip_parameter_validation=skip_validation):
        with pytest.raises(ValueError, match=name) as info:
            KMeans(2, **{name: value}).fit(X)
    assert isinstance(info.value, TypeError)


def test_bad_sample_weight() -> None:
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="sample_weight"):
        KMeans(2).fit(X, sample_weight=[1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="expected"):
        KMeans(2).fit(X, sample_weight=[1.0, 1.0])
    with pytest.raises(ValueError, match="zero"):
        KMeans(2).fit(X, sample_weight=np.zeros(4))


def test_predict_checks_features() -> None:
    km = KMeans(2, random_state=0).fit(_blobs(50, 3, 2, 0))
    with pytest.raises(ValueError, match="features"):
        km.predict(np.zeros((3, 4)))


# -- Ctrl-C ----------------------------------------------------------------------------------------


def test_ctrl_c_stops_a_long_fit_within_a_second(stopped_by_ctrl_c: Any) -> None:
    # A real Ctrl-C: SIGINT to a separate Python process in the middle of a fit that would run for
    # about 15 s (tol=0: until no label changes). It must end with KeyboardInterrupt within a second.
    # (A process of its own: the test does not depend on what earlier tests did to this one.)
    script = (
        "import numpy as np\n"
        "from pixclust import KMeans\n"
        "X = np.random.default_rng(0).normal(size=(400_000, 8))\n"
        "km = KMeans(200, init=X[:200].copy(), n_init=1, max_iter=10_000, tol=0, dedupe=False, n_threads=2)\n"
        "print('fitting', flush=True)\n"
        "km.fit(X)\n"
        "print('finished', flush=True)\n"
    )
    stopped_by_ctrl_c(script, "fitting", 0.5, timeout=30)


def test_predict_follows_user_set_centres() -> None:
    X = _blobs(200, 2, 2, seed=1).astype(np.float32)
    km = KMeans(2, random_state=0).fit(X)
    km.cluster_centers_ = np.array([[100.0, 100.0], [-100.0, -100.0]], dtype=np.float32)
    np.testing.assert_array_equal(km.predict(X), _nearest(X, km.cluster_centers_))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_moments_are_exact_and_check_their_weights(dtype: type) -> None:
    # The variance behind tol, for distinct colours with their counts, comes from exact integer moments.
    from pixclust import _core
    from pixclust._fit import _mean_variance

    rng = np.random.default_rng(5)
    top = np.iinfo(dtype).max
    pts = rng.integers(0, top, size=(5000, 3), endpoint=True).astype(dtype)
    counts = rng.integers(1, 1000, size=5000)
    W, S1, S2 = _core.integer_moments(pts, counts)
    big = pts.astype(object)
    assert W == int(counts.sum())
    assert S1 == [int((big[:, j] * counts).sum()) for j in range(3)]
    assert S2 == [int((big[:, j] ** 2 * counts).sum()) for j in range(3)]
    # the same variance as the repeated points give, to the last bit of the exact value's rounding
    exact = sum(Fraction(W * s2 - s1 * s1, W * W) for s1, s2 in zip(S1, S2)) / 3
    assert _mean_variance(pts, counts) == float(exact)
    assert _mean_variance(pts, counts.astype(np.float64)) == float(exact)  # whole float weights: tested, then the same
    for bad in [-1, 2**60]:
        w = counts.copy()
        w[7] = bad
        with pytest.raises(ValueError, match="weights"):
            _core.integer_moments(pts, w)
    with pytest.raises(TypeError, match="weights"):  # counts are integers: no float re-checked in C++
        _core.integer_moments(pts, counts.astype(np.float64))
    with pytest.raises(TypeError, match="points"):
        _core.integer_moments(pts.astype(np.float32), counts)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_moments_are_used_up_to_the_int64_bound(dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    # The core's moments fit int64 while sum(w) * max^2 < 2^63 (color_index.hpp): just below that bound
    # the variance is still the exact one, rounded once; at it, the float moments take over.
    from pixclust import _core
    from pixclust._fit import _INT64_MOMENTS_BOUND, _mean_variance

    assert _INT64_MOMENTS_BOUND == 2.0**63
    top = float(np.iinfo(dtype).max)
    pts = np.array([[0, 1, 2], [int(top), 3, 4], [5, int(top) - 1, 6], [7, 8, 9]], dtype=dtype)
    each = float(int(2.0**63 / top**2) // 4)  # sum(w) * max^2 just below 2^63, beyond 2^62
    w = np.array([each, each, each, each - 1.0])
    assert 2.0**62 <= w.sum() * top**2 < 2.0**63
    W, S1, S2 = _core.integer_moments(pts, w.astype(np.int64))
    assert W == int(w.sum())
    # the core checks the bound itself (the fuzzer once reached int64 overflow through the private binding)
    limit = (2**63 - 1) // int(top) ** 2
    assert _core.integer_moments(pts, np.array([limit, 0, 0, 0]))[0] == limit
    with pytest.raises(ValueError, match="2\\^63"):
        _core.integer_moments(pts, np.array([limit - 5, 0, 0, 6]))
    exact = sum(Fraction(W * s2 - s1 * s1, W * W) for s1, s2 in zip(S1, S2)) / 3
    calls = []
    moments = _core.integer_moments
    monkeypatch.setattr(_core, "integer_moments", lambda *a: calls.append(1) or moments(*a))
    assert _mean_variance(pts, w) == float(exact)
    assert calls == [1]
    w[0] += 4.0 * each  # past the bound: the float moments, and no call
    _mean_variance(pts, w)
    assert calls == [1]


def test_first_draw_picks_the_sample_numpy_choice_picks() -> None:
    # scikit-learn draws the first centre with RandomState.choice(n, p=w / w.sum()), whose running sum of
    # p = 1/n drifts from i/n by rounding; the core picks floor(u * n). _first_draw hands the core a
    # uniform inside numpy's pick: uniforms just around the boundaries (where floor and numpy part) and
    # random ones, against numpy's own algorithm, itself checked against RandomState.choice.
    from pixclust._fit import _first_draw

    for n in (7, 1000, 3_000_001):
        p = np.full(n, 1.0) / float(n)
        cdf = np.cumsum(p)
        cdf /= cdf[-1]
        for seed in range(3):  # numpy's algorithm, as the reference below computes it
            u = np.random.RandomState(seed).random_sample()
            assert np.random.RandomState(seed).choice(n, p=p) == int(cdf.searchsorted(u, side="right"))
        rng = np.random.default_rng(n)
        edges = rng.integers(1, n, 400)
        us = np.concatenate(
            [rng.random(400), edges / n, np.nextafter(edges / n, 0.0), np.nextafter(edges / n, 1.0), cdf[edges - 1]]
        )
        us = us[(us >= 0.0) & (us < 1.0)]
        expected = cdf.searchsorted(us, side="right")
        parted = int(np.count_nonzero(np.minimum((us * n).astype(np.int64), n - 1) != expected))
        assert parted > 0 or n == 7  # the case the helper is for occurs (n = 7: exact sums, no drift)
        picks = np.array([min(int(_first_draw(float(u), n) * n), n - 1) for u in us])
        np.testing.assert_array_equal(picks, expected)


# -- init="random" ----------------------------------------------------------------------------------


def _same_partition(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist())) <= k


def test_random_init_draws_the_samples_numpy_choice_draws() -> None:
    # scikit-learn's init="random" is random_state.choice(n_samples, k, replace=False, p=w / w.sum()),
    # w the sample weights in X's dtype (ones without weights). pixclust follows numpy's algorithm
    # without n-long arrays; the picks, and where the stream is left, must be numpy's, repeats included.
    from pixclust._fit import _random_init_samples

    cases = [(n, k, seed) for n in (1, 2, 7, 50) for k in range(1, min(n, 8) + 1) for seed in range(10)]
    cases += [(n, k, seed) for n in (1000, 135300) for k in (1, 6, 64) for seed in range(5)]
    cases += [(3_000_001, k, 0) for k in (6, 64)]
    for dtype in (np.float64, np.float32):
        for n, k, seed in cases:
            w = np.ones(n, dtype=dtype)
            expected_rs = np.random.RandomState(seed)
            expected = expected_rs.choice(n, size=k, replace=False, p=w / w.sum())
            rs = np.random.RandomState(seed)
            got = _random_init_samples(rs, n, k, None, np.dtype(dtype))
            np.testing.assert_array_equal(got, expected, err_msg=f"n={n} k={k} seed={seed} {dtype}")
            assert rs.random_sample() == expected_rs.random_sample()
    w = np.random.default_rng(0).random(500) * (np.arange(500) % 3 > 0)
    for seed in range(10):
        expected = np.random.RandomState(seed).choice(500, size=20, replace=False, p=w / w.sum())
        got = _random_init_samples(np.random.RandomState(seed), 500, 20, w, np.dtype(np.float64))
        np.testing.assert_array_equal(got, expected)


def test_labels_after_a_last_relocation() -> None:
    # The labels did not change in the last iteration, but its update re-seeded an empty cluster with a
    # distinct point whose whole weight left its label's centre (here the weights are not counts, so the
    # distinct point moves as one): labels_ must still be the nearest final centres, and inertia_ theirs.
    # Found by the fuzzer; scikit-learn returns the stale labels in this case.
    X = np.array([[0, 0], [1e15, 1e15], [0, 0], [1e15, 1e15], [0, 0]], dtype=np.float64)
    w = np.full(5, 1e-250)
    for dedupe in (True, False):
        for algorithm in ("lloyd", "elkan"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                km = KMeans(3, init=X[[0, 1, 0]], n_init=1, tol=0, algorithm=algorithm, dedupe=dedupe).fit(X, sample_weight=w)
            d2 = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
            assert (d2[np.arange(5), km.labels_] == d2.min(axis=1)).all(), (dedupe, algorithm, km.labels_)
            assert km.inertia_ == pytest.approx(float((w * d2.min(axis=1)).sum()), rel=1e-12)


def test_random_init_extreme_weights() -> None:
    # Weights whose sum is subnormal or overflows make numpy's p imprecise or zero (scikit-learn raises
    # for these); the draw is then on the weights scaled by a power of two, exactly numpy's draw for
    # the same weights in the normal range. Found by the fuzzer: all weights 5e-324 with float32 X
    # underflowed to zero and raised IndexError.
    from pixclust._fit import _random_init_samples

    w = np.random.default_rng(1).integers(1, 9, 300).astype(np.float64)
    for seed in range(8):
        expected = np.random.RandomState(seed).choice(300, size=12, replace=False, p=w / w.sum())
        for scaled, dtype in ((w * 2.0**-1060, np.float64), (w * 2.0**1017, np.float64), (w * 2.0**-160, np.float32)):
            got = _random_init_samples(np.random.RandomState(seed), 300, 12, scaled, np.dtype(dtype))
            np.testing.assert_array_equal(got, expected, err_msg=f"seed={seed} max={scaled.max()} {dtype}")
    X = np.random.default_rng(2).uniform(0, 1, (200, 5)).astype(np.float32)
    km = KMeans(3, init="random", random_state=0).fit(X, sample_weight=np.full(200, 5e-324))
    nearest = ((X[:, None, :].astype(np.float64) - km.cluster_centers_[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(km.labels_, nearest)


@pytest.mark.parametrize(("scale", "k", "seed"), [(255.0, 6, 5), (255.0, 8, 1), (None, 6, 5)])
def test_random_init_matches_scikit_learn_on_the_photo(chelsea: np.ndarray, scale: float | None, k: int, seed: int) -> None:
    # The case: the cat in [0, 1], k = 6, seed 5 (798.1867 against scikit-learn's 798.1256 when
    # the distinct colours were drawn, weighted by their counts, instead of the samples).
    X = chelsea / scale if scale else chelsea
    ref = SKKMeans(k, init="random", random_state=seed).fit(X)
    km = KMeans(k, init="random", random_state=seed).fit(X)
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert km.n_iter_ == ref.n_iter_
    assert _same_partition(km.labels_, ref.labels_, k)


def test_random_init_matches_scikit_learn_on_repeated_points() -> None:
    # Repeated points: the draw often takes two samples of one point, so runs start with duplicate
    # centres and re-seed the empty clusters, one sample at a time, as scikit-learn does on the samples.
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3))
    X = np.repeat(points, rng.integers(1, 60, 40), axis=0)
    rng.shuffle(X)
    for k in (5, 8):
        for seed in range(6):
            ref = SKKMeans(k, init="random", random_state=seed).fit(X)
            for dedupe in (True, False):
                km = KMeans(k, init="random", random_state=seed, dedupe=dedupe).fit(X)
                assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12), (k, seed, dedupe)
                assert _same_partition(km.labels_, ref.labels_, k), (k, seed, dedupe)


def test_empty_clusters_take_one_sample_of_a_repeated_point() -> None:
    # Duplicate initial centres leave clusters empty; scikit-learn re-seeds each with one sample of the
    # farthest points, so several can take copies of one repeated point. On the distinct rows with their
    # counts, an empty cluster must take one copy, not all of them.
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3))
    X = np.repeat(points, rng.integers(1, 60, 40), axis=0)
    rng.shuffle(X)
    far = int(np.argmax(((X - X[0]) ** 2).sum(axis=1)))
    for rows in ([0, 0, 0, 5, far], [0, 0, 0, 0, 0, 0, 0, 0], [far, 0, far, 3, 3, 7]):
        init = X[rows]
        ref = SKKMeans(len(rows), init=init, n_init=1).fit(X)
        for dedupe in (True, False):
            km = KMeans(len(rows), init=init, n_init=1, dedupe=dedupe).fit(X)
            assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12), (rows, dedupe)
            assert _same_partition(km.labels_, ref.labels_, len(rows)), (rows, dedupe)
