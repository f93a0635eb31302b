"""Data sets for VAE Studio: one entry point, :func:`load_dataset`, for every source.

A data set spec is one of the built-in names in ``DATASET_CHOICES``,
``idx:PATH`` for a folder of MNIST-style IDX files, or ``folder:PATH`` for a
folder of ordinary image files. Every loader returns an :class:`ImageDataset`
of uint8 images, already resized to the requested size and channel count.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from vae_studio.core.data.build import conform, ensure_splits
from vae_studio.core.data.bundled import load_bundled, missing_files, resources_dir
from vae_studio.core.data.cache import cached_image_folder
from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.data.downloads import default_cache_dir, load_download
from vae_studio.core.data.folder import TooManyFilesError
from vae_studio.core.data.idx import load_idx_folder
from vae_studio.core.data.shapes import make_shapes
from vae_studio.core.errors import ConfigError, DataError
from vae_studio.core.vocabulary import DATASET_CHOICES, parse_spec

__all__ = [
    "DATASET_CHOICES",
    "SPEC_PREFIXES",
    "ImageDataset",
    "TooManyFilesError",
    "load_dataset",
    "parse_class_list",
    "select_classes",
]

MIN_IMAGE_SIZE = 8
# Guards parse_class_list against a typo such as "0-99999999" building a huge list.
MAX_CLASS_INDEX = 9999


@functools.lru_cache(maxsize=8)
def _load_builtin(
    name: str, image_size: int, channels: int, seed: int, resources: Path | None, cache_dir: Path | None
) -> ImageDataset:
    # Every argument that changes the result is part of the cache key, including the
    # resolved resources and cache folders (environment variables can change them).
    if name == "shapes":
        dataset = make_shapes(image_size=image_size, seed=seed)
    elif name == "mnist" or (name == "fashion-mnist" and not missing_files(name, resources)):
        dataset = load_bundled(name, resources)
    else:
        dataset = load_download(name, cache_dir)
    return conform(dataset, image_size, channels)


def load_dataset(
    spec: str,
    *,
    image_size: int = 28,
    channels: int = 1,
    seed: int = 0,
    cache_dir: Path | None = None,
    max_files: int | None = None,
    scan_progress: Callable[[int], None] | None = None,
) -> ImageDataset:
    """Load the data set named by ``spec`` with images of ``channels`` x ``image_size`` x ``image_size``.

    ``seed`` fixes the shapes generator and the train/test split of image
    folders; ``cache_dir`` is where downloadable sets are stored (default: see
    :func:`~vae_studio.core.data.downloads.default_cache_dir`). Built-in sets are
    kept in memory after the first load, so callers must not modify the
    returned tensors in place. ``max_files`` and ``scan_progress`` apply to
    ``folder:`` specs (see :func:`~vae_studio.core.data.folder.load_image_folder`).
    Raises DataError (bad spec, unreadable data, no training images) or
    ConfigError (size or channels out of range).
    """
    if channels not in (1, 3):
        raise ConfigError(f"Images can have 1 (grayscale) or 3 (RGB) channels, not {channels}.")
    if image_size < MIN_IMAGE_SIZE:
        raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels, got {image_size}.")
    spec = spec.strip()
    kind, path = parse_spec(spec)
    if kind in ("idx", "folder"):
        if not path:
            raise DataError(f"The data set spec {spec!r} needs a folder path after '{spec.partition(':')[0]}:'.")
        if kind == "idx":
            dataset = conform(load_idx_folder(Path(path)), image_size, channels)
        else:
            dataset = cached_image_folder(
                Path(path),
                image_size,
                channels,
                seed,
                cache_dir,
                max_files=max_files,
                scan_progress=scan_progress,
            )
        # The name is the spec itself, so a checkpoint's TrainConfig.dataset reloads the same data.
        return ensure_splits(dataclasses.replace(dataset, name=spec))

    name = spec.lower()
    if name not in DATASET_CHOICES:
        raise DataError(
            f"Unknown data set {spec!r}. Choose one of {', '.join(DATASET_CHOICES)}, "
            "or idx:PATH for a folder of IDX files, or folder:PATH for a folder of images."
        )
    if name == "shapes":
        # Only the generator uses the seed; the folders do not matter to it.
        return _load_builtin(name, image_size, channels, seed, None, None)
    resources = resources_dir() if name in ("mnist", "fashion-mnist") else None
    cache = None if name == "mnist" else Path(cache_dir or default_cache_dir())
    return _load_builtin(name, image_size, channels, 0, resources, cache)


def select_classes(dataset: ImageDataset, classes: Sequence[int], keep_labels: bool = True) -> ImageDataset:
    """The examples of ``classes`` only, in both splits (e.g. to train an anomaly detector on normal classes).

    With ``keep_labels`` the labels keep their original numbers and
    ``class_names`` is unchanged, so results still compare with the full data
    set; otherwise the chosen classes are renumbered 0..k-1 in ascending order
    and ``class_names`` lists only them.
    """
    if not dataset.labelled:
        raise DataError(f"The data set {dataset.name!r} has no labels, so classes cannot be selected.")
    wanted = sorted(set(int(c) for c in classes))
    if not wanted:
        raise DataError("Select at least one class.")
    invalid = [c for c in wanted if not 0 <= c < dataset.num_classes]
    if invalid:
        raise DataError(
            f"The data set {dataset.name!r} has classes 0-{dataset.num_classes - 1}; "
            f"there is no class {', '.join(map(str, invalid))}."
        )
    wanted_tensor = torch.tensor(wanted)
    renumber = torch.full((dataset.num_classes,), -1, dtype=torch.int64)
    renumber[wanted_tensor] = torch.arange(len(wanted))

    selected = dataset.take(
        train=torch.isin(dataset.train_labels, wanted_tensor), test=torch.isin(dataset.test_labels, wanted_tensor)
    )
    if not keep_labels:
        selected = dataclasses.replace(
            selected,
            train_labels=renumber[selected.train_labels],
            test_labels=renumber[selected.test_labels],
            class_names=tuple(dataset.class_names[c] for c in wanted),
        )
    chosen = ", ".join(dataset.class_names[c] for c in wanted)
    notes = dataset.notes + (f"Only classes {chosen} ({len(wanted)} of {dataset.num_classes}).",)
    return ensure_splits(dataclasses.replace(selected, notes=notes))


def parse_class_list(text: str) -> list[int]:
    """Class indices from text such as ``"0-8"``, ``"0,2,5"`` or ``"1-3,7"``: sorted, without repeats."""
    values: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", part)
        if match is None:
            raise DataError(
                f"Cannot read the class list {text!r}: use class numbers and ranges such as 0-8, 0,2,5 or 1-3,7."
            )
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise DataError(f"The class range {part.strip()!r} in {text!r} runs backwards; write it as {high}-{low}.")
        if high > MAX_CLASS_INDEX:
            raise DataError(f"Class number {high} in {text!r} is too large (at most {MAX_CLASS_INDEX}).")
        values.update(range(low, high + 1))
    return sorted(values)


def format_class_list(classes: list[int]) -> str:
    """The inverse of :func:`parse_class_list`: [0, 1, 2, 5] -> ``"0-2,5"`` (sorted, runs as ranges)."""
    parts: list[str] = []
    values = sorted(set(classes))
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            first, last = values[start], values[i - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = i
    return ",".join(parts)
