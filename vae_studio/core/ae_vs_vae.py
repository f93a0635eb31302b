"""The AE-versus-VAE experiment: train a plain autoencoder and a VAE alike, score and picture both.

The two models share the architecture, latent size, data, seed and initial weights, so they
differ only in the KL term (and the noisy codes it brings). Each is scored for continuity and
completeness (:mod:`comparison`), and the pictures that show *why* the scores differ are decoded:
both latent maps on one square that also holds the prior's circles, a row of decoded prior
samples, and one straight path between two class means. The GUI panel and ``vae-studio compare
--train`` both run :func:`run_experiment` with the same :class:`PairSettings`, so they show the
same numbers.

Why the defaults are z = 16, 3 epochs on 10,000 images and prior samples only: with 2 latent
dimensions an AE has no room to leave gaps, its codes usually still cover the origin, and its prior
samples decode to digits nearly as often as the VAE's. With more dimensions its codes drift into a
few thin regions away from the origin and its prior samples decode to smudges, while the KL term
keeps the VAE's codes on N(0, I) (Kingma & Welling 2014; e.g. Rocca 2019, "Understanding
variational autoencoders"). Measured with benchmarks/ae_vs_vae.py (seeds 1-3, one torch thread, on a
2-core machine shared with other work, load average about 7): the run took 23-28 s, and completeness
of prior samples was AE 19.5-26% against VAE 55.5-65.5%, continuity AE 0.052-0.053 against VAE
0.031-0.032; the first run on a data set also trains the realism classifier (45 s more). With the
same training, z = 8 gave 39% against 63.5% (10 epochs on 20,000 images: 1% against 63%, in 89 s),
and z = 2 gave 36% against 52.5% and 73.5% against 56% for seeds 1 and 2: close, either way. A grid
over the region the codes occupy scores about 90% for both models, so it is left out by default
(``grid_size``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from .batch_progress import ProgressCallback, Stopped, StopCheck
from .comparison import ModelComparison, compare_model, reference_data
from .completeness import default_plane
from .config import ModelConfig, TrainConfig
from .data import ImageDataset
from .device import resolve_device
from .errors import ConfigError, VaeStudioError
from .history import History
from .interpolation import class_mean
from .latent import ViewPlane, decode, encode, lerp, manifold, tile
from .models import build_model
from .realism import RealismClassifier, classify, realism_classifier
from .recipe import model_config_for, training_data
from .trained_model import TrainedModel
from .run_control import RunControl, StepReport
from .trainer import Trainer

# The setting where the two models differ clearly (see the module docstring), and the one where
# they come out close: the panel offers a one-click switch from the latter to the former.
DEFAULT_LATENT_DIM = 16
CLOSE_LATENT_DIM = 2
# Short enough for a lesson (see the module docstring), long enough for the AE's codes to drift.
DEFAULT_EPOCHS = 3
DEFAULT_SUBSET = 10_000
# Share of the run's time each stage takes (measured at the defaults), so one fraction and one
# ETA can cover training and scoring; the realism classifier, trained once per data set, reports
# on its own.
TRAIN_SHARE = 0.75
SQUARE_MARGIN = 0.05
PRIOR_RADIUS = 2.0  # the prior circle the shared square always holds: 2 sigma of N(0, I)

PairProgress = Callable[[str, float, float], None]
"""``progress(stage, fraction, eta_s)``: what runs now, the whole run's fraction done (0-1) and the
seconds left (inf until known); the realism classifier's stage reports its own fraction."""


@dataclass(frozen=True)
class PairSettings:
    """Everything one run of the experiment depends on; the defaults are the lesson's."""

    dataset: str = "mnist"
    latent_dim: int = DEFAULT_LATENT_DIM
    arch: str = "mlp"
    epochs: int = DEFAULT_EPOCHS
    train_subset: int | None = DEFAULT_SUBSET
    seed: int = 1
    device: str = "auto"
    threshold: float | None = None  # None: each model's calibrated bar (completeness.completeness)
    compare_points: int = 500  # test images whose neighbourhoods measure continuity
    prior_samples: int = 200  # prior samples judged for completeness
    # Completeness is scored on prior samples only: the lesson is what sampling from the prior gives.
    # A grid over the region the codes occupy scores about 90% for both models (module docstring),
    # so it would only dilute the difference; 0 leaves it out.
    grid_size: int = 0
    map_points: int = 2000  # test images drawn on each map
    manifold_tiles: int = 16  # decodings per side of the mosaic behind each map
    samples_shown: int = 10  # decoded prior samples shown per model
    path_steps: int = 10
    path_classes: tuple[int, int] = (0, 1)  # the class means a straight path joins (labelled data)

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            dataset=self.dataset, epochs=self.epochs, seed=self.seed, device=self.device, train_subset=self.train_subset
        )


