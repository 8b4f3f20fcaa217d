"""The ``pixclust`` command line (a thin layer over the Python API).

Every bad input (a missing or unreadable file, a non-image, k out of range, an output equal to the
input, an existing output without ``--force``, an unwritable directory) ends with one line on stderr
and exit status 2: no traceback, and no file written. Outputs are written to a temporary file in the
target directory and renamed into place, so an interrupted run never leaves a partial file.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, Iterator, NoReturn, Optional, Sequence

import numpy as np

from pixclust._config import show_config

# The largest palette: a paletted PNG holds 256 colours.
MAX_COLORS = 256
# The tutorial's ten points (scipy.cluster.hierarchy section).
TUTORIAL_POINTS = [[2, 2], [15, 4], [2, 3], [4, 5], [5, 5], [20, 4], [22, 7], [17, 7], [20, 10], [3, 3]]


class CLIError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (it prints the usage first by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Progress:
    """Progress on stderr for the steps that take a while; silent with --quiet.

    A step announces itself only once it has run for ``delay`` seconds (from a timer thread), and then
    reports its time when it ends: quick runs stay quiet, and a bad-input error is the only line on
    stderr.
    """

    def __init__(self, quiet: bool, delay: float = 1.0) -> None:
        self.quiet = quiet
        self.delay = delay
        self.lock = threading.Lock()
        self.open = False  # a "step ..." line is waiting for its end

    def step(self, message: str) -> "_Step":
        return _Step(self, message)

    def newline(self) -> None:
        with self.lock:
            if self.open:
                sys.stderr.write("\n")
                sys.stderr.flush()
                self.open = False


class _Step:
    def __init__(self, progress: _Progress, message: str) -> None:
        self.progress = progress
        self.message = message
        self.start = 0.0
        self.shown = False
        self.timer: Optional[threading.Timer] = None

    def _announce(self) -> None:
        with self.progress.lock:
            if self.timer is None:  # already finished
                return
            sys.stderr.write(f"{self.message} ...")
            sys.stderr.flush()
            self.shown = True
            self.progress.open = True

    def __enter__(self) -> "_Step":
        self.start = time.perf_counter()
        if not self.progress.quiet:
            self.timer = threading.Timer(self.progress.delay, self._announce)
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.timer is None:
            return
        self.timer.cancel()
        with self.progress.lock:
            self.timer = None
            if self.shown and exc_type is None:
                sys.stderr.write(f" {time.perf_counter() - self.start:.1f} s\n")
                sys.stderr.flush()
                self.progress.open = False
        if exc_type is not None:
            self.progress.newline()


# --------------------------------------------------------------------------------------------- checks


def _k(value: int) -> int:
    if not 1 <= value <= MAX_COLORS:
        raise CLIError(f"-k {value}: the number of colours must be between 1 and {MAX_COLORS}")
    return value


def _same_path(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_output(path: str, *, force: bool, inputs: Sequence[str] = (), image: bool = False,
                  figure: bool = False, seen: Optional[set[str]] = None) -> None:
    """Everything about an output path that can be known before any work is done."""
    from pixclust import _io

    for src in inputs:
        if _same_path(path, src):
            raise CLIError(f"{path}: the output is the input file; choose another output name")
    if seen is not None:
        key = os.path.abspath(path)
        if key in seen:
            raise CLIError(f"{path}: the same file is given for two outputs")
        seen.add(key)
    if image:
        try:
            _io.check_writable_image_path(path)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    if figure:
        ext = Path(path).suffix.lower()
        if ext not in (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".eps", ".ps"):
            raise CLIError(f"{path}: cannot save a figure as {ext or 'a file without an extension'!r}; use .png, .pdf or .svg")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory")
    if os.path.lexists(path) and not force:
        raise CLIError(f"{path}: already exists (use --force to replace it)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"{path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: the directory {parent} is not writable")


def _read_image(path: str, progress: _Progress) -> np.ndarray:
    from pixclust import _io

    try:
        with progress.step(f"reading {path}"):
            return _io.read_image(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: is a directory, not an image") from None
    except PermissionError:
        raise CLIError(f"{path}: permission denied") from None
    except _io.ImageReadError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _describe(img: np.ndarray) -> str:
    c = 1 if img.ndim == 2 else img.shape[2]
    kind = {1: "grayscale", 2: "grayscale+alpha", 3: "RGB", 4: "RGBA"}[c]
    bits = f"{8 * img.dtype.itemsize}-bit" + (" float" if img.dtype.kind == "f" else "")
    return f"{img.shape[1]} x {img.shape[0]}, {kind}, {bits}"


def _check_dither(img: np.ndarray, args: argparse.Namespace) -> None:
    if args.dither and img.dtype.kind == "f":
        raise CLIError(f"--dither needs an 8- or 16-bit image; {args.input} is a float image")


def _quantize(img: np.ndarray, ks: list[int], args: argparse.Namespace, progress: _Progress) -> list[Any]:
    import pixclust

    if args.space == "lab" and (1 if img.ndim == 2 else img.shape[2]) not in (3, 4):
        raise CLIError("--space lab needs a colour image; this one is grayscale")
    mp = img.shape[0] * img.shape[1] / 1e6
    what = ", ".join(str(k) for k in ks)
    with progress.step(f"k-means on {mp:.1f} MP in {args.space.upper()}, {what} colour{'s' if ks != [1] else ''}"):
        try:
            res = pixclust.quantize(img, ks, space=args.space, random_state=args.seed, n_threads=args.threads)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    assert isinstance(res, list)
    return res


def _palette_lines(res: Any) -> list[str]:
    from pixclust.plot import _hex

    share = res.counts / max(int(res.counts.sum()), 1)
    order = np.argsort(-res.counts, kind="stable")
    dtype = res.palette.dtype
    lines = []
    for j in order:
        if dtype.kind == "f":
            values = " ".join(f"{float(v):.4f}" for v in res.palette[j])
        else:
            values = " ".join(f"{int(v):{5 if dtype == np.uint16 else 3}d}" for v in res.palette[j])
        lines.append(f"  {_hex(res.palette[j], res.palette.dtype)}  ({values})  {100 * share[j]:5.1f}%")
    return lines


def _save_figure(fig: Any, path: str, force: bool) -> None:
    from pixclust import _io

    _io.save_figure(fig, path, force=force, dpi=110)


# ------------------------------------------------------------------------------------------- commands


def _cmd_quantize(args: argparse.Namespace, out: Any, progress: _Progress) -> int:
    import pixclust
    from pixclust import _io

    k = _k(args.k)
    dest = args.output or f"{Path(args.input).stem}-k{k}{'-dither' if args.dither else ''}.png"
    _check_output(dest, force=args.force, inputs=[args.input], image=True)
    img = _read_image(args.input, progress)
    _check_dither(img, args)
    (res,) = _quantize(img, [k], args, progress)
    image, labels = res.image, res.labels
    if args.dither:
        with progress.step("dithering"):
            image, labels = pixclust.dither(img, res.palette, return_labels=True)
    with progress.step(f"writing {dest}"):
        _io.write_image(dest, image, labels=labels, palette=res.palette, force=args.force)
    print(f"{args.input}: {_describe(img)}; {k} colours ({args.space}, seed {args.seed})", file=out)
    print("palette (share of pixels):", file=out)
    print("\n".join(_palette_lines(res)), file=out)
    print(f"inertia: {res.inertia:.6g}" + (" (in CIELAB units)" if args.space == "lab" else ""), file=out)
    note = ", dithered" if args.dither else ""
    if Path(dest).suffix.lower() in (".jpg", ".jpeg", ".webp"):
        note += "; lossy format: use .png for exactly these colours"
    elif img.dtype.kind == "f" and Path(dest).suffix.lower() not in (".tif", ".tiff"):
        note += "; float values rounded to integers: use .tif for exactly these values"
    print(f"wrote {dest}{note}", file=out)
    return 0


def _cmd_compare(args: argparse.Namespace, out: Any, progress: _Progress) -> int:
    from pixclust import plot

    ks = [_k(k) for k in args.k]
    _check_output(args.output, force=args.force, inputs=[args.input], figure=True)
    img = _read_image(args.input, progress)
    _check_dither(img, args)
    results = _quantize(img, ks, args, progress)
    with progress.step(f"drawing {args.output}"):
        fig = plot.compare(img, ks, results=results, dither=args.dither)
        _save_figure(fig, args.output, args.force)
    print(f"{args.input}: {_describe(img)}", file=out)
    for r in results:
        print(f"  {r.n_colors:3d} colours: inertia {r.inertia:.6g}", file=out)
    print(f"wrote {args.output} (original + {len(ks)} panels)", file=out)
    return 0


def _cmd_palette(args: argparse.Namespace, out: Any, progress: _Progress) -> int:
    from pixclust import plot

    k = _k(args.k)
    _check_output(args.output, force=args.force, inputs=[args.input], figure=True)
    img = _read_image(args.input, progress)
    (res,) = _quantize(img, [k], args, progress)
    with progress.step(f"drawing {args.output}"):
        fig = plot.palette(res, title=f"{Path(args.input).name}: {k} colour{'s' if k != 1 else ''} ({args.space})")
        _save_figure(fig, args.output, args.force)
    print("palette (share of pixels):", file=out)
    print("\n".join(_palette_lines(res)), file=out)
    print(f"wrote {args.output}", file=out)
    return 0


def _read_data(path: str) -> tuple[np.ndarray, bool]:
    """Points (n, d) or a condensed distance vector; returns (array, is_condensed)."""
    from scipy.spatial.distance import is_valid_y  # type: ignore[import-untyped]

    ext = Path(path).suffix.lower()
    try:
        if ext == ".npy":
            try:
                a = np.load(path, allow_pickle=False)
            except ValueError as exc:
                raise CLIError(f"{path}: not a numeric .npy array ({exc})") from None
        else:
            delimiter = "," if ext == ".csv" else ("\t" if ext in (".tsv", ".tab") else None)
            with open(path, encoding="utf-8") as fh:
                lines = [ln for ln in fh.read().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            if not lines:
                raise CLIError(f"{path}: no data")
            rows = [[f.strip() for f in (ln.split(delimiter) if delimiter else ln.split())] for ln in lines]

            def numeric(row: list[str]) -> bool:
                try:
                    [float(f) for f in row]
                    return True
                except ValueError:
                    return False

            if not numeric(rows[0]):
                rows = rows[1:]  # a header line
            try:
                values = [[float(f) for f in row] for row in rows]
            except ValueError:
                raise CLIError(f"{path}: expected numbers separated by {repr(delimiter) if delimiter else 'spaces'}") from None
            if not values:
                raise CLIError(f"{path}: no rows of numbers")
            if len({len(r) for r in values}) != 1:
                raise CLIError(f"{path}: rows must all have the same number of values")
            a = np.asarray(values, dtype=np.float64)
            if a.shape[0] == 1 and a.shape[1] > 1:
                a = a[0]  # one row: a condensed distance vector
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: is a directory") from None
    except PermissionError:
        raise CLIError(f"{path}: permission denied") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (use CSV, TSV or .npy)") from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if a.dtype.kind not in "biuf":
        raise CLIError(f"{path}: expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise CLIError(f"{path}: contains NaN or infinite values")
    if a.ndim == 1:
        if not is_valid_y(a):
            raise CLIError(f"{path}: one row of {a.size} values is neither points (one per row, at least 2 points) "
                           "nor a condensed distance vector (length n(n-1)/2)")
        if np.any(a < 0):
            raise CLIError(f"{path}: distances must be >= 0")
        return a, True
    if a.ndim != 2:
        raise CLIError(f"{path}: expected a 2-D array of points or a 1-D condensed distance vector, got {a.ndim}-D")
    if a.shape[0] < 2:
        raise CLIError(f"{path}: need at least 2 points, got {a.shape[0]}")
    return a, False


def _linkage_function() -> Any:
    """pixclust.linkage when this build has it, else SciPy's (same signature and result)."""
    import pixclust

    fn = getattr(pixclust, "linkage", None)
    if fn is None:
        from scipy.cluster import hierarchy  # type: ignore[import-untyped]

        fn = hierarchy.linkage
    return fn


