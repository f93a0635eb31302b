"""The AE-versus-VAE page's tabs: the scores table, the spread of per-point continuity, the least real
decodings and how it is all measured (a mixin)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
)

from ....core.completeness import Completeness
from ...widgets.image_grid import ImageGridView
from ...widgets.labels import note_label
from ...widgets.layouts import column, page_tabs

WORST_SHOWN = 10  # decodings per model in the worst-first strip
HISTOGRAM_BINS = 30
AE_COLOUR = (230, 159, 0)  # Okabe & Ito orange and blue: distinct for colour-blind eyes
VAE_COLOUR = (0, 114, 178)
EXPLANATION = """
<p><b>Continuity</b>: how much the decoded picture changes for a small step in latent space around
the test images' codes, with steps measured in units of how spread out each model's codes are;
lower is smoother.</p>
<p><b>Completeness</b>: the share of latent points that no image was encoded to (samples of the
prior N(0, I), and a grid over the region the codes fill) whose decodings a classifier trained on
real images recognises as one class. With the threshold at <i>per model</i>, the classifier must be
at least as sure of a decoding as it is of 95% of that model's own reconstructions of real test
images, and at least 50% sure. So a blurry decoder is not marked down for blur, only for points that
decode worse than real data does. A fixed threshold asks for sharpness too.</p>
<p><b>An AE has no prior.</b> N(0, I) means nothing to it: its "prior samples" fall wherever that ball
happens to lie among its codes. That is the point: you cannot sample from an AE without knowing
where its codes are.</p>
<p><b>Why.</b> An AE is only asked to reconstruct; the VAE's KL term pulls every code towards N(0, I),
and decoding noisy codes teaches its decoder that nearby points mean similar pictures. With 8 or more
latent dimensions the AE's codes drift away from the origin into thin regions, so its prior samples
decode to smudges while the VAE's are recognisable. With 2 dimensions the AE has no room for gaps and
its codes usually still cover the origin, so the two score close. On the grid the AE can even score
higher: the VAE packs the classes closer together, so more of its grid falls on gradual morphs from
one class into another (a 4 turning into a 9), which the classifier does not recognise as any one
class. That is the other side of its smoothness.</p>
"""

class ComparisonScores:
    """ComparisonPanel's scores, continuity histogram and least real decodings, judged at the threshold set."""

    # -- construction -------------------------------------------------------------------
    def _scores_table(self) -> QTableWidget:
        table = QTableWidget(5, 2, objectName="scoresTable")
        table.setHorizontalHeaderLabels(["AE", "VAE"])
        table.setVerticalHeaderLabels(
            ["Continuity ↓", "Completeness ↑", "  prior samples", "  grid points", "Nearest real image ↓"]
        )
        table.verticalHeaderItem(0).setToolTip(
            "RMS pixel change per unit step (in units of the codes' spread); lower is smoother"
        )
        table.verticalHeaderItem(4).setToolTip("Mean pixel distance of a decoding to its nearest training image")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setFixedHeight(
            table.horizontalHeader().sizeHint().height() + 5 * rows.defaultSectionSize()
            + 2 * table.frameWidth()
        )  # fmt: skip
        return table

    def _build_tabs(self) -> QTabWidget:
        """The scores, the spread of continuity, the least real decodings and how it is all measured."""
        self.scoresTable = self._scores_table()
        self.noteLabel = note_label("noteLabel", wrap=True)
        scores = column(self.scoresTable, self.noteLabel, 1, margins=(2, 2, 2, 2))

        self.histogramPlot = pg.PlotWidget(objectName="histogramPlot")
        self.histogramPlot.setLabel("bottom", "continuity per test point")
        self.histogramPlot.setLabel("left", "points")
        self.histogramPlot.setMouseEnabled(x=False, y=False)
        self.histogramPlot.hideButtons()
        self.histogramPlot.getAxis("bottom").enableAutoSIPrefix(False)
        legend = self.histogramPlot.addLegend(offset=(-10, 5))
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))  # readable over the bars it may cover
        self.aeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(AE_COLOUR, width=1.5), brush=(*AE_COLOUR, 70), name="AE"
        )
        self.vaeHistogram = self.histogramPlot.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen(VAE_COLOUR, width=1.5), brush=(*VAE_COLOUR, 70), name="VAE"
        )
        self.worstView = ImageGridView("The least real-looking decodings of each model appear here.", natural_scale=2)
        self.worstView.setObjectName("worstView")
        self.worstView.setToolTip("Decodings of prior samples and grid points, the classifier's least trusted first")
        self.explanationLabel = QLabel(EXPLANATION, objectName="explanationLabel")
        self.explanationLabel.setTextFormat(Qt.TextFormat.RichText)
        self.explanationLabel.setWordWrap(True)
        self.explanationLabel.setAlignment(Qt.AlignmentFlag.AlignTop)
        explanation = QScrollArea()
        explanation.setWidget(self.explanationLabel)
        explanation.setWidgetResizable(True)
        explanation.setFrameShape(QFrame.Shape.NoFrame)
        explanation.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.resultTabs = page_tabs(
            "resultTabs",
            (scores, "Scores"),
            (self.histogramPlot, "Continuity per point"),
            (self.worstView, "Least real"),
            (explanation, "How it is measured"),
        )
        return self.resultTabs
    # -- results -----------------------------------------------------------------------
    def _show_scores(self) -> None:
        """Scores, histogram and worst decodings; the threshold re-scores without recomputing anything."""
        result = self.result
        if result is None:
            return
        rows: list[np.ndarray] = []
        flags: list[np.ndarray] = []
        captions: list[str] = []
        for col, picture in enumerate((result.ae, result.vae)):
            comparison = picture.comparison
            complete = comparison.completeness
            threshold = self._threshold(complete)
            shares = complete.shares(threshold)
            values = [
                f"{comparison.continuity.score:.3f}",
                *(["—"] * 3 if shares is None else [f"{share:.0%}" if np.isfinite(share) else "—" for share in shares]),
                f"{complete.nearest_distance.mean():.2f}",
            ]
            for row, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.scoresTable.setItem(row, col, item)
            worst = complete.worst_first[:WORST_SHOWN]
            rows.append(complete.images[worst])
            if complete.confidence is None:
                flags.append(np.zeros(len(worst), bool))
                captions += [f"d {complete.nearest_distance[i]:.1f}" for i in worst]
            else:
                flags.append(complete.confidence[worst] < threshold)
                captions += [f"{complete.confidence[i]:.0%}" for i in worst]
        self.noteLabel.setText(self._note(result.ae.comparison.completeness, result.vae.comparison.completeness))
        self.worstView.set_images(np.stack(rows), row_labels=["AE", "VAE"], captions=captions, flagged=np.stack(flags))
        self._show_pictures()
        self._show_histogram()

    def _threshold(self, completeness: Completeness) -> float:
        """The bar a model's decodings are judged at now: its calibrated one at "per model"."""
        fixed = self._fixed_threshold()
        if fixed is None and completeness.calibrated_threshold is not None:
            return completeness.calibrated_threshold
        return completeness.threshold if fixed is None else fixed

    def _note(self, ae: Completeness, vae: Completeness) -> str:
        """How decodings were judged, with the threshold now set (the core's note states the one used)."""
        if vae.confidence is None:
            return vae.note
        accuracy = vae.classifier_accuracy
        quoted = f" (test accuracy {accuracy:.1%})" if accuracy is not None and np.isfinite(accuracy) else ""
        text = f"A decoding counts as real when a classifier trained on the real images{quoted} gives one class "
        if self._fixed_threshold() is not None:
            return text + f"a probability of at least {self._threshold(vae):.0%}."
        return text + (
            f"a probability of at least AE {self._threshold(ae):.0%}, VAE {self._threshold(vae):.0%}: the level 95% "
            "of each model's reconstructions of real test images reach (at least 50%)."
        )

    def _show_histogram(self) -> None:
        result = self.result
        assert result is not None
        ae, vae = result.ae.comparison.continuity.per_point, result.vae.comparison.continuity.per_point
        edges = np.histogram_bin_edges(np.concatenate([ae, vae]), bins=HISTOGRAM_BINS)
        for values, curve in ((ae, self.aeHistogram), (vae, self.vaeHistogram)):
            counts, _ = np.histogram(values, bins=edges)
            curve.setData(edges, counts)
