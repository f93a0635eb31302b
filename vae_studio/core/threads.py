"""How many threads torch's CPU kernels use, chosen for the machine and its load before torch starts.

Torch runs its CPU kernels on an OpenMP team (GNU libgomp in the Linux wheels). By default its
threads spin at every barrier until the slowest one arrives. When another program keeps a core
busy, the thread that lost its core holds up the spinning ones, which burn the time it needs:
on a two-core laptop with a browser busy, training the classic MNIST VAE slowed 3.5-8x
(issue 10; docs/PERFORMANCE.md has the figures). The fix is a team no larger than the cores
other programs leave free:

* at start-up, before torch starts its threads: ``OMP_NUM_THREADS`` before the import (or
  ``torch.set_num_threads`` before the first parallel kernel) from the load measured then;
* while training, :class:`ThreadGovernor` (a step callback) measures the load again every few
  seconds and changes the count of the training thread's team when another program arrives or
  leaves.

In the window a second rule matters as much: **only one thread may own a team**. libgomp spins at
a barrier only while it manages no more threads than there are CPUs; past that it sleeps and wakes
at every barrier (libgomp/config/linux/wait.h, ``do_spin``: ``gomp_managed_threads >
gomp_available_cpus`` selects the throttled spin count). A thread that once ran a parallel kernel
keeps its idle helpers for life, so after the GUI thread had copied weights or decoded a preview
on a team of its own, every training run on a task thread counted one helper too many: it took
1.7-2x as long as the same run on the command line. The GUI thread therefore runs torch on one
thread and gives its helpers back (:func:`run_torch_serially_here`); each task thread takes the
configured count when it starts (:func:`use_configured_threads_here`), except small requests
(the manifold picture, a traversal grid), which run on one thread beside a training run.

``OMP_WAIT_POLICY=PASSIVE`` (waiting threads sleep) was measured too: it avoids the collapse,
but with two threads it cost 45 % of the quiet speed here, more than one thread does, so the
wait policy is left as torch has it (a user's own setting is kept, as libgomp reads it).

:func:`configure_threads` runs at every entry point (the window, the command line,
``python -m vae_studio``); :func:`choose_threads` is the decision alone, a pure function.
This module must not import torch.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

# Sampling the other programs' load this long costs little at start-up and sees a busy core.
LOAD_SAMPLE_S = 0.15
# The free share of a core from which a thread is worth starting on it: a core another program
# keeps 60 % busy is not free.
FREE_CORE_SHARE = 0.6


@dataclass(frozen=True)
class ThreadChoice:
    """What :func:`configure_threads` decided, for the CLI's and the window's status lines."""

    threads: int
    cores: int
    others_busy: float | None  # cores other programs kept busy at the start (None: unknown)
    requested: bool  # the user asked for this count (--threads, the window's setting, OMP_NUM_THREADS)

    def describe(self) -> str:
        why = "as asked" if self.requested else "automatic"
        load = "" if self.others_busy is None or self.requested else f", others busy {self.others_busy:.1f}"
        return f"{self.threads} of {self.cores} cores ({why}{load})"


def choose_threads(cores: int, others_busy: float, reserved: float = 0.0, physical: int | None = None) -> int:
    """Threads for torch on ``cores`` usable cores while other programs keep ``others_busy`` of them
    busy and ``reserved`` more are kept for this process's own other threads (the window's GUI thread).

    A core counts as free when at least ``FREE_CORE_SHARE`` of it is left; never fewer than one
    thread, and never more than ``physical`` cores (torch's own default, which hyper-threads do not
    speed up) when that is known.
    """
    if cores < 1:
        raise ValueError("cores must be at least 1")
    free = cores - max(0.0, others_busy) - max(0.0, reserved)
    threads = math.floor(free + (1.0 - FREE_CORE_SHARE))
    limit = cores if physical is None else max(1, min(cores, physical))
    return max(1, min(limit, threads))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and ``taskset`` narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def physical_cores() -> int | None:
    """Physical cores among the usable ones (Linux sysfs), or None where that cannot be read."""
    try:
        cpus = os.sched_getaffinity(0)
        cores = {
            Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").read_text().strip()
            for cpu in cpus
        }
    except (AttributeError, OSError):
        return None
    return len(cores) or None


def busy_cpu_seconds() -> float | None:
    """CPU seconds all programs have used since boot (all but idle and iowait), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def others_running_threads() -> int | None:
    """Threads of other programs that are running or waiting for a core now (Linux), else None."""
    try:
        with open("/proc/stat") as f:
            running = next(int(line.split()[1]) for line in f if line.startswith("procs_running"))
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    own += f.read().rsplit(")", 1)[1].split()[0] == "R"
            except (OSError, IndexError):  # the thread ended meanwhile
                continue
    except (OSError, ValueError, StopIteration):
        return None
    return max(0, running - own)


