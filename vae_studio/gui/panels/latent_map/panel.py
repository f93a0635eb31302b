"""The clickable latent map: the test split's encoded means on a 2-D plane through latent space.

Every screen position is a latent vector (``ViewPlane.to_latent`` of its plane coordinates), so a
click or a drag sets the probe the preview decodes, and what the preview shows is exactly the
decoding of the point under the cursor. Encoding the split and decoding the manifold picture run
on this panel's own newest-wins Tasks; the GUI thread only projects, draws and answers the mouse.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QGraphicsView, QLabel, QMessageBox, QStackedWidget, QVBoxLayout, QWidget

from ....core.app_state import AppState, Event
from ....core.compatibility import can_run_on
from ....core.data import ImageDataset
from ....core.latent import Encoding, encode
from ....core.map_notices import map_notices
from ....core.models import AE
from ...widgets.colours import UNLABELLED, class_colours
from ...work.tasks import Task, TaskState
from ...work.turns import OwnTurn
from ...widgets.fast_scatter import ViewMotion, hide_grid_while_moving
from ...widgets.latent_scatter import InertScatter, ScrubViewBox, move_scatter
from ...widgets.notices import MapNotice
from ...widgets.steady_view import cache_axes, lay_out_axes_now
from .layers import MapLayers
from .view_plane import ViewPlaneControls
from ..base import ExportError, Panel

POINT_SIZE = 4
POINT_ALPHA = 210
ENCODE_CHUNK = 2000  # between chunks the encoding task checks whether a newer request superseded it
MANIFOLD_DEBOUNCE_MS = 150
EXPORT_SCALE = 2

HINT = (
    "Click: decode that point  ·  click a dot: select it  ·  left-drag: scrub  ·  "
    "right/middle-drag or Shift+drag: pan  ·  wheel: zoom  ·  click a legend entry: hide/show that class"
)


def _encode_split(
    model: AE, images: torch.Tensor, labels: torch.Tensor | None, task: TaskState
) -> Encoding | None:
    """The split's encoding in chunks, giving up (None) as soon as a newer request stops this one."""
    mus: list[np.ndarray] = []
    logvars: list[np.ndarray] = []
    for start in range(0, max(len(images), 1), ENCODE_CHUNK):
        if task.stopped:
            return None
        chunk = slice(start, start + ENCODE_CHUNK)
        part = encode(model, images[chunk], None if labels is None else labels[chunk])
        mus.append(part.mu)
        if part.logvar is not None:
            logvars.append(part.logvar)
    return Encoding(np.concatenate(mus), np.concatenate(logvars) if logvars else None)


