"""Configuration dataclasses. Checkpoints store them as JSON so a model is rebuilt from the file alone
(the nanoGPT habit of keeping the model's config next to its weights)."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .errors import ConfigError
from .vocabulary import ARCHS, BINARIZATIONS, CORRUPTIONS, LIKELIHOODS, MODEL_KINDS

ModelKind = Literal["ae", "vae", "cvae"]
Arch = Literal["mlp", "conv"]
Likelihood = Literal["bernoulli", "gaussian"]
Corruption = Literal["none", "gaussian", "salt-pepper", "block", "rotation"]
Binarize = Literal["none", "dynamic", "static"]

MAX_LATENT_DIM = 128
# Hard bounds, so that neither a typo on the command line nor a damaged or hostile checkpoint can
# ask for more memory or time than a laptop has: the largest MLP allowed (8 layers of 4096) holds
# about 0.3 G weights, the largest conv stack a few million; the app's own recipes stay far below.
MAX_WIDTH = 4096
MAX_LAYERS = 8
MAX_CONV_CHANNELS = 1024
MAX_CONV_LAYERS = 6
MAX_IMAGE_SIZE = 256
MAX_CLASSES = 10_000
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 65_536
MAX_SUBSET = 100_000_000
MAX_SEED = 2**63 - 1  # torch and numpy both take seeds in [0, 2^63)
MAX_BETA = 10_000.0
MAX_LR = 1e6  # only to keep it finite: a huge rate diverges, and the trainer says so
MAX_DATASET_SPEC = 4096
# Folder data sets: scanning stops past this many files unless the caller allows more, so pointing
# at a home folder by mistake ends in seconds with a message instead of training on stray images.
DEFAULT_MAX_FOLDER_FILES = 20_000
MAX_FOLDER_FILES = 10_000_000


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    """``value`` in [low, high]; NaN never is."""
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:,} and {high:,}; got {value!r}")


def _check_sizes(name: str, sizes: tuple[int, ...], most: int, layers: int) -> None:
    if not 1 <= len(sizes) <= layers or not all(1 <= size <= most for size in sizes):
        raise ConfigError(f"{name} must be 1 to {layers} sizes, each between 1 and {most}; got {sizes}")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model's architecture."""

    kind: ModelKind = "vae"
    arch: Arch = "mlp"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 2
    # MLP: the hidden widths of the encoder (the decoder mirrors them); 784-400-z is the
    # classic PyTorch VAE example.
    hidden_sizes: tuple[int, ...] = (400,)
    # Conv: channels of the stride-2 convolutions; each halves the image side.
    conv_channels: tuple[int, ...] = (32, 64)
    conv_hidden: int = 256
    num_classes: int = 0
    likelihood: Likelihood = "bernoulli"
    # Fixed standard deviation of the Gaussian likelihood, so its loss is a true NLL in nats.
    gaussian_sigma: float = 0.1

    def __post_init__(self) -> None:
        _check_choice("model kind", self.kind, MODEL_KINDS)
        _check_choice("architecture", self.arch, ARCHS)
        _check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if not 1 <= self.latent_dim <= MAX_LATENT_DIM:
            raise ConfigError(f"latent size must be between 1 and {MAX_LATENT_DIM}; got {self.latent_dim}")
        c, h, w = self.image_shape
        if c not in (1, 3) or not (8 <= h <= MAX_IMAGE_SIZE and 8 <= w <= MAX_IMAGE_SIZE):
            raise ConfigError(
                f"image shape must be 1 or 3 channels of 8x8 to {MAX_IMAGE_SIZE}x{MAX_IMAGE_SIZE}; "
                f"got {self.image_shape}"
            )
        _check_sizes("the hidden layer widths", self.hidden_sizes, MAX_WIDTH, MAX_LAYERS)
        _check_sizes("the conv channels", self.conv_channels, MAX_CONV_CHANNELS, MAX_CONV_LAYERS)
        _check_range("the conv hidden width", self.conv_hidden, 1, MAX_WIDTH)
        _check_range("the number of classes", self.num_classes, 0, MAX_CLASSES)
        if self.arch == "conv":
            factor = 2 ** len(self.conv_channels)
            if h % factor or w % factor:
                raise ConfigError(
                    f"the conv architecture halves the image {len(self.conv_channels)} times, so its "
                    f"sides must be multiples of {factor}; got {h}x{w}"
                )
        if self.kind == "cvae" and self.num_classes < 2:
            raise ConfigError("a conditional VAE needs a labelled data set with at least 2 classes")
        if not 0 < self.gaussian_sigma < math.inf:
            raise ConfigError(f"the Gaussian likelihood's sigma must be positive and finite; got {self.gaussian_sigma}")

    @property
    def variational(self) -> bool:
        return self.kind in ("vae", "cvae")

    @property
    def conditional(self) -> bool:
        return self.kind == "cvae"


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; stored in the checkpoint next to the model config."""

    dataset: str = "mnist"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    # The learning rate is multiplied by this after every epoch (exponential decay; 1 = constant).
    lr_decay: float = 1.0
    beta: float = 1.0
    # Linear KL warm-up (Bowman et al. 2016, "Generating sentences from a continuous space"):
    # beta ramps from 0 to its value over this many epochs.
    warmup_epochs: float = 0.0
    seed: int = 1
    device: str = "auto"
    corruption: Corruption = "none"
    noise_level: float = 0.0
    binarize: Binarize = "none"
    classes: tuple[int, ...] | None = None
    train_subset: int | None = None
    image_size: int = 28
    channels: int = 1

    def __post_init__(self) -> None:
        _check_choice("corruption", self.corruption, CORRUPTIONS)
        _check_choice("binarization", self.binarize, BINARIZATIONS)
        if not 1 <= len(self.dataset.strip()) <= MAX_DATASET_SPEC:
            raise ConfigError(f"the data set must be named (at most {MAX_DATASET_SPEC} characters)")
        _check_range("epochs", self.epochs, 1, MAX_EPOCHS)
        _check_range("batch size", self.batch_size, 1, MAX_BATCH_SIZE)
        if not 0 < self.lr <= MAX_LR:
            raise ConfigError(f"learning rate must be above 0 and at most {MAX_LR:g}; got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"the learning-rate decay per epoch must be in (0, 1]; got {self.lr_decay}")
        _check_range("beta", self.beta, 0, MAX_BETA)
        _check_range("the KL warm-up (epochs)", self.warmup_epochs, 0, MAX_EPOCHS)
        _check_range("seed", self.seed, 0, MAX_SEED)
        _check_range("the noise level", self.noise_level, 0, 1)
        if self.corruption != "none" and not self.noise_level > 0:
            raise ConfigError(f"the {self.corruption} corruption needs a noise level above 0")
        if self.classes is not None and not (
            1 <= len(self.classes) <= MAX_CLASSES and all(0 <= c < MAX_CLASSES for c in self.classes)
        ):
            raise ConfigError(f"classes must be 1 to {MAX_CLASSES} class numbers below {MAX_CLASSES}")
        if self.train_subset is not None:
            _check_range("the training subset (images)", self.train_subset, 1, MAX_SUBSET)
        _check_range("image size", self.image_size, 8, MAX_IMAGE_SIZE)
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3; got {self.channels}")


T = TypeVar("T", ModelConfig, TrainConfig)


def config_to_dict(config: ModelConfig | TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(cls: type[T], data: object) -> T:
    """Rebuild a config from JSON (a checkpoint), checking the type of every field before the ranges.

    Unknown keys are ignored (older or newer files); JSON lists become tuples. Raises ConfigError
    naming the first bad field.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"expected a JSON object; got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _typed(f.name, data[f.name], hints[f.name])
    return cls(**values)


