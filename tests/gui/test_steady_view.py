"""Steady fits: a plot that grows while a model trains changes its range (and redraws its axes) a few times, not at every redraw."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QGraphicsItem

from vae_studio.gui.widgets.steady_view import (
    MIN_FILL,
    MIN_RELATIVE_SPAN,
    SteadyViewBox,
    cache_axes,
    holds,
    keep_label_room,
    lay_out_axes_now,
    refit,
)

QUARTER = (0.25, 0.25)


def steady_range(data, padding, shown, headroom):
    """One axis of a view that is not aspect-locked, as SteadyViewBox decides it."""
    inside, fills = holds(data, shown)
    return shown if inside and fills else refit(data, padding, shown, headroom)


def test_data_inside_the_range_keep_it() -> None:
    assert holds((2.0, 8.0), (0.0, 10.0)) == (True, True)
    assert steady_range((2.0, 8.0), 0.05, (0.0, 10.0), QUARTER) == (0.0, 10.0)


def test_data_that_leave_get_headroom_on_the_side_they_left_by() -> None:
    assert holds((2.0, 12.0), (0.0, 10.0)) == (False, True)
    assert refit((2.0, 12.0), 0.0, (0.0, 10.0), QUARTER) == (2.0, 12.0 + 0.25 * 10.0)  # room above, none below
    assert refit((-4.0, 6.0), 0.0, (0.0, 10.0), QUARTER) == (-4.0 - 0.25 * 10.0, 6.0)


def test_padding_is_added_to_the_data_and_judged_without_it() -> None:
    # Padded, the data (1, 9) would reach past (0.5, 9.5); unpadded they are inside: kept.
    assert steady_range((1.0, 9.0), 0.1, (0.5, 9.5), QUARTER) == (0.5, 9.5)
    assert refit((1.0, 11.0), 0.1, (0.5, 9.5), (0.0, 0.0)) == pytest.approx((0.0, 12.0))


def test_data_that_shrink_well_inside_are_refitted() -> None:
    span = MIN_FILL * 10.0 * 0.9
    assert holds((5.0, 5.0 + span), (0.0, 10.0)) == (True, False)
    assert steady_range((5.0, 5.0 + span), 0.0, (0.0, 10.0), QUARTER) == (5.0, 5.0 + span)


def test_nearly_equal_values_get_a_range_of_a_share_of_their_size() -> None:
    """The first steps' losses: not a range 1e-17 wide with 16-digit tick labels."""
    low, high = refit((5.2e-3, 5.2e-3 + 1e-17), 0.0, (0.0, 1e-3), QUARTER)  # above the range shown
    assert high - low == pytest.approx(MIN_RELATIVE_SPAN * 5.2e-3 * 1.25)  # widened, then a quarter above
    assert low < 5.2e-3 < high
    widened = refit((5.2e-3, 5.2e-3 + 1e-17), 0.0, (0.0, 1.0), (0.0, 0.0))
    assert holds((5.2e-3, 5.2e-3 + 2e-17), widened) == (True, True)  # and kept while they stay that close
    assert refit((-0.5, 0.5), 0.0, (-0.5, 0.5), QUARTER) == (-0.5, 0.5)  # values around 0: their own span


def test_a_growing_step_axis_doubles_a_few_times_instead_of_following_each_step() -> None:
    shown, changes = (0.0, 1.0), 0
    for steps in range(2, 5001):
        new = steady_range((1.0, float(steps)), 0.02, shown, (0.0, 1.0))
        changes += new != shown
        shown = new
        assert shown[0] <= 1.0 and steps <= shown[1] <= 2.1 * steps
    assert changes <= 14  # log2(5000) is 12.3; a plain fit changes at every step (4,999 times)


@pytest.fixture
def plot(qtbot) -> pg.PlotWidget:
    plot = pg.PlotWidget(viewBox=SteadyViewBox(headroom=((0.0, 1.0), QUARTER)))
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    return plot


def fitted(plot: pg.PlotWidget) -> list[list[float]]:
    plot.getPlotItem().vb.prepareForPaint()  # pyqtgraph fits while it paints
    QApplication.processEvents()
    return [list(r) for r in plot.getPlotItem().vb.viewRange()]


def test_steady_auto_range_holds_while_the_curve_grows_inside(plot: pg.PlotWidget) -> None:
    vb = plot.getPlotItem().vb
    curve = plot.plot(np.arange(1, 101, dtype=float), np.linspace(500, 200, 100))
    vb.steady = True
    first = fitted(plot)
    assert first[0][1] >= 100 and first[1][0] <= 200 <= 500 <= first[1][1]
    curve.setData(np.arange(1, 121, dtype=float), np.linspace(500, 180, 120))
    assert fitted(plot)[0] == first[0]  # the step axis did not move: room was left for the run


def test_steady_auto_range_changes_rarely_over_a_run(plot: pg.PlotWidget) -> None:
    vb = plot.getPlotItem().vb
    vb.steady = True
    changes = []
    vb.sigXRangeChanged.connect(lambda *_: changes.append(1))
    curve = plot.plot([1.0], [500.0])
    for steps in range(10, 2001, 10):
        x = np.arange(1, steps + 1, dtype=float)
        curve.setData(x, 150 + 350 * np.exp(-x / 100))
        fitted(plot)
    assert len(changes) <= 12  # 200 redraws
    assert fitted(plot)[0][1] >= 2000


