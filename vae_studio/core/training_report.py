"""A trainer callback that turns every step into reports a viewer can keep up with.

The trainer calls back after every step (hundreds per second for a small MLP). A window, or any
other viewer, wants far fewer messages: the step figures at most every ``STEP_FIGURES_INTERVAL_S`` with
every per-step loss since the last report (so the curve loses nothing), a samples-per-second rate
over the last few seconds (so it recovers quickly after a pause instead of averaging the pause into
the whole run), each epoch's test loss, and now and then a snapshot (weights and an encoding of the
test split) for the latent map. :class:`TrainingReporter` does that with plain copies only, so what
it sends may cross a thread boundary; ``send`` decides where it goes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .history import History
from .latent import Encoding, encode
from .models import AE
from .throttle import Throttle
from .run_control import EpochReport, StepReport
from .trainer import Trainer

# Samples per second are measured over the last few seconds (module doc).
RATE_WINDOW_S = 3.0
# A snapshot encodes the whole test split (10,000 MNIST images: 40-500 ms on a two-core laptop,
# against 4-8 ms per training step), and a viewer redraws from it while training goes on.
# Snapshots are spaced so that making them takes at most this share of the run's time, so a small
# "map refresh" costs live pictures, not training speed (issue 10, docs/PERFORMANCE.md).
SNAPSHOT_TIME_SHARE = 0.05
# Step figures four times a second: each one makes a window repaint its progress texts and loss
# curves, and on a two-core laptop every millisecond of that holds up the training run that shares
# the cores (docs/PERFORMANCE.md §3).
STEP_FIGURES_INTERVAL_S = 0.25


@dataclass(frozen=True)
class StepFigures:
    """The latest step's report, the rate and ETA over the rate window, and the per-step losses of every
    step since the previous report."""

    last: StepReport
    epochs: int
    samples_per_s: float
    eta_s: float
    new_loss: np.ndarray
    new_recon: np.ndarray
    new_kl: np.ndarray

    @property
    def step(self) -> int:
        return self.last.step

    @property
    def total_steps(self) -> int:
        return self.last.total_steps

    @property
    def epoch(self) -> int:
        return self.last.epoch

    def add_to(self, history: History) -> None:
        history.extend_steps(self.new_loss, self.new_recon, self.new_kl)


@dataclass(frozen=True)
class EpochFigures:
    epoch: int
    step: int  # the step count at the end of the epoch, where the test loss is marked
    train_loss: float
    test_loss: float
    test_recon: float
    test_kl: float
    seconds: float

    def add_to(self, history: History) -> None:
        history.append_epoch(self.train_loss, self.test_loss, self.test_recon, self.test_kl, self.step)


@dataclass(frozen=True)
class Snapshot:
    """A model's weights (CPU copies) and its encoding of the test split at ``step``."""

    step: int
    weights: dict[str, np.ndarray]
    encoding: Encoding

    def load_into(self, model: AE) -> None:
        # from_numpy shares this private copy; load_state_dict copies it into the model.
        model.load_state_dict({name: torch.from_numpy(value) for name, value in self.weights.items()})


def take_snapshot(
    model: AE,
    step: int,
    test_images: torch.Tensor,
    test_labels: torch.Tensor | None,
    encoding: Encoding | None = None,
) -> Snapshot:
    """Copy ``model``'s weights to the CPU and encode the test split with it (in eval mode), unless
    ``encoding`` is that encoding already."""
    weights = {name: value.detach().to("cpu", copy=True).numpy() for name, value in model.state_dict().items()}
    if encoding is None:
        was_training = model.training
        model.eval()
        encoding = encode(model, test_images, test_labels)
        model.train(was_training)
    return Snapshot(step, weights, encoding)


class RateWindow:
    """Samples per second over the last ``window_s`` seconds of (time, step) marks."""

    def __init__(self, batch_size: int, window_s: float = RATE_WINDOW_S) -> None:
        self.batch_size = batch_size
        self.window_s = window_s
        self._marks: deque[tuple[float, int]] = deque()

    def mark(self, step: int, now: float | None = None) -> float | None:
        """Record that ``step`` steps are done; the rate over the window, or None with one mark only."""
        now = time.perf_counter() if now is None else now
        marks = self._marks
        marks.append((now, step))
        while len(marks) > 2 and now - marks[1][0] >= self.window_s:
            marks.popleft()
        then, then_step = marks[0]
        return (step - then_step) * self.batch_size / (now - then) if now > then else None


