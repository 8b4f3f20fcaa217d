"""Fuzz every entry point of pixclust that reaches the C++ core; a crash must never happen.

    python fuzz/fuzz.py --budget 150        # CI: the seed corpus, then new inputs until 150 s have passed
    python fuzz/fuzz.py --inputs 1000000    # the long campaign: a million new inputs (and the corpus)
    python fuzz/fuzz.py --corpus-only       # the seed corpus alone (the regression tests)
    python fuzz/fuzz.py --replay FILE...    # saved inputs; add --in-process to run them here (gdb, pdb)
    python fuzz/fuzz.py --show FILE         # print a saved input as a Python call

Options: --workers N (default: the CPUs), --targets a,b (see fuzz/targets.py), --seed S, --timeout S
(an input running longer is a hang), --json PATH (the report, machine-readable), --save-dir DIR (where
new crashers go; default fuzz/crashers/), --no-corpus, --strict, --skip-layouts L (see below).

Every outcome of an input must be a result that passes its target's oracle or a clean exception
(ValueError, TypeError, MemoryError, OverflowError). Each worker is a process forked from a server that
has imported everything once, and writes each input to a journal file (one pwrite) before calling it;
when a worker dies (a signal, an exit, a hang past --timeout: killed), this process reads the input it
died on, saves it under --save-dir as .npz with what the worker printed (.txt), and the server forks
another. Wrong results and unclean exceptions are saved the same way. The report gives the inputs per
second, the outcomes by kind for each target, and every finding, grouped by signature (target, kind,
crash location: innermost pixclust frame or sanitizer report, and what in the input explains it), with
a command that reproduces it. Exit status 1 if anything was found, except findings of the open defects
listed in fuzz/known.py (reported, not fixed yet; --strict counts them too; --skip-layouts unaligned
stops drawing misaligned arrays while their defect is open). Seeds: fuzz/corpus/*.npz (fuzz/seeds.py
writes the hand-made ones); 30% of the batches of new inputs are mutations of them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import queue
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import known  # noqa: E402
import targets as T  # noqa: E402  (next to this file, not a package)

CORPUS = HERE / "corpus"
CRASHERS = HERE / "crashers"
# journal header: input number, start time (CLOCK_MONOTONIC, shared by all processes), state, payload size
HEADER = struct.Struct("<QdBQ")
RUNNING, DONE = 1, 2
BATCH_SECONDS = 5.0  # a generating batch ends by then, so that a budget is kept and targets rotate
MAX_SAVED = 3  # saved inputs per finding signature
MUTATE_SHARE = 0.3  # of the batches, those that mutate saved inputs
HUGE_THREADS = 10_000  # far above any machine's cores: libgomp cannot start such a team
RESTART = 75  # a worker's exit status that asks its fork server for a fresh one


# --- inputs on disk --------------------------------------------------------------------------------


def save_input(path: Path, inp: dict[str, Any], note: str = "") -> None:
    """An input as .npz: each array's base values under its argument name, the rest as JSON in 'meta'."""
    arrays: dict[str, np.ndarray] = {}
    meta_args: dict[str, Any] = {}
    for name, v in inp["args"].items():
        if isinstance(v, T.Arr):
            arrays[f"arg_{name}"] = v.base
            meta_args[name] = {"layout": v.layout}
        else:
            meta_args[name] = {"value": v}
    meta = {"target": inp["target"], "args": meta_args, "note": note}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, meta=np.array(json.dumps(meta)), **arrays)