def _typed(name: str, value: object, hint: object) -> object:
    """``value`` as the type ``hint`` names (int, float, str, a Literal, tuple[int, ...], X | None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _typed(name, value, hint)
    if origin is tuple:
        fixed = len(args) if Ellipsis not in args else None
        if not isinstance(value, list) or len(value) > MAX_CLASSES or (fixed is not None and len(value) != fixed):
            raise ConfigError(f"{name} must be a list of {fixed or 'whole'} numbers; got {_short(value)}")
        return tuple(_typed(name, v, int) for v in value)
    if hint is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ConfigError(f"{name} must be a whole number; got {_short(value)}")
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number; got {_short(value)}")
        return float(value)
    if (hint is str or origin is Literal) and not isinstance(value, str):
        raise ConfigError(f"{name} must be text; got {_short(value)}")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


__all__ = [
    "ARCHS",
    "BINARIZATIONS",
    "CORRUPTIONS",
    "DEFAULT_MAX_FOLDER_FILES",
    "LIKELIHOODS",
    "MAX_BATCH_SIZE",
    "MAX_BETA",
    "MAX_CLASSES",
    "MAX_CONV_CHANNELS",
    "MAX_CONV_LAYERS",
    "MAX_EPOCHS",
    "MAX_FOLDER_FILES",
    "MAX_IMAGE_SIZE",
    "MAX_LATENT_DIM",
    "MAX_LAYERS",
    "MAX_LR",
    "MAX_SEED",
    "MAX_SUBSET",
    "MAX_WIDTH",
    "MODEL_KINDS",
    "ModelConfig",
    "TrainConfig",
    "config_from_dict",
    "config_to_dict",
]
