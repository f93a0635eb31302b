"""The training panel: live training on a worker thread, steered by its buttons.

Runs are tiny (a few hundred MNIST images, one epoch) so each test takes a second or two.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from vae_studio.core import training_report
from vae_studio.core.app_state import AppState, Event
from vae_studio.core.config import TrainConfig
from vae_studio.core.latent import decode, encode
from vae_studio.core.models import build_model
from vae_studio.core.recipe import new_trained_model
from vae_studio.gui.work.dataset_loader import DatasetLoader
from vae_studio.gui.panels.loss_curves import LossPanel
from vae_studio.gui.panels.training import RunOutcome, TrainingPanel
from vae_studio.gui.panels.training import job as training_job
from vae_studio.gui.panels.training.form import FIELDS
from vae_studio.gui.work.tasks import running_threads

DATA_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def loader(state: AppState) -> Iterator[DatasetLoader]:
    loader = DatasetLoader(state)
    yield loader
    loader.shutdown()


@pytest.fixture
def panel(qtbot, state: AppState, loader: DatasetLoader) -> Iterator[TrainingPanel]:
    """A training panel with MNIST loaded and settings for a run of 4 steps (256 images, batches of 64)."""
    panel = TrainingPanel(state, loader=loader)
    qtbot.addWidget(panel)
    loader.load("mnist")
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=DATA_TIMEOUT_MS)
    configure(panel, subset=256, batch=64, epochs=1, refresh=2)
    yield panel
    panel.shutdown()


def configure(panel: TrainingPanel, *, subset: int, batch: int, epochs: int, refresh: int) -> None:
    panel.subsetSpin.setValue(subset)
    panel.batchSpin.setValue(batch)
    panel.epochsSpin.setValue(epochs)
    panel.refreshStepsSpin.setValue(refresh)


def wait_until_idle(qtbot, state: AppState) -> None:
    qtbot.waitUntil(lambda: not state.training, timeout=RUN_TIMEOUT_MS)


def config_controls(panel: TrainingPanel) -> list:
    return [panel.datasetCombo, panel.modelKindCombo, panel.latentDimSpin, panel.epochsSpin, panel.lrSpin,
            panel.betaSpin, panel.subsetSpin, panel.seedSpin]  # fmt: skip


def test_a_run_fills_the_curves_the_map_and_the_progress(qtbot, panel: TrainingPanel, state: AppState) -> None:
    loss_panel = LossPanel(state)
    qtbot.addWidget(loss_panel)
    loss_panel.show()  # it draws only while on screen
    dataset = state.dataset
    assert dataset is not None
    # An earlier model with the same settings: the new one is numbered after it.
    state.add_model(new_trained_model(dataset, TrainConfig(), "VAE z=2 mnist #1"))
    progress: list[tuple[float, str] | None] = []
    state.subscribe(Event.PROGRESS, lambda: progress.append(state.progress))

    qtbot.mouseClick(panel.trainButton, Qt.MouseButton.LeftButton)
    assert state.training and panel.training
    trained = state.current
    assert trained is not None and trained.name == "VAE z=2 mnist #2"
    assert not panel.trainButton.isEnabled()
    assert panel.pauseButton.isEnabled() and panel.stopButton.isEnabled()
    assert not any(widget.isEnabled() for widget in config_controls(panel))
    assert panel.refreshStepsSpin.isEnabled()  # the map refresh may change mid-run

    wait_until_idle(qtbot, state)
    history = trained.history
    assert history.steps == 4 and len(history.step_recon) == len(history.step_kl) == 4
    assert history.epochs == 1 and history.epoch_end_step == [4]
    assert all(np.isfinite(history.step_loss))
    assert state.encoding is not None
    assert state.encoding.mu.shape == (len(dataset.test_images), 2)
    assert state.encoding.logvar is not None and state.encoding.logvar.shape == (len(dataset.test_images), 2)
    reported = [p for p in progress if p is not None]
    assert reported and all(0.0 <= fraction <= 1.0 for fraction, _ in reported)
    assert any("epoch 1/1" in text and "ETA" in text for _, text in reported)
    assert progress[-1] is None and state.progress is None
    assert trained.unsaved and trained in state.models
    assert "Finished" in panel.statusLabel.text()
    assert panel.trainButton.isEnabled() and not panel.pauseButton.isEnabled() and not panel.stopButton.isEnabled()
    assert all(widget.isEnabled() for widget in config_controls(panel))
    # The loss panel drew the run: its step curves hold 4 points, the test marker 1 (it draws a growing
    # history at most four times a second). The KL curves are in their own view, on the right-hand axis.
    items = [*loss_panel.lossPlot.getPlotItem().listDataItems(), *loss_panel._kl_view.addedItems]

    def lengths() -> list[int]:
        return sorted(0 if item.getData()[0] is None else len(item.getData()[0]) for item in items)

    qtbot.waitUntil(lambda: lengths().count(4) == 6 and 1 in lengths(), timeout=RUN_TIMEOUT_MS)


def test_the_gui_copy_ends_with_the_workers_final_weights(qtbot, panel: TrainingPanel, state: AppState) -> None:
    with qtbot.waitSignal(panel.task.finished, timeout=RUN_TIMEOUT_MS) as finished:
        panel.trainButton.click()
    outcome = finished.args[0]
    assert isinstance(outcome, RunOutcome) and outcome.status == "finished" and outcome.steps == 4
    trained = state.current
    assert trained is not None
    worker_model = build_model(trained.config)
    worker_model.load_state_dict({name: torch.from_numpy(value) for name, value in outcome.final.weights.items()})
    untrained = build_model(trained.config, seed=trained.train_config.seed)
    z = np.random.default_rng(0).standard_normal((16, 2))
    np.testing.assert_array_equal(decode(trained.model, z), decode(worker_model, z))
    assert not np.allclose(decode(trained.model, z), decode(untrained, z))  # the weights were trained
    # The map shows the encoding of exactly these weights.
    assert state.dataset is not None and state.encoding is not None
    np.testing.assert_allclose(encode(trained.model, state.dataset.test_images).mu, state.encoding.mu, atol=1e-6)


def test_pause_resume_and_stop(qtbot, panel: TrainingPanel, state: AppState) -> None:
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)  # 1,280 steps: far more than the test waits for
    panel.trainButton.click()
    trained = state.current
    assert trained is not None
    qtbot.waitUntil(lambda: trained.history.steps >= 3, timeout=RUN_TIMEOUT_MS)

    panel.pauseButton.click()
    assert panel.pauseButton.isChecked() and panel.pauseButton.text() == "Resume"
    qtbot.wait(400)  # reports already on their way still arrive
    paused_at = trained.history.steps
    qtbot.wait(600)
    assert trained.history.steps == paused_at
    assert state.training and state.progress is not None and state.progress[1].startswith("paused")

    panel.pauseButton.click()
    assert panel.pauseButton.text() == "Pause"
    qtbot.waitUntil(lambda: trained.history.steps > paused_at, timeout=RUN_TIMEOUT_MS)

    panel.stopButton.click()
    assert not panel.stopButton.isEnabled()
    wait_until_idle(qtbot, state)
    assert "Stopped" in panel.statusLabel.text()
    assert 0 < trained.history.steps < 1280
    assert state.current is trained and trained in state.models and trained.unsaved
    assert state.encoding is not None and len(state.encoding.mu) == len(state.dataset.test_images)
    assert panel.trainButton.isEnabled() and not panel.pauseButton.isChecked()


@pytest.mark.parametrize("end", ["stop", "shutdown"])
def test_the_first_step_waits_until_the_untrained_map_is_shown(
    qtbot, panel: TrainingPanel, state: AppState, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    """Shown first, the map does not compete with the run's start (job.FIRST_MAP_WAIT_S); a Stop or the
    window's close during that wait ends the run at once."""
    monkeypatch.setattr(training_job, "FIRST_MAP_WAIT_S", 600.0)
    monkeypatch.setattr(panel._snapshot_shown, "start", lambda: None)  # this window never says it was shown
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)
    panel.trainButton.click()
    trained = state.current
    qtbot.waitUntil(lambda: state.encoding is not None, timeout=RUN_TIMEOUT_MS)  # the untrained map came
    qtbot.wait(300)
    assert trained.history.steps == 0 and state.training
    started = time.perf_counter()
    if end == "stop":
        panel.stopButton.click()
        wait_until_idle(qtbot, state)
        assert "Stopped" in panel.statusLabel.text()
    else:
        panel.shutdown()
        assert not running_threads() and not state.training
    assert time.perf_counter() - started < 30.0  # not FIRST_MAP_WAIT_S
    assert trained in state.models


