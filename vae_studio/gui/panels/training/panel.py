"""The training panel: choose data, model and objective, then watch the model train live.

The settings are declared once in form.py; the run itself (a Task on a worker thread with its own
copy of the model) is job.py. This module connects the two to the shared state: it builds a new
model from the settings, applies what the run reports to the GUI copy of the model (which the
other panels show through AppState) and keeps the data set chooser in step with the loader.
"""

from __future__ import annotations

import copy
import re
import time

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ....core.app_state import AppState, Event
from ....core.config import TrainConfig
from ....core.device import resolve_device
from ....core.errors import VaeStudioError
from ....core.recipe import new_trained_model
from ....core.text import format_duration
from ....core.training_report import EpochFigures, Snapshot, StepFigures
from ....core.vocabulary import MODEL_KIND_CHOICES, choice, spec_short
from ...widgets.layouts import column
from ...widgets.settings_form import SettingsForm
from ...work.dataset_loader import DatasetLoader
from ...work.tasks import Task
from .dataset_chooser import DatasetChooser
from ..base import Panel
from .form import CONFIG_FIELD_OF_KEY, FIELDS, SETTINGS_GROUP
from .job import Run, RunOutcome, TrainingJob


class TrainingPanel(DatasetChooser, Panel):
    """Training controls and the run itself; see the module docstring for the threading design."""

    name = "training"

    def __init__(self, state: AppState, parent: QWidget | None = None, *, loader: DatasetLoader) -> None:
        super().__init__(state, parent)
        self.loader = loader
        self.task = Task(self)
        self._run: Run | None = None
        self._syncing_combo = False
        self._loading_spec: str | None = None  # what the loader is loading now
        # Fires after the paints a snapshot asked for (they are posted events of the pass that applied it).
        self._snapshot_shown = QTimer(self, singleShot=True, interval=0, timeout=self._let_next_snapshot_come)

        self._build_widgets()
        self.form.restore()
        self._connect()
        self._sync_dataset_combo()
        self._update_controls()

    # -- construction ----------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.form = SettingsForm(FIELDS, SETTINGS_GROUP)
        for field in FIELDS:  # the controls by their object names, e.g. self.epochsSpin
            setattr(self, field.name, self.form.widgets[field.key])
        self.datasetCombo.insertSeparator(self.datasetCombo.count() - 1)  # before "Open folder…"
        # Explicit line breaks rather than word wrap: a wrapping label in a scroll area gets its height wrong.
        style = self.style()
        self.trainButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train", objectName="trainButton"
        )
        self.trainButton.setToolTip("Build a new model with these settings and train it.")
        self.trainButton.setDefault(True)
        self.pauseButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause", objectName="pauseButton"
        )
        self.pauseButton.setCheckable(True)
        self.pauseButton.setToolTip("Pause training to look around; Resume carries on from the same step.")
        self.stopButton = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="stopButton"
        )
        self.stopButton.setToolTip("End training now; the model keeps what it has learnt so far.")
        self.statusLabel = QLabel(objectName="trainingStatus")
        self.statusLabel.setWordWrap(True)

        settings = column(*(self.form.groups[group] for group in ("Data", "Model", "Objective", "Optimisation")), 1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        buttons = QHBoxLayout()
        for button in (self.trainButton, self.pauseButton, self.stopButton):
            buttons.addWidget(button)
        run_form = self.form.form("Run")
        run_form.addRow(buttons)
        run_form.addRow(self.statusLabel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.form.groups["Run"])  # outside the scroll area: the buttons are always in reach

    def _connect(self) -> None:
        self.datasetCombo.currentIndexChanged.connect(self._on_dataset_chosen)
        self.modelKindCombo.currentIndexChanged.connect(self._update_controls)
        self.corruptionCombo.currentIndexChanged.connect(self._update_controls)
        self.refreshStepsSpin.valueChanged.connect(self._on_refresh_changed)
        self.trainButton.clicked.connect(self.start)
        self.pauseButton.toggled.connect(self._on_pause_toggled)
        self.stopButton.clicked.connect(self.stop)
        self.task.partial.connect(self._on_report)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.loader.loading.connect(self._on_loading)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.busy_changed.connect(self._update_controls)
        self.subscribe(self._on_dataset, Event.DATASET)
        self.subscribe(self._on_models, Event.MODELS)

    # -- public API ------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self._run is not None

    def setting_widgets(self) -> dict[str, QWidget]:
        """Every control of the form, by the ModelConfig / TrainConfig field it sets."""
        return {CONFIG_FIELD_OF_KEY.get(key, key): widget for key, widget in self.form.widgets.items()}

    def start(self) -> None:
        """Build a new model from the controls and train it on the worker thread."""
        dataset = self.state.dataset
        if self._run is not None or dataset is None or self.loader.busy:
            return
        kind = str(self.modelKindCombo.currentData())
        try:
            config = self._train_config(dataset.name, variational=kind != "ae")
            resolve_device(config.device)  # an unavailable device is reported here, not by the worker
            trained = new_trained_model(
                dataset,
                config,
                self._next_name(kind, dataset.name),
                kind=kind,
                arch=str(self.archCombo.currentData()),
                latent_dim=self.latentDimSpin.value(),
                likelihood=str(self.likelihoodCombo.currentData()),
            )
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Cannot train", str(exc))
            return
        trained.model.eval()  # the GUI copy only encodes and decodes
        # The worker trains its own deep copy, so the GUI thread never touches live tensors; both start
        # from the same weights, so the snapshots the GUI copy receives are that run's weights exactly.
        job = TrainingJob(
            copy.deepcopy(trained.model),
            config,
            dataset.test_images,
            dataset.test_labels,
            self.refreshStepsSpin.value(),
        )
        self.form.save()
        self._run = Run(trained, job, dataset)
        # Training is flagged before the model becomes current, so the map does not start an idle
        # encoding of the untrained model that could land after the first snapshot.
        self.state.set_training(True)
        self.state.add_model(trained)
        self.task.start(job)
        self._show_progress(self._run)
        self._update_controls()

    def stop(self) -> None:
        """Ask the run to stop after the current step; what was trained is kept."""
        if self._run is None:
            return
        self._run.stopping = True
        self.task.stop()
        self._run.job.reporter.snapshot_taken.set()  # a worker waiting for the first map stops at once
        self.statusLabel.setText("Stopping…")
        self._update_controls()

    def shutdown(self) -> None:
        """Stop and join the worker (the main window's closeEvent calls this); keeps what was trained."""
        if self._run is not None:
            self._run.job.reporter.snapshot_taken.set()  # no first map will be shown now
        super().shutdown()
        self.form.save()
        run, self._run = self._run, None
        if run is not None:
            self._end_run(run, "Stopped when the window closed.")

    # -- the run ---------------------------------------------------------------------
    def _train_config(self, spec: str, *, variational: bool) -> TrainConfig:
        corruption = str(self.corruptionCombo.currentData())
        return TrainConfig(
            dataset=spec,
            epochs=self.epochsSpin.value(),
            batch_size=self.batchSpin.value(),
            lr=self.lrSpin.value(),
            # A plain AE has no KL term: keep the defaults rather than record settings that did nothing.
            beta=self.betaSpin.value() if variational else 1.0,
            warmup_epochs=self.warmupSpin.value() if variational else 0.0,
            seed=self.seedSpin.value(),
            device=str(self.deviceCombo.currentData()),
            corruption=corruption,  # type: ignore[arg-type]
            noise_level=self.noiseSpin.value() if corruption != "none" else 0.0,
            train_subset=self.subsetSpin.value() or None,
        )

    def _next_name(self, kind: str, spec: str) -> str:
        arch = " conv" if self.archCombo.currentData() == "conv" else ""
        prefix = f"{choice(MODEL_KIND_CHOICES, kind).short_label}{arch} z={self.latentDimSpin.value()} {spec_short(spec)} #"
        pattern = re.compile(re.escape(prefix) + r"(\d+)")
        numbers = [int(match[1]) for m in self.state.models if (match := pattern.fullmatch(m.name))]
        return f"{prefix}{max(numbers, default=0) + 1}"

    @Slot(object)
    def _on_report(self, message: object) -> None:
        run = self._run
        if run is None:
            return
        if isinstance(message, StepFigures):
            self._apply_steps(run, message)
        elif isinstance(message, EpochFigures):
            self._apply_epoch(run, message)
        elif isinstance(message, Snapshot):
            self._apply_snapshot(run, message)
            self._snapshot_shown.start()

    def _let_next_snapshot_come(self) -> None:
        """The snapshot is shown (painted): only now may the worker send the next one, or take its
        first step (job.FIRST_MAP_WAIT_S)."""
        if self._run is not None:
            self._run.job.reporter.snapshot_taken.set()

    def _apply_steps(self, run: Run, figures: StepFigures) -> None:
        figures.add_to(run.trained.history)
        if self.state.current is run.trained:
            self.state.history_changed()
        run.fraction = figures.step / max(figures.total_steps, 1)
        run.progress_text = (
            f"epoch {figures.epoch}/{figures.epochs} · {figures.samples_per_s:,.0f} samples/s · "
            f"ETA {format_duration(figures.eta_s)}"
        )
        self._show_progress(run)

    def _apply_epoch(self, run: Run, figures: EpochFigures) -> None:
        figures.add_to(run.trained.history)
        if self.state.current is run.trained:
            self.state.history_changed()

    def _apply_snapshot(self, run: Run, snapshot: Snapshot) -> None:
        snapshot.load_into(run.trained.model)
        if self.state.current is not run.trained:
            return  # another model is shown: it keeps its own map
        self.state.current_weights_changed()
        dataset = self.state.dataset
        if dataset is not None and dataset.name == run.dataset.name and len(dataset.test_images) == len(
            snapshot.encoding.mu
        ):
            self.state.set_encoding(snapshot.encoding)

    @Slot(object)
    def _on_finished(self, outcome: RunOutcome) -> None:
        run, self._run = self._run, None
        if run is None:
            return
        self._apply_snapshot(run, outcome.final)
        elapsed = format_duration(time.perf_counter() - run.started)
        if outcome.status == "finished":
            text = f"Finished: {outcome.epochs} epochs, {outcome.steps:,} steps in {elapsed}."
        elif outcome.status == "stopped":
            text = f"Stopped after {outcome.steps:,} steps ({outcome.epochs} full epochs) in {elapsed}."
        else:
            text = f"Diverged after {outcome.steps:,} steps; the last good weights were kept."
        self._end_run(run, text)
        if outcome.status == "diverged":
            QMessageBox.warning(self, "Training diverged", outcome.message)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        run, self._run = self._run, None
        if run is None:
            return
        self._end_run(run, "Training failed.")
        QMessageBox.warning(self, "Training failed", message)

    def _end_run(self, run: Run, text: str) -> None:
        run.trained.unsaved = True
        self.pauseButton.setChecked(False)
        self.statusLabel.setText(text)
        self.state.set_training(False)
        self.state.set_progress(None)
        self.state.models_changed()
        self._update_controls()

    def _show_progress(self, run: Run) -> None:
        text = run.progress_text
        if self.pauseButton.isChecked():
            text = f"paused · {text}"
        self.state.set_progress(run.fraction, text)
        if not run.stopping:
            self.statusLabel.setText(f"Training {run.trained.name}: {text}")

    def _on_pause_toggled(self, paused: bool) -> None:
        self.pauseButton.setText("Resume" if paused else "Pause")
        self.pauseButton.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
            )
        )
        if self._run is None:
            return
        if paused:
            self.task.pause()
        else:
            self.task.resume()
        self._show_progress(self._run)

    def _on_refresh_changed(self, steps: int) -> None:
        if self._run is not None:
            self._run.job.reporter.refresh_steps = steps

    def _on_models(self) -> None:
        """Removing the model being trained ends its run: there is nothing left to show it in."""
        run = self._run
        if run is not None and not run.stopping and run.trained not in self.state.models:
            self.stop()

    # -- enabling ----------------------------------------------------------------------
    def _update_controls(self) -> None:
        idle = self._run is None
        self.form.set_busy(not idle)
        self._update_conditional_choice()

        loading = self.loader.busy
        ready = self.state.dataset is not None and not loading
        self.trainButton.setEnabled(idle and ready)
        self.trainButton.setToolTip(
            "Build a new model with these settings and train it."
            if ready or not idle
            else "Waiting for the data set to load."
        )
        steerable = self._run is not None and not self._run.stopping
        self.pauseButton.setEnabled(steerable)
        self.stopButton.setEnabled(steerable)

    def _update_conditional_choice(self) -> None:
        """A conditional VAE needs class labels: its entry is disabled for unlabelled data."""
        dataset = self.state.dataset
        labelled = dataset is None or dataset.labelled
        index = self.modelKindCombo.findData("cvae")
        item = self.modelKindCombo.model().item(index)
        item.setEnabled(labelled)
        item.setToolTip("" if labelled else "Needs a data set with class labels.")
        if not labelled and self.modelKindCombo.currentIndex() == index:
            self.modelKindCombo.setCurrentIndex(self.modelKindCombo.findData("vae"))
