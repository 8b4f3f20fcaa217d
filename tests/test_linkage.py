"""pixclust.linkage against scipy.cluster.hierarchy.linkage: the same matrices, errors and warnings."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch
from scipy.spatial import distance
from scipy.spatial.distance import pdist

import pixclust
from pixclust import _core

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]
MONOTONE = ["single", "complete", "average", "weighted", "ward"]
DATA = Path(__file__).resolve().parents[1] / "python" / "pixclust" / "data"


def assert_same_linkage(Z: np.ndarray, ref: np.ndarray, rtol: float = 1e-12) -> None:
    """Identical merges and counts, heights equal to rtol."""
    assert Z.dtype == np.float64 and Z.shape == ref.shape
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], ref[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=rtol, atol=0)


def replay_is_greedy(Z: np.ndarray, y: np.ndarray, method: str, rtol: float = 1e-9) -> None:
    """Replay Z with SciPy's Lance-Williams formulas: every merge must be at the global minimum."""
    n = Z.shape[0] + 1
    D = np.full((2 * n - 1, 2 * n - 1), np.inf)
    D[:n, :n] = sch.distance.squareform(y)  # type: ignore[attr-defined]
    np.fill_diagonal(D, np.inf)
    size = np.zeros(2 * n - 1)
    size[:n] = 1
    live = list(range(n))
    for k, (a, b, h, cnt) in enumerate(Z):
        a, b = int(a), int(b)
        sub = D[np.ix_(live, live)]
        m = sub.min()
        assert abs(D[a, b] - m) <= rtol * max(1.0, m), (k, D[a, b], m)
        assert abs(h - m) <= rtol * max(1.0, m), (k, h, m)
        na, nb = size[a], size[b]
        new = n + k
        size[new] = na + nb
        assert cnt == na + nb
        live.remove(a)
        live.remove(b)
        for i in live:
            ni, da, db, dab = size[i], D[i, a], D[i, b], D[a, b]
            if method == "single":
                v = min(da, db)
            elif method == "complete":
                v = max(da, db)
            elif method == "average":
                v = (na * da + nb * db) / (na + nb)
            elif method == "weighted":
                v = 0.5 * (da + db)
            elif method == "ward":
                t = 1.0 / (na + nb + ni)
                v = np.sqrt((ni + na) * t * da * da + (ni + nb) * t * db * db - ni * t * dab * dab)
            elif method == "centroid":
                v = np.sqrt(((na * da * da + nb * db * db) - na * nb * dab * dab / (na + nb)) / (na + nb))
            else:
                v = np.sqrt(0.5 * (da * da + db * db) - 0.25 * dab * dab)
            D[i, new] = D[new, i] = v
        live.append(new)


# --- tie-free random data: the whole matrix ------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_random_condensed_matches_scipy(method: str) -> None:
    rng = np.random.default_rng(sum(map(ord, method)))
    for n in [2, 3, 4, 5, 7, 10, 17, 33, 64, 100, 257, 600, 1500]:
        for d, scale in [(1, 1.0), (3, 1e-3), (8, 1.0), (20, 1e3)]:
            if n > 600 and d != 8:
                continue
            y = pdist(rng.standard_normal((n, d)) * scale)
            assert_same_linkage(pixclust.linkage(y, method), sch.linkage(y, method))


@pytest.mark.slow
# From 2500 points the nearest-neighbour chain methods switch from the plain chain (the matrix in the
# caches) to the one with neighbour lists and row panels: both sides of the switch, for every method.
@pytest.mark.parametrize("method", METHODS)
def test_few_thousand_points_match_scipy(method: str) -> None:
    rng = np.random.default_rng(7)
    for n in (2499, 2500, 3000):
        y = pdist(rng.uniform(size=(n, 5)))
        assert_same_linkage(pixclust.linkage(y, method), sch.linkage(y, method))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_observations_match_scipy(method: str, dtype: type) -> None:
    rng = np.random.default_rng(3)
    for n, d in [(2, 1), (9, 2), (120, 3), (400, 8)]:
        X = rng.standard_normal((n, d)).astype(dtype)
        # SciPy converts observations to float64 first; pixclust's pdist widens the same way.
        assert_same_linkage(pixclust.linkage(X, method), sch.linkage(X, method))
        if method in MONOTONE[:4]:
            for metric in ["cityblock", "cosine"]:
                assert_same_linkage(
                    pixclust.linkage(X, method, metric=metric), sch.linkage(X, method, metric=metric)
                )


