"""``vae-studio train``: train a model and write one checkpoint file.

Work is never lost and a good file is never silently replaced: ``--out`` is checked writable before
training, ``--save-every N`` saves atomically every N epochs, Ctrl-C stops between batches, saves
and exits 130, and a run that trained nothing (or diverged) does not overwrite an existing file.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import torch

from ..core.checkpoint import check_can_write, save_checkpoint
from ..core.config import TrainConfig
from ..core.data import ImageDataset, parse_class_list
from ..core.data.cache import memory_mapped
from ..core.device import resolve_device
from ..core.distributed import SINGLE_PROCESS, DistContext, init_from_env, launched_by_torchrun, launcher_command
from ..core.distributed import shutdown as shutdown_distributed
from ..core.recipe import new_trained_model, training_data
from ..core.run_control import EpochReport, RunControl, TrainResult
from ..core.threads import ThreadGovernor
from ..core.trained_model import TrainedModel
from ..core.trainer import Trainer
from . import EXIT_INTERRUPTED
from .progress import ProgressPrinter, ScanProgress


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.nproc > 1 and not launched_by_torchrun():
        return _launch(args, err)
    device = resolve_device(args.device)
    if not launched_by_torchrun():
        return _train(args, out, err, device, SINGLE_PROCESS)
    ctx, device = init_from_env(device)
    try:
        # Only rank 0 talks; the others keep their errors (run_cli prints those to the real stream).
        return _train(args, out if ctx.is_main else io.StringIO(), err if ctx.is_main else io.StringIO(), device, ctx)
    finally:
        shutdown_distributed()


def _launch(args: argparse.Namespace, err: TextIO) -> int:
    """Run this same command in ``--nproc`` processes under torchrun's launcher and wait for it."""
    command = launcher_command(args.nproc, _command_args(args))
    err.write(f"Starting {args.nproc} training processes: {' '.join(command[2:])}\n")
    err.flush()
    # Ctrl-C reaches torchrun and every worker from the terminal: the workers stop together and
    # rank 0 saves, so this process only notes it and waits for them.
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupted.append(signum))
    started = time.time()
    try:
        code = subprocess.run(command, check=False).returncode
    finally:
        signal.signal(signal.SIGINT, previous)
    saved = args.out.is_file() and args.out.stat().st_mtime >= started
    if interrupted and saved:
        # torchrun reports the signal with a traceback; the workers stopped together and rank 0 saved.
        err.write(f"Stopped by Ctrl-C; every process ended and {args.out} holds what was trained.\n")
        return EXIT_INTERRUPTED
    if code != 0:
        err.write(f"error: the distributed run failed (torchrun exited with {code}); see the messages above\n")
    return code


def _command_args(args: argparse.Namespace) -> list[str]:
    """``train`` and the options of ``args``, less --nproc: what each torchrun worker runs."""
    from .parser import build_parser

    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    argv = ["train"]
    for action in train_parser._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or action.dest in ("help", "nproc") or value is None or value is False:
            continue
        if value is True:
            argv.append(action.option_strings[-1])
        else:
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            argv += [action.option_strings[-1], text]
    return argv


def _train(args: argparse.Namespace, out: TextIO, err: TextIO, device, ctx: DistContext) -> int:
    config = _train_config(args)
    check_can_write(args.out)
    existed = args.out.exists()
    dataset = training_data(config, max_files=args.max_files, scan_progress=ScanProgress(err))
    if args.max_memory is not None and dataset.train_images.nbytes > args.max_memory:
        dataset = memory_mapped(dataset)  # streamed by batch from the cache file instead of memory
    trained = new_trained_model(dataset, config, args.name or args.out.stem, **_options(args, _MODEL_OPTIONS))
    _announce(trained, dataset, config, device, ctx, err)
    initial = {k: v.clone() for k, v in trained.model.state_dict().items()}
    control = RunControl()
    trainer = Trainer(
        trained.model.to(device), dataset, config, history=trained.history, control=control, device=device,
        precision=args.precision, compile=args.compile, max_memory=args.max_memory, dist=ctx,
    )
    printer = ProgressPrinter(err, config.epochs)
    trainer.on_step(printer.step)
    trainer.on_step(ThreadGovernor().on_step)  # fewer threads while another program takes a core
    trainer.on_epoch(printer.epoch)
    if args.save_every:
        trainer.on_epoch(_periodic_saver(trained, args.out, args.save_every, err))
    result, interrupted = _run_stoppable(trainer, control, ctx)
    err.write(f"{result.message}\n")
    status = EXIT_INTERRUPTED if interrupted else 1 if result.status == "diverged" else 0
    if not ctx.is_main:
        return status  # rank 0 alone writes the checkpoint
    if _untouched(trained, initial):
        kept = f"{args.out} was left as it was" if args.out.exists() else f"{args.out} was not written"
        err.write(f"error: no training step was kept, so there is nothing to save; {kept}\n")
        return status or 1
    target = _save_target(result, args.out, existed and trained.path is None)
    path = save_checkpoint(trained, target)
    if target != args.out:
        err.write(
            f"warning: the run diverged, so {args.out} was left as it was; the weights from before the "
            f"divergence are in {target}\n"
        )
    out.write(f"saved {path}\n")
    return status


