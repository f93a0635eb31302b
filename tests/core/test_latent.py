"""Latent-space maths: encoding, decoding, view planes, grids, mosaics, paths and samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_studio.core.config import ModelConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import (
    Encoding,
    ViewPlane,
    decode,
    encode,
    grid_points,
    lerp,
    manifold,
    posterior_samples,
    sample_prior,
    slerp,
    tile,
)
from vae_studio.core.models import AE, build_model


def model_for(kind: str = "vae", latent_dim: int = 3, shape=(1, 28, 28), arch: str = "mlp") -> AE:
    config = ModelConfig(
        kind=kind,
        arch=arch,
        image_shape=shape,
        latent_dim=latent_dim,
        hidden_sizes=(32,),
        conv_channels=(4, 8),
        conv_hidden=16,
        num_classes=10 if kind == "cvae" else 0,
    )
    return build_model(config, seed=0).eval()


# --- encode / decode ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae"])
def test_encode_shapes_and_dtypes(tiny_mnist: ImageDataset, kind: str) -> None:
    model = model_for(kind)
    images, labels = tiny_mnist.test_images[:50], tiny_mnist.test_labels[:50]
    enc = encode(model, images, labels)
    assert isinstance(enc, Encoding)
    assert enc.mu.shape == (50, 3) and enc.mu.dtype == np.float32
    if kind == "ae":
        assert enc.logvar is None and enc.sigma is None
    else:
        assert enc.logvar.shape == (50, 3) and enc.logvar.dtype == np.float32
        np.testing.assert_allclose(enc.sigma, np.exp(0.5 * enc.logvar), rtol=1e-6)
    # Same numbers as the model's own encode on float images in [0, 1].
    with torch.no_grad():
        mu, _ = model.encode(images.float() / 255, labels if kind == "cvae" else None)
    np.testing.assert_allclose(enc.mu, mu.numpy(), rtol=1e-5, atol=1e-6)


def test_conditional_encoding_depends_on_labels(tiny_mnist: ImageDataset) -> None:
    model = model_for("cvae")
    images = tiny_mnist.test_images[:20]
    a = encode(model, images, np.zeros(20, dtype=np.int64))
    b = encode(model, images, np.full(20, 7))
    assert not np.allclose(a.mu, b.mu)


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae"])
def test_encode_in_batches_equals_one_batch(tiny_mnist: ImageDataset, kind: str) -> None:
    model = model_for(kind)
    images, labels = tiny_mnist.test_images[:103], tiny_mnist.test_labels[:103]
    whole = encode(model, images, labels)
    parts = encode(model, images, labels, batch_size=10)
    np.testing.assert_allclose(parts.mu, whole.mu, rtol=1e-5, atol=1e-6)
    if kind != "ae":
        np.testing.assert_allclose(parts.logvar, whole.logvar, rtol=1e-5, atol=1e-6)


def test_encode_of_no_images(tiny_mnist: ImageDataset) -> None:
    enc = encode(model_for("vae"), tiny_mnist.test_images[:0])
    assert enc.mu.shape == (0, 3) and enc.logvar.shape == (0, 3)
    assert encode(model_for("ae"), tiny_mnist.test_images[:0]).logvar is None


@pytest.mark.parametrize("shape,arch", [((1, 28, 28), "mlp"), ((3, 32, 32), "conv")])
def test_decode_shapes_and_dtypes(shape, arch) -> None:
    model = model_for("vae", 2, shape, arch)
    z = np.random.default_rng(0).standard_normal((7, 2))
    images = decode(model, z)
    assert images.shape == (7, *shape) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    one = decode(model, z[3])
    assert one.shape == (1, *shape)
    np.testing.assert_allclose(one[0], images[3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(decode(model, z, batch_size=3), images, rtol=1e-5, atol=1e-6)
    assert decode(model, np.zeros((0, 2))).shape == (0, *shape)


def test_decode_conditional_with_one_label_or_many() -> None:
    model = model_for("cvae", 2)
    z = np.zeros((4, 2))
    one = decode(model, z, 3)
    many = decode(model, z, np.array([3, 3, 3, 3]))
    np.testing.assert_array_equal(one, many)
    mixed = decode(model, z, np.array([0, 1, 2, 3]))
    assert not np.allclose(mixed[0], mixed[1])
    np.testing.assert_allclose(mixed[3], one[3], rtol=1e-6)


def test_encode_decode_round_trip_uses_model_decode() -> None:
    model = model_for("vae", 2)
    z = np.array([[0.5, -1.0]])
    with torch.no_grad():
        expected = model.decode(torch.tensor(z, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(decode(model, z), expected, rtol=1e-6)


# --- view planes -------------------------------------------------------------------------------------

POINTS = np.array([[0.0, 0.0], [1.5, -2.25], [-3.1, 0.7], [1e-3, 123.456], [-7.0, -0.1]])


def test_axes_plane_round_trip_is_exact() -> None:
    anchor = np.array([0.3, -1.2, 2.5, 4.0, -0.7])
    plane = ViewPlane.axes(5, x_axis=3, y_axis=1, anchor=anchor)
    assert plane.kind == "axes" and plane.latent_dim == 5
    assert (plane.x_label, plane.y_label) == ("z4", "z2")
    z = plane.to_latent(POINTS)
    assert z.shape == (len(POINTS), 5)
    assert np.array_equal(plane.to_plane(z), POINTS)
    # The chosen axes carry the plane coordinates; the others stay at the anchor.
    assert np.array_equal(z[:, 3], POINTS[:, 0]) and np.array_equal(z[:, 1], POINTS[:, 1])
    for axis in (0, 2, 4):
        assert np.all(z[:, axis] == anchor[axis])
    # One point at a time too.
    assert np.array_equal(plane.to_plane(plane.to_latent(POINTS[1])), POINTS[1])
    assert plane.to_latent(POINTS[1]).shape == (5,)
    # The anchor array passed in is not modified.
    assert np.array_equal(anchor, [0.3, -1.2, 2.5, 4.0, -0.7])


def test_axes_plane_projects_points_off_the_plane() -> None:
    plane = ViewPlane.axes(4, 0, 2)
    z = np.array([1.0, 9.0, -2.0, 5.0])
    assert np.array_equal(plane.to_plane(z), [1.0, -2.0])
    on_plane = plane.to_latent(plane.to_plane(z))
    assert np.array_equal(on_plane, [1.0, 0.0, -2.0, 0.0])
    assert np.array_equal(plane.to_latent(plane.to_plane(on_plane)), on_plane)


@pytest.mark.parametrize("dim,axes", [(3, (0, 0)), (2, (2, 1)), (3, (0, 5)), (3, (-1, 1)), (1, (1, 0))])
def test_axes_plane_rejects_bad_axes(dim: int, axes: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        ViewPlane.axes(dim, *axes)


def correlated_codes(d: int = 6, n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([5.0, 2.0] + [0.3] * (d - 2))
    mixing = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return (rng.standard_normal((n, d)) * scales) @ mixing.T + rng.standard_normal(d)


def test_pca_plane_round_trip_and_orthonormal() -> None:
    mu = correlated_codes()
    plane = ViewPlane.pca(mu)
    assert plane.kind == "pca" and (plane.x_label, plane.y_label) == ("PC1", "PC2")
    np.testing.assert_allclose(plane.origin, mu.mean(axis=0), rtol=0, atol=1e-12)
    assert abs(plane.u @ plane.u - 1) < 1e-12 and abs(plane.v @ plane.v - 1) < 1e-12
    assert abs(plane.u @ plane.v) < 1e-12
    np.testing.assert_allclose(plane.to_plane(plane.to_latent(POINTS)), POINTS, rtol=0, atol=1e-12)
    # A point of the plane is returned by to_latent of its plane coordinates.
    z = plane.to_latent(POINTS)
    np.testing.assert_allclose(plane.to_latent(plane.to_plane(z)), z, rtol=0, atol=1e-12)
    # The components are the directions of largest variance (std 5 and 2 in correlated_codes).
    projected = plane.to_plane(mu)
    assert projected[:, 0].var() == pytest.approx(25, rel=0.2)
    assert projected[:, 1].var() == pytest.approx(4, rel=0.2)


def test_pca_components_follow_the_reference_sign() -> None:
    mu = correlated_codes()
    first = ViewPlane.pca(mu)
    flipped = ViewPlane(first.origin, -first.u, -first.v, "PC1", "PC2", "pca")
    moved = mu + np.random.default_rng(1).normal(0, 0.05, mu.shape)  # the next training snapshot
    aligned = ViewPlane.pca(moved, reference=flipped)
    assert aligned.u @ flipped.u > 0.99 and aligned.v @ flipped.v > 0.99
    again = ViewPlane.pca(moved, reference=first)
    assert again.u @ first.u > 0.99 and again.v @ first.v > 0.99
    # Only one component flipped in the reference: only that one follows.
    half = ViewPlane(first.origin, first.u, -first.v, "PC1", "PC2", "pca")
    mixed = ViewPlane.pca(moved, reference=half)
    assert mixed.u @ first.u > 0.99 and mixed.v @ first.v < -0.99


def test_pca_of_two_dimensional_codes_spans_the_space() -> None:
    mu = correlated_codes(2)
    plane = ViewPlane.pca(mu)
    z = mu[:10]
    np.testing.assert_allclose(plane.to_latent(plane.to_plane(z)), z, rtol=0, atol=1e-12)


def test_one_dimensional_latent_space() -> None:
    plane = ViewPlane.axes(1)
    assert plane.latent_dim == 1 and np.array_equal(plane.v, [0.0])
    z = plane.to_latent(POINTS)
    assert z.shape == (len(POINTS), 1) and np.array_equal(z[:, 0], POINTS[:, 0])
    assert np.array_equal(plane.to_plane(z), np.stack([POINTS[:, 0], np.zeros(len(POINTS))], 1))
    pca = ViewPlane.pca(np.random.default_rng(0).standard_normal((50, 1)))
    assert pca.latent_dim == 1
    model = model_for("vae", 1)
    images = manifold(model, plane, (-2, 2), (-1, 1), 4)
    assert images.shape == (4, 4, 1, 28, 28)
    # y does not exist in 1-D: every row of the grid decodes the same codes.
    for row in images[1:]:
        np.testing.assert_array_equal(row, images[0])
    assert not np.allclose(images[0, 0], images[0, -1])


# --- grids and mosaics ---------------------------------------------------------------------------


def test_grid_points_orientation() -> None:
    g = grid_points((-1.0, 3.0), (10.0, 20.0), 5)
    assert g.shape == (5, 5, 2)
    assert np.array_equal(g[0, 0], [-1.0, 20.0])  # top left: smallest x, largest y
    assert np.array_equal(g[0, -1], [3.0, 20.0])  # top right
    assert np.array_equal(g[-1, 0], [-1.0, 10.0])  # bottom left
    assert np.array_equal(g[-1, -1], [3.0, 10.0])
    assert np.all(np.diff(g[..., 0], axis=1) > 0) and np.all(np.diff(g[..., 1], axis=0) < 0)
    assert np.all(g[:, :, 0] == g[0, :, 0]) and np.all(g[:, :, 1] == g[:, :1, 1])


def test_manifold_shape_and_content() -> None:
    model = model_for("vae", 3)
    plane = ViewPlane.axes(3, 0, 2, anchor=np.array([0.0, 0.5, 0.0]))
    images = manifold(model, plane, (-2, 2), (-1, 1), 3)
    assert images.shape == (3, 3, 1, 28, 28) and images.dtype == np.float32
    grid = grid_points((-2, 2), (-1, 1), 3)
    for r, c in [(0, 0), (0, 2), (2, 1)]:
        expected = decode(model, plane.to_latent(grid[r, c]))[0]
        np.testing.assert_allclose(images[r, c], expected, rtol=1e-5, atol=1e-6)


def test_manifold_conditional_label() -> None:
    model = model_for("cvae", 2)
    plane = ViewPlane.axes(2)
    a = manifold(model, plane, (-1, 1), (-1, 1), 2, label=1)
    b = manifold(model, plane, (-1, 1), (-1, 1), 2, label=8)
    assert a.shape == (2, 2, 1, 28, 28) and not np.allclose(a, b)


def test_tile_layout() -> None:
    rows, cols, c, h, w = 2, 3, 3, 4, 5
    images = np.arange(rows * cols, dtype=np.float32)[:, None, None, None] * np.ones((1, c, h, w), np.float32)
    images = images.reshape(rows, cols, c, h, w)
    images[..., 0, 0] += 100  # mark each tile's top-left pixel
    mosaic = tile(images)
    assert mosaic.shape == (c, rows * h, cols * w)
    for r in range(rows):
        for k in range(cols):
            np.testing.assert_array_equal(mosaic[:, r * h : (r + 1) * h, k * w : (k + 1) * w], images[r, k])
    padded = tile(images, pad=1)
    assert padded.shape == (c, rows * (h + 2), cols * (w + 2))
    for r in range(rows):
        for k in range(cols):
            cell = padded[:, r * (h + 2) : (r + 1) * (h + 2), k * (w + 2) : (k + 1) * (w + 2)]
            np.testing.assert_array_equal(cell[:, 1:-1, 1:-1], images[r, k])
            assert np.all(cell[:, 0] == 0) and np.all(cell[:, :, 0] == 0)


# --- paths -------------------------------------------------------------------------------------------


def endpoints() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.standard_normal(8) * 1.7, rng.standard_normal(8) * 0.3


@pytest.mark.parametrize("path", [lerp, slerp])
def test_path_endpoints_are_exact(path) -> None:
    z0, z1 = endpoints()
    for steps in (2, 7, 50):
        p = path(z0, z1, steps)
        assert p.shape == (steps, 8)
        assert np.array_equal(p[0], z0) and np.array_equal(p[-1], z1)


def test_lerp_is_linear() -> None:
    z0, z1 = endpoints()
    p = lerp(z0, z1, 5)
    np.testing.assert_allclose(p[2], (z0 + z1) / 2, rtol=1e-12)
    np.testing.assert_allclose(np.diff(p, axis=0), np.tile((z1 - z0) / 4, (4, 1)), rtol=1e-10)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    z0, z1 = 3 * a / np.linalg.norm(a), 3 * b / np.linalg.norm(b)
    p = slerp(z0, z1, 11)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 3.0, rtol=1e-12)
    assert np.linalg.norm(lerp(z0, z1, 11)[5]) < 2.9  # the linear path cuts through the inside
    # Equal angles between consecutive points.
    cos = np.sum(p[1:] * p[:-1], axis=1) / 9
    np.testing.assert_allclose(cos, cos[0], rtol=1e-10)


def test_slerp_between_orthogonal_unit_vectors() -> None:
    p = slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 3)
    np.testing.assert_allclose(p[1], [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-12)


@pytest.mark.parametrize("factor", [2.0, 0.5, -1.0, -3.0, 0.0])
def test_slerp_falls_back_to_lerp_for_parallel_or_zero_vectors(factor: float) -> None:
    z0 = np.array([0.3, -1.0, 2.0])
    z1 = factor * z0
    p = slerp(z0, z1, 6)
    assert np.all(np.isfinite(p))
    np.testing.assert_array_equal(p, lerp(z0, z1, 6))
    np.testing.assert_array_equal(slerp(np.zeros(3), z0, 4), lerp(np.zeros(3), z0, 4))


# --- samples -----------------------------------------------------------------------------------------


def test_sample_prior_temperature_scales_the_std() -> None:
    base = sample_prior(4, 20000, 1.0, seed=3)
    assert base.shape == (20000, 4)
    assert np.all(np.abs(base.std(axis=0) - 1.0) < 0.03) and np.all(np.abs(base.mean(axis=0)) < 0.03)
    for t in (0.5, 2.0):
        hot = sample_prior(4, 20000, t, seed=3)
        np.testing.assert_allclose(hot, t * base, rtol=1e-12)
        assert np.all(np.abs(hot.std(axis=0) - t) < 0.03 * t)
    assert np.array_equal(sample_prior(4, 10, seed=1), sample_prior(4, 10, seed=1))
    assert not np.array_equal(sample_prior(4, 10, seed=1), sample_prior(4, 10, seed=2))
    assert np.all(sample_prior(2, 5, 0.0, seed=0) == 0)


def test_posterior_samples_reproducible_with_the_right_moments() -> None:
    mu = np.array([1.0, -2.0, 0.5])
    logvar = np.log(np.array([0.25, 1.0, 4.0]))
    s = posterior_samples(mu, logvar, 20000, seed=4)
    assert s.shape == (20000, 3)
    assert np.array_equal(s, posterior_samples(mu, logvar, 20000, seed=4))
    assert not np.array_equal(s[:10], posterior_samples(mu, logvar, 10, seed=5))
    np.testing.assert_allclose(s.mean(axis=0), mu, atol=0.05)
    np.testing.assert_allclose(s.std(axis=0), [0.5, 1.0, 2.0], rtol=0.03)
    # The default seed is fixed, so every view shows the same samples.
    assert np.array_equal(posterior_samples(mu, logvar, 5), posterior_samples(mu, logvar, 5))


def test_posterior_samples_of_an_autoencoder_are_the_code() -> None:
    mu = np.array([0.25, -4.0])
    s = posterior_samples(mu, None, 6)
    assert s.shape == (6, 2) and np.all(s == mu)
