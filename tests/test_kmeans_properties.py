"""Hypothesis: KMeans and quantize over shapes, dtypes and k, against brute-force definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import pixclust

DTYPES = [np.uint8, np.uint16, np.float32, np.float64]


def _values(dtype: type) -> st.SearchStrategy:
    if dtype == np.uint8:
        return st.integers(0, 255)
    if dtype == np.uint16:
        return st.integers(0, 65535)
    return st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def data_and_k(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(1, 120))
    d = draw(st.integers(1, 6))
    X = draw(arrays(dtype, (n, d), elements=_values(dtype)))
    k = draw(st.integers(1, min(n, 6)))
    return X, k


@settings(deadline=None, max_examples=60)
@given(data_and_k(), st.integers(0, 2**31 - 1), st.sampled_from(["auto", True, False]))
def test_kmeans_definitions_hold(case: tuple[np.ndarray, int], seed: int, dedupe: object) -> None:
    X, k = case
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate points: as scikit-learn warns
        km = pixclust.KMeans(k, random_state=seed, dedupe=dedupe).fit(X)
    C = km._centers64
    Xd = X.astype(np.float64)
    d2 = ((Xd[:, None, :] - C[None]) ** 2).sum(-1)
    # labels are nearest centres (ties: any of the nearest), inertia is exact
    assert np.all(d2[np.arange(len(X)), km.labels_] <= d2.min(1) * (1 + 1e-12) + 1e-12)
    assert np.isclose(km.inertia_, d2[np.arange(len(X)), km.labels_].sum(), rtol=1e-9, atol=1e-9)
    # every non-empty centre is the mean of its points
    for j in np.unique(km.labels_):
        np.testing.assert_allclose(C[j], Xd[km.labels_ == j].mean(0), rtol=1e-9, atol=1e-9)
    assert km.cluster_centers_.dtype == (X.dtype if X.dtype.kind == "f" else np.float64)


@st.composite
def images(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([0, 1, 2, 3, 4]))
    shape = (h, w) if channels == 0 else (h, w, channels)
    if dtype in (np.float32, np.float64):
        elements = st.floats(0, 1, allow_nan=False, width=32)
    else:
        elements = _values(dtype)
    return draw(arrays(dtype, shape, elements=elements))


@settings(deadline=None, max_examples=60)
@given(images(), st.integers(1, 5), st.booleans(), st.integers(0, 1000))
def test_quantize_definitions_hold(img: np.ndarray, k: int, cluster_alpha: bool, seed: int) -> None:
    channels = 1 if img.ndim == 2 else img.shape[2]
    clustered = channels - 1 if channels in (2, 4) and not cluster_alpha else channels
    # fully transparent pixels are left out (alpha="exclude", the default)
    seen = img.reshape(-1, channels)[:, -1] > 0 if channels in (2, 4) else np.ones(img.shape[0] * img.shape[1], bool)
    if not seen.any():
        with pytest.raises(ValueError, match="every pixel is fully transparent"):
            pixclust.quantize(img, k, cluster_alpha=cluster_alpha)
        return
    flat = img.reshape(-1, channels)[:, :clustered]
    n_distinct = len(np.unique(flat[seen], axis=0))
    if k > n_distinct:
        try:
            pixclust.quantize(img, k, cluster_alpha=cluster_alpha)
        except ValueError as e:
            assert f"({n_distinct})" in str(e)
        else:
            raise AssertionError("k > distinct colours must raise")
        return
    res = pixclust.quantize(img, k, random_state=seed, cluster_alpha=cluster_alpha)
    assert res.image.shape == img.shape and res.image.dtype == img.dtype
    assert res.palette.shape == (k, clustered) and res.palette.dtype == img.dtype
    assert res.labels.shape == img.shape[:2]
    assert int(res.counts.sum()) == int(seen.sum())
    labels = res.labels.ravel()
    assert np.all((labels >= 0) == seen)
    assert not res.image.reshape(-1, channels)[~seen].any()  # left out: transparent black
    labels, flat = labels[seen], flat[seen]
    d2 = ((flat.astype(np.float64)[:, None, :] - res.centers[None]) ** 2).sum(-1)
    assert np.all(d2[np.arange(len(flat)), labels] <= d2.min(1) * (1 + 1e-12) + 1e-12)
    assert np.isclose(res.inertia, d2[np.arange(len(flat)), labels].sum(), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(res.image.reshape(-1, channels)[seen][:, :clustered], res.palette[labels])
    if clustered < channels:
        np.testing.assert_array_equal(res.image.reshape(-1, channels)[:, clustered:],
                                      img.reshape(-1, channels)[:, clustered:])
