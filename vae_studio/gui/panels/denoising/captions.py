"""Captions the denoising panel writes: PSNR figures, model names and how each model was trained."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ....core.trained_model import TrainedModel
from ....core.vocabulary import CORRUPTION_CHOICES, choice

NO_MODEL = "No model yet: train one or open a checkpoint."


def format_db(value: float, unit: bool = True) -> str:
    """A PSNR for a label: ``18.4 dB``, or ``∞ dB`` for an exact copy (``unit`` False: the number alone)."""
    text = "∞" if np.isinf(value) else f"{value:.1f}"
    return f"{text} dB" if unit else text


def model_labels(n: int) -> list[str]:
    """Column headers for the reconstructions: model names are too long for a thumbnail's width."""
    return ["reconstructed"] if n == 1 else [f"Model {chr(ord('A') + i)}" for i in range(n)]


def training_note(trained: TrainedModel) -> str:
    """How a model was trained, as far as denoising goes."""
    config = trained.train_config
    if config.corruption == "none":
        return "trained on clean images"
    return f"a denoising model, trained with {choice(CORRUPTION_CHOICES, config.corruption).in_sentence} at {config.noise_level:.2f}"


def models_legend(models: Sequence[TrainedModel]) -> str:
    """Which model each reconstruction column is, and how it was trained."""
    if len(models) == 1:
        return f"Reconstructed by “{models[0].name}”, {training_note(models[0])}."
    labels = model_labels(len(models))
    return " · ".join(f"{label}: “{m.name}”, {training_note(m)}" for label, m in zip(labels, models))
