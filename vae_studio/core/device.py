"""Choosing the torch device."""

from __future__ import annotations

import torch

from .errors import ConfigError
from .vocabulary import DEVICE_CHOICES



def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an explicit choice must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {name!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA GPU on this machine")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for, but Apple's Metal backend is not available here")
    return torch.device(name)
