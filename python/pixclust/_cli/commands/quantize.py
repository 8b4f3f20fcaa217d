"""``pixclust quantize``: an image in k colours (k-means) or on a given palette (--palette), written as
an image; prints the palette (a table, or JSON with --json)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from pixclust._cli.errors import CLIError
from pixclust._cli.images import check_dither, check_k, describe, fit_palette, map_to_palette, quantize_image, read_image
from pixclust._cli.outputs import check_output
from pixclust._cli.palettes import dump_json, entries, read_palette, table_lines
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    import pixclust
    from pixclust import _io

    if args.palette is not None and args.k is not None:
        raise CLIError("give -k (colours from k-means) or --palette (given colours), not both")
    if args.palette is None and args.k is None:
        raise CLIError("give -k (the number of colours) or --palette FILE")
    k = None if args.k is None else check_k(args.k)
    tag = f"k{k}" if k is not None else Path(args.palette).stem
    dest = args.output or f"{Path(args.input).stem}-{tag}{'-dither' if args.dither else ''}.png"
    check_output(dest, force=args.force, inputs=[args.input], image=True)
    given = read_palette(args.palette) if args.palette is not None else None
    img = read_image(args.input, progress)
    check_dither(img, args)
    if given is not None:
        with progress.step(f"mapping onto the {len(given)} colours of {args.palette}"):
            res: Any = map_to_palette(img, fit_palette(img, given, args.palette), args.dither, args.threads)
        image, labels = res.image, res.labels
    else:
        assert k is not None  # -k or --palette, checked above
        (res,) = quantize_image(img, [k], args, progress)
        image, labels = res.image, res.labels
        if args.dither:
            with progress.step("dithering"):
                image, labels = pixclust.dither(img, res.palette, return_labels=True)
    with progress.step(f"writing {dest}"):
        _io.write_image(dest, image, labels=labels, palette=res.palette, force=args.force)
    _report(args, img, res, dest, out)
    return 0


def _report(args: argparse.Namespace, img: np.ndarray, res: Any, dest: str, out: Any) -> None:
    how = f"the {len(res.palette)} colours of {args.palette}" if args.palette else \
        f"{args.k} colours ({args.space}, seed {args.seed})"
    unit = " (in CIELAB units)" if args.space == "lab" and not args.palette else ""
    if args.json:
        doc = {"input": args.input, "size": [int(img.shape[1]), int(img.shape[0])], "k": len(res.palette),
               "palette_file": args.palette, "space": None if args.palette else args.space,
               "seed": None if args.palette else args.seed, "dither": args.dither, "inertia": float(res.inertia),
               "output": dest, "colors": entries(res)}
        out.write(dump_json(doc))
        return
    print(f"{args.input}: {describe(img)}; {how}", file=out)
    print("palette (share of pixels):", file=out)
    print("\n".join(table_lines(res)), file=out)
    print(f"inertia: {res.inertia:.6g}{unit}", file=out)
    note = ", dithered" if args.dither else ""
    if Path(dest).suffix.lower() in (".jpg", ".jpeg", ".webp"):
        note += "; lossy format: use .png for exactly these colours"
    elif img.dtype.kind == "f" and Path(dest).suffix.lower() not in (".tif", ".tiff"):
        note += "; float values rounded to integers: use .tif for exactly these values"
    print(f"wrote {dest}{note}", file=out)
