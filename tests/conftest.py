"""Fixtures shared by the core tests (no Qt here: GUI fixtures live in tests/gui/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vae_studio.core import realism
from vae_studio.core.data import ImageDataset, load_dataset


@pytest.fixture(scope="session")
def mnist() -> ImageDataset:
    """The bundled MNIST (cached in memory by load_dataset; never modify its tensors)."""
    return load_dataset("mnist")


@pytest.fixture(scope="session")
def tiny_mnist(mnist: ImageDataset) -> ImageDataset:
    """600 training and 300 test images of MNIST: enough to see learning, cheap on 2 CPU cores."""
    return replace(
        mnist,
        train_images=mnist.train_images[:600].clone(),
        train_labels=mnist.train_labels[:600].clone(),
        test_images=mnist.test_images[:300].clone(),
        test_labels=mnist.test_labels[:300].clone(),
    )


@pytest.fixture
def quick_realism_classifier(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The realism classifier that judges completeness, trained in seconds on a few images, into a
    private cache (so no test reads or writes the user's)."""
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(realism, "_memory", {})
    monkeypatch.setattr(realism, "MAX_TRAIN_IMAGES", 500)
    monkeypatch.setattr(realism, "EPOCHS", 1)
    monkeypatch.setattr(realism, "MIN_STEPS", 10)
