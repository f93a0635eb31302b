"""AE versus VAE: continuity and completeness of two latent spaces that differ only in the KL term.

One click trains a plain autoencoder and a VAE with the same architecture, latent size, data and
seed (core.comparison.train_pair; matching models already in the session are reused), scores
both (core.comparison.compare_model) and shows, side by side, their latent maps with the decoded
manifold behind the points on the same axes, the scores with the spread of per-point continuity,
and the decodings that look least like real data. Everything runs in this panel's Task,
with progress in the status bar and a Stop button.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.batch_progress import ProgressCallback, Stopped
from ...core.comparison import (
    DEFAULT_THRESHOLD,
    Completeness,
    ModelComparison,
    compare_model,
    default_plane,
    reference_data,
    train_pair,
)
from ...core.config import MAX_LATENT_DIM, ModelConfig, TrainConfig
from ...core.errors import VaeStudioError
from ...core.latent import encode, manifold, tile
from ...core.realism import realism_classifier
from ...core.recipe import model_config_for, training_data
from ...core.throttle import REPORT_INTERVAL_S
from ...core.trained_model import TrainedModel
from ..widgets.colours import UNLABELLED, class_colours
from ..widgets.image_grid import ImageGridView
from ..widgets.images import to_uint8_hwc
from ..work.tasks import Task, TaskState
from .base import Panel

# Sizes of the work: about a minute on a 2-core laptop (the realism classifier, trained once per data
# set, adds about half a minute the first time). Fewer epochs leave the two continuity scores tied
# (measured: 0.131 and 0.131 after 5 epochs on 10k images; AE 0.231, VAE 0.201 after 10 on 20k).
DEFAULT_EPOCHS = 10
DEFAULT_SUBSET = 20_000
MAP_POINTS = 2000  # test images drawn on each small map
MANIFOLD_TILES = 16  # decodings per side behind each map
COMPARE_POINTS = 500  # test images whose neighbourhoods measure continuity
PRIOR_SAMPLES = 200
GRID_SIZE = 10
WORST_SHOWN = 10  # decodings per model in the worst-first strip
HISTOGRAM_BINS = 30
POINT_ALPHA = 200
AXIS_WIDTH = 44  # pixels for the maps' y tick labels
SCORES_WIDTH = 280
EXPLANATION_WIDTH = 150
AE_COLOUR = (230, 159, 0)  # Okabe & Ito orange and blue: distinct for colour-blind eyes
VAE_COLOUR = (0, 114, 178)

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
<p><b>What to expect.</b> An AE is only asked to reconstruct; the VAE's KL term pulls every code
towards N(0, I), and decoding noisy codes teaches its decoder that nearby points mean similar
pictures. With 8 or more latent dimensions the AE's codes drift away from the origin, so its prior
samples decode to smudges while the VAE's are recognisable. With 2 dimensions the AE has no room
for gaps and its codes usually still cover the origin, so the two score close; the VAE's lead in
continuity grows as they train longer. On the grid the AE can even score higher: the VAE packs the
classes closer together, so more of its grid falls on gradual morphs from one class into another
(a 4 turning into a 9), which the classifier does not recognise as any one class. That is the other
side of its smoothness.</p>
"""
# The threshold spin's lowest value, shown as "per model": each model's calibrated bar.
PER_MODEL = 0.45


@dataclass(frozen=True)
class ModelPicture:
    """One model of the pair as the panel draws it (plain arrays, built in the worker)."""

    trained: TrainedModel
    new: bool  # trained now (added to the session) rather than reused
    comparison: ModelComparison
    xy: np.ndarray  # plane coordinates (N, 2) of MAP_POINTS test images
    labels: np.ndarray | None
    manifold: np.ndarray  # uint8 mosaic (H, W, C) over the shared square, row 0 at the top
    plane_labels: tuple[str, str]


@dataclass(frozen=True)
class PairResult:
    ae: ModelPicture
    vae: ModelPicture
    square: tuple[float, float, float]  # (x0, y0, side) of the shared axes, the manifold's extent


def _shared_square(points: list[np.ndarray], margin: float = 0.05) -> tuple[float, float, float]:
    """The smallest square holding both maps' points plus a margin: same axes for both, square tiles."""
    xy = np.concatenate(points)
    low, high = xy.min(axis=0), xy.max(axis=0)
    side = float(max(high - low)) * (1 + 2 * margin) or 1.0
    centre = (low + high) / 2
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def rescored(completeness: Completeness, threshold: float) -> tuple[float, float, float] | None:
    """(score, prior share, grid share) of a completeness result judged with another threshold; the
    confidences are kept, so moving the threshold needs no new decoding. None without a classifier."""
    if completeness.confidence is None:
        return None
    real = completeness.confidence >= threshold
    prior = completeness.from_prior
    prior_share = float(real[prior].mean()) if prior.any() else float("nan")
    grid_share = float(real[~prior].mean()) if (~prior).any() else float("nan")
    return float(np.nanmean([prior_share, grid_share])), prior_share, grid_share


