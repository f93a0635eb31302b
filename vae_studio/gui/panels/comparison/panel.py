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
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
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
from ....core.completeness import DEFAULT_THRESHOLD
from ....core.config import MAX_LATENT_DIM
from ....core.errors import VaeStudioError
from ....core.recipe import model_config_for
from ....core.text import format_duration
from ....core.trained_model import TrainedModel
from ...widgets.layouts import column
from ...work.tasks import Task, TaskState
from ..base import Panel
from .maps import ComparisonMaps
from .pictures import ComparisonPictures
from .scores import ComparisonScores

DEFAULTS = PairSettings()  # the lesson's settings, the same as `vae-studio compare --train`

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


class ComparisonPanel(ComparisonMaps, ComparisonPictures, ComparisonScores, Panel):
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
        """The experiment's settings, at the lesson's defaults, laid out by _settings_row."""
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
        return self._settings_row()

    def _settings_row(self) -> QWidget:
        """The settings in one row across the page, the run's buttons after them and its status under it."""
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
        return column(self.lookLabel, close, margins=(0, 2, 0, 2))

    def _build_results(self) -> QWidget:
        maps = self._build_maps()
        pictures = column(*self._build_strips(), (self._build_tabs(), 1), margins=(4, 0, 0, 0))

        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="comparisonSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(maps)
        splitter.addWidget(pictures)
        splitter.setSizes([1000, 1000])
        return splitter

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

    def _fixed_threshold(self) -> float | None:
        """The threshold set, or None at "per model"."""
        value = self.thresholdSpin.value()
        return None if value <= PER_MODEL else value