def load_input(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        args = {}
        for name, spec in meta["args"].items():
            args[name] = T.Arr(z[f"arg_{name}"], spec["layout"]) if "layout" in spec else spec["value"]
    return {"target": meta["target"], "args": args, "note": meta.get("note", "")}


def save_path(save_dir: Path, signature: str) -> Optional[Path]:
    """Where the next input of a finding goes, or None when MAX_SAVED of its signature are there already
    (counted on disk: workers come and go, and a later campaign adds to an earlier one's)."""
    import hashlib

    parts = signature.split(" | ")
    stem = re.sub(r"[^\w.-]+", "_", f"{parts[0]}-{parts[1]}")[:60]
    tag = hashlib.sha1(signature.encode()).hexdigest()[:10]
    taken = sorted(save_dir.glob(f"{stem}-{tag}-*.npz"))
    if len(taken) >= MAX_SAVED:
        return None
    return save_dir / f"{stem}-{tag}-{len(taken) + 1}-{os.getpid()}.npz"


def show_input(inp: dict[str, Any], limit: int = 40) -> str:
    """The input as Python source (arrays written out when small enough to read)."""
    parts = []
    for name, v in inp["args"].items():
        if isinstance(v, T.Arr):
            b = v.base
            if b.size <= limit:
                text = f"np.array({np.array2string(b, separator=', ', threshold=limit + 1, floatmode='unique', max_line_width=10**6)}, dtype=np.{b.dtype.name})"
            else:
                try:
                    lo, hi = (np.nanmin(b), np.nanmax(b)) if b.size else ("-", "-")
                except (TypeError, ValueError):
                    lo = hi = "?"
                text = f"<{b.dtype.name} array of shape {b.shape}, min {lo}, max {hi}>"
            if v.layout:
                text += f"  # as seen by the call: {v.layout}"
            parts.append(f"    {name}={text},")
        else:
            parts.append(f"    {name}={v!r},")
    return f"{inp['target']}(\n" + "\n".join(parts) + "\n)"


def hints(inp: dict[str, Any]) -> list[str]:
    """What the input has that explains a finding (part of its signature, so that causes stay apart)."""
    out = []
    for name, v in inp["args"].items():
        if name == "n_threads" and isinstance(v, int) and v >= HUGE_THREADS:
            out.append(f"n_threads >= {HUGE_THREADS}")
    if inp["target"] == "kmeans":
        X = np.asarray(T.materialize(inp["args"]["X"]), dtype=np.float64)
        init, k = inp["args"].get("init"), inp["args"].get("n_clusters")
        C = np.asarray(init.base, dtype=np.float64) if isinstance(init, T.Arr) else X[:k] if init == "callable" else None
        with np.errstate(all="ignore"):
            if C is not None and X.size and C.size:
                # Hamerly's bounds carry rounding errors of the order of the centres' moves times epsilon
                spread = float(np.max(X) - np.min(X))
                far = float(np.max(np.abs(C - np.mean(X))))
                if not far <= 1e10 * max(spread, 1e-300):
                    out.append("init centres 1e10 x the data's spread away")
            if X.ndim == 2 and isinstance(k, int) and (
                    (C is not None and C.ndim == 2 and len(np.unique(C, axis=0)) < len(C))
                    or k > len(np.unique(X, axis=0))):
                out.append("empty clusters to relocate")
    if inp["target"] in ("linkage", "linkage_obs", "core_linkage"):
        try:
            if linkage_overflows(inp):
                out.append("KNOWN: linkage distance update overflows")
        except Exception as e:  # the explanation is a courtesy; never lose the finding over it
            out.append(f"(overflow check failed: {type(e).__name__})")
    return out


def _lance_williams(method: str, da: Any, db: Any, dab: float, na: float, nb: float, ni: Any) -> Any:
    """SciPy's update of the distances to a merged cluster (as tests/test_linkage.py replays them)."""
    if method == "single":
        return np.minimum(da, db)
    if method == "complete":
        return np.maximum(da, db)
    if method == "average":
        return (na * da + nb * db) / (na + nb)
    if method == "weighted":
        return 0.5 * (da + db)
    if method == "ward":
        t = 1.0 / (na + nb + ni)
        return np.sqrt((ni + na) * t * da * da + (ni + nb) * t * db * db - ni * t * dab * dab)
    if method == "centroid":
        return np.sqrt(((na * da * da + nb * db * db) - na * nb * dab * dab / (na + nb)) / (na + nb))
    return np.sqrt(0.5 * (da * da + db * db) - 0.25 * dab * dab)


def _greedy_float32_overflows(D: np.ndarray, method: str) -> bool:
    """Whether the plain greedy algorithm overflows a float32 working matrix: every update computed in
    double and stored in float32, as pixclust does. Rounding to float32 makes ties (and breaks them) that
    SciPy's double matrix does not have, so pixclust's merges, and where they overflow, can differ."""
    n = len(D)
    W = D.astype(np.float32).astype(np.float64)
    np.fill_diagonal(W, np.inf)
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(n - 1):
            M = np.where(alive[:, None] & alive[None, :], W, np.inf)
            a, b = np.unravel_index(int(np.argmin(M)), M.shape)
            new = _lance_williams(method, W[a], W[b], W[a, b], size[a], size[b], size)
            alive[b] = False
            live = alive.copy()
            live[a] = False
            if np.any(~np.isfinite(new[live])) or np.any(np.abs(new[live]) > 0.9 * T.F32_MAX):
                return True
            W[a, :] = W[:, a] = new.astype(np.float32)
            W[a, a] = np.inf
            size[a] += size[b]
    return False


def linkage_overflows(inp: dict[str, Any]) -> bool:
    """Whether the input is the known linkage defect: a Lance-Williams distance update overflows (to inf
    or NaN; for float32, past FLT_MAX) somewhere along SciPy's merges, or SciPy's own result is invalid."""
    from scipy.cluster.hierarchy import is_valid_linkage, linkage
    from scipy.spatial.distance import pdist, squareform

    args = {k: T.materialize(v) for k, v in inp["args"].items()}
    method = args.get("method")
    if method not in T.METHODS:
        return False
    if inp["target"] == "linkage_obs":
        X = np.asarray(args["X"], dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2:
            return False
        with np.errstate(all="ignore"):
            y, f32 = pdist(X, args.get("metric", "euclidean")), False
    else:
        y0 = np.asarray(args["y"])
        if y0.ndim != 1 or y0.dtype.kind not in "fiub":
            return False
        f32 = y0.dtype == np.float32
        y = y0.astype(np.float64)
    if not np.all(np.isfinite(y)):
        return False
    try:
        with np.errstate(all="ignore"):
            Z = linkage(y, method)
    except ValueError as e:
        return "find_min_dist" in str(e)  # SciPy's own overflow (centroid, median) surfaces here
    if not np.all(np.isfinite(Z)) or not is_valid_linkage(Z):
        return True
    n = len(Z) + 1
    if n > 3000:
        return False
    if f32 and n <= 400 and _greedy_float32_overflows(squareform(y), method):
        return True
    D = squareform(y)
    size = np.ones(n)
    slot = {i: i for i in range(n)}  # cluster id -> row of D
    alive = np.ones(n, dtype=bool)
    # pixclust's float32 path already overflows a few percent below FLT_MAX (ward: inf where SciPy's
    # height is 3.29e38; seed linkage-overflow-ward-float32-below-fltmax): a margin of 10%
    lim = 0.9 * T.F32_MAX if f32 else np.inf
    with np.errstate(all="ignore"):
        for k, (a, b, _, _) in enumerate(Z):
            sa, sb = slot.pop(int(a)), slot.pop(int(b))
            alive[sa] = alive[sb] = False
            da, db, dab = D[sa], D[sb], D[sa, sb]
            na, nb = size[sa], size[sb]
            new = _lance_williams(method, da, db, dab, na, nb, size)
            live = new[alive]
            if live.size and (not np.all(np.isfinite(live)) or np.max(np.abs(live)) > lim):
                return True
            D[sa, :] = new
            D[:, sa] = new
            size[sa] = na + nb
            alive[sa] = True
            slot[n + k] = sa
    return False


# --- the child: runs inputs, journals each before the call -----------------------------------------


class _Stop(BaseException):
    """Ends a Hypothesis batch at its deadline (a BaseException: Hypothesis does not replay it)."""


def _signature(target: str, kind: str, detail: str, extra: list[str]) -> str:
    detail = re.sub(r"0x[0-9a-f]+|[-+]?\d[\d.e+-]*", "#", detail)[:100]
    return " | ".join([target, kind, detail] + extra)


class Child:
    """Runs inputs in a forked worker; every outcome goes to the parent as one line, at once."""

    def __init__(self, journal: str, save_dir: Path, proto: Any) -> None:
        self.fd = os.open(journal, os.O_RDWR)
        self.seq = 0
        self.tainted = False
        self.save_dir = save_dir
        self.proto = proto

    def send(self, msg: dict[str, Any]) -> None:
        self.proto.write(json.dumps(msg) + "\n")

    def execute(self, inp: dict[str, Any], save: bool = True) -> None:
        payload = pickle.dumps(inp, protocol=5)
        self.seq += 1
        os.pwrite(self.fd, HEADER.pack(self.seq, time.monotonic(), RUNNING, len(payload)) + payload, 0)
        finding = None
        try:
            outcome = T.run(inp)
        except T.Finding as f:
            outcome = f"FINDING {f.kind}"
            finding = self._finding(payload, f.kind, f.detail, save)
        except Exception as e:  # a fault of the harness itself: reported, so it gets fixed
            import traceback

            outcome = "FINDING harness error"
            finding = self._finding(payload, "harness error", "".join(traceback.format_exception(e))[-1500:], save)
        os.pwrite(self.fd, bytes([DONE]), 16)
        self.send({"target": inp["target"], "outcome": outcome, "finding": finding, "seq": self.seq})
        # A wrong result, or a refusal of overflowing distances, may come with writes out of bounds: this
        # worker's heap is no longer trusted.
        self.tainted = self.tainted or finding is not None or any(s in outcome for s in T.SUSPECT)

    def _finding(self, payload: bytes, kind: str, detail: str, save: bool) -> dict[str, Any]:
        inp = pickle.loads(payload)  # as it was before the call (a call may write into its arguments)
        sig = _signature(inp["target"], kind, detail.splitlines()[-1] if detail else "", hints(inp))
        path = save_path(self.save_dir, sig) if save else None
        if path is not None:
            save_input(path, inp, note=f"{kind}: {detail}")
        return {"signature": sig, "target": inp["target"], "kind": kind, "detail": detail,
                "path": str(path) if path else None, "show": show_input(inp)}

    def generate(self, target: str, seed: int, count: int, deadline: float, mutate: list[str]) -> None:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hseed

        strategy = T.TARGETS[target].strategy
        if mutate:
            strategy = T.mutated(tuple(load_input(Path(f))["args"] for f in mutate))

        @hseed(seed)
        @settings(database=None, max_examples=count, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, report_multiple_bugs=False)
        @given(strategy)
        def body(args: dict[str, Any]) -> None:
            if time.monotonic() > deadline or self.tainted:
                raise _Stop
            self.execute({"target": target, "args": args})

        try:
            body()
        except _Stop:
            pass
        except Exception as e:  # Hypothesis itself gave up (a fault of a strategy): reported, not fatal
            self.send({"target": target, "outcome": "FINDING harness error", "seq": self.seq, "finding": {
                "signature": _signature(target, "harness error", repr(e), []), "target": target,
                "kind": "harness error", "detail": repr(e)[-1500:], "path": None, "show": ""}})


def child_main(journal: str, save_dir: str) -> None:
    """A fork server: imports once, then forks the worker that runs the inputs, and a new one each time
    a worker dies (a fork costs milliseconds; a fresh interpreter with SciPy and scikit-learn, seconds).
    No parallel region ever runs here, so each worker starts OpenMP afresh."""
    import faulthandler
    import warnings

    # The protocol keeps the real stdout; everything printed (numpy, Hypothesis) goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    # Ctrl-C at a terminal reaches the whole process group: the parent alone stops the campaign and reports.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable(all_threads=True)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    import hypothesis  # noqa: F401  (imports are done once, before the fork)
    import pixclust  # noqa: F401
    from pixclust import KMeans  # noqa: F401
    from scipy.cluster import hierarchy  # noqa: F401

    while True:
        pid = os.fork()
        if pid == 0:
            try:
                _serve(journal, save_dir, proto)
            finally:
                proto.flush()
                os._exit(0)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if code == 0:
            return  # the parent closed our stdin: done
        if code != RESTART:
            proto.write(json.dumps({"died": code, "pid": pid}) + "\n")


def _serve(journal: str, save_dir: str, proto: Any) -> None:
    child = Child(journal, Path(save_dir), proto)
    child.send({"ready": os.getpid()})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "replay":
            child.execute(load_input(Path(cmd["file"])), save=False)  # the file is the saved input
        else:
            child.generate(cmd["target"], cmd["seed"], cmd["count"], cmd["deadline"], cmd["mutate"])
        child.send({"end": True, "seq": child.seq, "restart": child.tainted})
        if child.tainted:  # the later inputs get a fresh fork: a delayed crash here would be blamed on them
            proto.flush()
            os._exit(RESTART)


# --- the parent: hands out work, watches the children, reads what a dead one was running -----------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # BLAS threads of SciPy and scikit-learn would compete with the workers and pixclust's own teams.
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _limit_memory() -> None:
    # A runaway allocation should be a MemoryError, not the machine's swap or OOM killer. ASan reserves
    # terabytes of address space for its shadow, so it gets no cap.
    import resource

    if "libasan" not in os.environ.get("LD_PRELOAD", ""):
        cap = 8 * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


class Worker:
    """A fork server and its current worker process, with the journal and stderr they write."""

    def __init__(self, index: int, tmp: Path, save_dir: Path, events: "queue.Queue[tuple[int, Any]]") -> None:
        self.index, self.events = index, events
        self.journal = tmp / f"journal-{index}"
        self.errlog = tmp / f"stderr-{index}"
        self.journal.write_bytes(b"\0" * HEADER.size)
        self.err = open(self.errlog, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(self.journal), str(save_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, env=child_env(),
            preexec_fn=_limit_memory,
        )
        self.task: Optional[dict[str, Any]] = None
        self.pid = 0  # the current worker (0: none ready)
        self.seq = 0  # inputs the current worker had finished when its task started
        self.err_from = 0  # where the current task's stderr starts
        self.hung = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put((self.index, json.loads(line)))
        self.events.put((self.index, None))

    def send(self, task: dict[str, Any]) -> None:
        self.task = task
        self.err_from = self.errlog.stat().st_size
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(task) + "\n").encode())
        self.proc.stdin.flush()

    def journal_state(self) -> tuple[int, float, int, Optional[dict[str, Any]]]:
        raw = self.journal.read_bytes()
        seq, t0, state, size = HEADER.unpack_from(raw)
        inp = None
        if size:
            try:
                inp = pickle.loads(raw[HEADER.size: HEADER.size + size])
            except Exception:
                inp = None
        return seq, t0, state, inp

    def stderr_of_task(self) -> str:
        with open(self.errlog, "rb") as f:
            f.seek(max(self.err_from, self.errlog.stat().st_size - 200_000))
            return f.read().decode(errors="replace")

    def stop(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def excerpt(stderr: str, lines: int = 14) -> str:
    """What a crash printed that says where: sanitizer and libgomp lines, the fatal error and the first
    frames of the crashing thread (not the module list faulthandler ends with)."""
    keep = []
    frames = 0
    for line in stderr.splitlines():
        if line.startswith("Extension modules:"):
            continue
        if re.search(r"Sanitizer|runtime error|libgomp|Fatal Python error|SUMMARY|^\s*#\d+ |corrupted|free\(\)|"
                     r"malloc|terminate|Thread 0x|Current thread|what\(\)", line):
            keep.append(line)
        elif line.strip().startswith("File ") and frames < 6:
            keep.append(line)
            frames += 1
    return "\n".join(keep[: lines * 3])


def _frame(stderr: str) -> str:
    """The signature's location: ASan's or UBSan's summary, or the innermost frame of pixclust or of the
    targets in a faulthandler dump, or the last line printed."""
    m = re.search(r"SUMMARY: (\w+Sanitizer: .*)|(\w+Sanitizer: CHECK failed: .*)", stderr)
    if m:
        return (m.group(1) or m.group(2))[:120]
    m = re.search(r"([\w.-]+:\d+:\d+: runtime error: .*)", stderr)
    if m:
        return "UBSan " + m.group(1)[:140]
    for line in stderr.splitlines():
        f = re.search(r'File "([^"]+)", line (\d+) in (\S+)', line)
        if f and ("pixclust" in f.group(1) or "targets.py" in f.group(1)):
            return f"{Path(f.group(1)).name}:{f.group(2)} {f.group(3)}"
    last = [l for l in stderr.splitlines() if l.strip() and not l.startswith("Extension modules")]
    return last[-1][:120] if last else ""


class Campaign:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.save_dir = Path(opts.save_dir)
        self.names = [n for n in T.TARGETS if not opts.targets or n in opts.targets.split(",")]
        self.rng = random.Random(opts.seed)
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.findings: dict[str, dict[str, Any]] = {}
        self.replays: list[dict[str, Any]] = []
        self.interrupted = False
        self.generated = 0
        self.assigned = 0
        self.rest: list[tuple[str, int, list[str]]] = []  # (target, inputs, seeds) of batches cut short
        self.seeds: dict[str, list[str]] = collections.defaultdict(list)
        if not opts.no_corpus:
            for f in sorted(Path(opts.corpus).glob("*.npz")):
                self.seeds[load_input(f)["target"]].append(str(f))

    # work -------------------------------------------------------------------------------------------

    def next_task(self, files: list[Path], end: Optional[float]) -> Optional[dict[str, Any]]:
        if files:
            return {"cmd": "replay", "file": str(files.pop(0))}
        if self.rest and (end is None or time.monotonic() < end):
            # the rest of a batch cut short (a crash, a fresh worker): the same target goes on, so that
            # targets that crash often are not drawn less often than their weight says
            target, count, mutate = self.rest.pop()
            deadline = time.monotonic() + BATCH_SECONDS if end is None else min(end, time.monotonic() + BATCH_SECONDS)
            return {"cmd": "generate", "target": target, "seed": self.rng.getrandbits(63), "count": count,
                    "deadline": deadline, "done": 0, "mutate": mutate}
        if self.opts.inputs is None and end is None:
            return None
        now = time.monotonic()
        if end is not None and now >= end:
            return None
        count = 500
        if self.opts.inputs is not None:
            count = min(count, self.opts.inputs - self.assigned)
            if count <= 0:
                return None
        self.assigned += count
        weights = [T.TARGETS[n].weight for n in self.names]
        target = self.rng.choices(self.names, weights)[0]
        deadline = now + BATCH_SECONDS if end is None else min(end, now + BATCH_SECONDS)
        # a share of the batches mutates the seeds of the target instead of drawing from scratch; not the
        # seeds that failed their replay: their neighbours mostly repeat the same finding
        failed = {r["file"] for r in self.replays if r["outcome"].startswith("FINDING")}
        seeds = [f for f in self.seeds.get(target, []) if f not in failed]
        mutate = seeds if seeds and self.rng.random() < MUTATE_SHARE else []
        return {"cmd": "generate", "target": target, "seed": self.rng.getrandbits(63), "count": count,
                "deadline": deadline, "done": 0, "mutate": mutate}

    def run(self, files: list[Path]) -> int:
        opts = self.opts
        start = time.monotonic()
        end = start + opts.budget if opts.budget is not None else None
        events: queue.Queue[tuple[int, Any]] = queue.Queue()
        files = list(files)
        self.corpus_size = len(files)
        with tempfile.TemporaryDirectory(prefix="pixclust-fuzz-") as tmp:
            workers = [Worker(i, Path(tmp), self.save_dir, events) for i in range(opts.workers)]
            try:
                self._loop(workers, files, end, events, start)
            except KeyboardInterrupt:  # stopped by hand: what ran so far is still reported
                self.interrupted = True
            finally:
                for w in workers:
                    w.stop()
        self.elapsed = time.monotonic() - start
        failing = [s for s in self.findings if self.opts.strict or not known.open_defect(s)]
        return 1 if failing else 130 if self.interrupted else 0

    def _loop(self, workers: list["Worker"], files: list[Path], end: Optional[float],
              events: "queue.Queue[tuple[int, Any]]", start: float) -> None:
        opts = self.opts
        last_progress = start
        while True:
            for w in workers:
                if w.pid and w.task is None:
                    task = self.next_task(files, end)
                    if task is not None:
                        w.send(task)
            if all(w.pid and w.task is None for w in workers):
                break
            try:
                index, msg = events.get(timeout=0.25)
            except queue.Empty:
                index, msg = -1, None
            if index >= 0:
                self.handle(workers[index], msg)
            for w in workers:  # hangs: the worker is killed, its fork server reports the death
                if w.task is not None and w.pid and not w.hung:
                    seq, t0, state, _ = w.journal_state()
                    if state == RUNNING and time.monotonic() - t0 > opts.timeout:
                        w.hung = True
                        os.kill(w.pid, signal.SIGKILL)
            if time.monotonic() - last_progress > 30:
                last_progress = time.monotonic()
                self.progress(start)

    def handle(self, w: Worker, msg: Optional[dict[str, Any]]) -> None:
        if msg is None:
            raise SystemExit(f"fuzz: fork server {w.index} ended:\n{excerpt(w.stderr_of_task())}")
        if "ready" in msg:
            w.pid = msg["ready"]
            w.seq = 0
        elif "died" in msg:
            self.dead(w, msg["died"])
        elif "end" in msg:
            if w.task and w.task["cmd"] == "generate":
                if msg.get("restart"):
                    self._cut(w.task, w.task["done"])
                else:  # ended by its deadline (or Hypothesis ran out of inputs): the rest is not owed
                    self.assigned -= w.task["count"] - w.task["done"]
            w.task = None
            if msg.get("restart"):
                w.pid = 0  # until the new worker says it is ready
        else:
            target = msg["target"]
            self.counts[target][msg["outcome"]] += 1
            w.seq = msg["seq"]
            if w.task and w.task["cmd"] == "generate":
                self.generated += 1
                w.task["done"] += 1
            elif w.task:
                self.replays.append({"file": w.task["file"], "outcome": msg["outcome"], "finding": msg["finding"]})
            if msg["finding"]:
                self.add_finding(msg["finding"])

    def _cut(self, task: dict[str, Any], done: int) -> None:
        """A batch ended after `done` of its inputs: the rest is handed out again, same target."""
        if task["count"] > done and time.monotonic() < task["deadline"]:
            self.rest.append((task["target"], task["count"] - done, task["mutate"]))
        else:
            self.assigned -= task["count"] - done

    def add_finding(self, f: dict[str, Any]) -> None:
        entry = self.findings.setdefault(f["signature"], {**f, "count": 0, "paths": []})
        entry["count"] += 1
        if f.get("path") and len(entry["paths"]) < MAX_SAVED:
            entry["paths"].append(f["path"])

    def dead(self, w: Worker, code: int) -> None:
        """The worker died (or hung and was killed): save what it was running; its fork server starts
        another."""
        seq, _, state, inp = w.journal_state()
        stderr = w.stderr_of_task()
        task = w.task
        if w.hung:
            kind = f"hang (over {self.opts.timeout:g} s)"
        elif code < 0:
            kind = f"crash {signal.Signals(-code).name}"
        else:
            kind = f"exit {code}"
        w.pid, w.hung, w.task = 0, False, None
        w.journal.write_bytes(b"\0" * HEADER.size)  # the next worker's first input is not this one
        target = inp["target"] if inp else task.get("target", "?") if task else "?"
        running = inp is not None and state == RUNNING and seq > w.seq
        if not running and state == DONE and inp is not None and seq == w.seq and seq > 0:
            # The last input returned and the worker died later (in Hypothesis, between inputs): most
            # likely that input damaged the heap. It is saved, marked as such.
            kind += " after the input returned (a delayed effect: heap corruption?)"
        elif not running:
            inp = None
        if inp is None:
            # nothing of this task's inputs had started: it died in Hypothesis or the harness
            self.add_finding({"signature": _signature(target, kind, "outside an input", []), "target": target,
                              "kind": kind, "detail": "outside an input\n" + excerpt(stderr), "path": None,
                              "show": ""})
        else:
            self.counts[target][f"FINDING {kind}"] += 1
            where = _frame(stderr)
            extra = ["misaligned array"] if "misaligned address" in where else []
            sig = _signature(target, kind, where, extra + hints(inp))
            if task and task["cmd"] == "replay":
                path: Optional[Path] = Path(task["file"])  # already saved
            else:
                path = save_path(self.save_dir, sig)
            if path is not None and path.parent == self.save_dir:
                save_input(path, inp, note=f"{kind}: {where}")
                path.with_suffix(".txt").write_text(f"{kind}\n\n{show_input(inp)}\n\nstderr:\n{excerpt(stderr, 40)}\n")
            self.add_finding({"signature": sig, "target": target, "kind": kind, "detail": excerpt(stderr),
                              "path": str(path) if path else None, "show": show_input(inp)})
        if task and task["cmd"] == "replay":
            self.replays.append({"file": task["file"], "outcome": f"FINDING {kind}",
                                 "finding": {"kind": kind, "detail": excerpt(stderr)}})
        elif task:
            self.generated += running
            self._cut(task, task["done"] + running)

    # report -----------------------------------------------------------------------------------------

    def progress(self, start: float) -> None:
        el = time.monotonic() - start
        print(f"  .. {el:7.0f} s: {len(self.replays)}/{self.corpus_size} seeds, {self.generated} new inputs "
              f"({self.generated / max(el, 1e-9):.0f}/s), {len(self.findings)} finding signatures", flush=True)

    def report(self) -> dict[str, Any]:
        inputs = {t: sum(c.values()) for t, c in self.counts.items()}
        total = sum(inputs.values())
        print(f"\n== pixclust fuzz: {total} inputs ({len(self.replays)} seeds, {self.generated} new) in "
              f"{self.elapsed:.1f} s with {self.opts.workers} workers: {total / max(self.elapsed, 1e-9):.0f} inputs/s")
        for name in sorted(inputs):
            outs = ", ".join(f"{k} {v}" for k, v in self.counts[name].most_common())
            print(f"  {name:13s} {inputs[name]:8d}  {outs}")
        bad_seeds = [r for r in self.replays if r["outcome"].startswith("FINDING")]
        if self.replays:
            print(f"== seed corpus: {len(self.replays) - len(bad_seeds)} of {len(self.replays)} pass")
            for r in bad_seeds:
                print(f"  FAIL {Path(r['file']).name}: {r['outcome']}")
        if self.findings:
            opened = sum(1 for s in self.findings if known.open_defect(s))
            print(f"== {len(self.findings)} finding signature(s), {opened} of open defects already reported "
                  f"(fuzz/known.py{', failing anyway: --strict' if self.opts.strict else ''}):")
            order = sorted(self.findings.items(), key=lambda kv: (bool(known.open_defect(kv[0])), -kv[1]["count"]))
            for sig, f in order:
                tag = "open, known: " if known.open_defect(sig) else ""
                print(f"\n--- {tag}{f['kind']} x{f['count']}: {sig}")
                if f["show"]:
                    print("  first input:\n    " + f["show"].replace("\n", "\n    "))
                for p in f["paths"]:
                    print(f"  saved: {p}   (python fuzz/fuzz.py --replay {p})")
                detail = f["detail"].strip().splitlines()
                print("  " + "\n  ".join(detail[-14:]))
        else:
            print("== no crash, hang, wrong result or unclean exception")
        if self.interrupted:
            print("== stopped by Ctrl-C before the end of the campaign (exit status 130)")
        return {
            "inputs": total, "new_inputs": self.generated, "seconds": self.elapsed,
            "inputs_per_second": total / max(self.elapsed, 1e-9),
            "outcomes": {k: dict(v) for k, v in self.counts.items()},
            "replays": self.replays,
            "findings": list(self.findings.values()),
        }


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--budget", type=float, help="seconds: the corpus, then new inputs until this much time")
    mode.add_argument("--inputs", type=int, help="new inputs to run (after the corpus)")
    mode.add_argument("--corpus-only", action="store_true", help="the seed corpus alone")
    mode.add_argument("--replay", nargs="+", type=Path, help="run these saved inputs")
    mode.add_argument("--show", type=Path, help="print a saved input as a call")
    p.add_argument("--in-process", action="store_true", help="with --replay: run here, no child")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    p.add_argument("--seed", type=int, default=None, help="seeds the choice of targets and batches")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds after which an input is a hang")
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--no-corpus", action="store_true", help="skip the seed corpus")
    p.add_argument("--save-dir", default=str(CRASHERS))
    p.add_argument("--json", type=Path, help="write the report here as JSON")
    p.add_argument("--strict", action="store_true", help="fail on the open defects of fuzz/known.py too")
    p.add_argument("--skip-layouts", default="", help="comma-separated array layouts not to draw (e.g. unaligned)")
    opts = p.parse_args(argv)

    if opts.show:
        inp = load_input(opts.show)
        print(show_input(inp, limit=400))
        if inp.get("note"):
            print(f"# {inp['note']}")
        return 0
    if opts.replay and opts.in_process:
        status = 0
        for f in opts.replay:
            inp = load_input(f)
            print(f"{f}:\n{show_input(inp)}", flush=True)
            try:
                print(f"  -> {T.run(inp)}")
            except T.Finding as e:
                print(f"  -> FINDING {e}")
                status = 1
        return status
    if opts.seed is None:
        opts.seed = random.SystemRandom().getrandbits(32)
    if opts.skip_layouts:
        os.environ["PIXCLUST_FUZZ_SKIP_LAYOUTS"] = opts.skip_layouts  # read by targets.py in the children
    if opts.replay:
        files = list(opts.replay)
    elif opts.no_corpus:
        files = []
    else:
        files = sorted(opts.corpus.glob("*.npz"))
    print(f"== pixclust fuzz: {len(files)} saved inputs, then "
          + (f"{opts.budget:g} s of new inputs" if opts.budget is not None else
             f"{opts.inputs} new inputs" if opts.inputs is not None else "nothing new")
          + f"; {opts.workers} workers, seed {opts.seed}", flush=True)
    campaign = Campaign(opts)
    status = campaign.run(files)
    report = campaign.report()
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=1, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
