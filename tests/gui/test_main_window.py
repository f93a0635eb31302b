"""The main window shell: widgets, files, drag and drop, docks, status bar, closing, settings, Models panel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QToolButton, QWidget

import vae_studio.gui
from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.config import TrainConfig
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.threads import GUI_SWITCH_INTERVAL_S
from vae_studio.gui.app import run_app
from vae_studio.gui.work.dataset_loader import folder_spec
from vae_studio.gui.main_window import MainWindow
from vae_studio.gui.workspace import PANELS
from vae_studio.gui.panels.models import UNSAVED_ROLE, checkpoint_file_name

DATA_TIMEOUT_MS = 30_000  # as in conftest.py: loading MNIST on a busy machine
OBJECT_NAMES = (
    "trainButton",
    "stopButton",
    "pauseButton",
    "datasetCombo",
    "modelKindCombo",
    "latentDimSpin",
    "epochsSpin",
    "latentMap",
    "decodedView",
    "lossPlot",
    "modelsList",
)


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Messages of every QMessageBox.warning, which then returns at once instead of waiting for a click."""
    shown: list[str] = []

    def record(parent: QWidget, title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", record)
    return shown


def test_builds_without_arguments_with_the_contract_widgets(main_window: MainWindow) -> None:
    assert vae_studio.gui.MainWindow is MainWindow
    for name in OBJECT_NAMES:
        assert main_window.findChild(QWidget, name) is not None, name
    assert main_window.panels["latentMap"].isVisible()  # the home view is on screen
    assert main_window.windowTitle() == "VAE Studio"
    assert main_window.state.dataset.name == "mnist"
    assert "mnist" in main_window.data_label.text()
    # The window fits a small laptop screen whatever the panels' own minimum sizes (docks scroll).
    minimum = main_window.minimumSizeHint()
    assert minimum.width() <= 1280 and minimum.height() <= 720
    # The map dominates: the central area is wider than the side docks together.
    docks = main_window.workspace.home.docks
    assert main_window.panels["latentMap"].width() > docks["training"].width() + docks["preview"].width()


def test_the_window_hands_the_interpreter_to_its_gui_thread_quickly(main_window: MainWindow) -> None:
    """Waiting 5 ms (Python's default) for the interpreter lock at each turn made the GUI stall while a run
    started and reported (core/threads.py)."""
    assert sys.getswitchinterval() == pytest.approx(GUI_SWITCH_INTERVAL_S)


def test_open_checkpoint_adds_a_current_model(main_window: MainWindow, tiny_checkpoint: Path) -> None:
    trained = main_window.open_checkpoint(tiny_checkpoint)
    assert trained is not None
    assert main_window.state.models == [trained] and main_window.state.current is trained
    assert main_window.windowTitle() == "VAE Studio — tiny[*]"
    assert not main_window.isWindowModified()
    assert main_window.save_action.isEnabled()
    # Opening the same file again shows the open model rather than a second copy.
    assert main_window.open_checkpoint(tiny_checkpoint) is trained
    assert len(main_window.state.models) == 1


def test_bad_checkpoint_warns_and_changes_nothing(
    main_window: MainWindow, tiny_checkpoint: Path, tmp_path: Path, warnings: list[str]
) -> None:
    garbage = tmp_path / "garbage.vae"
    garbage.write_bytes(b"this is not a checkpoint")
    truncated = tmp_path / "truncated.vae"
    truncated.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    for path in (garbage, truncated, tmp_path / "missing.vae"):
        assert main_window.open_checkpoint(path) is None
    assert len(warnings) == 3
    assert all(text.startswith("Cannot open") for text in warnings)
    assert "garbage.vae" in warnings[0] and "missing.vae" in warnings[2]
    assert main_window.state.models == [] and main_window.state.current is None
    assert main_window.open_checkpoint(tiny_checkpoint) is not None  # the app still works


def _mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return mime


def test_drop_a_checkpoint_opens_it(main_window: MainWindow, tiny_checkpoint: Path, tmp_path: Path, qtbot) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a model")
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # The events do not own their QMimeData: keep each in a variable while its event lives.
    text_mime, checkpoint_mime = _mime(text_file), _mime(tiny_checkpoint)
    rejected = QDragEnterEvent(QPoint(20, 20), actions, text_mime, buttons, modifiers)
    main_window.dragEnterEvent(rejected)
    assert not rejected.isAccepted()
    accepted = QDragEnterEvent(QPoint(20, 20), actions, checkpoint_mime, buttons, modifiers)
    main_window.dragEnterEvent(accepted)
    assert accepted.isAccepted()

    both = _mime(tiny_checkpoint, text_file)
    main_window.dropEvent(QDropEvent(QPointF(20, 20), actions, both, buttons, modifiers))
    qtbot.waitUntil(lambda: main_window.state.current is not None, timeout=5000)
    assert [trained.name for trained in main_window.state.models] == ["tiny"]


def test_view_menu_shows_every_panel_and_reset_layout_restores_the_home_docks(main_window: MainWindow) -> None:
    actions = {action.text(): action for action in main_window.view_menu.actions()}
    for spec in PANELS:
        actions[spec.title].trigger()
        panel = main_window.panels[spec.name]
        assert panel.isVisible() and not panel.visibleRegion().isEmpty(), spec.name

    docks = main_window.workspace.home.docks
    docks["loss"].close()
    docks["preview"].setFloating(True)
    main_window.workspace.home.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks["training"])
    main_window.show_panel("evaluate")
    main_window.reset_layout()
    expected = {
        "training": Qt.DockWidgetArea.LeftDockWidgetArea,
        "loss": Qt.DockWidgetArea.BottomDockWidgetArea,
        "preview": Qt.DockWidgetArea.RightDockWidgetArea,
        "models": Qt.DockWidgetArea.RightDockWidgetArea,
    }
    for name, area in expected.items():
        assert main_window.workspace.home.dockWidgetArea(docks[name]) == area, name
        assert not docks[name].isFloating() and docks[name].isVisible()


