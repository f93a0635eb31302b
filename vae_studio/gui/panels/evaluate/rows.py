"""What an evaluation run hands back, the rows of figures shown for it, and the test data and timing it runs on."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ....core.config import TrainConfig
from ....core.evaluation import BINARIZATION_LABELS, Evaluation, importance_weighted_nll
from ....core.models import AE
from ....core.recipe import training_data
from ....core.subsets import sample_indices
from ....core.trained_model import TrainedModel

# Published test NLLs on binarized MNIST, shown for context only (other binarisations and networks).
REFERENCE_FIGURES = (
    "≈ 89.9 nats: a plain VAE (Bernoulli, one stochastic layer) in several re-implementations",
    "86.76 nats (VAE) and 84.78 nats (IWAE, k = 50): Burda, Grosse & Salakhutdinov 2016, Table 1, "
    "one stochastic layer with 2×200 tanh units, 3,280 epochs",
)

SUBSET_SEED = 0  # the same test subset every time, so two models evaluated on "1,000 images" see the same ones
# The timing pass: one decoder batch of this many rows (images x samples), about a real pass's size.
CALIBRATION_SAMPLES = 128
CALIBRATION_ROWS = 8192


@dataclass(frozen=True)
class EvaluationOutcome:
    """A finished evaluation and what it was run on."""

    evaluation: Evaluation
    model_name: str
    dataset: str
    test_size: int  # images in the whole test split (the evaluation may use a subset)
    seconds: float


@dataclass(frozen=True)
class Row:
    """One line of the results table: what, the number as text, its unit, how the images were seen, and
    a sentence on what the figure means (the row's tooltip)."""

    figure: str
    value: str
    unit: str
    images: str
    help: str


def evaluation_split(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The test split of the data the model trained on (its classes only, if it was trained on some)."""
    dataset = training_data(config)
    return dataset.test_images, dataset.test_labels


def seeded_subset(images: torch.Tensor, labels: torch.Tensor | None, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A seeded random subset of ``n`` images in their original order (all of them when n is 0 or too large)."""
    if not n or n >= len(images):
        return images, labels
    keep = sample_indices(len(images), n, SUBSET_SEED, keep_order=True)
    return images[keep], None if labels is None else labels[keep]


def decoder_rows_per_second(model: AE) -> float:
    """Decoder rows per second of the importance-weighted pass, timed on blank images (cost does not
    depend on the pixels) after one small warm-up pass."""
    images = torch.zeros((CALIBRATION_ROWS // CALIBRATION_SAMPLES, *model.config.image_shape), dtype=torch.uint8)
    labels = torch.zeros(len(images), dtype=torch.int64) if model.config.conditional else None
    importance_weighted_nll(model, images[:2], None if labels is None else labels[:2], samples=8)
    start = time.perf_counter()
    importance_weighted_nll(model, images, labels, samples=CALIBRATION_SAMPLES)
    return CALIBRATION_ROWS / max(time.perf_counter() - start, 1e-6)


def result_rows(outcome: EvaluationOutcome) -> list[Row]:
    """The table's lines: every number with its unit and the binarisation it was measured under."""
    e = outcome.evaluation
    seen = BINARIZATION_LABELS[e.binarize]
    nats = "nats/image"
    iw_help = "An upper bound on −log p(x) (Burda et al. 2016) that tightens as K grows; K = 1 is the ELBO."
    if e.iw_nll is not None:
        covered = "" if e.iw_images == e.images else f", {e.iw_images:,} of {e.images:,} images: stopped early"
        iw = Row(f"−log p(x), IW (K = {e.iw_samples:,}{covered})", f"{e.iw_nll:.3f}", nats, seen, iw_help)
    elif e.active_units is None:
        iw = Row("−log p(x), IW", "n/a", "", seen, "A plain autoencoder has no likelihood to estimate.")
    else:
        iw = Row("−log p(x), IW", "not estimated", "", seen, iw_help)
    active = "n/a" if e.active_units is None else f"{e.active_units} of {e.latent_dim}"
    return [
        Row("Reconstruction", f"{e.recon:.3f}", nats, seen, "−E_q[log p(x|z)], one sample z ~ q(z|x) per image."),
        Row("KL(q ‖ p)", f"{e.kl:.3f}", nats, seen, "KL(q(z|x) ‖ p(z)): what the code costs against the prior N(0, I)."),
        Row("Negative ELBO", f"{e.loss:.3f}", nats, seen, "Reconstruction + KL: the training loss at β = 1."),
        iw,
        Row("Active units", active, "dims", seen, "Latent dimensions whose posterior mean varies over the images: "
            "Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016)."),
        Row("MSE", f"{e.mse:.5f}", "per pixel", seen, "Mean squared error of the reconstruction (μ decoded), pixels 0 to 1."),
        Row("PSNR", f"{e.psnr:.2f}", "dB", seen, "10·log10(1 / MSE) per image, averaged over the images."),
    ]


def shows_references(trained: TrainedModel) -> bool:
    """The published figures are binarized-MNIST test NLLs: context only for a model trained that way."""
    config = trained.train_config
    return config.binarize == "dynamic" and config.dataset == "mnist"