@pytest.mark.parametrize("method", METHODS)
def test_float32_condensed_matches_scipy_to_float32_precision(method: str) -> None:
    rng = np.random.default_rng(11)
    for n in [2, 5, 30, 200]:
        y32 = pdist(rng.standard_normal((n, 4))).astype(np.float32)
        Z = pixclust.linkage(y32, method)
        ref = sch.linkage(y32, method)  # SciPy widens to float64
        # single/complete heights are input values: exact; the others are float32-rounded updates.
        assert_same_linkage(Z, ref, rtol=0 if method in ("single", "complete") else 2e-6)


def test_int_and_list_input_converted_like_scipy() -> None:
    y = [3, 1, 4, 1.5, 5, 9]
    assert_same_linkage(pixclust.linkage(y, "average"), sch.linkage(y, "average"))
    X = np.array([[0, 0], [0, 3], [4, 0], [9, 9]], dtype=np.int64)
    assert_same_linkage(pixclust.linkage(X, "ward"), sch.linkage(X, "ward"))


# --- SciPy's own test data -------------------------------------------------------------------------


def test_scipy_hierarchy_test_data() -> None:
    from scipy.cluster.tests import hierarchy_test_data as h

    # The stored expectations are printed to 8 digits; SciPy's own run on the same input is exact.
    for method in ["single", "complete", "average", "weighted"]:
        Z = pixclust.linkage(h.ytdist, method)
        np.testing.assert_allclose(Z, getattr(h, f"linkage_ytdist_{method}"), rtol=1e-7)
        assert_same_linkage(Z, sch.linkage(h.ytdist, method))
    for method in ["centroid", "median", "ward"]:
        Z = pixclust.linkage(h.X, method)
        np.testing.assert_allclose(Z, getattr(h, f"linkage_X_{method}"), rtol=1e-7)
        assert_same_linkage(Z, sch.linkage(h.X, method))
    np.testing.assert_allclose(
        pixclust.linkage(h.ytdist, "single", optimal_ordering=True), h.linkage_ytdist_single_olo, rtol=1e-7
    )
    np.testing.assert_allclose(
        pixclust.linkage(h.X, "ward", optimal_ordering=True), h.linkage_X_ward_olo, rtol=1e-7
    )
    # SciPy's flat-cluster expectations are for single linkage of Q_X.
    Z = pixclust.linkage(pdist(h.Q_X), "single")
    for t, expected in h.fcluster_maxclust.items():
        np.testing.assert_array_equal(sch.fcluster(Z, t, criterion="maxclust"), expected)
    for t, expected in h.fcluster_distance.items():
        np.testing.assert_array_equal(sch.fcluster(Z, t, criterion="distance"), expected)


@pytest.mark.parametrize("method", METHODS)
def test_optimal_ordering_matches_scipy(method: str) -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 3))
    assert_same_linkage(
        pixclust.linkage(X, method, optimal_ordering=True), sch.linkage(X, method, optimal_ordering=True)
    )


# --- tie-heavy data: properties, and SciPy's tie rules --------------------------------------------


def tie_heavy_sets() -> list[np.ndarray]:
    grid = np.array([[i, j] for i in range(6) for j in range(5)], dtype=float)
    dup = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]), [4, 3, 3, 2], axis=0)
    rng = np.random.default_rng(2)
    ints = rng.integers(0, 3, size=(40, 3)).astype(float)
    return [grid, dup, ints]


@pytest.mark.parametrize("method", METHODS)
def test_tie_heavy_properties(method: str) -> None:
    for X in tie_heavy_sets():
        y = pdist(X)
        Z = pixclust.linkage(y, method)
        assert sch.is_valid_linkage(Z)
        if method in MONOTONE:
            assert np.all(np.diff(Z[:, 2]) >= 0)
        replay_is_greedy(Z, y, method)
        if method == "single":
            np.testing.assert_array_equal(sch.cophenet(Z), sch.cophenet(sch.linkage(y, method)))
        # SciPy's search order and tie rules are followed, so even with ties the matrix is SciPy's.
        assert_same_linkage(Z, sch.linkage(y, method))