def _cmd_dendrogram(args: argparse.Namespace, out: Any, progress: _Progress) -> int:
    from scipy.cluster.hierarchy import fcluster  # type: ignore[import-untyped]

    from pixclust import _io, plot

    if (args.scatter or args.labels) and args.cut is None:
        raise CLIError("--scatter and --labels need --cut (where to cut the tree into flat clusters)")
    if args.criterion == "maxclust" and args.cut is not None and (args.cut < 1 or args.cut != int(args.cut)):
        raise CLIError(f"--cut {args.cut:g}: with --criterion maxclust it is a number of clusters (an integer >= 1)")
    if args.criterion == "distance" and args.cut is not None and args.cut < 0:
        raise CLIError(f"--cut {args.cut:g}: a distance must be >= 0")
    seen: set[str] = set()
    _check_output(args.output, force=args.force, inputs=[args.data], figure=True, seen=seen)
    if args.scatter:
        _check_output(args.scatter, force=args.force, inputs=[args.data], figure=True, seen=seen)
    if args.labels:
        _check_output(args.labels, force=args.force, inputs=[args.data], seen=seen)
    data, condensed = _read_data(args.data)
    if condensed and args.metric is not None:
        raise CLIError(f"--metric: {args.data} already holds distances (a condensed vector); --metric applies to points")
    if args.scatter and (condensed or data.shape[1] != 2):
        shape = "distances" if condensed else f"{data.shape[1]}-D points"
        raise CLIError(f"--scatter needs 2-D points; {args.data} holds {shape}")
    n = int(round((1 + np.sqrt(1 + 8 * data.size)) / 2)) if condensed else data.shape[0]
    metric = args.metric or "euclidean"
    linkage = _linkage_function()
    with progress.step(f"{args.method} linkage of {n} points"):
        try:
            Z = linkage(data, method=args.method, metric=metric)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"linkage: {exc}") from None
    flat = None
    cut: Optional[float] = None
    if args.cut is not None:
        # more clusters than points is n clusters; SciPy's C int cannot hold every count argparse can
        cut = min(int(args.cut), n) if args.criterion == "maxclust" else float(args.cut)
        flat = fcluster(Z, cut, criterion=args.criterion)
    with progress.step(f"drawing {args.output}"):
        title = f"{args.method} linkage, {n} points" + ("" if condensed else f" ({metric})")
        fig = plot.dendrogram(Z, cut, criterion=args.criterion, title=title)
        _save_figure(fig, args.output, args.force)
    if args.scatter and flat is not None:
        with progress.step(f"drawing {args.scatter}"):
            k = int(flat.max())
            fig = plot.scatter(data, flat, title=f"{k} flat cluster{'s' if k != 1 else ''} ({args.method} linkage)")
            _save_figure(fig, args.scatter, args.force)
    if args.labels and flat is not None:
        with _io.atomic_output(args.labels, force=args.force) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write("point,cluster\n")
                fh.writelines(f"{i},{c}\n" for i, c in enumerate(flat.tolist()))
    print(f"{args.data}: {n} points" + ("" if condensed else f" in {data.shape[1]}-D") + f"; {args.method} linkage", file=out)
    if flat is not None:
        sizes = np.bincount(flat)[1:]
        what = f"distance {args.cut:g}" if args.criterion == "distance" else f"maxclust {args.cut:g}"
        print(f"cut at {what}: {len(sizes)} clusters of sizes {', '.join(str(s) for s in sizes)}", file=out)
    for path in (args.output, args.scatter, args.labels):
        if path:
            print(f"wrote {path}", file=out)
    return 0