class TrainingReporter:
    """Trainer callbacks (``attach``) that send StepFigures, EpochFigures and Snapshots (module doc).

    Two attributes may be changed from another thread while it runs: ``refresh_steps`` (steps
    between snapshots; assigning an int is atomic) and ``snapshot_taken``, which the receiver sets
    once it has shown a snapshot, so snapshots never pile up behind a slow viewer.
    """

    def __init__(
        self,
        send: Callable[[object], None],
        *,
        batch_size: int,
        epochs: int,
        refresh_steps: int = 0,
        snapshot: Callable[[int, Encoding | None], Snapshot] | None = None,
    ) -> None:
        self.send = send
        self.epochs = epochs
        self.refresh_steps = refresh_steps
        self.snapshot_taken = threading.Event()
        self.snapshot_taken.set()
        self._snapshot = snapshot
        self._snapshot_step = 0
        self._snapshot_seconds = 0.0  # how long the last snapshot took to make
        self._snapshot_made_at = 0.0
        # Whether the trainer's test evaluation runs over the snapshots' test images (set by the owner,
        # who knows both); then the last epoch's evaluation encoded them with the weights at its step.
        self.evaluation_is_on_snapshot_images = False
        self._epoch_encoding: tuple[int, Encoding] | None = None
        self._throttle = Throttle(STEP_FIGURES_INTERVAL_S)
        self._rate = RateWindow(batch_size)
        self._last: StepReport | None = None
        self._pending: tuple[list[float], list[float], list[float]] = ([], [], [])

    def attach(self, trainer: Trainer) -> None:
        trainer.on_step(self.on_step)
        trainer.on_epoch(self.on_epoch)

    def start(self, wait_shown_s: float = 0.0) -> None:
        """Call before the run: sends the untrained model's snapshot, so the picture starts moving from
        where training starts, and starts the rate clock. With ``wait_shown_s``, first waits (at most that
        long) until the receiver has shown that snapshot (``snapshot_taken``), so that its showing does
        not compete with the first steps for the cores."""
        self.send_snapshot(0)
        if wait_shown_s > 0 and self._snapshot is not None:
            self.snapshot_taken.wait(wait_shown_s)
        self._rate.mark(0)

    def on_step(self, report: StepReport) -> None:
        for pending, value in zip(self._pending, (report.loss, report.recon, report.kl)):
            pending.append(value)
        self._last = report
        snapshot_due = (
            self._snapshot is not None
            and self.refresh_steps > 0
            and report.step - self._snapshot_step >= self.refresh_steps
            and self.snapshot_taken.is_set()
            and time.perf_counter() - self._snapshot_made_at >= self._snapshot_seconds / SNAPSHOT_TIME_SHARE
        )
        if snapshot_due or self._throttle.due():
            self.flush()
        if snapshot_due:
            self.send_snapshot(report.step)

    def on_epoch(self, report: EpochReport) -> None:
        self.flush()  # the history's steps must be complete before the epoch's test loss is placed
        step = self._last.step if self._last is not None else 0
        test = report.test
        kept = test.encoding is not None and self.evaluation_is_on_snapshot_images
        self._epoch_encoding = (step, test.encoding) if kept else None
        self.send(EpochFigures(report.epoch, step, report.train_loss, test.loss, test.recon, test.kl, report.seconds))

    def flush(self) -> None:
        """Send the step figures gathered since the last report (nothing when there are none)."""
        last = self._last
        if last is None or not self._pending[0]:
            return
        rate = self._rate.mark(last.step)
        if rate is None:
            rate = last.samples_per_s
        eta = (last.total_steps - last.step) * self._rate.batch_size / rate if rate > 0 else last.eta_s
        loss, recon, kl = (np.array(values, dtype=np.float64) for values in self._pending)
        self.send(StepFigures(last, self.epochs, rate, eta, loss, recon, kl))
        for values in self._pending:
            values.clear()

    def snapshot(self, step: int) -> Snapshot:
        """A snapshot at ``step`` (not sent): e.g. the final weights, returned with the run's outcome. A
        run that ends with an epoch has its encoding from that epoch's test evaluation (when that is
        over the same images): one pass over the test split fewer (3 % of a one-epoch MNIST run on
        two cores)."""
        if self._snapshot is None:
            raise ValueError("this reporter was made without a snapshot function")
        reuse = self._epoch_encoding is not None and self._epoch_encoding[0] == step
        return self._snapshot(step, self._epoch_encoding[1] if reuse else None)

    def send_snapshot(self, step: int) -> None:
        if self._snapshot is None:
            return
        self.snapshot_taken.clear()
        self._snapshot_step = step
        start = time.perf_counter()
        snapshot = self._snapshot(step, None)
        self._snapshot_made_at = time.perf_counter()
        self._snapshot_seconds = self._snapshot_made_at - start
        self.send(snapshot)
