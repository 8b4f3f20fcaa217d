"""``pixclust palette``: an image's k colours, ordered by share of pixels: printed (a table, or JSON
with --json), drawn as swatches (.png, .pdf, .svg) or written as a palette file (.json, .gpl, .txt,
.css), to a file or to standard output (``-o - --format FMT``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Optional

from pixclust._cli.errors import CLIError
from pixclust._cli.images import check_k, quantize_image, read_image
from pixclust._cli.outputs import FIGURE_EXTENSIONS, check_output, pipe_format, report_stream, save_figure, write_stdout
from pixclust._cli.palettes import (PALETTE_EXTENSIONS, dump_json, entries, format_palette, palette_name, table_lines,
                                   write_palette)
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    k = check_k(args.k)
    fmt = pipe_format(args, PALETTE_EXTENSIONS + FIGURE_EXTENSIONS)
    kind = _output_kind(fmt or args.output) if args.output else None
    if args.output and fmt is None:
        check_output(args.output, force=args.force, inputs=[args.input])
    img = read_image(args.input, progress)
    (res,) = quantize_image(img, [k], args, progress)
    rows = entries(res)
    _write(args, res, rows, kind, fmt, progress)
    if args.json:
        doc = {"input": args.input, "k": k, "space": args.space, "seed": args.seed, "inertia": float(res.inertia),
               "output": args.output, "colors": rows}
        out.write(dump_json(doc))
        return 0
    out = report_stream(args.output, out)
    print("palette (share of pixels):", file=out)
    print("\n".join(table_lines(res)), file=out)
    if args.output:
        print(f"wrote {'standard output' if fmt else args.output}", file=out)
    return 0


def _write(args: argparse.Namespace, res: Any, rows: list[dict[str, Any]], kind: Optional[str], fmt: Optional[str],
           progress: Progress) -> None:
    """The swatches or the palette file, into -o's file or onto standard output (``fmt``: its format)."""
    name = palette_name(args.input, args.k)
    if kind == "figure":
        from pixclust import plot

        with progress.step(f"drawing {args.output}"):
            source = "" if args.input == "-" else f"{Path(args.input).name}: "
            fig = plot.palette(res, title=f"{source}{args.k} colour{'s' if args.k != 1 else ''} ({args.space})")
            save_figure(fig, args.output, args.force, fmt=fmt)
    elif kind == "palette" and fmt is not None:
        write_stdout(format_palette(fmt, rows, name).encode("utf-8"))
    elif kind == "palette":
        write_palette(args.output, rows, name, force=args.force)


def _output_kind(path: str) -> str:
    """"palette" (a palette file) or "figure" (swatches), from the extension (or --format's ".ext")."""
    ext = Path(path).suffix.lower() or (path if path.startswith(".") else "")
    if ext in PALETTE_EXTENSIONS:
        return "palette"
    if ext in FIGURE_EXTENSIONS:
        return "figure"
    raise CLIError(f"{path}: unknown format {ext or '(no extension)'!r}; use " + ", ".join(PALETTE_EXTENSIONS)
                   + " for a palette file, or .png, .pdf, .svg for swatches")
