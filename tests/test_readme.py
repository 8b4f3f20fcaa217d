"""The README's promises that can drift: its test command is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bash_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", readme, flags=re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [c for c in _bash_commands() if "pytest" in c]
    assert len(commands) == 1, commands
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert commands[0] in ci


def test_first_command_runs_the_demo() -> None:
    first = _bash_commands()[0]
    assert first.startswith("python3 -m venv .venv && ") and "pixclust demo" in first


def test_python_quick_start_runs(capsys: object) -> None:
    # The README's Python blocks run as written, on the bundled JPEG instead of "photo.jpg".
    import pixclust

    photo = Path(pixclust.__file__).parent / "data" / "rocket.jpg"
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block.replace('"photo.jpg"', repr(str(photo))), "README.md", "exec"), namespace)
    assert len(namespace["results"]) == 5  # type: ignore[arg-type]
    assert namespace["segmented"].shape == namespace["image"].shape  # type: ignore[attr-defined]
