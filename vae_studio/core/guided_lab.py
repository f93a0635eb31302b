"""The guided lab: the seeds' story of VAEs as a short walk through the studio's panels.

Each step names the panel to bring on screen, the settings to put in front of the student, and
says in a sentence or two what to look at. The script is plain data (no Qt), so it is tested
here and any front end can play it (gui/guided_lab.py drives the window).

Settings are given per panel, keyed by the names the core already uses: the training panel's
keys are ModelConfig and TrainConfig fields, so a model trained with them is one the command
line trains with the same flags (`vae-studio train --model vae --latent-dim 2 ...`).

Sizes are chosen so a teacher runs the whole lab in about a quarter of an hour on a 2-core
laptop: the trainings are a few epochs on a subset of MNIST (a 2-D VAE's map has formed after
about 100,000 images seen), and the AE-vs-VAE step uses the comparison panel's own defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .config import ModelConfig, TrainConfig

# Every panel of the window, by the name MainWindow.show_panel takes (its objectName less "Panel").
PANEL_NAMES: tuple[str, ...] = (
    "training", "loss", "preview", "models", "latentMap", "interpolation", "comparison",
    "generation", "traversal", "replay", "denoising", "anomaly", "evaluate",
)  # fmt: skip

# The training settings every lab model shares: MNIST's bundled copy, an MLP, clean images, beta 1,
# 5 epochs of 20,000 images (about 100,000 images seen: the map's classes have separated).
_TRAINING = {
    "kind": "vae",
    "arch": "mlp",
    "latent_dim": 2,
    "beta": 1.0,
    "corruption": "none",
    "epochs": 5,
    "train_subset": 20_000,
}


def _frozen(settings: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({panel: MappingProxyType(dict(values)) for panel, values in settings.items()})


@dataclass(frozen=True)
class LabStep:
    """One step: a title, what to look at (one or two sentences), the panel to show and the settings
    to apply before it, as ``{panel name: {setting: value}}`` (empty: the panel as it is)."""

    title: str
    text: str
    panel: str
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", _frozen(self.settings))


def training_configs(settings: Mapping[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configuration a step's training settings stand for (the others at their
    defaults); raises ConfigError for a bad value and TypeError for a key that is neither's field."""
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    model = {key: value for key, value in settings.items() if key in model_fields}
    train = {key: value for key, value in settings.items() if key not in model_fields}
    return ModelConfig(**model), TrainConfig(**train)


LAB_STEPS: tuple[LabStep, ...] = (
    LabStep(
        "Train a 2-D VAE and watch the map form",
        "Press Train. Each dot is one test image's code μ, coloured by its class: watch the classes "
        "separate into regions around the origin while the loss falls.",
        "latentMap",
        {"training": _TRAINING},
    ),
    LabStep(
        "Click the map: the decoder, μ and σ",
        "Click anywhere on the map: the preview decodes that point. Click a dot: the encoder gives a "
        "Gaussian, μ and σ, and samples z = μ + σ·ε (the reparameterisation trick) decode to variants of "
        "the same digit.",
        "preview",
    ),
    LabStep(
        "AE versus VAE: continuity and completeness",
        "Press Train and compare to fit a plain autoencoder and a VAE alike. The AE's samples from the prior "
        "decode to noise, the VAE's to digits (completeness), and a small step in its latent space changes "
        "the picture little (continuity).",
        "comparison",
    ),
    LabStep(
        "Interpolation: a straight path in latent space",
        "Set both ends to Class mean (say 1 and 7) and press Play: along the straight path between the two "
        "mean codes every frame is a plausible digit, morphing smoothly from one to the other.",
        "interpolation",
    ),
    LabStep(
        "Generation: sampling the prior",
        "Each picture decodes a random z from the prior N(0, I). The KL term pulled the codes onto the prior, "
        "so its samples look like the data; lower the temperature for typical digits, raise it for odd ones.",
        "generation",
    ),
    LabStep(
        "β and the balance with KL",
        "Train again with β = 4, then compare the loss curves: KL (right-hand axis) falls while the "
        "reconstruction term rises, and on the map the codes crowd the prior's circles and the digits blur.",
        "loss",
        {"training": {**_TRAINING, "beta": 4.0}},
    ),
    LabStep(
        "Denoising: learning to remove noise",
        "Press Train: the training panel is set for a VAE that learns from noisy inputs (Gaussian noise at 0.5) "
        "with clean targets. Then pick the first model under Compare with: the denoising VAE returns clean "
        "digits and gains several dB more PSNR than the model that only saw clean images.",
        "denoising",
        # The panel shows a denoising model on the corruption and level it was trained with.
        {"training": {**_TRAINING, "latent_dim": 8, "corruption": "gaussian", "noise_level": 0.5}},
    ),
    LabStep(
        "Anomaly detection: what the model has not seen",
        "Press Run: the MNIST model scores Fashion-MNIST's clothes. Images unlike its training data "
        "reconstruct worse, so their negative ELBO is higher; the ROC curve and its AUC say how well that "
        "separates them.",
        "anomaly",
        {"anomaly": {"outliers": "dataset", "outlier_dataset": "fashion-mnist", "score": "elbo"}},
    ),
)
