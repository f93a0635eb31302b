"""The latent map: points, view planes, overlays, and the mouse as an exact latent-space probe."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsItem, QHBoxLayout, QLabel, QWidget

from vae_studio.core.app_state import AppState, Event
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.latent import Encoding, ViewPlane, decode, encode, posterior_samples
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.trained_model import TrainedModel
from vae_studio.gui.widgets.images import to_uint8_hwc
from vae_studio.gui.panels.latent_map import layers as map_layers
from vae_studio.gui.panels.latent_map import panel as latent_map
from vae_studio.gui.panels.latent_map.view_plane import HIT_RADIUS_PX
from vae_studio.gui.widgets.colours import class_colours
from vae_studio.gui.panels.latent_map import LatentMapPanel, anchored
from vae_studio.gui.panels.preview import PreviewPanel

TIMEOUT_MS = 15_000


@pytest.fixture
def panels(qtbot, tiny_mnist: ImageDataset) -> Iterator[tuple[AppState, LatentMapPanel, PreviewPanel]]:
    """A map and a preview sharing one state, shown side by side, with the 300-image test split loaded."""
    state = AppState()
    container = QWidget()
    qtbot.addWidget(container)
    map_panel, preview = LatentMapPanel(state), PreviewPanel(state)
    layout = QHBoxLayout(container)
    layout.addWidget(map_panel, 3)
    layout.addWidget(preview, 1)
    container.resize(1000, 700)
    container.show()
    qtbot.waitExposed(container)
    state.set_dataset(tiny_mnist)
    yield state, map_panel, preview
    map_panel.shutdown()
    preview.shutdown()


def show_model(qtbot, panel: LatentMapPanel, trained: TrainedModel) -> None:
    """Make ``trained`` current and wait until the map shows its encoding."""
    panel.state.add_model(trained)
    qtbot.waitUntil(lambda: panel.state.encoding is not None, timeout=TIMEOUT_MS)
    settle(panel)


def settle(panel: LatentMapPanel) -> None:
    """Paint once: pyqtgraph applies the locked aspect ratio to a new range lazily, before painting."""
    panel.latentMap.viewport().repaint()
    QApplication.processEvents()


def untrained(dataset: ImageDataset, **options: object) -> TrainedModel:
    return new_trained_model(dataset, TrainConfig(), "untrained", **options)


def widget_pos(panel: LatentMapPanel, xy: tuple[float, float]) -> QPoint:
    """The viewport pixel showing plane point ``xy``."""
    scene = panel.latentMap.getViewBox().mapViewToScene(QPointF(*xy))
    return panel.latentMap.mapFromScene(scene)


def plane_of(panel: LatentMapPanel, pos: QPoint) -> np.ndarray:
    p = panel.latentMap.getViewBox().mapSceneToView(panel.latentMap.mapToScene(pos))
    return np.array([p.x(), p.y()])


def send_mouse(
    panel: LatentMapPanel,
    kind: QEvent.Type,
    pos: QPoint,
    buttons: Qt.MouseButton,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
) -> None:
    viewport = panel.latentMap.viewport()
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewport, event)


def click(qtbot, panel: LatentMapPanel, xy: tuple[float, float]) -> QPoint:
    pos = widget_pos(panel, xy)
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.wait(max(QApplication.doubleClickInterval(), 0) + 20)  # the next click is not a double click
    return pos


def assert_click_decodes_exactly(qtbot, state: AppState, panel: LatentMapPanel, preview: PreviewPanel, xy) -> None:
    pos = widget_pos(panel, xy)
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    # Checked at once, in the view the click saw (a selection shown later may resize the layout).
    z = panel.latent_at(panel.latentMap.mapToScene(pos))
    np.testing.assert_array_equal(state.probe, z)
    np.testing.assert_array_equal(z, state.view.to_latent(plane_of(panel, pos)))
    np.testing.assert_array_equal(preview.decodedView.image(), decode(state.current.model, z)[0])
    qtbot.wait(QApplication.doubleClickInterval() + 20)  # the next click is not a double click


def isolated_point(panel: LatentMapPanel) -> int:
    """The point farthest (on screen) from its nearest neighbour, so a click on it hits it alone."""
    vb = panel.latentMap.getViewBox()
    px, py = vb.viewPixelSize()
    xy = panel.plane_points() / np.array([px, py])
    d2 = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    visible = np.array([vb.viewRect().contains(QPointF(*p)) for p in panel.plane_points()])
    return int(np.argmax(np.where(visible, d2.min(1), -1)))


def test_encodes_off_thread_and_draws_class_coloured_points(qtbot, panels, tiny_model, monkeypatch) -> None:
    state, panel, _ = panels
    threads: list[int] = []
    real_encode = latent_map.encode

    def recording_encode(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(latent_map, "encode", recording_encode)
    show_model(qtbot, panel, tiny_model)

    assert threads and threading.get_ident() not in threads
    dataset = state.dataset
    n = len(dataset.test_images)
    expected = encode(tiny_model.model, dataset.test_images)
    np.testing.assert_allclose(state.encoding.mu, expected.mu, atol=1e-6)
    assert state.view.kind == "axes" and (state.view.x_label, state.view.y_label) == ("z1", "z2")
    assert len(panel.scatter.data) == n
    np.testing.assert_allclose(np.c_[panel.scatter.data["x"], panel.scatter.data["y"]], state.encoding.mu, atol=1e-6)
    colours = class_colours(10)
    labels = dataset.test_labels.numpy()
    for i in range(0, n, 37):
        brush = panel.scatter.data["brush"][i].color()
        assert brush.rgb() == colours[labels[i]].rgb()
    assert [label.text for _, label in panel.legend.items] == list(dataset.class_names)
    plot_item = panel.latentMap.getPlotItem()
    assert plot_item.getAxis("bottom").labelText == "z1" and plot_item.getAxis("left").labelText == "z2"


def test_newer_encoding_request_supersedes_a_running_one(qtbot, panels, tiny_model, tiny_mnist, monkeypatch) -> None:
    state, panel, _ = panels
    first = untrained(tiny_mnist)
    real_encode = latent_map.encode
    first_weight = next(first.model.parameters())
    chunks_of_first: list[int] = []

    def slow_encode(model, *args, **kwargs):
        # The task encodes a copy of the model; recognise the first one by its weights.
        if torch.equal(next(model.parameters()), first_weight):
            chunks_of_first.append(1)
        time.sleep(0.05)  # long enough that the second request arrives while the first still runs
        return real_encode(model, *args, **kwargs)

    monkeypatch.setattr(latent_map, "encode", slow_encode)
    monkeypatch.setattr(latent_map, "ENCODE_CHUNK", 50)  # six chunks: the first task is stopped between two
    state.add_model(first)
    qtbot.waitUntil(lambda: len(chunks_of_first) > 0, timeout=TIMEOUT_MS)  # the first encoding runs
    state.add_model(tiny_model)
    qtbot.waitUntil(lambda: state.encoding is not None, timeout=TIMEOUT_MS)
    np.testing.assert_allclose(state.encoding.mu, encode(tiny_model.model, tiny_mnist.test_images).mu, atol=1e-6)
    # The superseded task stopped between chunks rather than encoding the whole split.
    assert 0 < len(chunks_of_first) < len(tiny_mnist.test_images) // 50


def test_click_decodes_exactly_the_latent_under_the_cursor(qtbot, panels, tiny_model) -> None:
    state, panel, preview = panels
    show_model(qtbot, panel, tiny_model)
    (x0, x1), (y0, y1) = panel.latentMap.getViewBox().viewRange()
    for fx, fy in ((0.5, 0.5), (0.2, 0.8), (0.85, 0.3)):
        assert_click_decodes_exactly(qtbot, state, panel, preview, (x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)))
        # The crosshair marks the probe.
        cx, cy = panel._crosshair.data["x"][0], panel._crosshair.data["y"][0]
        np.testing.assert_allclose((cx, cy), state.view.to_plane(state.probe))


def test_left_drag_scrubs_without_panning(qtbot, panels, tiny_model) -> None:
    state, panel, preview = panels
    show_model(qtbot, panel, tiny_model)
    vb = panel.latentMap.getViewBox()
    range_before = vb.viewRange()
    images: list[np.ndarray] = []
    state.subscribe(Event.PROBE, lambda: images.append(preview.decodedView.image().copy()))

    (x0, x1), (y0, y1) = range_before
    path = [widget_pos(panel, (x0 + f * (x1 - x0), y0 + 0.5 * (y1 - y0))) for f in np.linspace(0.15, 0.85, 8)]
    left = Qt.MouseButton.LeftButton
    send_mouse(panel, QEvent.Type.MouseButtonPress, path[0], left)
    for pos in path[1:]:
        qtbot.wait(15)  # pyqtgraph drops moves closer together than 10 ms
        send_mouse(panel, QEvent.Type.MouseMove, pos, left)
    send_mouse(panel, QEvent.Type.MouseButtonRelease, path[-1], Qt.MouseButton.NoButton)

    distinct = {image.tobytes() for image in images}
    assert len(distinct) >= 5
    np.testing.assert_array_equal(vb.viewRange(), range_before)
    # The probe ends where the drag ended, decoded exactly.
    z = panel.latent_at(panel.latentMap.mapToScene(path[-1]))
    np.testing.assert_array_equal(state.probe, z)
    np.testing.assert_array_equal(preview.decodedView.image(), decode(tiny_model.model, z)[0])


def test_click_on_a_point_selects_it_and_the_preview_shows_it(qtbot, panels, tiny_model) -> None:
    state, panel, preview = panels
    show_model(qtbot, panel, tiny_model)
    index = isolated_point(panel)
    pos = widget_pos(panel, tuple(panel.plane_points()[index]))
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    # The probe is the point under the cursor, decoded at once; the selection follows a turn later.
    np.testing.assert_array_equal(state.probe, panel.latent_at(panel.latentMap.mapToScene(pos)))
    qtbot.waitUntil(lambda: state.selected_index == index)
    assert preview.selectionBox.isVisible()
    dataset, encoding = state.dataset, state.encoding
    np.testing.assert_array_equal(preview.originalView.image(), dataset.test_images[index].numpy() / 255.0)
    np.testing.assert_array_equal(preview.reconstructionView.image(), decode(tiny_model.model, encoding.mu[index])[0])
    z = posterior_samples(encoding.mu[index], encoding.logvar[index], n=8, seed=index)
    samples = decode(tiny_model.model, z)
    for view, image in zip(preview.sampleViews, samples, strict=True):
        np.testing.assert_array_equal(view.image(), image)
    # The map's sample cloud shows the same draws, projected.
    np.testing.assert_allclose(np.c_[panel._samples.data["x"], panel._samples.data["y"]], state.view.to_plane(z))
    qtbot.wait(QApplication.doubleClickInterval() + 20)
    # A click on empty space keeps the selection.
    click(qtbot, panel, empty_spot(panel))
    assert state.selected_index == index


def empty_spot(panel: LatentMapPanel) -> tuple[float, float]:
    """A visible plane position with no dot within three hit radii (asserted to exist, never skipped)."""
    view_box = panel.latentMap.getViewBox()
    (x0, x1), (y0, y1) = view_box.viewRange()
    pixel_w, pixel_h = view_box.viewPixelSize()
    points = panel.plane_points()
    for fx in np.linspace(0.03, 0.97, 17):
        for fy in np.linspace(0.03, 0.97, 17):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            if np.hypot((points[:, 0] - x) / pixel_w, (points[:, 1] - y) / pixel_h).min() > 3 * HIT_RADIUS_PX:
                return float(x), float(y)
    raise AssertionError("no empty spot on the map")


def test_view_planes_keep_click_decoding_exact(qtbot, panels, tiny_mnist) -> None:
    state, panel, preview = panels
    trained = untrained(tiny_mnist, latent_dim=3)
    show_model(qtbot, panel, trained)
    assert state.view.kind == "pca" and panel.viewKindCombo.currentText() == "PCA plane"
    assert panel.latentMap.getPlotItem().getAxis("bottom").labelText == "PC1"

    def centre() -> tuple[float, float]:
        (x0, x1), (y0, y1) = panel.latentMap.getViewBox().viewRange()
        return x0 + 0.4 * (x1 - x0), y0 + 0.6 * (y1 - y0)

    assert_click_decodes_exactly(qtbot, state, panel, preview, centre())

    panel.viewKindCombo.setCurrentIndex(0)  # latent axes z1, z2
    assert state.view.kind == "axes" and (state.view.x_label, state.view.y_label) == ("z1", "z2")
    panel.yAxisCombo.setCurrentIndex(2)
    assert (state.view.x_label, state.view.y_label) == ("z1", "z3")
    np.testing.assert_allclose(panel.plane_points(), state.encoding.mu[:, [0, 2]], atol=1e-6)
    assert_click_decodes_exactly(qtbot, state, panel, preview, centre())
    panel.xAxisCombo.setCurrentIndex(2)  # the y axis's: the two swap
    assert (state.view.x_label, state.view.y_label) == ("z3", "z1")

    # Through the selected point: off-plane coordinates come from its mu; the map does not move.
    index = 5
    state.select(index)
    before = panel.plane_points().copy()
    panel.anchorCheck.setChecked(True)
    np.testing.assert_allclose(panel.plane_points(), before)
    assert state.view.origin[1] == pytest.approx(state.encoding.mu[index, 1])
    assert_click_decodes_exactly(qtbot, state, panel, preview, centre())
    assert state.probe[1] == pytest.approx(state.encoding.mu[index, 1])

    panel.viewKindCombo.setCurrentIndex(1)
    assert state.view.kind == "pca"
    assert_click_decodes_exactly(qtbot, state, panel, preview, centre())
    # The anchored PCA plane passes through the selected point's mu.
    mu = state.encoding.mu[index].astype(np.float64)
    np.testing.assert_allclose(state.view.to_latent(state.view.to_plane(mu)), mu, atol=1e-6)

    # Clicking another dot while anchored moves the plane through it first, then probes that plane.
    other = isolated_point(panel)
    pos = widget_pos(panel, tuple(panel.plane_points()[other]))
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.selected_index == other
    np.testing.assert_array_equal(state.probe, panel.latent_at(panel.latentMap.mapToScene(pos)))
    mu = state.encoding.mu[other].astype(np.float64)
    np.testing.assert_allclose(state.view.to_latent(state.view.to_plane(mu)), mu, atol=1e-6)
    np.testing.assert_array_equal(preview.decodedView.image(), decode(trained.model, state.probe)[0])


def test_anchored_plane_keeps_plane_coordinates() -> None:
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((50, 5))
    view = ViewPlane.pca(mu)
    moved = anchored(view, mu[3])
    np.testing.assert_allclose(moved.to_plane(mu), view.to_plane(mu), atol=1e-12)
    np.testing.assert_allclose(moved.to_latent(moved.to_plane(mu[3])), mu[3], atol=1e-12)


def test_manifold_is_decoded_off_thread_and_drawn_behind_the_points(qtbot, panels, tiny_model, monkeypatch) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    threads: list[int] = []
    real_manifold = map_layers.manifold

    def recording_manifold(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_manifold(*args, **kwargs)

    monkeypatch.setattr(map_layers, "manifold", recording_manifold)
    panel.manifoldCheck.setChecked(True)
    qtbot.waitUntil(panel.manifoldImage.isVisible, timeout=TIMEOUT_MS)
    assert threads and threading.get_ident() not in threads
    image = panel.manifoldImage.image
    rect = panel.manifoldImage.mapRectToParent(panel.manifoldImage.boundingRect())
    assert image.shape[0] == image.shape[1] and image.shape[0] % 28 == 0
    view = panel.latentMap.getViewBox().viewRect()
    # Covers the view; along the longer side the edges are the view's own, up to rounding (centre ± side/2).
    slack = 1e-9 * rect.width()
    assert rect.adjusted(-slack, -slack, slack, slack).contains(view)
    assert panel.manifoldImage.zValue() < panel.scatter.zValue()
    assert panel.scatter.opacity() == map_layers.MANIFOLD_DOT_OPACITY  # dimmed so the decodings show through
    # The top-left tile is the decoding of its centre (rows flipped for the y-up view).
    n = image.shape[0] // 28
    step = rect.width() / n
    centre = np.array([rect.left() + step / 2, rect.bottom() - step / 2])
    expected = to_uint8_hwc(decode(tiny_model.model, state.view.to_latent(centre))[0])[:, :, 0]
    top_left = image[::-1][:28, :28]
    assert np.abs(top_left.astype(int) - expected.astype(int)).max() <= 1

    # Panning asks for a new picture (debounced), still off the GUI thread.
    calls = len(threads)
    panel.latentMap.getViewBox().translateBy(x=0.5)
    qtbot.waitUntil(lambda: len(threads) > calls, timeout=TIMEOUT_MS)
    assert threading.get_ident() not in threads

    panel.manifoldCheck.setChecked(False)
    assert not panel.manifoldImage.isVisible() and panel.scatter.opacity() == 1.0


def test_right_drag_pans_without_probing(qtbot, panels, tiny_model) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    vb = panel.latentMap.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    start = widget_pos(panel, ((x0 + x1) / 2, (y0 + y1) / 2))
    right = Qt.MouseButton.RightButton
    send_mouse(panel, QEvent.Type.MouseButtonPress, start, right, right)
    for dx in (20, 40, 60):
        qtbot.wait(15)
        send_mouse(panel, QEvent.Type.MouseMove, start + QPoint(dx, 0), right)
    send_mouse(panel, QEvent.Type.MouseButtonRelease, start + QPoint(60, 0), Qt.MouseButton.NoButton, right)
    (nx0, nx1), (ny0, ny1) = vb.viewRange()
    assert nx0 < x0 and nx1 - nx0 == pytest.approx(x1 - x0)  # dragged right: the view moved left, same zoom
    assert ny0 == pytest.approx(y0)
    assert state.probe is None


def test_training_encodings_follow_the_cloud_until_the_user_zooms(qtbot, panels, tiny_model, monkeypatch) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    vb = panel.latentMap.getViewBox()
    calls: list[object] = []
    monkeypatch.setattr(latent_map, "encode", lambda *a, **k: calls.append(a))
    state.set_training(True)
    # Not zoomed by the user yet: the view fits the cloud as it moves.
    shifted = Encoding(state.encoding.mu * 3.0, state.encoding.logvar)
    state.set_encoding(shifted)
    np.testing.assert_allclose(panel.scatter.data["x"], shifted.mu[:, 0], atol=1e-5)
    assert vb.viewRect().contains(QPointF(*shifted.mu[:, :2].max(0))) and vb.viewRect().contains(
        QPointF(*shifted.mu[:, :2].min(0))
    )
    # After a wheel zoom the user's view stays put.
    before = vb.viewRange()
    viewport = panel.latentMap.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    zoom = vb.viewRange()
    assert zoom[0][1] - zoom[0][0] < before[0][1] - before[0][0]  # the wheel zooms in
    state.set_encoding(Encoding(state.encoding.mu + 0.25, state.encoding.logvar))
    np.testing.assert_allclose(panel.scatter.data["y"], shifted.mu[:, 1] + 0.25, atol=1e-5)
    np.testing.assert_array_equal(vb.viewRange(), zoom)
    state.set_encoding(None)  # e.g. the training panel's model replaced: no idle encoding while training
    qtbot.wait(50)
    assert not calls  # no encoding was started


def test_training_refreshes_hold_the_view_while_the_cloud_stays_inside(qtbot, panels, tiny_model, monkeypatch) -> None:
    """A cloud that moves a little inside the view does not refit it (each refit redraws the axes, and the
    GUI thread shares the cores with training); one that leaves it does; the axes are pictures meanwhile."""
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    monkeypatch.setattr(latent_map, "encode", lambda *a, **k: None)
    vb = panel.latentMap.getViewBox()
    state.set_training(True)
    assert panel.latentMap.getPlotItem().getAxis("left").cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    mu = state.encoding.mu
    state.set_encoding(Encoding(mu * 1.5, state.encoding.logvar))  # leaves the fitted view: refit
    fitted = vb.viewRange()
    state.set_encoding(Encoding(mu * 1.4, state.encoding.logvar))  # inside it: held
    np.testing.assert_array_equal(vb.viewRange(), fitted)
    state.set_encoding(Encoding(mu * 3.0, state.encoding.logvar))  # out again: refit, with room
    (x0, x1), _ = vb.viewRange()
    assert x0 < 3.0 * mu[:, 0].min() and 3.0 * mu[:, 0].max() < x1
    held = vb.viewRange()
    state.set_training(False)  # the run's last refresh came before it ended: the finished model is fitted exactly
    qtbot.waitUntil(lambda: vb.viewRange() != held)
    assert panel.latentMap.getPlotItem().getAxis("left").cacheMode() == QGraphicsItem.CacheMode.NoCache
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x1 - x0) * (y1 - y0) < 0.8 * (held[0][1] - held[0][0]) * (held[1][1] - held[1][0])
    assert x0 < 3.0 * mu[:, 0].min() and 3.0 * mu[:, 0].max() < x1


def test_model_for_other_images_shows_a_message(qtbot, panels, tiny_model, tiny_mnist, monkeypatch) -> None:
    state, panel, _ = panels
    calls: list[object] = []
    real_encode = latent_map.encode

    def recording_encode(*args, **kwargs):
        calls.append(args)
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(latent_map, "encode", recording_encode)
    colour = replace(
        tiny_mnist,
        name="folder:/photos",
        train_images=torch.zeros((4, 3, 32, 32), dtype=torch.uint8),
        test_images=torch.zeros((4, 3, 32, 32), dtype=torch.uint8),
        train_labels=None,
        test_labels=None,
        class_names=(),
    )
    state.set_dataset(colour)
    state.add_model(tiny_model)
    qtbot.wait(50)
    assert panel.messageLabel.isVisible() and not panel.latentMap.isVisible()
    assert "1×28×28" in panel.messageLabel.text() and "3×32×32" in panel.messageLabel.text()
    assert not calls and state.encoding is None
    state.set_dataset(tiny_mnist)
    qtbot.waitUntil(lambda: state.encoding is not None, timeout=TIMEOUT_MS)
    assert calls and panel.latentMap.isVisible()


def test_hovering_a_point_shows_its_image(qtbot, panels, tiny_model) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    index = isolated_point(panel)
    on_dot = widget_pos(panel, tuple(panel.plane_points()[index]))
    send_mouse(panel, QEvent.Type.MouseMove, on_dot, Qt.MouseButton.NoButton)
    assert panel.hoverThumbnail.isVisible()
    assert panel.hoverThumbnail.findChild(QLabel, "hoverCaption").text().startswith(f"#{index}")
    qtbot.wait(15)
    send_mouse(panel, QEvent.Type.MouseMove, widget_pos(panel, empty_spot(panel)), Qt.MouseButton.NoButton)
    assert not panel.hoverThumbnail.isVisible()


def test_ellipses_and_prior_circles_follow_the_plane(qtbot, panels, tiny_model) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    panel.ellipsesCheck.setChecked(True)
    x, y = panel._ellipses.getData()
    assert np.isnan(x).sum() == map_layers.ELLIPSE_SAMPLE
    # Each ellipse of an axes view spans mu +- sigma along both axes.
    rows = panel._ellipse_rows
    sigma = state.encoding.sigma[rows[0]]
    first_x, first_y = x[:33], y[:33]
    assert first_x.max() - first_x.min() == pytest.approx(2 * sigma[0], rel=1e-3)
    assert first_y.max() - first_y.min() == pytest.approx(2 * sigma[1], rel=1e-3)
    px, py = panel._prior.getData()
    radius = np.hypot(px, py)
    np.testing.assert_allclose(np.unique(np.round(radius[np.isfinite(radius)], 6)), [1.0, 2.0])
    panel.priorCheck.setChecked(False)
    x, _ = panel._prior.getData()
    assert x is None or len(x) == 0


def test_in_the_main_window_an_opened_checkpoint_is_mapped_and_clicks_decode(
    qtbot, main_window, tiny_checkpoint
) -> None:
    trained = main_window.open_checkpoint(tiny_checkpoint)
    state, panel = main_window.state, main_window.panels["latentMap"]
    qtbot.waitUntil(lambda: state.encoding is not None, timeout=TIMEOUT_MS)
    assert len(panel.scatter.data) == len(state.dataset.test_images)
    settle(panel)
    preview = main_window.panels["preview"]
    (x0, x1), (y0, y1) = panel.latentMap.getViewBox().viewRange()
    assert_click_decodes_exactly(qtbot, state, panel, preview, (0.3 * x0 + 0.7 * x1, 0.6 * y0 + 0.4 * y1))
    assert state.current is trained


def test_legend_entries_hide_and_show_their_class(qtbot, panels, tiny_model) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    labels = state.dataset.test_labels.numpy()
    sample = panel.legend.items[3][0]
    entry = panel.latentMap.mapFromScene(sample.sceneBoundingRect().center())
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=entry)
    np.testing.assert_array_equal(panel.scatter.data["visible"], labels != 3)
    assert state.probe is None  # the click was the legend's, not a probe
    # A hidden point cannot be selected: a click on it only probes.
    hidden = int(np.flatnonzero(labels == 3)[0])
    xy = tuple(panel.plane_points()[hidden])
    assert panel._nearest_point(panel.latentMap.mapToScene(widget_pos(panel, xy))) != hidden
    qtbot.wait(QApplication.doubleClickInterval() + 20)
    qtbot.mouseClick(panel.latentMap.viewport(), Qt.MouseButton.LeftButton, pos=entry)
    assert panel.scatter.data["visible"].all()


def test_a_collapsed_model_is_flagged_on_the_map_with_the_prior_in_view(
    qtbot, panels: tuple[AppState, LatentMapPanel, PreviewPanel], tiny_mnist: ImageDataset
) -> None:
    state, panel, _ = panels
    show_model(qtbot, panel, untrained(tiny_mnist, latent_dim=8))

    def shown(std: float) -> None:
        """Codes spread by ``std`` in every dimension, as training might leave them; collapsed dimensions
        have the prior as posterior (sigma 1), used ones a narrow one."""
        mu = np.random.default_rng(0).normal(0.0, std, (len(tiny_mnist.test_images), 8)).astype(np.float32)
        state.set_encoding(Encoding(mu, np.full_like(mu, 0.0 if std < 0.05 else np.log(0.01))))
        settle(panel)

    shown(0.001)
    assert panel.mapNotice.isVisible()
    assert panel.mapNotice.text().splitlines()[0] == "0 of 8 dimensions active: the decoder ignores z"
    # The prior's 2-sigma circle is in the fitted view, not off screen around a cloud scaled x0.001.
    (x0, x1), (y0, y1) = panel.latentMap.getViewBox().viewRange()
    assert x0 <= -2 and x1 >= 2 and y0 <= -2 and y1 >= 2
    shown(1.0)
    assert not panel.mapNotice.isVisible()


def test_the_axes_keep_their_room_while_one_model_is_shown(qtbot, panels, tiny_model, tiny_mnist) -> None:
    """Pans, zooms and training refreshes change the tick labels' width: the axes do not follow them
    back and forth (each change is a layout and a second repaint); another model fits them anew."""
    state, panel, _ = panels
    show_model(qtbot, panel, tiny_model)
    left, vb = panel.latentMap.getAxis("left"), panel.latentMap.getViewBox()
    fitted = left.width()
    vb.setRange(yRange=(-12345.0, 12345.0), padding=0)  # long labels
    settle(panel)
    wide = left.width()
    assert wide > fitted
    vb.autoRange()  # short labels again
    settle(panel)
    assert left.width() == wide
    other = new_trained_model(tiny_mnist, TrainConfig(), "other", latent_dim=2)
    other.model.eval()
    show_model(qtbot, panel, other)
    assert left.width() < wide


def test_a_selection_and_the_probe_repaint_the_map_as_one_rectangle(qtbot, panels, tiny_model) -> None:
    """A ring, posterior samples and a crosshair far apart were clipped to a region of several rectangles,
    and painting every layer through that clip cost more than a whole repaint."""
    state, panel, _preview = panels
    panel.samplesCheck.setChecked(True)
    show_model(qtbot, panel, tiny_model)
    far = int(np.argmax(np.linalg.norm(state.encoding.mu - state.encoding.mu[0], axis=1)))
    state.select(0)
    state.set_probe(state.encoding.mu[far])
    regions: list = []

    class PaintRegions(QWidget):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                regions.append(event.region())
            return False

    spy = PaintRegions()
    panel.latentMap.viewport().installEventFilter(spy)
    qtbot.wait(300)  # the first selection's paints are over
    regions.clear()
    state.select(far)  # the ring and its samples move across the map, the crosshair the other way
    state.set_probe(state.encoding.mu[0])
    qtbot.waitUntil(lambda: bool(regions), timeout=TIMEOUT_MS)
    assert [region.rectCount() for region in regions] == [1]
