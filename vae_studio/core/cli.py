"""The command line: ``vae-studio train|evaluate|sample|encode``; no arguments opens the GUI.

It prints the trainer's callbacks (a progress bar with steps/s, loss terms and ETA) the way
the GUI turns them into signals.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from . import latent
from .checkpoint import FILE_SUFFIX, load_checkpoint, save_checkpoint
from .config import ARCHS, BINARIZATIONS, CORRUPTIONS, LIKELIHOODS, MODEL_KINDS, TrainConfig
from .data import DATASET_CHOICES, parse_class_list
from .device import DEVICE_CHOICES, resolve_device
from .errors import VaeStudioError
from .metrics import evaluate_loss
from .recipe import new_trained_model, training_data
from .trainer import EpochReport, RunControl, StepReport, Trainer
from .trained_model import TrainedModel


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressPrinter:
    """Prints step reports as one self-overwriting line and epoch reports as lines of their own."""

    def __init__(self, stream: TextIO, epochs: int, interval_s: float = 0.1) -> None:
        self.stream = stream
        self.epochs = epochs
        self.interval_s = interval_s
        self._last = 0.0
        self._interactive = stream.isatty()

    def step(self, r: StepReport) -> None:
        now = time.perf_counter()
        if now - self._last < self.interval_s and r.step != r.total_steps:
            return
        self._last = now
        done = r.step / r.total_steps
        bar = "#" * int(done * 20)
        line = (
            f"epoch {r.epoch} [{bar:<20}] {done:4.0%} {r.samples_per_s:8.0f} samples/s "
            f"loss {r.loss:8.2f} (recon {r.recon:7.2f}, kl {r.kl:6.2f}, beta {r.beta:.2f}) "
            f"ETA {_format_duration(r.eta_s)}"
        )
        if self._interactive:
            self.stream.write("\r" + line)
            self.stream.flush()

    def epoch(self, r: EpochReport) -> None:
        if self._interactive:
            self.stream.write("\r\x1b[K")
        self.stream.write(
            f"epoch {r.epoch}: train loss {r.train_loss:.2f}, test loss {r.test.loss:.2f} "
            f"(recon {r.test.recon:.2f} + KL {r.test.kl:.2f}) nats/image, {r.seconds:.1f} s\n"
        )
        self.stream.flush()


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model and write one checkpoint file")
    d = TrainConfig()
    p.add_argument("--dataset", default=d.dataset, help=f"{', '.join(DATASET_CHOICES)}, idx:PATH or folder:PATH")
    p.add_argument("--model", choices=MODEL_KINDS, default="vae", help="ae, vae or conditional vae")
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--hidden", type=_int_list, default=(400,), help="MLP hidden widths, e.g. 512,256")
    p.add_argument("--conv-channels", type=_int_list, default=(32, 64))
    p.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli")
    p.add_argument("--beta", type=float, default=d.beta, help="KL weight (beta-VAE)")
    p.add_argument("--warmup", type=float, default=d.warmup_epochs, help="epochs of linear KL warm-up")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.add_argument("--corruption", choices=CORRUPTIONS, default="none", help="denoising: corrupt the input")
    p.add_argument("--noise-level", type=float, default=0.0)
    p.add_argument("--binarize", choices=BINARIZATIONS, default="none")
    p.add_argument("--classes", default=None, help="train on these classes only, e.g. 0-8")
    p.add_argument("--subset", type=int, default=None, help="train on this many random training images")
    p.add_argument("--image-size", type=int, default=28, help="side for folder data sets")
    p.add_argument("--channels", type=int, choices=(1, 3), default=1, help="for folder data sets")
    p.add_argument("--name", default=None, help="the model's name in the app")
    p.add_argument("--out", required=True, type=Path, help=f"checkpoint file to write (*{FILE_SUFFIX})")


def cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = TrainConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
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


def _load(path: Path, device: str) -> TrainedModel:
    return load_checkpoint(path, device=resolve_device(device))


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = _load(args.checkpoint, args.device)
    dataset = training_data(trained.train_config)
    labels = dataset.test_labels if trained.config.conditional else None
    summary = evaluate_loss(trained.model, dataset.test_images, labels, binarize=trained.train_config.binarize)
    result = {**summary.as_dict(), "dataset": trained.train_config.dataset, "binarize": trained.train_config.binarize}
    if args.json:
        out.write(json.dumps(result) + "\n")
    else:
        out.write(
            f"{trained.describe()}\n"
            f"test split of {result['dataset']} ({summary.images} images, binarization: {result['binarize']})\n"
            f"  reconstruction  {summary.recon:10.3f} nats/image\n"
            f"  KL              {summary.kl:10.3f} nats/image\n"
            f"  loss (-ELBO)    {summary.loss:10.3f} nats/image\n"
        )
    return 0


def cmd_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from torchvision.utils import save_image

    trained = _load(args.checkpoint, args.device)
    z = latent.sample_prior(trained.config.latent_dim, args.n, args.temperature, args.seed)
    label = args.label if trained.config.conditional else None
    if trained.config.conditional and label is None:
        label = np.arange(args.n) % trained.config.num_classes
    images = latent.decode(trained.model, z, label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.from_numpy(images), args.out, nrow=max(1, int(math.ceil(math.sqrt(args.n)))), padding=2)
    out.write(f"wrote {args.n} samples to {args.out}\n")
    return 0


def cmd_encode(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = _load(args.checkpoint, args.device)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae-studio",
        description="See how autoencoders and variational autoencoders work. With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command")
    _add_train_parser(sub)

    def checkpoint_parser(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("checkpoint", type=Path)
        p.add_argument("--device", choices=DEVICE_CHOICES, default="cpu")
        return p

    p = checkpoint_parser("evaluate", "test-split reconstruction loss, KL and negative ELBO per image")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = checkpoint_parser("sample", "write a grid of decoded samples from the prior")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--label", type=int, default=None, help="class to generate (conditional models)")
    p.add_argument("--out", type=Path, required=True)
    p = checkpoint_parser("encode", "write the posterior mean (and log variance) of each image as CSV")
    p.add_argument("--split", choices=("train", "test"), default="test")
    p.add_argument("--out", type=Path, required=True)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "sample": cmd_sample,
    "encode": cmd_encode,
}


def run_cli(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one command; user errors print one clear line and return 2 instead of a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return 0
    try:
        return COMMANDS[args.command](args, out, err)
    except VaeStudioError as exc:
        err.write(f"error: {exc}\n")
        return 2
