"""The _core stub is generated, and stays in step with the compiled module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_stub_matches_the_compiled_module() -> None:
    pytest.importorskip("pybind11_stubgen")
    out = subprocess.run([sys.executable, str(REPO / "tools" / "gen_stubs.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_mypy_stubtest_agrees() -> None:
    pytest.importorskip("mypy")
    out = subprocess.run([sys.executable, "-m", "mypy.stubtest", "pixclust._core",
                          "--allowlist", str(REPO / "tools" / "stubtest-allowlist.txt")],
                         capture_output=True, text=True, cwd=REPO / "tests")
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_is_typed() -> None:
    import pixclust

    pkg = Path(pixclust.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_core.pyi").exists()


def test_package_passes_mypy_strict() -> None:
    # The public Python layer is fully typed (pyproject's [tool.mypy] is strict), checked against the
    # generated stub of the compiled module.
    pytest.importorskip("mypy")
    if not (REPO / "python" / "pixclust" / "__init__.py").exists():
        pytest.skip("needs the source tree")
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                          str(REPO / "python" / "pixclust")], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
