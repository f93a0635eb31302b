"""How a training run is steered and what it reports: the stop/pause flags shared between threads,
the per-step and per-epoch reports handed to callbacks, and the run's result. Qt-free, like the
trainer that uses them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .metrics import LossSummary


class RunControl:
    """Stop and pause flags shared between the thread that trains and the one that steers it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        self._running.wait()


@dataclass(frozen=True)
class StepReport:
    step: int  # steps done in this run
    total_steps: int
    epoch: int  # 1-based epoch of the whole history
    loss: float
    recon: float
    kl: float
    beta: float
    samples_per_s: float
    eta_s: float


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    train_loss: float
    test: LossSummary
    seconds: float


Status = Literal["finished", "stopped", "diverged"]


@dataclass(frozen=True)
class TrainResult:
    status: Status
    message: str
    steps: int
    epochs: int


StepCallback = Callable[[StepReport], None]
EpochCallback = Callable[[EpochReport], None]
