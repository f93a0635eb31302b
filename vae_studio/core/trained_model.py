"""A trained model together with what it was trained on: what the session lists and checkpoints hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import ModelConfig, TrainConfig
from .history import History
from .models import AE


@dataclass
class TrainedModel:
    model: AE
    train_config: TrainConfig
    class_names: tuple[str, ...] = ()
    history: History = field(default_factory=History)
    name: str = "model"
    path: Path | None = None
    # True until the model is saved or when it was loaded and then changed (trained further, renamed).
    unsaved: bool = True

    @property
    def config(self) -> ModelConfig:
        return self.model.config

    def describe(self) -> str:
        """A one-line summary such as ``VAE mlp z=2 on mnist, 10 epochs``."""
        c = self.config
        epochs = self.history.epochs
        unit = "epoch" if epochs == 1 else "epochs"
        return f"{c.kind.upper()} {c.arch} z={c.latent_dim} on {self.train_config.dataset}, {epochs} {unit}"
