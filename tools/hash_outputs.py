"""Hashes of the outputs of a fixed set of pixclust calls, to show that a refactoring changed no bit.

k-means fits (uint8 photo pixels, float32 and float64 points, with weights; every init and algorithm),
quantizations (one count and a sweep, RGB and CIELAB, RGBA), dithers, colour conversions and linkages
(every method, float32 and float64, condensed and observation input), each with 1 and 2 threads.
Run it on the commit before a change and after it, and compare the two listings:

    python tools/hash_outputs.py > before.txt      # on the old build
    python tools/hash_outputs.py > after.txt       # on the new build
    diff before.txt after.txt                      # empty: the same bits

Each line is ``name  sha256-prefix``; the last line hashes all of them.

``--large-k`` hashes another set instead, for the large-k code paths (#20): quantize and KMeans at
k = 64, 256 and 1024 on a photo-sized image (rocket.jpg upscaled to 4000 x 3000 as
benchmarks/bench_kmeans.py does, then downscaled to 800 x 600: photo-like colours, over 100,000 distinct
ones, so that the 8-bit colour grid and k-means++'s boxes run), as uint8, uint16, float32 and float64.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

import pixclust

DATA = Path(pixclust.__file__).resolve().parent / "data"
METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]


def digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def photo() -> np.ndarray:
    from PIL import Image

    with Image.open(DATA / "chelsea.png") as im:
        return np.asarray(im.convert("RGB"))


def cases() -> list[tuple[str, Callable[[int], tuple[Any, ...]]]]:
    rng = np.random.default_rng(15)
    img = photo()
    pixels = img.reshape(-1, 3)
    rgba = np.dstack([img, (np.arange(img.shape[0] * img.shape[1]) % 251).reshape(img.shape[:2]).astype(np.uint8)])
    pts64 = rng.normal(size=(3000, 4))
    pts32 = pts64.astype(np.float32)
    weights = rng.integers(1, 9, size=3000).astype(np.float64)
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 40, 40], [40, 160, 60]], np.uint8)
    X = rng.normal(size=(700, 3))
    grid = np.round(rng.normal(size=(600, 2)) * 3)
    from scipy.spatial.distance import pdist

    out: list[tuple[str, Callable[[int], tuple[Any, ...]]]] = []

    def kmeans(name: str, data: np.ndarray, **kw: Any) -> None:
        w = kw.pop("sample_weight", None)

        def run(t: int) -> tuple[Any, ...]:
            km = pixclust.KMeans(n_threads=t, **kw).fit(data, sample_weight=w)
            return km.cluster_centers_, km.labels_, np.float64(km.inertia_), np.int64(km.n_iter_)

        out.append((name, run))

    kmeans("kmeans/photo-k8", pixels, n_clusters=8, random_state=0, n_init="auto")
    kmeans("kmeans/photo-k3-seed42", pixels, n_clusters=3, random_state=42, n_init="auto")
    kmeans("kmeans/photo-k16-ninit3", pixels, n_clusters=16, random_state=1, n_init=3)
    kmeans("kmeans/photo-k6-random", pixels, n_clusters=6, random_state=5, init="random", n_init=2)
    kmeans("kmeans/photo-k8-elkan", pixels, n_clusters=8, random_state=2, algorithm="elkan")
    kmeans("kmeans/f64-k7", pts64, n_clusters=7, random_state=3)
    kmeans("kmeans/f32-k7", pts32, n_clusters=7, random_state=3)
    kmeans("kmeans/f64-k5-weighted", pts64, n_clusters=5, random_state=4, sample_weight=weights)

    def quant(name: str, image: np.ndarray, k: Any, **kw: Any) -> None:
        def run(t: int) -> tuple[Any, ...]:
            res = pixclust.quantize(image, k, random_state=0, n_threads=t, **kw)
            res = res if isinstance(res, list) else [res]
            return tuple(x for r in res for x in (r.image, r.palette, r.centers, r.labels, r.counts, np.float64(r.inertia)))

        out.append((name, run))

    quant("quantize/photo-k8", img, 8)
    quant("quantize/photo-sweep", img, [10, 8, 6, 4, 2])
    quant("quantize/photo-lab-k6", img.astype(np.float32) / 255, 6, space="lab")
    quant("quantize/rgba-k5", rgba, 5)
    quant("quantize/rgba-alpha-k5", rgba, 5, cluster_alpha=True)
    quant("quantize/u16-k4", img.astype(np.uint16) * 257, 4)

    out.append(("dither/photo-4", lambda t: tuple(pixclust.dither(img, palette, return_labels=True))))
    out.append(("dither/photo-4-raster", lambda t: (pixclust.dither(img, palette, serpentine=False),)))
    out.append(("lab/roundtrip", lambda t: (pixclust.to_lab(img.astype(np.float64) / 255),
                                            pixclust.from_lab(pixclust.to_lab(img.astype(np.float32) / 255)))))

    for method in METHODS:
        for dtype in (np.float64, np.float32):
            y = pdist(X).astype(dtype)
            yg = pdist(grid).astype(dtype)
            tag = np.dtype(dtype).name
            out.append((f"linkage/{method}-{tag}", lambda t, y=y, m=method: (pixclust._core.linkage(y, m, n_threads=t),)))
            out.append((f"linkage/{method}-{tag}-ties", lambda t, y=yg, m=method: (pixclust._core.linkage(y, m, n_threads=t),)))
        out.append((f"linkage/{method}-observations", lambda t, m=method: (pixclust.linkage(X, m),)))
    big = pdist(rng.normal(size=(3000, 3)))
    for method in ("single", "ward", "average", "centroid"):
        out.append((f"linkage/{method}-3000", lambda t, m=method: (pixclust._core.linkage(big, m, n_threads=t),)))
    return out


def large_photo() -> np.ndarray:
    from PIL import Image

    with Image.open(DATA / "rocket.jpg") as im:
        big = im.convert("RGB").resize((4000, 3000), Image.LANCZOS)
        return np.asarray(big.resize((800, 600), Image.LANCZOS))


def large_k_cases() -> list[tuple[str, Callable[[int], tuple[Any, ...]]]]:
    img = large_photo()
    out: list[tuple[str, Callable[[int], tuple[Any, ...]]]] = []

    def quant(name: str, image: np.ndarray, k: int, **kw: Any) -> None:
        def run(t: int) -> tuple[Any, ...]:
            r = pixclust.quantize(image, k, random_state=0, n_threads=t, **kw)
            return r.image, r.palette, r.centers, r.labels, r.counts, np.float64(r.inertia)

        out.append((name, run))

    def kmeans(name: str, data: np.ndarray, k: int) -> None:
        def run(t: int) -> tuple[Any, ...]:
            km = pixclust.KMeans(n_clusters=k, random_state=1, n_threads=t).fit(data)
            return km.cluster_centers_, km.labels_, np.float64(km.inertia_), np.int64(km.n_iter_)

        out.append((name, run))

    pixels = img.reshape(-1, 3)
    for k in (64, 256, 1024):
        quant(f"large/quantize-u8-k{k}", img, k)
        kmeans(f"large/kmeans-u8-k{k}", pixels, k)
    small = img[::2, ::2]  # the per-point kernels: a quarter of the pixels keeps them quick
    for k in (64, 256, 1024):
        quant(f"large/quantize-u16-k{k}", small.astype(np.uint16) * 257, k)
        quant(f"large/quantize-f32-k{k}", small.astype(np.float32) / 255, k)
        kmeans(f"large/kmeans-f64-k{k}", small.reshape(-1, 3).astype(np.float64) / 255, k)
    quant("large/quantize-lab-k256", small.astype(np.float32) / 255, 256, space="lab")
    return out


def main() -> int:
    lines = []
    for name, run in (large_k_cases() if "--large-k" in sys.argv[1:] else cases()):
        for threads in (1, 2):
            lines.append(f"{name} threads={threads}  {digest(*run(threads))}")
    lines.append(f"all  {hashlib.sha256(chr(10).join(lines).encode()).hexdigest()[:16]}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
