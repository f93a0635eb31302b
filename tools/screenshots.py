"""Render the real main window offscreen after a short training run, for the README.

    make screenshots        (or: QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py)

Trains a VAE with a 2-D latent space on 10,000 MNIST images through the training panel, clicks
a test image's dot on the map so the preview shows it, and saves docs/screenshot-main.png; then
turns on the decoded-manifold overlay and saves docs/screenshot-manifold.png. Then, at a laptop's
1366x768, the home view (docs/screenshot-home-1366.png) and each lesson page brought up with
``MainWindow.show_panel`` (docs/screenshot-<panel>-1366.png; the AE-vs-VAE and anomaly pages after
their default run); last, the home view and the AE-vs-VAE page at full HD (…-1920.png).
Settings go to a temporary folder, so the window has its default layout and the user's settings
are untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1600, 1000)
LAPTOP_SIZE = (1366, 768)
FULL_HD_SIZE = (1920, 1080)
# The lesson pages photographed at laptop size, in the order of their tabs.
LESSONS = ("interpolation", "comparison", "generation", "traversal", "replay", "denoising", "anomaly", "evaluate")
# Generous: on a busy shared CPU a few epochs can take minutes (progress is printed meanwhile).
TRAINING_TIMEOUT_S = 1800


def _use_large_offscreen_screen(folder: Path) -> None:
    """Qt's offscreen screen is 800x800 unless configured; the window needs room for its default layout."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return  # a real display: use it as it is
    config = folder / "screen.json"
    width, height = FULL_HD_SIZE
    screen = {"name": "screenshots", "x": 0, "y": 0, "width": width + 100, "height": height + 100, "logicalDpi": 96}
    config.write_text(json.dumps({"screens": [screen]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def _run_events(seconds: float) -> None:
    """Run the window's events for ``seconds``, sleeping between turns.

    Not ``QTest.qWait``: PySide6 keeps the GIL for the whole wait, so the training task's Python
    thread would barely run (a worker counted 0.5 % of its iterations during a qWait).
    """
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while True:
        QApplication.processEvents()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.01))


class _Session:
    """The window being photographed, and waiting on it while its event loop runs."""

    def __init__(self, window) -> None:  # a MainWindow (imported after the platform is chosen)
        self.window = window
        self.state = window.state

    def wait(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        next_report = time.monotonic() + 10
        while not condition():
            now = time.monotonic()
            if now > deadline:
                raise SystemExit(f"screenshots: timed out after {seconds:.0f} s waiting for {what}")
            if now > next_report and self.state.progress is not None:
                fraction, text = self.state.progress
                print(f"  {what}: {fraction:.0%} ({text})", flush=True)
                next_report = now + 10
            _run_events(0.05)

    def settle(self, ms: int = 1000) -> None:
        _run_events(ms / 1000)  # lets timers, repaints and debounced redraws run

    def train(self, epochs: int, subset: int) -> None:
        """Train through the training panel's own controls, as a user would."""
        panel = self.window.panels["training"]
        self.wait(lambda: self.state.dataset is not None, 120, "the MNIST data set")
        panel.modelKindCombo.setCurrentIndex(panel.modelKindCombo.findData("vae"))
        panel.latentDimSpin.setValue(2)
        panel.epochsSpin.setValue(epochs)
        panel.subsetSpin.setValue(subset)
        panel.trainButton.click()
        self.wait(lambda: self.state.training, 60, "training to start")
        self.wait(lambda: not self.state.training, TRAINING_TIMEOUT_S, "training")
        self.wait(lambda: self.state.encoding is not None, 120, "the map's encoding")
        self.settle()

    def fit_map(self) -> None:
        """Fit the map's view to all its points, as the map's "A" (auto-range) button does."""
        self.window.panels["latentMap"].latentMap.getPlotItem().autoBtnClicked()
        self.settle()

    def click_a_point(self) -> None:
        """Click the dot of a typical test image, through the viewport as a user would (plane -> scene -> pixel).

        Typical: of the first thousand test images, one whose dot stands at least a few pixels from
        every other (so the click picks it rather than a neighbour) and lies nearest its class's median.
        """
        import numpy as np
        from PySide6.QtCore import QPointF, Qt
        from PySide6.QtTest import QTest

        latent_map = self.window.panels["latentMap"]
        plot = latent_map.latentMap
        view_box = plot.getPlotItem().getViewBox()
        points = latent_map.plane_points()
        labels = self.state.dataset.test_labels.numpy()
        pixels = points / np.array(view_box.viewPixelSize())
        candidates = [i for i in range(min(len(points), 1000)) if view_box.viewRect().contains(QPointF(*points[i]))]
        gaps = np.array([np.partition(np.hypot(*(pixels - pixels[i]).T), 1)[1] for i in candidates])
        apart = [i for i, gap in zip(candidates, gaps) if gap >= 3] or [candidates[int(np.argmax(gaps))]]
        medians = {label: np.median(pixels[labels == label], axis=0) for label in set(labels[apart])}
        index = min(apart, key=lambda i: np.hypot(*(pixels[i] - medians[labels[i]])))
        scene_pos = view_box.mapViewToScene(QPointF(*map(float, points[index])))
        QTest.mouseClick(
            plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, plot.mapFromScene(scene_pos)
        )
        self.wait(lambda: self.state.selected_index == index, 10, f"the click to select test image {index}")
        self.settle()

    def show_manifold(self) -> None:
        latent_map = self.window.panels["latentMap"]
        latent_map.manifoldCheck.setChecked(True)
        image = latent_map.manifoldImage
        self.wait(lambda: image.isVisible() and image.image is not None, 120, "the decoded manifold")
        self.settle()

    def laptop_pages(self, out: Path) -> list[Path]:
        """The home view and every lesson page at 1366x768, each brought up as the View menu does."""
        self.window.resize(*LAPTOP_SIZE)
        self.window.show_panel("latentMap")
        self.settle()
        self.fit_map()
        written = [self.save(out / "screenshot-home-1366.png")]
        for name in LESSONS:
            self.window.show_panel(name)
            self.settle(2000)
            if name == "anomaly":
                panel = self.window.panels["anomaly"]
                panel.run()
                self.wait(lambda: not panel.task.busy, 600, "the anomaly scores")
                self.settle()
            if name == "comparison":
                panel = self.window.panels["comparison"]
                panel.compareButton.click()  # the lesson's defaults, as a student would run them
                self.wait(lambda: not panel.task.busy, TRAINING_TIMEOUT_S, "the AE-vs-VAE pair")
                self.settle(2000)
            written.append(self.save(out / f"screenshot-{name}-1366.png"))
        return written

    def full_hd_pages(self, out: Path) -> list[Path]:
        """The home view and the AE-vs-VAE page on a full-HD screen."""
        self.window.resize(*FULL_HD_SIZE)
        written = []
        for name, file_name in (("latentMap", "home"), ("comparison", "comparison")):
            self.window.show_panel(name)
            self.settle(2000)
            written.append(self.save(out / f"screenshot-{file_name}-1920.png"))
        return written

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(path)):
            raise SystemExit(f"screenshots: could not write {path}")
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNG files (default: docs/)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default: 3)")
    parser.add_argument("--subset", type=int, default=10_000, help="training images (default: 10000)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="vae-studio-screenshots-"))
    _use_large_offscreen_screen(scratch)
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from vae_studio.core.checkpoint import save_checkpoint
    from vae_studio.gui.app import configure_pyqtgraph, set_application_names
    from vae_studio.gui.main_window import MainWindow

    set_application_names()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    configure_pyqtgraph()
    app = QApplication([sys.argv[0]])

    window = MainWindow()
    window.resize(*WINDOW_SIZE)
    window.show()
    session = _Session(window)
    try:
        session.train(args.epochs, args.subset)
        session.fit_map()
        session.click_a_point()
        written = [session.save(args.out / "screenshot-main.png")]
        session.show_manifold()
        written.append(session.save(args.out / "screenshot-manifold.png"))
        written += session.laptop_pages(args.out)
        written += session.full_hd_pages(args.out)
    finally:
        # The run's model is kept in the scratch folder, so closing has nothing unsaved to ask about
        # and stops every thread.
        for number, trained in enumerate(window.state.models):
            if trained.unsaved:
                save_checkpoint(trained, scratch / f"model-{number}.vae")
        window.state.models_changed()
        window.close()
        app.processEvents()
    print("wrote " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
