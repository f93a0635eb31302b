"""The checkpoint format: one safetensors file, so loading never executes code from the file.

Tensors: the model's weights under ``model.``, the loss history under ``history.``.
Metadata (safetensors' string map): ``format`` (a marker), ``format_version``, ``info``, a JSON
object with the model and training configs, class names and the session name, and (from format
version 2) ``tensors_sha256``, a digest of the model and history tensors, so flipped bytes in the
weights are noticed. Version 1 files, written before the digest, are still read.

A file is treated as hostile until checked: the header's size is bounded, every metadata field is
type- and range-checked, and the tensor table is compared with the model the metadata describes
(built on torch's ``meta`` device, which allocates nothing) before any tensor data is read; only
the tensors the model and the history need are then read.

The file is written to a temporary name and renamed into place, so a crash mid-save leaves the
previous file intact; temporary files a crashed save left behind are removed by the next save.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import MAX_CLASSES, ModelConfig, TrainConfig, config_from_dict, config_to_dict
from .errors import CheckpointError, ConfigError
from .history import History
from .models import build_model
from .trained_model import TrainedModel
from .vocabulary import CHECKPOINT_SUFFIX

FORMAT_MARKER = "vae-studio-checkpoint"
FORMAT_VERSION = 2
FILE_SUFFIX = CHECKPOINT_SUFFIX
DIGEST_KEY = "tensors_sha256"

# Our own headers are a few KB (a table of some dozen tensors and a short JSON description).
MAX_HEADER_BYTES = 1 << 20
MAX_INFO_CHARS = 256 * 1024
MAX_NAME_CHARS = 200
# Trained weights are of order 1; beyond this a file was damaged or made to break the maths.
MAX_WEIGHT = 1e6
# Safetensors' names of the dtypes we may find in a file.
_DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files an interrupted save of ``path`` left beside it (our own naming only)."""
    try:
        leftovers = list(path.parent.glob(f"{_temp_prefix(path)}*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        try:
            leftover.unlink()
        except OSError:
            pass  # another process's save in progress, or not ours to remove


def check_can_write(path: str | os.PathLike[str]) -> None:
    """Raise CheckpointError unless a checkpoint can be written to ``path`` (its folder is created):
    checked by writing a temporary file there, so a read-only or missing place is known before a
    long run rather than after it."""
    path = Path(path)
    try:
        if path.is_dir():
            raise CheckpointError(f"Cannot save to {path}: it is a folder; give a file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent):
            pass
    except OSError as exc:
        raise CheckpointError(f"Cannot save to {path}: {_os_reason(exc)}") from None


def write_safetensors_atomically(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``: a crash mid-write
    leaves the previous file intact. The file gets the permissions the umask gives a new file.
    Raises OSError or SafetensorError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp_name, metadata=metadata)
        # mkstemp and safetensors make the file private (0600); a checkpoint is an ordinary document,
        # so it gets what the umask gives any new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def tensor_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over each tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{_DTYPE_NAMES.get(tensor.dtype, tensor.dtype)}|{list(tensor.shape)}\n".encode())
        digest.update(tensor.numpy().data)
    return digest.hexdigest()


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
    metadata = {
        "format": FORMAT_MARKER,
        "format_version": str(FORMAT_VERSION),
        "info": json.dumps(info),
        DIGEST_KEY: tensor_digest(tensors),
    }
    try:
        write_safetensors_atomically(tensors, path, metadata)
    except OSError as exc:
        raise CheckpointError(f"Could not save the checkpoint to {path}: {exc.strerror or exc}") from exc
    except SafetensorError as exc:  # safetensors reports its own I/O failures (e.g. a full disk) this way
        raise CheckpointError(f"Could not save the checkpoint to {path}: {exc}") from exc
    trained.path = path
    trained.unsaved = False
    return path


Fail = Callable[[str], CheckpointError]
Table = dict[str, tuple[list[int], str]]  # tensor name -> (shape, safetensors dtype)


def _read_description(
    metadata: dict[str, str], fail: Fail
) -> tuple[int, str, ModelConfig, TrainConfig, tuple[str, ...]]:
    """The format version, name, configs and class names from the metadata, every field checked."""
    if metadata.get("format") != FORMAT_MARKER:
        raise fail("it is a safetensors file, but not a VAE Studio checkpoint")
    version_text = metadata.get("format_version", "")
    if not (version_text.isascii() and version_text.isdigit() and len(version_text) <= 6):
        raise fail(f"its format version {version_text[:20]!r} is missing or unreadable")
    version = int(version_text)
    if version > FORMAT_VERSION:
        raise fail(
            f"it was written in format version {version} by a newer VAE Studio; this version reads up to "
            f"{FORMAT_VERSION}. Please update VAE Studio."
        )
    if version < 1:
        raise fail(f"its format version {version} does not exist (versions start at 1)")
    text = metadata.get("info", "")
    if len(text) > MAX_INFO_CHARS:
        raise fail(f"its description is {len(text):,} characters long (at most {MAX_INFO_CHARS:,}); it is damaged")
    try:
        info = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise fail(f"its description of the model is not readable JSON ({str(exc)[:80]})") from None
    if not isinstance(info, dict):
        raise fail("its description of the model is not a JSON object")
    configs = []
    for field, cls in (("model_config", ModelConfig), ("train_config", TrainConfig)):
        if field not in info:
            raise fail(f"its description has no {field}")
        try:
            configs.append(config_from_dict(cls, info[field]))
        except ConfigError as exc:
            raise fail(f"{field}: {exc}") from None
    model_config, train_config = configs
    name = info.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise fail(f"name must be text of at most {MAX_NAME_CHARS} characters")
    class_names = info.get("class_names") or []
    if (
        not isinstance(class_names, list)
        or len(class_names) > MAX_CLASSES
        or not all(isinstance(c, str) and len(c) <= MAX_NAME_CHARS for c in class_names)
    ):
        raise fail(f"class_names must be a list of at most {MAX_CLASSES} short texts")
    if model_config.conditional and len(class_names) != model_config.num_classes:
        raise fail(
            f"class_names lists {len(class_names)} classes but the conditional model has {model_config.num_classes}"
        )
    return version, name, model_config, train_config, tuple(class_names)


def _expected_tensors(model_config: ModelConfig) -> Table:
    """Name -> (shape, safetensors dtype) of every tensor the model needs, built without allocating."""
    with torch.device("meta"):
        state = build_model(model_config).state_dict()
    expected = {f"model.{k}": (list(v.shape), _DTYPE_NAMES.get(v.dtype, str(v.dtype))) for k, v in state.items()}
    for name in History.__dataclass_fields__:
        expected[f"history.{name}"] = ([-1], "F64")  # any length, one dimension
    return expected


def _check_table(table: Table, expected: Table, fail: Fail) -> None:
    """The file's tensor table against the model's: every weight present with its shape and dtype."""
    for name, (shape, dtype) in expected.items():
        if name not in table:
            if name.startswith("model."):
                raise fail(f"its weights do not match the model it describes ({name} is missing)")
            continue  # histories of older files lack newer lists
        found_shape, found_dtype = table[name]
        if found_dtype != dtype:
            raise fail(f"{name} is stored as {found_dtype}; a checkpoint stores it as {dtype}")
        if shape == [-1] and len(found_shape) != 1 or shape != [-1] and found_shape != shape:
            raise fail(
                f"its weights do not match the model it describes ({name} has shape {found_shape}, expected {shape})"
            )


def _check_values(tensors: Mapping[str, torch.Tensor], fail: Fail) -> None:
    for name, tensor in tensors.items():
        if name.startswith("model.") and tensor.is_floating_point():
            if not bool(torch.isfinite(tensor).all()):
                raise fail(f"its weights contain NaN or infinite values ({name}); the model is broken")
            if tensor.numel() and float(tensor.abs().max()) > MAX_WEIGHT:
                raise fail(f"its weights hold values above {MAX_WEIGHT:g} ({name}); the file is damaged")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_head(path: Path, fail: Fail) -> None:
    """Check that ``path`` is a readable file whose first 8 bytes declare a header of a plausible size."""
    try:
        if not path.exists():
            link = path.is_symlink()
            raise fail("it is a link that leads nowhere, or in a loop" if link else "the file does not exist")
        if not path.is_file():
            raise fail("it is not a file")
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:  # e.g. a symlink loop or no permission
        raise fail(_os_reason(exc)) from None
    if len(head) < 8:
        raise fail(f"it is too short ({len(head)} bytes) to be a checkpoint")
    header_bytes = int.from_bytes(head, "little")
    if header_bytes > MAX_HEADER_BYTES:
        raise fail(
            f"its header declares {header_bytes:,} bytes (a checkpoint's is at most {MAX_HEADER_BYTES:,}); "
            "it is damaged or not a checkpoint"
        )


def load_checkpoint(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> TrainedModel:
    """Read a checkpoint written by :func:`save_checkpoint`; every failure is a one-line CheckpointError
    naming the file."""
    path = Path(path)

    def fail(reason: str) -> CheckpointError:
        return CheckpointError(f"Cannot open {path}: {reason}")

    _check_head(path, fail)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            version, name, model_config, train_config, class_names = _read_description(handle.metadata() or {}, fail)
            expected = _expected_tensors(model_config)
            table = {}
            for key in handle.keys():
                if key in expected:
                    piece = handle.get_slice(key)
                    table[key] = (list(piece.get_shape()), piece.get_dtype())
            _check_table(table, expected, fail)
            tensors = {key: handle.get_tensor(key) for key in table}
            digest = handle.metadata().get(DIGEST_KEY)
    except SafetensorError as exc:
        raise fail(f"it is not a VAE Studio checkpoint, or it is truncated or corrupt ({str(exc)[:120]})") from None
    except OSError as exc:
        raise fail(f"the file could not be read ({_os_reason(exc)})") from None
    if version >= 2 and digest != tensor_digest(tensors):
        raise fail("the file is damaged: its weights do not match the digest stored with them")
    _check_values(tensors, fail)

    model = build_model(model_config)
    model.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
    history = History.from_arrays(
        {k.removeprefix("history."): v.numpy() for k, v in tensors.items() if k.startswith("history.")}
    )
    model.to(device).eval()
    return TrainedModel(
        model=model,
        train_config=train_config,
        class_names=class_names,
        history=history,
        name=name or path.stem,
        path=path,
        unsaved=False,
    )


__all__ = [
    "FILE_SUFFIX",
    "FORMAT_VERSION",
    "check_can_write",
    "load_checkpoint",
    "remove_stale_temporaries",
    "save_checkpoint",
]
