"""pixclust.quantize against scikit-learn's KMeans on the pixels, and its input checks."""

from __future__ import annotations

import warnings

from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans as SKKMeans
from sklearn.exceptions import ConvergenceWarning

import pixclust

DATA = Path(__file__).resolve().parents[1] / "python" / "pixclust" / "data"


def _photo(name: str = "chelsea.png") -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(DATA / name).convert("RGB"))


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return _photo("chelsea.png")


def _inertia(pixels: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> float:
    diff = pixels.astype(np.float64) - centers[labels]
    return float(np.einsum("ij,ij->", diff, diff))


def test_result_fields_and_exact_inertia(chelsea: np.ndarray) -> None:
    res = pixclust.quantize(chelsea, 8, random_state=0)
    assert isinstance(res, pixclust.QuantizeResult)
    assert res.n_colors == 8
    assert res.image.shape == chelsea.shape and res.image.dtype == np.uint8
    assert res.palette.shape == (8, 3) and res.palette.dtype == np.uint8
    assert res.centers.shape == (8, 3) and res.centers.dtype == np.float64
    assert res.labels.shape == chelsea.shape[:2]
    assert res.counts.dtype == np.int64 and res.counts.sum() == chelsea.shape[0] * chelsea.shape[1]
    pixels = chelsea.reshape(-1, 3)
    labels = res.labels.ravel()
    np.testing.assert_array_equal(res.counts, np.bincount(labels, minlength=8))
    # inertia is the sum of squared distances to the returned centres, to rounding
    assert res.inertia == pytest.approx(_inertia(pixels, res.centers, labels), rel=1e-12)
    # every pixel carries the label of its nearest centre
    d = ((pixels[:, None, :].astype(np.float64) - res.centers[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d.argmin(1))
    # the image is the palette of the labels, the palette the rounded centres
    np.testing.assert_array_equal(res.image.reshape(-1, 3), res.palette[labels])
    np.testing.assert_array_equal(res.palette, np.clip(np.rint(res.centers), 0, 255).astype(np.uint8))


def test_same_init_as_sklearn_on_pixels(chelsea: np.ndarray) -> None:
    # Run k-means++ ourselves, then give scikit-learn our centres: the Lloyd runs must agree.
    res = pixclust.quantize(chelsea, 6, random_state=3, max_iter=1)
    init = res.centers
    pixels = chelsea.reshape(-1, 3).astype(np.float64)
    sk = SKKMeans(6, init=init, n_init=1, tol=1e-4).fit(pixels)
    ours = pixclust.KMeans(6, init=init, n_init=1, tol=1e-4).fit(chelsea.reshape(-1, 3))
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=1e-6)
    assert ours.n_iter_ == sk.n_iter_


@pytest.mark.parametrize("ks", [[10, 8, 6, 4, 2], [2, 7, 3, 20, 12, 3]])
def test_list_reuses_and_matches_single_calls(chelsea: np.ndarray, ks: list[int]) -> None:
    # A list counts the colours once and seeds colour counts with the same number of local trials
    # together (a shared prefix of k-means++ centres); each result must be the single call's.
    # The reference is the estimator, which seeds every k on its own.
    pixels = chelsea.reshape(-1, 3)
    for max_iter in (300, 1):  # one iteration: the result still shows the initial centres
        many = pixclust.quantize(chelsea, ks, random_state=42, max_iter=max_iter)
        assert [r.n_colors for r in many] == ks
        for r in many:
            with warnings.catch_warnings():  # max_iter=1 does not converge
                warnings.simplefilter("ignore", ConvergenceWarning)
                km = pixclust.KMeans(r.n_colors, random_state=42, max_iter=max_iter).fit(pixels)
            np.testing.assert_array_equal(km._centers64, r.centers)
            np.testing.assert_array_equal(km.labels_, r.labels.reshape(-1))
            assert km.inertia_ == r.inertia
            one = pixclust.quantize(chelsea, r.n_colors, random_state=42, max_iter=max_iter)
            np.testing.assert_array_equal(one.centers, r.centers)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("shape", ["gray", "rgb", "rgba"])
def test_dtypes_and_shapes(chelsea: np.ndarray, dtype: type, shape: str) -> None:
    img = chelsea[::4, ::4]
    if shape == "gray":
        img = img[..., 0]
    elif shape == "rgba":
        alpha = np.arange(img.shape[0] * img.shape[1]).reshape(img.shape[:2]) % 256
        img = np.dstack([img, alpha.astype(np.uint8)])
    if dtype == np.uint16:
        img = img.astype(np.uint16) * 257
    elif dtype in (np.float32, np.float64):
        img = (img / 255.0).astype(dtype)
    res = pixclust.quantize(img, 4, random_state=0)
    assert res.image.shape == img.shape and res.image.dtype == img.dtype
    c = 1 if shape == "gray" else 3
    assert res.palette.shape == (4, c) and res.palette.dtype == img.dtype
    if shape == "rgba":  # alpha kept as it was
        np.testing.assert_array_equal(res.image[..., 3], img[..., 3])
    flat = img.reshape(-1, img.shape[2] if img.ndim == 3 else 1)[:, :c]
    labels = res.labels.ravel()
    seen = labels >= 0  # the fully transparent pixels are left out (label -1)
    expected_seen = img[..., 3].ravel() > 0 if shape == "rgba" else np.ones(labels.shape, bool)
    np.testing.assert_array_equal(seen, expected_seen)
    assert res.inertia == pytest.approx(_inertia(flat[seen], res.centers, labels[seen]), rel=1e-9)


def test_cluster_alpha(chelsea: np.ndarray) -> None:
    img = np.dstack([chelsea[::4, ::4], np.full(chelsea[::4, ::4].shape[:2], 255, np.uint8)])
    img[:10, :, 3] = 0
    res = pixclust.quantize(img, 5, random_state=0, cluster_alpha=True, alpha="keep")
    assert res.palette.shape == (5, 4)
    np.testing.assert_array_equal(res.image.reshape(-1, 4), res.palette[res.labels.ravel()])
    # By default the fully transparent rows are left out: label -1, transparent black.
    res = pixclust.quantize(img, 5, random_state=0, cluster_alpha=True)
    assert res.palette.shape == (5, 4) and np.all(res.labels[:10] == -1) and np.all(res.labels[10:] >= 0)
    assert not res.image[:10].any()
    np.testing.assert_array_equal(res.image[10:].reshape(-1, 4), res.palette[res.labels[10:].ravel()])


def test_lab_space(chelsea: np.ndarray) -> None:
    res = pixclust.quantize(chelsea[::2, ::2], 6, space="lab", random_state=0)
    lab = pixclust.to_lab(chelsea[::2, ::2].reshape(-1, 3))
    assert res.inertia == pytest.approx(_inertia(lab, res.centers, res.labels.ravel()), rel=1e-9)
    back = np.clip(np.rint(pixclust.from_lab(res.centers) * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(back, res.palette)


def test_lab_round_trip() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, size=(500, 3), dtype=np.uint8)
    np.testing.assert_allclose(pixclust.from_lab(pixclust.to_lab(rgb)) * 255, rgb, atol=1e-9)


@pytest.mark.parametrize(
    ("image", "n_colors", "kwargs", "exc", "match"),
    [
        (np.zeros((4, 4, 3, 1), np.uint8), 2, {}, ValueError, "image: expected an H x W"),
        (np.zeros(16, np.uint8), 2, {}, ValueError, "image: expected an H x W"),
        (np.zeros((4, 4, 5), np.uint8), 2, {}, ValueError, "channels"),
        (np.zeros((4, 4, 3), np.int64), 2, {}, TypeError, "image: unsupported dtype int64"),
        (np.zeros((4, 4, 3), np.bool_), 2, {}, TypeError, "image: unsupported dtype bool"),
        (np.zeros((4, 4, 3), np.float16), 2, {}, TypeError, "image: unsupported dtype float16"),
        (np.full((4, 4, 3), np.nan), 2, {}, ValueError, "NaN or infinity"),
        (np.full((4, 4, 3), np.inf, np.float32), 2, {}, ValueError, "NaN or infinity"),
        (np.zeros((0, 4, 3), np.uint8), 2, {}, ValueError, "image: empty"),
        (np.zeros((4, 4, 3), np.uint8), 0, {}, ValueError, "n_colors: must be >= 1"),
        (np.zeros((4, 4, 3), np.uint8), 2.5, {}, TypeError, "n_colors: expected an int"),
        (np.zeros((4, 4, 3), np.uint8), [], {}, ValueError, "n_colors: the list is empty"),
        (np.zeros((4, 4, 3), np.uint8), 2, {}, ValueError, r"larger than the number of distinct colours in the image \(1\)"),
        (np.zeros((4, 4, 3), np.uint8), 1, {"space": "hsv"}, ValueError, "space"),
        (np.zeros((4, 4), np.uint8), 1, {"space": "lab"}, ValueError, "space='lab'"),
        (np.zeros((4, 4, 3), np.uint8), 1, {"max_iter": 0}, ValueError, "max_iter"),
        (np.zeros((4, 4, 3), np.uint8), 1, {"tol": -1.0}, ValueError, "tol"),
        (np.zeros((4, 4, 3), np.uint8), 1, {"n_init": "many"}, ValueError, "n_init"),
        (np.zeros((4, 4, 3), np.uint8), 1, {"n_threads": 0}, ValueError, "n_threads"),
    ],
)
def test_bad_input(image: np.ndarray, n_colors: object, kwargs: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        pixclust.quantize(image, n_colors, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_threads", [2**31, 2**40, "limit+1"])
def test_thread_counts_beyond_reason_are_one_line_value_errors(n_threads: object) -> None:
    from pixclust._fit import _MAX_THREADS

    n = _MAX_THREADS + 1 if n_threads == "limit+1" else n_threads
    img = np.zeros((40, 40, 3), np.uint8)
    img[:20] = 255
    with pytest.raises(ValueError, match="n_threads") as info:
        pixclust.quantize(img, 2, n_threads=n)  # type: ignore[arg-type]
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_colors": 2.0}, "n_colors"), ({"n_colors": "3"}, "n_colors"), ({"n_colors": None}, "n_colors"),
        ({"n_colors": [2, 1.5]}, "n_colors"), ({"n_colors": []}, "n_colors"), ({"max_iter": 1.5}, "max_iter"),
        ({"tol": "x"}, "tol"), ({"n_init": 1.5}, "n_init"), ({"n_threads": 2.0}, "n_threads"),
        ({"random_state": -1}, "random_state"), ({"random_state": 2**32}, "random_state"),
        ({"random_state": "x"}, "random_state"), ({"space": "hsv"}, "space"), ({"cluster_alpha": 1}, "cluster_alpha"),
    ],
)
def test_bad_parameters_are_value_and_type_errors(kwargs: dict, name: str) -> None:
    # As scikit-learn's InvalidParameterError: both a ValueError and a TypeError, so that code written
    # for KMeans (except ValueError) catches quantize's too.
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2] = 255
    args = {"n_colors": 2, **kwargs}
    with pytest.raises(ValueError, match=name) as info:
        pixclust.quantize(img, **args)
    assert isinstance(info.value, TypeError)


def test_k_larger_than_distinct_says_how_many() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    img[:4] = 10
    img[:, :2] = 200
    with pytest.raises(ValueError, match=r"n_colors=4 .*\(3\)"):
        pixclust.quantize(img, 4)
    assert pixclust.quantize(img, 3, random_state=0).inertia == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distinct_colours_whose_squared_distance_underflows(seed: int) -> None:
    # 1e-200 and 0 are distinct colours, but (1e-200)**2 underflows to 0: k-means++ finds no second
    # centre at a positive distance. scikit-learn's fit on the pixels succeeds with a warning; so must
    # quantize (it used to claim that 2 colours were fewer than 2).
    img = np.array([[[1e-200, 0, 0], [0, 0, 0]]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(1\)"):
        ref = SKKMeans(2, random_state=seed).fit(img.reshape(-1, 3))
    with pytest.warns(RuntimeWarning, match=r"n_colors=2: only 1 palette colours have pixels"):
        res = pixclust.quantize(img, 2, random_state=seed)
    assert isinstance(res, pixclust.QuantizeResult)
    assert res.inertia == ref.inertia_ == 0.0
    assert len(np.unique(res.labels)) == len(np.unique(ref.labels_)) == 1
    assert sorted(res.counts.tolist()) == [0, 2]
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(1\)"):
        km = pixclust.KMeans(2, random_state=seed).fit(img.reshape(-1, 3))
    assert km.inertia_ == 0.0 and len(np.unique(km.labels_)) == 1


@pytest.mark.parametrize("bad", [-1, 3])
def test_core_label_maps_refuse_indices_out_of_range(bad: int) -> None:
    # The core's label remapping and painting check every index before touching memory.
    from pixclust import _core

    values = np.array([0, 1, 2, 1, bad, 0], dtype=np.int32)
    before = values.copy()
    with pytest.raises(ValueError, match="not an index into table"):
        _core.remap_labels(values, np.array([5, 6, 7], dtype=np.int32))
    np.testing.assert_array_equal(values, before)  # nothing was changed
    palette = np.zeros((3, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="not a row of palette"):
        _core.paint_pixels(values, palette, np.zeros((6, 3), dtype=np.uint8))


@pytest.mark.parametrize("table", [[5, 6, 256], [-1, 0, 1]])
def test_core_byte_label_map_refuses_labels_out_of_range(table: list[int]) -> None:
    from pixclust import _core

    values = np.array([0, 1, 2, 1, 0], dtype=np.int32)
    with pytest.raises(ValueError, match=r"not in \[0, 256\)"):
        _core.remap_labels_u8(values, np.array(table, dtype=np.int32))
    with pytest.raises(ValueError, match="not an index into table"):
        _core.remap_labels_u8(np.array([0, 3], dtype=np.int32), np.array([1, 2, 3], dtype=np.int32))
    with pytest.raises(TypeError, match="values: expected dtype int32"):
        _core.remap_labels_u8(values.astype(np.int64), np.array([1, 2, 3], dtype=np.int32))


@pytest.mark.parametrize("k", [2, 37, 256])
def test_index_map_is_the_label_map_in_bytes(chelsea: np.ndarray, k: int) -> None:
    # The palette file's byte map, made straight from the colour numbers (the command line writes it),
    # must be the int32 label map, before and after that map was made.
    res = pixclust.quantize(chelsea, k, random_state=1)
    first = res._index_map()
    assert first is not None and first.dtype == np.uint8 and first.shape == chelsea.shape[:2]
    np.testing.assert_array_equal(first, res.labels)
    again = res._index_map()
    assert again is not None
    np.testing.assert_array_equal(again, res.labels)


def test_image_is_painted_on_first_access_as_palette_at_labels(chelsea: np.ndarray) -> None:
    # Every channel clustered: the image waits for its first access (a palette file needs only the
    # labels) and is then palette[labels]; repr and pickling do not paint it.
    import pickle

    res = pixclust.quantize(chelsea, 12, random_state=2)
    assert "(12" not in repr(res) and "image=300 x 451 x 3 uint8" in repr(res)
    assert "image" not in res.__dict__
    copy = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(res.image, res.palette[res.labels])
    np.testing.assert_array_equal(copy.image, res.image)
    assert res.image.dtype == np.uint8 and res.image.shape == chelsea.shape
    # An alpha channel kept out of the clustering is copied from the input when the result is made, so a
    # later change to the input does not reach it.
    rgba = np.dstack([chelsea, np.arange(chelsea.shape[1], dtype=np.uint8)[None, :].repeat(300, 0) | 1])
    kept = pixclust.quantize(rgba, 12, random_state=2)
    before = rgba[..., 3].copy()
    rgba[..., 3] = 7
    np.testing.assert_array_equal(kept.image[..., 3], before)
    np.testing.assert_array_equal(kept.image[..., :3], kept.palette[kept.labels])


def test_core_paint_without_a_source_is_the_palette_rows() -> None:
    from pixclust import _core

    labels = np.array([2, 0, 1, 2], dtype=np.int32)
    palette = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.uint16)
    np.testing.assert_array_equal(_core.paint_pixels(labels, palette, None), palette[labels])
    np.testing.assert_array_equal(_core.paint_pixels(labels, palette, None),
                                  _core.paint_pixels(labels, palette, np.zeros((4, 3), np.uint16)))
    with pytest.raises(ValueError, match="not a row of palette"):
        _core.paint_pixels(np.array([3], dtype=np.int32), palette, None)


def test_index_map_is_none_where_bytes_cannot_hold_it(chelsea: np.ndarray) -> None:
    assert pixclust.quantize(chelsea, 300, random_state=0)._index_map() is None  # labels up to 299
    rgba = np.dstack([chelsea, np.full(chelsea.shape[:2], 255, np.uint8)])
    rgba[:10, :10, 3] = 0  # left out: label -1
    res = pixclust.quantize(rgba, 8, random_state=0)
    assert res._index_map() is None and res.labels.min() == -1


def test_outputs_own_their_memory(chelsea: np.ndarray) -> None:
    # The large outputs live in C-heap buffers owned by the arrays (not numpy's allocator): they must
    # outlive the result and the estimator that made them, stay writeable, and pickle like any array.
    import gc
    import pickle

    result = pixclust.quantize(chelsea, 6, random_state=0)
    image = result.image
    km = pixclust.KMeans(6, random_state=0, n_init=1).fit(chelsea.reshape(-1, 3))
    labels = km.labels_
    image_copy, labels_copy = image.copy(), labels.copy()
    del result, km
    gc.collect()
    churn = [np.ones(1 << 20, dtype=np.uint8) for _ in range(64)]  # reuse of freed memory would show
    np.testing.assert_array_equal(image, image_copy)
    np.testing.assert_array_equal(labels, labels_copy)
    del churn
    assert image.flags.c_contiguous and image.flags.writeable and labels.flags.writeable
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(image)), image_copy)
    image[0, 0, 0] ^= 1
    assert image[0, 0, 0] != image_copy[0, 0, 0]


def test_random_state_forms(chelsea: np.ndarray) -> None:
    # random_state as scikit-learn's estimators take it: an int, a RandomState (its stream is used),
    # None (numpy's global stream); anything else is refused naming the value.
    small = chelsea[::8, ::8]
    by_int = pixclust.quantize(small, 5, random_state=7)
    by_state = pixclust.quantize(small, 5, random_state=np.random.RandomState(7))
    np.testing.assert_array_equal(by_int.palette, by_state.palette)
    np.random.seed(7)
    by_global = pixclust.quantize(small, 5, random_state=None)
    np.testing.assert_array_equal(by_global.palette, by_int.palette)
    with pytest.raises(ValueError, match="cannot be used to seed a numpy.random.RandomState"):
        pixclust.quantize(small, 5, random_state=np.random.default_rng(7))
    with pytest.raises(ValueError, match="'seven' cannot be used to seed"):
        pixclust.quantize(small, 5, random_state="seven")


# ------------------------------------------------------------------------------ alpha (#18 item 6)


def _cut_out(chelsea: np.ndarray) -> np.ndarray:
    """The cat at a quarter size with a ragged alpha: a quarter of the pixels fully transparent (and
    their hidden colours still there), the rest at opacities from 1 to 255."""
    rgb = chelsea[::3, ::3]
    rng = np.random.default_rng(7)
    alpha = rng.integers(1, 256, size=rgb.shape[:2]).astype(np.uint8)
    alpha[rng.random(rgb.shape[:2]) < 0.25] = 0
    return np.dstack([rgb, alpha])


def test_alpha_exclude_is_k_means_on_the_visible_pixels(chelsea: np.ndarray) -> None:
    img = _cut_out(chelsea)
    visible = img[..., 3] > 0
    res = pixclust.quantize(img, 6, random_state=3)
    assert isinstance(res, pixclust.QuantizeResult)
    ref = SKKMeans(6, random_state=3, n_init=1).fit(img[visible][:, :3].astype(np.float64))
    order = np.lexsort(res.centers.T), np.lexsort(ref.cluster_centers_.T)
    np.testing.assert_allclose(res.centers[order[0]], ref.cluster_centers_[order[1]], rtol=1e-9)
    assert res.inertia == pytest.approx(ref.inertia_, rel=1e-9)
    assert res.counts.sum() == visible.sum() and res.palette.shape == (6, 3)
    # hidden pixels: label -1, transparent black (their colour is not shown); visible: their palette entry
    assert np.all(res.labels[~visible] == -1) and not res.image[~visible].any()
    np.testing.assert_array_equal(res.image[visible][:, :3], res.palette[res.labels[visible]])
    np.testing.assert_array_equal(res.image[..., 3], img[..., 3])
    np.testing.assert_array_equal(res.counts, np.bincount(res.labels[visible], minlength=6))
    # a list of counts gives each single call's result
    for r in pixclust.quantize(img, [6, 4], random_state=3):
        one = pixclust.quantize(img, r.n_colors, random_state=3)
        np.testing.assert_array_equal(one.centers, r.centers)
        np.testing.assert_array_equal(one.labels, r.labels)


def test_alpha_weight_is_k_means_weighted_by_opacity(chelsea: np.ndarray) -> None:
    img = _cut_out(chelsea)
    visible = img[..., 3] > 0
    X = img[visible][:, :3].astype(np.float64)
    w = img[visible][:, 3] / 255.0
    res = pixclust.quantize(img, 5, random_state=1, alpha="weight")
    assert isinstance(res, pixclust.QuantizeResult)
    km = pixclust.KMeans(5, random_state=1, n_init=1).fit(X, sample_weight=w)
    np.testing.assert_array_equal(res.centers, km._centers64)
    np.testing.assert_array_equal(res.labels[visible], km.labels_)
    assert res.inertia == km.inertia_
    assert np.all(res.labels[~visible] == -1) and not res.image[~visible].any()
    # Run to a fixed point (tol=0), it is one for scikit-learn's weighted Lloyd too: started from our
    # centres, scikit-learn stays there, and the centres are the opacity-weighted means of their pixels.
    res = pixclust.quantize(img, 5, random_state=1, alpha="weight", tol=0)
    assert isinstance(res, pixclust.QuantizeResult)
    sk = SKKMeans(5, init=res.centers, n_init=1, tol=0).fit(X, sample_weight=w)
    np.testing.assert_allclose(sk.cluster_centers_, res.centers, rtol=1e-9)
    assert res.inertia == pytest.approx(sk.inertia_, rel=1e-9)
    np.testing.assert_array_equal(sk.labels_, res.labels[visible])
    lab = res.labels[visible]
    means = np.array([np.average(X[lab == j], axis=0, weights=w[lab == j]) for j in range(5)])
    np.testing.assert_allclose(res.centers, means, rtol=1e-9)
    # and not the unweighted answer
    plain = pixclust.quantize(img, 5, random_state=1, tol=0)
    assert isinstance(plain, pixclust.QuantizeResult)
    assert np.abs(plain.centers - res.centers).max() > 0.1


def test_alpha_keep_clusters_every_pixel(chelsea: np.ndarray) -> None:
    img = _cut_out(chelsea)
    res = pixclust.quantize(img, 4, random_state=0, alpha="keep")
    ref = pixclust.quantize(np.ascontiguousarray(img[..., :3]), 4, random_state=0)
    np.testing.assert_array_equal(res.centers, ref.centers)
    np.testing.assert_array_equal(res.image[..., :3], ref.image)
    np.testing.assert_array_equal(res.image[..., 3], img[..., 3])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64])
