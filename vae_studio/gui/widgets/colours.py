"""The app's palette, in one place: class colours shared by every view that colours points by class (the
latent map, comparison, replay), so a class has the same colour everywhere, and the colours of other
series (loss terms, normal versus outlier scores, active dimensions, a path's change)."""

from __future__ import annotations

from PySide6.QtGui import QColor

# Matplotlib's qualitative palettes, so class colours match the figures students already know.
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip
UNLABELLED = "#b4b4b4"

# Okabe & Ito's colour-blind-safe palette (and Paul Tol's red), for series that are not classes.
BLUE = (0, 114, 178)
ORANGE = (230, 159, 0)
GREEN = (0, 158, 115)
VERMILLION = (213, 94, 0)
RED = (204, 51, 17)
GREY = (170, 170, 170)


def class_colours(n: int) -> list[QColor]:
    """A fixed qualitative colour per class: tab10, tab20, then evenly spread hues for more classes."""
    if n <= len(TAB10):
        return [QColor(c) for c in TAB10[:n]]
    if n <= len(TAB20):
        return [QColor(c) for c in TAB20[:n]]
    # Golden-ratio hue steps keep neighbouring class indices far apart in hue.
    return [QColor.fromHsvF((i * 0.6180339887) % 1.0, 0.65, 0.95) for i in range(n)]
