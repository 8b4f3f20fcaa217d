"""Build and runtime facts: version, compiler, OpenMP runtime and thread count."""

from __future__ import annotations

import os
import sys
from typing import Any

from pixclust import _core


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def config() -> dict[str, Any]:
    """Return what :func:`show_config` prints, as a dict.

    Examples
    --------
    >>> from pixclust._config import config
    >>> sorted(config())[:3]
    ['compiler', 'max_threads', 'openmp']
    """
    info = dict(_core.build_info())
    runtime = info.pop("openmp_runtime") or None
    threadpoolctl_sees = None
    if runtime is not None:
        try:
            from threadpoolctl import threadpool_info
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            pass
        else:
            threadpoolctl_sees = any(
                _same_file(pool.get("filepath", ""), runtime) for pool in threadpool_info()
            )
    return {
        "version": info["version"],
        "compiler": info["compiler"],
        "openmp": bool(info["openmp"]),
        "openmp_spec": int(info["openmp_spec"]) or None,
        "openmp_runtime": runtime,
        "threadpoolctl_sees_runtime": threadpoolctl_sees,
        "max_threads": _core.max_threads(),
        "python": sys.version.split()[0],
    }


def show_config() -> None:
    """Print pixclust's version, compiler, OpenMP runtime and default thread count.

    The thread count follows ``OMP_NUM_THREADS`` and can be limited at run time with
    ``threadpoolctl.threadpool_limits``.

    Examples
    --------
    >>> import pixclust
    >>> pixclust.show_config()  # doctest: +ELLIPSIS
    pixclust ...
    """
    c = config()
    lines = [
        f"pixclust {c['version']}",
        f"  python:        {c['python']}",
        f"  compiler:      {c['compiler']}",
    ]
    if c["openmp"]:
        lines.append(f"  OpenMP:        yes (spec {c['openmp_spec']})")
        lines.append(f"  OpenMP lib:    {c['openmp_runtime'] or 'unknown'}")
        if c["threadpoolctl_sees_runtime"] is not None:
            lines.append(f"  threadpoolctl: {'controls it' if c['threadpoolctl_sees_runtime'] else 'does not see it'}")
    else:
        lines.append("  OpenMP:        no (kernels run on one thread)")
    lines.append(f"  threads:       {c['max_threads']}")
    print("\n".join(lines))