def test_opaque_alpha_gives_the_same_bits_in_every_mode(chelsea: np.ndarray, dtype: type) -> None:
    rgb = chelsea[::2, ::2]
    full = 1.0 if dtype == np.float64 else np.iinfo(dtype).max
    scale = full / 255.0
    rgb = (rgb * scale).astype(dtype)
    img = np.dstack([rgb, np.full(rgb.shape[:2], full, dtype)])
    ref = pixclust.quantize(np.ascontiguousarray(rgb), 6, random_state=5)
    assert isinstance(ref, pixclust.QuantizeResult)
    for mode in ("exclude", "weight", "keep"):
        res = pixclust.quantize(img, 6, random_state=5, alpha=mode)
        assert isinstance(res, pixclust.QuantizeResult)
        np.testing.assert_array_equal(res.centers, ref.centers)
        np.testing.assert_array_equal(res.labels, ref.labels)
        np.testing.assert_array_equal(res.image[..., :3], ref.image)
        assert res.inertia == ref.inertia


def test_alpha_errors() -> None:
    img = np.zeros((3, 3, 4), np.uint8)
    with pytest.raises(ValueError, match="every pixel is fully transparent"):
        pixclust.quantize(img, 1)
    assert pixclust.quantize(img, 1, alpha="keep").counts.tolist() == [9]  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="alpha: expected 'exclude', 'weight' or 'keep'"):
        pixclust.quantize(img, 1, alpha="ignore")


def test_hidden_pixels_keep_their_alpha() -> None:
    # A float image's alpha may be below 0: such pixels are hidden (left out, colour cleared), and their
    # alpha comes back as it was, as for every pixel (found by the fuzzer: -9.9e37 came back as 0).
    rng = np.random.default_rng(3)
    img = rng.random((6, 7, 4)).astype(np.float32)
    img[..., 3] = np.where(rng.random((6, 7)) < 0.3, -rng.random((6, 7)) * 1e37, img[..., 3])
    img[0, 0, 3] = 0.0
    hidden = img[..., 3] <= 0
    res = pixclust.quantize(img, 3, random_state=0)
    assert isinstance(res, pixclust.QuantizeResult)
    np.testing.assert_array_equal(res.image[..., 3], img[..., 3])
    assert not res.image[hidden][:, :3].any() and (res.labels[hidden] == -1).all()
    assert int(res.counts.sum()) == int((~hidden).sum())
