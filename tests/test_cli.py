"""The real ``pixclust`` command line in subprocesses, on real image files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import pixclust
from pixclust import _io

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent.parent / "shared" / "data"
BUNDLED = ROOT / "python" / "pixclust" / "data"
DATA = SHARED if (SHARED / "chelsea.png").exists() else BUNDLED
CHELSEA = DATA / "chelsea.png"
ROCKET = DATA / "rocket.jpg"
TUTORIAL_POINTS = [[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]]


def _script() -> list[str]:
    """The installed console script when it is there (it is in a pip install), else ``python -m``."""
    exe = Path(sys.executable).parent / ("pixclust.exe" if os.name == "nt" else "pixclust")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pixclust"]


def run(*args: object, cwd: Path | None = None, module: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pixclust"] if module else _script()
    return subprocess.run(
        cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def colours(path: Path, channels: int | None = None) -> int:
    a = _io.read_image(path)
    flat = a.reshape(a.shape[0] * a.shape[1], -1)
    if channels is not None:
        flat = flat[:, :channels]
    return len(np.unique(flat, axis=0))


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A PNG with alpha, a 16-bit grayscale PNG, an 8-bit grayscale PNG and a TIFF, made from the cat."""
    d = tmp_path_factory.mktemp("images")
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    h, w = rgb.shape[:2]
    grey = np.round(rgb.astype(np.float64) @ [0.299, 0.587, 0.114])
    out = {}
    alpha = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    alpha[: h // 3] = 255
    out["alpha"] = d / "alpha.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(out["alpha"])
    g16 = np.round(grey * 257).astype(np.uint16)
    out["gray16"] = d / "gray16.png"
    Image.frombytes("I;16", (w, h), g16.astype("<u2").tobytes()).save(out["gray16"])
    out["gray"] = d / "gray.png"
    Image.fromarray(grey.astype(np.uint8)).save(out["gray"])
    out["tiff"] = d / "cat.tif"
    Image.fromarray(rgb).save(out["tiff"])
    return out


# ----------------------------------------------------------------------------------------- quantize


def test_quantize_photo_writes_a_k_colour_paletted_png(tmp_path: Path) -> None:
    out = tmp_path / "cat8.png"
    r = run("quantize", CHELSEA, "-k", 8, "-o", out, "--seed", 3)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # a quick run shows no progress
    with Image.open(out) as im:
        assert im.mode == "P" and im.size == (451, 300)
    written = _io.read_image(out)
    expected = pixclust.quantize(_io.read_image(CHELSEA), 8, random_state=3)
    np.testing.assert_array_equal(written, expected.image)
    assert colours(out) <= 8
    lines = r.stdout.splitlines()
    swatches = [ln for ln in lines if ln.strip().startswith("#")]
    assert len(swatches) == 8
    shares = [float(ln.rsplit(None, 1)[-1].rstrip("%")) for ln in swatches]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 100) < 0.5
    inertia = float(next(ln for ln in lines if ln.startswith("inertia:")).split()[1])
    assert inertia == pytest.approx(expected.inertia, rel=1e-5)
    assert lines[-1] == f"wrote {out}"


def test_every_subcommand_has_its_module() -> None:
    # Commands are imported when run: each one the parser offers must resolve to its module's run.
    import argparse

    from pixclust._cli.commands import NAMES, command
    from pixclust._cli.parser import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) - {"config"} == set(NAMES)
    for name in NAMES:
        assert command(name).__module__ == f"pixclust._cli.commands.{name}"
    with pytest.raises(KeyError):
        command("shared")  # a helper module, not a command


@pytest.mark.parametrize("ext", [".png", ".gif", ".tif", ".bmp", ".jpg", ".webp"])
@pytest.mark.parametrize("kind", ["rgb", "gray", "rgba"])
def test_writing_labels_and_palette_alone_is_writing_their_image(tmp_path: Path, ext: str, kind: str) -> None:
    # The command line hands the writer a byte label map and the palette without the painted image:
    # every format must get the same file as from palette[labels].
    img = _io.read_image(CHELSEA)
    if kind == "gray":
        img = img[..., 1].copy()
    elif kind == "rgba":
        img = np.dstack([img, np.where(np.arange(451) < 200, 255, 90).astype(np.uint8)[None, :].repeat(300, 0)])
    res = pixclust.quantize(img, 40, random_state=0, cluster_alpha=True)  # rgba: palette[labels] has alpha
    index = res._index_map()
    assert index is not None and index.dtype == np.uint8
    _io.write_image(tmp_path / f"a{ext}", res.image, labels=res.labels, palette=res.palette)
    _io.write_image(tmp_path / f"b{ext}", None, labels=index, palette=res.palette)
    assert (tmp_path / f"a{ext}").read_bytes() == (tmp_path / f"b{ext}").read_bytes()
    assert _io.encode_image(None, labels=index, palette=res.palette, ext=ext) == (tmp_path / f"a{ext}").read_bytes()


@pytest.mark.parametrize("k", [5, 256])
def test_clustered_alpha_palette_files_hold_the_image(tmp_path: Path, k: int) -> None:
    # A palette of four clustered channels (RGBA): the PNG holds the image exactly, the BMP its
    # composite on white, the GIF its pixels of half opacity or more (before, the PNG's colours were the
    # RGBA rows read as RGB, and BMP and k = 256 PNG raised).
    img = _io.read_image(CHELSEA)
    img = np.dstack([img, np.where(np.arange(451) < 200, 255, 90).astype(np.uint8)[None, :].repeat(300, 0)])
    res = pixclust.quantize(img, k, random_state=0, cluster_alpha=True)
    assert res.palette.shape == (k, 4)
    for ext in (".png", ".bmp", ".gif"):
        _io.write_image(tmp_path / f"x{ext}", res.image, labels=res.labels, palette=res.palette)
        with Image.open(tmp_path / f"x{ext}") as im:
            assert im.mode == "P"
    np.testing.assert_array_equal(_io.read_image(tmp_path / "x.png"), res.image)
    np.testing.assert_array_equal(_io.read_image(tmp_path / "x.bmp"), _io.composite(res.image, (255, 255, 255)))
    gif, shown = _io.read_image(tmp_path / "x.gif"), res.image[..., 3] >= 128
    np.testing.assert_array_equal(gif[shown][:, :3], res.image[shown][:, :3])
    assert not gif[~shown].any()


def test_writing_labels_alone_refuses_labels_that_are_no_palette_row(tmp_path: Path) -> None:
    palette = np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)
    for labels in (np.array([[0, -1]], dtype=np.int32), np.array([[0, 2]], dtype=np.uint8)):
        with pytest.raises(ValueError, match="every label must be a row of palette"):
            _io.write_image(tmp_path / "x.png", None, labels=labels, palette=palette)
    with pytest.raises(ValueError, match="None needs labels and palette"):
        _io.write_image(tmp_path / "x.png", None, labels=np.zeros((1, 2), np.uint8))
    assert not (tmp_path / "x.png").exists()


def test_quantize_jpeg_dithered_in_lab_default_output_name(tmp_path: Path) -> None:
    r = run("quantize", ROCKET, "-k", 6, "--dither", "--space", "lab", "--threads", 2, cwd=tmp_path, module=True)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "rocket-k6-dither.png"
    assert out.exists()
    with Image.open(out) as im:
        assert im.size == (640, 427) and im.mode == "P"
    assert colours(out) <= 6
    # Dithering mixes the colours: no large flat area of one colour where the sky is a gradient.
    labels = np.asarray(Image.open(out))
    assert len(np.unique(labels[:50, 250:400])) >= 2


def _zlib_level_class(path: Path) -> int:
    """FLEVEL of the PNG's zlib stream (RFC 1950): 1 for zlib levels 2-5, 2 for level 6."""
    data = path.read_bytes()
    return data[data.index(b"IDAT") + 5] >> 6


@pytest.mark.parametrize("dither", [False, True])
def test_large_png_zlib_level_and_dithered_labels(tmp_path: Path, dither: bool) -> None:
    # Over 2 MP a PNG is written at zlib level 6, and a dithered one at level 4 (noise: 3x the time at
    # level 6 for a 3% smaller file); the pixels are the same whatever the level.
    with Image.open(CHELSEA) as im:
        big = np.asarray(im.convert("RGB").resize((1800, 1200), Image.BILINEAR))
    src, out = tmp_path / "big.png", tmp_path / "out.png"
    Image.fromarray(big).save(src)
    r = run("quantize", src, "-k", 16, "--seed", 1, "-o", out, *(["--dither"] if dither else []))
    assert r.returncode == 0, r.stderr
    assert _zlib_level_class(out) == (1 if dither else 2)
    res = pixclust.quantize(big, 16, random_state=1)
    expected = pixclust.dither(big, res.palette, strength=0.875) if dither else res.image
    np.testing.assert_array_equal(_io.read_image(out), expected)


def test_quantize_png_with_alpha_keeps_alpha(tmp_path: Path, images: dict[str, Path]) -> None:
    out = tmp_path / "a.png"
    r = run("quantize", images["alpha"], "-k", 5, "-o", out)
    assert r.returncode == 0, r.stderr
    src, got = _io.read_image(images["alpha"]), _io.read_image(out)
    assert got.shape == src.shape
    np.testing.assert_array_equal(got[..., 3], src[..., 3])
    visible = src[..., 3] > 0
    assert len(np.unique(got[visible][:, :3], axis=0)) <= 5
    assert not got[~visible].any()  # the fully transparent column is transparent black


def test_quantize_16_bit_png_stays_16_bit(tmp_path: Path, images: dict[str, Path]) -> None:
    out = tmp_path / "g16.png"
    r = run("quantize", images["gray16"], "-k", 4, "-o", out, "--dither")
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.mode.startswith("I;16") or im.mode == "I"
    got = _io.read_image(out)
    assert got.dtype == np.uint16 and got.shape == (300, 451)
    palette = pixclust.quantize(_io.read_image(images["gray16"]), 4, random_state=0).palette
    assert set(np.unique(got).tolist()) <= set(palette.ravel().tolist())
    assert "16-bit" in r.stdout


def test_quantize_grayscale_and_tiff(tmp_path: Path, images: dict[str, Path]) -> None:
    out = tmp_path / "g.png"
    assert run("quantize", images["gray"], "-k", 3, "-o", out).returncode == 0
    got = _io.read_image(out)
    assert got.ndim == 2 and got.shape == (300, 451) and len(np.unique(got)) <= 3
    out2 = tmp_path / "t.png"
    r = run("quantize", images["tiff"], "-k", 7, "-o", out2)
    assert r.returncode == 0, r.stderr
    assert colours(out2) <= 7


