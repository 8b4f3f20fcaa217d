"""pixclust.linkage against fastcluster and SciPy on small inputs: the dendrogram of a few hundred or
thousand points, where a call takes microseconds to milliseconds.

    python benchmarks/bench_linkage_small.py                       # n = 10 ... 2000, every method
    python benchmarks/bench_linkage_small.py --sizes 200 --methods ward

bench_linkage.py measures each call in a fresh process, which suits seconds-long calls; here that would
time the process, not the call. So every library runs in this process: the condensed float64 distances
of standard normal 8-D points are made once per size, each library is called once to warm up, then the
libraries take turns (A B C A B C ...) for --rounds rounds of --calls calls each, and the table shows the
fastest call of each. Ratios above 1: pixclust is faster. Every result is also checked against SciPy's
(float64 input: the same matrix), so a fast wrong answer cannot hide in the table.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import numpy as np

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]


def fastest(call: Callable[[], object], calls: int) -> float:
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500, 1000, 2000])
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--rounds", type=int, default=5, help="turns per library (default 5)")
    parser.add_argument("--calls", type=int, default=0,
                        help="calls per turn (default: about 50 ms of SciPy per turn, 3 to 1000 calls)")
    args = parser.parse_args()
    if args.rounds < 1 or args.calls < 0 or min(args.sizes) < 2:
        parser.error("--rounds must be at least 1, --calls at least 0 and every size at least 2")

    import fastcluster  # type: ignore[import-untyped]
    from scipy.cluster.hierarchy import linkage as scipy_linkage  # type: ignore[import-untyped]

    import pixclust
    from pixclust import _core

    print(f"pixclust {pixclust.__version__}, fastcluster {fastcluster.__version__}, {os.cpu_count()} CPUs, "
          f"OpenMP threads {_core.max_threads()}; fastest of {args.rounds} turns per library")
    print(f"{'n':>6} {'method':9} {'pixclust':>10} {'fastcl':>10} {'scipy':>10} {'x fc':>6} {'x scipy':>7}")
    for n in args.sizes:
        y = _core.pdist_euclidean(np.random.default_rng(n).standard_normal((n, 8)))
        for method in args.methods:
            libraries: dict[str, Callable[[], object]] = {
                "pixclust": lambda: pixclust.linkage(y, method),
                "fastcluster": lambda: fastcluster.linkage(y, method, preserve_input=True),
                "scipy": lambda: scipy_linkage(y, method),
            }
            reference = scipy_linkage(y, method)
            if not np.array_equal(pixclust.linkage(y, method), reference):
                raise SystemExit(f"pixclust's matrix differs from SciPy's: n={n} {method}")
            once = fastest(libraries["scipy"], 1)
            calls = args.calls or max(3, min(1000, int(0.05 / max(once, 1e-7))))
            best = {name: float("inf") for name in libraries}
            for _ in range(args.rounds):
                for name, call in libraries.items():
                    best[name] = min(best[name], fastest(call, calls))
            pix, fc, sp = best["pixclust"], best["fastcluster"], best["scipy"]
            print(f"{n:>6} {method:9} {pix * 1e3:8.3f}ms {fc * 1e3:8.3f}ms {sp * 1e3:8.3f}ms "
                  f"{fc / pix:6.2f} {sp / pix:7.2f}", flush=True)


if __name__ == "__main__":
    main()
