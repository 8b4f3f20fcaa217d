"""The C++ side, driven from pytest so that one command runs every test.

- the C++ unit tests (CTest) in the ASan+UBSan configuration;
- a plain build installed to a prefix, with no Python involved, then the README's example program
  built against that installed copy with find_package(pixclust), and again through add_subdirectory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "cpp"
pytestmark = pytest.mark.cpp


def _tool(name: str) -> str:
    # Prefer the copy installed next to this interpreter (the `test` extra brings cmake and ninja).
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found")
    return found


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    # Keep the scikit-build and venv settings of the calling Python out of these plain CMake builds.
    for var in ("SKBUILD", "CMAKE_ARGS"):
        env.pop(var, None)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-6000:]}\n{out.stderr[-6000:]}"
    return out  # type: ignore[no-any-return]


def _configure(src: Path, build: Path, *args: str) -> None:
    cmd = [_tool("cmake"), "-S", str(src), "-B", str(build)]
    ninja = Path(sys.executable).parent / "ninja"
    if ninja.exists() or shutil.which("ninja"):
        cmd += ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja if ninja.exists() else shutil.which('ninja')}"]
    _run(cmd + list(args))


def _build(build: Path, *args: str) -> None:
    _run([_tool("cmake"), "--build", str(build), *args])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cpp")


@pytest.fixture(scope="module")
def installed_prefix(work: Path) -> Path:
    build, prefix = work / "release", work / "prefix"
    _configure(REPO, build, "-DCMAKE_BUILD_TYPE=Release", "-DPIXCLUST_BUILD_TESTS=OFF", "-DPIXCLUST_INSTALL=ON")
    cache = (build / "CMakeCache.txt").read_text()
    assert "Python_EXECUTABLE" not in cache and "pybind11_DIR" not in cache, "the C++ build must not need Python"
    _build(build)
    _run([_tool("cmake"), "--install", str(build), "--prefix", str(prefix)])
    return prefix


def test_ctest_under_sanitizers(work: Path) -> None:
    build = work / "asan"
    _configure(REPO, build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPIXCLUST_SANITIZE=ON",
               "-DPIXCLUST_BUILD_TESTS=ON", "-DPIXCLUST_WERROR=ON")
    _build(build)
    out = _run([_tool("ctest"), "--test-dir", str(build), "--output-on-failure"])
    sources = sorted(p.stem for p in (REPO / "tests" / "cpp").glob("test_*.cpp"))
    m = re.search(r"100% tests passed(?:, 0 tests failed)? out of (\d+)", out.stdout)
    assert m is not None, out.stdout
    assert int(m.group(1)) == len(sources) >= 2


def test_ctest_without_openmp(work: Path) -> None:
    # Where OpenMP is missing the library still builds and runs, serially, and says so.
    build = work / "serial"
    _configure(REPO, build, "-DCMAKE_BUILD_TYPE=Release", "-DPIXCLUST_USE_OPENMP=OFF",
               "-DPIXCLUST_BUILD_TESTS=ON", "-DPIXCLUST_WERROR=ON")
    cache = (build / "CMakeCache.txt").read_text()
    assert "OpenMP_CXX_FLAGS" not in cache
    _build(build)
    out = _run([_tool("ctest"), "--test-dir", str(build), "--output-on-failure"])
    assert re.search(r"100% tests passed(?:, 0 tests failed)? out of \d+", out.stdout), out.stdout


def test_install_layout(installed_prefix: Path) -> None:
    headers = {p.name for p in (installed_prefix / "include" / "pixclust").glob("*.hpp")}
    assert headers == {p.name for p in (REPO / "cpp" / "include" / "pixclust").glob("*.hpp")}
    configs = list(installed_prefix.glob("lib*/cmake/pixclust/pixclustConfig.cmake"))
    assert len(configs) == 1
    assert (configs[0].parent / "pixclustConfigVersion.cmake").exists()
    assert "find_dependency(OpenMP" in configs[0].read_text()
    assert list(installed_prefix.glob("lib*/libpixclust.a")) or list(installed_prefix.glob("lib*/pixclust.lib"))


def _expected_example_output() -> str:
    from scipy.cluster.hierarchy import linkage

    import pixclust

    points = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]], float)
    Z = linkage(points, "ward")
    rows = "".join("%3.0f %3.0f %10.6f %3.0f\n" % tuple(z) for z in Z)
    return f"pixclust {pixclust.__version__}: ward linkage of {len(points)} points\n" + rows


def test_example_against_installed_copy(work: Path, installed_prefix: Path) -> None:
    build = work / "example-installed"
    _configure(EXAMPLE, build, f"-DCMAKE_PREFIX_PATH={installed_prefix}", "-DCMAKE_BUILD_TYPE=Release")
    _build(build)
    out = _run([str(build / "example")])
    assert out.stdout == _expected_example_output()


def test_example_through_add_subdirectory(work: Path) -> None:
    build = work / "example-subdir"
    _configure(EXAMPLE, build, f"-DPIXCLUST_SOURCE_DIR={REPO}", "-DCMAKE_BUILD_TYPE=Release")
    _build(build)
    out = _run([str(build / "example")])
    assert out.stdout == _expected_example_output()


def test_readme_shows_this_very_example() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```cpp\n(.*?)```", readme, flags=re.S)
    assert (EXAMPLE / "main.cpp").read_text() in blocks
    cmake_blocks = re.findall(r"```cmake\n(.*?)```", readme, flags=re.S)
    assert any("find_package(pixclust CONFIG REQUIRED)" in b and "pixclust::core" in b for b in cmake_blocks)
