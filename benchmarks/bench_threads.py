"""Thread scaling, and the same bits at every thread count: k-means and linkage at explicit n_threads.

    python benchmarks/bench_threads.py                          # 1, 2, 4, 8, 16 threads, n = 20,000
    python benchmarks/bench_threads.py --threads 1 2 --n 5000   # a quick look on a small machine

For a many-core machine (the 2-core development machines show little). k-means: the bundled rocket
photo Lanczos-upscaled to 12 MP, k = 8, seed 0, best of 3 fits. Linkage: n standard-normal points in
8-D, every method, overwrite mode on a fresh copy of the condensed matrix, one run each. Every result is
compared bit for bit with the first thread count's; then the default thread count's linkage matrices
are compared with SciPy's at n = 4,000. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import os
import time
from importlib.resources import files

import numpy as np
from PIL import Image

import pixclust
from pixclust import _core

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--n", type=int, default=20000, help="points for linkage")
    args = parser.parse_args()
    print(f"pixclust {pixclust.__version__}, {os.cpu_count()} CPUs", flush=True)

    with (files("pixclust") / "data" / "rocket.jpg").open("rb") as f:
        img = Image.open(f).convert("RGB").resize((4000, 3000), Image.LANCZOS)
    X = np.asarray(img).reshape(-1, 3)
    first = None
    for t in args.threads:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            km = pixclust.KMeans(8, random_state=0, n_init="auto", n_threads=t).fit(X)
            best = min(best, time.perf_counter() - start)
        bits = (km.labels_.tobytes(), km.cluster_centers_.tobytes(), float(km.inertia_).hex(), km.n_iter_)
        first = first or bits
        print(f"kmeans 12MP k=8 threads={t:2d} best of 3 {best:.4f} s, same bits: {bits == first}", flush=True)

    y0 = _core.pdist_euclidean(np.random.default_rng(args.n).standard_normal((args.n, 8)))
    for method in METHODS:
        ref = None
        for t in args.threads:
            y = y0.copy()
            start = time.perf_counter()
            Z = _core.linkage(y, method, overwrite_input=True, n_threads=t)
            seconds = time.perf_counter() - start
            ref = ref or Z.tobytes()
            print(f"linkage n={args.n} {method:8s} threads={t:2d} {seconds:.3f} s, same bits: {Z.tobytes() == ref}",
                  flush=True)

    from scipy.cluster.hierarchy import linkage as scipy_linkage

    P = np.random.default_rng(5).standard_normal((4000, 8))
    for method in METHODS:
        same = pixclust.linkage(P, method).tobytes() == scipy_linkage(P, method).tobytes()
        print(f"scipy n=4000 {method:8s} default threads: same bits as SciPy: {same}", flush=True)


if __name__ == "__main__":
    main()
