"""The anomaly page's results: score histograms, the ROC curve and its operating point, the threshold, the gallery (a mixin)."""

from __future__ import annotations


import numpy as np
from PySide6.QtWidgets import QMessageBox

from ....core.anomaly import AnomalyExamples, most_anomalous
from ....core.vocabulary import SCORE_DESCRIPTIONS
from ....core.evaluation import BINARIZATION_LABELS
from ....core.roc import PrecisionRecall, threshold_at_false_positive_rate
from .outcome import SLIDER_STEPS, AnomalyOutcome, error_heatmap

DEFAULT_FALSE_POSITIVE_RATE = 0.05  # the threshold starts where it flags 5% of normal images (as the CLI reports)
HISTOGRAM_BINS = 60


class AnomalyResults:
    """Showing a finished scoring run in AnomalyPanel: histograms, ROC, the threshold and the gallery."""

    # -- results -------------------------------------------------------------------------
    def _on_finished(self, outcome: AnomalyOutcome) -> None:
        trained, self._running_for = self._running_for, None
        if trained is not self.state.current:
            self._set_status(f"“{outcome.model_name}” is no longer shown: its scores were not kept.")
            return
        self._scored = trained
        self.outcome = outcome
        result, data = outcome.result, outcome.data
        self._set_status(result.sample_note)
        self.warningLabel.setText("⚠ " + " ".join(data.notes))
        self.warningLabel.setVisible(data.outliers_in_training)
        auc = result.auc
        self.aucLabel.setText(f"AUC {auc:.4f}")
        self.aucLabel.setToolTip(
            "Area under the ROC curve: the chance that a random outlier scores above a random normal image "
            "(0.5: no better than guessing)."
        )
        seen = BINARIZATION_LABELS[outcome.binarize]
        self.summaryLabel.setText(
            f"normal: {data.normal_description} ({len(result.normal_scores):,}) · outliers: "
            f"{data.outlier_description} ({len(result.outlier_scores):,}) · score: {SCORE_DESCRIPTIONS[result.score]}, "
            f"{seen} · model “{outcome.model_name}”"
        )
        self._draw_histograms()
        self._roc = result.roc()
        self._roc_curve.setData(self._roc.false_positive_rate, self._roc.true_positive_rate)
        self._roc_auc_text.setText(f"AUC = {auc:.3f}")
        self.thresholdLine.show()
        self.set_threshold(threshold_at_false_positive_rate(result.normal_scores, DEFAULT_FALSE_POSITIVE_RATE))
        self._show_gallery(outcome.examples)

    def _on_stopped(self) -> None:
        self._running_for = None
        self._set_status("Stopped before a first sample of both groups was scored: no results.")

    def _on_failed(self, message: str) -> None:
        self._running_for = None
        self._set_status("The run failed.")
        QMessageBox.warning(self, "Anomaly detection failed", message)

    def _clear_results(self) -> None:
        self.outcome = None
        self._scored = None
        self._roc = None
        self.warningLabel.hide()
        self.aucLabel.setText("")
        self.summaryLabel.setText("")
        self._set_status("")
        self._normal_hist.setData([], [])
        self._outlier_hist.setData([], [])
        self.histogramPlot.getPlotItem().legend.hide()  # its counts belonged to the cleared run
        self._roc_curve.setData([], [])
        self._operating_point.setData([], [])
        self._roc_auc_text.setText("")
        self.thresholdLine.hide()
        self.thresholdLabel.setText("")
        self.precisionLabel.setText("")
        self.galleryView.set_images(None)
        self.galleryCaption.setText("")

    def _score_range(self) -> tuple[float, float]:
        """The slider's span: the finite scores' minimum and maximum (never an empty interval)."""
        assert self.outcome is not None
        scores = self.outcome.result.scores
        scores = scores[np.isfinite(scores)]
        low, high = (float(scores.min()), float(scores.max())) if scores.size else (0.0, 1.0)
        return (low, high) if high > low else (low - 0.5, low + 0.5)

    def _draw_histograms(self) -> None:
        assert self.outcome is not None
        result = self.outcome.result
        histograms = result.histograms(HISTOGRAM_BINS)
        # Fractions of each group, so 1,000 outliers stay visible next to 9,000 normal images.
        self._normal_hist.setData(histograms.edges, histograms.normal / max(len(result.normal_scores), 1))
        self._outlier_hist.setData(histograms.edges, histograms.outliers / max(len(result.outlier_scores), 1))
        legend = self.histogramPlot.getPlotItem().legend
        legend.show()
        legend.getLabel(self._normal_hist).setText(f"normal ({len(result.normal_scores):,})")
        legend.getLabel(self._outlier_hist).setText(f"outliers ({len(result.outlier_scores):,})")
        self.histogramPlot.getPlotItem().enableAutoRange()

    def _on_slider(self, value: int) -> None:
        if self.outcome is None:
            return
        low, high = self._score_range()
        self.set_threshold(low + (high - low) * value / SLIDER_STEPS)

    def _on_line_moved(self) -> None:
        if self.outcome is not None:
            self.set_threshold(self.thresholdLine.value())

    def _show_operating_point(self, at: PrecisionRecall) -> None:
        negatives = at.false_positives + at.true_negatives
        false_positive_rate = at.false_positives / negatives if negatives else 0.0
        self._operating_point.setData([false_positive_rate], [at.recall])
        self.thresholdLabel.setText(f"≥ {at.threshold:.2f} nats")
        self.precisionLabel.setText(
            f"Precision {at.precision:.3f} · recall {at.recall:.3f} · flags {at.true_positives + at.false_positives:,} "
            f"images: {at.true_positives:,} outliers and {at.false_positives:,} normal "
            f"({false_positive_rate:.1%} of normal images)"
        )

    def _refresh_gallery(self) -> None:
        outcome = self.outcome
        if outcome is None:
            return
        # k reconstructions with the run's private model copy: a few milliseconds, fine on the GUI thread.
        self._show_gallery(
            most_anomalous(outcome.model, outcome.images, outcome.result.scores, self.gallerySpin.value(),
                           binarize=outcome.binarize)
        )

    def _show_gallery(self, examples: AnomalyExamples) -> None:
        assert self.outcome is not None
        n_normal = len(self.outcome.result.normal_scores)
        images, recon = examples.images, examples.reconstructions
        if images.shape[1] == 1:  # grey images beside the colour error maps: one RGB grid
            images, recon = np.repeat(images, 3, axis=1), np.repeat(recon, 3, axis=1)
        vmax = float(examples.error_maps.max()) if examples.error_maps.size else 1.0
        grid = np.stack([images, recon, error_heatmap(examples.error_maps, vmax)])
        is_outlier = examples.indices >= n_normal
        k = len(examples.indices)
        # Normal images among the top scores are false alarms at most thresholds: framed in red. (A frame
        # rather than a caption keeps the rows short enough for thumbnails at twice their size.)
        self.galleryView.set_images(
            grid,
            row_labels=["image", "reconstruction", "error²"],
            column_labels=[f"{score:.0f}" for score in examples.scores],
            flagged=np.stack([~is_outlier] * 3),
        )
        self.galleryCaption.setText(f"{int(is_outlier.sum())} of {k} are outliers · red frame: a normal image")
        self.galleryView.setToolTip(
            f"The {k} highest-scoring test images: the score (nats) above each column; a red frame marks a normal "
            f"image, a false alarm at any threshold below its score. Per-pixel squared error from 0 (black) to "
            f"{vmax:.2f} (yellow), on one scale for the whole gallery."
        )
