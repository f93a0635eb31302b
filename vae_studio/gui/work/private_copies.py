"""What a panel hands to a worker thread: a private copy of the model, and whether decoding needs a worker at all.

Exploration panels redraw whenever a setting moves or the model's weights change (a training
refresh). Decoding a hundred images with the small MLP takes about a millisecond, so doing it at
once keeps a slider live; a convolutional decoder or a larger grid would stall the window, so that
work goes to the panel's newest-wins Task (work/tasks.py: ``request(fn, background=...)``).
"""

from __future__ import annotations

import copy
from ...core.models import AE

# At most this many MLP decodings run on the GUI thread (about a millisecond on a laptop CPU).
CHEAP_DECODES = 100


def decode_in_background(model: AE, decodings: int) -> bool:
    """True when decoding ``decodings`` images with ``model`` could stall the window (see module doc)."""
    return model.config.arch != "mlp" or decodings > CHEAP_DECODES


def detached(model: AE) -> AE:
    """A private copy for a worker thread: the GUI copy's weights are replaced in place while a model trains."""
    return copy.deepcopy(model)
