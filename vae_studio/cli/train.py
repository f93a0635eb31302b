"""``vae-studio train``: train a model and write one checkpoint file."""

from __future__ import annotations

import argparse
import signal
from typing import TextIO

from ..core.checkpoint import save_checkpoint
from ..core.config import TrainConfig
from ..core.data import parse_class_list
from ..core.device import resolve_device
from ..core.recipe import new_trained_model, training_data
from ..core.threads import ThreadGovernor
from ..core.trainer import RunControl, Trainer
from .progress import ProgressPrinter


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = TrainConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        beta=args.beta,
        warmup_epochs=args.warmup,
        seed=args.seed,
        device=args.device,
        corruption=args.corruption,
        noise_level=args.noise_level,
        binarize=args.binarize,
        classes=tuple(parse_class_list(args.classes)) if args.classes else None,
        train_subset=args.subset,
        image_size=args.image_size,
        channels=args.channels,
    )
    device = resolve_device(config.device)
    dataset = training_data(config)
    trained = new_trained_model(
        dataset,
        config,
        args.name or args.out.stem,
        kind=args.model,
        arch=args.arch,
        latent_dim=args.latent_dim,
        hidden_sizes=args.hidden,
        conv_channels=args.conv_channels,
        likelihood=args.likelihood,
    )
    for note in dataset.notes:
        err.write(f"note: {note}\n")
    err.write(
        f"Training {trained.describe()} ({len(dataset.train_images)} train / {len(dataset.test_images)} test "
        f"images, {dataset.image_shape}) on {device}\n"
    )
    control = RunControl()
    trainer = Trainer(trained.model.to(device), dataset, config, history=trained.history, control=control, device=device)
    printer = ProgressPrinter(err, config.epochs)
    trainer.on_step(printer.step)
    trainer.on_step(ThreadGovernor().on_step)  # fewer threads while another program takes a core
    trainer.on_epoch(printer.epoch)
    # Ctrl-C stops between batches; what was trained so far is still saved.
    previous = signal.signal(signal.SIGINT, lambda *_: control.stop())
    try:
        result = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    path = save_checkpoint(trained, args.out)
    err.write(f"{result.message}\n")
    out.write(f"saved {path}\n")
    return 1 if result.status == "diverged" else 0
