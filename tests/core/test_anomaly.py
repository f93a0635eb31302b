"""Anomaly detection: ROC/AUC with ties, precision/recall, histograms, scores, the outlier sets and
``vae-studio anomaly``."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_studio.core import anomaly
from vae_studio.core.anomaly import anomaly_data, anomaly_scores, detect_anomalies, is_class_list, most_anomalous
from vae_studio.core.roc import (
    precision_recall_at,
    roc_auc,
    roc_curve,
    score_histograms,
    summarize,
    threshold_at_false_positive_rate,
)
from vae_studio.core.batch_progress import Stopped
from vae_studio.cli import run_cli
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.data import ImageDataset, select_classes
from vae_studio.core.errors import ConfigError, DataError
from vae_studio.core.losses import reconstruction_nll
from vae_studio.core.models import AE, build_model
from vae_studio.core.trainer import Trainer

# Hand-worked case: outlier 3 beats normals 1 and 2 and ties with both 3s (2 + 2 x 1/2),
# outliers 4 and 5 beat all four normals: U = 3 + 4 + 4 = 11 of 3 x 4 = 12 pairs.
NORMAL = [1.0, 2.0, 3.0, 3.0]
OUTLIERS = [3.0, 4.0, 5.0]
SCORES = np.array(NORMAL + OUTLIERS)
IS_OUTLIER = np.array([False] * 4 + [True] * 3)


def test_auc_hand_worked_with_ties() -> None:
    assert roc_auc(SCORES, IS_OUTLIER) == pytest.approx(11 / 12)
    curve = roc_curve(SCORES, IS_OUTLIER)
    np.testing.assert_allclose(curve.false_positive_rate, [0, 0, 0, 0.5, 0.75, 1])
    np.testing.assert_allclose(curve.true_positive_rate, [0, 1 / 3, 2 / 3, 1, 1, 1])
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 5, 4, 3, 2, 1])
    assert curve.auc == pytest.approx(11 / 12)
    # The order of the input does not matter.
    order = np.random.default_rng(0).permutation(len(SCORES))
    assert roc_auc(SCORES[order], IS_OUTLIER[order]) == pytest.approx(11 / 12)


@pytest.mark.parametrize(
    ("normal", "outliers", "expected"),
    [([1, 2, 3], [4, 5], 1.0), ([4, 5], [1, 2, 3], 0.0), ([2, 2, 2], [2, 2], 0.5), ([1, 3], [2], 0.5)],
)
def test_auc_extremes(normal: list[float], outliers: list[float], expected: float) -> None:
    scores = np.array(normal + outliers, dtype=float)
    flags = np.array([False] * len(normal) + [True] * len(outliers))
    assert roc_auc(scores, flags) == pytest.approx(expected)
    assert roc_curve(scores, flags).auc == pytest.approx(expected)


def test_auc_equals_pairwise_count_with_many_ties() -> None:
    rng = np.random.default_rng(1)
    normal = rng.integers(0, 6, 40).astype(float)
    outliers = rng.integers(2, 8, 25).astype(float)
    pairs = (outliers[:, None] > normal[None, :]).sum() + 0.5 * (outliers[:, None] == normal[None, :]).sum()
    scores = np.r_[normal, outliers]
    flags = np.r_[np.zeros(40, bool), np.ones(25, bool)]
    assert roc_auc(scores, flags) == pytest.approx(pairs / (40 * 25))
    assert roc_curve(scores, flags).auc == pytest.approx(pairs / (40 * 25))


def test_auc_needs_both_groups() -> None:
    with pytest.raises(ValueError):
        roc_auc(np.array([1.0, 2.0]), np.array([True, True]))


def test_precision_recall_at_threshold() -> None:
    at3 = precision_recall_at(SCORES, IS_OUTLIER, 3.0)  # flags 3, 3, 3, 4, 5
    assert (at3.true_positives, at3.false_positives, at3.false_negatives, at3.true_negatives) == (3, 2, 0, 2)
    assert at3.precision == pytest.approx(0.6) and at3.recall == 1.0
    at4 = precision_recall_at(SCORES, IS_OUTLIER, 4.0)
    assert at4.precision == 1.0 and at4.recall == pytest.approx(2 / 3)
    none = precision_recall_at(SCORES, IS_OUTLIER, 6.0)
    assert none.precision == 1.0 and none.recall == 0.0 and none.true_negatives == 4


def test_threshold_at_false_positive_rate() -> None:
    normal = np.arange(100, dtype=float)
    threshold = threshold_at_false_positive_rate(normal, 0.05)
    assert threshold == pytest.approx(94.05)
    assert int(np.sum(normal >= threshold)) == 5


def test_histograms_share_bins_and_summary() -> None:
    hist = score_histograms(np.array(NORMAL), np.array(OUTLIERS), bins=4)
    assert len(hist.edges) == 5 and hist.edges[0] == 1.0 and hist.edges[-1] == 5.0
    assert hist.normal.sum() == 4 and hist.outliers.sum() == 3
    np.testing.assert_array_equal(hist.normal, [1, 1, 2, 0])
    summary = summarize(np.array(NORMAL))
    assert (summary.n, summary.mean, summary.median, summary.min, summary.max) == (4, 2.25, 2.5, 1.0, 3.0)


def test_is_class_list() -> None:
    for text in ("9", "8-9", "0, 3-5", " 7 "):
        assert is_class_list(text)
    for text in ("fashion-mnist", "idx:/data", "folder:9", "mnist"):
        assert not is_class_list(text)


@pytest.fixture(scope="module")
def digits_0_to_8(mnist: ImageDataset) -> ImageDataset:
    subset = select_classes(mnist, range(9))
    return replace(
        subset, train_images=subset.train_images[:1500], train_labels=subset.train_labels[:1500],
        test_images=subset.test_images[:200], test_labels=subset.test_labels[:200],
    )


@pytest.fixture(scope="module")
def vae(digits_0_to_8: ImageDataset) -> AE:
    model = build_model(ModelConfig(latent_dim=8, hidden_sizes=(128,)), seed=0)
    Trainer(model, digits_0_to_8, TrainConfig(epochs=3, batch_size=100, seed=0)).run()
    return model


def test_recon_score_is_reconstruction_nll_at_the_posterior_mean(vae: AE, mnist: ImageDataset) -> None:
    images = mnist.test_images[:20]
    scores = anomaly_scores(vae, images, score="recon")
    x = images.float() / 255
    with torch.no_grad():
        mu, _ = vae.encode(x)
        expected = reconstruction_nll(vae.decode_logits(mu), x, vae.config).double().numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    elbo = anomaly_scores(vae, images, score="elbo", samples=4, seed=2)
    np.testing.assert_array_equal(elbo, anomaly_scores(vae, images, score="elbo", samples=4, seed=2))
    assert not np.array_equal(elbo, anomaly_scores(vae, images, score="elbo", samples=4, seed=3))
    with pytest.raises(ConfigError):
        anomaly_scores(vae, images, score="likelihood")
    with pytest.raises(Stopped):
        anomaly_scores(vae, images, batch_size=5, should_stop=lambda: True)


def test_plain_autoencoder_has_no_elbo_score(mnist: ImageDataset) -> None:
    ae = build_model(ModelConfig(kind="ae", latent_dim=4, hidden_sizes=(32,)), seed=0)
    assert anomaly_scores(ae, mnist.test_images[:5]).shape == (5,)
    with pytest.raises(ConfigError, match="no ELBO"):
        anomaly_scores(ae, mnist.test_images[:5], score="elbo")


def test_fashion_images_are_anomalies_for_a_digit_model(vae: AE, mnist: ImageDataset) -> None:
    config = TrainConfig(classes=tuple(range(9)))
    data = anomaly_data(config, "fashion-mnist")
    assert len(data.normal) == 8991 and len(data.outliers) == 10000 and not data.outliers_in_training
    calls: list[tuple[int, int]] = []
    result = detect_anomalies(
        vae, data.normal[:300], data.outliers[:300], score="elbo", progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (600, 600)
    assert result.auc > 0.9
    assert result.roc().auc == pytest.approx(result.auc)
    assert result.histograms(bins=10).normal.sum() == 300
    examples = most_anomalous(vae, data.outliers[:300], result.outlier_scores, k=5)
    assert np.all(np.diff(examples.scores) <= 0) and examples.scores[0] == result.outlier_scores.max()
    assert examples.images.shape == examples.reconstructions.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(examples.error_maps, ((examples.images - examples.reconstructions) ** 2)[:, 0])


def test_a_stopped_run_keeps_a_sample_of_both_groups(vae: AE, mnist: ImageDataset, monkeypatch) -> None:
    monkeypatch.setattr(anomaly, "ROUND_IMAGES", 100)  # 4 rounds of 50 normal and 50 outlier images
    normal, outliers = mnist.test_images[:200], mnist.test_images[200:400]
    done: list[int] = []
    result = detect_anomalies(
        vae, normal, outliers, progress=lambda d, _t: done.append(d), should_stop=lambda: max(done, default=0) >= 250
    )
    # Stopped in round 2: the two whole rounds before it are kept, the first images of each group.
    assert (len(result.normal_scores), len(result.outlier_scores)) == (100, 100) and not result.complete
    assert result.sample_note == "Stopped early: 100 of 200 normal and 100 of 200 outlier images were scored."
    full = detect_anomalies(vae, normal, outliers)
    assert full.complete and full.sample_note == "" and (full.normal_total, full.outlier_total) == (200, 200)
    np.testing.assert_array_equal(result.normal_scores, full.normal_scores[:100])
    with pytest.raises(Stopped):  # not even one round: nothing to keep
        detect_anomalies(vae, normal, outliers, should_stop=lambda: True)


def test_anomaly_data_by_class_list(mnist: ImageDataset) -> None:
    held_out = anomaly_data(TrainConfig(classes=tuple(range(9))), "9")
    assert len(held_out.normal) == int((mnist.test_labels != 9).sum()) and len(held_out.outliers) == 1009
    assert not held_out.outliers_in_training and held_out.notes == ()
    seen = anomaly_data(TrainConfig(), "8-9")
    assert seen.outliers_in_training and "outliers were in training" in seen.notes[0]
    assert len(seen.outliers) == int(((mnist.test_labels == 8) | (mnist.test_labels == 9)).sum())
    with pytest.raises(DataError):
        anomaly_data(TrainConfig(classes=(9,)), "9")
    with pytest.raises(DataError):
        anomaly_data(TrainConfig(), "not-a-dataset")


def test_conditional_model_is_refused(mnist: ImageDataset) -> None:
    cvae = build_model(ModelConfig(kind="cvae", num_classes=10, latent_dim=2, hidden_sizes=(16,)), seed=0)
    with pytest.raises(ConfigError, match="unconditional"):
        detect_anomalies(cvae, mnist.test_images[:5], mnist.test_images[5:10])


def train_cli(path: Path, *extra: str) -> None:
    args = ["train", "--subset", "500", "--epochs", "1", "--hidden", "64", "--latent-dim", "4", "--device", "cpu"]
    assert run_cli([*args, *extra, "--out", str(path)], io.StringIO(), io.StringIO()) == 0


def test_cli_anomaly_end_to_end(tmp_path: Path) -> None:
    held_out = tmp_path / "digits0-8.vae"
    train_cli(held_out, "--classes", "0-8")
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["anomaly", str(held_out), "--outliers", "9", "--json"], out, err) == 0, err.getvalue()
    result = json.loads(out.getvalue())
    assert 0.0 <= result["auc"] <= 1.0
    assert result["n_normal"] == 8991 and result["n_outliers"] == 1009 and result["score"] == "recon"
    assert result["outliers_in_training"] is False and result["normal"]["n"] == 8991
    out = io.StringIO()
    assert run_cli(["anomaly", str(held_out), "--outliers", "fashion-mnist", "--score", "elbo"], out, err) == 0
    assert "AUC" in out.getvalue() and "precision" in out.getvalue()

    all_classes = tmp_path / "all.vae"
    train_cli(all_classes)
    out = io.StringIO()
    assert run_cli(["anomaly", str(all_classes), "--outliers", "9"], out, io.StringIO()) == 0
    assert "outliers were in training" in out.getvalue()
    err = io.StringIO()
    assert run_cli(["anomaly", str(all_classes), "--outliers", "no-such-set"], io.StringIO(), err) == 2
    assert "error:" in err.getvalue()
