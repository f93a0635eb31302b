"""Reading and writing IDX files, the format of MNIST, Fashion-MNIST, KMNIST and EMNIST.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the data row by row
in big-endian order. Files are often gzip-compressed; we tell by the gzip magic
bytes, not by the ``.gz`` extension, because renamed and half-extracted
downloads are common.
"""

from __future__ import annotations

import gzip as gzip_module
import math
import string
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vae_studio.core.data.build import held_out_count, image_tensor, labelled_dataset
from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
# EMNIST's largest split (byclass, 698k images) is 0.55 GB; four times that is still "a data set".
MAX_IDX_BYTES = 2 * 1024**3

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}

_SPLIT_WORDS = {"train": ("train",), "test": ("t10k", "test")}
_LETTER_NAMES = {i + 1: letter for i, letter in enumerate(string.ascii_lowercase)}


def read_idx(path: str | Path, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array stored in an IDX file (gzip-compressed or not), in native byte order.

    Reads no more than the header declares, and refuses a header that declares more than
    ``max_bytes`` of data, so neither a damaged header nor a gzip bomb can fill the memory.
    Raises DataError naming the file when it is not a readable IDX file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as raw_file:
            compressed = raw_file.read(2) == _GZIP_MAGIC
            raw_file.seek(0)
            stream = gzip_module.GzipFile(fileobj=raw_file) if compressed else raw_file
            return _read_idx_stream(path, stream, max_bytes)
    except (EOFError, zlib.error, gzip_module.BadGzipFile) as exc:
        raise DataError(f"{path} is a damaged or incomplete gzip file ({exc}).") from exc
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _read_idx_stream(path: Path, stream: BinaryIO, max_bytes: int) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(magic)} bytes).")
    code, ndim = magic[2], magic[3]
    if magic[:2] != b"\0\0" or code not in _IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{path} is not an IDX file: wrong magic number 0x{magic.hex()} "
            "(expected 0x0000 followed by a type code and the number of dimensions, e.g. 0x00000803)."
        )
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} is truncated: the header is cut off after {4 + len(dims)} bytes.")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    dtype = _IDX_DTYPES[code]
    # Python integers: the product of the dimensions cannot overflow.
    expected = math.prod(shape) * dtype.itemsize
    if expected > max_bytes:
        raise DataError(
            f"{path} declares shape {shape}, {expected:,} bytes of data; at most {max_bytes:,} are read "
            "(the header is damaged, or the data set is too large for this app)."
        )
    data = stream.read(expected)
    if len(data) < expected:
        raise DataError(
            f"{path} is truncated: the header announces shape {shape} ({4 + 4 * ndim + expected} bytes) "
            f"but the file holds only {4 + 4 * ndim + len(data)} bytes."
        )
    # astype copies into a writable native-order array, which torch.from_numpy needs.
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, gzip: bool = False) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``gzip`` is true."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _TYPE_CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    code = _TYPE_CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + array.astype(_IDX_DTYPES[code]).tobytes()
    # mtime=0 keeps the output byte-identical across runs.
    Path(path).write_bytes(gzip_module.compress(data, mtime=0) if gzip else data)


def _classify(name: str) -> tuple[str, str] | None:
    """(split, kind) of an IDX file name such as ``emnist-letters-train-images-idx3-ubyte.gz``."""
    lower = name.lower()
    if "idx3" in lower or "images" in lower:
        kind = "images"
    elif "idx1" in lower or "labels" in lower:
        kind = "labels"
    else:
        return None
    for split, words in _SPLIT_WORDS.items():
        if any(word in lower for word in words):
            return split, kind
    return None