class CompareJob:
    """The worker's task: train (or reuse) the pair, score both, and draw what the panel shows."""

    def __init__(
        self,
        train_config: TrainConfig,
        model_config: ModelConfig,
        existing: list[TrainedModel],
        threshold: float | None,  # None: each model's calibrated bar
    ) -> None:
        self.train_config = train_config
        self.model_config = model_config
        # Reused models are only read here (encode/decode); the GUI never changes their weights in
        # place, since training always makes a new model and comparing is off while one trains.
        self.existing = existing
        self.threshold = threshold

    def __call__(self, context: TaskState) -> PairResult | None:
        try:
            return self._run(context)
        except Stopped:  # the Stop button: no result, and nothing is added to the session
            return None

    def _stage(self, context: TaskState, text: str) -> ProgressCallback:
        """A progress callback for one stage that reports at most every REPORT_INTERVAL_S."""
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= REPORT_INTERVAL_S or done >= total:
                last[0] = now
                context.report((text, done / max(total, 1)))

        context.report((text, 0.0))
        return progress

    def _run(self, context: TaskState) -> PairResult:
        def should_stop() -> bool:
            return context.control.stopped

        config = self.train_config
        data = training_data(config)
        reference = reference_data(config)
        ae, vae = train_pair(
            data, config, self.model_config, existing=self.existing,
            progress=self._stage(context, "training the AE and the VAE"), should_stop=should_stop,
        )  # fmt: skip
        classifier = None
        if reference.labelled:
            classifier = realism_classifier(
                reference, progress=self._stage(context, "training the realism classifier (once per data set)"),
                should_stop=should_stop,
            )  # fmt: skip
        test = torch.from_numpy(np.sort(np.random.default_rng(0).permutation(len(data.test_images))[:MAP_POINTS]))
        images = data.test_images[test]
        labels = None if data.test_labels is None or not data.labelled else data.test_labels[test].numpy()
        scored = []
        for trained in (ae, vae):
            kind = trained.config.kind.upper()
            comparison = compare_model(
                trained, reference, classifier=classifier, points=COMPARE_POINTS, prior_samples=PRIOR_SAMPLES,
                grid_size=GRID_SIZE, threshold=self.threshold, progress=self._stage(context, f"scoring the {kind}"),
                should_stop=should_stop,
            )  # fmt: skip
            mu = encode(trained.model, images).mu
            plane = default_plane(mu)
            scored.append((trained, comparison, plane, plane.to_plane(mu)))
        x0, y0, side = _shared_square([xy for *_, xy in scored])
        step = side / MANIFOLD_TILES
        # Tile centres inset by half a tile, so the tiles exactly cover the square.
        x_range = (x0 + step / 2, x0 + side - step / 2)
        y_range = (y0 + step / 2, y0 + side - step / 2)
        pictures = []
        for trained, comparison, plane, xy in scored:
            context.report((f"decoding the {trained.config.kind.upper()}'s manifold", 1.0))
            mosaic = to_uint8_hwc(tile(manifold(trained.model, plane, x_range, y_range, MANIFOLD_TILES)))
            new = all(trained is not m for m in self.existing)
            pictures.append(ModelPicture(trained, new, comparison, xy, labels, mosaic, (plane.x_label, plane.y_label)))
            if should_stop():
                raise Stopped()
        return PairResult(pictures[0], pictures[1], (x0, y0, side))


