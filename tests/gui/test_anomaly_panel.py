"""The anomaly panel: a run in the worker, AUC and precision/recall as the core computes them, the gallery,
the outliers-in-training warning, Stop and errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from plot_items import drawn, named  # tests/gui is on the path: pytest puts a test file's folder there
from PySide6.QtWidgets import QMessageBox

from vae_studio.core.anomaly import anomaly_data, detect_anomalies
from vae_studio.core.roc import precision_recall_at, roc_auc
from vae_studio.core.app_state import AppState
from vae_studio.core.data import load_dataset
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels.anomaly import AnomalyPanel
from vae_studio.gui.work.tasks import running_threads

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def digits_0_to_8(tiny_model: TrainedModel) -> TrainedModel:
    """The tiny model's weights, recorded as trained on classes 0-8 only (the panel reads only the config)."""
    config = replace(tiny_model.train_config, classes=tuple(range(9)))
    return TrainedModel(tiny_model.model, config, tiny_model.class_names, name="digits 0-8")


def make_panel(qtbot, trained: TrainedModel) -> AnomalyPanel:
    state = AppState()
    state.set_dataset(load_dataset("mnist"))
    state.add_model(trained)
    panel = AnomalyPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.show()
    return panel


@pytest.fixture
def held_out(qtbot, digits_0_to_8: TrainedModel) -> Iterator[AnomalyPanel]:
    """A finished run of the 0-8 model with its default outliers (class 9)."""
    panel = make_panel(qtbot, digits_0_to_8)
    panel.gallerySpin.setValue(5)
    panel.run()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    yield panel
    panel.shutdown()


def test_held_out_classes_default_and_the_auc_is_the_cores(held_out: AnomalyPanel, digits_0_to_8) -> None:
    assert held_out.outlierKindCombo.currentData() == "classes" and held_out.classEdit.text() == "9"
    outcome = held_out.outcome
    assert outcome is not None
    result = outcome.result
    assert held_out.aucLabel.text() == f"AUC {roc_auc(result.scores, result.is_outlier):.4f}"
    # The same experiment straight through the core gives the same scores (recon is deterministic).
    data = anomaly_data(digits_0_to_8.train_config, "9")
    direct = detect_anomalies(digits_0_to_8.model, data.normal, data.outliers)
    np.testing.assert_allclose(result.normal_scores, direct.normal_scores, rtol=1e-9)
    np.testing.assert_allclose(result.outlier_scores, direct.outlier_scores, rtol=1e-9)
    assert not held_out.warningLabel.isVisibleTo(held_out)
    assert "classes 9" in held_out.summaryLabel.text()
    # Both histograms are drawn over the same bins, and the ROC curve is the core's.
    normal_x, _ = named(held_out.histogramPlot, "normal").getData()
    outlier_x, _ = named(held_out.histogramPlot, "outliers").getData()
    np.testing.assert_array_equal(normal_x, outlier_x)
    _chance, curve = drawn(held_out.rocPlot)
    roc_x, roc_y = curve.getData()
    roc = result.roc()
    np.testing.assert_array_equal(roc_x, roc.false_positive_rate)
    np.testing.assert_array_equal(roc_y, roc.true_positive_rate)


def test_the_threshold_slider_gives_the_cores_precision_and_recall(held_out: AnomalyPanel) -> None:
    outcome = held_out.outcome
    assert outcome is not None
    scores, is_outlier = outcome.result.scores, outcome.result.is_outlier
    for value in (100, 500, 900):
        held_out.thresholdSlider.setValue(value)
        expected = precision_recall_at(scores, is_outlier, held_out.threshold)
        shown = held_out.precision_recall()
        assert shown == expected
        text = held_out.precisionLabel.text()
        assert f"Precision {expected.precision:.3f}" in text and f"recall {expected.recall:.3f}" in text
        assert held_out.thresholdLine.value() == pytest.approx(held_out.threshold)
        x, y = drawn(held_out.rocPlot, pg.ScatterPlotItem)[0].getData()
        fpr = expected.false_positives / (expected.false_positives + expected.true_negatives)
        assert (x[0], y[0]) == pytest.approx((fpr, expected.recall))
    low, high = scores.min(), scores.max()
    held_out.thresholdSlider.setValue(0)
    assert held_out.threshold == pytest.approx(low) and held_out.precision_recall().recall == 1.0
    # Dragging the line on the histogram moves the slider too.
    held_out.thresholdLine.setValue(low + 0.5 * (high - low))
    assert held_out.threshold == pytest.approx(low + 0.5 * (high - low))
    assert held_out.thresholdSlider.value() == 500


