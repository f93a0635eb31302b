"""Input corruptions: shape, range, reproducibility and strength."""

from __future__ import annotations

import math

import pytest
import torch

from vae_studio.core.corruption import (
    CORRUPTION_FUNCTIONS,
    corrupt,
    gaussian_noise,
    masked_block,
    rotation,
    salt_and_pepper,
)

KINDS = list(CORRUPTION_FUNCTIONS)


def images(n: int = 16, c: int = 1, side: int = 28, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(seed))


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_all_corruptions_are_listed() -> None:
    assert set(KINDS) == {"gaussian", "salt-pepper", "block", "rotation"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("level", [0.05, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(16, 1, 28, 28), (4, 3, 32, 32)])
def test_shape_range_and_input_untouched(kind: str, level: float, shape: tuple[int, ...]) -> None:
    x = torch.rand(*shape, generator=gen(1))
    # Include the extremes, which noise pushes out of range unless clamped.
    x[:, :, :4] = 1.0
    x[:, :, -4:] = 0.0
    before = x.clone()
    out = corrupt(x, kind, level, gen(2))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert torch.equal(x, before), "the input must not be modified in place"
    assert not torch.equal(out, x)


@pytest.mark.parametrize("kind", KINDS)
def test_reproducible_from_generator_seed(kind: str) -> None:
    x = images()
    a = corrupt(x, kind, 0.4, gen(5))
    b = corrupt(x, kind, 0.4, gen(5))
    c = corrupt(x, kind, 0.4, gen(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("kind", ["none", *KINDS])
def test_none_and_zero_level_return_the_input(kind: str) -> None:
    x = images()
    assert corrupt(x, "none", 0.5) is x
    assert corrupt(x, kind, 0.0) is x


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(images(), "blur", 0.3)


@pytest.mark.parametrize("level", [0.05, 0.2])
def test_gaussian_noise_has_the_requested_std(level: float) -> None:
    x = torch.full((64, 1, 28, 28), 0.5)
    diff = gaussian_noise(x, level, gen(0)) - x
    # 0.5 is 2.5 sigma or more from the clamps, so clamping barely matters.
    assert diff.mean().abs() < 0.01
    assert diff.std().item() == pytest.approx(level, rel=0.05)


@pytest.mark.parametrize("level", [0.1, 0.3, 0.7])
def test_salt_and_pepper_changes_about_level_of_the_pixels(level: float) -> None:
    x = torch.full((64, 1, 28, 28), 0.5)
    out = salt_and_pepper(x, level, gen(0))
    changed = out != x
    assert changed.float().mean().item() == pytest.approx(level, abs=0.02)
    # Changed pixels are salt (1) or pepper (0), about half each.
    assert torch.all((out[changed] == 0) | (out[changed] == 1))
    salt = (out == 1).float().mean().item()
    pepper = (out == 0).float().mean().item()
    assert salt == pytest.approx(level / 2, abs=0.02) and pepper == pytest.approx(level / 2, abs=0.02)


@pytest.mark.parametrize("level", [0.1, 0.25, 0.5])
def test_block_blanks_about_level_of_the_area(level: float) -> None:
    x = torch.ones(32, 1, 28, 28)
    out = masked_block(x, level, gen(0))
    blank = (out == 0).float().mean(dim=(1, 2, 3))
    # One square block per image, the same size in every image, about `level` of the area.
    assert torch.all(blank == blank[0])
    assert blank[0].item() == pytest.approx(level, abs=0.03)
    for img in (out[i, 0] == 0 for i in range(len(out))):
        rows = img.any(dim=1).nonzero().flatten()
        cols = img.any(dim=0).nonzero().flatten()
        # Contiguous rows and columns, and every pixel of their product is blank: a rectangle.
        assert rows.max() - rows.min() + 1 == len(rows) and cols.max() - cols.min() + 1 == len(cols)
        assert img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()
        assert img.sum() == len(rows) * len(cols)
    # The block moves from image to image.
    positions = {tuple((out[i, 0] == 0).nonzero()[0].tolist()) for i in range(len(out))}
    assert len(positions) > 1


def test_block_covers_all_channels_of_rgb_images() -> None:
    out = masked_block(torch.ones(4, 3, 32, 32), 0.25, gen(0))
    blank = out == 0
    assert torch.equal(blank[:, 0], blank[:, 1]) and torch.equal(blank[:, 0], blank[:, 2])


def test_rotation_by_zero_is_near_identity() -> None:
    x = images(8, 3, 32)
    torch.testing.assert_close(rotation(x, 0.0, gen(0)), x, atol=1e-5, rtol=0)


def test_rotation_strength_grows_with_level() -> None:
    # A bar through the centre: rotating it moves its pixels.
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 12:16, 4:24] = 1.0
    small = (rotation(x, 0.02, gen(0)) - x).abs().mean().item()
    large = (rotation(x, 0.5, gen(0)) - x).abs().mean().item()
    assert small < large / 4


def test_rotation_angle_is_bounded_by_level() -> None:
    # A disc centred in the image keeps its shape under any rotation about the centre, while an
    # off-centre dot moves around a circle whose angle is at most 180 * level degrees.
    side = 33
    x = torch.zeros(200, 1, side, side)
    x[:, :, 16, 28] = 1.0  # a dot 12 pixels right of the centre
    level = 0.25
    out = rotation(x, level, gen(3))
    ys, xs = torch.meshgrid(torch.arange(side).float(), torch.arange(side).float(), indexing="ij")
    mass = out[:, 0].sum(dim=(1, 2))
    cy = (out[:, 0] * ys).sum(dim=(1, 2)) / mass
    cx = (out[:, 0] * xs).sum(dim=(1, 2)) / mass
    angles = torch.atan2(cy - 16, cx - 16).abs()
    assert angles.max().item() <= math.pi * level + 0.1
    assert angles.max().item() > math.pi * level * 0.7  # the range is actually used
