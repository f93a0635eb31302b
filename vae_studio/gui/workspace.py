"""The window's one table of panels and the workspace built from it.

Each row of :data:`PANELS` says what a panel is called (its key: ``objectName`` ``<name>Panel``,
``MainWindow.show_panel(name)``), its title, how it is made and where it goes. The workspace is a
row of large tabs: the home view first (the latent map in the middle, with training, loss curves,
preview and models docked around it, all floatable), then one full-size page per lesson, so each
lesson gets the whole window, even on a 1366×768 laptop screen. A new panel is one module and one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QTabWidget, QWidget

from ..core.app_state import AppState
from .panels.anomaly import AnomalyPanel
from .panels.base import Panel
from .panels.comparison import ComparisonPanel
from .panels.denoising import DenoisingPanel
from .panels.evaluate import EvaluatePanel
from .panels.generation import GenerationPanel
from .panels.interpolation import InterpolationPanel
from .panels.latent_map import LatentMapPanel
from .panels.loss_curves import LossPanel
from .panels.models import ModelsPanel
from .panels.preview import PreviewPanel
from .panels.replay import ReplayPanel
from .panels.training import TrainingPanel
from .panels.traversal import TraversalPanel
from .work.dataset_loader import DatasetLoader


class Place(Enum):
    """Where a panel goes: the middle of the home view, a dock around it, or a page of its own."""

    CENTRE = "centre"
    LEFT = "left"
    RIGHT = "right"
    BOTTOM = "bottom"
    PAGE = "page"


@dataclass(frozen=True)
class Services:
    """What the window shares with the panels it makes."""

    state: AppState
    loader: DatasetLoader


@dataclass(frozen=True)
class PanelSpec:
    name: str
    title: str
    factory: Callable[[Services], Panel]
    place: Place


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("latentMap", "Latent Map", lambda s: LatentMapPanel(s.state), Place.CENTRE),
    PanelSpec("training", "Training", lambda s: TrainingPanel(s.state, loader=s.loader), Place.LEFT),
    PanelSpec("loss", "Loss Curves", lambda s: LossPanel(s.state), Place.BOTTOM),
    PanelSpec("preview", "Preview", lambda s: PreviewPanel(s.state), Place.RIGHT),
    PanelSpec("models", "Models", lambda s: ModelsPanel(s.state), Place.RIGHT),
    PanelSpec("interpolation", "Interpolation", lambda s: InterpolationPanel(s.state), Place.PAGE),
    PanelSpec("comparison", "AE vs VAE", lambda s: ComparisonPanel(s.state), Place.PAGE),
    PanelSpec("generation", "Generation", lambda s: GenerationPanel(s.state), Place.PAGE),
    PanelSpec("traversal", "Traversal", lambda s: TraversalPanel(s.state), Place.PAGE),
    PanelSpec("replay", "Replay", lambda s: ReplayPanel(s.state), Place.PAGE),
    PanelSpec("denoising", "Denoising", lambda s: DenoisingPanel(s.state), Place.PAGE),
    PanelSpec("anomaly", "Anomaly Detection", lambda s: AnomalyPanel(s.state), Place.PAGE),
    PanelSpec("evaluate", "Evaluate", lambda s: EvaluatePanel(s.state), Place.PAGE),
)
HOME_TITLE = "Latent Map"
_DOCK_AREAS = {
    Place.LEFT: Qt.DockWidgetArea.LeftDockWidgetArea,
    Place.RIGHT: Qt.DockWidgetArea.RightDockWidgetArea,
    Place.BOTTOM: Qt.DockWidgetArea.BottomDockWidgetArea,
}
# Default dock sizes in pixels: side panels just wide enough for their controls, so the map dominates.
_SIDE_WIDTH = {Place.LEFT: 300, Place.RIGHT: 330}
_BOTTOM_HEIGHT = 230
_MODELS_HEIGHT = 190


def scrolling(widget: QWidget, name: str) -> QScrollArea:
    """``widget`` in a frameless scroll area: on a laptop screen a squeezed panel scrolls instead of
    pushing the window past the screen's edges (its minimum size never becomes the window's)."""
    scroll = QScrollArea()
    scroll.setObjectName(name)
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    return scroll


class HomeView(QMainWindow):
    """The home page: the latent map in the middle and the home panels docked around it."""

    def __init__(self, panels: dict[str, Panel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("homeView")
        self.setWindowFlags(Qt.WindowType.Widget)  # a page of the window, not a window of its own
        self.docks: dict[str, QDockWidget] = {}
        for spec in PANELS:
            if spec.place is Place.CENTRE:
                self.setCentralWidget(panels[spec.name])
            elif spec.place in _DOCK_AREAS:
                dock = QDockWidget(spec.title, self)
                dock.setObjectName(f"{spec.name}Dock")  # saveState/restoreState find docks by objectName
                dock.setWidget(scrolling(panels[spec.name], f"{spec.name}Scroll"))
                self.docks[spec.name] = dock
        # The side docks run the full height, so the loss curves sit under the map only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.place_docks()

    def place_docks(self) -> None:
        """Every dock in its default place, shown and docked; docks sharing a side are stacked."""
        by_place: dict[Place, list[QDockWidget]] = {}
        for spec in PANELS:
            dock = self.docks.get(spec.name)
            if dock is None:
                continue
            dock.setFloating(False)
            self.addDockWidget(_DOCK_AREAS[spec.place], dock)  # moves a dock that is already elsewhere
            dock.show()
            column = by_place.setdefault(spec.place, [])
            if column:
                self.splitDockWidget(column[-1], dock, Qt.Orientation.Vertical)
            column.append(dock)
        self.size_docks()

    def size_docks(self) -> None:
        for place, width in _SIDE_WIDTH.items():
            docks = [dock for name, dock in self.docks.items() if _place(name) is place]
            self.resizeDocks(docks[:1], [width], Qt.Orientation.Horizontal)
        bottom = [dock for name, dock in self.docks.items() if _place(name) is Place.BOTTOM]
        self.resizeDocks(bottom, [_BOTTOM_HEIGHT] * len(bottom), Qt.Orientation.Vertical)
        right = [dock for name, dock in self.docks.items() if _place(name) is Place.RIGHT]
        if len(right) > 1:  # the models list needs a few rows; the preview takes the rest
            self.resizeDocks(
                right, [max(self.height() - _MODELS_HEIGHT, _MODELS_HEIGHT), _MODELS_HEIGHT], Qt.Orientation.Vertical
            )


def _place(name: str) -> Place:
    return next(spec.place for spec in PANELS if spec.name == name)


class Workspace(QTabWidget):
    """Large tabs: the home view, then a full-size page per lesson (module doc)."""

    def __init__(self, panels: dict[str, Panel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspaceTabs")
        self.setDocumentMode(True)
        self.setElideMode(Qt.TextElideMode.ElideNone)  # whole titles; scroll buttons if ever too many
        self.setUsesScrollButtons(True)
        self.home = HomeView(panels, self)
        self.addTab(self.home, HOME_TITLE)
        self._pages: dict[str, QWidget] = {}
        for spec in PANELS:
            if spec.place is Place.PAGE:
                page = scrolling(panels[spec.name], f"{spec.name}Page")
                self._pages[spec.name] = page
                self.addTab(page, spec.title)

    def show_panel(self, name: str) -> None:
        """Bring a panel on screen: its page, or the home view with its dock shown, raised and focused."""
        page = self._pages.get(name)
        if page is not None:
            self.setCurrentWidget(page)
            return
        self.setCurrentWidget(self.home)
        dock = self.home.docks.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()
