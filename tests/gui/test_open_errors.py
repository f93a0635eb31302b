"""Every failure of opening a file in the window reaches the user as a message box, and a folder
with too many files is loaded only after the user agrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from checkpoint_files import read_parts, write_parts
from PySide6.QtWidgets import QMessageBox, QWidget

from vae_studio.gui import MainWindow
from vae_studio.gui.work.dataset_loader import folder_spec


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Texts of every warning and question box; questions are answered Yes."""
    shown: list[str] = []

    def record(answer):
        def show(parent: QWidget, title: str, text: str, *args: object) -> QMessageBox.StandardButton:
            shown.append(text)
            return answer

        return show

    monkeypatch.setattr(QMessageBox, "warning", record(QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record(QMessageBox.StandardButton.Yes))
    return shown


def test_symlink_loop_and_nested_description_are_messages(
    main_window: MainWindow, tiny_checkpoint: Path, tmp_path: Path, boxes: list[str]
) -> None:
    main_window.open_checkpoint(tiny_checkpoint)  # an open model: the loop is compared with its path
    loop = tmp_path / "loop.vae"
    loop.symlink_to(loop)
    nested = tmp_path / "nested.vae"
    header, data = read_parts(tiny_checkpoint)
    header["__metadata__"]["info"] = "[" * 100_000
    write_parts(nested, header, data)
    for path in (loop, nested):
        assert main_window.open_checkpoint(path) is None
    assert len(boxes) == 2 and "loop.vae" in boxes[0] and "nested.vae" in boxes[1]


def test_unexpected_errors_are_messages_too(main_window: MainWindow, tiny_checkpoint: Path, boxes, monkeypatch) -> None:
    import vae_studio.gui.window_files as window_files

    monkeypatch.setattr(window_files, "load_checkpoint", lambda path: [][1])
    assert main_window.open_checkpoint(tiny_checkpoint) is None
    assert "IndexError" in boxes[0] and str(tiny_checkpoint) in boxes[0]


def test_a_folder_past_the_file_limit_is_loaded_after_asking(main_window: MainWindow, qtbot, tmp_path, boxes) -> None:
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.fromarray(np.full((8, 8), i * 50, np.uint8)).save(tmp_path / label / f"{i}.png")
    spec = folder_spec(tmp_path)
    with qtbot.waitSignal(main_window.loader.too_many_files, timeout=30_000):
        main_window.loader.load(spec, max_files=5)
    qtbot.waitUntil(lambda: main_window.state.dataset.name == spec, timeout=30_000)
    assert "more than 5 files" in boxes[0] and len(main_window.state.dataset.train_images) == 6
