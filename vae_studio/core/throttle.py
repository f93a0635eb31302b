"""How often long work reports: one interval and one throttle for the trainer's reporter and the GUI's tasks.

About ten reports a second give a smooth progress bar and a live loss curve without flooding the
receiver (the GUI's event queue, or a terminal).
"""

from __future__ import annotations

import time

# Progress and partial results at most this often.
REPORT_INTERVAL_S = 0.1


class Throttle:
    """Says whether a report is due: at most one every ``interval_s`` seconds (the first one at once)."""

    def __init__(self, interval_s: float = REPORT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last: float | None = None

    def due(self, now: float | None = None) -> bool:
        """True (and the clock restarts) when ``interval_s`` passed since the last report that was due."""
        now = time.perf_counter() if now is None else now
        if self._last is not None and now - self._last < self.interval_s:
            return False
        self._last = now
        return True
