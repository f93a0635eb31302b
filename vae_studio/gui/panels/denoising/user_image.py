"""The denoising panel's second half: the user's own image, loaded or drawn, denoised and followed on the map (a mixin)."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ....core.batches import to_float
from ....core.denoising import UserImage, load_user_image, reconstruct, user_image_from_rgb
from ....core.errors import VaeStudioError
from ....core.latent import encode
from .captions import NO_MODEL, model_labels, models_legend

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class UserImageSection:
    """The user's own image (loaded or drawn) and the probe's decoding, for DenoisingPanel."""

    # -- the user's own image --------------------------------------------------------------
    def load_user_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image to reconstruct", "", IMAGE_FILTER)
        if path:
            self.load_user_image(path)

    def load_user_image(self, path: str | os.PathLike[str]) -> bool:
        """Reconstruct a picture file with the current model and probe its code; False after a warning."""
        current = self.state.current
        if current is None:
            QMessageBox.warning(self, "No model", NO_MODEL)
            return False
        try:
            image = load_user_image(path, current.config.image_shape)
        except VaeStudioError as exc:
            QMessageBox.warning(self, "Could not load the image", str(exc))
            return False
        with QSignalBlocker(self.canvas):
            self.canvas.clear()  # the drawing no longer is the input
        self._user_source = os.path.basename(os.fspath(path)) + (" (inverted: dark on light)" if image.inverted else "")
        self._set_user_image(image)
        return True

    def clear_user_image(self) -> None:
        with QSignalBlocker(self.canvas):
            self.canvas.clear()
        self.user_image = None
        self.userView.set_images(None)
        self.userLabel.setText("")
        if self._my_probe is not None:
            self._set_probe(None)

    def _on_drawn(self) -> None:
        current = self.state.current
        if self.canvas.blank:
            self.clear_user_image()
            return
        if current is None:
            self.userLabel.setText(NO_MODEL)
            return
        self._user_source = "Your drawing"
        # Drawn light on dark already: no guessing from the border, which a stroke may touch.
        self._set_user_image(user_image_from_rgb(self.canvas.rgb(), current.config.image_shape, invert=False))

    def _set_user_image(self, image: UserImage) -> None:
        self.user_image = image
        self._reconstruct_user_image(take_probe=True)

    def _user_label(self) -> int:
        """The class a conditional model gets for the user image, which has none: the preview's rule (the
        selected test image's class, else 0); unconditional models ignore it."""
        label = self.state.decode_label()
        return 0 if label is None else label

    def _user_image_code(self) -> np.ndarray | None:
        """The user image's posterior mean under the current model (None without both, or for another size)."""
        current, image = self.state.current, self.user_image
        if image is None or current is None or tuple(image.pixels.shape) != tuple(current.config.image_shape):
            return None
        return encode(current.model, image.batch(), np.array([self._user_label()])).mu[0]

    def _reconstruct_user_image(self, take_probe: bool = False) -> None:
        """Show the user image's reconstruction by the current (and compared) model, and with ``take_probe``
        make its posterior mean the probe (which then follows the model: _on_model). One image takes well
        under a millisecond, so this runs on the GUI thread."""
        current, image = self.state.current, self.user_image
        if image is None or current is None:
            return
        if tuple(image.pixels.shape) != tuple(current.config.image_shape):
            self.userView.set_images(None)
            self.userLabel.setText("The image was prepared for another model's image size: draw or load it again.")
            return
        models = self._shown_models()
        label = self._user_label()
        labels = np.array([label])
        batch = image.batch()
        x = to_float(batch)
        columns = [x.numpy()[0]] + [reconstruct(m.model, x, labels)[0] for m in models]
        self.userView.set_images(np.stack(columns)[None], column_labels=["input", *model_labels(len(models))])
        mu = encode(current.model, batch, labels).mu[0]
        text = f"{self._user_source}, prepared like an MNIST digit (cropped, scaled into 20×20, centred)."
        if any(m.config.conditional for m in models):
            text += f" Conditional models take it as class {label}."
        text += f" Its μ under “{current.name}” is the probe ✛ on the latent map. {models_legend(models)}"
        self.userLabel.setText(text)
        if take_probe:
            self._set_probe(mu)

    # -- the probe -------------------------------------------------------------------------
    def _set_probe(self, mu: np.ndarray | None) -> None:
        self._setting_probe = True
        try:
            self.state.set_probe(mu)
        finally:
            self._setting_probe = False
        self._my_probe = self.state.probe

    def _on_probe(self) -> None:
        # Someone else probes now (a click on the map): the probe stops following the user image. Another
        # model being shown clears the probe without this event, so the image's new μ takes its place.
        if not self._setting_probe and self.state.probe is not self._my_probe:
            self._my_probe = None
