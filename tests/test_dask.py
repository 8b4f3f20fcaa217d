"""pixclust.dask: the colour counts of any chunking are numpy's, and the fit is the in-memory weighted fit
of those counts, bit for bit, on the threaded scheduler and on a cluster of worker processes. Other data:
Lloyd's iterations on the dask array, the same bits for any chunking and scheduler, and the in-memory fit
to rounding from the same initial centres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402
import dask.array as da  # noqa: E402

import pixclust  # noqa: E402
from pixclust import _core  # noqa: E402
import pixclust.dask  # noqa: E402
from pixclust.dask import KMeans, color_counts  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

N = 200_000
CHELSEA = Path(pixclust.__file__).parent / "data" / "chelsea.png"


def _random_colors(seed: int) -> np.ndarray:
    # blobs of colours: many distinct rows, most of them repeated, as in a photo
    rng = np.random.default_rng(seed)
    centres = rng.integers(20, 236, size=(6, 3))
    rows = centres[rng.integers(0, 6, size=N)] + rng.normal(0, 12, size=(N, 3))
    return np.clip(np.rint(rows), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def colors() -> np.ndarray:
    return _random_colors(0)


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    image = pytest.importorskip("PIL.Image")
    with image.open(CHELSEA) as im:
        return np.asarray(im.convert("RGB")).reshape(-1, 3)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as lc, distributed.Client(lc, set_as_default=False) as client:
        yield client


CHUNKINGS = [
    (N, 3),  # one chunk
    ((50_000, 70_000, 80_000), 3),  # uneven rows
    ((1, 99_999, 0, 37_000, 63_000), 3),  # a one-row chunk and an empty one
    (30_000, 1),  # columns chunked too: joined first
    (((17_000,) * 11 + (13_000,)), (2, 1)),
]


def _reference(X: np.ndarray, **params: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    colors, counts = np.unique(X, axis=0, return_counts=True)
    return pixclust.KMeans(**params).fit(colors, sample_weight=counts), colors, counts


def _assert_same_fit(km: KMeans, ref: Any) -> None:
    assert km.cluster_centers_.dtype == ref.cluster_centers_.dtype
    assert km.cluster_centers_.tobytes() == ref.cluster_centers_.tobytes()
    assert np.float64(km.inertia_).tobytes() == np.float64(ref.inertia_).tobytes()
    assert km.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("k", [4, 16])
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_fit_is_the_weighted_fit_of_the_distinct_colours(colors: np.ndarray, chunks: Any, k: int) -> None:
    ref, _, _ = _reference(colors, n_clusters=k, random_state=7)
    with dask.config.set(scheduler="threads"):
        km = KMeans(n_clusters=k, random_state=7).fit(da.from_array(colors, chunks=chunks))
    _assert_same_fit(km, ref)


def test_color_counts_are_numpys(colors: np.ndarray) -> None:
    _, want_colors, want_counts = _reference(colors, n_clusters=1)
    with dask.config.set(scheduler="threads"):
        got_colors, got_counts = color_counts(da.from_array(colors, chunks=((1, 99_999, 0, 37_000, 63_000), 2)))
    assert got_colors.dtype == np.uint8 and got_counts.dtype == np.int64
    assert np.array_equal(got_colors, want_colors)
    assert np.array_equal(got_counts, want_counts)


def test_labels_and_transform_are_lazy_and_the_in_memory_ones(colors: np.ndarray) -> None:
    X = da.from_array(colors, chunks=((50_000, 70_000, 80_000), 3))
    ref, _, _ = _reference(colors, n_clusters=8, random_state=3)
    with dask.config.set(scheduler="threads"):
        km = KMeans(n_clusters=8, random_state=3).fit(X)
        assert isinstance(km.labels_, da.Array) and isinstance(km.transform(X), da.Array)
        labels = km.labels_.compute()
        distances = km.transform(X).compute()
        assert np.array_equal(km.fit_predict(X).compute(), labels)
    assert labels.dtype == np.int32
    assert np.array_equal(labels, ref.predict(colors))
    assert distances.dtype == np.float64 and distances.shape == (N, 8)
    assert np.array_equal(distances, ref.transform(colors))


def test_photo_threads_and_cluster_agree_with_the_reference(chelsea: np.ndarray, cluster: Any) -> None:
    ref, _, _ = _reference(chelsea, n_clusters=8, random_state=0)
    X = da.from_array(chelsea, chunks=(37_000, 3))
    with dask.config.set(scheduler="threads"):
        threaded = KMeans(n_clusters=8, random_state=0).fit(X)
    with dask.config.set(scheduler=cluster):
        spread = KMeans(n_clusters=8, random_state=0).fit(X)
        labels = spread.labels_.compute()
    _assert_same_fit(threaded, ref)
    _assert_same_fit(spread, ref)
    assert np.array_equal(labels, ref.predict(chelsea))


@pytest.mark.parametrize("k", [4, 16])
def test_cluster_of_processes_gives_the_same_bits(colors: np.ndarray, cluster: Any, k: int) -> None:
    ref, _, _ = _reference(colors, n_clusters=k, random_state=11)
    X = da.from_array(colors, chunks=((17_000,) * 11 + (13_000,), 3))
    with dask.config.set(scheduler=cluster):
        km = KMeans(n_clusters=k, random_state=11).fit(X)
    _assert_same_fit(km, ref)
    # the chunks were indexed on the cluster's workers, not in this process
    assert client_ran(cluster, "_index_block")


def client_ran(client: Any, name: str) -> bool:
    return bool(
        client.run_on_scheduler(
            lambda dask_scheduler: any(name in str(entry[0]) for entry in dask_scheduler.transition_log)
        )
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_merge_kernel_is_the_unique_of_the_concatenation(dtype: Any) -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 5, size=(3000, 3)).astype(dtype) * 60
    b = rng.integers(2, 7, size=(2000, 3)).astype(dtype) * 60
    ca, wa = np.unique(a, axis=0, return_counts=True)
    cb, wb = np.unique(b, axis=0, return_counts=True)
    colors, counts = _core.merge_color_counts(ca, wa.astype(np.int64), cb, wb.astype(np.int64))
    want_colors, want_counts = np.unique(np.concatenate([a, b]), axis=0, return_counts=True)
    assert colors.dtype == dtype and counts.dtype == np.int64
    assert np.array_equal(colors, want_colors) and np.array_equal(counts, want_counts)
    empty_c, empty_w = _core.merge_color_counts(ca[:0], wa[:0].astype(np.int64), cb, wb.astype(np.int64))
    assert np.array_equal(empty_c, cb) and np.array_equal(empty_w, wb)


def test_merge_kernel_refuses_unsorted_input_and_bad_shapes() -> None:
    c = np.array([[1, 2], [1, 1]], dtype=np.uint8)
    w = np.ones(2, dtype=np.int64)
    with pytest.raises(ValueError, match="strictly increasing"):
        _core.merge_color_counts(c, w, c[::-1].copy(), w)
    with pytest.raises(ValueError, match="colors_b"):
        _core.merge_color_counts(c, w, np.ones((2, 3), np.uint8), w)
    with pytest.raises(ValueError, match="counts_a"):
        _core.merge_color_counts(c, w[:1], c, w)
    with pytest.raises(TypeError, match="colors_a"):
        _core.merge_color_counts(c.astype(np.float64), w, c.astype(np.float64), w)


def test_bad_input(colors: np.ndarray) -> None:
    km = KMeans(n_clusters=2)
    with pytest.raises(TypeError, match="X"):
        km.fit(colors)
    with pytest.raises(ValueError, match="X"):
        km.fit(da.from_array(colors[:, 0]))
    with pytest.raises(ValueError, match="X"):
        km.fit(da.from_array(colors.reshape(-1, 10, 3)))
    with pytest.raises(NotImplementedError, match="only uint8 colours"):
        color_counts(da.from_array(colors.astype(np.float64)))
    with pytest.raises(NotImplementedError, match="only uint8 colours"):
        color_counts(da.from_array(np.zeros((10, 5), np.uint8)))
    with pytest.raises(NotImplementedError, match="init"):
        KMeans(n_clusters=2, init="random").fit(da.from_array(colors.astype(np.float64)))
    with pytest.raises(ValueError, match="NaN"), dask.config.set(scheduler="threads"):
        KMeans(n_clusters=2).fit(da.from_array(np.full((10, 2), np.nan)))
    with pytest.raises(ValueError, match="n_samples=3"):
        KMeans(n_clusters=4).fit(da.from_array(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="n_clusters"):
        KMeans(n_clusters=0).fit(da.from_array(colors))
    with dask.config.set(scheduler="threads"):
        fitted = KMeans(n_clusters=2, random_state=0).fit(da.from_array(colors[:1000]))
    with pytest.raises(TypeError, match="X"):
        fitted.predict(colors)


# -- Lloyd's iterations on the dask array (other dtypes) ----------------------------------------------

N_LLOYD = 60_000
LEAF = 4096  # 15 leaves: a two-level tree on little data
LLOYD_CHUNKINGS = [N_LLOYD, (7_000, 13_000, 0, 40_000), 9_999]


@pytest.fixture
def small_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    # the leaves are cut on the client (a rechunk in the graph): workers need not see the patch
    monkeypatch.setattr(pixclust.dask, "_LEAF_ROWS", LEAF)


def _blobs(seed: int, d: int, dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(100, 900, size=(6, d))
    rows = centres[rng.integers(0, 6, size=N_LLOYD)] + rng.normal(0, 60, size=(N_LLOYD, d))
    if np.dtype(dtype).kind == "u":
        rows = np.rint(rows)
    return rows.astype(dtype)


def _same_bits(a: KMeans, b: KMeans) -> None:
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    assert np.float64(a.inertia_).tobytes() == np.float64(b.inertia_).tobytes()
    assert a.n_iter_ == b.n_iter_


def _agree_but_at_ties(X: np.ndarray, centers: np.ndarray, got: np.ndarray, want: np.ndarray) -> None:
    differ = np.flatnonzero(got != want)
    x = X[differ].astype(np.float64)
    d_got = np.sum(np.square(x - centers[got[differ]]), axis=1)
    d_want = np.sum(np.square(x - centers[want[differ]]), axis=1)
    assert np.allclose(d_got, d_want, rtol=1e-9, atol=0)


@pytest.mark.usefixtures("small_leaves")
@pytest.mark.parametrize("d", [2, 3, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_lloyd_is_the_in_memory_fit_and_the_same_bits_for_any_chunking(dtype: Any, d: int) -> None:
    X = _blobs(d, d, dtype)
    init = X[[0, 1, 2, 3, 4, 5, 6, 7]].astype(np.float64)
    params = dict(n_clusters=8, init=init, n_init=1, tol=1e-6)
    ref = pixclust.KMeans(**params).fit(X)
    with dask.config.set(scheduler="threads"):
        fits = [KMeans(**params).fit(da.from_array(X, chunks=(c, d))) for c in LLOYD_CHUNKINGS]
        labels = fits[1].labels_.compute()
    for other in fits[1:]:
        _same_bits(fits[0], other)
    km = fits[0]
    assert km.cluster_centers_.dtype == ref.cluster_centers_.dtype
    assert abs(km.inertia_ - ref.inertia_) <= 1e-9 * ref.inertia_
    assert np.allclose(km._centers64, ref._centers64, rtol=1e-9, atol=1e-9)
    _agree_but_at_ties(X, ref._centers64, labels, ref.labels_)


@pytest.mark.usefixtures("small_leaves")
def test_lloyd_on_a_cluster_of_processes_gives_the_threaded_bits(cluster: Any) -> None:
    X = _blobs(1, 7, np.float32)
    with dask.config.set(scheduler="threads"):
        threaded = KMeans(n_clusters=5, random_state=2, n_init=2).fit(da.from_array(X, chunks=(10_000, 7)))
    with dask.config.set(scheduler=cluster):
        spread = KMeans(n_clusters=5, random_state=2, n_init=2).fit(da.from_array(X, chunks=(23_000, 7)))
        labels = spread.labels_.compute()
    _same_bits(threaded, spread)
    assert client_ran(cluster, "_lloyd_block")
    want, _ = _core.kmeans_assign(X, None, spread._centers64, 1)
    assert np.array_equal(labels, want)


@pytest.mark.usefixtures("small_leaves")
def test_kmeans_plusplus_is_reproducible_and_n_init_keeps_the_best() -> None:
    X = _blobs(2, 3, np.float64)
    with dask.config.set(scheduler="threads"):
        one = KMeans(n_clusters=6, random_state=4).fit(da.from_array(X, chunks=(N_LLOYD, 3)))
        again = KMeans(n_clusters=6, random_state=4).fit(da.from_array(X, chunks=(5_000, 3)))
        many = KMeans(n_clusters=6, random_state=4, n_init=4).fit(da.from_array(X, chunks=(5_000, 3)))
    _same_bits(one, again)
    assert many.inertia_ <= one.inertia_  # the first of the four runs is `one`
    in_memory = pixclust.KMeans(n_clusters=6, random_state=4, n_init=4).fit(X)
    assert many.inertia_ <= in_memory.inertia_ * 1.01  # k-means++ on a sample: as good a start


@pytest.mark.usefixtures("small_leaves")
def test_ward_init_is_deterministic_and_the_in_memory_ward_start() -> None:
    X = _blobs(5, 3, np.float64)
    with dask.config.set(scheduler="threads"):
        one = KMeans(n_clusters=6, init="ward", random_state=1).fit(da.from_array(X, chunks=(N_LLOYD, 3)))
        again = KMeans(n_clusters=6, init="ward", random_state=9).fit(da.from_array(X, chunks=(5_000, 3)))
    _same_bits(one, again)
    # the strided rows are every row when there are at most 65,536: the in-memory ward start exactly
    from pixclust._ward_init import WardSeeds

    start = WardSeeds(X, None, 6, 1).centers(6)
    ref = pixclust.KMeans(n_clusters=6, init=start, tol=one.tol).fit(X)
    assert abs(one.inertia_ - ref.inertia_) <= 1e-9 * ref.inertia_


@pytest.mark.usefixtures("small_leaves")
def test_an_empty_cluster_keeps_its_centre() -> None:
    X = _blobs(3, 2, np.float64)
    init = np.vstack([X[:3], [[1e6, 1e6]]])  # the last centre is nobody's nearest
    with dask.config.set(scheduler="threads"), pytest.warns(ConvergenceWarning, match="distinct clusters \\(3\\)"):
        km = KMeans(n_clusters=4, init=init).fit(da.from_array(X, chunks=(8_000, 2)))
    assert km.cluster_centers_[3].tolist() == [1e6, 1e6]
    ref = pixclust.KMeans(n_clusters=3, init=X[:3]).fit(X)  # the other three move as if it were absent
    assert abs(km.inertia_ - ref.inertia_) <= 1e-9 * ref.inertia_


@pytest.mark.usefixtures("small_leaves")
def test_max_iter_stops_where_the_in_memory_fit_stops() -> None:
    X = _blobs(4, 7, np.uint16)
    init = X[:5].astype(np.float64)
    ref = pixclust.KMeans(n_clusters=5, init=init, max_iter=2).fit(X)
    with dask.config.set(scheduler="threads"):
        km = KMeans(n_clusters=5, init=init, max_iter=2).fit(da.from_array(X, chunks=(6_000, 7)))
    assert km.n_iter_ == ref.n_iter_ == 2
    assert abs(km.inertia_ - ref.inertia_) <= 1e-9 * ref.inertia_


# -- quantize: one palette for many images --------------------------------------------------------------


def _frames() -> np.ndarray:
    """Three RGBA frames from the photo: shifted, noisy, and one with a transparent corner."""
    image = pytest.importorskip("PIL.Image")
    with image.open(CHELSEA) as im:
        rgb = np.asarray(im.convert("RGB"))[:160, :240]
    rng = np.random.default_rng(8)
    noisy = np.clip(rgb.astype(np.int64) + rng.integers(-6, 7, rgb.shape), 0, 255).astype(np.uint8)
    frames = np.stack([rgb, np.roll(rgb, 17, axis=1), noisy])
    alpha = np.full(frames.shape[:3] + (1,), 255, dtype=np.uint8)
    alpha[2, :40, :50] = 0  # hidden: left out of the clustering, its colour cleared, its alpha kept
    alpha[1, 100:, 200:] = 128  # half transparent: clustered as any visible pixel
    return np.concatenate([frames, alpha], axis=3)


def _shared_reference(images: list[np.ndarray], k: int, **options: Any) -> tuple[Any, list[np.ndarray], list[np.ndarray]]:
    """pixclust.quantize on every visible pixel of the images gathered in colour order, and each image
    painted in memory with its result: each colour takes the palette entry its fit gave it."""
    rows = [im.reshape(-1, im.shape[-1]) for im in images]
    visible = [r[:, 3] > 0 for r in rows]
    clustered = np.concatenate([r[v, :3] for r, v in zip(rows, visible)])
    colors, inverse, counts = np.unique(clustered, axis=0, return_inverse=True, return_counts=True)
    ref = pixclust.quantize(np.repeat(colors, counts, axis=0)[None], k, **options)
    color_label = ref.labels[0][np.cumsum(counts) - 1]
    want_images, want_labels, start = [], [], 0
    for im, r, v in zip(images, rows, visible):
        labels = np.full(r.shape[0], -1, dtype=np.int32)
        labels[v] = color_label[inverse.ravel()[start:start + v.sum()]]
        start += v.sum()
        out = np.zeros_like(r)
        out[v, :3] = ref.palette[labels[v]]
        out[:, 3] = r[:, 3]
        out[~v, 3] = r[~v, 3]
        want_images.append(out.reshape(im.shape))
        want_labels.append(labels.reshape(im.shape[:2]))
    return ref, want_images, want_labels


def _assert_same_palette(res: Any, ref: Any) -> None:
    assert np.array_equal(res.palette, ref.palette) and res.palette.dtype == np.uint8
    assert res.centers.tobytes() == ref.centers.tobytes()
    assert np.float64(res.inertia).tobytes() == np.float64(ref.inertia).tobytes()
    assert np.array_equal(res.counts, ref.counts)


@pytest.mark.parametrize("chunks", [(1, 160, 240, 4), (2, 70, 100, 2), (3, 160, 240, 4)])
@pytest.mark.parametrize(("k", "seed", "n_init"), [(16, 0, 1), (6, 5, 3)])
def test_quantize_is_pixclust_quantize_of_all_the_pixels(chunks: Any, k: int, seed: int, n_init: int) -> None:
    frames = _frames()
    ref, want_images, want_labels = _shared_reference(list(frames), k, random_state=seed, n_init=n_init)
    with dask.config.set(scheduler="threads"):
        res = pixclust.dask.quantize(da.from_array(frames, chunks=chunks), k, random_state=seed, n_init=n_init)
        assert isinstance(res.images, da.Array) and isinstance(res.labels, da.Array)
        images, labels = dask.compute(res.images, res.labels)
    _assert_same_palette(res, ref)
    assert images.dtype == np.uint8 and labels.dtype == np.int32
    assert np.array_equal(images, np.stack(want_images))
    assert np.array_equal(labels, np.stack(want_labels))


def test_quantize_paths_of_different_sizes_on_a_cluster(tmp_path: Path, cluster: Any) -> None:
    image = pytest.importorskip("PIL.Image")
    frames = _frames()
    pieces = [frames[0], frames[1][:90, :130], frames[2][20:, 10:]]
    paths = []
    for i, piece in enumerate(pieces):
        paths.append(tmp_path / f"p{i}.png")
        image.fromarray(piece).save(paths[-1])
    ref, want_images, want_labels = _shared_reference(pieces, 8, random_state=2)
    with dask.config.set(scheduler=cluster):
        res = pixclust.dask.quantize(paths, 8, random_state=2)
        images, labels = dask.compute(res.images, res.labels)
    _assert_same_palette(res, ref)
    for got, want in zip(images, want_images):
        assert np.array_equal(got, want)
    for got, want in zip(labels, want_labels):
        assert np.array_equal(got, want)
    assert client_ran(cluster, "_image_colors")


def test_quantize_dithers_each_whole_image_onto_the_shared_palette() -> None:
    frames = _frames()
    with dask.config.set(scheduler="threads"):
        plain = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 50, 60, 4)), 6, random_state=1)
        res = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 50, 60, 4)), 6, random_state=1, dither=True)
        images, labels = dask.compute(res.images, res.labels)
    assert np.array_equal(res.palette, plain.palette)
    for frame, got, got_labels in zip(frames, images, labels):
        want, want_labels = pixclust.dither(frame, res.palette, return_labels=True)
        hidden = frame[..., 3] == 0
        want[hidden, :3] = 0
        want_labels[hidden] = -1
        assert np.array_equal(got, want) and np.array_equal(got_labels, want_labels)


def test_quantize_dithers_at_a_given_strength_and_checks_it() -> None:
    frames = _frames()[:, :, :, :3]
    with dask.config.set(scheduler="threads"):
        res = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 50, 60, 3)), 6, random_state=1, dither=0.5)
        images = res.images.compute()
    for frame, got in zip(frames, images):
        assert np.array_equal(got, pixclust.dither(frame, res.palette, strength=0.5))
    for bad, err in ((1.5, ValueError), (float("nan"), ValueError), ("yes", TypeError)):
        with pytest.raises(err, match="dither"):
            pixclust.dask.quantize(da.from_array(frames), 6, dither=bad)


def test_quantize_alpha_keep_gray_and_16_bit() -> None:
    frames = _frames()
    with dask.config.set(scheduler="threads"):
        keep = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 80, 240, 4)), 5, random_state=0, alpha="keep")
        assert keep.counts.sum() == frames[..., 0].size  # every pixel clustered
        gray16 = (frames[..., :1].astype(np.uint16) * 257)
        res = pixclust.dask.quantize(da.from_array(gray16, chunks=(2, 40, 240, 1)), 4, random_state=0)
        images = res.images.compute()
    colors, counts = np.unique(gray16.reshape(-1, 1), axis=0, return_counts=True)
    ref = pixclust.quantize(np.repeat(colors, counts, axis=0)[None], 4, random_state=0)
    assert np.array_equal(res.palette, ref.palette) and res.palette.dtype == np.uint16
    assert set(np.unique(images).tolist()) <= set(ref.palette.ravel().tolist())


def test_quantize_progress_bars(capsys: pytest.CaptureFixture[str], cluster: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    X = da.from_array(_frames(), chunks=(1, 160, 240, 4))
    calls = []
    real = distributed.progress
    monkeypatch.setattr(distributed, "progress", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    with dask.config.set(scheduler="threads"):
        pixclust.dask.quantize(X, 4, random_state=0, progress=True)
    local = capsys.readouterr().out
    assert "100% Completed" in local and not calls  # dask.diagnostics.ProgressBar
    with dask.config.set(scheduler=cluster):
        pixclust.dask.quantize(X, 4, random_state=0, progress=True)
    assert "100% Completed" in capsys.readouterr().out and calls == [1]  # distributed's bar
    pixclust.dask.quantize(X, 4, random_state=0)
    assert capsys.readouterr().out == ""


def test_quantize_ward_is_in_memory_ward_on_the_pixels_in_any_order() -> None:
    # Ward's start depends on the distinct colours and their counts only, not on the pixels' order
    frames = _frames()[..., :3]
    with dask.config.set(scheduler="threads"):
        res = pixclust.dask.quantize(da.from_array(frames, chunks=(1, 7, 9, 3)), 5, init="ward")
    ref = pixclust.quantize(frames.reshape(1, -1, 3), 5, init="ward")
    np.testing.assert_array_equal(res.palette, ref.palette)
    assert res.inertia == ref.inertia
    with pytest.raises(ValueError, match="init: expected 'k-means..' or 'ward'"):
        pixclust.dask.quantize(da.from_array(frames), 5, init="random")


def test_quantize_bad_input() -> None:
    frames = _frames()
    X = da.from_array(frames)
    with pytest.raises(TypeError, match="images"):
        pixclust.dask.quantize(frames, 4)
    with pytest.raises(TypeError, match="images"):
        pixclust.dask.quantize("one.png", 4)
    with pytest.raises(ValueError, match="images"):
        pixclust.dask.quantize(X[0, :, :, 0], 4)
    with pytest.raises(TypeError, match="uint8 or uint16"):
        pixclust.dask.quantize(X.astype(np.float32), 4)
    with pytest.raises(NotImplementedError, match="alpha"):
        pixclust.dask.quantize(X, 4, alpha="weight")
    with pytest.raises(ValueError, match="n_colors"):
        pixclust.dask.quantize(X, 0)
    with dask.config.set(scheduler="threads"):
        with pytest.raises(ValueError, match="larger than the number of distinct colours"):
            pixclust.dask.quantize(da.from_array(np.zeros((2, 4, 4, 3), np.uint8)), 2)
        hidden = frames.copy()
        hidden[..., 3] = 0
        with pytest.raises(ValueError, match="fully transparent"):
            pixclust.dask.quantize(da.from_array(hidden), 2)


def test_a_worker_killed_in_the_middle_of_a_fit_gives_the_same_result(tmp_path: Path) -> None:
    # The last block's task waits on a gate file: once it is running, its worker process is killed, and the
    # scheduler reruns the lost tasks (this one, and any result that lived on that worker) on the other.
    import os
    import signal
    import threading
    import time

    frames = _frames()
    gate, started = tmp_path / "gate", tmp_path / "started"

    def block(i: int) -> np.ndarray:
        if i == len(frames) - 1:
            started.write_text(str(os.getpid()))
            while not gate.exists():
                time.sleep(0.02)
        return frames[i]

    parts = [dask.delayed(block, pure=True)(i) for i in range(len(frames))]
    ref, want_images, _ = _shared_reference(list(frames), 8, random_state=4)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as lc, \
            distributed.Client(lc, set_as_default=False) as client, dask.config.set(scheduler=client):
        out: dict[str, Any] = {}
        fit = threading.Thread(target=lambda: out.update(res=pixclust.dask.quantize(parts, 8, random_state=4)))
        fit.start()
        _wait_for(started.exists)
        pid = int(started.read_text())
        started.unlink()
        os.kill(pid, signal.SIGKILL)
        gate.touch()  # the rerun goes through
        fit.join(timeout=120)
        assert not fit.is_alive()
        runs = client.run_on_scheduler(lambda dask_scheduler: sum(
            1 for e in dask_scheduler.transition_log if str(e[0]).startswith("block-") and e[2] == "processing"))
        res = out["res"]
        images = dask.compute(res.images)[0]
    assert runs > len(frames)  # the gated task (and any result lost with the worker) ran again
    _assert_same_palette(res, ref)
    for got, want in zip(images, want_images):
        assert np.array_equal(got, want)


def _wait_for(condition: Any, seconds: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the gated task never started"
        time.sleep(0.02)
