"""The replay panel: snapshots of the test codes recorded during a training run and played back."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from vae_studio.core.app_state import AppState
from vae_studio.core.latent import encode
from vae_studio.gui.work.dataset_loader import DatasetLoader
from vae_studio.gui.panels.replay import REPLAY_POINTS, ReplayPanel
from vae_studio.gui.panels.training import TrainingPanel

DATA_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def setup(qtbot) -> Iterator[tuple[AppState, TrainingPanel, ReplayPanel]]:
    """A training panel set for a run of 4 steps with a snapshot after each, and a replay panel."""
    state = AppState()
    loader = DatasetLoader(state)
    training = TrainingPanel(state, loader=loader)
    replay = ReplayPanel(state)
    for widget in (training, replay):
        qtbot.addWidget(widget)
    replay.resize(420, 420)
    replay.show()
    loader.load("mnist")
    qtbot.waitUntil(lambda: state.dataset is not None, timeout=DATA_TIMEOUT_MS)
    training.subsetSpin.setValue(256)
    training.batchSpin.setValue(64)
    training.epochsSpin.setValue(1)
    training.refreshStepsSpin.setValue(1)
    yield state, training, replay
    training.shutdown()
    replay.shutdown()
    loader.shutdown()


def test_records_a_training_run_and_replays_each_frame(qtbot, setup) -> None:
    state, training, replay = setup
    assert len(replay.replay) == 0 and not replay.frameSlider.isEnabled()
    training.trainButton.click()
    qtbot.waitUntil(lambda: not state.training, timeout=RUN_TIMEOUT_MS)
    frames = replay.replay.frames
    steps = [frame.step for frame in frames]
    # The untrained start, snapshots of the steps (as many as the GUI kept up with) and the final weights.
    assert steps[0] == 0 and steps[-1] == 4 and steps == sorted(steps) and len(frames) >= 2
    assert all(len(frame.xy) == REPLAY_POINTS for frame in frames)
    # The last frame holds the trained model's codes of the sampled test images.
    rows = replay._rows
    final_mu = encode(state.current.model, state.dataset.test_images[rows]).mu
    assert np.allclose(replay.replay.snapshots[-1].mu, final_mu, atol=1e-5)
    assert np.array_equal(replay.replay.snapshots[-1].labels, state.dataset.test_labels.numpy()[rows])
    assert replay.frameSlider.maximum() == len(frames) - 1 and replay.frameSlider.value() == len(frames) - 1
    assert "recorded" in replay.titleLabel.text()

    # The slider shows each frame, on axes fixed for the whole replay.
    (x0, x1), (y0, y1) = replay.replay.bounds()
    for index, frame in enumerate(frames):
        replay.frameSlider.setValue(index)
        x, y = replay.scatter.getData()
        assert np.allclose(np.stack([x, y], axis=1), frame.xy)
        assert f"step {frame.step}" in replay.frameLabel.text()
        (vx0, vx1), (vy0, vy1) = replay.replayPlot.viewRange()
        assert vx0 <= x0 + 1e-6 and vx1 >= x1 - 1e-6 and vy0 <= y0 + 1e-6 and vy1 >= y1 - 1e-6

    # Play runs from the start to the end and stops there.
    replay.speedSpin.setValue(30)
    replay.playButton.click()
    assert replay.frameSlider.value() == 0
    qtbot.waitUntil(lambda: not replay.playButton.isChecked(), timeout=RUN_TIMEOUT_MS)
    assert replay.frameSlider.value() == len(frames) - 1

    # A new run starts a new replay; the encoding of an idle model is not recorded.
    state.set_encoding(state.encoding)
    assert len(replay.replay) == len(frames)
    training.trainButton.click()
    assert len(replay.replay) == 0 and "Waiting" in replay.titleLabel.text()
    qtbot.waitUntil(lambda: not state.training, timeout=RUN_TIMEOUT_MS)
    assert replay.replay.frames[0].step == 0 and replay.replay.frames[-1].step == 4
