"""AE versus VAE: continuity and completeness of two latent spaces that differ only in the KL term.

One click runs the core's experiment (core.ae_vs_vae.run_experiment, the same as ``vae-studio
compare --train``): a plain autoencoder and a VAE with the same architecture, latent size, data
and seed (matching models already in the session are reused), both scored. The page shows why
they score as they do: both latent maps side by side on one square with the prior's circles, a
row of decoded prior samples and a straight class-mean path decoded by each, then the scores, the
spread of per-point continuity and the least real decodings. The run is on this panel's
Task, with its stage and ETA in the status line and a Stop button.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ....core.ae_vs_vae import (
    CLOSE_LATENT_DIM,
    DEFAULT_LATENT_DIM,
    PairResult,
    PairSettings,
    PairStopped,
    run_experiment,
)
from ....core.app_state import AppState, Event
from ....core.batch_progress import Stopped
from ....core.completeness import DEFAULT_THRESHOLD, Completeness
from ....core.config import MAX_LATENT_DIM
from ....core.errors import VaeStudioError
from ....core.recipe import model_config_for
from ....core.text import format_duration
from ....core.trained_model import TrainedModel
from ...widgets.colours import UNLABELLED, class_colours
from ...widgets.image_grid import ImageGridView
from ...widgets.images import to_uint8_hwc
from ...work.tasks import Task, TaskState
from ..base import Panel

DEFAULTS = PairSettings()  # the lesson's settings, the same as `vae-studio compare --train`
WORST_SHOWN = 10  # decodings per model in the worst-first strip
HISTOGRAM_BINS = 30
POINT_ALPHA = 160
PATH_WIDTH = 3
AXIS_WIDTH = 44  # pixels for the maps' y tick labels
MAP_MIN_SIZE = 300  # each map at least this many pixels a side, on a 1366x768 screen
THUMBNAIL_SCALE = 2  # decoded samples and path frames at 2x: 56 px for 28 px images
PRIOR_CIRCLES = (1.0, 2.0)  # radii of the prior N(0, I) drawn on the maps
AE_COLOUR = (230, 159, 0)  # Okabe & Ito orange and blue: distinct for colour-blind eyes
VAE_COLOUR = (0, 114, 178)
PATH_COLOUR = (213, 94, 0)
PRIOR_COLOUR = (255, 255, 255)  # the maps' background is black

LOOK = (
    "<b>What to look at:</b> the dashed circles are the prior N(0, I), where new samples come from. "
    "The VAE's codes fill them, so its prior samples mostly decode to digits; the AE's codes spread on a "
    "scale of their own, so its prior samples decode to smudges. The straight path between two class "
    "means shows how each decoder fills the space between classes (red frames: the classifier is unsure)."
)
CLOSE = (
    f"At latent size {CLOSE_LATENT_DIM} the two come out close, and either may score higher from one seed to the "
    "next: with only two dimensions the AE has no room to leave gaps, so its codes stay around the prior's "
    f"circles and many of its prior samples decode to digits too. The difference shows with more dimensions, "
    f"e.g. {DEFAULT_LATENT_DIM}."
)
EXPLANATION = """
<p><b>Continuity</b>: how much the decoded picture changes for a small step in latent space around
the test images' codes, with steps measured in units of how spread out each model's codes are;
lower is smoother.</p>
<p><b>Completeness</b>: the share of latent points that no image was encoded to (samples of the
prior N(0, I), and a grid over the region the codes fill) whose decodings a classifier trained on
real images recognises as one class. With the threshold at <i>per model</i>, the classifier must be
at least as sure of a decoding as it is of 95% of that model's own reconstructions of real test
images, and at least 50% sure. So a blurry decoder is not marked down for blur, only for points that
decode worse than real data does. A fixed threshold asks for sharpness too.</p>
<p><b>An AE has no prior.</b> N(0, I) means nothing to it: its "prior samples" fall wherever that ball
happens to lie among its codes. That is the point: you cannot sample from an AE without knowing
where its codes are.</p>
<p><b>Why.</b> An AE is only asked to reconstruct; the VAE's KL term pulls every code towards N(0, I),
and decoding noisy codes teaches its decoder that nearby points mean similar pictures. With 8 or more
latent dimensions the AE's codes drift away from the origin into thin regions, so its prior samples
decode to smudges while the VAE's are recognisable. With 2 dimensions the AE has no room for gaps and
its codes usually still cover the origin, so the two score close. On the grid the AE can even score
higher: the VAE packs the classes closer together, so more of its grid falls on gradual morphs from
one class into another (a 4 turning into a 9), which the classifier does not recognise as any one
class. That is the other side of its smoothness.</p>
"""
# The threshold spin's lowest value, shown as "per model": each model's calibrated bar.
PER_MODEL = 0.45


class CompareJob:
    """The worker's task: core.ae_vs_vae.run_experiment, its progress reported (throttled by the
    task) as (stage, fraction, ETA in seconds)."""

    def __init__(self, settings: PairSettings, existing: list[TrainedModel]) -> None:
        self.settings = settings
        # Reused models are only read here (encode/decode); the GUI never changes their weights in
        # place, since training always makes a new model and comparing is off while one trains.
        self.existing = existing

    def __call__(self, context: TaskState) -> PairResult | PairStopped | None:
        def progress(stage: str, fraction: float, eta_s: float) -> None:
            context.report((stage, fraction, eta_s), force=fraction >= 1.0)

        try:
            return run_experiment(
                self.settings, existing=self.existing, progress=progress, should_stop=context.should_stop
            )
        except PairStopped as stopped:  # the Stop button while scoring: the trained pair is kept
            return stopped
        except Stopped:  # the Stop button while training: nothing is kept
            return None


class ComparisonPanel(Panel):
    """Train an AE and a VAE alike and show why their latent spaces differ in continuity and completeness."""

    name = "comparison"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.result: PairResult | None = None
        self.task = Task(self)
        self.task.partial.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._build_settings())
        layout.addWidget(self._build_sentences())
        layout.addWidget(self._build_results(), 1)

        self.subscribe(self._update_controls, Event.TRAINING, Event.DATASET)
        self._update_controls()
        self._show_close_note()

    # -- construction -------------------------------------------------------------------
    def _build_settings(self) -> QWidget:
        self.epochsSpin = QSpinBox(objectName="comparisonEpochsSpin")
        self.epochsSpin.setRange(1, 200)
        self.epochsSpin.setValue(DEFAULTS.epochs)
        self.epochsSpin.setToolTip("Training passes for each model; a few are enough to see the difference")
        self.subsetSpin = QSpinBox(objectName="comparisonSubsetSpin")
        self.subsetSpin.setRange(0, 10_000_000)
        self.subsetSpin.setSingleStep(1000)
        self.subsetSpin.setSpecialValueText("all")
        self.subsetSpin.setGroupSeparatorShown(True)
        self.subsetSpin.setValue(DEFAULTS.train_subset or 0)
        self.subsetSpin.setToolTip("Train both models on the same random subset of this many training images")
        self.latentDimSpin = QSpinBox(objectName="comparisonLatentDimSpin")
        self.latentDimSpin.setRange(1, MAX_LATENT_DIM)
        self.latentDimSpin.setValue(DEFAULTS.latent_dim)
        self.latentDimSpin.setToolTip(
            f"Latent size of both models. At {DEFAULT_LATENT_DIM} the difference is plain; at 2 the two come out "
            "close. Above 2 the maps show the plane of the codes' first two principal components"
        )
        self.latentDimSpin.valueChanged.connect(self._show_close_note)
        self.archCombo = QComboBox(objectName="comparisonArchCombo")
        self.archCombo.addItem("MLP", "mlp")
        self.archCombo.addItem("Conv", "conv")
        self.archCombo.setCurrentIndex(self.archCombo.findData(DEFAULTS.arch))
        self.archCombo.setToolTip("The architecture both models share")
        self.seedSpin = QSpinBox(objectName="comparisonSeedSpin")
        self.seedSpin.setRange(0, 2**31 - 1)
        self.seedSpin.setValue(DEFAULTS.seed)
        self.seedSpin.setToolTip("Both models start from this seed: the same initial weights and batch order")
        self.thresholdSpin = self._threshold_spin()

        style = self.style()
        self.compareButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train and compare", objectName="compareButton"
        )
        self.compareButton.clicked.connect(self.start)
        self.stopButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="comparisonStopButton")
        self.stopButton.setToolTip("Stop the run; the two models are kept only when the run finishes")
        self.stopButton.clicked.connect(self.stop)
        self.statusLabel = QLabel(objectName="comparisonStatusLabel")
        self.statusLabel.setWordWrap(True)

        # One row of settings across the page, the run's status under it.
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        column = 0
        for label, widget in (
            ("Latent size", self.latentDimSpin), ("Epochs", self.epochsSpin), ("Train on", self.subsetSpin),
            ("Model", self.archCombo), ("Seed", self.seedSpin), ("Threshold", self.thresholdSpin),
        ):  # fmt: skip
            caption = QLabel(label)
            caption.setToolTip(widget.toolTip())
            caption.setBuddy(widget)
            grid.addWidget(caption, 0, column)
            grid.addWidget(widget, 0, column + 1)
            column += 2
        grid.addWidget(self.compareButton, 0, column)
        grid.addWidget(self.stopButton, 0, column + 1)
        grid.setColumnStretch(column + 2, 1)
        grid.addWidget(self.statusLabel, 1, 0, 1, column + 3)
        return box

    def _threshold_spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(objectName="comparisonThresholdSpin")
        spin.setRange(PER_MODEL, 0.999)
        spin.setDecimals(2)
        spin.setSingleStep(0.05)
        spin.setSpecialValueText("per model")
        spin.setValue(PER_MODEL)
        spin.setMinimumWidth(self.fontMetrics().horizontalAdvance("per model") + 40)
        spin.setToolTip(
            "A decoding counts as real when the classifier gives one class at least this probability; "
            "per model: the level 95% of that model's reconstructions of real test images reach "
            f"(at least 50%). {DEFAULT_THRESHOLD:.0%} also asks for sharp pictures"
        )
        spin.valueChanged.connect(self._show_scores)
        return spin

    def _build_sentences(self) -> QWidget:
        self.lookLabel = QLabel(LOOK, objectName="lookLabel")
        self.lookLabel.setTextFormat(Qt.TextFormat.RichText)
        self.lookLabel.setWordWrap(True)
        self.closeLabel = QLabel(CLOSE, objectName="closeLabel")
        self.closeLabel.setWordWrap(True)
        self.closeLabel.setStyleSheet("color: #a15c00;")
        self.switchButton = QPushButton(f"Compare at latent size {DEFAULT_LATENT_DIM}", objectName="switchButton")
        self.switchButton.setToolTip(f"Set the latent size to {DEFAULT_LATENT_DIM} and train and compare the pair")
        self.switchButton.clicked.connect(self.switch_to_default)
        close = QHBoxLayout()
        close.setContentsMargins(0, 0, 0, 0)
        close.addWidget(self.closeLabel, 1)
        close.addWidget(self.switchButton, 0, Qt.AlignmentFlag.AlignVCenter)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.lookLabel)
        layout.addLayout(close)
        return box

    def _map_plot(self, name: str, title: str) -> tuple[pg.PlotWidget, pg.ImageItem, pg.ScatterPlotItem]:
        plot = pg.PlotWidget(objectName=name)
        plot.setTitle(title)
        plot.setAspectLocked(True)
        plot.setMouseEnabled(x=False, y=False)  # both maps keep the shared axes
        plot.hideButtons()
        plot.setMinimumSize(MAP_MIN_SIZE, MAP_MIN_SIZE)
        # Equal axis widths give both plots the same drawing area, so the locked aspect widens both alike.
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        image = pg.ImageItem(axisOrder="row-major")
        image.setOpacity(0.6)  # the points stay readable above the decoded manifold
        plot.addItem(image)
        scatter = pg.ScatterPlotItem(pxMode=True, pen=None, size=3)
        plot.addItem(scatter)
        return plot, image, scatter

    def _overlays(self, plot: pg.PlotWidget) -> tuple[list[pg.PlotCurveItem], pg.PlotDataItem]:
        """The prior's circles and the class-mean path, drawn above the points."""
        circles = []
        for radius in PRIOR_CIRCLES:
            pen = pg.mkPen(PRIOR_COLOUR, width=2 if radius == 1 else 1, style=Qt.PenStyle.DashLine)
            circle = pg.PlotCurveItem(pen=pen)
            plot.addItem(circle)
            circles.append(circle)
        path = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOUR, width=PATH_WIDTH), symbol="o", symbolSize=5, symbolBrush=PATH_COLOUR, symbolPen=None
        )
        plot.addItem(path)
        return circles, path

    def _build_results(self) -> QWidget:
        self.aeMap, self._ae_manifold, self._ae_points = self._map_plot("aeMap", "AE")
        self.vaeMap, self._vae_manifold, self._vae_points = self._map_plot("vaeMap", "VAE")
        self._ae_circles, self._ae_path = self._overlays(self.aeMap)
        self._vae_circles, self._vae_path = self._overlays(self.vaeMap)
        maps = QWidget()
        maps_layout = QHBoxLayout(maps)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addWidget(self.aeMap)
        maps_layout.addWidget(self.vaeMap)

        pictures = QWidget()
        pictures_layout = QVBoxLayout(pictures)
        pictures_layout.setContentsMargins(4, 0, 0, 0)
        for widget in self._build_strips():
            pictures_layout.addWidget(widget)
        pictures_layout.addWidget(self._build_tabs(), 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="comparisonSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(maps)
        splitter.addWidget(pictures)
        splitter.setSizes([1000, 1000])
        return splitter

    def _build_strips(self) -> tuple[QWidget, ...]:
        """Titles and views of the decoded prior samples and the class-mean path."""
        self.samplesView = ImageGridView(
            "Decoded prior samples of each model appear here.", natural_scale=THUMBNAIL_SCALE, height_for_width=True
        )
        self.samplesView.setObjectName("samplesView")
        self.samplesView.setToolTip("Samples of N(0, I) decoded by each model; red frame: the classifier is not sure")
        self.pathView = ImageGridView(
            "The straight path between two class means, decoded by each model, appears here.",
            natural_scale=THUMBNAIL_SCALE, height_for_width=True,
        )  # fmt: skip
        self.pathView.setObjectName("pathView")
        self.pathView.setToolTip("A straight line between the means of two classes' codes, decoded at even steps")
        self.samplesTitle = QLabel("<b>Samples of the prior, decoded</b>", objectName="samplesTitle")
        self.pathTitle = QLabel("<b>A straight path between two class means, decoded</b>", objectName="pathTitle")
        return self.samplesTitle, self.samplesView, self.pathTitle, self.pathView

    def _scores_table(self) -> QTableWidget:
        table = QTableWidget(5, 2, objectName="scoresTable")
        table.setHorizontalHeaderLabels(["AE", "VAE"])
        table.setVerticalHeaderLabels(
            ["Continuity ↓", "Completeness ↑", "  prior samples", "  grid points", "Nearest real image ↓"]
        )
        table.verticalHeaderItem(0).setToolTip(
            "RMS pixel change per unit step (in units of the codes' spread); lower is smoother"
        )
        table.verticalHeaderItem(4).setToolTip("Mean pixel distance of a decoding to its nearest training image")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setFixedHeight(
            table.horizontalHeader().sizeHint().height() + 5 * rows.defaultSectionSize()
            + 2 * table.frameWidth()
        )  # fmt: skip
        return table

    def _build_tabs(self) -> QTabWidget:
        """The scores, the spread of continuity, the least real decodings and how it is all measured."""
        self.scoresTable = self._scores_table()
        self.noteLabel = QLabel(objectName="noteLabel")
        self.noteLabel.setWordWrap(True)
        self.noteLabel.setStyleSheet("color: gray;")
        scores = QWidget()
        scores_layout = QVBoxLayout(scores)
        scores_layout.setContentsMargins(2, 2, 2, 2)
        scores_layout.addWidget(self.scoresTable)
        scores_layout.addWidget(self.noteLabel)
        scores_layout.addStretch(1)

        self.histogramPlot = pg.PlotWidget(objectName="histogramPlot")
        self.histogramPlot.setLabel("bottom", "continuity per test point")
        self.histogramPlot.setLabel("left", "points")
        self.histogramPlot.setMouseEnabled(x=False, y=False)
        self.histogramPlot.hideButtons()
        self.histogramPlot.getAxis("bottom").enableAutoSIPrefix(False)
        legend = self.histogramPlot.addLegend(offset=(-10, 5))
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))  # readable over the bars it may cover
        self.aeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(AE_COLOUR, width=1.5), brush=(*AE_COLOUR, 70), name="AE"
        )
        self.vaeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(VAE_COLOUR, width=1.5), brush=(*VAE_COLOUR, 70), name="VAE"
        )
        self.worstView = ImageGridView("The least real-looking decodings of each model appear here.", natural_scale=2)
        self.worstView.setObjectName("worstView")
        self.worstView.setToolTip("Decodings of prior samples and grid points, the classifier's least trusted first")
        self.explanationLabel = QLabel(EXPLANATION, objectName="explanationLabel")
        self.explanationLabel.setTextFormat(Qt.TextFormat.RichText)
        self.explanationLabel.setWordWrap(True)
        self.explanationLabel.setAlignment(Qt.AlignmentFlag.AlignTop)
        explanation = QScrollArea()
        explanation.setWidget(self.explanationLabel)
        explanation.setWidgetResizable(True)
        explanation.setFrameShape(QFrame.Shape.NoFrame)
        explanation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.resultTabs = QTabWidget(objectName="resultTabs")
        self.resultTabs.setDocumentMode(True)
        self.resultTabs.addTab(scores, "Scores")
        self.resultTabs.addTab(self.histogramPlot, "Continuity per point")
        self.resultTabs.addTab(self.worstView, "Least real")
        self.resultTabs.addTab(explanation, "How it is measured")
        return self.resultTabs

    # -- public ------------------------------------------------------------------------
    def shutdown(self) -> None:
        busy = self.task.busy
        super().shutdown()
        if busy:
            self.state.set_progress(None)

    def settings(self) -> PairSettings:
        """The experiment the controls describe on the current data set."""
        dataset = self.state.dataset
        assert dataset is not None
        return replace(
            DEFAULTS,
            dataset=dataset.name,
            latent_dim=self.latentDimSpin.value(),
            arch=str(self.archCombo.currentData()),
            epochs=self.epochsSpin.value(),
            train_subset=self.subsetSpin.value() or None,
            seed=self.seedSpin.value(),
            threshold=self._fixed_threshold(),
        )

    def start(self) -> None:
        """Train (or reuse) the pair and score both on the worker thread."""
        dataset = self.state.dataset
        if self.task.busy or dataset is None or self.state.training:
            return
        try:
            settings = self.settings()
            settings.train_config()  # checks the settings here, with a message, not in the worker
            model_config_for(dataset, kind="vae", arch=settings.arch, latent_dim=settings.latent_dim)
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Cannot compare", str(exc))
            return
        self.task.start(CompareJob(settings, list(self.state.models)))
        self._status("Starting…")
        self.state.set_progress(0.0, "Comparison: starting…")
        self._update_controls()

    def switch_to_default(self) -> None:
        """The one-click way out of the close setting: the lesson's latent size, trained and compared."""
        self.latentDimSpin.setValue(DEFAULT_LATENT_DIM)
        self.start()

    def stop(self) -> None:
        if self.task.busy:
            self.task.stop()
            self._status("Stopping…")
            self.stopButton.setEnabled(False)

    # -- the task ----------------------------------------------------------------------
    def _on_progress(self, message: tuple[str, float, float]) -> None:
        stage, fraction, eta_s = message
        eta = "" if not np.isfinite(eta_s) else f" · ETA {format_duration(eta_s)}"
        self._status(f"{stage[0].upper()}{stage[1:]}… {fraction:.0%}{eta}")
        self.state.set_progress(fraction, f"Comparison: {stage}{eta}")

    def _on_finished(self, result: PairResult | PairStopped | None) -> None:
        self.state.set_progress(None)
        self._update_controls()
        if result is None:
            self._status("Stopped while training: the two models were not finished, so nothing was kept.")
            return
        if isinstance(result, PairStopped):
            self._keep((result.ae, result.vae))
            self._status(
                "Stopped while scoring: the two trained models were kept in the Models list, and Train and "
                "compare scores them without training them again."
            )
            return
        self._keep(p.trained for p in (result.ae, result.vae) if p.new)
        reused = [p.trained.name for p in (result.ae, result.vae) if not p.new]
        self._status(
            f"Done in {format_duration(result.seconds)}." + (f" Reused {' and '.join(reused)}." if reused else "")
        )
        self.result = result
        self._show_maps()
        self._show_scores()

    def _keep(self, pair: Iterable[TrainedModel]) -> None:
        """Add the models of the pair that the session does not hold yet, named for what they are."""
        for trained in pair:
            if any(trained is m for m in self.state.models):
                continue
            config, run = trained.config, trained.train_config
            trained.name = f"{config.kind.upper()} z={config.latent_dim} {run.dataset} · {run.epochs} ep (comparison)"
            trained.model.eval()
            self.state.add_model(trained, make_current=False)

    def _on_failed(self, message: str) -> None:
        self.state.set_progress(None)
        self._update_controls()
        self._status("Failed.")
        QMessageBox.warning(self, "Comparison failed", message)

    def _status(self, text: str) -> None:
        self.statusLabel.setText(text)

    def _update_controls(self) -> None:
        busy = self.task.busy
        ready = self.state.dataset is not None and not self.state.training
        self.compareButton.setEnabled(not busy and ready)
        self.switchButton.setEnabled(not busy and ready)
        self.compareButton.setToolTip(
            "Train an AE and a VAE with these settings on the current data set and compare them"
            if ready
            else "Wait for the training run (or the data set) to finish first"
        )
        self.stopButton.setEnabled(busy)
        for widget in (self.epochsSpin, self.subsetSpin, self.latentDimSpin, self.archCombo, self.seedSpin):
            widget.setEnabled(not busy)

    def _show_close_note(self) -> None:
        """At a latent size where the two come out close, say so and offer the one where they differ."""
        close = self.latentDimSpin.value() <= CLOSE_LATENT_DIM
        self.closeLabel.setVisible(close)
        self.switchButton.setVisible(close)

    # -- results -----------------------------------------------------------------------
    def _show_maps(self) -> None:
        result = self.result
        assert result is not None
        x0, y0, side = result.square
        angle = np.linspace(0, 2 * np.pi, 97)
        for picture, plot, image, scatter, circles, path in (
            (result.ae, self.aeMap, self._ae_manifold, self._ae_points, self._ae_circles, self._ae_path),
            (result.vae, self.vaeMap, self._vae_manifold, self._vae_points, self._vae_circles, self._vae_path),
        ):
            # Row 0 of the mosaic is the top of the plane; the y-up view draws image row 0 at the bottom.
            mosaic = to_uint8_hwc(picture.manifold)
            pixels = mosaic[::-1, :, 0] if mosaic.shape[2] == 1 else mosaic[::-1]
            image.setImage(np.ascontiguousarray(pixels), levels=(0, 255), autoLevels=False)
            image.setRect(QRectF(x0, y0, side, side))
            scatter.setData(x=picture.xy[:, 0], y=picture.xy[:, 1], brush=self._brushes(result.labels), pen=None)
            cx, cy = picture.prior_centre
            for circle, radius in zip(circles, PRIOR_CIRCLES):
                circle.setData(cx + radius * np.cos(angle), cy + radius * np.sin(angle))
            path.setData(picture.path_xy[:, 0], picture.path_xy[:, 1])
            plot.setRange(xRange=(x0, x0 + side), yRange=(y0, y0 + side), padding=0)
            plot.setLabel("bottom", picture.plane_labels[0])
            plot.setLabel("left", picture.plane_labels[1])
            # A long title would widen one plot's minimum size, and with it that plot's range.
            plot.setToolTip(f"{picture.trained.name}: test images' codes, the prior's 1σ and 2σ circles (dashed) "
                            "and the class-mean path (orange), over the decoded plane")

    def _brushes(self, labels: np.ndarray | None) -> object:
        dataset = self.state.dataset
        if labels is None or dataset is None or not dataset.num_classes:
            return pg.mkBrush(UNLABELLED)
        colours = class_colours(dataset.num_classes)
        lookup = np.empty(len(colours), dtype=object)
        lookup[:] = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
        return lookup[np.clip(labels, 0, len(colours) - 1)]

    def _show_pictures(self) -> None:
        """The rows of decoded prior samples and the class-mean path, each model's bar flagging doubtful ones."""
        result = self.result
        assert result is not None
        start, end = result.path_ends
        self.pathTitle.setText(f"<b>A straight path from the mean of “{start}” to the mean of “{end}”, decoded</b>")
        for view, images, confidences in (
            (self.samplesView, [p.samples for p in (result.ae, result.vae)],
             [p.sample_confidence for p in (result.ae, result.vae)]),
            (self.pathView, [p.path for p in (result.ae, result.vae)], [p.path_confidence for p in (result.ae, result.vae)]),
        ):  # fmt: skip
            captions: list[str] = []
            flags: list[np.ndarray] = []
            for picture, confidence in zip((result.ae, result.vae), confidences):
                bar = self._threshold(picture.comparison.completeness)
                if confidence is None:
                    flags.append(np.zeros(len(images[0]), bool))
                else:
                    flags.append(confidence < bar)
                    captions += [f"{c:.0%}" for c in confidence]
            view.set_images(np.stack(images), row_labels=["AE", "VAE"], captions=captions, flagged=np.stack(flags))
            view.setMinimumHeight(view.sizeHint().height())  # never below THUMBNAIL_SCALE: the tabs give way

    def _show_scores(self) -> None:
        """Scores, histogram and worst decodings; the threshold re-scores without recomputing anything."""
        result = self.result
        if result is None:
            return
        rows: list[np.ndarray] = []
        flags: list[np.ndarray] = []
        captions: list[str] = []
        for col, picture in enumerate((result.ae, result.vae)):
            comparison = picture.comparison
            complete = comparison.completeness
            threshold = self._threshold(complete)
            shares = complete.shares(threshold)
            values = [
                f"{comparison.continuity.score:.3f}",
                *(["—"] * 3 if shares is None else [f"{share:.0%}" if np.isfinite(share) else "—" for share in shares]),
                f"{complete.nearest_distance.mean():.2f}",
            ]
            for row, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.scoresTable.setItem(row, col, item)
            worst = complete.worst_first[:WORST_SHOWN]
            rows.append(complete.images[worst])
            if complete.confidence is None:
                flags.append(np.zeros(len(worst), bool))
                captions += [f"d {complete.nearest_distance[i]:.1f}" for i in worst]
            else:
                flags.append(complete.confidence[worst] < threshold)
                captions += [f"{complete.confidence[i]:.0%}" for i in worst]
        self.noteLabel.setText(self._note(result.ae.comparison.completeness, result.vae.comparison.completeness))
        self.worstView.set_images(np.stack(rows), row_labels=["AE", "VAE"], captions=captions, flagged=np.stack(flags))
        self._show_pictures()
        self._show_histogram()

    def _fixed_threshold(self) -> float | None:
        """The threshold set, or None at "per model"."""
        value = self.thresholdSpin.value()
        return None if value <= PER_MODEL else value

    def _threshold(self, completeness: Completeness) -> float:
        """The bar a model's decodings are judged at now: its calibrated one at "per model"."""
        fixed = self._fixed_threshold()
        if fixed is None and completeness.calibrated_threshold is not None:
            return completeness.calibrated_threshold
        return completeness.threshold if fixed is None else fixed

    def _note(self, ae: Completeness, vae: Completeness) -> str:
        """How decodings were judged, with the threshold now set (the core's note states the one used)."""
        if vae.confidence is None:
            return vae.note
        accuracy = vae.classifier_accuracy
        quoted = f" (test accuracy {accuracy:.1%})" if accuracy is not None and np.isfinite(accuracy) else ""
        text = f"A decoding counts as real when a classifier trained on the real images{quoted} gives one class "
        if self._fixed_threshold() is not None:
            return text + f"a probability of at least {self._threshold(vae):.0%}."
        return text + (
            f"a probability of at least AE {self._threshold(ae):.0%}, VAE {self._threshold(vae):.0%}: the level 95% "
            "of each model's reconstructions of real test images reach (at least 50%)."
        )

    def _show_histogram(self) -> None:
        result = self.result
        assert result is not None
        ae, vae = result.ae.comparison.continuity.per_point, result.vae.comparison.continuity.per_point
        edges = np.histogram_bin_edges(np.concatenate([ae, vae]), bins=HISTOGRAM_BINS)
        for values, curve in ((ae, self.aeHistogram), (vae, self.vaeHistogram)):
            counts, _ = np.histogram(values, bins=edges)
            curve.setData(edges, counts)
