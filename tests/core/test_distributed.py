"""Data-parallel training: sharding, all-reduced figures, rank-0-only writing, and 2 gloo processes
against 1 (127.0.0.1 only; every process bounded by a timeout)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from vae_studio.core import distributed
from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.distributed import DistContext, per_rank_batch, shard
from vae_studio.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shards_cover_each_global_batch_exactly() -> None:
    order = torch.randperm(1003, generator=torch.Generator().manual_seed(0))
    world, batch = 4, 32
    shards = [shard(order, DistContext(rank, world)) for rank in range(world)]
    assert {len(s) for s in shards} == {250}  # 1003 cut to 1000: every rank the same number of steps
    local = per_rank_batch(batch, DistContext(0, world))
    for step, start in enumerate(range(0, 250, local)):
        together = torch.cat([s[start : start + local] for s in shards])
        expected = order[:1000][step * batch : (step + 1) * batch]
        assert sorted(together.tolist()) == sorted(expected.tolist())
    assert torch.equal(shard(order, DistContext()), order)


def test_global_batch_must_divide_among_the_processes() -> None:
    assert per_rank_batch(128, DistContext(1, 2)) == 64
    with pytest.raises(ConfigError, match="divide evenly"):
        per_rank_batch(100, DistContext(0, 3))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reduce_worker(rank: int, port: int, queue) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank)
    )
    ctx, _ = distributed.init_from_env(torch.device("cpu"))
    try:
        values = torch.tensor([1.0 + rank, 10.0 * rank])
        queue.put((rank, distributed.all_reduce_mean(values, ctx).tolist()))
    finally:
        distributed.shutdown()


def test_figures_are_averaged_over_the_ranks() -> None:
    context = mp.get_context("spawn")
    queue = context.Queue()
    port = free_port()
    processes = [context.Process(target=_reduce_worker, args=(rank, port, queue)) for rank in range(2)]
    for p in processes:
        p.start()
    results = dict(queue.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(30)
        assert p.exitcode == 0
    assert results == {0: [1.5, 5.0], 1: [1.5, 5.0]}


def train(tmp_path: Path, name: str, nproc: int, timeout: int = 240) -> subprocess.CompletedProcess:
    """``vae-studio train`` on 6,000 MNIST images, 2 epochs, global batch 128, in ``nproc`` processes."""
    command = [
        sys.executable, "-m", "vae_studio", "train", "--dataset", "mnist", "--subset", "6000", "--epochs", "2",
        "--batch-size", "128", "--hidden", "128", "--seed", "3", "--device", "cpu", "--nproc", str(nproc),
        "--out", str(tmp_path / f"{name}.vae"),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)


def test_two_gloo_processes_match_one(tmp_path: Path) -> None:
    one = train(tmp_path, "one", 1)
    two = train(tmp_path, "two", 2)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert "64 images per process" in two.stderr
    # Only rank 0 prints the epochs and writes the file.
    assert two.stderr.count("epoch 2: train loss") == 1
    assert two.stdout.count("saved") == 1 and sorted(p.name for p in tmp_path.glob("*.vae")) == ["one.vae", "two.vae"]
    single, double = load_checkpoint(tmp_path / "one.vae"), load_checkpoint(tmp_path / "two.vae")
    assert double.history.epochs == 2 and double.history.steps == single.history.steps == 2 * 47
    assert abs(double.history.epoch_test_loss[-1] - single.history.epoch_test_loss[-1]) < 1.5
    # The same global batches and the same noise: the all-reduced step losses follow the single run's
    # (here to ~1e-4 nats; only the order of float sums differs).
    assert max(abs(a - b) for a, b in zip(double.history.step_loss, single.history.step_loss)) < 1.0
    assert double.history.epoch_test_loss[-1] < double.history.epoch_test_loss[0]


def test_a_failing_configuration_ends_every_rank(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "vae_studio", "train", "--dataset", "mnist", "--subset", "600", "--epochs", "1",
               "--batch-size", "99", "--nproc", "2", "--device", "cpu", "--out", str(tmp_path / "x.vae")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert "divide evenly" in done.stderr and "distributed run failed" in done.stderr
    assert not (tmp_path / "x.vae").exists()


def test_one_failing_rank_ends_the_waiting_one(tmp_path: Path) -> None:
    """Rank 1 dies while rank 0 waits in a collective: torchrun ends rank 0 too, long before any timeout."""
    script = tmp_path / "worker.py"
    script.write_text(
        "import torch\n"
        "from vae_studio.core import distributed\n"
        "ctx, _ = distributed.init_from_env(torch.device('cpu'))\n"
        "if ctx.rank == 1:\n"
        "    raise SystemExit('rank 1 failed on purpose')\n"
        "distributed.all_reduce_mean(torch.ones(1), ctx)  # waits for rank 1 for ever, but for torchrun\n"
        "print('rank 0 went on')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    command = distributed.launcher_command(2, [])[:-2] + [str(script)]  # torchrun itself, running the script
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert "rank 1 failed on purpose" in done.stderr
    assert "rank 0 went on" not in done.stdout
