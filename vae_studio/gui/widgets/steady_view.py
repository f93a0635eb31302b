"""A plot view whose automatic fit holds still while the data stay inside it: for plots that grow while a model trains.

pyqtgraph fits a view to its data at every change, and every change of range makes the axes
lay out and render their tick labels and grid lines anew. While a model trains, the loss curves
grow four times a second and the latent map moves at every snapshot; redrawing the axes was most
of each repaint, and a repaint on the GUI thread holds up one of the two threads a training run
on a two-core laptop wants (with the axes not redrawn, the window trained at the command line's
speed: docs/PERFORMANCE.md §3). So while ``steady`` is on, a fit keeps the range on show as long
as the data stay inside it and fill a fair part of it, and when the data leave it, the new range
leaves room (a fraction of the data's span) on the side they left by, where they are heading.
The axes then change a handful of times in a run instead of at every redraw. Off (the default),
fits are pyqtgraph's own: a finished model's curves fill the plot exactly.

An axis that does not change still replays its tick labels and grid lines at every repaint: 1.4 ms
per axis, half of a loss-plot repaint. :func:`cache_axes` keeps each axis as a picture Qt draws
again only when the axis changes; it is for the steady stretches only, as a view that moves (a pan,
a zoom) would redraw the picture and the axis at every frame. :func:`keep_label_room` keeps the
axes' widths from following every change of their labels' widths.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QGraphicsItem

# A range kept while the data fill less than this share of it would look empty: refit then.
MIN_FILL = 0.3
# A range no narrower than this share of the size of its values: the first steps of a run have nearly
# equal losses, and a range fitted to them had tick labels such as "5.22674247622489" (an axis 141 px
# wide for the whole run).
MIN_RELATIVE_SPAN = 0.01


Headroom = tuple[float, float]  # room left below and above the data when they leave the range, in spans


def _span(data: tuple[float, float]) -> float:
    """The data's span, or MIN_RELATIVE_SPAN of the size of their values when that is wider."""
    low, high = data
    return max(high - low, MIN_RELATIVE_SPAN * abs(low + high) / 2)


def holds(data: tuple[float, float], shown: tuple[float, float]) -> tuple[bool, bool]:
    """Whether ``shown`` holds the data, and whether they fill at least MIN_FILL of it."""
    (low, high), (shown_low, shown_high) = data, shown
    return shown_low <= low and high <= shown_high, _span(data) >= MIN_FILL * (shown_high - shown_low)


def refit(data: tuple[float, float], padding: float, shown: tuple[float, float], headroom: Headroom) -> tuple[float, float]:
    """The data with ``padding`` (a fraction of their span, as pyqtgraph pads a fit) on both sides, widened
    by ``headroom`` (below, above) spans on each side where they went past ``shown``; a span narrower
    than MIN_RELATIVE_SPAN of the values is widened to it around its middle. Whether to refit is judged
    on the data alone (:func:`holds`): pyqtgraph's padding grows with the span."""
    (low, high), (shown_low, shown_high) = data, shown
    span = _span(data)
    below = padding + (headroom[0] if low < shown_low else 0.0)
    above = padding + (headroom[1] if high > shown_high else 0.0)
    middle = (low + high) / 2
    low, high = min(low, middle - span / 2), max(high, middle + span / 2)
    return low - below * span, high + above * span


