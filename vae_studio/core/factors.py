"""How well latent dimensions match known generative factors (the ``shapes`` data set's shape,
scale, rotation, x and y, in ``ImageDataset.test_factors`` with ``factor_names``).

Two measures per (dimension, factor) pair: the absolute Pearson correlation, which sees linear
relations, and the mutual information from a 2-D histogram, which also sees non-linear ones and
suits categorical factors such as the shape class. MI is normalised by the factor's entropy, as
in the Mutual Information Gap (Chen et al. 2018, "Isolating sources of disentanglement in VAEs"),
so 1 means the dimension determines the factor completely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_BINS = 20


def abs_correlation(z: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between each column of z (N, d) and of factors (N, F), shape (d, F);
    0 where either column is constant (the correlation is undefined there)."""
    z = np.asarray(z, np.float64)
    factors = np.asarray(factors, np.float64)
    zc = z - z.mean(axis=0)
    fc = factors - factors.mean(axis=0)
    z_norm = np.linalg.norm(zc, axis=0)
    f_norm = np.linalg.norm(fc, axis=0)
    denominator = np.outer(z_norm, f_norm)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(zc.T @ fc) / denominator
    return np.where(denominator > 0, corr, 0.0)


def discretize(values: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Integer codes (N,) for one variable: its distinct values when there are at most ``bins`` of
    them (a categorical factor keeps its categories), else ``bins`` equal-width bins."""
    values = np.asarray(values, np.float64)
    distinct, codes = np.unique(values, return_inverse=True)
    if len(distinct) <= bins:
        return codes.reshape(-1)
    edges = np.linspace(values.min(), values.max(), bins + 1)
    return np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)


def _entropy(codes: np.ndarray) -> float:
    p = np.bincount(codes) / len(codes)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats from the joint histogram of two integer code arrays."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= len(a)
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float((joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])).sum())


def normalized_mutual_information(z: np.ndarray, factors: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """I(z_j; v_k) / H(v_k) for each latent dimension j and factor k, shape (d, F), in [0, 1].

    The histogram ("plug-in") estimate is biased upwards by about (bins_z - 1)(bins_v - 1) / 2N
    nats (Paninski 2003); with 20 bins and a few thousand points that is about 1% of H(v).
    A constant factor (H = 0) gets 0.
    """
    z = np.asarray(z, np.float64)
    factors = np.asarray(factors, np.float64)
    z_codes = [discretize(z[:, j], bins) for j in range(z.shape[1])]
    mi = np.zeros((z.shape[1], factors.shape[1]))
    for k in range(factors.shape[1]):
        v = discretize(factors[:, k], bins)
        h = _entropy(v)
        if h > 0:
            mi[:, k] = [_mutual_information(zj, v) / h for zj in z_codes]
    return np.clip(mi, 0.0, 1.0)


@dataclass(frozen=True)
class FactorAnalysis:
    """(d, F) matrices of |correlation| and normalised MI between latent dimensions and factors, the
    best-matching dimension per factor by each, and each factor's MIG: the gap between its largest
    and second-largest normalised MI (high when exactly one dimension captures the factor)."""

    factor_names: tuple[str, ...]
    correlation: np.ndarray
    mutual_information: np.ndarray
    best_by_correlation: np.ndarray
    best_by_mutual_information: np.ndarray
    mig: np.ndarray


def factor_analysis(
    mu: np.ndarray, factors: np.ndarray, factor_names: Sequence[str], bins: int = DEFAULT_BINS
) -> FactorAnalysis:
    """Relate encoded means ``mu`` (N, d) to the true factors (N, F) of the same images."""
    mu = np.asarray(mu, np.float64)
    factors = np.asarray(factors, np.float64)
    if len(mu) != len(factors):
        raise ValueError(f"{len(mu)} encoded points but {len(factors)} factor rows")
    if factors.shape[1] != len(factor_names):
        raise ValueError(f"{factors.shape[1]} factor columns but {len(factor_names)} names")
    corr = abs_correlation(mu, factors)
    mi = normalized_mutual_information(mu, factors, bins)
    top = -np.sort(-mi, axis=0)
    mig = top[0] - (top[1] if len(top) > 1 else 0.0)
    return FactorAnalysis(tuple(factor_names), corr, mi, corr.argmax(axis=0), mi.argmax(axis=0), mig)
