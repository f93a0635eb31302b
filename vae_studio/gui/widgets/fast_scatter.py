"""A big scatter that keeps up with the hand while its view pans or zooms.

The latent map draws up to 70,000 points (all of MNIST) as one pyqtgraph ``ScatterPlotItem`` in
pixel mode, with its symbols drawn from a cached atlas (``drawPixmapFragments``): pyqtgraph's
fastest path, yet every frame still maps, culls and blits every point, about 25 frames per
second on a two-core laptop with Qt's software rasteriser. While the view moves, the item draws
a fixed random subset of :data:`MOVING_POINTS` points (the same ones every frame, so the cloud does
not flicker, and a uniform sample, so every class keeps its share), and all of them again once the
view has been still for :data:`SETTLE_MS`. A view "moves" from the second change of its range within
SETTLE_MS, in another event-loop turn: a single change (a wheel step, a training refresh that refits
the map, with the resize its new axis labels bring) is one frame, and drawing it as a subset and
then once more in full made it three repaints instead of one (with the grid's axes redrawn twice).
benchmarks/gui_responsiveness.py measured the alternatives; docs/PERFORMANCE.md has the figures:

* Qt's item cache (``DeviceCoordinateCache``) makes panning cheap but is redrawn on every zoom step;
* a numpy raster of the points (an ``ImageItem``) was no faster than the atlas at this size;
* OpenGL is not available with the offscreen and many lab-machine (software) platforms.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal

# Points drawn while the view moves: about 60 frames per second on a busy two-core laptop.
MOVING_POINTS = 8_000
# The view counts as still this long after its last change; then every point is drawn again.
SETTLE_MS = 150


class ViewMotion(QObject):
    """Whether a view is moving: from the second change of its range within SETTLE_MS of the one
    before, until it has been still for SETTLE_MS (module doc)."""

    moving_changed = Signal(bool)

    def __init__(self, viewbox: pg.ViewBox) -> None:
        super().__init__(viewbox)
        self.moving = False
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(lambda: self._set_moving(False))
        # Changes in one event-loop turn are one change (a refit, and the resize its axis labels cause).
        self._this_turn = QTimer(self, singleShot=True, interval=0)
        viewbox.sigRangeChanged.connect(self._on_range_changed)

    def _on_range_changed(self, *_args) -> None:
        # The settle timer runs from each change until SETTLE_MS after it: running (and started in an
        # earlier turn), it says a change came just before.
        if not self._this_turn.isActive():
            self._set_moving(self._settle.isActive())
            self._this_turn.start()
        self._settle.start()

    def _set_moving(self, moving: bool) -> None:
        if moving != self.moving:
            self.moving = moving
            self.moving_changed.emit(moving)


def hide_grid_while_moving(plot: pg.PlotItem, motion: ViewMotion) -> None:
    """Leave out the plot's grid lines while its view moves: the axes redraw them at every frame
    (with their tick labels, from a QPicture), which took as long as 8,000 points."""
    axes = [plot.getAxis(name) for name in ("left", "bottom")]
    shown = {axis: axis.grid for axis in axes}

    def on_moving(moving: bool) -> None:
        for axis in axes:
            axis.setGrid(False if moving else shown[axis])

    motion.moving_changed.connect(on_moving)


class ViewFollowingScatter(pg.ScatterPlotItem):
    """A ``ScatterPlotItem`` that draws a subset of its points while the view whose
    :class:`ViewMotion` is given to :meth:`follow_view` moves (small scatters, and exports, always
    draw every point)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._moving = False
        self._subset = np.arange(0)
        self._subset_of = 0  # the number of points the subset was drawn from

    def follow_view(self, motion: ViewMotion) -> None:
        motion.moving_changed.connect(self._on_moving_changed)

    def _on_moving_changed(self, moving: bool) -> None:
        self._moving = moving
        if not moving and len(self.data) > MOVING_POINTS:
            self.update()  # every point again

    def paint(self, painter, option, widget) -> None:
        n = len(self.data)
        if not self._moving or n <= MOVING_POINTS or self._exportOpts is not False:
            super().paint(painter, option, widget)
            return
        if self._subset_of != n:
            self._subset = np.sort(np.random.default_rng(0).choice(n, MOVING_POINTS, replace=False))
            self._subset_of = n
        # pyqtgraph's paint reads everything per point (positions, visibility, atlas rects) from
        # self.data: for this frame it sees the subset's rows only.
        full = self.data
        self.data = full[self._subset]
        try:
            super().paint(painter, option, widget)
        finally:
            self.data = full
