"""Help > Guided lab: a small window that walks through core.guided_lab's steps with Back and Next.

The window does not know the main window: it drives a host through two calls (LabHost), so it is
tested with a fake one. Going to a step, forwards or back, applies that step's settings to the
panels it names and brings the step's panel on screen; the student then presses the panel's own
buttons (Train, Run), so nothing long starts behind their back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.guided_lab import LAB_STEPS, LabStep

if TYPE_CHECKING:  # the window imports this module
    from .main_window import MainWindow

_WIDTH = 380
_MARGIN = 24  # pixels between the lab window and its parent window's corner


class LabHost(Protocol):
    """What the guided lab needs from the window."""

    def show_panel(self, name: str) -> None: ...

    def apply_settings(self, panel_name: str, settings: Mapping[str, Any]) -> None: ...


class WindowHost:
    """LabHost for the main window: its show_panel, and each panel's own apply_settings."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def show_panel(self, name: str) -> None:
        self.window.show_panel(name)

    def apply_settings(self, panel_name: str, settings: Mapping[str, Any]) -> None:
        self.window.panels[panel_name].apply_settings(settings)


class GuidedLabWindow(QDialog):
    """Step n of N, its title and what to look at, Back and Next (Finish on the last step). Non-modal:
    the student works in the window behind it."""

    step_changed = Signal(int)

    def __init__(self, host: LabHost, parent: QWidget | None = None, steps: Sequence[LabStep] = LAB_STEPS) -> None:
        super().__init__(parent)
        self.setObjectName("guidedLab")
        self.setWindowTitle("Guided lab")
        self.setModal(False)
        # A tool window stays above the main window without taking the focus from it.
        self.setWindowFlag(Qt.WindowType.Tool)
        self.host = host
        self.steps = tuple(steps)
        self.index = -1
        self._placed = False

        self.stepLabel = QLabel(objectName="labStepLabel")
        self.stepLabel.setStyleSheet("color: gray;")
        self.titleLabel = QLabel(objectName="labTitleLabel")
        self.titleLabel.setWordWrap(True)
        font = self.titleLabel.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.titleLabel.setFont(font)
        self.textLabel = QLabel(objectName="labTextLabel")
        self.textLabel.setWordWrap(True)
        self.textLabel.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.backButton = QPushButton("Back", objectName="labBackButton")
        self.nextButton = QPushButton("Next", objectName="labNextButton")
        self.nextButton.setDefault(True)
        self.backButton.clicked.connect(self.back)
        self.nextButton.clicked.connect(self.next)

        buttons = QHBoxLayout()
        buttons.addWidget(self.backButton)
        buttons.addStretch(1)
        buttons.addWidget(self.nextButton)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stepLabel)
        layout.addWidget(self.titleLabel)
        layout.addWidget(self.textLabel, 1)
        layout.addLayout(buttons)
        self.setMinimumWidth(_WIDTH)
        self.go_to(0)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """The first time: in the parent window's bottom-right corner (the models list), not over the map
        in the middle, where a dialog opens by default."""
        super().showEvent(event)
        parent = self.parentWidget()
        if not self._placed and parent is not None:
            self._placed = True
            corner = parent.frameGeometry().bottomRight()
            self.move(corner.x() - self.width() - _MARGIN, corner.y() - self.height() - _MARGIN)

    @property
    def step(self) -> LabStep:
        return self.steps[self.index]

    def go_to(self, index: int) -> None:
        """Apply step ``index``'s settings, bring its panel on screen and say what to look at."""
        if not 0 <= index < len(self.steps):
            raise IndexError(f"the lab has steps 0 to {len(self.steps) - 1}; got {index}")
        self.index = index
        step = self.step
        for panel_name, settings in step.settings.items():
            self.host.apply_settings(panel_name, settings)
        self.host.show_panel(step.panel)
        last = index == len(self.steps) - 1
        self.stepLabel.setText(f"Step {index + 1} of {len(self.steps)}")
        self.titleLabel.setText(step.title)
        self.textLabel.setText(step.text)
        self.backButton.setEnabled(index > 0)
        self.nextButton.setText("Finish" if last else "Next")
        self.nextButton.setToolTip("Close the guided lab" if last else f"Next: {self.steps[index + 1].title}")
        self.step_changed.emit(index)

    def next(self) -> None:
        """The next step, or close after the last."""
        if self.index == len(self.steps) - 1:
            self.close()
        else:
            self.go_to(self.index + 1)

    def back(self) -> None:
        if self.index > 0:
            self.go_to(self.index - 1)
