"""The worker side of a training run: it trains its own copy of the model and reports plain copies.

The GUI thread never trains or encodes: it receives core/training_report.py's messages (step
figures four times a second, each epoch's test loss, and a snapshot of weights and encoding
every "map refresh" steps, never before the previous one was shown) and applies them to the GUI
copy of the model, which the other panels show through AppState.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from ....core.config import TrainConfig
from ....core.data import ImageDataset
from ....core.device import resolve_device
from ....core.models import AE
from ....core.recipe import training_data
from ....core.threads import ThreadGovernor
from ....core.trained_model import TrainedModel
from ....core.run_control import Status
from ....core.trainer import Trainer
from ....core.training_report import Snapshot, TrainingReporter, take_snapshot
from ...work.gc_pauses import import_torch_optimisers
from ...work.tasks import TaskState

# A run's first step waits (at most this long) until the window has shown the untrained model's map.
# Shown while the run started, that first showing (the map fitted and drawn anew, 30-40 ms of the GUI
# thread) competed with the training thread's first steps for the cores and the interpreter, and held
# the window up for 40-60 ms; shown first, 20-43 ms, for no slower runs (benchmarks/gui_responsiveness.py,
# docs/PERFORMANCE.md §3).
FIRST_MAP_WAIT_S = 1.0


@dataclass(frozen=True)
class RunOutcome:
    """The task's result. ``final`` holds the weights kept: after divergence, the last good ones."""

    status: Status
    message: str
    steps: int
    epochs: int
    final: Snapshot


class TrainingJob:
    """The task the worker thread runs: it trains its own model; a core TrainingReporter reports.

    The GUI thread may change ``reporter.refresh_steps`` at any time and sets
    ``reporter.snapshot_taken`` once it has shown a snapshot (painted it); the first step waits for
    the first one (FIRST_MAP_WAIT_S).
    """

    def __init__(
        self,
        model: AE,
        config: TrainConfig,
        test_images: torch.Tensor,
        test_labels: torch.Tensor | None,
        refresh_steps: int,
    ) -> None:
        self.model = model
        self.config = config
        self._test_images = test_images
        self._task: TaskState | None = None
        self.reporter = TrainingReporter(
            self._send,
            batch_size=config.batch_size,
            epochs=config.epochs,
            refresh_steps=refresh_steps,
            snapshot=lambda step, encoding: take_snapshot(model, step, test_images, test_labels, encoding),
        )

    def _send(self, message: object) -> None:
        assert self._task is not None
        self._task.report(message, force=True)  # the reporter throttles itself

    def __call__(self, task: TaskState) -> RunOutcome:
        self._task = task
        import_torch_optimisers()
        dataset = training_data(self.config)
        # A run on some classes evaluates on their test images only, not on the map's whole split.
        self.reporter.evaluation_is_on_snapshot_images = torch.equal(dataset.test_images, self._test_images)
        trainer = Trainer(self.model, dataset, self.config, control=task.control, device=resolve_device(self.config.device))
        self.reporter.attach(trainer)
        trainer.on_step(ThreadGovernor().on_step)  # fewer threads while another program takes a core
        self.model.to(trainer.device)
        self.reporter.start(wait_shown_s=FIRST_MAP_WAIT_S)
        result = trainer.run()
        self.reporter.flush()
        final = self.reporter.snapshot(result.steps)
        return RunOutcome(result.status, result.message, result.steps, result.epochs, final)


@dataclass
class Run:
    """The GUI thread's record of the run in progress."""

    trained: TrainedModel  # the GUI copy, shown by the other panels
    job: TrainingJob
    dataset: ImageDataset  # the data set whose test split the snapshots encode
    started: float = field(default_factory=time.perf_counter)
    fraction: float = 0.0
    progress_text: str = "starting…"
    stopping: bool = False
