"""Procedural "shapes" data set: circles, squares and triangles with known factors.

Every image is drawn from five generative factors, stored with it so the GUI
can colour a latent space by any of them:

* ``shape``: class index (0 circle, 1 square, 2 triangle), also the label;
* ``scale``: 0 (smallest) to 1 (largest);
* ``rotation``: 0 to 1, a fraction of the shape's symmetry turn (90 degrees for
  a square, 120 for a triangle, so 0 and 1 look the same; a circle does not
  change with it);
* ``x``, ``y``: 0 to 1, centre position from left to right and top to bottom.

Shapes are drawn from a signed distance (negative inside) with a one-pixel
linear ramp across the edge, which approximates the pixel's area coverage and
so gives anti-aliased edges without supersampling. Positions are limited so
that even the largest shape at any rotation keeps a blank border.
"""

from __future__ import annotations

import numpy as np
import torch

from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.errors import ConfigError

FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
CLASS_NAMES = ("circle", "square", "triangle")
MIN_IMAGE_SIZE = 16

# Shape size as a fraction of the image side: circle radius at scale 0 and 1.
_MIN_RADIUS, _MAX_RADIUS = 0.12, 0.2
# Square half-side and triangle circumradius relative to the circle radius, so the
# three shapes look about equally big; the triangle reaches furthest from its centre.
_SQUARE_HALF_SIDE = 0.9
_TRIANGLE_RADIUS = 1.35
_REACH = _TRIANGLE_RADIUS  # largest centre-to-outline distance of any shape, in radii
_MARGIN = 1.5  # pixels between the furthest outline point and the image edge
_CHUNK = 2048  # images per vectorised batch: bounds the float32 temporaries to ~100 MB at 64x64


def sample_factors(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random factor rows (float32, columns as in FACTOR_NAMES), uniform over all factors."""
    factors = np.empty((count, len(FACTOR_NAMES)), dtype=np.float32)
    factors[:, 0] = rng.integers(0, len(CLASS_NAMES), count)
    factors[:, 1:] = rng.random((count, len(FACTOR_NAMES) - 1), dtype=np.float32)
    return factors


def _polygon_distance(
    dx: np.ndarray, dy: np.ndarray, angle: np.ndarray, sides: int, apothem: np.ndarray
) -> np.ndarray:
    """Signed distance to regular polygons: the largest distance past any edge line.

    Exact inside; outside near corners it underestimates, which only softens the
    corner pixels' anti-aliasing slightly. ``dx`` is (n, 1, S) and ``dy`` (n, S, 1),
    so each edge costs one broadcast add over the (n, S, S) image block.
    """
    distance = None
    for k in range(sides):
        normal = angle + 2 * np.pi * k / sides
        edge = np.cos(normal)[:, None, None] * dx + np.sin(normal)[:, None, None] * dy
        distance = edge if distance is None else np.maximum(distance, edge, out=distance)
    return distance - apothem[:, None, None]


def render_shapes(factors: np.ndarray, image_size: int = 28) -> np.ndarray:
    """Grayscale uint8 images (N, image_size, image_size) for factor rows as made by :func:`sample_factors`."""
    if image_size < MIN_IMAGE_SIZE:
        raise ConfigError(f"Shapes need an image size of at least {MIN_IMAGE_SIZE} pixels, got {image_size}.")
    factors = np.asarray(factors, dtype=np.float32)
    size = float(image_size)
    radius = size * (_MIN_RADIUS + factors[:, 1] * (_MAX_RADIUS - _MIN_RADIUS))
    border = _REACH * _MAX_RADIUS * size + _MARGIN
    cx = border + factors[:, 3] * (size - 2 * border)
    cy = border + factors[:, 4] * (size - 2 * border)
    centres = np.arange(image_size, dtype=np.float32) + 0.5

    images = np.empty((len(factors), image_size, image_size), dtype=np.uint8)
    shape = factors[:, 0].astype(np.int64)
    for index, sides, period in ((0, 0, 2 * np.pi), (1, 4, np.pi / 2), (2, 3, 2 * np.pi / 3)):
        rows = np.flatnonzero(shape == index)
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            dx = (centres[None, :] - cx[part, None])[:, None, :]
            dy = (centres[None, :] - cy[part, None])[:, :, None]
            r = radius[part]
            if sides == 0:
                distance = np.sqrt(dx * dx + dy * dy) - r[:, None, None]
            else:
                # A triangle's apothem is half its circumradius; its first edge normal
                # points down (+y), giving a flat base and an upward tip at rotation 0.
                angle = factors[part, 2] * period + (np.pi / 2 if sides == 3 else 0.0)
                apothem = r * (_SQUARE_HALF_SIDE if sides == 4 else _TRIANGLE_RADIUS / 2)
                distance = _polygon_distance(dx, dy, angle.astype(np.float32), sides, apothem)
            coverage = np.clip(0.5 - distance, 0.0, 1.0)
            images[part] = np.rint(coverage * 255.0).astype(np.uint8)
    return images


def make_shapes(n_train: int = 20_000, n_test: int = 4_000, image_size: int = 28, seed: int = 0) -> ImageDataset:
    """The shapes data set: the same seed always gives the same images and factors.

    Train and test draw from independent streams of the seed, so the test split
    does not change when ``n_train`` does.
    """
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    splits = {}
    for split, rng, count in (("train", train_rng, n_train), ("test", test_rng, n_test)):
        factors = sample_factors(rng, count)
        images = torch.from_numpy(render_shapes(factors, image_size)).unsqueeze(1)
        splits[split] = (images, torch.from_numpy(factors[:, 0].astype(np.int64)), torch.from_numpy(factors))
    return ImageDataset(
        name="shapes",
        train_images=splits["train"][0],
        test_images=splits["test"][0],
        train_labels=splits["train"][1],
        test_labels=splits["test"][1],
        class_names=CLASS_NAMES,
        factor_names=FACTOR_NAMES,
        train_factors=splits["train"][2],
        test_factors=splits["test"][2],
        notes=(f"Generated with seed {seed}: {n_train} train and {n_test} test images.",),
    )
