"""The notice over the latent map: shown with its sentences, fitted to them, out of the way of clicks."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from layout_checks import clipped_labels  # tests/gui is on the path: pytest puts a test file's folder there
from vae_studio.core.latent import Encoding
from vae_studio.core.map_notices import map_notices
from vae_studio.gui.widgets.notices import MapNotice


def collapsed() -> Encoding:
    mu = np.random.default_rng(0).normal(0, 0.001, (500, 8)).astype(np.float32)
    return Encoding(mu, np.zeros_like(mu))


def test_the_map_notice_shows_the_core_notices_and_fits_them(qtbot) -> None:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(700, 500)
    plot.show()
    notice = MapNotice(plot)
    assert not notice.isVisible()
    notices = map_notices(collapsed())
    notice.set_notices(notices)
    QApplication.processEvents()
    assert notice.isVisible() and notice.text().splitlines() == notices
    assert notice.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # clicks reach the map
    assert notice.geometry().right() < plot.width() and notice.width() <= 0.6 * plot.width()
    assert clipped_labels(plot) == []
    # A narrower map: the notice wraps to more lines and grows taller, still whole.
    height = notice.height()
    plot.resize(360, 500)
    QApplication.processEvents()
    assert notice.height() > height and notice.geometry().right() < plot.width()
    assert clipped_labels(plot) == []
    notice.set_notices([])
    assert not notice.isVisible()
