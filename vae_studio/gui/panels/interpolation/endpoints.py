"""The interpolation panel's path ends (map point, test image, class mean, prior sample) and its animation (a mixin)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox

from ....core.compatibility import can_run_on
from ....core.interpolation import class_mean
from ....core.latent import encode, sample_prior
from ....core.trained_model import TrainedModel
from ...widgets.images import to_qpixmap
from .endpoint_box import THUMB_SCALE, EndpointBox



class EndpointsAndAnimation:
    """Where the path's ends come from, and the frame animation, for InterpolationPanel."""

    # -- endpoints -------------------------------------------------------------------------
    def _use_map_point(self, box: EndpointBox) -> None:
        if self._pointed is None:
            index, probe = self.state.selected_index, self.state.probe
            if probe is not None:
                self._pointed = ("map", probe.copy())
            elif index is not None:
                self._pointed = ("image", index)
            else:
                QMessageBox.information(self, "No map point yet", "Click a point or a dot on the latent map first.")
                return
        self._apply_pointed(box)

    def _apply_pointed(self, box: EndpointBox) -> None:
        assert self._pointed is not None
        kind, value = self._pointed
        if kind == "image":
            box.set_image(int(value))  # type: ignore[call-overload]
        else:
            box.set_map_point(value)  # type: ignore[arg-type]

    def _on_pick_toggled(self, on: bool) -> None:
        self._picking = [self.endpointA, self.endpointB] if on else []
        self.pickHint.setText("Click the start (A) on the latent map." if on else "")

    def _usable_model(self) -> tuple[TrainedModel | None, str]:
        """The current model if it can decode and encode the data set's images, else None and why not."""
        current, dataset = self.state.current, self.state.dataset
        if current is None:
            return None, "No model yet: train one or open a checkpoint."
        if dataset is None:
            return None, "Loading the data set…"
        problem = can_run_on(current, dataset)
        return (None, problem) if problem else (current, "")

    def _image_code(self, trained: TrainedModel, index: int) -> np.ndarray:
        """μ of one test image, encoded now (well under a millisecond), so it needs no map encoding."""
        dataset = self.state.dataset
        assert dataset is not None
        labels = dataset.test_labels[index : index + 1] if dataset.test_labels is not None else None
        return encode(trained.model, dataset.test_images[index : index + 1], labels).mu[0].astype(np.float64)

    def _class_code(self, label: int) -> tuple[np.ndarray | None, str]:
        dataset, encoding = self.state.dataset, self.state.encoding
        assert dataset is not None
        if dataset.test_labels is None:
            return None, "This data set has no classes."
        if encoding is None or len(encoding.mu) != len(dataset.test_labels):
            return None, "Waiting for the latent map to encode the test images…"
        try:
            return class_mean(encoding.mu, dataset.test_labels.numpy(), label), ""
        except ValueError:
            return None, f"No test image has the class {dataset.class_names[label]}."

    def _endpoint_code(self, trained: TrainedModel, box: EndpointBox) -> tuple[np.ndarray | None, str]:
        """The latent vector ``box`` describes for the current model, or None and why there is none."""
        d = trained.config.latent_dim
        dataset = self.state.dataset
        assert dataset is not None
        box.thumbLabel.clear()
        if box.source == "map":
            if box.map_point is None or len(box.map_point) != d:
                return None, f"{box.name}: click a point on the map, then press “From map”."
            return box.map_point, ""
        if box.source == "image":
            index = box.indexSpin.value()
            if index >= len(dataset.test_images):
                return None, "The data set has no test images."
            box.thumbLabel.setPixmap(to_qpixmap(dataset.test_images[index].numpy(), THUMB_SCALE))
            return self._image_code(trained, index), ""
        if box.source == "class":
            return self._class_code(box.classCombo.currentIndex())
        return sample_prior(d, 1, seed=box.prior_seed)[0], ""

    # -- animation -------------------------------------------------------------------------
    def _on_play_toggled(self, playing: bool) -> None:
        if playing:
            self._on_speed(self.speedSpin.value())
            self._timer.start()
        else:
            self._timer.stop()

    def _on_speed(self, fps: int) -> None:
        self._timer.setInterval(round(1000 / fps))

    def _advance(self) -> None:
        if self.interpolation is None:
            return
        last = len(self.interpolation.frames) - 1
        step = self._frame + self._direction
        if self.bounceCheck.isChecked():
            if not 0 <= step <= last:
                self._direction = -self._direction
                step = self._frame + self._direction
        else:
            self._direction = 1
            step = 0 if step > last else step
        self._show_frame(int(np.clip(step, 0, last)))
