"""Downloadable sets through torchvision's real dataset classes, without any network access.

Small IDX files are placed where torchvision looks for them (``<root>/<Class>/raw``),
so ``download=True`` finds them and downloads nothing; a failed download is
simulated at urllib's level, below all of torchvision's download code.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_studio.core.data import load_dataset
from vae_studio.core.data.downloads import default_cache_dir, load_download, raw_folder
from vae_studio.core.data.idx import write_idx
from vae_studio.core.errors import DataError


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every test runs offline: any URL torchvision tries to open fails and is recorded."""
    attempts: list[str] = []

    def refuse(request: urllib.request.Request | str, *args: object, **kwargs: object) -> None:
        attempts.append(request if isinstance(request, str) else request.full_url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


def place(folder: Path, prefix: str, counts: dict[str, int], labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    rng = np.random.default_rng(0)
    for split, count in counts.items():
        images[split] = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{prefix}{split}-images-idx3-ubyte", images[split])
        write_idx(folder / f"{prefix}{split}-labels-idx1-ubyte", labels[split].astype(np.uint8))
    return images


def place_mnist_layout(root: Path, class_name: str) -> dict[str, np.ndarray]:
    labels = {"train": np.arange(20) % 10, "t10k": np.arange(10)}
    return place(root / class_name / "raw", "", {"train": 20, "t10k": 10}, labels)


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "own"
    monkeypatch.delenv("VAE_STUDIO_CACHE")
    assert default_cache_dir() == tmp_path / "xdg" / "vae-studio"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "vae-studio"
    assert raw_folder("kmnist", tmp_path) == tmp_path / "KMNIST" / "raw"
    assert raw_folder("emnist-letters", tmp_path) == tmp_path / "EMNIST" / "raw"


def test_kmnist_from_preplaced_files(tmp_path: Path, no_network: list[str]) -> None:
    images = place_mnist_layout(tmp_path, "KMNIST")
    ds = load_download("kmnist", tmp_path)
    assert no_network == []
    assert ds.name == "kmnist"
    assert ds.train_images.shape == (20, 1, 28, 28) and ds.test_images.shape == (10, 1, 28, 28)
    assert ds.train_images.dtype == torch.uint8 and ds.train_labels.dtype == torch.int64
    np.testing.assert_array_equal(ds.train_images[:, 0].numpy(), images["train"])
    assert ds.class_names == ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
    assert ds.test_labels.tolist() == list(range(10))


def test_emnist_letters_from_preplaced_files(tmp_path: Path, no_network: list[str]) -> None:
    labels = {"train": np.arange(26) + 1, "test": np.array([1, 26])}
    images = place(tmp_path / "EMNIST" / "raw", "emnist-letters-", {"train": 26, "test": 2}, labels)
    ds = load_download("emnist-letters", tmp_path)
    assert no_network == []
    assert ds.class_names == tuple("abcdefghijklmnopqrstuvwxyz")
    assert ds.train_labels.tolist() == list(range(26)) and ds.test_labels.tolist() == [0, 25]
    # Stored transposed; loaded upright.
    np.testing.assert_array_equal(ds.train_images[:, 0].numpy(), images["train"].transpose(0, 2, 1))
    assert ds.train_images.is_contiguous()
    assert any("transposed" in note for note in ds.notes)


def test_damaged_preplaced_files(tmp_path: Path) -> None:
    place_mnist_layout(tmp_path, "KMNIST")
    path = tmp_path / "KMNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="damaged") as info:
        load_download("kmnist", tmp_path)
    assert str(tmp_path / "KMNIST" / "raw") in str(info.value)


def test_load_dataset_uses_cache_dir(tmp_path: Path) -> None:
    place_mnist_layout(tmp_path, "KMNIST")
    ds = load_dataset("kmnist", cache_dir=tmp_path, image_size=32)
    assert ds.image_shape == (1, 32, 32)


def test_fashion_falls_back_to_download_without_bundled_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAE_STUDIO_RESOURCES", str(tmp_path / "no-resources"))
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path / "cache"))
    place_mnist_layout(tmp_path / "cache", "FashionMNIST")
    ds = load_dataset("fashion-mnist")
    assert len(ds.train_images) == 20
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[-1] == "Ankle boot"


@pytest.mark.parametrize(
    ("name", "title", "folder", "file"),
    [
        ("kmnist", "Kuzushiji-MNIST", Path("KMNIST", "raw"), "t10k-labels-idx1-ubyte"),
        ("emnist-letters", "EMNIST letters", Path("EMNIST", "raw"), "emnist-letters-train-images-idx3-ubyte"),
        ("fashion-mnist", "Fashion-MNIST", Path("FashionMNIST", "raw"), "train-images-idx3-ubyte"),
    ],
)
def test_offline_error_names_the_folder(
    tmp_path: Path, no_network: list[str], name: str, title: str, folder: Path, file: str
) -> None:
    with pytest.raises(DataError) as info:
        load_download(name, tmp_path / "cache")
    message = str(info.value)
    assert no_network, "torchvision's download code should have tried the network"
    assert f"Could not download {title}" in message
    assert "network disabled in tests" in message
    assert str(tmp_path / "cache" / folder) in message
    assert file in message


def test_offline_error_through_load_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path))
    with pytest.raises(DataError, match="KMNIST"):
        load_dataset("kmnist")
    # Failures are not cached: once the files are in place, loading works.
    place_mnist_layout(tmp_path, "KMNIST")
    assert len(load_dataset("kmnist").test_images) == 10
