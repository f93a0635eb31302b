"""How a model uses each latent dimension: KL per dimension, active units, and traversals.

A traversal varies one latent dimension of a chosen point over a range (others fixed) and decodes
each value: one row per dimension shows what that dimension controls (Higgins et al. 2017,
"beta-VAE", fig. 1). Rows are ordered by how much the dimension is used, so the dimensions the
KL term switched off (posterior collapse: their posterior equals the prior, so they carry no
information) sit at the bottom, decoding to the same image all along the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .latent import Encoding, decode
from .losses import kl_per_dimension
from .models import AE

# Burda et al. 2016 ("Importance weighted autoencoders", sec. 5.2) count a unit as active when
# the variance over the data of its posterior mean, Cov_x(E_q(u|x)[u]), exceeds 0.01.
ACTIVE_THRESHOLD = 0.01


@dataclass(frozen=True)
class DimensionUsage:
    """Per latent dimension (d,): the mean KL to the prior in nats (None for a plain AE, which has
    no posterior), the variance of the encoded means over the data, and whether it is active.
    ``order`` lists the dimensions from most to least used: by KL for a VAE, by variance for an AE."""

    kl: np.ndarray | None
    mu_variance: np.ndarray
    active: np.ndarray
    order: np.ndarray
    threshold: float

    @property
    def n_active(self) -> int:
        return int(self.active.sum())

    @property
    def collapse_warning(self) -> bool:
        """True when most dimensions are inactive: the posterior has collapsed to the prior in them
        (Bowman et al. 2016; often from a large beta or a decoder strong enough to ignore z)."""
        return (len(self.active) - self.n_active) > len(self.active) / 2


def dimension_usage(encoding: Encoding, threshold: float = ACTIVE_THRESHOLD) -> DimensionUsage:
    """KL per dimension (mean over the encoded points, from ``losses.kl_per_dimension``) and active
    units (variance of mu above ``threshold``) of an encoded data set, e.g. the test split."""
    mu = np.asarray(encoding.mu, np.float64)
    if len(mu) == 0:
        raise ValueError("dimension usage needs at least one encoded point")
    variance = mu.var(axis=0)
    kl = None
    if encoding.logvar is not None:
        kl = kl_per_dimension(torch.from_numpy(mu), torch.from_numpy(np.asarray(encoding.logvar, np.float64)))
        kl = kl.mean(dim=0).numpy()
    usage = kl if kl is not None else variance
    order = np.argsort(-usage, kind="stable")
    return DimensionUsage(kl, variance, variance > threshold, order, threshold)


def traversal_values(steps: int = 9, span: float = 3.0, mu: np.ndarray | None = None) -> np.ndarray:
    """Values a traversal visits: ``steps`` values from -span to span (the prior's +-3 sigma), shape
    (steps,); or, given encoded means ``mu`` (N, d), each dimension's mean +- span of its standard
    deviation, shape (d, steps). The second suits a plain AE, whose codes are not on the prior's
    scale, so a fixed -3..3 may cover only a sliver of where its codes lie, or far more."""
    if steps < 2:
        raise ValueError(f"a traversal needs at least 2 steps; got {steps}")
    unit = np.linspace(-span, span, steps)
    if mu is None:
        return unit
    mu = np.asarray(mu, np.float64)
    return mu.mean(axis=0)[:, None] + mu.std(axis=0)[:, None] * unit


@dataclass(frozen=True)
class Traversal:
    """Row r varies dimension ``dims[r]`` over ``values[r]``: codes (rows, steps, d) and images
    (rows, steps, C, H, W); :func:`latent.tile` or :func:`interpolation.save_png` lay it out."""

    dims: np.ndarray
    values: np.ndarray
    codes: np.ndarray
    images: np.ndarray


def traverse(
    model: AE,
    z: np.ndarray,
    dims: Sequence[int] | np.ndarray,
    values: np.ndarray,
    label: int | None = None,
) -> Traversal:
    """Set dimension ``dims[r]`` of the point ``z`` (d,) to each value, keeping the others, and decode.

    ``values`` is (steps,) for every row alike or (d, steps) with one row per latent dimension
    (as :func:`traversal_values` gives with ``mu``); pass ``DimensionUsage.order`` as ``dims`` to
    list the most used dimensions first. ``label``: the class for a conditional model.
    """
    z = np.asarray(z, np.float64)
    dims = np.asarray(dims, np.int64)
    values = np.asarray(values, np.float64)
    rows_values = values[dims] if values.ndim == 2 else np.broadcast_to(values, (len(dims), len(values)))
    steps = rows_values.shape[1]
    codes = np.broadcast_to(z, (len(dims), steps, len(z))).copy()
    codes[np.arange(len(dims)), :, dims] = rows_values
    images = decode(model, codes.reshape(-1, len(z)), label)
    return Traversal(dims, rows_values.copy(), codes, images.reshape(len(dims), steps, *images.shape[1:]))
