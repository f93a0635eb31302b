"""The main window: it assembles the shared state, the data loader, the panels, menus and status bar.

It holds no logic of its own beyond files (checkpoints, data folders, exports), the window's
layout and closing: panels talk to each other only through the AppState (docs/GUI_CONTRACT.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QWidget,
)

from ..core.app_state import AppState, Event
from ..core.checkpoint import FILE_SUFFIX, load_checkpoint
from ..core.errors import VaeStudioError
from ..core.trained_model import TrainedModel
from .dataset_loader import DatasetLoader, folder_spec
from .help import GuideDialog, show_about
from .images import to_qpixmap
from .panels.anomaly import AnomalyPanel
from .panels.comparison import ComparisonPanel
from .panels.denoising import DenoisingPanel
from .panels.evaluate import EvaluatePanel
from .panels.generation import GenerationPanel
from .panels.interpolation import InterpolationPanel
from .panels.latent_map import LatentMapPanel
from .panels.loss_curves import LossPanel
from .panels.models import CHECKPOINT_FILTER, ModelsPanel, checkpoint_folder, remember_checkpoint_folder
from .panels.preview import PreviewPanel
from .panels.replay import ReplayPanel
from .panels.training import TrainingPanel
from .panels.traversal import TraversalPanel
from .startup import APP_NAME
from .threads_menu import add_threads_menu

DEFAULT_DATASET = "mnist"
# Bumped when docks are added or renamed, so an old saved layout is not applied to the new set.
LAYOUT_VERSION = 2
_GEOMETRY_KEY = "mainWindow/geometry"
_LAYOUT_KEY = "mainWindow/layout"
_DATA_FOLDER_KEY = "files/dataFolder"
_EXPORT_FOLDER_KEY = "files/exportFolder"
# Default dock sizes in pixels: side panels just wide enough for their controls, so the map dominates.
_SIDE_WIDTH = {"trainingDock": 300, "previewDock": 330}
_LOSS_HEIGHT = 260
_MODELS_HEIGHT = 190
# Exported decoded images are enlarged (nearest neighbour) to about this side, so 28x28 pixels stay visible.
_EXPORT_IMAGE_SIDE = 256
_EXPORT_MAP_SCALE = 2


@contextmanager
def _busy_cursor() -> Iterator[None]:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


class MainWindow(QMainWindow):
    """VAE Studio's window: the latent map in the middle, docked panels around it (see GUI_CONTRACT.md)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.state = AppState()
        self.loader = DatasetLoader(self.state, self)

        self.latent_map_panel = LatentMapPanel(self.state, self)
        self.training_panel = TrainingPanel(self.state, self, loader=self.loader)
        self.loss_panel = LossPanel(self.state, self)
        self.preview_panel = PreviewPanel(self.state, self)
        self.models_panel = ModelsPanel(self.state, self)
        self.models_panel.status_message.connect(self._show_message)
        self.interpolation_panel = InterpolationPanel(self.state, self)
        self.generation_panel = GenerationPanel(self.state, self)
        self.traversal_panel = TraversalPanel(self.state, self)
        self.replay_panel = ReplayPanel(self.state, self)
        self.comparison_panel = ComparisonPanel(self.state, self)
        self.denoising_panel = DenoisingPanel(self.state, self)
        self.anomaly_panel = AnomalyPanel(self.state, self)
        self.evaluate_panel = EvaluatePanel(self.state, self)
        self.setCentralWidget(self.latent_map_panel)

        self.training_dock = self._make_dock("trainingDock", "Training", self.training_panel)
        self.loss_dock = self._make_dock("lossDock", "Loss Curves", self.loss_panel)
        self.preview_dock = self._make_dock("previewDock", "Preview", self.preview_panel)
        self.models_dock = self._make_dock("modelsDock", "Models", self.models_panel)
        self.interpolation_dock = self._make_dock("interpolationDock", "Interpolation", self.interpolation_panel)
        self.generation_dock = self._make_dock("generationDock", "Generation", self.generation_panel)
        self.traversal_dock = self._make_dock("traversalDock", "Traversal", self.traversal_panel)
        self.replay_dock = self._make_dock("replayDock", "Replay", self.replay_panel)
        self.comparison_dock = self._make_dock("comparisonDock", "AE vs VAE", self.comparison_panel)
        self.denoising_dock = self._make_dock("denoisingDock", "Denoising", self.denoising_panel)
        self.anomaly_dock = self._make_dock("anomalyDock", "Anomaly Detection", self.anomaly_panel)
        self.evaluate_dock = self._make_dock("evaluateDock", "Evaluate", self.evaluate_panel)
        # The side docks run the full height, so the loss curves sit under the map only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )

        self._guide: GuideDialog | None = None
        self._shown_once = False
        self._closed = False
        self._build_menus()
        self._build_status_bar()
        self._place_docks()
        self._restore_settings()

        self.loader.loading.connect(self._on_loading)
        self.loader.failed.connect(self._on_loader_failed)
        for event, listener in (
            (Event.MODELS, self._on_models),
            (Event.CURRENT_MODEL, self._on_models),
            (Event.TRAINING, self._on_models),
            (Event.DATASET, self._on_dataset),
            (Event.PROGRESS, self._on_progress),
        ):
            self.state.subscribe(event, listener)
        self._on_models()
        self._on_progress()

    @property
    def panels(self) -> tuple[QWidget, ...]:
        return (
            self.latent_map_panel, self.training_panel, self.loss_panel, self.preview_panel, self.models_panel,
            self.interpolation_panel, self.generation_panel, self.traversal_panel, self.replay_panel,
            self.comparison_panel, self.denoising_panel, self.anomaly_panel, self.evaluate_panel,
        )  # fmt: skip

    @property
    def docks(self) -> tuple[QDockWidget, ...]:
        return (
            self.training_dock, self.loss_dock, self.preview_dock, self.models_dock, self.interpolation_dock,
            self.generation_dock, self.traversal_dock, self.replay_dock, self.comparison_dock, self.denoising_dock,
            self.anomaly_dock, self.evaluate_dock,
        )  # fmt: skip

    def _make_dock(self, name: str, title: str, panel: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState find docks by objectName
        # In a scroll area a panel's minimum size never becomes the window's: on a laptop screen a
        # squeezed panel scrolls instead of pushing the window past the screen's edges.
        scroll = QScrollArea(dock)
        scroll.setObjectName(f"{name}Scroll")
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        dock.setWidget(scroll)
        return dock

    # -- menus and status bar ---------------------------------------------------------
    def _add_action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
        name: str = "",
    ) -> QAction:
        action = menu.addAction(text)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        # Explicit "Ctrl+..." (Cmd on macOS): QKeySequence.StandardKey.Quit and SaveAs are empty on Windows.
        self.open_action = self._add_action(
            file_menu, "&Open Checkpoint…", self.open_checkpoint_dialog, "Ctrl+O", "openAction"
        )
        self.open_data_action = self._add_action(
            file_menu, "Open &Data Folder…", self.open_data_folder_dialog, None, "openDataAction"
        )
        file_menu.addSeparator()
        self.save_action = self._add_action(file_menu, "&Save", self.save_current, "Ctrl+S", "saveAction")
        self.save_as_action = self._add_action(
            file_menu, "Save &As…", self.save_current_as, "Ctrl+Shift+S", "saveAsAction"
        )
        file_menu.addSeparator()
        self.export_map_action = self._add_action(
            file_menu, "Export Latent &Map Image…", self.export_map_image, None, "exportMapAction"
        )
        self.export_decoded_action = self._add_action(
            file_menu, "Export Decoded &Image…", self.export_decoded_image, None, "exportDecodedAction"
        )
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", self.close, "Ctrl+Q", "quitAction")

        self.view_menu = bar.addMenu("&View")
        self.view_menu.setObjectName("viewMenu")
        for dock in self.docks:
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self._add_action(self.view_menu, "&Reset Layout", self.reset_layout, None, "resetLayoutAction")

        help_menu = bar.addMenu("&Help")
        self._add_action(
            help_menu, "VAE Studio &Guide", self.show_guide, QKeySequence.StandardKey.HelpContents, "guideAction"
        )
        self._add_action(help_menu, "&About VAE Studio", lambda: show_about(self), None, "aboutAction")
        help_menu.addSeparator()
        add_threads_menu(help_menu)  # a performance setting (gui/threads_menu.py)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.data_label = QLabel(self)
        self.data_label.setObjectName("dataLabel")
        self.eta_label = QLabel(self)
        self.eta_label.setObjectName("etaLabel")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        bar.addPermanentWidget(self.eta_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.data_label)

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- layout ---------------------------------------------------------------------------
    def _place_docks(self) -> None:
        """Put every dock in its default place and size: training left, loss below the map, preview and models right.

        The exploration panels are tabs behind those, so the map keeps its room: the wide ones
        (interpolation strip, AE/VAE comparison, anomaly plots, evaluation table) with the loss curves,
        the tall ones (generation, traversal, replay, the denoising grid) with the preview.
        """
        bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        for dock, area in (
            (self.training_dock, Qt.DockWidgetArea.LeftDockWidgetArea),
            (self.loss_dock, bottom),
            (self.preview_dock, right),
            (self.models_dock, right),
            (self.interpolation_dock, bottom),
            (self.comparison_dock, bottom),
            (self.generation_dock, right),
            (self.traversal_dock, right),
            (self.replay_dock, right),
            (self.denoising_dock, right),
            (self.anomaly_dock, bottom),
            (self.evaluate_dock, bottom),
        ):
            dock.setFloating(False)
            self.addDockWidget(area, dock)  # moves a dock that is already elsewhere
            dock.show()
        self.splitDockWidget(self.preview_dock, self.models_dock, Qt.Orientation.Vertical)
        for first, tabs in (
            (self.loss_dock, (self.interpolation_dock, self.comparison_dock, self.anomaly_dock, self.evaluate_dock)),
            (self.preview_dock, (self.generation_dock, self.traversal_dock, self.replay_dock, self.denoising_dock)),
        ):
            for dock in tabs:
                self.tabifyDockWidget(first, dock)
            first.raise_()
        self._size_docks()

    def _size_docks(self) -> None:
        self.resizeDocks(
            [self.training_dock, self.preview_dock],
            [_SIDE_WIDTH["trainingDock"], _SIDE_WIDTH["previewDock"]],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks([self.loss_dock], [_LOSS_HEIGHT], Qt.Orientation.Vertical)
        # The models list needs a few rows; the preview takes the rest of the right column.
        self.resizeDocks(
            [self.preview_dock, self.models_dock],
            [max(self.height() - _MODELS_HEIGHT, _MODELS_HEIGHT), _MODELS_HEIGHT],
            Qt.Orientation.Vertical,
        )

    def reset_layout(self) -> None:
        """View > Reset Layout: every dock back in its default place and size, all of them shown."""
        self._place_docks()

    def _default_geometry(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        width = min(1600, max(1100, int(available.width() * 0.85)))
        height = min(1000, max(720, int(available.height() * 0.85)))
        self.resize(min(width, available.width()), min(height, available.height()))
        frame = self.frameGeometry()
        frame.moveCenter(available.center())
        self.move(frame.topLeft())

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value(_GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self._default_geometry()
        layout = settings.value(_LAYOUT_KEY)
        # A layout saved by another version of the window's docks is refused, and the default stays.
        self._layout_restored = isinstance(layout, QByteArray) and self.restoreState(layout, LAYOUT_VERSION)

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.setValue(_GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(_LAYOUT_KEY, self.saveState(LAYOUT_VERSION))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._layout_restored:
                # Dock sizes only take once the window has its real size.
                QTimer.singleShot(0, self, self._size_docks)
            # Later, so the window appears before the data set is read.
            QTimer.singleShot(0, self, self._load_default_dataset)

    def _load_default_dataset(self) -> None:
        # A checkpoint opened at start-up (command line, drop) brings its own data set; a window closed
        # before this runs must not start a thread nobody will stop.
        idle = self.state.dataset is None and self.state.current is None and not self.loader.runner.busy
        if idle and not self._closed:
            self.loader.load(DEFAULT_DATASET)

    # -- state events ---------------------------------------------------------------------
    def _on_models(self) -> None:
        current = self.state.current
        if current is None:
            self.setWindowTitle(APP_NAME)
            self.setWindowModified(False)
        else:
            # "[*]" is where Qt shows the modified mark; a literal "[*]" in a name would be taken for it.
            self.setWindowTitle(f"{APP_NAME} — {current.name.replace('[*]', '[ * ]')}[*]")
            self.setWindowModified(current.unsaved)
        has_current = current is not None
        self.save_action.setEnabled(has_current)
        self.save_as_action.setEnabled(has_current)
        self.export_decoded_action.setEnabled(has_current)
        # A new data set under a running training would leave the map showing another set than the run's.
        self.open_data_action.setEnabled(not self.state.training)

    def _on_dataset(self) -> None:
        self._show_dataset_label()
        dataset = self.state.dataset
        if dataset is not None:
            message = f"Data set {dataset.name} loaded"
            if dataset.skipped_files:
                message += f"; {dataset.skipped_files} files that were not readable images were skipped"
            self._show_message(message)

    def _show_dataset_label(self) -> None:
        dataset = self.state.dataset
        if dataset is None:
            self.data_label.setText("No data set")
            self.data_label.setToolTip("")
            return
        name = dataset.name
        prefix, _, path = name.partition(":")
        if prefix in ("idx", "folder") and path:
            name = f"{prefix}:{Path(path).name}"
        c, h, w = dataset.image_shape
        self.data_label.setText(f"{name} · {len(dataset.train_images):,} train / {len(dataset.test_images):,} test")
        details = [dataset.name, f"{w}×{h} pixels, {'RGB' if c == 3 else 'grayscale'}"]
        if dataset.class_names:
            details.append(f"{dataset.num_classes} classes")
        self.data_label.setToolTip("\n".join([*details, *dataset.notes]))

    def _on_loading(self, spec: str) -> None:
        self.data_label.setText(f"Loading {spec}…")
        self.statusBar().showMessage(f"Loading data set {spec}…")

    def _on_loader_failed(self, message: str) -> None:
        self._show_dataset_label()  # the data set still in use
        self.statusBar().clearMessage()
        QMessageBox.warning(self, "Could not load the data set", message)

    def _on_progress(self) -> None:
        """Show progress (about ten times a second while a model trains) without repainting or relayouting at once."""
        progress = self.state.progress
        visible = progress is not None
        self.progress_bar.setVisible(visible)
        self.eta_label.setVisible(visible)
        if progress is None:
            self.eta_label.setMinimumWidth(0)
            return
        fraction, text = progress
        # QProgressBar.setValue repaints at once, and a repaint at once paints everything else that waits
        # to be painted in the window (the plots) inside this call; with updates off around it, the bar is
        # painted with the rest on the next paint.
        self.progress_bar.setUpdatesEnabled(False)
        self.progress_bar.setValue(round(min(max(fraction, 0.0), 1.0) * 1000))
        self.progress_bar.setUpdatesEnabled(True)
        self.eta_label.setText(text)
        # The label only grows while progress is shown: a width that followed each text would lay the
        # status bar out again at every update and shift the bar beside it back and forth.
        self.eta_label.setMinimumWidth(max(self.eta_label.minimumWidth(), self.eta_label.sizeHint().width()))

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
        return self.models_panel.save_model(self.state.current)

    def save_current_as(self) -> bool:
        return self.models_panel.save_model(self.state.current, choose_path=True)

    def _ask_export_path(self, title: str, file_name: str) -> Path | None:
        """A PNG file to export to, from a dialog that starts in the last export folder; None when cancelled."""
        start = Path(QSettings().value(_EXPORT_FOLDER_KEY, "", type=str) or checkpoint_folder()) / file_name
        name, _ = QFileDialog.getSaveFileName(self, title, str(start), "PNG image (*.png)")
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        QSettings().setValue(_EXPORT_FOLDER_KEY, str(path.parent))
        return path

    def _export_stem(self) -> str:
        current = self.state.current
        return re.sub(r"[^\w.-]+", "_", current.name) if current is not None else "vae-studio"

    def export_map_image(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the latent map as shown, rendered at twice its size on screen so it stays sharp on slides."""
        plot = self.findChild(QWidget, "latentMap")
        if path is None:
            path = self._ask_export_path("Export latent map", f"{self._export_stem()}-map.png")
            if path is None:
                return False
        path = Path(path)
        # pyqtgraph's exporter redraws every item at the larger size (a grab would only scale pixels).
        # Its SVG exporter is not offered: pyqtgraph 0.14 fails on the SVG paths that Qt 6.12 writes.
        from pyqtgraph.exporters import ImageExporter  # on use: the exporters package is slow to import

        exporter = ImageExporter(plot.scene())
        exporter.parameters()["background"] = plot.backgroundBrush().color()
        exporter.parameters()["width"] = _EXPORT_MAP_SCALE * plot.width()
        try:
            exporter.export(str(path))
        except OSError as exc:
            return self._export_failed(path, str(exc.strerror or exc))
        if not path.is_file():
            return self._export_failed(path, "the file could not be written")
        self._show_message(f"Exported the latent map to {path}")
        return True

    def export_decoded_image(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the preview's last decoded image as a PNG, enlarged with crisp pixels."""
        image = self.findChild(QWidget, "decodedView").image()
        if image is None:
            QMessageBox.information(
                self, "Nothing to export", "No image has been decoded yet: click a point on the latent map first."
            )
            return False
        if path is None:
            path = self._ask_export_path("Export decoded image", f"{self._export_stem()}-decoded.png")
            if path is None:
                return False
        path = Path(path)
        scale = max(1, _EXPORT_IMAGE_SIDE // max(image.shape[-2:]))
        if not to_qpixmap(image, scale).save(str(path), "PNG"):
            return self._export_failed(path, "the file could not be written")
        self._show_message(f"Exported the decoded image to {path}")
        return True

    def _export_failed(self, path: Path, reason: str) -> bool:
        QMessageBox.warning(self, "Export failed", f"Could not save {path}: {reason}.")
        return False

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

    # -- help -----------------------------------------------------------------------------
    def show_guide(self) -> None:
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show()
        self._guide.raise_()
        self._guide.activateWindow()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        unsaved = [trained for trained in self.state.models if trained.unsaved]
        if unsaved:
            answer = self._confirm_discard(unsaved)
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self._save_all(unsaved)
            ):
                event.ignore()
                return
        self._save_settings()
        self._shutdown()
        self._closed = True
        event.accept()

    def _confirm_discard(self, unsaved: list[TrainedModel]) -> QMessageBox.StandardButton:
        """Ask what to do with unsaved models: Save, Discard or Cancel (tests replace this method)."""
        names = ", ".join(f"“{trained.name}”" for trained in unsaved)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            APP_NAME,
            f"{len(unsaved)} model{'s have' if len(unsaved) > 1 else ' has'} unsaved changes: {names}.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText("Save before closing? Unsaved models are lost when the window closes.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return QMessageBox.StandardButton(box.exec())

    def _save_all(self, models: list[TrainedModel]) -> bool:
        return all(self.models_panel.save_model(trained) for trained in models)

    def _shutdown(self) -> None:
        """Stop every background task so no thread outlives the window."""
        for panel in self.panels:
            shutdown = getattr(panel, "shutdown", None)
            if callable(shutdown):
                shutdown()
        self.loader.shutdown()
        if self._guide is not None:
            self._guide.close()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
