"""Loss curves of the current model: per-step training losses (raw and smoothed) and the test loss per epoch.

The curves grow while a model trains, so updates are incremental: new history values are
appended to numpy buffers and the existing plot items get ``setData``; nothing is re-created
and the smoothing only runs over the new points. pyqtgraph clips to the view and downsamples
(peak mode keeps spikes visible), so a run of 100,000 steps still redraws quickly. The figures of
one event-loop turn are drawn together, a growing history at most four times a second, and none
while the panel is off screen: it catches up when shown (gui/work/deferred_refresh.py).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ...core.app_state import AppState, Event
from ...core.history import History
from ...core.training_report import STEP_FIGURES_INTERVAL_S
from ..work.deferred_refresh import DeferredRefresh
from ..work.turns import OwnTurn
from ..widgets.colours import BLUE, GREEN, ORANGE, RED
from ..widgets.plots import TEXT_PEN, light_plot
from ..widgets.steady_view import SteadyViewBox, cache_axes, keep_label_room, lay_out_axes_now
from .base import Panel

DEFAULT_SMOOTHING = 0.6  # TensorBoard's default: steady enough to read, recent enough to follow
MAX_SMOOTHING = 0.99

# Colour-blind-safe hues (Okabe & Ito) that stay distinct as faint raw lines and bold smoothed ones.
TOTAL_COLOR, RECON_COLOR, KL_COLOR, TEST_COLOR = BLUE, ORANGE, GREEN, RED
RAW_ALPHA = 70
# Four redraws a second look live; at ten, redrawing took a core's fifth from a training run on two
# cores (benchmarks/gui_responsiveness.py, docs/PERFORMANCE.md). A little under the training
# reporter's interval, so each of its figures is drawn in the same repaint as the progress texts.
REDRAW_INTERVAL_S = 0.8 * STEP_FIGURES_INTERVAL_S
# While a model trains, the step axis doubles when the curves reach its end and the loss axes leave a
# quarter of the curves' span on either side: the axes change a few times in a run (widgets/steady_view.py).
STEADY_HEADROOM = ((0.0, 1.0), (0.25, 0.25))


def ema(values: np.ndarray, weight: float, state: float = 0.0, count: int = 0) -> tuple[np.ndarray, float]:
    """Debiased exponential moving average (as TensorBoard smooths), continuing an earlier run.

    ``state`` is the biased average after ``count`` earlier values (0 and 0 to start); returns the
    smoothed values and the new state, so a growing series is smoothed only over its new part.
    Dividing by ``1 - weight**t`` removes the pull towards 0 at the start. Vectorised by chunks:
    s_j = w^(j+1) (s + (1 - w) sum_k x_k / w^(k+1)), with chunks short enough that 1 / w^(k+1)
    cannot overflow.
    """
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0.0 or len(values) == 0:
        return values.copy(), float(values[-1]) if len(values) else state
    chunk = max(1, int(100.0 / -math.log10(weight)))  # keeps w^-chunk below 1e100
    out = np.empty_like(values)
    for start in range(0, len(values), chunk):
        x = values[start : start + chunk]
        powers = weight ** np.arange(1, len(x) + 1)
        biased = powers * (state + (1.0 - weight) * np.cumsum(x / powers))
        state = float(biased[-1])
        t = count + start + np.arange(1, len(x) + 1)
        out[start : start + len(x)] = biased / (1.0 - weight**t)
    return out, state


def kl_legend(beta: float, warmup_epochs: float = 0.0) -> str:
    """The KL curve's legend entry: where its scale is, and the β that weighed it in training."""
    weight = f"β = {beta:g}"
    if warmup_epochs > 0:
        weight += f", warm-up {warmup_epochs:g} epoch{'s' if warmup_epochs != 1 else ''}"
    return f"KL, right axis ({weight})"


