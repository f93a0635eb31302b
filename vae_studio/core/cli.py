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
from .anomaly import (
    ANOMALY_SCORES,
    SCORE_DESCRIPTIONS,
    anomaly_data,
    detect_anomalies,
    summarize,
    threshold_at_false_positive_rate,
)
from .checkpoint import FILE_SUFFIX, load_checkpoint, save_checkpoint
from .comparison import DEFAULT_THRESHOLD, compare_model, reference_data
from .config import ARCHS, BINARIZATIONS, CORRUPTIONS, LIKELIHOODS, MODEL_KINDS, TrainConfig
from .data import DATASET_CHOICES, parse_class_list
from .device import DEVICE_CHOICES, resolve_device
from .errors import ConfigError, VaeStudioError
from .evaluation import BINARIZATION_LABELS, evaluate_model
from .recipe import new_trained_model, training_data
from .text import format_duration
from .trainer import EpochReport, RunControl, StepReport, Trainer
from .trained_model import TrainedModel


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None



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
            f"ETA {format_duration(r.eta_s)}"
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
    p.add_argument("--lr-decay", type=float, default=d.lr_decay, help="learning rate factor per epoch, e.g. 0.98")
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


class ImageProgress:
    """A progress callback for long per-image work: one self-overwriting line on a terminal,
    a line every 10% otherwise, with images/s and the time left."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self._start = time.perf_counter()
        self._last = 0.0
        self._last_tenth = -1
        self._interactive = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        elapsed = now - self._start
        eta = elapsed / done * (total - done) if done else math.inf
        rate = done / max(elapsed, 1e-9)
        line = f"{self.label}: {done}/{total} images, {rate:.1f} images/s, ETA {format_duration(eta)}"
        if self._interactive:
            if now - self._last >= 0.2 or done == total:
                self._last = now
                self.stream.write("\r\x1b[K" + line + ("\n" if done == total else ""))
                self.stream.flush()
        elif done * 10 // total > self._last_tenth:
            self._last_tenth = done * 10 // total
            self.stream.write(line + "\n")
            self.stream.flush()


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = _load(args.checkpoint, args.device)
    dataset = training_data(trained.train_config)
    labels = dataset.test_labels if trained.config.conditional else None
    binarize = trained.train_config.binarize
    if args.iw_samples is not None and args.iw_samples < 1:
        raise ConfigError(f"--iw-samples must be at least 1; got {args.iw_samples}")
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


def cmd_anomaly(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = _load(args.checkpoint, args.device)
    config = trained.train_config
    data = anomaly_data(config, args.outliers)
    progress = None if args.json else ImageProgress(err, f"scoring ({args.score})")
    result = detect_anomalies(
        trained.model, data.normal, data.outliers, score=args.score, binarize=config.binarize, progress=progress
    )
    threshold = threshold_at_false_positive_rate(result.normal_scores, 0.05)
    at_threshold = result.at_threshold(threshold)
    report = {
        "auc": result.auc,
        "score": args.score,
        "score_description": SCORE_DESCRIPTIONS[args.score],
        "n_normal": len(result.normal_scores),
        "n_outliers": len(result.outlier_scores),
        "normal": summarize(result.normal_scores).as_dict(),
        "outliers": summarize(result.outlier_scores).as_dict(),
        "normal_data": data.normal_description,
        "outlier_data": data.outlier_description,
        "binarize": config.binarize,
        "outliers_in_training": data.outliers_in_training,
        "threshold_5pct_fpr": at_threshold.as_dict(),
        "notes": list(data.notes),
    }
    if args.json:
        out.write(json.dumps(report) + "\n")
        return 0
    out.write(f"{trained.describe()}\n")
    out.write(f"score: {SCORE_DESCRIPTIONS[args.score]}, binarization: {config.binarize}\n")
    for name, scores, description in (
        ("normal", result.normal_scores, data.normal_description),
        ("outliers", result.outlier_scores, data.outlier_description),
    ):
        s = summarize(scores)
        out.write(
            f"  {name:<9} {s.n:6d} images ({description}): mean {s.mean:.2f}, std {s.std:.2f}, "
            f"median {s.median:.2f}, min {s.min:.2f}, max {s.max:.2f}\n"
        )
    out.write(f"AUC {result.auc:.4f}\n")
    out.write(
        f"flagging scores >= {threshold:.2f} (5% of normal images): precision {at_threshold.precision:.3f}, "
        f"recall {at_threshold.recall:.3f}\n"
    )
    for note in data.notes:
        out.write(f"warning: {note}\n")
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


def cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.points < 2 or args.samples < 1 or args.grid < 2:
        raise ConfigError("--points and --grid must be at least 2 and --samples at least 1")
    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise ConfigError(f"--threshold must be a probability in (0, 1]; got {args.threshold}")
    results = []
    err.write("note: the first comparison on a data set trains its realism classifier; later ones reuse it\n")
    for path in args.checkpoints:
        trained = _load(path, args.device)
        # Judged against every training image of its data set, even if it trained on a subset.
        dataset = reference_data(trained.train_config)
        err.write(f"comparing {trained.describe()}\n")
        comparison = compare_model(
            trained,
            dataset,
            points=args.points,
            prior_samples=args.samples,
            grid_size=args.grid,
            threshold=args.threshold,
            seed=args.seed,
        )
        results.append({"checkpoint": str(path), **comparison.summary()})
    if args.json:
        out.write(json.dumps(results) + "\n")
        return 0
    for r in results:
        if r["completeness"] is None:
            complete = "not scored (the data set has no labels)\n"
        else:
            bar = "calibrated" if args.threshold is None else "fixed"
            complete = (
                f"{r['completeness']:8.1%}  (prior {r['completeness_prior']:.1%}, grid {r['completeness_grid']:.1%})"
                f"  bar {r['threshold']:.0%} ({bar})\n"
                f"                {r['completeness_fixed']:8.1%}  (prior {r['completeness_prior_fixed']:.1%}, "
                f"grid {r['completeness_grid_fixed']:.1%})  bar {r['fixed_threshold']:.0%} "
                "(fixed: also asks for sharpness)\n"
            )
        recon = r["nearest_distance_reconstructions"]
        baseline = "" if recon is None else f" (its reconstructions of test images: {recon:.3f})"
        out.write(
            f"{r['name']} ({r['kind']}, {r['checkpoint']})\n"
            f"  continuity    {r['continuity']:8.4f}  RMS pixel change per unit of latent spread; lower is smoother\n"
            f"  completeness  {complete}"
            f"  nearest real  {r['nearest_distance']:8.3f}  mean L2 pixel distance of a decoding to a training image"
            f"{baseline}\n"
            f"  note: {r['note']}\n"
        )
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
    p.add_argument("--iw-samples", type=int, default=None, metavar="K",
                   help="also estimate -log p(x) with K importance samples (Burda et al. 2016; 5000 is usual)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampling noise")
    p = checkpoint_parser("anomaly", "anomaly detection: AUC of telling outliers from the normal test images")
    p.add_argument("--outliers", required=True, metavar="DATASET_OR_CLASSES",
                   help="held-out classes of the model's data set (e.g. 9 or 8-9) or another data set")
    p.add_argument("--score", choices=ANOMALY_SCORES, default="recon",
                   help="recon: reconstruction error; elbo: negative ELBO (VAEs)")
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
    p = sub.add_parser("compare", help="continuity and completeness of each model's latent space (AE versus VAE)")
    p.add_argument("checkpoints", type=Path, nargs="+")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="cpu")
    p.add_argument("--points", type=int, default=500, help="test images whose codes continuity is measured around")
    p.add_argument("--samples", type=int, default=200, help="prior samples judged for completeness")
    p.add_argument("--grid", type=int, default=10,
                   help="side of the grid over the region the codes occupy (the middle 98%% on each axis)")
    p.add_argument("--threshold", type=float, default=None,
                   help="a fixed classifier confidence from which a decoding counts as real (default: calibrated per "
                        "model, the level 95%% of its reconstructions of test images reach, at least 50%%; the "
                        f"figures at a fixed {DEFAULT_THRESHOLD:.0%}% are shown too)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per checkpoint in order")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "anomaly": cmd_anomaly,
    "sample": cmd_sample,
    "encode": cmd_encode,
    "compare": cmd_compare,
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
