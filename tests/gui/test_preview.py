"""The preview: exact decodings of the probe, and the selected test image's original, reconstruction and posterior."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from PySide6.QtCore import QRect

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import decode, encode, posterior_samples
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels import preview as preview_module
from vae_studio.gui.panels.preview import PixelImageView, PreviewPanel


@pytest.fixture
def preview(qtbot, tiny_mnist: ImageDataset) -> Iterator[tuple[AppState, PreviewPanel]]:
    state = AppState()
    panel = PreviewPanel(state)
    qtbot.addWidget(panel)
    panel.resize(330, 600)
    panel.show()
    state.set_dataset(tiny_mnist)
    yield state, panel
    panel.shutdown()


def show(state: AppState, trained: TrainedModel) -> None:
    """Make ``trained`` current with its test-split encoding (what the latent map would provide)."""
    state.add_model(trained)
    labels = state.dataset.test_labels if trained.config.conditional else None
    state.set_encoding(encode(trained.model, state.dataset.test_images, labels))


def untrained(dataset: ImageDataset, **options: object) -> TrainedModel:
    return new_trained_model(dataset, TrainConfig(), "untrained", **options)


def test_probe_is_decoded_exactly_with_its_coordinates(preview, tiny_model) -> None:
    state, panel = preview
    assert panel.decodedView.image() is None
    show(state, tiny_model)
    assert panel.decodedView.image() is None  # nothing probed yet
    for z in ([0.5, -1.25], [-2.0, 0.75]):
        state.set_probe(np.array(z))
        image = panel.decodedView.image()
        assert image.shape == (1, 28, 28) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        np.testing.assert_array_equal(image, decode(tiny_model.model, state.probe)[0])
    assert panel.coordsLabel.text() == "z = [-2.00, 0.75]"
    state.set_probe(None)
    assert panel.decodedView.image() is None and panel.coordsLabel.text() == ""


def test_selection_shows_original_reconstruction_and_posterior_samples(preview, tiny_model) -> None:
    state, panel = preview
    show(state, tiny_model)
    assert not panel.selectionBox.isVisible()
    index = 7
    state.select(index)
    assert panel.selectionBox.isVisible()
    name = state.dataset.class_names[int(state.dataset.test_labels[index])]
    assert panel.selectionBox.title() == f"Test image #{index} · {name}"
    np.testing.assert_array_equal(panel.originalView.image(), state.dataset.test_images[index].numpy() / 255.0)
    mu, logvar = state.encoding.mu[index], state.encoding.logvar[index]
    np.testing.assert_array_equal(panel.reconstructionView.image(), decode(tiny_model.model, mu)[0])
    samples = decode(tiny_model.model, posterior_samples(mu, logvar, n=8, seed=index))
    assert panel.samplesRow.isVisible() and len(panel.sampleViews) == 8
    for view, image in zip(panel.sampleViews, samples, strict=True):
        np.testing.assert_array_equal(view.image(), image)
    sigma = np.exp(0.5 * logvar)
    assert panel.statsLabel.text() == f"μ = [{mu[0]:.2f}, {mu[1]:.2f}]\nσ = [{sigma[0]:.2f}, {sigma[1]:.2f}]"
    state.select(None)
    assert not panel.selectionBox.isVisible()


def test_new_weights_redraw_every_decoding_once(qtbot, preview, tiny_model, monkeypatch) -> None:
    state, panel = preview
    trained = copy.deepcopy(tiny_model)  # the session's model stays untouched
    show(state, trained)
    state.set_probe(np.array([0.3, 0.3]))
    state.select(2)
    before = panel.decodedView.image().copy()
    decoded: list[int] = []
    real_decode = preview_module.decode

    def counting_decode(model, z, *args, **kwargs):
        decoded.append(len(np.atleast_2d(z)))
        return real_decode(model, z, *args, **kwargs)

    monkeypatch.setattr(preview_module, "decode", counting_decode)
    with torch.no_grad():
        trained.model.decoder.head[-1].bias.add_(0.5)  # what loading a training snapshot does, in place
    # A training snapshot: new weights, then the new encoding, in one event-loop turn.
    state.current_weights_changed()
    after = panel.decodedView.image()  # the probe is redecoded at once
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, decode(trained.model, state.probe)[0])
    state.set_encoding(encode(trained.model, state.dataset.test_images))
    recon = decode(trained.model, state.encoding.mu[2])[0]
    qtbot.waitUntil(lambda: np.array_equal(panel.reconstructionView.image(), recon))
    qtbot.wait(20)
    assert decoded == [1, 1, 8]  # probe, reconstruction, samples: the selection was redrawn once


def test_plain_autoencoder_shows_mu_only(preview, tiny_mnist) -> None:
    state, panel = preview
    trained = untrained(tiny_mnist, kind="ae", latent_dim=10)
    show(state, trained)
    state.select(0)
    assert panel.statsLabel.text().startswith("μ = [") and "σ" not in panel.statsLabel.text()
    assert "(10 dims)" in panel.statsLabel.text()  # elided: the panel is narrow
    assert not panel.samplesRow.isVisible()
    np.testing.assert_array_equal(panel.reconstructionView.image(), decode(trained.model, state.encoding.mu[0])[0])


def test_conditional_vae_decodes_with_the_selected_class(preview, tiny_mnist) -> None:
    state, panel = preview
    trained = untrained(tiny_mnist, kind="cvae")
    show(state, trained)
    z = np.array([0.4, -0.2])
    state.set_probe(z)
    np.testing.assert_array_equal(panel.decodedView.image(), decode(trained.model, z, 0)[0])
    index = int(np.flatnonzero(tiny_mnist.test_labels.numpy() == 7)[0])
    state.select(index)
    np.testing.assert_array_equal(panel.decodedView.image(), decode(trained.model, z, 7)[0])
    assert "decoded as class 7" in panel.coordsLabel.text()
    np.testing.assert_array_equal(
        panel.reconstructionView.image(), decode(trained.model, state.encoding.mu[index], 7)[0]
    )


def test_selection_before_the_encoding_arrives_shows_the_original(qtbot, preview, tiny_model) -> None:
    state, panel = preview
    state.add_model(tiny_model)  # no encoding yet
    state.select(4)
    assert panel.selectionBox.isVisible() and panel.originalView.image() is not None
    assert panel.reconstructionView.image() is None and not panel.samplesRow.isVisible()
    state.set_encoding(encode(tiny_model.model, state.dataset.test_images))
    qtbot.waitUntil(lambda: panel.reconstructionView.image() is not None and panel.samplesRow.isVisible())


def test_hidden_panel_redraws_the_selection_when_shown(qtbot, preview, tiny_model) -> None:
    state, panel = preview
    show(state, tiny_model)
    panel.hide()  # e.g. another tab of its dock is in front
    state.select(3)
    assert panel.originalView.image() is None  # no work for a panel nobody sees
    panel.show()
    np.testing.assert_array_equal(panel.originalView.image(), state.dataset.test_images[3].numpy() / 255.0)
    np.testing.assert_array_equal(panel.reconstructionView.image(), decode(tiny_model.model, state.encoding.mu[3])[0])


def test_pixel_view_enlarges_by_whole_pixels_and_keeps_aspect(qtbot) -> None:
    view = PixelImageView(minimum=8)
    qtbot.addWidget(view)
    view.set_image(np.zeros((1, 28, 14), np.float32))
    view.resize(300, 200)
    assert view.target_rect() == QRect(101, 2, 98, 196)  # 7x: the largest whole multiple that fits
    view.resize(20, 20)
    rect = view.target_rect()
    assert rect.height() == 20 and rect.width() == 10  # below 1x it shrinks, aspect kept
    grabbed = view.grab().toImage()
    assert grabbed.width() == 20
