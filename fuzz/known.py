"""Defects the fuzzer found that are reported but not fixed yet.

Each entry is keyed by a regular expression that the signature of its findings matches (fuzz.py's
hints() and the crash location are in the signature), and names the seeds of fuzz/corpus that reproduce
it (their names contain the tag). While an entry is here, a
campaign lists its findings as "open, known" without failing, and tests/test_fuzz_corpus.py expects its
seeds to fail (strict xfail: a fix makes them pass, and the test then asks for the entry to go). Delete
an entry in the commit that fixes it.

The linkage overflow (a Lance-Williams update that overflows) is not here: its fix is under way, and
its seeds (linkage-overflow-*) fail until it lands.
"""

from __future__ import annotations

import re

# signature pattern -> (tag in the names of its seeds, what is wrong, whether only a sanitizer sees it)
OPEN: dict[str, tuple[str, str, bool]] = {
    r"n_threads >= 10000": (
        "n_threads",
        "n_threads reaches OpenMP's num_threads() unbounded (binding check_threads, Python _threads): "
        "libgomp's team start allocates per-thread data on the stack (SIGSEGV from ~10^5 threads) or "
        "exits the process (exit 1, 'libgomp: Out of memory allocating ...' at 2^31-1)",
        False,
    ),
    r"init centres 1e10 x the data's spread away": (
        "hamerly",
        "KMeans with given initial centres far from the data (1e12 times its spread and more, or past "
        "sqrt(DBL_MAX)): Hamerly's bounds keep rounding errors of the first huge centre move, points "
        "keep stale labels, so labels_ are not the nearest final centres and inertia_ is not theirs; "
        "the core's 'lloyd' algorithm gets it right",
        False,
    ),
    r"misaligned array": (
        "unaligned",
        "the bindings hand the kernels misaligned pointers: as_contiguous() asks numpy for C order but not "
        "for alignment, so a C-contiguous array whose data is not aligned to its item size (a view of a "
        "byte buffer at an odd offset) reaches the C++ as a misaligned T*; undefined behaviour (UBSan: "
        "'load of misaligned address'); x86 tolerates it, strict-alignment targets need not",
        True,
    ),
    r"labels_ are not the nearest centres.*empty clusters to relocate": (
        "relocation",
        "KMeans: an empty cluster re-seeded in the last iteration (its farthest point moved to it) and "
        "the run then stops on unchanged labels, so labels_ predate the move and are not the nearest "
        "final centres; e.g. duplicated initial centres and weights ~1e-250, where a centre moves by one "
        "ulp, which scikit-learn does not, so the second iteration relocates; also in _core.kmeans_lloyd",
        False,
    ),
    r"color_index\.cpp.*signed integer overflow": (
        "moments-past-bound",
        "_core.integer_moments does not check the bound it documents (sum(w) * max(x)^2 < 2^63; the "
        "caller is to check it, and pixclust's own caller does): past it the int64 sums overflow, "
        "undefined behaviour (UBSan: 'signed integer overflow' in color_index.cpp) and wrong sums; only "
        "the private binding reaches it",
        True,
    ),
}


def open_defect(signature: str) -> str:
    """The pattern of the open defect a finding's signature matches, or ''."""
    for pattern in OPEN:
        if re.search(pattern, signature):
            return pattern
    return ""