class SteadyViewBox(pg.ViewBox):
    """A ViewBox whose fits (pyqtgraph's auto-range and ``autoRange()``) hold still while ``steady`` (module doc).

    ``headroom`` is per axis (x, y): a training-step axis only grows, and doubles ((0, 1)) so that it
    changes a few times in a run; values that wander get a quarter of their span on either side.
    """

    def __init__(self, headroom: tuple[Headroom, Headroom] = ((0.25, 0.25), (0.25, 0.25)), **kwargs) -> None:
        super().__init__(**kwargs)
        self.headroom = headroom
        self.steady = False
        self._fitting: str | None = None  # "padded": pyqtgraph's auto-range, which pads before setRange; "raw"

    def updateAutoRange(self) -> None:  # noqa: N802 (pyqtgraph's name)
        self._fit("padded", super().updateAutoRange)

    def autoRange(self, padding=None, items=None, item=None) -> None:  # noqa: N802 (pyqtgraph's name)
        self._fit("raw", lambda: super(SteadyViewBox, self).autoRange(padding, items, item))

    def _fit(self, kind: str, fit) -> None:
        self._fitting = kind
        try:
            fit()
        finally:
            self._fitting = None

    def _steady_ranges(self, wanted: dict, shown: list[tuple[float, float]]) -> dict[int, tuple[float, float]]:
        """The ranges to set, by axis, for the data ``wanted`` (axis: (data range, padding)); none while held.

        A range held is left out: set again, an aspect-locked view (the map) would re-centre it. An
        aspect-locked view shows more than the data along one axis by design, so its axes are held or
        refitted together, and held while the data fill either of them.
        """
        verdicts = {axis: holds(data, shown[axis]) for axis, (data, _) in wanted.items()}
        if self.state["aspectLocked"]:
            hold = all(inside for inside, _ in verdicts.values()) and any(fills for _, fills in verdicts.values())
            held = set(verdicts) if hold else set()
        else:
            held = {axis for axis, (inside, fills) in verdicts.items() if inside and fills}
        return {
            axis: refit(data, pad, shown[axis], self.headroom[axis])
            for axis, (data, pad) in wanted.items()
            if axis not in held
        }

    def setRange(self, rect=None, xRange=None, yRange=None, padding=None, update=True, disableAutoRange=True):  # noqa: N802,N803
        if self._fitting and self.steady:
            if rect is not None:
                rect = QRectF(rect)
                xRange, yRange, rect = (rect.left(), rect.right()), (rect.top(), rect.bottom()), None
            shown = [tuple(r) for r in self.viewRange()]
            wanted = {}
            for axis, asked in enumerate((xRange, yRange)):
                if asked is not None:
                    low, high = sorted(asked)
                    pad = self.suggestPadding(axis) if padding is None or self._fitting == "padded" else padding
                    if self._fitting == "padded":  # back to the data's own span
                        inset = pad * (high - low) / (1 + 2 * pad)
                        low, high = low + inset, high - inset
                    wanted[axis] = ((low, high), pad)
            ranges = self._steady_ranges(wanted, shown)
            if not ranges:
                return
            xRange, yRange, padding = ranges.get(0), ranges.get(1), 0.0
        super().setRange(rect, xRange, yRange, padding, update, disableAutoRange)


def cache_axes(plot: pg.PlotItem, cached: bool) -> None:
    """Draw the plot's axes from a cached picture (while its range holds steady), or afresh each time."""
    mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if cached else QGraphicsItem.CacheMode.NoCache
    for axis in plot.axes.values():
        axis["item"].setCacheMode(mode)


def keep_label_room(plot: pg.PlotItem, keep: bool) -> None:
    """Let the room for the axes' tick labels only grow (``keep``: while one model, or one model's run,
    is shown), or fit it to the labels again (another model).

    An axis fits its width to its tick labels: labels that went from "-2" to "-10" and back resized the
    plot's view twice, each time one more layout and repaint (on the aspect-locked map, a change of
    range as well). Kept through the end of a run too: shrunk there, the finished run was laid out
    and drawn twice in the turn that shows it.
    """
    for axis in plot.axes.values():
        # The style entry alone: setStyle would also throw the axis's drawing away (redrawn at the next
        # paint, 1-3 ms per axis), and the entry is only read when the axis is drawn next.
        axis["item"].style["autoReduceTextSpace"] = not keep


def fit_label_room(plot: pg.PlotItem) -> None:
    """Size the axes to their labels for the range now set (shrinking them if need be), then keep that
    room from shrinking (:func:`keep_label_room`): for a plot that shows something new."""
    keep_label_room(plot, False)
    lay_out_axes_now(plot)
    keep_label_room(plot, True)


def lay_out_axes_now(plot: pg.PlotItem) -> None:
    """Apply the plot's new range, size its axes to their tick labels for it, and lay the plot out:
    now, before it is painted.

    pyqtgraph applies a new range, and sizes an axis to its labels, while it paints; either change
    then asks for a second paint of the plot in the same event-loop pass (the latent map's
    aspect-locked view also changes its range when it is resized). Drawing each changed axis into a
    throwaway picture first does the sizing; pyqtgraph keeps the drawing for the paint unless the
    axis was resized, when it would have been drawn again anyway.
    """
    plot.scene().prepareForPaint()
    picture = QPicture()
    painter = QPainter(picture)
    try:
        for axis in plot.axes.values():
            item = axis["item"]
            if item.isVisible() and item.picture is None:
                item.paint(painter, None, None)
    finally:
        painter.end()
    plot.layout.activate()