def test_status_bar_shows_progress_while_there_is_some(main_window: MainWindow) -> None:
    assert main_window.progress_bar.isHidden() and main_window.eta_label.isHidden()
    main_window.state.set_progress(0.5, "ETA 0:10")
    assert main_window.progress_bar.isVisible() and main_window.eta_label.isVisible()
    assert main_window.progress_bar.value() == 500
    assert main_window.eta_label.text() == "ETA 0:10"
    main_window.state.set_progress(None)
    assert main_window.progress_bar.isHidden() and main_window.eta_label.isHidden()


def _unsaved_model(main_window: MainWindow, name: str = "fresh"):
    dataset = main_window.state.dataset
    trained = new_trained_model(dataset, TrainConfig(dataset=dataset.name, epochs=1), name)
    main_window.state.add_model(trained)
    return trained


def test_close_with_unsaved_models_asks_first(main_window: MainWindow, tmp_path: Path) -> None:
    trained = _unsaved_model(main_window)
    asked: list[list[str]] = []

    def answer(button: QMessageBox.StandardButton):
        def confirm(unsaved):
            asked.append([model.name for model in unsaved])
            return button

        return confirm

    main_window.confirm_discard = answer(QMessageBox.StandardButton.Cancel)
    assert not main_window.close()
    assert main_window.isVisible() and asked == [["fresh"]]

    # Save, but cancel the file dialog: the window stays open and the model unsaved.
    main_window.confirm_discard = answer(QMessageBox.StandardButton.Save)
    main_window.panels["models"].ask_save_path = lambda model: None
    assert not main_window.close()
    assert main_window.isVisible() and trained.unsaved

    main_window.panels["models"].ask_save_path = lambda model: tmp_path / "fresh.vae"
    assert main_window.close()
    assert not trained.unsaved and (tmp_path / "fresh.vae").is_file()


def test_close_discarding_unsaved_models(main_window: MainWindow) -> None:
    _unsaved_model(main_window)
    main_window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    assert main_window.close()
    assert not main_window.isVisible()
    assert not main_window.loader.busy


