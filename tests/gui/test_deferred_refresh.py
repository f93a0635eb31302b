"""DeferredRefresh: a panel refreshes once per event-loop turn of state events, and only while it is on screen."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.work.deferred_refresh import DeferredRefresh
from vae_studio.gui.panels import loss_curves
from vae_studio.gui.panels.loss_curves import LossPanel

TIMEOUT_MS = 15_000


class CountingPanel(QWidget):
    """A panel whose refresh only counts, following the model, encoding and history like the real ones."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.refreshes = 0
        self.updates = DeferredRefresh(self, self._refresh)
        for event in (Event.CURRENT_MODEL, Event.WEIGHTS, Event.ENCODING, Event.HISTORY):
            state.subscribe(event, self.updates.request)

    def _refresh(self) -> None:
        self.refreshes += 1


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def panel(qtbot, state: AppState) -> CountingPanel:
    panel = CountingPanel(state)
    qtbot.addWidget(panel)
    return panel


def test_a_burst_of_events_causes_one_refresh_on_the_next_turn(panel: CountingPanel, state: AppState) -> None:
    panel.show()
    for _ in range(5):  # e.g. a training snapshot (new weights, then their encoding) and loss figures
        state.current_weights_changed()
        state.set_encoding(None)
        state.history_changed()
    assert panel.refreshes == 0 and panel.updates.pending  # nothing while the burst goes on
    QApplication.processEvents()
    assert panel.refreshes == 1 and not panel.updates.pending
    QApplication.processEvents()
    assert panel.refreshes == 1  # and nothing more without new events
    state.history_changed()
    QApplication.processEvents()
    assert panel.refreshes == 2


def test_a_hidden_panel_does_no_work_and_catches_up_once_when_shown(panel: CountingPanel, state: AppState) -> None:
    for _ in range(10):
        state.history_changed()
        QApplication.processEvents()
    assert panel.refreshes == 0 and panel.updates.pending
    panel.show()
    assert panel.refreshes == 1 and not panel.updates.pending  # at once: the user is looking now
    QApplication.processEvents()
    assert panel.refreshes == 1
    panel.hide()
    state.history_changed()
    QApplication.processEvents()
    assert panel.refreshes == 1
    panel.show()
    assert panel.refreshes == 2
    panel.hide()
    panel.show()
    assert panel.refreshes == 2  # shown again with nothing new: no work


def test_a_refresh_requested_on_screen_waits_while_hidden(panel: CountingPanel, state: AppState) -> None:
    panel.show()
    state.history_changed()
    panel.hide()  # before the event loop turned
    QApplication.processEvents()
    assert panel.refreshes == 0 and panel.updates.pending
    panel.show()
    assert panel.refreshes == 1


def test_a_click_is_answered_at_once_on_screen_and_when_shown_off_screen(panel: CountingPanel) -> None:
    answered: list[str] = []
    panel.updates.now_or_when_shown(lambda: answered.append("hidden"))
    assert answered == [] and panel.updates.pending  # off screen: the whole panel refreshes when shown
    panel.show()
    assert answered == [] and panel.refreshes == 1
    panel.updates.now_or_when_shown(lambda: answered.append("shown"))
    assert answered == ["shown"] and panel.refreshes == 1


def test_stop_drops_a_pending_refresh(panel: CountingPanel, state: AppState) -> None:
    panel.show()
    state.history_changed()
    panel.updates.stop()
    QApplication.processEvents()
    panel.hide()
    panel.show()
    assert panel.refreshes == 0


@pytest.fixture
def docked(qtbot, state: AppState) -> Iterator[tuple[QMainWindow, CountingPanel, QDockWidget, QDockWidget]]:
    """A window with two docks tabbed together; the counting panel's dock is the tab behind."""
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QWidget())
    panel = CountingPanel(state)
    front, back = QDockWidget("Front", window), QDockWidget("Back", window)
    front.setWidget(QWidget())
    back.setWidget(panel)
    for dock in (front, back):
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(front, back)
    front.raise_()
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    yield window, panel, front, back


