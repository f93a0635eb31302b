"""Plain widgets that only lay others out: a row or a column (a tab's page, a splitter's pane), and tabs.

Every panel builds such pages; these say what goes in them in one call instead of a widget, a
layout, its margins and one add call per item.
"""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLayout, QTabWidget, QVBoxLayout, QWidget

# A widget or a layout, the same with its stretch factor, or an int: an empty stretch of that factor.
Item = QWidget | QLayout | tuple[QWidget | QLayout, int] | int
Margins = tuple[int, int, int, int]  # left, top, right, bottom


def row(*items: Item, margins: Margins = (0, 0, 0, 0)) -> QWidget:
    """A widget holding ``items`` side by side, left to right."""
    return _box(QHBoxLayout, items, margins)


def column(*items: Item, margins: Margins = (0, 0, 0, 0)) -> QWidget:
    """A widget holding ``items`` one above the other, top to bottom."""
    return _box(QVBoxLayout, items, margins)


def page_tabs(name: str, *pages: tuple[QWidget, str]) -> QTabWidget:
    """Tabs named ``name`` holding each (page, title), drawn flat (document mode) as befits tabs inside a panel."""
    tabs = QTabWidget(objectName=name)
    tabs.setDocumentMode(True)
    for page, title in pages:
        tabs.addTab(page, title)
    return tabs


def _box(kind: type[QBoxLayout], items: tuple[Item, ...], margins: Margins) -> QWidget:
    widget = QWidget()
    layout = kind(widget)
    layout.setContentsMargins(*margins)
    for item in items:
        if isinstance(item, int):
            layout.addStretch(item)
            continue
        child, stretch = item if isinstance(item, tuple) else (item, 0)
        if isinstance(child, QLayout):
            layout.addLayout(child, stretch)
        else:
            layout.addWidget(child, stretch)
    return widget
