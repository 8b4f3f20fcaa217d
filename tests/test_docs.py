"""The documentation site builds, warnings as errors, with the gallery run; the C++ reference's source
(the public headers' comments) covers every public declaration.

The build needs the ``docs`` extra. It is not skipped when Sphinx is missing: a missing extra fails
here, so that a run meant to include the docs cannot pass without them. Runs that do not want the docs
deselect them explicitly with ``-m "not docs"`` (tools/asan_pytest.sh, tools/wheel_test.sh).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def _cppheaders() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cppheaders", DOCS / "_ext" / "cppheaders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cppheaders"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_every_public_declaration_in_the_headers_has_a_comment() -> None:
    cppheaders = _cppheaders()
    headers = sorted((REPO / "cpp" / "include" / "pixclust").glob("*.hpp"))
    missing = []
    for path in headers:
        header = cppheaders.parse_header(path)
        assert header.intro, f"{path.name} has no opening comment"
        missing += cppheaders.undocumented(header)
    assert not missing, "declarations without a comment: " + ", ".join(missing)


def test_the_header_parser_finds_what_the_api_has() -> None:
    # The parser must see the declarations at all, or the check above passes on nothing.
    cppheaders = _cppheaders()
    names = {d.name for path in (REPO / "cpp" / "include" / "pixclust").glob("*.hpp")
             for d in cppheaders.parse_header(path).decls}
    expected = {"kmeans_lloyd", "kmeans_plusplus", "linkage", "linkage_overwrite", "linkage_vector",
                "index_colors", "dither_floyd_steinberg", "pdist_euclidean", "condensed_size", "KMeansOptions",
                "LinkageMethod", "LinkageMemoryError", "Cancelled", "CancelCheck", "BuildInfo", "build_info"}
    assert expected <= names, sorted(expected - names)


def test_an_undocumented_declaration_is_reported(tmp_path: Path) -> None:
    header = tmp_path / "x.hpp"
    header.write_text("// A header.\n#pragma once\nnamespace pixclust {\n\n// Documented.\nint f();\n\n"
                      "int g(int x);\n\nstruct S {\n  int a = 0;\n};\n}  // namespace pixclust\n")
    missing = _cppheaders().undocumented(_cppheaders().parse_header(header))
    assert missing == ["x.hpp:8 g", "x.hpp:10 S"]


def test_a_declaration_the_parser_does_not_know_is_an_error(tmp_path: Path) -> None:
    # Skipping it would let it pass the comment check unseen.
    header = tmp_path / "y.hpp"
    header.write_text("// A header.\n#pragma once\nnamespace pixclust {\n// A variable.\nint x;\n}  // namespace pixclust\n")
    with pytest.raises(ValueError, match="line 5"):
        _cppheaders().parse_header(header)


@pytest.mark.docs
def test_site_builds_without_warnings_with_the_gallery_run(tmp_path: Path) -> None:
    try:
        import numpydoc  # noqa: F401
        import pydata_sphinx_theme  # noqa: F401
        import sphinx  # noqa: F401
        import sphinx_gallery  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the docs build needs the docs extra (pip install -e '.[docs]'), or deselect it with "
                    f"-m 'not docs': {exc}")
    # run_stale_examples: every example runs, even one whose output an earlier build left in docs/
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-D", "sphinx_gallery_conf.run_stale_examples=True",
           "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
    html = tmp_path / "html"
    # the gallery ran: each example's page exists and has figures made by the run
    examples = sorted((REPO / "examples" / "gallery").glob("plot_*.py"))
    assert examples
    for example in examples:
        page = html / "auto_examples" / f"{example.stem}.html"
        assert page.is_file(), page
        assert "sphx_glr_" + example.stem in page.read_text(encoding="utf-8")
    assert list((html / "_images").glob("sphx_glr_plot_1_tutorial_*.png"))
    # the generated references: every public Python name has a page, every command a section
    import pixclust
    import pixclust.dask
    import pixclust.plot

    generated = {p.stem for p in (html / "api" / "generated").glob("*.html")}
    public = {f"pixclust.{name}" for name in pixclust.__all__ if name != "__version__"}
    public |= {f"pixclust.plot.{name}" for name in pixclust.plot.__all__}
    public |= {f"pixclust.dask.{name}" for name in pixclust.dask.__all__}
    assert public <= generated, sorted(public - generated)
    cli = (html / "guide" / "cli.html").read_text(encoding="utf-8")
    for command in ("quantize", "compare", "palette", "tree", "dendrogram", "demo", "config"):
        assert f"pixclust {command}" in cli
    assert "kmeans_lloyd" in (html / "api" / "cpp.html").read_text(encoding="utf-8")


def test_the_benchmarks_page_shows_what_the_script_writes() -> None:
    # Each table on the page is a file tools/bench_docs.py writes, headed by the command that made it.
    spec = importlib.util.spec_from_file_location("bench_docs", REPO / "tools" / "bench_docs.py")
    assert spec is not None and spec.loader is not None
    bench_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_docs)
    page = (DOCS / "benchmarks.rst").read_text(encoding="utf-8")
    included = set(re.findall(r"literalinclude:: benchmarks/(\w+)\.txt", page))
    assert included == set(bench_docs.QUICK)
    for name, args in bench_docs.QUICK.items():
        first = (DOCS / "benchmarks" / f"{name}.txt").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"$ python benchmarks/bench_{name}.py {' '.join(args)}"), first
