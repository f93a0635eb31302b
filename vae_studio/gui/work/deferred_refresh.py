"""Bringing a panel up to date with the state at most once per event-loop turn, and only while it is on screen.

While a model trains the state changes many times a second: the loss history about ten times,
and at every map refresh the weights and the encoding, one event right after the other. A panel
that redrew at each event redrew twice per snapshot, and a panel nobody could see (its dock
closed, or tabbed behind another dock) redrew for nobody: with a dozen panels that kept the GUI
thread busy for hundreds of milliseconds per snapshot (benchmarks/gui_responsiveness.py).

A panel hands :class:`DeferredRefresh` the function that brings it up to date and calls
:meth:`~DeferredRefresh.request` from its AppState listeners. While the panel is on screen, any
number of requests run that function once, on the next free event-loop turn (one panel's refresh
per turn: work/turns.py), when the burst of events is over; while it is off screen a request only
marks the panel stale, and it catches up at once when it comes on screen (the user is looking at
it then). A click (a new probe or selection) is not a burst and deserves an answer in the same
turn: :meth:`~DeferredRefresh.now_or_when_shown` runs such an update at once on screen.

A panel whose redraw is costly and whose events come steadily while a model trains (the loss
curves: ten history updates a second) asks with a ``min_interval_s`` for those events: such a
refresh starts no sooner than that after the previous one, so the panel's share of the GUI
thread, which shares the cores with training, stays small however often the figures come.

"On screen" needs care in a dock: Qt keeps a dock whose tab is behind another one *visible* and
only moves it out of sight, so ``isVisible()`` alone cannot tell; the dock's ``visibilityChanged``
signal does (it also fires when the dock is closed or opened).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QWidget

from .turns import OwnTurn


def _enclosing_dock(widget: QWidget) -> QDockWidget | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return parent


class DeferredRefresh(QObject):
    """Runs ``refresh()`` for a panel once per event-loop turn of requests, and only while it is on screen."""

    # The panel came on screen (True) or left it (False): shown or hidden, its dock tab raised or
    # lowered, its dock opened or closed.
    on_screen_changed = Signal(bool)

    def __init__(self, panel: QWidget, refresh: Callable[[], None]) -> None:
        super().__init__(panel)
        self._panel = panel
        self._refresh = refresh
        self._last_run = -float("inf")
        self._stale = False
        self._dock: QDockWidget | None = None
        self._tab_raised = True  # what the dock's visibilityChanged said last (always True outside a dock)
        self._was_on_screen = False
        self._turn = OwnTurn(self, self._run)
        # Waits out a min_interval_s, then asks for a turn.
        self._timer = QTimer(self, singleShot=True, timeout=self._turn.start)
        panel.installEventFilter(self)
        self._follow_dock()

    @property
    def pending(self) -> bool:
        """True from a request until the refresh it asked for has run (for ever while off screen)."""
        return self._stale

    def on_screen(self) -> bool:
        """Whether the panel can be seen: shown, and in a dock (if any) whose tab is the one raised."""
        return self._panel.isVisible() and self._tab_raised

    def request(self, min_interval_s: float = 0.0) -> None:
        """The state changed: refresh on the next free event-loop turn if on screen, else once shown again;
        with ``min_interval_s``, no sooner than that after the previous refresh (module doc)."""
        self._stale = True
        if not self.on_screen():
            return
        wait_ms = round(max(0.0, min_interval_s - (time.perf_counter() - self._last_run)) * 1000)
        if wait_ms == 0:
            self._timer.stop()
            self._turn.start()
        elif not self._turn.isActive() and (not self._timer.isActive() or wait_ms < self._timer.remainingTime()):
            self._timer.start(wait_ms)

    def now_or_when_shown(self, update: Callable[[], None]) -> None:
        """Run ``update`` now if the panel is on screen; else refresh the whole panel once it is shown."""
        if self.on_screen():
            update()
        else:
            self.request()

    def stop(self) -> None:
        """Forget any pending refresh (the panel's shutdown: nothing may start after it)."""
        self._stale = False
        self._timer.stop()
        self._turn.stop()

    def _run(self) -> None:
        if self._stale and self.on_screen():
            self._stale = False
            self._last_run = time.perf_counter()
            self._refresh()

    # -- following the panel on and off screen -------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._panel:
            kind = event.type()
            if kind in (QEvent.Type.ParentChange, QEvent.Type.Show):
                self._follow_dock()  # the panel may have been put in a dock (or another one)
            if kind in (QEvent.Type.Show, QEvent.Type.Hide):
                self._on_visibility()
        return False

    def _follow_dock(self) -> None:
        dock = _enclosing_dock(self._panel)
        if dock is self._dock:
            return
        if self._dock is not None:
            self._dock.visibilityChanged.disconnect(self._on_dock_visibility)
        self._dock = dock
        # A dock not shown yet says whether its tab is raised when it is shown (children are shown
        # first, so the panel's own Show event cannot tell).
        self._tab_raised = dock is None or dock.isVisible()
        if dock is not None:
            dock.visibilityChanged.connect(self._on_dock_visibility)

    def _on_dock_visibility(self, visible: bool) -> None:
        self._tab_raised = visible
        self._on_visibility()

    def _on_visibility(self) -> None:
        shown = self.on_screen()
        if shown != self._was_on_screen:
            self._was_on_screen = shown
            if shown:
                self._run()
            self.on_screen_changed.emit(shown)
