"""A seeded fuzz test: a real checkpoint mutated a few hundred ways. Every load either succeeds (the
mutation left a valid file) or raises one CheckpointError line naming the file; nothing else escapes,
and memory stays bounded (the loader refuses before allocating what a damaged header asks for)."""

from __future__ import annotations

import json
import random
import resource
from collections.abc import Callable
from pathlib import Path

import pytest
from checkpoint_files import read_parts, small_checkpoint, write_parts

from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.errors import CheckpointError

ROUNDS = 300
# Odd values a damaged or hostile description may hold where a config field belongs.
WILD_VALUES: list[object] = [
    -1, 0, 1, 7, 2**31, 2**70, -(2**63), 1e308, -1e-308, 0.5, "nan", "x", "", True, None, [], {}, [0], [1, 2, 3],
    [10**6], [4096] * 9, [[[[1]]]], {"a": 1}, "0-3", "mlp", "vae", "cvae", "conv",
]


def flip_byte(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw))]


def insert_bytes(raw: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(raw))
    return raw[:at] + rng.randbytes(rng.randrange(1, 64)) + raw[at:]


def wild_field(header: dict, rng: random.Random) -> None:
    info = json.loads(header["__metadata__"]["info"])
    section = rng.choice(["model_config", "train_config", None])
    target = info if section is None else info[section]
    target[rng.choice(sorted(target) + ["name", "class_names"] if section is None else sorted(target))] = rng.choice(
        WILD_VALUES
    )
    header["__metadata__"]["info"] = json.dumps(info)


def wild_table_entry(header: dict, rng: random.Random) -> None:
    name = rng.choice(sorted(k for k in header if k != "__metadata__"))
    entry = header[name]
    field = rng.choice(["dtype", "shape", "data_offsets"])
    entry[field] = {
        "dtype": lambda: rng.choice(["F16", "F64", "I64", "U8", "BOOL", "BF16", "X"]),
        "shape": lambda: rng.choice([[], [0], [2**31, 2**31], [rng.randrange(1, 5000)], entry["shape"][::-1]]),
        "data_offsets": lambda: sorted(rng.randrange(0, 2**34) for _ in range(2)),
    }[field]()


def wild_metadata(header: dict, rng: random.Random) -> None:
    key = rng.choice(sorted(header["__metadata__"]))
    header["__metadata__"][key] = rng.choice(["", "0", "-1", "2", "3", "{", "[" * 5000, "x" * 300_000])


HEADER_MUTATIONS: list[Callable[[dict, random.Random], None]] = [wild_field, wild_table_entry, wild_metadata]


def test_mutated_checkpoints_load_or_fail_in_one_line(tmp_path: Path) -> None:
    original = small_checkpoint(tmp_path)
    raw = original.read_bytes()
    header, data = read_parts(original)
    data_start = len(raw) - len(data)
    rng = random.Random(11)
    path = tmp_path / "mutated.vae"
    outcomes = {"loaded": 0, "refused": 0}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for round_index in range(ROUNDS):
        kind = round_index % 4
        if kind == 0:
            mutated = flip_byte(raw, rng)
        elif kind == 1:
            mutated = rng.choice([truncate, insert_bytes])(raw, rng)
        if kind < 2:
            path.write_bytes(mutated)
        else:
            changed = json.loads(json.dumps(header))
            rng.choice(HEADER_MUTATIONS)(changed, rng)
            write_parts(path, changed, data)
        try:
            load_checkpoint(path)
        except CheckpointError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message, message
            outcomes["refused"] += 1
        else:
            # A changed byte in the tensor data is always noticed (the digest).
            changed_bytes = [i for i, (a, b) in enumerate(zip(raw, path.read_bytes())) if a != b]
            assert not (kind == 0 and changed_bytes and changed_bytes[0] >= data_start), round_index
            outcomes["loaded"] += 1
    assert outcomes["refused"] > ROUNDS // 2
    # ru_maxrss is in KiB on Linux: no mutation may make the loader allocate what a header claims.
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 512, f"memory grew by {grown_mib:.0f} MiB"


@pytest.mark.parametrize("seed", range(3))
def test_random_files_are_refused(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "noise.vae"
    for size in (0, 7, 8, 9, 100, 5000):
        path.write_bytes(rng.randbytes(size))
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
