"""From a TrainConfig to the data and the fresh model it describes: shared by the CLI and the GUI."""

from __future__ import annotations

from typing import Any

from .config import ModelConfig, TrainConfig
from .data import ImageDataset, load_dataset, select_classes
from .errors import ConfigError
from .history import History
from .models import build_model
from .subsets import sample_indices
from .trained_model import TrainedModel


def training_data(config: TrainConfig, **load_options: Any) -> ImageDataset:
    """The data set a run trains on: the named set, restricted to ``classes`` and ``train_subset``.
    ``load_options`` go to :func:`load_dataset` (e.g. a folder's ``max_files``)."""
    # The data's own seed (shapes generation, folder split) stays at its default: the run's seed
    # changes the initial weights and batch order, never which images are train and which are test.
    dataset = load_dataset(config.dataset, image_size=config.image_size, channels=config.channels, **load_options)
    if config.classes:
        dataset = select_classes(dataset, config.classes)
    if config.train_subset:
        # A random (seeded) subset rather than the first N, which may be sorted by class.
        dataset = dataset.take(train=sample_indices(len(dataset.train_images), config.train_subset, config.seed))
    return dataset


def model_config_for(dataset: ImageDataset, **options: object) -> ModelConfig:
    """A ModelConfig for ``dataset``: its image shape, and its class count for a conditional model."""
    kind = options.get("kind", "vae")
    if kind == "cvae" and not dataset.labelled:
        raise ConfigError(f"a conditional VAE needs class labels, and {dataset.name} has none")
    num_classes = dataset.num_classes if kind == "cvae" else 0
    return ModelConfig(image_shape=dataset.image_shape, num_classes=num_classes, **options)  # type: ignore[arg-type]


def new_trained_model(dataset: ImageDataset, train_config: TrainConfig, name: str, **options: object) -> TrainedModel:
    """An untrained model for ``dataset``, its weights seeded by the run's seed."""
    model = build_model(model_config_for(dataset, **options), seed=train_config.seed)
    return TrainedModel(model, train_config, dataset.class_names, History(), name)
