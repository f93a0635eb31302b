"""The clickable latent map: panel.py (encoding and points), view_plane.py (plane, controls, mouse), layers.py (overlays, manifold)."""

from .panel import LatentMapPanel
from .view_plane import anchored

__all__ = ["LatentMapPanel", "anchored"]
