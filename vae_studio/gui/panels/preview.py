"""The preview: what the decoder makes of the probed latent point, and a close look at the selected test image.

Decoding one point with the MLP takes well under a millisecond, so it runs right here on the GUI
thread, once per PROBE event: Qt already merges mouse moves that arrive faster than the event loop
turns, so a drag cannot pile up decodes. A new model, new weights or a new encoding redraw the
panel at most once per event-loop turn (a training snapshot changes both the weights and the
encoding), and nothing is drawn while the panel is hidden behind another tab (gui/deferred_refresh.py).
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.app_state import POSTERIOR_SAMPLES, AppState, Event
from ...core.latent import decode
from ..work.deferred_refresh import DeferredRefresh
from ..widgets.images import to_qimage, to_qpixmap
from .base import ExportError, Panel

EXPORT_SIDE = 256  # exported decoded images are enlarged (nearest neighbour) to about this side
SHOWN_DIMS = 6  # μ and σ beyond this many dimensions are elided: the panel is narrow
COORD_DIMS = 8


def _format_vector(values: np.ndarray, limit: int) -> str:
    """``[0.12, -1.30, …]`` with at most ``limit`` entries and the dimension count when elided."""
    shown = ", ".join(f"{v:.2f}" for v in values[:limit])
    return f"[{shown}, … ({len(values)} dims)]" if len(values) > limit else f"[{shown}]"


class PixelImageView(QWidget):
    """An image scaled to fit the widget with whole-pixel nearest-neighbour enlargement (crisp, aspect kept)."""

    def __init__(self, placeholder: str = "", minimum: int = 28, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._placeholder = placeholder
        self._minimum = minimum
        self.setMinimumSize(minimum, minimum)

    def image(self) -> np.ndarray | None:
        """The image on show, float (C, H, W) in [0, 1], or None."""
        return self._array

    def set_image(self, image: np.ndarray | None) -> None:
        self._array = image
        self._qimage = None if image is None else to_qimage(image)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self._minimum, self._minimum)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        return width  # square: keeps the decoded image as large as the panel's width allows

    def target_rect(self) -> QRect:
        """Where the image is drawn: the largest whole-pixel multiple that fits (fractional below 1x), centred."""
        assert self._qimage is not None
        w, h = self._qimage.width(), self._qimage.height()
        scale = min(self.width() / w, self.height() / h)
        if scale >= 1:
            scale = float(int(scale))  # every source pixel the same size on screen
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        return QRect((self.width() - tw) // 2, (self.height() - th) // 2, tw, th)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        if self._qimage is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), flags, self._placeholder)
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # nearest neighbour
            painter.drawImage(self.target_rect(), self._qimage)
        painter.end()


def _captioned(view: QWidget, caption: str) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(1)
    layout.addWidget(view, 1)
    label = QLabel(caption, alignment=Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: gray; font-size: 10px;")
    layout.addWidget(label)
    return box


class PreviewPanel(Panel):
    """The decoded probe point, large, with its coordinates; the selected test image's original,
    reconstruction and posterior."""

    name = "preview"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.decodedView = PixelImageView("Click or drag on the latent map to decode a point", minimum=112)
        self.decodedView.setObjectName("decodedView")
        self.decodedView.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.coordsLabel = QLabel(objectName="coordsLabel", alignment=Qt.AlignmentFlag.AlignCenter)
        self.coordsLabel.setFont(mono)
        self.coordsLabel.setWordWrap(True)
        self.coordsLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.selectionBox = QGroupBox(objectName="selectionBox")
        self.originalView = PixelImageView(minimum=56)
        self.originalView.setObjectName("originalView")
        self.reconstructionView = PixelImageView(minimum=56)
        self.reconstructionView.setObjectName("reconstructionView")
        self.statsLabel = QLabel(objectName="statsLabel")
        self.statsLabel.setFont(mono)
        self.statsLabel.setWordWrap(True)
        self.statsLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sampleViews = [PixelImageView(minimum=28) for _ in range(POSTERIOR_SAMPLES)]
        self.samplesRow = QWidget(objectName="samplesRow")
        samples_layout = QGridLayout(self.samplesRow)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.setSpacing(2)
        for i, view in enumerate(self.sampleViews):
            samples_layout.addWidget(view, 0, i)
        self._samples_caption = QLabel(
            f"{POSTERIOR_SAMPLES} samples z ~ q(z|x), decoded (the ✕ marks on the map)",
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        self._samples_caption.setStyleSheet("color: gray; font-size: 10px;")
        pair = QHBoxLayout()
        pair.addWidget(_captioned(self.originalView, "original"))
        pair.addWidget(_captioned(self.reconstructionView, "reconstruction (decoded μ)"))
        box_layout = QVBoxLayout(self.selectionBox)
        box_layout.addLayout(pair)
        box_layout.addWidget(self.statsLabel)
        box_layout.addWidget(self.samplesRow)
        box_layout.addWidget(self._samples_caption)
        self.selectionBox.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.decodedView, 1)
        layout.addWidget(self.coordsLabel)
        layout.addWidget(self.selectionBox)

        # The probe's decoding is redrawn at once on screen (and when the panel comes on screen);
        # the selected image's ten decodings once per event-loop turn of changes.
        self._updates = DeferredRefresh(self, self._show_selection)
        self._updates.on_screen_changed.connect(self._on_screen_changed)
        self.subscribe(self._on_probe, Event.PROBE)
        self.subscribe(self._on_selection, Event.SELECTION)
        self.subscribe(self._on_model, Event.CURRENT_MODEL, Event.WEIGHTS)
        self.subscribe(self._updates.request, Event.ENCODING, Event.DATASET)
        self._show_probe()
        self._show_selection()

    def _on_probe(self) -> None:
        # A click or drag on the map: answered in the same turn (the click-to-preview latency).
        if self._updates.on_screen():
            self._show_probe()

    def _on_selection(self) -> None:
        if self._updates.on_screen():
            self._show_probe()  # a CVAE decodes the probe with the selected image's class
        self._updates.now_or_when_shown(self._show_selection)

    def _on_model(self) -> None:
        """Another model or new weights: every decoding changes (the probe's at once: ``image()`` is exact)."""
        if self._updates.on_screen():
            self._show_probe()
        self._updates.request()

    def _on_screen_changed(self, shown: bool) -> None:
        if shown:
            self._show_probe()  # the probe or the model may have changed meanwhile

    def _show_probe(self) -> None:
        current, probe = self.state.current, self.state.probe
        if current is None or probe is None or len(probe) != current.config.latent_dim:
            self.decodedView.set_image(None)
            self.coordsLabel.setText("")
            return
        label = self.state.decode_label()
        self.decodedView.set_image(decode(current.model, probe, label)[0])
        text = f"z = {_format_vector(probe, COORD_DIMS)}"
        if label is not None:
            names = current.class_names
            text += f"\ndecoded as class {names[label] if label < len(names) else label}"
        self.coordsLabel.setText(text)

    def export_image(self, path: str | os.PathLike[str]) -> None:
        """Save the last decoded image as a PNG, enlarged to about EXPORT_SIDE pixels with crisp pixels."""
        image = self.decodedView.image()
        if image is None:
            raise ExportError("no image has been decoded yet: click a point on the latent map first.")
        scale = max(1, EXPORT_SIDE // max(image.shape[-2:]))
        if not to_qpixmap(image, scale).save(str(path), "PNG"):
            raise ExportError("the file could not be written.")

    def _show_selection(self) -> None:
        state = self.state
        index, dataset, current, encoding = state.selected_index, state.dataset, state.current, state.encoding
        if index is None or dataset is None or index >= len(dataset.test_images):
            self.selectionBox.hide()
            return
        labels = dataset.test_labels
        name = ""
        if labels is not None and dataset.class_names:
            name = f" · {dataset.class_names[int(labels[index])]}"
        self.selectionBox.setTitle(f"Test image #{index}{name}")
        self.originalView.set_image(dataset.test_images[index].numpy() / 255.0)
        usable = (
            current is not None
            and encoding is not None
            and index < len(encoding.mu)
            and encoding.mu.shape[1] == current.config.latent_dim
        )
        if not usable:
            self.reconstructionView.set_image(None)
            self.statsLabel.setText("Encoding the test split…" if current is not None else "")
            self.samplesRow.hide()
            self._samples_caption.hide()
            self.selectionBox.show()
            return
        assert current is not None and encoding is not None
        model, label = current.model, state.decode_label()
        mu = encoding.mu[index]
        self.reconstructionView.set_image(decode(model, mu, label)[0])
        stats = f"μ = {_format_vector(mu, SHOWN_DIMS)}"
        variational = encoding.logvar is not None
        if variational:
            logvar = encoding.logvar[index]
            stats += f"\nσ = {_format_vector(np.exp(0.5 * logvar), SHOWN_DIMS)}"
            samples = decode(model, state.selection_samples(), label)
            for view, image in zip(self.sampleViews, samples):
                view.set_image(image)
        self.statsLabel.setText(stats)
        self.samplesRow.setVisible(variational)
        self._samples_caption.setVisible(variational)
        self.selectionBox.show()
