"""What the image commands share: the colour count, reading an image, quantizing it, describing it."""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from pixclust._cli.errors import CLIError, reading
from pixclust._cli.progress import Progress

# The largest palette: a paletted PNG holds 256 colours.
MAX_COLORS = 256
# --dither's strength unless told: measured on a 12-MP photo at k=256, the lowest per-pixel colour error
# whose 8x8-block average colours stay as close to the original as plain Floyd-Steinberg's (and pngquant's)
DITHER_STRENGTH = 0.875


def check_k(value: int) -> int:
    if not 1 <= value <= MAX_COLORS:
        raise CLIError(f"-k {value}: the number of colours must be between 1 and {MAX_COLORS}")
    return value


def read_image(path: str, progress: Progress) -> np.ndarray:
    """An image file, or standard input for "-" (its format taken from the data)."""
    return read_image_metadata(path, progress)[0]


def read_image_metadata(path: str, progress: Progress) -> tuple[np.ndarray, Any]:
    """:func:`read_image`, and the file's ICC profile and EXIF block (``_io.Metadata``)."""
    from pixclust import _io

    if path == "-":
        data = sys.stdin.buffer.read()
        if not data:
            raise CLIError("standard input: no data (pipe an image in, or give a file name)")
        try:
            return _io.read_image_file_metadata(io.BytesIO(data), "standard input")
        except _io.ImageReadError as exc:
            raise CLIError(str(exc)) from None
    with reading(path, directory="is a directory, not an image"):
        try:
            with progress.step(f"reading {path}"):
                return _io.read_image_metadata(path)
        except _io.ImageReadError as exc:
            raise CLIError(str(exc)) from None


def describe(img: np.ndarray) -> str:
    c = 1 if img.ndim == 2 else img.shape[2]
    kind = {1: "grayscale", 2: "grayscale+alpha", 3: "RGB", 4: "RGBA"}[c]
    bits = f"{8 * img.dtype.itemsize}-bit" + (" float" if img.dtype.kind == "f" else "")
    return f"{img.shape[1]} x {img.shape[0]}, {kind}, {bits}"


# zlib's level for a large dithered PNG: dithering's noise leaves zlib few long matches to find, so
# level 6 took 3x level 4's time for a 3% smaller file (12-MP photo, k = 256; commit message).
DITHERED_PNG_LEVEL = 4


def dither_strength(args: argparse.Namespace) -> Optional[float]:
    """The strength to dither at (None: no dithering); --dither-strength implies --dither."""
    given = getattr(args, "dither_strength", None)
    if given is not None:
        args.dither = True
    return None if not args.dither else (DITHER_STRENGTH if given is None else given)


def check_dither(img: np.ndarray, args: argparse.Namespace) -> None:
    if args.dither and img.dtype.kind == "f":
        raise CLIError(f"--dither needs an 8- or 16-bit image; {args.input} is a float image")


def quantize_image(img: np.ndarray, ks: list[int], args: argparse.Namespace, progress: Progress) -> list[Any]:
    import pixclust
    from pixclust._quantize import _reporting

    if args.space == "lab" and (1 if img.ndim == 2 else img.shape[2]) not in (3, 4):
        raise CLIError("--space lab needs a colour image; this one is grayscale")
    mp = img.shape[0] * img.shape[1] / 1e6
    what = ", ".join(str(k) for k in ks)
    message = f"k-means on {mp:.1f} MP in {args.space.upper()}, {what} colour{'s' if ks != [1] else ''}"
    # one tick per colour count: a bar on a terminal, else the step line as before
    with progress.bar("k-means", len(ks)) as bar, progress.step(message):
        try:
            with _reporting(bar.tick):
                res = pixclust.quantize(img, ks, space=args.space, init=args.init, random_state=args.seed, n_threads=args.threads,
                                        n_init=args.n_init, max_iter=args.max_iter, tol=args.tol, alpha=args.alpha)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    assert isinstance(res, list)  # a list of counts gives a list
    return res


