"""Linkage on distances whose updates overflow: never a crash, and SciPy's outcome where SciPy has one.

The contract (pixclust/linkage.hpp): where SciPy returns a valid tree with finite heights, pixclust
returns the same matrix; where SciPy raises its ValueError, pixclust raises the same; where SciPy's
result is invalid (a cluster used twice, a non-finite height), pixclust raises a ValueError that says the
distances overflow. Each case runs in a child process, so that a crash fails the test instead of taking
pytest down.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch

import pixclust

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]

# The child's oracle: "ok" when pixclust's outcome is the one the contract asks for, else what differs.
ORACLE = textwrap.dedent(
    """
    import numpy as np
    from scipy.cluster import hierarchy as sch
    import pixclust

    def outcome(f, y, method, **kw):
        try:
            return f(y, method, **kw), None
        except ValueError as e:
            return None, str(e)

    def valid(Z):
        # SciPy's own check, on |Z|: SciPy returns negative heights for negative distances.
        return bool(np.all(np.isfinite(Z[:, 2])) and sch.is_valid_linkage(np.abs(Z)))

    def check(y, method, exact=True, **kw):
        zs, es = outcome(sch.linkage, np.array(y, copy=True), method)
        zp, ep = outcome(pixclust.linkage, y, method, **kw)
        if es is not None:
            assert ep == es, (method, "scipy raised", es, "pixclust", ep if zp is None else zp.tolist())
            return "raises"
        if valid(zs):
            assert zp is not None, (method, "scipy valid", zs.tolist(), "pixclust raised", ep)
            if exact:
                assert np.array_equal(zp, zs), (method, zs.tolist(), zp.tolist())
            else:
                assert valid(zp), (method, zp.tolist())
            return "valid"
        assert zp is None and "overflow" in ep, (method, "scipy invalid", zs.tolist(), zp if ep is None else ep)
        return "invalid"
    """
)


def run_child(body: str, timeout: float = 300) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", ORACLE + textwrap.dedent(body)], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


# The issue's reproductions (each crashed the process or returned garbage before) and what SciPy does.
REPRODUCTIONS = [
    ("np.full(3, 1e200)", "centroid", "raises"),
    ("np.array([1, 2, 1.5e154, 3, 4, 5.0])", "median", "raises"),
    ("np.full(45, 1e200)", "ward", "invalid"),
    ("np.array([1, M, M, M, M, M])", "average", "invalid"),
    ("np.array([1, v, v, v, v, v, v, 2, v, v], np.float32)", "ward", "valid"),
]


@pytest.mark.parametrize(("expr", "method", "scipy_outcome"), REPRODUCTIONS)
def test_issue_reproductions_follow_scipy_or_raise(expr: str, method: str, scipy_outcome: str) -> None:
    out = run_child(
        f"""
        M = np.finfo(float).max
        v = 3e38
        print(check({expr}, {method!r}))
        """
    )
    assert out.split() == [scipy_outcome]


def test_float32_ward_past_float32_range_is_scipys_float64_matrix() -> None:
    # SciPy clusters float32 in float64; heights above FLT_MAX must not become inf.
    v = np.float32(3e38)
    y = np.array([1, v, v, v, v, v, v, 2, v, v], np.float32)
    Z = pixclust.linkage(y, "ward")
    assert np.array_equal(Z, sch.linkage(y, "ward"))
    assert Z[-1, 2] > np.finfo(np.float32).max


@pytest.mark.parametrize("method", METHODS)
def test_random_overflowing_inputs_follow_scipy(method: str) -> None:
    # Small matrices mixing huge (1e150..DBL_MAX), ordinary, zero, denormal and negative distances.
    out = run_child(
        f"""
        rng = np.random.default_rng(14)
        pool = np.array([1e150, 1e153, 1.5e154, 1e200, 1e300, np.finfo(float).max, 3.4e38, 1e-320, 0.0,
                         1.0, 2.0, -1.0, -1e200])
        seen = {{}}
        for it in range(400):
            n = int(rng.integers(2, 30))
            m = n * (n - 1) // 2
            y = rng.random(m) * 10.0 ** rng.uniform(0, 300)
            k = int(rng.integers(0, m + 1))
            y[rng.choice(m, k, replace=False)] = rng.choice(pool, k)
            if it % 3 == 0:
                y = y * rng.choice([-1.0, 1.0], m)
            if it % 4 == 0:
                with np.errstate(over="ignore"):
                    y = np.nan_to_num(y.astype(np.float32), posinf=1.0, neginf=1.0)
            r = check(y, {method!r}, exact=y.dtype == np.float64)
            seen[r] = seen.get(r, 0) + 1
        print(sorted(seen.items()))
        """
    )
    assert "valid" in out  # the cases exercised valid results, not only errors


@pytest.mark.parametrize("method", ["complete", "average", "weighted", "ward", "centroid", "median"])
@pytest.mark.parametrize("n", [300, 2600])
def test_overflow_in_large_matrices_follows_scipy(method: str, n: int) -> None:
    # 2600 points: the panel algorithms (nn_chain.cpp and the generic algorithm's packing) meet the input.
    run_child(
        f"""
        rng = np.random.default_rng({n})
        X = rng.normal(size=({n}, 3))
        y = np.asarray(__import__("scipy.spatial.distance", fromlist=["pdist"]).pdist(X))
        big = y.copy(); big[rng.choice(y.size, 40, replace=False)] = 1e300
        check(big, {method!r})
        check(y * 1e160, {method!r})
        check(-y, {method!r})
        check(big.copy(), {method!r}, overwrite_input=True)
        """,
        timeout=600,
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_euclidean_distances_at_every_scale_follow_scipy(method: str, dtype: str) -> None:
    # The same points' distances scaled from ordinary to the top of the type's range: across the edge of
    # the fast algorithms' safe range, SciPy's matrix (float32: SciPy's merges, heights to float32
    # precision) wherever SciPy's own updates stay finite.
    out = run_child(
        f"""
        from scipy.spatial.distance import pdist
        rng = np.random.default_rng(5)
        y = pdist(rng.normal(size=(60, 2)))
        top = float(np.finfo(np.{dtype}).max)
        seen = []
        for e in np.linspace(0, np.log10(top / y.max()), 40):
            with np.errstate(over="ignore"):
                ys = (y * 10.0 ** e).astype(np.{dtype})
            if np.{dtype} is np.float32 and seen.count("valid") > 0:
                ref = sch.linkage(ys, {method!r})
                if np.all(np.isfinite(ref[:, 2])):
                    Z = pixclust.linkage(ys, {method!r})
                    np.testing.assert_array_equal(Z[:, [0, 1, 3]], ref[:, [0, 1, 3]])
                    np.testing.assert_allclose(Z[:, 2], ref[:, 2], rtol=1e-5)
            seen.append(check(ys, {method!r}, exact=np.{dtype} is np.float64))
        print(" ".join(seen))
        """
    )
    assert out.split()[0] == "valid"  # ordinary scales; the last ones may overflow in SciPy too


@pytest.mark.parametrize("method", ["ward", "centroid", "median"])
def test_negative_distances_follow_scipy(method: str) -> None:
    # A negative distance can give a square root a negative argument (NaN): SciPy's outcome, no crash.
    out = run_child(
        f"""
        rng = np.random.default_rng(3)
        seen = set()
        for it in range(300):
            n = int(rng.integers(3, 25))
            y = rng.normal(size=n * (n - 1) // 2)
            seen.add(check(y, {method!r}))
        print(sorted(seen))
        """
    )
    assert "valid" in out


def test_overwritten_input_outside_the_safe_range_gives_scipys_matrix() -> None:
    # The fast algorithms reject the input before changing it; the reference run then works in it (or,
    # for float32, in a float64 copy). Average of 10 points from DBL_MAX / 20, ward from 2.1e153 and
    # float32 ward near FLT_MAX are all outside the safe range, with valid results in SciPy.
    out = run_child(
        """
        rng = np.random.default_rng(9)
        top = np.finfo(float).max
        print(check(rng.uniform(0.5, 1, 45) * top / 10, "average", overwrite_input=True))
        print(check(rng.uniform(0.5, 1, 45) * 4e153, "ward", overwrite_input=True))
        print(check((rng.uniform(0.5, 1, 45) * 3e38).astype(np.float32), "ward", overwrite_input=True))
        """
    )
    assert out.split() == ["valid", "valid", "valid"]


def test_cli_dendrogram_of_overflowing_distances_exits_2(tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "d.csv").write_text("1,2,1.5e154,3,4,5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pixclust", "dendrogram", str(d / "d.csv"), "-o", str(d / "x.png"), "--method",
         "centroid"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "find_min_dist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (d / "x.png").exists()
