"""Training replay: how the latent space took shape, snapshot by snapshot.

While a model trains, every map refresh brings a new encoding of the test split; this panel keeps
the means of a fixed sample of test images from each one (core.replay.Replay) and plays them back.
Each snapshot is shown in its own principal plane, turned to match the snapshot before
(orthogonal Procrustes), so the picture neither flips nor spins between frames, on axes fixed for
the whole replay, so growth and shrinkage of the cloud stay visible. A new training run starts a
new replay. Every snapshot is recorded, but drawn only while the panel is on screen, once per
event-loop turn (gui/deferred_refresh.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ...core.app_state import AppState, Event
from ...core.replay import Replay
from ...core.trained_model import TrainedModel
from ..widgets.colours import UNLABELLED, class_colours
from ..widgets.playback import PlayButton, fps_spin
from ..work.deferred_refresh import DeferredRefresh
from .base import Panel

# The same test images at every snapshot; 2,000 show the shape of the cloud and keep 100 snapshots
# of a 32-D model near 25 MB.
REPLAY_POINTS = 2000
POINT_SIZE = 4
POINT_ALPHA = 210
DEFAULT_FPS = 5
IDLE_TEXT = (
    "Train a model to see how its latent space forms: a snapshot of the test images' codes is kept at "
    "every map refresh, and played back here."
)


class ReplayPanel(Panel):
    """Snapshots of the test codes during the last training run, on a slider with play/pause."""

    name = "replay"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.replay = Replay()
        self._model: TrainedModel | None = None  # the model this replay records
        self._rows: np.ndarray | None = None  # the test images it follows
        self._labels: np.ndarray | None = None  # their classes (None: unlabelled data)
        self._class_names: list[str] = []  # of the data set recorded
        self._brushes: object = None  # per point (by class), with the legend, once the replay is drawn
        self._bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._timer = QTimer(self, timeout=self._advance)

        self.titleLabel = QLabel(IDLE_TEXT, objectName="titleLabel")
        self.titleLabel.setWordWrap(True)
        self.replayPlot = pg.PlotWidget(objectName="replayPlot")
        self.replayPlot.setAspectLocked(True)
        self.replayPlot.showGrid(x=True, y=True, alpha=0.15)
        self.replayPlot.setMouseEnabled(x=False, y=False)  # the axes stay fixed for the whole replay
        self.replayPlot.hideButtons()
        self.scatter = pg.ScatterPlotItem(pxMode=True, pen=None, size=POINT_SIZE)
        self.replayPlot.addItem(self.scatter)
        self.legend = pg.LegendItem(offset=(-10, 10), brush=pg.mkBrush(0, 0, 0, 150), labelTextColor="w")
        self.legend.setParentItem(self.replayPlot.getPlotItem().getViewBox())

        self.playButton = PlayButton("replayPlayButton")
        self.playButton.toggled.connect(self._on_play_toggled)
        self.frameSlider = QSlider(Qt.Orientation.Horizontal, objectName="frameSlider")
        self.frameSlider.setRange(0, 0)
        self.frameSlider.valueChanged.connect(self.show_frame)
        self.speedSpin = fps_spin("replaySpeedSpin", DEFAULT_FPS, "Snapshots per second when playing")
        self.speedSpin.valueChanged.connect(lambda fps: self._timer.setInterval(round(1000 / fps)))
        self.frameLabel = QLabel(objectName="frameLabel")

        controls = QHBoxLayout()
        controls.addWidget(self.playButton)
        controls.addWidget(self.frameLabel, 1)
        controls.addWidget(self.speedSpin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.titleLabel)
        layout.addWidget(self.replayPlot, 1)
        layout.addWidget(self.frameSlider)  # a row of its own: the dock is narrow
        layout.addLayout(controls)

        self._updates = DeferredRefresh(self, self._show_recording)
        self._updates.on_screen_changed.connect(self._on_screen_changed)
        self.subscribe(self._on_training, Event.TRAINING)
        self.subscribe(self._on_encoding, Event.ENCODING)
        self._update_controls()

    # -- recording -------------------------------------------------------------------------
    def _on_training(self) -> None:
        if self.state.training:
            self.reset()
        else:
            self._update_title()

    def reset(self) -> None:
        """Forget the last run's snapshots (a new run starts a new replay)."""
        self.playButton.setChecked(False)
        self.replay = Replay()
        self._model = None
        self._rows = None
        self._bounds = None
        self.scatter.clear()
        self.legend.clear()
        self._update_controls()
        self.titleLabel.setText("Waiting for the first snapshot of the training run…")

    def _on_encoding(self) -> None:
        state = self.state
        encoding, current = state.encoding, state.current
        if not state.training or encoding is None or current is None:
            return
        if self._model is None:
            self._start_recording(current, len(encoding.mu))
        elif current is not self._model:
            return  # another model is on show; its encodings are not part of this run
        assert self._rows is not None
        if self._rows.max(initial=-1) >= len(encoding.mu):
            return  # not the split this replay follows
        # Recorded now even off screen (every snapshot belongs to the replay); drawn when on screen.
        self.replay.add(current.history.steps, encoding.mu[self._rows], self._labels)
        self._updates.request()

    def _show_recording(self) -> None:
        """Show the snapshots recorded so far: the newest one while the slider is at its end (following the run)."""
        if not len(self.replay):
            return
        if self._brushes is None:
            self._style_points()
        # The slider's range still ends at the last snapshot shown: at its end it follows the run.
        live = self.frameSlider.value() >= self.frameSlider.maximum()
        self._bounds = self.replay.bounds()
        self._update_controls()
        if live and not self.playButton.isChecked():
            with QSignalBlocker(self.frameSlider):
                self.frameSlider.setValue(len(self.replay) - 1)
        self.show_frame(self.frameSlider.value())  # the axes may have grown with the new snapshots
        self._update_title()

    def _on_screen_changed(self, shown: bool) -> None:
        if not shown:
            self.playButton.setChecked(False)  # playing to nobody

    def _start_recording(self, trained: TrainedModel, n: int) -> None:
        self._model = trained
        rows = np.random.default_rng(0).choice(n, size=min(n, REPLAY_POINTS), replace=False)
        self._rows = np.sort(rows)
        dataset = self.state.dataset
        if dataset is not None and dataset.labelled and dataset.test_labels is not None and len(dataset.test_labels) == n:
            self._labels = dataset.test_labels.numpy()[self._rows]
            self._class_names = list(dataset.class_names)
        else:
            self._labels = None
            self._class_names = []
        self._brushes = None

    def _style_points(self) -> None:
        """Colour the points by class and fill the legend: when first drawn, as the legend's widgets take
        a few tens of milliseconds to build, too long to spend behind a hidden tab during a run."""
        self.legend.clear()
        if self._labels is None:
            self._brushes = pg.mkBrush(UNLABELLED)
            return
        colours = class_colours(len(self._class_names))
        lookup = np.empty(len(colours), dtype=object)
        lookup[:] = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
        self._brushes = lookup[np.clip(self._labels, 0, len(colours) - 1)]
        self.legend.setColumnCount(1 if len(colours) <= 12 else 2)
        for name, colour in zip(self._class_names, colours):
            self.legend.addItem(pg.ScatterPlotItem(size=9, pen=None, brush=pg.mkBrush(colour), symbol="o"), name)

    def _update_title(self) -> None:
        if self._model is None:
            return
        n = len(self.replay)
        doing = "recording" if self.state.training else "recorded"
        self.titleLabel.setText(f"{self._model.name} · {n} snapshot{'s' if n != 1 else ''} {doing}")
        self.titleLabel.setToolTip(
            f"The codes of the same {len(self._rows) if self._rows is not None else 0:,} test images at every map "
            "refresh of the run, each snapshot in its principal plane turned to match the one before."
        )

    # -- playback ------------------------------------------------------------------------------
    def _update_controls(self) -> None:
        n = len(self.replay)
        with QSignalBlocker(self.frameSlider):
            self.frameSlider.setRange(0, max(n - 1, 0))
        self.frameSlider.setEnabled(n > 1)
        self.playButton.setEnabled(n > 1)
        if n == 0:
            self.frameLabel.setText("")
            if not self.state.training:
                self.titleLabel.setText(IDLE_TEXT)

    def show_frame(self, index: int) -> None:
        """Draw snapshot ``index`` on the replay's fixed axes."""
        if not 0 <= index < len(self.replay) or self._bounds is None:
            return
        frame = self.replay.frames[index]
        self.scatter.setData(x=frame.xy[:, 0], y=frame.xy[:, 1], brush=self._brushes, pen=None, size=POINT_SIZE)
        (x0, x1), (y0, y1) = self._bounds
        self.replayPlot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.replayPlot.setLabel("bottom", frame.plane.x_label)
        self.replayPlot.setLabel("left", frame.plane.y_label if frame.plane.latent_dim > 1 else "")
        self.frameLabel.setText(f"step {frame.step:,} · {index + 1}/{len(self.replay)}")
        # The new range now rather than while painting, where applying it asks for a second paint.
        self.replayPlot.scene().prepareForPaint()

    def _on_play_toggled(self, playing: bool) -> None:
        if not playing:
            self._timer.stop()
            return
        if self.frameSlider.value() >= self.frameSlider.maximum():
            self.frameSlider.setValue(0)  # play from the start when at the end
        self._timer.start(round(1000 / self.speedSpin.value()))

    def _advance(self) -> None:
        if self.frameSlider.value() >= self.frameSlider.maximum():
            self.playButton.setChecked(False)
            return
        self.frameSlider.setValue(self.frameSlider.value() + 1)