class _Series:
    """One per-step loss term: a growing buffer of raw values and its smoothed copy, drawn by two items."""

    def __init__(self, view: pg.PlotItem | pg.ViewBox, color: tuple[int, int, int]) -> None:
        self.raw_item = pg.PlotDataItem(pen=pg.mkPen((*color, RAW_ALPHA), width=1))
        self.smooth_item = pg.PlotDataItem(pen=pg.mkPen(color, width=2))
        for item in (self.raw_item, self.smooth_item):
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            view.addItem(item)
        # A 2-px antialiased line drawn as one path took 11 of a repaint's 14 ms; as separate segments
        # (pyqtgraph's choice for unantialiased wide lines) 5 ms, and an opaque line looks the same.
        self.smooth_item.curve.setSegmentedLineMode("on")
        self.raw = np.empty(0)
        self.smooth = np.empty(0)
        self.count = 0
        self._state = 0.0

    def set_visible(self, visible: bool) -> None:
        self.raw_item.setVisible(visible)
        self.smooth_item.setVisible(visible)

    def reset(self, values: list[float], weight: float) -> None:
        self.raw = np.asarray(values, dtype=np.float64)
        self.count = len(values)
        self.smooth, self._state = ema(self.raw, weight)

    def extend(self, new: list[float], weight: float) -> None:
        """Append values; buffers grow by doubling so a long run is not copied on every update."""
        n = len(new)
        if self.count + n > len(self.raw):
            capacity = max(1024, 2 * (self.count + n))
            raw, smooth = np.empty(capacity), np.empty(capacity)
            raw[: self.count], smooth[: self.count] = self.raw[: self.count], self.smooth[: self.count]
            self.raw, self.smooth = raw, smooth
        self.raw[self.count : self.count + n] = new
        smoothed, self._state = ema(self.raw[self.count : self.count + n], weight, self._state, self.count)
        self.smooth[self.count : self.count + n] = smoothed
        self.count += n

    def draw(self, x: np.ndarray) -> None:
        self.raw_item.setData(x, self.raw[: self.count])
        self.smooth_item.setData(x, self.smooth[: self.count])

    @property
    def last_smoothed(self) -> float | None:
        return float(self.smooth[self.count - 1]) if self.count else None


