"""Palette files: the table of a result (printed, or as JSON), and the .json, .gpl (GIMP, Inkscape),
.txt (hex lines) and .css (custom properties) files that ``palette -o`` writes and ``quantize
--palette`` reads.

Every file holds 8-bit sRGB colours, most common first. A palette read back is the one written: the
same colours in the same order. A malformed file is one CLIError naming the file and the line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from pixclust._cli.errors import CLIError, reading

# The file formats, by extension.
PALETTE_EXTENSIONS = (".json", ".gpl", ".txt", ".css")
_HEX = re.compile(r"#([0-9a-fA-F]{6})")
_CSS_PROPERTY = re.compile(r"--[A-Za-z0-9_-]+\s*:\s*([^;]*);")
# The most colours a palette file may hold: the most a paletted PNG can.
MAX_ENTRIES = 256


def entries(res: Any) -> list[dict[str, Any]]:
    """One dict per palette colour, most common first: hex, 8-bit rgb, pixel count and share; for an
    image that is not 8-bit, also the value in the image's own scale."""
    from pixclust.plot import _hex

    counts = np.asarray(res.counts)
    total = max(int(counts.sum()), 1)
    pal = res.palette
    rows = []
    for j in np.argsort(-counts, kind="stable"):
        hx = _hex(pal[j], pal.dtype)
        row: dict[str, Any] = {"hex": hx, "rgb": [int(hx[i:i + 2], 16) for i in (1, 3, 5)],
                               "count": int(counts[j]), "share": int(counts[j]) / total}
        if pal.dtype != np.uint8:
            row["value"] = [float(v) if pal.dtype.kind == "f" else int(v) for v in pal[j]]
        rows.append(row)
    return rows


def table_lines(res: Any) -> list[str]:
    """The printed table: hex, the values in the image's scale, share of pixels."""
    pal = res.palette
    lines = []
    for row, value in zip(entries(res), pal[np.argsort(-np.asarray(res.counts), kind="stable")]):
        if pal.dtype.kind == "f":
            values = " ".join(f"{float(v):.4f}" for v in value)
        else:
            values = " ".join(f"{int(v):{5 if pal.dtype == np.uint16 else 3}d}" for v in value)
        lines.append(f"  {row['hex']}  ({values})  {100 * row['share']:5.1f}%")
    return lines


def check_palette_path(path: str) -> str:
    """The format of a palette file from its extension (a CLIError for any other)."""
    ext = Path(path).suffix.lower()
    if ext not in PALETTE_EXTENSIONS:
        raise CLIError(f"{path}: unknown palette format {ext or '(no extension)'!r}; use " + ", ".join(PALETTE_EXTENSIONS))
    return ext


def format_palette(ext: str, rows: list[dict[str, Any]], name: str) -> str:
    """The text of a palette file."""
    if ext == ".json":
        return dump_json({"name": name, "colors": rows})
    if ext == ".gpl":
        head = ["GIMP Palette", f"Name: {name}", f"Columns: {min(len(rows), 8)}", "#"]
        return "\n".join(head + [f"{r:3d} {g:3d} {b:3d}\t{row['hex']} {100 * row['share']:.1f}%"
                                 for row in rows for r, g, b in [row["rgb"]]]) + "\n"
    if ext == ".txt":
        return "".join(f"{row['hex']}\n" for row in rows)
    body = [f"  --color-{i + 1}: {row['hex']};  /* {100 * row['share']:.1f}% */" for i, row in enumerate(rows)]
    return f"/* {name} */\n:root {{\n" + "\n".join(body) + "\n}\n"


def dump_json(doc: dict[str, Any]) -> str:
    """JSON with two-space indents and each colour on a line of its own (a key "colors" holds them)."""
    colours = doc.get("colors", [])
    head = json.dumps({k: v for k, v in doc.items() if k != "colors"}, indent=2)
    rows = ",\n".join(f"    {json.dumps(row)}" for row in colours)
    body = f'  "colors": [\n{rows}\n  ]' if colours else '  "colors": []'
    return (head[:-2] + ",\n" if len(head) > 2 else "{\n") + body + "\n}\n"


