"""Denoising: each corruption's effect, PSNR, corrupted/reconstructed sets, the comparison of a
denoising model with a plain one, and loading a user's own picture."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_studio.core.batch_progress import Stopped
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.corruption import corrupt
from vae_studio.core.data import ImageDataset
from vae_studio.core.denoising import compare_denoising, load_user_image, mean_psnr, psnr, reconstruct
from vae_studio.core.errors import DataError
from vae_studio.core.models import AE, build_model
from vae_studio.core.trainer import Trainer


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_has_the_level_as_standard_deviation() -> None:
    x = torch.full((8, 1, 28, 28), 0.5)
    noise = corrupt(x, "gaussian", 0.1, generator()) - x
    assert noise.mean().abs() < 0.005 and noise.std() == pytest.approx(0.1, rel=0.03)


def test_salt_and_pepper_sets_the_level_fraction_to_black_or_white_across_channels() -> None:
    x = torch.full((20, 3, 28, 28), 0.5)
    out = corrupt(x, "salt-pepper", 0.2, generator())
    changed = (out != 0.5).any(dim=1)
    assert changed.float().mean() == pytest.approx(0.2, abs=0.01)
    # A pixel turns black or white in all its channels together, about half each way.
    assert torch.all(out.amin(1)[changed] == out.amax(1)[changed])
    assert (out[:, 0][changed] == 1).float().mean() == pytest.approx(0.5, abs=0.03)


def test_block_blanks_one_square_of_the_level_area_per_image() -> None:
    x = torch.ones(6, 1, 28, 28)
    out = corrupt(x, "block", 0.25, generator())
    side = round(28 * math.sqrt(0.25))
    for image in out[:, 0]:
        rows, cols = torch.nonzero(image == 0, as_tuple=True)
        assert len(rows) == side * side
        assert rows.max() - rows.min() + 1 == side and cols.max() - cols.min() + 1 == side
    assert corrupt(x, "block", 1.5, generator()).eq(0).all()  # levels above 1 blank everything


@pytest.mark.parametrize("shape", [(28, 28), (24, 40)])
def test_rotation_turns_about_the_centre(shape: tuple[int, int]) -> None:
    h, w = shape
    x = torch.zeros(16, 1, h, w)
    x[:, 0, h // 2 - 1 : h // 2 + 1, w // 2 + 5 : w // 2 + 7] = 1.0  # a dot 6 pixels right of centre
    out = corrupt(x, "rotation", 0.5, generator())
    ys, xs = torch.meshgrid(torch.arange(h) - (h - 1) / 2, torch.arange(w) - (w - 1) / 2, indexing="ij")
    mass = out[:, 0].sum((1, 2))
    cy, cx = (out[:, 0] * ys).sum((1, 2)) / mass, (out[:, 0] * xs).sum((1, 2)) / mass
    radius = torch.hypot(cy, cx)
    torch.testing.assert_close(radius, torch.full_like(radius, 6.0), atol=0.35, rtol=0)
    torch.testing.assert_close(mass, torch.full_like(mass, 4.0), atol=0.3, rtol=0)
    angles = torch.rad2deg(torch.atan2(cy, cx))
    assert angles.abs().max() <= 90.5 and angles.abs().max() > 30  # level 0.5: within +-90 degrees


def test_level_zero_and_none_leave_images_unchanged() -> None:
    x = torch.rand(2, 1, 28, 28, generator=generator())
    assert torch.equal(corrupt(x, "none", 0.5), x) and torch.equal(corrupt(x, "gaussian", 0.0), x)
    with pytest.raises(ValueError):
        corrupt(x, "smudge", 0.0)


def test_psnr_against_hand_computed_values() -> None:
    clean = np.zeros((3, 1, 10, 10))
    noisy = clean.copy()
    noisy[0] += 0.1  # MSE 0.01 -> 10 log10(1 / 0.01) = 20 dB
    noisy[1, 0, :5] = 1.0  # half the pixels off by 1: MSE 0.5 -> 3.0103 dB
    values = psnr(clean, noisy)
    np.testing.assert_allclose(values[:2], [20.0, 10 * math.log10(2)])
    assert values[2] == math.inf
    assert psnr(clean[:1], noisy[:1] * 2, peak=2.0)[0] == pytest.approx(20.0)
    assert mean_psnr(clean[:2], noisy[:2]) == pytest.approx((20.0 + 10 * math.log10(2)) / 2)
    with pytest.raises(ValueError):
        psnr(clean, noisy[:2])


def train(dataset: ImageDataset, corruption: str = "none", noise_level: float = 0.0) -> AE:
    model = build_model(ModelConfig(kind="ae", latent_dim=16, hidden_sizes=(256,)), seed=0)
    config = TrainConfig(epochs=4, batch_size=100, lr=3e-3, seed=0, corruption=corruption, noise_level=noise_level)
    Trainer(model, dataset, config).run()
    return model


@pytest.fixture(scope="module")
def small(mnist: ImageDataset) -> ImageDataset:
    return replace(
        mnist, train_images=mnist.train_images[:3000], train_labels=mnist.train_labels[:3000],
        test_images=mnist.test_images[:100], test_labels=mnist.test_labels[:100],
    )


@pytest.fixture(scope="module")
def plain(small: ImageDataset) -> AE:
    return train(small)


@pytest.fixture(scope="module")
def denoiser(small: ImageDataset) -> AE:
    return train(small, "salt-pepper", 0.3)


def test_denoising_one_model_returns_clean_corrupted_reconstructed_and_psnr(plain: AE, mnist: ImageDataset) -> None:
    images = mnist.test_images[:40]
    result = compare_denoising([plain], images.numpy(), "gaussian", 0.3, seed=4)[0]
    assert result.clean.shape == result.corrupted.shape == result.reconstructed.shape == (40, 1, 28, 28)
    np.testing.assert_allclose(result.clean, images.numpy() / 255.0, atol=1e-6)
    np.testing.assert_allclose(result.psnr_before, psnr(result.clean, result.corrupted))
    np.testing.assert_allclose(result.psnr_after, psnr(result.clean, result.reconstructed))
    assert result.mean_psnr_before == pytest.approx(float(result.psnr_before.mean()))
    np.testing.assert_array_equal(result.reconstructed, reconstruct(plain, torch.from_numpy(result.corrupted)))
    again = compare_denoising([plain], images, "gaussian", 0.3, seed=4)[0]
    np.testing.assert_array_equal(again.corrupted, result.corrupted)
    [reseeded] = compare_denoising([plain], images, "gaussian", 0.3, seed=5)
    assert not np.array_equal(reseeded.corrupted, result.corrupted)
    with pytest.raises(Stopped):
        compare_denoising([plain], images, "gaussian", 0.3, should_stop=lambda: True)


def test_denoising_model_beats_plain_model_on_the_same_inputs(plain: AE, denoiser: AE, mnist: ImageDataset) -> None:
    calls: list[tuple[int, int]] = []
    denoised, unchanged = compare_denoising(
        [denoiser, plain], mnist.test_images[:300], "salt-pepper", 0.3, seed=1, progress=lambda *a: calls.append(a)
    )
    assert calls[-1] == (600, 600)
    np.testing.assert_array_equal(denoised.corrupted, unchanged.corrupted)
    np.testing.assert_array_equal(denoised.psnr_before, unchanged.psnr_before)
    single = compare_denoising([plain], mnist.test_images[:300], "salt-pepper", 0.3, seed=1)[0]
    np.testing.assert_array_equal(single.reconstructed, unchanged.reconstructed)
    assert denoised.mean_psnr_after > denoised.mean_psnr_before + 3
    # Both models are small and briefly trained (seeded), yet the denoising one is clearly ahead.
    assert denoised.mean_psnr_after > unchanged.mean_psnr_after + 0.5
    # Binarized clean images for a model trained on binarized data.
    binary = compare_denoising([plain], mnist.test_images[:5], "block", 0.2, binarize="dynamic")[0]
    assert set(np.unique(binary.clean)) <= {0.0, 1.0}


def write(path: Path, array: np.ndarray, mode: str) -> Path:
    Image.fromarray(array, mode).save(path)
    return path


def test_user_drawing_on_paper_becomes_an_mnist_like_digit(tmp_path: Path) -> None:
    # A dark 60x20 stroke on white paper, off centre in a 200x120 picture.
    paper = np.full((120, 200), 240, np.uint8)
    paper[10:70, 150:170] = 20
    image = load_user_image(write(tmp_path / "drawing.png", paper, "L"), (1, 28, 28))
    assert image.inverted and image.pixels.shape == (1, 28, 28) and image.pixels.dtype == np.uint8
    pixels = image.pixels[0].astype(float)
    assert pixels.max() == 255 and pixels[0].max() == 0 and pixels[:, 0].max() == 0  # black background
    rows, cols = np.nonzero(pixels > 25)
    assert rows.max() - rows.min() + 1 == 20  # the long side fills the 20-pixel box
    cy = (pixels.sum(1) @ np.arange(28)) / pixels.sum()
    cx = (pixels.sum(0) @ np.arange(28)) / pixels.sum()
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    assert image.batch().shape == (1, 1, 28, 28)


def test_user_image_transparency_colour_and_plain_resize(tmp_path: Path) -> None:
    rgba = np.zeros((50, 50, 4), np.uint8)
    rgba[20:30, 10:40] = (0, 0, 0, 255)  # a black bar on a transparent background
    image = load_user_image(write(tmp_path / "bar.png", rgba, "RGBA"), (3, 32, 32))
    assert image.inverted and image.pixels.shape == (3, 32, 32)
    assert np.array_equal(image.pixels[0], image.pixels[2]) and image.pixels.max() == 255
    light = np.zeros((40, 40, 3), np.uint8)
    light[:, :20] = 200
    plain = load_user_image(write(tmp_path / "half.png", light, "RGB"), (1, 20, 20), mnist_style=False)
    assert not plain.inverted and plain.pixels[0, :, :8].min() >= 195 and plain.pixels[0, :, 12:].max() <= 5
    forced = load_user_image(tmp_path / "half.png", (1, 20, 20), invert=True)
    assert forced.inverted


def test_user_image_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_user_image(tmp_path / "missing.png", (1, 28, 28))
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DataError, match="Cannot read"):
        load_user_image(tmp_path / "notes.png", (1, 28, 28))
