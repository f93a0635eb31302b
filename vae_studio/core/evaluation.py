"""How good is a trained model? Test-split figures in nats per image, with the binarisation stated.

- The negative ELBO and its two terms (:func:`metrics.evaluate_loss`).
- The importance-weighted estimate of the negative log-likelihood (Burda, Grosse & Salakhutdinov
  2016, "Importance weighted autoencoders", eq. 8): log p(x) >= E[log (1/K) sum_k p(x, z_k) /
  q(z_k|x)], z_k ~ q(z|x). K = 1 is the ELBO; the bound tightens as K grows, and K = 5000 is the
  usual protocol for reporting test log-likelihoods on binarized MNIST.
- Active units (Burda et al. 2016, sec. 5.2): latent dimensions whose posterior mean varies across
  the data, Cov_x(E_q[z_u]) > 0.01.
- Reconstruction MSE and PSNR of the posterior-mean reconstruction.

Figures only compare under the same binarisation: a Bernoulli likelihood on grey levels is a
cross-entropy, not a likelihood, and binarized test sets differ from one another.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .batch_progress import ProgressCallback, StopCheck, Stopped, checkpoint
from .batches import evaluating, evaluation_images, image_tensor
from .config import ModelConfig
from .denoising import mean_psnr, reconstruct
from .errors import ConfigError
from .losses import LOG_2PI, log_normal, log_standard_normal
from .metrics import evaluate_loss
from .models import AE

# Decoder rows (images x samples) per pass of the importance-weighted estimate: the logits of
# 16384 rows of a 784-pixel image are 51 MB of float32, small enough for any machine.
IW_MAX_ROWS = 16384
ACTIVE_UNIT_THRESHOLD = 0.01
ENCODE_BATCH = 2000

# Short forms to state next to each number, and the long ones for headers and reports.
BINARIZATION_LABELS = {"dynamic": "dynamically binarized", "static": "statically binarized", "none": "grey levels"}
BINARIZATION_DESCRIPTIONS = {
    "dynamic": "dynamically binarized (trained on fresh binarisations; tested on one fixed binarisation)",
    "static": "statically binarized (trained on one fixed binarisation; tested on another fixed one)",
    "none": "grey levels (not binarized)",
}


def binarization_description(binarize: str) -> str:
    """The phrase that goes with every figure: how the images were binarized, if at all."""
    return BINARIZATION_DESCRIPTIONS[binarize]


def repeated_log_likelihood(logits: torch.Tensor, x: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """log p(x_b|z_kb) of shape (K, B) for logits (K, B, D) of K codes per image and images x (B, D).

    The same quantity as -:func:`losses.reconstruction_nll`, without copying x K times. For the
    Bernoulli likelihood, -BCE(l, x) = x.l - softplus(l): the dot products are one einsum and
    softplus is one fused kernel, which roughly halves the cost of the importance-weighted pass.
    """
    if config.likelihood == "bernoulli":
        return torch.einsum("kbd,bd->kb", logits, x) - F.softplus(logits).sum(-1)
    sigma = config.gaussian_sigma
    squared = ((x - torch.sigmoid(logits)) / sigma).pow(2).sum(-1)
    return -0.5 * squared - x.shape[-1] * (math.log(sigma) + 0.5 * LOG_2PI)


@torch.inference_mode()
def importance_weighted_nll(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    samples: int,
    binarize: str = "none",
    seed: int = 0,
    max_rows: int = IW_MAX_ROWS,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    keep_partial: bool = False,
) -> np.ndarray:
    """-log p(x) per image (N,), float64 nats, estimated with ``samples`` importance samples.

    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K, z_k ~ q(z|x)
    (Burda et al. 2016, eq. 8), evaluated under torch.inference_mode with images and samples
    batched so that one decoder pass has at most ``max_rows`` rows; a large K is split into
    chunks whose logsumexps are combined at the end, so K = 5000 needs no more memory than
    K = 50. The noise comes from one generator seeded with ``seed``. In expectation the
    estimate never exceeds the negative ELBO and decreases towards -log p(x) as K grows.
    Progress counts images. When ``should_stop()`` answers True between batches, :class:`Stopped`
    is raised, or with ``keep_partial`` the estimates of the first images done so far are returned
    (a shorter array; Stopped still if none is done).
    """
    if not model.variational:
        raise ConfigError("a plain autoencoder has no posterior q(z|x), so it has no importance-weighted likelihood")
    if samples < 1:
        raise ConfigError(f"the importance-weighted estimate needs at least 1 sample; got {samples}")
    with evaluating(model, images, labels, binarize, seed) as inputs:
        n = len(inputs.images)
        per_batch = max(1, min(n, max_rows // samples))
        per_chunk = min(samples, max(1, max_rows // per_batch))
        out = np.empty(n, dtype=np.float64)
        for start in range(0, n, per_batch):
            x, y = inputs.batch(start, per_batch)
            b = len(x)
            out[start : start + b] = -_log_px(model, x, y, samples, per_chunk, inputs.generator).cpu().numpy()
            try:
                checkpoint(start + b, n, progress, should_stop)
            except Stopped:
                if not keep_partial:
                    raise
                return out[: start + b]
    return out


def _log_px(
    model: AE, x: torch.Tensor, y: torch.Tensor | None, samples: int, per_chunk: int, generator: torch.Generator
) -> torch.Tensor:
    """The importance-weighted log p(x) of one batch (float64), its ``samples`` codes drawn ``per_chunk``
    at a time and the chunks' logsumexps combined."""
    b = len(x)
    mu, logvar = model.encode(x, y)
    std = torch.exp(0.5 * logvar)
    chunk_sums = []
    for first in range(0, samples, per_chunk):
        k = min(per_chunk, samples - first)
        z = mu + std * torch.randn((k, b, mu.shape[1]), generator=generator, device=mu.device, dtype=mu.dtype)
        logits = model.decode_logits(z.reshape(k * b, -1), None if y is None else y.repeat(k))
        log_likelihood = repeated_log_likelihood(logits.view(k, b, -1), x.flatten(1), model.config)
        log_weights = log_likelihood + log_standard_normal(z) - log_normal(z, mu, logvar)
        chunk_sums.append(torch.logsumexp(log_weights, dim=0))
    return torch.logsumexp(torch.stack(chunk_sums), dim=0).double() - math.log(samples)


