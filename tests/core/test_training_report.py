"""The trainer callback that throttles reports (core/training_report.py), the throttle and History's growth."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

from vae_studio.core import training_report
from vae_studio.core.config import TrainConfig
from vae_studio.core.history import History
from vae_studio.core.recipe import new_trained_model, training_data
from vae_studio.core.throttle import Throttle
from vae_studio.core.trainer import Trainer
from vae_studio.core.training_report import (
    EpochFigures,
    RateWindow,
    Snapshot,
    StepFigures,
    TrainingReporter,
    take_snapshot,
)


def test_throttle_lets_one_report_through_per_interval() -> None:
    throttle = Throttle(0.1)
    assert [throttle.due(t) for t in (0.0, 0.05, 0.099, 0.1, 0.15, 0.25)] == [True, False, False, True, False, True]


def test_rate_window_forgets_what_is_older_than_the_window() -> None:
    rate = RateWindow(batch_size=10, window_s=3.0)
    assert rate.mark(0, now=0.0) is None
    assert rate.mark(100, now=1.0) == pytest.approx(1000.0)
    rate.mark(100, now=5.0)  # a pause of four seconds
    # The window starts at the last mark at least three seconds old (t = 1), not at the run's start:
    # 50 steps of 10 images in 5 s (the whole run's average would be 150 * 10 / 6 = 250).
    assert rate.mark(150, now=6.0) == pytest.approx(100.0)


def test_history_grows_steps_and_epochs_together() -> None:
    history = History()
    history.extend_steps(np.array([3.0, 2.0]), [2.5, 1.5], [0.5, 0.5])
    history.append_epoch(2.4, 2.2, 1.8, 0.4, end_step=2)
    assert (history.steps, history.epochs) == (2, 1)
    assert history.step_loss == [3.0, 2.0] and history.epoch_end_step == [2.0]
    with pytest.raises(ValueError):
        history.extend_steps([1.0], [1.0, 2.0], [0.0])


@pytest.fixture(scope="module")
def run_reports() -> tuple[list[object], History, int]:
    """A tiny real run reported with snapshots every 5 steps; returns (messages, the trainer's history, steps)."""
    torch.manual_seed(0)
    config = TrainConfig(dataset="mnist", train_subset=400, epochs=2, batch_size=20)
    dataset = training_data(config)
    trained = new_trained_model(dataset, config, "reported")
    messages: list[object] = []
    test_images = dataset.test_images[:50]
    reporter = TrainingReporter(
        messages.append, batch_size=config.batch_size, epochs=config.epochs, refresh_steps=5,
        snapshot=lambda step, encoding: take_snapshot(trained.model, step, test_images, None, encoding),
    )  # fmt: skip
    trainer = Trainer(trained.model, dataset, config, history=trained.history)
    reporter.attach(trainer)
    # The receiver shows each snapshot at once (as the window does when it keeps up), and
    # snapshots come exactly as the refresh setting says (no share of the run's time to keep to).
    trainer.on_step(lambda _report: reporter.snapshot_taken.set())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_report, "SNAPSHOT_TIME_SHARE", math.inf)
        reporter.start()
        result = trainer.run()
    reporter.flush()
    return messages, trained.history, result.steps


def test_reports_rebuild_the_trainers_history_exactly(run_reports) -> None:
    messages, trainer_history, steps = run_reports
    rebuilt = History()
    for message in messages:
        if isinstance(message, (StepFigures, EpochFigures)):
            message.add_to(rebuilt)
    assert rebuilt.to_arrays().keys() == trainer_history.to_arrays().keys()
    for name, values in trainer_history.to_arrays().items():
        np.testing.assert_allclose(rebuilt.to_arrays()[name], values, err_msg=name)
    assert rebuilt.steps == steps == 40


