"""Image folders with an attribute table beside them (CelebA's list_attr_celeba.txt layout), for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_squares(folder: Path, n: int, side: int = 32, zero_one: bool = False) -> None:
    """Coloured squares near the middle of black images, large (16 px) or small (6 px), red or blue,
    with a table of both attributes."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    lines = [str(n), "Large Red"]
    for i in range(n):
        large, red = bool(rng.integers(2)), bool(rng.integers(2))
        size = 16 if large else 6
        x, y = (side - size) // 2 + rng.integers(-2, 3, 2)
        pixels = np.zeros((side, side, 3), np.uint8)
        pixels[y : y + size, x : x + size] = (230, 40, 40) if red else (40, 40, 230)
        Image.fromarray(pixels).save(folder / f"{i:05d}.png")
        no = "0" if zero_one else "-1"
        lines.append(f"{i:05d}.png {'1' if large else no} {'1' if red else no}")
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
