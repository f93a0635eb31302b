"""Evaluate: how good is the current model, in nats per test image, with the binarisation stated.

The figures come from core.evaluation.evaluate_model on the test split of the data the model was
trained on (as ``vae-studio evaluate`` computes them), in a worker thread that can be stopped. The
slow part is the importance-weighted NLL: N images x K samples decoder passes. Its duration is
estimated from one timed pass of the same function on a batch the size of a real one (in the
background, once per architecture) and corrected by every finished run. That timing pass waits
until the panel is on screen (gui/deferred_refresh.py): a training run would otherwise start one
behind a hidden tab, competing with the run for the processor.
"""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ....core.app_state import AppState, Event
from ....core.config import ModelConfig
from ....core.evaluation import evaluate_model
from ....core.trained_model import TrainedModel
from ....core.text import format_duration
from ...work.deferred_refresh import DeferredRefresh
from ...work.private_copies import detached
from ...work.tasks import Task, TaskState
from ...widgets.labels import note_label
from .results import EvaluationResults
from .rows import (
    REFERENCE_FIGURES,
    EvaluationOutcome,
    evaluation_split,
    decoder_rows_per_second,
    result_rows,
    seeded_subset,
    shows_references,
)
from ..base import Panel

# The quick default: about a minute on a 2-core laptop; the published protocol is one click away.
DEFAULT_K = 50
DEFAULT_SUBSET = 1000
MAX_K = 5000


