"""The interpolation panel: endpoints from the map, test images, class means and the prior; the strip,
its distances, the path on the map, playback, export, and latent arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.interpolation import class_mean, latent_arithmetic
from vae_studio.core.latent import decode, encode
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels.interpolation import InterpolationPanel
from vae_studio.gui.panels.latent_map import LatentMapPanel

TIMEOUT_MS = 15_000


@pytest.fixture
def state(tiny_mnist: ImageDataset, tiny_model: TrainedModel) -> AppState:
    state = AppState()
    state.set_dataset(tiny_mnist)
    state.add_model(tiny_model)
    state.set_encoding(encode(tiny_model.model, tiny_mnist.test_images))
    return state


@pytest.fixture
def panel(qtbot, state: AppState) -> Iterator[InterpolationPanel]:
    panel = InterpolationPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1100, 340)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()


def mu_of(state: AppState, index: int) -> np.ndarray:
    assert state.encoding is not None
    return state.encoding.mu[index].astype(np.float64)


def test_strip_has_the_requested_frames_and_exact_endpoints(panel: InterpolationPanel, state: AppState, tiny_model) -> None:
    panel.endpointA.set_image(4)
    panel.endpointB.set_source("class")
    panel.endpointB.classCombo.setCurrentIndex(3)
    panel.stepsSpin.setValue(7)
    frames = panel.stripView.images()
    assert frames is not None and frames.shape == (1, 7, 1, 28, 28)
    # Endpoints: the test image's μ (encoded by the panel itself) and the class mean of the map's encoding.
    z_a = encode(tiny_model.model, state.dataset.test_images[4:5]).mu[0].astype(np.float64)
    z_b = class_mean(state.encoding.mu, state.dataset.test_labels.numpy(), 3)
    # The path starts and ends exactly at A and B, and its end frames are their decodings (batched
    # matrix products may differ from one-image products in the last bit, hence the tolerance).
    assert np.array_equal(panel.interpolation.codes[0], z_a) and np.array_equal(panel.interpolation.codes[-1], z_b)
    assert np.array_equal(frames[0], decode(tiny_model.model, panel.interpolation.codes))
    assert np.allclose(frames[0, 0], decode(tiny_model.model, z_a)[0], rtol=0, atol=1e-6)
    assert np.allclose(frames[0, -1], decode(tiny_model.model, z_b)[0], rtol=0, atol=1e-6)
    x, y = panel.distanceCurve.getData()
    assert len(x) == len(y) == 6
    assert np.allclose(y, panel.interpolation.distances)
    assert "the mean" in panel.smoothnessLabel.text() and "times the mean change" in panel.smoothnessLabel.toolTip()

    panel.stepsSpin.setValue(64)
    assert panel.stripView.images().shape[1] == 64 and len(panel.distanceCurve.getData()[0]) == 63
    assert panel.interpolation.method == "linear"  # the default: a straight line on the map
    assert np.allclose(panel.interpolation.codes[32], (1 - 32 / 63) * z_a + 32 / 63 * z_b)
    linear_codes = panel.interpolation.codes
    panel.methodCombo.setCurrentIndex(panel.methodCombo.findData("slerp"))
    assert panel.interpolation.method == "slerp"
    assert np.array_equal(panel.interpolation.codes[[0, -1]], linear_codes[[0, -1]])
    assert not np.allclose(panel.interpolation.codes[32], linear_codes[32])


def test_prior_endpoints_and_new_samples(panel: InterpolationPanel, tiny_model) -> None:
    panel.endpointA.set_source("prior")
    panel.endpointB.set_source("prior")
    codes = panel.interpolation.codes
    # Each endpoint has its own seed: a new sample for B moves only B.
    panel.endpointB.newSampleButton.click()
    assert np.array_equal(panel.interpolation.codes[0], codes[0])
    assert not np.array_equal(panel.interpolation.codes[-1], codes[-1])
    assert np.allclose(panel.stripView.images()[0, -1], decode(tiny_model.model, panel.interpolation.codes[-1])[0], atol=1e-6)


def test_endpoints_from_map_clicks_and_the_pick_mode(qtbot, panel: InterpolationPanel, state: AppState) -> None:
    z = np.array([0.5, -1.0])
    state.set_probe(z)
    panel.endpointA.mapButton.click()
    assert panel.endpointA.source == "map" and np.array_equal(panel.interpolation.codes[0], z)

    panel.pickButton.click()
    assert panel.pickButton.isChecked() and "start" in panel.pickHint.text()
    state.set_probe(np.array([-2.0, 2.0]))  # a click in empty space: A is that latent point
    assert "end" in panel.pickHint.text()
    # A click on a dot selects it and probes the cursor position in one go: B is the dot's μ.
    state.select(7)
    state.set_probe(mu_of(state, 7) + 0.01)
    assert not panel.pickButton.isChecked() and panel.pickHint.text() == ""
    assert panel.endpointA.source == "map" and np.array_equal(panel.interpolation.codes[0], [-2.0, 2.0])
    assert panel.endpointB.source == "image" and panel.endpointB.indexSpin.value() == 7
    assert np.allclose(panel.interpolation.codes[-1], mu_of(state, 7), atol=1e-6)

    # Once that click has been handled, later probes are plain map points again.
    QApplication.processEvents()
    state.set_probe(np.array([1.0, 1.0]))
    panel.endpointB.mapButton.click()
    assert panel.endpointB.source == "map" and np.array_equal(panel.interpolation.codes[-1], [1.0, 1.0])


def test_path_is_drawn_on_the_latent_map_while_the_panel_shows(qtbot, panel: InterpolationPanel, state: AppState) -> None:
    latent_map = LatentMapPanel(state)
    qtbot.addWidget(latent_map)
    latent_map.show()
    qtbot.waitExposed(latent_map)
    assert state.overlay_path is not None and np.array_equal(state.overlay_path, panel.interpolation.codes)
    x, y = latent_map._path_line.getData()
    assert np.allclose(np.stack([x, y], axis=1), state.view.to_plane(panel.interpolation.codes))

    panel.showOnMapCheck.setChecked(False)
    assert state.overlay_path is None and len(latent_map._path_line.getData()[0]) == 0
    panel.showOnMapCheck.setChecked(True)
    panel.hide()
    assert state.overlay_path is None
    panel.show()
    assert state.overlay_path is not None
    latent_map.shutdown()


def test_playback_walks_the_frames(qtbot, panel: InterpolationPanel) -> None:
    panel.stepsSpin.setValue(4)
    panel.speedSpin.setValue(30)
    seen: set[int] = set()
    panel.playButton.click()
    assert panel.playButton.text() == "Pause"

    def collect() -> bool:
        seen.add(panel.stripView.highlight()[1])
        return seen == {0, 1, 2, 3}

    qtbot.waitUntil(collect, timeout=TIMEOUT_MS)
    frame = panel.stripView.highlight()[1]
    assert np.array_equal(panel.frameView.images()[0, 0], panel.interpolation.frames[frame])
    panel.playButton.click()
    assert panel.playButton.text() == "Play"
    paused: set[int] = set()
    for _ in range(5):  # several frame times at 30 fps: a running animation would move on
        paused.add(panel.stripView.highlight()[1])
        qtbot.wait(40)
    assert paused == {frame}
    # Clicking a frame of the strip shows it.
    panel.stripView.cellClicked.emit(0, 2)
    assert np.array_equal(panel.frameView.images()[0, 0], panel.interpolation.frames[2])


def test_export_strip_png_and_animation_gif(panel: InterpolationPanel, tmp_path: Path, monkeypatch) -> None:
    panel.stepsSpin.setValue(5)
    target = {"path": ""}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (target["path"], ""))
    target["path"] = str(tmp_path / "strip")  # the suffix is added
    panel.exportPngAction.trigger()
    with Image.open(tmp_path / "strip.png") as image:
        assert image.width > 5 * 28 and image.height >= 28
    target["path"] = str(tmp_path / "walk.gif")
    panel.exportGifAction.trigger()
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 8  # back and forth: 5 frames, then 3 on the way back
        assert gif.size == (4 * 28, 4 * 28)
    panel.bounceCheck.setChecked(False)
    panel.exportGifAction.trigger()
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 5
    target["path"] = ""  # cancelled: nothing written, nothing shown
    panel.exportPngAction.trigger()


def test_latent_arithmetic_row(panel: InterpolationPanel, state: AppState, tiny_model) -> None:
    panel.tabs.setCurrentIndex(1)
    panel.baseSpin.setValue(2)
    panel.fromClassCombo.setCurrentIndex(1)
    panel.toClassCombo.setCurrentIndex(7)
    panel.strengthSpin.setValue(2.0)
    panel.countSpin.setValue(5)
    row = panel.arithmeticView.images()
    assert row is not None and row.shape == (1, 5, 1, 28, 28)
    mu, labels = state.encoding.mu, state.dataset.test_labels.numpy()
    base = encode(tiny_model.model, state.dataset.test_images[2:3]).mu[0]
    expected = latent_arithmetic(
        tiny_model.model, base, class_mean(mu, labels, 1), class_mean(mu, labels, 7), np.linspace(0, 2, 5)
    )
    assert np.allclose(panel.arithmetic.strengths, [0, 0.5, 1, 1.5, 2])
    assert np.allclose(row[0], expected.images, atol=1e-6)
    # The "selected" button takes the map's selected image; the vector can also be A -> B of the path.
    state.select(9)
    panel.useSelectedButton.click()
    assert panel.baseSpin.value() == 9
    panel.vectorCombo.setCurrentIndex(panel.vectorCombo.findData("path"))
    assert not panel.fromClassCombo.isEnabled()
    assert np.allclose(panel.arithmetic.vector, panel.interpolation.codes[-1] - panel.interpolation.codes[0])


def test_no_model_and_a_convolutional_model_in_the_background(qtbot, tiny_mnist: ImageDataset) -> None:
    state = AppState()
    state.set_dataset(tiny_mnist)
    panel = InterpolationPanel(state)
    qtbot.addWidget(panel)
    panel.show()  # the panel computes only while on screen
    assert panel.interpolation is None and not panel.exportButton.isEnabled()
    # A convolutional decoder is decoded on the panel's worker thread.
    conv = new_trained_model(tiny_mnist, TrainConfig(), "conv", arch="conv")
    state.add_model(conv)
    qtbot.waitUntil(lambda: panel.interpolation is not None, timeout=TIMEOUT_MS)
    assert panel.stripView.images().shape[:2] == (1, 10)
    panel.shutdown()


def test_the_interpolation_page_computes_and_draws_its_path_only_while_shown(main_window, qtbot, tiny_model) -> None:
    window = main_window
    # The interpolation is computed, and its path is on the map, only while its tab is raised.
    interpolation, state = window.panels["interpolation"], window.state
    state.add_model(tiny_model)
    qtbot.wait(50)
    assert interpolation.interpolation is None and state.overlay_path is None
    window.show_panel("interpolation")
    qtbot.waitUntil(lambda: interpolation.interpolation is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: state.overlay_path is not None, timeout=TIMEOUT_MS)
    window.show_panel("loss")
    qtbot.waitUntil(lambda: state.overlay_path is None, timeout=TIMEOUT_MS)
    # Closing the window ends every panel.
    window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    window.close()
    assert all(state.subscribers(event) == 0 for event in Event)
