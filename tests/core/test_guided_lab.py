"""The guided lab's script: known panels, valid training settings, the seeds' order."""

from __future__ import annotations

import pytest

from vae_studio.core.errors import ConfigError
from vae_studio.core.guided_lab import LAB_STEPS, PANEL_NAMES, LabStep, training_configs


def test_the_lab_has_six_to_eight_steps_with_short_texts() -> None:
    assert 6 <= len(LAB_STEPS) <= 8
    for step in LAB_STEPS:
        assert step.title and step.text
        # One or two sentences: what to look at, not a lecture.
        assert step.text.count(". ") + step.text.count(": ") <= 3, step.title


def test_every_step_names_known_panels() -> None:
    assert len(set(PANEL_NAMES)) == len(PANEL_NAMES) == 13
    for step in LAB_STEPS:
        assert step.panel in PANEL_NAMES, step.title
        assert set(step.settings) <= set(PANEL_NAMES), step.title


def test_training_settings_are_valid_configurations() -> None:
    trained = [step for step in LAB_STEPS if "training" in step.settings]
    assert trained, "the lab trains at least one model"
    for step in trained:
        model, train = training_configs(step.settings["training"])
        # Small enough for a 2-core laptop: a few epochs on a subset.
        assert train.epochs <= 5 and train.train_subset is not None and train.train_subset <= 20_000, step.title
        assert model.kind in ("ae", "vae")


def test_the_story_follows_the_seeds() -> None:
    first = training_configs(LAB_STEPS[0].settings["training"])
    assert (first[0].kind, first[0].latent_dim, first[1].beta) == ("vae", 2, 1.0)
    assert [step.panel for step in LAB_STEPS] == [
        "latentMap", "preview", "comparison", "interpolation", "generation", "loss", "denoising", "anomaly",
    ]  # fmt: skip
    beta_step = LAB_STEPS[5]
    assert training_configs(beta_step.settings["training"])[1].beta > 1
    denoising = training_configs(LAB_STEPS[6].settings["training"])[1]
    assert denoising.corruption != "none" and denoising.noise_level > 0


def test_training_configs_rejects_bad_settings() -> None:
    with pytest.raises(TypeError):
        training_configs({"latent_size": 2})
    with pytest.raises(ConfigError):
        training_configs({"corruption": "gaussian"})  # a corruption needs a level


def test_steps_are_read_only() -> None:
    step = LabStep("t", "x.", "loss", {"training": {"beta": 2.0}})
    with pytest.raises(TypeError):
        step.settings["training"]["beta"] = 3.0  # type: ignore[index]
