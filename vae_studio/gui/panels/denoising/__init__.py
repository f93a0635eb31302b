"""The denoising panel: panel.py (the test images' grid with PSNRs), layout.py (its widgets and tabs), user_image.py (the user's own image); the drawing canvas is gui/widgets/drawing_canvas.py."""

from .panel import DenoisingPanel

__all__ = ["DenoisingPanel"]
