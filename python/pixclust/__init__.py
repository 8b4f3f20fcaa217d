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

from pixclust._config import show_config
from pixclust._core import __version__
from pixclust._dither import dither
from pixclust._kmeans import KMeans
from pixclust._quantize import QuantizeResult, from_lab, quantize, to_lab
from pixclust.hierarchy import linkage

__all__ = [
    "KMeans",
    "QuantizeResult",
    "__version__",
    "dither",
    "from_lab",
    "linkage",
    "quantize",
    "show_config",
    "to_lab",
]
