"""pixclust.palette_tree against SciPy's Ward linkage over every pixel of small images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import is_valid_linkage
from scipy.cluster.hierarchy import linkage as scipy_linkage

import pixclust
from pixclust._palette_tree import _cut

DATA = Path(pixclust.__file__).parent / "data"


def _image(seed: int, distinct: int, shape: tuple[int, int] = (12, 10), dtype: type = np.float64) -> np.ndarray:
    """An image of `distinct` random colours, each used at least once (tie-free: random floats)."""
    rng = np.random.default_rng(seed)
    palette = rng.random((distinct, 3))
    if dtype == np.uint16:
        palette = np.unique(rng.integers(0, 65536, (distinct, 3)), axis=0)
        distinct = palette.shape[0]
    idx = np.concatenate([np.arange(distinct), rng.integers(0, distinct, shape[0] * shape[1] - distinct)])
    rng.shuffle(idx)
    return palette[idx].reshape(shape[0], shape[1], 3).astype(dtype)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.float64, np.uint16])
def test_every_cut_is_scipys_ward_over_all_pixels(seed: int, dtype: type) -> None:
    img = _image(seed, 25, dtype=dtype)
    pixels = img.reshape(-1, 3).astype(np.float64)
    Z_pixels = scipy_linkage(pixels, "ward")  # duplicates merge at height 0 first
    tree = pixclust.palette_tree(img)
    m = tree.colors.shape[0]
    assert tree.linkage.shape == (m - 1, 4)
    assert tree.linkage[-1, 3] == m and is_valid_linkage(tree.linkage)  # leaves counted, as SciPy requires
    # the non-zero heights are SciPy's (the tree of the distinct colours is the pixels' tree above 0)
    np.testing.assert_allclose(np.sort(tree.linkage[:, 2]), np.sort(Z_pixels[Z_pixels[:, 2] > 0, 2]), rtol=1e-12)
    for k in range(1, m + 1):
        ours = tree.cut(k).labels.reshape(-1)
        theirs = _cut(Z_pixels, pixels.shape[0], k)
        assert _same_partition(ours, theirs), k


def test_cuts_are_nested_and_inertia_is_the_ward_heights() -> None:
    # Ward's height is sqrt(2 * the increase of the sum of squares), so the inertia of the cut at k is
    # the sum of h^2 / 2 over the merges below it: two computations that share no code.
    img = _image(7, 40, shape=(20, 16))
    tree = pixclust.palette_tree(img)
    m = tree.colors.shape[0]
    previous = None
    for k in range(1, m + 1):
        res = tree.cut(k)
        assert res.inertia == pytest.approx(float(np.sum(tree.linkage[: m - k, 2] ** 2) / 2), rel=1e-9, abs=1e-12)
        assert res.counts.sum() == img.shape[0] * img.shape[1] and len(res.counts) == k and (res.counts > 0).all()
        labels = tree.color_labels(k)
        if previous is not None:  # each cluster at k lies inside one cluster at k - 1
            assert all(len(set(previous[labels == c].tolist())) == 1 for c in range(k))
        previous = labels
    assert tree.cut(m).inertia < 1e-20  # each colour its own cluster: only the rounding of w*x/w


def test_uint8_photo_cut_matches_its_own_centres() -> None:
    from PIL import Image

    photo = np.asarray(Image.open(DATA / "chelsea.png").convert("RGB"))
    crop = np.ascontiguousarray(photo[100:140, 150:190])
    tree = pixclust.palette_tree(crop)
    res = tree.cut(6)
    assert res.image.dtype == np.uint8 and res.image.shape == crop.shape
    assert len(np.unique(res.image.reshape(-1, 3), axis=0)) <= 6
    pixels = crop.reshape(-1, 3).astype(np.float64)
    lab = res.labels.reshape(-1)
    for c in range(6):
        np.testing.assert_allclose(res.centers[c], pixels[lab == c].mean(axis=0), rtol=1e-12)
    assert "PaletteTree(" in repr(tree) and str(crop.shape[0] * crop.shape[1]) in repr(tree)


def test_bad_arguments() -> None:
    img = _image(1, 5, shape=(4, 4))
    tree = pixclust.palette_tree(img)
    with pytest.raises(ValueError, match="n_colors=6 is larger"):
        tree.cut(6)
    with pytest.raises(ValueError, match="n_colors"):
        tree.cut(0)
    with pytest.raises(ValueError, match="space"):
        pixclust.palette_tree(img, space="hsv")
    with pytest.raises(TypeError, match="image"):
        pixclust.palette_tree(np.zeros((4, 4, 3), dtype=np.int8))
    one = pixclust.palette_tree(np.zeros((3, 3, 3), dtype=np.uint8))
    assert one.linkage.shape == (0, 4) and one.cut(1).inertia == 0.0


def test_plot_draws_the_cut_into_the_users_axes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex, to_rgb
    from matplotlib.patches import Rectangle

    img = _image(3, 30, dtype=np.uint16)
    tree = pixclust.palette_tree(img)
    fig, axes = plt.subplots(1, 2)
    try:
        assert tree.dendrogram(6, ax=axes[1]) is axes[1]
        swatches = [p for p in axes[1].patches if isinstance(p, Rectangle)]
        assert len(swatches) == 6 and not axes[0].patches
        # each swatch is one cluster of the cut at 6: its pixel-weighted mean colour, scaled to [0, 1]
        want = sorted(to_hex(c) for c in tree.cut(6).centers / 65535.0)
        assert sorted(to_hex(to_rgb(s.get_facecolor())) for s in swatches) == want
        labels = [t.get_text() for t in axes[1].get_xticklabels()]
        shares = sorted(int(round(100 * c / tree.counts.sum())) for c in tree.cut(6).counts)
        assert sorted(int(t.split("\n")[1].rstrip("%")) for t in labels) == shares
    finally:
        plt.close(fig)


def test_cli_tree(tmp_path: Path) -> None:
    import subprocess
    import sys

    from PIL import Image

    src = tmp_path / "in.png"
    Image.fromarray((_image(4, 20) * 255).round().astype(np.uint8)).save(src)
    out = tmp_path / "tree.png"
    cmd = [sys.executable, "-m", "pixclust", "tree", str(src), "-k", "5", "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with Image.open(out) as drawn:
        assert drawn.size[0] > 100
    assert "the tree cut into 5 clusters" in r.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)  # no --force: refused, file kept
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "exists" in again.stderr
    bad = subprocess.run(cmd[:-4] + ["-k", "0", "-o", str(tmp_path / "x.png")], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "-k 0" in bad.stderr and not (tmp_path / "x.png").exists()
