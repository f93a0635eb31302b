"""File → Follow Run…: watch a checkpoint that a training run elsewhere keeps rewriting.

``vae-studio train ... --out run.vae --save-every 1`` on a bigger machine saves the model and its
growing history after every epoch into a shared or synced folder. Following that file keeps one
model of the session in step with it: each time a new version lands, it is loaded off the GUI
thread and its weights and history replace the followed model's, so the map, the curves and the
preview redraw. The checkpoint is written to a temporary name and renamed into place, so the file
is never half-written; a version that still fails to load (a sync tool's partial copy) is skipped
and tried again when the file changes next.

Change notifications come from a QFileSystemWatcher on the file's folder (a rename into place
replaces the file, which a watch on the file itself would lose); network and synced folders do not
always notify, so a timer also compares the file's size and modification time every few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.app_state import AppState
from ..core.checkpoint import load_checkpoint
from ..core.trained_model import TrainedModel
from .work.tasks import Task
from .panels.models import CHECKPOINT_FILTER, checkpoint_folder

# How often the file is looked at when the folder sends no notifications (a network share).
POLL_MS = 3000

_Signature = tuple[int, int]  # (modification time in ns, size in bytes)


def _signature(path: Path) -> _Signature | None:
    try:
        stat = path.stat()
    except OSError:  # not there (yet), or between the unlink and the rename of a replacement
        return None
    return stat.st_mtime_ns, stat.st_size


class RunFollower(QObject):
    """Keeps one model of the AppState in step with a checkpoint file that another process rewrites."""

    refreshed = Signal(object)  # the followed TrainedModel, after a new version was applied
    skipped = Signal(str)  # why the newest version could not be loaded (it is tried again on the next change)

    def __init__(self, state: AppState, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.state = state
        self.path: Path | None = None
        self.followed: TrainedModel | None = None
        self._seen: _Signature | None = None  # the version last loaded, or last found unloadable
        self._loading: _Signature | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._check)
        self._watcher.fileChanged.connect(self._check)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._check)
        self._task = Task(self, newest_wins=True)
        self._task.finished.connect(self._apply)
        self._task.failed.connect(self._skip)

    def follow(self, path: str | os.PathLike[str]) -> None:
        """Start following ``path`` (a checkpoint that may not exist yet); stops following any other."""
        self.stop()
        self.path = Path(path).expanduser().resolve()
        self.followed = None
        self._seen = self._loading = None
        self._watcher.addPath(str(self.path.parent))
        self._timer.start()
        self._check()

    def stop(self) -> None:
        """Stop following; the model keeps the weights and history it had."""
        self._timer.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        self._task.cancel()
        self.path = None

    def shutdown(self) -> None:
        self.stop()
        self._task.shutdown()

    @Slot()
    def _check(self) -> None:
        if self.path is None:
            return
        if self.path.exists() and str(self.path) not in self._watcher.files():
            self._watcher.addPath(str(self.path))  # a replaced file drops out of the watch list
        signature = _signature(self.path)
        if signature is None or signature in (self._seen, self._loading):
            return
        self._loading = signature
        path = self.path
        self._task.request(lambda: (signature, load_checkpoint(path)), background=True)

    @Slot(object)
    def _apply(self, result: tuple[_Signature, TrainedModel]) -> None:
        signature, loaded = result
        self._seen, self._loading = signature, None
        followed = self.followed
        if followed is None or followed not in self.state.models or followed.config != loaded.config:
            # The first version, or a run with another architecture: a model of its own.
            self.followed = loaded
            self.state.add_model(loaded, make_current=not self.state.training)
        else:
            followed.model.load_state_dict(loaded.model.state_dict())
            followed.history = loaded.history
            followed.train_config = loaded.train_config
            if self.state.current is followed:
                self.state.current_weights_changed()
                self.state.history_changed()
        self.refreshed.emit(self.followed)
        self._check()  # a newer version may have landed while this one loaded

    @Slot(str)
    def _skip(self, message: str) -> None:
        self._seen, self._loading = self._loading, None
        self.skipped.emit(message)

    def choose_and_follow(self, parent: QWidget) -> bool:
        """Ask for the checkpoint to follow; False when the dialog was cancelled."""
        name, _ = QFileDialog.getOpenFileName(
            parent, "Follow a training run's checkpoint", checkpoint_folder(), f"{CHECKPOINT_FILTER};;All files (*)"
        )
        if not name:
            return False
        self.follow(name)
        return True
