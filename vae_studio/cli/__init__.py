"""The command line: ``vae-studio train|evaluate|anomaly|sample|encode|compare``.

A front end on the Qt-free core, beside the window: it prints the trainer's callbacks (a progress
line with samples/s, loss terms and ETA) the way the window turns them into signals. Each command
lives in a module of its own name and is imported only when it runs, so ``--help`` is instant.

Exit status: 0 success, 2 bad input (arguments, files, data: one ``error:`` line), 1 a failure at
run time (the operating system refused something, memory ran out, or a bug), 130 interrupted by
Ctrl-C. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from ..core.errors import VaeStudioError
from ..core.threads import configure_threads
from .parser import COMMANDS, build_parser

__all__ = ["COMMANDS", "EXIT_INTERRUPTED", "build_parser", "run_cli"]

EXIT_INTERRUPTED = 130  # the shell's convention for a program ended by SIGINT (128 + 2)


def run_cli(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one command; every error prints one clear line and returns its exit status instead of a traceback."""
    parser = build_parser()
    try:
        # argparse prints usage, --help and its errors itself: to the streams given here.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a bad argument (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(out)
        return 0
    try:
        configure_threads(args.threads)  # before the command's module imports torch
        command = importlib.import_module(f"{__name__}.{args.command}")
        return command.run(args, out, err)
    except VaeStudioError as exc:
        return _report(args, err, str(exc), 2)
    except BrokenPipeError:  # the reader went away (`vae-studio evaluate ... | head`): nothing to say
        return 1
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _report(args, err, f"{exc.strerror or exc}{where}", 1)
    except MemoryError:
        return _report(args, err, "out of memory; try a smaller model, batch size or data set", 1)
    except KeyboardInterrupt:
        return _report(args, err, "interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - a bug still ends in one line; --debug shows where
        return _report(args, err, f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)", 1)


def _report(args: object, err: TextIO, message: str, status: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc(file=err)
    err.write(f"error: {message}\n")
    return status
