"""``vae-studio evaluate``: test-split loss terms and, on request, the importance-weighted NLL."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ..core.evaluation import BINARIZATION_LABELS, evaluate_model
from ..core.recipe import training_data
from .loading import load_model
from .progress import ImageProgress


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = load_model(args.checkpoint, args.device)
    dataset = training_data(trained.train_config)
    labels = dataset.test_labels if trained.config.conditional else None
    binarize = trained.train_config.binarize
    progress = None
    if args.iw_samples is not None and trained.config.variational:
        progress = ImageProgress(err, f"importance sampling, K={args.iw_samples}")
    evaluation = evaluate_model(
        trained.model,
        dataset.test_images,
        labels,
        binarize=binarize,
        iw_samples=args.iw_samples,
        seed=args.seed,
        progress=progress,
    )
    result = {**evaluation.as_dict(), "dataset": trained.train_config.dataset}
    if args.json:
        out.write(json.dumps(result) + "\n")
        return 0
    tag = BINARIZATION_LABELS[binarize]
    if evaluation.iw_nll is not None:
        iw_line = f"  -log p(x), IW K={evaluation.iw_samples:<5} {evaluation.iw_nll:10.3f} nats/image, {tag}\n"
    elif not trained.config.variational:
        iw_line = "  -log p(x)       none: a plain autoencoder has no likelihood estimate\n"
    else:
        iw_line = "  -log p(x)       not estimated (give --iw-samples K, e.g. 5000)\n"
    active = "n/a (plain autoencoder)"
    if evaluation.active_units is not None:
        active = f"{evaluation.active_units} of {evaluation.latent_dim}"
    out.write(
        f"{trained.describe()}\n"
        f"test split of {result['dataset']} ({evaluation.images} images, binarization: {evaluation.binarization})\n"
        f"  reconstruction  {evaluation.recon:10.3f} nats/image, {tag}\n"
        f"  KL              {evaluation.kl:10.3f} nats/image, {tag}\n"
        f"  loss (-ELBO)    {evaluation.loss:10.3f} nats/image, {tag}\n"
        f"{iw_line}"
        f"  active units    {active}\n"
        f"  MSE             {evaluation.mse:10.5f} per pixel, {tag}\n"
        f"  PSNR            {evaluation.psnr:10.2f} dB (mean over images, peak 1), {tag}\n"
    )
    for note in evaluation.notes:
        out.write(f"note: {note}\n")
    return 0
