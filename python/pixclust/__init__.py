"""pixclust: fast, exact clustering for image pixels and hierarchies.

A drop-in for the tutorial workflow of scikit-learn's ``KMeans`` on ``image.reshape(-1, 3)`` and SciPy's
``linkage``/``fcluster``: the same answers, computed by a C++ core.

Examples
--------
>>> import pixclust
>>> isinstance(pixclust.__version__, str)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixclust._config import show_config
from pixclust._core import __version__
from pixclust._dither import dither
from pixclust._palette_tree import PaletteTree, palette_tree
from pixclust._quantize import QuantizeResult, from_lab, quantize, to_lab
from pixclust.hierarchy import linkage, linkage_vector

if TYPE_CHECKING:
    from pixclust._kmeans import KMeans

__all__ = [
    "KMeans",
    "PaletteTree",
    "QuantizeResult",
    "__version__",
    "dither",
    "from_lab",
    "linkage",
    "linkage_vector",
    "palette_tree",
    "quantize",
    "show_config",
    "to_lab",
]


def __getattr__(name: str) -> Any:
    # KMeans is a scikit-learn estimator, and scikit-learn is slow to import: it is imported when the
    # estimator is first asked for, not by ``import pixclust`` (linkage, quantize and the CLI's other
    # commands do not need it; tests/test_config.py checks that they do not load it).
    if name == "KMeans":
        from pixclust._kmeans import KMeans

        globals()["KMeans"] = KMeans
        return KMeans
    raise AttributeError(f"module 'pixclust' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
