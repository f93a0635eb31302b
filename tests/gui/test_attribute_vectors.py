"""Attribute vectors in the window: a folder with an attribute table offers each attribute as a latent
arithmetic vector (Interpolation → Latent arithmetic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from attribute_folders import write_squares
from vae_studio.core.app_state import AppState
from vae_studio.core.attributes import attribute_vectors, find_table, read_table, table_images
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import load_dataset
from vae_studio.core.latent import decode, encode
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trainer import Trainer
from vae_studio.gui.panels.interpolation import InterpolationPanel

TIMEOUT_MS = 30_000


def attribute_entries(panel: InterpolationPanel) -> dict[str, object]:
    combo = panel.vectorCombo
    entries = {combo.itemText(i): combo.itemData(i) for i in range(combo.count())}
    return {text: data for text, data in entries.items() if data not in ("classes", "path")}


def test_each_attribute_is_a_vector_and_a_folder_without_a_table_has_none(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "squares"
    write_squares(folder, 80)
    dataset = load_dataset(f"folder:{folder}", image_size=16, channels=3)
    config = TrainConfig(dataset=dataset.name, epochs=2, batch_size=20, image_size=16, channels=3)
    trained = new_trained_model(dataset, config, "squares")
    Trainer(trained.model, dataset, config, history=trained.history).run()
    state = AppState()
    state.set_dataset(dataset)
    state.add_model(trained)
    panel = InterpolationPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.tabs.setCurrentIndex(1)
    assert attribute_entries(panel) == {"Attribute: Large": "attribute:Large", "Attribute: Red": "attribute:Red"}

    panel.baseSpin.setValue(0)
    panel.strengthSpin.setValue(3.0)
    panel.countSpin.setValue(4)
    panel.vectorCombo.setCurrentIndex(panel.vectorCombo.findData("attribute:Large"))
    # The means are computed on a worker thread; the strip follows when they arrive.
    qtbot.waitUntil(lambda: panel.arithmetic is not None, timeout=TIMEOUT_MS)
    row = panel.arithmeticView.images()
    assert row is not None and row.shape == (1, 4, 3, 16, 16)
    base = encode(trained.model, dataset.test_images[0:1]).mu
    assert np.allclose(row[0, 0], decode(trained.model, base)[0], atol=1e-6)
    assert np.abs(row[0, -1] - row[0, 0]).max() > 1e-3
    table = read_table(find_table(folder))
    vectors = attribute_vectors(trained.model, *table_images(folder, table, 16, 3), table.names)
    assert np.allclose(panel.arithmetic.vector, vectors.direction("Large"), atol=1e-5)

    # New weights drop the means: the strip waits for them again, then comes back.
    state.current_weights_changed()
    assert panel._attribute_vectors is None
    qtbot.waitUntil(lambda: panel._attribute_vectors is not None and panel.arithmetic is not None, timeout=TIMEOUT_MS)

    (folder / "list_attr_celeba.txt").unlink()
    state.set_dataset(load_dataset(f"folder:{folder}", image_size=16, channels=3))
    qtbot.waitUntil(lambda: not attribute_entries(panel), timeout=TIMEOUT_MS)
    assert panel.vectorCombo.currentData() == "classes"

    (folder / "attributes.txt").write_text("Large\na.png 1\n")
    state.set_dataset(load_dataset(f"folder:{folder}", image_size=16, channels=3))
    qtbot.waitUntil(lambda: "not an attribute table" in panel.arithmeticLabel.text(), timeout=TIMEOUT_MS)
    assert not attribute_entries(panel)
    panel.shutdown()


def test_listed_images_that_are_gone_are_a_message(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "squares"
    write_squares(folder, 40)
    dataset = load_dataset(f"folder:{folder}", image_size=16, channels=3)
    state = AppState()
    state.set_dataset(dataset)
    state.add_model(new_trained_model(dataset, TrainConfig(dataset=dataset.name), "untrained"))
    for image in folder.glob("*.png"):
        image.unlink()  # gone after loading: the table lists images that are no longer there
    panel = InterpolationPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.vectorCombo.setCurrentIndex(panel.vectorCombo.findData("attribute:Red"))
    qtbot.waitUntil(lambda: "None of the 40 images" in panel.arithmeticView.placeholder(), timeout=TIMEOUT_MS)
    panel.shutdown()
