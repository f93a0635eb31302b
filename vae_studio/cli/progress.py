"""How the command line shows long work: the trainer's callbacks as a progress line, and a
progress callback for per-image work (the window turns the same callbacks into signals)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, TextIO

from ..core.text import format_duration

if TYPE_CHECKING:
    from ..core.run_control import EpochReport, StepReport


class ProgressPrinter:
    """Prints step reports as one self-overwriting line and epoch reports as lines of their own."""

    def __init__(self, stream: TextIO, epochs: int, interval_s: float = 0.1) -> None:
        self.stream = stream
        self.epochs = epochs
        self.interval_s = interval_s
        self._last = 0.0
        self._interactive = stream.isatty()

    def step(self, r: StepReport) -> None:
        now = time.perf_counter()
        if now - self._last < self.interval_s and r.step != r.total_steps:
            return
        self._last = now
        done = r.step / r.total_steps
        bar = "#" * int(done * 20)
        line = (
            f"epoch {r.epoch} [{bar:<20}] {done:4.0%} {r.samples_per_s:8.0f} samples/s "
            f"loss {r.loss:8.2f} (recon {r.recon:7.2f}, kl {r.kl:6.2f}, beta {r.beta:.2f}) "
            f"ETA {format_duration(r.eta_s)}"
        )
        if self._interactive:
            self.stream.write("\r" + line)
            self.stream.flush()

    def epoch(self, r: EpochReport) -> None:
        if self._interactive:
            self.stream.write("\r\x1b[K")
        self.stream.write(
            f"epoch {r.epoch}: train loss {r.train_loss:.2f}, test loss {r.test.loss:.2f} "
            f"(recon {r.test.recon:.2f} + KL {r.test.kl:.2f}) nats/image, {r.seconds:.1f} s\n"
        )
        self.stream.flush()


class ImageProgress:
    """A progress callback for long per-image work: one self-overwriting line on a terminal,
    a line every 10% otherwise, with images/s and the time left."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self._start = time.perf_counter()
        self._last = 0.0
        self._last_tenth = -1
        self._interactive = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        elapsed = now - self._start
        eta = elapsed / done * (total - done) if done else math.inf
        rate = done / max(elapsed, 1e-9)
        line = f"{self.label}: {done}/{total} images, {rate:.1f} images/s, ETA {format_duration(eta)}"
        if self._interactive:
            if now - self._last >= 0.2 or done == total:
                self._last = now
                self.stream.write("\r\x1b[K" + line + ("\n" if done == total else ""))
                self.stream.flush()
        elif done * 10 // total > self._last_tenth:
            self._last_tenth = done * 10 // total
            self.stream.write(line + "\n")
            self.stream.flush()


class ScanProgress:
    """Counts files while a folder data set is listed: one self-overwriting line on a terminal,
    a line every 10,000 files otherwise."""

    def __init__(self, stream: TextIO, label: str = "scanning the folder") -> None:
        self.stream = stream
        self.label = label
        self._interactive = stream.isatty()

    def __call__(self, count: int) -> None:
        if self._interactive:
            self.stream.write(f"\r\x1b[K{self.label}: {count:,} files")
        elif count % 10_000 == 0:
            self.stream.write(f"{self.label}: {count:,} files\n")
        self.stream.flush()
