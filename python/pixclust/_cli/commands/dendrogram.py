"""``pixclust dendrogram``: hierarchical clustering of points, drawn as a dendrogram, optionally cut
into flat clusters (a scatter of them and a CSV of each point's cluster)."""

from __future__ import annotations

import argparse
from typing import Any, Optional

import numpy as np

from pixclust._cli.errors import CLIError
from pixclust._cli.outputs import FIGURE_EXTENSIONS, check_output, pipe_format, report_stream, save_figure, write_csv
from pixclust._cli.points import read_points
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    fmt = _check_args(args)
    data, condensed, names = read_points(args.data)
    _check_data(args, data, condensed)
    n = int(round((1 + np.sqrt(1 + 8 * data.size)) / 2)) if condensed else data.shape[0]
    metric = args.metric or "euclidean"
    Z = _linkage(args, data, metric, n, progress)
    cut, flat = _cut(args, Z, n)
    _draw(args, data, Z, cut, flat, condensed, (metric, fmt, names), n, progress)
    if args.labels and flat is not None:
        write_csv(args.labels, "point,cluster", (f"{i},{c}" for i, c in enumerate(flat.tolist())), force=args.force)
    _report(args, data, flat, condensed, n, report_stream(args.output, out))
    return 0


def _check_args(args: argparse.Namespace) -> Optional[str]:
    """The options, and every output path, before the data is read; returns -o -'s format (or None)."""
    if "-" in (args.scatter, args.labels):
        raise CLIError("standard output (-) takes the dendrogram only (-o - --format FMT); write --scatter "
                       "and --labels to files")
    if (args.scatter or args.labels) and args.cut is None:
        raise CLIError("--scatter and --labels need --cut (where to cut the tree into flat clusters)")
    if args.criterion == "maxclust" and args.cut is not None and (args.cut < 1 or args.cut != int(args.cut)):
        raise CLIError(f"--cut {args.cut:g}: with --criterion maxclust it is a number of clusters (an integer >= 1)")
    if args.criterion == "distance" and args.cut is not None and args.cut < 0:
        raise CLIError(f"--cut {args.cut:g}: a distance must be >= 0")
    seen: set[str] = set()
    fmt = pipe_format(args, FIGURE_EXTENSIONS)
    if fmt is None:
        check_output(args.output, force=args.force, inputs=[args.data], figure=True, seen=seen)
    if args.scatter:
        check_output(args.scatter, force=args.force, inputs=[args.data], figure=True, seen=seen)
    if args.labels:
        check_output(args.labels, force=args.force, inputs=[args.data], seen=seen)
    return fmt


def _check_data(args: argparse.Namespace, data: np.ndarray, condensed: bool) -> None:
    if condensed and args.metric is not None:
        raise CLIError(f"--metric: {args.data} already holds distances (a condensed vector); --metric applies to points")
    if args.scatter and (condensed or data.shape[1] != 2):
        shape = "distances" if condensed else f"{data.shape[1]}-D points"
        raise CLIError(f"--scatter needs 2-D points; {args.data} holds {shape}")


def _linkage(args: argparse.Namespace, data: np.ndarray, metric: str, n: int, progress: Progress) -> np.ndarray:
    import pixclust

    with progress.kernel(f"{args.method} linkage of {n} points"):
        try:
            return pixclust.linkage(data, method=args.method, metric=metric)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"linkage: {exc}") from None


def _cut(args: argparse.Namespace, Z: np.ndarray, n: int) -> tuple[Optional[float], Optional[np.ndarray]]:
    """The cut as fcluster takes it, and the flat clusters (None without --cut)."""
    from scipy.cluster.hierarchy import fcluster  # type: ignore[import-untyped]

    if args.cut is None:
        return None, None
    # more clusters than points is n clusters; SciPy's C int cannot hold every count argparse can
    cut = min(int(args.cut), n) if args.criterion == "maxclust" else float(args.cut)
    return cut, fcluster(Z, cut, criterion=args.criterion)


def _draw(args: argparse.Namespace, data: np.ndarray, Z: np.ndarray, cut: Optional[float],
          flat: Optional[np.ndarray], condensed: bool, how: tuple[str, Optional[str], Optional[list[str]]], n: int,
          progress: Progress) -> None:
    """The dendrogram and the scatter; ``how``: the metric, -o -'s format, the CSV header's names."""
    from pixclust import plot

    metric, fmt, names = how
    with progress.step(f"drawing {args.output}"):
        title = f"{args.method} linkage, {n} points" + ("" if condensed else f" ({metric})")
        fig = plot.dendrogram(Z, cut, criterion=args.criterion, title=title)
        save_figure(fig, args.output, args.force, fmt=fmt)
    if args.scatter and flat is not None:
        with progress.step(f"drawing {args.scatter}"):
            k = int(flat.max())
            xlabel, ylabel = names if names is not None and len(names) == 2 else (None, None)
            fig = plot.scatter(data, flat, title=f"{k} flat cluster{'s' if k != 1 else ''} ({args.method} linkage)",
                               xlabel=xlabel, ylabel=ylabel)
            save_figure(fig, args.scatter, args.force)


def _report(args: argparse.Namespace, data: np.ndarray, flat: Optional[np.ndarray], condensed: bool, n: int,
            out: Any) -> None:
    print(f"{'standard input' if args.data == '-' else args.data}: {n} points" + ("" if condensed else f" in {data.shape[1]}-D") + f"; {args.method} linkage", file=out)
    if flat is not None:
        sizes = np.bincount(flat)[1:]
        what = f"distance {args.cut:g}" if args.criterion == "distance" else f"maxclust {args.cut:g}"
        print(f"cut at {what}: {len(sizes)} clusters of sizes {', '.join(str(s) for s in sizes)}", file=out)
    for path in (args.output, args.scatter, args.labels):
        if path:
            print(f"wrote {'standard output' if path == '-' else path}", file=out)