# The options whose dest is not the name of the TrainConfig field they set.
_TRAIN_OPTIONS = {"warmup_epochs": "warmup", "train_subset": "subset"}
# The options that shape the model: ModelConfig's name for each -> the option's dest.
_MODEL_OPTIONS = {
    "kind": "model", "arch": "arch", "latent_dim": "latent_dim",
    "hidden_sizes": "hidden", "conv_channels": "conv_channels", "likelihood": "likelihood",
}  # fmt: skip


def _options(args: argparse.Namespace, option_of: dict[str, str]) -> dict[str, object]:
    """The values of ``args`` by the names a config calls them (``option_of``: name -> option's dest)."""
    return {name: getattr(args, option) for name, option in option_of.items()}


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The training run the command line describes: every TrainConfig field has its option."""
    option_of = {field.name: _TRAIN_OPTIONS.get(field.name, field.name) for field in dataclasses.fields(TrainConfig)}
    options = _options(args, option_of)
    options["classes"] = tuple(parse_class_list(args.classes)) if args.classes else None
    return TrainConfig(**options)


def _announce(
    trained: TrainedModel,
    dataset: ImageDataset,
    config: TrainConfig,
    device: torch.device,
    ctx: DistContext,
    err: TextIO,
) -> None:
    """The data set's notes, then what is trained on what."""
    for note in dataset.notes:
        err.write(f"note: {note}\n")
    # describe() counts the epochs trained so far (0 for a new model), not those this run adds.
    more = f"{config.epochs} more epoch{'s' if config.epochs != 1 else ''}"
    err.write(
        f"Training {trained.describe()} so far, for {more} ({len(dataset.train_images)} train / "
        f"{len(dataset.test_images)} test images, {dataset.image_shape}) on {device}\n"
    )
    if ctx.active:
        err.write(f"{ctx.world_size} processes, {config.batch_size // ctx.world_size} images per process a step\n")


def _run_stoppable(trainer: Trainer, control: RunControl, ctx: DistContext) -> tuple[TrainResult, bool]:
    """Run ``trainer`` with Ctrl-C stopping it between batches; the result and whether Ctrl-C stopped it."""
    interrupted = False

    def on_sigint(*_: object) -> None:
        # The first Ctrl-C stops between batches and what was trained is saved; a second one
        # (e.g. during the save) interrupts at once.
        nonlocal interrupted
        interrupted = True
        control.stop()
        if not ctx.active:  # under torchrun each worker hears one Ctrl-C twice (terminal and launcher)
            signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is not threading.main_thread():
        return trainer.run(), False  # run_cli called from a script's thread: only the main thread hears signals
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    return result, interrupted


def _periodic_saver(trained: TrainedModel, path: Path, every: int, err: TextIO) -> Callable[[EpochReport], None]:
    """An epoch callback saving ``trained`` to ``path`` after every ``every``-th epoch."""

    def save(report: EpochReport) -> None:
        if report.epoch % every == 0:
            save_checkpoint(trained, path)
            trained.unsaved = True  # the run goes on; the final save is still to come
            err.write(f"saved {path} after epoch {report.epoch}\n")

    return save


def _untouched(trained: TrainedModel, initial: dict[str, torch.Tensor]) -> bool:
    """Whether the model still has its initial weights (stopped before the first step, or diverged
    before the trainer's first snapshot of good weights)."""
    return all(torch.equal(v.cpu(), initial[k]) for k, v in trained.model.state_dict().items())


def _save_target(result: TrainResult, out: Path, protect: bool) -> Path:
    """Where to save: ``out``, except that a diverged run does not replace a file that was there
    before the run (``protect``); it goes beside it as NAME.diverged.vae."""
    if result.status == "diverged" and protect:
        return out.with_name(f"{out.stem}.diverged{out.suffix}")
    return out
