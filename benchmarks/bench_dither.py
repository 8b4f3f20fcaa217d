"""Floyd-Steinberg dithering of a 12-megapixel photo onto k colours: pixclust vs Pillow.

    python benchmarks/bench_dither.py [--repeat 3]
    python benchmarks/bench_dither.py --size 400 300 --repeat 1   # a quick look

The photo is the bundled cat, Lanczos-upscaled to 4000 x 3000 (--size) (over a million distinct colours, as a
camera photo has). Palettes come from pixclust.quantize. Pillow's ``Image.quantize(palette=...,
dither=FLOYDSTEINBERG)`` is the peer: the same job (palette colour plus error diffusion), though not the
same bits (Pillow scans every row left to right and rounds differently; pixclust is serpentine). Pillow
looks colours up in a coarse cache, so it does not always pick a nearest palette colour: the last column
counts, without dithering, the pixels of the original photo it maps to a colour that is not a nearest
one (pixclust: none, by construction). Both are single-threaded. Times: best of --repeat runs, wall clock.
"""

from __future__ import annotations

import argparse
import time
from importlib.resources import files

import numpy as np
from PIL import Image

import pixclust


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, nargs=2, default=(4000, 3000), metavar=("WIDTH", "HEIGHT"))
    args = parser.parse_args()
    with Image.open(files("pixclust") / "data" / "chelsea.png") as im:
        big = im.convert("RGB").resize(tuple(args.size), Image.LANCZOS)
    img = np.asarray(big)
    print(f"image: {img.shape[1]} x {img.shape[0]} RGB uint8 ({img.shape[0] * img.shape[1] / 1e6:.2g} MP)")
    with Image.open(files("pixclust") / "data" / "chelsea.png") as im:
        small = np.asarray(im.convert("RGB"))
    print(f"{'k':>4} | {'pixclust.dither':>15} | {'Pillow quantize+FS':>18} | {'Pillow / pixclust':>17} | "
          f"{'Pillow: not nearest':>19}")
    print("-" * 86)
    for k in (2, 16, 64, 256):
        palette = pixclust.quantize(img, k, random_state=0).palette
        pal_img = Image.new("P", (1, 1))
        # Pad with copies of the first colour: Pillow searches all 256 entries.
        pal_img.putpalette(palette.reshape(-1).tolist() + palette[0].tolist() * (256 - k))
        t_ours = best(lambda: pixclust.dither(img, palette), args.repeat)
        t_pil = best(lambda: big.quantize(colors=k, palette=pal_img, dither=Image.Dither.FLOYDSTEINBERG), args.repeat)
        mapped = np.asarray(Image.fromarray(small).quantize(palette=pal_img, dither=Image.Dither.NONE)).astype(np.intp)
        mapped[mapped >= k] = 0
        d = ((small[:, :, None, :].astype(np.int64) - palette[None, None].astype(np.int64)) ** 2).sum(axis=-1)
        chosen = np.take_along_axis(d, mapped[..., None], axis=-1)[..., 0]
        not_nearest = 100.0 * float(np.mean(chosen != d.min(axis=-1)))
        print(f"{k:>4} | {t_ours:>13.3f} s | {t_pil:>16.3f} s | {t_pil / t_ours:>16.2f}x | {not_nearest:>17.1f} %")


if __name__ == "__main__":
    main()
