"""The training panel: choose data, model and objective, then watch the model train live.

Training runs on a worker thread (a TaskRunner task) that owns its own copy of the model. The
GUI thread never trains or encodes: it receives plain copies (the message dataclasses below) and
applies them to the GUI copy of the model, which the other panels show through AppState. Step
figures are throttled to about 10 per second, and a snapshot (weights + the test split's
encoding) is sent every "map refresh" steps, but never before the GUI has applied the previous
one, so a slow redraw lowers the snapshot rate instead of queueing work without end.
"""

from __future__ import annotations

import copy
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.config import MAX_LATENT_DIM, TrainConfig
from ...core.data import DATASET_CHOICES, ImageDataset
from ...core.device import resolve_device
from ...core.errors import VaeStudioError
from ...core.latent import Encoding, encode
from ...core.models import AE
from ...core.recipe import new_trained_model, training_data
from ...core.text import format_duration
from ...core.threads import ThreadGovernor
from ...core.trained_model import TrainedModel
from ...core.trainer import EpochReport, Status, StepReport, Trainer
from ..dataset_loader import DatasetLoader, folder_spec
from ..gc_pauses import import_torch_optimisers
from ..tasks import TaskContext, TaskRunner

# At most ~10 step reports per second: a smooth live curve without flooding the GUI's event queue.
REPORT_INTERVAL_S = 0.1
# A snapshot encodes the whole test split (10,000 MNIST images: 40-500 ms on a two-core laptop,
# against 4-8 ms per training step), and the GUI thread redraws the map from it while training
# goes on. Snapshots are spaced so that encoding takes at most this share of the run's time, so
# a small "map refresh" costs live pictures, not training speed (issue 10: in-app training at the
# command line's speed).
SNAPSHOT_TIME_SHARE = 0.05
# Samples per second are measured over the last few seconds, so the figure (and the ETA) recovers
# quickly after a pause instead of averaging the pause into the whole run.
RATE_WINDOW_S = 3.0
SETTINGS_GROUP = "training"
OPEN_FOLDER = "<open folder>"

# Short labels: the panel lives in a side dock about 300 pixels wide.
DATASET_LABELS = {
    "mnist": "MNIST (digits)",
    "fashion-mnist": "Fashion-MNIST",
    "shapes": "Shapes (synthetic)",
    "kmnist": "KMNIST (Japanese)",
    "emnist-letters": "EMNIST letters",
}
KIND_ITEMS = (("ae", "AE"), ("vae", "VAE"), ("cvae", "Conditional VAE"))
KIND_SHORT = {"ae": "AE", "vae": "VAE", "cvae": "CVAE"}
ARCH_ITEMS = (("mlp", "MLP"), ("conv", "Conv"))
LIKELIHOOD_ITEMS = (("bernoulli", "Bernoulli"), ("gaussian", "Gaussian"))
CORRUPTION_ITEMS = (
    ("none", "none"),
    ("gaussian", "Gaussian noise"),
    ("salt-pepper", "salt & pepper"),
    ("block", "masked block"),
    ("rotation", "rotation"),
)


# -- messages from the worker (plain copies: numbers, numpy arrays, frozen dataclasses) -----------
@dataclass(frozen=True)
class StepFigures:
    """The latest step's figures and the per-step losses of every step since the previous report."""

    step: int
    total_steps: int
    epoch: int  # 1-based, of this run
    epochs: int
    loss: float
    recon: float
    kl: float
    beta: float
    samples_per_s: float
    eta_s: float
    new_loss: np.ndarray
    new_recon: np.ndarray
    new_kl: np.ndarray


@dataclass(frozen=True)
class EpochFigures:
    epoch: int
    step: int  # the step count at the end of the epoch, where the test loss is marked
    train_loss: float
    test_loss: float
    test_recon: float
    test_kl: float
    seconds: float


@dataclass(frozen=True)
class Snapshot:
    """The worker model's weights (CPU copies) and its encoding of the test split at ``step``."""

    step: int
    weights: dict[str, np.ndarray]
    encoding: Encoding


@dataclass(frozen=True)
class RunOutcome:
    """The task's result. ``final`` holds the weights kept: after divergence, the last good ones."""

    status: Status
    message: str
    steps: int
    epochs: int
    final: Snapshot


