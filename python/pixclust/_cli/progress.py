"""Progress on stderr for the steps that take a while: a bar with a percentage on a terminal (with
tqdm), step lines otherwise; silent with --quiet."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

# Seconds a step runs before it shows; the tests set 0 to see the bar on a quick run.
DELAY_ENV = "PIXCLUST_PROGRESS_DELAY"
# A kernel's bar counts its work in thousandths.
_SHARES = 1000
# A bar of shares shows the percentage and the times, not "n/1000".
_PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


class Progress:
    """Progress on stderr for the steps that take a while; silent with --quiet.

    A step announces itself only once it has run for ``delay`` seconds (from a timer thread), and then
    reports its time when it ends: quick runs stay quiet, and a bad-input error is the only line on
    stderr. Work counted in units (the colour counts of ``compare``, the pictures of ``demo``) is a
    :class:`Bar`: on a terminal with tqdm installed it shows a bar with a percentage after the same
    delay, the steps inside it naming themselves on the bar; elsewhere the steps print as above. A
    linkage kernel reports the share of its work itself (:meth:`kernel`).
    """

    def __init__(self, quiet: bool, delay: Optional[float] = None) -> None:
        self.quiet = quiet
        self.delay = float(os.environ.get(DELAY_ENV, "1.0")) if delay is None else delay
        self.lock = threading.Lock()
        self.open = False  # a "step ..." line is waiting for its end
        self.bar_: Optional[Bar] = None  # the bar that the steps now name themselves on

    def step(self, message: str) -> "Step":
        return Step(self, message)

    def bar(self, message: str, total: int, percent: bool = False) -> "Bar":
        """Count ``total`` units of work (``tick`` after each one); a bar inside a bar is the outer one.
        With ``percent``, the bar shows the percentage alone, not the count."""
        return Bar(self, message, total, percent)

    @contextlib.contextmanager
    def kernel(self, message: str) -> Iterator[None]:
        """A step whose linkage kernel reports the share of its work done: a percentage bar on a
        terminal (fed by the core's progress hook), the step's line elsewhere."""
        with self.bar(message, _SHARES, percent=True) as bar:
            if not bar.active():
                with self.step(message):
                    yield
                return
            from pixclust import _core

            _core.set_progress_hook(lambda share: bar.reach(round(share * _SHARES), restart=True))
            try:
                yield
            finally:
                _core.set_progress_hook(None)
            bar.reach(_SHARES)

    def newline(self) -> None:
        with self.lock:
            if self.open:
                sys.stderr.write("\n")
                sys.stderr.flush()
                self.open = False


class Step:
    """One step of a command, used as a context manager (see :class:`Progress`)."""

    def __init__(self, progress: Progress, message: str) -> None:
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

    def __enter__(self) -> "Step":
        self.start = time.perf_counter()
        if self.progress.bar_ is not None:
            self.progress.bar_.describe(self.message)
        elif not self.progress.quiet:
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


def _tqdm() -> Any:
    """tqdm's class, or None where it is not installed (it comes with the ``all`` extra)."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return tqdm


def _screen() -> dict[str, int]:
    """Nothing (tqdm measures the terminal) unless the terminal says it is 0 x 0 (a bare
    pseudo-terminal), where tqdm would draw nothing at all: then 80 x 24."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    return {} if size.columns > 0 and size.lines > 0 else {"ncols": 80, "nrows": 24}


class Bar:
    """Units of work shown as a bar on stderr (see :class:`Progress`), used as a context manager.

    Only on a terminal, with tqdm, and not with --quiet; otherwise ``tick`` does nothing and the steps
    inside print their lines as they always have (a pipe or a log file gets no bar).
    """

    def __init__(self, progress: Progress, message: str, total: int, percent: bool = False) -> None:
        self.progress = progress
        self.message = message
        self.total = total
        self.percent = percent
        self.done = 0
        self.what = ""  # the step now running, shown after the bar
        self.bar: Any = None  # the tqdm bar, once shown
        self.timer: Optional[threading.Timer] = None
        self.tqdm: Any = None

    def _show(self) -> None:
        with self.progress.lock:
            if self.timer is None:  # already finished
                return
            shape = {"bar_format": _PERCENT_FORMAT} if self.percent else {}
            self.bar = self.tqdm(total=self.total, initial=self.done, desc=self.message, file=sys.stderr,
                                 unit="", postfix=self.what or None, **shape, **_screen())

    def __enter__(self) -> "Bar":
        outer = self.progress.bar_ is not None
        if outer or self.progress.quiet or not sys.stderr.isatty():
            return self
        self.tqdm = _tqdm()
        if self.tqdm is None:
            return self
        self.progress.bar_ = self
        self.timer = threading.Timer(self.progress.delay, self._show)
        self.timer.daemon = True
        self.timer.start()
        return self

    def describe(self, what: str) -> None:
        with self.progress.lock:
            self.what = what
            if self.bar is not None:
                self.bar.set_postfix_str(what)

    def tick(self) -> None:
        self.reach(self.done + 1)

    def reach(self, done: int, restart: bool = False) -> None:
        """``done`` units of the total are done: never fewer than before, unless the work ``restart``-ed
        (the bar then starts over, its times too)."""
        with self.progress.lock:
            step = min(done, self.total) - self.done
            if step < 0 and restart:
                self.done, step = 0, min(done, self.total)
                if self.bar is not None:
                    self.bar.reset(total=self.total)
            if step <= 0:
                return
            self.done += step
            if self.bar is not None:
                self.bar.update(step)

    def active(self) -> bool:
        """Whether this bar shows (or will, after the delay): on a terminal, with tqdm, not quiet."""
        return self.timer is not None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.timer is None:
            return
        self.timer.cancel()
        self.progress.bar_ = None
        with self.progress.lock:
            self.timer = None
            if self.bar is not None:
                self.bar.close()
