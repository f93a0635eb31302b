"""Checkpoints made to break the loader: each is refused with one line naming the file (and the field),
before any large allocation; flipped bytes, NaN and integer weights are noticed; format 1 still loads."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch
from checkpoint_files import change_info, read_parts, small_checkpoint, write_parts

from vae_studio.core import checkpoint as checkpoint_module
from vae_studio.core.checkpoint import (
    DIGEST_KEY,
    MAX_HEADER_BYTES,
    check_can_write,
    load_checkpoint,
    save_checkpoint,
    tensor_digest,
)
from vae_studio.core.errors import CheckpointError


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return small_checkpoint(tmp_path)


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def with_tensors(path: Path, change) -> None:
    """Rewrite ``path`` with its tensors changed by ``change(dict)`` and a digest that matches them,
    so only the check under test can refuse it."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
    tensors = change(load_file(str(path)))
    metadata[DIGEST_KEY] = tensor_digest(tensors)
    save_file(tensors, str(path), metadata=metadata)


# --- metadata: every field typed and bounded ------------------------------------------------------------


@pytest.mark.parametrize(
    "section,key,value,fragment",
    [
        ("model_config", "hidden_sizes", [], "hidden layer widths"),
        ("model_config", "hidden_sizes", [1_000_000], "hidden layer widths"),
        ("model_config", "hidden_sizes", [4] * 5000, "hidden layer widths"),
        ("model_config", "image_shape", [1, 1_000_000, 1_000_000], "image shape"),
        ("model_config", "latent_dim", "2", "latent_dim"),
        ("model_config", "gaussian_sigma", "nan", "gaussian_sigma"),
        ("train_config", "dataset", 5, "dataset"),
        ("train_config", "classes", "0-3", "classes"),
        ("train_config", "seed", "x", "seed"),
        ("train_config", "seed", 2**70, "seed"),
        ("train_config", "image_size", 1_000_000, "image size"),
        ("train_config", "train_subset", -5, "training subset"),
        ("train_config", "train_subset", 0, "training subset"),
        ("train_config", "train_subset", 10**12, "training subset"),
        ("train_config", "epochs", True, "epochs"),
        (None, "name", ["x"], "name"),
        (None, "class_names", "0-9", "class_names"),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_bad_fields_are_named(good: Path, section, key, value, fragment) -> None:
    change_info(good, section, key, value)
    message = refused(good, fragment)
    if section is not None:
        assert section in message


def test_deeply_nested_description(good: Path) -> None:
    header, data = read_parts(good)
    header["__metadata__"]["info"] = "[" * 100_000 + "]" * 100_000
    write_parts(good, header, data)
    refused(good, "description")


@pytest.mark.parametrize("version", ["-1", "0", "1e3", " 2", "99999999999"])
def test_bad_format_versions(good: Path, version: str) -> None:
    header, data = read_parts(good)
    header["__metadata__"]["format_version"] = version
    write_parts(good, header, data)
    refused(good, "format version")


def test_header_size_is_bounded(good: Path) -> None:
    raw = bytearray(good.read_bytes())
    raw[:8] = (2**40).to_bytes(8, "little")
    good.write_bytes(bytes(raw))
    refused(good, f"at most {MAX_HEADER_BYTES:,}")


# --- the tensor table is checked before any data is read --------------------------------------------------


def test_a_huge_model_description_allocates_nothing(good: Path, monkeypatch) -> None:
    # The largest model the bounds allow (8 layers of 4096) against a file holding a tiny one:
    # refused from the table alone, the model only ever built on the meta device (no memory).
    devices = []
    real_build = checkpoint_module.build_model

    def build(*args, **kwargs):
        devices.append(torch.empty(0).device.type)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "build_model", build)
    change_info(good, "model_config", "hidden_sizes", [4096] * 8)
    refused(good, "do not match")
    assert devices == ["meta"]


def test_a_declared_8_gb_tensor_is_refused(good: Path) -> None:
    header, data = read_parts(good)
    name = "model.encoder.head.0.0.weight"
    start = header[name]["data_offsets"][0]
    header[name] = {"dtype": "F32", "shape": [2**31], "data_offsets": [start, start + 2**33]}
    write_parts(good, header, data)
    refused(good)


def test_unknown_tensors_are_not_read(good: Path, monkeypatch) -> None:
    header, data = read_parts(good)
    size = 256 * 1024**2  # a sparse 256 MB tensor the model does not need
    header["extra.blob"] = {"dtype": "U8", "shape": [size], "data_offsets": [len(data), len(data) + size]}
    write_parts(good, header, data)
    with open(good, "r+b") as handle:
        handle.truncate(good.stat().st_size + size)
    read = []
    real_open = checkpoint_module.safe_open

    class Spy:
        """safe_open, recording which tensors are read."""

        def __init__(self, *args, **kwargs) -> None:
            self.context = real_open(*args, **kwargs)

        def __enter__(self):
            self.inner = self.context.__enter__()
            return self

        def __exit__(self, *exc):
            return self.context.__exit__(*exc)

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def get_tensor(self, key):
            read.append(key)
            return self.inner.get_tensor(key)

    monkeypatch.setattr(checkpoint_module, "safe_open", Spy)
    loaded = load_checkpoint(good)
    assert "extra.blob" not in read and loaded.history.steps == 2


def test_integer_weights_are_refused(good: Path) -> None:
    name = "model.encoder.head.0.0.weight"
    with_tensors(good, lambda t: {**t, name: t[name].to(torch.int64)})
    refused(good, name, "I64")


# --- the values ---------------------------------------------------------------------------------------------


def test_flipped_bytes_in_the_weights_are_noticed(good: Path) -> None:
    raw = bytearray(good.read_bytes())
    raw[-100] ^= 0x10
    good.write_bytes(bytes(raw))
    refused(good, "damaged")


@pytest.mark.parametrize("value,fragment", [(float("nan"), "NaN"), (float("inf"), "infinite"), (1e30, "above")])
def test_broken_weights_are_refused(good: Path, value: float, fragment: str) -> None:
    name = "model.decoder.head.5.bias"
    with_tensors(good, lambda t: {**t, name: torch.full_like(t[name], value)})
    refused(good, name, fragment)


def test_format_1_without_digest_still_loads(good: Path) -> None:
    header, data = read_parts(good)
    header["__metadata__"]["format_version"] = "1"
    del header["__metadata__"][DIGEST_KEY]
    write_parts(good, header, data)
    assert load_checkpoint(good).name == "good"


def test_format_2_without_digest_is_damaged(good: Path) -> None:
    header, data = read_parts(good)
    del header["__metadata__"][DIGEST_KEY]
    write_parts(good, header, data)
    refused(good, "damaged")


# --- the file system ------------------------------------------------------------------------------------


def test_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop.vae"
    loop.symlink_to(loop)
    refused(loop, "link")


def test_saves_respect_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        path = small_checkpoint(tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_stale_temporaries_are_removed_by_the_next_save(good: Path) -> None:
    stale = good.with_name(f".{good.name}.abc123.tmp")
    stale.write_bytes(b"half a checkpoint")
    other = good.with_name("unrelated.tmp")
    other.write_bytes(b"not ours")
    save_checkpoint(load_checkpoint(good), good)
    assert not stale.exists() and other.exists()


def test_check_can_write(tmp_path: Path) -> None:
    check_can_write(tmp_path / "new" / "m.vae")
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())
    with pytest.raises(CheckpointError, match="folder"):
        check_can_write(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match=str(blocker)):
        check_can_write(blocker / "m.vae")
