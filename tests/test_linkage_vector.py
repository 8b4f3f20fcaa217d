"""pixclust.linkage_vector against SciPy's linkage and fastcluster.linkage_vector, and linkage()'s switch
to it when the distance matrix would not fit."""

from __future__ import annotations

import os

import fastcluster
import numpy as np
import pytest
from scipy.cluster import hierarchy

import pixclust
from pixclust import _core, hierarchy as pixclust_hierarchy

METRICS = ["euclidean", "sqeuclidean", "cityblock", "chebyshev", "cosine"]
CENTROID_METHODS = ["ward", "centroid", "median"]


def assert_same_merges(Z, ref, rtol=1e-12, atol=0.0):
    """Columns 0, 1, 3 identical, heights close: the contract for ward, centroid and median."""
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], ref[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=rtol, atol=atol)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [1, 2, 3, 8, 16])
def test_single_matches_scipy(metric, d):
    rng = np.random.default_rng(d * 7 + len(metric))
    X = rng.normal(size=(int(rng.integers(300, 1200)), d))
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "single", metric), hierarchy.linkage(X, "single", metric))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [1, 2, 3, 8])
def test_single_matches_scipy_with_ties(metric, d):
    # Small integers: many equal distances, so SciPy's tie order (Prim's from point 0, lowest index,
    # stable sort by height) decides the matrix. Shifted by 1 so that cosine meets no zero row.
    rng = np.random.default_rng(d)
    X = rng.integers(0, 4, size=(600, d)).astype(np.float64) + 1
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "single", metric), hierarchy.linkage(X, "single", metric))


# Prim's scan bounds 16 outside points' distances side by side from a transposed byte grid of their
# coordinates, compacted as they join the tree (mst_vector.cpp): odd sizes leave partial blocks at the end.
@pytest.mark.parametrize("metric", METRICS[:4])
def test_prim_lanes_match_scipy_for_any_thread_count(metric):
    rng = np.random.default_rng(len(metric))
    for n, d in ((1501, 16), (333, 9), (97, 1)):
        X = (rng.normal(size=(n, d)) * rng.uniform(0.1, 100, d)).astype(np.float32)
        ref = hierarchy.linkage(X.astype(np.float64), "single", metric)
        for threads in (1, 2, 3):
            np.testing.assert_array_equal(_core.linkage_vector(X, "single", metric, None, threads), ref)


def assert_scipys_single_for_1_and_3_threads(X, metric):
    ref = hierarchy.linkage(X.astype(np.float64), "single", metric)
    for threads in (1, 3):
        np.testing.assert_array_equal(_core.linkage_vector(X, "single", metric, None, threads), ref)


# Prim's computes a distance only where the point's byte-grid bound (mst_vector.cpp, Grid) does not
# prove it at least the point's distance to the tree: a bound that overstates by a hair keeps a tree
# value too high, or a tied point's lower index from winning.
@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("d", [8, 13, 20])
def test_prim_grid_bounds_with_ties_match_scipy(metric, d):
    # small integers: cells a fixed whole number apart, many distances exactly equal to tree values
    rng = np.random.default_rng(d + len(metric))
    assert_scipys_single_for_1_and_3_threads(rng.integers(0, 3, size=(1500, d)).astype(np.float64), metric)


@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("ties", [False, True])
def test_prim_grid_bounds_with_one_wide_coordinate_match_scipy(metric, ties):
    # the last coordinate 10^4 times wider: the common grid puts the others in a cell or two, so the
    # bounds come from the last coordinate alone
    rng = np.random.default_rng(len(metric) + ties)
    X = rng.integers(0, 2, size=(1200, 12)) if ties else rng.normal(size=(1200, 12))
    X = X.astype(np.float64)
    X[:, -1] = (rng.integers(0, 50, 1200) if ties else rng.normal(size=1200)) * 1e4
    assert_scipys_single_for_1_and_3_threads(X, metric)


@pytest.mark.parametrize("metric", METRICS[:4])
def test_prim_grid_bounds_on_float32_match_scipy(metric):
    rng = np.random.default_rng(32 + len(metric))
    X = (rng.normal(size=(1300, 16)) * rng.uniform(0.01, 10, 16)).astype(np.float32)
    assert_scipys_single_for_1_and_3_threads(X, metric)
    assert_scipys_single_for_1_and_3_threads(np.round(X * 2).astype(np.float32), metric)


