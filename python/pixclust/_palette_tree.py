"""The palette tree: Ward's hierarchy over an image's distinct colours, cut at any number of colours.

The two halves of the tutorial joined: the hierarchy of ``linkage`` applied to what ``quantize``
clusters. Each distinct colour is one point weighted by its pixel count, which is Ward's objective over
every pixel (a colour repeated c times merges with its copies at height 0 first), on far fewer points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from pixclust import _core
from pixclust._fit import InvalidParameterError, _check_int, _threads
from pixclust.hierarchy import _cluster_means
from pixclust.hierarchy import _cut_leaves as _cut
from pixclust.hierarchy import linkage_vector as _linkage_vector
from pixclust._quantize import (
    QuantizeResult,
    _check_image,
    _clustered_channels,
    _result,
    _value_max,
)


@dataclass(frozen=True)
class PaletteTree:
    """Ward's tree over the distinct colours of an image (see :func:`palette_tree`).

    Attributes
    ----------
    colors : ndarray of shape (m, C)
        The distinct colours, sorted, in the image's dtype.
    counts : ndarray of shape (m,), int64
        Pixels of each colour.
    linkage : ndarray of shape (m - 1, 4), float64
        SciPy's linkage matrix of Ward's method over ``points`` weighted by ``counts`` (its fourth column
        counts colours, as SciPy's ``fcluster`` and ``dendrogram`` require; ``counts`` holds the pixels).
    points : ndarray of shape (m, C), float64
        The colours as clustered: their values ("rgb") or CIELAB ("lab").
    space : str
    """

    colors: np.ndarray
    counts: np.ndarray
    linkage: np.ndarray
    points: np.ndarray
    space: str
    _img: np.ndarray = field(repr=False, compare=False)
    _pixel_color: np.ndarray = field(repr=False, compare=False)
    _clustered: int = field(repr=False, compare=False)
    _threads: int = field(default=0, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"PaletteTree({self.colors.shape[0]} colours, {int(self.counts.sum())} pixels, "
                f"space={self.space!r})")

    def color_labels(self, n_colors: int) -> np.ndarray:
        """The cluster (0 to n_colors - 1) of every distinct colour when the tree is cut into n_colors.

        The cut undoes the last n_colors - 1 merges, so the partitions are nested: each cluster at k + 1
        lies inside one at k. Clusters are numbered in the order of their first (lowest) colour.
        """
        m = self.colors.shape[0]
        k = _check_int(n_colors, "n_colors", 1)
        if k > m:
            raise ValueError(f"n_colors={k} is larger than the number of distinct colours in the image ({m})")
        return _cut(self.linkage, m, k)

    def cut(self, n_colors: int) -> QuantizeResult:
        """The image with n_colors colours: each pixel takes the mean colour of its cluster in the cut.

        Returns what :func:`pixclust.quantize` returns; ``centers`` are the clusters' pixel-weighted means
        and ``inertia`` the sum of squared distances of the pixels to them.
        """
        labels = self.color_labels(n_colors)
        k = int(labels.max()) + 1
        w = self.counts.astype(np.float64)
        centers, _ = _cluster_means(labels, w, self.points, k)
        inertia = float(np.sum(w * np.sum((self.points - centers[labels]) ** 2, axis=1)))
        img = self._img
        pixels = np.ascontiguousarray(img).reshape(img.shape[0] * img.shape[1], -1)
        return _result(pixels, img, self._pixel_color, labels.astype(np.int32), self.counts, centers, inertia, k,
                       self._clustered, self.space, self._threads)


    def dendrogram(self, n_colors: int = 16, **kwargs: Any) -> Any:
        """The top of the tree with colour swatches as leaves: :func:`pixclust.plot.palette_tree`."""
        from pixclust import plot

        return plot.palette_tree(self, n_colors, **kwargs)


def palette_tree(image: Any, *, space: str = "rgb", cluster_alpha: bool = False,
                 n_threads: Optional[int] = None) -> PaletteTree:
    """Ward's hierarchy over the distinct colours of an image, weighted by their pixel counts.

    The tree is that of Ward's method over every pixel (duplicates merge at height 0 first), computed
    from the m distinct colours in O(m) memory by :func:`pixclust.linkage_vector`. ``tree.cut(k)``
    then gives a k-colour image for any k without clustering again, nested across k.

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, C), C in 1-4
        uint8, uint16, float32 or float64, as for :func:`pixclust.quantize`.
    space : {"rgb", "lab"}, default="rgb"
        Cluster the values as they are, or in CIELAB (RGB images; floats in [0, 1]).
    cluster_alpha : bool, default=False
        Cluster an alpha channel with the colours (otherwise it is kept as it is).
    n_threads : int or None
        Threads for the core; None uses OpenMP's default.

    Returns
    -------
    PaletteTree

    Examples
    --------
    >>> import numpy as np, pixclust
    >>> img = np.array([[[0, 0, 0], [10, 0, 0]], [[200, 100, 50], [255, 255, 255]]], dtype=np.uint8)
    >>> tree = pixclust.palette_tree(img)
    >>> tree.color_labels(2).tolist()  # white is the farthest, in Ward's sense, from the three others
    [0, 0, 0, 1]
    >>> tree.cut(3).palette.tolist()
    [[5, 0, 0], [200, 100, 50], [255, 255, 255]]
    """
    img = _check_image(image)
    if space not in ("rgb", "lab"):
        raise InvalidParameterError(f"space: expected 'rgb' or 'lab', got {space!r}")
    if not isinstance(cluster_alpha, (bool, np.bool_)):
        raise InvalidParameterError(f"cluster_alpha: expected a bool, got {type(cluster_alpha).__name__}")
    threads = _threads(n_threads)
    clustered = _clustered_channels(img, space, bool(cluster_alpha))
    pixels = np.ascontiguousarray(img).reshape(img.shape[0] * img.shape[1], -1)
    colors, counts, pixel_color = _core.index_colors(pixels, clustered, threads)
    if space == "lab":
        points = np.asarray(_core.srgb_to_lab(colors.astype(np.float64) / _value_max(img.dtype)))
    else:
        points = colors.astype(np.float64)
    if colors.shape[0] > 1:
        Z = _linkage_vector(points, "ward", sample_weight=counts)
    else:
        Z = np.empty((0, 4))
    return PaletteTree(colors=colors, counts=counts, linkage=Z, points=points, space=space, _img=img,
                       _pixel_color=pixel_color, _clustered=clustered, _threads=threads)
