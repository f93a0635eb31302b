"""The training panel's settings, declared once: what each control is, its range, default and help.

The form (gui/widgets/settings_form.py) builds the controls from these fields, enables them (a
running model's settings are fixed; β and warm-up only mean something for a VAE, the noise level
only with a corruption) and keeps their last values in QSettings.
"""

from __future__ import annotations

import torch

from ....core.config import MAX_LATENT_DIM
from ....core.vocabulary import (
    ARCH_CHOICES,
    BUILTIN_DATASETS,
    CORRUPTION_CHOICES,
    LIKELIHOOD_CHOICES,
    MODEL_KIND_CHOICES,
    Choice,
)
from ...widgets.settings_form import ChoiceItems, Field

SETTINGS_GROUP = "training"
OPEN_FOLDER = "<open folder>"  # the data set chooser's last entry


def _items(choices: tuple[Choice, ...]) -> ChoiceItems:
    return tuple((c.key, c.label, True) for c in choices)


def _datasets() -> ChoiceItems:
    return (*_items(BUILTIN_DATASETS), (OPEN_FOLDER, "Open folder…", True))


def _devices() -> ChoiceItems:
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    auto = next((name for name in ("cuda", "mps") if available[name]), "cpu")
    return (
        ("auto", f"auto ({auto})", True),
        *((name, name if ok else f"{name} (not available)", ok) for name, ok in available.items()),
    )


def _variational(values) -> bool:
    return values["kind"] != "ae"


FIELDS: tuple[Field, ...] = (
    Field(
        "dataset", "datasetCombo", "Data set", "choice", "Data", choices=_datasets, persist=False,
        tooltip="The images to learn from: a built-in set, or a folder of your own images or MNIST-style IDX files.",
    ),
    Field("dataset_info", "datasetInfo", "", "info", "Data", persist=False),
    Field(
        "subset", "subsetSpin", "Train on", "int", "Data", range=(0, 10_000_000), step=1000, special="all", default=0,
        tooltip="Train on a random subset of this many training images (\"all\" uses every one): small subsets "
        "train fast.",
    ),
    Field(
        "kind", "modelKindCombo", "Model", "choice", "Model", choices=_items(MODEL_KIND_CHOICES), default="vae",
        tooltip="AE squeezes each image into one point; a VAE into a small cloud (a distribution) kept near the "
        "prior N(0, I), so any point of the space decodes to a plausible image; a conditional VAE also gets the class.",
    ),
    Field(
        "arch", "archCombo", "Architecture", "choice", "Model", choices=_items(ARCH_CHOICES),
        tooltip="MLP (fully connected) treats the image as a flat list of pixels; Conv uses convolutions that know "
        "which pixels are neighbours (slower on a CPU, sharper images).",
    ),
    Field(
        "latent_dim", "latentDimSpin", "Latent size", "int", "Model", range=(1, MAX_LATENT_DIM), default=2,
        tooltip="How many numbers describe each image in the latent space: 2 can be drawn as a map exactly; more "
        "dimensions reconstruct better and are shown through a 2-D view plane.",
    ),
    Field(
        "likelihood", "likelihoodCombo", "Likelihood", "choice", "Objective", choices=_items(LIKELIHOOD_CHOICES),
        tooltip="How the reconstruction error is measured: Bernoulli (binary cross-entropy) suits mostly "
        "black-and-white images such as digits, Gaussian (squared error) suits greyscale or colour photos.",
    ),
    Field(
        "beta", "betaSpin", "β (KL weight)", "float", "Objective", range=(0.0, 1000.0), decimals=3, step=0.1,
        default=1.0, enabled_when=_variational,
        tooltip="β weighs the KL term against the reconstruction: above 1 the latent space is smoother and more "
        "disentangled but images blurrier; below 1 images are sharper but the space has gaps (β-VAE).",
    ),
    Field(
        "warmup_epochs", "warmupSpin", "KL warm-up", "float", "Objective", range=(0.0, 1000.0), decimals=1, step=1.0,
        suffix=" epochs", default=0.0, enabled_when=_variational,
        tooltip="KL warm-up raises β from 0 to its value over this many epochs, so the encoder first learns to "
        "reconstruct before the KL term pulls codes to the prior (this helps avoid posterior collapse).",
    ),
    Field(
        "corruption", "corruptionCombo", "Denoising", "choice", "Objective", choices=_items(CORRUPTION_CHOICES),
        tooltip="Denoising: the model sees a corrupted image but must reconstruct the clean one, which makes it "
        "learn robust features instead of copying pixels.",
    ),
    Field(
        "noise_level", "noiseSpin", "Noise level", "float", "Objective", range=(0.01, 1.0), step=0.05, default=0.3,
        enabled_when=lambda values: values["corruption"] != "none",
        tooltip="How strong the corruption is, from 0 to 1 (noise level, fraction of pixels or area, share of a "
        "half turn).",
    ),
    Field(
        "lr", "lrSpin", "Learning rate", "log", "Optimisation", range=(1e-6, 10.0), default=1e-3,
        tooltip="The learning rate is the size of each optimiser step: too small learns slowly, too large makes the "
        "loss jump or blow up (1e-3 is a good start for Adam).",
    ),
    Field(
        "batch_size", "batchSpin", "Batch size", "int", "Optimisation", range=(1, 8192), default=128,
        tooltip="Images per optimiser step: larger batches give smoother but fewer steps per epoch.",
    ),
    Field(
        "epochs", "epochsSpin", "Epochs", "int", "Optimisation", range=(1, 10_000), default=10,
        tooltip="One epoch is one pass over all the training images.",
    ),
    Field(
        "seed", "seedSpin", "Seed", "int", "Optimisation", range=(0, 2**31 - 1), default=1,
        tooltip="The seed fixes the random start weights and the order of images, so the same settings train the "
        "same model again.",
    ),
    Field(
        "device", "deviceCombo", "Device", "choice", "Optimisation", choices=_devices,
        tooltip="Where the arithmetic runs: a GPU (cuda, or mps on Apple) is much faster for large models.",
    ),
    Field(
        "refresh_steps", "refreshStepsSpin", "Map refresh", "int", "Run", range=(1, 100_000), default=50,
        prefix="every ", suffix=" steps", while_busy=True,
        tooltip="How often the latent map and previews show the model being trained: more often is livelier but "
        "slows training a little (can be changed while training).",
    ),
)  # fmt: skip
