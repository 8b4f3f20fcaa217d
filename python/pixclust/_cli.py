"""The ``pixclust`` command line (a thin layer over the Python API)."""

from __future__ import annotations

import argparse

from pixclust._config import show_config


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixclust", description="Fast, exact clustering for images and hierarchies.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("config", help="print the build configuration (version, compiler, OpenMP)")
    return parser


def run(argv: list[str]) -> int:
    """Run the command line on ``argv``; returns the exit code (2 for bad input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "config":
        show_config()
        return 0
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects first
    return 2  # pragma: no cover
