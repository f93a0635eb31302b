"""KL per dimension, active units, traversals (core/traversal.py) and factor matching (core/factors.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_studio.core import latent
from vae_studio.core.config import ModelConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.factors import abs_correlation, discretize, factor_analysis, normalized_mutual_information
from vae_studio.core.latent import Encoding
from vae_studio.core.losses import kl_per_dimension
from vae_studio.core.models import AE, build_model
from vae_studio.core.traversal import dimension_usage, traversal_values, traverse


def _model(kind: str = "vae", latent_dim: int = 4) -> AE:
    return build_model(ModelConfig(kind=kind, latent_dim=latent_dim, hidden_sizes=(16,)), seed=0).eval()


def test_a_model_whose_mean_varies_in_one_dimension_has_one_active_unit(tiny_mnist: ImageDataset) -> None:
    model = _model()

    def encode(x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # Dimension 0 follows the image's brightness; the others are the prior (mu 0, sigma 1).
        mu = torch.zeros(len(x), 4)
        mu[:, 0] = 10 * x.flatten(1).mean(1)
        logvar = torch.zeros(len(x), 4)
        logvar[:, 0] = -4.0
        return mu, logvar

    model.encode = encode
    encoding = latent.encode(model, tiny_mnist.test_images)
    usage = dimension_usage(encoding)
    assert usage.active.tolist() == [True, False, False, False]
    assert usage.n_active == 1 and usage.collapse_warning
    assert usage.order[0] == 0
    assert np.allclose(usage.kl[1:], 0.0) and usage.kl[0] > 1.0
    expected = kl_per_dimension(torch.from_numpy(encoding.mu), torch.from_numpy(encoding.logvar)).mean(0)
    assert np.allclose(usage.kl, expected.numpy(), atol=1e-5)


def test_usage_order_and_collapse_flag_on_hand_built_encodings() -> None:
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 3)) * np.array([0.05, 2.0, 0.5])  # variances 0.0025, 4, 0.25
    logvar = np.log(np.full((500, 3), [1.0, 0.01, 0.5]))
    usage = dimension_usage(Encoding(mu, logvar))
    assert usage.active.tolist() == [False, True, True] and not usage.collapse_warning
    assert usage.order.tolist() == [1, 2, 0]
    # A plain AE has no KL: dimensions are ordered by the variance of their codes.
    ae_usage = dimension_usage(Encoding(mu, None))
    assert ae_usage.kl is None and ae_usage.order.tolist() == [1, 2, 0]
    # Half the dimensions inactive is not "most".
    assert not dimension_usage(Encoding(mu[:, :2], None)).collapse_warning


def test_traversal_values() -> None:
    assert np.allclose(traversal_values(7), np.linspace(-3, 3, 7))
    mu = np.array([[0.0, 10.0], [2.0, 30.0]])  # means 1 and 20, standard deviations 1 and 10
    values = traversal_values(3, span=2.0, mu=mu)
    assert np.allclose(values, [[-1.0, 1.0, 3.0], [0.0, 20.0, 40.0]])
    with pytest.raises(ValueError):
        traversal_values(1)


def test_traverse_varies_one_dimension_per_row() -> None:
    model = _model(latent_dim=3)
    # A decoder that paints its code's value of dimension 0 into every pixel shows what each frame decoded.
    model.decode = lambda z, labels=None: z[:, :1, None, None].expand(-1, 1, 28, 28)
    z = np.array([0.5, -1.0, 2.0])
    result = traverse(model, z, dims=[2, 0], values=np.linspace(-3, 3, 5))
    assert result.codes.shape == (2, 5, 3) and result.images.shape == (2, 5, 1, 28, 28)
    assert np.allclose(result.codes[0, :, 2], np.linspace(-3, 3, 5))
    assert np.allclose(result.codes[0, :, :2], [0.5, -1.0])
    assert np.allclose(result.codes[1, :, 0], np.linspace(-3, 3, 5))
    assert np.allclose(result.codes[1, :, 1:], [-1.0, 2.0])
    assert np.allclose(result.images[0, :, 0, 0, 0], 0.5)  # row 0 leaves dimension 0 alone
    assert np.allclose(result.images[1, :, 0, 0, 0], np.linspace(-3, 3, 5))
    # Per-dimension ranges: row r uses the values of dimension dims[r].
    per_dim = np.array([[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]])
    result = traverse(model, z, dims=[2, 0], values=per_dim)
    assert np.allclose(result.values, [[20.0, 21.0], [0.0, 1.0]])
    assert np.allclose(result.codes[0, :, 2], [20.0, 21.0])


def test_factor_matching_finds_the_right_dimensions() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    shape = rng.integers(0, 3, n).astype(float)  # categorical, like the shapes set's class
    scale, x = rng.random(n), rng.random(n)
    factors = np.stack([shape, scale, x], axis=1)
    z = np.stack(
        [
            rng.standard_normal(n),  # nothing
            2.0 * x + 0.05 * rng.standard_normal(n),  # x, linearly
            shape + 0.1 * rng.standard_normal(n),  # the shape class
            np.exp(4 * scale) + 0.05 * rng.standard_normal(n),  # scale, non-linearly
        ],
        axis=1,
    )
    result = factor_analysis(z, factors, ("shape", "scale", "x"))
    assert result.correlation.shape == result.mutual_information.shape == (4, 3)
    assert result.best_by_correlation.tolist() == [2, 3, 1]
    assert result.best_by_mutual_information.tolist() == [2, 3, 1]
    assert result.mutual_information[2, 0] > 0.8 and result.mutual_information[0].max() < 0.05
    assert (result.mig > 0.5).all()
    assert result.factor_names == ("shape", "scale", "x")


def test_correlation_and_mutual_information_edge_cases() -> None:
    rng = np.random.default_rng(1)
    v = rng.random((400, 1))
    constant = np.ones((400, 1))
    corr = abs_correlation(np.hstack([v, -v, constant]), np.hstack([v, constant]))
    assert np.allclose(corr, [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    mi = normalized_mutual_information(np.hstack([v, constant]), np.hstack([v, constant]))
    assert mi[0, 0] == pytest.approx(1.0) and mi[1, 0] == 0.0 and (mi[:, 1] == 0).all()
    assert discretize(np.array([0.0, 2.0, 2.0, 1.0])).tolist() == [0, 2, 2, 1]
    assert set(discretize(v[:, 0], bins=4).tolist()) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="names"):
        factor_analysis(v, v, ("a", "b"))
