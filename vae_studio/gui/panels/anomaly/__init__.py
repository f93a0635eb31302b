"""The anomaly-detection page: panel.py (running the scores), layout.py (its widgets), results.py (histograms, ROC, threshold, gallery), outcome.py (a run's result)."""

from .panel import AnomalyPanel

__all__ = ["AnomalyPanel"]
