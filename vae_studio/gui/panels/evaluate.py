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
from dataclasses import dataclass

import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.config import ModelConfig, TrainConfig
from ...core.evaluation import (
    BINARIZATION_LABELS,
    Evaluation,
    binarization_description,
    evaluate_model,
    importance_weighted_nll,
)
from ...core.models import AE
from ...core.recipe import training_data
from ...core.subsets import sample_indices
from ...core.trained_model import TrainedModel
from ...core.text import format_duration
from ..work.deferred_refresh import DeferredRefresh
from ..work.private_copies import detached
from ..work.tasks import Task, TaskState
from .base import Panel

DEFAULT_K = 100
MAX_K = 5000
SUBSET_SEED = 0  # the same test subset every time, so two models evaluated on "1,000 images" see the same ones
# The timing pass: one decoder batch of this many rows (images x samples), about a real pass's size.
CALIBRATION_SAMPLES = 128
CALIBRATION_ROWS = 8192
# Published test NLLs on binarized MNIST, shown for context only (other binarisations and networks).
REFERENCE_FIGURES = (
    "≈ 89.9 nats: a plain VAE (Bernoulli, one stochastic layer) in several re-implementations",
    "86.76 nats (VAE) and 84.78 nats (IWAE, k = 50): Burda, Grosse & Salakhutdinov 2016, Table 1, "
    "one stochastic layer with 2×200 tanh units, 3,280 epochs",
)


@dataclass(frozen=True)
class EvaluationOutcome:
    """A finished evaluation and what it was run on."""

    evaluation: Evaluation
    model_name: str
    dataset: str
    test_size: int  # images in the whole test split (the evaluation may use a subset)
    seconds: float


@dataclass(frozen=True)
class Row:
    """One line of the results table: what, the number as text, its unit, how the images were seen, and
    a sentence on what the figure means (the row's tooltip)."""

    figure: str
    value: str
    unit: str
    images: str
    help: str


