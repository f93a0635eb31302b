"""The window's "Training Threads" setting."""

from __future__ import annotations

import torch
from PySide6.QtWidgets import QMainWindow, QMenu

from vae_studio.core import threads
from vae_studio.core.threads import usable_cores
from vae_studio.gui.startup import threads_setting
from vae_studio.gui.threads_menu import add_threads_menu


def test_choosing_a_count_saves_it_and_applies_it(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    submenu = add_threads_menu(window.menuBar().addMenu("Help"))
    actions = submenu.actions()
    assert [a.data() for a in actions] == list(range(usable_cores() + 1))
    assert actions[0].isChecked() and threads_setting() == 0  # automatic until chosen
    before, automatic = torch.get_num_threads(), threads._automatic
    try:
        actions[1].trigger()
        assert threads_setting() == 1 and torch.get_num_threads() == 1 and not threads._automatic
        assert actions[1].isChecked() and not actions[0].isChecked()
        menu = QMenu()
        again = add_threads_menu(menu)  # the next start shows the saved choice
        assert again.actions()[1].isChecked()
    finally:
        torch.set_num_threads(before)
        threads._automatic = automatic
