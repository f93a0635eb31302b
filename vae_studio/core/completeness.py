"""Completeness: every point in the region the prior or the data occupy decodes to something that
looks like real data (the other property that sets a VAE's latent space apart; see :mod:`comparison`).

Measured as the share of decodings of prior samples and of a regular grid over the region the
encoded means occupy (the middle 98% of them on each axis of the grid's plane) that a classifier
trained on the data (see :mod:`realism`) recognises, plus the distance of each decoding to its
nearest real training image.

"Recognises" is calibrated per model: a decoding counts as real when the classifier's confidence
reaches the level that all but the worst 5% of the same model's reconstructions of real test
images reach (never below 50%: one class must outweigh all the others together). A fixed bar
such as 90% mostly measures sharpness, so it rejects a VAE's blurry but meaningful decodings (the
KL term costs it some reconstruction detail); the calibrated bar asks only whether arbitrary
latent points decode as well as the points of real data do. The fixed-bar figures are reported
too. A plain AE has no prior: N(0, I) in its coordinates is an arbitrary ball, which is the
textbook point (one cannot sample from an AE without knowing where its codes lie).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .batch_progress import ProgressCallback, StopCheck, checkpoint
from .batches import to_float
from .latent import ViewPlane, decode, grid_points, sample_prior
from .models import AE
from .realism import RealismClassifier, classify
from .vocabulary import FIXED_REALISM_THRESHOLD

DEFAULT_THRESHOLD = FIXED_REALISM_THRESHOLD
# The calibrated bar: this percentile of the classifier's confidence on the model's own
# reconstructions of real test images, and never below MIN_THRESHOLD.
CALIBRATION_PERCENTILE = 5.0
MIN_THRESHOLD = 0.5
# The grid covers the middle GRID_COVERAGE percent of the encoded means on each plane axis, so a
# few stray codes do not stretch it over empty space (the same rule for an AE and a VAE).
GRID_COVERAGE = 98.0
# Reconstructions whose nearest-training-image distances give the baseline for the decodings' ones.
RECONSTRUCTION_DISTANCES = 100
DECODE_BATCH = 500
NEAREST_CHUNK = 5_000  # training images per torch.cdist call: bounds the distance matrix's memory


def nearest_training_images(
    images: np.ndarray,
    reference: torch.Tensor,
    *,
    chunk: int = NEAREST_CHUNK,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For float images (N, C, H, W) in [0, 1]: the L2 pixel distance to the nearest of the uint8
    ``reference`` images (M, C, H, W) and its index, both (N,). Computed with ``torch.cdist``
    ``chunk`` reference images at a time, so memory stays at N x chunk distances."""
    x = torch.as_tensor(np.asarray(images, np.float32)).flatten(1)
    best = torch.full((len(x),), float("inf"))
    best_index = torch.zeros(len(x), dtype=torch.int64)
    m = len(reference)
    for start in range(0, m, chunk):
        ref = to_float(reference[start : start + chunk]).flatten(1)
        distance, index = torch.cdist(x, ref).min(dim=1)
        closer = distance < best
        best = torch.where(closer, distance, best)
        best_index = torch.where(closer, index + start, best_index)
        checkpoint(min(m, start + chunk), m, progress, should_stop)
    return best.numpy(), best_index.numpy()


def default_plane(mu: np.ndarray) -> ViewPlane:
    """The plane a completeness grid lies in when none is chosen: the latent axes for d <= 2,
    else the plane of the encoded means' first two principal components."""
    d = np.asarray(mu).shape[1]
    return ViewPlane.axes(d) if d <= 2 else ViewPlane.pca(mu)


