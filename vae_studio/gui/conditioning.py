"""Which class a conditional VAE decodes with, agreed between the latent map and the preview.

A CVAE cannot decode a latent point without a class. The map's manifold and the preview must
use the same one, or the picture behind a point and the preview of that point would disagree;
both panels derive it from the shared state with this one rule instead of talking to each other.
"""

from __future__ import annotations

from ..core.app_state import AppState


def decode_label(state: AppState) -> int | None:
    """The selected test image's class for a conditional model (class 0 with nothing selected); None otherwise."""
    current, dataset, index = state.current, state.dataset, state.selected_index
    if current is None or not current.config.conditional:
        return None
    labels = None if dataset is None else dataset.test_labels
    if labels is not None and index is not None and index < len(labels):
        label = int(labels[index])
        if 0 <= label < current.config.num_classes:
            return label
    return 0
