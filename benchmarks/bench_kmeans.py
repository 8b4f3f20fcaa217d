"""Pixel k-means: pixclust against scikit-learn, MiniBatchKMeans, faiss, OpenCV and Pillow.

    python benchmarks/bench_kmeans.py            # the full table (about 5-10 minutes on 2 cores)
    python benchmarks/bench_kmeans.py --quick    # 0.3 MP only
    python benchmarks/bench_kmeans.py --large-k  # k = 64, 256, 1024: pixclust, Pillow and the floor
    python benchmarks/bench_kmeans.py --pngquant # 12 MP file to file at k = 256 against pngquant
                                                 # (--dither is damped: --dither-strength 0.875)

Each measurement runs in a fresh worker process (so that its peak memory, the high-water mark of the
resident set above what the loaded image already took, is its own; on Linux the mark is reset just
before the fit, through /proc/self/clear_refs); the wall time is taken inside the
worker around the fit alone, after one warm-up run on a 32-row strip (a method that runs past
TIMEOUT_S shows an infinite time). Inertia is always recomputed exactly over every pixel to the method's
final centres (palette for Pillow), so a method that samples is charged for it. Ratios are taken in the
same run: time against pixclust, inertia against scikit-learn's (medians over the seeds both ran).

The 12-MP image is a Lanczos upscale of python/pixclust/data/rocket.jpg to 4000 x 3000, the 0.3-MP one
the photo itself (640 x 427).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "python" / "pixclust" / "data" / "rocket.jpg"
KS = (2, 4, 8, 16)
# the PNG8 range (#20); scikit-learn and the other peers take minutes per fit there, so only pixclust,
# Pillow and the floor run
LARGE_KS = (64, 256, 1024)
LARGE_METHODS = ["pixclust", "pillow", "floor"]
SWEEP = (10, 8, 6, 4, 2)


def _images(cache: Path) -> dict[str, Path]:
    from PIL import Image

    out = {}
    im = Image.open(PHOTO).convert("RGB")
    for name, img in (("0.3MP", im), ("12MP", im.resize((4000, 3000), Image.LANCZOS))):
        path = cache / f"rocket_{name}.npy"
        if not path.exists():
            np.save(path, np.asarray(img))
        out[name] = path
    return out


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak_mb() -> float:
    """Resets the resident-set high-water mark to the current resident set and returns that (MB). The
    mark is not lowered otherwise: compared with a mark left by the imports and the warm-up, a fit's
    rise would be understated by however far those had gone above the resident set."""
    if sys.platform.startswith("linux"):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_mb("VmRSS:")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peak_mb() -> float:
    if sys.platform.startswith("linux"):
        return _status_mb("VmHWM:")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _exact_inertia(pixels: np.ndarray, centers: np.ndarray) -> float:
    from pixclust import _core

    _, inertia = _core.kmeans_assign(pixels, None, np.ascontiguousarray(centers, dtype=np.float64), 0)
    return float(inertia)


# -- workers: one fit each, in their own process ------------------------------------------------------


def _fit(method: str, image: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Runs one method; returns its centres (k, 3) in pixel units."""
    X = image.reshape(-1, 3)
    if method == "pixclust":
        import pixclust

        return pixclust.KMeans(k, random_state=seed, n_init="auto").fit(X).cluster_centers_
    if method == "sklearn":
        from sklearn.cluster import KMeans

        return KMeans(k, random_state=seed, n_init="auto").fit(X).cluster_centers_
    if method == "minibatch":
        from sklearn.cluster import MiniBatchKMeans

        # batch_size 4096: scikit-learn's advice for several cores (>= 256 * cores); its default of
        # 1024 takes minutes of Python-level steps on 12 MP
        return MiniBatchKMeans(k, random_state=seed, n_init="auto", batch_size=4096).fit(X).cluster_centers_
    if method in ("faiss", "faiss-full"):
        import faiss

        Xf = X.astype(np.float32)
        kw: dict[str, Any] = {"seed": seed + 1234}
        if method == "faiss-full":
            kw["max_points_per_centroid"] = len(Xf) // k + 1
        km = faiss.Kmeans(3, k, **kw)
        km.train(Xf)
        return np.asarray(km.centroids, dtype=np.float64)
    if method == "opencv":
        import cv2

        cv2.setRNGSeed(seed)
        Xf = X.astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 300, 0.1)
        _, _, centers = cv2.kmeans(Xf, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        return np.asarray(centers, dtype=np.float64)
    if method == "pillow":
        from PIL import Image

        q = Image.fromarray(image).quantize(colors=k, method=Image.Quantize.MEDIANCUT, kmeans=1)
        pal = np.asarray(q.getpalette()[: 3 * k], dtype=np.float64).reshape(-1, 3)
        return pal
    if method == "floor":
        # one plain pass over the image's bytes: the time no method can beat
        np.bitwise_xor.reduce(image.reshape(-1).view(np.uint8)[: image.size // 8 * 8].view(np.uint64))
        return np.zeros((k, 3))
    raise ValueError(method)


def _sweep(method: str, image: np.ndarray, seed: int) -> np.ndarray:
    if method == "pixclust-quantize":
        import pixclust

        res = pixclust.quantize(image, list(SWEEP), random_state=seed)
        return np.array([r.inertia for r in res])
    if method in ("pixclust", "sklearn"):  # the tutorial's loop, unchanged but for the import
        if method == "pixclust":
            from pixclust import KMeans
        else:
            from sklearn.cluster import KMeans
        data = image.reshape(-1, 3)
        out = []
        for color in SWEEP:
            kmeans = KMeans(n_clusters=color, random_state=seed, n_init="auto")
            kmeans.fit(data)
            segmented = kmeans.cluster_centers_[kmeans.labels_].astype(int).reshape(image.shape)
            del segmented
            out.append(kmeans.inertia_)
        return np.array(out)
    raise ValueError(method)


def worker(args: argparse.Namespace) -> None:
    image = np.load(args.image)
    import pixclust  # noqa: F401  (imports, and the page-in of the image, are not the method's)

    # one warm-up run on a strip of the image: lazy imports, thread pools and first-call costs are
    # nobody's fit time
    strip = np.ascontiguousarray(image[:32])
    if args.k == 0:
        _sweep(args.method, strip, args.seed)
    else:
        _fit(args.method, strip, args.k, args.seed)
    before = _reset_peak_mb()
    t0 = time.perf_counter()
    if args.k == 0:
        result = _sweep(args.method, image, args.seed)
        elapsed = time.perf_counter() - t0
        inertia = float(result.sum())
    else:
        centers = _fit(args.method, image, args.k, args.seed)
        elapsed = time.perf_counter() - t0
        inertia = float("nan") if args.method == "floor" else _exact_inertia(image.reshape(-1, 3), centers)
    peak = _peak_mb() - before
    print(json.dumps({"time": elapsed, "peak_mb": peak, "inertia": inertia}))


# -- the driver -------------------------------------------------------------------------------------


TIMEOUT_S = 240


def run_one(image: Path, method: str, k: int, seed: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", "--image", str(image), "--method", method, "--k", str(k),
           "--seed", str(seed)]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy(),
                             timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"time": float("inf"), "peak_mb": float("nan"), "inertia": float("nan")}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(image: Path, method: str, k: int, seeds: list[int]) -> dict[str, Any]:
    runs = [run_one(image, method, k, s) for s in seeds]
    return {
        "time": float(np.median([r["time"] for r in runs])),
        "peak_mb": float(max(r["peak_mb"] for r in runs)),
        "inertia": float(np.median([r["inertia"] for r in runs])),
        "by_seed": {s: r["inertia"] for s, r in zip(seeds, runs)},
        "n": len(runs),
    }


def inertia_ratio(row: dict[str, Any], sk: dict[str, Any]) -> float:
    """Median inertia over the seeds both ran, over scikit-learn's on them."""
    common = sorted(set(row["by_seed"]) & set(sk["by_seed"]))
    if not common:
        return float(row["inertia"] / sk["inertia"])
    return float(np.median([row["by_seed"][s] for s in common]) / np.median([sk["by_seed"][s] for s in common]))


# -- file to file against pngquant ------------------------------------------------------------------


def _file_errors(original: np.ndarray, path: Path) -> tuple[float, float]:
    """Mean squared colour error per pixel (summed over R, G, B) of a written image, and the same of its
    8x8-block mean colours: how well the local average colour survives, which is what dithering is for
    (an undithered palette image bands, and its block means drift from the original's)."""
    from PIL import Image

    with Image.open(path) as im:
        out = np.asarray(im.convert("RGB"), dtype=np.float64)
    h, w = (out.shape[0] // 8) * 8, (out.shape[1] // 8) * 8

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))

    return (float(np.mean(np.sum((out - original) ** 2, axis=-1))),
            float(np.mean(np.sum((blocks(out) - blocks(original)) ** 2, axis=-1))))


def pngquant_table(cache: Path, k: int = 256, repeats: int = 3) -> None:
    """pixclust's command line against pngquant, PNG file to PNG file, undithered and dithered (the
    median wall time of `repeats` runs of each, process start included; the commands take turns, so
    that a change in the machine's load falls on all of them alike)."""
    import shutil

    from PIL import Image

    if shutil.which("pngquant") is None:
        print("pngquant not found (Debian: apt-get install pngquant)")
        return
    src = cache / "rocket_12MP.png"
    original = np.load(_images(cache)["12MP"])
    if not src.exists():
        Image.fromarray(original).save(src)
    original = original.astype(np.float64)
    cli = [sys.executable, "-m", "pixclust", "quantize", "-q", "--force", "-k", str(k), str(src), "-o"]
    pq = ["pngquant", "--force", str(k), str(src), "--output"]
    rows = [("pixclust", cli), ("pngquant --nofs", pq[:1] + ["--nofs"] + pq[1:]),
            ("pixclust --dither", cli[:4] + ["--dither"] + cli[4:]),
            ("pixclust --dither-strength 1", cli[:4] + ["--dither-strength", "1"] + cli[4:]),
            ("pngquant", pq)]
    times: list[list[float]] = [[] for _ in rows]
    for _ in range(repeats):
        for i, (_, cmd) in enumerate(rows):
            t0 = time.perf_counter()
            subprocess.run(cmd + [str(cache / f"out{i}.png")], check=True, capture_output=True)
            times[i].append(time.perf_counter() - t0)
    print(f"\n12 MP PNG to PNG, k = {k}, median of {repeats}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<29} {'time s':>7} {'MSE/pixel':>10} {'8x8 MSE':>8} {'file MB':>8}")
    for i, (name, _) in enumerate(rows):
        out = cache / f"out{i}.png"
        mse, block_mse = _file_errors(original, out)
        print(f"{name:<29} {np.median(times[i]):7.3f} {mse:10.2f} {block_mse:8.3f} {out.stat().st_size / 1e6:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--image")
    parser.add_argument("--method")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="0.3 MP only")
    parser.add_argument("--size", choices=["0.3MP", "12MP"], help="one image size only")
    parser.add_argument("--ks", type=int, nargs="+", help=f"these k only (default {list(KS)})")
    parser.add_argument("--methods", nargs="+", help="these methods only (pixclust and sklearn always run)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the tutorial sweep")
    parser.add_argument("--large-k", action="store_true", help=f"k = {list(LARGE_KS)}: {', '.join(LARGE_METHODS)}")
    parser.add_argument("--pngquant", action="store_true", help="only the file-to-file table against pngquant")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.pngquant:
        cache = Path(tempfile.gettempdir()) / "pixclust_bench"
        cache.mkdir(exist_ok=True)
        pngquant_table(cache)
        return

    import pixclust

    print(f"pixclust {pixclust.__version__}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    cache = Path(tempfile.gettempdir()) / "pixclust_bench"
    cache.mkdir(exist_ok=True)
    images = _images(cache)
    sizes = ["0.3MP"] if args.quick else [args.size] if args.size else ["0.3MP", "12MP"]
    # seeds per method and size: the slow peers get fewer (the run must stay under ~10 minutes)
    seeds = {
        ("0.3MP", m): [0, 1, 2] for m in ("pixclust", "sklearn", "minibatch", "faiss", "faiss-full", "opencv")
    }
    seeds.update({("12MP", m): [0] for m in ("sklearn", "minibatch", "faiss", "faiss-full", "opencv")})
    seeds[("12MP", "pixclust")] = [0, 1, 2]
    methods = ["pixclust", "sklearn", "minibatch", "faiss", "faiss-full", "opencv", "pillow", "floor"]
    if args.methods:
        methods = [m for m in methods if m in ("pixclust", "sklearn") or m in args.methods]
    if args.large_k:
        # --methods narrows these too (pixclust always runs): Pillow alone takes about a minute a k
        large = [m for m in LARGE_METHODS if not args.methods or m == "pixclust" or m in args.methods]
        methods, args.ks, args.no_sweep = large, args.ks or list(LARGE_KS), True
    for size in sizes:
        img = images[size]
        shape = np.load(img, mmap_mode="r").shape
        print(f"\n## {size}: {shape[1]} x {shape[0]} pixels")
        for k in args.ks or KS:
            print(f"\nk = {k}")
            rows = {}
            for m in methods:
                s = seeds.get((size, m), [0])
                if size == "12MP" and m == "sklearn" and k == 8:
                    s = [0, 1, 2]  # the headline target is a median over seeds
                try:
                    rows[m] = measure(img, m, k, s)
                except subprocess.CalledProcessError as exc:
                    if m == "pixclust":
                        raise
                    # a peer that cannot run here (not installed; Pillow stops at 256 colours) is left out
                    lines = (exc.stderr or "").strip().splitlines() or ["failed"]
                    print(f"{m:<12} left out: {lines[-1]}")
            base_t = rows["pixclust"]["time"]
            ref = rows.get("sklearn", rows["pixclust"])  # without scikit-learn, inertia over pixclust's
            print(f"{'method':<12} {'seeds':>5} {'time s':>9} {'x pixclust':>11} {'peak MB':>8} "
                  f"{'inertia':>14} {'/ sklearn' if 'sklearn' in rows else '/ pixclust':>10}")
            for m, r in rows.items():
                inert = "" if m == "floor" else f"{r['inertia']:14.6g}"
                ratio_i = "" if m == "floor" else f"{inertia_ratio(r, ref):10.5f}"
                print(f"{m:<12} {r['n']:>5} {r['time']:9.4f} {r['time'] / base_t:11.2f} {r['peak_mb']:8.1f} "
                      f"{inert:>14} {ratio_i:>10}")
        if args.no_sweep:
            continue
        print(f"\ntutorial sweep k = {list(SWEEP)} (random_state=42), summed inertia")
        sweep = {m: measure(img, m, 0, [42]) for m in ("pixclust-quantize", "pixclust", "sklearn")}
        for m, r in sweep.items():
            print(f"{m:<18} {r['time']:9.4f} s   sklearn / this = {sweep['sklearn']['time'] / r['time']:7.1f}x   "
                  f"peak {r['peak_mb']:7.1f} MB   inertia / sklearn {r['inertia'] / sweep['sklearn']['inertia']:.6f}")


if __name__ == "__main__":
    main()
