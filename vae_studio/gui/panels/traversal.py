"""Traversal and dimension use: what each latent dimension controls, and which ones the model uses.

From a chosen point, each row varies one latent dimension (the others fixed) and decodes; rows are
ordered by the KL each dimension carries over the test set, so the dimensions the KL term switched
off sit at the bottom, their rows one unchanging picture. A bar chart shows that KL per dimension
with the active-unit count, and warns when most dimensions have collapsed to the prior. On the
``shapes`` data set, whose true factors are known, a table shows which dimension tracks which
factor. The statistics use the test split's encoding that the latent map computes (state.encoding).
A new model, new weights or a new encoding (a training refresh) redraw the panel once per
event-loop turn, and only while it is on screen; a click on the map moves the traversal at once.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.app_state import AppState, Event
from ...core.factors import FactorAnalysis, factor_analysis
from ...core.traversal import DimensionUsage, Traversal, dimension_usage, traversal_values, traverse
from ..work.deferred_refresh import DeferredRefresh
from ..widgets.image_grid import ImageGridView
from ..work.private_copies import decode_in_background, detached
from ..work.tasks import Task
from ..widgets.labels import note_label
from ..widgets.plots import TEACHING_PLOT_MIN
from ..widgets.colours import BLUE, GREY
from .base import Panel

POINTS = (("probe", "Clicked map point"), ("selected", "Selected image's μ"), ("origin", "Prior mean (0)"))
DEFAULT_ROWS = 10
DEFAULT_STEPS = 9
DEFAULT_SPAN = 3.0  # the prior's ±3σ
# Factor analysis over a few thousand points and up to ~16 dimensions takes some milliseconds;
# beyond this many (points x dimensions) it runs off the GUI thread.
FACTORS_ON_GUI_THREAD = 100_000
FACTOR_ROWS_SHOWN = 12  # the factor table scrolls beyond this many rows
ACTIVE_COLOUR, INACTIVE_COLOUR = BLUE, GREY
COLLAPSE_STYLE = (
    "QLabel { background: #f8d7da; color: #58151c; border: 1px solid #e0a0a8; border-radius: 3px; padding: 4px; }"
)


def _heat(value: float) -> QColor:
    """White (0) to blue (1): a sequential ramp that reads the same in print and for colour-blind eyes."""
    v = float(np.clip(value, 0.0, 1.0))
    return QColor(round(255 - 225 * v), round(255 - 150 * v), round(255 - 75 * v))


class TraversalPanel(Panel):
    """Latent traversals ordered by dimension use, KL per dimension, and the factor table for shapes."""

    name = "traversal"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.usage: DimensionUsage | None = None
        self.traversal: Traversal | None = None
        self.factors: FactorAnalysis | None = None
        self._grid_task = Task(self, newest_wins=True)
        self._grid_task.finished.connect(self._show_traversal)
        self._grid_task.failed.connect(lambda message: QMessageBox.warning(self, "Traversal failed", message))
        self._factor_task = Task(self, newest_wins=True)
        self._factor_task.finished.connect(self._show_factors)
        self._factor_task.failed.connect(lambda message: QMessageBox.warning(self, "Factor analysis failed", message))

        self._build_traversal()
        self._build_usage()
        self._build_factors()
        # One column, each part as tall as its content (the grid's height follows the width it gets);
        # the dock scrolls when a model has many dimensions.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._traversal_box)
        layout.addWidget(self._usage_box)
        layout.addWidget(self.factorBox)
        layout.addStretch(1)

        self._updates = DeferredRefresh(self, self._on_encoding)
        self.subscribe(self._updates.request, Event.CURRENT_MODEL, Event.WEIGHTS, Event.ENCODING, Event.DATASET)
        self.subscribe(self._on_point, Event.PROBE, Event.SELECTION)
        self._on_encoding()

    # -- construction -------------------------------------------------------------------
    def _build_traversal(self) -> None:
        self.pointCombo = QComboBox(objectName="pointCombo")
        for key, label in POINTS:
            self.pointCombo.addItem(label, key)
        self.pointCombo.setToolTip("The latent point whose dimensions are varied one at a time")
        self.rowsSpin = QSpinBox(objectName="traversalRowsSpin")
        self.rowsSpin.setRange(1, 1)
        self.rowsSpin.setToolTip("Show the rows of this many dimensions, the most used first")
        self.stepsSpin = QSpinBox(objectName="traversalStepsSpin")
        self.stepsSpin.setRange(3, 21)
        self.stepsSpin.setValue(DEFAULT_STEPS)
        self.stepsSpin.setToolTip("Pictures per row")
        self.spanSpin = QDoubleSpinBox(objectName="spanSpin")
        self.spanSpin.setRange(0.5, 10.0)
        self.spanSpin.setSingleStep(0.5)
        self.spanSpin.setValue(DEFAULT_SPAN)
        self.spanSpin.setPrefix("±")
        self.spanSpin.setToolTip(
            "How far each dimension is moved, in the prior's standard deviations (an AE: in the spread of its codes)"
        )
        for signal in (
            self.pointCombo.currentIndexChanged,
            self.rowsSpin.valueChanged,
            self.stepsSpin.valueChanged,
            self.spanSpin.valueChanged,
        ):
            signal.connect(self._update_traversal)
        self.traversalView = ImageGridView("No model yet: train one or open a checkpoint.", height_for_width=True)
        self.traversalView.setObjectName("traversalView")
        # Its natural size (2x) when there is room, under the controls rather than floating mid-box.
        self.traversalView.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.pointLabel = note_label("pointLabel", wrap=True)

        controls = QFormLayout()
        controls.addRow("From", self.pointCombo)
        row = QHBoxLayout()
        for label, widget in (("Rows", self.rowsSpin), ("Steps", self.stepsSpin), ("Range", self.spanSpin)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        controls.addRow(row)
        self._traversal_box = QGroupBox("Traversal: one dimension per row")
        layout = QVBoxLayout(self._traversal_box)
        layout.addLayout(controls)
        layout.addWidget(self.traversalView)
        layout.addWidget(self.pointLabel)

    def _build_usage(self) -> None:
        self.klPlot = pg.PlotWidget(objectName="klPlot")
        self.klPlot.setFixedHeight(TEACHING_PLOT_MIN)  # taller would push the page past a laptop screen
        self.klPlot.setLabel("bottom", "latent dimension")
        self.klPlot.showGrid(y=True, alpha=0.2)
        self.klPlot.setMouseEnabled(x=False, y=False)
        self.klPlot.hideButtons()
        self.klPlot.getAxis("left").enableAutoSIPrefix(False)  # nats as they are, not "x0.001"
        self.klBars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.klPlot.addItem(self.klBars)
        self.activeLabel = QLabel(objectName="activeLabel")
        self.activeLabel.setWordWrap(True)
        self.collapseWarning = QLabel(objectName="collapseWarning")
        self.collapseWarning.setWordWrap(True)
        self.collapseWarning.setStyleSheet(COLLAPSE_STYLE)
        self.collapseWarning.hide()
        self._usage_box = QGroupBox("Dimension use over the test set")
        layout = QVBoxLayout(self._usage_box)
        layout.addWidget(self.klPlot)
        layout.addWidget(self.activeLabel)
        layout.addWidget(self.collapseWarning)

    def _build_factors(self) -> None:
        self.factorMeasureCombo = QComboBox(objectName="factorMeasureCombo")
        self.factorMeasureCombo.addItem("normalised mutual information", "mi")
        self.factorMeasureCombo.addItem("|correlation|", "correlation")
        self.factorMeasureCombo.setToolTip(
            "Mutual information sees any relation (and suits the shape class); correlation only a straight-line one"
        )
        self.factorMeasureCombo.currentIndexChanged.connect(self._fill_factor_table)
        self.factorTable = QTableWidget(objectName="factorTable")
        self.factorTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.factorTable.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.factorTable.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.factorTable.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.factorSummary = QLabel(objectName="factorSummary")
        self.factorSummary.setWordWrap(True)
        self.factorBox = QGroupBox("Which dimension tracks which true factor")
        self.factorBox.setObjectName("factorBox")
        layout = QVBoxLayout(self.factorBox)
        measure = QHBoxLayout()
        measure.addWidget(QLabel("Measure"))
        measure.addWidget(self.factorMeasureCombo, 1)
        layout.addLayout(measure)
        layout.addWidget(self.factorTable, 1)
        layout.addWidget(self.factorSummary)
        self.factorBox.hide()

    # -- public ------------------------------------------------------------------------
    # -- dimension use -------------------------------------------------------------------
    def _encoding_mu(self) -> np.ndarray | None:
        """The test split's μ for the current model, or None while it is not (yet) encoded."""
        current, encoding = self.state.current, self.state.encoding
        if current is None or encoding is None or encoding.mu.shape[1] != current.config.latent_dim or len(encoding.mu) == 0:
            return None
        return encoding.mu

    def _on_encoding(self) -> None:
        mu = self._encoding_mu()
        encoding = self.state.encoding
        self.usage = None if mu is None or encoding is None else dimension_usage(encoding)
        self._show_usage()
        self._update_factors()
        self._update_traversal()

    def _show_usage(self) -> None:
        usage, current = self.usage, self.state.current
        if usage is None or current is None:
            self.klBars.setOpts(x=[], height=[])
            self.activeLabel.setText("Waiting for the test images to be encoded…" if current is not None else "")
            self.collapseWarning.hide()
            with QSignalBlocker(self.rowsSpin):
                self.rowsSpin.setRange(1, 1)
            return
        d = len(usage.active)
        values = usage.kl if usage.kl is not None else usage.mu_variance
        brushes = [pg.mkBrush(ACTIVE_COLOUR if active else INACTIVE_COLOUR) for active in usage.active]
        self.klBars.setOpts(x=np.arange(1, d + 1), height=values, width=0.7, brushes=brushes, pens=[None] * d)
        self.klPlot.setLabel("left", "KL (nats)" if usage.kl is not None else "Var(μ)")
        self.klPlot.setXRange(0.4, d + 0.6, padding=0)
        self.klPlot.setYRange(0, max(float(values.max()), 1e-3) * 1.08, padding=0)
        # Whole dimension numbers, about ten of them, so they do not run into each other.
        step = -(-d // 10)
        self.klPlot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(1, d + 1, step)]])
        self.activeLabel.setText(
            f"<b>{usage.n_active} of {d}</b> dimensions active (variance of μ over the test images "
            f"above {usage.threshold:g}); grey bars: inactive."
        )
        variational = current.config.variational
        self.collapseWarning.setVisible(variational and usage.collapse_warning)
        self.collapseWarning.setText(
            f"⚠ Posterior collapse: {d - usage.n_active} of {d} dimensions are inactive. Their posterior equals the "
            "prior whatever the image, so they carry no information and their traversal rows do not change. "
            "Usually β is too large, or the decoder is strong enough to ignore z; try a smaller β or KL warm-up."
        )
        with QSignalBlocker(self.rowsSpin):
            default = self.rowsSpin.maximum() == 1 and self.rowsSpin.value() == 1
            self.rowsSpin.setRange(1, d)
            if default:
                self.rowsSpin.setValue(min(d, DEFAULT_ROWS))

    # -- traversal ---------------------------------------------------------------------
    def _on_point(self) -> None:
        if self.pointCombo.currentData() != "origin":
            self._updates.now_or_when_shown(self._update_traversal)

    def _start_point(self, d: int) -> tuple[np.ndarray, str]:
        """The chosen point and how it was chosen: the clicked point, else the selected image, else 0."""
        state, mu = self.state, self._encoding_mu()
        choice = self.pointCombo.currentData()
        index = state.selected_index
        if choice == "probe" and state.probe is not None and len(state.probe) == d:
            return state.probe, "the point clicked on the map"
        if choice in ("probe", "selected") and index is not None and mu is not None and index < len(mu):
            return mu[index].astype(np.float64), f"μ of test image #{index}"
        return np.zeros(d), "the prior's mean, 0" + ("" if choice == "origin" else " (nothing chosen on the map yet)")

    def _clear_traversal(self, placeholder: str) -> None:
        self._grid_task.cancel()
        self.traversal = None
        self.traversalView.set_images(None)
        self.traversalView.set_placeholder(placeholder)
        self.pointLabel.setText("")

    def _update_traversal(self) -> None:
        current, usage = self.state.current, self.usage
        if current is None:
            self._clear_traversal("No model yet: train one or open a checkpoint.")
            return
        if usage is None or len(usage.active) != current.config.latent_dim:
            # Another model is shown and its encoding is still on the way: the old usage does not apply.
            self._clear_traversal("Waiting for the latent map to encode the test images…")
            return
        d = current.config.latent_dim
        z, described = self._start_point(d)
        steps, span = self.stepsSpin.value(), self.spanSpin.value()
        variational = current.config.variational
        mu = self._encoding_mu()
        # A VAE's codes live on the prior's scale; an AE's may not, so it moves by its codes' spread.
        values = traversal_values(steps, span) if variational else traversal_values(steps, span, mu)
        dims = usage.order[: self.rowsSpin.value()]
        label = self.state.decode_label()
        background = decode_in_background(current.model, len(dims) * steps)
        model = detached(current.model) if background else current.model
        self._grid_task.request(lambda: traverse(model, z, dims, values, label), background=background)
        moved = f"from −{span:g} to +{span:g}" if variational else f"from its codes' mean −{span:g}σ to +{span:g}σ"
        usage_figure = "its KL in nats" if variational else "the variance of its codes"
        self.pointLabel.setText(
            f"Each row sets one dimension {moved}, the others kept at {described}. Rows are ordered by "
            f"how much the dimension is used ({usage_figure}, after its name)."
        )

    def _show_traversal(self, result: Traversal) -> None:
        usage, current = self.usage, self.state.current
        if usage is None or current is None:
            return
        self.traversal = result
        # Short labels (the unit is in the point label below): the dock is narrow.
        figures = usage.kl if usage.kl is not None else usage.mu_variance
        rows = [f"z{dim + 1} {figures[dim]:.2f}" for dim in result.dims]
        steps = result.values.shape[1]
        offsets = np.linspace(-self.spanSpin.value(), self.spanSpin.value(), steps)
        columns = [f"{v:+.1f}" if current.config.variational else f"{v:+.1f}σ" for v in offsets]
        self.traversalView.set_images(result.images, row_labels=rows, column_labels=columns)

    # -- factors ---------------------------------------------------------------------------
    def _update_factors(self) -> None:
        dataset, mu = self.state.dataset, self._encoding_mu()
        factors = None if dataset is None else dataset.test_factors
        if mu is None or dataset is None or factors is None or not dataset.factor_names or len(factors) != len(mu):
            self._factor_task.cancel()
            self.factors = None
            self.factorBox.hide()
            return
        names, values = dataset.factor_names, factors.numpy()
        background = mu.size > FACTORS_ON_GUI_THREAD
        self._factor_task.request(lambda: factor_analysis(mu, values, names), background=background)

    def _show_factors(self, result: FactorAnalysis) -> None:
        self.factors = result
        self.factorBox.show()
        self._fill_factor_table()

    def _fill_factor_table(self) -> None:
        """Rows: latent dimensions, most used first (as in the traversal); columns: the true factors."""
        result, usage = self.factors, self.usage
        if result is None or usage is None:
            return
        by_mi = self.factorMeasureCombo.currentData() == "mi"
        matrix = result.mutual_information if by_mi else result.correlation
        best = result.best_by_mutual_information if by_mi else result.best_by_correlation
        order = usage.order
        table = self.factorTable
        table.clear()
        table.setRowCount(len(order) + 1)
        table.setColumnCount(len(result.factor_names))
        table.setHorizontalHeaderLabels(list(result.factor_names))
        table.setVerticalHeaderLabels([f"z{dim + 1}" for dim in order] + ["MIG"])
        bold = QFont(table.font())
        bold.setBold(True)
        for row, dim in enumerate(order):
            for col in range(len(result.factor_names)):
                value = float(matrix[dim, col])
                item = QTableWidgetItem(f"{value:.2f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(_heat(value)))
                item.setForeground(QBrush(QColor("white" if value > 0.55 else "black")))
                if best[col] == dim:
                    item.setFont(bold)
                table.setItem(row, col, item)
        for col, gap in enumerate(result.mig):
            item = QTableWidgetItem(f"{gap:.2f}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip("Mutual information gap: best minus second-best normalised MI (1: one dimension alone holds it)")
            table.setItem(len(order), col, item)
        shown = min(table.rowCount(), FACTOR_ROWS_SHOWN)
        table.setFixedHeight(
            table.horizontalHeader().sizeHint().height() + sum(table.rowHeight(r) for r in range(shown)) + 2 * table.frameWidth()
        )
        pairs = ", ".join(f"{name} → z{best[col] + 1}" for col, name in enumerate(result.factor_names))
        self.factorSummary.setText(
            f"Best dimension per factor (bold): {pairs}. A disentangled model has one strong cell per column."
        )
