"""AppState (core/app_state.py), the one state the panels share: which events each change sends, and in what state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import Encoding, ViewPlane
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel


@pytest.fixture
def data() -> ImageDataset:
    images = torch.zeros((6, 1, 28, 28), dtype=torch.uint8)
    labels = torch.arange(6) % 3
    return ImageDataset("toy", images, images, labels, labels, ("a", "b", "c"))


def model(data: ImageDataset, name: str) -> TrainedModel:
    return new_trained_model(data, TrainConfig(dataset="toy"), name)


class Recorder:
    """Every event the state sends, in order, with what the state held when it was sent."""

    def __init__(self, state: AppState) -> None:
        self.events: list[Event] = []
        for event in Event:
            state.subscribe(event, lambda event=event: self.events.append(event))

    def take(self) -> list[Event]:
        events, self.events = self.events, []
        return events


def test_models_come_and_go_with_their_events(data: ImageDataset) -> None:
    state = AppState()
    seen = Recorder(state)
    first, second = model(data, "first"), model(data, "second")
    state.add_model(first)
    assert seen.take() == [Event.MODELS, Event.CURRENT_MODEL, Event.ENCODING, Event.SELECTION]
    state.add_model(second, make_current=False)
    assert seen.take() == [Event.MODELS] and state.current is first
    state.rename_model(second, "renamed")
    assert seen.take() == [Event.MODELS] and second.name == "renamed" and second.unsaved
    state.remove_model(first)  # the current one: the last one left becomes current
    assert seen.take() == [Event.MODELS, Event.CURRENT_MODEL, Event.ENCODING, Event.SELECTION]
    assert state.current is second and state.models == [second]
    state.remove_model(second)
    assert state.current is None and seen.take()[0] is Event.MODELS


def test_new_weights_are_their_own_event_and_keep_the_view(data: ImageDataset) -> None:
    state = AppState()
    state.add_model(model(data, "m"))
    state.set_encoding(Encoding(np.zeros((6, 2)), np.zeros((6, 2))))
    state.select(2)
    seen = Recorder(state)
    state.current_weights_changed()
    # Only WEIGHTS: listeners that follow the model shown (the data set loader, the title) are not disturbed.
    assert seen.take() == [Event.WEIGHTS]
    assert state.encoding is not None and state.selected_index == 2


def test_another_model_or_data_set_drops_the_encoding_and_selection(data: ImageDataset) -> None:
    state = AppState()
    seen = Recorder(state)
    state.set_dataset(data)
    assert seen.take() == [Event.DATASET, Event.ENCODING, Event.SELECTION]
    state.add_model(model(data, "m"))
    state.set_encoding(Encoding(np.zeros((6, 2)), None))
    state.select(1)
    state.set_probe(np.array([0.5, -1.0]))
    seen.take()
    state.set_current(model(data, "other"))
    assert state.encoding is None and state.selected_index is None and state.probe is None
    assert seen.take() == [Event.CURRENT_MODEL, Event.ENCODING, Event.SELECTION]
    state.select(3)
    state.set_dataset(None)
    assert state.selected_index is None and state.dataset is None


def test_views_probes_progress_and_overlays_are_stored_as_sent() -> None:
    state = AppState()
    seen = Recorder(state)
    view = ViewPlane.axes(2)
    state.set_view(view)
    state.set_probe([1, 2])
    state.set_training(True)
    state.history_changed()
    state.set_progress(0.25, "ETA 3 s")
    state.set_overlay_path(np.zeros((4, 2)))
    assert seen.take() == [Event.VIEW, Event.PROBE, Event.TRAINING, Event.HISTORY, Event.PROGRESS, Event.OVERLAY]
    assert state.view is view and state.probe.dtype == np.float64 and state.training
    assert state.progress == (0.25, "ETA 3 s") and state.overlay_path.shape == (4, 2)
    state.set_progress(None, "ignored")
    state.set_overlay_path(None)
    state.set_probe(None)
    assert state.progress is None and state.overlay_path is None and state.probe is None


def test_unsubscribe_stops_a_listener_and_subscribers_counts_them() -> None:
    state = AppState()
    calls: list[int] = []

    def listener() -> None:
        calls.append(1)

    state.subscribe(Event.PROBE, listener)
    assert state.subscribers(Event.PROBE) == 1
    state.set_probe(np.zeros(2))
    state.unsubscribe(Event.PROBE, listener)
    state.unsubscribe(Event.PROBE, listener)  # twice is harmless
    state.set_probe(np.ones(2))
    assert calls == [1] and state.subscribers(Event.PROBE) == 0