def _float_tiff(path: Path, values: np.ndarray) -> Path:
    im = Image.fromarray(values.astype(np.float32))
    assert im.mode == "F"  # Pillow's 32-bit float mode, as a float TIFF holds it
    im.save(path)
    return path


def test_float_tiff_in_0_1_is_read_as_a_float_image(tmp_path: Path) -> None:
    # A float image in [0, 1] is intensities (what matplotlib's imread gives for a float image), not
    # an error claiming its values lie outside 0-65535.
    grey = np.asarray(Image.open(CHELSEA).convert("L"), dtype=np.float64) / 255.0
    path = _float_tiff(tmp_path / "grey.tif", grey)
    got = _io.read_image(path)
    assert got.dtype == np.float32 and got.shape == grey.shape
    np.testing.assert_array_equal(got, grey.astype(np.float32))
    # Whole-valued float images keep reading as 16-bit.
    whole = _io.read_image(_float_tiff(tmp_path / "whole.tif", np.round(grey * 300)))
    assert whole.dtype == np.uint16 and int(whole.max()) == int(np.round(grey * 300).max())


def test_quantize_float_tiff(tmp_path: Path) -> None:
    from sklearn.cluster import KMeans as SKKMeans

    grey = np.asarray(Image.open(CHELSEA).convert("L"), dtype=np.float64) / 255.0
    src = _float_tiff(tmp_path / "grey.tif", grey)
    out = tmp_path / "grey-k4.tif"
    r = run("quantize", src, "-k", 4, "-o", out, "--seed", 1)
    assert r.returncode == 0, r.stderr
    assert "32-bit float" in r.stdout
    got = _io.read_image(out)
    assert got.dtype == np.float32 and got.shape == grey.shape and len(np.unique(got)) == 4
    # scikit-learn on the file's values in float64 (its float32 arithmetic takes another path)
    ref = SKKMeans(4, random_state=1).fit(grey.astype(np.float32).astype(np.float64).reshape(-1, 1))
    np.testing.assert_allclose(np.sort(np.unique(got)), np.sort(ref.cluster_centers_.ravel()), rtol=1e-6)
    png = tmp_path / "grey-k4.png"
    r = run("quantize", src, "-k", 4, "-o", png, "--seed", 1)
    assert r.returncode == 0 and "use .tif" in r.stdout, r.stderr
    assert _io.read_image(png).dtype == np.uint16 and len(np.unique(_io.read_image(png))) == 4


def test_unusable_float_and_32_bit_images_say_why_and_name_the_file(tmp_path: Path) -> None:
    ramp = np.linspace(0.0, 300.5, 12).reshape(3, 4)
    wide = _float_tiff(tmp_path / "wide.tif", ramp)
    with pytest.raises(_io.ImageReadError, match=re.escape(f"{wide}: a 32-bit float (F-mode) image with values from 0 to 300.5 ")):
        _io.read_image(wide)
    nan = ramp / 300.5
    nan[1, 2] = np.nan
    bad = _float_tiff(tmp_path / "nan.tif", nan)
    with pytest.raises(_io.ImageReadError, match=re.escape(f"{bad}: a 32-bit float (F-mode) image with NaN")):
        _io.read_image(bad)
    big = tmp_path / "i32.tif"
    Image.fromarray(np.array([[0, 7], [9, 100000]], dtype=np.int32)).save(big)
    with pytest.raises(_io.ImageReadError, match=re.escape(f"{big}: a 32-bit integer (I-mode) image with values from 0 to 100000 ")):
        _io.read_image(big)
    r = run("quantize", wide, "-k", 3, "-o", tmp_path / "o.png")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and str(wide) in r.stderr
    fine = _float_tiff(tmp_path / "fine.tif", ramp / 300.5)
    r = run("quantize", fine, "-k", 3, "--dither", "-o", tmp_path / "d.png")
    assert r.returncode == 2 and "--dither needs an 8- or 16-bit image" in r.stderr and "Traceback" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["fine.tif", "i32.tif", "nan.tif", "wide.tif"]


