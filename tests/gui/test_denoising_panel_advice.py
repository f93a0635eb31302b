"""The denoising panel explains a clean-trained model's result and offers, in one click, the settings
of a denoising VAE."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import load_dataset
from vae_studio.core.denoising_advice import SMALL_GAIN_DB
from vae_studio.core.recipe import new_trained_model, training_data
from vae_studio.core.trained_model import TrainedModel
from vae_studio.core.trainer import Trainer
from vae_studio.gui.panels.denoising import DenoisingPanel

RESULT_TIMEOUT_MS = 20_000


@pytest.fixture
def panel(qtbot, tiny_model: TrainedModel) -> Iterator[DenoisingPanel]:
    state = AppState()
    state.set_dataset(load_dataset("mnist"))
    state.add_model(tiny_model)
    panel = DenoisingPanel(state)
    qtbot.addWidget(panel)
    panel.resize(420, 760)
    panel.show()
    qtbot.waitUntil(lambda: bool(panel.results), timeout=RESULT_TIMEOUT_MS)
    yield panel
    panel.shutdown()


def gain(panel: DenoisingPanel) -> float:
    result = panel.results[0]
    return result.mean_psnr_after - result.mean_psnr_before


def test_a_clean_trained_model_is_explained_and_one_click_asks_for_a_denoising_vae(
    qtbot, panel: DenoisingPanel, tiny_model: TrainedModel
) -> None:
    panel.corruptionCombo.setCurrentIndex(panel.corruptionCombo.findData("gaussian"))
    panel.levelSlider.setValue(50)
    qtbot.waitUntil(lambda: bool(panel.results) and panel.results[0].level == pytest.approx(0.5), timeout=RESULT_TIMEOUT_MS)
    assert tiny_model.train_config.corruption == "none"
    assert gain(panel) < SMALL_GAIN_DB  # a one-epoch model trained on clean images does not denoise
    assert panel.adviceBox.isVisible()
    assert "trained on clean images only" in panel.adviceLabel.text()
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
    qtbot.waitUntil(
        lambda: bool(panel.results) and panel.results[0].level == pytest.approx(0.5) and panel._request.models[0] is trained,
        timeout=RESULT_TIMEOUT_MS,
    )
    assert not panel.adviceBox.isVisible()
