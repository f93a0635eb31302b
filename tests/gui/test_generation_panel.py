"""The generation panel: a grid of decoded prior samples, temperature, new samples, class choice, export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QFileDialog

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import decode, sample_prior
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels.generation import GenerationPanel

TIMEOUT_MS = 15_000


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def panel(qtbot, state: AppState) -> Iterator[GenerationPanel]:
    panel = GenerationPanel(state)
    qtbot.addWidget(panel)
    panel.show()  # the panel draws only while on screen
    yield panel
    panel.shutdown()


def test_grid_of_prior_samples_with_temperature_and_new_seeds(panel: GenerationPanel, state: AppState, tiny_model: TrainedModel) -> None:
    assert panel.sampleView.images() is None and not panel.exportButton.isEnabled()
    state.add_model(tiny_model)
    assert not panel.classCombo.isVisibleTo(panel)  # a plain VAE has no class to choose
    panel.gridSpin.setValue(3)
    grid = panel.sampleView.images()
    assert grid.shape == (3, 3, 1, 28, 28)
    expected = decode(tiny_model.model, sample_prior(2, 9, 1.0, seed=panel.seed))
    assert np.allclose(grid.reshape(9, 1, 28, 28), expected, atol=1e-6)

    panel.newSamplesButton.click()
    assert panel.seed == 1 and not np.allclose(panel.sampleView.images(), grid)

    # Temperature 0: every sample is the prior's mean, so every picture is the decoding of z = 0.
    panel.temperatureSlider.setValue(0)
    assert panel.temperature == 0 and panel.temperatureLabel.text() == "T = 0.00"
    cold = panel.sampleView.images().reshape(9, 1, 28, 28)
    # Identical up to the last bit that blocked matrix products may round differently for some rows.
    assert np.abs(cold - cold[0]).max() < 1e-6
    assert np.allclose(cold[0], decode(tiny_model.model, np.zeros(2))[0], atol=1e-6)
    panel.temperatureSlider.setValue(panel.temperatureSlider.maximum())
    assert panel.temperature == pytest.approx(2.0)


def test_conditional_vae_generates_the_chosen_class(qtbot, panel: GenerationPanel, state: AppState, tiny_mnist: ImageDataset) -> None:
    cvae = new_trained_model(tiny_mnist, TrainConfig(), "cvae", kind="cvae")
    state.add_model(cvae)
    QApplication.processEvents()  # the panel follows the state on the next event-loop turn
    assert panel.classCombo.isVisibleTo(panel) and panel.classCombo.count() == 10
    panel.gridSpin.setValue(2)
    panel.classCombo.setCurrentIndex(4)
    z = sample_prior(2, 4, 1.0, seed=panel.seed)
    assert np.allclose(panel.sampleView.images().reshape(4, 1, 28, 28), decode(cvae.model, z, 4), atol=1e-6)
    assert "class 4" in panel.captionLabel.text()
    # A larger grid (over 100 decodings) is decoded on the panel's worker thread.
    panel.gridSpin.setValue(11)
    qtbot.waitUntil(lambda: panel.sampleView.images().shape[0] == 11, timeout=TIMEOUT_MS)
    state.remove_model(cvae)
    QApplication.processEvents()
    assert panel.sampleView.images() is None


def test_export_png(panel: GenerationPanel, state: AppState, tiny_model: TrainedModel, tmp_path: Path, monkeypatch) -> None:
    state.add_model(tiny_model)
    panel.gridSpin.setValue(4)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(tmp_path / "samples.png"), ""))
    panel.exportButton.click()
    with Image.open(tmp_path / "samples.png") as image:
        assert image.width == image.height > 4 * 56
