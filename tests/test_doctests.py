"""Every Examples section in the package's docstrings runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pixclust

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(pixclust.__path__, prefix="pixclust.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["pixclust", *MODULES])
def test_docstring_examples(name: str) -> None:
    if name == "pixclust.dask":
        pytest.importorskip("dask")  # the pixclust[dask] extra
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