def test_without_steady_the_fit_is_pyqtgraphs_own(plot: pg.PlotWidget) -> None:
    vb = plot.getPlotItem().vb
    x = np.arange(1, 101, dtype=float)
    curve = plot.plot(x, x)
    assert 100 <= fitted(plot)[0][1] < 110  # a plain fit
    vb.steady = True
    curve.setData(x[:60], x[:60])  # smaller, but filling most of the range: steady keeps it...
    assert fitted(plot)[0][1] >= 100
    vb.steady = False
    vb.updateAutoRange()  # ...and a plain fit shrinks to it
    assert fitted(plot)[0][1] < 70


def fit_to(plot: pg.PlotWidget, scatter: pg.ScatterPlotItem, x: list[float], y: list[float]) -> list[list[float]]:
    """Move the points and fit the view to them explicitly (as the latent map does at each refresh)."""
    scatter.setData(x=x, y=y)
    plot.getPlotItem().vb.autoRange(items=[scatter])
    return fitted(plot)


def scatter_in(plot: pg.PlotWidget, aspect_locked: bool = False) -> pg.ScatterPlotItem:
    vb = plot.getPlotItem().vb
    vb.setAspectLocked(aspect_locked)
    vb.disableAutoRange()
    scatter = pg.ScatterPlotItem()
    vb.addItem(scatter)
    return scatter


def test_explicit_auto_range_is_steady_too(plot: pg.PlotWidget) -> None:
    scatter = scatter_in(plot)
    before = fit_to(plot, scatter, [-1.0, 1.0], [-1.0, 1.0])
    plot.getPlotItem().vb.steady = True
    assert fit_to(plot, scatter, [-0.8, 0.9], [-0.9, 0.7]) == before
    (x_low, x_high), (y_low, y_high) = fit_to(plot, scatter, [-1.0, 3.0], [-3.0, 1.0])
    assert x_high >= 3.0 + 1.0 * 4.0 and x_low > -1.5  # this view's x axis leaves room only above
    assert y_low <= -3.0 - 0.25 * 4.0 and y_high < 1.5  # its y axis on the side the points went


def test_an_aspect_locked_view_holds_both_axes_while_the_points_fill_either(plot: pg.PlotWidget) -> None:
    scatter = scatter_in(plot, aspect_locked=True)
    before = fit_to(plot, scatter, [-1.0, 1.0], [-5.0, 5.0])  # tall: the x axis shows far more than the points
    plot.getPlotItem().vb.steady = True
    assert fit_to(plot, scatter, [-0.9, 0.9], [-4.5, 4.8]) == before  # nothing moved, nor was re-centred
    (_, _), (y_low, y_high) = fit_to(plot, scatter, [-0.9, 0.9], [-4.5, 9.0])
    assert y_high >= 9.0 and y_low <= -4.5


def test_cached_axes_are_drawn_from_a_picture_until_released(plot: pg.PlotWidget) -> None:
    item = plot.getPlotItem()
    cache_axes(item, True)
    assert {item.getAxis(name).cacheMode() for name in ("left", "bottom")} == {
        QGraphicsItem.CacheMode.DeviceCoordinateCache
    }
    cache_axes(item, False)
    assert {item.getAxis(name).cacheMode() for name in ("left", "bottom")} == {QGraphicsItem.CacheMode.NoCache}


def test_kept_label_room_only_grows_until_released(plot: pg.PlotWidget) -> None:
    item = plot.getPlotItem()
    left = item.getAxis("left")

    def show_range(low: float, high: float) -> None:
        plot.setYRange(low, high, padding=0)
        plot.grab()  # an axis fits its room to its labels while it paints ...
        QApplication.processEvents()  # ... and the plot's layout follows

    keep_label_room(item, True)
    show_range(-10000.0, 10000.0)
    wide = left.width()
    show_range(0.0, 1.0)
    assert left.width() == wide  # short labels again: the room stays (no resize, no second repaint)
    keep_label_room(item, False)
    show_range(0.0, 2.0)  # the next labels drawn fit the room to them again
    assert left.width() < wide


def test_axes_are_sized_for_a_new_range_before_the_paint(plot: pg.PlotWidget) -> None:
    """Not in the paint, after which the plot was laid out and painted again."""
    item = plot.getPlotItem()
    left = item.getAxis("left")
    plot.setYRange(0.0, 1.0, padding=0)
    plot.grab()
    QApplication.processEvents()
    narrow = left.width()
    plot.setYRange(-10000.0, 10000.0, padding=0)
    item.vb.prepareForPaint()
    lay_out_axes_now(item)
    wide = left.width()
    assert wide > narrow
    resized: list[object] = []
    item.vb.sigResized.connect(resized.append)
    plot.grab()
    QApplication.processEvents()
    assert left.width() == wide and not resized
