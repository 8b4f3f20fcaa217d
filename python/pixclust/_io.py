"""Reading and writing images (Pillow) and writing any file atomically."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import numpy as np

__all__ = ["read_image", "read_image_metadata", "write_image", "atomic_output", "ImageReadError", "Metadata"]

# A paletted PNG stores one byte per pixel: at most 256 palette entries.
_PNG_PALETTE_SIZE = 256
# The formats written in palette mode, and whether they keep per-entry alpha (PNG), one transparent
# entry (GIF: alpha is cut at half), or none (TIFF: an image with alpha goes out as RGBA, which keeps it;
# BMP: composited on the background, since readers ignore a BMP's alpha).
_PALETTED_ALPHA = {"PNG": "per-entry", "GIF": "one", "TIFF": "none", "BMP": "none"}

PathLike = Union[str, "os.PathLike[str]"]


class ImageReadError(ValueError):
    """The file exists but is not an image Pillow can read (or has a mode pixclust cannot use)."""


# The EXIF tag that says how to turn the stored pixels upright (1: they are upright).
_EXIF_ORIENTATION = 0x0112
# The formats whose Pillow writer stores an ICC profile and an EXIF block.
_METADATA_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF")


# The formats written without an alpha channel: an image with alpha is composited first (Pillow writes
# no alpha in a JPEG, and a 32-bit BMP's alpha is ignored by most readers, Pillow's included).
_NO_ALPHA_FORMATS = ("JPEG", "BMP")
WHITE = (255, 255, 255)


def composite(image: np.ndarray, background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """An image with alpha (gray+alpha or RGBA) laid over an 8-bit ``background`` colour, without its
    alpha channel: ``a * colour + (1 - a) * background`` per pixel, a the opacity in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust._io import composite
    >>> composite(np.array([[[255, 0, 0, 0], [255, 0, 0, 255], [0, 0, 0, 51]]], np.uint8)).tolist()
    [[[255, 255, 255], [255, 0, 0], [204, 204, 204]]]
    """
    full = float(np.iinfo(image.dtype).max) if image.dtype.kind == "u" else 1.0
    bg = np.asarray(background, dtype=np.float64) / 255.0 * full
    if image.shape[2] == 2:  # a gray background: its luma (ITU-R 601, as Pillow's "L")
        bg = np.array([bg @ [0.299, 0.587, 0.114]])
    a = image[..., -1:].astype(np.float64) / full
    out = image[..., :-1].astype(np.float64) * a + bg * (1.0 - a)
    if image.dtype.kind == "u":
        return np.clip(np.rint(out), 0, full).astype(image.dtype)
    return out.astype(image.dtype)


@dataclass(frozen=True)
class Metadata:
    """What an image file says about its pixels beyond their values: the ICC colour profile and the
    EXIF block (its orientation tag reset to 1, since :func:`read_image` has already turned the
    pixels upright). Either is None when the file has none."""

    icc_profile: Optional[bytes] = None
    exif: Optional[bytes] = None


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is in the test environment
        raise ImportError("reading and writing images needs Pillow: pip install pixclust[image]") from exc
    return Image


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file into an array the way pixclust uses it.

    JPEG, PNG, TIFF, BMP, WebP, GIF... whatever Pillow reads. The EXIF orientation is applied.

    ======================================  ==========================================
    file                                    array
    ======================================  ==========================================
    RGB (JPEG, PNG, TIFF)                   (H, W, 3) uint8
    RGB with alpha, or palette + tRNS       (H, W, 4) uint8
    8-bit grayscale, 1-bit                  (H, W) uint8
    grayscale with alpha                    (H, W, 2) uint8
    16-bit grayscale PNG/TIFF (I;16)        (H, W) uint16
    float TIFF (F), values in [0, 1]        (H, W) float32, as they are
    32-bit, whole numbers in 0-65535        (H, W) uint16
    CMYK, YCbCr, LAB, HSV                   converted to (H, W, 3) uint8 RGB
    ======================================  ==========================================

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        As ``open`` does.
    ImageReadError
        Not an image, a truncated one, or a 32-bit image whose values are neither in [0, 1] (float) nor
        whole numbers in 0-65535.

    Examples
    --------
    >>> from importlib.resources import files
    >>> from pixclust._io import read_image
    >>> img = read_image(files("pixclust") / "data" / "chelsea.png")
    >>> img.shape, img.dtype
    ((300, 451, 3), dtype('uint8'))
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:  # OSErrors (missing, directory, permission) surface as they are
        return read_image_file(fh, path)


def read_image_metadata(path: PathLike) -> tuple[np.ndarray, Metadata]:
    """:func:`read_image`, and the file's ICC profile and EXIF block (to write them back out).

    Examples
    --------
    >>> from importlib.resources import files
    >>> from pixclust._io import read_image_metadata
    >>> img, meta = read_image_metadata(files("pixclust") / "data" / "chelsea.png")
    >>> img.shape, meta.icc_profile[36:40], meta.exif[:4]  # an sRGB profile ("acsp": ICC's signature)
    ((300, 451, 3), b'acsp', b'Exif')
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        return read_image_file_metadata(fh, path)


