"""The one state object the GUI's panels share, free of Qt so it can be tested and scripted.

Panels never call each other: they change this state and listen to its events. Listeners
run synchronously in the thread that made the change, which in the app is always the GUI
thread (worker threads report by signals, and the GUI thread applies what they report).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import numpy as np

from .data import ImageDataset
from .latent import Encoding, ViewPlane, posterior_samples
from .trained_model import TrainedModel


class Event(Enum):
    MODELS = "models"  # the list of models, a name or a saved/unsaved flag changed
    CURRENT_MODEL = "current_model"  # another model is shown
    WEIGHTS = "weights"  # the current model's weights were replaced in place (a training snapshot)
    DATASET = "dataset"  # the data set that maps and previews use
    ENCODING = "encoding"  # the test split's encoding for the current model
    VIEW = "view"  # the 2-D view plane through latent space
    SELECTION = "selection"  # the selected test image (index) changed
    PROBE = "probe"  # the latent point being examined (a click on the map) changed
    TRAINING = "training"  # training started or ended
    HISTORY = "history"  # the current model's loss history grew (while training)
    PROGRESS = "progress"  # progress of long work (fraction done and a status text) or None when idle
    OVERLAY = "overlay"  # a latent path another panel wants drawn on the map (e.g. an interpolation)


Listener = Callable[[], None]

# Draws from the selected image's posterior that the map marks and the preview decodes: the same
# draws in both, since both take them from AppState.selection_samples.
POSTERIOR_SAMPLES = 8


class AppState:
    def __init__(self) -> None:
        self.models: list[TrainedModel] = []
        self.current: TrainedModel | None = None
        self.dataset: ImageDataset | None = None
        self.encoding: Encoding | None = None
        self.view: ViewPlane | None = None
        self.selected_index: int | None = None
        self.probe: np.ndarray | None = None
        self.training = False
        self.progress: tuple[float, str] | None = None
        # Latent points (M, d) the map draws as a polyline through its view plane; None: nothing.
        self.overlay_path: np.ndarray | None = None
        self._listeners: dict[Event, list[Listener]] = {event: [] for event in Event}

    def subscribe(self, event: Event, listener: Listener) -> None:
        self._listeners[event].append(listener)

    def unsubscribe(self, event: Event, listener: Listener) -> None:
        if listener in self._listeners[event]:
            self._listeners[event].remove(listener)

    def subscribers(self, event: Event) -> int:
        """How many listeners follow ``event`` (none once every panel has shut down)."""
        return len(self._listeners[event])

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners[event]):
            listener()

    # -- models -----------------------------------------------------------------
    def add_model(self, trained: TrainedModel, make_current: bool = True) -> None:
        self.models.append(trained)
        self._emit(Event.MODELS)
        if make_current:
            self.set_current(trained)

    def remove_model(self, trained: TrainedModel) -> None:
        self.models.remove(trained)
        self._emit(Event.MODELS)
        if self.current is trained:
            self.set_current(self.models[-1] if self.models else None)

    def rename_model(self, trained: TrainedModel, name: str) -> None:
        trained.name = name
        trained.unsaved = True
        self._emit(Event.MODELS)

    def models_changed(self) -> None:
        """Tell listeners that a model's flags or weights changed in place (e.g. after saving)."""
        self._emit(Event.MODELS)

    def set_current(self, trained: TrainedModel | None) -> None:
        """Show another model; its encoding must be computed again, so the old one is dropped."""
        self.current = trained
        self.probe = None
        self._changed_under_the_encoding(Event.CURRENT_MODEL)

    def current_weights_changed(self) -> None:
        """The current model's weights were replaced (a training snapshot): views that decode must redraw."""
        self._emit(Event.WEIGHTS)

    # -- data and views ------------------------------------------------------------
    def set_dataset(self, dataset: ImageDataset | None) -> None:
        self.dataset = dataset
        self._changed_under_the_encoding(Event.DATASET)

    def _changed_under_the_encoding(self, event: Event) -> None:
        """The model or the data set changed: the encoding and the selection no longer hold."""
        self.encoding = None
        self.selected_index = None
        for each in (event, Event.ENCODING, Event.SELECTION):
            self._emit(each)

    def set_encoding(self, encoding: Encoding | None) -> None:
        self.encoding = encoding
        self._emit(Event.ENCODING)

    def set_view(self, view: ViewPlane) -> None:
        self.view = view
        self._emit(Event.VIEW)

    def select(self, index: int | None) -> None:
        self.selected_index = index
        self._emit(Event.SELECTION)

    def set_probe(self, z: np.ndarray | None) -> None:
        self.probe = None if z is None else np.asarray(z, dtype=np.float64)
        self._emit(Event.PROBE)

    def set_training(self, training: bool) -> None:
        self.training = training
        self._emit(Event.TRAINING)

    def history_changed(self) -> None:
        self._emit(Event.HISTORY)

    def set_progress(self, fraction: float | None, text: str = "") -> None:
        """Report long work's progress (0..1 and e.g. an ETA) for the status bar; None when done."""
        self.progress = None if fraction is None else (fraction, text)
        self._emit(Event.PROGRESS)

    def decode_label(self) -> int | None:
        """The class a conditional model decodes with: the selected test image's (class 0 with nothing selected).

        None for an unconditional model. The map's manifold and the preview must use the same class,
        or the picture behind a point and the preview of that point would disagree; every panel derives
        it from the state with this one rule instead of asking another panel.
        """
        current, dataset, index = self.current, self.dataset, self.selected_index
        if current is None or not current.config.conditional:
            return None
        labels = None if dataset is None else dataset.test_labels
        if labels is not None and index is not None and index < len(labels):
            label = int(labels[index])
            if 0 <= label < current.config.num_classes:
                return label
        return 0

    def selection_samples(self) -> np.ndarray | None:
        """POSTERIOR_SAMPLES draws z ~ q(z|x) for the selected test image (seeded by its index, so every
        view shows the same draws); None without a selection or for a model with no posterior spread (an AE)."""
        encoding, index = self.encoding, self.selected_index
        if encoding is None or encoding.logvar is None or index is None or index >= len(encoding.mu):
            return None
        return posterior_samples(encoding.mu[index], encoding.logvar[index], n=POSTERIOR_SAMPLES, seed=index)

    def set_overlay_path(self, path: np.ndarray | None) -> None:
        """Ask the map to draw latent points (M, d) as a path (None clears it); the panel that set it owns it."""
        self.overlay_path = None if path is None else np.array(path, dtype=np.float64)
        self._emit(Event.OVERLAY)
