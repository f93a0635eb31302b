"""The evaluate page's results: the header, the table of figures with their notes, and its height (a mixin)."""

from __future__ import annotations


from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QTableWidgetItem

from ....core.evaluation import binarization_description
from ....core.text import format_duration

from .rows import REFERENCE_FIGURES, EvaluationOutcome, result_rows, shows_references


class EvaluationResults:
    """Showing a finished evaluation in EvaluatePanel: header, table, notes."""

    # -- results -------------------------------------------------------------------------
    def _on_finished(self, outcome: EvaluationOutcome) -> None:
        trained, self._running_for = self._running_for, None
        assert trained is not None
        e = outcome.evaluation
        config = trained.train_config
        self._test_sizes[f"{config.dataset}|{config.classes}"] = outcome.test_size
        if e.iw_samples and e.iw_images and outcome.seconds > 0:
            # The run itself is the best timing: it replaces the calibration's figure.
            self._rates[trained.config] = e.iw_images * e.iw_samples / outcome.seconds
        if trained is not self.state.current:
            self.statusLabel.setText(f"“{trained.name}” is no longer shown: its results were not kept.")
        else:
            self._evaluated = trained
            self.outcome = outcome
            self._stale = False
            if e.iw_images is not None and e.iw_images < e.images:
                self.statusLabel.setText(
                    f"Stopped after {format_duration(outcome.seconds)}: the importance-weighted estimate covers "
                    f"{e.iw_images:,} of {e.images:,} images; the other figures all of them."
                )
            else:
                self.statusLabel.setText(f"Evaluated in {format_duration(outcome.seconds)}.")
            self._show_results()
            self._show_estimate()
        self._update_controls()

    def _on_failed(self, message: str) -> None:
        self._running_for = None
        self.statusLabel.setText("Evaluation failed.")
        self._update_controls()
        QMessageBox.warning(self, "Evaluation failed", message)

    def _on_stopped(self) -> None:
        self._running_for = None
        self.statusLabel.setText("Stopped: no results for an unfinished evaluation.")
        self._update_controls()

    def _clear_results(self) -> None:
        self.outcome = None
        self._evaluated = None
        self._stale = False
        self.resultsTable.setRowCount(0)
        self._fit_table_height()
        self.notesLabel.setText("")
        self.referencesLabel.setText("")

    def _header_text(self, outcome: EvaluationOutcome) -> str:
        e = outcome.evaluation
        subset = "" if e.images == outcome.test_size else f" (a fixed random subset of {outcome.test_size:,})"
        return (
            f"“{outcome.model_name}” on the {outcome.dataset} test split: {e.images:,} images{subset}; "
            f"binarization: {binarization_description(e.binarize)}; {e.likelihood} likelihood."
        )

    def _refresh_header(self) -> None:
        if self.outcome is None:
            current = self.state.current
            self.headerLabel.setText(
                "Train a model or open a checkpoint, then evaluate it on its test split."
                if current is None
                else f"Evaluate “{current.name}” on the test split of {current.train_config.dataset}, in nats per image."
            )
            return
        text = self._header_text(self.outcome)
        if self._stale:
            text += "\nThe model has trained since: evaluate again for its current weights."
        self.headerLabel.setText(text)

    def _show_results(self) -> None:
        assert self.outcome is not None
        rows = result_rows(self.outcome)
        self.resultsTable.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate((row.figure, row.value, row.unit, row.images)):
                item = self.resultsTable.item(r, c)
                if item is None:  # items are made once and reused: every evaluation has the same rows
                    item = QTableWidgetItem()
                    if c == 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.resultsTable.setItem(r, c, item)
                item.setText(text)
                item.setToolTip(row.help)
        self._fit_table_height()
        self.resultsTable.setToolTip(binarization_description(self.outcome.evaluation.binarize))
        notes = self.outcome.evaluation.notes
        self.notesLabel.setText("\n".join(f"• {note}" for note in notes))
        trained = self._evaluated
        if trained is not None and shows_references(trained):
            self.referencesLabel.setText(
                "Published test NLLs on binarized MNIST, for context only (other networks, training and test "
                "binarisations; compare with the importance-weighted figure at K = 5000):\n"
                + "\n".join(f"• {figure}" for figure in REFERENCE_FIGURES)
            )
        else:
            self.referencesLabel.setText("")
        self._refresh_header()

    def _fit_table_height(self) -> None:
        """As tall as its rows, so the notes sit right under the figures instead of below an empty area."""
        table = self.resultsTable
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(r) for r in range(table.rowCount()))
        if table.horizontalScrollBar().isVisible():
            height += table.horizontalScrollBar().height()
        table.setFixedHeight(height)

    def _update_controls(self) -> None:
        current = self.state.current
        busy = self.task.busy
        self.evaluateButton.setEnabled(current is not None and not busy)
        self.evaluateButton.setToolTip(
            "Compute the figures on the test split in the background."
            if current is not None
            else "No model yet: train one or open a checkpoint."
        )
        self.stopButton.setEnabled(busy)
        variational = current is not None and current.config.variational
        self.kSpin.setEnabled(variational and not busy)
        self.subsetSpin.setEnabled(not busy)
        self.protocolButton.setEnabled(not busy)
        has_results = self.outcome is not None
        self.copyTextButton.setEnabled(has_results)
        self.copyJsonButton.setEnabled(has_results)