@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("scale", [1e-160, 1e-150, 1e150])
def test_prim_grid_bounds_at_extreme_scales_match_scipy(metric, scale):
    # 1e-160: squares of a cell's width fall below the normal doubles, so euclidean scans without bounds
    rng = np.random.default_rng(len(metric))
    X = rng.normal(size=(700, 16)) * scale
    X[::7] = X[1::7][: len(X[::7])]  # duplicates: tree values of 0
    assert_scipys_single_for_1_and_3_threads(X, metric)


def test_prim_chunks_that_split_blocks_give_the_same_bits():
    # 13,200 outside points: chunks of 1,100 (3 threads) and 1,650 (2) entries end inside blocks of 16,
    # each block scanned by the chunk it starts in
    X = np.random.default_rng(13).normal(size=(13_200, 16))
    Z1 = _core.linkage_vector(X, "single", "euclidean", None, 1)
    for threads in (2, 3):
        np.testing.assert_array_equal(_core.linkage_vector(X, "single", "euclidean", None, threads), Z1)


@pytest.mark.parametrize("metric", METRICS[:4])
def test_overflowing_distances_in_16_dimensions_raise_scipys_error(metric):
    # one distance overflows: bounds could skip it, so the scan computes them all and meets it
    X = np.random.default_rng(5).normal(size=(600, 16))
    X[[100, 400], 7] = [-1.5e308, 1.5e308]
    with pytest.raises(ValueError) as theirs:
        hierarchy.linkage(X, "single", metric)
    with pytest.raises(ValueError) as ours:
        pixclust.linkage_vector(X, "single", metric)
    assert str(ours.value) == str(theirs.value)


def test_single_matches_scipy_at_2000_points():
    X = np.random.default_rng(2000).normal(size=(2000, 3))
    np.testing.assert_array_equal(pixclust.linkage_vector(X), hierarchy.linkage(X, "single"))


# From 2048 points in up to 4 dimensions (8192 in 5, more in 6 to 8) single linkage runs Borůvka's rounds
# over a kd-tree (mst_boruvka.cpp) instead of Prim's; d is a run-time value there from 5 on, so 1 to 5
# cover its code.
@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_boruvka_matches_scipy(metric, d):
    rng = np.random.default_rng(d * 11 + len(metric))
    X = rng.normal(size=(int(rng.integers(2048, 4000)), d)) * rng.uniform(0.1, 100, d)
    ref = hierarchy.linkage(X, "single", metric)
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "single", metric), ref)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(pixclust.linkage_vector(X32, "single", metric),
                                  hierarchy.linkage(X32.astype(np.float64), "single", metric))


def test_boruvka_matches_scipy_in_5_dimensions():
    X = np.random.default_rng(6).random((8192, 5))
    np.testing.assert_array_equal(pixclust.linkage_vector(X), hierarchy.linkage(X, "single"))


def test_boruvka_same_bits_for_any_thread_count():
    X = np.random.default_rng(9).random((30_000, 3))
    Z1 = _core.linkage_vector(X, "single", "euclidean", None, 1)
    np.testing.assert_array_equal(_core.linkage_vector(X, "single", "euclidean", None, 2), Z1)
    np.testing.assert_array_equal(_core.linkage_vector(X, "single", "euclidean", None, 3), Z1)


def tied_triangles(count, rng):
    """Triangles A, B, C far apart, each with C as far from A as from B (integer coordinates, so exactly,
    in every metric): equal keys in the searches and neighbour lists, yet tree heights that all differ."""
    s = 2.0 * rng.permutation(count) + 1  # odd: 2s, 3s and 4s (every metric's sides) never meet
    gap = 10.0 * count * np.arange(1, count + 1)  # from C to the next A, in x: far apart, all different
    x = np.concatenate([[0.0], np.cumsum(3 * s + gap)[:-1]])
    tri = np.stack([np.stack([x, 0 * s], 1), np.stack([x, 2 * s], 1), np.stack([x + 3 * s, s], 1)], 1)
    return rng.permutation(tri.reshape(-1, 2))


