"""What the latent map draws over its points: posterior ellipses, the prior, the selection, the probe, another panel's path, and the decoded manifold behind them (a mixin of LatentMapPanel)."""

from __future__ import annotations

import copy

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QMessageBox

from ....core.latent import manifold, tile
from ...widgets.images import to_uint8_hwc
from ...widgets.latent_scatter import InertScatter
from ...work.tasks import TaskState

ELLIPSE_SAMPLE = 200  # drawing every posterior's ellipse would hide the points
MANIFOLD_TILE_PX = 32  # aim for tiles about this big on screen
MANIFOLD_TILES = (6, 30)  # fewest and most tiles per side
MANIFOLD_DOT_OPACITY = 0.35  # the dots while the decoded manifold is shown under them


class MapLayers:
    """The overlays and the manifold picture for LatentMapPanel, whose attributes these methods use."""

    def _build_overlays(self) -> None:
        def add(item: pg.GraphicsObject, z: float) -> pg.GraphicsObject:
            item.setZValue(z)
            # Overlays never take part in auto-ranging: the range follows the points only.
            self.latentMap.addItem(item, ignoreBounds=True)
            return item

        self.manifoldImage = add(pg.ImageItem(axisOrder="row-major"), -10)
        self.manifoldImage.setOpacity(0.9)
        self.manifoldImage.hide()
        self._ellipses = add(pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 90), connect="finite"), 5)
        # One pixel wide, so Qt draws the dashes with its fast hairline stroker: at 1.5 px the two circles
        # were stroked as polygons, 2-3 ms of every repaint of the map (0.1 ms now); a little more opaque
        # to stand out as much.
        dashed = pg.mkPen(255, 255, 255, 220, width=1, style=Qt.PenStyle.DashLine)
        self._prior = add(pg.PlotCurveItem(pen=dashed, connect="finite"), 6)
        self._selected_ring = add(
            InertScatter(pxMode=True, size=14, symbol="o", brush=None, pen=pg.mkPen("w", width=2)), 7
        )
        self._samples = add(InertScatter(pxMode=True, size=8, symbol="x", brush=pg.mkBrush("w"), pen=None), 8)
        self._crosshair = add(
            InertScatter(pxMode=True, size=22, symbol="+", brush=pg.mkBrush("w"), pen=pg.mkPen("k", width=1)), 9
        )
        # state.overlay_path (e.g. an interpolation), drawn for whichever panel set it.
        self._path_line = add(pg.PlotCurveItem(pen=pg.mkPen(255, 200, 40, 230, width=2)), 8.5)
        self._path_dots = add(
            InertScatter(pxMode=True, size=6, symbol="o", brush=pg.mkBrush(255, 200, 40), pen=pg.mkPen("k", width=1)),
            8.6,
        )

    # -- overlays ------------------------------------------------------------------------------
    def _draw_ellipses(self) -> None:
        """1σ ellipses of a fixed sample of posteriors, projected onto the plane, as one NaN-separated path."""
        view, encoding = self.state.view, self.state.encoding
        shown = self.ellipsesCheck.isChecked() and self.ellipsesCheck.isEnabled()
        if not shown or view is None or encoding is None or encoding.logvar is None:
            self._ellipses.setData([], [])
            return
        n = len(encoding.mu)
        if self._ellipse_rows is None:  # reset with every encoding
            self._ellipse_rows = np.sort(np.random.default_rng(0).choice(n, min(n, ELLIPSE_SAMPLE), replace=False))
        rows = self._ellipse_rows[self._visible[self._ellipse_rows]]
        var = np.exp(encoding.logvar[rows].astype(np.float64))
        # Covariance of the projection: [[u'Su, u'Sv], [u'Sv, v'Sv]] with S = diag(var); its
        # Cholesky factor maps the unit circle onto the 1σ ellipse.
        a, b, c = var @ (view.u**2), var @ (view.u * view.v), var @ (view.v**2)
        l11 = np.sqrt(a)
        l21 = np.divide(b, l11, out=np.zeros_like(b), where=l11 > 0)
        l22 = np.sqrt(np.maximum(c - l21**2, 0.0))
        t = np.linspace(0.0, 2.0 * np.pi, 33)
        cos, sin = np.cos(t), np.sin(t)
        centre = self._xy[rows]
        x = centre[:, :1] + l11[:, None] * cos
        y = centre[:, 1:] + l21[:, None] * cos + l22[:, None] * sin
        gap = np.full((len(rows), 1), np.nan)
        self._ellipses.setData(np.hstack([x, gap]).ravel(), np.hstack([y, gap]).ravel())

    def _draw_prior(self) -> None:
        """The prior's 1σ and 2σ contours in the plane.

        With orthonormal u and v the prior N(0, I) restricted to (or projected onto) any plane is an
        isotropic Gaussian centred at the projection of 0, so these circles are exact for axis and
        PCA planes alike. A 1-D latent space is a line: the contours become the marks at ±1σ, ±2σ.
        """
        view = self.state.view
        shown = self.priorCheck.isChecked() and self.priorCheck.isEnabled()
        if not shown or view is None or self.state.encoding is None:
            self._prior.setData([], [])
            return
        cx, cy = view.to_plane(np.zeros(view.latent_dim))
        if view.latent_dim == 1:
            xs = [cx + s * r for r in (1.0, 2.0) for s in (-1.0, 1.0)]
            x = np.repeat(xs, 3)
            y = np.tile([-0.25, 0.25, np.nan], len(xs))
        else:
            t = np.linspace(0.0, 2.0 * np.pi, 97)
            x = np.concatenate([cx + np.cos(t), [np.nan], cx + 2 * np.cos(t)])
            y = np.concatenate([cy + np.sin(t), [np.nan], cy + 2 * np.sin(t)])
        self._prior.setData(x, y)

    def _draw_selection(self) -> None:
        """A ring on the selected point and the cloud of its posterior samples (those the preview decodes)."""
        view, encoding, index = self.state.view, self.state.encoding, self.state.selected_index
        if view is None or encoding is None or index is None or index >= len(encoding.mu):
            self._selected_ring.clear()
            self._samples.clear()
            return
        x, y = self._xy[index]
        self._selected_ring.setData([x], [y])
        z = self.state.selection_samples()
        if self.samplesCheck.isChecked() and self.samplesCheck.isEnabled() and z is not None:
            xy = view.to_plane(z)
            self._samples.setData(xy[:, 0], xy[:, 1])
        else:
            self._samples.clear()

    def _on_selection(self) -> None:
        conditional = self.state.current is not None and self.state.current.config.conditional
        anchored_plane = (
            self.anchorCheck.isChecked() and self.anchorCheck.isEnabled() and self.state.encoding is not None
        )
        if conditional or anchored_plane:
            # The plane now passes through the selected point, or a CVAE decodes with its class.
            self._invalidate_manifold()
        if anchored_plane:
            self.state.set_view(self._build_view())
        else:
            self._draw_selection()

    def _draw_probe(self) -> None:
        view, probe = self.state.view, self.state.probe
        if view is None or probe is None or len(probe) != view.latent_dim or self.state.encoding is None:
            self._crosshair.clear()
            return
        x, y = view.to_plane(probe)
        self._crosshair.setData([x], [y])

    def _draw_overlay(self) -> None:
        view, path = self.state.view, self.state.overlay_path
        if view is None or path is None or path.shape[-1] != view.latent_dim or self.state.encoding is None:
            self._path_line.setData([], [])
            self._path_dots.clear()
            return
        xy = view.to_plane(path)
        self._path_line.setData(xy[:, 0], xy[:, 1])
        self._path_dots.setData(xy[:, 0], xy[:, 1])

    # -- manifold -----------------------------------------------------------------------------
    def _on_manifold_toggled(self, on: bool) -> None:
        # The decodings lie under the dots: dimmed dots let the pictures show through.
        self.scatter.setOpacity(MANIFOLD_DOT_OPACITY if on else 1.0)
        if on:
            self._schedule_manifold()
        else:
            self._manifold_timer.stop()
            self.manifoldImage.hide()

    def _on_range_changed(self) -> None:
        self._schedule_manifold()

    def _on_user_zoom(self) -> None:
        self._user_zoomed = True

    def _schedule_manifold(self) -> None:
        """Ask for a new picture once changes pause (pans, zooms and training refreshes come in bursts)."""
        if self.manifoldCheck.isChecked():
            self._manifold_timer.start()

    def _invalidate_manifold(self) -> None:
        """The plane or the decoding class changed: pictures requested before now would be wrong."""
        self._manifold_task.cancel()
        self.manifoldImage.hide()
        self._schedule_manifold()

    def _request_manifold(self) -> None:
        state = self.state
        if not self.manifoldCheck.isChecked() or state.current is None or state.view is None or state.encoding is None:
            return
        if state.view.latent_dim != state.current.config.latent_dim:
            return
        # A square region around the visible one, so tiles stay square whatever the widget's shape.
        (x0, x1), (y0, y1) = self._viewbox.viewRange()
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        side_px = max(self._viewbox.width(), self._viewbox.height())
        n = int(np.clip(round(side_px / MANIFOLD_TILE_PX), *MANIFOLD_TILES))
        step = side / n
        # Tile centres inset by half a tile, so the tiles exactly cover [c - side/2, c + side/2].
        x_range = (cx - side / 2 + step / 2, cx + side / 2 - step / 2)
        y_range = (cy - side / 2 + step / 2, cy + side / 2 - step / 2)
        rect = QRectF(cx - side / 2, cy - side / 2, side, side)
        # The GUI copy's weights are replaced in place while training, so the task decodes with its
        # own copy of the model, given a snapshot of the current weights. Only the weights are copied
        # here, once per training refresh; the module itself is copied by the first task for this
        # model, off the GUI thread (4-9 ms, which joined a training refresh's repaint in one turn).
        shown = state.current.model
        if self._manifold_model is None or self._manifold_model[0] is not shown:
            self._manifold_model = (shown, [])
        private = self._manifold_model[1]
        weights = {name: tensor.detach().clone() for name, tensor in shown.state_dict().items()}
        plane, label = state.view, state.decode_label()

        def task(_task: TaskState) -> tuple[np.ndarray, QRectF]:
            # One run at a time uses the private copy. Weights the GUI thread replaces while it is made
            # may be copied half old, half new: load_state_dict replaces them all next.
            if not private:
                private.append(copy.deepcopy(shown))
            model = private[0]
            model.load_state_dict(weights)
            pixels = to_uint8_hwc(tile(manifold(model, plane, x_range, y_range, n, label)))
            return pixels, rect

        self._manifold_task.start(task)

    def _on_manifold(self, result: tuple[np.ndarray, QRectF]) -> None:
        pixels, rect = result
        if self.manifoldCheck.isChecked() and self.state.encoding is not None:
            # Row 0 of the mosaic is the top of the plane; the y-up view draws image row 0 at the bottom.
            image = pixels[::-1, :, 0] if pixels.shape[2] == 1 else pixels[::-1]
            self.manifoldImage.setImage(np.ascontiguousarray(image), levels=(0, 255), autoLevels=False)
            self.manifoldImage.setRect(rect)
            self.manifoldImage.show()

    def _on_manifold_failed(self, message: str) -> None:
        self.manifoldCheck.setChecked(False)
        QMessageBox.warning(self, "Decoded manifold failed", message)
