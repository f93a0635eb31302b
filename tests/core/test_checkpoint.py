"""Checkpoints: round trips, atomic writes, and clear CheckpointErrors (never code execution) on bad files."""

from __future__ import annotations

import json
import os
import pathlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from vae_studio.core import checkpoint as checkpoint_module
from vae_studio.core.checkpoint import FILE_SUFFIX, FORMAT_VERSION, load_checkpoint, save_checkpoint
from vae_studio.core.config import ModelConfig, TrainConfig, config_to_dict
from vae_studio.core.errors import CheckpointError, VaeStudioError
from vae_studio.core.history import History
from vae_studio.core.models import build_model
from vae_studio.core.trained_model import TrainedModel

CLASS_NAMES = tuple(f"class {i}" for i in range(10))


def make_trained(kind: str = "vae", arch: str = "mlp", **kw) -> TrainedModel:
    config = ModelConfig(
        kind=kind,
        arch=arch,
        image_shape=(1, 28, 28) if arch == "mlp" else (3, 32, 32),
        latent_dim=3,
        hidden_sizes=(16, 8),
        conv_channels=(4, 8),
        conv_hidden=16,
        num_classes=10 if kind == "cvae" else 0,
        **kw,
    )
    history = History(
        step_loss=[3.0, 2.5, 2.25],
        step_recon=[2.0, 1.5, 1.25],
        step_kl=[1.0, 1.0, 1.0],
        epoch_train_loss=[2.6],
        epoch_test_loss=[2.4],
        epoch_test_recon=[1.4],
        epoch_test_kl=[1.0],
    )
    train = TrainConfig(dataset="mnist", epochs=3, lr=5e-4, beta=2.0, classes=(1, 3, 5), train_subset=100, seed=9)
    return TrainedModel(build_model(config, seed=4), train, CLASS_NAMES, history, name=f"my {kind} {arch}")


def assert_same_model(a: TrainedModel, b: TrainedModel) -> None:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k
    assert b.config == a.config
    assert b.train_config == a.train_config
    assert b.class_names == a.class_names
    assert b.history == a.history
    assert b.name == a.name


@pytest.mark.parametrize("kind,arch", [("ae", "mlp"), ("vae", "mlp"), ("cvae", "mlp"), ("vae", "conv"), ("cvae", "conv")])
def test_round_trip(tmp_path: Path, kind: str, arch: str) -> None:
    trained = make_trained(kind, arch)
    assert trained.unsaved and trained.path is None
    path = tmp_path / f"model{FILE_SUFFIX}"
    assert save_checkpoint(trained, path) == path
    assert trained.path == path and not trained.unsaved
    loaded = load_checkpoint(path)
    assert_same_model(trained, loaded)
    assert loaded.path == path and not loaded.unsaved
    assert not loaded.model.training
    # The rebuilt model computes what the original does.
    x = torch.rand(2, *trained.config.image_shape)
    y = torch.tensor([1, 3]) if kind == "cvae" else None
    trained.model.eval()
    torch.testing.assert_close(loaded.model.encode(x, y)[0], trained.model.encode(x, y)[0], rtol=0, atol=0)


