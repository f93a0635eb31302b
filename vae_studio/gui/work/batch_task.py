"""Long batched core computations (evaluation, anomaly scores) on a worker thread, stoppable, with progress.

The core's batched functions take ``progress(done, total)`` and ``should_stop()`` and raise
``Stopped`` (core/batch_progress.py). A :class:`BatchTask` runs one of them on its own TaskRunner,
turns the progress into a fraction with an ETA for the status bar (``state.set_progress``) and the
panel's own label, and tells a stop by the user apart from a failure, so a panel shows a warning
only for a real error.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ...core.app_state import AppState
from ...core.batch_progress import ProgressCallback, StopCheck, Stopped
from ...core.text import format_duration
from .tasks import TaskContext, TaskRunner

# Progress messages at most this often: enough for a smooth bar without flooding the event queue.
REPORT_INTERVAL_S = 0.1
# No ETA before this much work is done: the first batches include warm-up and would mislead.
ETA_AFTER_FRACTION = 0.02

BatchFunction = Callable[[ProgressCallback, StopCheck], object]


class _StoppedMarker:
    """The task's result when the user stopped it (a sentinel that crosses the thread boundary)."""


_STOPPED = _StoppedMarker()



class BatchTask(QObject):
    """One stoppable batched computation at a time; see the module docstring."""

    finished = Signal(object)  # the function's result
    failed = Signal(str)  # a VaeStudioError's message (or an unexpected error's)
    stopped = Signal()  # the user stopped it; there is no result
    progressed = Signal(float, str)  # fraction done and "label · 1,200/10,000 · ETA 12 s"
    busy_changed = Signal(bool)

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.busy_changed.connect(self.busy_changed)
        self._label = ""
        self._unit = ""
        self._started = 0.0

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def start(self, label: str, fn: BatchFunction, unit: str = "images") -> bool:
        """Run ``fn(progress, should_stop)`` on the worker thread; False (nothing started) while busy.

        ``fn`` must only touch private copies (a detached model, tensors nobody changes in place).
        """
        if self.runner.busy:
            return False
        self._label, self._unit = label, unit
        self._started = time.perf_counter()

        def task(context: TaskContext) -> object:
            last = [0.0]

            def progress(done: int, total: int) -> None:
                now = time.perf_counter()
                if done >= total or now - last[0] >= REPORT_INTERVAL_S:
                    last[0] = now
                    context.report((done, total))

            try:
                return fn(progress, lambda: context.control.stopped)
            except Stopped:
                return _STOPPED

        self.runner.start(task)
        self._show(0.0, f"{label}…")
        return True

    def stop(self) -> None:
        """Ask the computation to stop after its current batch; ``stopped`` follows."""
        self.runner.stop()

    def shutdown(self) -> None:
        """Stop the computation and join its thread (the panel's shutdown calls this)."""
        was_busy = self.runner.busy
        self.runner.shutdown()
        if was_busy:
            self._clear_progress()

    @Slot(object)
    def _on_progress(self, message: object) -> None:
        done, total = message  # type: ignore[misc]
        fraction = done / total if total else 1.0
        text = f"{self._label} · {done:,}/{total:,} {self._unit}"
        if fraction >= ETA_AFTER_FRACTION and done < total:
            elapsed = time.perf_counter() - self._started
            text += f" · ETA {format_duration(elapsed * (1.0 - fraction) / fraction)}"
        self._show(fraction, text)

    def _show(self, fraction: float, text: str) -> None:
        self.progressed.emit(fraction, text)
        # A training run owns the status bar while it runs; this task's progress is in its panel then.
        if not self.state.training:
            self.state.set_progress(fraction, text)

    def _clear_progress(self) -> None:
        if not self.state.training:
            self.state.set_progress(None)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self._clear_progress()
        if result is _STOPPED:
            self.stopped.emit()
        else:
            self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._clear_progress()
        self.failed.emit(message)
