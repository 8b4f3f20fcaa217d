"""Output paths: everything about them that can be checked before any work is done, and the writes
(always atomic, through ``_io.atomic_output``: an interrupted run leaves no partial file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from pixclust._cli.errors import CLIError

# The figure formats matplotlib's Agg, PDF, SVG and PS backends write.
FIGURE_EXTENSIONS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".eps", ".ps")


def _same_path(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_output(path: str, *, force: bool, inputs: Sequence[str] = (), image: bool = False,
                 figure: bool = False, seen: Optional[set[str]] = None) -> None:
    """Everything about an output path that can be known before any work is done."""
    from pixclust import _io

    for src in inputs:
        if _same_path(path, src):
            raise CLIError(f"{path}: the output is the input file; choose another output name")
    if seen is not None:
        key = os.path.abspath(path)
        if key in seen:
            raise CLIError(f"{path}: the same file is given for two outputs")
        seen.add(key)
    if image:
        try:
            _io.check_writable_image_path(path)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    if figure:
        ext = Path(path).suffix.lower()
        if ext not in FIGURE_EXTENSIONS:
            raise CLIError(f"{path}: cannot save a figure as {ext or 'a file without an extension'!r}; use .png, .pdf or .svg")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory")
    if os.path.lexists(path) and not force:
        raise CLIError(f"{path}: already exists (use --force to replace it)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"{path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: the directory {parent} is not writable")


def check_output_directory(d: str, files: Iterable[str], *, force: bool) -> None:
    """Whether directory ``d`` (created with its missing parents if need be) can take ``files``."""
    if os.path.exists(d) and not os.path.isdir(d):
        raise CLIError(f"{d}: exists and is not a directory")
    if not os.path.isdir(d):
        # The directory and any missing parents are created: find the nearest one that exists.
        ancestor = os.path.dirname(os.path.abspath(d))
        while not os.path.exists(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.path.isdir(ancestor):
            raise CLIError(f"{d}: cannot create it, {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise CLIError(f"{d}: cannot create it, {ancestor} is not writable")
        return
    if not os.access(d, os.W_OK | os.X_OK):
        raise CLIError(f"{d}: the directory is not writable")
    for p in files:
        if os.path.lexists(p) and not force:
            raise CLIError(f"{p}: already exists (use --force to replace it)")


# The figures' pixels per inch, unless a command is told otherwise.
FIGURE_DPI = 110


def save_figure(fig: Any, path: str, force: bool, *, dpi: float = FIGURE_DPI, tight: bool = True,
                title: Optional[str] = None, fmt: Optional[str] = None) -> None:
    """A figure into file ``path``, or onto standard output for "-" in format ``fmt`` (a pipe)."""
    from pixclust import _figure, _io

    try:
        if path == "-":
            assert fmt is not None  # pipe_format gave it
            write_stdout(_io.figure_bytes(fig, fmt.lstrip("."), dpi=dpi, tight=tight, title=title))
            return
        _io.save_figure(fig, path, force=force, dpi=dpi, tight=tight, title=title)
    finally:
        _figure.release(fig)  # a command run in a process that uses pyplot leaves no figure open


def pipe_format(args: Any, allowed: Sequence[str]) -> Optional[str]:
    """The format (".png") that ``--format`` gives an output on standard output (``-o -``), checked
    against the ``allowed`` extensions before any work; None for a file, whose extension says it."""
    names = ", ".join(e.lstrip(".") for e in allowed)
    if args.output != "-":
        if args.format is not None:
            raise CLIError("--format is for -o - (standard output); a file's format follows its extension")
        return None
    if getattr(args, "json", False):
        raise CLIError("--json and -o - both want standard output; write the output to a file")
    if args.format is None:
        raise CLIError(f"-o - (standard output): give its format with --format ({names})")
    ext = "." + str(args.format).lower().lstrip(".")
    if ext not in allowed:
        raise CLIError(f"--format {args.format}: cannot write this format here; use {names}")
    return ext


def report_stream(dest: Optional[str], out: Any) -> Any:
    """Where the report goes: standard error when the output itself is on standard output."""
    import sys

    return sys.stderr if dest == "-" and out is sys.stdout else out


def write_csv(path: str, header: str, rows: Iterable[str], *, force: bool) -> None:
    """A small CSV file: the header line, then one line per row (each without its newline)."""
    from pixclust import _io

    with _io.atomic_output(path, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(header + "\n")
            fh.writelines(f"{row}\n" for row in rows)


def write_stdout(data: bytes) -> None:
    """All of ``data`` on standard output. An unbuffered stdout (python -u, PYTHONUNBUFFERED) writes
    only part of a large block to a pipe and says how much: go on from there until all is out (a
    closed pipe then raises BrokenPipeError)."""
    import sys

    view = memoryview(data)
    while view:
        n = sys.stdout.buffer.write(view)
        view = view[n if n is not None else 0:]
    sys.stdout.buffer.flush()
