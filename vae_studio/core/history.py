"""Per-step and per-epoch loss history, kept by the trainer and saved in checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class History:
    """Loss terms in nats per image. Step lists grow together, epoch lists grow together."""

    step_loss: list[float] = field(default_factory=list)
    step_recon: list[float] = field(default_factory=list)
    step_kl: list[float] = field(default_factory=list)
    epoch_train_loss: list[float] = field(default_factory=list)
    epoch_test_loss: list[float] = field(default_factory=list)
    epoch_test_recon: list[float] = field(default_factory=list)
    epoch_test_kl: list[float] = field(default_factory=list)
    # The step count when each epoch ended, so curves can mark the test loss at the right step
    # even when a stopped run's last epoch is incomplete (floats, like every list read back).
    epoch_end_step: list[float] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.step_loss)

    @property
    def epochs(self) -> int:
        return len(self.epoch_test_loss)

    def extend_steps(self, loss: Sequence[float], recon: Sequence[float], kl: Sequence[float]) -> None:
        """Append the losses of consecutive steps (the three step lists grow together)."""
        if not len(loss) == len(recon) == len(kl):
            raise ValueError("loss, recon and kl must have one value per step each")
        self.step_loss.extend(float(v) for v in loss)
        self.step_recon.extend(float(v) for v in recon)
        self.step_kl.extend(float(v) for v in kl)

    def append_epoch(
        self, train_loss: float, test_loss: float, test_recon: float, test_kl: float, end_step: float
    ) -> None:
        """Record an epoch's figures (the epoch lists grow together); ``end_step``: steps done when it ended."""
        self.epoch_train_loss.append(float(train_loss))
        self.epoch_test_loss.append(float(test_loss))
        self.epoch_test_recon.append(float(test_recon))
        self.epoch_test_kl.append(float(test_kl))
        self.epoch_end_step.append(float(end_step))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f.name: np.asarray(getattr(self, f.name), dtype=np.float64) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> History:
        names = {f.name for f in fields(cls)}
        return cls(**{k: [float(v) for v in np.asarray(a).ravel()] for k, a in arrays.items() if k in names})
