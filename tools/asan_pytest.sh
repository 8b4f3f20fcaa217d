#!/usr/bin/env bash
# The Python tests and the fuzz seed corpus against a pixclust._core built with AddressSanitizer and
# UBSan (PIXCLUST_SANITIZE=ON, core and binding alike). Linux with GCC or Clang.
#
#   tools/asan_pytest.sh [pytest args...]     # default: the whole Python suite, -m "not cpp"
#
# The sanitized package is installed (pip, no dependencies) into a virtual environment of its own under
# build/asan/, which borrows numpy, SciPy, pytest... from the development environment (.venv, or $VENV)
# through a .pth line: that directory is then a plain path entry, so its editable-install hook never
# runs and `import pixclust` finds the sanitized copy. The editable install and its build/ tree are left
# alone. Python itself is not instrumented, so the ASan runtime is preloaded; CPython's own leaks at exit
# are not ours (detect_leaks=0). The first UBSan report aborts (the flags have -fno-sanitize-recover).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dev_venv=${VENV:-$repo/.venv}
work=${PIXCLUST_ASAN_DIR:-$repo/build/asan}
venv=$work/venv

if [ ! -x "$dev_venv/bin/python" ]; then
  echo "asan_pytest: no development environment at $dev_venv (pip install -e '.[test]' there, or set VENV)" >&2
  exit 1
fi
deps=$("$dev_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  # The build tools live in the environment (no build isolation): a pip build environment has a new
  # path each time, which makes CMake reconfigure and rebuild everything.
  "$venv/bin/pip" install -q "scikit-build-core>=0.10" "pybind11>=2.13"
fi
echo "$deps" > "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pixclust-dev-deps.pth"

echo "== building the sanitized extension in $work/skbuild"
start=$SECONDS
# A build directory of its own, reused between runs. -O1 -g: line numbers in the reports, and GCC
# compiles kmeans.cpp with both sanitizers in 90 s instead of 330 s at -O2.
"$venv/bin/pip" install -q --no-deps --no-build-isolation --force-reinstall \
  -C build-dir="$work/skbuild" -C cmake.build-type=RelWithDebInfo \
  -C cmake.define.CMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" \
  -C cmake.define.PIXCLUST_SANITIZE=ON "$repo"
echo "== built in $((SECONDS - start)) s"

# Found without importing it (that needs the runtime preloaded).
core=$(ls "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"/pixclust/_core.*.so)
if ! readelf -d "$core" | grep -q 'libasan'; then
  echo "asan_pytest: $core is not linked against the ASan runtime" >&2
  exit 1
fi

libasan=$(${CXX:-c++} -print-file-name=libasan.so)
libstdcxx=$(${CXX:-c++} -print-file-name=libstdc++.so)
for lib in "$libasan" "$libstdcxx"; do
  [ -e "$lib" ] || { echo "asan_pytest: $lib not found by ${CXX:-c++}" >&2; exit 1; }
done
# libstdc++ too: ASan's __cxa_throw interceptor binds at start-up, and a C++ exception thrown by a
# library loaded later (every ValueError our binding raises) otherwise aborts in "CHECK failed".
export LD_PRELOAD="$libasan $libstdcxx"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_summary=1:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}
# tests/test_config.py checks that this run really imports the sanitized module, and from where.
export PIXCLUST_EXPECT_SANITIZED=$venv

cd "$repo"
echo "== Python tests against the sanitized module"
start=$SECONDS
if [ $# -eq 0 ]; then
  # The MemoryError test caps the address space a little above what the process uses; ASan's shadow
  # memory needs terabytes of it. The docs build runs no C++ that the other tests do not, nor do the
  # benchmarks at their tiny sizes (tests/test_benchmarks.py).
  set -- tests -m "not cpp and not docs and not bench" \
    --deselect tests/test_linkage.py::test_working_copy_that_does_not_fit_raises_memory_error_with_its_size
fi
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" || status=1
echo "== tests took $((SECONDS - start)) s"

# The suite replays the fuzz seed corpus (tests/test_fuzz_corpus.py); new inputs find what only the
# sanitizers see (reads past an end, misaligned loads, undefined arithmetic) that the release build survives.
echo "== ${FUZZ_BUDGET:-90} s of new fuzz inputs against the sanitized module"
start=$SECONDS
"$venv/bin/python" fuzz/fuzz.py --budget "${FUZZ_BUDGET:-90}" --seed "${FUZZ_SEED:-20261204}" --no-corpus \
  --save-dir "$work/crashers" || status=1
echo "== fuzzing took $((SECONDS - start)) s"
exit $status
