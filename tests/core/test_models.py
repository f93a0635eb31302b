"""Models: every architecture x kind x image shape builds and has the right shapes; configs are checked;
seeded builds are reproducible without touching the global RNG; reparameterisation uses the generator."""

from __future__ import annotations

import itertools

import pytest
import torch

from vae_studio.core.config import ModelConfig
from vae_studio.core.errors import ConfigError
from vae_studio.core.models import AE, VAE, build_model, parameter_count

SHAPES = [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)]
KINDS = ["ae", "vae", "cvae"]
ARCHS = ["mlp", "conv"]
N = 3


def small_config(kind: str = "vae", arch: str = "mlp", shape=(1, 28, 28), latent_dim: int = 4, **kw) -> ModelConfig:
    num_classes = 5 if kind == "cvae" else 0
    return ModelConfig(
        kind=kind,
        arch=arch,
        image_shape=shape,
        latent_dim=latent_dim,
        hidden_sizes=(32, 16),
        conv_channels=(4, 8),
        conv_hidden=16,
        num_classes=num_classes,
        **kw,
    )


def _labels(config: ModelConfig, n: int) -> torch.Tensor | None:
    return torch.arange(n) % config.num_classes if config.conditional else None


@pytest.mark.parametrize("kind,arch,shape", list(itertools.product(KINDS, ARCHS, SHAPES)))
def test_build_encode_decode_shapes(kind: str, arch: str, shape: tuple[int, int, int]) -> None:
    config = small_config(kind, arch, shape, latent_dim=3)
    model = build_model(config, seed=0)
    assert isinstance(model, VAE if kind != "ae" else AE)
    assert model.variational == (kind != "ae")
    x = torch.rand(N, *shape)
    y = _labels(config, N)
    mu, logvar = model.encode(x, y)
    assert mu.shape == (N, 3)
    if kind == "ae":
        assert logvar is None
    else:
        assert logvar is not None and logvar.shape == (N, 3)
    logits = model.decode_logits(mu, y)
    assert logits.shape == (N, *shape)
    images = model.decode(mu, y)
    assert images.shape == (N, *shape)
    assert images.min() >= 0 and images.max() <= 1
    torch.testing.assert_close(images, torch.sigmoid(logits))
    out = model(x, y)
    assert out.logits.shape == (N, *shape) and out.z.shape == (N, 3)
    assert torch.isfinite(out.logits).all()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("latent_dim", [1, 128])
def test_extreme_latent_sizes(arch: str, latent_dim: int) -> None:
    model = build_model(small_config("vae", arch, (1, 28, 28), latent_dim=latent_dim), seed=0)
    mu, logvar = model.encode(torch.rand(2, 1, 28, 28))
    assert mu.shape == logvar.shape == (2, latent_dim)
    assert model.decode(torch.zeros(2, latent_dim)).shape == (2, 1, 28, 28)


