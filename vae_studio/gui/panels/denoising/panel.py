"""Denoising: corrupt test images, see what the model makes of them, and measure it in PSNR.

A batch of test images is corrupted once (seeded) and reconstructed by the current model and,
optionally, a second model on the very same corrupted inputs (core.denoising.compare_denoising), so
a denoising autoencoder (trained with the training panel's corruption) and a plain one compare
image by image. The work is small (a few hundred images) and runs off the GUI thread with only the
newest request kept, so the strength slider stays live. A new model, new weights (a training
refresh) or another data set recompute it once per event-loop turn, and only while the panel is on
screen (gui/deferred_refresh.py).

A user's own picture, drawn on the canvas or loaded from a file, is prepared like an MNIST digit
(core.denoising), reconstructed, and its posterior mean becomes the latent map's probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ....core.app_state import AppState, Event
from ....core.compatibility import can_run_on
from ....core.denoising import DenoisingResult, UserImage, compare_denoising
from ....core.denoising_advice import clean_model_explanation, denoising_training_settings
from ....core.errors import VaeStudioError
from ....core.models import AE
from ....core.subsets import sample_indices
from ....core.trained_model import TrainedModel
from ....core.vocabulary import CORRUPTION_CHOICES, choice
from ...work.deferred_refresh import DeferredRefresh
from ...work.private_copies import detached
from ...work.tasks import Task
from .captions import NO_MODEL, format_db, model_labels, models_legend
from .layout import LEVEL_STEPS, DenoisingLayout
from .user_image import UserImageSection
from ..base import Panel

# PSNR means are taken over this many test images (a seeded random sample); the grid shows the first rows.
MEASURE_IMAGES = 500


@dataclass(frozen=True)
class _Request:
    """What one computation was for, so a result that arrives late for old settings is recognisable."""

    models: tuple[TrainedModel, ...]
    kind: str
    level: float
    seed: int


class DenoisingPanel(DenoisingLayout, UserImageSection, Panel):
    """Corruption, strength and a second model to compare; the clean/corrupted/reconstructed grid with
    PSNRs; and the user's own image."""

    name = "denoising"
    # Training settings of a denoising VAE (core.denoising_advice) for the window to apply and start.
    train_denoising_requested = Signal(dict)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.results: list[DenoisingResult] = []
        self.indices = np.zeros(0, dtype=np.int64)  # test images of the batch (the grid shows the first rows)
        self.seed = 0  # "New images" draws another batch and another corruption
        self.user_image: UserImage | None = None
        self._user_source = ""  # "your drawing" or a file name
        self._request: _Request | None = None
        self._defaults_model: TrainedModel | None = None  # the model whose training corruption was last applied
        self._copies: dict[int, AE] = {}  # private copies of the models for the worker, by id
        self._my_probe: np.ndarray | None = None  # the probe this panel set (the user image's μ)
        self._setting_probe = False
        self._captions: list[str] = []

        self._task = Task(self, newest_wins=True)
        self._task.finished.connect(self._on_results)
        self._task.failed.connect(lambda message: QMessageBox.warning(self, "Denoising failed", message))

        self._build_widgets()
        self._updates = DeferredRefresh(self, self._on_state)
        self.subscribe(self._on_model, Event.CURRENT_MODEL, Event.WEIGHTS)
        self.subscribe(self._on_models, Event.MODELS)
        self.subscribe(self._updates.request, Event.DATASET)
        self.subscribe(self._on_probe, Event.PROBE)
        self._updates.request()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """None: the panel takes the height its dock has, and its thumbnails scale to it. The layout's
        height-for-width (it has word-wrapped labels) adds up preferred sizes, and the dock's scroll area
        would make the panel that tall, pushing the PSNR summary out of view."""
        return -1

    # -- public --------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return str(self.corruptionCombo.currentData())

    @property
    def level(self) -> float:
        return self.levelSlider.value() / LEVEL_STEPS

    def compared_model(self) -> TrainedModel | None:
        """The second model chosen in the combo (None: the current model alone)."""
        data = self.compareCombo.currentData()
        return next((m for m in self.state.models if id(m) == data), None)

    def psnr_captions(self) -> list[str]:
        """The captions under the grid's cells (row-major): PSNR against the clean image."""
        return list(self._captions)

    def new_images(self) -> None:
        self.seed += 1
        self.refresh()

    def refresh(self) -> None:
        """Corrupt and reconstruct the batch for the current settings (in the background; newest wins)."""
        current, dataset = self.state.current, self.state.dataset
        trained = self._shown_models()
        problem = self._incompatibility(trained)
        if problem is not None or current is None or dataset is None:
            self._request = None
            self.results = []
            self._captions = []
            self.gridView.set_images(None)
            self.gridView.set_placeholder(problem or NO_MODEL)
            self.psnrLabel.setText("")
            self.modelsLabel.setText("")
            self.adviceBox.hide()
            return
        models = [self._copy(m) for m in trained]
        n = len(dataset.test_images)
        indices = sample_indices(n, MEASURE_IMAGES, self.seed)
        images = dataset.test_images[indices]
        # The test labels go to every model: a conditional one uses them, the others ignore them.
        labels = None if dataset.test_labels is None else dataset.test_labels[indices]
        request = _Request(tuple(trained), self.kind, self.level, self.seed)
        binarize = current.train_config.binarize
        self._request = request
        self.indices = indices.numpy()

        def compute() -> tuple[_Request, list[DenoisingResult]]:
            return request, compare_denoising(
                models, images, request.kind, request.level, labels=labels, binarize=binarize, seed=request.seed
            )

        # Shown until the first batch arrives (a grid already shown stays until it is replaced).
        self.gridView.set_placeholder(f"Corrupting and reconstructing {MEASURE_IMAGES:,} test images…")
        self._task.request(compute, background=True)

    # -- the test batch ------------------------------------------------------------------
    def _shown_models(self) -> list[TrainedModel]:
        """The current model, then the one to compare with (if any)."""
        current, other = self.state.current, self.compared_model()
        return [m for m in (current, other) if m is not None]

    def _incompatibility(self, models: list[TrainedModel]) -> str | None:
        """Why the batch cannot be shown (no model, no data, a data set the model cannot read), or None."""
        current, dataset = self.state.current, self.state.dataset
        if current is None:
            return NO_MODEL
        if dataset is None:
            return "Loading the data set…"
        return next((problem for trained in models if (problem := can_run_on(trained, dataset))), None)

    def _copy(self, trained: TrainedModel) -> AE:
        """A private copy for the worker, made once per weights (the GUI copy changes in place while training)."""
        key = id(trained)
        if key not in self._copies:
            self._copies[key] = detached(trained.model)
        return self._copies[key]

    def _on_results(self, message: tuple[_Request, list[DenoisingResult]]) -> None:
        request, results = message
        if request is not self._request:
            return  # settings changed since; the newer request's result follows
        self.results = results
        self._show_results()

    def _show_results(self) -> None:
        request, results = self._request, self.results
        if request is None or not results:
            return
        rows = min(self.rowsSpin.value(), len(results[0].clean))
        first = results[0]
        columns = [first.clean[:rows], first.corrupted[:rows]] + [r.reconstructed[:rows] for r in results]
        grid = np.stack(columns, axis=1)
        # Bare numbers: a cell is only two or three thumbnails wide; the unit is in the summary below.
        self._captions = []
        for i in range(rows):
            self._captions += ["", format_db(first.psnr_before[i], unit=False)]
            self._captions += [format_db(r.psnr_after[i], unit=False) for r in results]
        labels = model_labels(len(results))
        self.gridView.set_images(grid, column_labels=["clean", "corrupted", *labels], captions=self._captions)
        parts = [f"corrupted {format_db(first.mean_psnr_before)}"]
        for label, result in zip(labels, results):
            gain = result.mean_psnr_after - result.mean_psnr_before
            gain_text = "" if np.isinf(gain) or np.isnan(gain) else f" ({gain:+.1f})"
            parts.append(f"{label} {format_db(result.mean_psnr_after)}{gain_text}")
        self.psnrLabel.setText(
            f"PSNR against the clean image, under each picture; mean over {len(first.clean):,} test images: "
            + " · ".join(parts)
        )
        self.psnrLabel.setToolTip(
            "Peak signal-to-noise ratio, 10·log10(1 / MSE) with pixels from 0 to 1: higher is closer to the clean "
            "image. The mean is over a random sample of the test split; the grid shows its first images."
        )
        self.modelsLabel.setText(models_legend(request.models))
        advice = clean_model_explanation(
            request.models[0].train_config.corruption, first.mean_psnr_before, first.mean_psnr_after
        )
        self.adviceLabel.setText(advice or "")
        self.adviceBox.setVisible(advice is not None)

    def request_denoising_training(self) -> None:
        """Ask the window to train a denoising VAE like the current model, on this corruption and strength."""
        current = self.state.current
        if current is None:
            return
        try:
            settings = denoising_training_settings(current.config, current.train_config, self.kind, self.level)
        except VaeStudioError as exc:  # a strength of 0: nothing to learn to remove
            QMessageBox.warning(self, "Cannot train a denoising VAE", str(exc))
            return
        self.train_denoising_requested.emit(settings)

    # -- state ---------------------------------------------------------------------------
    def _on_settings(self) -> None:
        self._show_level()
        self.refresh()

    def _on_compare(self) -> None:
        self.refresh()
        self._reconstruct_user_image()

    def _show_level(self) -> None:
        self.levelLabel.setText(f"{self.level:.2f}")
        self.levelSlider.setToolTip(f"Strength from 0 to 1: {choice(CORRUPTION_CHOICES, self.kind).help}")

    def _on_state(self) -> None:
        """Another model, new weights or another data set: fresh copies, the corruption a new model trained
        with, and recomputed views."""
        self._copies.clear()
        current = self.state.current
        if current is not None and current.train_config.corruption != "none" and current is not self._defaults_model:
            # A denoising model is first shown on the corruption it learnt to remove.
            with QSignalBlocker(self.corruptionCombo), QSignalBlocker(self.levelSlider):
                self.corruptionCombo.setCurrentIndex(self.corruptionCombo.findData(current.train_config.corruption))
                self.levelSlider.setValue(round(current.train_config.noise_level * LEVEL_STEPS))
            self._show_level()
        self._defaults_model = current
        self._fill_compare_combo()
        self.refresh()
        self._reconstruct_user_image()

    def _on_model(self) -> None:
        """Another model or new weights: the user image's μ stays the probe at once (the map and the preview
        show it, on screen or not), and this panel's views are recomputed when it is on screen."""
        if self._my_probe is not None:
            mu = self._user_image_code()
            if mu is not None:
                self._set_probe(mu)
        self._updates.request()

    def _on_models(self) -> None:
        """A model added, renamed or removed: the choice of models follows at once (it is cheap)."""
        self._copies.clear()  # a model may have been removed or replaced
        if self._fill_compare_combo():
            self._updates.request()  # the compared model is gone
        else:
            self._updates.now_or_when_shown(self._show_results)  # a renamed model's new name in the legend

    def _fill_compare_combo(self) -> bool:
        """Every other model for the same image shape; keeps the choice while it is still there (else True)."""
        chosen = self.compareCombo.currentData()
        current = self.state.current
        with QSignalBlocker(self.compareCombo):
            self.compareCombo.clear()
            self.compareCombo.addItem("— none —", None)
            for trained in self.state.models:
                if trained is current or current is None or trained.config.image_shape != current.config.image_shape:
                    continue
                self.compareCombo.addItem(trained.name, id(trained))
                self.compareCombo.setItemData(self.compareCombo.count() - 1, trained.describe(), Qt.ItemDataRole.ToolTipRole)
            index = self.compareCombo.findData(chosen)
            self.compareCombo.setCurrentIndex(max(index, 0))
        return self.compareCombo.currentData() != chosen
