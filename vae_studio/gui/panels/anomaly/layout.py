"""The anomaly page's widgets: outlier and score controls, histogram and ROC plots, the gallery, and their layout (a mixin)."""

from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
)

from ....core.vocabulary import SCORE_DESCRIPTIONS
from ....core.data import DATASET_CHOICES
from ...widgets.image_grid import ImageGridView
from ...widgets.labels import note_label
from ...widgets.layouts import column
from ...widgets.colours import BLUE, VERMILLION
from ...widgets.notices import NOTICE_STYLE
from ...widgets.plots import TEXT_PEN, light_plot

SCORE_ITEMS = (("recon", "Reconstruction error"), ("elbo", "Negative ELBO"))
# Panel widths (pixels) from which the gallery sits beside the plots, and the two plots beside each other.
WIDE_LAYOUT_WIDTH = 760
SIDE_BY_SIDE_PLOTS_WIDTH = 560
DEFAULT_GALLERY = 8
MAX_GALLERY = 32
# Okabe & Ito's colour-blind-safe blue and vermillion, as in the loss curves.
NORMAL_COLOR, OUTLIER_COLOR = BLUE, VERMILLION
FILL_ALPHA = 90
from .outcome import SLIDER_STEPS


class AnomalyLayout:
    """The controls, plots and gallery of AnomalyPanel and how they share its page."""

    # -- construction --------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.outlierKindCombo = QComboBox(objectName="outlierKindCombo")
        self.outlierKindCombo.addItem("Held-out classes", "classes")
        self.outlierKindCombo.addItem("Another data set", "dataset")
        self.outlierKindCombo.setToolTip(
            "The outliers: test images of classes of the model's own data set (ideally ones it was not trained "
            "on), or the test split of another data set."
        )
        self.classEdit = QLineEdit(objectName="classEdit")
        self.classEdit.setPlaceholderText("e.g. 9 or 0,3-5")
        self.classEdit.setToolTip("Class numbers of the outliers; the model's other training classes are the normal images.")
        self.datasetCombo = QComboBox(objectName="outlierDatasetCombo")
        self.datasetCombo.setEditable(True)  # any spec load_dataset reads: folder:PATH, idx:PATH
        self.datasetCombo.addItems(DATASET_CHOICES)
        self.datasetCombo.setToolTip(
            "The data set whose test split are the outliers (converted to the model's image size); "
            "type folder:PATH or idx:PATH for your own."
        )
        self._outlier_stack = QStackedWidget()
        self._outlier_stack.addWidget(self.classEdit)
        self._outlier_stack.addWidget(self.datasetCombo)
        self.scoreCombo = QComboBox(objectName="scoreCombo")
        for score, label in SCORE_ITEMS:
            self.scoreCombo.addItem(label, score)
            self.scoreCombo.setItemData(self.scoreCombo.count() - 1, SCORE_DESCRIPTIONS[score], Qt.ItemDataRole.ToolTipRole)
        self.scoreCombo.setToolTip(
            "Reconstruction error: −log p(x|z) at the posterior mean. Negative ELBO: adds the KL term, so an "
            "image whose code lies far from the prior also scores high (VAEs only)."
        )
        style = self.style()
        self.runButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Run", objectName="runButton")
        self.runButton.setToolTip("Score the normal test images and the outliers with the current model")
        self.stopButton = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop", objectName="anomalyStopButton")
        self.statusLabel = note_label("anomalyStatusLabel")
        self.statusLabel.hide()
        self.warningLabel = QLabel(objectName="warningLabel")
        self.warningLabel.setWordWrap(True)
        self.warningLabel.setStyleSheet(NOTICE_STYLE)
        self.warningLabel.hide()
        self.summaryLabel = QLabel(objectName="summaryLabel")
        self.summaryLabel.setWordWrap(True)
        self.summaryLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.aucLabel = QLabel(objectName="aucLabel")
        font = self.aucLabel.font()
        font.setBold(True)
        self.aucLabel.setFont(font)

        self.outlierKindCombo.currentIndexChanged.connect(self._outlier_stack.setCurrentIndex)
        self.runButton.clicked.connect(self.run)
        self.stopButton.clicked.connect(self.stop)

    def _styled_plot(self, left: str, bottom: str) -> pg.PlotWidget:
        plot = light_plot(left, bottom)
        item = plot.getPlotItem()
        item.setMenuEnabled(False)
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)  # "fraction (x0.001)" would hide what the numbers are
        plot.setMinimumSize(160, 100)
        return plot

    def _build_plots(self) -> None:
        self.histogramPlot = self._styled_plot("share of its group", "score (nats)")
        self.histogramPlot.setObjectName("histogramPlot")
        self.histogramPlot.setToolTip(
            "Scores of the normal images and of the outliers, each as a fraction of its group, over the same "
            "bins. Drag the dashed line to move the threshold."
        )
        legend = self.histogramPlot.getPlotItem().addLegend(offset=(-8, 8), labelTextColor=TEXT_PEN)
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        legend.hide()  # shown with a run's counts
        self._normal_hist = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(NORMAL_COLOR, width=1.5),
            fillBrush=pg.mkBrush(*NORMAL_COLOR, FILL_ALPHA), name="normal",
        )
        self._outlier_hist = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(OUTLIER_COLOR, width=1.5),
            fillBrush=pg.mkBrush(*OUTLIER_COLOR, FILL_ALPHA), name="outliers",
        )
        self.thresholdLine = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen(30, 30, 30, width=1.5, style=Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen(0, 0, 0, width=2.5),
        )
        self.thresholdLine.setZValue(10)
        self.thresholdLine.hide()
        self.thresholdLine.sigPositionChanged.connect(self._on_line_moved)
        self.histogramPlot.addItem(self.thresholdLine, ignoreBounds=True)

        self.rocPlot = self._styled_plot("true positive rate (recall)", "false positive rate")
        self.rocPlot.setObjectName("rocPlot")
        self.rocPlot.setToolTip("ROC curve: every threshold's share of outliers flagged against normal images flagged.")
        # Rates live in [0, 1]: a fixed square range, no zooming away from it.
        self.rocPlot.setXRange(0, 1, padding=0.02)
        self.rocPlot.setYRange(0, 1, padding=0.02)
        self.rocPlot.getPlotItem().getViewBox().setMouseEnabled(False, False)
        ticks = [[(v, f"{v:g}") for v in np.linspace(0.0, 1.0, 6)]]
        for name in ("left", "bottom"):
            self.rocPlot.getPlotItem().getAxis(name).setTicks(ticks)
        self.rocPlot.plot([0, 1], [0, 1], pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine))
        self._roc_curve = self.rocPlot.plot(pen=pg.mkPen(OUTLIER_COLOR, width=2))
        self._operating_point = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(30, 30, 30))
        self.rocPlot.addItem(self._operating_point)
        # Inside the plot, under the diagonal where a useful curve never is: a title would cost a row.
        self._roc_auc_text = pg.TextItem(color=TEXT_PEN, anchor=(1, 1))
        self._roc_auc_text.setPos(0.98, 0.03)
        self.rocPlot.addItem(self._roc_auc_text)

        self.thresholdSlider = QSlider(Qt.Orientation.Horizontal, objectName="thresholdSlider")
        self.thresholdSlider.setRange(0, SLIDER_STEPS)
        self.thresholdSlider.setToolTip("Images scoring at or above the threshold are flagged as outliers.")
        self.thresholdSlider.valueChanged.connect(self._on_slider)
        self.thresholdLabel = QLabel(objectName="thresholdLabel")
        self.precisionLabel = QLabel(objectName="precisionLabel")
        self.precisionLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_gallery(self) -> None:
        self.gallerySpin = QSpinBox(objectName="gallerySpin")
        self.gallerySpin.setRange(1, MAX_GALLERY)
        self.gallerySpin.setValue(DEFAULT_GALLERY)
        self.gallerySpin.setToolTip("How many of the highest-scoring test images to show")
        self.gallerySpin.valueChanged.connect(self._refresh_gallery)
        self.galleryView = ImageGridView("The highest-scoring images appear here after a run.")
        self.galleryView.setObjectName("galleryView")
        self.galleryView.setMinimumSize(120, 105)  # three rows of 28-pixel images and the column labels
        self.galleryCaption = note_label("galleryCaption")

    def _build_layout(self) -> None:
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Outliers"))
        choose.addWidget(self.outlierKindCombo)
        choose.addWidget(self._outlier_stack, 1)
        choose.addWidget(QLabel("Score"))
        choose.addWidget(self.scoreCombo)
        choose.addWidget(self.runButton)
        choose.addWidget(self.stopButton)

        summary = QHBoxLayout()
        summary.addWidget(self.aucLabel)
        summary.addWidget(self.summaryLabel, 1)

        self._plots = QSplitter(Qt.Orientation.Horizontal)
        self._plots.addWidget(self.histogramPlot)
        self._plots.addWidget(self.rocPlot)
        self._plots.setStretchFactor(0, 3)
        self._plots.setStretchFactor(1, 2)
        self._plots.setChildrenCollapsible(False)
        threshold = QHBoxLayout()
        threshold.addWidget(QLabel("Threshold"))
        threshold.addWidget(self.thresholdSlider, 1)
        threshold.addWidget(self.thresholdLabel)
        gallery_header = QHBoxLayout()
        gallery_header.addWidget(QLabel("Most anomalous"))
        gallery_header.addWidget(self.gallerySpin)
        gallery_header.addWidget(self.galleryCaption, 1)
        gallery = column(gallery_header, (self.galleryView, 1))

        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.addWidget(self._plots)
        self._splitter.addWidget(gallery)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 2)
        self._splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(choose)
        layout.addWidget(self.statusLabel)
        layout.addWidget(self.warningLabel)
        layout.addLayout(summary)
        layout.addWidget(self._splitter, 1)
        layout.addLayout(threshold)
        layout.addWidget(self.precisionLabel)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """None: the panel takes the height its dock has, and its plots and gallery scale to it. The layout's
        height-for-width (it has word-wrapped labels) adds up preferred sizes, and the dock's scroll area
        would make the panel that tall, pushing the threshold and the gallery out of view."""
        return -1

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Plots and gallery side by side in a wide dock (under the map), stacked in a tall one (beside it)."""
        super().resizeEvent(event)
        width = event.size().width()
        for splitter, wide_from in ((self._splitter, WIDE_LAYOUT_WIDTH), (self._plots, SIDE_BY_SIDE_PLOTS_WIDTH)):
            orientation = Qt.Orientation.Horizontal if width >= wide_from else Qt.Orientation.Vertical
            if splitter.orientation() != orientation:
                splitter.setOrientation(orientation)
                # Fresh proportions: sizes kept from the other orientation would squeeze the gallery.
                total = sum(splitter.sizes()) or 500
                splitter.setSizes([total * 3 // 5, total * 2 // 5])
