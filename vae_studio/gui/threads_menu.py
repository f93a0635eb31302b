"""The window's "Training Threads" setting: how many CPU threads torch uses (vae_studio.core.threads).

"Automatic" chooses from the cores other programs leave free, at start-up and while training
(core/threads.py); a count applies at once to the next run (each run's thread takes torch's count
when it first computes) and at every start.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from ..core.threads import configure_threads, usable_cores
from .startup import THREADS_KEY, threads_setting


def add_threads_menu(menu: QMenu) -> QMenu:
    """Add the "Training Threads" submenu to ``menu``; returns it (objectName ``threadsMenu``)."""
    submenu = menu.addMenu("Training &Threads")
    submenu.setObjectName("threadsMenu")
    submenu.setToolTipsVisible(True)
    group = QActionGroup(submenu)
    chosen = threads_setting()
    for count in range(usable_cores() + 1):
        action = QAction("&Automatic" if count == 0 else f"&{count}", submenu, checkable=True)
        action.setData(count)
        action.setChecked(count == chosen)
        action.setToolTip(
            "as many as the cores other programs leave free (from the next start)"
            if count == 0
            else f"{count} thread{'s' if count > 1 else ''}, from the next training run"
        )
        group.addAction(action)
        submenu.addAction(action)
    group.triggered.connect(lambda action: _choose(int(action.data())))
    return submenu


def _choose(count: int) -> None:
    QSettings().setValue(THREADS_KEY, count)
    if count:
        configure_threads(count)  # torch is loaded: applied now, and no longer changed with the load
