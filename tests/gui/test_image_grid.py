"""The image grid every gallery uses: a double-click enlarges an image in a window of its own."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from vae_studio.gui.widgets.image_grid import ENLARGED_SIDE, ImageGridView


def test_a_double_click_enlarges_the_cell_with_its_labels(qtbot) -> None:
    images = np.random.default_rng(0).random((2, 3, 1, 28, 28)).astype(np.float32)
    grid = ImageGridView()
    qtbot.addWidget(grid)
    grid.resize(300, 200)
    grid.set_images(images, row_labels=["AE", "VAE"], column_labels=["a", "b", "c"])
    grid.show()
    QTest.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(1, 2).center())
    dialog = grid.findChild(object, "enlargedImage")
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "VAE · c"
    pixmap = dialog.findChild(object, "enlargedPicture").pixmap()
    assert pixmap.width() == pixmap.height() == 28 * (ENLARGED_SIDE // 28)
    # The enlarged pixels are the cell's own: its top-left source pixel fills the first 12x12 block.
    expected = int(np.clip(images[1, 2, 0, 0, 0], 0, 1) * 255 + 0.5)
    assert pixmap.toImage().pixelColor(5, 5).red() == expected
    dialog.close()


def test_a_double_click_outside_the_images_opens_nothing(qtbot) -> None:
    grid = ImageGridView("nothing yet")
    qtbot.addWidget(grid)
    grid.resize(200, 100)
    grid.show()
    QTest.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=grid.rect().center())
    assert grid.findChild(object, "enlargedImage") is None
