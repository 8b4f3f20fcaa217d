"""pixclust.dither against a plain NumPy Floyd-Steinberg written from the textbook description."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pixclust

DATA = Path(__file__).resolve().parents[1] / "python" / "pixclust" / "data"


def reference_dither(image: np.ndarray, palette: np.ndarray, serpentine: bool = True, units: int = 1024) -> np.ndarray:
    """Serpentine Floyd-Steinberg, one pixel at a time, with a full error image and brute-force search.

    Fixed point: 16 steps per level; the error E is split as round(7E/16), round(3E/16), round(5E/16)
    (halves up) and the remainder, so none is lost; targets are clamped to the value range; ties go
    to the lowest palette index; shares past the edges are dropped. Damped (``units`` < 1024, the
    strength in 1/1024): E is first replaced by round(units * E / 1024), halves up.
    """
    img = image if image.ndim == 3 else image[:, :, None]
    h, w = img.shape[:2]
    c = palette.shape[1]
    top = 16 * int(np.iinfo(image.dtype).max)
    pal16 = 16 * palette.astype(np.int64)
    err = np.zeros((h + 1, w + 2, c), dtype=np.int64)  # padded: row h and columns 0, w+1 are dropped
    labels = np.empty((h, w), dtype=np.int64)
    for y in range(h):
        backward = serpentine and y % 2 == 1
        d = -1 if backward else 1
        for x in range(w - 1, -1, -1) if backward else range(w):
            t = np.clip(16 * img[y, x, :c].astype(np.int64) + err[y, x + 1], 0, top)
            j = int(np.argmin(((t - pal16) ** 2).sum(axis=1)))  # argmin: first of equal minima
            labels[y, x] = j
            e = t - pal16[j]
            if units < 1024:
                e = (units * e + 512) // 1024
            e7, e3, e5 = (7 * e + 8) // 16, (3 * e + 8) // 16, (5 * e + 8) // 16
            err[y, x + 1 + d] += e7
            err[y + 1, x + 1 - d] += e3
            err[y + 1, x + 1] += e5
            err[y + 1, x + 1 + d] += e - e7 - e3 - e5
    return labels


def _check(image: np.ndarray, palette: np.ndarray, serpentine: bool = True, strength: float = 1.0) -> None:
    out, labels = pixclust.dither(image, palette, serpentine=serpentine, strength=strength, return_labels=True)
    expected = reference_dither(image, palette, serpentine, int(np.floor(strength * 1024 + 0.5)))
    np.testing.assert_array_equal(labels, expected)
    assert out.shape == image.shape and out.dtype == image.dtype
    flat = out if out.ndim == 3 else out[:, :, None]
    c = palette.shape[1]
    np.testing.assert_array_equal(flat[..., :c], palette[expected])
    src = image if image.ndim == 3 else image[:, :, None]
    np.testing.assert_array_equal(flat[..., c:], src[..., c:])  # alpha passed through
    # the labels alone (what the command line writes to a palette file), from the same pass
    from pixclust._dither import _dither_labels

    np.testing.assert_array_equal(_dither_labels(image, palette, serpentine=serpentine, strength=strength), expected)


@pytest.mark.parametrize("strength", [1.0, 0.875, 0.3])
@pytest.mark.parametrize("serpentine", [True, False])
def test_photo_crop_rgb_matches_reference(serpentine: bool, strength: float) -> None:
    from PIL import Image

    photo = np.asarray(Image.open(DATA / "chelsea.png").convert("RGB"))
    crop = np.ascontiguousarray(photo[100:140, 200:248])
    palette = pixclust.quantize(photo, 8, random_state=0).palette
    _check(crop, palette, serpentine, strength)


def test_uint16_gray_and_rgba_match_reference() -> None:
    rng = np.random.default_rng(5)
    gray16 = rng.integers(0, 65536, size=(21, 17), dtype=np.uint16)
    _check(gray16, rng.integers(0, 65536, size=(5, 1)).astype(np.uint16))
    rgba = rng.integers(0, 256, size=(19, 23, 4), dtype=np.uint8)
    _check(rgba, rng.integers(0, 256, size=(12, 3)).astype(np.uint8))
    la = rng.integers(0, 256, size=(9, 11, 2), dtype=np.uint8)
    _check(la, np.array([[30], [200]], dtype=np.uint8))


def test_large_palette_matches_reference() -> None:
    # Many colours close together: the per-box candidate pruning in the core must stay exact.
    rng = np.random.default_rng(6)
    image = rng.integers(90, 170, size=(24, 24, 3), dtype=np.uint8)
    palette = rng.integers(80, 180, size=(256, 3)).astype(np.uint8)
    _check(image, palette)


@settings(deadline=None, max_examples=40)
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    k=st.integers(1, 6),
    channels=st.sampled_from([1, 2, 3, 4]),
    wide=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    serpentine=st.booleans(),
    strength=st.one_of(st.just(1.0), st.just(0.0), st.floats(0.0, 1.0)),
)
def test_random_small_images_match_reference(
    h: int, w: int, k: int, channels: int, wide: bool, seed: int, serpentine: bool, strength: float
) -> None:
    rng = np.random.default_rng(seed)
    dtype = np.uint16 if wide else np.uint8
    top = int(np.iinfo(dtype).max)
    image = rng.integers(0, top + 1, size=(h, w, channels)).astype(dtype)
    c = 1 if channels <= 2 else 3
    # Duplicate palette entries and a palette that does not span the range: ties and clamping.
    palette = rng.integers(top // 4, top // 2 + 1, size=(k, c)).astype(dtype)
    palette = np.concatenate([palette, palette[:1]])
    _check(image, palette, serpentine, strength)


def test_flat_grey_keeps_its_average() -> None:
    grey = np.full((50, 60), 64, dtype=np.uint8)
    out = pixclust.dither(grey, [[0], [255]])
    # Only the error pushed past the edges is lost: well under one level per pixel on average here.
    assert abs(out.mean() - 64) < 2.0
    assert set(np.unique(out).tolist()) == {0, 255}


def test_bad_input() -> None:
    from pixclust._dither import _dither_labels

    img = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match="image: expected dtype uint8 or uint16"):
        pixclust.dither(img.astype(np.float64), [[0, 0, 0]])
    with pytest.raises(TypeError, match="image: expected dtype uint8 or uint16"):
        _dither_labels(img.astype(np.float64), [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"palette: expected shape \(k, 3\)"):
        _dither_labels(img, [[0, 0]])
    with pytest.raises(ValueError, match="strength"):
        _dither_labels(img, [[0, 0, 0]], strength=2)
    with pytest.raises(ValueError, match=r"palette: expected shape \(k, 3\)"):
        pixclust.dither(img, [[0, 0]])
    with pytest.raises(ValueError, match=r"palette: expected shape \(k, 3\)"):
        pixclust.dither(img, np.zeros((0, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"palette: values must be whole numbers in \[0, 255\]"):
        pixclust.dither(img, [[0, 0, 256]])
    with pytest.raises(ValueError, match="palette: values must be whole numbers"):
        pixclust.dither(img, [[0.5, 0, 0]])
    with pytest.raises(ValueError, match="image: expected shape"):
        pixclust.dither(np.zeros((2, 2, 5), dtype=np.uint8), [[0]])
    with pytest.raises(TypeError, match="serpentine"):
        pixclust.dither(img, [[0, 0, 0]], serpentine=1)  # type: ignore[arg-type]


def test_full_strength_is_plain_floyd_steinberg() -> None:
    # strength=1 is the undamped pass, the default: the same labels as leaving it out and as the
    # reference with no damping step at all
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(31, 37, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, size=(9, 3)).astype(np.uint8)
    default = pixclust.dither(image, palette, return_labels=True)[1]
    np.testing.assert_array_equal(pixclust.dither(image, palette, strength=1.0, return_labels=True)[1], default)
    np.testing.assert_array_equal(pixclust.dither(image, palette, strength=1, return_labels=True)[1], default)
    np.testing.assert_array_equal(default, reference_dither(image, palette))


def test_zero_strength_is_the_nearest_colour() -> None:
    rng = np.random.default_rng(8)
    image = rng.integers(0, 65536, size=(13, 17, 3), dtype=np.uint16)
    palette = rng.integers(0, 65536, size=(6, 3)).astype(np.uint16)
    labels = pixclust.dither(image, palette, strength=0.0, return_labels=True)[1]
    d = ((image[:, :, None, :].astype(np.int64) - palette.astype(np.int64)) ** 2).sum(axis=-1)
    np.testing.assert_array_equal(labels, d.argmin(axis=-1))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("descending", [False, True])
def test_exact_ties_go_to_the_lowest_index(channels: int, descending: bool) -> None:
    # Every pixel is exactly midway between palette colours (an even lattice, odd pixel values), in
    # either palette order: the candidates are scanned nearest-the-box-centre first, not by index.
    rng = np.random.default_rng(channels)
    levels = np.arange(0, 256, 2) if channels == 1 else np.arange(100, 112, 2)
    levels = levels[::-1] if descending else levels
    palette = np.stack(np.meshgrid(*[levels] * channels, indexing="ij"), -1).reshape(-1, channels).astype(np.uint8)
    image = (2 * rng.integers(levels.min() // 2, levels.max() // 2, size=(40, 50, channels)) + 1).astype(np.uint8)
    labels = pixclust.dither(image, palette, strength=0.0, return_labels=True)[1]
    d = ((image[:, :, None, :].astype(np.int64) - palette.astype(np.int64)) ** 2).sum(axis=-1)
    assert (np.sort(d, axis=-1)[..., 1] == d.min(axis=-1)).mean() > 0.9  # ties almost everywhere
    np.testing.assert_array_equal(labels, d.argmin(axis=-1))


def test_damping_lowers_the_colour_error_of_a_photo() -> None:
    from PIL import Image

    photo = np.asarray(Image.open(DATA / "chelsea.png").convert("RGB"))
    palette = pixclust.quantize(photo, 16, random_state=0).palette
    err = [float(np.mean((pixclust.dither(photo, palette, strength=s).astype(np.float64) - photo) ** 2))
           for s in (1.0, 0.875, 0.5, 0.0)]
    assert err == sorted(err, reverse=True) and err[0] > err[-1]


@pytest.mark.parametrize("strength", [-0.01, 1.0001, 2, float("nan"), float("inf")])
def test_bad_strength_is_a_value_error(strength: float) -> None:
    with pytest.raises(ValueError, match=r"strength: expected a number in \[0, 1\]"):
        pixclust.dither(np.zeros((2, 2, 3), dtype=np.uint8), [[0, 0, 0]], strength=strength)


@pytest.mark.parametrize("strength", ["0.5", True, None, [0.5]])
def test_strength_of_another_type_is_a_type_error(strength: object) -> None:
    with pytest.raises(TypeError, match="strength"):
        pixclust.dither(np.zeros((2, 2, 3), dtype=np.uint8), [[0, 0, 0]], strength=strength)  # type: ignore[arg-type]


def test_core_rejects_strength_units_out_of_range() -> None:
    from pixclust import _core

    with pytest.raises(ValueError, match="strength: expected 0 to 1024"):
        _core.dither_floyd_steinberg(np.zeros((2, 2, 3), dtype=np.uint8), np.zeros((1, 3), dtype=np.uint8), True, 1025)


def test_damped_dither_is_the_same_run_alone_or_side_by_side() -> None:
    # The pass runs without the GIL and keeps no shared state: four at once give the bits of one alone.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(9)
    image = rng.integers(0, 256, size=(120, 90, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, size=(40, 3)).astype(np.uint8)
    alone = pixclust.dither(image, palette, strength=0.875, return_labels=True)[1]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: pixclust.dither(image, palette, strength=0.875, return_labels=True)[1], range(4)))
    for labels in runs:
        np.testing.assert_array_equal(labels, alone)
