"""Data files made to exhaust memory, and data sets with nothing to test or train on: IDX headers that
overflow or promise too much, gzip bombs, folders with too many files, empty splits."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_studio.core.data import load_dataset, select_classes
from vae_studio.core.data.folder import TooManyFilesError, load_image_folder
from vae_studio.core.data.idx import read_idx, write_idx
from vae_studio.core.errors import DataError


def idx_header(*shape: int, code: int = 0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_dimensions_that_overflow_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header(2**31, 2**31, 4) + bytes(64))
    with pytest.raises(DataError, match="declares shape"):
        read_idx(path)


def test_a_gzip_bomb_is_read_only_as_far_as_the_header_says(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(idx_header(10, 4, 4) + bytes(range(160)))
        for _ in range(200):  # 200 MB of zeros after the declared data, ~200 KB compressed
            handle.write(bytes(1024**2))
    tracemalloc.start()
    try:
        images = read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert images.shape == (10, 4, 4) and images.ravel()[159] == 159
    assert peak < 16 * 1024**2


def test_a_header_promising_more_than_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(idx_header(3000, 1000, 1000))
    with pytest.raises(DataError, match="at most"):
        read_idx(path)


def write_split(folder: Path, word: str, count: int) -> None:
    rng = np.random.default_rng(count)
    write_idx(folder / f"{word}-images-idx3-ubyte", rng.integers(0, 256, (count, 8, 8), dtype=np.uint8))
    write_idx(folder / f"{word}-labels-idx1-ubyte", (np.arange(count) % 2).astype(np.uint8))


def test_no_test_images_holds_out_part_of_training_and_says_so(tmp_path: Path) -> None:
    write_split(tmp_path, "train", 12)
    write_split(tmp_path, "t10k", 0)
    dataset = load_dataset(f"idx:{tmp_path}", image_size=8)
    assert (len(dataset.train_images), len(dataset.test_images)) == (10, 2)
    assert len(dataset.test_labels) == 2
    assert any("held out as the test split" in note for note in dataset.notes)


def test_no_training_images_is_a_data_error(tmp_path: Path) -> None:
    write_split(tmp_path, "train", 0)
    write_split(tmp_path, "t10k", 5)
    with pytest.raises(DataError, match="no training images"):
        load_dataset(f"idx:{tmp_path}", image_size=8)


def test_classes_with_no_training_images(tmp_path: Path) -> None:
    write_split(tmp_path, "train", 6)
    write_split(tmp_path, "t10k", 6)
    dataset = load_dataset(f"idx:{tmp_path}", image_size=8)
    without = select_classes(dataset, [0])
    assert len(without.train_images) == 3
    empty_train = replace(dataset, train_labels=torch.zeros_like(dataset.train_labels))  # class 1 only in test
    with pytest.raises(DataError, match="no training images"):
        select_classes(empty_train, [1])


def test_folder_scan_reports_progress_and_stops_past_the_limit(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for i in range(2100):
        (tmp_path / "a" / f"{i}.txt").touch()
    counts: list[int] = []
    with pytest.raises(TooManyFilesError, match="more than 2,050 files") as info:
        load_image_folder(tmp_path, max_files=2050, scan_progress=counts.append)
    assert counts == [1000, 2000] and info.value.limit == 2050


def test_folder_with_a_single_image(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "only.png")
    with pytest.raises(DataError, match="one image"):
        load_dataset(f"folder:{tmp_path}", image_size=8)
