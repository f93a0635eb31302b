"""Helpers for tests (core and GUI) that write their own damaged checkpoints: read a file's safetensors header and
write one back with any header, so a test can change one field, one table entry or one byte."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from vae_studio.core.checkpoint import FILE_SUFFIX, save_checkpoint
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.history import History
from vae_studio.core.models import build_model
from vae_studio.core.trained_model import TrainedModel


def small_checkpoint(folder: Path, name: str = "good") -> Path:
    """A valid checkpoint of a small VAE (MLP 784-16-8-3) with a short history."""
    config = ModelConfig(latent_dim=3, hidden_sizes=(16, 8))
    history = History(step_loss=[3.0, 2.5], step_recon=[2.0, 1.5], step_kl=[1.0, 1.0], epoch_train_loss=[2.6],
                      epoch_test_loss=[2.4], epoch_test_recon=[1.4], epoch_test_kl=[1.0], epoch_end_step=[2.0])
    trained = TrainedModel(build_model(config, seed=0), TrainConfig(epochs=1), tuple("0123456789"), history, name)
    return save_checkpoint(trained, folder / f"{name}{FILE_SUFFIX}")


def read_parts(path: Path) -> tuple[dict, bytes]:
    """The parsed header (tensor table and ``__metadata__``) and the data section."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + size]), raw[8 + size :]


def write_parts(path: Path, header: dict | str, data: bytes) -> None:
    """A safetensors file with this header (a dict, or raw JSON text) and data section."""
    text = (header if isinstance(header, str) else json.dumps(header)).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def change_info(path: Path, section: str | None, key: str, value: object) -> None:
    """Rewrite ``path`` with ``info[section][key]`` (or ``info[key]`` when section is None) set to value."""
    header, data = read_parts(path)
    info = json.loads(header["__metadata__"]["info"])
    (info if section is None else info[section])[key] = value
    header["__metadata__"]["info"] = json.dumps(info)
    write_parts(path, header, data)
