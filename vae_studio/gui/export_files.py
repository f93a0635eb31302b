"""Saving decoded images from the exploration panels: one dialog, one remembered folder, one error message."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..core.app_state import AppState

# The main window's File > Export actions use the same key, so every export dialog opens in one folder.
EXPORT_FOLDER_KEY = "files/exportFolder"
FILTERS = {".png": "PNG image (*.png)", ".gif": "Animated GIF (*.gif)"}


def export_stem(state: AppState, what: str) -> str:
    """A file name stem such as ``VAE_z_2_mnist_1-interpolation`` from the current model's name."""
    name = state.current.name if state.current is not None else "vae-studio"
    safe = re.sub(r"[^\w.-]+", "_", name)
    return f"{safe}-{what}"


def export_images(parent: QWidget, title: str, stem: str, suffix: str, write: Callable[[Path], object]) -> Path | None:
    """Ask where to save (a ``suffix`` file named ``stem`` in the last export folder), call ``write(path)``,
    and warn if that fails; returns the path written, or None when cancelled or failed."""
    start = QSettings().value(EXPORT_FOLDER_KEY, "", type=str) or str(Path.home())
    name, _ = QFileDialog.getSaveFileName(parent, title, str(Path(start) / f"{stem}{suffix}"), FILTERS[suffix])
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() != suffix:
        path = path.with_name(path.name + suffix)
    try:
        write(path)
    except OSError as exc:
        QMessageBox.warning(parent, "Export failed", f"Could not save {path}: {exc.strerror or exc}.")
        return None
    QSettings().setValue(EXPORT_FOLDER_KEY, str(path.parent))
    return path
