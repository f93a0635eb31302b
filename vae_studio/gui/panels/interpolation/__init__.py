"""The interpolation panel: panel.py (the path, its strip and change plot), endpoints.py and endpoint_box.py (the path's ends, the animation), arithmetic.py (latent arithmetic)."""

from .panel import InterpolationPanel

__all__ = ["InterpolationPanel"]