def occupied_range(values: np.ndarray, coverage: float = GRID_COVERAGE) -> tuple[float, float]:
    """The interval holding the middle ``coverage`` percent of ``values`` (N,): the part of one
    axis that the codes occupy, without the few strays that would stretch it over empty space."""
    tail = (100.0 - coverage) / 2
    low, high = np.percentile(np.asarray(values, np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def _grid_codes(plane: ViewPlane, mu: np.ndarray, grid_size: int) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """Latent points of a grid_size x grid_size grid over the region ``mu`` occupies in ``plane``
    (:func:`occupied_range` on each plane axis; for a 1-D latent space, grid_size**2 points along
    the line), and the region's ranges."""
    xy = plane.to_plane(mu)
    x_range = occupied_range(xy[:, 0])
    y_range = occupied_range(xy[:, 1])
    if plane.latent_dim == 1:
        points = np.stack([np.linspace(*x_range, grid_size**2), np.zeros(grid_size**2)], axis=1)
    else:
        points = grid_points(x_range, y_range, grid_size).reshape(-1, 2)
    return plane.to_latent(points), (x_range, y_range)


@dataclass(frozen=True)
class Completeness:
    """Completeness of a decoder, with every sample so a view can show them worst first.

    ``score`` is the mean of ``prior_share`` and ``grid_share``: the shares of decodings of
    prior samples and of grid points that the classifier judges real (confidence >=
    ``threshold``); all three are None when the data set has no labels (see ``note``).
    ``threshold`` is ``calibrated_threshold`` unless a fixed one was asked for; the calibrated one
    is the CALIBRATION_PERCENTILE-th percentile of ``reconstruction_confidence``, the
    classifier's confidence on the model's reconstructions of the encoded test images, and at
    least MIN_THRESHOLD. :meth:`shares` judges at any other bar, e.g. ``fixed_threshold``.

    Per sample (N = prior samples then grid points): ``codes`` (N, d), ``from_prior`` (N,),
    ``labels`` decoded with (conditional models, else None), ``images`` (N, C, H, W),
    ``predicted`` and ``confidence`` (None without a classifier), and the L2 pixel distance to
    the nearest training image with its index. ``reconstruction_distance`` holds the same
    distance for up to RECONSTRUCTION_DISTANCES reconstructions of test images: the baseline a
    decoding's distance compares with (a blurry decoder is far from every crisp training image,
    whatever it decodes). ``worst_first`` orders samples from the least real-looking: lowest
    confidence first (ties: farthest from real data), or farthest first without a classifier.
    ``plane`` and ``grid_range`` ((x0, x1), (y0, y1)) place the grid.
    """

    score: float | None
    prior_share: float | None
    grid_share: float | None
    threshold: float
    codes: np.ndarray
    from_prior: np.ndarray
    labels: np.ndarray | None
    images: np.ndarray
    predicted: np.ndarray | None
    confidence: np.ndarray | None
    nearest_distance: np.ndarray
    nearest_index: np.ndarray
    worst_first: np.ndarray
    plane: ViewPlane
    grid_range: tuple[tuple[float, float], ...]
    classifier_accuracy: float | None
    note: str
    calibrated_threshold: float | None
    fixed_threshold: float
    reconstruction_confidence: np.ndarray | None
    reconstruction_distance: np.ndarray

    @property
    def realistic(self) -> np.ndarray | None:
        """Per sample: does the classifier judge the decoding real? None without a classifier."""
        return None if self.confidence is None else self.confidence >= self.threshold

    def shares(self, threshold: float) -> tuple[float, float, float] | None:
        """(score, prior share, grid share) with the decodings judged at ``threshold`` instead; the
        confidences are kept, so no decoding is redone. None without a classifier."""
        if self.confidence is None:
            return None
        return _shares(self.confidence >= threshold, self.from_prior)


def _shares(real: np.ndarray, from_prior: np.ndarray) -> tuple[float, float, float]:
    prior_share = float(real[from_prior].mean()) if from_prior.any() else float("nan")
    grid_share = float(real[~from_prior].mean()) if (~from_prior).any() else float("nan")
    return float(np.nanmean([prior_share, grid_share])), prior_share, grid_share


def calibrated_threshold(reconstruction_confidence: np.ndarray) -> float:
    """The bar a decoding must reach to count as real for a model whose reconstructions of real test
    images get these classifier confidences: the level all but the worst CALIBRATION_PERCENTILE
    percent of them reach, and at least MIN_THRESHOLD (one class must outweigh all the others
    together: the classifier gives noise about 1/classes, and smudges seldom more than 0.4)."""
    confidence = np.asarray(reconstruction_confidence, np.float64)
    if len(confidence) == 0:
        return MIN_THRESHOLD
    return max(MIN_THRESHOLD, float(np.percentile(confidence, CALIBRATION_PERCENTILE)))


def completeness(
    model: AE,
    mu: np.ndarray,
    reference: torch.Tensor,
    classifier: RealismClassifier | None,
    *,
    threshold: float | None = None,
    labels: np.ndarray | None = None,
    prior_samples: int = 200,
    grid_size: int = 10,
    plane: ViewPlane | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Completeness:
    """Decode ``prior_samples`` points of N(0, I) and a ``grid_size`` x ``grid_size`` grid over the
    region the encoded means ``mu`` of real test images occupy in ``plane`` (default:
    :func:`default_plane`; see :func:`occupied_range`), and judge each decoding with
    ``classifier`` (None for an unlabelled data set: distances only). ``threshold``: None (the
    default) for the calibrated bar, which decodes ``mu`` too (the model's reconstructions of
    those images; a conditional model needs their ``labels`` for it), or a fixed bar.
    ``reference``: the uint8 training images (M, C, H, W) for the nearest-neighbour distances.
    A conditional model decodes sample i with class i mod num_classes.

    ``progress(done, total)`` counts decoding batches, then reference chunks.
    """
    mu = np.asarray(mu, np.float64)
    plane = plane or default_plane(mu)
    grid, grid_range = _grid_codes(plane, mu, grid_size)
    codes = np.concatenate([sample_prior(mu.shape[1], prior_samples, seed=seed), grid])
    from_prior = np.arange(len(codes)) < prior_samples
    config = model.config
    sample_labels = np.arange(len(codes)) % config.num_classes if config.conditional else None
    can_reconstruct = not config.conditional or labels is not None
    if threshold is None and classifier is not None and not can_reconstruct:
        raise ValueError("the calibrated threshold needs the reconstructions, so a conditional model needs the labels")
    recon_codes = mu if can_reconstruct else mu[:0]
    recon_labels = None if not config.conditional or labels is None else np.asarray(labels)

    jobs = [(codes, sample_labels), (recon_codes, recon_labels)]
    decode_batches = sum(-(-len(z) // DECODE_BATCH) for z, _ in jobs)
    total = decode_batches + -(-len(reference) // NEAREST_CHUNK)
    images, reconstructions = _decode_jobs(model, jobs, total, progress, should_stop)
    distance, index = _nearest(images, reconstructions, reference, decode_batches, total, progress, should_stop)
    n = len(images)
    samples = dict(
        codes=codes,
        from_prior=from_prior,
        labels=sample_labels,
        images=images,
        nearest_distance=distance[:n],
        nearest_index=index[:n],
        plane=plane,
        grid_range=grid_range,
        fixed_threshold=DEFAULT_THRESHOLD,
        reconstruction_distance=distance[n:],
    )
    if classifier is None:
        return _unjudged(samples, threshold)
    return _judged(samples, classifier, threshold, reconstructions if can_reconstruct else None, model.variational)


def _decode_jobs(
    model: AE,
    jobs: list[tuple[np.ndarray, np.ndarray | None]],
    total: int,
    progress: ProgressCallback | None,
    should_stop: StopCheck | None,
) -> list[np.ndarray]:
    """Decode each (codes, labels) job in batches, counting batches towards ``total`` for the progress."""
    decoded = []
    done = 0
    for z, z_labels in jobs:
        parts = [np.zeros((0, *model.config.image_shape), np.float32)]
        for start in range(0, len(z), DECODE_BATCH):
            batch_labels = None if z_labels is None else z_labels[start : start + DECODE_BATCH]
            parts.append(decode(model, z[start : start + DECODE_BATCH], batch_labels))
            done += 1
            checkpoint(done, total, progress, should_stop)
        decoded.append(np.concatenate(parts))
    return decoded


def _nearest(
    images: np.ndarray,
    reconstructions: np.ndarray,
    reference: torch.Tensor,
    decode_batches: int,
    total: int,
    progress: ProgressCallback | None,
    should_stop: StopCheck | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest training images of the decodings, then of the first reconstructions (their baseline), in one
    pass over the training images; the progress counts on from the ``decode_batches`` already done."""

    def nearest_progress(done: int, _total: int) -> None:
        if progress is not None:
            progress(decode_batches + -(-done // NEAREST_CHUNK), total)

    searched = np.concatenate([images, reconstructions[:RECONSTRUCTION_DISTANCES]])
    return nearest_training_images(searched, reference, progress=nearest_progress, should_stop=should_stop)


def _unjudged(samples: dict, threshold: float | None) -> Completeness:
    """Completeness without a classifier (an unlabelled data set): distances only, farthest first."""
    distance = samples["nearest_distance"]
    return Completeness(
        score=None,
        prior_share=None,
        grid_share=None,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        predicted=None,
        confidence=None,
        worst_first=np.argsort(-distance, kind="stable"),
        classifier_accuracy=None,
        note="The data set has no labels, so no classifier can judge whether decodings look real: "
        "completeness is not scored; only each decoding's distance to the nearest training image is given.",
        calibrated_threshold=None,
        reconstruction_confidence=None,
        **samples,
    )


def _judged(
    samples: dict,
    classifier: RealismClassifier,
    threshold: float | None,
    reconstructions: np.ndarray | None,
    variational: bool,
) -> Completeness:
    """Completeness with the classifier's verdicts, at ``threshold`` or, when None, the bar calibrated on the
    ``reconstructions`` (None when there are none)."""
    predicted, confidence = classify(classifier, samples["images"])
    recon_confidence = None if reconstructions is None else classify(classifier, reconstructions)[1]
    calibrated = None if recon_confidence is None else calibrated_threshold(recon_confidence)
    used = calibrated if threshold is None else threshold
    assert used is not None
    score, prior_share, grid_share = _shares(confidence >= used, samples["from_prior"])
    return Completeness(
        score=score,
        prior_share=prior_share,
        grid_share=grid_share,
        threshold=used,
        predicted=predicted,
        confidence=confidence,
        worst_first=np.lexsort((-samples["nearest_distance"], confidence)),
        classifier_accuracy=classifier.test_accuracy,
        note=_note(classifier, used, calibrated, threshold is None, variational),
        calibrated_threshold=calibrated,
        reconstruction_confidence=recon_confidence,
        **samples,
    )

def _note(
    classifier: RealismClassifier, used: float, calibrated: float | None, is_calibrated: bool, variational: bool
) -> str:
    """How the decodings were judged, in plain words."""
    text = f"A decoding counts as real when a classifier trained on the data set{_accuracy(classifier)} "
    text += f"gives one class a probability of at least {used:.0%}"
    if is_calibrated:
        text += (
            f": the level that {100 - CALIBRATION_PERCENTILE:.0f}% of this model's own reconstructions of real "
            f"test images reach (never below {MIN_THRESHOLD:.0%}), so blur alone is not held against it."
        )
    elif calibrated is not None:
        text += f" (a fixed bar; this model's calibrated bar would be {calibrated:.0%})."
    else:
        text += " (a fixed bar)."
    if not variational:
        text += (
            " A plain AE has no prior: its prior samples are N(0, I) in its own coordinates, which may lie far "
            "from where its codes are."
        )
    return text


def _accuracy(classifier: RealismClassifier) -> str:
    accuracy = classifier.test_accuracy
    return f" (test accuracy {accuracy:.1%})" if np.isfinite(accuracy) else ""
