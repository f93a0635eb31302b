"""Loads data sets off the GUI thread and puts them into the shared state."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ...core.app_state import AppState, Event
from ...core.config import DEFAULT_MAX_FOLDER_FILES
from ...core.data import ImageDataset, TooManyFilesError, load_dataset
from .tasks import Task


def folder_spec(folder: str | os.PathLike[str]) -> str:
    """The data set spec for a chosen folder: ``idx:PATH`` when it holds MNIST-style IDX files, else ``folder:PATH``."""
    folder = Path(folder)
    try:
        names = [entry.name.lower() for entry in folder.iterdir() if entry.is_file()]
    except OSError:
        names = []  # the loader reports the unreadable folder with a proper message
    # IDX files are named like train-images-idx3-ubyte(.gz); image folders hold .png/.jpg files.
    holds_idx = any(re.search(r"idx[13]|ubyte", name) for name in names)
    return f"{'idx' if holds_idx else 'folder'}:{folder}"


def _load_or_refusal(spec: str, max_files: int | None) -> ImageDataset | tuple[str, TooManyFilesError]:
    """The data set, or (spec, the refusal) for a folder past the file limit, which the window asks about."""
    try:
        return load_dataset(spec, max_files=max_files)
    except TooManyFilesError as exc:
        return spec, exc


class DatasetLoader(QObject):
    """One loader per window: the training panel's chooser and File > Open data folder share it.

    ``state.dataset.name`` is the spec that loaded it, so a model's ``train_config.dataset`` can
    be compared with it and reloaded.
    """

    loading = Signal(str)  # the spec being loaded
    failed = Signal(str)  # a message for the user
    too_many_files = Signal(str, str)  # the spec of a folder past the file limit, and the message

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.task = Task(self)
        self.task.finished.connect(self._on_loaded)
        self.task.failed.connect(self._on_failed)
        self.busy_changed = self.task.busy_changed
        self._pending: str | None = None
        state.subscribe(Event.CURRENT_MODEL, self._follow_current_model)

    def _follow_current_model(self) -> None:
        """Show a model with the data set it was trained on (e.g. after opening a checkpoint)."""
        current, dataset = self.state.current, self.state.dataset
        if current is not None and (dataset is None or dataset.name != current.train_config.dataset):
            self.load(current.train_config.dataset)

    def load(self, spec: str, max_files: int | None = DEFAULT_MAX_FOLDER_FILES) -> None:
        """Load ``spec`` (see ``core.data.load_dataset``); a request made while busy replaces any queued one.
        A folder with more than ``max_files`` files is not loaded: ``too_many_files`` asks first."""
        if self.busy:
            self._pending = spec
            return
        self.loading.emit(spec)
        self.task.start(lambda _task: _load_or_refusal(spec, max_files))

    @Slot(object)
    def _on_loaded(self, result: ImageDataset | tuple[str, TooManyFilesError]) -> None:
        if isinstance(result, tuple):
            spec, refusal = result
            self.too_many_files.emit(spec, str(refusal))
        else:
            self.state.set_dataset(result)
        self._load_pending()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)
        self._load_pending()

    def _load_pending(self) -> None:
        if self._pending is not None:
            spec, self._pending = self._pending, None
            self.load(spec)

    @property
    def busy(self) -> bool:
        return self.task.busy

    def shutdown(self) -> None:
        self.state.unsubscribe(Event.CURRENT_MODEL, self._follow_current_model)
        self.task.shutdown()

