"""The AE-versus-VAE page: panel.py (ComparisonPanel)."""

from .panel import ComparisonPanel

__all__ = ["ComparisonPanel"]