def read_metadata(path: PathLike) -> Metadata:
    """The file's :class:`Metadata` alone, read from its header (the pixels are not decoded)."""
    Image = _pillow()
    with Image.open(os.fspath(path)) as im:
        return _metadata(im)


def read_image_file(fh: Any, name: str) -> np.ndarray:
    """:func:`read_image` from an open binary file (seekable: a pipe's bytes go through ``io.BytesIO``);
    ``name`` is what error messages call it. The format is taken from the data."""
    return read_image_file_metadata(fh, name)[0]


def read_image_file_metadata(fh: Any, name: str) -> tuple[np.ndarray, Metadata]:
    """:func:`read_image_file`, and the file's :class:`Metadata`."""
    Image = _pillow()
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with Image.open(fh) as im:
            im.load()
            meta = _metadata(im)
            try:
                # in place: an upright image is not copied (without, Pillow returns a 12-MP copy of it)
                ImageOps.exif_transpose(im, in_place=True)
            except Exception:  # a broken EXIF block must not make the pixels unreadable
                pass
            return _to_array(im, name), meta
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageReadError):
            raise
        raise ImageReadError(f"{name}: cannot decode the image ({exc})") from None


def _metadata(im: Any) -> Metadata:
    icc = im.info.get("icc_profile") or None
    exif = None
    try:
        from PIL import Image

        # A copy: the image's own EXIF must keep its orientation until exif_transpose has read it.
        tags = Image.Exif()
        tags.load(im.getexif().tobytes())
        if len(tags):
            if _EXIF_ORIENTATION in tags:
                tags[_EXIF_ORIENTATION] = 1  # the pixels are turned upright on reading
            exif = tags.tobytes()
    except Exception:  # a broken EXIF block is dropped, not fatal
        exif = None
    return Metadata(icc_profile=icc, exif=exif)


