"""The thread policy: its decisions as a pure function, the governor that follows the load while
training, and that every entry point sets torch's thread count before torch is imported (in fresh
processes, since this one has torch already)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vae_studio.core import threads
from vae_studio.core.errors import ConfigError
from vae_studio.core.threads import choose_threads, configure_threads

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cores", "others", "reserved", "physical", "expected"),
    [
        (2, 0.0, 0.0, None, 2),  # a quiet laptop: both cores
        (2, 0.2, 0.0, None, 2),  # background noise leaves a core free enough
        (2, 1.0, 0.0, None, 1),  # a browser keeps one core busy
        (2, 0.5, 0.0, None, 1),  # half a core taken: the team would wait for it at every barrier
        (2, 3.0, 0.0, None, 1),  # never fewer than one thread
        (2, 0.0, 1.0, None, 1),  # one core kept for this process's GUI thread
        (16, 0.0, 0.0, 8, 8),  # hyper-threads: no more than the physical cores (torch's default)
        (16, 4.0, 0.0, 8, 8),
        (16, 10.0, 0.0, 8, 6),
        (1, 0.0, 0.0, None, 1),
    ],
)
def test_choose_threads(cores: int, others: float, reserved: float, physical: int | None, expected: int) -> None:
    assert choose_threads(cores, others, reserved, physical) == expected


def test_choose_threads_needs_a_core() -> None:
    with pytest.raises(ValueError):
        choose_threads(0, 0.0)


@pytest.fixture
def torch_threads() -> Iterator[None]:
    """Restores torch's thread count and the policy's state after a test that changes them."""
    import torch

    before, automatic = torch.get_num_threads(), threads._automatic
    yield
    torch.set_num_threads(before)
    threads._automatic = automatic


def test_a_requested_count_wins_and_is_applied(monkeypatch: pytest.MonkeyPatch, torch_threads: None) -> None:
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    choice = configure_threads(1)
    assert choice.threads == 1 and choice.requested
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert torch.get_num_threads() == 1  # torch was imported already: applied directly
    assert not threads._automatic  # the governor leaves it alone


def _governor_with_clock(monkeypatch: pytest.MonkeyPatch) -> tuple[threads.ThreadGovernor, dict[str, float]]:
    """A governor on a two-core machine whose load figures the test sets: CPU seconds used by all
    programs, by this process, and the wall clock."""
    clock = {"busy": 0.0, "own": 0.0, "wall": 0.0}
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "physical_cores", lambda: None)
    monkeypatch.setattr(threads.LoadMeter, "_now", lambda _self: (clock["busy"], clock["own"], clock["wall"]))
    monkeypatch.setattr(threads.LoadMeter, "_clock", staticmethod(lambda: clock["wall"]))
    return threads.ThreadGovernor(), clock


def test_the_governor_follows_other_programs(monkeypatch: pytest.MonkeyPatch, torch_threads: None) -> None:
    import torch

    monkeypatch.setattr(threads, "_automatic", True)
    torch.set_num_threads(2)
    governor, clock = _governor_with_clock(monkeypatch)
    clock.update(busy=4.0, own=2.0, wall=2.0)  # 2 s: both cores busy, half of it another program's
    governor.on_step()
    assert torch.get_num_threads() == 1
    clock.update(busy=6.0, own=3.9, wall=3.0)  # sooner than the interval: no new look
    governor.on_step()
    assert torch.get_num_threads() == 1
    clock.update(busy=6.5, own=4.0, wall=4.0)  # the other program has stopped: 0.25 cores of others
    governor.on_step()
    assert torch.get_num_threads() == 2


def test_the_governor_leaves_a_chosen_count_alone(monkeypatch: pytest.MonkeyPatch, torch_threads: None) -> None:
    import torch

    monkeypatch.setattr(threads, "_automatic", False)
    torch.set_num_threads(1)
    governor, clock = _governor_with_clock(monkeypatch)
    clock.update(busy=2.0, own=2.0, wall=4.0)  # a quiet machine
    governor.on_step()
    assert torch.get_num_threads() == 1


def test_a_negative_count_is_a_user_error() -> None:
    with pytest.raises(ConfigError, match="threads"):
        configure_threads(-1)


# Records torch's environment at the moment torch is first imported, then runs the given code.
_WATCH = r"""
import json, os, sys
seen = {}
class Watch:  # consulted first for every module not yet imported; finds nothing itself
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.update({"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")})
        return None
sys.meta_path.insert(0, Watch())
try:
    exec(sys.argv[1])
finally:
    print("SEEN " + json.dumps(seen))
