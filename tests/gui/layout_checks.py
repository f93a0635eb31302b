"""Layout checks for the GUI's proof that every lesson has room (issue 9): given a shown top-level
widget, each function lists what does not fit, as readable lines (an empty list: nothing wrong).

Only what is on screen counts (``isVisible``: a panel in a closed dock or a dock tab behind another
is not checked). Call them after the window is shown and the event loop has laid it out.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel, QTabBar, QWidget

# A pixel of rounding between a size hint and the size a layout gave is not a clipped text.
_TOLERANCE = 1


def describe(widget: QWidget) -> str:
    """``ClassName 'objectName'`` inside the nearest named ancestors, so a problem can be found."""
    names = []
    parent = widget.parentWidget()
    while parent is not None and len(names) < 2:
        if parent.objectName():
            names.append(parent.objectName())
        parent = parent.parentWidget()
    where = f" in {' < '.join(names)}" if names else ""
    return f"{type(widget).__name__} '{widget.objectName()}'{where}"


def _visible(root: QWidget, cls: type[QWidget]) -> list[QWidget]:
    return [widget for widget in [root, *root.findChildren(cls)] if isinstance(widget, cls) and widget.isVisible()]


def _on_top(widget: QWidget) -> bool:
    """Whether the widget is what its window shows at the widget's centre (not covered by a sibling)."""
    top = widget.window()
    found = top.childAt(widget.mapTo(top, widget.rect().center()))
    return found is not None and (found is widget or widget.isAncestorOf(found))


def clipped_labels(root: QWidget) -> list[str]:
    """Visible text labels that do not fit: a single-line label whose size hint is wider than it, a
    word-wrapped one whose height for its width is more than it has."""
    problems = []
    for label in _visible(root, QLabel):
        if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
            continue
        text = label.text() if len(label.text()) <= 40 else label.text()[:37] + "…"
        if label.wordWrap():
            needed = label.heightForWidth(label.width())
            if needed > label.height() + _TOLERANCE:
                problems.append(f"{describe(label)} needs {needed} px of height, has {label.height()}: {text!r}")
        elif label.sizeHint().width() > label.width() + _TOLERANCE:
            problems.append(
                f"{describe(label)} needs {label.sizeHint().width()} px of width, has {label.width()}: {text!r}"
            )
    return problems


def elided_tabs(root: QWidget) -> list[str]:
    """Visible tab bars (a QTabWidget's, or a main window's tabified docks') with a tab narrower than
    its title needs: Qt then elides the title ("Gener…")."""
    problems = []
    for bar in _visible(root, QTabBar):
        if not _on_top(bar):
            continue  # a main window keeps the tab bars of earlier dock layouts, hidden under the current ones
        vertical = bar.shape() in (
            QTabBar.Shape.RoundedWest, QTabBar.Shape.RoundedEast,
            QTabBar.Shape.TriangularWest, QTabBar.Shape.TriangularEast,
        )  # fmt: skip
        for index in range(bar.count()):
            rect, hint = bar.tabRect(index), bar.tabSizeHint(index)
            has, needs = (rect.height(), hint.height()) if vertical else (rect.width(), hint.width())
            text_width = bar.fontMetrics().horizontalAdvance(bar.tabText(index))
            if has + _TOLERANCE < needs or has < text_width:
                problems.append(f"{describe(bar)}: tab {bar.tabText(index)!r} is {has} px, needs {needs}")
    return problems


def small_plots(root: QWidget, min_width: int, min_height: int, names: Iterable[str] | None = None) -> list[str]:
    """Visible pyqtgraph views (PlotWidget, GraphicsLayoutWidget, ...) smaller than the minimum;
    ``names``: only the views with these objectNames."""
    wanted = None if names is None else set(names)
    problems = []
    for view in _visible(root, pg.GraphicsView):
        if wanted is not None and view.objectName() not in wanted:
            continue
        if view.width() < min_width or view.height() < min_height:
            problems.append(f"{describe(view)} is {view.width()}×{view.height()} px, under {min_width}×{min_height}")
    return problems


def clipped_axis_titles(root: QWidget) -> list[str]:
    """Axis titles of visible plots longer than their axis ("true positive rate (re")."""
    problems = []
    for plot_widget in _visible(root, pg.PlotWidget):
        for name, entry in plot_widget.getPlotItem().axes.items():
            axis = entry["item"]
            if not (axis.isVisible() and axis.label.isVisible() and axis.labelText):
                continue
            length = axis.geometry().height() if name in ("left", "right") else axis.geometry().width()
            text_width = axis.label.boundingRect().width()
            if text_width > length + _TOLERANCE:
                problems.append(
                    f"{describe(plot_widget)}: the {name} axis title {axis.labelText!r} needs {text_width:.0f} px, "
                    f"the axis is {length:.0f}"
                )
    return problems


def horizontal_scroll_bars(root: QWidget) -> list[str]:
    """Scroll areas, lists and text views that show a horizontal scroll bar (their content is wider than
    the room they have): under ``root``, or holding it (a dock's scroll area around a panel)."""
    holders = []
    parent = root.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            holders.append(parent)
        parent = parent.parentWidget()
    problems = []
    for area in holders + _visible(root, QAbstractScrollArea):
        if area.horizontalScrollBar().isVisible():
            room = area.viewport().width()
            content = area.horizontalScrollBar().maximum() + room
            problems.append(f"{describe(area)} scrolls sideways: content {content} px in {room}")
    return problems


def layout_problems(root: QWidget, plot_min: tuple[int, int] | None = None) -> list[str]:
    """Every check above; plots only when ``plot_min`` (width, height) is given."""
    problems = clipped_labels(root) + elided_tabs(root) + clipped_axis_titles(root) + horizontal_scroll_bars(root)
    if plot_min is not None:
        problems += small_plots(root, *plot_min)
    return problems


def panel_problems(
    window: QWidget, names: Iterable[str], plot_min: tuple[int, int], plot_names: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Bring each panel on screen with ``window.show_panel(name)`` and check it (``<name>Panel``): its
    labels, tabs, axis titles, scroll bars, and its plots (those named in ``plot_names``, or all) against
    ``plot_min``. The window's own tab bars (tabified docks) are checked with each panel on screen and
    reported once, under "window". Returns only what has problems."""
    found: dict[str, list[str]] = {}
    window_tabs: list[str] = []
    for name in names:
        window.show_panel(name)
        QApplication.processEvents()
        panel = window.findChild(QWidget, f"{name}Panel")
        if panel is None or not panel.isVisible():
            found[name] = [f"show_panel({name!r}) did not bring {name}Panel on screen"]
            continue
        problems = layout_problems(panel) + small_plots(panel, *plot_min, names=plot_names)
        if problems:
            found[name] = problems
        window_tabs += [problem for problem in elided_tabs(window) if problem not in window_tabs]
    if window_tabs:
        found["window"] = window_tabs
    return found
