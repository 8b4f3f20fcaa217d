"""The package's identity: one version everywhere, the build report, and control of our OpenMP runtime."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pixclust
from pixclust import _core
from pixclust._config import config

REPO = Path(__file__).resolve().parents[1]


def test_one_version_everywhere() -> None:
    assert pixclust.__version__ == _core.version() == importlib.metadata.version("pixclust")
    cmake = (REPO / "CMakeLists.txt").read_text()
    m = re.search(r"project\(pixclust VERSION ([0-9.]+)", cmake)
    assert m is not None and m.group(1) == pixclust.__version__


def test_public_names_are_declared() -> None:
    assert set(pixclust.__all__) <= set(dir(pixclust))
    assert "show_config" in pixclust.__all__
    assert not any(name.startswith("_") and name != "__version__" for name in pixclust.__all__)


def test_scikit_learn_is_imported_only_for_the_estimator() -> None:
    # scikit-learn takes most of a second to import, Dask more: `import pixclust`, quantize and linkage
    # must pull in neither; asking for pixclust.KMeans does, and gets the estimator class.
    code = (
        "import sys, numpy as np, pixclust\n"
        "seen = ['sklearn' in sys.modules or 'dask' in sys.modules]\n"
        "pixclust.quantize(np.arange(300, dtype=np.uint8).reshape(10, 10, 3), 3, random_state=0)\n"
        "pixclust.linkage(np.random.default_rng(0).random((20, 2)), 'ward')\n"
        "seen.append('sklearn' in sys.modules or 'dask' in sys.modules)\n"
        "from pixclust import KMeans\n"
        "import sklearn.base\n"
        "print(seen, 'sklearn' in sys.modules, issubclass(KMeans, sklearn.base.BaseEstimator), KMeans.__module__, 'dask' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[False,", "False]", "True", "True", "pixclust._kmeans", "False"]


def test_show_config_reports_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    pixclust.show_config()
    out = capsys.readouterr().out
    info = _core.build_info()
    assert out.splitlines()[0] == f"pixclust {pixclust.__version__}"
    assert info["compiler"] in out
    assert f"threads:       {_core.max_threads()}" in out
    if info["openmp"]:
        assert f"spec {info['openmp_spec']}" in out
    else:
        assert "OpenMP:        no" in out


def test_openmp_runtime_is_a_loaded_library() -> None:
    c = config()
    if not c["openmp"]:
        pytest.skip("built without OpenMP")
    assert c["openmp_runtime"] and os.path.exists(c["openmp_runtime"])
    assert c["threadpoolctl_sees_runtime"] is True


def test_threadpoolctl_limits_our_runtime() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _core.build_info()["openmp"]:
        pytest.skip("built without OpenMP")
    before = _core.max_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert _core.max_threads() == 1
    assert _core.max_threads() == before


def test_omp_num_threads_is_honoured() -> None:
    if not _core.build_info()["openmp"]:
        pytest.skip("built without OpenMP")
    code = "from pixclust import _core; print(_core.max_threads())"
    env = dict(os.environ, OMP_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"


def test_cli_config_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "pixclust", "config"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(f"pixclust {pixclust.__version__}")


def test_sanitized_module_when_asked() -> None:
    # tools/asan_pytest.sh sets this: the run must import the ASan+UBSan build of the module, installed in
    # the script's own environment, with both runtimes loaded, or it would pass without checking anything.
    where = os.environ.get("PIXCLUST_EXPECT_SANITIZED")
    if not where:
        pytest.skip("only in the sanitizer run")
    core = Path(_core.__file__).resolve()
    assert Path(where).resolve() in core.parents, core
    maps = Path("/proc/self/maps").read_text()
    assert "libasan" in maps and "libubsan" in maps


def test_installed_wheel_when_asked() -> None:
    # The wheel test (tools/wheel_test.sh) sets this: the package must come from the installed wheel,
    # with its own bundled OpenMP runtime, not from the source tree.
    if os.environ.get("PIXCLUST_EXPECT_INSTALLED") != "1":
        pytest.skip("only in the wheel test")
    pkg = Path(pixclust.__file__).resolve()
    assert "site-packages" in pkg.parts
    assert REPO not in pkg.parents
    runtime = config()["openmp_runtime"]
    if runtime:
        assert "pixclust.libs" in runtime, runtime