class LoadMeter:
    """What other programs do between two readings, without sleeping (unlike :func:`others_busy_cores`):
    the cores they kept busy (deltas of /proc/stat less this process's own CPU time) and how many of
    their threads wanted a core at the reading (/proc/stat's ``procs_running`` less this process's
    running threads). The second tells two busy programs that shared two cores with this process
    (each got less than a core) from one that had a core to itself."""

    def __init__(self) -> None:
        self._mark = self._now()
        self.latest: float | None = None  # cores others kept busy, at the last reading
        self.others_running: int | None = None  # their threads that wanted a core, at the last reading

    @staticmethod
    def _clock() -> float:
        return time.perf_counter()

    def _now(self) -> tuple[float | None, float, float]:
        return busy_cpu_seconds(), time.process_time(), self._clock()

    @property
    def readable(self) -> bool:
        """Whether /proc/stat could be read (Linux)."""
        return self._mark[0] is not None

    def due(self, interval_s: float) -> bool:
        """Whether the previous reading (or the meter's start) is at least ``interval_s`` old."""
        return self._clock() - self._mark[2] >= interval_s

    def read(self) -> float | None:
        """Others' busy cores since the previous reading; None where /proc/stat cannot be read."""
        busy, own, wall = now = self._now()
        last_busy, last_own, last_wall = self._mark
        self._mark = now
        if busy is None or last_busy is None or wall <= last_wall:
            self.latest = None
        else:
            self.latest = max(0.0, (busy - last_busy - (own - last_own)) / (wall - last_wall))
        self.others_running = others_running_threads()
        return self.latest


def others_busy_cores(sample_s: float = LOAD_SAMPLE_S) -> float | None:
    """Cores other programs keep busy: measured over ``sample_s`` from /proc/stat (Linux), else the
    one-minute load average (macOS, other Unixes); None where neither can be read (Windows)."""
    meter = LoadMeter()
    if meter.readable:
        time.sleep(sample_s)
        others = meter.read()
        if others is not None:
            return others
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


# Whether this process chose its thread count from the load (no --threads, setting or
# OMP_NUM_THREADS), so that ThreadGovernor may change it; set by configure_threads.
_automatic = False
# The count configure_threads chose: task threads take it when they start (use_configured_threads_here).
_configured: int | None = None
# The OMP_NUM_THREADS value configure_threads wrote, to tell it from one the user set.
_written: str | None = None
# The native id of the thread that runs torch serially (the window's GUI thread), if any.
_serial_thread: int | None = None
# Re-measuring the load this often while training costs nothing noticeable and follows a program
# that starts or stops within a few seconds.
GOVERNOR_INTERVAL_S = 2.0


def _requested_in_environment() -> int | None:
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value == _written:
        return None  # this module's own earlier choice (a second configure_threads in one process), not the user's
    return int(value) if value.isdigit() and int(value) > 0 else None


def configure_threads(requested: int | None = None, reserved: float = 0.0) -> ThreadChoice:
    """Set torch's thread count for this process; call it before ``import torch``.

    ``requested`` (``--threads``, the window's setting; None or 0: automatic) wins, then an
    ``OMP_NUM_THREADS`` the user set; otherwise the count comes from :func:`choose_threads` with the
    load measured now. If torch is already imported (tests, notebooks) the count is still applied
    with ``torch.set_num_threads``.
    """
    global _automatic, _configured, _written
    if requested is not None and requested < 0:
        raise ConfigError(f"the number of threads must be 1 or more (0: automatic), not {requested}")
    cores = usable_cores()
    chosen = requested or _requested_in_environment()
    asked = chosen is not None
    _automatic = not asked
    others = None
    if chosen is None:
        others = others_busy_cores()
        chosen = choose_threads(cores, others or 0.0, reserved, physical_cores())
    os.environ["OMP_NUM_THREADS"] = str(chosen)
    _written = None if asked else str(chosen)
    _configured = chosen
    torch = sys.modules.get("torch")
    if torch is not None and threading.get_native_id() != _serial_thread:
        torch.set_num_threads(chosen)
    return ThreadChoice(chosen, cores, others, requested=asked)