@pytest.mark.parametrize(
    "options",
    [
        {"latent_dim": 0},
        {"latent_dim": 129},
        {"latent_dim": -1},
        {"arch": "conv", "image_shape": (1, 30, 30)},  # two stride-2 convs need multiples of 4
        {"arch": "conv", "image_shape": (1, 28, 28), "conv_channels": (4, 8, 16)},  # needs multiples of 8
        {"arch": "conv", "image_shape": (1, 32, 36), "conv_channels": (4, 8, 16)},
        {"kind": "cvae"},  # no classes
        {"kind": "cvae", "num_classes": 1},
        {"image_shape": (2, 28, 28)},
        {"image_shape": (1, 4, 4)},
        {"kind": "gan"},
        {"arch": "transformer"},
        {"likelihood": "poisson"},
        {"gaussian_sigma": 0.0},
    ],
)
def test_bad_configs_raise_config_error(options: dict) -> None:
    with pytest.raises(ConfigError):
        ModelConfig(**options)


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(latent_dim=1),
        ModelConfig(latent_dim=128),
        ModelConfig(arch="conv", image_shape=(1, 28, 28)),  # 28 = 4 * 7
        ModelConfig(arch="conv", image_shape=(3, 64, 64), conv_channels=(4, 8, 16, 32)),
        ModelConfig(kind="cvae", num_classes=2),
    ],
)
def test_good_edge_configs_build_models_that_encode_and_decode(config: ModelConfig) -> None:
    model = build_model(config, seed=0)
    x = torch.rand(3, *config.image_shape)
    labels = torch.tensor([0, 1, 1]) if config.conditional else None
    with torch.no_grad():
        mu, logvar = model.encode(x, labels)
        decoded = model.decode(mu, labels)
    assert mu.shape == (3, config.latent_dim) and logvar is not None and logvar.shape == mu.shape
    assert decoded.shape == x.shape and 0.0 <= float(decoded.min()) <= float(decoded.max()) <= 1.0


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("arch", ARCHS)
def test_seeded_build_is_reproducible_and_leaves_global_rng_alone(arch: str) -> None:
    config = small_config("cvae", arch)
    torch.manual_seed(1234)
    state_before = torch.get_rng_state()
    a = build_model(config, seed=7)
    assert torch.equal(torch.get_rng_state(), state_before)
    b = build_model(config, seed=7)
    assert torch.equal(torch.get_rng_state(), state_before)
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = build_model(config, seed=8)
    assert any(not torch.equal(wa[k], v) for k, v in c.state_dict().items())
    # The next draw from the global RNG is the one it would have been without the builds.
    draw = torch.rand(5)
    torch.manual_seed(1234)
    assert torch.equal(draw, torch.rand(5))


def test_unseeded_build_uses_global_rng() -> None:
    config = small_config("vae")
    torch.manual_seed(3)
    a = _weights(build_model(config))
    torch.manual_seed(3)
    b = _weights(build_model(config))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ae_has_no_logvar_and_is_deterministic() -> None:
    config = small_config("ae")
    model = build_model(config, seed=0)
    x = torch.rand(4, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert logvar is None
    # The encoder outputs exactly latent_dim numbers (a VAE outputs twice as many).
    last_ae = [m for m in model.encoder.head.modules() if isinstance(m, torch.nn.Linear)][-1]
    vae = build_model(small_config("vae"), seed=0)
    last_vae = [m for m in vae.encoder.head.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert last_ae.out_features == config.latent_dim and last_vae.out_features == 2 * config.latent_dim
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    out1, out2 = model(x, generator=g1), model(x, generator=g2)
    assert torch.equal(out1.z, mu) and torch.equal(out2.z, mu)
    assert out1.logvar is None
    assert parameter_count(model) < parameter_count(vae)


def test_reparameterisation_uses_the_generator() -> None:
    model = build_model(small_config("vae"), seed=0)
    x = torch.rand(6, 1, 28, 28)
    z1 = model(x, generator=torch.Generator().manual_seed(42)).z
    torch.manual_seed(999)  # the global RNG must not matter
    z2 = model(x, generator=torch.Generator().manual_seed(42)).z
    z3 = model(x, generator=torch.Generator().manual_seed(43)).z
    assert torch.equal(z1, z2)
    assert not torch.equal(z1, z3)
    # z = mu + sigma * eps with eps the generator's first normal draws.
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(42))
    torch.testing.assert_close(z1, mu + torch.exp(0.5 * logvar) * eps)
    # Without sampling, the code is the mean.
    assert torch.equal(model(x, sample=False).z, mu)


def test_conditional_model_needs_and_uses_labels() -> None:
    config = small_config("cvae")
    model = build_model(config, seed=0)
    x = torch.rand(4, 1, 28, 28)
    with pytest.raises(ValueError):
        model.encode(x)
    with pytest.raises(ValueError):
        model.decode(torch.zeros(4, config.latent_dim))
    z = torch.zeros(4, config.latent_dim)
    a = model.decode(z, torch.zeros(4, dtype=torch.long))
    b = model.decode(z, torch.full((4,), 3))
    assert not torch.allclose(a, b)  # the class changes the decoding
    # One label for the whole batch is broadcast.
    torch.testing.assert_close(model.decode(z, torch.tensor(3)), b)


def test_unconditional_model_ignores_labels() -> None:
    model = build_model(small_config("vae"), seed=0)
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(model.encode(x, torch.arange(4))[0], model.encode(x)[0])
