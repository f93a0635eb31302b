"""The in-memory image data set every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

# The fields holding one entry per image of a split: a subset of the split takes the same rows of each.
PER_IMAGE_FIELDS = ("images", "labels", "factors")


@dataclass(frozen=True)
class ImageDataset:
    """Images as uint8 tensors of shape (N, C, H, W), kept in memory.

    Training takes batches by indexing these tensors, so no per-image Python
    transform runs in the training loop. Labels are int64 tensors of shape (N,)
    or None for unlabelled data. ``train_factors``/``test_factors`` hold known
    generative factors (float32, shape (N, len(factor_names))) for synthetic
    data such as ``shapes``; None otherwise.
    """

    name: str
    train_images: torch.Tensor
    test_images: torch.Tensor
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    factor_names: tuple[str, ...] = ()
    train_factors: torch.Tensor | None = None
    test_factors: torch.Tensor | None = None
    skipped_files: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def image_shape(self) -> tuple[int, int, int]:
        images = self.train_images if len(self.train_images) else self.test_images
        c, h, w = images.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def labelled(self) -> bool:
        return self.train_labels is not None and self.num_classes > 0

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images and labels of the ``"train"`` or ``"test"`` split."""
        if name == "train":
            return self.train_images, self.train_labels
        if name == "test":
            return self.test_images, self.test_labels
        raise ValueError(f"unknown split {name!r}; expected 'train' or 'test'")

    def take(self, train: torch.Tensor | None = None, test: torch.Tensor | None = None) -> ImageDataset:
        """The data set with only the rows ``train`` (indices or a mask) of the training split and ``test``
        of the test split, each image with its label and factors; None keeps a split whole."""
        changes = {}
        for split, rows in (("train", train), ("test", test)):
            for kind in PER_IMAGE_FIELDS if rows is not None else ():
                values = getattr(self, f"{split}_{kind}")
                changes[f"{split}_{kind}"] = None if values is None else values[rows]
        return replace(self, **changes)
