"""``vae-studio compare``: continuity and completeness of each model's latent space (AE versus VAE).

Either of checkpoints, or with ``--train`` of an AE and a VAE trained alike by the same
experiment the app's AE-vs-VAE panel runs (core.ae_vs_vae), with its defaults, so both show the
same numbers.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields, replace
from typing import TextIO

from ..core.ae_vs_vae import PairSettings, run_experiment
from ..core.comparison import compare_model, reference_data
from ..core.errors import ConfigError
from ..core.text import format_duration
from .loading import load_model

# The flags that set a PairSettings field of the same meaning (flag -> field).
PAIR_FLAGS = {
    "dataset": "dataset", "latent_dim": "latent_dim", "arch": "arch", "epochs": "epochs", "subset": "train_subset",
    "seed": "seed", "device": "device", "threshold": "threshold", "points": "compare_points",
    "samples": "prior_samples", "grid": "grid_size",
}  # fmt: skip
TRAIN_ONLY = ("dataset", "latent_dim", "arch", "epochs", "subset")


def pair_settings(args: argparse.Namespace) -> PairSettings:
    """The settings the flags give (the panel's defaults for those left out), after checking them."""
    if args.train and args.checkpoints:
        raise ConfigError("give checkpoints or --train, not both")
    if not args.train and not args.checkpoints:
        raise ConfigError("give one or more checkpoints to compare, or --train to train an AE and a VAE")
    given = {name for name in TRAIN_ONLY if getattr(args, name) is not None}
    if given and not args.train:
        raise ConfigError(f"--{sorted(given)[0].replace('_', '-')} only applies with --train")
    settings = replace(
        PairSettings(), **{field: getattr(args, flag) for flag, field in PAIR_FLAGS.items() if getattr(args, flag) is not None}
    )
    return settings


def _score_checkpoints(args: argparse.Namespace, settings: PairSettings, err: TextIO) -> list[dict[str, object]]:
    results = []
    for path in args.checkpoints:
        trained = load_model(path, args.device or "cpu")
        # Judged against every training image of its data set, even if it trained on a subset.
        dataset = reference_data(trained.train_config)
        err.write(f"comparing {trained.describe()}\n")
        comparison = compare_model(
            trained,
            dataset,
            points=settings.compare_points,
            prior_samples=settings.prior_samples,
            grid_size=settings.grid_size,
            threshold=settings.threshold,
            seed=0 if args.seed is None else args.seed,
        )
        results.append({"checkpoint": str(path), **comparison.summary()})
    return results


class _StageLine:
    """Prints each stage of the experiment once, and its progress with the ETA on a terminal."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.stage = ""
        self.interactive = err.isatty()

    def __call__(self, stage: str, fraction: float, eta_s: float) -> None:
        if stage != self.stage:
            self.stage = stage
            if not self.interactive:
                self.err.write(f"{stage}…\n")
        if self.interactive:
            self.err.write(f"\r\x1b[K{stage}: {fraction:4.0%}, ETA {format_duration(eta_s)}")
            self.err.flush()


def _train_pair(settings: PairSettings, err: TextIO) -> list[dict[str, object]]:
    err.write(
        f"training an AE and a VAE alike: {settings.arch}, latent size {settings.latent_dim}, {settings.epochs} "
        f"epochs on {settings.train_subset or 'all'} {settings.dataset} images, seed {settings.seed}\n"
    )
    line = _StageLine(err)
    result = run_experiment(settings, progress=line)
    if line.interactive:
        err.write("\n")
    err.write(f"done in {format_duration(result.seconds)}\n")
    return [{"settings": {f.name: getattr(settings, f.name) for f in fields(settings)}, **s} for s in result.summaries()]


def _share(value: object) -> str:
    """A share as a percentage, or "not scored" (no grid was asked for)."""
    return "not scored" if value is None else f"{value:.1%}"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = pair_settings(args)
    err.write("note: the first comparison on a data set trains its realism classifier; later ones reuse it\n")
    results = _train_pair(settings, err) if args.train else _score_checkpoints(args, settings, err)
    if args.json:
        out.write(json.dumps(results) + "\n")
        return 0
    for r in results:
        if r["completeness"] is None:
            complete = "not scored (the data set has no labels)\n"
        else:
            bar = "calibrated" if settings.threshold is None else "fixed"
            complete = (
                f"{r['completeness']:8.1%}  (prior {r['completeness_prior']:.1%}, grid {_share(r['completeness_grid'])})"
                f"  bar {r['threshold']:.0%} ({bar})\n"
                f"                {r['completeness_fixed']:8.1%}  (prior {r['completeness_prior_fixed']:.1%}, "
                f"grid {_share(r['completeness_grid_fixed'])})  bar {r['fixed_threshold']:.0%} "
                "(fixed: also asks for sharpness)\n"
            )
        recon = r["nearest_distance_reconstructions"]
        baseline = "" if recon is None else f" (its reconstructions of test images: {recon:.3f})"
        source = f", {r['checkpoint']}" if "checkpoint" in r else ""
        out.write(
            f"{r['name']} ({r['kind']}{source})\n"
            f"  continuity    {r['continuity']:8.4f}  RMS pixel change per unit of latent spread; lower is smoother\n"
            f"  completeness  {complete}"
            f"  nearest real  {r['nearest_distance']:8.3f}  mean L2 pixel distance of a decoding to a training image"
            f"{baseline}\n"
            f"  note: {r['note']}\n"
        )
    return 0
