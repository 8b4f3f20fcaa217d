"""The ``dendrogram`` command's input: points (one per row) or a condensed distance vector, from CSV,
TSV, whitespace-separated text or .npy."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from pixclust._cli.errors import CLIError, reading


def read_points(path: str) -> tuple[np.ndarray, bool]:
    """Points (n, d) or a condensed distance vector; returns (array, is_condensed)."""
    ext = Path(path).suffix.lower()
    delimiter = "," if ext == ".csv" else ("\t" if ext in (".tsv", ".tab") else None)
    with reading(path):
        try:
            a = _load_npy(path) if ext == ".npy" else _load_text(path, delimiter)
        except UnicodeDecodeError:
            raise CLIError(f"{path}: not a text file (use CSV, TSV or .npy)") from None
    return _check(path, a)


def header(path: str) -> Optional[list[str]]:
    """The column names of a CSV/TSV/text file's header line (its first line that is not blank, not a
    comment and not numbers), or None."""
    ext = Path(path).suffix.lower()
    if ext == ".npy":
        return None
    delimiter = "," if ext == ".csv" else ("\t" if ext in (".tsv", ".tab") else None)
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            if ln.strip() and not ln.lstrip().startswith("#"):
                row = [f.strip() for f in (ln.split(delimiter) if delimiter else ln.split())]
                return None if _numeric(row) else row
    return None


def _load_npy(path: str) -> np.ndarray:
    try:
        a: np.ndarray = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise CLIError(f"{path}: not a numeric .npy array ({exc})") from None
    return a


def _numeric(row: list[str]) -> bool:
    try:
        [float(f) for f in row]
        return True
    except ValueError:
        return False


def _load_text(path: str, delimiter: Optional[str]) -> np.ndarray:
    """Rows of numbers; blank lines, '#' comments and a header line are skipped."""
    with open(path, encoding="utf-8") as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise CLIError(f"{path}: no data")
    rows = [[f.strip() for f in (ln.split(delimiter) if delimiter else ln.split())] for ln in lines]
    if not _numeric(rows[0]):
        rows = rows[1:]  # a header line
    try:
        values = [[float(f) for f in row] for row in rows]
    except ValueError:
        raise CLIError(f"{path}: expected numbers separated by {repr(delimiter) if delimiter else 'spaces'}") from None
    if not values:
        raise CLIError(f"{path}: no rows of numbers")
    if len({len(r) for r in values}) != 1:
        raise CLIError(f"{path}: rows must all have the same number of values")
    a = np.asarray(values, dtype=np.float64)
    if a.shape[0] == 1 and a.shape[1] > 1:
        a = a[0]  # one row: a condensed distance vector
    return a


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
