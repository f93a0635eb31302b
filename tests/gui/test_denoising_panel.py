"""The denoising panel: corruptions, PSNRs against the core's, two models on the same inputs, the user's image."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import load_dataset
from vae_studio.core.denoising import compare_denoising, load_user_image, psnr, user_image_from_rgb
from vae_studio.core.denoising_advice import SMALL_GAIN_DB
from vae_studio.core.latent import encode
from vae_studio.core.recipe import new_trained_model, training_data
from vae_studio.core.trained_model import TrainedModel
from vae_studio.core.trainer import Trainer
from vae_studio.gui.panels.denoising import DenoisingPanel
from vae_studio.gui.panels.denoising.captions import format_db

RESULT_TIMEOUT_MS = 20_000


@pytest.fixture
def state(tiny_model: TrainedModel) -> AppState:
    state = AppState()
    state.set_dataset(load_dataset("mnist"))
    state.add_model(tiny_model)
    return state


@pytest.fixture
def panel(qtbot, state: AppState) -> Iterator[DenoisingPanel]:
    panel = DenoisingPanel(state)
    qtbot.addWidget(panel)
    panel.resize(420, 760)
    panel.show()
    qtbot.waitUntil(lambda: bool(panel.results), timeout=RESULT_TIMEOUT_MS)
    yield panel
    panel.shutdown()


def wait_for(qtbot, panel: DenoisingPanel, kind: str, level: float, models: int = 1) -> None:
    """Until the panel shows results for these settings (the worker answers the newest request)."""
    qtbot.waitUntil(
        lambda: bool(panel.results)
        and panel.results[0].kind == kind
        and panel.results[0].level == pytest.approx(level)
        and len(panel.results) == models,
        timeout=RESULT_TIMEOUT_MS,
    )


def test_each_corruption_changes_the_corrupted_images(qtbot, panel: DenoisingPanel) -> None:
    panel.levelSlider.setValue(40)
    seen = []
    for index in range(panel.corruptionCombo.count()):
        panel.corruptionCombo.setCurrentIndex(index)
        wait_for(qtbot, panel, panel.kind, 0.4)
        result = panel.results[0]
        shown = panel.gridView.images()
        assert shown is not None and shown.shape[:2] == (panel.rowsSpin.value(), 3)
        assert not np.array_equal(result.corrupted, result.clean), panel.kind
        np.testing.assert_array_equal(shown[:, 1], result.corrupted[: shown.shape[0]])
        seen.append(result.corrupted)
    assert len(seen) == 4
    for i in range(len(seen)):
        for j in range(i + 1, len(seen)):
            assert not np.array_equal(seen[i], seen[j])


def test_psnr_labels_match_the_core_on_the_same_inputs(qtbot, panel: DenoisingPanel, state: AppState) -> None:
    panel.corruptionCombo.setCurrentIndex(panel.corruptionCombo.findData("salt-pepper"))
    panel.levelSlider.setValue(25)
    wait_for(qtbot, panel, "salt-pepper", 0.25)
    assert state.dataset is not None and state.current is not None
    images = state.dataset.test_images[panel.indices]
    (expected,) = compare_denoising([state.current.model], images, "salt-pepper", 0.25, seed=panel.seed)
    before = psnr(expected.clean, expected.corrupted)
    after = psnr(expected.clean, expected.reconstructed)
    rows = panel.rowsSpin.value()
    captions = panel.psnr_captions()
    assert len(captions) == rows * 3
    for i in range(rows):
        assert captions[3 * i + 1] == format_db(before[i], unit=False)
        assert captions[3 * i + 2] == format_db(after[i], unit=False)
    text = panel.psnrLabel.text()
    assert f"corrupted {format_db(before.mean())}" in text
    assert f"reconstructed {format_db(after.mean())}" in text
    assert f"mean over {len(images):,} test images" in text


def test_new_images_and_rows(qtbot, panel: DenoisingPanel) -> None:
    first = panel.indices.copy()
    panel.new_images()
    qtbot.waitUntil(lambda: panel.results[0].clean.shape == (len(first), 1, 28, 28) and not np.array_equal(
        panel.indices, first), timeout=RESULT_TIMEOUT_MS)
    panel.rowsSpin.setValue(3)
    shown = panel.gridView.images()
    assert shown is not None and shown.shape[0] == 3


def test_comparing_two_models_shows_both_on_the_same_inputs(
    qtbot, panel: DenoisingPanel, state: AppState, tiny_model: TrainedModel
) -> None:
    assert state.dataset is not None
    other = new_trained_model(state.dataset, tiny_model.train_config, "untrained")
    state.add_model(other, make_current=False)
    panel.compareCombo.setCurrentIndex(panel.compareCombo.findText("untrained"))
    assert panel.compared_model() is other
    wait_for(qtbot, panel, panel.kind, panel.level, models=2)
    plain, second = panel.results
    np.testing.assert_array_equal(plain.corrupted, second.corrupted)  # the very same corrupted inputs
    assert not np.array_equal(plain.reconstructed, second.reconstructed)
    shown = panel.gridView.images()
    assert shown is not None and shown.shape[1] == 4
    assert "Model A" in panel.psnrLabel.text() and "Model B" in panel.psnrLabel.text()
    assert "“tiny”" in panel.modelsLabel.text() and "“untrained”" in panel.modelsLabel.text()
    # Removing the second model drops it from the comparison.
    state.remove_model(other)
    wait_for(qtbot, panel, panel.kind, panel.level, models=1)
    assert panel.compareCombo.currentData() is None


def test_a_denoising_model_starts_on_the_corruption_it_learnt(
    qtbot, panel: DenoisingPanel, state: AppState, tiny_model: TrainedModel
) -> None:
    config = replace(tiny_model.train_config, corruption="block", noise_level=0.5)
    state.add_model(TrainedModel(tiny_model.model, config, tiny_model.class_names, name="denoising"))
    wait_for(qtbot, panel, "block", 0.5)
    assert panel.kind == "block" and panel.levelLabel.text() == "0.50"
    assert "trained with masked blocks at 0.50" in panel.modelsLabel.text()


def _write_digit(path: Path) -> Path:
    """A dark '1'-like bar drawn on white paper, as a user might photograph or paint one."""
    pixels = np.full((60, 40), 255, np.uint8)
    pixels[10:50, 17:24] = 20
    Image.fromarray(pixels, "L").save(path)
    return path


def test_loading_a_png_reconstructs_it_and_probes_its_mu(
    qtbot, panel: DenoisingPanel, state: AppState, tmp_path: Path
) -> None:
    path = _write_digit(tmp_path / "one.png")
    assert panel.load_user_image(path)
    assert state.current is not None
    expected = load_user_image(path, (1, 28, 28))
    assert panel.user_image is not None
    np.testing.assert_array_equal(panel.user_image.pixels, expected.pixels)
    shown = panel.userView.images()
    assert shown is not None and shown.shape[:2] == (1, 2)
    np.testing.assert_allclose(shown[0, 0], expected.pixels / 255.0, atol=1e-6)
    assert state.probe is not None
    np.testing.assert_allclose(state.probe, encode(state.current.model, expected.batch()).mu[0], rtol=1e-5)
    assert "one.png (inverted" in panel.userLabel.text()


def test_a_file_that_is_not_an_image_warns(panel: DenoisingPanel, tmp_path: Path, monkeypatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text, *args: warnings.append(text))
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert not panel.load_user_image(bad)
    assert len(warnings) == 1 and "notes.png" in warnings[0]
    assert panel.user_image is None


def _draw_stroke(qtbot, panel: DenoisingPanel) -> None:
    canvas = panel.canvas
    rect = canvas.target_rect()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(rect.left() + int(fx * rect.width()), rect.top() + int(fy * rect.height()))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(0.3, 0.2))
    for t in np.linspace(0.0, 1.0, 6):
        qtbot.mouseMove(canvas, at(0.3 + 0.4 * t, 0.2))
    for t in np.linspace(0.0, 1.0, 6):
        qtbot.mouseMove(canvas, at(0.7 - 0.3 * t, 0.2 + 0.6 * t))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(0.4, 0.8))


def test_drawing_on_the_canvas_reconstructs_it_and_probes_its_mu(
    qtbot, panel: DenoisingPanel, state: AppState
) -> None:
    panel.tabs.setCurrentIndex(1)
    assert panel.canvas.blank
    _draw_stroke(qtbot, panel)
    assert not panel.canvas.blank
    assert state.current is not None and panel.user_image is not None
    expected = user_image_from_rgb(panel.canvas.rgb(), (1, 28, 28), invert=False)
    np.testing.assert_array_equal(panel.user_image.pixels, expected.pixels)
    assert expected.pixels.max() == 255 and (expected.pixels == 0).mean() > 0.5  # white strokes on black
    assert state.probe is not None
    np.testing.assert_allclose(state.probe, encode(state.current.model, expected.batch()).mu[0], rtol=1e-5)
    assert panel.userView.images() is not None

    panel.clearButton.click()
    assert panel.canvas.blank and panel.user_image is None and panel.userView.images() is None
    assert state.probe is None


def test_the_probe_follows_the_image_until_someone_else_probes(
    qtbot, panel: DenoisingPanel, state: AppState, tiny_model: TrainedModel, tmp_path: Path
) -> None:
    assert state.dataset is not None
    other = new_trained_model(state.dataset, tiny_model.train_config, "untrained")
    state.add_model(other, make_current=False)
    panel.load_user_image(_write_digit(tmp_path / "one.png"))
    assert panel.user_image is not None
    state.set_current(other)  # another model: the image's code under that model is the probe
    assert state.probe is not None
    np.testing.assert_allclose(state.probe, encode(other.model, panel.user_image.batch()).mu[0], rtol=1e-5)
    elsewhere = np.array([3.0, -3.0])
    state.set_probe(elsewhere)  # a click on the map
    state.current_weights_changed()  # a training refresh no longer moves the probe
    np.testing.assert_array_equal(state.probe, elsewhere)


def test_a_clean_trained_model_is_explained_and_one_click_asks_for_a_denoising_vae(
    qtbot, panel: DenoisingPanel, tiny_model: TrainedModel
) -> None:
    panel.corruptionCombo.setCurrentIndex(panel.corruptionCombo.findData("gaussian"))
    panel.levelSlider.setValue(50)
    wait_for(qtbot, panel, "gaussian", 0.5)
    result = panel.results[0]
    assert tiny_model.train_config.corruption == "none"
    # A one-epoch model trained on clean images does not denoise.
    assert result.mean_psnr_after - result.mean_psnr_before < SMALL_GAIN_DB
    assert panel.adviceBox.isVisible()
    assert "Trained on clean images only" in panel.adviceLabel.text()
    with qtbot.waitSignal(panel.train_denoising_requested) as blocker:
        qtbot.mouseClick(panel.trainDenoisingButton, Qt.MouseButton.LeftButton)
    (settings,) = blocker.args
    assert settings["corruption"] == "gaussian" and settings["noise_level"] == pytest.approx(0.5)
    assert (settings["kind"], settings["latent_dim"]) == ("vae", tiny_model.config.latent_dim)

    panel.state.set_current(None)
    qtbot.waitUntil(lambda: not panel.results)
    assert not panel.adviceBox.isVisible()


def test_a_denoising_model_gets_no_explanation(qtbot, panel: DenoisingPanel) -> None:
    config = TrainConfig(train_subset=1000, epochs=1, batch_size=100, corruption="gaussian", noise_level=0.5)
    dataset = training_data(config)
    trained = new_trained_model(dataset, config, "denoising")
    Trainer(trained.model, dataset, config, history=trained.history).run()
    panel.state.add_model(trained)
    # The panel shows a denoising model on the corruption it was trained with.
    wait_for(qtbot, panel, "gaussian", 0.5)
    qtbot.waitUntil(lambda: panel.modelsLabel.text().startswith("Reconstructed by “denoising”"))
    assert not panel.adviceBox.isVisible()


def test_no_stale_no_model_message_while_the_first_batch_computes(qtbot, state: AppState) -> None:
    panel = DenoisingPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()  # a model is current: the grid says it is working, not that there is no model
    assert panel.gridView.placeholder().startswith("Corrupting and reconstructing")
    qtbot.waitUntil(lambda: bool(panel.results), timeout=RESULT_TIMEOUT_MS)
    panel.shutdown()