def test_the_gallery_shows_the_k_most_anomalous_images(held_out: AnomalyPanel) -> None:
    outcome = held_out.outcome
    assert outcome is not None
    images = held_out.galleryView.images()
    assert images is not None and images.shape == (3, 5, 3, 28, 28)  # image, reconstruction, error map; k = 5
    top = np.sort(outcome.result.scores)[::-1][:5]
    np.testing.assert_allclose(outcome.examples.scores, top)
    held_out.gallerySpin.setValue(7)
    images = held_out.galleryView.images()
    assert images is not None and images.shape[1] == 7


def test_outliers_that_were_in_training_are_warned_about(qtbot, tiny_model: TrainedModel) -> None:
    panel = make_panel(qtbot, tiny_model)
    # Trained on every class: another data set is the default; class 9 was in training.
    assert panel.outlierKindCombo.currentData() == "dataset" and panel.datasetCombo.currentText() == "fashion-mnist"
    panel.outlierKindCombo.setCurrentIndex(panel.outlierKindCombo.findData("classes"))
    panel.classEdit.setText("9")
    panel.run()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    assert panel.warningLabel.isVisibleTo(panel)
    assert "were in training" in panel.warningLabel.text()
    panel.shutdown()


def test_stop_ends_the_run_without_results(qtbot, tiny_model: TrainedModel) -> None:
    panel = make_panel(qtbot, tiny_model)
    panel.outlierKindCombo.setCurrentIndex(panel.outlierKindCombo.findData("classes"))
    panel.classEdit.setText("0-4")
    panel.run()
    assert panel.task.busy and panel.stopButton.isEnabled() and not panel.runButton.isEnabled()
    panel.stopButton.click()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.outcome is None
    assert panel.statusLabel.text().startswith("Stopped")
    assert panel.runButton.isEnabled() and not running_threads()
    panel.shutdown()


def test_an_unknown_data_set_is_reported_with_the_cores_message(qtbot, tiny_model: TrainedModel, monkeypatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text, *args: warnings.append(text))
    panel = make_panel(qtbot, tiny_model)
    panel.datasetCombo.setCurrentText("no-such-set")
    panel.run()
    qtbot.waitUntil(lambda: bool(warnings), timeout=RUN_TIMEOUT_MS)
    assert "Unknown data set 'no-such-set'" in warnings[0]
    assert panel.outcome is None and panel.runButton.isEnabled()
    panel.shutdown()


def test_scores_for_a_model_no_longer_shown_are_dropped(qtbot, digits_0_to_8: TrainedModel, tiny_model) -> None:
    panel = make_panel(qtbot, digits_0_to_8)
    panel.run()
    panel.state.add_model(TrainedModel(tiny_model.model, tiny_model.train_config, name="other"))  # while it runs
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.outcome is None and "no longer shown" in panel.statusLabel.text()
    panel.shutdown()


def test_the_summary_follows_the_current_model(qtbot, tiny_model: TrainedModel) -> None:
    """No stale "No model yet" while a model is shown, and it comes back when none is."""
    state = AppState()
    state.set_dataset(load_dataset("mnist"))
    panel = AnomalyPanel(state)
    qtbot.addWidget(panel)
    panel.show()  # a panel follows the state while on screen
    assert panel.summaryLabel.text().startswith("No model yet")
    state.add_model(tiny_model)
    qtbot.waitUntil(lambda: panel.runButton.isEnabled())
    assert "No model yet" not in panel.summaryLabel.text() and tiny_model.name in panel.summaryLabel.text()
    state.remove_model(tiny_model)
    qtbot.waitUntil(lambda: not panel.runButton.isEnabled())
    assert panel.summaryLabel.text().startswith("No model yet")
    panel.shutdown()


def test_another_model_clears_the_plots_and_their_legend(qtbot, held_out: AnomalyPanel, tiny_model) -> None:
    plot = held_out.histogramPlot.getPlotItem()

    def drawn() -> int:
        return sum(0 if item.xData is None else len(item.xData) for item in plot.listDataItems())

    assert plot.legend.isVisible() and drawn() > 0
    held_out.state.add_model(TrainedModel(tiny_model.model, tiny_model.train_config, name="other"))
    qtbot.waitUntil(lambda: held_out.outcome is None)
    assert not plot.legend.isVisible() and drawn() == 0 and held_out.aucLabel.text() == ""
