"""``pixclust.quantize``: reduce an image to k colours with exact k-means on its distinct colours."""

from __future__ import annotations

import dataclasses
import contextlib
import contextvars
import functools
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np

from pixclust import _core
from pixclust._fit import (
    _NATIVE_DTYPES,
    InvalidParameterError,
    _check_int,
    _check_lloyd_params,
    _check_seed,
    _first_draw,
    _fit_points,
    _local_trials,
    _mean_variance,
    _n_init,
    _random_state,
)
from pixclust._ward_init import WardSeeds

__all__ = ["QuantizeResult", "quantize", "to_lab", "from_lab"]


@dataclass(frozen=True)
class QuantizeResult:
    """One quantized image and its palette.

    Attributes
    ----------
    image : ndarray
        The quantized image, same shape and dtype as the input; an alpha channel that was not
        clustered is the input's. Pixels left out of the clustering (fully transparent, with
        ``alpha="exclude"`` or ``"weight"``) are 0 in every channel: transparent black, which shows
        nothing of the colour they hid. (Painted on first access when every channel was clustered: a
        palette file needs only ``labels``.)
    palette : ndarray of shape (n_colors, C)
        The colours in the image's dtype (rounded and clipped for integer images). C is the number of
        clustered channels: 1 for an H x W image, 3 for RGB and for RGBA with its alpha kept, 4 for RGBA
        with ``cluster_alpha=True``.
    centers : ndarray of shape (n_colors, C), float64
        The exact k-means centres in the image's value scale (CIELAB for ``space="lab"``); ``inertia``
        is measured to these.
    labels : ndarray of shape (H, W), int32
        The palette index of every pixel, -1 for a pixel left out of the clustering (made on first
        access: a sweep over many colour counts that only wants the images does not pay for a label map
        per count).
    counts : ndarray of shape (n_colors,), int64
        Pixels per palette colour (the clustered pixels only).
    inertia : float
        Sum over the clustered pixels of the squared distance to their centre (times the pixel's
        weight with ``alpha="weight"``).
    n_colors : int
        The number of colours asked for.
    """

    palette: np.ndarray
    centers: np.ndarray
    counts: np.ndarray
    inertia: float
    n_colors: int
    # the label map, kept as the pixels' colour numbers and each colour's label until asked for
    _pixel_color: np.ndarray = field(repr=False, compare=False)
    _color_labels: np.ndarray = field(repr=False, compare=False)
    _shape: tuple[int, int] = field(repr=False, compare=False)
    _threads: int = field(default=0, repr=False, compare=False)
    # the (H, W) mask of the clustered pixels when some were left out (fully transparent), else None
    _visible: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    # the image: made already, or (each colour's palette entry, the image's shape) to paint it from
    _image: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    _paint: Optional[tuple[np.ndarray, tuple[int, ...]]] = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        """One short line: the size, dtype, colour count and inertia, not the arrays."""
        shape = " x ".join(str(d) for d in self._image_shape)
        left_out = "" if self._visible is None else f", {int(self._visible.size - self._visible.sum())} pixels left out"
        return (f"QuantizeResult(n_colors={self.n_colors}, image={shape} {self.palette.dtype}, "
                f"inertia={self.inertia:.6g}{left_out})")

    @property
    def _image_shape(self) -> tuple[int, ...]:
        if self._image is not None:
            return tuple(self._image.shape)
        assert self._paint is not None  # one of the two is always given
        return self._paint[1]

    @functools.cached_property
    def image(self) -> np.ndarray:
        if self._image is not None:
            return self._image
        assert self._paint is not None
        color_palette, shape = self._paint
        return np.asarray(_core.paint_pixels(self._pixel_color, color_palette, None, self._threads)).reshape(shape)

    @functools.cached_property
    def labels(self) -> np.ndarray:
        out: np.ndarray = self._pixel_color.copy()
        _core.remap_labels(out, self._color_labels, self._threads)
        if self._visible is None:
            return np.reshape(out, self._shape)
        full = np.full(self._shape, -1, dtype=np.int32)
        full[self._visible] = out
        return full

    def _index_map(self) -> Optional[np.ndarray]:
        """The label map as uint8 (H, W), made without the int32 map in between: what a palette image
        file holds. None where it cannot be (more than 256 colours, or pixels left out: label -1)."""
        if self.n_colors > 256 or self._visible is not None:
            return None
        if "labels" in self.__dict__:  # already made: narrowing it costs less than a second pass
            return np.ascontiguousarray(self.labels, dtype=np.uint8)
        out = _core.remap_labels_u8(self._pixel_color, self._color_labels, self._threads)
        return np.reshape(out, self._shape)


