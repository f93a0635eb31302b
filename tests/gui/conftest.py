"""Fixtures for the GUI tests: headless Qt, private settings, no leaked threads, a tiny trained model."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported anywhere

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from vae_studio.core.checkpoint import save_checkpoint  # noqa: E402
from vae_studio.core.config import TrainConfig  # noqa: E402
from vae_studio.core.recipe import new_trained_model, training_data  # noqa: E402
from vae_studio.core.trained_model import TrainedModel  # noqa: E402
from vae_studio.core.trainer import Trainer  # noqa: E402
from vae_studio.gui.app import configure_pyqtgraph, set_application_names  # noqa: E402
from vae_studio.gui.work.tasks import running_threads  # noqa: E402

# Loading the bundled MNIST off the GUI thread takes about a second; leave room for a busy machine.
DATA_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session", autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """QSettings go to a temporary folder, so tests never read or change the user's settings."""
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.SystemScope, str(folder / "system"))
    set_application_names()
    configure_pyqtgraph()  # the plots look and index images as in the app
    yield folder


@pytest.fixture(autouse=True)
def fresh_settings(private_settings: Path) -> None:
    """Each test starts with empty settings, so a layout saved by one test never shapes the next."""
    QSettings().clear()


@pytest.fixture(autouse=True)
def no_thread_left(qtbot) -> Iterator[None]:
    """Fail a test that leaves a task thread running (a runner that was never shut down)."""
    yield
    try:
        qtbot.waitUntil(lambda: not running_threads(), timeout=5000)
    except qtbot.TimeoutError:
        pytest.fail(f"{len(running_threads())} task thread(s) still running after the test", pytrace=False)


@pytest.fixture(scope="session")
def tiny_model() -> TrainedModel:
    """A VAE (z=2, MLP) trained 1 epoch on 1000 MNIST images. Shared: do not change it; load
    ``tiny_checkpoint`` for a private copy."""
    config = TrainConfig(dataset="mnist", train_subset=1000, epochs=1, batch_size=100)
    dataset = training_data(config)
    trained = new_trained_model(dataset, config, "tiny")
    Trainer(trained.model, dataset, config, history=trained.history).run()
    return trained


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_model`` saved as a checkpoint file (read-only for tests: copy it to change it)."""
    path = tmp_path_factory.mktemp("checkpoints") / "tiny.vae"
    # save_checkpoint marks the model saved and records the path; the shared model stays as it was.
    path_before, unsaved_before = tiny_model.path, tiny_model.unsaved
    save_checkpoint(tiny_model, path)
    tiny_model.path, tiny_model.unsaved = path_before, unsaved_before
    return path


@pytest.fixture
def main_window(qtbot):
    """A shown MainWindow with the default data set loaded; closed afterwards without the unsaved prompt."""
    from vae_studio.gui import MainWindow

    window = MainWindow()
    window.show()
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=DATA_TIMEOUT_MS)
    yield window
    window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    window.close()
    window.deleteLater()
