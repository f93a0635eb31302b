"""The clickable latent map: the test split's encoded means on a 2-D plane through latent space.

Every screen position is a latent vector (``ViewPlane.to_latent`` of its plane coordinates), so a
click or a drag sets the probe the preview decodes, and what the preview shows is exactly the
decoding of the point under the cursor. Encoding the split and decoding the manifold picture run
on this panel's own TaskRunners; the GUI thread only projects, draws and answers the mouse.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.data import ImageDataset
from ...core.latent import Encoding, ViewPlane, encode, manifold, posterior_samples, tile
from ...core.models import AE
from ..colours import UNLABELLED, class_colours
from ..conditioning import decode_label
from ..fast_scatter import ViewFollowingScatter, ViewMotion, hide_grid_while_moving
from ..images import to_qpixmap, to_uint8_hwc
from ..tasks import TaskContext, TaskRunner

POINT_SIZE = 4
POINT_ALPHA = 210
HIT_RADIUS_PX = 6.0  # a click or hover this close to a dot (in screen pixels) means that dot
ELLIPSE_SAMPLE = 200  # drawing every posterior's ellipse would hide the points
POSTERIOR_SAMPLES = 8  # the preview decodes the same draws (same n and seed)
ENCODE_CHUNK = 2000  # between chunks the encoding task checks whether a newer request superseded it
MANIFOLD_DEBOUNCE_MS = 150
MANIFOLD_TILE_PX = 32  # aim for tiles about this big on screen
MANIFOLD_TILES = (6, 30)  # fewest and most tiles per side

HINT = (
    "Click: decode that point  ·  click a dot: select it  ·  left-drag: scrub  ·  "
    "right/middle-drag or Shift+drag: pan  ·  wheel: zoom  ·  click a legend entry: hide/show that class"
)


def anchored(view: ViewPlane, point: np.ndarray) -> ViewPlane:
    """The same plane moved orthogonally so it passes through ``point``.

    Only the component of the shift perpendicular to the plane is applied, so ``to_plane`` gives
    every latent vector the same coordinates as before: the map does not move, but the latent
    vectors behind its positions take their off-plane coordinates from ``point``.
    """
    offset = np.asarray(point, np.float64) - view.origin
    perpendicular = offset - (offset @ view.u) * view.u - (offset @ view.v) * view.v
    return replace(view, origin=view.origin + perpendicular)


def _encode_split(
    model: AE, images: torch.Tensor, labels: torch.Tensor | None, context: TaskContext
) -> Encoding | None:
    """The split's encoding in chunks, giving up (None) as soon as a newer request stops this one."""
    mus: list[np.ndarray] = []
    logvars: list[np.ndarray] = []
    for start in range(0, max(len(images), 1), ENCODE_CHUNK):
        if context.control.stopped:
            return None
        chunk = slice(start, start + ENCODE_CHUNK)
        part = encode(model, images[chunk], None if labels is None else labels[chunk])
        mus.append(part.mu)
        if part.logvar is not None:
            logvars.append(part.logvar)
    return Encoding(np.concatenate(mus), np.concatenate(logvars) if logvars else None)


