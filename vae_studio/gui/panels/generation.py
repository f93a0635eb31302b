"""Generation: decode random points of the prior N(0, I), the way a VAE makes new images.

A temperature scales the sampling σ: at 0 every sample is the prior's mean (all pictures alike),
at 1 the prior itself, above 1 points from the tails where the decoder saw little training. The
same seed at another temperature scales the same draws, so moving the slider morphs each picture
rather than replacing it. A conditional VAE generates the class chosen here. New weights (a training
refresh) redraw the grid once per event-loop turn, and only while the panel is on screen.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.interpolation import save_png
from ...core.latent import decode, sample_prior
from ..work.deferred_refresh import DeferredRefresh
from ..export_files import export_images, export_stem
from ..widgets.image_grid import ImageGridView
from ..work.private_copies import decode_in_background, detached
from ..work.tasks import Task
from ..widgets.labels import note_label
from .base import Panel

DEFAULT_GRID = 8
MAX_GRID = 12
TEMPERATURE_STEP = 0.05  # the slider's resolution
MAX_TEMPERATURE = 2.0
EXPORT_SCALE = 2


class GenerationPanel(Panel):
    """A grid of decoded prior samples with a temperature, a new-samples button and a class chooser."""

    name = "generation"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.seed = 0
        self._task = Task(self, newest_wins=True)
        self._task.finished.connect(self._show)
        self._task.failed.connect(lambda message: QMessageBox.warning(self, "Generation failed", message))

        self.gridSpin = QSpinBox(objectName="gridSpin")
        self.gridSpin.setRange(1, MAX_GRID)
        self.gridSpin.setValue(DEFAULT_GRID)
        self.gridSpin.setToolTip("Pictures per side of the grid")
        self.temperatureSlider = QSlider(Qt.Orientation.Horizontal, objectName="temperatureSlider")
        self.temperatureSlider.setRange(0, round(MAX_TEMPERATURE / TEMPERATURE_STEP))
        self.temperatureSlider.setValue(round(1.0 / TEMPERATURE_STEP))
        self.temperatureSlider.setToolTip(
            "Scales the spread of the samples: 0 decodes only the prior's centre, 1 samples the prior N(0, I),\n"
            "above 1 reaches the tails, where the decoder saw few training codes."
        )
        self.temperatureLabel = QLabel(objectName="temperatureLabel")
        self.temperatureLabel.setMinimumWidth(self.temperatureLabel.fontMetrics().horizontalAdvance("T = 0.00") + 4)
        self.newSamplesButton = QPushButton("New samples", objectName="newSamplesButton")
        self.newSamplesButton.setToolTip("Draw new points from the prior")
        self.classLabel = QLabel("Class")
        self.classCombo = QComboBox(objectName="generationClassCombo")
        self.classCombo.setToolTip("The class the conditional VAE is asked to generate")
        self.exportButton = QPushButton("Export…", objectName="generationExportButton")
        self.exportButton.setToolTip("Save the grid as a PNG image")
        # As tall as the grid at the width it gets, with the caption and export right under it.
        self.sampleView = ImageGridView("No model yet: train one or open a checkpoint.", height_for_width=True)
        self.sampleView.setObjectName("sampleView")
        self.sampleView.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.captionLabel = note_label("captionLabel", wrap=True)

        self._lay_out()

        self.gridSpin.valueChanged.connect(self.refresh)
        self.temperatureSlider.valueChanged.connect(self.refresh)
        self.classCombo.currentIndexChanged.connect(self.refresh)
        self.newSamplesButton.clicked.connect(self.new_samples)
        self.exportButton.clicked.connect(self.export_png)
        self._updates = DeferredRefresh(self, self._on_model)
        self.subscribe(self._updates.request, Event.CURRENT_MODEL, Event.WEIGHTS)
        self._on_model()

    def _lay_out(self) -> None:
        """The controls over the grid, the caption and export under it."""
        top = QHBoxLayout()
        top.addWidget(QLabel("Grid"))
        top.addWidget(self.gridSpin)
        top.addWidget(self.classLabel)
        top.addWidget(self.classCombo, 1)
        top.addStretch(0)
        top.addWidget(self.newSamplesButton)
        temperature = QHBoxLayout()
        temperature.addWidget(QLabel("Temperature"))
        temperature.addWidget(self.temperatureSlider, 1)
        temperature.addWidget(self.temperatureLabel)
        bottom = QHBoxLayout()
        bottom.addWidget(self.captionLabel, 1)
        bottom.addWidget(self.exportButton, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(temperature)
        layout.addWidget(self.sampleView)
        layout.addLayout(bottom)
        layout.addStretch(1)

    @property
    def temperature(self) -> float:
        return self.temperatureSlider.value() * TEMPERATURE_STEP

    def new_samples(self) -> None:
        self.seed += 1
        self.refresh()

    def export_png(self) -> None:
        images = self.sampleView.images()
        if images is None:
            return
        export_images(
            self, "Export generated samples", export_stem(self.state, "samples"), ".png",
            lambda path: save_png(images, path, scale=EXPORT_SCALE),
        )  # fmt: skip

    def _on_model(self) -> None:
        """A conditional model needs a class; the chooser lists the model's own classes."""
        current = self.state.current
        names = list(current.class_names) if current is not None and current.config.conditional else []
        if not names and current is not None and current.config.conditional:
            names = [str(i) for i in range(current.config.num_classes)]
        if [self.classCombo.itemText(i) for i in range(self.classCombo.count())] != names:
            with QSignalBlocker(self.classCombo):
                self.classCombo.clear()
                self.classCombo.addItems(names)
        self.classCombo.setVisible(bool(names))
        self.classLabel.setVisible(bool(names))
        self.refresh()

    def refresh(self) -> None:
        """Decode the grid for the current settings (new weights during training redraw it live)."""
        temperature = self.temperature
        self.temperatureLabel.setText(f"T = {temperature:.2f}")
        current = self.state.current
        if current is None:
            self._task.cancel()
            self.sampleView.set_images(None)
            self.exportButton.setEnabled(False)
            self.captionLabel.setText("")
            return
        size = self.gridSpin.value()
        label = self.classCombo.currentIndex() if current.config.conditional else None
        z = sample_prior(current.config.latent_dim, size * size, temperature, seed=self.seed)
        background = decode_in_background(current.model, len(z))
        model = detached(current.model) if background else current.model

        def generate() -> np.ndarray:
            images = decode(model, z, label)
            return images.reshape(size, size, *images.shape[1:])

        self._task.request(generate, background=background)
        as_class = f" as class {self.classCombo.currentText()}" if label is not None else ""
        self.captionLabel.setText(
            f"{size * size} points z ~ N(0, {temperature:.2f}² I) from the prior (seed {self.seed}), decoded{as_class}."
        )

    def _show(self, images: np.ndarray) -> None:
        self.sampleView.set_images(images)
        self.exportButton.setEnabled(True)
