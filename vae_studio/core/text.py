"""Short human-readable formats shared by the command line and the GUI."""

from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """``0:42``, ``12:05`` or ``1:02:03`` (h:mm:ss), the way progress bars show an ETA; ``--:--`` when unknown."""
    if not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(max(0, int(round(seconds))), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