class LossPanel(Panel):
    """Loss curves of ``state.current``; follows HISTORY (live training) and CURRENT_MODEL (another model)."""

    name = "loss"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)

        self._build_plot()
        self._build_controls()

        self._history: History | None = None
        self._variational = True
        self._kl_label = ""
        self.smoothingSlider.valueChanged.connect(self._on_smoothing_changed)
        self.logCheck.toggled.connect(self._on_log_toggled)
        self._updates = DeferredRefresh(self, self._refresh)
        self._after_run = OwnTurn(self, self._show_whole_run)
        self.subscribe(self._updates.request, Event.CURRENT_MODEL)
        self.subscribe(lambda: self._updates.request(REDRAW_INTERVAL_S), Event.HISTORY)
        self.subscribe(self._on_training, Event.TRAINING)
        self._show_smoothing()
        self._refresh()

    def _build_plot(self) -> None:
        """The plot, its axes, the legend above it and the three curves with the test-loss points."""
        # Short: the axis is only as tall as the plot (about 80 px in the loss dock at 1366x768); the
        # tooltip says the unit in full, as the KL axis's title.
        self.lossPlot = light_plot("loss (nats)", "training step", SteadyViewBox(headroom=STEADY_HEADROOM))
        self.lossPlot.setObjectName("lossPlot")
        self.lossPlot.setToolTip(
            "Training loss per step (faint: each batch; bold: smoothed) and the test loss after each epoch, "
            "in nats per image."
        )
        plot = self.lossPlot.getPlotItem()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            # Without the finest grid level (lines at 1-4 % opacity): the plot is repainted about ten
            # times a second while a model trains, and those lines were a third of each repaint.
            axis.setStyle(maxTickLevel=1)
        # The legend is above the plot rather than inside it, where it would hide curves (the log view
        # fills the whole box). It takes the title's cell: this plot has no title. Two rows of two: a
        # single row, with the KL entry's β, is wider than a loss dock at 1366x768 and would push the
        # plot's layout, and the KL axis, past the widget's right edge.
        self._legend = pg.LegendItem(colCount=2, labelTextColor=TEXT_PEN, frame=False)
        plot.layout.removeItem(plot.titleLabel)
        plot.titleLabel.hide()
        plot.layout.addItem(self._legend, 0, 1)
        self._total = _Series(plot, TOTAL_COLOR)
        self._recon = _Series(plot, RECON_COLOR)
        self._kl_view = self._add_kl_axis(plot)
        self._kl = _Series(self._kl_view, KL_COLOR)
        test_pen, test_brush = pg.mkPen("w", width=1), pg.mkBrush(TEST_COLOR)
        self._test_item = plot.plot(pen=None, symbol="o", symbolSize=8, symbolPen=test_pen, symbolBrush=test_brush)
        # The legend draws this symbol with its scatter item's style, which pyqtgraph only sets once there
        # is data: without this, the legend shows a grey dot until the first epoch ends.
        self._test_item.scatter.setPen(test_pen)
        self._test_item.scatter.setBrush(test_brush)
        self._test_item.scatter.setSize(8)
        self._x = np.empty(0)
        self._epochs_drawn = 0  # test-loss points on the plot

    def _build_controls(self) -> None:
        """Smoothing, log scale and the readout of the latest figures, in one row over the plot."""
        self.smoothingSlider = QSlider(Qt.Orientation.Horizontal)
        self.smoothingSlider.setObjectName("smoothingSlider")
        self.smoothingSlider.setRange(0, round(MAX_SMOOTHING * 100))
        self.smoothingSlider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smoothingSlider.setMaximumWidth(160)
        self.smoothingSlider.setToolTip(
            "How strongly the bold curves average recent steps (0: no smoothing), so trends show through batch noise."
        )
        self._smoothing_label = QLabel()
        self._smoothing_label.setMinimumWidth(32)
        self.logCheck = QCheckBox("Log scale")
        self.logCheck.setObjectName("logCheck")
        self.logCheck.setToolTip(
            "A logarithmic loss axis shows the slow late improvements next to the fast early drop."
        )
        self.readout = QLabel()
        self.readout.setObjectName("lossReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothingSlider)
        controls.addWidget(self._smoothing_label)
        controls.addSpacing(12)
        controls.addWidget(self.logCheck)
        controls.addSpacing(12)
        controls.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.lossPlot, 1)

    @property
    def smoothing(self) -> float:
        return self.smoothingSlider.value() / 100.0

    # -- events --------------------------------------------------------------------
    def _refresh(self) -> None:
        """Another model, new weights of the same one or a longer history (only new steps are drawn)."""
        current = self.state.current
        variational = current is None or current.config.variational
        kl_label = "KL" if current is None else kl_legend(current.train_config.beta, current.train_config.warmup_epochs)
        if variational != self._variational or kl_label != self._kl_label or not self._legend.items:
            self._variational, self._kl_label = variational, kl_label
            self._rebuild_legend()
        self._sync()

    def _sync(self) -> None:
        """Draw the current history: append what is new, or start over for another (or a shorter) history."""
        history = None if self.state.current is None else self.state.current.history
        if history is None or history is not self._history or history.steps < self._total.count:
            self._reset_series()
            return
        start, weight = self._total.count, self.smoothing
        if history.steps == start and history.epochs == self._epochs_drawn:
            return  # new weights of the same model (a training snapshot): the curves are as they were
        if history.steps > start:
            self._total.extend(history.step_loss[start:], weight)
            self._recon.extend(history.step_recon[start:], weight)
            self._kl.extend(history.step_kl[start:], weight)
        self._draw()

    def _on_training(self) -> None:
        """Steady views and cached axes while a run grows the curves; when it ends, a fit to the whole run
        in an event-loop turn of its own (as the latent map's, LatentMapPanel._on_training)."""
        if self.state.training:
            self._after_run.stop()
            self._hold_steady(True)
        else:
            self._after_run.start()

    def _hold_steady(self, steady: bool) -> None:
        plot = self.lossPlot.getPlotItem()
        cache_axes(plot, steady)
        if steady:
            keep_label_room(plot, True)  # until another model is shown (_reset_series)
        for view in (plot.vb, self._kl_view):
            view.steady = steady

    def _show_whole_run(self) -> None:
        self._hold_steady(False)
        for view in (self.lossPlot.getPlotItem().vb, self._kl_view):
            view.updateAutoRange()
        lay_out_axes_now(self.lossPlot.getPlotItem())  # as in _draw

    def _on_smoothing_changed(self) -> None:
        self._show_smoothing()
        self._reset_series()

    def _on_log_toggled(self, checked: bool) -> None:
        plot = self.lossPlot.getPlotItem()
        plot.setLogMode(y=checked)
        # The KL curves live in their own view, which the plot's log mode does not reach.
        plot.getAxis("right").setLogMode(False, checked)
        for item in (self._kl.raw_item, self._kl.smooth_item):
            item.setLogMode(False, checked)

    # -- drawing -------------------------------------------------------------------
    def _rebuild_legend(self) -> None:
        """A plain AE has no KL term and its loss is its reconstruction error, so it shows one curve."""
        self._legend.clear()
        self._total.set_visible(self._variational)
        self._kl.set_visible(self._variational)
        self.lossPlot.getPlotItem().showAxis("right", self._variational)
        if self._variational:
            self._legend.addItem(self._total.smooth_item, "loss = recon + KL (−ELBO)")
            self._legend.addItem(self._recon.smooth_item, "reconstruction")
            self._legend.addItem(self._kl.smooth_item, self._kl_label)
        else:
            self._legend.addItem(self._recon.smooth_item, "reconstruction loss")
        self._legend.addItem(self._test_item, "test loss (per epoch)")

    @staticmethod
    def _add_kl_axis(plot: pg.PlotItem) -> pg.ViewBox:
        """A view for the KL curves with its own scale on the right-hand axis (pyqtgraph's MultiplePlotAxes
        example): KL is a few nats beside a reconstruction term of a hundred or more, a flat line near 0 on
        the loss axis, and the balance between the two is the lesson of β."""
        view = SteadyViewBox(headroom=STEADY_HEADROOM)
        plot.scene().addItem(view)
        axis = plot.getAxis("right")
        axis.linkToView(view)
        axis.setPen(pg.mkPen(KL_COLOR))
        axis.setTextPen(pg.mkPen(KL_COLOR))
        axis.setStyle(maxTickLevel=1)
        # Short, as the left axis's title; per image, as the left.
        plot.setLabel("right", "KL (nats)", color=pg.mkColor(KL_COLOR).name())
        plot.showAxis("right")
        view.setXLink(plot.vb)
        view.setMouseEnabled(x=False, y=False)  # the x range follows the main view; y is fitted to KL

        def follow_main_view() -> None:
            # Its geometry, not its sceneBoundingRect (half a pixel larger): linked by screen pixels, the
            # KL view's step range then ends where the main view's does.
            view.setGeometry(plot.vb.mapRectToScene(plot.vb.rect()))
            view.linkedViewChanged(plot.vb, view.XAxis)

        plot.vb.sigResized.connect(follow_main_view)
        return view

    def _reset_series(self) -> None:
        """Draw the current model's history from its start (another model, or another smoothing)."""
        if self.state.current is None or self.state.current.history is not self._history:
            keep_label_room(self.lossPlot.getPlotItem(), self.state.training)
        self._history = None if self.state.current is None else self.state.current.history
        history = self._history or History()
        weight = self.smoothing
        self._total.reset(history.step_loss, weight)
        self._recon.reset(history.step_recon, weight)
        self._kl.reset(history.step_kl, weight)
        self._draw()

    def _draw(self) -> None:
        n = self._total.count
        if len(self._x) < n:
            # Step numbers are shared by all items; a larger array's prefix stays valid as the run grows.
            self._x = np.arange(1, max(1024, 2 * n) + 1, dtype=np.float64)
        x = self._x[:n]
        for series in (self._total, self._recon, self._kl):
            series.draw(x)
        epoch_x, epoch_y = self._epoch_points()
        self._test_item.setData(epoch_x, epoch_y)
        self._epochs_drawn = len(epoch_y)
        self._show_readout(epoch_y)
        # The fit to the new data applied and the axes sized for it now, not in the paint: one paint per
        # update instead of two (a paint costs milliseconds).
        lay_out_axes_now(self.lossPlot.getPlotItem())

    def _epoch_points(self) -> tuple[np.ndarray, np.ndarray]:
        history = self._history
        if history is None or not history.epochs:
            return np.empty(0), np.empty(0)
        y = np.asarray(history.epoch_test_loss, dtype=np.float64)
        if len(history.epoch_end_step) == len(y):
            x = np.asarray(history.epoch_end_step, dtype=np.float64)
        else:
            # A history from elsewhere without epoch ends: assume equal epochs.
            x = np.arange(1, len(y) + 1) * (history.steps // len(y))
        return x.astype(np.float64), y

    def _show_readout(self, test_losses: np.ndarray) -> None:
        if self._history is None:
            self.readout.setText("No model yet: train one, or open a checkpoint, to see its loss curves.")
            return
        loss, recon, kl = self._total.last_smoothed, self._recon.last_smoothed, self._kl.last_smoothed
        parts = [f"step {self._total.count:,}"]
        if loss is not None and recon is not None and kl is not None:
            if self._variational:
                parts.append(f"loss {loss:.1f} = recon {recon:.1f} + KL {kl:.1f}")
            else:
                parts.append(f"loss {recon:.1f}")
        if len(test_losses):
            parts.append(f"test {test_losses[-1]:.1f} after epoch {len(test_losses)}")
        self.readout.setText("  ·  ".join(parts))

    def _show_smoothing(self) -> None:
        self._smoothing_label.setText(f"{self.smoothing:.2f}")
