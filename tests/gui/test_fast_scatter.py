"""The big scatter's drawing while its view moves (gui/widgets/fast_scatter.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from vae_studio.gui.widgets import fast_scatter
from vae_studio.gui.widgets.fast_scatter import MOVING_POINTS, ViewFollowingScatter, ViewMotion, hide_grid_while_moving


@pytest.fixture
def plot(qtbot) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.resize(400, 300)
    widget.showGrid(x=True, y=True, alpha=0.15)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _painted_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of points pyqtgraph's own paint sees, per paint."""
    sizes: list[int] = []
    paint = pg.ScatterPlotItem.paint
    monkeypatch.setattr(pg.ScatterPlotItem, "paint", lambda self, *a: (sizes.append(len(self.data)), paint(self, *a)))
    return sizes


def test_a_moving_view_draws_a_subset_and_no_grid_then_everything(
    qtbot, plot: pg.PlotWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = MOVING_POINTS * 3
    scatter = ViewFollowingScatter(pxMode=True, pen=None, size=4)
    scatter.setData(x=np.random.default_rng(0).normal(size=n), y=np.random.default_rng(1).normal(size=n))
    plot.addItem(scatter)
    viewbox = plot.getViewBox()
    motion = ViewMotion(viewbox)
    scatter.follow_view(motion)
    hide_grid_while_moving(plot.getPlotItem(), motion)
    qtbot.wait(fast_scatter.SETTLE_MS + 50)  # the plot's own first range changes settle
    sizes = _painted_sizes(monkeypatch)

    viewbox.translateBy(x=0.1)
    plot.viewport().repaint()
    assert not motion.moving and sizes[-1] == n  # one change is one frame, drawn in full
    qtbot.wait(1)  # the next event-loop turn
    viewbox.translateBy(x=0.1)  # a second within SETTLE_MS: the view moves
    plot.viewport().repaint()
    assert motion.moving and sizes[-1] == MOVING_POINTS
    assert plot.getAxis("left").grid is False and plot.getAxis("bottom").grid is False
    assert len(scatter.data) == n  # the item keeps all its points

    qtbot.waitUntil(lambda: not motion.moving, timeout=2000)
    plot.viewport().repaint()
    assert sizes[-1] == n
    assert plot.getAxis("left").grid == int(0.15 * 255)


def test_a_small_scatter_always_draws_every_point(qtbot, plot: pg.PlotWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_scatter, "MOVING_POINTS", 100)
    scatter = ViewFollowingScatter(pxMode=True, pen=None, size=4)
    scatter.setData(x=np.arange(50.0), y=np.arange(50.0))
    plot.addItem(scatter)
    scatter.follow_view(ViewMotion(plot.getViewBox()))
    sizes = _painted_sizes(monkeypatch)
    for _ in range(2):
        plot.getViewBox().translateBy(x=1.0)
        qtbot.wait(1)
    plot.viewport().repaint()
    assert sizes and sizes[-1] == 50


def test_a_single_change_of_range_is_one_full_repaint(qtbot, plot: pg.PlotWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    """A training refresh that refits the map, or one wheel step: not drawn as a subset and then again in full."""
    n = MOVING_POINTS * 2
    scatter = ViewFollowingScatter(pxMode=True, pen=None, size=4)
    scatter.setData(x=np.random.default_rng(0).normal(size=n), y=np.random.default_rng(1).normal(size=n))
    plot.addItem(scatter)
    motion = ViewMotion(plot.getViewBox())
    scatter.follow_view(motion)
    qtbot.wait(fast_scatter.SETTLE_MS + 50)
    changes: list[bool] = []
    motion.moving_changed.connect(changes.append)
    sizes = _painted_sizes(monkeypatch)
    plot.getViewBox().setRange(xRange=(-3.0, 3.0), yRange=(-2.0, 2.0), padding=0)
    plot.getViewBox().setRange(xRange=(-3.5, 3.5), yRange=(-2.0, 2.0), padding=0)  # in the same turn: one change
    plot.viewport().repaint()
    qtbot.wait(fast_scatter.SETTLE_MS * 2)
    assert changes == [] and set(sizes) == {n}  # every repaint in full
