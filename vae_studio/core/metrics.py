"""Loss figures of a model on a whole data split, in nats per image."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .batches import evaluating
from .latent import Encoding
from .losses import kl_divergence, reconstruction_nll
from .models import AE


@dataclass(frozen=True)
class LossSummary:
    """Mean reconstruction NLL, KL and their sum (the negative ELBO for a VAE) per image.

    ``encoding``: the posteriors the evaluation computed on its way, which are
    :func:`~vae_studio.core.latent.encode`'s of the same images when they were evaluated as given
    (``binarize="none"``), so a viewer of the final weights need not encode them again; else None.
    """

    recon: float
    kl: float
    loss: float
    images: int
    encoding: Encoding | None = field(default=None, repr=False, compare=False)


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
    recon_sum = kl_sum = 0.0
    keep = binarize == "none"  # then these posteriors are encode()'s (LossSummary.encoding)
    mus, logvars = [], []
    with evaluating(model, images, labels, binarize, seed) as inputs:
        for start in range(0, len(inputs.images), batch_size):
            x, y = inputs.batch(start, batch_size)
            out = model(x, y, generator=inputs.generator)
            recon_sum += reconstruction_nll(out.logits, x, model.config).sum().item()
            kl_sum += kl_divergence(out.mu, out.logvar).sum().item()
            if keep:
                mus.append(out.mu.float().cpu().numpy())
                if out.logvar is not None:
                    logvars.append(out.logvar.float().cpu().numpy())
    n = max(len(images), 1)
    encoding = None
    if mus:
        encoding = Encoding(np.concatenate(mus), np.concatenate(logvars) if logvars else None)
    return LossSummary(recon_sum / n, kl_sum / n, (recon_sum + kl_sum) / n, len(images), encoding)
