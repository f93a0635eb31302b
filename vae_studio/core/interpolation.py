"""Paths through latent space, latent arithmetic, and exporting the decoded frames.

A path runs between two latent points (encoded data points, class means or prior samples)
and is decoded frame by frame. The pixel distance between consecutive frames shows how
smooth the path is: a smooth decoder changes a little at every step, while a jump (a hole
or a fold in the latent space) shows up as one spike. Inputs and outputs are numpy arrays;
images are float32 in [0, 1] with shape (N, C, H, W), as :func:`latent.decode` returns them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .latent import decode, lerp, slerp
from .models import AE

PATH_METHODS: tuple[str, ...] = ("linear", "slerp")


def class_mean(mu: np.ndarray, labels: np.ndarray, label: int) -> np.ndarray:
    """The mean encoded point (d,) of the images of class ``label``: a path endpoint that stands
    for the class as a whole rather than for one example of it."""
    mu = np.asarray(mu, np.float64)
    members = np.asarray(labels) == label
    if not members.any():
        raise ValueError(f"no encoded point has class {label}")
    return mu[members].mean(axis=0)


def latent_path(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "slerp") -> np.ndarray:
    """``steps`` points (steps, d) from z0 to z1, both endpoints exact; ``method`` is "linear" or "slerp"."""
    if steps < 2:
        raise ValueError(f"a path needs at least 2 steps; got {steps}")
    if method == "linear":
        return lerp(z0, z1, steps)
    if method == "slerp":
        return slerp(z0, z1, steps)
    raise ValueError(f"unknown path method {method!r}; expected one of {', '.join(PATH_METHODS)}")


def pixel_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root-mean-square pixel difference between images a[i] and b[i], shape (N,).

    The mean over pixels (rather than the sum) keeps the figure in grey levels, 0 to 1, so it
    reads the same for 28x28 and 64x64 images.
    """
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return np.sqrt((diff.reshape(len(diff), -1) ** 2).mean(axis=1))


def frame_distances(frames: np.ndarray) -> np.ndarray:
    """Pixel distance (see :func:`pixel_distance`) from each frame to the next, shape (N - 1,)."""
    frames = np.asarray(frames)
    return pixel_distance(frames[1:], frames[:-1])


# Largest step over mean step: up to EVEN_RATIO a path's change is called even, above SPIKE_RATIO a jump.
EVEN_RATIO = 1.5
SPIKE_RATIO = 3.0


@dataclass(frozen=True)
class Interpolation:
    """A decoded path: codes (steps, d), frames (steps, C, H, W) and the distances between frames."""

    method: str
    codes: np.ndarray
    frames: np.ndarray
    distances: np.ndarray

    @property
    def spike_ratio(self) -> float:
        """Largest step over the mean step: 1 when every step changes the image equally, large when
        one step carries most of the change (a jump between regions of the latent space)."""
        mean = float(self.distances.mean()) if len(self.distances) else 0.0
        return float(self.distances.max()) / mean if mean > 0 else 1.0

    @property
    def smoothness(self) -> tuple[str, str]:
        """A verdict on the path, "smooth", "uneven" or "a jump", from :attr:`spike_ratio`, and why."""
        ratio = self.spike_ratio
        if ratio > SPIKE_RATIO:
            return "a jump", "one step carries much of the change: the path crosses a gap or a fold"
        if ratio > EVEN_RATIO:
            return "uneven", "the picture changes faster on some stretches of the path than on others"
        return "smooth", "the change is spread evenly along the path"


def interpolate(
    model: AE,
    z0: np.ndarray,
    z1: np.ndarray,
    steps: int = 10,
    method: str = "slerp",
    label: int | None = None,
) -> Interpolation:
    """Decode the ``method`` path from z0 to z1 (``label``: the class for a conditional model)."""
    codes = latent_path(z0, z1, steps, method)
    frames = decode(model, codes, label)
    return Interpolation(method, codes, frames, frame_distances(frames))


@dataclass(frozen=True)
class Arithmetic:
    """``codes[i] = base + strengths[i] * vector`` and their decodings ``images[i]``."""

    base: np.ndarray
    vector: np.ndarray
    strengths: np.ndarray
    codes: np.ndarray
    images: np.ndarray


def latent_arithmetic(
    model: AE,
    base: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    strengths: tuple[float, ...] | np.ndarray = (0.0, 0.5, 1.0),
    label: int | None = None,
) -> Arithmetic:
    """Add the vector from ``start`` to ``end`` (e.g. from one class mean to another, or between two
    chosen points) to the code ``base`` of a chosen image, scaled by each strength, and decode.

    The attribute-vector trick of White 2016 ("Sampling generative networks", sec. 3) and of
    the word2vec-style face arithmetic in Radford et al. 2016 (DCGAN): if the latent space is
    organised, the same offset changes the same property of any image.
    """
    base = np.asarray(base, np.float64)
    vector = np.asarray(end, np.float64) - np.asarray(start, np.float64)
    strengths = np.asarray(strengths, np.float64)
    codes = base + strengths[:, None] * vector
    return Arithmetic(base, vector, strengths, codes, decode(model, codes, label))


def _to_uint8(images: np.ndarray, scale: int) -> np.ndarray:
    """Float images in [0, 1], (..., C, H, W) -> uint8, each pixel repeated ``scale`` times per side
    (nearest neighbour: small images stay crisp instead of being blurred by a resampling filter)."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1; got {scale}")
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if scale > 1:
        images = images.repeat(scale, axis=-2).repeat(scale, axis=-1)
    return np.round(images * 255.0).astype(np.uint8)


def save_png(images: np.ndarray, path: str | os.PathLike[str], scale: int = 1, pad: int = 2) -> Path:
    """Write images as one PNG: a strip for (N, C, H, W), a grid for (rows, cols, C, H, W).

    Uses torchvision's ``save_image`` (the same grid layout as ``vae-studio sample``), with
    ``pad`` pixels of black between images, after scaling each image up ``scale`` times.
    """
    from torchvision.utils import save_image  # imported here: torchvision slows start-up by about a second

    images = np.asarray(images)
    if images.ndim == 4:
        images = images[None]
    if images.ndim != 5:
        raise ValueError(f"expected images (N, C, H, W) or (rows, cols, C, H, W); got shape {images.shape}")
    rows, cols = images.shape[:2]
    pixels = _to_uint8(images, scale)
    pixels = pixels.reshape(rows * cols, *pixels.shape[2:])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.from_numpy(pixels).float().div_(255.0), path, nrow=cols, padding=pad)
    return path


def save_gif(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    frame_ms: int = 100,
    scale: int = 4,
    bounce: bool = False,
) -> Path:
    """Write frames (N, C, H, W) as a looping animated GIF with Pillow.

    ``bounce`` plays the path forward then back (without repeating the end frames), so a loop
    of an interpolation has no jump from the last frame to the first.
    """
    from PIL import Image

    pixels = _to_uint8(frames, scale)
    if pixels.ndim != 4 or len(pixels) == 0:
        raise ValueError(f"expected frames (N, C, H, W) with N >= 1; got shape {np.shape(frames)}")
    if bounce and len(pixels) > 2:
        pixels = np.concatenate([pixels, pixels[-2:0:-1]])
    if pixels.shape[1] == 1:
        pictures = [Image.fromarray(p[0]) for p in pixels]
    else:
        pictures = [Image.fromarray(np.ascontiguousarray(p.transpose(1, 2, 0))) for p in pixels]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return path