"""


def _run_watched(code: str, tmp_path: Path) -> tuple[dict[str, str | None], str]:
    """Run ``code`` in a fresh Python: torch's environment when torch was first imported, and the output."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(REPO)
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run(
        [sys.executable, "-c", _WATCH, code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("SEEN ")]
    assert lines, result.stderr
    return json.loads(lines[-1][len("SEEN ") :]), result.stdout


def _environment_at_torch_import(code: str, tmp_path: Path) -> dict[str, str | None]:
    return _run_watched(code, tmp_path)[0]


def test_the_command_line_sets_the_environment_before_torch(tmp_path: Path) -> None:
    code = "from vae_studio.__main__ import main; main(['sample', 'missing.vae', '--out', 'x.png', '--threads', '1'])"
    seen = _environment_at_torch_import(code, tmp_path)
    assert seen == {"OMP_NUM_THREADS": "1"}


def test_help_does_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom vae_studio.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    assert _environment_at_torch_import(code, tmp_path) == {}


# The window's start-up, in a fresh process (Qt only there): the loading window is up before torch is
# imported, torch is imported with the policy's environment, and the main window follows.
_WINDOW = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from vae_studio.gui import app

start = app.Launch.start

def close_main_window(launch):
    if launch.window is None:
        QTimer.singleShot(20, lambda: close_main_window(launch))
        return
    print("MAIN WINDOW", type(launch.window).__name__)
    launch.window._confirm_discard = lambda unsaved: QMessageBox.StandardButton.Discard
    launch.window.close()

def watched_start(launch):
    start(launch)
    print("LOADING SHOWN", launch.loading.isVisible(), "TORCH", "torch" in sys.modules)
    close_main_window(launch)

app.Launch.start = watched_start
from vae_studio.__main__ import main
assert main([]) == 0
"""


def test_the_window_shows_before_torch_and_sets_its_environment(tmp_path: Path) -> None:
    # Private settings: an empty config home (QSettings' native format on Linux reads it).
    code = f"import os; os.environ['XDG_CONFIG_HOME'] = {str(tmp_path)!r}\nexec({_WINDOW!r})"
    seen, out = _run_watched(code, tmp_path)
    assert "LOADING SHOWN True TORCH False" in out
    assert "MAIN WINDOW MainWindow" in out
    assert int(seen["OMP_NUM_THREADS"]) >= 1


def test_a_second_choice_in_one_process_stays_automatic(monkeypatch: pytest.MonkeyPatch, torch_threads: None) -> None:
    # configure_threads writes OMP_NUM_THREADS for torch; reading its own value back as the user's
    # would silence the governor for every later run in the process (the window, a benchmark).
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_written", None)
    assert not configure_threads().requested
    assert not configure_threads().requested and threads._automatic
    # The user's own count (never one the policy chose: that never exceeds the cores).
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert configure_threads().requested


@pytest.mark.parametrize(
    ("others", "running", "expected"),
    [
        (0.0, 0, True),  # a quiet machine: yield to the window's GUI thread
        (1.0, 1, True),  # a browser on one core: the tasks still have the other
        (1.5, 2, False),  # other programs want both cores
        (1.0, 2, False),  # two programs that shared the cores with this process: each got half of one
        (2.0, None, False),  # busy cores alone say it where threads cannot be counted
        (None, None, True),  # nothing can be read (not Linux): as before
    ],
)
def test_tasks_yield_to_the_gui_only_while_a_core_is_free(
    monkeypatch: pytest.MonkeyPatch, others: float | None, running: int | None, expected: bool
) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "others_running_threads", lambda: running)
    meter = threads.LoadMeter()
    monkeypatch.setattr(meter, "due", lambda _interval_s: True)
    monkeypatch.setattr(meter, "_now", lambda: (others, 0.0, 1.0))
    meter._mark = (0.0, 0.0, 0.0)  # 1 s ago: others used ``others`` cores' worth of CPU since
    monkeypatch.setattr(threads, "_machine_load", meter)
    assert threads.tasks_may_yield() is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_other_programs_running_threads_are_counted() -> None:
    # This test's own running thread is not another program's; a busy child process is.
    before = threads.others_running_threads()
    assert before is not None and before >= 0
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        seen = max(threads.others_running_threads() or 0 for _ in range(200))
    finally:
        busy.kill()
        busy.wait()
    assert seen >= 1


# The window's GUI thread after a script trained on it: torch there runs on one thread and its
# OpenMP helpers are given back, while a task thread still gets the configured team.
_SERIAL = r"""
import os, threading
from vae_studio.core.threads import configure_threads, run_torch_serially_here, use_configured_threads_here
configure_threads(2)
import torch
x = torch.randn(1000, 1000)
(x @ x).exp_().sum()  # this thread now owns a team of two
before = len(os.listdir("/proc/self/task"))
run_torch_serially_here()
after = len(os.listdir("/proc/self/task"))
configure_threads(2)  # e.g. the window's Threads menu: for the tasks, not for this thread
(x @ x).exp_().sum()
seen = {}
def task():
    use_configured_threads_here()
    (x @ x).exp_().sum()
    seen["task"] = torch.get_num_threads()
worker = threading.Thread(target=task)
worker.start()
worker.join()
print("THREADS", torch.get_num_threads(), seen["task"], before - after)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_the_gui_thread_runs_torch_serially_and_gives_its_team_back(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_NUM_THREADS", None)
    result = subprocess.run([sys.executable, "-c", _SERIAL], env=env, capture_output=True, text=True, timeout=120)
    line = next((line for line in result.stdout.splitlines() if line.startswith("THREADS")), None)
    assert line is not None, result.stderr
    gui, task, released = (int(v) for v in line.split()[1:])
    assert (gui, task) == (1, 2)
    assert released >= 1  # the GUI thread's OpenMP helper ended
