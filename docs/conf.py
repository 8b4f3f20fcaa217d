"""Sphinx configuration: the user guide, the gallery (run at build time), the Python and C++ API.

Built by tests/test_docs.py with ``-W --keep-going``; nothing here reaches the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

import pixclust

# The gallery's figures are drawn off-screen, and each example's threads are the machine's.
matplotlib.use("agg")
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "pixclust"
author = "The pixclust developers"
copyright = "the pixclust developers"
release = pixclust.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "cppheaders",
    "cliref",
]

root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]
primary_domain = "py"
default_role = "code"
# "--palette" stays two hyphens.
smartquotes = False

# No intersphinx: its inventories would be fetched from the network at build time.
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": ["../examples/gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    "show_signature": False,
    # printed output only, not the value of a cell's last expression (an Axes, a tuple of limits)
    "capture_repr": (),
}

html_theme = "pydata_sphinx_theme"
html_title = f"pixclust {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "use_edit_page_button": False,
}
html_context = {"default_mode": "light"}
