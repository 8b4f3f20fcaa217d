"""pixclust.linkage against fastcluster and SciPy: time and peak extra memory, side by side.

    python benchmarks/bench_linkage.py                    # n = 5000, 10000, 20000 (about 15 minutes)
    python benchmarks/bench_linkage.py --sizes 2000 4000  # a quick look

Points are standard normal in 8-D; the condensed float64 distances are computed once in advance and
saved, and every measurement runs in a fresh subprocess that loads them, so that one library's
allocations cannot flatter or burden the next. Peak extra memory is the resident-set high-water mark
during the call (VmHWM, reset just before it through /proc/self/clear_refs) minus the resident set just
before it: it sees C++ allocations, which tracemalloc does not. Linux only.

Copying the input costs more than the copy itself on some machines: the working copy is fresh memory,
and its first touch can be slow (on a virtual machine whose host has taken free memory back, about
1 s per GiB per CPU). So each size also times `numpy.copy` of the condensed matrix in a fresh process,
what SciPy does before its algorithm (on one thread) and what pixclust's copy mode pays for its working
copy (on all threads): the table's last lines show it, to read the copy-vs-copy ratios against.

SciPy's linkage is slow at n = 20,000 (tens of seconds per method on 2 cores), so by default it is run
there for single, ward and centroid only (one algorithm family each); the table says "-" where it was not
run, and its ratio column is then left empty rather than extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METHODS = ["single", "complete", "average", "weighted", "ward", "centroid", "median"]
SCIPY_AT_LARGEST = ["single", "ward", "centroid"]

# (label, library, options); the child process below knows how to run each.
VARIANTS = [
    ("pixclust", "pixclust", {}),
    ("pixclust ow", "pixclust", {"overwrite_input": True}),
    ("fastcluster", "fastcluster", {"preserve_input": True}),
    ("fastcluster ow", "fastcluster", {"preserve_input": False}),
    ("scipy", "scipy", {}),
]

CHILD = r"""
import gc, json, os, sys, time
import numpy as np

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

path, library, method, options, dtype = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
if library == "pixclust":
    import pixclust
    run = lambda y: pixclust.linkage(y, method, **options)
elif library == "numpy":  # the fresh-memory probe: the copy alone
    run = lambda y: np.copy(y)
elif library == "fastcluster":
    import fastcluster
    run = lambda y: fastcluster.linkage(y, method, **options)
else:
    from scipy.cluster.hierarchy import linkage as scipy_linkage
    run = lambda y: scipy_linkage(y, method)
y = np.load(path)
if dtype == "float32":
    y = y.astype(np.float32)
gc.collect()
base = rss_kib()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
t = time.perf_counter()
Z = run(y)
seconds = time.perf_counter() - t
peak = hwm_kib()
Z = np.asarray(Z)
print(json.dumps({"seconds": seconds, "extra_bytes": (peak - base) * 1024, "input_bytes": y.nbytes,
                  "checksum": float((Z[:, 2] if Z.ndim == 2 else Z).sum())}))
"""


def measure(path: Path, library: str, method: str, options: dict[str, object], dtype: str = "float64") -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), library, method, json.dumps(options), dtype],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--scipy-all", action="store_true", help="run SciPy for every method at every size")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per measurement, interleaved across the libraries; the table shows the median")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    import numpy as np

    import pixclust
    from pixclust import _core

    print(f"pixclust {pixclust.__version__}, {os.cpu_count()} CPUs, OpenMP threads {_core.max_threads()}, "
          f"load average at start {loadavg()}")
    started = time.perf_counter()
    rows = []
    fresh_copy: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rng = np.random.default_rng(n)
            path = Path(tmp) / f"y{n}.npy"
            y = _core.pdist_euclidean(rng.standard_normal((n, args.dim)))
            np.save(path, y)
            condensed = y.nbytes
            del y
            copies = [measure(path, "numpy", "copy", {}) for _ in range(args.repeat)]
            fresh_copy[n] = median_run(copies)
            for method in args.methods:
                row: dict[str, object] = {"n": n, "method": method, "condensed": condensed}
                runs: dict[str, list[dict[str, float]]] = {}
                # Repeats go round the libraries (A B C A B C ...), so that a slow spell of the machine
                # lands on all of them rather than on one.
                for _ in range(args.repeat):
                    for label, library, options in VARIANTS:
                        if library == "scipy" and n == max(args.sizes) and not args.scipy_all and method not in SCIPY_AT_LARGEST:
                            continue
                        runs.setdefault(label, []).append(measure(path, library, method, options))
                    if method == "ward":
                        runs.setdefault("pixclust f32", []).append(measure(path, "pixclust", method, {}, "float32"))
                        runs.setdefault("pixclust f32 ow", []).append(
                            measure(path, "pixclust", method, {"overwrite_input": True}, "float32"))
                for label, results in runs.items():
                    row[label] = median_run(results)
                rows.append(row)
                print_row(row, flush=True)
    print(f"\nTotal {time.perf_counter() - started:.0f} s, load average at end {loadavg()}")
    print_table(rows)
    print("\nnumpy.copy of the condensed matrix in a fresh process (one thread; SciPy's copy, and the fresh"
          " memory that copy mode writes): " + ", ".join(
              f"n={n}: {r['seconds']:.2f}s" + (" (" + "/".join(f"{x:.2f}" for x in r["all_seconds"]) + ")"  # type: ignore[index,union-attr]
                                               if len(r["all_seconds"]) > 1 else "")  # type: ignore[arg-type]
              for n, r in fresh_copy.items()))


def median_run(results: list[dict[str, float]]) -> dict[str, float]:
    """The run of median time (the lower middle one for an even count), with every time kept."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["all_seconds"] = [r["seconds"] for r in results]  # type: ignore[assignment]
    return chosen


