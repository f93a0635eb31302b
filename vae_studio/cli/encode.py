"""``vae-studio encode``: the posterior mean (and log variance) of every image, as CSV."""

from __future__ import annotations

import argparse
import csv
from typing import TextIO

from ..core import latent
from ..core.recipe import training_data
from .loading import load_model


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = load_model(args.checkpoint, args.device)
    dataset = training_data(trained.train_config)
    images, labels = dataset.split(args.split)
    encoding = latent.encode(trained.model, images, labels)
    d = trained.config.latent_dim
    header = ["index", "label"] + [f"mu_{i + 1}" for i in range(d)]
    if encoding.logvar is not None:
        header += [f"logvar_{i + 1}" for i in range(d)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(len(encoding.mu)):
            row = [i, "" if labels is None else int(labels[i])] + [f"{v:.6g}" for v in encoding.mu[i]]
            if encoding.logvar is not None:
                row += [f"{v:.6g}" for v in encoding.logvar[i]]
            writer.writerow(row)
    out.write(f"wrote {len(encoding.mu)} codes of the {args.split} split to {args.out}\n")
    return 0
