"""The controls of an animation, alike in every panel that plays one: Play/Pause and a speed in fps."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QSpinBox, QStyle

MAX_FPS = 30


class PlayButton(QPushButton):
    """A checkable button that reads Play, and Pause while it is checked (playing)."""

    def __init__(self, name: str) -> None:
        super().__init__(objectName=name)
        self.setCheckable(True)
        self._show(playing=False)
        self.toggled.connect(self._show)

    def _show(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.setIcon(self.style().standardIcon(icon))
        self.setText("Pause" if playing else "Play")


def fps_spin(name: str, fps: int, tooltip: str) -> QSpinBox:
    """A speed box from 1 to MAX_FPS frames per second, set to ``fps``."""
    spin = QSpinBox(objectName=name)
    spin.setRange(1, MAX_FPS)
    spin.setValue(fps)
    spin.setSuffix(" fps")
    spin.setToolTip(tooltip)
    return spin