@dataclass(frozen=True)
class ModelPicture:
    """One model of the pair: its scores and what shows why, as plain arrays (images float in [0, 1]).

    ``xy``: plane coordinates (N, 2) of the map's test images; ``prior_centre``: where the prior's
    mean N(0, I) lies in that plane (its circles have radius 1 and 2 there, since the plane's axes
    are orthonormal); ``manifold``: the (C, H, W) mosaic decoded over the pair's shared square, row
    0 at the top; ``samples``: the first decoded prior samples that completeness judged, with the
    classifier's ``sample_confidence`` (None without one); ``path``: the straight path between the
    two class means decoded, ``path_xy`` its plane coordinates, ``path_confidence`` per frame.
    """

    trained: TrainedModel
    new: bool  # trained now rather than reused
    comparison: ModelComparison
    xy: np.ndarray
    plane_labels: tuple[str, str]
    prior_centre: np.ndarray
    manifold: np.ndarray
    samples: np.ndarray
    sample_confidence: np.ndarray | None
    path: np.ndarray
    path_xy: np.ndarray
    path_confidence: np.ndarray | None


@dataclass(frozen=True)
class PairResult:
    """The experiment's outcome: both models, the map points' labels, the shared square
    ``(x0, y0, side)`` of both maps, the path's end names, and the run's seconds."""

    settings: PairSettings
    ae: ModelPicture
    vae: ModelPicture
    labels: np.ndarray | None
    square: tuple[float, float, float]
    path_ends: tuple[str, str]
    seconds: float

    def summaries(self) -> list[dict[str, object]]:
        """One plain dict per model, AE first (see :meth:`ModelComparison.summary`)."""
        return [p.comparison.summary() for p in (self.ae, self.vae)]


class PairStopped(Stopped):
    """Stopped after both models were trained (while scoring): they are kept here, so a caller can
    keep them and a new run reuses them (see :func:`train_pair`) instead of training them again."""

    def __init__(self, ae: TrainedModel, vae: TrainedModel) -> None:
        super().__init__()
        self.ae = ae
        self.vae = vae


def _same_training(a: TrainConfig, b: TrainConfig) -> bool:
    """Equal apart from the device, which does not change what is learnt."""
    return replace(a, device=b.device) == b


