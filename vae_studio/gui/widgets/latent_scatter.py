"""The latent map's scatter drawing: fast in-place moves of many points, and items that leave clicks to the map.

Kept apart from the panel so the drawing of the points can change (and be measured) in one place.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
import numpy as np

from .fast_scatter import ViewFollowingScatter
from .steady_view import SteadyViewBox


def move_scatter(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """Move the item's existing points in place, keeping their brushes and cached symbols.

    ``setData`` rebuilds every point's style key in a Python loop (about 50 ms for 10,000
    points), too slow to repeat on every training refresh or view change; only the positions
    change then, so they are written into the item's record array and its cached bounds and
    picture are dropped, as ``ScatterPlotItem.addPoints`` itself does after adding points.
    """
    item.data["x"] = x
    item.data["y"] = y
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()


class InertScatter(ViewFollowingScatter):
    """A scatter item that leaves clicks to the ViewBox.

    pyqtgraph offers a click to every item near the cursor, and a ScatterPlotItem takes it when a
    spot is under the cursor, so clicks on dots (or on the crosshair) would never probe or select:
    the map decides itself, with the nearest point in screen space (_nearest_point).
    """

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        ev.ignore()


class ScrubViewBox(SteadyViewBox):
    """A ViewBox whose left button probes the latent space instead of panning.

    Left click and left drag report scene positions; panning moves to the right and middle
    buttons and to Shift + left drag, zooming stays on the wheel. Drags on the axes keep
    pyqtgraph's behaviour (they scale one axis).
    """

    sigProbeClicked = Signal(object)  # scene position (QPointF) of a left click
    sigScrubbed = Signal(object)  # scene position while the left button drags

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigProbeClicked.emit(ev.scenePos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph's name)
        if axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() == Qt.MouseButton.LeftButton and not shift:
            if ev.isStart():
                # The drag is only recognised a few pixels after the press; start where it began.
                self.sigScrubbed.emit(ev.buttonDownScenePos(Qt.MouseButton.LeftButton))
            self.sigScrubbed.emit(ev.scenePos())
            return
        # Pan: move the view by the cursor's displacement, mapped into view coordinates.
        to_view = self.childGroup.transform().inverted()[0]
        delta = to_view.map(ev.lastPos()) - to_view.map(ev.pos())
        self.translateBy(x=delta.x(), y=delta.y())
        self.sigRangeChangedManually.emit(self.state["mouseEnabled"])  # as pyqtgraph's own pan does
