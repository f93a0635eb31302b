"""Loss terms, per image, in nats.

The ELBO (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", eq. 3) splits into the
expected reconstruction log-likelihood and the KL divergence between q(z|x) and the prior.
Both are returned per image so callers can average, sum or rank them.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .config import ModelConfig

LOG_2PI = math.log(2.0 * math.pi)


def reconstruction_nll(logits: torch.Tensor, target: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """-log p(x|z) per image.

    Bernoulli: binary cross-entropy on logits, summed over pixels (the PyTorch VAE example's
    measure; on grey levels it is the cross-entropy, not a normalised likelihood).
    Gaussian: the full Gaussian NLL with the fixed sigma of the config, mean = sigmoid(logits).
    """
    if config.likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    else:
        sigma = config.gaussian_sigma
        mean = torch.sigmoid(logits)
        nll = 0.5 * ((target - mean) / sigma) ** 2 + math.log(sigma) + 0.5 * LOG_2PI
    return nll.flatten(1).sum(1)


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per latent dimension, shape (N, d).

    Closed form from Kingma & Welling 2014, appendix B: -1/2 (1 + log sigma^2 - mu^2 - sigma^2).
    """
    return -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp())


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
    """KL per image; zero for a deterministic autoencoder, which has no posterior to regularise."""
    if logvar is None:
        return torch.zeros(mu.shape[0], device=mu.device, dtype=mu.dtype)
    return kl_per_dimension(mu, logvar).sum(1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last dimension."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
