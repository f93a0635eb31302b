"""A grid of small decoded images with optional row, column and cell captions.

The exploration panels show many 28x28 decodings at once (interpolation strips, traversal grids,
sample grids). Drawing them as individual crisp QImages in one widget keeps the pixels sharp
(whole-pixel nearest-neighbour enlargement), the captions aligned with their cells, and layouts
cheap: there is one widget per grid, not one per image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .images import to_qimage, to_qpixmap

HIGHLIGHT = QColor(255, 200, 40)  # the same amber as the path the latent map draws for an interpolation
FLAG = QColor(220, 50, 47)
ENLARGED_SIDE = 336  # pixels: a 28-pixel image at 12x, large enough to see single pixels on a laptop


class ImageGridView(QWidget):
    """Images (rows, cols, C, H, W) in [0, 1], each cell enlarged by the largest whole factor that fits.

    ``row_labels`` go left of the rows, ``column_labels`` above the columns, ``captions`` (one per
    cell, row-major) under each cell; ``flagged`` cells get a red frame and the highlighted cell an
    amber one. Below 1x (a grid larger than the widget) cells shrink smoothly instead. The grid is
    centred across the widget and drawn from its top.
    """

    cellClicked = Signal(int, int)  # row, column; a double-click enlarges the cell (enlarge)

    def __init__(
        self,
        placeholder: str = "",
        parent: QWidget | None = None,
        *,
        gap: int = 2,
        natural_scale: int = 2,
        height_for_width: bool = False,
    ) -> None:
        super().__init__(parent)
        # The enlargement the grid asks its layout for; it still grows with the room it is given.
        self.natural_scale = natural_scale
        # Opt-in: a scroll area sizes a panel by its height-for-width, which for a panel holding plots
        # is their (large) preferred height rather than what fits the dock.
        self._height_for_width = height_for_width
        self._images: np.ndarray | None = None
        self._qimages: list[QImage] = []
        self._row_labels: list[str] = []
        self._column_labels: list[str] = []
        self._captions: list[str] = []
        self._flagged: np.ndarray | None = None
        self._highlight: tuple[int, int] | None = None
        self._placeholder = placeholder
        self._gap = gap
        font = self.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(40, 40)
        self.setToolTip("Double-click an image to see it enlarged")

    # -- content ---------------------------------------------------------------------------
    def images(self) -> np.ndarray | None:
        """The images on show, (rows, cols, C, H, W), or None."""
        return self._images

    def set_images(
        self,
        images: np.ndarray | None,
        *,
        row_labels: Sequence[str] = (),
        column_labels: Sequence[str] = (),
        captions: Sequence[str] = (),
        flagged: np.ndarray | None = None,
    ) -> None:
        if images is not None:
            images = np.asarray(images)
            if images.ndim == 4:
                images = images[None]  # one strip
            if images.ndim != 5:
                raise ValueError(f"expected images (rows, cols, C, H, W); got shape {images.shape}")
        self._images = images
        self._qimages = [] if images is None else [to_qimage(image) for image in images.reshape(-1, *images.shape[2:])]
        self._row_labels = list(row_labels)
        self._column_labels = list(column_labels)
        self._captions = list(captions)
        self._flagged = None if flagged is None else np.asarray(flagged, bool).reshape(-1)
        if images is None or self._highlight is None or not self._inside(*self._highlight):
            self._highlight = None
        self.updateGeometry()
        self.update()

    def placeholder(self) -> str:
        """The text shown while there are no images."""
        return self._placeholder

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_highlight(self, cell: tuple[int, int] | None) -> None:
        self._highlight = cell if cell is not None and self._inside(*cell) else None
        self.update()

    def highlight(self) -> tuple[int, int] | None:
        return self._highlight

    def _inside(self, row: int, col: int) -> bool:
        return self._images is not None and 0 <= row < self._images.shape[0] and 0 <= col < self._images.shape[1]

    # -- geometry ----------------------------------------------------------------------------
    def _margins(self) -> tuple[int, int, int]:
        """Room for row labels (left), column labels (top) and captions (under each cell), in pixels."""
        metrics = self.fontMetrics()
        left = max((metrics.horizontalAdvance(text) for text in self._row_labels), default=0)
        left = left + 6 if left else 0
        top = metrics.height() + 2 if self._column_labels else 0
        caption = metrics.height() if self._captions else 0
        return left, top, caption

    def _cell_size(self) -> tuple[float, int, int]:
        """(scale, cell width, cell height) of the image part of a cell for the widget's current size."""
        assert self._images is not None
        rows, cols, _, h, w = self._images.shape
        left, top, caption = self._margins()
        avail_w = (self.width() - left - self._gap * (cols - 1)) / cols
        avail_h = (self.height() - top - self._gap * (rows - 1)) / rows - caption
        scale = max(min(avail_w / w, avail_h / h), 0.05)
        if scale >= 1:
            scale = float(int(scale))  # every source pixel the same size on screen
        return scale, max(1, round(w * scale)), max(1, round(h * scale))

    def cell_rect(self, row: int, col: int) -> QRect:
        """Where cell (row, col)'s image is drawn, in widget coordinates."""
        assert self._images is not None
        cols = self._images.shape[1]
        left, top, caption = self._margins()
        _, cw, ch = self._cell_size()
        grid_w = left + cols * cw + (cols - 1) * self._gap
        x0 = (self.width() - grid_w) // 2 + left
        y0 = top  # top-aligned: the grid stays next to the controls above it when the widget is taller
        return QRect(x0 + col * (cw + self._gap), y0 + row * (ch + caption + self._gap), cw, ch)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        if self._images is None:
            return QSize(160, 80)
        rows, cols, _, h, w = self._images.shape
        left, top, caption = self._margins()
        scale = self.natural_scale
        return QSize(left + cols * (scale * w + self._gap), top + rows * (scale * h + caption + self._gap))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(40, 40)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return self._height_for_width and self._images is not None

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """The height the grid takes at the scale ``width`` allows (at most its natural scale), so a layout
        that has room does not leave an empty band under the grid."""
        assert self._images is not None
        rows, cols, _, h, w = self._images.shape
        left, top, caption = self._margins()
        scale = min((width - left - self._gap * (cols - 1)) / (cols * w), float(self.natural_scale))
        scale = float(int(scale)) if scale >= 1 else max(scale, 0.05)
        return top + rows * (round(h * scale) + caption) + (rows - 1) * self._gap

    # -- painting and mouse --------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        if self._images is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder
            )
            painter.end()
            return
        rows, cols = self._images.shape[:2]
        scale, _, _ = self._cell_size()
        # Nearest neighbour at whole factors keeps pixels crisp; smooth below 1x avoids aliasing.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        metrics = self.fontMetrics()
        text_colour = self.palette().windowText().color()
        for row in range(rows):
            for col in range(cols):
                rect = self.cell_rect(row, col)
                index = row * cols + col
                painter.drawImage(rect, self._qimages[index])
                if self._flagged is not None and index < len(self._flagged) and self._flagged[index]:
                    painter.setPen(QPen(FLAG, 2))
                    painter.drawRect(rect.adjusted(0, 0, -1, -1))
                if index < len(self._captions):
                    painter.setPen(text_colour)
                    caption = QRect(rect.left() - self._gap, rect.bottom() + 1, rect.width() + 2 * self._gap, metrics.height())
                    painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, metrics.elidedText(
                        self._captions[index], Qt.TextElideMode.ElideRight, caption.width()
                    ))
            if row < len(self._row_labels):
                rect = self.cell_rect(row, 0)
                painter.setPen(text_colour)
                label = QRect(0, rect.top(), rect.left() - 4, rect.height())
                painter.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._row_labels[row])
        for col, text in enumerate(self._column_labels[:cols]):
            rect = self.cell_rect(0, col)
            painter.setPen(text_colour)
            header = QRect(rect.left() - self._gap, rect.top() - metrics.height() - 2, rect.width() + 2 * self._gap, metrics.height())
            painter.drawText(header, Qt.AlignmentFlag.AlignCenter, metrics.elidedText(text, Qt.TextElideMode.ElideRight, header.width()))
        if self._highlight is not None:
            painter.setPen(QPen(HIGHLIGHT, 2))
            painter.drawRect(self.cell_rect(*self._highlight).adjusted(-1, -1, 0, 0))
        painter.end()

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The cell whose image contains widget position (x, y), or None."""
        if self._images is None:
            return None
        rows, cols = self._images.shape[:2]
        for row in range(rows):
            for col in range(cols):
                if self.cell_rect(row, col).contains(x, y):
                    return row, col
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        cell = self.cell_at(int(event.position().x()), int(event.position().y()))
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cellClicked.emit(*cell)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        cell = self.cell_at(int(event.position().x()), int(event.position().y()))
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.enlarge(*cell)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def enlarge(self, row: int, col: int) -> QDialog:
        """A window of its own showing one cell's image at about ENLARGED_SIDE pixels, with its caption."""
        assert self._images is not None
        image = self._images[row, col]
        dialog = QDialog(self, objectName="enlargedImage")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        index = row * self._images.shape[1] + col
        caption = self._captions[index] if index < len(self._captions) else ""
        parts = [
            self._row_labels[row] if row < len(self._row_labels) else "",
            self._column_labels[col] if col < len(self._column_labels) else "",
            caption,
        ]
        dialog.setWindowTitle(" · ".join(part for part in parts if part) or "Image")
        picture = QLabel(objectName="enlargedPicture")
        picture.setPixmap(to_qpixmap(image, max(1, ENLARGED_SIDE // max(image.shape[-2:]))))
        layout = QVBoxLayout(dialog)
        layout.addWidget(picture)
        dialog.show()
        return dialog