def _value_max(dtype: np.dtype) -> float:
    """The value of full intensity in an image of this dtype: the integer maximum, 1.0 for floats."""
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def to_lab(rgb: Any) -> np.ndarray:
    """sRGB to CIELAB (D65).

    Parameters
    ----------
    rgb : array-like of shape (..., 3)
        uint8 and uint16 values are scaled by their maximum, floats are taken as [0, 1].

    Returns
    -------
    lab : ndarray of shape (..., 3), float64
        L in [0, 100].

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust import to_lab
    >>> (np.round(to_lab(np.array([255, 255, 255], dtype=np.uint8)), 3) + 0.0).tolist()
    [100.0, 0.0, 0.0]
    """
    a = np.asarray(rgb)
    if a.shape[-1:] != (3,):
        raise ValueError(f"rgb: expected a last axis of length 3, got shape {a.shape}")
    if a.dtype.kind not in "uf":
        raise TypeError(f"rgb: expected an unsigned integer or float array, got dtype {a.dtype}")
    flat = np.ascontiguousarray(a.reshape(-1, 3), dtype=np.float64)
    if a.dtype.kind == "u":
        flat = flat / _value_max(a.dtype)
    return np.asarray(_core.srgb_to_lab(flat)).reshape(a.shape)


def from_lab(lab: Any) -> np.ndarray:
    """CIELAB (D65) to sRGB in [0, 1] (float64, clipped to [0, 1]).

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust import from_lab
    >>> np.round(from_lab([50.0, 0.0, 0.0]), 4).tolist()
    [0.4663, 0.4663, 0.4663]
    """
    a = np.asarray(lab, dtype=np.float64)
    if a.shape[-1:] != (3,):
        raise ValueError(f"lab: expected a last axis of length 3, got shape {a.shape}")
    out = np.asarray(_core.lab_to_srgb(np.ascontiguousarray(a.reshape(-1, 3))))
    return np.clip(out, 0.0, 1.0).reshape(a.shape)


def _check_image(image: Any) -> np.ndarray:
    if isinstance(image, np.ndarray):
        a = image
    else:
        a = np.asarray(image)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype == np.bool_ or a.dtype not in _NATIVE_DTYPES:
        raise TypeError(f"image: unsupported dtype {a.dtype}; expected uint8, uint16, float32 or float64")
    if a.ndim not in (2, 3):
        raise ValueError(f"image: expected an H x W or H x W x C array, got {a.ndim}-D with shape {a.shape}")
    if a.ndim == 3 and a.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"image: expected 1 to 4 channels (gray, gray+alpha, RGB, RGBA), got {a.shape[2]}")
    if a.size == 0:
        raise ValueError(f"image: empty (shape {a.shape})")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError("image: contains NaN or infinity")
    return a


def _check_n_colors(n_colors: Any) -> list[int]:
    if isinstance(n_colors, (list, tuple, np.ndarray)):
        values = list(n_colors)
        if not values:
            raise InvalidParameterError("n_colors: the list is empty")
    else:
        values = [n_colors]
    return [_check_int(v, "n_colors", 1) for v in values]


# Called after each colour count (the CLI's progress bar ticks): a context variable rather than a
# parameter, so that quantize's signature stays the public one (tests/test_cli.py, the progress tests).
_ON_RESULT: contextvars.ContextVar[Optional[Callable[[], None]]] = contextvars.ContextVar("pixclust_on_result",
                                                                                          default=None)


@contextlib.contextmanager
def _reporting(tick: Callable[[], None]) -> Iterator[None]:
    """Within the block, quantize calls ``tick()`` after each colour count."""
    token = _ON_RESULT.set(tick)
    try:
        yield
    finally:
        _ON_RESULT.reset(token)


