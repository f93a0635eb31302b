"""The one task API (gui/work/tasks.py): results, throttled progress, stop, newest-wins, cancel, priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from vae_studio.core.batch_progress import Stopped, checkpoint
from vae_studio.core.errors import VaeStudioError
from vae_studio.core.app_state import AppState, Event
from vae_studio.gui.work import tasks
from vae_studio.gui.work.tasks import TASK_NICE, Task, TaskState

TIMEOUT_MS = 10_000


def test_a_task_returns_its_result_and_its_partial_results(qtbot) -> None:
    task = Task()
    partial: list[object] = []
    task.partial.connect(partial.append)

    def work(state: TaskState) -> int:
        state.report("first")  # the first report goes at once
        state.report("dropped")  # one within the interval is throttled away
        state.report("forced", force=True)
        return 42

    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS) as finished:
        assert task.start(work)
    assert finished.args == [42] and partial == ["first", "forced"] and not task.busy


def test_a_batched_function_reports_progress_and_stops_between_batches(qtbot) -> None:
    state = AppState()
    progress_events: list[tuple[float, str] | None] = []
    state.subscribe(Event.PROGRESS, lambda: progress_events.append(state.progress))
    task = Task(state=state)
    progressed: list[tuple[float, str]] = []
    task.progressed.connect(lambda fraction, text: progressed.append((fraction, text)))
    release, stopped_at = threading.Event(), []

    def batches(work: TaskState) -> None:
        for done in range(1, 1000):
            checkpoint(done, 1000, work.progress, work.should_stop)
            stopped_at.append(done)
            release.wait(5)

    with qtbot.waitSignal(task.stopped, timeout=TIMEOUT_MS):
        task.start(batches, label="Scoring", unit="images")
        qtbot.waitUntil(lambda: len(progressed) >= 2, timeout=TIMEOUT_MS)
        task.stop()
        release.set()
    assert progressed[0] == (0.0, "Scoring…")
    assert progressed[1][1].startswith("Scoring · 1/1,000 images")
    assert len(stopped_at) < 1000  # stopped between batches, long before the end
    assert progress_events[0] == (0.0, "Scoring…") and progress_events[-1] is None  # the status bar is cleared


def test_a_failure_is_a_message_and_a_start_while_busy_is_refused(qtbot) -> None:
    task = Task()
    release = threading.Event()

    def fail(_state: TaskState) -> None:
        release.wait(5)
        raise VaeStudioError("bad input")

    with qtbot.waitSignal(task.failed, timeout=TIMEOUT_MS) as failed:
        assert task.start(fail)
        assert not task.start(lambda _state: None)  # one run at a time
        release.set()
    assert failed.args == ["bad input"]


def test_only_the_newest_request_is_shown(qtbot) -> None:
    """A newest-wins task (every exploration panel, the map's encodings): a request made while an older
    one runs stops and supersedes it; a cheap request runs at once and drops older work on its way."""
    task = Task(newest_wins=True)
    results: list[str] = []
    task.finished.connect(results.append)
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "old"

    task.request(slow, background=True)
    task.request(lambda: "newer", background=True)  # queued behind the running one
    task.request(lambda: "newest", background=True)  # replaces the queued one
    release.set()
    qtbot.waitUntil(lambda: results == ["newest"], timeout=TIMEOUT_MS)
    release.clear()
    task.request(slow, background=True)
    task.request(lambda: "now", background=False)
    assert results == ["newest", "now"]
    release.set()
    qtbot.waitUntil(lambda: not task.busy, timeout=TIMEOUT_MS)
    assert results == ["newest", "now"]


def test_newest_wins_stops_the_running_function_and_cancel_drops_its_result(qtbot) -> None:
    task = Task(newest_wins=True)
    results: list[object] = []
    task.finished.connect(results.append)
    task.stopped.connect(lambda: results.append("stopped"))

    def until_stopped(state: TaskState) -> str:
        while not state.stopped:
            state.control.wait_while_paused()
        raise Stopped()

    task.start(until_stopped)
    task.start(lambda _state: "second")  # cancel-on-restart: the first run is stopped, its end not shown
    qtbot.waitUntil(lambda: results == ["second"], timeout=TIMEOUT_MS)
    task.start(until_stopped)
    task.cancel()
    qtbot.waitUntil(lambda: not task.busy, timeout=TIMEOUT_MS)
    assert results == ["second"]


def test_shutdown_joins_the_thread_and_drops_what_it_would_send(qtbot) -> None:
    task = Task()
    results: list[object] = []
    task.finished.connect(results.append)
    started = threading.Event()

    def wait_for_stop(state: TaskState) -> str:
        started.set()
        while not state.should_stop():
            started.wait(0.01)
        return "late"

    task.start(wait_for_stop)
    assert started.wait(5)
    assert task.shutdown() and not task.busy
    assert results == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux threads have their own nice value")
@pytest.mark.parametrize("core_free", [True, False])
def test_task_threads_yield_to_the_gui_only_while_a_core_is_free(
    qtbot, monkeypatch: pytest.MonkeyPatch, core_free: bool
) -> None:
    # With a core to spare, a task yields to the window's GUI thread; when other programs keep every
    # core busy it runs at their priority (and the GUI's), or they would take its share too.
    monkeypatch.setattr(tasks, "tasks_may_yield", lambda: core_free)
    task = Task()
    niceness: list[int] = []
    task.start(lambda _state: niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    qtbot.waitUntil(lambda: not task.busy, timeout=TIMEOUT_MS)
    gui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness == [min(gui_nice + TASK_NICE, 19) if core_free else gui_nice]