# ----------------------------------------------------------------------------- compare and palette


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of the runs of True."""
    runs, start = [], None
    for i, v in enumerate(mask.tolist() + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def test_compare_grid_has_two_rows_of_three_panels(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    r = run("compare", CHELSEA, "-k", 10, 8, 6, 4, 2, "-o", out)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[0] for ln in r.stdout.splitlines() if "colours: inertia" in ln] == ["10", "8", "6", "4", "2"]
    grid = np.asarray(Image.open(out).convert("RGB")).astype(int)
    ink = np.abs(grid - 255).sum(axis=2) > 30  # not background white
    # Panels: three column bands and two row bands of picture (titles are thin bands of their own).
    cols = [r_ for r_ in _runs(ink.mean(axis=0) > 0.3) if r_[1] > 100]
    rows = [r_ for r_ in _runs(ink.mean(axis=1) > 0.3) if r_[1] > 100]
    assert len(cols) == 3 and len(rows) == 2
    # Each panel keeps the photo's aspect ratio (451 x 300 plus its palette strip below).
    width = np.mean([c[1] for c in cols])
    height = np.mean([rr[1] for rr in rows])
    assert 300 / 451 < height / width < (300 + 0.1 * 451) / 451


def _bands(ink: np.ndarray, axis: int, least: int = 100) -> list[tuple[int, int]]:
    return [r_ for r_ in _runs(ink.mean(axis=axis) > 0.3) if r_[1] > least]


def test_compare_width_dpi_ncols_and_title(tmp_path: Path) -> None:
    out = tmp_path / "wide.png"
    r = run("compare", CHELSEA, "-k", 4, 2, "--width", 800, "--dpi", 80, "-o", out)
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.size[0] == 800 and im.info["Title"] == "chelsea.png: k-means in RGB"
    # One column of three panels, 400 pixels wide, with a title of our own; CIELAB without a title of ours
    tall = tmp_path / "tall.png"
    r = run("compare", CHELSEA, "-k", 4, 2, "--width", 400, "--ncols", 1, "--title", "my cat", "-o", tall)
    assert r.returncode == 0, r.stderr
    with Image.open(tall) as im:
        assert im.size[0] == 400 and im.info["Title"] == "my cat" and im.size[1] > 2.5 * 400 * 300 / 451
        ink = np.abs(np.asarray(im.convert("RGB")).astype(int) - 255).sum(axis=2) > 30
    assert len(_bands(ink, 0)) == 1 and len(_bands(ink, 1)) == 3
    lab = tmp_path / "lab.png"
    r = run("compare", CHELSEA, "-k", 3, "--space", "lab", "--dpi", 200, "--width", 1000, "-o", lab)
    assert r.returncode == 0, r.stderr
    with Image.open(lab) as im:
        assert im.size[0] == 1000 and "CIELAB" in im.info["Title"]


def test_compare_panels_hold_only_palette_colours(tmp_path: Path) -> None:
    # The 12-MP case in small: a photo larger than its panel is shrunk to the panel's size, and the
    # quantized panel (found in the file by Pillow) holds only the k colours the same k-means gives.
    big = tmp_path / "big.png"
    Image.open(CHELSEA).convert("RGB").resize((1804, 1200), Image.BICUBIC).save(big)
    out = tmp_path / "two.png"
    r = run("compare", big, "-k", 5, "--ncols", 2, "--width", 900, "--seed", 2, "-o", out)
    assert r.returncode == 0, r.stderr
    grid = np.asarray(Image.open(out).convert("RGB"))
    ink = np.abs(grid.astype(int) - 255).sum(axis=2) > 30
    cols, rows = _bands(ink, 0), _bands(ink, 1)
    assert len(cols) == 2 and rows
    (x, wd), (y, ht) = cols[1], max(rows, key=lambda b: b[1])
    panel = grid[y + 3: y + ht - 3, x + 3: x + wd - 3].reshape(-1, 3)
    drawn = {tuple(c) for c in np.unique(panel, axis=0).tolist()}
    palette = pixclust.quantize(_io.read_image(big), 5, random_state=2).palette
    assert drawn <= {tuple(c) for c in palette.tolist()} and len(drawn) >= 3


def test_palette_swatches(tmp_path: Path) -> None:
    out = tmp_path / "sw.png"
    r = run("palette", CHELSEA, "-k", 8, "-o", out)
    assert r.returncode == 0, r.stderr
    assert sum(ln.strip().startswith("#") for ln in r.stdout.splitlines()) == 8
    with Image.open(out) as im:
        assert im.size[0] > im.size[1]


# --------------------------------------------------------------------------------------- dendrogram


@pytest.mark.parametrize("fmt", ["csv", "tsv", "npy"])
def test_dendrogram_labels_equal_scipy(tmp_path: Path, fmt: str) -> None:
    from scipy.cluster.hierarchy import fcluster, linkage

    X = np.array(TUTORIAL_POINTS, dtype=float)
    data = tmp_path / f"points.{fmt}"
    if fmt == "npy":
        np.save(data, X)
    else:
        np.savetxt(data, X, delimiter="," if fmt == "csv" else "\t", header="x,y" if fmt == "csv" else "", comments="")
    out, sc, lab = tmp_path / "d.png", tmp_path / "s.png", tmp_path / "l.csv"
    r = run("dendrogram", data, "-o", out, "--method", "single", "--cut", 3, "--scatter", sc, "--labels", lab)
    assert r.returncode == 0, r.stderr
    assert out.exists() and sc.exists()
    with open(lab, newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = fcluster(linkage(X, "single"), 3, criterion="distance")
    assert [int(row["cluster"]) for row in rows] == expected.tolist()
    assert f"cut at distance 3: {expected.max()} clusters" in r.stdout


def test_scatter_axis_labels_come_from_the_csv_header(tmp_path: Path) -> None:
    data = tmp_path / "pts.csv"
    data.write_text("width_mm,height_mm\n" + "".join(f"{x},{y}\n" for x, y in TUTORIAL_POINTS))
    scatter = tmp_path / "s.svg"
    r = run("dendrogram", data, "-o", tmp_path / "d.png", "--cut", 3, "--scatter", scatter, "-q")
    assert r.returncode == 0, r.stderr
    svg = scatter.read_text()  # matplotlib's SVG keeps each text as a comment beside its glyphs
    assert "width_mm" in svg and "height_mm" in svg
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(f"{x},{y}\n" for x, y in TUTORIAL_POINTS))
    r = run("dendrogram", plain, "-o", tmp_path / "d2.png", "--cut", 3, "--scatter", tmp_path / "s2.svg", "-q")
    assert r.returncode == 0 and "width_mm" not in (tmp_path / "s2.svg").read_text()


def test_dendrogram_maxclust_above_the_point_count_is_scipys_answer(tmp_path: Path) -> None:
    # SciPy's fcluster takes the count as a C long: 1e18 overflowed it (a traceback); any count from n
    # up gives the same clusters, which the CLI now reports.
    from scipy.cluster.hierarchy import fcluster, linkage

    X = np.array(TUTORIAL_POINTS, dtype=float)
    data = tmp_path / "points.csv"
    np.savetxt(data, X, delimiter=",")
    lab = tmp_path / "l.csv"
    r = run("dendrogram", data, "-o", tmp_path / "d.png", "--cut", "1e18", "--criterion", "maxclust", "--labels", lab)
    assert r.returncode == 0, r.stderr
    expected = fcluster(linkage(X, "ward"), len(X), criterion="maxclust")
    with open(lab, newline="") as fh:
        assert [int(row["cluster"]) for row in csv.DictReader(fh)] == expected.tolist()
    assert f"cut at maxclust 1e+18: {expected.max()} clusters" in r.stdout


def test_dendrogram_condensed_maxclust_ward(tmp_path: Path) -> None:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    data = tmp_path / "d.txt"
    np.savetxt(data, pdist(X)[None, :])
    lab = tmp_path / "l.csv"
    r = run("dendrogram", data, "-o", tmp_path / "d.png", "--cut", 4, "--criterion", "maxclust", "--labels", lab)
    assert r.returncode == 0, r.stderr
    got = np.loadtxt(lab, delimiter=",", skiprows=1, dtype=int)[:, 1]
    np.testing.assert_array_equal(got, fcluster(linkage(pdist(X), "ward"), 4, criterion="maxclust"))


# --------------------------------------------------------------------------------------------- demo


def test_demo_writes_every_picture_and_refuses_to_overwrite(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    r = run("demo", "-o", d)
    assert r.returncode == 0, r.stderr
    listed = [ln.split()[0] for ln in r.stdout.splitlines()[1:]]
    assert len(listed) == 9 and all(Path(p).exists() for p in listed)
    assert sorted(os.listdir(d)) == sorted(Path(p).name for p in listed)
    assert colours(d / "chelsea-k8.png") <= 8
    before = {p: (d / p).stat().st_mtime_ns for p in os.listdir(d)}
    again = run("demo", "-o", d)
    assert again.returncode == 2 and "already exists (use --force" in again.stderr
    assert {p: (d / p).stat().st_mtime_ns for p in os.listdir(d)} == before
    assert run("demo", "-o", d, "--force", "-q").returncode == 0


# ---------------------------------------------------------------------------------------- bad input


def _bad_cases(tmp: Path) -> list[tuple[list[object], str]]:
    text = tmp / "notes.png"
    text.write_text("not an image\n")
    truncated = tmp / "cut.png"
    truncated.write_bytes(CHELSEA.read_bytes()[:4000])
    three = tmp / "three.png"
    Image.fromarray(np.array([[[0, 0, 0], [255, 0, 0], [0, 0, 255]]], dtype=np.uint8)).save(three)
    existing = tmp / "exists.png"
    existing.write_bytes(b"keep me")
    ragged = tmp / "ragged.csv"
    ragged.write_text("1,2\n3\n")
    nan = tmp / "nan.csv"
    nan.write_text("1,2\nnan,3\n")
    one = tmp / "one.csv"
    one.write_text("1,2\n")
    pts3 = tmp / "p3.csv"
    pts3.write_text("1,2,3\n4,5,6\n7,8,8\n")
    o = tmp / "out.png"
    if sys.platform.startswith("linux"):
        # Works for root too (which ignores directory permissions): nothing can be created in /proc.
        unwritable, unwritable_message = Path("/proc"), "cannot create a file in /proc"
    else:
        unwritable = tmp.parent / f"{tmp.name}-readonly"
        unwritable.mkdir(exist_ok=True)
        unwritable.chmod(0o500)
        unwritable_message = "is not writable"
    return [
        (["quantize", tmp / "missing.png", "-k", 4, "-o", o], "no such file"),
        (["quantize", tmp, "-k", 4, "-o", o], "is a directory"),
        (["quantize", text, "-k", 4, "-o", o], "not an image file"),
        (["quantize", truncated, "-k", 4, "-o", o], "cannot decode"),
        (["quantize", CHELSEA, "-k", 0, "-o", o], "between 1 and 256"),
        (["quantize", CHELSEA, "-k", 257, "-o", o], "between 1 and 256"),
        (["quantize", CHELSEA, "-k", "many", "-o", o], "expected an integer"),
        (["quantize", three, "-k", 5, "-o", o], "larger than the number of distinct colours"),
        (["quantize", three, "-k", 2, "-o", three, "--force"], "the output is the input"),
        (["quantize", CHELSEA, "-k", 4, "-o", existing], "already exists (use --force"),
        (["quantize", CHELSEA, "-k", 4, "-o", tmp / "nodir" / "o.png"], "does not exist"),
        (["quantize", CHELSEA, "-k", 4, "-o", unwritable / "o.png"], unwritable_message),
        (["quantize", CHELSEA, "-k", 4, "-o", tmp / "o.xyz"], "cannot write '.xyz'"),
        (["quantize", CHELSEA, "-k", 4, "--space", "hsv", "-o", o], "invalid choice"),
        (["compare", CHELSEA, "-k", 4, 300, "-o", o], "between 1 and 256"),
        (["compare", CHELSEA, "-k", 4, "-o", tmp / "grid.txt"], "cannot save a figure"),
        (["palette", three, "-k", 2, "--space", "lab", "-o", o, "--force"], ""),  # fine: 3 colours, k=2
        (["dendrogram", ragged, "-o", o], "same number of values"),
        (["dendrogram", nan, "-o", o], "NaN"),
        (["dendrogram", one, "-o", o], "at least 2 points"),
        (["dendrogram", CHELSEA, "-o", o], "not a text file"),
        (["dendrogram", pts3, "-o", o, "--scatter", tmp / "s.png"], "need --cut"),
        (["dendrogram", pts3, "-o", o, "--cut", 2, "--scatter", tmp / "s.png"], "needs 2-D points"),
        (["dendrogram", pts3, "-o", o, "--metric", "cityblock"], "Euclidean"),
        (["dendrogram", pts3, "-o", o, "--cut", 1.5, "--criterion", "maxclust"], "number of clusters"),
        (["dendrogram", pts3, "-o", o, "--cut", "inf"], "--cut: expected a finite number, got 'inf'"),
        (["dendrogram", pts3, "-o", o, "--cut", "nan"], "--cut: expected a finite number, got 'nan'"),
        (["dendrogram", pts3, "-o", o, "--cut", "1e400"], "--cut: expected a finite number"),
        (["dendrogram", pts3, "-o", o, "--cut", "NaN", "--criterion", "maxclust"], "--cut: expected a finite number"),
        (["dendrogram", pts3, "-o", o, "--cut", "Infinity", "--criterion", "maxclust"], "--cut: expected a finite number"),
        (["frobnicate"], "invalid choice"),
        (["quantize", CHELSEA, "-k", 4, "-o", o, "--threads", 99999999999], "expected a thread count from 1 to"),
        (["compare", CHELSEA, "-k", 4, "-o", o, "--threads", 0], "expected a thread count from 1 to"),
        (["demo", "-o", tmp / "demo", "--threads", 2**40], "expected a thread count from 1 to"),
        (["quantize", CHELSEA, "-k", 4, "-o", o, "--seed", 2**32], "expected a seed from 0 to 4294967295"),
        (["demo", "-o", tmp / "demo", "--seed", -5], "expected a seed from 0 to 4294967295"),
        (["quantize", CHELSEA, "-k", 4, "-o", o, "--seed", -5], "expected a seed from 0 to 4294967295, got -5"),
        (["quantize", CHELSEA, "-k", 4, "-o", o, "--n-init", 0], "--n-init: expected a number of runs from 1 to 1000"),
        (["quantize", CHELSEA, "-k", 4, "-o", o, "--max-iter", 0], "--max-iter: expected an iteration count from 1"),
        (["palette", CHELSEA, "-k", 4, "--tol", -1], "--tol: expected a tolerance >= 0, got -1"),
        (["compare", CHELSEA, "-o", o, "--tol", "nan"], "--tol: expected a finite number"),
        (["quantize", CHELSEA, "-k", 4, "--palette", tmp / "p.txt", "-o", o], "not both"),
        (["quantize", CHELSEA, "-o", o], "give -k (the number of colours) or --palette"),
        (["quantize", CHELSEA, "--palette", tmp / "missing.gpl", "-o", o], "missing.gpl: no such file"),
        (["palette", CHELSEA, "-k", 4, "-o", tmp / "pal.ase"], "unknown format '.ase'"),
        (["palette", CHELSEA, "-k", 4, "-o", tmp / "pal"], "unknown format '(no extension)'"),
        (["compare", CHELSEA, "-o", o, "--width", 5], "--width: expected a width in pixels from 100 to 20000"),
        (["compare", CHELSEA, "-o", o, "--dpi", "nan"], "--dpi: expected a finite number"),
        (["compare", CHELSEA, "-o", o, "--dpi", 0], "--dpi: expected pixels per inch from 10 to 1200"),
        (["compare", CHELSEA, "-o", o, "--ncols", 0], "--ncols: expected a number of columns from 1 to 64"),
    ]


def _check_bad(tmp_path: Path, args: list[object], message: str, result: tuple[int, str, str]) -> None:
    code, out, err = result
    assert code == 2, (args, out, err)
    assert message in err, (args, err)
    assert len(err.strip().splitlines()) == 1, (args, err)
    assert "Traceback" not in err and out == ""


def test_bad_input_in_the_real_script(tmp_path: Path) -> None:
    # A subprocess costs an interpreter start: the real script on one case of each kind, and every
    # case in-process below (the same code path after argument parsing).
    cases = _bad_cases(tmp_path)
    for i in (0, 2, 4, 6, 8, 9, 11, 17):
        args, message = cases[i]
        before = sorted(os.listdir(tmp_path))
        r = run(*args)
        _check_bad(tmp_path, args, message, (r.returncode, r.stdout, r.stderr))
        assert sorted(os.listdir(tmp_path)) == before, args  # no output, no temporary file


def test_bad_input_is_one_line_exit_2_and_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pixclust._cli import run as cli

    for args, message in _bad_cases(tmp_path):
        before = sorted(os.listdir(tmp_path))
        try:
            code = cli([str(a) for a in args])
        except SystemExit as exc:  # argparse's own errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        if not message:  # the control case really works
            assert code == 0, err
            (tmp_path / "out.png").unlink()
            continue
        _check_bad(tmp_path, args, message, (code, out, err))
        assert sorted(os.listdir(tmp_path)) == before, args
    assert (tmp_path / "exists.png").read_bytes() == b"keep me"


def test_force_replaces_an_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "o.png"
    out.write_bytes(b"old")
    r = run("quantize", CHELSEA, "-k", 2, "-o", out, "--force", "-q")
    assert r.returncode == 0, r.stderr
    assert colours(out) <= 2


def test_atomic_output_leaves_nothing_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    with pytest.raises(RuntimeError):
        with _io.atomic_output(target) as tmp:
            Path(tmp).write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with _io.atomic_output(target, force=True) as tmp:
            Path(tmp).write_bytes(b"half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["x.png"] and target.read_bytes() == b"old"


def test_console_script_and_module_agree() -> None:
    a = run("--version")
    b = run("--version", module=True)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout == f"pixclust {pixclust.__version__}\n"
    # pyproject's [project.scripts] entry is installed next to the interpreter.
    assert _script()[0] != sys.executable


def test_rgba_with_few_alpha_values_is_a_paletted_png_with_transparency(tmp_path: Path) -> None:
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    alpha = np.where(np.arange(rgb.shape[1]) < 200, 0, 255).astype(np.uint8)[None, :].repeat(rgb.shape[0], 0)
    src = tmp_path / "cut-out.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(src)
    out = tmp_path / "q.png"
    r = run("quantize", src, "-k", 6, "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    # pngquant's answer: six visible colours and one transparent entry
    with Image.open(out) as im:
        assert im.mode == "P" and "transparency" in im.info
        t = im.info["transparency"]  # Pillow gives one transparent index as an int, else per-entry alphas
        used = np.unique(np.asarray(im))
        trns = np.full(256, 255, np.uint8)
        if isinstance(t, int):
            trns[t] = 0
        else:
            trns[: len(t)] = np.frombuffer(t, dtype=np.uint8)
        assert len(used) == 7
        assert sorted(trns[used].tolist()) == [0] + [255] * 6
    got = _io.read_image(out)
    np.testing.assert_array_equal(got[..., 3], alpha)
    assert not got[alpha == 0].any()  # the hidden part of the cat does not show through
    # The six colours are k-means on the visible pixels alone, and the shares are theirs.
    visible = rgb[alpha == 255]
    ref = pixclust.quantize(visible[None], 6, random_state=0)
    assert isinstance(ref, pixclust.QuantizeResult)
    assert {tuple(c) for c in np.unique(got[alpha == 255][:, :3], axis=0).tolist()} == \
        {tuple(c) for c in ref.palette.tolist()}
    doc = json.loads(r.stdout)
    assert len(doc["colors"]) == 6 and sum(c["count"] for c in doc["colors"]) == len(visible)
    # --alpha keep clusters the hidden pixels too: other colours, still written transparent
    keep = tmp_path / "keep.png"
    assert run("quantize", src, "-k", 6, "-o", keep, "--alpha", "keep", "-q").returncode == 0
    kept = _io.read_image(keep)
    assert not kept[alpha == 0].any()
    assert {tuple(c) for c in np.unique(kept[alpha == 255][:, :3], axis=0).tolist()} != \
        {tuple(c) for c in ref.palette.tolist()}


def test_alpha_weight_and_dither_on_the_cli(tmp_path: Path) -> None:
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    rng = np.random.default_rng(3)
    alpha = rng.integers(0, 256, size=rgb.shape[:2]).astype(np.uint8)
    alpha[:, :100] = 0
    img = np.dstack([rgb, alpha])
    src = tmp_path / "ragged.png"
    Image.fromarray(img).save(src)
    r = run("palette", src, "-k", 5, "--alpha", "weight", "--json")
    assert r.returncode == 0, r.stderr
    ref = pixclust.quantize(img, 5, random_state=0, alpha="weight")
    assert isinstance(ref, pixclust.QuantizeResult)
    assert json.loads(r.stdout)["inertia"] == pytest.approx(ref.inertia, rel=1e-12)
    out = tmp_path / "d.png"
    assert run("quantize", src, "-k", 4, "--dither", "-o", out, "-q").returncode == 0
    got = _io.read_image(out)
    assert not got[alpha == 0].any()  # dithering does not reveal hidden colours either


@pytest.mark.parametrize(("flags", "strength"), [(["--dither"], 0.875), (["--dither-strength", "1"], 1.0),
                                                (["--dither", "--dither-strength", "0.3"], 0.3)])
def test_dither_strength_is_pixclust_dither_at_that_strength(tmp_path: Path, flags: list[str], strength: float) -> None:
    out = tmp_path / "d.png"
    r = run("quantize", CHELSEA, "-k", 7, *flags, "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dither"] is True and doc["dither_strength"] == strength
    img = np.asarray(Image.open(CHELSEA).convert("RGB"))
    palette = pixclust.quantize(img, 7, random_state=0).palette
    expected = pixclust.dither(img, palette, strength=strength)
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), expected)


def test_dither_strength_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    for bad in ("1.5", "-0.1", "nan", "half"):
        r = run("quantize", CHELSEA, "-k", 4, "--dither-strength", bad, "-o", tmp_path / "x.png")
        assert r.returncode == 2 and "--dither-strength" in r.stderr and "Traceback" not in r.stderr
    for bad in ("2", "x"):
        r = run("compare", CHELSEA, "-k", 4, "--dither-strength", bad, "-o", tmp_path / "c.png")
        assert r.returncode == 2 and "--dither-strength" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(("flags", "strength"), [(["--dither"], 0.875), (["--dither-strength", "0"], 0.0)])
def test_shared_palette_dithers_at_the_same_strength_as_one_image(tmp_path: Path, flags: list[str],
                                                                   strength: float) -> None:
    pytest.importorskip("dask")
    src = tmp_path / "in"
    src.mkdir()
    img = np.asarray(Image.open(CHELSEA).convert("RGB"))[:120, :160]
    Image.fromarray(img).save(src / "a.png")
    Image.fromarray(np.ascontiguousarray(img[::-1])).save(src / "b.png")
    r = run("quantize", src / "a.png", src / "b.png", "-k", 5, *flags, "--shared-palette", "-o", tmp_path / "out", "-q")
    assert r.returncode == 0, r.stderr
    for name, frame in (("a.png", img), ("b.png", np.ascontiguousarray(img[::-1]))):
        with Image.open(tmp_path / "out" / name.replace(".png", "-k5.png")) as im:
            assert im.mode == "P"
            palette = np.asarray(im.getpalette()[:15], np.uint8).reshape(5, 3)  # the shared palette, in order
            got = np.asarray(im.convert("RGB"))
        np.testing.assert_array_equal(got, pixclust.dither(frame, palette, strength=strength))


def test_jpeg_of_rgba_is_composited_on_the_background(tmp_path: Path) -> None:
    # Left half hidden red (alpha 0), right half: blue at opacity 0.2 and green fully opaque.
    img = np.zeros((64, 128, 4), np.uint8)
    img[:, :64] = [255, 0, 0, 0]
    img[:32, 64:] = [0, 0, 255, 51]
    img[32:, 64:] = [0, 160, 0, 255]
    src = tmp_path / "layers.png"
    Image.fromarray(img).save(src)
    for background, bg in ((None, (255, 255, 255)), ("black", (0, 0, 0)), ("#336699", (0x33, 0x66, 0x99))):
        out = tmp_path / f"o-{bg[0]}.jpg"
        extra = [] if background is None else ["--background", background]
        r = run("quantize", src, "-k", 2, "-o", out, "-q", *extra)
        assert r.returncode == 0, r.stderr
        got = np.asarray(Image.open(out).convert("RGB")).astype(np.float64)
        a = img[..., 3:] / 255.0
        expected = img[..., :3] * a + np.array(bg, float) * (1 - a)  # computed here, not by pixclust
        inner = (slice(4, 28), slice(8, 56)), (slice(4, 28), slice(72, 120)), (slice(36, 60), slice(72, 120))
        for sl in inner:  # away from the edges, where JPEG blurs the halves together
            assert np.abs(got[sl] - expected[sl]).max() <= 6, (background, sl)
        assert got[4:60, 8:56, 0].min() < 250 or bg == (255, 255, 255)
        assert np.abs(got[4:60, 8:56] - np.array(bg, float)).max() <= 6  # no red where it was hidden
    bad = run("quantize", src, "-k", 2, "-o", tmp_path / "x.jpg", "--background", "notacolour")
    assert bad.returncode == 2 and "expected a colour such as #ffffff" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.jpg").exists()


def test_demo_creates_missing_parent_directories(tmp_path: Path) -> None:
    from pixclust._cli import run as cli

    d = tmp_path / "a" / "b"
    assert cli(["demo", "-o", str(d), "-q"]) == 0
    assert (d / "chelsea-compare.png").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli(["demo", "-o", str(blocker / "sub"), "-q"]) == 2


# ------------------------------------------------------------------- palette files, JSON, --palette


@pytest.mark.parametrize("fmt", ["json", "gpl", "txt", "css"])
def test_palette_file_round_trip_and_quantize_onto_it(tmp_path: Path, fmt: str) -> None:
    from pixclust._cli.palettes import read_palette

    pal = tmp_path / f"pal.{fmt}"
    r = run("palette", CHELSEA, "-k", 6, "--seed", 1, "-o", pal, "--json")
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    # The same k-means in-process, most common colour first: what the file must hold, in that order.
    ref = pixclust.quantize(np.asarray(Image.open(CHELSEA).convert("RGB")), 6, random_state=1)
    expected = ref.palette[np.argsort(-ref.counts, kind="stable")]
    assert [c["rgb"] for c in printed["colors"]] == expected.tolist()
    np.testing.assert_array_equal(read_palette(str(pal)), expected)
    # quantize onto it: only its colours, each pixel on its nearest one (checked by brute force)
    out = tmp_path / "onto.png"
    r = run("quantize", CHELSEA, "--palette", pal, "-o", out)
    assert r.returncode == 0, r.stderr
    got = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3).astype(np.int64)
    src = np.asarray(Image.open(CHELSEA).convert("RGB")).reshape(-1, 3).astype(np.int64)
    d = ((src[:, None, :] - expected[None, :, :].astype(np.int64)) ** 2).sum(axis=2)
    np.testing.assert_array_equal(((src - got) ** 2).sum(axis=1), d.min(axis=1))
    dith = tmp_path / "onto-dither.png"
    assert run("quantize", CHELSEA, "--palette", pal, "--dither", "-o", dith, "-q").returncode == 0
    used = {tuple(c) for c in np.unique(np.asarray(Image.open(dith).convert("RGB")).reshape(-1, 3), axis=0).tolist()}
    assert used <= {tuple(c) for c in expected.tolist()} and len(used) == 6


def test_json_tables_are_valid_and_match_the_file(tmp_path: Path) -> None:
    out = tmp_path / "q.png"
    r = run("quantize", CHELSEA, "-k", 5, "-o", out, "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    doc = json.loads(r.stdout)
    assert doc["k"] == 5 and doc["output"] == str(out) and doc["size"] == [451, 300]
    colours, counts = np.unique(np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3), axis=0, return_counts=True)
    in_file = {tuple(c): int(n) for c, n in zip(colours.tolist(), counts)}
    assert {tuple(c["rgb"]): c["count"] for c in doc["colors"]} == in_file
    assert all(c["hex"] == "#%02x%02x%02x" % tuple(c["rgb"]) for c in doc["colors"])
    assert sum(c["share"] for c in doc["colors"]) == pytest.approx(1.0)
    assert [c["count"] for c in doc["colors"]] == sorted(in_file.values(), reverse=True)
    # -q does not silence what --json asks for; it silences the table (256 lines without it)
    assert json.loads(run("palette", CHELSEA, "-k", 2, "--json", "-q").stdout)["k"] == 2
    r = run("quantize", CHELSEA, "-k", 256, "-o", tmp_path / "q256.png", "-q")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    assert len(run("quantize", CHELSEA, "-k", 256, "-o", tmp_path / "q256.png", "--force").stdout.splitlines()) > 256


def test_palette_from_a_quantized_image_and_from_too_many_colours(tmp_path: Path) -> None:
    q = tmp_path / "q.png"
    assert run("quantize", CHELSEA, "-k", 7, "-o", q, "-q").returncode == 0
    out = tmp_path / "rocket-on-cat.png"
    r = run("quantize", ROCKET, "--palette", q, "-o", out)
    assert r.returncode == 0, r.stderr
    cat = {tuple(c) for c in np.unique(np.asarray(Image.open(q).convert("RGB")).reshape(-1, 3), axis=0).tolist()}
    used = {tuple(c) for c in np.unique(np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3), axis=0).tolist()}
    assert used <= cat and "the 7 colours of" in r.stdout
    r = run("quantize", ROCKET, "--palette", CHELSEA, "-o", tmp_path / "no.png")
    assert r.returncode == 2 and "a palette image holds at most 256" in r.stderr
    assert not (tmp_path / "no.png").exists()


def test_knobs_reach_k_means(tmp_path: Path) -> None:
    img = np.asarray(Image.open(CHELSEA).convert("RGB"))
    for opts, kw in ((["--max-iter", 1], {"max_iter": 1}), (["--n-init", 3, "--tol", 0.5], {"n_init": 3, "tol": 0.5}),
                     (["--init", "ward"], {"init": "ward"})):
        r = run("palette", CHELSEA, "-k", 6, "--json", *opts)
        assert r.returncode == 0, r.stderr
        ref = pixclust.quantize(img, 6, random_state=0, **kw)
        assert json.loads(r.stdout)["inertia"] == pytest.approx(ref.inertia, rel=1e-12), opts
    assert "number of colours" in run("palette", "--help").stdout


@pytest.mark.parametrize("name, text, line, what", [
    ("bad.txt", "#a07b60\n\n#12345g\n", 3, "expected a colour like #a37e65"),
    ("bad.gpl", "GIMP Palette\nName: x\n#\n1 2 3\tone\n4 300 6\ttwo\n", 5, "expected three values from 0 to 255"),
    ("bad.gpl", "JASC-PAL\n", 1, "expected 'GIMP Palette'"),
    ("bad.css", ":root {\n  --a: #000000;\n  --b: red;\n}\n", 3, "expected a colour like"),
    ("bad.json", '{"colors": [\n  {"hex": "#000000"},\n  {"rgb": [1, 2]}\n]}\n', 3, "colour 2: expected"),
    ("bad.json", '{"colors": [\n  {"hex": "#000000"},,\n]}\n', 2, "not valid JSON"),
    ("empty.txt", "\n", 0, "no colours in the palette"),
])
def test_malformed_palette_files_name_the_file_and_line(tmp_path: Path, name: str, text: str, line: int, what: str) -> None:
    pal = tmp_path / name
    pal.write_text(text)
    out = tmp_path / "o.png"
    r = run("quantize", CHELSEA, "--palette", pal, "-o", out)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert (f"{pal}:{line}: " if line else f"{pal}: ") + what in r.stderr, r.stderr
    assert not out.exists()


# -------------------------------------------------------------------------------------------- pipes


def test_standard_input_and_output(tmp_path: Path) -> None:
    cmd = _script()
    r = subprocess.run(cmd + ["quantize", "-", "-k", "8", "-o", "-"],
                       input=CHELSEA.read_bytes(), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout[:8] == b"\x89PNG\r\n\x1a\n"  # the image alone on stdout; the report went to stderr
    assert b"standard input: 451 x 300" in r.stderr and b"wrote standard output" in r.stderr
    piped = tmp_path / "piped.png"
    piped.write_bytes(r.stdout)
    file = tmp_path / "file.png"
    assert run("quantize", CHELSEA, "-k", 8, "-o", file, "-q").returncode == 0
    np.testing.assert_array_equal(np.asarray(Image.open(piped).convert("RGB")), np.asarray(Image.open(file).convert("RGB")))
    # --format: the data says JPEG on the way in; TIFF on the way out, as Pillow reads it
    jpeg = subprocess.run(cmd + ["quantize", "-", "-k", "4", "-o", "-", "--format", "tif", "-q"],
                          input=ROCKET.read_bytes(), capture_output=True, timeout=120)
    assert jpeg.returncode == 0 and jpeg.stderr == b"", jpeg.stderr
    tif = tmp_path / "out.tif"
    tif.write_bytes(jpeg.stdout)
    with Image.open(tif) as im:
        assert im.format == "TIFF" and im.size == (640, 427)
        assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) <= 4
    for args, message in ((["-o", "-", "--format", "xyz"], "--format xyz: cannot write"),
                          (["-o", "-", "--json"], "--json and -o - both want standard output"),
                          (["-o", tmp_path / "f.png", "--format", "png"], "--format is for -o -"),
                          ([], "give -o FILE")):
        bad = subprocess.run(cmd + ["quantize", "-", "-k", "4"] + [str(a) for a in args],
                             input=CHELSEA.read_bytes(), capture_output=True, timeout=120)
        assert bad.returncode == 2 and message.encode() in bad.stderr and bad.stdout == b"", (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1
    empty = subprocess.run(cmd + ["quantize", "-", "-k", "4", "-o", "-"], input=b"", capture_output=True, timeout=120)
    assert empty.returncode == 2 and b"standard input: no data" in empty.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # 2000 x 1500 as BMP on stdout: 9 MB, far more than a pipe holds, so the writer must meet the
    # closed pipe (a reader that stops early, as `| head -c 100` does).
    big = tmp_path / "big.png"
    Image.open(CHELSEA).convert("RGB").resize((2000, 1500)).save(big)
    with subprocess.Popen(_script() + ["quantize", str(big), "-k", "3", "-o", "-", "--format", "bmp", "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.read(100)[:2] == b"BM"
        p.stdout.close()
        err = p.stderr.read()
        assert p.wait(timeout=120) == 141
    assert err == b"", err  # no "Broken pipe", no traceback
    # the printed table too: 257 lines into a reader that takes one
    with subprocess.Popen(_script() + ["palette", str(CHELSEA), "-k", "256", "-q", "--json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.readline() == "{\n"
        p.stdout.close()
        err = p.stderr.read()
        assert p.wait(timeout=120) in (0, 141)
    assert err == ""


# ----------------------------------------------------------------------------------- metadata (#18)


def _tagged_photo(path: Path) -> tuple[bytes, np.ndarray]:
    """The cat stored on its side with EXIF orientation 6 (turn 90 degrees clockwise to view) and an
    sRGB ICC profile made by Pillow; returns the profile's bytes and the upright pixels."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upright = np.asarray(Image.open(CHELSEA).convert("RGB"))
    stored = np.rot90(upright, 1)  # what a camera held on its side stores: orientation 6 undoes it
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "pixclust-test-camera"  # Make: a tag that must survive
    Image.fromarray(np.ascontiguousarray(stored)).save(path, icc_profile=icc, exif=exif.tobytes())
    return icc, upright


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".tif"])
def test_quantize_keeps_icc_and_exif_with_orientation_reset(tmp_path: Path, ext: str) -> None:
    src = tmp_path / "tagged.png"
    icc, upright = _tagged_photo(src)
    out = tmp_path / f"q{ext}"
    r = run("quantize", src, "-k", 6, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        exif = im.getexif()
        assert exif.get(0x0112, 1) == 1  # the pixels are stored upright: a viewer must not turn them again
        assert exif.get(0x010F) == "pixclust-test-camera"
        assert im.size == (upright.shape[1], upright.shape[0])
    # Upright: the quantized file is close to the upright photo, far from the stored (sideways) one.
    got = np.asarray(Image.open(out).convert("RGB")).astype(np.float64)
    assert np.abs(got - upright).mean() < 25
    stripped = tmp_path / f"s{ext}"
    assert run("quantize", src, "-k", 6, "-o", stripped, "-q", "--strip").returncode == 0
    with Image.open(stripped) as im:
        # (a TIFF's own structure tags are read as EXIF too: check for the camera's tags)
        assert "icc_profile" not in im.info and 0x010F not in im.getexif() and 0x0112 not in im.getexif()


# ------------------------------------------------------------------------------ formats (#18 item 7)


@pytest.mark.parametrize("ext, mode", [(".webp", "RGB"), (".tif", "P"), (".bmp", "P"), (".gif", "P")])
def test_quantized_formats_hold_exactly_the_k_colours(tmp_path: Path, ext: str, mode: str) -> None:
    out = tmp_path / f"q{ext}"
    r = run("quantize", CHELSEA, "-k", 8, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "lossy" not in r.stdout
    expected = pixclust.quantize(_io.read_image(CHELSEA), 8, random_state=0)
    assert isinstance(expected, pixclust.QuantizeResult)
    with Image.open(out) as im:
        assert im.mode == mode, im.mode
        if mode == "P":  # a paletted file: one byte per pixel, the k colours in its palette
            assert len(np.unique(np.asarray(im))) == 8
        got = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(got, expected.image)


def test_lossy_webp_only_when_asked_and_lossless_only_for_webp(tmp_path: Path) -> None:
    lossy = tmp_path / "lossy.webp"
    r = run("quantize", CHELSEA, "-k", 8, "-o", lossy, "--no-lossless")
    assert r.returncode == 0, r.stderr
    assert "lossy format" in r.stdout
    assert colours(lossy) > 100  # the blur a lossy WebP adds to a k-colour image
    for ext, what in ((".png", "lossless already"), (".jpg", "lossy (JPEG)")):
        bad = run("quantize", CHELSEA, "-k", 8, "-o", tmp_path / f"x{ext}", "--lossless")
        assert bad.returncode == 2 and f"--lossless is for WebP output; {ext} is {what}" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / f"x{ext}").exists()
    bad = run("quantize", CHELSEA, "-k", 8, "-o", tmp_path / "x.xyz")
    assert bad.returncode == 2 and ".gif" in bad.stderr
    assert "gif" in run("quantize", "--help").stdout


def test_gif_of_a_cut_out_has_one_transparent_entry(tmp_path: Path) -> None:
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    alpha = np.where(np.arange(rgb.shape[1]) < 200, 0, 255).astype(np.uint8)[None, :].repeat(rgb.shape[0], 0)
    src = tmp_path / "cut-out.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(src)
    out = tmp_path / "q.gif"
    assert run("quantize", src, "-k", 6, "-o", out, "-q").returncode == 0
    with Image.open(out) as im:
        assert im.mode == "P"
        index = np.asarray(im)
        t = im.info["transparency"]
        assert isinstance(t, int)
        assert np.array_equal(index == t, alpha == 0)  # exactly the hidden pixels are transparent
        assert len(np.unique(index[alpha == 255])) == 6


# ----------------------------------------------------------------------------- progress bar (#18)


def _under_terminal(args: list[object], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe); returns the status and stderr."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    with subprocess.Popen(_script() + [str(a) for a in args], stdout=subprocess.PIPE, stderr=slave,
                          env={**os.environ, "PYTHONWARNINGS": "error", **env}) as p:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = p.wait(timeout=120)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(os.name == "nt", reason="needs a POSIX pseudo-terminal")
