"""The explanation of a clean-trained model's denoising result, and the settings of the fix."""

from __future__ import annotations

import pytest

from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.denoising_advice import SMALL_GAIN_DB, clean_model_explanation, denoising_training_settings
from vae_studio.core.errors import ConfigError
from vae_studio.core.guided_lab import training_configs


def test_a_clean_model_that_makes_things_worse_is_explained() -> None:
    text = clean_model_explanation("none", psnr_before=12.0, psnr_after=10.7)
    assert text is not None
    assert "Trained on clean images only" in text and "falls by 1.3 dB" in text and "denoising VAE" in text


def test_a_small_gain_is_explained_and_a_clear_one_is_not() -> None:
    text = clean_model_explanation("none", 12.0, 12.0 + SMALL_GAIN_DB / 2)
    assert text is not None and f"rises by only {SMALL_GAIN_DB / 2:.1f} dB" in text
    assert clean_model_explanation("none", 12.0, 12.0 + 2 * SMALL_GAIN_DB) is None


def test_a_denoising_model_or_an_undefined_gain_needs_no_explanation() -> None:
    assert clean_model_explanation("gaussian", 12.0, 10.0) is None
    assert clean_model_explanation("none", float("inf"), float("inf")) is None  # nothing corrupted


def test_the_denoising_settings_match_the_model_shown_and_make_valid_configurations() -> None:
    model = ModelConfig(kind="vae", arch="conv", latent_dim=8)
    train = TrainConfig(beta=2.0, epochs=4, train_subset=20_000)
    settings = denoising_training_settings(model, train, "gaussian", 0.5)
    assert settings == {
        "kind": "vae", "arch": "conv", "latent_dim": 8, "beta": 2.0, "epochs": 4, "train_subset": 20_000,
        "corruption": "gaussian", "noise_level": 0.5,
    }  # fmt: skip
    new_model, new_train = training_configs(settings)
    assert (new_model.arch, new_train.corruption, new_train.noise_level) == ("conv", "gaussian", 0.5)
    # All training images: the subset is left to the panel.
    assert "train_subset" not in denoising_training_settings(ModelConfig(kind="ae"), TrainConfig(), "block", 0.3)
    with pytest.raises(ConfigError):
        denoising_training_settings(model, train, "gaussian", 0.0)
