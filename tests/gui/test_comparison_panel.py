"""The AE-versus-VAE panel: one click trains the pair, scores both and shows why: maps with the prior,
decoded prior samples, a class-mean path, scores and samples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyqtgraph as pg
import pytest
from plot_items import drawn  # tests/gui is on the path: pytest puts a test file's folder there

from vae_studio.core.ae_vs_vae import DEFAULT_LATENT_DIM, PairSettings
from vae_studio.core.app_state import AppState, Event
from vae_studio.core.data import ImageDataset
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.panels.comparison import ComparisonPanel
from vae_studio.gui.panels.comparison import panel as comparison
from vae_studio.gui.panels.comparison.scores import WORST_SHOWN

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def small_work(quick_realism_classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """A realism classifier trained in a second (private cache) and a few hundred decodings per model."""
    small = PairSettings(
        map_points=200, manifold_tiles=5, compare_points=60, prior_samples=30, grid_size=4, samples_shown=6,
        path_steps=7,
    )  # fmt: skip
    monkeypatch.setattr(comparison, "DEFAULTS", small)


@pytest.fixture
def state(tiny_mnist: ImageDataset, tiny_model: TrainedModel) -> AppState:
    state = AppState()
    state.set_dataset(tiny_mnist)
    state.add_model(tiny_model)
    return state


@pytest.fixture
def panel(qtbot, state: AppState, small_work) -> Iterator[ComparisonPanel]:
    panel = ComparisonPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    panel.latentDimSpin.setValue(2)
    panel.subsetSpin.setValue(300)
    panel.epochsSpin.setValue(1)
    yield panel
    panel.shutdown()


def table_text(panel: ComparisonPanel, row: int, col: int) -> str:
    item = panel.scoresTable.item(row, col)
    return "" if item is None else item.text()


def test_trains_the_pair_and_shows_both_scores(qtbot, panel: ComparisonPanel, state: AppState, tiny_model) -> None:
    progress: list[tuple[float, str] | None] = []
    state.subscribe(Event.PROGRESS, lambda: progress.append(state.progress))
    panel.compareButton.click()
    assert panel.task.busy and not panel.compareButton.isEnabled() and panel.stopButton.isEnabled()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.statusLabel.text().startswith("Done"), panel.statusLabel.text()

    # Both models were trained alike and added to the session; the shown model stays.
    assert state.current is tiny_model and len(state.models) == 3
    ae, vae = state.models[1:]
    assert (ae.config.kind, vae.config.kind) == ("ae", "vae") and ae.config.latent_dim == vae.config.latent_dim == 2
    assert ae.train_config == vae.train_config and ae.train_config.train_subset == 300
    assert "(comparison)" in ae.name

    # Progress went through the stages to the status bar and was cleared at the end.
    texts = [text for entry in progress if entry is not None for text in [entry[1]]]
    assert any("training the AE and the VAE" in t for t in texts) and any("scoring the VAE" in t for t in texts)
    assert progress[-1] is None and state.progress is None

    result = panel.result
    for col, picture in enumerate((result.ae, result.vae)):
        continuity = float(table_text(panel, 0, col))
        assert continuity == pytest.approx(picture.comparison.continuity.score, abs=1e-3) and continuity > 0
        assert table_text(panel, 1, col) == f"{picture.comparison.completeness.score:.0%}"
        assert float(table_text(panel, 4, col)) == pytest.approx(
            picture.comparison.completeness.nearest_distance.mean(), abs=0.01
        )
        assert len(picture.comparison.continuity.per_point) == 60
    # By default each model is judged at its own calibrated bar, which the note states.
    assert panel.thresholdSpin.text() == "per model"
    for picture in (result.ae, result.vae):
        complete = picture.comparison.completeness
        assert complete.threshold == complete.calibrated_threshold >= 0.5
        assert f"{complete.threshold:.0%}" in panel.noteLabel.text()
    assert "reconstructions" in panel.noteLabel.text()

    # Same axes for both maps (to the pixel the layout may give one plot more), the manifold behind the points.
    x0, y0, side = result.square
    assert np.allclose(panel.aeMap.viewRange(), panel.vaeMap.viewRange(), rtol=0, atol=0.01 * side)
    (ae_points,), (vae_points,) = drawn(panel.aeMap, pg.ScatterPlotItem), drawn(panel.vaeMap, pg.ScatterPlotItem)
    assert len(ae_points.data) == len(vae_points.data) == 200
    (ae_manifold,) = drawn(panel.aeMap, pg.ImageItem)
    assert ae_manifold.image is not None and ae_manifold.image.shape[:2] == (5 * 28, 5 * 28)
    (vx0, vx1), (vy0, vy1) = panel.aeMap.viewRange()  # the square, widened on one axis to the plot's shape
    assert vx0 <= x0 + 1e-6 and vx1 >= x0 + side - 1e-6 and vy0 <= y0 + 1e-6 and vy1 >= y0 + side - 1e-6

    # Per-point continuity histograms on shared bins, and the worst decodings of both models.
    ae_x, ae_counts = panel.aeHistogram.getData()
    vae_x, vae_counts = panel.vaeHistogram.getData()
    assert np.array_equal(ae_x, vae_x) and ae_counts.sum() == vae_counts.sum() == 60
    worst = panel.worstView.images()
    assert worst.shape[:2] == (2, WORST_SHOWN)
    ae_complete = result.ae.comparison.completeness
    assert np.array_equal(worst[0], ae_complete.images[ae_complete.worst_first[: WORST_SHOWN]])

    # The pictures of why: prior circles and the class-mean path on each map, samples and path decoded by both.
    assert panel.samplesView.images().shape[:2] == (2, 6) and panel.pathView.images().shape[:2] == (2, 7)
    assert np.array_equal(panel.samplesView.images()[1], result.vae.samples)
    assert np.array_equal(panel.pathView.images()[0], result.ae.path)
    assert panel.samplesView.cell_rect(0, 0).width() >= 56  # thumbnails at least 56 px
    cx, cy = result.vae.prior_centre
    circle_x, circle_y = drawn(panel.vaeMap, pg.PlotCurveItem)[1].getData()
    assert np.allclose(np.hypot(circle_x - cx, circle_y - cy), 2.0)
    ae_path = drawn(panel.aeMap)[-1]  # the class-mean path, drawn last (above the points)
    assert np.allclose(np.stack(ae_path.getData(), axis=1), result.ae.path_xy)
    assert "“0”" in panel.pathTitle.text() and "“1”" in panel.pathTitle.text()
    assert min(panel.aeMap.width(), panel.aeMap.height(), panel.vaeMap.width(), panel.vaeMap.height()) >= 300

    # A fixed threshold re-scores from the stored confidences, without running anything.
    panel.thresholdSpin.setValue(0.9)
    assert not panel.task.busy
    score, prior, grid = result.vae.comparison.completeness.shares(0.9)
    assert table_text(panel, 1, 1) == f"{score:.0%}" and table_text(panel, 2, 1) == f"{prior:.0%}"
    assert table_text(panel, 3, 1) == f"{grid:.0%}" and "at least 90%." in panel.noteLabel.text()
    real = result.vae.comparison.completeness.confidence >= 0.9
    assert score == pytest.approx(np.mean([real[:30].mean(), real[30:].mean()]))
    panel.thresholdSpin.setValue(comparison.PER_MODEL)
    assert table_text(panel, 1, 0) == f"{ae_complete.score:.0%}" and "reconstructions" in panel.noteLabel.text()

    # The same settings again: both models are reused, nothing new is trained or added.
    panel.compareButton.click()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert len(state.models) == 3 and "Reused" in panel.statusLabel.text()
    assert panel.result.ae.trained is ae and panel.result.vae.trained is vae


def test_stop_ends_the_run_without_adding_models(qtbot, panel: ComparisonPanel, state: AppState) -> None:
    panel.subsetSpin.setValue(600)
    panel.epochsSpin.setValue(200)  # far longer than the test waits
    panel.compareButton.click()
    qtbot.waitUntil(lambda: state.progress is not None and "training" in state.progress[1], timeout=RUN_TIMEOUT_MS)
    panel.stopButton.click()
    assert panel.statusLabel.text() == "Stopping…" and not panel.stopButton.isEnabled()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.statusLabel.text().startswith("Stopped while training") and panel.result is None
    assert len(state.models) == 1 and state.progress is None
    assert panel.compareButton.isEnabled()


def test_not_while_a_model_trains(panel: ComparisonPanel, state: AppState) -> None:
    assert panel.compareButton.isEnabled()
    state.set_training(True)
    assert not panel.compareButton.isEnabled()
    panel.start()
    assert not panel.task.busy
    state.set_training(False)
    assert panel.compareButton.isEnabled()


def test_close_setting_is_explained_with_a_switch(qtbot, panel: ComparisonPanel, state: AppState) -> None:
    assert panel.latentDimSpin.value() == 2
    assert panel.closeLabel.isVisible() and panel.switchButton.isVisible() and "close" in panel.closeLabel.text()
    panel.latentDimSpin.setValue(5)
    assert not panel.closeLabel.isVisible() and not panel.switchButton.isVisible()
    panel.latentDimSpin.setValue(2)
    panel.switchButton.click()  # one click: the lesson's latent size, trained and compared
    assert panel.latentDimSpin.value() == DEFAULT_LATENT_DIM and panel.task.busy
    assert not panel.closeLabel.isVisible()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.result.ae.trained.config.latent_dim == DEFAULT_LATENT_DIM
    assert panel.result.ae.plane_labels == ("PC1", "PC2")


def test_defaults_are_the_lessons(qtbot, state: AppState) -> None:
    panel = ComparisonPanel(state)
    qtbot.addWidget(panel)
    try:
        defaults = PairSettings()
        assert panel.settings() == defaults  # the same experiment as `vae-studio compare --train`
        assert defaults.latent_dim == DEFAULT_LATENT_DIM > 2 and not panel.switchButton.isVisibleTo(panel)
    finally:
        panel.shutdown()


def test_stop_while_scoring_keeps_the_trained_pair(qtbot, panel: ComparisonPanel, state: AppState) -> None:
    panel.compareButton.click()
    qtbot.waitUntil(lambda: state.progress is not None and "scoring" in state.progress[1], timeout=RUN_TIMEOUT_MS)
    panel.stopButton.click()
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.statusLabel.text().startswith("Stopped while scoring") and panel.result is None
    ae, vae = state.models[1:]
    assert (ae.config.kind, vae.config.kind) == ("ae", "vae") and "(comparison)" in vae.name
    panel.compareButton.click()  # scores the kept pair without training it again
    qtbot.waitUntil(lambda: not panel.task.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.result.ae.trained is ae and panel.result.vae.trained is vae and len(state.models) == 3
