"""How responsive and fast the desktop app is (issues 3 and 10). Run on demand (it is not a test)::

    python benchmarks/gui_responsiveness.py                 # everything (several minutes)
    python benchmarks/gui_responsiveness.py --skip-training --skip-launch

Figures, all measured in the real ``MainWindow`` (headless: ``QT_QPA_PLATFORM=offscreen`` unless a
display is set; Qt then paints with its software rasteriser, as on most lab machines):

1. Click-to-preview latency on the 784-400-2 MLP VAE: from sending the mouse press of a click on
   the latent map (press + release, delivered synchronously to the map's viewport) to the moment
   the preview's ``decodedView`` receives the decoded image. Median and 95th percentile over
   ``--clicks`` clicks at random positions of the visible map, reported apart for clicks on empty
   space and for clicks on a dot (which also select that image; every panel that shows the
   selection redraws on the next event-loop turn). Target: median <= 10 ms.
2. ``--training-runs`` real training runs started from the training panel (one epoch of all
   60,000 MNIST images, or ``--subset``, z = 2, map refresh every 50 steps, a probe and a
   selected image in the preview so every snapshot redraws them too), each followed by the same
   run through ``vae-studio train`` in this process, with the same thread count:
   - the longest GUI-thread stall of each run: a 10 ms QTimer measures how late each of its
     ticks fires, from the click until 0.2 s after the run's end (so the showing of the finished
     run counts). Target: <= 50 ms in every run. The same timer with the window idle for 3 s
     first shows how much of that the machine's other load accounts for; ``--with-overlays``
     measures the runs again with the decoded manifold, σ ellipses and posterior samples shown.
   - the window's throughput as a share of the command line's (seconds of the command line's
     run / seconds of the window's, click to end), median over the runs. Target: >= 90 %.
3. Frames per second while panning, then zooming, a map of 70,000 points (all of MNIST, train +
   test, encoded): the view is translated (scaled) and the event loop turns (and paints the frame),
   ``--frames`` times each, as mouse moves and wheel steps come; with every point and the grid drawn while the view moves (pyqtgraph's
   atlas path alone) and as the app draws a moving view (a subset of the points and no grid,
   gui/widgets/fast_scatter.py). Target: >= 60 frames per second (issue 10).
4. Launch to window shown: a fresh Python process runs the app's start-up (``gui.app.Launch``):
   the time from starting the process to the first expose event of its first window (the loading
   window, shown before torch is imported; the benchmark checks that torch was not yet imported),
   and to the main window's first expose event. Median of ``--launches``. Target: window shown
   <= 2 s (issue 10).

The machine may be shared with other work: compare figures from one run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from vae_studio.core.threads import configure_threads  # noqa: E402

configure_threads()  # as the app does before torch is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QPoint, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from vae_studio.cli import run_cli  # noqa: E402
from vae_studio.core.app_state import Event  # noqa: E402
from vae_studio.core.config import TrainConfig  # noqa: E402
from vae_studio.core.recipe import new_trained_model  # noqa: E402
from vae_studio.gui.widgets import fast_scatter  # noqa: E402
from vae_studio.gui.app import configure_pyqtgraph, set_application_names  # noqa: E402
from vae_studio.gui.work.gc_pauses import freeze_long_lived_objects  # noqa: E402
from vae_studio.gui.main_window import MainWindow  # noqa: E402

TARGET_PREVIEW_MS = 10.0
TARGET_STALL_MS = 50.0
TARGET_SHARE = 90.0  # in-app training throughput, % of the command line's (issue 10)
TARGET_FPS = 60.0
TARGET_LAUNCH_S = 2.0
TIMEOUT_S = 120.0
AFTER_RUN_MS = 200  # the stall measurement goes on this long after a run ends

# The child process of the launch measurement: the app's own start-up (gui/app.Launch, as run_app
# runs it), reporting the wall-clock time of the first window's first expose event (the loading
# window) and whether torch was imported by then, and of the main window's, then closing cleanly.
LAUNCH_CHILD = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from vae_studio.gui.app import Launch, set_application_names

class ExposeWatch(QObject):
    shown = False

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Expose and getattr(watched, "isExposed", lambda: False)():
            if not self.shown:
                self.shown = True
                print(f"SHOWN {time.time():.6f} {'torch' in sys.modules}", flush=True)
            window = launch.window
            if window is not None and watched is window.windowHandle():
                print(f"READY {time.time():.6f}", flush=True)
                QTimer.singleShot(0, finish)
                app.removeEventFilter(self)
        return False

def finish():
    launch.window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    launch.window.close()
    app.quit()

set_application_names()
app = QApplication(sys.argv[:1])
watch = ExposeWatch()
app.installEventFilter(watch)
launch = Launch([])
launch.start()
app.exec()
launch.imports.wait()
"""


