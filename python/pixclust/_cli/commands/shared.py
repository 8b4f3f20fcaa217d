"""``pixclust quantize --shared-palette``: several images (files, directories, globs, the frames of an
animated GIF or APNG) quantized with one palette on Dask, written into a directory."""

from __future__ import annotations

import argparse
import contextlib
import os
import warnings
from typing import Any, Iterator

import numpy as np

from pixclust._cli.errors import CLIError
from pixclust._cli.frames import Source, destination, expand_inputs, probe, read_frame, read_still, write_animation
from pixclust._cli.images import DITHERED_PNG_LEVEL, check_k, dither_strength
from pixclust._cli.outputs import check_output_directory
from pixclust._cli.palettes import table_lines
from pixclust._cli.progress import Progress


def run(args: argparse.Namespace, out: Any, progress: Progress) -> int:
    from pixclust import _io

    k = _check_args(args)
    sources = [probe(p) for p in expand_inputs(args.input)]
    dests = _destinations(sources, args)
    import pixclust.dask  # ImportError: one line naming the extra

    with _scheduler(args.scheduler):
        res = _fit(sources, k, args, progress)
        parts = _split(res, sources)
        os.makedirs(args.output, exist_ok=True)  # after the fit: a failed run creates nothing
        for source, dest, (images, labels) in zip(sources, dests, parts):
            with progress.step(f"writing {dest}"):
                frames, frame_labels = _compute(images, labels)
                if source.animated:
                    write_animation(dest, source, frames, frame_labels, res.palette, args.force)
                else:
                    meta = None if args.strip else _io.read_metadata(source.path)  # kept as quantize keeps it
                    _io.write_image(dest, frames[0], labels=frame_labels[0], palette=res.palette, force=args.force,
                                    metadata=meta, png_level=DITHERED_PNG_LEVEL if args.dither else None)
    _report(args, sources, dests, res, out)
    return 0


def _check_args(args: argparse.Namespace) -> int:
    for flag, given in (("--palette", args.palette), ("--format", args.format), ("--json", args.json),
                        ("--lossless", args.lossless is not None)):
        if given:
            raise CLIError(f"{flag} is not supported with --shared-palette")
    if args.k is None:
        raise CLIError("--shared-palette: give -k (the number of colours)")
    if not args.output or args.output == "-":
        raise CLIError("--shared-palette: give -o DIRECTORY, where the quantized images are written")
    if args.alpha == "weight":
        raise CLIError("--alpha weight is not supported with --shared-palette (use exclude or keep)")
    return check_k(args.k)


def _destinations(sources: list[Source], args: argparse.Namespace) -> list[str]:
    dests = [destination(s, args.output, args.k) for s in sources]
    seen: dict[str, str] = {}
    for s, d in zip(sources, dests):
        if d in seen:
            raise CLIError(f"{s.path} and {seen[d]} would both be written to {d}; rename one")
        seen[d] = s.path
        if any(os.path.lexists(d) and os.path.samefile(d, t.path) for t in sources):
            raise CLIError(f"{d}: the output is an input file; choose another -o")
    check_output_directory(args.output, dests, force=args.force)
    return dests


@contextlib.contextmanager
def _scheduler(address: Any) -> Iterator[None]:
    """Dask's local scheduler, or a client of the scheduler at ``address`` for the block's computations."""
    if address is None:
        yield
        return
    import dask
    from distributed import Client

    try:
        client = Client(address, timeout="10s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise CLIError(f"--scheduler {address}: cannot reach the Dask scheduler ({exc})") from None
    with client, dask.config.set(scheduler=client), warnings.catch_warnings():
        # the painters' lookup table of the merged colours is in the graph once; the size is expected
        warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
        yield


def _blocks(source: Source) -> list[Any]:
    from dask.delayed import delayed

    if source.animated:
        return [delayed(read_frame, pure=True)(source.path, i) for i in range(source.n_frames)]
    return [delayed(read_still, pure=True)(source.path)]


def _fit(sources: list[Source], k: int, args: argparse.Namespace, progress: Progress) -> Any:
    import pixclust.dask

    blocks = [b for s in sources for b in _blocks(s)]
    strength = dither_strength(args)
    message = f"one palette of {k} colours for {len(sources)} inputs ({len(blocks)} images) on Dask"
    with progress.step(message):
        try:
            return pixclust.dask.quantize(blocks, k, space=args.space, init=args.init, random_state=args.seed,
                                          n_init=args.n_init,
                                          max_iter=args.max_iter, tol=args.tol, alpha=args.alpha,
                                          dither=False if strength is None else strength, n_threads=args.threads)
        except (ValueError, TypeError) as exc:  # a task's error: an unreadable or unusable image
            raise CLIError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _split(res: Any, sources: list[Source]) -> list[tuple[list[Any], list[Any]]]:
    """The lazy images and labels of each source (its frames)."""
    parts, start = [], 0
    for s in sources:
        parts.append((res.images[start:start + s.n_frames], res.labels[start:start + s.n_frames]))
        start += s.n_frames
    return parts


def _compute(images: list[Any], labels: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    from dask.base import compute

    try:
        got_images, got_labels = compute(images, labels)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    return np.stack(got_images), np.stack(got_labels)


def _report(args: argparse.Namespace, sources: list[Source], dests: list[str], res: Any, out: Any) -> None:
    frames = sum(s.n_frames for s in sources)
    print(f"{len(sources)} inputs, {frames} images: one palette of {args.k} colours ({args.space}, seed {args.seed})",
          file=out)
    print("palette (share of pixels, all images):", file=out)
    print("\n".join(table_lines(res)), file=out)
    print(f"inertia: {res.inertia:.6g}", file=out)
    for d in dests:
        print(f"wrote {d}", file=out)