class TrainingJob:
    """The task the worker thread runs: it trains its own model and reports plain copies.

    Two things are shared with the GUI thread while it runs: ``refresh_steps``, which the GUI may
    change at any time (assigning an int is atomic), and ``snapshot_applied``, which the GUI sets
    once it has shown a snapshot.
    """

    def __init__(
        self,
        model: AE,
        config: TrainConfig,
        test_images: torch.Tensor,
        test_labels: torch.Tensor | None,
        refresh_steps: int,
    ) -> None:
        self.model = model
        self.config = config
        self.test_images = test_images
        self.test_labels = test_labels
        self.refresh_steps = refresh_steps
        self.snapshot_applied = threading.Event()
        self.snapshot_applied.set()
        self._context: TaskContext | None = None
        self._last: StepReport | None = None
        self._pending: tuple[list[float], list[float], list[float]] = ([], [], [])
        self._reported_at = 0.0
        self._snapshot_step = 0
        self._snapshot_seconds = 0.0  # how long the last snapshot took to make
        self._snapshot_made_at = 0.0
        self._rate_window: deque[tuple[float, int]] = deque()

    def __call__(self, context: TaskContext) -> RunOutcome:
        self._context = context
        import_torch_optimisers()
        dataset = training_data(self.config)
        trainer = Trainer(
            self.model, dataset, self.config, control=context.control, device=resolve_device(self.config.device)
        )
        trainer.on_step(self._on_step)
        trainer.on_step(ThreadGovernor().on_step)  # fewer threads while another program takes a core
        trainer.on_epoch(self._on_epoch)
        self.model.to(trainer.device)
        # The untrained model's map first, so the picture starts moving from where training starts.
        self._send_snapshot(0)
        self._rate_window.append((time.perf_counter(), 0))
        result = trainer.run()
        self._flush()
        return RunOutcome(result.status, result.message, result.steps, result.epochs, self._snapshot(result.steps))

    def _on_step(self, report: StepReport) -> None:
        for pending, value in zip(self._pending, (report.loss, report.recon, report.kl)):
            pending.append(value)
        self._last = report
        snapshot_due = (
            report.step - self._snapshot_step >= self.refresh_steps
            and self.snapshot_applied.is_set()
            and time.perf_counter() - self._snapshot_made_at >= self._snapshot_seconds / SNAPSHOT_TIME_SHARE
        )
        if snapshot_due or time.perf_counter() - self._reported_at >= REPORT_INTERVAL_S:
            self._flush()
        if snapshot_due:
            self._send_snapshot(report.step)

    def _on_epoch(self, report: EpochReport) -> None:
        self._flush()  # the history's steps must be complete before the epoch's test loss is placed
        step = self._last.step if self._last is not None else 0
        test = report.test
        assert self._context is not None
        self._context.report(
            EpochFigures(report.epoch, step, report.train_loss, test.loss, test.recon, test.kl, report.seconds)
        )

    def _flush(self) -> None:
        last, context = self._last, self._context
        if last is None or context is None or not self._pending[0]:
            return
        now = time.perf_counter()
        window = self._rate_window
        window.append((now, last.step))
        while len(window) > 2 and now - window[1][0] >= RATE_WINDOW_S:
            window.popleft()
        then, then_step = window[0]
        batch = self.config.batch_size
        rate = (last.step - then_step) * batch / (now - then) if now > then else last.samples_per_s
        eta = (last.total_steps - last.step) * batch / rate if rate > 0 else last.eta_s
        loss, recon, kl = (np.array(values, dtype=np.float64) for values in self._pending)
        context.report(
            StepFigures(
                last.step, last.total_steps, last.epoch, self.config.epochs, last.loss, last.recon, last.kl,
                last.beta, rate, eta, loss, recon, kl,
            )
        )
        for values in self._pending:
            values.clear()
        self._reported_at = now

    def _send_snapshot(self, step: int) -> None:
        assert self._context is not None
        self.snapshot_applied.clear()
        self._snapshot_step = step
        start = time.perf_counter()
        snapshot = self._snapshot(step)
        self._snapshot_made_at = time.perf_counter()
        self._snapshot_seconds = self._snapshot_made_at - start
        self._context.report(snapshot)

    def _snapshot(self, step: int) -> Snapshot:
        model = self.model
        weights = {name: value.detach().to("cpu", copy=True).numpy() for name, value in model.state_dict().items()}
        was_training = model.training
        model.eval()
        encoding = encode(model, self.test_images, self.test_labels)
        model.train(was_training)
        return Snapshot(step, weights, encoding)


