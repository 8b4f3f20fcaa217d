"""The ``dendrogram`` command's input: points (one per row) or a condensed distance vector, from CSV,
TSV, whitespace-separated text or .npy."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from pixclust._cli.errors import CLIError, reading

# The first bytes of every .npy file.
_NPY_MAGIC = b"\x93NUMPY"


def read_points(path: str) -> tuple[np.ndarray, bool, Optional[list[str]]]:
    """Points (n, d) or a condensed distance vector, from a file or from standard input ("-": .npy
    told by its magic bytes, text by its delimiter); returns (array, is_condensed, the column names of
    a header line or None)."""
    name = "standard input" if path == "-" else path
    with reading(path):
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if path == "-" and not raw:
        raise CLIError("standard input: no data (pipe points in, or give a file name)")
    if raw.startswith(_NPY_MAGIC) if path == "-" else Path(path).suffix.lower() == ".npy":
        return (*_check(name, _load_npy(name, raw)), None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CLIError(f"{name}: not a text file (use CSV, TSV or .npy)") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    a, names = _load_text(name, lines, _delimiter(path, lines))
    return (*_check(name, a), names)


def _delimiter(path: str, lines: list[str]) -> Optional[str]:
    """',' for CSV, a tab for TSV, None (whitespace) otherwise: from the extension, or for standard
    input from the first line."""
    ext = Path(path).suffix.lower()
    if path == "-":
        first = lines[0] if lines else ""
        return "," if "," in first else ("\t" if "\t" in first else None)
    return "," if ext == ".csv" else ("\t" if ext in (".tsv", ".tab") else None)


def _load_npy(name: str, raw: bytes) -> np.ndarray:
    try:
        a: np.ndarray = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise CLIError(f"{name}: not a numeric .npy array ({exc})") from None
    return a


def _numeric(row: list[str]) -> bool:
    try:
        [float(f) for f in row]
        return True
    except ValueError:
        return False


def _load_text(name: str, lines: list[str], delimiter: Optional[str]) -> tuple[np.ndarray, Optional[list[str]]]:
    """Rows of numbers (blank lines and '#' comments already dropped), and a header line's names."""
    if not lines:
        raise CLIError(f"{name}: no data")
    rows = [[f.strip() for f in (ln.split(delimiter) if delimiter else ln.split())] for ln in lines]
    names = None
    if not _numeric(rows[0]):
        names, rows = rows[0], rows[1:]  # a header line
    try:
        values = [[float(f) for f in row] for row in rows]
    except ValueError:
        raise CLIError(f"{name}: expected numbers separated by {repr(delimiter) if delimiter else 'spaces'}") from None
    if not values:
        raise CLIError(f"{name}: no rows of numbers")
    if len({len(r) for r in values}) != 1:
        raise CLIError(f"{name}: rows must all have the same number of values")
    a = np.asarray(values, dtype=np.float64)
    if a.shape[0] == 1 and a.shape[1] > 1:
        a = a[0]  # one row: a condensed distance vector
    return a, names


def _check(path: str, a: np.ndarray) -> tuple[np.ndarray, bool]:
    from scipy.spatial.distance import is_valid_y  # type: ignore[import-untyped]

    if a.dtype.kind not in "biuf":
        raise CLIError(f"{path}: expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise CLIError(f"{path}: contains NaN or infinite values")
    if a.ndim == 1:
        if not is_valid_y(a):
            raise CLIError(f"{path}: one row of {a.size} values is neither points (one per row, at least 2 points) "
                           "nor a condensed distance vector (length n(n-1)/2)")
        if np.any(a < 0):
            raise CLIError(f"{path}: distances must be >= 0")
        return a, True
    if a.ndim != 2:
        raise CLIError(f"{path}: expected a 2-D array of points or a 1-D condensed distance vector, got {a.ndim}-D")
    if a.shape[0] < 2:
        raise CLIError(f"{path}: need at least 2 points, got {a.shape[0]}")
    return a, False