def test_stop_while_paused_ends_the_run(qtbot, panel: TrainingPanel, state: AppState) -> None:
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)
    panel.trainButton.click()
    qtbot.waitUntil(lambda: state.current.history.steps >= 1, timeout=RUN_TIMEOUT_MS)
    panel.pauseButton.click()
    panel.stopButton.click()
    wait_until_idle(qtbot, state)
    assert "Stopped" in panel.statusLabel.text() and panel.pauseButton.text() == "Pause"


def test_shutdown_mid_run_joins_the_worker_and_keeps_the_model(qtbot, panel: TrainingPanel, state: AppState) -> None:
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)
    panel.trainButton.click()
    trained = state.current
    qtbot.waitUntil(lambda: trained.history.steps >= 2, timeout=RUN_TIMEOUT_MS)
    panel.shutdown()
    assert not running_threads()
    assert not state.training and state.progress is None
    assert trained in state.models and trained.history.steps >= 2
    assert panel.trainButton.isEnabled()


def test_closing_the_main_window_mid_run_stops_training(qtbot, main_window) -> None:
    panel = main_window.panels["training"]
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)
    panel.trainButton.click()
    qtbot.waitUntil(lambda: main_window.state.current.history.steps >= 1, timeout=RUN_TIMEOUT_MS)
    main_window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    main_window.close()
    assert not running_threads()


