"""Turning raw arrays from any source into an :class:`ImageDataset`.

The IDX reader, the torchvision downloads and the public ``load_dataset`` share
these steps, so label numbering, hold-out splits and resizing behave the same
whatever the data came from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.errors import DataError

#: Fraction of the examples used as the test split when a source has no test split.
TEST_FRACTION = 1 / 6


def image_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images of shape (N, H, W) as a contiguous (N, 1, H, W) tensor."""
    tensor = torch.as_tensor(images)
    return tensor.reshape(tensor.shape[0], 1, *tensor.shape[1:]).contiguous()


def contiguous_labels(
    train_labels: np.ndarray | torch.Tensor,
    test_labels: np.ndarray | torch.Tensor,
    label_names: Mapping[int, str] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """Renumber label values to 0..K-1 over both splits; returns the new labels and class names.

    Sources number classes from 1 (EMNIST letters) or leave gaps; models and plots
    need class indices that are dense and start at 0. A value's class name is
    ``label_names[value]`` when given, else the value itself as text.
    """
    train = torch.as_tensor(train_labels).to(torch.int64)
    test = torch.as_tensor(test_labels).to(torch.int64)
    values = torch.unique(torch.cat([train, test]))  # sorted
    names = tuple(
        label_names.get(int(v), str(int(v))) if label_names is not None else str(int(v)) for v in values
    )
    return torch.searchsorted(values, train), torch.searchsorted(values, test), names


def held_out_count(count: int) -> int:
    """How many of ``count`` examples go to a test split made by holding out TEST_FRACTION (rounded half up)."""
    return int(count * TEST_FRACTION + 0.5)


def ensure_splits(dataset: ImageDataset) -> ImageDataset:
    """The data set with training images and a test split: without test images, the last
    TEST_FRACTION of the training images (at least one) is held out, with a note saying so.
    Raises DataError when there are no training images (or only one, which cannot be split)."""
    count = len(dataset.train_images)
    if count == 0:
        raise DataError(f"The data set {dataset.name!r} has no training images.")
    if len(dataset.test_images):
        return dataset
    if count < 2:
        raise DataError(f"The data set {dataset.name!r} has one image and no test images; it needs at least two.")
    cut = count - max(1, held_out_count(count))

    def part(tensor: torch.Tensor | None, test: bool) -> torch.Tensor | None:
        return None if tensor is None else tensor[cut:] if test else tensor[:cut]

    return dataclasses.replace(
        dataset,
        train_images=dataset.train_images[:cut],
        test_images=dataset.train_images[cut:],
        train_labels=part(dataset.train_labels, False),
        test_labels=part(dataset.train_labels, True),
        train_factors=part(dataset.train_factors, False),
        test_factors=part(dataset.train_factors, True),
        notes=dataset.notes
        + (
            f"It has no test images: the last {count - cut} of its {count} training images "
            "are held out as the test split.",
        ),
    )


def labelled_dataset(
    name: str,
    train_images: np.ndarray | torch.Tensor,
    train_labels: np.ndarray | torch.Tensor,
    test_images: np.ndarray | torch.Tensor,
    test_labels: np.ndarray | torch.Tensor,
    label_names: Mapping[int, str] | None = None,
    notes: tuple[str, ...] = (),
) -> ImageDataset:
    """An ImageDataset from (N, H, W) uint8 images and raw label values of both splits."""
    train_y, test_y, class_names = contiguous_labels(train_labels, test_labels, label_names)
    return ImageDataset(
        name=name,
        train_images=image_tensor(train_images),
        test_images=image_tensor(test_images),
        train_labels=train_y,
        test_labels=test_y,
        class_names=class_names,
        notes=notes,
    )


def _resize(images: torch.Tensor, image_size: int) -> torch.Tensor:
    # Resize in chunks: a float copy of a whole 60,000-image set at 64x64 would need ~1 GB.
    out = torch.empty((images.shape[0], images.shape[1], image_size, image_size), dtype=torch.uint8)
    for start in range(0, images.shape[0], 4096):
        chunk = images[start : start + 4096].float()
        resized = F.interpolate(chunk, size=(image_size, image_size), mode="bilinear", antialias=True)
        out[start : start + 4096] = resized.round_().clamp_(0, 255).to(torch.uint8)
    return out


def conform(dataset: ImageDataset, image_size: int, channels: int) -> ImageDataset:
    """The data set resized to ``image_size`` square pixels with ``channels`` channels.

    Returns ``dataset`` itself when it already matches. Grayscale becomes RGB by
    repeating the channel; RGB becomes grayscale with the ITU-R 601 luma weights
    (the ones Pillow's ``convert("L")`` uses).
    """
    c, h, w = dataset.image_shape
    if (c, h, w) == (channels, image_size, image_size):
        return dataset

    def convert(images: torch.Tensor) -> torch.Tensor:
        if images.shape[2:] != (image_size, image_size):
            images = _resize(images, image_size)
        if images.shape[1] == 1 and channels == 3:
            images = images.expand(-1, 3, -1, -1).contiguous()
        elif images.shape[1] == 3 and channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            images = (images.float() * weights).sum(1, keepdim=True).round_().to(torch.uint8)
        return images

    note = f"Converted from {c}x{h}x{w} to {channels}x{image_size}x{image_size}."
    return dataclasses.replace(
        dataset,
        train_images=convert(dataset.train_images),
        test_images=convert(dataset.test_images),
        notes=dataset.notes + (note,),
    )
