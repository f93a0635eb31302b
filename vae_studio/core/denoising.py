"""Denoising: corrupt test images, reconstruct them, and measure the gain in PSNR.

A denoising autoencoder (Vincent et al. 2008, "Extracting and composing robust features with
denoising autoencoders") is trained to reconstruct the clean image from a corrupted copy
(``TrainConfig(corruption=..., noise_level=...)``). Here the same corrupted inputs (one
generator seed) go through any number of models, so a denoising model and a plain one can be
compared image by image. Also: loading a user's own picture into a model's image shape.

Inputs are uint8 images (N, C, H, W) as torch tensors or numpy arrays; outputs are numpy
arrays (float32 images in [0, 1], float64 figures), safe to hand from a worker thread to the GUI.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .batch_progress import ProgressCallback, StopCheck, checkpoint
from .batches import evaluation_images, image_tensor
from .corruption import corrupt
from .errors import DataError
from .models import AE

RECONSTRUCT_BATCH = 1000
# MNIST's digits were scaled to fit a 20x20 box and centred by their centre of mass in the
# 28x28 field (LeCun et al., "The MNIST database of handwritten digits").
MNIST_BOX_FRACTION = 20 / 28
# After background removal, pixels at least this bright (0..1) count as ink for the bounding box.
INK_THRESHOLD = 0.1


def psnr(reference: np.ndarray, images: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio per image in dB: 10 log10(peak^2 / MSE), MSE over all pixels.

    The standard definition (e.g. Gonzalez & Woods, "Digital Image Processing"); an MSE of
    0.01 with peak 1 gives 20 dB, identical images give +inf.
    """
    reference = np.asarray(reference, dtype=np.float64)
    images = np.asarray(images, dtype=np.float64)
    if reference.shape != images.shape:
        raise ValueError(f"PSNR needs images of one shape; got {reference.shape} and {images.shape}")
    mse = ((reference - images) ** 2).reshape(len(reference), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak**2 / mse)


def mean_psnr(reference: np.ndarray, images: np.ndarray, peak: float = 1.0) -> float:
    """The mean of the per-image PSNRs (the figure denoising papers report), in dB."""
    return float(np.mean(psnr(reference, images, peak)))


@torch.inference_mode()
def reconstruct(
    model: AE,
    x: torch.Tensor,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    batch_size: int = RECONSTRUCT_BATCH,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> np.ndarray:
    """Float images (N, C, H, W) in [0, 1] -> the decoder's mean image for the posterior mean code.

    Decoding the mean code rather than a sample makes the reconstruction deterministic, which
    is what a user comparing pictures expects (and what a plain autoencoder does anyway).
    """
    was_training = model.training
    model.eval()
    device = model.device
    labels_t = None if labels is None or not model.config.conditional else torch.as_tensor(labels)
    out = np.empty(tuple(x.shape), dtype=np.float32)
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(device=device, dtype=model.dtype)
            yb = None if labels_t is None else labels_t[start : start + batch_size].to(device)
            result = model(xb, yb, sample=False)
            out[start : start + len(xb)] = torch.sigmoid(result.logits).float().cpu().numpy()
            checkpoint(start + len(xb), len(x), progress, should_stop)
    finally:
        model.train(was_training)
    return out


@dataclass(frozen=True)
class DenoisingResult:
    """Clean, corrupted and reconstructed images (float32, (N, C, H, W)) and their PSNR against clean."""

    kind: str
    level: float
    clean: np.ndarray
    corrupted: np.ndarray
    reconstructed: np.ndarray
    psnr_before: np.ndarray  # corrupted vs clean, dB per image
    psnr_after: np.ndarray  # reconstruction vs clean, dB per image

    @property
    def mean_psnr_before(self) -> float:
        return float(np.mean(self.psnr_before))

    @property
    def mean_psnr_after(self) -> float:
        return float(np.mean(self.psnr_after))


def corrupted_pair(
    images: torch.Tensor | np.ndarray, kind: str, level: float, *, binarize: str = "none", seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, corrupted) float images: clean as a model trained with ``binarize`` sees the test set,
    corrupted from one CPU generator seeded with ``seed``, so the same seed gives the same inputs."""
    clean = evaluation_images(image_tensor(images), binarize)
    return clean, corrupt(clean, kind, level, torch.Generator().manual_seed(seed))


def compare_denoising(
    models: Sequence[AE],
    images: torch.Tensor | np.ndarray,
    kind: str,
    level: float,
    *,
    labels: torch.Tensor | np.ndarray | None = None,
    binarize: str = "none",
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> list[DenoisingResult]:
    """Corrupt ``images`` once and reconstruct the same corrupted inputs with every model in ``models``.

    Typically a denoising model and a plain one: the PSNR gain of each, on identical inputs,
    shows what training on corrupted inputs bought. Progress counts images over all models.
    """
    clean, corrupted = corrupted_pair(images, kind, level, binarize=binarize, seed=seed)
    clean_np, corrupted_np = clean.numpy(), corrupted.numpy()
    before = psnr(clean_np, corrupted_np)
    n = len(clean)
    results = []
    shape = tuple(clean.shape[1:])
    for i, model in enumerate(models):
        if tuple(model.config.image_shape) != shape:
            raise ValueError(f"model {i} takes images of shape {model.config.image_shape}, not {shape}")

        def offset_progress(done: int, _total: int, first: int = i * n) -> None:
            if progress is not None:
                progress(first + done, n * len(models))

        reconstructed = reconstruct(model, corrupted, labels, progress=offset_progress, should_stop=should_stop)
        results.append(
            DenoisingResult(kind, level, clean_np, corrupted_np, reconstructed, before, psnr(clean_np, reconstructed))
        )
    return results


@dataclass(frozen=True)
class UserImage:
    """A user's picture in a model's image shape: uint8 (C, H, W), and whether it was inverted."""

    pixels: np.ndarray
    inverted: bool

    def batch(self) -> torch.Tensor:
        """The image as a uint8 batch of one, (1, C, H, W), for encode / reconstruct."""
        return torch.from_numpy(self.pixels[None].copy())


def _luma(array: np.ndarray) -> np.ndarray:
    """(H, W, C) floats -> (H, W) brightness with the ITU-R 601 weights Pillow's convert("L") uses."""
    if array.shape[2] == 1:
        return array[:, :, 0]
    return array @ np.array([0.299, 0.587, 0.114])


def _read_rgb(path: str) -> np.ndarray:
    """The picture as (H, W, 3) floats in [0, 1], transparent areas filled so that the drawing
    shows: a dark drawing goes on white, a light one on black."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
                alpha = rgba[:, :, 3:]
                opaque = alpha[:, :, 0] > 0.5
                ink = _luma(rgba[:, :, :3])[opaque]
                background = 1.0 if ink.size and ink.mean() < 0.5 else 0.0
                return rgba[:, :, :3] * alpha + background * (1.0 - alpha)
            return np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise DataError(f"Image file not found: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"Cannot read {path} as an image ({exc}).") from exc


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) floats in [0, 1] -> (height, width, 3), Lanczos-filtered by Pillow."""
    image = Image.fromarray(np.round(array * 255.0).astype(np.uint8), "RGB")
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float64) / 255.0


