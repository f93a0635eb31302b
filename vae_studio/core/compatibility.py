"""Whether a model can work on a data set's images: the one rule every view asks before encoding or decoding."""

from __future__ import annotations

from .data import ImageDataset
from .trained_model import TrainedModel


def can_run_on(trained: TrainedModel, dataset: ImageDataset) -> str | None:
    """Why ``trained`` cannot encode ``dataset``'s images (one or two sentences for the user), or None when it can.

    The image shape must match, and a conditional model needs the data set's class labels, as many
    classes as it was trained with.
    """
    config, spec = trained.config, trained.train_config.dataset
    if tuple(config.image_shape) != tuple(dataset.image_shape):
        model_shape = "×".join(map(str, config.image_shape))
        data_shape = "×".join(map(str, dataset.image_shape))
        return (
            f"This model works on {model_shape} images, but the data set “{dataset.name}” has {data_shape} "
            f"images. Load the data set it was trained on ({spec})."
        )
    if config.conditional and (dataset.test_labels is None or dataset.num_classes != config.num_classes):
        has = f"{dataset.num_classes} classes" if dataset.test_labels is not None else "no class labels"
        return (
            f"This conditional model needs {config.num_classes} classes, but the data set “{dataset.name}” has "
            f"{has}. Load the data set it was trained on ({spec})."
        )
    return None
