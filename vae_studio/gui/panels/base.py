"""The panel protocol: what every panel of the window is and owns.

A panel is a widget that shows (and changes) the shared AppState. It subscribes through
:meth:`Panel.subscribe`, runs background work on :class:`~..work.tasks.Task` objects it parents
(``Task(self, ...)``) and follows bursts of events through ``DeferredRefresh(self, ...)``; timers
are its children too, as is work waiting for a turn of its own (``OwnTurn(self, ...)``).
:meth:`Panel.shutdown` therefore needs no list of its own: it unsubscribes, stops every child
timer, turn and refresh, and joins every child task's thread, so closing the window leaves nothing
running. A panel with a picture worth saving overrides :meth:`Panel.export_image`.

Its ``objectName`` is ``<name>Panel`` (``latentMapPanel``, ``trainingPanel``, …), from the class's
``name``, the key of its row in the window's table of panels (gui/workspace.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import ClassVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from ...core.app_state import AppState, Event
from ...core.errors import VaeStudioError
from ..widgets.settings_form import set_widget_value
from ..work.deferred_refresh import DeferredRefresh
from ..work.tasks import Task
from ..work.turns import OwnTurn


class ExportError(VaeStudioError):
    """A panel's picture could not be exported (nothing to export yet, or the file could not be written)."""


class Panel(QWidget):
    """Base class of every panel (module doc)."""

    name: ClassVar[str] = ""  # the panel's key: objectName, View menu, MainWindow.show_panel(name)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not self.name:
            raise TypeError(f"{type(self).__name__} must set the class attribute 'name'")
        self.setObjectName(f"{self.name}Panel")
        self.state = state
        self._subscriptions: list[tuple[Event, Callable[[], None]]] = []

    def subscribe(self, listener: Callable[[], None], *events: Event) -> None:
        """Call ``listener`` on each of ``events`` until :meth:`shutdown`."""
        for event in events:
            self.state.subscribe(event, listener)
            self._subscriptions.append((event, listener))

    def shutdown(self) -> None:
        """Stop listening, stop timers, turns and refreshes, stop and join background tasks (the window's close)."""
        for event, listener in self._subscriptions:
            self.state.unsubscribe(event, listener)
        self._subscriptions.clear()
        for refresh in self.findChildren(DeferredRefresh):
            refresh.stop()
        for timer in self.findChildren(QTimer):
            timer.stop()
        for turn in self.findChildren(OwnTurn):
            turn.stop()
        for task in self.findChildren(Task):
            task.shutdown()

    def setting_widgets(self) -> dict[str, QWidget]:
        """The controls that others may set by key (the guided lab, the denoising advice); none by default."""
        return {}

    def apply_settings(self, settings: Mapping[str, object]) -> None:
        """Set the controls that ``settings`` name; a key the panel does not have raises KeyError."""
        widgets = self.setting_widgets()
        for key, value in settings.items():
            if key not in widgets:
                raise KeyError(f"the {self.name} panel has no setting {key!r}")
            set_widget_value(widgets[key], value)

    def export_image(self, path: str | os.PathLike[str]) -> None:
        """Save the panel's picture as a PNG file; raises ExportError when there is none or it cannot be written."""
        raise ExportError(f"The {self.name} panel has no picture to export.")
