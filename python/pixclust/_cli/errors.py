"""The command line's one error type, and the translation of a failed read into it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class CLIError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


@contextmanager
def reading(path: str, *, directory: str = "is a directory") -> Iterator[None]:
    """Turn the OS errors of reading ``path`` into one-line CLIErrors (``directory``: what to say when
    it is a directory)."""
    try:
        yield
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: {directory}") from None
    except PermissionError:
        raise CLIError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror or exc})") from None
