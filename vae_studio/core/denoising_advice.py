"""Why a model trained on clean images does not denoise, and the training that would.

An autoencoder trained on clean images has only learnt to reproduce clean digits: given a noisy one,
it encodes the noise too and decodes the nearest code it knows, often a grey average digit, so the
PSNR against the clean image barely rises or falls. A denoising autoencoder (Vincent et al. 2008,
"Extracting and composing robust features with denoising autoencoders") is trained on corrupted
inputs with clean targets, and learns the mapping back.
"""

from __future__ import annotations

import math
from typing import Any

from .config import ModelConfig, TrainConfig

# A mean PSNR gain below this (dB: the squared error not even halved) is small. Measured on 500 MNIST
# test images with Gaussian noise at 0.5: a 2-D VAE trained on clean images gains 1.6 dB, one trained
# on that noise (z = 8, 5 epochs of 20,000 images) 6.1 dB.
SMALL_GAIN_DB = 3.0


def clean_model_explanation(train_corruption: str, psnr_before: float, psnr_after: float) -> str | None:
    """The sentence that explains a clean-trained model's denoising result (mean PSNR of the corrupted
    inputs and of the reconstructions, dB), or None when the model was trained to denoise or the
    gain is clear."""
    gain = psnr_after - psnr_before
    if train_corruption != "none" or not math.isfinite(gain) or gain >= SMALL_GAIN_DB:
        return None
    change = f"falls by {-gain:.1f} dB" if gain < 0 else f"rises by only {gain:.1f} dB"
    return (
        f"Trained on clean images only, this model never learnt to remove noise: it turns a noisy digit into the "
        f"nearest picture it knows, often a grey blur, and the PSNR {change}. A denoising VAE learns from noisy "
        "inputs with clean targets."
    )


def denoising_training_settings(
    model: ModelConfig, train: TrainConfig, corruption: str, level: float
) -> dict[str, Any]:
    """Training settings for a denoising VAE to compare with the model shown: the same architecture,
    latent size, β and length of training, with the corruption (and level) being looked at. Keys are
    ModelConfig / TrainConfig fields, as in core.guided_lab; a training subset is left as it is when
    the model used all images."""
    TrainConfig(corruption=corruption, noise_level=level)  # a corruption the trainer accepts (ConfigError if not)
    settings: dict[str, Any] = {
        "kind": "vae",
        "arch": model.arch,
        "latent_dim": model.latent_dim,
        "beta": train.beta,
        "epochs": train.epochs,
        "corruption": corruption,
        "noise_level": level,
    }
    if train.train_subset is not None:
        settings["train_subset"] = train.train_subset
    return settings
