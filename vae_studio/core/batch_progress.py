"""Progress reporting and cancellation for long, batched computations (evaluation, anomaly scores).

Such functions take two optional callables so the GUI can run them on a worker thread and the
CLI can print progress: ``progress(done, total)`` after each batch, and ``should_stop()``, asked
between batches; when it answers True the function raises :class:`Stopped`.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import VaeStudioError

ProgressCallback = Callable[[int, int], None]
StopCheck = Callable[[], bool]


class Stopped(VaeStudioError):
    """The user stopped a long computation before it finished."""

    def __init__(self, message: str = "Stopped by the user.") -> None:
        super().__init__(message)


def checkpoint(
    done: int, total: int, progress: ProgressCallback | None = None, should_stop: StopCheck | None = None
) -> None:
    """Report ``done`` of ``total`` units, then raise :class:`Stopped` if the caller asked to stop."""
    if progress is not None:
        progress(done, total)
    if should_stop is not None and should_stop():
        raise Stopped()
