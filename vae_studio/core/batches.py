"""Turning stored uint8 images into the float batches models see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .models import AE

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


def image_tensor(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 images (N, C, H, W) given as a torch tensor or a numpy array, as a torch tensor."""
    tensor = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
    if tensor.dtype != torch.uint8 or tensor.ndim != 4:
        raise ValueError(f"expected uint8 images of shape (N, C, H, W); got {tensor.dtype} {tuple(tensor.shape)}")
    return tensor


@dataclass(frozen=True)
class EvaluationInputs:
    """Images as a model is evaluated on them, with what its batches need: device, labels, seeded noise."""

    images: torch.Tensor  # float, binarised as the model was trained (see evaluation_images)
    labels: torch.Tensor | None  # only for a conditional model
    device: torch.device
    dtype: torch.dtype
    generator: torch.Generator

    def batch(self, start: int, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images and labels ``start`` to ``start + size`` on the model's device."""
        x = self.images[start : start + size].to(device=self.device, dtype=self.dtype)
        y = None if self.labels is None else self.labels[start : start + size].to(self.device)
        return x, y


@contextmanager
def evaluating(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None,
    binarize_mode: str,
    seed: int,
) -> Iterator[EvaluationInputs]:
    """``model`` in eval mode for the block, its training mode restored after, and uint8 ``images``
    (with ``labels``, kept for a conditional model) as it is evaluated on them; the noise generator,
    on the model's device, is seeded with ``seed``."""
    was_training = model.training
    model.eval()
    try:
        device = model.device
        generator = torch.Generator(device=device).manual_seed(seed)
        x_all = evaluation_images(image_tensor(images), binarize_mode)
        labels_t = None if labels is None or not model.config.conditional else torch.as_tensor(labels)
        yield EvaluationInputs(x_all, labels_t, device, model.dtype, generator)
    finally:
        model.train(was_training)