def write_palette(path: str, rows: list[dict[str, Any]], name: str, *, force: bool) -> None:
    """Write a palette file atomically (a temporary file renamed into place)."""
    from pixclust import _io

    text = format_palette(check_palette_path(path), rows, name)
    with _io.atomic_output(path, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


# ------------------------------------------------------------------------------------------- reading


def read_palette(path: str) -> np.ndarray:
    """The (k, 3) uint8 colours of a palette file, or of an image's distinct colours (at most 256)."""
    ext = Path(path).suffix.lower()
    if ext not in PALETTE_EXTENSIONS:
        return _image_palette(path)
    with reading(path):
        with open(path, encoding="utf-8") as fh:
            try:
                text = fh.read()
            except UnicodeDecodeError:
                raise CLIError(f"{path}: not a text file (a {ext} palette is UTF-8 text)") from None
    parse: dict[str, Callable[[str, list[str]], list[list[int]]]] = {
        ".json": _parse_json, ".gpl": _parse_gpl, ".txt": _parse_txt, ".css": _parse_css}
    colours = parse[ext](path, text.splitlines())
    if not colours:
        raise CLIError(f"{path}: no colours in the palette")
    if len(colours) > MAX_ENTRIES:
        raise CLIError(f"{path}: {len(colours)} colours; a palette holds at most {MAX_ENTRIES}")
    return np.array(colours, dtype=np.uint8).reshape(-1, 3)


def _bad(path: str, line: int, what: str) -> CLIError:
    return CLIError(f"{path}:{line}: {what}")


def _hex_colour(path: str, line: int, text: str) -> list[int]:
    m = _HEX.fullmatch(text.strip())
    if m is None:
        raise _bad(path, line, f"expected a colour like #a37e65, got {text.strip()[:40]!r}")
    return [int(m.group(1)[i:i + 2], 16) for i in (0, 2, 4)]


def _parse_txt(path: str, lines: list[str]) -> list[list[int]]:
    return [_hex_colour(path, i, ln) for i, ln in enumerate(lines, 1) if ln.strip()]


def _parse_gpl(path: str, lines: list[str]) -> list[list[int]]:
    if not lines or lines[0].strip() != "GIMP Palette":
        raise _bad(path, 1, "expected 'GIMP Palette' (a .gpl file's first line)")
    colours = []
    for i, ln in enumerate(lines[1:], 2):
        s = ln.strip()
        if not s or s.startswith("#") or re.match(r"(Name|Columns)\s*:", s):
            continue
        parts = s.split(None, 3)
        try:
            rgb = [int(v) for v in parts[:3]]
        except ValueError:
            rgb = []
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise _bad(path, i, f"expected three values from 0 to 255 (R G B), got {s[:40]!r}")
        colours.append(rgb)
    return colours


def _parse_css(path: str, lines: list[str]) -> list[list[int]]:
    colours = []
    for i, ln in enumerate(lines, 1):
        for m in _CSS_PROPERTY.finditer(ln):
            colours.append(_hex_colour(path, i, m.group(1)))
    return colours


def _parse_json(path: str, lines: list[str]) -> list[list[int]]:
    try:
        doc = json.loads("\n".join(lines))
    except json.JSONDecodeError as exc:
        raise _bad(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    items = doc.get("colors") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise _bad(path, 1, "expected a list of colours, or an object with one under \"colors\"")
    return [_json_colour(path, _json_line(lines, n, len(items)), n, item) for n, item in enumerate(items)]


def _json_colour(path: str, line: int, n: int, item: Any) -> list[int]:
    if isinstance(item, str):
        return _hex_colour(path, line, item)
    rgb = item.get("rgb") if isinstance(item, dict) else item
    if isinstance(item, dict) and rgb is None and isinstance(item.get("hex"), str):
        return _hex_colour(path, line, item["hex"])
    if (isinstance(rgb, list) and len(rgb) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in rgb)):
        return list(rgb)
    raise _bad(path, line, f"colour {n + 1}: expected \"rgb\": [R, G, B] in 0-255 or \"hex\": \"#rrggbb\"")


def _json_line(lines: list[str], n: int, total: int) -> int:
    """The line of the n-th of ``total`` colours when each has a line of its own (as written here, or
    a key of each on its own line), else 1."""
    for pattern in (r'"(hex|rgb)"\s*:|^\s*"#', r'"hex"\s*:', r'"rgb"\s*:'):
        found = [i for i, ln in enumerate(lines, 1) if re.search(pattern, ln)]
        if len(found) == total:
            return found[n]
    return 1


def _image_palette(path: str) -> np.ndarray:
    from pixclust._cli.images import read_image
    from pixclust._cli.progress import Progress

    img = read_image(path, Progress(quiet=True))
    if img.dtype != np.uint8:
        raise CLIError(f"{path}: a palette image must be 8-bit (this one is {img.dtype})")
    rgb = img[..., :3] if img.ndim == 3 and img.shape[2] >= 3 else np.repeat(img.reshape(*img.shape[:2], -1)[..., :1], 3, axis=2)
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    if len(colours) > MAX_ENTRIES:
        raise CLIError(f"{path}: {len(colours)} colours; a palette image holds at most {MAX_ENTRIES} "
                       "(a quantized PNG, or a .json/.gpl/.txt/.css palette)")
    return colours


def palette_name(path: Optional[str], k: int) -> str:
    return f"{Path(path).name if path and path != '-' else 'image'}, {k} colour{'s' if k != 1 else ''}"
