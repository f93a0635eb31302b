"""Latent paths, frame distances, latent arithmetic and PNG/GIF export (core/interpolation.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vae_studio.core import latent
from vae_studio.core.config import ModelConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.interpolation import (
    Interpolation,
    class_mean,
    frame_distances,
    interpolate,
    latent_arithmetic,
    latent_path,
    pixel_distance,
    save_gif,
    save_png,
)
from vae_studio.core.models import AE, build_model


@pytest.fixture(scope="module")
def model() -> AE:
    return build_model(ModelConfig(kind="vae", latent_dim=3, hidden_sizes=(16,)), seed=0).eval()


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_path_endpoints_are_exact(method: str) -> None:
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(5), rng.standard_normal(5)
    path = latent_path(z0, z1, 7, method)
    assert path.shape == (7, 5)
    assert np.array_equal(path[0], z0) and np.array_equal(path[-1], z1)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints() -> None:
    rng = np.random.default_rng(1)
    z0, z1 = rng.standard_normal(8), rng.standard_normal(8)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    norms = np.linalg.norm(latent_path(z0, z1, 11, "slerp"), axis=1)
    assert np.allclose(norms, np.linalg.norm(z0))
    # The straight line cuts through the low-density centre instead.
    assert np.linalg.norm(latent_path(z0, z1, 11, "linear"), axis=1)[5] < norms[5]


def test_path_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        latent_path(np.zeros(2), np.ones(2), 5, "cubic")
    with pytest.raises(ValueError, match="2 steps"):
        latent_path(np.zeros(2), np.ones(2), 1)


def test_class_mean() -> None:
    mu = np.array([[0.0, 0.0], [2.0, 4.0], [10.0, 10.0]])
    assert np.allclose(class_mean(mu, np.array([1, 1, 0]), 1), [1.0, 2.0])
    with pytest.raises(ValueError, match="class 5"):
        class_mean(mu, np.array([1, 1, 0]), 5)


def test_class_mean_path_decodes_a_strip(model: AE, tiny_mnist: ImageDataset) -> None:
    encoding = latent.encode(model, tiny_mnist.test_images)
    labels = tiny_mnist.test_labels.numpy()
    start, end = class_mean(encoding.mu, labels, 0), class_mean(encoding.mu, labels, 1)
    result = interpolate(model, start, end, steps=8, method="linear")
    assert result.codes.shape == (8, 3) and result.frames.shape == (8, 1, 28, 28)
    assert np.array_equal(result.codes[0], start) and np.array_equal(result.codes[-1], end)
    assert np.allclose(result.frames[0], latent.decode(model, start)[0])
    assert result.distances.shape == (7,) and (result.distances >= 0).all()
    assert np.allclose(result.distances, frame_distances(result.frames))


def test_frame_distances_and_spikes() -> None:
    levels = [0.0, 0.1, 0.3, 0.4]
    frames = np.stack([np.full((1, 4, 4), v, np.float32) for v in levels])
    assert np.allclose(frame_distances(frames), [0.1, 0.2, 0.1])  # RMS of a uniform change is the change
    assert np.allclose(pixel_distance(frames[:1], frames[3:]), [0.4])
    even = Interpolation("linear", np.zeros((4, 1)), frames, np.array([0.1, 0.1, 0.1]))
    jump = Interpolation("linear", np.zeros((5, 1)), frames, np.array([0.1, 0.1, 0.1, 0.7]))
    flat = Interpolation("linear", np.zeros((3, 1)), frames, np.zeros(2))
    assert even.spike_ratio == pytest.approx(1.0)
    assert jump.spike_ratio == pytest.approx(0.7 / 0.25)
    assert flat.spike_ratio == 1.0


def test_latent_arithmetic(model: AE) -> None:
    base, start, end = np.array([0.5, 0.0, -1.0]), np.array([1.0, 1.0, 1.0]), np.array([2.0, 3.0, 1.0])
    result = latent_arithmetic(model, base, start, end, strengths=(0.0, 1.0, 2.0))
    assert np.allclose(result.vector, [1.0, 2.0, 0.0])
    assert np.allclose(result.codes, [[0.5, 0.0, -1.0], [1.5, 2.0, -1.0], [2.5, 4.0, -1.0]])
    assert result.images.shape == (3, 1, 28, 28)
    assert np.allclose(result.images, latent.decode(model, result.codes))
    assert np.allclose(result.images[0], latent.decode(model, base)[0])


def _frames(n: int) -> np.ndarray:
    """n distinct 1x8x8 frames: a bright column moving right over a dim gradient."""
    frames = np.tile(np.linspace(0.0, 0.4, 8, dtype=np.float32), (n, 1, 8, 1))
    for i in range(n):
        frames[i, 0, :, i] = 1.0
    return frames


def test_png_strip_and_grid_are_readable(tmp_path) -> None:
    frames = _frames(5)
    path = save_png(frames, tmp_path / "out" / "strip.png", scale=2, pad=2)
    with Image.open(path) as image:
        assert image.size == (5 * (16 + 2) + 2, 16 + 2 + 2)
        pixels = np.asarray(image.convert("L"))
    # Frame 0 starts after the padding; its first column is the bright one, scaled to 2 pixels.
    assert np.all(pixels[2:18, 2:4] == 255)
    assert np.allclose(pixels[2:18, 4:18], np.round(frames[0, 0, :, 1:].repeat(2, 0).repeat(2, 1) * 255), atol=1)

    grid = np.stack([frames[:3], frames[2:]])  # (2, 3, 1, 8, 8)
    with Image.open(save_png(grid, tmp_path / "grid.png", pad=0)) as image:
        assert image.size == (3 * 8, 2 * 8)
    with pytest.raises(ValueError, match="expected images"):
        save_png(frames[0], tmp_path / "bad.png")


@pytest.mark.parametrize(("bounce", "expected"), [(False, 5), (True, 8)])
def test_gif_is_readable(tmp_path, bounce: bool, expected: int) -> None:
    frames = _frames(5)
    path = save_gif(frames, tmp_path / "path.gif", frame_ms=50, scale=3, bounce=bounce)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == expected and gif.size == (24, 24)
        gif.seek(1)
        second = np.asarray(gif.convert("L"), np.float32)
    assert np.allclose(second, np.round(frames[1, 0].repeat(3, 0).repeat(3, 1) * 255), atol=1)


def test_gif_of_colour_frames(tmp_path) -> None:
    frames = np.zeros((3, 3, 8, 8), np.float32)
    for i in range(3):
        frames[i, i] = 1.0  # red, green, blue
    with Image.open(save_gif(frames, tmp_path / "rgb.gif", scale=1)) as gif:
        assert gif.n_frames == 3 and gif.size == (8, 8)
        gif.seek(2)
        assert gif.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
