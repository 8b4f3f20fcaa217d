"""What the image commands share: the colour count, reading an image, quantizing it, describing it."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from pixclust._cli.errors import CLIError, reading
from pixclust._cli.progress import Progress

# The largest palette: a paletted PNG holds 256 colours.
MAX_COLORS = 256


def check_k(value: int) -> int:
    if not 1 <= value <= MAX_COLORS:
        raise CLIError(f"-k {value}: the number of colours must be between 1 and {MAX_COLORS}")
    return value


def read_image(path: str, progress: Progress) -> np.ndarray:
    from pixclust import _io

    with reading(path, directory="is a directory, not an image"):
        try:
            with progress.step(f"reading {path}"):
                return _io.read_image(path)
        except _io.ImageReadError as exc:
            raise CLIError(str(exc)) from None


def describe(img: np.ndarray) -> str:
    c = 1 if img.ndim == 2 else img.shape[2]
    kind = {1: "grayscale", 2: "grayscale+alpha", 3: "RGB", 4: "RGBA"}[c]
    bits = f"{8 * img.dtype.itemsize}-bit" + (" float" if img.dtype.kind == "f" else "")
    return f"{img.shape[1]} x {img.shape[0]}, {kind}, {bits}"


def check_dither(img: np.ndarray, args: argparse.Namespace) -> None:
    if args.dither and img.dtype.kind == "f":
        raise CLIError(f"--dither needs an 8- or 16-bit image; {args.input} is a float image")


def quantize_image(img: np.ndarray, ks: list[int], args: argparse.Namespace, progress: Progress) -> list[Any]:
    import pixclust

    if args.space == "lab" and (1 if img.ndim == 2 else img.shape[2]) not in (3, 4):
        raise CLIError("--space lab needs a colour image; this one is grayscale")
    mp = img.shape[0] * img.shape[1] / 1e6
    what = ", ".join(str(k) for k in ks)
    with progress.step(f"k-means on {mp:.1f} MP in {args.space.upper()}, {what} colour{'s' if ks != [1] else ''}"):
        try:
            res = pixclust.quantize(img, ks, space=args.space, random_state=args.seed, n_threads=args.threads)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    assert isinstance(res, list)  # a list of counts gives a list
    return res


def palette_lines(res: Any) -> list[str]:
    from pixclust.plot import _hex

    share = res.counts / max(int(res.counts.sum()), 1)
    order = np.argsort(-res.counts, kind="stable")
    dtype = res.palette.dtype
    lines = []
    for j in order:
        if dtype.kind == "f":
            values = " ".join(f"{float(v):.4f}" for v in res.palette[j])
        else:
            values = " ".join(f"{int(v):{5 if dtype == np.uint16 else 3}d}" for v in res.palette[j])
        lines.append(f"  {_hex(res.palette[j], res.palette.dtype)}  ({values})  {100 * share[j]:5.1f}%")
    return lines
