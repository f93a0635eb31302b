"""Configuration dataclasses. Checkpoints store them as JSON so a model is rebuilt from the file alone
(the nanoGPT habit of keeping the model's config next to its weights)."""

from __future__ import annotations

import dataclasses
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


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


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
        if c not in (1, 3) or h < 8 or w < 8:
            raise ConfigError(f"image shape must be 1 or 3 channels of at least 8x8; got {self.image_shape}")
        if self.arch == "conv":
            factor = 2 ** len(self.conv_channels)
            if h % factor or w % factor:
                raise ConfigError(
                    f"the conv architecture halves the image {len(self.conv_channels)} times, so its "
                    f"sides must be multiples of {factor}; got {h}x{w}"
                )
        if self.kind == "cvae" and self.num_classes < 2:
            raise ConfigError("a conditional VAE needs a labelled data set with at least 2 classes")
        if self.gaussian_sigma <= 0:
            raise ConfigError("the Gaussian likelihood's sigma must be positive")

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
        if self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1; got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1; got {self.batch_size}")
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be positive; got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"the learning-rate decay per epoch must be in (0, 1]; got {self.lr_decay}")
        if self.beta < 0 or self.warmup_epochs < 0:
            raise ConfigError("beta and warm-up must not be negative")
        if self.corruption != "none" and not self.noise_level > 0:
            raise ConfigError(f"the {self.corruption} corruption needs a noise level above 0")


T = TypeVar("T", ModelConfig, TrainConfig)


def config_to_dict(config: ModelConfig | TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a config, ignoring unknown keys (older or newer files) and restoring tuples from JSON lists."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    return cls(**values)


__all__ = [
    "ARCHS",
    "BINARIZATIONS",
    "CORRUPTIONS",
    "LIKELIHOODS",
    "MAX_LATENT_DIM",
    "MODEL_KINDS",
    "ModelConfig",
    "TrainConfig",
    "config_from_dict",
    "config_to_dict",
]