def test_round_trip_of_gaussian_likelihood_and_empty_history(tmp_path: Path) -> None:
    trained = make_trained("vae", likelihood="gaussian", gaussian_sigma=0.25)
    trained.history = History()
    trained.class_names = ()
    path = save_checkpoint(trained, tmp_path / "sub" / "dir" / "g.vae")  # parent folders are created
    loaded = load_checkpoint(path)
    assert_same_model(trained, loaded)
    assert loaded.config.likelihood == "gaussian" and loaded.config.gaussian_sigma == 0.25
    assert loaded.train_config.classes == (1, 3, 5)


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.vae"
    save_checkpoint(make_trained("vae"), path)
    other = make_trained("ae")
    save_checkpoint(other, path)
    assert_same_model(other, load_checkpoint(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.vae"]


def test_file_is_safetensors_with_the_marker(tmp_path: Path) -> None:
    from safetensors import safe_open

    path = save_checkpoint(make_trained(), tmp_path / "m.vae")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        keys = set(handle.keys())
    assert metadata["format"] == "vae-studio-checkpoint"
    assert metadata["format_version"] == str(FORMAT_VERSION)
    info = json.loads(metadata["info"])
    assert info["name"] == "my vae mlp" and info["class_names"] == list(CLASS_NAMES)
    assert any(k.startswith("model.") for k in keys) and "history.step_loss" in keys


def first_save(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "m.vae"
    save_checkpoint(make_trained("vae"), path)
    return path, path.read_bytes()


def partial_save_file(error: Exception):
    def fake(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"partial")
        raise error

    return fake


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        # What safetensors itself raises when the disk fills up during a write.
        SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)"),
    ],
    ids=["oserror", "safetensor-error"],
)
def test_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch, error: Exception) -> None:
    path, before = first_save(tmp_path)
    newer = make_trained("ae")
    monkeypatch.setattr(checkpoint_module, "save_file", partial_save_file(error))
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(newer, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.vae"], "no temporary file may be left"
    assert newer.unsaved and newer.path is None
    monkeypatch.undo()
    assert load_checkpoint(path).config.kind == "vae"


def test_failed_rename_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    path, before = first_save(tmp_path)

    def failing_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checkpoint_module.os, "replace", failing_replace)
    with pytest.raises(CheckpointError):
        save_checkpoint(make_trained("ae"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.vae"]


def test_save_into_a_file_used_as_folder_is_a_checkpoint_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError):
        save_checkpoint(make_trained(), blocker / "m.vae")


# --- loading errors -------------------------------------------------------------------------------


def assert_load_fails(path: Path, *fragments: str) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(info.value, VaeStudioError)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    assert_load_fails(tmp_path / "nope.vae", "does not exist")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.vae"
    folder.mkdir()
    assert_load_fails(folder, "not a file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.vae"
    path.write_bytes(b"")
    assert_load_fails(path)


@pytest.mark.parametrize("keep", ["4 bytes", "20 bytes", "half", "all but one byte"])
def test_truncated_file(tmp_path: Path, keep: str) -> None:
    path, data = first_save(tmp_path)
    size = {"4 bytes": 4, "20 bytes": 20, "half": len(data) // 2, "all but one byte": len(data) - 1}[keep]
    path.write_bytes(data[:size])
    assert_load_fails(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.vae"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert_load_fails(path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.vae"
    path.write_text("this is not a checkpoint\n" * 10)
    assert_load_fails(path)


def test_torch_save_pickle(tmp_path: Path) -> None:
    path = tmp_path / "pickled.vae"
    torch.save(make_trained().model.state_dict(), path)
    assert_load_fails(path)


def test_foreign_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    assert_load_fails(path, "not a VAE Studio checkpoint")
    save_file({"weight": torch.zeros(3)}, str(path), metadata={"format": "pt"})
    assert_load_fails(path, "not a VAE Studio checkpoint")


def rewrite(path: Path, *, metadata_update: dict | None = None, tensors_update=None) -> None:
    """Rewrite a valid checkpoint with changed metadata or tensors."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
    tensors = load_file(str(path))
    metadata.update(metadata_update or {})
    if tensors_update:
        tensors = tensors_update(tensors)
    save_file(tensors, str(path), metadata=metadata)


def test_newer_format_version(tmp_path: Path) -> None:
    path, _ = first_save(tmp_path)
    rewrite(path, metadata_update={"format_version": str(FORMAT_VERSION + 1)})
    assert_load_fails(path, "newer")


def test_unreadable_format_version(tmp_path: Path) -> None:
    path, _ = first_save(tmp_path)
    rewrite(path, metadata_update={"format_version": "one"})
    assert_load_fails(path, "format version")


@pytest.mark.parametrize(
    "info",
    [
        "{not json",
        "[]",
        json.dumps({"name": "x"}),  # no configs
        json.dumps({"model_config": {"latent_dim": 0}, "train_config": {}}),  # invalid values
        json.dumps({"model_config": {"kind": "gan"}, "train_config": {}}),
        json.dumps({"model_config": "vae", "train_config": {}}),
    ],
)
def test_damaged_info(tmp_path: Path, info: str) -> None:
    path, _ = first_save(tmp_path)
    rewrite(path, metadata_update={"info": info})
    assert_load_fails(path, "damaged")


def valid_info() -> dict:
    trained = make_trained("vae")
    return {
        "name": trained.name,
        "model_config": config_to_dict(trained.config),
        "train_config": config_to_dict(trained.train_config),
        "class_names": list(trained.class_names),
    }


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_sizes": "abc"},  # a string where layer widths belong
        {"latent_dim": 2.5},
        {"latent_dim": "2"},
        {"hidden_sizes": [-3]},
        {"image_shape": [1, 28]},
        {"image_shape": 28},
    ],
    ids=repr,
)
def test_damaged_model_config_values(tmp_path: Path, change: dict) -> None:
    path, _ = first_save(tmp_path)
    info = valid_info()
    info["model_config"].update(change)
    rewrite(path, metadata_update={"info": json.dumps(info)})
    assert_load_fails(path)


@pytest.mark.parametrize("class_names", [5, None, {"a": 1}])
def test_damaged_class_names(tmp_path: Path, class_names) -> None:
    path, _ = first_save(tmp_path)
    info = valid_info()
    info["class_names"] = class_names
    rewrite(path, metadata_update={"info": json.dumps(info)})
    try:
        loaded = load_checkpoint(path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
    else:  # tolerated, as long as the result is a tuple of strings
        assert isinstance(loaded.class_names, tuple) and all(isinstance(n, str) for n in loaded.class_names)


def test_weights_that_do_not_match_the_config(tmp_path: Path) -> None:
    path, _ = first_save(tmp_path)
    other = make_trained("vae")
    info = {
        "name": "x",
        "model_config": {**config_to_dict(other.config), "latent_dim": 5},
        "train_config": config_to_dict(other.train_config),
        "class_names": [],
    }
    rewrite(path, metadata_update={"info": json.dumps(info)})
    assert_load_fails(path, "do not match")


def test_missing_weights(tmp_path: Path) -> None:
    path, _ = first_save(tmp_path)
    rewrite(path, tensors_update=lambda t: {k: v for k, v in t.items() if not k.startswith("model.decoder")})
    assert_load_fails(path, "do not match")


# --- no code execution ------------------------------------------------------------------------------


class TouchOnUnpickle:
    """A pickle payload: unpickling it calls Path.touch(marker)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class SystemOnUnpickle:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.parametrize("payload", [TouchOnUnpickle, SystemOnUnpickle])
def test_malicious_pickle_is_not_executed(tmp_path: Path, payload) -> None:
    # The payload is live: plain unpickling does create its marker.
    probe = tmp_path / "probe-marker"
    pickle.loads(pickle.dumps(payload(probe)))
    assert probe.exists()

    marker = tmp_path / "marker"
    raw = tmp_path / "raw.vae"
    raw.write_bytes(pickle.dumps(payload(marker)))
    assert_load_fails(raw)
    assert not marker.exists()

    zipped = tmp_path / "zipped.vae"  # torch.save's zip container around the same pickle
    torch.save({"model": payload(marker)}, zipped)
    assert_load_fails(zipped)
    assert not marker.exists()
