"""``pixclust quantize``: an image in k colours (k-means) or on a given palette (--palette), written as
an image; prints the palette (a table, or JSON with --json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pixclust._cli.errors import CLIError
from pixclust._cli.images import (DITHERED_PNG_LEVEL, check_dither, check_k, describe, dither_strength, fit_palette,
                                  hide_transparent, map_visible, quantize_image, read_image_metadata)
from pixclust._cli.outputs import check_output, write_stdout
from pixclust._cli.palettes import dump_json, entries, read_palette, table_lines
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    import pixclust
    from pixclust import _io
    from pixclust._dither import _dither_labels

    strength = dither_strength(args)
    if args.shared_palette:
        from pixclust._cli.commands import shared

        return shared.run(args, out, progress)
    if args.scheduler is not None:
        raise CLIError("--scheduler is for --shared-palette (one palette for several images, on Dask)")
    if len(args.input) > 1:
        raise CLIError(f"{len(args.input)} inputs: give --shared-palette (one palette for all, -o a directory), "
                       "or quantize them one at a time")
    args.input = args.input[0]
    if args.palette is not None and args.k is not None:
        raise CLIError("give -k (colours from k-means) or --palette (given colours), not both")
    if args.palette is None and args.k is None:
        raise CLIError("give -k (the number of colours) or --palette FILE")
    k = None if args.k is None else check_k(args.k)
    dest, ext = _destination(args, k)
    given = read_palette(args.palette) if args.palette is not None else None
    img, meta = read_image_metadata(args.input, progress)
    meta = None if args.strip else meta
    check_dither(img, args)
    _check_gif_room(img, len(given) if given is not None else k, ext)
    if given is not None:
        with progress.step(f"mapping onto the {len(given)} colours of {args.palette}"):
            res: Any = map_visible(img, fit_palette(img, given, args.palette), strength, args)
        image, labels = res.image, res.labels
    else:
        assert k is not None  # -k or --palette, checked above
        (res,) = quantize_image(img, [k], args, progress)
        if strength is None:
            # The byte map a palette file holds, made without the int32 map; and with every channel
            # clustered the image is palette[labels], which the writer paints only where it needs pixels.
            index = res._index_map()
            if index is not None and res._image is None:
                image, labels = None, index
            else:
                image, labels = res.image, (res.labels if index is None else index)
        else:  # res.labels (a label map made on first access) is not wanted here
            with progress.step(f"dithering (strength {strength:g})"):
                if res._image is None:  # every channel clustered (no alpha): the file needs the labels alone
                    image, labels = None, _dither_labels(img, res.palette, strength=strength)
                else:
                    image, labels = pixclust.dither(img, res.palette, strength=strength, return_labels=True)
                    image, labels = hide_transparent(img, image, labels, args.alpha)
    level = None if strength is None else DITHERED_PNG_LEVEL
    if dest == "-":
        # Encoded whole before the first byte goes out: a failure leaves nothing half-written.
        write_stdout(_io.encode_image(image, labels=labels, palette=res.palette, ext=ext, metadata=meta,
                                      background=args.background, lossless=args.lossless is not False,
                                      png_level=level))
        out = sys.stderr if out is sys.stdout else out  # the report must not mix with the image
    else:
        with progress.step(f"writing {dest}"):
            _io.write_image(dest, image, labels=labels, palette=res.palette, force=args.force, metadata=meta,
                            background=args.background, lossless=args.lossless is not False, png_level=level)
    _note_dropped(args, meta, dest, ext)
    _report(args, img, res, dest, out)
    return 0


def _note_dropped(args: argparse.Namespace, meta: Any, dest: str, ext: str) -> None:
    """One line on stderr when the input's ICC profile or EXIF cannot go into the output's format."""
    from pixclust import _io

    if args.quiet or meta is None or _io.holds_metadata(f"image{ext}"):
        return
    what = " and ".join(name for name, value in (("ICC profile", meta.icc_profile), ("EXIF", meta.exif)) if value)
    if what:
        where = "standard output" if dest == "-" else dest
        print(f"pixclust quantize: note: {where}: {ext.lstrip('.').upper()} cannot hold the input's {what}; "
              "written without them (--strip drops them without this note)", file=sys.stderr)


def _check_gif_room(img: np.ndarray, n: Any, ext: str) -> None:
    """A GIF holds 256 entries: with pixels to show transparent (under half opacity), 255 colours."""
    if ext != ".gif" or n is None or n < 256 or img.ndim != 3 or img.shape[2] not in (2, 4):
        return
    full = np.iinfo(img.dtype).max if img.dtype.kind == "u" else 1.0
    if np.any(img[..., -1] < full / 2):
        raise CLIError("a GIF holds 256 palette entries and this image needs one for its transparent pixels: "
                       "use at most 255 colours (-k 255), or a PNG")


def _destination(args: argparse.Namespace, k: Optional[int]) -> tuple[str, str]:
    """The output path ("-" for standard output) and its extension, checked before any work."""
    from pixclust import _io

    if args.output == "-":
        if args.json:
            raise CLIError("--json and -o - both want standard output; write the image to a file")
        ext = "." + (args.format or "png").lower().lstrip(".")
        try:
            _io.check_writable_image_path(f"image{ext}")
        except ValueError:
            raise CLIError(f"--format {args.format}: cannot write this format; use png, jpg, tif, bmp, gif or webp") from None
        _check_lossless(args, ext)
        return "-", ext
    if args.format is not None:
        raise CLIError("--format is for -o - (standard output); a file's format follows its extension")
    if args.input == "-" and not args.output:
        raise CLIError("reading standard input: give -o FILE, or -o - for standard output")
    tag = f"k{k}" if k is not None else Path(args.palette).stem
    dest = args.output or f"{Path(args.input).stem}-{tag}{'-dither' if args.dither else ''}.png"
    check_output(dest, force=args.force, inputs=[args.input] if args.input != "-" else [], image=True)
    _check_lossless(args, Path(dest).suffix.lower())
    return dest, Path(dest).suffix.lower()


def _check_lossless(args: argparse.Namespace, ext: str) -> None:
    if args.lossless is not None and ext != ".webp":
        flag = "--lossless" if args.lossless else "--no-lossless"
        raise CLIError(f"{flag} is for WebP output; {ext or 'this format'} is "
                       + ("lossy (JPEG)" if ext in (".jpg", ".jpeg") else "lossless already"))


def _report(args: argparse.Namespace, img: np.ndarray, res: Any, dest: str, out: Any) -> None:
    how = f"the {len(res.palette)} colours of {args.palette}" if args.palette else \
        f"{args.k} colours ({args.space}, seed {args.seed})"
    unit = " (in CIELAB units)" if args.space == "lab" and not args.palette else ""
    if args.json:
        doc = {"input": args.input, "size": [int(img.shape[1]), int(img.shape[0])], "k": len(res.palette),
               "palette_file": args.palette, "space": None if args.palette else args.space,
               "seed": None if args.palette else args.seed, "dither": args.dither,
               "dither_strength": dither_strength(args), "inertia": float(res.inertia),
               "output": dest, "colors": entries(res)}
        out.write(dump_json(doc))
        return
    print(f"{'standard input' if args.input == '-' else args.input}: {describe(img)}; {how}", file=out)
    print("palette (share of pixels):", file=out)
    print("\n".join(table_lines(res)), file=out)
    print(f"inertia: {res.inertia:.6g}{unit}", file=out)
    hidden = int(img.shape[0] * img.shape[1] - np.sum(res.counts))
    if hidden:
        print(f"fully transparent: {hidden} pixels, left out (one transparent palette entry)", file=out)
    note = f", dithered (strength {dither_strength(args):g})" if args.dither else ""
    ext = Path(dest).suffix.lower() if dest != "-" else "." + (args.format or "png").lower().lstrip(".")
    if ext in (".jpg", ".jpeg") or (ext == ".webp" and args.lossless is False):
        note += "; lossy format: use .png for exactly these colours"
    elif img.dtype.kind == "f" and ext not in (".tif", ".tiff"):
        note += "; float values rounded to integers: use .tif for exactly these values"
    if ext in (".jpg", ".jpeg", ".bmp") and img.ndim == 3 and img.shape[2] in (2, 4):
        note += f"; no alpha in {ext.lstrip('.').upper()}: laid over the background"
    print(f"wrote {'standard output' if dest == '-' else dest}{note}", file=out)