def quantize(
    image: Any,
    n_colors: Union[int, Sequence[int]],
    *,
    space: str = "rgb",
    init: str = "k-means++",
    random_state: Any = None,
    n_init: Union[str, int] = "auto",
    max_iter: int = 300,
    tol: float = 1e-4,
    cluster_alpha: bool = False,
    alpha: str = "exclude",
    n_threads: Optional[int] = None,
) -> Union[QuantizeResult, list[QuantizeResult]]:
    """Reduce an image to ``n_colors`` colours with exact k-means.

    The image's distinct colours are counted once and clustered with their counts as weights, which
    is the k-means objective over all pixels exactly (scikit-learn's ``KMeans`` on
    ``image.reshape(-1, C)`` with k-means++ and the same ``tol``), on far fewer points.

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, C), C in 1-4
        uint8, uint16, float32 or float64. With 2 or 4 channels the last is alpha: kept as it is
        unless ``cluster_alpha`` (and see ``alpha`` for the fully transparent pixels).
    n_colors : int or list of int
        Colours wanted; a list (e.g. ``[10, 8, 6, 4, 2]``) returns a list of results in the same order
        and counts the colours once.
    space : {"rgb", "lab"}, default="rgb"
        Cluster the values as they are ("rgb") or in CIELAB ("lab", RGB images only; floats in [0, 1]).
    init : {"k-means++", "ward"}, default="k-means++"
        "ward": seed k-means with the cut of Ward's tree over the colours (as ``KMeans(init="ward")``):
        deterministic (``random_state`` and ``n_init`` play no part), the tree built once for a list.
    random_state : int, RandomState instance or None
        Seeds k-means++. An int seeds each entry of a list the same way, as separate calls would.
    n_init : "auto" or int, default="auto"
        k-means++ runs per colour count (scikit-learn's "auto" is 1); the lowest inertia is kept.
    max_iter : int, default=300
    tol : float, default=1e-4
        Relative to the mean variance of the pixels, as in scikit-learn.
    cluster_alpha : bool, default=False
        Cluster the alpha channel with the colours.
    alpha : {"exclude", "weight", "keep"}, default="exclude"
        What alpha does to the clustering (images with an alpha channel only):

        - ``"exclude"``: fully transparent pixels (alpha 0) are left out, as pngquant leaves them: the
          palette has ``n_colors`` visible colours, those pixels get label -1 and are transparent black
          in ``image``, and ``counts`` and ``inertia`` are over the visible pixels.
        - ``"weight"``: as ``"exclude"``, and each visible pixel counts by its opacity (alpha over its
          maximum) in the k-means objective: ``KMeans.fit(visible, sample_weight=opacity)``.
        - ``"keep"``: every pixel is clustered whatever its alpha.

        An image without alpha, or whose alpha is everywhere at its maximum, gives the same result
        under all three.
    n_threads : int or None
        Threads for the core, 1 to ``max(1024, os.cpu_count())``; None uses OpenMP's default.

    Returns
    -------
    QuantizeResult or list of QuantizeResult

    Examples
    --------
    >>> import numpy as np
    >>> import pixclust
    >>> img = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> img[:, 2:] = [200, 100, 50]
    >>> res = pixclust.quantize(img, 2, random_state=0)
    >>> res
    QuantizeResult(n_colors=2, image=4 x 4 x 3 uint8, inertia=0)
    >>> res.image.dtype, res.image.shape, float(res.inertia)
    (dtype('uint8'), (4, 4, 3), 0.0)
    >>> sorted(res.palette.tolist())
    [[0, 0, 0], [200, 100, 50]]
    >>> [r.n_colors for r in pixclust.quantize(img, [2, 1], random_state=0)]
    [2, 1]
    """
    img = _check_image(image)
    ks = _check_n_colors(n_colors)
    max_iter, tol, runs, threads = _check_options(space, cluster_alpha, max_iter, tol, n_init, n_threads, random_state)
    if alpha not in ("exclude", "weight", "keep"):
        raise InvalidParameterError(f"alpha: expected 'exclude', 'weight' or 'keep', got {alpha!r}")
    if not isinstance(init, str) or init not in ("k-means++", "ward"):
        raise InvalidParameterError(f"init: expected 'k-means++' or 'ward', got {init!r}")
    clustered = _clustered_channels(img, space, cluster_alpha)
    visible, opacity = _visible_pixels(img, alpha)
    fit = functools.partial(_quantize, space=space, init=init, random_state=random_state, runs=runs, max_iter=max_iter, tol=tol,
                            threads=threads, on_result=_ON_RESULT.get())
    if visible is None:
        results = fit(img, ks, clustered, None)
    else:
        # The clustering sees the visible pixels alone, as a 1 x n image; the results are then put
        # back in the image's shape, the left-out pixels transparent black.
        sub = img[visible][None]
        results = [_put_back(r, img, visible) for r in fit(sub, ks, clustered, opacity)]
    return results if isinstance(n_colors, (list, tuple, np.ndarray)) else results[0]