def test_removing_the_model_being_trained_stops_the_run(qtbot, panel: TrainingPanel, state: AppState) -> None:
    configure(panel, subset=4096, batch=16, epochs=5, refresh=50)
    panel.trainButton.click()
    trained = state.current
    qtbot.waitUntil(lambda: trained.history.steps >= 1, timeout=RUN_TIMEOUT_MS)
    state.remove_model(trained)
    wait_until_idle(qtbot, state)
    assert trained not in state.models and state.current is None and state.encoding is None


def test_a_diverging_run_warns_and_keeps_the_app_usable(
    qtbot, panel: TrainingPanel, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest: warnings.append((title, text)))
    panel.lrSpin.setValue(10.0)  # Adam steps this large blow the loss up to nan within a few steps
    panel.trainButton.click()
    trained = state.current
    wait_until_idle(qtbot, state)
    assert warnings and warnings[0][0] == "Training diverged" and "lower learning rate" in warnings[0][1]
    assert "Diverged" in panel.statusLabel.text()
    assert all(torch.isfinite(p).all() for p in trained.model.parameters())  # the last good weights
    assert state.encoding is not None and np.isfinite(state.encoding.mu).all()

    panel.lrSpin.setValue(1e-3)
    panel.trainButton.click()
    wait_until_idle(qtbot, state)
    assert state.current is not trained and state.current.history.steps == 4
    assert len(warnings) == 1


