"""Turning stored uint8 images into the float batches models see."""

from __future__ import annotations

import torch

# Test images are binarised once with this fixed seed, so every evaluation of a
# binarised model sees the same test set (the usual protocol for binarised MNIST).
TEST_BINARIZE_SEED = 20140101


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] -> float32 in [0, 1]."""
    return images.float().div_(255.0)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Stochastic binarisation: each pixel is 1 with probability equal to its grey level."""
    return torch.bernoulli(x, generator=generator)


def fixed_binarization(images: torch.Tensor, seed: int = TEST_BINARIZE_SEED) -> torch.Tensor:
    """One stochastic binarisation of a whole uint8 set, reproducible from ``seed``."""
    generator = torch.Generator(device=images.device).manual_seed(seed)
    return binarize(to_float(images), generator)


def evaluation_images(images: torch.Tensor, binarize_mode: str) -> torch.Tensor:
    """Float images as a model trained with ``binarize_mode`` is evaluated on them."""
    return to_float(images) if binarize_mode == "none" else fixed_binarization(images)