def _visible_pixels(img: np.ndarray, alpha: str) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """The (H, W) mask of the pixels to cluster (None: all of them) and, for ``alpha="weight"``, their
    opacities in (0, 1] (None: all 1)."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if alpha == "keep" or channels not in (2, 4):
        return None, None
    a = img[..., -1]
    full = _value_max(img.dtype)
    visible = a > 0
    if not visible.any():
        raise ValueError("image: every pixel is fully transparent (alpha 0): nothing to cluster "
                         "(alpha='keep' clusters them anyway)")
    opacity = None
    if alpha == "weight" and np.any(a != full):
        opacity = np.ascontiguousarray(a[visible], dtype=np.float64) / full
    return (None if visible.all() else visible), opacity


def _put_back(r: QuantizeResult, img: np.ndarray, visible: np.ndarray) -> QuantizeResult:
    """A result on the visible pixels (a 1 x n image) in the whole image's shape."""
    out = np.zeros(img.shape, dtype=img.dtype)
    out[visible] = r.image[0]
    # a hidden pixel keeps its alpha (0, or below 0 in a float image): only its colour is cleared (found by
    # the fuzzer: a negative float alpha came back as 0)
    out[~visible, -1] = img[~visible, -1]
    return dataclasses.replace(r, _image=out, _paint=None, _shape=(img.shape[0], img.shape[1]), _visible=visible)


def _quantize(img: np.ndarray, ks: list[int], clustered: int, opacity: Optional[np.ndarray], *, space: str,
              init: str, random_state: Any, runs: int, max_iter: int, tol: float, threads: int,
              on_result: Optional[Callable[[], None]] = None) -> list[QuantizeResult]:
    """k-means on the image's distinct colours for each k (``opacity``: per-pixel weights, or None;
    ``on_result``: called after each k, the command line's progress bar ticks on it)."""
    pixels = np.ascontiguousarray(img).reshape(img.shape[0] * img.shape[1], -1)
    colors, counts, pixel_color = _distinct_colors(pixels, clustered, ks, threads)
    weights: np.ndarray = (counts.astype(np.float64) if opacity is None
                           else np.bincount(pixel_color, weights=opacity, minlength=len(counts)))
    if space == "lab":
        points = np.asarray(_core.srgb_to_lab(colors.astype(np.float64) / _value_max(img.dtype)))
    else:
        points = colors
    # weighted as pixclust.KMeans weighs it: quantize(alpha="weight") is KMeans.fit with the opacities
    abs_tol = tol * _mean_variance(points, counts if opacity is None else weights)

    seeded = isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_))
    # A generator (or None) is one stream that moves on from count to count.
    shared = None if seeded else _random_state(random_state)
    prefix: dict[int, np.ndarray] = {}
    if seeded and runs == 1 and opacity is None and init == "k-means++":
        prefix = _shared_prefixes(points, weights, ks, int(random_state), pixel_color, threads)
    seeds = WardSeeds(points, weights, max(ks), threads) if init == "ward" else None
    results = []
    for k in ks:
        # An int seeds every colour count alike (as separate calls would).
        rs = np.random.RandomState(int(random_state)) if shared is None else shared
        shared_init = seeds.centers(k) if seeds is not None else prefix.get(_local_trials(k))
        start = shared_init[:k] if shared_init is not None and shared_init.shape[0] >= k else "k-means++"
        run = _fit_points(points, weights, k, init=start, n_init=1 if seeds is not None else runs, max_iter=max_iter, tol=abs_tol, random_state=rs,
                          n_threads=threads, sample_point=pixel_color, sample_point_weight=opacity,
                          sample_counts=opacity is None)
        res = _result(pixels, img, pixel_color, run.labels, counts, run.centers, run.inertia, k, clustered, space,
                      threads)
        used = int(np.count_nonzero(res.counts))
        if used < k:
            # scikit-learn warns too: k <= the distinct colours, so the squared distances underflowed
            warnings.warn(
                f"n_colors={k}: only {used} palette colours have pixels; the image's colours are too close "
                "together to tell apart (their squared distances underflow to 0)",
                RuntimeWarning,
                stacklevel=3,
            )
        results.append(res)
        if on_result is not None:
            on_result()
    return results


def _check_options(
    space: Any, cluster_alpha: Any, max_iter: Any, tol: Any, n_init: Any, n_threads: Any, random_state: Any
) -> tuple[int, float, int, int]:
    """quantize's options, checked before any work is done: (max_iter, tol, runs, threads)."""
    if space not in ("rgb", "lab"):
        raise InvalidParameterError(f"space: expected 'rgb' or 'lab', got {space!r}")
    if not isinstance(cluster_alpha, (bool, np.bool_)):
        raise InvalidParameterError(f"cluster_alpha: expected a bool, got {type(cluster_alpha).__name__}")
    max_iter, tol, threads = _check_lloyd_params(max_iter, tol, n_threads)
    runs = _n_init(n_init, "k-means++")
    _check_seed(random_state)
    return max_iter, tol, runs, threads


