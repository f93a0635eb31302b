"""Anomaly detection with an autoencoder: images the model reconstructs badly are suspicious.

A model trained on "normal" data (some classes of a data set) scores every test image, by its
reconstruction error or by its negative ELBO (An & Cho 2015, "Variational autoencoder based
anomaly detection using reconstruction probability", use the VAE's probabilistic score in the
same way). Outliers are either held-out classes of the same data set or another data set.
How well the score separates them is the ROC curve and its AUC (Fawcett 2006, "An introduction
to ROC analysis"), computed in roc.py with numpy alone.

Inputs are uint8 images (N, C, H, W) as torch tensors or numpy arrays; outputs are numpy arrays
and frozen dataclasses of them, safe to hand from a worker thread to the GUI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from .batch_progress import ProgressCallback, StopCheck, Stopped, checkpoint
from .batches import evaluating, evaluation_images, image_tensor
from .config import TrainConfig
from .data import load_dataset, parse_class_list, select_classes
from .denoising import reconstruct
from .errors import ConfigError, DataError
from .losses import kl_divergence, reconstruction_nll
from .models import AE
from .roc import PrecisionRecall, RocCurve, ScoreHistograms, precision_recall_at, roc_auc, roc_curve, score_histograms
from .vocabulary import ANOMALY_SCORES

SCORE_BATCH = 1000
# Images scored per round, normal and outlier images in proportion: after each round a stop keeps a
# usable sample of both groups.
ROUND_IMAGES = 2000
# A class list such as "9", "8-9" or "0,3-5"; anything else is read as a data set spec.
_CLASS_LIST = re.compile(r"\s*[0-9]+\s*(-\s*[0-9]+\s*)?(,\s*[0-9]+\s*(-\s*[0-9]+\s*)?)*")


@torch.inference_mode()
def anomaly_scores(
    model: AE,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    score: str = "recon",
    binarize: str = "none",
    samples: int = 1,
    seed: int = 0,
    batch_size: int = SCORE_BATCH,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> np.ndarray:
    """One anomaly score per image (N,), float64 nats; higher means more anomalous.

    ``"recon"``: -log p(x|z) with z the posterior mean (deterministic; for a plain AE the only
    choice). ``"elbo"``: the negative ELBO, -log p(x|z) averaged over ``samples`` draws
    z ~ q(z|x) (seeded) plus the closed-form KL (Kingma & Welling 2014, eq. 10). Images are
    seen as the model was trained (``binarize``: the fixed test binarisation, see batches.py).
    """
    if score not in ANOMALY_SCORES:
        raise ConfigError(f"anomaly score must be one of {', '.join(ANOMALY_SCORES)}; got {score!r}")
    if score == "elbo" and not model.variational:
        raise ConfigError("a plain autoencoder has no ELBO; score it by reconstruction error (recon)")
    if samples < 1:
        raise ConfigError(f"the ELBO needs at least 1 sample; got {samples}")
    with evaluating(model, images, labels, binarize, seed) as inputs:
        x_all = inputs.images
        out = np.empty(len(x_all), dtype=np.float64)
        for start in range(0, len(x_all), batch_size):
            x, y = inputs.batch(start, batch_size)
            if score == "recon":
                values = reconstruction_nll(model(x, y, sample=False).logits, x, model.config)
            else:
                mu, logvar = model.encode(x, y)
                values = kl_divergence(mu, logvar)
                std = torch.exp(0.5 * logvar)
                for _ in range(samples):
                    eps = torch.randn(mu.shape, generator=inputs.generator, device=inputs.device, dtype=mu.dtype)
                    logits = model.decode_logits(mu + std * eps, y)
                    values = values + reconstruction_nll(logits, x, model.config) / samples
            out[start : start + len(x)] = values.double().cpu().numpy()
            checkpoint(start + len(x), len(x_all), progress, should_stop)
    return out


@dataclass(frozen=True)
class AnomalyExamples:
    """The highest-scoring images: their indices and scores (descending), the images and their
    reconstructions (float32 (k, C, H, W) in [0, 1]) and per-pixel squared error maps (k, H, W)."""

    indices: np.ndarray
    scores: np.ndarray
    images: np.ndarray
    reconstructions: np.ndarray
    error_maps: np.ndarray


def most_anomalous(
    model: AE,
    images: torch.Tensor | np.ndarray,
    scores: np.ndarray,
    k: int = 16,
    *,
    labels: torch.Tensor | np.ndarray | None = None,
    binarize: str = "none",
) -> AnomalyExamples:
    """The ``k`` images with the highest ``scores``, reconstructed from their posterior mean, with
    the squared error per pixel (averaged over colour channels) showing where they differ."""
    scores = np.asarray(scores, dtype=np.float64)
    images_t = image_tensor(images)
    if len(scores) != len(images_t):
        raise ValueError(f"{len(scores)} scores for {len(images_t)} images")
    top = np.argsort(-scores, kind="mergesort")[: max(0, k)]
    index = torch.from_numpy(top)
    x = evaluation_images(images_t[index], binarize)
    top_labels = None if labels is None else torch.as_tensor(labels)[index]
    recon = reconstruct(model, x, top_labels)
    x_np = x.numpy()
    return AnomalyExamples(top, scores[top], x_np, recon, ((x_np - recon) ** 2).mean(axis=1))


@dataclass(frozen=True)
class AnomalyData:
    """The normal and outlier test images for one anomaly experiment, and what they are."""

    normal: torch.Tensor
    outliers: torch.Tensor
    normal_description: str
    outlier_description: str
    # True when the model saw some of the "outliers" during training: the AUC is then not a
    # test of anomaly detection.
    outliers_in_training: bool
    notes: tuple[str, ...]


def is_class_list(text: str) -> bool:
    """Whether ``text`` names classes (``9``, ``8-9``, ``0,3-5``) rather than a data set."""
    return _CLASS_LIST.fullmatch(text) is not None


def anomaly_data(train_config: TrainConfig, outliers: str) -> AnomalyData:
    """Normal and outlier test images for a model trained with ``train_config``.

    ``outliers`` is a class list (those classes of the same data set's test split are the
    outliers; the normal images are the test images of the other classes the model trained on)
    or any data set spec :func:`~vae_studio.core.data.load_dataset` accepts (its test split,
    converted to the model's image size and channels; the normal images are the model's test split).
    """
    config = train_config
    full = load_dataset(config.dataset, image_size=config.image_size, channels=config.channels, seed=config.seed)
    trained = set(config.classes) if config.classes else set(range(full.num_classes))
    if is_class_list(outliers):
        if not full.labelled:
            raise DataError(f"{config.dataset} has no classes, so outliers cannot be chosen by class")
        outlier_classes = set(parse_class_list(outliers))
        normal_classes = trained - outlier_classes
        if not normal_classes:
            raise DataError(f"the model was trained only on classes {outliers}, so no normal class is left")
        outlier_set = select_classes(full, sorted(outlier_classes))
        normal_set = select_classes(full, sorted(normal_classes))
        seen = sorted(outlier_classes & trained)
        notes = []
        if seen:
            names = ", ".join(full.class_names[c] for c in seen)
            notes.append(
                f"The outliers were in training: the model was trained on outlier class{'es' if len(seen) > 1 else ''} "
                f"{names}, so this AUC does not measure the detection of unseen data."
            )
        return AnomalyData(
            normal_set.test_images,
            outlier_set.test_images,
            f"{config.dataset} test, classes {', '.join(full.class_names[c] for c in sorted(normal_classes))}",
            f"{config.dataset} test, classes {', '.join(full.class_names[c] for c in sorted(outlier_classes))}",
            bool(seen),
            tuple(notes),
        )
    normal_set = select_classes(full, sorted(trained)) if config.classes else full
    normal_description = f"{config.dataset} test"
    if config.classes:
        normal_description += f", classes {', '.join(full.class_names[c] for c in sorted(trained))}"
    other = load_dataset(outliers, image_size=config.image_size, channels=config.channels, seed=config.seed)
    same = other.name == full.name and torch.equal(other.test_images, full.test_images)
    notes = (f"The outliers are the model's own data set ({outliers}): it was in the training data.",) if same else ()
    return AnomalyData(normal_set.test_images, other.test_images, normal_description, f"{outliers} test", same, notes)


@dataclass(frozen=True)
class AnomalyResult:
    """Scores of the normal and outlier images and how well they separate.

    A run stopped early scored only the first images of each group: ``normal_total`` and
    ``outlier_total`` say how many there were (see :attr:`complete` and :attr:`sample_note`)."""

    score: str
    normal_scores: np.ndarray
    outlier_scores: np.ndarray
    normal_total: int
    outlier_total: int

    @property
    def complete(self) -> bool:
        return len(self.normal_scores) == self.normal_total and len(self.outlier_scores) == self.outlier_total

    @property
    def sample_note(self) -> str:
        """The sample size in words when the run was stopped early, else ""."""
        if self.complete:
            return ""
        return (
            f"Stopped early: {len(self.normal_scores):,} of {self.normal_total:,} normal and "
            f"{len(self.outlier_scores):,} of {self.outlier_total:,} outlier images were scored."
        )

    @property
    def scores(self) -> np.ndarray:
        """All scores, normal images first."""
        return np.concatenate([self.normal_scores, self.outlier_scores])

    @property
    def is_outlier(self) -> np.ndarray:
        return np.r_[np.zeros(len(self.normal_scores), bool), np.ones(len(self.outlier_scores), bool)]

    @property
    def auc(self) -> float:
        return roc_auc(self.scores, self.is_outlier)

    def roc(self) -> RocCurve:
        return roc_curve(self.scores, self.is_outlier)

    def histograms(self, bins: int = 50) -> ScoreHistograms:
        return score_histograms(self.normal_scores, self.outlier_scores, bins)

    def at_threshold(self, threshold: float) -> PrecisionRecall:
        return precision_recall_at(self.scores, self.is_outlier, threshold)


def detect_anomalies(
    model: AE,
    normal: torch.Tensor | np.ndarray,
    outliers: torch.Tensor | np.ndarray,
    *,
    score: str = "recon",
    binarize: str = "none",
    samples: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> AnomalyResult:
    """Score both groups with :func:`anomaly_scores`; progress counts images over both groups.

    The groups are scored together in rounds of about ROUND_IMAGES images, each round the next
    slice of both in proportion to their sizes, so that when ``should_stop()`` answers True the
    result holds the rounds done so far (a sample of both groups, stated by the result; Stopped
    if the first round was not done). A conditional model would need the class of each image,
    which an outlier does not have, so it is refused.
    """
    if model.config.conditional:
        raise ConfigError("anomaly detection needs an unconditional model: an outlier has no class to condition on")
    groups = (normal, outliers)
    n_total = len(normal) + len(outliers)
    rounds = max(1, -(-n_total // ROUND_IMAGES))
    ends = [np.linspace(0, len(images), rounds + 1).round().astype(int) for images in groups]
    parts: tuple[list[np.ndarray], list[np.ndarray]] = ([np.empty(0)], [np.empty(0)])
    done = 0

    def shifted(offset: int) -> ProgressCallback | None:
        return None if progress is None else (lambda d, _total: progress(offset + d, n_total))

    for r in range(rounds):
        try:
            for g, images in enumerate(groups):
                chunk = images[ends[g][r] : ends[g][r + 1]]
                if len(chunk) == 0:
                    continue
                parts[g].append(
                    anomaly_scores(
                        model, chunk, score=score, binarize=binarize, samples=samples, seed=seed + r,
                        progress=shifted(done), should_stop=should_stop,
                    )
                )
                done += len(chunk)
        except Stopped:
            if r == 0:
                raise
            kept = [np.concatenate(p)[: ends[g][r]] for g, p in enumerate(parts)]
            return AnomalyResult(score, kept[0], kept[1], len(normal), len(outliers))
    return AnomalyResult(score, np.concatenate(parts[0]), np.concatenate(parts[1]), len(normal), len(outliers))
