"""Anomaly detection: does the model reconstruct images unlike its training data worse?

The current model scores the normal test images and the outliers (held-out classes of its data set,
or another data set) by reconstruction error or negative ELBO, in a worker that can be stopped
(core.anomaly.anomaly_data + detect_anomalies). The panel then shows both score histograms over
shared bins, the ROC curve with its AUC, and a threshold: moving it only recounts the stored scores
(core.anomaly.precision_recall_at), so precision and recall follow the slider live. The gallery
shows the highest-scoring test images, their reconstructions and where they differ. Model changes
(every training refresh) are followed once per event-loop turn, and only while the panel is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...core.anomaly import (
    SCORE_DESCRIPTIONS,
    AnomalyData,
    AnomalyExamples,
    AnomalyResult,
    PrecisionRecall,
    RocCurve,
    anomaly_data,
    detect_anomalies,
    most_anomalous,
    threshold_at_false_positive_rate,
)
from ...core.app_state import AppState, Event
from ...core.batch_progress import ProgressCallback, StopCheck
from ...core.data import DATASET_CHOICES
from ...core.evaluation import BINARIZATION_LABELS
from ...core.models import AE
from ...core.trained_model import TrainedModel
from ..batch_task import BatchTask
from ..deferred_refresh import DeferredRefresh
from ..image_grid import ImageGridView
from ..latest_task import detached
from ..notices import NOTICE_STYLE

SCORE_ITEMS = (("recon", "Reconstruction error"), ("elbo", "Negative ELBO"))
DEFAULT_FALSE_POSITIVE_RATE = 0.05  # the threshold starts where it flags 5% of normal images (as the CLI reports)
SLIDER_STEPS = 1000
# Panel widths (pixels) from which the gallery sits beside the plots, and the two plots beside each other.
WIDE_LAYOUT_WIDTH = 760
SIDE_BY_SIDE_PLOTS_WIDTH = 560
HISTOGRAM_BINS = 60
DEFAULT_GALLERY = 8
MAX_GALLERY = 32
# Okabe & Ito's colour-blind-safe blue and vermillion, as in the loss curves.
NORMAL_COLOR = (0, 114, 178)
OUTLIER_COLOR = (213, 94, 0)
FILL_ALPHA = 90
ERROR_COLORMAP = "inferno"  # perceptually uniform and dark at zero, so an error-free pixel reads as black


def class_list_text(classes: list[int]) -> str:
    """Class numbers as the compact list the core parses: [0, 1, 2, 5] -> ``0-2,5``."""
    parts: list[str] = []
    values = sorted(set(classes))
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            first, last = values[start], values[i - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = i
    return ",".join(parts)


def error_heatmap(error_maps: np.ndarray, vmax: float) -> np.ndarray:
    """Per-pixel errors (k, H, W) -> RGB images (k, 3, H, W) in [0, 1] on one colour scale from 0 to ``vmax``."""
    scaled = np.clip(np.asarray(error_maps, dtype=np.float64) / max(vmax, 1e-12), 0.0, 1.0)
    rgba = pg.colormap.get(ERROR_COLORMAP).map(scaled.ravel(), mode="float")
    return rgba[:, :3].reshape(*scaled.shape, 3).transpose(0, 3, 1, 2).astype(np.float32)


@dataclass(frozen=True)
class AnomalyOutcome:
    """A finished experiment: the data, the scores, and what the gallery needs to redo its top k."""

    data: AnomalyData
    result: AnomalyResult
    images: torch.Tensor  # normal then outlier images, in the order of result.scores
    examples: AnomalyExamples
    model: AE  # the private copy that scored them (the gallery reconstructs with it)
    model_name: str
    binarize: str


class AnomalyPanel(QWidget):
    """Choose outliers and a score, run, then read the histograms, ROC, threshold and gallery."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.outcome: AnomalyOutcome | None = None
        self.threshold = 0.0
        self._scored: TrainedModel | None = None  # the model the shown results belong to
        self._running_for: TrainedModel | None = None  # the model being scored now
        self._defaults_for: TrainedModel | None = None  # the model the outlier choice was defaulted for
        self._roc: RocCurve | None = None

        self.task = BatchTask(state, self)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.task.stopped.connect(self._on_stopped)
        self.task.progressed.connect(lambda _fraction, text: self._set_status(text))
        self.task.busy_changed.connect(self._update_controls)

        self._build_controls()
        self._build_plots()
        self._build_gallery()
        self._build_layout()
        self._updates = DeferredRefresh(self, self._on_model)
        self._subscriptions = [(Event.CURRENT_MODEL, self._updates.request)]
        for event, listener in self._subscriptions:
            state.subscribe(event, listener)
        self._on_model()

    # -- construction --------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.outlierKindCombo = QComboBox(objectName="outlierKindCombo")
        self.outlierKindCombo.addItem("Held-out classes", "classes")
        self.outlierKindCombo.addItem("Another data set", "dataset")
        self.outlierKindCombo.setToolTip(
            "The outliers: test images of classes of the model's own data set (ideally ones it was not trained "
            "on), or the test split of another data set."
        )
        self.classEdit = QLineEdit(objectName="classEdit")
        self.classEdit.setPlaceholderText("e.g. 9 or 0,3-5")
        self.classEdit.setToolTip("Class numbers of the outliers; the model's other training classes are the normal images.")
        self.datasetCombo = QComboBox(objectName="outlierDatasetCombo")
        self.datasetCombo.setEditable(True)  # any spec load_dataset reads: folder:PATH, idx:PATH
        self.datasetCombo.addItems(DATASET_CHOICES)
        self.datasetCombo.setToolTip(
            "The data set whose test split are the outliers (converted to the model's image size); "
            "type folder:PATH or idx:PATH for your own."
        )
        self._outlier_stack = QStackedWidget()
        self._outlier_stack.addWidget(self.classEdit)
        self._outlier_stack.addWidget(self.datasetCombo)
        self.scoreCombo = QComboBox(objectName="scoreCombo")
        for score, label in SCORE_ITEMS:
            self.scoreCombo.addItem(label, score)
            self.scoreCombo.setItemData(self.scoreCombo.count() - 1, SCORE_DESCRIPTIONS[score], Qt.ItemDataRole.ToolTipRole)
        self.scoreCombo.setToolTip(
            "Reconstruction error: −log p(x|z) at the posterior mean. Negative ELBO: adds the KL term, so an "
            "image whose code lies far from the prior also scores high (VAEs only)."
        )
        style = self.style()
        self.runButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Run", objectName="runButton")
        self.runButton.setToolTip("Score the normal test images and the outliers with the current model")
        self.stopButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="stopButton")
        self.statusLabel = QLabel(objectName="statusLabel")
        self.statusLabel.setStyleSheet("color: gray;")
        self.statusLabel.hide()
        self.warningLabel = QLabel(objectName="warningLabel")
        self.warningLabel.setWordWrap(True)
        self.warningLabel.setStyleSheet(NOTICE_STYLE)
        self.warningLabel.hide()
        self.summaryLabel = QLabel(objectName="summaryLabel")
        self.summaryLabel.setWordWrap(True)
        self.summaryLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.aucLabel = QLabel(objectName="aucLabel")
        font = self.aucLabel.font()
        font.setBold(True)
        self.aucLabel.setFont(font)

        self.outlierKindCombo.currentIndexChanged.connect(self._outlier_stack.setCurrentIndex)
        self.runButton.clicked.connect(self.run)
        self.stopButton.clicked.connect(self.stop)

    def _styled_plot(self, left: str, bottom: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        item = plot.getPlotItem()
        item.setLabel("left", left)
        item.setLabel("bottom", bottom)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(90, 90, 90))
            axis.setTextPen(pg.mkPen(40, 40, 40))
            axis.enableAutoSIPrefix(False)  # "fraction (x0.001)" would hide what the numbers are
        plot.setMinimumSize(160, 100)
        return plot

    def _build_plots(self) -> None:
        self.histogramPlot = self._styled_plot("share of its group", "score (nats)")
        self.histogramPlot.setObjectName("histogramPlot")
        self.histogramPlot.setToolTip(
            "Scores of the normal images and of the outliers, each as a fraction of its group, over the same "
            "bins. Drag the dashed line to move the threshold."
        )
        legend = self.histogramPlot.getPlotItem().addLegend(offset=(-8, 8), labelTextColor=(40, 40, 40))
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self._normal_hist = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(NORMAL_COLOR, width=1.5),
            fillBrush=pg.mkBrush(*NORMAL_COLOR, FILL_ALPHA), name="normal",
        )
        self._outlier_hist = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(OUTLIER_COLOR, width=1.5),
            fillBrush=pg.mkBrush(*OUTLIER_COLOR, FILL_ALPHA), name="outliers",
        )
        self.thresholdLine = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen(30, 30, 30, width=1.5, style=Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen(0, 0, 0, width=2.5),
        )
        self.thresholdLine.setZValue(10)
        self.thresholdLine.hide()
        self.thresholdLine.sigPositionChanged.connect(self._on_line_moved)
        self.histogramPlot.addItem(self.thresholdLine, ignoreBounds=True)

        self.rocPlot = self._styled_plot("true positive rate (recall)", "false positive rate")
        self.rocPlot.setObjectName("rocPlot")
        self.rocPlot.setToolTip("ROC curve: every threshold's share of outliers flagged against normal images flagged.")
        # Rates live in [0, 1]: a fixed square range, no zooming away from it.
        self.rocPlot.setXRange(0, 1, padding=0.02)
        self.rocPlot.setYRange(0, 1, padding=0.02)
        self.rocPlot.getPlotItem().getViewBox().setMouseEnabled(False, False)
        ticks = [[(v, f"{v:g}") for v in np.linspace(0.0, 1.0, 6)]]
        for name in ("left", "bottom"):
            self.rocPlot.getPlotItem().getAxis(name).setTicks(ticks)
        self.rocPlot.plot([0, 1], [0, 1], pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine))
        self._roc_curve = self.rocPlot.plot(pen=pg.mkPen(OUTLIER_COLOR, width=2))
        self._operating_point = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(30, 30, 30))
        self.rocPlot.addItem(self._operating_point)
        # Inside the plot, under the diagonal where a useful curve never is: a title would cost a row.
        self._roc_auc_text = pg.TextItem(color=(40, 40, 40), anchor=(1, 1))
        self._roc_auc_text.setPos(0.98, 0.03)
        self.rocPlot.addItem(self._roc_auc_text)

        self.thresholdSlider = QSlider(Qt.Orientation.Horizontal, objectName="thresholdSlider")
        self.thresholdSlider.setRange(0, SLIDER_STEPS)
        self.thresholdSlider.setToolTip("Images scoring at or above the threshold are flagged as outliers.")
        self.thresholdSlider.valueChanged.connect(self._on_slider)
        self.thresholdLabel = QLabel(objectName="thresholdLabel")
        self.precisionLabel = QLabel(objectName="precisionLabel")
        self.precisionLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_gallery(self) -> None:
        self.gallerySpin = QSpinBox(objectName="gallerySpin")
        self.gallerySpin.setRange(1, MAX_GALLERY)
        self.gallerySpin.setValue(DEFAULT_GALLERY)
        self.gallerySpin.setToolTip("How many of the highest-scoring test images to show")
        self.gallerySpin.valueChanged.connect(self._refresh_gallery)
        self.galleryView = ImageGridView("The highest-scoring images appear here after a run.")
        self.galleryView.setObjectName("galleryView")
        self.galleryView.setMinimumSize(120, 105)  # three rows of 28-pixel images and the column labels
        self.galleryCaption = QLabel(objectName="galleryCaption")
        self.galleryCaption.setStyleSheet("color: gray;")

    def _build_layout(self) -> None:
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Outliers"))
        choose.addWidget(self.outlierKindCombo)
        choose.addWidget(self._outlier_stack, 1)
        choose.addWidget(QLabel("Score"))
        choose.addWidget(self.scoreCombo)
        choose.addWidget(self.runButton)
        choose.addWidget(self.stopButton)

        summary = QHBoxLayout()
        summary.addWidget(self.aucLabel)
        summary.addWidget(self.summaryLabel, 1)

        self._plots = QSplitter(Qt.Orientation.Horizontal)
        self._plots.addWidget(self.histogramPlot)
        self._plots.addWidget(self.rocPlot)
        self._plots.setStretchFactor(0, 3)
        self._plots.setStretchFactor(1, 2)
        self._plots.setChildrenCollapsible(False)
        threshold = QHBoxLayout()
        threshold.addWidget(QLabel("Threshold"))
        threshold.addWidget(self.thresholdSlider, 1)
        threshold.addWidget(self.thresholdLabel)
        gallery_header = QHBoxLayout()
        gallery_header.addWidget(QLabel("Most anomalous"))
        gallery_header.addWidget(self.gallerySpin)
        gallery_header.addWidget(self.galleryCaption, 1)
        gallery = QWidget()
        gallery_layout = QVBoxLayout(gallery)
        gallery_layout.setContentsMargins(0, 0, 0, 0)
        gallery_layout.addLayout(gallery_header)
        gallery_layout.addWidget(self.galleryView, 1)

        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.addWidget(self._plots)
        self._splitter.addWidget(gallery)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 2)
        self._splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(choose)
        layout.addWidget(self.statusLabel)
        layout.addWidget(self.warningLabel)
        layout.addLayout(summary)
        layout.addWidget(self._splitter, 1)
        layout.addLayout(threshold)
        layout.addWidget(self.precisionLabel)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """None: the panel takes the height its dock has, and its plots and gallery scale to it. The layout's
        height-for-width (it has word-wrapped labels) adds up preferred sizes, and the dock's scroll area
        would make the panel that tall, pushing the threshold and the gallery out of view."""
        return -1

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Plots and gallery side by side in a wide dock (under the map), stacked in a tall one (beside it)."""
        super().resizeEvent(event)
        width = event.size().width()
        for splitter, wide_from in ((self._splitter, WIDE_LAYOUT_WIDTH), (self._plots, SIDE_BY_SIDE_PLOTS_WIDTH)):
            orientation = Qt.Orientation.Horizontal if width >= wide_from else Qt.Orientation.Vertical
            if splitter.orientation() != orientation:
                splitter.setOrientation(orientation)
                # Fresh proportions: sizes kept from the other orientation would squeeze the gallery.
                total = sum(splitter.sizes()) or 500
                splitter.setSizes([total * 3 // 5, total * 2 // 5])

    # -- public --------------------------------------------------------------------------
    @property
    def outliers_spec(self) -> str:
        """What anomaly_data gets: the class list or the data set spec chosen."""
        if self.outlierKindCombo.currentData() == "classes":
            return self.classEdit.text().strip()
        return self.datasetCombo.currentText().strip()

    def run(self) -> None:
        """Score normal and outlier test images with a private copy of the current model, in the worker."""
        trained = self.state.current
        if trained is None or self.task.busy:
            return
        outliers = self.outliers_spec
        if not outliers:
            QMessageBox.warning(self, "Choose the outliers", "Give the outlier classes (e.g. 9 or 0,3-5) or a data set.")
            return
        model = detached(trained.model)
        config = trained.train_config
        score = str(self.scoreCombo.currentData())
        k = self.gallerySpin.value()
        name = trained.name

        def task(progress: ProgressCallback, should_stop: StopCheck) -> AnomalyOutcome:
            data = anomaly_data(config, outliers)
            result = detect_anomalies(
                model, data.normal, data.outliers, score=score, binarize=config.binarize,
                progress=progress, should_stop=should_stop,
            )
            images = torch.cat([data.normal, data.outliers])
            examples = most_anomalous(model, images, result.scores, k, binarize=config.binarize)
            return AnomalyOutcome(data, result, images, examples, model, name, config.binarize)

        self._running_for = trained
        self.task.start(f"Scoring ({self.scoreCombo.currentText()})", task)

    def _set_status(self, text: str) -> None:
        """Progress and state of the run; the line is hidden when there is nothing to say, to save height."""
        self.statusLabel.setText(text)
        self.statusLabel.setVisible(bool(text))

    def stop(self) -> None:
        self.task.stop()
        self._set_status("Stopping…")

    def shutdown(self) -> None:
        """Stop listening, stop the scoring and join its thread."""
        for event, listener in self._subscriptions:
            self.state.unsubscribe(event, listener)
        self._updates.stop()
        self.task.shutdown()

    def set_threshold(self, threshold: float) -> None:
        """Flag scores >= ``threshold``: recount precision and recall, move the line, slider and ROC point."""
        self.threshold = float(threshold)
        if self.outcome is None:
            return
        low, high = self._score_range()
        with QSignalBlocker(self.thresholdSlider):
            self.thresholdSlider.setValue(round((self.threshold - low) / (high - low) * SLIDER_STEPS))
        with QSignalBlocker(self.thresholdLine):
            self.thresholdLine.setValue(self.threshold)
        self._show_operating_point(self.outcome.result.at_threshold(self.threshold))

    def precision_recall(self) -> PrecisionRecall | None:
        """The counts and rates at the current threshold (None before a run)."""
        return None if self.outcome is None else self.outcome.result.at_threshold(self.threshold)

    # -- state ---------------------------------------------------------------------------
    def _on_model(self) -> None:
        current = self.state.current
        if current is not self._scored and self.outcome is not None:
            self._clear_results()
        elif current is self._scored and self.outcome is not None:
            self._set_status("The model has trained since these scores: run again for its current weights.")
        if current is not None and current is not self._defaults_for:
            self._default_outliers(current)
        self._update_controls()

    def _default_outliers(self, trained: TrainedModel) -> None:
        """Held-out classes when the model trained on some classes only (the others), else another data set."""
        self._defaults_for = trained
        config = trained.train_config
        names = trained.class_names
        if config.classes and len(names) > len(config.classes):
            self.outlierKindCombo.setCurrentIndex(self.outlierKindCombo.findData("classes"))
            self.classEdit.setText(class_list_text([c for c in range(len(names)) if c not in config.classes]))
        else:
            self.outlierKindCombo.setCurrentIndex(self.outlierKindCombo.findData("dataset"))
            other = "fashion-mnist" if config.dataset == "mnist" else "mnist"
            self.datasetCombo.setCurrentText(other)
            if names and not self.classEdit.text():
                self.classEdit.setText(str(len(names) - 1))
        held_out = self.outlierKindCombo.model().item(self.outlierKindCombo.findData("classes"))
        held_out.setEnabled(bool(names))
        held_out.setToolTip("" if names else "The model's data set has no classes.")
        elbo = self.scoreCombo.model().item(self.scoreCombo.findData("elbo"))
        elbo.setEnabled(trained.config.variational)
        if not trained.config.variational:
            self.scoreCombo.setCurrentIndex(self.scoreCombo.findData("recon"))

    def _update_controls(self) -> None:
        busy = self.task.busy
        current = self.state.current
        self.runButton.setEnabled(current is not None and not busy)
        self.stopButton.setEnabled(busy)
        for widget in (self.outlierKindCombo, self.classEdit, self.datasetCombo, self.scoreCombo):
            widget.setEnabled(not busy)
        if current is None and self.outcome is None:
            self.summaryLabel.setText("No model yet: train one or open a checkpoint.")

    # -- results -------------------------------------------------------------------------
    def _on_finished(self, outcome: AnomalyOutcome) -> None:
        trained, self._running_for = self._running_for, None
        if trained is not self.state.current:
            self._set_status(f"“{outcome.model_name}” is no longer shown: its scores were not kept.")
            return
        self._scored = trained
        self.outcome = outcome
        result, data = outcome.result, outcome.data
        self._set_status("")
        self.warningLabel.setText("⚠ " + " ".join(data.notes))
        self.warningLabel.setVisible(data.outliers_in_training)
        auc = result.auc
        self.aucLabel.setText(f"AUC {auc:.4f}")
        self.aucLabel.setToolTip(
            "Area under the ROC curve: the chance that a random outlier scores above a random normal image "
            "(0.5: no better than guessing)."
        )
        seen = BINARIZATION_LABELS[outcome.binarize]
        self.summaryLabel.setText(
            f"normal: {data.normal_description} ({len(result.normal_scores):,}) · outliers: "
            f"{data.outlier_description} ({len(result.outlier_scores):,}) · score: {SCORE_DESCRIPTIONS[result.score]}, "
            f"{seen} · model “{outcome.model_name}”"
        )
        self._draw_histograms()
        self._roc = result.roc()
        self._roc_curve.setData(self._roc.false_positive_rate, self._roc.true_positive_rate)
        self._roc_auc_text.setText(f"AUC = {auc:.3f}")
        self.thresholdLine.show()
        self.set_threshold(threshold_at_false_positive_rate(result.normal_scores, DEFAULT_FALSE_POSITIVE_RATE))
        self._show_gallery(outcome.examples)

    def _on_stopped(self) -> None:
        self._running_for = None
        self._set_status("Stopped: no results for an unfinished run.")

    def _on_failed(self, message: str) -> None:
        self._running_for = None
        self._set_status("The run failed.")
        QMessageBox.warning(self, "Anomaly detection failed", message)

    def _clear_results(self) -> None:
        self.outcome = None
        self._scored = None
        self._roc = None
        self.warningLabel.hide()
        self.aucLabel.setText("")
        self.summaryLabel.setText("")
        self._set_status("")
        self._normal_hist.setData([], [])
        self._outlier_hist.setData([], [])
        self._roc_curve.setData([], [])
        self._operating_point.setData([], [])
        self._roc_auc_text.setText("")
        self.thresholdLine.hide()
        self.thresholdLabel.setText("")
        self.precisionLabel.setText("")
        self.galleryView.set_images(None)
        self.galleryCaption.setText("")

    def _score_range(self) -> tuple[float, float]:
        """The slider's span: the finite scores' minimum and maximum (never an empty interval)."""
        assert self.outcome is not None
        scores = self.outcome.result.scores
        scores = scores[np.isfinite(scores)]
        low, high = (float(scores.min()), float(scores.max())) if scores.size else (0.0, 1.0)
        return (low, high) if high > low else (low - 0.5, low + 0.5)

    def _draw_histograms(self) -> None:
        assert self.outcome is not None
        result = self.outcome.result
        histograms = result.histograms(HISTOGRAM_BINS)
        # Fractions of each group, so 1,000 outliers stay visible next to 9,000 normal images.
        self._normal_hist.setData(histograms.edges, histograms.normal / max(len(result.normal_scores), 1))
        self._outlier_hist.setData(histograms.edges, histograms.outliers / max(len(result.outlier_scores), 1))
        legend = self.histogramPlot.getPlotItem().legend
        legend.getLabel(self._normal_hist).setText(f"normal ({len(result.normal_scores):,})")
        legend.getLabel(self._outlier_hist).setText(f"outliers ({len(result.outlier_scores):,})")
        self.histogramPlot.getPlotItem().enableAutoRange()

    def _on_slider(self, value: int) -> None:
        if self.outcome is None:
            return
        low, high = self._score_range()
        self.set_threshold(low + (high - low) * value / SLIDER_STEPS)

    def _on_line_moved(self) -> None:
        if self.outcome is not None:
            self.set_threshold(self.thresholdLine.value())

    def _show_operating_point(self, at: PrecisionRecall) -> None:
        negatives = at.false_positives + at.true_negatives
        false_positive_rate = at.false_positives / negatives if negatives else 0.0
        self._operating_point.setData([false_positive_rate], [at.recall])
        self.thresholdLabel.setText(f"≥ {at.threshold:.2f} nats")
        self.precisionLabel.setText(
            f"Precision {at.precision:.3f} · recall {at.recall:.3f} · flags {at.true_positives + at.false_positives:,} "
            f"images: {at.true_positives:,} outliers and {at.false_positives:,} normal "
            f"({false_positive_rate:.1%} of normal images)"
        )

    def _refresh_gallery(self) -> None:
        outcome = self.outcome
        if outcome is None:
            return
        # k reconstructions with the run's private model copy: a few milliseconds, fine on the GUI thread.
        self._show_gallery(
            most_anomalous(outcome.model, outcome.images, outcome.result.scores, self.gallerySpin.value(),
                           binarize=outcome.binarize)
        )

    def _show_gallery(self, examples: AnomalyExamples) -> None:
        assert self.outcome is not None
        n_normal = len(self.outcome.result.normal_scores)
        images, recon = examples.images, examples.reconstructions
        if images.shape[1] == 1:  # grey images beside the colour error maps: one RGB grid
            images, recon = np.repeat(images, 3, axis=1), np.repeat(recon, 3, axis=1)
        vmax = float(examples.error_maps.max()) if examples.error_maps.size else 1.0
        grid = np.stack([images, recon, error_heatmap(examples.error_maps, vmax)])
        is_outlier = examples.indices >= n_normal
        k = len(examples.indices)
        # Normal images among the top scores are false alarms at most thresholds: framed in red. (A frame
        # rather than a caption keeps the rows short enough for thumbnails at twice their size.)
        self.galleryView.set_images(
            grid,
            row_labels=["image", "reconstruction", "error²"],
            column_labels=[f"{score:.0f}" for score in examples.scores],
            flagged=np.stack([~is_outlier] * 3),
        )
        self.galleryCaption.setText(f"{int(is_outlier.sum())} of {k} are outliers · red frame: a normal image")
        self.galleryView.setToolTip(
            f"The {k} highest-scoring test images: the score (nats) above each column; a red frame marks a normal "
            f"image, a false alarm at any threshold below its score. Per-pixel squared error from 0 (black) to "
            f"{vmax:.2f} (yellow), on one scale for the whole gallery."
        )
