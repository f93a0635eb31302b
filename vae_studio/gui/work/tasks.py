"""Long work off the GUI thread, the way Orange3's widgets run their optimisers.

A :class:`TaskRunner` runs one task at a time: a plain function ``fn(context)`` executed by a
worker object moved to a fresh ``QThread``. The function reports partial results with
``context.report(obj)`` (plain copies only: numbers, numpy arrays, frozen dataclasses of them),
checks ``context.control`` (the core's stop/pause flag) between steps, and returns its result.
Signals carry those objects to the GUI thread. ``shutdown()`` stops and joins the thread, so
closing a window never leaves a thread running.

Task threads run at a lower priority than the GUI thread. On a machine with two cores a training
run (its thread and torch's helper threads) wants both, and at equal priority the GUI thread waits
its turn for tens of milliseconds at a time, so the window stutters although the GUI has little to
do; at a lower priority the tasks still take every cycle the GUI leaves (a run took as long in
benchmarks/gui_responsiveness.py) and the longest GUI stalls fell by half. ``QThread.LowPriority``
does that on Windows and macOS; on Linux Qt can only map it to nothing (normal threads there have one
static priority) or, for ``IdlePriority``, to SCHED_IDLE, under which a run took 2.5 times as long
on a busy machine, so there the thread lowers its own "nice" value, which Linux keeps per thread.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...core.errors import VaeStudioError
from ...core.trainer import RunControl

log = logging.getLogger(__name__)

# Every thread a TaskRunner starts, so tests can fail when one is left running.
_threads: weakref.WeakSet[QThread] = weakref.WeakSet()
# Added to a task thread's nice value on Linux (19 is the lowest priority): `nice`'s usual increment.
TASK_NICE = 10


def _lower_this_threads_priority() -> None:
    """Give the calling task thread, and the threads torch starts from it, a lower priority (module doc)."""
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + TASK_NICE, 19))
        except OSError:  # not allowed (an unusual sandbox): the task runs at the GUI's priority
            log.debug("could not lower the priority of a task thread", exc_info=True)


def running_threads() -> list[QThread]:
    """Task threads that are still running (normally none once every runner was shut down)."""
    return [thread for thread in list(_threads) if thread.isRunning()]


class TaskContext:
    """What a task function gets: the stop/pause flag and a way to send partial results."""

    def __init__(self, control: RunControl, report: Callable[[object], None]) -> None:
        self.control = control
        self.report = report


class _Worker(QObject):
    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[TaskContext], Any], control: RunControl) -> None:
        super().__init__()
        self._fn = fn
        self._control = control

    @Slot()
    def run(self) -> None:
        _lower_this_threads_priority()
        try:
            result = self._fn(TaskContext(self._control, self.progress.emit))
        except VaeStudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must reach the user as a message, not kill the thread silently
            log.error("task failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)


class TaskRunner(QObject):
    """Runs one background task at a time and relays its signals to the GUI thread."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self.control = RunControl()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, fn: Callable[[TaskContext], Any]) -> bool:
        """Start ``fn`` on a new thread; returns False (and starts nothing) while a task runs."""
        if self.busy:
            return False
        self.control = RunControl()
        thread = QThread()
        _threads.add(thread)
        worker = _Worker(fn, self.control)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start(QThread.Priority.LowPriority)
        self.busy_changed.emit(True)
        return True

    def stop(self) -> None:
        """Ask the task to stop at its next check; the finished/failed signal still follows."""
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the task and wait for its thread; True when no thread is left running."""
        if self._thread is None:
            return True
        self.control.stop()
        if self._worker is not None:
            # Results that arrive after shutdown have nobody left to show them to.
            for signal in (self._worker.progress, self._worker.done, self._worker.failed):
                signal.disconnect()
        thread = self._thread
        thread.quit()
        finished = thread.wait(timeout_ms)
        if finished:
            self._release()
        return finished

    def _release(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
        self.busy_changed.emit(False)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self._release()
        self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._release()
        self.failed.emit(message)
