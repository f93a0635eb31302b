"""Data-parallel training over several processes: PyTorch's DistributedDataParallel, launched by torchrun.

``torchrun --standalone --nproc_per_node N -m vae_studio train ...`` starts N copies of the command;
torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address in their environments, and
:func:`init_from_env` joins them into one process group (gloo on the CPU, NCCL on CUDA GPUs).
Each rank trains on its shard of every epoch's permutation (the same permutation everywhere, drawn
from the run's seed) and DDP averages the gradients, so the ranks together take the steps a single
process takes with the whole global batch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError

# A collective that waits longer than this (a rank that died or hangs) ends the run with an error
# instead of hanging forever. Generous: rank 0 evaluates the test split while the others wait.
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
# torchrun gives up on a rendezvous (ranks that never arrive) after this many seconds.
RENDEZVOUS_TIMEOUT_S = 120


@dataclass(frozen=True)
class DistContext:
    """This process's place in the group: rank ``rank`` of ``world_size`` (``local_rank`` on its machine)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints, evaluates and writes the checkpoint."""
        return self.rank == 0


SINGLE_PROCESS = DistContext()


def launched_by_torchrun() -> bool:
    """True in a process torchrun started (it sets these variables in every worker)."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def init_from_env(device: torch.device) -> tuple[DistContext, torch.device]:
    """Join the process group torchrun set up; returns this rank's context and the device it trains on.

    On CUDA each rank takes the GPU of its local rank and NCCL carries the gradients; elsewhere gloo.
    """
    ctx = DistContext(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    if device.type == "cuda":
        if ctx.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"rank {ctx.rank} wants GPU {ctx.local_rank}, but this machine has {torch.cuda.device_count()}; "
                "start at most one process per GPU"
            )
        device = torch.device("cuda", ctx.local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", timeout=COLLECTIVE_TIMEOUT, device_id=device)
    else:
        dist.init_process_group("gloo", timeout=COLLECTIVE_TIMEOUT)
    return ctx, device


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch(global_batch: int, ctx: DistContext) -> int:
    """The batch each rank takes so the ranks together take ``global_batch`` images a step."""
    if global_batch % ctx.world_size:
        raise ConfigError(
            f"the batch size {global_batch} is the global batch and must divide evenly among the "
            f"{ctx.world_size} processes; try {global_batch - global_batch % ctx.world_size or ctx.world_size}"
        )
    return global_batch // ctx.world_size


def shard(order: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's part of an epoch's permutation: every ``world_size``-th index from ``rank``.

    The permutation is cut to a multiple of the world size first (at most world_size - 1 images sit
    out an epoch, other ones each epoch), so every rank takes the same number of steps. With per-rank
    batch b, step k of all ranks together covers ``order[k*b*W : (k+1)*b*W]``: exactly the global
    batch k a single process would take.
    """
    usable = len(order) - len(order) % ctx.world_size
    return order[ctx.rank : usable : ctx.world_size]


def all_reduce_mean(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The mean of ``values`` over the ranks (equal-sized shards make it the global mean)."""
    if ctx.active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= ctx.world_size
    return values


def wrap(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """``model`` under DistributedDataParallel when there are several ranks, else itself."""
    if not ctx.active:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def launcher_command(nproc: int, command_args: Sequence[str]) -> list[str]:
    """The torchrun command that runs ``vae-studio <command_args>`` in ``nproc`` processes on this machine."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        f"--rdzv-conf=join_timeout={RENDEZVOUS_TIMEOUT_S}",
        "-m",
        "vae_studio",
        *command_args,
    ]
