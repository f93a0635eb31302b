"""``vae-studio`` without arguments: the desktop application."""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from .. import __version__
from .work.gc_pauses import freeze_long_lived_objects
from .main_window import APP_NAME, MainWindow


def configure_pyqtgraph() -> None:
    """pyqtgraph's global options for every plot of the app (tests call it too, so they see the same plots).

    Images are indexed (row, column) like numpy arrays, and lines are antialiased.
    """
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


def run_app(argv: list[str] | None = None) -> int:
    """Run the application until its window closes; returns the exit status.

    ``argv`` are the command-line arguments after the program name: Qt's own options (``-style``,
    ``-platform``, ...) and then, optionally, checkpoint files (*.vae) to open, or a data folder.
    """
    argv = list(argv or [])
    set_application_names()
    configure_pyqtgraph()
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "vae-studio", *argv])
        argv = app.arguments()[1:]  # what Qt left after taking its own options
    QApplication.setDesktopFileName("vae-studio")
    QApplication.setWindowIcon(app_icon())
    paths = [Path(arg) for arg in argv]
    window = MainWindow()
    window.show()
    freeze_long_lived_objects()
    if paths:
        QTimer.singleShot(0, lambda: window.open_paths(paths))
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1:]))
