"""Anomaly detection: does the model reconstruct images unlike its training data worse?

The current model scores the normal test images and the outliers (held-out classes of its data set,
or another data set) by reconstruction error or negative ELBO, in a worker that can be stopped
(core.anomaly.anomaly_data + detect_anomalies). The panel then shows both score histograms over
shared bins, the ROC curve with its AUC, and a threshold: moving it only recounts the stored scores
(core.roc.precision_recall_at), so precision and recall follow the slider live. The gallery
shows the highest-scoring test images, their reconstructions and where they differ. Model changes
(every training refresh) are followed once per event-loop turn, and only while the panel is on screen.
"""

from __future__ import annotations


import torch
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QMessageBox, QWidget

from ....core.anomaly import anomaly_data, detect_anomalies, most_anomalous
from ....core.app_state import AppState, Event
from ....core.data import format_class_list
from ....core.roc import PrecisionRecall, RocCurve
from ....core.trained_model import TrainedModel
from ...work.deferred_refresh import DeferredRefresh
from ...work.private_copies import detached
from ...work.tasks import Task, TaskState
from .layout import AnomalyLayout
from .results import AnomalyResults
from .outcome import SLIDER_STEPS, AnomalyOutcome
from ..base import Panel


class AnomalyPanel(AnomalyLayout, AnomalyResults, Panel):
    """Choose outliers and a score, run, then read the histograms, ROC, threshold and gallery."""

    name = "anomaly"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.outcome: AnomalyOutcome | None = None
        self.threshold = 0.0
        self._scored: TrainedModel | None = None  # the model the shown results belong to
        self._running_for: TrainedModel | None = None  # the model being scored now
        self._defaults_for: TrainedModel | None = None  # the model the outlier choice was defaulted for
        self._roc: RocCurve | None = None

        self.task = Task(self, state=state)
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
        self.subscribe(self._updates.request, Event.CURRENT_MODEL, Event.WEIGHTS)
        self._on_model()

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

        def task(state: TaskState) -> AnomalyOutcome:
            data = anomaly_data(config, outliers)
            result = detect_anomalies(
                model, data.normal, data.outliers, score=score, binarize=config.binarize,
                progress=state.progress, should_stop=state.should_stop,
            )
            # A stopped run scored the first images of each group (core.anomaly.detect_anomalies).
            images = torch.cat([data.normal[: len(result.normal_scores)], data.outliers[: len(result.outlier_scores)]])
            examples = most_anomalous(model, images, result.scores, k, binarize=config.binarize)
            return AnomalyOutcome(data, result, images, examples, model, name, config.binarize)

        self._running_for = trained
        self.task.start(task, label=f"Scoring ({self.scoreCombo.currentText()})")

    def _set_status(self, text: str) -> None:
        """Progress and state of the run; the line is hidden when there is nothing to say, to save height."""
        self.statusLabel.setText(text)
        self.statusLabel.setVisible(bool(text))

    def setting_widgets(self) -> dict[str, QWidget]:
        """The choice of outliers and of score, by the keys of the guided lab's script (core.guided_lab)."""
        return {"outliers": self.outlierKindCombo, "outlier_dataset": self.datasetCombo, "score": self.scoreCombo}

    def stop(self) -> None:
        self.task.stop()
        self._set_status("Stopping…")

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
            self.classEdit.setText(format_class_list([c for c in range(len(names)) if c not in config.classes]))
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
        if self.outcome is None and not busy:
            # Follows the current model, so no message outlives the state it described.
            self.summaryLabel.setText(
                "No model yet: train one or open a checkpoint."
                if current is None
                else f"Press Run to score “{current.name}” on its normal test images and the outliers chosen above."
            )
