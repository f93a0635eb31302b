"""``vae-studio sample``: a grid of decodings of prior samples, as one image file."""

from __future__ import annotations

import argparse
import math
from typing import TextIO

import numpy as np
import torch
from torchvision.utils import save_image

from ..core import latent
from ..core.errors import ConfigError
from .loading import load_model


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = load_model(args.checkpoint, args.device)
    z = latent.sample_prior(trained.config.latent_dim, args.n, args.temperature, args.seed)
    label = args.label if trained.config.conditional else None
    if label is not None and label >= trained.config.num_classes:
        raise ConfigError(f"--label must be a class of the model, 0 to {trained.config.num_classes - 1}; got {label}")
    if trained.config.conditional and label is None:
        label = np.arange(args.n) % trained.config.num_classes
    images = latent.decode(trained.model, z, label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.from_numpy(images), args.out, nrow=max(1, int(math.ceil(math.sqrt(args.n)))), padding=2)
    out.write(f"wrote {args.n} samples to {args.out}\n")
    return 0
