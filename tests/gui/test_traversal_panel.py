"""The traversal panel: rows ordered by KL, the KL bar chart, the collapse warning, the factor table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QApplication

from vae_studio.core.app_state import AppState
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset, load_dataset
from vae_studio.core.factors import factor_analysis
from vae_studio.core.latent import decode, encode
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.core.traversal import dimension_usage, traversal_values
from vae_studio.gui.panels.traversal import TraversalPanel


def show(state: AppState, trained: TrainedModel, dataset: ImageDataset) -> None:
    """Make ``trained`` current with its test encoding, as the latent map would, and let the panel redraw
    (it does once per event-loop turn)."""
    state.add_model(trained)
    state.set_encoding(encode(trained.model, dataset.test_images))
    QApplication.processEvents()


@pytest.fixture
def state(tiny_mnist: ImageDataset) -> AppState:
    state = AppState()
    state.set_dataset(tiny_mnist)
    return state


@pytest.fixture
def panel(qtbot, state: AppState) -> Iterator[TraversalPanel]:
    panel = TraversalPanel(state)
    qtbot.addWidget(panel)
    panel.resize(360, 900)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()


def collapsed_vae(dataset: ImageDataset, latent_dim: int, used: int) -> TrainedModel:
    """A VAE whose encoder outputs exactly the prior (μ = 0, log σ² = 0) in all but ``used`` dimensions."""
    trained = new_trained_model(dataset, TrainConfig(), "collapsed", latent_dim=latent_dim)
    last = trained.model.encoder.head[-1]
    rows = [j for j in range(used, latent_dim)] + [latent_dim + j for j in range(used, latent_dim)]
    with torch.no_grad():
        last.weight[rows] = 0.0
        last.bias[rows] = 0.0
        last.weight[:used] *= 50.0  # untrained codes barely vary; these must, to count as active
    return trained


def test_rows_follow_kl_and_bars_show_dimension_usage(panel: TraversalPanel, state: AppState, tiny_mnist: ImageDataset) -> None:
    assert panel.traversalView.images() is None
    trained = new_trained_model(tiny_mnist, TrainConfig(), "z=5", latent_dim=5)
    show(state, trained, tiny_mnist)
    usage = dimension_usage(state.encoding)
    grid = panel.traversalView.images()
    assert grid.shape == (5, 9, 1, 28, 28)  # one row per latent dimension
    assert panel.rowsSpin.maximum() == 5 and panel.rowsSpin.value() == 5
    assert np.array_equal(panel.traversal.dims, usage.order)
    assert np.all(np.diff(usage.kl[panel.traversal.dims]) <= 0)  # most used first
    assert np.allclose(panel.klBars.opts["height"], usage.kl)
    assert np.array_equal(panel.klBars.opts["x"], np.arange(1, 6))
    assert f"{usage.n_active} of 5" in panel.activeLabel.text()
    assert not panel.factorBox.isVisible()  # MNIST has no known factors

    # Row r varies dimension order[r] over -3..3 from the chosen point, the others fixed.
    z = np.array([0.3, -0.2, 0.1, 0.5, -1.0])
    state.set_probe(z)
    values = traversal_values(9, 3.0)
    row = 1
    dim = panel.traversal.dims[row]
    codes = panel.traversal.codes[row]
    assert np.allclose(codes[:, dim], values)
    assert np.allclose(np.delete(codes, dim, axis=1), np.delete(z, dim))
    assert np.allclose(panel.traversalView.images()[row], decode(trained.model, codes), atol=1e-6)

    panel.rowsSpin.setValue(2)
    panel.stepsSpin.setValue(5)
    assert panel.traversalView.images().shape[:2] == (2, 5)
    assert np.array_equal(panel.traversal.dims, usage.order[:2])


def test_starting_points(panel: TraversalPanel, state: AppState, tiny_model: TrainedModel, tiny_mnist: ImageDataset) -> None:
    show(state, tiny_model, tiny_mnist)
    panel.pointCombo.setCurrentIndex(panel.pointCombo.findData("selected"))
    state.select(12)
    mu = state.encoding.mu[12]
    dims = panel.traversal.dims
    assert np.allclose(panel.traversal.codes[0, :, dims[1]], mu[dims[1]])
    assert "test image #12" in panel.pointLabel.text()
    panel.pointCombo.setCurrentIndex(panel.pointCombo.findData("origin"))
    assert np.allclose(panel.traversal.codes[0, :, dims[1]], 0.0)
    # The clicked point, once there is one.
    panel.pointCombo.setCurrentIndex(panel.pointCombo.findData("probe"))
    state.set_probe(np.array([1.5, -0.5]))
    assert np.allclose(panel.traversal.codes[0, :, dims[1]], [1.5, -0.5][dims[1]])
    assert "clicked" in panel.pointLabel.text()


def test_collapse_warning_for_a_collapsed_model(
    panel: TraversalPanel, state: AppState, tiny_mnist: ImageDataset, tiny_model: TrainedModel
) -> None:
    show(state, collapsed_vae(tiny_mnist, latent_dim=6, used=1), tiny_mnist)
    usage = panel.usage
    assert usage.n_active == 1 and usage.collapse_warning
    assert panel.collapseWarning.isVisible() and "5 of 6" in panel.collapseWarning.text()
    assert np.allclose(panel.klBars.opts["height"][1:], 0.0, atol=1e-6)
    # A collapsed dimension's row decodes one unchanging picture; the used one's row changes.
    rows = panel.traversalView.images()
    assert panel.traversal.dims[0] == 0
    assert np.ptp(rows[0], axis=0).max() > 1e-3
    # A trained model that uses its dimensions: no warning.
    show(state, tiny_model, tiny_mnist)
    assert panel.usage.n_active == 2 and not panel.collapseWarning.isVisible()


def test_plain_autoencoder_uses_the_variance_of_its_codes(panel: TraversalPanel, state: AppState, tiny_mnist: ImageDataset) -> None:
    ae = new_trained_model(tiny_mnist, TrainConfig(), "ae", kind="ae", latent_dim=3)
    show(state, ae, tiny_mnist)
    usage = panel.usage
    assert usage.kl is None and np.allclose(panel.klBars.opts["height"], usage.mu_variance)
    assert not panel.collapseWarning.isVisible()
    # Its traversal spans its codes' own spread rather than the prior's -3..3.
    values = traversal_values(9, 3.0, state.encoding.mu)
    dim = panel.traversal.dims[0]
    assert np.allclose(panel.traversal.codes[0, :, dim], values[dim])


@pytest.fixture(scope="module")
def small_shapes() -> ImageDataset:
    shapes = load_dataset("shapes")
    return replace(shapes, test_images=shapes.test_images[:600], test_labels=shapes.test_labels[:600],
                   test_factors=shapes.test_factors[:600])  # fmt: skip


def test_factor_table_on_shapes(panel: TraversalPanel, state: AppState, small_shapes: ImageDataset) -> None:
    state.set_dataset(small_shapes)
    show(state, new_trained_model(small_shapes, TrainConfig(dataset="shapes"), "shapes", latent_dim=4), small_shapes)
    assert panel.factorBox.isVisible()
    table = panel.factorTable
    names = small_shapes.factor_names
    assert table.columnCount() == len(names) == 5 and table.rowCount() == 4 + 1  # dims + the MIG row
    assert [table.horizontalHeaderItem(i).text() for i in range(5)] == list(names)
    expected = factor_analysis(state.encoding.mu, small_shapes.test_factors.numpy(), names)
    order = panel.usage.order
    for row, dim in enumerate(order):
        assert table.verticalHeaderItem(row).text() == f"z{dim + 1}"
        for col in range(5):
            assert table.item(row, col).text() == f"{expected.mutual_information[dim, col]:.2f}"
            assert table.item(row, col).font().bold() == (expected.best_by_mutual_information[col] == dim)
    panel.factorMeasureCombo.setCurrentIndex(panel.factorMeasureCombo.findData("correlation"))
    assert table.item(0, 2).text() == f"{expected.correlation[order[0], 2]:.2f}"
    assert "shape → z" in panel.factorSummary.text()
