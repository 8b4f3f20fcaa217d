"""init="ward": k-means seeded from the cut of Ward's tree (pixclust._ward_init), for KMeans and quantize."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster
from scipy.cluster.hierarchy import linkage as scipy_linkage
from sklearn.exceptions import ConvergenceWarning

import pixclust
from pixclust import KMeans
from pixclust._ward_init import WardSeeds, _reduce


def _photos() -> dict[str, np.ndarray]:
    """Photos that do not ship with pixclust: scikit-learn's two sample images and matplotlib's."""
    from matplotlib import cbook
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photos = {name: load_sample_image(name) for name in ("china.jpg", "flower.jpg")}
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        photos["grace_hopper.jpg"] = np.asarray(im.convert("RGB"))
    return photos


@pytest.mark.slow
def test_ward_seeding_is_as_good_as_the_median_kmeans_plusplus_run_on_photos() -> None:
    ratios = []
    for name, img in _photos().items():
        X = img.reshape(-1, 3)
        for k in (8, 16, 32, 64):
            ward = KMeans(k, init="ward").fit(X).inertia_
            plusplus = np.median([KMeans(k, random_state=seed).fit(X).inertia_ for seed in range(5)])
            ratios.append(ward / plusplus)
            # case by case the two are within the spread of k-means++'s own runs, never far worse
            assert ward <= plusplus * 1.005, (name, k, ward, plusplus)
    # over the twelve cases, at least as good: the geometric mean of the ratios is below 1
    assert math.exp(np.mean(np.log(ratios))) < 1.0, ratios


def test_seeds_are_scipys_ward_cut_over_the_repeated_points() -> None:
    rng = np.random.default_rng(3)
    points = rng.random((40, 3))
    counts = rng.integers(1, 5, 40)
    Z = scipy_linkage(np.repeat(points, counts, axis=0), "ward")  # every copy its own observation
    for k in (1, 2, 5, 12):
        flat = fcluster(Z, k, criterion="maxclust")
        owner = np.repeat(np.arange(40), counts)
        means = [np.average(points[np.unique(owner[flat == c])], axis=0,
                            weights=counts[np.unique(owner[flat == c])]) for c in np.unique(flat)]
        ours = WardSeeds(points, counts.astype(np.float64), k, 1).centers(k)
        order = np.lexsort(np.transpose(ours)[::-1])
        theirs = np.array(means)[np.lexsort(np.transpose(means)[::-1])]
        np.testing.assert_allclose(ours[order], theirs, rtol=1e-12)


def test_grid_reduction_keeps_the_weight_and_the_weighted_mean() -> None:
    rng = np.random.default_rng(0)
    p = rng.normal(size=(30_000, 3)) * [1.0, 5.0, 0.0]  # one axis without spread
    w = rng.integers(0, 9, 30_000).astype(np.float64) + 0.5
    cells, totals = _reduce(p, w, 2000, 8)
    assert 8 <= cells.shape[0] <= 2000
    assert math.isclose(totals.sum(), w.sum(), rel_tol=1e-12)
    np.testing.assert_allclose(totals @ cells, w @ p, rtol=1e-9, atol=1e-6)


def test_many_dimensions_fall_back_to_a_strided_subsample() -> None:
    p = np.random.default_rng(1).random((20_000, 40))
    cells, totals = _reduce(p, np.ones(20_000), 1000, 50)
    assert cells.shape == (1000, 40) and set(map(tuple, cells[:3])) <= set(map(tuple, p))


def test_deterministic_across_threads_and_random_states() -> None:
    img = _photos()["flower.jpg"][::2, ::2]
    X = img.reshape(-1, 3)
    fits = [KMeans(16, init="ward", random_state=rs, n_threads=t).fit(X) for rs, t in ((0, 1), (7, 2), (None, 2))]
    for f in fits[1:]:
        np.testing.assert_array_equal(f.cluster_centers_, fits[0].cluster_centers_)
        np.testing.assert_array_equal(f.labels_, fits[0].labels_)
        assert f.inertia_ == fits[0].inertia_


def test_quantize_ward_is_kmeans_ward_on_the_pixels() -> None:
    img = _photos()["china.jpg"][::3, ::3]
    results = pixclust.quantize(img, [12, 5], init="ward")
    for res, k in zip(results, (12, 5)):
        km = KMeans(k, init="ward").fit(img.reshape(-1, 3))
        assert res.inertia == pytest.approx(km.inertia_, rel=1e-12)
        np.testing.assert_allclose(np.sort(res.centers, axis=0), np.sort(km.cluster_centers_, axis=0), rtol=1e-12)


def test_zero_weights_and_too_few_distinct_points() -> None:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [9.0, 9.0]])
    km = KMeans(2, init="ward").fit(X, sample_weight=[1, 1, 1, 1, 0])
    assert sorted(km.cluster_centers_.tolist()) == [[0.0, 0.5], [5.0, 5.5]]
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        KMeans(3, init="ward").fit(np.array([[1.0, 1.0]] * 4 + [[2.0, 2.0]] * 4))


def test_n_init_is_one_and_says_so() -> None:
    X = np.random.default_rng(0).random((50, 2))
    with pytest.warns(RuntimeWarning, match="init='ward' is deterministic"):
        km = KMeans(3, init="ward", n_init=4).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, KMeans(3, init="ward").fit(X).cluster_centers_)


def test_quantize_init_is_checked() -> None:
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="init: expected 'k-means..' or 'ward', got 'random'"):
        pixclust.quantize(img, 1, init="random")
