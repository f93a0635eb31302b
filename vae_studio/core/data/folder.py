"""Loading a folder of ordinary image files (PNG, JPEG, BMP, GIF, WebP, ...) as a data set."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vae_studio.core.data.build import held_out_count
from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.errors import ConfigError, DataError


def _visible(name: str) -> bool:
    # Hidden entries (.DS_Store, .git, ...) are system clutter, not skipped images.
    return not name.startswith(".")


class _Scan:
    """Lists the files under a folder, reporting the count as it goes and stopping past a limit."""

    def __init__(self, folder: Path, max_files: int | None, progress: Callable[[int], None] | None) -> None:
        self.folder, self.max_files, self.progress = folder, max_files, progress
        self.count = 0

    def add(self, path: Path) -> Path:
        self.count += 1
        if self.max_files is not None and self.count > self.max_files:
            raise TooManyFilesError(
                f"{self.folder} holds more than {self.max_files:,} files; it may not be the folder you meant. "
                "Choose a folder of images only, or allow more files (command line: --max-files).",
                self.max_files,
            )
        if self.progress is not None and self.count % 1000 == 0:
            self.progress(self.count)
        return path

    def files_under(self, root: Path) -> list[Path]:
        found = []
        for dirpath, dirnames, filenames in os.walk(root):  # does not follow links to folders: no loops
            dirnames[:] = [name for name in dirnames if _visible(name)]
            found += [self.add(Path(dirpath, name)) for name in filenames if _visible(name)]
        return sorted(found)


class TooManyFilesError(DataError):
    """An image folder holds more files than the caller allowed (``limit``)."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def _read_image(path: Path, image_size: int, channels: int) -> np.ndarray | None:
    """The image as a (size, size) or (size, size, 3) uint8 array, or None when unreadable."""
    mode = "L" if channels == 1 else "RGB"
    try:
        with Image.open(path) as image:
            image.draft(mode, (image_size, image_size))  # lets JPEG decode at reduced size
            if image.mode.startswith("I"):
                # 16-bit images (mode I;16 or I): Pillow's 8-bit conversion would clip
                # everything above 255 to white, so scale the 0-65535 range down instead.
                values = np.asarray(image, dtype=np.float32) / 257
                image = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent areas become black, the background of MNIST-style data.
                image = Image.alpha_composite(Image.new("RGBA", image.size, (0, 0, 0, 255)), image.convert("RGBA"))
            image = image.convert(mode).resize((image_size, image_size), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8)
    # Pillow's format plugins raise many exception types on malformed input (OSError,
    # SyntaxError, ValueError, struct.error, DecompressionBombError, ...); each one
    # just means this file is not an image we can use.
    except Exception:  # noqa: BLE001
        return None


def load_image_folder(
    path: str | Path,
    image_size: int = 28,
    channels: int = 1,
    seed: int = 0,
    *,
    max_files: int | None = None,
    scan_progress: Callable[[int], None] | None = None,
) -> ImageDataset:
    """Load every readable image under ``path``, resized to ``image_size`` square pixels.

    With subfolders, each subfolder (searched recursively) is a class named after
    it, classes in sorted order, and files lying directly in ``path`` are ignored;
    without subfolders the images are unlabelled. Images are converted to
    grayscale (``channels=1``) or RGB (3) and stretched to a square. Files Pillow
    cannot read are skipped and counted in ``skipped_files``. A sixth of each
    class, chosen by a permutation seeded with ``seed``, becomes the test split. Listing stops with
    TooManyFilesError past ``max_files`` files (None: no limit; the command line and the window pass
    DEFAULT_MAX_FOLDER_FILES); ``scan_progress`` hears the count every 1000 files.
    """
    folder = _checked_folder(path, image_size, channels)
    class_dirs, groups, loose = _list_groups(folder, max_files, scan_progress)
    notes: list[str] = []
    skipped = 0
    if class_dirs and loose:
        skipped += len(loose)
        notes.append(
            f"Ignored {len(loose)} files lying directly in {folder}: with class subfolders, only their images are used."
        )
    all_files = [f for _, files in groups for f in files]
    if not all_files:
        raise DataError(f"Image folder is empty: {folder}")

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        arrays = dict(zip(all_files, pool.map(lambda f: _read_image(f, image_size, channels), all_files)))
    split = _split_classes(groups, arrays, seed)
    if class_dirs:
        notes += [f"Class folder {name!r} has no readable images and was left out." for name in split.empty_classes]
    skipped += len(split.unreadable)
    if split.unreadable:
        examples = ", ".join(str(f.relative_to(folder)) for f in split.unreadable[:3])
        notes.append(f"Skipped {len(split.unreadable)} files that are not readable images (e.g. {examples}).")
    if not split.class_names:
        raise DataError(
            f"No readable images in {folder}: none of its {len(all_files)} files could be opened as an image."
        )

    labelled = bool(class_dirs)
    return ImageDataset(
        name=folder.name,
        train_images=_stack(split.train_images, channels, image_size),
        test_images=_stack(split.test_images, channels, image_size),
        train_labels=torch.tensor(split.train_labels, dtype=torch.int64) if labelled else None,
        test_labels=torch.tensor(split.test_labels, dtype=torch.int64) if labelled else None,
        class_names=tuple(split.class_names) if labelled else (),
        skipped_files=skipped,
        notes=tuple(notes),
    )


