"""IDX reading/writing and MNIST-style folders, with small files written per test."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_studio.core.data import load_dataset
from vae_studio.core.data.idx import load_idx_folder, read_idx, write_idx
from vae_studio.core.errors import DataError

RNG = np.random.default_rng(0)


def make_split(count: int, size: int = 6, classes: int = 3, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    images = RNG.integers(0, 256, (count, size, size), dtype=np.uint8)
    labels = (np.arange(count) % classes + offset).astype(np.uint8)
    return images, labels


def write_folder(
    folder: Path,
    splits: dict[str, int],
    gz: bool = True,
    prefix: str = "",
    labels: bool = True,
    offset: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """An MNIST-style folder; ``splits`` maps the file-name split word (train, t10k, test) to a count."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    data = {}
    for word, count in splits.items():
        images, values = make_split(count, offset=offset)
        write_idx(folder / f"{prefix}{word}-images-idx3-ubyte{suffix}", images, gzip=gz)
        if labels:
            write_idx(folder / f"{prefix}{word}-labels-idx1-ubyte{suffix}", values, gzip=gz)
        data[word] = (images, values)
    return data


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(tmp_path: Path, dtype: type, gz: bool) -> None:
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", array, gzip=gz)
    back = read_idx(tmp_path / "a.idx")
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_gzip_detected_by_content_not_extension(tmp_path: Path) -> None:
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "compressed-without-extension", array, gzip=True)
    write_idx(tmp_path / "plain.gz", array, gzip=False)
    assert (tmp_path / "compressed-without-extension").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "compressed-without-extension"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), array)


def test_write_idx_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint32))


@pytest.mark.parametrize("gz", [False, True])
def test_load_folder_train_and_test(tmp_path: Path, gz: bool) -> None:
    data = write_folder(tmp_path / "digits", {"train": 30, "t10k": 12}, gz=gz)
    ds = load_idx_folder(tmp_path / "digits")
    assert ds.name == "digits"
    assert ds.train_images.shape == (30, 1, 6, 6) and ds.test_images.shape == (12, 1, 6, 6)
    assert ds.train_images.dtype == torch.uint8
    np.testing.assert_array_equal(ds.train_images[:, 0].numpy(), data["train"][0])
    np.testing.assert_array_equal(ds.test_labels.numpy(), data["t10k"][1])
    assert ds.train_labels.dtype == torch.int64
    assert ds.class_names == ("0", "1", "2") and ds.labelled
    assert ds.notes == ()


def test_test_word_and_label_names(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 12, "test": 6})
    ds = load_idx_folder(tmp_path, name="mine", label_names={0: "zero", 1: "one", 2: "two"})
    assert ds.name == "mine" and len(ds.test_images) == 6
    assert ds.class_names == ("zero", "one", "two")


def test_only_train_split_holds_out_last_sixth(tmp_path: Path) -> None:
    data = write_folder(tmp_path, {"train": 60})
    ds = load_idx_folder(tmp_path)
    assert len(ds.train_images) == 50 and len(ds.test_images) == 10
    np.testing.assert_array_equal(ds.test_images[:, 0].numpy(), data["train"][0][50:])
    np.testing.assert_array_equal(ds.test_labels.numpy(), data["train"][1][50:])
    assert any("last 10 of 60" in note for note in ds.notes)


def test_only_test_split(tmp_path: Path) -> None:
    write_folder(tmp_path, {"t10k": 12}, gz=False)
    ds = load_idx_folder(tmp_path)
    assert len(ds.train_images) == 10 and len(ds.test_images) == 2
    assert any("no train files" in note for note in ds.notes)


def test_unlabelled_folder(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 8, "t10k": 4}, labels=False)
    ds = load_idx_folder(tmp_path)
    assert ds.train_labels is None and ds.test_labels is None and not ds.labelled
    assert ds.image_shape == (1, 6, 6)


def test_emnist_names_offset_and_orientation(tmp_path: Path) -> None:
    folder = tmp_path / "emnist"
    folder.mkdir()
    # Labels 1..26 as in EMNIST letters; only some letters present.
    train_labels = np.array([1, 2, 26, 1, 2, 26], dtype=np.uint8)
    test_labels = np.array([2, 26], dtype=np.uint8)
    image = np.zeros((6, 6), dtype=np.uint8)
    image[0, 5] = 255  # stored transposed: row 0, column 5 -> upright row 5, column 0
    write_idx(folder / "emnist-letters-train-images-idx3-ubyte", np.stack([image] * 6))
    write_idx(folder / "emnist-letters-train-labels-idx1-ubyte", train_labels)
    write_idx(folder / "emnist-letters-test-images-idx3-ubyte.gz", np.stack([image] * 2), gzip=True)
    write_idx(folder / "emnist-letters-test-labels-idx1-ubyte.gz", test_labels, gzip=True)
    ds = load_idx_folder(folder)
    assert ds.class_names == ("a", "b", "z")
    assert ds.train_labels.tolist() == [0, 1, 2, 0, 1, 2] and ds.test_labels.tolist() == [1, 2]
    assert ds.train_images[0, 0, 5, 0] == 255 and ds.train_images[0, 0, 0, 5] == 0
    assert any("transposed" in note for note in ds.notes)


