"""The layout checker finds what does not fit in small hand-made windows, and nothing in ones that fit."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layout_checks import (  # tests/gui is on the path: pytest puts a test file's folder there
    clipped_axis_titles,
    clipped_labels,
    elided_tabs,
    horizontal_scroll_bars,
    layout_problems,
    panel_problems,
    small_plots,
)

LONG_TEXT = "Completeness: the share of prior samples that decode to a picture like the data"


def shown(qtbot, widget: QWidget, width: int, height: int) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    QApplication.processEvents()
    return widget


def window_with(*children: QWidget) -> QWidget:
    window = QWidget()
    layout = QVBoxLayout(window)
    for child in children:
        layout.addWidget(child)
    return window


def test_a_clipped_single_line_label_is_found(qtbot) -> None:
    label = QLabel(LONG_TEXT, objectName="cut")
    label.setMinimumWidth(1)  # let the layout squeeze it, as a splitter or a dock does
    window = shown(qtbot, window_with(label), 200, 60)
    problems = clipped_labels(window)
    assert len(problems) == 1 and "'cut'" in problems[0] and "width" in problems[0]


def test_a_fitting_or_hidden_label_is_not_found(qtbot) -> None:
    short = QLabel("Epochs")
    hidden = QLabel(LONG_TEXT)
    hidden.setMinimumWidth(1)
    window = shown(qtbot, window_with(short, hidden), 200, 80)
    hidden.hide()
    assert clipped_labels(window) == []


def test_a_clipped_word_wrapped_label_is_found_and_a_tall_enough_one_is_not(qtbot) -> None:
    label = QLabel(LONG_TEXT, objectName="wrapped")
    label.setWordWrap(True)
    label.setFixedSize(120, 20)  # one line of room for several lines of text
    window = shown(qtbot, window_with(label), 200, 60)
    problems = clipped_labels(window)
    assert len(problems) == 1 and "'wrapped'" in problems[0] and "height" in problems[0]
    label.setFixedSize(120, label.heightForWidth(120))
    QApplication.processEvents()
    assert clipped_labels(window) == []


def tabs(*titles: str) -> QTabWidget:
    """Tabs that elide their titles when squeezed, as a main window's tabified docks do."""
    widget = QTabWidget(objectName="tabs")
    widget.setElideMode(Qt.TextElideMode.ElideRight)
    widget.setUsesScrollButtons(False)
    for title in titles:
        widget.addTab(QWidget(), title)
    return widget


def test_elided_tab_titles_are_found(qtbot) -> None:
    titles = ("Preview", "Generation", "Traversal", "Replay", "Denoising")
    narrow = shown(qtbot, window_with(tabs(*titles)), 220, 120)
    problems = elided_tabs(narrow)
    assert problems and all("tab '" in p for p in problems)
    wide = shown(qtbot, window_with(tabs(*titles)), 900, 120)
    assert elided_tabs(wide) == []


def test_small_plots_are_found(qtbot) -> None:
    small, large = pg.PlotWidget(), pg.PlotWidget()
    small.setObjectName("aePlot")
    large.setObjectName("vaePlot")
    small.setFixedSize(200, 150)
    large.setFixedSize(320, 320)
    window = shown(qtbot, window_with(small, large), 400, 520)
    problems = small_plots(window, 300, 300)
    assert len(problems) == 1 and "'aePlot'" in problems[0] and "200×150" in problems[0]
    assert small_plots(window, 300, 300, names=["vaePlot"]) == []


def test_a_cut_axis_title_is_found(qtbot) -> None:
    plot = pg.PlotWidget()
    plot.setLabel("left", "true positive rate (recall): outliers flagged")
    plot.setLabel("bottom", "x")
    window = shown(qtbot, window_with(plot), 300, 120)
    problems = clipped_axis_titles(window)
    assert len(problems) == 1 and "left axis" in problems[0]
    window.resize(300, 500)
    qtbot.waitUntil(lambda: clipped_axis_titles(window) == [], timeout=2000)


@pytest.mark.parametrize(("content_width", "found"), [(600, True), (150, False)])
def test_a_horizontal_scroll_bar_is_found(qtbot, content_width: int, found: bool) -> None:
    content = QWidget()
    content.setMinimumSize(content_width, 50)
    area = QScrollArea(objectName="panelScroll")
    area.setWidget(content)
    area.setWidgetResizable(True)
    window = shown(qtbot, window_with(area), 250, 150)
    problems = horizontal_scroll_bars(window)
    assert bool(problems) == found
    # The panel itself, inside the scroll area (as in a dock), is checked with the area that holds it.
    assert horizontal_scroll_bars(content) == problems
    if found:
        assert "'panelScroll'" in problems[0]


def test_layout_problems_gathers_every_check(qtbot) -> None:
    label = QLabel(LONG_TEXT)
    label.setMinimumWidth(1)
    plot = pg.PlotWidget()
    plot.setFixedSize(100, 100)
    window = shown(qtbot, window_with(label, plot), 200, 200)
    assert len(layout_problems(window)) == 1  # the label; the plot's size is only checked when asked
    assert len(layout_problems(window, plot_min=(300, 300))) == 2


class TwoPanelWindow(QMainWindow):
    """A window with show_panel over two tabified docks: a roomy panel and a cramped one."""

    def __init__(self) -> None:
        super().__init__()
        self.setCentralWidget(QLabel("map"))
        roomy = QWidget(objectName="roomyPanel")
        QVBoxLayout(roomy).addWidget(QLabel("Fits"))
        cramped = QWidget(objectName="crampedPanel")
        plot = pg.PlotWidget()
        plot.setObjectName("crampedPlot")
        plot.setMaximumHeight(120)
        QVBoxLayout(cramped).addWidget(plot)
        self.docks = {}
        for name, panel in (("roomy", roomy), ("cramped", cramped)):
            dock = QDockWidget(name.title(), self, objectName=f"{name}Dock")
            dock.setWidget(panel)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["roomy"], self.docks["cramped"])

    def show_panel(self, name: str) -> None:
        if name in self.docks:  # an unknown name brings nothing on screen
            self.docks[name].show()
            self.docks[name].raise_()


def test_panel_problems_shows_each_panel_and_reports_by_name(qtbot) -> None:
    window = shown(qtbot, TwoPanelWindow(), 900, 600)
    found = panel_problems(window, ["roomy", "cramped", "missing"], (300, 300), plot_names=["crampedPlot"])
    assert set(found) == {"cramped", "missing"}
    assert "'crampedPlot'" in found["cramped"][0]
    assert "did not bring missingPanel on screen" in found["missing"][0]
    # A window too narrow for the two dock tabs: their elided titles are reported once, for the window.
    window.resize(140, 600)
    found = panel_problems(window, ["roomy", "cramped"], (10, 10))
    assert set(found) == {"window"} and len(found["window"]) == len(set(found["window"])) >= 1


def test_a_tab_bar_covered_by_another_widget_is_not_checked(qtbot) -> None:
    """A main window keeps the tab bars of earlier dock layouts under the current ones: only what shows counts."""
    window = QWidget()
    stale = tabs("Preview", "Generation", "Traversal", "Replay", "Denoising")
    stale.setParent(window)
    stale.setGeometry(0, 0, 150, 100)
    cover = QLabel("on top", window)
    cover.setAutoFillBackground(True)
    cover.setGeometry(0, 0, 300, 200)
    shown(qtbot, window, 300, 200)
    assert elided_tabs(window) == []
    cover.hide()
    assert elided_tabs(window) != []