def hide_transparent(img: np.ndarray, image: np.ndarray, labels: np.ndarray, alpha: str) -> tuple[np.ndarray, np.ndarray]:
    """The pixels that were fully transparent in ``img`` made transparent black with label -1 (unless
    ``alpha`` is "keep"): a dithered or mapped image must not show the colours they hid either."""
    if alpha == "keep" or img.ndim != 3 or img.shape[2] not in (2, 4):
        return image, labels
    hidden = img[..., -1] == 0
    if not hidden.any():
        return image, labels
    image, labels = image.copy(), labels.copy()
    image[hidden] = 0
    labels[hidden] = -1
    return image, labels


@dataclass(frozen=True)
class Mapped:
    """An image mapped onto a given palette (what ``quantize --palette`` writes and prints)."""

    image: np.ndarray
    labels: np.ndarray
    palette: np.ndarray
    counts: np.ndarray
    inertia: float


def fit_palette(img: np.ndarray, palette: np.ndarray, path: str) -> np.ndarray:
    """The (k, 3) uint8 colours of a palette file in the image's channels (gray for a gray image)."""
    if img.dtype != np.uint8:
        raise CLIError(f"--palette {path}: needs an 8-bit image (palette files hold 8-bit colours); "
                       f"this one is {describe(img)}")
    if img.ndim == 3 and img.shape[2] >= 3:
        return palette
    if np.any(palette != palette[:, :1]):
        raise CLIError(f"--palette {path}: has colours that are not gray, and the image is grayscale")
    return np.ascontiguousarray(palette[:, :1])


def map_to_palette(img: np.ndarray, palette: np.ndarray, dither: Optional[float], threads: Optional[int]) -> Mapped:
    """Every pixel the nearest palette colour (lowest index on ties), or dithered onto the palette at
    strength ``dither`` (None: not dithered)."""
    import pixclust
    from pixclust import _core

    n = 0 if threads is None else threads
    pixels = np.ascontiguousarray(img).reshape(img.shape[0] * img.shape[1], -1)
    channels = palette.shape[1]
    if dither is not None:
        image, labels = pixclust.dither(img, palette, strength=dither, return_labels=True)
        counts = np.bincount(labels.ravel(), minlength=len(palette))
        diff = image.reshape(pixels.shape)[:, :channels].astype(np.float64) - pixels[:, :channels]
        return Mapped(image, labels, palette, counts, float(np.einsum("ij,ij->", diff, diff)))
    colors, color_counts, pixel_color = _core.index_colors(pixels, channels, n)
    color_labels, inertia = _core.kmeans_assign(colors.astype(np.float64), color_counts.astype(np.float64),
                                                palette.astype(np.float64), n)
    color_labels = np.asarray(color_labels, dtype=np.int32)
    image = np.asarray(_core.paint_pixels(pixel_color, np.take(palette, color_labels, axis=0), pixels, n))
    labels = np.asarray(pixel_color, dtype=np.int32).copy()
    _core.remap_labels(labels, color_labels, n)
    counts = np.bincount(color_labels, weights=color_counts, minlength=len(palette)).astype(np.int64)
    return Mapped(image.reshape(img.shape), labels.reshape(img.shape[:2]), palette, counts, float(inertia))


def map_visible(img: np.ndarray, palette: np.ndarray, strength: Optional[float], args: argparse.Namespace) -> Mapped:
    """:func:`map_to_palette` (dithered at ``strength``, None: not) as ``quantize`` without --palette counts: with ``--alpha exclude`` or
    ``weight``, the fully transparent pixels are hidden (transparent black, label -1) and left out of
    the counts and the inertia, which ``weight`` weights by opacity."""
    res = map_to_palette(img, palette, strength, args.threads)
    image, labels = hide_transparent(img, res.image, res.labels, args.alpha)
    if args.alpha == "keep" or img.ndim != 3 or img.shape[2] not in (2, 4):
        return res
    a = img[..., -1]
    visible = a > 0
    diff = res.image[visible][:, :palette.shape[1]].astype(np.float64) - img[visible][:, :palette.shape[1]]
    squared = np.einsum("ij,ij->i", diff, diff)
    if args.alpha == "weight":  # the opacities quantize(alpha="weight") weighs the pixels by
        squared *= a[visible].astype(np.float64) / np.iinfo(img.dtype).max
    counts = np.bincount(labels[visible], minlength=len(palette)).astype(np.int64)
    return Mapped(image, labels, palette, counts, float(np.sum(squared)))
