"""The AE-versus-VAE page's rows of decoded prior samples and the decoded class-mean path (a mixin)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QWidget

from ...widgets.image_grid import ImageGridView

THUMBNAIL_SCALE = 2  # decoded samples and path frames at 2x: 56 px for 28 px images


class ComparisonPictures:
    """ComparisonPanel's decoded prior samples and class-mean path, each model's bar flagging doubtful ones."""

    # -- construction -------------------------------------------------------------------
    def _build_strips(self) -> tuple[QWidget, ...]:
        """Titles and views of the decoded prior samples and the class-mean path."""
        self.samplesView = ImageGridView(
            "Decoded prior samples of each model appear here.", natural_scale=THUMBNAIL_SCALE, height_for_width=True
        )
        self.samplesView.setObjectName("samplesView")
        self.samplesView.setToolTip("Samples of N(0, I) decoded by each model; red frame: the classifier is not sure")
        self.pathView = ImageGridView(
            "The straight path between two class means, decoded by each model, appears here.",
            natural_scale=THUMBNAIL_SCALE, height_for_width=True,
        )  # fmt: skip
        self.pathView.setObjectName("pathView")
        self.pathView.setToolTip("A straight line between the means of two classes' codes, decoded at even steps")
        self.samplesTitle = QLabel("<b>Samples of the prior, decoded</b>", objectName="samplesTitle")
        self.pathTitle = QLabel("<b>A straight path between two class means, decoded</b>", objectName="pathTitle")
        return self.samplesTitle, self.samplesView, self.pathTitle, self.pathView

    # -- results -----------------------------------------------------------------------
    def _show_pictures(self) -> None:
        """The rows of decoded prior samples and the class-mean path, each model's bar flagging doubtful ones."""
        result = self.result
        assert result is not None
        start, end = result.path_ends
        self.pathTitle.setText(f"<b>A straight path from the mean of “{start}” to the mean of “{end}”, decoded</b>")
        for view, images, confidences in (
            (self.samplesView, [p.samples for p in (result.ae, result.vae)],
             [p.sample_confidence for p in (result.ae, result.vae)]),
            (self.pathView, [p.path for p in (result.ae, result.vae)], [p.path_confidence for p in (result.ae, result.vae)]),
        ):  # fmt: skip
            captions: list[str] = []
            flags: list[np.ndarray] = []
            for picture, confidence in zip((result.ae, result.vae), confidences):
                bar = self._threshold(picture.comparison.completeness)
                if confidence is None:
                    flags.append(np.zeros(len(images[0]), bool))
                else:
                    flags.append(confidence < bar)
                    captions += [f"{c:.0%}" for c in confidence]
            view.set_images(np.stack(images), row_labels=["AE", "VAE"], captions=captions, flagged=np.stack(flags))
            view.setMinimumHeight(view.sizeHint().height())  # never below THUMBNAIL_SCALE: the tabs give way
