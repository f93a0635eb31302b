"""Training replay: the latent map of a fixed set of images at successive training steps.

Each snapshot is projected onto its own PCA plane. PCA alone leaves each axis's sign and, when
the first two variances are close, the orientation within the plane arbitrary, so consecutive
frames can flip or spin although the codes barely moved. ``ViewPlane.pca(reference=...)`` fixes
the signs, which is not enough when the axes themselves turn; so each new frame's plane is turned by
the orthogonal 2x2 matrix that best maps its points onto the previous frame's (orthogonal
Procrustes, Schoenemann 1966), which undoes any rotation or reflection within the plane. Only
a rotation/reflection is applied, never a scaling, so growth or shrinkage of the map stays
visible. Every frame keeps an exact ViewPlane, so a point clicked in any frame still decodes
to the latent vector it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .latent import ViewPlane


def procrustes_rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal matrix R (k, k) minimising ||source @ R - target|| for point sets (N, k) with
    rows in correspondence: R = U V^T from the SVD of source^T target (Schoenemann 1966).
    Reflections are allowed, since a mirrored map is exactly what has to be undone."""
    u, _, vt = np.linalg.svd(np.asarray(source, np.float64).T @ np.asarray(target, np.float64))
    return u @ vt


@dataclass(frozen=True)
class Snapshot:
    """The encoded means (N, d) of the replay's images at one training step, and their labels."""

    step: int
    mu: np.ndarray
    labels: np.ndarray | None


@dataclass(frozen=True)
class ReplayFrame:
    """One snapshot as drawn: its aligned plane and the plane coordinates (N, 2) of its points."""

    step: int
    plane: ViewPlane
    xy: np.ndarray
    labels: np.ndarray | None


class Replay:
    """Snapshots of one fixed set of images, each turned into a frame aligned with the one before,
    as soon as it is added (so frames can be shown while training runs)."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.frames: list[ReplayFrame] = []

    def __len__(self) -> int:
        return len(self.snapshots)

    def add(self, step: int, mu: np.ndarray, labels: np.ndarray | None = None) -> ReplayFrame:
        """Add the encoded means (N, d) at ``step``; the same N images, in the same order, each time."""
        mu = np.asarray(mu, np.float32)
        previous = self.frames[-1] if self.frames else None
        if previous is not None and (mu.shape != self.snapshots[-1].mu.shape):
            raise ValueError(
                f"a replay needs the same images at every step: got {mu.shape}, before {self.snapshots[-1].mu.shape}"
            )
        plane = ViewPlane.pca(mu)
        xy = plane.to_plane(mu)
        # A 1-D latent space has no plane to turn: its one axis is the latent axis itself.
        if previous is not None and plane.latent_dim > 1:
            rotation = procrustes_rotation(xy, previous.xy)
            basis = np.stack([plane.u, plane.v], axis=1) @ rotation
            plane = ViewPlane(plane.origin, basis[:, 0], basis[:, 1], "aligned PC1", "aligned PC2", "pca")
            xy = plane.to_plane(mu)
        frame = ReplayFrame(step, plane, xy, None if labels is None else np.asarray(labels).copy())
        self.snapshots.append(Snapshot(step, mu, frame.labels))
        self.frames.append(frame)
        return frame

    def bounds(self, margin: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
        """((x0, x1), (y0, y1)) holding every frame's points plus ``margin`` of the span on each side:
        fixed axes for the whole replay, so the view does not zoom from frame to frame."""
        if not self.frames:
            raise ValueError("the replay has no frames yet")
        xy = np.concatenate([frame.xy for frame in self.frames])
        low, high = xy.min(axis=0), xy.max(axis=0)
        pad = margin * np.maximum(high - low, 1e-12)
        return (float(low[0] - pad[0]), float(high[0] + pad[0])), (float(low[1] - pad[1]), float(high[1] + pad[1]))