def test_geometry_and_docks_survive_a_restart(main_window: MainWindow, qtbot) -> None:
    # Within the offscreen platform's 800x800 screen: restoring fits a window to its screen.
    main_window.resize(760, 543)
    main_window.workspace.home.docks["loss"].hide()
    assert main_window.close()

    second = MainWindow()
    try:
        second.show()
        assert (second.width(), second.height()) == (760, 543)
        docks = second.workspace.home.docks
        assert docks["loss"].isHidden() and not docks["preview"].isHidden()
        qtbot.waitUntil(lambda: second.state.dataset is not None, timeout=DATA_TIMEOUT_MS)
    finally:
        second.close()
        second.deleteLater()


def test_folder_spec_tells_idx_from_images(tmp_path: Path) -> None:
    idx_folder, image_folder = tmp_path / "idx", tmp_path / "images"
    idx_folder.mkdir()
    image_folder.mkdir()
    (idx_folder / "train-images-idx3-ubyte.gz").write_bytes(b"")
    (image_folder / "cat.png").write_bytes(b"")
    assert folder_spec(idx_folder) == f"idx:{idx_folder}"
    assert folder_spec(image_folder) == f"folder:{image_folder}"


def test_unreadable_data_folder_warns(main_window: MainWindow, tmp_path: Path, warnings: list[str], qtbot) -> None:
    assert main_window.open_data_folder(tmp_path) == f"folder:{tmp_path}"  # an empty folder
    qtbot.waitUntil(lambda: bool(warnings), timeout=DATA_TIMEOUT_MS)
    assert str(tmp_path) in warnings[0]
    assert main_window.state.dataset.name == "mnist"  # the data set in use stays
    assert "mnist" in main_window.data_label.text()


def test_export_images(main_window: MainWindow, tiny_checkpoint: Path, tmp_path: Path, qtbot, monkeypatch) -> None:
    infos: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *args: infos.append(text))
    assert main_window.export_map_image(tmp_path / "map.png")
    exported_map = QImage(str(tmp_path / "map.png"))
    assert exported_map.width() == 2 * main_window.panels["latentMap"].latentMap.width()

    main_window.open_checkpoint(tiny_checkpoint)
    decoded_view = main_window.panels["preview"].decodedView
    main_window.state.set_probe(np.zeros(2))
    qtbot.waitUntil(lambda: decoded_view.image() is not None, timeout=5000)
    assert main_window.export_decoded_image(tmp_path / "decoded.png")
    exported = QImage(str(tmp_path / "decoded.png"))
    assert (exported.width(), exported.height()) == (252, 252)  # 28 x 9, crisp pixels
    assert infos == []


def test_guide_opens(main_window: MainWindow) -> None:
    main_window.show_guide()
    guide = main_window.findChild(QWidget, "guideDialog")
    assert guide is not None and guide.isVisible()
    text = guide.findChild(QWidget, "guideText").toPlainText()
    for concept in ("reparameterisation", "KL", "Continuity", "Completeness", "latent space"):
        assert concept in text


# -- the Models panel --------------------------------------------------------------------------


def _button(main_window: MainWindow, name: str) -> QToolButton:
    return main_window.panels["models"].findChild(QToolButton, name)


def test_models_list_follows_the_state_and_selects(main_window: MainWindow, tiny_checkpoint: Path) -> None:
    panel = main_window.panels["models"]
    assert panel.list.isHidden() and not panel.empty_label.isHidden()
    first = main_window.open_checkpoint(tiny_checkpoint)
    second = _unsaved_model(main_window, "second")
    assert panel.list.count() == 2 and not panel.list.isHidden()
    assert panel.list.currentRow() == 1
    assert panel.list.item(0).text() == "tiny" and panel.list.item(0).data(UNSAVED_ROLE) is False
    assert panel.list.item(1).data(UNSAVED_ROLE) is True
    panel.list.setCurrentRow(0)
    assert main_window.state.current is first
    main_window.state.set_current(second)
    assert panel.list.currentRow() == 1
    main_window.state.set_training(True)  # the list is locked while a model trains
    assert not panel.list.isEnabled() and not _button(main_window, "removeModelButton").isEnabled()
    main_window.state.set_training(False)
    assert panel.list.isEnabled()


