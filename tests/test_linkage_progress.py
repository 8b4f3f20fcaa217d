"""The linkage kernels' progress reports (#18 item 10: the CLI's percentage bar for linkage of many
points): every kernel path reports shares of its work that only grow (SLINK meeting tied heights starts
one pass over, Prim's) and end at exactly 1; the hook changes no bit of the result, its error stops the
kernel, and kernels that do not report (k-means) never call it."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from scipy.spatial.distance import pdist

import pixclust
from pixclust import _core


def _points(n: int, d: int, seed: int, tied: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if tied:  # a small integer grid: many equal distances
        return rng.integers(0, 6, size=(n, d)).astype(np.float64)
    return rng.random((n, d))


# (label, call): each kernel path by the sizes and dimensions that choose it (cpp/src: kSmallPrim 2000,
# kSmallChain 2500, the trees from 2048 points in up to 3-4 dimensions).
CASES: list[tuple[str, Callable[[], np.ndarray]]] = [
    # (single linkage of points runs without the matrix: these take distances)
    ("matrix single, Prim's small", lambda: pixclust.linkage(pdist(_points(300, 3, 0)), "single")),
    ("matrix single, SLINK", lambda: pixclust.linkage(pdist(_points(2600, 3, 1)), "single")),
    ("matrix single, ties: Prim's", lambda: pixclust.linkage(pdist(_points(2600, 3, 2, tied=True)), "single")),
    *[(f"matrix {m}, small chain", (lambda m=m: pixclust.linkage(_points(300, 3, 3), m)))
      for m in ("complete", "average", "weighted", "ward")],
    *[(f"matrix {m}, chain", (lambda m=m: pixclust.linkage(_points(2600, 3, 4), m)))
      for m in ("complete", "average", "weighted", "ward")],
    *[(f"matrix {m}, generic", (lambda m=m: pixclust.linkage(_points(n, 3, 5), m)))
      for m in ("centroid", "median") for n in (300, 2600)],
    ("vector single, Boruvka", lambda: pixclust.linkage_vector(_points(3000, 3, 6), "single")),
    ("vector single, Prim's lanes", lambda: pixclust.linkage_vector(_points(500, 16, 7), "single")),
    ("vector single cosine, Prim's", lambda: pixclust.linkage_vector(_points(500, 5, 8), "single", "cosine")),
    *[(f"vector {m}, {'tree' if d == 3 else 'scan'}", (lambda m=m, d=d: pixclust.linkage_vector(_points(n, d, 9), m)))
      for m in ("ward", "centroid", "median") for n, d in ((3000, 3), (400, 8))],
]


@pytest.mark.parametrize("label,call", CASES, ids=[c[0] for c in CASES])
def test_each_kernel_reports_growing_shares_that_end_at_one(label: str, call: Callable[[], np.ndarray]) -> None:
    plain = call()
    shares: list[float] = []
    _core.set_progress_hook(shares.append)
    try:
        reported = call()
    finally:
        _core.set_progress_hook(None)
    assert np.array_equal(plain, reported), label  # the same bits with a bar as without
    assert shares, f"{label}: no report"
    assert all(0.0 < s <= 1.0 for s in shares), (label, shares[:5])
    restarts = [i for i in range(1, len(shares)) if shares[i] < shares[i - 1]]
    # SLINK's pass seen to its end (1) and Prim's after it, when the checks fell in both (timing)
    assert restarts == [] or ("ties" in label and len(restarts) == 1 and shares[restarts[0] - 1] == 1.0), (label, shares)
    assert shares[-1] == 1.0, (label, shares[-5:])


def test_a_hook_error_stops_the_kernel_and_the_next_call_is_whole() -> None:
    X = _points(3000, 3, 10)

    def fail(share: float) -> None:
        raise RuntimeError(f"stop at {share}")

    _core.set_progress_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="stop at"):
            pixclust.linkage_vector(X, "ward")
    finally:
        _core.set_progress_hook(None)
    from scipy.cluster.hierarchy import linkage

    Z = pixclust.linkage_vector(X[:500], "ward")
    S = linkage(X[:500], "ward")
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], S[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], S[:, 2], rtol=1e-12)


def test_kernels_that_do_not_report_never_call_the_hook() -> None:
    calls: list[float] = []
    _core.set_progress_hook(calls.append)
    try:
        pixclust.linkage_vector(_points(300, 3, 11), "single")  # leaves no share behind
        n = len(calls)
        image = np.random.default_rng(12).integers(0, 256, size=(300, 400, 3), dtype=np.uint8)
        pixclust.quantize(image, 16, random_state=0)
        _core.pdist_euclidean(_points(2000, 3, 13))
    finally:
        _core.set_progress_hook(None)
    assert n > 0 and len(calls) == n


def test_the_hook_must_be_callable() -> None:
    with pytest.raises(TypeError, match="hook"):
        _core.set_progress_hook(3)  # type: ignore[arg-type]
