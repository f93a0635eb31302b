"""``vae-studio compare``: continuity and completeness of each model's latent space (AE versus VAE)."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ..core.comparison import compare_model, reference_data
from ..core.errors import ConfigError
from .loading import load_model


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.points < 2 or args.samples < 1 or args.grid < 2:
        raise ConfigError("--points and --grid must be at least 2 and --samples at least 1")
    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise ConfigError(f"--threshold must be a probability in (0, 1]; got {args.threshold}")
    results = []
    err.write("note: the first comparison on a data set trains its realism classifier; later ones reuse it\n")
    for path in args.checkpoints:
        trained = load_model(path, args.device)
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
