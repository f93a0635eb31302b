"""numpy images -> Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_uint8_hwc(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] of shape (C, H, W), (H, W, C) with C in (1, 3), or (H, W) -> uint8 (H, W, C)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    elif image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = image.transpose(1, 2, 0)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(image)


def to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (so the numpy array may be freed)."""
    pixels = to_uint8_hwc(image)
    h, w, c = pixels.shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    return QImage(pixels.data, w, h, pixels.strides[0], fmt).copy()


def to_qpixmap(image: np.ndarray, scale: int = 1) -> QPixmap:
    """A pixmap enlarged by an integer ``scale`` with nearest-neighbour sampling, so pixels stay crisp."""
    pixmap = QPixmap.fromImage(to_qimage(image))
    if scale > 1:
        pixmap = pixmap.scaled(pixmap.width() * scale, pixmap.height() * scale)  # default mode: no smoothing
    return pixmap
