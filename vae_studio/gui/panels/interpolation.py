"""Interpolation: walk a straight or spherical path between two latent points and watch the decodings.

The endpoints come from the latent map (a clicked point, or a clicked dot's μ), from test images,
from class means or from the prior. The strip of decoded frames, an animation of it and the pixel
change from frame to frame show whether the space between the endpoints is filled with plausible
images (small, even steps) or crosses a hole or a fold (one step carries most of the change). The
path is drawn on the map through ``AppState.overlay_path`` while this panel is on screen. A second
tab does latent arithmetic: it adds the vector between two class means (or between the two
endpoints) to a chosen image's code. A new model, new weights, data set or encoding (a training
refresh) recompute both once per event-loop turn, and only while the panel is on screen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.compatibility import can_run_on
from ...core.interpolation import Arithmetic, Interpolation, class_mean, interpolate, latent_arithmetic, save_gif, save_png
from ...core.latent import encode, sample_prior
from ...core.trained_model import TrainedModel
from ..work.deferred_refresh import DeferredRefresh
from ..export_files import export_images, export_stem
from ..widgets.image_grid import HIGHLIGHT, ImageGridView
from ..widgets.images import to_qpixmap
from ..work.private_copies import decode_in_background, detached
from ..work.tasks import Task
from .base import Panel

SOURCES = (("map", "Map point"), ("image", "Test image"), ("class", "Class mean"), ("prior", "Prior sample"))
# Linear first: on a 2-D map it is the straight line students expect; slerp matters in many dimensions.
METHODS = (("linear", "Linear"), ("slerp", "Spherical (slerp)"))
MAX_STEPS = 64
DEFAULT_STEPS = 10
DEFAULT_FPS = 8
THUMB_SCALE = 1  # thumbnails at their own size keep the endpoint rows low
EXPORT_STRIP_SCALE = 2  # exported 28x28 frames at 56x56: visible on a slide, still one file per strip
EXPORT_GIF_SCALE = 4


def _format_z(z: np.ndarray, limit: int = 4) -> str:
    shown = ", ".join(f"{v:.2f}" for v in z[:limit])
    return f"z = [{shown}{', …' if len(z) > limit else ''}]"


class EndpointBox(QFrame):
    """Where one end of the path comes from, in one row; the panel turns the choice into a latent vector."""

    changed = Signal()
    fromMapRequested = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.map_point: np.ndarray | None = None
        self.prior_seed = 0
        self.sourceCombo = QComboBox(objectName=f"endpoint{name}SourceCombo")
        for key, label in SOURCES:
            self.sourceCombo.addItem(label, key)
        self.sourceCombo.setToolTip(
            "Map point: a point clicked on the latent map · Test image: the posterior mean μ of a test image · "
            "Class mean: the average μ of a class · Prior sample: a random draw from N(0, I)"
        )
        self.mapButton = QPushButton("From map", objectName=f"endpoint{name}MapButton")
        self.mapButton.setToolTip("Take the point last clicked on the latent map (a clicked dot gives its image's μ)")

        self.mapLabel = QLabel("click the map first", objectName=f"endpoint{name}MapLabel")
        self.mapLabel.setStyleSheet("color: gray;")
        self.indexSpin = QSpinBox(objectName=f"endpoint{name}IndexSpin")
        self.indexSpin.setPrefix("#")
        self.indexSpin.setToolTip("Index of the test image whose μ is this end of the path")
        self.thumbLabel = QLabel(objectName=f"endpoint{name}ThumbLabel")
        self.classCombo = QComboBox(objectName=f"endpoint{name}ClassCombo")
        self.classCombo.setToolTip("The mean μ over the test images of this class")
        self.newSampleButton = QPushButton("New sample", objectName=f"endpoint{name}NewSampleButton")
        self.newSampleButton.setToolTip("Draw another point from the prior N(0, I)")

        image_page = QWidget()
        image_row = QHBoxLayout(image_page)
        image_row.setContentsMargins(0, 0, 0, 0)
        image_row.addWidget(self.indexSpin)
        image_row.addWidget(self.thumbLabel)
        self.stack = QStackedWidget()
        for page in (self.mapLabel, image_page, self.classCombo, self.newSampleButton):
            self.stack.addWidget(page)
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        # One row: the panel usually sits in a low bottom dock.
        title = QLabel(f"<b>{name}</b>")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.sourceCombo)
        layout.addWidget(self.stack)
        layout.addWidget(self.mapButton)

        self.sourceCombo.currentIndexChanged.connect(self._on_source)
        self.indexSpin.valueChanged.connect(self.changed)
        self.classCombo.currentIndexChanged.connect(self.changed)
        self.newSampleButton.clicked.connect(self._new_sample)
        self.mapButton.clicked.connect(self.fromMapRequested)

    def show_code(self, z: np.ndarray | None) -> None:
        """The latent vector this end stands for, shown on hover."""
        self.setToolTip("" if z is None else f"{self.name}: {_format_z(z, limit=8)}")

    @property
    def source(self) -> str:
        return str(self.sourceCombo.currentData())

    def set_source(self, source: str) -> None:
        self.sourceCombo.setCurrentIndex(self.sourceCombo.findData(source))

    def set_map_point(self, z: np.ndarray) -> None:
        self.map_point = np.array(z, dtype=np.float64)
        self.mapLabel.setText(_format_z(self.map_point))
        with QSignalBlocker(self.sourceCombo):
            self.set_source("map")
        self.stack.setCurrentIndex(0)
        self.changed.emit()

    def set_image(self, index: int) -> None:
        with QSignalBlocker(self.sourceCombo), QSignalBlocker(self.indexSpin):
            self.set_source("image")
            self.indexSpin.setValue(index)
        self.stack.setCurrentIndex(1)
        self.changed.emit()

    def _on_source(self) -> None:
        self.stack.setCurrentIndex(self.sourceCombo.currentIndex())
        self.changed.emit()

    def _new_sample(self) -> None:
        self.prior_seed += 1
        self.changed.emit()


class InterpolationPanel(Panel):
    """Paths between two latent points, their animation and export, and latent arithmetic."""

    name = "interpolation"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.interpolation: Interpolation | None = None
        self.arithmetic: Arithmetic | None = None
        self._frame = 0
        self._direction = 1
        self._picking: list[EndpointBox] = []  # endpoints still to be taken from the next map clicks
        self._pointed: tuple[str, object] | None = None  # what the user last pointed at on the map
        self._clicked_index: int | None = None  # a dot selected by the click being handled, if any
        self._path_task = Task(self, newest_wins=True)
        self._path_task.finished.connect(self._show_path)
        self._path_task.failed.connect(lambda message: self._warn("Interpolation failed", message))
        self._arithmetic_task = Task(self, newest_wins=True)
        self._arithmetic_task.finished.connect(self._show_arithmetic)
        self._arithmetic_task.failed.connect(lambda message: self._warn("Latent arithmetic failed", message))
        self._timer = QTimer(self, timeout=self._advance)

        self.tabs = QTabWidget(objectName="interpolationTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_path_tab(), "Path")
        self.tabs.addTab(self._build_arithmetic_tab(), "Latent arithmetic")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)

        self._updates = DeferredRefresh(self, self._on_state)
        self._updates.on_screen_changed.connect(self._on_screen_changed)
        for event, listener in (
            (Event.CURRENT_MODEL, self._updates.request),
            (Event.WEIGHTS, self._updates.request),
            (Event.DATASET, self._updates.request),
            (Event.ENCODING, self._updates.request),
            (Event.SELECTION, self._on_selection),
            (Event.PROBE, self._on_probe),
        ):
            self.subscribe(event, listener)
        self._on_state()

    # -- construction -------------------------------------------------------------------
    def _build_path_tab(self) -> QWidget:
        self.endpointA = EndpointBox("A")
        self.endpointA.setObjectName("endpointA")
        self.endpointB = EndpointBox("B")
        self.endpointB.setObjectName("endpointB")
        self.endpointA.set_image(0)
        self.endpointB.set_image(1)
        for box in (self.endpointA, self.endpointB):
            box.changed.connect(self._refresh)
            box.fromMapRequested.connect(lambda box=box: self._use_map_point(box))
        self.pickButton = QPushButton("Pick on map", objectName="pickButton")
        self.pickButton.setCheckable(True)
        self.pickButton.setToolTip("The next two clicks on the latent map set the start and the end of the path")
        self.pickButton.toggled.connect(self._on_pick_toggled)
        self.pickHint = QLabel(objectName="pickHint")
        self.pickHint.setStyleSheet("color: palette(highlight);")

        self.methodCombo = QComboBox(objectName="methodCombo")
        for key, label in METHODS:
            self.methodCombo.addItem(label, key)
        self.methodCombo.setToolTip(
            "Linear: the straight line from A to B. Spherical: an arc that keeps the distance from the origin,\n"
            "where most prior samples lie (in many dimensions the straight line passes through the unlikely centre)."
        )
        self.stepsSpin = QSpinBox(objectName="interpolationStepsSpin")
        self.stepsSpin.setRange(2, MAX_STEPS)
        self.stepsSpin.setValue(DEFAULT_STEPS)
        self.stepsSpin.setToolTip("Frames along the path, both ends included")
        self.showOnMapCheck = QCheckBox("Show on map", objectName="showOnMapCheck", checked=True)
        self.showOnMapCheck.setToolTip("Draw the path on the latent map while this panel is visible")
        for signal in (self.methodCombo.currentIndexChanged, self.stepsSpin.valueChanged):
            signal.connect(self._refresh)
        self.showOnMapCheck.toggled.connect(self._publish_overlay)

        # Asks for frames at their own size, so a low dock still has room for the plot under it.
        self.stripView = ImageGridView("Choose the two ends of the path.", natural_scale=1)
        self.stripView.setObjectName("stripView")
        self.stripView.cellClicked.connect(lambda _row, col: self._show_frame(col))
        self.stripView.setMinimumHeight(40)
        self.frameView = ImageGridView()
        self.frameView.setObjectName("frameView")
        self.frameView.setFixedWidth(120)  # the frame on show, next to the strip and the plot
        self.distancePlot = pg.PlotWidget(objectName="distancePlot")
        self.distancePlot.setMinimumHeight(60)
        self.distancePlot.setLabel("left", "change")
        self.distancePlot.setToolTip("RMS pixel change from each frame to the next (grey levels, 0 to 1)")
        self.distancePlot.setLabel("bottom", "frame")
        self.distancePlot.showGrid(x=True, y=True, alpha=0.2)
        self.distancePlot.setMouseEnabled(x=False, y=False)
        self.distancePlot.hideButtons()
        self.distancePlot.getAxis("left").enableAutoSIPrefix(False)  # grey levels 0..1, not "x0.001"
        self.distanceCurve = self.distancePlot.plot(
            pen=pg.mkPen((0, 114, 178), width=2), symbol="o", symbolSize=5, symbolBrush=(0, 114, 178), symbolPen=None
        )
        self._frame_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(HIGHLIGHT, width=2))
        self.distancePlot.addItem(self._frame_line)
        self.smoothnessLabel = QLabel(objectName="smoothnessLabel")
        self.smoothnessLabel.setStyleSheet("color: gray;")
        self.smoothnessLabel.setMinimumWidth(40)  # elided by the layout rather than widening the row

        style = self.style()
        self.playButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play", objectName="interpolationPlayButton")
        self.playButton.setCheckable(True)
        self.playButton.toggled.connect(self._on_play_toggled)
        self.speedSpin = QSpinBox(objectName="interpolationSpeedSpin")
        self.speedSpin.setRange(1, 30)
        self.speedSpin.setValue(DEFAULT_FPS)
        self.speedSpin.setSuffix(" fps")
        self.speedSpin.setToolTip("Frames per second of the animation and of the GIF")
        self.speedSpin.valueChanged.connect(self._on_speed)
        self.bounceCheck = QCheckBox("Back and forth", objectName="bounceCheck", checked=True)
        self.bounceCheck.setToolTip("Play from A to B and back (also in the GIF), so the loop has no jump")
        self.exportButton = QToolButton(objectName="interpolationExportButton")
        self.exportButton.setText("Export")
        self.exportButton.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.exportButton.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self.exportButton)
        self.exportPngAction = menu.addAction("Strip as PNG…", self.export_png)
        self.exportPngAction.setObjectName("exportPngAction")
        self.exportGifAction = menu.addAction("Animation as GIF…", self.export_gif)
        self.exportGifAction.setObjectName("exportGifAction")
        self.exportButton.setMenu(menu)

        # Rows of controls over the pictures, so the panel fits the low dock under the map.
        ends = QHBoxLayout()
        ends.addWidget(self.endpointA)
        ends.addSpacing(12)
        ends.addWidget(self.endpointB)
        ends.addSpacing(12)
        ends.addWidget(self.pickButton)
        ends.addWidget(self.pickHint)
        ends.addStretch(1)

        options = QHBoxLayout()
        options.addWidget(QLabel("Path"))
        options.addWidget(self.methodCombo)
        options.addWidget(QLabel("Steps"))
        options.addWidget(self.stepsSpin)
        options.addWidget(self.showOnMapCheck)
        options.addSpacing(8)
        options.addWidget(self.smoothnessLabel, 1)
        options.addWidget(self.playButton)
        options.addWidget(self.speedSpin)
        options.addWidget(self.bounceCheck)
        options.addWidget(self.exportButton)

        pictures = QVBoxLayout()
        pictures.addWidget(self.stripView, 1)
        pictures.addWidget(self.distancePlot, 1)
        body = QHBoxLayout()
        body.addWidget(self.frameView)
        body.addLayout(pictures, 1)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(2, 4, 2, 2)
        layout.setSpacing(4)
        layout.addLayout(ends)
        layout.addLayout(options)
        layout.addLayout(body, 1)
        return tab

    def _build_arithmetic_tab(self) -> QWidget:
        self.baseSpin = QSpinBox(objectName="baseSpin")
        self.baseSpin.setPrefix("#")
        self.baseSpin.setToolTip("The test image whose code the vector is added to")
        self.baseThumb = QLabel(objectName="baseThumb")
        self.useSelectedButton = QPushButton("Selected", objectName="useSelectedButton")
        self.useSelectedButton.setToolTip("Use the test image selected on the latent map")
        self.useSelectedButton.clicked.connect(self._use_selected_base)
        self.vectorCombo = QComboBox(objectName="vectorCombo")
        self.vectorCombo.addItem("From one class mean to another", "classes")
        self.vectorCombo.addItem("From A to B of the path", "path")
        self.fromClassCombo = QComboBox(objectName="fromClassCombo")
        self.toClassCombo = QComboBox(objectName="toClassCombo")
        self.strengthSpin = QDoubleSpinBox(objectName="strengthSpin")
        self.strengthSpin.setRange(0.1, 5.0)
        self.strengthSpin.setSingleStep(0.25)
        self.strengthSpin.setValue(1.5)
        self.strengthSpin.setToolTip("The largest multiple of the vector added (1: the whole difference)")
        self.countSpin = QSpinBox(objectName="countSpin")
        self.countSpin.setRange(2, 16)
        self.countSpin.setValue(7)
        self.countSpin.setToolTip("How many strengths from 0 to the largest")
        for signal in (
            self.baseSpin.valueChanged,
            self.vectorCombo.currentIndexChanged,
            self.fromClassCombo.currentIndexChanged,
            self.toClassCombo.currentIndexChanged,
            self.strengthSpin.valueChanged,
            self.countSpin.valueChanged,
        ):
            signal.connect(self._update_arithmetic)
        self.arithmeticView = ImageGridView("Choose an image and a vector.")
        self.arithmeticView.setObjectName("arithmeticView")
        self.arithmeticLabel = QLabel(objectName="arithmeticLabel")
        self.arithmeticLabel.setWordWrap(True)
        self.arithmeticLabel.setStyleSheet("color: gray;")

        base_row = QHBoxLayout()
        base_row.addWidget(self.baseSpin)
        base_row.addWidget(self.useSelectedButton)
        base_row.addWidget(self.baseThumb)
        base_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Image", base_row)
        form.addRow("Vector", self.vectorCombo)
        form.addRow("From class", self.fromClassCombo)
        form.addRow("To class", self.toClassCombo)
        form.addRow("Strength up to", self.strengthSpin)
        form.addRow("Pictures", self.countSpin)
        self._arithmetic_form = form
        controls = QVBoxLayout()
        controls.addLayout(form)
        controls.addStretch(1)

        right = QVBoxLayout()
        right.addWidget(self.arithmeticView, 1)
        right.addWidget(self.arithmeticLabel)
        tab = QWidget()
        layout = QHBoxLayout(tab)
        layout.setContentsMargins(2, 4, 2, 2)
        layout.addLayout(controls)
        layout.addLayout(right, 1)
        return tab

    # -- public ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the animation and the background decoding, and leave the map without this panel's path."""
        super().shutdown()
        if self.state.overlay_path is not None:
            self.state.set_overlay_path(None)

    def export_png(self) -> None:
        if self.interpolation is None:
            return
        frames = self.interpolation.frames
        export_images(
            self, "Export interpolation strip", export_stem(self.state, "interpolation"), ".png",
            lambda path: save_png(frames, path, scale=EXPORT_STRIP_SCALE),
        )  # fmt: skip

    def export_gif(self) -> None:
        if self.interpolation is None:
            return
        frames, frame_ms, bounce = self.interpolation.frames, round(1000 / self.speedSpin.value()), self.bounceCheck.isChecked()
        export_images(
            self, "Export interpolation animation", export_stem(self.state, "interpolation"), ".gif",
            lambda path: save_gif(frames, path, frame_ms=frame_ms, scale=EXPORT_GIF_SCALE, bounce=bounce),
        )  # fmt: skip

    # -- state events ------------------------------------------------------------------
    def _on_state(self) -> None:
        """Follow the model, its weights, the data set and the encoding (see the module docstring)."""
        dataset = self.state.dataset
        if dataset is not None:  # without one the chosen indices are kept for the next data set
            last = max(len(dataset.test_images) - 1, 0)
            for spin in (self.endpointA.indexSpin, self.endpointB.indexSpin, self.baseSpin):
                with QSignalBlocker(spin):
                    spin.setRange(0, last)
        self._configure_classes()
        self._refresh()

    def _configure_classes(self) -> None:
        """Class choices follow the data set; class means need its labels."""
        dataset = self.state.dataset
        names = list(dataset.class_names) if dataset is not None and dataset.test_labels is not None else []
        for combo in (self.endpointA.classCombo, self.endpointB.classCombo, self.fromClassCombo, self.toClassCombo):
            if [combo.itemText(i) for i in range(combo.count())] == names:
                continue
            with QSignalBlocker(combo):
                keep = combo.currentIndex()
                combo.clear()
                combo.addItems(names)
                default = 1 if combo in (self.endpointB.classCombo, self.toClassCombo) else 0
                combo.setCurrentIndex(keep if 0 <= keep < len(names) else min(default, len(names) - 1))
        for box in (self.endpointA, self.endpointB):
            item = box.sourceCombo.model().item(box.sourceCombo.findData("class"))
            item.setEnabled(bool(names))
        # Disabled rather than switched away from, so the choice comes back with a labelled data set.
        classes_item = self.vectorCombo.model().item(self.vectorCombo.findData("classes"))
        classes_item.setEnabled(bool(names))

    def _on_selection(self) -> None:
        # A click on a dot selects it and then probes: remember the dot until this click is handled.
        self._clicked_index = self.state.selected_index
        if self._clicked_index is not None:
            QTimer.singleShot(0, self, self._forget_click)
        if self.state.current is not None and self.state.current.config.conditional:
            # A conditional model decodes with the selected image's class.
            self._updates.now_or_when_shown(self._refresh)

    def _forget_click(self) -> None:
        self._clicked_index = None

    def _on_probe(self) -> None:
        probe = self.state.probe
        if probe is None:
            return
        self._pointed = ("image", self._clicked_index) if self._clicked_index is not None else ("map", probe.copy())
        if self._picking:
            box = self._picking.pop(0)
            self._apply_pointed(box)
            if not self._picking:
                self.pickButton.setChecked(False)
            else:
                self.pickHint.setText("Now click the end (B).")

    # -- endpoints -------------------------------------------------------------------------
    def _use_map_point(self, box: EndpointBox) -> None:
        if self._pointed is None:
            index, probe = self.state.selected_index, self.state.probe
            if probe is not None:
                self._pointed = ("map", probe.copy())
            elif index is not None:
                self._pointed = ("image", index)
            else:
                QMessageBox.information(self, "No map point yet", "Click a point or a dot on the latent map first.")
                return
        self._apply_pointed(box)

    def _apply_pointed(self, box: EndpointBox) -> None:
        assert self._pointed is not None
        kind, value = self._pointed
        if kind == "image":
            box.set_image(int(value))  # type: ignore[call-overload]
        else:
            box.set_map_point(value)  # type: ignore[arg-type]

    def _on_pick_toggled(self, on: bool) -> None:
        self._picking = [self.endpointA, self.endpointB] if on else []
        self.pickHint.setText("Click the start (A) on the latent map." if on else "")

    def _usable_model(self) -> tuple[TrainedModel | None, str]:
        """The current model if it can decode and encode the data set's images, else None and why not."""
        current, dataset = self.state.current, self.state.dataset
        if current is None:
            return None, "No model yet: train one or open a checkpoint."
        if dataset is None:
            return None, "Loading the data set…"
        problem = can_run_on(current, dataset)
        return (None, problem) if problem else (current, "")

    def _image_code(self, trained: TrainedModel, index: int) -> np.ndarray:
        """μ of one test image, encoded now (well under a millisecond), so it needs no map encoding."""
        dataset = self.state.dataset
        assert dataset is not None
        labels = dataset.test_labels[index : index + 1] if dataset.test_labels is not None else None
        return encode(trained.model, dataset.test_images[index : index + 1], labels).mu[0].astype(np.float64)

    def _class_code(self, label: int) -> tuple[np.ndarray | None, str]:
        dataset, encoding = self.state.dataset, self.state.encoding
        assert dataset is not None
        if dataset.test_labels is None:
            return None, "This data set has no classes."
        if encoding is None or len(encoding.mu) != len(dataset.test_labels):
            return None, "Waiting for the latent map to encode the test images…"
        try:
            return class_mean(encoding.mu, dataset.test_labels.numpy(), label), ""
        except ValueError:
            return None, f"No test image has the class {dataset.class_names[label]}."

    def _endpoint_code(self, trained: TrainedModel, box: EndpointBox) -> tuple[np.ndarray | None, str]:
        """The latent vector ``box`` describes for the current model, or None and why there is none."""
        d = trained.config.latent_dim
        dataset = self.state.dataset
        assert dataset is not None
        box.thumbLabel.clear()
        if box.source == "map":
            if box.map_point is None or len(box.map_point) != d:
                return None, f"{box.name}: click a point on the map, then press “From map”."
            return box.map_point, ""
        if box.source == "image":
            index = box.indexSpin.value()
            if index >= len(dataset.test_images):
                return None, "The data set has no test images."
            box.thumbLabel.setPixmap(to_qpixmap(dataset.test_images[index].numpy(), THUMB_SCALE))
            return self._image_code(trained, index), ""
        if box.source == "class":
            return self._class_code(box.classCombo.currentIndex())
        return sample_prior(d, 1, seed=box.prior_seed)[0], ""

    # -- the path ----------------------------------------------------------------------------
    def _refresh(self) -> None:
        self._update_path()
        self._update_arithmetic()

    def _update_path(self) -> None:
        trained, why = self._usable_model()
        ends: list[np.ndarray] = []
        if trained is not None:
            for box in (self.endpointA, self.endpointB):
                z, reason = self._endpoint_code(trained, box)
                box.show_code(z)
                if z is None:
                    why = why or reason
                else:
                    ends.append(z)
        if trained is None or len(ends) < 2:
            self._clear_path(why)
            return
        steps, method, label = self.stepsSpin.value(), str(self.methodCombo.currentData()), self.state.decode_label()
        background = decode_in_background(trained.model, steps)
        model = detached(trained.model) if background else trained.model
        z0, z1 = ends
        self._path_task.request(lambda: interpolate(model, z0, z1, steps, method, label), background=background)

    def _clear_path(self, message: str) -> None:
        self._path_task.cancel()
        self.interpolation = None
        self.playButton.setChecked(False)
        self.stripView.set_images(None)
        self.stripView.set_placeholder(message)
        self.frameView.set_images(None)
        self.distanceCurve.setData([], [])
        self._frame_line.hide()
        self.smoothnessLabel.setText("")
        for button in (self.playButton, self.exportButton):
            button.setEnabled(False)
        self._publish_overlay()

    def _show_path(self, result: Interpolation) -> None:
        self.interpolation = result
        steps = len(result.frames)
        self.stripView.set_images(result.frames[None])
        distances = result.distances
        # Each distance sits between the two frames it compares.
        self.distanceCurve.setData(np.arange(steps - 1) + 0.5, distances)
        self.distancePlot.setXRange(0, steps - 1, padding=0.02)
        self.distancePlot.setYRange(0, max(float(distances.max(initial=0.0)), 1e-3) * 1.1, padding=0)
        ratio = result.spike_ratio
        verdict, why = result.smoothness
        self.smoothnessLabel.setText(f"largest step {ratio:.1f}× the mean: {verdict}")
        self.smoothnessLabel.setToolTip(
            f"The largest change between two frames is {ratio:.1f} times the mean change: {why}."
        )
        for button in (self.playButton, self.exportButton):
            button.setEnabled(True)
        self._frame_line.show()
        self._show_frame(min(self._frame, steps - 1))
        self._publish_overlay()

    def _show_frame(self, index: int) -> None:
        if self.interpolation is None:
            return
        self._frame = index
        self.frameView.set_images(self.interpolation.frames[index : index + 1])
        self.stripView.set_highlight((0, index))
        self._frame_line.setValue(index)

    def _publish_overlay(self) -> None:
        """The path on the map while this panel is on screen (the path of a tab behind others would puzzle)."""
        shown = self._updates.on_screen() and self.showOnMapCheck.isChecked()
        path = self.interpolation.codes if shown and self.interpolation is not None else None
        if path is None and self.state.overlay_path is None:
            return
        self.state.set_overlay_path(path)

    def _on_screen_changed(self, shown: bool) -> None:
        if not shown:
            self.playButton.setChecked(False)  # playing to nobody
        self._publish_overlay()

    # -- animation -------------------------------------------------------------------------
    def _on_play_toggled(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.playButton.setIcon(self.style().standardIcon(icon))
        self.playButton.setText("Pause" if playing else "Play")
        if playing:
            self._on_speed(self.speedSpin.value())
            self._timer.start()
        else:
            self._timer.stop()

    def _on_speed(self, fps: int) -> None:
        self._timer.setInterval(round(1000 / fps))

    def _advance(self) -> None:
        if self.interpolation is None:
            return
        last = len(self.interpolation.frames) - 1
        step = self._frame + self._direction
        if self.bounceCheck.isChecked():
            if not 0 <= step <= last:
                self._direction = -self._direction
                step = self._frame + self._direction
        else:
            self._direction = 1
            step = 0 if step > last else step
        self._show_frame(int(np.clip(step, 0, last)))

    # -- latent arithmetic -----------------------------------------------------------------
    def _use_selected_base(self) -> None:
        if self.state.selected_index is not None:
            self.baseSpin.setValue(self.state.selected_index)

    def _update_arithmetic(self) -> None:
        by_class = self.vectorCombo.currentData() == "classes"
        for combo in (self.fromClassCombo, self.toClassCombo):
            combo.setEnabled(by_class)
            self._arithmetic_form.labelForField(combo).setEnabled(by_class)
        vector = "μ(to class) − μ(from class)" if by_class else "B − A"
        self.arithmeticLabel.setText(
            f"Each picture decodes <i>z</i> = μ(image) + <i>s</i> · ({vector}) for the strength <i>s</i> above it. "
            "If the space is well organised, the same offset changes the same property of any image."
        )
        trained, why = self._usable_model()
        dataset = self.state.dataset
        self.baseThumb.clear()
        if trained is None or dataset is None or len(dataset.test_images) == 0:
            self._clear_arithmetic(why or "The data set has no test images.")
            return
        index = self.baseSpin.value()
        self.baseThumb.setPixmap(to_qpixmap(dataset.test_images[index].numpy(), THUMB_SCALE))
        if by_class:
            start, why = self._class_code(self.fromClassCombo.currentIndex())
            end, why_end = self._class_code(self.toClassCombo.currentIndex())
            why = why or why_end
        else:
            start, why = self._endpoint_code(trained, self.endpointA)
            end, why_end = self._endpoint_code(trained, self.endpointB)
            why = why or why_end
        if start is None or end is None:
            self._clear_arithmetic(why)
            return
        base = self._image_code(trained, index)
        strengths = np.linspace(0.0, self.strengthSpin.value(), self.countSpin.value())
        # A conditional model keeps the chosen image's class, so only the latent code changes.
        label = int(dataset.test_labels[index]) if trained.config.conditional and dataset.test_labels is not None else None
        background = decode_in_background(trained.model, len(strengths))
        model = detached(trained.model) if background else trained.model
        self._arithmetic_task.request(
            lambda: latent_arithmetic(model, base, start, end, strengths, label), background=background
        )

    def _clear_arithmetic(self, message: str) -> None:
        self._arithmetic_task.cancel()
        self.arithmetic = None
        self.arithmeticView.set_images(None)
        self.arithmeticView.set_placeholder(message)

    def _show_arithmetic(self, result: Arithmetic) -> None:
        self.arithmetic = result
        self.arithmeticView.set_images(result.images[None], column_labels=[f"s = {s:.2g}" for s in result.strengths])

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)