@pytest.mark.parametrize("method", METHODS)
def test_photo_pixels_with_many_duplicates(method: str) -> None:
    from PIL import Image

    pixels = np.asarray(Image.open(DATA / "chelsea.png").convert("RGB"), dtype=float).reshape(-1, 3)
    rng = np.random.default_rng(0)
    X = pixels[rng.choice(len(pixels), 300, replace=False)]
    y = pdist(X)
    Z = pixclust.linkage(y, method)
    assert sch.is_valid_linkage(Z)
    if method in MONOTONE:
        assert np.all(np.diff(Z[:, 2]) >= 0)
    replay_is_greedy(Z, y, method)
    assert_same_linkage(Z, sch.linkage(y, method))


# --- SciPy's tools on our matrices ---------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_fcluster_dendrogram_cophenet(method: str) -> None:
    rng = np.random.default_rng(9)
    X = np.concatenate([rng.normal(c, 0.5, size=(40, 2)) for c in [(0, 0), (5, 5), (0, 6)]])
    y = pdist(X)
    Z, ref = pixclust.linkage(y, method), sch.linkage(y, method)
    for k in [2, 3, 7]:
        np.testing.assert_array_equal(sch.fcluster(Z, k, "maxclust"), sch.fcluster(ref, k, "maxclust"))
    for t in [0.5, 2.0]:
        np.testing.assert_array_equal(sch.fcluster(Z, t, "distance"), sch.fcluster(ref, t, "distance"))
    assert sch.dendrogram(Z, no_plot=True) == sch.dendrogram(ref, no_plot=True)
    c, cd = sch.cophenet(Z, y)
    c_ref, cd_ref = sch.cophenet(ref, y)
    assert c == pytest.approx(c_ref, rel=1e-12)
    np.testing.assert_allclose(cd, cd_ref, rtol=1e-12)
    np.testing.assert_array_equal(sch.leaves_list(Z), sch.leaves_list(ref))


# --- determinism and overwriting ------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_same_bits_with_1_2_4_threads(method: str) -> None:
    # The initial passes (neighbour tables, row minima, copy, finiteness) are always split in chunks.
    rng = np.random.default_rng(1)
    y = pdist(rng.standard_normal((1500, 4)))
    results = [_core.linkage(y, method, n_threads=t) for t in (1, 2, 4)]
    for Z in results[1:]:
        assert Z.tobytes() == results[0].tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["single", "ward", "centroid"])
def test_same_bits_with_1_2_4_threads_in_chunked_scans(method: str) -> None:
    # More than 2 x 1024 live clusters: the scans and row updates of the first half of the merges are
    # split into chunks too (one method per algorithm; explicit thread counts are used as given).
    rng = np.random.default_rng(1)
    y = pdist(rng.standard_normal((4200, 4))).astype(np.float32)
    results = [_core.linkage(y, method, n_threads=t) for t in (1, 2, 4)]
    for Z in results[1:]:
        assert Z.tobytes() == results[0].tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward", "median"])
def test_tie_heavy_chunked_scans_match_scipy_with_1_2_4_threads(method: str) -> None:
    # Integer points on a small grid: thousands of equal distances, so the remembered nearest neighbours
    # (NN-chain) and the heap (generic) see ties everywhere, with chunked updates and rescans.
    rng = np.random.default_rng(3)
    y = pdist(rng.integers(0, 12, size=(2500, 3)).astype(float))
    ref = sch.linkage(y, method)
    for t in (1, 2, 4):
        assert_same_linkage(_core.linkage(y, method, n_threads=t), ref)


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward"])
def test_tie_heavy_plain_chain_matches_scipy(method: str) -> None:
    # Below 2500 points the chain remembers each cluster's nearest neighbour between links (lowest index
    # among equals): integer points and duplicates put ties in almost every comparison.
    rng = np.random.default_rng(21)
    for n, side in [(40, 3), (300, 5), (1200, 8), (2499, 10)]:
        y = pdist(rng.integers(0, side, size=(n, 2)).astype(float))
        assert_same_linkage(pixclust.linkage(y, method), sch.linkage(y, method))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overwrite_input(method: str, dtype: type) -> None:
    rng = np.random.default_rng(4)
    y = pdist(rng.standard_normal((80, 3))).astype(dtype)
    keep = y.copy()
    Z = pixclust.linkage(y, method)
    np.testing.assert_array_equal(y, keep)  # the default never touches the input
    Z2 = pixclust.linkage(y, method, overwrite_input=True)
    assert Z2.tobytes() == Z.tobytes()
    if method != "single":
        assert not np.array_equal(y, keep)  # the input itself was the working matrix
    ro = keep.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        pixclust.linkage(ro, method, overwrite_input=True)


