"""The main window's files: opening checkpoints and data folders (menus, the command line, drops),
saving models and exporting the panels' pictures (a mixin of MainWindow)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from ..core.checkpoint import FILE_SUFFIX, load_checkpoint
from ..core.errors import VaeStudioError
from ..core.trained_model import TrainedModel
from .export_files import export_images, export_stem
from .panels.models import CHECKPOINT_FILTER, checkpoint_folder, remember_checkpoint_folder
from .work.dataset_loader import folder_spec

_DATA_FOLDER_KEY = "files/dataFolder"


@contextmanager
def _busy_cursor() -> Iterator[None]:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


class FileActions:
    """File actions of MainWindow, whose state, loader, panels and status bar these methods use."""

    # -- files ----------------------------------------------------------------------------
    def open_checkpoint_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Open checkpoint", checkpoint_folder(), f"{CHECKPOINT_FILTER};;All files (*)"
        )
        for name in names:
            self.open_checkpoint(name)

    def open_checkpoint(self, path: str | os.PathLike[str]) -> TrainedModel | None:
        """Open a checkpoint as a new model of the session and show it; None (after a warning) when it fails.

        A file that is already open is shown again rather than opened twice. While a model trains the
        new one is only added to the list, so the map keeps showing the run.
        """
        path = Path(path)
        for trained in self.state.models:
            if trained.path is not None and _same_file(trained.path, path):
                if not self.state.training:
                    self.state.set_current(trained)
                self._show_message(f"{path.name} is already open as “{trained.name}”")
                return trained
        try:
            with _busy_cursor():
                trained = load_checkpoint(path)
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Could not open the checkpoint", str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the user hears of it rather than nothing
            message = f"Cannot open {path}: {type(exc).__name__}: {exc}"
            QMessageBox.warning(self, "Could not open the checkpoint", message)
            return None
        remember_checkpoint_folder(path)
        self.state.add_model(trained, make_current=not self.state.training)
        self._show_message(f"Opened {path.name}: {trained.describe()}")
        return trained

    def open_data_folder_dialog(self) -> None:
        start = QSettings().value(_DATA_FOLDER_KEY, "", type=str) or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images or IDX files", start)
        if folder:
            self.open_data_folder(folder)

    def open_data_folder(self, folder: str | os.PathLike[str]) -> str | None:
        """Load a folder of images (subfolders = classes) or of IDX files as the data set; returns its spec."""
        if self.state.training:
            self._show_message("Stop the training before opening another data set")
            return None
        QSettings().setValue(_DATA_FOLDER_KEY, str(Path(folder).parent))
        spec = folder_spec(folder)
        self.loader.load(spec)
        return spec

    def save_current(self) -> bool:
        return self.panels["models"].save_model(self.state.current)

    def save_current_as(self) -> bool:
        return self.panels["models"].save_model(self.state.current, choose_path=True)

    def export_map_image(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the latent map as shown, rendered at twice its size on screen so it stays sharp on slides."""
        return self._export("latentMap", "the latent map", "map", path)

    def export_decoded_image(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the preview's last decoded image as a PNG, enlarged with crisp pixels."""
        return self._export("preview", "the decoded image", "decoded", path)

    def _export(self, name: str, what: str, stem: str, path: str | os.PathLike[str] | None) -> bool:
        """A panel's picture to ``path``, or to a file chosen in the export dialog when ``path`` is None."""
        panel = self.panels[name]
        if path is None:
            written = export_images(self, f"Export {what}", export_stem(self.state, stem), ".png", panel.export_image)
            if written is None:
                return False
            path = written
        else:
            try:
                panel.export_image(path)
            except (OSError, VaeStudioError) as exc:
                QMessageBox.warning(self, "Export failed", f"Could not save {path}: {exc}")
                return False
        self._show_message(f"Exported {what} to {path}")
        return True

    # -- drag and drop ------------------------------------------------------------------
    @staticmethod
    def dropped_paths(mime: QMimeData) -> list[Path]:
        """The checkpoint files (*.vae) and data folders among dropped URLs."""
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        return [path for path in paths if path.suffix.lower() == FILE_SUFFIX or path.is_dir()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self.dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # Opened after the drop returns: a message box inside the drop would hold the source application.
        QTimer.singleShot(0, self, lambda: self.open_paths(paths))

    def open_paths(self, paths: list[Path]) -> None:
        """Open checkpoint files as models and a folder as the data set (drops and the command line)."""
        for path in paths:
            if path.is_dir():
                self.open_data_folder(path)
            else:
                self.open_checkpoint(path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11-3.12)
        return False
