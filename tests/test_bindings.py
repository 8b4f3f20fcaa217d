"""What the private bindings check themselves, for callers of pixclust._core that skip the Python layer:
memory safety does not depend on the public API's checks (defects found by fuzz/fuzz.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.cluster import hierarchy as sch
from scipy.spatial.distance import pdist

from pixclust import _core


def misaligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `a` whose data starts one byte past an aligned address."""
    buf = np.zeros(a.nbytes + a.itemsize, np.uint8)
    view = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    view[...] = a
    assert view.flags.c_contiguous and not view.flags.aligned
    return view


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_misaligned_input_gives_the_aligned_result(dtype: type) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3)).astype(dtype)
    y = pdist(X).astype(dtype)
    for method in ("single", "ward", "centroid"):
        np.testing.assert_array_equal(_core.linkage(misaligned(y), method), _core.linkage(y, method))
    np.testing.assert_array_equal(_core.pdist_euclidean(misaligned(X)), _core.pdist_euclidean(X))
    assert np.array_equal(_core.linkage(misaligned(pdist(X.astype(np.float64))), "average"),
                          sch.linkage(pdist(X.astype(np.float64)), "average"))


def test_thread_counts_are_bounded_in_the_binding() -> None:
    # OpenMP would try to start them all: a crash from about 10^5 threads. Run in a child, where a
    # crash fails the test instead of taking pytest down.
    script = (
        "import numpy as np\n"
        "from pixclust import _core\n"
        "y = np.arange(1.0, 46.0)\n"
        "X = np.random.default_rng(0).normal(size=(10, 3))\n"
        "for call in (lambda: _core.linkage(y, 'ward', n_threads=100000),\n"
        "             lambda: _core.pdist_euclidean(X, n_threads=2**31 - 1)):\n"
        "    try:\n"
        "        call()\n"
        "    except ValueError as e:\n"
        "        print('ValueError', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    most = max(1024, os.cpu_count() or 1)
    assert out.stdout.count(f"n_threads: must be at most {most}") == 2, out.stdout


def test_misaligned_in_place_labels_are_refused() -> None:
    # remap_labels writes values in place, so a misaligned array cannot be copied: a ValueError.
    values = misaligned(np.array([0, 1, 2], np.int32))
    with pytest.raises(ValueError, match="values: must be aligned"):
        _core.remap_labels(values, np.array([2, 1, 0], np.int32))
    ok = np.array([0, 1, 2], np.int32)
    _core.remap_labels(ok, np.array([2, 1, 0], np.int32))
    assert ok.tolist() == [2, 1, 0]
