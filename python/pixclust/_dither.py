"""``pixclust.dither``: serpentine Floyd-Steinberg error diffusion onto a palette (C++ core)."""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal, Optional, Union, overload

import numpy as np

from pixclust import _core

__all__ = ["dither"]


def _check_palette(palette: Any, dtype: np.dtype, channels: int) -> np.ndarray:
    p = np.asarray(palette)
    if p.ndim == 1 and channels == 1:
        p = p.reshape(-1, 1)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] != channels:
        raise ValueError(
            f"palette: expected shape (k, {channels}) with k >= 1 for an image with {channels} colour "
            f"channel(s), got shape {p.shape}"
        )
    if p.dtype == dtype:
        return np.ascontiguousarray(p)
    if p.dtype.kind not in "uif" or p.dtype == np.bool_:
        raise TypeError(f"palette: expected integer values, got dtype {p.dtype}")
    top = np.iinfo(dtype).max
    if not np.all(np.isfinite(p)) or np.any(p != np.round(p)) or p.min() < 0 or p.max() > top:
        raise ValueError(f"palette: values must be whole numbers in [0, {top}] for a {dtype} image")
    return np.ascontiguousarray(p.astype(dtype))


def _dither_option(dither: Any, name: str = "dither") -> Optional[float]:
    """A ``dither=`` option of a caller (False, True or a strength in [0, 1]) as the strength to dither
    at, None for no dithering; True is full strength, as :func:`dither`'s default."""
    if isinstance(dither, (bool, np.bool_)):
        return 1.0 if dither else None
    if not isinstance(dither, numbers.Real):
        raise TypeError(f"{name}: expected a bool or a strength in [0, 1], got {type(dither).__name__}")
    s = float(dither)
    if not 0.0 <= s <= 1.0:  # NaN fails too
        raise ValueError(f"{name}: expected a bool or a strength in [0, 1], got {dither!r}")
    return s


def _strength_units(strength: Any) -> int:
    """``strength`` in the core's fixed-point units (1/1024), rounded half up as the core's definition says."""
    if isinstance(strength, (bool, np.bool_)) or not isinstance(strength, numbers.Real):
        raise TypeError(f"strength: expected a number in [0, 1], got {type(strength).__name__}")
    s = float(strength)
    if not (math.isfinite(s) and 0.0 <= s <= 1.0):
        raise ValueError(f"strength: expected a number in [0, 1], got {strength!r}")
    return math.floor(s * _core.DITHER_STRENGTH_ONE + 0.5)


@overload
def dither(image: Any, palette: Any, *, serpentine: bool = ..., strength: float = ...,
           return_labels: Literal[False] = ...) -> np.ndarray: ...


@overload
def dither(
    image: Any, palette: Any, *, serpentine: bool = ..., strength: float = ..., return_labels: Literal[True]
) -> tuple[np.ndarray, np.ndarray]: ...


def dither(
    image: Any, palette: Any, *, serpentine: bool = True, strength: float = 1.0, return_labels: bool = False
) -> Union[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Map an image onto a palette with Floyd-Steinberg error diffusion.

    Each pixel takes the nearest palette colour (squared Euclidean distance in the image's values) and
    its rounding error is passed on to the unvisited neighbours with the weights 7/16 (next in the row),
    3/16, 5/16 and 1/16 (the row below), so that areas keep their average colour. ``serpentine``
    alternates the direction of the rows, which avoids the diagonal "worm" patterns of the plain scan.
    ``strength`` below 1 passes on only that share of each error (damped diffusion): the image keeps
    most of its local average colour with far less noise per pixel. Undamped, errors that the palette
    cannot absorb (at the edge of its colours) pile up and streak; damped, they fade.

    The arithmetic is integer (16 fixed-point steps per level; the exact definition is in
    ``cpp/include/pixclust/dither.hpp``), so the result is exact and the same on every machine. The
    pass is sequential by nature and runs on one thread; the nearest-colour search is exact and fast
    (``benchmarks/bench_dither.py`` measures it beside the peers).

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C), C in 1-4, dtype uint8 or uint16
        Gray, gray+alpha, RGB or RGBA. An alpha channel (C = 2 or 4) is not dithered: it is copied.
    palette : array-like of shape (k, c)
        c colour channels (1 for gray and gray+alpha, 3 for RGB and RGBA), e.g.
        ``pixclust.quantize(image, k).palette``. Values must be whole numbers in the image's range;
        they are converted to its dtype.
    serpentine : bool, default=True
        Scan odd rows right to left.
    strength : float in [0, 1], default=1.0
        The share of each pixel's error passed on, in steps of 1/1024 (rounded to the nearest): 1 is
        plain Floyd-Steinberg, 0 maps every pixel to its nearest colour. The command line dithers at
        0.875 by default: on a 12-MP photo at 256 colours that has about half the per-pixel colour
        error of strength 1 and keeps the 8x8-block average colours closer to the original
        (``benchmarks/bench_kmeans.py --pngquant``).
    return_labels : bool, default=False
        Also return the palette index of every pixel.

    Returns
    -------
    dithered : ndarray
        Same shape and dtype as ``image``, every pixel a palette colour (alpha kept).
    labels : ndarray of shape (H, W), int32
        Only with ``return_labels=True``.

    Examples
    --------
    >>> import numpy as np
    >>> import pixclust
    >>> grey = np.full((4, 8), 128, dtype=np.uint8)
    >>> out, labels = pixclust.dither(grey, [[0], [255]], return_labels=True)
    >>> out.dtype, out.shape, sorted(np.unique(out).tolist())
    (dtype('uint8'), (4, 8), [0, 255])
    >>> int(labels.sum())  # about half the pixels white
    16
    >>> dark = np.full((4, 8), 100, dtype=np.uint8)  # 39% grey: 12.5 of 32 pixels white, undamped
    >>> [int((pixclust.dither(dark, [[0], [255]], strength=s) == 255).sum()) for s in (1, 0.25, 0)]
    [13, 5, 0]
    """
    flat, pal, units = _checked(image, palette, serpentine, strength)
    labels, out = _core.dither_floyd_steinberg(flat, pal, bool(serpentine), units)
    out = out.reshape(np.shape(image))
    return (out, labels) if return_labels else out


def _dither_labels(image: Any, palette: Any, *, serpentine: bool = True, strength: float = 1.0) -> np.ndarray:
    """:func:`dither`'s labels alone, the image not painted: a palette file needs nothing else."""
    flat, pal, units = _checked(image, palette, serpentine, strength)
    labels: np.ndarray = _core.dither_labels(flat, pal, bool(serpentine), units)
    return labels


def _checked(image: Any, palette: Any, serpentine: Any, strength: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """dither's arguments checked: the (H, W, C) contiguous image, the palette and the strength's units."""
    img = np.asarray(image)
    if img.dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise TypeError(f"image: expected dtype uint8 or uint16, got {img.dtype}")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"image: expected shape (H, W) or (H, W, C) with C in 1-4, got {img.shape}")
    if img.size == 0:
        raise ValueError(f"image: empty (shape {img.shape})")
    if not isinstance(serpentine, (bool, np.bool_)):
        raise TypeError(f"serpentine: expected a bool, got {type(serpentine).__name__}")
    flat = img if img.ndim == 3 else img[:, :, np.newaxis]
    stride = flat.shape[2]
    channels = stride - 1 if stride in (2, 4) else stride
    pal = _check_palette(palette, img.dtype, channels)
    return np.ascontiguousarray(flat), pal, _strength_units(strength)