class ComparisonPanel(Panel):
    """Train an AE and a VAE alike and compare the continuity and completeness of their latent spaces."""

    name = "comparison"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.result: PairResult | None = None
        self.task = Task(self)
        self.task.partial.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

        settings = QVBoxLayout()
        settings.addWidget(self._build_settings())
        settings.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(settings)
        layout.addWidget(self._build_results(), 1)

        self.subscribe(self._update_controls, Event.TRAINING, Event.DATASET)
        self._update_controls()

    # -- construction -------------------------------------------------------------------
    def _build_settings(self) -> QWidget:
        self.epochsSpin = QSpinBox(objectName="comparisonEpochsSpin")
        self.epochsSpin.setRange(1, 200)
        self.epochsSpin.setValue(DEFAULT_EPOCHS)
        self.epochsSpin.setToolTip("Training passes for each model; a few are enough to see the difference")
        self.subsetSpin = QSpinBox(objectName="comparisonSubsetSpin")
        self.subsetSpin.setRange(0, 10_000_000)
        self.subsetSpin.setSingleStep(1000)
        self.subsetSpin.setSpecialValueText("all")
        self.subsetSpin.setGroupSeparatorShown(True)
        self.subsetSpin.setValue(DEFAULT_SUBSET)
        self.subsetSpin.setToolTip("Train both models on the same random subset of this many training images")
        self.latentDimSpin = QSpinBox(objectName="comparisonLatentDimSpin")
        self.latentDimSpin.setRange(1, MAX_LATENT_DIM)
        self.latentDimSpin.setValue(2)
        self.latentDimSpin.setToolTip("2 dimensions show the whole latent space on the maps; more are shown by PCA")
        self.archCombo = QComboBox(objectName="comparisonArchCombo")
        self.archCombo.addItem("MLP", "mlp")
        self.archCombo.addItem("Conv", "conv")
        self.archCombo.setToolTip("The architecture both models share")
        self.seedSpin = QSpinBox(objectName="comparisonSeedSpin")
        self.seedSpin.setRange(0, 2**31 - 1)
        self.seedSpin.setValue(1)
        self.seedSpin.setToolTip("Both models start from this seed: the same initial weights and batch order")
        self.thresholdSpin = QDoubleSpinBox(objectName="thresholdSpin")
        self.thresholdSpin.setRange(PER_MODEL, 0.999)
        self.thresholdSpin.setDecimals(2)
        self.thresholdSpin.setSingleStep(0.05)
        self.thresholdSpin.setSpecialValueText("per model")
        self.thresholdSpin.setValue(PER_MODEL)
        self.thresholdSpin.setToolTip(
            "A decoding counts as real when the classifier gives one class at least this probability; "
            "per model: the level 95% of that model's reconstructions of real test images reach "
            f"(at least 50%). {DEFAULT_THRESHOLD:.0%} also asks for sharp pictures"
        )
        self.thresholdSpin.valueChanged.connect(self._show_scores)

        style = self.style()
        self.compareButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train and compare", objectName="compareButton"
        )
        self.compareButton.clicked.connect(self.start)
        self.stopButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="comparisonStopButton")
        self.stopButton.clicked.connect(self.stop)
        self.statusLabel = QLabel(objectName="comparisonStatusLabel")
        # Clipped rather than wrapped or widening the box: the whole text is in its tooltip.
        self.statusLabel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # Two columns of settings: the panel usually sits in the low dock under the map.
        box = QGroupBox("AE and VAE alike")
        grid = QGridLayout(box)
        grid.setVerticalSpacing(4)
        for i, (label, widget) in enumerate(
            (
                ("Epochs", self.epochsSpin), ("Train on", self.subsetSpin), ("Latent", self.latentDimSpin),
                ("Model", self.archCombo), ("Seed", self.seedSpin), ("Threshold", self.thresholdSpin),
            )
        ):  # fmt: skip
            row, col = divmod(i, 2)
            caption = QLabel(label)
            caption.setToolTip(widget.toolTip())
            grid.addWidget(caption, row, 2 * col)
            grid.addWidget(widget, row, 2 * col + 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compareButton)
        buttons.addWidget(self.stopButton)
        grid.addLayout(buttons, 3, 0, 1, 4)
        grid.addWidget(self.statusLabel, 4, 0, 1, 4)
        box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        return box

    def _map_plot(self, name: str, title: str) -> tuple[pg.PlotWidget, pg.ImageItem, pg.ScatterPlotItem]:
        plot = pg.PlotWidget(objectName=name)
        plot.setTitle(title)
        plot.setAspectLocked(True)
        plot.setMouseEnabled(x=False, y=False)  # both maps keep the shared axes
        plot.hideButtons()
        plot.setMinimumSize(130, 130)
        # Equal axis widths give both plots the same drawing area, so the locked aspect widens both alike.
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        image = pg.ImageItem(axisOrder="row-major")
        image.setOpacity(0.85)
        plot.addItem(image)
        scatter = pg.ScatterPlotItem(pxMode=True, pen=None, size=3)
        plot.addItem(scatter)
        return plot, image, scatter

    def _build_results(self) -> QWidget:
        self.aeMap, self._ae_manifold, self._ae_points = self._map_plot("aeMap", "AE")
        self.vaeMap, self._vae_manifold, self._vae_points = self._map_plot("vaeMap", "VAE")
        maps = QWidget()
        maps_layout = QHBoxLayout(maps)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addWidget(self.aeMap)
        maps_layout.addWidget(self.vaeMap)

        self.scoresTable = QTableWidget(5, 2, objectName="scoresTable")
        self.scoresTable.setHorizontalHeaderLabels(["AE", "VAE"])
        self.scoresTable.setVerticalHeaderLabels(
            ["Continuity ↓", "Completeness ↑", "  prior samples", "  grid points", "Nearest real image ↓"]
        )
        self.scoresTable.verticalHeaderItem(0).setToolTip(
            "RMS pixel change per unit step (in units of the codes' spread); lower is smoother"
        )
        self.scoresTable.verticalHeaderItem(4).setToolTip("Mean pixel distance of a decoding to its nearest training image")
        self.scoresTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scoresTable.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.scoresTable.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows = self.scoresTable.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.scoresTable.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scoresTable.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scoresTable.setFixedHeight(
            self.scoresTable.horizontalHeader().sizeHint().height() + 5 * rows.defaultSectionSize()
            + 2 * self.scoresTable.frameWidth()
        )  # fmt: skip
        self.noteLabel = QLabel(objectName="noteLabel")
        self.noteLabel.setWordWrap(True)
        self.noteLabel.setStyleSheet("color: gray;")
        self.histogramPlot = pg.PlotWidget(objectName="histogramPlot")
        self.histogramPlot.setLabel("bottom", "continuity per test point")
        self.histogramPlot.setLabel("left", "points")
        self.histogramPlot.setMouseEnabled(x=False, y=False)
        self.histogramPlot.hideButtons()
        self.histogramPlot.getAxis("bottom").enableAutoSIPrefix(False)
        self.histogramPlot.addLegend(offset=(-10, 5))
        self.aeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(AE_COLOUR, width=1.5), brush=(*AE_COLOUR, 70), name="AE"
        )
        self.vaeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(VAE_COLOUR, width=1.5), brush=(*VAE_COLOUR, 70), name="VAE"
        )
        self.explanationLabel = QLabel(EXPLANATION, objectName="explanationLabel")
        self.explanationLabel.setTextFormat(Qt.TextFormat.RichText)
        self.explanationLabel.setWordWrap(True)
        self.explanationLabel.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QWidget()
        text_layout = QVBoxLayout(text)
        text_layout.setContentsMargins(4, 0, 4, 0)
        text_layout.addWidget(self.noteLabel)
        text_layout.addWidget(self.explanationLabel)
        text_layout.addStretch(1)
        # Wrapped text in its own scroll area: outside one it would make the dock size the whole panel
        # by its preferred height, and the panel usually sits in a low dock.
        explanation = QScrollArea()
        explanation.setWidget(text)
        explanation.setWidgetResizable(True)
        explanation.setFrameShape(QFrame.Shape.NoFrame)
        explanation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        explanation.setMinimumWidth(EXPLANATION_WIDTH)
        scores = QWidget()
        scores_layout = QHBoxLayout(scores)
        scores_layout.setContentsMargins(2, 2, 2, 2)
        scores_layout.addWidget(self.scoresTable, 0, Qt.AlignmentFlag.AlignTop)
        scores_layout.addWidget(explanation, 1)  # the explanation beside the figures it explains
        self.scoresTable.setFixedWidth(SCORES_WIDTH)

        self.worstView = ImageGridView("The least real-looking decodings of each model appear here.")
        self.worstView.setObjectName("worstView")
        self.worstView.setToolTip("Decodings of prior samples and grid points, the classifier's least trusted first")

        # Scores, the spread of continuity and the worst samples take turns: the dock is usually low.
        self.resultTabs = QTabWidget(objectName="resultTabs")
        self.resultTabs.setDocumentMode(True)
        self.resultTabs.addTab(scores, "Scores")
        self.resultTabs.addTab(self.histogramPlot, "Continuity per point")
        self.resultTabs.addTab(self.worstView, "Least real")

        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="comparisonSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(maps)
        splitter.addWidget(self.resultTabs)
        # Start at 2 : 3 (the plots' own size hints would take most of the width); Qt scales these to fit.
        splitter.setSizes([2000, 3000])
        return splitter

    # -- public ------------------------------------------------------------------------
    def shutdown(self) -> None:
        busy = self.task.busy
        super().shutdown()
        if busy:
            self.state.set_progress(None)

    def start(self) -> None:
        """Train (or reuse) the pair and score both on the worker thread."""
        dataset = self.state.dataset
        if self.task.busy or dataset is None or self.state.training:
            return
        try:
            train_config = TrainConfig(
                dataset=dataset.name,
                epochs=self.epochsSpin.value(),
                seed=self.seedSpin.value(),
                train_subset=self.subsetSpin.value() or None,
            )
            model_config = model_config_for(
                dataset, kind="vae", arch=str(self.archCombo.currentData()), latent_dim=self.latentDimSpin.value()
            )
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Cannot compare", str(exc))
            return
        job = CompareJob(train_config, model_config, list(self.state.models), self._fixed_threshold())
        self.task.start(job)
        self._status("Starting…")
        self.state.set_progress(0.0, "Comparison: starting…")
        self._update_controls()

    def stop(self) -> None:
        if self.task.busy:
            self.task.stop()
            self._status("Stopping…")
            self.stopButton.setEnabled(False)

    # -- the task ----------------------------------------------------------------------
    def _on_progress(self, message: tuple[str, float]) -> None:
        text, fraction = message
        self._status(f"{text[0].upper()}{text[1:]}…")
        self.state.set_progress(fraction, f"Comparison: {text}")

    def _on_finished(self, result: PairResult | None) -> None:
        self.state.set_progress(None)
        self._update_controls()
        if result is None:
            self._status("Stopped.")
            return
        for picture in (result.ae, result.vae):
            if picture.new:
                trained = picture.trained
                config, run = trained.config, trained.train_config
                trained.name = f"{config.kind.upper()} z={config.latent_dim} {run.dataset} · {run.epochs} ep (comparison)"
                trained.model.eval()
                self.state.add_model(trained, make_current=False)
        reused = [p.trained.name for p in (result.ae, result.vae) if not p.new]
        self._status("Done." + (f" Reused {' and '.join(reused)}." if reused else ""))
        self.result = result
        self._show_maps()
        self._show_scores()

    def _on_failed(self, message: str) -> None:
        self.state.set_progress(None)
        self._update_controls()
        self._status("Failed.")
        QMessageBox.warning(self, "Comparison failed", message)

    def _status(self, text: str) -> None:
        self.statusLabel.setText(text)
        self.statusLabel.setToolTip(text)

    def _update_controls(self) -> None:
        busy = self.task.busy
        ready = self.state.dataset is not None and not self.state.training
        self.compareButton.setEnabled(not busy and ready)
        self.compareButton.setToolTip(
            "Train an AE and a VAE with these settings on the current data set and compare them"
            if ready
            else "Wait for the training run (or the data set) to finish first"
        )
        self.stopButton.setEnabled(busy)
        for widget in (self.epochsSpin, self.subsetSpin, self.latentDimSpin, self.archCombo, self.seedSpin):
            widget.setEnabled(not busy)

    # -- results -----------------------------------------------------------------------
    def _show_maps(self) -> None:
        result = self.result
        assert result is not None
        x0, y0, side = result.square
        for picture, plot, image, scatter in (
            (result.ae, self.aeMap, self._ae_manifold, self._ae_points),
            (result.vae, self.vaeMap, self._vae_manifold, self._vae_points),
        ):
            # Row 0 of the mosaic is the top of the plane; the y-up view draws image row 0 at the bottom.
            pixels = picture.manifold[::-1, :, 0] if picture.manifold.shape[2] == 1 else picture.manifold[::-1]
            image.setImage(np.ascontiguousarray(pixels), levels=(0, 255), autoLevels=False)
            image.setRect(QRectF(x0, y0, side, side))
            scatter.setData(x=picture.xy[:, 0], y=picture.xy[:, 1], brush=self._brushes(picture.labels), pen=None)
            plot.setRange(xRange=(x0, x0 + side), yRange=(y0, y0 + side), padding=0)
            plot.setLabel("bottom", picture.plane_labels[0])
            plot.setLabel("left", picture.plane_labels[1])
            # A long title would widen one plot's minimum size, and with it that plot's range.
            plot.setToolTip(picture.trained.name)

    def _brushes(self, labels: np.ndarray | None) -> object:
        dataset = self.state.dataset
        if labels is None or dataset is None or not dataset.num_classes:
            return pg.mkBrush(UNLABELLED)
        colours = class_colours(dataset.num_classes)
        lookup = np.empty(len(colours), dtype=object)
        lookup[:] = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
        return lookup[np.clip(labels, 0, len(colours) - 1)]

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
            shares = rescored(complete, threshold)
            values = [
                f"{comparison.continuity.score:.3f}",
                *(["—"] * 3 if shares is None else [f"{share:.0%}" for share in shares]),
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
        self.worstView.set_images(
            np.stack(rows), row_labels=["AE", "VAE"], captions=captions, flagged=np.stack(flags)
        )
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
