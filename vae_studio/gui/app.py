"""``vae-studio`` without arguments: the desktop application.

Start-up shows a window before torch is imported (gui/startup.py): this module imports only Qt at
module level, and the main window's modules (torch, pyqtgraph, the panels) once torch is loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QPointF, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from .. import __version__
from .startup import APP_NAME, HeavyImports, LoadingWindow, threads_setting


def configure_pyqtgraph() -> None:
    """pyqtgraph's global options for every plot of the app (tests call it too, so they see the same plots).

    Images are indexed (row, column) like numpy arrays, and lines are antialiased.
    """
    import pyqtgraph as pg  # here, not at the top: pyqtgraph imports numpy, which start-up defers

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


# The icon's dots on a 64-pixel grid: three class clusters of a 2-D latent map (x, y, radius, colour).
_ICON_DOTS = (
    (20, 22, 5, "#1f77b4"), (28, 17, 4, "#1f77b4"), (15, 31, 4, "#1f77b4"), (27, 27, 3.5, "#1f77b4"),
    (44, 24, 5, "#ff7f0e"), (50, 33, 4, "#ff7f0e"), (40, 32, 3.5, "#ff7f0e"), (49, 18, 3, "#ff7f0e"),
    (30, 44, 5, "#2ca02c"), (21, 48, 4, "#2ca02c"), (38, 49, 4, "#2ca02c"), (31, 53, 3, "#2ca02c"),
)  # fmt: skip


def app_icon() -> QIcon:
    """The window and task-bar icon, drawn at start-up (no image files to ship): a latent map's clusters."""
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(size / 64, size / 64)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1c2430"))
        painter.drawRoundedRect(QRectF(2, 2, 60, 60), 12, 12)
        for x, y, radius, colour in _ICON_DOTS:
            painter.setBrush(QColor(colour))
            painter.drawEllipse(QPointF(x, y), radius, radius)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def set_application_names() -> None:
    """The names QSettings files the app's settings under."""
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)


class Launch(QObject):
    """The start-up sequence: the loading window, the imports behind it, then the main window in its place."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths
        self.window: QMainWindow | None = None  # the main window, once built
        self.loading = LoadingWindow()
        self.imports = HeavyImports(threads_setting())
        # Queued: the imports start after the first paint has reached the screen, and their
        # signals come from the import thread.
        self.loading.painted.connect(self.imports.start, Qt.ConnectionType.QueuedConnection)
        self.imports.done.connect(self._show_main_window)
        self.imports.failed.connect(self._on_failed)

    def start(self) -> None:
        self.loading.show()

    @Slot()
    def _show_main_window(self) -> None:
        if not self.loading.isVisible():
            return  # closed while loading: the app is quitting
        from .work.gc_pauses import freeze_long_lived_objects
        from .main_window import MainWindow

        configure_pyqtgraph()
        window = MainWindow()
        window.show()
        self.loading.close()
        self.window = window
        freeze_long_lived_objects()
        if self.paths:
            QTimer.singleShot(0, lambda: window.open_paths(self.paths))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        QMessageBox.critical(self.loading, APP_NAME, f"{APP_NAME} could not load PyTorch.\n\n{message}")
        self.loading.close()


def run_app(argv: list[str] | None = None) -> int:
    """Run the application until its window closes; returns the exit status.

    ``argv`` are the command-line arguments after the program name: Qt's own options (``-style``,
    ``-platform``, ...) and then, optionally, checkpoint files (*.vae) to open, or a data folder.
    """
    argv = list(argv or [])
    set_application_names()
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "vae-studio", *argv])
        argv = app.arguments()[1:]  # what Qt left after taking its own options
    QApplication.setDesktopFileName("vae-studio")
    QApplication.setWindowIcon(app_icon())
    launch = Launch([Path(arg) for arg in argv])
    launch.start()
    status = app.exec()
    launch.imports.wait()
    return status


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1:]))
