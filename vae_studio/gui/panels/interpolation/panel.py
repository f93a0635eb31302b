"""Interpolation: walk a straight or spherical path between two latent points and watch the decodings.

The endpoints come from the latent map (a clicked point, or a clicked dot's μ), from test images,
from class means or from the prior. The strip of decoded frames, an animation of it and the pixel
change from frame to frame show whether the space between the endpoints is filled with plausible
images (small, even steps) or crosses a hole or a fold (one step carries most of the change). The
path is drawn on the map through ``AppState.overlay_path`` while this panel is on screen. A second
tab does latent arithmetic: it adds the vector between two class means (or between the two
endpoints, or between the images with and without an attribute listed beside a folder's images) to
a chosen image's code. A new model, new weights, data set or encoding (a training refresh)
recompute both once per event-loop turn, and only while the panel is on screen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ....core.app_state import AppState, Event
from ....core.interpolation import Arithmetic, Interpolation, interpolate, save_gif, save_png
from ...work.deferred_refresh import DeferredRefresh
from ...export_files import export_images, export_stem
from ...widgets.image_grid import HIGHLIGHT, ImageGridView
from ...widgets.labels import note_label
from ...widgets.layouts import page_tabs
from ...widgets.playback import PlayButton, fps_spin
from ...widgets.plots import TEACHING_PLOT_MIN
from ...work.private_copies import decode_in_background, detached
from ...work.tasks import Task
from ...widgets.colours import BLUE
from .arithmetic import ArithmeticTab
from .endpoints import EndpointsAndAnimation
from .endpoint_box import EndpointBox
from ..base import Panel

# Linear first: on a 2-D map it is the straight line students expect; slerp matters in many dimensions.
METHODS = (("linear", "Linear"), ("slerp", "Spherical (slerp)"))
MAX_STEPS = 64
DEFAULT_STEPS = 10
DEFAULT_FPS = 8
EXPORT_STRIP_SCALE = 2  # exported 28x28 frames at 56x56: visible on a slide, still one file per strip
EXPORT_GIF_SCALE = 4


class InterpolationPanel(ArithmeticTab, EndpointsAndAnimation, Panel):
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

        self.tabs = page_tabs(
            "interpolationTabs", (self._build_path_tab(), "Path"), (self._build_arithmetic_tab(), "Latent arithmetic")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)

        self._updates = DeferredRefresh(self, self._on_state)
        self._updates.on_screen_changed.connect(self._on_screen_changed)
        self.subscribe(self._updates.request, Event.CURRENT_MODEL, Event.WEIGHTS, Event.DATASET, Event.ENCODING)
        self.subscribe(self._on_selection, Event.SELECTION)
        self.subscribe(self._on_probe, Event.PROBE)
        self._on_state()

    # -- construction -------------------------------------------------------------------
    def _build_path_tab(self) -> QWidget:
        self._build_ends()
        self._build_path_options()
        self._build_pictures()
        self._build_playback()
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
        # One row of frames as wide as the page is about a third of a laptop page high; an equal share
        # left a band of nothing under it at 1366x768.
        pictures.addWidget(self.stripView, 1)
        pictures.addWidget(self.distancePlot, 2)
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


    def _build_ends(self) -> None:
        """The two ends of the path and the pick-on-map button."""
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

    def _build_path_options(self) -> None:
        """How the path runs: linear or spherical, how many steps, whether the map shows it."""
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

    def _build_pictures(self) -> None:
        """The strip of frames, the frame on show and the plot of the change from frame to frame."""
        # Asks for frames at their own size, so a low dock still has room for the plot under it.
        self.stripView = ImageGridView("Choose the two ends of the path.", natural_scale=1)
        self.stripView.setObjectName("stripView")
        self.stripView.cellClicked.connect(lambda _row, col: self._show_frame(col))
        self.stripView.setMinimumHeight(40)
        self.frameView = ImageGridView()
        self.frameView.setObjectName("frameView")
        self.frameView.setFixedWidth(120)  # the frame on show, next to the strip and the plot
        self.distancePlot = pg.PlotWidget(objectName="distancePlot")
        self.distancePlot.setMinimumHeight(TEACHING_PLOT_MIN)  # a lesson page has the room
        self.distancePlot.setLabel("left", "change")
        self.distancePlot.setToolTip("RMS pixel change from each frame to the next (grey levels, 0 to 1)")
        self.distancePlot.setLabel("bottom", "frame")
        self.distancePlot.showGrid(x=True, y=True, alpha=0.2)
        self.distancePlot.setMouseEnabled(x=False, y=False)
        self.distancePlot.hideButtons()
        self.distancePlot.getAxis("left").enableAutoSIPrefix(False)  # grey levels 0..1, not "x0.001"
        self.distanceCurve = self.distancePlot.plot(
            pen=pg.mkPen(BLUE, width=2), symbol="o", symbolSize=5, symbolBrush=BLUE, symbolPen=None
        )
        self._frame_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(HIGHLIGHT, width=2))
        self.distancePlot.addItem(self._frame_line)
        self.smoothnessLabel = note_label("smoothnessLabel")
        self.smoothnessLabel.setMinimumWidth(40)  # elided by the layout rather than widening the row

    def _build_playback(self) -> None:
        """Play, speed, back and forth, and the export menu."""
        self.playButton = PlayButton("interpolationPlayButton")
        self.playButton.toggled.connect(self._on_play_toggled)
        self.speedSpin = fps_spin(
            "interpolationSpeedSpin", DEFAULT_FPS, "Frames per second of the animation and of the GIF"
        )
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
        self._configure_attributes()
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