@torch.inference_mode()
def posterior_mean_variance(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    binarize: str = "none",
    batch_size: int = ENCODE_BATCH,
) -> np.ndarray:
    """Per latent dimension (d,), the variance over the images of the posterior mean E_q[z_u]."""
    with evaluating(model, images, labels, binarize, seed=0) as inputs:
        starts = range(0, len(inputs.images), batch_size)
        means = [model.encode(*inputs.batch(start, batch_size))[0] for start in starts]
    mu = torch.cat(means).double().cpu().numpy()
    return mu.var(axis=0)


def active_units(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    binarize: str = "none",
    threshold: float = ACTIVE_UNIT_THRESHOLD,
) -> int | None:
    """How many latent dimensions are active: Cov_x(E_q[z_u]) > ``threshold`` (Burda et al. 2016).

    None for a plain autoencoder, whose code has no prior scale that a threshold could refer to.
    """
    if not model.variational:
        return None
    return int(np.sum(posterior_mean_variance(model, images, labels, binarize=binarize) > threshold))


@dataclass(frozen=True)
class Evaluation:
    """A model's test figures, in nats per image unless stated; ``notes`` say how to read them."""

    images: int
    binarize: str
    binarization: str
    likelihood: str
    recon: float  # -E_q[log p(x|z)], one sample per image
    kl: float
    loss: float  # the negative ELBO (recon + KL)
    iw_nll: float | None  # importance-weighted -log p(x) estimate; None for a plain AE or no K
    iw_samples: int | None
    iw_images: int | None  # images the estimate covers: fewer than ``images`` when it was stopped early
    active_units: int | None
    latent_dim: int
    mse: float  # per pixel, posterior-mean reconstruction vs the test image as the model saw it
    psnr: float  # dB, the mean of per-image PSNRs, peak 1
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["notes"] = list(self.notes)
        return values


