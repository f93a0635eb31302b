"""Attribute vectors: a latent direction for each yes/no attribute listed in a table beside the images.

The table has CelebA's ``list_attr_celeba.txt`` layout: a line with the number of images, a line of
attribute names, then one line per image, ``file v1 v2 ...`` with -1/1 (or 0/1) per attribute. An
attribute's direction is the mean posterior mean of the images that have it minus that of the images
that do not (White 2016, "Sampling generative networks", sec. 3.2; Larsen et al. 2016 use the same
for "smiling"): added to any code it adds the attribute, by :func:`~.interpolation.latent_arithmetic`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data.folder import _read_image
from .errors import DataError
from .interpolation import Arithmetic, latent_arithmetic
from .latent import encode
from .models import AE
from .vocabulary import parse_spec

# The names a table beside the images may have, first match wins.
TABLE_NAMES: tuple[str, ...] = ("list_attr_celeba.txt", "attributes.txt")
# Means over this many images are steady to a few hundredths of a unit; more only costs time.
DEFAULT_MAX_IMAGES = 2000


@dataclass(frozen=True)
class AttributeTable:
    """Which listed image (by file name) has which attribute."""

    names: tuple[str, ...]
    files: tuple[str, ...]
    values: np.ndarray  # bool, (len(files), len(names))

    def column(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise DataError(f"No attribute {name!r} in the table; it lists {', '.join(self.names)}.")
        return self.values[:, self.names.index(name)]


def find_table(folder: str | os.PathLike[str]) -> Path | None:
    """The attribute table beside the images in ``folder``, or None."""
    for name in TABLE_NAMES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def folder_attribute_table(spec: str) -> tuple[Path, AttributeTable] | None:
    """The folder of a ``folder:PATH`` data set spec and the attribute table beside its images, or None
    for another kind of data set or a folder without a table; a malformed table is a DataError."""
    kind, path = parse_spec(spec)
    if kind != "folder" or not path:
        return None
    folder = Path(path).expanduser()
    table_path = find_table(folder)
    return None if table_path is None else (folder, read_table(table_path))


def read_table(path: str | os.PathLike[str]) -> AttributeTable:
    """Parse a table in the ``list_attr_celeba.txt`` layout; any malformed line is a DataError naming it."""
    path = Path(path)
    try:
        lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read the attribute table {path}: {exc}") from exc
    if len(lines) < 3 or len(lines[0]) != 1 or not lines[0][0].isdigit():
        raise DataError(
            f"{path} is not an attribute table: expected a line with the image count, a line of attribute "
            "names, then one line per image (file name and -1/1 or 0/1 values), as CelebA's list_attr_celeba.txt"
        )
    names = tuple(lines[1])
    files, rows = [], []
    for number, fields in enumerate(lines[2:], start=3):
        values = fields[1:]
        if len(values) != len(names) or any(v not in ("-1", "0", "1") for v in values):
            raise DataError(
                f"{path}, line {number}: expected a file name and {len(names)} values of -1/1 or 0/1, "
                f"got {' '.join(fields)[:80]!r}"
            )
        files.append(fields[0])
        rows.append([v == "1" for v in values])
    return AttributeTable(names, tuple(files), np.array(rows, dtype=bool))


@dataclass(frozen=True)
class AttributeVectors:
    """Per attribute, the mean code of the images with it and of those without (both (d,))."""

    with_mean: dict[str, np.ndarray]
    without_mean: dict[str, np.ndarray]
    images: int  # how many images the means are taken over

    def direction(self, name: str) -> np.ndarray:
        if name not in self.with_mean:
            raise DataError(
                f"The attribute {name!r} has no direction: among the {self.images} images used, it is "
                "present in all or in none."
            )
        return self.with_mean[name] - self.without_mean[name]


def table_images(
    folder: str | os.PathLike[str], table: AttributeTable, image_size: int, channels: int,
    max_images: int = DEFAULT_MAX_IMAGES, seed: int = 0,
) -> tuple[torch.Tensor, np.ndarray]:
    """Up to ``max_images`` listed images (a seeded random choice), as uint8 (N, C, H, W), and their rows."""
    folder = Path(folder)
    # The files may lie beside the table or in a subfolder (CelebA's img_align_celeba/): find them by name.
    located = {p.name: p for p in folder.rglob("*") if p.is_file()}
    present = [i for i, name in enumerate(table.files) if name in located]
    if not present:
        raise DataError(f"None of the {len(table.files)} images the attribute table lists is under {folder}.")
    chosen = np.sort(np.random.default_rng(seed).permutation(present)[:max_images])
    arrays, rows = [], []
    for i in chosen:
        array = _read_image(located[table.files[i]], image_size, channels)
        if array is not None:
            arrays.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
            rows.append(i)
    if not arrays:
        raise DataError(f"None of the images the attribute table lists under {folder} could be read.")
    return torch.from_numpy(np.stack(arrays)), table.values[rows]


def attribute_vectors(model: AE, images: torch.Tensor, values: np.ndarray, names: tuple[str, ...]) -> AttributeVectors:
    """Encode ``images`` and average the codes with and without each attribute (columns of ``values``)."""
    mu = encode(model, images).mu.astype(np.float64)
    with_mean, without_mean = {}, {}
    for k, name in enumerate(names):
        has = values[:, k]
        if has.any() and not has.all():
            with_mean[name], without_mean[name] = mu[has].mean(axis=0), mu[~has].mean(axis=0)
    return AttributeVectors(with_mean, without_mean, len(mu))


def add_attribute(
    model: AE,
    vectors: AttributeVectors,
    name: str,
    base: np.ndarray,
    strengths: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5),
) -> Arithmetic:
    """Decode ``base + s * direction(name)`` for each strength s (negative strengths take it away)."""
    vectors.direction(name)  # a clear error when the attribute has no direction
    return latent_arithmetic(model, base, vectors.without_mean[name], vectors.with_mean[name], strengths)


def fetch_celeba(root: str | os.PathLike[str]) -> Path:
    """Download CelebA's aligned faces and attribute table with torchvision into ``root``; returns the
    folder to train on (``folder:<it>``) that holds both. Offline, a DataError says what to put where."""
    import torchvision.datasets  # imported here: it slows start-up and only this download needs it

    root = Path(root).expanduser()
    folder = root / "celeba"
    try:
        torchvision.datasets.CelebA(str(root), split="all", target_type="attr", download=True)
    # Offline torchvision raises URLError (an OSError) or RuntimeError; Google Drive's quota a
    # RuntimeError or a bad zip (zipfile.BadZipFile is an Exception subclass of its own).
    except Exception as exc:  # noqa: BLE001
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(
            f"Could not download CelebA: {reason}\n"
            f"To use it offline, put the aligned faces (the folder img_align_celeba/ from img_align_celeba.zip) and "
            f"list_attr_celeba.txt from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html into {folder}, then train "
            f"with --dataset folder:{folder} --channels 3 --image-size 64 --arch conv"
        ) from exc
    return folder
