"""``pixclust quantize``: an image in k colours, written as an image; prints the palette."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pixclust._cli.images import check_dither, check_k, describe, palette_lines, quantize_image, read_image
from pixclust._cli.outputs import check_output
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    import pixclust
    from pixclust import _io

    k = check_k(args.k)
    dest = args.output or f"{Path(args.input).stem}-k{k}{'-dither' if args.dither else ''}.png"
    check_output(dest, force=args.force, inputs=[args.input], image=True)
    img = read_image(args.input, progress)
    check_dither(img, args)
    (res,) = quantize_image(img, [k], args, progress)
    image, labels = res.image, res.labels
    if args.dither:
        with progress.step("dithering"):
            image, labels = pixclust.dither(img, res.palette, return_labels=True)
    with progress.step(f"writing {dest}"):
        _io.write_image(dest, image, labels=labels, palette=res.palette, force=args.force)
    print(f"{args.input}: {describe(img)}; {k} colours ({args.space}, seed {args.seed})", file=out)
    print("palette (share of pixels):", file=out)
    print("\n".join(palette_lines(res)), file=out)
    print(f"inertia: {res.inertia:.6g}" + (" (in CIELAB units)" if args.space == "lab" else ""), file=out)
    note = ", dithered" if args.dither else ""
    if Path(dest).suffix.lower() in (".jpg", ".jpeg", ".webp"):
        note += "; lossy format: use .png for exactly these colours"
    elif img.dtype.kind == "f" and Path(dest).suffix.lower() not in (".tif", ".tiff"):
        note += "; float values rounded to integers: use .tif for exactly these values"
    print(f"wrote {dest}{note}", file=out)
    return 0
