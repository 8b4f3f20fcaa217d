"""pixclust.linkage_vector against fastcluster.linkage_vector and SciPy: time and peak memory.

    python benchmarks/bench_linkage_vector.py                          # n = 10^4 and 10^5, 3-D and 16-D
    python benchmarks/bench_linkage_vector.py --sizes 10000 --dims 3   # a quick look
    python benchmarks/bench_linkage_vector.py --million                # adds n = 10^6, single only
    python benchmarks/bench_linkage_vector.py --palette-tree           # pixclust.palette_tree, 12-MP photo
    python benchmarks/bench_linkage_vector.py --palette-tree --noise 16  # the same with over 10^6 colours

Points are standard normal, saved once; every measurement runs in a fresh subprocess that loads them,
so that one library's allocations cannot flatter or burden the next. Peak memory is the resident-set
high-water mark during the call (VmHWM, reset just before it through /proc/self/clear_refs) minus the
resident set just before it (Linux only). SciPy needs the condensed matrix (8 n(n-1)/2 bytes): it runs
only where that is below --scipy-max-bytes (n = 10^4 by default); fastcluster is quadratic and runs up
to --fastcluster-max-n; quitefastmst (its minimum spanning tree, without the sort into a linkage
matrix) runs for single linkage only; "-" marks a run left out.

--palette-tree times pixclust.palette_tree (Ward over every distinct colour, weighted by its pixel count)
on the 4000x3000 Lanczos upscale of rocket.jpg that bench_kmeans.py uses (552,764 colours), and on
copies with seeded uniform noise of +-A per channel (--noise A; A = 16 gives 1,164,334 colours): time,
its CPU time (all threads: on a shared machine the steadier number), the rise of the resident set
during the call and its high-water mark, and the number of colours.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

METHODS = ["single", "ward", "centroid", "median"]
LIBRARIES = ["pixclust", "fastcluster", "quitefastmst", "scipy"]

# Both children's preamble: the resident-set figures of /proc/self/status, in KiB.
STATUS = r"""
import json, sys, time
import numpy as np

def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])

"""

CHILD = STATUS + r"""
library, method, path = sys.argv[1:4]
X = np.load(path)
if library == "pixclust":
    import pixclust
    run = lambda: pixclust.linkage_vector(X, method)
elif library == "fastcluster":
    import fastcluster
    run = lambda: fastcluster.linkage_vector(X, method)
elif library == "quitefastmst":
    import quitefastmst  # the Euclidean minimum spanning tree only: single linkage before its sort
    run = lambda: quitefastmst.mst_euclid(X)
else:
    from scipy.cluster import hierarchy
    run = lambda: hierarchy.linkage(X, method)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status_kib("VmRSS:")
t0, c0 = time.perf_counter(), time.process_time()
Z = run()
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": (status_kib("VmHWM:") - before) / 1024}))
"""


PALETTE_CHILD = STATUS + r"""
import pixclust
path, noise = sys.argv[1], int(sys.argv[2])
img = np.load(path)
if noise:
    rng = np.random.default_rng(16)
    img = np.clip(img.astype(np.int16) + rng.integers(-noise, noise + 1, size=img.shape), 0, 255).astype(np.uint8)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status_kib("VmRSS:")
t0, c0 = time.perf_counter(), time.process_time()
tree = pixclust.palette_tree(img)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
hwm = status_kib("VmHWM:")
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": (hwm - before) / 1024, "hwm_mib": hwm / 1024,
                  "colors": int(tree.colors.shape[0])}))
"""


def palette_tree_table(noises: list[int], timeout: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_kmeans import _images  # the same 12-MP photo as the k-means benchmarks

    cache = Path(tempfile.gettempdir()) / "pixclust_bench"
    cache.mkdir(exist_ok=True)
    path = str(_images(cache)["12MP"])
    print(f"pixclust.palette_tree, 12-MP rocket (4000x3000 Lanczos); cores: {os.cpu_count()}")
    print(f"{'noise':>6} {'colours':>10} {'time s':>8} {'CPU s':>8} {'rise MiB':>9} {'VmHWM MiB':>10}")
    for noise in noises:
        try:
            out = subprocess.run([sys.executable, "-c", PALETTE_CHILD, path, str(noise)], capture_output=True,
                                 text=True, timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            print(f"{noise:>6} {'-':>10} {'> ' + str(int(timeout)):>8}", flush=True)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{noise:>6} {r['colors']:>10} {r['seconds']:>8.2f} {r['cpu']:>8.2f} {r['peak_mib']:>9.1f} "
              f"{r['hwm_mib']:>10.1f}",
              flush=True)


def measure(library: str, method: str, path: str, timeout: float) -> dict | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, library, method, path],
            capture_output=True, text=True, timeout=timeout, check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _installed(lib: str) -> bool:
    return importlib.util.find_spec(lib) is not None


def _runs(lib: str, n: int, method: str, args: argparse.Namespace) -> bool:
    if not _installed(lib):
        return False
    if lib == "scipy":
        return 8 * n * (n - 1) / 2 <= args.scipy_max_bytes
    if lib == "fastcluster":
        return n <= args.fastcluster_max_n
    if lib == "quitefastmst":
        return method == "single"
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 16])
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--million", action="store_true", help="also n = 10^6, single linkage only")
    parser.add_argument("--scipy-max-bytes", type=float, default=1e9)
    parser.add_argument("--fastcluster-max-n", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--palette-tree", action="store_true",
                        help="only the palette tree of the 12-MP photo (see above)")
    parser.add_argument("--noise", type=int, nargs="+", default=[0],
                        help="with --palette-tree: +-A uniform noise per channel, one row per A")
    args = parser.parse_args()
    if args.palette_tree:
        palette_tree_table(args.noise, args.timeout)
        return
    import numpy as np

    runs = [(n, d, m) for n in args.sizes for d in args.dims for m in args.methods]
    if args.million:
        runs += [(1_000_000, d, "single") for d in args.dims]
    print(f"cores: {os.cpu_count()}")
    missing = [lib for lib in LIBRARIES if not _installed(lib)]
    if missing:  # a peer that is not installed is left out ("-"), as bench_kmeans.py does
        print(f"not installed, left out: {', '.join(missing)} (pip install -e '.[bench]')")
    header = f"{'n':>8} {'d':>3} {'method':<9}" + "".join(f"{lib + ' s':>15}{'MiB':>8}" for lib in LIBRARIES)
    print(header + f"{'fc/px':>8}{'qf/px':>8}{'sp/px':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n, d, method in runs:
            path = str(Path(tmp) / f"X_{n}_{d}.npy")
            if not Path(path).exists():
                np.save(path, np.random.default_rng(n + d).normal(size=(n, d)))
            row = f"{n:>8} {d:>3} {method:<9}"
            seconds = {}
            for lib in LIBRARIES:
                result = None
                if _runs(lib, n, method, args):
                    result = measure(lib, method, path, args.timeout)
                if result is None:
                    row += f"{'-':>15}{'-':>8}"
                else:
                    seconds[lib] = result["seconds"]
                    row += f"{result['seconds']:>15.3f}{result['peak_mib']:>8.1f}"
            for lib in ("fastcluster", "quitefastmst", "scipy"):
                ratio = seconds[lib] / seconds["pixclust"] if lib in seconds and "pixclust" in seconds else None
                row += f"{ratio:>8.2f}" if ratio is not None else f"{'':>8}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
