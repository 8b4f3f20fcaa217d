"""The fuzz targets: every entry point that reaches the C++ core, public and private.

A target is a Hypothesis strategy that draws one input (a dict of arguments) and a ``run`` that calls the
entry point and judges the outcome (the oracle). ``run`` returns the outcome's name ("ok", "ValueError",
...) when the entry point gave a correct result or a clean exception, and raises :class:`Finding` when it
gave a wrong result or an exception it should not. A crash or a hang never returns: ``fuzz.py`` runs the
targets in child processes for that.

Array arguments are :class:`Arr`: the base values and the layout the call sees them in (Fortran order,
strided, negative strides, read-only, byte-swapped, misaligned), so that a saved input replays exactly.
The Hypothesis strategies draw the structure (sizes, dtypes, value families, layouts, parameters); bulk
values come from a numpy generator seeded by a drawn integer, which keeps large inputs cheap to draw.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

F64_MAX = float(np.finfo(np.float64).max)
F32_MAX = float(np.finfo(np.float32).max)
F64_MIN_NORMAL = float(np.finfo(np.float64).tiny)
F32_MIN_NORMAL = float(np.finfo(np.float32).tiny)
METHODS = ("single", "complete", "average", "weighted", "centroid", "median", "ward")
# Exceptions that are a clean refusal of an input. Anything else escaping an entry point is a finding.
CLEAN = (ValueError, TypeError, MemoryError, OverflowError)

# Values where arithmetic changes behaviour: zero, denormals, the normal limits, squares and sums that
# overflow (sqrt(DBL_MAX) ~ 1.34e154, FLT_MAX ~ 3.4e38), and the largest finite values themselves.
SPECIAL_F64 = (0.0, 5e-324, 1e-310, F64_MIN_NORMAL, 1e-300, 1e-150, 1e-20, 0.5, 1.0, 2.0, 3.0, 1e20, 3e38,
               F32_MAX, 1e100, 1.3407807929942596e154, 1.5e154, 1e200, 1e300, F64_MAX / 2, F64_MAX)
SPECIAL_F32 = (0.0, 1.401298464324817e-45, 1e-40, F32_MIN_NORMAL, 1e-30, 1e-20, 0.5, 1.0, 2.0, 3.0, 1e19,
               1.8446742974197924e19, 1e30, 1e38, 3e38, F32_MAX)
FAMILIES = ("unit", "log", "huge", "max", "tiny", "ties", "const", "special", "hyp")
LAYOUTS = ("", "", "", "", "", "", "F", "step", "rev", "ro", "swap", "unaligned", "col", "step+ro")
# fuzz.py --skip-layouts: a campaign can leave out a layout whose defect is open (each input with it would
# only find that defect again)
LAYOUTS = tuple(x for x in LAYOUTS if x not in os.environ.get("PIXCLUST_FUZZ_SKIP_LAYOUTS", "").split(",") or not x)
# n_threads as the public API takes it (None or >= 1), and as the private bindings do (0 is the default,
# negatives are refused); counts no machine can start (HUGE_THREADS) are drawn rarely.
THREADS = (None, None, None, 1, 1, 2, 3, 8, 64)
CORE_THREADS = (0, 0, 0, 1, 1, 2, 3, 8, 64, -1)
HUGE_THREADS = (100_000, 1_000_000, 2**31 - 1)
# size_t and int arguments at the edges of their types
# (2**62 + 1 and 2**63 + 1: (n_clusters - 1) * n_local_trials wraps to 0 in size_t for 4 and 2 trials)
BIG_INTS = (0, 1, 2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1,
            2**64, -1, -(2**63))


# Outcomes of inputs whose distances overflow: a clean refusal, but the call may have written out of
# bounds first (the known linkage defect), so fuzz.py gives the next inputs a fresh worker.
SUSPECT = ("overflow", "SciPy's matrix is invalid")


class Finding(Exception):
    """A wrong result or an unclean exception: the oracle's verdict, with what was wrong."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass
class Arr:
    """An array argument: its values (base) and how the call sees them (layout, '+'-joined steps).

    Steps: F (Fortran order), step (every other row of a larger array), col (every other column), rev
    (negative strides), ro (read-only), swap (non-native byte order), unaligned (data one byte off an
    aligned address), pdist (the condensed distances of base's rows: large linkage inputs stay small).
    """

    base: np.ndarray
    layout: str = ""


def materialize(a: Any) -> Any:
    if not isinstance(a, Arr):
        return a
    x = np.asarray(a.base)
    for step in filter(None, a.layout.split("+")):
        if step == "pdist":
            from scipy.spatial.distance import pdist

            x = pdist(np.asarray(x, dtype=np.float64))
        elif step == "F":
            x = np.asfortranarray(x)
        elif step == "step" and x.ndim >= 1:
            x = np.repeat(x, 2, axis=0)[::2]
        elif step == "col" and x.ndim >= 1:
            x = np.repeat(x, 2, axis=-1)[..., ::2]
        elif step == "rev" and x.ndim >= 1:
            x = np.ascontiguousarray(x[::-1])[::-1]
        elif step == "swap":
            x = x.astype(x.dtype.newbyteorder())
        elif step == "unaligned" and x.dtype.itemsize > 1:
            raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
            u = np.frombuffer(raw[1:].data, dtype=x.dtype, count=x.size).reshape(x.shape)
            u[...] = x
            x = u
        elif step == "ro":
            x = x.view()
            x.flags.writeable = False
    return x


# --- values ----------------------------------------------------------------------------------------


def _values(rng: np.random.Generator, family: str, size: int, dtype: np.dtype, scale: float, k: int) -> np.ndarray:
    """size float64 values of a family, finite and within dtype's range (float32 or float64)."""
    f32 = dtype == np.float32
    lim, tiny = (F32_MAX, F32_MIN_NORMAL) if f32 else (F64_MAX, F64_MIN_NORMAL)
    specials = np.array(SPECIAL_F32 if f32 else SPECIAL_F64)
    with np.errstate(all="ignore"):
        if family == "unit":
            v = rng.random(size) * scale
        elif family == "log":
            lo, hi = (-45.8, 38.53) if f32 else (-323.3, 308.25)
            v = 10.0 ** rng.uniform(lo, hi, size)
        elif family == "huge":
            lo, hi = (30.0, 38.53) if f32 else (150.0, 308.25)
            v = 10.0 ** rng.uniform(lo, hi, size)
        elif family == "max":
            v = lim * rng.uniform(0.5, 1.0, size)
            v[rng.random(size) < 0.3] = lim
        elif family == "tiny":
            v = rng.uniform(0.0, tiny, size)
            v[rng.random(size) < 0.2] = np.nextafter(np.zeros(1, dtype), np.ones(1, dtype))[0]
        elif family == "ties":
            v = rng.integers(0, k + 1, size) * scale
        elif family == "const":
            v = np.full(size, scale)
        else:  # special
            v = rng.choice(specials, size)
        return np.minimum(np.nan_to_num(v, nan=lim, posinf=lim), lim)


