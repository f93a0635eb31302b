"""The first second of the app: a window at once, torch loaded behind it.

Importing torch takes 2-3 s on a student's laptop, and every panel needs it. So the app first
shows a light window with the app's name and a busy bar (this module imports only Qt), while a
thread chooses torch's threads (vae_studio.core.threads; the setting below) and imports torch and
the Qt-free core; then the main window is built in its place, on the GUI thread, and loads the
bundled data set once shown. Nothing here imports torch.
"""

from __future__ import annotations

import importlib
import logging
import threading
import traceback

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from ..core.threads import configure_threads

log = logging.getLogger(__name__)

APP_NAME = "VAE Studio"
# The number of CPU threads training uses, 0 for automatic (see gui/threads_menu.py); read at start-up.
THREADS_KEY = "performance/threads"
# The main window's saved geometry (gui/main_window.py), so the loading window takes its place.
GEOMETRY_KEY = "mainWindow/geometry"
_DEFAULT_SIZE = (1100, 720)

# What the main window's modules need from outside Qt, imported off the GUI thread. torch is the
# bulk of it; the rest are the core modules every panel imports.
HEAVY_MODULES = (
    "torch",
    "numpy",
    "vae_studio.core.models",
    "vae_studio.core.latent",
    "vae_studio.core.trainer",
    "vae_studio.core.data",
    "vae_studio.core.checkpoint",
    "vae_studio.core.recipe",
)


def threads_setting() -> int:
    """The window's "CPU threads" setting: 0 (automatic) or a count."""
    value = QSettings().value(THREADS_KEY, 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class LoadingWindow(QWidget):
    """The app's name and a busy bar where the main window is about to appear."""

    painted = Signal()  # once, after the first paint: the time to start the heavy work

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("loadingWindow")
        self.setWindowTitle(APP_NAME)
        title = QLabel(APP_NAME)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2)
        title.setFont(font)
        self.status = QLabel("Loading PyTorch…")
        bar = QProgressBar()
        bar.setRange(0, 0)  # busy: no fraction to show
        bar.setMaximumWidth(320)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, self.status, bar):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        geometry = QSettings().value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(*_DEFAULT_SIZE)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        window = self.windowHandle()
        if window is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The first expose event: the window is on the screen. The filter is removed then, so that
        # Python is not called on every repaint of the busy bar while torch imports on another thread.
        if event.type() == QEvent.Type.Expose:
            watched.removeEventFilter(self)
            self.painted.emit()
        return False


class HeavyImports(QObject):
    """Chooses torch's threads and imports :data:`HEAVY_MODULES` on a thread of its own."""

    done = Signal()
    failed = Signal(str)

    def __init__(self, threads: int) -> None:
        super().__init__()
        self._threads = threads
        self._thread = threading.Thread(target=self._run, name="vae-studio-imports", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self) -> None:
        """Join the thread (an import cannot be interrupted; the app waits for it before exiting)."""
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            configure_threads(self._threads or None)  # before torch starts its threads
            for name in HEAVY_MODULES:
                importlib.import_module(name)
        except Exception as exc:  # a broken installation must reach the user as a message
            log.error("start-up imports failed:\n%s", traceback.format_exc())
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit()
