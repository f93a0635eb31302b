"""What a plot widget draws, found through pyqtgraph's public item lists: the tests check the
pictures a user sees, not the panel attributes that happen to hold them."""

from __future__ import annotations

import pyqtgraph as pg


def drawn(plot: pg.PlotWidget, kind: type = pg.PlotDataItem) -> list:
    """The items of ``kind`` that ``plot`` shows, in the order they were added."""
    return [item for item in plot.getPlotItem().items if isinstance(item, kind)]


def named(plot: pg.PlotWidget, name: str) -> pg.PlotDataItem:
    """The curve that ``plot`` shows under ``name`` (its legend entry)."""
    (item,) = [item for item in plot.getPlotItem().listDataItems() if item.name() == name]
    return item
