"""Every benchmark script runs, on inputs small enough for CI, and its table checks what it promises.

No time is asserted (speed is what the scripts print, on a quiet machine). These runs catch a benchmark
broken by an edit that no test imports: a child script that fails, a peer missing from the test
environment that should be left out with a note, a column that no longer parses. Where a script
compares results (inertia against scikit-learn's, bits across thread counts or against SciPy), the
comparison is asserted here too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"

pytestmark = pytest.mark.bench

# Each script with arguments that make it quick: sizes of a few hundred points or a fraction of a megapixel.
QUICK = {
    "bench_kmeans.py": ["--size", "0.3MP", "--ks", "2", "--methods", "pixclust", "faiss", "--no-sweep"],
    "bench_linkage.py": ["--sizes", "300", "--methods", "single", "ward", "--repeat", "1"],
    "bench_linkage_small.py": ["--sizes", "40", "--methods", "single", "centroid", "--rounds", "1", "--calls", "2"],
    "bench_linkage_vector.py": ["--sizes", "400", "--dims", "3", "--methods", "single", "ward"],
    "bench_dither.py": ["--size", "200", "150", "--repeat", "1"],
    "bench_threads.py": ["--threads", "1", "2", "--n", "200"],
    "bench_dask.py": ["--mp", "1", "--daskml-mp", "0", "--k", "3", "--n-init", "1"],
}


def _run(script: str) -> str:
    out = subprocess.run([sys.executable, str(BENCH / script), *QUICK[script]], capture_output=True, text=True,
                         timeout=600, cwd=REPO)
    assert out.returncode == 0, f"{script} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    assert "Traceback" not in out.stderr, out.stderr[-4000:]
    return out.stdout


def test_every_benchmark_has_a_quick_run() -> None:
    assert sorted(p.name for p in BENCH.glob("bench_*.py")) == sorted(QUICK)


def test_bench_kmeans_inertia_matches_scikit_learn() -> None:
    out = _run("bench_kmeans.py")
    rows = {m.group(1): m for m in re.finditer(r"^(pixclust|sklearn|faiss)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
                                                r"\s+([\d.e+]+)\s+([\d.]+)$", out, flags=re.M)}
    assert {"pixclust", "sklearn"} <= set(rows), out
    # the same seeds, the same k-means++ and Lloyd's objective: scikit-learn's inertia to 1e-5
    assert float(rows["pixclust"].group(7)) == pytest.approx(1.0, abs=2e-5)
    assert float(rows["pixclust"].group(6)) == pytest.approx(float(rows["sklearn"].group(6)), rel=1e-5)
    if "faiss" not in rows:  # a peer that is not installed is named and left out, never a failure
        assert re.search(r"^faiss\s+left out: .*faiss", out, flags=re.M), out


def test_bench_linkage_prints_every_row() -> None:
    out = _run("bench_linkage.py")
    for method in ("single", "ward"):
        assert len(re.findall(rf"^\s+300 {method}\s+[\d.]+", out, flags=re.M)) == 2, out  # times and memory


def test_bench_linkage_small_checks_against_scipy() -> None:
    out = _run("bench_linkage_small.py")
    for method in ("single", "centroid"):
        assert re.search(rf"^\s+40 {method}\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms", out, flags=re.M), out


def test_bench_linkage_vector_runs_pixclust_and_leaves_out_missing_peers() -> None:
    import importlib.util

    out = _run("bench_linkage_vector.py")
    for method in ("single", "ward"):
        row = re.search(rf"^\s+400\s+3 {method}\s+([\d.]+)\s+([\d.]+)(.*)$", out, flags=re.M)
        assert row, out
        peers = row.group(3).split()
        assert peers[0] != "-"  # fastcluster is in the test extra
        if method == "ward" or importlib.util.find_spec("quitefastmst") is None:
            assert peers[2] == "-"
    if importlib.util.find_spec("quitefastmst") is None:
        assert "not installed, left out: quitefastmst" in out


def test_bench_dither_counts_nearest_colours() -> None:
    out = _run("bench_dither.py")
    rows = re.findall(r"^\s+(\d+) \|\s+[\d.]+ s \|\s+[\d.]+ s \|\s+[\d.]+x \|\s+([\d.]+) %$", out, flags=re.M)
    assert [k for k, _ in rows] == ["2", "16", "64", "256"], out


def test_bench_threads_same_bits() -> None:
    out = _run("bench_threads.py")
    verdicts = re.findall(r"same bits(?: as SciPy)?: (\w+)", out)
    assert len(verdicts) >= 7 + 7 and set(verdicts) == {"True"}, out


def test_bench_dask_table() -> None:
    pytest.importorskip("distributed")
    out = _run("bench_dask.py")
    for method in ("pixclust.dask.KMeans", "pixclust.KMeans (in memory)", "pixclust.dask.quantize"):
        assert re.search(rf"^{re.escape(method)}.*\s[\d.]+e\+\d\d\s", out, flags=re.M), out