class EvaluatePanel(EvaluationResults, Panel):
    """K and test-subset controls, Evaluate/Stop, and the read-only results table with notes and copy buttons."""

    name = "evaluate"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.outcome: EvaluationOutcome | None = None
        self._evaluated: TrainedModel | None = None  # the model the shown results belong to
        self._running_for: TrainedModel | None = None  # the model being evaluated now
        self._stale = False  # that model has trained since
        self._rates: dict[ModelConfig, float] = {}  # decoder rows per second, per architecture
        self._test_sizes: dict[str, int] = {}  # test images per data set (+ classes), once known

        self.task = Task(self, state=state)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.task.stopped.connect(self._on_stopped)
        self.task.progressed.connect(lambda _fraction, text: self.statusLabel.setText(text))
        self.task.busy_changed.connect(self._update_controls)
        self._calibration = Task(self, newest_wins=True)
        self._calibration.finished.connect(self._on_calibrated)
        self._calibration.failed.connect(lambda _message: self.estimateLabel.setText(""))

        self._build_widgets()
        self._updates = DeferredRefresh(self, self._request_calibration)
        self.subscribe(self._on_model, Event.CURRENT_MODEL, Event.WEIGHTS)
        self.subscribe(self._update_controls, Event.MODELS)
        self._on_model()

    # -- construction --------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self._build_settings()
        self.estimateLabel = note_label("estimateLabel")
        style = self.style()
        self.evaluateButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Evaluate", objectName="evaluateButton"
        )
        self.stopButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="evaluateStopButton"
        )
        self.stopButton.setToolTip(
            "Stop the evaluation; the importance-weighted estimate over the images done so far is kept, with their number."
        )
        self.protocolButton = QPushButton("Published protocol", objectName="protocolButton")
        self.protocolButton.setToolTip(
            f"All test images at K = {MAX_K:,}, as published figures are measured (slow: see the estimate)"
        )
        self.statusLabel = QLabel(objectName="evaluateStatusLabel")
        self.statusLabel.setWordWrap(True)
        self._build_results_widgets()
        k_label = QLabel("Importance samples K")
        k_label.setToolTip(self.kSpin.toolTip())
        subset_label = QLabel("Test images")
        subset_label.setToolTip(self.subsetSpin.toolTip())
        k_row = QHBoxLayout()
        k_row.addWidget(k_label)
        k_row.addWidget(self.kSpin)
        k_row.addWidget(self.estimateLabel, 1)
        # One row for the run and the results' buttons: the panel shares the bottom dock with the loss curves.
        run_row = QHBoxLayout()
        run_row.addWidget(subset_label)
        run_row.addWidget(self.subsetSpin)
        run_row.addWidget(self.protocolButton)
        run_row.addWidget(self.evaluateButton)
        run_row.addWidget(self.stopButton)
        run_row.addStretch(1)
        run_row.addWidget(self.copyTextButton)
        run_row.addWidget(self.copyJsonButton)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(k_row)
        layout.addLayout(run_row)
        layout.addWidget(self.statusLabel)
        layout.addWidget(self.headerLabel)
        layout.addWidget(self.resultsTable)
        layout.addWidget(self.notesLabel)
        layout.addWidget(self.referencesLabel)
        layout.addStretch(1)

        self.kSpin.valueChanged.connect(self._show_estimate)
        self.subsetSpin.valueChanged.connect(self._show_estimate)
        self.evaluateButton.clicked.connect(self.evaluate)
        self.protocolButton.clicked.connect(lambda: (self.subsetSpin.setValue(0), self.kSpin.setValue(MAX_K)))
        self.stopButton.clicked.connect(self.stop)
        self.copyTextButton.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.results_text()))
        self.copyJsonButton.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.results_json()))

    def _build_settings(self) -> None:
        """K and the test subset, with their ranges and help."""
        self.kSpin = QSpinBox(objectName="kSpin")
        self.kSpin.setRange(1, MAX_K)
        self.kSpin.setValue(DEFAULT_K)
        self.kSpin.setGroupSeparatorShown(True)
        self.kSpin.setToolTip(
            "Importance samples per image for the estimate of −log p(x) (Burda et al. 2016). K = 1 gives the "
            "ELBO; larger K gives a tighter bound. K = 5000 is the protocol for published figures (slow)."
        )
        self.subsetSpin = QSpinBox(objectName="evaluateSubsetSpin")
        self.subsetSpin.setRange(0, 1_000_000)
        self.subsetSpin.setSingleStep(500)
        self.subsetSpin.setSpecialValueText("all")
        self.subsetSpin.setGroupSeparatorShown(True)
        self.subsetSpin.setValue(DEFAULT_SUBSET)
        self.subsetSpin.setToolTip(
            "Evaluate a fixed random subset of this many test images (\"all\": the whole test split). "
            "A subset is quicker; published figures use the whole split."
        )

    def _build_results_widgets(self) -> None:
        """The header, the results table, its notes and the copy buttons."""
        self.headerLabel = QLabel(objectName="headerLabel")
        self.headerLabel.setWordWrap(True)
        self.headerLabel.setTextFormat(Qt.TextFormat.PlainText)  # a model name may contain "<"
        self.headerLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.resultsTable = QTableWidget(0, 4, objectName="resultsTable")
        self.resultsTable.setHorizontalHeaderLabels(["Figure", "Value", "Unit", "Test images"])
        self.resultsTable.horizontalHeaderItem(3).setToolTip("How the test images were seen: the binarisation")
        self.resultsTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.resultsTable.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.resultsTable.verticalHeader().hide()
        self.resultsTable.setAlternatingRowColors(True)
        header = self.resultsTable.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.notesLabel = QLabel(objectName="notesLabel")
        self.notesLabel.setWordWrap(True)
        self.notesLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.referencesLabel = note_label("referencesLabel", wrap=True)
        self.copyTextButton = QPushButton("Copy as text", objectName="copyTextButton")
        self.copyTextButton.setToolTip("Copy the results, their units and notes to the clipboard as plain text")
        self.copyJsonButton = QPushButton("Copy as JSON", objectName="copyJsonButton")
        self.copyJsonButton.setToolTip("Copy the results to the clipboard as JSON (the fields of `vae-studio evaluate --json`)")

    # -- public --------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Evaluate the current model on its test split in the worker (a private copy of the model)."""
        trained = self.state.current
        if trained is None or self.task.busy:
            return
        model = detached(trained.model)
        k = self.kSpin.value() if model.variational else None
        subset = self.subsetSpin.value()
        config = trained.train_config
        binarize, name, spec = config.binarize, trained.name, config.dataset

        def run(task: TaskState) -> EvaluationOutcome:
            images, labels = evaluation_split(config)
            test_size = len(images)
            images, labels = seeded_subset(images, labels, subset)
            start = time.perf_counter()
            evaluation = evaluate_model(
                model, images, labels if model.config.conditional else None, binarize=binarize, iw_samples=k,
                progress=task.progress, should_stop=task.should_stop,
            )
            return EvaluationOutcome(evaluation, name, spec, test_size, time.perf_counter() - start)

        self._running_for = trained
        label = f"Evaluating, K = {k:,}" if k else "Evaluating"
        self.task.start(run, label=label)

    def stop(self) -> None:
        self.task.stop()
        self.statusLabel.setText("Stopping…")

    def results_text(self) -> str:
        """The results as plain text: the header, one line per figure with unit and binarisation, the notes."""
        if self.outcome is None:
            return ""
        lines = [self._header_text(self.outcome)]
        rows = result_rows(self.outcome)
        width = max(len(row.figure) for row in rows)
        lines += [f"  {row.figure:<{width}}  {row.value:>13}  {row.unit} ({row.images})" for row in rows]
        lines += [f"note: {note}" for note in self.outcome.evaluation.notes]
        trained = self._evaluated
        if trained is not None and shows_references(trained):
            lines += [f"published, for context: {figure}" for figure in REFERENCE_FIGURES]
        return "\n".join(lines) + "\n"

    def results_json(self) -> str:
        """The results as JSON: evaluate_model's fields plus the model, data set and subset."""
        if self.outcome is None:
            return ""
        outcome = self.outcome
        values = {
            "model": outcome.model_name,
            "dataset": outcome.dataset,
            "test_split_images": outcome.test_size,
            **outcome.evaluation.as_dict(),
            "seconds": round(outcome.seconds, 3),
        }
        return json.dumps(values, indent=2)

    # -- state ---------------------------------------------------------------------------
    def _on_model(self) -> None:
        current = self.state.current
        if self.outcome is not None and current is self._evaluated:
            self._stale = True  # new weights for the evaluated model (a training snapshot)
        elif current is not self._evaluated:
            self._clear_results()
        self._refresh_header()
        self._update_controls()
        self._updates.request()  # the duration estimate

    def _request_calibration(self) -> None:
        current = self.state.current
        if current is None or not current.config.variational or current.config in self._rates:
            self._show_estimate()
            return
        self.estimateLabel.setText("timing…")
        config, model = current.config, detached(current.model)
        self._calibration.request(lambda: (config, decoder_rows_per_second(model)), background=True)

    def _on_calibrated(self, result: tuple[ModelConfig, float]) -> None:
        config, rate = result
        self._rates[config] = rate
        self._show_estimate()

    def _test_size(self, trained: TrainedModel) -> int | None:
        """The test split's size if known: from a finished run, or the data set on show when it is the model's."""
        config = trained.train_config
        key = f"{config.dataset}|{config.classes}"
        dataset = self.state.dataset
        if key not in self._test_sizes and dataset is not None and dataset.name == config.dataset and not config.classes:
            self._test_sizes[key] = len(dataset.test_images)
        return self._test_sizes.get(key)

    def _show_estimate(self) -> None:
        current = self.state.current
        if current is None:
            self.estimateLabel.setText("")
            return
        if not current.config.variational:
            self.estimateLabel.setText("a plain autoencoder has no likelihood to estimate")
            return
        rate = self._rates.get(current.config)
        if rate is None:
            return  # the timing pass is still running
        n = self._test_size(current)
        subset = self.subsetSpin.value()
        if subset and (n is None or subset < n):
            n = subset
        k = self.kSpin.value()
        if n is None:  # the test split has not been loaded yet
            self.estimateLabel.setText(f"≈ {format_duration(1000 * k / rate)} per 1,000 images")
        else:
            self.estimateLabel.setText(f"≈ {format_duration(n * k / rate)} for {n:,} images")
        self.estimateLabel.setToolTip(
            f"Images × K decoder passes at about {rate:,.0f} per second, as timed on this machine"
        )
