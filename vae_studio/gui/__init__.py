"""The Qt desktop application: ``vae_studio.gui.MainWindow()`` is the whole window.

``MainWindow`` is imported on first use, so importing a helper module such as
``vae_studio.gui.work.tasks`` does not build every panel module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from .main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
