"""Images and animation frames for ``quantize --shared-palette``: what each input is (a still image or an
animated GIF/APNG), reading its frames in a Dask task, and writing the frames back with one palette."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pixclust._cli.errors import CLIError, reading

# The extensions a directory's images are taken from.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class Source:
    """One input: its path, its format and frames (1 for a still image), and how an animation plays."""

    path: str
    format: str
    n_frames: int = 1
    durations: list[Any] = field(default_factory=list)
    loop: Optional[int] = None

    @property
    def animated(self) -> bool:
        return self.n_frames > 1


def expand_inputs(items: list[str]) -> list[str]:
    """Files, directories (their images, sorted) and quoted globs, as absolute paths, each once."""
    paths: list[str] = []
    for item in items:
        if item == "-":
            raise CLIError("--shared-palette reads files, not standard input")
        if os.path.isdir(item):
            found = sorted(str(p) for p in Path(item).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
            if not found:
                raise CLIError(f"{item}: the directory has no images ({', '.join(IMAGE_EXTENSIONS)})")
        elif not os.path.lexists(item) and glob.has_magic(item):
            found = sorted(glob.glob(item))
            if not found:
                raise CLIError(f"{item}: no file matches")
        else:
            found = [item]
        paths.extend(os.path.abspath(p) for p in found)
    return list(dict.fromkeys(paths))


def probe(path: str) -> Source:
    """The input's format and frames, from its header (the pixels are read later, by the tasks)."""
    from PIL import Image, UnidentifiedImageError

    with reading(path, directory="is a directory, not an image"):
        try:
            with Image.open(path) as im:
                n = int(getattr(im, "n_frames", 1)) if im.format in ("GIF", "PNG") else 1
                if n == 1:
                    return Source(path, str(im.format))
                durations = []
                for i in range(n):
                    im.seek(i)
                    durations.append(im.info.get("duration", 0))
                return Source(path, str(im.format), n, durations, im.info.get("loop"))
        except (UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
            raise CLIError(f"{path}: not an image file Pillow can read ({exc})") from None


def read_frame(path: str, index: int) -> np.ndarray:
    """Frame ``index`` of an animation as RGBA (Pillow composes each frame onto the ones before)."""
    from PIL import Image

    with Image.open(path) as im:
        im.seek(index)
        return np.asarray(im.convert("RGBA"))


def read_still(path: str) -> np.ndarray:
    """A still image as 8-bit RGB or RGBA: gray is made RGB so that every input has the same colours."""
    from pixclust import _io

    image = _io.read_image(path)
    if image.dtype != np.uint8:
        raise ValueError(f"{path}: --shared-palette takes 8-bit images, this one is {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 2:
        return np.concatenate([np.repeat(image[:, :, :1], 3, axis=2), image[:, :, 1:]], axis=2)
    return image


def destination(source: Source, outdir: str, k: int) -> str:
    """OUTDIR/NAME-kK with the input's format for an animation, else .png."""
    ext = (".gif" if source.format == "GIF" else ".png") if source.animated else ".png"
    return os.path.join(outdir, f"{Path(source.path).stem}-k{k}{ext}")


def write_animation(path: str, source: Source, frames: np.ndarray, labels: np.ndarray, palette: np.ndarray,
                    force: bool) -> None:
    """The frames as an animation in the input's format, every frame indexed into the one palette (plus a
    transparent entry if any pixel is hidden), with the input's frame durations and loop count."""
    from PIL import Image

    from pixclust import _io

    k = palette.shape[0]
    hidden = (labels < 0) | (frames[..., 3] == 0)
    if np.any((frames[..., 3] != 0) & (frames[..., 3] != 255)):
        raise CLIError(f"{source.path}: partly transparent frames do not fit one palette; not supported yet")
    rgb = np.zeros((k + 1, 3), dtype=np.uint8)
    rgb[:k] = palette[:, :3]
    index = np.where(hidden, k, labels).astype(np.uint8)
    pils = []
    for frame in index:
        pil = Image.frombytes("P", (frame.shape[1], frame.shape[0]), np.ascontiguousarray(frame).tobytes())
        pil.putpalette(rgb.reshape(-1).tolist(), rawmode="RGB")
        pils.append(pil)
    options: dict[str, Any] = {"save_all": True, "append_images": pils[1:], "duration": source.durations}
    if source.loop is not None:
        options["loop"] = source.loop
    if hidden.any():
        options["transparency"] = k
        options["disposal"] = 2  # clear to transparent before each frame: a hidden pixel shows nothing
    if source.format == "GIF":
        options["optimize"] = False  # keep the one palette as it is, in every frame
    with _io.atomic_output(path, force=force) as tmp:
        pils[0].save(tmp, format=source.format, **options)