def wait_until(app: QApplication, condition, what: str, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.002)


def report(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    print(f"  {name:<44} {value:10.2f} {unit:<4} (target {target}: {'met' if ok else 'NOT met'})")


def new_window(app: QApplication) -> MainWindow:
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    freeze_long_lived_objects()  # as gui.app.run_app does once the window is up
    wait_until(app, lambda: window.state.dataset is not None, "the default data set")
    return window


def close_window(app: QApplication, window: MainWindow) -> None:
    window.confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    window.close()
    window.deleteLater()
    app.processEvents()


def send_click(viewport, pos: QPoint) -> None:
    left = Qt.MouseButton.LeftButton
    press, release = QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease
    for kind, buttons in ((press, left), (release, Qt.MouseButton.NoButton)):
        global_pos = QPointF(viewport.mapToGlobal(pos))
        event = QMouseEvent(kind, QPointF(pos), global_pos, left, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)


def click_latency(app: QApplication, clicks: int) -> None:
    window = new_window(app)
    state = window.state
    trained = new_trained_model(state.dataset, TrainConfig(), "bench", latent_dim=2)  # 784-400-2 MLP VAE
    trained.model.eval()
    state.add_model(trained)
    wait_until(app, lambda: state.encoding is not None, "the test split's encoding")
    app.processEvents()
    panel, view = window.panels["latentMap"], window.panels["preview"].decodedView
    plot = panel.latentMap
    set_at: list[float] = []
    original_set_image = view.set_image

    def timed_set_image(image) -> None:
        set_at.append(time.perf_counter())
        original_set_image(image)

    view.set_image = timed_set_image  # instance attribute: only this window's preview is timed
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    rng = np.random.default_rng(0)
    latencies: list[float] = []
    selecting: list[float] = []  # clicks on a dot also select it (on the next event-loop turn)
    while len(latencies) + len(selecting) < clicks:
        xy = QPointF(rng.uniform(x0, x1), rng.uniform(y0, y1))
        scene = plot.getViewBox().mapViewToScene(xy)
        if panel.legend.sceneBoundingRect().contains(scene):
            continue  # a click on the legend shows or hides a class instead
        pos = plot.mapFromScene(scene)
        state.select(None)
        app.processEvents()
        set_at.clear()
        start = time.perf_counter()
        send_click(plot.viewport(), pos)
        if not set_at:
            raise SystemExit("a click on the map did not reach the preview")
        latency = (set_at[-1] - start) * 1000
        app.processEvents()  # paint and show the selection, as between two real clicks
        (latencies if state.selected_index is None else selecting).append(latency)
    view.set_image = original_set_image
    close_window(app, window)
    median, p95 = statistics.median(latencies), float(np.percentile(latencies, 95))
    print(f"Click to preview, 784-400-2 MLP, {len(latencies)} clicks on empty space:")
    report("median", median, "ms", f"<= {TARGET_PREVIEW_MS:g} ms", median <= TARGET_PREVIEW_MS)
    report("95th percentile", p95, "ms", "-", True)
    if selecting:
        print(f"  ... and {len(selecting)} clicks on a dot (which also select it):")
        report("median", statistics.median(selecting), "ms", "-", True)
        report("95th percentile", float(np.percentile(selecting, 95)), "ms", "-", True)


def lateness_of_10ms_ticks(app: QApplication, stop_when) -> np.ndarray:
    """Run the event loop until the callback that ``stop_when(stop)`` arranges calls ``stop()``, and
    return how late (ms) each tick of a 10 ms timer fired."""
    ticks: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer(interval=10, timerType=Qt.TimerType.PreciseTimer)
    probe.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
    # Qt's own event loop, as in the app (app.exec): Python runs only for events. A loop of
    # processEvents() calls would hold the GIL most of the time and slow the training thread; so
    # would a timer polling for the end (it woke the GUI thread 50 times a second).
    loop = QEventLoop()
    stop_when(loop.quit)
    clock.start()
    probe.start()
    loop.exec()
    probe.stop()
    return np.diff(np.array(ticks)) - 10.0


def idle_baseline(app: QApplication) -> None:
    """The same timer with the window open and idle: what the machine's load alone costs."""
    window = new_window(app)
    lateness = lateness_of_10ms_ticks(app, lambda stop: QTimer.singleShot(3000, stop))
    close_window(app, window)
    print("GUI-thread stalls with the window idle for 3 s (the machine's own noise):")
    report("longest stall", float(lateness.max()), "ms", "-", True)


def window_training_run(app: QApplication, overlays: bool, subset: int) -> tuple[float, np.ndarray]:
    """One epoch of MNIST (``subset`` images; 0: all 60,000), z = 2, map refresh every 50 steps,
    started from the training panel, with a probe and a selected image in the preview so every
    snapshot redraws them too: (seconds from the click to the end, lateness of each 10 ms tick)."""
    window = new_window(app)
    state, training = window.state, window.panels["training"]
    training.modelKindCombo.setCurrentIndex(training.modelKindCombo.findData("vae"))
    training.archCombo.setCurrentIndex(training.archCombo.findData("mlp"))
    training.latentDimSpin.setValue(2)
    training.epochsSpin.setValue(1)
    training.subsetSpin.setValue(subset)
    training.refreshStepsSpin.setValue(50)
    panel = window.panels["latentMap"]
    for check in (panel.manifoldCheck, panel.ellipsesCheck, panel.samplesCheck):
        check.setChecked(overlays)

    def probe_and_select() -> None:
        if state.training and state.encoding is not None and state.probe is None:
            state.select(0)
            state.set_probe(np.zeros(2))

    # Once the map shows the run, look at a point and an image, as a user would: with clicks of their
    # own, in event-loop turns of their own, not inside the turn that shows the map. A timer, as a
    # click is an event of its own: Qt runs a singleShot(0) call in the same pass as the events
    # posted before it, as if the click had come with the map.
    look = QTimer(singleShot=True, interval=0, timeout=probe_and_select)

    def look_once_shown() -> None:
        look.start()

    state.subscribe(Event.ENCODING, look_once_shown)
    # The run's end is taken when the state says it (not by polling); the ticks go on for
    # AFTER_RUN_MS more, so the window's showing of the finished run counts among the stalls.
    ended: list[float] = []
    stops: list = []

    def on_training() -> None:
        if not state.training and stops:
            ended.append(time.perf_counter())
            QTimer.singleShot(AFTER_RUN_MS, stops.pop())

    started = time.perf_counter()
    training.trainButton.click()
    if not state.training:
        raise SystemExit("the training panel did not start a run")
    state.subscribe(Event.TRAINING, on_training)
    lateness = lateness_of_10ms_ticks(app, stops.append)
    seconds = ended[0] - started
    state.unsubscribe(Event.TRAINING, on_training)
    state.unsubscribe(Event.ENCODING, look_once_shown)
    close_window(app, window)
    return seconds, lateness


def cli_training_run(subset: int) -> float:
    """The same run through ``vae-studio train`` (its run_cli, in this process: the data set is
    already in memory, as in the window), with the thread policy as the command line applies it
    (the count for the load now, and the governor while training), as the window's run has it."""
    with tempfile.TemporaryDirectory() as folder:
        argv = ["train", "--dataset", "mnist", "--latent-dim", "2", "--epochs", "1", "--out", f"{folder}/run.vae"]
        argv += ["--subset", str(subset)] if subset else []
        outcome: list[int] = []

        def train() -> None:
            with open(os.devnull, "w") as quiet:
                outcome.append(run_cli(argv, quiet, quiet))

        # On a thread of its own, as in its own process: the main thread is the window's, which
        # runs torch on one thread (core/threads.py); a thread's OpenMP team goes when it ends.
        started = time.perf_counter()
        thread = threading.Thread(target=train)
        thread.start()
        thread.join()
        if outcome != [0]:
            raise SystemExit("vae-studio train failed")
        return time.perf_counter() - started


def training(app: QApplication, runs: int, overlays: bool, subset: int) -> None:
    """``runs`` window runs, each followed by the same run on the command line (interleaved, so both see
    the same machine load): the longest GUI-thread stall of every window run, and the window's
    training throughput as a share of the command line's."""
    label = "manifold, σ ellipses and posterior samples shown" if overlays else "default overlays"
    images = f"{subset:,}" if subset else "all 60,000"
    print(f"Training 1 epoch of MNIST ({images} images, z = 2, map refresh every 50 steps, {label}):")
    # Warm-up, not counted: the first optimiser of the process imports torch._dynamo (seconds).
    window_training_run(app, overlays, 1000)
    cli_training_run(1000)
    longest, shares = [], []
    for index in range(runs):
        if index % 2:  # alternate which goes first, so neither always meets the other's leftovers
            cli_s = cli_training_run(subset)
            window_s, lateness = window_training_run(app, overlays, subset)
        else:
            window_s, lateness = window_training_run(app, overlays, subset)
            cli_s = cli_training_run(subset)
        longest.append(float(lateness.max()))
        shares.append(cli_s / window_s)
        print(
            f"  run {index + 1}: window {window_s:5.1f} s, command line {cli_s:5.1f} s ({cli_s / window_s:4.0%}); "
            f"longest stall {longest[-1]:4.0f} ms, 99th percentile {np.percentile(lateness, 99):4.0f} ms "
            f"(load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    met = sum(stall <= TARGET_STALL_MS for stall in longest)
    report("runs with longest stall <= 50 ms", float(met), "of", str(runs), met == runs)
    report("longest stall, worst run", max(longest), "ms", f"<= {TARGET_STALL_MS:g} ms", max(longest) <= TARGET_STALL_MS)
    share = statistics.median(shares) * 100
    report("window throughput / command line's, median", share, "%", f">= {TARGET_SHARE:g} %", share >= TARGET_SHARE)


def pan_fps(app: QApplication, frames: int) -> None:
    window = new_window(app)
    state = window.state
    mnist = state.dataset
    # All of MNIST as the map's split: 70,000 points.
    everything = replace(
        mnist,
        test_images=torch.cat([mnist.train_images, mnist.test_images]),
        test_labels=torch.cat([mnist.train_labels, mnist.test_labels]),
    )
    trained = new_trained_model(mnist, TrainConfig(), "bench", latent_dim=2)
    trained.model.eval()
    state.set_dataset(everything)
    state.add_model(trained)
    wait_until(app, lambda: state.encoding is not None, "the 70,000-point encoding")
    panel = window.panels["latentMap"]
    wait_until(app, lambda: len(panel.scatter.data) == 70_000, "the points")
    plot, vb = panel.latentMap, panel.latentMap.getViewBox()
    app.processEvents()
    plot.viewport().repaint()  # warm-up: the symbol atlas is built on the first paint
    size = f"{plot.viewport().width()}x{plot.viewport().height()} px viewport"
    print(f"Panning and zooming a 70,000-point map ({size}, load average {os.getloadavg()[0]:.1f}):")
    motion = vb.findChild(fast_scatter.ViewMotion)
    for label, simplify in (("every point and the grid while moving", False), ("the app's subset, no grid", True)):
        wait_until(app, lambda: not motion.moving, "a still view")
        motion.blockSignals(not simplify)  # without its signals the map draws as if the view stood still
        pan, zoom = view_change_fps(vb, frames)
        target = f">= {TARGET_FPS:g}" if simplify else "-"
        report(f"pan, {label}", pan, "fps", target, pan >= TARGET_FPS or not simplify)
        report(f"zoom, {label}", zoom, "fps", target, zoom >= TARGET_FPS or not simplify)
    motion.blockSignals(False)
    close_window(app, window)


def view_change_fps(vb, frames: int) -> tuple[float, float]:
    """Frames per second while the view pans, then while it zooms (back and forth, the cloud stays in view)."""
    (x0, x1), _ = vb.viewRange()
    step = (x1 - x0) / 200
    rates = []
    for move in (
        lambda i: vb.translateBy(x=step if (i // 50) % 2 == 0 else -step),
        lambda i: vb.scaleBy((0.98, 0.98) if (i // 50) % 2 == 0 else (1 / 0.98, 1 / 0.98)),
    ):
        start = time.perf_counter()
        for i in range(frames):
            move(i)
            # Each step of a pan or zoom comes with an event of its own (a mouse move, a wheel step), and
            # the event loop paints the frame (the map tells a moving view by changes in two turns).
            QApplication.processEvents()
        rates.append(frames / (time.perf_counter() - start))
    return rates[0], rates[1]


def launch_time(launches: int) -> None:
    shown, ready, early = [], [], []
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for _ in range(launches):
        with tempfile.TemporaryDirectory() as home:
            env["XDG_CONFIG_HOME"] = home  # fresh settings: the default layout, as on first launch
            start = time.time()
            result = subprocess.run(
                [sys.executable, "-c", LAUNCH_CHILD], env=env, capture_output=True, text=True, timeout=TIMEOUT_S
            )
        marks = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
        if "SHOWN" not in marks or "READY" not in marks:
            raise SystemExit(f"the app did not show its window:\n{result.stderr[-2000:]}")
        shown.append(float(marks["SHOWN"][0]) - start)
        early.append(marks["SHOWN"][1] == "False")
        ready.append(float(marks["READY"][0]) - start)
    median = statistics.median(shown)
    print(f"Launch ({launches} fresh processes, load average {os.getloadavg()[0]:.1f}):")
    report("window shown, median", median, "s", f"<= {TARGET_LAUNCH_S:g} s", median <= TARGET_LAUNCH_S)
    report("window shown, slowest", max(shown), "s", "-", True)
    report("window shown before torch was imported", float(sum(early)), "of", str(launches), all(early))
    report("main window ready, median", statistics.median(ready), "s", "-", True)
    report("main window ready, slowest", max(ready), "s", "-", True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--skip-clicks", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--training-runs", type=int, default=5, help="training runs in the window (and on the CLI)")
    parser.add_argument("--subset", type=int, default=0, help="training images per run (default 0: all 60,000)")
    parser.add_argument(
        "--with-overlays", action="store_true", help="also train with the manifold, σ ellipses and samples shown"
    )
    parser.add_argument("--skip-pan", action="store_true")
    parser.add_argument("--skip-launch", action="store_true")
    args = parser.parse_args()

    settings = tempfile.TemporaryDirectory()  # never read or change the user's settings
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings.name)
    set_application_names()
    configure_pyqtgraph()
    app = QApplication(sys.argv[:1])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, Qt platform {app.platformName()}")
    if not args.skip_clicks:
        click_latency(app, args.clicks)
    if not args.skip_training:
        idle_baseline(app)
        training(app, args.training_runs, False, args.subset)
        if args.with_overlays:
            training(app, args.training_runs, True, args.subset)
    if not args.skip_pan:
        pan_fps(app, args.frames)
    if not args.skip_launch:
        launch_time(args.launches)
    settings.cleanup()


if __name__ == "__main__":
    main()