def _notes(model: AE, binarize: str, iw_samples: int | None, images: int, iw_images: int | None) -> tuple[str, ...]:
    notes = []
    if iw_images is not None and iw_images < images:
        notes.append(
            f"Stopped early: the importance-weighted estimate covers the first {iw_images:,} of the {images:,} "
            "images (the other figures cover all of them), so it is noisier and not comparable to a full run."
        )
    if model.config.likelihood == "bernoulli" and binarize == "none":
        notes.append(
            "Bernoulli likelihood on grey levels: the reconstruction term and any 'NLL' are cross-entropies, "
            "not likelihoods of the data, and do not compare with published binarized-MNIST figures."
        )
    if model.config.likelihood == "gaussian":
        notes.append(
            f"Gaussian likelihood with fixed sigma {model.config.gaussian_sigma}: figures are densities on "
            "continuous pixel values (they can be negative) and do not compare with discrete likelihoods."
        )
    if binarize != "none":
        notes.append(
            "Binarized test images are one fixed random binarisation (seeded); published statically "
            "binarized MNIST (Larochelle & Murray 2011) is a different one."
        )
    if not model.variational:
        notes.append("A plain autoencoder has no KL term and no likelihood: only reconstruction figures apply.")
    elif iw_samples is None:
        notes.append("No importance-weighted estimate was asked for (give K importance samples).")
    return tuple(notes)


def evaluate_model(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    binarize: str = "none",
    iw_samples: int | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Evaluation:
    """All test figures of ``model`` on uint8 ``images`` as the model was trained (``binarize``).

    ``iw_samples`` K turns on the importance-weighted NLL (the slow part: N x K decoder passes);
    progress then counts the images of that pass, otherwise of the reconstruction pass. Stopped
    during that pass, the result keeps the estimate over the images done (``iw_images``, stated in
    the notes); stopped before it, :class:`Stopped` is raised.
    """
    images_t = image_tensor(images)
    labels_t = None if labels is None else torch.as_tensor(labels)
    loss = evaluate_loss(model, images_t, labels_t, binarize=binarize, seed=seed)
    x = evaluation_images(images_t, binarize)
    iw_samples = iw_samples if model.variational else None
    reconstruction = reconstruct(
        model, x, labels_t, progress=progress if iw_samples is None else None, should_stop=should_stop
    )
    mse = float(np.mean((x.numpy().astype(np.float64) - reconstruction) ** 2))
    iw_nll = iw_images = None
    if iw_samples is not None:
        per_image = importance_weighted_nll(
            model, images_t, labels_t, samples=iw_samples, binarize=binarize, seed=seed,
            progress=progress, should_stop=should_stop, keep_partial=True,
        )
        iw_nll, iw_images = float(per_image.mean()), len(per_image)
    return Evaluation(
        images=len(images_t),
        binarize=binarize,
        binarization=binarization_description(binarize),
        likelihood=model.config.likelihood,
        recon=loss.recon,
        kl=loss.kl,
        loss=loss.loss,
        iw_nll=iw_nll,
        iw_samples=iw_samples,
        iw_images=iw_images,
        active_units=active_units(model, images_t, labels_t, binarize=binarize),
        latent_dim=model.config.latent_dim,
        mse=mse,
        psnr=mean_psnr(x.numpy(), reconstruction),
        notes=_notes(model, binarize, iw_samples, len(images_t), iw_images),
    )
