"""k-means of a synthetic photo collection on a 2-worker Dask LocalCluster: pixclust.dask beside dask-ml.

    python benchmarks/bench_dask.py [--mp 25] [--daskml-mp 4] [--k 16] [--n-init 3]

The collection is built lazily on the workers (nothing on disk): frames of 1 megapixel (1000 x 1000 RGB)
cut from the bundled photos, scaled, shifted and with Gaussian noise (sigma 4), so that the colours are
many (about a million distinct at 25 MP). Each method runs on a fresh LocalCluster (two worker processes,
one thread each), so that each worker's peak RSS (``getrusage``'s ``ru_maxrss``) is its own:

- ``pixclust.dask.KMeans(k, n_init)``: chunk colour lists merged on the workers, the exact weighted fit on
  the client (inertia over every pixel);
- ``dask_ml.cluster.KMeans(k)`` (k-means|| start) on the same pixels as float64, when dask-ml is installed
  (``pip install dask-ml``); it is slow, so it runs on ``--daskml-mp`` megapixels, and pixclust.dask is
  run on that size too for the ratio;
- in-memory ``pixclust.KMeans(k, n_init)`` on the computed pixels (the engine's overhead);
- ``pixclust.dask.quantize(frames, k)`` with the images painted and reduced on the workers.

The client's peak is tracemalloc's (numpy's buffers are traced) during the fit, and the merged colour list's
size is printed: what the client holds. Times are wall clock, one run each (the machine is shared).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from importlib.resources import files
from typing import Any, Callable

import numpy as np

SIDE = 1000


def _frame(i: int) -> np.ndarray:
    """Frame i: one of the bundled photos, scaled by 1-1.6, shifted, with noise; 1000 x 1000 x 3, uint8."""
    from PIL import Image

    name = ("chelsea.png", "rocket.jpg")[i % 2]
    with Image.open(files("pixclust") / "data" / name) as im:
        scale = 1.0 + 0.15 * (i % 5)
        size = int(SIDE * scale) + 64
        big = np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC))
    dy, dx = (37 * i) % 64, (53 * i) % 64
    crop = big[dy:dy + SIDE, dx:dx + SIDE].astype(np.float64)
    noise = np.random.default_rng(i).normal(0.0, 4.0, crop.shape)
    return np.clip(np.rint(crop + noise), 0, 255).astype(np.uint8)


def _frame_block(block_info: Any = None) -> np.ndarray:
    return _frame(block_info[None]["chunk-location"][0])[None]


def frames(mp: int) -> Any:
    import dask.array as da

    return da.map_blocks(_frame_block, dtype=np.uint8, chunks=((1,) * mp, (SIDE,), (SIDE,), (3,)),
                         meta=np.empty((0, 0, 0, 0), np.uint8))


def pixels(mp: int) -> Any:
    return frames(mp).reshape(-1, 3)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset at exec, unlike getrusage's ru_maxrss)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _inertia_of(X: Any, centers: np.ndarray) -> float:
    """The inertia of ``centers`` on every row of X, measured alike for every method (the C++ assignment)."""
    from pixclust import _core

    def block(b: np.ndarray) -> np.ndarray:
        return np.array([_core.kmeans_assign(np.ascontiguousarray(b), None, centers, 1)[1]])

    return float(X.map_blocks(block, dtype=np.float64, drop_axis=1, chunks=((1,) * X.numblocks[0],)).sum().compute())


def on_cluster(data: Callable[[], Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """fn(X) on a fresh 2-worker LocalCluster, X = data() persisted first: the wall time of fn, the inertia
    of the centres it returns, each worker's peak memory and the client's traced peak."""
    import dask
    import distributed

    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  memory_limit="6GiB") as lc, distributed.Client(lc) as client, \
            dask.config.set(scheduler=client):
        for name in ("pixclust.dask", "sklearn.cluster"):  # imports out of the timing, here and on the workers
            __import__(name)
            client.run(__import__, name)
        X = data().persist()
        distributed.wait(X)
        tracemalloc.start()
        t = time.perf_counter()
        centers, extra = fn(X)
        wall = time.perf_counter() - t
        client_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        workers = sorted(client.run(_peak_rss_mb).values())
        inertia = _inertia_of(X.reshape(-1, X.shape[-1]), centers)
    return {"wall": wall, "inertia": inertia, "extra": extra, "workers": workers, "client": client_peak}


def fit_pixclust(X: Any, k: int, n_init: int) -> Any:
    import pixclust.dask

    km = pixclust.dask.KMeans(n_clusters=k, n_init=n_init, random_state=0).fit(X)
    return km._centers64, float(km.inertia_)


def fit_daskml(X: Any, k: int) -> Any:
    from dask_ml.cluster import KMeans

    km = KMeans(n_clusters=k, random_state=0).fit(X.astype(np.float64))
    return np.asarray(km.cluster_centers_, dtype=np.float64), float(km.inertia_)


def quantize_frames(X: Any, k: int) -> Any:
    import pixclust.dask

    res = pixclust.dask.quantize(X, k, random_state=0)
    # the painted frames reduced on the workers: every frame is painted, none comes back whole
    checksum = int(res.images.astype(np.int64).sum().compute())
    return res.centers, checksum


def count_colors(X: Any) -> Any:
    import pixclust.dask

    colors, counts = pixclust.dask.color_counts(X)
    return np.zeros((1, 3)), len(colors)


def in_memory(mp: int, k: int, n_init: int) -> dict[str, Any]:
    import dask

    import pixclust

    with dask.config.set(scheduler="threads"):
        X = np.ascontiguousarray(pixels(mp).compute())
    t = time.perf_counter()
    km = pixclust.KMeans(n_clusters=k, n_init=n_init, random_state=0).fit(X)
    wall = time.perf_counter() - t
    return {"wall": wall, "inertia": float(km.inertia_), "workers": [], "client": X.nbytes / 2**20}


def row(name: str, mp: int, r: dict[str, Any], base: dict[str, Any]) -> str:
    workers = " / ".join(f"{w:.0f}" for w in r["workers"]) or "-"
    return (f"{name:<34} {mp:>4} {r['wall']:>9.2f} {r['wall'] / base['wall']:>8.2f}x {r['inertia']:>14.6g} "
            f"{r['inertia'] / base['inertia']:>9.5f} {workers:>13} {r['client']:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mp", type=int, default=25, help="megapixels of the main collection (default 25)")
    parser.add_argument("--daskml-mp", type=int, default=4, help="megapixels for dask-ml (0: skip; default 4)")
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--n-init", type=int, default=3)
    args = parser.parse_args()
    k, n_init = args.k, args.n_init
    print(f"{'method':<34} {'MP':>4} {'wall s':>9} {'vs first':>9} {'inertia':>14} {'vs first':>9} "
          f"{'worker MB':>13} {'client MB':>9}")
    if args.daskml_mp:
        mp = args.daskml_mp
        small = on_cluster(lambda: pixels(mp), lambda X: fit_pixclust(X, k, n_init))
        print(row("pixclust.dask.KMeans", mp, small, small))
        try:
            import dask_ml  # noqa: F401
        except ImportError:
            print("dask-ml: not installed (pip install dask-ml)")
        else:
            print(row("dask_ml.cluster.KMeans (k-means||)", mp, on_cluster(lambda: pixels(mp), lambda X: fit_daskml(X, k)),
                      small))
    mp = args.mp
    big = on_cluster(lambda: pixels(mp), lambda X: fit_pixclust(X, k, n_init))
    print(row("pixclust.dask.KMeans", mp, big, big))
    print(row("pixclust.KMeans (in memory)", mp, in_memory(mp, k, n_init), big))
    print(row("pixclust.dask.quantize (+ paint)", mp, on_cluster(lambda: frames(mp), lambda X: quantize_frames(X, k)), big))
    counted = on_cluster(lambda: pixels(mp), count_colors)
    counted["inertia"] = float("nan")
    print(row("pixclust.dask.color_counts", mp, counted, big))
    n_colors = counted["extra"]
    print(f"\nworker MB: each worker process's peak resident memory (VmHWM), the persisted pixels included; client MB:"
          f" tracemalloc's peak in the client during the call (in memory: the pixels). inertia: of each method's "
          f"centres on every pixel, measured alike. The merged list the client holds: {n_colors:,} colours, "
          f"{n_colors * 11 / 2**20:.1f} MB as colours (3 B) and counts (8 B).")


if __name__ == "__main__":
    main()
