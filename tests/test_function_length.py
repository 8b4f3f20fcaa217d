"""tools/check_function_length.py: no function in cpp/ or python/pixclust/ over 120 lines (issue 15),
apart from the ones its allowlist names while they are being split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_no_function_is_longer_than_the_limit() -> None:
    pytest.importorskip("lizard", reason="lizard is not installed (it is in the 'test' extra: pip install -e .[test])")
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_function_length.py")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr + r.stdout


def test_the_check_fails_on_a_long_function(tmp_path: Path) -> None:
    pytest.importorskip("lizard", reason="lizard is not installed (it is in the 'test' extra: pip install -e .[test])")
    # An empty allowlist and a limit below the longest allowed function: the check must fail and name it.
    empty = tmp_path / "allowlist.txt"
    empty.write_text("# nothing allowed\n")
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_function_length.py"), "--allowlist", str(empty), "--limit", "20"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert "python/pixclust/_fit.py" in r.stderr and "lines (limit 20)" in r.stderr
