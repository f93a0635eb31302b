"""``vae-studio train``: train a model and write one checkpoint file."""

from __future__ import annotations

import argparse
import io
import signal
import subprocess
import time
from typing import TextIO

from ..core.checkpoint import save_checkpoint
from ..core.config import TrainConfig
from ..core.data import parse_class_list
from ..core.data.cache import memory_mapped
from ..core.device import resolve_device
from ..core.distributed import SINGLE_PROCESS, DistContext, init_from_env, launched_by_torchrun, launcher_command
from ..core.distributed import shutdown as shutdown_distributed
from ..core.recipe import new_trained_model, training_data
from ..core.trainer import RunControl, Trainer
from .progress import ProgressPrinter


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
        # torchrun reports the signal with a traceback and a failure code; the run itself ended well.
        err.write(f"Stopped by Ctrl-C; every process ended and {args.out} holds what was trained.\n")
        return 0
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
    config = TrainConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        beta=args.beta,
        warmup_epochs=args.warmup,
        seed=args.seed,
        device=args.device,
        corruption=args.corruption,
        noise_level=args.noise_level,
        binarize=args.binarize,
        classes=tuple(parse_class_list(args.classes)) if args.classes else None,
        train_subset=args.subset,
        image_size=args.image_size,
        channels=args.channels,
    )
    dataset = training_data(config)
    if args.max_memory is not None and dataset.train_images.nbytes > args.max_memory:
        dataset = memory_mapped(dataset)  # streamed by batch from the cache file instead of memory
    trained = new_trained_model(
        dataset,
        config,
        args.name or args.out.stem,
        kind=args.model,
        arch=args.arch,
        latent_dim=args.latent_dim,
        hidden_sizes=args.hidden,
        conv_channels=args.conv_channels,
        likelihood=args.likelihood,
    )
    for note in dataset.notes:
        err.write(f"note: {note}\n")
    err.write(
        f"Training {trained.describe()} ({len(dataset.train_images)} train / {len(dataset.test_images)} test "
        f"images, {dataset.image_shape}) on {device}\n"
    )
    if ctx.active:
        err.write(f"{ctx.world_size} processes, {config.batch_size // ctx.world_size} images per process a step\n")
    control = RunControl()
    trainer = Trainer(
        trained.model.to(device), dataset, config, history=trained.history, control=control, device=device,
        precision=args.precision, compile=args.compile, max_memory=args.max_memory, dist=ctx,
    )
    printer = ProgressPrinter(err, config.epochs)
    trainer.on_step(printer.step)
    trainer.on_epoch(printer.epoch)
    # Ctrl-C stops between batches; what was trained so far is still saved.
    previous = signal.signal(signal.SIGINT, lambda *_: control.stop())
    try:
        result = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    err.write(f"{result.message}\n")
    if ctx.is_main:
        out.write(f"saved {save_checkpoint(trained, args.out)}\n")
    return 1 if result.status == "diverged" else 0