def run_torch_serially_here() -> None:
    """Torch on the calling thread (the window's GUI thread) uses one thread and keeps no team (module doc).

    Its kernels there are small (a preview, a copy of the weights), so one thread serves them;
    ``omp_pause_resource_all`` (OpenMP 5.0) gives back the helpers it may already hold (a script
    or test that trained on this thread first). Where the runtime lacks it, only the count is set.
    """
    global _configured, _serial_thread
    torch = sys.modules["torch"]
    if _configured is None:  # configure_threads never ran (a script): task threads keep torch's choice
        _configured = torch.get_num_threads()
    torch.set_num_threads(1)  # this thread's OpenMP and MKL settings (and torch's default for new threads)
    torch.get_num_threads()  # fixes this thread's setting now: later it would copy the default of the day
    _serial_thread = threading.get_native_id()
    try:
        ctypes.CDLL(None).omp_pause_resource_all(1)  # omp_pause_soft
    except (AttributeError, OSError, TypeError):  # no such runtime entry (or no global symbol table)
        pass


# The interpreter's switch interval in a window's process. A thread that wants the interpreter lock
# waits this long before asking its holder to let go: with Python's 5 ms, the GUI thread waited
# behind the training job's Python (its start-up, its reports) several times per turn. Measured
# with benchmarks/gui_responsiveness.py's run (9 interleaved runs each): the longest stall per run
# 24-52 ms (7 of 9 within 50 ms) at 5 ms, 23-43 ms (9 of 9) at 1 ms, for 87 % against 89 % of the
# command line's speed (docs/PERFORMANCE.md §3). Without a second thread that wants it, it costs nothing.
GUI_SWITCH_INTERVAL_S = 0.001


def hand_over_the_interpreter_quickly() -> None:
    """Let a window's GUI thread get the interpreter lock within GUI_SWITCH_INTERVAL_S of asking."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def use_configured_threads_here(serial: bool = False) -> None:
    """Give the calling task thread the configured count (its first kernel would otherwise take 1,
    the serial GUI thread's), or one thread when ``serial``: small requests that run beside a
    training run, where a team of their own would make both teams sleep at every barrier (module
    doc). Only needed in a process where :func:`run_torch_serially_here` ran."""
    if _serial_thread is not None and _configured is not None:
        sys.modules["torch"].set_num_threads(1 if serial else _configured)


# Readings closer than this say little (a few scheduler ticks); tasks started in a burst share one.
TASK_LOAD_INTERVAL_S = 0.5
_machine_load = LoadMeter()


def tasks_may_yield() -> bool:
    """Whether background work may run below the GUI thread's priority: only while other programs
    leave a core free, so that it yields to this process's own GUI thread and not to them.

    Below the GUI's priority (nice 10) a task gets a tenth of the CPU an equal program gets: with
    two other programs keeping both cores busy, a training run in the window took 60-70 s against
    7 s for the command line's. With a core to spare the lower priority only keeps the window
    smooth (longest stalls 31-53 ms against 52-184 ms at equal priority, docs/PERFORMANCE.md).
    Linux lets a thread lower its priority but not raise it back, so this is decided as a task starts.
    """
    note_machine_load()
    others, running = _machine_load.latest, _machine_load.others_running
    if others is None:
        return True
    cores = usable_cores()
    return cores - others >= FREE_CORE_SHARE and (running is None or running <= cores - 1)


def note_machine_load() -> None:
    """Take a reading for :func:`tasks_may_yield` unless the last one is recent. The window calls it
    every second: a task that starts after a quiet minute must see the last second, not the minute
    (a run started just after two other programs had started was given a tenth of the CPU)."""
    if _machine_load.due(TASK_LOAD_INTERVAL_S):
        _machine_load.read()


class ThreadGovernor:
    """A trainer step callback that keeps the training thread's team as large as the free cores.

    Every ``GOVERNOR_INTERVAL_S`` it measures, from /proc/stat, the cores other programs kept busy
    since its previous look, and calls ``torch.set_num_threads`` (on the training thread, whose
    team it sets) when :func:`choose_threads` says another count. It does nothing when the user
    chose the count, or where the load cannot be read.
    """

    def __init__(self, reserved: float = 0.0) -> None:
        self.reserved = reserved
        self.enabled = _automatic
        self._limit = min(usable_cores(), physical_cores() or usable_cores())
        self._meter = LoadMeter()

    def on_step(self, _report: object = None) -> None:
        if not self.enabled or not self._meter.due(GOVERNOR_INTERVAL_S):
            return
        others = self._meter.read()
        if others is None:
            self.enabled = False
            return
        threads = choose_threads(self._limit, others, self.reserved)
        torch = sys.modules["torch"]
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