def _to_array(im: Any, path: str) -> np.ndarray:
    a: np.ndarray
    mode = im.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        a = np.array(im)
    elif mode == "1":
        a = np.array(im.convert("L"))
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        a = np.array(im.convert("RGBA" if has_alpha else "RGB"))
    elif mode.startswith("I;16"):
        a = np.asarray(im).astype(np.uint16)
    elif mode in ("I", "F"):
        raw = np.asarray(im)
        kind = "a 32-bit float (F-mode)" if mode == "F" else "a 32-bit integer (I-mode)"
        if not np.all(np.isfinite(raw)):
            raise ImageReadError(f"{path}: {kind} image with NaN or infinite values is not supported")
        lo, hi = raw.min(), raw.max()
        if mode == "F" and lo >= 0 and hi <= 1:
            # float pixels in [0, 1] are intensities, as matplotlib's imread gives them
            a = np.array(raw, dtype=np.float32)
        elif lo >= 0 and hi <= 65535 and (mode == "I" or bool(np.all(raw == np.round(raw)))):
            a = raw.astype(np.uint16)
        else:
            expected = "values in [0, 1] or whole numbers in 0-65535" if mode == "F" else "values in 0-65535"
            raise ImageReadError(
                f"{path}: {kind} image with values from {lo:g} to {hi:g} is not supported (expected "
                f"{expected}); convert it to 8 or 16 bits"
            )
    elif mode in ("RGBa", "La"):
        a = np.array(im.convert("RGBA" if mode == "RGBa" else "LA"))
    else:
        a = np.array(im.convert("RGB"))
    return a


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: PathLike, *, force: bool = False) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary file lives in the target directory, so the final ``os.replace`` is atomic: a reader
    sees the old file or the complete new one, never part of one, and a failure (an exception, Ctrl-C)
    leaves nothing behind. An existing ``path`` is replaced only with ``force=True``.

    Examples
    --------
    >>> import os, tempfile
    >>> from pixclust._io import atomic_output
    >>> d = tempfile.mkdtemp()
    >>> with atomic_output(os.path.join(d, "a.txt")) as tmp:
    ...     with open(tmp, "w") as f:
    ...         _ = f.write("hello")
    >>> os.listdir(d)
    ['a.txt']
    """
    target = Path(os.fspath(path))
    if target.exists() and not force:
        raise FileExistsError(f"{target}: already exists (use --force to replace it)")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part" + target.suffix, dir=directory)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot create a file in {directory} ({exc.strerror})", str(target)) from None
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file 0600; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _pil_format(path: PathLike) -> str:
    Image = _pillow()
    ext = Path(os.fspath(path)).suffix.lower()
    # PNG, JPEG, BMP and GIF are known without loading all of Pillow's plugins (registered_extensions)
    Image.preinit()
    fmt = Image.EXTENSION.get(ext) or Image.registered_extensions().get(ext)
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(f"{os.fspath(path)}: cannot write {ext or 'files without an extension'!r}; use .png, .jpg, .tif, .bmp, .gif or .webp")
    return str(fmt)


def check_writable_image_path(path: PathLike) -> None:
    """Raise ValueError if Pillow cannot write this extension (checked before any work is done)."""
    _pil_format(path)


def holds_metadata(path: PathLike) -> bool:
    """Whether :func:`write_image` stores an ICC profile and EXIF in this format (not in GIF or BMP)."""
    return _pil_format(path) in _METADATA_FORMATS


def write_image(
    path: PathLike,
    image: Optional[np.ndarray],
    *,
    labels: Optional[np.ndarray] = None,
    palette: Optional[np.ndarray] = None,
    force: bool = False,
    metadata: Optional[Metadata] = None,
    background: tuple[int, int, int] = WHITE,
    lossless: bool = False,
    png_level: Optional[int] = None,
) -> None:
    """Write an image atomically; a PNG of a palette image is written as a paletted PNG.

    Parameters
    ----------
    path : str or path
        The format follows the extension.
    image : ndarray of shape (H, W) or (H, W, C), uint8 or uint16; or (H, W) float in [0, 1]
        A float image is written as it is to TIFF (32-bit float), as 16-bit grayscale to PNG, and as
        8-bit grayscale to formats without 16 bits. None: the image is ``palette[labels]`` (both given),
        which a palette file holds without the pixels being painted first.
    labels, palette : ndarray, optional
        The (H, W) palette indices and the (k, c) uint8 palette of ``image``. When both are given, k <= 256
        and the file is a PNG, GIF, TIFF or BMP, it is written in palette mode, so the file itself holds
        at most k colours and is small. Alpha: a PNG keeps it per palette entry; a GIF has one
        transparent entry (pixels under half opacity); a TIFF with alpha is written as RGBA; a BMP is
        composited on ``background``. (Grayscale is written as 8- or 16-bit grayscale, which holds
        exactly the image's gray levels and reads back as grayscale.)
    force : bool
        Replace an existing file.
    metadata : Metadata, optional
        The ICC profile and EXIF block to store (PNG, JPEG, WebP and TIFF; other formats have no place
        for them).
    background : (r, g, b), 8-bit, default white
        What an image with alpha is composited on for a format without alpha (JPEG, BMP): a pixel of
        opacity a shows ``a * colour + (1 - a) * background``, so a fully transparent one shows the
        background, never the colour it hid.
    lossless : bool
        Write a WebP losslessly (a lossy WebP of a k-colour image blurs it into thousands of colours).
    png_level : int, optional
        zlib's level (0-9) for a PNG over 2 megapixels (default 6; smaller ones get Pillow's ``optimize``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from pixclust._io import read_image, write_image
    >>> img = np.zeros((2, 3, 3), dtype=np.uint8); img[0] = 255
    >>> p = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> write_image(p, img)
    >>> bool((read_image(p) == img).all())
    True
    """
    fmt = _pil_format(path)
    pil, options = _encoder(image, labels, palette, fmt, metadata, background, lossless, png_level)
    with atomic_output(path, force=force) as tmp:
        pil.save(tmp, format=fmt, **options)


def encode_image(image: Optional[np.ndarray], *, labels: Optional[np.ndarray] = None, palette: Optional[np.ndarray] = None,
                 ext: str = ".png", metadata: Optional[Metadata] = None,
                 background: tuple[int, int, int] = WHITE, lossless: bool = False,
                 png_level: Optional[int] = None) -> bytes:
    """The bytes :func:`write_image` would write to a file with extension ``ext`` (for a pipe)."""
    fmt = _pil_format(f"image{ext}")
    pil, options = _encoder(image, labels, palette, fmt, metadata, background, lossless, png_level)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **options)
    return buf.getvalue()


def _encoder(image: Optional[np.ndarray], labels: Optional[np.ndarray], palette: Optional[np.ndarray], fmt: str,
             metadata: Optional[Metadata] = None,
             background: tuple[int, int, int] = (255, 255, 255), lossless: bool = False,
             png_level: Optional[int] = None) -> tuple[Any, dict[str, Any]]:
    """The Pillow image to save in format ``fmt``, and the save options."""
    Image = _pillow()
    if image is None:
        if labels is None or palette is None:
            raise ValueError("image: None needs labels and palette (the image is palette[labels])")
        if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= palette.shape[0]):
            raise ValueError("labels: with image None every label must be a row of palette")
        pil = _palette_only(Image, labels, palette, fmt)
        if pil is None:
            image = np.take(palette, labels, axis=0)
    if image is not None:
        if image.ndim == 3 and image.shape[2] in (2, 4):
            image, labels, palette = _alpha_for(fmt, image, labels, palette, background)
        pil = _to_pil(Image, image, labels, palette, fmt)
    if fmt == "JPEG" and pil.mode not in ("RGB", "L"):
        pil = pil.convert("RGBA" if pil.mode == "P" and "transparency" in pil.info else pil.mode)
        pil = pil.convert("RGB") if pil.mode in ("RGBA", "P", "LA") else pil.convert("L")
    # PNG "optimize" (the best zlib settings) is worth it for small files and far too slow for large ones.
    small = pil.size[0] * pil.size[1] <= 2_000_000
    level = 6 if png_level is None else png_level
    options: dict[str, Any] = ({"optimize": True} if small else {"compress_level": level}) if fmt == "PNG" else {}
    if fmt == "JPEG":
        options = {"quality": 95}
    if fmt == "WEBP":
        options = {"lossless": True, "quality": 100, "method": 6} if lossless else {"quality": 95}
    if metadata is not None and fmt in _METADATA_FORMATS:
        if metadata.icc_profile:
            options["icc_profile"] = metadata.icc_profile
        if metadata.exif:
            options["exif"] = metadata.exif
    return pil, options


def _alpha_for(fmt: str, image: np.ndarray, labels: Optional[np.ndarray], palette: Optional[np.ndarray],
               background: tuple[int, int, int]) -> tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """An image with alpha (and its labels and palette) as format ``fmt`` can hold it: composited on
    ``background`` for a format without alpha (the palette composited entry by entry, so a BMP stays
    paletted), cut at half opacity for GIF (one transparent entry), as it is for the others."""
    if fmt == "GIF":
        return _gif_alpha(image, labels, palette)
    if fmt not in _NO_ALPHA_FORMATS:
        return image, labels, palette
    flat = composite(image, background)
    if fmt not in _PALETTED_ALPHA or labels is None or palette is None or image.shape[2] != 4 or image.dtype != np.uint8:
        return flat, None, None
    pairs, index = _alpha_pairs(image, labels)
    if pairs.size > _PNG_PALETTE_SIZE:
        return flat, None, None
    entries = np.zeros((1, pairs.size, 4), dtype=np.uint8)  # (colour, alpha) per entry; hidden: alpha 0
    seen = pairs >= 0
    entries[0, seen, :3] = palette[pairs[seen] // 256, :3]  # a clustered alpha column is the pairs' alpha
    entries[0, seen, 3] = pairs[seen] % 256
    return flat, index, composite(entries, background)[0]


def _gif_alpha(image: np.ndarray, labels: Optional[np.ndarray],
               palette: Optional[np.ndarray]) -> tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """A GIF has one transparent palette entry: pixels under half opacity become transparent black,
    the others opaque (ImageMagick's cut); gray+alpha becomes RGBA, a GIF palette being RGB."""
    if image.shape[2] == 2:
        image = image[..., [0, 0, 0, 1]]
        palette = None if palette is None else np.ascontiguousarray(palette[:, [0, 0, 0]])
    full = np.iinfo(image.dtype).max if image.dtype.kind == "u" else 1.0
    hidden = image[..., 3] < full / 2
    image = image.copy()
    image[hidden] = 0
    image[~hidden, 3] = full
    return image, labels, palette


def _alpha_pairs(image: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (label, alpha) pairs of an RGBA image as numbers ``label * 256 + alpha`` (-1 for
    every fully transparent pixel, whatever its label: -1, left out of the clustering, or any), and
    each pixel's index into them."""
    alpha_px = image[..., 3]
    key = np.where(alpha_px == 0, -1, labels.astype(np.int64) * 256 + alpha_px)
    pairs, inverse = np.unique(key.ravel(), return_inverse=True)
    return pairs, inverse.reshape(labels.shape)


def _to_pil(Image: Any, image: np.ndarray, labels: Optional[np.ndarray], palette: Optional[np.ndarray], fmt: str) -> Any:
    a = np.ascontiguousarray(image)
    channels = 1 if a.ndim == 2 else a.shape[2]
    if a.dtype.kind == "f":
        if channels != 1:
            raise ValueError("float colour images cannot be written by Pillow; only float grayscale")
        a = a.reshape(a.shape[0], a.shape[1])
        if fmt == "TIFF":
            return Image.fromarray(a.astype(np.float32))
        a = np.clip(a.astype(np.float64), 0.0, 1.0)
        if fmt == "PNG":
            a = np.rint(a * 65535.0).astype(np.uint16)
        else:
            a = np.rint(a * 255.0).astype(np.uint8)
        channels = 1
    if (
        fmt in _PALETTED_ALPHA
        and labels is not None
        and palette is not None
        and a.dtype == np.uint8
        and palette.shape[0] <= _PNG_PALETTE_SIZE
        and (channels == 3 or (channels == 4 and _PALETTED_ALPHA[fmt] != "none"))
    ):
        p = _paletted(Image, a, labels, palette, fmt)
        if p is not None:
            return p
    if a.dtype == np.uint16:
        if channels != 1 and not (a.ndim == 3 and channels == 1):
            raise ValueError("16-bit colour images cannot be written by Pillow; only 16-bit grayscale")
        h, w = a.shape[:2]
        return Image.frombytes("I;16", (w, h), a.astype("<u2").tobytes())
    if a.ndim == 3 and channels == 1:
        a = a[:, :, 0]
    return Image.fromarray(a)


def _paletted(Image: Any, image: np.ndarray, labels: np.ndarray, palette: np.ndarray, fmt: str = "PNG") -> Any:
    k = palette.shape[0]
    c = palette.shape[1]
    if image.ndim == 3 and image.shape[2] == 4:
        # Alpha is kept per pixel; a palette PNG has one alpha per entry, so the entries are the
        # distinct (colour, alpha) pairs, every fully transparent pixel sharing one. Too many pairs:
        # fall back to RGBA.
        pairs, inverse = _alpha_pairs(image, labels)
        if pairs.size > _PNG_PALETTE_SIZE:
            return None
        seen = pairs >= 0
        rgb = np.zeros((pairs.size, 3), dtype=np.uint8)  # the transparent entry is transparent black
        # RGB of each pair's entry (a fourth, clustered alpha column is the pixels' alpha, in the pairs)
        rgb[seen] = palette[pairs[seen] // 256, :3]
        alpha = np.where(seen, pairs % 256, 0).astype(np.uint8)
        index = inverse.astype(np.uint8)
        height, width = labels.shape[:2]
        pil = Image.frombytes("P", (width, height), index.tobytes())
        pil.putpalette(rgb.reshape(-1).tolist(), rawmode="RGB")
        if fmt == "GIF":
            # One transparent entry at most; partly transparent pixels do not fit: RGBA, as Pillow writes it
            if np.any((alpha != 0) & (alpha != 255)) or np.count_nonzero(alpha == 0) > 1:
                return None
            if np.any(alpha == 0):
                pil.info["transparency"] = int(np.flatnonzero(alpha == 0)[0])
        elif np.any(alpha != 255):
            pil.info["transparency"] = bytes(alpha.tolist())
        return pil
    return _palette_pil(Image, labels, palette.astype(np.uint8).reshape(k, c))


def _palette_pil(Image: Any, labels: np.ndarray, colours: np.ndarray) -> Any:
    # Pillow reads the index map through the buffer protocol: no bytes copy of a 12-MP map in between
    index = np.ascontiguousarray(labels, dtype=np.uint8)
    pil = Image.frombytes("P", (labels.shape[1], labels.shape[0]), index)
    pil.putpalette(colours.reshape(-1).tolist(), rawmode="RGB")
    return pil


def _palette_only(Image: Any, labels: np.ndarray, palette: np.ndarray, fmt: str) -> Any:
    """The palette image of an RGB ``palette[labels]`` where ``fmt`` holds one (as :func:`_to_pil` makes
    it from the pixels), else None: the caller paints the pixels."""
    if (fmt in _PALETTED_ALPHA and labels.ndim == 2 and palette.ndim == 2 and palette.shape[1] == 3
            and palette.dtype == np.uint8 and palette.shape[0] <= _PNG_PALETTE_SIZE):
        return _palette_pil(Image, labels, palette)
    return None


def save_figure(fig: Any, path: PathLike, *, force: bool = False, dpi: Optional[float] = None, tight: bool = True,
                title: Optional[str] = None) -> None:
    """Save a matplotlib figure atomically (format from the extension).

    ``tight`` crops the figure to what is drawn (a few pixels of margin); without it the file has the
    figure's own size. ``title`` goes into the file's metadata (PNG, PDF and SVG).
    """
    fmt = Path(os.fspath(path)).suffix.lower().lstrip(".")
    options = _figure_options(fig, fmt, os.fspath(path), tight, title)
    with atomic_output(path, force=force) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, **options)


def figure_bytes(fig: Any, fmt: str, *, dpi: Optional[float] = None, tight: bool = True,
                 title: Optional[str] = None) -> bytes:
    """The bytes :func:`save_figure` would write to a file of format ``fmt`` ("png", "svg"...: for a pipe)."""
    options = _figure_options(fig, fmt, f"--format {fmt}", tight, title)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, **options)
    return buf.getvalue()


def _figure_options(fig: Any, fmt: str, name: str, tight: bool, title: Optional[str]) -> dict[str, Any]:
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"{name}: cannot save a figure as {fmt or 'a file without an extension'!r}; use one of " + ", ".join(sorted(supported)))
    options: dict[str, Any] = {"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}
    if title and fmt in ("png", "pdf", "svg"):
        options["metadata"] = {"Title": title}
    return options
