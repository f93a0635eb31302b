"""Input corruptions for denoising autoencoders (Vincent et al. 2008) and the denoising panel.

Every function takes float images in [0, 1] of shape (N, C, H, W), a strength in [0, 1]
and an optional torch.Generator, and returns a corrupted copy in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F


def gaussian_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add N(0, level^2) noise per pixel."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + level * noise).clamp_(0.0, 1.0)


def salt_and_pepper(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a fraction ``level`` of pixels to 0 or 1 (half each); all channels of a pixel together."""
    n, _, h, w = x.shape
    u = torch.rand((n, 1, h, w), generator=generator, device=x.device, dtype=x.dtype)
    out = x.masked_fill(u < level / 2, 0.0)
    return out.masked_fill_((u >= level / 2) & (u < level), 1.0)


def masked_block(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Blank one square block per image covering the fraction ``level`` of its area, at a random place."""
    n, _, h, w = x.shape
    fraction = min(level, 1.0)
    side_h = max(1, round(h * math.sqrt(fraction)))
    side_w = max(1, round(w * math.sqrt(fraction)))
    top = torch.randint(0, h - side_h + 1, (n,), generator=generator, device=x.device)
    left = torch.randint(0, w - side_w + 1, (n,), generator=generator, device=x.device)
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    in_rows = (rows[None, :] >= top[:, None]) & (rows[None, :] < (top + side_h)[:, None])
    in_cols = (cols[None, :] >= left[:, None]) & (cols[None, :] < (left + side_w)[:, None])
    mask = in_rows[:, None, :, None] & in_cols[:, None, None, :]
    return x.masked_fill(mask, 0.0)


def rotation(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate each image by a random angle in [-180 level, 180 level] degrees about its centre.

    affine_grid works in coordinates normalised to [-1, 1] on each axis, so the off-diagonal
    terms are scaled by the aspect ratio to rotate rather than shear a non-square image.
    """
    n, _, h, w = x.shape
    angles = (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * math.pi * level
    cos, sin = torch.cos(angles), torch.sin(angles)
    zero = torch.zeros_like(cos)
    row_x = torch.stack([cos, -sin * (h / w), zero], 1)
    row_y = torch.stack([sin * (w / h), cos, zero], 1)
    theta = torch.stack([row_x, row_y], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


CORRUPTION_FUNCTIONS: dict[str, Callable[[torch.Tensor, float, torch.Generator | None], torch.Tensor]] = {
    "gaussian": gaussian_noise,
    "salt-pepper": salt_and_pepper,
    "block": masked_block,
    "rotation": rotation,
}


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the named corruption; ``"none"`` or a level of 0 returns the input unchanged."""
    if kind != "none" and kind not in CORRUPTION_FUNCTIONS:
        raise ValueError(f"unknown corruption {kind!r}; expected one of {', '.join(CORRUPTION_FUNCTIONS)}")
    if kind == "none" or level <= 0:
        return x
    return CORRUPTION_FUNCTIONS[kind](x, level, generator)
