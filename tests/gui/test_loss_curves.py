"""The loss panel: curves of the current model's history, smoothed, live and on a log scale."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QGraphicsItem

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import load_dataset
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels import loss_curves
from vae_studio.gui.panels.loss_curves import LossPanel, ema, kl_legend


def naive_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased smoothing, written as the plain loop it is."""
    out, state = [], 0.0
    for t, value in enumerate(values, start=1):
        state = weight * state + (1 - weight) * value
        out.append(state / (1 - weight**t))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.01, 0.6, 0.9, 0.99])
def test_ema_matches_the_plain_loop(weight: float) -> None:
    values = np.random.default_rng(1).normal(100.0, 20.0, 3000)  # long enough for several chunks
    smoothed, _ = ema(values, weight)
    np.testing.assert_allclose(smoothed, naive_ema(values, weight), rtol=1e-9)


def test_ema_continues_where_it_left_off() -> None:
    values = np.random.default_rng(2).normal(size=500)
    whole, _ = ema(values, 0.9)
    first, state = ema(values[:123], 0.9)
    rest, _ = ema(values[123:], 0.9, state, 123)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole, rtol=1e-12)


def test_ema_is_unbiased_from_the_first_step() -> None:
    smoothed, _ = ema(np.full(50, 7.0), 0.99)
    np.testing.assert_allclose(smoothed, 7.0)


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture(autouse=True)
def redraw_at_every_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what is drawn; how often a growing history is redrawn is test_deferred_refresh's."""
    monkeypatch.setattr(loss_curves, "REDRAW_INTERVAL_S", 0.0)


@pytest.fixture
def panel(qtbot, state: AppState) -> LossPanel:
    panel = LossPanel(state)
    qtbot.addWidget(panel)
    panel.show()  # the panel draws only while on screen
    return panel


def redrawn() -> None:
    """Let the panel draw what the last state events changed: it does so on the next event-loop turn."""
    QApplication.processEvents()


@pytest.fixture
def fresh_model() -> TrainedModel:
    """An untrained model with an empty history, for feeding the panel by hand."""
    return new_trained_model(load_dataset("mnist"), TrainConfig(), "fresh")


def curve_lengths(panel: LossPanel) -> list[int]:
    # The KL curves are in their own view, on the right-hand axis.
    data_items = [*panel.lossPlot.getPlotItem().listDataItems(), *panel._kl_view.addedItems]
    items = [item for item in data_items if item.isVisible()]
    return [0 if item.getData()[0] is None else len(item.getData()[0]) for item in items]  # None: no data


def legend_labels(panel: LossPanel) -> list[str]:
    return [label.text for _, label in panel._legend.items]


def test_a_loaded_model_shows_its_history(panel: LossPanel, state: AppState, tiny_model: TrainedModel) -> None:
    assert "No model yet" in panel.readout.text()
    state.add_model(tiny_model)
    redrawn()
    history = tiny_model.history
    # Raw and smoothed total, reconstruction and KL, and the test loss per epoch.
    assert sorted(curve_lengths(panel)) == [history.epochs] + [history.steps] * 6
    test_item = next(item for item in panel.lossPlot.getPlotItem().listDataItems() if item.opts["symbol"] == "o")
    x, y = test_item.getData()
    np.testing.assert_array_equal(x, history.epoch_end_step)
    np.testing.assert_allclose(y, history.epoch_test_loss)
    assert legend_labels(panel) == [
        "loss = recon + KL (−ELBO)", "reconstruction", "KL, right axis (β = 1)", "test loss (per epoch)",
    ]  # fmt: skip
    assert f"step {history.steps:,}" in panel.readout.text() and "after epoch 1" in panel.readout.text()

    state.set_current(None)
    redrawn()
    assert sorted(curve_lengths(panel)) == [0] * 7
    assert "No model yet" in panel.readout.text()