def print_row(row: dict[str, object], flush: bool = False) -> None:
    parts = [f"n={row['n']} {row['method']}:"]
    for label, _, _ in VARIANTS:
        if label in row:
            r = row[label]
            times = r["all_seconds"]  # type: ignore[index]
            parts.append(f"{label} {r['seconds']:.2f}s" +  # type: ignore[index]
                         (" (" + "/".join(f"{x:.2f}" for x in times) + ")" if len(times) > 1 else ""))
    print(" ".join(parts), flush=flush)


def print_table(rows: list[dict[str, object]]) -> None:
    def t(row: dict[str, object], label: str) -> str:
        return f"{row[label]['seconds']:7.2f}" if label in row else "      -"  # type: ignore[index]

    def ratio(row: dict[str, object], a: str, b: str) -> str:
        if a not in row or b not in row:
            return "     -"
        return f"{row[b]['seconds'] / row[a]['seconds']:6.2f}"  # type: ignore[index]

    def mem(row: dict[str, object], label: str) -> str:
        if label not in row:
            return "    -"
        return f"{row[label]['extra_bytes'] / row['condensed']:5.2f}"  # type: ignore[index,operator]

    repeats = max((len(r["all_seconds"]) for row in rows for k, r in row.items() if isinstance(r, dict)), default=1)  # type: ignore[arg-type]
    runs = "one run each" if repeats == 1 else f"median of {repeats} runs each"
    print(f"\nTime (s, {runs}) and speed-up of pixclust (same input handling: copy vs copy, overwrite vs"
          " overwrite)")
    print(f"{'n':>6} {'method':9} {'pixclust':>8} {'pix ow':>7} {'fastcl':>7} {'fc ow':>7} {'scipy':>7} "
          f"{'x fc':>6} {'x fc ow':>7} {'x scipy':>7}")
    for row in rows:
        print(f"{row['n']:>6} {row['method']:9} {t(row, 'pixclust'):>8} {t(row, 'pixclust ow')} "
              f"{t(row, 'fastcluster')} {t(row, 'fastcluster ow')} {t(row, 'scipy')} "
              f"{ratio(row, 'pixclust', 'fastcluster')} {ratio(row, 'pixclust ow', 'fastcluster ow'):>7} "
              f"{ratio(row, 'pixclust', 'scipy'):>7}")
    print("\nPeak extra memory, in units of the float64 condensed matrix (n(n-1)/2 * 8 bytes)")
    print(f"{'n':>6} {'method':9} {'pixclust':>8} {'pix ow':>7} {'f32':>6} {'f32 ow':>6} {'fastcl':>7} "
          f"{'fc ow':>7} {'scipy':>7}")
    for row in rows:
        print(f"{row['n']:>6} {row['method']:9} {mem(row, 'pixclust'):>8} {mem(row, 'pixclust ow'):>7} "
              f"{mem(row, 'pixclust f32'):>6} {mem(row, 'pixclust f32 ow'):>6} {mem(row, 'fastcluster'):>7} "
              f"{mem(row, 'fastcluster ow'):>7} {mem(row, 'scipy'):>7}")
    print("\nward float32 time: " + ", ".join(
        f"n={row['n']}: {row['pixclust f32']['seconds']:.2f}s (ow {row['pixclust f32 ow']['seconds']:.2f}s)"  # type: ignore[index]
        for row in rows if "pixclust f32" in row))


if __name__ == "__main__":
    main()
