"""Notices the latent map shows about itself: posterior collapse and codes on a tiny scale."""

from __future__ import annotations

import numpy as np
import pytest

from vae_studio.core.latent import Encoding
from vae_studio.core.map_notices import code_extent, map_notices, scale_notice
from vae_studio.core.traversal import dimension_usage


def encoding(stds: list[float], n: int = 2000, variational: bool = True, seed: int = 0) -> Encoding:
    """Codes whose dimension i has standard deviation stds[i] over the data; posterior sigma 1 where the
    codes do not vary (the prior: collapsed) and 0.1 elsewhere."""
    rng = np.random.default_rng(seed)
    mu = (rng.normal(size=(n, len(stds))) * np.asarray(stds)).astype(np.float32)
    sigma = np.where(np.asarray(stds) < 0.05, 1.0, 0.1)
    logvar = np.broadcast_to(np.log(sigma**2), mu.shape).astype(np.float32).copy()
    return Encoding(mu, logvar if variational else None)


def test_a_healthy_or_empty_map_has_no_notice() -> None:
    assert map_notices(encoding([1.0, 0.9])) == []
    assert map_notices(encoding([1.0] * 8)) == []
    assert map_notices(encoding([1.0, 1.0], n=0)) == []


def test_a_collapsed_vae_says_the_decoder_ignores_z_and_why_the_map_is_zoomed() -> None:
    notices = map_notices(encoding([0.001] * 8))
    assert notices[0] == "0 of 8 dimensions active: the decoder ignores z"
    assert len(notices) == 2 and "inside the prior's 1σ circle" in notices[1]
    extent = code_extent(encoding([0.001] * 8).mu)
    assert 0.002 < extent < 0.005  # about 2.6 standard deviations
    assert f"±{extent:.2g}" in notices[1] and f"{1 / extent:,.0f}×" in notices[1]


def test_a_partly_collapsed_vae_counts_its_active_dimensions() -> None:
    coded = encoding([1.0, 0.8, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001])
    notices = map_notices(coded, dimension_usage(coded))
    assert notices == [
        "2 of 8 dimensions active: the other 6 carry no information (posterior collapse; see Traversal)"
    ]
    assert map_notices(encoding([1.0, 1.0, 1.0, 0.001])) == []  # a minority inactive is normal


def test_the_scale_notice_is_for_codes_inside_half_the_priors_sigma() -> None:
    assert scale_notice(encoding([0.1, 0.1]).mu, variational=True) is not None
    assert scale_notice(encoding([0.5, 0.5]).mu, variational=True) is None  # extent about 1.3
    # A plain AE has no prior, so its codes' scale means nothing.
    assert scale_notice(encoding([0.01, 0.01]).mu, variational=False) is None


def test_a_plain_autoencoder_whose_codes_do_not_vary() -> None:
    assert map_notices(encoding([0.001, 0.001], variational=False)) == [
        "0 of 2 dimensions vary over the data: every image gets nearly the same code"
    ]
    assert map_notices(encoding([3.0, 5.0], variational=False)) == []


def test_the_extent_ignores_a_few_outliers() -> None:
    mu = np.full((1000, 2), 0.01)
    mu[:5] = 50.0  # 0.5 %
    assert code_extent(mu) == pytest.approx(0.01)
    with pytest.raises(ValueError):
        code_extent(np.zeros((0, 2)))