def _border(luma: np.ndarray) -> np.ndarray:
    return np.concatenate([luma[0], luma[-1], luma[:, 0], luma[:, -1]])


def _mnist_layout(rgb: np.ndarray, height: int, width: int, invert: bool | None) -> tuple[np.ndarray, bool]:
    """Light-on-dark, background removed, cropped, fitted to 20/28 of the field, centred by mass."""
    luma = _luma(rgb)
    inverted = bool(np.median(_border(luma)) > 0.5) if invert is None else invert
    if inverted:
        rgb, luma = 1.0 - rgb, 1.0 - luma
    background, top = float(np.median(_border(luma))), float(luma.max())
    if top > background:
        rgb = np.clip((rgb - background) / (top - background), 0.0, 1.0)
        luma = _luma(rgb)
    rows, cols = np.nonzero(luma >= INK_THRESHOLD)
    if not len(rows):
        return rgb, inverted  # a blank picture: nothing to crop or centre
    rgb = rgb[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    box_h, box_w = max(1, round(height * MNIST_BOX_FRACTION)), max(1, round(width * MNIST_BOX_FRACTION))
    scale = min(box_h / rgb.shape[0], box_w / rgb.shape[1])
    new_h, new_w = max(1, round(rgb.shape[0] * scale)), max(1, round(rgb.shape[1] * scale))
    digit = _resize(rgb, new_w, new_h)
    mass = _luma(digit)
    total = mass.sum()
    cy = (mass.sum(axis=1) @ np.arange(new_h)) / total if total > 0 else (new_h - 1) / 2
    cx = (mass.sum(axis=0) @ np.arange(new_w)) / total if total > 0 else (new_w - 1) / 2
    top_row = int(np.clip(round((height - 1) / 2 - cy), 0, height - new_h))
    left_col = int(np.clip(round((width - 1) / 2 - cx), 0, width - new_w))
    canvas = np.zeros((height, width, 3))
    canvas[top_row : top_row + new_h, left_col : left_col + new_w] = digit
    return canvas, inverted


def load_user_image(
    path: str | os.PathLike[str],
    image_shape: tuple[int, int, int],
    *,
    mnist_style: bool = True,
    invert: bool | None = None,
) -> UserImage:
    """Read a PNG/JPEG/... file (via Pillow) as one image of ``image_shape`` (C, H, W) for a model.

    With ``mnist_style`` the picture is prepared the way MNIST's digits were (LeCun et al.):
    light-on-dark (``invert=None`` inverts it when its border is bright, as with a pen drawing
    on paper; True/False force it), the background level removed and the contrast stretched,
    cropped to the drawing, scaled to fit 20/28 of the field keeping its aspect ratio, and placed
    so that its centre of mass is at the centre. Without it, the picture is only stretched to
    the shape (like the folder loader). Grayscale models get the ITU-R 601 luma.
    Raises DataError when the file is missing or not an image.
    """
    return user_image_from_rgb(_read_rgb(os.fspath(path)), image_shape, mnist_style=mnist_style, invert=invert)


def user_image_from_rgb(
    rgb: np.ndarray,
    image_shape: tuple[int, int, int],
    *,
    mnist_style: bool = True,
    invert: bool | None = None,
) -> UserImage:
    """A picture given as (H, W, 3) floats in [0, 1] (e.g. drawn on the GUI's canvas) as one image of
    ``image_shape``, prepared exactly as :func:`load_user_image` prepares a file's picture."""
    channels, height, width = image_shape
    rgb = np.asarray(rgb, dtype=np.float64)
    inverted = False
    if mnist_style:
        rgb, inverted = _mnist_layout(rgb, height, width, invert)
    if rgb.shape[:2] != (height, width):
        rgb = _resize(rgb, width, height)
    array = _luma(rgb)[None] if channels == 1 else rgb.transpose(2, 0, 1)
    return UserImage(np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8), inverted)
