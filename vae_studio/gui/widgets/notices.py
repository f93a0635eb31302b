"""Notices: the one style of a warning sentence in a panel, and the notice drawn over the latent map.

The map's notice (core.map_notices says what) sits in the map's top-left corner in view pixels, so
it stays put while the map is panned or zoomed, and lets clicks through to the map beneath it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

NOTICE_STYLE = "background: #fff3cd; color: #664d03; border: 1px solid #e0c36a; border-radius: 3px; padding: 4px;"
# Pixels between the notice and the map's edges; the notice takes at most this share of the map's width.
_MARGIN = 8
_MAX_WIDTH_SHARE = 0.6


class MapNotice(QLabel):
    """A word-wrapped notice over a view (the latent map's PlotWidget); hidden while there is nothing to say."""

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.setObjectName("mapNotice")
        self.setStyleSheet(NOTICE_STYLE)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        view.installEventFilter(self)

    def set_notices(self, notices: Sequence[str]) -> None:
        """Show these sentences, one a line (none: hide)."""
        self.setText("\n".join(notices))
        self.setVisible(bool(notices))
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        """Top-left of the view, as wide as the text needs up to a share of the view, as tall as it wraps to."""
        view = self.parentWidget()
        available = max(1, min(int(view.width() * _MAX_WIDTH_SHARE), view.width() - 2 * _MARGIN))
        # A word-wrapped label's size hint is a guess at a pleasing shape; unwrapped, it is the text's width.
        self.setWordWrap(False)
        width = min(self.sizeHint().width(), available)
        self.setWordWrap(True)
        self.setGeometry(_MARGIN, _MARGIN, width, self.heightForWidth(width))
        self.raise_()