def test_the_map_refresh_can_change_mid_run(
    qtbot, panel: TrainingPanel, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training_report, "SNAPSHOT_TIME_SHARE", math.inf)  # snapshots as often as the setting says
    configure(panel, subset=256, batch=16, epochs=1, refresh=10_000)  # 16 steps
    encodings: list[int] = []
    state.subscribe(Event.ENCODING, lambda: encodings.append(0) if state.encoding is not None else None)
    panel.trainButton.click()
    panel.refreshStepsSpin.setValue(2)
    wait_until_idle(qtbot, state)
    assert len(encodings) >= 5  # with the first setting: the untrained map and the final one only


def test_snapshots_take_a_bounded_share_of_the_run(
    qtbot, panel: TrainingPanel, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However often the map refresh asks for one, a snapshot waits until the training since the last
    one is long enough for its encoding to be a small share of the run (issue 10)."""
    monkeypatch.setattr(training_report, "SNAPSHOT_TIME_SHARE", 1e-6)  # a millionth: none fits in this run
    configure(panel, subset=256, batch=16, epochs=1, refresh=1)  # 16 steps, a snapshot asked for at each
    encodings: list[int] = []
    state.subscribe(Event.ENCODING, lambda: encodings.append(0) if state.encoding is not None else None)
    panel.trainButton.click()
    wait_until_idle(qtbot, state)
    assert state.current.history.steps == 16
    assert len(encodings) == 2  # the untrained map and the final one


def test_start_waits_for_the_data_set(qtbot, state: AppState, loader: DatasetLoader) -> None:
    panel = TrainingPanel(state, loader=loader)
    qtbot.addWidget(panel)
    assert not panel.trainButton.isEnabled()  # nothing loaded yet
    panel.trainButton.click()
    assert not state.training
    loader.load("mnist")
    assert not panel.trainButton.isEnabled()
    assert "Loading" in panel.datasetInfo.text()
    qtbot.waitUntil(panel.trainButton.isEnabled, timeout=DATA_TIMEOUT_MS)
    assert panel.datasetCombo.currentData() == "mnist"
    assert "10,000 test images" in panel.datasetInfo.text()


def test_the_data_set_chooser_follows_the_state_and_opens_folders(
    qtbot, panel: TrainingPanel, state: AppState, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path))
    panel.datasetCombo.setCurrentIndex(panel.datasetCombo.findData("<open folder>"))
    spec = f"folder:{tmp_path}"
    qtbot.waitUntil(lambda: state.dataset is not None and state.dataset.name == spec, timeout=DATA_TIMEOUT_MS)
    assert panel.datasetCombo.currentData() == spec
    assert panel.datasetCombo.currentText() == f"Folder: {tmp_path.name}"
    # The folder has no class subfolders, so a conditional VAE cannot be chosen.
    cvae = panel.modelKindCombo.model().item(panel.modelKindCombo.findData("cvae"))
    assert not cvae.isEnabled()

    # Another part of the app (the File menu, a model's data set) changes the data set: the chooser follows.
    with qtbot.waitSignal(panel.loader.task.finished, timeout=DATA_TIMEOUT_MS):
        panel.loader.load("mnist")
    assert state.dataset.name == "mnist"
    assert panel.datasetCombo.currentData() == "mnist" and cvae.isEnabled()
    # The folder stays in the list, to go back to it.
    assert panel.datasetCombo.findData(spec) >= 0


def test_a_folder_that_fails_to_load_is_not_left_in_the_chooser(
    qtbot, panel: TrainingPanel, state: AppState, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path))  # empty
    with qtbot.waitSignal(panel.loader.failed, timeout=DATA_TIMEOUT_MS):
        panel.datasetCombo.setCurrentIndex(panel.datasetCombo.findData("<open folder>"))
    assert panel.datasetCombo.currentData() == "mnist"
    assert panel.datasetCombo.findData(f"folder:{tmp_path}") == -1
    assert panel.trainButton.isEnabled()


def test_cancelling_the_folder_dialog_keeps_the_data_set(
    panel: TrainingPanel, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: "")
    panel.datasetCombo.setCurrentIndex(panel.datasetCombo.findData("<open folder>"))
    assert panel.datasetCombo.currentData() == "mnist" and not panel.loader.busy


def test_objective_controls_follow_the_model_kind(panel: TrainingPanel, state: AppState) -> None:
    panel.modelKindCombo.setCurrentIndex(panel.modelKindCombo.findData("ae"))
    assert not panel.betaSpin.isEnabled() and not panel.warmupSpin.isEnabled()
    panel.modelKindCombo.setCurrentIndex(panel.modelKindCombo.findData("cvae"))
    assert panel.betaSpin.isEnabled() and panel.warmupSpin.isEnabled()
    assert not panel.noiseSpin.isEnabled()
    panel.corruptionCombo.setCurrentIndex(panel.corruptionCombo.findData("gaussian"))
    assert panel.noiseSpin.isEnabled()
    # Unlabelled data: the conditional VAE is not available and the choice falls back to a VAE.
    assert state.dataset is not None
    state.set_dataset(replace(state.dataset, train_labels=None, test_labels=None, class_names=()))
    assert panel.modelKindCombo.currentData() == "vae"


def test_every_control_explains_itself(panel: TrainingPanel) -> None:
    for widget in [*config_controls(panel), panel.refreshStepsSpin, panel.trainButton, panel.pauseButton,
                   panel.stopButton, panel.archCombo, panel.likelihoodCombo, panel.warmupSpin,
                   panel.corruptionCombo, panel.noiseSpin, panel.batchSpin, panel.deviceCombo]:  # fmt: skip
        assert widget.toolTip().endswith("."), widget.objectName()


def test_unavailable_devices_cannot_be_chosen(panel: TrainingPanel) -> None:
    combo = panel.deviceCombo
    assert combo.model().item(combo.findData("cpu")).isEnabled()
    assert combo.model().item(combo.findData("cuda")).isEnabled() == torch.cuda.is_available()


@pytest.mark.parametrize("cuda", [False, True])
def test_the_device_choices_follow_what_this_machine_has(monkeypatch: pytest.MonkeyPatch, cuda: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    device = next(field for field in FIELDS if field.key == "device")
    choices = {key: (label, enabled) for key, label, enabled in device.choices()}
    assert choices["auto"] == (f"auto ({'cuda' if cuda else 'cpu'})", True)
    assert choices["cuda"] == ("cuda", True) if cuda else choices["cuda"] == ("cuda (not available)", False)
    assert choices["mps"] == ("mps (not available)", False) and choices["cpu"] == ("cpu", True)


def test_the_learning_rate_steps_through_decades(qtbot, panel: TrainingPanel) -> None:
    spin = panel.lrSpin
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "3e-4")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == pytest.approx(3e-4)
    spin.setValue(1e-3)
    spin.stepBy(1)
    assert spin.value() == pytest.approx(2e-3)
    spin.stepBy(2)
    assert spin.value() == pytest.approx(1e-2)
    spin.stepBy(-4)
    assert spin.value() == pytest.approx(5e-4)
    assert spin.textFromValue(3e-4) == "0.0003" and spin.valueFromText("3e-4") == pytest.approx(3e-4)


def test_last_used_values_come_back(qtbot, panel: TrainingPanel, state: AppState, loader: DatasetLoader) -> None:
    panel.modelKindCombo.setCurrentIndex(panel.modelKindCombo.findData("ae"))
    panel.latentDimSpin.setValue(7)
    panel.lrSpin.setValue(3e-4)
    panel.archCombo.setCurrentIndex(panel.archCombo.findData("conv"))
    panel.shutdown()
    again = TrainingPanel(state, loader=loader)
    qtbot.addWidget(again)
    assert again.modelKindCombo.currentData() == "ae" and again.archCombo.currentData() == "conv"
    assert again.latentDimSpin.value() == 7 and again.lrSpin.value() == pytest.approx(3e-4)
    assert again.subsetSpin.value() == 256 and again.refreshStepsSpin.value() == 2
