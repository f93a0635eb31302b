"""The AE-versus-VAE page: panel.py (settings, the run), maps.py (the two latent maps), pictures.py (decoded prior samples and class-mean path), scores.py (scores, continuity histogram, least real decodings)."""

from .panel import ComparisonPanel

__all__ = ["ComparisonPanel"]
