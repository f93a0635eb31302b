"""Continuity: nearby latent points decode to similar images (one of the two properties that set a
VAE's latent space apart from an AE's; see :mod:`comparison`).

Measured as the pixel change per unit of latent distance along short random steps around encoded
test points (lower is smoother). The unit is the spread of the encoded means (:func:`latent_scale`),
the same rule for both models. A plain AE is trained only to reconstruct, so nothing forces its
decoder to vary smoothly between training points; the VAE's noisy codes do (Kingma & Welling 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batch_progress import ProgressCallback, StopCheck, checkpoint
from .interpolation import pixel_distance
from .latent import decode
from .models import AE


def latent_scale(mu: np.ndarray) -> float:
    """The spread of encoded means: the root of their variance averaged over dimensions.

    Continuity steps are measured in this unit. An AE's codes can sit on any scale (nothing ties
    them to N(0, I)), so a step of fixed raw length would be tiny for an AE whose codes span
    +-100 and would make it look smooth for that reason alone.
    """
    scale = float(np.sqrt(np.asarray(mu, np.float64).var(axis=0).mean())) if len(mu) > 1 else 0.0
    return scale if np.isfinite(scale) and scale > 0 else 1.0


@dataclass(frozen=True)
class Continuity:
    """``score``: mean of ``per_point`` (N,), the RMS pixel change per unit of latent distance
    (in units of ``latent_scale``) around each point; lower is smoother. ``step``: the step
    length in those units."""

    score: float
    per_point: np.ndarray
    step: float
    latent_scale: float


def continuity(
    model: AE,
    mu: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    step: float = 0.1,
    directions: int = 4,
    seed: int = 0,
    batch_points: int = 250,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Continuity:
    """Continuity around encoded points ``mu`` (N, d): for each, decode it and ``directions`` points
    one ``step`` away in uniformly random directions, and average the pixel change per unit step.

    A finite-difference estimate of the decoder's local stretch (the norm of its Jacobian along
    random directions); a fold or a hole between codes shows up as a large value. ``labels``
    are the classes a conditional model decodes with (ignored otherwise).
    """
    mu = np.asarray(mu, np.float64)
    n, d = mu.shape
    if n == 0:
        raise ValueError("continuity needs at least one encoded point")
    scale = latent_scale(mu)
    rng = np.random.default_rng(seed)
    dirs = rng.standard_normal((n, directions, d))
    dirs /= np.linalg.norm(dirs, axis=2, keepdims=True)
    labels_all = None if labels is None else np.asarray(labels)
    per_point = np.empty(n)
    for start in range(0, n, batch_points):
        end = min(n, start + batch_points)
        centre = mu[start:end]
        moved = (centre[:, None, :] + step * scale * dirs[start:end]).reshape(-1, d)
        batch_labels = None
        if labels_all is not None:
            batch_labels = np.concatenate([labels_all[start:end], np.repeat(labels_all[start:end], directions)])
        images = decode(model, np.concatenate([centre, moved]), batch_labels)
        b = end - start
        change = pixel_distance(images[b:], np.repeat(images[:b], directions, axis=0)).reshape(b, directions)
        per_point[start:end] = change.mean(axis=1) / step
        checkpoint(end, n, progress, should_stop)
    return Continuity(float(per_point.mean()), per_point, step, scale)
