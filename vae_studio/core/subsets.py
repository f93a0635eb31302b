"""Seeded random subsets: the same seed picks the same images, in every view and on every run."""

from __future__ import annotations

import torch


def sample_indices(total: int, n: int | None, seed: int, *, keep_order: bool = False) -> torch.Tensor:
    """Indices of ``n`` of ``total`` items drawn at random with ``seed``; all ``total`` in their order
    when ``n`` is None or 0, all of them shuffled when it is ``total`` or more.

    A random draw rather than the first ``n``, which may be sorted by class. ``keep_order`` returns
    the drawn indices in ascending order (the items' original order).
    """
    if not n:
        return torch.arange(total)
    picked = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n]
    return picked.sort().values if keep_order else picked
