"""pixclust.dask: the colour counts of any chunking are numpy's, and the fit is the in-memory weighted fit
of those counts, bit for bit, on the threaded scheduler and on a cluster of worker processes."""

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
from pixclust.dask import KMeans, color_counts  # noqa: E402

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
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
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
        km.fit(da.from_array(colors.astype(np.float64)))
    with pytest.raises(NotImplementedError, match="only uint8 colours"):
        km.fit(da.from_array(np.zeros((10, 5), np.uint8)))
    with pytest.raises(ValueError, match="n_clusters"):
        KMeans(n_clusters=0).fit(da.from_array(colors))
    with dask.config.set(scheduler="threads"):
        fitted = KMeans(n_clusters=2, random_state=0).fit(da.from_array(colors[:1000]))
    with pytest.raises(TypeError, match="X"):
        fitted.predict(colors)
