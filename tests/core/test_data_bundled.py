"""The MNIST and Fashion-MNIST files shipped in resources/, the bundling tool, and the public API."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest
import torch

from vae_studio.core.data import DATASET_CHOICES, ImageDataset, load_dataset, parse_class_list
from vae_studio.core.data.bundled import BUNDLED_FILES, CLASS_NAMES, bundled_folder, load_bundled, resources_dir
from vae_studio.core.errors import ConfigError, DataError

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundled() -> dict[str, ImageDataset]:
    """Each shipped set loaded once for the module (load times are measured by benchmarks, not tests)."""
    return {name: load_bundled(name) for name in BUNDLED_FILES}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_resources_dir_default_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VAE_STUDIO_RESOURCES", raising=False)
    assert resources_dir() == REPO_ROOT / "resources"
    monkeypatch.setenv("VAE_STUDIO_RESOURCES", str(tmp_path))
    assert bundled_folder("mnist") == tmp_path / "mnist"


@pytest.mark.parametrize("name", sorted(BUNDLED_FILES))
def test_shipped_files_have_published_md5(name: str) -> None:
    folder = REPO_ROOT / "resources" / name
    for file, expected in BUNDLED_FILES[name].items():
        assert md5(folder / file) == expected, file
    assert "md5" in (REPO_ROOT / "resources" / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(BUNDLED_FILES))
def test_full_sets(bundled: dict[str, ImageDataset], name: str) -> None:
    dataset = bundled[name]
    assert dataset.name == name
    assert dataset.train_images.shape == (60_000, 1, 28, 28) and dataset.test_images.shape == (10_000, 1, 28, 28)
    assert dataset.train_images.dtype == torch.uint8 and dataset.train_labels.dtype == torch.int64
    assert dataset.num_classes == 10 and dataset.class_names == CLASS_NAMES[name]
    assert torch.bincount(dataset.test_labels, minlength=10).min() > 800
    assert dataset.train_images.float().mean() > 20  # bright strokes on a black background


def test_known_labels(bundled: dict[str, ImageDataset]) -> None:
    mnist, fashion = bundled["mnist"], bundled["fashion-mnist"]
    assert mnist.train_labels[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert mnist.test_labels[:4].tolist() == [7, 2, 1, 0]
    assert fashion.class_names[9] == "Ankle boot" and fashion.train_labels[0] == 9
    assert torch.bincount(fashion.train_labels).tolist() == [6000] * 10


def test_load_dataset_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAE_STUDIO_RESOURCES", raising=False)
    first = load_dataset("mnist")
    assert load_dataset("mnist", seed=5) is first  # the seed does not change MNIST


def test_missing_bundled_mnist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAE_STUDIO_RESOURCES", str(tmp_path))
    with pytest.raises(DataError, match="bundle_datasets.py") as info:
        load_dataset("mnist")
    assert str(tmp_path / "mnist") in str(info.value) and "train-images-idx3-ubyte.gz" in str(info.value)


def test_bundle_tool_copies_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bundle_datasets", REPO_ROOT / "tools" / "bundle_datasets.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shared = tmp_path / "shared"
    for name, files in BUNDLED_FILES.items():
        (shared / name / "raw").mkdir(parents=True)
        for file in files:
            (shared / name / "raw" / file).symlink_to(REPO_ROOT / "resources" / name / file)
    assert tool.bundle(shared, tmp_path / "out") == []
    for name, files in BUNDLED_FILES.items():
        for file, expected in files.items():
            copied = tmp_path / "out" / name / file
            assert copied.is_file() and not copied.is_symlink() and md5(copied) == expected

    (shared / "mnist" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    (shared / "mnist" / "raw" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    (shared / "fashion-mnist" / "raw" / "train-labels-idx1-ubyte.gz").unlink()
    problems = tool.bundle(shared, tmp_path / "again")
    assert len(problems) == 2
    assert "md5" in problems[0] and "missing" in problems[1]


# --- the public API's dispatch and parsing ---


def test_dataset_choices() -> None:
    assert DATASET_CHOICES == ("mnist", "fashion-mnist", "shapes", "kmnist", "emnist-letters")


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(DataError) as info:
        load_dataset("cifar")
    message = str(info.value)
    assert "'cifar'" in message and all(name in message for name in DATASET_CHOICES)
    assert "idx:PATH" in message and "folder:PATH" in message


@pytest.mark.parametrize("spec", ["idx:", "folder:  "])
def test_spec_without_path(spec: str) -> None:
    with pytest.raises(DataError, match="needs a folder path"):
        load_dataset(spec)


@pytest.mark.parametrize(("size", "channels"), [(4, 1), (28, 2)])
def test_bad_size_or_channels(size: int, channels: int) -> None:
    with pytest.raises(ConfigError):
        load_dataset("mnist", image_size=size, channels=channels)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-8", list(range(9))),
        ("0,2,5", [0, 2, 5]),
        ("1-3,7", [1, 2, 3, 7]),
        (" 7 , 1 - 3 ,3", [1, 2, 3, 7]),
        ("4", [4]),
    ],
)
def test_parse_class_list(text: str, expected: list[int]) -> None:
    assert parse_class_list(text) == expected


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "1,,2", "1.5", "3-1", "0-99999"])
def test_parse_class_list_garbage(text: str) -> None:
    with pytest.raises(DataError):
        parse_class_list(text)
