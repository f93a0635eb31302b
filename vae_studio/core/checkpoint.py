"""The checkpoint format: one safetensors file, so loading never executes code from the file.

Tensors: the model's weights under ``model.``, the loss history under ``history.``.
Metadata (safetensors' string map): ``format`` (a marker), ``format_version``, and ``info``,
a JSON object with the model and training configs, class names and the session name.
The file is written to a temporary name and renamed into place, so a crash mid-save
leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import ModelConfig, TrainConfig, config_from_dict, config_to_dict
from .errors import CheckpointError, ConfigError
from .history import History
from .models import build_model
from .trained_model import TrainedModel
from .vocabulary import CHECKPOINT_SUFFIX

FORMAT_MARKER = "vae-studio-checkpoint"
FORMAT_VERSION = 1
FILE_SUFFIX = CHECKPOINT_SUFFIX


def write_safetensors_atomically(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``: a crash mid-write
    leaves the previous file intact. Raises OSError or SafetensorError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp_name, metadata=metadata)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def save_checkpoint(trained: TrainedModel, path: str | os.PathLike[str]) -> Path:
    """Write ``trained`` to ``path`` atomically and return the path."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    for key, values in trained.history.to_arrays().items():
        tensors[f"history.{key}"] = torch.from_numpy(values)
    info = {
        "name": trained.name,
        "model_config": config_to_dict(trained.config),
        "train_config": config_to_dict(trained.train_config),
        "class_names": list(trained.class_names),
    }
    metadata = {"format": FORMAT_MARKER, "format_version": str(FORMAT_VERSION), "info": json.dumps(info)}
    try:
        write_safetensors_atomically(tensors, path, metadata)
    except OSError as exc:
        raise CheckpointError(f"Could not save the checkpoint to {path}: {exc.strerror or exc}") from exc
    except SafetensorError as exc:  # safetensors reports its own I/O failures (e.g. a full disk) this way
        raise CheckpointError(f"Could not save the checkpoint to {path}: {exc}") from exc
    trained.path = path
    trained.unsaved = False
    return path


def load_checkpoint(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> TrainedModel:
    """Read a checkpoint written by :func:`save_checkpoint`; every failure is a CheckpointError naming the file."""
    path = Path(path)

    def fail(reason: str) -> CheckpointError:
        return CheckpointError(f"Cannot open {path}: {reason}")

    if not path.is_file():
        raise fail("no such file" if not path.exists() else "it is not a file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != FORMAT_MARKER:
                raise fail("it is a safetensors file, but not a VAE Studio checkpoint")
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except SafetensorError as exc:
        raise fail(f"it is not a VAE Studio checkpoint, or it is truncated or corrupt ({exc})") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise fail(f"the file could not be read ({exc})") from exc

    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise fail("its format version is missing or unreadable") from None
    if version > FORMAT_VERSION:
        raise fail(
            f"it was written in format version {version} by a newer VAE Studio; this version reads up to "
            f"{FORMAT_VERSION}. Please update VAE Studio."
        )
    try:
        info = json.loads(metadata["info"])
        model_config = config_from_dict(ModelConfig, info["model_config"])
        train_config = config_from_dict(TrainConfig, info["train_config"])
        class_names = tuple(str(name) for name in info.get("class_names") or ())
    except (KeyError, TypeError, ValueError, AttributeError, json.JSONDecodeError, ConfigError) as exc:
        raise fail(f"its description of the model is damaged ({exc})") from exc

    try:
        model = build_model(model_config)
    except (TypeError, ValueError, RuntimeError) as exc:  # e.g. a layer width that is not a positive int
        raise fail(f"its description of the model is damaged ({exc})") from exc
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise fail(f"its weights do not match the model it describes ({str(exc).splitlines()[0]})") from exc
    history = History.from_arrays(
        {k.removeprefix("history."): v.numpy() for k, v in tensors.items() if k.startswith("history.")}
    )
    model.to(device).eval()
    return TrainedModel(
        model=model,
        train_config=train_config,
        class_names=class_names,
        history=history,
        name=str(info.get("name") or path.stem),
        path=path,
        unsaved=False,
    )


__all__ = ["FILE_SUFFIX", "FORMAT_VERSION", "load_checkpoint", "save_checkpoint"]
