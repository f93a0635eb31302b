"""The evaluate panel: figures from the worker with the binarisation stated, the time estimate, copying,
Stop; and the issue-5 panels as docks of the main window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtGui import QGuiApplication

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import load_dataset
from vae_studio.core.evaluation import binarization_description
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels.evaluate import EvaluatePanel
from vae_studio.gui.panels.evaluate.rows import REFERENCE_FIGURES
from vae_studio.gui.work.tasks import running_threads

RUN_TIMEOUT_MS = 60_000
SUBSET = 200
K = 5


def make_panel(qtbot, trained: TrainedModel) -> EvaluatePanel:
    state = AppState()
    state.set_dataset(load_dataset("mnist"))
    state.add_model(trained)
    panel = EvaluatePanel(state)
    qtbot.addWidget(panel)
    panel.resize(640, 520)
    panel.show()
    return panel


def table(panel: EvaluatePanel) -> dict[str, list[str]]:
    t = panel.resultsTable
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, 4)] for r in range(t.rowCount())}


@pytest.fixture
def evaluated(qtbot, tiny_model: TrainedModel) -> Iterator[EvaluatePanel]:
    panel = make_panel(qtbot, tiny_model)
    panel.kSpin.setValue(K)
    panel.subsetSpin.setValue(SUBSET)
    panel.evaluateButton.click()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    yield panel
    panel.shutdown()


def test_evaluating_with_k_5_on_a_subset(evaluated: EvaluatePanel) -> None:
    outcome = evaluated.outcome
    assert outcome is not None
    e = outcome.evaluation
    assert e.images == SUBSET and e.iw_samples == K and outcome.test_size == 10_000
    rows = table(evaluated)
    iw = float(rows[f"−log p(x), IW (K = {K})"][0])
    elbo = float(rows["Negative ELBO"][0])
    assert iw <= elbo + 0.5  # the IW bound is at least as tight as the ELBO (up to sampling noise)
    assert iw == pytest.approx(e.iw_nll, abs=1e-3) and elbo == pytest.approx(e.loss, abs=1e-3)
    # The binarisation goes with every number and with the header.
    assert all(images == "grey levels" for _value, _unit, images in rows.values())
    assert binarization_description("none") in evaluated.headerLabel.text()
    assert f"{SUBSET:,} images (a fixed random subset of 10,000)" in evaluated.headerLabel.text()
    assert "cross-entropies" in evaluated.notesLabel.text()  # Bernoulli on grey levels is not a likelihood
    assert evaluated.referencesLabel.text() == ""  # published figures only for dynamically binarized MNIST
    assert rows["Active units"][0] == f"{e.active_units} of 2"
    assert evaluated.statusLabel.text().startswith("Evaluated in")


def test_results_are_copied_as_text_and_json(evaluated: EvaluatePanel) -> None:
    evaluated.copyJsonButton.click()
    values = json.loads(QGuiApplication.clipboard().text())
    assert values["model"] == "tiny" and values["dataset"] == "mnist" and values["images"] == SUBSET
    assert values["iw_samples"] == K and values["binarization"] == binarization_description("none")
    evaluated.copyTextButton.click()
    text = QGuiApplication.clipboard().text()
    assert "Negative ELBO" in text and "(grey levels)" in text and text.startswith("“tiny” on the mnist test split")
    assert "note: Bernoulli likelihood on grey levels" in text


def test_the_time_estimate_follows_k_and_the_subset(qtbot, evaluated: EvaluatePanel) -> None:
    assert evaluated.estimateLabel.text().startswith("≈ ")
    assert f"for {SUBSET:,} images" in evaluated.estimateLabel.text()
    evaluated.subsetSpin.setValue(0)
    assert "for 10,000 images" in evaluated.estimateLabel.text()


def test_reference_figures_only_for_dynamically_binarized_mnist(qtbot, tiny_model: TrainedModel) -> None:
    binarized = TrainedModel(
        tiny_model.model, replace(tiny_model.train_config, binarize="dynamic"), tiny_model.class_names, name="dyn"
    )
    panel = make_panel(qtbot, binarized)
    panel.kSpin.setValue(2)
    panel.subsetSpin.setValue(50)
    panel.evaluate()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    assert all(images == "dynamically binarized" for *_rest, images in table(panel).values())
    assert all(figure in panel.referencesLabel.text() for figure in REFERENCE_FIGURES)
    assert "context only" in panel.referencesLabel.text()
    panel.shutdown()


def test_a_plain_autoencoder_has_no_likelihood(qtbot) -> None:
    config = TrainConfig(dataset="mnist")
    trained = new_trained_model(load_dataset("mnist"), config, "ae", kind="ae")
    panel = make_panel(qtbot, trained)
    assert not panel.kSpin.isEnabled()
    panel.subsetSpin.setValue(50)
    panel.evaluate()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    rows = table(panel)
    assert rows["−log p(x), IW"][0] == "n/a" and rows["Active units"][0] == "n/a"
    panel.shutdown()


def test_stop_keeps_the_partial_estimate_with_its_sample_size(qtbot, tiny_model: TrainedModel) -> None:
    panel = make_panel(qtbot, tiny_model)
    assert (panel.kSpin.value(), panel.subsetSpin.value()) == (50, 1000)  # the quick default
    panel.protocolButton.click()  # one click to the published protocol: every test image at K = 5,000
    assert (panel.kSpin.value(), panel.subsetSpin.text()) == (5000, "all")
    fractions: list[float] = []
    panel.task.progressed.connect(lambda fraction, _text: fractions.append(fraction))
    panel.evaluate()
    assert panel.task.busy and panel.stopButton.isEnabled() and not panel.evaluateButton.isEnabled()
    qtbot.waitUntil(lambda: any(f > 0 for f in fractions), timeout=RUN_TIMEOUT_MS)
    panel.stopButton.click()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    e = panel.outcome.evaluation
    assert 0 < e.iw_images < e.images and e.iw_samples == 5000
    assert panel.statusLabel.text().startswith("Stopped") and f"{e.iw_images:,} of {e.images:,}" in panel.statusLabel.text()
    assert any(figure.startswith("−log p(x), IW (K = 5,000, ") for figure in table(panel))
    assert panel.evaluateButton.isEnabled() and panel.state.progress is None
    panel.shutdown()
    assert not running_threads()


def test_another_model_clears_the_results_and_new_weights_mark_them(
    qtbot, evaluated: EvaluatePanel, tiny_model: TrainedModel
) -> None:
    state = evaluated.state
    state.current_weights_changed()  # a training snapshot of the evaluated model
    assert evaluated.outcome is not None and "trained since" in evaluated.headerLabel.text()
    assert state.dataset is not None
    state.add_model(new_trained_model(state.dataset, tiny_model.train_config, "other"))
    assert evaluated.outcome is None and evaluated.resultsTable.rowCount() == 0
    assert not evaluated.copyJsonButton.isEnabled()


def test_closing_the_window_stops_a_running_evaluation(qtbot, main_window) -> None:
    # Closing the window stops a running evaluation (the fixture's close; no thread may be left).
    main_window.state.add_model(new_trained_model(main_window.state.dataset, TrainConfig(), "fresh"))
    main_window.panels["evaluate"].kSpin.setValue(5000)
    main_window.panels["evaluate"].evaluate()
    assert main_window.panels["evaluate"].task.busy


def test_results_for_a_model_no_longer_shown_are_dropped(qtbot, tiny_model: TrainedModel) -> None:
    panel = make_panel(qtbot, tiny_model)
    panel.kSpin.setValue(2)
    panel.subsetSpin.setValue(50)
    panel.evaluate()
    state = panel.state
    assert state.dataset is not None
    state.add_model(new_trained_model(state.dataset, tiny_model.train_config, "other"))  # while it runs
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.outcome is None and "“tiny” is no longer shown" in panel.statusLabel.text()
    panel.shutdown()


def test_progress_goes_to_the_shared_state(qtbot, tiny_model: TrainedModel) -> None:
    panel = make_panel(qtbot, tiny_model)
    seen: list[tuple[float, str] | None] = []
    panel.state.subscribe(Event.PROGRESS, lambda: seen.append(panel.state.progress))
    panel.kSpin.setValue(20)
    panel.subsetSpin.setValue(300)
    panel.evaluate()
    qtbot.waitUntil(lambda: panel.outcome is not None, timeout=RUN_TIMEOUT_MS)
    fractions = [entry[0] for entry in seen if entry is not None]
    assert fractions and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(text.startswith("Evaluating, K = 20") for _fraction, text in filter(None, seen))
    assert seen[-1] is None  # the status bar's progress is cleared at the end
    panel.shutdown()