@pytest.mark.parametrize("method", ["single", "ward", "centroid"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_overwrite_input_rejected_is_left_unchanged(method: str, bad: float) -> None:
    # The in-place conversion to the working layout checks finiteness as it goes, and undoes itself.
    rng = np.random.default_rng(5)
    y = pdist(rng.standard_normal((203, 3)))
    y[len(y) // 2] = bad
    keep = y.copy()
    with pytest.raises(ValueError, match="finite"):
        pixclust.linkage(y, method, overwrite_input=True)
    np.testing.assert_array_equal(y, keep)


# --- single linkage: Prim's below 2000 points; SLINK's sequential pass above, with its fallback to
# Prim's on tied heights --------------------------------------------------------------------------------


def single_linkage_cases() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(12)
    small_grid = np.array([[i, j] for i in range(20) for j in range(20)], dtype=float)
    grid = np.array([[i, j] for i in range(48) for j in range(48)], dtype=float)
    return [
        ("tie-free", pdist(rng.standard_normal((1000, 6)))),
        ("tie-free float32", pdist(rng.standard_normal((300, 3))).astype(np.float32)),
        ("integer grid", pdist(small_grid)),
        ("duplicated points", pdist(np.repeat(rng.standard_normal((150, 2)), 2, axis=0))),
        ("tie-free, SLINK", pdist(rng.standard_normal((2400, 6)))),
        ("tie-free float32, SLINK", pdist(rng.standard_normal((2100, 3))).astype(np.float32)),
        ("integer grid, SLINK", pdist(grid)),
        ("duplicated points, SLINK", pdist(np.repeat(rng.standard_normal((1100, 2)), 2, axis=0))),
        # Rounding to float32 makes a few of the 2999 heights equal.
        ("float32 rounding ties, SLINK", pdist(np.random.default_rng(12).standard_normal((3000, 8))).astype(np.float32)),
    ]


@pytest.mark.parametrize("case", range(9))
def test_single_linkage_matches_scipy_with_and_without_tied_heights(case: int) -> None:
    # From 2000 points single linkage runs SLINK, which is exact when the merge heights are distinct,
    # and falls back to Prim's (SciPy's algorithm) when two are equal; below, Prim's on one thread.
    name, y = single_linkage_cases()[case]
    assert (len(y) >= 2000 * 1999 // 2) == name.endswith("SLINK"), name  # the case is what it says
    ref = sch.linkage(y, "single")
    n_distinct = len(np.unique(ref[:, 2]))
    assert (n_distinct == len(ref)) == name.startswith("tie-free"), name
    Z = pixclust.linkage(y, "single")
    assert_same_linkage(Z, ref, rtol=0)
    assert _core.linkage(y.copy(), "single", n_threads=1).tobytes() == Z.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_single_linkage_large_n_rejects_non_finite_anywhere(dtype: type, where: str, bad: float) -> None:
    # SLINK checks each row as it reads it, last row first: a bad value anywhere is found.
    rng = np.random.default_rng(6)
    y = pdist(rng.standard_normal((2100, 3))).astype(dtype)
    y[{"first": 0, "middle": len(y) // 3, "last": len(y) - 1}[where]] = bad
    ref, ours = scipy_and_ours(y, "single")
    assert type(ours) is type(ref) and str(ours) == str(ref)
    keep = y.copy()
    with pytest.raises(ValueError, match="finite"):
        pixclust.linkage(y, "single", overwrite_input=True)
    np.testing.assert_array_equal(y, keep)


# --- bad input: SciPy's errors and warning --------------------------------------------------------


def scipy_and_ours(*args: object, **kwargs: object) -> tuple[BaseException, BaseException]:
    with pytest.raises(Exception) as ref:
        sch.linkage(*args, **kwargs)
    with pytest.raises(Exception) as ours:
        pixclust.linkage(*args, **kwargs)  # type: ignore[arg-type]
    return ref.value, ours.value


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((np.ones(6), "foo"), {}),
        ((np.ones(6), ["single"]), {}),
        ((np.ones((5, 2)), "ward"), {"metric": "cityblock"}),
        ((np.ones((5, 2)), "centroid"), {"metric": "cosine"}),
        ((np.ones((5, 2)), "median"), {"metric": lambda u, v: 1.0}),
        ((np.ones(4),), {}),
        ((np.ones(7), "average"), {}),
        ((np.array([]),), {}),
        ((np.ones((1, 3)),), {}),
        ((np.ones((0, 3)),), {}),
        ((np.array([1.0, np.nan, 2.0]),), {}),
        ((np.array([1.0, 2.0, np.inf]), "ward"), {}),
        ((np.array([np.inf]), "median"), {}),
        ((np.array([1.0, 2.0, -np.inf], dtype=np.float32), "average"), {}),
        ((np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]), "complete"), {}),
        ((np.ones((2, 2, 2)),), {}),
        (("abc",), {}),
    ],
)
def test_bad_input_raises_like_scipy(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    ref, ours = scipy_and_ours(*args, **kwargs)
    assert type(ours) is type(ref)
    assert str(ours) == str(ref)


def test_condensed_length_check_agrees_with_scipy() -> None:
    # linkage checks the length itself and calls SciPy's validators only to raise their errors.
    from pixclust.hierarchy import _is_condensed_length

    for m in range(0, 5000):
        try:
            distance.num_obs_y(np.empty(m))
            scipy_accepts = True
        except ValueError:
            scipy_accepts = False
        assert _is_condensed_length(m) == scipy_accepts, m
    big = 123_456_789
    assert _is_condensed_length(big * (big - 1) // 2)
    assert not _is_condensed_length(big * (big - 1) // 2 + 1)


def test_square_distance_matrix_warns_like_scipy() -> None:
    rng = np.random.default_rng(0)
    square = sch.distance.squareform(pdist(rng.standard_normal((6, 2))))  # type: ignore[attr-defined]
    with pytest.warns(sch.ClusterWarning, match="looks suspiciously like an uncondensed distance matrix"):
        Z = pixclust.linkage(square, "average")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sch.ClusterWarning)
        assert_same_linkage(Z, sch.linkage(square, "average"))


def test_private_binding_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.linkage(np.ones(3, dtype=np.int64), "single")
    with pytest.raises(ValueError, match="1-D"):
        _core.linkage(np.ones((3, 1)), "single")
    with pytest.raises(ValueError, match="n\\*\\(n-1\\)/2"):
        _core.linkage(np.ones(4), "single")
    with pytest.raises(ValueError, match="Invalid method"):
        _core.linkage(np.ones(3), "nearest")
    with pytest.raises(ValueError, match="n_threads"):
        _core.linkage(np.ones(3), "single", n_threads=-1)


# --- Ctrl-C ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the address-space size from /proc")
def test_working_copy_that_does_not_fit_raises_memory_error_with_its_size() -> None:
    # A separate process whose address space is capped just above what it uses: the 144 MB working copy
    # of 6000 points cannot be allocated, and the error says how much it needed, with nothing started.
    script = (
        "import resource\n"
        "import numpy as np\n"
        "import pixclust\n"
        "y = pixclust._core.pdist_euclidean(np.random.default_rng(0).standard_normal((6000, 3)))\n"
        "pixclust.linkage(y[:3000 * 2999 // 2], 'ward')  # the thread team exists before the cap\n"
        "vm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize:'))\n"
        "cap = (vm + 64 * 1024) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (cap, cap))\n"
        "try:\n"
        "    pixclust.linkage(y, 'ward')\n"
        "except MemoryError as e:\n"
        "    print('MemoryError:', e)\n"
        "y[:3] = 1.0  # the input is still usable\n"
        "print('ok', float(y[3:].sum()) > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    needed = 6000 * 5999 // 2 * 8
    assert "MemoryError: pixclust.linkage: cannot allocate the working copy" in out.stdout
    assert f"it needs {needed} bytes" in out.stdout
    assert "ok True" in out.stdout


@pytest.mark.parametrize("method", ["single", "average", "centroid"])
def test_ctrl_c_stops_a_long_linkage_within_a_second(method: str, stopped_by_ctrl_c: Any) -> None:
    # A real SIGINT to a separate Python process in the middle of a run of several seconds (one thread;
    # single linkage is made slower by ties, which send it from SLINK to Prim's). It must end with
    # KeyboardInterrupt within a second. One algorithm of each kind: SLINK/Prim's, NN-chain, generic.
    script = (
        "import numpy as np\n"
        "import pixclust\n"
        "from pixclust import _core\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.integers(0, 20, size=(16000, 3)).astype(float)\n"
        "y = _core.pdist_euclidean(X)\n"
        "print('linking', flush=True)\n"
        f"_core.linkage(y, {method!r}, n_threads=1)\n"
        "print('finished', flush=True)\n"
    )
    stopped_by_ctrl_c(script, "linking", 0.4, timeout=60)