def _move_scatter(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
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


class _InertScatter(ViewFollowingScatter):
    """A scatter item that leaves clicks to the ViewBox.

    pyqtgraph offers a click to every item near the cursor, and a ScatterPlotItem takes it when a
    spot is under the cursor, so clicks on dots (or on the crosshair) would never probe or select:
    the map decides itself, with the nearest point in screen space (_nearest_point).
    """

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        ev.ignore()


class _ScrubViewBox(pg.ViewBox):
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


class LatentMapPanel(QWidget):
    """The latent map (central widget): points, overlays, and the mouse as a latent-space probe."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._xy = np.zeros((0, 2))  # plane coordinates of the shown points
        self._labels: np.ndarray | None = None  # class index per shown point (None: unlabelled)
        self._brush_source: tuple[ImageDataset, int] | None = None  # the split and size the points were built for
        self._visible = np.zeros(0, dtype=bool)  # per point: False for classes hidden with the legend
        self._shown_for: tuple[object, object] | None = None  # (model, data set) of the last encoding shown
        self._autorange_pending = False
        self._user_zoomed = False  # until the user pans or zooms, the view follows the cloud as it trains
        self._ellipse_rows: np.ndarray | None = None
        self._encode_generation = 0
        self._encode_pending = False
        self._manifold_generation = 0  # bumped when the plane or the decoding class changes (see _invalidate_manifold)
        self._manifold_pending = False
        self._manifold_model: tuple[AE, AE] | None = None  # (the GUI copy, the manifold task's private copy of it)

        self._build_toolbar()
        self._build_plot()
        self._build_overlays()

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

        self._encode_runner = TaskRunner(self)
        self._encode_runner.finished.connect(self._on_encoded)
        self._encode_runner.failed.connect(self._on_encode_failed)
        self._manifold_runner = TaskRunner(self)
        self._manifold_runner.finished.connect(self._on_manifold)
        self._manifold_runner.failed.connect(self._on_manifold_failed)
        # Requests are checked on the next event-loop turn, so a burst of state changes (new model,
        # then training started) settles first and no encoding is started for nothing.
        self._encode_timer = QTimer(self, singleShot=True, interval=0, timeout=self._maybe_encode)
        self._manifold_timer = QTimer(
            self, singleShot=True, interval=MANIFOLD_DEBOUNCE_MS, timeout=self._request_manifold
        )

        self._subscriptions = [
            (Event.CURRENT_MODEL, self._on_current_model),
            (Event.DATASET, self._on_dataset),
            (Event.ENCODING, self._on_encoding),
            (Event.VIEW, self._on_view),
            (Event.SELECTION, self._on_selection),
            (Event.PROBE, self._draw_probe),
            (Event.TRAINING, self._on_training),
            (Event.OVERLAY, self._draw_overlay),
        ]
        for event, listener in self._subscriptions:
            state.subscribe(event, listener)
        self._configure_controls()
        self._on_dataset()
        if state.encoding is not None:
            self._on_encoding()
        else:
            self._encode_timer.start()

    # -- construction ---------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.viewKindCombo = QComboBox(objectName="viewKindCombo")
        self.viewKindCombo.addItems(["Latent axes", "PCA plane"])
        self.viewKindCombo.setToolTip(
            "Show two latent axes, or the plane of the encodings' first two principal components"
        )
        self.xAxisCombo = QComboBox(objectName="xAxisCombo")
        self.yAxisCombo = QComboBox(objectName="yAxisCombo")
        self.anchorCheck = QCheckBox("Through selected point", objectName="anchorCheck")
        self.anchorCheck.setToolTip(
            "Latent coordinates off the plane: unticked, those of the prior's mean (0);\n"
            "ticked, those of the selected test image's posterior mean μ."
        )
        self.statusLabel = QLabel(objectName="statusLabel")
        self.statusLabel.setStyleSheet("color: gray;")
        self.viewKindCombo.currentIndexChanged.connect(self._on_view_controls)
        self.xAxisCombo.currentIndexChanged.connect(self._on_x_axis)
        self.yAxisCombo.currentIndexChanged.connect(self._on_y_axis)
        self.anchorCheck.toggled.connect(self._on_view_controls)
        self._view_row = QHBoxLayout()
        for widget in (QLabel("View"), self.viewKindCombo, QLabel("x"), self.xAxisCombo, QLabel("y"), self.yAxisCombo):
            self._view_row.addWidget(widget)
        self._view_row.addWidget(self.anchorCheck)
        self._view_row.addStretch(1)
        self._view_row.addWidget(self.statusLabel)

        self.manifoldCheck = QCheckBox("Decoded manifold", objectName="manifoldCheck")
        self.manifoldCheck.setToolTip(
            "Tile the visible area with decodings of a grid of latent points (behind the dots)"
        )
        self.ellipsesCheck = QCheckBox("σ ellipses", objectName="ellipsesCheck")
        self.ellipsesCheck.setToolTip(f"1σ ellipses of the posteriors q(z|x) of {ELLIPSE_SAMPLE} test images")
        self.priorCheck = QCheckBox("Prior 1σ/2σ", objectName="priorCheck", checked=True)
        self.priorCheck.setToolTip("Circles of the prior N(0, I) at 1 and 2 standard deviations, in this plane")
        self.samplesCheck = QCheckBox("Posterior samples", objectName="samplesCheck", checked=True)
        self.samplesCheck.setToolTip(
            f"{POSTERIOR_SAMPLES} draws from the selected image's posterior (the preview decodes the same draws)"
        )
        self.manifoldCheck.toggled.connect(self._on_manifold_toggled)
        self.ellipsesCheck.toggled.connect(self._draw_ellipses)
        self.priorCheck.toggled.connect(self._draw_prior)
        self.samplesCheck.toggled.connect(self._draw_selection)
        self._overlay_row = QHBoxLayout()
        self._overlay_row.addWidget(QLabel("Show"))
        for check in (self.manifoldCheck, self.ellipsesCheck, self.priorCheck, self.samplesCheck):
            self._overlay_row.addWidget(check)
        self._overlay_row.addStretch(1)

    def _build_plot(self) -> None:
        self._viewbox = _ScrubViewBox()
        self.latentMap = pg.PlotWidget(viewBox=self._viewbox)
        self.latentMap.setObjectName("latentMap")
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
        self.scatter = _InertScatter(pxMode=True, pen=None, size=POINT_SIZE)
        # While the view pans or zooms: a subset of the points and no grid (gui/fast_scatter.py).
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
        self._thumb_caption = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._thumb_caption.setStyleSheet("color: #e0e0e0; font-size: 10px;")
        thumb_layout.addWidget(self._thumb_image)
        thumb_layout.addWidget(self._thumb_caption)
        self.hoverThumbnail.hide()
        self.hoverThumbnail.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._hover_index: int | None = None

    def _build_overlays(self) -> None:
        def add(item: pg.GraphicsObject, z: float) -> pg.GraphicsObject:
            item.setZValue(z)
            # Overlays never take part in auto-ranging: the range follows the points only.
            self.latentMap.addItem(item, ignoreBounds=True)
            return item

        self.manifoldImage = add(pg.ImageItem(axisOrder="row-major"), -10)
        self.manifoldImage.setOpacity(0.9)
        self.manifoldImage.hide()
        self._ellipses = add(pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 90), connect="finite"), 5)
        dashed = pg.mkPen(255, 255, 255, 170, width=1.5, style=Qt.PenStyle.DashLine)
        self._prior = add(pg.PlotCurveItem(pen=dashed, connect="finite"), 6)
        self._selected_ring = add(
            _InertScatter(pxMode=True, size=14, symbol="o", brush=None, pen=pg.mkPen("w", width=2)), 7
        )
        self._samples = add(_InertScatter(pxMode=True, size=8, symbol="x", brush=pg.mkBrush("w"), pen=None), 8)
        self._crosshair = add(
            _InertScatter(pxMode=True, size=22, symbol="+", brush=pg.mkBrush("w"), pen=pg.mkPen("k", width=1)), 9
        )
        # state.overlay_path (e.g. an interpolation), drawn for whichever panel set it.
        self._path_line = add(pg.PlotCurveItem(pen=pg.mkPen(255, 200, 40, 230, width=2)), 8.5)
        self._path_dots = add(
            _InertScatter(pxMode=True, size=6, symbol="o", brush=pg.mkBrush(255, 200, 40), pen=pg.mkPen("k", width=1)),
            8.6,
        )

    # -- public ------------------------------------------------------------------------
    def latent_at(self, scene_pos: QPointF) -> np.ndarray:
        """The latent vector under a scene position: its plane coordinates through ``state.view.to_latent``."""
        if self.state.view is None:
            raise ValueError("the latent map has no view plane yet")
        p = self._viewbox.mapSceneToView(scene_pos)
        return self.state.view.to_latent(np.array([p.x(), p.y()]))

    def plane_points(self) -> np.ndarray:
        """Plane coordinates (N, 2) of the points on the map (empty without an encoding)."""
        return self._xy

    def shutdown(self) -> None:
        """Stop the timers and background tasks and join their threads."""
        for event, listener in self._subscriptions:
            self.state.unsubscribe(event, listener)
        self._encode_timer.stop()
        self._manifold_timer.stop()
        self._encode_runner.shutdown()
        self._manifold_runner.shutdown()

    # -- encoding --------------------------------------------------------------------------
    def _incompatibility(self) -> str | None:
        """Why the current model cannot encode the current data set, or None when it can."""
        current, dataset = self.state.current, self.state.dataset
        if current is None or dataset is None:
            return None
        config = current.config
        if tuple(config.image_shape) != tuple(dataset.image_shape):
            model_shape = "×".join(map(str, config.image_shape))
            data_shape = "×".join(map(str, dataset.image_shape))
            return (
                f"This model works on {model_shape} images, but the data set “{dataset.name}” has "
                f"{data_shape} images.\nLoad the data set it was trained on ({current.train_config.dataset}) "
                "to see its latent space."
            )
        if config.conditional and (dataset.test_labels is None or dataset.num_classes != config.num_classes):
            return (
                f"This conditional model needs {config.num_classes} classes, but the data set “{dataset.name}” has "
                f"{dataset.num_classes}.\nLoad the data set it was trained on ({current.train_config.dataset})."
            )
        return None

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
        if self.state.training:
            # The training panel provides encodings now; work in flight is superseded.
            self._encode_generation += 1
            self._encode_pending = False
            self._encode_runner.stop()
        elif self.state.encoding is None:
            self._encode_timer.start()

    def _maybe_encode(self) -> None:
        state = self.state
        if state.encoding is not None or state.training or state.current is None or state.dataset is None:
            return
        if self._incompatibility() is not None:
            return
        self._encode_generation += 1
        if self._encode_runner.busy:
            # Only the newest request matters: stop the running one and start afresh when it returns.
            self._encode_pending = True
            self._encode_runner.stop()
            return
        self._start_encoding()

    def _start_encoding(self) -> None:
        state = self.state
        assert state.current is not None and state.dataset is not None
        generation = self._encode_generation
        trained, dataset = state.current, state.dataset
        # A copy: the GUI copy's weights may be replaced in place while this runs (training snapshots).
        model = copy.deepcopy(trained.model)
        labels = dataset.test_labels if model.config.conditional else None
        images = dataset.test_images
        self.statusLabel.setText("Encoding the test split…")
        self._encode_runner.start(
            lambda context: (generation, trained, dataset, _encode_split(model, images, labels, context))
        )

    def _on_encoded(self, result: tuple[int, object, object, Encoding | None]) -> None:
        generation, trained, dataset, encoding = result
        self.statusLabel.clear()
        state = self.state
        current = (
            encoding is not None
            and generation == self._encode_generation
            and trained is state.current
            and dataset is state.dataset
            and state.encoding is None
            and not state.training
        )
        if current:
            state.set_encoding(encoding)
        if self._encode_pending:
            self._encode_pending = False
            self._encode_timer.start()

    def _on_encode_failed(self, message: str) -> None:
        self.statusLabel.clear()
        QMessageBox.warning(self, "Encoding failed", message)

    # -- encoding -> points ----------------------------------------------------------------
    def _on_encoding(self) -> None:
        state = self.state
        encoding = state.encoding
        self._refresh_message()
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
            self._invalidate_manifold()
            state.set_view(self._build_view())
        else:
            # A training refresh: the view fits the growing cloud until the user pans or zooms.
            self._autorange_pending = not self._user_zoomed
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
        (_move_scatter), which keeps training refreshes and model switches smooth.
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
        _move_scatter(self.scatter, self._xy[:, 0], self._xy[:, 1])
        self.scatter.show()
        self.legend.setVisible(self._labels is not None)

    def _on_legend_toggled(self) -> None:
        """A click on a legend entry hides or shows that class (pyqtgraph toggles the entry's sample item)."""
        if self._labels is None:
            return
        hidden = [i for i, (sample, _) in enumerate(self.legend.items) if not sample.item.isVisible()]
        self._visible = ~np.isin(self._labels, hidden)
        # Written in place like _move_scatter: the item's paint skips points whose 'visible' is False.
        self.scatter.data["visible"] = self._visible
        self.scatter.invalidate()
        self._draw_ellipses()
        self.hoverThumbnail.hide()

    # -- view plane ------------------------------------------------------------------------
    def _configure_controls(self, reset: bool = False) -> None:
        """Fill the axis combos for the current model's latent size; ``reset`` picks the default view."""
        current = self.state.current
        d = current.config.latent_dim if current is not None else 0
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(True)
        if self.xAxisCombo.count() != d or reset:
            names = [f"z{i + 1}" for i in range(d)]
            for combo, default in ((self.xAxisCombo, 0), (self.yAxisCombo, 1)):
                keep = combo.currentIndex()
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(default if reset or not 0 <= keep < d else keep)
            if d > 1 and self.xAxisCombo.currentIndex() == self.yAxisCombo.currentIndex():
                self.yAxisCombo.setCurrentIndex(1 if self.xAxisCombo.currentIndex() == 0 else 0)
        if reset:
            # Two axes are the whole space for d <= 2; beyond that the principal plane shows the most.
            self.viewKindCombo.setCurrentIndex(1 if d > 2 else 0)
        pca_item = self.viewKindCombo.model().item(1)
        pca_item.setEnabled(d > 1)
        if d <= 1:
            self.viewKindCombo.setCurrentIndex(0)
        axes = self.viewKindCombo.currentIndex() == 0
        self.xAxisCombo.setEnabled(axes and d > 1)
        self.yAxisCombo.setEnabled(axes and d > 1)
        self.anchorCheck.setEnabled(d > 2)
        variational = current is not None and current.model.variational
        for check in (self.ellipsesCheck, self.priorCheck, self.samplesCheck):
            check.setEnabled(variational)  # an AE has no posterior spread and no prior
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(False)

    def _build_view(self) -> ViewPlane:
        """The plane the controls describe, through 0 or (ticked) through the selected point's μ."""
        state = self.state
        assert state.encoding is not None
        mu = state.encoding.mu
        d = mu.shape[1]
        if self.viewKindCombo.currentIndex() == 1 and d > 1:
            reference = state.view if state.view is not None and state.view.kind == "pca" else None
            view = ViewPlane.pca(mu, reference)
        else:
            x = max(self.xAxisCombo.currentIndex(), 0)
            y = max(self.yAxisCombo.currentIndex(), 0)
            view = ViewPlane.axes(d, x, y if d > 1 else 0)
        anchor = np.zeros(d)
        index = state.selected_index
        if self.anchorCheck.isChecked() and index is not None and index < len(mu):
            anchor = mu[index]
        return anchored(view, anchor)

    def _on_view_controls(self) -> None:
        self._configure_controls()
        if self.state.encoding is None:
            return
        self._autorange_pending = True
        self._invalidate_manifold()
        self.state.set_view(self._build_view())

    def _on_x_axis(self, index: int) -> None:
        # Choosing the other combo's axis swaps the two rather than allowing a degenerate plane.
        if index == self.yAxisCombo.currentIndex() and index >= 0:
            self.yAxisCombo.blockSignals(True)
            self.yAxisCombo.setCurrentIndex(self._axes_before[0])
            self.yAxisCombo.blockSignals(False)
        self._on_view_controls()

    def _on_y_axis(self, index: int) -> None:
        if index == self.xAxisCombo.currentIndex() and index >= 0:
            self.xAxisCombo.blockSignals(True)
            self.xAxisCombo.setCurrentIndex(self._axes_before[1])
            self.xAxisCombo.blockSignals(False)
        self._on_view_controls()

    def _sync_controls_to_view(self, view: ViewPlane) -> None:
        """Show a plane set elsewhere (another panel, a script) in the controls without re-triggering them."""
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(True)
        self.viewKindCombo.setCurrentIndex(1 if view.kind == "pca" else 0)
        if view.kind == "axes":
            self.xAxisCombo.setCurrentIndex(int(np.argmax(np.abs(view.u))))
            if view.latent_dim > 1:
                self.yAxisCombo.setCurrentIndex(int(np.argmax(np.abs(view.v))))
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(False)
        self._configure_controls()

    @property
    def _axes_before(self) -> tuple[int, int]:
        """The axes of the plane on show (what the combos said before the change being handled)."""
        view = self.state.view
        if view is None or view.kind != "axes":
            return 0, 1
        return int(np.argmax(np.abs(view.u))), int(np.argmax(np.abs(view.v)))

    def _on_view(self) -> None:
        view, encoding = self.state.view, self.state.encoding
        if view is None or encoding is None or view.latent_dim != encoding.mu.shape[1]:
            return
        self._sync_controls_to_view(view)
        self._set_axis_label("bottom", view.x_label)
        self._set_axis_label("left", view.y_label if view.latent_dim > 1 else "")
        self._xy = view.to_plane(encoding.mu)
        self._draw_points()
        self._draw_ellipses()
        self._draw_prior()
        self._draw_selection()
        self._draw_probe()
        self._draw_overlay()
        if self._autorange_pending:
            self._autorange_pending = False
            self._viewbox.autoRange(items=[self.scatter])
            self._user_zoomed = False
        # pyqtgraph applies the new range while it paints, and that change asks for a second paint of
        # the map (about 10 ms each during training); applying it now makes one paint per refresh.
        self.latentMap.scene().prepareForPaint()
        self._schedule_manifold()

    def _set_axis_label(self, axis: str, text: str) -> None:
        # Setting a label lays the axis out anew even when the text is the same (every training refresh).
        if self.latentMap.getAxis(axis).labelText != text:
            self.latentMap.setLabel(axis, text)

    # -- overlays ------------------------------------------------------------------------------
    def _draw_ellipses(self) -> None:
        """1σ ellipses of a fixed sample of posteriors, projected onto the plane, as one NaN-separated path."""
        view, encoding = self.state.view, self.state.encoding
        shown = self.ellipsesCheck.isChecked() and self.ellipsesCheck.isEnabled()
        if not shown or view is None or encoding is None or encoding.logvar is None:
            self._ellipses.setData([], [])
            return
        n = len(encoding.mu)
        if self._ellipse_rows is None:  # reset with every encoding
            self._ellipse_rows = np.sort(np.random.default_rng(0).choice(n, min(n, ELLIPSE_SAMPLE), replace=False))
        rows = self._ellipse_rows[self._visible[self._ellipse_rows]]
        var = np.exp(encoding.logvar[rows].astype(np.float64))
        # Covariance of the projection: [[u'Su, u'Sv], [u'Sv, v'Sv]] with S = diag(var); its
        # Cholesky factor maps the unit circle onto the 1σ ellipse.
        a, b, c = var @ (view.u**2), var @ (view.u * view.v), var @ (view.v**2)
        l11 = np.sqrt(a)
        l21 = np.divide(b, l11, out=np.zeros_like(b), where=l11 > 0)
        l22 = np.sqrt(np.maximum(c - l21**2, 0.0))
        t = np.linspace(0.0, 2.0 * np.pi, 33)
        cos, sin = np.cos(t), np.sin(t)
        centre = self._xy[rows]
        x = centre[:, :1] + l11[:, None] * cos
        y = centre[:, 1:] + l21[:, None] * cos + l22[:, None] * sin
        gap = np.full((len(rows), 1), np.nan)
        self._ellipses.setData(np.hstack([x, gap]).ravel(), np.hstack([y, gap]).ravel())

    def _draw_prior(self) -> None:
        """The prior's 1σ and 2σ contours in the plane.

        With orthonormal u and v the prior N(0, I) restricted to (or projected onto) any plane is an
        isotropic Gaussian centred at the projection of 0, so these circles are exact for axis and
        PCA planes alike. A 1-D latent space is a line: the contours become the marks at ±1σ, ±2σ.
        """
        view = self.state.view
        shown = self.priorCheck.isChecked() and self.priorCheck.isEnabled()
        if not shown or view is None or self.state.encoding is None:
            self._prior.setData([], [])
            return
        cx, cy = view.to_plane(np.zeros(view.latent_dim))
        if view.latent_dim == 1:
            xs = [cx + s * r for r in (1.0, 2.0) for s in (-1.0, 1.0)]
            x = np.repeat(xs, 3)
            y = np.tile([-0.25, 0.25, np.nan], len(xs))
        else:
            t = np.linspace(0.0, 2.0 * np.pi, 97)
            x = np.concatenate([cx + np.cos(t), [np.nan], cx + 2 * np.cos(t)])
            y = np.concatenate([cy + np.sin(t), [np.nan], cy + 2 * np.sin(t)])
        self._prior.setData(x, y)

    def _draw_selection(self) -> None:
        """A ring on the selected point and the cloud of its posterior samples (those the preview decodes)."""
        view, encoding, index = self.state.view, self.state.encoding, self.state.selected_index
        if view is None or encoding is None or index is None or index >= len(encoding.mu):
            self._selected_ring.clear()
            self._samples.clear()
            return
        x, y = self._xy[index]
        self._selected_ring.setData([x], [y])
        if self.samplesCheck.isChecked() and self.samplesCheck.isEnabled() and encoding.logvar is not None:
            z = posterior_samples(encoding.mu[index], encoding.logvar[index], n=POSTERIOR_SAMPLES, seed=index)
            xy = view.to_plane(z)
            self._samples.setData(xy[:, 0], xy[:, 1])
        else:
            self._samples.clear()

    def _on_selection(self) -> None:
        conditional = self.state.current is not None and self.state.current.config.conditional
        anchored_plane = (
            self.anchorCheck.isChecked() and self.anchorCheck.isEnabled() and self.state.encoding is not None
        )
        if conditional or anchored_plane:
            # The plane now passes through the selected point, or a CVAE decodes with its class.
            self._invalidate_manifold()
        if anchored_plane:
            self.state.set_view(self._build_view())
        else:
            self._draw_selection()

    def _draw_probe(self) -> None:
        view, probe = self.state.view, self.state.probe
        if view is None or probe is None or len(probe) != view.latent_dim or self.state.encoding is None:
            self._crosshair.clear()
            return
        x, y = view.to_plane(probe)
        self._crosshair.setData([x], [y])

    def _draw_overlay(self) -> None:
        view, path = self.state.view, self.state.overlay_path
        if view is None or path is None or path.shape[-1] != view.latent_dim or self.state.encoding is None:
            self._path_line.setData([], [])
            self._path_dots.clear()
            return
        xy = view.to_plane(path)
        self._path_line.setData(xy[:, 0], xy[:, 1])
        self._path_dots.setData(xy[:, 0], xy[:, 1])

    # -- manifold -----------------------------------------------------------------------------
    def _on_manifold_toggled(self, on: bool) -> None:
        if on:
            self._schedule_manifold()
        else:
            self._manifold_timer.stop()
            self.manifoldImage.hide()

    def _on_range_changed(self) -> None:
        self._schedule_manifold()

    def _on_user_zoom(self) -> None:
        self._user_zoomed = True

    def _schedule_manifold(self) -> None:
        """Ask for a new picture once changes pause (pans, zooms and training refreshes come in bursts)."""
        if self.manifoldCheck.isChecked():
            self._manifold_timer.start()

    def _invalidate_manifold(self) -> None:
        """The plane or the decoding class changed: pictures requested before now would be wrong."""
        self._manifold_generation += 1
        self.manifoldImage.hide()
        self._schedule_manifold()

    def _request_manifold(self) -> None:
        state = self.state
        if not self.manifoldCheck.isChecked() or state.current is None or state.view is None or state.encoding is None:
            return
        if state.view.latent_dim != state.current.config.latent_dim:
            return
        if self._manifold_runner.busy:
            self._manifold_pending = True
            return
        # A square region around the visible one, so tiles stay square whatever the widget's shape.
        (x0, x1), (y0, y1) = self._viewbox.viewRange()
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        side_px = max(self._viewbox.width(), self._viewbox.height())
        n = int(np.clip(round(side_px / MANIFOLD_TILE_PX), *MANIFOLD_TILES))
        step = side / n
        # Tile centres inset by half a tile, so the tiles exactly cover [c - side/2, c + side/2].
        x_range = (cx - side / 2 + step / 2, cx + side / 2 - step / 2)
        y_range = (cy - side / 2 + step / 2, cy + side / 2 - step / 2)
        rect = QRectF(cx - side / 2, cy - side / 2, side, side)
        # The GUI copy's weights are replaced in place while training, so the task decodes with its
        # own copy of the model, given a snapshot of the current weights. Only the weights are copied
        # here (a deep copy of the module costs several times more), once per training refresh.
        shown = state.current.model
        if self._manifold_model is None or self._manifold_model[0] is not shown:
            self._manifold_model = (shown, copy.deepcopy(shown))
        model = self._manifold_model[1]
        weights = {name: tensor.detach().clone() for name, tensor in shown.state_dict().items()}
        plane, label, generation = state.view, decode_label(state), self._manifold_generation

        def task(_context: TaskContext) -> tuple[int, np.ndarray, QRectF]:
            model.load_state_dict(weights)  # one task at a time uses the private copy
            pixels = to_uint8_hwc(tile(manifold(model, plane, x_range, y_range, n, label)))
            return generation, pixels, rect

        self._manifold_runner.start(task)

    def _on_manifold(self, result: tuple[int, np.ndarray, QRectF]) -> None:
        generation, pixels, rect = result
        wanted = self.manifoldCheck.isChecked() and self.state.encoding is not None
        if generation == self._manifold_generation and wanted:
            # Row 0 of the mosaic is the top of the plane; the y-up view draws image row 0 at the bottom.
            image = pixels[::-1, :, 0] if pixels.shape[2] == 1 else pixels[::-1]
            self.manifoldImage.setImage(np.ascontiguousarray(image), levels=(0, 255), autoLevels=False)
            self.manifoldImage.setRect(rect)
            self.manifoldImage.show()
        if self._manifold_pending:
            self._manifold_pending = False
            self._manifold_timer.start()

    def _on_manifold_failed(self, message: str) -> None:
        self.manifoldCheck.setChecked(False)
        QMessageBox.warning(self, "Decoded manifold failed", message)

    # -- mouse ----------------------------------------------------------------------------------
    def _nearest_point(self, scene_pos: QPointF) -> int | None:
        """The point within HIT_RADIUS_PX of a scene position (nearest in screen pixels), vectorised."""
        if len(self._xy) == 0:
            return None
        p = self._viewbox.mapSceneToView(scene_pos)
        px, py = self._viewbox.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        dx = (self._xy[:, 0] - p.x()) / px
        dy = (self._xy[:, 1] - p.y()) / py
        d2 = np.where(self._visible, dx * dx + dy * dy, np.inf)  # hidden classes cannot be hit
        index = int(np.argmin(d2))
        return index if d2[index] <= HIT_RADIUS_PX**2 else None

    def _on_click(self, scene_pos: QPointF) -> None:
        if self.state.view is None or self.state.encoding is None:
            return
        index = self._nearest_point(scene_pos)
        moves_plane = index is not None and self.anchorCheck.isChecked() and self.anchorCheck.isEnabled()
        if moves_plane:
            # The plane moves to pass through the selected point: probe the plane then shown.
            self.state.select(index)
        self.state.set_probe(self.latent_at(scene_pos))
        if index is not None and not moves_plane:
            # Selected on the next event-loop turn, after the probe's decoding is painted: showing a
            # selection takes every panel that shows it tens of milliseconds.
            QTimer.singleShot(0, self, lambda: self.state.select(index))

    def _on_scrub(self, scene_pos: QPointF) -> None:
        if self.state.view is None or self.state.encoding is None:
            return
        self.hoverThumbnail.hide()
        self.state.set_probe(self.latent_at(scene_pos))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        """Hovering a dot shows its test image next to the cursor."""
        dataset = self.state.dataset
        inside = self._viewbox.sceneBoundingRect().contains(scene_pos)
        buttons_up = QApplication.mouseButtons() == Qt.MouseButton.NoButton  # not while scrubbing or panning
        index = self._nearest_point(scene_pos) if inside and buttons_up else None
        if index is None or dataset is None or index >= len(dataset.test_images):
            self.hoverThumbnail.hide()
            self._hover_index = None
            return
        if index != self._hover_index:
            self._hover_index = index
            image = dataset.test_images[index].numpy()
            self._thumb_image.setPixmap(to_qpixmap(image, scale=max(1, 56 // max(image.shape[1:]))))
            label = "" if self._labels is None else f" · {dataset.class_names[self._labels[index]]}"
            self._thumb_caption.setText(f"#{index}{label}")
            self.hoverThumbnail.adjustSize()
        pos = self.latentMap.mapFromScene(scene_pos) + QPoint(14, 14)
        # Keep the thumbnail inside the plot: flip it to the other side of the cursor near the edges.
        size = self.hoverThumbnail.size()
        if pos.x() + size.width() > self.latentMap.width():
            pos.setX(pos.x() - size.width() - 28)
        if pos.y() + size.height() > self.latentMap.height():
            pos.setY(pos.y() - size.height() - 28)
        self.hoverThumbnail.move(pos)
        self.hoverThumbnail.show()
        self.hoverThumbnail.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.latentMap.viewport() and event.type() == QEvent.Type.Leave:
            self.hoverThumbnail.hide()
            self._hover_index = None
        return super().eventFilter(watched, event)
