"""The command line: ``vae-studio train|evaluate|anomaly|sample|encode|compare``.

A front end on the Qt-free core, beside the window: it prints the trainer's callbacks (a progress
line with samples/s, loss terms and ETA) the way the window turns them into signals. Each command
lives in a module of its own name and is imported only when it runs, so ``--help`` is instant.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from ..core.errors import VaeStudioError
from ..core.threads import configure_threads
from .parser import COMMANDS, build_parser

__all__ = ["COMMANDS", "build_parser", "run_cli"]


def run_cli(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one command; user errors print one clear line and return 2 instead of a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return 0
    try:
        configure_threads(args.threads)  # before the command's module imports torch
        command = importlib.import_module(f"{__name__}.{args.command}")
        return command.run(args, out, err)
    except VaeStudioError as exc:
        err.write(f"error: {exc}\n")
        return 2
