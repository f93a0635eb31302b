"""The denoising page's widgets: the compare row, the test images' tab (corruption, strength, grid, PSNRs,
advice) and the tab of the user's own image, and their layout (a mixin)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ....core.vocabulary import CORRUPTION_CHOICES, choice
from ...widgets.drawing_canvas import DrawingCanvas
from ...widgets.image_grid import ImageGridView
from ...widgets.labels import note_label
from ...widgets.layouts import page_tabs
from ...widgets.notices import NOTICE_STYLE
from .captions import NO_MODEL

DEFAULT_LEVEL = 0.3
LEVEL_STEPS = 100  # the slider's resolution: levels 0.00 to 1.00
DEFAULT_ROWS = 4  # rows of thumbnails at three times their size (84 px) fit the page on a 1366x768 screen
MAX_ROWS = 16


class DenoisingLayout:
    """The controls, grids and tabs of DenoisingPanel, and the signals they send it."""

    # -- construction --------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.compareCombo = QComboBox(objectName="compareCombo")
        self.compareCombo.setToolTip(
            "A second model to reconstruct the same corrupted images, e.g. a plain model beside a denoising one"
        )
        self.compareCombo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compareCombo.setMinimumContentsLength(12)
        compare_row = QHBoxLayout()
        compare_row.addWidget(QLabel("Compare with"))
        compare_row.addWidget(self.compareCombo, 1)
        self.tabs = page_tabs(
            "denoisingTabs", (self._build_batch_tab(), "Test images"), (self._build_own_tab(), "Your own image")
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(compare_row)
        layout.addWidget(self.tabs, 1)

        self.corruptionCombo.currentIndexChanged.connect(self._on_settings)
        self.levelSlider.valueChanged.connect(self._on_settings)
        self.compareCombo.currentIndexChanged.connect(self._on_compare)
        self.rowsSpin.valueChanged.connect(self._show_results)
        self.newImagesButton.clicked.connect(self.new_images)
        self.trainDenoisingButton.clicked.connect(self.request_denoising_training)
        self.canvas.changed.connect(self._on_drawn)
        self.clearButton.clicked.connect(self.clear_user_image)
        self.loadButton.clicked.connect(self.load_user_image_dialog)
        self._show_level()

    def _build_batch_tab(self) -> QWidget:
        """Corruption, strength and the test images' grid with its PSNRs."""
        self.corruptionCombo = QComboBox(objectName="denoisingCorruptionCombo")
        for kind in (c.key for c in CORRUPTION_CHOICES if c.key != "none"):
            self.corruptionCombo.addItem(choice(CORRUPTION_CHOICES, kind).label, kind)
            self.corruptionCombo.setItemData(self.corruptionCombo.count() - 1, f"Strength: {choice(CORRUPTION_CHOICES, kind).help}",
                                             Qt.ItemDataRole.ToolTipRole)
        self.corruptionCombo.setToolTip("How the test images are damaged before the model sees them")
        self.levelSlider = QSlider(Qt.Orientation.Horizontal, objectName="levelSlider")
        self.levelSlider.setRange(0, LEVEL_STEPS)
        self.levelSlider.setValue(round(DEFAULT_LEVEL * LEVEL_STEPS))
        self.levelLabel = QLabel(objectName="levelLabel")
        self.levelLabel.setMinimumWidth(self.levelLabel.fontMetrics().horizontalAdvance("0.00") + 6)
        self.rowsSpin = QSpinBox(objectName="denoisingRowsSpin")
        self.rowsSpin.setRange(1, MAX_ROWS)
        self.rowsSpin.setValue(DEFAULT_ROWS)
        self.rowsSpin.setToolTip("Test images shown")
        self.newImagesButton = QPushButton("New images", objectName="newImagesButton")
        self.newImagesButton.setToolTip("Draw another random batch of test images (and of corruption)")
        self.gridView = ImageGridView(NO_MODEL)
        self.gridView.setObjectName("denoisingGrid")
        self.psnrLabel = QLabel(objectName="psnrLabel")
        self.psnrLabel.setWordWrap(True)
        self.psnrLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.modelsLabel = note_label("modelsLabel", wrap=True)
        # Why a model trained on clean images does not denoise, and the one click that trains one which does.
        self.adviceLabel = QLabel(objectName="denoisingAdvice")
        self.adviceLabel.setWordWrap(True)
        self.adviceLabel.setStyleSheet(NOTICE_STYLE)
        self.trainDenoisingButton = QPushButton("Train a denoising VAE", objectName="trainDenoisingButton")
        self.trainDenoisingButton.setToolTip(
            "Train a VAE like this model on inputs with this corruption and strength, clean images as targets"
        )
        self.adviceBox = QWidget(objectName="denoisingAdviceBox")
        advice_layout = QVBoxLayout(self.adviceBox)
        advice_layout.setContentsMargins(0, 0, 0, 0)
        advice_layout.addWidget(self.adviceLabel)
        advice_layout.addWidget(self.trainDenoisingButton, 0, Qt.AlignmentFlag.AlignRight)
        self.adviceBox.hide()
        form = QGridLayout()
        form.addWidget(QLabel("Corruption"), 0, 0)
        form.addWidget(self.corruptionCombo, 0, 1, 1, 2)
        form.addWidget(QLabel("Strength"), 1, 0)
        form.addWidget(self.levelSlider, 1, 1)
        form.addWidget(self.levelLabel, 1, 2)
        form.setColumnStretch(1, 1)
        images_row = QHBoxLayout()
        images_row.addWidget(QLabel("Images"))
        images_row.addWidget(self.rowsSpin)
        images_row.addStretch(1)
        images_row.addWidget(self.newImagesButton)
        batch = QWidget()
        batch_layout = QVBoxLayout(batch)
        batch_layout.addLayout(form)
        batch_layout.addLayout(images_row)
        batch_layout.addWidget(self.gridView, 1)
        batch_layout.addWidget(self.psnrLabel)
        batch_layout.addWidget(self.modelsLabel)
        batch_layout.addWidget(self.adviceBox)
        return batch

    def _build_own_tab(self) -> QWidget:
        """The drawing canvas and the user's own image."""
        self.canvas = DrawingCanvas()
        self.canvas.setObjectName("drawingCanvas")
        self.clearButton = QPushButton("Clear", objectName="clearButton")
        self.loadButton = QPushButton("Load image…", objectName="loadButton")
        self.loadButton.setToolTip("Reconstruct a picture file (PNG, JPEG, …), prepared like an MNIST digit")
        self.userView = ImageGridView("Draw a digit or load an image to see how the model reconstructs it.")
        self.userView.setObjectName("userView")
        self.userView.setMinimumHeight(100)  # one row of 28-pixel images at three times their size
        self.userLabel = note_label("userLabel", wrap=True)

        # The drawing gets its own tab: beside the batch, both would be too small in a side dock.
        own = QWidget()
        buttons = QHBoxLayout()
        buttons.addWidget(self.clearButton)
        buttons.addWidget(self.loadButton)
        buttons.addStretch(1)
        own_layout = QVBoxLayout(own)
        own_layout.addWidget(self.canvas, 1)
        own_layout.addLayout(buttons)
        own_layout.addWidget(self.userView)
        own_layout.addWidget(self.userLabel)
        own_layout.addStretch(0)
        return own
