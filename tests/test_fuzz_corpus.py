"""The fuzz seed corpus as regression tests: every saved input in fuzz/corpus/ (ordinary calls, edge
values, and the reproduction of every defect the fuzzer found) must give a result that its target's
oracle accepts or a clean exception, and never crash the process.

The inputs run in child processes (fuzz/fuzz.py --corpus-only), so that a crash fails its own test here
instead of ending the session. The budgeted fuzz run with new inputs is .ci/run's, not the suite's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FUZZ = REPO / "fuzz"
SEEDS = sorted((FUZZ / "corpus").glob("*.npz"))
pytestmark = [
    pytest.mark.fuzz,
    # the driver forks its workers from a server process (POSIX) and is only run on Linux so far
    pytest.mark.skipif(sys.platform != "linux", reason="fuzz/fuzz.py runs on Linux"),
]


def _open_defects() -> dict[str, tuple[str, str, bool]]:
    spec = importlib.util.spec_from_file_location("fuzz_known", FUZZ / "known.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OPEN  # type: ignore[no-any-return]


def _params() -> list[Any]:
    # The seeds of reported, unfixed defects are expected to fail until their fix (strict: then it says
    # so); those that only a sanitizer sees, in the sanitizer run (tools/asan_pytest.sh).
    sanitized = bool(os.environ.get("PIXCLUST_EXPECT_SANITIZED"))
    out = []
    for seed in SEEDS:
        marks = [pytest.mark.xfail(strict=True, reason=f"open defect (fuzz/known.py): {why}")
                 for tag, why, sanitizer_only in _open_defects().values()
                 if tag in seed.stem and (sanitized or not sanitizer_only)]
        out.append(pytest.param(seed, marks=marks, id=seed.stem))
    return out


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fuzz")
    report = tmp / "report.json"
    out = subprocess.run(
        [sys.executable, str(FUZZ / "fuzz.py"), "--corpus-only", "--json", str(report), "--save-dir", str(tmp)],
        capture_output=True, text=True, timeout=1800,
    )
    assert report.exists(), f"fuzz.py failed before its report:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return {Path(r["file"]).name: r for r in json.loads(report.read_text())["replays"]}


def test_corpus_is_there() -> None:
    assert len(SEEDS) >= 30


@pytest.mark.parametrize("seed", _params())
def test_saved_input_neither_crashes_nor_gives_a_wrong_result(seed: Path, replays: dict[str, Any]) -> None:
    r = replays[seed.name]
    if r["outcome"].startswith("FINDING"):
        detail = (r.get("finding") or {}).get("detail", "")
        pytest.fail(f"{r['outcome']}\n{detail}\nreproduce: python fuzz/fuzz.py --replay fuzz/corpus/{seed.name}"
                    f" (--in-process to debug it here)", pytrace=False)


def test_ctrl_c_stops_a_campaign_with_its_report(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the driver and its workers alike: the driver reports what ran, says
    it was stopped, and exits 130; no worker's interruption is counted as a finding."""
    import signal
    import time

    child = subprocess.Popen(
        [sys.executable, str(FUZZ / "fuzz.py"), "--budget", "300", "--seed", "7", "--no-corpus",
         "--save-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal's foreground job
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("== pixclust fuzz:")
        time.sleep(8)  # the workers are running inputs by then
        os.killpg(child.pid, signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130, out
    assert "== no crash, hang, wrong result or unclean exception" in out, out
    assert "stopped by Ctrl-C" in out and "Traceback" not in out, out
    assert list(tmp_path.iterdir()) == []  # nothing saved as a crasher
