"""The one way the GUI runs long work off its thread, after Orange3's ``ConcurrentWidgetMixin``/``TaskState``.

A :class:`Task` runs one plain function ``fn(task_state)`` at a time on a fresh ``QThread``. The
function gets a :class:`TaskState`: the core's stop/pause flag (``control``, ``should_stop()``,
checked between batches), ``report(obj)`` for partial results (plain copies only: numbers, numpy
arrays, frozen dataclasses of them) and ``progress(done, total)``, both throttled to one message
per ``REPORT_INTERVAL_S``. Signals carry them to the GUI thread: ``partial``, ``progressed``
(fraction and a "label · 1,200/10,000 images · ETA 12 s" text, also shown in the status bar when
the task was given the AppState), then ``finished(result)``, ``failed(message)`` or ``stopped()``
(the function raised the core's ``Stopped``). Options:

- ``newest_wins``: a start while a run is in progress stops that run (cancel-on-restart), runs the
  new function when it returns, and only the newest run's results are emitted; ``request(fn,
  background=False)`` computes a cheap request at once on the GUI thread under the same rule.
- ``cancel()`` drops every result still on its way.

Newest-wins requests are small (a manifold picture, a traversal grid) and often run beside a
training run, so their torch kernels run on one thread: a second OpenMP team would make both teams
sleep at every barrier (core/threads.py). Other tasks take the configured count.

``shutdown()`` stops the run and joins its thread, so closing a window never leaves a thread running.

Task threads run below the GUI thread's priority while other programs leave a core free
(``core.threads.tasks_may_yield``). On a machine with two cores a training run (its thread and
torch's helper threads) wants both, and at equal priority the GUI thread waits its turn for tens
of milliseconds at a time, so the window stutters although the GUI has little to do; at a lower
priority the tasks still take every cycle the GUI leaves. When other programs keep every core
busy, a lower priority would hand them the tasks' share too (a training run took 9 times as long
as the command line's), so tasks then run at the GUI's priority. ``QThread.LowPriority`` does
that on Windows and macOS; on Linux Qt can only map it to nothing (normal threads there have one
static priority) or, for ``IdlePriority``, to SCHED_IDLE, under which a run took 2.5 times as long
on a busy machine, so there the thread raises its own "nice" value, which Linux keeps per thread.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from ...core.app_state import AppState
from ...core.batch_progress import Stopped
from ...core.errors import VaeStudioError
from ...core.text import format_duration
from ...core.threads import note_machine_load, tasks_may_yield, use_configured_threads_here
from ...core.throttle import Throttle
from ...core.run_control import RunControl

log = logging.getLogger(__name__)

# Every thread a Task starts, so tests can fail when one is left running.
_threads: weakref.WeakSet[QThread] = weakref.WeakSet()
# Added to a task thread's nice value on Linux (19 is the lowest priority): `nice`'s usual increment.
TASK_NICE = 10
# Readings of the machine's load for the tasks' priority (module doc), while the application runs.
LOAD_WATCH_MS = 1000
_load_watch: QTimer | None = None
# No ETA before this much work is done: the first batches include warm-up and would mislead.
ETA_AFTER_FRACTION = 0.02


def _lower_this_threads_priority() -> None:
    """Give the calling task thread, and the threads torch starts from it, a lower priority (module doc)."""
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + TASK_NICE, 19))
        except OSError:  # not allowed (an unusual sandbox): the task runs at the GUI's priority
            log.debug("could not lower the priority of a task thread", exc_info=True)


def _watch_the_machines_load() -> None:
    """Read the load every LOAD_WATCH_MS from the first Task on, so each start decides on a fresh reading."""
    global _load_watch
    app = QCoreApplication.instance()
    if _load_watch is None and app is not None:
        _load_watch = QTimer(app, interval=LOAD_WATCH_MS, timeout=note_machine_load)
        _load_watch.start()


def running_threads() -> list[QThread]:
    """Task threads that are still running (normally none once every task was shut down)."""
    return [thread for thread in list(_threads) if thread.isRunning()]


class TaskState:
    """What a task function gets: the stop/pause flag and throttled ways to send results and progress."""

    def __init__(self, control: RunControl, send: Callable[[object], None]) -> None:
        self.control = control
        self._send = send
        self._report_throttle = Throttle()
        self._progress_throttle = Throttle()

    @property
    def stopped(self) -> bool:
        return self.control.stopped

    def should_stop(self) -> bool:
        """The core's ``StopCheck``: True once the user (or a newer request) asked this run to stop."""
        return self.control.stopped

    def report(self, result: object, *, force: bool = False) -> bool:
        """Send a partial result, unless one was sent less than REPORT_INTERVAL_S ago (``force``: always).

        Returns whether it was sent, so a caller that accumulates between reports knows when to start afresh.
        """
        if not (force or self._report_throttle.due()):
            return False
        self._send(result)
        return True

    def progress(self, done: int, total: int) -> None:
        """The core's ``ProgressCallback``: at most one message per REPORT_INTERVAL_S, and always the last."""
        if done >= total or self._progress_throttle.due():
            self._send(_Progress(done, total))


class _Progress:
    __slots__ = ("done", "total")

    def __init__(self, done: int, total: int) -> None:
        self.done, self.total = done, total


class _StoppedMarker:
    """The result of a run that raised ``Stopped`` (a sentinel that crosses the thread boundary)."""


_STOPPED = _StoppedMarker()


