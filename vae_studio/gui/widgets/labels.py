"""The small grey note every panel writes under or beside its pictures (a caption, a status, a hint)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def note_label(name: str, text: str = "", *, wrap: bool = False) -> QLabel:
    """A grey QLabel named ``name``; ``wrap``: it wraps its words (for sentences, not figures)."""
    label = QLabel(text, objectName=name)
    label.setStyleSheet("color: gray;")
    label.setWordWrap(wrap)
    return label