def test_label_values_with_gaps_become_contiguous(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 9, "t10k": 3}, offset=5)
    ds = load_idx_folder(tmp_path)
    assert ds.class_names == ("5", "6", "7")
    assert set(ds.train_labels.tolist()) == {0, 1, 2}


def test_compressed_and_extracted_copies_count_once(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 6, "t10k": 6}, gz=True)
    write_folder(tmp_path, {"train": 6, "t10k": 6}, gz=False)  # as torchvision leaves them
    assert len(load_idx_folder(tmp_path).train_images) == 6


def test_load_dataset_idx_spec_resizes(tmp_path: Path) -> None:
    write_folder(tmp_path / "small", {"train": 6, "t10k": 6})
    ds = load_dataset(f"idx:{tmp_path / 'small'}", image_size=12, channels=3)
    assert ds.image_shape == (3, 12, 12)


# --- errors: each must be a DataError naming the file or folder ---


def assert_data_error(call, *names: str) -> str:
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    for name in names:
        assert name in message, message
    return message


def test_missing_folder(tmp_path: Path) -> None:
    assert_data_error(lambda: load_idx_folder(tmp_path / "nowhere"), "nowhere", "not found")


def test_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    assert_data_error(lambda: load_idx_folder(tmp_path / "file.txt"), "file.txt", "not a folder")


def test_folder_without_idx_files(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    assert_data_error(lambda: load_idx_folder(tmp_path), str(tmp_path), "No IDX files")


def test_wrong_magic(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04" + bytes(100))
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte", "magic number")


def test_truncated_file(tmp_path: Path) -> None:
    images, _ = make_split(10)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    data = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(data[:-7])
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte", "truncated")


def test_truncated_header(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03\0\0")
    assert_data_error(lambda: read_idx(tmp_path / "train-images-idx3-ubyte"), "train-images-idx3-ubyte", "truncated")


def test_bad_gzip(tmp_path: Path) -> None:
    images, _ = make_split(10)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gzip=True)
    data = (tmp_path / "train-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte.gz", "gzip")
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip at all")
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte.gz", "gzip")


def test_mismatched_counts(tmp_path: Path) -> None:
    images, labels = make_split(10)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:9])
    message = assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    assert "10 images" in message and "9 labels" in message


def test_wrong_image_dims(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((10, 36), dtype=np.uint8))
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte", "wrong dims")


def test_wrong_label_dims(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 6, 6), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((4, 2), dtype=np.uint8))
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-labels-idx1-ubyte", "wrong dims")


def test_non_byte_images(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 6, 6), dtype=np.float32))
    assert_data_error(lambda: load_idx_folder(tmp_path), "train-images-idx3-ubyte", "unsigned bytes")


def test_labels_without_images(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 6})
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    assert_data_error(lambda: load_idx_folder(tmp_path), "t10k-labels-idx1-ubyte", "no test images")


def test_labels_for_only_some_splits(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 6})
    write_folder(tmp_path, {"t10k": 6}, labels=False)
    assert_data_error(lambda: load_idx_folder(tmp_path), "t10k-images-idx3-ubyte", "no test labels")


def test_several_candidates_for_one_slot(tmp_path: Path) -> None:
    write_folder(tmp_path, {"train": 6}, prefix="emnist-letters-")
    write_folder(tmp_path, {"train": 6}, prefix="emnist-digits-")
    assert_data_error(
        lambda: load_idx_folder(tmp_path),
        "emnist-letters-train-images-idx3-ubyte.gz",
        "emnist-digits-train-images-idx3-ubyte.gz",
    )


def test_train_and_test_sizes_differ(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 6, 6), dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 7, 7), dtype=np.uint8))
    assert_data_error(lambda: load_idx_folder(tmp_path), str(tmp_path), "differ in size")


def test_unreadable_file(tmp_path: Path) -> None:
    assert_data_error(lambda: read_idx(tmp_path / "absent-idx1"), "absent-idx1", "Cannot read")


def test_gzip_module_output_is_readable(tmp_path: Path) -> None:
    # Files compressed by other tools (here the gzip module with a file name header) read the same.
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "plain", array)
    with gzip.open(tmp_path / "other.gz", "wb") as handle:
        handle.write((tmp_path / "plain").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "other.gz"), array)
