"""One module per command; each ``run(args, out, progress)`` returns the exit code."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from pixclust._cli.commands import compare, demo, dendrogram, palette, quantize
from pixclust._cli.progress import Progress

COMMANDS: dict[str, Callable[[argparse.Namespace, Any, Progress], int]] = {
    "quantize": quantize.run,
    "compare": compare.run,
    "palette": palette.run,
    "dendrogram": dendrogram.run,
    "demo": demo.run,
}
