"""The command line's arguments: the parser, its subcommands, and the argument types."""

from __future__ import annotations

import argparse
from typing import NoReturn

import numpy as np

from pixclust._cli.images import DITHER_STRENGTH, MAX_COLORS


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (it prints the usage first by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    return v


def _int_in(text: str, low: int, high: int, what: str) -> int:
    v = _int(text)
    if not low <= v <= high:
        raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {v}")
    return v


def _threads(text: str) -> int:
    from pixclust._fit import _MAX_THREADS

    return _int_in(text, 1, _MAX_THREADS, "a thread count")


def _seed(text: str) -> int:
    from pixclust._fit import _MAX_SEED

    return _int_in(text, 0, _MAX_SEED, "a seed")


def _finite(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _share(text: str) -> float:
    v = _finite(text)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1, got {text}")
    return v


def _dither_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--dither", action="store_true", help=what)
    p.add_argument("--dither-strength", type=_share, metavar="S",
                   help=f"the share of each pixel's colour error that dithering passes on, 0 to 1 (implies --dither; "
                        f"default {DITHER_STRENGTH}: about half the colour error per pixel of 1, plain "
                        "Floyd-Steinberg, and local average colours kept as well)")


def _colour(text: str) -> tuple[int, int, int]:
    from PIL import ImageColor

    try:
        r, g, b = ImageColor.getrgb(text)[:3]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a colour such as #ffffff or white, got {text!r}") from None
    return (r, g, b)


def _width(text: str) -> int:
    return _int_in(text, 100, 20000, "a width in pixels")


def _ncols(text: str) -> int:
    return _int_in(text, 1, 64, "a number of columns")


def _dpi(text: str) -> float:
    v = _finite(text)
    if not 10 <= v <= 1200:
        raise argparse.ArgumentTypeError(f"expected pixels per inch from 10 to 1200, got {text}")
    return v


def _n_init(text: str) -> int:
    return _int_in(text, 1, 1000, "a number of runs")


def _max_iter(text: str) -> int:
    return _int_in(text, 1, 1_000_000, "an iteration count")


def _tol(text: str) -> float:
    v = _finite(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a tolerance >= 0, got {text}")
    return v


def _common(p: argparse.ArgumentParser, *, image: bool = True) -> None:
    if image:
        p.add_argument("--seed", type=_seed, default=0, help="random seed for k-means++ (default 0)")
        p.add_argument("--space", choices=["rgb", "lab"], default="rgb",
                       help="cluster in RGB or in CIELAB (perceptual; RGB images only)")
        p.add_argument("--threads", type=_threads, default=None, help="threads (default: all)")
        p.add_argument("--init", choices=["k-means++", "ward"], default="k-means++",
                       help="initial centres: k-means++ seeded by --seed (the default), or the cut of Ward's tree "
                            "over the colours (deterministic)")
        p.add_argument("--n-init", type=_n_init, default=1,
                       help="k-means++ runs per colour count; the lowest inertia is kept (default 1)")
        p.add_argument("--max-iter", type=_max_iter, default=300, help="most Lloyd iterations per run (default 300)")
        p.add_argument("--tol", type=_tol, default=1e-4,
                       help="stop when the centres move less than this, relative to the pixels' variance (default 1e-4)")
        p.add_argument("--alpha", choices=["exclude", "weight", "keep"], default="exclude",
                       help="fully transparent pixels: left out of the clustering (exclude, the default; they get "
                            "one transparent palette entry), left out and the rest weighted by opacity (weight), "
                            "or clustered like the others (keep)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress messages and no report on standard output (--json still prints)")


def _pipe_option(p: argparse.ArgumentParser, formats: str) -> None:
    p.add_argument("--format", help=f"the format for -o - (standard output), which has no extension to tell it: "
                                    f"{formats}, ...")


def _add_image_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    q = sub.add_parser("quantize", help="reduce an image to k colours",
                       description="Reduce an image to k colours (exact k-means) and write it; prints the palette.")
    q.add_argument("input", nargs="+",
                   help="an image file (JPEG, PNG, TIFF, ...), or - for standard input; with --shared-palette, "
                        "several files, directories or quoted globs")
    q.add_argument("-k", type=_int, help=f"number of colours (1-{MAX_COLORS}); not with --palette")
    q.add_argument("-o", "--output", help="output image (default: INPUT-kK.png here): .png, .gif, .tif and .bmp are "
                                          "paletted, .webp lossless, .jpg lossy; - for standard output. Alpha: "
                                          "PNG, WebP and TIFF (written RGBA) keep it, GIF has one transparent "
                                          "entry (pixels under half opacity), JPEG and BMP are composited on "
                                          "--background")
    q.add_argument("--format", help="the image format for -o - (png, jpg, tif, bmp, gif, webp; default png)")
    q.add_argument("--lossless", action=argparse.BooleanOptionalAction, default=None,
                   help="WebP only: lossless (the default: a lossy WebP blurs the k colours into thousands); "
                        "--no-lossless for a smaller, lossy file")
    q.add_argument("--palette", metavar="FILE",
                   help="map onto this palette instead of k-means: .json, .gpl, .txt, .css, or an image's colours")
    _dither_options(q, "serpentine Floyd-Steinberg dithering onto the palette, damped to --dither-strength")
    q.add_argument("--json", action="store_true", help="print the palette table as JSON")
    q.add_argument("--shared-palette", action="store_true",
                   help="one palette for all the inputs (and every frame of an animated GIF or APNG), on Dask; "
                        "-o is then a directory (pip install pixclust[dask])")
    q.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --shared-palette: run on this Dask scheduler (e.g. tcp://host:8786); default: "
                        "Dask's local threaded scheduler")
    q.add_argument("--background", type=_colour, default=(255, 255, 255), metavar="COLOUR",
                   help="what an image with alpha is laid over in a format without alpha (JPEG, BMP): #rrggbb or a "
                        "name (default white)")
    q.add_argument("--strip", action="store_true",
                   help="drop the input's ICC profile and EXIF (kept by default in PNG, JPEG, WebP and TIFF; GIF and "
                        "BMP cannot hold them, which a note on stderr says)")
    _common(q)

    c = sub.add_parser("compare", help="the original beside several colour counts",
                       description="The original image beside one panel per colour count, each with its palette strip.")
    c.add_argument("input", help="an image file, or - for standard input")
    c.add_argument("-k", type=_int, nargs="+", default=[10, 8, 6, 4, 2], help="colour counts (default 10 8 6 4 2)")
    c.add_argument("-o", "--output", required=True, help="the figure (.png, .pdf, .svg); - for standard output")
    _pipe_option(c, "png, pdf, svg")
    _dither_options(c, "dither each panel onto its palette, damped to --dither-strength")
    c.add_argument("--width", type=_width, default=1100, help="figure width in pixels (default 1100)")
    c.add_argument("--dpi", type=_dpi, default=110, help="pixels per inch: the size of the text (default 110)")
    c.add_argument("--ncols", type=_ncols, default=3, help="panels per row (default 3)")
    c.add_argument("--title", default=None,
                   help="the figure's title (default: the file's name and the colour space; '' for none)")
    c.add_argument("--smooth", action="store_true",
                   help="average the panels when shrinking them (smoother, but with colours outside the palettes)")
    _common(c)

    p = sub.add_parser("palette", help="palette swatches ordered by share",
                       description="Palette swatches of an image in k colours, ordered by share of pixels.")
    p.add_argument("input", help="an image file, or - for standard input")
    p.add_argument("-k", type=_int, required=True, help=f"number of colours (1-{MAX_COLORS})")
    p.add_argument("-o", "--output", help="swatches (.png, .pdf, .svg) or a palette file: .json, .gpl (GIMP, "
                                          "Inkscape), .txt (hex lines), .css (custom properties); - for standard output")
    _pipe_option(p, "json, gpl, txt, css, png, pdf, svg")
    p.add_argument("--json", action="store_true", help="print the palette table as JSON")
    _common(p)


def _add_tree(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("tree", help="Ward's tree of an image's colours, drawn with colour swatches",
                       description="Ward's hierarchy of an image's distinct colours weighted by their pixel counts "
                                   "(the tree of Ward's method over every pixel), drawn down to k clusters. "
                                   "Fully transparent pixels are left out.")
    t.add_argument("input", help="an image file, or - for standard input")
    t.add_argument("-k", type=_int, default=16, help="clusters drawn as leaves (default 16)")
    t.add_argument("-o", "--output", required=True, help="the figure (.png, .pdf, .svg); - for standard output")
    _pipe_option(t, "png, pdf, svg")
    t.add_argument("--space", choices=["rgb", "lab"], default="rgb",
                   help="cluster in RGB or in CIELAB (perceptual; RGB images only)")
    t.add_argument("--threads", type=_threads, default=None, help="threads (default: all)")
    _common(t, image=False)


def _add_dendrogram(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    d = sub.add_parser("dendrogram", help="hierarchical clustering of points: dendrogram, cut, scatter, labels",
                       description="Hierarchical clustering of points from CSV/TSV/.npy (one point per row), or of a "
                                   "condensed distance vector (one row, or a 1-D .npy).")
    d.add_argument("data", help="CSV, TSV or .npy; - for standard input (.npy or text, told from the data)")
    d.add_argument("-o", "--output", required=True, help="the dendrogram figure (.png, .pdf, .svg); - for standard output")
    _pipe_option(d, "png, pdf, svg")
    d.add_argument("--method", default="ward",
                   choices=["single", "complete", "average", "weighted", "centroid", "median", "ward"],
                   help="linkage method (default ward)")
    d.add_argument("--metric", default=None, help="distance between points (default euclidean; SciPy's names)")
    d.add_argument("--cut", type=_finite, default=None, help="cut height (distance) or number of clusters (maxclust)")
    d.add_argument("--criterion", choices=["distance", "maxclust"], default="distance")
    d.add_argument("--scatter", help="also draw the 2-D points coloured by flat cluster")
    d.add_argument("--labels", help="also write the flat cluster of each point (CSV)")
    _common(d, image=False)


def _add_demo(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    m = sub.add_parser("demo", help="every picture, on the bundled photo and the tutorial's points",
                       description="Quantize the bundled photo (Chelsea the cat) and cluster the tutorial's ten points; "
                                   "writes every picture into a directory.")
    m.add_argument("-o", "--output", default="pixclust-demo", help="directory (default ./pixclust-demo)")
    m.add_argument("--seed", type=_seed, default=0)
    m.add_argument("--threads", type=_threads, default=None)
    m.add_argument("--force", action="store_true", help="replace files from an earlier run")
    m.add_argument("-q", "--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pixclust", description="Fast, exact clustering for images and hierarchies.")
    from pixclust import __version__

    parser.add_argument("--version", action="version", version=f"pixclust {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    sub.add_parser("config", help="print the build configuration (version, compiler, OpenMP)")
    _add_image_commands(sub)
    _add_tree(sub)
    _add_dendrogram(sub)
    _add_demo(sub)
    return parser
