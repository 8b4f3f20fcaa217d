"""Figures for the tutorial's pictures: quantized images side by side, palettes, dendrograms, scatters.

:func:`palette`, :func:`dendrogram` and :func:`scatter` draw into the axes given as ``ax=`` and return
them, and :func:`compare` (a grid of panels) into the figure given as ``fig=`` and returns it, as
matplotlib's own functions do: ``fig, ax = plt.subplots(); plot.dendrogram(Z, ax=ax); plt.show()``.
Without them each makes and returns a new :class:`matplotlib.figure.Figure`. When the caller has
imported pyplot, the figure is a pyplot figure, as ``plt.figure()`` makes: ``plt.show()`` in a script
shows it and ``plt.close(fig)`` frees it. Without pyplot, the figure is one pyplot never sees (no global
state, no window: ``fig.savefig`` writes it). In a notebook a figure shows once, inline: as the cell's
last value, and a pyplot one also after ``plt.show()`` or at the cell's end. The command line is a thin
layer over these.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union, overload

import numpy as np

if TYPE_CHECKING:  # matplotlib is optional: imported where it is used
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from pixclust._quantize import _value_max

__all__ = ["compare", "palette", "dendrogram", "scatter", "palette_tree", "cluster_colors"]

# Space for a title line, in inches.
_TITLE_IN = 0.42
_ABOVE_THRESHOLD = "#9a9a9a"
# Images wider or taller than this are shrunk on screen and on paper: nearest-neighbour would alias.
_ANTIALIAS_ABOVE_PX = 600


def _figure(figsize: tuple[float, float], dpi: Optional[float] = None) -> Any:
    try:
        from pixclust._figure import new_figure
    except ImportError as exc:  # pragma: no cover - matplotlib is in the test environment
        raise ImportError("pixclust.plot needs matplotlib: pip install pixclust[plot]") from exc
    return new_figure(figsize, dpi)


def cluster_colors(n: int) -> list[str]:
    """``n`` distinct colours for clusters 1..n (matplotlib's tab10, then tab20, then evenly spaced hues).

    Examples
    --------
    >>> from pixclust.plot import cluster_colors
    >>> cluster_colors(2)
    ['#1f77b4', '#ff7f0e']
    """
    from matplotlib import colormaps
    from matplotlib.colors import hsv_to_rgb, to_hex

    if n <= 10:
        return [to_hex(colormaps["tab10"](i)) for i in range(n)]
    if n <= 20:
        tab20 = [colormaps["tab20"](i) for i in range(20)]
        order = list(range(0, 20, 2)) + list(range(1, 20, 2))  # the ten strong colours first
        return [to_hex(tab20[i]) for i in order[:n]]
    hues = (np.arange(n) * 0.618033988749895) % 1.0  # golden-ratio steps: neighbours differ
    return [to_hex(tuple(hsv_to_rgb((h, 0.65, 0.85 if i % 2 else 0.65)).tolist())) for i, h in enumerate(hues)]


def _display(image: np.ndarray, nearest: bool) -> tuple[np.ndarray, dict[str, Any]]:
    """An array imshow draws faithfully, and the imshow options for it (``nearest``: show only the
    array's own values, no blend of neighbours)."""
    a = np.asarray(image)
    if a.dtype.kind == "u" and a.dtype != np.uint8:
        a = a.astype(np.float64) / _value_max(a.dtype)
    elif a.dtype.kind == "f":
        a = np.clip(a, 0.0, 1.0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 2:  # gray + alpha -> RGBA
        a = np.concatenate([np.repeat(a[:, :, :1], 3, axis=2), a[:, :, 1:]], axis=2)
    smooth = not nearest and max(a.shape[:2]) > _ANTIALIAS_ABOVE_PX
    opts: dict[str, Any] = {"interpolation": "antialiased" if smooth else "nearest"}
    if a.ndim == 2:
        opts.update(cmap="gray", vmin=0, vmax=255 if a.dtype == np.uint8 else 1.0)
    return a, opts


def _display_size(h: int, w: int, width_px: float) -> tuple[int, int]:
    """(rows, columns) of the copy drawn in a panel ``width_px`` pixels wide: never more than the image."""
    dw = int(min(w, max(1, math.ceil(width_px))))
    return max(1, min(h, int(round(h * dw / w)))), dw


def _nearest(a: np.ndarray, dh: int, dw: int) -> np.ndarray:
    """The pixels at the centres of a dh x dw grid over ``a``: a smaller copy made only of its values."""
    h, w = a.shape[:2]
    if (dh, dw) == (h, w):
        return a
    rows = ((np.arange(dh) + 0.5) * (h / dh)).astype(np.intp)
    cols = ((np.arange(dw) + 0.5) * (w / dw)).astype(np.intp)
    out: np.ndarray = np.take(np.take(a, rows, axis=0), cols, axis=1)
    return out


def _box(a: np.ndarray, dh: int, dw: int) -> np.ndarray:
    """A smaller copy averaged over f x f blocks (f the whole shrink factor), then sampled to dh x dw:
    smooth, and made of new colours."""
    h, w = a.shape[:2]
    f = min(h // dh, w // dw)
    if f > 1:
        hh, ww = h // f * f, w // f * f
        mean = a[:hh, :ww].reshape(hh // f, f, ww // f, f, *a.shape[2:]).mean(axis=(1, 3))
        a = np.rint(mean).astype(a.dtype) if a.dtype.kind == "u" else mean.astype(a.dtype)
    return _nearest(a, dh, dw)


def _hex(color: np.ndarray, dtype: np.dtype) -> str:
    c = np.asarray(color, dtype=np.float64).ravel()
    c8 = np.clip(np.rint(c / _value_max(dtype) * 255.0), 0, 255).astype(int)
    if c8.size == 1:
        c8 = np.repeat(c8, 3)
    return "#" + "".join(f"{v:02x}" for v in c8[:3])


def _rgb01(palette: np.ndarray) -> np.ndarray:
    p = np.asarray(palette)
    rgb = np.clip(p.astype(np.float64) / _value_max(p.dtype), 0.0, 1.0)
    if rgb.shape[1] == 1:
        rgb = np.repeat(rgb, 3, axis=1)
    return rgb[:, :3]


def _strip(ax: Any, pal: np.ndarray, counts: np.ndarray, xs: tuple[float, float] = (0.0, 1.0),
           ys: tuple[float, float] = (0.0, 1.0)) -> None:
    """A bar split into the palette's colours, widths proportional to their pixel share, filling the
    data-coordinate box ``xs`` x ``ys`` of ``ax``."""
    from matplotlib.patches import Rectangle

    order = np.argsort(-counts, kind="stable")
    share = counts[order] / max(float(np.sum(counts)), 1.0)
    rgb = _rgb01(pal)[order]
    x, width = xs[0], xs[1] - xs[0]
    for s_, c in zip(share, rgb):
        ax.add_patch(Rectangle((x, ys[0]), s_ * width, ys[1] - ys[0], facecolor=c, edgecolor="white",
                               linewidth=0.6))
        x += s_ * width


def compare(
    image: Any,
    n_colors: Sequence[int] = (10, 8, 6, 4, 2),
    *,
    results: Optional[Sequence[Any]] = None,
    space: str = "rgb",
    random_state: Any = 0,
    dither: Union[bool, float] = False,
    ncols: int = 3,
    panel_width: float = 3.4,
    dpi: float = 110.0,
    smooth: bool = False,
    title: Optional[str] = None,
    titles: Optional[Sequence[str]] = None,
    fig: Optional[Figure] = None,
) -> Figure:
    """The original image beside its quantized versions, each titled and with its palette strip.

    The tutorial's 2 x 3 figure for ``n_colors=[10, 8, 6, 4, 2]``. The colours are counted once for
    all the colour counts (one :func:`pixclust.quantize` call with a list).

    Each panel shows a copy of the image at the size it is drawn (``panel_width * dpi`` pixels across,
    never more than the image): a quantized panel takes the pixels of its result at the centres of that
    grid, so it shows only palette colours; the original is averaged over blocks. Drawing a 12-megapixel
    image into a figure a thousand pixels wide is then as quick as drawing a small one.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        As :func:`pixclust.quantize` takes it.
    n_colors : sequence of int
        One panel per colour count, in this order.
    results : sequence of QuantizeResult, optional
        Already computed results for ``n_colors`` (then no clustering is done here).
    space, random_state
        Passed to :func:`pixclust.quantize`.
    dither : bool or float
        Each panel dithered onto its palette (:func:`pixclust.dither`) at its drawn size, the pattern a screen
        shows (the strip's shares are the panel's): True at full strength, a number in [0, 1] at that ``strength``.
    ncols : int
        Panels per row.
    panel_width : float
        Inches per panel; the height follows the image's aspect ratio.
    dpi : float
        The figure's pixels per inch (``fig.savefig`` uses it): with ``panel_width`` it sets the size of
        the drawn copies.
    smooth : bool
        Average the quantized panels over blocks too (smoother, but with colours outside the palette).
    title : str, optional
        A title over the whole figure.
    titles : sequence of str, optional
        Panel titles instead of "k colours" (one per result).
    fig : matplotlib.figure.Figure or SubFigure, optional
        Draw the grid into this figure (``plt.figure()``, or a subfigure of a larger one) instead of a
        new one; its size is left as it is, and ``dpi`` only sets the size of the drawn copies.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` when given.

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust import plot
    >>> img = np.random.default_rng(0).integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    >>> fig = plot.compare(img, [4, 2])
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
    ['Original', '4 colours', '2 colours']
    >>> fig = plot.compare(np.tile(img, (100, 100, 1)), [4], panel_width=2.0, dpi=100)
    >>> fig.axes[1].images[0].get_array().shape  # 200 pixels across, not 4000
    (150, 200, 3)
    """
    import pixclust

    img = np.asarray(image)
    ks = [int(k) for k in n_colors]
    strength = _check_compare(ks, titles, ncols, panel_width, dpi, dither)
    if results is None:
        res = pixclust.quantize(img, ks, space=space, random_state=random_state)
        assert isinstance(res, list)
        results = res
    if len(results) != len(ks):
        raise ValueError(f"results: expected {len(ks)} results, got {len(results)}")

    n_panels = 1 + len(ks)
    ncols = min(ncols, n_panels)
    nrows = math.ceil(n_panels / ncols)
    h, w = img.shape[:2]
    # The palette strip is drawn inside each image's axes, just below the picture, in pixel
    # coordinates: it then sits at a fixed small gap under the image whatever the layout does.
    gap, strip = 0.025 * w, 0.07 * w
    extent_h = h + gap + strip
    fig_h = nrows * (panel_width * extent_h / w + _TITLE_IN) + (0.45 if title else 0.0)
    if fig is None:
        fig = _figure((ncols * panel_width, fig_h), dpi=dpi)
    grid = fig.add_gridspec(nrows, ncols)
    size = _display_size(h, w, panel_width * dpi)
    original = _box(img, *size)

    for i in range(nrows * ncols):
        row, col = divmod(i, ncols)
        ax = fig.add_subplot(grid[row, col])
        ax.set_axis_off()
        if i >= n_panels:
            continue
        if i == 0:
            shown, opts = _display(original, nearest=False)
            ax.set_title("Original")
        else:
            r = results[i - 1]
            shown, counts = _panel(r, original, size, strength, smooth)
            shown, opts = _display(shown, nearest=not smooth)
            ax.set_title(titles[i - 1] if titles is not None else
                         f"{r.n_colors} colour{'s' if r.n_colors != 1 else ''}" + ("" if strength is None else ", dithered"))
            _strip(ax, r.palette, np.asarray(counts), (-0.5, w - 0.5), (h - 0.5 + gap, h - 0.5 + gap + strip))
        _place(ax, shown, opts, h, w, gap + strip)
    if title:
        fig.suptitle(title, fontsize="large")
    return fig


def _place(ax: Any, shown: np.ndarray, opts: dict[str, Any], h: int, w: int, below: float) -> None:
    """Draw a panel's copy over the full image's pixel coordinates, whatever its own size, with
    ``below`` units under it for the strip."""
    ax.imshow(shown, extent=(-0.5, w - 0.5, h - 0.5, -0.5), **opts)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5 + below, -0.5)
    ax.set_aspect("equal")


def _check_compare(ks: list[int], titles: Optional[Sequence[str]], ncols: int, panel_width: float, dpi: float,
                   dither: Any) -> Optional[float]:
    """The strength to dither the panels at (None: not dithered), once the options are checked."""
    from pixclust._dither import _dither_option

    if not ks:
        raise ValueError("n_colors: expected at least one colour count")
    if titles is not None and len(titles) != len(ks):
        raise ValueError(f"titles: expected {len(ks)} titles, got {len(titles)}")
    if ncols < 1:
        raise ValueError(f"ncols: expected >= 1, got {ncols}")
    if not (panel_width > 0 and dpi > 0 and math.isfinite(panel_width * dpi)):
        raise ValueError(f"panel_width, dpi: expected positive numbers, got {panel_width} and {dpi}")
    return _dither_option(dither)


def _panel(r: Any, original: np.ndarray, size: tuple[int, int], strength: Optional[float],
           smooth: bool) -> tuple[np.ndarray, np.ndarray]:
    """The copy of one result drawn in its panel (dithered at ``strength`` unless None), and the pixel
    counts of its palette strip."""
    import pixclust

    if strength is not None:
        # Dithered at the drawn size: the pattern a screen shows, and no full-size pass per panel.
        out, labels = pixclust.dither(original, r.palette, strength=strength, return_labels=True)
        return out, np.bincount(labels.ravel(), minlength=len(r.palette))
    return (_box if smooth else _nearest)(r.image, *size), r.counts


@overload
def palette(colors: Any, counts: Optional[Any] = None, *, title: Optional[str] = None, per_row: int = 8,
            ax: None = None) -> Figure: ...
@overload
def palette(colors: Any, counts: Optional[Any] = None, *, title: Optional[str] = None, per_row: int = 8,
            ax: Axes) -> Axes: ...
def palette(
    colors: Any,
    counts: Optional[Any] = None,
    *,
    title: Optional[str] = None,
    per_row: int = 8,
    ax: Optional[Axes] = None,
) -> Any:
    """Palette swatches ordered by pixel share, each labelled with its hex code and share.

    Parameters
    ----------
    colors : QuantizeResult or array-like of shape (k, C)
        A result of :func:`pixclust.quantize` (its palette and counts), or colours in an integer dtype
        (scaled by its maximum) or floats in [0, 1].
    counts : array-like of shape (k,), optional
        Pixels per colour (taken from the result when ``colors`` is one). Without counts the colours
        keep their order and no shares are shown.
    title : str, optional
    per_row : int
        Swatches per row.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (the share strip above the swatches, in the same axes) instead of a new
        figure of two axes.

    Returns
    -------
    matplotlib.figure.Figure, or ``ax`` when given

    Examples
    --------
    >>> import numpy as np
    >>> from pixclust import plot
    >>> fig = plot.palette(np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8), [1, 3])
    >>> [t.get_text() for t in fig.axes[1].texts]
    ['#0000ff\\n75.0%', '#ff0000\\n25.0%']
    """
    pal, cnt = _palette_input(colors, counts)
    k = pal.shape[0]
    per_row = max(1, min(per_row, k))
    rows = math.ceil(k / per_row)
    cell = 1.05  # inches per swatch
    units = max(float(per_row), 4.0 / cell)  # swatch columns across, padded to a 4-inch minimum width
    if ax is not None:
        _strip(ax, pal, cnt if cnt is not None else np.ones(k), (0.0, float(per_row)), (rows + 0.08, rows + 0.4))
        _swatches(ax, pal, cnt, per_row, units, top=rows + 0.4)
        if title:
            ax.set_title(title)
        return ax
    width = units * cell
    # The swatch area gets exactly the height its equal-aspect drawing needs: no empty band.
    swatch_h = width * (rows + 0.12) / units
    strip_h = 0.35
    fig = _figure((width, strip_h + swatch_h + 0.3 + (_TITLE_IN if title else 0.0)))
    grid = fig.add_gridspec(2, 1, height_ratios=[strip_h, swatch_h])
    bar = fig.add_subplot(grid[0])
    _strip(bar, pal, cnt if cnt is not None else np.ones(k))
    bar.set_xlim(0, 1)
    bar.set_ylim(0, 1)
    bar.set_axis_off()
    _swatches(fig.add_subplot(grid[1]), pal, cnt, per_row, units, top=float(rows))
    if title:
        fig.suptitle(title)
    return fig


def _palette_input(colors: Any, counts: Optional[Any]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """palette's colours as a (k, C) array and its counts as float64 (or None), checked."""
    if hasattr(colors, "palette") and hasattr(colors, "counts"):
        if counts is None:
            counts = colors.counts
        colors = colors.palette
    pal = np.asarray(colors)
    if pal.ndim == 1:
        pal = pal.reshape(-1, 1)
    if pal.ndim != 2 or pal.shape[0] < 1 or pal.shape[1] not in (1, 3, 4):
        raise ValueError(f"colors: expected shape (k, 1), (k, 3) or (k, 4), got {pal.shape}")
    if counts is None:
        return pal, None
    cnt = np.asarray(counts, dtype=np.float64).ravel()
    if cnt.shape != (pal.shape[0],):
        raise ValueError(f"counts: expected {pal.shape[0]} values, got shape {cnt.shape}")
    return pal, cnt


def _swatches(ax: Any, pal: np.ndarray, cnt: Optional[np.ndarray], per_row: int, units: float, top: float) -> None:
    """One labelled swatch per colour, most common first, ``per_row`` to a row, in ``ax``."""
    k = pal.shape[0]
    rows = math.ceil(k / per_row)
    order = np.argsort(-cnt, kind="stable") if cnt is not None else np.arange(k)
    share = cnt / max(cnt.sum(), 1.0) if cnt is not None else None
    rgb = _rgb01(pal)
    for pos, j in enumerate(order):
        r, c = divmod(pos, per_row)
        y = rows - 1 - r
        ax.add_patch(_rect((c + 0.06, y + 0.32), 0.88, 0.64, rgb[j]))
        label = _hex(pal[j], pal.dtype)
        if share is not None:
            label += f"\n{100.0 * share[j]:.1f}%"
        ax.text(c + 0.5, y + 0.27, label, ha="center", va="top", fontsize=9, family="monospace")
    pad = (units - per_row) / 2.0
    ax.set_xlim(-pad, per_row + pad)
    ax.set_ylim(-0.12, top)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _rect(xy: tuple[float, float], w: float, h: float, color: Any) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=color, edgecolor="#444444", linewidth=0.6)


def _cut_height(Z: np.ndarray, flat: np.ndarray) -> float:
    """A height between the last merge inside a flat cluster and the first merge across clusters."""
    n = Z.shape[0] + 1
    node = np.concatenate([flat, np.zeros(n - 1, dtype=flat.dtype)])
    inside: list[float] = []
    across: list[float] = []
    for i in range(n - 1):
        a, b = int(Z[i, 0]), int(Z[i, 1])
        same = node[a] != 0 and node[a] == node[b]
        node[n + i] = node[a] if same else 0
        (inside if same else across).append(float(Z[i, 2]))
    lo = max(inside) if inside else 0.0
    hi = min(across) if across else lo
    return float((lo + hi) / 2.0) if across else float(lo * 1.05 if lo else 1.0)


@overload
def dendrogram(Z: Any, cut: Optional[float] = None, *, criterion: str = "distance",
               labels: Optional[Sequence[str]] = None, title: Optional[str] = None, max_leaves: int = 60,
               ylabel: str = "merge distance", ax: None = None) -> Figure: ...
@overload
def dendrogram(Z: Any, cut: Optional[float] = None, *, criterion: str = "distance",
               labels: Optional[Sequence[str]] = None, title: Optional[str] = None, max_leaves: int = 60,
               ylabel: str = "merge distance", ax: Axes) -> Axes: ...
def dendrogram(
    Z: Any,
    cut: Optional[float] = None,
    *,
    criterion: str = "distance",
    labels: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    max_leaves: int = 60,
    ylabel: str = "merge distance",
    ax: Optional[Axes] = None,
) -> Any:
    """The dendrogram of a linkage matrix, with the cut drawn and the flat clusters coloured.

    Parameters
    ----------
    Z : ndarray of shape (n - 1, 4)
        A linkage matrix (:func:`pixclust.linkage` or ``scipy.cluster.hierarchy.linkage``).
    cut : float, optional
        Where to cut the tree: a height (``criterion="distance"``) or a number of clusters
        (``criterion="maxclust"``), as ``scipy.cluster.hierarchy.fcluster`` takes them. The links of each
        flat cluster get that cluster's colour (the same as :func:`scatter` uses), links above the cut
        are grey, and the cut is a dashed line.
    criterion : {"distance", "maxclust"}
    labels : sequence of str, optional
        Leaf labels (default: the point indices).
    title : str, optional
    max_leaves : int
        Above this many points only the last ``max_leaves`` merges are drawn (the leaves then show
        their point counts), so that the labels stay readable.
    ylabel : str
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure, or ``ax`` when given

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.cluster.hierarchy import linkage
    >>> from pixclust import plot
    >>> X = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]])
    >>> fig = plot.dendrogram(linkage(X, "single"), cut=3)
    >>> fig.axes[0].get_title()
    'cut at distance 3: 6 clusters'
    """
    from scipy.cluster import hierarchy  # type: ignore[import-untyped]

    Z = np.asarray(Z, dtype=np.float64)
    hierarchy.is_valid_linkage(Z, throw=True, name="Z")
    n = Z.shape[0] + 1
    if criterion not in ("distance", "maxclust"):
        raise ValueError(f"criterion: expected 'distance' or 'maxclust', got {criterion!r}")
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels: expected {n} labels, got {len(labels)}")

    flat, node, colors = _flat_clusters(Z, cut, criterion)

    def link_color(node_id: int) -> str:
        c = int(node[node_id])
        return colors[c - 1] if c else _ABOVE_THRESHOLD

    truncate = n > max_leaves
    shown = max_leaves if truncate else n
    fig = None
    if ax is None:
        fig = _figure((float(np.clip(0.22 * shown + 1.5, 6.0, 16.0)), 4.6))
        ax = fig.add_subplot()
    font = float(np.clip(420.0 / shown, 7.5, 11.0))
    kwargs: dict[str, Any] = {
        "ax": ax,
        "labels": list(labels) if labels is not None else None,
        "leaf_font_size": font,
        "leaf_rotation": 90.0 if shown > 24 else 0.0,
        "above_threshold_color": _ABOVE_THRESHOLD,
    }
    if truncate:
        kwargs.update(truncate_mode="lastp", p=max_leaves)
    if flat is not None:
        kwargs["link_color_func"] = link_color
    else:
        kwargs["color_threshold"] = 0.0  # one colour: there is no cut to show
    R = hierarchy.dendrogram(Z, **kwargs)
    if truncate:
        # SciPy's show_contracted draws one patch per hidden merge: 28 s for 40,000 points (test_plot.py)
        x, y = _contracted_marks(Z, R["leaves"])
        ax.scatter(x, y, s=6.0, c="k", alpha=0.5, linewidths=0, zorder=3)

    heading = None
    if flat is not None and cut is not None:
        k = int(flat.max())
        height = float(cut) if criterion == "distance" else _cut_height(Z, flat)
        ax.axhline(height, color="#333333", linestyle="--", linewidth=1.0, zorder=0)
        plural = "s" if k != 1 else ""
        if criterion == "distance":
            heading = f"cut at distance {cut:g}: {k} cluster{plural}"
        elif k == int(cut):
            heading = f"cut into {k} cluster{plural}"
        else:  # ties in the merge heights: fcluster returns fewer clusters than asked
            heading = f"cut into at most {int(cut)} clusters: {k} cluster{plural}"
        # Leaf labels take their cluster's colour (a single-point cluster has no link to colour).
        for text, leaf in zip(ax.get_xticklabels(), R["leaves"]):
            c = int(node[leaf])
            text.set_color(colors[c - 1] if c else "#333333")
        top = max(float(Z[-1, 2]), height)
        ax.set_ylim(0, top * 1.08 if top > 0 else 1.0)
    # One title block over the axes (a figure suptitle would be centred on the figure, not the plot).
    ax.set_title("\n".join(t for t in (title, heading) if t))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("point" if not truncate else f"point (or number of points under a merge), last {max_leaves} merges")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax if fig is None else fig


def _contracted_marks(Z: np.ndarray, leaves: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Where SciPy's ``show_contracted`` marks a truncated dendrogram: at the x of each shown leaf that
    is a cluster, the heights of every merge below it."""
    n = Z.shape[0] + 1
    owner = np.full(2 * n - 1, -1, dtype=np.int64)
    for position, leaf in enumerate(leaves):
        owner[leaf] = position
    shown = owner >= 0
    children = Z[:, :2].astype(np.int64)
    for i in range(n - 2, -1, -1):  # parents come after their children in Z: top down in one pass
        if owner[n + i] >= 0:
            owner[children[i]] = owner[n + i]
    hidden = np.flatnonzero((owner[n:] >= 0) & ~shown[n:])
    return 5.0 + 10.0 * owner[n + hidden], Z[hidden, 2]


def _flat_clusters(Z: np.ndarray, cut: Optional[float], criterion: str) -> tuple[Any, np.ndarray, list[str]]:
    """The flat clusters at ``cut`` (None without one), every node's cluster (0: the node spans
    several) and the clusters' colours."""
    from scipy.cluster import hierarchy  # type: ignore[import-untyped]

    n = Z.shape[0] + 1
    if cut is None:
        return None, np.zeros(2 * n - 1, dtype=np.int32), []
    flat = hierarchy.fcluster(Z, cut, criterion=criterion)
    node = np.concatenate([flat, np.zeros(n - 1, dtype=flat.dtype)])
    for i in range(n - 1):
        a, b = int(Z[i, 0]), int(Z[i, 1])
        node[n + i] = node[a] if node[a] != 0 and node[a] == node[b] else 0
    return flat, node, cluster_colors(int(flat.max()))


@overload
def scatter(X: Any, labels: Optional[Any] = None, *, title: Optional[str] = None, annotate: Optional[bool] = None,
            xlabel: Optional[str] = None, ylabel: Optional[str] = None, ax: None = None) -> Figure: ...
@overload
def scatter(X: Any, labels: Optional[Any] = None, *, title: Optional[str] = None, annotate: Optional[bool] = None,
            xlabel: Optional[str] = None, ylabel: Optional[str] = None, ax: Axes) -> Axes: ...
def scatter(
    X: Any,
    labels: Optional[Any] = None,
    *,
    title: Optional[str] = None,
    annotate: Optional[bool] = None,
    xlabel: Optional[str] = None,
    ylabel: Optional[str] = None,
    ax: Optional[Axes] = None,
) -> Any:
    """2-D points coloured by flat cluster (cluster i gets ``cluster_colors(k)[i - 1]``, as in
    :func:`dendrogram`).

    Parameters
    ----------
    X : array-like of shape (n, 2)
    labels : array-like of shape (n,), optional
        Flat cluster numbers 1..k as ``fcluster`` returns them.
    title : str, optional
    annotate : bool, optional
        Write each point's index beside it (default: when n <= 40), to match it with a dendrogram leaf.
    xlabel, ylabel : str, optional
        The axis labels (the command line takes them from a CSV's header).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure, or ``ax`` when given

    Examples
    --------
    >>> from pixclust import plot
    >>> fig = plot.scatter([[0, 0], [1, 1], [5, 5]], [1, 1, 2])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['cluster 1 (2)', 'cluster 2 (1)']
    """
    P = np.asarray(X, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"X: expected 2-D points, shape (n, 2), got {P.shape}")
    n = P.shape[0]
    # The figure takes the data's aspect ratio (within limits), so equal axis scales leave no empty band.
    span = np.ptp(P, axis=0) if n else np.ones(2)
    ratio = float(np.clip(span[1] / span[0], 0.45, 1.4)) if span[0] > 0 and span[1] > 0 else 1.0
    fig = None
    if ax is None:
        fig = _figure((6.4, 6.4 * ratio * 0.78 + 1.2))
        ax = fig.add_subplot()
    if labels is None:
        ax.scatter(P[:, 0], P[:, 1], s=36, color=cluster_colors(1)[0], edgecolor="white", linewidth=0.5)
    else:
        lab = np.asarray(labels)
        if lab.shape != (n,):
            raise ValueError(f"labels: expected {n} labels, got shape {lab.shape}")
        lab = lab.astype(np.int64)
        if lab.min() < 1:
            raise ValueError("labels: expected cluster numbers 1..k (fcluster's numbering)")
        colors = cluster_colors(int(lab.max()))
        size = 48.0 if n <= 200 else max(6.0, 6000.0 / n)
        edge = 0.5 if n <= 200 else 0.0
        for c in np.unique(lab):
            sel = lab == c
            ax.scatter(P[sel, 0], P[sel, 1], s=size, color=colors[c - 1], edgecolor="white", linewidth=edge,
                       label=f"cluster {c} ({int(sel.sum())})", zorder=2)
        # Outside the plot: a legend must never hide a point.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False,
                  markerscale=float(np.sqrt(40.0 / size)))
    if annotate is None:
        annotate = n <= 40
    if annotate:
        for i, (x, y) in enumerate(P):
            ax.annotate(str(i), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8, color="#333333")
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    ax.grid(True, color="#e6e6e6", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax if fig is None else fig


@overload
def palette_tree(tree: Any, n_colors: int = 16, *, title: Optional[str] = None, ax: None = None) -> Figure: ...
@overload
def palette_tree(tree: Any, n_colors: int = 16, *, title: Optional[str] = None, ax: Axes) -> Axes: ...
def palette_tree(tree: Any, n_colors: int = 16, *, title: Optional[str] = None, ax: Optional[Axes] = None) -> Any:
    """The top of a :class:`pixclust.PaletteTree`: its last merges down to ``n_colors`` clusters, each
    leaf a swatch of its cluster's mean colour labelled with the hex code and the share of pixels.

    Parameters
    ----------
    tree : PaletteTree
        From :func:`pixclust.palette_tree`.
    n_colors : int, default=16
        Leaves drawn: the clusters of ``tree.cut(n_colors)`` (all colours when there are fewer).
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure, or ``ax`` when given

    Examples
    --------
    >>> import numpy as np, pixclust
    >>> from pixclust import plot
    >>> img = np.array([[[0, 0, 0], [10, 0, 0]], [[200, 100, 50], [255, 255, 255]]], dtype=np.uint8)
    >>> fig = plot.palette_tree(pixclust.palette_tree(img), 3)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['#ffffff\\n25%', '#c86432\\n25%', '#050000\\n50%']
    """
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle
    from scipy.cluster import hierarchy  # type: ignore[import-untyped]

    Z = np.asarray(tree.linkage, dtype=np.float64)
    m = tree.colors.shape[0]
    p = max(1, min(int(n_colors), m))
    rgb, share = _node_colours(tree)
    fig = None
    if ax is None:
        fig = _figure((float(np.clip(0.55 * p + 1.5, 5.0, 16.0)), 4.8))
        ax = fig.add_subplot()
    if m > 1:
        R = hierarchy.dendrogram(Z, p=p, truncate_mode="lastp", ax=ax, color_threshold=0.0,
                                 above_threshold_color=_ABOVE_THRESHOLD, no_labels=True)
        leaves = list(R["leaves"])
        top = float(Z[-1, 2])
    else:  # one colour: one swatch, no merge
        leaves, top = [0], 1.0
        ax.set_xlim(0, 10)
    h = 0.14 * (top if top > 0 else 1.0)
    xs = 5.0 + 10.0 * np.arange(len(leaves))
    for x, leaf in zip(xs, leaves):
        ax.add_patch(Rectangle((x - 4.0, -1.1 * h), 8.0, h, facecolor=rgb[leaf], edgecolor="#555555", linewidth=0.5))
    ax.set_ylim(-1.25 * h, top * 1.05 if top > 0 else 1.0)
    ax.set_xticks(xs, [f"{to_hex(rgb[leaf])}\n{share[leaf]:.0%}" for leaf in leaves],
                  fontsize=float(np.clip(200.0 / len(leaves), 6.5, 10.0)), rotation=90.0 if len(leaves) > 8 else 0.0)
    ax.set_title(title if title is not None else f"Ward's tree of {m} colours: the last {len(leaves)} clusters")
    ax.set_ylabel("Ward distance")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax if fig is None else fig


def _node_colours(tree: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every node's (leaves, then merges) pixel-weighted mean colour as RGB in [0, 1], and its share of
    the pixels."""
    Z = np.asarray(tree.linkage)
    m = tree.colors.shape[0]
    w = np.asarray(tree.counts, dtype=np.float64)
    values = np.asarray(tree.colors, dtype=np.float64)[:, :3] / _value_max(tree.colors.dtype)
    if values.shape[1] < 3:  # gray (and gray + alpha): the gray value in every channel
        values = np.repeat(values[:, :1], 3, axis=1)
    weight = np.concatenate([w, np.zeros(m - 1)])
    total = np.concatenate([values * w[:, None], np.zeros((m - 1, 3))])
    for i, (a, b) in enumerate(Z[:, :2].astype(np.int64)):
        weight[m + i] = weight[a] + weight[b]
        total[m + i] = total[a] + total[b]
    return np.clip(total / weight[:, None], 0.0, 1.0), weight / w.sum()