class _Worker(QObject):
    sent = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[TaskState], Any], control: RunControl, lower_priority: bool, serial: bool) -> None:
        super().__init__()
        self._fn = fn
        self._control = control
        self._lower_priority = lower_priority
        self._serial = serial

    @Slot()
    def run(self) -> None:
        if self._lower_priority:
            _lower_this_threads_priority()
        use_configured_threads_here(self._serial)
        try:
            result = self._fn(TaskState(self._control, self.sent.emit))
        except Stopped:
            self.done.emit(_STOPPED)
        except VaeStudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must reach the user as a message, not kill the thread silently
            log.error("task failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)


TaskFunction = Callable[[TaskState], Any]


class Task(QObject):
    """Runs one background function at a time and relays what it sends to the GUI thread (module doc)."""

    partial = Signal(object)  # what the function passed to TaskState.report
    progressed = Signal(float, str)  # fraction done and "label · 1,200/10,000 images · ETA 12 s"
    finished = Signal(object)  # the function's result
    failed = Signal(str)  # a VaeStudioError's message (or an unexpected error's)
    stopped = Signal()  # the function raised Stopped: the user stopped it
    busy_changed = Signal(bool)

    def __init__(
        self, parent: QObject | None = None, *, newest_wins: bool = False, state: AppState | None = None
    ) -> None:
        super().__init__(parent)
        _watch_the_machines_load()
        self.newest_wins = newest_wins
        self.state = state  # given: progress also goes to the status bar (while no model trains)
        self.control = RunControl()
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._generation = 0  # bumped by every request and by cancel(); a run's results count only if current
        self._running_generation = -1
        self._pending: tuple[TaskFunction, str, str] | None = None
        self._label = ""
        self._unit = ""
        self._started = 0.0

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, fn: TaskFunction, *, label: str = "", unit: str = "images") -> bool:
        """Run ``fn(task_state)`` on a new thread; ``label`` names it in progress messages.

        While a run is in progress: with ``newest_wins`` that run is stopped and ``fn`` runs after it
        (True); otherwise nothing starts (False). ``fn`` must only touch private copies.
        """
        if self.busy:
            if not self.newest_wins:
                return False
            self._generation += 1
            self._pending = (fn, label, unit)
            self.control.stop()
            return True
        self._generation += 1
        self._launch(fn, label, unit)
        return True

    def request(self, fn: Callable[[], object], *, background: bool) -> None:
        """A newest-wins request for ``fn()``: at once on the GUI thread (``background`` False: the
        result is emitted before this returns) or on the worker thread."""
        if background:
            self.start(lambda _state: fn())
            return
        self._generation += 1
        self._pending = None  # older background work is dropped when it returns
        try:
            result = fn()
        except VaeStudioError as exc:
            self.failed.emit(str(exc))
            return
        self.finished.emit(result)

    def cancel(self) -> None:
        """Drop every request made so far: results still on their way are not emitted."""
        self._generation += 1
        self._pending = None
        self.control.stop()

    def stop(self) -> None:
        """Ask the run to stop at its next check; ``finished``, ``stopped`` or ``failed`` still follows."""
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the run and wait for its thread; True when no thread is left running."""
        self._pending = None
        if self._thread is None:
            return True
        self.control.stop()
        if self._worker is not None:
            # Results that arrive after shutdown have nobody left to show them to.
            for signal in (self._worker.sent, self._worker.done, self._worker.failed):
                signal.disconnect()
        self._clear_progress()
        thread = self._thread
        thread.quit()
        finished = thread.wait(timeout_ms)
        if finished:
            self._release()
        return finished

    # -- internals ----------------------------------------------------------------------
    def _launch(self, fn: TaskFunction, label: str, unit: str) -> None:
        self.control = RunControl()
        self._running_generation = self._generation
        self._label, self._unit, self._started = label, unit, time.perf_counter()
        thread = QThread()
        _threads.add(thread)
        lower_priority = tasks_may_yield()
        worker = _Worker(fn, self.control, lower_priority, serial=self.newest_wins)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.sent.connect(self._on_sent)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start(QThread.Priority.LowPriority if lower_priority else QThread.Priority.InheritPriority)
        self.busy_changed.emit(True)
        if label:
            self._show(0.0, f"{label}…")

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

    def _current(self) -> bool:
        return self._running_generation == self._generation

    def _finish(self) -> bool:
        """Release the thread; start the pending request if any. True when the run's result counts."""
        current = self._current()
        self._release()
        if self._label:
            self._clear_progress()
        pending, self._pending = self._pending, None
        if pending is not None:
            self._launch(*pending)
            return False
        return current

    @Slot(object)
    def _on_sent(self, message: object) -> None:
        if not self._current():
            return
        if isinstance(message, _Progress):
            self._on_progress(message.done, message.total)
        else:
            self.partial.emit(message)

    def _on_progress(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        text = f"{self._label} · {done:,}/{total:,} {self._unit}"
        if fraction >= ETA_AFTER_FRACTION and done < total:
            elapsed = time.perf_counter() - self._started
            text += f" · ETA {format_duration(elapsed * (1.0 - fraction) / fraction)}"
        self._show(fraction, text)

    def _show(self, fraction: float, text: str) -> None:
        self.progressed.emit(fraction, text)
        # A training run owns the status bar while it runs; this task's progress is in its panel then.
        if self.state is not None and not self.state.training:
            self.state.set_progress(fraction, text)

    def _clear_progress(self) -> None:
        if self.state is not None and self._label and not self.state.training:
            self.state.set_progress(None)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if not self._finish():
            return
        if result is _STOPPED:
            self.stopped.emit()
        else:
            self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._finish():
            self.failed.emit(message)
