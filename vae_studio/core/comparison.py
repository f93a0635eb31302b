"""Continuity and completeness of one model's latent space: the two properties that set a VAE's
apart from an AE's (:mod:`continuity`, :mod:`completeness`), measured together by :func:`compare_model`.

A plain AE is trained only to reconstruct, so nothing forces its codes to fill the prior or to
vary smoothly between training points; the VAE's KL term and its noisy codes do both (Kingma &
Welling 2014; the comparison follows the usual teaching account, e.g. Rocca 2019, "Understanding
variational autoencoders"). The AE-versus-VAE experiment built on it is :mod:`ae_vs_vae`.

Every function takes numpy arrays and returns frozen dataclasses of plain arrays, so a GUI panel
can run it on a worker thread, passing ``progress(done, total)`` and ``should_stop()`` (see
:mod:`batch_progress`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .batch_progress import ProgressCallback, StopCheck
from .completeness import Completeness, completeness
from .config import TrainConfig
from .continuity import Continuity, continuity
from .data import ImageDataset
from .errors import VaeStudioError
from .latent import encode
from .realism import RealismClassifier, realism_classifier
from .recipe import training_data
from .trained_model import TrainedModel

# Test images whose codes place the grid and whose reconstructions calibrate the bar.
COMPLETENESS_POINTS = 2000


@dataclass(frozen=True)
class ModelComparison:
    """Continuity and completeness of one model, with :meth:`summary` for a table or JSON."""

    name: str
    kind: str
    continuity: Continuity
    completeness: Completeness

    def summary(self) -> dict[str, object]:
        """The headline figures as plain numbers; a figure that is undefined is None (null in JSON)."""
        c = self.completeness
        fixed = c.shares(c.fixed_threshold) or (None, None, None)
        return {
            "name": self.name,
            "kind": self.kind,
            "continuity": _number(self.continuity.score),
            "completeness": _number(c.score),
            "completeness_prior": _number(c.prior_share),
            "completeness_grid": _number(c.grid_share),
            "nearest_distance": _number(_mean(c.nearest_distance)),
            "nearest_distance_reconstructions": _number(_mean(c.reconstruction_distance)),
            "threshold": c.threshold,
            "calibrated_threshold": _number(c.calibrated_threshold),
            "completeness_fixed": _number(fixed[0]),
            "completeness_prior_fixed": _number(fixed[1]),
            "completeness_grid_fixed": _number(fixed[2]),
            "fixed_threshold": c.fixed_threshold,
            "classifier_accuracy": _number(c.classifier_accuracy),
            "note": c.note,
        }


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _number(value: float | None) -> float | None:
    """None for a missing or NaN figure, which JSON cannot hold."""
    return None if value is None or not np.isfinite(value) else float(value)


def reference_data(train_config: TrainConfig) -> ImageDataset:
    """The data a model is judged against: its data set and classes, but every training image even
    when it trained on a subset, so the realism classifier and the nearest-image search see the
    whole distribution (and models trained on different subsets are judged alike)."""
    return training_data(replace(train_config, train_subset=None))


def compare_model(
    trained: TrainedModel,
    dataset: ImageDataset,
    *,
    classifier: RealismClassifier | None = None,
    points: int = 500,
    completeness_points: int = COMPLETENESS_POINTS,
    prior_samples: int = 200,
    grid_size: int = 10,
    threshold: float | None = None,
    step: float = 0.1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> ModelComparison:
    """Both scores for ``trained`` on ``dataset`` (normally :func:`reference_data`): continuity around
    ``points`` random test images; completeness against the training images, with the grid's
    region and the calibrated bar taken from ``completeness_points`` random test images (a
    superset of the first ones: the 5th percentile and a PCA plane need more points to be
    steady). ``classifier``: default the data set's cached :func:`realism_classifier` if it is
    labelled, else none. ``threshold``: None for the calibrated bar (see :func:`completeness`), or
    a fixed one. ``progress(done, total)`` runs once over continuity and completeness, as halves of
    the work (classifier training, on first use only, does not report)."""
    if classifier is None and dataset.labelled:
        classifier = realism_classifier(dataset, should_stop=should_stop)
    model = trained.model
    mu_all, picked_labels, first = _encoded_test_points(trained, dataset, points, completeness_points, seed)
    cont = continuity(
        model, mu_all[first], None if picked_labels is None else picked_labels[first], step=step, seed=seed,
        progress=_half(progress, 0), should_stop=should_stop,
    )  # fmt: skip
    comp = completeness(
        model,
        mu_all,
        dataset.train_images,
        classifier,
        threshold=threshold,
        labels=picked_labels,
        prior_samples=prior_samples,
        grid_size=grid_size,
        seed=seed,
        progress=_half(progress, 1),
        should_stop=should_stop,
    )
    return ModelComparison(trained.name, trained.config.kind, cont, comp)


def _encoded_test_points(
    trained: TrainedModel, dataset: ImageDataset, points: int, completeness_points: int, seed: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The codes (and labels) of the random test images both scores use, and which of them are the
    continuity points: the first ``points`` of the same random order."""
    images, labels = dataset.test_images, dataset.test_labels
    if len(images) == 0:
        raise VaeStudioError(f"The data set {dataset.name!r} has no test images to compare models on.")
    order = np.random.default_rng(seed).permutation(len(images))
    pick_all = np.sort(order[: max(points, completeness_points)])
    pick_t = torch.from_numpy(pick_all)
    picked_labels = None if labels is None else labels[pick_t].numpy()
    mu_all = encode(trained.model, images[pick_t], picked_labels).mu
    return mu_all, picked_labels, np.searchsorted(pick_all, np.sort(order[:points]))


def _half(progress: ProgressCallback | None, offset: int) -> ProgressCallback | None:
    """``progress`` for one of the two scores: half the work, the first (0) or the second (1)."""

    def report(done: int, total: int) -> None:
        assert progress is not None
        progress(offset * total + done, 2 * total)

    return None if progress is None else report
