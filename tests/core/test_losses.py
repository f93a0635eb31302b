"""Loss terms against hand computations and torch.distributions."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal
from torch.nn import functional as F

from vae_studio.core.config import ModelConfig
from vae_studio.core.losses import (
    kl_divergence,
    kl_per_dimension,
    log_normal,
    log_standard_normal,
    reconstruction_nll,
)

BERNOULLI = ModelConfig(image_shape=(1, 8, 8))


def test_kl_hand_computed() -> None:
    mu = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(4.0)]], dtype=torch.float64)
    # Dim 1: N(1, 1) vs N(0, 1) -> mu^2 / 2 = 0.5.  Dim 2: N(0, 4) -> (sigma^2 - 1 - log sigma^2) / 2.
    expected_dims = [0.5, 0.5 * (4.0 - 1.0 - math.log(4.0))]
    torch.testing.assert_close(kl_per_dimension(mu, logvar), torch.tensor([expected_dims], dtype=torch.float64))
    assert kl_divergence(mu, logvar).shape == (1,)
    assert kl_divergence(mu, logvar).item() == pytest.approx(sum(expected_dims), rel=1e-12)


def test_kl_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(5, 3, generator=g, dtype=torch.float64)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p)
    torch.testing.assert_close(kl_per_dimension(mu, logvar), expected)
    torch.testing.assert_close(kl_divergence(mu, logvar), expected.sum(1))


def test_kl_is_zero_at_the_prior_and_positive_elsewhere() -> None:
    zeros = torch.zeros(4, 6)
    assert torch.equal(kl_divergence(zeros, zeros), torch.zeros(4))
    assert (kl_divergence(zeros + 0.1, zeros) > 0).all()
    assert (kl_divergence(zeros, zeros - 0.1) > 0).all()


def test_kl_of_a_deterministic_autoencoder_is_zero() -> None:
    mu = torch.randn(3, 2)
    kl = kl_divergence(mu, None)
    assert kl.shape == (3,) and torch.equal(kl, torch.zeros(3))


def test_bernoulli_reconstruction_hand_computed_on_two_pixels() -> None:
    config = ModelConfig(image_shape=(1, 8, 8))
    logits = torch.tensor([[[[2.0, -1.0]]]], dtype=torch.float64)  # (1, 1, 1, 2)
    target = torch.tensor([[[[1.0, 0.25]]]], dtype=torch.float64)
    p1, p2 = 1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(1.0))
    expected = -(math.log(p1)) - (0.25 * math.log(p2) + 0.75 * math.log(1 - p2))
    nll = reconstruction_nll(logits, target, config)
    assert nll.shape == (1,)
    assert nll.item() == pytest.approx(expected, rel=1e-12)


def test_reconstruction_is_per_image_sum_over_pixels() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 3, 5, 5, generator=g)
    target = torch.rand(4, 3, 5, 5, generator=g)
    nll = reconstruction_nll(logits, target, BERNOULLI)
    assert nll.shape == (4,)
    for i in range(4):
        single = reconstruction_nll(logits[i : i + 1], target[i : i + 1], BERNOULLI)
        torch.testing.assert_close(nll[i : i + 1], single)
    # Doubling the image (more pixels) doubles the loss: a sum, not a mean.
    doubled = reconstruction_nll(logits.repeat(1, 1, 1, 2), target.repeat(1, 1, 1, 2), BERNOULLI)
    torch.testing.assert_close(doubled, 2 * nll)


def test_bernoulli_is_stable_for_extreme_logits() -> None:
    logits = torch.tensor([[[[100.0, -100.0]]]])
    nll = reconstruction_nll(logits, torch.tensor([[[[1.0, 0.0]]]]), BERNOULLI)
    assert torch.isfinite(nll).all() and nll.item() < 1e-30 + 1e-6
    wrong = reconstruction_nll(logits, torch.tensor([[[[0.0, 1.0]]]]), BERNOULLI)
    assert wrong.item() == pytest.approx(200.0)


def test_bernoulli_matches_torchs_kernel_in_value_and_gradient() -> None:
    """The vectorised form (losses._BernoulliNLL) is the function torch's own kernel computes."""
    g = torch.Generator().manual_seed(3)
    logits = (torch.randn(64, 1, 8, 8, generator=g) * 8).requires_grad_()  # from -30 to 30
    target = torch.rand(64, 1, 8, 8, generator=g).requires_grad_()
    ours = reconstruction_nll(logits, target, BERNOULLI)
    torchs = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(ours, torchs, rtol=1e-6, atol=1e-4)
    ours_grads = torch.autograd.grad(ours.sum(), (logits, target))
    torchs_grads = torch.autograd.grad(torchs.sum(), (logits, target))
    for a, b in zip(ours_grads, torchs_grads):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    double = (torch.randn(2, 1, 2, 2, dtype=torch.float64, generator=g) * 4).requires_grad_()
    grey = torch.rand(2, 1, 2, 2, dtype=torch.float64, generator=g).requires_grad_()
    assert torch.autograd.gradcheck(lambda l, x: reconstruction_nll(l, x, BERNOULLI), (double, grey))


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_gaussian_nll_matches_the_formula(sigma: float) -> None:
    config = ModelConfig(image_shape=(1, 8, 8), likelihood="gaussian", gaussian_sigma=sigma)
    logits = torch.tensor([[[[0.0, 1.5]]]], dtype=torch.float64)
    target = torch.tensor([[[[0.2, 0.9]]]], dtype=torch.float64)
    means = [0.5, 1 / (1 + math.exp(-1.5))]
    expected = sum(
        0.5 * ((t - m) / sigma) ** 2 + math.log(sigma) + 0.5 * math.log(2 * math.pi)
        for t, m in zip([0.2, 0.9], means)
    )
    assert reconstruction_nll(logits, target, config).item() == pytest.approx(expected, rel=1e-12)
    by_torch = -Normal(torch.sigmoid(logits), sigma).log_prob(target).sum()
    assert reconstruction_nll(logits, target, config).item() == pytest.approx(by_torch.item(), rel=1e-12)


def test_log_normal_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(2)
    z = torch.randn(7, 4, generator=g, dtype=torch.float64)
    mu = torch.randn(7, 4, generator=g, dtype=torch.float64)
    logvar = torch.randn(7, 4, generator=g, dtype=torch.float64)
    expected = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    got = log_normal(z, mu, logvar)
    assert got.shape == (7,)
    torch.testing.assert_close(got, expected)
    standard = Normal(torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)).log_prob(z).sum(-1)
    torch.testing.assert_close(log_standard_normal(z), standard)
    torch.testing.assert_close(log_normal(z, torch.zeros_like(z), torch.zeros_like(z)), standard)