def _find_files(folder: Path) -> dict[tuple[str, str], Path]:
    """The IDX file for each (split, kind) found in ``folder``."""
    candidates: dict[tuple[str, str], dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or "idx" not in path.name.lower():
            continue
        slot = _classify(path.name)
        if slot is None:
            continue
        # A folder can hold both x.gz and its extracted x (torchvision leaves both):
        # they are one file, and the uncompressed one reads faster.
        stem = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
        current = candidates.setdefault(slot, {}).get(stem)
        if current is None or current.name.lower().endswith(".gz"):
            candidates[slot][stem] = path
    found = {}
    for (split, kind), by_stem in candidates.items():
        if len(by_stem) > 1:
            names = ", ".join(sorted(p.name for p in by_stem.values()))
            raise DataError(
                f"{folder} holds several {split} {kind} files ({names}); "
                "put each data set in its own folder."
            )
        found[(split, kind)] = next(iter(by_stem.values()))
    return found


def _read_images(path: Path) -> np.ndarray:
    images = read_idx(path)
    if images.ndim != 3:
        raise DataError(
            f"{path} has wrong dims: images need 3 dimensions (count, rows, columns), found shape {images.shape}."
        )
    if images.dtype != np.uint8:
        raise DataError(f"{path} holds {images.dtype} values; image files must hold unsigned bytes (type 0x08).")
    return images


def _read_labels(path: Path, image_path: Path, image_count: int) -> np.ndarray:
    labels = read_idx(path)
    if labels.ndim != 1:
        raise DataError(f"{path} has wrong dims: labels need 1 dimension, found shape {labels.shape}.")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{path} holds {labels.dtype} values; label files must hold integers.")
    if len(labels) != image_count:
        raise DataError(
            f"Mismatched image and label counts: {image_path.name} has {image_count} images "
            f"but {path.name} has {len(labels)} labels (in {path.parent})."
        )
    return labels


def _all_within(arrays: Iterable[np.ndarray], low: int, high: int) -> bool:
    return all(len(a) == 0 or (int(a.min()) >= low and int(a.max()) <= high) for a in arrays)


def load_idx_folder(
    folder: str | Path, name: str | None = None, label_names: Mapping[int, str] | None = None
) -> ImageDataset:
    """Load an MNIST-style folder of IDX files as an :class:`ImageDataset`.

    Files are matched by name: ``train`` or ``t10k``/``test`` for the split,
    ``images``/``idx3`` or ``labels``/``idx1`` for the kind, gzip-compressed or
    not (e.g. ``train-images-idx3-ubyte.gz``, ``emnist-letters-test-labels-idx1-ubyte``).
    With only one split present its last sixth becomes the test split. Label
    files are optional, but must exist for every split or none. Label values are
    renumbered 0..K-1; class names come from ``label_names`` (value -> name),
    else "a".."z" for EMNIST letters, else the values as text. EMNIST images are
    stored transposed and are turned upright.
    """
    folder = Path(folder).expanduser()
    files, splits, labelled = _matched_files(folder)
    images, labels = _read_splits(folder, files, splits, labelled)
    notes: list[str] = []
    file_names = " ".join(path.name.lower() for path in files.values())
    if "emnist" in file_names:
        images = {split: array.transpose(0, 2, 1) for split, array in images.items()}
        notes.append("EMNIST images are stored transposed; they were turned upright.")
    if len(splits) == 1:
        only = splits[0]
        cut = len(images[only]) - held_out_count(len(images[only]))
        notes.append(
            f"{folder} has no {'test' if only == 'train' else 'train'} files: the last "
            f"{len(images[only]) - cut} of {len(images[only])} {only} images are used as the test split "
            "and the rest for training."
        )
        images = {"train": images[only][:cut], "test": images[only][cut:]}
        if labelled:
            labels = {"train": labels[only][:cut], "test": labels[only][cut:]}

    name = name or folder.name
    if not labelled:
        return ImageDataset(
            name=name,
            train_images=image_tensor(images["train"]),
            test_images=image_tensor(images["test"]),
            notes=tuple(notes),
        )
    if label_names is None and "letters" in file_names and _all_within(labels.values(), 1, 26):
        label_names = _LETTER_NAMES
    return labelled_dataset(
        name, images["train"], labels["train"], images["test"], labels["test"], label_names, tuple(notes)
    )


def _matched_files(folder: Path) -> tuple[dict[tuple[str, str], Path], list[str], list[str]]:
    """The IDX files of ``folder`` by (split, kind), the splits with images and those with labels too,
    checked to pair up: labels for every split with images or for none."""
    if not folder.exists():
        raise DataError(f"IDX data folder not found: {folder}")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; point to the folder holding the IDX files.")
    files = _find_files(folder)
    if not files:
        raise DataError(
            f"No IDX files in {folder}: expected names like train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz."
        )
    splits = [split for split in ("train", "test") if (split, "images") in files]
    for split, kind in files:
        if kind == "labels" and split not in splits:
            raise DataError(f"{folder} has {files[(split, kind)].name} but no {split} images file to go with it.")
    labelled = [split for split in splits if (split, "labels") in files]
    if labelled and labelled != splits:
        missing = next(split for split in splits if split not in labelled)
        raise DataError(
            f"{folder} has labels for some splits but no {missing} labels file "
            f"to go with {files[(missing, 'images')].name}."
        )
    return files, splits, labelled


def _read_splits(
    folder: Path, files: dict[tuple[str, str], Path], splits: list[str], labelled: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Images (and labels, when ``labelled``) of each split, checked to be of one size."""
    images: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for split in splits:
        image_path = files[(split, "images")]
        images[split] = _read_images(image_path)
        if labelled:
            labels[split] = _read_labels(files[(split, "labels")], image_path, len(images[split]))
    if len(splits) == 2 and images["train"].shape[1:] != images["test"].shape[1:]:
        raise DataError(
            f"Train and test images in {folder} differ in size: "
            f"{images['train'].shape[1:]} vs {images['test'].shape[1:]}."
        )
    return images, labels