def _clustered_channels(img: np.ndarray, space: str, cluster_alpha: bool) -> int:
    """How many of the image's channels are clustered (an alpha channel is kept unless cluster_alpha)."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    clustered = channels - 1 if channels in (2, 4) and not cluster_alpha else channels
    if space == "lab" and clustered != 3:
        raise ValueError(f"space='lab' needs an RGB image (3 colour channels), got {clustered} to cluster")
    if space == "lab" and img.dtype.kind == "f" and (img.min() < 0 or img.max() > 1):
        raise ValueError("image: float values must lie in [0, 1] for space='lab'")
    return clustered


def _distinct_colors(
    pixels: np.ndarray, clustered: int, ks: list[int], threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct colours (sorted), their pixel counts and every pixel's colour number; each k must
    be at most the number of distinct colours."""
    colors, counts, pixel_color = _core.index_colors(pixels, clustered, threads)
    n_distinct = colors.shape[0]
    for k in ks:
        if k > n_distinct:
            raise ValueError(
                f"n_colors={k} is larger than the number of distinct colours in the image ({n_distinct})"
            )
    return colors, counts, pixel_color


def _shared_prefixes(
    points: np.ndarray, weights: np.ndarray, ks: list[int], seed: int, pixel_color: np.ndarray, threads: int
) -> dict[int, np.ndarray]:
    """k-means++ centres shared by colour counts seeded with the same int, keyed by their trial count.

    With an int seed and one run, k-means++ for k reads the first 1 + (k - 1) * trials numbers of the
    seed's stream: colour counts with the same trials share a prefix of centres (k = 8 seeds with the
    first 8 centres of k = 10). Seeding once for the largest k of each group gives every k the centres
    its own seeding would.
    """
    largest: dict[int, int] = {}
    for k in ks:
        t = _local_trials(k)
        largest[t] = max(largest.get(t, 0), k)
    prefix: dict[int, np.ndarray] = {}
    for t, kmax in largest.items():
        if sum(1 for k in ks if _local_trials(k) == t) < 2:
            continue  # nothing to share
        uniforms = np.random.RandomState(seed).random_sample(1 + (kmax - 1) * t)
        uniforms[0] = _first_draw(uniforms[0], len(pixel_color))
        centers, _, chosen = _core.kmeans_plusplus(points, weights, kmax, t, uniforms, pixel_color, None, threads)
        prefix[t] = centers[:chosen]
    return prefix


def _palette_values(centers: np.ndarray, dtype: np.dtype, space: str) -> np.ndarray:
    """The palette of the centres in the image's dtype (rounded and clipped for integer images)."""
    if space == "lab":
        values = np.asarray(_core.lab_to_srgb(np.ascontiguousarray(centers)))
        values = np.clip(values, 0.0, 1.0) * _value_max(dtype)
    else:
        values = centers
    if dtype.kind == "u":
        return np.clip(np.rint(values), 0, _value_max(dtype)).astype(dtype)
    return values.astype(dtype)


def _result(
    pixels: np.ndarray,
    img: np.ndarray,
    pixel_color: np.ndarray,
    color_labels: np.ndarray,
    color_counts: np.ndarray,
    centers: np.ndarray,
    inertia: float,
    k: int,
    clustered: int,
    space: str,
    threads: int,
) -> QuantizeResult:
    palette = _palette_values(centers, img.dtype, space)
    counts = np.bincount(color_labels, weights=color_counts, minlength=k).astype(np.int64)
    # Each distinct colour's palette entry, then the pixels painted through their colour numbers: no
    # label map is needed for the image.
    # np.take, not palette[color_labels]: the same rows by a simpler path (its cost is in the
    # pixclust-quantize rows of benchmarks/bench_kmeans.py)
    color_palette = np.take(palette, color_labels, axis=0)
    if pixels.shape[1] == palette.shape[1]:
        # Every channel clustered: painting reads no pixel, so it waits for the first access (the command
        # line writes a palette PNG from the labels alone: bench_kmeans.py --pngquant).
        image, paint = None, (color_palette, img.shape)
    else:  # painted now: an unclustered channel (alpha) is copied from pixels, which the caller may change
        image, paint = np.asarray(_core.paint_pixels(pixel_color, color_palette, pixels, threads)).reshape(img.shape), None
    return QuantizeResult(
        _image=image,
        _paint=paint,
        palette=palette,
        centers=centers,
        counts=counts,
        inertia=float(inertia),
        n_colors=k,
        _pixel_color=pixel_color,
        _color_labels=np.ascontiguousarray(color_labels, dtype=np.int32),
        _shape=(img.shape[0], img.shape[1]),
        _threads=threads,
    )
