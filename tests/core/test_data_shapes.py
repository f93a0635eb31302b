"""The procedural shapes data set, and class selection (which shapes' factors exercise fully)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from vae_studio.core.data import ImageDataset, load_dataset, select_classes
from vae_studio.core.data.shapes import CLASS_NAMES, FACTOR_NAMES, make_shapes, render_shapes, sample_factors
from vae_studio.core.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def small() -> ImageDataset:
    return make_shapes(n_train=600, n_test=120, seed=3)


def test_metadata_and_shapes(small: ImageDataset) -> None:
    assert small.name == "shapes"
    assert small.image_shape == (1, 28, 28)
    assert small.train_images.shape == (600, 1, 28, 28) and small.test_images.shape == (120, 1, 28, 28)
    assert small.train_images.dtype == torch.uint8
    assert small.factor_names == FACTOR_NAMES == ("shape", "scale", "rotation", "x", "y")
    assert small.class_names == CLASS_NAMES == ("circle", "square", "triangle")
    assert small.train_factors.shape == (600, 5) and small.train_factors.dtype == torch.float32
    assert small.test_factors.shape == (120, 5)
    assert small.train_labels.dtype == torch.int64
    assert torch.equal(small.train_labels, small.train_factors[:, 0].long())
    assert torch.equal(small.test_labels, small.test_factors[:, 0].long())


def test_factor_ranges(small: ImageDataset) -> None:
    factors = torch.cat([small.train_factors, small.test_factors])
    assert set(factors[:, 0].tolist()) == {0.0, 1.0, 2.0}
    continuous = factors[:, 1:]
    assert continuous.min() >= 0 and continuous.max() < 1
    # Uniform sampling covers the range, not just a corner of it.
    assert (continuous.min(0).values < 0.05).all() and (continuous.max(0).values > 0.95).all()


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = make_shapes(n_train=50, n_test=10, seed=7)
    b = make_shapes(n_train=50, n_test=10, seed=7)
    c = make_shapes(n_train=50, n_test=10, seed=8)
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_factors, b.test_factors)
    assert not torch.equal(a.train_images, c.train_images)
    assert not torch.equal(a.train_images[:10], a.test_images)


def test_test_split_independent_of_train_count() -> None:
    assert torch.equal(make_shapes(20, 10, seed=1).test_images, make_shapes(40, 10, seed=1).test_images)


@pytest.mark.parametrize("size", [28, 32, 64])
def test_sizes(size: int) -> None:
    ds = make_shapes(n_train=8, n_test=2, image_size=size)
    assert ds.image_shape == (1, size, size)


def test_every_shape_stays_inside_at_extreme_factors() -> None:
    rows = [
        (shape, 1.0, rotation, x, y)
        for shape, rotation, x, y in itertools.product(range(3), np.linspace(0, 1, 13), (0.0, 1.0), (0.0, 1.0))
    ]
    for size in (28, 32, 64):
        images = render_shapes(np.array(rows, dtype=np.float32), size)
        border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
        assert border.max() == 0, size
        assert (images.max(axis=(1, 2)) == 255).all()  # fully covered pixels inside


def test_factors_act_as_named() -> None:
    def render(shape: int, scale: float, rotation: float, x: float, y: float) -> np.ndarray:
        return render_shapes(np.array([[shape, scale, rotation, x, y]], dtype=np.float32))[0].astype(float)

    def centre(image: np.ndarray) -> tuple[float, float]:
        rows, cols = np.indices(image.shape)
        return (image * cols).sum() / image.sum(), (image * rows).sum() / image.sum()

    # scale grows the ink, x/y move the centre right/down, rotation turns polygons only.
    assert render(0, 1, 0, 0.5, 0.5).sum() > 2 * render(0, 0, 0, 0.5, 0.5).sum()
    assert centre(render(1, 0.5, 0, 1, 0.5))[0] > centre(render(1, 0.5, 0, 0, 0.5))[0] + 5
    assert centre(render(1, 0.5, 0, 0.5, 1))[1] > centre(render(1, 0.5, 0, 0.5, 0))[1] + 5
    assert not np.array_equal(render(1, 1, 0, 0.5, 0.5), render(1, 1, 0.5, 0.5, 0.5))
    np.testing.assert_allclose(render(1, 1, 0, 0.5, 0.5), render(1, 1, 1, 0.5, 0.5), atol=2)  # 90 degrees
    np.testing.assert_allclose(render(0, 1, 0, 0.5, 0.5), render(0, 1, 0.3, 0.5, 0.5), atol=1)
    # Anti-aliased: edge pixels are partly covered.
    image = render(0, 1, 0, 0.5, 0.5)
    assert ((image > 0) & (image < 255)).sum() > 10


def test_circle_ink_matches_its_area() -> None:
    image = render_shapes(np.array([[0, 1, 0, 0.5, 0.5]], dtype=np.float32), 64)[0]
    radius = 0.2 * 64
    assert image.sum() / 255 == pytest.approx(np.pi * radius**2, rel=0.02)


def test_sample_factors_classes_balanced() -> None:
    factors = sample_factors(np.random.default_rng(0), 3000)
    counts = np.bincount(factors[:, 0].astype(int), minlength=3)
    assert (abs(counts - 1000) < 100).all()


def test_default_split_sizes() -> None:
    ds = make_shapes()
    assert len(ds.train_images) == 20_000 and len(ds.test_images) == 4_000


def test_too_small_image_size() -> None:
    with pytest.raises(ConfigError, match="16"):
        make_shapes(n_train=2, n_test=2, image_size=12)


def test_load_dataset_shapes_cached_per_seed() -> None:
    a = load_dataset("shapes", seed=11)
    assert load_dataset("shapes", seed=11) is a
    assert load_dataset("  Shapes ", seed=11) is a
    assert load_dataset("shapes", seed=12) is not a
    assert load_dataset("shapes", seed=11, image_size=32).image_shape == (1, 32, 32)
    assert load_dataset("shapes", seed=11, channels=3).image_shape == (3, 28, 28)


def test_select_classes_keeps_labels_and_factors(small: ImageDataset) -> None:
    picked = select_classes(small, [0, 2])
    assert set(picked.train_labels.tolist()) == {0, 2} and set(picked.test_labels.tolist()) == {0, 2}
    assert picked.class_names == CLASS_NAMES
    assert len(picked.train_images) == int((small.train_labels != 1).sum())
    assert torch.equal(picked.train_labels, picked.train_factors[:, 0].long())
    assert any("circle, triangle" in note for note in picked.notes)


def test_select_classes_renumbers(small: ImageDataset) -> None:
    picked = select_classes(small, [2, 1], keep_labels=False)
    assert picked.class_names == ("square", "triangle")
    assert set(picked.train_labels.tolist()) == {0, 1}
    square = small.train_images[small.train_labels == 1]
    assert torch.equal(picked.train_images[picked.train_labels == 0], square)


def test_select_classes_errors(small: ImageDataset) -> None:
    with pytest.raises(DataError, match="no class 3"):
        select_classes(small, [0, 3])
    with pytest.raises(DataError, match="at least one"):
        select_classes(small, [])
    unlabelled = ImageDataset(name="plain", train_images=small.train_images, test_images=small.test_images)
    with pytest.raises(DataError, match="plain"):
        select_classes(unlabelled, [0])
