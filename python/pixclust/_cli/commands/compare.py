"""``pixclust compare``: the original image beside several colour counts, as one figure."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pixclust._cli.images import check_dither, check_k, describe, dither_strength, quantize_image, read_image
from pixclust._cli.outputs import FIGURE_EXTENSIONS, check_output, pipe_format, report_stream, save_figure
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    from pixclust import plot

    ks = [check_k(k) for k in args.k]
    fmt = pipe_format(args, FIGURE_EXTENSIONS)
    if fmt is None:
        check_output(args.output, force=args.force, inputs=[args.input], figure=True)
    img = read_image(args.input, progress)
    strength = dither_strength(args)
    check_dither(img, args)
    results = quantize_image(img, ks, args, progress)
    title = figure_title(args)
    ncols = min(args.ncols, 1 + len(ks))
    with progress.step(f"drawing {args.output}"):
        # The figure is exactly --width pixels across: the panels share it, the height follows.
        fig = plot.compare(img, ks, results=results, dither=False if strength is None else strength, ncols=ncols, title=title or None,
                           panel_width=args.width / args.dpi / ncols, dpi=args.dpi, smooth=args.smooth)
        save_figure(fig, args.output, args.force, dpi=args.dpi, tight=False, title=title, fmt=fmt)
    out = report_stream(args.output, out)
    print(f"{'standard input' if args.input == '-' else args.input}: {describe(img)}", file=out)
    for r in results:
        print(f"  {r.n_colors:3d} colours: inertia {r.inertia:.6g}", file=out)
    print(f"wrote {'standard output' if fmt else args.output} (original + {len(ks)} panels)", file=out)
    return 0


def figure_title(args: argparse.Namespace) -> str:
    """--title as given ('' for none), else the file's name and the space the colours were clustered in."""
    if args.title is not None:
        return str(args.title)
    what = f"k-means in {'CIELAB' if args.space == 'lab' else 'RGB'}"
    return what if args.input == "-" else f"{Path(args.input).name}: {what}"
