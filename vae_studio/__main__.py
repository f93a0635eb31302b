"""``vae-studio`` and ``python -m vae_studio``: the GUI with no arguments (or with files to open),
the command line otherwise."""

from __future__ import annotations

import os
import sys


def _wants_gui(argv: list[str]) -> bool:
    """No arguments, or only existing files/folders to open (``vae-studio model.vae``)."""
    from .cli import COMMANDS

    if not argv:
        return True
    if argv[0] in COMMANDS or argv[0].startswith("-"):
        return False
    return all(os.path.exists(arg) for arg in argv)  # os.path: False, not an error, for odd names


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if _wants_gui(argv):
            from .gui.app import run_app

            return run_app(argv)
        from .cli import COMMANDS, run_cli

        if not argv[0].startswith("-") and argv[0] not in COMMANDS:
            missing = next(arg for arg in argv if not os.path.exists(arg))
            sys.stderr.write(
                f"error: {missing} does not exist (to open files in the app, name existing files or folders; "
                f"commands: {', '.join(COMMANDS)})\n"
            )
            return 2
        return run_cli(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up (importing torch, Qt): no traceback
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
