"""``pixclust tree``: Ward's tree of an image's distinct colours (weighted by their pixel counts), drawn
down to k clusters with colour swatches, hex codes and shares as leaves."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pixclust._cli.errors import CLIError
from pixclust._cli.images import read_image
from pixclust._cli.outputs import FIGURE_EXTENSIONS, check_output, pipe_format, report_stream, save_figure
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    if args.k < 1:
        raise CLIError(f"-k {args.k}: the number of clusters drawn must be >= 1")
    fmt = pipe_format(args, FIGURE_EXTENSIONS)
    if fmt is None:
        check_output(args.output, force=args.force, inputs=[args.input], figure=True)
    img = _visible(read_image(args.input, progress), args.input)
    import pixclust
    from pixclust import plot

    with progress.kernel("building Ward's tree of the distinct colours"):
        try:
            tree = pixclust.palette_tree(img, space=args.space, n_threads=args.threads)
        except ValueError as e:  # e.g. space="lab" on a gray image
            raise CLIError(f"{args.input}: {e}") from None
    m = tree.colors.shape[0]
    k = min(args.k, m)
    with progress.step(f"drawing {args.output}"):
        name = "" if args.input == "-" else f"{Path(args.input).name}: "
        fig = plot.palette_tree(tree, k, title=f"{name}Ward's tree of {m} colours ({args.space})")
        save_figure(fig, args.output, args.force, fmt=fmt)
    out = report_stream(args.output, out)
    if not args.quiet:
        res = tree.cut(k)
        print(f"{m} distinct colours; the tree cut into {k} cluster{'s' if k != 1 else ''} has inertia "
              f"{res.inertia:.6g}", file=out)
        print(f"wrote {'standard output' if fmt else args.output}", file=out)
    return 0


def _visible(img: Any, name: str) -> Any:
    """The pixels that show: fully transparent ones are left out, as quantize leaves them out (the
    others as a 1 x n image, which gives the tree the same colours and counts)."""
    if img.ndim != 3 or img.shape[2] not in (2, 4):
        return img
    shown = img[..., -1] > 0
    if shown.all():
        return img
    if not shown.any():
        raise CLIError(f"{'standard input' if name == '-' else name}: every pixel is fully transparent: no colours to draw")
    return img[shown][None]
