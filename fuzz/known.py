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
}


def open_defect(signature: str) -> str:
    """The pattern of the open defect a finding's signature matches, or ''."""
    for pattern in OPEN:
        if re.search(pattern, signature):
            return pattern
    return ""