def _checked_folder(path: str | Path, image_size: int, channels: int) -> Path:
    """The folder to load, after checking the settings and that it is a folder."""
    if channels not in (1, 3):
        raise ConfigError(f"Images can have 1 (grayscale) or 3 (RGB) channels, not {channels}.")
    if image_size < 1:
        raise ConfigError(f"Image size must be a positive number of pixels, got {image_size}.")
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DataError(f"Image folder not found: {folder}")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; point to a folder of image files.")
    return folder


def _list_groups(
    folder: Path, max_files: int | None, scan_progress: Callable[[int], None] | None
) -> tuple[list[Path], list[tuple[str, list[Path]]], list[Path]]:
    """The class subfolders, the (class name, files) groups to load, and the files lying directly in
    ``folder`` (one unnamed group when there are no subfolders)."""
    scan = _Scan(folder, max_files, scan_progress)
    try:
        entries = sorted(p for p in folder.iterdir() if _visible(p.name))
    except OSError as exc:
        raise DataError(f"Cannot read the folder {folder}: {exc.strerror or exc}") from exc
    class_dirs = [p for p in entries if p.is_dir()]
    loose = [scan.add(p) for p in entries if p.is_file()]
    groups = [(d.name, scan.files_under(d)) for d in class_dirs] if class_dirs else [("", loose)]
    return class_dirs, groups, loose


@dataclass
class _Split:
    """The readable images of each group, a held-out share of each class in the test split."""

    class_names: list[str] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)  # groups with no readable image, left out
    unreadable: list[Path] = field(default_factory=list)
    train_images: list[np.ndarray] = field(default_factory=list)
    test_images: list[np.ndarray] = field(default_factory=list)
    train_labels: list[int] = field(default_factory=list)
    test_labels: list[int] = field(default_factory=list)


def _split_classes(
    groups: list[tuple[str, list[Path]]], arrays: dict[Path, np.ndarray | None], seed: int
) -> _Split:
    """Each group's readable images, split by a permutation seeded with ``seed``; labels count the
    classes kept."""
    split = _Split()
    rng = np.random.default_rng(seed)
    for class_name, files in groups:
        images = []
        for file in files:
            array = arrays[file]
            if array is None:
                split.unreadable.append(file)
            else:
                images.append(array)
        if not images:
            split.empty_classes.append(class_name)
            continue
        order = rng.permutation(len(images))
        cut = len(images) - held_out_count(len(images))
        label = len(split.class_names)
        split.class_names.append(class_name)
        split.train_images += [images[i] for i in order[:cut]]
        split.test_images += [images[i] for i in order[cut:]]
        split.train_labels += [label] * cut
        split.test_labels += [label] * (len(images) - cut)
    return split


def _stack(images: list[np.ndarray], channels: int, image_size: int) -> torch.Tensor:
    """HW or HWC uint8 arrays as one (N, C, H, W) tensor."""
    if not images:
        return torch.empty((0, channels, image_size, image_size), dtype=torch.uint8)
    array = np.stack(images)
    array = array[:, None] if channels == 1 else array.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array))
