"""What a scoring run hands back to the anomaly page, and the per-pixel error heat map of its gallery."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import torch

from ....core.anomaly import AnomalyData, AnomalyExamples, AnomalyResult
from ....core.models import AE

SLIDER_STEPS = 1000

ERROR_COLORMAP = "inferno"  # perceptually uniform and dark at zero, so an error-free pixel reads as black


def error_heatmap(error_maps: np.ndarray, vmax: float) -> np.ndarray:
    """Per-pixel errors (k, H, W) -> RGB images (k, 3, H, W) in [0, 1] on one colour scale from 0 to ``vmax``."""
    scaled = np.clip(np.asarray(error_maps, dtype=np.float64) / max(vmax, 1e-12), 0.0, 1.0)
    rgba = pg.colormap.get(ERROR_COLORMAP).map(scaled.ravel(), mode="float")
    return rgba[:, :3].reshape(*scaled.shape, 3).transpose(0, 3, 1, 2).astype(np.float32)


@dataclass(frozen=True)
class AnomalyOutcome:
    """A finished experiment: the data, the scores, and what the gallery needs to redo its top k."""

    data: AnomalyData
    result: AnomalyResult
    images: torch.Tensor  # normal then outlier images, in the order of result.scores
    examples: AnomalyExamples
    model: AE  # the private copy that scored them (the gallery reconstructs with it)
    model_name: str
    binarize: str
