"""The guided lab window: Back/Next through the steps, driving a host (fake, then real panels)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QSlider, QSpinBox, QWidget

from vae_studio.core.app_state import AppState
from vae_studio.core.guided_lab import LAB_STEPS, LabStep
from vae_studio.gui.guided_lab import (
    GuidedLabWindow,
    WindowHost,
)
from vae_studio.gui.panels.anomaly import AnomalyPanel
from vae_studio.gui.panels.training import TrainingPanel
from vae_studio.gui.widgets.settings_form import set_widget_value
from vae_studio.gui.work.dataset_loader import DatasetLoader


class FakeHost:
    """Records what the lab asked for, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def show_panel(self, name: str) -> None:
        self.calls.append(("show", name))

    def apply_settings(self, panel_name: str, settings: Mapping[str, Any]) -> None:
        self.calls.append(("apply", panel_name, *sorted(settings)))


STEPS = (
    LabStep("One", "Look here.", "latentMap", {"training": {"epochs": 2}}),
    LabStep("Two", "Look there.", "preview"),
    LabStep("Three", "And there.", "anomaly", {"anomaly": {"score": "elbo"}}),
)


def test_next_and_back_walk_the_steps_and_drive_the_host(qtbot) -> None:
    host = FakeHost()
    lab = GuidedLabWindow(host, steps=STEPS)
    qtbot.addWidget(lab)
    assert not lab.isModal()
    # Opening shows the first step: its settings first, then its panel.
    assert host.calls == [("apply", "training", "epochs"), ("show", "latentMap")]
    assert lab.stepLabel.text() == "Step 1 of 3"
    assert lab.titleLabel.text() == "One" and lab.textLabel.text() == "Look here."
    assert not lab.backButton.isEnabled() and lab.nextButton.text() == "Next"

    host.calls.clear()
    with qtbot.waitSignal(lab.step_changed) as blocker:
        qtbot.mouseClick(lab.nextButton, Qt.MouseButton.LeftButton)
    assert blocker.args == [1]
    assert host.calls == [("show", "preview")]  # a step without settings changes none
    assert lab.stepLabel.text() == "Step 2 of 3" and lab.backButton.isEnabled()

    qtbot.mouseClick(lab.nextButton, Qt.MouseButton.LeftButton)
    assert lab.stepLabel.text() == "Step 3 of 3" and lab.nextButton.text() == "Finish"

    # Back applies the earlier step again (a teacher may return to retrain).
    host.calls.clear()
    qtbot.mouseClick(lab.backButton, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(lab.backButton, Qt.MouseButton.LeftButton)
    assert host.calls == [("show", "preview"), ("apply", "training", "epochs"), ("show", "latentMap")]
    assert lab.index == 0


def test_finish_closes_the_window(qtbot) -> None:
    lab = GuidedLabWindow(FakeHost(), steps=STEPS)
    qtbot.addWidget(lab)
    lab.show()
    lab.go_to(2)
    qtbot.mouseClick(lab.nextButton, Qt.MouseButton.LeftButton)
    assert not lab.isVisible()
    with pytest.raises(IndexError):
        lab.go_to(3)


def test_set_widget_value_by_data_text_or_number(qtbot) -> None:
    combo = QComboBox(objectName="combo")
    combo.addItem("Variational", "vae")
    combo.addItems(["mnist", "fashion-mnist"])
    set_widget_value(combo, "vae")
    assert combo.currentData() == "vae"
    set_widget_value(combo, "fashion-mnist")  # items without data are found by their text
    assert combo.currentText() == "fashion-mnist"
    with pytest.raises(ValueError, match="no item"):
        set_widget_value(combo, "kmnist")
    spin = QSpinBox()
    set_widget_value(spin, 7)
    assert spin.value() == 7
    edit = QLineEdit()
    set_widget_value(edit, "0-3")
    assert edit.text() == "0-3"
    with pytest.raises(TypeError):
        set_widget_value(QSlider(), 3)


class PanelsWindow(QWidget):
    """The parts of the main window the lab uses: its panels by name and show_panel."""

    def __init__(self, state: AppState, loader: DatasetLoader) -> None:
        super().__init__()
        self.training = TrainingPanel(state, self, loader=loader)
        self.anomaly = AnomalyPanel(state, self)
        self.panels = {"training": self.training, "anomaly": self.anomaly}
        self.shown: list[str] = []

    def show_panel(self, name: str) -> None:
        self.shown.append(name)


@pytest.fixture
def panels_window(qtbot) -> Iterator[PanelsWindow]:
    state = AppState()
    loader = DatasetLoader(state)
    window = PanelsWindow(state, loader)
    qtbot.addWidget(window)
    yield window
    window.training.shutdown()
    window.anomaly.shutdown()
    loader.shutdown()


def test_every_setting_of_the_lab_reaches_a_real_widget(qtbot, panels_window: PanelsWindow) -> None:
    """The lab's script played on the real panels: each setting lands in its widget."""
    lab = GuidedLabWindow(WindowHost(panels_window), steps=LAB_STEPS)
    qtbot.addWidget(lab)
    for index, step in enumerate(LAB_STEPS):
        lab.go_to(index)
        assert panels_window.shown[-1] == step.panel
        for panel_name, settings in step.settings.items():
            widgets = panels_window.panels[panel_name].setting_widgets()
            assert set(settings) <= set(widgets), step.title
            for key, value in settings.items():
                widget = widgets[key]
                if isinstance(widget, QComboBox):
                    shown = widget.currentData() or widget.currentText()  # an item without data: its text
                else:
                    shown = widget.value()
                assert shown == value, (step.title, key)
    training = panels_window.training
    # The last training step (denoising) is what the panel holds now.
    assert training.corruptionCombo.currentData() == "gaussian" and training.latentDimSpin.value() == 8


def test_unknown_settings_fail_loudly(qtbot, panels_window: PanelsWindow) -> None:
    with pytest.raises(KeyError, match="latent_size"):
        panels_window.training.apply_settings({"latent_size": 2})
    with pytest.raises(KeyError, match="anomaly panel has no setting 'epochs'"):
        WindowHost(panels_window).apply_settings("anomaly", {"epochs": 2})
    with pytest.raises(KeyError, match="preview"):
        WindowHost(panels_window).apply_settings("preview", {})


def test_the_lab_opens_in_its_parents_bottom_right_corner(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.setGeometry(100, 100, 1000, 700)
    parent.show()
    lab = GuidedLabWindow(FakeHost(), parent, steps=STEPS)
    lab.show()
    frame = parent.frameGeometry()
    assert frame.center().x() < lab.x() and lab.x() + lab.width() <= frame.right()
    assert frame.center().y() < lab.y() and lab.y() + lab.height() <= frame.bottom()
