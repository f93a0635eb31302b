"""How well a score separates outliers from normal images: the ROC curve and its AUC (Fawcett 2006,
"An introduction to ROC analysis"), precision and recall at a threshold, histograms and summaries of
the scores, computed with numpy alone. Higher scores flag outliers; the outliers are the positives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _split(scores: np.ndarray, is_outlier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    is_outlier = np.asarray(is_outlier, dtype=bool).ravel()
    if scores.shape != is_outlier.shape:
        raise ValueError(f"{len(scores)} scores but {len(is_outlier)} outlier flags")
    if is_outlier.all() or not is_outlier.any():
        raise ValueError("ROC analysis needs at least one normal image and one outlier")
    return scores, is_outlier


def roc_auc(scores: np.ndarray, is_outlier: np.ndarray) -> float:
    """Area under the ROC curve, outliers being the positives and high scores flagging them.

    Computed as the Mann-Whitney U statistic over n_pos * n_neg (Hanley & McNeil 1982): the
    probability that a random outlier scores above a random normal image, ties counting 1/2,
    which the mid-ranks of tied scores give exactly.
    """
    scores, is_outlier = _split(scores, is_outlier)
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    # Mid-ranks: every member of a run of equal scores gets the mean of the run's 1-based ranks.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    mid_ranks = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    ranks = np.empty(len(scores))
    ranks[order] = mid_ranks
    n_pos = int(is_outlier.sum())
    n_neg = len(scores) - n_pos
    u = ranks[is_outlier].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


@dataclass(frozen=True)
class RocCurve:
    """ROC points from (0, 0) to (1, 1); point i flags every image scoring >= thresholds[i]
    (thresholds[0] = +inf flags none). Tied scores make one point, so the curve crosses a tie
    diagonally and the trapezoid area equals :func:`roc_auc`."""

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray

    @property
    def auc(self) -> float:
        """Trapezoid area under the curve."""
        fpr, tpr = self.false_positive_rate, self.true_positive_rate
        return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def roc_curve(scores: np.ndarray, is_outlier: np.ndarray) -> RocCurve:
    """The ROC curve of flagging images by ``score >= threshold``, at every distinct score."""
    scores, is_outlier = _split(scores, is_outlier)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_outlier = scores[order], is_outlier[order]
    # The last index of each run of equal scores: a threshold flags a whole run or none of it.
    last = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    true_positives = np.cumsum(sorted_outlier)[last]
    false_positives = (last + 1) - true_positives
    n_pos = int(is_outlier.sum())
    n_neg = len(scores) - n_pos
    return RocCurve(
        np.r_[0.0, false_positives / n_neg],
        np.r_[0.0, true_positives / n_pos],
        np.r_[np.inf, sorted_scores[last]],
    )


@dataclass(frozen=True)
class PrecisionRecall:
    """Flagging every image with ``score >= threshold`` as an outlier: the confusion counts and rates.

    Precision is 1.0 when nothing is flagged (no false alarms), as at the start of a
    precision-recall curve."""

    threshold: float
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int


def precision_recall_at(scores: np.ndarray, is_outlier: np.ndarray, threshold: float) -> PrecisionRecall:
    """Precision (the flagged that are outliers) and recall (the outliers that are flagged)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    is_outlier = np.asarray(is_outlier, dtype=bool).ravel()
    if scores.shape != is_outlier.shape:
        raise ValueError(f"{len(scores)} scores but {len(is_outlier)} outlier flags")
    flagged = scores >= threshold
    tp = int(np.sum(flagged & is_outlier))
    fp = int(np.sum(flagged & ~is_outlier))
    fn = int(np.sum(~flagged & is_outlier))
    tn = int(np.sum(~flagged & ~is_outlier))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return PrecisionRecall(float(threshold), precision, recall, tp, fp, fn, tn)


def threshold_at_false_positive_rate(normal_scores: np.ndarray, rate: float) -> float:
    """The score threshold that flags (about) the fraction ``rate`` of normal images: their
    (1 - rate) quantile, e.g. rate 0.05 -> the 95th percentile of the normal scores."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a false positive rate is between 0 and 1; got {rate}")
    return float(np.quantile(np.asarray(normal_scores, dtype=np.float64), 1.0 - rate))


@dataclass(frozen=True)
class ScoreHistograms:
    """Counts of normal and outlier scores over shared bin ``edges`` (len(edges) = bins + 1)."""

    edges: np.ndarray
    normal: np.ndarray
    outliers: np.ndarray


def score_histograms(normal_scores: np.ndarray, outlier_scores: np.ndarray, bins: int = 50) -> ScoreHistograms:
    """Histograms of both groups over one set of equal-width bins spanning all finite scores."""
    normal = np.asarray(normal_scores, dtype=np.float64)
    outliers = np.asarray(outlier_scores, dtype=np.float64)
    both = np.concatenate([normal, outliers])
    both = both[np.isfinite(both)]
    low, high = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    edges = np.histogram_bin_edges(both, bins=bins, range=(low, high) if high > low else (low - 0.5, low + 0.5))
    return ScoreHistograms(edges, np.histogram(normal, edges)[0], np.histogram(outliers, edges)[0])


@dataclass(frozen=True)
class ScoreSummary:
    """Count, mean, standard deviation, median, minimum and maximum of a group's scores."""

    n: int
    mean: float
    std: float
    median: float
    min: float
    max: float


def summarize(scores: np.ndarray) -> ScoreSummary:
    """The summary statistics of one group of scores."""
    scores = np.asarray(scores, dtype=np.float64)
    if not scores.size:
        raise ValueError("no scores to summarise")
    mean, std, median = float(scores.mean()), float(scores.std()), float(np.median(scores))
    return ScoreSummary(len(scores), mean, std, median, float(scores.min()), float(scores.max()))