def test_step_figures_cover_every_step_and_snapshots_follow_the_refresh_setting(run_reports) -> None:
    messages, _history, steps = run_reports
    figures = [m for m in messages if isinstance(m, StepFigures)]
    snapshots = [m for m in messages if isinstance(m, Snapshot)]
    # Every figure carries the steps since the one before, and the last one ends the run.
    assert [f.step for f in figures] == list(np.cumsum([len(f.new_loss) for f in figures]))
    assert figures[-1].step == steps and figures[-1].epochs == 2
    assert [s.step for s in snapshots] == list(range(0, steps + 1, 5))
    assert snapshots[0].encoding.mu.shape == (50, 2)
    epochs = [m for m in messages if isinstance(m, EpochFigures)]
    assert [e.step for e in epochs] == [20, 40]


def reported_run(stop_after: int | None, on_snapshot_images: bool, monkeypatch) -> tuple[Snapshot, list[int], object]:
    """A one-epoch run of 10 steps; returns the final snapshot, the sizes encode() was called on, and the model."""
    torch.manual_seed(0)
    config = TrainConfig(dataset="mnist", train_subset=200, epochs=1, batch_size=20)
    dataset = training_data(config)
    trained = new_trained_model(dataset, config, "final")
    encoded: list[int] = []
    real_encode = training_report.encode
    monkeypatch.setattr(training_report, "encode", lambda m, images, *a: encoded.append(len(images)) or real_encode(m, images, *a))
    test_images = dataset.test_images if on_snapshot_images else dataset.test_images[:100]
    reporter = TrainingReporter(
        lambda message: None, batch_size=config.batch_size, epochs=1,
        snapshot=lambda step, encoding: take_snapshot(trained.model, step, test_images, None, encoding),
    )  # fmt: skip
    reporter.evaluation_is_on_snapshot_images = on_snapshot_images
    trainer = Trainer(trained.model, dataset, config)
    reporter.attach(trainer)
    if stop_after is not None:
        trainer.on_step(lambda report: trainer.control.stop() if report.step == stop_after else None)
    result = trainer.run()
    return reporter.snapshot(result.steps), encoded, trained.model


def test_a_run_that_ends_with_its_epoch_takes_the_final_encoding_from_its_test_evaluation(monkeypatch) -> None:
    final, encoded, model = reported_run(None, True, monkeypatch)
    assert encoded == []  # the epoch's evaluation already encoded the test split with these weights
    fresh = training_report.encode(model, training_data(TrainConfig(dataset="mnist")).test_images)
    np.testing.assert_allclose(final.encoding.mu, fresh.mu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(final.encoding.logvar, fresh.logvar, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("stop_after", "on_snapshot_images"), [(4, True), (None, False)])
def test_the_final_snapshot_encodes_when_the_evaluation_does_not_fit_it(stop_after, on_snapshot_images, monkeypatch) -> None:
    """Stopped mid-epoch (weights moved on since any evaluation), or evaluated on other images (a run on some
    classes): the final snapshot encodes its own images."""
    final, encoded, _model = reported_run(stop_after, on_snapshot_images, monkeypatch)
    assert encoded == [len(final.encoding.mu)]


def test_start_can_wait_until_the_first_snapshot_is_shown_and_never_longer_than_asked() -> None:
    """The window's run takes its first step once the untrained map is shown (gui/panels/training/job.py)."""
    sent: list[object] = []
    reporter = TrainingReporter(
        sent.append, batch_size=10, epochs=1, refresh_steps=5,
        snapshot=lambda step, encoding: Snapshot(step, {}, encoding),
    )  # fmt: skip
    shown_at: list[float] = []

    def show_later() -> None:
        time.sleep(0.2)
        shown_at.append(time.perf_counter())
        reporter.snapshot_taken.set()

    viewer = threading.Thread(target=show_later)
    viewer.start()
    reporter.start(wait_shown_s=10.0)
    returned_at = time.perf_counter()
    viewer.join()
    assert [type(m) for m in sent] == [Snapshot]
    assert shown_at and returned_at >= shown_at[0]

    # Nobody shows it: the wait ends after wait_shown_s, not never.
    unseen = TrainingReporter(
        sent.append, batch_size=10, epochs=1, refresh_steps=5,
        snapshot=lambda step, encoding: Snapshot(step, {}, encoding),
    )  # fmt: skip
    started = time.perf_counter()
    unseen.start(wait_shown_s=0.3)
    assert 0.3 <= time.perf_counter() - started < 5.0
