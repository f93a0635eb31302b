"""The argument parser of every command. Torch-free, so ``vae-studio --help`` answers at once."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.config import TrainConfig
from ..core.vocabulary import (
    ANOMALY_SCORES,
    ARCHS,
    BINARIZATIONS,
    CHECKPOINT_SUFFIX,
    CORRUPTIONS,
    DATASET_CHOICES,
    DEVICE_CHOICES,
    FIXED_REALISM_THRESHOLD,
    LIKELIHOODS,
    MODEL_KINDS,
)

# Each command's module under vae_studio.cli, imported only when that command runs.
COMMANDS: tuple[str, ...] = ("train", "evaluate", "anomaly", "sample", "encode", "compare")


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _add_threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="CPU threads for torch (default: the cores other programs leave free)")


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
    p.add_argument("--out", required=True, type=Path, help=f"checkpoint file to write (*{CHECKPOINT_SUFFIX})")
    _add_threads_option(p)


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
        _add_threads_option(p)
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
    _add_threads_option(p)
    p.add_argument("--points", type=int, default=500, help="test images whose codes continuity is measured around")
    p.add_argument("--samples", type=int, default=200, help="prior samples judged for completeness")
    p.add_argument("--grid", type=int, default=10,
                   help="side of the grid over the region the codes occupy (the middle 98%% on each axis)")
    p.add_argument("--threshold", type=float, default=None,
                   help="a fixed classifier confidence from which a decoding counts as real (default: calibrated per "
                        "model, the level 95%% of its reconstructions of test images reach, at least 50%%; the "
                        f"figures at a fixed {FIXED_REALISM_THRESHOLD:.0%}% are shown too)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per checkpoint in order")
    return parser
