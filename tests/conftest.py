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
def sigint_during():  # type: ignore[no-untyped-def]
    """Runs `script` in a child Python, sends it SIGINT `delay` s after it prints `ready`, and returns
    (stdout after that line, stderr, return code, seconds from the signal to the child's exit)."""
    import signal
    import subprocess
    import sys
    import time

    def run(script: str, ready: str, delay: float, timeout: float = 60.0) -> tuple[str, str, int, float]:
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
            return out, err, child.returncode, time.perf_counter() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    return run