@st.composite
def floats_array(
    draw: Callable[..., Any],
    shape: tuple[int, ...],
    dtype: Any = np.float64,
    negative: bool = True,
    invalid: bool = True,
    families: tuple[str, ...] = FAMILIES,
) -> np.ndarray:
    """A float array of the given shape whose values come from one family across the whole range:
    huge (1e150-1e308), FLT_MAX's region, denormals, zeros, ties; some negated, some NaN or inf."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    work = np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)
    family = draw(st.sampled_from(families))
    if family == "hyp" and size <= 16:
        # Hypothesis' own float draws lean on the edges (denormals, limits, -0.0)
        elements = st.floats(allow_nan=False, allow_infinity=False, width=32 if work == np.float32 else 64,
                             min_value=None if negative else 0.0)
        return draw(hnp.arrays(work, shape, elements=elements)).astype(dtype)
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from((1.0, 1.0, 1.0) + (SPECIAL_F32 if work == np.float32 else SPECIAL_F64)))
    k = draw(st.integers(0, 5))
    rng = np.random.default_rng(seed)
    v = _values(rng, "special" if family == "hyp" else family, size, work, scale, k)
    if negative:
        neg = draw(st.sampled_from((0.0, 0.0, 0.0, 0.0, 0.1, 0.5, 1.0)))
        if neg:
            v[rng.random(size) < neg] *= -1.0
    if invalid and size:
        bad = draw(st.sampled_from((0,) * 30 + (1, 2)))
        for _ in range(bad):
            v[rng.integers(0, size)] = draw(st.sampled_from((np.nan, np.inf, -np.inf)))
    with np.errstate(all="ignore"):
        return v.astype(dtype).reshape(shape)


def any_array(draw: Callable[..., Any], max_dims: int = 3, max_side: int = 6) -> np.ndarray:
    """An array of any shape (0-D to max_dims-D, empty sides allowed) and any of the dtypes a caller
    might pass: the bindings' own checks must refuse what they do not take."""
    ndim = draw(st.integers(0, max_dims))
    shape = tuple(draw(st.integers(0, max_side)) for _ in range(ndim))
    dtype = draw(st.sampled_from(("float64", "float32", "uint8", "uint16", "int32", "int64", "bool",
                                  "float16", "complex128", "int8", "uint64")))
    v = draw(floats_array(shape, np.float64))
    with np.errstate(all="ignore"):
        if dtype in ("bool",):
            return np.asarray(v != 0)  # (a 0-D comparison is a numpy scalar, not an array)
        if np.dtype(dtype).kind in "iu":
            info = np.iinfo(dtype)
            return np.asarray(np.clip(np.nan_to_num(v), info.min, info.max).astype(dtype))
        return np.asarray(v.astype(dtype))


def layout(draw: Callable[..., Any]) -> str:
    return str(draw(st.sampled_from(LAYOUTS)))


def uint_pixels(rng: np.random.Generator, n: int, d: int, dtype: Any, distinct: int) -> np.ndarray:
    """n rows of d channels drawn from `distinct` colours (pixels repeat, as in images)."""
    top = int(np.iinfo(dtype).max)
    palette = rng.integers(0, top + 1, size=(max(distinct, 1), d))
    edge = rng.random(palette.shape) < 0.2  # the ends of the range, where squares are largest
    palette[edge] = rng.choice(np.array([0, 1, top - 1, top]), size=int(edge.sum()))
    return palette[rng.integers(0, len(palette), n)].astype(dtype)


def rare(draw: Callable[..., Any], p: float) -> bool:
    """True with probability p. Hypothesis leans its integers towards 0 and the bounds, which would make a
    rare branch common; a multiplicative hash of the draw spreads those over [0, 1) first."""
    r = draw(st.integers(0, 2**32 - 1))
    return ((r + 0x9E3779B9) * 2654435761 % 2**32) / 2**32 < p


def threads(draw: Callable[..., Any], core: bool = False) -> Any:
    """n_threads for the public API (None or >= 1) or, with core, for the private bindings."""
    if rare(draw, 0.01):
        return draw(st.sampled_from(HUGE_THREADS))
    return draw(st.sampled_from(CORE_THREADS if core else THREADS))


# --- linkage ---------------------------------------------------------------------------------------


def _condensed_points(draw: Callable[..., Any]) -> int:
    bucket = draw(st.sampled_from(("tiny",) * 3 + ("small",) * 4 + ("mid",) * 2 + ("big",)))
    lo, hi = {"tiny": (2, 4), "small": (5, 16), "mid": (17, 120), "big": (121, 600)}[bucket]
    n = draw(st.integers(lo, hi))
    # Rarely (each costs SciPy a second), both sides of the switches to the large-n algorithms (2000
    # points for single, 2500 for the chain methods).
    if rare(draw, 0.002):
        n = draw(st.integers(1990, 2600))
    return int(n)


@st.composite
def linkage_input(draw: Callable[..., Any]) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS))
    dtype = draw(st.sampled_from(("float64",) * 4 + ("float32",) * 3 + ("int64", "uint8", "bool", "list")))
    n = _condensed_points(draw)
    m = n * (n - 1) // 2
    if draw(st.integers(0, 49)) == 0:
        m = max(0, m + draw(st.sampled_from((-1, 1))))  # not a condensed length
    if m > 200_000 and draw(st.booleans()):
        # large: distances of random points (realistic neighbour structure), kept small on disk
        X = draw(floats_array((n, draw(st.integers(1, 4))), np.float64, invalid=False,
                              families=("unit", "ties", "huge", "log")))
        y = Arr(X, "pdist")
    else:
        work = np.float32 if dtype == "float32" else np.float64
        v = draw(floats_array((m,), work))
        if dtype in ("int64", "uint8", "bool"):
            with np.errstate(all="ignore"):
                v = np.nan_to_num(np.abs(v), posinf=255).astype(dtype) if dtype != "int64" else \
                    np.clip(np.nan_to_num(v), -2.0**62, 2.0**62).astype(np.int64)
        y = Arr(v, layout(draw))
    return {
        "y": y if dtype != "list" else y.base.tolist(),
        "method": method,
        "overwrite_input": draw(st.sampled_from((False, False, True))),
        # SciPy's optimal leaf ordering takes minutes from a few thousand points: small inputs only
        "optimal_ordering": n <= 200 and draw(st.integers(0, 19)) == 0,
    }


@st.composite
def linkage_obs_input(draw: Callable[..., Any]) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS))
    n = draw(st.sampled_from((1, 2, 3, 5, 8, 13, 30, 70, 150)))
    d = draw(st.integers(0, 5))
    dtype = draw(st.sampled_from(("float64", "float64", "float32", "int64")))
    X = draw(floats_array((n, d), np.float32 if dtype == "float32" else np.float64))
    if dtype == "int64":
        X = np.clip(np.nan_to_num(X), -1e15, 1e15).astype(np.int64)
    metric = draw(st.sampled_from(("euclidean",) * 6 + ("cityblock", "cosine", "chebyshev", "sqeuclidean")))
    return {"X": Arr(X, layout(draw)), "method": method, "metric": metric}


def _scipy_linkage(y: Any, method: str, metric: str = "euclidean", optimal_ordering: bool = False) -> Any:
    from scipy.cluster.hierarchy import linkage

    return linkage(y, method, metric, optimal_ordering=optimal_ordering)