def test_compare_shows_a_bar_with_a_percentage_on_a_terminal(tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    now = {"PIXCLUST_PROGRESS_DELAY": "0"}  # every step shows at once
    code, err = _under_terminal(["compare", CHELSEA, "-k", 2, 4, 8, "-o", tmp_path / "c.png"], now)
    assert code == 0, err
    assert re.search(r"k-means:\s+100%\|.*\| 3/3", err), err  # one tick per colour count
    assert "Traceback" not in err
    # -q: nothing at all, terminal or not
    code, err = _under_terminal(["compare", CHELSEA, "-k", 2, 4, "-o", tmp_path / "q.png", "-q"], now)
    assert code == 0 and err == "", err
    # a run shorter than the delay is silent on a terminal too (an hour's delay: a loaded machine is slow)
    code, err = _under_terminal(["compare", CHELSEA, "-k", 2, "-o", tmp_path / "d.png"],
                                {"PIXCLUST_PROGRESS_DELAY": "3600"})
    assert code == 0 and err == "", err


@pytest.mark.skipif(os.name == "nt", reason="needs a POSIX pseudo-terminal")
def test_linkage_shows_its_own_percentage_on_a_terminal(tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    now = {"PIXCLUST_PROGRESS_DELAY": "0"}
    data = tmp_path / "p.csv"
    np.savetxt(data, np.random.default_rng(0).random((3000, 3)), delimiter=",")
    code, err = _under_terminal(["dendrogram", data, "--method", "ward", "-o", tmp_path / "d.png"], now)
    assert code == 0, err
    # the kernel's shares: a bar that ends at 100%, not a count of units
    assert re.search(r"ward linkage of 3000 points:\s+100%\|", err) and "/1000" not in err, err
    code, err = _under_terminal(["tree", CHELSEA, "-k", 4, "-o", tmp_path / "t.png"], now)
    assert code == 0, err
    assert re.search(r"Ward's tree of the distinct colours:\s+100%\|", err), err
    assert "Traceback" not in err
    # stderr a pipe: the step line as before
    r = subprocess.run(_script() + ["dendrogram", str(data), "--method", "ward", "-o", str(tmp_path / "e.png")],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONWARNINGS": "error", "PIXCLUST_PROGRESS_DELAY": "0"})
    assert r.returncode == 0 and "%" not in r.stderr, r.stderr
    assert re.search(r"ward linkage of 3000 points \.\.\. \d+\.\d s", r.stderr), r.stderr


def test_a_bar_counts_forward_and_starts_over_only_when_told() -> None:
    from pixclust._cli.progress import Progress

    with Progress(quiet=True).bar("linkage", 1000, percent=True) as bar:
        bar.reach(600)
        bar.reach(500)  # a late report: ignored
        assert bar.done == 600
        bar.reach(1000)
        bar.reach(200, restart=True)  # a kernel's second pass (SLINK met tied heights, then Prim's)
        assert bar.done == 200
        bar.reach(5000)
        assert bar.done == 1000


def test_no_bar_when_stderr_is_a_pipe(tmp_path: Path) -> None:
    # stderr a pipe, every step shown at once: the step lines as before ("... 0.1 s"), never a bar
    r = subprocess.run(_script() + ["compare", str(CHELSEA), "-k", "2", "4", "-o", str(tmp_path / "c.png")],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONWARNINGS": "error", "PIXCLUST_PROGRESS_DELAY": "0"})
    assert r.returncode == 0, r.stderr
    assert "%" not in r.stderr and "\r" not in r.stderr and "k-means on 0.1 MP" in r.stderr, r.stderr
    assert all(re.fullmatch(r".* \.\.\. \d+\.\d s", line) for line in r.stderr.splitlines()), r.stderr
    q = subprocess.run(_script() + ["compare", str(CHELSEA), "-k", "2", "-o", str(tmp_path / "q.png"), "-q"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONWARNINGS": "error", "PIXCLUST_PROGRESS_DELAY": "0"})
    assert q.returncode == 0 and q.stderr == "", q.stderr


@pytest.mark.skipif(os.name == "nt", reason="needs a POSIX pseudo-terminal")
def test_a_terminal_without_tqdm_gets_the_step_lines(tmp_path: Path) -> None:
    hide = tmp_path / "no_tqdm"
    (hide / "tqdm").mkdir(parents=True)
    (hide / "tqdm" / "__init__.py").write_text("raise ImportError('tqdm hidden by the test')\n")
    env = {"PIXCLUST_PROGRESS_DELAY": "0", "PYTHONPATH": os.pathsep.join([str(hide), os.environ.get("PYTHONPATH", "")])}
    code, err = _under_terminal(["compare", CHELSEA, "-k", 2, 4, "-o", tmp_path / "c.png"], env)
    assert code == 0, err
    assert "%" not in err and re.search(r"k-means on 0\.1 MP in RGB, 2, 4 colours \.\.\. \d+\.\d s", err), err


# ------------------------------------------------------------------ quantize --shared-palette (Dask)


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with two stills, an animated GIF (durations, loop forever) and an APNG (loop twice)."""
    pytest.importorskip("dask")
    d = tmp_path_factory.mktemp("collection")
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))[:150, :200]
    Image.fromarray(rgb).save(d / "cat.png")
    Image.fromarray(np.asarray(Image.open(ROCKET).convert("RGB"))[:120, :90]).save(d / "rocket.png")
    frames = [Image.fromarray(np.roll(rgb, 15 * i, axis=1)[::2, ::2]) for i in range(3)]
    frames[0].save(d / "walk.gif", save_all=True, append_images=frames[1:], duration=[80, 120, 160], loop=0)
    frames = [Image.fromarray(np.roll(rgb, -9 * i, axis=0)) for i in range(3)]
    frames[0].save(d / "roll.png", save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=2)
    return d


def _frames_of(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


def _painted_in_memory(images: list[np.ndarray], k: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """pixclust.quantize on all the pixels (in colour order) and every image painted with its fit."""
    flat = np.concatenate([im.reshape(-1, 3) for im in images])
    colors, inverse, counts = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    ref = pixclust.quantize(np.repeat(colors, counts, axis=0)[None], k, random_state=seed)
    painted = ref.palette[ref.labels[0][np.cumsum(counts) - 1]][inverse.ravel()]
    out, start = [], 0
    for im in images:
        out.append(painted[start:start + im.shape[0] * im.shape[1]].reshape(im.shape))
        start += im.shape[0] * im.shape[1]
    return ref.palette, out


def test_shared_palette_over_a_directory_with_animations(tmp_path: Path, collection: Path) -> None:
    out = tmp_path / "out"
    r = run("quantize", collection, "-o", out, "--shared-palette", "-k", 12, "--seed", 3)
    assert r.returncode == 0, r.stderr
    names = ["cat.png", "roll.png", "rocket.png", "walk.gif"]
    inputs = [f for n in names for f in _frames_of(collection / n)]
    palette, want = _painted_in_memory(inputs, 12, 3)
    got = [f for n in names for f in _frames_of(out / n.replace(".", "-k12."))]
    assert sorted(os.listdir(out)) == sorted(n.replace(".", "-k12.") for n in names)
    assert len(got) == len(want) == 8
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    assert set(map(tuple, np.concatenate([g.reshape(-1, 3) for g in got]).tolist())) <= set(map(tuple, palette.tolist()))
    for name, durations, loop in (("walk-k12.gif", [80, 120, 160], 0), ("roll-k12.png", [50, 60, 70], 2)):
        with Image.open(out / name) as im:
            assert im.n_frames == 3 and im.info.get("loop") == loop
            seen = []
            for i in range(3):
                im.seek(i)
                seen.append(im.info["duration"])
            assert seen == durations
    with Image.open(out / "walk-k12.gif") as im:  # one global palette: no frame carries its own
        assert im.palette is not None and len(im.getpalette() or []) // 3 >= 12
    assert "4 inputs, 8 images: one palette of 12 colours" in r.stdout


def test_shared_palette_over_a_glob_and_files(tmp_path: Path, collection: Path) -> None:
    from pixclust._cli import run as cli

    out = tmp_path / "o"
    assert cli(["quantize", str(collection / "*.png"), "-o", str(out), "--shared-palette", "-k", "4", "-q"]) == 0
    assert sorted(os.listdir(out)) == ["cat-k4.png", "rocket-k4.png", "roll-k4.png"]
    assert cli(["quantize", str(collection / "cat.png"), str(collection / "walk.gif"), "-o", str(out),
                "--shared-palette", "-k", "4", "-q"]) == 2  # cat-k4.png is there
    assert cli(["quantize", str(collection / "cat.png"), str(collection / "walk.gif"), "-o", str(out),
                "--shared-palette", "-k", "4", "-q", "--force"]) == 0
    assert "walk-k4.gif" in os.listdir(out)
    assert colours(out / "cat-k4.png") <= 4


def _shared_bad_cases(tmp: Path, collection: Path) -> list[tuple[list[object], str]]:
    a_file = tmp / "a-file"
    a_file.write_text("x")
    broken = tmp / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(CHELSEA.read_bytes())
    (broken / "b.png").write_text("not an image")
    twins = tmp / "twins"
    twins.mkdir()
    Image.open(CHELSEA).save(twins / "x.png")
    Image.open(CHELSEA).save(twins / "x.jpg")
    c = collection / "cat.png"
    return [
        ([c, tmp / "missing.png", "-o", tmp / "o", "--shared-palette", "-k", 4], "missing.png: no such file"),
        ([c, collection / "rocket.png", "-o", a_file, "--shared-palette", "-k", 4], "exists and is not a directory"),
        ([c, collection / "rocket.png", "-o", tmp / "o", "-k", 4], "give --shared-palette"),
        ([c, "-o", tmp / "o", "--scheduler", "tcp://127.0.0.1:1", "-k", 4], "--scheduler is for --shared-palette"),
        ([twins, "-o", tmp / "o", "--shared-palette", "-k", 4], "would both be written to"),
        ([broken, "-o", tmp / "o", "--shared-palette", "-k", 4], "b.png: not an image file"),
        ([tmp / "*.webp", "-o", tmp / "o", "--shared-palette", "-k", 4], "no file matches"),
        ([c, "-o", tmp / "o", "--shared-palette"], "give -k"),
        ([c, "-o", tmp / "o", "--shared-palette", "-k", 4, "--scheduler", "tcp://127.0.0.1:1"],
         "cannot reach the Dask scheduler"),
    ]


def test_shared_palette_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, collection: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixclust._cli import run as cli

    cases = _shared_bad_cases(tmp_path, collection)
    for args, message in cases:
        before = sorted(os.listdir(tmp_path))
        code = cli(["quantize"] + [str(a) for a in args])
        out, err = capsys.readouterr()
        _check_bad(tmp_path, args, message, (code, out, err))
        assert sorted(os.listdir(tmp_path)) == before, args
    monkeypatch.setitem(sys.modules, "dask", None)  # Dask not installed
    monkeypatch.delitem(sys.modules, "pixclust.dask")
    code = cli(["quantize", str(collection), "-o", str(tmp_path / "o"), "--shared-palette", "-k", "4"])
    out, err = capsys.readouterr()
    _check_bad(tmp_path, [], "pip install pixclust[dask]", (code, out, err))
    assert not (tmp_path / "o").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Any:
    """``dask scheduler`` and one ``dask worker`` (one process, one thread) as subprocesses, stopped after."""
    distributed = pytest.importorskip("distributed")
    # the `dask` command through this interpreter: an environment may lack the script (the ASan run borrows
    # its packages through a .pth file) but never the module
    dask_cli = [sys.executable, "-m", "dask"]
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = [open(tmp_path / f"{n}.log", "w") for n in ("scheduler", "worker")]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen([*dask_cli, "scheduler", "--host", "127.0.0.1", "--port",
                                       address.rsplit(":", 1)[1], "--no-dashboard"],
                                      stdout=logs[0], stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen([*dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--no-dashboard"], stdout=logs[1], stderr=subprocess.STDOUT, cwd=tmp_path))
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in reversed(procs):  # the worker first, then its scheduler
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def test_shared_palette_on_a_dask_cluster_started_as_subprocesses(tmp_path: Path, collection: Path,
                                                                  dask_cluster: str) -> None:
    import distributed

    local, remote = tmp_path / "local", tmp_path / "remote"
    files = [collection / "cat.png", collection / "walk.gif"]
    assert run("quantize", *files, "-o", local, "--shared-palette", "-k", 8).returncode == 0
    r = run("quantize", *files, "-o", remote, "--shared-palette", "-k", 8, "--scheduler", dask_cluster)
    assert r.returncode == 0, r.stderr
    for name in ("cat-k8.png", "walk-k8.gif"):
        assert [f.tolist() for f in _frames_of(remote / name)] == [f.tolist() for f in _frames_of(local / name)]
    with distributed.Client(dask_cluster, timeout="30s") as client:  # the frames were read on the worker
        assert client.run_on_scheduler(lambda dask_scheduler: any(
            "read_frame" in str(e[0]) for e in dask_scheduler.transition_log))


# ------------------------------------------------------------------ pipes on every command (#18 item 4)


def _piped(args: list[object], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(_script() + [str(a) for a in args], input=data, capture_output=True, timeout=120)


def test_palettes_and_figures_on_standard_output(tmp_path: Path) -> None:
    r = _piped(["palette", "-", "-k", 5, "-o", "-", "--format", "gpl"], CHELSEA.read_bytes())
    assert r.returncode == 0, r.stderr
    assert b"wrote standard output" in r.stderr  # the report is on stderr, the palette alone on stdout
    ref = pixclust.quantize(np.asarray(Image.open(CHELSEA).convert("RGB")), 5, random_state=0)
    assert isinstance(ref, pixclust.QuantizeResult)
    rows = [ln.split()[:3] for ln in r.stdout.decode().splitlines()[4:]]
    assert [[int(v) for v in row] for row in rows] == ref.palette[np.argsort(-ref.counts, kind="stable")].tolist()
    for args in (["palette", "-", "-k", 3], ["compare", "-", "-k", 4, 2], ["tree", "-", "-k", 4]):
        r = _piped(args + ["-o", "-", "--format", "png", "-q"], CHELSEA.read_bytes())
        assert r.returncode == 0 and r.stderr == b"", (args, r.stderr)
        file = tmp_path / f"{args[0]}.png"
        assert run(*args[:1], CHELSEA, *args[2:], "-o", file, "-q").returncode == 0
        with Image.open(io.BytesIO(r.stdout)) as piped, Image.open(file) as written:
            assert piped.format == "PNG" and piped.size == written.size, args
    svg = _piped(["compare", CHELSEA, "-k", 2, "-o", "-", "--format", "svg", "-q"])
    assert svg.returncode == 0 and svg.stdout.lstrip().startswith(b"<?xml") and b"</svg>" in svg.stdout


@pytest.mark.parametrize("fmt", ["csv", "tsv", "txt", "npy"])
def test_dendrogram_reads_points_from_standard_input(tmp_path: Path, fmt: str) -> None:
    from scipy.cluster.hierarchy import fcluster, linkage

    points = np.array(TUTORIAL_POINTS, dtype=np.float64)
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, points)
        data = buf.getvalue()
    else:
        sep = {"csv": ",", "tsv": "\t", "txt": " "}[fmt]
        data = ("# ten points\nx" + sep + "y\n" + "".join(f"{x}{sep}{y}\n" for x, y in TUTORIAL_POINTS)).encode()
    labels = tmp_path / "labels.csv"
    r = _piped(["dendrogram", "-", "-o", "-", "--format", "png", "--cut", 3, "--criterion", "maxclust",
                "--labels", labels], data)
    assert r.returncode == 0, r.stderr
    assert r.stdout[:8] == b"\x89PNG\r\n\x1a\n" and b"standard input: 10 points in 2-D" in r.stderr
    with open(labels, newline="") as fh:
        got = [int(row["cluster"]) for row in csv.DictReader(fh)]
    np.testing.assert_array_equal(got, fcluster(linkage(points, "ward"), 3, criterion="maxclust"))


def test_standard_output_needs_a_format_and_says_so_in_one_line(tmp_path: Path) -> None:
    pts = tmp_path / "p.csv"
    pts.write_text("1,2\n3,4\n5,7\n")
    cases = [
        (["compare", CHELSEA, "-k", 2, "-o", "-"], "-o - (standard output): give its format with --format"),
        (["tree", CHELSEA, "-o", "-"], "give its format with --format"),
        (["dendrogram", pts, "-o", "-"], "give its format with --format"),
        (["palette", CHELSEA, "-k", 2, "-o", "-"], "give its format with --format (json, gpl, txt, css, png"),
        (["palette", CHELSEA, "-k", 2, "-o", "-", "--format", "xyz"], "--format xyz: cannot write this format"),
        (["tree", CHELSEA, "-o", "-", "--format", "gpl"], "--format gpl: cannot write this format"),
        (["palette", CHELSEA, "-k", 2, "-o", "-", "--format", "json", "--json"], "--json and -o - both want"),
        (["compare", CHELSEA, "-k", 2, "-o", tmp_path / "c.png", "--format", "png"], "--format is for -o -"),
        (["dendrogram", pts, "-o", "-", "--format", "png", "--cut", 1, "--labels", "-"], "takes the dendrogram only"),
        (["dendrogram", "-", "-o", tmp_path / "d.png"], "standard input: no data"),
    ]
    for args, message in cases:
        before = sorted(os.listdir(tmp_path))
        r = _piped(args)
        assert r.returncode == 2 and r.stdout == b"", (args, r.stderr)
        err = r.stderr.decode()
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert sorted(os.listdir(tmp_path)) == before, args


def test_a_closed_pipe_ends_quietly_on_every_command(tmp_path: Path) -> None:
    # `| head -c 10` on a figure: the reader stops long before the image is out (a PNG of a
    # 1100-pixel-wide grid is far more than a pipe holds).
    for args in (["compare", CHELSEA, "-k", 4, 2, "--format", "png"], ["palette", CHELSEA, "-k", 3, "--format", "svg"],
                 ["tree", CHELSEA, "-k", 8, "--format", "png"]):
        with subprocess.Popen(_script() + [str(a) for a in args] + ["-o", "-"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as p:
            assert p.stdout is not None and p.stderr is not None
            assert len(p.stdout.read(10)) == 10
            p.stdout.close()
            err = p.stderr.read()
            assert p.wait(timeout=120) in (0, 141), args  # 141: ended as SIGPIPE ends a program
        assert b"Traceback" not in err and b"Broken pipe" not in err and b"error" not in err, (args, err)


# ---------------------------------------------------------------- alpha in GIF, TIFF, BMP (#18 item 6)


def _layers(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """The cat with a hidden third (alpha 0, painted bright red so that a leak shows), an opaque third
    and a third at opacities 51 and 204 in stripes."""
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB")).copy()
    w = rgb.shape[1]
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, : w // 3] = 0
    rgb[:, : w // 3] = [255, 0, 0]
    alpha[::2, 2 * w // 3:] = 51
    alpha[1::2, 2 * w // 3:] = 204
    img = np.dstack([rgb, alpha])
    src = tmp_path / "layers.png"
    Image.fromarray(img).save(src)
    return src, img


def _reference(img: np.ndarray, k: int) -> np.ndarray:
    ref = pixclust.quantize(img, k, random_state=0)
    assert isinstance(ref, pixclust.QuantizeResult)
    return ref.image[..., :3].astype(np.float64)


def test_gif_keeps_one_transparent_entry_cut_at_half_opacity(tmp_path: Path) -> None:
    src, img = _layers(tmp_path)
    out = tmp_path / "q.gif"
    assert run("quantize", src, "-k", 5, "-o", out, "-q").returncode == 0
    with Image.open(out) as im:
        assert im.mode == "P" and isinstance(im.info["transparency"], int)
        index = np.asarray(im)
        rgba = np.asarray(im.convert("RGBA"))
    shown = img[..., 3] >= 128  # ImageMagick's cut: at least half opaque is shown
    np.testing.assert_array_equal(index == im.info["transparency"], ~shown)
    assert len(np.unique(index[shown])) == 5 and set(np.unique(rgba[..., 3]).tolist()) == {0, 255}
    np.testing.assert_array_equal(rgba[shown][:, :3], _reference(img, 5)[shown])


def test_tiff_of_rgba_keeps_its_alpha_and_hides_what_was_hidden(tmp_path: Path) -> None:
    src, img = _layers(tmp_path)
    out = tmp_path / "q.tif"
    assert run("quantize", src, "-k", 5, "-o", out, "-q").returncode == 0
    with Image.open(out) as im:
        assert im.mode == "RGBA"
        got = np.asarray(im)
    np.testing.assert_array_equal(got[..., 3], img[..., 3])
    visible = img[..., 3] > 0
    np.testing.assert_array_equal(got[visible][:, :3], _reference(img, 5)[visible])
    assert not got[~visible].any()  # transparent black: the red under it does not come back


@pytest.mark.parametrize("background", [None, "black", "#336699"])
def test_bmp_of_rgba_is_composited_on_the_background(tmp_path: Path, background: str | None) -> None:
    from PIL import ImageColor

    src, img = _layers(tmp_path)
    out = tmp_path / "q.bmp"
    extra = [] if background is None else ["--background", background]
    assert run("quantize", src, "-k", 5, "-o", out, "-q", *extra).returncode == 0
    bg = np.array(ImageColor.getrgb(background or "white")[:3], dtype=np.float64)
    a = img[..., 3:].astype(np.float64) / 255.0
    expected = _reference(img, 5) * a + bg * (1.0 - a)  # composited here, with NumPy
    with Image.open(out) as im:
        assert im.mode == "P"  # still paletted: k colours at three opacities, and the background
        got = np.asarray(im.convert("RGB")).astype(np.float64)
    assert np.abs(got - expected).max() <= 0.5 + 1e-9
    np.testing.assert_array_equal(got[img[..., 3] == 0], np.broadcast_to(bg, got[img[..., 3] == 0].shape))


def test_gray_with_alpha_to_bmp_and_gif(tmp_path: Path) -> None:
    gray = np.asarray(Image.open(CHELSEA).convert("L"))
    alpha = np.where(np.arange(gray.shape[1]) < 150, 0, 255).astype(np.uint8)[None, :].repeat(gray.shape[0], 0)
    src = tmp_path / "la.png"
    Image.fromarray(np.dstack([gray, alpha])).save(src)
    bmp, gif = tmp_path / "q.bmp", tmp_path / "q.gif"
    r = run("quantize", src, "-k", 4, "-o", bmp, "--background", "black")
    assert r.returncode == 0 and f"wrote {bmp}; no alpha in BMP: laid over the background" in r.stdout, r.stdout
    assert run("quantize", src, "-k", 4, "-o", gif, "-q").returncode == 0
    with Image.open(bmp) as im:
        got = np.asarray(im.convert("L"))
    assert not got[alpha == 0].any() and len(np.unique(got[alpha == 255])) == 4
    with Image.open(gif) as im:
        rgba = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    assert len(np.unique(rgba[alpha == 255][:, 0])) == 4


# ------------------------------------------------------------ --palette on an image with alpha (#18)


@pytest.mark.parametrize("alpha", ["exclude", "weight", "keep"])
def test_palette_mapping_counts_only_the_visible_pixels(tmp_path: Path, alpha: str) -> None:
    src, img = _layers(tmp_path)
    pal = tmp_path / "pal.txt"
    colours = np.array([[255, 0, 0], [160, 120, 90], [60, 40, 30], [200, 190, 180]])
    pal.write_text("".join(f"#{r:02x}{g:02x}{b:02x}\n" for r, g, b in colours))
    r = run("quantize", src, "--palette", pal, "-o", tmp_path / "q.png", "--json", "--alpha", alpha)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    # NumPy by brute force: each pixel's nearest colour (the first on ties), over the visible pixels
    pixels = img[..., :3].reshape(-1, 3).astype(np.float64)
    a = img[..., 3].reshape(-1).astype(np.float64)
    d = ((pixels[:, None, :] - colours[None, :, :]) ** 2).sum(axis=2)
    keep = np.ones_like(a, dtype=bool) if alpha == "keep" else a > 0
    weight = a / 255.0 if alpha == "weight" else np.ones_like(a)
    assert doc["inertia"] == pytest.approx(float(np.sum((weight * d.min(axis=1))[keep])), rel=1e-12)
    counts = np.bincount(d.argmin(axis=1)[keep], minlength=len(colours))
    got = {c["hex"]: c["count"] for c in doc["colors"]}
    assert got == {f"#{r:02x}{g:02x}{b:02x}": int(n) for (r, g, b), n in zip(colours, counts)}
    plain = run("quantize", src, "--palette", pal, "-o", tmp_path / "p.png", "--alpha", alpha)
    assert f"inertia: {doc['inertia']:.6g}" in plain.stdout
    assert ("fully transparent:" in plain.stdout) == (alpha != "keep")


# ------------------------------------------------------- metadata a format cannot hold (#18 item 5)


@pytest.mark.parametrize("ext", [".gif", ".bmp"])
def test_a_format_without_metadata_says_it_drops_icc_and_exif(tmp_path: Path, ext: str) -> None:
    src = tmp_path / "tagged.png"
    _tagged_photo(src)
    r = run("quantize", src, "-k", 4, "-o", tmp_path / f"q{ext}")
    assert r.returncode == 0, r.stderr
    fmt = ext.lstrip(".").upper()
    assert r.stderr.strip().splitlines() == [
        f"pixclust quantize: note: {tmp_path / f'q{ext}'}: {fmt} cannot hold the input's ICC profile and EXIF; "
        "written without them (--strip drops them without this note)"]
    with Image.open(tmp_path / f"q{ext}") as im:
        assert "icc_profile" not in im.info
    for extra in (["-q"], ["--strip"]):
        quiet = run("quantize", src, "-k", 4, "-o", tmp_path / f"x{ext}", "--force", *extra)
        assert quiet.returncode == 0 and quiet.stderr == "", (extra, quiet.stderr)
    plain = tmp_path / "plain.png"
    Image.fromarray(np.asarray(Image.open(CHELSEA).convert("RGB"))).save(plain)  # no profile, no EXIF: nothing to drop
    assert run("quantize", plain, "-k", 4, "-o", tmp_path / f"y{ext}").stderr == ""
    assert run("quantize", src, "-k", 4, "-o", tmp_path / "kept.png").stderr == ""


def test_shared_palette_keeps_each_still_s_icc_and_exif(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    src = tmp_path / "in"
    src.mkdir()
    icc, upright = _tagged_photo(src / "tagged.png")
    Image.fromarray(np.asarray(Image.open(ROCKET).convert("RGB"))[:100, :100]).save(src / "plain.png")
    out, stripped = tmp_path / "out", tmp_path / "stripped"
    assert run("quantize", src, "-o", out, "--shared-palette", "-k", 6, "-q").returncode == 0
    with Image.open(out / "tagged-k6.png") as im:
        assert im.info.get("icc_profile") == icc and im.getexif().get(0x010F) == "pixclust-test-camera"
        assert im.getexif().get(0x0112, 1) == 1 and im.size == (upright.shape[1], upright.shape[0])
    with Image.open(out / "plain-k6.png") as im:
        assert "icc_profile" not in im.info and 0x010F not in im.getexif()
    assert run("quantize", src, "-o", stripped, "--shared-palette", "-k", 6, "-q", "--strip").returncode == 0
    with Image.open(stripped / "tagged-k6.png") as im:
        assert "icc_profile" not in im.info and 0x010F not in im.getexif()


def test_gif_with_transparency_has_room_for_255_colours(tmp_path: Path) -> None:
    src, _ = _layers(tmp_path)
    out = tmp_path / "q.gif"
    r = run("quantize", src, "-k", 256, "-o", out)
    assert r.returncode == 2 and r.stdout == "" and not out.exists()
    assert "use at most 255 colours (-k 255)" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert run("quantize", src, "-k", 255, "-o", out, "-q").returncode == 0
    with Image.open(out) as im:
        assert len(np.unique(np.asarray(im))) == 256  # 255 colours and the transparent entry


def test_tree_leaves_out_the_fully_transparent_pixels(tmp_path: Path) -> None:
    src, img = _layers(tmp_path)
    r = run("tree", src, "-k", 6, "-o", tmp_path / "t.png")
    assert r.returncode == 0, r.stderr
    shown = img[img[..., 3] > 0][:, :3]
    assert r.stdout.startswith(f"{len(np.unique(shown, axis=0))} distinct colours;")
    assert len(np.unique(shown, axis=0)) < len(np.unique(img[..., :3].reshape(-1, 3), axis=0))  # red was hidden
