"""``python -m pixclust`` and the ``pixclust`` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from pixclust._cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
