"""Fail when a function in the C++ core or the Python package is longer than the limit (issue 15).

    python tools/check_function_length.py            # exit 1, listing each function over 120 lines
    python tools/check_function_length.py --limit 80

Length is lizard's "length": every line from the signature to the end, comments and docstrings
included, since a reader scrolls through those too. Functions listed in
tools/function_length_allowlist.txt (``path:function``) are reported but do not fail the check; an
entry whose function is back under the limit is reported so that it can be deleted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["cpp", "python/pixclust"]
ALLOWLIST = ROOT / "tools" / "function_length_allowlist.txt"
# One screen and a half: past this a function does more than one step (STYLE.md, "Grow out of").
LIMIT = 120


def read_allowlist(path: Path) -> set[tuple[str, str]]:
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            file, _, function = line.partition(":")
            entries.add((file.strip(), function.strip()))
    return entries


def long_functions(limit: int) -> list[tuple[str, str, int, int]]:
    """(path, function, first line, length) of every function longer than ``limit`` lines."""
    import lizard  # type: ignore[import-untyped]

    found = []
    for info in lizard.analyze([str(ROOT / p) for p in PATHS]):
        rel = Path(info.filename).resolve().relative_to(ROOT).as_posix()
        for fn in info.function_list:
            if fn.length > limit:
                found.append((rel, fn.name, fn.start_line, fn.length))
    return sorted(found)


def allowed(entry: tuple[str, str, int, int], allowlist: set[tuple[str, str]]) -> tuple[str, str] | None:
    path, name = entry[0], entry[1]
    for key in ((path, name), (path, name.rsplit("::", 1)[-1])):
        if key in allowlist:
            return key
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=LIMIT, help=f"most lines per function (default {LIMIT})")
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    args = parser.parse_args(argv)
    allowlist = read_allowlist(args.allowlist) if args.allowlist.exists() else set()
    failing, used = [], set()
    for entry in long_functions(args.limit):
        key = allowed(entry, allowlist)
        line = f"{entry[0]}:{entry[2]}: {entry[1]} is {entry[3]} lines (limit {args.limit})"
        if key is None:
            failing.append(line)
        else:
            used.add(key)
            print(f"{line}, allowed by {args.allowlist.name}")
    for path, name in sorted(allowlist - used):
        print(f"{path}:{name} is no longer over the limit: delete it from {args.allowlist.name}")
    if failing:
        print("\n".join(failing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
