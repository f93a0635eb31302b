"""Autoencoder (AE), variational autoencoder (VAE) and conditional VAE (CVAE).

All three share one encoder and one decoder builder: an MLP (784-400-z like the classic
PyTorch VAE example) or a small stride-2 convolutional network. A conditional model
appends the one-hot class to the encoder's features and to the latent code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .config import ModelConfig


@dataclass
class ForwardResult:
    """One pass through a model: decoder logits, the posterior and the code that was decoded."""

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor | None
    z: torch.Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Image -> features -> (optionally + one-hot class) -> ``out_dim`` numbers."""

    def __init__(self, config: ModelConfig, out_dim: int) -> None:
        super().__init__()
        c, h, w = config.image_shape
        if config.arch == "mlp":
            self.features: nn.Module = nn.Flatten()
            feature_dim = c * h * w
            hidden = list(config.hidden_sizes)
        else:
            convs: list[nn.Module] = []
            channels = [c, *config.conv_channels]
            for n_in, n_out in zip(channels[:-1], channels[1:]):
                convs += [nn.Conv2d(n_in, n_out, 4, stride=2, padding=1), nn.ReLU()]
            self.features = nn.Sequential(*convs, nn.Flatten())
            factor = 2 ** len(config.conv_channels)
            feature_dim = channels[-1] * (h // factor) * (w // factor)
            hidden = [config.conv_hidden]
        self.head = nn.Sequential(
            _mlp([feature_dim + config.num_classes, *hidden]), nn.ReLU(), nn.Linear(hidden[-1], out_dim)
        )

    def forward(self, x: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        features = self.features(x)
        if onehot is not None:
            features = torch.cat([features, onehot], dim=1)
        return self.head(features)


class Decoder(nn.Module):
    """Latent code (optionally + one-hot class) -> per-pixel logits of shape (N, C, H, W)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        z_in = config.latent_dim + config.num_classes
        if config.arch == "mlp":
            self.head = _mlp([z_in, *reversed(config.hidden_sizes), c * h * w])
            self.head.insert(len(self.head) - 1, nn.ReLU())
            self.body: nn.Module = nn.Unflatten(1, (c, h, w))
        else:
            factor = 2 ** len(config.conv_channels)
            channels = [*reversed(config.conv_channels), c]
            self.head = nn.Sequential(
                nn.Linear(z_in, config.conv_hidden),
                nn.ReLU(),
                nn.Linear(config.conv_hidden, channels[0] * (h // factor) * (w // factor)),
                nn.ReLU(),
            )
            layers: list[nn.Module] = [nn.Unflatten(1, (channels[0], h // factor, w // factor))]
            for i, (n_in, n_out) in enumerate(zip(channels[:-1], channels[1:])):
                layers.append(nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1))
                if i < len(channels) - 2:
                    layers.append(nn.ReLU())
            self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        if onehot is not None:
            z = torch.cat([z, onehot], dim=1)
        return self.body(self.head(z))


class AE(nn.Module):
    """A deterministic autoencoder: the code is the encoder's output, there is no KL term."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        out_dim = config.latent_dim * (2 if config.variational else 1)
        self.encoder = Encoder(config, out_dim)
        self.decoder = Decoder(config)

    @property
    def variational(self) -> bool:
        return self.config.variational

    def _onehot(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.config.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional model needs class labels to encode or decode")
        labels = torch.as_tensor(labels, device=self.device).long().reshape(-1).expand(n)
        return F.one_hot(labels, self.config.num_classes).to(self.dtype)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images in [0, 1] -> (mu, log variance); log variance is None for a plain AE."""
        out = self.encoder(x, self._onehot(labels, x.shape[0]))
        if not self.variational:
            return out, None
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z, self._onehot(labels, z.shape[0]))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latent codes -> the decoder's mean image in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, labels))

    def forward(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        sample: bool = True,
        generator: torch.Generator | None = None,
        eps: torch.Tensor | None = None,
    ) -> ForwardResult:
        """``eps``: the standard normal noise of the reparameterisation, drawn here when not given."""
        mu, logvar = self.encode(x, labels)
        z = mu
        if logvar is not None and sample:
            # Reparameterisation trick (Kingma & Welling 2014, sec. 2.4): z = mu + sigma * eps.
            if eps is None:
                eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
        return ForwardResult(self.decode_logits(z, labels), mu, logvar, z)


class VAE(AE):
    """Encoder gives a diagonal Gaussian q(z|x); trained with the KL term against N(0, I)."""


def build_model(config: ModelConfig, seed: int | None = None) -> AE:
    """The model class for ``config.kind`` (a conditional VAE is a VAE with class inputs).

    With a seed, the initial weights depend on it alone, without touching the global RNG.
    """
    cls = VAE if config.variational else AE
    if seed is None:
        return cls(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

