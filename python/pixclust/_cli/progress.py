"""Progress lines on stderr for the steps that take a while; silent with --quiet."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Optional


class Progress:
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

    def step(self, message: str) -> "Step":
        return Step(self, message)

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
