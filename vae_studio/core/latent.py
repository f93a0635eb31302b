"""Latent-space maths shared by every view: encoding, decoding, view planes, grids, paths, samples.

Inputs and outputs are numpy arrays (plain copies), so results can cross threads safely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .batches import to_float
from .models import AE

ENCODE_BATCH = 5000


@dataclass(frozen=True)
class Encoding:
    """Posterior means (N, d) and log variances (N, d; None for a plain AE) as float32."""

    mu: np.ndarray
    logvar: np.ndarray | None

    @property
    def sigma(self) -> np.ndarray | None:
        return None if self.logvar is None else np.exp(0.5 * self.logvar)


def _labels_tensor(labels: np.ndarray | torch.Tensor | int | None, device: torch.device) -> torch.Tensor | None:
    return None if labels is None else torch.as_tensor(np.asarray(labels), device=device).long()


@torch.inference_mode()
def encode(
    model: AE,
    images: torch.Tensor,
    labels: torch.Tensor | np.ndarray | None = None,
    batch_size: int = ENCODE_BATCH,
) -> Encoding:
    """Encode uint8 images (N, C, H, W) to the posterior's mean and log variance."""
    device = model.device
    labels_t = _labels_tensor(labels, device) if model.config.conditional else None
    mus, logvars = [], []
    for start in range(0, len(images), batch_size):
        x = to_float(images[start : start + batch_size].to(device))
        y = None if labels_t is None else labels_t[start : start + batch_size]
        mu, logvar = model.encode(x, y)
        mus.append(mu.float().cpu().numpy())
        if logvar is not None:
            logvars.append(logvar.float().cpu().numpy())
    d = model.config.latent_dim
    mu_all = np.concatenate(mus) if mus else np.zeros((0, d), np.float32)
    if not model.variational:
        return Encoding(mu_all, None)
    return Encoding(mu_all, np.concatenate(logvars) if logvars else np.zeros((0, d), np.float32))


@torch.inference_mode()
def decode(
    model: AE,
    z: np.ndarray,
    labels: np.ndarray | int | None = None,
    batch_size: int = ENCODE_BATCH,
) -> np.ndarray:
    """Decode latent points (N, d) or one point (d,) to mean images in [0, 1], float32 (N, C, H, W)."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float32))
    device = model.device
    labels_t = _labels_tensor(labels, device) if model.config.conditional else None
    if labels_t is not None and labels_t.ndim == 0:
        labels_t = labels_t.expand(len(z))
    out = []
    for start in range(0, len(z), batch_size):
        zb = torch.from_numpy(z[start : start + batch_size]).to(device=device, dtype=model.dtype)
        y = None if labels_t is None else labels_t[start : start + batch_size]
        out.append(model.decode(zb, y).float().cpu().numpy())
    if not out:
        return np.zeros((0, *model.config.image_shape), np.float32)
    return np.concatenate(out)


@dataclass(frozen=True)
class ViewPlane:
    """An affine plane through latent space: z = origin + x * u + y * v.

    ``u`` and ``v`` are orthonormal (``v`` is zero for a 1-D latent space), so
    ``to_plane(to_latent(p)) == p`` and every point shown on screen decodes to exactly the
    latent vector ``to_latent`` gives. Kept in float64 so the round trip is exact to rounding.
    """

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    x_label: str
    y_label: str
    kind: str  # "axes" or "pca"

    @property
    def latent_dim(self) -> int:
        return len(self.origin)

    def to_latent(self, xy: np.ndarray) -> np.ndarray:
        """Plane coordinates (M, 2) or (2,) -> latent vectors (M, d) or (d,)."""
        xy = np.asarray(xy, dtype=np.float64)
        return self.origin + xy[..., :1] * self.u + xy[..., 1:2] * self.v

    def to_plane(self, z: np.ndarray) -> np.ndarray:
        """Latent vectors (M, d) or (d,) -> plane coordinates of their orthogonal projection."""
        offset = np.asarray(z, dtype=np.float64) - self.origin
        return np.stack([offset @ self.u, offset @ self.v], axis=-1)

    @classmethod
    def axes(cls, latent_dim: int, x_axis: int = 0, y_axis: int = 1, anchor: np.ndarray | None = None) -> ViewPlane:
        """Two latent axes; the other coordinates stay at ``anchor`` (default: the prior's mean, 0)."""
        if not 0 <= x_axis < latent_dim or (latent_dim > 1 and not 0 <= y_axis < latent_dim) or (
            latent_dim > 1 and x_axis == y_axis
        ):
            raise ValueError(f"axes {x_axis} and {y_axis} are not two different axes of a {latent_dim}-D space")
        origin = np.zeros(latent_dim) if anchor is None else np.array(anchor, dtype=np.float64)
        u = np.zeros(latent_dim)
        u[x_axis] = 1.0
        v = np.zeros(latent_dim)
        origin[x_axis] = 0.0
        if latent_dim > 1:
            v[y_axis] = 1.0
            origin[y_axis] = 0.0
            return cls(origin, u, v, f"z{x_axis + 1}", f"z{y_axis + 1}", "axes")
        return cls(origin, u, v, "z1", "(unused)", "axes")

    @classmethod
    def pca(cls, mu: np.ndarray, reference: ViewPlane | None = None) -> ViewPlane:
        """The plane of the first two principal components of the encoded means, through their mean.

        With a ``reference`` PCA plane, each component's sign is chosen to agree with it, so a
        sequence of views (training replay) does not flip from one refresh to the next.
        """
        mu = np.asarray(mu, dtype=np.float64)
        d = mu.shape[1]
        if d == 1:
            return cls.axes(1)
        origin = mu.mean(axis=0)
        _, _, vt = np.linalg.svd(mu - origin, full_matrices=False)
        u, v = vt[0].copy(), vt[1].copy()
        if reference is not None and reference.latent_dim == d:
            u = u if u @ reference.u >= 0 else -u
            v = v if v @ reference.v >= 0 else -v
        return cls(origin, u, v, "PC1", "PC2", "pca")


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> np.ndarray:
    """Plane coordinates (n, n, 2) of an n x n grid; row 0 is the top (largest y), as on screen."""
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[1], y_range[0], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx, gy], axis=-1)