@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_boruvka_with_tied_distances_matches_scipy_for_any_thread_count(metric, d):
    rng = np.random.default_rng(d)
    X = np.hstack([tied_triangles(800, rng), np.zeros((2400, d - 2))])
    ref = hierarchy.linkage(X, "single", metric)
    assert np.all(np.diff(ref[:, 2]) > 0)  # no tied height: Borůvka's tree is the answer
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(_core.linkage_vector(X, "single", metric, None, threads), ref)


def separated_blobs(rng, d):
    """Blobs of very different sizes and spreads, far apart: inside each blob the components merge for
    many rounds before any edge leaves it, and a point whose neighbour list and last edge out are all
    inside its component is searched again only if the key of that edge could still win."""
    count = 40
    sizes = rng.integers(5, 300, count)
    centres = rng.normal(size=(count, d)) * 1e4
    spreads = 10.0 ** rng.uniform(-3, 1, count)
    return rng.permutation(np.vstack([c + s * rng.normal(size=(m, d)) for c, s, m in zip(centres, spreads, sizes)]))


@pytest.mark.parametrize("metric", METRICS[:4])
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_boruvka_on_separated_blobs_matches_scipy_for_any_thread_count(metric, d):
    X = separated_blobs(np.random.default_rng(d * 5 + len(metric)), d)
    assert len(X) >= 2048  # Borůvka's size
    ref = hierarchy.linkage(X, "single", metric)
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(_core.linkage_vector(X, "single", metric, None, threads), ref)


@pytest.mark.parametrize("metric", METRICS[:4])
def test_boruvka_on_blobs_of_tied_triangles_matches_scipy(metric):
    # the triangles' exact ties, in 8 groups far apart in a third dimension (for many rounds)
    rng = np.random.default_rng(len(metric))
    X = tied_triangles(800, rng)
    group = np.floor(8 * X[:, 0] / (X[:, 0].max() + 1))
    X = np.hstack([X, (1e9 * group + 1e6 * group**2)[:, None]])  # gaps that differ in every metric
    ref = hierarchy.linkage(X, "single", metric)
    assert np.all(np.diff(ref[:, 2]) > 0)
    for threads in (1, 3):
        np.testing.assert_array_equal(_core.linkage_vector(X, "single", metric, None, threads), ref)


@pytest.mark.parametrize("metric", METRICS[:4])
def test_tied_heights_leave_boruvka_for_prims(metric):
    # a grid of small integers with duplicates: SciPy's matrix depends on Prim's visiting order there
    X = np.random.default_rng(3).integers(0, 12, size=(3000, 2)).astype(np.float64)
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "single", metric), hierarchy.linkage(X, "single", metric))


def test_overflowing_distances_leave_boruvka_for_scipys_error():
    X = np.random.default_rng(4).normal(size=(2500, 2)) * 1e307
    with pytest.raises(ValueError) as theirs:
        hierarchy.linkage(X, "single")
    with pytest.raises(ValueError) as ours:
        pixclust.linkage_vector(X)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("method", CENTROID_METHODS)
@pytest.mark.parametrize("d", [1, 2, 3, 8, 16])
def test_centroid_methods_match_scipy_and_fastcluster(method, d):
    rng = np.random.default_rng(d + 100)
    X = rng.normal(size=(2000 if d == 3 else 700, d))
    Z = pixclust.linkage_vector(X, method)
    assert_same_merges(Z, fastcluster.linkage_vector(X, method))
    # SciPy's Lance-Williams updates lose relative precision on the smallest heights (a square root of a
    # difference): 1e-12 relative, plus 1e-12 of the tallest height.
    ref = hierarchy.linkage(X, method)
    assert_same_merges(Z, ref, atol=1e-12 * ref[:, 2].max())


# From 2048 points in up to 4 dimensions Ward's chain finds each nearest cluster in a kd-tree over the
# centroids (centroid_tree.hpp), pruned by proven lower bounds: the same (key, lowest index) as the scan.
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_ward_tree_matches_scipy_and_fastcluster(d):
    rng = np.random.default_rng(d + 40)
    X = rng.normal(size=(int(rng.integers(2048, 3500)), d)) * rng.uniform(0.1, 100, d)
    Z = pixclust.linkage_vector(X, "ward")
    assert_same_merges(Z, fastcluster.linkage_vector(X, "ward"))
    ref = hierarchy.linkage(X, "ward")
    assert_same_merges(Z, ref, atol=1e-12 * ref[:, 2].max())


