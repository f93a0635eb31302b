"""Training replay frames aligned from one snapshot to the next (core/replay.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vae_studio.core.latent import ViewPlane
from vae_studio.core.replay import Replay, procrustes_rotation


def _codes(n: int = 300, d: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * np.array([3.0, 2.9, 0.5, 0.3, 0.1])[:d] + 1.0


def _orthogonal(d: int, seed: int, reflect: bool) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    if (np.linalg.det(q) < 0) != reflect:
        q[:, 0] *= -1
    return q


def test_procrustes_recovers_a_known_rotation_and_reflection() -> None:
    source = np.random.default_rng(0).standard_normal((50, 2))
    for angle, mirror in ((0.7, 1.0), (2.5, -1.0)):
        r = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1.0, mirror])
        assert np.allclose(procrustes_rotation(source, source @ r), r)


@pytest.mark.parametrize("reflect", [False, True])
def test_alignment_removes_a_rotation_or_flip_of_the_latent_space(reflect: bool) -> None:
    mu = _codes()
    replay = Replay()
    first = replay.add(0, mu)
    for step, turn in enumerate((_orthogonal(5, seed=3, reflect=reflect), -np.eye(5)), start=1):
        assert np.allclose(replay.add(step, mu @ turn).xy, first.xy, atol=1e-6)


def test_alignment_undoes_the_axis_swap_when_two_variances_cross() -> None:
    mu = _codes()
    replay = Replay()
    first = replay.add(0, mu)
    # Training changes the spread a little, so PC2 overtakes PC1: plain PCA swaps the axes,
    # mirroring the picture across its diagonal, although every point moved only a little.
    later = (mu - mu.mean(0)) * np.array([0.97, 1.03, 1.0, 1.0, 1.0]) + mu.mean(0)
    raw = ViewPlane.pca(later).to_plane(later)
    aligned = replay.add(1, later).xy
    raw_error = np.abs(raw - first.xy).max()
    aligned_error = np.abs(aligned - first.xy).max()
    assert raw_error > 3.0 and aligned_error < 0.5


def test_alignment_follows_a_spinning_map_and_keeps_its_growth() -> None:
    mu = _codes(d=3)
    replay = Replay()
    replay.add(0, mu)
    spin = _orthogonal(3, seed=0, reflect=False)
    for step in range(1, 6):
        replay.add(step, (1.0 + 0.1 * step) * (mu @ np.linalg.matrix_power(spin, step)))
    for step, frame in enumerate(replay.frames):
        assert np.allclose(frame.xy, (1.0 + 0.1 * step) * replay.frames[0].xy, atol=1e-6)
        # Every frame's plane is still exact: orthonormal, and its coordinates are the codes' projections.
        basis = np.stack([frame.plane.u, frame.plane.v])
        assert np.allclose(basis @ basis.T, np.eye(2))
        assert np.allclose(frame.plane.to_plane(replay.snapshots[step].mu), frame.xy, atol=1e-5)
    assert [frame.step for frame in replay.frames] == list(range(6)) and len(replay) == 6


def test_two_dimensional_planes_decode_exactly() -> None:
    mu = _codes(d=2)
    replay = Replay()
    replay.add(0, mu, labels=np.arange(300) % 10)
    frame = replay.add(1, mu[:, ::-1] * np.array([1.0, -1.0]))
    assert np.allclose(frame.plane.to_latent(frame.xy), replay.snapshots[1].mu, atol=1e-5)
    assert frame.labels is None and replay.frames[0].labels[:3].tolist() == [0, 1, 2]


def test_one_dimensional_codes_and_errors() -> None:
    replay = Replay()
    with pytest.raises(ValueError, match="no frames"):
        replay.bounds()
    replay.add(0, np.linspace(-1, 1, 20)[:, None])
    frame = replay.add(1, np.linspace(-2, 2, 20)[:, None])
    assert np.allclose(frame.xy[:, 1], 0.0) and np.allclose(frame.xy[:, 0], np.linspace(-2, 2, 20), atol=1e-6)
    with pytest.raises(ValueError, match="same images"):
        replay.add(2, np.zeros((10, 1)))


def test_bounds_hold_every_frame() -> None:
    replay = Replay()
    mu = _codes(d=3)
    replay.add(0, mu)
    replay.add(1, 3.0 * mu)
    (x0, x1), (y0, y1) = replay.bounds(margin=0.0)
    points = np.concatenate([frame.xy for frame in replay.frames])
    assert x0 == pytest.approx(points[:, 0].min()) and x1 == pytest.approx(points[:, 0].max())
    assert y0 == pytest.approx(points[:, 1].min()) and y1 == pytest.approx(points[:, 1].max())
    (wx0, wx1), _ = replay.bounds(margin=0.1)
    assert wx0 < x0 and wx1 > x1
