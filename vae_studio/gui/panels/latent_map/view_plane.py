"""The latent map's view plane and its controls, and the mouse as a probe of latent space (a mixin of LatentMapPanel)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QHBoxLayout, QLabel

from ....core.app_state import POSTERIOR_SAMPLES
from ....core.latent import ViewPlane
from ...widgets.images import to_qpixmap
from ...widgets.labels import note_label
from ...widgets.steady_view import fit_label_room, lay_out_axes_now
from .layers import ELLIPSE_SAMPLE

HIT_RADIUS_PX = 6.0  # a click or hover this close to a dot (in screen pixels) means that dot


def anchored(view: ViewPlane, point: np.ndarray) -> ViewPlane:
    """The same plane moved orthogonally so it passes through ``point``.

    Only the component of the shift perpendicular to the plane is applied, so ``to_plane`` gives
    every latent vector the same coordinates as before: the map does not move, but the latent
    vectors behind its positions take their off-plane coordinates from ``point``.
    """
    offset = np.asarray(point, np.float64) - view.origin
    perpendicular = offset - (offset @ view.u) * view.u - (offset @ view.v) * view.v
    return replace(view, origin=view.origin + perpendicular)


class ViewPlaneControls:
    """The view-plane controls and the mouse for LatentMapPanel, whose attributes these methods use."""

    def _build_toolbar(self) -> None:
        self.viewKindCombo = QComboBox(objectName="viewKindCombo")
        self.viewKindCombo.addItems(["Latent axes", "PCA plane"])
        self.viewKindCombo.setToolTip(
            "Show two latent axes, or the plane of the encodings' first two principal components"
        )
        self.xAxisCombo = QComboBox(objectName="xAxisCombo")
        self.yAxisCombo = QComboBox(objectName="yAxisCombo")
        self.anchorCheck = QCheckBox("Through selected point", objectName="anchorCheck")
        self.anchorCheck.setToolTip(
            "Latent coordinates off the plane: unticked, those of the prior's mean (0);\n"
            "ticked, those of the selected test image's posterior mean μ."
        )
        self.statusLabel = note_label("latentMapStatusLabel")
        self.viewKindCombo.currentIndexChanged.connect(self._on_view_controls)
        self.xAxisCombo.currentIndexChanged.connect(self._on_x_axis)
        self.yAxisCombo.currentIndexChanged.connect(self._on_y_axis)
        self.anchorCheck.toggled.connect(self._on_view_controls)
        self._view_row = QHBoxLayout()
        for widget in (QLabel("View"), self.viewKindCombo, QLabel("x"), self.xAxisCombo, QLabel("y"), self.yAxisCombo):
            self._view_row.addWidget(widget)
        self._view_row.addWidget(self.anchorCheck)
        self._view_row.addStretch(1)
        self._view_row.addWidget(self.statusLabel)

        self.manifoldCheck = QCheckBox("Decoded manifold", objectName="manifoldCheck")
        self.manifoldCheck.setToolTip(
            "Tile the visible area with decodings of a grid of latent points (behind the dots)"
        )
        self.ellipsesCheck = QCheckBox("σ ellipses", objectName="ellipsesCheck")
        self.ellipsesCheck.setToolTip(f"1σ ellipses of the posteriors q(z|x) of {ELLIPSE_SAMPLE} test images")
        self.priorCheck = QCheckBox("Prior 1σ/2σ", objectName="priorCheck", checked=True)
        self.priorCheck.setToolTip("Circles of the prior N(0, I) at 1 and 2 standard deviations, in this plane")
        self.samplesCheck = QCheckBox("Posterior samples", objectName="samplesCheck", checked=True)
        self.samplesCheck.setToolTip(
            f"{POSTERIOR_SAMPLES} draws from the selected image's posterior (the preview decodes the same draws)"
        )
        self.manifoldCheck.toggled.connect(self._on_manifold_toggled)
        self.ellipsesCheck.toggled.connect(self._draw_ellipses)
        self.priorCheck.toggled.connect(self._draw_prior)
        self.samplesCheck.toggled.connect(self._draw_selection)
        self._overlay_row = QHBoxLayout()
        self._overlay_row.addWidget(QLabel("Show"))
        for check in (self.manifoldCheck, self.ellipsesCheck, self.priorCheck, self.samplesCheck):
            self._overlay_row.addWidget(check)
        self._overlay_row.addStretch(1)

    # -- view plane ------------------------------------------------------------------------
    def _configure_controls(self, reset: bool = False) -> None:
        """Fill the axis combos for the current model's latent size; ``reset`` picks the default view."""
        current = self.state.current
        d = current.config.latent_dim if current is not None else 0
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(True)
        if self.xAxisCombo.count() != d or reset:
            names = [f"z{i + 1}" for i in range(d)]
            for combo, default in ((self.xAxisCombo, 0), (self.yAxisCombo, 1)):
                keep = combo.currentIndex()
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(default if reset or not 0 <= keep < d else keep)
            if d > 1 and self.xAxisCombo.currentIndex() == self.yAxisCombo.currentIndex():
                self.yAxisCombo.setCurrentIndex(1 if self.xAxisCombo.currentIndex() == 0 else 0)
        if reset:
            # Two axes are the whole space for d <= 2; beyond that the principal plane shows the most.
            self.viewKindCombo.setCurrentIndex(1 if d > 2 else 0)
        pca_item = self.viewKindCombo.model().item(1)
        pca_item.setEnabled(d > 1)
        if d <= 1:
            self.viewKindCombo.setCurrentIndex(0)
        axes = self.viewKindCombo.currentIndex() == 0
        self.xAxisCombo.setEnabled(axes and d > 1)
        self.yAxisCombo.setEnabled(axes and d > 1)
        self.anchorCheck.setEnabled(d > 2)
        variational = current is not None and current.model.variational
        for check in (self.ellipsesCheck, self.priorCheck, self.samplesCheck):
            check.setEnabled(variational)  # an AE has no posterior spread and no prior
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(False)

    def _build_view(self) -> ViewPlane:
        """The plane the controls describe, through 0 or (ticked) through the selected point's μ."""
        state = self.state
        assert state.encoding is not None
        mu = state.encoding.mu
        d = mu.shape[1]
        if self.viewKindCombo.currentIndex() == 1 and d > 1:
            reference = state.view if state.view is not None and state.view.kind == "pca" else None
            view = ViewPlane.pca(mu, reference)
        else:
            x = max(self.xAxisCombo.currentIndex(), 0)
            y = max(self.yAxisCombo.currentIndex(), 0)
            view = ViewPlane.axes(d, x, y if d > 1 else 0)
        anchor = np.zeros(d)
        index = state.selected_index
        if self.anchorCheck.isChecked() and index is not None and index < len(mu):
            anchor = mu[index]
        return anchored(view, anchor)

    def _on_view_controls(self) -> None:
        self._configure_controls()
        if self.state.encoding is None:
            return
        self._autorange_pending = True
        self._viewbox.steady = False
        self._invalidate_manifold()
        self.state.set_view(self._build_view())

    def _on_x_axis(self, index: int) -> None:
        self._swap_if_same(index, self.yAxisCombo, self._axes_before[0])

    def _on_y_axis(self, index: int) -> None:
        self._swap_if_same(index, self.xAxisCombo, self._axes_before[1])

    def _swap_if_same(self, index: int, other: QComboBox, previous: int) -> None:
        """Choosing the other combo's axis swaps the two rather than allowing a degenerate plane."""
        if index == other.currentIndex() and index >= 0:
            with QSignalBlocker(other):
                other.setCurrentIndex(previous)
        self._on_view_controls()

    def _sync_controls_to_view(self, view: ViewPlane) -> None:
        """Show a plane set elsewhere (another panel, a script) in the controls without re-triggering them."""
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(True)
        self.viewKindCombo.setCurrentIndex(1 if view.kind == "pca" else 0)
        if view.kind == "axes":
            self.xAxisCombo.setCurrentIndex(int(np.argmax(np.abs(view.u))))
            if view.latent_dim > 1:
                self.yAxisCombo.setCurrentIndex(int(np.argmax(np.abs(view.v))))
        for combo in (self.viewKindCombo, self.xAxisCombo, self.yAxisCombo):
            combo.blockSignals(False)
        self._configure_controls()

    @property
    def _axes_before(self) -> tuple[int, int]:
        """The axes of the plane on show (what the combos said before the change being handled)."""
        view = self.state.view
        if view is None or view.kind != "axes":
            return 0, 1
        return int(np.argmax(np.abs(view.u))), int(np.argmax(np.abs(view.v)))

    def _on_view(self) -> None:
        view, encoding = self.state.view, self.state.encoding
        if view is None or encoding is None or view.latent_dim != encoding.mu.shape[1]:
            return
        self._sync_controls_to_view(view)
        self._set_axis_label("bottom", view.x_label)
        self._set_axis_label("left", view.y_label if view.latent_dim > 1 else "")
        self._xy = view.to_plane(encoding.mu)
        self._draw_points()
        self._draw_ellipses()
        self._draw_prior()
        self._draw_selection()
        self._draw_probe()
        self._draw_overlay()
        if self._autorange_pending:
            self._fit_view()
        # The new range applied and the axes sized for it now, not in the paint: one paint of the map per
        # refresh (about 10 ms each during training) instead of two.
        if self._label_room_pending:
            self._label_room_pending = False
            fit_label_room(self.latentMap.getPlotItem())
        else:
            lay_out_axes_now(self.latentMap.getPlotItem())
        self._schedule_manifold()

    def _fit_view(self) -> None:
        """Fit the view to the points (steadily while training: widgets/steady_view.py)."""
        self._autorange_pending = False
        # The prior's circles, when drawn, are in the fit: codes on a tiny scale (a collapsed VAE)
        # then show as a speck inside the prior, not as a cloud on axes scaled "x0.001".
        prior_x, _ = self._prior.getData()
        drawn_prior = [] if prior_x is None or len(prior_x) == 0 else [self._prior]
        self._viewbox.autoRange(items=[self.scatter, *drawn_prior])
        self._user_zoomed = False

    def _set_axis_label(self, axis: str, text: str) -> None:
        # Setting a label lays the axis out anew even when the text is the same (every training refresh).
        if self.latentMap.getAxis(axis).labelText != text:
            self.latentMap.setLabel(axis, text)
            # The axis's new size now, so the view is fitted at its final size: laid out later (after the
            # paint), the aspect-locked view changed its range and was painted again.
            self.latentMap.getPlotItem().layout.activate()

    # -- mouse ----------------------------------------------------------------------------------
    def _nearest_point(self, scene_pos: QPointF) -> int | None:
        """The point within HIT_RADIUS_PX of a scene position (nearest in screen pixels), vectorised."""
        if len(self._xy) == 0:
            return None
        p = self._viewbox.mapSceneToView(scene_pos)
        px, py = self._viewbox.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        dx = (self._xy[:, 0] - p.x()) / px
        dy = (self._xy[:, 1] - p.y()) / py
        d2 = np.where(self._visible, dx * dx + dy * dy, np.inf)  # hidden classes cannot be hit
        index = int(np.argmin(d2))
        return index if d2[index] <= HIT_RADIUS_PX**2 else None

    def _on_click(self, scene_pos: QPointF) -> None:
        if self.state.view is None or self.state.encoding is None:
            return
        index = self._nearest_point(scene_pos)
        moves_plane = index is not None and self.anchorCheck.isChecked() and self.anchorCheck.isEnabled()
        if moves_plane:
            # The plane moves to pass through the selected point: probe the plane then shown.
            self.state.select(index)
        self.state.set_probe(self.latent_at(scene_pos))
        if index is not None and not moves_plane:
            # Selected on the next event-loop turn, after the probe's decoding is painted: showing a
            # selection takes every panel that shows it tens of milliseconds.
            QTimer.singleShot(0, self, lambda: self.state.select(index))

    def _on_scrub(self, scene_pos: QPointF) -> None:
        if self.state.view is None or self.state.encoding is None:
            return
        self.hoverThumbnail.hide()
        self.state.set_probe(self.latent_at(scene_pos))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        """Hovering a dot shows its test image next to the cursor."""
        dataset = self.state.dataset
        inside = self._viewbox.sceneBoundingRect().contains(scene_pos)
        buttons_up = QApplication.mouseButtons() == Qt.MouseButton.NoButton  # not while scrubbing or panning
        index = self._nearest_point(scene_pos) if inside and buttons_up else None
        if index is None or dataset is None or index >= len(dataset.test_images):
            self.hoverThumbnail.hide()
            self._hover_index = None
            return
        if index != self._hover_index:
            self._hover_index = index
            image = dataset.test_images[index].numpy()
            self._thumb_image.setPixmap(to_qpixmap(image, scale=max(1, 56 // max(image.shape[1:]))))
            label = "" if self._labels is None else f" · {dataset.class_names[self._labels[index]]}"
            self._thumb_caption.setText(f"#{index}{label}")
            self.hoverThumbnail.adjustSize()
        pos = self.latentMap.mapFromScene(scene_pos) + QPoint(14, 14)
        # Keep the thumbnail inside the plot: flip it to the other side of the cursor near the edges.
        size = self.hoverThumbnail.size()
        if pos.x() + size.width() > self.latentMap.width():
            pos.setX(pos.x() - size.width() - 28)
        if pos.y() + size.height() > self.latentMap.height():
            pos.setY(pos.y() - size.height() - 28)
        self.hoverThumbnail.move(pos)
        self.hoverThumbnail.show()
        self.hoverThumbnail.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.latentMap.viewport() and event.type() == QEvent.Type.Leave:
            self.hoverThumbnail.hide()
            self._hover_index = None
        return super().eventFilter(watched, event)
