"""The ``pixclust`` command line (a thin layer over the Python API).

Every bad input (a missing or unreadable file, a non-image, k out of range, an output equal to the
input, an existing output without ``--force``, an unwritable directory) ends with one line on stderr
and exit status 2: no traceback, and no file written. Outputs are written to a temporary file in the
target directory and renamed into place, so an interrupted run never leaves a partial file.

Where things are: ``parser`` (the arguments), ``commands/`` (one module per command), ``progress``
(the progress lines on stderr), ``outputs`` (output-path checks and atomic writes), ``images`` (reading
and quantizing an image), ``points`` (the CSV/TSV/.npy reader of ``dendrogram``), ``errors``.
"""

from __future__ import annotations

import io
import os
import sys

from pixclust._cli.errors import CLIError
from pixclust._config import show_config

__all__ = ["CLIError", "run"]


def run(argv: list[str]) -> int:
    """Run the command line on ``argv``; returns the exit code (2 for bad input)."""
    from pixclust._cli.commands import command
    from pixclust._cli.parser import build_parser
    from pixclust._cli.progress import Progress

    args = build_parser().parse_args(argv)
    if args.command == "config":
        show_config()
        return 0
    quiet = getattr(args, "quiet", False)
    progress = Progress(quiet)
    prog = f"pixclust {args.command}"
    # -q silences the report on standard output too; --json is asked for, so it still prints.
    out = io.StringIO() if quiet and not getattr(args, "json", False) else sys.stdout
    run_command = command(args.command)
    try:
        code = run_command(args, out, progress)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except (CLIError, ImportError) as exc:
        progress.newline()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A write failed after the checks (another writer, permissions, a full disk, a special
        # filesystem): the temporary file is gone and the target untouched.
        progress.newline()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"{prog}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.newline()
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """Standard output was closed by its reader (``| head``): end quietly, as a program killed by
    SIGPIPE would (status 128 + 13), with nothing more written to the closed pipe at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13