def _demo_photo(name: str = "chelsea.png") -> Iterator[str]:
    with as_file(files("pixclust") / "data" / name) as p:
        yield str(p)


def _cmd_demo(args: argparse.Namespace, out: Any, progress: _Progress) -> int:
    import pixclust
    from pixclust import _io, plot
    from scipy.cluster.hierarchy import fcluster

    d = args.output
    if os.path.exists(d) and not os.path.isdir(d):
        raise CLIError(f"{d}: exists and is not a directory")
    if not os.path.isdir(d):
        # The directory and any missing parents are created: find the nearest one that exists.
        ancestor = os.path.dirname(os.path.abspath(d))
        while not os.path.exists(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.path.isdir(ancestor):
            raise CLIError(f"{d}: cannot create it, {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise CLIError(f"{d}: cannot create it, {ancestor} is not writable")
    names = {
        "quantized": "chelsea-k8.png",
        "dithered": "chelsea-k8-dither.png",
        "compare": "chelsea-compare.png",
        "palette": "chelsea-palette.png",
        "lab": "rocket-rgb-vs-lab.png",
        "dendrogram": "points-dendrogram.png",
        "scatter": "points-scatter.png",
        "labels": "points-labels.csv",
    }
    paths = {key: os.path.join(d, name) for key, name in names.items()}
    if os.path.isdir(d):
        if not os.access(d, os.W_OK | os.X_OK):
            raise CLIError(f"{d}: the directory is not writable")
        for p in paths.values():
            if os.path.lexists(p) and not args.force:
                raise CLIError(f"{p}: already exists (use --force to replace it)")
    os.makedirs(d, exist_ok=True)

    written: list[tuple[str, str]] = []
    for src in _demo_photo():
        img = _read_image(src, progress)
    seed = args.seed
    ks = [10, 8, 6, 4, 2]
    with progress.step(f"k-means on the photo ({img.shape[1]} x {img.shape[0]}), {', '.join(map(str, ks))} colours"):
        results = pixclust.quantize(img, ks, random_state=seed, n_threads=args.threads)
    assert isinstance(results, list)
    r8 = results[1]
    with progress.step("writing the 8-colour image, dithered and not"):
        _io.write_image(paths["quantized"], r8.image, labels=r8.labels, palette=r8.palette, force=True)
        written.append((paths["quantized"], f"the photo in 8 colours (paletted PNG, inertia {r8.inertia:.4g})"))
        dith, dlab = pixclust.dither(img, r8.palette, return_labels=True)
        _io.write_image(paths["dithered"], dith, labels=dlab, palette=r8.palette, force=True)
        written.append((paths["dithered"], "the same 8 colours, serpentine Floyd-Steinberg dithering"))
    with progress.step("drawing the comparison and the palette"):
        _save_figure(plot.compare(img, ks, results=results), paths["compare"], True)
        written.append((paths["compare"], "original + 10, 8, 6, 4, 2 colours, with palette strips"))
        _save_figure(plot.palette(r8, title="chelsea.png: 8 colours by share of pixels"), paths["palette"], True)
        written.append((paths["palette"], "the 8 colours, ordered by share"))
    k_lab = 6
    for src in _demo_photo("rocket.jpg"):
        rocket = _read_image(src, progress)
    with progress.step(f"k-means of the rocket photo in RGB and in CIELAB, {k_lab} colours"):
        pair = []
        for space in ("rgb", "lab"):
            res = pixclust.quantize(rocket, [k_lab], space=space, random_state=seed, n_threads=args.threads)
            assert isinstance(res, list)
            pair.append(res[0])
        reference = pixclust.to_lab(rocket)
        # Mean CIE76 colour difference between each pixel and its palette colour: how far off it looks.
        delta = [float(np.sqrt(((pixclust.to_lab(r.image) - reference) ** 2).sum(axis=-1)).mean()) for r in pair]
        fig = plot.compare(rocket, [k_lab, k_lab], results=pair, titles=[
            f"RGB k-means: mean \u0394E {delta[0]:.1f}", f"CIELAB k-means: mean \u0394E {delta[1]:.1f}"])
        _save_figure(fig, paths["lab"], True)
        written.append((paths["lab"], f"rocket.jpg in {k_lab} colours, clustered in RGB and in CIELAB"))
    X = np.asarray(TUTORIAL_POINTS, dtype=np.float64)
    linkage = _linkage_function()
    with progress.step("single linkage of the tutorial's ten points, cut at distance 3"):
        Z = linkage(X, method="single", metric="euclidean")
        flat = fcluster(Z, 3, criterion="distance")
        _save_figure(plot.dendrogram(Z, 3, title="single linkage of the tutorial's 10 points"), paths["dendrogram"], True)
        k = int(flat.max())
        _save_figure(plot.scatter(X, flat, title=f"cut at distance 3: {k} clusters"), paths["scatter"], True)
        with _io.atomic_output(paths["labels"], force=True) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write("point,x,y,cluster\n")
                fh.writelines(f"{i},{x:g},{y:g},{c}\n" for i, ((x, y), c) in enumerate(zip(X, flat.tolist())))
    written.append((paths["dendrogram"], f"the dendrogram, cut at distance 3 ({k} clusters, coloured)"))
    written.append((paths["scatter"], "the ten points coloured by flat cluster"))
    written.append((paths["labels"], "the flat cluster of each point"))
    width = max(len(p) for p, _ in written)
    print(f"pixclust demo: wrote {len(written)} files into {d}", file=out)
    for p, what in written:
        print(f"  {p:<{width}}  {what}", file=out)
    return 0


# --------------------------------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    return v


def _threads(text: str) -> int:
    from pixclust._fit import _MAX_THREADS

    v = _positive_int(text)
    if not 1 <= v <= _MAX_THREADS:
        raise argparse.ArgumentTypeError(f"expected a thread count from 1 to {_MAX_THREADS}, got {v}")
    return v


def _finite(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _seed(text: str) -> int:
    from pixclust._fit import _MAX_SEED

    v = _positive_int(text)
    if not 0 <= v <= _MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {_MAX_SEED}, got {v}")
    return v


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pixclust", description="Fast, exact clustering for images and hierarchies.")
    from pixclust import __version__

    parser.add_argument("--version", action="version", version=f"pixclust {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("config", help="print the build configuration (version, compiler, OpenMP)")

    def common(p: argparse.ArgumentParser, *, image: bool = True) -> None:
        if image:
            p.add_argument("--seed", type=_seed, default=0, help="random seed for k-means++ (default 0)")
            p.add_argument("--space", choices=["rgb", "lab"], default="rgb",
                           help="cluster in RGB or in CIELAB (perceptual; RGB images only)")
            p.add_argument("--threads", type=_threads, default=None, help="threads (default: all)")
        p.add_argument("--force", action="store_true", help="replace existing output files")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")

    q = sub.add_parser("quantize", help="reduce an image to k colours",
                       description="Reduce an image to k colours (exact k-means) and write it; prints the palette.")
    q.add_argument("input", help="an image file (JPEG, PNG, TIFF, ...)")
    q.add_argument("-k", type=_positive_int, required=True, help=f"number of colours (1-{MAX_COLORS})")
    q.add_argument("-o", "--output", help="output image (default: INPUT-kK.png here); .png gives a paletted PNG")
    q.add_argument("--dither", action="store_true", help="serpentine Floyd-Steinberg dithering onto the palette")
    common(q)

    c = sub.add_parser("compare", help="the original beside several colour counts",
                       description="The original image beside one panel per colour count, each with its palette strip.")
    c.add_argument("input")
    c.add_argument("-k", type=_positive_int, nargs="+", default=[10, 8, 6, 4, 2], help="colour counts (default 10 8 6 4 2)")
    c.add_argument("-o", "--output", required=True, help="the figure (.png, .pdf, .svg)")
    c.add_argument("--dither", action="store_true", help="dither each panel onto its palette")
    common(c)

    p = sub.add_parser("palette", help="palette swatches ordered by share",
                       description="Palette swatches of an image in k colours, ordered by share of pixels.")
    p.add_argument("input")
    p.add_argument("-k", type=_positive_int, required=True)
    p.add_argument("-o", "--output", required=True)
    common(p)

    d = sub.add_parser("dendrogram", help="hierarchical clustering of points: dendrogram, cut, scatter, labels",
                       description="Hierarchical clustering of points from CSV/TSV/.npy (one point per row), or of a "
                                   "condensed distance vector (one row, or a 1-D .npy).")
    d.add_argument("data", help="CSV, TSV or .npy")
    d.add_argument("-o", "--output", required=True, help="the dendrogram figure")
    d.add_argument("--method", default="ward",
                   choices=["single", "complete", "average", "weighted", "centroid", "median", "ward"],
                   help="linkage method (default ward)")
    d.add_argument("--metric", default=None, help="distance between points (default euclidean; SciPy's names)")
    d.add_argument("--cut", type=_finite, default=None, help="cut height (distance) or number of clusters (maxclust)")
    d.add_argument("--criterion", choices=["distance", "maxclust"], default="distance")
    d.add_argument("--scatter", help="also draw the 2-D points coloured by flat cluster")
    d.add_argument("--labels", help="also write the flat cluster of each point (CSV)")
    common(d, image=False)

    m = sub.add_parser("demo", help="every picture, on the bundled photo and the tutorial's points",
                       description="Quantize the bundled photo (Chelsea the cat) and cluster the tutorial's ten points; "
                                   "writes every picture into a directory.")
    m.add_argument("-o", "--output", default="pixclust-demo", help="directory (default ./pixclust-demo)")
    m.add_argument("--seed", type=_seed, default=0)
    m.add_argument("--threads", type=_threads, default=None)
    m.add_argument("--force", action="store_true", help="replace files from an earlier run")
    m.add_argument("-q", "--quiet", action="store_true")
    return parser


_COMMANDS = {
    "quantize": _cmd_quantize,
    "compare": _cmd_compare,
    "palette": _cmd_palette,
    "dendrogram": _cmd_dendrogram,
    "demo": _cmd_demo,
}


def run(argv: list[str]) -> int:
    """Run the command line on ``argv``; returns the exit code (2 for bad input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "config":
        show_config()
        return 0
    progress = _Progress(getattr(args, "quiet", False))
    prog = f"pixclust {args.command}"
    try:
        return _COMMANDS[args.command](args, sys.stdout, progress)
    except CLIError as exc:
        progress.newline()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        progress.newline()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A write failed after the checks (another writer, permissions, a full disk, a special
        # filesystem): the temporary file is gone and the target untouched.
        progress.newline()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"{prog}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.newline()
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