def test_ward_tree_weights_are_repeated_points():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(2500, 3))
    w = rng.integers(1, 4, size=2500)
    Zw = pixclust.linkage_vector(X, "ward", sample_weight=w)
    Zr = pixclust.linkage_vector(np.repeat(X, w, axis=0), "ward")
    zero = int(w.sum()) - len(X)
    np.testing.assert_allclose(Zr[zero:, 2], Zw[:, 2], rtol=1e-12)


# The weights of a photo's colours (pixel counts from 1 to 10^5) are the regime the tree's bounds are
# tuned for: each node's live box and smallest size are kept exact through the merges, and each link of
# the chain keeps its nearest few between merges (centroid_linkage.cpp, ChainNearest). Zero columns up
# to 8-D send the same problem to the scan (see _scanned below): the two must agree bit for bit.
def _heavy_tailed_weights(rng, n):
    return np.floor(10.0 ** (5 * rng.uniform(size=n) ** 4))  # half of them 1 or 2, a few near 10^5


@pytest.mark.parametrize("d", [1, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ward_tree_is_the_scan_bit_for_bit(d, dtype):
    rng = np.random.default_rng(d + 90)
    X = (rng.normal(size=(2600, d)) * rng.uniform(0.1, 100, d)).astype(dtype)
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "ward"), _scanned(X, method="ward"))
    w = _heavy_tailed_weights(rng, len(X))
    np.testing.assert_array_equal(pixclust.linkage_vector(X, "ward", sample_weight=w), _scanned(X, w, "ward"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ward_tree_breaks_ties_as_the_scan_on_a_palette(seed):
    # A photo's distinct colours: integer RGB, tied distances everywhere, weights from 1 to 10^5; a few
    # heavy colours are the hubs that far outliers link to, searched again and again.
    rng = np.random.default_rng(seed)
    X = np.unique(np.clip(np.floor(rng.normal(128, 20, size=(4000, 3))), 0, 255), axis=0)
    outliers = np.unique(rng.integers(0, 256, size=(300, 3)).astype(float), axis=0)
    X = np.unique(np.vstack([X, outliers]), axis=0)
    w = _heavy_tailed_weights(rng, len(X))
    w[rng.choice(len(X), 5, replace=False)] = 10**5
    Z = pixclust.linkage_vector(X, "ward", sample_weight=w.astype(np.int64))
    np.testing.assert_array_equal(Z, _scanned(X, w, "ward"))


# From 2048 points in up to 3 dimensions (4096 in 4, 8192 in 5) centroid and median run the generic
# algorithm over a kd-tree of the centroids (centroid_tree.hpp): each nearest cluster above, the clusters a
# merge brings closer and the smallest bound, with the scans' choices. Zero columns up to 8-D keep every
# distance's and centroid's bits (adding 0 * 0 is exact) and send the same problem to the scans: the two
# must agree bit for bit.
TREE_SIZES = {1: 2100, 2: 2100, 3: 2100, 4: 4200, 5: 8300}


def _scanned(X, w=None, method="centroid"):
    wide = np.hstack([X, np.zeros((len(X), 8 - X.shape[1]), X.dtype)])
    return pixclust.linkage_vector(wide, method, sample_weight=w)


@pytest.mark.parametrize("method", ["centroid", "median"])
@pytest.mark.parametrize("d", [2, 3, 4])
def test_generic_tree_matches_scan_scipy_and_fastcluster(method, d):
    rng = np.random.default_rng(d + 60)
    X = rng.normal(size=(TREE_SIZES[d] + int(rng.integers(0, 500)), d)) * rng.uniform(0.1, 100, d)
    Z = pixclust.linkage_vector(X, method)
    np.testing.assert_array_equal(Z, _scanned(X, method=method))
    assert_same_merges(Z, fastcluster.linkage_vector(X, method))
    ref = hierarchy.linkage(X, method)
    assert_same_merges(Z, ref, atol=1e-12 * ref[:, 2].max())


@pytest.mark.parametrize("method", ["centroid", "median"])
@pytest.mark.parametrize("d", [1, 3, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generic_tree_is_the_scan_bit_for_bit(method, d, dtype):
    rng = np.random.default_rng(d + 70)
    X = (rng.normal(size=(TREE_SIZES[d], d)) * rng.uniform(0.1, 100, d)).astype(dtype)
    w = rng.integers(0, 4, size=len(X)).astype(float)
    w[0] = 1  # a positive sum
    np.testing.assert_array_equal(pixclust.linkage_vector(X, method), _scanned(X, method=method))
    np.testing.assert_array_equal(pixclust.linkage_vector(X, method, sample_weight=w), _scanned(X, w, method))


@pytest.mark.parametrize("method", ["centroid", "median"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_generic_tree_breaks_ties_as_the_scan(method, d):
    rng = np.random.default_rng(d + 80)
    X = np.floor(rng.normal(size=(2500, d)) * 3)  # a few hundred distinct points, each many times
    np.testing.assert_array_equal(pixclust.linkage_vector(X, method), _scanned(X, method=method))
    w = rng.integers(1, 3, size=len(X))
    np.testing.assert_array_equal(pixclust.linkage_vector(X, method, sample_weight=w), _scanned(X, w, method))


def test_float32_is_the_float64_of_its_values():
    X = np.random.default_rng(5).normal(size=(800, 3)).astype(np.float32)
    X64 = X.astype(np.float64)
    np.testing.assert_array_equal(pixclust.linkage_vector(X), hierarchy.linkage(X64, "single"))
    for method in CENTROID_METHODS:
        np.testing.assert_array_equal(pixclust.linkage_vector(X, method), pixclust.linkage_vector(X64, method))


def _partition(labels):
    """Labels renumbered by first appearance: equal partitions give equal arrays."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def _leaf_counts(Z):
    """Z with its count column recomputed as leaf counts from its ids (an independent reckoning)."""
    n = len(Z) + 1
    count = np.ones(2 * n - 1)
    out = Z.copy()
    for r, (a, b) in enumerate(Z[:, :2].astype(int)):
        count[n + r] = out[r, 3] = count[a] + count[b]
    return out


@pytest.mark.parametrize("method", ["single", "ward", "centroid"])
def test_weights_are_repeated_points(method):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(80, 2))
    w = rng.integers(1, 5, size=80)
    Zw = pixclust.linkage_vector(X, method, sample_weight=w)
    Zr = pixclust.linkage_vector(np.repeat(X, w, axis=0), method)
    zero = int(w.sum()) - len(X)  # the copies merge first, at height 0
    assert np.all(Zr[:zero, 2] == 0) and np.all(Zr[zero:, 2] > 0)
    np.testing.assert_allclose(Zr[zero:, 2], Zw[:, 2], rtol=1e-12)
    assert hierarchy.is_valid_linkage(Zw)  # the count column counts leaves, as SciPy requires
    np.testing.assert_array_equal(Zw, _leaf_counts(Zw))
    first_copy = np.concatenate([[0], np.cumsum(w)[:-1]])
    heights = np.sort(Zw[:, 2])
    for t in (heights[:-1] + heights[1:])[:: len(heights) // 6] / 2:
        np.testing.assert_array_equal(
            _partition(hierarchy.fcluster(Zw, t, "distance")),
            _partition(hierarchy.fcluster(Zr, t, "distance")[first_copy]),
        )


@pytest.mark.parametrize("method", ["single", "ward", "centroid", "median"])
@pytest.mark.parametrize("shape", [(6000, 2), (1200, 8)])  # the kd-trees; the scans (centroid methods)
def test_thread_count_does_not_change_a_bit(method, shape):
    X = np.random.default_rng(3).normal(size=shape)
    one = _core.linkage_vector(X, method, "euclidean", None, 1)
    for threads in (2, 3):
        assert _core.linkage_vector(X, method, "euclidean", None, threads).tobytes() == one.tobytes()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "complete"}, ValueError, "method: .*needs the distance matrix"),
        ({"method": "nearest"}, ValueError, "method: "),
        ({"metric": "minkowski"}, ValueError, "metric: "),
        ({"method": "ward", "metric": "cityblock"}, ValueError, "Euclidean"),
        ({"X": np.ones(5)}, ValueError, "X: expected a 2-D"),
        ({"X": np.ones((0, 2))}, ValueError, "X: needs at least 1"),
        ({"X": np.array([[0.0, 1.0], [np.inf, 1.0]])}, ValueError, "X must contain only finite values"),
        ({"X": np.array([["a", "b"]])}, TypeError, "X: "),
        ({"sample_weight": [1, 2]}, ValueError, "sample_weight: expected shape"),
        ({"sample_weight": [1, 0.5, 1]}, ValueError, "sample_weight: expected whole numbers"),
        ({"sample_weight": [1, -1, 1]}, ValueError, "sample_weight: expected whole numbers"),
        ({"sample_weight": [0, 0, 0]}, ValueError, "sample_weight: .*positive sum"),
        ({"sample_weight": ["a", "b", "c"]}, TypeError, "sample_weight: "),
        ({"X": np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]]), "metric": "cosine"}, ValueError, "finite values"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"X": np.random.default_rng(0).normal(size=(3, 2))} | kwargs
    with pytest.raises(error, match=match):
        pixclust.linkage_vector(**args)


def test_binding_checks_memory_safety():
    with pytest.raises(TypeError, match="X: expected dtype"):
        _core.linkage_vector(np.ones((3, 2), dtype=np.int64), "single", "euclidean", None, 0)
    with pytest.raises(ValueError, match="sample_weight: expected 3"):
        _core.linkage_vector(np.ones((3, 2)), "single", "euclidean", np.ones(2), 0)


@pytest.mark.parametrize("method", ["ward", "centroid", "median"])
def test_linkage_switches_when_the_matrix_does_not_fit(monkeypatch, method):
    X = np.random.default_rng(1).normal(size=(200, 3))
    monkeypatch.setattr(pixclust_hierarchy, "_available_memory", lambda: 1000)
    with pytest.warns(RuntimeWarning, match="linkage_vector") as record:
        Z = pixclust.linkage(X, method)
    assert len(record) == 1
    np.testing.assert_array_equal(Z, pixclust.linkage_vector(X, method))


@pytest.mark.parametrize("metric", METRICS)
def test_single_linkage_of_points_never_builds_the_matrix(monkeypatch, metric):
    # Same bits as SciPy without the matrix (no warning, whatever the memory); the matrix kernels
    # are made to fail, to show they are not called.
    X = np.random.default_rng(3).normal(size=(2500, 3)) + 5
    ref = hierarchy.linkage(X, "single", metric)

    def no_matrix(*args, **kwargs):
        raise AssertionError("the matrix path ran")

    monkeypatch.setattr(_core, "pdist_euclidean", no_matrix)
    monkeypatch.setattr(_core, "linkage", no_matrix)
    monkeypatch.setattr(pixclust_hierarchy, "_available_memory", lambda: 1000)
    np.testing.assert_array_equal(pixclust.linkage(X, "single", metric), ref)
    np.testing.assert_array_equal(pixclust.linkage(X.astype(np.float32), "single", metric),
                                  hierarchy.linkage(X.astype(np.float32).astype(np.float64), "single", metric))


def test_single_linkage_keeps_scipys_errors_and_optimal_ordering():
    X = np.random.default_rng(4).normal(size=(50, 3))
    np.testing.assert_array_equal(pixclust.linkage(X, "single", optimal_ordering=True),
                                  hierarchy.linkage(X, "single", optimal_ordering=True))
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match="The condensed distance matrix must contain only finite values."):
        pixclust.linkage(X, "single")
    with pytest.raises(ValueError) as ours:
        pixclust.linkage(X[:1], "single")
    with pytest.raises(ValueError) as scipys:
        hierarchy.linkage(X[:1], "single")
    assert str(ours.value) == str(scipys.value)


@pytest.mark.parametrize("method", ["complete", "average", "weighted"])
def test_linkage_raises_memory_error_before_allocating(monkeypatch, method):
    X = np.random.default_rng(1).normal(size=(200, 3))
    monkeypatch.setattr(pixclust_hierarchy, "_available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=f"needs {8 * 200 * 199 // 2} bytes"):
        pixclust.linkage(X, method)


def test_linkage_keeps_the_matrix_path_when_it_fits():
    X = np.random.default_rng(1).normal(size=(200, 3))
    np.testing.assert_array_equal(pixclust.linkage(X, "ward"), hierarchy.linkage(X, "ward"))


def test_available_memory_is_a_plausible_byte_count():
    # MemAvailable counts the page cache the kernel can reclaim: at least the free pages, at most the total
    got = pixclust_hierarchy._available_memory()
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < got <= total
    if os.path.exists("/proc/meminfo"):
        assert got >= 0.5 * free  # free pages move between the two reads; MemAvailable includes them
