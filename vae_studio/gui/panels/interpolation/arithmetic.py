"""The interpolation panel's latent-arithmetic tab: add the vector between two class means, two points or the
images with and without a listed attribute (core/attributes.py) to an image's code (a mixin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ....core.app_state import Event
from ....core.attributes import (
    DEFAULT_MAX_IMAGES,
    AttributeTable,
    AttributeVectors,
    attribute_vectors,
    folder_attribute_table,
    table_images,
)
from ....core.errors import DataError
from ....core.interpolation import Arithmetic, latent_arithmetic
from ....core.trained_model import TrainedModel
from ...widgets.image_grid import ImageGridView
from ...widgets.images import to_qpixmap
from ...work.private_copies import decode_in_background, detached
from ...work.tasks import Task
from ...widgets.labels import note_label
from ...widgets.layouts import row
from .endpoint_box import THUMB_SCALE

# The Vector combo's data for an attribute's entry: this prefix and the attribute's name.
ATTRIBUTE = "attribute:"


class ArithmeticTab:
    """The latent-arithmetic tab of InterpolationPanel: base image + (class, point or attribute difference) vector."""

    # -- arithmetic tab ----------------------------------------------------------------------
    def _build_arithmetic_tab(self) -> QWidget:
        """The image and vector form beside the pictures of the image plus growing multiples of the vector."""
        self._make_arithmetic_controls()
        base_row = QHBoxLayout()
        base_row.addWidget(self.baseSpin)
        base_row.addWidget(self.useSelectedButton)
        base_row.addWidget(self.baseThumb)
        base_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Image", base_row)
        form.addRow("Vector", self.vectorCombo)
        form.addRow("From class", self.fromClassCombo)
        form.addRow("To class", self.toClassCombo)
        form.addRow("Strength up to", self.strengthSpin)
        form.addRow("Pictures", self.countSpin)
        self._arithmetic_form = form
        controls = QVBoxLayout()
        controls.addLayout(form)
        controls.addStretch(1)

        right = QVBoxLayout()
        right.addWidget(self.arithmeticView, 1)
        right.addWidget(self.arithmeticLabel)
        return row(controls, (right, 1), margins=(2, 4, 2, 2))

    def _make_arithmetic_controls(self) -> None:
        """The arithmetic tab's widgets, each change redrawing the pictures."""
        self.baseSpin = QSpinBox(objectName="baseSpin")
        self.baseSpin.setPrefix("#")
        self.baseSpin.setToolTip("The test image whose code the vector is added to")
        self.baseThumb = QLabel(objectName="baseThumb")
        self.useSelectedButton = QPushButton("Selected", objectName="useSelectedButton")
        self.useSelectedButton.setToolTip("Use the test image selected on the latent map")
        self.useSelectedButton.clicked.connect(self._use_selected_base)
        self.vectorCombo = QComboBox(objectName="vectorCombo")
        self.vectorCombo.addItem("From one class mean to another", "classes")
        self.vectorCombo.addItem("From A to B of the path", "path")
        # A folder data set with an attribute table adds one entry per attribute (_configure_attributes).
        self._attribute_table_read = False  # for the data set in the state
        self._attribute_table: tuple[Path, AttributeTable] | None = None
        self._attribute_problem = ""  # why the table could not be read
        self._attribute_vectors: AttributeVectors | None = None
        self._attribute_requested = False
        self._attribute_error = ""  # why the means could not be computed for this model and weights
        # Encoding the listed images takes seconds: once per model and weights, on a worker.
        self._attribute_task = Task(self, newest_wins=True)
        self._attribute_task.finished.connect(self._store_attribute_vectors)
        self._attribute_task.failed.connect(self._attribute_failed)
        self.subscribe(self._drop_attribute_vectors, Event.CURRENT_MODEL, Event.WEIGHTS, Event.DATASET)
        self.subscribe(self._forget_attribute_table, Event.DATASET)
        self.fromClassCombo = QComboBox(objectName="fromClassCombo")
        self.toClassCombo = QComboBox(objectName="toClassCombo")
        self.strengthSpin = QDoubleSpinBox(objectName="strengthSpin")
        self.strengthSpin.setRange(0.1, 5.0)
        self.strengthSpin.setSingleStep(0.25)
        self.strengthSpin.setValue(1.5)
        self.strengthSpin.setToolTip("The largest multiple of the vector added (1: the whole difference)")
        self.countSpin = QSpinBox(objectName="countSpin")
        self.countSpin.setRange(2, 16)
        self.countSpin.setValue(7)
        self.countSpin.setToolTip("How many strengths from 0 to the largest")
        for signal in (
            self.baseSpin.valueChanged,
            self.vectorCombo.currentIndexChanged,
            self.fromClassCombo.currentIndexChanged,
            self.toClassCombo.currentIndexChanged,
            self.strengthSpin.valueChanged,
            self.countSpin.valueChanged,
        ):
            signal.connect(self._update_arithmetic)
        self.arithmeticView = ImageGridView("Choose an image and a vector.")
        self.arithmeticView.setObjectName("arithmeticView")
        self.arithmeticLabel = note_label("arithmeticLabel", wrap=True)

    # -- latent arithmetic -----------------------------------------------------------------
    def _use_selected_base(self) -> None:
        if self.state.selected_index is not None:
            self.baseSpin.setValue(self.state.selected_index)

    def _update_arithmetic(self) -> None:
        choice = self.vectorCombo.currentData()
        by_class = choice == "classes"
        for combo in (self.fromClassCombo, self.toClassCombo):
            combo.setEnabled(by_class)
            self._arithmetic_form.labelForField(combo).setEnabled(by_class)
        if by_class:
            vector = "μ(to class) − μ(from class)"
        elif choice == "path":
            vector = "B − A"
        else:
            vector = f"μ(with {choice.removeprefix(ATTRIBUTE)}) − μ(without)"
        problem = f"<br>{self._attribute_problem}" if self._attribute_problem else ""
        self.arithmeticLabel.setText(
            f"Each picture decodes <i>z</i> = μ(image) + <i>s</i> · ({vector}) for the strength <i>s</i> above it. "
            f"If the space is well organised, the same offset changes the same property of any image.{problem}"
        )
        trained, why = self._usable_model()
        dataset = self.state.dataset
        self.baseThumb.clear()
        if trained is None or dataset is None or len(dataset.test_images) == 0:
            self._clear_arithmetic(why or "The data set has no test images.")
            return
        index = self.baseSpin.value()
        self.baseThumb.setPixmap(to_qpixmap(dataset.test_images[index].numpy(), THUMB_SCALE))
        if by_class:
            start, why = self._class_code(self.fromClassCombo.currentIndex())
            end, why_end = self._class_code(self.toClassCombo.currentIndex())
            why = why or why_end
        elif choice == "path":
            start, why = self._endpoint_code(trained, self.endpointA)
            end, why_end = self._endpoint_code(trained, self.endpointB)
            why = why or why_end
        else:
            start, end, why = self._attribute_means(trained, choice.removeprefix(ATTRIBUTE))
        if start is None or end is None:
            self._clear_arithmetic(why)
            return
        base = self._image_code(trained, index)
        strengths = np.linspace(0.0, self.strengthSpin.value(), self.countSpin.value())
        # A conditional model keeps the chosen image's class, so only the latent code changes.
        label = int(dataset.test_labels[index]) if trained.config.conditional and dataset.test_labels is not None else None
        background = decode_in_background(trained.model, len(strengths))
        model = detached(trained.model) if background else trained.model
        self._arithmetic_task.request(
            lambda: latent_arithmetic(model, base, start, end, strengths, label), background=background
        )

    # -- attribute vectors --------------------------------------------------------------------
    def _configure_attributes(self) -> None:
        """One Vector entry per attribute of the table beside a ``folder:`` data set's images."""
        if self._attribute_table_read:
            return
        self._attribute_table_read, self._attribute_table, self._attribute_problem = True, None, ""
        dataset = self.state.dataset
        try:
            self._attribute_table = folder_attribute_table(dataset.name) if dataset is not None else None
        except DataError as exc:
            self._attribute_problem = str(exc)
        names = self._attribute_table[1].names if self._attribute_table is not None else ()
        with QSignalBlocker(self.vectorCombo):
            chosen = self.vectorCombo.currentData()
            for i in reversed(range(self.vectorCombo.count())):
                if self.vectorCombo.itemData(i) not in ("classes", "path"):
                    self.vectorCombo.removeItem(i)
            for name in names:
                self.vectorCombo.addItem(f"Attribute: {name}", ATTRIBUTE + name)
            # A data set without the chosen attribute falls back to the first entry.
            self.vectorCombo.setCurrentIndex(max(self.vectorCombo.findData(chosen), 0))

    def _attribute_means(
        self, trained: TrainedModel, name: str
    ) -> tuple[np.ndarray | None, np.ndarray | None, str]:
        """μ without and with the attribute, or None and why not (the means are computed on a worker)."""
        if trained.config.conditional:
            return None, None, (
                "Attribute vectors need an unconditional model: "
                "the table gives no classes to encode with."
            )
        vectors = self._attribute_vectors
        if self._attribute_error:
            return None, None, self._attribute_error
        if vectors is None:
            if not self._attribute_requested and self._attribute_table is not None:
                self._attribute_requested = True
                folder, table = self._attribute_table
                channels, size, _ = trained.config.image_shape
                model = detached(trained.model)

                def compute(_task_state: object) -> AttributeVectors:
                    images, values = table_images(folder, table, size, channels)
                    return attribute_vectors(model, images, values, table.names)

                self._attribute_task.start(compute, label="Attribute vectors")
            return None, None, f"Encoding up to {DEFAULT_MAX_IMAGES} images listed in the attribute table…"
        try:
            vectors.direction(name)
        except DataError as exc:
            return None, None, str(exc)
        return vectors.without_mean[name], vectors.with_mean[name], ""

    def _store_attribute_vectors(self, vectors: AttributeVectors) -> None:
        self._attribute_vectors = vectors
        self._update_arithmetic()

    def _attribute_failed(self, message: str) -> None:
        self._attribute_error = message  # shown until the model, its weights or the data set change
        self._update_arithmetic()

    def _drop_attribute_vectors(self) -> None:
        """Means of another model, other weights or another data set's images no longer apply."""
        self._attribute_task.cancel()
        self._attribute_vectors, self._attribute_requested, self._attribute_error = None, False, ""

    def _forget_attribute_table(self) -> None:
        self._attribute_table_read = False  # also a folder loaded again: it may have a new table beside it

    def _clear_arithmetic(self, message: str) -> None:
        self._arithmetic_task.cancel()
        self.arithmetic = None
        self.arithmeticView.set_images(None)
        self.arithmeticView.set_placeholder(message)

    def _show_arithmetic(self, result: Arithmetic) -> None:
        self.arithmetic = result
        self.arithmeticView.set_images(result.images[None], column_labels=[f"s = {s:.2g}" for s in result.strengths])

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)
