"""``init="ward"``: k-means seeded from the cut of Ward's tree over the (weighted) points.

Deterministic, no random state. Ward's tree is built in O(m) memory by the core's ``linkage_vector``
over at most ``max(8192, 4 k)`` points: the points themselves when there are that few, else the
weighted means of the occupied cells of the finest regular grid that has that few (a photo's colours:
16 to 64 levels per channel), else an evenly strided subsample. The seeds are the weighted means of the
k clusters of the tree's cut; Lloyd's iterations then refine them on every point
(tests/test_ward_init.py compares the result with k-means++ on photos that do not ship with pixclust).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from pixclust import _core
from pixclust.hierarchy import _cluster_means, _cut_leaves

# linkage_vector is quadratic in m; with half as many points the cut seeded k-means worse than the median
# k-means++ run on some photos (tests/test_ward_init.py; the numbers are in the commit message)
_MIN_TREE_POINTS = 8192
# fractional weights are scaled to whole numbers summing to about this, far inside linkage_vector's 2**53
_MAX_TREE_WEIGHT = 2.0**40
# finer grids in steps of 2**(1/3) per axis (about twice the cells in 3-D): the tree gets close to the cap
_GRID_STEP = 2.0 ** (1.0 / 3.0)


class WardSeeds:
    """Ward's tree over ``points`` (reduced as the module says), cut at any k."""

    def __init__(self, points: np.ndarray, weights: Optional[np.ndarray], max_clusters: int, n_threads: int) -> None:
        p = np.asarray(points, dtype=np.float64)
        w = np.ones(p.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
        if np.any(w == 0):
            p, w = p[w > 0], w[w > 0]  # they move no mean; k-means++ never draws them either
        if not (np.all(w == np.floor(w)) and w.sum() <= _MAX_TREE_WEIGHT):
            # the core's Ward takes whole counts; the merge order depends only on the weights' ratios
            w = np.maximum(1.0, np.round(w * (_MAX_TREE_WEIGHT / w.sum())))
        self._points, self._weights = _reduce(p, w, max(_MIN_TREE_POINTS, 4 * max_clusters), max_clusters)
        m = self._points.shape[0]
        self._tree = (_core.linkage_vector(np.ascontiguousarray(self._points), "ward", "euclidean", self._weights,
                                           n_threads) if m > 1 else np.empty((0, 4)))

    def centers(self, n_clusters: int) -> np.ndarray:
        """The weighted means of the n_clusters clusters of the tree's cut, shape (n_clusters, d)."""
        m = self._points.shape[0]
        k = min(n_clusters, m)
        labels = _cut_leaves(self._tree, m, k) if m > 1 else np.zeros(m, dtype=np.int64)
        centers, _ = _cluster_means(labels, self._weights, self._points, k)
        if k < n_clusters:
            # fewer points than clusters: repeat the first centre and leave the rest to the empty-cluster
            # rule, as k-means++ does when it runs out of distinct points
            centers = np.concatenate([centers, np.repeat(centers[:1], n_clusters - k, axis=0)])
        return np.ascontiguousarray(centers)


def _reduce(p: np.ndarray, w: np.ndarray, cap: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``cap`` weighted points standing for (p, w), with the same weighted mean per region."""
    n, d = p.shape
    if n <= cap:
        return p, w
    lo = p.min(axis=0)
    span = p.max(axis=0) - lo
    best: Optional[tuple[np.ndarray, np.ndarray]] = None
    g = max(1, int(cap ** (1.0 / d)))  # g**d <= cap cells: the coarsest grid always fits
    while d * np.log2(g) <= 62:
        cells = _grid_means(p, w, lo, span, g)
        if cells[0].shape[0] > cap:
            break
        best = cells
        g = int(np.ceil(g * _GRID_STEP))
    if best is not None and best[0].shape[0] >= k:
        return best
    # the grid cannot separate k groups within the cap (many dimensions): every (n / cap)-th point
    rows = np.linspace(0, n - 1, cap).astype(np.intp)
    return p[rows], w[rows]


def _grid_means(p: np.ndarray, w: np.ndarray, lo: np.ndarray, span: np.ndarray,
                g: int) -> tuple[np.ndarray, np.ndarray]:
    """The weighted means and total weights of the occupied cells of a g-per-axis grid over the box."""
    scale = np.divide(g, span, out=np.zeros_like(span), where=span > 0)
    idx = np.minimum(((p - lo) * scale).astype(np.int64), g - 1)
    key = np.zeros(p.shape[0], dtype=np.int64)
    for t in range(p.shape[1]):
        key = key * g + idx[:, t]
    _, cell = np.unique(key, return_inverse=True)
    cell = cell.reshape(-1)
    return _cluster_means(cell, w, p, int(cell.max()) + 1)
