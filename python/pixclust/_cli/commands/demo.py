"""``pixclust demo``: every picture, on the bundled photos and the tutorial's ten points, written into
one directory."""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from importlib.resources import as_file, files
from typing import Any, Callable, Iterator

import numpy as np

from pixclust._cli.images import DITHER_STRENGTH, read_image
from pixclust._cli.outputs import check_output_directory, save_figure, write_csv
from pixclust._cli.progress import Progress

# The tutorial's ten points (scipy.cluster.hierarchy section).
TUTORIAL_POINTS = [[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]]
_NAMES = {
    "quantized": "chelsea-k8.png",
    "dithered": "chelsea-k8-dither.png",
    "compare": "chelsea-compare.png",
    "palette": "chelsea-palette.png",
    "colour tree": "chelsea-tree.png",
    "lab": "rocket-rgb-vs-lab.png",
    "dendrogram": "points-dendrogram.png",
    "scatter": "points-scatter.png",
    "labels": "points-labels.csv",
}


class Written(list[tuple[str, str]]):
    """(path, what it shows), in the order written; each one written ticks the progress bar."""

    def __init__(self, tick: Callable[[], None]) -> None:
        super().__init__()
        self.tick = tick

    def append(self, item: tuple[str, str]) -> None:
        super().append(item)
        self.tick()


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    d = args.output
    paths = {key: os.path.join(d, name) for key, name in _NAMES.items()}
    check_output_directory(d, paths.values(), force=args.force)
    os.makedirs(d, exist_ok=True)
    # one tick per file written: a bar on a terminal, else the step lines as before
    with progress.bar("pixclust demo", len(_NAMES)) as bar:
        written = Written(bar.tick)
        _photo(args, paths, written, progress)
        _rgb_vs_lab(args, paths, written, progress)
        _tree(paths, written, progress)
    width = max(len(p) for p, _ in written)
    print(f"pixclust demo: wrote {len(written)} files into {d}", file=out)
    for p, what in written:
        print(f"  {p:<{width}}  {what}", file=out)
    return 0


@contextmanager
def _bundled(name: str) -> Iterator[str]:
    """A path to a photo shipped in ``pixclust/data`` (extracted while in use if the package is zipped)."""
    with as_file(files("pixclust") / "data" / name) as p:
        yield str(p)


def _photo(args: argparse.Namespace, paths: dict[str, str], written: Written, progress: Progress) -> None:
    import pixclust
    from pixclust import _io, plot

    with _bundled("chelsea.png") as src:
        img = read_image(src, progress)
    ks = [10, 8, 6, 4, 2]
    with progress.step(f"k-means on the photo ({img.shape[1]} x {img.shape[0]}), {', '.join(map(str, ks))} colours"):
        results = pixclust.quantize(img, ks, random_state=args.seed, n_threads=args.threads)
    assert isinstance(results, list)  # a list of counts gives a list
    r8 = results[1]
    with progress.step("writing the 8-colour image, dithered and not"):
        _io.write_image(paths["quantized"], r8.image, labels=r8.labels, palette=r8.palette, force=True)
        written.append((paths["quantized"], f"the photo in 8 colours (paletted PNG, inertia {r8.inertia:.4g})"))
        dith, dlab = pixclust.dither(img, r8.palette, strength=DITHER_STRENGTH, return_labels=True)
        _io.write_image(paths["dithered"], dith, labels=dlab, palette=r8.palette, force=True)
        written.append((paths["dithered"], f"the same 8 colours, Floyd-Steinberg dithering at strength {DITHER_STRENGTH} "
                                           "(quantize --dither's)"))
    with progress.step("drawing the comparison and the palette"):
        save_figure(plot.compare(img, ks, results=results), paths["compare"], True)
        written.append((paths["compare"], "original + 10, 8, 6, 4, 2 colours, with palette strips"))
        save_figure(plot.palette(r8, title="chelsea.png: 8 colours by share of pixels"), paths["palette"], True)
        written.append((paths["palette"], "the 8 colours, ordered by share"))
    with progress.step("Ward's tree of every colour of the photo"):
        tree = pixclust.palette_tree(img, n_threads=args.threads)
        title = f"chelsea.png: Ward's tree of its {tree.colors.shape[0]} colours, last 12 clusters"
        save_figure(plot.palette_tree(tree, 12, title=title), paths["colour tree"], True)
        written.append((paths["colour tree"], "Ward's tree of the colours, the last 12 clusters as swatches"))


def _rgb_vs_lab(args: argparse.Namespace, paths: dict[str, str], written: Written, progress: Progress) -> None:
    import pixclust
    from pixclust import plot

    k_lab = 6
    with _bundled("rocket.jpg") as src:
        rocket = read_image(src, progress)
    with progress.step(f"k-means of the rocket photo in RGB and in CIELAB, {k_lab} colours"):
        pair = []
        for space in ("rgb", "lab"):
            res = pixclust.quantize(rocket, [k_lab], space=space, random_state=args.seed, n_threads=args.threads)
            assert isinstance(res, list)  # a list of counts gives a list
            pair.append(res[0])
        reference = pixclust.to_lab(rocket)
        # Mean CIE76 colour difference between each pixel and its palette colour: how far off it looks.
        delta = [float(np.sqrt(((pixclust.to_lab(r.image) - reference) ** 2).sum(axis=-1)).mean()) for r in pair]
        fig = plot.compare(rocket, [k_lab, k_lab], results=pair, titles=[
            f"RGB k-means: mean \u0394E {delta[0]:.1f}", f"CIELAB k-means: mean \u0394E {delta[1]:.1f}"])
        save_figure(fig, paths["lab"], True)
        written.append((paths["lab"], f"rocket.jpg in {k_lab} colours, clustered in RGB and in CIELAB"))


def _tree(paths: dict[str, str], written: Written, progress: Progress) -> None:
    from scipy.cluster.hierarchy import fcluster  # type: ignore[import-untyped]

    import pixclust
    from pixclust import plot

    X = np.asarray(TUTORIAL_POINTS, dtype=np.float64)
    with progress.step("single linkage of the tutorial's ten points, cut at distance 3"):
        Z = pixclust.linkage(X, method="single", metric="euclidean")
        flat = fcluster(Z, 3, criterion="distance")
        save_figure(plot.dendrogram(Z, 3, title="single linkage of the tutorial's 10 points"), paths["dendrogram"], True)
        k = int(flat.max())
        save_figure(plot.scatter(X, flat, title=f"cut at distance 3: {k} clusters"), paths["scatter"], True)
        rows = (f"{i},{x:g},{y:g},{c}" for i, ((x, y), c) in enumerate(zip(X, flat.tolist())))
        write_csv(paths["labels"], "point,x,y,cluster", rows, force=True)
    written.append((paths["dendrogram"], f"the dendrogram, cut at distance 3 ({k} clusters, coloured)"))
    written.append((paths["scatter"], "the ten points coloured by flat cluster"))
    written.append((paths["labels"], "the flat cluster of each point"))
