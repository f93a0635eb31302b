"""One end of an interpolation path, chosen in one row: a map point, a test image, a class mean or a prior sample."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from ...widgets.labels import note_label
from ...widgets.layouts import row

THUMB_SCALE = 1  # thumbnails at their own size keep the endpoint rows low


SOURCES = (("map", "Map point"), ("image", "Test image"), ("class", "Class mean"), ("prior", "Prior sample"))


def _format_z(z: np.ndarray, limit: int = 4) -> str:
    shown = ", ".join(f"{v:.2f}" for v in z[:limit])
    return f"z = [{shown}{', …' if len(z) > limit else ''}]"


class EndpointBox(QFrame):
    """Where one end of the path comes from, in one row; the panel turns the choice into a latent vector."""

    changed = Signal()
    fromMapRequested = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.map_point: np.ndarray | None = None
        self.prior_seed = 0
        self.sourceCombo = QComboBox(objectName=f"endpoint{name}SourceCombo")
        for key, label in SOURCES:
            self.sourceCombo.addItem(label, key)
        self.sourceCombo.setToolTip(
            "Map point: a point clicked on the latent map · Test image: the posterior mean μ of a test image · "
            "Class mean: the average μ of a class · Prior sample: a random draw from N(0, I)"
        )
        self.mapButton = QPushButton("From map", objectName=f"endpoint{name}MapButton")
        self.mapButton.setToolTip("Take the point last clicked on the latent map (a clicked dot gives its image's μ)")

        self.mapLabel = note_label(f"endpoint{name}MapLabel", "click the map first")
        self.indexSpin = QSpinBox(objectName=f"endpoint{name}IndexSpin")
        self.indexSpin.setPrefix("#")
        self.indexSpin.setToolTip("Index of the test image whose μ is this end of the path")
        self.thumbLabel = QLabel(objectName=f"endpoint{name}ThumbLabel")
        self.classCombo = QComboBox(objectName=f"endpoint{name}ClassCombo")
        self.classCombo.setToolTip("The mean μ over the test images of this class")
        self.newSampleButton = QPushButton("New sample", objectName=f"endpoint{name}NewSampleButton")
        self.newSampleButton.setToolTip("Draw another point from the prior N(0, I)")

        self.stack = QStackedWidget()
        for page in (self.mapLabel, row(self.indexSpin, self.thumbLabel), self.classCombo, self.newSampleButton):
            self.stack.addWidget(page)
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        # One row: the panel usually sits in a low bottom dock.
        title = QLabel(f"<b>{name}</b>")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.sourceCombo)
        layout.addWidget(self.stack)
        layout.addWidget(self.mapButton)

        self.sourceCombo.currentIndexChanged.connect(self._on_source)
        self.indexSpin.valueChanged.connect(self.changed)
        self.classCombo.currentIndexChanged.connect(self.changed)
        self.newSampleButton.clicked.connect(self._new_sample)
        self.mapButton.clicked.connect(self.fromMapRequested)

    def show_code(self, z: np.ndarray | None) -> None:
        """The latent vector this end stands for, shown on hover."""
        self.setToolTip("" if z is None else f"{self.name}: {_format_z(z, limit=8)}")

    @property
    def source(self) -> str:
        return str(self.sourceCombo.currentData())

    def set_source(self, source: str) -> None:
        self.sourceCombo.setCurrentIndex(self.sourceCombo.findData(source))

    def set_map_point(self, z: np.ndarray) -> None:
        self.map_point = np.array(z, dtype=np.float64)
        self.mapLabel.setText(_format_z(self.map_point))
        with QSignalBlocker(self.sourceCombo):
            self.set_source("map")
        self.stack.setCurrentIndex(0)
        self.changed.emit()

    def set_image(self, index: int) -> None:
        with QSignalBlocker(self.sourceCombo), QSignalBlocker(self.indexSpin):
            self.set_source("image")
            self.indexSpin.setValue(index)
        self.stack.setCurrentIndex(1)
        self.changed.emit()

    def _on_source(self) -> None:
        self.stack.setCurrentIndex(self.sourceCombo.currentIndex())
        self.changed.emit()

    def _new_sample(self) -> None:
        self.prior_seed += 1
        self.changed.emit()
