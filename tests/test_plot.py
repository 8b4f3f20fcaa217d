"""pixclust.plot: the figures have the panels, colours and proportions they claim, and nothing overlaps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from scipy.cluster.hierarchy import dendrogram as scipy_dendrogram
from scipy.cluster.hierarchy import fcluster, linkage

import pixclust
from pixclust import _io, plot

PHOTO = Path(__file__).resolve().parents[1] / "python" / "pixclust" / "data" / "chelsea.png"
POINTS = np.array([[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]], float)


def _draw(fig):  # type: ignore[no-untyped-def]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return _io.read_image(PHOTO)


def test_compare_panels_titles_aspect_and_strips(photo: np.ndarray) -> None:
    ks = [10, 8, 6, 4, 2]
    results = pixclust.quantize(photo, ks, random_state=0)
    fig = plot.compare(photo, ks, results=results)
    renderer = _draw(fig)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6 and len(fig.axes) == 6  # 2 x 3, no empty cell
    assert [ax.get_title() for ax in panels] == ["Original"] + [f"{k} colours" for k in ks]
    # 451 pixels drawn 3.4 in x 110 dpi = 374 across: a 374 x 249 copy, of the result's own pixels
    assert panels[0].images[0].get_array().shape == (249, 374, 3)
    for ax, r in zip(panels[1:], results):
        shown = np.asarray(ax.images[0].get_array())
        rows = (np.arange(249) + 0.5) * 300 / 249
        cols = (np.arange(374) + 0.5) * 451 / 374
        np.testing.assert_array_equal(shown, r.image[rows.astype(int)][:, cols.astype(int)])
        # The palette strip: one patch per colour, widths proportional to the pixel counts.
        widths = np.array([p.get_width() for p in ax.patches])
        assert len(widths) == r.n_colors
        np.testing.assert_allclose(widths / widths.sum(), np.sort(r.counts)[::-1] / r.counts.sum())
        colours = [to_hex(p.get_facecolor()) for p in ax.patches]
        assert colours[0] == "#%02x%02x%02x" % tuple(r.palette[np.argmax(r.counts)])
    # Square pixels: the drawn picture has the photo's aspect ratio.
    for ax in panels:
        box = ax.images[0].get_window_extent(renderer)
        assert box.height / box.width == pytest.approx(300 / 451, rel=0.02)
    # Titles overlap neither each other nor any picture.
    titles = [ax.title.get_window_extent(renderer) for ax in panels]
    pictures = [ax.images[0].get_window_extent(renderer) for ax in panels]
    for i, t in enumerate(titles):
        assert not any(_overlap(t, u) for u in titles[i + 1:])
        assert not any(_overlap(t, p) for p in pictures)


def test_compare_dithered_gray_and_one_row(photo: np.ndarray) -> None:
    grey = np.round(photo @ [0.299, 0.587, 0.114]).astype(np.uint8)
    fig = plot.compare(grey, [3], dither=True, ncols=3)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["Original", "3 colours, dithered"]
    shown = panels[1].images[0].get_array()
    assert len(np.unique(shown)) <= 3
    assert panels[0].images[0].get_cmap().name == "gray"
    with pytest.raises(ValueError, match="titles"):
        plot.compare(grey, [3, 2], titles=["only one"])


def test_compare_dithers_each_panel_at_the_strength_given(photo: np.ndarray) -> None:
    res = pixclust.quantize(photo, [5], random_state=0)
    assert isinstance(res, list)
    for strength in (0.5, True):
        fig = plot.compare(photo, [5], results=res, dither=strength, panel_width=1.5, dpi=80)
        original, panel = (np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images)
        want = pixclust.dither(original, res[0].palette, strength=1.0 if strength is True else strength)
        np.testing.assert_array_equal(panel, want)  # the drawn copy of the original, dithered
    with pytest.raises(ValueError, match="dither"):
        plot.compare(photo, [5], results=res, dither=2.0)


def _rendered_colours(fig, ax) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The distinct RGB colours Agg drew inside the picture of ``ax`` (2 pixels in from its edges)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    box = ax.images[0].get_window_extent(canvas.get_renderer())
    height = rgba.shape[0]
    y0, y1 = int(np.ceil(height - box.y1)) + 2, int(np.floor(height - box.y0)) - 2
    x0, x1 = int(np.ceil(box.x0)) + 2, int(np.floor(box.x1)) - 2
    assert y1 - y0 > 20 and x1 - x0 > 20
    return np.unique(rgba[y0:y1, x0:x1, :3].reshape(-1, 3), axis=0)


@pytest.mark.parametrize("dpi", [60, 110, 300])
def test_compare_panels_show_only_palette_colours(dpi: int) -> None:
    # A 2400 x 1600 photo (the cat, enlarged by Pillow) drawn at three sizes: what Agg paints inside
    # each quantized panel is a subset of that panel's palette, as Pillow-independent numpy counts it.
    from PIL import Image

    big = np.asarray(Image.open(PHOTO).convert("RGB").resize((2400, 1600), Image.BICUBIC))
    ks = [6, 3]
    results = pixclust.quantize(big, ks, random_state=0)
    fig = plot.compare(big, ks, results=results, panel_width=2.5, dpi=dpi)
    panels = [ax for ax in fig.axes if ax.images]
    assert max(panels[1].images[0].get_array().shape) <= 2.5 * dpi + 1  # a display-sized copy
    for ax, r in zip(panels[1:], results):
        drawn = {tuple(c) for c in _rendered_colours(fig, ax).tolist()}
        assert drawn <= {tuple(c) for c in r.palette.tolist()}, (dpi, r.n_colors)
        assert len(drawn) >= 2
    # The original and --smooth panels are averaged: colours outside the palette appear there.
    smooth = plot.compare(big, ks, results=results, panel_width=2.5, dpi=dpi, smooth=True)
    drawn = _rendered_colours(smooth, [ax for ax in smooth.axes if ax.images][1])
    assert len(drawn) > 6


def test_compare_figure_size_follows_panel_width_and_dpi(photo: np.ndarray) -> None:
    fig = plot.compare(photo, [4, 2], ncols=2, panel_width=2.0, dpi=150)
    assert fig.dpi == 150 and tuple(fig.get_size_inches())[0] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="dpi"):
        plot.compare(photo, [4], dpi=0)


def test_palette_order_labels_and_strip() -> None:
    pal = np.array([[255, 0, 0], [0, 128, 0], [0, 0, 255]], dtype=np.uint8)
    counts = np.array([10, 60, 30])
    fig = plot.palette(pal, counts, title="three")
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts == ["#008000\n60.0%", "#0000ff\n30.0%", "#ff0000\n10.0%"]
    swatches = [to_hex(p.get_facecolor()) for p in fig.axes[1].patches]
    assert swatches == ["#008000", "#0000ff", "#ff0000"]
    renderer = _draw(fig)
    boxes = [t.get_window_extent(renderer) for t in fig.axes[1].texts]
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # A QuantizeResult works directly; uint16 palettes are scaled to 8-bit hex codes.
    res = pixclust.quantize(np.array([[0, 65535], [65535, 65535]], dtype=np.uint16), 2, random_state=0)
    fig = plot.palette(res)
    assert [t.get_text() for t in fig.axes[1].texts] == ["#ffffff\n75.0%", "#000000\n25.0%"]
    with pytest.raises(ValueError, match="counts"):
        plot.palette(pal, [1, 2])


@pytest.mark.parametrize("criterion,cut", [("distance", 3.0), ("maxclust", 3)])
def test_dendrogram_colours_follow_the_flat_clusters(criterion: str, cut: float) -> None:
    Z = linkage(POINTS, "single")
    flat = fcluster(Z, cut, criterion=criterion)
    fig = plot.dendrogram(Z, cut, criterion=criterion)
    ax = fig.axes[0]
    colors = plot.cluster_colors(int(flat.max()))
    # Leaves in SciPy's order, each label in its cluster's colour.
    leaves = scipy_dendrogram(Z, no_plot=True)["leaves"]
    labels = ax.get_xticklabels()
    assert [int(t.get_text()) for t in labels] == leaves
    assert [to_hex(t.get_color()) for t in labels] == [colors[flat[i] - 1] for i in leaves]
    # Links: the colours of the clusters with more than one point, and grey above the cut.
    link_colours = {to_hex(c) for coll in ax.collections for c in coll.get_colors()}
    multi = {colors[c - 1] for c in np.unique(flat) if np.sum(flat == c) > 1}
    assert link_colours == multi | {"#9a9a9a"}
    # The cut line lies between the last merge inside a cluster and the first across clusters.
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    y = line.get_ydata()[0]
    heights = Z[:, 2]
    inside = heights[: len(heights) - (int(flat.max()) - 1)]
    assert inside.max() <= y < heights[len(inside)]
    if criterion == "distance":
        assert y == cut


def test_large_dendrogram_is_truncated_and_labels_do_not_collide() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    fig = plot.dendrogram(linkage(X, "ward"), 6, criterion="maxclust", max_leaves=50)
    renderer = _draw(fig)
    labels = [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(labels) == 50
    assert min(t.get_fontsize() for t in labels) >= 7.5
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(_overlap(a, b) for a, b in zip(boxes, boxes[1:]))
    assert "cut into 6 clusters" in fig.axes[0].get_title()


@pytest.mark.parametrize("method", ["ward", "single", "centroid"])
def test_truncated_dendrogram_marks_the_hidden_merges_where_scipy_does(method: str) -> None:
    # SciPy's show_contracted draws one Ellipse per hidden merge (28 s at 40,000 points); ours is one
    # scatter: the same places, taken from SciPy's own patches.
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Ellipse

    X = np.random.default_rng(3).normal(size=(300, 2))
    Z = linkage(X, method)
    ax = plot.dendrogram(Z, max_leaves=25).axes[0]
    (marks,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    ours = sorted(map(tuple, marks.get_offsets().data.tolist()))
    fig, ref_ax = plt.subplots()
    R = scipy_dendrogram(Z, truncate_mode="lastp", p=25, show_contracted=True, ax=ref_ax)
    theirs = sorted((float(e.center[0]), float(e.center[1])) for e in ref_ax.patches if isinstance(e, Ellipse))
    plt.close(fig)
    # every merge but the 24 drawn and the shown leaves' own
    assert len(theirs) == 299 - 24 - sum(leaf >= 300 for leaf in R["leaves"])
    assert ours == theirs


def test_dendrogram_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        plot.dendrogram(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="criterion"):
        plot.dendrogram(linkage(POINTS), 2, criterion="inconsistent")


def test_scatter_colours_match_the_dendrogram() -> None:
    flat = fcluster(linkage(POINTS, "single"), 3, criterion="distance")
    fig = plot.scatter(POINTS, flat, title="t")
    ax = fig.axes[0]
    colors = plot.cluster_colors(int(flat.max()))
    for coll, c in zip(ax.collections, np.unique(flat)):
        np.testing.assert_array_equal(coll.get_offsets(), POINTS[flat == c])
        assert to_hex(coll.get_facecolor()[0]) == colors[c - 1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"cluster {c} ({int(np.sum(flat == c))})" for c in np.unique(flat)
    ]
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(10)]
    assert ax.get_aspect() == 1.0
    # The legend sits outside the data area.
    renderer = _draw(fig)
    assert not _overlap(ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer))
    with pytest.raises(ValueError, match="2-D points"):
        plot.scatter(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="labels"):
        plot.scatter(POINTS, flat[:3])


def test_cluster_colors_are_distinct() -> None:
    for n in (1, 7, 10, 15, 20, 40):
        assert len(set(plot.cluster_colors(n))) == n


def test_plots_draw_into_the_users_own_pyplot_axes_and_figure(photo: np.ndarray) -> None:
    import matplotlib.pyplot as plt  # headless: the Agg backend, where plt.show() returns at once
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    Z = linkage(POINTS, "single")
    flat = fcluster(Z, 3, criterion="distance")
    pal = np.array([[255, 0, 0], [0, 128, 0], [0, 0, 255]], dtype=np.uint8)
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    try:
        got = [plot.palette(pal, [10, 60, 30], ax=axes[0, 0], title="mine"),
               plot.dendrogram(Z, 3, ax=axes[0, 1]),
               plot.scatter(POINTS, flat, ax=axes[1, 0], xlabel="width", ylabel="height")]
        for a, ax in zip(got, (axes[0, 0], axes[0, 1], axes[1, 0])):
            assert a is ax and isinstance(a, Axes)
        assert len(fig.axes) == 4  # nothing added: each drew into the axes it was given
        assert plt.gcf() is fig and plt.get_fignums() == [fig.number]
        texts = [t.get_text() for t in axes[0, 0].texts]
        assert texts == ["#008000\n60.0%", "#0000ff\n30.0%", "#ff0000\n10.0%"] and axes[0, 0].get_title() == "mine"
        # the share strip above the swatches: widths in the order and proportions of the counts
        strip = [p for p in axes[0, 0].patches if p.get_y() > 1]
        np.testing.assert_allclose([p.get_width() for p in strip], np.array([60, 30, 10]) / 100 * 3)
        assert axes[0, 1].get_title() == "cut at distance 3: 6 clusters"
        assert (axes[1, 0].get_xlabel(), axes[1, 0].get_ylabel()) == ("width", "height")
        assert not axes[1, 1].has_data()
        _draw(fig)
        plt.show()  # the Agg backend shows nothing, and must not fail
        # compare takes a figure: the grid goes into the user's pyplot figure (its size kept)
        grid = plt.figure(figsize=(9, 5))
        out = plot.compare(photo, [4, 2], fig=grid, ncols=3)
        assert out is grid and isinstance(out, Figure) and tuple(grid.get_size_inches()) == (9, 5)
        assert [ax.get_title() for ax in grid.axes if ax.images] == ["Original", "4 colours", "2 colours"]
        # and into one subfigure of a larger figure, beside the user's own axes
        big = plt.figure(figsize=(12, 5))
        left, right = big.subfigures(1, 2)
        left.subplots().plot([0, 1], [0, 1])
        assert plot.compare(photo, [3], fig=right, ncols=2) is right
        assert len(right.axes) == 2 and len(left.axes) == 1
        _draw(big)
    finally:
        plt.close("all")


# A backend whose show() prints what it was asked to show: plt.show() in a script, observed.
_SHOW_BACKEND = """
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg


