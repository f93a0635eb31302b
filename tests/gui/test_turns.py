"""OwnTurn: GUI-thread pieces of work run one per event-loop turn, with the paints they ask for between them."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from vae_studio.gui.work.turns import OwnTurn


class LoggingWidget(QWidget):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.log.append("paint")


def test_pieces_due_together_run_in_turns_of_their_own_with_their_paints_between(qtbot) -> None:
    log: list[str] = []
    widget = LoggingWidget(log)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: "paint" in log)
    log.clear()

    def piece(name: str):
        def run() -> None:
            log.append(name)
            widget.update()

        return run

    # Plain zero-interval timers started here would all run in one pass, then one paint: a, b, c, paint.
    turns = [OwnTurn(widget, piece(name)) for name in "abc"]
    for turn in turns:
        turn.start()
    qtbot.waitUntil(lambda: log.count("paint") == 3)
    assert log == ["a", "paint", "b", "paint", "c", "paint"]


def test_a_piece_started_again_while_waiting_runs_once_and_a_stopped_one_not_at_all(qtbot) -> None:
    owner = QObject()
    ran: list[str] = []
    first, second, third = (OwnTurn(owner, lambda name=name: ran.append(name)) for name in "abc")
    first.start()
    second.start()
    first.start()
    third.start()
    second.stop()
    assert first.isActive() and not second.isActive()
    qtbot.waitUntil(lambda: len(ran) == 2)
    qtbot.wait(50)
    assert ran == ["a", "c"] and not first.isActive()


def test_a_piece_whose_owner_was_deleted_while_it_waited_is_skipped(qtbot) -> None:
    owner, other = QObject(), QObject()
    ran: list[str] = []
    orphan = OwnTurn(owner, lambda: ran.append("orphan"))
    survivor = OwnTurn(other, lambda: ran.append("survivor"))
    orphan.start()
    survivor.start()
    shiboken6.delete(owner)  # a panel closed before its turn came
    qtbot.waitUntil(lambda: ran == ["survivor"])