class LatentMapPanel(ViewPlaneControls, MapLayers, Panel):
    """The latent map (central widget): points, overlays, and the mouse as a latent-space probe."""

    name = "latentMap"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._xy = np.zeros((0, 2))  # plane coordinates of the shown points
        self._labels: np.ndarray | None = None  # class index per shown point (None: unlabelled)
        self._brush_source: tuple[ImageDataset, int] | None = None  # the split and size the points were built for
        self._visible = np.zeros(0, dtype=bool)  # per point: False for classes hidden with the legend
        self._shown_for: tuple[object, object] | None = None  # (model, data set) of the last encoding shown
        self._autorange_pending = False
        # The axes' room for their labels is fitted when a new model or data set is shown, and only
        # grows while it is (widgets/steady_view.py: keep_label_room): no layout, and second repaint,
        # whenever a pan, a zoom or a training refresh changes the labels' width.
        self._label_room_pending = True
        self._user_zoomed = False  # until the user pans or zooms, the view follows the cloud as it trains
        self._ellipse_rows: np.ndarray | None = None
        # (the GUI copy, [the manifold task's private copy of it, once the task has made it])
        self._manifold_model: tuple[AE, list[AE]] | None = None

        self._build_toolbar()
        self._build_plot()
        self._build_overlays()

        self._lay_out()

        # Newest request wins: a new model, data set or plane supersedes the work in progress.
        self._encode_task = Task(self, newest_wins=True)
        self._encode_task.finished.connect(self._on_encoded)
        self._encode_task.failed.connect(self._on_encode_failed)
        self._manifold_task = Task(self, newest_wins=True)
        self._manifold_task.finished.connect(self._on_manifold)
        self._manifold_task.failed.connect(self._on_manifold_failed)
        # Requests are checked on the next event-loop turn, so a burst of state changes (new model,
        # then training started) settles first and no encoding is started for nothing.
        self._encode_timer = QTimer(self, singleShot=True, interval=0, timeout=self._maybe_encode)
        self._manifold_timer = QTimer(
            self, singleShot=True, interval=MANIFOLD_DEBOUNCE_MS, timeout=self._request_manifold
        )
        self._after_run = OwnTurn(self, self._show_finished_run)

        self.subscribe(self._on_current_model, Event.CURRENT_MODEL, Event.WEIGHTS)
        self.subscribe(self._on_dataset, Event.DATASET)
        self.subscribe(self._on_encoding, Event.ENCODING)
        self.subscribe(self._on_view, Event.VIEW)
        self.subscribe(self._on_selection, Event.SELECTION)
        self.subscribe(self._draw_probe, Event.PROBE)
        self.subscribe(self._on_training, Event.TRAINING)
        self.subscribe(self._draw_overlay, Event.OVERLAY)
        self._configure_controls()
        self._on_dataset()
        if state.encoding is not None:
            self._on_encoding()
        else:
            self._encode_timer.start()

    def _lay_out(self) -> None:
        """The toolbar rows over the map (or its message when there is no map to show) and the hint under it."""
        self.messageLabel = QLabel()
        self.messageLabel.setObjectName("messageLabel")
        self.messageLabel.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.messageLabel.setWordWrap(True)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.latentMap)
        self._stack.addWidget(self.messageLabel)
        self.hintLabel = QLabel(HINT)
        self.hintLabel.setObjectName("hintLabel")
        self.hintLabel.setWordWrap(True)
        self.hintLabel.setStyleSheet("color: gray; font-size: 11px;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._view_row)
        layout.addLayout(self._overlay_row)
        layout.addWidget(self._stack, 1)
        layout.addWidget(self.hintLabel)

    # -- construction ---------------------------------------------------------------
    def _build_plot(self) -> None:
        self._viewbox = ScrubViewBox()
        self.latentMap = pg.PlotWidget(viewBox=self._viewbox)
        self.latentMap.setObjectName("latentMap")
        # Changes repainted as one rectangle: pyqtgraph's minimal updates clipped a selection's ring, its
        # posterior samples and the probe to a region of several rectangles, and painting every layer
        # through that clip took 16-28 ms during training against 7-12 ms (benchmarks/gui_responsiveness.py).
        self.latentMap.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.mapNotice = MapNotice(self.latentMap)  # posterior collapse, tiny scales (core.map_notices)
        self.latentMap.setAspectLocked(True)
        self.latentMap.showGrid(x=True, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            # Without the finest grid level (lines at 3 % opacity, invisible over the points): they were
            # a third of every repaint, and the map is repainted at every pan step and training refresh.
            self.latentMap.getAxis(name).setStyle(maxTickLevel=1)
        self._viewbox.disableAutoRange()  # the user's zoom survives training refreshes; see _on_view
        self._viewbox.sigProbeClicked.connect(self._on_click)
        self._viewbox.sigScrubbed.connect(self._on_scrub)
        self._viewbox.sigRangeChanged.connect(self._on_range_changed)
        self._viewbox.sigRangeChangedManually.connect(self._on_user_zoom)
        self.latentMap.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.latentMap.viewport().installEventFilter(self)

        # One item for all points: per-point brushes from a per-class lookup, drawn from a symbol atlas.
        self.scatter = InertScatter(pxMode=True, pen=None, size=POINT_SIZE)
        # While the view pans or zooms: a subset of the points and no grid (gui/widgets/fast_scatter.py).
        motion = ViewMotion(self._viewbox)
        self.scatter.follow_view(motion)
        hide_grid_while_moving(self.latentMap.getPlotItem(), motion)
        self.latentMap.addItem(self.scatter)
        self.legend = pg.LegendItem(offset=(-10, 10), brush=pg.mkBrush(0, 0, 0, 150), labelTextColor="w")
        self.legend.setParentItem(self._viewbox)

        self.hoverThumbnail = QFrame(self.latentMap, objectName="hoverThumbnail")
        self.hoverThumbnail.setFrameShape(QFrame.Shape.Box)
        self.hoverThumbnail.setStyleSheet("#hoverThumbnail { background: #202020; border: 1px solid #909090; }")
        thumb_layout = QVBoxLayout(self.hoverThumbnail)
        thumb_layout.setContentsMargins(3, 3, 3, 3)
        thumb_layout.setSpacing(1)
        self._thumb_image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._thumb_caption = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, objectName="hoverCaption")
        self._thumb_caption.setStyleSheet("color: #e0e0e0; font-size: 10px;")
        thumb_layout.addWidget(self._thumb_image)
        thumb_layout.addWidget(self._thumb_caption)
        self.hoverThumbnail.hide()
        self.hoverThumbnail.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._hover_index: int | None = None

    # -- public ------------------------------------------------------------------------
    def latent_at(self, scene_pos: QPointF) -> np.ndarray:
        """The latent vector under a scene position: its plane coordinates through ``state.view.to_latent``."""
        if self.state.view is None:
            raise ValueError("the latent map has no view plane yet")
        p = self._viewbox.mapSceneToView(scene_pos)
        return self.state.view.to_latent(np.array([p.x(), p.y()]))

    def export_image(self, path: str | os.PathLike[str]) -> None:
        """Save the map as shown, rendered at EXPORT_SCALE times its size on screen so it stays sharp on slides."""
        # pyqtgraph's exporter redraws every item at the larger size (a grab would only scale pixels).
        # Its SVG exporter is not offered: pyqtgraph 0.14 fails on the SVG paths that Qt 6.12 writes.
        from pyqtgraph.exporters import ImageExporter  # on use: the exporters package is slow to import

        plot = self.latentMap
        exporter = ImageExporter(plot.scene())
        exporter.parameters()["background"] = plot.backgroundBrush().color()
        exporter.parameters()["width"] = EXPORT_SCALE * plot.width()
        exporter.export(str(path))
        if not Path(path).is_file():
            raise ExportError("the file could not be written.")

    def plane_points(self) -> np.ndarray:
        """Plane coordinates (N, 2) of the points on the map (empty without an encoding)."""
        return self._xy

    # -- encoding --------------------------------------------------------------------------
    def _incompatibility(self) -> str | None:
        """Why the current model cannot encode the current data set, or None when it can."""
        current, dataset = self.state.current, self.state.dataset
        if current is None or dataset is None:
            return None
        return can_run_on(current, dataset)

    def _refresh_message(self) -> None:
        current, dataset = self.state.current, self.state.dataset
        if current is None:
            message = "No model yet.\nTrain one in the Training panel or open a checkpoint to explore its latent space."
        elif dataset is None:
            message = "Loading the data set…"
        else:
            message = self._incompatibility()
        if message is None:
            self._stack.setCurrentWidget(self.latentMap)
        else:
            self.messageLabel.setText(message)
            self._stack.setCurrentWidget(self.messageLabel)

    def _on_current_model(self) -> None:
        """A different model, or new weights for the shown one (the manifold is redecoded; until it
        arrives the old picture stays, so training refreshes do not flicker)."""
        self._configure_controls()
        self._refresh_message()
        self._schedule_manifold()

    def _on_training(self) -> None:
        plot = self.latentMap.getPlotItem()
        if self.state.training:
            # Training refreshes hold the view steady (_on_encoding), so the axes can be kept as pictures.
            self._after_run.stop()
            cache_axes(plot, True)
            # The training panel provides encodings now; work in flight is superseded.
            self._encode_task.cancel()
        elif self.state.encoding is None:
            cache_axes(plot, False)
            self._encode_timer.start()
        else:
            # In an event-loop turn of its own, after the run's last refresh is painted and apart from the
            # other panels' end-of-run work (work/turns.py): in one pass together they held the window up
            # for 50-120 ms (benchmarks/gui_responsiveness.py).
            self._after_run.start()

    def _show_finished_run(self) -> None:
        """Axes drawn afresh again (pans and zooms change them at every frame) and, when the run's last
        refresh came while it was still training, the finished model's points fitted exactly."""
        cache_axes(self.latentMap.getPlotItem(), False)
        if self._viewbox.steady:
            self._viewbox.steady = False
            if not self._user_zoomed:
                self._fit_view()
                lay_out_axes_now(self.latentMap.getPlotItem())  # as in _on_view

    def _maybe_encode(self) -> None:
        state = self.state
        if state.encoding is not None or state.training or state.current is None or state.dataset is None:
            return
        if self._incompatibility() is not None:
            return
        self._start_encoding()

    def _start_encoding(self) -> None:
        state = self.state
        assert state.current is not None and state.dataset is not None
        trained, dataset = state.current, state.dataset
        # A copy: the GUI copy's weights may be replaced in place while this runs (training snapshots).
        model = copy.deepcopy(trained.model)
        labels = dataset.test_labels if model.config.conditional else None
        images = dataset.test_images
        self.statusLabel.setText("Encoding the test split…")
        self._encode_task.start(lambda task: (trained, dataset, _encode_split(model, images, labels, task)))

    def _on_encoded(self, result: tuple[object, object, Encoding | None]) -> None:
        trained, dataset, encoding = result
        self.statusLabel.clear()
        state = self.state
        current = (
            encoding is not None
            and trained is state.current
            and dataset is state.dataset
            and state.encoding is None
            and not state.training
        )
        if current:
            state.set_encoding(encoding)

    def _on_encode_failed(self, message: str) -> None:
        self.statusLabel.clear()
        QMessageBox.warning(self, "Encoding failed", message)

    # -- encoding -> points ----------------------------------------------------------------
    def _on_encoding(self) -> None:
        state = self.state
        encoding = state.encoding
        self._refresh_message()
        self.mapNotice.set_notices([] if encoding is None else map_notices(encoding))
        if encoding is None:
            self._clear_points()
            self._encode_timer.start()
            return
        d = encoding.mu.shape[1]
        source = (state.current, state.dataset)
        first = self._shown_for is None or self._shown_for[0] is not source[0] or self._shown_for[1] is not source[1]
        self._shown_for = source
        self._ellipse_rows = None
        if first or state.view is None or state.view.latent_dim != d:
            # A new model or data set: default plane and a fitted zoom. Later encodings of the same
            # model (training refreshes) keep the user's plane and zoom.
            self._configure_controls(reset=True)
            self._autorange_pending = True
            self._viewbox.steady = False
            self._label_room_pending = True
            self._invalidate_manifold()
            state.set_view(self._build_view())
        else:
            # A training refresh: the view fits the growing cloud until the user pans or zooms, holding
            # still while the cloud stays well inside it (widgets/steady_view.py); the final one fits exactly.
            self._autorange_pending = not self._user_zoomed
            self._viewbox.steady = state.training
            if state.view.kind == "pca":
                # The principal plane moves with the cloud; signs are kept to avoid flips between refreshes.
                state.set_view(self._build_view())
            else:
                self._on_view()

    def _clear_points(self) -> None:
        # The points themselves stay (hidden) for the next encoding of the same split: see _build_points.
        self._xy = np.zeros((0, 2))
        self.scatter.hide()
        self.legend.hide()
        for item in (self._ellipses, self._prior, self._path_line):
            item.setData([], [])
        for item in (self._selected_ring, self._samples, self._crosshair, self._path_dots):
            item.clear()
        self.manifoldImage.hide()
        self.hoverThumbnail.hide()

    def _on_dataset(self) -> None:
        self._refresh_message()
        if self.state.dataset is not None:
            self._build_points(self.state.dataset, len(self.state.dataset.test_images))

    def _build_points(self, dataset: ImageDataset, n: int) -> None:
        """Create the test split's n points, hidden until an encoding places them.

        ``setData`` costs O(n) Python work (about 50 ms for 10,000 points), so it runs once per data
        set, when it loads; every encoding after that, of any model, only moves the points
        (move_scatter), which keeps training refreshes and model switches smooth.
        """
        labels = None
        if dataset.labelled and dataset.test_labels is not None and len(dataset.test_labels) == n:
            labels = dataset.test_labels.numpy()
        self.legend.clear()
        if labels is None:
            brushes: object = pg.mkBrush(QColor(UNLABELLED))
        else:
            # Brushes once per class, looked up per point with one numpy index.
            colours = class_colours(dataset.num_classes)
            lookup = np.empty(len(colours), dtype=object)
            lookup[:] = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
            brushes = lookup[np.clip(labels, 0, len(colours) - 1)]
            self.legend.setColumnCount(1 if len(colours) <= 12 else 2)
            for name, colour in zip(dataset.class_names, colours):
                sample = pg.ScatterPlotItem(size=9, pen=None, brush=pg.mkBrush(colour), symbol="o")
                sample.visibleChanged.connect(self._on_legend_toggled)
                self.legend.addItem(sample, name)
        self._labels = labels
        zeros = np.zeros(n)
        self.scatter.setData(x=zeros, y=zeros, brush=brushes, pen=None, size=POINT_SIZE)
        self.scatter.hide()
        self.legend.hide()
        self._brush_source = (dataset, n)
        self._visible = np.ones(n, dtype=bool)

    def _draw_points(self) -> None:
        dataset, n = self.state.dataset, len(self._xy)
        if dataset is None:
            return  # an encoding always comes with its data set; nothing to colour the points by otherwise
        source = self._brush_source
        # Compared by identity: a data set's == would compare its image tensors.
        if source is None or source[0] is not dataset or source[1] != n:
            self._build_points(dataset, n)
        move_scatter(self.scatter, self._xy[:, 0], self._xy[:, 1])
        self.scatter.show()
        self.legend.setVisible(self._labels is not None)

    def _on_legend_toggled(self) -> None:
        """A click on a legend entry hides or shows that class (pyqtgraph toggles the entry's sample item)."""
        if self._labels is None:
            return
        hidden = [i for i, (sample, _) in enumerate(self.legend.items) if not sample.item.isVisible()]
        self._visible = ~np.isin(self._labels, hidden)
        # Written in place like move_scatter: the item's paint skips points whose 'visible' is False.
        self.scatter.data["visible"] = self._visible
        self.scatter.invalidate()
        self._draw_ellipses()
        self.hoverThumbnail.hide()
