"""Plots on a white background (loss curves, score histograms, ROC): one look for all of them."""

from __future__ import annotations

import pyqtgraph as pg

AXIS_PEN = (90, 90, 90)
TEXT_PEN = (40, 40, 40)  # axis numbers, legends and notes on a white plot

# The smallest side of a plot a lesson page teaches with, on a 1366x768 screen as on larger ones.
TEACHING_PLOT_MIN = 300


def light_plot(left: str, bottom: str, view_box: pg.ViewBox | None = None) -> pg.PlotWidget:
    """A white plot with labelled, grey axes and a faint grid (in ``view_box``, if given)."""
    plot = pg.PlotWidget(background="w", viewBox=view_box)
    item = plot.getPlotItem()
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)
    item.showGrid(x=True, y=True, alpha=0.15)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_PEN))
        axis.setTextPen(pg.mkPen(TEXT_PEN))
    return plot
