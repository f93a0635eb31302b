"""Test-split evaluation: the importance-weighted NLL (Burda et al. 2016), active units, MSE/PSNR,
the binarisation notes, and ``vae-studio evaluate --iw-samples``."""

from __future__ import annotations

import io
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_studio.core.batch_progress import Stopped
from vae_studio.core.batches import evaluation_images
from vae_studio.cli import run_cli
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.errors import ConfigError
from vae_studio.core.evaluation import (
    active_units,
    evaluate_model,
    importance_weighted_nll,
    posterior_mean_variance,
    repeated_log_likelihood,
)
from vae_studio.core.losses import reconstruction_nll
from vae_studio.core.metrics import evaluate_loss
from vae_studio.core.models import AE, build_model
from vae_studio.core.trainer import Trainer


def train(dataset: ImageDataset, kind: str = "vae", binarize: str = "dynamic", epochs: int = 4) -> AE:
    model = build_model(ModelConfig(kind=kind, latent_dim=8, hidden_sizes=(128,)), seed=0)
    Trainer(model, dataset, TrainConfig(epochs=epochs, batch_size=100, binarize=binarize, seed=0)).run()
    return model


@pytest.fixture(scope="module")
def small(mnist: ImageDataset) -> ImageDataset:
    """2000 training and 300 test images of MNIST."""
    return replace(
        mnist,
        train_images=mnist.train_images[:2000],
        train_labels=mnist.train_labels[:2000],
        test_images=mnist.test_images[:300],
        test_labels=mnist.test_labels[:300],
    )


@pytest.fixture(scope="module")
def vae(small: ImageDataset) -> AE:
    """A small VAE trained a few epochs on dynamically binarized images."""
    return train(small)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_repeated_log_likelihood_is_minus_reconstruction_nll(likelihood: str) -> None:
    config = ModelConfig(likelihood=likelihood)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 3, 1, 28, 28, generator=generator) * 3
    x = torch.rand(3, 1, 28, 28, generator=generator)
    fast = repeated_log_likelihood(logits.flatten(2), x.flatten(1), config)
    for k in range(5):
        expected = -reconstruction_nll(logits[k], x, config)
        torch.testing.assert_close(fast[k], expected, rtol=1e-5, atol=1e-3)


def test_iw_estimate_is_never_above_the_negative_elbo_and_tightens_with_k(vae: AE, small: ImageDataset) -> None:
    images = small.test_images
    negative_elbo = evaluate_loss(vae, images, binarize="dynamic", seed=3)
    k1 = importance_weighted_nll(vae, images, samples=1, binarize="dynamic", seed=1)
    k50 = importance_weighted_nll(vae, images, samples=50, binarize="dynamic", seed=2)
    n = len(images)
    # K = 1 is a single-sample estimate of the negative ELBO itself: equal within Monte Carlo noise.
    assert abs(k1.mean() - negative_elbo.loss) < 4 * k1.std() / math.sqrt(n)
    # K = 50 is lower, per image on average, by much more than its Monte Carlo noise.
    gain = k1 - k50
    assert gain.mean() > 1.0
    assert gain.mean() > 5 * gain.std() / math.sqrt(n)
    assert k50.mean() < negative_elbo.loss - 1.0


def test_iw_estimate_is_reproducible_and_chunking_keeps_it(vae: AE, small: ImageDataset) -> None:
    images = small.test_images[:50]
    whole = importance_weighted_nll(vae, images, samples=64, binarize="dynamic", seed=5)
    again = importance_weighted_nll(vae, images, samples=64, binarize="dynamic", seed=5)
    np.testing.assert_array_equal(whole, again)
    # max_rows 16: one image per pass and the 64 samples in 4 chunks combined by logsumexp.
    chunked = importance_weighted_nll(vae, images, samples=64, binarize="dynamic", seed=5, max_rows=16)
    assert abs(chunked.mean() - whole.mean()) < 0.5
    assert np.all(np.isfinite(chunked)) and chunked.shape == (50,)


def test_iw_progress_and_stop(vae: AE, small: ImageDataset) -> None:
    calls: list[tuple[int, int]] = []
    images = small.test_images[:50]
    importance_weighted_nll(vae, images, samples=400, max_rows=4000, progress=lambda *a: calls.append(a))
    assert calls[-1] == (50, 50) and [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) == 5
    with pytest.raises(Stopped):
        importance_weighted_nll(vae, small.test_images[:50], samples=10, max_rows=100, should_stop=lambda: True)
    # Kept partial: the images done before the stop (10 per pass here).
    partial = importance_weighted_nll(vae, images, samples=10, max_rows=100, should_stop=lambda: True, keep_partial=True)
    assert partial.shape == (10,) and np.all(np.isfinite(partial))


