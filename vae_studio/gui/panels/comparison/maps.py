"""The AE-versus-VAE page's two latent maps: codes, decoded plane, the prior's circles and the class-mean path (a mixin)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from ...widgets.colours import UNLABELLED, class_colours
from ...widgets.images import to_uint8_hwc
from ...widgets.layouts import row

POINT_ALPHA = 160
PATH_WIDTH = 3
AXIS_WIDTH = 44  # pixels for the maps' y tick labels
MAP_MIN_SIZE = 300  # each map at least this many pixels a side, on a 1366x768 screen
PRIOR_CIRCLES = (1.0, 2.0)  # radii of the prior N(0, I) drawn on the maps
PATH_COLOUR = (213, 94, 0)
PRIOR_COLOUR = (255, 255, 255)  # the maps' background is black


class ComparisonMaps:
    """The AE's and the VAE's latent maps of ComparisonPanel, side by side on one square."""

    # -- construction -------------------------------------------------------------------
    def _build_maps(self) -> QWidget:
        self.aeMap, self._ae_manifold, self._ae_points = self._map_plot("aeMap", "AE")
        self.vaeMap, self._vae_manifold, self._vae_points = self._map_plot("vaeMap", "VAE")
        self._ae_circles, self._ae_path = self._overlays(self.aeMap)
        self._vae_circles, self._vae_path = self._overlays(self.vaeMap)
        return row(self.aeMap, self.vaeMap)

    def _map_plot(self, name: str, title: str) -> tuple[pg.PlotWidget, pg.ImageItem, pg.ScatterPlotItem]:
        plot = pg.PlotWidget(objectName=name)
        plot.setTitle(title)
        plot.setAspectLocked(True)
        plot.setMouseEnabled(x=False, y=False)  # both maps keep the shared axes
        plot.hideButtons()
        plot.setMinimumSize(MAP_MIN_SIZE, MAP_MIN_SIZE)
        # Equal axis widths give both plots the same drawing area, so the locked aspect widens both alike.
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        image = pg.ImageItem(axisOrder="row-major")
        image.setOpacity(0.6)  # the points stay readable above the decoded manifold
        plot.addItem(image)
        scatter = pg.ScatterPlotItem(pxMode=True, pen=None, size=3)
        plot.addItem(scatter)
        return plot, image, scatter

    def _overlays(self, plot: pg.PlotWidget) -> tuple[list[pg.PlotCurveItem], pg.PlotDataItem]:
        """The prior's circles and the class-mean path, drawn above the points."""
        circles = []
        for radius in PRIOR_CIRCLES:
            pen = pg.mkPen(PRIOR_COLOUR, width=2 if radius == 1 else 1, style=Qt.PenStyle.DashLine)
            circle = pg.PlotCurveItem(pen=pen)
            plot.addItem(circle)
            circles.append(circle)
        path = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOUR, width=PATH_WIDTH), symbol="o", symbolSize=5, symbolBrush=PATH_COLOUR, symbolPen=None
        )
        plot.addItem(path)
        return circles, path

    # -- results -----------------------------------------------------------------------
    def _show_maps(self) -> None:
        result = self.result
        assert result is not None
        x0, y0, side = result.square
        angle = np.linspace(0, 2 * np.pi, 97)
        for picture, plot, image, scatter, circles, path in (
            (result.ae, self.aeMap, self._ae_manifold, self._ae_points, self._ae_circles, self._ae_path),
            (result.vae, self.vaeMap, self._vae_manifold, self._vae_points, self._vae_circles, self._vae_path),
        ):
            # Row 0 of the mosaic is the top of the plane; the y-up view draws image row 0 at the bottom.
            mosaic = to_uint8_hwc(picture.manifold)
            pixels = mosaic[::-1, :, 0] if mosaic.shape[2] == 1 else mosaic[::-1]
            image.setImage(np.ascontiguousarray(pixels), levels=(0, 255), autoLevels=False)
            image.setRect(QRectF(x0, y0, side, side))
            scatter.setData(x=picture.xy[:, 0], y=picture.xy[:, 1], brush=self._brushes(result.labels), pen=None)
            cx, cy = picture.prior_centre
            for circle, radius in zip(circles, PRIOR_CIRCLES):
                circle.setData(cx + radius * np.cos(angle), cy + radius * np.sin(angle))
            path.setData(picture.path_xy[:, 0], picture.path_xy[:, 1])
            plot.setRange(xRange=(x0, x0 + side), yRange=(y0, y0 + side), padding=0)
            plot.setLabel("bottom", picture.plane_labels[0])
            plot.setLabel("left", picture.plane_labels[1])
            # A long title would widen one plot's minimum size, and with it that plot's range.
            plot.setToolTip(f"{picture.trained.name}: test images' codes, the prior's 1σ and 2σ circles (dashed) "
                            "and the class-mean path (orange), over the decoded plane")

    def _brushes(self, labels: np.ndarray | None) -> object:
        dataset = self.state.dataset
        if labels is None or dataset is None or not dataset.num_classes:
            return pg.mkBrush(UNLABELLED)
        colours = class_colours(dataset.num_classes)
        lookup = np.empty(len(colours), dtype=object)
        lookup[:] = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
        return lookup[np.clip(labels, 0, len(colours) - 1)]