def train_pair(
    dataset: ImageDataset,
    train_config: TrainConfig,
    model_config: ModelConfig,
    *,
    existing: Sequence[TrainedModel] = (),
    device: torch.device | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> tuple[TrainedModel, TrainedModel]:
    """An AE and a VAE that differ only in the KL term: ``model_config`` with kind "ae" and "vae",
    both trained with ``train_config`` (same data, seed and initial weights) on ``dataset``.

    A model in ``existing`` whose model config and training config (the device aside) match is
    reused as it is; the others are trained now. ``progress(done, total)`` counts training steps.
    """
    if model_config.conditional:
        raise ConfigError("A conditional VAE has no plain-autoencoder counterpart; compare an AE with a VAE.")
    device = device or resolve_device(train_config.device)
    configs = {kind: replace(model_config, kind=kind) for kind in ("ae", "vae")}
    found = {
        kind: next((m for m in existing if m.config == cfg and _same_training(m.train_config, train_config)), None)
        for kind, cfg in configs.items()
    }
    steps_per_model = train_config.epochs * -(-len(dataset.train_images) // train_config.batch_size)
    total = steps_per_model * sum(m is None for m in found.values())
    done = 0
    pair: dict[str, TrainedModel] = {}
    for kind, cfg in configs.items():
        reused = found[kind]
        if reused is not None:
            pair[kind] = reused
            continue
        model = build_model(cfg, seed=train_config.seed).to(device)
        trained = TrainedModel(model, train_config, dataset.class_names, History(), f"{kind.upper()} (for comparison)")
        control = RunControl()
        trainer = Trainer(model, dataset, train_config, history=trained.history, control=control, device=device)

        def on_step(report: StepReport, offset: int = done) -> None:
            if progress is not None:
                progress(offset + report.step, total)
            if should_stop is not None and should_stop():
                control.stop()

        trainer.on_step(on_step)
        result = trainer.run()
        if result.status == "stopped":
            raise Stopped()
        if result.status == "diverged":
            raise VaeStudioError(f"Training the {kind.upper()} failed. {result.message}")
        done += result.steps
        pair[kind] = trained
    return pair["ae"], pair["vae"]


class _Clock:
    """One fraction and ETA over the weighted stages; time spent outside them (the realism
    classifier) is left out of the rate."""

    def __init__(self, progress: PairProgress | None) -> None:
        self.progress = progress
        self._spent = 0.0
        self._since: float | None = None

    def stage(self, text: str, start: float, share: float) -> ProgressCallback:
        """A ``progress(done, total)`` for a stage covering ``share`` of the run from ``start``."""
        self._since = time.perf_counter()

        def report(done: int, total: int) -> None:
            if self.progress is None:
                return
            fraction = start + share * done / max(total, 1)
            elapsed = self._spent + time.perf_counter() - (self._since or time.perf_counter())
            eta = elapsed / fraction * (1.0 - fraction) if fraction > 0.01 else float("inf")
            self.progress(text, fraction, eta)

        report(0, 1)
        return report

    def pause(self) -> None:
        """Leave the weighted stages (their time so far is kept)."""
        if self._since is not None:
            self._spent += time.perf_counter() - self._since
            self._since = None

    def own(self, text: str) -> ProgressCallback:
        """A stage outside the weighted ones, reporting its own fraction."""
        self.pause()

        def report(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress(text, done / max(total, 1), float("inf"))

        return report


def _square(points: list[np.ndarray], margin: float = SQUARE_MARGIN) -> tuple[float, float, float]:
    """The smallest square holding all ``points`` (each (N, 2)) plus a margin: same axes for both maps."""
    xy = np.concatenate(points)
    low, high = xy.min(axis=0), xy.max(axis=0)
    side = float(max(high - low)) * (1 + 2 * margin) or 1.0
    centre = (low + high) / 2
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def _path_ends(
    dataset: ImageDataset, mu: np.ndarray, labels: np.ndarray | None, classes: tuple[int, int]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[str, str]]:
    """The path's two latent ends in one model's space and their names: the means of the two
    classes' codes, or (unlabelled data, or a class missing) the first two encoded test images."""
    if labels is not None and all(c in labels for c in classes):
        names = tuple(dataset.class_names[c] if c < len(dataset.class_names) else str(c) for c in classes)
        return (class_mean(mu, labels, classes[0]), class_mean(mu, labels, classes[1])), (names[0], names[1])
    return (mu[0], mu[1]), ("test image 1", "test image 2")


def _judge(classifier: RealismClassifier | None, images: np.ndarray) -> np.ndarray | None:
    return None if classifier is None else classify(classifier, images)[1]


def _picture(
    trained: TrainedModel,
    new: bool,
    comparison: ModelComparison,
    plane: ViewPlane,
    xy: np.ndarray,
    path_codes: np.ndarray,
    square: tuple[float, float, float],
    classifier: RealismClassifier | None,
    settings: PairSettings,
) -> ModelPicture:
    """What shows why one model scores as it does: its manifold over the shared ``square``, its first
    judged prior samples and its class-mean path decoded."""
    x0, y0, side = square
    step = side / settings.manifold_tiles
    # Tile centres inset by half a tile, so the tiles exactly cover the square.
    x_range = (x0 + step / 2, x0 + side - step / 2)
    y_range = (y0 + step / 2, y0 + side - step / 2)
    complete = comparison.completeness
    samples = complete.images[complete.from_prior][: settings.samples_shown]
    confidence = None if complete.confidence is None else complete.confidence[complete.from_prior]
    path = decode(trained.model, path_codes)
    return ModelPicture(
        trained=trained,
        new=new,
        comparison=comparison,
        xy=xy,
        plane_labels=(plane.x_label, plane.y_label),
        prior_centre=plane.to_plane(np.zeros(settings.latent_dim)),
        manifold=tile(manifold(trained.model, plane, x_range, y_range, settings.manifold_tiles)),
        samples=samples,
        sample_confidence=None if confidence is None else confidence[: settings.samples_shown],
        path=path,
        path_xy=plane.to_plane(path_codes),
        path_confidence=_judge(classifier, path),
    )


def run_experiment(
    settings: PairSettings = PairSettings(),
    *,
    existing: Sequence[TrainedModel] = (),
    progress: PairProgress | None = None,
    should_stop: StopCheck | None = None,
) -> PairResult:
    """Train (or reuse, see :func:`train_pair`) the AE and the VAE of ``settings``, score both and
    decode what shows why. When ``should_stop()`` answers True (asked between batches) it raises
    :class:`Stopped` while training, or :class:`PairStopped`, which holds the two trained models,
    while scoring."""
    start = time.perf_counter()
    clock = _Clock(progress)
    train_config = settings.train_config()
    data = training_data(train_config)
    reference = reference_data(train_config)
    model_config = model_config_for(data, kind="vae", arch=settings.arch, latent_dim=settings.latent_dim)
    if len(data.test_images) < 2:
        raise VaeStudioError(f"The data set {data.name!r} needs at least two test images to compare models on.")
    ae, vae = train_pair(
        data, train_config, model_config, existing=existing,
        progress=clock.stage("training the AE and the VAE", 0.0, TRAIN_SHARE), should_stop=should_stop,
    )  # fmt: skip
    try:
        return _score_pair(settings, data, reference, (ae, vae), existing, clock, should_stop, start)
    except Stopped as stop:
        raise PairStopped(ae, vae) from stop


def _score_pair(
    settings: PairSettings,
    data: ImageDataset,
    reference: ImageDataset,
    pair: tuple[TrainedModel, TrainedModel],
    existing: Sequence[TrainedModel],
    clock: _Clock,
    should_stop: StopCheck | None,
    start: float,
) -> PairResult:
    """Score the trained ``pair`` against ``reference`` and decode what shows why (see run_experiment)."""
    classifier = None
    if reference.labelled:
        classifier = realism_classifier(
            reference, progress=clock.own("training the realism classifier (once per data set)"),
            should_stop=should_stop,
        )  # fmt: skip
    pick = np.sort(np.random.default_rng(settings.seed).permutation(len(data.test_images))[: settings.map_points])
    images = data.test_images[torch.from_numpy(pick)]
    labels = None if data.test_labels is None or not data.labelled else data.test_labels[torch.from_numpy(pick)].numpy()

    scored = []
    score_share = (1.0 - TRAIN_SHARE) / 2
    for i, trained in enumerate(pair):
        kind = trained.config.kind.upper()
        comparison = compare_model(
            trained, reference, classifier=classifier, points=settings.compare_points,
            prior_samples=settings.prior_samples, grid_size=settings.grid_size, threshold=settings.threshold,
            seed=settings.seed, progress=clock.stage(f"scoring the {kind}", TRAIN_SHARE + i * score_share, score_share),
            should_stop=should_stop,
        )  # fmt: skip
        mu = encode(trained.model, images).mu
        plane = default_plane(mu)
        ends, names = _path_ends(data, mu, labels, settings.path_classes)
        path_codes = lerp(ends[0], ends[1], settings.path_steps)
        scored.append((trained, comparison, plane, plane.to_plane(mu), path_codes))
    # Both maps on one square that holds every code shown and the prior's 2-sigma circle.
    circles = [
        plane.to_plane(np.zeros(settings.latent_dim)) + PRIOR_RADIUS * np.array([[-1, -1], [1, 1]])
        for _, _, plane, _, _ in scored
    ]
    square = _square([xy for *_, xy, _ in scored] + circles)
    pictures = []
    for trained, comparison, plane, xy, path_codes in scored:
        if should_stop is not None and should_stop():
            raise Stopped()
        new = all(trained is not m for m in existing)
        pictures.append(_picture(trained, new, comparison, plane, xy, path_codes, square, classifier, settings))
    return PairResult(settings, pictures[0], pictures[1], labels, square, names, time.perf_counter() - start)
