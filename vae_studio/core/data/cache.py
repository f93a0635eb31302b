"""Data sets cached as uint8 memory-mapped arrays in the user cache, for data larger than memory.

A data set is written once to ``<cache>/arrays/<key>/`` (the images of each split as one raw uint8
file, the rest as JSON and NumPy files) and from then on opened with ``numpy.memmap``: opening
costs no reading at all, and training reads only the rows of each batch, which the operating system
pages in and out as memory allows. An image folder's key covers its path, its files' count, total
size and latest modification time, and the loading options, so editing the folder makes a new entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.data.downloads import default_cache_dir
from vae_studio.core.data.folder import load_image_folder

# Bump when the layout below changes, so old entries are not misread.
CACHE_LAYOUT = 1
# Folders with fewer files load in well under a second anyway; caching them would only fill the disk.
CACHE_MIN_FILES = 1000
_SPLITS = ("train", "test")


def arrays_dir(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or default_cache_dir()) / "arrays"


def folder_signature(folder: Path) -> tuple[int, int, int]:
    """(file count, total bytes, latest modification time in ns) of the visible files under ``folder``."""
    count = size = latest = 0
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=True):
                    stat = entry.stat()
                    count, size, latest = count + 1, size + stat.st_size, max(latest, stat.st_mtime_ns)
    return count, size, latest


def cached_image_folder(
    path: Path,
    image_size: int,
    channels: int,
    seed: int,
    cache_dir: Path | None = None,
    max_files: int | None = None,
    scan_progress: Callable[[int], None] | None = None,
) -> ImageDataset:
    """:func:`load_image_folder`, memory-mapped from the cache after the first load of a large folder."""
    folder = Path(path).expanduser()

    def load() -> ImageDataset:
        return load_image_folder(
            folder, image_size=image_size, channels=channels, seed=seed, max_files=max_files,
            scan_progress=scan_progress,
        )

    if not folder.is_dir():
        return load()  # it explains what is wrong with the path
    count, size, latest = folder_signature(folder)
    if count < CACHE_MIN_FILES or (max_files is not None and count > max_files):
        return load()  # small enough to decode at once, or too large: the loader says so
    return cached(["folder", str(folder.resolve()), count, size, latest, image_size, channels, seed], load, cache_dir)


def memory_mapped(dataset: ImageDataset, cache_dir: Path | None = None) -> ImageDataset:
    """``dataset`` backed by memory-mapped files (written once, keyed by its content)."""
    digest = hashlib.blake2b(digest_size=16)
    for images in (dataset.train_images, dataset.test_images):
        digest.update(str(tuple(images.shape)).encode())
        digest.update(memoryview(images.contiguous().numpy()).cast("B"))
    return cached(["content", dataset.name, digest.hexdigest()], lambda: dataset, cache_dir)


def cached(key: list[object], load: Callable[[], ImageDataset], cache_dir: Path | None = None) -> ImageDataset:
    """The data set stored under ``key``, memory-mapped; ``load()`` makes and stores it on a miss."""
    name = hashlib.blake2b(json.dumps([CACHE_LAYOUT, *key]).encode(), digest_size=16).hexdigest()
    entry = arrays_dir(cache_dir) / name
    if not (entry / "meta.json").is_file():
        _write(load(), entry)
    return _open(entry)


def _write(dataset: ImageDataset, entry: Path) -> None:
    """Write into a temporary folder and rename it into place: a half-written entry is never opened."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.parent / f".{entry.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        extras: dict[str, np.ndarray] = {}
        for split in _SPLITS:
            images, labels = dataset.split(split)
            images.contiguous().numpy().tofile(tmp / f"{split}.u8")
            if labels is not None:
                extras[f"{split}_labels"] = labels.numpy()
            factors = getattr(dataset, f"{split}_factors")
            if factors is not None:
                extras[f"{split}_factors"] = factors.numpy()
        np.savez(tmp / "extras.npz", **extras)
        meta = {
            "name": dataset.name,
            "shapes": {split: list(dataset.split(split)[0].shape) for split in _SPLITS},
            "class_names": list(dataset.class_names),
            "factor_names": list(dataset.factor_names),
            "skipped_files": dataset.skipped_files,
            "notes": list(dataset.notes),
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        try:
            os.replace(tmp, entry)
        except OSError:  # another process stored the same entry first: theirs is as good
            if not (entry / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _open(entry: Path) -> ImageDataset:
    meta = json.loads((entry / "meta.json").read_text())
    extras = np.load(entry / "extras.npz")

    def images(split: str) -> torch.Tensor:
        shape = tuple(meta["shapes"][split])
        if not shape[0]:
            return torch.empty(shape, dtype=torch.uint8)
        # Copy-on-write mapping: torch wants a writable array, and a write must never reach the cache.
        return torch.from_numpy(np.memmap(entry / f"{split}.u8", dtype=np.uint8, mode="c", shape=shape))

    def extra(key: str) -> torch.Tensor | None:
        return torch.from_numpy(extras[key]) if key in extras else None

    return ImageDataset(
        name=meta["name"],
        train_images=images("train"),
        test_images=images("test"),
        train_labels=extra("train_labels"),
        test_labels=extra("test_labels"),
        class_names=tuple(meta["class_names"]),
        factor_names=tuple(meta["factor_names"]),
        train_factors=extra("train_factors"),
        test_factors=extra("test_factors"),
        skipped_files=meta["skipped_files"],
        notes=tuple(meta["notes"]),
    )