def test_a_dock_tab_behind_another_is_off_screen_although_qt_calls_it_visible(docked, state: AppState) -> None:
    _window, panel, _front, back = docked
    assert panel.isVisible() and not panel.updates.on_screen()  # Qt only moved it out of sight
    changes: list[bool] = []
    panel.updates.on_screen_changed.connect(changes.append)
    state.current_weights_changed()
    QApplication.processEvents()
    assert panel.refreshes == 0
    back.raise_()  # its tab is clicked
    assert panel.updates.on_screen() and panel.refreshes == 1 and changes == [True]
    state.current_weights_changed()
    QApplication.processEvents()
    assert panel.refreshes == 2
    back.close()
    state.current_weights_changed()
    QApplication.processEvents()
    assert panel.refreshes == 2 and changes == [True, False]
    back.show()
    back.raise_()
    assert panel.refreshes == 3


def test_pages_behind_others_in_the_main_window_stay_idle_until_shown(
    qtbot, main_window, tiny_model: TrainedModel
) -> None:
    state, generation, traversal = main_window.state, main_window.panels["generation"], main_window.panels["traversal"]
    state.add_model(tiny_model)
    qtbot.waitUntil(lambda: state.encoding is not None, timeout=TIMEOUT_MS)  # the map encodes the test split
    for _ in range(3):  # training refreshes
        state.current_weights_changed()
    qtbot.wait(50)
    # Both are pages behind the home view: nothing decoded, no statistics.
    assert generation.sampleView.images() is None and traversal.usage is None
    main_window.show_panel("traversal")
    assert traversal.usage is not None  # brought up to date as its page comes up
    assert generation.sampleView.images() is None
    main_window.show_panel("generation")
    assert generation.sampleView.images() is not None


def test_the_loss_panel_draws_a_run_once_per_turn_and_not_for_new_weights(
    qtbot, state: AppState, tiny_model: TrainedModel, monkeypatch
) -> None:
    monkeypatch.setattr(loss_curves, "REDRAW_INTERVAL_S", 0.0)  # a turn's events; the interval is tested below
    panel = LossPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    state.add_model(tiny_model)
    QApplication.processEvents()
    draws: list[int] = []
    real_draw = LossPanel._draw
    monkeypatch.setattr(LossPanel, "_draw", lambda self: (draws.append(self._total.count), real_draw(self))[1])
    history = tiny_model.history
    steps = history.steps
    try:
        for _ in range(4):  # step figures arriving in one turn
            history.step_loss.append(100.0)
            history.step_recon.append(95.0)
            history.step_kl.append(5.0)
            state.history_changed()
        QApplication.processEvents()
        assert draws == [steps + 4]
        state.current_weights_changed()  # a snapshot: the history did not change
        QApplication.processEvents()
        assert draws == [steps + 4]
    finally:  # the session's model stays as it was
        for values in (history.step_loss, history.step_recon, history.step_kl):
            del values[steps:]
    np.testing.assert_array_equal(panel._total.raw[: steps + 4][-4:], [100.0] * 4)


def test_a_growing_history_is_redrawn_at_most_once_per_interval(qtbot, state: AppState, tiny_model: TrainedModel) -> None:
    # While a model trains, the history grows ten times a second; redrawing the loss curves that often
    # took a fifth of a core from the training run on two cores. Another model is still drawn at once.
    panel = CountingPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    state.unsubscribe(Event.HISTORY, panel.updates.request)
    state.subscribe(Event.HISTORY, lambda: panel.updates.request(1.0))
    state.add_model(tiny_model)
    QApplication.processEvents()
    first = panel.refreshes
    state.history_changed()
    QApplication.processEvents()
    assert panel.refreshes == first  # within a second of the model's own refresh
    for _ in range(3):
        state.history_changed()
    qtbot.waitUntil(lambda: panel.refreshes == first + 1, timeout=TIMEOUT_MS)
    state.set_current(None)  # another model (none): not held back by the interval
    QApplication.processEvents()
    assert panel.refreshes == first + 2
