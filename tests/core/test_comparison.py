"""Continuity, completeness, the realism classifier, the AE/VAE experiment and ``vae-studio compare``
(core/comparison.py, core/realism.py, core/ae_vs_vae.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vae_studio.core import realism
from vae_studio.core.batch_progress import Stopped
from vae_studio.core.batches import to_float
from vae_studio.cli import build_parser, run_cli
from vae_studio.cli.compare import pair_settings
from vae_studio.core.ae_vs_vae import PairSettings, PairStopped, run_experiment, train_pair
from vae_studio.core.comparison import compare_model, reference_data
from vae_studio.core.completeness import completeness
from vae_studio.core.continuity import continuity
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.errors import ConfigError, DataError
from vae_studio.core.models import AE, build_model


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    # The test machine's 2 cores are shared: small convolutions run several times faster on one
    # thread than on two threads that compete with other processes.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def classifier(mnist: ImageDataset) -> realism.RealismClassifier:
    return realism.train_classifier(mnist.train_images[:5000], mnist.train_labels[:5000], 10)


def _model(decode, latent_dim: int = 2, kind: str = "ae") -> AE:
    """A tiny model whose decoder (returning mean images) is replaced by ``decode(z, labels)``."""
    num_classes = 10 if kind == "cvae" else 0
    model = build_model(ModelConfig(kind=kind, latent_dim=latent_dim, hidden_sizes=(8,), num_classes=num_classes))
    model.decode = decode
    return model.eval()


def _noise_decoder(z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    return torch.rand(len(z), 1, 28, 28)


def _blob(centre_x: torch.Tensor) -> torch.Tensor:
    """Smooth Gaussian blobs (N, 1, 28, 28) centred at column centre_x (N,) of row 14."""
    grid = torch.arange(28.0)
    rows = torch.exp(-((grid - 14.0) ** 2) / 18.0)[None, :, None]
    cols = torch.exp(-((grid[None, None, :] - centre_x[:, None, None]) ** 2) / 18.0)
    return (rows * cols)[:, None]


def test_classifier_learns_mnist_quickly(classifier: realism.RealismClassifier, mnist: ImageDataset) -> None:
    accuracy = realism.accuracy(classifier, mnist.test_images[:2000], mnist.test_labels[:2000])
    assert accuracy > 0.9
    predicted, confidence = realism.classify(classifier, to_float(mnist.test_images[:10]).numpy())
    assert predicted.shape == confidence.shape == (10,) and ((confidence > 0) & (confidence <= 1)).all()


def test_continuity_is_worse_for_noise_than_for_a_smooth_decoder() -> None:
    mu = np.random.default_rng(0).standard_normal((40, 2))
    fixed = continuity(_model(lambda z, labels=None: _blob(torch.full((len(z),), 14.0))), mu)
    sliding = continuity(_model(lambda z, labels=None: _blob(14.0 + 2.0 * z[:, 0])), mu)
    noise = continuity(_model(_noise_decoder), mu)
    assert fixed.score == 0.0 and fixed.per_point.shape == (40,)
    assert 0.0 < sliding.score < noise.score / 10
    # Steps are measured in units of the codes' spread: stretching the space changes nothing.
    stretched = continuity(_model(lambda z, labels=None: _blob(14.0 + 0.02 * z[:, 0])), 100.0 * mu)
    assert stretched.score == pytest.approx(sliding.score, rel=1e-4)
    assert stretched.latent_scale == pytest.approx(100.0 * sliding.latent_scale)


def test_continuity_reports_progress_and_stops() -> None:
    mu = np.zeros((30, 2))
    reports: list[tuple[int, int]] = []
    continuity(_model(_noise_decoder), mu, batch_points=10, progress=lambda done, total: reports.append((done, total)))
    assert reports == [(10, 30), (20, 30), (30, 30)]
    with pytest.raises(Stopped):
        continuity(_model(_noise_decoder), mu, should_stop=lambda: True)


def test_completeness_is_higher_for_real_looking_decodings(
    classifier: realism.RealismClassifier, mnist: ImageDataset
) -> None:
    reference = mnist.train_images[:5000]

    def real_decoder(z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # Each code decodes to a training image: the ideal of "looks like real data".
        return to_float(reference[(z.abs().sum(1) * 1000).long() % len(reference)])

    mu = np.random.default_rng(1).standard_normal((100, 2)) * [1.0, 0.5]
    real = completeness(_model(real_decoder), mu, reference, classifier, prior_samples=60, grid_size=5)
    noise = completeness(_model(_noise_decoder), mu, reference, classifier, prior_samples=60, grid_size=5)
    assert real.score > 0.8 and noise.score < 0.1
    assert noise.prior_share < real.prior_share and noise.grid_share < real.grid_share
    assert real.score == pytest.approx((real.prior_share + real.grid_share) / 2)
    assert real.nearest_distance.max() < 0.1 and noise.nearest_distance.min() > 5.0
    assert real.codes.shape == (85, 2) and real.images.shape == (85, 1, 28, 28) and real.from_prior.sum() == 60
    # The grid spans the middle 98% of the encoded means on each axis.
    grid = real.codes[~real.from_prior]
    low, high = np.percentile(mu, [1, 99], axis=0)
    assert np.allclose(grid.min(0), low) and np.allclose(grid.max(0), high)
    assert np.all(np.diff(noise.confidence[noise.worst_first]) >= 0)
    # The bar is calibrated on each model's own reconstructions of the encoded points: all but the
    # worst 5% of them reach it; a noise decoder's reconstructions are noise, so the 50% floor holds.
    assert real.reconstruction_confidence.shape == (100,) and real.reconstruction_distance.shape == (100,)
    assert real.threshold == real.calibrated_threshold == max(0.5, np.percentile(real.reconstruction_confidence, 5))
    assert noise.threshold == noise.calibrated_threshold == 0.5 and noise.reconstruction_confidence.max() < 0.5
    assert np.array_equal(real.realistic, real.confidence >= real.threshold)
    # This classifier's accuracy was never measured, so the note does not quote one.
    assert f"probability of at least {real.threshold:.0%}" in real.note and "reconstructions" in real.note
    assert "test accuracy" not in real.note and "no prior" in real.note  # a plain AE has no prior

    # A fixed bar judges the same decodings; the calibrated one is still reported.
    fixed = completeness(_model(real_decoder), mu, reference, classifier, threshold=0.9, prior_samples=60, grid_size=5)
    assert fixed.threshold == 0.9 and fixed.calibrated_threshold == real.calibrated_threshold
    assert (fixed.score, fixed.prior_share, fixed.grid_share) == real.shares(0.9)
    assert "probability of at least 90% (a fixed bar" in fixed.note


def _dimmed_blur(images: torch.Tensor) -> torch.Tensor:
    """Blurred, dimmed images: still clearly digits, but a classifier is less sure of them (as of a VAE's)."""
    return 0.6 * F.avg_pool2d(images, 3, stride=1, padding=1)


def test_calibrated_bar_judges_holes_not_blur(classifier: realism.RealismClassifier, mnist: ImageDataset) -> None:
    reference = mnist.train_images[:5000]
    # Codes in ten tight clusters far apart (as an AE may pack them), and a decoder that turns each
    # code into a blurred training image of its cluster's class.
    centres = 5.0 * np.stack([np.cos(np.arange(10) * 0.6), np.sin(np.arange(10) * 0.6)], axis=1)
    rng = np.random.default_rng(3)
    cluster = rng.integers(0, 10, 300)
    mu = centres[cluster] + 0.2 * rng.standard_normal((300, 2))
    by_class = [np.flatnonzero(mnist.train_labels[:5000].numpy() == c) for c in range(10)]
    centres_t = torch.as_tensor(centres, dtype=torch.float32)

    def blurry(z: torch.Tensor, holes: bool) -> torch.Tensor:
        distance, nearest = torch.cdist(z.float(), centres_t).min(dim=1)
        pick = (z.abs().sum(1) * 1000).long()
        index = torch.tensor([by_class[c][p % len(by_class[c])] for c, p in zip(nearest.tolist(), pick.tolist())])
        images = _dimmed_blur(to_float(reference[index]))
        if holes:  # garbage between the clusters
            images = torch.where((distance > 1.0)[:, None, None, None], torch.rand_like(images), images)
        return images

    filled = completeness(_model(lambda z, labels=None: blurry(z, False)), mu, reference, classifier, grid_size=8)
    holey = completeness(_model(lambda z, labels=None: blurry(z, True)), mu, reference, classifier, grid_size=8)
    # Blur alone is not held against a decoder: nearly every decoding counts as real at its own bar,
    # while a fixed 90% bar would reject many of the same meaningful decodings.
    assert filled.score > 0.8 and filled.shares(0.9)[0] < filled.score - 0.2
    # Holes are: both decoders reconstruct the encoded points alike, so they get the same bar, but
    # the prior samples and grid points that fall between the clusters decode to garbage.
    assert holey.threshold == pytest.approx(filled.threshold)
    assert holey.prior_share < filled.prior_share - 0.3 and holey.grid_share < filled.grid_share - 0.3


def test_completeness_without_labels_and_in_a_pca_plane(
    mnist: ImageDataset, classifier: realism.RealismClassifier
) -> None:
    reference = mnist.train_images[:300]
    mu = np.random.default_rng(2).standard_normal((50, 4))
    result = completeness(_model(_noise_decoder, latent_dim=4), mu, reference, None, prior_samples=10, grid_size=3)
    assert result.score is None and result.prior_share is None and result.confidence is None
    assert "no labels" in result.note
    assert np.all(np.diff(result.nearest_distance[result.worst_first]) <= 0)
    assert result.plane.kind == "pca" and result.codes.shape == (19, 4)
    assert result.calibrated_threshold is None and result.reconstruction_distance.shape == (50,)
    # Conditional models decode sample i with class i mod num_classes.
    cvae = _model(_noise_decoder, kind="cvae")
    labelled = completeness(cvae, mu[:, :2], reference, None, prior_samples=12, grid_size=2)
    assert labelled.labels.tolist() == [i % 10 for i in range(16)]
    # Their reconstructions, which calibrate the bar, need the encoded points' classes.
    with pytest.raises(ValueError, match="labels"):
        completeness(cvae, mu[:, :2], reference, classifier, prior_samples=12, grid_size=2)
    judged = completeness(cvae, mu[:, :2], reference, classifier, labels=np.arange(50) % 10, grid_size=2)
    assert judged.reconstruction_confidence.shape == (50,) and judged.threshold == 0.5


def test_realism_classifier_is_cached_in_memory_and_on_disk(
    tiny_mnist: ImageDataset, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realism, "_memory", {})
    monkeypatch.setattr(realism, "MIN_STEPS", 20)
    first = realism.realism_classifier(tiny_mnist, cache_dir=tmp_path)
    files = list((tmp_path / "realism").glob("mnist-*.safetensors"))
    assert len(files) == 1 and 0.0 <= first.test_accuracy <= 1.0
    assert realism.realism_classifier(tiny_mnist, cache_dir=tmp_path) is first

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been used")

    monkeypatch.setattr(realism, "_memory", {})
    monkeypatch.setattr(realism, "train_classifier", no_training)
    loaded = realism.realism_classifier(tiny_mnist, cache_dir=tmp_path)
    assert loaded is not first and loaded.test_accuracy == first.test_accuracy
    images = to_float(tiny_mnist.test_images[:20]).numpy()
    assert np.allclose(realism.predict_proba(loaded, images), realism.predict_proba(first, images), atol=1e-6)

    # A different subset is another data set: it gets its own classifier (training is refused here).
    subset = replace(tiny_mnist, train_images=tiny_mnist.train_images[:500], train_labels=tiny_mnist.train_labels[:500])
    with pytest.raises(AssertionError, match="cached"):
        realism.realism_classifier(subset, cache_dir=tmp_path)
    with pytest.raises(DataError, match="no labels"):
        realism.realism_classifier(replace(tiny_mnist, train_labels=None), cache_dir=tmp_path)


def test_damaged_cache_file_is_retrained(tiny_mnist: ImageDataset, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(realism, "_memory", {})
    monkeypatch.setattr(realism, "MIN_STEPS", 5)
    realism.realism_classifier(tiny_mnist, cache_dir=tmp_path)
    (path,) = (tmp_path / "realism").glob("*.safetensors")
    path.write_bytes(b"not a safetensors file")
    monkeypatch.setattr(realism, "_memory", {})
    assert realism.realism_classifier(tiny_mnist, cache_dir=tmp_path).num_classes == 10
    assert realism._read(path) is not None  # rewritten


def test_train_pair_trains_matching_models_and_reuses_existing_ones(
    tiny_mnist: ImageDataset, classifier: realism.RealismClassifier
) -> None:
    train_config = TrainConfig(dataset="mnist", epochs=1, batch_size=100, seed=3, device="cpu")
    model_config = ModelConfig(kind="vae", latent_dim=2, hidden_sizes=(16,))
    reports: list[tuple[int, int]] = []
    ae, vae = train_pair(tiny_mnist, train_config, model_config, progress=lambda d, t: reports.append((d, t)))
    assert (ae.config.kind, vae.config.kind) == ("ae", "vae")
    assert replace(ae.config, kind="vae") == vae.config == model_config
    assert ae.history.epochs == vae.history.epochs == 1
    assert reports[-1] == (12, 12)  # 6 steps for each model

    reports.clear()
    same_ae, new_vae = train_pair(
        tiny_mnist,
        replace(train_config, device="auto"),  # the device does not matter for reuse
        replace(model_config, kind="ae"),  # either kind names the pair
        existing=[ae],
        progress=lambda d, t: reports.append((d, t)),
    )
    assert same_ae is ae and new_vae is not vae and reports[-1] == (6, 6)
    assert train_pair(tiny_mnist, train_config, model_config, existing=[vae, ae]) == (ae, vae)

    with pytest.raises(ConfigError, match="conditional"):
        train_pair(tiny_mnist, train_config, replace(model_config, kind="cvae", num_classes=10))
    with pytest.raises(Stopped):
        train_pair(tiny_mnist, train_config, model_config, should_stop=lambda: True)

    result = compare_model(ae, tiny_mnist, classifier=classifier, points=50, prior_samples=20, grid_size=3)
    summary = result.summary()
    assert summary["name"] == ae.name and summary["kind"] == "ae"
    assert result.continuity.per_point.shape == (50,) and len(result.completeness.codes) == 29
    assert 0.0 <= summary["completeness"] <= 1.0 and summary["continuity"] > 0
    assert summary["threshold"] == summary["calibrated_threshold"] >= 0.5 and summary["fixed_threshold"] == 0.9
    assert 0.0 <= summary["completeness_fixed"] <= summary["completeness"]  # a fixed 90% bar is stricter here
    assert summary["nearest_distance_reconstructions"] > 0
    # The bar is calibrated on all 300 test images; continuity is measured around 50 of them.
    assert len(result.completeness.reconstruction_confidence) == 300
    json.dumps(summary)


def test_cli_compare_json(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(realism, "MAX_TRAIN_IMAGES", 1000)
    monkeypatch.setattr(realism, "MIN_STEPS", 50)
    paths = []
    for kind in ("ae", "vae"):
        path = tmp_path / f"{kind}.vae"
        args = ["train", "--model", kind, "--subset", "500", "--epochs", "1", "--device", "cpu", "--out", str(path)]
        assert run_cli(args, io.StringIO(), io.StringIO()) == 0
        paths.append(str(path))

    out, err = io.StringIO(), io.StringIO()
    options = ["--points", "60", "--samples", "30", "--grid", "4"]
    assert run_cli(["compare", *paths, *options, "--json"], out, err) == 0, err.getvalue()
    results = json.loads(out.getvalue())
    assert [r["kind"] for r in results] == ["ae", "vae"] and [r["name"] for r in results] == ["ae", "vae"]
    assert [r["checkpoint"] for r in results] == paths
    for r in results:
        assert r["continuity"] > 0 and 0.0 <= r["completeness"] <= 1.0
        assert 0.0 <= r["completeness_prior"] <= 1.0 and 0.0 <= r["completeness_grid"] <= 1.0
        assert r["nearest_distance"] > 0 and r["nearest_distance_reconstructions"] > 0
        assert 0.5 <= r["threshold"] == r["calibrated_threshold"] <= 1.0 and 0.0 <= r["completeness_fixed"] <= 1.0
        assert 0.0 <= r["classifier_accuracy"] <= 1.0 and "test accuracy" in r["note"]
    assert ("no prior" in results[0]["note"], "no prior" in results[1]["note"]) == (True, False)
    assert list((tmp_path / "cache" / "realism").glob("mnist-*.safetensors"))

    out = io.StringIO()
    assert run_cli(["compare", paths[1], *options], out, io.StringIO()) == 0
    assert "continuity" in out.getvalue() and "completeness" in out.getvalue() and "(calibrated)" in out.getvalue()
    out = io.StringIO()
    assert run_cli(["compare", paths[1], *options, "--threshold", "0.8", "--json"], out, io.StringIO()) == 0
    fixed = json.loads(out.getvalue())[0]
    assert fixed["threshold"] == 0.8 and fixed["calibrated_threshold"] == results[1]["calibrated_threshold"]
    err = io.StringIO()
    assert run_cli(["compare", paths[0], "--grid", "1"], io.StringIO(), err) == 2
    assert "--grid" in err.getvalue()


SMALL = PairSettings(
    latent_dim=3, epochs=1, train_subset=300, device="cpu", compare_points=40, prior_samples=20, grid_size=3,
    map_points=100, manifold_tiles=3, samples_shown=4, path_steps=5, path_classes=(3, 7),
)


def test_experiment_trains_scores_and_pictures_the_pair(quick_realism_classifier) -> None:
    reports: list[tuple[str, float, float]] = []
    result = run_experiment(SMALL, progress=lambda *report: reports.append(report))
    ae, vae = result.ae, result.vae
    assert (ae.trained.config.kind, vae.trained.config.kind) == ("ae", "vae") and ae.new and vae.new
    assert ae.trained.train_config == vae.trained.train_config == SMALL.train_config()
    assert ae.trained.config.latent_dim == 3 and ae.trained.history.epochs == 1

    # Stages in order; the run's fraction never goes back outside the classifier's own stage.
    stages = list(dict.fromkeys(stage for stage, _, _ in reports))
    assert stages == [
        "training the AE and the VAE", "training the realism classifier (once per data set)",
        "scoring the AE", "scoring the VAE",
    ]  # fmt: skip
    overall = [fraction for stage, fraction, _ in reports if "classifier" not in stage]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)
    assert all(eta >= 0 for _, _, eta in reports)

    # The scores are compare_model's for the same models and settings: the CLI and the panel agree.
    again = compare_model(
        vae.trained, reference_data(SMALL.train_config()), points=40, prior_samples=20, grid_size=3, seed=SMALL.seed
    )
    assert again.summary() == vae.comparison.summary() == result.summaries()[1]
    assert [s["kind"] for s in result.summaries()] == ["ae", "vae"]

    # The pictures: maps on one square that holds the codes and the prior's 2-sigma circle.
    x0, y0, side = result.square
    for picture in (ae, vae):
        assert picture.xy.shape == (100, 2) and picture.plane_labels == ("PC1", "PC2")
        for xy in (picture.xy, picture.prior_centre[None] - 2.0, picture.prior_centre[None] + 2.0):
            assert (xy >= [x0, y0]).all() and (xy <= [x0 + side, y0 + side]).all()
        assert picture.manifold.shape == (1, 3 * 28, 3 * 28)
        assert picture.samples.shape == (4, 1, 28, 28) and picture.sample_confidence.shape == (4,)
        complete = picture.comparison.completeness
        assert np.array_equal(picture.samples, complete.images[:4]) and complete.from_prior[:4].all()
        assert picture.path.shape == (5, 1, 28, 28) and picture.path_confidence.shape == (5,)
        assert picture.path_xy.shape == (5, 2) and np.array_equal(picture.sample_confidence, complete.confidence[:4])
    assert result.path_ends == ("3", "7") and result.labels.shape == (100,)
    # The path joins the two class means of each model's own codes.
    labels = result.labels
    assert np.allclose(vae.path_xy[0], vae.xy[labels == 3].mean(axis=0))
    assert np.allclose(vae.path_xy[-1], vae.xy[labels == 7].mean(axis=0))

    # The same settings again reuse both models; Stop between batches keeps nothing.
    reused = run_experiment(SMALL, existing=[vae.trained, ae.trained])
    assert reused.ae.trained is ae.trained and not reused.ae.new and not reused.vae.new
    assert reused.summaries() == result.summaries()
    with pytest.raises(Stopped) as stopped:
        run_experiment(replace(SMALL, seed=5), should_stop=lambda: True)
    assert not isinstance(stopped.value, PairStopped)  # stopped while training: nothing to keep
    # Stopped while scoring: the trained pair comes with the stop, and a new run reuses it.
    stages: list[str] = []
    with pytest.raises(PairStopped) as kept:
        run_experiment(
            replace(SMALL, seed=6), progress=lambda stage, *_: stages.append(stage),
            should_stop=lambda: "scoring the AE" in stages,
        )  # fmt: skip
    assert (kept.value.ae.config.kind, kept.value.vae.config.kind) == ("ae", "vae")
    assert kept.value.vae.history.epochs == 1
    again = run_experiment(replace(SMALL, seed=6), existing=[kept.value.ae, kept.value.vae])
    assert again.ae.trained is kept.value.ae and again.vae.trained is kept.value.vae


def test_cli_compare_train_prints_the_experiments_scores(quick_realism_classifier) -> None:
    options = ["--latent-dim", "3", "--epochs", "1", "--subset", "300", "--device", "cpu"]
    sizes = ["--points", "40", "--samples", "20", "--grid", "3"]
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["compare", "--train", "--dataset", "mnist", *options, *sizes, "--json"], out, err) == 0, err.getvalue()
    results = json.loads(out.getvalue())
    expected = run_experiment(SMALL).summaries()  # the same models: same settings and seed
    assert [r["kind"] for r in results] == ["ae", "vae"]
    for r, e in zip(results, expected):
        assert r["completeness"] == e["completeness"] and r["continuity"] == e["continuity"]
        assert 0.0 <= r["completeness"] <= 1.0 and r["continuity"] > 0
        assert r["settings"]["latent_dim"] == 3 and r["settings"]["train_subset"] == 300
    assert "training an AE and a VAE alike" in err.getvalue() and "scoring the VAE" in err.getvalue()

    out = io.StringIO()
    assert run_cli(["compare", "--train", *options, *sizes], out, io.StringIO()) == 0
    assert out.getvalue().count("continuity") == 2 and "(vae)" in out.getvalue()
    for argv, message in (
        (["compare"], "--train"), (["compare", "--epochs", "2", "x.vae"], "only applies with --train"),
        (["compare", "--train", "x.vae"], "not both"), (["compare", "--train", "--epochs", "0"], "between 1 and"),
    ):  # fmt: skip
        err = io.StringIO()
        assert run_cli(argv, io.StringIO(), err) == 2 and message in err.getvalue(), err.getvalue()


def test_cli_compare_train_defaults_are_the_panels() -> None:
    assert pair_settings(build_parser().parse_args(["compare", "--train"])) == PairSettings()
    flags = ["compare", "--train", "--latent-dim", "2", "--grid", "5", "--subset", "300", "--seed", "4"]
    assert pair_settings(build_parser().parse_args(flags)) == replace(
        PairSettings(), latent_dim=2, grid_size=5, train_subset=300, seed=4
    )
