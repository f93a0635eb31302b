"""File → Follow Run: a checkpoint rewritten by a run elsewhere refreshes the model in the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.checkpoint import load_checkpoint, save_checkpoint
from vae_studio.core.config import TrainConfig
from vae_studio.core.recipe import training_data
from vae_studio.core.trainer import Trainer
from vae_studio.gui.follow_run import RunFollower
from vae_studio.gui.widgets.image_grid import ImageGridView
from vae_studio.gui.widgets.images import to_qimage

WAIT_MS = 20_000


def train_one_more_epoch(path: Path) -> None:
    """What ``vae-studio train --save-every 1`` does after each epoch: train on, then save atomically."""
    trained = load_checkpoint(path)
    seed = len(trained.history.step_loss)  # other batches each time
    config = TrainConfig(dataset="mnist", train_subset=300, epochs=1, batch_size=100, seed=seed)
    Trainer(trained.model, training_data(config), config, history=trained.history).run()
    save_checkpoint(trained, path)


def test_following_a_checkpoint_refreshes_weights_and_history(qtbot, tiny_checkpoint: Path, tmp_path: Path) -> None:
    path = tmp_path / "run.vae"
    path.write_bytes(tiny_checkpoint.read_bytes())
    state = AppState()
    history_events: list[int] = []
    state.subscribe(Event.HISTORY, lambda: history_events.append(state.current.history.epochs))
    follower = RunFollower(state, poll_ms=200)
    try:
        follower.follow(path)
        qtbot.waitUntil(lambda: state.current is not None, timeout=WAIT_MS)
        followed = state.current
        assert followed is follower.followed and followed.history.epochs == 1

        train_one_more_epoch(path)
        with qtbot.waitSignal(follower.refreshed, timeout=WAIT_MS):
            pass
        qtbot.waitUntil(lambda: followed.history.epochs == 2, timeout=WAIT_MS)
        assert state.current is followed and state.models == [followed]  # refreshed in place, not added
        assert history_events and history_events[-1] == 2
        newest = load_checkpoint(path)
        pairs = zip(followed.model.state_dict().values(), newest.model.state_dict().values())
        assert all(torch.equal(a, b) for a, b in pairs)

        # A damaged copy (e.g. a sync tool's partial file) is skipped; the model keeps what it had.
        good = path.read_bytes()
        with qtbot.waitSignal(follower.skipped, timeout=WAIT_MS) as skipped:
            path.write_bytes(good[: len(good) // 2])
        assert "Cannot open" in skipped.args[0]
        assert followed.history.epochs == 2
        # ... and the next version is loaded again.
        path.write_bytes(good)
        train_one_more_epoch(path)
        qtbot.waitUntil(lambda: followed.history.epochs == 3, timeout=WAIT_MS)
    finally:
        follower.shutdown()


def test_follow_waits_for_a_file_that_does_not_exist_yet(qtbot, tiny_checkpoint: Path, tmp_path: Path) -> None:
    state = AppState()
    follower = RunFollower(state, poll_ms=200)
    try:
        follower.follow(tmp_path / "later.vae")
        assert state.current is None
        (tmp_path / "later.vae").write_bytes(tiny_checkpoint.read_bytes())
        qtbot.waitUntil(lambda: state.current is not None, timeout=WAIT_MS)
    finally:
        follower.shutdown()


def test_colour_images_stay_in_colour(qtbot) -> None:
    """A followed run may be a colour model (64x64 faces): the image helpers and galleries keep RGB."""
    image = np.zeros((3, 8, 8), np.float32)
    image[0] = 1.0  # pure red, channels first as the models decode it
    assert to_qimage(image).pixelColor(1, 1).getRgb()[:3] == (255, 0, 0)
    grid = ImageGridView()
    qtbot.addWidget(grid)
    grid.resize(120, 120)
    grid.set_images(image[None, None])
    rect = grid.cell_rect(0, 0)
    assert grid.grab().toImage().pixelColor(rect.center()).getRgb()[:3] == (255, 0, 0)


def test_the_file_menu_offers_follow_run(main_window, tiny_checkpoint: Path, tmp_path: Path, qtbot) -> None:
    from PySide6.QtGui import QAction

    action = main_window.findChild(QAction, "followRunAction")
    assert action is not None and action.text() == "&Follow Run…"
    path = tmp_path / "run.vae"
    path.write_bytes(tiny_checkpoint.read_bytes())
    main_window.follower.follow(path)
    qtbot.waitUntil(lambda: main_window.state.current is not None and main_window.state.current.path == path.resolve(),
                    timeout=WAIT_MS)