def _call(f: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, f()
    except Exception as e:  # judged by the caller
        return False, e


def _is_valid_linkage(Z: Any, n: int) -> bool:
    """A usable linkage matrix: finite, every cluster merged once and only after it exists, the sizes
    right. (SciPy's is_valid_linkage also refuses negative heights, which SciPy itself returns for
    negative distances, and so does pixclust.)"""
    if not (isinstance(Z, np.ndarray) and Z.shape == (n - 1, 4) and Z.dtype == np.float64):
        return False
    if n < 2 or not np.all(np.isfinite(Z)):
        return False
    ids = Z[:, :2]
    if np.any(ids != np.floor(ids)) or np.any(ids < 0):
        return False
    size = np.ones(2 * n - 1)
    used = np.zeros(2 * n - 1, dtype=bool)
    for i, (a, b, _, count) in enumerate(Z):
        a, b = int(a), int(b)
        if a == b or a >= n + i or b >= n + i or used[a] or used[b] or count != size[a] + size[b]:
            return False
        used[a] = used[b] = True
        size[n + i] = count
    return True


def _clean(e: BaseException, where: str) -> str:
    if isinstance(e, CLEAN):
        return type(e).__name__
    raise Finding("unclean exception", f"{where} raised {type(e).__name__}: {e}")


def judge_linkage(ok: bool, ours: Any, ref_ok: bool, ref: Any, n: int, mode: str, allowed_refusal: bool = False) -> str:
    """The linkage contract against SciPy's outcome on the same input.

    SciPy raises: we raise (any clean exception). SciPy's matrix is invalid (a cluster used twice,
    non-finite heights: its distances overflowed): we raise ValueError. SciPy's matrix is valid: ours is
    the same (float64: equal, or equal heights where ties reorder the merges; float32: same merges with
    heights to float32 precision), or, for float32 only, a ValueError (the float32 working matrix can
    overflow where SciPy's float64 one does not). mode: "f64", "f32", or "f32-olo" (float32 with
    optimal_ordering: the leaf order of slightly different heights may differ, so only validity counts).
    """
    f32 = mode != "f64"
    if not ok:
        name = _clean(ours, "linkage")
        if isinstance(ours, MemoryError) or allowed_refusal:
            return name
        if not ref_ok:
            return f"{name} (SciPy raises{': overflow' if 'find_min_dist' in str(ref) else ''})"
        if not _is_valid_linkage(ref, n):
            return f"{name} (SciPy's matrix is invalid)"
        if f32 and isinstance(ours, ValueError):
            return f"{name} (float32 overflow)"
        raise Finding("refused", f"raised {type(ours).__name__}: {ours}; SciPy returns a valid matrix")
    if not ref_ok:
        raise Finding("wrong result", f"returned a matrix where SciPy raises {type(ref).__name__}: {ref}")
    if not _is_valid_linkage(ours, n):
        raise Finding("garbage", "returned an invalid linkage matrix (a cluster used twice, bad counts or "
                      f"non-finite heights): {np.asarray(ours)[:4].tolist()}...")
    if not _is_valid_linkage(ref, n):
        raise Finding("wrong result", "returned a matrix where SciPy's overflows (invalid or non-finite)")
    if not f32:
        if np.array_equal(ours, ref):
            return "ok"
        if np.array_equal(ours[:, 2], ref[:, 2]):
            return "ok (ties reordered)"
        row = int(np.argmax(np.any(ours != ref, axis=1)))
        raise Finding("wrong result", f"differs from SciPy from row {row}: {ours[row].tolist()} != {ref[row].tolist()}")
    if mode == "f32-olo":
        return "ok (valid)"
    # float32: every update is rounded to float32, so near-ties may merge in another order
    same_merges = np.array_equal(ours[:, [0, 1, 3]], ref[:, [0, 1, 3]])
    scale = float(np.max(np.abs(ref[:, 2]))) if n > 1 else 0.0
    tol = 1e-6 * n * np.abs(ref[:, 2]) + 1e-6 * scale + 1e-44
    if same_merges:
        if np.all(np.abs(ours[:, 2] - ref[:, 2]) <= tol):
            return "ok"
        row = int(np.argmax(np.abs(ours[:, 2] - ref[:, 2]) > tol))
        raise Finding("wrong result", f"float32 height of row {row}: {ours[row, 2]!r} != SciPy's {ref[row, 2]!r}")
    return "ok (float32 rounding reordered merges)"


def run_linkage(args: dict[str, Any]) -> str:
    import pixclust

    y = materialize(args["y"])
    method, ow, olo = args["method"], args["overwrite_input"], args["optimal_ordering"]
    arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
    ref_in = np.array(arr, copy=True)  # ours may overwrite y
    # a mutated seed can drop the "pdist" step and pass the points themselves: observations then
    n = int((1 + math.isqrt(1 + 8 * arr.shape[0])) // 2) if arr.ndim == 1 else arr.shape[0] if arr.ndim == 2 else 0
    ok, ours = _call(lambda: pixclust.linkage(y, method, optimal_ordering=olo, overwrite_input=ow))
    ref_ok, ref = _call(lambda: _scipy_linkage(ref_in, method, optimal_ordering=olo))
    refusal = ow and isinstance(y, np.ndarray) and not y.flags.writeable  # pixclust's own keyword
    mode = "f64" if arr.dtype != np.float32 else "f32-olo" if olo else "f32"
    return judge_linkage(ok, ours, ref_ok, ref, n, mode, refusal)


def run_linkage_obs(args: dict[str, Any]) -> str:
    import pixclust

    X = materialize(args["X"])
    method, metric = args["method"], args["metric"]
    ok, ours = _call(lambda: pixclust.linkage(X, method, metric))
    ref_ok, ref = _call(lambda: _scipy_linkage(np.array(X), method, metric))
    # observations give float64 distances (float32 ones are widened first, as SciPy does)
    return judge_linkage(ok, ours, ref_ok, ref, X.shape[0] if X.ndim == 2 else 0, "f64")


@st.composite
def linkage_vector_input(draw: Callable[..., Any]) -> dict[str, Any]:
    args = draw(linkage_obs_input())
    n = args["X"].base.shape[0]
    # mostly what it computes (the matrix methods and other metrics with ward are refusals)
    if draw(st.integers(0, 9)) > 0:
        args["method"] = draw(st.sampled_from(("single", "ward", "centroid", "median")))
        if args["method"] != "single":
            args["metric"] = "euclidean"
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from((None,) * 4 + ("ints", "some zero", "all zero", "fraction", "negative", "nan",
                                                "wrong length", "huge")))
    w: Any = None
    if kind is not None:
        w = rng.integers(0 if kind == "some zero" else 1, 6, n).astype(float)
        if kind == "all zero":
            w[:] = 0
        elif kind == "huge":
            w[:] = 2.0**52
        elif kind in ("fraction", "negative", "nan") and n:
            w[rng.integers(0, n)] = {"fraction": 0.5, "negative": -1.0, "nan": np.nan}[kind]
        elif kind == "wrong length":
            w = w[:-1] if n else np.ones(1)
    return {**args, "sample_weight": None if w is None else Arr(w)}


def run_linkage_vector(args: dict[str, Any]) -> str:
    """linkage_vector: single is SciPy's bits (the weights change no distance), every result is a valid
    tree; ward, centroid and median on data with ties may merge in another order, so only validity there."""
    import pixclust

    X = materialize(args["X"])
    method, metric, w = args["method"], args["metric"], materialize(args["sample_weight"])
    ok, ours = _call(lambda: pixclust.linkage_vector(X, method, metric, sample_weight=w))
    if not ok:
        return _clean(ours, "linkage_vector")
    n = X.shape[0]
    if n == 1 and isinstance(ours, np.ndarray) and ours.shape == (0, 4):
        return "ok (one observation: no merge, as fastcluster)"
    if not _is_valid_linkage(ours, n):
        raise Finding("garbage", f"returned an invalid linkage matrix: {np.asarray(ours)[:4].tolist()}...")
    if method == "single":
        ref_ok, ref = _call(lambda: _scipy_linkage(np.array(X, dtype=np.float64), "single", metric))
        if ref_ok and _is_valid_linkage(ref, n) and not np.array_equal(ours, ref):
            raise Finding("wrong result", "single linkage from vectors differs from SciPy's")
    return "ok"


# --- k-means ---------------------------------------------------------------------------------------


def _points(draw: Callable[..., Any], n: int, d: int, dtype: str) -> np.ndarray:
    if dtype in ("uint8", "uint16"):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        return uint_pixels(rng, n, d, dtype, draw(st.sampled_from((1, 2, 3, 8, 40, 1000))))
    X = draw(floats_array((n, d), np.float32 if dtype == "float32" else np.float64,
                          invalid=draw(st.integers(0, 9)) == 0))
    if dtype in ("int64", "bool"):
        X = (X != 0) if dtype == "bool" else np.clip(np.nan_to_num(X), -1e15, 1e15).astype(np.int64)
    return X


def _weights(draw: Callable[..., Any], n: int) -> Any:
    kind = draw(st.sampled_from((None,) * 4 + ("ones", "ints", "floats", "some zero", "huge", "tiny", "scalar",
                                                "all zero", "negative", "nan", "wrong length")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind is None:
        return None
    if kind == "scalar":
        return draw(st.sampled_from((0.0, 1.0, 2.5, 1e300, 5e-324)))
    w = {
        "ones": np.ones(n), "ints": rng.integers(0, 1000, n).astype(float), "floats": rng.random(n) * 10,
        "some zero": rng.integers(0, 2, n).astype(float), "huge": 10.0 ** rng.uniform(150, 308, n),
        "tiny": rng.uniform(0, 1e-300, n), "all zero": np.zeros(n), "negative": -rng.random(n),
        "nan": np.where(rng.random(n) < 0.5, np.nan, 1.0), "wrong length": np.ones(n + 1),
    }[kind]
    return Arr(w, layout(draw))


def _moderate(*arrays: Any) -> bool:
    """Values whose squares and sums stay far from overflow and underflow-free enough to check sums."""
    for a in arrays:
        if a is None:
            continue
        a = np.asarray(a, dtype=np.float64)
        if a.size and (not np.all(np.isfinite(a)) or np.max(np.abs(a)) > 1e100):
            return False
    return True


@st.composite
def kmeans_input(draw: Callable[..., Any]) -> dict[str, Any]:
    dtype = draw(st.sampled_from(("float64", "float64", "float32", "uint8", "uint8", "uint16", "int64", "bool")))
    n = draw(st.sampled_from((1, 2, 3, 5, 10, 40, 200, 1500)))
    d = draw(st.sampled_from((1, 2, 3, 3, 4, 5, 8)))
    X = _points(draw, n, d, dtype)
    k = draw(st.integers(1, 10))
    init = draw(st.sampled_from(("k-means++",) * 4 + ("random", "array", "callable")))
    init_arg: Any = init
    if init == "array":
        init_arg = Arr(draw(floats_array((k, d), np.float64, invalid=draw(st.integers(0, 9)) == 0)))
    return {
        "X": Arr(X, layout(draw)),
        "X2": Arr(_points(draw, draw(st.sampled_from((1, 3, 50))), d, dtype), layout(draw)),
        "sample_weight": _weights(draw, n),
        "n_clusters": k,
        "init": init_arg,
        "n_init": draw(st.sampled_from(("auto", "auto", 1, 2))),
        "max_iter": draw(st.sampled_from((1, 2, 5, 300))),
        "tol": draw(st.sampled_from((0.0, 1e-4, 1e-4, 1.0, 1e300, 5e-324))),
        "random_state": draw(st.integers(0, 2**31 - 1)),
        "algorithm": draw(st.sampled_from(("lloyd", "elkan"))),
        "n_threads": threads(draw),
        "dedupe": draw(st.sampled_from(("auto", "auto", True, False))),
    }


def _first_rows(X: np.ndarray, n_clusters: int, random_state: Any = None) -> np.ndarray:
    return np.asarray(X[:n_clusters], dtype=np.float64)


def _check_labels(labels: Any, n: int, k: int, what: str) -> None:
    labels = np.asarray(labels)
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise Finding("garbage", f"{what}: shape {labels.shape}, dtype {labels.dtype}; expected ({n},) integers")
    if n and (labels.min() < 0 or labels.max() >= k):
        raise Finding("garbage", f"{what}: labels outside [0, {k}): {labels.min()}..{labels.max()}")


def run_kmeans(args: dict[str, Any]) -> str:
    from pixclust import KMeans

    X, X2 = materialize(args["X"]), materialize(args["X2"])
    w = materialize(args["sample_weight"])
    init = args["init"]
    init = _first_rows if init == "callable" else materialize(init)
    k = args["n_clusters"]
    km = KMeans(k, init=init, n_init=args["n_init"], max_iter=args["max_iter"], tol=args["tol"],
                random_state=args["random_state"], algorithm=args["algorithm"], n_threads=args["n_threads"],
                dedupe=args["dedupe"])
    ok, e = _call(lambda: km.fit(X, sample_weight=w))
    if not ok:
        return _clean(e, "KMeans.fit")
    n, d = X.shape
    _check_labels(km.labels_, n, k, "labels_")
    if km.cluster_centers_.shape != (k, d):
        raise Finding("garbage", f"cluster_centers_ has shape {km.cluster_centers_.shape}, expected {(k, d)}")
    ok, labels2 = _call(lambda: km.predict(X2))
    if not ok:
        return _clean(labels2, "KMeans.predict")
    _check_labels(labels2, X2.shape[0], k, "predict")
    ok, dist = _call(lambda: km.transform(X2))
    if not ok:
        return _clean(dist, "KMeans.transform")
    if np.asarray(dist).shape != (X2.shape[0], k):
        raise Finding("garbage", f"transform has shape {np.asarray(dist).shape}")
    Xf = np.asarray(X, dtype=np.float64)
    if not _moderate(X, w, km.cluster_centers_):
        return "ok (extreme values)"
    C = km._centers()
    if not np.all(np.isfinite(C)) or not np.isfinite(km.inertia_) or km.inertia_ < 0:
        raise Finding("wrong result", f"non-finite centres or inertia {km.inertia_!r} on moderate data")
    if not np.array_equal(km.predict(X), km.labels_):
        raise Finding("wrong result", "labels_ are not the nearest centres of the fitted model")
    ww = np.ones(n) if w is None else np.broadcast_to(np.asarray(w, dtype=np.float64), (n,))
    sq = np.sum((Xf - C[km.labels_]) ** 2, axis=1)
    inertia = float(np.sum(ww * sq))
    # relative to the data's own size too: a sum of expanded squares cancels where the inertia is ~0
    size = float(np.sum(ww * np.sum(Xf**2, axis=1)))
    if not abs(inertia - km.inertia_) <= 1e-6 * max(inertia, km.inertia_) + 1e-12 * size + 1e-300:
        raise Finding("wrong result", f"inertia_ {km.inertia_!r} but the labels and centres give {inertia!r}")
    return "ok"


# --- quantize, dither, colour conversion -----------------------------------------------------------


@st.composite
def image(draw: Callable[..., Any], dtypes: tuple[str, ...]) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    h, w = draw(st.sampled_from((1, 2, 3, 8, 33, 64))), draw(st.sampled_from((1, 2, 5, 16, 40)))
    if draw(st.integers(0, 39)) == 0:
        h = 0
    channels = draw(st.sampled_from((None, 1, 2, 3, 3, 3, 4, 4, 5)))
    shape = (h, w) if channels is None else (h, w, channels)
    if draw(st.integers(0, 49)) == 0:
        shape = draw(st.sampled_from(((h * w,), (1, h, w, 3), (h, w, 0))))
    size = int(np.prod(shape))
    if dtype in ("uint8", "uint16"):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        flat = uint_pixels(rng, size, 1, dtype, draw(st.sampled_from((1, 2, 4, 30, 256))))
        return flat.reshape(shape)
    if dtype in ("float32", "float64"):
        fam = draw(st.sampled_from(("unit",) * 6 + ("ties", "ties", "special", "huge", "tiny")))
        return draw(floats_array(shape, dtype, negative=draw(st.integers(0, 9)) == 0,
                                 invalid=draw(st.integers(0, 19)) == 0, families=(fam,)))
    return np.zeros(shape, dtype=dtype)


@st.composite
def quantize_input(draw: Callable[..., Any]) -> dict[str, Any]:
    img = draw(image(("uint8",) * 4 + ("uint16", "uint16", "float32", "float64", "float64", "int32", "bool", "float16")))
    many = draw(st.booleans())
    ks = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4)) if many else draw(st.integers(1, 12))
    if draw(st.integers(0, 29)) == 0:
        ks = draw(st.sampled_from((0, -1, [], 2.5, True, [3, 0], 10**6)))
    return {
        "image": Arr(img, layout(draw)),
        "n_colors": ks,
        "space": draw(st.sampled_from(("rgb",) * 4 + ("lab", "lab", "xyz"))),
        "random_state": draw(st.integers(0, 2**31 - 1)),
        "n_init": draw(st.sampled_from(("auto", "auto", 1, 3))),
        "max_iter": draw(st.sampled_from((1, 3, 300))),
        "tol": draw(st.sampled_from((0.0, 1e-4, 1e-4, 1e300))),
        "cluster_alpha": draw(st.booleans()),
        "n_threads": threads(draw),
    }


def run_quantize(args: dict[str, Any]) -> str:
    import pixclust

    img = materialize(args["image"])
    kw = {k: args[k] for k in ("space", "random_state", "n_init", "max_iter", "tol", "cluster_alpha", "n_threads")}
    ok, res = _call(lambda: pixclust.quantize(img, args["n_colors"], **kw))
    if not ok:
        return _clean(res, "quantize")
    results = res if isinstance(res, list) else [res]
    channels = 1 if img.ndim == 2 else img.shape[2]
    clustered = channels - 1 if channels in (2, 4) and not args["cluster_alpha"] else channels
    # fully transparent pixels are left out of the clustering (alpha="exclude", the default): label -1
    n = img.shape[0] * img.shape[1]
    seen = np.asarray(img).reshape(n, channels)[:, -1] > 0 if channels in (2, 4) else np.ones(n, bool)
    for r in results:
        k = r.n_colors
        if r.image.shape != img.shape or r.image.dtype != img.dtype.newbyteorder("="):
            raise Finding("garbage", f"image {r.image.shape} {r.image.dtype} for input {img.shape} {img.dtype}")
        if r.palette.shape != (k, clustered):
            raise Finding("garbage", f"palette shape {r.palette.shape}, expected {(k, clustered)}")
        labels = r.labels.reshape(-1)
        if labels.shape != (n,) or not np.array_equal(labels >= 0, seen):
            raise Finding("garbage", "labels: not -1 exactly on the fully transparent pixels")
        _check_labels(labels[seen], int(seen.sum()), k, "labels")
        if int(r.counts.sum()) != int(seen.sum()):
            raise Finding("garbage", f"counts sum to {int(r.counts.sum())}, not the {int(seen.sum())} visible pixels")
        flat = r.image.reshape(n, channels)
        painted = r.palette[labels[seen]]
        if not np.array_equal(flat[seen][:, :clustered], painted, equal_nan=True):
            raise Finding("wrong result", "a pixel is not its label's palette colour")
        hidden_in = np.asarray(img).reshape(n, channels)[~seen]
        if np.any(flat[~seen][:, :-1]) or not np.array_equal(flat[~seen][:, -1], hidden_in[:, -1]):
            raise Finding("wrong result", "a fully transparent pixel is not black with its own alpha")
        if clustered < channels and not np.array_equal(flat[:, clustered:], np.asarray(img).reshape(n, channels)[:, clustered:]):
            raise Finding("wrong result", "the alpha channel was changed")
    return "ok"


@st.composite
def dither_input(draw: Callable[..., Any]) -> dict[str, Any]:
    img = draw(image(("uint8",) * 4 + ("uint16",) * 2 + ("float32", "int16")))
    channels = 1 if img.ndim < 3 else img.shape[-1]
    c = channels - 1 if channels in (2, 4) else channels
    if draw(st.integers(0, 19)) == 0:
        c = draw(st.integers(0, 5))
    k = draw(st.sampled_from((1, 2, 3, 16, 40)))
    kind = draw(st.sampled_from(("same",) * 5 + ("int64", "float", "out of range", "nan", "1-D")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    top = int(np.iinfo(img.dtype).max) if img.dtype.kind == "u" else 255
    pal: Any = rng.integers(0, top + 1, size=(k, max(c, 0)))
    pal[rng.random(pal.shape) < 0.3] = top
    if kind == "same" and img.dtype.kind == "u":
        pal = pal.astype(img.dtype)
    elif kind == "float":
        pal = pal + rng.choice((0.0, 0.5), size=pal.shape)
    elif kind == "out of range":
        pal = pal * 1000 - 5
    elif kind == "nan":
        pal = np.where(rng.random(pal.shape) < 0.5, np.nan, pal)
    elif kind == "1-D":
        pal = pal.reshape(-1)
    return {"image": Arr(img, layout(draw)), "palette": Arr(np.asarray(pal), layout(draw)),
            "serpentine": draw(st.sampled_from((True, False, 1))),
            "strength": draw(st.one_of(st.sampled_from((1.0, 0.0, 0.875, 1, 0, -0.001, 1.5, np.nan, np.inf, True, "1",
                                                        None, 1 + 2**-52, 2**-11, np.float32(0.5))),
                                       st.floats(0.0, 1.0)))}


def run_dither(args: dict[str, Any]) -> str:
    import pixclust

    img, pal = materialize(args["image"]), materialize(args["palette"])
    strength = args.get("strength", 1.0)  # (seeds from before it was drawn have none)
    ok, res = _call(lambda: pixclust.dither(img, pal, serpentine=args["serpentine"], strength=strength,
                                            return_labels=True))
    if not ok:
        return _clean(res, "dither")
    out, labels = res
    if out.shape != img.shape or out.dtype != img.dtype:
        raise Finding("garbage", f"dithered image {out.shape} {out.dtype} for input {img.shape} {img.dtype}")
    p = np.asarray(pal).reshape(len(pal), -1).astype(img.dtype)
    _check_labels(labels.reshape(-1), img.shape[0] * img.shape[1], p.shape[0], "labels")
    flat = out.reshape(labels.size, -1)
    if not np.array_equal(flat[:, : p.shape[1]], p[labels.reshape(-1)]):
        raise Finding("wrong result", "a pixel is not its label's palette colour")
    if flat.shape[1] > p.shape[1] and not np.array_equal(flat[:, p.shape[1]:], img.reshape(labels.size, -1)[:, p.shape[1]:]):
        raise Finding("wrong result", "the alpha channel was changed")
    return "ok"


@st.composite
def color_input(draw: Callable[..., Any]) -> dict[str, Any]:
    lead = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    last = draw(st.sampled_from((3, 3, 3, 3, 2, 4)))
    dtype = draw(st.sampled_from(("float64", "float64", "float32", "uint8", "uint16", "int64", "bool")))
    v = draw(floats_array(lead + (last,), np.float64, families=("unit",) * 4 + ("special", "huge", "tiny", "hyp")))
    with np.errstate(all="ignore"):
        if np.dtype(dtype).kind in "iub":
            v = (np.nan_to_num(np.abs(v)) * 255) % 256
        x = v.astype(dtype)
    return {"x": Arr(x, layout(draw)), "to": draw(st.sampled_from(("lab", "rgb")))}


def run_color(args: dict[str, Any]) -> str:
    import pixclust

    x = materialize(args["x"])
    f = pixclust.to_lab if args["to"] == "lab" else pixclust.from_lab
    ok, out = _call(lambda: f(x))
    if not ok:
        return _clean(out, args["to"])
    if out.shape != x.shape or out.dtype != np.float64:
        raise Finding("garbage", f"output {out.shape} {out.dtype} for input {x.shape} {x.dtype}")
    if args["to"] == "lab" and x.dtype.kind == "f" and x.size and np.all((x >= 0) & (x <= 1)):
        back = pixclust.from_lab(out)
        if not np.allclose(back, x, rtol=0, atol=1e-9):
            raise Finding("wrong result", f"sRGB -> Lab -> sRGB is off by {np.max(np.abs(back - x))}")
    return "ok"


# --- the private bindings: valid calls, then one argument bent -------------------------------------
#
# pixclust._core is private, but its checks are all that stand between a caller and the kernels' memory:
# each call starts valid (to reach the kernels) and, half the time, one argument is swapped for an odd one
# (another dtype, ndim or length, NaN, an integer at the edge of its C type).


def _bend(draw: Callable[..., Any], args: dict[str, Any], ints: tuple[str, ...] = ()) -> dict[str, Any]:
    if not draw(st.booleans()):
        return args
    names = sorted(args)
    name = draw(st.sampled_from(names))
    how = draw(st.sampled_from(("any array", "dtype", "shape", "values", "int", "none")))
    v = args[name]
    if name in ints or (how == "int" and isinstance(v, int) and not isinstance(v, bool)):
        args[name] = draw(st.sampled_from(BIG_INTS))
    elif how == "none":
        args[name] = None
    elif isinstance(v, Arr):
        base = v.base
        if how == "any array":
            args[name] = Arr(any_array(draw), layout(draw))
        elif how == "dtype":
            dt = draw(st.sampled_from(("float64", "float32", "uint8", "uint16", "int32", "int64", "bool", "float16")))
            with np.errstate(all="ignore"):
                args[name] = Arr(np.nan_to_num(base).astype(dt), v.layout)
        elif how == "shape":
            cut = draw(st.sampled_from(("drop row", "add row", "add axis", "flatten", "transpose", "empty")))
            if cut == "drop row" and base.ndim:
                base = base[:-1]
            elif cut == "add row" and base.ndim:
                base = np.concatenate([base, base[:1]]) if len(base) else np.zeros((1,) + base.shape[1:], base.dtype)
            elif cut == "add axis":
                base = base[..., None]
            elif cut == "flatten":
                base = base.reshape(-1)
            elif cut == "transpose":
                base = base.T
            else:
                base = base[:0]
            args[name] = Arr(np.ascontiguousarray(base), v.layout)
        elif base.dtype.kind == "f" and base.size:
            bad = base.astype(base.dtype)
            flat = bad.reshape(-1)
            flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from(
                (np.nan, np.inf, -np.inf, -1.0, 1e300, F64_MAX, 5e-324, 2.0, 1.0)))
            args[name] = Arr(bad, v.layout)
        elif base.dtype.kind in "iu" and base.size:
            bad = base.copy()
            info = np.iinfo(bad.dtype)
            bad.reshape(-1)[draw(st.integers(0, bad.size - 1))] = draw(st.sampled_from(
                (info.max, info.min, -1 if info.min < 0 else 0, min(len(bad), int(info.max)))))
            args[name] = Arr(bad, v.layout)
    elif isinstance(v, str):
        args[name] = draw(st.sampled_from(("", "nearest", "lloyd", "hamerly", "ward", "x" * 200)))
    return args


def _core_points(draw: Callable[..., Any], n: int, d: int) -> Arr:
    dtype = draw(st.sampled_from(("float64", "float32", "uint8", "uint16")))
    return Arr(_points(draw, n, d, dtype), layout(draw))


@st.composite
def core_linkage_input(draw: Callable[..., Any]) -> dict[str, Any]:
    n = _condensed_points(draw)
    dtype = draw(st.sampled_from((np.float64, np.float32)))
    args = {"y": Arr(draw(floats_array((n * (n - 1) // 2,), dtype)), layout(draw)),
            "method": draw(st.sampled_from(METHODS)), "overwrite_input": draw(st.booleans()),
            "n_threads": threads(draw, core=True)}
    return _bend(draw, args)


@st.composite
def core_pdist_input(draw: Callable[..., Any]) -> dict[str, Any]:
    n, d = draw(st.integers(0, 40)), draw(st.integers(0, 5))
    X = draw(floats_array((n, d), draw(st.sampled_from((np.float64, np.float32)))))
    return _bend(draw, {"X": Arr(X, layout(draw)), "n_threads": threads(draw, core=True)})


@st.composite
def core_kmeans_input(draw: Callable[..., Any]) -> dict[str, Any]:
    fn = draw(st.sampled_from(("kmeans_lloyd", "kmeans_plusplus", "kmeans_assign", "kmeans_distances")))
    n, d, k = draw(st.integers(1, 60)), draw(st.integers(1, 5)), draw(st.integers(1, 8))
    X = _core_points(draw, n, d)
    w = draw(st.sampled_from((None, "ones", "ints", "floats")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = None if w is None else Arr({"ones": np.ones(n), "ints": rng.integers(0, 5, n).astype(float),
                                    "floats": rng.random(n)}[w], layout(draw))
    C = Arr(draw(floats_array((k, d), np.float64, invalid=False, families=("unit", "ties", "special"))), layout(draw))
    n_threads = threads(draw, core=True)
    if fn == "kmeans_lloyd":
        args = {"X": X, "sample_weight": W, "centers_init": C, "max_iter": draw(st.sampled_from((1, 2, 10, 50))),
                "tol": draw(st.sampled_from((0.0, 1e-4, 1e300))), "algorithm": draw(st.sampled_from(("lloyd", "hamerly"))),
                "n_threads": n_threads}
        args = _bend(draw, args)
        if not isinstance(args["max_iter"], int) or args["max_iter"] > 1000:
            args["max_iter"] = 50  # a huge iteration count is a long run, not a fault
    elif fn == "kmeans_plusplus":
        trials = draw(st.integers(1, 4))
        need = 1 + (k - 1) * trials
        u = rng.random(need + draw(st.integers(0, 2)))
        sp = None
        if draw(st.booleans()):
            m = draw(st.integers(1, 80))
            sp = Arr(rng.integers(0, n, m).astype(np.int32), layout(draw))
        args = {"X": X, "sample_weight": W, "n_clusters": k, "n_local_trials": trials,
                "uniforms": Arr(u, layout(draw)), "sample_point": sp, "sample_point_weight": None,
                "n_threads": n_threads}
        if sp is not None and draw(st.booleans()):
            args["sample_point_weight"] = Arr(rng.integers(0, 3, sp.base.shape[0]).astype(float))
        args = _bend(draw, args)
    elif fn == "kmeans_assign":
        args = _bend(draw, {"X": X, "sample_weight": W, "centers": C, "n_threads": n_threads})
    else:
        args = _bend(draw, {"X": X, "centers": C, "n_threads": n_threads})
    args["fn"] = fn
    return args


@st.composite
def core_index_input(draw: Callable[..., Any]) -> dict[str, Any]:
    fn = draw(st.sampled_from(("index_colors", "integer_moments", "remap_labels", "remap_labels_u8", "paint_pixels",
                               "merge_color_counts")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.sampled_from((0, 1, 2, 7, 100, 5000, 70000)))
    C = draw(st.integers(1, 5))
    if fn == "index_colors":
        args = {"pixels": _core_points(draw, n, C), "channels": draw(st.integers(1, C)),
                "n_threads": threads(draw, core=True)}
        args = _bend(draw, args, ints=("channels",) if draw(st.integers(0, 9)) == 0 else ())
    elif fn == "integer_moments":
        dtype = draw(st.sampled_from(("uint8", "uint16")))
        w = rng.integers(0, draw(st.sampled_from((2, 1000, 2**20, 2**40, 2**62))), n)
        w = w.astype(float) if draw(st.integers(0, 9)) == 0 else w  # float weights: a TypeError
        args = _bend(draw, {"points": Arr(uint_pixels(rng, n, C, dtype, 50), layout(draw)), "weights": Arr(w, layout(draw))})
    elif fn == "merge_color_counts":
        dtype = draw(st.sampled_from(("uint8", "uint16")))
        lists = []
        for _ in range(2):
            m = draw(st.sampled_from((0, 1, 3, 50, 3000)))
            c = min(C, 4)  # index_colors takes up to 4 channels
            colors, counts, _ = __import__("pixclust")._core.index_colors(uint_pixels(rng, m, c, dtype, 40), c, 1)
            lists += [Arr(colors, layout(draw)), Arr(counts * int(draw(st.sampled_from((1, 2**40, 2**50)))))]
        if draw(st.integers(0, 4)) == 0 and lists[0].base.shape[0] > 1:  # unsorted: a ValueError
            lists[0] = Arr(lists[0].base[::-1].copy())
        args = _bend(draw, dict(zip(("colors_a", "counts_a", "colors_b", "counts_b"), lists)))
    elif fn in ("remap_labels", "remap_labels_u8"):
        m = draw(st.integers(1, 300))
        top = draw(st.sampled_from((256, 1000))) if fn == "remap_labels_u8" else 1000  # u8: 256 up refused
        args = _bend(draw, {"values": Arr(rng.integers(0, m, n).astype(np.int32), layout(draw)),
                            "table": Arr(rng.integers(-5 if rare(draw, 0.2) else 0, top, m).astype(np.int32), layout(draw)),
                            "n_threads": threads(draw, core=True)})
    else:
        k = draw(st.integers(1, 20))
        dtype = draw(st.sampled_from(("uint8", "uint16", "float32", "float64")))
        src = _points(draw, n, C, dtype)
        pal = src[rng.integers(0, n, k)] if n else np.zeros((k, C), src.dtype)
        pal = pal[:, : draw(st.integers(1, C))]
        args = _bend(draw, {"labels": Arr(rng.integers(0, k, n).astype(np.int32), layout(draw)),
                            "palette": Arr(np.ascontiguousarray(pal), layout(draw)),
                            "src": None if rare(draw, 0.3) else Arr(src, layout(draw)),  # None: palette[labels]
                            "n_threads": threads(draw, core=True)})
    args["fn"] = fn
    return args


@st.composite
def core_dither_input(draw: Callable[..., Any]) -> dict[str, Any]:
    img = draw(image(("uint8", "uint8", "uint16")))
    if img.ndim == 2:
        img = img[:, :, None]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c = draw(st.integers(1, 4))
    k = draw(st.integers(1, 20))
    top = int(np.iinfo(img.dtype).max) if img.dtype.kind == "u" else 255
    pal = rng.integers(0, top + 1, (k, c)).astype(img.dtype)
    args = _bend(draw, {"image": Arr(img, layout(draw)), "palette": Arr(pal, layout(draw)),
                        "serpentine": draw(st.booleans()),
                        "strength": draw(st.sampled_from((1024, 0, 896, 1, 1023, -1, 1025, 2**31, -2**31 - 1)))})
    args["fn"] = draw(st.sampled_from(("dither_floyd_steinberg", "dither_labels")))  # labels alone: no image
    return args


@st.composite
def core_color_input(draw: Callable[..., Any]) -> dict[str, Any]:
    n = draw(st.integers(0, 20))
    x = draw(floats_array((n, 3), np.float64))
    fn, name = draw(st.sampled_from((("srgb_to_lab", "rgb"), ("lab_to_srgb", "lab"))))
    args = _bend(draw, {name: Arr(x, layout(draw))})
    args["fn"] = fn
    return args


def run_core(fn: str, args: dict[str, Any], check: Optional[Callable[[Any, dict[str, Any]], None]] = None) -> str:
    from pixclust import _core

    kw = {k: materialize(v) for k, v in args.items() if k != "fn"}
    # the arguments as they were: a call may write into them (overwrite_input, remap_labels)
    before = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()} if check else kw
    ok, out = _call(lambda: getattr(_core, fn)(**kw))
    if not ok:
        return _clean(out, f"_core.{fn}")
    if check is not None:
        check(out, before)
    return "ok"


def _check_merge(out: Any, kw: dict[str, Any]) -> None:
    """The union against numpy: np.unique of both lists' colours, their counts summed exactly."""
    colors = np.concatenate([np.asarray(kw["colors_a"]), np.asarray(kw["colors_b"])])
    counts = [int(c) for c in np.concatenate([np.asarray(kw["counts_a"]), np.asarray(kw["counts_b"])]).tolist()]
    if colors.shape[0] == 0:
        return
    uniq, inverse = np.unique(colors, axis=0, return_inverse=True)
    total = [0] * uniq.shape[0]
    for i, c in zip(inverse.reshape(-1).tolist(), counts):
        total[i] += c
    got_colors, got_counts = out
    if not np.array_equal(got_colors, uniq.astype(got_colors.dtype)) or [int(c) for c in got_counts.tolist()] != total:
        raise Finding("wrong result", "merge_color_counts differs from np.unique of the two lists")


def _check_index(out: Any, kw: dict[str, Any]) -> None:
    colors, counts, pixel_color = out
    px = np.asarray(kw["pixels"])
    _check_labels(pixel_color, px.shape[0], max(len(colors), 1), "pixel_color")
    if int(counts.sum()) != px.shape[0] or np.any(counts < 1):
        raise Finding("garbage", f"counts sum to {int(counts.sum())} for {px.shape[0]} pixels")
    if px.shape[0] and not np.array_equal(colors[pixel_color], px[:, : kw["channels"]].astype(colors.dtype), equal_nan=True):
        raise Finding("wrong result", "a pixel's colour index does not name its colour")


def _check_linkage_core(out: Any, kw: dict[str, Any]) -> None:
    # The binding took y as it is (1-D float32 or float64 of a condensed length): SciPy's contract.
    y = np.asarray(kw["y"])
    n = int((1 + math.isqrt(1 + 8 * y.shape[0])) // 2)
    ref_ok, ref = _call(lambda: _scipy_linkage(np.array(y), kw["method"]))
    judge_linkage(True, out, ref_ok, ref, n, "f32" if y.dtype == np.float32 else "f64")


def _check_moments(out: Any, kw: dict[str, Any]) -> None:
    p, w = np.asarray(kw["points"]), np.asarray(kw["weights"])
    top = int(np.iinfo(p.dtype).max)
    if sum(int(v) for v in w.tolist()) * top * top >= 2**63:  # exact, in Python integers
        raise Finding("wrong result", "integer moments past their bound sum(w) * max^2 < 2^63 were not refused")
    total, s1, s2 = out
    pi, wi = p.astype(np.int64), w.astype(np.int64)
    if total != int(wi.sum()) or list(s1) != (wi @ pi).tolist() or list(s2) != (wi @ (pi * pi)).tolist():
        raise Finding("wrong result", "integer moments differ from numpy's int64 sums")


def _check_remap_u8(out: Any, kw: dict[str, Any]) -> None:
    values, table = np.asarray(kw["values"]), np.asarray(kw["table"])
    if table.size and (table.min() < 0 or table.max() > 255):
        raise Finding("wrong result", "remap_labels_u8 took a table entry outside [0, 256)")
    if out.dtype != np.uint8 or not np.array_equal(out, table[values]):
        raise Finding("wrong result", "remap_labels_u8 differs from table[values]")


def _check_paint(out: Any, kw: dict[str, Any]) -> None:
    labels, palette, src = np.asarray(kw["labels"]), np.asarray(kw["palette"]), kw["src"]
    c = palette.shape[1]
    if not np.array_equal(out[:, :c], palette[labels], equal_nan=True):
        raise Finding("wrong result", "paint_pixels differs from palette[labels]")
    if src is None and out.shape != (labels.shape[0], c):
        raise Finding("wrong result", f"paint_pixels without src has shape {out.shape}")
    if src is not None and not np.array_equal(out[:, c:], np.asarray(src)[:, c:], equal_nan=True):
        raise Finding("wrong result", "paint_pixels did not keep src's other columns")


# the private functions whose results are cheap to check
CORE_CHECKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "linkage": _check_linkage_core, "index_colors": _check_index, "integer_moments": _check_moments,
    "merge_color_counts": _check_merge, "remap_labels_u8": _check_remap_u8, "paint_pixels": _check_paint,
}


def _core_target(fn_key: Optional[str]) -> Callable[[dict[str, Any]], str]:
    def run(args: dict[str, Any]) -> str:
        fn = args["fn"] if fn_key is None else fn_key
        return run_core(fn, args, CORE_CHECKS.get(fn))

    return run


def _run_core_dither(args: dict[str, Any]) -> str:
    fn = args.pop("fn", "dither_floyd_steinberg")  # the saved seeds predate dither_labels
    return run_core(fn, args)


@dataclass
class Target:
    name: str
    strategy: Any
    run: Callable[[dict[str, Any]], str]
    weight: int  # share of the generated inputs
    doc: str = field(default="")


TARGETS = {
    t.name: t
    for t in [
        Target("linkage", linkage_input(), run_linkage, 24, "pixclust.linkage, condensed input, 7 methods, f32/f64"),
        Target("linkage_obs", linkage_obs_input(), run_linkage_obs, 8, "pixclust.linkage on observations"),
        Target("linkage_vector", linkage_vector_input(), run_linkage_vector, 6, "pixclust.linkage_vector"),
        Target("kmeans", kmeans_input(), run_kmeans, 12, "KMeans fit/predict/transform with sample_weight"),
        Target("quantize", quantize_input(), run_quantize, 10, "pixclust.quantize"),
        Target("dither", dither_input(), run_dither, 6, "pixclust.dither"),
        Target("color", color_input(), run_color, 3, "pixclust.to_lab / from_lab"),
        Target("core_linkage", core_linkage_input(), _core_target("linkage"), 8, "_core.linkage"),
        Target("core_pdist", core_pdist_input(), _core_target("pdist_euclidean"), 3, "_core.pdist_euclidean"),
        Target("core_kmeans", core_kmeans_input(), _core_target(None), 10, "_core k-means kernels"),
        Target("core_index", core_index_input(), _core_target(None), 8, "_core colour index, moments, remap, paint"),
        Target("core_dither", core_dither_input(), _run_core_dither, 5, "_core dither, with the image or labels alone"),
        Target("core_color", core_color_input(), _core_target(None), 3, "_core colour conversion"),
    ]
}


def run(inp: dict[str, Any]) -> str:
    """Run one input ({"target": name, "args": {...}}): its outcome, or Finding."""
    return str(TARGETS[inp["target"]].run(dict(inp["args"])))


# --- mutations of saved inputs ---------------------------------------------------------------------
#
# The seeds reach paths random structure rarely does (2,550-point linkages, photos, the defects found so
# far); their neighbours are worth trying: the same call with some values pushed to the edges of the
# float range, ties made, signs flipped, another layout, or one argument bent.


def _mutate_array(draw: Callable[..., Any], a: Arr) -> Arr:
    base = np.array(a.base)
    how = draw(st.sampled_from(("scale", "special", "ties", "negate", "layout", "dtype", "keep")))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if base.size == 0 or base.dtype.kind not in "fiu" or how == "keep":
        return Arr(base, layout(draw) if how == "layout" else a.layout)
    pick = rng.random(base.shape) < draw(st.sampled_from((0.05, 0.3, 1.0)))
    f32 = base.dtype == np.float32
    specials = np.array(SPECIAL_F32 if f32 else SPECIAL_F64)
    with np.errstate(all="ignore"):
        if how == "layout":
            return Arr(base, layout(draw))
        if how == "dtype" and base.dtype.kind == "f":
            return Arr(base.astype(np.float64 if f32 else np.float32), a.layout)
        if base.dtype.kind in "iu":
            info = np.iinfo(base.dtype)
            base[pick] = rng.choice(np.array([info.min, info.max, 0, 1], dtype=base.dtype), int(pick.sum()))
        elif how == "scale":
            base[pick] = (base[pick] * draw(st.sampled_from(specials[specials > 0]))).astype(base.dtype)
        elif how == "special":
            base[pick] = rng.choice(specials, int(pick.sum())).astype(base.dtype)
        elif how == "ties":
            base[pick] = base.reshape(-1)[0]
        else:
            base[pick] = -base[pick]
    return Arr(base, a.layout)


@st.composite
def mutated(draw: Callable[..., Any], seeds: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    args = dict(draw(st.sampled_from(seeds)))
    for name in sorted(args):
        if isinstance(args[name], Arr):
            # a copy either way: a call may write into its arguments (overwrite_input, remap_labels)
            keep = Arr(np.array(args[name].base), args[name].layout)
            args[name] = _mutate_array(draw, keep) if draw(st.booleans()) else keep
    return args
