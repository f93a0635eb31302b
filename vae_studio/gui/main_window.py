"""The main window: it assembles the shared state, the data loader, the panels, menus and status bar.

It holds no logic of its own beyond files (checkpoints, data folders, exports), the window's
layout and closing: panels talk to each other only through the AppState (docs/GUI_CONTRACT.md).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QProgressBar

from ..core.app_state import AppState, Event
from ..core.threads import hand_over_the_interpreter_quickly, run_torch_serially_here
from ..core.trained_model import TrainedModel
from ..core.vocabulary import parse_spec, spec_short
from .follow_run import RunFollower
from .guided_lab import GuidedLabWindow, WindowHost
from .help import GuideDialog, show_about
from .panels.base import Panel
from .startup import APP_NAME
from .threads_menu import add_threads_menu
from .work.dataset_loader import DatasetLoader
from .window_files import FileActions
from .workspace import PANELS, Services, Workspace

DEFAULT_DATASET = "mnist"
# Bumped when docks are added or renamed, so an old saved layout is not applied to the new set.
LAYOUT_VERSION = 3
_GEOMETRY_KEY = "mainWindow/geometry"
_LAYOUT_KEY = "mainWindow/layout"


class MainWindow(FileActions, QMainWindow):
    """VAE Studio's window: the latent map in the middle, docked panels around it (see GUI_CONTRACT.md)."""

    def __init__(self) -> None:
        super().__init__()
        run_torch_serially_here()  # the GUI thread's kernels are small; a team here would slow training
        hand_over_the_interpreter_quickly()  # a turn of the GUI thread never waits 5 ms for the lock
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.state = AppState()
        self.loader = DatasetLoader(self.state, self)
        self.follower = RunFollower(self.state, self)
        self.follower.skipped.connect(self._show_message)
        services = Services(self.state, self.loader)
        # Every panel, by name, in the order of the table (gui/workspace.py) that also places them.
        self.panels: dict[str, Panel] = {spec.name: spec.factory(services) for spec in PANELS}
        self.panels["models"].status_message.connect(self._show_message)
        self.panels["denoising"].train_denoising_requested.connect(self.train_denoising)
        self.workspace = Workspace(self.panels, self)
        self.setCentralWidget(self.workspace)

        self._guide: GuideDialog | None = None
        self._lab: GuidedLabWindow | None = None
        self._shown_once = False
        self._closed = False
        self._build_menus()
        self._build_status_bar()
        self._restore_settings()

        self.loader.loading.connect(self._on_loading)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.too_many_files.connect(self._ask_to_load_anyway)
        self._subscriptions = (
            (Event.MODELS, self._on_models),
            (Event.CURRENT_MODEL, self._on_models),
            (Event.TRAINING, self._on_models),
            (Event.DATASET, self._on_dataset),
            (Event.PROGRESS, self._on_progress),
        )
        for event, listener in self._subscriptions:
            self.state.subscribe(event, listener)
        self._on_models()
        self._on_progress()

    def show_panel(self, name: str) -> None:
        """Bring the panel ``name`` (e.g. "interpolation", without "Panel") on screen, as the View menu does."""
        if name not in self.panels:
            raise KeyError(f"no panel named {name!r}; the panels are {', '.join(self.panels)}")
        self.workspace.show_panel(name)
        self.panels[name].setFocus()

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
        self._add_action(
            file_menu, "&Follow Run…", lambda: self.follower.choose_and_follow(self), None, "followRunAction"
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
        for number, spec in enumerate(PANELS, start=1):
            shortcut = f"Ctrl+{number}" if number < 10 else None
            self._add_action(
                self.view_menu, spec.title, lambda name=spec.name: self.show_panel(name), shortcut, f"show{spec.name[0].upper()}{spec.name[1:]}Action"
            )
        self.view_menu.addSeparator()
        self._add_action(self.view_menu, "&Reset Layout", self.reset_layout, None, "resetLayoutAction")

        help_menu = bar.addMenu("&Help")
        self._add_action(
            help_menu, "VAE Studio &Guide", self.show_guide, QKeySequence.StandardKey.HelpContents, "guideAction"
        )
        self._add_action(help_menu, "Guided &lab", self.show_guided_lab, None, "guidedLabAction")
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
    def reset_layout(self) -> None:
        """View > Reset Layout: the home view's docks back in their default places and sizes, all shown."""
        self.workspace.home.place_docks()
        self.workspace.setCurrentWidget(self.workspace.home)

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
        self._layout_restored = isinstance(layout, QByteArray) and self.workspace.home.restoreState(
            layout, LAYOUT_VERSION
        )

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.setValue(_GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(_LAYOUT_KEY, self.workspace.home.saveState(LAYOUT_VERSION))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._layout_restored:
                # Dock sizes only take once the window has its real size.
                QTimer.singleShot(0, self, self.workspace.home.size_docks)
            # Later, so the window appears before the data set is read.
            QTimer.singleShot(0, self, self._load_default_dataset)

    def _load_default_dataset(self) -> None:
        # A checkpoint opened at start-up (command line, drop) brings its own data set; a window closed
        # before this runs must not start a thread nobody will stop.
        idle = self.state.dataset is None and self.state.current is None and not self.loader.busy
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
        kind, path = parse_spec(dataset.name)
        name = f"{kind}:{spec_short(dataset.name)}" if path else dataset.name
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

    def _ask_to_load_anyway(self, spec: str, message: str) -> None:
        self._show_dataset_label()  # the data set still in use
        self.statusBar().clearMessage()
        answer = QMessageBox.question(self, "A very large folder", f"{message}\n\nLoad all of its files anyway?")
        if answer == QMessageBox.StandardButton.Yes:
            self.loader.load(spec, max_files=None)

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

    # -- help -----------------------------------------------------------------------------
    def show_guide(self) -> None:
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show()
        self._guide.raise_()
        self._guide.activateWindow()

    def train_denoising(self, settings: dict[str, object]) -> None:
        """The denoising panel's one click: the training panel takes a denoising VAE's settings and trains it."""
        if self.state.training:
            self._show_message("A model is training: stop it, or let it finish, before training a denoising VAE")
            return
        training = self.panels["training"]
        training.apply_settings(settings)
        self.show_panel("training")
        training.start()

    def show_guided_lab(self) -> None:
        """Help > Guided lab: the seeds' story step by step, each step showing its panel with its settings."""
        if self._lab is None:
            self._lab = GuidedLabWindow(WindowHost(self), self)
        self._lab.show()
        self._lab.raise_()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        unsaved = [trained for trained in self.state.models if trained.unsaved]
        if unsaved:
            answer = self.confirm_discard(unsaved)
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self._save_all(unsaved)
            ):
                event.ignore()
                return
        self._save_settings()
        self._shutdown()
        self._closed = True
        event.accept()

    def confirm_discard(self, unsaved: list[TrainedModel]) -> QMessageBox.StandardButton:
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
        return all(self.panels["models"].save_model(trained) for trained in models)

    def _shutdown(self) -> None:
        """Stop every background task so no thread outlives the window."""
        for panel in self.panels.values():
            panel.shutdown()
        for event, listener in self._subscriptions:
            self.state.unsubscribe(event, listener)
        self.loader.shutdown()
        self.follower.shutdown()
        if self._guide is not None:
            self._guide.close()
