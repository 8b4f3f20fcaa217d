"""Writes the hand-made seeds of fuzz/corpus/: one or more ordinary inputs per target (so that a replay
walks the main paths, both sides of linkage's large-n switches included), odd layouts and edge values,
and the reproductions of every defect found so far. A crasher found by a campaign is added by copying
its .npz from fuzz/crashers/ into fuzz/corpus/ under a name that says what it is.

    python fuzz/seeds.py          # (re)write them
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fuzz import CORPUS, save_input  # noqa: E402
from targets import F32_MAX, F64_MAX, METHODS, Arr  # noqa: E402


def _pdist(X: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import pdist

    return pdist(X)


def seeds() -> dict[str, tuple[str, dict[str, Any], str]]:
    rng = np.random.default_rng(14)
    M, v = F64_MAX, np.float32(3e38)
    pts = rng.standard_normal((12, 3))
    grid = np.array([[i, j] for i in range(5) for j in range(4)], dtype=float)
    img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    big_pixels = np.repeat(rng.integers(0, 256, (60, 3), dtype=np.uint8), 50, axis=0)  # 3000 rows, compressible

    def lk(y: Any, method: str, overwrite: bool = False, olo: bool = False, layout: str = "") -> dict[str, Any]:
        y = Arr(y, layout) if isinstance(y, np.ndarray) else y
        return {"y": y, "method": method, "overwrite_input": overwrite, "optimal_ordering": olo}

    def km(X: np.ndarray, k: int, init: Any = "k-means++", w: Any = None, threads: Any = None, max_iter: int = 300,
           dedupe: Any = "auto") -> dict[str, Any]:
        return {"X": Arr(X), "X2": Arr(X[:5]), "sample_weight": None if w is None else Arr(w), "n_clusters": k,
                "init": Arr(init) if isinstance(init, np.ndarray) else init, "n_init": "auto", "max_iter": max_iter,
                "tol": 1e-4, "random_state": 0, "algorithm": "lloyd", "n_threads": threads, "dedupe": dedupe}

    def qz(image: np.ndarray, k: Any, space: str = "rgb", threads: Any = None, alpha: bool = False) -> dict[str, Any]:
        return {"image": Arr(image), "n_colors": k, "space": space, "random_state": 0, "n_init": "auto",
                "max_iter": 300, "tol": 1e-4, "cluster_alpha": alpha, "n_threads": threads}

    s: dict[str, tuple[str, dict[str, Any], str]] = {}
    # --- the known defect: a Lance-Williams update overflows (being fixed on main) ---
    known = "KNOWN linkage overflow (fixed on main): SciPy's own updates overflow; contract: ValueError"
    s["linkage-overflow-centroid-3x1e200"] = ("linkage", lk(np.full(3, 1e200), "centroid"), known)
    s["linkage-overflow-median-1.5e154"] = ("linkage", lk(np.array([1, 2, 1.5e154, 3, 4, 5.0]), "median"), known)
    s["linkage-overflow-ward-45x1e200"] = ("linkage", lk(np.full(45, 1e200), "ward"), known)
    s["linkage-overflow-average-dblmax"] = ("linkage", lk(np.array([1, M, M, M, M, M]), "average"), known)
    s["linkage-overflow-ward-float32-3e38"] = (
        "linkage", lk(np.array([1, v, v, v, v, v, v, 2, v, v], np.float32), "ward"), known)
    s["linkage-overflow-ward-float32-below-fltmax"] = (
        "linkage", lk(np.array([3e38, 2, 1e-45, 3e38, 0, 3e38, 0, 1e-20, 3, 1e30], np.float32), "ward"),
        "float32: the last height is inf where SciPy's is 3.29e38 and no update along SciPy's merges passes "
        "FLT_MAX (found by the long campaign, reduced to 5 points); contract: the same heights or ValueError")
    s["core_linkage-overflow-weighted-dblmax"] = (
        "core_linkage", {"y": Arr(np.array([1, M, M, M, M, M])), "method": "weighted", "overwrite_input": True,
                         "n_threads": 1}, known)
    s["linkage_obs-overflow-average-chebyshev"] = (
        "linkage_obs", {"X": Arr(np.array([[1.5e154, -F32_MAX], [M, F32_MAX], [3e38, 0.5]])), "method": "average",
                        "metric": "chebyshev"}, known)
    # --- found by the fuzzer: thread counts no machine can start crash libgomp (alloca, then OOM exit) ---
    threads = "n_threads is passed to OpenMP's num_threads unbounded: libgomp segfaults or exits"
    s["quantize-n_threads-2e31"] = ("quantize", qz(img, 4, threads=2**31 - 1), threads)
    s["kmeans-n_threads-1e6"] = ("kmeans", km(big_pixels, 4, threads=10**6), threads)
    s["core_pdist-n_threads-1e6"] = (
        "core_pdist", {"X": Arr(np.repeat(rng.standard_normal((30, 2)), 100, axis=0)), "n_threads": 10**6}, threads)
    s["core_index-remap-n_threads-1e6"] = (
        "core_index", {"fn": "remap_labels", "values": Arr(np.zeros(100_000, np.int32)),
                       "table": Arr(np.arange(3, dtype=np.int32)), "n_threads": 10**6}, threads)
    # --- found by the fuzzer: Hamerly's bounds go stale when the initial centres are far from the data ---
    hamerly = "labels_ are not the nearest centres: Hamerly bounds lose precision after a huge centre move"
    s["kmeans-hamerly-init-1e17-away"] = (
        "kmeans", km(rng.random((300, 2)), 6, init=rng.random((6, 2)) * 1e17, max_iter=20, dedupe=False), hamerly)
    s["kmeans-hamerly-init-dblmax"] = (
        "kmeans", km(rng.integers(0, 65536, (200, 3)).astype(np.uint16), 3,
                     init=np.array([[1000.0, 1000, 1000], [-M, 0, 0], [6e4, 6e4, 6e4]]), max_iter=2), hamerly)
    relocation = "labels_ are not the nearest centres: an empty cluster relocated in the last iteration"
    dup = np.array([[0.0, 0], [1e15, 1e15], [0, 0], [1e15, 1e15], [0, 0]])
    s["kmeans-relocation-stale-labels"] = (
        "kmeans", {**km(dup, 3, init=dup[[0, 1, 0]], w=np.full(5, 1e-250)), "tol": 0.0}, relocation)
    # --- ordinary inputs: every method, both dtypes, ties, odd layouts, SciPy's errors ---
    for method in METHODS:
        s[f"linkage-{method}-random"] = ("linkage", lk(_pdist(pts), method), "")
    s["linkage-ward-float32"] = ("linkage", lk(_pdist(pts).astype(np.float32), "ward"), "")
    s["linkage-centroid-float32-strided"] = ("linkage", lk(_pdist(pts).astype(np.float32), "centroid", layout="step"), "")
    s["linkage-average-grid-ties"] = ("linkage", lk(_pdist(grid), "average"), "")
    s["linkage-median-grid-ties-olo"] = ("linkage", lk(_pdist(grid), "median", olo=True), "")
    s["linkage-complete-negative"] = ("linkage", lk(-_pdist(pts), "complete"), "SciPy accepts negative distances")
    s["linkage-single-denormal"] = ("linkage", lk(_pdist(pts) * 1e-310, "single"), "")
    s["linkage-complete-1e300"] = ("linkage", lk(_pdist(pts) * 1e300, "complete"), "no arithmetic: no overflow")
    s["linkage-ward-overwrite"] = ("linkage", lk(_pdist(pts), "ward", overwrite=True), "")
    s["linkage-weighted-readonly-overwrite"] = ("linkage", lk(_pdist(pts), "weighted", True, layout="ro"), "")
    s["linkage-average-byteswapped"] = ("linkage", lk(_pdist(pts), "average", layout="swap"), "")
    s["linkage-average-unaligned"] = ("linkage", lk(_pdist(pts), "average", layout="unaligned"), "")
    s["linkage-single-nan"] = ("linkage", lk(np.array([1.0, np.nan, 2.0]), "single"), "")
    s["linkage-ward-bad-length"] = ("linkage", lk(np.ones(4), "ward"), "")
    s["linkage-centroid-two-points"] = ("linkage", lk(np.array([2.5]), "centroid"), "")
    s["linkage-average-list"] = ("linkage", lk([3.0, 1.0, 4.0, 1.5, 5.0, 9.0], "average"), "")
    s["linkage-single-slink-2100"] = (
        "linkage", lk(Arr(rng.random((2100, 2)), "pdist"), "single"), "2100 points: SLINK (pdist of the stored points)")
    s["linkage-ward-panels-2550"] = ("linkage", lk(Arr(rng.random((2550, 2)), "pdist"), "ward"), "2550 points: panels")
    s["linkage_obs-ward-float32"] = ("linkage_obs", {"X": Arr(pts.astype(np.float32)), "method": "ward",
                                                     "metric": "euclidean"}, "")
    s["linkage_obs-average-cosine"] = ("linkage_obs", {"X": Arr(pts), "method": "average", "metric": "cosine"}, "")
    grid = np.repeat(np.array([[0.0, 0], [1, 0], [0, 1], [1, 1], [3, 0]]), 3, axis=0)  # ties everywhere
    for method in ("single", "ward", "centroid", "median"):
        s[f"linkage_vector-{method}-random"] = (
            "linkage_vector", {"X": Arr(pts), "method": method, "metric": "euclidean", "sample_weight": None}, "")
        s[f"linkage_vector-{method}-ties-weights"] = (
            "linkage_vector", {"X": Arr(grid, "F"), "method": method, "metric": "euclidean",
                               "sample_weight": Arr(np.arange(15.0) % 3)}, "")
    big = np.random.default_rng(2100).normal(size=(2100, 3))  # from 2048 points in 3-D: Borůvka's kd-tree and Ward's centroid tree
    for metric in ("euclidean", "cityblock"):
        s[f"linkage_vector-single-boruvka-{metric}"] = (
            "linkage_vector", {"X": Arr(big), "method": "single", "metric": metric, "sample_weight": None},
            "2100 points: Borůvka over the kd-tree")
    s["linkage_vector-single-boruvka-ties"] = (
        "linkage_vector", {"X": Arr(np.floor(big * 2)), "method": "single", "metric": "euclidean",
                           "sample_weight": None}, "tied heights: Borůvka hands over to Prim's")
    s["linkage_vector-single-boruvka-overflow"] = (
        "linkage_vector", {"X": Arr(big * 1e307), "method": "single", "metric": "euclidean", "sample_weight": None},
        "a box whose corners overflow: Prim's and SciPy's error")
    s["linkage_vector-ward-tree-weights"] = (
        "linkage_vector", {"X": Arr(big, "F"), "method": "ward", "metric": "euclidean",
                           "sample_weight": Arr(np.arange(2100.0) % 4)}, "the centroid tree with zero sizes")
    s["linkage_vector-centroid-tree-weights"] = (
        "linkage_vector", {"X": Arr(big, "F"), "method": "centroid", "metric": "euclidean",
                           "sample_weight": Arr(np.arange(2100.0) % 3)}, "the generic algorithm's kd-tree, zero sizes")
    # its own rng, so that the seeds above keep their bits
    ties = np.floor(np.random.default_rng(2101).normal(size=(2100, 2)) * 3)
    s["linkage_vector-median-tree-ties"] = (
        "linkage_vector", {"X": Arr(ties.astype(np.float32)), "method": "median", "metric": "euclidean",
                           "sample_weight": None}, "the generic algorithm's kd-tree, every distance tied many times")
    s["linkage_vector-single-cosine-float32"] = (
        "linkage_vector", {"X": Arr(pts.astype(np.float32)), "method": "single", "metric": "cosine",
                           "sample_weight": None}, "")
    s["linkage_vector-ward-far-apart"] = (
        "linkage_vector", {"X": Arr(np.array([[0.0, 0], [1e200, 1e200], [-1e200, 3]])), "method": "ward",
                           "metric": "euclidean", "sample_weight": None}, "distances overflow: a ValueError")
    s["linkage_obs-ward-pdist-overflows"] = (
        "linkage_obs", {"X": Arr(np.array([[0.0, 0], [1e200, 1e200], [-1e200, 3]])), "method": "ward",
                        "metric": "euclidean"}, "SciPy: distances must be finite")
    s["kmeans-uint8-weights"] = ("kmeans", km(img.reshape(-1, 3), 5, w=rng.integers(0, 4, 24 * 32).astype(float)), "")
    s["kmeans-float64-init-array"] = ("kmeans", km(rng.standard_normal((100, 4)), 3,
                                                   init=rng.standard_normal((3, 4)), dedupe=False), "")
    s["kmeans-float32-callable"] = ("kmeans", km(rng.standard_normal((80, 6)).astype(np.float32), 4,
                                                 init="callable"), "")
    s["quantize-rgba-alpha"] = ("quantize", qz(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), 6), "")
    s["quantize-gray16-list"] = ("quantize", qz(rng.integers(0, 65536, (20, 10), dtype=np.uint16), [5, 3, 1]), "")
    s["quantize-lab-float"] = ("quantize", qz(rng.random((12, 12, 3)), 4, space="lab"), "")
    s["dither-rgb"] = ("dither", {"image": Arr(img), "palette": Arr(img[0, :6].copy()), "serpentine": True}, "")
    s["dither-gray16-alpha"] = ("dither", {"image": Arr(rng.integers(0, 65536, (9, 7, 2), dtype=np.uint16)),
                                           "palette": Arr(np.array([[0], [30000], [65535]])), "serpentine": False}, "")
    s["color-to-lab-uint8"] = ("color", {"x": Arr(img[:4]), "to": "lab"}, "")
    s["color-from-lab-nan"] = ("color", {"x": Arr(np.array([[50.0, np.nan, 0.0], [1e308, -1e308, 5e-324]])),
                                         "to": "rgb"}, "")
    # --- the private bindings at their edges ---
    X = rng.random((20, 3))
    s["core_kmeans-plusplus-uniforms-out-of-range"] = (
        "core_kmeans", {"fn": "kmeans_plusplus", "X": Arr(X), "sample_weight": None, "n_clusters": 3,
                        "n_local_trials": 2, "uniforms": Arr(np.array([1.0, 2.0, -0.5, np.nan, np.inf])),
                        "sample_point": None, "sample_point_weight": None, "n_threads": 1}, "")
    s["core_kmeans-plusplus-size-wraps"] = (
        "core_kmeans", {"fn": "kmeans_plusplus", "X": Arr(X), "sample_weight": None, "n_clusters": 2**62 + 1,
                        "n_local_trials": 4, "uniforms": Arr(np.array([0.5])), "sample_point": None,
                        "sample_point_weight": None, "n_threads": 1},
        "(n_clusters - 1) * n_local_trials wraps to 0 in size_t")
    s["core_kmeans-lloyd-nan-centres"] = (
        "core_kmeans", {"fn": "kmeans_lloyd", "X": Arr(X), "sample_weight": None,
                        "centers_init": Arr(np.array([[np.nan, 0, 0], [1.0, 1, 1]])), "max_iter": 5, "tol": 0.0,
                        "algorithm": "hamerly", "n_threads": 1}, "")
    s["core_kmeans-assign-unaligned"] = (
        "core_kmeans", {"fn": "kmeans_assign", "X": Arr(X, "unaligned"), "sample_weight": Arr(np.ones(20), "unaligned"),
                        "centers": Arr(X[:3].copy(), "unaligned"), "n_threads": 1}, "")
    s["core_index-moments-past-bound"] = (
        "core_index", {"fn": "integer_moments", "points": Arr(np.full((4, 3), 65535, np.uint16)),
                       "weights": Arr(np.full(4, 2**52))}, "sum(w) * max^2 >= 2^63: a ValueError")
    ca = np.array([[0, 0, 1], [0, 2, 0], [9, 9, 9]], np.uint8)
    cb = np.array([[0, 2, 0], [5, 5, 5]], np.uint8)
    s["core_index-merge-color-counts"] = (
        "core_index", {"fn": "merge_color_counts", "colors_a": Arr(ca), "counts_a": Arr(np.array([3, 1, 2])),
                       "colors_b": Arr(cb, "F"), "counts_b": Arr(np.array([4, 2**62]))}, "")
    s["core_index-merge-counts-overflow"] = (
        "core_index", {"fn": "merge_color_counts", "colors_a": Arr(ca), "counts_a": Arr(np.array([3, 2**62, 2])),
                       "colors_b": Arr(cb), "counts_b": Arr(np.array([2**62, 1]))}, "a summed count past 2^63 - 1")
    s["core_index-colors-channels-past-columns"] = (
        "core_index", {"fn": "index_colors", "pixels": Arr(img.reshape(-1, 3)), "channels": 4, "n_threads": 0}, "")
    s["core_index-paint-label-out-of-range"] = (
        "core_index", {"fn": "paint_pixels", "labels": Arr(np.array([0, 1, 7], np.int32)),
                       "palette": Arr(img[0, :2].copy()), "src": Arr(img[0, :3].copy()), "n_threads": 0}, "")
    s["core_dither-wide-stride"] = (
        "core_dither", {"image": Arr(rng.integers(0, 256, (5, 6, 7), dtype=np.uint8)),
                        "palette": Arr(rng.integers(0, 256, (3, 4), dtype=np.uint8)), "serpentine": True}, "")
    s["core_color-lab-nan-huge"] = ("core_color", {"fn": "lab_to_srgb", "lab": Arr(np.array(
        [[np.nan, 0, 0], [1e308, -1e308, 5e-324], [-0.0, 0, 0]]))}, "")
    s["core_pdist-unaligned-float32"] = (
        "core_pdist", {"X": Arr(rng.random((40, 3)).astype(np.float32), "unaligned"), "n_threads": 2}, "")
    return s


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for name, (target, args, note) in seeds().items():
        save_input(CORPUS / f"{name}.npz", {"target": target, "args": args}, note=note)
    print(f"wrote {len(seeds())} seeds to {CORPUS}")


if __name__ == "__main__":
    main()
