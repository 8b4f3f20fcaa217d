"""The figure class of :mod:`pixclust.plot`: a matplotlib Figure that a notebook shows once.

Imported only when a figure is made (matplotlib is optional).
"""

from __future__ import annotations

import io
import sys
from typing import Any, Optional

from matplotlib.figure import Figure as _MplFigure


def _managed(fig: _MplFigure) -> bool:
    """Whether pyplot holds ``fig`` (open in its figure list)."""
    if "matplotlib.pyplot" not in sys.modules:
        return False
    from matplotlib import _pylab_helpers  # pyplot's figure registry, the one backends use

    return any(m.canvas.figure is fig for m in _pylab_helpers.Gcf.get_all_fig_managers())


def _inline() -> bool:
    import matplotlib

    return "inline" in str(matplotlib.get_backend()).lower()


class Figure(_MplFigure):
    """A :class:`matplotlib.figure.Figure` that shows itself once when a notebook displays it.

    IPython shows a cell's last value, and the inline backend shows every pyplot figure at the cell's
    end: a pyplot figure returned by a function would appear twice, and a figure outside pyplot not at
    all (tests/test_plot.py runs both in a kernel).
    """

    def _ipython_display_(self) -> None:
        from IPython.display import display

        text = {"text/plain": repr(self)}
        managed = _managed(self)
        if managed and not _inline():  # its backend's window or widget shows it
            display(text, raw=True)  # type: ignore[no-untyped-call]
            return
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")  # as the inline backend draws it
        display({"image/png": buf.getvalue(), **text}, raw=True)  # type: ignore[no-untyped-call]
        if managed:  # else the inline backend shows it again at the cell's end
            import matplotlib.pyplot as plt

            plt.close(self)


def new_figure(figsize: tuple[float, float], dpi: Optional[float] = None) -> Any:
    """A new constrained-layout figure: a pyplot one when the caller imported pyplot (``plt.show()``
    shows it, ``plt.close()`` frees it), else one pyplot never sees."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        return pyplot.figure(figsize=figsize, dpi=dpi, layout="constrained", FigureClass=Figure)
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def release(fig: Any) -> None:
    """Closes ``fig`` in pyplot if pyplot holds it (the command line's figures, once saved)."""
    if _managed(fig):
        import matplotlib.pyplot as plt

        plt.close(fig)