def manifold(
    model: AE,
    plane: ViewPlane,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int,
    label: int | None = None,
) -> np.ndarray:
    """Decodings over an n x n grid of the plane, shape (n, n, C, H, W) (the Keras VAE example's picture)."""
    points = grid_points(x_range, y_range, n).reshape(-1, 2)
    images = decode(model, plane.to_latent(points), label)
    return images.reshape(n, n, *images.shape[1:])


def tile(images: np.ndarray, pad: int = 0) -> np.ndarray:
    """Images (rows, cols, C, H, W) -> one (C, rows*H, cols*W) mosaic."""
    rows, cols, c, h, w = images.shape
    if pad:
        images = np.pad(images, ((0, 0), (0, 0), (0, 0), (pad, pad), (pad, pad)))
        h, w = h + 2 * pad, w + 2 * pad
    return images.transpose(2, 0, 3, 1, 4).reshape(c, rows * h, cols * w)


def lerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Linear path (steps, d); written as (1 - t) z0 + t z1 so both endpoints are exact."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    return (1.0 - t) * z0 + t * z1


def slerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016, "Sampling generative networks").

    Keeps to the shell where prior samples live instead of cutting through the low-density
    centre; falls back to the linear path when the endpoints are (anti)parallel or zero.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 == 0 or n1 == 0:
        return lerp(z0, z1, steps)
    omega = np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0))
    if np.sin(omega) < 1e-8:
        return lerp(z0, z1, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    path = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    path[0], path[-1] = z0, z1
    return path


def sample_prior(latent_dim: int, n: int, temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
    """n points from N(0, temperature^2 I): the temperature scales the sampling sigma."""
    return temperature * np.random.default_rng(seed).standard_normal((n, latent_dim))


def posterior_samples(mu: np.ndarray, logvar: np.ndarray | None, n: int, seed: int = 0) -> np.ndarray:
    """n draws from q(z|x) = N(mu, diag(exp(logvar))), reproducible from ``seed``, so every view
    that shows "samples of this image's posterior" shows the same ones. A plain AE has only mu."""
    mu = np.asarray(mu, np.float64)
    if logvar is None:
        return np.repeat(mu[None], n, axis=0)
    eps = np.random.default_rng(seed).standard_normal((n, len(mu)))
    return mu + np.exp(0.5 * np.asarray(logvar, np.float64)) * eps
