"""GUI-thread work in event-loop turns of its own: one piece per turn, with paints and input between.

Qt runs every zero-interval timer that is due in one pass of the event loop, and the repaints they
ask for in the next: when a training snapshot, the loss curves' refresh and a panel's end-of-run fit
came due together, the window ran them back to back and then painted them all, 35-60 ms in which
no click could be answered (benchmarks/gui_responsiveness.py). :class:`OwnTurn` is a zero-interval
single-shot timer whose pieces share one queue, the GUI thread's: one piece runs per pass, the timer
that runs the next is started after it, so the paint the piece asked for (a posted event) and any input
or due timer come before the next piece. Measured with a 10 ms timer beside three 15-ms pieces that
each repaint a widget: ticks came between every piece and its paint and the next piece.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QTimer


class _Queue(QObject):
    """The pieces waiting for a turn of the GUI thread, oldest first; one runs per event-loop pass."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: deque[OwnTurn] = deque()
        self._timer = QTimer(self, singleShot=True, interval=0, timeout=self._run_one)

    def add(self, turn: OwnTurn) -> None:
        if turn not in self._waiting:
            self._waiting.append(turn)
        if not self._timer.isActive():
            self._timer.start()

    def remove(self, turn: OwnTurn) -> None:
        if turn in self._waiting:
            self._waiting.remove(turn)

    def __contains__(self, turn: OwnTurn) -> bool:
        return turn in self._waiting

    def _run_one(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if shiboken6.isValid(turn):  # its owner may have been deleted while it waited
                break
        else:
            return
        if self._waiting:
            self._timer.start()  # started now, so it fires after this pass's paints (module doc)
        turn.callback()


_queue: _Queue | None = None


class OwnTurn(QObject):
    """A single-shot callback for the next free event-loop turn of the GUI thread (module doc).

    ``start()`` while waiting keeps its place; ``stop()`` takes it out. A child of the panel that owns it,
    so a panel's shutdown stops it with its timers."""

    def __init__(self, parent: QObject, callback: Callable[[], None]) -> None:
        super().__init__(parent)
        self.callback = callback

    def start(self) -> None:
        global _queue
        if _queue is None:
            _queue = _Queue()
        _queue.add(self)

    def stop(self) -> None:
        if _queue is not None:
            _queue.remove(self)

    def isActive(self) -> bool:  # noqa: N802 (QTimer's name, so it reads like one)
        return _queue is not None and self in _queue
