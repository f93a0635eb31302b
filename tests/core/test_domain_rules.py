"""Rules the views share, each kept once in the core: model/data compatibility, seeded subsets, class lists,
the interpolation verdict, the decoding class and the posterior draws of a selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_studio.core.app_state import POSTERIOR_SAMPLES, AppState
from vae_studio.core.compatibility import can_run_on
from vae_studio.core.config import TrainConfig
from vae_studio.core.data import ImageDataset, format_class_list, parse_class_list
from vae_studio.core.interpolation import Interpolation
from vae_studio.core.latent import Encoding, posterior_samples
from vae_studio.core.recipe import new_trained_model
from vae_studio.core.subsets import sample_indices


def dataset(shape: tuple[int, int, int] = (1, 28, 28), classes: int | None = 10, name: str = "toy") -> ImageDataset:
    images = torch.zeros((20, *shape), dtype=torch.uint8)
    labels = None if classes is None else torch.arange(20) % classes
    names = None if classes is None else tuple(str(c) for c in range(classes))
    return ImageDataset(name, images, images, labels, labels, names or ())


def test_can_run_on_names_the_mismatch_or_says_nothing() -> None:
    mnist_like = dataset()
    vae = new_trained_model(mnist_like, TrainConfig(dataset="toy"), "vae")
    cvae = new_trained_model(mnist_like, TrainConfig(dataset="toy"), "cvae", kind="cvae")
    assert can_run_on(vae, mnist_like) is None and can_run_on(cvae, mnist_like) is None
    colour = can_run_on(vae, dataset((3, 32, 32), name="cifar"))
    assert colour is not None and "1×28×28" in colour and "3×32×32" in colour and "(toy)" in colour
    assert "no class labels" in can_run_on(cvae, dataset(classes=None))
    assert "5 classes" in can_run_on(cvae, dataset(classes=5))
    assert can_run_on(vae, dataset(classes=None)) is None  # an unconditional model needs no labels


def test_sample_indices_are_seeded_and_cover_the_cases_the_views_need() -> None:
    first = sample_indices(100, 10, seed=3)
    assert torch.equal(first, sample_indices(100, 10, seed=3)) and not torch.equal(first, sample_indices(100, 10, seed=4))
    assert len(set(first.tolist())) == 10 and not torch.equal(first, first.sort().values)  # a shuffled draw
    assert torch.equal(sample_indices(100, 10, seed=3, keep_order=True), first.sort().values)
    assert torch.equal(sample_indices(5, 0, seed=1), torch.arange(5)) and torch.equal(sample_indices(5, None, 1), torch.arange(5))
    assert sorted(sample_indices(5, 50, seed=1).tolist()) == list(range(5))  # more than there are: all, shuffled


@pytest.mark.parametrize("classes", [[9], [0, 1, 2, 5, 7, 8], [3, 1, 2, 2], list(range(10))])
def test_format_class_list_is_the_inverse_of_parse_class_list(classes: list[int]) -> None:
    text = format_class_list(classes)
    assert parse_class_list(text) == sorted(set(classes))
    assert {"[9]": "9", "[0, 1, 2, 5, 7, 8]": "0-2,5,7-8"}.get(str(classes), text) == text


@pytest.mark.parametrize(
    ("distances", "verdict"), [([1.0, 1.0, 1.0, 1.0], "smooth"), ([1.0, 2.0, 1.0, 1.0], "uneven"), ([0.1, 5.0, 0.1, 0.1], "a jump")]
)
def test_the_interpolation_verdict_follows_the_largest_step(distances: list[float], verdict: str) -> None:
    path = Interpolation("linear", np.zeros((5, 2)), np.zeros((5, 1, 2, 2)), np.array(distances))
    assert path.smoothness[0] == verdict


def test_decode_label_and_selection_samples_follow_the_state() -> None:
    data = dataset()
    state = AppState()
    state.set_dataset(data)
    vae = new_trained_model(data, TrainConfig(dataset="toy"), "vae")
    cvae = new_trained_model(data, TrainConfig(dataset="toy"), "cvae", kind="cvae")
    state.add_model(vae)
    assert state.decode_label() is None  # an unconditional model decodes without a class
    state.add_model(cvae)
    assert state.decode_label() == 0  # class 0 with nothing selected
    state.select(7)
    assert state.decode_label() == 7 % 10
    assert state.selection_samples() is None  # no encoding yet
    mu, logvar = np.random.default_rng(0).standard_normal((2, 20, 2))
    state.set_encoding(Encoding(mu, logvar))
    state.select(7)
    np.testing.assert_array_equal(state.selection_samples(), posterior_samples(mu[7], logvar[7], POSTERIOR_SAMPLES, seed=7))
    state.set_encoding(Encoding(mu, None))  # an AE has no posterior spread
    assert state.selection_samples() is None


def test_vocabularies_name_what_the_core_implements() -> None:
    from vae_studio.core.corruption import CORRUPTION_FUNCTIONS
    from vae_studio.core.vocabulary import CORRUPTION_CHOICES, CORRUPTIONS, MODEL_KIND_CHOICES, choice

    assert set(CORRUPTIONS) == {"none", *CORRUPTION_FUNCTIONS}
    assert all(c.help for c in CORRUPTION_CHOICES if c.key != "none")  # the strength slider explains each
    assert choice(MODEL_KIND_CHOICES, "cvae").short_label == "CVAE" and choice(MODEL_KIND_CHOICES, "vae").short_label == "VAE"
    assert choice(CORRUPTION_CHOICES, "salt-pepper").in_sentence == "salt-and-pepper noise"
    with pytest.raises(ValueError, match="expected one of ae, vae, cvae"):
        choice(MODEL_KIND_CHOICES, "gan")


def test_data_set_specs_are_read_in_one_place() -> None:
    from vae_studio.core.vocabulary import parse_spec, spec_label, spec_short

    assert parse_spec(" IDX:/data/digits ") == ("idx", "/data/digits")
    assert parse_spec("folder:/photos") == ("folder", "/photos") and parse_spec("mnist") == ("mnist", "")
    assert spec_label("mnist") == "MNIST (digits)" and spec_label("idx:/data/digits/") == "IDX: digits"
    assert spec_label("folder:/photos") == "Folder: photos" and spec_short("folder:/photos") == "photos"
    assert spec_short("kmnist") == "kmnist" and spec_label("unknown") == "unknown"