@dataclass
class _Run:
    """The GUI thread's record of the run in progress."""

    trained: TrainedModel  # the GUI copy, shown by the other panels
    job: TrainingJob
    dataset: ImageDataset  # the data set whose test split the snapshots encode
    started: float = field(default_factory=time.perf_counter)
    fraction: float = 0.0
    progress_text: str = "starting…"
    stopping: bool = False


class _LogSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (the learning rate): the arrows step 1, 2, 5, 10, 20, …
    and typed values such as ``3e-4`` are accepted."""

    def __init__(self, minimum: float, maximum: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)  # QDoubleSpinBox rounds every value to its decimals
        self.setRange(minimum, maximum)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = _step_125(value, 1 if steps > 0 else -1)
        self.setValue(value)


def _step_125(value: float, direction: int) -> float:
    """The next value of the 1-2-5 sequence above (direction 1) or below (-1) ``value``."""
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if direction > 0:
        chosen = min(c for c in candidates if c > value * (1 + 1e-9))
    else:
        chosen = max(c for c in candidates if c < value * (1 - 1e-9))
    return float(f"{chosen:.3g}")




def _dataset_label(spec: str) -> str:
    if spec in DATASET_LABELS:
        return DATASET_LABELS[spec]
    prefix, _, path = spec.partition(":")
    return f"{'IDX' if prefix == 'idx' else 'Folder'}: {Path(path).name or path}"


def _dataset_short(spec: str) -> str:
    prefix, _, path = spec.partition(":")
    return Path(path).name if path and prefix in ("idx", "folder") else spec


class TrainingPanel(QWidget):
    """Training controls and the run itself; see the module docstring for the threading design."""

    def __init__(self, state: AppState, parent: QWidget | None = None, *, loader: DatasetLoader) -> None:
        super().__init__(parent)
        self.state = state
        self.loader = loader
        self.runner = TaskRunner(self)
        self._run: _Run | None = None
        self._syncing_combo = False
        self._loading_spec: str | None = None  # what the loader is loading now

        self._build_widgets()
        self._restore_settings()
        self._connect()
        self._sync_dataset_combo()
        self._update_controls()

    # -- construction ----------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.datasetCombo = QComboBox(objectName="datasetCombo")
        for spec in DATASET_CHOICES:
            self.datasetCombo.addItem(DATASET_LABELS.get(spec, spec), spec)
        self.datasetCombo.insertSeparator(self.datasetCombo.count())
        self.datasetCombo.addItem("Open folder…", OPEN_FOLDER)
        self.datasetCombo.setToolTip(
            "The images to learn from: a built-in set, or a folder of your own images or MNIST-style IDX files."
        )
        # Explicit line breaks rather than word wrap: a wrapping label in a scroll area gets its height wrong.
        self.datasetInfo = QLabel(objectName="datasetInfo")
        self.datasetInfo.setStyleSheet("color: palette(mid);")
        self.subsetSpin = QSpinBox(objectName="subsetSpin")
        self.subsetSpin.setRange(0, 10_000_000)
        self.subsetSpin.setSingleStep(1000)
        self.subsetSpin.setSpecialValueText("all")
        self.subsetSpin.setGroupSeparatorShown(True)
        self.subsetSpin.setToolTip(
            "Train on a random subset of this many training images (\"all\" uses every one): small subsets train fast."
        )

        self.modelKindCombo = QComboBox(objectName="modelKindCombo")
        for kind, label in KIND_ITEMS:
            self.modelKindCombo.addItem(label, kind)
        self.modelKindCombo.setCurrentIndex(1)
        self.modelKindCombo.setToolTip(
            "AE squeezes each image into one point; a VAE into a small cloud (a distribution) kept near the prior "
            "N(0, I), so any point of the space decodes to a plausible image; a conditional VAE also gets the class."
        )
        self.archCombo = QComboBox(objectName="archCombo")
        for arch, label in ARCH_ITEMS:
            self.archCombo.addItem(label, arch)
        self.archCombo.setToolTip(
            "MLP (fully connected) treats the image as a flat list of pixels; Conv uses convolutions that know "
            "which pixels are neighbours (slower on a CPU, sharper images)."
        )
        self.latentDimSpin = QSpinBox(objectName="latentDimSpin")
        self.latentDimSpin.setRange(1, MAX_LATENT_DIM)
        self.latentDimSpin.setValue(2)
        self.latentDimSpin.setToolTip(
            "How many numbers describe each image in the latent space: 2 can be drawn as a map exactly; more "
            "dimensions reconstruct better and are shown through a 2-D view plane."
        )

        self.likelihoodCombo = QComboBox(objectName="likelihoodCombo")
        for likelihood, label in LIKELIHOOD_ITEMS:
            self.likelihoodCombo.addItem(label, likelihood)
        self.likelihoodCombo.setToolTip(
            "How the reconstruction error is measured: Bernoulli (binary cross-entropy) suits mostly black-and-white "
            "images such as digits, Gaussian (squared error) suits greyscale or colour photos."
        )
        self.betaSpin = QDoubleSpinBox(objectName="betaSpin")
        self.betaSpin.setRange(0.0, 1000.0)
        self.betaSpin.setDecimals(3)
        self.betaSpin.setSingleStep(0.1)
        self.betaSpin.setValue(1.0)
        self.betaSpin.setToolTip(
            "β weighs the KL term against the reconstruction: above 1 the latent space is smoother and more "
            "disentangled but images blurrier; below 1 images are sharper but the space has gaps (β-VAE)."
        )
        self.warmupSpin = QDoubleSpinBox(objectName="warmupSpin")
        self.warmupSpin.setRange(0.0, 1000.0)
        self.warmupSpin.setDecimals(1)
        self.warmupSpin.setSingleStep(1.0)
        self.warmupSpin.setSuffix(" epochs")
        self.warmupSpin.setToolTip(
            "KL warm-up raises β from 0 to its value over this many epochs, so the encoder first learns to "
            "reconstruct before the KL term pulls codes to the prior (this helps avoid posterior collapse)."
        )
        self.corruptionCombo = QComboBox(objectName="corruptionCombo")
        for corruption, label in CORRUPTION_ITEMS:
            self.corruptionCombo.addItem(label, corruption)
        self.corruptionCombo.setToolTip(
            "Denoising: the model sees a corrupted image but must reconstruct the clean one, which makes it "
            "learn robust features instead of copying pixels."
        )
        self.noiseSpin = QDoubleSpinBox(objectName="noiseSpin")
        self.noiseSpin.setRange(0.01, 1.0)
        self.noiseSpin.setSingleStep(0.05)
        self.noiseSpin.setValue(0.3)
        self.noiseSpin.setToolTip(
            "How strong the corruption is, from 0 to 1 (noise level, fraction of pixels or area, share of a "
            "half turn)."
        )

        self.lrSpin = _LogSpinBox(1e-6, 10.0)
        self.lrSpin.setObjectName("lrSpin")
        self.lrSpin.setValue(1e-3)
        self.lrSpin.setToolTip(
            "The learning rate is the size of each optimiser step: too small learns slowly, too large makes the "
            "loss jump or blow up (1e-3 is a good start for Adam)."
        )
        self.batchSpin = QSpinBox(objectName="batchSpin")
        self.batchSpin.setRange(1, 8192)
        self.batchSpin.setValue(128)
        self.batchSpin.setToolTip(
            "Images per optimiser step: larger batches give smoother but fewer steps per epoch."
        )
        self.epochsSpin = QSpinBox(objectName="epochsSpin")
        self.epochsSpin.setRange(1, 10_000)
        self.epochsSpin.setValue(10)
        self.epochsSpin.setToolTip("One epoch is one pass over all the training images.")
        self.seedSpin = QSpinBox(objectName="seedSpin")
        self.seedSpin.setRange(0, 2**31 - 1)
        self.seedSpin.setValue(1)
        self.seedSpin.setToolTip(
            "The seed fixes the random start weights and the order of images, so the same settings train the "
            "same model again."
        )
        self.deviceCombo = QComboBox(objectName="deviceCombo")
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        auto = next((name for name in ("cuda", "mps") if available[name]), "cpu")
        self.deviceCombo.addItem(f"auto ({auto})", "auto")
        for name, is_available in available.items():
            self.deviceCombo.addItem(name if is_available else f"{name} (not available)", name)
            self.deviceCombo.model().item(self.deviceCombo.count() - 1).setEnabled(is_available)
        self.deviceCombo.setToolTip(
            "Where the arithmetic runs: a GPU (cuda, or mps on Apple) is much faster for large models."
        )

        self.refreshStepsSpin = QSpinBox(objectName="refreshStepsSpin")
        self.refreshStepsSpin.setRange(1, 100_000)
        self.refreshStepsSpin.setValue(50)
        self.refreshStepsSpin.setPrefix("every ")
        self.refreshStepsSpin.setSuffix(" steps")
        self.refreshStepsSpin.setToolTip(
            "How often the latent map and previews show the model being trained: more often is livelier but "
            "slows training a little (can be changed while training)."
        )

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

        self._forms: list[QFormLayout] = []
        data = self._group(
            "Data", [("Data set", self.datasetCombo), ("", self.datasetInfo), ("Train on", self.subsetSpin)]
        )
        model = self._group(
            "Model",
            [("Model", self.modelKindCombo), ("Architecture", self.archCombo), ("Latent size", self.latentDimSpin)],
        )
        objective = self._group(
            "Objective",
            [
                ("Likelihood", self.likelihoodCombo),
                ("β (KL weight)", self.betaSpin),
                ("KL warm-up", self.warmupSpin),
                ("Denoising", self.corruptionCombo),
                ("Noise level", self.noiseSpin),
            ],
        )
        optimisation = self._group(
            "Optimisation",
            [
                ("Learning rate", self.lrSpin),
                ("Batch size", self.batchSpin),
                ("Epochs", self.epochsSpin),
                ("Seed", self.seedSpin),
                ("Device", self.deviceCombo),
            ],
        )
        run = self._group("Run", [("Map refresh", self.refreshStepsSpin)])

        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        for group in (data, model, objective, optimisation):
            settings_layout.addWidget(group)
        settings_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        buttons = QHBoxLayout()
        for button in (self.trainButton, self.pauseButton, self.stopButton):
            buttons.addWidget(button)
        run_layout = run.layout()
        assert isinstance(run_layout, QFormLayout)
        run_layout.addRow(buttons)
        run_layout.addRow(self.statusLabel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(scroll, 1)
        layout.addWidget(run)  # outside the scroll area: the buttons are always in reach

        # Everything that shapes the model or its run; the map refresh alone may change mid-run.
        self._config_widgets: list[QWidget] = [
            self.datasetCombo, self.subsetSpin, self.modelKindCombo, self.archCombo, self.latentDimSpin,
            self.likelihoodCombo, self.betaSpin, self.warmupSpin, self.corruptionCombo, self.noiseSpin,
            self.lrSpin, self.batchSpin, self.epochsSpin, self.seedSpin, self.deviceCombo,
        ]  # fmt: skip

    def _group(self, title: str, rows: list[tuple[str, QWidget]]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in rows:
            if label:
                form.addRow(label, widget)
                form.labelForField(widget).setToolTip(widget.toolTip())
            else:
                form.addRow(widget)
        self._forms.append(form)
        return box

    def _connect(self) -> None:
        self.datasetCombo.currentIndexChanged.connect(self._on_dataset_chosen)
        self.modelKindCombo.currentIndexChanged.connect(self._update_controls)
        self.corruptionCombo.currentIndexChanged.connect(self._update_controls)
        self.refreshStepsSpin.valueChanged.connect(self._on_refresh_changed)
        self.trainButton.clicked.connect(self.start)
        self.pauseButton.toggled.connect(self._on_pause_toggled)
        self.stopButton.clicked.connect(self.stop)
        self.runner.progress.connect(self._on_report)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.loader.loading.connect(self._on_loading)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.runner.busy_changed.connect(self._update_controls)
        self.state.subscribe(Event.DATASET, self._on_dataset)
        self.state.subscribe(Event.MODELS, self._on_models)

    # -- public API ------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self._run is not None

    def start(self) -> None:
        """Build a new model from the controls and train it on the worker thread."""
        dataset = self.state.dataset
        if self._run is not None or dataset is None or self.loader.runner.busy:
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
        self._save_settings()
        self._run = _Run(trained, job, dataset)
        # Training is flagged before the model becomes current, so the map does not start an idle
        # encoding of the untrained model that could land after the first snapshot.
        self.state.set_training(True)
        self.state.add_model(trained)
        self.runner.start(job)
        self._show_progress(self._run)
        self._update_controls()

    def stop(self) -> None:
        """Ask the run to stop after the current step; what was trained is kept."""
        if self._run is None:
            return
        self._run.stopping = True
        self.runner.stop()
        self.statusLabel.setText("Stopping…")
        self._update_controls()

    def shutdown(self) -> None:
        """Stop and join the worker (the main window's closeEvent calls this); keeps what was trained."""
        self._save_settings()
        run, self._run = self._run, None
        self.runner.shutdown()
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
        prefix = f"{KIND_SHORT[kind]}{arch} z={self.latentDimSpin.value()} {_dataset_short(spec)} #"
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
            run.job.snapshot_applied.set()  # only now may the worker send the next one

    def _apply_steps(self, run: _Run, figures: StepFigures) -> None:
        history = run.trained.history
        history.step_loss.extend(figures.new_loss.tolist())
        history.step_recon.extend(figures.new_recon.tolist())
        history.step_kl.extend(figures.new_kl.tolist())
        if self.state.current is run.trained:
            self.state.history_changed()
        run.fraction = figures.step / max(figures.total_steps, 1)
        run.progress_text = (
            f"epoch {figures.epoch}/{figures.epochs} · {figures.samples_per_s:,.0f} samples/s · "
            f"ETA {format_duration(figures.eta_s)}"
        )
        self._show_progress(run)

    def _apply_epoch(self, run: _Run, figures: EpochFigures) -> None:
        history = run.trained.history
        history.epoch_train_loss.append(figures.train_loss)
        history.epoch_test_loss.append(figures.test_loss)
        history.epoch_test_recon.append(figures.test_recon)
        history.epoch_test_kl.append(figures.test_kl)
        history.epoch_end_step.append(figures.step)
        if self.state.current is run.trained:
            self.state.history_changed()

    def _apply_snapshot(self, run: _Run, snapshot: Snapshot) -> None:
        model = run.trained.model
        # from_numpy shares the message's private copy; load_state_dict copies it into the GUI model.
        model.load_state_dict({name: torch.from_numpy(value) for name, value in snapshot.weights.items()})
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

    def _end_run(self, run: _Run, text: str) -> None:
        run.trained.unsaved = True
        self.pauseButton.setChecked(False)
        self.statusLabel.setText(text)
        self.state.set_training(False)
        self.state.set_progress(None)
        self.state.models_changed()
        self._update_controls()

    def _show_progress(self, run: _Run) -> None:
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
            self.runner.pause()
        else:
            self.runner.resume()
        self._show_progress(self._run)

    def _on_refresh_changed(self, steps: int) -> None:
        if self._run is not None:
            self._run.job.refresh_steps = steps

    def _on_models(self) -> None:
        """Removing the model being trained ends its run: there is nothing left to show it in."""
        run = self._run
        if run is not None and not run.stopping and run.trained not in self.state.models:
            self.stop()

    # -- data set chooser ------------------------------------------------------------
    def _on_dataset_chosen(self, index: int) -> None:
        if self._syncing_combo:
            return
        spec = self.datasetCombo.itemData(index)
        if spec == OPEN_FOLDER:
            folder = QFileDialog.getExistingDirectory(self, "Open a folder of images or IDX files")
            if not folder:
                self._sync_dataset_combo()
                return
            spec = folder_spec(folder)
            self._select_spec(spec)
        current = self.state.dataset
        if current is not None and current.name == spec:
            return
        self.loader.load(spec)

    def _on_loading(self, spec: str) -> None:
        self._loading_spec = spec
        self.datasetInfo.setText(f"Loading {_dataset_label(spec)}…")
        self._update_controls()

    def _on_load_failed(self, _message: str) -> None:
        """The main window shows the loader's message; the chooser goes back to the data set in use."""
        failed, self._loading_spec = self._loading_spec, None
        # A custom entry that failed to load is dropped rather than left as a trap in the list.
        index = self.datasetCombo.findData(failed)
        if failed is not None and failed not in DATASET_CHOICES and index >= 0:
            self._syncing_combo = True
            self.datasetCombo.removeItem(index)
            self._syncing_combo = False
        self._sync_dataset_combo()
        self._update_controls()

    def _on_dataset(self) -> None:
        dataset = self.state.dataset
        if dataset is not None and dataset.name == self._loading_spec:
            self._loading_spec = None
        self._sync_dataset_combo()
        self._update_controls()

    def _select_spec(self, spec: str) -> None:
        """Show ``spec`` in the chooser, adding an entry for a folder (before the separator)."""
        index = self.datasetCombo.findData(spec)
        self._syncing_combo = True
        if index < 0:
            index = self.datasetCombo.count() - 2
            self.datasetCombo.insertItem(index, _dataset_label(spec), spec)
            self.datasetCombo.setItemData(index, spec.partition(":")[2], Qt.ItemDataRole.ToolTipRole)
        self.datasetCombo.setCurrentIndex(index)
        self._syncing_combo = False

    def _sync_dataset_combo(self) -> None:
        """The chooser follows the data set in use (including one loaded for a model or from the File menu)."""
        dataset = self.state.dataset
        if dataset is not None:
            self._select_spec(dataset.name)
            shape = "×".join(map(str, dataset.image_shape))
            classes = f" · {dataset.num_classes} classes" if dataset.labelled else " · unlabelled"
            self.datasetInfo.setText(
                f"{len(dataset.train_images):,} training · {len(dataset.test_images):,} test images\n{shape}{classes}"
            )
        elif self._loading_spec is None:
            self.datasetInfo.setText("No data set loaded.")

    # -- enabling ----------------------------------------------------------------------
    def _update_controls(self) -> None:
        idle = self._run is None
        for widget in self._config_widgets:
            self._set_enabled(widget, idle)
        variational = self.modelKindCombo.currentData() != "ae"
        self._set_enabled(self.betaSpin, idle and variational)
        self._set_enabled(self.warmupSpin, idle and variational)
        self._set_enabled(self.noiseSpin, idle and self.corruptionCombo.currentData() != "none")
        self._update_conditional_choice()

        loading = self.loader.runner.busy
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

    def _set_enabled(self, widget: QWidget, enabled: bool) -> None:
        """Enable a control and its form label together, so a disabled row reads as disabled."""
        widget.setEnabled(enabled)
        for form in self._forms:
            label = form.labelForField(widget)
            if label is not None:
                label.setEnabled(enabled)

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

    # -- settings ----------------------------------------------------------------------
    def _setting_widgets(self) -> dict[str, QWidget]:
        return {
            "subset": self.subsetSpin,
            "kind": self.modelKindCombo,
            "arch": self.archCombo,
            "latent_dim": self.latentDimSpin,
            "likelihood": self.likelihoodCombo,
            "beta": self.betaSpin,
            "warmup_epochs": self.warmupSpin,
            "corruption": self.corruptionCombo,
            "noise_level": self.noiseSpin,
            "lr": self.lrSpin,
            "batch_size": self.batchSpin,
            "epochs": self.epochsSpin,
            "seed": self.seedSpin,
            "device": self.deviceCombo,
            "refresh_steps": self.refreshStepsSpin,
        }

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.beginGroup(SETTINGS_GROUP)
        for key, widget in self._setting_widgets().items():
            if isinstance(widget, QComboBox):
                settings.setValue(key, widget.currentData())
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                settings.setValue(key, widget.value())
        settings.endGroup()

    def _restore_settings(self) -> None:
        settings = QSettings()
        settings.beginGroup(SETTINGS_GROUP)
        for key, widget in self._setting_widgets().items():
            value = settings.value(key)
            if value is None:
                continue
            # Settings files can be edited or come from another version: a bad value keeps the default.
            try:
                if isinstance(widget, QComboBox):
                    index = widget.findData(str(value))
                    if index >= 0 and widget.model().item(index).isEnabled():
                        widget.setCurrentIndex(index)
                elif isinstance(widget, QDoubleSpinBox):
                    widget.setValue(float(value))
                elif isinstance(widget, QSpinBox):
                    widget.setValue(int(value))
            except (TypeError, ValueError):
                continue
        settings.endGroup()
