"""What the latent map should say about itself when its picture misleads: posterior collapse and
codes on a tiny scale.

A collapsed VAE (e.g. conv, z = 8, one epoch) encodes every image to nearly the prior's mean: the
map's axes rescale to the codes' tiny spread ("z1 (x0.001)"), the prior's circles fall off screen,
and the picture looks like any other. These notices, drawn on the map itself, say so in a sentence.
"""

from __future__ import annotations

import numpy as np

from .latent import Encoding
from .traversal import DimensionUsage, dimension_usage

# The prior N(0, I) has sigma 1 in every direction; its 1-sigma circle is the map's unit circle.
PRIOR_SIGMA = 1.0
# The share of codes whose extent is measured: a few outliers should not hide a collapsed rest.
EXTENT_QUANTILE = 0.99


def collapse_notice(usage: DimensionUsage) -> str | None:
    """A sentence when no dimension, or only a minority, carries information (None when most do)."""
    d, active = len(usage.active), usage.n_active
    if active == 0:
        if usage.kl is None:  # a plain AE: no posterior to collapse, but its codes do not vary
            return f"0 of {d} dimensions vary over the data: every image gets nearly the same code"
        return f"0 of {d} dimensions active: the decoder ignores z"
    if usage.collapse_warning:
        inactive = d - active
        return (
            f"{active} of {d} dimensions active: the other {inactive} carry no information "
            "(posterior collapse; see Traversal)"
        )
    return None


def code_extent(mu: np.ndarray, quantile: float = EXTENT_QUANTILE) -> float:
    """How far from the origin the codes reach: the largest, over dimensions, of the ``quantile`` of |mu|."""
    mu = np.asarray(mu, np.float64)
    if mu.ndim != 2 or len(mu) == 0:
        raise ValueError(f"expected codes of shape (N, d) with N > 0; got {mu.shape}")
    return float(np.quantile(np.abs(mu), quantile, axis=0).max())


def scale_notice(mu: np.ndarray, variational: bool) -> str | None:
    """A sentence when the codes all lie well inside the prior's 1σ circle (a VAE's only: an AE has
    no prior, and its codes' scale is arbitrary). A map fitted to the codes alone would show them as
    any other cloud, on axes scaled "x0.001"; the sentence gives the scale against the prior."""
    extent = code_extent(mu)
    if not variational or extent >= PRIOR_SIGMA / 2:
        return None
    shrink = PRIOR_SIGMA / max(extent, 1e-12)
    factor = f"{shrink:,.0f}" if shrink >= 10 else f"{shrink:.1f}"
    return f"All codes lie within ±{extent:.2g} of the origin, {factor}× inside the prior's 1σ circle (σ = 1)"


def map_notices(encoding: Encoding, usage: DimensionUsage | None = None) -> list[str]:
    """The notices for an encoded data set (empty when the map shows what it seems to, or shows no
    codes); ``usage`` when already computed (core.traversal.dimension_usage of the same encoding)."""
    if len(encoding.mu) == 0:
        return []
    usage = dimension_usage(encoding) if usage is None else usage
    notices = [collapse_notice(usage), scale_notice(encoding.mu, encoding.logvar is not None)]
    return [notice for notice in notices if notice is not None]
