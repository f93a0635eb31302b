"""``vae-studio anomaly``: how well a model tells outliers from its normal test images."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TextIO

from ..core.anomaly import anomaly_data, detect_anomalies
from ..core.roc import summarize, threshold_at_false_positive_rate
from ..core.vocabulary import SCORE_DESCRIPTIONS
from .loading import load_model
from .progress import ImageProgress


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = load_model(args.checkpoint, args.device)
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
        "normal": asdict(summarize(result.normal_scores)),
        "outliers": asdict(summarize(result.outlier_scores)),
        "normal_data": data.normal_description,
        "outlier_data": data.outlier_description,
        "binarize": config.binarize,
        "outliers_in_training": data.outliers_in_training,
        "threshold_5pct_fpr": asdict(at_threshold),
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
