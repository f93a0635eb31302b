"""Keeping Python's garbage collector from stopping the GUI thread for a tenth of a second at a time.

A full collection visits every container object in the process and stops every Python thread,
the GUI's too, while it runs. With torch, pyqtgraph and the window built that is about a quarter
of a million objects, and each full collection took 110-170 ms on a busy two-core machine
(benchmarks/gui_responsiveness.py); the first training run of a session set off two, importing
what torch imports for its first optimiser. Objects that live as long as the app (modules,
classes, the window's widgets) never become garbage, so they are moved to the collector's
permanent generation (``gc.freeze``) once they exist: later collections visit only what was made
since. At exit they go back to the collector, so that extension modules that check at exit for
objects never freed (triton's) do not report them.
"""

from __future__ import annotations

import atexit
import gc
import sys

import torch

_unfreeze_at_exit = False


def freeze_long_lived_objects() -> None:
    """Leave every object alive now out of later full collections (the app calls this once its window is up)."""
    global _unfreeze_at_exit
    if not _unfreeze_at_exit:
        atexit.register(gc.unfreeze)
        _unfreeze_at_exit = True
    gc.freeze()


def import_torch_optimisers() -> None:
    """Import what torch imports for its first optimiser, with the collector paused (tasks that train call this).

    The first ``torch.optim`` optimiser of a process imports torch._dynamo: some 900 modules and
    140,000 objects, whose allocation set off full collections at the start of the first run. A
    throwaway optimiser made here imports them with the collector paused, and they are frozen with
    the app's other long-lived objects.
    """
    if "torch._dynamo" in sys.modules:
        return  # an earlier run imported it
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    finally:
        freeze_long_lived_objects()
        if was_enabled:
            gc.enable()
