"""Recomputing a view when its inputs change, on the GUI thread when that is cheap and off it when not.

Exploration panels redraw whenever a setting moves or the model's weights change (a training
refresh). Decoding a hundred images with the small MLP takes about a millisecond, so doing it at
once keeps a slider live; a convolutional decoder or a larger grid would stall the window, so that
work goes to a TaskRunner. Either way only the newest request's result is shown: a request that
arrives while an older one runs supersedes it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ...core.errors import VaeStudioError
from ...core.models import AE
from .tasks import TaskRunner

# At most this many MLP decodings run on the GUI thread (about a millisecond on a laptop CPU).
CHEAP_DECODES = 100


def decode_in_background(model: AE, decodings: int) -> bool:
    """True when decoding ``decodings`` images with ``model`` could stall the window (see module doc)."""
    return model.config.arch != "mlp" or decodings > CHEAP_DECODES


def detached(model: AE) -> AE:
    """A private copy for a worker thread: the GUI copy's weights are replaced in place while a model trains."""
    return copy.deepcopy(model)


class LatestTask(QObject):
    """Runs requests ``fn() -> result`` and emits ``finished(result)`` for the newest one only."""

    finished = Signal(object)
    failed = Signal(str)  # a VaeStudioError's message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self._generation = 0
        self._running_generation = -1
        self._pending: Callable[[], object] | None = None

    def request(self, fn: Callable[[], object], *, background: bool) -> None:
        """Compute ``fn()`` now (``background`` False: the result is emitted before this returns) or on
        the worker thread, superseding any request still in progress."""
        self._generation += 1
        if not background:
            self._pending = None  # older background work is dropped when it returns
            try:
                result = fn()
            except VaeStudioError as exc:
                self.failed.emit(str(exc))
                return
            self.finished.emit(result)
            return
        if self.runner.busy:
            self._pending = fn
            self.runner.stop()
            return
        self._start(fn)

    def cancel(self) -> None:
        """Drop every request made so far: a result still on its way is not emitted."""
        self._generation += 1
        self._pending = None
        self.runner.stop()

    def shutdown(self) -> None:
        self._pending = None
        self.runner.shutdown()

    def _start(self, fn: Callable[[], object]) -> None:
        self._running_generation = self._generation
        self.runner.start(lambda _context: fn())

    def _start_pending(self) -> bool:
        fn, self._pending = self._pending, None
        if fn is None:
            return False
        self._start(fn)
        return True

    @Slot(object)
    def _on_done(self, result: object) -> None:
        current = self._running_generation == self._generation
        if not self._start_pending() and current:
            self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        current = self._running_generation == self._generation
        if not self._start_pending() and current:
            self.failed.emit(message)
