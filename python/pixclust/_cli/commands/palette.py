"""``pixclust palette``: the swatches of an image's k colours, ordered by share of pixels."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pixclust._cli.images import check_k, palette_lines, quantize_image, read_image
from pixclust._cli.outputs import check_output, save_figure
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    from pixclust import plot

    k = check_k(args.k)
    check_output(args.output, force=args.force, inputs=[args.input], figure=True)
    img = read_image(args.input, progress)
    (res,) = quantize_image(img, [k], args, progress)
    with progress.step(f"drawing {args.output}"):
        fig = plot.palette(res, title=f"{Path(args.input).name}: {k} colour{'s' if k != 1 else ''} ({args.space})")
        save_figure(fig, args.output, args.force)
    print("palette (share of pixels):", file=out)
    print("\n".join(palette_lines(res)), file=out)
    print(f"wrote {args.output}", file=out)
    return 0