def _test_split(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The test split of the data the model trained on (its classes only, if it was trained on some)."""
    dataset = training_data(config)
    return dataset.test_images, dataset.test_labels


def _subset(images: torch.Tensor, labels: torch.Tensor | None, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A seeded random subset of ``n`` images in their original order (all of them when n is 0 or too large)."""
    if not n or n >= len(images):
        return images, labels
    keep = sample_indices(len(images), n, SUBSET_SEED, keep_order=True)
    return images[keep], None if labels is None else labels[keep]


def _calibrate(model: AE) -> float:
    """Decoder rows per second of the importance-weighted pass, timed on blank images (cost does not
    depend on the pixels) after one small warm-up pass."""
    images = torch.zeros((CALIBRATION_ROWS // CALIBRATION_SAMPLES, *model.config.image_shape), dtype=torch.uint8)
    labels = torch.zeros(len(images), dtype=torch.int64) if model.config.conditional else None
    importance_weighted_nll(model, images[:2], None if labels is None else labels[:2], samples=8)
    start = time.perf_counter()
    importance_weighted_nll(model, images, labels, samples=CALIBRATION_SAMPLES)
    return CALIBRATION_ROWS / max(time.perf_counter() - start, 1e-6)


def result_rows(outcome: EvaluationOutcome) -> list[Row]:
    """The table's lines: every number with its unit and the binarisation it was measured under."""
    e = outcome.evaluation
    seen = BINARIZATION_LABELS[e.binarize]
    nats = "nats/image"
    iw_help = "An upper bound on −log p(x) (Burda et al. 2016) that tightens as K grows; K = 1 is the ELBO."
    if e.iw_nll is not None:
        iw = Row(f"−log p(x), IW (K = {e.iw_samples:,})", f"{e.iw_nll:.3f}", nats, seen, iw_help)
    elif e.active_units is None:
        iw = Row("−log p(x), IW", "n/a", "", seen, "A plain autoencoder has no likelihood to estimate.")
    else:
        iw = Row("−log p(x), IW", "not estimated", "", seen, iw_help)
    active = "n/a" if e.active_units is None else f"{e.active_units} of {e.latent_dim}"
    return [
        Row("Reconstruction", f"{e.recon:.3f}", nats, seen, "−E_q[log p(x|z)], one sample z ~ q(z|x) per image."),
        Row("KL(q ‖ p)", f"{e.kl:.3f}", nats, seen, "KL(q(z|x) ‖ p(z)): what the code costs against the prior N(0, I)."),
        Row("Negative ELBO", f"{e.loss:.3f}", nats, seen, "Reconstruction + KL: the training loss at β = 1."),
        iw,
        Row("Active units", active, "dims", seen, "Latent dimensions whose posterior mean varies over the images: "
            "Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016)."),
        Row("MSE", f"{e.mse:.5f}", "per pixel", seen, "Mean squared error of the reconstruction (μ decoded), pixels 0 to 1."),
        Row("PSNR", f"{e.psnr:.2f}", "dB", seen, "10·log10(1 / MSE) per image, averaged over the images."),
    ]


def shows_references(trained: TrainedModel) -> bool:
    """The published figures are binarized-MNIST test NLLs: context only for a model trained that way."""
    config = trained.train_config
    return config.binarize == "dynamic" and config.dataset == "mnist"


class EvaluatePanel(Panel):
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
        for event, listener in (
            (Event.CURRENT_MODEL, self._on_model),
            (Event.WEIGHTS, self._on_model),
            (Event.MODELS, self._update_controls),
        ):
            self.subscribe(event, listener)
        self._on_model()

    # -- construction --------------------------------------------------------------------
    def _build_widgets(self) -> None:
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
        self.subsetSpin.setToolTip(
            "Evaluate a fixed random subset of this many test images (\"all\": the whole test split). "
            "A subset is quicker; published figures use the whole split."
        )
        self.estimateLabel = QLabel(objectName="estimateLabel")
        self.estimateLabel.setStyleSheet("color: gray;")
        style = self.style()
        self.evaluateButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Evaluate", objectName="evaluateButton"
        )
        self.stopButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="evaluateStopButton"
        )
        self.stopButton.setToolTip("Stop the evaluation; nothing is shown for an unfinished run.")
        self.statusLabel = QLabel(objectName="evaluateStatusLabel")
        self.statusLabel.setWordWrap(True)
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
        self.referencesLabel = QLabel(objectName="referencesLabel")
        self.referencesLabel.setWordWrap(True)
        self.referencesLabel.setStyleSheet("color: gray;")
        self.copyTextButton = QPushButton("Copy as text", objectName="copyTextButton")
        self.copyTextButton.setToolTip("Copy the results, their units and notes to the clipboard as plain text")
        self.copyJsonButton = QPushButton("Copy as JSON", objectName="copyJsonButton")
        self.copyJsonButton.setToolTip("Copy the results to the clipboard as JSON (the fields of `vae-studio evaluate --json`)")

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
        self.stopButton.clicked.connect(self.stop)
        self.copyTextButton.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.results_text()))
        self.copyJsonButton.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.results_json()))

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
            images, labels = _test_split(config)
            test_size = len(images)
            images, labels = _subset(images, labels, subset)
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
        self._calibration.request(lambda: (config, _calibrate(model)), background=True)

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

    # -- results -------------------------------------------------------------------------
    def _on_finished(self, outcome: EvaluationOutcome) -> None:
        trained, self._running_for = self._running_for, None
        assert trained is not None
        e = outcome.evaluation
        config = trained.train_config
        self._test_sizes[f"{config.dataset}|{config.classes}"] = outcome.test_size
        if e.iw_samples and outcome.seconds > 0:
            # The run itself is the best timing: it replaces the calibration's figure.
            self._rates[trained.config] = e.images * e.iw_samples / outcome.seconds
        if trained is not self.state.current:
            self.statusLabel.setText(f"“{trained.name}” is no longer shown: its results were not kept.")
        else:
            self._evaluated = trained
            self.outcome = outcome
            self._stale = False
            self.statusLabel.setText(f"Evaluated in {format_duration(outcome.seconds)}.")
            self._show_results()
            self._show_estimate()
        self._update_controls()

    def _on_failed(self, message: str) -> None:
        self._running_for = None
        self.statusLabel.setText("Evaluation failed.")
        self._update_controls()
        QMessageBox.warning(self, "Evaluation failed", message)

    def _on_stopped(self) -> None:
        self._running_for = None
        self.statusLabel.setText("Stopped: no results for an unfinished evaluation.")
        self._update_controls()

    def _clear_results(self) -> None:
        self.outcome = None
        self._evaluated = None
        self._stale = False
        self.resultsTable.setRowCount(0)
        self._fit_table_height()
        self.notesLabel.setText("")
        self.referencesLabel.setText("")

    def _header_text(self, outcome: EvaluationOutcome) -> str:
        e = outcome.evaluation
        subset = "" if e.images == outcome.test_size else f" (a fixed random subset of {outcome.test_size:,})"
        return (
            f"“{outcome.model_name}” on the {outcome.dataset} test split: {e.images:,} images{subset}; "
            f"binarization: {binarization_description(e.binarize)}; {e.likelihood} likelihood."
        )

    def _refresh_header(self) -> None:
        if self.outcome is None:
            current = self.state.current
            self.headerLabel.setText(
                "Train a model or open a checkpoint, then evaluate it on its test split."
                if current is None
                else f"Evaluate “{current.name}” on the test split of {current.train_config.dataset}, in nats per image."
            )
            return
        text = self._header_text(self.outcome)
        if self._stale:
            text += "\nThe model has trained since: evaluate again for its current weights."
        self.headerLabel.setText(text)

    def _show_results(self) -> None:
        assert self.outcome is not None
        rows = result_rows(self.outcome)
        self.resultsTable.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate((row.figure, row.value, row.unit, row.images)):
                item = self.resultsTable.item(r, c)
                if item is None:  # items are made once and reused: every evaluation has the same rows
                    item = QTableWidgetItem()
                    if c == 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.resultsTable.setItem(r, c, item)
                item.setText(text)
                item.setToolTip(row.help)
        self._fit_table_height()
        self.resultsTable.setToolTip(binarization_description(self.outcome.evaluation.binarize))
        notes = self.outcome.evaluation.notes
        self.notesLabel.setText("\n".join(f"• {note}" for note in notes))
        trained = self._evaluated
        if trained is not None and shows_references(trained):
            self.referencesLabel.setText(
                "Published test NLLs on binarized MNIST, for context only (other networks, training and test "
                "binarisations; compare with the importance-weighted figure at K = 5000):\n"
                + "\n".join(f"• {figure}" for figure in REFERENCE_FIGURES)
            )
        else:
            self.referencesLabel.setText("")
        self._refresh_header()

    def _fit_table_height(self) -> None:
        """As tall as its rows, so the notes sit right under the figures instead of below an empty area."""
        table = self.resultsTable
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(r) for r in range(table.rowCount()))
        if table.horizontalScrollBar().isVisible():
            height += table.horizontalScrollBar().height()
        table.setFixedHeight(height)

    def _update_controls(self) -> None:
        current = self.state.current
        busy = self.task.busy
        self.evaluateButton.setEnabled(current is not None and not busy)
        self.evaluateButton.setToolTip(
            "Compute the figures on the test split in the background."
            if current is not None
            else "No model yet: train one or open a checkpoint."
        )
        self.stopButton.setEnabled(busy)
        variational = current is not None and current.config.variational
        self.kSpin.setEnabled(variational and not busy)
        self.subsetSpin.setEnabled(not busy)
        has_results = self.outcome is not None
        self.copyTextButton.setEnabled(has_results)
        self.copyJsonButton.setEnabled(has_results)
