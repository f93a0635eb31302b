"""A square canvas to draw a digit on with the mouse, read back as an RGB array."""

from __future__ import annotations


import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


# The drawing canvas: a high-resolution square (scaled to fit the widget) that the core crops, fits
# into 20x20 of 28x28 and centres, as MNIST's digits were prepared. A pen about a tenth of the
# canvas wide gives strokes about MNIST's width once a digit that fills the canvas is scaled down.
CANVAS_SIDE = 224
PEN_WIDTH = 22


class DrawingCanvas(QWidget):
    """A square to draw on with the mouse: a thick white pen on black, kept as a CANVAS_SIDE² image."""

    changed = Signal()  # emitted after every stroke segment and on clear

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage(CANVAS_SIDE, CANVAS_SIDE, QImage.Format.Format_Grayscale8)
        self._image.fill(Qt.GlobalColor.black)
        self._last: QPointF | None = None
        self._blank = True
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setToolTip("Draw a digit with the mouse; the model reconstructs it as you draw.")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(140, 140)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        return width

    @property
    def blank(self) -> bool:
        return self._blank

    def clear(self) -> None:
        self._image.fill(Qt.GlobalColor.black)
        self._blank = True
        self.update()
        self.changed.emit()

    def rgb(self) -> np.ndarray:
        """The drawing as (H, W, 3) floats in [0, 1], the layout core.denoising.user_image_from_rgb takes."""
        image = self._image
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
        grey = pixels[:, : image.width()].astype(np.float64) / 255.0
        return np.repeat(grey[:, :, None], 3, axis=2)

    def target_rect(self) -> QRect:
        """Where the canvas is drawn: the largest centred square that fits the widget."""
        side = min(self.width(), self.height())
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def _to_image(self, position: QPointF) -> QPointF:
        rect = self.target_rect()
        scale = CANVAS_SIDE / max(rect.width(), 1)
        return QPointF((position.x() - rect.left()) * scale, (position.y() - rect.top()) * scale)

    def _draw_to(self, point: QPointF) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), PEN_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        if self._last is None:
            painter.drawPoint(point)
        else:
            painter.drawLine(self._last, point)
        painter.end()
        self._last = point
        self._blank = False
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = None
            self._draw_to(self._to_image(event.position()))
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._draw_to(self._to_image(event.position()))
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self._last = None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = self.target_rect()
        painter.drawImage(rect, self._image)
        painter.setPen(self.palette().mid().color())
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        if self._blank:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "draw here")
        painter.end()
