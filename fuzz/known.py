"""Defects the fuzzer found that are reported but not fixed yet.

Each entry is keyed by the hint that fuzz.py's hints() gives the inputs that trigger it, and names the
seeds of fuzz/corpus that reproduce it (their names contain the tag). While an entry is here, a
campaign lists its findings as "open, known" without failing, and tests/test_fuzz_corpus.py expects its
seeds to fail (strict xfail: a fix makes them pass, and the test then asks for the entry to go). Delete
an entry in the commit that fixes it.

The linkage overflow (a Lance-Williams update that overflows) is not here: its fix is under way, and
its seeds (linkage-overflow-*) fail until it lands.
"""

from __future__ import annotations

# hint -> (tag in the names of its seeds, what is wrong)
OPEN: dict[str, tuple[str, str]] = {
    "n_threads >= 10000": (
        "n_threads",
        "n_threads reaches OpenMP's num_threads() unbounded (binding check_threads, Python _threads): "
        "libgomp's team start allocates per-thread data on the stack (SIGSEGV from ~10^5 threads) or "
        "exits the process (exit 1, 'libgomp: Out of memory allocating ...' at 2^31-1)",
    ),
    "init centres 1e10 x the data's spread away": (
        "hamerly",
        "KMeans with given initial centres far from the data (1e12 times its spread and more, or past "
        "sqrt(DBL_MAX)): Hamerly's bounds keep rounding errors of the first huge centre move, points "
        "keep stale labels, so labels_ are not the nearest final centres and inertia_ is not theirs; "
        "the core's 'lloyd' algorithm gets it right",
    ),
}


def open_defect(signature: str) -> str:
    """The open defect a finding's signature names, or ''."""
    for hint in OPEN:
        if hint in signature:
            return hint
    return ""
