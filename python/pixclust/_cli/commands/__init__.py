"""One module per command; each ``run(args, out, progress)`` returns the exit code."""

from __future__ import annotations

import argparse
import importlib
from typing import Any, Callable

from pixclust._cli.progress import Progress

NAMES = ("quantize", "compare", "palette", "dendrogram", "tree", "demo")


def command(name: str) -> Callable[[argparse.Namespace, Any, Progress], int]:
    """The ``run`` of command ``name``, its module imported only now: a command does not pay for the
    others' imports (matplotlib's, the palette tree's; ``python -X importtime``)."""
    if name not in NAMES:
        raise KeyError(name)
    run: Callable[[argparse.Namespace, Any, Progress], int] = importlib.import_module(
        f"pixclust._cli.commands.{name}").run
    return run
