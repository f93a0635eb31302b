"""Opening the checkpoint a command names."""

from __future__ import annotations

from pathlib import Path

from ..core.checkpoint import load_checkpoint
from ..core.device import resolve_device
from ..core.trained_model import TrainedModel


def load_model(path: Path, device: str) -> TrainedModel:
    return load_checkpoint(path, device=resolve_device(device))
