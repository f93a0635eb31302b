"""The interpolation panel's latent-arithmetic tab: add the vector between two class means (or two points) to an image's code (a mixin)."""

from __future__ import annotations

import numpy as np
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

from ....core.interpolation import Arithmetic, latent_arithmetic
from ...widgets.image_grid import ImageGridView
from ...widgets.images import to_qpixmap
from ...work.private_copies import decode_in_background, detached
from ...widgets.labels import note_label
from .endpoint_box import THUMB_SCALE



class ArithmeticTab:
    """The latent-arithmetic tab of InterpolationPanel: base image + (class or point difference) vector."""

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
        tab = QWidget()
        layout = QHBoxLayout(tab)
        layout.setContentsMargins(2, 4, 2, 2)
        layout.addLayout(controls)
        layout.addLayout(right, 1)
        return tab

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
        by_class = self.vectorCombo.currentData() == "classes"
        for combo in (self.fromClassCombo, self.toClassCombo):
            combo.setEnabled(by_class)
            self._arithmetic_form.labelForField(combo).setEnabled(by_class)
        vector = "μ(to class) − μ(from class)" if by_class else "B − A"
        self.arithmeticLabel.setText(
            f"Each picture decodes <i>z</i> = μ(image) + <i>s</i> · ({vector}) for the strength <i>s</i> above it. "
            "If the space is well organised, the same offset changes the same property of any image."
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
        else:
            start, why = self._endpoint_code(trained, self.endpointA)
            end, why_end = self._endpoint_code(trained, self.endpointB)
            why = why or why_end
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
