"""Regenerate the tables of the documentation's benchmarks page (docs/benchmarks.rst).

    python tools/bench_docs.py              # every benchmark in its quick mode (a few minutes on 2 cores)
    python tools/bench_docs.py kmeans dither

Each benchmark of benchmarks/ runs in its quick mode, as a command a reader can run again, and its
output is written to docs/benchmarks/NAME.txt under a header that gives the command, the machine, the
load, the date and the versions of every library in the comparison. The page includes these files: no
number on it is typed by hand. Commit the files after running this.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "benchmarks"

# name -> the quick command (arguments of benchmarks/bench_NAME.py)
QUICK = {
    "kmeans": ["--quick", "--ks", "8", "--methods", "minibatch", "pillow", "floor"],
    "linkage": ["--sizes", "2000", "4000"],
    "linkage_small": ["--sizes", "10", "100", "1000", "--rounds", "3"],
    "linkage_vector": ["--sizes", "10000", "--dims", "3"],
    "dither": ["--repeat", "1"],
    "threads": ["--threads", "1", "2", "--n", "5000"],
}

# bench_kmeans.py leaves out a peer that is not installed, with a line; the tables name only the importable ones.
OPTIONAL_KMEANS_PEERS = {"faiss": ["faiss", "faiss-full"], "cv2": ["opencv"]}

PACKAGES = ["pixclust", "numpy", "scipy", "scikit-learn", "threadpoolctl", "fastcluster", "faiss-cpu",
            "opencv-python-headless", "pillow"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def header(command: str, seconds: float) -> list[str]:
    """The lines that say where and how a table was made."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"$ {command}",
        f"machine:  {platform.system()} {platform.machine()}, {_cpu_model()}, {os.cpu_count()} CPUs; "
        f"load average {load:.2f} at the end",
        f"python:   {platform.python_version()}; {_versions()}",
        f"date:     {datetime.date.today().isoformat()}; the run took {seconds:.0f} s",
        "",
    ]


def _quick_args(name: str) -> list[str]:
    args = list(QUICK[name])
    if name == "kmeans":
        args += [m for module, ms in OPTIONAL_KMEANS_PEERS.items() if importlib.util.find_spec(module) for m in ms]
    return args


def run(name: str) -> Path:
    """Run one benchmark's quick mode and write its output, with the header, to docs/benchmarks/NAME.txt."""
    args = ["benchmarks/" + f"bench_{name}.py", *_quick_args(name)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench_docs: python {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    lines = header("python " + " ".join(args), time.perf_counter() - start) + done.stdout.rstrip().splitlines()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.txt"
    path.write_text("\n".join(line.rstrip() for line in lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(QUICK)} (default: all)")
    names = parser.parse_args().names or list(QUICK)
    unknown = sorted(set(names) - set(QUICK))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected some of {', '.join(QUICK)}")
    for name in names:
        print(f"bench_docs: {name} ...", flush=True)
        print(f"bench_docs: wrote {run(name).relative_to(REPO)}", flush=True)


if __name__ == "__main__":
    main()