def test_rename_a_model_in_place(main_window: MainWindow, tiny_checkpoint: Path) -> None:
    trained = main_window.open_checkpoint(tiny_checkpoint)
    item = main_window.panels["models"].list.item(0)
    item.setText("  digits  ")
    assert trained.name == "digits" and trained.unsaved
    assert main_window.windowTitle() == "VAE Studio — digits[*]" and main_window.isWindowModified()
    item.setText("   ")  # an empty name is refused
    assert trained.name == "digits" and item.text() == "digits"


def test_save_and_save_as_from_the_panel(
    main_window: MainWindow, tmp_path: Path, warnings: list[str], monkeypatch
) -> None:
    trained = _unsaved_model(main_window, "my model?")
    assert main_window.isWindowModified()
    panel = main_window.panels["models"]
    asked: list[str] = []

    def choose(model):
        asked.append(model.name)
        return tmp_path / checkpoint_file_name(model.name)

    monkeypatch.setattr(panel, "ask_save_path", choose)
    _button(main_window, "saveModelButton").click()  # a new model: asks where
    assert asked == ["my model?"] and trained.path == tmp_path / "my model_.vae"
    assert not trained.unsaved and not main_window.isWindowModified()
    assert panel.list.item(0).data(UNSAVED_ROLE) is False
    assert load_checkpoint(trained.path).name == "my model?"

    main_window.state.rename_model(trained, "renamed")
    main_window.save_current()  # Ctrl+S: saved to its file without asking
    assert asked == ["my model?"] and not trained.unsaved

    _button(main_window, "saveModelAsButton").click()
    assert asked == ["my model?", "renamed"] and trained.path == tmp_path / "renamed.vae"

    blocked = tmp_path / "a file"
    blocked.write_text("")
    monkeypatch.setattr(panel, "ask_save_path", lambda model: blocked / "x.vae")
    main_window.state.rename_model(trained, "again")
    assert not main_window.save_current_as()
    assert len(warnings) == 1 and "Could not save" in warnings[0]
    assert trained.unsaved and main_window.isWindowModified()


def test_remove_asks_only_for_unsaved_models(main_window: MainWindow, tiny_checkpoint: Path) -> None:
    saved = main_window.open_checkpoint(tiny_checkpoint)
    unsaved = _unsaved_model(main_window, "scratch")
    panel = main_window.panels["models"]
    asked: list[str] = []
    panel.confirm_remove = lambda model: asked.append(model.name) or False
    _button(main_window, "removeModelButton").click()
    assert asked == ["scratch"] and unsaved in main_window.state.models

    panel.confirm_remove = lambda model: asked.append(model.name) or True
    _button(main_window, "removeModelButton").click()
    assert main_window.state.models == [saved] and main_window.state.current is saved
    _button(main_window, "removeModelButton").click()  # saved: no question
    assert asked == ["scratch", "scratch"]
    assert main_window.state.models == [] and main_window.windowTitle() == "VAE Studio"
    assert not panel.list.isVisible()


# -- the application entry point -------------------------------------------------------------


def test_run_app_opens_a_checkpoint_from_the_command_line(qapp, tiny_checkpoint: Path, tmp_path: Path) -> None:
    """``vae-studio model.vae``: the window opens the file; the app returns when the window closes."""
    copy = tmp_path / "copy.vae"
    shutil.copy(tiny_checkpoint, copy)
    seen: dict[str, str] = {}
    give_up = [200]  # polls of 50 ms

    def check() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        ready = windows and windows[0].state.current is not None and windows[0].state.dataset is not None
        give_up[0] -= 1
        if ready or give_up[0] <= 0:
            if windows:
                seen["title"] = windows[0].windowTitle()
                windows[0].close()
            return
        QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)
    assert run_app([str(copy)]) == 0
    assert seen["title"] == "VAE Studio — tiny[*]"