def test_a_growing_history_updates_the_same_plot_items(
    panel: LossPanel, state: AppState, fresh_model: TrainedModel
) -> None:
    state.add_model(fresh_model)
    redrawn()
    items = panel.lossPlot.getPlotItem().listDataItems()
    history = fresh_model.history
    for chunk in range(3):
        values = list(np.linspace(200, 100, 400)[chunk * 100 : (chunk + 1) * 100])
        history.step_loss += values
        history.step_recon += [v - 5 for v in values]
        history.step_kl += [5.0] * 100
        state.history_changed()
        redrawn()
    history.epoch_test_loss.append(120.0)
    history.epoch_end_step.append(300)
    state.history_changed()
    redrawn()
    assert panel.lossPlot.getPlotItem().listDataItems() == items  # no item was re-created
    assert sorted(curve_lengths(panel)) == [1] + [300] * 6
    # Appending gives the same curve as drawing the whole history at once.
    smoothed = panel._total.smooth_item.getData()[1]
    np.testing.assert_allclose(smoothed, ema(np.array(history.step_loss), panel.smoothing)[0])
    # New weights of the same model (a training snapshot) keep the curves.
    state.current_weights_changed()
    redrawn()
    assert sorted(curve_lengths(panel)) == [1] + [300] * 6


def grow(state: AppState, history, values: np.ndarray) -> None:
    history.step_loss += list(values)
    history.step_recon += list(values - 5)
    history.step_kl += [5.0] * len(values)
    state.history_changed()
    redrawn()


def test_while_training_the_axes_hold_still_and_the_finished_run_fills_the_plot(
    qtbot, panel: LossPanel, state: AppState, fresh_model: TrainedModel
) -> None:
    """While a run grows the curves the ranges change a few times (each change redraws the axes); the
    axes are kept as pictures meanwhile; when the run ends, the plot fits its whole history."""
    state.add_model(fresh_model)
    state.set_training(True)
    plot = panel.lossPlot.getPlotItem()
    assert plot.getAxis("bottom").cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    ranges = []
    loss = 150 + 400 * np.exp(-np.arange(1000) / 60)
    for chunk in range(100):
        grow(state, fresh_model.history, loss[chunk * 10 : (chunk + 1) * 10])
        plot.vb.prepareForPaint()
        ranges.append(tuple(map(tuple, plot.vb.viewRange())))
    x_changes = sum(a[0] != b[0] for a, b in zip(ranges, ranges[1:]))
    y_changes = sum(a[1] != b[1] for a, b in zip(ranges, ranges[1:]))
    assert x_changes <= 8 and y_changes <= 12  # of 99 redraws
    (x_low, x_high), (y_low, y_high) = ranges[-1]
    assert x_low <= 1 and 1000 <= x_high and y_low <= loss.min() - 5 and loss.max() <= y_high

    state.set_training(False)
    qtbot.waitUntil(lambda: plot.vb.viewRange()[0][1] < 1100)  # no room left for steps that will not come
    (x_low, x_high), _ = plot.vb.viewRange()
    assert 1000 <= x_high
    assert plot.getAxis("bottom").cacheMode() == QGraphicsItem.CacheMode.NoCache
    state.set_training(True)
    state.set_training(False)
    state.set_training(True)  # a run that starts before the end of the last one was shown: it holds steady
    qtbot.wait(50)
    assert plot.vb.steady and plot.getAxis("bottom").cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache


def test_smoothing(panel: LossPanel, state: AppState, fresh_model: TrainedModel) -> None:
    noisy = list(150 + np.random.default_rng(0).normal(0, 10, 500))
    fresh_model.history.step_loss += noisy
    fresh_model.history.step_recon += noisy
    fresh_model.history.step_kl += [1.0] * 500
    state.add_model(fresh_model)

    panel.smoothingSlider.setValue(0)
    raw = panel._total.raw_item.getData()[1]
    np.testing.assert_allclose(panel._total.smooth_item.getData()[1], raw)
    panel.smoothingSlider.setValue(95)
    smooth = panel._total.smooth_item.getData()[1]
    assert np.std(np.diff(smooth)) < 0.2 * np.std(np.diff(raw))
    np.testing.assert_allclose(panel._total.raw_item.getData()[1], raw)  # the raw curve stays as it was


