"""Loss figures of a model on a whole data split, in nats per image."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .batches import evaluation_images
from .losses import kl_divergence, reconstruction_nll
from .models import AE


@dataclass(frozen=True)
class LossSummary:
    """Mean reconstruction NLL, KL and their sum (the negative ELBO for a VAE) per image."""

    recon: float
    kl: float
    loss: float
    images: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@torch.no_grad()
def evaluate_loss(
    model: AE,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    binarize: str = "none",
    batch_size: int = 2000,
    seed: int = 0,
) -> LossSummary:
    """Single-sample ELBO terms over ``images`` (uint8), with reparameterisation noise seeded by ``seed``.

    Like the PyTorch VAE example's test loss, z is sampled from q(z|x), so the figure is an
    unbiased estimate of the negative ELBO rather than a reconstruction of the mean code.
    """
    was_training = model.training
    model.eval()
    device = model.device
    generator = torch.Generator(device=device).manual_seed(seed)
    x_all = evaluation_images(images, binarize)
    recon_sum = kl_sum = 0.0
    for start in range(0, len(x_all), batch_size):
        x = x_all[start : start + batch_size].to(device)
        y = None if labels is None else labels[start : start + batch_size].to(device)
        out = model(x, y, generator=generator)
        recon_sum += reconstruction_nll(out.logits, x, model.config).sum().item()
        kl_sum += kl_divergence(out.mu, out.logvar).sum().item()
    model.train(was_training)
    n = max(len(x_all), 1)
    return LossSummary(recon_sum / n, kl_sum / n, (recon_sum + kl_sum) / n, len(x_all))
