"""The latent map flags posterior collapse and tiny scales on itself, and keeps the prior in view."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import Encoding
from vae_studio.core.recipe import new_trained_model
from vae_studio.gui.panels.latent_map import LatentMapPanel


@pytest.fixture
def panel(qtbot, tiny_mnist: ImageDataset) -> Iterator[LatentMapPanel]:
    state = AppState()
    panel = LatentMapPanel(state)
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    qtbot.waitExposed(panel)
    state.set_dataset(tiny_mnist)
    # A VAE with z = 8; the encodings below stand for what training gave it.
    state.add_model(new_trained_model(tiny_mnist, TrainConfig(), "z8", latent_dim=8))
    yield panel
    panel.shutdown()


def codes(panel: LatentMapPanel, std: float) -> Encoding:
    n = len(panel.state.dataset.test_images)
    mu = np.random.default_rng(0).normal(0.0, std, (n, 8)).astype(np.float32)
    # Collapsed dimensions have the prior as posterior (sigma 1); used ones a narrow one.
    logvar = np.full_like(mu, 0.0 if std < 0.05 else np.log(0.01))
    return Encoding(mu, logvar)


def shown(panel: LatentMapPanel, encoding: Encoding) -> None:
    panel._encode_runner.stop()  # the map's own encoding of the untrained model is not wanted here
    panel.state.set_encoding(encoding)
    panel.latentMap.viewport().repaint()
    QApplication.processEvents()


def test_a_collapsed_model_is_flagged_on_the_map_with_the_prior_in_view(qtbot, panel: LatentMapPanel) -> None:
    qtbot.waitUntil(lambda: panel.state.encoding is not None, timeout=15_000)
    shown(panel, codes(panel, 0.001))
    notice = panel.mapNotice
    assert notice.isVisible()
    assert notice.text().splitlines()[0] == "0 of 8 dimensions active: the decoder ignores z"
    # The prior's 2-sigma circle is in the fitted view, not off screen around a cloud scaled x0.001.
    (x0, x1), (y0, y1) = panel.latentMap.getViewBox().viewRange()
    assert x0 <= -2 and x1 >= 2 and y0 <= -2 and y1 >= 2

    shown(panel, codes(panel, 1.0))
    assert not notice.isVisible()
