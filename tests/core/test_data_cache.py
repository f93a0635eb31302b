"""Data sets cached as memory-mapped arrays, and training streamed from them within a memory budget."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.data import ImageDataset, load_dataset
from vae_studio.core.data import cache as cache_module
from vae_studio.core.history import History
from vae_studio.core.models import build_model
from vae_studio.core.trainer import Trainer


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(folder))
    monkeypatch.setattr(cache_module, "CACHE_MIN_FILES", 10)
    return folder


def write_folder(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for i in range(n // 2):
            Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8)).save(folder / cls / f"{i}.png")


def is_memory_mapped(tensor: torch.Tensor) -> bool:
    """Whether the tensor's memory is a mapping of a cache file (Linux's /proc/self/maps says)."""
    address = tensor.data_ptr()
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *rest = line.split()
        start, end = (int(part, 16) for part in span.split("-"))
        if start <= address < end:
            return rest[-1].endswith(".u8")
    return False


pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")


def test_a_large_folder_is_cached_once_and_memory_mapped(tmp_path: Path, cache_dir: Path, monkeypatch) -> None:
    folder = tmp_path / "images"
    write_folder(folder, 40)
    first = load_dataset(f"folder:{folder}", image_size=12)
    assert len(list((cache_dir / "arrays").iterdir())) == 1
    calls: list[Path] = []
    real = cache_module.load_image_folder
    monkeypatch.setattr(cache_module, "load_image_folder", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    second = load_dataset(f"folder:{folder}", image_size=12)
    assert calls == []  # read from the cache, not decoded again
    assert is_memory_mapped(second.train_images)
    for a, b in zip(dataclasses.astuple(first), dataclasses.astuple(second)):
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
    # Another image size, or a changed folder, is another entry.
    load_dataset(f"folder:{folder}", image_size=16)
    Image.new("L", (12, 12), 255).save(folder / "a" / "new.png")
    third = load_dataset(f"folder:{folder}", image_size=12)
    assert calls == [folder, folder]
    assert len(third.train_images) + len(third.test_images) == 41
    assert len(list((cache_dir / "arrays").iterdir())) == 3


def test_small_folders_are_not_cached(tmp_path: Path, cache_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "CACHE_MIN_FILES", 1000)
    write_folder(tmp_path / "images", 20)
    load_dataset(f"folder:{tmp_path / 'images'}", image_size=12)
    assert not (cache_dir / "arrays").exists()


def test_any_data_set_can_be_memory_mapped(tiny_mnist: ImageDataset, cache_dir: Path) -> None:
    mapped = cache_module.memory_mapped(tiny_mnist)
    assert is_memory_mapped(mapped.train_images) and is_memory_mapped(mapped.test_images)
    assert torch.equal(mapped.train_images, tiny_mnist.train_images)
    assert torch.equal(mapped.test_labels, tiny_mnist.test_labels)
    assert mapped.class_names == tiny_mnist.class_names
    assert len(list((cache_dir / "arrays").iterdir())) == 1
    cache_module.memory_mapped(tiny_mnist)  # the same content: the same entry
    assert len(list((cache_dir / "arrays").iterdir())) == 1


def anonymous_rss() -> int:
    """Memory this process owns (heap, not file pages it maps), from Linux's /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon line")


def test_training_streams_a_data_set_larger_than_the_budget(cache_dir: Path) -> None:
    n, side = 80_000, 32  # 82 MB of uint8 training images
    generator = torch.Generator().manual_seed(0)

    def make() -> ImageDataset:
        train = torch.randint(0, 256, (n, 1, side, side), dtype=torch.uint8, generator=generator)
        return ImageDataset("noise", train, train[:200].clone())

    dataset = cache_module.cached(["test-noise", n, side], make)
    assert is_memory_mapped(dataset.train_images)
    budget = 4 * 2**20
    model_config = ModelConfig(image_shape=(1, side, side), hidden_sizes=(32,))
    config = TrainConfig(dataset="noise", epochs=1, batch_size=500, seed=0, device="cpu")
    # torch's first training step sets up its own workspaces (tens of MB whatever the data): pay that first.
    small = ImageDataset("small", dataset.train_images[:1000].clone(), dataset.test_images[:10].clone())
    Trainer(build_model(model_config, seed=0), small, config).run()
    model = build_model(model_config, seed=0)
    trainer = Trainer(model, dataset, config, history=History(), max_memory=budget)
    baseline = anonymous_rss()
    peak = [baseline]
    trainer.on_step(lambda r: peak.append(anonymous_rss()))
    result = trainer.run()
    assert result.status == "finished" and result.steps == n // 500
    data_bytes = dataset.train_images.nbytes
    # Generous margin for the allocator and autograd, yet well under the 82 MB the data would take.
    assert max(peak) - baseline < data_bytes / 2, (max(peak) - baseline, data_bytes)
    assert os.path.getsize(next((cache_dir / "arrays").iterdir()) / "train.u8") == data_bytes
