"""One module per command; each ``run(args, out, progress)`` returns the exit code."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from pixclust._cli.commands import compare, demo, dendrogram, palette, quantize, tree
from pixclust._cli.progress import Progress

COMMANDS: dict[str, Callable[[argparse.Namespace, Any, Progress], int]] = {
    "quantize": quantize.run,
    "compare": compare.run,
    "palette": palette.run,
    "dendrogram": dendrogram.run,
    "tree": tree.run,
    "demo": demo.run,
}