def test_evaluation_stopped_during_the_estimate_keeps_it_with_its_sample_size(vae: AE, small: ImageDataset) -> None:
    done: list[int] = []
    result = evaluate_model(  # K = 1000: 16 images per pass of at most 16,384 decoder rows
        vae, small.test_images[:50], iw_samples=1000, progress=lambda d, _t: done.append(d),
        should_stop=lambda: len(done) >= 2,
    )  # fmt: skip
    assert result.images == 50 and result.iw_images == done[-1] == 32 and np.isfinite(result.iw_nll)
    assert any(f"covers the first {result.iw_images:,} of the 50 images" in note for note in result.notes)
    full = evaluate_model(vae, small.test_images[:50], iw_samples=10)
    assert full.iw_images == 50 and not any("Stopped early" in note for note in full.notes)
    with pytest.raises(Stopped):  # stopped before the estimate began: nothing to keep
        evaluate_model(vae, small.test_images[:50], iw_samples=10, should_stop=lambda: True)


def test_plain_autoencoder_has_no_iw_estimate_or_active_units(small: ImageDataset) -> None:
    ae = train(small, kind="ae", binarize="none", epochs=1)
    with pytest.raises(ConfigError):
        importance_weighted_nll(ae, small.test_images[:10], samples=5)
    result = evaluate_model(ae, small.test_images, iw_samples=5)
    assert result.iw_nll is None and result.iw_samples is None and result.active_units is None
    assert result.kl == 0.0
    assert any("plain autoencoder" in note for note in result.notes)


def test_active_units_count_posterior_means_that_vary(vae: AE, small: ImageDataset) -> None:
    variances = posterior_mean_variance(vae, small.test_images, binarize="dynamic")
    x = evaluation_images(small.test_images, "dynamic")
    with torch.no_grad():
        mu = vae.encode(x)[0].double().numpy()
    np.testing.assert_allclose(variances, mu.var(axis=0), rtol=1e-5)
    assert active_units(vae, small.test_images, binarize="dynamic") == int(np.sum(mu.var(axis=0) > 0.01))
    assert active_units(vae, small.test_images, binarize="dynamic", threshold=-1.0) == 8


def test_evaluate_model_figures_and_notes(vae: AE, small: ImageDataset) -> None:
    result = evaluate_model(vae, small.test_images, binarize="dynamic", iw_samples=20, seed=0)
    assert result.binarize == "dynamic" and "dynamically binarized" in result.binarization
    assert result.loss == pytest.approx(result.recon + result.kl)
    assert result.iw_samples == 20 and result.iw_nll is not None and result.iw_nll < result.loss
    x = evaluation_images(small.test_images, "dynamic").numpy()
    with torch.no_grad():
        recon = torch.sigmoid(vae(torch.from_numpy(x), sample=False).logits).numpy()
    assert result.mse == pytest.approx(float(np.mean((x - recon) ** 2)), rel=1e-5)
    per_image_mse = ((x - recon) ** 2).reshape(len(x), -1).mean(1)
    assert result.psnr == pytest.approx(float(np.mean(10 * np.log10(1 / per_image_mse))), rel=1e-5)
    assert result.as_dict()["iw_nll"] == result.iw_nll
    grey = evaluate_model(vae, small.test_images[:50], binarize="none")
    assert grey.iw_nll is None and any("cross-entropies" in note for note in grey.notes)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evaluate") / "tiny.vae"
    args = ["train", "--subset", "500", "--epochs", "1", "--hidden", "64", "--latent-dim", "4"]
    args += ["--binarize", "dynamic", "--device", "cpu", "--out", str(path)]
    assert run_cli(args, io.StringIO(), io.StringIO()) == 0
    return path


def test_cli_evaluate_iw_samples_json(checkpoint: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["evaluate", str(checkpoint), "--iw-samples", "10", "--json"], out, err) == 0, err.getvalue()
    result = json.loads(out.getvalue())
    for key in ("recon", "kl", "loss", "iw_nll", "mse", "psnr"):
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    assert result["binarize"] == "dynamic" and result["iw_samples"] == 10
    assert 0 <= result["active_units"] <= 4 and result["images"] == 10000
    assert result["iw_nll"] < result["loss"]
    assert "importance sampling" in err.getvalue()


def test_cli_evaluate_text_states_binarization_and_missing_iw(checkpoint: Path) -> None:
    out = io.StringIO()
    assert run_cli(["evaluate", str(checkpoint)], out, io.StringIO()) == 0
    text = out.getvalue()
    assert "loss (-ELBO)" in text and "dynamically binarized" in text and "not estimated" in text
    err = io.StringIO()
    assert run_cli(["evaluate", str(checkpoint), "--iw-samples", "0"], io.StringIO(), err) == 2
    assert "--iw-samples" in err.getvalue()
