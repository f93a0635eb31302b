"""The evaluate page: panel.py (running an evaluation, estimates), results.py (the table), rows.py (outcome and rows)."""

from .panel import EvaluatePanel

__all__ = ["EvaluatePanel"]
