"""``pixclust palette``: an image's k colours, ordered by share of pixels: printed (a table, or JSON
with --json), drawn as swatches (.png, .pdf, .svg) or written as a palette file (.json, .gpl, .txt,
.css)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pixclust._cli.errors import CLIError
from pixclust._cli.images import check_k, quantize_image, read_image
from pixclust._cli.outputs import FIGURE_EXTENSIONS, check_output, save_figure
from pixclust._cli.palettes import PALETTE_EXTENSIONS, dump_json, entries, palette_name, table_lines, write_palette
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    k = check_k(args.k)
    kind = _output_kind(args.output) if args.output else None
    if args.output:
        check_output(args.output, force=args.force, inputs=[args.input])
    img = read_image(args.input, progress)
    (res,) = quantize_image(img, [k], args, progress)
    rows = entries(res)
    name = palette_name(args.input, k)
    if kind == "figure":
        from pixclust import plot

        with progress.step(f"drawing {args.output}"):
            fig = plot.palette(res, title=f"{Path(args.input).name}: {k} colour{'s' if k != 1 else ''} ({args.space})")
            save_figure(fig, args.output, args.force)
    elif kind == "palette":
        write_palette(args.output, rows, name, force=args.force)
    if args.json:
        doc = {"input": args.input, "k": k, "space": args.space, "seed": args.seed, "inertia": float(res.inertia),
               "output": args.output, "colors": rows}
        out.write(dump_json(doc))
        return 0
    print("palette (share of pixels):", file=out)
    print("\n".join(table_lines(res)), file=out)
    if args.output:
        print(f"wrote {args.output}", file=out)
    return 0


def _output_kind(path: str) -> str:
    """"palette" (a palette file) or "figure" (swatches), from the extension."""
    ext = Path(path).suffix.lower()
    if ext in PALETTE_EXTENSIONS:
        return "palette"
    if ext in FIGURE_EXTENSIONS:
        return "figure"
    raise CLIError(f"{path}: unknown format {ext or '(no extension)'!r}; use " + ", ".join(PALETTE_EXTENSIONS)
                   + " for a palette file, or .png, .pdf, .svg for swatches")