class FigureManager(FigureManagerBase):
    def show(self):
        fig = self.canvas.figure
        print("shown:", self.num, fig.get_label(), flush=True)


class FigureCanvas(FigureCanvasAgg):
    manager_class = FigureManager
"""


def _script(tmp_path: Path, code: str, backend: str = "agg") -> str:
    (tmp_path / "showbackend.py").write_text(_SHOW_BACKEND)
    env = {**os.environ, "MPLBACKEND": backend, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_without_ax_plt_show_in_a_script_shows_the_new_figures(tmp_path: Path) -> None:
    out = _script(tmp_path, """
import numpy as np
import matplotlib.pyplot as plt
from pixclust import plot
X = np.random.default_rng(0).normal(size=(12, 2))
fig = plot.scatter(X, title="the scatter")
fig.set_label("scatter")
plot.palette(np.array([[255, 0, 0], [0, 0, 255]], np.uint8), title="the palette").set_label("palette")
print("open:", plt.get_fignums(), plt.gcf() is not fig)
plt.show()
""", backend="module://showbackend")
    assert out.splitlines() == ["open: [1, 2] True", "shown: 1 scatter", "shown: 2 palette"]


def test_without_pyplot_the_figure_stays_outside_it(tmp_path: Path) -> None:
    out = _script(tmp_path, f"""
