"""Shared fixtures. Random data comes from per-test generators, never from global state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def stopped_by_ctrl_c():  # type: ignore[no-untyped-def]
    """Checks that a real Ctrl-C stops `script` within a second: runs it in a child Python with Python's
    own SIGINT handler (as in a terminal or notebook; a shell running a job in the background hands its
    children SIGINT ignored), sends SIGINT `delay` s after the child prints `ready`, and asserts that the
    child ends with KeyboardInterrupt, before printing "finished", within 1 s of the signal."""
    import signal
    import subprocess
    import sys
    import time

    def run(script: str, ready: str, delay: float, timeout: float = 60.0) -> None:
        script = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n" + script
        child = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline().strip()
            assert line == ready, child.stderr.read() if child.stderr else line
            time.sleep(delay)
            sent = time.perf_counter()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=timeout)
            elapsed = time.perf_counter() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert "finished" not in out
        assert "KeyboardInterrupt" in err
        assert child.returncode != 0
        assert elapsed < 1.0

    return run


@pytest.fixture(autouse=True)
def _close_pyplot_figures():  # type: ignore[no-untyped-def]
    """pixclust.plot makes pyplot figures once pyplot is imported: close them after each test, as a
    script's plt.show() or a notebook's cell end does (pyplot warns past 20 open figures)."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