def test_log_scale(panel: LossPanel) -> None:
    axis = panel.lossPlot.getPlotItem().getAxis("left")
    assert not axis.logMode
    panel.logCheck.setChecked(True)
    assert axis.logMode
    panel.logCheck.setChecked(False)
    assert not axis.logMode


def test_a_plain_autoencoder_shows_its_reconstruction_loss_only(
    panel: LossPanel, state: AppState, tiny_model: TrainedModel
) -> None:
    ae = new_trained_model(load_dataset("mnist"), TrainConfig(), "ae", kind="ae")
    ae.history.step_loss += [50.0, 40.0]
    ae.history.step_recon += [50.0, 40.0]
    ae.history.step_kl += [0.0, 0.0]
    state.add_model(ae)
    redrawn()
    assert legend_labels(panel) == ["reconstruction loss", "test loss (per epoch)"]
    assert sorted(curve_lengths(panel)) == [0, 2, 2]
    assert "KL" not in panel.readout.text()
    state.add_model(tiny_model)
    redrawn()
    assert len(legend_labels(panel)) == 4


def test_kl_has_its_own_axis_and_says_its_beta(panel: LossPanel, state: AppState, fresh_model: TrainedModel) -> None:
    """KL (a few nats) beside a reconstruction term of a hundred: on its own axis it fills the plot's height."""
    history = fresh_model.history
    history.step_recon += list(np.linspace(200.0, 100.0, 200))
    history.step_kl += list(np.linspace(2.0, 6.0, 200))
    history.step_loss += [r + k for r, k in zip(history.step_recon, history.step_kl)]
    state.add_model(fresh_model)
    panel.resize(600, 300)
    redrawn()
    plot = panel.lossPlot.getPlotItem()
    assert plot.getAxis("right").isVisible()
    panel.lossPlot.scene().prepareForPaint()
    kl_low, kl_high = panel._kl_view.viewRange()[1]
    assert kl_low < 2.5 and 5.5 < kl_high < 10  # fitted to KL alone
    assert plot.vb.viewRange()[1][1] > 150  # the loss axis keeps the loss's scale
    np.testing.assert_array_equal(panel._kl_view.viewRange()[0], plot.vb.viewRange()[0])  # same steps

    beta4 = new_trained_model(load_dataset("mnist"), TrainConfig(beta=4.0, warmup_epochs=2), "beta 4")
    state.add_model(beta4)
    redrawn()
    assert kl_legend(4.0, 2.0) in legend_labels(panel) and "β = 4" in kl_legend(4.0, 2.0)
    assert "warm-up" not in kl_legend(1.0)

    panel.logCheck.setChecked(True)
    assert plot.getAxis("right").logMode and panel._kl.smooth_item.opts["logMode"][1]
    panel.logCheck.setChecked(False)
    assert not panel._kl.smooth_item.opts["logMode"][1]


def test_the_legend_never_pushes_the_kl_axis_out_of_sight(qtbot, panel: LossPanel, state: AppState) -> None:
    # The longest KL entry: a β and a warm-up.
    state.add_model(new_trained_model(load_dataset("mnist"), TrainConfig(beta=4.0, warmup_epochs=2), "β"))
    plot = panel.lossPlot.getPlotItem()
    axis = plot.getAxis("right")
    for width in (1400, 700, 1400):
        panel.resize(width, 300)
        redrawn()
        # Inside the plot widget once the scene's layout has followed the resize.
        qtbot.waitUntil(lambda: plot.mapRectToScene(axis.geometry()).right() <= panel.lossPlot.width(), timeout=2000)
        assert axis.geometry().width() > 0