import sys
import numpy as np
from matplotlib.figure import Figure
from pixclust import plot
fig = plot.scatter(np.random.default_rng(0).normal(size=(12, 2)))
fig.savefig({str(tmp_path / "s.png")!r})
print(isinstance(fig, Figure), "matplotlib.pyplot" in sys.modules)
""")
    assert out.split() == ["True", "False"]  # no pyplot imported, no global state touched
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_a_notebook_shows_each_figure_once() -> None:
    """Run in a real kernel with the inline backend: each way of showing a figure gives one picture."""
    import nbformat
    from nbclient import NotebookClient

    cells = {
        "import numpy as np\nfrom pixclust import plot\nX = np.random.default_rng(0).normal(size=(20, 2))\n"
        "plot.scatter(X)": 1,  # the last value, pyplot never imported
        "fig0 = plot.scatter(X)": 0,  # assigned, outside pyplot: nothing to show
        "fig0": 1,
        "import matplotlib.pyplot as plt\nplot.scatter(X)": 1,  # the last value, and a pyplot figure
        "plot.dendrogram(np.array([[0.0, 1.0, 1.0, 2]]))\nplt.show()": 1,
        "fig = plot.palette(np.array([[255, 0, 0]], np.uint8))": 1,  # shown at the cell's end
        "plot.compare(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), [2]);": 1,
        "fig": 1,  # closed by then, shown again on request
        "fig, ax = plt.subplots()\nplot.scatter(X, ax=ax);": 1,
        "print(len(plt.get_fignums()))": 0,
    }
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    pictures = [sum("image/png" in o.get("data", {}) for o in c.outputs) for c in nb.cells]
    assert pictures == list(cells.values())
    assert nb.cells[-1].outputs[0]["text"] == "0\n"  # the inline backend closed every pyplot figure


def test_quantize_result_repr_is_short(photo: np.ndarray) -> None:
    res = pixclust.quantize(photo, 6, random_state=0)
    text = repr(res)
    assert text == f"QuantizeResult(n_colors=6, image=300 x 451 x 3 uint8, inertia={res.inertia:.6g})"
    rgba = np.dstack([photo, np.where(np.arange(451) < 100, 0, 255).astype(np.uint8)[None].repeat(300, 0)])
    assert repr(pixclust.quantize(rgba, 3, random_state=0)).endswith(", 30000 pixels left out)")
